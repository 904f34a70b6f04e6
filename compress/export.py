"""Export a trained torch model to the fixed-point artifact (build/NAME/compress/).

Reads build/NAME/train/model.pt through train.loop.load_trained (weights_only=True), extracts every matrix by
the attribute names of notes MODEL_API (model.layers[k].w_ih, ..., model.head), checks the numpy float model
against torch, calibrates and quantizes (compress.artifact.build_artifact), runs the integer reference on the
test set and writes model.yaml, weights.npz, vectors.npz, metrics.json and pwl.png. The only module of
compress/ that imports torch (and train/)."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np
import torch

from compress import fixedpoint as fx
from compress import reference as ref
from compress.artifact import build_artifact, make_vectors, save_artifact
from configs.schema import build_dir
from configs.util import atomic_write_bytes, save_figure, write_json

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------- torch -> dict
def _np(t) -> np.ndarray:
    return t.detach().cpu().double().numpy()


def _linear(layer) -> tuple[dict, np.ndarray | None]:
    """A DenseLinear / BlockCirculantLinear as a float-model matrix entry, and its bias (or None)."""
    from train.circulant import BlockCirculantLinear, circulant_vectors

    rows, cols = int(layer.out_features), int(layer.in_features)
    bias = _np(layer.bias) if getattr(layer, "bias", None) is not None else None
    if isinstance(layer, BlockCirculantLinear):
        b = int(layer.block_size)
        return {"rows": rows, "cols": cols, "structure": "circulant", "b": b, "w": _np(layer.weight)}, bias
    if getattr(layer, "block_size", None):  # ADMM target not converted: export its projection
        b = int(layer.block_size)
        w = circulant_vectors(layer.dense_weight().detach(), b)
        return {"rows": rows, "cols": cols, "structure": "circulant", "b": b, "w": _np(w)}, bias
    return {"rows": rows, "cols": cols, "structure": "dense", "b": None, "w": _np(layer.dense_weight())}, bias


def _dense(w: np.ndarray) -> dict:
    return {"rows": int(w.shape[0]), "cols": int(w.shape[1]), "structure": "dense", "b": None, "w": w}


def float_model_from_torch(model, cfg: dict, task) -> dict:
    """The float model dict (docs/artifact.md) of a train.models.SequenceModel."""
    m = cfg["model"]
    cell = m["cell"]
    desc = {
        "cell": cell,
        "input_size": int(task.input_size),
        "output_size": int(task.output_size),
        "hidden": int(m["hidden"]),
        "layers": int(m["layers"]),
        "projection": int(m["projection"]) if cell in ("lstm", "bilstm") else 0,
        "peepholes": bool(m["peepholes"]) if cell in ("lstm", "bilstm") else False,
        "n2": int(m["n2"]) if cell == "enrnn" else 0,
        "per_step": bool(task.per_step),
        "task_kind": task.kind,
        "momentum": float(m["momentum"]) if cell == "momentum_lstm" else None,
        "step_size": float(m["step_size"]) if cell == "momentum_lstm" else None,
    }
    mats, vecs = {}, {}
    H = desc["hidden"]
    for k, layer in enumerate(model.layers):
        pairs = [(f"l{k}f", layer.fwd), (f"l{k}b", layer.bwd)] if cell == "bilstm" else [(f"l{k}", layer)]
        for c, lay in pairs:
            if cell in ("lstm", "bilstm", "momentum_lstm"):
                mats[f"{c}.w_ih"], b_ih = _linear(lay.w_ih)
                mats[f"{c}.w_hh"], b_hh = _linear(lay.w_hh)
                if cell == "momentum_lstm":
                    vecs[f"{c}.b_w"], vecs[f"{c}.b_u"] = b_ih, b_hh
                    vecs[f"{c}.mu"], vecs[f"{c}.s"] = np.float64(lay.mu), np.float64(lay.s)
                else:
                    vecs[f"{c}.b"] = b_ih + (b_hh if b_hh is not None else 0.0)
                    if lay.peep is not None:
                        vecs[f"{c}.peep"] = _np(lay.peep)
                    if lay.proj is not None:
                        mats[f"{c}.w_proj"], _ = _linear(lay.proj)
            elif cell == "gru":
                mats[f"{c}.w_ih"], b_ih = _linear(lay.w_ih)
                mats[f"{c}.w_hh"], b_hh = _linear(lay.w_hh)
                vecs[f"{c}.b_rz"] = b_ih[: 2 * H] + b_hh[: 2 * H]
                vecs[f"{c}.b_in"], vecs[f"{c}.b_hn"] = b_ih[2 * H :], b_hh[2 * H :]
            else:
                mats[f"{c}.w_in"], _ = _linear(lay.w_in)
                with torch.no_grad():
                    mats[f"{c}.w1"] = _dense(_np(lay.W1))
                    if lay.w3 is not None:
                        mats[f"{c}.w3"], _ = _linear(lay.w3)
                        mats[f"{c}.w2"] = _dense(_np(lay.W2n))
                vecs[f"{c}.b_mod"] = _np(lay.mod_bias)
    mats["head.w"], vecs["head.b"] = _linear(model.head)
    return {"model": desc, "matrices": mats, "vectors": vecs}


# ----------------------------------------------------------------------------------------------- metrics
def task_metric(task, out: np.ndarray, y: np.ndarray) -> float:
    """The task's test metric of outputs `out` (B, O) / (B, T, O) (same definition as train.loop)."""
    from train.loop import metric_sums

    s, n = metric_sums(task, torch.from_numpy(np.asarray(out, dtype=np.float32)), torch.from_numpy(y))
    return s / n


