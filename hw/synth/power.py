"""Power estimate: switching activity from a Verilator VCD x per-resource power model + static power.

Model (per family, coefficients below with their sources):
    P_dynamic = f_MHz * sum_r N_r * c_r * (a_r / a_ref_r)   [c_r: uW/MHz per resource at activity a_ref_r]
    P_total   = P_dynamic + P_static(device)
a_r is the measured toggle rate (toggles per bit per clock cycle) of the nets that drive resource r
(grouped by hierarchical name), a_ref the activity at which c_r is quoted. The result is an ESTIMATE: no
coefficient was measured here, and several are order-of-magnitude assumptions (marked as such).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ASSUMPTION = "assumption"


@dataclass(frozen=True)
class Coef:
    value: float  # uW per MHz per resource instance at a = ref_activity (static: W)
    ref_activity: float | None
    activity_group: str | None  # which toggle-rate group scales it (None: fixed activity)
    source: str


XPE = "Xilinx Power Estimator (XPE) for 7 Series, UG440 'Xilinx Power Estimator User Guide'"
LPC = (
    "Lattice Diamond Power Calculator / FPGA-TN-02039 'Power Consumption and Management for ECP5 and ECP5-5G'"
)

MODELS: dict[str, dict[str, Coef]] = {
    "xc7": {
        "lut": Coef(
            0.12,
            0.125,
            "logic",
            f"{ASSUMPTION}: order of magnitude of {XPE} logic + signal power per LUT "
            "at its default 12.5% toggle rate, Vccint 1.0 V; not verified",
        ),
        "ff": Coef(
            0.02, 0.125, "logic", f"{ASSUMPTION}: {XPE} flip-flop data power at 12.5% toggle; not verified"
        ),
        "ff_clock": Coef(
            0.01,
            None,
            None,
            f"{ASSUMPTION}: clock-tree load per flip-flop ({XPE} clock power "
            "divided by the clocked elements); not verified",
        ),
        "dsp": Coef(
            3.0,
            0.125,
            "datapath",
            f"{ASSUMPTION}: {XPE} DSP48E1 (multiplier + adder, no pipeline "
            "registers counted separately) at 12.5% toggle; not verified",
        ),
        "ramb36": Coef(
            12.0,
            1.0,
            None,
            f"{ASSUMPTION}: {XPE} RAMB36E1, read every cycle (enable rate 100%); not verified",
        ),
        "ramb18": Coef(
            6.0,
            1.0,
            None,
            f"{ASSUMPTION}: half of a RAMB36E1 (UG473 '7 Series FPGAs Memory Resources'"
            " : a RAMB36 is two RAMB18); not verified",
        ),
        "static_w": Coef(
            0.35,
            None,
            None,
            f"{ASSUMPTION}: {XPE} typical device static power of an XC7VX690T at "
            "25 C junction; other parts scaled by LUT capacity (DS180 'Overview')",
        ),
    },
    "ecp5": {
        "lut": Coef(
            0.035,
            0.125,
            "logic",
            f"{ASSUMPTION}: order of magnitude from {LPC} (LUT4 + routing, 12.5% "
            "toggle, Vcc 1.1 V); not verified",
        ),
        "ff": Coef(0.01, 0.125, "logic", f"{ASSUMPTION}: {LPC} register power at 12.5% toggle; not verified"),
        "ff_clock": Coef(
            0.008, None, None, f"{ASSUMPTION}: {LPC} clock-tree load per register; not verified"
        ),
        "dsp": Coef(1.6, 0.125, "datapath", f"{ASSUMPTION}: {LPC} MULT18X18D at 12.5% toggle; not verified"),
        "ebr": Coef(5.0, 1.0, None, f"{ASSUMPTION}: {LPC} DP16KD EBR read every cycle; not verified"),
        "static_w": Coef(
            0.10,
            None,
            None,
            f"{ASSUMPTION}: LFE5U-85F typical static power (FPGA-DS-02012 'ECP5 "
            "Family Data Sheet' standby currents x Vcc 1.1 V, 25 C); not verified",
        ),
    },
}
# 7-series static power reference device (capacity in LUTs, DS180) for the scaling above
XC7_STATIC_REF_LUTS = 433200
ECP5_STATIC_REF_LUTS = 83640

GROUP_PATTERNS = [
    ("datapath", re.compile(r"fft|ifft|butterfly|matvec|mac|mult|mul|prod|acc|dsp|cmul", re.I)),
    ("activation", re.compile(r"pwl|sigm|tanh|act|modrelu", re.I)),
    ("memory", re.compile(r"mem|rom|ram|weight|fifo", re.I)),
    ("io", re.compile(r"axis|uart|stream", re.I)),
]
DEFAULT_ACTIVITY = 0.125  # used when no VCD is available (XPE's default toggle rate): marked in the result


def net_group(name: str) -> str:
    """Group of a hierarchical net name (first matching pattern; 'control' otherwise)."""
    for group, pat in GROUP_PATTERNS:
        if pat.search(name):
            return group
    return "control"


VCD_MAX_CYCLES = 20000  # enough for stable toggle rates; a whole VCD of 4 sequences is ~0.5 GB


def parse_vcd(path: str | Path, clock: str = "clk", max_cycles: int | None = None) -> dict:
    """Toggle counts per net group of a VCD: {cycles, nets, bits, groups: {g: {bits, toggles, rate}}, logic}.

    A vector change counts the bits that differ (Hamming distance); x/z count as 0. `cycles` is the number
    of rising edges of the first net called `clock` (at the shallowest scope).
    """
    ids: dict[str, tuple[str, int]] = {}  # id -> (full name, width)
    scope: list[str] = []
    clock_id, clock_depth = None, 1 << 30
    values: dict[str, int] = {}
    toggles: dict[str, int] = {}
    cycles = 0
    with open(path, errors="replace") as fh:
        for line in fh:  # header
            tok = line.split()
            if not tok:
                continue
            if tok[0] == "$scope":
                scope.append(tok[2])
            elif tok[0] == "$upscope":
                scope.pop()
            elif tok[0] == "$var":
                width, ident, name = int(tok[2]), tok[3], tok[4]
                if ident not in ids:
                    ids[ident] = (".".join([*scope, name]), width)
                    toggles[ident] = 0
                if name == clock and len(scope) < clock_depth:
                    clock_id, clock_depth = ident, len(scope)
            elif tok[0] == "$enddefinitions":
                break
        for line in fh:  # value changes
            c = line[:1]
            if c == "#" or c == "$" or not line.strip():
                continue
            if c in "bB":
                bits, ident = line[1:].split()
                new = int(bits.replace("x", "0").replace("z", "0").replace("X", "0").replace("Z", "0"), 2)
            elif c in "01xzXZ":
                ident = line[1:].strip()
                new = 1 if c == "1" else 0
            else:
                continue  # real values etc.
            old = values.get(ident)
            values[ident] = new
            if old is None:
                continue
            if ident == clock_id:
                if new and not old:
                    cycles += 1
                    if max_cycles and cycles >= max_cycles:
                        break
                continue
            if ident in toggles:
                toggles[ident] += (old ^ new).bit_count()
    groups: dict[str, dict] = {}
    for ident, (name, width) in ids.items():
        if ident == clock_id:
            continue
        g = groups.setdefault(net_group(name), {"bits": 0, "toggles": 0})
        g["bits"] += width
        g["toggles"] += toggles[ident]
    for g in groups.values():
        g["rate"] = g["toggles"] / (g["bits"] * cycles) if cycles and g["bits"] else 0.0
    bits = sum(g["bits"] for g in groups.values())
    total = sum(g["toggles"] for g in groups.values())
    return {
        "source": str(path),
        "cycles": cycles,
        "nets": len(ids) - (clock_id is not None),
        "bits": bits,
        "groups": groups,
        "logic": total / (bits * cycles) if cycles and bits else 0.0,
    }


def activity_rates(activity: dict | None) -> dict[str, float]:
    """Rates used by the model: 'logic' (all nets) and 'datapath' (datapath nets, else all nets)."""
    if not activity or not activity.get("cycles"):
        return {"logic": DEFAULT_ACTIVITY, "datapath": DEFAULT_ACTIVITY}
    dp = activity["groups"].get("datapath")
    return {"logic": activity["logic"], "datapath": dp["rate"] if dp and dp["bits"] else activity["logic"]}


def estimate_power(
    family: str, counts: dict, clock_mhz: float, activity: dict | None = None, device_luts: int | None = None
) -> dict:
    """Power estimate in W with the per-resource breakdown and every coefficient's source."""
    model = MODELS[family]
    rates = activity_rates(activity)
    if family == "xc7":
        inst = {
            "lut": counts["lut"],
            "ff": counts["ff"],
            "ff_clock": counts["ff"],
            "dsp": counts["dsp"],
            "ramb36": counts.get("ramb36", 0),
            "ramb18": counts.get("ramb18", 0),
        }
        ref_luts = XC7_STATIC_REF_LUTS
    else:
        inst = {
            "lut": counts["lut4"],
            "ff": counts["ff"],
            "ff_clock": counts["ff"],
            "dsp": counts["mult18"],
            "ebr": counts["ebr"],
        }
        ref_luts = ECP5_STATIC_REF_LUTS
    breakdown = {}
    for name, n in inst.items():
        c = model[name]
        scale = rates[c.activity_group] / c.ref_activity if c.activity_group else 1.0
        breakdown[name] = {
            "count": n,
            "coef_uW_per_MHz": c.value,
            "activity_scale": round(scale, 4),
            "watts": n * c.value * scale * clock_mhz * 1e-6,
        }
    static = model["static_w"].value * ((device_luts or ref_luts) / ref_luts)
    dynamic = sum(b["watts"] for b in breakdown.values())
    return {
        "label": "estimate",
        "family": family,
        "clock_mhz": clock_mhz,
        "activity": {k: round(v, 5) for k, v in rates.items()},
        "activity_source": activity["source"]
        if activity and activity.get("cycles")
        else f"{ASSUMPTION}: no VCD, default toggle rate {DEFAULT_ACTIVITY}",
        "dynamic_w": dynamic,
        "static_w": static,
        "total_w": dynamic + static,
        "breakdown": breakdown,
        "coefficients": {
            k: {
                "value": c.value,
                "unit": "W" if k == "static_w" else "uW/MHz",
                "ref_activity": c.ref_activity,
                "source": c.source,
            }
            for k, c in model.items()
        },
    }
