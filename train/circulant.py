"""Block-circulant matrices: projection, expansion and the linear layers every model is built from.

Convention (docs/arithmetic.md, section 3): a weight matrix (out, in) is split into b x b blocks; block
(i, j) is circulant and defined by its first column w_ij: C[r, c] = w_ij[(r - c) mod b], so
C x = irfft(rfft(w_ij) * rfft(x)). The vectors are stored as a tensor (p, q, b) with p = ceil(out / b),
q = ceil(in / b). Inputs are zero-padded to q * b and outputs truncated to `out`: sizes that b does not divide
are padded, never rejected.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

MODES = ("dense", "circulant", "admm")


def _blocks(out_f: int, in_f: int, b: int) -> tuple[int, int]:
    return math.ceil(out_f / b), math.ceil(in_f / b)


def _first_column_index(b: int, device=None) -> Tensor:
    """(b, b) long tensor m[r, c] = (r - c) mod b: entry (r, c) of a block is w[m[r, c]]."""
    r = torch.arange(b, device=device)
    return (r[:, None] - r[None, :]) % b


def _to_blocks(W: Tensor, b: int) -> Tensor:
    """Zero-pad W (out, in) to (p*b, q*b) and view it as blocks (p, q, b, b) indexed [i, j, r, c]."""
    out_f, in_f = W.shape
    p, q = _blocks(out_f, in_f, b)
    padded = F.pad(W, (0, q * b - in_f, 0, p * b - out_f))
    return padded.reshape(p, b, q, b).permute(0, 2, 1, 3)


def _diagonal_sums(blocks: Tensor, b: int) -> Tensor:
    """Sum of each wrapped diagonal of each block, indexed by first-column position: (p, q, b)."""
    p, q = blocks.shape[:2]
    index = _first_column_index(b, blocks.device).reshape(1, 1, b * b).expand(p, q, b * b)
    sums = torch.zeros(p, q, b, dtype=blocks.dtype, device=blocks.device)
    return sums.scatter_add(2, index, blocks.reshape(p, q, b * b))


def _valid_counts(out_f: int, in_f: int, b: int, dtype=torch.float32, device=None) -> Tensor:
    """How many entries of each wrapped diagonal lie inside the real out x in region: (p, q, b)."""
    inside = torch.ones(out_f, in_f, dtype=dtype, device=device)
    return _diagonal_sums(_to_blocks(inside, b), b)


def circulant_vectors(W: Tensor, b: int) -> Tensor:
    """Defining vectors (p, q, b) of project_block_circulant(W, b).

    Each vector entry is the mean of the wrapped diagonal it defines, over the entries inside the real region;
    entries whose diagonal lies entirely in the padding are 0.
    """
    out_f, in_f = W.shape
    sums = _diagonal_sums(_to_blocks(W, b), b)
    counts = _valid_counts(out_f, in_f, b, W.dtype, W.device)
    return torch.where(counts > 0, sums / counts.clamp(min=1), torch.zeros_like(sums))


def expand_block_circulant(w: Tensor, out_f: int, in_f: int) -> Tensor:
    """Dense (out, in) matrix of the block-circulant vectors w (p, q, b)."""
    p, q, b = w.shape
    blocks = w[:, :, _first_column_index(b, w.device)]  # (p, q, b, b) = [i, j, r, c]
    return blocks.permute(0, 2, 1, 3).reshape(p * b, q * b)[:out_f, :in_f]


def project_block_circulant(W: Tensor, b: int) -> Tensor:
    """Euclidean projection of W (out, in) onto the (truncated) block-circulant matrices with block size b."""
    return expand_block_circulant(circulant_vectors(W, b), *W.shape)


class DenseLinear(nn.Module):
    """y = x W^T + bias. `block_size` is None, or b when the layer is an ADMM target (mode "admm")."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        block_size: int | None = None,
        init_bound: float | None = None,
    ):
        super().__init__()
        self.in_features, self.out_features, self.block_size = in_features, out_features, block_size
        bound = 1.0 / math.sqrt(in_features) if init_bound is None else init_bound
        self.weight = nn.Parameter(torch.empty(out_features, in_features).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound)) if bias else None

    def dense_weight(self) -> Tensor:
        return self.weight

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in={self.in_features}, out={self.out_features}, bias={self.bias is not None}, "
            f"block_size={self.block_size}"
        )


class BlockCirculantLinear(nn.Module):
    """y = x C^T + bias with C block-circulant; stores one length-b vector per block (weight (p, q, b)).

    forward: rfft of each input block once, accumulation over input blocks in the frequency domain, one irfft
    per output block.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        block_size: int,
        bias: bool = True,
        init_bound: float | None = None,
    ):
        super().__init__()
        self.in_features, self.out_features, self.block_size = in_features, out_features, block_size
        p, q = _blocks(out_features, in_features, block_size)
        bound = 1.0 / math.sqrt(in_features) if init_bound is None else init_bound
        weight = torch.empty(p, q, block_size).uniform_(-bound, bound)
        # entries that only touch padding never act on the output: keep them 0, as circulant_vectors does
        weight *= _valid_counts(out_features, in_features, block_size) > 0
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound)) if bias else None

    @classmethod
    def from_dense(cls, layer: DenseLinear, block_size: int | None = None) -> BlockCirculantLinear:
        """The block-circulant layer whose matrix is the projection of layer's weight (bias copied)."""
        b = block_size or layer.block_size
        if b is None:
            raise ValueError("from_dense: the dense layer has no block_size and none was given")
        new = cls(layer.in_features, layer.out_features, b, bias=layer.bias is not None)
        with torch.no_grad():
            new.weight.copy_(circulant_vectors(layer.weight.detach(), b))
            if layer.bias is not None:
                new.bias.copy_(layer.bias.detach())
        return new.to(layer.weight.device)

    def to_dense(self) -> Tensor:
        return expand_block_circulant(self.weight, self.out_features, self.in_features)

    dense_weight = to_dense

    def forward(self, x: Tensor) -> Tensor:
        b = self.block_size
        p, q, _ = self.weight.shape
        lead = x.shape[:-1]
        xb = F.pad(x, (0, q * b - self.in_features)).reshape(-1, q, b)
        xf = torch.fft.rfft(xb, dim=-1).permute(2, 0, 1)  # (F, N, q)
        wf = torch.fft.rfft(self.weight, dim=-1).permute(2, 1, 0)  # (F, q, p)
        yf = torch.matmul(xf, wf).permute(1, 2, 0)  # (N, p, F): sum over input blocks per frequency bin
        y = torch.fft.irfft(yf, n=b, dim=-1).reshape(*lead, p * b)[..., : self.out_features]
        return y + self.bias if self.bias is not None else y

    def extra_repr(self) -> str:
        return (
            f"in={self.in_features}, out={self.out_features}, bias={self.bias is not None}, "
            f"block_size={self.block_size}"
        )


def make_linear(
    in_f: int, out_f: int, mode: str, b: int, bias: bool = True, init_bound: float | None = None
) -> DenseLinear | BlockCirculantLinear:
    """The linear layer for a compression mode: dense, admm (dense with block_size = b) or circulant."""
    if mode == "dense":
        return DenseLinear(in_f, out_f, bias, None, init_bound)
    if mode == "admm":
        return DenseLinear(in_f, out_f, bias, b, init_bound)
    if mode == "circulant":
        return BlockCirculantLinear(in_f, out_f, b, bias, init_bound)
    raise ValueError(f"make_linear: mode must be one of {list(MODES)} (got {mode!r})")