def torch_outputs(model, task, X, lengths, batch: int = 512) -> np.ndarray:
    outs = []
    with torch.no_grad():
        for s in range(0, len(X), batch):
            x = torch.from_numpy(np.asarray(X[s : s + batch], dtype=np.float32))
            ln = torch.from_numpy(np.asarray(lengths[s : s + batch], dtype=np.int64))
            outs.append(model(x, ln, per_step=task.per_step).double().numpy())
    return np.concatenate(outs, axis=0)


def quant_settings(qcfg: dict, **override) -> dict:
    q = {
        k: qcfg[k]
        for k in (
            "weight_bits",
            "act_bits",
            "preact_bits",
            "cell_bits",
            "pwl_segments",
            "matvec_mode",
            "calibration",
        )
    }
    q.update(override)
    return q


def evaluate_fixed(fm: dict, task, quant: dict, internals: bool = False) -> tuple:
    """Build an artifact for `quant` (calibrated on the training set); run the reference on the test set.

    Returns (artifact, result of run_int, test metric).
    """
    Xtr, _, Ltr = task.train
    art = build_artifact(fm, Xtr, Ltr, quant)
    Xte, yte, Lte = task.test
    res = ref.run_int(art, Xte, Lte, record=internals)
    return art, res, task_metric(task, res["y_float"], yte)


def tensor_errors(fint: dict, ffloat: dict, art, lengths: np.ndarray) -> dict:
    """Per internal tensor: max and mean |dequantized integer - float| over the valid steps."""
    out = {}
    fmt = art.manifest["formats"]
    for k, vi in fint.items():
        if k not in ffloat:
            continue
        name = k
        frac = fmt[name]["frac"] if name in fmt else None
        if frac is None:
            continue
        T = vi.shape[1]
        mask = np.arange(T)[None, :] < lengths[:, None]
        d = np.abs(fx.dequantize(vi, frac) - ffloat[k])[mask]
        out[name] = {
            "max_abs_err": float(d.max()) if d.size else 0.0,
            "mean_abs_err": float(d.mean()) if d.size else 0.0,
        }
    return out


