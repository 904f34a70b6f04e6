"""A cell defined in one place runs everywhere: a minimal gated unit (MGU, Zhou et al. 2016) declared only as
a compress.cells.CellDef (plus its torch module below) is bit-exact through the integer reference, the HLS
C-simulation and the RTL simulation, and its float model equals torch.

    f = sigmoid(W_f x + U_f h + b_f),  n = tanh(W_n x + U_n (f * h) + b_n),  h' = h + f * (n - h)
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from compress import cells
from compress import reference as ref
from compress.artifact import random_artifact, random_float_model
from compress.cells import CellDef, Matrix, Vector
from tests.hls_util import check_random_model, needs_gxx


def _matrices(model, c, n_in, xin):
    H = model["hidden"]
    return {
        f"{c}.w_ih": Matrix(2 * H, n_in, xin, f"{c}.z"),
        f"{c}.w_hf": Matrix(H, H, f"{c}.h", f"{c}.z"),
        f"{c}.w_hn": Matrix(H, H, f"{c}.h", f"{c}.z"),
    }


def _step(be, c, model, x, xfmt, state):
    H, z, hf = model["hidden"], f"{c}.z", f"{c}.h"
    h = state["h"]
    ux = be.mv(f"{c}.w_ih", x, xfmt, z)
    bias = be.vec(f"{c}.b")
    f = be.act(
        "sigmoid", be.add([be.slice(ux, 0, H), be.mv(f"{c}.w_hf", h, hf, z), be.slice(bias, 0, H)], z), z
    )
    fh = be.mul(f, "act", h, hf, hf)
    zn = be.add([be.slice(ux, H, 2 * H), be.mv(f"{c}.w_hn", fh, hf, z), be.slice(bias, H, 2 * H)], z)
    n = be.requant(be.act("tanh", zn, z), "act", hf)
    hn = be.add([h, be.mul(f, "act", be.sub(n, h), hf, hf)], hf)
    return {"h": hn, "R": hn, "z": zn}


MGU = CellDef(
    "mgu",
    matrices=_matrices,
    vectors=lambda model, c: {f"{c}.b": Vector((2 * model["hidden"],), f"{c}.z")},
    tensors=lambda model, c: {f"{c}.z": "preact_bits", f"{c}.h": "act_bits"},
    state=lambda model, c: {"h": (model["hidden"], f"{c}.h"), "R": (model["hidden"], f"{c}.h")},
    step=_step,
    out_size=lambda model: model["hidden"],
)


class MGULayer(torch.nn.Module):
    """The torch module of the cell (dense weights; float model -> module)."""

    def __init__(self, fm: dict, c: str):
        super().__init__()
        dense = {k: torch.tensor(ref.dense_matrix(m)) for k, m in fm["matrices"].items() if k.startswith(c)}
        self.w_ih, self.w_hf, self.w_hn = dense[f"{c}.w_ih"], dense[f"{c}.w_hf"], dense[f"{c}.w_hn"]
        self.b = torch.tensor(np.asarray(fm["vectors"][f"{c}.b"], dtype=np.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        H = self.w_hf.shape[0]
        h = x.new_zeros(x.shape[0], H)
        for xt in x.unbind(1):
            u = xt @ self.w_ih.T + self.b
            f = torch.sigmoid(u[:, :H] + h @ self.w_hf.T)
            n = torch.tanh(u[:, H:] + (f * h) @ self.w_hn.T)
            h = h + f * (n - h)
        return h


@pytest.fixture
def mgu():
    cells.register(MGU)
    yield MGU
    cells.CELLS.pop("mgu")


def test_float_model_equals_torch(mgu):
    fm = random_float_model("mgu", input_size=5, hidden=8, b=4, seed=1)
    X = np.random.default_rng(2).uniform(-1, 1, (6, 7, 5))
    head = ref.dense_matrix(fm["matrices"]["head.w"])
    with torch.no_grad():
        h = MGULayer(fm, "l0")(torch.tensor(X)).numpy()
    want = h @ head.T + fm["vectors"]["head.b"]
    assert np.allclose(ref.run_float(fm, X)["y"], want, atol=1e-10)


@pytest.mark.parametrize("mode", ["direct", "fft"])
def test_rtl_bit_exact(mgu, mode, tmp_path):
    from hw import cycles
    from sim.model_sim import simulate

    art = random_artifact("mgu", input_size=5, hidden=16, output_size=3, b=8, mode=mode, seed=4, T=6)
    r = simulate(art, P=2, work=tmp_path, stall=0.2)
    assert r["passed"] and r["mismatches"] == 0 and len(r["outputs"]) == 4
    r = simulate(art, P=2, work=tmp_path / "nostall")
    d = r["design"]
    lat, E, ST = r["latency"], d.params["E"], d.params["ST"]
    assert cycles.cycle_errors(d.prog, 2, 8, art.vectors["lengths"], lat, E, ST) == [0] * 4


@needs_gxx
def test_hls_csim_bit_exact(mgu, tmp_path):
    check_random_model(tmp_path, "mgu", 4, "fft", n=12, seed=5, hidden=8, layers=2)


def test_reference_of_the_new_cell_is_within_its_bound(mgu):
    fm = random_float_model("mgu", input_size=5, hidden=8, b=4, seed=6)
    X = np.random.default_rng(7).uniform(-1, 1, (8, 5, 5))
    from compress.artifact import build_artifact

    art = build_artifact(
        fm,
        X,
        np.full(8, 5),
        dict(weight_bits=16, act_bits=16, preact_bits=16, cell_bits=16, pwl_segments=32, matvec_mode="fft"),
    )
    for _k, (got, v, e) in ref.run_step_bound(art, fm, X).items():
        assert np.all(np.abs(got - v) <= e + 1e-12)
