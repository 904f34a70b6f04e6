"""Analytical cycle model of the microcoded core (hw/rtl/rnn_core.sv), exact per instruction without stalls.

The core is pipelined for 100+ MHz on ECP5 (docs/rtl.md); the latencies below are those of the RTL:
- every instruction: fetch + decode (2 cycles); MV and EW add a start cycle and finish one cycle after the
  unit's done pulse; the matrix unit registers its start (it begins one cycle after it).
- EW over n words (alone): 4 + n + EW_LAT (EW_LAT = RL + 14: registered address, RL = 2 memory read latency,
  the operand register after the bank select, the unit's 12 stages; one latency for every op). EW
  instructions overlap: the controller fetches the next instruction while an EW runs, and starts another EW
  as soon as the unit has issued the previous one's last read, unless two are in flight or the new one reads
  words the one in flight still has to write (the hardware hazard check: rnn_core.sv).
- MV beside EW: the matrix unit does not block the controller either. An MV starts when the unit is idle
  (the cycle after the previous MV's done pulse), the EW unit issues no reads, and neither EW in flight writes
  its input range or the matrix-output bank (address bit 15); while it runs, an EW that reads its output
  range, writes its input range or writes that bank waits until it is idle (checked against each of the two
  MVs that may be in flight). MV after MV (`next_mv_start`): an fft one after an fft one starts ahead, once
  the last one's input spectra are stored (`pf`): it waits in the unit's pending slot with its own spectra
  loaded, and is promoted once the last one has issued its last term and handed over its first group
  (`promo`); its first term issues at max(its FFT fill, the promotion + 1 + max(1, P - K - 1)), so that its
  first hand-over follows the last one's last by at least P cycles (the drain's lane select); any other
  starts beside the last one's drain from `accept` (the cycle after `cond`, the last one's last group handed
  over and its lanes selected) unless the last one is fft and it is not; one that reads the last one's
  output starts when the unit is idle of it. IN, OUT and HALT wait until
  both units are idle. An instruction of a batch program outside its sequence's steps is skipped at decode
  (2 cycles).
- MV: row groups issue back to back (K = q circulant, q*b dense terms each; a group shorter than its lanes
  waits lanes - K cycles); a group's accumulators are handed to the drain RL + 6 cycles after its last term;
  the drain writes lane l of the group l + 8 cycles after the hand-over (direct/dense: lane select, requant
  3, saturation 2, write register) or l + 11 + 6 log2(b) (fft: P' requant 5, IFFT, output requant, the write
  register). fft: the terms start 5 + 6 log2(b) cycles
  after the start (the first input spectrum stored). The instruction ends 2 cycles after its last write.
- IN: its fetch and decode only (the sequence is timed from its last beat); OUT: 2 + 4 per word (its reads
  go through the matrix unit's read-address register); LOOP, ENDLOOP, HALT: 2.
A sequence of L steps runs the instructions after IN with every loop body repeated L times (a batch: the
instructions after the last IN, every loop body max(L) + lag times), up to the last beat of its last OUT
(`sequence_cycles` replays the controller's rules over that instruction stream; cycles per step = the cost
of one more step in the steady state). `cycle_errors` compares the model with simulated
latencies (the tests require 0).

MAC utilization (`mac_utilization`) = useful multiplications per step / (multipliers x cycles per step), over
the loop bodies of one step (the head outside the loop is left out of both). Useful multiplications are those
of the matrix-vector products of the program's MV instructions, counted per b x b block pair actually in the
matrix (pb row blocks x n input blocks; lanes of a last, partial row group are idle and not counted):
fft = b/2 + 1 complex bin MACs per block pair (the rfft bins of a real block), 4 real multiplications each;
direct = b*b per block; dense = one per matrix element (b*b per block of the padded matrix). FFT/IFFT
butterflies and element-wise products are not counted as useful. Multipliers = `multipliers()["total"]`
(matrix lanes + FFT/IFFT + element-wise lanes); `lane_utilization` divides by the matrix lanes only.
"""

from __future__ import annotations

import math

from hw.rtl.isa import ZBANK

