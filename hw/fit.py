"""Resource estimate of the microcoded core and the choice behind `hardware.parallelism: auto` (and
`hardware.ew_words: auto`): the fastest (P, E) whose estimate fits the target part with a margin.

The estimate (one place; scripts/bench_hw.py uses the same memory model):
- multipliers: hw.cycles.multipliers (matrix lanes, FFT/IFFT butterflies, element-wise lanes), each mapped to
  MULT18X18D cells at the ratio measured by yosys synth_ecp5 on the default core (MULT18_PER_MULTIPLIER:
  operands wider than 18 bits take two cells), less the 4 FFT real-bin imaginary products per lane that yosys
  folds (the input block is real); other widths than the calibration core's (16-bit) make it approximate;
- block RAM: every memory of rnn_core (four read copies of the data memory and of the matrix-output bank, the
  weights P lanes wide, the program,
  one PWL table per element-wise lane) at its best DP16KD aspect ratio (ECP5) or RAMB36/RAMB18 (7-series,
  UG473); small memories that yosys puts in LUT RAM are counted as block RAM, so the figure is an upper bound;
- LUT4 and FF: planes in the matrix-lane multipliers and the element-wise lanes through three synth_ecp5 runs
  of the default core (CALIBRATION; its source says which runs).
The margin (MARGIN = 15 %, `hardware.fit_utilization` = 1 - margin, default 0.85): every resource at most
85 % of the part, for the estimate's error (LUT4 is a calibrated line, MULT18 assumes the calibration core's
widths) and because nextpnr's placer and router slow down and lose Fmax on a nearly full ECP5. A lower
fit_utilization leaves room for other logic and for timing closure at the clock (configs/default.yaml).
"""

from __future__ import annotations

import logging
import math

from hw import cycles

log = logging.getLogger(__name__)

# LFE5U-85F (ULX3S): /work/shared/REFERENCE.md, Lattice FPGA-DS-02012
ECP5_85F = {"mult18": 156, "ebr": 208, "lut4": 83640, "ff": 83640}
MARGIN = 0.15

# RAMB36E1 / RAMB18E1 aspect ratios (depth, width) with the simple-dual-port widest ones (512 x 72, 512 x 36),
# UG473 "7 Series FPGAs Memory Resources"
RAMB36_SHAPES = [(32768, 1), (16384, 2), (8192, 4), (4096, 9), (2048, 18), (1024, 36), (512, 72)]
RAMB18_SHAPES = [(16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36)]
# ECP5 EBR (18 kbit): DP16KD true dual port, PDPW16KD 512 x 36 (Lattice FPGA-TN-02204, TN1264)
EBR_SHAPES = [(16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36)]

# MULT18X18D cells per hw.cycles multiplier, by unit, for the pipelined RTL (mul_pipe: 17-bit chunks,
# chunks of at most 4 bits in LUTs): yosys synth_ecp5 of the default core (LSTM 128, b=8 fft, 16-bit weights
# and activations), 2026-12-01: lane products 16 x 20 bits (one cell: the 3-bit top chunk is shift-and-add),
# FFT butterflies 18 x 22-29 (two cells when the top chunk is wider than 4 bits; 12 cells where hw.cycles
# counts 8), element-wise MUL 18 x 19 and PWL slope 18 x 21 (one cell each). Measured 44 / 60 MULT18X18D =
# this model at P=1 / P=2 (docs/rtl.md "Resource estimate"). Address products are running sums (no cells).
MULT18_PER_MULTIPLIER = {"matvec": 1.0, "fft": 1.5, "ew": 1.0}
MULT18_FIXED = 0
MULT18_ADDRESS_NOT_POW2 = 0
# LUT4 = base + per_matvec_multiplier * matvec multipliers + per_ew_lane * E*b: the plane through yosys
# synth_ecp5 of the default core (the trained default model, batch 2) at (P, E) = (1, 1), (2, 1), (1, 2),
# 2026-12-07 (session 16 RTL; the runs of 2026-12-01 were about 10 % under the cores since pipelined further);
# FF the same way. Checks of the same day: make all's P=3 / P=4 cores, yosys LUT4 31,667 / 34,697 against
# 30,750 / 33,407 here, FF 39,742 / 42,725 against 39,345 / 42,208.
# (P, E) -> yosys synth_ecp5 counts of the default core (matrix lanes 20 multipliers each, 8 lanes per E)
CALIBRATION = {
    (1, 1): {"matvec": 20, "ew_lanes": 8, "lut4": 25436, "ff": 33619},
    (2, 1): {"matvec": 40, "ew_lanes": 8, "lut4": 28093, "ff": 36482},
    (1, 2): {"matvec": 20, "ew_lanes": 16, "lut4": 37700, "ff": 47268},
}


