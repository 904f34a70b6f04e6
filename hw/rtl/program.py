"""Compile a compress artifact into the microcoded core's memories: program, data memory, weights, PWL tables.

The core (rnn_core.sv) runs one sequence (batch n: n of 2-4, interleaved) at a time, layer by layer: the input
sequence is stored in a sequence buffer, every cell loops over the valid steps (backward cells from L-1 down
to 0) writing its output sequence into the other buffer, and the head reads the last step (or every step when
per_step; one forward cell's last output straight from where its step leaves it). Every buffer an MV writes
is in the matrix-output bank (address bit 15, ZBANK). Each cell is
compiled from its op graph (compress/graph.py, traced from compress/cells.py) by the passes of
hw/rtl/lower.py: layouts (padding where sizes are not multiples of b), buffers, merged EW instructions, MV
weights laid out for their operands. Nothing here is specific to a cell type.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

import numpy as np

from compress import fixedpoint as fx
from compress.graph import CellGraph, Value, is_scalar, model_graph, root_of
from configs.schema import ConfigError
from hw import cycles
from hw.rtl import isa, lower


class RtlError(ConfigError):
    """The artifact cannot be mapped onto the core (one-line message)."""


@dataclass
class Design:
    """Everything the generator writes: parameters, memories and the program (instruction dicts)."""

    params: dict
    prog: list[dict]
    dm: list[list[int]]  # DM words: B lane values each
    wmem: list[int]  # weight words (P lanes packed)
    pwl: list[int]  # PWL entries {c1, c0}
    tables: list[str]  # PWL table names in tsel order
    in_words: int  # AXI beats per input step
    out_words: int  # AXI beats per output vector
    out_size: int
    per_step: bool
    layout: dict = field(default_factory=dict)


def _check_pwl_call(tab: dict, zname: str, rl: int, sh: int, N: int, DW: int, Ba: int) -> None:
    """The invariants under which hw/rtl/pwl_act.sv's narrow datapath equals the contract formula."""
    kw = int(math.log2(N))
    rlmax = DW + 6  # pwl_act.sv RLMAX
    shmax = min(Ba + 2 + (rlmax + 1 - kw), 63)  # pwl_act.sv PRW - 1, fxp_requant's 63
    where = f"model.yaml: pwl table for {zname} (Fz={tab['in_frac']})"
    if not 0 <= rl <= rlmax:
        raise RtlError(f"{where}: clamp bound log2(R*2^Fz) = {rl} outside [0, {rlmax}] (data width {DW})")
    if tab["s"] != rl + 1 - kw:
        raise RtlError(f"{where}: segment shift {tab['s']} != log2(2R/N) + Fz = {rl + 1 - kw}")
    if not 0 <= sh <= shmax:
        raise RtlError(f"{where}: output shift {sh} outside [0, {shmax}]")


MV_SHL = 8  # mv_unit.sv SHL: the largest left shift of a matrix requant


def check_fields(prog: list[dict], DW: int, BZMAX: int) -> None:
    """Shift and width fields inside the ranges where hw/rtl/fxp_requant.sv is exact (one-line RtlError)."""
    for i, ins in enumerate(prog):
        where = f"program instruction {i} ({ins.get('note', ins['op'])})"
        sh, bits = ins.get("sh", 0), ins.get("bits", 1)
        if ins["op"] == "EW" and ins.get("alu") in ("ADD", "MUL", "REQ", "MODRELU"):
            lo, top = -DW, DW
        elif ins["op"] == "MV":
            lo, top = -MV_SHL, BZMAX
        else:
            continue
        if not lo <= sh <= 63:
            raise RtlError(f"{where}: shift {sh} outside [{lo}, 63]")
        if not 1 <= bits <= top:
            raise RtlError(f"{where}: output width {bits} outside [1, {top}]")


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


ZBANK = isa.ZBANK
MAX_BATCH = 1 << dict((f, w) for f, w, _ in isa.FIELDS)["seq"]  # the ISA's seq field (rnn_core NSEQ 1..4)
VBASE, VSTEP = 1 << 24, 1 << 16  # virtual addresses of a sequence's buffers until `_pack_temps` places them


class _Alloc:
    """Allocator in blocks of one memory bank (addresses from `base`); regions start and end on E-block
    (element-wise word) boundaries. `prefix` names the regions of one sequence of a batch."""

    def __init__(self, E: int = 1, base: int = 0):
        self.top = 0
        self.E = E
        self.base = base
        self.prefix = ""
        self.regions: dict[str, tuple[int, int]] = {}
        self.temps: list[tuple[str, int, int]] = []  # (name, virtual address, words) not yet packed

    def __call__(self, name: str, words: int) -> int:
        addr = self.base + self.top
        self.regions[self.prefix + name] = (addr, words)
        self.top += _ceil(max(words, 1), self.E) * self.E
        return addr

    def temp(self, name: str, words: int) -> int:
        """A buffer of one sequence's program at a virtual address (`VBASE` up): `_pack_temps` gives it its
        data-memory words once the program is complete, sharing words between buffers never live at once."""
        addr = VBASE + len(self.temps) * VSTEP  # apart: no operand runs from one buffer into the next
        words = _ceil(max(words, 1), self.E) * self.E
        if words >= VSTEP:
            raise RtlError(f"data memory: buffer {name} of {words} words")
        self.temps.append((self.prefix + name, addr, words))
        return addr


