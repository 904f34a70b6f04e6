"""`make bench`: run every benchmark script in turn; each prints its table and writes build/bench/<name>.json.

`make bench` runs each with its defaults; run one directly (`python -m scripts.bench_train --help`) for its
own options (seeds, tasks, caps).
"""

from __future__ import annotations

import importlib
import logging
import sys

BENCHMARKS = ["bench_train", "bench_compress", "bench_hls", "bench_rtl", "bench_hw"]

log = logging.getLogger("bench")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    failed = []
    for name in BENCHMARKS:
        try:
            module = importlib.import_module(f"scripts.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"scripts.{name}":
                log.warning("%s: not implemented yet", name)
                failed.append(name)
                continue
            raise
        log.info("running %s", name)
        code = module.main([])
        if code:
            failed.append(name)
    if failed:
        log.error("benchmarks failed or missing: %s", ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
