"""Point records, the Pareto fronts and the sweep's outputs: results.csv / results.json, plots, summary.md.

Energy per frame (a frame is one time step of one sequence) = the xc7 power estimate (hw.synth.power at the
point's clock, from the synthesized counts) x cycles per step / clock. Accuracy is the fixed-point test metric
of the compress stage (the integer reference the hardware equals bit for bit).
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

from configs.util import atomic_write_text, save_figure, write_json
from dse.stages import meets

log = logging.getLogger("dse")
COLUMNS = [
    "id", "status", "reason", "metric_name", "metric", "float_metric", "train_metric", "params",
    "compression_ratio", "cycles_per_step", "cycles_estimate", "multipliers", "multipliers_estimate",
    "bram36_estimate", "clock_mhz", "frames_per_s", "lut", "ff", "dsp", "bram36", "power_w",
    "energy_nj_per_frame", "within_budget", "ecp5_fmax_mhz", "train_job", "compress_job", "hardware_job",
]  # fmt: skip


def record(p, est: dict, status: str, reason: str | None = None) -> dict:
    """A point's record before (or without) any job: values, estimates, status."""
    cfg = p.cfg
    rec = {c: None for c in COLUMNS}
    rec.update(
        id=p.id,
        status=status,
        reason=reason,
        values={**p.phase1, **p.phase2},
        phase1=p.phase1,
        phase2=p.phase2,
        clock_mhz=cfg["hardware"]["clock_mhz"],
        cycles_estimate=est.get("cycles_per_step"),
        multipliers_estimate=est.get("multipliers"),
        bram36_estimate=est.get("bram36"),
        train_job=p.keys.get("train"),
        compress_job=p.keys.get("compress"),
        hardware_job=p.keys.get("hardware"),
        reused=False,
    )
    if est.get("cycles_per_step"):  # a batch core's step is one step of each of its sequences
        rec["frames_per_s"] = (
            cfg["hardware"]["clock_mhz"] * 1e6 * cfg["hardware"].get("batch", 1) / est["cycles_per_step"]
        )
    return rec


def energy(
    counts: dict, clock_mhz: float, cycles: int, activity: dict | None, part: str
) -> tuple[float, float]:
    """(power W, energy nJ per frame) from hw.synth.power's xc7 model."""
    from hw.synth import power
    from hw.synth.parts import xilinx_capacity

    cap = xilinx_capacity(part)
    pw = power.estimate_power("xc7", counts, clock_mhz, activity, cap["lut"] if cap else None)
    return pw["total_w"], pw["total_w"] * cycles / clock_mhz * 1e3


def from_job(p, est: dict, res: dict, req: dict) -> dict:
    """A point's record from its hardware job's result (ok, skipped for accuracy, or failed)."""
    rec = record(p, est, status="ok")
    if res.get("train"):
        t = res["train"]
        rec.update(
            train_metric=t["test_metric"], params=t["params"], compression_ratio=t["compression_ratio"]
        )
    if res.get("compress"):
        c = res["compress"]
        rec.update(metric_name=c["metric_name"], metric=c["fixed_metric"], float_metric=c["float_metric"])
    if not res.get("ok"):
        return dict(rec, status="failed", reason=res.get("error") or "unknown error")
    if res.get("skipped"):
        return dict(rec, status="pruned", reason=f"accuracy: {res['skipped']}")
    hw = p.cfg["hardware"]
    r = res["rtl"]
    rec.update(cycles_per_step=r["cycles_per_step"], multipliers=r["multipliers"])
    cpf = r["cycles_per_step"] / hw.get("batch", 1)  # cycles per frame (a batch step: each sequence's)
    rec["frames_per_s"] = hw["clock_mhz"] * 1e6 / cpf
    if res.get("synth"):
        s = res["synth"]
        c = s["xc7"]
        rec.update(lut=c["lut"], ff=c["ff"], dsp=c["dsp"], bram36=c["bram36"])
        rec["power_w"], rec["energy_nj_per_frame"] = energy(
            c, hw["clock_mhz"], cpf, s.get("activity"), hw["xilinx_part"]
        )
        rec["ecp5_fmax_mhz"] = (s.get("ecp5") or {}).get("fmax_mhz")
        over = [k for k in ("lut", "dsp") if req.get(f"max_{k}") is not None and c[k] > req[f"max_{k}"]]
        rec["within_budget"] = not over
        if over:
            rec["reason"] = "over budget: " + ", ".join(f"{k} {c[k]:g} > {req[f'max_{k}']:g}" for k in over)
    return rec


