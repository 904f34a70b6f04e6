"""cocotb test of ew_unit (hw/rtl/ew_unit.sv), instruction by instruction, against compress.fixedpoint.

Every ALU op (ADD with nb/zb/zc, MUL, REQ, PWL, MODRELU) over random operands of the full data width, its
saturation edges included, for several word counts n; the data memory is modelled here (tbutil.Memory, read
latency RL). Checks per instruction: every written word, the write addresses (d_base + 0 .. n-1 in order), one
done pulse, and the cycles from start to done against hw/cycles.py.
$TB_PARAMS: B, DW, N, BA, tables, ns, seed, rl (the memory model's read latency), result (JSON path for the
error counts), defect / cycle_offset (a defect injected into the checks).
"""

from __future__ import annotations

import json
import math

import cocotb
import numpy as np
import tbutil
from cocotb.triggers import FallingEdge

from compress import fixedpoint as fx
from hw import cycles
from hw.rtl import isa

GAP = 2  # idle cycles between done and the next start: rnn_core's FETCH and DECODE


def operand_words(rng, n: int, lanes: int, dw: int) -> np.ndarray:
    """(n, lanes) signed dw-bit values: the range edges, small values, log-scale and uniform magnitudes."""
    lo, hi = -(1 << (dw - 1)), (1 << (dw - 1)) - 1
    edge = np.array([lo, hi, 0, 1, -1, lo + 1, hi - 1])
    mags = np.exp2(rng.uniform(0, dw - 1, n * lanes)).astype(np.int64) * rng.choice([-1, 1], n * lanes)
    pool = np.concatenate([edge, rng.integers(-4, 5, 8), mags, rng.integers(lo, hi + 1, n * lanes)])
    return np.clip(rng.choice(pool, (n, lanes)), lo, hi)


def expected(ins: dict, a, b, c, tables: list, defect: str) -> np.ndarray:
    """The contract's result of one EW instruction on operand words a, b, c ((n, lanes) arrays)."""
    alu, sh, bits = ins["alu"], ins.get("sh", 0), ins.get("bits", 1)
    if alu == "ADD":
        vb = 0 if ins["zb"] else (-b if ins["nb"] and defect != "ignore_nb" else b)
        vc = 0 if ins["zc"] else c
        return fx.sat(a + vb + vc, bits)
    if alu == "MUL":
        return fx.requant(a * b, sh, 0, bits)
    if alu == "REQ":
        return fx.requant(a, sh, 0, bits)
    if alu == "MODRELU":
        return fx.modrelu_int(a, b, sh, 0, bits)
    return fx.pwl_eval(a, tables[ins["tsel"]])


def instructions(rng, p: dict, tables: list) -> list[dict]:
    """The instructions under test: every op and operand option, shifts and widths over their ranges."""
    DW = p["DW"]
    ns = p["ns"]
    out = []

    def bits() -> int:
        return int(rng.choice([DW, DW - 1, 1, 2, int(rng.integers(1, DW + 1))]))

    for nb, zb, zc in ((0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 0, 1), (0, 1, 1), (1, 1, 1)):
        # ADD takes no shift (rnn_isa_pkg: sat(a +- b + c, bits)): a nonzero sh field must change nothing
        out.append(dict(alu="ADD", nb=nb, zb=zb, zc=zc, sh=int(rng.integers(-DW, 64)), bits=bits()))
    for sh in (-DW, -1, 0, 1, DW - 1, DW, 2 * DW, 63, int(rng.integers(-DW, 64))):
        out.append(dict(alu="MUL", sh=sh, bits=bits()))
    for sh in (-DW, -3, 0, 1, DW - 2, 63, int(rng.integers(-DW, 64))):
        out.append(dict(alu="REQ", sh=sh, bits=bits()))
    for sh in (-DW, 0, 2, DW, 63):
        out.append(dict(alu="MODRELU", sh=sh, bits=bits()))
    N = p["N"]
    for t, tab in enumerate(tables):
        fz = tab["in_frac"]
        rl = int(math.log2(tab["R"])) + fz
        sh = tab["slope_frac"] + fz - tab["out_frac"]
        out.append(dict(alu="PWL", tsel=t, seg=tab["s"], rl=rl, sh=sh, bits=p["BA"]))
        assert tab["s"] == rl + 1 - int(math.log2(N))
    for k, ins in enumerate(out):
        ins.update(op="EW", n=ns[k % len(ns)])
        ins.setdefault("zb", 0)
        ins.setdefault("zc", 0)
        ins.setdefault("nb", 0)
    return out


