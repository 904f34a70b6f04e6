"""`python -m hw.synth --config configs/NAME.yaml`: synthesize build/NAME/rtl into build/NAME/synth.

Writes synth.json (every figure with its label), the Vivado / Vitis HLS TCL, the yosys/nextpnr logs and
reports, the ECP5 bitstream NAME.bit (ULX3S wrapper: UART bridge around the design) and summary.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from configs.schema import ConfigError, build_dir, load_config, run_cli
from configs.util import atomic_write_text, relative_paths, write_json
from hw.synth import ecp5_board, nextpnr, power, vivado, yosys
from hw.synth.design import discover_ports, load_design
from hw.synth.parts import xilinx_capacity
from hw.synth.tools import ToolError

log = logging.getLogger("synth")


def find_activity(cfg: dict, vcd: str | None) -> dict | None:
    """Toggle rates: from --vcd when given, else the sim stage's build/NAME/sim/activity.json (`make sim`
    writes it from a waveform of its shortest test sequence); None (default toggle rate) without either."""
    if vcd:
        log.info("switching activity from %s (first %d cycles)", vcd, power.VCD_MAX_CYCLES)
        return power.parse_vcd(Path(vcd), max_cycles=power.VCD_MAX_CYCLES)
    path = build_dir(cfg, "sim") / "activity.json"
    if not path.is_file():
        log.warning("%s missing (run `make sim`): power uses the default toggle rate", path)
        return None
    return json.loads(path.read_text())


def synthesize(cfg: dict, config_path: str, args) -> dict:
    hw = cfg["hardware"]
    out = build_dir(cfg, "synth").resolve()
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    design = load_design(Path(args.rtl_dir) if args.rtl_dir else build_dir(cfg, "rtl"))
    discover_ports(design, out)
    result: dict = {
        "config": config_path,
        "top": design.top,
        "params": design.params,
        "files": len(design.files),
    }

    # vendor flows: always written, run only when installed
    atomic_write_text(out / "vivado.tcl", vivado.vivado_tcl(design, hw["xilinx_part"], hw["clock_mhz"], out))
    result["vivado"] = vivado.run_vendor(
        out, "vivado.tcl", "vivado", ["-mode", "batch", "-source", "vivado.tcl"]
    )
    hls_tcl = vivado.vitis_hls_tcl(build_dir(cfg, "hls"), hw["xilinx_part"], hw["clock_mhz"])
    if hls_tcl:
        atomic_write_text(out / "vitis_hls.tcl", hls_tcl)
        result["vitis_hls"] = vivado.run_vendor(out, "vitis_hls.tcl", "vitis_hls", ["-f", "vitis_hls.tcl"])
    else:
        result["vitis_hls"] = {"status": "skipped: no HLS sources in " + str(build_dir(cfg, "hls"))}

    # open flow, 7-series (and the sim stage's switching activity): in a second thread (the tools are separate
    # processes), next to the ECP5 build, which takes longer
    def xc7_then_activity():
        xc7 = yosys.synth_xc7(design, hw["xilinx_part"], out)
        return xc7, find_activity(cfg, args.vcd)

    pool = ThreadPoolExecutor(max_workers=1)
    xc7_job = pool.submit(xc7_then_activity)

    # open flow, ECP5 board build, with timing closure
    if args.no_ecp5:
        result["board"] = ecp5_board.write_top(design, out / "ecp5", hw["ecp5_clock_mhz"])
        result["ecp5"] = {"status": "skipped: --no-ecp5"}
    else:
        result["board"], result["ecp5"] = close_timing(design, out / "ecp5", hw, args.pnr_timeout)
        e, pnr = result["ecp5"], result["ecp5"]["pnr"]
        bit = out / f"{cfg['name']}.bit"
        bit.unlink(missing_ok=True)  # no stale bitstream survives a failed build
        if pnr.get("textcfg") and pnr.get("timing_met"):
            nextpnr.pack(Path(pnr["textcfg"]), bit)
            e["bitstream"] = str(bit)
        else:
            e["bitstream"] = None
        write_synth_json(cfg, out, result)  # partial: the ECP5 figures survive a failed 7-series run
        if pnr.get("fmax_mhz") is not None:
            log.info(
                "ecp5: Fmax %.1f MHz (target %.1f, %s)",
                pnr["fmax_mhz"],
                pnr["target_mhz"],
                "met" if pnr["timing_met"] else "FAILED",
            )

    xc7, activity = xc7_job.result()
    pool.shutdown()
    xc7["label"] = "measured (yosys synthesis, before place and route)"
    result["xc7"] = xc7
    log.info("xc7: %s", {k: xc7["counts"][k] for k in ("lut", "ff", "dsp", "bram36")})
    result["seconds"] = round(time.time() - t0, 1)
    return estimate_power(cfg, out, result, activity)


CLOSURE_MARGIN = 0.98  # a missed clock becomes the routed design's Fmax less 2 % (the PLL output at or below)


def close_timing(design, ecp5_dir: Path, hw: dict, timeout: float) -> tuple[dict, dict]:
    """ECP5 synthesis, place and route at hardware.ecp5_clock_mhz. When timing is missed, the PLL of the
    routed design is retuned to its Fmax less a margin: the bridge runs on the board clock, so only the PLL's
    words of the text configuration change and nextpnr's analysis of the same placement and routing holds
    (one P&R). Only if that cannot be done (no PLL, an unexpected configuration) is the design rebuilt at the
    lower clock. A bitstream is only built for a clock it meets. Returns (board wrapper facts, ecp5 result
    whose `closure` lists every attempt and says why the final clock was chosen)."""
    attempts: list[dict] = []
    built: dict = {}

    def build(clock: float) -> dict:
        board = ecp5_board.write_top(design, ecp5_dir, clock)
        built["synth"] = yosys.synth_ecp5(design, board["top"], [Path(f) for f in board["files"]], ecp5_dir)
        return board

    def route(board: dict) -> dict:
        seeds = list(range(1, hw.get("ecp5_seeds", 1) + 1))
        runs = _route_seeds(lambda s, stop: _place_route(ecp5_dir, board, hw, timeout, s, stop), seeds)
        for s, pnr in runs.items():
            met = bool(pnr.get("timing_met"))
            attempts.append(
                dict(clock_mhz=board["clock_mhz"], seed=s, fmax_mhz=pnr.get("fmax_mhz"), met=met, how="P&R")
            )
            if pnr.get("tmg_ripup_stopped"):  # nextpnr.place_route's bound: the seed routed again without
                attempts[-1]["ripup_stopped"] = pnr["tmg_ripup_stopped"]
        best = max(seeds, key=lambda s: (bool(runs[s].get("timing_met")), runs[s].get("fmax_mhz") or -1.0))
        return _keep_run(ecp5_dir, best, runs[best])

    target = hw["ecp5_clock_mhz"]
    board = build(target)
    pnr = route(board)
    if pnr.get("timing_met"):
        why = f"hardware.ecp5_clock_mhz ({target:g} MHz), met (seed {pnr.get('seed')})"
    else:  # (a retry below replaces this)
        why = f"hardware.ecp5_clock_mhz ({target:g} MHz), NOT closed: {pnr.get('error') or 'timing missed'}"
    if pnr.get("timing_met") or not _retryable(pnr):
        return board, _closed(built, pnr, attempts, board, why)
    fmax = pnr["fmax_mhz"]
    clock = fmax * CLOSURE_MARGIN
    try:
        board, pnr = retune(board, pnr, ecp5_dir, clock)
        attempts.append(dict(clock_mhz=board["clock_mhz"], fmax_mhz=fmax, met=pnr["timing_met"], how="PLL"))
        why = (
            f"{target:g} MHz missed (best Fmax {fmax:.2f} MHz, seed {pnr['seed']}): the PLL of that "
            f"routed design set to {board['clock_mhz']:g} MHz (at most {CLOSURE_MARGIN:g} x Fmax; only its "
            "configuration words change)"
        )
    except ecp5_board.PllRetuneError as exc:
        log.warning("ecp5: %g MHz missed, PLL not retuned (%s): rebuilding at %.1f MHz", target, exc, clock)
        board = build(clock)
        pnr = route(board)
        why = (
            f"{target:g} MHz missed (Fmax {fmax:.2f} MHz): rebuilt at {board['clock_mhz']:g} MHz "
            f"({'met' if pnr.get('timing_met') else 'missed'})"
        )
    return board, _closed(built, pnr, attempts, board, why)


STRAGGLER_GRACE = (
    120.0,
    0.25,
)  # a seed still routing max(120 s, 25 % of the first routed run) after it: stopped


def _route_seeds(run, seeds: list[int], grace=STRAGGLER_GRACE) -> dict[int, dict]:
    """run(seed, stop) for every seed side by side (one nextpnr process each). Once one run meets its clock,
    the others are stopped at once (the flow builds the bitstream for that clock; another seed could only
    report a higher Fmax). Once one run has a routed result that misses it, the others get a grace period
    (max(grace[0] s, grace[1] x its seconds)); one still running then is stopped (a placement router2
    cannot resolve would otherwise hold the flow up to the P&R timeout). A stopped run comes back as timed
    out."""
    stop = threading.Event()
    timer: list[threading.Timer] = []

    def one(seed: int) -> dict:
        r = run(seed, stop)
        if r.get("timing_met"):
            stop.set()
        elif r.get("fmax_mhz") is not None and not timer:
            t = threading.Timer(max(grace[0], grace[1] * float(r.get("seconds") or 0.0)), stop.set)
            t.daemon = True
            timer.append(t)
            t.start()
        return r

    try:
        with ThreadPoolExecutor(max_workers=len(seeds)) as pool:
            jobs = {s: pool.submit(one, s) for s in seeds}
            return {s: job.result() for s, job in jobs.items()}
    finally:
        for t in timer:
            t.cancel()


def _place_route(ecp5_dir: Path, board: dict, hw: dict, timeout: float, seed: int, stop=None) -> dict:
    """One nextpnr run of the ECP5 netlist with a placement seed, in ecp5_dir/seed<N> (`stop`: an Event that
    ends it early, as timed out)."""
    return nextpnr.place_route(
        ecp5_dir / "ecp5.json",
        Path(board["lpf"]),
        ecp5_dir / f"seed{seed}",
        hw["ecp5_device"],
        hw["ecp5_package"],
        board["clock_mhz"],
        timeout=timeout,
        seed=seed,
        placer=hw.get("ecp5_placer", "static"),
        stop=stop,
        tmg_ripup=hw.get("ecp5_tmg_ripup", False),
    )


def _keep_run(ecp5_dir: Path, seed: int, pnr: dict) -> dict:
    """The chosen seed's log, report and text configuration copied to ecp5_dir (where the flow reads them)."""
    run = ecp5_dir / f"seed{seed}"
    for name in ("nextpnr.log", "nextpnr_report.json", "ecp5.config"):
        (ecp5_dir / name).unlink(missing_ok=True)
        if (run / name).exists():
            shutil.copy(run / name, ecp5_dir / name)
    textcfg = str(ecp5_dir / "ecp5.config") if pnr.get("textcfg") else None
    return dict(pnr, seed=seed, textcfg=textcfg)


