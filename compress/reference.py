"""The integer reference model (numpy int64, vectorized over the batch) and its float twin.

Each cell's time step is described once (compress/cells.py) and executed here by backends with the same call
sequence:
- `IntBackend(artifact)`: the arithmetic contract (docs/arithmetic.md, sections 7-16) on the integers;
- `FloatBackend(float_model)`: float64 math with the unquantized weights (the float model; also used for
  calibration: it records max |value| per destination tensor over the valid time steps);
- `BoundBackend` / `StepBoundBackend`: the predicted worst-case error (compress/graph.py traces the same step
  into the op graph the hardware back ends compile).
Neither imports torch. Model description dicts are documented in docs/artifact.md.
"""

from __future__ import annotations

import numpy as np

from compress import cells as cell_defs
from compress import fixedpoint as fx

CELLS = cell_defs.CELLS  # name -> CellDef (compress/cells.py)


# ----------------------------------------------------------------------------------------------- names
def cell_names(model: dict) -> list[list[str]]:
    """Cell names per layer: [['l0'], ['l1']] or, for two directions, [['l0f', 'l0b'], ...]."""
    if cell_defs.get(model["cell"]).directions == 2:
        return [[f"l{k}f", f"l{k}b"] for k in range(model["layers"])]
    return [[f"l{k}"] for k in range(model["layers"])]


def cell_output_name(model: dict, cell: str) -> str:
    """Format name of a cell's output sequence (its state R)."""
    return cell_defs.get(model["cell"]).state(model, cell)["R"][1]


def layer_width(model: dict) -> int:
    """Width of a layer's output sequence (both directions)."""
    d = cell_defs.get(model["cell"])
    return d.directions * d.out_size(model)


def layer_input_name(model: dict, k: int) -> str:
    """Format name of layer k's input."""
    return "x" if k == 0 else cell_output_name(model, cell_names(model)[k - 1][0])


def hidden_sizes(model: dict) -> tuple[int, int]:
    """(H, output width of one cell)."""
    return cell_defs.hidden_sizes(model)


# ----------------------------------------------------------------------------------------------- saturation
class SatCounter:
    """Counts clamped elements per key, only in batch rows where `mask` (B,) is True (valid time steps)."""

    def __init__(self):
        self.counts: dict[str, int] = {}
        self.mask: np.ndarray | None = None

    def add(self, key: str, clipped: np.ndarray) -> None:
        if self.mask is not None and clipped.ndim >= 1 and clipped.shape[0] == self.mask.shape[0]:
            clipped = clipped[self.mask]
        self.counts[key] = self.counts.get(key, 0) + int(np.count_nonzero(clipped))


def _sat(v, bits, stats: SatCounter | None, key: str):
    if stats is not None:
        lo, hi = fx.sat_bounds(bits)
        stats.add(key, (v < lo) | (v > hi))
    return fx.sat(v, bits)


# ----------------------------------------------------------------------------------------------- backends
def _flat(a):
    """Vectors are flat in the cell descriptions (a (3, H) peephole array is read as 3H values)."""
    a = np.asarray(a)
    return a.reshape(-1) if a.ndim > 1 else a


def _slice(t, lo: int, hi: int):
    return t[..., lo:hi] if np.ndim(t) else t  # a scalar (mu, s) broadcasts


def _concat(ts):
    return np.concatenate(ts, axis=-1)


