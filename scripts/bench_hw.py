"""Google-LSTM hardware benchmark (configs/google_lstm_b8.yaml, b16): the report's table, 7-series estimate.

The full Google LSTM core (P = 48 lanes at b=8) is too large for a yosys run of a few minutes, so its
resources are an analytic estimate calibrated on synthesized smaller cores:
- LUT / FF / DSP48E1 grow linearly with the lane count P (every lane is the same matrix-vector datapath; the
  FFT/IFFT, element-wise unit and controller are shared). Two small cores of the same b, widths and mode with
  P1 < P2 lanes are synthesized (yosys synth_xilinx via hw.synth) and the line through them is evaluated at P.
- Block RAM is computed from the target core's memories (two data-memory banks of four read copies, weight
  memory P lanes wide, program) with the RAMB36 aspect ratios of UG473 (32Kx1 ... 512x72) by hw/fit.py's
  memory model (the one `hardware.parallelism: auto` uses), and checked against the synthesized calibration
  cores (model vs yosys, printed).
Cycles per frame come from the RTL owner's analytical cycle model (hw.cycles, checked against Verilator within
5 %), the clock is the configured 200 MHz target (no timing analysis), power is hw.synth.power's model. Every
figure is therefore labelled "estimated"; the published ESE / C-LSTM / E-RNN rows sit beside it.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import logging
import os
import time
from pathlib import Path

from configs.schema import load_config
from configs.util import atomic_write_text, write_json
from hw.fit import bram36_for, memory_model  # noqa: F401 (the block RAM model lives in hw/fit.py)

log = logging.getLogger("bench_hw")
ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ["configs/google_lstm_b8.yaml", "configs/google_lstm_b16.yaml"]
GOOGLE = {"input_size": 153, "hidden": 1024, "projection": 512, "peepholes": True}
CALIB_SHAPE = {"input_size": 16, "hidden": 32, "projection": 16, "peepholes": True}  # same cell, small


def make_rtl(cfg: dict, shape: dict, P: int, out: Path) -> dict:
    """Random block-circulant LSTM artifact of `shape` -> hw.rtl generator output in out/ (rtl.json dict)."""
    from compress.artifact import random_artifact
    from hw.rtl import generate

    b = cfg["compression"]["block_size"]
    c = copy.deepcopy(cfg)
    c["name"] = out.name
    c["hardware"]["parallelism"] = P
    comp = ROOT / "build" / "bench" / "hw" / "build" / c["name"] / "compress"
    if not (comp / "model.yaml").exists():
        random_artifact(
            "lstm",
            output_size=b,
            b=b,
            mode=cfg["quantization"]["matvec_mode"],
            seed=0,
            T=2,
            n_vectors=1,
            out_dir=comp,
            **shape,
        )
    old = Path.cwd()
    try:  # the generator reads build/NAME/compress relative to the working folder
        os.chdir(ROOT / "build" / "bench" / "hw")
        return generate.generate(c, out=out / "rtl", t_max=2)
    finally:
        os.chdir(old)


def rtl_digest() -> str:
    """Hash of the RTL library and its generator: a cached calibration is reused only for the same RTL."""
    h = hashlib.sha256()
    for f in sorted((ROOT / "hw" / "rtl").glob("*.sv")) + [ROOT / "hw" / "rtl" / "generate.py"]:
        if f.name.startswith("uart"):
            continue
        h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()[:16]


def calibrate(cfg: dict, P: int, cache: Path) -> dict:
    """yosys synth_xilinx counts of a small core with P lanes (cached in build/bench/hw/)."""
    from hw.synth import yosys
    from hw.synth.design import load_design

    b = cfg["compression"]["block_size"]
    name = f"calib_b{b}_{cfg['quantization']['matvec_mode']}_P{P}"
    f = cache / f"{name}.json"
    if f.exists():
        old = json.loads(f.read_text())
        if old.get("rtl_digest") == rtl_digest():
            return old
        log.info("%s: RTL changed since the cached calibration, synthesizing again", name)
    rtl = make_rtl(cfg, CALIB_SHAPE, P, cache / name)
    design = load_design(cache / name / "rtl")
    out = cache / name / "synth"
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    r = yosys.synth_xc7(design, cfg["hardware"]["xilinx_part"], out, timeout=3600)
    res = {
        "P": P,
        "counts": r["counts"],
        "params": rtl["params"],
        "instruction_bits": rtl["instruction_bits"],
        "seconds": round(time.time() - t0, 1),
        "rtl_digest": rtl_digest(),
    }
    res["bram_model"] = memory_model(rtl["params"], rtl["instruction_bits"])["total"]
    write_json(f, res)
    return res


def estimate(cfg: dict, calib: list[dict], cache: Path) -> dict:
    """Resources, cycles and power of the Google LSTM core at the config's P (all estimated)."""
    from hw import cycles
    from hw.synth import power
    from hw.synth.parts import xilinx_capacity

    hwc = cfg["hardware"]
    b, P = cfg["compression"]["block_size"], hwc["parallelism"]
    mode = cfg["quantization"]["matvec_mode"]
    rep = cycles.layer_report(
        GOOGLE["input_size"], GOOGLE["hidden"], GOOGLE["projection"], GOOGLE["peepholes"], b, mode, P
    )
    rtl = make_rtl(cfg, GOOGLE, P, cache / f"google_b{b}_{mode}_P{P}")
    mem = memory_model(rtl["params"], rtl["instruction_bits"])
    (c1, c2) = sorted(calib, key=lambda c: c["P"])
    counts = {}
    for k in ("lut", "ff", "dsp"):
        slope = (c2["counts"][k] - c1["counts"][k]) / (c2["P"] - c1["P"])
        counts[k] = round(c1["counts"][k] + slope * (P - c1["P"]))
        counts[f"{k}_per_lane"] = slope
        if slope < 0:
            raise RuntimeError(
                f"calibration: {k} falls with P ({c1['counts'][k]} -> {c2['counts'][k]}): stale cache?"
            )
    counts["bram36"] = mem["total"]
    counts["ramb36"] = int(mem["total"])
    counts["ramb18"] = int(round(2 * (mem["total"] - int(mem["total"]))))
    cap = xilinx_capacity(hwc["xilinx_part"])
    pct = {k: 100.0 * counts[k] / cap[k] for k in ("lut", "ff", "dsp", "bram36")}
    over = [k for k, v in pct.items() if v > 100]
    pw = power.estimate_power("xc7", counts, hwc["clock_mhz"], None, cap["lut"])
    return {
        "config": cfg["name"],
        "b": b,
        "P": P,
        "mode": mode,
        "cycles_per_step": rep["cycles_per_step"],
        "matvec_cycles_per_step": rep["matvec_cycles_per_step"],
        "multipliers": rep["multipliers"],
        "counts": counts,
        "capacity": cap,
        "percent": {k: round(v, 2) for k, v in pct.items()},
        "fits": not over,
        "does_not_fit": ", ".join(f"{k} {counts[k]:g} > {cap[k]}" for k in over) if over else None,
        "memories": mem,
        "calibration": [
            {"P": c["P"], "counts": c["counts"], "bram_model": c["bram_model"], "seconds": c["seconds"]}
            for c in calib
        ],
        "power": pw,
    }


