// Black box of the ECP5 MULT18X18D for the yosys-slang front end (ECP5 synthesis only: mul_pipe.sv
// instantiates it under `ECP5_MULT18`): the ports mul_pipe connects and the register settings it sets, so
// the netlist carries a MULT18X18D with its input and output registers, which nextpnr times as registered
// (docs/rtl.md "Pipelining for ECP5").  Verilator never sees this file.
(* blackbox *)
module MULT18X18D (
    input A0, A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13, A14, A15, A16, A17, B0, B1, B2, B3, B4, B5, B6, B7, B8, B9, B10, B11, B12, B13, B14, B15, B16, B17, SIGNEDA, SIGNEDB, SOURCEA, SOURCEB, CLK0, CE0, RST0,
    output P0, P1, P2, P3, P4, P5, P6, P7, P8, P9, P10, P11, P12, P13, P14, P15, P16, P17, P18, P19, P20, P21, P22, P23, P24, P25, P26, P27, P28, P29, P30, P31, P32, P33, P34, P35
);
  parameter REG_INPUTA_CLK = "NONE";
  parameter REG_INPUTB_CLK = "NONE";
  parameter REG_OUTPUT_CLK = "NONE";
endmodule