class IntBackend:
    """Integer arithmetic of the contract on an artifact (manifest + integer arrays)."""

    integer = True

    def __init__(self, manifest: dict, arrays: dict, stats: SatCounter | None = None):
        self.man, self.arr = manifest, arrays
        self.fmt = manifest["formats"]
        self.mode = manifest["quantization"]["matvec_mode"]
        self.guard = manifest["fft"]["guard_bits"]
        self.stats = stats if stats is not None else SatCounter()
        self._dense: dict[str, np.ndarray] = {}
        self._tables: dict[tuple, dict] = {}
        for t in manifest["pwl"].values():
            tab = dict(t)
            tab["c0"] = np.asarray(t["c0"], dtype=np.int64)
            tab["c1"] = np.asarray(t["c1"], dtype=np.int64)
            self._tables[(t["func"], t["in_frac"])] = tab

    def F(self, name: str) -> int:
        return self.fmt[name]["frac"]

    def B(self, name: str) -> int:
        return self.fmt[name]["bits"]

    def set_mask(self, mask):
        self.stats.mask = mask

    def input(self, x):
        return fx.quantize(x, self.B("x"), self.F("x"), self.stats, "x")

    def vec(self, name):
        return _flat(self.arr[name])

    slice = staticmethod(_slice)
    concat = staticmethod(_concat)

    def mv(self, name: str, v, vfmt: str, dest: str):
        """term(M, v -> dest) of section 8."""
        meta = self.man["matrices"][name]
        if meta["structure"] == "circulant" and self.mode == "fft":
            return fx.circulant_matvec_fft(
                self.arr[name + ".wf_re"],
                self.arr[name + ".wf_im"],
                v,
                meta["rows"],
                self.F(name + ".f"),
                self.F(vfmt),
                self.F(dest),
                self.B(dest),
                self.guard,
                self.stats,
                name + ".fft",
            )
        W = self._dense.get(name)
        if W is None:
            w = self.arr[name + ".w"]
            W = fx.expand_circulant(w)[: meta["rows"]] if meta["structure"] == "circulant" else w
            self._dense[name] = W
        acc = fx.dense_matvec(W, fx.pad_to(v, W.shape[1]))
        return fx.requant(
            acc, self.F(name) + self.F(vfmt), self.F(dest), self.B(dest), self.stats, name + ".term"
        )

    def add(self, terms, dest: str, key: str | None = None):
        return _sat(sum(terms), self.B(dest), self.stats, key or dest)

    def mul(self, a, afmt: str, b, bfmt: str, dest: str, key: str | None = None):
        return fx.requant(
            a * b, self.F(afmt) + self.F(bfmt), self.F(dest), self.B(dest), self.stats, key or dest
        )

    def requant(self, v, src: str, dest: str, key: str | None = None):
        return fx.requant(v, self.F(src), self.F(dest), self.B(dest), self.stats, key or dest)

    def act(self, func: str, z, zfmt: str):
        return fx.pwl_eval(z, self._tables[(func, self.F(zfmt))])

    def sub(self, a, b):
        return a - b

    def modrelu(self, z, bmod, zfmt: str, dest: str):
        return fx.modrelu_int(z, bmod, self.F(zfmt), self.F(dest), self.B(dest), self.stats, dest)

    def value(self, v, fmt: str):
        return fx.dequantize(v, self.F(fmt))

    def zeros(self, shape):
        return np.zeros(shape, dtype=np.int64)


