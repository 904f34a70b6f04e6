"""Recurrent models (train/models.py): torch equivalence, orthogonal cells, gradients, conversions."""

import copy
import io

import numpy as np
import pytest
import scipy.linalg
import torch

from configs.schema import validate
from train.circulant import BlockCirculantLinear, DenseLinear, project_block_circulant
from train.make_example import UserRNN  # nn.LSTM / nn.GRU + nn.Linear, as a user trains them elsewhere
from train.models import (
    ENRNNLayer,
    LSTMLayer,
    MomentumLSTMLayer,
    build_model,
    cayley,
    load_torch_state_dict,
    scaled_cayley_grad,
    spectral_normalize,
    spectral_radius,
)

torch.set_num_threads(1)

CELLS = ("lstm", "bilstm", "gru", "enrnn", "scornn", "momentum_lstm")


def _cfg(cell="lstm", hidden=13, mode="dense", b=4, **model):
    extra = {"n2": 5} if cell == "enrnn" and "n2" not in model else {}
    return validate(
        {
            "model": {"cell": cell, "hidden": hidden, **extra, **model},
            "compression": {"mode": mode, "block_size": b},
        }
    )


def _lengths_mask(lengths, T):
    return (torch.arange(T)[None, :] < lengths[:, None]).unsqueeze(-1)


def _run_layers(model, x, lengths=None):
    last = None
    for layer in model.layers:
        x, last = layer(x, lengths)
    return x, last


# ------------------------------------------------------------------------------------------ torch equivalence
@pytest.mark.parametrize("cell", ["lstm", "gru", "bilstm"])
@pytest.mark.parametrize("layers", [1, 2])
def test_dense_lstm_gru_reproduce_torch(cell, layers):
    torch.manual_seed(layers)
    F_in, H, T = 7, 20, 11
    model = build_model(_cfg(cell, H, layers=layers), F_in, 3)
    cls = torch.nn.GRU if cell == "gru" else torch.nn.LSTM
    ref = cls(F_in, H, num_layers=layers, batch_first=True, bidirectional=cell == "bilstm")
    load_torch_state_dict(model, ref.state_dict())
    x = torch.randn(5, T, F_in)

    out_ref, _ = ref(x)
    out, last = _run_layers(model, x)
    assert torch.allclose(out, out_ref, atol=1e-5)
    if cell == "bilstm":  # last = (fwd at the last step, bwd at t = 0)
        assert torch.allclose(last, torch.cat([out_ref[:, -1, :H], out_ref[:, 0, H:]], -1), atol=1e-5)
    else:
        assert torch.allclose(last, out_ref[:, -1], atol=1e-5)

    # variable lengths: torch's packed sequences give the state at each sequence's last valid step
    lengths = torch.tensor([11, 5, 1, 8, 11])
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out_p, h_n = ref(packed)
    h_n = h_n if cell == "gru" else h_n[0]
    out_p, _ = torch.nn.utils.rnn.pad_packed_sequence(out_p, batch_first=True, total_length=T)
    out, last = _run_layers(model, x, lengths)
    expected_last = torch.cat([h_n[-2], h_n[-1]], -1) if cell == "bilstm" else h_n[-1]
    assert torch.allclose(last, expected_last, atol=1e-5)
    mask = _lengths_mask(lengths, T)
    assert torch.allclose(out * mask, out_p * mask, atol=1e-5)
    # the model: the head reads the last valid state
    assert torch.allclose(model(x, lengths), model.head(expected_last), atol=1e-5)
    assert model(x, lengths, per_step=True).shape == (5, T, 3)


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported")
def test_lstm_projection_reproduces_torch_proj_size():
    torch.manual_seed(3)
    model = build_model(_cfg("lstm", 24, projection=9, layers=2), 6, 2)
    ref = torch.nn.LSTM(6, 24, num_layers=2, proj_size=9, batch_first=True)
    load_torch_state_dict(model, ref.state_dict())
    assert model.layers[0].proj.weight.shape == (9, 24) and model.layers[0].w_hh.weight.shape == (96, 9)
    x = torch.randn(3, 10, 6)
    out_ref, (h_n, _) = ref(x)
    out, last = _run_layers(model, x)
    assert torch.allclose(out, out_ref, atol=1e-5) and torch.allclose(last, h_n[-1], atol=1e-5)


