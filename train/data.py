"""Tasks: synthetic copying/adding, sequential digits, JapaneseVowels and user .npz data (all offline).

`load_task(cfg)` returns a TaskData with train / val / test splits of plain numpy arrays (X float32 (N, T, F),
y, lengths int64 (N,)). Every task has a validation split: synthetic tasks generate one (task.n_test
sequences), the others hold out task.val_fraction of the training part (seeded, stratified by class), unless
a user .npz brings its own `split` array. Model selection uses val; test is only reported.
Real-valued features are normalised per feature with training-set statistics (padding stays 0), or with the
given task.mean / task.std, or not at all (task.normalize: false); the synthetic tasks keep their standard
encodings. Everything is deterministic in cfg["seed"].
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
    val: tuple | None = field(default=None, repr=False)


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
def _normalise(cfg: dict, train: tuple, *others: tuple):
    """Per-feature standardisation of every split (padding stays 0).

    Statistics over the valid steps of the training split, or task.mean / task.std when given; identity when
    task.normalize is false. Returns (normalised splits..., mean, std).
    """
    t, x_tr, l_tr = cfg["task"], train[0], train[2]
    n_feat = x_tr.shape[2]
    valid = np.arange(x_tr.shape[1])[None, :] < l_tr[:, None]
    flat = x_tr[valid].astype(np.float64)
    mean, std = flat.mean(axis=0), flat.std(axis=0)
    std = np.where(std > 1e-8, std, 1.0)
    for key in ("mean", "std"):
        if t[key] is not None and len(t[key]) not in (1, n_feat):
            raise ConfigError(
                f"task.{key}: expected 1 or {n_feat} values (one per input feature) (got {len(t[key])})"
            )
    if t["mean"] is not None:
        mean = np.broadcast_to(np.asarray(t["mean"], dtype=np.float64), (n_feat,))
    if t["std"] is not None:
        std = np.broadcast_to(np.asarray(t["std"], dtype=np.float64), (n_feat,))
        if (std <= 0).any():
            raise ConfigError(f"task.std: values must be > 0 (got {t['std']})")
    if not t["normalize"]:
        mean, std = np.zeros(n_feat), np.ones(n_feat)

    def apply(split):
        x, y, lengths = split
        out = ((x - mean) / std).astype(np.float32)
        out[np.arange(x.shape[1])[None, :] >= lengths[:, None]] = 0.0
        return out, y, lengths

    return (*(apply(s) for s in (train, *others)), mean.astype(np.float32), std.astype(np.float32))


def _holdout(split: tuple, fraction: float, seed: int, stream: str, stratify: bool):
    """Deterministic (seeded) hold-out of `fraction` of a split: (rest, held); stratified by class if asked.

    The two parts are disjoint and cover the split; the held part is never empty.
    """
    x, y, lengths = split
    n = len(x)
    rng = _rng(seed, stream)
    if stratify:
        held = []
        for c in np.unique(y):
            idx = np.flatnonzero(y == c)
            idx = idx[rng.permutation(len(idx))]
            held.append(idx[: int(round(fraction * len(idx)))])
        held_idx = np.sort(np.concatenate(held))
    else:
        held_idx = np.sort(rng.permutation(n)[: int(round(fraction * n))])
    mask = np.zeros(n, dtype=bool)
    mask[held_idx] = True
    if mask.all() or not mask.any():
        mask[:] = False
        mask[rng.permutation(n)[: max(1, n // 5)]] = True
    return (x[~mask], y[~mask], lengths[~mask]), (x[mask], y[mask], lengths[mask])


def _with_val(cfg: dict, train: tuple, stratify: bool) -> tuple[tuple, tuple]:
    """(train, val): task.val_fraction of the training part held out for validation."""
    return _holdout(train, cfg["task"]["val_fraction"], cfg["seed"], "val", stratify)


def _classification(cfg: dict, name: str, train: tuple, val: tuple, test: tuple, n_classes=None):
    train, val, test, mean, std = _normalise(cfg, train, val, test)
    n_classes = n_classes or int(max(train[1].max(), val[1].max(), test[1].max())) + 1
    return TaskData(
        name,
        "classification",
        train[0].shape[2],
        n_classes,
        train,
        test,
        "accuracy",
        False,
        0,
        mean,
        std,
        val,
    )


# ---------------------------------------------------------------------------------------------- real data
def _digits(pixel: bool, cfg: dict) -> TaskData:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = d.data.astype(np.float32).reshape(-1, 64, 1) if pixel else d.data.astype(np.float32).reshape(-1, 8, 8)
    y = d.target.astype(np.int64)
    lengths = np.full(len(x), x.shape[1], dtype=np.int64)
    train, test = _holdout((x, y, lengths), cfg["task"]["test_fraction"], cfg["seed"], "split", True)
    train, val = _with_val(cfg, train, stratify=True)
    return _classification(cfg, "digits_pixel" if pixel else "digits_row", train, val, test, 10)


def aeon_data_dir(dataset: str) -> Path:
    """Folder of a UEA/UCR data set's .ts files bundled in the aeon wheel (found without importing aeon)."""
    spec = importlib.util.find_spec("aeon")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            f"task.dataset: {dataset} needs the aeon wheel's bundled data (aeon is not installed)"
        )
    for loc in spec.submodule_search_locations:
        folder = Path(loc) / "datasets" / "data" / dataset
        if (folder / f"{dataset}_TRAIN.ts").exists() and (folder / f"{dataset}_TEST.ts").exists():
            return folder
    raise ConfigError(
        f"task.dataset: {dataset}_TRAIN.ts / _TEST.ts not found in the aeon package (got {dataset!r})"
    )


def japanese_vowels_dir() -> Path:
    """Folder of the JapaneseVowels .ts files bundled in the aeon wheel."""
    return aeon_data_dir("JapaneseVowels")


