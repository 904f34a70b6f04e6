"""Primitives of the arithmetic contract (compress/fixedpoint.py): rounding, saturation, FFT, matvecs, PWL."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compress import fixedpoint as fx


@given(st.integers(-(2**40), 2**40), st.integers(-8, 20))
@settings(max_examples=300, deadline=None)
def test_shr_round_is_round_half_up(v, s):
    got = int(fx.shr_round(np.int64(v), s))
    if s >= 0:
        want = (v + (1 << (s - 1))) // (1 << s) if s > 0 else v  # floor(v / 2^s + 1/2) in exact integers
        assert got == want
        # round half up: the result is within half an LSB, ties go up
        assert -(2 ** (s - 1) if s else 0) <= v - got * 2**s <= (2 ** (s - 1) if s else 0)
        if s > 0 and (v % (1 << s)) == (1 << (s - 1)):
            assert got * 2**s > v
    else:
        assert got == v * 2 ** (-s)


def test_round_half_up_on_negative_ties():
    # -1.5 -> -1, -2.5 -> -2, 1.5 -> 2, 2.5 -> 3 (half up, not half away from zero, not half even)
    assert list(fx.shr_round(np.array([-3, -5, 3, 5]), 1)) == [-1, -2, 2, 3]
    assert list(fx.quantize([-1.5, -2.5, 1.5, 2.5], 8, 0)) == [-1, -2, 2, 3]


def test_sat_and_requant_saturate_never_wrap():
    stats = {}
    v = np.array([-(2**20), -129, -128, 0, 127, 128, 2**20])
    assert list(fx.sat(v, 8, stats, "k")) == [-128, -128, -128, 0, 127, 127, 127]
    assert stats["k"] == 4
    r = fx.requant(np.array([2**30, -(2**30), 2**10]), 10, 0, 8, stats, "r")
    assert list(r) == [127, -128, 1]
    assert stats["r"] == 2


@given(st.floats(1e-6, 1e6), st.integers(4, 24))
@settings(max_examples=200, deadline=None)
def test_choose_frac_fits_and_is_maximal(m, bits):
    f = fx.choose_frac(m, bits)
    hi = 2 ** (bits - 1) - 1
    assert math.floor(m * 2.0**f + 0.5) <= hi
    assert f == bits - 1 - math.ceil(math.log2(m)) or math.floor(m * 2.0 ** (f + 1) + 0.5) > hi


@pytest.mark.parametrize("b", [2, 4, 8, 16, 32])
def test_fft_int_close_to_numpy_and_inverse(b):
    rng = np.random.default_rng(b)
    x = rng.integers(-(2**15), 2**15, size=(20, b))
    re, im = fx.fft_int(x)
    F = np.fft.rfft(x)
    m = int(math.log2(b))
    # error bound of section 17 (forward part), in LSBs
    h, dtw = math.sqrt(2) / 2, math.sqrt(2) * 2.0 ** -(fx.TWIDDLE_FRAC + 1)
    bound = sum(2 ** (m - s) * (h + dtw * 2 ** (s - 1) * 2**15) for s in range(1, m + 1))
    assert np.max(np.abs(re + 1j * im - F)) <= bound
    if b <= 4:  # only trivial twiddles: exact
        assert np.array_equal(re, np.rint(F.real)) and np.array_equal(im, np.rint(F.imag))
    y = fx.ifft_int(re, im)
    assert np.max(np.abs(y - b * x)) <= 2 * b * bound
    # bins 0 and b/2 are real
    assert not im[:, 0].any() and not im[:, -1].any()


def test_circulant_direct_equals_python_ints():
    rng = np.random.default_rng(1)
    p, q, b, rows, cols = 3, 2, 4, 10, 7
    w = rng.integers(-(2**15), 2**15, size=(p, q, b))
    x = rng.integers(-(2**15), 2**15, size=(3, cols))
    acc = fx.circulant_matvec_direct(w, x, rows)
    for n in range(3):
        xp = list(x[n]) + [0] * (q * b - cols)
        for r in range(rows):
            i, rr = divmod(r, b)
            want = sum(int(w[i, j, (rr - c) % b]) * int(xp[j * b + c]) for j in range(q) for c in range(b))
            assert acc[n, r] == want


@pytest.mark.parametrize("b,bits", [(2, 16), (4, 16), (8, 16), (16, 16), (8, 12), (32, 10)])
def test_fft_mode_vs_direct_within_documented_error(b, bits):
    rng = np.random.default_rng(b + bits)
    rows, cols = 3 * b - 1, 2 * b + 3
    p, q = -(-rows // b), -(-cols // b)
    w = rng.uniform(-0.5, 0.5, (p, q, b))
    fm = fx.choose_frac(np.abs(w).max(), bits)
    wq = fx.quantize(w, bits, fm)
    fr, fi = fx.freq_weights_float(w)
    ff = fx.choose_frac(max(np.abs(fr).max(), np.abs(fi).max()), bits)
    x = rng.uniform(-1, 1, (50, cols))
    fv = fx.choose_frac(1.0, bits)
    xq = fx.quantize(x, bits, fv)
    W = fx.expand_circulant(w)[:rows, :cols]
    zmax = float(np.max(np.abs(fx.dequantize(xq, fv)) @ np.abs(W).T))
    fz = fx.choose_frac(zmax, bits)
    stats = {}
    y_fft = fx.circulant_matvec_fft(
        fx.quantize(fr, bits, ff), fx.quantize(fi, bits, ff), xq, rows, ff, fv, fz, bits, stats=stats, key="k"
    )
    y_dir = fx.requant(fx.circulant_matvec_direct(wq, xq, rows), fm + fv, fz, bits)
    xv = fx.dequantize(xq, fv)
    bound = fx.fft_matvec_error_bound(b, q, np.abs(xv).max(), fv, np.abs(fr + 1j * fi).max(), ff, zmax, fz)
    # direct: |y_dir - W xv| <= |dW| |xv| + half an LSB
    bound_dir = np.abs(xv) @ np.abs(
        fx.expand_circulant(fx.dequantize(wq, fm) - w)[:rows, :cols]
    ).T + 2.0 ** -(fz + 1)
    diff = np.abs(fx.dequantize(y_fft, fz) - fx.dequantize(y_dir, fz))
    assert np.all(diff <= bound + bound_dir + 1e-12)
    assert np.all(np.abs(fx.dequantize(y_fft, fz) - xv @ W.T) <= bound + 1e-12)
    assert stats["k"] == 0


def test_fft_mode_saturates_instead_of_wrapping():
    b, bits = 8, 12
    w = np.full((1, 1, b), 0.99)
    ff = 8
    fr, fi = fx.freq_weights_float(w)
    x = np.full((2, b), 2047)
    x[1] = -2048
    stats = {}
    y = fx.circulant_matvec_fft(
        fx.quantize(fr, bits, ff), fx.quantize(fi, bits, ff), x, b, ff, 11, 11, bits, stats=stats, key="k"
    )
    # exact result ~ +-7.9 in a format whose range is [-1, 1): every output clamps to the range ends
    assert np.all(y[0] == 2047) and np.all(y[1] == -2048)
    assert stats["k"] > 0
    yd = fx.requant(fx.circulant_matvec_direct(fx.quantize(w, bits, 11), x, b), 22, 11, bits)
    assert np.array_equal(yd, y)


@pytest.mark.parametrize("func", ["sigmoid", "tanh"])
@pytest.mark.parametrize("n", [8, 16, 32, 64])
@pytest.mark.parametrize("fz,bits", [(10, 16), (12, 16), (3, 8), (6, 12)])
def test_pwl_error_within_bound(func, n, fz, bits):
    t = fx.pwl_table(func, n, fz, bits)
    R = t["R"]
    z = np.arange(-(R + 2) * 2**fz, (R + 2) * 2**fz)  # every input of the range and beyond (tails)
    y = fx.dequantize(fx.pwl_eval(z, t), t["out_frac"])
    err = np.abs(y - fx.pwl_float(fx.dequantize(z, fz), func))
    assert err.max() <= t["max_error"] + 1e-12
    assert t["fit_error"] <= t["max_error"]
    # more segments -> better fit (the bound tracks the configured segment count)
    if n > 8:
        assert t["fit_error"] < fx.pwl_table(func, n // 2, fz, bits)["fit_error"]


def test_pwl_saturates_far_inputs_and_is_exact_at_segment_starts():
    t = fx.pwl_table("tanh", 32, 8, 16)
    y = fx.pwl_eval(np.array([-(2**15), 2**15 - 1]), t)
    assert y[0] == fx.pwl_eval(np.array([-4 * 2**8]), t)[0]
    assert y[1] == fx.pwl_eval(np.array([4 * 2**8 - 1]), t)[0]
    starts = (np.arange(32) << t["s"]) - 4 * 2**8
    assert np.array_equal(fx.pwl_eval(starts, t), t["c0"])


def test_modrelu():
    z = np.array([-100, -5, 0, 5, 100])
    h = fx.modrelu_int(z, np.full(5, -10), 4, 4, 16)
    assert list(h) == [-90, 0, 0, 0, 90]
    h = fx.modrelu_int(z, np.full(5, 3), 4, 2, 16)
    assert list(h) == [-26, -2, 0, 2, 26]  # (|z| + 3) / 4 rounded half up, sign(0) = 0
