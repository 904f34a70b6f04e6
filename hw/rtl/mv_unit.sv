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
//   is written (spectra are produced and consumed in order, one per cycle).  hw/cycles.py counts the same.
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
  logic iss, fft_go;
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
  logic fk_lt;  // fk < ir.n
  logic last_wr;  // nwr + 1 == ir.pb
  logic [15:0] lanes_g, rem;  // row blocks of group gi; row blocks from group gi on (registers)
  logic issuing;
  assign issuing = iss && gap_z;

  // ---------------------------------------------------------------- weight memory
  logic [P*WMW-1:0] wword;
  logic [WAW-1:0] wa_q;  // registered weight address (data at RL + 1 after the issue, with the input block)
  always_ff @(posedge clk) wa_q <= wa;
  rom_sync #(.W(P * WMW), .DEPTH(WDEPTH), .INIT(W_INIT), .OREG(1)) u_wmem (.clk, .raddr(wa_q), .rdata(wword));

  // ---------------------------------------------------------------- term pipeline: valid / first / last / row
  logic [SA:0] t_v, t_first, t_last;
  logic [M-1:0] t_r [SA];  // the row of a dense term (lanes decode t_r[SA-1])
  logic [QW-1:0] t_j1, t_j2;  // spectrum index, one and two cycles after the issue
  always_ff @(posedge clk) begin
    if (rst) begin
      t_v <= '0;
    end else begin
      t_v <= {t_v[SA-1:0], issuing};
    end
    t_first <= {t_first[SA-1:0], dense_mode ? (k < 16'(B)) : (k == 0)};
    t_last <= {t_last[SA-1:0], last_k};
    t_r[0] <= M'(k);
    for (int i = 1; i < SA; i++) t_r[i] <= t_r[i-1];
    t_j1 <= QW'(j_iss);
    t_j2 <= t_j1;
  end
  // t_*[i] is high i + 1 cycles after the issue: data, weights and the spectrum arrive at t_*[RL] (the read
  // addresses are registered), the products at RL + 3, the sums at RL + 5 = SA, where the accumulators take
  // them.

  // ---------------------------------------------------------------- control
  // start is registered (go): the controller's start decision fans out to the unit's instruction and control
  // registers from a flip-flop of its own (ins, src_base and dst_base are held by the controller meanwhile)
  logic go;
  always_ff @(posedge clk) go <= start && !rst;
  logic hand;  // the accumulators hold a finished group this cycle
  logic last_hand;  // ... and it is the instruction's last group
  logic [15:0] nwr;  // output blocks written
  always_ff @(posedge clk) begin
    if (rst) begin
      ibusy <= 1'b0;
      iss <= 1'b0;
      fft_go <= 1'b0;
    end else begin
      if (go) begin
        ir <= ins;
        src <= src_base;
        fft_mode <= FFT && ins.fft;
        dense_mode <= DENSE && ins.dense;
        kmax <= ins.dense ? 16'(ins.n) << M : 16'(ins.n);
        last_k <= (ins.dense ? 16'(ins.n) << M : 16'(ins.n)) == 16'd1;
        k <= '0;
        gi <= '0;
        last_g <= 16'(ins.g) == 16'd1;
        gap <= '0;
        gap_z <= 1'b1;
        fk <= '0;
        fk_lt <= 16'(ins.n) != 16'd0;
        wa <= WAW'(ins.wbase);
        rem <= 16'(ins.pb);
        lanes_g <= 16'(ins.pb) >= 16'(P) ? 16'(P) : 16'(ins.pb);
        ibusy <= 1'b1;
        fft_go <= FFT && ins.fft;
        iss <= !(FFT && ins.fft);
      end else if (ibusy) begin
        if (fft_go) begin  // input spectra: issue the n blocks, start the MACs once the first is stored
          if (fk_lt) begin
            fk <= fk + 1;
            fk_lt <= fk + 1 < 16'(ir.n);
          end
          if (xcnt == 16'd1 && !iss && gi == 0 && k == 0) iss <= 1'b1;
        end
        if (!gap_z) begin
          gap <= gap - 1;
          gap_z <= gap == 16'd1;
        end else if (iss) begin
          wa <= wa + 1;
          if (last_k) begin
            k <= '0;
            last_k <= kmax == 16'd1;
            // the drain takes lanes_g cycles: a group shorter than that waits
            gap <= lanes_g > kmax ? lanes_g - kmax : '0;
            gap_z <= !(lanes_g > kmax);
            if (last_g) iss <= 1'b0;
            gi <= gi + 1;
            last_g <= gi + 2 == 16'(ir.g);
            rem <= rem - 16'(P);
            lanes_g <= rem - 16'(P) >= 16'(P) ? 16'(P) : rem - 16'(P);
          end else begin
            k <= k + 1;
            last_k <= k + 2 == kmax;
          end
        end
        if (hand && last_hand) begin  // every term has reached the accumulators: only the drain is left
          ibusy <= 1'b0;
          fft_go <= 1'b0;
        end
      end
    end
  end

  // ---------------------------------------------------------------- input spectra (fft)
  logic fwd_v;
  logic [NB*WX-1:0] fft_re, fft_im;
  logic [B*BA-1:0] fft_x;
  logic [RL:0] fx_v;  // fft input issued RL + 1 cycles ago (its data arrives now)
  always_ff @(posedge clk) begin
    if (rst) fx_v <= '0;
    else fx_v <= {fx_v[RL-1:0], fft_go && fk_lt};
  end
  // registered read address; idle: the controller's (OUT), so the data memory's copy 3 takes its address
  // straight from this register (a select after it, by mv_busy, drove 16 block RAMs from one LUT); NRS copies
  // (keep: one block each, or yosys merges them), each driving the block RAMs of one read slice
  for (genvar s = 0; s < NRS; s++) begin : g_ra
    (* keep *) always_ff @(posedge clk) ra[s] <= ibusy ? src + AW'(fft_go && fk_lt ? fk : j_iss) : idle_ra;
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
  assign hand = t_v[SA] && t_last[SA];
  // acc_ctl: every accumulator group (a lane in direct/dense mode, a lane's bin in fft mode) takes its own
  // registered copies (keep) of t_v[SA] with the mode, t_first[SA] and hand, from stage SA - 1: from the
  // shared ones, each of these drove every accumulator's enable or clear (fan-out ~830 on the default core)
  // across the unit.  fft_mode is constant while terms are in flight (loaded at go, when none are).
  function automatic logic acc_v(input logic r, input logic v_prev);  // t_v[SA] of the next cycle
    return !r && v_prev;
  endfunction

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
          if (c_v) begin
            accr[l][q] <= (c_first ? '0 : accr[l][q]) + ACCW'(sr2);
            acci[l][q] <= (c_first ? '0 : acci[l][q]) + ACCW'(si2);
          end
          if (c_hand) begin
            haccr[l][q] <= (c_first ? '0 : accr[l][q]) + ACCW'(sr2);
            hacci[l][q] <= (c_first ? '0 : acci[l][q]) + ACCW'(si2);
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
      logic signed [PRW+M+1:0] rsum [B];  // the term of each row (direct) / of row t_r (dense: rsum[0])
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
          mul_pipe #(.AW(BW), .BW(BA)) u_m (.clk, .a(wsel), .b(x[c]), .y(p[c]));
        end
        // two summing stages: groups of 4, then the groups
        localparam int NG = (B + 3) / 4;
        logic signed [PRW+M+1:0] part [NG];
        always_ff @(posedge clk) begin
          for (int gq = 0; gq < NG; gq++) begin
            logic signed [PRW+M+1:0] s;
            s = '0;
            for (int c = 4 * gq; c < 4 * gq + 4 && c < B; c++) s += (PRW + M + 2)'(p[c]);
            part[gq] <= s;
          end
        end
        logic signed [PRW+M+1:0] rs;
        always_ff @(posedge clk) begin
          logic signed [PRW+M+1:0] s;
          s = '0;
          for (int gq = 0; gq < NG; gq++) s += part[gq];
          rs <= s;
        end
        assign rsum[r] = rs;
      end
      for (genvar r = DIRECT ? B : 1; r < B; r++) begin : g_norow
        assign rsum[r] = '0;
      end
      // the lane's own copies of the accumulate controls at SA (see acc_ctl), and the row of a dense term
      // one-hot (c_row): every row accumulates through its own adder, enabled by its bit (an indexed
      // acc[l][t_r] put a b:1 mux of accumulators, the adder and the row decode in one cycle)
      logic c_v, c_first, c_hand, c_dense;
      logic [B-1:0] c_row;
      (* keep *) always_ff @(posedge clk) begin
        c_v <= acc_v(rst, t_v[SA-1]) && !fft_mode;
        c_first <= t_first[SA-1];
        c_hand <= acc_v(rst, t_v[SA-1]) && t_last[SA-1];
        c_dense <= dense_mode;
        for (int r = 0; r < B; r++) c_row[r] <= !dense_mode || t_r[SA-1] == M'(r);
      end
      always_ff @(posedge clk) begin
        for (int r = 0; r < B; r++) begin
          logic signed [ACCW-1:0] sum;
          sum = (c_first ? '0 : acc[l][r]) + ACCW'(c_dense ? rsum[0] : rsum[r]);
          if (c_v && c_row[r]) acc[l][r] <= sum;
          if (c_hand) hacc[l][r] <= c_row[r] ? sum : acc[l][r];
        end
      end
    end
  end

  // ---------------------------------------------------------------- fft path: input spectra store
  if (FFT) begin : g_fftin
    logic [2*NB*WX-1:0] xs [QMAX];
    logic [15:0] xcnt_q;
    logic [2*NB*WX-1:0] xrd;
    fft_real #(.B(B), .WI(BA), .PIPE(2)) u_fft (
        .clk, .rst, .in_valid(fx_v[RL]), .in_x(fft_x), .out_valid(fwd_v), .out_re(fft_re), .out_im(fft_im)
    );
    always_ff @(posedge clk) begin
      if (go) xcnt_q <= '0;
      if (fwd_v) begin
        xs[QW'(xcnt_q)] <= {fft_im, fft_re};
        xcnt_q <= xcnt_q + 1;
      end
      xrd <= xs[t_j2];  // read two cycles after the issue, registered: with the weights
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
    assign unused_fft = ^{fwd_v, fft_re, fft_im, fft_x, fx_v, t_j2};
  end

  // ---------------------------------------------------------------- drain
  // hand: the held copies are loaded; the drain then issues one lane (output block) per cycle
  // Back to back (accept): once an instruction's last group is handed over and its lanes selected, the
  // issue side is free and the next instruction may start (its input spectra and first terms) while this one's
  // blocks go through the requants and the IFFT. What the drain needs is taken at each instruction's first
  // hand-over (fh), when the previous instruction's last block has been written: the row-block count, the
  // destination, the mode and the IFFT's output width (d_*).
  logic dact;
  logic [15:0] drem, dleft, drem_nx;  // row blocks not yet handed over; lanes left in this drain
  logic fh;  // the next hand-over is the instruction's first
  logic dbusy, d_fft;  // a drain is writing (first hand-over .. last write); its mode
  logic [5:0] d_bits;
  logic [15:0] d_pb;
  logic [AW-1:0] d_dst;
  assign drem_nx = fh ? 16'(ir.pb) : drem;
  assign last_hand = drem_nx <= 16'(P);
  always_ff @(posedge clk) begin
    if (rst) begin
      dact <= 1'b0;
      fh <= 1'b0;
    end else begin
      if (go) fh <= 1'b1;
      if (hand) begin
        dact <= 1'b1;
        fh <= 1'b0;
        dleft <= drem_nx >= 16'(P) ? 16'(P) : drem_nx;
        drem <= drem_nx - 16'(P);
      end else if (dact) begin
        dleft <= dleft - 1;
        if (dleft == 1) dact <= 1'b0;
      end
    end
  end
  // the write-data select's own copy of the mode (keep): d_fft fans out to the 144-bit select and to the
  // drain control, and its route was a 10.3 ns detour (71.23 MHz)
  logic d_fft_w;
  (* keep *) always_ff @(posedge clk) if (hand && fh) d_fft_w <= fft_mode;
  always_ff @(posedge clk) begin
    if (hand && fh) begin
      d_fft <= fft_mode;
      d_bits <= ir.bits;
      d_pb <= 16'(ir.pb);
      d_dst <= dst_q;
    end
  end
  // accept: registered, low from the cycle after a start until the unit is idle again or only a drain is left;
  // while an fft drain runs only another fft instruction may start (a direct/dense drain is shorter than its
  // IFFT: their writes would cross)
  always_ff @(posedge clk) begin
    accept <= !rst && !start && !go && !ibusy && !hand && !dact && (!dbusy || !d_fft || (FFT && ins.fft));
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
  (* keep *) always_ff @(posedge clk) begin
    for (int i = 0; i < NSEL; i++) begin
      if (!rst) begin
        if (hand) dlc[i] <= '0;
        else if (dact) dlc[i] <= dlc[i] + 1;
      end
    end
  end
  always_ff @(posedge clk) begin
    sel_v <= dact && !rst;
    sel <= hacc[dlc[0]];
    for (int q = 0; q < NB; q++) begin
      selr[q] <= haccr[dlc[1+q]][q];
      seli[q] <= hacci[dlc[1+NB+q]][q];
    end
  end
  // direct / dense: requant (2 stages), saturate, registered (write 4 cycles after the lane select)
  logic [B*DW-1:0] mac_y;
  // Every requant takes its own registered copy of ir.sh and ir.bits (keep): from the shared ir, yosys merges
  // the requants' identical shift-amount and mask logic into one instance driving all of their registers (the
  // pattern of ew_unit's lane copies).  ir is constant through an instruction and the first lane select comes
  // many cycles after it is loaded, so the copies' delay is never seen. Two registers deep (sh_a, then sh_c
  // beside the requant): ir fans out to every requant of the unit, and one hop from ir to the farthest requant
  // was a 12.2 ns route (78.56 MHz); the placer puts the middle register between them. A copy changes two
  // cycles after ir is loaded: after the previous MV's last lane has left the requant when MVs run back to
  // back (tb_mv_unit's back-to-back pairs have different shifts and widths).
  for (genvar r = 0; r < B; r++) begin : g_requant
    logic [7:0] sh_a, sh_c;
    logic [5:0] bits_a, bits_c;
    (* keep *) always_ff @(posedge clk) begin
      sh_a <= ir.sh;
      bits_a <= ir.bits;
    end
    (* keep *) always_ff @(posedge clk) begin
      sh_c <= sh_a;
      bits_c <= bits_a;
    end
    fxp_requant #(.IW(ACCW), .OW(DW), .SHL(SHL), .PIPE(2)) u_requant (
        .clk, .x(sel[r]), .sh(sh_c), .bits(bits_c), .y(mac_y[r*DW+:DW])
    );
  end
  logic [1:0] dv;  // sel_v delayed: requant 2, then the write register (below)
  always_ff @(posedge clk) dv <= {dv[0], sel_v && !d_fft};

  logic [B*DW-1:0] ifft_y;
  logic iv_w;
  if (FFT) begin : g_fft
    logic [NB*WP-1:0] pr, pim, prq, pimq;
    logic [B*BZMAX-1:0] iy;
    logic iv;
    for (genvar q = 0; q < NB; q++) begin : g_requant
      logic [7:0] sh_a, sh_r, sh_i;  // own copies, two deep, as for g_requant above
      logic [5:0] bits_a, bits_r, bits_i;
      (* keep *) always_ff @(posedge clk) begin
        sh_a <= ir.sh;
        bits_a <= 6'(ir.bits + 6'(G + M));
      end
      (* keep *) always_ff @(posedge clk) begin
        sh_r <= sh_a;
        bits_r <= bits_a;
      end
      (* keep *) always_ff @(posedge clk) begin
        sh_i <= sh_a;
        bits_i <= bits_a;
      end
      fxp_requant #(.IW(ACCW), .OW(WP), .SHL(SHL), .PIPE(2)) u_re (
          .clk, .x(selr[q]), .sh(sh_r), .bits(bits_r), .y(pr[q*WP+:WP])
      );
      fxp_requant #(.IW(ACCW), .OW(WP), .SHL(SHL), .PIPE(2)) u_im (
          .clk, .x(seli[q]), .sh(sh_i), .bits(bits_i), .y(pim[q*WP+:WP])
      );
    end
    logic [2:0] pv;
    always_ff @(posedge clk) begin
      pv <= {pv[1:0], sel_v && d_fft};
      prq <= pr;
      pimq <= pim;
    end
    ifft_real #(.B(B), .WP(WP), .G(G), .BZ(BZMAX), .PIPE(2)) u_ifft (
        .clk, .rst, .in_valid(pv[2]), .out_bits(d_bits), .in_re(prq), .in_im(pimq), .out_valid(iv), .out_y(iy)
    );
    assign iv_w = iv;
    always_comb begin
      for (int r = 0; r < B; r++) ifft_y[r*DW+:DW] = DW'($signed(iy[r*BZMAX+:BZMAX]));
    end
  end else begin : g_nofft
    assign iv_w = 1'b0;
    assign ifft_y = '0;
    logic unused_sel;
    assign unused_sel = ^{selr[0], seli[0], d_bits};
  end

  // ---------------------------------------------------------------- write: output blocks in order
  // The write port is registered here (we, waddr, wdata): the drain's mode select (d_fft) and the write count
  // go into these registers, not through the core's bank mux into the memories' write registers (that path,
  // d_fft -> IFFT valid -> data memory, set the default core's Fmax). wv: a block is written next cycle;
  // direct/dense blocks come straight from the requant's output register (write 4 cycles after the lane
  // select, as before), IFFT blocks one cycle after the IFFT's output register.
  logic wv, wlast;
  assign wv = dbusy && (d_fft ? iv_w : dv[1]);
  always_ff @(posedge clk) begin
    if (rst) begin
      dbusy <= 1'b0;
      done <= 1'b0;
      we <= 1'b0;
      wlast <= 1'b0;
    end else begin
      we <= wv;
      wlast <= wv && last_wr;
      done <= we && wlast;
      if (we && wlast) dbusy <= 1'b0;  // at the last write (accept after an fft drain: as the model)
      if (hand && fh) dbusy <= 1'b1;
    end
    waddr <= d_dst + AW'(nwr);
    wdata <= d_fft_w ? ifft_y : mac_y;
    if (hand && fh) begin
      nwr <= '0;
      last_wr <= 16'(ir.pb) == 16'd1;
    end else if (wv) begin
      nwr <= nwr + 1;
      last_wr <= nwr + 2 == d_pb;
    end
  end
  always_ff @(posedge clk) if (go) dst_q <= dst_base;
endmodule