RL = 2  # data / weight memory read latency
EW_RL = RL + 1  # element-wise operand latency: the memory and the operand register after the bank select
EW_LAT = EW_RL + 13  # element-wise issue -> write (registered address, EW_RL, 12 stages)
MV_SA = RL + 5  # issue -> accumulate stage (registered address, RL, 3 products, 2 sums)
FFT_STAGE = 6  # pipelined butterfly latency per FFT stage
ISSUE = 3  # fetch -> earliest unit start of an MV or EW: fetch, decode, hazard comparisons registered (C_HZ)
MV_ACCEPT = 2  # last group's hand-over + its lanes -> the matrix unit accepts the next MV (mv_unit `accept`)


def instr_cycles(ins: dict, P: int, b: int) -> int:
    """Cycles of one instruction (stall-free streams; IN counts its fetch and decode only)."""
    op = ins["op"]
    if op == "EW":
        return ISSUE + 2 + ins["n"] + EW_LAT
    if op == "MV":  # fetch, decode, hazard registers, start (at ISSUE), the row groups, the drain, done
        return mv_schedule(ins, P, b, ISSUE)["free"]
    if op == "OUT":
        return 2 + 4 * ins["n"]
    return 2


def mv_schedule(ins: dict, P: int, b: int, start: int, last: dict | None = None) -> dict:
    """Cycles of one MV whose start pulse (the controller's) is at cycle `start`; `last`: the schedule of the
    MV started before it (None: the unit was idle). Returns:
    first: its first term's issue; free: the first cycle with the unit idle of it (its last write + 2; its
    done pulse at free - 1); accept: the first cycle the unit takes the next MV beside its drain; cond:
    accept - 1, the cycle the unit is idle of it but for its drain; promo: the first cycle a pending
    instruction may be promoted to the issue slot (its last term issued and its first group handed over);
    pf (fft): the first cycle the unit takes the next fft MV ahead (into the pending slot: its input spectra
    stored and no longer pending itself); fft: its mode.
    An fft MV started while the last one still issues (`pf` <= start < `cond`) waits in the pending slot with
    its input spectra loaded: promoted at max(go + 1, last promo), its first term issues at max(its own fill,
    promotion + 1 + max(1, P - K - 1)) (mv_unit)."""
    m = int(math.log2(b))
    q, g, pb = ins["n"], ins["g"], ins["pb"]
    K = q * b if ins.get("dense") else q
    fft = bool(ins.get("fft")) and not ins.get("dense")
    go = start + 1
    t = go + 1 + (5 + FFT_STAGE * m if fft else 0)  # first issue: the first input spectrum stored
    fill = t
    promote = None
    if last is not None and go < last["cond"]:  # the pending slot: promoted once the last one is done issuing
        promote = max(go + 1, last["promo"])
        # and its first group waits so that its hand-over follows the last one's by at least P cycles
        t = max(t, promote + 1 + max(1, P - K - 1))
    first = t
    last_write = accept = 0
    hand_first = None
    for gi in range(g):
        lanes = min(P, pb - gi * P)
        t_last = t + K - 1
        hand = t_last + MV_SA + 1
        hand_first = hand if hand_first is None else hand_first
        first_write = hand + (11 + FFT_STAGE * m if fft else 8)
        last_write = first_write + lanes - 1
        accept = hand + lanes + MV_ACCEPT
        t = t_last + 1 + max(0, lanes - K)
    pf = None
    if fft:
        pf = fill + q - 1  # its last input spectrum stored (one per cycle from the first)
        if promote is not None:
            pf = max(pf, promote + 2)
    free = last_write + 2
    return {
        "first": first,
        "free": free,
        "accept": accept,
        "cond": accept - 1,
        "promo": max(t_last + 1, hand_first + 1),
        "pf": pf,
        "fft": fft,
        "issue": t - first,
    }


def next_mv_start(last: dict, ins: dict, reads_its_output: bool = False) -> int:
    """The first cycle the matrix unit takes MV `ins` after the MV of schedule `last` (mv_schedule): ahead
    (both fft: `pf`), beside its drain (`accept`; after an fft MV only an fft one), or once it is idle
    (`free`; always when `ins` reads its output)."""
    fft = bool(ins.get("fft")) and not ins.get("dense")
    if reads_its_output:
        return last["free"]
    if fft and last["fft"]:
        return last["pf"]
    return last["accept"] if fft or not last["fft"] else last["free"]


def batch_size(prog: list[dict]) -> int:
    """Sequences a program takes at a time (1 + the largest `seq` field)."""
    return 1 + max((int(i.get("seq", 0)) for i in prog), default=0)


