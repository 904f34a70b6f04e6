// Block-circulant / dense matrix-vector unit (docs/arithmetic.md sections 3, 5 and 8).
// P lanes; lane l computes output row block i = g*P + l of row group g, all lanes share the input block.
//   direct circulant: one b x b circulant block per lane per cycle (b*b multipliers per lane);
//   dense: one row of a b x b block per lane per cycle (b multipliers);
//   fft (FFT=1, ins.fft): input-block spectra computed once per instruction (shared by all rows), (b/2+1) complex
//   MACs per lane per cycle, requant to Bz+g+m bits, one inverse FFT per output block (shared IFFT pipeline).
// Weights: one memory word holds the P lanes' words for the same address (lane l at [l*WMW +: WMW]):
//   circulant direct: w_ij[0..b-1]; fft: Re(Wf)[0..b/2], Im(Wf)[0..b/2]; dense: row r of block (i, j).
// Matrix layout (generator): circulant word g*q + j; dense word (g*q + j)*b + r; from ins.wbase.
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
    parameter string W_INIT = "",
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
    output logic [AW-1:0]       ra,
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
  if (BZMAX > DW || QMAX < 1 || WDEPTH < 2) begin : g_param_check3
    $error("mv_unit: BZMAX=%0d must fit DW; QMAX >= 1; WDEPTH >= 2", BZMAX);
  end
  import fxp_pkg::*;
  import rnn_isa_pkg::*;
  localparam int WAW = $clog2(WDEPTH);
  localparam int WX = BA + M + 1;  // spectrum component width
  localparam int WP = BZMAX + G + M;  // P' width
  localparam int ACCW = BW + (FFT ? WX : BA) + 16;
  localparam int SHL = 8;  // largest left shift of a matrix requant (program.py MV_SHL)
  localparam int PW = P > 1 ? $clog2(P) : 1;
  localparam int QW = QMAX > 1 ? $clog2(QMAX) : 1;

  typedef enum logic [2:0] {S_IDLE, S_FFT, S_MAC, S_HAND, S_TAIL} state_t;
  state_t st;
  /* verilator lint_off UNUSEDSIGNAL */
  instr_t ir;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [AW-1:0] src, dst;
  logic [15:0] kmax, k, gi, dl, issued, oc, xcnt, dgi;
  logic dbusy, dissue, hand_go;

  // ---------------------------------------------------------------- weight memory
  logic [WAW-1:0] waddr_rd;
  logic [P*WMW-1:0] wword;
  rom_sync #(.W(P * WMW), .DEPTH(WDEPTH), .INIT(W_INIT)) u_wmem (.clk, .raddr(waddr_rd), .rdata(wword));

  // ---------------------------------------------------------------- pipeline of the MAC issue
  logic p_vld, p_first, p_last;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [15:0] p_j;
  /* verilator lint_on UNUSEDSIGNAL */
  logic [M-1:0] p_r;
  logic [15:0] j_iss;
  assign j_iss = ir.dense ? (k >> M) : k;

  // ---------------------------------------------------------------- input spectra (fft)
  logic fft_in_v, fft_out_v, fwd_v;
  logic [NB*WX-1:0] fft_re, fft_im;
  logic [B*BA-1:0] fft_x;

  always_comb begin
    for (int c = 0; c < B; c++) fft_x[c*BA+:BA] = rd[c*DW+:BA];
  end

  // ---------------------------------------------------------------- accumulators
  logic signed [ACCW-1:0] acc [P][B];
  logic signed [ACCW-1:0] accr [P][NB];
  logic signed [ACCW-1:0] acci [P][NB];
  /* verilator lint_off UNUSEDSIGNAL */
  logic signed [ACCW-1:0] hacc [P][B];  // held copies drained while the next group accumulates
  logic signed [ACCW-1:0] haccr [P][NB];  // (unused without the FFT path)
  logic signed [ACCW-1:0] hacci [P][NB];
  /* verilator lint_on UNUSEDSIGNAL */
  logic iv_w;  // IFFT output valid

  // ---------------------------------------------------------------- control
  always_ff @(posedge clk) begin
    if (rst) begin
      st <= S_IDLE;
      done <= 1'b0;
      p_vld <= 1'b0;
      fft_in_v <= 1'b0;
    end else begin
      done <= 1'b0;
      p_vld <= 1'b0;
      fft_in_v <= 1'b0;
      case (st)
        S_IDLE:
        if (start) begin
          ir <= ins;
          src <= src_base;
          dst <= dst_base;
          kmax <= ins.dense ? 16'(ins.n) << M : 16'(ins.n);
          k <= '0;
          gi <= '0;
          xcnt <= '0;
          st <= (FFT && ins.fft) ? S_FFT : S_MAC;
        end
        S_FFT: begin
          if (k < 16'(ir.n)) begin
            k <= k + 1;
            fft_in_v <= 1'b1;
          end
          if (fft_out_v) begin
            xcnt <= xcnt + 1;
            if (xcnt + 1 == 16'(ir.n)) begin
              st <= S_MAC;
              k <= '0;
            end
          end
        end
        S_MAC: begin
          if (k < kmax) begin
            k <= k + 1;
            p_vld <= 1'b1;
            p_first <= ir.dense ? (k < 16'(B)) : (k == 0);
            p_last <= (k + 1 == kmax);
            p_j <= j_iss;
            p_r <= M'(k);
          end
          if (p_vld && p_last) st <= S_HAND;
        end
        S_HAND:
        // hand the finished accumulators to the drain (when it is free) and go on with the next row group
        if (!dbusy) begin
          k <= '0;
          if (gi + 1 == 16'(ir.g)) st <= S_TAIL;
          else begin
            gi <= gi + 1;
            st <= S_MAC;
          end
        end
        S_TAIL:
        if (!dbusy) begin
          st <= S_IDLE;
          done <= 1'b1;
        end
        default: st <= S_IDLE;
      endcase
    end
  end

  // ---------------------------------------------------------------- drain (overlaps the next group's MACs)
  // one output block per cycle from the held accumulators: requant and write (direct/dense), or P' requant and
  // the shared IFFT pipeline (fft); lanes beyond the last row block are skipped.
  assign hand_go = (st == S_HAND) && !dbusy;
  always_ff @(posedge clk) begin
    if (rst) begin
      dbusy <= 1'b0;
      dissue <= 1'b0;
    end else if (hand_go) begin
      dbusy <= 1'b1;
      dissue <= 1'b1;
      dl <= '0;
      issued <= '0;
      oc <= '0;
      dgi <= gi;
    end else if (dbusy) begin
      logic last_issue;
      last_issue = dissue && (dl + 1 == 16'(P) || dgi * 16'(P) + dl + 1 >= 16'(ir.pb));
      if (dissue) begin
        dl <= dl + 1;
        issued <= issued + 1;
        if (last_issue) dissue <= 1'b0;
      end
      if (iv_w) oc <= oc + 1;
      if (!(FFT && ir.fft)) begin
        if (last_issue) dbusy <= 1'b0;
      end else if (!dissue && oc + (iv_w ? 16'd1 : 16'd0) == issued) dbusy <= 1'b0;
    end
  end

  // read addresses
  always_comb begin
    ra = src + AW'(st == S_FFT ? k : j_iss);
    waddr_rd = WAW'(ir.wbase) + WAW'(gi * kmax + k);
  end

  // ---------------------------------------------------------------- lanes
  logic [B*DW-1:0] mac_y;
  logic [B*DW-1:0] ifft_y;
  logic [2*NB*WX-1:0] xcur;

  for (genvar l = 0; l < P; l++) begin : g_lane
    logic [WMW-1:0] wl;
    assign wl = wword[l*WMW+:WMW];
    always_ff @(posedge clk) begin
      if (p_vld) begin
        if (FFT && ir.fft) begin
          for (int q = 0; q < NB; q++) begin
            s64_t wr, wi, xr, xi;
            wr = 64'($signed(wl[q*BW+:BW]));
            wi = 64'($signed(wl[(NB+q)*BW+:BW]));
            xr = 64'($signed(xcur[q*WX+:WX]));
            xi = 64'($signed(xcur[(NB+q)*WX+:WX]));
            accr[l][q] <= ACCW'((p_first ? 64'sd0 : 64'(accr[l][q])) + wr * xr - wi * xi);
            acci[l][q] <= ACCW'((p_first ? 64'sd0 : 64'(acci[l][q])) + wr * xi + wi * xr);
          end
        end else if (DENSE && ir.dense) begin
          s64_t s;
          s = '0;
          for (int c = 0; c < B; c++) s += 64'($signed(wl[c*BW+:BW])) * 64'($signed(rd[c*DW+:DW]));
          acc[l][p_r] <= ACCW'((p_first ? 64'sd0 : 64'(acc[l][p_r])) + s);
        end else if (DIRECT) begin
          for (int r = 0; r < B; r++) begin
            s64_t s;
            s = '0;
            for (int c = 0; c < B; c++)
              s += 64'($signed(wl[((r - c + B) % B)*BW+:BW])) * 64'($signed(rd[c*DW+:DW]));
            acc[l][r] <= ACCW'((p_first ? 64'sd0 : 64'(acc[l][r])) + s);
          end
        end
      end
    end
    always_ff @(posedge clk) begin
      if (hand_go) begin
        hacc[l] <= acc[l];
        haccr[l] <= accr[l];
        hacci[l] <= acci[l];
      end
    end
  end
  // requant of the drained lane's accumulators (direct/dense)
  for (genvar r = 0; r < B; r++) begin : g_requant
    fxp_requant #(.IW(ACCW), .OW(DW), .SHL(SHL)) u_requant (
        .x(hacc[PW'(dl)][r]), .sh(ir.sh), .bits(ir.bits), .y(mac_y[r*DW+:DW])
    );
  end

  // ---------------------------------------------------------------- fft path
  if (FFT) begin : g_fft
    logic [2*NB*WX-1:0] xs [QMAX];
    assign xcur = ir.fft ? xs[QW'(p_j)] : '0;
    fft_real #(.B(B), .WI(BA), .PIPE(1)) u_fft (
        .clk, .rst, .in_valid(fft_in_v), .in_x(fft_x), .out_valid(fwd_v), .out_re(fft_re), .out_im(fft_im)
    );
    always_ff @(posedge clk) if (st == S_FFT && fft_out_v) xs[QW'(xcnt)] <= {fft_im, fft_re};

    logic [NB*WP-1:0] pr, pim;
    logic [B*BZMAX-1:0] iy;
    logic iv;
    for (genvar q = 0; q < NB; q++) begin : g_requant
      fxp_requant #(.IW(ACCW), .OW(WP), .SHL(SHL)) u_re (
          .x(haccr[PW'(dl)][q]), .sh(ir.sh), .bits(6'(ir.bits + 6'(G + M))), .y(pr[q*WP+:WP])
      );
      fxp_requant #(.IW(ACCW), .OW(WP), .SHL(SHL)) u_im (
          .x(hacci[PW'(dl)][q]), .sh(ir.sh), .bits(6'(ir.bits + 6'(G + M))), .y(pim[q*WP+:WP])
      );
    end
    ifft_real #(.B(B), .WP(WP), .G(G), .BZ(BZMAX), .PIPE(1)) u_ifft (
        .clk, .rst, .in_valid(dbusy && dissue && ir.fft), .out_bits(ir.bits), .in_re(pr), .in_im(pim),
        .out_valid(iv), .out_y(iy)
    );
    assign fft_out_v = fwd_v;
    assign iv_w = iv;
    always_comb begin
      for (int r = 0; r < B; r++) ifft_y[r*DW+:DW] = DW'($signed(iy[r*BZMAX+:BZMAX]));
    end
  end else begin : g_nofft
    assign fft_out_v = 1'b0;
    assign iv_w = 1'b0;
    assign xcur = '0;
    assign fwd_v = 1'b0;
    logic unused_fft;
    assign unused_fft = ^{fft_in_v, fwd_v, fft_re, fft_im, fft_x};
    assign fft_re = '0;
    assign fft_im = '0;
    assign ifft_y = '0;
  end

  always_comb begin
    if (FFT && ir.fft) begin
      we = dbusy && iv_w;
      waddr = dst + AW'(dgi * 16'(P) + oc);
      wdata = ifft_y;
    end else begin
      we = dbusy && dissue;
      waddr = dst + AW'(dgi * 16'(P) + dl);
      wdata = mac_y;
    end
  end
endmodule
