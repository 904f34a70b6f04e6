"""`python -m compress --config configs/NAME.yaml`: build/NAME/train/model.pt -> build/NAME/compress/."""

from __future__ import annotations

import argparse
import logging

from configs.schema import load_config, run_cli


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m compress", description=__doc__)
    parser.add_argument("--config", default="configs/default.yaml", help="experiment config (YAML)")
    parser.add_argument("--root", default="build", help="artifact root folder (default: build)")
    args = parser.parse_args(argv)
    cfg = load_config(args.config)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    from compress.export import export

    m = export(cfg, root=args.root)
    q = m["quantization"]
    widths = f"w{q['weight_bits']} a{q['act_bits']} z{q['preact_bits']} c{q['cell_bits']}"
    print(
        f"{cfg['name']}: test {m['metric_name']} float {m['float_metric']:.4f} -> "
        f"fixed {m['fixed_metric']:.4f} ({widths}, PWL {q['pwl_segments']}, {q['matvec_mode']}), "
        f"saturations {m['saturation_total']}, numpy-vs-torch {m['torch_vs_numpy_float_max_abs']:.2g}"
    )
    return 0


if __name__ == "__main__":
    run_cli(main)
