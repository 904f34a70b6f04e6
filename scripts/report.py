"""`make report`: build/NAME/report.md, report.json and PNG plots from the synthesis, the simulation and the
CPU baseline (`make cpu`, measured in the same `make all` run), next to the published ESE / C-LSTM / E-RNN /
Qian et al. figures. Reads the stages' outputs only (no torch, no training code).

A "frame" is one time step of one input sequence (the ESE convention: one speech frame through the LSTM).
Every figure carries a label: measured (this run: simulation cycles, nextpnr Fmax, yosys counts, CPU timing),
estimated (power model, clock targets without timing analysis, analytic scaling) or published (papers).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
from pathlib import Path

from configs.schema import ConfigError, build_dir, load_config, run_cli
from configs.util import atomic_write_text, save_figure, write_json

log = logging.getLogger("report")

MEASURED, ESTIMATED, PUBLISHED, NA = "measured", "estimated", "published", "n/a"
METRICS = [  # key, heading, unit
    ("clock_mhz", "clock", "MHz"),
    ("cycles_per_frame", "cycles/frame", ""),
    ("latency_us", "latency/frame", "us"),
    ("frames_per_s", "frames/s", ""),
    ("power_w", "power", "W"),
    ("energy_uj", "energy/frame", "uJ"),
    ("frames_per_j", "frames/J", ""),
]

# ESE (Han et al., FPGA 2017) on the Google LSTM: XCKU060, 200 MHz, 41 W, 82.7 us per frame.
ESE = {"clock_mhz": 200.0, "latency_us": 82.7, "power_w": 41.0}


def _row(name: str, model: str, values: dict, labels: dict, note: str = "") -> dict:
    """A table row; derived fields (frames/s <-> latency, energy, frames/J) get the weakest input label."""
    v, lab = dict(values), dict(labels)

    def weakest(*keys):
        order = [NA, PUBLISHED, ESTIMATED, MEASURED]
        got = [lab.get(k, NA) for k in keys]
        if NA in got:
            return NA
        if PUBLISHED in got:
            return PUBLISHED
        return ESTIMATED if ESTIMATED in got else order[-1]

    if v.get("frames_per_s") is None and v.get("latency_us"):
        v["frames_per_s"] = 1e6 / v["latency_us"]
        lab["frames_per_s"] = lab["latency_us"]
    if v.get("power_w") is not None and v.get("frames_per_s") and v.get("energy_uj") is None:
        v["energy_uj"] = 1e6 * v["power_w"] / v["frames_per_s"]
        lab["energy_uj"] = weakest("power_w", "frames_per_s")
    if v.get("energy_uj") and v.get("frames_per_j") is None:
        v["frames_per_j"] = 1e6 / v["energy_uj"]
        lab["frames_per_j"] = lab["energy_uj"]
    if v.get("frames_per_j") and v.get("energy_uj") is None:
        v["energy_uj"] = 1e6 / v["frames_per_j"]
        lab["energy_uj"] = lab["frames_per_j"]
    for key, _, _ in METRICS:
        v.setdefault(key, None)
        lab[key] = lab.get(key, NA) if v[key] is not None else NA
    return {"name": name, "model": model, "values": v, "labels": lab, "note": note}


def published_rows() -> list[dict]:
    """ESE, C-LSTM, E-RNN (Google LSTM) and Qian et al. 2023 (a small LSTM), as published."""
    P = PUBLISHED
    ese = _row("ESE (XCKU060)", "Google LSTM", ESE, dict.fromkeys(ESE, P), "Han et al., FPGA 2017")
    ese_fpj = ese["values"]["frames_per_j"]
    rows = [ese]
    rows.append(
        _row(
            "C-LSTM (XCKU060)",
            "Google LSTM",
            {"clock_mhz": 200.0, "frames_per_j": 33.5 * ese_fpj},
            {"clock_mhz": P, "frames_per_j": P},
            "Wang et al., FPGA 2018: 33.5x ESE energy efficiency (frames/J derived from ESE)",
        )
    )
    rows.append(
        _row(
            "E-RNN (ADM-7V3, XC7VX690T)",
            "Google LSTM",
            {"frames_per_j": 37.4 * ese_fpj},
            {"frames_per_j": P},
            "Li et al., HPCA 2019: 37.4x ESE energy efficiency (derived from ESE)",
        )
    )
    rows.append(
        _row(
            "Qian et al. 2023 (XC7S15)",
            "small LSTM (different model)",
            {"frames_per_s": 17534.0, "energy_uj": 3.8},
            {"frames_per_s": P, "energy_uj": P},
            "Qian, Ling, Schiele 2023: per inference, not per frame",
        )
    )
    return rows


# ---------------------------------------------------------------------------------------------- hardware rows
def read_json(path: Path) -> dict | None:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def sim_cycles(sim: dict | None, lengths: list[int] | None = None) -> dict | None:
    """cycles per frame (time step) and per sequence from build/NAME/sim/results.json."""
    if not sim:
        return None
    per_step = sim.get("cycles_per_step")
    per_seq = sim.get("cycles_per_sequence")
    lengths = lengths or sim.get("lengths")
    if isinstance(per_seq, list) and per_seq and lengths and len(per_seq) <= len(lengths):
        ln = lengths[: len(per_seq)]  # the simulated sequences are the first ones
        out = {
            "cycles_per_frame": sum(per_seq) / sum(ln),
            "cycles_per_step": per_step,
            "cycles_per_sequence": statistics.mean(per_seq),
            "mean_steps": statistics.mean(ln),
            "sequences": len(per_seq),
        }
        model = sim.get("model_cycles_per_sequence")
        if isinstance(model, list) and len(model) == len(lengths):
            out["model_cycles_per_frame_all"] = sum(model) / sum(lengths)
        return out
    if isinstance(per_seq, list):
        per_seq = statistics.mean(per_seq) if per_seq else None
    if isinstance(per_step, list):
        per_step = statistics.mean(per_step) if per_step else None
    steps = sim.get("mean_steps") or sim.get("mean_length") or (statistics.mean(lengths) if lengths else None)
    if per_seq and steps:
        per_frame = per_seq / steps  # includes the sequence's I/O and head: the sustained rate
    else:
        per_frame = per_step
    if per_frame is None:
        return None
    return {"cycles_per_frame": float(per_frame), "cycles_per_step": per_step, "cycles_per_sequence": per_seq}


def fpga_rows(cfg: dict, synth: dict | None, cycles: dict | None, model_name: str) -> list[dict]:
    """Rows for this design on the 7-series part (target clock) and on the ECP5 (measured Fmax)."""
    rows = []
    if not cycles:
        return rows
    hw = cfg["hardware"]
    cpf = cycles["cycles_per_frame"]
    clk = hw["clock_mhz"]
    p7 = (synth or {}).get("power_xc7") or {}
    vals = {
        "clock_mhz": clk,
        "cycles_per_frame": cpf,
        "latency_us": cpf / clk,
        "frames_per_s": clk * 1e6 / cpf,
    }
    labs = {
        "clock_mhz": ESTIMATED,
        "cycles_per_frame": cycles.get("label", MEASURED),
        "latency_us": ESTIMATED,
        "frames_per_s": ESTIMATED,
    }
    if p7:
        vals["power_w"] = p7["total_w"]
        labs["power_w"] = ESTIMATED
    part = hw["xilinx_part"].split("-")[0][:9].upper()
    e = (synth or {}).get("ecp5") or {}
    pnr = e.get("pnr") or {}
    note = "clock = configured target (no timing analysis in the open 7-series flow); power = model"
    if pnr.get("fmax_mhz"):
        note += f"; the same RTL reaches {pnr['fmax_mhz']:.1f} MHz after ECP5 place and route (measured)"
    rows.append(_row(f"this design ({part}, target clock)", model_name, vals, labs, note))
    if pnr.get("fmax_mhz"):
        board_clk = synth["board"]["clock_mhz"]
        f = min(board_clk, pnr["fmax_mhz"])
        vals = {"clock_mhz": f, "cycles_per_frame": cpf, "latency_us": cpf / f, "frames_per_s": f * 1e6 / cpf}
        labs = dict.fromkeys(vals, MEASURED)
        labs["cycles_per_frame"] = cycles.get("label", MEASURED)
        pe = synth.get("power_ecp5")
        if pe:
            vals["power_w"] = pe["total_w"]
            labs["power_w"] = ESTIMATED
        note = "clock = min(the bitstream's design clock, nextpnr Fmax); includes the UART bridge; "
        if hw.get("batch", 1) > 1:
            note += (
                f"{hw['batch']} sequences interleaved (frames/s of the batch; a sequence's latency is its "
            )
            note += "pair's); "
        note += "power = model"
        if not pnr.get("timing_met"):
            note += f"; timing target {pnr['target_mhz']:g} MHz NOT met"
        rows.append(_row("this design (ECP5 LFE5U-85F)", model_name, vals, labs, note))
    return rows


def utilization_md(util: dict | None) -> str | None:
    """One line on the MAC utilization (hw.cycles.mac_utilization, as written by make sim / make rtl)."""
    if not util:
        return None
    return (
        f"{100 * util['utilization']:.1f} % = {util['useful_multiplications_per_step']:,} useful "
        f"multiplications per step / ({util['multipliers']:,} multipliers x "
        f"{util['cycles_per_step']:,} cycles per step"
        + (
            f", a pass: one step of each of {util['batch']} interleaved sequences"
            if util.get("batch", 1) > 1
            else ""
        )
        + "); "
        f"matrix lanes alone {100 * util['lane_utilization']:.1f} % (hw.cycles)"
    )


def comparison_md(rows: list[dict]) -> str:
    """Like with like: each FPGA row's frames/s over each CPU row's (same model, same run)."""
    fpga = [r for r in rows if r["name"].startswith("this design") and r["values"].get("frames_per_s")]
    cpu = [r for r in rows if r["name"].startswith("CPU ") and r["values"].get("frames_per_s")]
    if not fpga or not cpu:
        return "No FPGA or CPU rows to compare (run `make sim synth cpu`)."
    head = "| CPU row | CPU frames/s | " + " | ".join(f"{r['name']} / CPU" for r in fpga) + " |"
    lines = [head, "|" + "---|" * (len(fpga) + 2)]
    for c in cpu:
        cf = c["values"]["frames_per_s"]
        ratios = [f"{f['values']['frames_per_s'] / cf:.2f}x [{f['labels']['frames_per_s']}]" for f in fpga]
        lines.append(
            f"| {c['name']} | {fmt(cf)} [{c['labels']['frames_per_s']}] | " + " | ".join(ratios) + " |"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- output
def fmt(v, key: str = "") -> str:
    if v is None:
        return "n/a"
    if isinstance(v, str):
        return v
    if key in ("clock_mhz",):
        return f"{v:.1f}"
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) < 1e9):
        return f"{int(v):,}"
    a = abs(v)
    if a == 0:
        return "0"
    if a >= 1e5:
        return f"{v:.3g}"
    if a >= 100:
        return f"{v:,.0f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def perf_table(rows: list[dict]) -> str:
    """Markdown table: one row per platform, each value followed by its label in brackets."""
    head = "| platform | model | " + " | ".join(f"{h} ({u})" if u else h for _, h, u in METRICS) + " |"
    lines = [head, "|" + "---|" * (len(METRICS) + 2)]
    for r in rows:
        cells = []
        for key, _, _ in METRICS:
            v, lab = r["values"].get(key), r["labels"].get(key, NA)
            cells.append("n/a" if v is None else f"{fmt(v, key)} [{lab}]")
        lines.append(f"| {r['name']} | {r['model']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


COLORS = {MEASURED: "#1f77b4", ESTIMATED: "#ff7f0e", PUBLISHED: "#2ca02c", NA: "#cccccc"}


def bar_plot(
    path: Path,
    title: str,
    names: list[str],
    values: list,
    labels: list[str],
    unit: str = "",
    log: bool = False,
) -> None:
    """Horizontal bars; colour and text give each value's label (measured / estimated / published)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keep = [(n, v, lab) for n, v, lab in zip(names, values, labels, strict=True) if v is not None and v > 0]
    fig, ax = plt.subplots(figsize=(8, 0.45 * max(len(keep), 2) + 1.4))
    if keep:
        ns, vs, ls = zip(*keep, strict=True)
        y = range(len(ns))
        ax.barh(y, vs, color=[COLORS[lab] for lab in ls])
        ax.set_yticks(list(y), [f"{n}" for n in ns], fontsize=8)
        ax.invert_yaxis()
        for yi, v, lab in zip(y, vs, ls, strict=True):
            ax.text(v, yi, f" {fmt(v)} ({lab})", va="center", fontsize=7)
        if log:
            ax.set_xscale("log")
        ax.set_xlim(right=max(vs) * (30 if log else 1.45))
    else:
        ax.text(0.5, 0.5, "no data", ha="center", transform=ax.transAxes)
    ax.set_xlabel(unit)
    ax.set_title(title, fontsize=10)
    handles = [plt.Rectangle((0, 0), 1, 1, color=COLORS[k]) for k in (MEASURED, ESTIMATED, PUBLISHED)]
    ax.legend(handles, [MEASURED, ESTIMATED, PUBLISHED], fontsize=7, loc="lower right")
    fig.tight_layout()
    save_figure(fig, path)


