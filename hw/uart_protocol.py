"""Host <-> FPGA UART framing (the bridge is hw/rtl/uart_axis_bridge.sv).

host -> FPGA: per word a tag byte (0xA5 word, 0xA6 word with TLAST) + ceil(width/8) little-endian bytes.
FPGA -> host: per word a tag byte (0x5A word, 0x5B word with TLAST) + ceil(width/8) little-endian bytes.
Data are two's complement, sign-extended to whole bytes. Pure Python: scripts/deploy.py and the cocotb test.
"""

from __future__ import annotations

TAG_IN, TAG_IN_LAST = 0xA5, 0xA6
TAG_OUT, TAG_OUT_LAST = 0x5A, 0x5B


def nbytes(width: int) -> int:
    """Bytes per word of a width-bit stream."""
    return (width + 7) // 8


def encode_sequence(words, width: int) -> bytes:
    """Frame one input sequence (TLAST on the last word); words are signed ints that fit in width bits."""
    words = [int(w) for w in words]
    if not words:
        raise ValueError("encode_sequence: empty sequence")
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    out = bytearray()
    n = nbytes(width)
    for k, w in enumerate(words):
        if not lo <= w <= hi:
            raise ValueError(f"encode_sequence: word {w} does not fit in {width} signed bits")
        out.append(TAG_IN_LAST if k == len(words) - 1 else TAG_IN)
        out += (w & ((1 << (8 * n)) - 1)).to_bytes(n, "little")
    return bytes(out)


class Decoder:
    """Incremental decoder of the FPGA -> host bytes; feed() returns completed sequences (lists of ints)."""

    def __init__(self, width: int):
        self.width = width
        self.n = nbytes(width)
        self._buf = bytearray()
        self._words: list[int] = []
        self.dropped = 0  # bytes skipped while looking for a tag

    def feed(self, data: bytes) -> list[list[int]]:
        self._buf += data
        done = []
        while self._buf:
            tag = self._buf[0]
            if tag not in (TAG_OUT, TAG_OUT_LAST):
                del self._buf[0]
                self.dropped += 1
                continue
            if len(self._buf) < 1 + self.n:
                break
            raw = int.from_bytes(self._buf[1 : 1 + self.n], "little")
            del self._buf[: 1 + self.n]
            value = raw & ((1 << self.width) - 1)
            if value >= 1 << (self.width - 1):
                value -= 1 << self.width
            self._words.append(value)
            if tag == TAG_OUT_LAST:
                done.append(self._words)
                self._words = []
        return done

    @property
    def pending(self) -> list[int]:
        """Words of the sequence still being received."""
        return list(self._words)


def words_match(got, expected, width: int, masks=None) -> bool:
    """Sequences equal word by word; masks (per word) select the bits compared (padding lanes out)."""
    if got is None or len(got) != len(expected):
        return False
    full = (1 << width) - 1
    masks = masks or [full] * len(expected)
    return all((g ^ e) & m & full == 0 for g, e, m in zip(got, expected, masks, strict=True))


def pack_lanes(values, lane_bits: int) -> int:
    """Signed lane values -> one word (lane i at bits [i*lane_bits +: lane_bits]), as a signed integer."""
    word = 0
    mask = (1 << lane_bits) - 1
    for i, v in enumerate(values):
        word |= (int(v) & mask) << (i * lane_bits)
    width = lane_bits * len(values)
    return word - (1 << width) if word >> (width - 1) else word


def unpack_lanes(word: int, lane_bits: int, n: int) -> list[int]:
    """Inverse of pack_lanes: the n signed lane values of a word."""
    out = []
    for i in range(n):
        v = (int(word) >> (i * lane_bits)) & ((1 << lane_bits) - 1)
        out.append(v - (1 << lane_bits) if v >> (lane_bits - 1) else v)
    return out
