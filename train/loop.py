"""The training loop: dense, circulant and ADMM (E-RNN) training with exact resume.

Read top to bottom: config hash -> data -> model -> optimizers -> (resume) -> epochs -> artifacts.

- dense / circulant: plain training of the model as built.
- admm: the dense model is trained with loss + sum_l (rho/2)||W_l - Z_l + U_l||^2 over model.admm_layers();
  once per epoch Z = project(W + U) and U += W - Z (scaled form); rho rises geometrically from
  compression.rho_start to rho_end over training.epochs and U is rescaled by rho_old / rho_new whenever rho
  changes. Then model.convert_to_circulant() (hard projection; the test metric right then is
  "acc_after_projection") and compression.finetune_epochs of fine-tuning in circulant form.

Every epoch writes build/NAME/train/checkpoint.pt atomically (model, optimizers, ADMM Z/U/rho, epoch, RNG
state, history). The batch order is a function of (seed, epoch) only, so a restarted run ends bit-identical
to an uninterrupted one (wall-time fields aside; runs stopped by max_minutes are not reproducible by nature).
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import logging
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from configs.schema import build_dir
from configs.util import atomic_write_bytes, write_json
from train.data import TaskData, load_task

log = logging.getLogger(__name__)

HASHED_SECTIONS = ("seed", "task", "model", "compression", "training")
TIME_KEYS = ("train_seconds", "seconds", "minutes")  # fields that legitimately differ between identical runs


# ---------------------------------------------------------------------------------------------- small helpers
def config_hash(cfg: dict) -> str:
    """Hash of everything that changes the trained model (not quantization/hardware, not the thread count)."""
    sub = {k: cfg[k] for k in HASHED_SECTIONS}
    sub["training"] = {k: v for k, v in cfg["training"].items() if k != "threads"}
    return hashlib.sha256(json.dumps(sub, sort_keys=True).encode()).hexdigest()[:16]


def torch_bytes(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def batch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The permutation of the training set for one epoch: a pure function of (seed, epoch)."""
    return np.random.default_rng([seed, epoch, 0xBA7C4]).permutation(n)


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def build(cfg: dict, task: TaskData):
    from train.models import build_model

    return build_model(cfg, task.input_size, task.output_size)


def make_optimizers(model, tcfg: dict) -> list[torch.optim.Optimizer]:
    """Main optimizer on model.main_parameters(); RMSprop(orthogonal_lr) on the skew matrices when present."""
    kind, lr = tcfg["optimizer"], tcfg["lr"]
    main = model.main_parameters()
    if kind == "adam":
        opts = [torch.optim.Adam(main, lr=lr)]
    elif kind == "rmsprop":
        opts = [torch.optim.RMSprop(main, lr=lr)]
    else:
        opts = [torch.optim.SGD(main, lr=lr)]
    ortho = model.orthogonal_parameters()
    if ortho:
        opts.append(torch.optim.RMSprop(ortho, lr=tcfg["orthogonal_lr"]))
    return opts


