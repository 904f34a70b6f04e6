"""The training loop: dense, circulant and ADMM (E-RNN) training in phases, with exact resume.

Read top to bottom: config hash -> ADMM state -> artifacts -> phases -> Run (one epoch at a time) -> train().

- Phases (phases_of): dense / circulant: "train"; admm: "pretrain" (dense), "admm", "finetune". With
  model.init the (pre)training is replaced by the imported weights: dense has no phase, circulant only
  "finetune".
- Each train / pretrain / finetune phase runs its epochs (at least training.min_steps steps), keeps the
  best epoch on the validation split (ties: lower validation loss) and may stop early (training.patience).
  The test metric is evaluated only when a phase ends, for the record ("phases" in metrics.json).
- admm: loss + sum_l (rho/2)||W_l - Z_l + U_l||^2 over model.admm_layers(); every compression.admm_interval
  optimizer steps Z = project(W + U), U += W - Z (scaled form) and rho is adapted by residual balancing (or
  follows the geometric schedule), U rescaled by rho_old / rho_new; the phase ends once ||W - Z|| / ||W|| <
  compression.tolerance or after compression.admm_steps steps. Then model.convert_to_circulant() (hard
  projection; the test metric right then is "acc_after_projection") and fine-tuning in circulant form at
  compression.finetune_lr_scale times the learning rates when the projection moved the weights by less than
  compression.tolerance, else at the full rates (the projected model is its epoch-0 candidate).

Every epoch writes build/NAME/train/checkpoint.pt atomically (model, optimizers, ADMM Z/U/rho, phase, best
model, RNG state, history). The batch order is a function of (seed, epoch) only, so a restarted run ends
bit-identical to an uninterrupted one (wall-time fields aside; runs stopped by max_minutes are not
reproducible by nature).
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

from configs.schema import ConfigError, build_dir
from configs.util import atomic_write_bytes, save_figure, write_json
from train.data import TaskData, load_task
from train.io import load_tensors

log = logging.getLogger(__name__)

HASHED_SECTIONS = ("seed", "task", "model", "compression", "training")
TIME_KEYS = ("train_seconds", "seconds", "minutes")  # fields that legitimately differ between identical runs


# ---------------------------------------------------------------------------------------------- small helpers
def config_hash(cfg: dict) -> str:
    """Hash of everything that changes the trained model (not quantization/hardware, not the thread count)."""
    sub = {k: cfg[k] for k in HASHED_SECTIONS}
    sub["training"] = {k: v for k, v in cfg["training"].items() if k != "threads"}
    sub["init_digest"] = file_digest(cfg["model"]["init"])  # a new file under the same path retrains
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


def make_optimizers(model, tcfg: dict, scale: float = 1.0) -> list[torch.optim.Optimizer]:
    """Main optimizer on model.main_parameters(); RMSprop(orthogonal_lr) on the skew matrices when present;
    both learning rates times `scale` (phase_lr_scale)."""
    kind, lr = tcfg["optimizer"], tcfg["lr"] * scale
    main = model.main_parameters()
    if kind == "adam":
        opts = [torch.optim.Adam(main, lr=lr)]
    elif kind == "rmsprop":
        opts = [torch.optim.RMSprop(main, lr=lr)]
    else:
        opts = [torch.optim.SGD(main, lr=lr)]
    ortho = model.orthogonal_parameters()
    if ortho:
        opts.append(torch.optim.RMSprop(ortho, lr=tcfg["orthogonal_lr"] * scale))
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
RHO_MU, RHO_TAU = 10.0, 2.0  # residual balancing (Boyd et al. 2011, 3.4.1): mu and tau
RHO_BOUNDS = (1e-6, 1e6)


class ADMM:
    """Scaled-form ADMM state for the block-circulant constraint of every ADMM target layer.

    update() (every compression.admm_interval optimizer steps): Z = project(W + U), U += W - Z, then the
    primal residual r = ||W - Z|| and the dual residual s = rho ||Z - Z_prev|| choose the next rho: residual
    balancing (rho * tau when r > mu s, rho / tau when s > mu r) or the geometric schedule rho_start ->
    rho_end over compression.admm_steps. U is rescaled by rho_old / rho_new whenever rho changes.
    """

    def __init__(self, model, ccfg: dict):
        from train.circulant import project_block_circulant

        self.project = project_block_circulant
        self.layers = model.admm_layers()
        if not self.layers:
            raise RuntimeError("compression.mode 'admm' but the model has no ADMM target layers")
        self.schedule, self.steps = ccfg["rho_schedule"], ccfg["admm_steps"]
        self.rho_start, self.rho_end = ccfg["rho_start"], ccfg["rho_end"]
        with torch.no_grad():
            self.Z = {
                n: self.project(m.dense_weight().detach(), m.block_size).clone()
                for n, m in self.layers.items()
            }
            self.U = {n: torch.zeros_like(z) for n, z in self.Z.items()}
        self.rho = min(max(self.rho_start, RHO_BOUNDS[0]), RHO_BOUNDS[1])

    def rho_geometric(self, step: int) -> float:
        """Geometric schedule rho_start -> rho_end over the ADMM phase's admm_steps optimizer steps."""
        if self.rho_start <= 0:
            return self.rho_end
        frac = min(step / max(self.steps, 1), 1.0)
        return self.rho_start * (self.rho_end / self.rho_start) ** frac

    def set_rho(self, rho: float) -> None:
        """Change rho; the scaled dual U = y / rho is rescaled so the unscaled dual y stays the same."""
        if rho != self.rho and rho > 0:
            for u in self.U.values():
                u.mul_(self.rho / rho)
        self.rho = rho

    def balance(self, primal: float, dual: float) -> float:
        """Residual balancing: the next rho from the primal and dual residuals."""
        rho = self.rho
        if primal > RHO_MU * dual:
            rho *= RHO_TAU
        elif dual > RHO_MU * primal:
            rho /= RHO_TAU
        return min(max(rho, RHO_BOUNDS[0]), RHO_BOUNDS[1])

    def penalty(self) -> torch.Tensor:
        return sum(
            0.5 * self.rho * (m.dense_weight() - self.Z[n] + self.U[n]).pow(2).sum()
            for n, m in self.layers.items()
        )

    @torch.no_grad()
    def update(self, step: int) -> dict:
        """Z and U updates, then the next rho. Returns the residuals and the rho they were computed with."""
        res2 = w2 = dz2 = 0.0
        for n, m in self.layers.items():
            w = m.dense_weight().detach()
            z_prev = self.Z[n]
            self.Z[n] = self.project(w + self.U[n], m.block_size).clone()
            self.U[n] += w - self.Z[n]
            res2 += float((w - self.Z[n]).pow(2).sum())
            dz2 += float((self.Z[n] - z_prev).pow(2).sum())
            w2 += float(w.pow(2).sum())
        primal, dual = math.sqrt(res2), self.rho * math.sqrt(dz2)
        rec = {"step": step, "rho": self.rho, "primal": primal, "dual": dual}
        rec["primal_rel"] = math.sqrt(res2 / max(w2, 1e-30))
        self.set_rho(self.balance(primal, dual) if self.schedule == "adaptive" else self.rho_geometric(step))
        return rec

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


