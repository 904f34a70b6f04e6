"""Fixed-point benchmark (issue 3): float vs 16/12/8-bit, direct vs fft, PWL 16 vs 32 segments.

For every trained ADMM b=8 model (the training benchmark's grid runs under build/bench/train_runs, and
configs/**/*.yaml with compression admm, block_size 8, whose build/NAME/train/model.pt belongs to that config;
or only the --config files given), the test metric of the torch float model and of the integer reference for
each variant. "N-bit" sets weight_bits = act_bits = preact_bits =
cell_bits = N; activation formats calibrated by max |x| (docs/arithmetic.md section 2), and for 8 bits also by
the 99.9th percentile (quantization.calibration = p99.9). Prints a table and writes build/bench/compress.json.

    python -m scripts.bench_compress [--config configs/X.yaml ...] [--train] [--root build] [--seeds 3]
                                     [--allow-stale]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import time
from pathlib import Path

from configs.schema import ConfigError, build_dir, load_config
from configs.util import write_json

log = logging.getLogger("bench_compress")

BITS = (16, 12, 8)
MODES = ("direct", "fft")
TARGETS = {16: 0.005, 12: 0.005, 8: 0.015}  # max loss vs float (accuracy fraction)


def candidates(root: Path, explicit: list[str], seeds: int) -> list[tuple[dict, Path, str]]:
    """(config, root, source) of every ADMM b=8 model to benchmark: the --config files, else the training
    benchmark's grid runs (build/bench/train_runs) and configs/**/*.yaml."""
    out = []
    paths = [Path(p) for p in explicit]
    if not explicit:
        try:
            from scripts.bench_train import GRID_TASKS, grid_configs

            grid_root = Path("build/bench/train_runs")
            by_name: dict[str, list[dict]] = {}
            for scale in grid_epoch_scales():
                for (_, mode, _), cfg in grid_configs(list(GRID_TASKS), seeds, [8], scale, False):
                    if mode == "admm":
                        by_name.setdefault(cfg["name"], []).append(cfg)
            for cfgs in by_name.values():  # the epoch scale the training benchmark used, if it ran
                cfg = next((c for c in cfgs if trained(c, grid_root)), cfgs[0])
                out.append((cfg, grid_root, "bench_train grid"))
        except ImportError:
            log.warning("scripts.bench_train not available: only configs/*.yaml are benchmarked")
        paths = sorted(Path("configs").rglob("*.yaml"))
    for p in paths:
        try:
            cfg = load_config(p)
        except ConfigError:
            if explicit:
                raise
            continue
        c = cfg["compression"]
        if explicit or (c["mode"] == "admm" and c["block_size"] == 8):
            out.append((cfg, root, str(p)))
    return out


def grid_epoch_scales() -> list[float]:
    """1.0 and every --epoch-scale recorded by the training benchmark (build/bench/train*.json)."""
    scales = [1.0]
    for f in sorted(Path("build/bench").glob("train*.json")):
        try:
            d = json.loads(f.read_text())
        except (OSError, ValueError):
            continue
        sc = d.get("epoch_scale") if isinstance(d, dict) else None
        if isinstance(sc, (int, float)) and sc not in scales and "--quick" not in str(d.get("command", "")):
            scales.append(float(sc))
    return scales


def trained(cfg: dict, root: Path, allow_stale: bool = False) -> bool:
    """A finished run of this config exists under root (allow_stale: any finished run of that name)."""
    from train.loop import config_hash

    d = build_dir(cfg, "train", root)
    if not (d / "model.pt").is_file() or not (d / "metrics.json").is_file():
        return False
    return allow_stale or json.loads((d / "metrics.json").read_text()).get("config_hash") == config_hash(cfg)


def bench_model(cfg: dict, root: Path) -> dict:
    from compress.export import (
        evaluate_fixed,
        float_model_from_torch,
        quant_settings,
        task_metric,
        torch_outputs,
    )
    from train.loop import load_trained

    model, task = load_trained(cfg, root)
    fm = float_model_from_torch(model, cfg, task)
    Xte, yte, Lte = task.test
    flt = task_metric(task, torch_outputs(model, task, Xte, Lte), yte)
    higher_better = task.metric_name != "mse"
    rows = []
    variants = [(b, m, 32, "max") for b in BITS for m in MODES] + [(16, m, 16, "max") for m in MODES]
    variants += [(8, m, 32, "p99.9") for m in MODES]
    for bits, mode, pwl, calib in variants:
        t0 = time.time()
        q = quant_settings(
            cfg["quantization"],
            weight_bits=bits,
            act_bits=bits,
            preact_bits=bits,
            cell_bits=bits,
            pwl_segments=pwl,
            matvec_mode=mode,
            calibration=calib,
        )
        _, res, metric = evaluate_fixed(fm, task, q)
        loss = (flt - metric) if higher_better else (metric - flt)
        row = {
            "bits": bits,
            "mode": mode,
            "pwl_segments": pwl,
            "calibration": calib,
            "metric": metric,
            "loss_vs_float": loss,
            "saturations": int(sum(res["sat"].values())),
            "seconds": round(time.time() - t0, 2),
        }
        if higher_better and pwl == 32:  # the targets (PWL 32)
            row["target_loss"] = TARGETS[bits]
            row["within_target"] = bool(loss <= TARGETS[bits] + 1e-12)
        rows.append(row)
        log.info(
            "%s: %d-bit %s PWL%d %s: %.4f (float %.4f)", cfg["name"], bits, mode, pwl, calib, metric, flt
        )
    return {
        "name": cfg["name"],
        "task": cfg["task"]["name"],
        "cell": cfg["model"]["cell"],
        "hidden": cfg["model"]["hidden"],
        "block_size": cfg["compression"]["block_size"],
        "metric_name": task.metric_name,
        "float": flt,
        "n_test": int(len(Xte)),
        "rows": rows,
    }