def _plane(key: str) -> dict:
    """base + per_matvec_multiplier * matvec + per_ew_lane * ew_lanes through the three calibration runs."""
    c11, c21, c12 = CALIBRATION[(1, 1)], CALIBRATION[(2, 1)], CALIBRATION[(1, 2)]
    per_mv = (c21[key] - c11[key]) / (c21["matvec"] - c11["matvec"])
    per_ew = (c12[key] - c11[key]) / (c12["ew_lanes"] - c11["ew_lanes"])
    base = c11[key] - per_mv * c11["matvec"] - per_ew * c11["ew_lanes"]
    return {"base": base, "per_matvec_multiplier": per_mv, "per_ew_lane": per_ew}


LUT4_MODEL = _plane("lut4")
FF_MODEL = _plane("ff")


def bram36_for(depth: int, width: int) -> float:
    """RAMB36 blocks for one depth x width memory (best aspect ratio; a half block if one RAMB18 holds it)."""
    if any(depth <= d and width <= w for d, w in RAMB18_SHAPES):
        return 0.5
    return float(min(math.ceil(width / w) * math.ceil(depth / d) for d, w in RAMB36_SHAPES))


def ebr_for(depth: int, width: int) -> int:
    """ECP5 EBRs (18 kbit) for one depth x width memory at the best aspect ratio."""
    return min(math.ceil(width / w) * math.ceil(depth / d) for d, w in EBR_SHAPES)


def pow2_depth(depth: int) -> int:
    """The depth ram_1r1w / rom_sync declare for `depth` words: the next power of two (no depth mux)."""
    return 1 << max(1, math.ceil(math.log2(depth)))


def read_slices(width: int) -> int:
    """Read slices of one data-memory copy of `width` bits (rnn_core NRS: 4, else 2, else 1 dividing it)."""
    return 4 if width % 4 == 0 else 2 if width % 2 == 0 else 1