def test_torch_state_dict_with_prefix_and_no_bias_loads():
    class UserModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.LSTM(4, 8, bias=False)
            self.fc = torch.nn.Linear(8, 2)

    torch.manual_seed(0)
    user = UserModel()
    model = build_model(_cfg("lstm", 8), 4, 2)
    load_torch_state_dict(model, user.state_dict())
    assert torch.count_nonzero(model.layers[0].w_ih.bias) == 0
    x = torch.randn(2, 5, 4)
    out_ref, _ = user.rnn(x.transpose(0, 1))
    assert torch.allclose(_run_layers(model, x)[0], out_ref.transpose(0, 1), atol=1e-5)


def test_load_torch_state_dict_rejects_mismatches():
    model = build_model(_cfg("lstm", 8), 4, 2)
    with pytest.raises(ValueError, match="layers"):
        load_torch_state_dict(model, torch.nn.LSTM(4, 8, num_layers=2).state_dict())
    with pytest.raises(ValueError, match="shape"):
        load_torch_state_dict(model, torch.nn.LSTM(4, 9).state_dict())
    with pytest.raises(ValueError, match="bidirectional"):
        load_torch_state_dict(model, torch.nn.LSTM(4, 8, bidirectional=True).state_dict())
    with pytest.raises(ValueError, match="counterpart"):
        load_torch_state_dict(build_model(_cfg("scornn", 8), 4, 2), torch.nn.LSTM(4, 8).state_dict())


def test_torch_state_dict_into_circulant_model_is_projected():
    torch.manual_seed(1)
    model = build_model(_cfg("gru", 16, mode="circulant", b=4), 3, 2)
    ref = torch.nn.GRU(3, 16, batch_first=True)
    load_torch_state_dict(model, ref.state_dict())
    assert isinstance(model.layers[0].w_hh, BlockCirculantLinear)
    assert torch.allclose(
        model.layers[0].w_hh.to_dense(), project_block_circulant(ref.weight_hh_l0.detach(), 4)
    )


# ------------------------------------------------------------------------------------------ model.init
def _init_cfg(path, cell, H, mode="dense", layers=1):
    return validate(
        {
            "model": {"cell": cell, "hidden": H, "layers": layers, "init": str(path)},
            "compression": {"mode": mode, "block_size": 4},
        },
        "init.yaml",
    )


@pytest.mark.parametrize("cell, layers", [("lstm", 1), ("gru", 2), ("bilstm", 1)])
def test_model_init_from_torch_state_dict_equals_torch(tmp_path, cell, layers):
    from train.loop import init_model

    torch.manual_seed(4)
    F_in, H, T, out = 5, 12, 9, 3
    user = UserRNN(cell, F_in, H, out, layers)
    torch.save(user.state_dict(), tmp_path / "user.pt")
    cfg = _init_cfg(tmp_path / "user.pt", cell, H, layers=layers)
    model = build_model(cfg, F_in, out)
    info = init_model(cfg, model)
    assert info == {"format": "torch.nn", "head": True}
    x, lengths = torch.randn(6, T, F_in), torch.tensor([9, 4, 1, 7, 9, 2])
    with torch.no_grad():
        torch.testing.assert_close(model(x, lengths), user(x, lengths), rtol=0, atol=1e-5)


def test_model_init_admm_keeps_dense_weights_and_circulant_projects(tmp_path):
    from train.loop import init_model

    torch.manual_seed(5)
    user = UserRNN("lstm", 4, 8, 2)
    torch.save(user.state_dict(), tmp_path / "user.pt")
    admm = build_model(_init_cfg(tmp_path / "user.pt", "lstm", 8, "admm"), 4, 2)
    init_model(_init_cfg(tmp_path / "user.pt", "lstm", 8, "admm"), admm)
    assert torch.equal(admm.layers[0].w_hh.weight, user.rnn.weight_hh_l0)
    assert torch.equal(admm.head.weight, user.fc.weight)
    circ = build_model(_init_cfg(tmp_path / "user.pt", "lstm", 8, "circulant"), 4, 2)
    init_model(_init_cfg(tmp_path / "user.pt", "lstm", 8, "circulant"), circ)
    torch.testing.assert_close(circ.head.to_dense(), project_block_circulant(user.fc.weight.detach(), 4))


