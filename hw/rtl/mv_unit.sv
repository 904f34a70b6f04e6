// Block-circulant / dense matrix-vector unit (docs/arithmetic.md sections 3, 5 and 8).
// P lanes; lane l computes output row block i = g*P + l of row group g, all lanes share the input block.
//   direct circulant: one b x b circulant block per lane per cycle (b*b multipliers per lane);
//   dense: one row of a b x b block per lane per cycle (b multipliers);
//   fft (FFT=1, ins.fft): input-block spectra computed once per instruction (shared by all rows), (b/2+1) complex
//   MACs per lane per cycle, requant to Bz+g+m bits, one inverse FFT per output block (shared IFFT pipeline).
// Weights: one memory word holds the P lanes' words for the same address (lane l at [l*WMW +: WMW]):
//   circulant direct: w_ij[0..b-1]; fft: Re(Wf)[0..b/2], Im(Wf)[0..b/2]; dense: row r of block (i, j).
// Matrix layout (generator): circulant word g*q + j; dense word (g*q + j)*b + r; from ins.wbase: the issue
// order, so the weight address is a running count.
// Pipelined for 100+ MHz on ECP5 (free-running stages, valid bits alongside):
//   issue | address registers | RL memory latency (data and weight memories, registered outputs) |
//   3 products (mul_pipe) | 2 sums | accumulate.  Row groups issue back to back; the accumulators of a finished group are
//   handed to the drain in the cycle the next group's first term arrives (a gap keeps the drain, one block
//   per cycle, ahead when a group is shorter than P cycles).  Drain: lane select | requant (2) | saturate
//   [fft: P' requant, IFFT, output requant] | write.  fft: the MACs start as soon as the first input spectrum
//   is written (spectra are produced and consumed in order, one per cycle); an fft instruction started while
//   another fft one issues waits in a pending slot with its spectra loaded into the other half of the
//   spectrum store, and its first term follows the running one's last term, its first group waiting so that
//   its hand-over comes P cycles after the running one's last (docs/rtl.md "Input spectra ahead", "Seamless
//   hand-over"); every drained block carries its own write address, last flag and IFFT width.  hw/cycles.py
//   (mv_schedule) counts the same.
module mv_unit #(
    parameter int B = 8,
    parameter int P = 2,
    parameter bit FFT = 1,  // frequency-domain path (fft-mode circulant matrices)
    parameter bit DIRECT = 1,  // time-domain circulant path (b*b multipliers per lane)
    parameter bit DENSE = 1,  // dense path (b multipliers per lane)
    parameter int DW = 20,
    parameter int BA = 16,
    parameter int BW = 16,
    parameter int BZMAX = 16,
    parameter int G = 4,
    parameter int AW = 10,
    parameter int WDEPTH = 1024,
    parameter int QMAX = 16,
    parameter int RL = 2,  // data memory read latency; the weight memory has the same
    parameter string W_INIT = "",
    parameter int NRS = 1,  // copies of the read address (ra[s]): one per read slice of the data memory
    localparam int M = $clog2(B),
    localparam int NB = B / 2 + 1,
    localparam int WMW = FFT ? 2 * NB * BW : B * BW
) (
    input  logic                clk,
    input  logic                rst,
    input  logic                start,
    input  rnn_isa_pkg::instr_t ins,
    input  logic [AW-1:0]       src_base,
    input  logic [AW-1:0]       dst_base,
    output logic                done,
    output logic                accept,  // a start now would be taken: idle, or only a drain left (see below)
    output logic [NRS-1:0][AW-1:0] ra,  // NRS equal copies
    input  logic [AW-1:0]       idle_ra,  // read address while the issue side is idle (rnn_core: OUT's)
    input  logic [B*DW-1:0]     rd,
    output logic                we,
    output logic [AW-1:0]       waddr,
    output logic [B*DW-1:0]     wdata
);
  // parameter checks at elaboration (verilog-axis style): a bad instance stops the build
  if (B != 2 && B != 4 && B != 8 && B != 16) begin : g_param_check0
    $error("mv_unit: B must be 2, 4, 8 or 16 (got %0d)", B);
  end
  if (P < 1) begin : g_param_check1
    $error("mv_unit: P must be at least 1 (got %0d)", P);
  end
  if (!FFT && !DIRECT && !DENSE) begin : g_param_check2
    $error("mv_unit: at least one path (FFT, DIRECT, DENSE) (got FFT=%0d)", FFT);
  end
  if (BZMAX > DW || QMAX < 1 || WDEPTH < 2 || RL != 2) begin : g_param_check3
    $error("mv_unit: BZMAX=%0d must fit DW; QMAX >= 1; WDEPTH >= 2; RL = 2", BZMAX);
  end
  import rnn_isa_pkg::*;
  localparam int WAW = $clog2(WDEPTH);
  localparam int WX = BA + M + 1;  // spectrum component width
  localparam int WP = BZMAX + G + M;  // P' width
  localparam int ACCW = BW + (FFT ? WX : BA) + 16;
  localparam int PRW = BW + BA;  // one time-domain product (matrix inputs are BA-bit values)
  localparam int SHL = 8;  // largest left shift of a matrix requant (program.py MV_SHL)
  localparam int PW = P > 1 ? $clog2(P) : 1;
  localparam int QW = QMAX > 1 ? $clog2(QMAX) : 1;
  localparam int SA = RL + 5;  // the accumulate stage: address register, RL memory, 3 products, 2 sums

  /* verilator lint_off UNUSEDSIGNAL */
  instr_t ir;
  /* verilator lint_on UNUSEDSIGNAL */
  logic ibusy, fft_mode, dense_mode;  // ibusy: issue side (input spectra, terms) until the last hand-over
  logic [AW-1:0] src, dst_q;
  logic [15:0] kmax;

  // ---------------------------------------------------------------- issue
  // iss: MAC terms being issued; k: term of the group; gi: group; gap: idle cycles before the next group
  logic iss;
  logic [15:0] k, gi, gap, xcnt, fk;
  logic [WAW-1:0] wa;
  logic [15:0] j_iss;
  assign j_iss = dense_mode ? (k >> M) : k;
  // The issue decisions read flags kept in registers beside their counters (each set with its counter, so
  // flag == condition always): a 16-bit compare used to sit between the counters and the enables of every
  // issue register (gap == 0 -> rem / lanes_g / wa / k, about 6 LUT levels).
  logic last_k;  // k + 1 == kmax
  logic gap_z;  // gap == 0
  logic last_g;  // gi + 1 == ir.g
  logic fk_lt;  // fk < n of the loader's instruction: the loader reads its input block fk
  logic issuing;
  assign issuing = iss && gap_z;

  // ---------------------------------------------------------------- weight memory
  logic [P*WMW-1:0] wword;
  logic [WAW-1:0] wa_q;  // registered weight address (data at RL + 1 after the issue, with the input block)
  always_ff @(posedge clk) wa_q <= wa;
  rom_sync #(.W(P * WMW), .DEPTH(WDEPTH), .INIT(W_INIT), .OREG(1)) u_wmem (.clk, .raddr(wa_q), .rdata(wword));

  // ---------------------------------------------------------------- term pipeline: valid / first / last / row
  logic [SA:0] t_v, t_first, t_last;
  logic [SA-1:0] t_gf;  // the term's group is its instruction's first (hfirst at the hand-over)
  logic [M-1:0] t_r [SA];  // the row of a dense term (lanes decode t_r[SA-1])
  logic [QW-1:0] t_j1, t_j2;  // spectrum index, one and two cycles after the issue
  logic t_b1, t_b2;  // its half of the spectrum store
  always_ff @(posedge clk) begin
    if (rst) begin
      t_v <= '0;
    end else begin
      t_v <= {t_v[SA-1:0], issuing};
    end
    t_first <= {t_first[SA-1:0], dense_mode ? (k < 16'(B)) : (k == 0)};
    t_last <= {t_last[SA-1:0], last_k};
    t_gf <= {t_gf[SA-2:0], first_g};
    t_r[0] <= M'(k);
    for (int i = 1; i < SA; i++) t_r[i] <= t_r[i-1];
    t_j1 <= QW'(j_iss);
    t_j2 <= t_j1;
    t_b1 <= is_bank;
    t_b2 <= t_b1;
  end
  // t_*[i] is high i + 1 cycles after the issue: data, weights and the spectrum arrive at t_*[RL] (the read
  // addresses are registered), the products at RL + 3, the sums at RL + 5 = SA, where the accumulators take
  // them.

  // ---------------------------------------------------------------- control
  // start is registered (go): the controller's start decision fans out to the unit's instruction and control
  // registers from a flip-flop of its own (ins, src_base and dst_base are held by the controller meanwhile)
  // Two instruction slots: the issue slot (ir, dst_q, the issue counters) and a pending slot (ir_p, dst_p). A
  // start while the issue slot is busy (an fft instruction accepted ahead, see accept) goes to the pending
  // slot: its input spectra are loaded into the other half of the spectrum store while the issue slot's
  // terms run, and it is promoted to the issue slot as soon as that one has issued its last term and handed
  // over its first group (early), so its first term follows without the FFT's fill and without waiting for
  // the running one's last hand-over. The two instructions' groups then share the accumulate pipeline: each
  // term carries its group's first-group tag (t_gf), and a hand-over belongs to the issue slot's instruction
  // when it is that one's first (hfirst) or that one's first has been (!ifh); the requant shift and width
  // reach the requants with the groups (hsh), and the promoted instruction's first group waits gp cycles so
  // that its hand-over comes at least P cycles after the last one's (the drain's lane select, as between
  // groups).
  logic go;
  logic go_n;  // go's next state
  assign go_n = start && !rst;
  always_ff @(posedge clk) go <= go_n;
  logic hand;  // the accumulators hold a finished group this cycle
  logic hfirst;  // ... the first group of its instruction
  logic last_hand;  // ... and it is the instruction's last group
  logic dact;  // the drain selects the lanes of a held group
  logic pend;  // the pending slot holds an instruction
  instr_t ir_p;
  logic [AW-1:0] dst_p;
  logic idle_c, busy_c, load_iss;
  logic first_g;  // the issue slot's first group is issuing (t_gf)
  logic idle_iss;  // the issue slot has issued its last term
  logic ifh;  // the issue slot's first group is not yet handed over
  logic early;  // = idle_iss && !ifh: a pending instruction may be promoted
  logic [15:0] gp;  // the pending instruction's wait before its first term (see the promotion above)
  logic gpz;  // gp == 0
  // idle_c: the issue slot's last group handed over, its lanes selected (= !ibusy && !hand && !dact), a
  // register of its own (below, with the drain)
  assign busy_c = !idle_c || pend;
  // the issue slot loads a started instruction (go) or promotes the pending one (pend: no start then):
  //   load_iss = (idle_c && (go || pend)) || (pend && early)
  // every issue register's enable reads it, so it is a flip-flop of its own, set from the next states of
  // idle_c, go, pend and early (below, with the drain; as one LUT from those flip-flops, pend -> load_iss -> gi
  // was the scoRNN bench core's routed critical path on seed 2, session 19)
  instr_t nx;  // the instruction loaded into the issue slot
  assign nx = pend ? ir_p : ins;
  logic wait_spec;  // fft: the first term waits for the instruction's first input spectrum
  logic spec_rdy;  // the issue slot's first input spectrum is stored
  logic ld_bank, is_bank;  // spectrum-store half: of the loader's instruction, of the issue slot's
  always_ff @(posedge clk) begin
    if (rst) begin
      ibusy <= 1'b0;
      iss <= 1'b0;
      idle_iss <= 1'b0;
      pend <= 1'b0;
      wait_spec <= 1'b0;
    end else begin
      if (go) src <= src_base;  // the loader's input (an fft instruction's terms do not read it)
      if (go && busy_c) begin
        ir_p <= ins;
        dst_p <= dst_base;
        pend <= 1'b1;
        // only fft instructions wait in the pending slot: K = n terms per group
        gp <= 16'(P) > 16'(ins.n) + 16'd1 ? 16'(P) - 16'(ins.n) - 16'd1 : '0;
        gpz <= !(16'(P) > 16'(ins.n) + 16'd1);
      end
      if (load_iss) begin
        pend <= 1'b0;
        first_g <= 1'b1;
        idle_iss <= 1'b0;
        ir <= nx;
        dst_q <= pend ? dst_p : dst_base;
        is_bank <= pend ? ld_bank : !ld_bank;
        fft_mode <= FFT && nx.fft;
        dense_mode <= DENSE && nx.dense;
        kmax <= nx.dense ? 16'(nx.n) << M : 16'(nx.n);
        last_k <= (nx.dense ? 16'(nx.n) << M : 16'(nx.n)) == 16'd1;
        k <= '0;
        gi <= '0;
        last_g <= 16'(nx.g) == 16'd1;
        gap <= pend ? gp : '0;
        gap_z <= !pend || gpz;
        wa <= WAW'(nx.wbase);
        ibusy <= 1'b1;
        wait_spec <= FFT && nx.fft;
        iss <= !(FFT && nx.fft);
      end else if (ibusy) begin
        if (wait_spec && spec_rdy) begin  // terms start once the first input spectrum is stored
          iss <= 1'b1;
          wait_spec <= 1'b0;
        end
        if (!gap_z) begin
          gap <= gap - 1;
          gap_z <= gap == 16'd1;
        end else if (iss) begin
          wa <= wa + 1;
          if (last_k) begin
            k <= '0;
            first_g <= 1'b0;
            if (last_g) idle_iss <= 1'b1;
            last_k <= kmax == 16'd1;
            // the drain of a group takes a cycle per lane: a group shorter than that waits. Only a group
            // followed by another waits, and such a group has all P lanes (only the last is partial), so the
            // wait is P - kmax (a lane count per group, rem - P and a compare loaded behind the issue slot's
            // load select, was the ENRNN bench core's routed critical path: hand -> load_iss -> lanes_g,
            // 10.15 ns)
            gap <= 16'(P) > kmax ? 16'(P) - kmax : '0;
            gap_z <= !(16'(P) > kmax);
            if (last_g) iss <= 1'b0;
            gi <= gi + 1;
            last_g <= gi + 2 == 16'(ir.g);
          end else begin
            k <= k + 1;
            last_k <= k + 2 == kmax;
          end
        end
        // every term of the issue slot's instruction has reached the accumulators: only the drain is left
        if (hand && last_hand && (hfirst || !ifh)) ibusy <= 1'b0;
      end
    end
  end

  // ---------------------------------------------------------------- spectrum loader (fft)
  // Reads an fft instruction's n input blocks at its start (go), one per cycle, into the forward FFT; the
  // spectra are stored in order, one per cycle, in the half ld_bank of the store (toggled at every fft start).
  // ld_act: spectra of the last loaded instruction still to be stored.
  logic ld_act;
  logic [15:0] ld_left;
  always_ff @(posedge clk) begin
    if (rst) begin
      fk_lt <= 1'b0;
      ld_act <= 1'b0;
      ld_bank <= 1'b0;
    end else begin
      if (go && FFT && ins.fft) begin
        fk <= '0;
        fk_lt <= 16'(ins.n) != 16'd0;
        ld_act <= 16'(ins.n) != 16'd0;
        ld_left <= 16'(ins.n);
        ld_bank <= !ld_bank;
      end else begin
        if (fk_lt) begin
          fk <= fk + 1;
          fk_lt <= fk + 1 < 16'(ld_n);
        end
        if (ld_v) begin
          ld_left <= ld_left - 1;
          if (ld_left == 16'd1) ld_act <= 1'b0;
        end
      end
    end
  end
  logic [15:0] ld_n;
  always_ff @(posedge clk) if (go) ld_n <= 16'(ins.n);
  // ld_v: fwd_v (a spectrum stored this cycle) from a delay line of the FFT's own latency (6 per stage,
  // fft_dit PIPE 2), for the loader's counters only: fwd_v, which also enables every word of the spectrum
  // store, into the ld_left enable was the GRU bench core's routed critical path (9.96 ns)
  logic ld_v;
  if (FFT) begin : g_ldv
    logic [6*M-1:0] ldv;
    (* keep *) always_ff @(posedge clk) begin
      if (rst) ldv <= '0;
      else ldv <= {ldv[6*M-2:0], fx_v[RL]};
    end
    assign ld_v = ldv[6*M-1];
`ifndef SYNTHESIS
    always_ff @(posedge clk) if (!rst && ld_v != fwd_v) $error("mv_unit: ld_v differs from fwd_v");
`endif
  end else begin : g_noldv
    assign ld_v = 1'b0;
  end
  assign spec_rdy = is_bank != ld_bank || xcnt != 0;

  // ---------------------------------------------------------------- input spectra (fft)
  logic fwd_v;
  logic [NB*WX-1:0] fft_re, fft_im;
  logic [B*BA-1:0] fft_x;
  logic [RL:0] fx_v;  // fft input issued RL + 1 cycles ago (its data arrives now)
  always_ff @(posedge clk) begin
    if (rst) fx_v <= '0;
    else fx_v <= {fx_v[RL-1:0], fk_lt};
  end
  // registered read address; idle: the controller's (OUT), so the data memory's copy 3 takes its address
  // straight from this register (a select after it, by mv_busy, drove 16 block RAMs from one LUT); NRS copies
  // (keep: one block each, or yosys merges them), each driving the block RAMs of one read slice
  for (genvar s = 0; s < NRS; s++) begin : g_ra
    (* keep *) always_ff @(posedge clk) ra[s] <= ibusy || fk_lt ? src + AW'(fk_lt ? fk : j_iss) : idle_ra;
  end
  always_comb begin
    for (int c = 0; c < B; c++) fft_x[c*BA+:BA] = rd[c*DW+:BA];
  end

  // ---------------------------------------------------------------- lanes: products, sums, accumulators
  // (the paths a core leaves out leave their accumulators undriven and unused)
  /* verilator lint_off UNUSEDSIGNAL */
  /* verilator lint_off UNDRIVEN */
  logic signed [ACCW-1:0] acc [P][B];
  logic signed [ACCW-1:0] accr [P][NB];
  logic signed [ACCW-1:0] acci [P][NB];
  logic signed [ACCW-1:0] hacc [P][B];  // held copies drained while the next group accumulates
  logic signed [ACCW-1:0] haccr [P][NB];
  logic signed [ACCW-1:0] hacci [P][NB];
  logic [2*NB*WX-1:0] xcur;  // the spectrum of the issued term, at RL
  /* verilator lint_on UNDRIVEN */
  /* verilator lint_on UNUSEDSIGNAL */
  // acc_ctl: every accumulator group (a lane in direct/dense mode, a lane's bin in fft mode) takes its own
  // registered copies (keep) of t_v[SA] with the mode, t_first[SA] and hand, from stage SA - 1: from the
  // shared ones, each of these drove every accumulator's enable or clear (fan-out ~830 on the default core)
  // across the unit.  fft_mode is constant while terms are in flight (loaded at go, when none are).
  function automatic logic acc_v(input logic r, input logic v_prev);  // t_v[SA] of the next cycle
    return !r && v_prev;
  endfunction
  // hand = t_v[SA] && t_last[SA], registered from stage SA - 1 (it feeds the issue slot's load: a routed
  // critical path ran t_last -> hand -> load_iss -> the issue registers' enables, 10.26 ns)
  // (keep: its own register; yosys merged it with a lane's identical c_hand copy, and the issue-slot load then
  // read it from across the unit, 2.1 ns of route on make all seed 1's critical path)
  (* keep *) always_ff @(posedge clk) hand <= acc_v(rst, t_v[SA-1]) && t_last[SA-1];
  always_ff @(posedge clk) hfirst <= t_gf[SA-1];

  for (genvar l = 0; l < P; l++) begin : g_lane
    logic [WMW-1:0] wl;
    assign wl = wword[l*WMW+:WMW];
    if (FFT) begin : g_fft
      for (genvar q = 0; q < NB; q++) begin : g_bin
        logic signed [BW-1:0] wr, wi;
        logic signed [WX-1:0] xr, xi;
        logic signed [BW+WX-1:0] prr, pii, pri, pir;
        logic signed [BW+WX:0] sr, si, sr2, si2;
        assign wr = wl[q*BW+:BW];
        assign wi = wl[(NB+q)*BW+:BW];
        assign xr = xcur[q*WX+:WX];
        assign xi = xcur[(NB+q)*WX+:WX];
        mul_pipe #(.AW(BW), .BW(WX)) u_rr (.clk, .a(wr), .b(xr), .y(prr));
        mul_pipe #(.AW(BW), .BW(WX)) u_ii (.clk, .a(wi), .b(xi), .y(pii));
        mul_pipe #(.AW(BW), .BW(WX)) u_ri (.clk, .a(wr), .b(xi), .y(pri));
        mul_pipe #(.AW(BW), .BW(WX)) u_ir (.clk, .a(wi), .b(xr), .y(pir));
        // the bin's own copies of the accumulate controls at SA (see acc_ctl)
        logic c_v, c_first, c_hand;
        (* keep *) always_ff @(posedge clk) begin
          c_v <= acc_v(rst, t_v[SA-1]) && fft_mode;
          c_first <= t_first[SA-1];
          c_hand <= acc_v(rst, t_v[SA-1]) && t_last[SA-1];
        end
        always_ff @(posedge clk) begin
          sr <= (BW + WX + 1)'(prr) - (BW + WX + 1)'(pii);
          si <= (BW + WX + 1)'(pri) + (BW + WX + 1)'(pir);
          sr2 <= sr;
          si2 <= si;
          // the adders read the accumulators only; a group's first term is selected after them (c_first in
          // front of the carry chain was a routed critical path, 10.01 ns)
          if (c_v) begin
            accr[l][q] <= c_first ? ACCW'(sr2) : accr[l][q] + ACCW'(sr2);
            acci[l][q] <= c_first ? ACCW'(si2) : acci[l][q] + ACCW'(si2);
          end
          if (c_hand) begin
            haccr[l][q] <= c_first ? ACCW'(sr2) : accr[l][q] + ACCW'(sr2);
            hacci[l][q] <= c_first ? ACCW'(si2) : acci[l][q] + ACCW'(si2);
          end
        end
      end
    end
    if (DIRECT || DENSE) begin : g_time
      // products: direct p[r][c] = w[(r - c) mod b] x[c]; dense p[c] = w[c] x[c] (row t_r)
      logic signed [BA-1:0] x [B];
      logic signed [BW-1:0] wv [B];
      for (genvar c = 0; c < B; c++) begin : g_op
        assign x[c] = rd[c*DW+:BA];
        assign wv[c] = wl[c*BW+:BW];
      end
      logic signed [PRW+M+1:0] rsum [B];  // the term of each row (direct; dense: of row t_r, in every row)
      localparam bit PAIRS = BW <= 18 && BA <= 18;  // one multiplier chunk per operand (mul_pipe OUTREG 0)
      for (genvar r = 0; r < (DIRECT ? B : 1); r++) begin : g_row
        logic signed [PRW-1:0] p [B];
        for (genvar c = 0; c < B; c++) begin : g_col
          logic signed [BW-1:0] wsel;
          // the dense path uses row 0's multipliers with w[c]; direct row r uses w[(r - c) mod b]
          if (DIRECT) begin : g_dir
            assign wsel = dense_mode ? wv[c] : wv[(r-c+B)%B];
          end else begin : g_den
            assign wsel = wv[c];
          end
          mul_pipe #(.AW(BW), .BW(BA), .OUTREG(!PAIRS)) u_m (.clk, .a(wsel), .b(x[c]), .y(p[c]));
        end
        // two summing stages: groups of 4, then the groups, each a balanced tree of adders (the group as a
        // chain of three adders, ((p0 + p1) + p2) + p3, was the ENRNN and scoRNN bench cores' routed critical
        // path on seed 1, session 19). PAIRS: the products come a cycle early (mul_pipe OUTREG 0), and the
        // multipliers' output stage sums them in pairs, so a group is one adder deep (two deep, the product
        // register -> two adders -> the group sum, was the ENRNN bench core's critical path on seed 2,
        // session 20: 10.003 ns, 6.93 ns of it routes).
        localparam int NG = (B + 3) / 4;
        localparam int NGP = 1 << $clog2(NG);  // the groups' tree: NG leaves padded to a power of two
        logic signed [PRW+M+1:0] part [NG];
        if (PAIRS) begin : g_pairs
          logic signed [PRW+M+1:0] pr [2*NG];  // pr[i] = p[2i] + p[2i + 1], at the products' latency
          always_ff @(posedge clk) begin
            for (int i = 0; i < 2 * NG; i++) begin
              logic signed [PRW+M+1:0] u, v;
              u = 2 * i < B ? (PRW + M + 2)'(p[2*i]) : '0;
              v = 2 * i + 1 < B ? (PRW + M + 2)'(p[2*i+1]) : '0;
              pr[i] <= u + v;
            end
          end
          always_ff @(posedge clk) begin
            for (int gq = 0; gq < NG; gq++) part[gq] <= pr[2*gq] + pr[2*gq+1];
          end
        end else begin : g_quads
          always_ff @(posedge clk) begin
            for (int gq = 0; gq < NG; gq++) begin
              logic signed [PRW+M+1:0] q [4];
              for (int i = 0; i < 4; i++) begin
                if (4 * gq + i < B) q[i] = (PRW + M + 2)'(p[4*gq+i]);
                else q[i] = '0;
              end
              part[gq] <= (q[0] + q[1]) + (q[2] + q[3]);
            end
          end
        end
        logic signed [PRW+M+1:0] rs_d;
        always_comb begin
          logic signed [PRW+M+1:0] t [2*NGP];  // heap order: t[n] = t[2n] + t[2n + 1], the leaves at NGP..
          for (int i = 0; i < NGP; i++) t[NGP+i] = i < NG ? part[i] : '0;
          for (int n = NGP - 1; n >= 1; n--) t[n] = t[2*n] + t[2*n+1];
          rs_d = t[1];
        end
        if (DIRECT) begin : g_rs
          logic signed [PRW+M+1:0] rs;
          always_ff @(posedge clk) rs <= rs_d;
          assign rsum[r] = rs;
        end else begin : g_rs_rows
          // without a direct path every row's term is this (dense) sum: one registered copy per row (keep),
          // as one register broadcast into the b accumulators' carry chains was the ENRNN and scoRNN bench
          // cores' routed critical path (9.87 / 9.99 ns)
          logic signed [PRW+M+1:0] rs [B];
          (* keep *) always_ff @(posedge clk) begin
            for (int rr = 0; rr < B; rr++) rs[rr] <= rs_d;
          end
          for (genvar rr = 0; rr < B; rr++) begin : g_copy
            assign rsum[rr] = rs[rr];
          end
        end
      end
      // the lane's own copies of the accumulate controls at SA (see acc_ctl), and the row of a dense term
      // one-hot (c_row): every row accumulates through its own adder, enabled by its bit (an indexed
      // acc[l][t_r] put a b:1 mux of accumulators, the adder and the row decode in one cycle)
      // Every row takes its own sum rsum[r], dense terms too: with a direct path every row's multipliers take
      // w[c] in dense mode, so each row computes the dense term itself; without one, each row has a copy of
      // row 0's (a select in front of the carry chains, by a dense flag, was the ENRNN core's routed critical
      // path, 10.58 ns; row 0's sum broadcast into every row's carry chain the next one, 9.87 ns).
      logic c_v, c_first, c_hand;
      logic [B-1:0] c_row;
      (* keep *) always_ff @(posedge clk) begin
        c_v <= acc_v(rst, t_v[SA-1]) && !fft_mode;
        c_first <= t_first[SA-1];
        c_hand <= acc_v(rst, t_v[SA-1]) && t_last[SA-1];
        for (int r = 0; r < B; r++) begin
          c_row[r] <= !dense_mode || t_r[SA-1] == M'(r);
        end
      end
      always_ff @(posedge clk) begin
        for (int r = 0; r < B; r++) begin
          logic signed [ACCW-1:0] sum, term;
          term = ACCW'(rsum[r]);
          sum = c_first ? term : acc[l][r] + term;  // the first term selected after the adder (as above)
          if (c_v && c_row[r]) acc[l][r] <= sum;
          if (c_hand) hacc[l][r] <= c_row[r] ? sum : acc[l][r];
        end
      end
    end
  end

  // ---------------------------------------------------------------- fft path: input spectra store
  if (FFT) begin : g_fftin
    logic [2*NB*WX-1:0] xs [2*QMAX];  // two halves: the issue slot's spectra and the next instruction's
    logic [15:0] xcnt_q;
    logic [2*NB*WX-1:0] xrd;
    fft_real #(.B(B), .WI(BA), .PIPE(2)) u_fft (
        .clk, .rst, .in_valid(fx_v[RL]), .in_x(fft_x), .out_valid(fwd_v), .out_re(fft_re), .out_im(fft_im)
    );
    always_ff @(posedge clk) begin
      if (go && ins.fft) xcnt_q <= '0;
      if (fwd_v) begin
        xs[{ld_bank, QW'(xcnt_q)}] <= {fft_im, fft_re};
        xcnt_q <= xcnt_q + 1;
      end
      xrd <= xs[{t_b2, t_j2}];  // read two cycles after the issue, registered: with the weights
    end
    assign xcur = xrd;
    assign xcnt = xcnt_q;
  end else begin : g_nofftin
    assign xcur = '0;
    assign fwd_v = 1'b0;
    assign fft_re = '0;
    assign fft_im = '0;
    assign xcnt = '0;
    logic unused_fft;
    assign unused_fft = ^{fwd_v, fft_re, fft_im, fft_x, fx_v, t_j2, t_b2};
  end

  // ---------------------------------------------------------------- drain
  // hand: the held copies are loaded; the drain then issues one lane (output block) per cycle
  // Back to back (accept): once an instruction's last group is handed over and its lanes selected, the
  // issue side is free and the next instruction takes it (promoted from the pending slot, or started) while
  // this one's blocks go through the requants and the IFFT. What the lane select needs is taken at each
  // instruction's first hand-over (hfirst): the row-block count, the destination, the mode and the IFFT's
  // output width (d_*); each selected block carries its own write address, last flag and width (tags) along
  // the requants and the IFFT, so two instructions' blocks may be in the drain at once (at most two: accept).
  logic [15:0] drem, dleft, drem_nx;  // row blocks not yet handed over; lanes left in this drain
  logic dbusy, d_fft;  // a drain is writing (first hand-over .. last write); the mode of the last one
  logic [1:0] dcnt;  // instructions with blocks still to write
  logic [5:0] d_bits;
  logic [15:0] d_pb;
  logic [AW-1:0] d_dst;
  // at the issue slot's first hand-over ir is that instruction (a pending one is promoted only after it)
  assign drem_nx = hfirst ? 16'(ir.pb) : drem;
  assign last_hand = drem_nx <= 16'(P);
  always_ff @(posedge clk) begin
    if (rst) begin
      dact <= 1'b0;
      ifh <= 1'b0;
      early <= 1'b0;
    end else begin
      if (load_iss) ifh <= 1'b1;
      if (hand && hfirst) ifh <= 1'b0;
      // early from the next states of idle_iss and ifh (their own registers' expressions)
      early <= early_n;
      if (hand) begin
        dact <= 1'b1;
        dleft <= drem_nx >= 16'(P) ? 16'(P) : drem_nx;
        drem <= drem_nx - 16'(P);
      end else if (dact) begin
        dleft <= dleft - 1;
        if (dleft == 1) dact <= 1'b0;
      end
    end
  end
  always_ff @(posedge clk) begin
    if (hand && hfirst) begin
      d_fft <= fft_mode;
      d_bits <= ir.bits;
      d_pb <= 16'(ir.pb);
      d_dst <= dst_q;
    end
  end
  // idle_c registered: set from the next states of ibusy and dact (the same expressions as their own
  // registers), so it equals !ibusy && !hand && !dact in every cycle (hand is high only while ibusy is: the
  // last hand-over clears ibusy a cycle later). From those registers, hand -> idle_c -> load_iss -> the issue
  // registers' select (k, last_k, iss) was the default core's routed critical path in make all (seed 1,
  // 10.0 ns, 3.2 ns of it the route from hand).
  logic ibusy_n, dact_n, idle_iss_n, ifh_n, idle_c_n, pend_n, early_n;
  assign idle_iss_n = !load_iss && (idle_iss || (issuing && last_k && last_g));
  assign ifh_n = !(hand && hfirst) && (load_iss || ifh);
  assign ibusy_n = !rst && (load_iss || (ibusy && !(hand && last_hand && (hfirst || !ifh))));
  assign dact_n = !rst && (hand || (dact && dleft != 16'd1));
  assign idle_c_n = !ibusy_n && !dact_n;
  always_ff @(posedge clk) idle_c <= idle_c_n;
  // load_iss from the next states of its inputs (pend: set by a start while busy, cleared by a load)
  assign pend_n = !rst && !load_iss && (pend || (go && busy_c));
  assign early_n = !rst && idle_iss_n && !ifh_n;
  (* keep *) always_ff @(posedge clk) load_iss <= (idle_c_n && (go_n || pend_n)) || (pend_n && early_n);
`ifndef SYNTHESIS
  always_ff @(posedge clk) begin
    if (!rst && load_iss != ((idle_c && (go || pend)) || (pend && early)))
      $error("mv_unit: load_iss differs from its definition");
    if (!rst && idle_c != (!ibusy && !hand && !dact)) $error("mv_unit: idle_c differs from its definition");
    if (!rst && early != (idle_iss && !ifh)) $error("mv_unit: early differs from its definition");
  end
`endif
  // accept: registered, low from the cycle after a start until the unit takes another instruction:
  //   idle_c: the issue slot is free (idle, or only a drain left); while an fft drain runs only another fft
  //     instruction may start (a direct/dense drain is shorter than the IFFT: their writes would cross);
  //   ahead: an fft instruction while an fft one issues (or selects its last lanes) whose input spectra are
  //     stored, the pending slot empty and no other instruction's blocks in the drain: it goes to the
  //     pending slot and its spectra are loaded now.
  logic ahead_c;
  assign ahead_c = !idle_c && fft_mode && !ld_act && (dcnt == 2'd0 || (dcnt == 2'd1 && !ifh));
  always_ff @(posedge clk) begin
    accept <= !rst && !start && !go && !pend &&
        ((idle_c && (!dbusy || !d_fft || (FFT && ins.fft))) || (ahead_c && FFT && ins.fft));
  end
  // lane select, registered
  logic sel_v;
  logic signed [ACCW-1:0] sel [B];
  logic signed [ACCW-1:0] selr [NB];
  logic signed [ACCW-1:0] seli [NB];
  // the lane being drained, one copy per selected block (keep; packed, see pwl_act): a single lane index drove
  // the lane mux of every selected bit (fan-out ~420 on the default core)
  localparam int NSEL = 2 * NB + 1;  // sel, then selr[q], seli[q]
  logic [NSEL-1:0][PW-1:0] dlc;
  // (no reset: a hand-over loads it before it is used; the reset net in its enable was a routed critical path,
  // rst -> dact -> dlc enable, 9.75 ns)
  (* keep *) always_ff @(posedge clk) begin
    for (int i = 0; i < NSEL; i++) begin
      if (hand) dlc[i] <= '0;
      else if (dact) dlc[i] <= dlc[i] + 1;
    end
  end
  // the selected block's tags: write address (d_dst + its index in the instruction), last block, IFFT width
  logic [15:0] s_idx;  // blocks of the instruction selected so far
  logic s_last;  // s_idx + 1 == d_pb
  logic [AW-1:0] sel_addr;
  logic sel_last;
  logic [5:0] sel_bits;
  always_ff @(posedge clk) begin
    if (hand && hfirst) begin
      s_idx <= '0;
      s_last <= 16'(ir.pb) == 16'd1;
    end else if (dact) begin
      s_idx <= s_idx + 1;
      s_last <= s_idx + 2 == d_pb;
    end
    sel_addr <= d_dst + AW'(s_idx);
    sel_last <= s_last;
    sel_bits <= d_bits;
  end
  always_ff @(posedge clk) begin
    sel_v <= dact && !rst;
    sel <= hacc[dlc[0]];
    for (int q = 0; q < NB; q++) begin
      selr[q] <= haccr[dlc[1+q]][q];
      seli[q] <= hacci[dlc[1+NB+q]][q];
    end
  end
  // direct / dense: requant (3 stages, PIPE 3), saturation (2, SAT 2), write register: written 7 cycles after
  // the lane select (the saturation and the write-data select in one cycle, from the requant's rounding
  // register, were the LSTM bench core's routed critical path, 10.01 ns; the saturation alone in one,
  // rounding register -> requant output register, the MomentumLSTM core's, 9.68 ns; the one-stage barrel
  // shifter, rsq -> hq, the ENRNN core's, 9.71 ns)
  logic [B*DW-1:0] mac_y;
  // Every requant takes its own registered copy of the shift and width (keep): from one shared register, yosys
  // merges the requants' identical shift-amount and mask logic into one instance driving all of their
  // registers (the pattern of ew_unit's lane copies). Two registers deep (sh_a, then sh_c beside the requant):
  // the source fans out to every requant of the unit, and one hop from it to the farthest requant was a
  // 12.2 ns route (78.56 MHz); the placer puts the middle register between them. The source (hsh, hbits) is
  // the shift and width of the group handed over two cycles later: taken from ir two cycles before an
  // instruction's first hand-over (ir is that instruction then: see the promotion), they reach the requants
  // through the copies in the cycle before its first lane (fxp_requant takes sh and bits one cycle before
  // x), after the last lane of the instruction before it (at least P cycles before: tb_mv_unit's
  // back-to-back pairs have different shifts and widths).
  logic [7:0] hsh;
  logic [5:0] hbits;
  always_ff @(posedge clk) begin
    if (t_v[SA-2] && t_last[SA-2] && t_gf[SA-2]) begin
      hsh <= ir.sh;
      hbits <= ir.bits;
    end
  end
  for (genvar r = 0; r < B; r++) begin : g_requant
    logic [7:0] sh_a, sh_c;
    logic [5:0] bits_a, bits_c;
    (* keep *) always_ff @(posedge clk) begin
      sh_a <= hsh;
      bits_a <= hbits;
    end
    (* keep *) always_ff @(posedge clk) begin
      sh_c <= sh_a;
      bits_c <= bits_a;
    end
    fxp_requant #(.IW(ACCW), .OW(DW), .SHL(SHL), .PIPE(3), .SAT(2)) u_requant (
        .clk, .x(sel[r]), .sh(sh_c), .bits(bits_c), .y(mac_y[r*DW+:DW])
    );
  end
  localparam int LD = 5;  // sel_v delayed: requant 5, then the write register (below)
  logic [LD-1:0] dv;
  logic [AW-1:0] dv_addr [LD];  // and the block's tags
  logic [LD-1:0] dv_last;
  always_ff @(posedge clk) begin
    dv <= {dv[LD-2:0], sel_v && !d_fft};
    dv_addr[0] <= sel_addr;
    for (int i = 1; i < LD; i++) dv_addr[i] <= dv_addr[i-1];
    dv_last <= {dv_last[LD-2:0], sel_last};
  end

  logic [B*DW-1:0] ifft_y;
  logic iv_w, f_last, f_next;  // IFFT: a block out; its tags; a block out next cycle
  logic [AW-1:0] f_addr;
  if (FFT) begin : g_fft
    logic [NB*WP-1:0] pr, pim;
    logic [B*BZMAX-1:0] iy;
    logic iv;
    for (genvar q = 0; q < NB; q++) begin : g_requant
      // own copies, two deep, as for g_requant above; the width's + G + M after the long hop from ir, not in
      // front of it (ir -> bits_a through that adder was the default core's routed critical path, 9.67 ns)
      logic [7:0] sh_a, sh_r, sh_i;
      logic [5:0] bits_a, bits_r, bits_i;
      (* keep *) always_ff @(posedge clk) begin
        sh_a <= hsh;
        bits_a <= hbits;
      end
      (* keep *) always_ff @(posedge clk) begin
        sh_r <= sh_a;
        bits_r <= 6'(bits_a + 6'(G + M));
      end
      (* keep *) always_ff @(posedge clk) begin
        sh_i <= sh_a;
        bits_i <= 6'(bits_a + 6'(G + M));
      end
      fxp_requant #(.IW(ACCW), .OW(WP), .SHL(SHL), .PIPE(3), .SAT(2)) u_re (
          .clk, .x(selr[q]), .sh(sh_r), .bits(bits_r), .y(pr[q*WP+:WP])
      );
      fxp_requant #(.IW(ACCW), .OW(WP), .SHL(SHL), .PIPE(3), .SAT(2)) u_im (
          .clk, .x(seli[q]), .sh(sh_i), .bits(bits_i), .y(pim[q*WP+:WP])
      );
    end
    // sel_v delayed: P' requant 5 (the shift in two stages: its one-stage barrel shifter was a routed critical
    // path, 10.02 ns; the saturated word registered in the requant, which then feeds the IFFT: the saturation
    // between the requant's rounding register and a register beside the IFFT was the ENRNN core's routed
    // critical path, 10.23 ns, 8.8 ns of it route; the saturation in two stages: in one, from the rounding
    // register to the requant's output register, it was the BiLSTM core's, 10.04 ns); and the block's tags
    localparam int LP = 5;
    logic [LP-1:0] pv;
    logic [AW-1:0] pv_addr [LP];
    logic [LP-1:0] pv_last;
    logic [5:0] pv_bits [LP];
    always_ff @(posedge clk) begin
      pv <= {pv[LP-2:0], sel_v && d_fft};
      pv_addr[0] <= sel_addr;
      pv_last[0] <= sel_last;
      pv_bits[0] <= sel_bits;
      for (int i = 1; i < LP; i++) begin
        pv_addr[i] <= pv_addr[i-1];
        pv_last[i] <= pv_last[i-1];
        pv_bits[i] <= pv_bits[i-1];
      end
    end
    // the tags along the IFFT (ifft_real PIPE 2: fft_dit 6 cycles per stage, output requant and register 3):
    // fv_*[i] belongs to the block that entered i + 1 cycles ago; the output requant takes its width two
    // cycles before the block reaches it (ifft_real: its own copy, then the requant's mask register)
    localparam int LI = 6 * M + 3;
    logic [LI-1:0] fv_v;
    logic [AW-1:0] fv_addr [LI];
    logic [LI-1:0] fv_last;
    logic [5:0] fv_bits [LI];
    always_ff @(posedge clk) begin
      if (rst) fv_v <= '0;
      else fv_v <= {fv_v[LI-2:0], pv[LP-1]};
      fv_addr[0] <= pv_addr[LP-1];
      fv_last[0] <= pv_last[LP-1];
      fv_bits[0] <= pv_bits[LP-1];
      for (int i = 1; i < LI; i++) begin
        fv_addr[i] <= fv_addr[i-1];
        fv_last[i] <= fv_last[i-1];
        fv_bits[i] <= fv_bits[i-1];
      end
    end
    ifft_real #(.B(B), .WP(WP), .G(G), .BZ(BZMAX), .PIPE(2)) u_ifft (
        .clk, .rst, .in_valid(pv[LP-1]), .out_bits(fv_bits[LI-6]), .in_re(pr), .in_im(pim), .out_valid(iv),
        .out_y(iy)
    );
    assign iv_w = iv;
    assign f_addr = fv_addr[LI-1];
    assign f_last = fv_last[LI-1];
    assign f_next = fv_v[LI-2];
    always_comb begin
      for (int r = 0; r < B; r++) ifft_y[r*DW+:DW] = DW'($signed(iy[r*BZMAX+:BZMAX]));
    end
  end else begin : g_nofft
    assign iv_w = 1'b0;
    assign ifft_y = '0;
    assign f_addr = '0;
    assign f_last = 1'b0;
    assign f_next = 1'b0;
    logic unused_sel;
    assign unused_sel = ^{selr[0], seli[0], sel_bits};
  end

  // ---------------------------------------------------------------- write: output blocks in order
  // The write port is registered here (we, waddr, wdata): each block's tags go into these registers, not
  // through the core's bank mux into the memories' write registers (that path, d_fft -> IFFT valid -> data
  // memory, set the default core's Fmax). wv: a block is written next cycle; direct/dense blocks come
  // straight from the requant's output register (write 7 cycles after the lane select), IFFT blocks one
  // cycle after the IFFT's output register. The two paths never write in the same cycle (accept).
  logic wv, wlast;
  assign wv = iv_w || dv[LD-1];
  // the write-data select's own register (keep), set a cycle ahead from the IFFT tags: a shared mode
  // register fanned out to the 144-bit select and to the drain control (a 10.3 ns detour, 71.23 MHz)
  logic d_fft_w;
  (* keep *) always_ff @(posedge clk) d_fft_w <= f_next;
  assign dbusy = dcnt != 2'd0;
  always_ff @(posedge clk) begin
    if (rst) begin
      dcnt <= '0;
      done <= 1'b0;
      we <= 1'b0;
      wlast <= 1'b0;
    end else begin
      we <= wv;
      wlast <= wv && (iv_w ? f_last : dv_last[LD-1]);
      done <= we && wlast;
      dcnt <= dcnt + ((hand && hfirst) ? 2'd1 : 2'd0) - ((we && wlast) ? 2'd1 : 2'd0);
    end
    waddr <= iv_w ? f_addr : dv_addr[LD-1];
    wdata <= d_fft_w ? ifft_y : mac_y;
  end
endmodule
