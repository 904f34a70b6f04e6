"""Shared cocotb helpers: packing of signed vectors, clock/reset, random stalls, test parameters."""

from __future__ import annotations

import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge


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


def pauses(p: float, seed: int):
    """Endless pause pattern for cocotbext-axi's set_pause_generator: paused with probability p each cycle."""
    stall = Stall(p, seed)
    while True:
        yield stall()


# rnn_core.sv runs an MV or EW instruction as FETCH, DECODE, HZ, EXEC (the unit's start cycle), then waits for
# the unit's done (the instruction's last cycle): hw/cycles.instr_cycles = ISSUE + (done - start) + 1.
def _around_unit() -> int:
    from hw import cycles

    return cycles.ISSUE + 1


CORE_CYCLES_AROUND_UNIT = _around_unit()


def unit_cycles(ins: dict, P: int, b: int) -> int:
    """Cycles from a unit's start pulse to its done pulse that hw/cycles.py counts for the instruction."""
    from hw import cycles

    return cycles.instr_cycles(ins, P, b) - CORE_CYCLES_AROUND_UNIT


class Memory:
    """Data memory model of a unit under test: words of `lanes` signed `width`-bit values by address (a dict).

    Each read port (ra, rd) returns the word addressed `rl` cycles earlier (registered block RAM outputs, read
    before the same cycle's write); the write port (we, waddr, wdata) is recorded with its cycle. Words never
    written read as random values. Call step() once per cycle, at the falling edge."""

    def __init__(self, lanes: int, width: int, rl: int, reads, write=None, seed: int = 0):
        self.lanes, self.width, self.rl = lanes, width, rl
        self.reads, self.write = reads, write
        self.words: dict[int, list[int]] = {}
        self.hist: list[list[list[int]]] = [[] for _ in reads]
        self.writes: list[tuple[int, int]] = []  # (cycle, address)
        self.cycle = 0
        self.rng = random.Random(seed)

    def word(self, addr: int) -> list[int]:
        """The word at addr (a random one, kept, when it was never written)."""
        if addr not in self.words:
            lim = 1 << (self.width - 1)
            self.words[addr] = [self.rng.randrange(-lim, lim) for _ in range(self.lanes)]
        return self.words[addr]

    def load(self, addr: int, words) -> None:
        """Store consecutive words (lists of lane values) from addr."""
        for k, w in enumerate(words):
            self.words[addr + k] = [int(v) for v in w]

    def step(self) -> None:
        """One cycle: serve every read port, then take the write port's word."""
        for (ra, rd), h in zip(self.reads, self.hist, strict=True):
            h.append(self.word(int(ra.value)))
            if len(h) > self.rl:
                rd.value = pack(h.pop(0), self.width)
        if self.write is not None and int(self.write[0].value):
            addr = int(self.write[1].value)
            self.words[addr] = unpack(int(self.write[2].value), self.width, self.lanes)
            self.writes.append((self.cycle, addr))
        self.cycle += 1


async def last_beats(clk, buses: dict, log: dict) -> None:
    """Record in log[name] the cycle (falling edges counted) of every TLAST transfer on each AXI4-Stream bus
    and count all its transfers in log[name + "_beats"] (signals are stable mid-cycle; the transfer happens
    at the next rising edge)."""
    cycle = 0
    while True:
        await FallingEdge(clk)
        cycle += 1
        for name, bus in buses.items():
            if int(bus.tvalid.value) and int(bus.tready.value):
                log[name + "_beats"] = log.get(name + "_beats", 0) + 1
                if int(bus.tlast.value):
                    log.setdefault(name, []).append(cycle)


async def run_unit_instruction(dut, mem, ins_word: int, limit: int, after: int) -> dict:
    """Pulse `start` with an encoded instruction (base addresses already on the ports), clock the memory model
    until the unit's done pulse (at most `limit` cycles), then `after` more cycles (no write and no second
    done may follow). Returns {start (cycle), dones (cycles), writes (those of this instruction)}."""
    from cocotb.triggers import FallingEdge

    dut.ins.value = ins_word
    dut.start.value = 1
    first_write = len(mem.writes)
    start = mem.cycle
    mem.step()
    await FallingEdge(dut.clk)
    dut.start.value = 0
    dones = []
    while mem.cycle < start + limit and not dones:
        if int(dut.done.value):
            dones.append(mem.cycle)
        mem.step()
        await FallingEdge(dut.clk)
    for _ in range(after):
        if int(dut.done.value):
            dones.append(mem.cycle)
        mem.step()
        await FallingEdge(dut.clk)
    return {"start": start, "dones": dones, "writes": mem.writes[first_write:]}
