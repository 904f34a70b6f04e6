"""hardware.batch: 2-4 — the interleaved program (hw/rtl/program.py `_interleave`) and its cycle model,
without simulation (tests/test_rtl_model.py runs such programs on the core)."""

import pytest

from compress.artifact import random_artifact
from hw import cycles
from hw.rtl import program
from hw.rtl.program import RtlError


def _art(cell="lstm", mode="fft", **kw):
    return random_artifact(
        cell, input_size=12, hidden=64, output_size=9, b=8, mode=mode, seed=0, T=4, n_vectors=2, **kw
    )


def _strip(ins: dict) -> dict:
    """An instruction without the batch fields and its addresses (the sequences' buffers differ)."""
    return {k: v for k, v in ins.items() if k not in ("seq", "lag", "dst", "a", "b", "c", "note")}


@pytest.mark.parametrize("cell, batch", [("lstm", 2), ("gru", 2), ("bilstm", 2), ("lstm", 4), ("gru", 3)])
def test_each_sequence_keeps_its_own_program_order(cell, batch):
    """Projected onto one sequence, the batch program is that sequence's batch-1 program (same instructions,
    same order; inside a loop, the last sequence's lagged run belongs to the previous pass)."""
    art = _art(cell)
    one = program.compile_artifact(art, P=2, T_max=4).prog
    two = program.compile_artifact(art, P=2, T_max=4, batch=batch).prog
    ops_one = [_strip(i) for i in one if i["op"] not in ("LOOP", "ENDLOOP", "HALT")]
    seqs = {i.get("seq") for i in two if i["op"] not in ("LOOP", "ENDLOOP", "HALT")}
    assert sorted(seqs) == list(range(batch))
    for s in range(batch):
        mine = [i for i in two if i.get("seq") == s and i["op"] not in ("LOOP", "ENDLOOP", "HALT")]
        assert not any(i.get("lag") for i in mine) or s == batch - 1  # only the last sequence's run lags
        if s == batch - 1:  # rotate each loop body's lagged run back to its end
            out, k = [], 0
            while k < len(mine):
                j = k
                lagged = []
                while j < len(mine) and mine[j].get("lag"):
                    lagged.append(mine[j])
                    j += 1
                if lagged:  # the lagged run opens the body: the rest of the body, then the lagged run
                    end = j
                    while end < len(mine) and not mine[end].get("lag") and _in_loop(two, mine[end]):
                        end += 1
                    out += mine[j:end] + lagged
                    k = end
                else:
                    out.append(mine[k])
                    k += 1
            mine = out
        assert [_strip(i) for i in mine] == ops_one
    for body in _bodies(two):  # the last one's run of step t - 1 comes before anything of its step t
        lags = [i.get("lag", 0) for i in body if i.get("seq") == batch - 1]
        assert lags == sorted(lags, reverse=True)


def _bodies(prog: list[dict]) -> list[list[dict]]:
    out, cur = [], None
    for i in prog:
        if i["op"] == "LOOP":
            cur = []
        elif i["op"] == "ENDLOOP":
            out.append(cur)
            cur = None
        elif cur is not None:
            cur.append(i)
    return out


def _in_loop(prog: list[dict], ins: dict) -> bool:
    inside = False
    for i in prog:
        if i["op"] == "LOOP":
            inside = True
        elif i["op"] == "ENDLOOP":
            inside = False
        elif i is ins:
            return inside
    return False


def test_batch_overlaps_matrix_and_element_wise_work():
    """The cycle model of the same rules the core checks: two interleaved sequences take fewer cycles per step
    than two sequences one after the other (the element-wise work of one under the other's MVs), and the
    batch-1 program is unchanged by the batch fields."""
    art = _art()
    one = program.compile_artifact(art, P=2, T_max=4)
    two = program.compile_artifact(art, P=2, T_max=4, batch=2)
    c1 = cycles.sequence_cycles(one.prog, 2, 8, 1, 1, one.params["ST"])
    c2 = cycles.sequence_cycles(two.prog, 2, 8, 1, 1, two.params["ST"])
    assert c1["batch"] == 1 and c2["batch"] == 2
    assert c2["per_step"] < 2 * c1["per_step"]
    assert all("seq" not in i and "lag" not in i for i in one.prog)
    assert two.params["NSEQ"] == 2 and one.params["NSEQ"] == 1


def test_batch_lengths_per_sequence():
    """Different lengths: the loop runs max(L) + 1 passes; a sequence's instructions outside its steps are
    skipped, so a (5, 1) batch costs less than a (5, 5) one and more than a (1, 1) one."""
    art = _art()
    d = program.compile_artifact(art, P=2, T_max=8, batch=2)
    run = [
        cycles.sequence_cycles(d.prog, 2, 8, L, 1, d.params["ST"])["total"] for L in ((1, 1), (5, 1), (5, 5))
    ]
    assert run[0] < run[1] < run[2]
    body_mvs = sum(1 for i in cycles._loop_bodies(d.prog) if i["op"] == "MV") // 2  # per sequence and step
    ran = [
        x[0]
        for x in cycles.unrolled(d.prog, (5, 1))
        if x[3] and x[0]["op"] == "MV" and "head" not in x[0]["note"]
    ]
    assert [sum(1 for i in ran if i["seq"] == s) for s in (0, 1)] == [5 * body_mvs, 1 * body_mvs]