def retune(board: dict, pnr: dict, ecp5_dir: Path, clock: float) -> tuple[dict, dict]:
    """The routed design at a PLL output of at most `clock` MHz: ecp5_pll.v rewritten, the PLL words of the
    text configuration patched (ecp5_board.retune_pll), timing judged against the new clock (nextpnr's
    figures)."""
    pll_file = ecp5_dir / "ecp5_pll.v"
    top = (ecp5_dir / "ecp5_top.sv").read_text()
    if "ecp5_pll u_pll" not in top or not pll_file.exists() or not pnr.get("textcfg"):
        raise ecp5_board.PllRetuneError("the design clock is the board clock (no PLL)")
    old = pll_file.read_text()
    _, achieved = ecp5_board.make_pll(clock, ecp5_dir)
    try:
        ecp5_board.retune_pll(Path(pnr["textcfg"]), old, pll_file.read_text())
    except ecp5_board.PllRetuneError:
        pll_file.write_text(old)
        raise
    report = json.loads((ecp5_dir / "nextpnr_report.json").read_text())
    new = dict(nextpnr.parse_report(report, achieved), seconds=pnr.get("seconds"), textcfg=pnr["textcfg"])
    new["seed"] = pnr.get("seed")
    new["routed_at_mhz"] = board["clock_mhz"]
    return dict(board, clock_mhz=achieved), new


