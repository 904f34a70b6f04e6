"""`make cpu`: the CPU baseline of the trained model, a stage of its own (build/NAME/cpu/results.json, which
`make report` reads): PyTorch float inference of the trained model and of its dense counterpart on this CPU,
batch 1 and 64, the config's thread count; energy from RAPL where readable (labelled n/a otherwise)."""

from __future__ import annotations

import argparse
import copy
import datetime
import logging
import os
import statistics
import time
from pathlib import Path

from configs.schema import build_dir, load_config, run_cli
from configs.util import write_json
from scripts.report import MEASURED, _row

log = logging.getLogger("cpu")


def rapl_energy_uj() -> int | None:
    """Package energy counter (RAPL through powercap) in uJ, or None when not readable."""
    base = Path("/sys/class/powercap")
    total, found = 0, False
    for f in sorted(base.glob("intel-rapl:*/energy_uj")) if base.exists() else []:
        try:
            total += int(f.read_text())
            found = True
        except (OSError, ValueError):
            return None
    return total if found else None


def time_forward(
    model, x, lengths, min_seconds: float = 0.5, max_reps: int = 200
) -> tuple[float, float | None]:
    """(median seconds per forward, joules per forward or None) of model(x, lengths) under torch.no_grad()."""
    import torch

    with torch.no_grad():
        model(x, lengths)
        times = []
        e0 = rapl_energy_uj()
        while len(times) < 3 or (sum(times) < min_seconds and len(times) < max_reps):
            t0 = time.perf_counter()
            model(x, lengths)
            times.append(time.perf_counter() - t0)
        e1 = rapl_energy_uj()
    joules = (e1 - e0) * 1e-6 / len(times) if e0 is not None and e1 is not None and e1 > e0 else None
    return statistics.median(times), joules


def cpu_rows(cfg: dict, batches=(1, 64), root: str = "build") -> tuple[list[dict], dict]:
    """PyTorch float inference of the trained model and of its dense counterpart on this CPU."""
    import torch

    from train.loop import load_trained
    from train.models import build_model

    threads = cfg["training"]["threads"]
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    model, task = load_trained(cfg, root)
    dense_cfg = copy.deepcopy(cfg)
    dense_cfg["compression"]["mode"] = "dense"
    torch.manual_seed(0)
    dense = build_model(dense_cfg, task.input_size, task.output_size).eval()
    X, _, lengths = task.test
    rows, info = [], {"threads": threads, "rapl": rapl_energy_uj() is not None, "cpu": _cpu_name()}
    for label, m in (("compressed", model), ("dense", dense)):
        for b in batches:
            idx = [i % len(X) for i in range(b)]
            x = torch.as_tensor(X[idx])
            ln = torch.as_tensor(lengths[idx])
            sec, joules = time_forward(m, x, ln)
            frames = float(ln.sum())
            vals = {"frames_per_s": frames / sec, "latency_us": 1e6 * sec / (frames / b)}
            labs = {"frames_per_s": MEASURED, "latency_us": MEASURED}
            if joules is not None:
                vals["energy_uj"] = 1e6 * joules / frames
                labs["energy_uj"] = MEASURED
            note = f"batch {b}, {threads} thread(s), float32; latency = batch time / frames per sequence"
            if joules is None:
                note += "; energy n/a (no readable RAPL counters)"
            rows.append(_row(f"CPU PyTorch {label}, batch {b}", cfg["name"], vals, labs, note))
    return rows, info


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip() + f" ({os.cpu_count()} logical CPUs)"
    except OSError:
        pass
    return "unknown CPU"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scripts.cpu_baseline", description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    cfg = load_config(args.config)
    model_pt = build_dir(cfg, "train") / "model.pt"
    if not model_pt.is_file():
        from configs.schema import ConfigError

        raise ConfigError(f"{model_pt}: missing: run `make train` first")
    rows, info = cpu_rows(cfg)
    out = build_dir(cfg, "cpu")
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    write_json(out / "results.json", {"rows": rows, "info": info, "date": stamp})
    for r in rows:
        log.info("%s: %.0f frames/s", r["name"], r["values"]["frames_per_s"])
    return 0


if __name__ == "__main__":
    run_cli(main)
