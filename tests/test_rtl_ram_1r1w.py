"""Simple dual-port RAM (hw/rtl/ram_1r1w.sv) on Verilator against a Python model: the INIT file read back
before any write, random segment-enabled writes and a read every cycle, each read exactly RL = 1 + OREG cycles
after its address, and same-edge collisions returned inverted in the segments written (the simulation's
visible undefined read); with WREG a write lands one edge after it is presented; with NS read-address slices
each slice is read at its own address; a second write source (WSRC2, every case) writes when the first does
not. The fast slice is one build (W=40, NBE=2, DEPTH=64, OREG=1, WREG=1, NS=4, WSRC2=1: the core's data
memory).

Each check comes with its injected defect: a testbench expecting another latency, a testbench expecting other
INIT contents (both on the fast build), a module without the collision inversion (collisions then read the
old word: the one fast mutant), a byte enable that writes every segment, a module that loads no INIT file,
a module whose slices all read at the first slice's address, a module that drops the second source's writes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hw.rtl.program import to_hex_lines
from sim import runner

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "test_ram_1r1w"
SOURCE = runner.RTL_DIR / "ram_1r1w.sv"
FAST = (40, 2, 64, 1)  # (W, NBE, DEPTH, OREG), with WREG = 1 unless a test says otherwise, NS = FAST_NS
FAST_NS = 4  # and WSRC2 = 1 (two write sources), as the core's data memory
N = 400  # random cycles after the INIT read-back


def init_words(w: int, depth: int) -> list[int]:
    """INIT contents: all-zero, all-one, alternating bits, then distinct per-address patterns."""
    top = (1 << w) - 1
    alt = int("10" * w, 2) & top
    words = [0, top, alt, alt ^ top]
    words += [(a * 0x9E3779B97F4A7C15 ^ (a << (w // 2))) & top for a in range(len(words), depth)]
    return words[:depth]


def init_file(w: int, depth: int) -> Path:
    """The $readmemh file (written by the project's hex writer) at a path fixed per (W, DEPTH)."""
    path = WORK / f"init_w{w}_d{depth}.mem"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(to_hex_lines(init_words(w, depth), w)) + "\n")
    return path


def _run(
    tmp_path: Path, w, nbe, depth, oreg, sources=None, rl=None, init=None, seed=1, wreg=1, ns=FAST_NS, wsrc2=1
) -> dict:
    """Build (cached) and run the testbench; returns its verdict."""
    result = tmp_path / f"ram_{w}_{nbe}_{depth}_{oreg}_{wreg}_{ns}_{wsrc2}_{seed}.json"
    p = {
        "W": w,
        "NBE": nbe,
        "DEPTH": depth,
        "rl": 1 + oreg if rl is None else rl,  # the module header: latency 1, 2 with OREG
        "init": init_words(w, depth) if init is None else init,
        "n": N,
        "wreg": wreg,
        "NS": ns,
        "WSRC2": wsrc2,
        "seed": seed * 1000 + w + nbe + depth,
        "result": str(result),
    }
    params = {"W": w, "NBE": nbe, "DEPTH": depth, "OREG": oreg, "WREG": wreg, "NS": ns, "WSRC2": wsrc2}
    params["INIT"] = str(init_file(w, depth))
    r = runner.run(
        sources or [SOURCE],
        "ram_1r1w",
        "tb_ram_1r1w",
        parameters=params,
        env={"TB_PARAMS": json.dumps(p)},
        check=False,
    )
    assert result.exists(), f"the testbench wrote no verdict (ran {r['tests']} tests)"
    v = json.loads(result.read_text())
    assert r["passed"] == (not v["errors"]), v["errors"][:3]
    return v


def _summary(v: dict) -> dict:
    """The verdict without its error list, and the first errors."""
    return {**{k: x for k, x in v.items() if k != "errors"}, "first": v["errors"][:3]}


@pytest.mark.parametrize(
    "w,nbe,depth,oreg,wreg,ns",
    [
        (*FAST, 1, FAST_NS),
        pytest.param(*FAST, 0, FAST_NS, marks=pytest.mark.slow),  # the write port straight to the memory
        pytest.param(40, 2, 64, 0, 1, 1, marks=pytest.mark.slow),  # no output register, one slice
        pytest.param(32, 1, 256, 0, 0, 1, marks=pytest.mark.slow),  # the module defaults: one segment
        pytest.param(32, 1, 16, 1, 1, 2, marks=pytest.mark.slow),  # two slices in one segment
        pytest.param(64, 4, 32, 1, 0, 1, marks=pytest.mark.slow),
        pytest.param(72, 4, 128, 0, 1, 2, marks=pytest.mark.slow),  # a slice over two segments
        pytest.param(8, 8, 2, 1, 0, 1, marks=pytest.mark.slow),  # 1-bit segments, the smallest depth (AW = 1)
        pytest.param(21, 3, 40, 1, 1, 3, marks=pytest.mark.slow),  # a depth that is no power of two
    ],
)
def test_ram_1r1w_matches_model(tmp_path, w, nbe, depth, oreg, wreg, ns):
    v = _run(tmp_path, w, nbe, depth, oreg, wreg=wreg, ns=ns)
    assert v["errors"] == [], _summary(v)
    # the stimulus did what it is for: every INIT word, many collisions, partial ones where segments exist
    assert v["init_reads"] == depth and v["reads"] == depth + N, _summary(v)
    assert v["collisions"] >= N // 8 and v["writes"] >= N // 3, _summary(v)
    assert v["second_writes"] >= N // 20, _summary(v)
    if nbe > 1:
        assert v["partial_collisions"] >= N // 20 and v["partial_writes"] >= N // 5, _summary(v)