def summarise(results: list[dict]) -> list[dict]:
    """Mean over the models of each (task, cell) (seeds): float and every variant; worst loss vs float."""
    groups: dict[str, list[dict]] = {}
    for r in results:
        groups.setdefault(f"{r['task']} {r['cell']}", []).append(r)
    out = []
    for task, rs in sorted(groups.items()):
        rows = []
        for i, row in enumerate(rs[0]["rows"]):
            vals = [r["rows"][i]["metric"] for r in rs]
            losses = [r["rows"][i]["loss_vs_float"] for r in rs]
            rows.append(
                {k: row[k] for k in ("bits", "mode", "pwl_segments", "calibration")}
                | {
                    "metric": sum(vals) / len(vals),
                    "mean_loss": sum(losses) / len(losses),
                    "worst_loss": max(losses),
                }
            )
        out.append(
            {
                "name": f"mean {task} (n={len(rs)})",
                "task": task.split()[0],
                "cell": task.split()[1],
                "n_models": len(rs),
                "metric_name": rs[0]["metric_name"],
                "float": sum(r["float"] for r in rs) / len(rs),
                "rows": rows,
            }
        )
    return out


def table(results: list[dict]) -> str:
    cols = [(b, m, 32, "max") for b in BITS for m in MODES] + [(16, m, 16, "max") for m in MODES]
    cols += [(8, m, 32, "p99.9") for m in MODES]

    def head(c):
        b, m, pwl, cal = c
        return f"{b}b {m[:3]}" + (" P16" if pwl == 16 else "") + (" p99.9" if cal != "max" else "")

    lines = [f"{'model':<34}{'metric':<10}{'float':>8}  " + "  ".join(f"{head(c):>15}" for c in cols)]
    for r in results:
        by = {(x["bits"], x["mode"], x["pwl_segments"], x["calibration"]): x["metric"] for x in r["rows"]}
        cells = [f"{by[c]:>15.4f}" for c in cols]
        lines.append(f"{r['name']:<34}{r['metric_name']:<10}{r['float']:>8.4f}  " + "  ".join(cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench_compress", description=__doc__)
    parser.add_argument("--config", action="append", default=[], help="benchmark this config (repeatable)")
    parser.add_argument("--train", action="store_true", help="train configs whose model is missing")
    parser.add_argument(
        "--root", default="build", help="artifact root of configs/*.yaml runs (default build)"
    )
    parser.add_argument(
        "--seeds", type=int, default=3, help="seeds of the training benchmark grid to look for"
    )
    parser.add_argument(
        "--allow-stale", action="store_true", help="also use models trained with an older version of a config"
    )
    parser.add_argument("--out", default="build/bench/compress.json", help="output JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    import torch

    torch.set_num_threads(2)
    root = Path(args.root)
    results, skipped, seen = [], [], set()
    for cfg, cfg_root, source in candidates(root, args.config, args.seeds):
        pt = build_dir(cfg, "train", cfg_root) / "model.pt"
        digest = hashlib.sha256(pt.read_bytes()).hexdigest() if pt.is_file() else None
        if digest is not None and digest in seen:  # e.g. configs/default.yaml == the grid's jv_admm_b8_s0
            log.info("%s (%s): same model as an earlier entry; skipped", cfg["name"], source)
            continue
        stale = not trained(cfg, cfg_root) and args.allow_stale and trained(cfg, cfg_root, True)
        if stale:
            log.warning("%s: model trained with an older version of this config (--allow-stale)", cfg["name"])
        if not (trained(cfg, cfg_root) or stale):
            if not args.train:
                log.info("%s (%s): no trained model in %s; skipped", cfg["name"], source, cfg_root)
                skipped.append(cfg["name"])
                continue
            from train.loop import train

            train(cfg, root=cfg_root)
        results.append(bench_model(cfg, cfg_root) | {"source": source, "stale_config": stale})
        seen.add(digest)
    summary = summarise(results)
    out = {
        "targets_loss_vs_float": {str(k): v for k, v in TARGETS.items()},
        "models": results,
        "summary": summary,
        "skipped": skipped,
    }
    write_json(args.out, out)
    if results:
        print(table(results + summary))
    print(f"wrote {args.out} ({len(results)} models, {len(skipped)} skipped)")
    return 0 if results else 1


if __name__ == "__main__":
    from configs.schema import run_cli

    run_cli(main)
