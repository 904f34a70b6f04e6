"""Shared helpers of the HLS tests: one hls4ml compile per random model, many sequences per compile."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from compress.artifact import random_artifact

needs_gxx = pytest.mark.skipif(shutil.which("g++") is None, reason="g++ not on PATH")


def check_random_model(
    tmp_path, cell: str, b, mode: str, n: int, seed: int = 0, backend="Vitis", **kw
) -> dict:
    """Random artifact with n sequences -> hls4ml project -> C-sim; asserts integer equality."""
    from hw.hls.project import build_graph, compare

    art = random_artifact(cell, b=b, mode=mode, n_vectors=n, seed=seed, **kw)
    tag = f"{cell}_{b}_{mode}_{seed}"
    graph = build_graph(art, tmp_path / tag, backend=backend)
    graph.compile()
    res = compare(graph, art.vectors)
    ref_y = np.asarray(art.vectors["y"])
    # the outputs must carry information (not all equal), else equality would prove little
    assert len(np.unique(ref_y.reshape(n, -1), axis=0)) > 1
    bad = np.flatnonzero(np.any((res["y"] != ref_y).reshape(n, -1), axis=1))
    assert res["mismatches"] == 0, f"{tag}: sequences {bad[:10]} differ from the reference"
    assert_comparison_is_live(graph, art.vectors)
    return res


def assert_comparison_is_live(graph, vectors: dict) -> None:
    """compare() on the same C-simulation with one output of the last sequence off by one LSB reports exactly
    that sequence: the equality above compared every sequence's outputs."""
    from hw.hls.project import compare

    wrong = np.array(vectors["y"], dtype=np.int64)
    wrong.reshape(len(wrong), -1)[-1, -1] += 1
    res = compare(graph, {**vectors, "y": wrong})
    assert (res["mismatches"], res["mismatched_values"]) == (1, 1)
