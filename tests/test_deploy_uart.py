"""The board deploy path: host framing (hw/uart_protocol.py); the ULX3S top (UART bridge) in cocotb/Verilator
around a stand-in (fast, one shared build) and around the real rnn_core from a tiny random artifact, as the
bitstream has it; `python -m scripts.deploy` exit codes (programming failures, failed simulations).

Each check comes with its injected defect: a junk byte the decoder must skip, a dropped UART byte, a bridge
FIFO overflow, a wrong expected word, a bridge that does not skip junk, a failing openFPGALoader, a core held
in reset by the wrong reset polarity.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from hw import uart_protocol
from hw.synth import ecp5_board
from hw.synth.design import load_design

STANDIN = Path(__file__).parent / "data" / "standin"
ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "test_deploy"
# one shared stand-in build: a fast UART and a FIFO small enough to overflow when the host does not wait
STANDIN_TOP = dict(clks_per_bit=6, fifo_depth=2)
JUNK = [0x00, 0x5A, 0xFF]  # bytes outside the framing (0x5A: an FPGA -> host tag, not a host one)


def standin_expected(words: list[int], n_mac: int = 4, w: int = 16) -> list[int]:
    """What standin_mac.sv returns: per lane sum_t x_t * rom[t][lane], bits [2W-2 : W-1]."""
    rows = (STANDIN / "standin_weights.mem").read_text().split()
    acc = [0] * n_mac
    for t, x in enumerate(words):
        row = int(rows[t], 16)
        for i in range(n_mac):
            wv = (row >> (i * w)) & 0xFFFF
            wv -= (wv >> 15) << 16
            acc[i] += x * wv
    out = []
    for a in acc:
        v = (a >> (w - 1)) & 0xFFFF
        out.append(v - ((v >> 15) << 16))
    return out


def standin_cases(lengths, seed: int = 3) -> list[dict]:
    rng = random.Random(seed)
    cases = []
    for n in lengths:
        words = [rng.randint(-32768, 32767) for _ in range(n)]
        cases.append({"in": words, "out": standin_expected(words)})
    return cases


def simulate_standin(cases, **host):
    """The stand-in's board top (shared build) through scripts.deploy.simulate_uart."""
    from scripts.deploy import simulate_uart

    design = load_design(STANDIN)
    return simulate_uart(design, cases, WORK / "standin", host=host or None, **STANDIN_TOP)


# ------------------------------------------------------------------------------------------ host framing
def board_bytes(seqs, width: int, junk=()) -> bytes:
    """What the board sends for seqs (the host framing with the FPGA -> host tags), junk between frames."""
    n = 1 + uart_protocol.nbytes(width)
    out = bytearray()
    for s in seqs:
        stream = uart_protocol.encode_sequence(s, width)
        for k in range(0, len(stream), n):
            last = stream[k] == uart_protocol.TAG_IN_LAST
            out += bytes(junk)
            out.append(uart_protocol.TAG_OUT_LAST if last else uart_protocol.TAG_OUT)
            out += stream[k + 1 : k + n]
    return bytes(out)


def decode_in_chunks(dec, data: bytes, chunk: int = 3) -> list[list[int]]:
    got = []
    for k in range(0, len(data), chunk):
        got += dec.feed(data[k : k + chunk])
    return got


def protocol_seqs(width: int) -> list[list[int]]:
    rng = random.Random(width)
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    seqs = [[rng.randint(lo, hi) for _ in range(rng.randint(1, 9))] for _ in range(5)]
    seqs[0] = [lo, hi, 0, -1]
    return seqs


@pytest.mark.parametrize("width", [8, 12, 16, 20, 64])
def test_protocol_roundtrip_skips_junk_between_frames(width):
    seqs = protocol_seqs(width)
    dec = uart_protocol.Decoder(width)
    junk = [0x00, uart_protocol.TAG_IN, 0xFF]  # a host tag from the board is junk too
    got = decode_in_chunks(dec, board_bytes(seqs, width, junk))
    n_words = sum(map(len, seqs))
    assert got == seqs and dec.dropped == len(junk) * n_words and dec.pending == []
    assert dec.feed(b"\x00\x11") == [] and dec.dropped == len(junk) * n_words + 2


