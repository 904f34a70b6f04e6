"""Stages flow forward: each stage records digests of the inputs it was built from, and the next stage checks
them, saying in one line when its input stage is missing or stale (ConfigError -> exit code 2)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from configs.schema import ConfigError


def files_digest(folder: str | Path, names: list[str]) -> str:
    """sha256 (16 hex digits) over the named files' bytes in folder (a missing file is a ConfigError)."""
    h = hashlib.sha256()
    for name in names:
        path = Path(folder) / name
        if not path.is_file():
            raise ConfigError(f"{path}: missing")
        h.update(name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def value_digest(obj) -> str:
    """sha256 (16 hex digits) of a JSON-serializable value (config sections)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def read_stage(path: str | Path, target: str) -> dict:
    """The JSON record a stage wrote; a one-line error naming the make target when missing or unreadable."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: missing: run `make {target}` first")
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        why = exc.__class__.__name__
        raise ConfigError(f"{path}: unreadable ({why}): run `make {target}` again") from None


def check_inputs(path: str | Path, recorded: dict, current: dict, target: str) -> None:
    """Every current input digest must equal the one the stage recorded (else: stale, one line)."""
    for key, digest in current.items():
        if recorded.get(key) != digest:
            raise ConfigError(f"{path}: stale: {key} changed since it was built: run `make {target}` again")
