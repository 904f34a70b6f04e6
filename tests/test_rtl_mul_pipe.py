"""Pipelined multiplier (hw/rtl/mul_pipe.sv) on Verilator: exact signed products, one per cycle, latency 3,
for operand widths of one chunk, several 17-bit chunks and chunks of at most SMALL bits (shift-and-add)."""

import json

import pytest

from sim import runner

LATENCY = 3  # the module header's latency


def _run(aw: int, bw: int, lat: int = LATENCY, check: bool = True, outreg: int = 1) -> dict:
    p = {"AW": aw, "BW": bw, "n": 300, "seed": aw * 100 + bw, "lat": lat}
    return runner.run(
        runner.rtl_sources(["mul_pipe"]),
        "mul_pipe",
        "tb_mul_pipe",
        parameters={"AW": aw, "BW": bw, "OUTREG": outreg},
        env={"TB_PARAMS": json.dumps(p)},
        check=check,
    )


@pytest.mark.parametrize(
    "aw,bw",
    [
        (20, 21),  # the element-wise unit's (DW, DW + 1): top chunks of 3 and 4 bits (shift-and-add)
        pytest.param(18, 18, marks=pytest.mark.slow),  # one MULT18X18D
        pytest.param(35, 19, marks=pytest.mark.slow),  # two 17-bit chunks + 1, 17 + 2
        pytest.param(2, 30, marks=pytest.mark.slow),  # a narrow operand: all shift-and-add
        pytest.param(16, 20, marks=pytest.mark.slow),  # the FFT MAC's (BW, BA + m + 1)
        pytest.param(40, 36, marks=pytest.mark.slow),
        pytest.param(72, 5, marks=pytest.mark.slow),  # the widest a; a b of SMALL + 1 bits
    ],
)
def test_mul_pipe(aw, bw):
    _run(aw, bw)


@pytest.mark.parametrize("aw,bw", [(16, 16), pytest.param(18, 3, marks=pytest.mark.slow)])
def test_mul_pipe_without_output_stage(aw, bw):
    """OUTREG 0 (one chunk per operand; mv_unit's row sums): the same products, latency 2."""
    _run(aw, bw, lat=LATENCY - 1, outreg=0)


@pytest.mark.parametrize("lat", [LATENCY - 1, LATENCY + 1])
def test_wrong_latency_is_detected(lat):
    """Injected defect: the check expecting another latency fails (the products are timed, not only found)."""
    assert not _run(20, 21, lat=lat, check=False)["passed"]
