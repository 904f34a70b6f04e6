"""cocotb test of rnn_core running a whole model: AXI4-Stream in/out with random stalls, integer equality.

Inputs come from $TB_PARAMS (JSON): vectors (npz path with x_int, lengths, y), lane/format info, stall
probabilities, reset test; writes per-vector latencies and outputs to `result` (JSON path).
"""

from __future__ import annotations

import json

import cocotb
import numpy as np
import tbutil
from cocotb.triggers import ClockCycles, FallingEdge


def _beats(x_int, length, b, in_words):
    """AXI beats (lane values, last) of one sequence: ceil(F/b) zero-padded words per step."""
    out = []
    F = x_int.shape[1]
    for t in range(length):
        v = np.zeros(in_words * b, dtype=np.int64)
        v[:F] = x_int[t]
        for w in range(in_words):
            out.append((v[w * b : (w + 1) * b], t == length - 1 and w == in_words - 1))
    return out


class Port:
    """Drives s_axis and m_axis at falling edges; transfers happen at the next rising edge."""

    def __init__(self, dut, p):
        self.dut, self.p = dut, p
        self.stall_in = tbutil.Stall(p["stall_in"], p["seed"])
        self.stall_out = tbutil.Stall(p["stall_out"], p["seed"] + 1)
        self.cycle = 0

    async def run_sequence(self, beats, n_out_beats, max_cycles):
        """Send beats, collect n_out_beats; returns (out words, lasts, in_last_cycle, out_last_cycle)."""
        dut, p = self.dut, self.p
        b = p["B"]
        i = 0
        outs, lasts = [], []
        t_in = t_out = None
        start = self.cycle
        while len(outs) < n_out_beats:
            await FallingEdge(dut.clk)
            self.cycle += 1
            if self.cycle - start > max_cycles:
                raise AssertionError(
                    f"timeout: {len(outs)} of {n_out_beats} output beats after {max_cycles} cycles"
                )
            valid = i < len(beats) and not self.stall_in()
            if valid:
                dut.s_axis_tdata.value = tbutil.pack(beats[i][0], p["BA"])
                dut.s_axis_tlast.value = int(beats[i][1])
            dut.s_axis_tvalid.value = int(valid)
            take_in = valid and int(dut.s_axis_tready.value)
            ready = not self.stall_out()
            dut.m_axis_tready.value = int(ready)
            if ready and int(dut.m_axis_tvalid.value):
                outs.append(tbutil.unpack(int(dut.m_axis_tdata.value), p["BO"], b))
                lasts.append(int(dut.m_axis_tlast.value))
                if lasts[-1]:
                    t_out = self.cycle
            if take_in:
                if beats[i][1]:
                    t_in = self.cycle
                i += 1
        return outs, lasts, t_in, t_out


@cocotb.test()
async def model_matches_reference(dut):
    p = tbutil.params()
    vec = np.load(p["vectors"])
    x_int, lengths, y = vec["x_int"], vec["lengths"], vec["y"]
    b, in_words, out_words, O = p["B"], p["in_words"], p["out_words"], p["O"]
    dut.s_axis_tvalid.value = 0
    dut.s_axis_tlast.value = 0
    dut.s_axis_tdata.value = 0
    dut.m_axis_tready.value = 0
    await tbutil.start(dut)
    port = Port(dut, p)
    max_cycles = p.get("max_cycles", 2_000_000)
    if p.get("reset_test"):
        # start a sequence, cut it (input half sent or in the middle of the computation), reset, go on
        beats = _beats(x_int[0], int(lengths[0]), b, in_words)
        cut = beats[: max(1, len(beats) // 2)] if p["reset_test"] == "input" else beats
        for data, last in cut:
            await FallingEdge(dut.clk)
            dut.s_axis_tdata.value = tbutil.pack(data, p["BA"])
            dut.s_axis_tlast.value = int(last)
            dut.s_axis_tvalid.value = 1
            while not int(dut.s_axis_tready.value):
                await FallingEdge(dut.clk)
        await FallingEdge(dut.clk)
        dut.s_axis_tvalid.value = 0
        await ClockCycles(dut.clk, p.get("reset_after", 7))
        dut.rst.value = 1
        await ClockCycles(dut.clk, 2)
        dut.rst.value = 0
    mismatches = 0
    lat, res = [], []
    for n in range(len(lengths)):
        L = int(lengths[n])
        steps = L if p["per_step"] else 1
        outs, lasts, t_in, t_out = await port.run_sequence(
            _beats(x_int[n], L, b, in_words), steps * out_words, max_cycles
        )
        exp_last = [0] * (steps * out_words)
        exp_last[-1] = 1
        assert lasts == exp_last, f"vector {n}: TLAST pattern {lasts}"
        got = np.array(outs, dtype=np.int64).reshape(steps, out_words * b)[:, :O]
        want = y[n][:L] if p["per_step"] else y[n][None, :]
        ok = np.array_equal(got, want)
        mismatches += int(not ok)
        if not ok:
            dut._log.error("vector %d: rtl %s != reference %s", n, got.tolist(), want.tolist())
        lat.append(t_out - t_in)
        res.append(got.tolist())
    with open(p["result"], "w") as fh:
        json.dump({"latency": lat, "mismatches": mismatches, "outputs": res}, fh)
    assert mismatches == 0, f"{mismatches} of {len(lengths)} vectors differ"