def test_model_init_from_own_model_pt_expands_circulant(tmp_path):
    from train.loop import init_model

    torch.manual_seed(6)
    circ = build_model(_cfg("gru", 8, mode="circulant", b=4), 3, 2)
    torch.save(circ.state_dict(), tmp_path / "model.pt")
    cfg = _init_cfg(tmp_path / "model.pt", "gru", 8, "admm")
    dense = build_model(cfg, 3, 2)
    assert init_model(cfg, dense) == {"format": "model.pt", "head": True}
    x = torch.randn(4, 6, 3)
    with torch.no_grad():
        torch.testing.assert_close(dense(x), circ(x), rtol=0, atol=1e-5)


@pytest.mark.parametrize(
    "make, key, shape",
    [
        (lambda: UserRNN("lstm", 5, 10, 3).state_dict(), "weight_ih_l0", "(40, 5)"),  # wrong hidden
        (lambda: UserRNN("lstm", 4, 12, 3).state_dict(), "weight_ih_l0", "(48, 4)"),  # wrong input size
        (lambda: UserRNN("lstm", 5, 12, 7).state_dict(), "fc.weight", "(7, 12)"),  # wrong classes
    ],
)
def test_model_init_shape_errors_name_file_key_and_shape(tmp_path, make, key, shape):
    from configs.schema import ConfigError
    from train.loop import init_model

    torch.save(make(), tmp_path / "bad.pt")
    cfg = _init_cfg(tmp_path / "bad.pt", "lstm", 12)
    with pytest.raises(ConfigError) as err:
        init_model(cfg, build_model(cfg, 5, 3))
    msg = str(err.value)
    assert "\n" not in msg and str(tmp_path / "bad.pt") in msg and key in msg and shape in msg


def test_model_init_rejects_pickled_objects(tmp_path):
    from configs.schema import ConfigError
    from train.loop import init_model

    torch.save(UserRNN("lstm", 5, 12, 3), tmp_path / "module.pt")  # a whole module, not a state_dict
    cfg = _init_cfg(tmp_path / "module.pt", "lstm", 12)
    with pytest.raises(ConfigError, match="module.pt: model.init unreadable"):
        init_model(cfg, build_model(cfg, 5, 3))


# ------------------------------------------------------------------------------------------ LSTM variants
def test_lstm_peepholes_and_projection_follow_the_equations():
    torch.manual_seed(4)
    H, P, F_in = 6, 4, 3
    layer = LSTMLayer(F_in, H, projection=P, peepholes=True)
    x = torch.randn(2, 5, F_in)
    out, last = layer(x)
    W, R = layer.w_ih.weight, layer.w_hh.weight
    bias, p, Pm = layer.w_ih.bias, layer.peep, layer.proj.weight
    r, c = torch.zeros(2, P), torch.zeros(2, H)
    for t in range(5):  # REFERENCE.md: i, f peek at c_{t-1}; o peeks at c_t; r_t = P h_t
        z = x[:, t] @ W.T + r @ R.T + bias
        i = torch.sigmoid(z[:, :H] + p[0] * c)
        f = torch.sigmoid(z[:, H : 2 * H] + p[1] * c)
        c = f * c + i * torch.tanh(z[:, 2 * H : 3 * H])
        o = torch.sigmoid(z[:, 3 * H :] + p[2] * c)
        r = (o * torch.tanh(c)) @ Pm.T
        assert torch.allclose(out[:, t], r, atol=1e-6)
    assert torch.allclose(last, r, atol=1e-6)
    out.square().sum().backward()
    assert layer.peep.grad is not None and torch.count_nonzero(layer.peep.grad) > 0


def test_momentum_lstm_matches_hand_written_loop():
    torch.manual_seed(5)
    H, F_in, mu, s = 5, 3, 0.6, 0.7
    layer = MomentumLSTMLayer(F_in, H, mu=mu, s=s)
    x = torch.randn(2, 6, F_in)
    out, last = layer(x, torch.tensor([6, 4]))
    W, bW, U, bU = layer.w_ih.weight, layer.w_ih.bias, layer.w_hh.weight, layer.w_hh.bias
    for n, length in enumerate([6, 4]):
        h, c, v = torch.zeros(H), torch.zeros(H), torch.zeros(4 * H)
        for t in range(length):
            v = mu * v + s * (W @ x[n, t] + bW)
            g = v + U @ h + bU
            c = torch.sigmoid(g[H : 2 * H]) * c + torch.sigmoid(g[:H]) * torch.tanh(g[2 * H : 3 * H])
            h = torch.sigmoid(g[3 * H :]) * torch.tanh(c)
            assert torch.allclose(out[n, t], h, atol=1e-6)
        assert torch.allclose(last[n], h, atol=1e-6)


