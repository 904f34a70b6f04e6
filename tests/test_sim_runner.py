"""sim/runner.py: a cocotb run passes only when at least one test ran and none failed."""

from __future__ import annotations

import pytest

from sim import runner

TB = {
    "tb_none": '"""No test at all."""\nimport cocotb  # noqa: F401\n',
    "tb_pass": "import cocotb\n\n@cocotb.test()\nasync def ok(dut):\n    pass\n",
    "tb_fail": "import cocotb\n\n@cocotb.test()\nasync def bad(dut):\n    assert False, 'injected'\n",
}


@pytest.fixture
def tb_dir(tmp_path, monkeypatch):
    for name, text in TB.items():
        (tmp_path / f"{name}.py").write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))  # the runner passes sys.path on to the simulator
    return tmp_path


def _run(module, tb_dir, check):
    src = runner.rtl_sources(["uart_tx"])
    return runner.run(src, "uart_tx", module, test_dir=tb_dir / module, check=check)


def test_a_passing_module_passes(tb_dir):
    r = _run("tb_pass", tb_dir, check=True)
    assert r["passed"] and r["tests"] == 1


@pytest.mark.parametrize("module,message", [("tb_none", "no cocotb test ran"), ("tb_fail", "1 of 1")])
def test_zero_tests_or_a_failure_is_not_a_pass(module, message, tb_dir):
    assert not _run(module, tb_dir, check=False)["passed"]
    with pytest.raises(AssertionError, match=message):
        _run(module, tb_dir, check=True)


@pytest.mark.parametrize("cpb,fails", [(1, True), (2, False)])
def test_a_bad_parameter_stops_the_simulation_build(tb_dir, cpb, fails, capfd):
    """The modules' elaboration checks ($error) are errors for the simulation build (-Werror-USERERROR)."""
    src = runner.rtl_sources(["uart_tx"])
    if not fails:
        assert runner.run(
            src, "uart_tx", "tb_pass", parameters={"CLKS_PER_BIT": cpb}, test_dir=tb_dir / "ok"
        )["passed"]
        return
    with pytest.raises(RuntimeError, match="Command failed"):
        runner.run(src, "uart_tx", "tb_pass", parameters={"CLKS_PER_BIT": cpb}, test_dir=tb_dir / "bad")
    out = capfd.readouterr()
    assert "uart_tx: CLKS_PER_BIT must be at least 2" in out.out + out.err
