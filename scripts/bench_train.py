"""Training benchmark: compression modes on classification tasks, orthogonal cells on adding/copying.

    python -m scripts.bench_train [--seeds 3] [--tasks jv,digits_row,digits_pixel,ItalyPowerDemand,GunPoint]
                                  [--blocks 4,8,16] [--modes dense,circulant,admm] [--epoch-scale 1.0]
                                  [--other-block-scale 1.0] [--seeds-cap SPEC] [--minutes 20] [--quick]

Part 1 (grid): JapaneseVowels, row-by-row and pixel-by-pixel digits and two UCR sets bundled with aeon
(ItalyPowerDemand, GunPoint; nothing was tuned on them); LSTM hidden 128 with the config defaults for every
task (the same hyperparameters everywhere): dense, circulant and admm at each block size, per seed. Model
selection on the validation split; reported: mean and sample std of the test accuracy, the test accuracy
right after the hard projection (admm), the ADMM steps, the compression ratio and the train seconds.
--epoch-scale scales every epoch / step budget; --other-block-scale additionally scales the runs whose block
size is not 8 (scaled-down columns); --seeds-cap gives slow columns fewer seeds.
Part 2 (long memory): LSTM, scoRNN and ENRNN on adding (T=100, target validation MSE < 0.01) and copying
(T=100, target >= 99% of the copied symbols), each capped at --minutes.

Every run is an ordinary training run under build/bench/train_runs/NAME/train (finished runs are skipped, so
an interrupted benchmark continues where it stopped); the JSON (default build/bench/train.json) is rewritten
after every run.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from pathlib import Path

from configs.schema import SCHEMA, validate
from configs.util import write_json

log = logging.getLogger("bench_train")

# key -> task section. Everything else is the config default: no per-task hyperparameters.
GRID_TASKS = {
    "jv": {"name": "japanese_vowels"},
    "digits_row": {"name": "digits_row"},
    "digits_pixel": {"name": "digits_pixel"},
    "ItalyPowerDemand": {"name": "aeon", "dataset": "ItalyPowerDemand"},
    "GunPoint": {"name": "aeon", "dataset": "GunPoint"},
}
MODES = ("dense", "circulant", "admm")
# the targets: admm b=8 within this many points of dense (and >= circulant b=8 everywhere)
DENSE_GAP = {"jv": 1.0, "digits_row": 1.0, "ItalyPowerDemand": 1.0, "GunPoint": 1.0, "digits_pixel": 2.0}
SEQ_TASKS = ("adding", "copying")
SEQ_CELLS = {  # cell -> model section, training section (authors' shapes: ENRNN adding 96+64, copying 172+20)
    "lstm": ({"cell": "lstm", "hidden": 128}, {"optimizer": "adam", "lr": 1e-3}),
    "scornn": (
        {"cell": "scornn", "hidden": 160},
        {"optimizer": "rmsprop", "lr": 1e-3, "orthogonal_lr": 1e-4},
    ),
    "enrnn": (
        {"cell": "enrnn", "hidden": 160, "n2": 64},
        {"optimizer": "rmsprop", "lr": 1e-3, "orthogonal_lr": 1e-4},
    ),
}
SEQ_TARGET = {"adding": 0.01, "copying": 0.99}


def scaled(raw: dict, scale: float) -> dict:
    """Scale the epoch and step budgets of a run (1.0: the config defaults)."""
    if scale == 1.0:
        return raw
    t, c = SCHEMA["training"], SCHEMA["compression"]
    raw["training"]["epochs"] = max(1, round(t["epochs"].default * scale))
    raw["compression"]["finetune_epochs"] = max(1, round(c["finetune_epochs"].default * scale))
    raw["compression"]["admm_steps"] = max(1, round(c["admm_steps"].default * scale))
    raw["training"]["min_steps"] = round(t["min_steps"].default * scale)
    return raw


def parse_caps(spec: str) -> dict:
    """--seeds-cap "digits_pixel=2,GunPoint:16=1" -> {("digits_pixel", None): 2, ("GunPoint", 16): 1}."""
    caps = {}
    for item in filter(None, (p.strip() for p in spec.split(","))):
        key, _, n = item.partition("=")
        task, _, b = key.partition(":")
        if task not in GRID_TASKS or not n.isdigit() or (b and not b.isdigit()):
            raise ValueError(
                f"--seeds-cap: expected TASK[:B]=N with TASK in {list(GRID_TASKS)} (got {item!r})"
            )
        caps[(task, int(b) if b else None)] = int(n)
    return caps


def seeds_of(caps: dict, task: str, b: int | None, seeds: int) -> int:
    """Seeds of one column: the most specific cap (task:b, then task) or --seeds."""
    for key in ((task, b), (task, None)):
        if key in caps:
            return min(seeds, caps[key])
    return seeds


def grid_configs(tasks, seeds, blocks, epoch_scale=1.0, quick=False, modes=MODES, other_scale=1.0, caps=None):
    """(group key, config) for every run of the compression grid (scripts/bench_compress.py reuses it)."""
    caps = caps or {}
    for key in tasks:
        if key not in GRID_TASKS:
            continue
        variants = [(m, None) for m in modes if m == "dense"]
        variants += [(m, b) for m in modes if m != "dense" for b in blocks]
        for mode, b in variants:
            scale = epoch_scale * (other_scale if b not in (None, 8) else 1.0)
            for seed in range(seeds_of(caps, key, b, seeds)):
                name = f"{key}_{mode}" + (f"_b{b}" if b else "") + f"_s{seed}"
                if scale != 1.0:
                    name += f"_x{scale:g}"
                raw = {
                    "name": name,
                    "seed": seed,
                    "task": dict(GRID_TASKS[key]),
                    "model": {"cell": "lstm", "hidden": 16 if quick else 128},
                    "compression": {"mode": mode, "block_size": b or 8},
                    "training": {"threads": 1},
                }
                yield (key, mode, b), validate(scaled(raw, scale), f"bench_train:{name}")


def seq_configs(tasks, cells, minutes, seed, quick):
    for task in tasks:
        if task not in SEQ_TASKS:
            continue
        for cell in cells:
            model, training = SEQ_CELLS[cell]
            if quick:
                model = dict(model, hidden=16) | ({"n2": 4} if cell == "enrnn" else {})
            name = f"{task}_{cell}_s{seed}"
            raw = {
                "name": name,
                "seed": seed,
                "task": {"name": task, "seq_len": 100, "copy_length": 10},
                "model": model,
                "compression": {"mode": "dense"},
                "training": dict(
                    training,
                    epochs=100000,
                    batch_size=50,
                    threads=1,
                    clip=1.0,
                    eval_every=20 if quick else 100,
                    target=SEQ_TARGET[task],
                    max_minutes=minutes,
                ),
            }
            raw["task"].update(
                {"n_train": 500, "n_test": 100, "seq_len": 20}
                if quick
                else (
                    {"n_train": 50000, "n_test": 1000}
                    if task == "adding"
                    else {"n_train": 10000, "n_test": 500}
                )
            )
            yield (task, cell), validate(raw, f"bench_train:{name}")


def spread(values):
    return statistics.stdev(values) if len(values) > 1 else 0.0


def summarise_grid(runs: dict) -> list[dict]:
    rows = []
    for (task, mode, b), ms in runs.items():
        acc = [m["test_metric"] for m in ms]
        row = {"task": task, "mode": mode, "block_size": b, "seeds": len(ms)}
        row.update(acc_mean=statistics.mean(acc), acc_std=spread(acc), accs=acc)
        row["val_mean"] = statistics.mean(m["val_metric"] for m in ms)
        row["compression_ratio"] = ms[0]["compression_ratio"]
        row["params"] = ms[0]["params"]
        row["train_seconds"] = statistics.mean(m["train_seconds"] for m in ms)
        row["epochs_run"] = statistics.mean(m["epochs_run"] for m in ms)
        if mode == "admm":
            after = [m["acc_after_projection"] for m in ms]
            row.update(after_projection_mean=statistics.mean(after), after_projection_std=spread(after))
            row["admm_steps"] = statistics.mean(m["admm_steps_run"] for m in ms)
            row["admm_final_rel"] = [m["admm"][-1]["primal_rel"] if m["admm"] else None for m in ms]
            row["finetune_lr_scale"] = [m.get("finetune_lr_scale") for m in ms]
        rows.append(row)
    return rows


def summarise_seq(key, m: dict, minutes: float) -> dict:
    evals = m.get("evals", [])
    best = (min if m["test_metric_name"] == "mse" else max)(
        [e["val_metric"] for e in evals] + [m["val_metric"]]
    )
    return {
        "task": key[0],
        "cell": key[1],
        "params": m["params"],
        "target": SEQ_TARGET[key[0]],
        "reached": m["stopped_by"] == "target",
        "iterations": m["iterations"],
        "minutes": m["train_seconds"] / 60,
        "final_metric": m["test_metric"],
        "best_val_metric": best,
        "cap_minutes": minutes,
        "stopped_by": m["stopped_by"],
    }


def grid_table(rows: list[dict]) -> str:
    head = f"{'task':<17}{'mode':<10}{'b':>3}{'seeds':>6}{'test acc %':>14}{'after proj %':>15}"
    head += f"{'ADMM steps':>11}{'ratio':>7}{'sec':>7}"
    lines = [head, "-" * len(head)]
    for r in rows:
        acc = f"{100 * r['acc_mean']:.1f} ± {100 * r['acc_std']:.1f}"
        after = (
            f"{100 * r['after_projection_mean']:.1f} ± {100 * r['after_projection_std']:.1f}"
            if "after_projection_mean" in r
            else "-"
        )
        steps = f"{r['admm_steps']:.0f}" if "admm_steps" in r else "-"
        b = r["block_size"] or "-"
        lines.append(
            f"{r['task']:<17}{r['mode']:<10}{b:>3}{r['seeds']:>6}{acc:>14}{after:>15}{steps:>11}"
            f"{r['compression_ratio']:>7.2f}{r['train_seconds']:>7.0f}"
        )
    return "\n".join(lines)


def matrix_table(rows: list[dict], blocks) -> str:
    """The closing note's table: task x (dense, circulant b..., admm b...), test accuracy mean ± std."""
    by = {(r["task"], r["mode"], r["block_size"]): r for r in rows}
    cols = [("dense", None)] + [(m, b) for m in ("circulant", "admm") for b in blocks]
    head = "| task | " + " | ".join(m if b is None else f"{m} b{b}" for m, b in cols) + " |"
    lines = [head, "|---" * (len(cols) + 1) + "|"]
    for task in dict.fromkeys(r["task"] for r in rows):
        cells = []
        for key in cols:
            r = by.get((task, *key))
            cells.append(f"{100 * r['acc_mean']:.1f} ± {100 * r['acc_std']:.1f} ({r['seeds']})" if r else "-")
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def seq_table(rows: list[dict]) -> str:
    head = f"{'task':<9}{'cell':<8}{'params':>8}{'target':>8}{'reached':>9}{'iters':>8}{'min':>7}"
    head += f"{'final':>9}{'best val':>9}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['task']:<9}{r['cell']:<8}{r['params']:>8}{r['target']:>8}"
            f"{'yes' if r['reached'] else 'no':>9}"
            f"{r['iterations']:>8}{r['minutes']:>7.1f}{r['final_metric']:>9.4f}{r['best_val_metric']:>9.4f}"
        )
    return "\n".join(lines)