def rows_for(est: dict, clock_mhz: float) -> list[dict]:
    from scripts import report as R

    cpf = est["cycles_per_step"]
    vals = {
        "clock_mhz": clock_mhz,
        "cycles_per_frame": cpf,
        "latency_us": cpf / clock_mhz,
        "frames_per_s": clock_mhz * 1e6 / cpf,
        "power_w": est["power"]["total_w"],
    }
    labs = dict.fromkeys(vals, R.ESTIMATED)
    note = (
        f"b={est['b']} {est['mode']}, P={est['P']} ({est['multipliers']['total']} multipliers); cycles: "
        "hw.cycles model; clock: target; resources: calibrated estimate; power: model"
    )
    return [R._row(f"this design b={est['b']} (XC7VX690T, estimate)", "Google LSTM", vals, labs, note)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scripts.bench_hw", description=__doc__.splitlines()[0])
    ap.add_argument("--configs", nargs="*", default=CONFIGS)
    ap.add_argument(
        "--calib-p", nargs=2, type=int, default=[1, 2], help="lane counts of the calibration cores"
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    from scripts import report as R

    cache = ROOT / "build" / "bench" / "hw"
    cache.mkdir(parents=True, exist_ok=True)
    rows, ests = [], []
    for path in args.configs:
        cfg = load_config(ROOT / path if not Path(path).is_absolute() else path)
        calib = [calibrate(cfg, p, cache) for p in args.calib_p]
        est = estimate(cfg, calib, cache)
        ests.append(est)
        rows += rows_for(est, cfg["hardware"]["clock_mhz"])
    rows += R.published_rows()
    md = [
        "# Google LSTM (153 -> 1024 cells, 512 projection, peepholes): hardware estimate",
        "",
        __doc__.split("\n", 2)[2].strip(),
        "",
        R.perf_table(rows),
        "",
    ]
    md += [
        "| config | P | multipliers | cycles/step | LUT | FF | DSP48E1 | BRAM36 | fits XC7VX690T |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for e in ests:
        c, p = e["counts"], e["percent"]
        md.append(
            f"| {e['config']} | {e['P']} | {e['multipliers']['total']} | {e['cycles_per_step']} | "
            f"{c['lut']:,} ({p['lut']}%) | {c['ff']:,} ({p['ff']}%) | {c['dsp']:,} ({p['dsp']}%) | "
            f"{c['bram36']:g} ({p['bram36']}%) | {'yes' if e['fits'] else 'NO: ' + e['does_not_fit']} |"
        )
    md += [
        "",
        "Calibration (yosys synth_xilinx of small cores, same b / widths / mode; BRAM: model vs yosys):",
        "",
    ]
    for e in ests:
        for c in e["calibration"]:
            md.append(
                f"- {e['config']} P={c['P']}: LUT {c['counts']['lut']}, FF {c['counts']['ff']}, DSP "
                f"{c['counts']['dsp']}, BRAM36 {c['counts']['bram36']:g} (model {c['bram_model']:g}), "
                f"{c['seconds']} s"
            )
    out = ROOT / "build" / "bench"
    atomic_write_text(out / "hw.md", "\n".join(md) + "\n")
    write_json(out / "hw.json", {"estimates": ests, "rows": rows})
    print("\n".join(md[4:]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