def _closed(built: dict, pnr: dict, attempts: list[dict], board: dict, why: str) -> dict:
    e = dict(built["synth"], pnr=pnr, label="measured (nextpnr place and route)")
    e["closure"] = {"attempts": attempts, "clock_mhz": board["clock_mhz"], "why": why}
    return e


def _retryable(pnr: dict) -> bool:
    """A miss another seed or a lower clock can fix (not a time-out or a design that does not fit)."""
    return not pnr.get("timed_out") and pnr.get("fits") is not False and pnr.get("fmax_mhz") is not None


ROOT = Path(__file__).resolve().parents[2]


def write_synth_json(cfg: dict, out: Path, result: dict) -> None:
    """synth.json with paths relative to the build folder (or the repository): the folder can move."""
    write_json(out / "synth.json", relative_paths(result, build_dir(cfg), ROOT))


def estimate_power(cfg: dict, out: Path, result: dict, activity: dict | None) -> dict:
    """Add the power estimates (toggle rates from `activity`, the default rate when None) and write
    synth.json / summary.md."""
    hw = cfg["hardware"]
    result["activity"] = activity
    cap = xilinx_capacity(hw["xilinx_part"])
    result["power_xc7"] = power.estimate_power(
        "xc7", result["xc7"]["counts"], hw["clock_mhz"], activity, cap["lut"] if cap else None
    )
    if "counts" in result.get("ecp5", {}):
        result["power_ecp5"] = power.estimate_power(
            "ecp5", result["ecp5"]["counts"], result["board"]["clock_mhz"], activity
        )
    write_synth_json(cfg, out, result)
    atomic_write_text(out / "summary.md", summary(result))
    return result


