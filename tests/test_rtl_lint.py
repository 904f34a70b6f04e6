"""`verilator --lint-only -Wall` on every RTL module (several parameter sets) and on a generated top level;
the generator's and the simulator's command lines."""

import subprocess
import sys

import pytest
import yaml

from compress.artifact import random_artifact
from hw.rtl import LIBRARY, RTL_DIR
from hw.synth.ecp5_board import BRIDGE_FILES
from sim import runner

MODULES = [m for m in LIBRARY if not m.endswith("_pkg")]
UART_FILES = list(BRIDGE_FILES)  # uart_rx, uart_tx, uart_axis_bridge, axis_cdc: what the board top compiles


def _verilator_lint(files, top, params=()) -> subprocess.CompletedProcess:
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
    return subprocess.run(cmd, capture_output=True, text=True)


def _lint(files, top, params=()):
    res = _verilator_lint(files, top, params)
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


BAD_PARAMETERS = [  # (top, -G overrides, message the module's elaboration check gives)
    ("rnn_core", ["-GB=12"], "rnn_core: B (lanes) must be 2, 4, 8 or 16"),
    ("rnn_core", ["-GE=3"], "E (element-wise words per cycle) must be a power of two"),
    ("rnn_core", ["-GFFT=0", "-GDIRECT=0", "-GDENSE=0"], "at least one matrix-vector path"),
    ("rnn_core", ["-GN=20"], "N (PWL segments) must be"),
    ("rnn_core", ["-GBA=20"], "data width DW=20"),
    ("mv_unit", ["-GP=0"], "mv_unit: P must be at least 1"),
    ("ew_unit", ["-GB=6"], "ew_unit: B (lanes x words per cycle)"),
    ("pwl_act", ["-GN=12"], "pwl_act: N must be"),
    ("fft_dit", ["-GB=6"], "fft_dit: B must be a power of two"),
    ("fxp_requant", ["-GIW=8", "-GOW=20"], "fxp_requant: IW + SHL must be at least OW"),
    ("ram_1r1w", ["-GDEPTH=1"], "ram_1r1w: DEPTH >= 2"),
    ("uart_tx", ["-GCLKS_PER_BIT=1"], "uart_tx: CLKS_PER_BIT must be at least 2"),
    ("uart_axis_bridge", ["-GFIFO_DEPTH=1000"], "FIFO_DEPTH must be a power of two"),
]


@pytest.mark.parametrize("top,params,message", BAD_PARAMETERS, ids=[f"{t}{p}" for t, p, _ in BAD_PARAMETERS])
def test_bad_parameters_stop_elaboration(top, params, message):
    """Each module checks its parameters at elaboration ($error): lint (and the simulation build, which
    promotes USERERROR to an error) fails with the module's message."""
    files = UART_FILES if top.startswith("uart") else [RTL_DIR / f"{n}.sv" for n in LIBRARY]
    res = _verilator_lint(files, top, params)
    assert res.returncode != 0 and "%Warning-USERERROR" in res.stderr and message in res.stderr, res.stderr[
        -2000:
    ]


def test_every_uart_module_is_linted():
    """A new hw/rtl/uart_*.sv that the board top does not compile (so nothing lints) fails here."""
    assert sorted([*RTL_DIR.glob("uart_*.sv"), RTL_DIR / "axis_cdc.sv"]) == sorted(UART_FILES)


@pytest.mark.parametrize("top", [f.stem for f in UART_FILES])
def test_uart_module_lint_clean(top):
    _lint(UART_FILES, top)


@pytest.mark.parametrize(
    "params",
    [
        ["-GIN_W=128", "-GOUT_W=128", "-GCLKS_PER_BIT=217", "-GFIFO_DEPTH=1024"],  # default model, bitstream
        ["-GIN_W=8", "-GOUT_W=20", "-GCLKS_PER_BIT=4", "-GFIFO_DEPTH=2"],
        ["-GIN_W=12", "-GOUT_W=64", "-GCLKS_PER_BIT=6", "-GFIFO_DEPTH=256"],
    ],
)
def test_uart_bridge_lint_clean_across_parameters(params):
    _lint(UART_FILES, "uart_axis_bridge", params)


def test_lint_catches_an_injected_uart_defect(tmp_path):
    """Injected defect: uart_tx's bit counter one bit too narrow for the 10 bits of a frame."""
    src = (RTL_DIR / "uart_tx.sv").read_text()
    good = "logic [3:0] nbits;"
    assert good in src
    bad = tmp_path / "uart_tx.sv"
    bad.write_text(src.replace(good, "logic [2:0] nbits;"))
    with pytest.raises(AssertionError, match="WIDTH"):
        _lint([bad], "uart_tx")


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
    _lint([out / f for f in files], "rnn_top")


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
