"""cocotb test of fft_real / ifft_real against the numpy FFT primitives (integer equality, idle cycles)."""

from __future__ import annotations

import cocotb
import numpy as np
import tbutil
from cocotb.triggers import FallingEdge, RisingEdge

from compress import fixedpoint as fx


@cocotb.test()
async def fft_matches_reference(dut):
    p = tbutil.params()
    b, n, inverse = p["B"], p["n"], p["inverse"]
    rng = np.random.default_rng(p["seed"])
    m = b.bit_length() - 1
    nb = b // 2 + 1
    if not inverse:
        wi = p["WI"]
        xs = [rng.integers(-(1 << (wi - 1)), 1 << (wi - 1), b) for _ in range(n)]
        xs[0][:] = -(1 << (wi - 1))  # extreme inputs
        xs[1][:] = (1 << (wi - 1)) - 1
        expect = [fx.fft_int(x) for x in xs]
        wo = wi + m + 1
    else:
        wp, g, bz = p["WP"], p["G"], p["BZ"]
        lim = 1 << (wp - 1)
        xs = []
        for _ in range(n):
            re = rng.integers(-lim, lim, nb)
            im = rng.integers(-lim, lim, nb)
            im[0] = 0
            im[-1] = 0
            xs.append((re, im))
        expect = [fx.requant(fx.ifft_int(re, im), g + m, 0, bz) for re, im in xs]
    if inverse:
        dut.out_bits.value = p["BZ"]
    await tbutil.start(dut)
    stall = tbutil.Stall(0.3, p["seed"])
    got = []

    async def monitor():
        while True:
            await FallingEdge(dut.clk)  # sample mid-cycle (combinational outputs when PIPE=0)
            if int(dut.out_valid.value):
                if inverse:
                    got.append(tbutil.unpack(int(dut.out_y.value), p["BZ"], b))
                else:
                    re = tbutil.unpack(int(dut.out_re.value), wo, nb)
                    im = tbutil.unpack(int(dut.out_im.value), wo, nb)
                    got.append((re, im))

    cocotb.start_soon(monitor())
    i = 0
    while i < n:
        if stall():
            dut.in_valid.value = 0
        else:
            dut.in_valid.value = 1
            if inverse:
                dut.in_re.value = tbutil.pack(xs[i][0], p["WP"])
                dut.in_im.value = tbutil.pack(xs[i][1], p["WP"])
            else:
                dut.in_x.value = tbutil.pack(xs[i], wi)
            i += 1
        await RisingEdge(dut.clk)
    dut.in_valid.value = 0
    for _ in range(6 * m + 6):  # the deepest pipeline (PIPE=2: 6 per stage, 3 for the output requant)
        await RisingEdge(dut.clk)
    assert len(got) == n, f"{len(got)} outputs for {n} inputs"
    for k, (g_, e) in enumerate(zip(got, expect, strict=True)):
        if inverse:
            assert list(g_) == [int(v) for v in e], f"block {k}: rtl {g_} != ref {list(e)}"
        else:
            assert list(g_[0]) == [int(v) for v in e[0]] and list(g_[1]) == [int(v) for v in e[1]], (
                f"block {k}: rtl {g_} != ref {e}"
            )
