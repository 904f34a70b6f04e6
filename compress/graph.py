"""The op graph of a model, traced from the one cell description (compress/cells.py).

`GraphBackend` runs a cell's `step` on symbolic values instead of numbers: every mv / add / mul / requant /
act / sub / modrelu becomes an `Op` over `Value`s (element count and integer format), slices and
concatenations become views. `model_graph(model)` traces every cell of every layer and the head; the RTL
compiler (hw/rtl/program.py) and the HLS generator (hw/hls/codegen.py) compile these graphs, so a cell defined
once runs on every back end. `python -m compress.graph --cell lstm --peepholes --projection 4` prints one.
"""

from __future__ import annotations

import argparse
import itertools
import math
from dataclasses import dataclass, field

from compress import cells as cell_defs

OPS = ("mv", "add", "mul", "requant", "act", "sub", "modrelu")


@dataclass(eq=False)
class Value:
    """n elements of one integer format (fmt None: an exact difference, never saturated).

    A leaf has `leaf` ("x", "state:<key>", "vec:<name>"); a computed value has `op`; a view has `base`/`off`
    (elements off .. off+n of base) or `parts` (a concatenation)."""

    n: int
    fmt: str | None
    name: str
    op: Op | None = None
    leaf: str | None = None
    base: Value | None = None
    off: int = 0
    parts: tuple = ()
    in_concat: tuple | None = None  # (concatenation, offset) once bound

    def root(self) -> tuple[Value, int]:
        """(the value this view reads, element offset in it)."""
        v, off = self, 0
        while v.base is not None:
            v, off = v.base, off + v.off
        return v, off

    def __repr__(self) -> str:
        if self.base is not None:
            return f"{self.base!r}[{self.off}:{self.off + self.n}]"
        if self.parts:
            return "cat(" + ", ".join(map(repr, self.parts)) + ")"
        return self.name


@dataclass(eq=False)
class Op:
    kind: str  # one of OPS
    args: list[Value]
    out: Value
    attrs: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        a = ", ".join(map(repr, self.args))
        extra = " ".join(f"{k}={v}" for k, v in self.attrs.items())
        return f"{self.out.name}[{self.out.n}] : {self.out.fmt} = {self.kind}({a}) {extra}".rstrip()


@dataclass
class CellGraph:
    """One cell's time step: x and state leaves in, new state and the output R out."""

    cell: str  # name prefix (l0, l1b, head)
    ops: list[Op]
    x: Value
    state_in: dict[str, Value]
    state_out: dict[str, Value]
    output: Value
    reverse: bool = False  # runs from the last step back to the first
    concats: list = field(default_factory=list)  # concatenations (their parts share one buffer)

    def __str__(self) -> str:
        lines = [f"cell {self.cell}{' (backward)' if self.reverse else ''}: x[{self.x.n}] : {self.x.fmt}"]
        lines += [f"  state {k}: {v.name}[{v.n}] : {v.fmt}" for k, v in self.state_in.items()]
        lines += [f"  {op!r}" for op in self.ops]
        lines += [f"  state {k} <- {v.name}" for k, v in self.state_out.items()]
        lines.append(f"  output <- {self.output.name}")
        return "\n".join(lines)


@dataclass
class ModelGraph:
    layers: list[list[CellGraph]]  # per layer: one cell, or forward + backward
    head: CellGraph  # x = the head's input u (last position, or every position per step)

    def cells(self) -> list[CellGraph]:
        return [g for layer in self.layers for g in layer] + [self.head]

    def __str__(self) -> str:
        return "\n".join(str(g) for g in self.cells())


class GraphBackend:
    """The backend interface of compress/reference.py on symbolic values (records ops, computes nothing)."""

    integer = True

    def __init__(self, matrices: dict, vectors: dict):
        self.matrices, self.vectors = matrices, vectors
        self.ops: list[Op] = []
        self.concats: list[Value] = []
        self._ids = itertools.count()

    def _new(self, n: int, fmt: str | None, hint: str) -> Value:
        return Value(n, fmt, f"{hint}{next(self._ids)}")

    def _op(self, kind: str, args: list, n: int, fmt: str | None, **attrs) -> Value:
        out = self._new(n, fmt, "t")
        out.op = Op(kind, list(args), out, attrs)
        self.ops.append(out.op)
        return out

    def leaf(self, kind: str, n: int, fmt: str | None) -> Value:
        v = Value(n, fmt, kind.split(":")[-1])
        v.leaf = kind
        return v

    def vec(self, name: str) -> Value:
        return self.leaf(f"vec:{name}", max(1, math.prod(self.vectors[name].shape)), self.vectors[name].fmt)

    def slice(self, t: Value, lo: int, hi: int) -> Value:
        if t.n == 1 and t.leaf and t.leaf.startswith("vec:"):
            return t  # a scalar broadcasts
        v = self._new(hi - lo, t.fmt, f"{t.name}_")
        v.base, v.off = t, lo
        return v

    def concat(self, ts: list) -> Value:
        v = self._new(sum(t.n for t in ts), ts[0].fmt, "cat")
        v.parts = tuple(ts)
        self.concats.append(v)
        return v

    def mv(self, name, v, vfmt, dest):
        return self._op("mv", [v], self.matrices[name].rows, dest, matrix=name, vfmt=vfmt)

    def add(self, terms, dest, key=None):
        return self._op("add", terms, max(t.n for t in terms), dest)

    def mul(self, a, afmt, b, bfmt, dest, key=None):
        return self._op("mul", [a, b], max(a.n, b.n), dest, afmt=afmt, bfmt=bfmt)

    def requant(self, v, src, dest, key=None):
        return self._op("requant", [v], v.n, dest, src=src)

    def act(self, func, z, zfmt):
        return self._op("act", [z], z.n, "act", func=func, zfmt=zfmt)

    def sub(self, a, b):
        return self._op("sub", [a, b], max(a.n, b.n), None)

    def modrelu(self, z, bmod, zfmt, dest):
        return self._op("modrelu", [z, bmod], z.n, dest, zfmt=zfmt)