class KeepsJunk(uart_protocol.Decoder):
    """Injected defect: whatever byte stands where a tag belongs starts a word (junk is not skipped)."""

    def feed(self, data):
        self._buf += data
        done = []
        while len(self._buf) >= 1 + self.n:
            tag, raw = self._buf[0], int.from_bytes(self._buf[1 : 1 + self.n], "little")
            del self._buf[: 1 + self.n]
            self._words.append(uart_protocol.unpack_lanes(raw, self.width, 1)[0])
            if tag == uart_protocol.TAG_OUT_LAST:
                done.append(self._words)
                self._words = []
        return done


def test_protocol_junk_check_catches_a_decoder_that_keeps_junk():
    seqs = protocol_seqs(16)
    assert decode_in_chunks(KeepsJunk(16), board_bytes(seqs, 16)) == seqs  # no junk: no difference
    assert decode_in_chunks(KeepsJunk(16), board_bytes(seqs, 16, JUNK)) != seqs


def test_protocol_rejects_out_of_range():
    with pytest.raises(ValueError):
        uart_protocol.encode_sequence([128], 8)
    with pytest.raises(ValueError):
        uart_protocol.encode_sequence([], 8)


def test_pack_unpack_lanes():
    vals = [-32768, 32767, 0, -1]
    assert uart_protocol.unpack_lanes(uart_protocol.pack_lanes(vals, 16), 16, 4) == vals


# ------------------------------------------------------------------------------------------ stand-in top
def test_uart_bridge_skips_junk_and_round_trips():
    """Junk bytes before every word frame: the bridge skips them, every answer equals the stand-in's."""
    cases = standin_cases((1, 5, 17))
    cases.append({"in": [-32768] * 3, "out": standin_expected([-32768] * 3)})
    r = simulate_standin(cases, junk=JUNK)
    assert r["passed"] and r["error"] is None, r["error"]
    assert r["sequences"] == len(cases) and r["mismatches"] == 0
    assert r["junk_sent"] == len(JUNK) * sum(len(c["in"]) for c in cases)
    assert r["junk_skipped_by_host"] == 0 and not r["overflow"]


def test_uart_bridge_detects_wrong_answer():
    """Injected defect: a wrong expected word fails the simulation and names the sequence."""
    words = [100, -200, 300]
    bad = standin_expected(words)
    bad[1] += 1
    good = {"in": [7], "out": standin_expected([7])}
    r = simulate_standin([good, {"in": words, "out": bad}])
    assert not r["passed"] and "mismatching sequences [1]" in r["error"]
    assert r["mismatches"] == 1 and r["details"][0]["sequence"] == 1
    assert r["details"][0]["got"] == standin_expected(words)


def test_uart_bridge_detects_dropped_byte():
    """Injected defect: the high byte of the second word of sequence 1 is lost on the line."""
    cases = [{"in": w, "out": standin_expected(w)} for w in ([5, 6], [1000, 2000, 3000, 4000], [9])]
    r = simulate_standin(cases, drop=[1, 5])
    assert not r["passed"] and r["error"]
    assert [d["sequence"] for d in r["details"]][:1] == [1], r["details"]


def test_uart_bridge_flags_fifo_overflow():
    """Injected defect: the host sends without waiting for answers; one-word sequences arrive faster than
    their four-word answers leave, the 2-word FIFO overflows and the testbench must say so."""
    cases = standin_cases((1,) * 16, seed=5)  # the crossings (axis_cdc) buffer a few words too
    r = simulate_standin(cases, back_to_back=True)
    assert r["overflow"] and not r["passed"]
    assert "bridge FIFO overflow" in r["error"]


