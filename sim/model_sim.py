"""Simulate a compiled model on Verilator through cocotb (used by tests and `python -m sim`)."""

from __future__ import annotations

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
) -> dict:
    """Run art.vectors through rnn_core; returns {vectors, mismatches, latency[], build_s, sim_s, design}."""
    vec = art.vectors
    T = int(vec["x_int"].shape[1])
    design = program.compile_artifact(art, P=P, T_max=(caps or {}).get("T_MAX", T), caps=caps, E=E)
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    for name, text in program.memory_images(design).items():
        (work / name).write_text(text)
    n = len(vec["lengths"]) if n_vectors is None else min(n_vectors, len(vec["lengths"]))
    np.savez(work / "vectors.npz", x_int=vec["x_int"][:n], lengths=vec["lengths"][:n], y=vec["y"][:n])
    p = design.params
    tb = dict(
        vectors=str((work / "vectors.npz").resolve()),
        result=str((work / "result.json").resolve()),
        B=p["B"],
        BA=p["BA"],
        BO=p["BO"],
        in_words=design.in_words,
        out_words=design.out_words,
        O=design.out_size,
        per_step=design.per_step,
        stall_in=stall,
        stall_out=stall,
        seed=seed,
        reset_test=reset_test,
    )
    t0 = time.time()
    info = runner.run(
        runner.rtl_sources(CORE_SOURCES),
        "rnn_core",
        "tb_model",
        parameters=core_parameters(design),
        env={"TB_PARAMS": json.dumps(tb)},
        waves=waves,
        test_dir=work,
        check=False,
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
        "design": design,
        "work": str(work),
    }