def test_bilstm_shapes_and_last_state_semantics():
    torch.manual_seed(6)
    model = build_model(_cfg("bilstm", 10, projection=4, peepholes=True, layers=2), 3, 2)
    x, lengths = torch.randn(3, 7, 3), torch.tensor([7, 2, 5])
    out, last = _run_layers(model, x, lengths)
    assert out.shape == (3, 7, 8) and last.shape == (3, 8)
    for n, length in enumerate(lengths.tolist()):
        assert torch.allclose(last[n], torch.cat([out[n, length - 1, :4], out[n, 0, 4:]]))
        # the backward direction does not see the padding: same as running the sequence alone
        alone, last_alone = _run_layers(model, x[n : n + 1, :length])
        assert torch.allclose(alone[0], out[n, :length], atol=1e-6)
        assert torch.allclose(last_alone[0], last[n], atol=1e-6)
    assert model(x, lengths).shape == (3, 2)


# ------------------------------------------------------------------------------------------ scoRNN / ENRNN
def _orthogonality_error(W):
    return (W.T @ W - torch.eye(W.shape[0])).abs().max().item()


def test_enrnn_initialisation():
    torch.manual_seed(7)
    layer = ENRNNLayer(3, 20, n2=7, neg_eigs=5)
    A = layer.A.detach()
    assert torch.equal(A, -A.T)
    assert (
        torch.count_nonzero(
            A - torch.diag_embed(torch.diagonal(A, 1), 1) - torch.diag_embed(torch.diagonal(A, -1), -1)
        )
        == 0
    )  # only the 2x2 blocks
    assert torch.all(torch.diagonal(A, 1)[1::2] == 0)
    assert int((layer.D == -1).sum()) == 5 and int((layer.D == 1).sum()) == 8
    assert _orthogonality_error(layer.W1.detach()) < 1e-5
    moduli = torch.linalg.eigvals(layer.W2.detach().double()).abs()
    assert moduli.max() < 1 and not bool(layer.normalized)
    assert ENRNNLayer(3, 8).D.sum() == 0  # default neg_eigs = n1 / 2
    assert layer.mod_bias.abs().max() <= 0.01
    assert layer.recurrent_matrix().shape == (20, 20)
    assert torch.count_nonzero(layer.recurrent_matrix()[13:, :13]) == 0


@pytest.mark.parametrize("n2", [0, 5])
def test_enrnn_recurrence_equals_its_recurrent_matrix(n2):
    torch.manual_seed(16)
    layer = ENRNNLayer(3, 12, n2=n2, mode="circulant", b=4)
    if n2:
        with torch.no_grad():
            layer.normalized.fill_(True)
    x = torch.randn(2, 6, 3)
    out, _ = layer(x)
    R, U = layer.recurrent_matrix(), layer.w_in.to_dense().detach()
    h = torch.zeros(2, 12)
    for t in range(6):  # h_t = modReLU(U x_t + R h_{t-1})
        z = x[:, t] @ U.T + h @ R.T
        h = torch.sign(z) * torch.relu(z.abs() + layer.mod_bias.detach())
        assert torch.allclose(out[:, t], h, atol=1e-5)


def test_scornn_W1_orthogonal_before_and_after_training():
    torch.manual_seed(8)
    model = build_model(_cfg("scornn", 24), 2, 1)
    layer = model.layers[0]
    assert _orthogonality_error(layer.W1.detach()) < 1e-5
    main = torch.optim.Adam(model.main_parameters(), lr=1e-2)
    ortho = torch.optim.RMSprop(model.orthogonal_parameters(), lr=1e-2)
    A0 = layer.A.detach().clone()
    x, y = torch.randn(8, 12, 2), torch.randn(8, 1)
    for _ in range(5):
        main.zero_grad()
        ortho.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        model.before_step()
        main.step()
        ortho.step()
        model.after_step()
        A = layer.A.detach()
        assert torch.equal(A, -A.T)
        assert _orthogonality_error(layer.W1.detach()) < 1e-5
    assert (layer.A.detach() - A0).abs().max() > 1e-3  # A did move


