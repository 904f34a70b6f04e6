"""Whole models on the RTL core (Verilator + cocotb) against compress.reference, integer equality.

Fast slice: one shared core build (b=8, P=2, FFT path) runs every cell type in both matvec modes with random
AXI4-Stream stalls, a reset in the middle of a sequence, and the cycle model check. The b x mode x P matrix
and the default-sized LSTM are @slow.
"""

import pytest

from compress import reference as ref
from compress.artifact import random_artifact
from hw import cycles
from hw.rtl import program
from sim.model_sim import simulate

CAPS = dict(
    FFT=1,
    DIRECT=1,
    DENSE=1,
    DM_DEPTH=1024,
    ZB_DEPTH=512,
    PROG_DEPTH=160,
    WDEPTH=512,
    QMAX=8,
    NT=8,
    ST=8,
    T_MAX=8,
)
E = 2  # the shared build: 2 element-wise words per cycle

CASES = {
    "lstm_fft_peep_proj": ("lstm", "fft", dict(peepholes=True, projection=16)),
    "lstm_direct": ("lstm", "direct", {}),
    "gru_fft": ("gru", "fft", {}),
    "enrnn_direct": ("enrnn", "direct", dict(n2=16)),
    "scornn_fft": ("scornn", "fft", {}),
    "bilstm2_fft": ("bilstm", "fft", dict(layers=2)),
    "momentum_direct": ("momentum_lstm", "direct", {}),
    "lstm2_per_step_direct": ("lstm", "direct", dict(layers=2, per_step=True)),
}


def _art(cell, mode, b=8, hidden=32, seed=0, T=6, n_vectors=4, **kw):
    return random_artifact(
        cell,
        input_size=5,
        hidden=hidden,
        output_size=3,
        b=b,
        mode=mode,
        seed=seed,
        T=T,
        n_vectors=n_vectors,
        **kw,
    )


@pytest.mark.parametrize(
    "case",
    # the BiLSTM's stalled run is the longest simulation of the fast suite; its stall-free run stays fast
    [c if c != "bilstm2_fft" else pytest.param(c, marks=pytest.mark.slow) for c in sorted(CASES)],
)
def test_model_bit_exact_with_stalls(case, tmp_path):
    cell, mode, kw = CASES[case]
    art = _art(cell, mode, **kw)
    r = simulate(art, P=2, work=tmp_path, caps=CAPS, stall=0.3, seed=len(case), E=E)
    assert r["passed"] and r["mismatches"] == 0 and len(r["outputs"]) == 4  # the testbench's own count


def _assert_cycles_exact(art, r):
    """The analytic cycle model equals the stall-free simulation on every sequence, to the cycle."""
    d = r["design"]
    n = r["vectors"]
    assert len(r["latency"]) == n
    lengths = art.vectors["lengths"][:n]
    errors = cycles.cycle_errors(
        d.prog, d.params["P"], d.params["B"], lengths, r["latency"], d.params["E"], d.params["ST"]
    )
    assert errors == [0] * n, errors


@pytest.mark.parametrize("case", sorted(CASES))
def test_cycle_model_exact(case, tmp_path):
    cell, mode, kw = CASES[case]
    art = _art(cell, mode, **kw)
    r = simulate(art, P=2, work=tmp_path, caps=CAPS, stall=0.0, E=E)
    assert r["passed"] and r["mismatches"] == 0
    _assert_cycles_exact(art, r)


def test_cycle_check_catches_a_wrong_model(tmp_path, monkeypatch):
    """Injected defect: one extra cycle per OUT (or one fewer per EW) in the model fails the exact check."""
    cell, mode, kw = CASES["lstm2_per_step_direct"]
    art = _art(cell, mode, **kw)
    r = simulate(art, P=2, work=tmp_path, caps=CAPS, stall=0.0, E=E)
    _assert_cycles_exact(art, r)
    good = cycles.instr_cycles
    for op, delta in (("OUT", 1), ("EW", -1), ("ENDLOOP", 1)):

        def wrong(ins, P, b, op=op, d=delta):
            return good(ins, P, b) + (d if ins["op"] == op else 0)

        monkeypatch.setattr(cycles, "instr_cycles", wrong)
        with pytest.raises(AssertionError):
            _assert_cycles_exact(art, r)


