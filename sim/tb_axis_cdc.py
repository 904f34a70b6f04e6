"""cocotb test of axis_cdc (hw/rtl/axis_cdc.sv): every word and TLAST crosses once, in order, nothing else.

Two clocks (or one clock driving both sides), both resets asserted at time zero and released at different
times, cocotbext-axi AxiStreamSource on s_* (s_clk, s_rst) and AxiStreamSink on m_* (m_clk, m_rst) with
random pause generators (source idle, sink backpressure). Monitors of the handshakes on both sides (sampled
at the falling edge of each side's clock) record every transfer; after the stream, both clocks run on for
`quiet` cycles and no further word may appear.

$TB_PARAMS (JSON): W, s_ps, m_ps (clock periods in ps), m_phase_ps (delay of m_clk's first edge), same (one
clock drives both sides: s_ps, no m_phase_ps), n (words), max_frame (longest frame), seed, stall_in,
stall_out (probability that a pause starts), burst_in, burst_out (longest pause, cycles), rst_first ("s" or
"m": the side released from reset first), quiet (idle cycles after the stream), reset_alone (sides, "s" or
"m", whose reset is then pulsed alone, the other side running, each followed by a short frame), result
(JSON path written with the verdict).
"""

from __future__ import annotations

import json
import logging
import random

import cocotb
import tbutil
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, FallingEdge, Timer
from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource

RST_CYCLES = (4, 7)  # cycles of its own clock the first side, then the other, stays in reset


def bursts(p: float, burst: int, seed: int):
    """Endless pause pattern for set_pause_generator: each unpaused cycle starts, with probability p, a pause
    of 1..burst cycles (long runs of backpressure, not only single-cycle stalls)."""
    rng = random.Random(seed)
    while True:
        if rng.random() < p:
            for _ in range(rng.randint(1, burst)):
                yield True
        yield False


def paused_fraction(p: float, burst: int) -> float:
    """The long-run fraction of paused cycles of bursts(p, burst)."""
    mean = p * (burst + 1) / 2
    return mean / (1 + mean)


def make_frames(width: int, n: int, max_frame: int, rng: random.Random) -> list[list[int]]:
    """n words of `width` bits (all-zero, all-one and random) cut into frames of 1..max_frame words."""
    top = (1 << width) - 1
    words = [0, top, 1, top >> 1] + [rng.randint(0, top) for _ in range(n - 4)]
    frames, k = [], 0
    lengths = [1] + [rng.randint(1, max_frame) for _ in range(n)]  # a one-word frame first
    for length in lengths:
        if k >= n:
            break
        frames.append(words[k : k + length])
        k += length
    return frames


async def twin_clock(dut, period_ps: int) -> None:
    """One clock on both s_clk and m_clk: both written in the same time step, so one evaluation sees both
    edges (what a shared clock net does in the board top)."""
    half = period_ps // 2
    while True:
        dut.s_clk.value = 1
        dut.m_clk.value = 1
        await Timer(half, "ps")
        dut.s_clk.value = 0
        dut.m_clk.value = 0
        await Timer(period_ps - half, "ps")


async def delayed_clock(sig, period_ps: int, phase_ps: int) -> None:
    """A free-running clock whose first rising edge comes phase_ps after time zero."""
    if phase_ps:
        await Timer(phase_ps, "ps")
    await Clock(sig, period_ps, unit="ps").start()


async def release_resets(dut, first: str, s_log: list) -> int:
    """Release the `first` side's reset after RST_CYCLES[0] of its cycles, the other RST_CYCLES[1] later;
    returns how many words the source side had handed over when the destination left its reset."""
    if first not in ("s", "m"):
        raise ValueError(f"TB_PARAMS: rst_first must be 's' or 'm', not {first!r}")
    order, before = [(dut.s_clk, dut.s_rst), (dut.m_clk, dut.m_rst)], 0
    if first == "m":
        order.reverse()
    for cycles, (clk, rst) in zip(RST_CYCLES, order, strict=True):
        await ClockCycles(clk, cycles)
        await FallingEdge(clk)
        if rst is dut.m_rst:
            before = len(s_log)
        rst.value = 0
    return before


async def transfers(clk, rst, valid, ready, data, last, log: list, count_in_reset: bool) -> None:
    """Append (tdata, tlast) of every handshake (valid and ready mid-cycle, taken at the next rising edge)."""
    while True:
        await FallingEdge(clk)
        if (count_in_reset or not int(rst.value)) and int(valid.value) and int(ready.value):
            log.append((int(data.value), int(last.value)))


