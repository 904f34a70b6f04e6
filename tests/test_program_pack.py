"""Data-memory buffer packing (hw/rtl/program.py `_pack_temps`): a sequence's buffers share words only where
their values are never live at once; an element-wise op may write over an operand it reads for the last time.
The bit-exact model tests (test_rtl_model.py) run every cell's packed program on the RTL; these check the
packing rules on small hand-written programs."""

from types import SimpleNamespace

import pytest

from compress.artifact import random_artifact
from hw.rtl import program


def _ctx(E: int = 1):
    return SimpleNamespace(alloc=program._Alloc(E), E=E)


def _ew(alu, dst, n, a, b=None, c=None):
    ins = dict(op="EW", alu=alu, dst=dst, n=n, a=a, b=b or 0, c=c or 0, zb=int(b is None), zc=int(c is None))
    return ins


def _packed(ctx, prog):
    program._pack_temps(ctx, prog)
    return {name: addr for name, (addr, _) in ctx.alloc.regions.items()}


def test_buffers_live_apart_share_words():
    ctx = _ctx()
    x = ctx.alloc("x", 4)  # an input buffer (not packed)
    t1, t2, t3 = (ctx.alloc.temp(f"t{k}", 4) for k in (1, 2, 3))
    prog = [
        _ew("ADD", t1, 4, x),  # t1 = x
        _ew("ADD", t2, 4, t1, x),  # t2 = t1 + x (t1 dies here)
        _ew("ADD", x, 4, t2),  # t2 dies
        _ew("ADD", t3, 4, x),  # t3 lives after t1 and t2 died
        dict(op="OUT", a=t3, n=4),
    ]
    at = _packed(ctx, prog)
    assert at["t3"] in (at["t1"], at["t2"])  # reuses a dead buffer's words
    assert at["t1"] + 4 <= at["t2"] or at["t2"] == at["t1"]  # in place: t2 over t1 at the same sweep
    assert ctx.alloc.top == 4 + 4  # x + one 4-word buffer
    assert all(i.get(f, 0) < program.VBASE for i in prog for f in ("a", "b", "c", "dst"))


def test_in_place_needs_one_sweep():
    """The result may land on an operand's words only where it is written by the same sweep that reads
    them (same offset), and only when that operand is read there for the last time."""
    ctx = _ctx()
    x = ctx.alloc("x", 8)
    t1, t2 = ctx.alloc.temp("t1", 8), ctx.alloc.temp("t2", 4)
    # t2 = t1[0:4] * t1[4:8]: t1 is read at two offsets, so t2 must not overlap it
    prog = [_ew("ADD", t1, 8, x), _ew("MUL", t2, 4, t1, t1 + 4), dict(op="OUT", a=t2, n=4)]
    at = _packed(ctx, prog)
    assert at["t2"] >= at["t1"] + 8 or at["t2"] + 4 <= at["t1"]

    ctx = _ctx()
    x = ctx.alloc("x", 8)
    t1, t2 = ctx.alloc.temp("t1", 8), ctx.alloc.temp("t2", 4)
    # t2 = sigmoid(t1[4:8]): t1[4:8] dies here, t2 lands on it; t1[0:4] is still read later
    prog = [
        _ew("ADD", t1, 8, x),
        _ew("PWL", t2, 4, t1 + 4),
        _ew("ADD", x, 4, t1, t2),
    ]
    at = _packed(ctx, prog)
    assert at["t2"] == at["t1"] + 4


def test_in_place_only_at_the_sweep_that_reads():
    """`_fits`: the result's words may lie on the dying operand's words only at the offset where each word
    is read and written by the same step of the sweep (never shifted, whichever way)."""
    ctx = _ctx()
    x = ctx.alloc("x", 8)
    t1, t2 = ctx.alloc.temp("t1", 8), ctx.alloc.temp("t2", 8)
    prog = [_ew("ADD", t1, 8, x), _ew("PWL", t2, 8, t1), _ew("ADD", x, 8, t2)]
    temps = ctx.alloc.temps
    live, pairs = program._live_words(prog, temps, 1)
    assert pairs == {(1, 0, 1): (0, 0)}
    assert program._fits(1, 16, 0, 16, temps, live, pairs)
    for shift in (-4, -1, 1, 4):
        assert not program._fits(1, 16 + shift, 0, 16, temps, live, pairs)
    assert not program._fits(1, 16, 0, 16, temps, live, {})  # no in-place pair: no overlap


