"""cocotb test of fxp_requant against fixedpoint.requant over random and edge inputs: combinational (PIPE 0),
or pipelined (PIPE 1-3, SAT 0-2: a stream of one x per cycle, each with its own sh and bits presented a
cycle ahead, every y checked PIPE + SAT cycles later)."""

from __future__ import annotations

import cocotb
import numpy as np
import tbutil
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, Timer

from compress import fixedpoint as fx


def _stimulus(p: dict):
    """(xs, shifts, widths) of the test: edge and random x, shifts over the whole range, widths 1 .. OW."""
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
    widths = {sh: sorted({1, 2, OW - 1, OW, *rng.integers(1, OW + 1, 2).tolist()}) for sh in shifts}
    return xs, shifts, widths


@cocotb.test()
async def requant_matches_reference(dut):
    p = tbutil.params()
    IW, OW = p["IW"], p["OW"]
    xs, shifts, widths = _stimulus(p)
    if p.get("PIPE", 0):
        await _stream(dut, p, xs, shifts, widths)
        return
    for sh in shifts:
        for bits in widths[sh]:
            want = fx.requant(xs, sh, 0, bits)
            dut.sh.value = sh
            dut.bits.value = bits
            for x, w in zip(xs, want, strict=True):
                dut.x.value = tbutil.pack([x], IW)
                await Timer(1, unit="ns")
                got = tbutil.unpack(int(dut.y.value), OW, 1)[0]
                assert got == int(w), f"x={x} sh={sh} bits={bits}: rtl {got} != ref {w}"


async def _stream(dut, p: dict, xs, shifts, widths):
    """Pipelined: every (x, sh, bits) of the stimulus in a shuffled stream, one per cycle."""
    IW, OW, lat = p["IW"], p["OW"], p["PIPE"] + p.get("SAT", 0)
    rng = np.random.default_rng(p["seed"] + 1)
    words = [(int(x), sh, bits) for sh in shifts for bits in widths[sh] for x in xs]
    words = [words[i] for i in rng.permutation(len(words))]
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    await FallingEdge(dut.clk)
    dut.sh.value, dut.bits.value = words[0][1], words[0][2]
    errors = []
    for c in range(len(words) + lat):
        await FallingEdge(dut.clk)
        if c >= lat:  # y of the word presented lat cycles ago
            x, sh, bits = words[c - lat]
            got = tbutil.unpack(int(dut.y.value), OW, 1)[0]
            want = int(fx.requant(np.array([x]), sh, 0, bits)[0])
            if got != want:
                errors.append(f"x={x} sh={sh} bits={bits}: rtl {got} != ref {want}")
        if c < len(words):
            dut.x.value = tbutil.pack([words[c][0]], IW)
        if c + 1 < len(words):
            dut.sh.value, dut.bits.value = words[c + 1][1], words[c + 1][2]
    assert not errors, f"{len(errors)} of {len(words)} words differ, e.g. {errors[:3]}"
