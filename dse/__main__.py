"""`python -m dse --space configs/dse/NAME.yaml`: sweep a design space into build/dse/NAME/.

Phase I (model) x Phase II (hardware) points on top of a base config; points the analytic estimates rule out
are pruned before any training; one training per distinct model, one Ray task per distinct job. A restarted
sweep reuses every finished point. Exit 0 when no point failed, 1 when some did (each recorded with its error
line), 2 for a bad space file.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from configs.schema import run_cli


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dse", description=__doc__.splitlines()[0])
    ap.add_argument("--space", default="configs/dse/default.yaml", help="design space (YAML)")
    ap.add_argument("--address", default=None, help="Ray cluster address (default: RAY_ADDRESS, else local)")
    ap.add_argument("--out", default=None, help="work folder (default build/dse/NAME)")
    ap.add_argument("--dry-run", action="store_true", help="print the plan (points, pruning, jobs) and stop")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from dse.space import ROOT, load_space
    from dse.sweep import Plan, run_sweep

    space = load_space(args.space)
    work = Path(args.out) if args.out else ROOT / "build" / "dse" / space.name
    if args.dry_run:
        plan = Plan(space, work)
        for key, value in plan.counts().items():
            print(f"{key}: {value}")
        for rec in plan.records.values():
            print(f"{rec['id'][:8]} {rec['status']}: {rec['values']}: {rec['reason'] or ''}")
        return 0
    out = run_sweep(space, work, address=args.address, progress=not args.no_progress)
    print((work / "summary.md").read_text())
    failed = [r for r in out["points"] if r["status"] == "failed"]
    return 1 if failed else 0


if __name__ == "__main__":
    run_cli(main)
