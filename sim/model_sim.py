"""Simulate a compiled model on Verilator through cocotb (used by tests and `python -m sim`)."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path

import numpy as np

from hw.rtl import LIBRARY, program
from sim import runner

log = logging.getLogger(__name__)

CORE_SOURCES = LIBRARY


def core_parameters(design: program.Design, mem_dir: str | None = None) -> dict:
    """Verilog parameters of rnn_core; memory files by name (relative to the simulation folder) or mem_dir."""
    p = dict(design.params)
    pre = f"{mem_dir}/" if mem_dir else ""
    p.update(
        DM_INIT=pre + "dm.mem", PROG_INIT=pre + "prog.mem", W_INIT=pre + "w.mem", PWL_INIT=pre + "pwl.mem"
    )
    return p


def simulate(
    art,
    P: int = 1,
    work: Path | str = "build/sim_work",
    caps: dict | None = None,
    stall: float = 0.0,
    seed: int = 1,
    reset_test: str | None = None,
    waves: bool = False,
    n_vectors: int | None = None,
    E: int = 1,
    b: int | None = None,
    defines: dict | None = None,
    batch: int = 1,
) -> dict:
    """Compile an artifact and run its vectors through rnn_core; returns {vectors, mismatches, latency[],
    outputs, build_s, sim_s, design} (the tests' path; `make sim` simulates rtl/'s folder: simulate_rtl).
    `defines`: Verilog defines of the build (the tests' defect injections); batch: sequences per program run
    (latency[] then has one entry per group of `batch` vectors, paired by length: hw.cycles.batch_groups)."""
    vec = art.vectors
    T = int(vec["x_int"].shape[1])
    design = program.compile_artifact(
        art, b=b, P=P, T_max=(caps or {}).get("T_MAX", T), caps=caps, E=E, batch=batch
    )
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    for name, text in program.memory_images(design).items():
        (work / name).write_text(text)
    io = dict(
        in_words=design.in_words, out_words=design.out_words, O=design.out_size, per_step=design.per_step
    )
    sources = runner.rtl_sources(CORE_SOURCES)
    r = _run(
        sources,
        "rnn_core",
        core_parameters(design),
        design.params,
        io,
        vec,
        work,
        stall,
        seed,
        reset_test,
        waves,
        n_vectors,
        defines=defines,
    )
    r["design"] = design
    return r


def simulate_rtl(
    rtl_dir: Path | str,
    vectors: dict,
    work: Path | str,
    stall: float = 0.0,
    seed: int = 1,
    waves: bool = False,
    n_vectors: int | None = None,
    trace_build: bool = False,
) -> dict:
    """Run vectors through the top level the rtl stage wrote (its sources, parameter package and .mem images,
    copied byte for byte into work/); also returns the sha256 of each memory image simulated. trace_build:
    on the model built for waveforms (sim.runner.run), without dumping one unless `waves`."""
    rtl_dir, work = Path(rtl_dir), Path(work)
    info = json.loads((rtl_dir / "rtl.json").read_text())
    work.mkdir(parents=True, exist_ok=True)
    digests = {}
    for name in info["mem_files"].values():
        data = (rtl_dir / name).read_bytes()
        (work / name).write_bytes(data)
        digests[name] = hashlib.sha256((work / name).read_bytes()).hexdigest()
    io = dict(
        in_words=info["in_beats_per_step"],
        out_words=info["out_beats_per_vector"],
        O=info["out_size"],
        per_step=info["per_step"],
    )
    sources = [rtl_dir / f for f in info["files"]]
    top, params, kw = info["top"], info["params"], {"trace_build": trace_build}
    r = _run(sources, top, {}, params, io, vectors, work, stall, seed, None, waves, n_vectors, **kw)
    r["memory_images"] = digests
    return r


def _run(sources, top, parameters, p, io, vec, work, stall, seed, reset_test, waves, n_vectors, **run_kw):
    """One cocotb run of tb_model on a built top (core parameters p: B, BA, BO; io: stream shape); run_kw:
    sim.runner.run's defines and trace_build."""
    n = len(vec["lengths"]) if n_vectors is None else min(n_vectors, len(vec["lengths"]))
    np.savez(work / "vectors.npz", x_int=vec["x_int"][:n], lengths=vec["lengths"][:n], y=vec["y"][:n])
    tb = dict(
        vectors=str((work / "vectors.npz").resolve()),
        result=str((work / "result.json").resolve()),
        B=p["B"],
        BA=p["BA"],
        BO=p["BO"],
        **io,
        stall_in=stall,
        stall_out=stall,
        seed=seed,
        reset_test=reset_test,
        batch=p.get("NSEQ", 1),
    )
    (work / "result.json").unlink(missing_ok=True)
    t0 = time.time()
    info = runner.run(
        sources,
        top,
        "tb_model",
        parameters=parameters,
        env={"TB_PARAMS": json.dumps(tb)},
        waves=waves,
        test_dir=work,
        check=False,
        **run_kw,
    )
    out = json.loads((work / "result.json").read_text()) if (work / "result.json").exists() else {}
    return {
        "vectors": n,
        "mismatches": out.get("mismatches", n),
        "latency": out.get("latency", []),
        "outputs": out.get("outputs", []),
        "build_s": info["build_s"],
        "sim_s": info["sim_s"],
        "wall_s": time.time() - t0,
        "passed": info["passed"],
        "work": str(work),
    }
