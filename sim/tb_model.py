"""cocotb test of rnn_core running a whole model: AXI4-Stream in/out with random stalls, integer equality.

The streams are cocotbext-axi's AxiStreamSource (s_axis) and AxiStreamSink (m_axis), one frame per sequence
(TLAST on its last beat), with pause generators for the stall probabilities. Inputs come from $TB_PARAMS
(JSON): vectors (npz path with x_int, lengths, y), lane/format info, stall probabilities, reset test; writes
per-vector latencies (the cycle of the last output beat minus that of the last input beat; per group of
`batch` sequences for a batch core: hw.cycles.batch_groups) and outputs to `result` (JSON path).
"""

from __future__ import annotations

import json
import logging

import cocotb
import numpy as np
import tbutil
from cocotb.triggers import ClockCycles, FallingEdge, SimTimeoutError, with_timeout
from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource

from hw.cycles import batch_groups

CLOCK_NS = 10  # tbutil.start's clock period


def _beats(x_int, length, b, in_words, BA):
    """AXI beats (packed lane values) of one sequence: ceil(F/b) zero-padded words per step."""
    out = []
    F = x_int.shape[1]
    for t in range(length):
        v = np.zeros(in_words * b, dtype=np.int64)
        v[:F] = x_int[t]
        out += [tbutil.pack(v[w * b : (w + 1) * b], BA) for w in range(in_words)]
    return out


class Streams:
    """s_axis source and m_axis sink (cocotbext-axi, reset with the core), their stalls and a TLAST timer."""

    def __init__(self, dut, p):
        self.dut, self.p = dut, p
        self.s_bus = AxiStreamBus.from_prefix(dut, "s_axis")
        self.m_bus = AxiStreamBus.from_prefix(dut, "m_axis")
        self.source = AxiStreamSource(self.s_bus, dut.clk, dut.rst, byte_lanes=1)
        self.sink = AxiStreamSink(self.m_bus, dut.clk, dut.rst, byte_lanes=1)
        for end in (self.source, self.sink):
            end.log.setLevel(logging.WARNING)  # not a line per frame
        self.stall_source(p["seed"])
        self.sink.set_pause_generator(tbutil.pauses(p["stall_out"], p["seed"] + 1))
        self.log: dict = {}
        cocotb.start_soon(tbutil.last_beats(dut.clk, {"in": self.s_bus, "out": self.m_bus}, self.log))

    def stall_source(self, seed: int) -> None:
        self.source.pause = False
        self.source.set_pause_generator(tbutil.pauses(self.p["stall_in"], seed))

    async def run_sequence(self, beats, n_out_beats, max_cycles):
        """Send one sequence, receive its result frame; returns (out words, in_last_cycle, out_last_cycle)."""
        outs, t_in, t_out = await self.run_group([beats], [n_out_beats], max_cycles)
        return outs[0], t_in, t_out

    async def run_group(self, beats_list, n_out_list, max_cycles):
        """Send a batch's sequences one after the other (one frame each), receive their result frames in the
        same order; returns (out words per sequence, last input beat's cycle, last output beat's cycle)."""
        p = self.p
        for beats in beats_list:
            await self.source.send(AxiStreamFrame(beats))
        outs = []
        for n_out_beats in n_out_list:
            try:
                frame = await with_timeout(self.sink.recv(), max_cycles * CLOCK_NS, "ns")
            except SimTimeoutError:
                raise AssertionError(f"timeout: no complete output frame after {max_cycles} cycles") from None
            words = list(frame.tdata)
            assert len(words) == n_out_beats, f"TLAST after {len(words)} output beats, not {n_out_beats}"
            outs.append([tbutil.unpack(w, p["BO"], p["B"]) for w in words])
        return outs, self.log["in"][-1], self.log["out"][-1]

    async def cut_sequence(self, beats, n_beats: int) -> None:
        """Send the first n_beats of a sequence and hold the rest back (the source paused, not reset)."""
        dut = self.dut
        self.source.clear_pause_generator()
        await self.source.send(AxiStreamFrame(beats))
        sent = 0
        while sent < n_beats:
            await FallingEdge(dut.clk)
            sent += int(dut.s_axis_tvalid.value) and int(dut.s_axis_tready.value)
        self.source.pause = True  # seen at the rising edge of this transfer: no further beat


@cocotb.test()
async def model_matches_reference(dut):
    p = tbutil.params()
    vec = np.load(p["vectors"])
    x_int, lengths, y = vec["x_int"], vec["lengths"], vec["y"]
    b, in_words, out_words, O = p["B"], p["in_words"], p["out_words"], p["O"]
    dut.rst.value = 1
    streams = Streams(dut, p)
    await tbutil.start(dut)
    max_cycles = p.get("max_cycles", 2_000_000)
    if p.get("reset_test"):
        # start a sequence, cut it (input half sent or in the middle of the computation), reset, go on
        beats = _beats(x_int[0], int(lengths[0]), b, in_words, p["BA"])
        if p["reset_test"] == "input":
            await streams.cut_sequence(beats, max(1, len(beats) // 2))
        else:
            await streams.source.send(AxiStreamFrame(beats))
            await streams.source.wait()
        await ClockCycles(dut.clk, p.get("reset_after", 7))
        dut.rst.value = 1  # the source and sink drop their frames with the core
        await ClockCycles(dut.clk, 2)
        dut.rst.value = 0
        streams.stall_source(p["seed"] + 2)
    out_before = streams.log.get("out_beats", 0)
    mismatches = 0
    lat, res = [], {}
    n_beats = 0
    for group in batch_groups(lengths, p.get("batch", 1)):
        steps = [int(lengths[n]) if p["per_step"] else 1 for n in group]
        n_beats += sum(steps) * out_words
        outs, t_in, t_out = await streams.run_group(
            [_beats(x_int[n], int(lengths[n]), b, in_words, p["BA"]) for n in group],
            [k * out_words for k in steps],
            max_cycles,
        )
        for pos, (n, k, o) in enumerate(zip(group, steps, outs, strict=True)):
            got = np.array(o, dtype=np.int64).reshape(k, out_words * b)[:, :O]
            want = y[n][: int(lengths[n])] if p["per_step"] else y[n][None, :]
            ok = np.array_equal(got, want)
            mismatches += int(not ok)
            if not ok:
                dut._log.error("vector %d: rtl %s != reference %s", n, got.tolist(), want.tolist())
            if n not in group[:pos]:  # a repeated vector (odd count) is compared, reported once
                res[n] = got.tolist()
        lat.append(t_out - t_in)
    await ClockCycles(dut.clk, 20)
    extra = streams.log.get("out_beats", 0) - out_before - n_beats
    with open(p["result"], "w") as fh:
        json.dump({"latency": lat, "mismatches": mismatches, "outputs": [res[n] for n in sorted(res)]}, fh)
    assert mismatches == 0, f"{mismatches} of {len(lengths)} vectors differ"
    assert extra == 0, f"{extra} output beats beyond the result frames"
