"""The integer reference (compress/reference.py) against the float model and the contract's error bound."""

from __future__ import annotations

import numpy as np
import pytest

from compress import fixedpoint as fx
from compress import reference as ref
from compress.artifact import build_artifact, random_float_model

CELLS = ["lstm", "gru", "enrnn", "scornn", "momentum_lstm", "bilstm"]


def _quant(bits=16, mode="direct", pwl=32):
    return dict(
        weight_bits=bits, act_bits=bits, preact_bits=bits, cell_bits=bits, pwl_segments=pwl, matvec_mode=mode
    )


def _model(cell, seed=0, layers=2, b=4, per_step=False):
    kw = dict(projection=4, peepholes=True) if cell in ("lstm", "bilstm") else {}
    return random_float_model(
        cell, input_size=5, hidden=8, layers=layers, b=b, seed=seed, per_step=per_step, **kw
    )


def _data(seed=0, n=12, T=3, F=5, scale=1.0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-scale, scale, (n, T, F))
    L = rng.integers(1, T + 1, n)
    L[0] = T
    return X, L


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("mode", ["direct", "fft"])
@pytest.mark.parametrize("cell", CELLS)
def test_reference_within_predicted_error_bound(cell, mode, layers):
    fm = _model(cell, seed=3, layers=layers)
    X, L = _data(seed=1)
    art = build_artifact(fm, X, L, _quant(16, mode, pwl=64))
    ri = ref.run_int(art, X, L, record=True)
    rb = ref.run_bound(art, fm, X, L, record=True)
    rf = ref.run_float(fm, X, L)
    assert np.allclose(rb["y"], rf["y"])  # the bound backend's value part is the float model
    assert np.all(np.abs(ri["y_float"] - rb["y"]) <= rb["y_bound"] + 1e-12)
    fmts = art.manifest["formats"]
    assert set(ri["internals"]) == set(rb["internals"])
    for k, (v, e) in rb["internals"].items():
        got = fx.dequantize(ri["internals"][k], fmts[k]["frac"])
        assert np.all(np.abs(got - v) <= e + 1e-12), k
    if layers == 1:  # the bound is informative (well below the output's size), so the checks above can fail
        assert rb["y_bound"].max() < 0.2 * np.abs(rf["y"]).max()


def _step_violations(art, fm, X) -> dict:
    """Tensors where the integer reference leaves its one-step bound: {name: worst excess in LSB}."""
    out = {}
    for k, (got, v, e) in ref.run_step_bound(art, fm, X).items():
        excess = np.abs(got - v) - e
        if np.any(excess > 1e-12):
            out[k] = float(excess.max() * 2.0 ** art.manifest["formats"][k]["frac"])
    return out


def _full_length_case(cell, mode, layers):
    fm = _model(cell, seed=3, layers=layers)
    X, L = _data(seed=1)
    L[:] = X.shape[1]
    return fm, X, build_artifact(fm, X, L, _quant(16, mode, pwl=64))


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("mode", ["direct", "fft"])
@pytest.mark.parametrize("cell", CELLS)
def test_reference_within_one_step_bound(cell, mode, layers):
    """Every step from the reference's own integer state: within a bound a few LSBs wide at any depth.

    The propagated bound above grows with depth (16-57 % of max |y| on 2-layer GRU/ENRNN/scoRNN); this one
    covers one step's arithmetic with the PWL tables' own lines, so it stays tight: observed/bound max
    0.1-0.95 over these cases (direct mode 0.65-0.95, fft 0.1-0.65: the FFT bound is a worst case)."""
    fm, X, art = _full_length_case(cell, mode, layers)
    assert _step_violations(art, fm, X) == {}
    fmts = art.manifest["formats"]
    for k, (_, _v, e) in ref.run_step_bound(art, fm, X).items():
        lsb = 2.0 ** -fmts[k]["frac"]
        full_scale = 2.0 ** (fmts[k]["bits"] - 1)  # in LSBs
        assert np.median(e) <= full_scale / 256 * lsb, (k, np.median(e) / lsb)


@pytest.mark.parametrize("mode,lsbs", [("direct", 1), ("fft", 16)])
@pytest.mark.parametrize("cell", CELLS)
def test_one_step_bound_catches_a_corrupted_integer(cell, mode, lsbs, monkeypatch):
    """Injected defect: one element of the second layer's pre-activation off by `lsbs` LSBs at every step."""
    fm, X, art = _full_length_case(cell, mode, layers=2)
    good = ref.IntBackend.add

    def corrupted(self, terms, dest, key=None):
        y = good(self, terms, dest, key)
        if dest.startswith("l1") and dest.endswith(".z"):
            y = y.copy()
            y[..., 0] += lsbs
        return y

    monkeypatch.setattr(ref.IntBackend, "add", corrupted)
    assert _step_violations(art, fm, X)


@pytest.mark.parametrize("cell", CELLS)
def test_fft_and_direct_modes_agree_closely(cell):
    fm = _model(cell, seed=7)
    X, L = _data(seed=2)
    rd = ref.run_int(build_artifact(fm, X, L, _quant(16, "direct")), X, L)
    af = build_artifact(fm, X, L, _quant(16, "fft"))
    rf = ref.run_int(af, X, L)
    rb = ref.run_bound(af, fm, X, L)
    rbd = ref.run_bound(build_artifact(fm, X, L, _quant(16, "direct")), fm, X, L)
    assert np.all(np.abs(rd["y_float"] - rf["y_float"]) <= rb["y_bound"] + rbd["y_bound"] + 1e-12)


