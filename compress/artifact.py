"""The compress artifact: model.yaml manifest, weights.npz, vectors.npz (docs/artifact.md). No torch.

- build_artifact(float_model, X_cal, len_cal, quant) -> Artifact: calibration (section 2 of
  docs/arithmetic.md), quantization of every weight/bias, PWL tables, manifest.
- make_vectors(art, X, lengths, source) -> dict: inputs, the integer reference's exact outputs, internals.
- save_artifact(art, dir) / load_artifact(dir): deterministic bytes; load validates and raises ArtifactError
  (one line naming the file and key).
- random_float_model(...) / random_artifact(...): small random models of every cell type for hardware tests.
"""

from __future__ import annotations

import io
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from compress import cells, graph
from compress import fixedpoint as fx
from compress import reference as ref
from configs.schema import ConfigError
from configs.util import atomic_write_bytes, atomic_write_text

ARTIFACT_VERSION = 1
MANIFEST, WEIGHTS, VECTORS = "model.yaml", "weights.npz", "vectors.npz"
QUANT_KEYS = ("weight_bits", "act_bits", "preact_bits", "cell_bits", "pwl_segments", "matvec_mode")
MODEL_KEYS = (
    "cell",
    "input_size",
    "output_size",
    "hidden",
    "layers",
    "projection",
    "peepholes",
    "n2",
    "per_step",
    "task_kind",
)


class ArtifactError(ConfigError):
    """A missing, truncated, wrong-version or inconsistent artifact (message is one line)."""


@dataclass
class Artifact:
    """manifest (the model.yaml dict), arrays (weights.npz: int64), vectors (vectors.npz) or None."""

    manifest: dict
    arrays: dict[str, np.ndarray]
    vectors: dict[str, np.ndarray] | None = None
    float_model: dict | None = field(default=None, repr=False)  # not saved


# ----------------------------------------------------------------------------------------------- structure
def matrix_defs(model: dict) -> dict[str, cells.Matrix]:
    """Every weight matrix of a model, from its cell definition (compress/cells.py) and the head."""
    d = cells.get(model["cell"])
    out: dict[str, cells.Matrix] = {}
    n_in = model["input_size"]
    for k, names in enumerate(ref.cell_names(model)):
        xin = ref.layer_input_name(model, k)
        for c in names:
            out.update(d.matrices(model, c, n_in, xin))
        n_in = ref.layer_width(model)
    last = ref.cell_names(model)[-1][0]
    out["head.w"] = cells.Matrix(model["output_size"], n_in, ref.cell_output_name(model, last), "head.y")
    return out


def vector_defs(model: dict) -> dict[str, cells.Vector]:
    """Every bias / peephole / scalar of a model."""
    d = cells.get(model["cell"])
    out: dict[str, cells.Vector] = {}
    for names in ref.cell_names(model):
        for c in names:
            out.update(d.vectors(model, c))
    out["head.b"] = cells.Vector((model["output_size"],), "head.y")
    return out


def matrix_specs(model: dict) -> dict[str, dict]:
    """Every weight matrix of a model: name -> {rows, cols, dense_only, inp, out} (inp/out: format names)."""
    return {
        k: dict(rows=m.rows, cols=m.cols, dense_only=m.dense_only, inp=m.inp, out=m.out)
        for k, m in matrix_defs(model).items()
    }


def vector_specs(model: dict) -> dict[str, dict]:
    """Every bias / peephole / scalar: name -> {shape, fmt (format name it is stored at)}."""
    return {k: dict(shape=v.shape, fmt=v.fmt) for k, v in vector_defs(model).items()}


def activation_tensors(model: dict) -> dict[str, str]:
    """Activation format names -> width class (act | preact | cell)."""
    d = cells.get(model["cell"])
    out = {"x": "act_bits", "head.y": "preact_bits"}
    for names in ref.cell_names(model):
        for c in names:
            out.update(d.tensors(model, c))
    return out


def pwl_uses(model: dict, formats: dict) -> list[tuple[str, int]]:
    """(func, input frac) pairs the model needs a table for (from its op graph)."""
    return sorted({(func, formats[z]["frac"]) for func, z in graph.pwl_functions(model)})


