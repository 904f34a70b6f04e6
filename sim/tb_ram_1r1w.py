"""cocotb test of ram_1r1w (hw/rtl/ram_1r1w.sv) against a Python model of the memory.

First every address is read once, in a random order, with no write (we = 0, the other write inputs random):
the words of the INIT file must come back. Then `n` cycles of random traffic: a write with random segment
enables (none, some, all) most cycles and a read every cycle, its address biased to the write address of the
same cycle (a collision when some segment is written) and of the cycle before (read right after write).

Every read must return, exactly `rl` cycles after its address was presented, the model's word at that address
before the write of the same edge; in a collision (same address, same edge, some segment written) the stored
word XOR-inverted in the segments written (the simulation's visible undefined read).

With NS read-address slices every slice gets its own address each cycle (drawn by the same rules,
independently): slice s of the read is bits [s*W/NS +: W/NS] of the word at its own address, collisions
checked per slice.

With WSRC2 a second write source (we2 ..) writes in the cycles where the first does not (random traffic on
both; the first wins when both are on).

$TB_PARAMS (JSON): W, NBE, DEPTH, NS (default 1), WSRC2 (default 0), rl (read latency the check expects),
init (the INIT file's words), n (random cycles), seed, result (JSON path written with the verdict).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

import cocotb
import tbutil
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

P_WRITE = 0.7  # a write in this fraction of the random cycles
P_COLLIDE = 0.4  # raddr = this cycle's waddr
P_AFTER = 0.2  # raddr = the previous cycle's waddr
# the module's $clog2(DEPTH): slice s reads at raddr[s*AW +: AW]
AW = max(1, (tbutil.params().get("DEPTH", 2) - 1).bit_length())


@dataclass
class Cycle:
    """The inputs of one clock edge."""

    we: int
    wbe: int
    waddr: int
    wdata: int
    raddr: tuple[int, ...]  # one address per read slice
    second: tuple[int, int, int, int] = (0, 0, 0, 0)  # the second source's we2, wbe2, waddr2, wdata2


class Model:
    """The memory: words by address, segment-enabled writes, reads before the same edge's write."""

    def __init__(self, width: int, nbe: int, words: list[int], wreg: int = 0, ns: int = 1):
        self.seg = width // nbe
        self.nbe = nbe
        self.words = list(words)
        self.wreg = wreg  # 1: the write presented in a cycle lands at the next edge (WREG)
        self.pending = Cycle(0, 0, 0, 0, (0,) * ns)
        self.slice = [((1 << (width // ns)) - 1) << (s * (width // ns)) for s in range(ns)]

    def mask(self, wbe: int) -> int:
        """The bits of the segments enabled in wbe."""
        full = (1 << self.seg) - 1
        return sum(full << (i * self.seg) for i in range(self.nbe) if wbe >> i & 1)

    def step(self, c: Cycle) -> tuple[int, int, int]:
        """One edge: (expected read, stored word, collision mask), then the write (with WREG: the previous
        cycle's)."""
        w = self.pending if self.wreg else c
        self.pending = c
        if not w.we and w.second[0]:  # the second source writes when the first does not
            w = Cycle(*w.second, w.raddr)
        old = sum(self.words[a] & m for a, m in zip(c.raddr, self.slice, strict=True))
        hit = sum(
            self.mask(w.wbe) & m for a, m in zip(c.raddr, self.slice, strict=True) if w.we and a == w.waddr
        )
        if w.we:
            m = self.mask(w.wbe)
            self.words[w.waddr] = (self.words[w.waddr] & ~m) | (w.wdata & m)
        return old ^ hit, old, hit


def stimulus(p: dict, rng: random.Random) -> tuple[list[Cycle], int]:
    """The read-back of the INIT contents (no write), then the random cycles; returns (cycles, init count)."""
    W, NBE, DEPTH, NS = p["W"], p["NBE"], p["DEPTH"], p.get("NS", 1)
    orders = [rng.sample(range(DEPTH), DEPTH) for _ in range(NS)]  # every slice reads every INIT word once
    cycles = [
        Cycle(
            0, rng.randrange(1 << NBE), rng.randrange(DEPTH), rng.getrandbits(W), tuple(o[k] for o in orders)
        )
        for k in range(DEPTH)
    ]
    prev = rng.randrange(DEPTH)
    for _ in range(p["n"]):
        we = int(rng.random() < P_WRITE)
        wbe = (1 << NBE) - 1 if rng.random() < 0.3 else rng.randrange(1 << NBE)
        waddr = rng.randrange(DEPTH)
        second = (0, 0, 0, 0)
        if p.get("WSRC2") and rng.random() < 0.6:
            second = (1, rng.randrange(1 << NBE), rng.randrange(DEPTH), rng.getrandbits(W))
            if not we:
                waddr = second[2]  # the address written (the read biases below follow it)
        hit, after = (prev, waddr) if p.get("wreg") else (waddr, prev)  # WREG: the previous write lands now
        raddr = []
        for _ in range(NS):
            r = rng.random()
            raddr.append(hit if r < P_COLLIDE else after if r < P_COLLIDE + P_AFTER else rng.randrange(DEPTH))
        cycles.append(Cycle(we, wbe, waddr, rng.getrandbits(W), tuple(raddr), second))
        prev = waddr
    return cycles, DEPTH


def drive(dut, c: Cycle) -> None:
    """Put one cycle's inputs on the ports."""
    dut.we.value = c.we
    dut.wbe.value = c.wbe
    dut.waddr.value = c.waddr
    dut.wdata.value = c.wdata
    dut.raddr.value = sum(a << (s * AW) for s, a in enumerate(c.raddr))
    dut.we2.value, dut.wbe2.value, dut.waddr2.value, dut.wdata2.value = c.second


def sample(dut) -> int | None:
    """rdata as an integer, None while it holds X or Z."""
    v = dut.rdata.value
    return int(v) if v.is_resolvable else None


async def run_cycles(dut, cycles: list[Cycle], rl: int) -> list[int | None]:
    """Drive one cycle's inputs per falling edge; the read of cycle k is sampled rl falling edges later."""
    idle = Cycle(0, 0, 0, 0, cycles[0].raddr)
    got = []
    for k in range(len(cycles) + rl - 1):
        drive(dut, cycles[k] if k < len(cycles) else idle)
        await FallingEdge(dut.clk)
        if k >= rl - 1:
            got.append(sample(dut))
    return got


def verdict(p: dict, cycles: list[Cycle], n_init: int, got: list[int | None]) -> dict:
    """Compare every read with the model; count what the stimulus exercised."""
    model = Model(p["W"], p["NBE"], p["init"], p.get("wreg", 0), p.get("NS", 1))
    full = model.mask((1 << p["NBE"]) - 1)
    out = {"errors": [], "reads": len(got), "init_reads": n_init, "init_errors": 0, "collisions": 0}
    out.update(partial_collisions=0, writes=0, partial_writes=0, second_writes=0)
    for k, (c, g) in enumerate(zip(cycles, got, strict=True)):
        want, old, hit = model.step(c)
        out["collisions"] += bool(hit)
        out["partial_collisions"] += bool(hit) and hit != full
        out["writes"] += bool(c.we and c.wbe)
        out["second_writes"] += bool(not c.we and c.second[0] and c.second[1])
        out["partial_writes"] += bool(c.we and c.wbe) and model.mask(c.wbe) != full
        if g != want:
            kind = "init" if k < n_init else "collision" if hit else "read"
            out["init_errors"] += kind == "init"
            err = {"cycle": k, "kind": kind, "raddr": c.raddr, "got": g, "want": want, "old": old}
            out["errors"].append(err)
    return out


@cocotb.test()
async def ram_1r1w_matches_model(dut):
    p = tbutil.params()
    rng = random.Random(p["seed"])
    cycles, n_init = stimulus(p, rng)
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    drive(dut, Cycle(0, 0, 0, 0, (0,) * p.get("NS", 1)))
    await FallingEdge(dut.clk)
    got = await run_cycles(dut, cycles, p["rl"])
    v = verdict(p, cycles, n_init, got)
    with open(p["result"], "w") as f:
        json.dump(v, f)
    if v["errors"]:
        e = v["errors"][0]
        raise AssertionError(f"{len(v['errors'])} of {v['reads']} reads wrong, first {e}")
