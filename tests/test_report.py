"""scripts/report.py: labels, derived figures, published anchors, plots, CPU baseline and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts import report as R
from tests.published import figures

ROOT = Path(__file__).resolve().parents[1]


def test_derived_fields_take_the_weakest_label():
    r = R._row(
        "x",
        "m",
        {"frames_per_s": 1000.0, "power_w": 2.0},
        {"frames_per_s": R.MEASURED, "power_w": R.ESTIMATED},
    )
    assert r["values"]["energy_uj"] == pytest.approx(2000.0)
    assert r["values"]["frames_per_j"] == pytest.approx(500.0)
    assert r["labels"]["energy_uj"] == R.ESTIMATED and r["labels"]["frames_per_j"] == R.ESTIMATED
    assert r["values"]["clock_mhz"] is None and r["labels"]["clock_mhz"] == R.NA
    m = R._row(
        "y", "m", {"frames_per_s": 10.0, "power_w": 1.0}, {"frames_per_s": R.MEASURED, "power_w": R.MEASURED}
    )
    assert m["labels"]["frames_per_j"] == R.MEASURED


NUM = r"([\d,]+(?:\.\d+)?)"


def test_published_anchors_match_the_papers():
    """The report's published rows against the figures quoted in tests/data/published_figures.md; derived
    figures (ESE frames/s and energy, C-LSTM / E-RNN frames/J) recomputed here from those inputs."""
    mhz, watts, us = figures(rf"XCKU060 at {NUM} MHz, {NUM} W, {NUM} µs per frame")
    (clstm,) = figures(rf"C-LSTM: up to [\d.]+× the performance and {NUM}× the energy efficiency of ESE")
    (ernn,) = figures(rf"E-RNN: up to {NUM}× the energy efficiency of ESE")
    qian_fps, qian_uj = figures(rf"XC7S15, {NUM} inferences/s at {NUM} µJ per inference")
    rows = {r["name"].split(" (")[0]: r for r in R.published_rows()}
    ese = rows["ESE"]["values"]
    assert (ese["clock_mhz"], ese["power_w"], ese["latency_us"]) == (mhz, watts, us)
    assert ese["frames_per_s"] == pytest.approx(1e6 / us)
    assert ese["energy_uj"] == pytest.approx(watts * us)  # W x us = uJ
    ese_fpj = 1.0 / (watts * us * 1e-6)
    assert ese["frames_per_j"] == pytest.approx(ese_fpj)
    assert rows["C-LSTM"]["values"]["frames_per_j"] == pytest.approx(clstm * ese_fpj)
    assert rows["E-RNN"]["values"]["frames_per_j"] == pytest.approx(ernn * ese_fpj)
    qian = rows["Qian et al. 2023"]["values"]
    assert (qian["frames_per_s"], qian["energy_uj"]) == (qian_fps, qian_uj)
    for r in rows.values():
        assert {lab for k, lab in r["labels"].items() if r["values"][k] is not None} == {R.PUBLISHED}


def _fake_synth():
    return {
        "xc7": {
            "part": "xc7vx690tffg1761-2",
            "counts": {"lut": 5000, "ff": 4000, "dsp": 40, "bram36": 12.5},
            "capacity": {"device": "xc7vx690t", "lut": 433200, "ff": 866400, "dsp": 3600, "bram36": 1470},
            "percent": {"lut": 1.15, "ff": 0.46, "dsp": 1.11, "bram36": 0.85},
            "fits": True,
        },
        "ecp5": {
            "pnr": {
                "utilization": {"lut4": {"used": 9000, "available": 83640, "percent": 10.76}},
                "fmax_mhz": 61.5,
                "target_mhz": 100.0,
                "timing_met": False,
            },
            "bitstream": None,  # the flow writes none for a missed clock
        },
        "board": {"clock_mhz": 100.0},
        "power_xc7": {
            "total_w": 0.5,
            "dynamic_w": 0.15,
            "static_w": 0.35,
            "clock_mhz": 100.0,
            "activity": {},
            "activity_source": "t",
            "breakdown": {},
            "coefficients": {"static_w": {"value": 0.35, "unit": "W", "source": "assumption"}},
        },
        "power_ecp5": {
            "total_w": 0.2,
            "dynamic_w": 0.1,
            "static_w": 0.1,
            "clock_mhz": 100.0,
            "activity": {},
            "activity_source": "t",
            "breakdown": {},
            "coefficients": {"static_w": {"value": 0.1, "unit": "W", "source": "assumption"}},
        },
        "vivado": {"status": "skipped: vivado not on PATH", "tcl": "vivado.tcl"},
    }


def test_fpga_rows_use_fmax_when_timing_fails():
    cfg = {"hardware": {"clock_mhz": 100.0, "xilinx_part": "xc7vx690tffg1761-2"}}
    cycles = R.sim_cycles({"cycles_per_step": 300, "cycles_per_sequence": 3200, "mean_steps": 10})
    assert cycles["cycles_per_frame"] == 320
    lst = R.sim_cycles({"cycles_per_step": 100, "cycles_per_sequence": [250, 1050], "lengths": [2, 10]})
    assert lst["cycles_per_frame"] == pytest.approx(1300 / 12) and lst["cycles_per_sequence"] == 650
    part = R.sim_cycles(
        {
            "cycles_per_step": 100,
            "cycles_per_sequence": [250],
            "lengths": [2, 10],
            "model_cycles_per_sequence": [250, 1050],
        }
    )
    assert part["cycles_per_frame"] == 125 and part["model_cycles_per_frame_all"] == pytest.approx(1300 / 12)
    rows = R.fpga_rows(cfg, _fake_synth(), cycles, "m")
    x7, e5 = rows
    assert x7["values"]["frames_per_s"] == pytest.approx(100e6 / 320)
    assert x7["labels"]["clock_mhz"] == R.ESTIMATED and x7["labels"]["cycles_per_frame"] == R.MEASURED
    assert e5["values"]["clock_mhz"] == 61.5 and e5["labels"]["clock_mhz"] == R.MEASURED
    assert "NOT met" in e5["note"]
    assert e5["values"]["energy_uj"] == pytest.approx(1e6 * 0.2 / (61.5e6 / 320))


def test_like_with_like_ratios_and_utilization_line():
    """The FPGA-vs-CPU section divides each FPGA row's frames/s by each CPU row's; the utilization line
    shows the hw.cycles figure."""
    cfg = {"hardware": {"clock_mhz": 100.0, "xilinx_part": "xc7vx690tffg1761-2"}}
    cycles = R.sim_cycles({"cycles_per_step": 300, "cycles_per_sequence": 3200, "mean_steps": 10})
    cpu = R._row("CPU ONNX Runtime, batch 1", "m", {"frames_per_s": 1000.0}, {"frames_per_s": R.MEASURED})
    md = R.comparison_md(R.fpga_rows(cfg, _fake_synth(), cycles, "m") + [cpu])
    line = next(x for x in md.splitlines() if x.startswith("| CPU ONNX"))
    assert "312.50x [estimated]" in line and "192.19x [measured]" in line  # 100e6/320, 61.5e6/320 over 1000
    assert "No FPGA" in R.comparison_md([cpu])
    u = {
        "utilization": 0.25,
        "lane_utilization": 0.5,
        "useful_multiplications_per_step": 1200,
        "multipliers": 40,
        "cycles_per_step": 120,
    }
    assert R.utilization_md(u).startswith(
        "25.0 % = 1,200 useful"
    ) and "lanes alone 50.0 %" in R.utilization_md(u)


def test_cli_writes_report_with_labels_and_plots(tmp_path):
    name = "test_report_cli"
    cfg = tmp_path / f"{name}.yaml"
    cfg.write_text("hardware:\n  clock_mhz: 100\n")
    # under tmp_path, not the checkout's build/: this synth.json is a fake that misses its clock
    base = tmp_path / "build" / name
    (base / "synth").mkdir(parents=True, exist_ok=True)
    (base / "sim").mkdir(parents=True, exist_ok=True)
    (base / "synth" / "synth.json").write_text(json.dumps(_fake_synth()))
    (base / "sim" / "results.json").write_text(
        json.dumps({"cycles_per_step": 250, "cycles_per_sequence": 2600, "mean_steps": 10})
    )
    proc = subprocess.run(
        [sys.executable, "-m", "scripts.report", "--config", str(cfg), "--no-cpu"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    md = (base / "report.md").read_text()
    for word in ("[measured]", "[estimated]", "[published]", "ESE", "C-LSTM", "E-RNN", "Qian", "estimate"):
        assert word in md
    rep = json.loads((base / "report.json").read_text())
    assert len(rep["plots"]) == 8
    for p in rep["plots"]:
        assert (base / p).stat().st_size > 1000
    assert {
        "resources.png",
        "fmax.png",
        "cycles_per_frame.png",
        "latency.png",
        "frames_per_s.png",
        "power.png",
        "energy_per_frame.png",
        "frames_per_joule.png",
    } == set(rep["plots"])


def test_cli_missing_inputs(tmp_path):
    cfg = tmp_path / "test_report_missing.yaml"
    cfg.write_text("{}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "scripts.report", "--config", str(cfg), "--no-cpu"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "synth.json" in proc.stderr and "Traceback" not in proc.stderr


def test_cpu_baseline_rows_per_runtime_and_batch():
    """make cpu's rows: fused kernel, ONNX Runtime and our step loop at each batch size, all measured, the
    fused and ONNX outputs equal to the trained model's; energy estimated (and said so) without RAPL."""
    import torch

    torch.set_num_threads(1)
    from configs.schema import build_dir, validate
    from train.data import load_task
    from train.loop import build

    cfg = validate(
        {
            "name": "test_report_cpu",
            "task": {"name": "adding", "seq_len": 8, "n_train": 8, "n_test": 8},
            "model": {"hidden": 16},
            "compression": {"mode": "circulant", "block_size": 4},
            "training": {"threads": 1},
        }
    )
    torch.manual_seed(0)
    model = build(cfg, load_task(cfg))
    out = build_dir(cfg, "train", ROOT / "build")
    out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), out / "model.pt")
    from scripts import cpu_baseline

    rows, info = cpu_baseline.cpu_rows(cfg, batches=(1, 2), root=str(ROOT / "build"))
    assert [r["name"] for r in rows] == [
        f"CPU {rt}, batch {b}"
        for rt in ("PyTorch fused nn.LSTM", "ONNX Runtime", "PyTorch (our step loop)")
        for b in (1, 2)
    ]
    assert max(info["max_abs_dy_vs_step_loop"].values()) < 1e-5 and not info["not_measured"]
    for r in rows:
        assert r["values"]["frames_per_s"] > 0 and r["labels"]["frames_per_s"] == R.MEASURED
        if not info["rapl"]:
            assert r["labels"]["energy_uj"] == R.ESTIMATED and " W x 1 thread" in r["note"]


