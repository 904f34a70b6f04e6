"""HLS C-simulation (hls4ml project, g++) equals the integer reference: a representative slice of the
cell x b x mode matrix (the whole matrix is tests/test_hls_matrix.py, slow), the default config's test
vectors, the `python -m hw.hls` entry point, registration and the no-torch rule."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from compress.artifact import random_artifact
from tests.hls_util import assert_comparison_is_live, check_random_model, needs_gxx

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
    assert res["mismatches"] == 0
    assert_comparison_is_live(graph, art.vectors)


def _fake_vitis_hls(folder: Path, body: str) -> Path:
    """A vitis_hls on PATH running `body` (sh) in the project folder."""
    fake = folder / "vitis_hls"
    folder.mkdir(parents=True, exist_ok=True)
    fake.write_text(f"#!/bin/sh\n{body}\n")
    fake.chmod(0o755)
    return fake


REPORT = "myproject_prj/solution1/syn/report/myproject_csynth.rpt"
WRITES_REPORT = "\n".join(
    [
        'echo "$@" > called.txt',
        "cp build_opt.tcl opts_seen.tcl",
        f"mkdir -p {Path(REPORT).parent}",
        f"echo ok > {REPORT}",
    ]
)


@needs_gxx
def test_cli_writes_project_and_csim_json(tmp_path, monkeypatch, capsys):
    """`python -m hw.hls --config` on a saved artifact: build_prj.tcl, tb_data, csim.json, 0 mismatches;
    csynth 'skipped' without an HLS tool on PATH; with a vitis_hls that fails, exit 1 and one line."""
    from hw.hls.__main__ import hls_tool, main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    if hls_tool(None) != (None, None):
        pytest.skip(f"an HLS tool is installed in /usr/bin or /bin: {hls_tool(None)}")
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "tiny.yaml").write_text("model: {cell: gru, hidden: 8}\n")
    random_artifact("gru", b=4, mode="direct", n_vectors=12, out_dir=tmp_path / "build/tiny/compress")
    assert main(["--config", "configs/tiny.yaml"]) == 0
    out = tmp_path / "build/tiny/hls"
    summary = json.loads((out / "csim.json").read_text())
    assert summary["sequences"] == 12 and summary["mismatches"] == 0 and summary["compile_seconds"] > 0
    assert (out / "build_prj.tcl").is_file() and (out / "firmware" / "nnet_utils" / "r2f_rnn.h").is_file()
    assert len((out / "tb_data" / "tb_input_features.dat").read_text().splitlines()) == 12
    assert summary["csynth"] == "skipped" and "csynth_report" not in summary
    _fake_vitis_hls(tmp_path / "bin", "echo 'ERROR: [HLS 200-70] injected failure'; exit 1")
    capsys.readouterr()
    assert main(["--config", "configs/tiny.yaml"]) == 1
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("error:")]
    assert len(err) == 1 and err[0].startswith("error: vitis_hls: exit code 1") and "injected" in err[0]
    assert json.loads((out / "csim.json").read_text())["csynth"].startswith("failed: vitis_hls: exit code 1")


def test_cli_runs_csynth_when_vitis_hls_on_path(tmp_path, monkeypatch):
    """A (fake) vitis_hls on PATH is run on the project's build_prj.tcl with csynth on, csim off; its report
    is returned. One that exits 0 without a report is an error (an earlier run's report is no alibi)."""
    from hw.hls import __main__ as cli
    from hw.synth.tools import ToolError

    _fake_vitis_hls(tmp_path / "bin", WRITES_REPORT)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    assert cli.hls_tool(None) == ("Vitis", "vitis_hls")
    out = tmp_path / "prj"
    out.mkdir()
    assert cli.run_csynth(None, out, "vitis_hls", cosim=False) == out / REPORT
    assert (out / "called.txt").read_text().split() == ["-f", "build_prj.tcl"]
    opts = (out / "opts_seen.tcl").read_text()
    assert "synth 1" in opts and "csim 0" in opts
    _fake_vitis_hls(
        tmp_path / "bin", "echo 'nothing done'"
    )  # exits 0, writes no report; the old one is there
    with pytest.raises(ToolError, match="no C-synthesis report") as info:
        cli.run_csynth(None, out, "vitis_hls", cosim=False)
    assert "\n" not in str(info.value)


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
