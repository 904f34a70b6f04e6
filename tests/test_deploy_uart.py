"""UART bridge: host framing (hw/uart_protocol.py); the ULX3S top in cocotb/Verilator around a stand-in."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from hw import uart_protocol
from hw.synth.design import load_design

STANDIN = Path(__file__).parent / "data" / "standin"
ROOT = Path(__file__).resolve().parents[1]


def standin_expected(words: list[int], n_mac: int = 4, w: int = 16) -> list[int]:
    """What standin_mac.sv returns: per lane sum_t x_t * rom[t][lane], bits [2W-2 : W-1]."""
    rows = (STANDIN / "standin_weights.mem").read_text().split()
    acc = [0] * n_mac
    for t, x in enumerate(words):
        row = int(rows[t], 16)
        for i in range(n_mac):
            wv = (row >> (i * w)) & 0xFFFF
            wv -= (wv >> 15) << 16
            acc[i] += x * wv
    out = []
    for a in acc:
        v = (a >> (w - 1)) & 0xFFFF
        out.append(v - ((v >> 15) << 16))
    return out


@pytest.mark.parametrize("width", [8, 12, 16, 20])
def test_protocol_roundtrip(width):
    rng = random.Random(width)
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    seqs = [[rng.randint(lo, hi) for _ in range(rng.randint(1, 9))] for _ in range(5)]
    seqs[0] = [lo, hi, 0, -1]
    # the FPGA -> host framing is the host -> FPGA framing with the other tags
    stream = b"".join(uart_protocol.encode_sequence(s, width) for s in seqs)
    n = uart_protocol.nbytes(width)
    out = bytearray()
    for k in range(0, len(stream), 1 + n):
        tag = stream[k]
        out.append(uart_protocol.TAG_OUT_LAST if tag == uart_protocol.TAG_IN_LAST else uart_protocol.TAG_OUT)
        out += stream[k + 1 : k + 1 + n]
    dec = uart_protocol.Decoder(width)
    got = []
    for k in range(0, len(out), 3):  # arbitrary chunking, with a junk byte that must be skipped
        got += dec.feed(bytes(out[k : k + 3]))
    assert got == seqs
    assert dec.feed(b"\x00\x11") == [] and dec.dropped == 2


def test_protocol_rejects_out_of_range():
    with pytest.raises(ValueError):
        uart_protocol.encode_sequence([128], 8)
    with pytest.raises(ValueError):
        uart_protocol.encode_sequence([], 8)


def test_uart_bridge_cocotb(tmp_path):
    """The host framing drives the simulated board top; answers must equal the stand-in's arithmetic."""
    from scripts.deploy import simulate_uart

    rng = random.Random(3)
    cases = []
    for n in (1, 5, 17):
        words = [rng.randint(-32768, 32767) for _ in range(n)]
        cases.append({"in": words, "out": standin_expected(words)})
    cases.append({"in": [-32768] * 3, "out": standin_expected([-32768] * 3)})
    design = load_design(STANDIN)
    result = simulate_uart(design, cases, ROOT / "build" / "test_deploy" / "standin", clks_per_bit=6)
    assert result["sequences"] == len(cases) and result["mismatches"] == 0


def test_uart_bridge_cocotb_detects_wrong_answer():
    """A wrong expected word must fail the simulation (the check is not vacuous)."""
    from scripts.deploy import simulate_uart

    words = [100, -200, 300]
    bad = standin_expected(words)
    bad[1] += 1
    design = load_design(STANDIN)
    good = {"in": [7], "out": standin_expected([7])}
    work = ROOT / "build" / "test_deploy" / "standin"
    result = simulate_uart(design, [good, {"in": words, "out": bad}], work, clks_per_bit=6)
    assert result["mismatches"] == 1 and result["details"][0]["sequence"] == 1
    assert result["details"][0]["got"] == standin_expected(words)
