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
from compress.graph import CellGraph, Value, is_scalar, model_graph, root_of

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

    kind: str  # cell | head
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


class _CellWriter:
    """C++ of one cell's step and sequence loop, emitted op by op from its graph (compress/graph.py)."""

    WIDE = 48  # exact sums and differences before saturation

    def __init__(self, g: _Gen, spec: LayerSpec, cg: CellGraph, T: int, y_stride: int, y_offset: int):
        self.g, self.spec, self.cg, self.T = g, spec, cg, T
        self.ys, self.yo = y_stride, y_offset
        self.cc = _ident(cg.cell)
        self.params: list[tuple[str, str]] = []  # (C++ parameter declaration, weight key)
        self.body: list[str] = []
        self.pwl: dict[tuple[str, str], tuple[str, str, str]] = {}
        self.arrays: dict[int, str] = {}  # id(root) -> C++ array name
        self.decls: list[str] = []
        self.copies: set[str] = set()
        mats = [op.attrs["matrix"] for op in cg.ops if op.kind == "mv"]
        self.tw = g.twiddles(spec, cg.cell, mats)
        self._param(f"ap_int<{g.tw_bits}>", self.tw[0])
        self._param(f"ap_int<{g.tw_bits}>", self.tw[1])

    def _param(self, ctype: str, key: str) -> None:
        if key not in {k for _, k in self.params}:
            self.params.append((f"const {ctype} {key}[]", key))

    def bits(self, fmt: str | None) -> int:
        return self.WIDE if fmt is None else self.g.bf(fmt)[0]

    def frac(self, fmt: str) -> int:
        return self.g.bf(fmt)[1]

    # ------------------------------------------------------------------ values
    def array(self, r: Value) -> str:
        """The C++ array holding root value r (declared on first use)."""
        if id(r) in self.arrays:
            return self.arrays[id(r)]
        if r.leaf == "x":
            name = "x"
        elif r.leaf and r.leaf.startswith("state:"):
            name = f"st_{r.leaf[6:]}"
        elif r.leaf and r.leaf.startswith("vec:"):
            vname = r.leaf[4:]
            name = self.g.vec(self.spec, vname, self.g.man["vectors"][vname]["format"])
            self._param(f"ap_int<{self.bits(r.fmt)}>", name)
        else:
            name = r.name
            self.decls.append(f"    ap_int<{self.bits(r.fmt)}> {name}[{r.n}];")
        self.arrays[id(r)] = name
        return name

    def at(self, v: Value, j: str = "j") -> str:
        r, off = root_of(v)
        a = self.array(r)
        if is_scalar(v):
            return f"{a}[0]"
        return f"{a}[{off} + {j}]" if off else f"{a}[{j}]"

    def loop(self, n: int, stmt: str) -> None:
        self.body.append(
            f"    for (unsigned j = 0; j < {n}; j++) {{\n#pragma HLS PIPELINE II = 1\n        {stmt}\n    }}"
        )

    # ------------------------------------------------------------------ ops
    def emit(self, op) -> None:
        getattr(self, f"_{op.kind}")(op)

    def _mv(self, op) -> None:
        v, out = op.args[0], op.out
        cfg, wa, wb = self.g.matvec(
            self.spec,
            f"{self.cc}_{_ident(op.attrs['matrix'])}",
            op.attrs["matrix"],
            op.attrs["vfmt"],
            out.fmt,
        )
        meta = self.g.man["matrices"][op.attrs["matrix"]]
        self._param(f"ap_int<{self.g.bf(meta.get('freq_format') or op.attrs['matrix'])[0]}>", wa)
        self._param(f"ap_int<{self.g.bf(meta.get('freq_format') or op.attrs['matrix'])[0]}>", wb)
        src = self._whole(v, "mvin")
        r, off = root_of(out)
        dst = self.array(r) if (r is out) else f"{out.name}_mv"
        if r is not out:
            self.decls.append(f"    ap_int<{self.bits(out.fmt)}> {dst}[{out.n}];")
        self.body.append(
            f"    r2f::matvec<{cfg}>::run({src}, {dst}, {wa}, {wb}, {self.tw[0]}, {self.tw[1]});"
        )
        if r is not out:
            self.loop(out.n, f"{self.at(out)} = {dst}[j];")

    def _whole(self, v: Value, tag: str) -> str:
        """An array holding exactly v (the root itself, or a copy of a slice)."""
        r, off = root_of(v)
        if off == 0 and r.n == v.n:
            return self.array(r)
        name = f"{tag}_{v.name}"
        if name in self.copies:
            return name
        self.copies.add(name)
        self.decls.append(f"    ap_int<{self.bits(v.fmt)}> {name}[{v.n}];")
        self.loop(v.n, f"{name}[j] = {self.at(v)};")
        return name

    def _add(self, op) -> None:
        terms = " + ".join(f"ap_int<{self.WIDE}>({self.at(t)})" for t in op.args)
        self.loop(
            op.out.n, f"{self.at(op.out)} = r2f::sat<{self.bits(op.out.fmt)}>(ap_int<{self.WIDE}>({terms}));"
        )

    def _sub(self, op) -> None:
        a, b = op.args
        self.loop(
            op.out.n,
            f"{self.at(op.out)} = ap_int<{self.WIDE}>({self.at(a)}) - ap_int<{self.WIDE}>({self.at(b)});",
        )

    def _mul(self, op) -> None:
        a, b = op.args
        fa, fb, fd = self.frac(op.attrs["afmt"]), self.frac(op.attrs["bfmt"]), self.frac(op.out.fmt)
        prod = f"(ap_int<{self.bits(a.fmt) + self.bits(b.fmt)}>({self.at(a)}) * {self.at(b)})"
        self.loop(
            op.out.n, f"{self.at(op.out)} = r2f::requant<{fa + fb}, {fd}, {self.bits(op.out.fmt)}>{prod};"
        )

    def _requant(self, op) -> None:
        fs, fd = self.frac(op.attrs["src"]), self.frac(op.out.fmt)
        self.loop(
            op.out.n,
            f"{self.at(op.out)} = r2f::requant<{fs}, {fd}, {self.bits(op.out.fmt)}>({self.at(op.args[0])});",
        )

    def _act(self, op) -> None:
        key = (op.attrs["func"], op.attrs["zfmt"])
        if key not in self.pwl:
            tag = f"{self.cc}_{op.attrs['func']}_{_ident(op.attrs['zfmt'])}"
            self.pwl[key] = cfg, c0, c1 = self.g.pwl(self.spec, tag, *key)
            t = self.g.man["pwl"][f"{key[0]}_f{self.frac(key[1])}"]
            self._param(f"ap_int<{int(t['out_bits'])}>", c0)
            self._param(f"ap_int<{int(t['slope_bits'])}>", c1)
        cfg, c0, c1 = self.pwl[key]
        self.loop(op.out.n, f"{self.at(op.out)} = r2f::pwl<{cfg}>({self.at(op.args[0])}, {c0}, {c1});")

    def _modrelu(self, op) -> None:
        z, bm = op.args
        zb, zf = self.g.bf(op.attrs["zfmt"])
        hb, hf = self.g.bf(op.out.fmt)
        tmpl = f"{zb}, {self.bits(bm.fmt)}, {zf}, {hf}, {hb}"
        self.loop(op.out.n, f"{self.at(op.out)} = r2f::modrelu<{tmpl}>({self.at(z)}, {self.at(bm)});")

    # ------------------------------------------------------------------ functions
    def write(self, n_in: int) -> dict:
        """Append the step and sequence functions to the spec; returns the call info."""
        cg = self.cg
        for op in cg.ops:
            self.emit(op)
        used = {id(root_of(a)[0]) for op in cg.ops for a in op.args}
        state = {k: v for k, v in cg.state_in.items() if id(v) in used}
        for k, v in state.items():
            self.array(v)
            new = cg.state_out[k]
            self.loop(v.n, f"st_{k}[j] = {self.at(new)};")
        self.loop(cg.output.n, f"out[j] = {self.at(cg.output)};")
        xb, ob = self.bits(cg.x.fmt), self.bits(cg.output.fmt)
        pdecl = ", ".join(d for d, _ in self.params)
        sdecl = "".join(f"ap_int<{self.bits(v.fmt)}> st_{k}[{v.n}], " for k, v in state.items())
        fn = f"{{P}}_{self.cc}"
        step = (
            f"// cell {cg.cell}: generated from its op graph (compress/graph.py)\n"
            f"inline void {fn}_step(const ap_int<{xb}> x[{n_in}], {sdecl}"
            f"ap_int<{ob}> out[{cg.output.n}], {pdecl}) {{\n"
            "#pragma HLS INLINE off\n" + "\n".join(self.decls + self.body) + "\n}\n"
        )
        zero = "".join(f"    for (unsigned j = 0; j < {v.n}; j++) st_{k}[j] = 0;\n" for k, v in state.items())
        sdef = "".join(f"    ap_int<{self.bits(v.fmt)}> st_{k}[{v.n}];\n" for k, v in state.items())
        sargs = "".join(f"st_{k}, " for k in state)
        pargs = ", ".join(k for _, k in self.params)
        R = cg.output.n
        pos = "(t < len ? len - 1 - t : t)" if cg.reverse else "t"
        seq = (
            f"template <class X_T, class Y_T>\n"
            f"void {fn}_seq(const X_T x[{self.T * n_in}], unsigned len, Y_T y[{self.T * self.ys}], "
            f"{pdecl}) {{\n"
            f"{sdef}{zero}    ap_int<{ob}> out[{R}];\n"
            f"Time:  // one cell step per iteration: never unrolled\n"
            f"    for (unsigned t = 0; t < {self.T}; t++) {{\n"
            f"#pragma HLS LOOP_TRIPCOUNT min = 1 max = {self.T}\n#pragma HLS PIPELINE off\n"
            f"        const unsigned pos = {pos};\n"
            f"        if (t < len) {{\n"
            f"            ap_int<{xb}> xt[{n_in}];\n"
            f"            for (unsigned i = 0; i < {n_in}; i++) xt[i] = x[pos * {n_in} + i];\n"
            f"            {fn}_step(xt, {sargs}out, {pargs});\n"
            f"            for (unsigned j = 0; j < {R}; j++) y[pos * {self.ys} + {self.yo} + j] = out[j];\n"
            f"        }} else {{\n"
            f"            for (unsigned j = 0; j < {R}; j++) y[pos * {self.ys} + {self.yo} + j] = 0;\n"
            f"        }}\n    }}\n}}\n"
        )
        self.spec.structs.append(step + seq)
        return {"call": f"{fn}_seq", "fields": [k for _, k in self.params], "cell": self.cc}