def batch_groups(lengths, batch: int) -> list[list[int]]:
    """Indices of the sequences (their lengths in steps) as the host sends them to a batch-`batch` core:
    sorted by length (stable), then in consecutive groups, so sequences of similar lengths share a group (a
    group runs max(L) + lag loop passes: a 2-step sequence beside a 29-step one would leave its slot idle for
    27 passes); a short last group is filled with its own last sequence (the host sends it twice and keeps one
    result). batch 1: in the given order."""
    n = len(lengths)
    order = sorted(range(n), key=lambda i: int(lengths[i])) if batch > 1 else list(range(n))
    out = [order[k : k + batch] for k in range(0, n, batch)]
    if out and len(out[-1]) < batch:
        out[-1] += [out[-1][-1]] * (batch - len(out[-1]))
    return out


def _lengths(prog: list[dict], L) -> tuple[int, ...]:
    return tuple(int(x) for x in L) if isinstance(L, (tuple, list)) else (int(L),) * batch_size(prog)


def unrolled(prog: list[dict], L) -> list[tuple[dict, int, int, bool]]:
    """The instructions the core executes after the last IN for sequences of L steps (an int: every
    sequence of the batch; or one length per sequence), each as (ins, t, L of its sequence, runs): every LOOP
    body repeated max(L) + lag times; t is its sequence's loop counter at lag 0 (pass p: p, or L - 1 - p in
    a reverse loop); an instruction runs unless it is in a loop and 0 <= p - lag < L fails (it is skipped)."""
    Ls = _lengths(prog, L)
    start = 1 + max((k for k, ins in enumerate(prog) if ins["op"] == "IN"), default=-1)
    out: list[tuple[dict, int, int, bool]] = []
    body: list[dict] | None = None
    t = [0] * len(Ls)
    reverse, lag = False, 0
    for ins in prog[start:]:
        op = ins["op"]
        if op == "HALT":
            break
        s = int(ins.get("seq", 0))
        if op == "LOOP":
            reverse, lag = bool(ins.get("last", 0) & 1), int(ins.get("lag", 0))
            out.append((ins, t[s], Ls[s], True))
            body = []
        elif body is not None:
            body.append(ins)
            if op == "ENDLOOP":
                passes = max(Ls) + lag
                for p in range(passes):
                    t = [Lq - 1 - p if reverse else p for Lq in Ls]
                    for i in body:
                        q, lg = int(i.get("seq", 0)), int(i.get("lag", 0))
                        run = i["op"] not in ("MV", "EW", "OUT") or 0 <= p - lg < Ls[q]
                        out.append((i, t[q], Ls[q], run))
                body = None
        else:
            out.append((ins, t[s], Ls[s], True))
    return out


def _eff(ins: dict, field: str, mode: str, t: int, L: int, ST: int) -> int:
    m = ins.get(mode, 0)
    m = {"abs": 0, "t": 1, "last": 2}.get(m, m)
    return ins.get(field, 0) + (t * ST if m == 1 else (L - 1) * ST if m == 2 else 0)


def ew_operands(ins: dict) -> list[str]:
    """The operand fields an EW instruction reads: a always, b for ADD/MUL/MODRELU unless zero, c for ADD
    unless zero (the hazard check's operands; hw/rtl/program.py packs buffers by the same rule)."""
    alu = ins.get("alu")
    out = ["a"]
    if not ins.get("zb") and alu in ("ADD", "MUL", "MODRELU"):
        out.append("b")
    if not ins.get("zc") and alu == "ADD":
        out.append("c")
    return out


