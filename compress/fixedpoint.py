"""Fixed-point primitives of the arithmetic contract (docs/arithmetic.md), numpy int64, no torch.

Every function here is the single implementation of one rule of the contract; the integer reference
(compress/reference.py), the artifact builder and the hardware test benches import them instead of
re-deriving. Integer arrays are np.int64. Saturation counters: pass `stats` (a dict) and `key`; `stats[key]`
is increased by the number of elements that were clamped.
"""

from __future__ import annotations

import math

import numpy as np

CONTRACT_VERSION = 1

TWIDDLE_BITS = 18  # section 5
TWIDDLE_FRAC = 16
GUARD_BITS = 4
PWL_RANGE = {"sigmoid": 8, "tanh": 4}  # section 6: R
EXACT_F64_BITS = 52  # integer matmuls whose every partial sum stays below 2^52 may run in float64 (exact)


# ------------------------------------------------------------------------------------------------ section 1
def sat_bounds(bits: int) -> tuple[int, int]:
    """(lo, hi) of a signed `bits`-bit integer."""
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def _count(stats, key: str | None, clipped: np.ndarray) -> None:
    """Add the number of clamped elements to stats[key] (a dict, or an object with .add(key, clipped))."""
    if stats is None:
        return
    if hasattr(stats, "add"):
        stats.add(key, clipped)
    else:
        stats[key] = stats.get(key, 0) + int(np.count_nonzero(clipped))


def sat(v, bits: int, stats: dict | None = None, key: str | None = None) -> np.ndarray:
    """Clamp to [-2^(bits-1), 2^(bits-1)-1] (never wrap); count clamped elements in stats[key]."""
    lo, hi = sat_bounds(bits)
    v = np.asarray(v)
    if stats is not None:
        _count(stats, key, (v < lo) | (v > hi))
    return np.clip(v, lo, hi).astype(np.int64)


def shr_round(v, s: int) -> np.ndarray:
    """Round half up then arithmetic shift: (v + 2^(s-1)) >> s for s > 0; v for s = 0; v << -s for s < 0."""
    v = np.asarray(v, dtype=np.int64)
    if s > 0:
        return (v + (np.int64(1) << np.int64(s - 1))) >> np.int64(s)
    if s == 0:
        return v
    return v << np.int64(-s)


def requant(v, from_frac: int, to_frac: int, bits: int, stats: dict | None = None, key: str | None = None):
    """sat(shr_round(v, from_frac - to_frac), bits): the only way a value changes format."""
    return sat(shr_round(v, from_frac - to_frac), bits, stats, key)


def quantize(x, bits: int, frac: int, stats: dict | None = None, key: str | None = None) -> np.ndarray:
    """Float -> int: sat(floor(x * 2^frac + 0.5), bits), in float64 (round half up)."""
    v = np.floor(np.asarray(x, dtype=np.float64) * math.ldexp(1.0, frac) + 0.5)
    lo, hi = sat_bounds(bits)
    if stats is not None:
        _count(stats, key, (v < lo) | (v > hi))
    return np.clip(v, lo, hi).astype(np.int64)


def dequantize(q, frac: int) -> np.ndarray:
    """Int -> float64 value q * 2^-frac."""
    return np.asarray(q, dtype=np.float64) * math.ldexp(1.0, -frac)


def choose_frac(maxabs: float, bits: int) -> int:
    """Calibration (section 2): frac = bits - 1 - ceil(log2(max|x|)), lowered until max|x| fits (rounded).

    max|x| = 0 (or not finite) gives frac = bits - 1.
    """
    maxabs = float(maxabs)
    if not math.isfinite(maxabs) or maxabs <= 0.0:
        return bits - 1
    frac = bits - 1 - math.ceil(math.log2(maxabs))
    hi = (1 << (bits - 1)) - 1
    while math.floor(maxabs * math.ldexp(1.0, frac) + 0.5) > hi:
        frac -= 1
    return frac


