"""cocotb test of fxp_requant (combinational) against fixedpoint.requant over random and edge inputs."""

from __future__ import annotations

import cocotb
import numpy as np
import tbutil
from cocotb.triggers import Timer

from compress import fixedpoint as fx


@cocotb.test()
async def requant_matches_reference(dut):
    p = tbutil.params()
    IW, OW, SHL = p["IW"], p["OW"], p["SHL"]
    rng = np.random.default_rng(p["seed"])
    lim = 1 << (IW - 1)
    edge = [-lim, lim - 1, 0, 1, -1, (1 << (OW - 1)) - 1, -(1 << (OW - 1)), 1 << (OW - 1)]
    # random magnitudes on a log scale so every shift sees in-range and saturating values
    mags = np.exp2(rng.uniform(0, IW - 1, p["n"])).astype(np.int64)
    xs = np.concatenate([edge, mags * rng.choice([-1, 1], p["n"]), rng.integers(-lim, lim, p["n"])])
    xs = np.clip(xs, -lim, lim - 1)
    shifts = sorted(
        {-SHL, -min(SHL, 1), 0, 1, 2, IW - 1, IW, IW + 1, 63, *rng.integers(-SHL, 64, 6).tolist()}
    )
    for sh in shifts:
        for bits in sorted({1, 2, OW - 1, OW, *rng.integers(1, OW + 1, 2).tolist()}):
            want = fx.requant(xs, sh, 0, bits)
            dut.sh.value = sh
            dut.bits.value = bits
            for x, w in zip(xs, want, strict=True):
                dut.x.value = tbutil.pack([x], IW)
                await Timer(1, unit="ns")
                got = tbutil.unpack(int(dut.y.value), OW, 1)[0]
                assert got == int(w), f"x={x} sh={sh} bits={bits}: rtl {got} != ref {w}"