@pytest.mark.slow
def test_uart_bridge_mutant_that_keeps_junk_fails(monkeypatch):
    """Injected defect in the RTL: a bridge that takes any byte as a word tag; the junk test must fail."""
    src = (ecp5_board.RTL_LIB / "uart_axis_bridge.sv").read_text()
    tag_check = "if (rx_data == 8'hA5 || rx_data == 8'hA6) begin"
    assert tag_check in src
    mutant_dir = WORK / "mutant_bridge"
    mutant_dir.mkdir(parents=True, exist_ok=True)
    (mutant_dir / "uart_axis_bridge.sv").write_text(src.replace(tag_check, "if (1'b1) begin"))
    files = [mutant_dir / f.name if f.name == "uart_axis_bridge.sv" else f for f in ecp5_board.BRIDGE_FILES]
    monkeypatch.setattr(ecp5_board, "BRIDGE_FILES", files)
    from scripts.deploy import simulate_uart

    cases = standin_cases((3, 4))
    r = simulate_uart(load_design(STANDIN), cases, mutant_dir, **STANDIN_TOP)
    assert r["passed"], r["error"]  # without junk the mutant works: the junk is what exposes it
    r = simulate_uart(load_design(STANDIN), cases, mutant_dir, host={"junk": JUNK}, **STANDIN_TOP)
    assert not r["passed"] and "mismatching sequences [0, 1]" in r["error"]


# ------------------------------------------------------------------------------------------ deploy CLI
def standin_project(root: Path, vectors: list[list[int]]) -> Path:
    """A project folder whose rtl stage is the stand-in (B=1 lane of 16 bits, 4 output words per sequence)
    and whose compress stage holds `vectors` with the stand-in's answers; returns the config path."""
    cfg = root / "configs" / "standin.yaml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(yaml.safe_dump({"task": {"name": "japanese_vowels"}, "model": {"cell": "lstm"}}))
    rtl = root / "build" / "standin" / "rtl"
    rtl.mkdir(parents=True, exist_ok=True)
    for f in ("standin_mac.sv", "standin_weights.mem"):
        shutil.copy(STANDIN / f, rtl / f)
    meta = json.loads((STANDIN / "rtl.json").read_text())
    meta["params"].update(B=1, BA=16, BO=16)
    meta.update(in_beats_per_step=1, out_beats_per_vector=4)
    (rtl / "rtl.json").write_text(json.dumps(meta))
    T = max(map(len, vectors))
    x = np.zeros((len(vectors), T, 1), dtype=np.int64)
    for n, v in enumerate(vectors):
        x[n, : len(v), 0] = v
    y = np.array([standin_expected(v) for v in vectors], dtype=np.int64)
    comp = root / "build" / "standin" / "compress"
    comp.mkdir(parents=True, exist_ok=True)
    np.savez(comp / "vectors.npz", x_int=x, lengths=np.array(list(map(len, vectors))), y=y)
    return cfg


def cli_folder(monkeypatch) -> Path:
    """A fresh project folder at a fixed place (the simulated board top's build is cached), made the cwd."""
    root = WORK / "cli"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    monkeypatch.chdir(root)
    return root


