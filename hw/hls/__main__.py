"""`make hls`: hls4ml project of the compress artifact, g++ C-simulation vs the reference, csynth.

python -m hw.hls --config configs/NAME.yaml [--cosim] [--backend Vitis|Vivado]
Reads build/NAME/compress/ (model.yaml, weights.npz, vectors.npz), writes the hls4ml project to
build/NAME/hls/ (build_prj.tcl, firmware/, tb_data/ with the test vectors), compiles it, runs the
C-simulation on the vectors and writes build/NAME/hls/csim.json {sequences, mismatches, compile_seconds, ...}.
With vitis-run (Vitis backend) or vivado_hls/vitis_hls (Vivado backend) on PATH it also runs csynth
(and cosim with --cosim); otherwise it prints "skipped: Vitis HLS not on PATH".
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from configs.schema import build_dir, load_config, run_cli
from configs.util import atomic_write_text, write_json
from hw.synth.tools import ToolError, run_tool

log = logging.getLogger("hls")


def write_tb_data(out_dir: Path, vectors: dict) -> None:
    """tb_data/tb_input_features.dat (x_int then length per line) and tb_output_predictions.dat (y)."""
    x = np.asarray(vectors["x_int"], dtype=np.int64).reshape(len(vectors["x_int"]), -1)
    n = np.asarray(vectors["lengths"], dtype=np.int64).reshape(-1, 1)
    y = np.asarray(vectors["y"], dtype=np.int64).reshape(len(x), -1)
    rows_in = "\n".join(" ".join(str(int(v)) for v in row) for row in np.concatenate([x, n], axis=1))
    rows_out = "\n".join(" ".join(str(int(v)) for v in row) for row in y)
    atomic_write_text(out_dir / "tb_data" / "tb_input_features.dat", rows_in + "\n")
    atomic_write_text(out_dir / "tb_data" / "tb_output_predictions.dat", rows_out + "\n")


def hls_tool(backend: str | None) -> tuple[str | None, str | None]:
    """(backend, tool) for csynth: vitis-run/vitis_hls -> Vitis; vivado_hls -> Vivado; else (None, None)."""
    for be, tool in (("Vitis", "vitis-run"), ("Vivado", "vivado_hls"), ("Vitis", "vitis_hls")):
        if backend in (None, be) and shutil.which(tool):
            return be, tool
    return None, None


def csynth_report(out: Path) -> Path | None:
    """The C-synthesis report of the project in out (*_prj/solution*/syn/report/*_csynth.rpt), if any."""
    found = sorted(out.glob("*_prj/solution*/syn/report/*_csynth.rpt"))
    return found[0] if found else None


def run_csynth(graph, out: Path, tool: str, cosim: bool) -> Path:
    """csynth (and cosim) of the written project with the tool found on PATH; returns its report. A failed
    run, or one that writes no report, raises ToolError (one line)."""
    for stale in out.glob("*_prj/solution*/syn/report/*_csynth.rpt"):
        stale.unlink()
    log_path = out / f"{tool}.log"
    if tool == "vitis_hls":  # Vitis HLS before vitis-run: run the project's build_prj.tcl directly
        opts = f"array set opt {{\n reset 0\n csim 0\n synth 1\n cosim {int(cosim)}\n validation 0\n"
        opts += " export 0\n vsynth 0\n fifo_opt 0\n}\n"
        atomic_write_text(out / "build_opt.tcl", opts)
        run_tool([tool, "-f", "build_prj.tcl"], log_path, cwd=out)
    else:
        graph.build(csim=False, synth=True, cosim=cosim)
    report = csynth_report(out)
    if report is None:
        raise ToolError(f"{tool}: no C-synthesis report (*_prj/solution*/syn/report/*_csynth.rpt) in {out}")
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hw.hls", description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True, help="configs/NAME.yaml")
    ap.add_argument("--cosim", action="store_true", help="also run C/RTL co-simulation (needs Vitis HLS)")
    ap.add_argument(
        "--backend", choices=("Vitis", "Vivado"), default=None, help="hls4ml backend (default Vitis)"
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    cfg = load_config(args.config)

    from compress.artifact import load_artifact
    from hw.hls.project import build_graph, compare

    art = load_artifact(build_dir(cfg, "compress"))
    if art.vectors is None:
        print(
            f"error: {build_dir(cfg, 'compress') / 'vectors.npz'}: missing (run make compress)",
            file=sys.stderr,
        )
        return 2
    out = build_dir(cfg, "hls")
    hw = cfg["hardware"]
    be_synth, tool = hls_tool(args.backend)
    backend = args.backend or be_synth or "Vitis"
    graph = build_graph(
        art,
        out,
        backend=backend,
        part=hw["xilinx_part"],
        clock_mhz=hw["clock_mhz"],
        parallelism=hw["parallelism"] if hw["parallelism"] != "auto" else 1,  # auto sizes the RTL core only
    )
    t0 = time.monotonic()
    graph.compile()  # writes the project (build_prj.tcl, firmware/) and builds the C-simulation library
    compile_s = time.monotonic() - t0
    write_tb_data(Path(out), art.vectors)
    t0 = time.monotonic()
    res = compare(graph, art.vectors)
    csim_s = time.monotonic() - t0
    summary = {
        "sequences": res["sequences"],
        "mismatches": res["mismatches"],
        "mismatched_values": res["mismatched_values"],
        "compile_seconds": round(compile_s, 2),
        "csim_seconds": round(csim_s, 3),
        "backend": backend,
        "model": art.manifest["model"]["cell"],
        "matvec_mode": art.manifest["quantization"]["matvec_mode"],
    }
    if tool is None:
        summary["csynth"] = "skipped"
        print("skipped: Vitis HLS not on PATH")
    else:
        log.info("running csynth with %s (%s backend)", tool, backend)
        try:
            summary["csynth_report"] = str(run_csynth(graph, Path(out), tool, args.cosim))
        except ToolError as exc:
            summary["csynth"] = f"failed: {exc}"
            write_json(Path(out) / "csim.json", summary)
            print(f"error: {exc}", file=sys.stderr)
            return 1
        summary["csynth"] = "done"
    write_json(Path(out) / "csim.json", summary)
    print(
        f"hls: {summary['sequences']} sequences, {summary['mismatches']} mismatches vs the reference, "
        f"compile {summary['compile_seconds']} s -> {out}/csim.json"
    )
    return 1 if summary["mismatches"] else 0


if __name__ == "__main__":
    run_cli(main)