def is_scalar(v: Value) -> bool:
    return v.n == 1 and v.leaf is not None and v.leaf.startswith("vec:")


def root_of(v: Value) -> tuple[Value, int]:
    """(root value, element offset) of a slice view; concatenation parts are views of their concatenation."""
    r, off = v.root()
    while r.in_concat is not None:
        cat, coff = r.in_concat
        r, off = cat, off + coff
        r, o2 = r.root()
        off += o2
    return r, off


def bind_concats(concats: list[Value]) -> None:
    """Make every part of a concatenation a view of it: the parts are stored side by side in one array (a part
    is a whole computed value and belongs to one concatenation)."""
    for cat in concats:
        off = 0
        for p in cat.parts:
            r, roff = p.root()
            if roff or r.n != p.n or r.op is None or r.in_concat is not None:
                raise ValueError(f"concatenation part {p!r} is a slice, an input or in two concatenations")
            r.in_concat = (cat, off)
            off += p.n


def trace_cell(
    model: dict, c: str, n_in: int, xfmt: str, matrices: dict, vectors: dict, reverse: bool = False
) -> CellGraph:
    """Trace cell c's step (input width n_in at format xfmt; reverse: a backward cell)."""
    d = cell_defs.get(model["cell"])
    be = GraphBackend(matrices, vectors)
    x = be.leaf("x", n_in, xfmt)
    state = {k: be.leaf(f"state:{k}", n, fmt) for k, (n, fmt) in d.state(model, c).items()}
    new = d.step(be, c, model, x, xfmt, state)
    out = {k: new[k] for k in state}
    bind_concats(be.concats)
    return CellGraph(c, be.ops, x, state, out, new["R"], reverse=reverse, concats=be.concats)


def trace_head(model: dict, n_in: int, ufmt: str, matrices: dict, vectors: dict) -> CellGraph:
    """The head of section 14: y = sat(term(head.w, u -> head.y) + head.b)."""
    be = GraphBackend(matrices, vectors)
    u = be.leaf("x", n_in, ufmt)
    y = be.add([be.mv("head.w", u, ufmt, "head.y"), be.vec("head.b")], "head.y")
    return CellGraph("head", be.ops, u, {}, {}, y)


def model_graph(model: dict) -> ModelGraph:
    """Every cell of every layer and the head, traced."""
    from compress import reference as ref
    from compress.artifact import matrix_defs, vector_defs

    mats, vecs = matrix_defs(model), vector_defs(model)
    layers = []
    n_in = model["input_size"]
    for k, names in enumerate(ref.cell_names(model)):
        xfmt = ref.layer_input_name(model, k)
        layers.append([trace_cell(model, c, n_in, xfmt, mats, vecs, j == 1) for j, c in enumerate(names)])
        n_in = ref.layer_width(model)
    ufmt = ref.cell_output_name(model, ref.cell_names(model)[-1][0])
    return ModelGraph(layers, trace_head(model, n_in, ufmt, mats, vecs))


def pwl_functions(model: dict) -> set[tuple[str, str]]:
    """(func, input format name) of every activation the model evaluates."""
    graph = model_graph(model)
    return {(op.attrs["func"], op.attrs["zfmt"]) for g in graph.cells() for op in g.ops if op.kind == "act"}


def main(argv=None) -> int:
    """Print the op graph of a cell type (a small model: one layer, sizes as given)."""
    ap = argparse.ArgumentParser(prog="python -m compress.graph", description=main.__doc__)
    ap.add_argument("--cell", default="lstm", choices=sorted(cell_defs.CELLS))
    ap.add_argument("--input-size", type=int, default=12)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--projection", type=int, default=0)
    ap.add_argument("--peepholes", action="store_true")
    ap.add_argument("--n2", type=int, default=0)
    ap.add_argument("--layers", type=int, default=1)
    args = ap.parse_args(argv)
    model = dict(
        cell=args.cell,
        input_size=args.input_size,
        output_size=9,
        hidden=args.hidden,
        layers=args.layers,
        projection=args.projection,
        peepholes=args.peepholes,
        n2=args.n2 or (args.hidden // 4 if args.cell == "enrnn" else 0),
        per_step=False,
    )
    print(model_graph(model))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
