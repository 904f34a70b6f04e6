"""One definition per cell: parameters, tensor widths, state and the time step, written once.

A `CellDef` declares a cell's weight matrices and vectors (shapes and the formats they read and write), the
width class of every tensor it stores, its recurrent state and its time step `step(be, c, model, x, xfmt,
state)`, written against the backend interface of compress/reference.py (mv, add, mul, requant, act, sub,
modrelu, vec, slice, concat). Every back end runs that one step:
- compress/reference.py executes it on integers (the arithmetic contract), floats and error bounds;
- compress/graph.py traces it into an op graph, which hw/rtl/program.py compiles to the core's program and
  hw/hls/codegen.py to the HLS cell function.
A new cell is a `register(CellDef(...))` (here or in a user module) plus its torch module (train/models.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Matrix:
    """A weight matrix: rows x cols, reading format `inp`, writing `out`; init for random test models."""

    rows: int
    cols: int
    inp: str
    out: str
    dense_only: bool = False
    init: str = "uniform"  # uniform | orthogonal | contractive (spectral radius 0.9)


@dataclass(frozen=True)
class Vector:
    """A bias, peephole or scalar stored at format `fmt`; init for random test models."""

    shape: tuple
    fmt: str
    init: str = "uniform"  # uniform | small | const:<value>


@dataclass(frozen=True)
class CellDef:
    """Everything the toolchain knows of a cell type (c = the cell's name prefix, e.g. 'l0' or 'l1b')."""

    name: str
    matrices: Callable[[dict, str, int, str], dict[str, Matrix]]  # (model, c, n_in, input format)
    vectors: Callable[[dict, str], dict[str, Vector]]
    tensors: Callable[[dict, str], dict[str, str]]  # format name -> act_bits | preact_bits | cell_bits
    state: Callable[[dict, str], dict[str, tuple[int, str]]]  # key -> (size, format name); "R" = output
    step: Callable  # (be, c, model, x, xfmt, state) -> new state dict (+ internals to record)
    out_size: Callable[[dict], int]  # width of the cell output R
    directions: int = 1  # 2: a forward and a backward cell per layer, outputs concatenated
    shared_formats: tuple[str, ...] = ()  # suffixes whose formats both directions share


CELLS: dict[str, CellDef] = {}


def register(cell: CellDef) -> CellDef:
    """Add (or replace) a cell type; returns it."""
    CELLS[cell.name] = cell
    return cell


def get(name: str) -> CellDef:
    if name not in CELLS:
        raise KeyError(f"unknown cell {name!r} (known: {sorted(CELLS)})")
    return CELLS[name]


def hidden_sizes(model: dict) -> tuple[int, int]:
    """(H, width of one cell's output)."""
    return model["hidden"], get(model["cell"]).out_size(model)


# ----------------------------------------------------------------------------------------------- LSTM family
def _has_proj(model):
    return model["cell"] in ("lstm", "bilstm") and bool(model.get("projection", 0))


def _has_peep(model):
    return model["cell"] in ("lstm", "bilstm") and bool(model.get("peepholes", False))


def _lstm_out(model):
    return model["projection"] if _has_proj(model) else model["hidden"]


def _lstm_matrices(model, c, nin, xin):
    H, P = model["hidden"], _lstm_out(model)
    mom = model["cell"] == "momentum_lstm"
    Rf = f"{c}.r" if _has_proj(model) else f"{c}.h"
    out = {
        f"{c}.w_ih": Matrix(4 * H, nin, xin, f"{c}.v" if mom else f"{c}.z"),
        f"{c}.w_hh": Matrix(4 * H, P, Rf, f"{c}.z"),
    }
    if _has_proj(model):
        out[f"{c}.w_proj"] = Matrix(P, H, f"{c}.h", f"{c}.r")
    return out


def _lstm_vectors(model, c):
    H = model["hidden"]
    if model["cell"] == "momentum_lstm":
        return {
            f"{c}.b_w": Vector((4 * H,), f"{c}.v"),
            f"{c}.b_u": Vector((4 * H,), f"{c}.z"),
            f"{c}.mu": Vector((), f"{c}.mu", "const:0.6"),
            f"{c}.s": Vector((), f"{c}.s", "const:0.6"),
        }
    out = {f"{c}.b": Vector((4 * H,), f"{c}.z")}
    if _has_peep(model):
        out[f"{c}.peep"] = Vector((3, H), f"{c}.peep")
    return out


def _lstm_tensors(model, c):
    out = {f"{c}.z": "preact_bits", f"{c}.h": "act_bits", f"{c}.c": "cell_bits"}
    if _has_proj(model):
        out[f"{c}.r"] = "act_bits"
    if model["cell"] == "momentum_lstm":
        out[f"{c}.v"] = "preact_bits"
    return out


def _lstm_state(model, c):
    H = model["hidden"]
    st = {"c": (H, f"{c}.c"), "R": (_lstm_out(model), f"{c}.r" if _has_proj(model) else f"{c}.h")}
    if model["cell"] == "momentum_lstm":
        st["v"] = (4 * H, f"{c}.v")
    return st


def _lstm_step(be, c: str, model: dict, x, xfmt: str, state: dict) -> dict:
    """Section 9 (peepholes/projection per model; MomentumLSTM: section 12) on one time step."""
    H = model["hidden"]
    proj, peep = _has_proj(model), _has_peep(model)
    Rf = f"{c}.r" if proj else f"{c}.h"
    cprev, R = state["c"], state["R"]
    z = f"{c}.z"
    if model["cell"] == "momentum_lstm":
        wx = be.add([be.mv(f"{c}.w_ih", x, xfmt, f"{c}.v"), be.vec(f"{c}.b_w")], f"{c}.v", f"{c}.v")
        vprev = state["v"]
        v = be.add(
            [
                be.mul(be.vec(f"{c}.mu"), f"{c}.mu", vprev, f"{c}.v", f"{c}.v"),
                be.mul(be.vec(f"{c}.s"), f"{c}.s", wx, f"{c}.v", f"{c}.v"),
            ],
            f"{c}.v",
        )
        pre = [be.requant(v, f"{c}.v", z), be.mv(f"{c}.w_hh", R, Rf, z), be.vec(f"{c}.b_u")]
    else:
        pre = [be.mv(f"{c}.w_ih", x, xfmt, z), be.mv(f"{c}.w_hh", R, Rf, z), be.vec(f"{c}.b")]

    def gate(k, extra=None):
        terms = [be.slice(t, k * H, (k + 1) * H) for t in pre]
        if extra is not None:
            terms.append(extra)
        return be.add(terms, z)

    if peep:
        p = be.vec(f"{c}.peep")
        zi = gate(0, be.mul(be.slice(p, 0, H), f"{c}.peep", cprev, f"{c}.c", z))
        zf = gate(1, be.mul(be.slice(p, H, 2 * H), f"{c}.peep", cprev, f"{c}.c", z))
    else:
        zi, zf = gate(0), gate(1)
    zg = gate(2)
    i, f, g = be.act("sigmoid", zi, z), be.act("sigmoid", zf, z), be.act("tanh", zg, z)
    cn = be.add([be.mul(f, "act", cprev, f"{c}.c", f"{c}.c"), be.mul(i, "act", g, "act", f"{c}.c")], f"{c}.c")
    zo = gate(3, be.mul(be.slice(p, 2 * H, 3 * H), f"{c}.peep", cn, f"{c}.c", z) if peep else None)
    o = be.act("sigmoid", zo, z)
    tc = be.act("tanh", cn, f"{c}.c")
    h = be.mul(o, "act", tc, "act", f"{c}.h")
    out = {"c": cn, "h": h, "z": be.concat([zi, zf, zg, zo])}
    if proj:
        r = be.mv(f"{c}.w_proj", h, f"{c}.h", f"{c}.r")
        out["r"], out["R"] = r, r
    else:
        out["R"] = h
    if model["cell"] == "momentum_lstm":
        out["v"] = v
    return out


for _name in ("lstm", "bilstm", "momentum_lstm"):
    register(
        CellDef(
            _name,
            _lstm_matrices,
            _lstm_vectors,
            _lstm_tensors,
            _lstm_state,
            _lstm_step,
            _lstm_out,
            directions=2 if _name == "bilstm" else 1,
            shared_formats=("z", "c", "h", "r") if _name == "bilstm" else (),
        )
    )


# ----------------------------------------------------------------------------------------------- GRU
def _gru_matrices(model, c, nin, xin):
    H = model["hidden"]
    return {
        f"{c}.w_ih": Matrix(3 * H, nin, xin, f"{c}.z"),
        f"{c}.w_hh": Matrix(3 * H, H, f"{c}.h", f"{c}.z"),
    }


def _gru_vectors(model, c):
    H = model["hidden"]
    return {
        f"{c}.b_rz": Vector((2 * H,), f"{c}.z"),
        f"{c}.b_in": Vector((H,), f"{c}.z"),
        f"{c}.b_hn": Vector((H,), f"{c}.z"),
    }


def _hz_tensors(model, c):
    return {f"{c}.z": "preact_bits", f"{c}.h": "act_bits"}


def _h_state(model, c):
    return {"h": (model["hidden"], f"{c}.h"), "R": (model["hidden"], f"{c}.h")}


def _gru_step(be, c, model, x, xfmt, state):
    """Section 10."""
    H = model["hidden"]
    z = f"{c}.z"
    hp = state["h"]
    ux = be.mv(f"{c}.w_ih", x, xfmt, z)
    uh = be.mv(f"{c}.w_hh", hp, f"{c}.h", z)
    b_rz = be.vec(f"{c}.b_rz")
    zr = be.add([be.slice(ux, 0, H), be.slice(uh, 0, H), be.slice(b_rz, 0, H)], z)
    zu = be.add([be.slice(ux, H, 2 * H), be.slice(uh, H, 2 * H), be.slice(b_rz, H, 2 * H)], z)
    rg, ug = be.act("sigmoid", zr, z), be.act("sigmoid", zu, z)
    hn = be.add([be.slice(uh, 2 * H, 3 * H), be.vec(f"{c}.b_hn")], z)
    zn = be.add([be.slice(ux, 2 * H, 3 * H), be.vec(f"{c}.b_in"), be.mul(rg, "act", hn, z, z)], z)
    n = be.act("tanh", zn, z)
    n2 = be.requant(n, "act", f"{c}.h")
    h = be.add([n2, be.mul(ug, "act", be.sub(hp, n2), f"{c}.h", f"{c}.h")], f"{c}.h")
    return {"h": h, "R": h, "z": be.concat([zr, zu, zn])}


def _hidden(model):
    return model["hidden"]


register(CellDef("gru", _gru_matrices, _gru_vectors, _hz_tensors, _h_state, _gru_step, _hidden))


# ------------------------------------------------------------------------------------------- ENRNN / scoRNN
def _n2(model):
    return model.get("n2", 0) if model["cell"] == "enrnn" else 0


def _enrnn_matrices(model, c, nin, xin):
    H, n2 = model["hidden"], _n2(model)
    n1 = H - n2
    out = {
        f"{c}.w_in": Matrix(H, nin, xin, f"{c}.z"),
        f"{c}.w1": Matrix(n1, n1, f"{c}.h", f"{c}.z", dense_only=True, init="orthogonal"),
    }
    if n2:
        out[f"{c}.w3"] = Matrix(n1, n2, f"{c}.h", f"{c}.z")
        out[f"{c}.w2"] = Matrix(n2, n2, f"{c}.h", f"{c}.z", dense_only=True, init="contractive")
    return out


def _enrnn_vectors(model, c):
    return {f"{c}.b_mod": Vector((model["hidden"],), f"{c}.z", "small")}


def _enrnn_step(be, c, model, x, xfmt, state):
    """Section 11 (scoRNN: n2 = 0)."""
    n2 = _n2(model)
    H = model["hidden"]
    n1 = H - n2
    z = f"{c}.z"
    hp = state["h"]
    ux = be.mv(f"{c}.w_in", x, xfmt, z)
    if n2:
        h1, h2 = be.slice(hp, 0, n1), be.slice(hp, n1, H)
        w1h = be.mv(f"{c}.w1", h1, f"{c}.h", z)
        z1 = be.add([be.slice(ux, 0, n1), w1h, be.mv(f"{c}.w3", h2, f"{c}.h", z)], z)
        z2 = be.add([be.slice(ux, n1, H), be.mv(f"{c}.w2", h2, f"{c}.h", z)], z)
        zz = be.concat([z1, z2])
    else:
        zz = be.add([ux, be.mv(f"{c}.w1", hp, f"{c}.h", z)], z)
    h = be.modrelu(zz, be.vec(f"{c}.b_mod"), z, f"{c}.h")
    return {"h": h, "R": h, "z": zz}


for _name in ("enrnn", "scornn"):
    register(CellDef(_name, _enrnn_matrices, _enrnn_vectors, _hz_tensors, _h_state, _enrnn_step, _hidden))
