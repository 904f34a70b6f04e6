"""Quantization-aware fine-tuning (straight-through estimator) of the weight matrices (imports torch, train/).

Every DenseLinear / BlockCirculantLinear weight (time-domain circulant vectors for circulant layers) is
replaced in the forward pass by its fixed-point value at the artifact's format (weight_bits,
frac = choose_frac(max|w|)), with the identity as gradient (w + (q(w) - w).detach()). Activations, PWL and
the FFT path are not simulated: this is weight-only QAT. The latent float weights are kept; the exporter
quantizes them as usual afterwards."""

from __future__ import annotations

import logging

import numpy as np
import torch
import torch.nn.utils.parametrize as parametrize
from torch import nn

from compress.fixedpoint import choose_frac

log = logging.getLogger(__name__)


class FakeQuant(nn.Module):
    """w -> w + (quantize(w) - w).detach() at (bits, choose_frac(max|w|, bits))."""

    def __init__(self, bits: int):
        super().__init__()
        self.bits = bits

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        frac = choose_frac(float(w.detach().abs().max()), self.bits)
        scale = 2.0**frac
        lo, hi = -(2 ** (self.bits - 1)), 2 ** (self.bits - 1) - 1
        q = torch.clamp(torch.floor(w * scale + 0.5), lo, hi) / scale
        return w + (q - w).detach()


def qat_finetune(model, cfg: dict, task, epochs: int, lr_scale: float = 0.1) -> list[float]:
    """Fine-tune `model` in place for `epochs` epochs with fake-quantized weights; returns the losses.

    Optimizer, clipping and batch size from cfg["training"] (learning rate times lr_scale).
    """
    from train.circulant import BlockCirculantLinear, DenseLinear
    from train.loop import batch_order, forward, make_optimizers, task_loss

    bits = int(cfg["quantization"]["weight_bits"])
    layers = [m for m in model.modules() if isinstance(m, (DenseLinear, BlockCirculantLinear))]
    for m in layers:
        parametrize.register_parametrization(m, "weight", FakeQuant(bits))
    tcfg = dict(cfg["training"])
    tcfg["lr"] = tcfg["lr"] * lr_scale
    tcfg["orthogonal_lr"] = tcfg["orthogonal_lr"] * lr_scale
    torch.manual_seed(cfg["seed"])
    opts = make_optimizers(model, tcfg)
    X, y, L = (torch.from_numpy(np.asarray(a)) for a in task.train)
    n, bs = len(X), int(tcfg["batch_size"])
    losses = []
    model.train()
    try:
        for epoch in range(epochs):
            order = torch.from_numpy(batch_order(cfg["seed"], 10_000 + epoch, n))
            total, seen = 0.0, 0
            for start in range(0, n, bs):
                idx = order[start : start + bs]
                out = forward(model, task, X[idx], L[idx])
                loss = task_loss(task, out, y[idx])
                for opt in opts:
                    opt.zero_grad(set_to_none=True)
                loss.backward()
                model.before_step()
                if tcfg["clip"] > 0:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), tcfg["clip"])
                for opt in opts:
                    opt.step()
                model.after_step()
                total += float(loss.detach()) * len(idx)
                seen += len(idx)
            losses.append(total / max(seen, 1))
            log.info("QAT epoch %d/%d: loss %.4f", epoch + 1, epochs, losses[-1])
    finally:
        for m in layers:
            parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)
        model.eval()
    return losses
