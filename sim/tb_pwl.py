"""cocotb test of pwl_act (one lane: combinational, or the PIPE=1 pipeline fed one input per cycle) against
compress.fixedpoint.pwl_eval over many inputs."""

from __future__ import annotations

import math

import cocotb
import numpy as np
import tbutil
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, Timer

from compress import fixedpoint as fx


@cocotb.test()
async def pwl_matches_reference(dut):
    p = tbutil.params()
    DW, BA, N = p["DW"], p["BA"], p["N"]
    rng = np.random.default_rng(p["seed"])
    if p["lat"]:
        cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    for t, (func, fz) in enumerate(p["tables"]):
        tab = fx.pwl_table(func, N, fz, BA)
        lim = 1 << (DW - 1)
        z = np.concatenate([rng.integers(-lim, lim, p["n"]), np.arange(-300, 300), [-lim, lim - 1, 0]])
        want = fx.pwl_eval(z, tab)
        dut.tsel.value = t
        dut.seg.value = tab["s"]
        dut.rl.value = int(math.log2(tab["R"])) + fz
        dut.sh.value = tab["slope_frac"] + fz - tab["out_frac"]
        if p["lat"]:
            await check_pipelined(dut, z, want, DW, p["lat"], f"{func} Fz={fz}")
            continue
        for zi, wi in zip(z, want, strict=True):
            dut.z.value = tbutil.pack([zi], DW)
            await Timer(1, unit="ns")
            got = tbutil.unpack(int(dut.y.value), DW, 1)[0]
            assert got == int(wi), f"{func} Fz={fz} z={zi}: rtl {got} != ref {wi}"


async def check_pipelined(dut, z, want, DW, lat, what):
    """One z per cycle; y of input k is read lat cycles later (the table fields settle one cycle first)."""
    await FallingEdge(dut.clk)
    got = []
    for k in range(len(z) + lat):
        dut.z.value = tbutil.pack([z[k] if k < len(z) else 0], DW)
        await FallingEdge(dut.clk)
        if k >= lat - 1 and len(got) < len(z):
            got.append(tbutil.unpack(int(dut.y.value), DW, 1)[0])
    for zi, g, wi in zip(z, got, want, strict=True):
        assert g == int(wi), f"{what} z={zi}: rtl {g} != ref {wi}"
