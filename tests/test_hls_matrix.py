"""The whole cell x b x mode matrix through the HLS C-simulation, integer equality with the reference
(6 cells x (5 circulant sizes x 2 modes + dense) = 66 compiles, 20 sequences each: 1,320 sequences)."""

from __future__ import annotations

import pytest

from tests.hls_util import check_random_model, needs_gxx

CELLS = ("lstm", "bilstm", "gru", "enrnn", "scornn", "momentum_lstm")
CASES = [(c, b, m) for c in CELLS for b in (2, 4, 8, 16, 32) for m in ("direct", "fft")]
CASES += [(c, None, "direct") for c in CELLS]


def _options(cell: str, b, mode: str) -> dict:
    """Vary the structure over the matrix: projection/peepholes, two layers, per-step head, odd sizes."""
    i = CASES.index((cell, b, mode))
    kw: dict = {"hidden": 12 if (b or 4) <= 8 else 20, "input_size": 5 + i % 3, "T": 5 + i % 4}
    if cell in ("lstm", "bilstm"):
        kw["projection"] = 6 if i % 2 else 0
        kw["peepholes"] = bool(i % 3)
    if cell == "enrnn":
        kw["n2"] = 4
    if i % 4 == 1:
        kw["layers"] = 2
    if i % 5 == 2:
        kw["per_step"] = True
    return kw


@pytest.mark.slow
@needs_gxx
@pytest.mark.parametrize("cell,b,mode", CASES, ids=[f"{c}-{b}-{m}" for c, b, m in CASES])
def test_matrix_bit_exact(tmp_path, cell, b, mode):
    check_random_model(
        tmp_path, cell, b, mode, n=20, seed=CASES.index((cell, b, mode)), **_options(cell, b, mode)
    )