def fake_loader(bin_dir: Path, code: int) -> None:
    """An openFPGALoader on PATH that prints a line and exits with `code`."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    exe = bin_dir / "openFPGALoader"
    exe.write_text(f"#!/bin/sh\necho 'fake openFPGALoader: cable not found' >&2\nexit {code}\n")
    exe.chmod(0o755)


def run_deploy(cwd: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(ROOT), "PATH": path or os.environ["PATH"], "HOME": os.environ.get("HOME", "/")}
    cmd = [sys.executable, "-m", "scripts.deploy", *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


def test_deploy_failing_openfpgaloader_exits_nonzero_with_one_line(tmp_path):
    """Injected defect: openFPGALoader is installed and exits 1: no fallback to the simulation, exit 1, one
    line naming the tool and its exit code."""
    cfg = standin_project(tmp_path, [[1, 2]])
    (tmp_path / "build" / "standin" / "synth").mkdir(parents=True)
    (tmp_path / "build" / "standin" / "synth" / "standin.bit").write_bytes(b"\x00")
    fake_loader(tmp_path / "bin", 1)
    res = run_deploy(tmp_path, "--config", str(cfg), path=f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    lines = (res.stdout + res.stderr).strip().splitlines()
    assert res.returncode == 1, res.stdout + res.stderr
    assert len(lines) == 1 and "openFPGALoader" in lines[0] and "exit code 1" in lines[0], lines
    assert "cable not found" in lines[0]
    assert not (tmp_path / "build" / "standin" / "deploy").exists()  # no simulation instead


def test_deploy_installed_loader_without_bitstream_is_one_line_error(tmp_path):
    cfg = standin_project(tmp_path, [[1, 2]])
    fake_loader(tmp_path / "bin", 0)
    res = run_deploy(tmp_path, "--config", str(cfg), path=f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1 and "standin.bit" in res.stderr


def test_deploy_rejects_zero_vectors(monkeypatch):
    from configs.schema import ConfigError
    from scripts import deploy

    cfg = standin_project(cli_folder(monkeypatch), [[1, 2]])
    with pytest.raises(ConfigError, match=r"--max-vectors: must be at least 1 \(got 0\)"):
        deploy.main(["--config", str(cfg), "--sim", "--max-vectors", "0"])


def test_deploy_simulation_exit_codes(monkeypatch, capsys):
    """Without openFPGALoader the deploy runs the bitstream's board top in simulation and says so; exit 0
    when every answer is right, exit 1 when one expected word is wrong (injected)."""
    from scripts import deploy

    which = shutil.which

    def no_loader(name, *a, **k):  # no openFPGALoader here, every other tool as it is
        return None if name == "openFPGALoader" else which(name, *a, **k)

    monkeypatch.setattr(shutil, "which", no_loader)
    root = cli_folder(monkeypatch)
    cfg = standin_project(root, [[3, -4, 5], [-32768, 32767]])
    assert deploy.main(["--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "simulation" in out and "0 mismatches" in out and "not installed" in out
    info = json.loads((root / "build/standin/deploy/deploy.json").read_text())
    # the bridge runs on the 25 MHz board clock whatever the design clock: 25e6 / 115200 baud
    assert info["run"]["clks_per_bit"] == round(25e6 / 115200) and info["run"]["fifo_depth"] == 1024

    vec = dict(np.load(root / "build/standin/compress/vectors.npz"))
    vec["y"][1, 2] += 1
    np.savez(root / "build/standin/compress/vectors.npz", **vec)
    assert deploy.main(["--config", str(cfg)]) == 1
    out = capsys.readouterr().out
    assert "1 mismatches" in out and "FAILED: mismatching sequences [1]" in out


def test_deploy_exit_code_follows_the_testbench_verdict(monkeypatch, capsys):
    """A simulation whose answers all match but whose testbench failed (e.g. an overflow) exits 1."""
    from scripts import deploy

    def failed_sim(design, cases, work, **kw):
        return {"mode": "simulation", "passed": False, "sequences": len(cases), "mismatches": 0,
                "error": "bridge FIFO overflow (a received word was dropped)"}  # fmt: skip

    monkeypatch.setattr(deploy, "simulate_uart", failed_sim)
    cfg = standin_project(cli_folder(monkeypatch), [[1, 2]])
    assert deploy.main(["--config", str(cfg), "--sim"]) == 1
    out = capsys.readouterr().out
    assert "0 mismatches" in out and "FAILED: bridge FIFO overflow" in out


def test_deploy_succeeding_loader_without_port_falls_back_to_simulation(tmp_path, monkeypatch, capsys):
    from scripts import deploy

    root = cli_folder(monkeypatch)
    cfg = standin_project(root, [[3, -4, 5]])
    (root / "build" / "standin" / "synth").mkdir(parents=True)
    (root / "build" / "standin" / "synth" / "standin.bit").write_bytes(b"\x00")
    fake_loader(tmp_path / "bin", 0)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    assert deploy.main(["--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "simulation" in out and "program: programmed" in out


# ------------------------------------------------------------------------------------------ the real core
def real_project(root: Path) -> tuple[Path, object]:
    """A tiny LSTM (random_artifact) through `make rtl`'s generator: the real rnn_top / rnn_core."""
    from compress.artifact import random_artifact
    from configs.schema import load_config
    from hw.rtl.generate import generate

    cfg = root / "configs" / "tiny.yaml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    spec = {
        "task": {"name": "japanese_vowels"},
        "model": {"cell": "lstm", "hidden": 8},
        "compression": {"block_size": 4},
    }
    cfg.write_text(yaml.safe_dump(spec))
    art = random_artifact(
        "lstm", input_size=5, hidden=8, output_size=3, b=4, mode="direct", T=4, n_vectors=2,
        out_dir=root / "build" / "tiny" / "compress",
    )  # fmt: skip
    generate(load_config(str(cfg)))
    return cfg, art


