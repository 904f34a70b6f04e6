"""Build the hls4ml project of a compress artifact (no torch), compile it and run the C-simulation.

The ModelGraph is built with hls4ml's own graph construction from a layer list (`ModelGraph.from_layer_list`):
Input `x` (T, F) of the manifest's input type, Input `len` (1), one `R2FRecurrent` per stacked layer, and
`R2FHead`.
Inputs are fed as on-grid integers (x_int of vectors.npz, as float64: exact), outputs are the head's integers.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from hw.hls.codegen import layer_specs

log = logging.getLogger(__name__)

LEN_BITS = 16


def build_graph(
    artifact,
    out_dir: str | Path,
    T: int | None = None,
    backend: str = "Vitis",
    part: str = "xc7vx690tffg1761-2",
    clock_mhz: float = 100.0,
    parallelism: int = 1,
    project_name: str = "myproject",
):
    """hls4ml ModelGraph of an artifact (compress.artifact.Artifact); T defaults to the vectors' length."""
    import hls4ml
    from hls4ml.model.graph import ModelGraph

    from hw.hls.extension import register

    register()
    man = artifact.manifest
    if T is None:
        T = int(artifact.vectors["x_int"].shape[1])
    specs = layer_specs(man, artifact.arrays, T, parallelism)
    cfg = hls4ml.utils.config.create_config(
        output_dir=str(out_dir),
        project_name=project_name,
        backend=backend,
        part=part,
        clock_period=round(1000.0 / clock_mhz, 3),
        io_type="io_parallel",
    )
    xb = man["formats"]["x"]["bits"]
    cfg["HLSConfig"] = {
        "Model": {"Precision": "ap_int<16>", "ReuseFactor": 1, "Strategy": "Latency"},
        "LayerName": {
            "x": {"Precision": {"result": f"ap_int<{xb}>"}},
            "len": {"Precision": {"result": f"ap_int<{LEN_BITS}>"}},
        },
    }
    layers = [
        {"class_name": "InputLayer", "name": "x", "input_shape": [T, int(man["model"]["input_size"])]},
        {"class_name": "InputLayer", "name": "len", "input_shape": [1]},
    ]
    prev = "x"
    for spec in specs:
        cls = "R2FHead" if spec.kind == "head" else "R2FRecurrent"
        layers.append({"class_name": cls, "name": spec.name, "inputs": [prev, "len"], "r2f_spec": spec})
        prev = spec.name
    return ModelGraph.from_layer_list(cfg, layers, inputs=["x", "len"], outputs=["head"])


def compile_graph(graph) -> float:
    """Write the project and build the C-simulation library (g++); returns seconds."""
    t0 = time.monotonic()
    graph.compile()
    return time.monotonic() - t0


def csim(graph, x_int: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Run the compiled C-simulation on integer inputs (N, T, F) with lengths (N,); returns int64 y."""
    N = len(x_int)
    x = np.ascontiguousarray(np.asarray(x_int, dtype=np.float64).reshape(N, -1))
    n = np.ascontiguousarray(np.asarray(lengths, dtype=np.float64).reshape(N, 1))
    y = np.asarray(graph.predict([x, n]), dtype=np.float64).reshape(N, -1)
    out = np.rint(y).astype(np.int64)
    if not np.array_equal(out, y):
        raise RuntimeError("C-simulation returned non-integer outputs")
    return out


def compare(graph, vectors: dict) -> dict:
    """C-sim on vectors.npz content vs the reference's y: {sequences, mismatches, mismatched_values}."""
    x, lengths, ref_y = vectors["x_int"], vectors["lengths"], np.asarray(vectors["y"], dtype=np.int64)
    got = csim(graph, x, lengths).reshape(ref_y.shape)
    bad = np.any((got != ref_y).reshape(len(ref_y), -1), axis=1)
    return {
        "sequences": int(len(ref_y)),
        "mismatches": int(np.count_nonzero(bad)),
        "mismatched_values": int(np.count_nonzero(got != ref_y)),
        "y": got,
    }