def plots(out: Path, rows: list[dict], resources: list[dict], fmax: list[dict]) -> list[str]:
    """The eight figures; returns their file names."""
    files = []

    def metric_plot(fname, key, title, unit, log):
        sel = [r for r in rows if r["values"].get(key) is not None]
        bar_plot(
            out / fname,
            title,
            [r["name"] for r in sel],
            [r["values"][key] for r in sel],
            [r["labels"][key] for r in sel],
            unit,
            log,
        )
        files.append(fname)

    bar_plot(
        out / "resources.png",
        "Resources (% of device)",
        [r["name"] for r in resources],
        [r["percent"] for r in resources],
        [r["label"] for r in resources],
        "% used",
    )
    files.append("resources.png")
    bar_plot(
        out / "fmax.png",
        "Clock: Fmax and targets",
        [r["name"] for r in fmax],
        [r["mhz"] for r in fmax],
        [r["label"] for r in fmax],
        "MHz",
    )
    files.append("fmax.png")
    metric_plot(
        "cycles_per_frame.png", "cycles_per_frame", "Clock cycles per frame (time step)", "cycles", False
    )
    metric_plot("latency.png", "latency_us", "Latency per frame", "us", True)
    metric_plot("frames_per_s.png", "frames_per_s", "Throughput", "frames/s", True)
    metric_plot("power.png", "power_w", "Power", "W", True)
    metric_plot("energy_per_frame.png", "energy_uj", "Energy per frame", "uJ", True)
    metric_plot("frames_per_joule.png", "frames_per_j", "Energy efficiency", "frames/J", True)
    return files


