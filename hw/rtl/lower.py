"""Passes from a cell's op graph (compress/graph.py) to the core's data-memory layout and instructions.

1. `machine_ops`: graph ops -> core operations (MV, EW ADD/MUL/REQ/PWL/MODRELU); sums of more than three
   terms become a partial sum without saturation plus a final ADD (exact: each partial sum fits the data
   width).
2. `layouts`: every stored value is split into segments at the element offsets its views use (gates of an
   MV output, the two halves of an ENRNN state); lane-aligned values share their segments, and a segment that
   does not start on a word (b * E elements) boundary is padded, so sizes need not be multiples of b.
3. hw/rtl/program.py places them: buffers in the data memory (concatenations share one buffer, consecutive EW
   operations over adjacent operands merge into one instruction, a new state is written in place when nothing
   reads the old one afterwards).
Nothing here knows a cell type: every cell is compiled from its graph alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from compress.graph import CellGraph, Value, is_scalar, root_of

EW_ALU = {"add": "ADD", "sub": "ADD", "mul": "MUL", "requant": "REQ", "act": "PWL", "modrelu": "MODRELU"}


@dataclass(eq=False)
class MOp:
    """One core operation: MV (args [v]) or EW (args a, b, c: Values, or None for a zero operand)."""

    kind: str  # MV | EW
    alu: str | None
    args: list
    out: Value
    attrs: dict = field(default_factory=dict)


def machine_ops(g: CellGraph) -> list[MOp]:
    """Graph ops in program order as core operations."""
    out: list[MOp] = []
    for op in g.ops:
        if op.kind == "mv":
            out.append(MOp("MV", None, op.args, op.out, dict(op.attrs)))
        elif op.kind == "add":
            terms = list(op.args)
            while len(terms) > 3:  # exact partial sum (no saturation), then the saturating final ADD
                part = Value(terms[0].n, None, f"{op.out.name}p{len(terms)}")  # exact: no format
                out.append(MOp("EW", "ADD", terms[:3], part, {"partial": True}))
                terms = [part, *terms[3:]]
            out.append(MOp("EW", "ADD", terms, op.out))
        elif op.kind == "sub":
            out.append(MOp("EW", "ADD", op.args, op.out, {"negate_b": True}))
        else:
            out.append(MOp("EW", EW_ALU[op.kind], op.args, op.out, dict(op.attrs)))
    return out


# ----------------------------------------------------------------------------------------------- layouts
@dataclass
class Layout:
    """Segments (logical start, length, physical start) of a root value; `size` physical elements."""

    segments: list[tuple[int, int, int]]
    size: int

    def view(self, off: int, n: int) -> list[tuple[int, int, int]]:
        """Segments of the view [off, off + n), relative to the view's own start (logical and physical)."""
        segs = [s for s in self.segments if off <= s[0] < off + n]
        if not segs or segs[0][0] != off or sum(s[1] for s in segs) != n:
            raise ValueError(f"view [{off}, {off + n}) does not cover whole segments of {self.segments}")
        p0 = segs[0][2]
        return [(lo - off, ln, p - p0) for lo, ln, p in segs]

    def phys(self, off: int, n: int) -> tuple[int, int]:
        """(physical start, physical length) of the view [off, off + n)."""
        segs = self.view(off, n)
        start = next(p for lo, _, p in self.segments if lo == off)
        return start, segs[-1][2] + segs[-1][1]


def _aligned_groups(mops: list[MOp], extra: list[tuple[Value, Value]]) -> list[list[Value]]:
    """Sets of equally long views whose elements line up lane by lane."""
    groups = []
    for m in mops:
        if m.kind == "EW":
            vals = [a for a in m.args if a is not None and not is_scalar(a)] + [m.out]
            groups.append(vals)
    for a, b in extra:
        groups.append([a, b])
    return groups


def layouts(values: list[Value], mops: list[MOp], extra: list, align: int, fixed: dict) -> dict[int, Layout]:
    """Layout of every root: boundaries from views and concatenations, unified over lane-aligned views,
    segments padded to `align` elements where a boundary is not aligned. fixed: {id(root): Layout} given."""
    bounds: dict[int, set] = {}
    roots: dict[int, Value] = {}

    def note(v: Value):
        r, off = root_of(v)
        roots[id(r)] = r
        bounds.setdefault(id(r), {0, r.n}).update({off, off + v.n})
        return r, off

    for v in values:
        if not is_scalar(v):
            note(v)
    groups = _aligned_groups(mops, extra)
    changed = True
    while changed:
        changed = False
        for vals in groups:
            rel: set = set()
            for v in vals:
                r, off = note(v)
                rel |= {b - off for b in bounds[id(r)] if off <= b <= off + v.n}
            for v in vals:
                r, off = root_of(v)
                new = {off + b for b in rel}
                if not new <= bounds[id(r)]:
                    bounds[id(r)] |= new
                    changed = True
    out = {}
    for rid, bs in bounds.items():
        if rid in fixed:
            lay = fixed[rid]
            if not bs <= {s[0] for s in lay.segments} | {roots[rid].n}:
                raise ValueError(f"{roots[rid]!r}: its layout is fixed by the previous layer")
            out[rid] = lay
            continue
        edges = sorted(bs)
        if all(e % align == 0 for e in edges[:-1]):
            segs = [(lo, hi - lo, lo) for lo, hi in zip(edges, edges[1:], strict=False)]
            out[rid] = Layout(segs, edges[-1])
            continue
        segs, p = [], 0
        for lo, hi in zip(edges, edges[1:], strict=False):
            segs.append((lo, hi - lo, p))
            p += -(-(hi - lo) // align) * align
        out[rid] = Layout(segs, segs[-1][2] + segs[-1][1])
    return out


# ----------------------------------------------------------------------------------------------- placement
@dataclass
class Place:
    """Where a view lives: absolute data-memory word address, words, address mode (abs | t | last)."""

    addr: int
    words: int
    mode: str = "abs"

    def follows(self, other: Place, E: int = 1) -> bool:
        """self starts where other ends (same address mode; extents in whole E-word groups)."""
        return self.mode == other.mode and self.addr == other.addr + -(-other.words // E) * E
