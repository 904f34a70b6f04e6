"""Tasks: synthetic copying/adding, sequential digits, JapaneseVowels and user .npz data (all offline).

`load_task(cfg)` returns a TaskData whose arrays are plain numpy (X float32 (N, T, F), y, lengths int64 (N,)).
Real-valued features are normalised per feature with training-set statistics (padding stays 0); the synthetic
tasks keep their standard encodings. Everything is deterministic in cfg["seed"].
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from configs.schema import ConfigError

log = logging.getLogger(__name__)

N_SYMBOLS = 8  # copying: symbols 1..8, 0 = blank, 9 = marker
BLANK, MARKER = 0, N_SYMBOLS + 1


@dataclass
class TaskData:
    """A loaded task: train/test splits as (X, y, lengths) numpy tuples plus what the loop needs to know."""

    name: str
    kind: str  # classification | regression | copying
    input_size: int
    output_size: int
    train: tuple
    test: tuple
    metric_name: str  # accuracy | mse | copy_accuracy
    per_step: bool = False
    copy_length: int = 0  # copying: the scored steps are the last copy_length ones
    feature_mean: np.ndarray | None = field(default=None, repr=False)
    feature_std: np.ndarray | None = field(default=None, repr=False)


def _rng(seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng([seed, sum(ord(c) * 131**i for i, c in enumerate(stream)) % (2**32)])


# ---------------------------------------------------------------------------------------------- synthetic
def copying_data(n: int, delay: int, copy_length: int, rng: np.random.Generator):
    """Copying memory task (Arjovsky et al.; Helfrich et al.): total length delay + 2 * copy_length.

    Input (one-hot over 10 categories): copy_length symbols in 1..8, delay - 1 blanks, a marker, copy_length
    blanks.
    Target per step: blank (0) everywhere except the last copy_length steps, which repeat the symbols.
    """
    total = delay + 2 * copy_length
    seq = rng.integers(1, N_SYMBOLS + 1, size=(n, copy_length))
    inp = np.full((n, total), BLANK, dtype=np.int64)
    inp[:, :copy_length] = seq
    inp[:, copy_length + delay - 1] = MARKER
    tgt = np.full((n, total), BLANK, dtype=np.int64)
    tgt[:, -copy_length:] = seq
    x = np.eye(N_SYMBOLS + 2, dtype=np.float32)[inp]
    return x, tgt, np.full(n, total, dtype=np.int64)


def adding_data(n: int, length: int, rng: np.random.Generator):
    """Adding problem: channel 0 uniform [0, 1), channel 1 marks one step in each half; target = their sum."""
    x = np.zeros((n, length, 2), dtype=np.float32)
    x[:, :, 0] = rng.random((n, length), dtype=np.float32)
    half = max(length // 2, 1)
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, length, size=n) if length > 1 else first
    rows = np.arange(n)
    x[rows, first, 1] = 1.0
    x[rows, second, 1] = 1.0
    y = (x[rows, first, 0] + x[rows, second, 0]) * np.where(first == second, 0.5, 1.0)
    return x, y.astype(np.float32)[:, None], np.full(n, length, dtype=np.int64)


# ---------------------------------------------------------------------------------------------- helpers
def _normalise(train: tuple, test: tuple):
    """Per-feature standardisation with statistics over the valid steps of the training set."""
    x_tr, y_tr, l_tr = train
    x_te, y_te, l_te = test
    valid = np.arange(x_tr.shape[1])[None, :] < l_tr[:, None]
    flat = x_tr[valid].astype(np.float64)
    mean = flat.mean(axis=0)
    std = flat.std(axis=0)
    std = np.where(std > 1e-8, std, 1.0)

    def apply(x, lengths):
        out = ((x - mean) / std).astype(np.float32)
        out[np.arange(x.shape[1])[None, :] >= lengths[:, None]] = 0.0
        return out

    return (
        (apply(x_tr, l_tr), y_tr, l_tr),
        (apply(x_te, l_te), y_te, l_te),
        mean.astype(np.float32),
        std.astype(np.float32),
    )


def _split(x, y, lengths, test_fraction: float, seed: int, stratify: bool):
    """Deterministic (seeded) train/test split; stratified by class for classification."""
    n = len(x)
    rng = _rng(seed, "split")
    if stratify:
        test_idx = []
        for c in np.unique(y):
            idx = np.flatnonzero(y == c)
            idx = idx[rng.permutation(len(idx))]
            test_idx.append(idx[: int(round(test_fraction * len(idx)))])
        test_idx = np.sort(np.concatenate(test_idx))
    else:
        test_idx = np.sort(rng.permutation(n)[: int(round(test_fraction * n))])
    mask = np.zeros(n, dtype=bool)
    mask[test_idx] = True
    if mask.all() or not mask.any():
        mask[:] = False
        mask[: max(1, n // 5)] = True
    return (x[~mask], y[~mask], lengths[~mask]), (x[mask], y[mask], lengths[mask])


def _classification(name, train, test, n_classes=None):
    train, test, mean, std = _normalise(train, test)
    n_classes = n_classes or int(max(train[1].max(), test[1].max())) + 1
    return TaskData(
        name, "classification", train[0].shape[2], n_classes, train, test, "accuracy", False, 0, mean, std
    )


# ---------------------------------------------------------------------------------------------- real data
def _digits(pixel: bool, cfg: dict) -> TaskData:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = d.data.astype(np.float32).reshape(-1, 64, 1) if pixel else d.data.astype(np.float32).reshape(-1, 8, 8)
    y = d.target.astype(np.int64)
    lengths = np.full(len(x), x.shape[1], dtype=np.int64)
    train, test = _split(x, y, lengths, cfg["task"]["test_fraction"], cfg["seed"], stratify=True)
    return _classification("digits_pixel" if pixel else "digits_row", train, test, 10)


def japanese_vowels_dir() -> Path:
    """Folder of the JapaneseVowels .ts files bundled in the aeon wheel (found without importing aeon)."""
    spec = importlib.util.find_spec("aeon")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "task.name: japanese_vowels needs the aeon wheel's bundled data (aeon is not installed)"
        )
    for loc in spec.submodule_search_locations:
        folder = Path(loc) / "datasets" / "data" / "JapaneseVowels"
        if (folder / "JapaneseVowels_TRAIN.ts").exists():
            return folder
    raise ConfigError("task.name: JapaneseVowels_TRAIN.ts not found in the aeon package")


def read_ts(path: Path) -> tuple[list[np.ndarray], list[str]]:
    """Parse a multivariate, unequal-length .ts file: list of (T_i, F) arrays and the class labels."""
    series, labels, in_data = [], [], False
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            in_data = line.lower() == "@data"
            continue
        *dims, label = line.split(":")
        series.append(np.array([[float(v) for v in d.split(",")] for d in dims], dtype=np.float32).T)
        labels.append(label.strip())
    return series, labels


def _pad(series: list[np.ndarray], length: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.zeros((len(series), length, series[0].shape[1]), dtype=np.float32)
    for i, s in enumerate(series):
        x[i, : len(s)] = s
    return x, np.array([len(s) for s in series], dtype=np.int64)


def _japanese_vowels(cfg: dict) -> TaskData:
    folder = japanese_vowels_dir()
    tr_s, tr_l = read_ts(folder / "JapaneseVowels_TRAIN.ts")
    te_s, te_l = read_ts(folder / "JapaneseVowels_TEST.ts")
    classes = sorted(set(tr_l) | set(te_l), key=lambda c: (len(c), c))
    index = {c: i for i, c in enumerate(classes)}
    t_max = max(len(s) for s in tr_s + te_s)
    x_tr, l_tr = _pad(tr_s, t_max)
    x_te, l_te = _pad(te_s, t_max)
    y_tr = np.array([index[c] for c in tr_l], dtype=np.int64)
    y_te = np.array([index[c] for c in te_l], dtype=np.int64)
    return _classification("japanese_vowels", (x_tr, y_tr, l_tr), (x_te, y_te, l_te), len(classes))


def _npz(cfg: dict) -> TaskData:
    path = Path(cfg["task"]["path"])
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: task.path: cannot read .npz ({type(exc).__name__}: {exc})") from None
    for key in ("X", "y"):
        if key not in data.files:
            raise ConfigError(f"{path}: {key}: missing array (file has {sorted(data.files)})")
    x, y = data["X"], data["y"]
    if x.ndim != 3 or min(x.shape) < 1:
        raise ConfigError(f"{path}: X: expected a non-empty 3-D array (N, T, F) (got shape {x.shape})")
    if not np.issubdtype(x.dtype, np.number) or not np.isfinite(x).all():
        raise ConfigError(f"{path}: X: expected finite numbers (got dtype {x.dtype})")
    n, t = x.shape[:2]
    if y.ndim not in (1, 2) or y.shape[0] != n:
        raise ConfigError(f"{path}: y: expected shape ({n},) or ({n}, K) matching X (got shape {y.shape})")
    regression = cfg["task"]["regression"]
    if regression:
        if not np.issubdtype(y.dtype, np.number) or not np.isfinite(y).all():
            raise ConfigError(f"{path}: y: expected finite regression targets (got dtype {y.dtype})")
        y = y.astype(np.float32).reshape(n, -1)
    else:
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.number) or (y < 0).any() or (y != np.round(y)).any():
            raise ConfigError(
                f"{path}: y: expected class labels 0..K-1 of shape ({n},) (got {y.dtype} {y.shape})"
            )
        y = y.astype(np.int64)
    if "lengths" in data.files:
        lengths = data["lengths"]
        if lengths.shape != (n,) or not np.issubdtype(lengths.dtype, np.integer):
            raise ConfigError(
                f"{path}: lengths: expected integers of shape ({n},) (got {lengths.dtype} {lengths.shape})"
            )
        if (lengths < 1).any() or (lengths > t).any():
            raise ConfigError(
                f"{path}: lengths: values must lie in 1..{t} (got {lengths.min()}..{lengths.max()})"
            )
        lengths = lengths.astype(np.int64)
    else:
        lengths = np.full(n, t, dtype=np.int64)
    x = x.astype(np.float32)
    train, test = _split(x, y, lengths, cfg["task"]["test_fraction"], cfg["seed"], stratify=not regression)
    if not regression:
        return _classification("npz", train, test)
    train, test, mean, std = _normalise(train, test)
    return TaskData("npz", "regression", x.shape[2], y.shape[1], train, test, "mse", False, 0, mean, std)


# ---------------------------------------------------------------------------------------------- entry point
def load_task(cfg: dict) -> TaskData:
    """Load (or generate) the task named by cfg["task"]["name"]; deterministic in cfg["seed"]."""
    t, seed = cfg["task"], cfg["seed"]
    name = t["name"]
    if name == "copying":
        train = copying_data(t["n_train"], t["seq_len"], t["copy_length"], _rng(seed, "copying-train"))
        test = copying_data(t["n_test"], t["seq_len"], t["copy_length"], _rng(seed, "copying-test"))
        return TaskData(
            name,
            "copying",
            N_SYMBOLS + 2,
            N_SYMBOLS + 1,
            train,
            test,
            "copy_accuracy",
            True,
            t["copy_length"],
        )
    if name == "adding":
        train = adding_data(t["n_train"], t["seq_len"], _rng(seed, "adding-train"))
        test = adding_data(t["n_test"], t["seq_len"], _rng(seed, "adding-test"))
        return TaskData(name, "regression", 2, 1, train, test, "mse")
    if name in ("digits_row", "digits_pixel"):
        return _digits(name == "digits_pixel", cfg)
    if name == "japanese_vowels":
        return _japanese_vowels(cfg)
    if name == "npz":
        return _npz(cfg)
    raise ConfigError(f"task.name: unknown task (got {name!r})")
