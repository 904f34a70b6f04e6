"""Weights-only loading of the training stage's torch files with one-line errors."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import torch

from configs.schema import ConfigError


def load_tensors(path: str | Path, what: str = "torch file"):
    """torch.load(path, weights_only=True); a missing, truncated or foreign file: one-line ConfigError."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: {what} missing")
    try:
        return torch.load(path, weights_only=True, map_location="cpu")
    except (RuntimeError, OSError, EOFError, ValueError, pickle.UnpicklingError, zipfile.BadZipFile) as exc:
        reason = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise ConfigError(
            f"{path}: {what} unreadable (truncated or not a weights-only torch file: {reason})"
        ) from None