def _reads(ins: dict, t: int, L: int, E: int, ST: int) -> list[int]:
    """First data-memory word (of E blocks) of each operand an EW reads (the hazard check's operands)."""
    return [_eff(ins, f, f + "mode", t, L, ST) // E for f in ew_operands(ins)]


def _entry(ins: dict, t: int, start: int, first: int, end: int, issue: int) -> dict:
    """One `schedule` row: the unit's start pulse, its first issue, the cycle the unit is idle of it (MV:
    free; EW: idle), the cycles its issue takes (MV: the row groups, a short group's wait included; EW: n)."""
    return {
        "op": ins["op"],
        "note": ins.get("note", ""),
        "seq": int(ins.get("seq", 0)),
        "t": t,
        "start": start,
        "first": first,
        "end": end,
        "issue": issue,
    }


def schedule(prog: list[dict], P: int, b: int, L, E: int = 1, ST: int = 1) -> list[dict]:
    """Every MV and EW the controller runs for sequences of L steps, in program order, with the cycles
    `sequence_cycles` replays (`_entry`): where the cycles of a step go (`python -m hw.cycles --trace`)."""
    trace: list[dict] = []
    _replay(prog, P, b, L, E, ST, trace)
    return trace


def matrix_gaps(trace: list[dict]) -> list[tuple[int, int]]:
    """(first cycle, cycles) of every stretch in which the matrix unit issues no term, between the first and
    the last MV of a schedule (its MVs issue one after another: first .. first + issue)."""
    mvs = [r for r in trace if r["op"] == "MV"]
    out = []
    for a, c in zip(mvs, mvs[1:], strict=False):
        end = a["first"] + a["issue"]
        if c["first"] > end:
            out.append((end, c["first"] - end))
    return out


def _hits(lo: int, hi: int, hlo: int, hhi: int) -> bool:
    return lo < hhi and hlo < hi


def _replay(prog: list[dict], P: int, b: int, L, E: int, ST: int, trace: list | None = None) -> int:
    """Cycle (from the one after the last input beat) at which the last OUT ends: the controller's rules.
    trace: a list that gets one entry per MV and EW run (`schedule`)."""
    T = 0  # fetch cycle of the next instruction
    ews: list[dict] = []  # started EWs: ready (next start allowed), idle (no longer in flight), dst, n
    # the last two MVs (mvs[-1] the last started): their mv_schedule and input / output ranges
    idle_unit = {"free": 0, "accept": 0, "cond": 0, "promo": 0, "pf": None, "fft": False}
    mvs: list[dict] = [{**idle_unit, "src": (0, 0), "dst": (0, 0)}]
    end = T
    for ins, t, Lq, run in unrolled(prog, L):
        op = ins["op"]
        if not run:  # skipped at decode
            T += 2
            continue
        idle = ews[-1]["idle"] if ews else 0
        if op == "EW":
            s = T + ISSUE
            n = ins["n"]
            reads = _reads(ins, t, Lq, E, ST)
            dst = _eff(ins, "dst", "dmode", t, Lq, ST) // E
            if ews:
                last = ews[-1]
                s = max(s, last["ready"])
                lo, hi = last["dst"], last["dst"] + last["n"]
                if any(_hits(r, r + n, lo, hi) for r in reads):
                    s = max(s, last["idle"])  # hazard: wait until nothing is in flight
                elif len(ews) > 1:
                    s = max(s, ews[-2]["idle"])  # at most one other in flight
            for mv in mvs[-2:]:
                if (
                    any(_hits(r, r + n, *mv["dst"]) for r in reads)
                    or _hits(dst, dst + n, *mv["src"])
                    or dst >= ZBANK // E
                ):
                    s = max(s, mv["free"])  # reads a running MV's output, writes its input or its bank
            ews.append({"ready": s + n + 1, "idle": s + instr_cycles(ins, P, b) - ISSUE, "dst": dst, "n": n})
            if trace is not None:
                trace.append(_entry(ins, t, s, s + 1, ews[-1]["idle"], n))
            T = s + 1
        elif op == "MV":
            a = _eff(ins, "a", "amode", t, Lq, ST)
            d = _eff(ins, "dst", "dmode", t, Lq, ST)
            src = (a // E, (a + ins["n"] - 1) // E + 1)
            s = max(T + ISSUE, ews[-1]["ready"] if ews else 0)
            for e in ews[-2:]:  # an EW in flight that writes the MV's input or the matrix-output bank
                if _hits(e["dst"], e["dst"] + e["n"], *src) or e["dst"] >= ZBANK // E:
                    s = max(s, e["idle"])
            if len(mvs) > 1:
                s = max(s, mvs[-2]["free"])  # at most one other MV in flight
            last = mvs[-1]
            if s < last["free"]:  # ahead of the last MV, beside its drain, or after it
                s = max(s, next_mv_start(last, ins, _hits(*src, *last["dst"])))
            sched = mv_schedule(ins, P, b, s, last if s < last["free"] else None)
            sched.update(src=src, dst=(d // E, (d + ins["pb"] - 1) // E + 1))
            mvs = [last, sched]
            if trace is not None:
                trace.append(_entry(ins, t, s, sched["first"], sched["free"], sched["issue"]))
            T = s + 1
        elif op in ("OUT", "IN", "HALT"):
            T = max(T + 1, idle, mvs[-1]["free"]) + instr_cycles(ins, P, b) - 1
            if op == "OUT":
                end = T
        else:
            T += instr_cycles(ins, P, b)
    return end


def sequence_cycles(prog: list[dict], P: int, b: int, L, E: int = 1, ST: int = 1) -> dict:
    """Cycles from the last input beat to the last output beat for sequences of L steps (an int, or one
    length per sequence of a batch program; the last output beat leaves in the last cycle of the last OUT
    instruction;
    what follows it is not counted), on a core with P matrix lanes, E element-wise words per cycle and
    sequence stride ST.

    Returns {total, per_step, batch}: per_step = the cycles one more step (of every sequence of the batch)
    adds in the steady state."""
    total = _replay(prog, P, b, L, E, ST)
    per_step = _replay(prog, P, b, 3, E, ST) - _replay(prog, P, b, 2, E, ST)
    return {"total": total, "per_step": per_step, "batch": batch_size(prog)}


def cycle_errors(prog: list[dict], P: int, b: int, lengths, latencies, E: int = 1, ST: int = 1) -> list[int]:
    """Simulated minus modelled cycles per sequence (or per batch group: lengths then holds one tuple of
    lengths per group; stall-free simulation); all 0 when the model is exact."""
    return [
        int(lat) - sequence_cycles(prog, P, b, L if isinstance(L, (tuple, list)) else int(L), E, ST)["total"]
        for L, lat in zip(lengths, latencies, strict=True)
    ]


def _loop_bodies(prog: list[dict]) -> list[dict]:
    """The instructions inside LOOP ... ENDLOOP (ENDLOOP included), once each."""
    out, inside = [], False
    for ins in prog:
        if ins["op"] == "HALT":
            break
        if ins["op"] == "LOOP":
            inside = True
        elif inside:
            out.append(ins)
            inside = ins["op"] != "ENDLOOP"
    return out


def useful_multiplications(ins: dict, b: int) -> int:
    """Multiplications one MV instruction needs (see the module docstring); 0 for any other instruction."""
    if ins["op"] != "MV":
        return 0
    blocks = ins["pb"] * ins["n"]
    if ins.get("fft") and not ins.get("dense"):
        return blocks * 4 * (b // 2 + 1)
    return blocks * b * b


def mac_utilization(prog: list[dict], params: dict) -> dict:
    """Useful multiplications per step / (multipliers x cycles per step) of a compiled program on a core with
    these parameters (B, P, E, FFT, DIRECT, DENSE); also the matrix lanes' share alone. A batch program's
    step is one step of each of its sequences (both numerator and denominator)."""
    b, P = params["B"], params["P"]
    body = _loop_bodies(prog)
    useful = sum(useful_multiplications(ins, b) for ins in body)
    cyc = sequence_cycles(prog, P, b, 1, params.get("E", 1), params.get("ST", 1))["per_step"]
    mult = multipliers(params)
    return {
        "useful_multiplications_per_step": useful,
        "cycles_per_step": cyc,
        "batch": batch_size(prog),
        "multipliers": mult["total"],
        "utilization": useful / (mult["total"] * cyc) if cyc else 0.0,
        "lane_utilization": useful / (mult["matvec"] * cyc) if cyc and mult["matvec"] else 0.0,
        "definition": "useful MV multiplications per step / (multipliers x cycles per step); hw/cycles.py",
    }


def fft_multipliers(b: int) -> int:
    """Real multipliers of one size-b FFT network as fft_dit.sv builds it: none for W = 1 and W = -j, two when
    |Re W| = |Im W|, four otherwise (per butterfly of each stage)."""
    from compress.fixedpoint import twiddles

    re, im = twiddles(b)
    n, half = 0, 1
    while half < b:
        for k in range(1, half):
            w = k * (b // (2 * half))
            if 2 * k != half:
                n += (b // (2 * half)) * (2 if abs(re[w]) == abs(im[w]) else 4)
        half *= 2
    return n


def multipliers(params: dict) -> dict:
    """Hardware multipliers of a core: matrix-vector lanes, FFT/IFFT butterflies, EW lanes (one shared ALU
    multiplier and one PWL multiplier per lane)."""
    b, P, fft = params["B"], params["P"], params["FFT"]
    nb = b // 2 + 1
    lane = 0
    ffts = 0
    if fft:
        lane += 4 * nb  # complex MAC per bin
        ffts = 2 * fft_multipliers(b)  # forward + inverse
    if params.get("DIRECT", 1):
        lane += b * b
    if params.get("DENSE", 1):
        lane += b
    ew = 2 * b * params.get("E", 1)  # MUL/MODRELU multiplier and the PWL slope multiplier per lane
    return {"matvec": P * lane, "fft": ffts, "ew": ew, "total": P * lane + ffts + ew}


def layer_report(
    input_size: int,
    hidden: int,
    projection: int,
    peepholes: bool,
    b: int,
    mode: str,
    P: int,
    E: int = 1,
    batch: int = 1,
) -> dict:
    """Cycles per time step of one LSTM layer of this shape on the core (program from a random artifact);
    batch 2: per step of each of two interleaved sequences (cycles_per_step_per_sequence)."""
    from compress.artifact import random_artifact
    from hw.rtl import program

    art = random_artifact(
        "lstm",
        input_size=input_size,
        hidden=hidden,
        output_size=b,
        b=b,
        mode=mode,
        seed=0,
        T=2,
        n_vectors=1,
        projection=projection,
        peepholes=peepholes,
    )
    d = program.compile_artifact(art, P=P, T_max=1, E=E, batch=batch)
    per_step = sequence_cycles(d.prog, P, b, 1, E, d.params["ST"])["per_step"]
    mv = sum(instr_cycles(i, P, b) for i in d.prog if i["op"] == "MV" and "head" not in i.get("note", ""))
    mv //= batch
    util = mac_utilization(d.prog, d.params)
    return {
        "input_size": input_size,
        "hidden": hidden,
        "projection": projection,
        "peepholes": peepholes,
        "b": b,
        "mode": mode,
        "P": P,
        "E": E,
        "batch": batch,
        "cycles_per_step": per_step,
        "cycles_per_step_per_sequence": per_step / batch,
        "matvec_cycles_per_step": mv,
        "multipliers": multipliers(d.params),
        "mac_utilization": util["utilization"],
        "useful_multiplications_per_step": util["useful_multiplications_per_step"],
    }


def pass_trace(prog: list[dict], P: int, b: int, E: int = 1, ST: int = 1) -> list[dict]:
    """The `schedule` rows of one steady-state pass of the program's first loop (sequences of 3 steps: from
    the second pass's first MV to the third's, in pass order also for a reverse loop), start cycles relative
    to its first row."""
    rows = schedule(prog, P, b, 3, E, ST)
    mvs = [r for r in rows if r["op"] == "MV" and r["seq"] == 0 and "head" not in r["note"]]
    steps = list(dict.fromkeys(r["t"] for r in mvs))  # in pass order (a reverse loop counts down)
    lo = next(r["start"] for r in mvs if r["t"] == steps[1])
    hi = next(r["start"] for r in mvs if r["t"] == steps[2])
    return [
        {**r, "start": r["start"] - lo, "first": r["first"] - lo, "end": r["end"] - lo}
        for r in rows
        if lo <= r["start"] < hi
    ]


def trace_table(rows: list[dict]) -> str:
    """A markdown table of pass_trace rows and the matrix unit's idle stretches between its MVs."""
    out = ["| start | first issue | end | issue cycles | op | seq | note |", "|---|---|---|---|---|---|---|"]
    out += [
        f"| {r['start']} | {r['first']} | {r['end']} | {r['issue']} | {r['op']} | {r['seq']} | {r['note']} |"
        for r in rows
    ]
    gaps = matrix_gaps(rows)
    issue = sum(r["issue"] for r in rows if r["op"] == "MV")
    out.append(
        f"\nMV issue cycles in the pass: {issue}; matrix unit idle between its MVs: "
        f"{sum(g for _, g in gaps)} cycles ({', '.join(f'{g} at {c}' for c, g in gaps) or 'none'})"
    )
    return "\n".join(out)


def lane_sweep(art, b: int, batch: int, mhz: float, T_max: int, Ps=range(1, 9), Es=(1, 2)) -> str:
    """A markdown table: a compress artifact on P lanes and E element-wise words per cycle (the default
    model's what-if): multipliers, the hw.fit ECP5 estimate, cycles per frame (one step of one sequence) at
    `batch`, MAC utilization and frames/s at `mhz`; then the bound of the whole part: every MULT18X18D of the
    ECP5-85F doing one useful multiplication every cycle at `mhz`."""
    from hw import fit
    from hw.rtl import isa, program

    rows = [
        "| P | E | multipliers | MULT18 (est.) | LUT4 (est.) | EBR (est.) | cycles/frame | MAC utilization "
        f"| frames/s at {mhz:g} MHz |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    useful = 0.0
    for E in Es:
        for P in Ps:
            d = program.compile_artifact(art, b=b, P=P, T_max=T_max, E=E, batch=batch)
            est = fit.estimate_ecp5(d.params, isa.WIDTH)
            m = mac_utilization(d.prog, d.params)
            per_frame = m["cycles_per_step"] / m["batch"]
            useful = m["useful_multiplications_per_step"] / m["batch"]
            rows.append(
                f"| {P} | {E} | {m['multipliers']} | {est['mult18']} | {est['lut4']:,} | {est['ebr']} | "
                f"{per_frame:g} | {100 * m['utilization']:.1f} % | {mhz * 1e6 / per_frame:,.0f} |"
            )
    cells = fit.ECP5_85F["mult18"]
    rows.append(
        f"\n{useful:,.0f} useful multiplications per frame; all {cells} MULT18X18D of the ECP5-85F busy with "
        f"them every cycle at {mhz:g} MHz: {cells * mhz * 1e6 / useful:,.0f} frames/s (the part's bound)"
    )
    return "\n".join(rows)


def main(argv=None) -> int:
    """Print the Google-LSTM-shaped layer (153 inputs, 1024 cells, 512 projection, peepholes) at b=8 (--b):
    cycles per step and MAC utilization for the largest P within the multiplier budget."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m hw.cycles", description=main.__doc__)
    ap.add_argument("--multipliers", type=int, default=1000, help="multiplier budget for choosing P")
    ap.add_argument("--b", type=int, default=8)
    ap.add_argument("--batch", type=int, help="sequences interleaved (hardware.batch; default 1, --sweep 2)")
    ap.add_argument(
        "--trace",
        type=int,
        metavar="P",
        help="instead: one loop pass of the default model's shape (LSTM 12 -> 128, fft) on P lanes, "
        "instruction by instruction",
    )
    ap.add_argument(
        "--sweep",
        metavar="COMPRESS_DIR",
        help="instead: that compress artifact (e.g. build/default/compress) at P = 1..8, E = 1, 2 (--batch, "
        "--mhz): cycles per frame, MAC utilization, frames/s, the ECP5 estimate and the part's bound",
    )
    ap.add_argument("--mhz", type=float, default=100.0, help="clock for --sweep's frames/s")
    ap.add_argument("-T", type=int, default=29, help="longest sequence for --sweep")
    args = ap.parse_args(argv)
    if args.sweep:
        from compress.artifact import load_artifact

        art = load_artifact(args.sweep)
        print(lane_sweep(art, args.b, args.batch or 2, args.mhz, args.T))
        return 0
    if args.trace:
        from compress.artifact import random_artifact
        from hw.rtl import program

        art = random_artifact("lstm", input_size=12, hidden=128, output_size=9, b=args.b, mode="fft", seed=0)
        d = program.compile_artifact(art, P=args.trace, T_max=3, batch=args.batch or 1)
        print(trace_table(pass_trace(d.prog, args.trace, args.b, d.params.get("E", 1), d.params["ST"])))
        return 0
    print(
        "| mode | E | P | multipliers | cycles/step | matvec cycles/step | us/step at 200 MHz | "
        "MAC utilization |\n|---|---|---|---|---|---|---|---|"
    )
    for mode in ("direct", "fft"):
        for E in (1, 2, 4, 8):
            hw = {"B": args.b, "E": E, "FFT": int(mode == "fft"), "DIRECT": int(mode == "direct"), "DENSE": 0}
            P = 1
            while multipliers({**hw, "P": P + 1})["total"] <= args.multipliers:
                P += 1
            r = layer_report(153, 1024, 512, True, args.b, mode, P, E, args.batch or 1)
            per = r["cycles_per_step_per_sequence"]
            print(
                f"| {mode} | {E} | {P} | {r['multipliers']['total']} | {per:g} | "
                f"{r['matvec_cycles_per_step']} | {per / 200:.1f} | "
                f"{100 * r['mac_utilization']:.1f} % |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
