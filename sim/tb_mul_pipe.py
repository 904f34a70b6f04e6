"""cocotb test of mul_pipe (hw/rtl/mul_pipe.sv): one signed product per cycle, exact, a fixed latency.

$TB_PARAMS: AW, BW (operand widths), n (random pairs), seed, lat (the latency the check expects).
"""

from __future__ import annotations

import itertools
import random

import cocotb
import tbutil
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge


def operands(width: int, rng: random.Random, n: int) -> list[int]:
    """Extremes, chunk boundaries (17-bit chunks) and random values of a signed `width`-bit operand."""
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    edge = {lo, hi, 0, 1, -1, lo + 1, hi - 1}
    for k in range(17, width - 1, 17):  # around every chunk boundary
        edge |= {(1 << k) - 1, 1 << k, -(1 << k), -(1 << k) - 1}
    rand = [rng.randint(lo, hi) for _ in range(n)]
    return sorted(v for v in edge if lo <= v <= hi) + rand


@cocotb.test()
async def mul_pipe_matches_product(dut):
    p = tbutil.params()
    AW, BW, lat = p["AW"], p["BW"], p["lat"]
    rng = random.Random(p["seed"])
    ea, eb = operands(AW, rng, 0), operands(BW, rng, 0)
    pairs = list(itertools.product(ea, eb))  # every extreme against every extreme
    pairs += [(a, b) for a, b in zip(operands(AW, rng, p["n"]), operands(BW, rng, p["n"]), strict=False)]
    rng.shuffle(pairs)
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    await FallingEdge(dut.clk)
    got = []
    for k in range(len(pairs) + lat):  # a new pair every cycle; y of pair k is read lat cycles later
        a, b = pairs[k] if k < len(pairs) else (0, 0)
        dut.a.value = tbutil.pack([a], AW)
        dut.b.value = tbutil.pack([b], BW)
        await FallingEdge(dut.clk)
        if k >= lat - 1 and len(got) < len(pairs):
            got.append(tbutil.unpack(int(dut.y.value), AW + BW, 1)[0])
    bad = [(a, b, g) for (a, b), g in zip(pairs, got, strict=True) if g != a * b]
    if bad:
        a, b, g = bad[0]
        raise AssertionError(f"{len(bad)} of {len(pairs)} wrong, first a={a} b={b}: rtl {g} != {a * b}")
