"""One ECP5 synthesis + place and route of a config's rtl stage at a given clock (a timing probe for RTL work,
outside the make flow): prints Fmax and the critical path's start and end cells.

    python -m scripts.pnr_once --config configs/default.yaml --mhz 100 --out build/pnr_probe
"""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path

from configs.schema import build_dir, load_config
from hw.synth import design as design_mod
from hw.synth import ecp5_board, nextpnr, yosys

log = logging.getLogger("pnr_once")


def critical_path(log_text: str) -> list[str]:
    """Source/Sink cell names of the last critical path report for the design clock in a nextpnr log."""
    blocks = re.split(r"Critical path report for clock ", log_text)
    if len(blocks) < 2:
        return []
    lines = blocks[-1].split("Critical path report for cross-domain")[0].splitlines()
    return [ln.strip() for ln in lines if re.search(r"(clk-to-q|setup|Source|Sink)", ln)]


def ecp5_pnr(
    rtl_dir: Path,
    out: Path,
    mhz: float,
    device: str,
    package: str,
    seed: int = 1,
    timeout: float = 1800,
    placer: str = "heap",
    tmg_ripup: bool = False,
) -> dict:
    """The design in rtl_dir (rtl.json) inside the ULX3S board wrapper at `mhz`: yosys synth_ecp5, then one
    nextpnr-ecp5 run (seed) in out/. Returns {"board": write_top's facts (clock_mhz: the PLL's), "synth":
    synth_ecp5's result, "pnr": place_route's result, "log": out/nextpnr.log}."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    d = design_mod.load_design(Path(rtl_dir))
    design_mod.discover_ports(d, out)
    board = ecp5_board.write_top(d, out, mhz)
    syn = yosys.synth_ecp5(d, board["top"], [Path(f) for f in board["files"]], out, timeout=timeout)
    log.info("yosys: %s", syn.get("counts"))
    pnr = nextpnr.place_route(
        out / "ecp5.json",
        Path(board["lpf"]),
        out,
        device,
        package,
        board["clock_mhz"],
        timeout=timeout,
        seed=seed,
        placer=placer,
        tmg_ripup=tmg_ripup,
    )
    return {"board": board, "synth": syn, "pnr": pnr, "log": out / "nextpnr.log"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scripts.pnr_once", description=__doc__)
    ap.add_argument("--config", default="configs/default.yaml")
    ap.add_argument("--mhz", type=float, default=100.0)
    ap.add_argument("--out", default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--placer", default=None, choices=["heap", "static"], help="default: hardware.ecp5_placer"
    )
    ap.add_argument(
        "--tmg-ripup",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="router2 timing-driven rip-up (default: hardware.ecp5_tmg_ripup)",
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    cfg = load_config(args.config)
    hw = cfg["hardware"]
    out = Path(args.out) if args.out else build_dir(cfg) / "pnr_probe"
    r = ecp5_pnr(
        build_dir(cfg, "rtl"),
        out,
        args.mhz,
        hw["ecp5_device"],
        hw["ecp5_package"],
        seed=args.seed,
        placer=args.placer or hw["ecp5_placer"],
        tmg_ripup=hw["ecp5_tmg_ripup"] if args.tmg_ripup is None else args.tmg_ripup,
    )
    pnr = r["pnr"]
    log.info(
        "fmax %.2f MHz at %g MHz (met %s), %s s",
        pnr.get("fmax_mhz") or 0,
        args.mhz,
        pnr.get("timing_met"),
        pnr.get("seconds"),
    )
    for ln in critical_path(r["log"].read_text(errors="replace"))[:80]:
        print(ln)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
