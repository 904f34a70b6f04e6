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


@cocotb.test()
async def mv_unit_back_to_back(dut):
    """Pairs of instructions (case k, then k + 1) where the second starts in the first cycle the unit takes
    it: `accept` high (fft after fft: ahead, once the first one's input spectra are stored, into the pending
    slot; else beside the first one's drain, its last group handed over and its lanes selected, after an fft
    instruction only an fft one), else the cycle after the first one's done pulse. Checks: both
    instructions' outputs and write addresses in order, one done pulse each, the second start where
    hw/cycles.py's next_mv_start puts it and each start to done as its mv_schedule counts it."""
    from hw import cycles

    p = tbutil.params()
    B, P = p["B"], p["P"]
    with open(p["cases"]) as fh:
        cases = json.load(fh)
    ports = [(dut.ra, dut.rd)], (dut.we, dut.waddr, dut.wdata)
    mem = tbutil.Memory(B, p["DW"], p["rl"], *ports, seed=p["seed"] + 1)
    dut.start.value = 0
    dut.ins.value = 0
    await tbutil.start(dut)
    await FallingEdge(dut.clk)
    errors = {"values": [], "addresses": [], "done": [], "cycles": []}
    pairs = 0
    for k in range(len(cases) - 1):
        pair = [dict(cases[k], src=0, dst=512), dict(cases[k + 1], src=64, dst=640)]
        for c in pair:
            mem.load(c["src"], c["x"])
        first, second = (c["ins"] for c in pair)
        first_s = cycles.mv_schedule(first, P, B, 0)  # cycles from the first start
        want_gap = cycles.next_mv_start(first_s, second)
        second_s = cycles.mv_schedule(second, P, B, want_gap, first_s)
        want_cycles = [first_s["free"] - 1, second_s["free"] - 1 - want_gap]  # start to done
        limit = 2 * (cycles.instr_cycles(first, P, B) + cycles.instr_cycles(second, P, B)) + 40
        first_write = len(mem.writes)
        starts, dones = [], []

        async def tick(dones=dones):  # one cycle: a done pulse seen in it, the memory model, the next edge
            if int(dut.done.value):
                dones.append(mem.cycle)
            mem.step()
            await FallingEdge(dut.clk)

        for i, c in enumerate(pair):
            # the controller holds ins and the base addresses through the cycle after the start
            dut.ins.value = isa.encode(c["ins"])
            dut.src_base.value = c["src"]
            dut.dst_base.value = c["dst"]
            if i == 1:  # wait for the unit: accept, or idle (the cycle after the first done pulse)
                while not (int(dut.accept.value) or dones) and mem.cycle < starts[0] + limit:
                    await tick()
            dut.start.value = 1
            starts.append(mem.cycle)
            await tick()
            dut.start.value = 0
            await tick()
            dut.ins.value = 0
        while len(dones) < 2 and mem.cycle < starts[0] + limit:
            await tick()
        for _ in range(GAP + 4):
            await tick()
        what = f"pair {k} ({pair[0]['name']} | {pair[1]['name']})"
        pairs += 1
        addrs = [a for _, a in mem.writes[first_write:]]
        want_addrs = [c["dst"] + i for c in pair for i in range(c["ins"]["pb"])]
        if addrs != want_addrs:
            errors["addresses"].append(f"{what}: writes to {addrs}")
        for c in pair:
            got = np.array([mem.words.get(c["dst"] + i, [None] * B) for i in range(c["ins"]["pb"])])
            if not np.array_equal(got, np.array(c["want"])):
                errors["values"].append(f"{what}: {c['name']} output differs")
        if len(dones) != 2:
            errors["done"].append(f"{what}: done pulses at {dones}")
            continue
        for i, c in enumerate(pair):
            seen = dones[i] - starts[i]
            if seen != want_cycles[i]:
                errors["cycles"].append(f"{what}: {c['name']} start to done {seen}, model {want_cycles[i]}")
        if starts[1] - starts[0] != want_gap + p.get("cycle_offset", 0):
            errors["cycles"].append(
                f"{what}: second start {starts[1] - starts[0]} cycles after the first, model {want_gap}"
            )
    with open(p["result"] + ".b2b.json", "w") as fh:
        json.dump({"pairs": pairs, **{k: len(v) for k, v in errors.items()}}, fh)
    for kind, errs in errors.items():
        for e in errs[:5]:
            dut._log.error("%s: %s", kind, e)
    assert not any(errors.values()), {k: len(v) for k, v in errors.items()}
