"""FFT / IFFT RTL (hw/rtl/fft_*.sv) against compress.fixedpoint on Verilator (integer equality, stalls)."""

import json

import numpy as np
import pytest

from compress import fixedpoint as fx
from sim import runner

FFT_SRC = ["fxp_pkg", "mul_pipe", "fft_bfly", "fft_dit"]


def test_twiddle_table_matches_reference():
    text = (runner.RTL_DIR / "fft_dit.sv").read_text()
    re16, im16 = fx.twiddles(16)
    assert f"TW_RE[TW_N/2] = '{{{', '.join(str(int(v)) for v in re16)}}}" in text
    assert f"TW_IM[TW_N/2] = '{{{', '.join(str(int(v)) for v in im16)}}}" in text
    for b in (4, 8):
        r, i = fx.twiddles(b)
        assert np.array_equal(r, re16[:: 16 // b]) and np.array_equal(i, im16[:: 16 // b])


@pytest.mark.parametrize(
    "b,wi,pipe",
    [
        (8, 16, 1),
        (8, 16, 2),
        (2, 16, 1),
        pytest.param(4, 12, 1, marks=pytest.mark.slow),
        pytest.param(16, 16, 0, marks=pytest.mark.slow),
        pytest.param(16, 16, 2, marks=pytest.mark.slow),
        pytest.param(4, 12, 2, marks=pytest.mark.slow),
    ],
)
def test_fft_real(b, wi, pipe):
    p = {"B": b, "WI": wi, "n": 40, "inverse": 0, "seed": b}
    runner.run(
        runner.rtl_sources(FFT_SRC + ["fft_real"]),
        "fft_real",
        "tb_fft",
        parameters={"B": b, "WI": wi, "PIPE": pipe},
        env={"TB_PARAMS": json.dumps(p)},
    )


@pytest.mark.parametrize(
    "b,wp,pipe",
    [
        (16, 24, 0),
        (8, 24, 2),
        (2, 20, 1),
        pytest.param(4, 20, 1, marks=pytest.mark.slow),
        pytest.param(8, 24, 1, marks=pytest.mark.slow),
        pytest.param(16, 28, 2, marks=pytest.mark.slow),
        pytest.param(2, 20, 2, marks=pytest.mark.slow),
    ],
)
def test_ifft_real(b, wp, pipe):
    p = {"B": b, "WP": wp, "G": 4, "BZ": 16, "n": 40, "inverse": 1, "seed": b}
    runner.run(
        runner.rtl_sources(FFT_SRC + ["fxp_requant", "ifft_real"]),
        "ifft_real",
        "tb_fft",
        parameters={"B": b, "WP": wp, "G": 4, "BZ": 16, "PIPE": pipe},
        env={"TB_PARAMS": json.dumps(p)},
    )