async def run_one(dut, mem, ins: dict, bases: dict) -> dict:
    """Start one instruction, run to its done pulse (and a few cycles after); the cycles and writes seen."""
    for k in ("a", "b", "c", "d"):
        getattr(dut, f"{k}_base").value = bases[k]
    # after done: no write and no second done
    return await tbutil.run_unit_instruction(dut, mem, isa.encode(ins), ins["n"] + 40, GAP + 4)


@cocotb.test()
async def ew_unit_instructions(dut):
    p = tbutil.params()
    B, DW = p["B"], p["DW"]
    rng = np.random.default_rng(p["seed"])
    tables = [fx.pwl_table(func, p["N"], fz, p["BA"]) for func, fz in p["tables"]]
    mem = tbutil.Memory(
        B,
        DW,
        p["rl"],
        [(dut.ra[i], dut.rd[i]) for i in range(3)],
        (dut.we, dut.waddr, dut.wdata),
        seed=p["seed"],
    )
    dut.start.value = 0
    dut.ins.value = 0
    await tbutil.start(dut)
    await FallingEdge(dut.clk)
    errors = {"values": [], "addresses": [], "done": [], "cycles": []}
    cover = {"saturated": 0, "inside": 0}  # ALU results at a saturation bound / strictly inside
    progs = instructions(rng, p, tables)
    for k, ins in enumerate(progs):
        n = ins["n"]
        what = f"instruction {k} {ins['alu']} n={n} {ins}"
        bases = {key: int(rng.integers(0, 200)) + off for key, off in (("a", 0), ("b", 256), ("c", 512))}
        bases["d"] = bases["a"] if k % 5 == 0 else 768 + int(rng.integers(0, 200))  # in place now and then
        ops = [operand_words(rng, n, B, DW) for _ in range(3)]
        for key, words in zip("abc", ops, strict=True):
            mem.load(bases[key], words)
        want = expected(ins, *ops, tables, p.get("defect", ""))
        if ins["alu"] != "PWL":
            lo, hi = fx.sat_bounds(ins["bits"])
            cover["saturated"] += int(np.sum((want == lo) | (want == hi)))
            cover["inside"] += int(np.sum((want > lo) & (want < hi)))
        r = await run_one(dut, mem, ins, bases)
        addrs = [a for _, a in r["writes"]]
        if addrs != [bases["d"] + i for i in range(n)]:
            errors["addresses"].append(f"{what}: writes to {addrs}")
        got = np.array([mem.words.get(bases["d"] + i, [None] * B) for i in range(n)])
        if not np.array_equal(got, want):
            bad = np.argwhere(got != want)[0]
            i, lane = int(bad[0]), int(bad[1])
            errors["values"].append(
                f"{what}: word {i} lane {lane}: a={ops[0][i, lane]} b={ops[1][i, lane]} c={ops[2][i, lane]} "
                f"rtl {got[i, lane]} != ref {want[i, lane]}"
            )
        if len(r["dones"]) != 1:
            errors["done"].append(f"{what}: done pulses at {r['dones']}")
            continue
        if r["writes"] and r["writes"][-1][0] >= r["dones"][0]:
            errors["done"].append(f"{what}: a write at or after done ({r['writes'][-1][0]}, {r['dones'][0]})")
        # hw/cycles.py: EW costs 4 + n + EW_LAT alone (EW_LAT = RL + the unit's 11 stages, every op); the
        # unit's part (tbutil.unit_cycles) is n + EW_LAT + 1
        model = n + cycles.EW_LAT + 1 + p.get("cycle_offset", 0)
        seen = r["dones"][0] - r["start"]
        if not seen == model == tbutil.unit_cycles(ins, 1, B):
            errors["cycles"].append(
                f"{what}: start to done {seen}, n + EW_LAT + 1 = {model}, "
                f"instr_cycles - {tbutil.CORE_CYCLES_AROUND_UNIT} = {tbutil.unit_cycles(ins, 1, B)}"
            )
    with open(p["result"], "w") as fh:
        json.dump({"instructions": len(progs), **cover, **{k: len(v) for k, v in errors.items()}}, fh)
    for kind, errs in errors.items():
        for e in errs[:5]:
            dut._log.error("%s: %s", kind, e)
    assert not any(errors.values()), {k: len(v) for k, v in errors.items()}