def test_scaled_cayley_gradient_equals_autograd_on_skew_matrices():
    gen = torch.Generator().manual_seed(9)
    n = 7
    S = torch.randn(n, n, generator=gen, dtype=torch.float64).triu(1)
    D = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0).double()
    G = torch.randn(n, n, generator=gen, dtype=torch.float64)
    # autograd of the Cayley map restricted to skew A = S - S^T: dL/dS = dL/dA - dL/dA^T
    S.requires_grad_(True)
    W = cayley(S - S.T, D)
    torch.sum(G * W).backward()
    A = (S - S.T).detach()
    formula = scaled_cayley_grad(A, D, W.detach(), G)
    assert torch.allclose(formula, -formula.T)
    assert torch.allclose(formula, S.grad, atol=1e-10)
    # the layer's before_step produces the same gradient for its parameter A
    layer = ENRNNLayer(2, n, neg_eigs=int((D == -1).sum())).double()
    with torch.no_grad():
        layer.A.copy_(A)
        layer.D.copy_(D.sort(descending=True).values)
    torch.sum(G * layer.W1).backward()
    layer.before_step()
    expected = scaled_cayley_grad(A, layer.D, layer.W1.detach(), G)
    assert torch.allclose(layer.A.grad, expected, atol=1e-10)


def _paper_w2_gradient(W2, G):
    """Helfrich & Ye: dL/dW2 = (1/s)[G - (1/s)<G, W2n>(alpha Re M + beta Im M)], M = conj(v) u^T / (v^H u)."""
    lam, vl, vr = scipy.linalg.eig(W2, left=True, right=True)
    k = int(np.argmax(np.abs(lam)))
    sigma, alpha, beta = abs(lam[k]), lam[k].real, lam[k].imag
    u, v = vr[:, k], vl[:, k]  # W2 u = lam u, v^H W2 = lam v^H
    M = np.outer(v.conj(), u) / (v.conj() @ u)
    W2n = W2 / sigma
    return (G - np.sum(G * W2n) / sigma * (alpha * M.real + beta * M.imag)) / sigma, lam[k]


@pytest.mark.parametrize("kind", ["complex", "real"])
def test_enrnn_gradient_through_spectral_radius_equals_paper_formula(kind):
    rng = np.random.default_rng(10)
    n = 6
    while True:  # a random W2 with rho > 1 whose top eigenvalue is of the wanted kind
        W2 = rng.standard_normal((n, n)) * 0.8
        lam = np.linalg.eigvals(W2)
        top = lam[np.argmax(np.abs(lam))]
        if np.abs(top) > 1 and (abs(top.imag) > 1e-3) == (kind == "complex"):
            break
    G = rng.standard_normal((n, n))
    expected, lam_top = _paper_w2_gradient(W2, G)
    assert (abs(lam_top.imag) > 1e-3) == (kind == "complex")

    W = torch.tensor(W2, requires_grad=True)
    torch.sum(torch.tensor(G) * spectral_normalize(W)).backward()
    assert np.allclose(W.grad.numpy(), expected, atol=1e-8)

    # and both agree with central finite differences
    def loss(w):
        return float(np.sum(G * w / np.max(np.abs(np.linalg.eigvals(w)))))

    numeric = np.zeros_like(W2)
    for idx in np.ndindex(*W2.shape):
        d = np.zeros_like(W2)
        d[idx] = 1e-6
        numeric[idx] = (loss(W2 + d) - loss(W2 - d)) / 2e-6
    assert np.allclose(numeric, expected, atol=1e-5)


def test_enrnn_spectral_radius_bounded_and_latched():
    torch.manual_seed(11)
    model = build_model(_cfg("enrnn", 16, n2=6), 2, 1)
    layer = model.layers[0]
    opt = torch.optim.SGD(model.main_parameters(), lr=0.2)
    x, y = torch.randn(4, 5, 2), torch.randn(4, 1)
    latched_at = None
    for step in range(30):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        if latched_at is None:
            loss = (
                loss - (layer.W2n**2).sum()
            )  # pushes the eigenvalues of W2 outward until the switch latches
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        model.before_step()
        opt.step()
        model.after_step()
        assert spectral_radius(layer.W2n.detach().double()) <= 1 + 1e-6
        if bool(layer.normalized) and latched_at is None:
            latched_at = step
        if latched_at is not None:
            assert bool(layer.normalized)  # stays latched
    assert latched_at is not None and latched_at < 25
    assert spectral_radius(layer.W2.detach()) > 1
    assert abs(spectral_radius(layer.W2n.detach().double()) - 1) < 1e-5
    # the latch holds even when W2 shrinks again
    with torch.no_grad():
        layer.W2.mul_(0.1)
    model.after_step()
    assert bool(layer.normalized) and abs(spectral_radius(layer.W2n.detach().double()) - 1) < 1e-5
    # and it travels with the state_dict
    fresh = build_model(_cfg("enrnn", 16, n2=6), 2, 1)
    fresh.load_state_dict(model.state_dict())
    assert bool(fresh.layers[0].normalized)
    assert torch.equal(fresh(x), model(x))


