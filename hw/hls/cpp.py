"""Compile and run small standalone C++ programs against the rnn2fpga HLS headers (g++ C-simulation).

Used by the unit tests of the primitives (no hls4ml project needed) and for array literals.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

INCLUDE_DIR = Path(__file__).resolve().parent / "include" / "rnn2fpga"
HEADERS = sorted(INCLUDE_DIR.glob("r2f_*.h"))


def ap_types_dir() -> Path:
    """The ap_types headers (ap_int.h, ap_fixed.h) shipped inside the hls4ml package."""
    import importlib.util

    spec = importlib.util.find_spec("hls4ml")
    if spec is None or spec.origin is None:
        raise RuntimeError("hls4ml is not installed: it ships the ap_types headers")
    return Path(spec.origin).parent / "templates" / "vivado" / "ap_types"


def c_array(name: str, ctype: str, values) -> str:
    """`const ctype name[n] = {...};` with exact integer literals."""
    flat = np.asarray(values, dtype=np.int64).ravel()
    body = ", ".join(str(int(v)) for v in flat) if flat.size else "0"
    return f"const {ctype} {name}[{max(flat.size, 1)}] = {{{body}}};\n"


def compile_cpp(src: str, workdir: Path, name: str = "prog", opt: str = "-O0") -> tuple[Path, float]:
    """Write src to workdir/name.cpp and build an executable with g++; returns (path, seconds)."""
    gxx = shutil.which("g++")
    if gxx is None:
        raise RuntimeError("g++ not found on PATH")
    workdir.mkdir(parents=True, exist_ok=True)
    cpp = workdir / f"{name}.cpp"
    exe = workdir / name
    cpp.write_text(src)
    cmd = [gxx, opt, "-std=c++14", f"-I{INCLUDE_DIR}", f"-I{ap_types_dir()}", str(cpp), "-o", str(exe)]
    t0 = time.monotonic()
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"g++ failed on {cpp}:\n{res.stderr[-4000:]}")
    return exe, time.monotonic() - t0


def run_ints(exe: Path) -> list[np.ndarray]:
    """Run a program that prints lines of space-separated integers; one int64 array per line."""
    res = subprocess.run([str(exe)], capture_output=True, text=True, check=True)
    return [np.array(line.split(), dtype=np.int64) for line in res.stdout.splitlines()]
