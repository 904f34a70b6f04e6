"""Element-wise unit (hw/rtl/ew_unit.sv) on Verilator, instruction by instruction: every ALU op against
compress.fixedpoint over the full data range, the write addresses, the done pulse and the cycles against
hw/cycles.py (sim/tb_ew_unit.py). Parametrized over the lanes B (E * b) and the data width DW."""

import json

import pytest

from compress import fixedpoint as fx
from hw import cycles
from hw.rtl import program
from sim import runner

SOURCES = ["rnn_isa_pkg", "mul_pipe", "fxp_requant", "pwl_act", "ew_unit"]
N, BA, RL = 32, 16, cycles.EW_RL  # the unit as the core instantiates it (operand latency RL + 1)
TABLES = [("sigmoid", 11), ("tanh", 11), ("tanh", 13), ("sigmoid", 9)]


def _pwl_mem(path) -> None:
    """pwl.mem as hw/rtl/program.py packs the tables ({c1, c0} per segment, tables in tsel order)."""
    names = [f"{func}_f{fz}" for func, fz in TABLES]
    man = {
        "pwl": {name: fx.pwl_table(func, N, fz, BA) for name, (func, fz) in zip(names, TABLES, strict=True)},
        "quantization": {"pwl_segments": N},
    }
    lines = program.to_hex_lines(program._pwl_entries(man, names, BA), 2 * BA + 2)
    path.write_text("\n".join(lines) + "\n")


def _run(tmp_path, B: int, DW: int, check: bool = True, **tb) -> tuple[dict, dict]:
    _pwl_mem(tmp_path / "pwl.mem")
    p = dict(B=B, DW=DW, N=N, BA=BA, tables=TABLES, ns=[1, 2, 5, 13, 3], seed=B + DW, rl=RL)
    p.update(tb, result=str(tmp_path / "result.json"))
    r = runner.run(
        runner.rtl_sources(SOURCES),
        "ew_unit",
        "tb_ew_unit",
        parameters=dict(B=B, DW=DW, BA=BA, N=N, NT=len(TABLES), AW=10, RL=RL, PWL_INIT="pwl.mem"),
        env={"TB_PARAMS": json.dumps(p)},
        test_dir=tmp_path,
        check=check,
    )
    res = json.loads((tmp_path / "result.json").read_text()) if (tmp_path / "result.json").exists() else {}
    return r, res


@pytest.mark.parametrize(
    "B,DW",
    [
        (8, 20),
        pytest.param(16, 18, marks=pytest.mark.slow),
        pytest.param(8, 18, marks=pytest.mark.slow),
        pytest.param(16, 20, marks=pytest.mark.slow),
    ],
)
def test_ew_unit_instructions(tmp_path, B, DW):
    _, res = _run(tmp_path, B, DW)
    assert res["instructions"] >= 30 and not any(res[k] for k in ("values", "addresses", "done", "cycles"))
    assert res["saturated"] > 50 and res["inside"] > 50  # both sides of the saturation bounds were exercised


@pytest.mark.parametrize(
    "defect,caught",
    [
        (dict(rl=RL + 1), "values"),  # the memory model answers one cycle late
        (dict(rl=RL - 1), "values"),
        (dict(defect="ignore_nb"), "values"),  # the reference forgets ADD's nb
        (dict(cycle_offset=1), "cycles"),  # the cycle check expects one cycle more
    ],
)
def test_injected_defects_are_caught(tmp_path, defect, caught):
    """Each injected defect fails the testbench, in the check that names it."""
    r, res = _run(tmp_path, 8, 20, check=False, **defect)
    assert not r["passed"] and res[caught] > 0