def block_shape(rows: int, cols: int, b: int) -> tuple[int, int]:
    """(p, q) blocks of a rows x cols matrix."""
    return -(-rows // b), -(-cols // b)


def valid_diagonals(rows: int, cols: int, b: int) -> np.ndarray:
    """(p, q, b) bool: diagonal k of block (i, j) has at least one entry inside rows x cols."""
    p, q = block_shape(rows, cols, b)
    r = np.arange(p * b)[:, None]
    c = np.arange(q * b)[None, :]
    inside = (r < rows) & (c < cols)
    out = np.zeros((p, q, b), dtype=bool)
    k = (r - c) % b
    ii = np.broadcast_to(r // b, inside.shape)
    jj = np.broadcast_to(c // b, inside.shape)
    np.logical_or.at(out, (ii, jj, np.broadcast_to(k, inside.shape)), inside)
    return out


def _fmt(bits: int, frac: int) -> dict:
    return {
        "bits": int(bits),
        "frac": int(frac),
        "signed": True,
        "rounding": "half_up",
        "saturation": "saturate",
    }


# ----------------------------------------------------------------------------------------------- building
def build_artifact(float_model: dict, X_cal, len_cal, quant: dict) -> Artifact:
    """Calibrate formats on (X_cal, len_cal) with the float model, quantize everything, fit the PWL tables."""
    model = dict(float_model["model"])
    q = {k: quant[k] for k in QUANT_KEYS}
    Bw, Ba, Bz, Bc = q["weight_bits"], q["act_bits"], q["preact_bits"], q["cell_bits"]
    widths = {"act_bits": Ba, "preact_bits": Bz, "cell_bits": Bc}
    calib = quant.get("calibration", "max")
    if calib == "max":
        cal = ref.run_float(float_model, X_cal, len_cal)["maxabs"]
    elif isinstance(calib, str) and calib.startswith("p"):
        cal = ref.run_float(float_model, X_cal, len_cal, quantile=float(calib[1:]))["quantiles"]
    else:
        raise ArtifactError(f"quantization.calibration: 'max' or 'pNN.N' (got {calib!r})")
    q["calibration"] = calib
    for names in ref.cell_names(model):  # both directions share these formats (section 7)
        for suf in cells.get(model["cell"]).shared_formats:
            m = max(cal.get(f"{c}.{suf}", 0.0) for c in names)
            for c in names:
                cal[f"{c}.{suf}"] = m
    formats = {"act": _fmt(Ba, Ba - 2)}
    for name, cls in activation_tensors(model).items():
        formats[name] = _fmt(widths[cls], fx.choose_frac(cal.get(name, 0.0), widths[cls]))
    arrays: dict[str, np.ndarray] = {}
    matrices: dict[str, dict] = {}
    for name, spec in matrix_specs(model).items():
        meta = float_model["matrices"][name]
        w = np.asarray(meta["w"], dtype=np.float64)
        entry = {"rows": spec["rows"], "cols": spec["cols"], "input": spec["inp"], "output": spec["out"]}
        if meta["structure"] == "circulant":
            b = int(meta["b"])
            p, qq = block_shape(spec["rows"], spec["cols"], b)
            if w.shape != (p, qq, b):
                raise ArtifactError(f"float model: {name}: circulant vectors shape {w.shape} != {(p, qq, b)}")
            fr, fi = fx.freq_weights_float(w)
            ff = fx.choose_frac(max(np.max(np.abs(fr)), np.max(np.abs(fi))), Bw)
            formats[name + ".f"] = _fmt(Bw, ff)
            arrays[name + ".wf_re"] = fx.quantize(fr, Bw, ff)
            arrays[name + ".wf_im"] = fx.quantize(fi, Bw, ff)
            entry.update(
                structure="circulant",
                b=b,
                p=p,
                q=qq,
                pad_rows=p * b - spec["rows"],
                pad_cols=qq * b - spec["cols"],
            )
            entry["freq_format"] = name + ".f"
            entry["freq_bins"] = b // 2 + 1
        else:
            if w.shape != (spec["rows"], spec["cols"]):
                raise ArtifactError(
                    f"float model: {name}: dense shape {w.shape} != {(spec['rows'], spec['cols'])}"
                )
            entry.update(structure="dense", b=None, p=None, q=None, pad_rows=0, pad_cols=0, freq_format=None)
        formats[name] = _fmt(Bw, fx.choose_frac(np.max(np.abs(w)) if w.size else 0.0, Bw))
        entry["format"] = name
        arrays[name + ".w"] = fx.quantize(w, Bw, formats[name]["frac"])
        matrices[name] = entry
    for name, spec in vector_specs(model).items():
        v = np.asarray(float_model["vectors"][name], dtype=np.float64).reshape(spec["shape"])
        if spec["fmt"] not in formats:  # peepholes, mu, s: weight class, calibrated on themselves
            formats[spec["fmt"]] = _fmt(Bw, fx.choose_frac(np.max(np.abs(v)) if v.size else 0.0, Bw))
        f = formats[spec["fmt"]]
        arrays[name] = fx.quantize(v, f["bits"], f["frac"])
    pwl = {}
    for func, frac in pwl_uses(model, formats):
        try:
            t = fx.pwl_table(func, q["pwl_segments"], frac, Ba)
        except ValueError as exc:
            raise ArtifactError(
                f"quantization: {exc} (a {func} input range too wide for its width)"
            ) from None
        t["c0"], t["c1"] = [int(v) for v in t["c0"]], [int(v) for v in t["c1"]]
        pwl[f"{func}_f{frac}"] = t
    manifest = {
        "contract_version": fx.CONTRACT_VERSION,
        "artifact_version": ARTIFACT_VERSION,
        "model": {k: model.get(k) for k in MODEL_KEYS}
        | {"momentum": model.get("momentum"), "step_size": model.get("step_size")},
        "quantization": q,
        "fft": {
            "algorithm": "radix2_dit",
            "twiddle_bits": fx.TWIDDLE_BITS,
            "twiddle_frac": fx.TWIDDLE_FRAC,
            "guard_bits": fx.GUARD_BITS,
            "stage_scaling": "none",
            "rounding": "half_up",
            "inverse_final_shift": "guard_bits + log2(b)",
        },
        "formats": dict(sorted(formats.items())),
        "matrices": matrices,
        "vectors": {
            k: {"shape": list(v["shape"]), "format": v["fmt"]} for k, v in vector_specs(model).items()
        },
        "pwl": pwl,
        "calibration": {k: float(v) for k, v in sorted(cal.items())},
    }
    _check_int64(manifest)
    return Artifact(manifest, arrays, None, float_model)


def _check_int64(man: dict) -> None:
    q = man["quantization"]
    need = (
        q["weight_bits"]
        + q["act_bits"]
        + 1
        + max(
            (math.ceil(math.log2(max(m["cols"] + m["pad_cols"], 2))) for m in man["matrices"].values()),
            default=1,
        )
    )
    bmax = max([m["b"] or 2 for m in man["matrices"].values()] + [2])
    need_fft = q["preact_bits"] + fx.GUARD_BITS + 2 * fx.log2_exact(bmax) + 1 + fx.TWIDDLE_BITS + 1
    if need > 62 or need_fft > 62:
        raise ArtifactError(
            f"quantization: widths too large for the 64-bit reference (need {max(need, need_fft)} bits)"
        )


def make_vectors(art: Artifact, X, lengths, source=None) -> dict[str, np.ndarray]:
    """vectors.npz content: inputs, the integer reference's outputs and per-step internals."""
    X = np.asarray(X, dtype=np.float64)
    lengths = np.asarray(lengths if lengths is not None else np.full(len(X), X.shape[1]), dtype=np.int64)
    res = ref.run_int(art, X, lengths, record=True)
    fmt = art.manifest["formats"]["x"]
    vec = {
        "x": X,
        "x_int": fx.quantize(X, fmt["bits"], fmt["frac"]),
        "lengths": lengths,
        "y": res["y"],
        "source": np.asarray(source if source is not None else np.zeros(len(X)), dtype=np.int64),
        "sat_keys": np.asarray(list(res["sat"].keys()), dtype="U64"),
        "sat_counts": np.asarray(list(res["sat"].values()), dtype=np.int64),
    }
    for k, v in res["internals"].items():
        vec[f"step.{k}"] = v
    return vec


# ----------------------------------------------------------------------------------------------- I/O
def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """Deterministic .npz bytes (sorted keys, fixed timestamps, stored)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for key in sorted(arrays):
            a = io.BytesIO()
            np.lib.format.write_array(a, np.array(arrays[key], order="C"), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, a.getvalue())
    return buf.getvalue()


def manifest_text(man: dict) -> str:
    return yaml.safe_dump(man, sort_keys=True, default_flow_style=None, width=110)


def save_artifact(art: Artifact, out_dir: str | Path) -> Path:
    """Write model.yaml, weights.npz and vectors.npz (if any) atomically; returns the folder."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / WEIGHTS, npz_bytes(art.arrays))
    if art.vectors is not None:
        atomic_write_bytes(out / VECTORS, npz_bytes(art.vectors))
    atomic_write_text(out / MANIFEST, manifest_text(art.manifest))  # last: a manifest means a complete folder
    return out


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise ArtifactError(f"{path}: missing")
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except Exception as exc:  # truncated/corrupt zip, bad header
        raise ArtifactError(
            f"{path}: unreadable npz ({type(exc).__name__}: {str(exc).splitlines()[0][:80]})"
        ) from None


def _req(d: dict, key: str, file: Path, where: str):
    if not isinstance(d, dict) or key not in d:
        raise ArtifactError(f"{file}: {where}{key}: missing key")
    return d[key]


def validate(art: Artifact, folder: Path) -> None:
    """Check manifest keys, versions, shapes and value ranges; raises ArtifactError (one line)."""
    mf, wf, vf = folder / MANIFEST, folder / WEIGHTS, folder / VECTORS
    man = art.manifest
    if not isinstance(man, dict):
        raise ArtifactError(f"{mf}: not a mapping")
    for key, want in (("contract_version", fx.CONTRACT_VERSION), ("artifact_version", ARTIFACT_VERSION)):
        got = _req(man, key, mf, "")
        if got != want:
            raise ArtifactError(f"{mf}: {key}: expected {want} (got {got!r})")
    model = _req(man, "model", mf, "")
    for k in MODEL_KEYS:
        _req(model, k, mf, "model.")
    if model["cell"] not in ref.CELLS:
        raise ArtifactError(f"{mf}: model.cell: unknown cell (got {model['cell']!r})")
    q = _req(man, "quantization", mf, "")
    for k in QUANT_KEYS:
        _req(q, k, mf, "quantization.")
    if q["matvec_mode"] not in ("direct", "fft"):
        raise ArtifactError(
            f"{mf}: quantization.matvec_mode: must be direct or fft (got {q['matvec_mode']!r})"
        )
    fft = _req(man, "fft", mf, "")
    for k in ("twiddle_bits", "twiddle_frac", "guard_bits"):
        _req(fft, k, mf, "fft.")
    if (fft["twiddle_bits"], fft["twiddle_frac"]) != (fx.TWIDDLE_BITS, fx.TWIDDLE_FRAC):
        raise ArtifactError(f"{mf}: fft.twiddle_bits: contract fixes (18, 16) (got {fft['twiddle_bits']!r})")
    formats = _req(man, "formats", mf, "")
    matrices = _req(man, "matrices", mf, "")
    pwl = _req(man, "pwl", mf, "")
    for name in list(activation_tensors(model)) + ["act"]:
        f = _req(formats, name, mf, "formats.")
        _req(f, "bits", mf, f"formats.{name}.")
        _req(f, "frac", mf, f"formats.{name}.")
    for name, spec in matrix_specs(model).items():
        m = _req(matrices, name, mf, "matrices.")
        for k in ("rows", "cols", "structure"):
            _req(m, k, mf, f"matrices.{name}.")
        if (m["rows"], m["cols"]) != (spec["rows"], spec["cols"]):
            raise ArtifactError(
                f"{mf}: matrices.{name}: shape ({m['rows']}, {m['cols']}) disagrees with the model "
                f"({spec['rows']}, {spec['cols']})"
            )
        key = name + ".w"
        w = _req(art.arrays, key, wf, "")
        if m["structure"] == "circulant":
            b = m.get("b")
            if not isinstance(b, int) or b < 2 or (b & (b - 1)):
                raise ArtifactError(f"{mf}: matrices.{name}.b: must be a power of two >= 2 (got {b!r})")
            shape = (*block_shape(m["rows"], m["cols"], b), b)
            for k2, shp in (
                (name + ".wf_re", shape[:2] + (b // 2 + 1,)),
                (name + ".wf_im", shape[:2] + (b // 2 + 1,)),
            ):
                a = _req(art.arrays, k2, wf, "")
                if a.shape != shp:
                    raise ArtifactError(f"{wf}: {k2}: shape {a.shape} disagrees with {mf} ({shp})")
            _req(formats, name + ".f", mf, "formats.")
        elif m["structure"] == "dense":
            shape = (m["rows"], m["cols"])
        else:
            raise ArtifactError(
                f"{mf}: matrices.{name}.structure: dense or circulant (got {m['structure']!r})"
            )
        if w.shape != shape:
            raise ArtifactError(f"{wf}: {key}: shape {w.shape} disagrees with {mf} ({shape})")
        _check_range(w, _req(formats, name, mf, "formats.")["bits"], wf, key)
    for name, spec in vector_specs(model).items():
        a = _req(art.arrays, name, wf, "")
        if tuple(a.shape) != tuple(spec["shape"]):
            raise ArtifactError(f"{wf}: {name}: shape {a.shape} disagrees with {mf} ({tuple(spec['shape'])})")
        _check_range(a, _req(formats, spec["fmt"], mf, "formats.")["bits"], wf, name)
    for func, frac in pwl_uses(model, formats):
        t = _req(pwl, f"{func}_f{frac}", mf, "pwl.")
        n = _req(t, "n_segments", mf, f"pwl.{func}_f{frac}.")
        for k in ("c0", "c1"):
            if len(_req(t, k, mf, f"pwl.{func}_f{frac}.")) != n:
                raise ArtifactError(f"{mf}: pwl.{func}_f{frac}.{k}: expected {n} entries")
    if art.vectors is not None:
        v = art.vectors
        x = _req(v, "x", vf, "")
        if x.ndim != 3 or x.shape[2] != model["input_size"]:
            raise ArtifactError(f"{vf}: x: shape {x.shape} disagrees with input_size {model['input_size']}")
        N, T = x.shape[:2]
        for k, shp in (
            ("lengths", (N,)),
            ("y", (N, T, model["output_size"]) if model["per_step"] else (N, model["output_size"])),
            ("x_int", x.shape),
        ):
            a = _req(v, k, vf, "")
            if a.shape != shp:
                raise ArtifactError(f"{vf}: {k}: shape {a.shape} disagrees with {shp}")


def _check_range(a: np.ndarray, bits: int, file: Path, key: str) -> None:
    if not np.issubdtype(a.dtype, np.integer):
        raise ArtifactError(f"{file}: {key}: expected integers (got dtype {a.dtype})")
    lo, hi = fx.sat_bounds(bits)
    if a.size and (a.min() < lo or a.max() > hi):
        raise ArtifactError(f"{file}: {key}: values outside {bits}-bit range")


def load_artifact(folder: str | Path, vectors: bool = True) -> Artifact:
    """Load and validate an artifact folder; ArtifactError (one line naming file and key) on any defect."""
    folder = Path(folder)
    mf = folder / MANIFEST
    if not mf.is_file():
        raise ArtifactError(f"{mf}: missing")
    try:
        man = yaml.safe_load(mf.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ArtifactError(f"{mf}: invalid YAML{f' at line {mark.line + 1}' if mark else ''}") from None
    if not isinstance(man, dict):
        raise ArtifactError(f"{mf}: not a mapping (empty or truncated?)")
    arrays = _load_npz(folder / WEIGHTS)
    vec = _load_npz(folder / VECTORS) if vectors and (folder / VECTORS).exists() else None
    art = Artifact(
        man,
        {k: v.astype(np.int64) if np.issubdtype(v.dtype, np.integer) else v for k, v in arrays.items()},
        vec,
    )
    validate(art, folder)
    return art


# ------------------------------------------------------------------------------------------- random models
def random_float_model(
    cell: str,
    input_size: int = 5,
    hidden: int = 8,
    output_size: int = 3,
    layers: int = 1,
    b: int | None = 4,
    projection: int = 0,
    peepholes: bool = False,
    n2: int = 0,
    per_step: bool = False,
    seed: int = 0,
    scale: float = 1.0,
) -> dict:
    """A float model dict (docs/artifact.md) with random weights; b = None -> all matrices dense."""
    rng = np.random.default_rng(seed)
    if cell == "enrnn" and not 0 < n2 < hidden:
        n2 = max(1, hidden // 4)
    model = {
        "cell": cell,
        "input_size": input_size,
        "output_size": output_size,
        "hidden": hidden,
        "layers": layers,
        "projection": projection if cell in ("lstm", "bilstm") else 0,
        "peepholes": bool(peepholes) if cell in ("lstm", "bilstm") else False,
        "n2": n2 if cell == "enrnn" else 0,
        "per_step": per_step,
        "task_kind": "copying" if per_step else "classification",
        "momentum": 0.6 if cell == "momentum_lstm" else None,
        "step_size": 0.6 if cell == "momentum_lstm" else None,
    }
    k = scale / math.sqrt(hidden)
    mats = {}
    for name, m in matrix_defs(model).items():
        rows, cols = m.rows, m.cols
        if m.init == "orthogonal":
            qm, _ = np.linalg.qr(rng.normal(size=(rows, rows)))
            mats[name] = {"rows": rows, "cols": cols, "structure": "dense", "b": None, "w": qm}
        elif m.init == "contractive":
            a = rng.normal(size=(rows, rows))
            a *= 0.9 / max(np.max(np.abs(np.linalg.eigvals(a))), 1e-9)
            mats[name] = {"rows": rows, "cols": cols, "structure": "dense", "b": None, "w": a}
        elif b is None or m.dense_only:
            mats[name] = {
                "rows": rows,
                "cols": cols,
                "structure": "dense",
                "b": None,
                "w": rng.uniform(-k, k, (rows, cols)),
            }
        else:
            p, q = block_shape(rows, cols, b)
            w = rng.uniform(-k, k, (p, q, b)) * valid_diagonals(rows, cols, b)
            mats[name] = {"rows": rows, "cols": cols, "structure": "circulant", "b": b, "w": w}
    vecs = {}
    for name, v in vector_defs(model).items():
        if v.init.startswith("const:"):
            vecs[name] = np.float64(float(v.init.split(":", 1)[1]))
        elif v.init == "small":
            vecs[name] = rng.uniform(-0.05, 0.05, v.shape)
        else:
            vecs[name] = rng.uniform(-k, k, v.shape)
    return {"model": model, "matrices": mats, "vectors": vecs}


def random_artifact(
    cell: str,
    input_size: int = 5,
    hidden: int = 8,
    output_size: int = 3,
    layers: int = 1,
    b: int | None = 4,
    mode: str = "direct",
    seed: int = 0,
    T: int = 6,
    n_vectors: int = 4,
    projection: int = 0,
    peepholes: bool = False,
    n2: int = 0,
    per_step: bool = False,
    weight_bits: int = 16,
    act_bits: int = 16,
    preact_bits: int = 16,
    cell_bits: int = 16,
    pwl_segments: int = 32,
    out_dir: str | Path | None = None,
) -> Artifact:
    """A valid artifact (with vectors) of a random small model, built without torch.

    Calibration on 32 random sequences (uniform [-1, 1), length T); vectors: n_vectors random sequences with
    random lengths in [1, T] (the first has length T). out_dir: also save it there.
    """
    fm = random_float_model(
        cell, input_size, hidden, output_size, layers, b, projection, peepholes, n2, per_step, seed
    )
    rng = np.random.default_rng(seed + 1)
    Xc = rng.uniform(-1, 1, (32, T, input_size))
    quant = dict(
        weight_bits=weight_bits,
        act_bits=act_bits,
        preact_bits=preact_bits,
        cell_bits=cell_bits,
        pwl_segments=pwl_segments,
        matvec_mode=mode,
    )
    art = build_artifact(fm, Xc, np.full(32, T), quant)
    X = rng.uniform(-1, 1, (n_vectors, T, input_size))
    lengths = rng.integers(1, T + 1, n_vectors)
    lengths[0] = T
    if per_step:
        lengths[:] = T
    art.vectors = make_vectors(art, X, lengths)
    if out_dir is not None:
        save_artifact(art, out_dir)
    return art
