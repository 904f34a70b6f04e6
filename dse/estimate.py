"""Analytic estimates of a hardware point before anything is trained: cycles, multipliers, block RAM.

The program of a point depends on the model's shape, block size, widths, matvec mode, P and E only, never on
the weights, so it is compiled (hw.rtl.program.compile_artifact) from a random artifact of the same shape
(compress.artifact); cycles come from hw.cycles, multipliers from hw.cycles.multipliers and block RAM from
scripts.bench_hw.memory_model. The sweep records these next to the generated RTL's figures.
"""

from __future__ import annotations

import functools

import numpy as np

from configs.stages import value_digest

TASK_KEYS = ("name", "seq_len", "copy_length", "n_train", "n_test", "path", "test_fraction", "regression")


@functools.lru_cache(maxsize=64)
def _task_shape(task_json: str, seed: int) -> tuple[int, int, int, bool]:
    """(input size, output size, longest test sequence, per-step outputs) of a task (numpy only)."""
    import json

    from train.data import load_task

    task = load_task({"task": json.loads(task_json), "seed": seed})
    T = int(task.test[0].shape[1])
    return task.input_size, task.output_size, T, bool(task.per_step)


def task_shape(cfg: dict) -> tuple[int, int, int, bool]:
    """(input size, output size, T_max the rtl stage uses, per_step) of a config's task."""
    import json

    t = cfg["task"]
    n_in, n_out, T, per_step = _task_shape(json.dumps(t, sort_keys=True), cfg["seed"])
    if t["name"] in ("copying", "adding"):
        T = max(T, t["seq_len"])  # as hw.rtl.generate sizes the sequence buffers
    return n_in, n_out, T, per_step


def _shape_key(cfg: dict) -> dict:
    m, c, q, h = cfg["model"], cfg["compression"], cfg["quantization"], cfg["hardware"]
    keep_q = ("weight_bits", "act_bits", "preact_bits", "cell_bits", "pwl_segments", "matvec_mode")
    return {
        "task": cfg["task"],
        "seed": cfg["seed"],
        "model": {k: m[k] for k in ("cell", "hidden", "layers", "projection", "peepholes", "n2")},
        "compression": {k: c[k] for k in ("mode", "block_size", "compress_head")},
        "quantization": {k: q[k] for k in keep_q},
        "hardware": {k: h.get(k) for k in ("parallelism", "ew_words", "fit_utilization", "batch")},
    }


_CACHE: dict[str, dict] = {}


def estimate(cfg: dict) -> dict:
    """cycles_per_step, multipliers, bram36 (and the parameters) of a point, or {"error": one line}."""
    key = value_digest(_shape_key(cfg))
    if key not in _CACHE:
        try:
            _CACHE[key] = _estimate(cfg)
        except ValueError as exc:  # ConfigError / RtlError: the core cannot run this point
            _CACHE[key] = {"error": str(exc).splitlines()[0]}
    return dict(_CACHE[key])


def _estimate(cfg: dict) -> dict:
    from compress import artifact
    from hw import cycles, fit
    from hw.rtl import isa, program
    from scripts.bench_hw import memory_model

    m, c, q, h = cfg["model"], cfg["compression"], cfg["quantization"], cfg["hardware"]
    n_in, n_out, T, per_step = task_shape(cfg)
    b = c["block_size"]
    circulant = c["mode"] != "dense"
    fm = artifact.random_float_model(
        m["cell"], n_in, m["hidden"], n_out, m["layers"], b if circulant else None,
        m["projection"], m["peepholes"], m["n2"], per_step, seed=0,
    )  # fmt: skip
    if circulant and not c["compress_head"]:
        w = fm["matrices"]["head.w"]
        rng = np.random.default_rng(1)
        fm["matrices"]["head.w"] = dict(
            w, structure="dense", b=None, w=rng.uniform(-0.1, 0.1, (w["rows"], w["cols"]))
        )
    quant = {
        k: q[k]
        for k in ("weight_bits", "act_bits", "preact_bits", "cell_bits", "pwl_segments", "matvec_mode")
    }
    Xc = np.random.default_rng(2).uniform(-1, 1, (8, 4, n_in))
    art = artifact.build_artifact(fm, Xc, np.full(8, 4), quant)
    P, E, _ = fit.resolve(art, cfg, T)
    design = program.compile_artifact(art, b=b, P=P, T_max=T, E=E, batch=h.get("batch", 1))
    mults = cycles.multipliers(design.params)
    return {
        "cycles_per_step": cycles.sequence_cycles(
            design.prog, P, design.params["B"], 1, E, design.params["ST"]
        )["per_step"],
        "multipliers": mults["total"],
        "bram36": memory_model(design.params, isa.WIDTH)["total"],
    }


def prune_reason(est: dict, cfg: dict, req: dict) -> str | None:
    """Why the analytic estimates rule a point out under the requirements (None: it stays)."""
    if "error" in est:
        return None  # not an estimate: the point runs and its stage records the error
    fps = cfg["hardware"]["clock_mhz"] * 1e6 * cfg["hardware"].get("batch", 1) / est["cycles_per_step"]
    if req.get("min_frames_per_s") is not None and fps < req["min_frames_per_s"]:
        return f"frames/s {fps:.4g} < {req['min_frames_per_s']:g} (cycles/step {est['cycles_per_step']})"
    if req.get("max_multipliers") is not None and est["multipliers"] > req["max_multipliers"]:
        return f"multipliers {est['multipliers']} > {req['max_multipliers']:g}"
    if req.get("max_bram36") is not None and est["bram36"] > req["max_bram36"]:
        return f"bram36 {est['bram36']:g} > {req['max_bram36']:g}"
    return None