def resource_rows(synth: dict | None) -> tuple[list[dict], list[dict]]:
    """(resource % rows, clock rows) for the plots."""
    res, clocks = [], []
    if not synth:
        return res, clocks
    x = synth.get("xc7") or {}
    dev = (x.get("capacity") or {}).get("device", "7-series")
    for k, name in (("lut", "LUT"), ("ff", "FF"), ("dsp", "DSP48E1"), ("bram36", "BRAM36")):
        if k in x.get("percent", {}):
            res.append(
                {"name": f"{dev} {name}", "percent": x["percent"][k], "label": x.get("res_label", MEASURED)}
            )
    pnr = (synth.get("ecp5") or {}).get("pnr") or {}
    for k, name in (("lut4", "LUT4"), ("ff", "FF"), ("mult18", "MULT18X18D"), ("ebr", "EBR")):
        u = pnr.get("utilization", {}).get(k)
        if u and u.get("percent") is not None:
            res.append({"name": f"LFE5U-85F {name}", "percent": u["percent"], "label": MEASURED})
    if pnr.get("fmax_mhz"):
        clocks.append({"name": "ECP5 Fmax (nextpnr)", "mhz": pnr["fmax_mhz"], "label": MEASURED})
        clocks.append({"name": "ECP5 target", "mhz": pnr["target_mhz"], "label": ESTIMATED})
    hwc = synth.get("clock_mhz")
    if hwc:
        clocks.append({"name": "7-series target (no timing analysis)", "mhz": hwc, "label": ESTIMATED})
    clocks.append({"name": "ESE / C-LSTM (KU060)", "mhz": 200.0, "label": PUBLISHED})
    return res, clocks