@pytest.mark.parametrize("delta", [-1, 1])
def test_wrong_latency_is_detected(tmp_path, delta):
    """Injected defect: a testbench expecting another read latency fails (reads are timed, not only found)."""
    w, nbe, depth, oreg = FAST
    v = _run(tmp_path, w, nbe, depth, oreg, rl=1 + oreg + delta)
    assert v["init_errors"] > depth // 2, _summary(v)


def test_wrong_init_contents_are_detected(tmp_path):
    """Injected defect: the testbench expects one INIT word other than the file's: that one read fails."""
    w, nbe, depth, oreg = FAST
    init = init_words(w, depth)
    init[depth // 3] ^= 1 << (w - 1)
    v = _run(tmp_path, w, nbe, depth, oreg, init=init)
    bad = [e for e in v["errors"] if e["kind"] == "init"]
    # the bit flipped is the top one: in the last slice, read at that slice's address
    assert [e["raddr"][-1] for e in bad] == [depth // 3], _summary(v)


def _mutant(name: str, old: str, new: str) -> list[Path]:
    """A copy of ram_1r1w.sv with `old` (which must occur exactly once) replaced by `new`."""
    return [runner.mutant(SOURCE, WORK / name, old, new)]


NO_INVERSION = (
    "no_inversion",
    "assign rword = SWD'((mem[ra] ^ wmask) >> (s * SWD));",
    "assign rword = SWD'(mem[ra] >> (s * SWD));",
)
ALL_SEGMENTS = ("all_segments", "if (m_we && m_wbe[i]) mem[m_waddr]", "if (m_we) mem[m_waddr]")
NO_INIT = ("no_init", 'if (INIT != "") $readmemh(INIT, mem);', "")
NO_SECOND_SOURCE = ("no_second", "assign m_we = q_we1 || q_we2;", "assign m_we = q_we1;")
SHARED_ADDRESS = ("shared_address", "assign ra = raddr[s*AW+:AW];", "assign ra = raddr[AW-1:0];")


@pytest.mark.slow
def test_mutant_without_collision_inversion_is_detected(tmp_path):
    """Injected defect: collisions return the stored word; exactly the collision reads fail, with old data."""
    v = _run(tmp_path, *FAST, sources=_mutant(*NO_INVERSION))
    assert v["errors"], _summary(v)
    assert len(v["errors"]) == v["collisions"], _summary(v)
    assert all(e["kind"] == "collision" and e["got"] == e["old"] for e in v["errors"]), _summary(v)


@pytest.mark.slow
@pytest.mark.parametrize("nbe", [2, 1])
def test_mutant_writing_all_segments_is_detected(tmp_path, nbe):
    """Injected defect: the write enable alone writes every segment (wbe ignored; with NBE=1 wbe=0 writes)."""
    w, _, depth, oreg = FAST
    v = _run(tmp_path, w, nbe, depth, oreg, sources=_mutant(*ALL_SEGMENTS))
    assert v["init_errors"] == 0, _summary(v)  # no write during the read-back: nothing to see there
    assert sum(e["kind"] == "read" for e in v["errors"]) > 10, _summary(v)


@pytest.mark.slow
def test_mutant_without_init_is_detected(tmp_path):
    """Injected defect: no $readmemh: the read-back of the INIT contents fails."""
    v = _run(tmp_path, *FAST, sources=_mutant(*NO_INIT))
    assert v["init_errors"] > FAST[2] // 2, _summary(v)


@pytest.mark.slow
def test_mutant_with_one_read_address_is_detected(tmp_path):
    """Injected defect: every slice reads at slice 0's address: reads of the other slices fail."""
    v = _run(tmp_path, *FAST, sources=_mutant(*SHARED_ADDRESS))
    assert len(v["errors"]) > v["reads"] // 2, _summary(v)


@pytest.mark.slow
def test_mutant_without_the_second_write_source_is_detected(tmp_path):
    """Injected defect: the second source's writes are dropped: later reads of those words fail."""
    v = _run(tmp_path, *FAST, sources=_mutant(*NO_SECOND_SOURCE))
    assert sum(e["kind"] == "read" for e in v["errors"]) > 10, _summary(v)
