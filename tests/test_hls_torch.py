"""The PyTorch frontend path of the hls4ml integration: R2FNet (HLS4MLModule subclasses) -> hls4ml handlers
-> the same IR layers; its C-simulation and its torch forward both equal the integer reference."""

from __future__ import annotations

import numpy as np
import pytest

from compress.artifact import random_artifact
from tests.hls_util import assert_comparison_is_live, needs_gxx

torch = pytest.importorskip("torch")


@needs_gxx
def test_torch_frontend_bit_exact(tmp_path):
    torch.set_num_threads(1)
    from hw.hls.project import compare
    from hw.hls.torch_frontend import convert

    art = random_artifact("bilstm", b=4, mode="fft", n_vectors=24, layers=2, seed=5)
    v = art.vectors
    T = v["x_int"].shape[1]
    net, graph = convert(art, tmp_path / "torch_prj", T)
    with torch.no_grad():
        y = net(torch.tensor(v["x_int"], dtype=torch.float64), torch.tensor(v["lengths"]).reshape(-1, 1))
    np.testing.assert_array_equal(y.numpy().astype(np.int64), v["y"])
    assert {layer.class_name for layer in graph.get_layers()} >= {"R2FRecurrent", "R2FHead"}
    graph.compile()
    res = compare(graph, v)
    assert res["mismatches"] == 0
    assert_comparison_is_live(graph, v)