def test_parameter_groups():
    model = build_model(_cfg("enrnn", 12, layers=2), 3, 2)
    ortho, main = model.orthogonal_parameters(), model.main_parameters()
    assert [p is layer.A for p, layer in zip(ortho, model.layers, strict=True)] == [True, True]
    assert {id(p) for p in ortho}.isdisjoint(id(p) for p in main)
    assert len(ortho) + len(main) == len(list(model.parameters()))
    assert build_model(_cfg("lstm"), 3, 2).orthogonal_parameters() == []


# ------------------------------------------------------------------------------------------ every cell x mode
MODE_BLOCKS = [("dense", 8)] + [(m, b) for m in ("circulant", "admm") for b in (2, 4, 8, 16, 32)]


def _cell_kwargs(cell):
    return {"projection": 7, "peepholes": True} if cell in ("lstm", "bilstm") else {}


@pytest.mark.parametrize("mode,b", MODE_BLOCKS)
@pytest.mark.parametrize("cell", CELLS)
def test_every_cell_mode_and_block_size_runs(cell, mode, b):
    torch.manual_seed(12)
    model = build_model(_cfg(cell, 13, mode, b, layers=2, **_cell_kwargs(cell)), 5, 3)
    x, lengths = torch.randn(3, 6, 5), torch.tensor([6, 2, 4])
    y = model(x, lengths)
    assert y.shape == (3, 3) and torch.isfinite(y).all()
    assert model(x, per_step=True).shape == (3, 6, 3)
    y.square().sum().backward()
    model.before_step()
    assert all(p.grad is not None for p in model.main_parameters() + model.orthogonal_parameters())
    linears = [m for m in model.modules() if isinstance(m, DenseLinear | BlockCirculantLinear)]
    if mode == "circulant":
        assert all(isinstance(m, BlockCirculantLinear) and m.block_size == b for m in linears)
    admm = model.admm_layers()
    assert len(admm) == (len(linears) if mode == "admm" else 0)
    assert all(m.block_size == b for m in admm.values())


@pytest.mark.parametrize("cell", CELLS)
def test_convert_to_circulant_equals_projected_dense_model(cell):
    torch.manual_seed(13)
    b = 4
    model = build_model(_cfg(cell, 13, "admm", b, layers=2, **_cell_kwargs(cell)), 5, 3)
    projected = copy.deepcopy(model)
    with torch.no_grad():
        for layer in projected.admm_layers().values():
            layer.weight.copy_(project_block_circulant(layer.weight, b))
    model.convert_to_circulant()
    assert model.admm_layers() == {}
    x, lengths = torch.randn(3, 6, 5), torch.tensor([6, 3, 1])
    assert torch.allclose(model(x, lengths), projected(x, lengths), atol=1e-5)
    # the converted model has the structure of a model built in circulant mode
    circ = build_model(_cfg(cell, 13, "circulant", b, layers=2, **_cell_kwargs(cell)), 5, 3)
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes == {k: tuple(v.shape) for k, v in circ.state_dict().items()}
    circ.load_state_dict(model.state_dict())
    assert torch.equal(circ(x, lengths), model(x, lengths))


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("mode", ["dense", "circulant"])
def test_state_dict_round_trip_gives_identical_outputs(cell, mode):
    torch.manual_seed(14)
    cfg = _cfg(cell, 12, mode, 4, **_cell_kwargs(cell))
    model = build_model(cfg, 3, 2)
    x = torch.randn(4, 5, 3)
    # one training step so that nothing is at its initial value
    model(x).sum().backward()
    model.before_step()
    torch.optim.SGD(model.main_parameters() + model.orthogonal_parameters(), lr=0.1).step()
    model.after_step()
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    torch.manual_seed(99)
    fresh = build_model(cfg, 3, 2)
    assert not torch.equal(fresh(x), model(x))
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    assert torch.equal(fresh(x), model(x))
    assert torch.equal(fresh(x, per_step=True), model(x, per_step=True))


def test_build_model_is_deterministic_given_the_seed():
    states = []
    for _ in range(2):
        torch.manual_seed(15)
        states.append(build_model(_cfg("enrnn", 10, "circulant", 4), 3, 2).state_dict())
    assert states[0].keys() == states[1].keys()
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])
