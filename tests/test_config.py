"""Bad configs: `python -m train` prints one line naming the file, key and value, exits 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def run_train(config: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "train", "--config", str(config), "--root", str(tmp_path / "build")]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)


def check_one_line_error(run: subprocess.CompletedProcess, *needles: str) -> None:
    assert run.returncode == 2, (run.returncode, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "Traceback" not in run.stderr and lines[0].startswith("error:")
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.mark.parametrize(
    "text, needles",
    [
        ("training:\n  epoch: 3\n", ("training.epoch", "unknown key", "3")),
        ("training:\n  epochs: ten\n", ("training.epochs", "'ten'")),
        ("model:\n  cell: lstmx\n", ("model.cell", "'lstmx'")),
        ("compression:\n  block_size: 6\n", ("compression.block_size", "6")),
        ("training:\n  lr: -1\n", ("training.lr", "-1")),
        ("task:\n  name: npz\n", ("task.path", "None")),
        ("hardware:\n  ecp5_placer: annealing\n", ("hardware.ecp5_placer", "'annealing'")),
        ("hardware:\n  batch: 5\n", ("hardware.batch", "5")),
        ("task: [unclosed\n", ("invalid YAML",)),
        ("training:\n  epochs: 2\n bad_indent: 1\n", ("invalid YAML",)),
    ],
)
def test_bad_config_one_line_exit_2(tmp_path, text, needles):
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    check_one_line_error(run_train(config, tmp_path), str(config), *needles)


def test_missing_config_file(tmp_path):
    config = tmp_path / "nope.yaml"
    check_one_line_error(run_train(config, tmp_path), str(config), "cannot read")


def test_bad_npz_file(tmp_path):
    data = tmp_path / "d.npz"
    np.savez(data, X=np.zeros((5, 4)), y=np.zeros(5))
    config = tmp_path / "npz.yaml"
    config.write_text(
        f"task:\n  name: npz\n  path: {data}\nmodel:\n  hidden: 4\ntraining:\n  epochs: 1\n  threads: 1\n"
    )
    check_one_line_error(run_train(config, tmp_path), str(data), "X:", "(5, 4)")
    missing = tmp_path / "missing.yaml"
    missing.write_text(f"task:\n  name: npz\n  path: {tmp_path / 'none.npz'}\n")
    check_one_line_error(run_train(missing, tmp_path), "none.npz", "task.path")


@pytest.mark.parametrize("config", sorted((REPO / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_validate(config):
    from configs.schema import load_config

    cfg = load_config(config)
    assert cfg["name"] == config.stem


def test_atomic_write_gives_the_usual_file_mode(tmp_path):
    """Artifacts written atomically are readable like files from open() (mkstemp alone gives 0600)."""
    import os

    from configs.util import FILE_MODE, atomic_write_text

    atomic_write_text(tmp_path / "report.md", "x")
    assert os.stat(tmp_path / "report.md").st_mode & 0o777 == FILE_MODE