def _random_model(cell: str, **model):
    import torch

    from configs.schema import validate
    from train.models import build_model

    cfg = validate(
        {
            "model": {"cell": cell, "hidden": 8, **model},
            "compression": {"mode": "circulant", "block_size": 4},
        }
    )
    torch.manual_seed(1)
    return build_model(cfg, 5, 3).eval()


def _inputs():
    import numpy as np

    rng = np.random.default_rng(0)
    return rng.standard_normal((4, 7, 5)).astype(np.float32), np.array([7, 3, 5, 1])


@pytest.mark.parametrize(
    "cell,extra",
    [("lstm", {}), ("lstm", {"projection": 4}), ("lstm", {"layers": 2}), ("gru", {}), ("bilstm", {})],
)
def test_fused_and_onnx_equal_our_model(cell, extra, tmp_path):
    """torch.nn.LSTM/GRU with the dense-equivalent weights, and its ONNX export under ONNX Runtime (with the
    sequence lengths), give our float model's outputs on variable-length batches."""
    from scripts import cpu_baseline

    model = _random_model(cell, **extra)
    fns, skipped = cpu_baseline.runners(model, tmp_path / "m.onnx", 1)
    if extra.get("projection"):  # the ONNX LSTM operator has no projection
        assert list(skipped) == ["ONNX Runtime"] and len(fns) == 2
    else:
        assert not skipped and len(fns) == 3
    x, ln = _inputs()
    ref = fns["PyTorch (our step loop)"](x, ln)
    for label, fn in fns.items():
        assert abs(fn(x, ln) - ref).max() < 1e-5, label
        one = fn(x[1:2, : ln[1]], ln[1:2])  # batch 1 at its own length
        assert abs(one - ref[1:2]).max() < 1e-5, label


