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
    p = {"IW": iw, "OW": ow, "SHL": shl, "n": 60, "seed": iw + ow}
    runner.run(
        runner.rtl_sources(["fxp_requant"]),
        "fxp_requant",
        "tb_requant",
        parameters={"IW": iw, "OW": ow, "SHL": shl},
        env={"TB_PARAMS": json.dumps(p)},
    )