def layer_specs(manifest: dict, arrays: dict, T: int, parallelism: int = 1) -> list[LayerSpec]:
    """Specs of every recurrent layer and of the head, in graph order."""
    g = _Gen(manifest, arrays, parallelism)
    model = manifest["model"]
    specs = []
    n_in = int(model["input_size"])
    graph = model_graph(model)
    width = ref.layer_width(model)
    for k, cells in enumerate(graph.layers):
        out_bits = g.bf(cells[0].output.fmt)[0]
        spec = LayerSpec("cell", f"layer{k}", T, n_in, width, out_bits)
        for d, cg in enumerate(cells):
            spec.cells.append(_CellWriter(g, spec, cg, T, width, d * cg.output.n).write(n_in))
        specs.append(spec)
        n_in = width
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
    dirs = len(graph.layers[-1])  # two: the backward half of u is read at t = 0 (its final state)
    back_from = n_in - n_in // dirs if dirs > 1 else n_in
    hs.structs.append(
        "struct {P}_head : r2f::head_config {\n"
        f"    static const unsigned n_in = {n_in}, n_out = {hs.n_out}, n_t = {T};\n"
        f"    static const unsigned back_from = {back_from};\n"
        f"    static const bool per_step = {str(hs.per_step).lower()};\n"
        f"    static const int u_bits = {ub}, u_frac = {uf}, y_bits = {yb}, y_frac = {yf};\n"
        f"    static const int tw_bits = {g.tw_bits};\n"
        f"    typedef {mv[0]} mv;\n}};\n"
    )
    hs.cells.append({"call": "r2f::head<{P}_head>", "fields": [mv[1], mv[2], twr, twi, bias], "cell": "head"})
    specs.append(hs)
    return specs
