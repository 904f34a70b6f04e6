"""HLS primitives (hw/hls/include/rnn2fpga) vs compress/fixedpoint.py by integer equality, one g++ build."""

from __future__ import annotations

import numpy as np
import pytest

from compress import fixedpoint as fp
from hw.hls.cpp import c_array, compile_cpp, run_ints

pytestmark = pytest.mark.skipif(__import__("shutil").which("g++") is None, reason="g++ not on PATH")

REQUANT_CASES = [
    (40, 10, 3, 8),
    (40, 20, 20, 16),
    (40, 30, 13, 16),
    (24, 2, 6, 12),
    (20, 45, 0, 4),
    (34, 16, 0, 18),
]
PWL_CASES = [
    ("sigmoid", 32, 12, 16, 16),
    ("tanh", 32, 12, 16, 16),
    ("sigmoid", 8, 10, 12, 8),
    ("tanh", 64, 8, 12, 12),
    ("sigmoid", 16, 3, 8, 8),
    ("tanh", 64, 1, 6, 10),
]
MATVEC_CASES = [  # kind, n_out, n_in, b, w_bits, x_bits, z_bits, fw, fx, fz
    ("dense", 7, 5, 1, 16, 16, 16, 14, 12, 11),
    ("dense", 12, 20, 1, 8, 8, 8, 6, 5, 4),
    ("direct", 10, 13, 4, 16, 16, 16, 15, 12, 11),
    ("direct", 16, 16, 8, 12, 12, 12, 10, 9, 8),
    ("direct", 40, 33, 32, 16, 16, 16, 15, 12, 9),
    ("direct", 3, 3, 2, 8, 8, 8, 7, 6, 4),
    ("fft", 10, 13, 4, 16, 16, 16, 13, 12, 11),
    ("fft", 16, 24, 8, 16, 16, 16, 13, 12, 10),
    ("fft", 12, 12, 8, 8, 8, 8, 5, 6, 4),
    ("fft", 3, 5, 2, 12, 12, 12, 10, 9, 8),
    ("fft", 40, 20, 16, 16, 16, 16, 12, 12, 9),
    ("fft", 64, 64, 32, 16, 16, 16, 11, 12, 8),
]
N_VEC = 6


def _rand(rng, bits, shape, scale=1.0):
    lo, hi = fp.sat_bounds(bits)
    return np.clip(np.round(rng.standard_normal(shape) * scale * hi / 3), lo, hi).astype(np.int64)