@pytest.mark.parametrize("cell", CELLS)
def test_batch_equals_one_sequence_at_a_time(cell):
    """Hardware runs one sequence for exactly its length: batched reference == one at a time."""
    fm = _model(cell, seed=3)
    X, L = _data(seed=3, n=5, T=5)
    art = build_artifact(fm, X, L, _quant(12, "fft"))
    batch = ref.run_int(art, X, L, record=True)
    for n in range(len(X)):
        one = ref.run_int(art, X[n : n + 1, : L[n]], L[n : n + 1], record=True)
        assert np.array_equal(one["y"][0], batch["y"][n])
        for k, v in one["internals"].items():
            assert np.array_equal(v[0], batch["internals"][k][n, : L[n]]), k


def test_forced_overflow_saturates_and_is_counted():
    """LSTM whose cell state grows ~1 per step: calibrated on 3 steps, run 24 -> c must clamp, not wrap."""
    fm = random_float_model("lstm", input_size=5, hidden=8, b=4, seed=4)
    H = 8
    bias = np.zeros(4 * H)
    bias[: 3 * H] = 8.0  # i, f ~ 1, g ~ 1: c_t ~ t
    fm["vectors"]["l0.b"] = bias
    X, _ = _data(seed=4, n=6, T=24, scale=0.1)
    L = np.full(len(X), 24)
    art = build_artifact(fm, X[:, :3], np.full(len(X), 3), _quant(8, "direct", 16))
    ri = ref.run_int(art, X, L, record=True)
    rf = ref.run_float(fm, X, L, record=True)
    fc = art.manifest["formats"]["l0.c"]
    lo, hi = fx.sat_bounds(fc["bits"])
    c_int, c_float = ri["internals"]["l0.c"], rf["internals"]["l0.c"]
    over = c_float > 2 * hi * 2.0 ** -fc["frac"]
    assert over.any() and ri["sat"]["l0.c"] >= int(over.sum())
    assert np.all(c_int[over] == hi)  # clamped at the top; a wrap-around would turn negative
    for k, v in ri["internals"].items():
        lo_k, hi_k = fx.sat_bounds(art.manifest["formats"][k]["bits"])
        assert v.min() >= lo_k and v.max() <= hi_k, k
    assert np.all(ri["internals"]["l0.h"][:, 3:] > 0)  # h = o * tanh(c) stays positive


def test_input_saturation_is_counted_per_valid_step():
    fm = _model("gru", seed=8, layers=1)
    X, L = _data(seed=8)
    art = build_artifact(fm, X, L, _quant(8, "direct"))
    f = art.manifest["formats"]["x"]["frac"]
    big = np.zeros_like(X)
    big[:, 0, 0] = 1e6  # one saturating input per sequence, at t = 0 (always valid)
    big[:, -1, 1] = 1e6  # and one at the last step (valid only for full-length sequences)
    ri = ref.run_int(art, big, L)
    assert ri["sat"]["x"] == len(X) + int(np.sum(L == X.shape[1]))
    assert fx.quantize(big, 8, f).max() == 127


def test_reference_is_deterministic_and_per_step_head():
    fm = _model("gru", seed=5, per_step=True)
    X, _ = _data(seed=5, T=4)
    L = np.full(len(X), 4)
    art = build_artifact(fm, X, L, _quant(12, "fft"))
    a, b = ref.run_int(art, X, L), ref.run_int(art, X, L)
    assert a["y"].shape == (len(X), 4, 3)
    assert np.array_equal(a["y"], b["y"]) and a["sat"] == b["sat"]


def test_dense_models_without_circulant_matrices():
    fm = random_float_model("lstm", b=None, seed=6)
    X, L = _data(seed=6)
    for mode in ("direct", "fft"):  # fft mode with only dense matrices is the direct computation
        art = build_artifact(fm, X, L, _quant(16, mode))
        assert all(m["structure"] == "dense" for m in art.manifest["matrices"].values())
        ys = ref.run_int(art, X, L)["y"]
        if mode == "direct":
            y_direct = ys
    assert np.array_equal(ys, y_direct)


@pytest.mark.slow
@pytest.mark.parametrize("b", [2, 8, 16, 32])
@pytest.mark.parametrize("mode", ["direct", "fft"])
@pytest.mark.parametrize("cell", CELLS)
def test_bound_matrix_larger_models(cell, mode, b):
    """Larger sizes that are not multiples of b (padding everywhere), every block size, 12-bit."""
    kw = dict(projection=6, peepholes=True) if cell in ("lstm", "bilstm") else {}
    fm = random_float_model(cell, input_size=7, hidden=40, output_size=5, layers=2, b=b, seed=b, n2=9, **kw)
    X, L = _data(seed=b, n=8, T=4, F=7)
    art = build_artifact(fm, X, L, _quant(12, mode, pwl=32))
    ri = ref.run_int(art, X, L, record=True)
    rb = ref.run_bound(art, fm, X, L, record=True)
    assert np.all(np.abs(ri["y_float"] - rb["y"]) <= rb["y_bound"] + 1e-12)
    for k, (v, e) in rb["internals"].items():
        got = fx.dequantize(ri["internals"][k], art.manifest["formats"][k]["frac"])
        assert np.all(np.abs(got - v) <= e + 1e-12), k