# ------------------------------------------------------------------------------------------------ section 3
def _int_matmul(a: np.ndarray, b: np.ndarray, bound_bits: int) -> np.ndarray:
    """Exact integer a @ b (int64). Uses float64 BLAS when every partial sum is below 2^52 (then exact)."""
    if bound_bits <= EXACT_F64_BITS:
        return np.rint(a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)
    return a.astype(np.int64) @ b.astype(np.int64)


def _bits_of(a: np.ndarray) -> int:
    m = int(np.max(np.abs(a))) if a.size else 0
    return max(m, 1).bit_length()


def expand_circulant(w: np.ndarray) -> np.ndarray:
    """(p, q, b) defining vectors -> (p*b, q*b) matrix, C_ij[r, c] = w_ij[(r - c) mod b] (int or float)."""
    p, q, b = w.shape
    r = np.arange(b)[:, None]
    c = np.arange(b)[None, :]
    blocks = w[:, :, (r - c) % b]  # (p, q, b, b)
    return blocks.transpose(0, 2, 1, 3).reshape(p * b, q * b)


def dense_matvec(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Exact accumulator W x for a batch: w (out, in) int, x (B, in) int -> (B, out) int64 at frac Fm + Fv."""
    bound = _bits_of(w) + _bits_of(x) + max(int(w.shape[1]), 1).bit_length()
    return _int_matmul(x, w.T, bound)


def pad_to(x: np.ndarray, n: int) -> np.ndarray:
    """Zero-pad the last axis of x to length n (never truncates)."""
    extra = n - x.shape[-1]
    if extra < 0:
        raise ValueError(f"cannot pad length {x.shape[-1]} to {n}")
    if extra == 0:
        return x
    return np.concatenate([x, np.zeros(x.shape[:-1] + (extra,), dtype=x.dtype)], axis=-1)


def circulant_matvec_direct(w: np.ndarray, x: np.ndarray, out_features: int) -> np.ndarray:
    """Direct mode: exact acc_i[r] = sum_j sum_c w_ij[(r-c) mod b] x_j[c]; x (B, in) zero-padded to q*b.

    Returns (B, out_features) int64 at frac Fm + Fv (rows beyond out_features dropped).
    """
    p, q, b = w.shape
    xp = pad_to(np.asarray(x, dtype=np.int64), q * b)
    return dense_matvec(expand_circulant(w), xp)[:, :out_features]


# ------------------------------------------------------------------------------------------------ section 5
def twiddles(b: int, bits: int = TWIDDLE_BITS, frac: int = TWIDDLE_FRAC) -> tuple[np.ndarray, np.ndarray]:
    """Quantized W_k = exp(-2 pi i k / b), k = 0 .. b/2 - 1: (re, im) int64 arrays at (bits, frac)."""
    k = np.arange(b // 2)
    ang = -2.0 * np.pi * k / b
    return quantize(np.cos(ang), bits, frac), quantize(np.sin(ang), bits, frac)


def log2_exact(b: int) -> int:
    """m with b = 2^m (raises for non powers of two)."""
    m = int(b).bit_length() - 1
    if b < 1 or (1 << m) != b:
        raise ValueError(f"FFT size must be a power of two (got {b})")
    return m


def bit_reverse(b: int) -> np.ndarray:
    """Bit-reversal permutation of 0..b-1."""
    m = log2_exact(b)
    idx = np.arange(b)
    rev = np.zeros(b, dtype=np.int64)
    for i in range(m):
        rev |= ((idx >> i) & 1) << (m - 1 - i)
    return rev


def _fft_network(re: np.ndarray, im: np.ndarray, conj: bool, tw_frac: int = TWIDDLE_FRAC):
    """Radix-2 DIT network on (..., b) complex ints already in bit-reversed order; no per-stage scaling.

    Stage s = 1..m combines pairs of size 2^(s-1) with twiddle W^(k*b/2^s):
    t = (shr_round(Wr*br - Wi*bi, Ft), shr_round(Wr*bi + Wi*br, Ft)); a' = a + t; b' = a - t.
    conj=True uses (Wr, -Wi) (inverse transform).
    """
    b = re.shape[-1]
    m = log2_exact(b)
    tw_re, tw_im = twiddles(b, TWIDDLE_BITS, tw_frac)
    if conj:
        tw_im = -tw_im
    lead = re.shape[:-1]
    for s in range(1, m + 1):
        half = 1 << (s - 1)
        size = 2 * half
        k = np.arange(half) * (b // size)
        wr, wi = tw_re[k], tw_im[k]
        r = re.reshape(lead + (b // size, size))
        i = im.reshape(lead + (b // size, size))
        ar, ai = r[..., :half], i[..., :half]
        br, bi = r[..., half:], i[..., half:]
        tr = shr_round(wr * br - wi * bi, tw_frac)
        ti = shr_round(wr * bi + wi * br, tw_frac)
        re = np.concatenate([ar + tr, ar - tr], axis=-1).reshape(lead + (b,))
        im = np.concatenate([ai + ti, ai - ti], axis=-1).reshape(lead + (b,))
    return re, im


def fft_int(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Forward integer FFT of real blocks x (..., b) at frac Fv -> (re, im) of bins 0..b/2, frac Fv."""
    x = np.asarray(x, dtype=np.int64)
    b = x.shape[-1]
    rev = bit_reverse(b)
    re, im = _fft_network(x[..., rev], np.zeros_like(x[..., rev]), conj=False)
    return re[..., : b // 2 + 1], im[..., : b // 2 + 1]


def ifft_int(pr: np.ndarray, pi: np.ndarray) -> np.ndarray:
    """Inverse integer FFT (no 1/b): half spectrum (..., b/2+1) -> real part (..., b), same frac as the input.

    The full spectrum is rebuilt by P_{b-k} = conj(P_k); the result is b times the true inverse transform.
    """
    pr = np.asarray(pr, dtype=np.int64)
    pi = np.asarray(pi, dtype=np.int64)
    nb = pr.shape[-1]
    b = 2 * (nb - 1)
    fr = np.concatenate([pr, pr[..., 1 : nb - 1][..., ::-1]], axis=-1)
    fi = np.concatenate([pi, -pi[..., 1 : nb - 1][..., ::-1]], axis=-1)
    rev = bit_reverse(b)
    re, _ = _fft_network(fr[..., rev], fi[..., rev], conj=True)
    return re


def freq_weights_float(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """FFT(w_ij) in float64 for (p, q, b) vectors -> (re, im) (p, q, b/2+1)."""
    f = np.fft.rfft(np.asarray(w, dtype=np.float64), axis=-1)
    return f.real, f.imag


def circulant_matvec_fft(
    wf_re: np.ndarray,
    wf_im: np.ndarray,
    x: np.ndarray,
    out_features: int,
    ff: int,
    fv: int,
    fz: int,
    bz: int,
    guard: int = GUARD_BITS,
    stats: dict | None = None,
    key: str | None = None,
) -> np.ndarray:
    """FFT mode (section 5): x (B, in) at fv -> term (B, out_features) at (bz, fz), already requantized.

    One FFT per input block (shared by all output rows), exact complex MAC against the quantized spectra
    wf (p, q, b/2+1) at frac ff, requant to (bz+guard+m, fz+guard), one inverse FFT per output block,
    requant by guard + m bits to (bz, fz). Saturations of both requants are counted in stats[key].
    """
    p, q, nb = wf_re.shape
    b = 2 * (nb - 1)
    m = log2_exact(b)
    xb = pad_to(np.asarray(x, dtype=np.int64), q * b).reshape(-1, q, b)
    xr, xi = fft_int(xb)  # (B, q, nb)
    pr = np.einsum("pqk,nqk->npk", wf_re, xr) - np.einsum("pqk,nqk->npk", wf_im, xi)
    pim = np.einsum("pqk,nqk->npk", wf_re, xi) + np.einsum("pqk,nqk->npk", wf_im, xr)
    pr = requant(pr, ff + fv, fz + guard, bz + guard + m, stats, key)
    pim = requant(pim, ff + fv, fz + guard, bz + guard + m, stats, key)
    y = ifft_int(pr, pim)  # (B, p, b) at fz + guard + m (b times the result)
    y = requant(y, fz + guard + m, fz, bz, stats, key)
    return y.reshape(y.shape[0], p * b)[:, :out_features]


def fft_matvec_error_bound(
    b: int,
    q: int,
    x_max: float,
    fv: int,
    wf_abs_max: float,
    ff: int,
    z_max: float,
    fz: int,
    guard: int = GUARD_BITS,
) -> float:
    """Bound (real units) on |term_fft - exact W x| of one output in FFT mode, final rounding included.

    x_max: max |x| (real), wf_abs_max: max modulus of the float weight spectra,
    z_max: max |exact output| (real).
    """
    m = log2_exact(b)
    h = math.sqrt(2.0) / 2.0
    dtw = math.sqrt(2.0) * 2.0 ** -(TWIDDLE_FRAC + 1)
    # forward FFT: error added at stage s (rounding h LSB + twiddle error on values up to 2^(s-1) x_max),
    # reaching each bin through 2^(m-s) unit-modulus paths
    ex = sum(2 ** (m - s) * (h * 2.0**-fv + dtw * 2 ** (s - 1) * x_max) for s in range(1, m + 1))
    x_bin = b * x_max + ex  # |X_k| bound
    # spectrum MAC: weight quantization (h LSB of ff per bin) and propagated FFT error; q blocks
    ep = q * (h * 2.0**-ff * x_bin + (wf_abs_max + h * 2.0**-ff) * ex)
    ep += h * 2.0 ** -(fz + guard)  # requant before the IFFT
    p_max = b * z_max + ep  # |P_k| bound (P = spectrum of the output block)
    # inverse FFT: b bins each with error ep, plus rounding/twiddle errors of its own stages; then / b
    ei = b * ep + sum(
        2 ** (m - s) * (h * 2.0 ** -(fz + guard) + dtw * 2 ** (s - 1) * p_max) for s in range(1, m + 1)
    )
    return ei / b + 2.0 ** -(fz + 1)


# ------------------------------------------------------------------------------------------------ section 6
def _func(name: str):
    if name == "sigmoid":
        return lambda x: 1.0 / (1.0 + np.exp(-x))
    if name == "tanh":
        return np.tanh
    raise ValueError(f"unknown PWL function {name!r}")


def pwl_table(func: str, n_segments: int, in_frac: int, out_bits: int) -> dict:
    """Fit the PWL table of section 6 for `func` (sigmoid | tanh) and an input of frac `in_frac`.

    Returns dict: func, R, n_segments, in_frac, s (segment shift), out_bits, out_frac (Fa = out_bits - 2),
    slope_bits (out_bits + 2), slope_frac (Fs = out_bits), c0 (N,) int64 at Fa, c1 (N,) int64 at Fs,
    fit_error (float: max error of the unquantized minimax lines) and max_error (bound incl. quantization
    and tails).
    """
    if n_segments not in (8, 16, 32, 64):
        raise ValueError(f"pwl segments must be 8, 16, 32 or 64 (got {n_segments})")
    f = _func(func)
    R = PWL_RANGE[func]
    width = 2.0 * R / n_segments
    lw = int(round(math.log2(width)))
    s = lw + in_frac
    if in_frac < -int(math.log2(R)):
        raise ValueError(f"PWL input frac {in_frac} too small: R * 2^frac must be an integer")
    fa, fs = out_bits - 2, out_bits
    c0f, c1f = np.zeros(n_segments), np.zeros(n_segments)
    fit = 0.0
    for k in range(n_segments):
        a = -R + k * width
        xs = np.linspace(a, a + width, 4097)
        ys = f(xs)
        slope = (ys[-1] - ys[0]) / width
        e = ys - (ys[0] + slope * (xs - a))
        off = 0.5 * (e.max() + e.min())
        fit = max(fit, 0.5 * (e.max() - e.min()))
        c0f[k], c1f[k] = ys[0] + off, slope
    c0 = quantize(c0f, out_bits, fa)
    c1 = quantize(c1f, out_bits + 2, fs)
    lim_lo, lim_hi = (0.0, 1.0) if func == "sigmoid" else (-1.0, 1.0)
    lsb_in = 2.0**-in_frac
    tail = max(abs(f(np.float64(-R)) - lim_lo), abs(lim_hi - f(np.float64(R - lsb_in))))
    c1_err = float(np.max(np.abs(dequantize(c1, fs) - c1f)))
    bound = fit + 2.0 ** -(fa + 1) * 2 + c1_err * width + tail
    return {
        "func": func,
        "R": R,
        "n_segments": n_segments,
        "in_frac": in_frac,
        "s": s,
        "out_bits": out_bits,
        "out_frac": fa,
        "slope_bits": out_bits + 2,
        "slope_frac": fs,
        "c0": c0,
        "c1": c1,
        "fit_error": float(fit),
        "max_error": float(bound),
    }


def pwl_eval(z: np.ndarray, table: dict, in_bits: int | None = None) -> np.ndarray:
    """Integer PWL (section 6): z at frac table['in_frac'] -> y at (out_bits, out_frac)."""
    z = np.asarray(z, dtype=np.int64)
    fz, R, s = table["in_frac"], table["R"], table["s"]
    rz = R << fz if fz >= 0 else R >> -fz
    u = np.clip(z, -rz, rz - 1) + rz
    if s >= 0:
        k = u >> np.int64(s)
        d = u - (k << np.int64(s))
    else:
        k = u << np.int64(-s)
        d = np.zeros_like(u)
    c0 = np.asarray(table["c0"], dtype=np.int64)[k]
    c1 = np.asarray(table["c1"], dtype=np.int64)[k]
    shift = table["slope_frac"] + fz - table["out_frac"]
    return sat(c0 + shr_round(c1 * d, shift), table["out_bits"])


def pwl_lines(x: np.ndarray, table: dict) -> tuple[np.ndarray, np.ndarray]:
    """The table's own lines in float64 without rounding (x a float at any precision), clamped as pwl_eval
    clamps: returns (y, k) with k the segment index of each x."""
    fz, R, s = table["in_frac"], table["R"], table["s"]
    width = 2.0 ** (s - fz)
    u = np.clip(np.asarray(x, dtype=np.float64), -R, R - 2.0**-fz) + R
    k = np.minimum(np.floor(u / width).astype(np.int64), table["n_segments"] - 1)
    c0 = dequantize(np.asarray(table["c0"], dtype=np.int64), table["out_frac"])[k]
    c1 = dequantize(np.asarray(table["c1"], dtype=np.int64), table["slope_frac"])[k]
    return c0 + c1 * (u - k * width), k


def pwl_float(x: np.ndarray, func: str) -> np.ndarray:
    """The exact function (float64) a PWL table approximates."""
    return _func(func)(np.asarray(x, dtype=np.float64))


def modrelu_int(z, b_mod, fz: int, fh: int, bh: int, stats: dict | None = None, key: str | None = None):
    """modReLU (section 6): m = |z| + b_mod (both at fz), h = requant(sign(z) * max(m, 0), fz, fh, bh)."""
    z = np.asarray(z, dtype=np.int64)
    m = np.maximum(np.abs(z) + np.asarray(b_mod, dtype=np.int64), 0)
    return requant(np.sign(z) * m, fz, fh, bh, stats, key)