def pareto(recs: list[dict], x: str, lower_metric_better: bool = False) -> list[dict]:
    """Non-dominated records: x (a cost) lower and the metric higher (lower for mse) are better."""
    pts = [r for r in recs if r.get(x) is not None and r.get("metric") is not None]

    def m(r):
        return -r["metric"] if lower_metric_better else r["metric"]

    front = []
    for r in pts:
        dominated = any(
            q[x] <= r[x] and m(q) >= m(r) and (q[x] < r[x] or m(q) > m(r)) for q in pts if q is not r
        )
        if not dominated:
            front.append(r)
    return sorted(front, key=lambda r: r[x])


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def to_csv(recs: list[dict], keys: list[str]) -> str:
    """results.csv: the varied keys, then COLUMNS."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(keys + COLUMNS)
    for r in recs:
        w.writerow([_fmt(r["values"].get(k)) for k in keys] + [_fmt(r.get(c)) for c in COLUMNS])
    return buf.getvalue()


def plot(
    path: Path, recs: list[dict], costs: list[tuple[str, str, bool]], lower_better: bool, title: str
) -> None:
    """Metric against each cost (one panel each), every ok point, the Pareto front marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(costs), figsize=(5.2 * len(costs), 4), squeeze=False)
    for ax, (key, label, logx) in zip(axes[0], costs, strict=True):
        pts = [r for r in recs if r.get(key) is not None and r.get("metric") is not None]
        front = pareto(pts, key, lower_better)
        ax.scatter([r[key] for r in pts], [r["metric"] for r in pts], s=18, c="tab:blue", label="points")
        ax.plot([r[key] for r in front], [r["metric"] for r in front], "o-", c="tab:red", ms=7, mfc="none",
                label="Pareto front")  # fmt: skip
        for r in front:
            ax.annotate(
                r["id"][:6], (r[key], r["metric"]), fontsize=6, xytext=(3, 3), textcoords="offset points"
            )
        ax.set(
            xlabel=label,
            ylabel=pts[0]["metric_name"] if pts else "metric",
            xscale="log" if logx else "linear",
        )
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)


def _val(r: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in r["values"].items())


GUIDED = (  # (key, what the guidance names, pick): E-RNN's Phase I choices
    ("compression.block_size", "largest block size", max),
    ("quantization.weight_bits", "smallest weight width", min),
    ("quantization.pwl_segments", "fewest PWL segments", min),
)


def _model_group(r: dict) -> str:
    """The Phase I values other than the guided ones and the bit widths (one line of guidance each)."""
    guided = {k for k, _, _ in GUIDED}
    rest = [f"{k}={v}" for k, v in r["phase1"].items() if k not in guided and "bits" not in k]
    return ", ".join(rest) or "all models"


def guidance(space, recs: list[dict]) -> list[str]:
    """E-RNN style lines: per model group the largest block size, the smallest weight width and the fewest PWL
    segments whose fixed-point metric meets the requirement; the best Phase II points."""
    req = space.requirements["metric"]
    have = [r for r in recs if r.get("metric") is not None]
    if not have:
        return ["- no point has a fixed-point metric"]
    name = have[0]["metric_name"]
    rule = f"{name} {'<=' if name == 'mse' else '>='} {req:g}" if req is not None else "no metric requirement"
    lines = []
    for key, label, pick in GUIDED:
        groups: dict[str, list[dict]] = {}
        for r in have:
            if key in r["values"]:
                groups.setdefault(_model_group(r), []).append(r)
        for g, rs in groups.items():
            ok = [r for r in rs if meets(name, r["metric"], req)]
            tried = sorted({r["values"][key] for r in rs})
            if not ok:
                lines.append(f"- {g}: no {key} in {tried} meets {rule}")
                continue
            best = pick(r["values"][key] for r in ok)
            top = (min if name == "mse" else max)(r["metric"] for r in ok if r["values"][key] == best)
            lines.append(f"- {g}: {label} within {rule}: {key} = {best} ({name} {top:.4f}; tried {tried})")
    ok = [r for r in recs if r["status"] == "ok" and r.get("within_budget") is not False]
    fit = [r for r in ok if r.get("energy_nj_per_frame") is not None and meets(name, r["metric"], req)]
    if fit:
        r = min(fit, key=lambda r: r["energy_nj_per_frame"])
        lines.append(
            f"- lowest energy per frame within {rule}: {r['energy_nj_per_frame']:.4g} nJ ({_val(r)})"
        )
        r = max(fit, key=lambda r: r["frames_per_s"])
        lines.append(f"- highest frames/s within {rule}: {r['frames_per_s']:.4g} ({_val(r)})")
    return lines


FRONTS = (
    ("energy_nj_per_frame", "energy per frame (nJ)"),
    ("lut", "LUT"),
    ("dsp", "DSP48E1"),
    ("multipliers", "multipliers (rtl)"),
)