@pytest.mark.parametrize(
    "second, last",
    [
        (("ADD", "x"), ("ADD", "t1", "t2")),  # both written, then read together
        (("PWL", "t1"), ("ADD", "t2", "t1")),  # t2 = f(t1), but t1 is read again after it
    ],
)
def test_buffers_live_together_get_their_own_words(second, last):
    ctx = _ctx()
    at = {"x": ctx.alloc("x", 4)}
    at |= {k: ctx.alloc.temp(k, 4) for k in ("t1", "t2")}
    prog = [
        _ew("ADD", at["t1"], 4, at["x"]),
        _ew(second[0], at["t2"], 4, at[second[1]]),
        _ew(last[0], at["x"], 4, at[last[1]], at[last[2]]),
    ]
    placed = _packed(ctx, prog)
    assert abs(placed["t1"] - placed["t2"]) >= 4


def test_loop_state_lives_over_the_whole_loop():
    """A buffer the body reads before writing it (a state) keeps its words through the loop; a temporary
    of the body never takes them, even one written after the state's last read in the body."""
    ctx = _ctx()
    x = ctx.alloc("x", 4)
    h, t = ctx.alloc.temp("h", 4), ctx.alloc.temp("t", 4)
    prog = [
        _ew("ADD", h, 4, h, h),  # zero state (before the loop)
        dict(op="LOOP"),
        _ew("ADD", x, 4, h, x),  # reads h (the last step's value)
        _ew("PWL", h, 4, x),  # h written: its last use in the body
        _ew("PWL", t, 4, x),  # t written after it: must not take h's words (h is read next pass)
        _ew("ADD", x, 4, t),
        dict(op="ENDLOOP"),
    ]
    at = _packed(ctx, prog)
    assert abs(at["h"] - at["t"]) >= 4


def test_value_read_after_the_loop_stays():
    ctx = _ctx()
    x = ctx.alloc("x", 4)
    y, t = ctx.alloc.temp("y", 4), ctx.alloc.temp("t", 4)
    prog = [
        dict(op="LOOP"),
        _ew("ADD", y, 4, x),
        _ew("PWL", t, 4, x),
        _ew("ADD", x, 4, t),
        dict(op="ENDLOOP"),
        dict(op="OUT", a=y, n=4),
    ]
    at = _packed(ctx, prog)
    assert abs(at["y"] - at["t"]) >= 4


@pytest.mark.parametrize("E", [1, 2])
def test_offsets_keep_whole_element_wise_words(E):
    ctx = _ctx(E)
    x = ctx.alloc("x", 4)
    t1, t2, t3 = ctx.alloc.temp("t1", 3), ctx.alloc.temp("t2", 4), ctx.alloc.temp("t3", 2)
    n = 4 // E
    prog = [_ew("ADD", t1, 2 // E, x), _ew("ADD", t2, n, x), _ew("ADD", t3, 2 // E, x), _ew("ADD", x, n, t2)]
    prog += [_ew("ADD", x, 2 // E, t1, t3)]
    at = _packed(ctx, prog)
    assert all(a % E == 0 for a in at.values())


def test_default_lstm_fits_one_block_ram_depth():
    """An LSTM of the default model's shape (12 -> 128, b = 8, fft, 29 steps, batch 2): input sequences,
    states, shared constants and packed temporaries fit in 512 words, one 512 x 36 block RAM per read slice
    on the ECP5 (1,480 words before packing)."""
    art = random_artifact("lstm", input_size=12, hidden=128, output_size=9, b=8, mode="fft", T=29, seed=0)
    d = program.compile_artifact(art, b=8, P=2, T_max=29, batch=2)
    assert d.params["ST"] == 2  # only the input sequence is stored: the head reads the last step in place
    assert d.params["DM_DEPTH"] <= 512