def build_failure(r: dict) -> str | None:
    """One line saying why the ECP5 build gave no usable bitstream (timing missed, no fit, P&R unfinished), or
    None when it did (or was skipped)."""
    pnr = r.get("ecp5", {}).get("pnr")
    if pnr is None:
        return None
    if pnr.get("timed_out"):
        return f"ecp5: place and route did not finish: {pnr['error']}"
    if pnr.get("fits") is False:
        return f"ecp5: design does not fit: {pnr['does_not_fit']}"
    if not pnr.get("timing_met"):
        fmax = pnr.get("fmax_mhz")
        got = "no clock constraint in the report" if fmax is None else f"Fmax {fmax:.2f} MHz"
        return (
            f"ecp5: timing not met: {got} < {pnr['target_mhz']:g} MHz target (no bitstream written; lower "
            "hardware.ecp5_clock_mhz)"
        )
    return None


def summary(r: dict) -> str:
    """Short markdown table of the synthesis figures."""
    x = r["xc7"]
    c = x["counts"]
    pct = x.get("percent", {})
    lines = [f"# Synthesis of {r['top']}", "", "| figure | value | label |", "|---|---|---|"]
    for k, name in (("lut", "LUT"), ("ff", "FF"), ("dsp", "DSP48E1"), ("bram36", "BRAM36 (eq.)")):
        p = f" ({pct[k]:.2f}% of {x['capacity']['device']})" if k in pct else ""
        lines.append(f"| 7-series {name} | {c[k]:g}{p} | {x['label']} |")
    e = r.get("ecp5", {})
    if "pnr" in e:
        for k, v in e["pnr"].get("utilization", {}).items():
            if k not in ("lut4", "ff", "mult18", "ebr", "io"):
                continue
            lines.append(f"| ECP5 {k} | {v['used']} / {v['available']} | {e['label']} |")
        if e["pnr"].get("fmax_mhz") is not None:
            met = "met" if e["pnr"]["timing_met"] else "NOT met"
            lines.append(
                f"| ECP5 Fmax | {e['pnr']['fmax_mhz']:.1f} MHz (target {e['pnr']['target_mhz']:g}, {met}) "
                f"| {e['label']} |"
            )
        if e.get("closure"):
            n = sum(a.get("how", "P&R") == "P&R" for a in e["closure"]["attempts"])
            stopped = ", ".join(str(a["seed"]) for a in e["closure"]["attempts"] if a.get("ripup_stopped"))
            runs = f"{n} P&R runs"
            if stopped:
                runs += f"; seed {stopped}: rip-up stopped at its bound, rerun without"
            clock = f"{e['closure']['clock_mhz']:g} MHz: {e['closure']['why']}"
            lines.append(f"| ECP5 clock | {clock} ({runs}) | |")
        if e["pnr"].get("timed_out"):
            lines.append(f"| ECP5 place and route | not finished: {e['pnr']['error']} | measured |")
        elif e["pnr"].get("fits") is False:
            lines.append(f"| ECP5 fit | does not fit: {e['pnr']['does_not_fit']} | measured |")
    for fam in ("xc7", "ecp5"):
        p = r.get(f"power_{fam}")
        if p:
            lines.append(f"| {fam} power | {p['total_w']:.3f} W ({p['dynamic_w']:.3f} dynamic) | estimate |")
    lines.append(f"| Vivado | {r['vivado']['status']} | |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hw.synth", description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--rtl-dir", default=None, help="folder with rtl.json (default build/NAME/rtl)")
    ap.add_argument(
        "--vcd", default=None, help="VCD for the switching activity (default: sim's activity.json)"
    )
    ap.add_argument("--no-ecp5", action="store_true", help="skip the ECP5 synthesis, place and route")
    ap.add_argument("--pnr-timeout", type=float, default=1800, help="nextpnr time limit in seconds")
    ap.add_argument("--power-only", action="store_true", help="recompute the power estimate of synth.json")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    cfg = load_config(args.config)
    try:
        if args.power_only:
            out = build_dir(cfg, "synth").resolve()
            try:
                previous = json.loads((out / "synth.json").read_text())
            except (OSError, ValueError):
                raise ConfigError(
                    f"{out / 'synth.json'}: missing or unreadable (run without --power-only)"
                ) from None
            activity = find_activity(cfg, args.vcd)
            result = estimate_power(cfg, out, previous, activity)
        else:
            result = synthesize(cfg, args.config, args)
    except ToolError as exc:  # a tool exited non-zero or ran past its limit: one line, exit 1
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(summary(result))
    failure = build_failure(result)
    if failure:
        print(f"error: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    run_cli(main)
