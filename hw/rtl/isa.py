"""Instruction encoding of the microcoded core (mirror of hw/rtl/rnn_isa_pkg.sv: same fields, same order)."""

from __future__ import annotations

OPS = {"HALT": 0, "IN": 1, "OUT": 2, "MV": 3, "EW": 4, "LOOP": 5, "ENDLOOP": 6}
ALUS = {"ADD": 0, "MUL": 1, "REQ": 2, "PWL": 3, "MODRELU": 4}
MODES = {"abs": 0, "t": 1, "last": 2}
ZBANK = 1 << 15  # address bit 15: the matrix-output bank (rnn_core.sv), where every MV writes

# (name, width, signed) from the most significant bits down, as in the packed struct instr_t
FIELDS = [
    ("op", 4, False),
    ("alu", 3, False),
    ("dmode", 2, False),
    ("amode", 2, False),
    ("bmode", 2, False),
    ("cmode", 2, False),
    ("dst", 16, False),
    ("a", 16, False),
    ("b", 16, False),
    ("c", 16, False),
    ("zb", 1, False),
    ("zc", 1, False),
    ("nb", 1, False),
    ("n", 12, False),
    ("g", 12, False),
    ("pb", 12, False),
    ("sh", 8, True),
    ("bits", 6, False),
    ("tsel", 4, False),
    ("seg", 5, False),
    ("rl", 6, True),
    ("wbase", 16, False),
    ("dense", 1, False),
    ("fft", 1, False),
    ("last", 2, False),
    ("seq", 2, False),
    ("lag", 1, False),
]
WIDTH = sum(w for _, w, _ in FIELDS)


def encode(ins: dict) -> int:
    """Pack an instruction dict (missing fields are 0; op/alu/modes by name) into an integer."""
    unknown = set(ins) - {f for f, _, _ in FIELDS} - {"note"}
    if unknown:
        raise ValueError(f"unknown instruction fields {sorted(unknown)}")
    v = 0
    for name, width, signed in FIELDS:
        x = ins.get(name, 0)
        if name == "op":
            x = OPS[x]
        elif name == "alu":
            x = ALUS[x] if isinstance(x, str) else x
        elif name.endswith("mode") and isinstance(x, str):
            x = MODES[x]
        x = int(x)
        lo, hi = (-(1 << (width - 1)), (1 << (width - 1)) - 1) if signed else (0, (1 << width) - 1)
        if not lo <= x <= hi:
            raise ValueError(
                f"instruction field {name}={x} does not fit {width} bits ({ins.get('note', '')})"
            )
        v = (v << width) | (x & ((1 << width) - 1))
    return v
