"""PWL activation lane (hw/rtl/pwl_act.sv) against compress.fixedpoint.pwl_eval on Verilator."""

import json

import pytest

from compress import fixedpoint as fx
from hw.rtl import program
from sim import runner

TABLES = [("sigmoid", 11), ("tanh", 11), ("tanh", 13), ("sigmoid", 9)]


@pytest.mark.parametrize("pipe", [0, 1])
def test_pwl_lane(tmp_path, pipe):
    """Combinational lane, and the pipelined one (PIPE=1, latency 12) fed one input per cycle."""
    N, BA, DW = 32, 16, 18
    lines = []
    for func, fz in TABLES:
        tab = fx.pwl_table(func, N, fz, BA)
        lines += [
            (int(c1) & ((1 << (BA + 2)) - 1)) << BA | (int(c0) & ((1 << BA) - 1))
            for c0, c1 in zip(tab["c0"], tab["c1"], strict=True)
        ]
    (tmp_path / "pwl.mem").write_text("\n".join(program.to_hex_lines(lines, 2 * BA + 2)) + "\n")
    p = {"DW": DW, "BA": BA, "N": N, "tables": TABLES, "n": 800, "seed": 1, "lat": 12 if pipe else 0}
    runner.run(
        runner.rtl_sources(["mul_pipe", "pwl_act"]),
        "pwl_act",
        "tb_pwl",
        parameters={"DW": DW, "BA": BA, "N": N, "NT": len(TABLES), "INIT": "pwl.mem", "PIPE": pipe},
        env={"TB_PARAMS": json.dumps(p)},
        test_dir=tmp_path,
    )