def compare(sent: list, got: list, what: str) -> list[str]:
    """Reasons why the words `got` differ from `sent` (lists of (tdata, tlast)); empty when equal."""
    if got == sent:
        return []
    errors = []
    if len(got) < len(sent):
        errors.append(f"{what}: missing words: {len(got)} of {len(sent)} transferred")
    if len(got) > len(sent):
        errors.append(f"{what}: extra words: {len(got)} transferred, {len(sent)} sent")
    data_s, data_g = [d for d, _ in sent], [d for d, _ in got]
    k = next((i for i, (a, b) in enumerate(zip(data_s, data_g, strict=False)) if a != b), None)
    if k is not None:
        errors.append(f"{what}: word {k} is 0x{data_g[k]:x}, sent 0x{data_s[k]:x}")
    if data_s == data_g:
        k = next(i for i, (a, b) in enumerate(zip(sent, got, strict=True)) if a != b)
        errors.append(f"{what}: tlast of word {k} is {got[k][1]}, sent {sent[k][1]}")
    return errors


class Bench:
    """Clocks, resets, the source and sink with their pause generators, and the two transfer monitors."""

    def __init__(self, dut, p):
        self.dut, self.p = dut, p
        self.same = bool(p["same"])
        self.s_ps = p["s_ps"]
        self.m_ps = self.s_ps if self.same else p["m_ps"]
        dut.s_rst.value = 0  # then 1 below: the drivers see a reset edge and stay idle until its release
        dut.m_rst.value = 0
        dut.s_clk.value = 0
        dut.m_clk.value = 0
        s_bus, m_bus = AxiStreamBus.from_prefix(dut, "s_axis"), AxiStreamBus.from_prefix(dut, "m_axis")
        self.source = AxiStreamSource(s_bus, dut.s_clk, dut.s_rst, byte_lanes=1)
        self.sink = AxiStreamSink(m_bus, dut.m_clk, dut.m_rst, byte_lanes=1)
        for end in (self.source, self.sink):
            end.log.setLevel(logging.WARNING)
        self.source.set_pause_generator(bursts(p["stall_in"], p["burst_in"], p["seed"] + 1))
        self.sink.set_pause_generator(bursts(p["stall_out"], p["burst_out"], p["seed"] + 2))
        self.s_log: list = []
        self.m_log: list = []

    async def start(self, frames) -> int:
        """Assert both resets, queue the frames, start the clock(s) and the monitors, release the resets in
        the given order; returns the words handed over before the destination's reset release."""
        dut, p = self.dut, self.p
        await Timer(1, "ps")
        dut.s_rst.value = 1
        dut.m_rst.value = 1
        await Timer(1, "ps")
        for f in frames:  # queued now: the source presents words from its first cycle out of reset
            await self.source.send(AxiStreamFrame(f))
        if self.same:
            cocotb.start_soon(twin_clock(dut, self.s_ps))
        else:
            cocotb.start_soon(delayed_clock(dut.s_clk, self.s_ps, 0))
            cocotb.start_soon(delayed_clock(dut.m_clk, self.m_ps, p.get("m_phase_ps", 0)))
        s = (dut.s_axis_tvalid, dut.s_axis_tready, dut.s_axis_tdata, dut.s_axis_tlast)
        m = (dut.m_axis_tvalid, dut.m_axis_tready, dut.m_axis_tdata, dut.m_axis_tlast)
        cocotb.start_soon(transfers(dut.s_clk, dut.s_rst, *s, self.s_log, count_in_reset=False))
        cocotb.start_soon(transfers(dut.m_clk, dut.m_rst, *m, self.m_log, count_in_reset=True))
        return await release_resets(dut, p["rst_first"], self.s_log)

    async def drain(self, n: int, limit_m_cycles: int, n_in: int | None = None) -> bool:
        """Run until n words came out, or the source is done (n_in words taken, default n) and m_axis_tvalid
        stayed low for `quiet` destination cycles (nothing left in flight), or limit_m_cycles pass; False if
        the limit stopped it."""
        idle, n_in = 0, n if n_in is None else n_in
        for _ in range(limit_m_cycles):
            if len(self.m_log) >= n:
                return True
            idle = 0 if int(self.dut.m_axis_tvalid.value) else idle + 1
            if self.source.idle() and len(self.s_log) >= n_in and idle > self.p["quiet"]:
                return True
            await FallingEdge(self.dut.m_clk)
        return False

    async def idle_both(self) -> None:
        """`quiet` cycles of the destination clock, then of the source clock."""
        await ClockCycles(self.dut.m_clk, self.p["quiet"])
        await ClockCycles(self.dut.s_clk, self.p["quiet"])

    async def reset_one_side(self, side: str, frame: list[int], limit_m_cycles: int) -> list[str]:
        """With the crossing idle, pulse one side's reset alone: nothing may come out of it; then `frame`
        must cross whole. Returns the reasons it did not."""
        dut = self.dut
        clk, rst = (dut.s_clk, dut.s_rst) if side == "s" else (dut.m_clk, dut.m_rst)
        n0 = len(self.m_log)
        await FallingEdge(clk)
        rst.value = 1
        await ClockCycles(clk, RST_CYCLES[0])
        await FallingEdge(clk)
        rst.value = 0
        await self.idle_both()
        errors = []
        if len(self.m_log) > n0:
            extra = ", ".join(f"0x{d:x}/tlast {t}" for d, t in self.m_log[n0:])
            errors.append(f"spurious words after a reset of the {side} side alone: {extra}")
        n1, s1 = len(self.m_log), len(self.s_log)
        await self.source.send(AxiStreamFrame(frame))
        if not await self.drain(n1 + len(frame), limit_m_cycles, s1 + len(frame)):
            errors.append(f"timeout after the reset of the {side} side alone")
        await self.idle_both()
        want = [(d, int(i == len(frame) - 1)) for i, d in enumerate(frame)]
        return errors + compare(want, self.m_log[n1:], f"after the reset of the {side} side alone")


