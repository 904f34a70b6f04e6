"""`make deploy BOARD=ulx3s`: program the ECP5 bitstream and check the board's answers over the UART.

1. Program build/NAME/synth/NAME.bit with openFPGALoader (`-b ulx3s`) when it is installed.
2. Stream the test vectors (build/NAME/compress/vectors.npz) with the framing of hw/uart_protocol.py through a
   serial port (pyserial, --port, 115200 baud) and compare every answer with the integer reference.
Without openFPGALoader or without a serial port, the same host protocol is exercised against a Verilator
simulation of the board top as the bitstream has it (UART model in sim/tb_uart_bridge.py) and the result says
so. Exit code 1 when openFPGALoader is installed but fails (one line), and on any wrong or missing answer or
testbench failure; 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import subprocess
import time
from pathlib import Path

from configs.schema import ConfigError, build_dir, load_config, run_cli
from configs.util import write_json
from hw import cycles, uart_protocol
from hw.synth import ecp5_board
from hw.synth.design import Design, discover_ports, load_design
from hw.synth.tools import ToolError

log = logging.getLogger("deploy")
BOARDS = {"ulx3s": ["-b", "ulx3s"]}
PROGRAM_TIMEOUT_S = 300


def simulate_uart(
    design: Design,
    cases: list[dict],
    work: Path,
    clock_mhz: float = ecp5_board.BOARD_CLOCK_MHZ,
    clks_per_bit: int | None = None,
    fifo_depth: int = 1024,
    host: dict | None = None,
) -> dict:
    """The board top (bridge + design), written as the bitstream's (ecp5_board.write_top: same UART divisor,
    FIFO depth and reset polarity unless overridden), in Verilator; cases [{"in": words, "out": words}] must
    round-trip. host: the testbench's host-side options (junk, drop, back_to_back; see sim/tb_uart_bridge.py).
    The result's "passed" is the testbench's verdict: every answer right, no overflow, nothing outside the
    framing; "error" says why not."""
    from sim import runner  # Verilator/cocotb only when simulating

    work = Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    if not design.ports:
        discover_ports(design, work)
    board = ecp5_board.write_top(design, work, clock_mhz, clks_per_bit=clks_per_bit, fifo_depth=fifo_depth)
    cpb = board["clks_per_bit"]
    sources = [*design.files, *(Path(f) for f in board["files"])]
    test_dir = work / "run"
    test_dir.mkdir(exist_ok=True)
    for mem in design.mem_files:  # $readmemh paths are relative to the simulation's working folder
        shutil.copy(mem, test_dir / mem.name)
    cases_file = work / "cases.json"
    cases_file.write_text(json.dumps(cases))
    in_w, out_w = design.stream_width("s_axis_tdata"), design.stream_width("m_axis_tdata")
    params = {"cpb": cpb, "in_w": in_w, "out_w": out_w, "cases": str(cases_file), **(host or {})}
    params["timeout_cycles"] = timeout_cycles(cases, in_w, out_w, cpb, len(params.get("junk", [])))
    results = work / "results.json"
    results.unlink(missing_ok=True)
    params["results"] = str(results)
    t0 = time.time()
    info = runner.run(
        sources,
        "ecp5_top",
        "tb_uart_bridge",
        env={"TB_PARAMS": json.dumps(params)},
        test_dir=test_dir,
        check=False,
    )
    tb = json.loads(results.read_text()) if results.exists() else {}
    got = list(tb.get("got", []))[: len(cases)]
    got += [None] * (len(cases) - len(got))
    details = [
        {"sequence": k, "got": g, "expected": c["out"]}
        for k, (g, c) in enumerate(zip(got, cases, strict=True))
        if not uart_protocol.words_match(g, c["out"], out_w, c.get("mask"))
    ]
    failures = list(tb.get("failures", ["the testbench wrote no results"]))
    if not info["passed"] and not failures:
        failures.append(f"cocotb test failed (see {info['test_dir']})")
    return {
        "mode": "simulation (Verilator, UART model)",
        "passed": info["passed"] and not failures and not details,
        "sequences": len(cases),
        "mismatches": len(details),
        "details": details,
        "answers": got,
        "error": "; ".join(failures) or None,
        "overflow": bool(tb.get("overflow", 0)),
        "junk_sent": tb.get("junk_sent", 0),
        "junk_skipped_by_host": tb.get("junk_received", 0),
        "seconds": round(time.time() - t0, 1),
        "clock_mhz": board["clock_mhz"],
        "clks_per_bit": cpb,
        "fifo_depth": board["fifo_depth"],
        "reset": board["reset"],
        "work": str(work),
    }


def timeout_cycles(cases: list[dict], in_w: int, out_w: int, cpb: int, junk: int = 0) -> int:
    """Generous bound on the cycles to wait for the answers: every byte of every case, both directions, twice,
    plus 200,000 cycles of computing. Reached only when an answer is missing."""
    per_in, per_out = junk + 1 + uart_protocol.nbytes(in_w), 1 + uart_protocol.nbytes(out_w)
    n_bytes = sum(len(c["in"]) * per_in + len(c["out"]) * per_out for c in cases)
    return 200000 + 20 * cpb * n_bytes


class ProgramError(Exception):
    """openFPGALoader is installed but did not program the board (one-line message)."""


def program(board: str, bitfile: Path) -> str:
    """Program the board with openFPGALoader: "programmed", or "skipped: ..." when the tool is not installed;
    ProgramError when it is installed and fails."""
    exe = shutil.which("openFPGALoader")
    if exe is None:
        return "skipped: openFPGALoader not installed (apt install openfpgaloader, or see its README)"
    if not bitfile.exists():
        raise ConfigError(f"{bitfile}: bitstream missing (run `make synth` first)")
    cmd = [exe, *BOARDS[board], str(bitfile)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=PROGRAM_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise ProgramError(f"{' '.join(cmd)}: no answer after {PROGRAM_TIMEOUT_S} s") from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise ProgramError(f"{' '.join(cmd)}: exit code {proc.returncode}: {tail[0]}")
    return "programmed"


def run_serial(
    port: str, cases: list[dict], in_w: int, out_w: int, baud: int, timeout_s: float = 10.0, batch: int = 1
) -> dict:
    """Stream each case over a serial port and compare the answer (pyserial); a batch core takes `batch`
    sequences before it answers (cases: whole groups in the order hw.cycles.batch_groups sends them)."""
    import serial

    mismatches = []
    with serial.Serial(port, baud, timeout=0.1) as ser:
        ser.reset_input_buffer()
        for k0 in range(0, len(cases), batch):  # a batch core answers after the last sequence of a group
            group = cases[k0 : k0 + batch]
            dec = uart_protocol.Decoder(out_w)
            for case in group:
                ser.write(uart_protocol.encode_sequence(case["in"], in_w))
            t_end, answers = time.time() + timeout_s, []
            while len(answers) < len(group) and time.time() < t_end:
                answers += dec.feed(ser.read(256))
            answers += [None] * (len(group) - len(answers))
            for k, (case, got) in enumerate(zip(group, answers, strict=False), start=k0):
                if not uart_protocol.words_match(got, case["out"], out_w, case.get("mask")):
                    mismatches.append({"sequence": case.get("index", k), "got": got, "expected": case["out"]})
    return {
        "mode": f"board on {port}",
        "passed": not mismatches,
        "sequences": len(cases),
        "mismatches": len(mismatches),
        "details": mismatches,
    }


def vector_cases(cfg: dict, rtl: dict) -> list[dict]:
    """The compress test vectors as UART cases: input beats (ceil(F/B) per valid step, B lanes of BA bits) and
    the expected output beats (ceil(O/B) per output vector, B lanes of BO bits; padding lanes masked out), the
    stream format of docs/rtl.md."""
    import numpy as np

    path = build_dir(cfg, "compress") / "vectors.npz"
    if not path.exists():
        raise ConfigError(f"{path}: missing (run `make compress` first)")
    vec = np.load(path)
    p = rtl["params"]
    B, BA, BO = p["B"], p["BA"], p["BO"]
    in_words, out_words = rtl["in_beats_per_step"], rtl["out_beats_per_vector"]
    x, lengths, y = vec["x_int"], vec["lengths"], vec["y"]
    per_step = y.ndim == 3
    O = y.shape[-1]
    lane_mask = [((1 << BO) - 1) if i < O else 0 for i in range(out_words * B)]
    cases = []
    for n in range(len(lengths)):
        L = int(lengths[n])
        words = []
        for t in range(L):
            v = np.zeros(in_words * B, dtype=np.int64)
            v[: x.shape[2]] = x[n, t]
            words += [uart_protocol.pack_lanes(v[w * B : (w + 1) * B], BA) for w in range(in_words)]
        outs, masks = [], []
        for yv in y[n][:L] if per_step else y[n][None, :]:
            v = np.zeros(out_words * B, dtype=np.int64)
            v[:O] = yv
            for w in range(out_words):
                outs.append(uart_protocol.pack_lanes(v[w * B : (w + 1) * B], BO))
                m = lane_mask[w * B : (w + 1) * B]
                masks.append(sum(mk << (i * BO) for i, mk in enumerate(m)))
        cases.append({"in": words, "out": outs, "mask": masks, "steps": L, "index": n})
    return cases


def bitstream_clock(cfg: dict) -> float:
    """The clock the bitstream was built for (synth.json: timing closure may have lowered it), else the
    configured hardware.ecp5_clock_mhz."""
    path = build_dir(cfg, "synth") / "synth.json"
    if path.is_file():
        board = json.loads(path.read_text()).get("board") or {}
        if board.get("clock_mhz"):
            return float(board["clock_mhz"])
    return cfg["hardware"]["ecp5_clock_mhz"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scripts.deploy", description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--board", default="ulx3s", help=f"one of {sorted(BOARDS)}")
    ap.add_argument("--port", default=None, help="serial port of the board (e.g. /dev/ttyUSB0)")
    ap.add_argument("--sim", action="store_true", help="only the simulation, even if a board is present")
    ap.add_argument("--max-vectors", type=int, default=4, help="sequences to stream")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    if args.board not in BOARDS:
        raise ConfigError(f"--board: must be one of {sorted(BOARDS)} (got {args.board!r})")
    if args.max_vectors < 1:  # zero sequences would pass without checking anything
        raise ConfigError(f"--max-vectors: must be at least 1 (got {args.max_vectors})")
    cfg = load_config(args.config)
    out = build_dir(cfg, "deploy")
    design = load_design(build_dir(cfg, "rtl"))
    rtl = json.loads((build_dir(cfg, "rtl") / "rtl.json").read_text())
    cases = vector_cases(cfg, rtl)[: args.max_vectors]
    batch = int(rtl.get("batch", 1))
    # a batch core takes whole groups: sequences of similar length together, an odd last one repeated
    cases = [cases[i] for g in cycles.batch_groups([c["steps"] for c in cases], batch) for i in g]
    result = {"board": args.board}
    if args.sim:
        status = "skipped: --sim"
    else:
        try:
            status = program(args.board, build_dir(cfg, "synth") / f"{cfg['name']}.bit")
        except ProgramError as exc:
            log.error("programming failed: %s", exc)
            return 1
    result["program"] = status
    log.info("program: %s", status)
    if status == "programmed" and args.port:
        discover_ports(design, out)
        result["run"] = run_serial(
            args.port,
            cases,
            design.stream_width("s_axis_tdata"),
            design.stream_width("m_axis_tdata"),
            ecp5_board.BAUD,
            batch=batch,
        )
    else:
        if args.port:
            log.warning("--port %s not used: the board was not programmed (%s)", args.port, status)
        elif status == "programmed":
            log.warning("no --port given: checking the protocol in simulation instead")
        clock = bitstream_clock(cfg)  # the bitstream's top: same clock, divisor, FIFO, reset
        result["run"] = simulate_uart(design, cases, out / "uart_sim", clock_mhz=clock, host={"batch": batch})
    write_json(out / "deploy.json", result)
    r = result["run"]
    line = f"deploy ({r['mode']}): {r['sequences']} sequences, {r['mismatches']} mismatches"
    print(f"{line}; program: {status}" + (f"; FAILED: {r['error']}" if r.get("error") else ""))
    return 0 if r["passed"] else 1


def _main(argv: list[str] | None = None) -> int:
    try:
        return main(argv)
    except ToolError as exc:
        raise ConfigError(str(exc)) from None


if __name__ == "__main__":
    run_cli(_main)