def _build(rng):
    src = ['#include <cstdio>\n#include "r2f_matvec.h"\n#include "r2f_act.h"\nusing namespace r2f;\n']
    main = ["int main() {\n"]
    expected = []

    def emit_print(expr_list, n):
        main.append(
            f'  for (int i = 0; i < {n}; i++) printf("%lld ", (long long)({expr_list}).to_int64());\n'
        )
        main.append('  printf("\\n");\n')

    for ci, (w, frm, to, bits) in enumerate(REQUANT_CASES):
        lo, hi = fp.sat_bounds(w)
        v = np.concatenate([rng.integers(lo, hi, 200), [lo, hi, 0, -1, 1]])
        src.append(c_array(f"rq{ci}", f"ap_int<{w}>", v))
        emit_print(f"requant<{frm}, {to}, {bits}>(rq{ci}[i])", len(v))
        expected.append(fp.requant(v, frm, to, bits))
    for ci, (func, n, fz, bz, ba) in enumerate(PWL_CASES):
        t = fp.pwl_table(func, n, fz, ba)
        lo, hi = fp.sat_bounds(bz)
        z = np.concatenate([rng.integers(lo, hi, 300), [lo, hi, 0, -1]])
        rl = int(np.log2(t["R"]))
        src.append(
            f"struct pwl{ci} {{ static const int z_bits = {bz}, z_frac = {fz}, a_bits = {ba}, a_frac = "
            f"{t['out_frac']}, c0_bits = {ba}, c1_bits = {t['slope_bits']}, c1_frac = {t['slope_frac']}, "
            f"range_log2 = {rl}, seg_shift = {t['s']}; static const unsigned n_seg = {n}; }};\n"
        )
        src.append(c_array(f"pz{ci}", f"ap_int<{bz}>", z))
        src.append(c_array(f"pc0_{ci}", f"ap_int<{ba}>", t["c0"]))
        src.append(c_array(f"pc1_{ci}", f"ap_int<{t['slope_bits']}>", t["c1"]))
        emit_print(f"pwl<pwl{ci}>(pz{ci}[i], pc0_{ci}, pc1_{ci})", len(z))
        expected.append(fp.pwl_eval(z, t))
    # modReLU
    z = np.concatenate([_rand(rng, 16, 300), [0, -32768, 32767]])
    bm = _rand(rng, 16, z.shape, 0.3)
    src.append(c_array("mz", "ap_int<16>", z) + c_array("mb", "ap_int<16>", bm))
    emit_print("modrelu<16, 16, 12, 10, 12>(mz[i], mb[i])", len(z))
    expected.append(fp.modrelu_int(z, bm, 12, 10, 12))
    # matvecs
    for ci, (kind, n_out, n_in, b, wb, xb, zb, fw, fx, fz) in enumerate(MATVEC_CASES):
        p, q = -(-n_out // b), -(-n_in // b)
        m = fp.log2_exact(b)
        x = _rand(rng, xb, (N_VEC, n_in))
        x[0] = fp.sat_bounds(xb)[1]  # extreme inputs exercise saturation
        x[1] = fp.sat_bounds(xb)[0]
        tw_r, tw_i = fp.twiddles(max(b, 2))
        wa = wb_ = np.zeros(1, dtype=np.int64)
        if kind == "dense":
            wa = _rand(rng, wb, (n_out, n_in))
            acc = fp.dense_matvec(wa, x)
            exp = fp.requant(acc, fw + fx, fz, zb)
            kid = 0
        elif kind == "direct":
            wa = _rand(rng, wb, (p, q, b))
            exp = fp.requant(fp.circulant_matvec_direct(wa, x, n_out), fw + fx, fz, zb)
            kid = 1
        else:
            fr, fi = fp.freq_weights_float(_rand(rng, wb, (p, q, b)) * 2.0**-fw)
            wa, wb_ = fp.quantize(fr, wb, fw), fp.quantize(fi, wb, fw)
            exp = fp.circulant_matvec_fft(wa, wb_, x, n_out, fw, fx, fz, zb)
            kid = 2
        nib, nob = (q, p) if kind != "dense" else (n_in, n_out)
        src.append(
            f"struct mv{ci} {{ static const unsigned kind = {kid}, n_in = {n_in}, n_out = {n_out}, b = {b}, "
            f"log2b = {m}, n_ib = {nib}, n_ob = {nob}, "
            f"parallelism = 1; static const int w_bits = {wb}, w_frac = {fw}, x_bits = {xb}, x_frac = {fx}, "
            f"z_bits = {zb}, z_frac = {fz}, tw_bits = 18, tw_frac = 16, guard = {fp.GUARD_BITS}; }};\n"
        )
        src.append(c_array(f"mvx{ci}", f"ap_int<{xb}>", x))
        src.append(c_array(f"mwa{ci}", f"ap_int<{wb}>", wa) + c_array(f"mwb{ci}", f"ap_int<{wb}>", wb_))
        src.append(c_array(f"mtr{ci}", "ap_int<18>", tw_r) + c_array(f"mti{ci}", "ap_int<18>", tw_i))
        main.append(
            f"  for (int n = 0; n < {N_VEC}; n++) {{ ap_int<{zb}> y[{n_out}];\n"
            f"    matvec<mv{ci}>::run(mvx{ci} + n * {n_in}, y, mwa{ci}, mwb{ci}, mtr{ci}, mti{ci});\n"
            f'    for (int i = 0; i < {n_out}; i++) printf("%lld ", (long long)y[i].to_int64());\n'
            '    printf("\\n"); }\n'
        )
        expected.extend(list(exp))
    main.append("  return 0;\n}\n")
    return "".join(src + main), expected


def test_primitives_bit_exact(tmp_path):
    rng = np.random.default_rng(1234)
    src, expected = _build(rng)
    exe, _ = compile_cpp(src, tmp_path)
    got = run_ints(exe)
    assert len(got) == len(expected)
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        np.testing.assert_array_equal(g, e, err_msg=f"line {i}")
