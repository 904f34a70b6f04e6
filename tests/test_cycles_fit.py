"""hw/fit.py: the ECP5 resource estimate and `hardware.parallelism: auto` / `hardware.ew_words: auto`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from compress.artifact import random_artifact
from configs.schema import ConfigError, load_config, validate
from hw import cycles, fit
from hw.rtl import isa, program

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "depth,width,expected",
    [
        (512, 36, 1),
        (1024, 18, 1),
        (1334, 144, 12),  # 4 x 512x36 wide, 3 deep (8 x 1024x18 x 2 deep = 16 is worse)
        (96, 34, 1),
        (592, 320, 18),  # 18 x 1024x18 (9 x 512x36 x 2 deep is the same)
        (16384, 1, 1),
        (100, 72, 2),
    ],
)
def test_ebr_for(depth, width, expected):
    assert fit.ebr_for(depth, width) == expected


def test_estimate_by_hand():
    """b=8 fft, P=2, E=1 core: MULT18 from hw.cycles.multipliers at the calibrated ratios less 4 per lane,
    EBR per memory, LUT4 on the calibrated line."""
    p = {"B": 8, "P": 2, "E": 1, "FFT": 1, "DIRECT": 0, "DENSE": 0, "BW": 16, "DW": 18, "BA": 16}
    p |= {"DM_DEPTH": 1334, "ZB_DEPTH": 130, "WDEPTH": 592, "PROG_DEPTH": 22, "NT": 3, "N": 32}
    r = fit.MULT18_PER_MULTIPLIER
    mult = (40 - 4 * 2) * r["matvec"] + 8 * r["fft"] + 16 * r["ew"] + fit.MULT18_FIXED
    # data memory (1334 words declared 2048 deep, x 144: 16 EBRs of 2048 x 9, no depth mux) and
    # matrix-output bank (130 -> 256 x 144: 4 of 512 x 36), 4 read copies each; weights (592 -> 1024 x 320:
    # 18 of 1024 x 18), PWL tables (the program is a ROM in logic)
    ebr = 4 * 16 + 4 * 4 + 18 + 8 * 1
    lut4, ff = (
        m["base"] + m["per_matvec_multiplier"] * 40 + m["per_ew_lane"] * 8
        for m in (fit.LUT4_MODEL, fit.FF_MODEL)
    )
    want = {"mult18": int(-(-mult // 1)), "ebr": ebr, "lut4": round(lut4), "ff": round(ff)}
    assert fit.estimate_ecp5(p, isa.WIDTH) == want
    # P=3 (not a power of two): one more lane (addresses are running sums: no products by P)
    p3 = fit.estimate_ecp5(p | {"P": 3}, isa.WIDTH)["mult18"]
    assert p3 == int(-(-(mult + (20 - 4) * r["matvec"] + fit.MULT18_ADDRESS_NOT_POW2) // 1))


def test_calibration_planes_reproduce_their_runs():
    """The LUT4 / FF planes pass through the three synthesized calibration cores (the data in hw/fit.py)."""
    for (P, E), c in fit.CALIBRATION.items():
        for key, mdl in (("lut4", fit.LUT4_MODEL), ("ff", fit.FF_MODEL)):
            got = (
                mdl["base"] + mdl["per_matvec_multiplier"] * c["matvec"] + mdl["per_ew_lane"] * c["ew_lanes"]
            )
            assert round(got) == c[key], (P, E, key)


def _art(tmp_path=None, name="fitcfg"):
    out = None if tmp_path is None else tmp_path / "build" / name / "compress"
    return random_artifact("lstm", input_size=12, hidden=32, output_size=9, b=8, mode="fft", out_dir=out)


def _estimate(art, P, E=1):
    d = program.compile_artifact(art, b=8, P=P, T_max=6, E=E)
    return fit.estimate_ecp5(d.params, isa.WIDTH), cycles.sequence_cycles(d.prog, P, 8, 1, E, d.params["ST"])[
        "per_step"
    ]


def test_auto_picks_the_fastest_fitting_p():
    """With the MULT18 budget set between the estimates at P=2 and P=3 (margin 0), auto picks P=2; with the
    whole part it picks the fastest P, and no faster candidate fits."""
    art = _art()
    e2, c2 = _estimate(art, 2)
    e3, _ = _estimate(art, 3)
    cap = {"mult18": (e2["mult18"] + e3["mult18"]) // 2, "ebr": 10_000, "lut4": 10**7}
    r = fit.choose(art, 8, "auto", 1, 6, cap, margin=0.0)
    assert (r["P"], r["E"], r["cycles_per_step"]) == (2, 1, c2)
    r = fit.choose(art, 8, "auto", 1, 6)
    for p in range(1, 17):  # 16 row blocks (4 gates x 32 / 8): more lanes than that do nothing
        est, cyc = _estimate(art, p)
        if fit.fits(est):
            assert cyc >= r["cycles_per_step"]
    assert fit.fits(r["estimate"]) and r["margin"] == fit.MARGIN


def test_margin_is_applied():
    """A part where P=2 uses 95 % of the MULT18X18D: it fits without a margin, not with the 15 % one."""
    art = _art()
    e2, _ = _estimate(art, 2)
    cap = {"mult18": int(e2["mult18"] / 0.95), "ebr": 10_000, "lut4": 10**7}
    assert fit.choose(art, 8, "auto", 1, 6, cap, margin=0.0)["P"] == 2
    assert fit.choose(art, 8, "auto", 1, 6, cap)["P"] == 1


def test_auto_e_and_margin():
    """ew_words auto: a power of two; a margin that leaves too little of the part is one-line error."""
    art = _art()
    r = fit.choose(art, 8, 1, "auto", 6)
    assert r["P"] == 1 and r["E"] & (r["E"] - 1) == 0
    assert r["cycles_per_step"] <= _estimate(art, 1, 1)[1]
    with pytest.raises(program.RtlError, match="hardware.parallelism: auto: .* does not fit"):
        fit.choose(art, 8, "auto", 1, 6, {"mult18": 10, "ebr": 10, "lut4": 10})


def test_injected_defect_margin_ignored(monkeypatch):
    """Injected defect: a fit check that always passes takes more lanes than the MULT18 budget allows."""
    art = _art()
    e2, _ = _estimate(art, 2)
    e3, _ = _estimate(art, 3)
    cap = {"mult18": (e2["mult18"] + e3["mult18"]) // 2, "ebr": 10_000, "lut4": 10**7}
    monkeypatch.setattr(fit, "fits", lambda est, capacity=None, margin=None: True)
    assert fit.choose(art, 8, "auto", 1, 6, cap, margin=0.0)["P"] > 2


def test_schema_accepts_auto_only():
    assert (
        validate({"hardware": {"parallelism": "auto", "ew_words": "auto"}})["hardware"]["parallelism"]
        == "auto"
    )
    for key, bad in (("parallelism", "fast"), ("parallelism", 0), ("ew_words", 128)):
        with pytest.raises(ConfigError, match=f"x.yaml: hardware.{key}: .*'auto' \\(got {bad!r}\\)"):
            validate({"hardware": {key: bad}}, "x.yaml")


def test_example_config_is_default_with_auto():
    auto = load_config(ROOT / "configs" / "default_auto.yaml")
    base = load_config(ROOT / "configs" / "default.yaml")
    assert auto["hardware"]["parallelism"] == "auto" and auto["hardware"]["ew_words"] == "auto"
    assert base["hardware"]["parallelism"] == "auto" and base["hardware"]["fit_utilization"] < 0.85
    for k in ("task", "model", "compression", "quantization"):
        assert auto[k] == base[k]


def _rtl_cli(tmp_path, name: str, hardware: dict) -> subprocess.CompletedProcess:
    _art(tmp_path, name)
    cfg = tmp_path / f"{name}.yaml"
    cfg.write_text(yaml.safe_dump({"hardware": hardware}))
    return subprocess.run(
        [sys.executable, "-m", "hw.rtl", "--config", str(cfg)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )


def test_make_rtl_with_auto_records_the_choice(tmp_path):
    """python -m hw.rtl on an auto config: the core has the chosen P and E, rtl.json records the choice."""
    name = "fitcfg"
    res = _rtl_cli(tmp_path, name, {"parallelism": "auto", "ew_words": "auto"})
    assert res.returncode == 0, res.stderr[-2000:]
    assert "fit: P=" in res.stderr
    info = json.loads((tmp_path / "build" / name / "rtl" / "rtl.json").read_text())
    f = info["fit"]
    assert (info["params"]["P"], info["params"]["E"]) == (f["P"], f["E"])
    assert f["margin"] == fit.MARGIN and fit.fits(f["estimate"])
    assert info["mac_utilization"]["cycles_per_step"] == info["cycles_per_step"] == f["cycles_per_step"]


def test_fit_utilization_caps_auto(tmp_path):
    """hardware.fit_utilization reaches the choice: with a share between the estimates of two P, auto takes
    the smaller and rtl.json records the margin; a share nothing fits is a one-line error naming the key."""
    art = _art()
    est = {p: _estimate(art, p)[0] for p in (2, 3)}
    used = {p: max(est[p][k] / fit.ECP5_85F[k] for k in fit.ECP5_85F) for p in (2, 3)}  # its largest share
    assert used[2] < used[3]
    share = (used[2] + used[3]) / 2
    res = _rtl_cli(tmp_path, "capped", {"parallelism": "auto", "fit_utilization": round(share, 4)})
    assert res.returncode == 0, res.stderr[-2000:]
    f = json.loads((tmp_path / "build" / "capped" / "rtl" / "rtl.json").read_text())["fit"]
    assert f["P"] == 2 and f["margin"] == pytest.approx(1 - round(share, 4))
    res = _rtl_cli(tmp_path, "tiny", {"parallelism": "auto", "fit_utilization": 0.05})
    assert res.returncode != 0
    err = res.stderr.strip().splitlines()
    assert len(err) == 1 and "hardware.fit_utilization 0.05" in err[0], res.stderr[-2000:]


@pytest.mark.slow
def test_estimate_against_synth_ecp5(tmp_path):
    """yosys synth_ecp5 of a small core (LSTM 12 -> 32, b=8 fft, P=3, 16-bit like the calibration core):
    MULT18X18D as estimated, EBR at most the estimate (an upper bound), LUT4 not above the estimate by more
    than the margin."""
    from hw.rtl import generate
    from hw.synth import yosys
    from hw.synth.design import load_design

    name = "fitsynth"
    _art(tmp_path, name)
    cfg = validate({"name": name, "hardware": {"parallelism": 3}})
    import os

    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        info = generate.generate(cfg)
    finally:
        os.chdir(old)
    design = load_design(tmp_path / "build" / name / "rtl")
    got = yosys.synth_ecp5(design, design.top, [], tmp_path / "ecp5")["counts"]
    est = info["ecp5_estimate"]
    assert got["mult18"] == est["mult18"], (got, est)
    assert got["ebr"] <= est["ebr"], (got, est)
    assert got["lut4"] <= est["lut4"] / (1 - fit.MARGIN), (got, est)
