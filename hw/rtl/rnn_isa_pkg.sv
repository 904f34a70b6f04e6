// Instruction set of the microcoded RNN core (rnn_core.sv).  The Python generator (hw/rtl/isa.py) packs the
// same fields in the same order (first field = most significant bits).
package rnn_isa_pkg;
  typedef enum logic [3:0] {
    OP_HALT = 4'd0,  // end of program: wait for the next sequence
    OP_IN = 4'd1,  // receive a sequence from s_axis: n words per step at dst + t*ST, sets L
    OP_OUT = 4'd2,  // send n words from a on m_axis; last: 1 = TLAST on the final word, 2 = ... if final loop pass
    OP_MV = 4'd3,  // dst = term(matrix, a): matrix-vector unit
    OP_EW = 4'd4,  // dst = alu(a, b, c) over n words (b lanes each)
    OP_LOOP = 4'd5,  // pass 0: t = 0 (last[0] = 0) or L-1 (last[0] = 1) per sequence; body starts at pc + 1
    OP_ENDLOOP = 4'd6  // t += 1 (or -= 1) and jump back, or fall through after pass max(L) + lag - 1
  } op_t;

  typedef enum logic [2:0] {
    ALU_ADD = 3'd0,  // sat(a + (nb ? -b : b) + c, bits)            (zb/zc: operand is 0)
    ALU_MUL = 3'd1,  // sat(shr_round(a * b, sh), bits)
    ALU_REQ = 3'd2,  // sat(shr_round(a, sh), bits)
    ALU_PWL = 3'd3,  // PWL table tsel on a (rl = log2(R * 2^Fz), seg = segment shift, sh = output shift)
    ALU_MODRELU = 3'd4  // sat(shr_round(sign(a) * max(|a| + b, 0), sh), bits)
  } alu_t;

  typedef enum logic [1:0] {
    AM_ABS = 2'd0,  // addr
    AM_T = 2'd1,  // addr + t*ST
    AM_LAST = 2'd2  // addr + (L-1)*ST
  } amode_t;

  typedef struct packed {
    logic [3:0] op;
    logic [2:0] alu;
    logic [1:0] dmode;
    logic [1:0] amode;
    logic [1:0] bmode;
    logic [1:0] cmode;
    logic [15:0] dst;
    logic [15:0] a;
    logic [15:0] b;
    logic [15:0] c;
    logic zb;
    logic zc;
    logic nb;
    logic [11:0] n;  // EW/IN/OUT: words; MV: q (input blocks)
    logic [11:0] g;  // MV: row groups ceil(p / P)
    logic [11:0] pb;  // MV: row blocks p
    logic signed [7:0] sh;
    logic [5:0] bits;
    logic [3:0] tsel;
    logic [4:0] seg;
    logic signed [5:0] rl;
    logic [15:0] wbase;  // MV: weight memory address of the matrix
    logic dense;  // MV: dense matrix (b x b blocks, one block row per cycle)
    logic fft;  // MV: circulant matrix through the FFT path
    logic [1:0] last;
    logic [1:0] seq;  // batch: the sequence whose t / L the instruction's address modes (and its predicate) use
    logic lag;  // batch, inside a loop: runs for step t - 1 (skipped unless 0 <= t - lag < L of seq); LOOP: the loop's lag
  } instr_t;
endpackage
