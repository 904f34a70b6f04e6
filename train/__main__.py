"""`python -m train --config configs/NAME.yaml`: train one experiment into build/NAME/train/."""

from __future__ import annotations

import argparse
import logging

from configs.schema import load_config, run_cli


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train", description=__doc__)
    parser.add_argument("--config", default="configs/default.yaml", help="experiment config (YAML)")
    parser.add_argument(
        "--force", action="store_true", help="retrain from scratch (ignore checkpoint/results)"
    )
    parser.add_argument("--root", default="build", help="artifact root folder (default: build)")
    parser.add_argument(
        "--stop-after-epoch", type=int, default=None, help=argparse.SUPPRESS
    )  # simulates a kill
    args = parser.parse_args(argv)
    cfg = load_config(args.config)  # validated before torch is imported: bad configs fail fast
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if cfg["task"]["name"] in ("npz", "aeon"):  # user data: validate it before the (slow) torch import
        from train.data import load_task

        load_task(cfg)

    from train.loop import train

    metrics = train(cfg, root=args.root, force=args.force, stop_after_epoch=args.stop_after_epoch)
    if metrics is None:
        print(f"{cfg['name']}: stopped after epoch {args.stop_after_epoch} (checkpoint written)")
        return 0
    name = metrics["test_metric_name"]
    line = f"{cfg['name']}: test {name} = {metrics['test_metric']:.4f} (val {metrics['val_metric']:.4f})"
    if metrics.get("acc_after_projection") is not None:
        line += f", right after projection {metrics['acc_after_projection']:.4f}"
        line += f" (ADMM {metrics['admm_steps_run']} steps)"
    line += f", params {metrics['params']} / dense {metrics['params_dense']}"
    line += f" ({metrics['compression_ratio']:.2f}x)"
    print(line + f", {metrics['train_seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    run_cli(main)
