"""`verilator --lint-only -Wall` on every RTL module (several parameter sets) and on a generated top level;
the generator's and the simulator's command lines."""

import subprocess
import sys

import pytest
import yaml

from compress.artifact import random_artifact
from hw.rtl import LIBRARY, RTL_DIR
from sim import runner

MODULES = [m for m in LIBRARY if not m.endswith("_pkg")]


def _lint(files, top, params=()):
    root = runner.setup_verilator()
    cmd = [
        str(root / "bin" / "verilator"),
        "--lint-only",
        "-Wall",
        *params,
        "--top-module",
        top,
        *map(str, files),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "%Warning" not in res.stderr, res.stderr[-3000:]


@pytest.mark.parametrize("top", MODULES)
def test_module_lint_clean(top):
    _lint([RTL_DIR / f"{n}.sv" for n in LIBRARY], top)


@pytest.mark.parametrize(
    "params",
    [["-GFFT=0"], ["-GDIRECT=0", "-GDENSE=0", "-GE=4"], ["-GB=4", "-GP=3"], ["-GB=16", "-GP=1"], ["-GB=2"]],
)
def test_core_lint_clean_across_parameters(params):
    _lint([RTL_DIR / f"{n}.sv" for n in LIBRARY], "rnn_core", params)


def _config(tmp_path, **hw):
    cfg = {"task": {"name": "japanese_vowels"}, "model": {"cell": "lstm", "hidden": 16}, "hardware": hw}
    path = tmp_path / "configs" / "tiny.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_make_rtl_writes_top_files_and_lints(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = _config(tmp_path, parallelism=3)
    random_artifact(
        "lstm", hidden=16, b=8, mode="fft", peepholes=True, out_dir=tmp_path / "build/tiny/compress"
    )
    res = subprocess.run(
        [sys.executable, "-m", "hw.rtl", "--config", str(cfg)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(runner.ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert res.returncode == 0, res.stderr[-2000:]
    out = tmp_path / "build/tiny/rtl"
    info = yaml.safe_load((out / "rtl.json").read_text())
    assert info["top"] == "rnn_top" and info["params"]["P"] == 3 and info["params"]["FFT"] == 1
    for name in ("dm.mem", "prog.mem", "w.mem", "pwl.mem", "rnn_params_pkg.sv", "rnn_top.sv", "files.f"):
        assert (out / name).stat().st_size > 0
    files = (out / "files.f").read_text().split()
    assert files == info["files"]
    _lint(files, "rnn_top")


def test_make_rtl_missing_artifact_is_one_line_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = _config(tmp_path)
    res = subprocess.run(
        [sys.executable, "-m", "hw.rtl", "--config", str(cfg)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(runner.ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1 and "compress" in res.stderr
