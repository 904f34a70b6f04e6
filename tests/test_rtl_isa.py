"""hw/rtl/isa.py (the Python encoder) against hw/rtl/rnn_isa_pkg.sv (the core's decoder): same opcodes, ALU
codes, address modes and instruction fields (name, width, signedness, order)."""

from __future__ import annotations

import re

import pytest

from hw.rtl import RTL_DIR, isa

PKG = RTL_DIR / "rnn_isa_pkg.sv"
ENUM_NAMES = {"op_t": ("OP_", isa.OPS), "alu_t": ("ALU_", isa.ALUS), "amode_t": ("AM_", isa.MODES)}


def parse_enums(text: str) -> dict[str, dict[str, int]]:
    """{enum type: {member: value}} of every `typedef enum logic [..] { A = N'dV, ... } name_t;`."""
    out = {}
    for body, name in re.findall(r"typedef\s+enum\s+logic\s*\[[^\]]*\]\s*\{(.*?)\}\s*(\w+)\s*;", text, re.S):
        body = re.sub(r"//[^\n]*", "", body)
        out[name] = {m: int(v) for m, v in re.findall(r"(\w+)\s*=\s*\d+'d(\d+)", body)}
    return out


def parse_fields(text: str) -> list[tuple[str, int, bool]]:
    """[(name, width, signed)] of `typedef struct packed { ... } instr_t;`, most significant first."""
    body = re.search(r"typedef\s+struct\s+packed\s*\{(.*?)\}\s*instr_t\s*;", text, re.S).group(1)
    fields = []
    for line in re.sub(r"//[^\n]*", "", body).split(";"):
        m = re.fullmatch(r"\s*logic\s+(signed\s+)?(?:\[(\d+):0\]\s*)?(\w+)\s*", line)
        if m:
            fields.append((m.group(3), int(m.group(2)) + 1 if m.group(2) else 1, bool(m.group(1))))
        else:
            assert not line.strip(), f"unparsed instr_t field {line.strip()!r}"
    return fields


def differences(text: str) -> list[str]:
    """What differs between the package text and hw/rtl/isa.py (empty when they agree)."""
    diffs = []
    enums = parse_enums(text)
    for enum, (prefix, table) in ENUM_NAMES.items():
        sv = {k.removeprefix(prefix).lower(): v for k, v in enums.get(enum, {}).items()}
        py = {k.lower(): v for k, v in table.items()}
        if sv != py:
            diffs.append(f"{enum}: sv {sv} != isa.py {py}")
    if parse_fields(text) != isa.FIELDS:
        diffs.append(f"instr_t: sv {parse_fields(text)} != isa.py {isa.FIELDS}")
    return diffs


def test_isa_py_matches_the_sv_package():
    text = PKG.read_text()
    assert differences(text) == []
    assert sum(w for _, w, _ in parse_fields(text)) == isa.WIDTH


@pytest.mark.parametrize(
    "old,new",
    [
        ("OP_EW = 4'd4", "OP_EW = 4'd7"),  # opcode renumbered
        ("ALU_PWL = 3'd3", "ALU_PWL = 3'd5"),
        ("AM_LAST = 2'd2", "AM_LAST = 2'd3"),
        ("logic [11:0] g;", "logic [10:0] g;"),  # width
        ("logic signed [7:0] sh;", "logic [7:0] sh;"),  # signedness
        ("logic dense;", "logic fft_x;"),  # name
    ],
)
def test_a_changed_package_is_caught(old, new):
    text = PKG.read_text()
    assert old in text
    assert differences(text.replace(old, new))


def test_a_reordered_package_is_caught():
    text = PKG.read_text()
    swapped = text.replace("logic [15:0] a;", "@@").replace("logic [15:0] b;", "logic [15:0] a;")
    assert differences(swapped.replace("@@", "logic [15:0] b;"))