def test_batch_groups_pair_by_length_and_pad_an_odd_count():
    """The host pairs sequences of similar length (sorted, stable); the longest of an odd count goes with
    itself; batch 1 keeps the order."""
    assert cycles.batch_groups([5, 1, 4, 1, 3], 2) == [[1, 3], [4, 2], [0, 0]]
    assert cycles.batch_groups([3, 1, 2], 1) == [[0], [1], [2]]


def test_batch_groups_leave_fewer_idle_passes_than_arrival_order():
    """A group runs as many loop passes as its longest sequence: paired by length, a 2- and a 3-step sequence
    take 3 passes and two long ones 29, where in arrival order each long one would hold a short one's slot."""
    lengths = [2, 29, 3, 28]
    groups = cycles.batch_groups(lengths, 2)
    assert groups == [[0, 2], [3, 1]]
    assert sum(max(lengths[i] for i in g) for g in groups) == 32  # arrival order [[0, 1], [2, 3]]: 57


def test_batch_rejects_per_step_heads_and_five():
    """Per-step heads stay batch 1; at most 4 sequences (the ISA's 2-bit seq field, rnn_core NSEQ 1..4)."""
    art = random_artifact("lstm", input_size=5, hidden=16, output_size=3, b=8, mode="fft", T=3, per_step=True)
    with pytest.raises(RtlError, match="hardware.batch"):
        program.compile_artifact(art, P=1, T_max=3, batch=2)
    with pytest.raises(RtlError, match="hardware.batch: 1 to 4 sequences"):
        program.compile_artifact(_art(), P=1, T_max=3, batch=5)
    assert program.compile_artifact(_art(), P=1, T_max=3, batch=4).params["NSEQ"] == 4


def test_four_sequences_hide_a_projection_lstm_s_two_phase_chain():
    """A projection LSTM's step is two MV groups (gates, then the projection that needs the gates' run): with
    two sequences the second group waits for its own run; with four, the other sequences' MVs fill that wait,
    so a frame (one step of one sequence) costs fewer cycles. Batch 4 of a one-phase LSTM costs what batch 2
    does (its matrix unit is already busy: nothing to fill)."""
    per_frame = {}
    for proj in (16, 0):
        art = _art(peepholes=True, projection=proj) if proj else _art()
        for batch in (2, 4):
            d = program.compile_artifact(art, P=2, T_max=4, batch=batch)
            per_pass = cycles.sequence_cycles(d.prog, 2, 8, 1, 1, d.params["ST"])["per_step"]
            per_frame[proj, batch] = per_pass / batch
    assert per_frame[16, 4] < per_frame[16, 2]
    assert per_frame[0, 4] <= per_frame[0, 2]


def test_every_mv_writes_the_matrix_output_bank():
    for batch in (1, 2):
        d = program.compile_artifact(_art(peepholes=True, projection=32), P=2, T_max=4, batch=batch)
        mvs = [i for i in d.prog if i["op"] == "MV"]
        assert mvs and all(i["dst"] & program.ZBANK for i in mvs)
        ews = [i for i in d.prog if i["op"] == "EW"]
        assert all(not (i["dst"] & program.ZBANK) for i in ews if "zero state" not in i.get("note", ""))


def _ops_between_mvs(prog: list[dict]) -> list[int]:
    """For every loop body, how many instructions of the other sequence sit between consecutive MVs of one
    sequence."""
    out = []
    for body in _bodies(prog):
        for k, ins in enumerate(body):
            if ins["op"] != "MV":
                continue
            nxt = next((j for j in range(k + 1, len(body)) if body[j]["op"] == "MV"), None)
            if nxt is not None and body[nxt].get("seq") == ins.get("seq"):
                out.append(sum(1 for i in body[k + 1 : nxt] if i.get("seq") != ins.get("seq")))
    return out


def test_other_sequence_runs_between_the_mvs_of_one_group(monkeypatch):
    """With more lanes the matrix work per MV shrinks below the other sequence's element-wise run; the
    compiler then spreads that run between one sequence's MVs (an MV starts only once the element-wise unit
    has issued its reads, so a run after the last MV left the unit idle beside it). The cycle model chooses
    the cut: fewer cycles per step than the whole run after the last MV, and each sequence keeps its order
    (the test above)."""
    art = _art()
    d = program.compile_artifact(art, P=6, T_max=4, batch=2)
    spread = _ops_between_mvs(d.prog)
    assert spread and max(spread) > 0
    monkeypatch.setattr(program, "_best_cuts", lambda pieces, points, cuts, ST, core: cuts)
    plain = program.compile_artifact(art, P=6, T_max=4, batch=2)
    assert max(_ops_between_mvs(plain.prog)) == 0
    ST = d.params["ST"]
    c_spread = cycles.sequence_cycles(d.prog, 6, 8, 3, 1, ST)["per_step"]
    c_plain = cycles.sequence_cycles(plain.prog, 6, 8, 3, 1, ST)["per_step"]
    assert c_spread < c_plain
