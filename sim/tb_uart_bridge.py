"""cocotb test of the ULX3S top (hw/synth/ecp5_board.py): a UART model drives ftdi_txd with the host framing
of hw/uart_protocol.py and decodes ftdi_rxd; every returned sequence must equal the expected words, the
bridge's overflow flag must stay low and the board must send nothing outside the framing.

Parameters (TB_PARAMS JSON): cpb (clocks per bit), in_w, out_w, cases (path of a JSON list of {"in": [...],
"out": [...], "mask": [...]}), results (path of the JSON written), timeout_cycles (wait for one answer; for
the whole run with back_to_back). Host-side options: junk (bytes sent before every word frame, outside the
framing: the bridge must skip them), drop ([case, byte]: that byte of that case's stream is not sent: an
injected defect), back_to_back (send every sequence without waiting for the answers: fills the bridge FIFO
while the design stalls), batch (a batch core: send the sequences in groups of `batch`, then wait for their
answers).
"""

from __future__ import annotations

import json

import cocotb
import tbutil
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge

from hw import uart_protocol

CLK_NS = 40  # the ULX3S 25 MHz oscillator (the simulated top runs the design on it directly)
POLL = 100  # cycles between looks at the received bytes


def host_stream(words, in_w: int, junk=(), drop: int | None = None) -> bytes:
    """One sequence's framing with the junk bytes before every word frame; byte `drop` left out."""
    frames = uart_protocol.encode_sequence(words, in_w)
    n = 1 + uart_protocol.nbytes(in_w)
    data = b"".join(bytes(junk) + frames[k : k + n] for k in range(0, len(frames), n))
    return data if drop is None else data[:drop] + data[drop + 1 :]


async def uart_send(dut, data: bytes, cpb: int):
    """Drive ftdi_txd (host -> FPGA), 8N1, LSB first, cpb clock cycles per bit."""
    for byte in data:
        bits = [0] + [(byte >> i) & 1 for i in range(8)] + [1]
        for b in bits:
            dut.ftdi_txd.value = b
            await ClockCycles(dut.clk_25mhz, cpb)


async def uart_receive(dut, cpb: int, sink: list, errors: list):
    """Sample ftdi_rxd (FPGA -> host) in the middle of each bit; received bytes go to sink, framing errors to
    errors."""
    while True:
        await FallingEdge(dut.ftdi_rxd)
        await ClockCycles(dut.clk_25mhz, cpb // 2)
        if int(dut.ftdi_rxd.value) != 0:
            errors.append("start bit shorter than half a bit")
            continue
        byte = 0
        for i in range(8):
            await ClockCycles(dut.clk_25mhz, cpb)
            byte |= int(dut.ftdi_rxd.value) << i
        await ClockCycles(dut.clk_25mhz, cpb)
        if int(dut.ftdi_rxd.value) != 1:
            errors.append(f"missing stop bit after byte 0x{byte:02x}")
        sink.append(byte)


async def collect(dut, dec, received: list, done: list, wanted: int, timeout_cycles: int):
    """Decode received bytes into done until it holds `wanted` sequences or timeout_cycles pass."""
    for _ in range(max(1, timeout_cycles // POLL)):
        if received:
            done += dec.feed(bytes(received))
            received.clear()
        if len(done) >= wanted:
            return
        await ClockCycles(dut.clk_25mhz, POLL)


def verdict(cases, got, out_w: int, overflow: int, dec, uart_errors: list) -> list[str]:
    """Every reason the run failed (empty when it passed)."""
    failures = []
    bad = [
        k
        for k, c in enumerate(cases)
        if k < len(got) and not uart_protocol.words_match(got[k], c["out"], out_w, c.get("mask"))
    ]
    if bad:
        failures.append(f"mismatching sequences {bad}")
    if len(got) < len(cases):
        failures.append(f"no answer to sequence {len(got)} (of {len(cases)})")
    if len(got) > len(cases):
        failures.append(f"{len(got) - len(cases)} unexpected extra sequences")
    if overflow:
        failures.append("bridge FIFO overflow (a received word was dropped)")
    if dec.dropped:
        failures.append(f"{dec.dropped} bytes from the board outside the framing")
    if dec.pending:
        failures.append(f"unfinished answer ({len(dec.pending)} words without TLAST)")
    failures += sorted(set(uart_errors))
    return failures


@cocotb.test()
async def uart_bridge_roundtrip(dut):
    p = tbutil.params()
    cpb, in_w, out_w = p["cpb"], p["in_w"], p["out_w"]
    timeout = p.get("timeout_cycles", 200000)
    junk, drop = p.get("junk", []), p.get("drop")
    with open(p["cases"]) as fh:
        cases = json.load(fh)
    streams = [
        host_stream(c["in"], in_w, junk, drop[1] if drop and drop[0] == k else None)
        for k, c in enumerate(cases)
    ]
    framing_bytes = sum(len(uart_protocol.encode_sequence(c["in"], in_w)) for c in cases)
    cocotb.start_soon(Clock(dut.clk_25mhz, CLK_NS, unit="ns").start())
    dut.ftdi_txd.value = 1
    await ClockCycles(dut.clk_25mhz, 40)  # power-on reset
    received: list[int] = []
    uart_errors: list[str] = []
    cocotb.start_soon(uart_receive(dut, cpb, received, uart_errors))
    dec = uart_protocol.Decoder(out_w)
    got: list[list[int]] = []
    if p.get("back_to_back"):
        for s in streams:
            await uart_send(dut, s, cpb)
        await collect(dut, dec, received, got, len(cases), timeout)
    else:
        batch = int(p.get("batch", 1))  # a batch core answers after the last sequence of each group
        for k in range(0, len(streams), batch):
            for s in streams[k : k + batch]:
                await uart_send(dut, s, cpb)
            want = min(k + batch, len(streams))
            await collect(dut, dec, received, got, want, timeout)
            if len(got) < want:
                break  # no answer: the design is stuck, later sequences would time out too
    await ClockCycles(dut.clk_25mhz, 12 * cpb)  # a byte's time: anything sent after the last answer shows up
    got += dec.feed(bytes(received))
    overflow = int(dut.u_bridge.overflow.value)
    failures = verdict(cases, got, out_w, overflow, dec, uart_errors)
    with open(p["results"], "w") as fh:  # the host side (scripts/deploy.py) reads the verdict and answers
        json.dump(
            {
                "got": got,
                "overflow": overflow,
                "failures": failures,
                "bytes_sent": sum(map(len, streams)),
                "junk_sent": sum(map(len, streams)) - framing_bytes + (drop is not None),
                "junk_received": dec.dropped,
            },
            fh,
        )
    assert not failures, "; ".join(failures)
    dut._log.info("%d sequences round-tripped through the UART bridge", len(got))