@cocotb.test()
async def axis_cdc_delivers_every_word_once_in_order(dut):
    p = tbutil.params()
    rng = random.Random(p["seed"])
    frames = make_frames(p["W"], p["n"], p["max_frame"], rng)
    sent = [(d, int(i == len(f) - 1)) for f in frames for i, d in enumerate(f)]
    bench = Bench(dut, p)
    early = await bench.start(frames)
    slow = max(bench.s_ps, bench.m_ps) / bench.m_ps  # destination cycles per cycle of the slower clock
    busy = max(paused_fraction(p["stall_in"], p["burst_in"]), paused_fraction(p["stall_out"], p["burst_out"]))
    per_word = 8 * slow / (1 - busy)  # ~6 cycles a word, stalls on top
    finished = await bench.drain(len(sent), int(len(sent) * per_word * 4) + 1000)
    n_out = len(bench.m_log)
    await bench.idle_both()  # the stream has ended: nothing may follow
    errors = [] if finished else [f"timeout: {len(bench.m_log)} of {len(sent)} words after the cycle limit"]
    if early > 1:
        errors.append(f"the source handed over {early} words while the destination was in reset (1 fits)")
    errors += compare(sent, bench.s_log, "source side")  # the driver really offered the stream
    errors += compare(sent, bench.m_log[:n_out], "destination")
    if len(bench.m_log) > n_out:
        errors.append(f"{len(bench.m_log) - n_out} spurious words after the stream ended")
    got_frames = []
    while not bench.sink.empty():
        got_frames.append(list(bench.sink.recv_nowait().tdata))
    if got_frames != frames:
        errors.append(f"sink frames: {len(got_frames)} received, {len(frames)} sent, or their words differ")
    if int(dut.m_axis_tvalid.value) or not int(dut.s_axis_tready.value):
        errors.append("not idle after the stream (m_axis_tvalid high or s_axis_tready low)")
    for side in p.get("reset_alone", []):  # two rounds each: after an odd and an even number of words
        for frame in ([sent[0][0]], [d for d, _ in sent[1:4]]):
            errors += await bench.reset_one_side(side, frame, int(len(frame) * per_word * 4) + 1000)
    result = {"errors": errors, "sent": len(sent), "received": len(bench.m_log), "frames": len(frames)}
    result["before_m_release"] = early
    result["sim_ns"] = get_sim_time("ns")
    with open(p["result"], "w") as fh:
        json.dump(result, fh)
    assert not errors, "; ".join(errors)
    dut._log.info("%d words in %d frames crossed in %.0f ns", len(sent), len(frames), result["sim_ns"])
