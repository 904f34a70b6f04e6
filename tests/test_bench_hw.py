"""scripts/bench_hw.py: block RAM model and the calibrated linear resource estimate (no synthesis here)."""

from __future__ import annotations

import pytest

from hw.rtl.isa import WIDTH as INSTRUCTION_BITS
from scripts import bench_hw as B
from tests.published import figures


@pytest.mark.parametrize(
    "depth,width,expected",
    [
        (1024, 36, 1.0),
        (512, 72, 1.0),
        (2048, 72, 4.0),
        (100, 18, 0.5),
        (512, 36, 0.5),  # the widest RAMB18 (simple dual port)
        (72, 72, 1.0),  # 5 kbit, but wider than any RAMB18: a RAMB36 (yosys agrees: test_synth real core)
        (4674, 144, 20.0),
        (32768, 1, 1.0),
    ],
)
def test_bram36_for(depth, width, expected):
    assert B.bram36_for(depth, width) == expected


def test_memory_model_counts_copies_and_lanes():
    p = {"B": 8, "P": 3, "FFT": 1, "BW": 16, "DW": 18, "DM_DEPTH": 1024, "WDEPTH": 512, "PROG_DEPTH": 16}
    m = B.memory_model(p, INSTRUCTION_BITS)
    assert m["weights"]["width"] == 3 * 2 * 5 * 16
    # 4 read copies of 4 read slices (144 bits: NRS = 4), each slice at the full width on 7-series (hw/fit.py)
    assert m["data memory (4 read copies)"]["bram36"] == 4 * 4 * B.bram36_for(1024, 144)
    assert m["matrix-output bank (4 read copies)"]["copies"] == 4 * 4
    assert m["program"]["width"] == INSTRUCTION_BITS
    assert m["total"] == pytest.approx(sum(v["bram36"] for k, v in m.items() if k != "total"))


def test_estimate_is_linear_in_lanes(monkeypatch, tmp_path):
    """Two calibration points -> the line through them at the target P; BRAM from the memory model."""
    from configs.schema import load_config

    cfg = load_config(B.ROOT / "configs" / "google_lstm_b8.yaml")
    calib = [
        {"P": 1, "counts": {"lut": 1000, "ff": 800, "dsp": 30}, "bram_model": 3, "seconds": 1},
        {"P": 3, "counts": {"lut": 1400, "ff": 1000, "dsp": 70}, "bram_model": 5, "seconds": 1},
    ]
    params = {
        "B": 8,
        "P": cfg["hardware"]["parallelism"],
        "FFT": 1,
        "BW": 16,
        "DW": 18,
        "DM_DEPTH": 4096,
        "WDEPTH": 2048,
        "PROG_DEPTH": 30,
    }
    monkeypatch.setattr(
        B, "make_rtl", lambda *a, **k: {"params": params, "instruction_bits": INSTRUCTION_BITS}
    )
    est = B.estimate(cfg, calib, tmp_path)
    lanes = cfg["hardware"]["parallelism"] - 1  # beyond the first calibration point
    assert est["counts"]["lut"] == 1000 + 200 * lanes and est["counts"]["dsp"] == 30 + 20 * lanes
    assert est["counts"]["bram36"] == B.memory_model(params, INSTRUCTION_BITS)["total"]
    # one circulant block per lane and cycle: at least the Google LSTM's published b=8 weight count / b / P
    # cycles (tests/data/published_figures.md), and the element-wise work on top
    (weights,) = figures(r"block-circulant b = 8: ([\d,]+)")
    P = cfg["hardware"]["parallelism"]
    assert est["matvec_cycles_per_step"] >= weights / 8 / P
    assert est["cycles_per_step"] > est["matvec_cycles_per_step"] and est["power"]["label"] == "estimate"
    rows = B.rows_for(est, 200.0)
    assert set(rows[0]["labels"].values()) <= {"estimated", "n/a"}
    assert rows[0]["values"]["frames_per_s"] == pytest.approx(200e6 / est["cycles_per_step"])