PHASE_COLORS = {"pretrain": "tab:blue", "admm": "tab:orange", "finetune": "tab:green", "train": "tab:blue"}


def _shade_phases(ax, history: list[dict]) -> None:
    """Background colour per training phase (pretrain / ADMM / fine-tune) on an epoch axis."""
    for phase in dict.fromkeys(h["phase"] for h in history):
        ep = [h["epoch"] + 1 for h in history if h["phase"] == phase]
        ax.axvspan(min(ep) - 0.5, max(ep) + 0.5, color=PHASE_COLORS.get(phase, "gray"), alpha=0.08, lw=0)
        ax.text(min(ep) - 0.4, 1.0, phase, transform=ax.get_xaxis_transform(), fontsize=7, va="top")


def plot_curve(
    path: Path, history: list[dict], phases: list[dict], admm_log: list[dict], metric_name: str, title: str
) -> None:
    """curve.png: loss and metric per epoch (train / val; test at the end of each phase) with the phases
    shaded; with ADMM, the primal and dual residuals and rho at every Z/U update."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    log_y = "log" if metric_name == "mse" else "linear"
    fig, axes = plt.subplots(1, 3 if admm_log else 2, figsize=(14 if admm_log else 9, 3.6))
    ep = [h["epoch"] + 1 for h in history]
    for ax, what, label in ((axes[0], "loss", "loss"), (axes[1], "metric", metric_name)):
        for split in ("train", "val"):
            ax.plot(ep, [h[f"{split}_{what}"] for h in history], label=split, lw=1)
        if what == "metric" and phases:
            ax.plot([p["epoch"] for p in phases], [p["test_metric"] for p in phases], "k*", label="test")
        ax.set(xlabel="epoch", ylabel=label, yscale=log_y if what == "metric" else "linear")
        if history:
            _shade_phases(ax, history)
        ax.legend(fontsize=7)
    if admm_log:
        steps = [a["step"] for a in admm_log]
        ax = axes[2]
        ax.semilogy(steps, [a["primal"] for a in admm_log], label="primal ||W - Z||")
        ax.semilogy(steps, [max(a["dual"], 1e-12) for a in admm_log], label="dual rho ||Z - Z_prev||")
        ax.set(xlabel="optimizer step", ylabel="residual", title="ADMM")
        ax2 = ax.twinx()
        ax2.semilogy(steps, [a["rho"] for a in admm_log], color="k", ls="--", lw=0.8, label="rho")
        ax2.set_ylabel("rho")
        lines = ax.get_legend_handles_labels()
        lines2 = ax2.get_legend_handles_labels()
        ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)


def load_trained(cfg: dict, root: str | Path = "build"):
    """(model, task) of a finished run: the model rebuilt from the config (circulant form for admm) with
    build/NAME/train/model.pt loaded (weights_only=True; a bad file is a one-line ConfigError)."""
    task = load_task(cfg)
    model = build(cfg, task)
    if cfg["compression"]["mode"] == "admm":
        model.convert_to_circulant()
    path = build_dir(cfg, "train", root) / "model.pt"
    sd = load_tensors(path, "model.pt")
    try:
        model.load_state_dict(sd)
    except (RuntimeError, TypeError, AttributeError) as exc:
        first = " ".join(str(exc).split())[:200]
        raise ConfigError(f"{path}: does not match the configured model ({first})") from None
    model.eval()
    return model, task


def init_model(cfg: dict, model) -> dict | None:
    """Load model.init into the freshly built model (one-line ConfigError naming the file)."""
    from train.models import load_pretrained

    path = cfg["model"]["init"]
    if not path:
        return None
    sd = load_tensors(path, "model.init")
    try:
        info = load_pretrained(model, sd)
    except ValueError as exc:
        msg = str(exc).removeprefix("load_torch_state_dict: ")
        raise ConfigError(f"{path}: model.init: {msg}") from None
    log.info("model.init: loaded %s (%s, head %s)", path, info["format"], "yes" if info["head"] else "no")
    return info


def file_digest(path: str | None) -> str | None:
    if not path:
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16] if Path(path).is_file() else None


# ---------------------------------------------------------------------------------------------- the loop
def phases_of(cfg: dict) -> list[str]:
    """The phases of a run. dense/circulant: train; admm: pretrain, admm, finetune. model.init replaces the
    (pre)training: dense goes straight to the artifacts, circulant is projected and fine-tuned."""
    mode, init = cfg["compression"]["mode"], cfg["model"]["init"]
    if mode == "admm":
        return ["admm", "finetune"] if init else ["pretrain", "admm", "finetune"]
    if init:
        return ["finetune"] if mode == "circulant" else []
    return ["train"]


def phase_epochs(cfg: dict, phase: str) -> int | None:
    """Most epochs of a phase (None: the ADMM phase, bounded by optimizer steps)."""
    if phase == "admm":
        return None
    return cfg["compression"]["finetune_epochs"] if phase == "finetune" else cfg["training"]["epochs"]


def phase_lr_scale(cfg: dict, phase: str | None, projection_rel: float | None) -> float:
    """Learning-rate factor of a phase. Fine-tuning a model that the hard projection moved by less than
    compression.tolerance (ADMM converged) is a small correction: compression.finetune_lr_scale (a fresh Adam
    at the full rate knocks such a model off its optimum). A larger move (ADMM stopped at admm_steps) or an
    unknown one (imported circulant, projected on loading) is repaired at the full rate."""
    tol = cfg["compression"]["tolerance"]
    if phase == "finetune" and projection_rel is not None and projection_rel < tol:
        return cfg["compression"]["finetune_lr_scale"]
    return 1.0


@torch.no_grad()
def projection_distance(model) -> float | None:
    """||W - P(W)|| / ||W|| over the ADMM target layers (None without any): how far the hard projection
    onto block-circulant form moves them."""
    from train.circulant import project_block_circulant

    res2 = w2 = 0.0
    layers = model.admm_layers()
    for m in layers.values():
        w = m.dense_weight()
        res2 += float((w - project_block_circulant(w, m.block_size)).pow(2).sum())
        w2 += float(w.pow(2).sum())
    return math.sqrt(res2 / max(w2, 1e-30)) if layers else None


def improves(task: TaskData, metric: float, loss: float, best: dict | None) -> bool:
    """Model selection on validation: a better metric, or the same metric with a lower loss."""
    if best is None:
        return True
    sign = -1.0 if task.metric_name == "mse" else 1.0
    if sign * metric != sign * best["metric"]:
        return sign * metric > sign * best["metric"]
    return loss < best["loss"]


class Run:
    """One training run: model, optimizers, ADMM state and the resumable `state` dict."""

    def __init__(self, cfg: dict, task: TaskData, out_dir: Path, chash: str):
        self.cfg, self.task, self.out_dir, self.chash = cfg, task, out_dir, chash
        self.tcfg, self.ccfg = cfg["training"], cfg["compression"]
        self.data = {k: as_tensors(getattr(task, k)) for k in ("train", "val", "test")}
        self.phases = phases_of(cfg)
        torch.manual_seed(cfg["seed"])
        self.model = build(cfg, task)
        self.state = {"epoch": 0, "iterations": 0, "train_seconds": 0.0, "history": [], "evals": []}
        self.state.update(stopped_by=None, acc_after_projection=None, val_after_projection=None)
        self.state["projection_rel"] = None
        self.state.update(phase_index=0, phase_epoch=0, phase_start_iteration=0, best=None, admm_log=[])
        self.state["phase_results"] = []
        self.state["init"] = init_model(cfg, self.model)
        self.admm = None
        self.converted = False
        self.opts = make_optimizers(self.model, self.tcfg)

    @property
    def phase(self) -> str | None:
        i = self.state["phase_index"]
        return self.phases[i] if i < len(self.phases) else None

    # ---------------------------------------------------------------- checkpoints
    def checkpoint(self) -> None:
        ck = {"config_hash": self.chash, "converted": self.converted, "model": self.model.state_dict()}
        ck.update(state=self.state, optimizers=[o.state_dict() for o in self.opts])
        ck.update(admm=self.admm.state_dict() if self.admm else None, torch_rng=torch.get_rng_state())
        atomic_write_bytes(self.out_dir / "checkpoint.pt", torch_bytes(ck))

    def resume(self, path: Path) -> bool:
        ck = load_tensors(path, "checkpoint.pt")
        if not isinstance(ck, dict) or ck.get("config_hash") != self.chash:
            log.warning("%s belongs to another config; starting over", path)
            return False
        try:
            if ck["converted"]:
                self.model.convert_to_circulant()
                self.converted = True
            self.model.load_state_dict(ck["model"])
            self.state = ck["state"]
            if self.phase == "admm":
                self.admm = ADMM(self.model, self.ccfg)
                self.admm.load_state_dict(ck["admm"])
            scale = phase_lr_scale(self.cfg, self.phase, self.state.get("projection_rel"))
            self.opts = make_optimizers(self.model, self.tcfg, scale)
            for opt, sd in zip(self.opts, ck["optimizers"], strict=True):
                opt.load_state_dict(sd)
            torch.set_rng_state(ck["torch_rng"])
        except (KeyError, RuntimeError, TypeError, ValueError) as exc:
            reason = " ".join(str(exc).split())[:160]
            raise ConfigError(
                f"{path}: checkpoint.pt does not fit this run ({type(exc).__name__}: {reason})"
            ) from None
        log.info("resuming %s at epoch %d (%s)", self.out_dir, self.state["epoch"], self.phase)
        return True

    # ---------------------------------------------------------------- phases
    def start_phase(self) -> None:
        """Enter self.phase: fresh optimizers; ADMM state; the hard projection before fine-tuning."""
        st, phase = self.state, self.phase
        st.update(phase_epoch=0, phase_start_iteration=st["iterations"], best=None)
        if phase == "admm":
            self.admm = ADMM(self.model, self.ccfg)
        if phase == "finetune" and not self.converted:
            st["projection_rel"] = projection_distance(self.model)
            self.model.convert_to_circulant()
            self.converted = True
            if self.ccfg["mode"] == "admm":
                _, st["val_after_projection"] = evaluate(self.model, self.task, self.data["val"])
                _, st["acc_after_projection"] = evaluate(self.model, self.task, self.data["test"])
                log.info(
                    "hard projection: %s right after it: val %.4f, test %.4f",
                    self.task.metric_name,
                    st["val_after_projection"],
                    st["acc_after_projection"],
                )
        if phase == "finetune" or (phase == "train" and self.cfg["model"]["init"]):
            self.offer_best(st["epoch"] - 1, 0)  # starting from a trained model: it is a candidate too
        scale = phase_lr_scale(self.cfg, phase, st["projection_rel"])
        if phase == "finetune":
            st["finetune_lr_scale"] = scale
            log.info(
                "fine-tuning at %g x the learning rates (projection moved %s)", scale, st["projection_rel"]
            )
        self.opts = make_optimizers(self.model, self.tcfg, scale)

    def offer_best(self, epoch: int, phase_epoch: int, rec: dict | None = None) -> None:
        """Keep the current model as the phase's best when its validation result improves on the best
        (epoch: the last epoch it has trained; phase_epoch: the phase's epochs done at that point)."""
        st = self.state
        if rec is None:
            loss, metric = evaluate(self.model, self.task, self.data["val"])
            rec = {"val_loss": loss, "val_metric": metric}
        if improves(self.task, rec["val_metric"], rec["val_loss"], st["best"]):
            sd = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
            st["best"] = {"metric": rec["val_metric"], "loss": rec["val_loss"], "epoch": epoch}
            st["best"].update(phase_epoch=phase_epoch, model=sd)

    def end_phase(self) -> None:
        """Leave self.phase: restore the best validated model (not after ADMM), then start the next phase."""
        st = self.state
        if self.phase != "admm" and st["best"] is not None:
            self.model.load_state_dict(st["best"]["model"])
            log.info(
                "%s: kept epoch %d (val %s %.4f)",
                self.phase,
                st["best"]["epoch"] + 1,
                self.task.metric_name,
                st["best"]["metric"],
            )
        self.phase_result()
        self.admm = None
        st["phase_index"] += 1
        if self.phase is not None:
            self.start_phase()

    def phase_result(self) -> None:
        """Record the phase's outcome: val and test metric of the model it hands on (test only reported)."""
        st = self.state
        rec = {"phase": self.phase, "epoch": st["epoch"], "iterations": st["iterations"]}
        rec["val_metric"] = evaluate(self.model, self.task, self.data["val"])[1]
        rec["test_metric"] = evaluate(self.model, self.task, self.data["test"])[1]
        st["phase_results"].append(rec)

    def phase_over(self) -> bool:
        """Epoch budget, early stopping on validation, the ADMM tolerance / step budget."""
        st, phase = self.state, self.phase
        if phase == "admm":
            steps = st["iterations"] - st["phase_start_iteration"]
            tol, last = self.ccfg["tolerance"], st["admm_log"][-1] if st["admm_log"] else None
            converged = last is not None and tol > 0 and last["primal_rel"] < tol
            return converged or steps >= self.ccfg["admm_steps"]
        limit, patience = phase_epochs(self.cfg, phase), self.tcfg["patience"]
        if limit and self.tcfg["min_steps"]:  # small data sets: epochs enough for min_steps steps
            limit = max(limit, math.ceil(self.tcfg["min_steps"] / self.steps_per_epoch))
        if st["phase_epoch"] >= limit:
            return True
        best = st["best"]
        return bool(patience and best is not None and st["phase_epoch"] - best["phase_epoch"] >= patience)

    # ---------------------------------------------------------------- one epoch
    def admm_step(self) -> bool:
        """After an optimizer step in the ADMM phase: Z/U update when due; True when the tolerance is met."""
        st, interval = self.state, self.ccfg["admm_interval"] or self.steps_per_epoch
        steps = st["iterations"] - st["phase_start_iteration"]
        if steps % interval and steps < self.ccfg["admm_steps"]:
            return False
        rec = self.admm.update(steps)
        st["admm_log"].append(rec)
        tol = self.ccfg["tolerance"]
        return (tol > 0 and rec["primal_rel"] < tol) or steps >= self.ccfg["admm_steps"]

    def evals_due(self, t_run: float) -> None:
        """eval_every: the validation metric now (and the target check on it)."""
        st, task = self.state, self.task
        _, v = evaluate(self.model, task, self.data["val"])
        minutes = (time.time() - t_run) / 60
        st["evals"].append({"iteration": st["iterations"], "minutes": minutes, "val_metric": v})
        target = self.tcfg["target"]
        if target is not None and better_or_equal(task, v, target):
            st["stopped_by"] = "target"

    def run_epoch(self, t_run: float) -> dict:
        """Train one epoch (cut short when the ADMM phase converges or a cap is hit); returns its record."""
        st, task, tcfg = self.state, self.task, self.tcfg
        x_all, y_all, l_all = self.data["train"]
        n_train, bs = len(x_all), tcfg["batch_size"]
        eval_every, max_it, max_sec = tcfg["eval_every"], tcfg["max_iterations"], tcfg["max_minutes"] * 60
        clip_params = self.model.main_parameters()
        loss_sum = metric_sum = 0.0
        metric_n = seen = 0
        order = torch.from_numpy(batch_order(self.cfg["seed"], st["epoch"], n_train))
        self.model.train()
        for start in range(0, n_train, bs):
            idx = order[start : start + bs]
            x, y, lengths = x_all[idx], y_all[idx], l_all[idx]
            out = forward(self.model, task, x, lengths)
            loss = task_loss(task, out, y)
            total = loss + self.admm.penalty() if self.admm is not None else loss
            for opt in self.opts:
                opt.zero_grad(set_to_none=True)
            total.backward()
            self.model.before_step()
            if tcfg["clip"] > 0:
                torch.nn.utils.clip_grad_norm_(clip_params, tcfg["clip"])
            for opt in self.opts:
                opt.step()
            self.model.after_step()
            st["iterations"] += 1
            loss_sum += float(loss.detach()) * len(idx)
            seen += len(idx)
            s, n = metric_sums(task, out.detach(), y)
            metric_sum, metric_n = metric_sum + s, metric_n + n
            admm_done = self.admm is not None and self.admm_step()
            if eval_every and st["iterations"] % eval_every == 0:
                self.evals_due(t_run)
            if max_it and st["iterations"] >= max_it:
                st["stopped_by"] = st["stopped_by"] or "max_iterations"
            if max_sec and time.time() - t_run >= max_sec:
                st["stopped_by"] = st["stopped_by"] or "max_minutes"
            if st["stopped_by"] or admm_done:
                break
        rec = {"epoch": st["epoch"], "phase": self.phase, "iterations": st["iterations"]}
        rec.update(train_loss=loss_sum / seen, train_metric=metric_sum / metric_n)
        rec["val_loss"], rec["val_metric"] = evaluate(self.model, task, self.data["val"])
        if self.admm is not None and st["admm_log"]:
            last = st["admm_log"][-1]
            rec.update(
                rho=self.admm.rho, primal_residual=last["primal"], primal_residual_rel=last["primal_rel"]
            )
            rec["dual_residual"] = last["dual"]
        return rec

    def after_epoch(self, rec: dict, t_run: float) -> None:
        """Book-keeping: history, best validated model, target on validation, wall time."""
        st, task = self.state, self.task
        target = self.tcfg["target"]
        if target is not None and better_or_equal(task, rec["val_metric"], target):
            st["stopped_by"] = st["stopped_by"] or "target"
        if self.phase != "admm":
            self.offer_best(st["epoch"], st["phase_epoch"] + 1, rec)
        st["train_seconds"] = time.time() - t_run
        rec["seconds"] = st["train_seconds"]
        st["history"].append(rec)
        st["epoch"] += 1
        st["phase_epoch"] += 1


def train(cfg: dict, root: str | Path = "build", force: bool = False, stop_after_epoch: int | None = None):
    """Train the experiment described by cfg; write model.pt, metrics.json and curve.png; return the metrics.

    Resumes from build/NAME/train/checkpoint.pt when it belongs to the same config. stop_after_epoch simulates
    a kill right after that epoch's checkpoint (returns None, no final artifacts): used by the resume test.
    """
    torch.set_flush_denormal(True)  # before any parallel op, so the worker threads inherit it (11x on CPU)
    torch.set_num_threads(cfg["training"]["threads"])
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
    run = Run(cfg, task, out_dir, chash)
    run.steps_per_epoch = math.ceil(len(task.train[0]) / cfg["training"]["batch_size"])
    ckpt_path = out_dir / "checkpoint.pt"
    if not (ckpt_path.exists() and not force and run.resume(ckpt_path)) and run.phase is not None:
        run.start_phase()
    st = run.state
    bar = tqdm(desc=f"train {cfg['name']}", initial=st["epoch"], unit="epoch", disable=None)
    t_run = time.time() - st["train_seconds"]
    while run.phase is not None:
        if st["stopped_by"] or run.phase_over():
            run.end_phase()
            if st["stopped_by"]:  # a cap or the target ends the run; an ADMM run is still projected
                while run.phase is not None and run.phase != "finetune":
                    run.end_phase()
                if run.phase == "finetune":
                    st["phase_index"] = len(run.phases)
            run.checkpoint()
            continue
        rec = run.run_epoch(t_run)
        run.after_epoch(rec, t_run)
        run.checkpoint()
        bar.update(1)
        post = {"loss": f"{rec['train_loss']:.4f}", f"val_{task.metric_name}": f"{rec['val_metric']:.4f}"}
        if "primal_residual" in rec:
            post.update(res=f"{rec['primal_residual_rel']:.3g}", rho=f"{rec['rho']:.3g}")
        bar.set_postfix(post)
        if bar.disable:
            log.info(
                "epoch %d %s %s", st["epoch"], rec["phase"], " ".join(f"{k}={v}" for k, v in post.items())
            )
        if stop_after_epoch is not None and st["epoch"] >= stop_after_epoch:
            bar.close()
            return None
    bar.close()
    if st["stopped_by"]:
        log.info("stopped by %s after %d iterations", st["stopped_by"], st["iterations"])
    return finish(cfg, task, run, out_dir, chash)


def finish(cfg, task, run: Run, out_dir: Path, chash: str) -> dict:
    """Write model.pt, curve.png and (last, as the completion marker) metrics.json."""
    ccfg, state, model = cfg["compression"], run.state, run.model
    val_loss, val_metric = evaluate(model, task, run.data["val"])
    test_loss, test_metric = evaluate(model, task, run.data["test"])
    with torch.random.fork_rng():
        dense_cfg = copy.deepcopy(cfg)
        dense_cfg["compression"]["mode"] = "dense"
        params_dense = count_parameters(build(dense_cfg, task))
    params = count_parameters(model)
    metrics = {
        "task": cfg["task"]["name"] if cfg["task"]["name"] != "aeon" else cfg["task"]["dataset"],
        "model": cfg["model"]["cell"],
        "compression": ccfg["mode"],
        "block_size": ccfg["block_size"] if ccfg["mode"] != "dense" else None,
        "params": params,
        "params_dense": params_dense,
        "compression_ratio": round(params_dense / params, 4),
        "test_metric_name": task.metric_name,
        "test_metric": test_metric,
        "test_loss": test_loss,
        "val_metric": val_metric,
        "val_loss": val_loss,
        "n_train": len(task.train[0]),
        "n_val": len(task.val[0]),
        "n_test": len(task.test[0]),
        "train_seconds": round(state["train_seconds"], 3),
        "iterations": state["iterations"],
        "epochs_run": state["epoch"],
        "stopped_by": state["stopped_by"] or "epochs",
        "input_size": task.input_size,
        "output_size": task.output_size,
        "config_hash": chash,
        "init": state["init"],
        "finetune_lr_scale": state.get("finetune_lr_scale"),
        "phases": state["phase_results"],
        "history": state["history"],
    }
    if state["evals"]:
        metrics["evals"] = state["evals"]
    if ccfg["mode"] == "admm":
        metrics["acc_after_projection"] = state["acc_after_projection"]
        metrics["val_after_projection"] = state["val_after_projection"]
        metrics["projection_rel"] = state["projection_rel"]
        metrics["admm"] = state["admm_log"]
        metrics["admm_steps_run"] = state["admm_log"][-1]["step"] if state["admm_log"] else 0
    sd = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    atomic_write_bytes(out_dir / "model.pt", torch_bytes(sd))
    title = f"{cfg['name']}: {cfg['model']['cell']} {ccfg['mode']} on {metrics['task']}"
    plot_curve(
        out_dir / "curve.png",
        state["history"],
        state["phase_results"],
        state["admm_log"],
        task.metric_name,
        title,
    )
    write_json(out_dir / "metrics.json", metrics)
    log.info(
        "%s: test %s = %.4f (val %.4f), params %d (dense %d, %.2fx), %.1f s",
        out_dir,
        task.metric_name,
        test_metric,
        val_metric,
        params,
        params_dense,
        params_dense / params,
        state["train_seconds"],
    )
    return metrics
