"""Move the flip-flops behind ECP5 block RAM outputs into the block RAMs' own output registers (a pass
over the yosys JSON netlist, between synth_ecp5 and nextpnr).

Yosys maps a memory to DP16KD with REGMODE NOREG even when the RTL registers the read data once more
(ram_1r1w / rom_sync OREG=1): the second register stays a slice flip-flop, and the path from the block RAM
to it starts with the RAM's 5.6-5.8 ns clock-to-data (../shared/REFERENCE.md, "ECP5 timing"). The DP16KD
output register (REGMODE OUTREG) is the same register inside the RAM, with 0.97 ns clock-to-out. A port is
converted when every data output it drives feeds exactly one TRELLIS_FF and nothing else, and each of those
flip-flops is a plain register of the RAM's clock (no clock enable, no set/reset, clock not inverted); the
port's output enable is tied high and its reset low. Then the FF goes, its output net is driven by the RAM
pin, and the port's REGMODE becomes OUTREG: the same register at the same edge, so the netlist's function is
unchanged. In 36-bit mode (pseudo dual port) the read data comes out of both ports' pins: both must
qualify, and both switch.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from pathlib import Path

log = logging.getLogger(__name__)

BRAM = "DP16KD"
FF = "TRELLIS_FF"


def _is_plain_ff(cell: dict, clk) -> bool:
    """A TRELLIS_FF with no enable, no set/reset, clocked (rising) by the net `clk`."""
    p, c = cell["parameters"], cell["connections"]
    ce_on = str(p.get("CEMUX", "CE")).strip() == "1" or c.get("CE") == ["1"]
    return (
        ce_on
        and c.get("LSR", ["0"]) == ["0"]
        and str(p.get("CLKMUX", "CLK")).strip() == "CLK"
        and str(p.get("GSR", "DISABLED")) == "DISABLED"
        and c.get("CLK") == clk
    )


def _width(cell: dict, port: str) -> int:
    v = cell["parameters"].get(f"DATA_WIDTH_{port}", "0")
    return int(v, 2) if isinstance(v, str) else int(v)


def _loads(module: dict) -> dict[int, list[tuple[str, str]]]:
    """net bit -> [(cell, input port)] of every cell input (and a ('', port) entry per module output)."""
    loads: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for name, cell in module["cells"].items():
        dirs = cell.get("port_directions", {})
        for port, bits in cell["connections"].items():
            if dirs.get(port) != "output":
                for b in bits:
                    if isinstance(b, int):
                        loads[b].append((name, port))
    for port, v in module.get("ports", {}).items():
        if v["direction"] != "input":
            for b in v["bits"]:
                if isinstance(b, int):
                    loads[b].append(("", port))
    return loads


def _port_plan(module: dict, bram: dict, port: str, loads, ctl: str) -> list[tuple[str, str]] | None:
    """[(RAM pin, FF cell)] for the port's used data outputs, or None if the port does not qualify.
    ctl: the port whose output enable and reset govern the register (the read port B in 36-bit mode)."""
    c = bram["connections"]
    if c.get(f"OCE{ctl}") != ["1"] or c.get(f"RST{ctl}") != ["0"] or c.get(f"RST{port}") != ["0"]:
        return None
    if bram["parameters"].get(f"REGMODE_{port}", "NOREG") != "NOREG":
        return None
    if str(bram["parameters"].get(f"CLK{port}MUX", f"CLK{port}")) != f"CLK{port}":
        return None
    plan = []
    for i in range(18):
        pin = f"DO{port}{i}"
        bits = c.get(pin, [])
        if not bits or not isinstance(bits[0], int) or not loads.get(bits[0]):
            continue  # unused output
        users = loads[bits[0]]
        if len(users) != 1 or users[0][1] != "DI":
            return None
        ff = module["cells"].get(users[0][0])
        if ff is None or ff["type"] != FF or not _is_plain_ff(ff, c.get(f"CLK{port}")):
            return None
        plan.append((pin, users[0][0]))
    return plan


def absorb_module(module: dict) -> int:
    """Convert every qualifying DP16KD port of `module` in place; returns the flip-flops absorbed."""
    loads = _loads(module)
    absorbed = 0
    for bram in [c for c in module["cells"].values() if c["type"] == BRAM]:
        wide = _width(bram, "A") == 36 or _width(bram, "B") == 36
        ports = ["A", "B"]
        # 36-bit mode: port A writes, port B reads the word {DOB, DOA} (yosys' $__PDPW16KD_ map); the read
        # port's enable and reset govern both halves, the write port's output enable is tied low by yosys and
        # set high here, so either reading of the silicon (one or two enables) clocks both halves
        plans = {p: _port_plan(module, bram, p, loads, "B" if wide else p) for p in ports}
        if wide:
            if None in plans.values() or bram["connections"].get("CLKA") != bram["connections"].get("CLKB"):
                continue
            todo = ports
        else:
            todo = [p for p in ports if plans[p]]
        if not any(plans[p] for p in todo):
            continue
        for p in todo:
            for pin, ff_name in plans[p]:
                ff = module["cells"].pop(ff_name)
                bram["connections"][pin] = ff["connections"]["Q"]
                absorbed += 1
            bram["parameters"][f"REGMODE_{p}"] = "OUTREG"
        if wide:
            bram["connections"]["OCEA"] = ["1"]
    return absorbed


def absorb_output_registers(netlist: Path) -> int:
    """Apply absorb_module to every module of a yosys JSON netlist file (rewritten in place, atomically)."""
    netlist = Path(netlist)
    data = json.loads(netlist.read_text())
    total = sum(absorb_module(m) for m in data["modules"].values())
    tmp = netlist.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(netlist)
    log.info(
        "ecp5: %d block-RAM output flip-flops moved into DP16KD output registers (REGMODE OUTREG)", total
    )
    return total
