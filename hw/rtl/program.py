"""Compile a compress artifact into the microcoded core's memories: program, data memory, weights, PWL tables.

The core (rnn_core.sv) runs one sequence at a time, layer by layer: the input sequence is stored in a
sequence buffer, every cell loops over the valid steps (backward cells from L-1 down to 0) writing its output
sequence into the other buffer, and the head reads the last step (or every step when per_step). The operation
order of every cell is docs/arithmetic.md sections 8-14 (compress/reference.py), instruction by instruction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from compress import fixedpoint as fx
from compress import reference as ref
from configs.schema import ConfigError
from hw.rtl import isa


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


class _Alloc:
    """Data-memory allocator in blocks; regions start and end on E-block (element-wise word) boundaries."""

    def __init__(self, E: int = 1):
        self.top = 0
        self.E = E
        self.regions: dict[str, tuple[int, int]] = {}

    def __call__(self, name: str, words: int) -> int:
        base = self.top
        self.regions[name] = (base, words)
        self.top += _ceil(max(words, 1), self.E) * self.E
        return base


def compile_artifact(
    art, b: int | None = None, P: int = 1, T_max: int | None = None, caps: dict | None = None, E: int = 1
):
    """Map an artifact onto the core with P matrix-vector lanes and E element-wise words per cycle.

    caps may force memory sizes (shared test builds)."""
    if E < 1 or E & (E - 1):
        raise RtlError(f"hardware.ew_words: must be a power of two (got {E})")
    man, arr = art.manifest, art.arrays
    model = man["model"]
    cell = model["cell"]
    fmt = man["formats"]
    mode = man["quantization"]["matvec_mode"]
    guard = man["fft"]["guard_bits"]
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
    fx.log2_exact(b)
    caps = dict(caps or {})
    use_fft = mode == "fft" and any(m["structure"] == "circulant" for m in mats.values())
    hw_fft = bool(caps.get("FFT", use_fft))  # a core built with the FFT path also runs direct-mode models
    if use_fft and not hw_fft:
        raise RtlError("model.yaml: quantization.matvec_mode: fft model on a core built without the FFT path")
    F = {k: v["frac"] for k, v in fmt.items()}
    Bt = {k: v["bits"] for k, v in fmt.items()}
    q = man["quantization"]
    Ba, Bz, Bc, Bw = q["act_bits"], q["preact_bits"], q["cell_bits"], q["weight_bits"]
    DW = max(Ba, Bz, Bc, Bw) + 2
    if DW > 30:
        raise RtlError(f"model.yaml: quantization: widths up to 28 bits are supported (got {DW - 2})")
    H, Pout = ref.hidden_sizes(model)
    n2 = model.get("n2", 0) if cell == "enrnn" else 0
    for what, v in (("hidden", H), ("projection", Pout), ("n2", n2)):
        if v % b:
            raise RtlError(f"model.yaml: model.{what}: must be a multiple of b={b} for the RTL (got {v})")
        if (v // b) % E:
            raise RtlError(f"model.yaml: model.{what}: must be a multiple of b*ew_words={b * E} (got {v})")
    NB = b // 2 + 1
    WMW = 2 * NB * Bw if hw_fft else b * Bw

    # ------------------------------------------------------------------ weights
    wwords: list[int] = []
    mv_info: dict[str, dict] = {}
    lane_mask = (1 << WMW) - 1
    for name, meta in mats.items():
        rows, cols = meta["rows"], meta["cols"]
        p_, q_ = _ceil(rows, b), _ceil(cols, b)
        g_ = _ceil(p_, P)
        circ = meta["structure"] == "circulant"
        fft_m = circ and use_fft
        base = len(wwords)
        if circ:
            w = arr[name + ".w"]
            if fft_m:
                wr, wi = arr[name + ".wf_re"], arr[name + ".wf_im"]
        else:
            w = np.zeros((p_ * b, q_ * b), dtype=np.int64)
            w[:rows, :cols] = arr[name + ".w"]
        for gi in range(g_):
            for j in range(q_):
                for r in range(1 if circ else b):
                    word = 0
                    for lane in range(P):
                        i = gi * P + lane
                        if i >= p_:
                            continue
                        if fft_m:
                            vals = list(wr[i, j]) + list(wi[i, j])
                        elif circ:
                            vals = list(w[i, j])
                        else:
                            vals = list(w[i * b + r, j * b : (j + 1) * b])
                        lw = 0
                        for k, v in enumerate(vals):
                            lw |= (int(v) & ((1 << Bw) - 1)) << (k * Bw)
                        word |= (lw & lane_mask) << (lane * WMW)
                    wwords.append(word)
        vin, vout = meta["input"], meta["output"]
        if fft_m:
            sh = F[meta["freq_format"]] + F[vin] - (F[vout] + guard)
        else:
            sh = F[meta["format"]] + F[vin] - F[vout]
        mv_info[name] = dict(
            n=q_, g=g_, pb=p_, sh=sh, bits=Bt[vout], wbase=base, dense=int(not circ), fft=int(fft_m)
        )

    # ------------------------------------------------------------------ PWL tables
    tables = sorted(man["pwl"])
    N = q["pwl_segments"]
    tsel = {(man["pwl"][t]["func"], man["pwl"][t]["in_frac"]): i for i, t in enumerate(tables)}
    pwl_entries = []
    for t in tables:
        tab = man["pwl"][t]
        if tab["s"] < 0:
            raise RtlError(f"model.yaml: pwl.{t}.s: negative segment shift not supported (got {tab['s']})")
        for k in range(N):
            c0 = int(tab["c0"][k]) & ((1 << Ba) - 1)
            c1 = int(tab["c1"][k]) & ((1 << (Ba + 2)) - 1)
            pwl_entries.append((c1 << Ba) | c0)
    Fa = F["act"]

    def pwl(func, zname, src, dst, n):
        tab = man["pwl"][tables[tsel[(func, F[zname])]]]
        rl = int(math.log2(tab["R"])) + F[zname]
        sh = tab["slope_frac"] + F[zname] - tab["out_frac"]
        _check_pwl_call(tab, zname, rl, sh, N, DW, Ba)
        return dict(
            op="EW",
            alu="PWL",
            a=src,
            dst=dst,
            n=_ceil(n, E),
            tsel=tsel[(func, F[zname])],
            seg=tab["s"],
            rl=rl,
            sh=sh,
            bits=Ba,
            note=f"pwl {func} {zname}",
        )

    # ------------------------------------------------------------------ data memory layout
    al = _Alloc(E)
    consts: dict[int, list[int]] = {}

    def const(name, values):
        v = np.asarray(values, dtype=np.int64).reshape(-1)
        words = _ceil(len(v), b)
        base = al(name, words)
        v = np.concatenate([v, np.zeros(words * b - len(v), dtype=np.int64)])
        for w in range(words):
            consts[base + w] = [int(x) for x in v[w * b : (w + 1) * b]]
        return base

    nx = model["input_size"]
    in_words = _ceil(nx, b)
    layers = ref.cell_names(model)
    out_w = Pout // b * (2 if cell == "bilstm" else 1)
    ST = _ceil(max(in_words, out_w), E) * E
    if caps.get("ST"):
        if caps["ST"] < ST:
            raise RtlError(f"sequence stride needs {ST} words (cap {caps['ST']})")
        ST = caps["ST"]
    T_max = int(T_max or 1)
    seq = [al("seq0", T_max * ST), al("seq1", T_max * ST)]
    prog: list[dict] = []
    nop_bits = DW  # "no saturation" (every exact sum fits DW bits)

    def ew(
        alu,
        dst,
        a,
        n,
        b_=0,
        c=0,
        zb=0,
        zc=0,
        nb=0,
        sh=0,
        bits=nop_bits,
        dmode="abs",
        amode="abs",
        bmode="abs",
        cmode="abs",
        note="",
    ):
        prog.append(
            dict(
                op="EW",
                alu=alu,
                dst=dst,
                a=a,
                b=b_,
                c=c,
                zb=zb,
                zc=zc,
                nb=nb,
                sh=sh,
                bits=bits,
                n=_ceil(n, E),
                dmode=dmode,
                amode=amode,
                bmode=bmode,
                cmode=cmode,
                note=note,
            )
        )

    def mv(name, src, dst, amode="abs"):
        prog.append(dict(op="MV", a=src, dst=dst, amode=amode, **mv_info[name], note=f"mv {name}"))

    prog.append(dict(op="IN", dst=seq[0], n=in_words, note="input sequence"))
    cur_in = 0
    for cells in layers:
        src_seq, dst_seq = seq[cur_in], seq[1 - cur_in]
        for d, c in enumerate(cells):
            backward = d == 1
            out_off = d * (Pout // b)
            hw = H // b
            if cell in ("lstm", "bilstm", "momentum_lstm"):
                peep = cell != "momentum_lstm" and model.get("peepholes", False)
                proj = cell != "momentum_lstm" and model.get("projection", 0)
                UX, UH, Z, A, TS = (al(f"{c}.{n}", 4 * hw) for n in ("ux", "uh", "z", "a", "ts"))
                T1, T2, PO, C, Hs = (al(f"{c}.{n}", hw) for n in ("t1", "t2", "po", "c", "h"))
                PIF = al(f"{c}.pif", 2 * hw)
                R = al(f"{c}.r", Pout // b) if proj else Hs
                zn, cn = f"{c}.z", f"{c}.c"
                # zero state
                for reg, n in ((C, hw), (Hs, hw), (R, Pout // b)):
                    ew("ADD", reg, reg, n, b_=reg, nb=1, zc=1, note="zero state")
                if cell == "momentum_lstm":
                    V, WX, TV = al(f"{c}.v", 4 * hw), al(f"{c}.wx", 4 * hw), al(f"{c}.tv", 4 * hw)
                    BW_ = const(f"{c}.b_w", arr[f"{c}.b_w"])
                    BU = const(f"{c}.b_u", arr[f"{c}.b_u"])
                    MU = const(f"{c}.mu", np.full(4 * H, int(arr[f"{c}.mu"])))
                    SS = const(f"{c}.s", np.full(4 * H, int(arr[f"{c}.s"])))
                    ew("ADD", V, V, 4 * hw, b_=V, nb=1, zc=1, note="zero v")
                else:
                    BB = const(f"{c}.b", arr[f"{c}.b"])
                    if peep:
                        PP = const(f"{c}.peep", arr[f"{c}.peep"])
                prog.append(dict(op="LOOP", last=int(backward), note=f"{c} steps"))
                if cell == "momentum_lstm":
                    vn = f"{c}.v"
                    mv(f"{c}.w_ih", src_seq, WX, amode="t")
                    ew("ADD", WX, WX, 4 * hw, b_=BW_, zc=1, bits=Bt[vn], note="wx")
                    ew("MUL", UX, MU, 4 * hw, b_=V, sh=F[f"{c}.mu"], bits=Bt[vn], note="mu v")
                    ew("MUL", UH, SS, 4 * hw, b_=WX, sh=F[f"{c}.s"], bits=Bt[vn], note="s wx")
                    ew("ADD", V, UX, 4 * hw, b_=UH, zc=1, bits=Bt[vn], note="v")
                    ew("REQ", TV, V, 4 * hw, sh=F[vn] - F[zn], bits=Bt[zn], note="v -> z")
                    mv(f"{c}.w_hh", Hs, UH)
                    ew("ADD", Z, TV, 4 * hw, b_=UH, c=BU, bits=Bt[zn], note="z")
                    prog.append(pwl("sigmoid", zn, Z, A, 2 * hw))
                    prog.append(pwl("tanh", zn, Z + 2 * hw, A + 2 * hw, hw))
                    prog.append(pwl("sigmoid", zn, Z + 3 * hw, A + 3 * hw, hw))
                else:
                    mv(f"{c}.w_ih", src_seq, UX, amode="t")
                    mv(f"{c}.w_hh", R, UH)
                    if peep:
                        sh_p = F[f"{c}.peep"] + F[cn] - F[zn]
                        ew("MUL", PIF, PP, hw, b_=C, sh=sh_p, bits=Bt[zn], note="p_i c")
                        ew("MUL", PIF + hw, PP + hw, hw, b_=C, sh=sh_p, bits=Bt[zn], note="p_f c")
                        ew("ADD", TS, UX, 3 * hw, b_=UH, c=BB, note="ux+uh+b (i,f,g)")
                        ew("ADD", Z, TS, 2 * hw, b_=PIF, zc=1, bits=Bt[zn], note="z_i, z_f")
                        ew("ADD", Z + 2 * hw, TS + 2 * hw, hw, zb=1, zc=1, bits=Bt[zn], note="z_g")
                    else:
                        ew("ADD", Z, UX, 3 * hw, b_=UH, c=BB, bits=Bt[zn], note="z_i, z_f, z_g")
                    prog.append(pwl("sigmoid", zn, Z, A, 2 * hw))
                    prog.append(pwl("tanh", zn, Z + 2 * hw, A + 2 * hw, hw))
                # c_t
                ew("MUL", T1, A + hw, hw, b_=C, sh=Fa, bits=Bc, note="f c")
                ew("MUL", T2, A, hw, b_=A + 2 * hw, sh=2 * Fa - F[cn], bits=Bc, note="i g")
                ew("ADD", C, T1, hw, b_=T2, zc=1, bits=Bc, note="c")
                if cell != "momentum_lstm":
                    o = 3 * hw
                    if peep:
                        ew("MUL", PO, PP + 2 * hw, hw, b_=C, sh=sh_p, bits=Bt[zn], note="p_o c")
                        ew("ADD", TS + o, UX + o, hw, b_=UH + o, c=BB + o, note="ux+uh+b (o)")
                        ew("ADD", Z + o, TS + o, hw, b_=PO, zc=1, bits=Bt[zn], note="z_o")
                    else:
                        ew("ADD", Z + o, UX + o, hw, b_=UH + o, c=BB + o, bits=Bt[zn], note="z_o")
                    prog.append(pwl("sigmoid", zn, Z + o, A + o, hw))
                prog.append(pwl("tanh", cn, C, T1, hw))
                hn = f"{c}.h"
                ew("MUL", Hs, A + 3 * hw, hw, b_=T1, sh=2 * Fa - F[hn], bits=Bt[hn], note="h")
                if proj:
                    mv(f"{c}.w_proj", Hs, R)
                ew("ADD", dst_seq + out_off, R, Pout // b, zb=1, zc=1, dmode="t", note="output")
                prog.append(dict(op="ENDLOOP"))
            elif cell == "gru":
                UX, UH, Z, A = (al(f"{c}.{n}", 3 * hw) for n in ("ux", "uh", "z", "a"))
                HN, T1, N2, D, Hs = (al(f"{c}.{n}", hw) for n in ("hn", "t1", "n2", "d", "h"))
                BRZ = const(f"{c}.b_rz", arr[f"{c}.b_rz"])
                BIN = const(f"{c}.b_in", arr[f"{c}.b_in"])
                BHN = const(f"{c}.b_hn", arr[f"{c}.b_hn"])
                zn, hn = f"{c}.z", f"{c}.h"
                ew("ADD", Hs, Hs, hw, b_=Hs, nb=1, zc=1, note="zero state")
                prog.append(dict(op="LOOP", last=int(backward), note=f"{c} steps"))
                mv(f"{c}.w_ih", src_seq, UX, amode="t")
                mv(f"{c}.w_hh", Hs, UH)
                ew("ADD", Z, UX, 2 * hw, b_=UH, c=BRZ, bits=Bt[zn], note="z_r, z_u")
                prog.append(pwl("sigmoid", zn, Z, A, 2 * hw))
                ew("ADD", HN, UH + 2 * hw, hw, b_=BHN, zc=1, bits=Bt[zn], note="hn")
                ew("MUL", T1, A, hw, b_=HN, sh=Fa, bits=Bt[zn], note="rg hn")
                ew("ADD", Z + 2 * hw, UX + 2 * hw, hw, b_=BIN, c=T1, bits=Bt[zn], note="z_n")
                prog.append(pwl("tanh", zn, Z + 2 * hw, A + 2 * hw, hw))
                ew("REQ", N2, A + 2 * hw, hw, sh=Fa - F[hn], bits=Bt[hn], note="n'")
                ew("ADD", D, Hs, hw, b_=N2, nb=1, zc=1, note="h - n'")
                ew("MUL", T1, A + hw, hw, b_=D, sh=Fa, bits=Bt[hn], note="u (h - n')")
                ew("ADD", Hs, N2, hw, b_=T1, zc=1, bits=Bt[hn], note="h")
                ew("ADD", dst_seq + out_off, Hs, hw, zb=1, zc=1, dmode="t", note="output")
                prog.append(dict(op="ENDLOOP"))
            else:  # enrnn / scornn
                n1w = (H - n2) // b
                UX, Z, T1, T3, Hs = (al(f"{c}.{n}", hw) for n in ("ux", "z", "t1", "t3", "h"))
                BM = const(f"{c}.b_mod", arr[f"{c}.b_mod"])
                zn, hn = f"{c}.z", f"{c}.h"
                ew("ADD", Hs, Hs, hw, b_=Hs, nb=1, zc=1, note="zero state")
                prog.append(dict(op="LOOP", last=int(backward), note=f"{c} steps"))
                mv(f"{c}.w_in", src_seq, UX, amode="t")
                mv(f"{c}.w1", Hs, T1)
                if n2:
                    mv(f"{c}.w3", Hs + n1w, T3)
                    mv(f"{c}.w2", Hs + n1w, T1 + n1w)
                    ew("ADD", Z, UX, n1w, b_=T1, c=T3, bits=Bt[zn], note="z1")
                    ew("ADD", Z + n1w, UX + n1w, hw - n1w, b_=T1 + n1w, zc=1, bits=Bt[zn], note="z2")
                else:
                    ew("ADD", Z, UX, hw, b_=T1, zc=1, bits=Bt[zn], note="z")
                ew("MODRELU", Hs, Z, hw, b_=BM, sh=F[zn] - F[hn], bits=Bt[hn], note="modrelu")
                ew("ADD", dst_seq + out_off, Hs, hw, zb=1, zc=1, dmode="t", note="output")
                prog.append(dict(op="ENDLOOP"))
        cur_in = 1 - cur_in
    # ------------------------------------------------------------------ head
    outs = seq[cur_in]
    O = model["output_size"]
    ow = _ceil(O, b)
    HY = al("head.y", ow)
    HB = const("head.b", arr["head.b"])
    yb = Bt["head.y"]
    per_step = bool(model.get("per_step", False))
    if per_step:
        prog.append(dict(op="LOOP", last=0, note="head per step"))
        mv("head.w", outs, HY, amode="t")
        ew("ADD", HY, HY, ow, b_=HB, zc=1, bits=yb, note="y")
        prog.append(dict(op="OUT", a=HY, n=ow, last=2, note="y_t"))
        prog.append(dict(op="ENDLOOP"))
    else:
        if cell == "bilstm":
            U = al("head.u", out_w)
            half = out_w // 2
            ew("ADD", U, outs, half, zb=1, zc=1, amode="last", note="u = h_f(L-1)")
            ew("ADD", U + half, outs + half, half, zb=1, zc=1, note="u = h_b(0)")
            mv("head.w", U, HY)
        else:
            mv("head.w", outs, HY, amode="last")
        ew("ADD", HY, HY, ow, b_=HB, zc=1, bits=yb, note="y")
        prog.append(dict(op="OUT", a=HY, n=ow, last=1, note="y"))
    prog.append(dict(op="HALT"))

    dm_depth = _ceil(al.top, E) * E
    if caps.get("DM_DEPTH"):
        if caps["DM_DEPTH"] < dm_depth:
            raise RtlError(f"data memory needs {dm_depth} words (cap {caps['DM_DEPTH']})")
        dm_depth = caps["DM_DEPTH"]
    dm = [consts.get(i, [0] * b) for i in range(dm_depth)]
    qmax = max(v["n"] for v in mv_info.values())
    params = dict(
        B=b,
        P=P,
        E=E,
        FFT=int(hw_fft),
        DIRECT=int(
            bool(caps.get("DIRECT")) or any(v["dense"] == 0 and v["fft"] == 0 for v in mv_info.values())
        ),
        DENSE=int(bool(caps.get("DENSE")) or any(v["dense"] == 1 for v in mv_info.values())),
        DW=DW,
        BA=Ba,
        BW=Bw,
        BO=Bt["head.y"],
        BZMAX=max(Bz, Ba),
        G=guard,
        N=N,
        NT=max(len(tables), 1),
        DM_DEPTH=dm_depth,
        PROG_DEPTH=len(prog),
        WDEPTH=max(len(wwords), 2),
        QMAX=max(qmax, 2),
        ST=ST,
    )
    for k in ("NT", "PROG_DEPTH", "WDEPTH", "QMAX"):
        if caps.get(k):
            if caps[k] < params[k]:
                raise RtlError(f"{k} needs {params[k]} (cap {caps[k]})")
            params[k] = caps[k]
    if params["BO"] != Bz or Bt["x"] != Ba:
        raise RtlError("model.yaml: formats: x must have act_bits and head.y preact_bits")
    pwl_entries += [0] * (params["NT"] * N - len(pwl_entries))
    wwords += [0] * (params["WDEPTH"] - len(wwords))
    prog_full = prog + [dict(op="HALT")] * (params["PROG_DEPTH"] - len(prog))
    for ins in prog_full:
        isa.encode(ins)  # range checks
    check_fields(prog, DW, params["BZMAX"])
    return Design(params, prog_full, dm, wwords, pwl_entries, tables, in_words, ow, O, per_step, al.regions)


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
