"""Experiment configuration: safe YAML loading and validation against a declarative schema.

Every stage reads one YAML file (configs/NAME.yaml). A wrong key, type or value raises ConfigError whose
message is one line naming the file, the dotted key and the value.
Stage entry points turn it into exit code 2.
This module is pure Python (no torch) so that hw/ and sim/ can load configs too.
"""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A config file has a wrong key, type or value (message is one line)."""


@dataclass(frozen=True)
class Key:
    """One config key: accepted types, default and an optional value check."""

    types: tuple[type, ...]
    default: Any = None
    choices: tuple | None = None
    min: float | None = None
    max: float | None = None
    nullable: bool = False
    doc: str = ""
    check: Any = field(default=None, compare=False)  # callable(value) -> error string or None


def _num(default, lo=None, hi=None, doc="", nullable=False):
    return Key((int, float), default, min=lo, max=hi, doc=doc, nullable=nullable)


def _int(default, lo=None, hi=None, doc="", nullable=False, choices=None):
    return Key((int,), default, min=lo, max=hi, doc=doc, nullable=nullable, choices=choices)


def _str(default, choices=None, doc="", nullable=False):
    return Key((str,), default, choices=choices, doc=doc, nullable=nullable)


def _bool(default, doc=""):
    return Key((bool,), default, doc=doc)


def _int_or_auto(lo: int, hi: int | None):
    """Value check of a key that takes an integer in [lo, hi] or the string 'auto'."""

    def check(value):
        if value == "auto":
            return None
        if not isinstance(value, int) or value < lo or (hi is not None and value > hi):
            top = f" and <= {hi}" if hi is not None else ""
            return f"must be an integer >= {lo}{top} or 'auto'"
        return None

    return check


def _numbers(value) -> str | None:
    if not value or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return "expected a non-empty list of numbers"
    return None


def _floats(doc=""):
    return Key((list,), None, nullable=True, doc=doc, check=_numbers)


TASKS = ("copying", "adding", "digits_row", "digits_pixel", "japanese_vowels", "aeon", "npz")
CELLS = ("lstm", "gru", "enrnn", "scornn", "momentum_lstm", "bilstm")
MODES = ("dense", "circulant", "admm")
BLOCK_SIZES = (2, 4, 8, 16, 32)

SCHEMA: dict[str, Any] = {
    "name": _str(None, nullable=True, doc="experiment name; defaults to the file name without .yaml"),
    "seed": _int(0, 0, doc="seed for data generation, initialisation and batching"),
    "task": {
        "name": _str("japanese_vowels", TASKS, doc="dataset / task"),
        "seq_len": _int(100, 1, doc="sequence length T for copying and adding"),
        "copy_length": _int(10, 1, doc="copying: number of symbols to copy"),
        "n_train": _int(10000, 1, doc="copying/adding: generated training sequences"),
        "n_test": _int(1000, 1, doc="copying/adding: generated test sequences"),
        "path": _str(None, nullable=True, doc="npz: path of a file with X (N,T,F), y and optional lengths"),
        "test_fraction": _num(0.2, 0.0, 0.9, doc="npz/digits: fraction of samples held out for test"),
        "val_fraction": _num(
            0.2, 0.0, 0.9, doc="fraction of the training part held out for validation (seeded, stratified)"
        ),
        "regression": _bool(False, doc="npz: y is a regression target (MSE) instead of class labels"),
        "dataset": _str(
            None, nullable=True, doc="aeon: a UEA/UCR set bundled in aeon (e.g. ItalyPowerDemand, GunPoint)"
        ),
        "normalize": _bool(True, doc="standardise inputs per feature (false: feed them as they are)"),
        "mean": _floats("per-feature input mean to subtract (default: training-set statistics)"),
        "std": _floats("per-feature input std to divide by (default: training-set statistics)"),
    },
    "model": {
        "cell": _str("lstm", CELLS, doc="recurrent cell"),
        "hidden": _int(128, 1, doc="hidden units (LSTM cells, GRU units, ENRNN n1+n2)"),
        "layers": _int(1, 1, 8, doc="stacked recurrent layers"),
        "projection": _int(0, 0, doc="LSTM projection size (0 = no projection)"),
        "peepholes": _bool(False, doc="LSTM peephole connections"),
        "n2": _int(0, 0, doc="ENRNN short-term state size (n1 = hidden - n2); scornn forces 0"),
        "neg_eigs": _int(
            None, 0, nullable=True, doc="scoRNN/ENRNN: number of -1 entries of D (default n1/2)"
        ),
        "momentum": _num(0.6, 0.0, 1.0, doc="MomentumLSTM mu"),
        "step_size": _num(0.6, 0.0, 10.0, doc="MomentumLSTM s"),
        "init": _str(
            None,
            nullable=True,
            doc="pretrained weights: a state_dict of nn.LSTM/nn.GRU (+ nn.Linear head) or a model.pt",
        ),
    },
    "compression": {
        "mode": _str("dense", MODES, doc="dense | circulant (trained directly) | admm (E-RNN)"),
        "block_size": _int(8, choices=BLOCK_SIZES, doc="circulant block size b"),
        "rho_schedule": _str(
            "adaptive",
            ("adaptive", "geometric"),
            doc="ADMM rho: residual balancing (Boyd 3.4.1) or geometric rho_start -> rho_end",
        ),
        "rho_start": _num(1e-3, 0.0, doc="ADMM penalty at the start (adaptive: the initial value)"),
        "rho_end": _num(1.0, 0.0, doc="geometric schedule: ADMM penalty at the last Z/U update"),
        "admm_interval": _int(32, 0, doc="ADMM: optimizer steps between Z/U updates (0 = once per epoch)"),
        "admm_steps": _int(2000, 1, doc="ADMM: most optimizer steps of the ADMM phase"),
        "tolerance": _num(
            0.01, 0.0, doc="ADMM: end the phase once ||W - Z|| / ||W|| is below this (0 = run admm_steps)"
        ),
        "finetune_epochs": _int(
            30, 0, doc="admm / imported circulant: most epochs of fine-tuning in circulant form"
        ),
        "finetune_lr_scale": _num(
            0.1,
            0.0,
            1.0,
            doc="fine-tuning learning rates (lr, orthogonal_lr) times this when the hard projection moved the"
            " ADMM weights by less than tolerance (ADMM converged); otherwise the full rates",
        ),
        "compress_head": _bool(True, doc="also compress the output head"),
    },
    "training": {
        "epochs": _int(60, 1, doc="training epochs (admm: the dense pretraining; skipped with model.init)"),
        "patience": _int(
            0, 0, doc="early stopping: epochs without a better validation metric (0 = off; best kept)"
        ),
        "min_steps": _int(
            600, 0, doc="train / pretrain / fine-tune phases run at least this many optimizer steps"
        ),
        "batch_size": _int(32, 1, doc="mini-batch size"),
        "optimizer": _str("adam", ("adam", "rmsprop", "sgd"), doc="optimizer"),
        "lr": _num(2e-3, 0.0, doc="learning rate"),
        "orthogonal_lr": _num(1e-4, 0.0, doc="scoRNN/ENRNN: RMSprop learning rate of the skew matrix A"),
        "clip": _num(1.0, 0.0, doc="gradient norm clipping (0 = off)"),
        "max_iterations": _int(0, 0, doc="stop after this many optimizer steps (0 = no limit)"),
        "max_minutes": _num(0, 0, doc="stop after this much wall time (0 = no limit)"),
        "threads": _int(2, 1, doc="torch CPU threads"),
        "eval_every": _int(
            0, 0, doc="also evaluate the metrics every N optimizer steps (0 = once per epoch)"
        ),
        "target": _num(
            None, nullable=True, doc="stop once the validation metric reaches this (accuracy >=, mse <=)"
        ),
    },
    "quantization": {
        "weight_bits": _int(16, 2, 32, doc="weights (time-domain and frequency-domain)"),
        "act_bits": _int(16, 2, 32, doc="inputs, hidden state, projection output"),
        "preact_bits": _int(16, 2, 32, doc="gate pre-activations"),
        "cell_bits": _int(16, 2, 32, doc="LSTM cell state"),
        "pwl_segments": _int(32, choices=(8, 16, 32, 64), doc="segments of the PWL sigmoid/tanh"),
        "matvec_mode": _str("direct", ("direct", "fft"), doc="block-circulant matvec: direct or fft"),
        "qat_epochs": _int(0, 0, doc="quantization-aware fine-tuning epochs (0 = off)"),
        "n_test_vectors": _int(16, 1, doc="sequences written to vectors.npz"),
        "calibration": _str(
            "max",
            ("max", "p99.99", "p99.9", "p99"),
            doc="activation range statistic for the fraction bits: max |x| or a percentile of |x|",
        ),
    },
    "hardware": {
        "parallelism": Key(
            (int, str),
            1,
            check=_int_or_auto(1, None),
            doc="P: blocks processed per cycle in the matrix-vector unit; auto: the fastest P whose resource "
            "estimate fits hardware.fit_utilization of the ECP5-85F (hw/fit.py)",
        ),
        "fit_utilization": _num(
            0.85,
            0.05,
            1.0,
            doc="parallelism / ew_words auto: the largest share of every ECP5-85F resource (LUT4, FF, "
            "MULT18X18D, EBR) the estimate may fill; lower leaves room for other logic and for timing "
            "closure (hw/fit.py)",
        ),
        "ew_words": Key(
            (int, str),
            1,
            check=_int_or_auto(1, 64),
            doc="RTL element-wise unit: b-lane words per cycle (power of two); auto: chosen with P "
            "(hw/fit.py)",
        ),
        "batch": _int(
            1,
            1,
            4,
            doc="RTL core: sequences per program run (2-4: their steps interleaved, each one's element-wise "
            "work under the others' matrix work; the host sends and receives them in groups, paired by "
            "length); last-step heads only",
        ),
        "clock_mhz": _num(100.0, 1.0, 1000.0, doc="target clock for synthesis"),
        "xilinx_part": _str("xc7vx690tffg1761-2", doc="7-series part (ADM-7V3 board of C-LSTM/E-RNN)"),
        "ecp5_clock_mhz": _num(
            100.0,
            1.0,
            400.0,
            doc="target clock of the ULX3S board build (25: the board oscillator, else an EHXPLLL; when "
            "nextpnr misses it, make synth sets the PLL of the routed design just under its Fmax)",
        ),
        "ecp5_device": _str("85k", doc="nextpnr-ecp5 device flag"),
        "ecp5_package": _str("CABGA381", doc="ECP5 package (ULX3S)"),
        "ecp5_seeds": _int(
            2,
            1,
            8,
            doc="placement seeds (1..N) that nextpnr runs side by side, one process each; make synth keeps "
            "the routed design with the highest Fmax",
        ),
        "ecp5_placer": _str(
            "static",
            choices=["static", "heap"],
            doc="nextpnr placer of the ECP5 build (static: its electrostatic placer, whose placements of the "
            "default core route where HeAP's left router2 congested; heap: nextpnr's default)",
        ),
        "ecp5_tmg_ripup": _bool(
            False,
            doc="nextpnr --tmg-ripup: router2 rips up and reroutes timing-critical nets (on in "
            "configs/default.yaml; off by default: on a design far from its clock router2 keeps ripping "
            "up, docs/synth.md)",
        ),
    },
}


def _validate(section: dict, schema: dict, where: str, file: str) -> dict:
    if not isinstance(section, dict):
        raise ConfigError(f"{file}: {where or 'top level'}: expected a mapping (got {section!r})")
    unknown = sorted(set(section) - set(schema))
    if unknown:
        key = f"{where}.{unknown[0]}" if where else unknown[0]
        raise ConfigError(f"{file}: {key}: unknown key (got {section[unknown[0]]!r})")
    out = {}
    for name, spec in schema.items():
        key = f"{where}.{name}" if where else name
        if isinstance(spec, dict):
            out[name] = _validate(section.get(name) or {}, spec, key, file)
            continue
        value = section.get(name, copy.deepcopy(spec.default))
        if value is None:
            if spec.nullable or spec.default is None:
                out[name] = None
                continue
            raise ConfigError(f"{file}: {key}: must not be empty (got None)")
        ok_type = isinstance(value, spec.types) and not (isinstance(value, bool) and bool not in spec.types)
        if not ok_type:
            names = "/".join(t.__name__ for t in spec.types)
            raise ConfigError(f"{file}: {key}: expected {names} (got {value!r})")
        if spec.choices is not None and value not in spec.choices:
            raise ConfigError(f"{file}: {key}: must be one of {list(spec.choices)} (got {value!r})")
        if spec.min is not None and value < spec.min:
            raise ConfigError(f"{file}: {key}: must be >= {spec.min} (got {value!r})")
        if spec.max is not None and value > spec.max:
            raise ConfigError(f"{file}: {key}: must be <= {spec.max} (got {value!r})")
        if spec.check is not None and (msg := spec.check(value)):
            raise ConfigError(f"{file}: {key}: {msg} (got {value!r})")
        out[name] = value
    return out


def _cross_checks(cfg: dict, file: str) -> None:
    m, t = cfg["model"], cfg["task"]
    if t["name"] == "npz" and not t["path"]:
        raise ConfigError(f"{file}: task.path: required when task.name is 'npz' (got None)")
    if t["name"] == "aeon" and not t["dataset"]:
        raise ConfigError(f"{file}: task.dataset: required when task.name is 'aeon' (got None)")
    if m["cell"] == "enrnn" and not (0 < m["n2"] < m["hidden"]):
        raise ConfigError(f"{file}: model.n2: ENRNN needs 0 < n2 < hidden (got {m['n2']!r})")
    if m["projection"] and m["cell"] not in ("lstm", "bilstm"):
        raise ConfigError(
            f"{file}: model.projection: only LSTM cells have a projection (got {m['projection']!r})"
        )
    if m["peepholes"] and m["cell"] not in ("lstm", "bilstm"):
        raise ConfigError(f"{file}: model.peepholes: only LSTM cells have peepholes (got {m['peepholes']!r})")


def validate(raw: Any, file: str = "<config>") -> dict:
    """Validate a parsed config mapping; return a new dict with every default filled in."""
    cfg = _validate(raw if raw is not None else {}, SCHEMA, "", file)
    _cross_checks(cfg, file)
    if cfg["name"] is None:
        cfg["name"] = Path(file).stem
    return cfg


def load_config(path: str | Path) -> dict:
    """Load configs/NAME.yaml safely and validate it (raises ConfigError with a one-line message)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}: invalid YAML{line}") from None
    return validate(raw, str(path))


def build_dir(cfg: dict, stage: str | None = None, root: str | Path = "build") -> Path:
    """Artifact folder build/NAME[/stage] of an experiment."""
    base = Path(root) / cfg["name"]
    return base / stage if stage else base


def run_cli(main, argv=None) -> None:
    """Run a stage's main(argv); turn ConfigError (and other one-line user errors) into exit code 2."""
    try:
        code = main(argv)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    sys.exit(code or 0)


def describe(schema: dict = SCHEMA, prefix: str = "") -> list[tuple[str, str, str]]:
    """(key, default, doc) rows of the schema, for the README's config reference."""
    rows = []
    for name, spec in schema.items():
        key = f"{prefix}.{name}" if prefix else name
        if isinstance(spec, dict):
            rows += describe(spec, key)
        else:
            extra = f"; one of {list(spec.choices)}" if spec.choices else ""
            rows.append((key, repr(spec.default), spec.doc + extra))
    return rows


if __name__ == "__main__":  # print the config reference (used for README.md)
    print("| key | default | meaning |\n|---|---|---|")
    for key, default, doc in describe():
        print(f"| `{key}` | `{default}` | {doc} |")