class FloatBackend:
    """Float64 math with the float model's weights; records max |value| per destination (calibration)."""

    integer = False

    SAMPLE = 4096  # values kept per recorded array for quantiles (deterministic stride)

    def __init__(self, float_model: dict, sample: bool = False):
        self.fm = float_model
        self.maxabs: dict[str, float] = {}
        self.samples: dict[str, list] | None = {} if sample else None
        self.mask = None
        self._dense: dict[str, np.ndarray] = {}

    def _rec(self, name, v):
        v = np.asarray(v)
        if self.mask is not None and v.ndim >= 1 and v.shape[0] == self.mask.shape[0]:
            v = v[self.mask]
        if v.size:
            a = np.abs(v).ravel()
            self.maxabs[name] = max(self.maxabs.get(name, 0.0), float(np.max(a)))
            if self.samples is not None:
                self.samples.setdefault(name, []).append(a[:: max(1, a.size // self.SAMPLE)])
        return

    def set_mask(self, mask):
        self.mask = mask

    def dense(self, name):
        W = self._dense.get(name)
        if W is None:
            W = dense_matrix(self.fm["matrices"][name])
            self._dense[name] = W
        return W

    def input(self, x):
        x = np.asarray(x, dtype=np.float64)
        return x

    def vec(self, name):
        return _flat(np.asarray(self.fm["vectors"][name], dtype=np.float64))

    slice = staticmethod(_slice)
    concat = staticmethod(_concat)

    def mv(self, name, v, vfmt, dest):
        W = self.dense(name)
        y = v @ W.T
        self._rec(dest, y)
        return y

    def add(self, terms, dest, key=None):
        y = sum(terms)
        self._rec(dest, y)
        return y

    def mul(self, a, afmt, b, bfmt, dest, key=None):
        y = a * b
        self._rec(dest, y)
        return y

    def requant(self, v, src, dest, key=None):
        self._rec(dest, v)
        return v

    def act(self, func, z, zfmt):
        return fx.pwl_float(z, func)

    def sub(self, a, b):
        return a - b

    def modrelu(self, z, bmod, zfmt, dest):
        y = np.sign(z) * np.maximum(np.abs(z) + bmod, 0.0)
        self._rec(dest, y)
        return y

    def value(self, v, fmt):
        return np.asarray(v, dtype=np.float64)

    def zeros(self, shape):
        return np.zeros(shape, dtype=np.float64)


class BoundBackend:
    """The error bound the contract predicts (docs/arithmetic.md section 17), run alongside the float model.

    Every value is a complex array v + i*e: v the float model's value, e >= 0 a worst-case bound on
    |dequantized integer value - v| (complex numbers make slicing, concatenation and np.where carry both).
    Weight/bias quantization errors use the artifact's actual integers; each requant adds half an LSB of its
    destination (when it shifts right); PWL adds the table's max_error plus the Lipschitz constant times the
    input error; fft terms add fixedpoint.fft_matvec_error_bound. Saturation is not modelled (it can only move
    an integer towards the float value while the float value is inside the calibrated range).
    """

    integer = False
    LIPSCHITZ = {"sigmoid": 0.25, "tanh": 1.0}

    def __init__(self, artifact, float_model: dict):
        self.ib = IntBackend(artifact.manifest, artifact.arrays)
        self.fb = FloatBackend(float_model)
        self.man, self.arr = artifact.manifest, artifact.arrays
        self._qdense: dict[str, np.ndarray] = {}

    def _half(self, from_frac: int, dest: str) -> float:
        return 0.5 * 2.0 ** -self.ib.F(dest) if from_frac > self.ib.F(dest) else 0.0

    def set_mask(self, mask):
        pass

    def input(self, x):
        x = np.asarray(x, dtype=np.float64)
        xq = fx.dequantize(fx.quantize(x, self.ib.B("x"), self.ib.F("x")), self.ib.F("x"))
        return x + 1j * np.abs(xq - x)

    def vec(self, name):
        v = self.fb.vec(name)
        fmt = self.man["vectors"][name]["format"]
        return v + 1j * np.abs(fx.dequantize(_flat(self.arr[name]), self.ib.F(fmt)) - v)

    slice = staticmethod(_slice)
    concat = staticmethod(_concat)

    def qdense(self, name):
        W = self._qdense.get(name)
        if W is None:
            meta = self.man["matrices"][name]
            w = fx.dequantize(self.arr[name + ".w"], self.ib.F(name))
            if meta["structure"] == "circulant":
                w = fx.expand_circulant(w)[: meta["rows"], : meta["cols"]]
            self._qdense[name] = W = w
        return W

    def mv(self, name, ve, vfmt, dest):
        v, e = ve.real, ve.imag
        W = self.fb.dense(name)
        y = v @ W.T
        meta = self.man["matrices"][name]
        if meta["structure"] == "circulant" and self.ib.mode == "fft":
            vq_max = float(np.max(np.abs(v) + e)) if v.size else 0.0
            z_max = float(np.max((np.abs(v) + e) @ np.abs(W).T)) if v.size else 0.0
            wf = np.abs(np.fft.rfft(np.asarray(self.fb.fm["matrices"][name]["w"], dtype=np.float64), axis=-1))
            eb = fx.fft_matvec_error_bound(
                meta["b"],
                meta["q"],
                vq_max,
                self.ib.F(vfmt),
                float(wf.max()),
                self.ib.F(name + ".f"),
                z_max,
                self.ib.F(dest),
                self.ib.guard,
            )
            err = eb + e @ np.abs(W).T
        else:
            Wq = self.qdense(name)
            err = np.abs(v) @ np.abs(Wq - W).T + e @ np.abs(Wq).T
            err = err + self._half(self.ib.F(name) + self.ib.F(vfmt), dest)
        return y + 1j * err

    def add(self, terms, dest, key=None):
        return sum(terms)

    def mul(self, a, afmt, b, bfmt, dest, key=None):
        av, ae, bv, be_ = a.real, a.imag, b.real, b.imag
        e = (
            np.abs(av) * be_
            + np.abs(bv) * ae
            + ae * be_
            + self._half(self.ib.F(afmt) + self.ib.F(bfmt), dest)
        )
        return av * bv + 1j * e

    def requant(self, v, src, dest, key=None):
        return v.real + 1j * (v.imag + self._half(self.ib.F(src), dest))

    def act(self, func, z, zfmt):
        tab = self.ib._tables[(func, self.ib.F(zfmt))]
        return fx.pwl_float(z.real, func) + 1j * (self.LIPSCHITZ[func] * z.imag + tab["max_error"])

    def sub(self, a, b):
        return (a.real - b.real) + 1j * (a.imag + b.imag)

    def modrelu(self, z, bmod, zfmt, dest):
        y = np.sign(z.real) * np.maximum(np.abs(z.real) + bmod.real, 0.0)
        e = z.imag + bmod.imag
        # sign(z) may differ between the integer and the float value when |z| <= e_z: a jump of up to 2 |h|
        flip = np.abs(z.real) <= z.imag
        e = np.where(flip, 2.0 * (np.abs(z.real) + z.imag + np.maximum(bmod.real + bmod.imag, 0.0)), e)
        return y + 1j * (e + self._half(self.ib.F(zfmt), dest))

    def value(self, v, fmt):
        return v

    def zeros(self, shape):
        return np.zeros(shape, dtype=np.complex128)


class StepBoundBackend(BoundBackend):
    """BoundBackend whose activations are the PWL tables' own lines (not the exact sigmoid/tanh): the bound
    then covers only the integer arithmetic (rounding, FFT error, weight quantization), a few LSBs a step."""

    def act(self, func, z, zfmt):
        tab = self.ib._tables[(func, self.ib.F(zfmt))]
        v, e = z.real, z.imag
        y, _ = fx.pwl_lines(v, tab)
        c0 = fx.dequantize(np.asarray(tab["c0"], dtype=np.int64), tab["out_frac"])
        c1 = fx.dequantize(np.asarray(tab["c1"], dtype=np.int64), tab["slope_frac"])
        width = 2.0 ** (tab["s"] - tab["in_frac"])
        jump = float(np.max(np.abs(c0[1:] - (c0[:-1] + c1[:-1] * width)), initial=0.0))
        crossed = fx.pwl_lines(v + e, tab)[1] - fx.pwl_lines(v - e, tab)[1]  # segment edges within v +- e
        err = float(np.max(np.abs(c1))) * e + 0.5 * 2.0 ** -tab["out_frac"] + crossed * jump
        return y + 1j * err


def dense_matrix(meta: dict) -> np.ndarray:
    """Float (rows, cols) matrix of a float-model matrix entry (dense, or circulant vectors (p, q, b))."""
    w = np.asarray(meta["w"], dtype=np.float64)
    if meta["structure"] == "circulant":
        return fx.expand_circulant(w)[: meta["rows"], : meta["cols"]]
    return w


# ----------------------------------------------------------------------------------------------- cells
def _initial_state(be, model: dict, c: str, B: int) -> dict:
    """Zero state of cell c (compress/cells.py declares its keys and sizes)."""
    return {k: be.zeros((B, n)) for k, (n, _) in cell_defs.get(model["cell"]).state(model, c).items()}


def _step(model: dict):
    return cell_defs.get(model["cell"]).step


def reverse_valid(x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Reverse each sequence within its valid length; padding positions become 0."""
    B, T = x.shape[:2]
    t = np.arange(T)[None, :]
    n = lengths[:, None]
    idx = np.where(t < n, n - 1 - t, t)
    out = x[np.arange(B)[:, None], idx]
    out[~(t < n)] = 0
    return out


def run_cell(be, c: str, model: dict, X, xfmt: str, lengths: np.ndarray, record: dict | None = None):
    """Run one cell over (B, T, F) inputs; returns the (B, T, out) output sequence (0 at padding)."""
    B, T = X.shape[:2]
    step = _step(model)
    state = _initial_state(be, model, c, B)
    outs = []
    for t in range(T):
        mask = t < lengths
        be.set_mask(mask)
        new = step(be, c, model, X[:, t], xfmt, state)
        state = new
        o = new["R"]
        outs.append(np.where(mask[:, None], o, 0))
        if record is not None:
            for k in new:
                if k != "R":  # R is the output (one of the recorded tensors)
                    record.setdefault(f"{c}.{k}", []).append(np.where(mask[:, None], new[k], 0))
    be.set_mask(None)
    return np.stack(outs, axis=1)


def forward(be, model: dict, X: np.ndarray, lengths: np.ndarray | None = None, record: bool = False):
    """Run a whole model. Returns (y, internals): y (B, O) or (B, T, O) per_step, in the backend's numbers
    (integers at head.y for IntBackend, floats for FloatBackend); internals {name: (B, T, dim)} if record."""
    X = np.asarray(X)
    B, T = X.shape[:2]
    lengths = np.full(B, T, dtype=np.int64) if lengths is None else np.asarray(lengths, dtype=np.int64)
    lengths = np.clip(lengths, 1, T)
    rec: dict | None = {} if record else None
    mask = np.arange(T)[None, :] < lengths[:, None]
    be.set_mask(mask.reshape(-1))
    inp = be.input(X.reshape(B * T, -1)).reshape(B, T, -1)
    inp = np.where(mask[:, :, None], inp, 0)
    be.set_mask(None)
    for k, cells in enumerate(cell_names(model)):
        xfmt = layer_input_name(model, k)
        if len(cells) == 2:
            of = run_cell(be, cells[0], model, inp, xfmt, lengths, rec)
            ob = run_cell(be, cells[1], model, reverse_valid(inp, lengths), xfmt, lengths, rec)
            if rec is not None:
                for key in list(rec):
                    if key.startswith(cells[1] + ".") and not isinstance(rec[key], np.ndarray):
                        rec[key] = reverse_valid(np.stack(rec[key], axis=1), lengths)
            ob = reverse_valid(ob, lengths)  # back to input time: the backward cell's final state is at t = 0
            last = np.concatenate([of[np.arange(B), lengths - 1], ob[:, 0]], axis=1)
            inp = np.concatenate([of, ob], axis=2)
        else:
            inp = run_cell(be, cells[0], model, inp, xfmt, lengths, rec)
            last = inp[np.arange(B), lengths - 1]
    ufmt = cell_output_name(model, cell_names(model)[-1][0])
    if model.get("per_step", False):
        be.set_mask(mask.reshape(-1))
        u = inp.reshape(B * T, -1)
        y = be.add([be.mv("head.w", u, ufmt, "head.y"), be.vec("head.b")], "head.y").reshape(B, T, -1)
    else:
        y = be.add([be.mv("head.w", last, ufmt, "head.y"), be.vec("head.b")], "head.y")
    be.set_mask(None)
    internals = {}
    if rec is not None:
        for key, v in rec.items():
            internals[key] = v if isinstance(v, np.ndarray) else np.stack(v, axis=1)
    return y, internals


# ----------------------------------------------------------------------------------------------- API
def run_int(artifact, X, lengths=None, record: bool = False):
    """Integer reference on an artifact -> dict: y (int64), y_float (dequantized), internals, sat (counts)."""
    be = IntBackend(artifact.manifest, artifact.arrays)
    y, internals = forward(be, artifact.manifest["model"], X, lengths, record)
    return {
        "y": y,
        "y_float": fx.dequantize(y, be.F("head.y")),
        "internals": internals,
        "sat": dict(sorted(be.stats.counts.items())),
    }


def run_float(float_model: dict, X, lengths=None, record: bool = False, quantile: float | None = None):
    """Float model in numpy. Returns dict: y (float64), internals, maxabs (calibration ranges per tensor) and,
    with quantile (e.g. 99.99), "quantiles": that percentile of |value| per tensor (strided subsample)."""
    be = FloatBackend(float_model, sample=quantile is not None)
    y, internals = forward(be, float_model["model"], X, lengths, record)
    mask = None
    if lengths is not None:
        T = np.asarray(X).shape[1]
        mask = np.arange(T)[None, :] < np.clip(np.asarray(lengths), 1, T)[:, None]
    xs = np.asarray(X, dtype=np.float64)
    xs = xs[mask] if mask is not None else xs
    be.maxabs["x"] = float(np.max(np.abs(xs))) if xs.size else 0.0
    out = {"y": y, "internals": internals, "maxabs": be.maxabs}
    if quantile is not None:
        q = {k: float(np.percentile(np.concatenate(v), quantile)) for k, v in be.samples.items()}
        q["x"] = float(np.percentile(np.abs(xs), quantile)) if xs.size else 0.0
        out["quantiles"] = q
    return out


def run_bound(artifact, float_model: dict, X, lengths=None, record: bool = False):
    """Float outputs with their predicted worst-case error: dict y, y_bound, internals {k: (value, bound)}."""
    be = BoundBackend(artifact, float_model)
    y, internals = forward(be, artifact.manifest["model"], X, lengths, record)
    return {
        "y": y.real,
        "y_bound": y.imag,
        "internals": {k: (v.real, v.imag) for k, v in internals.items()},
    }


def predictions(y: np.ndarray, kind: str) -> np.ndarray:
    """Class predictions (argmax, first on ties) for classification/copying; y itself for regression."""
    return y if kind == "regression" else np.argmax(y, axis=-1)


def run_step_bound(artifact, float_model: dict, X) -> dict:
    """One-step check of the integer reference on full-length sequences: every step of every cell (and the
    head) runs on the bound backend from the integer reference's own dequantized input and state (error 0), so
    the predicted bound covers one step's arithmetic only and stays a few LSBs wide, however deep the model.

    Returns {name: (integer value dequantized, float value of the step, bound)} for every recorded internal
    and "head.y", each (B, T, dim) (head.y (B, O) or (B, T, O) per step)."""
    model = artifact.manifest["model"]
    X = np.asarray(X, dtype=np.float64)
    B, T = X.shape[:2]
    ri = run_int(artifact, X, record=True)
    be = StepBoundBackend(artifact, float_model)
    F = be.ib.F
    internals = ri["internals"]

    def deq(name, t):
        return fx.dequantize(internals[name][:, t], F(name)) + 0j

    layer_in = fx.dequantize(fx.quantize(X, be.ib.B("x"), F("x")), F("x"))
    out: dict[str, tuple] = {}
    for k, cells in enumerate(cell_names(model)):
        xfmt = layer_input_name(model, k)
        outs = []
        for j, c in enumerate(cells):
            steps = range(T - 1, -1, -1) if j == 1 else range(T)  # the backward cell runs back in time
            state = _initial_state(be, model, c, B)
            got = {}
            for t in steps:
                new = _step(model)(be, c, model, layer_in[:, t] + 0j, xfmt, state)
                for key in new:
                    if key != "R":
                        got.setdefault(f"{c}.{key}", {})[t] = new[key]
                decl = cell_defs.get(model["cell"]).state(model, c)
                state = {key: deq(fmt, t) for key, (_, fmt) in decl.items()}
            for name, per_t in got.items():
                v = np.stack([per_t[t] for t in range(T)], axis=1)
                out[name] = (fx.dequantize(internals[name], F(name)), v.real, v.imag)
            outs.append(fx.dequantize(internals[cell_output_name(model, c)], F(cell_output_name(model, c))))
        if len(outs) == 2:
            last = np.concatenate([outs[0][:, T - 1], outs[1][:, 0]], axis=1)
        else:
            last = outs[0][:, T - 1]
        layer_in = np.concatenate(outs, axis=2)
    ufmt = cell_output_name(model, cell_names(model)[-1][0])
    u = layer_in.reshape(B * T, -1) if model.get("per_step", False) else last
    y = be.add([be.mv("head.w", u + 0j, ufmt, "head.y"), be.vec("head.b")], "head.y").reshape(ri["y"].shape)
    out["head.y"] = (ri["y_float"], y.real, y.imag)
    return out
