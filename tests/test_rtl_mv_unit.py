"""Matrix-vector unit (hw/rtl/mv_unit.sv) on Verilator, instruction by instruction (sim/tb_mv_unit.py).

One MV in each mode (direct circulant, dense, fft) for random small matrices against compress.fixedpoint
(circulant_matvec_direct, dense_matvec, circulant_matvec_fft, then requant), q in {1, 3}, row groups with a
partial last one, P in {1, 2, 3}; the weights packed into w.mem by hw/rtl/program.py's _pack_words (the
generator's layout); the cycles from start to done against hw/cycles.py.
"""

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

from compress import fixedpoint as fx
from hw.rtl import LIBRARY, program
from sim import runner

# mv_unit and what it instantiates, in the library's compilation order
SOURCES = [m for m in LIBRARY if m not in ("ram_1r1w", "pwl_act", "ew_unit", "rnn_core")]
DW, BA, BW, BZMAX, G, RL, QMAX, WDEPTH = 20, 16, 16, 16, 4, 2, 4, 512


def _signed(rng, bits: int, shape, small: bool = False) -> np.ndarray:
    """Random signed values over the full `bits`-bit range (its edges included), or small ones."""
    if small:
        return rng.integers(-3, 4, shape)
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    v = rng.integers(lo, hi + 1, shape)
    flat = v.reshape(-1)
    flat[rng.integers(0, flat.size, max(1, flat.size // 8))] = rng.choice([lo, hi], max(1, flat.size // 8))
    return v


def _pick_shift(term, bits: int) -> int:
    """The shift in [-MV_SHL, 63] whose output has the share of saturated values closest to 1/4."""
    lo, hi = fx.sat_bounds(bits)

    def share(sh):
        y = term(sh, bits)
        return abs(float(np.mean((y == lo) | (y == hi))) - 0.25)

    return min(range(-program.MV_SHL, 64), key=share)


def _case(rng, ctx, name: str, mode: str, q: int, pb: int, small: bool = False) -> dict:
    """One MV instruction: its weights appended to ctx.wwords, its input blocks and the reference output."""
    B, P = ctx.b, ctx.P
    x = _signed(rng, BA, (q, B), small)
    xv = x.reshape(1, -1)
    if mode == "dense":
        W = _signed(rng, BW, (pb * B, q * B), small)
        acc = fx.dense_matvec(W, xv)[0]
        blocks, k_rows = (lambda i, j, r: list(W[i * B + r, j * B : (j + 1) * B])), B
    elif mode == "direct":
        w = _signed(rng, BW, (pb, q, B), small)
        acc = fx.circulant_matvec_direct(w, xv, pb * B)[0]
        blocks, k_rows = (lambda i, j, r: list(w[i, j])), 1
    else:  # fft: quantized spectra (bins 0 and b/2 real, as a real block's are)
        nb = B // 2 + 1
        wr, wi = _signed(rng, BW, (pb, q, nb)), _signed(rng, BW, (pb, q, nb))
        wi[..., 0] = wi[..., -1] = 0
        blocks, k_rows = (lambda i, j, r: list(wr[i, j]) + list(wi[i, j])), 1

    def term(sh, bits):
        if mode == "fft":  # program.py: sh = Ff + Fv - (Fz + g); here Fv = Fz = 0, Ff = sh + g
            return fx.circulant_matvec_fft(wr, wi, xv, pb * B, sh + G, 0, 0, bits, guard=G)[0]
        return fx.requant(acc, sh, 0, bits)

    bits = int(rng.choice([BZMAX, int(rng.integers(4, BZMAX))]))
    sh = _pick_shift(term, bits)
    base = program._pack_words(ctx, blocks, k_rows, pb, q)
    ins = dict(op="MV", n=q, g=math.ceil(pb / P), pb=pb, sh=sh, bits=bits, wbase=base)
    ins.update(dense=int(mode == "dense"), fft=int(mode == "fft"))
    src, dst = int(rng.integers(0, 400)), int(rng.integers(512, 900))
    want = term(sh, bits).reshape(pb, B)
    return dict(name=name, ins=ins, src=src, dst=dst, x=x.tolist(), want=want.tolist())


def _cases(B: int, P: int, fft: int, seed: int, direct: int = 1) -> tuple[list[dict], list[int]]:
    """Every mode the unit has, q in {1, 3}, a partial last row group (P > 1), a group shorter than its lanes
    (q = 1 < P), small weights (a left shift), long fft MVs (the next one promoted from the pending slot);
    returns the cases and the weight memory words (laid out for a core with or without the FFT path)."""
    rng = np.random.default_rng(seed)
    ctx = SimpleNamespace(b=B, P=P, man={"quantization": {"weight_bits": BW}}, hw_fft=bool(fft), wwords=[])
    pb = 2 * P - 1 if P > 1 else 2
    modes = ("direct",) * direct + ("dense",) + ("fft",) * fft
    cases = [_case(rng, ctx, f"{mode} q={q} pb={pb}", mode, q, pb) for mode in modes for q in (1, 3)]
    cases.append(_case(rng, ctx, f"{modes[0]} small weights", modes[0], 2, 1, small=True))
    cases.append(_case(rng, ctx, "dense one block", "dense", 1, 1))
    if P > 1:
        cases.append(_case(rng, ctx, f"{modes[-1]} pb={P - 1} < P", modes[-1], 2, P - 1))
    if fft:  # an fft MV long enough that the next one's input spectra are stored before it stops issuing
        # (the next one waits in the pending slot: its first term right after this one's last group)
        cases.append(_case(rng, ctx, "fft long", "fft", QMAX, 8 * P))
        cases.append(_case(rng, ctx, "fft after a long one", "fft", 1, P + 1))
        cases.append(_case(rng, ctx, "fft long again", "fft", QMAX, 8 * P))
    return cases, ctx.wwords


def _run(
    tmp_path, B: int, P: int, fft: int = 1, direct: int = 1, check: bool = True, **tb
) -> tuple[dict, dict, list]:
    cases, wwords = _cases(B, P, fft, seed=10 * B + P, direct=direct)
    assert len(wwords) <= WDEPTH
    wmw = 2 * (B // 2 + 1) * BW if fft else B * BW  # mv_unit.sv WMW
    words = wwords + [0] * (WDEPTH - len(wwords))
    (tmp_path / "w.mem").write_text("\n".join(program.to_hex_lines(words, P * wmw)) + "\n")
    if "defect" in tb:  # a wrong expected output in one case
        cases[tb.pop("defect")]["want"][0][0] += 1
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    p = dict(B=B, P=P, DW=DW, rl=RL, seed=P, cases=str(tmp_path / "cases.json"))
    p.update(tb, result=str(tmp_path / "result.json"))
    params = dict(B=B, P=P, FFT=fft, DIRECT=direct, DENSE=1, DW=DW, BA=BA, BW=BW, BZMAX=BZMAX, G=G, AW=10)
    params.update(WDEPTH=WDEPTH, QMAX=QMAX, RL=RL, W_INIT="w.mem")
    r = runner.run(
        runner.rtl_sources(SOURCES),
        "mv_unit",
        "tb_mv_unit",
        parameters=params,
        env={"TB_PARAMS": json.dumps(p)},
        test_dir=tmp_path,
        check=check,
    )
    res = json.loads((tmp_path / "result.json").read_text()) if (tmp_path / "result.json").exists() else {}
    b2b = tmp_path / "result.json.b2b.json"  # sim/tb_mv_unit.py mv_unit_back_to_back
    if b2b.exists():
        res["back_to_back"] = json.loads(b2b.read_text())
    return r, res, cases


@pytest.mark.parametrize(
    "B,P,fft,direct",
    [
        pytest.param(8, 2, 1, 1, marks=pytest.mark.slow),  # b=8, P=2: the core's model tests run it too
        (4, 3, 1, 1),
        (4, 2, 1, 0),  # fft and dense, no direct path (ENRNN/scoRNN cores): each dense row reads row 0's sum
        # P=4 after a one-term group: the promoted instruction's first term waits 2 cycles (P - K - 1), so
        # its hand-over follows the last one's last by P cycles
        (4, 4, 1, 0),
        pytest.param(4, 1, 1, 1, marks=pytest.mark.slow),
        pytest.param(8, 1, 1, 1, marks=pytest.mark.slow),
        pytest.param(8, 3, 1, 1, marks=pytest.mark.slow),
        pytest.param(16, 2, 1, 1, marks=pytest.mark.slow),
        pytest.param(4, 2, 0, 1, marks=pytest.mark.slow),  # no FFT path: b-word weight lanes
    ],
)
def test_mv_unit_instructions(tmp_path, B, P, fft, direct):
    _, res, cases = _run(tmp_path, B, P, fft, direct)
    assert res["instructions"] == len(cases)
    assert not any(res[k] for k in ("values", "addresses", "done", "cycles"))
    # every consecutive pair again with the second started as soon as the unit accepts it (beside the first
    # one's drain): both exact, their writes in order, the second start where hw/cycles.py's mv_accept says
    b2b = res["back_to_back"]
    assert b2b["pairs"] == len(cases) - 1
    assert not any(b2b[k] for k in ("values", "addresses", "done", "cycles")), b2b
    want = [(np.array(c["want"]), fx.sat_bounds(c["ins"]["bits"])) for c in cases]
    assert sum(int(np.sum((w == lo) | (w == hi))) for w, (lo, hi) in want) > 10  # saturated outputs
    assert sum(int(np.sum((w > lo) & (w < hi))) for w, (lo, hi) in want) > 10  # and unsaturated ones
    assert any(c["ins"]["sh"] < 0 for c in cases)  # a left shift


@pytest.mark.parametrize(
    "defect,caught",
    [
        (dict(rl=RL + 1), "values"),  # the memory model answers one cycle late
        (dict(defect=4), "values"),  # a wrong expected output (the fft case)
        (dict(cycle_offset=-1), "cycles"),  # the cycle check expects one cycle fewer
    ],
)
def test_injected_defects_are_caught(tmp_path, defect, caught):
    """Each injected defect fails the testbench, in the check that names it."""
    r, res, _ = _run(tmp_path, 8, 2, check=False, **defect)
    assert not r["passed"] and res[caught] > 0
