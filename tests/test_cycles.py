"""hw.cycles.mac_utilization against hand-computed small programs (no simulation)."""

from __future__ import annotations

import pytest

from hw import cycles
from tests.published import figures

FFT8 = {"B": 8, "P": 2, "E": 1, "FFT": 1, "DIRECT": 0, "DENSE": 0}


def _prog(*body: dict) -> list[dict]:
    """IN, a head MV outside the loop, LOOP <body> ENDLOOP, OUT, HALT."""
    head = dict(op="MV", n=5, g=1, pb=1, dense=0, fft=1, note="mv head.w")
    return [
        dict(op="IN", n=1),
        dict(op="LOOP", last=0),
        *body,
        dict(op="ENDLOOP"),
        head,
        dict(op="OUT", n=1),
        dict(op="HALT"),
    ]


def test_fft_program_by_hand():
    """b=8 fft, P=2: an MV of 3 row blocks x 2 input blocks (two row groups, the second half empty) + an EW
    over 4 words + ENDLOOP; the head MV after the loop counts in neither numerator nor denominator."""
    prog = _prog(dict(op="MV", n=2, g=2, pb=3, dense=0, fft=1), dict(op="EW", n=4))
    # Pipelined core (hw/cycles.py rules; cycle 0 = the MV's fetch): start at 2, registered by the unit, which
    # begins at 3; input FFTs issue from 4 and the first term issues at 4 + 5 + 6 log2(8) = 27. Group 0 (2
    # terms, 2 lanes): last term 28, hand-over 28 + (RL + 5) + 1 = 36, writes from 36 + 11 + 6*3 = 65 to 66
    # (P' requant 5 stages, the IFFT's output register, then the write register); group 1 (1 lane) issues
    # at 29-30, hands over at 38, writes at 67; the MV ends 2 after its last write: 69 cycles, 67 after its
    # start.
    # The MV does not block the controller: the EW is fetched at 3 and decoded at 4, but it reads the MV's
    # output (words 0-2: the same addresses here) and waits until the matrix unit is idle, at 2 + 67 = 69.
    # EW over 4 words: 4 + 4 + (RL + 14) = 24 alone (the operand register after the bank select, the unit's
    # 12 stages); idle 22 after its start. ENDLOOP (2 cycles) follows; the next MV reads words the EW writes
    # and waits for it to be idle: one step = 67 (MV start to idle) + 22 (EW start to idle) = 89, MV start to
    # MV start.
    cyc = 67 + 22
    useful = 3 * 2 * (8 // 2 + 1) * 4  # block pairs x 5 complex bins x 4 real multiplications
    mults = 2 * 4 * 5 + 2 * 4 + 2 * 8  # lanes (20 each), FFT + IFFT (4 each at b=8), EW (2 per lane)
    u = cycles.mac_utilization(prog, FFT8)
    assert u["cycles_per_step"] == cyc and u["useful_multiplications_per_step"] == useful
    assert u["multipliers"] == mults
    assert u["utilization"] == pytest.approx(useful / (mults * cyc))
    assert u["lane_utilization"] == pytest.approx(useful / (2 * 4 * 5 * cyc))


def test_direct_and_dense_by_hand():
    """b=4 direct core with a dense path, P=1: a circulant MV (2 x 3 blocks, b*b each) and a dense MV
    (1 x 2 blocks, one multiplication per element)."""
    params = {"B": 4, "P": 1, "E": 1, "FFT": 0, "DIRECT": 1, "DENSE": 1}
    prog = _prog(
        dict(op="MV", n=3, g=2, pb=2, dense=0, fft=0),
        dict(op="MV", n=2, g=1, pb=1, dense=1, fft=0),
    )
    # the unit begins one cycle after its start (2): circulant (K = 3): first term at 4, g0 last term 6,
    # hand-over 6 + (RL + 5) + 1 = 14, write 14 + 8 = 22 (lane select, requant 3, saturation 2, write
    # register); g1 terms 7-9, hand-over 17, write 25; ends at 27. dense (K = 2*4 = 8 rows): terms 4-11,
    # hand-over 19, write 27, ends at 29. The matrix unit does not block the controller: the dense MV is
    # decoded while the first runs and starts the cycle the unit is idle, 27 - 2 after the first's start; it
    # is idle 29 - 2 after its own; ENDLOOP and the next fetch and decode hide under it: one step = 25 + 27.
    cyc = 25 + 27
    useful = 2 * 3 * 16 + 1 * 2 * 16
    mults = (16 + 4) + 2 * 4  # one lane: b*b direct + b dense; EW 2 per lane
    u = cycles.mac_utilization(prog, params)
    got = (u["cycles_per_step"], u["useful_multiplications_per_step"], u["multipliers"])
    assert got == (cyc, useful, mults)
    assert u["utilization"] == pytest.approx(useful / (mults * cyc))


def test_schedule_by_hand():
    """hw.cycles.schedule (`python -m hw.cycles --trace`) reports the timings computed by hand above."""
    prog = _prog(dict(op="MV", n=2, g=2, pb=3, dense=0, fft=1), dict(op="EW", n=4))
    rows = cycles.schedule(prog, FFT8["P"], 8, 2)
    mv, ew, mv2 = rows[0], rows[1], rows[2]
    # fft: first term 25 after the start (27 - 2), 2 + 2 issue cycles (group 1: 1 term, 1 lane), idle 67
    # after the start; the EW starts then, issues 4 words and is idle 22 after its start; the next MV 89 on
    assert (mv["op"], mv["first"] - mv["start"], mv["issue"], mv["end"] - mv["start"]) == ("MV", 25, 4, 67)
    assert (ew["op"], ew["start"] - mv["start"], ew["issue"], ew["end"] - ew["start"]) == ("EW", 67, 4, 22)
    assert mv2["start"] - mv["start"] == 89 and mv2["t"] == 1
    assert cycles.matrix_gaps(rows[:3]) == [(mv["first"] + 4, 89 - 4)]
    params = {"B": 4, "P": 1}
    prog = _prog(
        dict(op="MV", n=3, g=2, pb=2, dense=0, fft=0),
        dict(op="MV", n=2, g=1, pb=1, dense=1, fft=0),
    )
    circ, dense = cycles.schedule(prog, params["P"], params["B"], 1)[:2]
    # circulant: terms 2 after the start, 2 groups x 3, idle 25 after; dense starts then: 8 terms, idle 27 on
    assert (circ["first"] - circ["start"], circ["issue"], circ["end"] - circ["start"]) == (2, 6, 25)
    assert (dense["start"] - circ["start"], dense["first"] - dense["start"], dense["issue"]) == (25, 2, 8)
    assert dense["end"] - dense["start"] == 27


def test_pass_trace_of_the_default_shape():
    """One batch-2 pass of the default model's shape at P=2 (`--trace 2 --batch 2`): both sequences' MVs,
    issuing 2 x (64 + 512) cycles (input MV: 32 groups of 2 terms; recurrent MV: 32 groups of 16), every row
    inside the pass, which is as long as the model's cycles per step."""
    from compress.artifact import random_artifact
    from hw.rtl import program

    art = random_artifact("lstm", input_size=12, hidden=128, output_size=9, b=8, mode="fft", seed=0)
    d = program.compile_artifact(art, P=2, T_max=3, batch=2)
    rows = cycles.pass_trace(d.prog, 2, 8, 1, d.params["ST"])
    per_step = cycles.sequence_cycles(d.prog, 2, 8, 1, 1, d.params["ST"])["per_step"]
    mvs = [r for r in rows if r["op"] == "MV"]
    assert sorted((r["seq"], r["issue"]) for r in mvs) == [(0, 64), (0, 512), (1, 64), (1, 512)]
    assert rows[0]["start"] == 0 and all(0 <= r["start"] < per_step for r in rows)
    assert len([r for r in rows if r["op"] == "EW"]) == 2 * len(
        [i for i in cycles._loop_bodies(d.prog) if i["op"] == "EW" and i.get("seq", 0) == 0]
    )
    gaps = cycles.matrix_gaps(rows)
    assert sum(g for _, g in gaps) + 1152 <= per_step


def test_defects_are_caught(monkeypatch):
    """Injected defects: counting the idle lanes of a partial row group, or b complex bins instead of b/2+1,
    change the hand-computed fft figure."""
    prog = _prog(dict(op="MV", n=2, g=2, pb=3, dense=0, fft=1), dict(op="EW", n=4))
    good = cycles.mac_utilization(prog, FFT8)["useful_multiplications_per_step"]
    assert good == 120
    real = cycles.useful_multiplications
    padded = [dict(i, pb=i["g"] * FFT8["P"]) if i["op"] == "MV" else i for i in prog]
    assert cycles.mac_utilization(padded, FFT8)["useful_multiplications_per_step"] != good
    monkeypatch.setattr(cycles, "useful_multiplications", lambda ins, b: real(ins, 2 * b - 2))
    assert cycles.mac_utilization(prog, FFT8)["useful_multiplications_per_step"] != good


def test_google_lstm_layer_counts_every_block():
    """Google LSTM at b=8 fft: the loop body's MVs cover the published circulant weight count / 8 block pairs
    (gates 512 x 84 blocks with the input padded to 160, projection 64 x 128), 20 multiplications each."""
    (weights,) = figures(r"block-circulant b = 8: ([\d,]+)")
    r = cycles.layer_report(153, 1024, 512, True, 8, "fft", 48)
    assert r["useful_multiplications_per_step"] == weights / 8 * 20
    assert 0 < r["mac_utilization"] < 1


def test_lane_sweep_rows_and_the_parts_bound():
    """`python -m hw.cycles --sweep`: each row is the program at that (P, E) through mac_utilization, and the
    bound counts the useful multiplications by hand: LSTM 12 -> 128 at b=8, fft: 64 row blocks x (2 + 16)
    input blocks x 5 bins x 4 real products = 23,040 per frame, over 156 MULT18X18D at 100 MHz."""
    from compress.artifact import random_artifact
    from hw.rtl import program

    art = random_artifact("lstm", input_size=12, hidden=128, output_size=9, b=8, mode="fft", seed=0, T=4)
    text = cycles.lane_sweep(art, b=8, batch=2, mhz=100.0, T_max=4, Ps=(1, 3), Es=(1,))
    rows = [r for r in text.splitlines() if r.startswith("| ") and r[2].isdigit()]
    assert [r.split("|")[1:3] for r in rows] == [[" 1 ", " 1 "], [" 3 ", " 1 "]]
    d = program.compile_artifact(art, b=8, P=3, T_max=4, E=1, batch=2)
    per_frame = cycles.mac_utilization(d.prog, d.params)["cycles_per_step"] / 2
    assert rows[1].split("|")[7].strip() == f"{per_frame:g}"
    assert f"{156 * 100e6 / 23040:,.0f} frames/s" in text
