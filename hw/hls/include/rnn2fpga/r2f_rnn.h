// rnn2fpga layers: the head (docs/arithmetic.md section 14) and the sequence-length helper. The recurrent cells
// are not written here: hw/hls/codegen.py emits each cell's step and time loop from its op graph
// (compress/graph.py), operation for operation as the integer reference. One call processes one sequence of
// length L <= T; the time loop is rolled (one step per iteration), positions t >= L of an output are 0.
#ifndef R2F_RNN_H_
#define R2F_RNN_H_

#include "r2f_act.h"
#include "r2f_fixed.h"
#include "r2f_matvec.h"

namespace r2f {


// Sequence length clamped to [1, T] (as the reference does).
template <unsigned T, class L_T> inline unsigned clamp_len(const L_T &len) {
#pragma HLS INLINE
    const int v = len.to_int();
    return v < 1 ? 1u : (v > (int)T ? T : (unsigned)v);
}

// ---------------------------------------------------------------------------------------------- head (section 14)
struct head_config {
    static const unsigned n_in = 8, n_out = 4, n_t = 4;
    static const unsigned back_from = 8;  // BiLSTM: inputs i >= back_from (backward half) are read at t = 0
    static const bool per_step = false;
    static const int u_bits = 16, u_frac = 14, y_bits = 16, y_frac = 10, tw_bits = 18;
    typedef matvec_config mv;
};

// u = the input sequence at position L-1 (per_step: every position; BiLSTM: the backward half at position 0,
// the backward cell's final state); y = sat(term(w, u -> Fy) + b, Bz).
template <class CFG, class U_T, class Y_T>
void head(const U_T u[CFG::n_t * CFG::n_in], unsigned len, Y_T y[(CFG::per_step ? CFG::n_t : 1) * CFG::n_out],
          const ap_int<CFG::mv::w_bits> wa[], const ap_int<CFG::mv::w_bits> wb[], const ap_int<CFG::tw_bits> twr[],
          const ap_int<CFG::tw_bits> twi[], const ap_int<CFG::y_bits> bias[]) {
    const unsigned n_pos = CFG::per_step ? CFG::n_t : 1;
Pos:
    for (unsigned t = 0; t < n_pos; t++) {
        const unsigned pos = CFG::per_step ? t : (len >= 1 ? len - 1 : 0);
        ap_int<CFG::u_bits> ut[CFG::n_in];
        ap_int<CFG::y_bits> term[CFG::n_out];
        for (unsigned i = 0; i < CFG::n_in; i++) {
            const unsigned p = (!CFG::per_step && i >= CFG::back_from) ? 0 : pos;
            ut[i] = u[p * CFG::n_in + i];
        }
        matvec<typename CFG::mv>::run(ut, term, wa, wb, twr, twi);
        for (unsigned o = 0; o < CFG::n_out; o++) y[t * CFG::n_out + o] = sat<CFG::y_bits>(term[o] + bias[o]);
    }
}

} // namespace r2f

#endif