def test_overlap_needs_the_hazard_check(tmp_path):
    """Injected defect: EW instructions overlapping without the hazard check (INJECT_NO_EW_HAZARD) read
    words the one in flight has not yet written; the GRU step (an EW reading the previous EW's result)
    mismatches."""
    cell, mode, kw = CASES["gru_fft"]
    art = _art(cell, mode, **kw)
    r = simulate(art, P=2, work=tmp_path, caps=CAPS, E=E, defines={"INJECT_NO_EW_HAZARD": 1})
    assert r["mismatches"] > 0


BATCH_CASES = [
    "lstm_fft_peep_proj",
    "gru_fft",
    pytest.param("bilstm2_fft", marks=pytest.mark.slow),  # (reverse loops, lag +ST)
    pytest.param("enrnn_direct", marks=pytest.mark.slow),
]


def _batch_lengths(art, n: int, batch: int = 2) -> list[tuple]:
    lengths = art.vectors["lengths"]
    return [tuple(int(lengths[i]) for i in g) for g in cycles.batch_groups(lengths[:n], batch)]


def _batch_run(case: str, batch: int, n: int, work, caps=CAPS) -> tuple[dict, list[int]]:
    """A batch core run of n vectors of a CASES model on P=2 (the result, with its artifact under "art") and
    the cycle model's error against the simulated latency of every group."""
    cell, mode, kw = CASES[case]
    art = _art(cell, mode, n_vectors=n, **kw)
    r = simulate(art, P=2, work=work, caps=caps, stall=0.0, E=E, batch=batch)
    r["art"] = art
    d = r["design"]
    groups = _batch_lengths(art, n, batch)
    return r, cycles.cycle_errors(d.prog, 2, 8, groups, r["latency"], d.params["E"], d.params["ST"])


@pytest.mark.parametrize("case", BATCH_CASES)
def test_batch_of_two_bit_exact_and_cycle_exact(case, tmp_path):
    """hardware.batch: 2 — two sequences per program run, steps interleaved so one's element-wise work runs
    while the matrix unit works for the other: every vector bit-exact (5 vectors of different lengths, paired
    by length: the last group pairs the longest with itself), the cycle model equal to the simulation on every
    group."""
    r, errors = _batch_run(case, 2, 5, tmp_path)
    assert r["passed"] and r["mismatches"] == 0 and len(r["outputs"]) == 5
    assert errors == [0, 0, 0], errors


@pytest.mark.parametrize(
    "case, batch",
    [
        ("lstm_fft_peep_proj", 4),
        ("gru_fft", 3),  # (caught the last sequence's run without its lag flag; the projection LSTM did not)
        pytest.param("bilstm2_fft", 3, marks=pytest.mark.slow),  # (a longer program: its own build)
        pytest.param("enrnn_direct", 4, marks=pytest.mark.slow),
    ],
)
def test_batch_of_three_and_four_bit_exact_and_cycle_exact(case, batch, tmp_path):
    """hardware.batch: 3 and 4 — the MV groups go round the sequences (the ISA's seq field, rnn_core NSEQ):
    every vector bit-exact (7 vectors: the last group repeats its sequence), the cycle model equal to the
    simulation on every group."""
    caps = dict(CAPS, PROG_DEPTH=256) if case == "bilstm2_fft" else CAPS
    r, errors = _batch_run(case, batch, 7, tmp_path, caps)
    assert r["passed"] and r["mismatches"] == 0 and len(r["outputs"]) == 7
    assert r["design"].params["NSEQ"] == batch
    assert errors == [0] * len(_batch_lengths(r["art"], 7, batch)), errors


def test_batch_of_two_with_stalls(tmp_path):
    cell, mode, kw = CASES["lstm_fft_peep_proj"]
    art = _art(cell, mode, n_vectors=4, seed=3, **kw)
    r = simulate(art, P=2, work=tmp_path, caps=CAPS, stall=0.3, seed=4, E=E, batch=2)
    assert r["passed"] and r["mismatches"] == 0 and len(r["outputs"]) == 4


