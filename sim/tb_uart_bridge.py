"""cocotb test of the ULX3S top (hw/synth/ecp5_board.py): a UART model drives ftdi_txd with the host framing
of hw/uart_protocol.py and decodes ftdi_rxd; every returned sequence must equal the expected words.

Parameters (TB_PARAMS JSON): cpb (clocks per bit), in_w, out_w, cases (path of a JSON list of {"in": [...],
"out": [...]}), results (path of the JSON written), timeout_cycles (per sequence).
"""

from __future__ import annotations

import json

import cocotb
import tbutil
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, Timer

from hw import uart_protocol


async def uart_send(dut, data: bytes, cpb: int):
    """Drive ftdi_txd (host -> FPGA), 8N1, LSB first, cpb clock cycles per bit."""
    for byte in data:
        bits = [0] + [(byte >> i) & 1 for i in range(8)] + [1]
        for b in bits:
            dut.ftdi_txd.value = b
            await ClockCycles(dut.clk_25mhz, cpb)


async def uart_receive(dut, cpb: int, sink: list):
    """Sample ftdi_rxd (FPGA -> host) in the middle of each bit; append received bytes to sink."""
    while True:
        await FallingEdge(dut.ftdi_rxd)
        await ClockCycles(dut.clk_25mhz, cpb // 2)
        if int(dut.ftdi_rxd.value) != 0:
            continue  # glitch, not a start bit
        byte = 0
        for i in range(8):
            await ClockCycles(dut.clk_25mhz, cpb)
            byte |= int(dut.ftdi_rxd.value) << i
        await ClockCycles(dut.clk_25mhz, cpb)
        assert int(dut.ftdi_rxd.value) == 1, "missing stop bit"
        sink.append(byte)


@cocotb.test()
async def uart_bridge_roundtrip(dut):
    p = tbutil.params()
    cpb, in_w, out_w = p["cpb"], p["in_w"], p["out_w"]
    with open(p["cases"]) as fh:
        cases = json.load(fh)
    cocotb.start_soon(Clock(dut.clk_25mhz, 10, unit="ns").start())
    dut.ftdi_txd.value = 1
    await ClockCycles(dut.clk_25mhz, 40)  # power-on reset
    received: list[int] = []
    cocotb.start_soon(uart_receive(dut, cpb, received))
    dec = uart_protocol.Decoder(out_w)
    results = []
    for case in cases:
        await uart_send(dut, uart_protocol.encode_sequence(case["in"], in_w), cpb)
        got = None
        for _ in range(p.get("timeout_cycles", 200000) // 100):
            if received:
                done = dec.feed(bytes(received))
                received.clear()
                if done:
                    got = done[0]
                    break
            await ClockCycles(dut.clk_25mhz, 100)
        results.append(got)
        with open(p["results"], "w") as fh:  # written as we go: the host side counts mismatches
            json.dump({"got": results, "overflow": int(dut.u_bridge.overflow.value)}, fh)
        if got is None:
            break  # no answer: the design is stuck, later sequences would time out too
    bad = [
        k
        for k, (g, c) in enumerate(zip(results, cases, strict=False))
        if not uart_protocol.words_match(g, c["out"], out_w, c.get("mask"))
    ]
    assert not bad and len(results) == len(cases), f"mismatching sequences {bad}"
    assert int(dut.u_bridge.overflow.value) == 0
    await Timer(1, unit="ns")
    dut._log.info("%d sequences round-tripped through the UART bridge", len(results))