TABLE_COLUMNS = (
    ("frames_per_s", "frames/s"),
    ("lut", "LUT"),
    ("dsp", "DSP"),
    ("cycles_per_step", "cycles/step"),
    ("energy_nj_per_frame", "nJ/frame"),
)


def _front_table(recs: list[dict], key: str, label: str, name: str, lower_better: bool) -> list[str]:
    front = pareto(recs, key, lower_better)
    if not front:
        return []
    extra = [(k, h) for k, h in TABLE_COLUMNS if k != key]
    head = f"| point | values | {name} | {label} | " + " | ".join(h for _, h in extra) + " |"
    lines = [f"## Pareto front: {name} vs {label}", "", head, "|---" * (4 + len(extra)) + "|"]
    for r in front:
        cells = " | ".join(f"{r[k]:.4g}" if isinstance(r[k], float) else _fmt(r[k]) for k, _ in extra)
        lines.append(f"| {r['id'][:8]} | {_val(r)} | {r['metric']:.4f} | {r[key]:.4g} | {cells} |")
    return lines + [""]


def summary(space, recs: list[dict], counts: dict, lower_better: bool) -> str:
    """summary.md: counts, the Pareto tables, guidance, pruned and failed points."""
    ok = [r for r in recs if r["status"] == "ok" and r.get("within_budget") is not False]
    by = {s: sum(1 for r in recs if r["status"] == s) for s in ("ok", "pruned", "failed")}
    c = counts
    req = ", ".join(f"{k}={v}" for k, v in space.requirements.items() if v is not None) or "none"
    acc = [r for r in recs if (r["reason"] or "").startswith("accuracy:")]
    lines = [
        f"# Design-space exploration: {space.name}",
        "",
        f"Space `{space.file}` on base `{space.base_file}`: {c['points']} points; {by['ok']} ok, "
        f"{by['pruned']} pruned, {by['failed']} failed; {c['reused_points']} reused from an earlier run; "
        f"wall time {c['seconds']} s.",
        "",
        f"- training runs: one per point would be {c['points']}; pruning before training removed "
        f"{c['training_runs_saved_by_pruning']} points ({c['train_configs_pruned']} of the "
        f"{c['train_configs']} distinct training configs are never trained); sharing one training per model "
        f"saved {c['training_runs_saved_by_sharing']} more ({c['train_configs_needed']} trainings left).",
        f"- Phase I before Phase II: {len(acc)} points ({len({r['hardware_job'] for r in acc})} hardware "
        "jobs) missed the metric requirement and got no rtl or synthesis.",
        f"- jobs started this run: {c['jobs_run']} (the others were reused from earlier runs' stamps).",
        f"- requirements: {req}.",
        "",
    ]
    name = ok[0]["metric_name"] if ok else "metric"
    for key, label in FRONTS:
        lines += _front_table(ok, key, label, name, lower_better)
    lines += ["## Guidance (E-RNN style)", "", *guidance(space, recs), ""]
    lines += ["## Pruned and failed points", ""]
    lines += [
        f"- {r['id'][:8]} {r['status']} ({_val(r)}): {r['reason']}" for r in recs if r["status"] != "ok"
    ]
    lines += [
        "",
        "Plots: `acc_vs_energy.png`, `acc_vs_resources.png`; all points: `results.csv`, `results.json`.",
    ]
    return "\n".join(lines) + "\n"


def write_all(space, work: Path, records: dict[str, dict], counts: dict) -> dict:
    """results.csv / results.json / plots / summary.md from every point's record (in the space's order)."""
    recs = [  # values in the space's key order (a reused record was read back from key-sorted JSON)
        dict(records[p.id], values={**p.phase1, **p.phase2}, phase1=p.phase1, phase2=p.phase2)
        for p in space.points
        if p.id in records
    ]
    keys = [k for keys, _ in space.phase1 + space.phase2 for k in keys]
    lower = any(r.get("metric_name") == "mse" for r in recs)
    ok = [r for r in recs if r["status"] == "ok" and r.get("within_budget") is not False]
    atomic_write_text(work / "results.csv", to_csv(recs, keys))
    out = {
        "space": space.file,
        "name": space.name,
        "requirements": space.requirements,
        "counts": counts,
        "points": recs,
        "pareto": {k: [r["id"] for r in pareto(ok, k, lower)] for k, _ in FRONTS},
    }
    write_json(work / "results.json", out)
    plot(
        work / "acc_vs_energy.png",
        ok,
        [("energy_nj_per_frame", "energy per frame (nJ)", True)],
        lower,
        space.name,
    )
    plot(
        work / "acc_vs_resources.png",
        ok,
        [("lut", "LUT", False), ("dsp", "DSP48E1", False)],
        lower,
        space.name,
    )
    atomic_write_text(work / "summary.md", summary(space, recs, counts, lower))
    return out