def test_batch_overlap_needs_the_matrix_hazard_checks(tmp_path):
    """Injected defect: the matrix unit and the element-wise unit overlapping without the MV/EW checks
    (INJECT_NO_MV_HAZARD): an EW reads gate pre-activations the running MV has not written; mismatches."""
    cell, mode, kw = CASES["lstm_fft_peep_proj"]
    art = _art(cell, mode, n_vectors=4, **kw)
    r = simulate(art, P=2, work=tmp_path, caps=CAPS, E=E, batch=2, defines={"INJECT_NO_MV_HAZARD": 1})
    assert r["mismatches"] > 0


def test_smallest_block_size_b2(tmp_path):
    """b = 2 (the smallest FFT: trivial twiddles only) through the whole core, bit-exact and cycle-exact."""
    art = _art("lstm", "fft", b=2, hidden=4, peepholes=True, projection=2, seed=2)
    r = simulate(art, P=2, work=tmp_path, caps=CAPS, stall=0.0)
    assert r["passed"] and r["mismatches"] == 0 and len(r["outputs"]) == 4
    _assert_cycles_exact(art, r)


@pytest.mark.parametrize("where", ["input", "compute"])
def test_reset_mid_sequence_then_fresh_sequence(where, tmp_path):
    art = _art("lstm", "fft", peepholes=True, seed=5)
    r = simulate(art, P=2, work=tmp_path, caps=CAPS, stall=0.2, reset_test=where, E=E)
    assert r["passed"] and r["mismatches"] == 0


def test_wrong_reference_is_detected(tmp_path):
    art = _art("gru", "direct", seed=7)
    art.vectors["y"] = art.vectors["y"].copy()
    art.vectors["y"][1, 0] += 1
    r = simulate(art, P=2, work=tmp_path, caps=CAPS, stall=0.0, E=E)
    assert not r["passed"] and r["mismatches"] == 1


PADDED = {  # sizes that are not multiples of b (or of b * E): the compiler pads segments
    "lstm_h12_direct": ("lstm", "direct", dict(hidden=12), 1),
    "lstm_h24_E2_direct": ("lstm", "direct", dict(hidden=24, peepholes=True), 2),
    "gru_h12_direct": ("gru", "direct", dict(hidden=12), 1),
    "enrnn_n2_5_direct": ("enrnn", "direct", dict(hidden=16, n2=5), 1),
    "enrnn_n2_8_h20_fft": ("enrnn", "fft", dict(hidden=24, n2=8), 2),
}


@pytest.mark.parametrize(
    "case",
    # the E = 2 cases run on the shared core build (fast); the E = 1 ones need a build of their own (slow)
    [c if PADDED[c][3] == E else pytest.param(c, marks=pytest.mark.slow) for c in sorted(PADDED)],
)
def test_padded_sizes_bit_exact(case, tmp_path):
    cell, mode, kw, e = PADDED[case]
    art = _art(cell, mode, **kw)
    r = simulate(art, P=2, work=tmp_path, caps=CAPS, stall=0.0, E=e)
    assert r["passed"] and r["mismatches"] == 0 and len(r["outputs"]) == 4
    _assert_cycles_exact(art, r)


@pytest.mark.parametrize("cell", sorted(ref.CELLS))
def test_dense_model_of_every_cell(cell, tmp_path):
    """Uncompressed (dense) models on the shared core: the lane count comes from the caller (block_size)."""
    kw = dict(n2=8) if cell == "enrnn" else {}
    art = _art(cell, "fft", b=None, hidden=16, **kw)
    assert all(m["structure"] == "dense" for m in art.manifest["matrices"].values())
    r = simulate(art, P=2, work=tmp_path, caps=CAPS, stall=0.0, E=E, b=8)
    assert r["passed"] and r["mismatches"] == 0 and len(r["outputs"]) == 4
    _assert_cycles_exact(art, r)


def test_fft_mode_rejects_a_boundary_inside_a_circulant_block():
    art = _art("lstm", "fft", hidden=12)
    with pytest.raises(program.RtlError, match="matrices.l0.w_ih: a gate/state boundary"):
        program.compile_artifact(art, P=2, T_max=6)