def plot_pwl(path: Path, art) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tables = art.manifest["pwl"]
    n = max(len(tables), 1)
    fig, axes = plt.subplots(n, 2, figsize=(10, 2.6 * n), squeeze=False)
    for row, (name, t) in enumerate(sorted(tables.items())):
        fz, R = t["in_frac"], t["R"]
        z = np.arange(int(-(R + 1) * 2.0**fz), int((R + 1) * 2.0**fz), max(1, int(2.0**fz) // 64))
        tab = dict(t, c0=np.asarray(t["c0"]), c1=np.asarray(t["c1"]))
        y = fx.dequantize(fx.pwl_eval(z, tab), t["out_frac"])
        xf = fx.dequantize(z, fz)
        exact = fx.pwl_float(xf, t["func"])
        axes[row, 0].plot(xf, exact, label="exact", lw=1)
        axes[row, 0].plot(xf, y, label=f"PWL {t['n_segments']} seg", lw=1, ls="--")
        axes[row, 0].set_title(f"{name}: {t['func']} (input frac {fz})", fontsize=9)
        axes[row, 0].legend(fontsize=7)
        axes[row, 1].plot(xf, y - exact, lw=0.8)
        axes[row, 1].set_title(
            f"error: max {np.max(np.abs(y - exact)):.2e} (bound {t['max_error']:.2e})", fontsize=9
        )
    fig.tight_layout()
    save_figure(fig, path, dpi=80)


# ----------------------------------------------------------------------------------------------- main entry
def export(cfg: dict, root: str | Path = "build") -> dict:
    """The whole compress stage for one config; returns metrics.json's content."""
    from train.loop import load_trained

    torch.set_num_threads(int(cfg["training"]["threads"]))
    out_dir = build_dir(cfg, "compress", root)
    model_pt = build_dir(cfg, "train", root) / "model.pt"
    if not model_pt.is_file():
        from configs.schema import ConfigError

        raise ConfigError(f"{model_pt}: missing (run `make train CONFIG=...` first)")
    model, task = load_trained(cfg, root)
    qcfg = cfg["quantization"]
    Xte, yte, Lte = task.test
    qat = None
    if qcfg["qat_epochs"]:
        from compress.qat import qat_finetune

        before = task_metric(task, torch_outputs(model, task, Xte, Lte), yte)
        _, _, fixed_before = evaluate_fixed(
            float_model_from_torch(model, cfg, task), task, quant_settings(qcfg)
        )
        losses = qat_finetune(model, cfg, task, int(qcfg["qat_epochs"]))
        qat = {
            "epochs": int(qcfg["qat_epochs"]),
            "kind": "weight-only straight-through",
            "losses": losses,
            "float_metric_before": before,
            "fixed_metric_before": fixed_before,
        }
        sd = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
        buf = io.BytesIO()
        torch.save(sd, buf)
        atomic_write_bytes(out_dir / "model_qat.pt", buf.getvalue())
    fm = float_model_from_torch(model, cfg, task)
    y_torch = torch_outputs(model, task, Xte, Lte)
    flo = ref.run_float(fm, Xte, Lte, record=True)
    torch_vs_numpy = float(np.max(np.abs(flo["y"] - y_torch)))
    log.info("numpy float model vs torch: max |dy| = %.3g", torch_vs_numpy)
    art, res, fixed_metric = evaluate_fixed(fm, task, quant_settings(qcfg), internals=True)
    # test vectors: random inputs within the training range, then test-set sequences
    n = int(qcfg["n_test_vectors"])
    n_rand = n // 2
    rng = np.random.default_rng(cfg["seed"])
    Xtr = task.train[0]
    lo, hi = Xtr.min(axis=(0, 1)), Xtr.max(axis=(0, 1))
    T = Xte.shape[1]
    Xr = rng.uniform(lo, hi, (n_rand, T, Xte.shape[2]))
    Lr = np.full(n_rand, T) if task.per_step else rng.integers(1, T + 1, n_rand)
    nt = min(n - n_rand, len(Xte))
    Xv = np.concatenate([Xr, Xte[:nt].astype(np.float64)], axis=0)
    Lv = np.concatenate([Lr, Lte[:nt]]).astype(np.int64)
    art.vectors = make_vectors(art, Xv, Lv, np.r_[np.zeros(n_rand), np.ones(nt)])
    save_artifact(art, out_dir)
    float_metric = task_metric(task, y_torch, yte)
    metrics = {
        "name": cfg["name"],
        "metric_name": task.metric_name,
        "float_metric": float_metric,
        "float_numpy_metric": task_metric(task, flo["y"], yte),
        "fixed_metric": fixed_metric,
        "fixed_minus_float": fixed_metric - float_metric,
        "torch_vs_numpy_float_max_abs": torch_vs_numpy,
        "output_error": {
            "max_abs_err": float(np.max(np.abs(res["y_float"] - flo["y"]))),
            "mean_abs_err": float(np.mean(np.abs(res["y_float"] - flo["y"]))),
        },
        "tensor_errors": tensor_errors(res["internals"], flo["internals"], art, np.asarray(Lte)),
        "weight_errors": {
            name: float(
                np.max(
                    np.abs(
                        fx.dequantize(art.arrays[name + ".w"], art.manifest["formats"][name]["frac"])
                        - np.asarray(meta["w"])
                    )
                )
            )
            for name, meta in fm["matrices"].items()
        },
        "saturation": res["sat"],
        "saturation_total": int(sum(res["sat"].values())),
        "pwl_max_error": {k: t["max_error"] for k, t in art.manifest["pwl"].items()},
        "quantization": art.manifest["quantization"],
        "n_test": int(len(Xte)),
        "n_vectors": int(len(Xv)),
        "qat": qat,
    }
    write_json(out_dir / "metrics.json", metrics)
    plot_pwl(out_dir / "pwl.png", art)
    return metrics
