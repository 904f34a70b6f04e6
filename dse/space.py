"""A design space: lists of values for config keys on top of a base config, expanded to validated points.

configs/dse/NAME.yaml (every key optional except base and at least one of phase1 / phase2):

    base: configs/default.yaml          # the experiment config every point starts from
    overrides: {training.epochs: 30}    # applied to the base first (dotted keys)
    phase1: {model.hidden: [32, 64], compression.block_size: [4, 8]}     # the model (Phase I)
    phase2: {hardware.parallelism: [1, 2], quantization.matvec_mode: [fft]}  # the hardware (Phase II)
    requirements: {metric: 0.9, min_frames_per_s: 1.0e5, max_multipliers: 400, ...}
    stages: {synth: true, ecp5: false, skip_inaccurate: true}
    ray: {num_cpus: 2}

A key "a.b,c.d" moves several config keys together (its values are lists of that many values). Points are the
cross product phase1 x phase2. Phase II keys must lie in quantization.* or hardware.*: they never change the
trained model, so one training serves every hardware point of a model point.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from configs.schema import SCHEMA, ConfigError, load_config, validate
from configs.stages import value_digest

ROOT = Path(__file__).resolve().parents[1]
TOP_KEYS = ("name", "base", "overrides", "phase1", "phase2", "requirements", "stages", "ray")
PHASE2_SECTIONS = ("quantization", "hardware")
REQUIREMENTS = {  # key: doc (all optional numbers, None = no requirement)
    "metric": "test metric of the fixed-point model (accuracy >=, mse <=): Phase I requirement",
    "min_frames_per_s": "analytic frames/s (clock / cycles per step) at least this: pruned before training",
    "max_multipliers": "analytic multipliers (hw.cycles.multipliers) at most this: pruned before training",
    "max_bram36": "analytic block RAM (scripts.bench_hw.memory_model) at most this: pruned before training",
    "max_lut": "synthesized LUTs at most this (checked after synthesis: the point is marked over budget)",
    "max_dsp": "synthesized DSP48E1 at most this (checked after synthesis: the point is marked over budget)",
}
STAGES = {
    "synth": (True, "run yosys synth_xilinx (LUT/FF/DSP/BRAM and the power estimate)"),
    "ecp5": (False, "also run the ECP5 synthesis, place and route (slow)"),
    "skip_inaccurate": (
        True,
        "no rtl/synthesis for points whose fixed-point metric misses requirements.metric",
    ),
    "pnr_timeout": (1800, "nextpnr time limit in seconds"),
}


@dataclass
class Point:
    """One design point: its validated config and the values the space gave it."""

    cfg: dict
    phase1: dict
    phase2: dict
    id: str = ""
    keys: dict = field(default_factory=dict)  # train / compress / hardware stage keys (filled by the sweep)


@dataclass
class Space:
    """A parsed space file."""

    file: str
    name: str
    base: dict
    phase1: list[tuple[tuple[str, ...], list]]
    phase2: list[tuple[tuple[str, ...], list]]
    requirements: dict
    stages: dict
    ray: dict
    base_file: str = ""
    points: list[Point] = field(default_factory=list)


def _err(file: str, key: str, msg: str, value: Any) -> ConfigError:
    return ConfigError(f"{file}: {key}: {msg} (got {value!r})")


def set_key(raw: dict, dotted: str, value: Any) -> None:
    """raw[a][b] = value for dotted = 'a.b' (creating the sections)."""
    *path, last = dotted.split(".")
    node = raw
    for p in path:
        node = node.setdefault(p, {})
    node[last] = value


def _is_leaf(dotted: str) -> bool:
    node: Any = SCHEMA
    for p in dotted.split("."):
        if not isinstance(node, dict) or p not in node:
            return False
        node = node[p]
    return not isinstance(node, dict)


def _axes(file: str, section: str, entries: Any) -> list[tuple[tuple[str, ...], list]]:
    """[(keys, values)] of a phase: each value is a tuple with one entry per key."""
    if entries is None:
        return []
    if not isinstance(entries, dict):
        raise _err(file, section, "expected a mapping of config keys to lists of values", entries)
    axes = []
    for joined, values in entries.items():
        keys = tuple(k.strip() for k in str(joined).split(","))
        where = f"{section}.{joined}"
        for k in keys:
            if k == "name" or not _is_leaf(k):
                raise _err(file, where, f"not a config key: {k}", values)
            if section == "phase2" and k.split(".")[0] not in PHASE2_SECTIONS:
                raise _err(
                    file, where, "phase2 keys must be quantization.* or hardware.* (no retraining)", values
                )
        if not isinstance(values, list) or not values:
            raise _err(file, where, "expected a non-empty list of values", values)
        tuples = []
        for v in values:
            t = tuple(v) if len(keys) > 1 and isinstance(v, list) else (v,)
            if len(t) != len(keys):
                raise _err(file, where, f"each value must list {len(keys)} values", v)
            tuples.append(t)
        if len(set(map(repr, tuples))) != len(tuples):
            raise _err(file, where, "repeated value", values)
        axes.append((keys, tuples))
    return axes


def _section(file: str, raw: dict, name: str, spec: dict) -> dict:
    """A flat optional section with defaults: spec {key: (default, doc)} or {key: doc} (default None)."""
    got = raw.get(name) or {}
    if not isinstance(got, dict):
        raise _err(file, name, "expected a mapping", got)
    out = {}
    for key, val in got.items():
        if key not in spec:
            raise _err(file, f"{name}.{key}", "unknown key", val)
    for key, s in spec.items():
        default = s[0] if isinstance(s, tuple) else None
        value = got.get(key, default)
        if value is not None:
            flag = isinstance(default, bool)
            if isinstance(value, bool) != flag or not isinstance(value, bool if flag else (int, float)):
                raise _err(
                    file, f"{name}.{key}", "expected true/false" if flag else "expected a number", value
                )
        out[key] = value
    return out


def _base(file: str, raw: dict) -> dict:
    """The base config (validated) with the overrides applied (validated again), as a raw mapping."""
    base = raw.get("base")
    if not isinstance(base, str):
        raise _err(file, "base", "expected the path of an experiment config", base)
    path = Path(base)
    if not path.is_file() and (ROOT / base).is_file():
        path = ROOT / base
    if not path.is_file():
        raise _err(file, "base", "no such file", base)
    cfg = load_config(path)
    cfg.pop("name")
    over = raw.get("overrides") or {}
    if not isinstance(over, dict):
        raise _err(file, "overrides", "expected a mapping of config keys to values", over)
    for key, value in over.items():
        if key == "name" or not _is_leaf(key):
            raise _err(file, f"overrides.{key}", "not a config key", value)
        set_key(cfg, key, value)
    validate(copy.deepcopy(cfg), f"{file}: overrides")
    return cfg


def _apply(base: dict, axes: list, combo: tuple) -> tuple[dict, dict]:
    raw, values = copy.deepcopy(base), {}
    for (keys, _), vals in zip(axes, combo, strict=True):
        for k, v in zip(keys, vals, strict=True):
            set_key(raw, k, v)
            values[k] = v
    return raw, values


def _check_values(file: str, base: dict, section: str, axes: list) -> None:
    """Every single value on top of the base: a bad value is named by its own key."""
    for keys, tuples in axes:
        for t in tuples:
            raw = copy.deepcopy(base)
            for k, v in zip(keys, t, strict=True):
                set_key(raw, k, v)
            validate(raw, f"{file}: {section}")


def expand(space: Space) -> list[Point]:
    """Every point of phase1 x phase2, validated; point ids are digests of the config (name excluded)."""
    _check_values(space.file, space.base, "phase1", space.phase1)
    _check_values(space.file, space.base, "phase2", space.phase2)
    points = []
    combos1 = list(itertools.product(*[t for _, t in space.phase1]))
    combos2 = list(itertools.product(*[t for _, t in space.phase2]))
    for c1 in combos1:
        raw1, v1 = _apply(space.base, space.phase1, c1)
        for c2 in combos2:
            raw, v2 = _apply(raw1, space.phase2, c2)
            cfg = validate(raw, f"{space.file}: point {dict(v1, **v2)}")
            cfg["name"] = None
            points.append(Point(cfg, v1, v2, id=value_digest({"cfg": cfg, "stages": space.stages})))
    return points


def load_space(path: str | Path) -> Space:
    """Parse, validate and expand a space file (ConfigError: one line naming the file, key and value)."""
    file = str(path)
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read space ({exc.strerror})") from None
    except yaml.YAMLError:
        raise ConfigError(f"{file}: invalid YAML") from None
    if not isinstance(raw, dict):
        raise _err(file, "top level", "expected a mapping", raw)
    for key in raw:
        if key not in TOP_KEYS:
            raise _err(file, str(key), "unknown key", raw[key])
    name = raw.get("name") or Path(file).stem
    if not isinstance(name, str) or not name.replace("_", "").replace("-", "").isalnum():
        raise _err(file, "name", "letters, digits, - and _ only", name)
    space = Space(
        file=file,
        name=name,
        base=_base(file, raw),
        phase1=_axes(file, "phase1", raw.get("phase1")),
        phase2=_axes(file, "phase2", raw.get("phase2")),
        requirements=_section(file, raw, "requirements", REQUIREMENTS),
        stages=_section(file, raw, "stages", STAGES),
        ray=_section(file, raw, "ray", {"num_cpus": (0, "CPUs for a local Ray (0: all of them)")}),
        base_file=raw["base"],
    )
    if not space.phase1 and not space.phase2:
        raise _err(file, "phase1", "a space needs phase1 or phase2 keys", None)
    space.points = expand(space)
    return space