def task_loss(task: TaskData, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if task.kind == "regression":
        return F.mse_loss(out, y)
    if task.kind == "copying":
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
    return F.cross_entropy(out, y)


def metric_sums(task: TaskData, out: torch.Tensor, y: torch.Tensor) -> tuple[float, int]:
    """(sum, count) of the task metric over a batch: correct predictions, squared errors or copied symbols."""
    if task.kind == "regression":
        return float(((out - y) ** 2).sum()), y.numel()
    if task.kind == "copying":
        k = task.copy_length
        return float((out[:, -k:].argmax(-1) == y[:, -k:]).sum()), y[:, -k:].numel()
    return float((out.argmax(-1) == y).sum()), y.numel()


def better_or_equal(task: TaskData, value: float, target: float) -> bool:
    return value <= target if task.metric_name == "mse" else value >= target


def as_tensors(split: tuple) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    x, y, lengths = split
    return torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(lengths)


def forward(model, task: TaskData, x, lengths):
    if task.per_step:
        return model(x, lengths, per_step=True)
    t = int(lengths.max())  # trim the padding that every sequence of this batch lacks
    return model(x[:, :t], lengths)


@torch.no_grad()
def evaluate(model, task: TaskData, data: tuple, batch: int = 512) -> tuple[float, float]:
    """(mean loss, metric) of the model on one split."""
    x, y, lengths = data
    model.eval()
    loss_sum, metric_sum, metric_n = 0.0, 0.0, 0
    for start in range(0, len(x), batch):
        sl = slice(start, start + batch)
        out = forward(model, task, x[sl], lengths[sl])
        loss_sum += float(task_loss(task, out, y[sl])) * len(x[sl])
        s, n = metric_sums(task, out, y[sl])
        metric_sum, metric_n = metric_sum + s, metric_n + n
    model.train()
    return loss_sum / len(x), metric_sum / metric_n


# ---------------------------------------------------------------------------------------------- ADMM
class ADMM:
    """Scaled-form ADMM state for the block-circulant constraint of every ADMM target layer."""

    def __init__(self, model, ccfg: dict, epochs: int):
        from train.circulant import project_block_circulant

        self.project = project_block_circulant
        self.layers = model.admm_layers()
        if not self.layers:
            raise RuntimeError("compression.mode 'admm' but the model has no ADMM target layers")
        self.rho_start, self.rho_end, self.epochs = ccfg["rho_start"], ccfg["rho_end"], epochs
        with torch.no_grad():
            self.Z = {
                n: self.project(m.dense_weight().detach(), m.block_size).clone()
                for n, m in self.layers.items()
            }
            self.U = {n: torch.zeros_like(z) for n, z in self.Z.items()}
        self.rho = None

    def rho_at(self, epoch: int) -> float:
        """Geometric schedule rho_start -> rho_end over the ADMM epochs."""
        if self.epochs <= 1 or self.rho_start <= 0:
            return self.rho_end
        return self.rho_start * (self.rho_end / self.rho_start) ** (epoch / (self.epochs - 1))

    def set_rho(self, rho: float) -> None:
        """Change rho; the scaled dual U = y / rho is rescaled so the unscaled dual y stays the same."""
        if self.rho is not None and rho != self.rho and rho > 0:
            for u in self.U.values():
                u.mul_(self.rho / rho)
        self.rho = rho

    def penalty(self) -> torch.Tensor:
        return sum(
            0.5 * self.rho * (m.dense_weight() - self.Z[n] + self.U[n]).pow(2).sum()
            for n, m in self.layers.items()
        )

    @torch.no_grad()
    def update(self) -> tuple[float, float]:
        """Z = project(W + U); U += W - Z. Returns the primal residual ||W - Z|| and ||W - Z|| / ||W||."""
        res2 = w2 = 0.0
        for n, m in self.layers.items():
            w = m.dense_weight().detach()
            self.Z[n] = self.project(w + self.U[n], m.block_size).clone()
            self.U[n] += w - self.Z[n]
            res2 += float((w - self.Z[n]).pow(2).sum())
            w2 += float(w.pow(2).sum())
        return math.sqrt(res2), math.sqrt(res2 / max(w2, 1e-30))

    def state_dict(self) -> dict:
        return {"Z": self.Z, "U": self.U, "rho": self.rho}

    def load_state_dict(self, sd: dict) -> None:
        self.Z = {n: t.clone() for n, t in sd["Z"].items()}
        self.U = {n: t.clone() for n, t in sd["U"].items()}
        self.rho = sd["rho"]


# ---------------------------------------------------------------------------------------------- artifacts
def metrics_done(out_dir: Path, chash: str) -> dict | None:
    """The finished run's metrics when metrics.json and model.pt exist for this config hash."""
    path = out_dir / "metrics.json"
    if not (path.exists() and (out_dir / "model.pt").exists()):
        return None
    try:
        metrics = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return metrics if metrics.get("config_hash") == chash else None


def plot_curve(path: Path, history: list[dict], metric_name: str, title: str) -> None:
    """curve.png: loss and test metric per epoch (+ the ADMM primal residual)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    has_admm = any("primal_residual" in h for h in history)
    fig, axes = plt.subplots(1, 3 if has_admm else 2, figsize=(13 if has_admm else 9, 3.6))
    ep = [h["epoch"] + 1 for h in history]
    axes[0].plot(ep, [h["train_loss"] for h in history], label="train")
    axes[0].plot(ep, [h["test_loss"] for h in history], label="test")
    axes[0].set(xlabel="epoch", ylabel="loss", yscale="log" if metric_name == "mse" else "linear")
    axes[0].legend()
    axes[1].plot(ep, [h["train_metric"] for h in history], label="train")
    axes[1].plot(ep, [h["test_metric"] for h in history], label="test")
    axes[1].set(xlabel="epoch", ylabel=metric_name, yscale="log" if metric_name == "mse" else "linear")
    axes[1].legend()
    proj = [h["epoch"] + 1 for h in history if h["phase"] == "finetune"]
    if proj:
        for ax in axes[:2]:
            ax.axvline(proj[0] - 0.5, color="gray", ls="--", lw=0.8)
    if has_admm:
        pts = [(h["epoch"] + 1, h["primal_residual"]) for h in history if "primal_residual" in h]
        axes[2].semilogy([p[0] for p in pts], [p[1] for p in pts])
        axes[2].set(xlabel="epoch", ylabel="||W - Z||", title="ADMM primal residual")
    fig.suptitle(title)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def load_trained(cfg: dict, root: str | Path = "build"):
    """(model, task) of a finished run: the model rebuilt from the config (circulant form for admm) with
    build/NAME/train/model.pt loaded (weights_only=True)."""
    task = load_task(cfg)
    model = build(cfg, task)
    if cfg["compression"]["mode"] == "admm":
        model.convert_to_circulant()
    sd = torch.load(build_dir(cfg, "train", root) / "model.pt", weights_only=True)
    model.load_state_dict(sd)
    model.eval()
    return model, task


# ---------------------------------------------------------------------------------------------- the loop
def train(cfg: dict, root: str | Path = "build", force: bool = False, stop_after_epoch: int | None = None):
    """Train the experiment described by cfg; write model.pt, metrics.json and curve.png; return the metrics.

    Resumes from build/NAME/train/checkpoint.pt when it belongs to the same config. stop_after_epoch simulates
    a kill right after that epoch's checkpoint (returns None, no final artifacts): used by the resume test.
    """
    torch.set_flush_denormal(
        True
    )  # before any parallel op, so the worker threads inherit it (11x on CPU here)
    tcfg, ccfg = cfg["training"], cfg["compression"]
    torch.set_num_threads(tcfg["threads"])
    out_dir = build_dir(cfg, "train", root)
    chash = config_hash(cfg)
    if not force and (done := metrics_done(out_dir, chash)) is not None:
        log.info(
            "%s: already trained (%s = %.4f); nothing to do",
            out_dir,
            done["test_metric_name"],
            done["test_metric"],
        )
        return done

    task = load_task(cfg)
    train_data, test_data = as_tensors(task.train), as_tensors(task.test)
    seed, mode = cfg["seed"], ccfg["mode"]
    admm_epochs = tcfg["epochs"] if mode == "admm" else 0
    total_epochs = tcfg["epochs"] + (ccfg["finetune_epochs"] if mode == "admm" else 0)

    torch.manual_seed(seed)
    model = build(cfg, task)
    opts = make_optimizers(model, tcfg)
    admm = ADMM(model, ccfg, admm_epochs) if mode == "admm" else None
    state = {
        "epoch": 0,
        "iterations": 0,
        "train_seconds": 0.0,
        "history": [],
        "evals": [],
        "stopped_by": None,
    }
    state["acc_after_projection"] = None

    ckpt_path = out_dir / "checkpoint.pt"
    if ckpt_path.exists() and not force:
        ck = torch.load(ckpt_path, weights_only=True)
        if ck.get("config_hash") != chash:
            log.warning("%s belongs to another config; starting over", ckpt_path)
        else:
            if ck["converted"]:
                model.convert_to_circulant()
                opts, admm = make_optimizers(model, tcfg), None
            model.load_state_dict(ck["model"])
            for opt, sd in zip(opts, ck["optimizers"], strict=True):
                opt.load_state_dict(sd)
            if admm is not None:
                admm.load_state_dict(ck["admm"])
            torch.set_rng_state(ck["torch_rng"])
            state = ck["state"]
            log.info("resuming %s at epoch %d/%d", out_dir, state["epoch"], total_epochs)

    converted = admm is None and mode == "admm"
    n_train, bs = len(train_data[0]), tcfg["batch_size"]
    eval_every, target = tcfg["eval_every"], tcfg["target"]
    max_it, max_sec = tcfg["max_iterations"], tcfg["max_minutes"] * 60
    clip_params = model.main_parameters()
    model.train()

    def project_now():
        """Hard projection onto the block-circulant set, then fresh optimizers for the fine-tuning."""
        nonlocal opts, admm, converted, clip_params
        model.convert_to_circulant()
        opts, admm, converted = make_optimizers(model, tcfg), None, True
        clip_params = model.main_parameters()
        _, state["acc_after_projection"] = evaluate(model, task, test_data)
        log.info(
            "hard projection: test %s right after projection = %.4f",
            task.metric_name,
            state["acc_after_projection"],
        )

    bar = tqdm(
        total=total_epochs, initial=state["epoch"], desc=f"train {cfg['name']}", unit="epoch", disable=None
    )
    t_run = time.time() - state["train_seconds"]
    for epoch in range(state["epoch"], total_epochs):
        phase = "admm" if epoch < admm_epochs else ("finetune" if mode == "admm" else "train")
        if admm is not None:
            admm.set_rho(admm.rho_at(epoch))
        loss_sum = metric_sum = 0.0
        metric_n = seen = 0
        order = torch.from_numpy(batch_order(seed, epoch, n_train))
        for start in range(0, n_train, bs):
            idx = order[start : start + bs]
            x, y, lengths = (t[idx] for t in train_data)
            out = forward(model, task, x, lengths)
            loss = task_loss(task, out, y)
            total = loss + admm.penalty() if admm is not None else loss
            for opt in opts:
                opt.zero_grad(set_to_none=True)
            total.backward()
            model.before_step()
            if tcfg["clip"] > 0:
                torch.nn.utils.clip_grad_norm_(clip_params, tcfg["clip"])
            for opt in opts:
                opt.step()
            model.after_step()
            state["iterations"] += 1
            loss_sum += float(loss.detach()) * len(idx)
            seen += len(idx)
            s, n = metric_sums(task, out.detach(), y)
            metric_sum, metric_n = metric_sum + s, metric_n + n
            if eval_every and state["iterations"] % eval_every == 0:
                _, m = evaluate(model, task, test_data)
                elapsed = time.time() - t_run
                state["evals"].append(
                    {"iteration": state["iterations"], "minutes": elapsed / 60, "test_metric": m}
                )
                log.debug("iteration %d: test %s %.4f", state["iterations"], task.metric_name, m)
                if target is not None and better_or_equal(task, m, target):
                    state["stopped_by"] = "target"
            if max_it and state["iterations"] >= max_it:
                state["stopped_by"] = state["stopped_by"] or "max_iterations"
            if max_sec and time.time() - t_run >= max_sec:
                state["stopped_by"] = state["stopped_by"] or "max_minutes"
            if state["stopped_by"]:
                break

        test_loss, test_metric = evaluate(model, task, test_data)
        rec = {
            "epoch": epoch,
            "phase": phase,
            "iterations": state["iterations"],
            "train_loss": loss_sum / seen,
        }
        rec.update(train_metric=metric_sum / metric_n, test_loss=test_loss, test_metric=test_metric)
        if admm is not None:
            rec["rho"] = admm.rho
            rec["primal_residual"], rec["primal_residual_rel"] = admm.update()
        if target is not None and better_or_equal(task, test_metric, target):
            state["stopped_by"] = state["stopped_by"] or "target"
        state["train_seconds"] = time.time() - t_run
        rec["seconds"] = state["train_seconds"]
        state["history"].append(rec)
        if mode == "admm" and not converted and (epoch == admm_epochs - 1 or state["stopped_by"]):
            project_now()
        state["epoch"] = epoch + 1
        ck = {"config_hash": chash, "converted": converted, "model": model.state_dict(), "state": state}
        ck.update(optimizers=[o.state_dict() for o in opts], admm=admm.state_dict() if admm else None)
        ck["torch_rng"] = torch.get_rng_state()
        atomic_write_bytes(ckpt_path, torch_bytes(ck))
        bar.update(1)
        post = {"loss": f"{rec['train_loss']:.4f}", task.metric_name: f"{test_metric:.4f}"}
        if "primal_residual" in rec:
            post["res"] = f"{rec['primal_residual']:.3g}"
        bar.set_postfix(post)
        if bar.disable:
            log.info(
                "epoch %d/%d %s %s",
                epoch + 1,
                total_epochs,
                phase,
                " ".join(f"{k}={v}" for k, v in post.items()),
            )
        if state["stopped_by"]:
            log.info("stopped by %s after %d iterations", state["stopped_by"], state["iterations"])
            break
        if stop_after_epoch is not None and epoch + 1 >= stop_after_epoch:
            bar.close()
            return None
    bar.close()
    return finish(cfg, task, model, state, out_dir, chash, test_data)


def finish(cfg, task, model, state, out_dir: Path, chash: str, test_data) -> dict:
    """Write model.pt, curve.png and (last, as the completion marker) metrics.json."""
    ccfg = cfg["compression"]
    test_loss, test_metric = evaluate(model, task, test_data)
    with torch.random.fork_rng():
        dense_cfg = copy.deepcopy(cfg)
        dense_cfg["compression"]["mode"] = "dense"
        params_dense = count_parameters(build(dense_cfg, task))
    params = count_parameters(model)
    metrics = {
        "task": cfg["task"]["name"],
        "model": cfg["model"]["cell"],
        "compression": ccfg["mode"],
        "block_size": ccfg["block_size"] if ccfg["mode"] != "dense" else None,
        "params": params,
        "params_dense": params_dense,
        "compression_ratio": round(params_dense / params, 4),
        "test_metric_name": task.metric_name,
        "test_metric": test_metric,
        "test_loss": test_loss,
        "train_seconds": round(state["train_seconds"], 3),
        "iterations": state["iterations"],
        "epochs_run": state["epoch"],
        "stopped_by": state["stopped_by"] or "epochs",
        "input_size": task.input_size,
        "output_size": task.output_size,
        "config_hash": chash,
        "history": state["history"],
    }
    if state["evals"]:
        metrics["evals"] = state["evals"]
    if ccfg["mode"] == "admm":
        metrics["acc_after_projection"] = state["acc_after_projection"]
    sd = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    atomic_write_bytes(out_dir / "model.pt", torch_bytes(sd))
    title = f"{cfg['name']}: {cfg['model']['cell']} {ccfg['mode']} on {cfg['task']['name']}"
    plot_curve(out_dir / "curve.png", state["history"], task.metric_name, title)
    write_json(out_dir / "metrics.json", metrics)
    log.info(
        "%s: test %s = %.4f, params %d (dense %d, %.2fx), %.1f s",
        out_dir,
        task.metric_name,
        test_metric,
        params,
        params_dense,
        params_dense / params,
        state["train_seconds"],
    )
    return metrics