def test_fused_defects_are_caught(tmp_path):
    """Injected defects: the GRU's recurrent bias dropped, or ONNX run without the sequence lengths (padding
    steps treated as input), change the outputs beyond the tolerance above."""
    import numpy as np
    import torch

    from scripts import cpu_baseline

    x, ln = _inputs()
    gru = _random_model("gru")
    ref = gru(torch.from_numpy(x), torch.from_numpy(ln)).detach().numpy()
    fused = cpu_baseline.fused_model(gru)
    with torch.no_grad():
        fused.rnn.bias_hh_l0.zero_()
        assert abs(fused(torch.from_numpy(x), torch.from_numpy(ln)).numpy() - ref).max() > 1e-3
    lstm = _random_model("lstm")
    fused = cpu_baseline.fused_model(lstm)
    sess = cpu_baseline.ort_session(cpu_baseline.export_onnx(fused, 5, tmp_path / "m.onnx"), 1)
    full = np.full(len(ln), x.shape[1], dtype=np.int32)
    y = sess.run(None, {"x": x, "lengths": full})[0]
    ref = lstm(torch.from_numpy(x), torch.from_numpy(ln)).detach().numpy()
    assert abs(y - ref).max() > 1e-3


@pytest.mark.parametrize(
    "cell,extra", [("enrnn", {"n2": 4}), ("momentum_lstm", {}), ("lstm", {"peepholes": True})]
)
def test_cells_without_fused_kernel_keep_our_model(cell, extra, tmp_path):
    from scripts import cpu_baseline

    fns, skipped = cpu_baseline.runners(_random_model(cell, **extra), tmp_path / "m.onnx", 1)
    assert list(fns) == ["PyTorch (our step loop)"]
    assert set(skipped) == {"PyTorch fused kernel", "ONNX Runtime"} and all(skipped.values())
