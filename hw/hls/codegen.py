"""C++ config structs and weight arrays of the rnn2fpga HLS layers, generated from a compress artifact.

Pure Python (no hls4ml, no torch): `layer_specs(manifest, arrays, T, parallelism)` returns one spec per
recurrent layer and one for the head. A spec holds the C++ config structs (text; '{P}' is replaced by the
layer's config prefix), the integer weight arrays with their widths (they become hls4ml weight variables) and
what the function call needs.
Every format comes from the manifest; nothing is re-derived except array layouts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from compress import fixedpoint as fx
from compress import reference as ref

KINDS = {"dense": 0, "direct": 1, "fft": 2}


@dataclass
class Weight:
    """One integer array of a layer (becomes an hls4ml weight variable of type ap_int<bits>)."""

    key: str  # C identifier suffix, unique inside the model (e.g. l0_w_ih_a)
    bits: int
    data: np.ndarray


@dataclass
class LayerSpec:
    """What the hls4ml templates need for one layer (a recurrent layer or the head)."""

    kind: str  # lstm | gru | enrnn | head
    name: str  # IR layer name (layer0, layer1, ..., head)
    n_t: int
    n_in: int
    n_out: int  # width of one output position
    out_bits: int
    structs: list[str] = field(default_factory=list)  # config structs, '{P}' = per-layer prefix
    weights: list[Weight] = field(default_factory=list)
    cells: list[dict] = field(default_factory=list)  # per direction: cfg name, weight array order, reverse
    per_step: bool = False


def _ident(name: str) -> str:
    return name.replace(".", "_")


class _Gen:
    def __init__(self, manifest: dict, arrays: dict, parallelism: int):
        self.man, self.arr = manifest, arrays
        self.fmt = manifest["formats"]
        self.mode = manifest["quantization"]["matvec_mode"]
        self.guard = manifest["fft"]["guard_bits"]
        self.tw_bits = manifest["fft"]["twiddle_bits"]
        self.tw_frac = manifest["fft"]["twiddle_frac"]
        self.par = max(1, int(parallelism))

    def bf(self, name: str) -> tuple[int, int]:
        f = self.fmt[name]
        return int(f["bits"]), int(f["frac"])

    def matvec(self, spec: LayerSpec, tag: str, mname: str, xin: str, zout: str) -> tuple[str, str, str]:
        """Config struct of matrix `mname` (input format xin, output format zout); returns (cfg, wa, wb)."""
        meta = self.man["matrices"][mname]
        rows, cols = int(meta["rows"]), int(meta["cols"])
        xb, xf = self.bf(xin)
        zb, zf = self.bf(zout)
        ident = _ident(mname)
        if meta["structure"] == "circulant" and self.mode == "fft":
            kind, b = "fft", int(meta["b"])
            wb, wf = self.bf(meta.get("freq_format") or mname + ".f")
            wa, wbb = self.arr[mname + ".wf_re"], self.arr[mname + ".wf_im"]
            n_ib, n_ob = int(meta["q"]), int(meta["p"])
        elif meta["structure"] == "circulant":
            kind, b = "direct", int(meta["b"])
            wb, wf = self.bf(mname)
            wa, wbb = self.arr[mname + ".w"], None
            n_ib, n_ob = int(meta["q"]), int(meta["p"])
        else:
            kind, b = "dense", 1
            wb, wf = self.bf(mname)
            wa, wbb = self.arr[mname + ".w"], None
            n_ib, n_ob = cols, rows
        cfg = f"{{P}}_{tag}"
        par = min(self.par, n_ob)
        spec.structs.append(
            f"struct {cfg} : r2f::matvec_config {{\n"
            f"    static const unsigned kind = {KINDS[kind]}, n_in = {cols}, n_out = {rows};\n"
            f"    static const unsigned b = {b}, log2b = {fx.log2_exact(b)}, n_ib = {n_ib}, n_ob = {n_ob};\n"
            f"    static const int w_bits = {wb}, w_frac = {wf}, x_bits = {xb}, x_frac = {xf};\n"
            f"    static const int z_bits = {zb}, z_frac = {zf};\n"
            f"    static const int tw_bits = {self.tw_bits}, tw_frac = {self.tw_frac}, "
            f"guard = {self.guard};\n"
            f"    static const unsigned parallelism = {par};\n}};\n"
        )
        spec.weights.append(Weight(f"{ident}_a", wb, np.asarray(wa, dtype=np.int64)))
        wb_key = f"{ident}_a"
        if wbb is not None:
            spec.weights.append(Weight(f"{ident}_b", wb, np.asarray(wbb, dtype=np.int64)))
            wb_key = f"{ident}_b"
        return cfg, f"{ident}_a", wb_key

    def twiddles(self, spec: LayerSpec, cell: str, mats: list[str]) -> tuple[str, str]:
        bs = {
            int(self.man["matrices"][m]["b"])
            for m in mats
            if self.man["matrices"][m]["structure"] == "circulant"
        }
        b = max(bs) if bs else 2
        if len(bs) > 1:
            raise ValueError(f"{cell}: circulant matrices of one cell must share b (got {sorted(bs)})")
        tr, ti = fx.twiddles(b, self.tw_bits, self.tw_frac)
        key = _ident(cell)
        spec.weights.append(Weight(f"{key}_twr", self.tw_bits, tr))
        spec.weights.append(Weight(f"{key}_twi", self.tw_bits, ti))
        return f"{key}_twr", f"{key}_twi"

    def pwl(self, spec: LayerSpec, tag: str, func: str, zin: str) -> tuple[str, str, str]:
        zb, zf = self.bf(zin)
        t = self.man["pwl"][f"{func}_f{zf}"]
        R = int(t["R"])
        cfg = f"{{P}}_{tag}"
        ab = int(t["out_bits"])
        spec.structs.append(
            f"struct {cfg} : r2f::pwl_config {{\n"
            f"    static const int z_bits = {zb}, z_frac = {zf}, "
            f"a_bits = {ab}, a_frac = {int(t['out_frac'])};\n"
            f"    static const int c0_bits = {ab}, c1_bits = {int(t['slope_bits'])}, "
            f"c1_frac = {int(t['slope_frac'])};\n"
            f"    static const int range_log2 = {R.bit_length() - 1}, seg_shift = {int(t['s'])};\n"
            f"    static const unsigned n_seg = {int(t['n_segments'])};\n}};\n"
        )
        key = f"{tag}_f{zf}".replace("-", "m")
        spec.weights.append(Weight(f"{key}_c0", ab, np.asarray(t["c0"], dtype=np.int64)))
        spec.weights.append(Weight(f"{key}_c1", int(t["slope_bits"]), np.asarray(t["c1"], dtype=np.int64)))
        return cfg, f"{key}_c0", f"{key}_c1"

    def vec(self, spec: LayerSpec, name: str, fmt: str) -> str:
        bits, _ = self.bf(fmt)
        key = _ident(name)
        spec.weights.append(Weight(key, bits, np.asarray(self.arr[name], dtype=np.int64).reshape(-1)))
        return key


def _fmt_line(names: dict[str, tuple[int, int]]) -> str:
    return "".join(f"    static const int {k}_bits = {b}, {k}_frac = {f};\n" for k, (b, f) in names.items())


def _lstm_cell(g: _Gen, spec: LayerSpec, c: str, xin: str, n_in: int, T: int) -> dict:
    model = g.man["model"]
    H, P = ref.hidden_sizes(model)
    mom = model["cell"] == "momentum_lstm"
    proj = bool(model["cell"] in ("lstm", "bilstm") and model.get("projection", 0))
    peep = bool(model["cell"] in ("lstm", "bilstm") and model.get("peepholes", False))
    Rf = f"{c}.r" if proj else f"{c}.h"
    cc = _ident(c)
    ih = g.matvec(spec, f"{cc}_ih", f"{c}.w_ih", xin, f"{c}.v" if mom else f"{c}.z")
    hh = g.matvec(spec, f"{cc}_hh", f"{c}.w_hh", Rf, f"{c}.z")
    pr = g.matvec(spec, f"{cc}_pr", f"{c}.w_proj", f"{c}.h", f"{c}.r") if proj else (hh[0], hh[1], hh[2])
    mats = [f"{c}.w_ih", f"{c}.w_hh"] + ([f"{c}.w_proj"] if proj else [])
    twr, twi = g.twiddles(spec, c, mats)
    sig = g.pwl(spec, f"{cc}_sig", "sigmoid", f"{c}.z")
    tz = g.pwl(spec, f"{cc}_tanhz", "tanh", f"{c}.z")
    tc = g.pwl(spec, f"{cc}_tanhc", "tanh", f"{c}.c")
    zb, zf = g.bf(f"{c}.z")
    if mom:
        bias = g.vec(spec, f"{c}.b_u", f"{c}.z")
        b_w = g.vec(spec, f"{c}.b_w", f"{c}.v")
        mu, s = g.vec(spec, f"{c}.mu", f"{c}.mu"), g.vec(spec, f"{c}.s", f"{c}.s")
        fv, fmu, fs = g.bf(f"{c}.v"), g.bf(f"{c}.mu"), g.bf(f"{c}.s")
    else:
        bias = g.vec(spec, f"{c}.b", f"{c}.z")
        # unused arrays: the bias array stands in (their types are then ap_int<Bz>)
        fv, fmu, fs = (zb, zf), (zb, 0), (zb, 0)
        b_w = mu = s = bias
    if peep:
        peepv = g.vec(spec, f"{c}.peep", f"{c}.peep")
        fp = g.bf(f"{c}.peep")
    else:
        peepv, fp = bias, (zb, 0)
    cfg = f"{{P}}_{cc}"
    fmts = {
        "x": g.bf(xin),
        "z": (zb, zf),
        "c": g.bf(f"{c}.c"),
        "h": g.bf(f"{c}.h"),
        "r": g.bf(Rf),
        "a": g.bf("act"),
        "p": fp,
        "v": fv,
        "mu": fmu,
        "s": fs,
    }
    spec.structs.append(
        f"struct {cfg} : r2f::lstm_config {{\n"
        f"    static const unsigned n_in = {n_in}, n_h = {H}, n_out = {P}, n_t = {T};\n"
        f"    static const bool proj = {str(proj).lower()}, peep = {str(peep).lower()}, "
        f"momentum = {str(mom).lower()};\n"
        + _fmt_line(fmts)
        + f"    static const int tw_bits = {g.tw_bits};\n"
        f"    typedef {ih[0]} mv_ih;\n    typedef {hh[0]} mv_hh;\n    typedef {pr[0]} mv_proj;\n"
        f"    typedef {sig[0]} sig_z;\n    typedef {tz[0]} tanh_z;\n    typedef {tc[0]} tanh_c;\n}};\n"
    )
    fields = [ih[1], ih[2], hh[1], hh[2], pr[1], pr[2], twr, twi, bias, b_w, peepv, mu, s]
    fields += [sig[1], sig[2], tz[1], tz[2], tc[1], tc[2]]
    return {"cfg": cfg, "fields": fields, "cell": cc, "seq": "lstm_seq"}


def _gru_cell(g: _Gen, spec: LayerSpec, c: str, xin: str, n_in: int, T: int) -> dict:
    H = g.man["model"]["hidden"]
    cc = _ident(c)
    ih = g.matvec(spec, f"{cc}_ih", f"{c}.w_ih", xin, f"{c}.z")
    hh = g.matvec(spec, f"{cc}_hh", f"{c}.w_hh", f"{c}.h", f"{c}.z")
    twr, twi = g.twiddles(spec, c, [f"{c}.w_ih", f"{c}.w_hh"])
    sig = g.pwl(spec, f"{cc}_sig", "sigmoid", f"{c}.z")
    tz = g.pwl(spec, f"{cc}_tanhz", "tanh", f"{c}.z")
    b_rz = g.vec(spec, f"{c}.b_rz", f"{c}.z")
    b_in = g.vec(spec, f"{c}.b_in", f"{c}.z")
    b_hn = g.vec(spec, f"{c}.b_hn", f"{c}.z")
    cfg = f"{{P}}_{cc}"
    fmts = {"x": g.bf(xin), "z": g.bf(f"{c}.z"), "h": g.bf(f"{c}.h"), "a": g.bf("act")}
    spec.structs.append(
        f"struct {cfg} : r2f::gru_config {{\n"
        f"    static const unsigned n_in = {n_in}, n_h = {H}, n_out = {H}, n_t = {T};\n"
        + _fmt_line(fmts)
        + f"    static const int tw_bits = {g.tw_bits};\n"
        f"    typedef {ih[0]} mv_ih;\n    typedef {hh[0]} mv_hh;\n"
        f"    typedef {sig[0]} sig_z;\n    typedef {tz[0]} tanh_z;\n}};\n"
    )
    fields = [ih[1], ih[2], hh[1], hh[2], twr, twi, b_rz, b_in, b_hn, sig[1], sig[2], tz[1], tz[2]]
    return {"cfg": cfg, "fields": fields, "cell": cc, "seq": "gru_seq"}


def _enrnn_cell(g: _Gen, spec: LayerSpec, c: str, xin: str, n_in: int, T: int) -> dict:
    model = g.man["model"]
    H = model["hidden"]
    n2 = int(model.get("n2", 0) or 0) if model["cell"] == "enrnn" else 0
    n1 = H - n2
    cc = _ident(c)
    win = g.matvec(spec, f"{cc}_in", f"{c}.w_in", xin, f"{c}.z")
    w1 = g.matvec(spec, f"{cc}_w1", f"{c}.w1", f"{c}.h", f"{c}.z")
    mats = [f"{c}.w_in", f"{c}.w1"]
    if n2:
        w2 = g.matvec(spec, f"{cc}_w2", f"{c}.w2", f"{c}.h", f"{c}.z")
        w3 = g.matvec(spec, f"{cc}_w3", f"{c}.w3", f"{c}.h", f"{c}.z")
        mats += [f"{c}.w2", f"{c}.w3"]
    else:
        w2 = w3 = w1
    twr, twi = g.twiddles(spec, c, mats)
    bmod = g.vec(spec, f"{c}.b_mod", f"{c}.z")
    cfg = f"{{P}}_{cc}"
    fmts = {"x": g.bf(xin), "z": g.bf(f"{c}.z"), "h": g.bf(f"{c}.h")}
    spec.structs.append(
        f"struct {cfg} : r2f::enrnn_config {{\n"
        f"    static const unsigned n_in = {n_in}, n_h = {H}, n_out = {H}, n_t = {T}, n1 = {n1}, n2 = {n2};\n"
        + _fmt_line(fmts)
        + f"    static const int tw_bits = {g.tw_bits};\n"
        f"    typedef {win[0]} mv_in;\n    typedef {w1[0]} mv_1;\n    typedef {w2[0]} mv_2;\n"
        f"    typedef {w3[0]} mv_3;\n}};\n"
    )
    fields = [win[1], win[2], w1[1], w1[2], w2[1], w2[2], w3[1], w3[2], twr, twi, bmod]
    return {"cfg": cfg, "fields": fields, "cell": cc, "seq": "enrnn_seq"}


def layer_specs(manifest: dict, arrays: dict, T: int, parallelism: int = 1) -> list[LayerSpec]:
    """Specs of every recurrent layer and of the head, in graph order."""
    g = _Gen(manifest, arrays, parallelism)
    model = manifest["model"]
    cell = model["cell"]
    H, P = ref.hidden_sizes(model)
    specs = []
    n_in = int(model["input_size"])
    for k, cells in enumerate(ref.cell_names(model)):
        xin = ref.layer_input_name(model, k)
        kind = {"gru": "gru", "enrnn": "enrnn", "scornn": "enrnn"}.get(cell, "lstm")
        n_out = (2 * P if cell == "bilstm" else P) if kind == "lstm" else H
        out_bits = g.bf(ref.cell_output_name(model, cells[0]))[0]
        spec = LayerSpec(kind, f"layer{k}", T, n_in, n_out, out_bits)
        make = {"lstm": _lstm_cell, "gru": _gru_cell, "enrnn": _enrnn_cell}[kind]
        for d, c in enumerate(cells):
            info = make(g, spec, c, xin, n_in, T)
            info["reverse"] = d == 1
            info["offset"] = d * (n_out // len(cells))
            spec.cells.append(info)
        specs.append(spec)
        n_in = n_out
    last = ref.cell_names(model)[-1][0]
    ufmt = ref.cell_output_name(model, last)
    yb, yf = g.bf("head.y")
    hs = LayerSpec(
        "head", "head", T, n_in, int(model["output_size"]), yb, per_step=bool(model.get("per_step"))
    )
    mv = g.matvec(hs, "head_mv", "head.w", ufmt, "head.y")
    twr, twi = g.twiddles(hs, "head", ["head.w"])
    bias = g.vec(hs, "head.b", "head.y")
    ub, uf = g.bf(ufmt)
    hs.structs.append(
        "struct {P}_head : r2f::head_config {\n"
        f"    static const unsigned n_in = {n_in}, n_out = {hs.n_out}, n_t = {T};\n"
        f"    static const unsigned back_from = {n_in // 2 if cell == 'bilstm' else n_in};\n"
        f"    static const bool per_step = {str(hs.per_step).lower()};\n"
        f"    static const int u_bits = {ub}, u_frac = {uf}, y_bits = {yb}, y_frac = {yf};\n"
        f"    static const int tw_bits = {g.tw_bits};\n"
        f"    typedef {mv[0]} mv;\n}};\n"
    )
    hs.cells.append({"cfg": "{P}_head", "fields": [mv[1], mv[2], twr, twi, bias], "cell": "head"})
    specs.append(hs)
    return specs
