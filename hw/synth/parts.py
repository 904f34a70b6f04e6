"""Device capacities (datasheet figures) used for the % utilization of the 7-series synthesis.

Sources: Xilinx DS180 "7 Series FPGAs Data Sheet: Overview" (Virtex-7, Kintex-7, Artix-7, Spartan-7 tables),
DS190 "Zynq-7000 SoC Data Sheet: Overview", DS890 "UltraScale Architecture and Product Data Sheet: Overview"
(KU060, ESE's board), Lattice FPGA-DS-02012 "ECP5 and ECP5-5G Family Data Sheet". LUT = 6-input LUTs
(ECP5: LUT4), BRAM in 36 Kb blocks (ECP5: 18 Kb EBR).
"""

from __future__ import annotations

# prefix -> (LUT, FF, DSP, BRAM36)
XILINX_PARTS: dict[str, dict[str, int]] = {
    "xc7vx690t": {"lut": 433200, "ff": 866400, "dsp": 3600, "bram36": 1470},
    "xc7vx485t": {"lut": 303600, "ff": 607200, "dsp": 2800, "bram36": 1030},
    "xc7k325t": {"lut": 203800, "ff": 407600, "dsp": 840, "bram36": 445},
    "xc7k160t": {"lut": 101400, "ff": 202800, "dsp": 600, "bram36": 325},
    "xc7a200t": {"lut": 133800, "ff": 267600, "dsp": 740, "bram36": 365},
    "xc7a100t": {"lut": 63400, "ff": 126800, "dsp": 240, "bram36": 135},
    "xc7a35t": {"lut": 20800, "ff": 41600, "dsp": 90, "bram36": 50},
    "xc7z020": {"lut": 53200, "ff": 106400, "dsp": 220, "bram36": 140},
    "xc7s15": {"lut": 8000, "ff": 16000, "dsp": 20, "bram36": 10},
    "xc7s50": {"lut": 32600, "ff": 65200, "dsp": 120, "bram36": 75},
    "xcku060": {"lut": 331680, "ff": 663360, "dsp": 2760, "bram36": 1080},
}


def xilinx_capacity(part: str) -> dict[str, int] | None:
    """Capacity of a part by full name (xc7vx690tffg1761-2) or device prefix; None if unknown."""
    part = part.lower()
    for prefix in sorted(XILINX_PARTS, key=len, reverse=True):
        if part.startswith(prefix):
            return dict(XILINX_PARTS[prefix], device=prefix)
    return None


def family(part: str) -> str:
    """Synthesis family of yosys synth_xilinx for a part name (xc7 for every 7-series / Zynq-7000 part)."""
    p = part.lower()
    if p.startswith(("xc7", "xa7", "xq7")):
        return "xc7"
    if p.startswith(("xcku", "xcvu")) and "p" not in p[4:6]:
        return "xcu"
    return "xcup"
