"""`make sim`: simulate the rtl stage's design (build/NAME/rtl/: its top, sources and memory images) on
Verilator over the compress stage's test vectors; one line and exit 2 when a stage is missing or rtl is stale.

Writes build/NAME/sim/results.json (all vectors; a partial run writes results_<n>_vectors.json). Options:
--vcd PATH (waveform for switching activity), --wave (same at build/NAME/sim/dump.vcd; both default to 1
vector, a VCD grows by ~50 MB per 1,000 cycles), --vectors N, --stall p (random AXI idle / backpressure
probability, default 0 for cycle counts).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from pathlib import Path

import numpy as np

from compress.artifact import load_artifact
from configs.schema import build_dir, load_config, run_cli
from configs.stages import check_inputs, read_stage
from configs.util import write_json
from hw import cycles
from hw.rtl import generate

log = logging.getLogger("sim")


def write_activity(rtl_dir: Path, vectors: dict, out: Path) -> str:
    """Switching activity for synth's power estimate: a waveform of the shortest test sequence (first
    power.VCD_MAX_CYCLES cycles) -> out/activity.json; the VCD is deleted. Returns the file name."""
    from hw.synth import power
    from sim.model_sim import simulate_rtl

    k = int(np.argmin(vectors["lengths"]))
    one = {key: vectors[key][k : k + 1] for key in ("x_int", "lengths", "y")}
    r = simulate_rtl(rtl_dir, one, out / "activity_work", waves=True, n_vectors=1)
    vcd = Path(r["work"]) / "dump.vcd"
    if not (r["passed"] and vcd.exists()):
        log.warning("activity run failed: synth will use the default toggle rate")
        return ""
    activity = power.parse_vcd(vcd, max_cycles=power.VCD_MAX_CYCLES)
    length = int(one["lengths"][0])
    activity["source"] = (
        f"make sim: waveform of test sequence {k} ({length} steps), first {activity['cycles']} cycles"
    )
    vcd.unlink()
    write_json(out / "activity.json", activity)
    return "activity.json"


def batch1_latency(art, info: dict, lengths: list[int]) -> float:
    """Mean cycles per sequence of the same model compiled for batch 1 on the same core parameters (the cycle
    model, exact against simulation in tests/test_rtl_model.py): the latency beside a batch core's
    throughput."""
    from hw.rtl import program

    p = info["params"]
    d = program.compile_artifact(art, b=p["B"], P=p["P"], T_max=info["t_max"], E=p.get("E", 1))
    runs = [
        cycles.sequence_cycles(d.prog, p["P"], p["B"], L, p.get("E", 1), d.params["ST"])["total"]
        for L in lengths
    ]
    return float(np.mean(runs))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim", description=__doc__)
    ap.add_argument("--config", required=True)
    ap.add_argument("--vcd", default=None, help="write a VCD waveform to this path")
    ap.add_argument("--wave", action="store_true", help="write build/NAME/sim/dump.vcd")
    ap.add_argument("--vectors", type=int, default=None, help="simulate only the first N vectors")
    ap.add_argument("--stall", type=float, default=0.0, help="random stall probability on both streams")
    ap.add_argument(
        "--no-activity", action="store_true", help="skip the waveform run that gives synth its toggle rates"
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    cfg = load_config(args.config)
    rtl_dir = build_dir(cfg, "rtl")
    info = read_stage(rtl_dir / "rtl.json", "rtl")
    check_inputs(rtl_dir / "rtl.json", info.get("inputs", {}), generate.inputs(cfg), "rtl")
    from sim.model_sim import simulate_rtl  # after the checks (imports cocotb tools)

    art = load_artifact(build_dir(cfg, "compress"))
    out = build_dir(cfg, "sim")
    out.mkdir(parents=True, exist_ok=True)
    vcd = Path(args.vcd) if args.vcd else (out / "dump.vcd" if args.wave else None)
    n = args.vectors if args.vectors else (1 if vcd else None)  # a VCD grows by ~50 MB per 1,000 cycles
    T = info["t_max"]
    activity = not (vcd or args.no_activity or args.vectors)
    # the vectors on the build the waveform run for the activity takes too (one Verilator build, not two)
    r = simulate_rtl(
        rtl_dir,
        art.vectors,
        out / "work",
        stall=args.stall,
        waves=bool(vcd),
        n_vectors=n,
        trace_build=activity,
    )
    prog = json.loads((rtl_dir / "program.json").read_text())
    P, B = info["params"]["P"], info["params"]["B"]
    E, ST = info["params"].get("E", 1), info["params"]["ST"]
    batch = info.get("batch", 1)
    # one latency per group of `batch` sequences, grouped as sim.tb_model sent them (by length)
    simulated = [int(v) for v in art.vectors["lengths"][: r["vectors"]]]
    groups = cycles.batch_groups(simulated, batch)
    glens = [tuple(simulated[i] for i in g) for g in groups]
    runs = [g if batch > 1 else g[0] for g in glens]
    lengths = [sum(g) for g in glens]  # frames (steps) per latency entry
    model = [cycles.sequence_cycles(prog, P, B, L, E, ST)["total"] for L in runs]
    per_step = cycles.sequence_cycles(prog, P, B, 1, E, ST)["per_step"]
    lat = r["latency"]
    errors = cycles.cycle_errors(prog, P, B, runs[: len(lat)], lat, E, ST)
    err = max((abs(e) / x for e, x in zip(errors, lat, strict=True) if x), default=None)
    batch1 = (
        batch1_latency(art, info, [int(v) for v in art.vectors["lengths"][: r["vectors"]]])
        if batch > 1
        else None
    )
    clock = cfg["hardware"]["clock_mhz"]
    res = {
        "config": cfg["name"],
        "vectors": r["vectors"],
        "mismatches": r["mismatches"],
        "passed": bool(r["passed"]) and r["mismatches"] == 0,
        "stall_probability": args.stall,
        "batch": batch,
        "groups": groups,
        "batch1_model_cycles_per_sequence_mean": batch1,
        "cycles_per_step": per_step,
        "cycles_per_sequence": lat,
        "cycles_per_sequence_mean": float(np.mean(lat)) if lat else None,
        "model_cycles_per_sequence": model,
        "cycle_model_errors": errors,
        "cycle_model_max_rel_error": err,
        "lengths": lengths,
        "t_max": T,
        "clock_mhz": clock,
        "latency_us_mean": float(np.mean(lat)) / clock if lat else None,
        "verilator_build_s": round(r["build_s"], 2),
        "sim_s": round(r["sim_s"], 2),
        "params": info["params"],
        "multipliers": cycles.multipliers(info["params"]),
        "mac_utilization": cycles.mac_utilization(prog, info["params"]),
        "memory_images": r["memory_images"],
        "rtl_inputs": info.get("inputs", {}),
        "note": "cycles counted from the last input beat to the last output beat (of each group of `batch` "
        "sequences; lengths: the group's steps); cycles_per_step: one step of every sequence of the batch",
    }
    if vcd:
        src = Path(r["work"]) / "dump.vcd"
        if src.exists():
            vcd.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, vcd)
            res["vcd"] = str(vcd)
    if activity:
        res["activity"] = write_activity(rtl_dir, art.vectors, out)
    # a partial run (waveform, --vectors) does not replace the full run's results
    name = (
        "results.json"
        if r["vectors"] == len(art.vectors["lengths"])
        else f"results_{r['vectors']}_vectors.json"
    )
    write_json(out / name, res)
    print(
        f"sim {cfg['name']}: {res['vectors']} vectors, {res['mismatches']} mismatches, "
        f"{per_step} cycles/step, mean {res['cycles_per_sequence_mean']} cycles/sequence "
        f"(build {res['verilator_build_s']} s, sim {res['sim_s']} s)"
    )
    return 0 if res["passed"] else 1


if __name__ == "__main__":
    sys.exit(run_cli(main))
