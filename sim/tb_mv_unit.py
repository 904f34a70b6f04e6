"""cocotb test of mv_unit (hw/rtl/mv_unit.sv), instruction by instruction.

$TB_PARAMS: B, P, DW, rl (the memory model's read latency), seed, cases (JSON path: per MV instruction its
fields, src/dst block addresses, input blocks x and the reference's output blocks want, computed by the
pytest side from compress.fixedpoint), result (JSON path for the error counts), cycle_offset (a defect
injected into the cycle check). The data memory is modelled here (tbutil.Memory); the weights are the
module's own ROM (W_INIT). Checks per instruction: every output block, the write addresses (dst + 0 .. pb-1
in order), one done pulse, and the cycles from start to done against hw/cycles.py.
"""

from __future__ import annotations

import json

import cocotb
import numpy as np
import tbutil
from cocotb.triggers import FallingEdge

from hw.rtl import isa

GAP = 2  # idle cycles between done and the next start: rnn_core's FETCH and DECODE


async def run_one(dut, mem, ins: dict, src: int, dst: int, limit: int) -> dict:
    """Start one instruction, run to its done pulse (and a few cycles after); the cycles and writes seen."""
    dut.src_base.value = src
    dut.dst_base.value = dst
    # after done: no write and no second done
    return await tbutil.run_unit_instruction(dut, mem, isa.encode(ins), limit, GAP + 4)


@cocotb.test()
async def mv_unit_instructions(dut):
    p = tbutil.params()
    B, P = p["B"], p["P"]
    with open(p["cases"]) as fh:
        cases = json.load(fh)
    ports = [(dut.ra, dut.rd)], (dut.we, dut.waddr, dut.wdata)
    mem = tbutil.Memory(B, p["DW"], p["rl"], *ports, seed=p["seed"])
    dut.start.value = 0
    dut.ins.value = 0
    await tbutil.start(dut)
    await FallingEdge(dut.clk)
    errors = {"values": [], "addresses": [], "done": [], "cycles": []}
    for k, c in enumerate(cases):
        ins = c["ins"]
        pb = ins["pb"]
        what = f"case {k} {c['name']}"
        mem.load(c["src"], c["x"])
        model = tbutil.unit_cycles(ins, P, B)
        r = await run_one(dut, mem, ins, c["src"], c["dst"], 2 * model + 20)
        addrs = [a for _, a in r["writes"]]
        if addrs != [c["dst"] + i for i in range(pb)]:
            errors["addresses"].append(f"{what}: writes to {addrs}")
        got = np.array([mem.words.get(c["dst"] + i, [None] * B) for i in range(pb)])
        want = np.array(c["want"])
        if not np.array_equal(got, want):
            i, r_ = (int(v) for v in np.argwhere(got != want)[0])
            errors["values"].append(f"{what}: block {i} row {r_}: rtl {got[i, r_]} != ref {want[i, r_]}")
        if len(r["dones"]) != 1:
            errors["done"].append(f"{what}: done pulses at {r['dones']}")
            continue
        if r["writes"] and r["writes"][-1][0] >= r["dones"][0]:
            errors["done"].append(f"{what}: a write at or after done ({r['writes'][-1][0]}, {r['dones'][0]})")
        seen = r["dones"][0] - r["start"]
        if seen != model + p.get("cycle_offset", 0):
            errors["cycles"].append(
                f"{what}: start to done {seen} != instr_cycles - {tbutil.CORE_CYCLES_AROUND_UNIT} = {model}"
            )
    with open(p["result"], "w") as fh:
        json.dump({"instructions": len(cases), **{k: len(v) for k, v in errors.items()}}, fh)
    for kind, errs in errors.items():
        for e in errs[:5]:
            dut._log.error("%s: %s", kind, e)
    assert not any(errors.values()), {k: len(v) for k, v in errors.items()}