@dataclass
class _Ctx:
    """Model-wide state of one compilation: formats, memories being filled, the program."""

    man: dict
    arr: dict
    b: int
    P: int
    E: int
    DW: int
    use_fft: bool
    alloc: _Alloc
    F: dict
    Bt: dict
    tables: list
    hw_fft: bool = False
    zalloc: _Alloc | None = None  # the matrix-output bank
    prog: list = field(default_factory=list)
    consts: dict = field(default_factory=dict)  # DM word -> b lane values
    const_at: dict = field(default_factory=dict)  # lane values -> DM word of a placed constant
    wwords: list = field(default_factory=list)
    mv_done: set = field(default_factory=set)

    def ew(self, alu, dst: lower.Place, n_words: int, a=None, b_=None, c=None, note="", **f) -> None:
        """Append an EW instruction (zero operands where a place is None)."""
        ins = dict(op="EW", alu=alu, dst=dst.addr, dmode=dst.mode, n=_ceil(n_words, self.E), note=note)
        for key, pl in (("a", a), ("b", b_), ("c", c)):
            ins[key] = pl.addr if pl is not None else 0
            ins[key[0] + "mode"] = pl.mode if pl is not None else "abs"
        ins.update(zb=int(b_ is None), zc=int(c is None), nb=0, sh=0, bits=self.DW)
        if alu == "PWL":
            for k in ("b", "c", "bmode", "cmode", "zb", "zc", "nb"):
                ins.pop(k)
        ins.update(f)
        self.prog.append(ins)

    def copy(self, dst: lower.Place, src: lower.Place, note: str) -> None:
        self.ew("ADD", dst, src.words, a=src, note=note)

    def const(self, name: str, phys: np.ndarray) -> int:
        """Place constant lane values (physical order) in the data memory; returns the word address. Equal
        constants (both sequences of a batch, a scalar broadcast twice) share one place: none is written."""
        words = _ceil(len(phys), self.b)
        v = np.concatenate([phys, np.zeros(words * self.b - len(phys), dtype=np.int64)])
        key = tuple(int(x) for x in v)
        if key in self.const_at:
            return self.const_at[key]
        base = self.const_at[key] = self.alloc(name, words)
        for w in range(words):
            self.consts[base + w] = [int(x) for x in v[w * self.b : (w + 1) * self.b]]
        return base


def _physical(values: np.ndarray, segs) -> np.ndarray:
    """Logical values in a layout's physical order (padding 0)."""
    n = segs[-1][2] + segs[-1][1]
    out = np.zeros(n, dtype=np.int64)
    for lo, ln, p in segs:
        out[p : p + ln] = values[lo : lo + ln]
    return out


def _pwl_table(ctx: _Ctx, func: str, zname: str) -> tuple[int, dict]:
    key = f"{func}_f{ctx.F[zname]}"
    if key not in ctx.man["pwl"]:
        raise RtlError(f"model.yaml: pwl: no table {key} for {zname}")
    return ctx.tables.index(key), ctx.man["pwl"][key]


def _ew_fields(ctx: _Ctx, m: lower.MOp) -> dict:
    """The instruction fields of an EW operation that do not depend on where its operands live."""
    F, Bt, fmt = ctx.F, ctx.Bt, m.out.fmt
    if m.alu == "ADD":
        exact = m.attrs.get("partial") or m.attrs.get("negate_b")
        return dict(alu="ADD", nb=int(bool(m.attrs.get("negate_b"))), bits=ctx.DW if exact else Bt[fmt], sh=0)
    if m.alu == "MUL":
        return dict(alu="MUL", sh=F[m.attrs["afmt"]] + F[m.attrs["bfmt"]] - F[fmt], bits=Bt[fmt])
    if m.alu == "REQ":
        return dict(alu="REQ", sh=F[m.attrs["src"]] - F[fmt], bits=Bt[fmt])
    if m.alu == "MODRELU":
        return dict(alu="MODRELU", sh=F[m.attrs["zfmt"]] - F[fmt], bits=Bt[fmt])
    zname = m.attrs["zfmt"]
    tsel, tab = _pwl_table(ctx, m.attrs["func"], zname)
    N = ctx.man["quantization"]["pwl_segments"]
    rl = int(math.log2(tab["R"])) + F[zname]
    sh = tab["slope_frac"] + F[zname] - tab["out_frac"]
    _check_pwl_call(tab, zname, rl, sh, N, ctx.DW, ctx.man["quantization"]["act_bits"])
    return dict(alu="PWL", tsel=tsel, seg=tab["s"], rl=rl, sh=sh, bits=Bt["act"])