def resources_md(synth: dict | None) -> str:
    if not synth:
        return "No synthesis results (run `make synth`)."
    x = synth["xc7"]
    c, cap, pct = x["counts"], x.get("capacity", {}), x.get("percent", {})
    lab = x.get("res_label", "measured: yosys synth_xilinx, before place and route")
    lines = [
        f"7-series ({x['part']}; {lab}):",
        "",
        "| resource | used | available | % |",
        "|---|---|---|---|",
    ]
    for k, name in (("lut", "LUT"), ("ff", "FF"), ("dsp", "DSP48E1"), ("bram36", "BRAM (RAMB36 eq.)")):
        lines.append(f"| {name} | {fmt(c[k])} | {fmt(cap.get(k))} | {fmt(pct.get(k))} |")
    if not x.get("fits", True):
        lines.append(f"\n**Does not fit the {cap.get('device')}: {x['does_not_fit']}.**")
    e = synth.get("ecp5") or {}
    pnr = e.get("pnr") or {}
    if pnr.get("utilization"):
        lines += [
            "",
            "ECP5 LFE5U-85F CABGA381 (ULX3S top: design + UART bridge; measured: nextpnr):",
            "",
            "| resource | used | available | % |",
            "|---|---|---|---|",
        ]
        for k, name in (
            ("lut4", "LUT4"),
            ("ff", "FF"),
            ("mult18", "MULT18X18D"),
            ("ebr", "EBR (DP16KD)"),
            ("io", "IO"),
        ):
            u = pnr["utilization"].get(k)
            if u:
                lines.append(f"| {name} | {u['used']} | {u['available']} | {fmt(u['percent'])} |")
        met = "met" if pnr.get("timing_met") else "**NOT met**"
        lines.append(
            f"\nFmax {fmt(pnr['fmax_mhz'])} MHz (measured, nextpnr) for a target of "
            f"{fmt(pnr['target_mhz'])} MHz: timing {met}. Bitstream: `{e.get('bitstream')}`."
        )
        if e.get("closure"):
            lines.append(f"ECP5 clock {fmt(e['closure']['clock_mhz'])} MHz: {e['closure']['why']}.")
    elif pnr.get("does_not_fit"):
        lines.append(f"\n**ECP5: does not fit: {pnr['does_not_fit']}.**")
    elif pnr.get("timed_out"):
        lines.append(f"\n**ECP5: place and route did not finish: {pnr['error']}; no bitstream.**")
    elif e.get("status"):
        lines.append(f"\nECP5: {e['status']}")
    lines.append(
        f"\nVivado: {synth['vivado']['status']} (TCL: `{synth['vivado']['tcl']}`). "
        f"Vitis HLS: {synth.get('vitis_hls', {}).get('status', 'n/a')}."
    )
    return "\n".join(lines)