def deploy_real(monkeypatch) -> tuple[int, dict, object]:
    """`python -m scripts.deploy --sim` on the tiny real core (in a fixed folder: its build is cached)."""
    from scripts import deploy

    root = WORK / "real"
    root.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(root)
    cfg, art = real_project(root)
    code = deploy.main(["--config", str(cfg), "--sim"])
    return code, json.loads((root / "build/tiny/deploy/deploy.json").read_text())["run"], art


def test_deploy_real_board_top_matches_integer_reference(monkeypatch):
    """The generated board top around the real rnn_core with the bitstream's divisor (the board clock,
    hardware.ecp5_clock_mhz, / 115200 baud) and reset polarity (rnn_top's rst is active high: driven by
    !rst_n); the answers, lane by lane, equal compress.reference.run_int."""
    from compress import reference

    code, run, art = deploy_real(monkeypatch)
    assert code == 0 and run["passed"], run["error"]
    cpb = round(25e6 / 115200)  # the bridge's divisor: it runs on the 25 MHz board clock
    assert run["clks_per_bit"] == cpb and run["reset"] == ".rst(!rst_n_dut)," and run["fifo_depth"] == 1024
    top = (Path(run["work"]) / "ecp5_top.sv").read_text()
    assert f".CLKS_PER_BIT({cpb})" in top and ".rst(!rst_n_dut)" in top
    vec = art.vectors
    y = reference.run_int(art, vec["x"], vec["lengths"])["y"]
    B, BO = 4, 16
    got = [uart_protocol.unpack_lanes(seq[0], BO, B)[: y.shape[1]] for seq in run["answers"]]
    assert len(got) == len(y) and got == y.tolist()


@pytest.mark.slow
def test_deploy_real_board_top_with_wrong_reset_polarity_fails(monkeypatch):
    """Injected defect: the board top drives rnn_top's active-high rst with rst_n (core held in reset)."""

    def flipped(design):
        name, high = design.reset
        return f".{name}({'rst_n_dut' if high else '!rst_n_dut'}),"

    monkeypatch.setattr(ecp5_board, "reset_connection", flipped)
    code, run, _ = deploy_real(monkeypatch)
    assert code == 1 and not run["passed"]
    assert "no answer to sequence 0" in run["error"]


def test_board_top_reset_connection():
    """Active-high resets get !rst_n, active-low ones rst_n, none: no connection."""
    from hw.synth.design import Design

    d = Design(top="t", files=[], mem_files=[], ports={"clk": {}, "rst": {}})
    assert ecp5_board.reset_connection(d) == ".rst(!rst_n_dut),"
    d.ports = {"clk": {}, "aresetn": {}}
    assert ecp5_board.reset_connection(d) == ".aresetn(rst_n_dut),"
    d.ports = {"clk": {}}
    assert ecp5_board.reset_connection(d) == ""
    assert ecp5_board.uart_divisor(25.0) == 217 and ecp5_board.uart_divisor(50.0) == 434