class _CellCompiler:
    """Compiles one cell graph: layouts, buffers, merged EW groups, MV weights (see hw/rtl/lower.py)."""

    def __init__(self, ctx: _Ctx, g: CellGraph, x_layout: lower.Layout, x_clean: bool = False):
        self.ctx, self.g = ctx, g
        self.x_clean = x_clean  # the input's padding lanes are 0 (the stream pads with zeros)
        self.mops = lower.machine_ops(g)
        used = {id(root_of(a)[0]) for m in self.mops for a in m.args if a is not None}
        self.state = {k: v for k, v in g.state_in.items() if id(v) in used}
        values = [a for m in self.mops for a in m.args] + [m.out for m in self.mops]
        values += [g.x, g.output, *g.state_in.values(), *g.state_out.values()]
        pairs = [(v, g.state_out[k]) for k, v in self.state.items()]
        try:
            self.lay = lower.layouts(values, self.mops, pairs, ctx.b * ctx.E, {id(g.x): x_layout})
        except ValueError as exc:
            raise RtlError(f"model.yaml: cell {g.cell}: {exc}") from None
        self.base: dict[int, int] = {}
        self.mode: dict[int, str] = {}
        self.producer = {id(m.out): i for i, m in enumerate(self.mops)}
        # values written by the matrix unit live in the matrix-output bank (whole buffers: their roots)
        self.mv_roots = {id(root_of(m.out)[0]) for m in self.mops if m.kind == "MV"}

    # ------------------------------------------------------------------ places
    def bind_x(self, place: lower.Place) -> None:
        """Where the cell's input lives (the sequence buffer, address mode t)."""
        self.base[id(self.g.x)], self.mode[id(self.g.x)] = place.addr, place.mode

    def output_segments(self) -> tuple[list, int]:
        """(segments of the output view, its words), before anything is placed."""
        r, off = root_of(self.g.output)
        return self.lay[id(r)].view(off, self.g.output.n), _ceil(
            self.lay[id(r)].phys(off, self.g.output.n)[1], self.ctx.b
        )

    def _alloc_root(self, r: Value) -> None:
        if id(r) in self.base:
            return
        if r.leaf and r.leaf.startswith("vec:"):
            name = r.leaf[4:]
            vals = self.ctx.arr[name].reshape(-1).astype(np.int64)
            self.base[id(r)] = self.ctx.const(name, _physical(vals, self.lay[id(r)].segments))
            return
        words = _ceil(self.lay[id(r)].size, self.ctx.b)
        name = f"{self.g.cell}.{r.name}"
        if id(r) in self.mv_roots:
            self.base[id(r)] = self.ctx.zalloc(name, words)
        else:
            self.base[id(r)] = self.ctx.alloc.temp(name, words)

    def place(self, v: Value) -> lower.Place:
        r, off = root_of(v)
        self._alloc_root(r)
        start, n = self.lay[id(r)].phys(off, v.n)
        return lower.Place(
            self.base[id(r)] + start // self.ctx.b, _ceil(n, self.ctx.b), self.mode.get(id(r), "abs")
        )

    def is_free(self, v: Value) -> bool:
        """An output with no placement yet: it may go wherever its EW group puts it."""
        r, _ = root_of(v)
        return r is v and id(r) not in self.base

    # ------------------------------------------------------------------ state
    def zero_state(self) -> None:
        for k, v in self.state.items():
            pl = self.place(v)
            self.ctx.ew("ADD", pl, pl.words, a=pl, b_=pl, nb=1, note=f"{self.g.cell}: zero state {k}")

    def plan_in_place(self) -> list[str]:
        """New states written straight into their state buffer; returns the keys that need a copy."""
        copies = []
        for k, sin in self.state.items():
            new = self.g.state_out[k]
            i = self.producer.get(id(new))
            readers = [
                j
                for j, m in enumerate(self.mops)
                if any(a is not None and root_of(a)[0] is sin for a in m.args)
            ]
            mv = i is not None and self.mops[i].kind == "MV"  # (an MV never overwrites its own input)
            if i is not None and self.is_free(new) and all(j < i or (j == i and not mv) for j in readers):
                if mv:  # the matrix unit writes the state: it lives in its bank
                    self.mv_roots.add(id(root_of(sin)[0]))
                self._alloc_root(root_of(sin)[0])
                self.base[id(new)] = self.base[id(root_of(sin)[0])]
            else:
                copies.append(k)
        return copies

    # ------------------------------------------------------------------ operations
    def body(self) -> None:
        group: dict | None = None
        for m in self.mops:
            if m.kind == "MV":
                self._close(group)
                group = None
                self._mv(m)
                continue
            if group is not None and self._merge(group, m):
                continue
            self._close(group)
            group = self._open(m)
        self._close(group)

    def _slots(self, m: lower.MOp) -> list:
        return [
            ("scalar", root_of(a)[0].leaf[4:])
            if a is not None and is_scalar(a)
            else (None if a is None else a)
            for a in m.args
        ]

    def _open(self, m: lower.MOp) -> dict:
        slots = self._slots(m)
        places = [s if (s is None or isinstance(s, tuple)) else self.place(s) for s in slots]
        out = None if self.is_free(m.out) else self.place(m.out)
        words = self._words(m.out)
        return dict(mops=[m], fields=_ew_fields(self.ctx, m), slots=places, out=out, words=words)

    def _words(self, v: Value) -> int:
        """Words an EW operation over v covers (whole E-word groups)."""
        r, off = root_of(v)
        return _ceil(_ceil(self.lay[id(r)].phys(off, v.n)[1], self.ctx.b), self.ctx.E) * self.ctx.E

    def _merge(self, grp: dict, m: lower.MOp) -> bool:
        if _ew_fields(self.ctx, m) != grp["fields"] or len(m.args) != len(grp["slots"]):
            return False
        outs = {id(x.out) for x in grp["mops"]}
        if any(a is not None and id(root_of(a)[0]) in outs for a in m.args):
            return False  # reads what the group writes
        places = []
        for s, gs in zip(self._slots(m), grp["slots"], strict=True):
            if s is None or isinstance(s, tuple):
                if s != gs:
                    return False
                places.append(s)
                continue
            if not isinstance(gs, lower.Place):
                return False
            pl = self.place(s)
            if not pl.follows(gs, self.ctx.E):
                return False
            places.append(pl)
        if grp["out"] is None:
            if not self.is_free(m.out):
                return False
        else:
            if self.is_free(m.out):
                return False
            pl = self.place(m.out)
            if not pl.follows(lower.Place(grp["out"].addr, grp["words"], grp["out"].mode), self.ctx.E):
                return False
        grp["mops"].append(m)
        E = self.ctx.E
        grp["slots"] = [
            p
            if not isinstance(p, lower.Place)
            else lower.Place(g0.addr, _ceil(g0.words, E) * E + p.words, g0.mode)
            for p, g0 in zip(places, grp["slots"], strict=True)
        ]
        grp["words"] += self._words(m.out)
        return True

    def _close(self, grp: dict | None) -> None:
        if grp is None:
            return
        ctx = self.ctx
        if grp["out"] is None:  # one buffer for the merged outputs, in order
            names = "+".join(x.out.name for x in grp["mops"])
            addr = ctx.alloc.temp(f"{self.g.cell}.{names}", grp["words"])
            for x in grp["mops"]:
                self.base[id(x.out)] = addr
                addr += self._words(x.out)
            dst = lower.Place(self.base[id(grp["mops"][0].out)], grp["words"])
        else:
            dst = lower.Place(grp["out"].addr, grp["words"], grp["out"].mode)
        args = []
        for s in grp["slots"]:
            if isinstance(s, tuple):  # a scalar (mu, s): one constant the size of the group
                val = int(np.asarray(ctx.arr[s[1]]).reshape(-1)[0])
                args.append(lower.Place(ctx.const(s[1], np.full(grp["words"] * ctx.b, val)), grp["words"]))
            else:
                args.append(s)
        args += [None] * (3 - len(args))
        names = ", ".join(x.out.name for x in grp["mops"])
        f = dict(grp["fields"])
        alu = f.pop("alu")
        ctx.ew(alu, dst, grp["words"], args[0], args[1], args[2], note=f"{self.g.cell}: {names}", **f)

    def _mv(self, m: lower.MOp) -> None:
        ctx = self.ctx
        name = m.attrs["matrix"]
        if name in ctx.mv_done:
            raise RtlError(f"model.yaml: matrices.{name}: used twice in one step")
        ctx.mv_done.add(name)
        src = self.place(m.args[0])
        dst = self.place(m.out)
        r_in, off_in = root_of(m.args[0])
        r_out, off_out = root_of(m.out)
        col_segs = self.lay[id(r_in)].view(off_in, m.args[0].n)
        if sum(ln for _, ln, _ in col_segs) < src.words * ctx.b and not (self.x_clean and r_in is self.g.x):
            src = self._masked(src, col_segs, m.attrs["vfmt"])
        row_segs = self.lay[id(r_out)].view(off_out, m.out.n)
        info = _pack_matrix(ctx, name, row_segs, col_segs, dst.words, src.words, m.attrs["vfmt"], m.out.fmt)
        ctx.prog.append(dict(op="MV", a=src.addr, dst=dst.addr, amode=src.mode, **info, note=f"mv {name}"))

    def _masked(self, src: lower.Place, segs, fmt: str) -> lower.Place:
        """A copy of src with its padding lanes 0 (they hold whatever the element-wise ops left there, and the
        reference pads a matrix input with zeros)."""
        ctx = self.ctx
        ones = np.zeros(src.words * ctx.b, dtype=np.int64)
        for _, ln, p in segs:
            ones[p : p + ln] = 1
        mask = lower.Place(ctx.const(f"{self.g.cell}.mask{len(ctx.prog)}", ones), src.words)
        dst = lower.Place(ctx.alloc.temp(f"{self.g.cell}.masked{len(ctx.prog)}", src.words), src.words)
        ctx.ew(
            "MUL", dst, src.words, a=src, b_=mask, sh=0, bits=ctx.Bt[fmt], note=f"{self.g.cell}: zero padding"
        )
        return dst

    def run_cell(self, x: lower.Place, out: lower.Place | None) -> None:
        """Zero state, then the step in a loop over t; the output written to `out` (address mode t; None: the
        head reads the cell's last output where the step leaves it)."""
        ctx, g = self.ctx, self.g
        self.bind_x(x)
        copies = self.plan_in_place()
        self.zero_state()
        ctx.prog.append(dict(op="LOOP", last=int(g.reverse), note=f"{g.cell} steps"))
        self.body()
        for k in copies:
            ctx.copy(self.place(self.state[k]), self.place(g.state_out[k]), f"{g.cell}: state {k}")
        if out is not None:
            ctx.copy(out, self.place(g.output), f"{g.cell}: output")
        ctx.prog.append(dict(op="ENDLOOP"))


