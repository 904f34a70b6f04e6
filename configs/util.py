"""Small shared helpers for writing artifacts atomically (write to a temp file, then rename)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK  # what open() would give; mkstemp alone makes files 0600


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write bytes to path atomically: readers see the old file or the new one, never a partial one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write text (UTF-8) atomically."""
    atomic_write_bytes(path, text.encode())


def write_json(path: str | Path, obj) -> None:
    """Write obj as indented, key-sorted JSON atomically (deterministic bytes)."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def relative_paths(obj, base: str | Path, root: str | Path):
    """A copy of obj (dicts, lists, strings) with each absolute path under `base` made relative to it and each
    other one under `root` (the repository) relative to that: records that survive moving the build folder."""
    base, root = Path(base).resolve(), Path(root).resolve()
    if isinstance(obj, dict):
        return {k: relative_paths(v, base, root) for k, v in obj.items()}
    if isinstance(obj, list):
        return [relative_paths(v, base, root) for v in obj]
    if isinstance(obj, str) and obj.startswith("/"):
        p = Path(obj)
        for anchor in (base, root):
            if p.is_relative_to(anchor):
                return str(p.relative_to(anchor))
    return obj


def save_figure(fig, path: str | Path, dpi: int = 90) -> None:
    """Write a matplotlib figure as PNG atomically and close it."""
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