def power_md(synth: dict | None) -> str:
    if not synth:
        return ""
    lines = []
    for fam, name in (("xc7", "7-series"), ("ecp5", "ECP5")):
        p = synth.get(f"power_{fam}")
        if not p:
            continue
        lines += [
            f"**{name}** at {fmt(p['clock_mhz'])} MHz: {p['total_w']:.3f} W total = "
            f"{p['dynamic_w']:.3f} W dynamic + {p['static_w']:.3f} W static (**estimate**). "
            f"Activity: {p['activity']} from {p['activity_source']}.",
            "",
            "| term | count | coefficient | activity scale | W | source |",
            "|---|---|---|---|---|---|",
        ]
        for k, b in p["breakdown"].items():
            c = p["coefficients"][k]
            lines.append(
                f"| {k} | {fmt(b['count'])} | {c['value']} {c['unit']} | {b['activity_scale']} | "
                f"{b['watts']:.4f} | {c['source']} |"
            )
        c = p["coefficients"]["static_w"]
        lines.append(f"| static | - | {c['value']} W | - | {p['static_w']:.4f} | {c['source']} |")
        lines.append("")
    return "\n".join(lines)


def assemble(cfg: dict, rows: list[dict], synth: dict | None, extra: dict, out: Path, title: str) -> dict:
    """Write report.md, report.json and the plots into out; return the report dict."""
    res, clocks = resource_rows(synth)
    pngs = plots(out, rows, res, clocks)
    md = [
        f"# {title}",
        "",
        "Labels: **measured** = obtained in this run (simulation cycles, yosys/nextpnr results, CPU timing); "
        "**estimated** = a model (power model, target clock without timing analysis, analytic scaling); "
        "**published** = the papers' figures (ESE/C-LSTM/E-RNN: Google LSTM, a different, much larger model "
        "than a small task model). A frame is one time step of one sequence.",
        "",
    ]
    for k, v in extra.get("preamble", {}).items():
        md.append(f"- {k}: {v}")
    md += ["", "## Performance and energy", "", perf_table(rows), ""]
    md += [f"- {r['name']}: {r['note']}" for r in rows if r["note"]]
    md += ["", "## Resources and clock", "", resources_md(synth), "", "## Power model", "", power_md(synth)]
    for sec, text in extra.get("sections", {}).items():
        md += ["", f"## {sec}", "", text]
    md += ["", "## Plots", ""] + [f"![{p}]({p})" for p in pngs]
    report = {"config": cfg["name"], "rows": rows, "resources": res, "clocks": clocks, "plots": pngs, **extra}
    atomic_write_text(out / "report.md", "\n".join(md) + "\n")
    write_json(out / "report.json", report)
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scripts.report", description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--no-cpu", action="store_true", help="leave out the CPU rows (build/NAME/cpu/)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    cfg = load_config(args.config)
    out = build_dir(cfg)
    synth = read_json(build_dir(cfg, "synth") / "synth.json")
    sim = read_json(build_dir(cfg, "sim") / "results.json")
    if synth is None and sim is None:
        raise ConfigError(f"{build_dir(cfg, 'synth') / 'synth.json'}: missing (run `make sim synth` first)")
    if synth:
        synth["clock_mhz"] = cfg["hardware"]["clock_mhz"]
    cycles = sim_cycles(sim)
    rows = fpga_rows(cfg, synth, cycles, cfg["name"])
    extra: dict = {"preamble": {}, "sections": {}}
    if cycles:
        extra["cycles"] = cycles
        if cycles.get("model_cycles_per_frame_all"):
            extra["preamble"]["cycle model over all test vectors"] = (
                f"{fmt(cycles['model_cycles_per_frame_all'])} cycles per frame (hw.cycles)"
            )
        batch = (sim or {}).get("batch", 1)
        per = "per step" if batch == 1 else f"per pass (one step of each of {batch} interleaved sequences)"
        group = "per sequence" if batch == 1 else f"per group of {batch} sequences (a sequence's latency)"
        extra["preamble"]["cycles (Verilator simulation, measured)"] = (
            f"{fmt(cycles['cycles_per_step'])} {per}, {fmt(cycles['cycles_per_sequence'])} {group}"
        )
        if (sim or {}).get("batch1_model_cycles_per_sequence_mean"):
            extra["preamble"]["batch-1 latency of the same model (hw.cycles, estimated)"] = (
                f"{fmt(sim['batch1_model_cycles_per_sequence_mean'])} cycles per sequence"
            )
    else:
        log.warning("no build/NAME/sim/results.json: no cycle counts, no FPGA throughput")
    rtl = read_json(build_dir(cfg, "rtl") / "rtl.json")
    util = (sim or {}).get("mac_utilization") or (rtl or {}).get("mac_utilization")
    if util_line := utilization_md(util):
        extra["mac_utilization"] = util
        extra["preamble"]["MAC utilization"] = util_line
    if not args.no_cpu:
        cpu = read_json(build_dir(cfg, "cpu") / "results.json")
        if cpu is None:
            log.warning("%s missing (run `make cpu`): no CPU rows", build_dir(cfg, "cpu") / "results.json")
        else:
            rows += cpu["rows"]
            info = cpu["info"]
            extra["cpu"] = info
            energy = (
                "RAPL (measured)"
                if info["rapl"]
                else f"estimated at {info.get('assumed_w_per_thread')} W per thread (no RAPL counters; "
                "scripts/cpu_baseline.py ASSUMED_W_PER_THREAD gives the source)"
            )
            extra["preamble"]["CPU baseline"] = (
                f"{info['cpu']}, float32, {info['threads']} thread(s) for every runtime (torch "
                f"{info.get('torch', '?')}, onnxruntime {info.get('onnxruntime', 'n/a')}); 1-minute load "
                f"average {info.get('load_average_1min', 'n/a')} at the start; energy {energy} "
                f"(make cpu, {cpu['date']})"
            )
            for what, why in info.get("not_measured", {}).items():
                extra["preamble"][f"CPU {what}"] = f"not measured: {why}"
    for name in ("train", "compress"):
        m = read_json(build_dir(cfg, name) / "metrics.json")
        if m:
            keys = ("test_metric", "float_metric", "fixed_metric", "compression_ratio", "metric_name")
            extra["preamble"][f"{name} metrics"] = ", ".join(f"{k} {fmt(m[k])}" for k in keys if k in m)
    extra["sections"]["FPGA vs CPU (same model, this run)"] = comparison_md(rows)
    rows += published_rows()
    assemble(cfg, rows, synth, extra, out, f"{cfg['name']}: RNN on FPGA, report")
    print(perf_table(rows))
    print(f"\nreport: {out / 'report.md'}")
    return 0


if __name__ == "__main__":
    run_cli(main)