def core_memories(params: dict, instruction_bits: int) -> dict[str, tuple[int, int, int]]:
    """{name: (depth, width, copies)} of rnn_core's memories from its parameters, at the depths the RTL
    declares (data memories and weights rounded up to a power of two); a data-memory bank is 4 read copies
    of NRS slices each (width / NRS bits: ram_1r1w NS)."""
    b, P, E = params["B"], params["P"], params.get("E", 1)
    nb = b // 2 + 1
    wmw = 2 * nb * params["BW"] if params["FFT"] else b * params["BW"]
    sw = E * b * params["DW"]
    nrs = read_slices(sw)
    mems = {
        "data memory (4 read copies)": (pow2_depth(math.ceil(params["DM_DEPTH"] / E)), sw // nrs, 4 * nrs),
        "matrix-output bank (4 read copies)": (
            pow2_depth(math.ceil(params.get("ZB_DEPTH", 2 * E) / E)),
            sw // nrs,
            4 * nrs,
        ),
        "weights": (pow2_depth(params["WDEPTH"]), P * wmw, 1),
        # a ROM in logic (rnn_core: ram_style logic), no block RAM: 0 block-RAM copies
        "program": (params["PROG_DEPTH"], instruction_bits, 0),
    }
    if "NT" in params and "N" in params and "BA" in params:
        mems["PWL tables (one per element-wise lane)"] = (
            params["NT"] * params["N"],
            2 * params["BA"] + 2,
            E * b,
        )
    return mems


def memory_model(params: dict, instruction_bits: int) -> dict:
    """7-series block RAM (RAMB36 equivalents) of the core's data memory, weights and program."""
    mems = {k: v for k, v in core_memories(params, instruction_bits).items() if not k.startswith("PWL")}
    # synth_xilinx keeps every read slice at the full word width (the bits a slice never reads are not
    # dropped, as synth_ecp5 drops them; tests/test_synth.py): a slice costs the block RAM of a whole copy
    nrs = read_slices(params.get("E", 1) * params["B"] * params["DW"])
    for k in ("data memory (4 read copies)", "matrix-output bank (4 read copies)"):
        d, w, c = mems[k]
        mems[k] = (d, w * nrs, c)
    out = {
        name: {"depth": d, "width": w, "copies": c, "bram36": c * bram36_for(d, w)}
        for name, (d, w, c) in mems.items()
    }
    out["total"] = sum(v["bram36"] for v in out.values())
    return out


def estimate_ecp5(params: dict, instruction_bits: int) -> dict:
    """{mult18, ebr, lut4, ff} estimate of a core on the ECP5 (see the module docstring)."""
    m = cycles.multipliers(params)
    folded = 4 * params["P"] if params["FFT"] else 0  # products of the real bins' zero imaginary part
    r = MULT18_PER_MULTIPLIER
    mult18 = r["matvec"] * (m["matvec"] - folded) + r["fft"] * m["fft"] + r["ew"] * m["ew"] + MULT18_FIXED
    P = params["P"]
    mult18 += MULT18_ADDRESS_NOT_POW2 if P & (P - 1) else 0
    ebr = sum(c * ebr_for(d, w) for d, w, c in core_memories(params, instruction_bits).values())
    lanes = params.get("E", 1) * params["B"]
    lut4, ff = (
        mdl["base"] + mdl["per_matvec_multiplier"] * m["matvec"] + mdl["per_ew_lane"] * lanes
        for mdl in (LUT4_MODEL, FF_MODEL)
    )
    return {"mult18": int(math.ceil(mult18)), "ebr": int(ebr), "lut4": int(round(lut4)), "ff": int(round(ff))}


def fits(est: dict, capacity: dict = ECP5_85F, margin: float = MARGIN) -> bool:
    """Every resource within (1 - margin) of the part."""
    return all(est[k] <= (1.0 - margin) * capacity[k] for k in capacity)


def choose(
    art, b: int, P, E, T_max: int, capacity: dict = ECP5_85F, margin: float = MARGIN, batch: int = 1
) -> dict:
    """Pick P and/or E ("auto"; an int stays fixed): the (P, E) with the fewest cycles per step whose estimate
    fits, ties to the fewer multipliers (lanes past the point where cycles stop falling are not taken).
    Returns {P, E, cycles_per_step, estimate, capacity, margin, candidates}; raises RtlError when even the
    smallest candidate does not fit."""
    from hw.rtl import isa, program

    base = program.compile_artifact(art, b=b, P=1, T_max=T_max, E=1)
    mvs = [i for i in base.prog if i["op"] == "MV"]
    p_max = max((i["pb"] for i in mvs), default=1)
    e_max = max((i["n"] for i in base.prog if i["op"] == "EW"), default=1)
    Ps = range(1, p_max + 1) if P == "auto" else [int(P)]
    Es = [1 << k for k in range(int(math.log2(e_max)) + 1)] if E == "auto" else [int(E)]
    cands = []
    for e in Es:
        for p in Ps:
            d = program.compile_artifact(art, b=b, P=p, T_max=T_max, E=e, batch=batch)
            est = estimate_ecp5(d.params, isa.WIDTH)
            ok = fits(est, capacity, margin)
            cyc = cycles.sequence_cycles(d.prog, p, d.params["B"], 1, e, d.params["ST"])["per_step"]
            cands.append({"P": p, "E": e, "cycles_per_step": cyc, "estimate": est, "fits": ok})
            if not ok:
                break  # every resource grows with P
    good = [c for c in cands if c["fits"]]
    if not good:
        from hw.rtl.program import RtlError

        c = cands[0]
        raise RtlError(
            f"hardware.parallelism: auto: P={c['P']}, E={c['E']} does not fit the part with a {margin:.0%} "
            f"margin (hardware.fit_utilization {1.0 - margin:.2f}; estimate {c['estimate']}, capacity "
            f"{capacity})"
        )
    best = min(good, key=lambda c: (c["cycles_per_step"], cycles_mults(c), c["P"] * c["E"]))
    out = {**best, "capacity": dict(capacity), "margin": margin, "candidates": len(cands)}
    log.info(
        "fit: P=%d, E=%d (%d cycles/step; estimate %s of %s with a %.0f %% margin; %d candidates)",
        best["P"],
        best["E"],
        best["cycles_per_step"],
        best["estimate"],
        capacity,
        100 * margin,
        len(cands),
    )
    return out


def cycles_mults(c: dict) -> int:
    """Tie-break key: the candidate's MULT18 estimate."""
    return c["estimate"]["mult18"]


def resolve(art, cfg: dict, T_max: int) -> tuple[int, int, dict | None]:
    """(P, E, choice) of a config's `hardware` section for an artifact: as configured, or chosen by `choose`
    where parallelism / ew_words is "auto" (within hardware.fit_utilization of the part; choice None when
    neither is)."""
    h = cfg["hardware"]
    P, E = h["parallelism"], h.get("ew_words", 1)
    if "auto" not in (P, E):
        return int(P), int(E), None
    margin = round(1.0 - h.get("fit_utilization", 1.0 - MARGIN), 6)
    b, batch = cfg["compression"]["block_size"], h.get("batch", 1)
    chosen = choose(art, b, P, E, T_max, margin=margin, batch=batch)
    return chosen["P"], chosen["E"], chosen
