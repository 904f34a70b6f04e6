"""Shared cocotb helpers: packing of signed vectors, clock/reset, random stalls, test parameters."""

from __future__ import annotations

import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge


def params() -> dict:
    """Test parameters passed by the pytest side through the TB_PARAMS environment variable (JSON)."""
    return json.loads(os.environ.get("TB_PARAMS", "{}"))


def pack(values, width: int) -> int:
    """Pack signed integers into one bit vector, element i at bits [i*width +: width]."""
    out = 0
    mask = (1 << width) - 1
    for i, v in enumerate(values):
        v = int(v)
        assert -(1 << (width - 1)) <= v < (1 << (width - 1)), f"{v} does not fit {width} bits"
        out |= (v & mask) << (i * width)
    return out


def unpack(word: int, width: int, n: int) -> list[int]:
    """Inverse of pack: n signed integers of `width` bits."""
    out = []
    mask = (1 << width) - 1
    for i in range(n):
        v = (word >> (i * width)) & mask
        if v >> (width - 1):
            v -= 1 << width
        out.append(v)
    return out


async def start(dut, rst_cycles: int = 3):
    """Start a 10 ns clock on dut.clk and pulse dut.rst (active high)."""
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    await ClockCycles(dut.clk, rst_cycles)
    dut.rst.value = 0
    await RisingEdge(dut.clk)


class Stall:
    """Random idle/backpressure pattern: busy with probability p."""

    def __init__(self, p: float, seed: int):
        self.p = p
        self.rng = random.Random(seed)

    def __call__(self) -> bool:
        return self.rng.random() < self.p
