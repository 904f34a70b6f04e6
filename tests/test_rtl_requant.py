"""Rounding shift + saturation unit (hw/rtl/fxp_requant.sv) against fixedpoint.requant on Verilator."""

import json

import pytest

from sim import runner


@pytest.mark.parametrize(
    "iw,ow,shl",
    [
        (38, 18, 18),  # element-wise unit of a 16-bit model
        (52, 23, 8),  # matrix P' requant
        pytest.param(20, 20, 0, marks=pytest.mark.slow),
        pytest.param(60, 30, 3, marks=pytest.mark.slow),
    ],
)
def test_requant(iw, ow, shl):
    _run(iw, ow, shl, 0)


@pytest.mark.parametrize(
    "iw,ow,shl,pipe,sat",
    [
        (52, 23, 8, 3, 2),  # matrix P' requant: the shift in two stages, the saturation in two, y registered
        (38, 18, 18, 3, 2),  # element-wise unit (the same stages)
        (48, 18, 8, 3, 2),  # matrix direct/dense requant (as the P' requant, narrower)
        pytest.param(48, 18, 8, 2, 2, marks=pytest.mark.slow),
        pytest.param(52, 23, 8, 2, 1, marks=pytest.mark.slow),
        pytest.param(52, 23, 8, 2, 0, marks=pytest.mark.slow),
        pytest.param(20, 20, 0, 1, 0, marks=pytest.mark.slow),
        pytest.param(60, 30, 3, 3, 0, marks=pytest.mark.slow),
        pytest.param(52, 23, 8, 3, 1, marks=pytest.mark.slow),
        pytest.param(20, 20, 0, 1, 2, marks=pytest.mark.slow),
    ],
)
def test_requant_pipelined(iw, ow, shl, pipe, sat):
    """A stream of one x per cycle, each with its own shift and width, each output PIPE + SAT cycles later."""
    _run(iw, ow, shl, pipe, sat, n=20)


def _run(iw: int, ow: int, shl: int, pipe: int, sat: int = 0, n: int = 60):
    p = {"IW": iw, "OW": ow, "SHL": shl, "PIPE": pipe, "SAT": sat, "n": n, "seed": iw + ow}
    runner.run(
        runner.rtl_sources(["fxp_requant"]),
        "fxp_requant",
        "tb_requant",
        parameters={"IW": iw, "OW": ow, "SHL": shl, "PIPE": pipe, "SAT": sat},
        env={"TB_PARAMS": json.dumps(p)},
    )
