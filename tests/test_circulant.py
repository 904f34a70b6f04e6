"""Block-circulant projection, expansion and layers (train/circulant.py)."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from train.circulant import (
    BlockCirculantLinear,
    DenseLinear,
    circulant_vectors,
    expand_block_circulant,
    make_linear,
    project_block_circulant,
)

torch.set_num_threads(1)

BLOCKS = (2, 4, 8, 16, 32)
SHAPES = [(8, 8), (7, 5), (33, 17), (3, 40), (50, 20), (1, 1)]


def _naive_projection(W: torch.Tensor, b: int) -> torch.Tensor:
    """Loop definition: each wrapped diagonal of each block -> mean of its entries inside the matrix."""
    out_f, in_f = W.shape
    P = torch.zeros_like(W)
    for i0 in range(0, out_f, b):
        for j0 in range(0, in_f, b):
            for k in range(b):
                cells = [(r, c) for r in range(b) for c in range(b) if (c - r) % b == k]
                cells = [(i0 + r, j0 + c) for r, c in cells if i0 + r < out_f and j0 + c < in_f]
                if cells:
                    mean = sum(W[r, c] for r, c in cells) / len(cells)
                    for r, c in cells:
                        P[r, c] = mean
    return P


def _random_block_circulant(out_f, in_f, b, gen, dtype=torch.float64):
    p, q = -(-out_f // b), -(-in_f // b)
    return expand_block_circulant(torch.randn(p, q, b, generator=gen, dtype=dtype), out_f, in_f)


@pytest.mark.parametrize("b", BLOCKS)
@pytest.mark.parametrize("shape", SHAPES)
def test_projection_matches_definition_and_is_idempotent(shape, b):
    gen = torch.Generator().manual_seed(b * 1000 + shape[0])
    W = torch.randn(*shape, generator=gen, dtype=torch.float64)
    P = project_block_circulant(W, b)
    assert torch.allclose(P, _naive_projection(W, b), atol=1e-12)
    assert torch.allclose(project_block_circulant(P, b), P, atol=1e-12)
    # a block-circulant matrix is its own projection
    C = _random_block_circulant(*shape, b, gen)
    assert torch.allclose(project_block_circulant(C, b), C, atol=1e-12)


def test_projection_changes_non_circulant_matrix():
    W = torch.arange(64.0).reshape(8, 8) ** 2
    assert not torch.allclose(project_block_circulant(W, 4), W)


@settings(max_examples=60, deadline=None)
@given(
    out_f=st.integers(1, 40),
    in_f=st.integers(1, 40),
    b=st.sampled_from(BLOCKS),
    seed=st.integers(0, 2**31 - 1),
    scale=st.floats(1e-3, 10.0),
)
def test_projection_is_nearest_block_circulant(out_f, in_f, b, seed, scale):
    gen = torch.Generator().manual_seed(seed)
    W = torch.randn(out_f, in_f, generator=gen, dtype=torch.float64)
    P = project_block_circulant(W, b)
    dist = torch.linalg.norm(W - P)
    # random block-circulant matrices, and random block-circulant perturbations of the projection itself
    for _ in range(5):
        Y = _random_block_circulant(out_f, in_f, b, gen)
        assert dist <= torch.linalg.norm(W - Y) + 1e-9
        Y = P + scale * _random_block_circulant(out_f, in_f, b, gen)
        assert dist <= torch.linalg.norm(W - Y) + 1e-9
    # optimality condition: the residual is orthogonal to every block-circulant direction
    Y = _random_block_circulant(out_f, in_f, b, gen)
    assert abs(torch.sum((W - P) * Y)) < 1e-9 * (1 + torch.linalg.norm(Y) * torch.linalg.norm(W))


@pytest.mark.parametrize("b", BLOCKS)
@pytest.mark.parametrize("shape", [(16, 16), (9, 13), (130, 37), (5, 70)])
def test_block_circulant_forward_equals_dense_expansion(shape, b):
    torch.manual_seed(b + shape[1])
    out_f, in_f = shape
    layer = BlockCirculantLinear(in_f, out_f, b)
    assert layer.weight.shape == (-(-out_f // b), -(-in_f // b), b)
    x = torch.randn(4, 3, in_f)
    dense = layer.to_dense()
    assert dense.shape == (out_f, in_f)
    y = layer(x)
    assert y.shape == (4, 3, out_f)
    assert torch.allclose(y, x @ dense.T + layer.bias, atol=1e-5)
    # the expansion follows the convention C[r, c] = w[(r - c) mod b] in block (0, 0)
    r, c = min(b, out_f) - 1, 0
    assert dense[r, c] == layer.weight[0, 0, (r - c) % b]
    # gradients flow to the vectors, and agree with the dense expansion's
    y.square().sum().backward()
    g_fft = layer.weight.grad.clone()
    layer.weight.grad = None
    (x @ layer.to_dense().T + layer.bias).square().sum().backward()
    assert torch.allclose(g_fft, layer.weight.grad, atol=1e-3, rtol=1e-4)


def test_block_circulant_first_column_convention():
    layer = BlockCirculantLinear(4, 4, 4, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[[1.0, 2.0, 3.0, 4.0]]]))
    expected = torch.tensor([[1.0, 4, 3, 2], [2, 1, 4, 3], [3, 2, 1, 4], [4, 3, 2, 1]])
    assert torch.equal(layer.to_dense(), expected)
    x = torch.tensor([1.0, 0, 0, 0])
    assert torch.allclose(layer(x), expected[:, 0])


@pytest.mark.parametrize("b", BLOCKS)
@pytest.mark.parametrize("shape", [(12, 20), (7, 3), (33, 65)])
def test_from_dense_and_circulant_vectors_round_trip(shape, b):
    torch.manual_seed(b)
    dense = DenseLinear(shape[1], shape[0], bias=True, block_size=b)
    circ = BlockCirculantLinear.from_dense(dense)
    assert torch.allclose(circ.to_dense(), project_block_circulant(dense.weight.detach(), b))
    assert torch.equal(circ.bias, dense.bias)
    # vectors -> dense -> vectors returns the same vectors (entries outside the real region are 0)
    w = circulant_vectors(dense.weight.detach(), b)
    assert torch.allclose(circulant_vectors(expand_block_circulant(w, *shape), b), w, atol=1e-6)
    assert torch.allclose(circulant_vectors(circ.to_dense().detach(), b), circ.weight, atol=1e-6)
    # a fresh layer keeps its unused (padding-only) entries at zero too
    fresh = BlockCirculantLinear(shape[1], shape[0], b)
    assert torch.allclose(circulant_vectors(fresh.to_dense().detach(), b), fresh.weight.detach(), atol=1e-6)
    x = torch.randn(5, shape[1])
    assert torch.allclose(
        circ(x), x @ project_block_circulant(dense.weight.detach(), b).T + dense.bias, atol=1e-5
    )


def test_make_linear_modes():
    assert isinstance(make_linear(10, 6, "dense", 4), DenseLinear)
    assert make_linear(10, 6, "dense", 4).block_size is None
    admm = make_linear(10, 6, "admm", 4, bias=False)
    assert isinstance(admm, DenseLinear) and admm.block_size == 4 and admm.bias is None
    circ = make_linear(10, 6, "circulant", 4)
    assert isinstance(circ, BlockCirculantLinear) and circ.weight.shape == (2, 3, 4)
    assert torch.equal(circ.dense_weight(), circ.to_dense())
    with pytest.raises(ValueError, match="mode"):
        make_linear(10, 6, "sparse", 4)
    with pytest.raises(ValueError, match="block_size"):
        BlockCirculantLinear.from_dense(make_linear(10, 6, "dense", 4))
