"""Stages flow forward: `make sim` simulates what `make rtl` wrote (byte-identical memory images), and says in
one line when the rtl stage is missing or stale; the rtl folder is relocatable (no absolute paths)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys

import pytest
import yaml

from compress.artifact import random_artifact
from sim import runner

ENV = {"PYTHONPATH": str(runner.ROOT), "PATH": "/usr/bin:/bin"}


def _stage(module: str, *args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, "--config", "tiny.yaml", *args],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=cwd,
    )


@pytest.fixture
def project(tmp_path):
    """A tiny GRU experiment with its compress stage built."""
    cfg = {
        "model": {"cell": "gru", "hidden": 8},
        "compression": {"block_size": 4},
        "hardware": {"parallelism": 1},
    }
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(cfg))
    random_artifact("gru", hidden=8, b=4, mode="direct", out_dir=tmp_path / "build/tiny/compress")
    return tmp_path


def test_sim_simulates_the_rtl_stage_byte_for_byte(project):
    res = _stage("hw.rtl", cwd=project)
    assert res.returncode == 0, res.stderr[-2000:]
    rtl = project / "build/tiny/rtl"
    vcd = project / "w.vcd"
    res = _stage("sim", "--vcd", str(vcd), "--vectors", "2", cwd=project)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads((project / "build/tiny/sim/results_2_vectors.json").read_text())
    assert out["mismatches"] == 0 and out["cycle_model_errors"] == [0, 0]
    want = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in rtl.glob("*.mem")}
    assert len(want) == 4 and out["memory_images"] == want
    assert vcd.stat().st_size > 1000


def test_rtl_folder_has_no_absolute_paths_and_moves(project, tmp_path_factory):
    assert _stage("hw.rtl", cwd=project).returncode == 0
    rtl = project / "build/tiny/rtl"
    for f in rtl.iterdir():
        if f.suffix in (".json", ".sv", ".f", ".txt"):
            assert str(project) not in f.read_text(), f.name
    moved = tmp_path_factory.mktemp("moved")
    shutil.copytree(project / "build", moved / "build")
    shutil.copy(project / "tiny.yaml", moved)
    shutil.rmtree(project / "build")
    res = _stage("sim", "--vectors", "1", cwd=moved)
    assert res.returncode == 0, res.stderr[-3000:]


def test_sim_without_rtl_is_one_line_naming_the_stage(project):
    res = _stage("sim", cwd=project)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "build/tiny/rtl/rtl.json: missing: run `make rtl`" in lines[0]


@pytest.mark.parametrize("change", ["compress", "hardware"])
def test_sim_on_a_stale_rtl_is_one_line(project, change):
    assert _stage("hw.rtl", cwd=project).returncode == 0
    if change == "compress":  # a new compress artifact after make rtl
        random_artifact("gru", hidden=8, b=4, mode="direct", seed=9, out_dir=project / "build/tiny/compress")
    else:
        cfg = yaml.safe_load((project / "tiny.yaml").read_text())
        cfg["hardware"]["parallelism"] = 2
        (project / "tiny.yaml").write_text(yaml.safe_dump(cfg))
    res = _stage("sim", cwd=project)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and f"stale: {change} changed" in lines[0]


@pytest.mark.parametrize(
    "cell",
    ["scornn"]
    + [pytest.param(c, marks=pytest.mark.slow) for c in ("lstm", "gru", "enrnn", "momentum_lstm", "bilstm")],
)
def test_dense_model_through_make_rtl_sim(cell, tmp_path):
    """An uncompressed model (no circulant matrix: the lane count is compression.block_size) through both
    stages; a dense scoRNN used to pass `make rtl` and then fail `make sim`."""
    kw = dict(n2=4) if cell == "enrnn" else {}
    cfg = {"model": {"cell": cell, "hidden": 8, **kw}, "compression": {"mode": "dense", "block_size": 4}}
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(cfg))
    random_artifact(cell, hidden=8, b=None, out_dir=tmp_path / "build/tiny/compress", **kw)
    assert _stage("hw.rtl", cwd=tmp_path).returncode == 0
    res = _stage("sim", cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads((tmp_path / "build/tiny/sim/results.json").read_text())
    assert out["mismatches"] == 0 and out["vectors"] == 4 and set(out["cycle_model_errors"]) == {0}


def test_sim_writes_the_activity_synth_reads(project, monkeypatch):
    """`make sim` leaves build/NAME/sim/activity.json (a waveform of its shortest sequence, VCD deleted);
    synth reads that file and never runs the simulation itself. The vectors and the waveform run share one
    Verilator build (built for waveforms; only the second run dumps one)."""
    from configs.schema import load_config
    from hw.synth import __main__ as synth

    assert _stage("hw.rtl", cwd=project).returncode == 0
    cache = project / "sim_cache"
    monkeypatch.setitem(ENV, "RTL_SIM_CACHE", str(cache))
    res = _stage("sim", cwd=project)
    assert res.returncode == 0, res.stderr[-3000:]
    assert len([d for d in cache.iterdir() if d.is_dir()]) == 1
    sim = project / "build/tiny/sim"
    act = json.loads((sim / "activity.json").read_text())
    assert act["cycles"] > 50 and act["groups"] and "test sequence" in act["source"]
    assert not list(sim.rglob("*.vcd"))
    monkeypatch.chdir(project)
    cfg = load_config("tiny.yaml")
    assert synth.find_activity(cfg, None) == act
    (sim / "activity.json").unlink()
    assert synth.find_activity(cfg, None) is None
