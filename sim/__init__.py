"""RTL simulation: cocotb testbenches on Verilator. No torch here."""
