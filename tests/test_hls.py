"""HLS C-simulation (hls4ml project, g++) equals the integer reference: a representative slice of the
cell x b x mode matrix (the whole matrix is tests/test_hls_matrix.py, slow), the default config's test
vectors, the `python -m hw.hls` entry point, registration and the no-torch rule."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from compress.artifact import random_artifact
from tests.hls_util import check_random_model, needs_gxx

ROOT = Path(__file__).resolve().parents[1]

# one of each cell, both modes, several b, projection/peepholes, stacking, per-step head
SLICE = [
    ("lstm", 4, "fft", dict(projection=6, peepholes=True, layers=2)),
    ("bilstm", 8, "direct", dict(hidden=8)),
    ("gru", 2, "fft", dict(per_step=True)),
    ("enrnn", 4, "fft", dict(hidden=12, n2=4)),
    ("momentum_lstm", 16, "direct", dict(hidden=16)),
    ("scornn", None, "direct", dict(backend="Vivado")),
]


@needs_gxx
@pytest.mark.parametrize("cell,b,mode,kw", SLICE, ids=[f"{c}-{b}-{m}" for c, b, m, _ in SLICE])
def test_random_model_bit_exact(tmp_path, cell, b, mode, kw):
    check_random_model(tmp_path, cell, b, mode, n=40, seed=3, **kw)


@needs_gxx
def test_default_config_vectors(tmp_path):
    """The default config's artifact (build/default/compress when present, else a small stand-in)."""
    from compress.artifact import load_artifact
    from hw.hls.project import build_graph, compare

    folder = ROOT / "build" / "default" / "compress"
    if (folder / "model.yaml").is_file() and (folder / "vectors.npz").is_file():
        art = load_artifact(folder)
    else:  # same structure as configs/default.yaml (LSTM, circulant b=8, fft), smaller
        art = random_artifact(
            "lstm", input_size=12, hidden=32, output_size=9, b=8, mode="fft", T=12, n_vectors=16
        )
    graph = build_graph(art, tmp_path / "default")
    graph.compile()
    res = compare(graph, art.vectors)
    assert res["sequences"] == len(art.vectors["y"]) and res["mismatches"] == 0


@needs_gxx
def test_cli_writes_project_and_csim_json(tmp_path, monkeypatch):
    """`python -m hw.hls --config` on a saved artifact: build_prj.tcl, tb_data, csim.json, 0 mismatches."""
    from hw.hls.__main__ import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "tiny.yaml").write_text("model: {cell: gru, hidden: 8}\n")
    random_artifact("gru", b=4, mode="direct", n_vectors=12, out_dir=tmp_path / "build/tiny/compress")
    assert main(["--config", "configs/tiny.yaml"]) == 0
    out = tmp_path / "build/tiny/hls"
    summary = json.loads((out / "csim.json").read_text())
    assert summary["sequences"] == 12 and summary["mismatches"] == 0 and summary["compile_seconds"] > 0
    assert (out / "build_prj.tcl").is_file() and (out / "firmware" / "nnet_utils" / "r2f_rnn.h").is_file()
    assert len((out / "tb_data" / "tb_input_features.dat").read_text().splitlines()) == 12
    assert summary["csynth"] == "skipped" or shutil.which("vitis_hls") or shutil.which("vitis-run")


def test_cli_runs_csynth_when_vitis_hls_on_path(tmp_path, monkeypatch):
    """A (fake) vitis_hls on PATH is run on the project's build_prj.tcl with csynth on, csim off."""
    from hw.hls import __main__ as cli

    fake = tmp_path / "bin" / "vitis_hls"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho "$@" > called.txt\ncp build_opt.tcl opts_seen.tcl\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    assert cli.hls_tool(None) == ("Vitis", "vitis_hls")
    out = tmp_path / "prj"
    out.mkdir()
    cli.run_csynth(None, out, "vitis_hls", cosim=False)
    assert (out / "called.txt").read_text().split() == ["-f", "build_prj.tcl"]
    opts = (out / "opts_seen.tcl").read_text()
    assert "synth 1" in opts and "csim 0" in opts


def test_cli_missing_artifact_is_one_line_error(tmp_path):
    cfg = tmp_path / "nothing.yaml"
    cfg.write_text("model: {cell: lstm}\n")
    res = subprocess.run(
        [sys.executable, "-m", "hw.hls", "--config", str(cfg)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1 and "model.yaml" in res.stderr


def test_registration_idempotent_and_torch_free():
    """register() may run twice; hw.hls imports neither torch nor train."""
    code = (
        "import sys; import hw.hls.extension as e, hw.hls.project, hw.hls.__main__;"
        "e.register(); e.register();"
        "from hls4ml.model.layers import layer_map; assert 'R2FRecurrent' in layer_map;"
        "bad = [m for m in sys.modules if m == 'torch' or m == 'train' or m.startswith('train.')];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