def read_ts(path: Path) -> tuple[list[np.ndarray], list[str]]:
    """Parse a (multivariate, unequal-length) .ts file: list of (T_i, F) arrays and the class labels."""
    series, labels, in_data = [], [], False
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            in_data = line.lower() == "@data"
            continue
        *dims, label = line.split(":")
        try:
            values = np.array([[float(v) for v in d.split(",")] for d in dims], dtype=np.float32).T
        except ValueError:
            raise ConfigError(f"{path}: line {number}: not a row of numbers (got {line[:40]!r})") from None
        if not np.isfinite(values).all():
            raise ConfigError(f"{path}: line {number}: missing or non-finite values are not supported")
        series.append(values)
        labels.append(label.strip())
    return series, labels


def _pad(series: list[np.ndarray], length: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.zeros((len(series), length, series[0].shape[1]), dtype=np.float32)
    for i, s in enumerate(series):
        x[i, : len(s)] = s
    return x, np.array([len(s) for s in series], dtype=np.int64)


def _ts_task(cfg: dict, dataset: str, name: str) -> TaskData:
    """A UEA/UCR classification set from aeon's bundled .ts files: official train/test, val from train."""
    folder = aeon_data_dir(dataset)
    tr_s, tr_l = read_ts(folder / f"{dataset}_TRAIN.ts")
    te_s, te_l = read_ts(folder / f"{dataset}_TEST.ts")
    if not tr_s or not te_s or len({s.shape[1] for s in tr_s + te_s}) != 1:
        raise ConfigError(f"{folder}: task.dataset: empty split or mixed dimension counts (got {dataset!r})")
    classes = sorted(set(tr_l) | set(te_l), key=lambda c: (len(c), c))
    index = {c: i for i, c in enumerate(classes)}
    t_max = max(len(s) for s in tr_s + te_s)
    x_tr, l_tr = _pad(tr_s, t_max)
    x_te, l_te = _pad(te_s, t_max)
    y_tr = np.array([index[c] for c in tr_l], dtype=np.int64)
    y_te = np.array([index[c] for c in te_l], dtype=np.int64)
    train, val = _with_val(cfg, (x_tr, y_tr, l_tr), stratify=True)
    return _classification(cfg, name, train, val, (x_te, y_te, l_te), len(classes))


SPLIT_NAMES = {"train": 0, "val": 1, "test": 2}


def _npz_split(path: Path, data, n: int) -> np.ndarray | None:
    """The optional `split` array as 0 (train) / 1 (val) / 2 (test) per sample, or None."""
    if "split" not in data.files:
        return None
    split = data["split"]
    if split.shape != (n,):
        raise ConfigError(f"{path}: split: expected shape ({n},) (got {split.shape})")
    if split.dtype.kind in "US":
        bad = sorted(set(split.astype(str)) - set(SPLIT_NAMES))
        if bad:
            raise ConfigError(f"{path}: split: values must be train/val/test (got {bad[0]!r})")
        split = np.array([SPLIT_NAMES[v] for v in split.astype(str)], dtype=np.int64)
    elif not np.issubdtype(split.dtype, np.integer) or not np.isin(split, (0, 1, 2)).all():
        raise ConfigError(f"{path}: split: expected 0/1/2 or train/val/test per sample (got {split.dtype})")
    if not (split == 0).any() or not (split == 2).any():
        raise ConfigError(f"{path}: split: needs at least one train and one test sample")
    return split


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
    split = _npz_split(path, data, n)
    stratify = not regression
    if split is None:
        train, test = _holdout((x, y, lengths), cfg["task"]["test_fraction"], cfg["seed"], "split", stratify)
        train, val = _with_val(cfg, train, stratify)
    else:
        train, val, test = ((x[split == k], y[split == k], lengths[split == k]) for k in (0, 1, 2))
        if not len(val[0]):
            train, val = _with_val(cfg, train, stratify)
    if not regression:
        return _classification(cfg, "npz", train, val, test)
    try:
        train, val, test, mean, std = _normalise(cfg, train, val, test)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return TaskData("npz", "regression", x.shape[2], y.shape[1], train, test, "mse", False, 0, mean, std, val)


# ---------------------------------------------------------------------------------------------- entry point
def load_task(cfg: dict) -> TaskData:
    """Load (or generate) the task named by cfg["task"]["name"]; deterministic in cfg["seed"]."""
    t, seed = cfg["task"], cfg["seed"]
    name = t["name"]
    if name == "copying":
        gen = [
            copying_data(n, t["seq_len"], t["copy_length"], _rng(seed, f"copying-{part}"))
            for part, n in (("train", t["n_train"]), ("test", t["n_test"]), ("val", t["n_test"]))
        ]
        return TaskData(
            name, "copying", N_SYMBOLS + 2, N_SYMBOLS + 1, gen[0], gen[1], "copy_accuracy", True,
            t["copy_length"], val=gen[2],
        )  # fmt: skip
    if name == "adding":
        gen = [
            adding_data(n, t["seq_len"], _rng(seed, f"adding-{part}"))
            for part, n in (("train", t["n_train"]), ("test", t["n_test"]), ("val", t["n_test"]))
        ]
        return TaskData(name, "regression", 2, 1, gen[0], gen[1], "mse", val=gen[2])
    if name in ("digits_row", "digits_pixel"):
        return _digits(name == "digits_pixel", cfg)
    if name == "japanese_vowels":
        return _ts_task(cfg, "JapaneseVowels", name)
    if name == "aeon":
        return _ts_task(cfg, t["dataset"], t["dataset"])
    if name == "npz":
        return _npz(cfg)
    raise ConfigError(f"task.name: unknown task (got {name!r})")