def test_generator_rejects_fields_outside_the_exact_ranges():
    """Shift/width fields outside the ranges where the narrow RTL datapaths are exact: one-line RtlError."""
    DW = 18
    ok = [
        dict(op="EW", alu="MUL", sh=-DW, bits=DW),
        dict(op="MV", sh=63, bits=16),
        dict(op="EW", alu="PWL", sh=-99),
    ]
    program.check_fields(ok, DW, 16)
    for bad, msg in (
        (dict(op="EW", alu="REQ", sh=-DW - 1, bits=8), "shift -19"),
        (dict(op="EW", alu="ADD", sh=0, bits=DW + 1), "output width 19"),
        (dict(op="MV", sh=-program.MV_SHL - 1, bits=8), "shift -9"),
        (dict(op="MV", sh=4, bits=17), "output width 17"),
    ):
        with pytest.raises(program.RtlError, match=msg):
            program.check_fields([dict(op="HALT"), bad], DW, 16)
    tab = {"in_frac": 11, "s": 10}
    program._check_pwl_call(tab, "l0.z", rl=14, sh=13, N=32, DW=DW, Ba=16)
    with pytest.raises(program.RtlError, match="segment shift"):
        program._check_pwl_call(tab, "l0.z", rl=15, sh=13, N=32, DW=DW, Ba=16)
    with pytest.raises(program.RtlError, match="clamp bound"):
        program._check_pwl_call({"in_frac": 30, "s": 30}, "l0.z", rl=DW + 7, sh=0, N=4, DW=DW, Ba=16)


def test_range_constants_match_the_rtl():
    """program.py's exact-range limits mirror localparams of the RTL modules they protect."""
    import re

    from hw.rtl import RTL_DIR

    mv = (RTL_DIR / "mv_unit.sv").read_text()
    assert int(re.search(r"localparam int SHL = (\d+);", mv).group(1)) == program.MV_SHL
    pwl = (RTL_DIR / "pwl_act.sv").read_text()
    assert "localparam int RLMAX = DW + 6," in pwl  # program._check_pwl_call: rlmax = DW + 6


MATRIX = [
    (cell, mode, b, P)
    for b, P in ((2, 2), (4, 1), (4, 3), (16, 1), (16, 2), (8, 4))
    for cell, mode in (
        ("lstm", "fft"),
        ("lstm", "direct"),
        ("gru", "fft"),
        ("enrnn", "direct"),
        ("bilstm", "fft"),
    )
]


@pytest.mark.slow
@pytest.mark.parametrize("cell,mode,b,P", MATRIX)
def test_model_matrix(cell, mode, b, P, tmp_path):
    kw = dict(n2=b) if cell == "enrnn" else (dict(peepholes=True, projection=b) if cell == "lstm" else {})
    art = _art(cell, mode, b=b, hidden=2 * b, seed=b * 10 + P, **kw)
    caps = dict(CAPS, WDEPTH=1024)
    r = simulate(art, P=P, work=tmp_path, caps=caps, stall=0.3, seed=P)
    assert r["passed"] and r["mismatches"] == 0
    r = simulate(art, P=P, work=tmp_path / "nostall", caps=caps, stall=0.0)
    assert r["passed"] and r["mismatches"] == 0
    _assert_cycles_exact(art, r)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["fft", "direct"])
def test_default_sized_lstm(mode, tmp_path):
    art = random_artifact(
        "lstm", input_size=12, hidden=128, output_size=9, b=8, mode=mode, seed=1, T=8, n_vectors=3
    )
    r = simulate(art, P=2, work=tmp_path, stall=0.0)
    assert r["passed"] and r["mismatches"] == 0
    _assert_cycles_exact(art, r)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["fft", "direct"])
def test_default_model_from_compress_stage(mode, tmp_path):
    """The trained default model (build/default/compress, when present) in both matvec modes."""
    import copy
    from pathlib import Path

    from compress.artifact import load_artifact, make_vectors

    folder = Path("build/default/compress")
    if not (folder / "model.yaml").exists():
        pytest.skip("build/default/compress not built (make compress)")
    art = load_artifact(folder)
    if art.manifest["quantization"]["matvec_mode"] != mode:
        art = copy.deepcopy(art)
        art.manifest["quantization"]["matvec_mode"] = mode
        art.vectors = make_vectors(art, art.vectors["x"], art.vectors["lengths"])
    r = simulate(art, P=2, work=tmp_path, stall=0.0, n_vectors=6)
    assert r["passed"] and r["mismatches"] == 0
    _assert_cycles_exact(art, r)