def target_checks(rows: list[dict]) -> list[str]:
    """The issue's targets: admm b=8 >= circulant b=8 on every task; admm b=8 within DENSE_GAP of dense."""
    out = []
    by = {(r["task"], r["mode"], r["block_size"]): r for r in rows}
    for task in dict.fromkeys(r["task"] for r in rows):
        keys = (("dense", None), ("circulant", 8), ("admm", 8))
        dense, circ, admm = (by.get((task, m, b)) for m, b in keys)
        if not admm:
            continue
        a = 100 * admm["acc_mean"]
        if circ:
            c = 100 * circ["acc_mean"]
            verdict = "met" if a >= c else "MISSED"
            out.append(f"{task}: admm b=8 {a:.1f} vs circulant b=8 {c:.1f}: >= target {verdict}")
        if dense and task in DENSE_GAP:
            gap, d = 100 * dense["acc_mean"] - a, 100 * dense["acc_mean"]
            verdict = "met" if gap <= DENSE_GAP[task] else "MISSED"
            out.append(
                f"{task}: admm b=8 {a:.1f} vs dense {d:.1f} (gap {gap:+.1f} points, target <= "
                f"{DENSE_GAP[task]:g}): {verdict}"
            )
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m scripts.bench_train", description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--tasks", default=",".join([*GRID_TASKS, *SEQ_TASKS]))
    p.add_argument("--blocks", default="4,8,16")
    p.add_argument("--modes", default="dense,circulant,admm")
    p.add_argument("--cells", default="enrnn,scornn,lstm", help="cells for adding/copying")
    p.add_argument("--minutes", type=float, default=20.0, help="cap per adding/copying run")
    p.add_argument("--epoch-scale", type=float, default=1.0, help="scale every epoch / step budget")
    p.add_argument(
        "--other-block-scale", type=float, default=1.0, help="extra scale for the block sizes other than 8"
    )
    p.add_argument(
        "--seeds-cap", default="", help='fewer seeds for slow columns, e.g. "digits_pixel=2,GunPoint:16=1"'
    )
    p.add_argument(
        "--quick", action="store_true", help="tiny models and data, 1 seed: a smoke test of the script"
    )
    p.add_argument("--root", default="build/bench")
    p.add_argument("--out", default=None, help="JSON file (default ROOT/train.json)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    from train.loop import train

    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    unknown = [t for t in tasks if t not in GRID_TASKS and t not in SEQ_TASKS]
    if unknown:
        p.error(f"--tasks: unknown task {unknown[0]!r} (choose from {list(GRID_TASKS) + list(SEQ_TASKS)})")
    blocks = [int(b) for b in args.blocks.split(",")]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    try:
        caps = parse_caps(args.seeds_cap)
    except ValueError as exc:
        p.error(str(exc))
    seeds = 1 if args.quick else args.seeds
    scale = min(args.epoch_scale, 0.05) if args.quick else args.epoch_scale
    minutes = 0.2 if args.quick else args.minutes
    root = Path(args.root)
    runs_root = root / ("train_runs_quick" if args.quick else "train_runs")
    out_path = Path(args.out) if args.out else root / ("train_quick.json" if args.quick else "train.json")
    cmd = "python -m scripts.bench_train " + " ".join(
        argv if argv is not None else __import__("sys").argv[1:]
    )
    result = {
        "command": cmd.strip(),
        "seeds": seeds,
        "seeds_cap": args.seeds_cap,
        "seq_seed": 0,
        "epoch_scale": scale,
        "other_block_scale": args.other_block_scale,
        "cap_minutes": minutes,
        "grid": [],
        "runs": [],
        "seq": [],
    }
    grid_runs: dict = {}
    seq_rows: list[dict] = []
    t0 = time.time()
    grid = grid_configs(tasks, seeds, blocks, scale, args.quick, modes, args.other_block_scale, caps)
    for key, cfg in grid:
        m = train(cfg, root=runs_root)
        grid_runs.setdefault(key, []).append(m)
        run = {"name": cfg["name"], "test": m["test_metric"], "val": m["val_metric"]}
        run.update(after_projection=m.get("acc_after_projection"), seconds=m["train_seconds"])
        run.update(epochs=cfg["training"]["epochs"], admm_steps=m.get("admm_steps_run"))
        result["runs"].append(run)
        result["grid"] = summarise_grid(grid_runs)
        result["targets"] = target_checks(result["grid"])
        write_json(out_path, result)
    for key, cfg in seq_configs(tasks, args.cells.split(","), minutes, 0, args.quick):
        m = train(cfg, root=runs_root)
        seq_rows.append(summarise_seq(key, m, minutes))
        result["seq"] = seq_rows
        write_json(out_path, result)
    result["targets"] = target_checks(result["grid"])
    result["wall_minutes"] = (time.time() - t0) / 60
    write_json(out_path, result)
    if result["grid"]:
        print(grid_table(result["grid"]))
        print(matrix_table(result["grid"], blocks))
    for line in result["targets"]:
        print(line)
    if seq_rows:
        print(seq_table(seq_rows))
    print(f"written {out_path}")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