def _pack_matrix(ctx: _Ctx, name: str, row_segs, col_segs, p_words: int, q_words: int, vin: str, vout: str):
    """Weight-memory words of one matrix laid out for its input and output views; returns the MV fields."""
    meta = ctx.man["matrices"][name]
    blocks, k_rows, circ, fft_m = _matrix_blocks(ctx, name, row_segs, col_segs, p_words, q_words)
    base = _pack_words(ctx, blocks, k_rows, p_words, q_words)
    F = ctx.F
    if fft_m:
        sh = F[meta["freq_format"]] + F[vin] - (F[vout] + ctx.man["fft"]["guard_bits"])
    else:
        sh = F[meta["format"]] + F[vin] - F[vout]
    g = _ceil(p_words, ctx.P)
    return dict(
        n=q_words, g=g, pb=p_words, sh=sh, bits=ctx.Bt[vout], wbase=base, dense=int(not circ), fft=int(fft_m)
    )


def _matrix_blocks(ctx: _Ctx, name: str, row_segs, col_segs, p_words: int, q_words: int):
    """(blocks(i, j, r) -> lane values, rows per block, circulant, fft) of a matrix in its physical layout:
    circulant blocks move whole when every segment starts on a block; otherwise (direct mode) the matrix is
    expanded to its exact dense form with zero rows and columns where the operands are padded."""
    meta, arr, b = ctx.man["matrices"][name], ctx.arr, ctx.b
    circ = meta["structure"] == "circulant"
    identity = all(lo == p for lo, _, p in row_segs + col_segs)
    blockwise = all(lo % b == 0 for lo, _, _ in row_segs + col_segs)
    if circ and not identity and not blockwise:
        if ctx.use_fft:
            raise RtlError(
                f"model.yaml: matrices.{name}: a gate/state boundary falls inside a circulant block (b={b}); "
                "the fft matvec needs sizes that are multiples of b (or matvec_mode: direct)"
            )
        circ = False
    fft_m = circ and ctx.use_fft
    if circ:
        parts = [arr[name + ".wf_re"], arr[name + ".wf_im"]] if fft_m else [arr[name + ".w"]]
        phys = [np.zeros((p_words, q_words, a.shape[2]), dtype=np.int64) for a in parts]
        for rlo, rln, rp in row_segs:
            for clo, cln, cp in col_segs:
                for a, ph in zip(parts, phys, strict=True):
                    blk = a[rlo // b : rlo // b + _ceil(rln, b), clo // b : clo // b + _ceil(cln, b)]
                    ph[rp // b : rp // b + blk.shape[0], cp // b : cp // b + blk.shape[1]] = blk
        return (lambda i, j, r: [v for ph in phys for v in ph[i, j]]), 1, True, fft_m
    w = arr[name + ".w"]
    W = fx.expand_circulant(w)[: meta["rows"], : meta["cols"]] if meta["structure"] == "circulant" else w
    Wp = np.zeros((p_words * b, q_words * b), dtype=np.int64)
    for rlo, rln, rp in row_segs:
        for clo, cln, cp in col_segs:
            Wp[rp : rp + rln, cp : cp + cln] = W[rlo : rlo + rln, clo : clo + cln]
    return (lambda i, j, r: list(Wp[i * b + r, j * b : (j + 1) * b])), b, False, False


def _pack_words(ctx: _Ctx, blocks, k_rows: int, p_words: int, q_words: int) -> int:
    """Append a matrix's weight words (row group, input block, block row; P lanes a word); base address."""
    b, P, Bw = ctx.b, ctx.P, ctx.man["quantization"]["weight_bits"]
    WMW = 2 * (b // 2 + 1) * Bw if ctx.hw_fft else b * Bw
    base = len(ctx.wwords)
    for gi in range(_ceil(p_words, P)):
        for j in range(q_words):
            for r in range(k_rows):
                word = 0
                for lane, i in enumerate(range(gi * P, min(gi * P + P, p_words))):
                    lw = 0
                    for k, v in enumerate(blocks(i, j, r)):
                        lw |= (int(v) & ((1 << Bw) - 1)) << (k * Bw)
                    word |= (lw & ((1 << WMW) - 1)) << (lane * WMW)
                ctx.wwords.append(word)
    return base


def _model_checks(art, b: int | None, E: int) -> tuple[int, bool, int]:
    """(b, fft matvec used, data width) with one-line errors for what the core cannot run."""
    if E < 1 or E & (E - 1):
        raise RtlError(f"hardware.ew_words: must be a power of two (got {E})")
    man = art.manifest
    mats = man["matrices"]
    bs = {m["b"] for m in mats.values() if m["structure"] == "circulant"}
    if len(bs) > 1:
        raise RtlError(f"model.yaml: matrices: one block size per model (got {sorted(bs)})")
    if bs:
        b = bs.pop()
    if b is None:
        raise RtlError("model.yaml: matrices: no circulant matrix; give the lane count b")
    if b not in (2, 4, 8, 16):
        raise RtlError(f"model.yaml: matrices.b: the RTL supports b in 2, 4, 8, 16 (got {b})")
    q = man["quantization"]
    use_fft = q["matvec_mode"] == "fft" and any(m["structure"] == "circulant" for m in mats.values())
    DW = max(q["act_bits"], q["preact_bits"], q["cell_bits"], q["weight_bits"]) + 2
    if DW > 30:
        raise RtlError(f"model.yaml: quantization: widths up to 28 bits are supported (got {DW - 2})")
    return b, use_fft, DW


def _concat_layouts(parts: list[tuple[list, int]], b: int) -> lower.Layout:
    """Layout of outputs written side by side at word offsets: [(segments, word offset)]."""
    segs, lo = [], 0
    for s, woff in parts:
        for l0, ln, p in s:
            segs.append((lo + l0, ln, woff * b + p))
        lo += sum(ln for _, ln, _ in s)
    return lower.Layout(segs, segs[-1][2] + segs[-1][1])


def _head_source(ctx: _Ctx, seq: int, out_parts: list, per_step: bool, words: int) -> lower.Place:
    """Where the head reads its input: every step (per-step heads open their loop here), the last step, or
    the forward cell's last step beside the backward cell's first (its final state), copied side by side."""
    b = ctx.b
    if per_step:
        ctx.prog.append(dict(op="LOOP", last=0, note="head per step"))
        return lower.Place(seq, words, "t")
    if len(out_parts) == 1:
        return lower.Place(seq, words, "last")
    U = ctx.alloc.temp("head.u", words)
    for d, (s, woff) in enumerate(out_parts):
        n = _ceil(s[-1][2] + s[-1][1], b)
        mode = "last" if d == 0 else "abs"
        ctx.copy(lower.Place(U + woff, n), lower.Place(seq + woff, n, mode), f"head: u part {d}")
    return lower.Place(U, words)


def _head(ctx: _Ctx, hg: CellGraph, seq: int, out_parts: list, per_step: bool, src=None) -> None:
    """The head over the last layer's output sequence (src: its last step's place, read directly)."""
    b = ctx.b
    lay = _concat_layouts(out_parts, b)
    words = _ceil(lay.size, b)
    if src is None:
        src = _head_source(ctx, seq, out_parts, per_step, words)
    cc = _CellCompiler(ctx, hg, lay)
    cc.bind_x(src)
    cc.body()
    y = cc.place(hg.output)
    ctx.prog.append(
        dict(op="OUT", a=y.addr, n=y.words, last=2 if per_step else 1, note="y_t" if per_step else "y")
    )
    if per_step:
        ctx.prog.append(dict(op="ENDLOOP"))


def compile_artifact(
    art,
    b: int | None = None,
    P: int = 1,
    T_max: int | None = None,
    caps: dict | None = None,
    E: int = 1,
    batch: int = 1,
):
    """Map an artifact onto the core with P matrix-vector lanes and E element-wise words per cycle, from its
    op graph (compress/graph.py); caps may force memory sizes (shared test builds). batch = n (2 to
    MAX_BATCH): a program for n sequences at a time, their steps interleaved (`_interleave`)."""
    b, use_fft, DW = _model_checks(art, b, E)
    man, arr = art.manifest, art.arrays
    model = man["model"]
    caps = dict(caps or {})
    hw_fft = bool(caps.get("FFT", use_fft))  # a core built with the FFT path also runs direct-mode models
    if use_fft and not hw_fft:
        raise RtlError("model.yaml: quantization.matvec_mode: fft model on a core built without the FFT path")
    if batch not in range(1, MAX_BATCH + 1):
        raise RtlError(f"config: hardware.batch: 1 to {MAX_BATCH} sequences at a time (got {batch})")
    if batch > 1 and model.get("per_step"):
        raise RtlError(
            f"config: hardware.batch: {batch} needs a last-step head (the model has per-step outputs)"
        )
    tables = sorted(man["pwl"])
    for t in tables:
        if man["pwl"][t]["s"] < 0:
            raise RtlError(
                f"model.yaml: pwl.{t}.s: negative segment shift not supported (got {man['pwl'][t]['s']})"
            )
    F = {k: v["frac"] for k, v in man["formats"].items()}
    Bt = {k: v["bits"] for k, v in man["formats"].items()}
    ctx = _Ctx(man, arr, b, P, E, DW, use_fft, _Alloc(E), F, Bt, tables)
    ctx.zalloc = _Alloc(E, ZBANK)
    ctx.hw_fft = hw_fft
    progs, weights = [], None
    for s in range(batch):
        ctx.alloc.prefix = ctx.zalloc.prefix = f"s{s}." if batch > 1 else ""
        ctx.prog, ctx.mv_done, ctx.wwords = [], set(), []
        in_words, ST = _sequence_program(ctx, model, T_max, caps)
        if weights is not None and ctx.wwords != weights:
            raise RtlError("internal: the sequences of a batch packed different weights")
        weights = ctx.wwords
        progs.append([dict(i, seq=s) if batch > 1 else i for i in ctx.prog])
    ctx.prog = progs[0] if batch == 1 else _interleave(progs, ST, (P, b, E))
    ctx.prog.append(dict(op="HALT"))
    return _finish(ctx, caps, in_words, model, ST, batch)


def _sequence_program(ctx: _Ctx, model: dict, T_max: int | None, caps: dict) -> tuple[int, int]:
    """One sequence's program (IN, the layers' loops, the head's OUT) into ctx.prog; returns
    (in_words, ST)."""
    b, E = ctx.b, ctx.E
    graph = model_graph(model)
    in_words = _ceil(model["input_size"], b)
    x_lay = lower.Layout([(0, model["input_size"], 0)], model["input_size"])
    layers = []
    for cells in graph.layers:  # layouts first: they fix the sequence stride
        comp, parts, woff = [], [], 0
        for g in cells:
            cc = _CellCompiler(ctx, g, x_lay, x_clean=not layers)
            segs, words = cc.output_segments()
            comp.append((cc, words))
            parts.append((segs, woff))
            woff += _ceil(words, E) * E
        layers.append((comp, parts, woff))
        x_lay = _concat_layouts(parts, b)
    per_step = bool(model.get("per_step"))
    last = layers[-1][0]
    # a last-step head over one forward cell reads that cell's output where its last step leaves it: no
    # output sequence (and no copy per step) for the last layer
    direct = not per_step and len(last) == 1 and not last[0][0].g.reverse
    stored = layers[:-1] if direct else layers  # layers whose outputs go into a sequence buffer
    ST = _ceil(max([in_words] + [w for _, _, w in stored]), E) * E
    if caps.get("ST"):
        if caps["ST"] < ST:
            raise RtlError(f"sequence stride needs {ST} words (cap {caps['ST']})")
        ST = caps["ST"]
    T_max = int(T_max or 1)
    seq = [ctx.alloc("seq0", T_max * ST)]
    seq.append(ctx.alloc("seq1", T_max * ST) if len(layers) > 1 or not direct else -1)
    ctx.prog.append(dict(op="IN", dst=seq[0], n=in_words, note="input sequence"))
    cur, x_words = 0, in_words
    for li, (comp, parts, woff) in enumerate(layers):
        for (cc, words), (_, off) in zip(comp, parts, strict=True):
            out = None if direct and li == len(layers) - 1 else lower.Place(seq[1 - cur] + off, words, "t")
            cc.run_cell(lower.Place(seq[cur], x_words, "t"), out)
        cur, x_words = 1 - cur, woff
    src = last[0][0].place(last[0][0].g.output) if direct else None
    _head(ctx, graph.head, seq[cur], layers[-1][1], per_step, src)
    _pack_temps(ctx, ctx.prog)
    return in_words, ST


# ------------------------------------------------------------------------------------------ buffer packing
def _touches(ins: dict, E: int) -> tuple[list, list]:
    """(reads, writes) of one instruction: (first word, end word, address mode) per operand it uses."""
    op = ins["op"]
    if op == "EW":
        span = ins["n"] * E
        reads = [(ins[f], ins[f] + span, ins.get(f + "mode", "abs")) for f in cycles.ew_operands(ins)]
        return reads, [(ins["dst"], ins["dst"] + span, ins.get("dmode", "abs"))]
    if op in ("MV", "OUT"):
        return [(ins["a"], ins["a"] + ins["n"], ins.get("amode", "abs"))], []
    return [], []


def _live_words(prog: list[dict], temps: list, E: int) -> tuple[list, dict]:
    """Per buffer (name, virtual address, words) and word: the (first, last) instruction index at which it
    holds a value still to be read (None: never used); a word a loop body reads before the body writes it (a
    state) is live over the whole loop. Also the in-place pairs {(i, X, Y): (ox, oy)}: EW instruction i reads
    buffer X from word ox (one operand offset) and writes buffer Y from word oy, both at the same word per
    cycle, so Y may take X's words that die at i when their physical offsets make the two sweeps meet."""
    starts = [vaddr for _, vaddr, _ in temps]
    live: list[list] = [[None] * w for _, _, w in temps]

    def spans(lo: int, hi: int, mode: str):
        if hi <= VBASE:
            return None
        if mode != "abs":
            raise RtlError(f"internal: a buffer addressed in mode {mode}")
        k = bisect.bisect_right(starts, lo) - 1
        if k < 0 or hi > starts[k] + temps[k][2]:
            raise RtlError("internal: an operand crosses a buffer's end")
        return k, lo - starts[k], hi - starts[k]

    def touch(k: int, w: int, i: int) -> None:
        iv = live[k][w]
        live[k][w] = (i, i) if iv is None else (min(iv[0], i), max(iv[1], i))

    loop, written, carried, pairs = None, set(), set(), {}
    for i, ins in enumerate(prog):
        if ins["op"] == "LOOP":
            loop, written, carried = i, set(), set()
        elif ins["op"] == "ENDLOOP":
            for k, w in carried:
                touch(k, w, loop)
                touch(k, w, i)
            loop = None
        reads, writes = _touches(ins, E)
        rs = [x for x in (spans(*r) for r in reads) if x]
        for k, lo, hi in rs:
            for w in range(lo, hi):
                if loop is not None and (k, w) not in written:
                    carried.add((k, w))
                touch(k, w, i)
        for k, lo, hi in (x for x in (spans(*r) for r in writes) if x):
            for w in range(lo, hi):
                written.add((k, w))
                touch(k, w, i)
            for x in {kx for kx, _, _ in rs}:
                offs = {lx for kx, lx, _ in rs if kx == x}
                if x != k and len(offs) == 1:
                    pairs[(i, x, k)] = (offs.pop(), lo)
    return live, pairs


def _fits(k: int, off: int, j: int, oj: int, temps: list, live: list, pairs: dict) -> bool:
    """Whether buffer k at word offset `off` may share words with buffer j at `oj`: no word live in both at
    once, except at an in-place instruction where one dies as the other is written by the same sweep."""
    lo, hi = max(off, oj), min(off + temps[k][2], oj + temps[j][2])
    for p in range(lo, hi):
        a, b = live[k][p - off], live[j][p - oj]
        if a is None or b is None or a[0] > b[1] or b[0] > a[1]:
            continue
        if b[1] == a[0] and pairs.get((a[0], j, k)) is not None:
            ox, oy = pairs[(a[0], j, k)]
            if off == oj + ox - oy:
                continue
        if a[1] == b[0] and pairs.get((b[0], k, j)) is not None:
            ox, oy = pairs[(b[0], k, j)]
            if oj == off + ox - oy:
                continue
        return False
    return True


def _pack_temps(ctx: _Ctx, prog: list[dict]) -> None:
    """Give one sequence's buffers their data-memory words, first fit in order of first use: two buffers
    share a word only where their values in it are never live at once (`_live_words`; an element-wise op may
    write its result over an operand it reads for the last time). Rewrites the program's addresses."""
    temps = ctx.alloc.temps
    if not temps:
        return
    live, pairs = _live_words(prog, temps, ctx.E)
    first = [min((iv[0] for iv in lw if iv), default=0) for lw in live]
    offset: dict[int, int] = {}
    for k in sorted(range(len(temps)), key=lambda k: (first[k], -temps[k][2])):
        cands = {0} | {o + temps[j][2] for j, o in offset.items()}
        cands |= {offset[x] + ox - oy for (_, x, y), (ox, oy) in pairs.items() if y == k and x in offset}
        offset[k] = next(
            c
            for c in sorted(c for c in cands if c >= 0)
            if all(_fits(k, c, j, o, temps, live, pairs) for j, o in offset.items())
        )
    size = max(offset[k] + temps[k][2] for k in offset)
    base = ctx.alloc("buffers", size)
    starts = [vaddr for _, vaddr, _ in temps]
    for k, (name, _, words) in enumerate(temps):
        ctx.alloc.regions[name] = (base + offset[k], words)
    for ins in prog:
        for f in ("a", "b", "c", "dst"):
            if ins.get(f, 0) >= VBASE:
                k = bisect.bisect_right(starts, ins[f]) - 1
                ins[f] = base + offset[k] + ins[f] - starts[k]
    ctx.alloc.temps = []


def _segments(prog: list[dict]) -> list[tuple]:
    """A sequence's program cut into ("flat", instructions) and ("loop", LOOP, body, ENDLOOP) pieces."""
    out, flat, k = [], [], 0
    while k < len(prog):
        if prog[k]["op"] == "LOOP":
            if flat:
                out.append(("flat", flat))
                flat = []
            end = next(j for j in range(k, len(prog)) if prog[j]["op"] == "ENDLOOP")
            out.append(("loop", prog[k], prog[k + 1 : end], prog[end]))
            k = end + 1
        else:
            flat.append(prog[k])
            k += 1
    if flat:
        out.append(("flat", flat))
    return out


def _phases(body: list[dict]) -> tuple[list, list]:
    """A loop body as (leading EWs, [(MVs, the EWs after them), ...])."""
    lead, runs = [], []
    for ins in body:
        if ins["op"] == "MV":
            if not runs or runs[-1][1]:
                runs.append(([], []))
            runs[-1][0].append(ins)
        elif runs:
            runs[-1][1].append(ins)
        else:
            lead.append(ins)
    return lead, runs


def _lagged(ins: dict, ST: int, reverse: bool) -> dict:
    """The instruction run one loop pass later (for step t - 1): lag 1, its t-mode addresses one step back."""
    out = dict(ins, lag=1)
    for field_, mode in (("dst", "dmode"), ("a", "amode"), ("b", "bmode"), ("c", "cmode")):
        if out.get(mode) in ("t", 1):
            out[field_] += ST if reverse else -ST
            if out[field_] < 0:
                raise RtlError(f"internal: lagged address below 0 ({ins.get('note', '')})")
    return out


def _spread(mvs: list[dict], ews: list[dict], cuts: tuple) -> list[dict]:
    """One sequence's MVs with the other sequence's element-wise run spread between them: ews[:cuts[0]] after
    the first MV, ews[cuts[0]:cuts[1]] after the second, ..., the rest after the last (cuts all 0: the whole
    run after the last MV)."""
    out, prev = [], 0
    for i, mv in enumerate(mvs):
        end = cuts[i] if i < len(mvs) - 1 else len(ews)
        out += [mv] + ews[prev:end]
        prev = end
    return out


def _interleave(progs: list[list[dict]], ST: int, core: tuple[int, int, int] | None = None) -> list[dict]:
    """The programs of n sequences as one (docs/rtl.md "Overlap"): all INs first, then piece by piece; in
    every loop body the MV groups go round the sequences, phase by phase, and each carries the element-wise
    run of the group before it, so that run works while the matrix unit works. Two sequences A, B with k
    phases: A.lead A.M1 B.E_k(t-1) B.lead B.M1 A.E1 A.M2 B.E1 ... A.M_k B.E_(k-1) B.M_k A.E_k; the last
    sequence's last run moves into the next pass (lag 1: the loop runs max(L) + 1 passes). Where a group
    holds several MVs, the run is spread between them (`_spread`): an MV starts only once the element-wise
    unit has issued its reads, so a run placed after the last MV leaves the matrix unit idle while it runs
    beside that MV alone. With core = (P, b, E) the cut points are chosen by the cycle model (`_best_cuts`;
    None: the whole run after the last MV)."""
    segs = [_segments(p) for p in progs]
    n = len(progs)
    pieces: list = []  # instructions, or (mvs, ews) spread points
    for parts in zip(*segs, strict=True):
        if parts[0][0] == "flat":
            flat = [i for p in parts for i in p[1]]
            if not pieces:  # every sequence is received first
                flat = [i for i in flat if i["op"] == "IN"] + [i for i in flat if i["op"] != "IN"]
            pieces += flat
            continue
        loop, end = parts[0][1], parts[0][3]
        reverse = bool(loop.get("last", 0) & 1)
        phases = [_phases(p[2]) for p in parts]
        if not phases[0][1]:
            pieces += [dict(loop, seq=0, lag=0)] + [i for lead, _ in phases for i in lead] + [end]
            continue
        n_phases = len(phases[0][1])
        body, prev = [], [_lagged(i, ST, reverse) for i in phases[-1][1][-1][1]]
        for j in range(n_phases):
            for s in range(n):
                lead, runs = phases[s]
                mvs, ews = runs[j]
                body += (lead if j == 0 else []) + [(mvs, prev)]
                prev = ews
        pieces += [dict(loop, seq=0, lag=1)] + body + [dict(end, seq=0)]
    points = [k for k, p in enumerate(pieces) if isinstance(p, tuple) and len(p[0]) > 1 and p[1]]
    cuts = {k: (0,) * (len(pieces[k][0]) - 1) for k in points}
    if core is not None and points:
        cuts = _best_cuts(pieces, points, cuts, ST, core)
    return _assemble(pieces, cuts)


def _assemble(pieces: list, cuts: dict) -> list[dict]:
    out: list[dict] = []
    for k, p in enumerate(pieces):
        if isinstance(p, tuple):
            out += _spread(p[0], p[1], cuts.get(k, (0,) * (len(p[0]) - 1)))
        else:
            out.append(p)
    return out


def _best_cuts(pieces: list, points: list[int], cuts: dict, ST: int, core: tuple[int, int, int]) -> dict:
    """Cut points of every spread (coordinate descent, two sweeps) minimizing the cycle model's (cycles per
    step, cycles of a 3-step batch); starts from every run after its group's last MV, so the result is never
    slower than that."""
    P, b, E = core

    def cost(c: dict) -> tuple[int, int]:
        prog = _assemble(pieces, c) + [dict(op="HALT")]
        r = cycles.sequence_cycles(prog, P, b, 3, E, ST)
        return r["per_step"], r["total"]

    best = dict(cuts)
    best_cost = cost(best)
    for _ in range(2):
        improved = False
        for k in points:
            n_ews = len(pieces[k][1])
            for i in range(len(best[k])):
                lo = best[k][i - 1] if i else 0
                hi = best[k][i + 1] if i + 1 < len(best[k]) else n_ews
                for v in range(lo, hi + 1):
                    trial = {**best, k: best[k][:i] + (v,) + best[k][i + 1 :]}
                    c = cost(trial)
                    if c < best_cost:
                        best, best_cost, improved = trial, c, True
        if not improved:
            break
    return best


def _finish(ctx: _Ctx, caps: dict, in_words: int, model: dict, ST: int, batch: int = 1) -> Design:
    """Memory sizes and core parameters (caps may raise them), range checks, the Design."""
    man, b, E = ctx.man, ctx.b, ctx.E
    q = man["quantization"]
    prog = ctx.prog
    mvs = [i for i in prog if i["op"] == "MV"]
    dm_depth = _ceil(ctx.alloc.top, E) * E
    if caps.get("DM_DEPTH"):
        if caps["DM_DEPTH"] < dm_depth:
            raise RtlError(f"data memory needs {dm_depth} words (cap {caps['DM_DEPTH']})")
        dm_depth = caps["DM_DEPTH"]
    dm = [ctx.consts.get(i, [0] * b) for i in range(dm_depth)]
    zb_depth = max(_ceil(ctx.zalloc.top, E) * E, 2 * E)
    if caps.get("ZB_DEPTH"):
        if caps["ZB_DEPTH"] < zb_depth:
            raise RtlError(f"matrix-output bank needs {zb_depth} words (cap {caps['ZB_DEPTH']})")
        zb_depth = caps["ZB_DEPTH"]
    if dm_depth > ZBANK or zb_depth > ZBANK:
        raise RtlError(f"data memory needs {dm_depth} + {zb_depth} words (at most {ZBANK} per bank)")
    for i in mvs:
        if not i["dst"] & ZBANK:
            raise RtlError(f"internal: MV destination outside the matrix-output bank ({i.get('note', '')})")
    Bt = ctx.Bt
    params = dict(
        B=b,
        P=ctx.P,
        E=E,
        FFT=int(ctx.hw_fft),
        DIRECT=int(bool(caps.get("DIRECT")) or any(i["dense"] == 0 and i["fft"] == 0 for i in mvs)),
        DENSE=int(bool(caps.get("DENSE")) or any(i["dense"] == 1 for i in mvs)),
        DW=ctx.DW,
        BA=q["act_bits"],
        BW=q["weight_bits"],
        BO=Bt["head.y"],
        BZMAX=max(q["preact_bits"], q["act_bits"]),
        G=man["fft"]["guard_bits"],
        N=q["pwl_segments"],
        NT=max(len(ctx.tables), 1),
        DM_DEPTH=dm_depth,
        PROG_DEPTH=len(prog),
        WDEPTH=max(len(ctx.wwords), 2),
        QMAX=max(max(i["n"] for i in mvs), 2),
        ST=ST,
        NSEQ=batch,
        ZB_DEPTH=zb_depth,
    )
    for k in ("NT", "PROG_DEPTH", "WDEPTH", "QMAX"):
        if caps.get(k):
            if caps[k] < params[k]:
                raise RtlError(f"{k} needs {params[k]} (cap {caps[k]})")
            params[k] = caps[k]
    if params["BO"] != q["preact_bits"] or Bt["x"] != q["act_bits"]:
        raise RtlError("model.yaml: formats: x must have act_bits and head.y preact_bits")
    pwl = _pwl_entries(man, ctx.tables, q["act_bits"])
    pwl += [0] * (params["NT"] * params["N"] - len(pwl))
    wwords = ctx.wwords + [0] * (params["WDEPTH"] - len(ctx.wwords))
    prog_full = prog + [dict(op="HALT")] * (params["PROG_DEPTH"] - len(prog))
    for ins in prog_full:
        isa.encode(ins)  # range checks
    check_fields(prog, ctx.DW, params["BZMAX"])
    ow = _ceil(model["output_size"], b)
    per_step = bool(model.get("per_step", False))
    return Design(
        params,
        prog_full,
        dm,
        wwords,
        pwl,
        ctx.tables,
        in_words,
        ow,
        model["output_size"],
        per_step,
        {**ctx.alloc.regions, **ctx.zalloc.regions},
    )


def _pwl_entries(man: dict, tables: list, Ba: int) -> list[int]:
    """PWL memory words {c1, c0} of every table, in tsel order."""
    out = []
    for t in tables:
        tab = man["pwl"][t]
        for k in range(man["quantization"]["pwl_segments"]):
            out.append(
                ((int(tab["c1"][k]) & ((1 << (Ba + 2)) - 1)) << Ba) | (int(tab["c0"][k]) & ((1 << Ba) - 1))
            )
    return out


def to_hex_lines(values, width: int) -> list[str]:
    """$readmemh lines: one unsigned hex word of `width` bits per value."""
    digits = _ceil(width, 4)
    mask = (1 << width) - 1
    return [format(int(v) & mask, f"0{digits}x") for v in values]


def memory_images(d: Design) -> dict[str, str]:
    """File name -> text of the four .mem files."""
    p = d.params
    b, DW = p["B"], p["DW"]
    E = p.get("E", 1)
    dm_words = []
    for k in range(0, len(d.dm), E):
        w = 0
        for i, v in enumerate(x for blk in d.dm[k : k + E] for x in blk):
            w |= (int(v) & ((1 << DW) - 1)) << (i * DW)
        dm_words.append(w)
    nb = b // 2 + 1
    wmw = 2 * nb * p["BW"] if p["FFT"] else b * p["BW"]
    return {
        "prog.mem": "\n".join(to_hex_lines([isa.encode(i) for i in d.prog], isa.WIDTH)) + "\n",
        "dm.mem": "\n".join(to_hex_lines(dm_words, E * b * DW)) + "\n",
        "w.mem": "\n".join(to_hex_lines(d.wmem, p["P"] * wmw)) + "\n",
        "pwl.mem": "\n".join(to_hex_lines(d.pwl, 2 * p["BA"] + 2)) + "\n",
    }
