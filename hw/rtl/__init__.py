"""SystemVerilog RNN core (hw/rtl/*.sv), its program compiler and the `make rtl` generator."""

from pathlib import Path

RTL_DIR = Path(__file__).resolve().parent

# library files in compilation order (packages first)
LIBRARY = [
    "fxp_pkg",
    "rnn_isa_pkg",
    "mul_pipe",
    "fft_bfly",
    "fft_dit",
    "fft_real",
    "ifft_real",
    "ram_1r1w",
    "rom_sync",
    "fxp_requant",
    "pwl_act",
    "ew_unit",
    "mv_unit",
    "rnn_core",
]
