"""Recurrent sequence models: LSTM (projection, peepholes), BiLSTM, GRU, ENRNN / scoRNN, MomentumLSTM.

Every layer takes x (B, T, F) and lengths (B,) or None and returns (outputs (B, T, out), last (B, out)),
where `last` is the output at each sequence's last valid step: after a sequence ends its state is frozen (the
update is masked), so the final state of the loop is the last valid one. The time loop iterates over
x.unbind(1) (indexing x[:, t] would make the backward pass O(T^2)). The input-to-hidden products of all steps
are computed at once before the loop.

Every matrix is built by make_linear (dense, admm target or block-circulant) except the orthogonal W1 and the
normalised W2n of ENRNN / scoRNN (see ENRNNLayer). Equations: /work/shared/REFERENCE.md (column vectors).
"""

from __future__ import annotations

import logging
import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from train.circulant import BlockCirculantLinear, DenseLinear, circulant_vectors, make_linear

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------------------------- time loop
def _time_loop(step, inputs: Tensor, state: tuple[Tensor, ...], lengths: Tensor | None):
    """Run `state = step(inputs[:, t], state)` over t; state[0] is the per-step output.

    With lengths, a sequence's state stops changing after its last valid step.
    Returns (outputs (B, T, out), final state[0]).
    """
    steps = inputs.unbind(1)
    masks = [None] * len(steps)
    if lengths is not None:
        t = torch.arange(len(steps), device=inputs.device)
        masks = (t[None, :] < lengths.to(inputs.device)[:, None]).unsqueeze(-1).unbind(1)  # T x (B, 1)
    outputs = []
    for x_t, valid in zip(steps, masks, strict=True):
        new = step(x_t, state)
        if valid is not None:  # a sequence that has ended keeps its state
            new = tuple(torch.where(valid, n, s) for n, s in zip(new, state, strict=True))
        state = new
        outputs.append(state[0])
    return torch.stack(outputs, 1), state[0]


def _reverse_valid(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Reverse each sequence in time within its valid length (padding stays in place)."""
    if lengths is None:
        return x.flip(1)
    B, T = x.shape[:2]
    t = torch.arange(T, device=x.device)[None, :]
    n = lengths.to(x.device)[:, None]
    index = torch.where(t < n, n - 1 - t, t)  # (B, T)
    return x[torch.arange(B, device=x.device)[:, None], index]


# ----------------------------------------------------------------------------------------------- LSTM family
class LSTMLayer(nn.Module):
    """LSTM, gate order (i, f, g, o); peepholes (p_i, p_f on c_{t-1}; p_o on c_t); projection r = P h.

    w_ih: in -> 4H with bias b_ih + b_hh; w_hh: R -> 4H without bias (R = projection size or H).
    Init as torch.nn.LSTM: every weight U(-1/sqrt(H), 1/sqrt(H)).
    """

    def __init__(
        self,
        input_size: int,
        hidden: int,
        mode: str = "dense",
        b: int = 8,
        projection: int = 0,
        peepholes: bool = False,
    ):
        super().__init__()
        self.hidden = hidden
        self.output_size = projection or hidden
        k = 1.0 / math.sqrt(hidden)
        self.w_ih = make_linear(input_size, 4 * hidden, mode, b, bias=True, init_bound=k)
        self.w_hh = make_linear(self.output_size, 4 * hidden, mode, b, bias=False, init_bound=k)
        self.peep = nn.Parameter(torch.empty(3, hidden).uniform_(-k, k)) if peepholes else None
        self.proj = make_linear(hidden, projection, mode, b, bias=False, init_bound=k) if projection else None

    def step(self, gx: Tensor, state: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        r, c = state
        i, f, g, o = (gx + self.w_hh(r)).chunk(4, -1)
        if self.peep is not None:
            i, f = i + self.peep[0] * c, f + self.peep[1] * c
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        if self.peep is not None:
            o = o + self.peep[2] * c
        h = torch.sigmoid(o) * torch.tanh(c)
        return (self.proj(h) if self.proj is not None else h), c

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
        zeros = x.new_zeros(x.shape[0], self.hidden)
        state = (x.new_zeros(x.shape[0], self.output_size), zeros)
        return _time_loop(self.step, self.w_ih(x), state, lengths)


class BiLSTMLayer(nn.Module):
    """Two LSTMLayers; per-step output concat(h_fwd, h_bwd).

    last = concat(fwd output at the last valid step, bwd output at t = 0)."""

    def __init__(
        self,
        input_size: int,
        hidden: int,
        mode: str = "dense",
        b: int = 8,
        projection: int = 0,
        peepholes: bool = False,
    ):
        super().__init__()
        self.fwd = LSTMLayer(input_size, hidden, mode, b, projection, peepholes)
        self.bwd = LSTMLayer(input_size, hidden, mode, b, projection, peepholes)
        self.output_size = 2 * self.fwd.output_size

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
        out_f, last_f = self.fwd(x, lengths)
        # the backward LSTM reads each sequence from its last valid step down to t = 0
        out_b, last_b = self.bwd(_reverse_valid(x, lengths), lengths)
        return torch.cat([out_f, _reverse_valid(out_b, lengths)], -1), torch.cat([last_f, last_b], -1)


class MomentumLSTMLayer(nn.Module):
    """MomentumLSTM: v_t = mu v_{t-1} + s (W x_t + b_W); gates = v_t + U h_{t-1} + b_U (order i, f, g, o)."""

    def __init__(
        self, input_size: int, hidden: int, mode: str = "dense", b: int = 8, mu: float = 0.6, s: float = 0.6
    ):
        super().__init__()
        self.hidden, self.output_size = hidden, hidden
        self.mu, self.s = float(mu), float(s)
        k = 1.0 / math.sqrt(hidden)
        self.w_ih = make_linear(input_size, 4 * hidden, mode, b, bias=True, init_bound=k)
        self.w_hh = make_linear(hidden, 4 * hidden, mode, b, bias=True, init_bound=k)

    def step(self, sx: Tensor, state: tuple[Tensor, Tensor, Tensor]) -> tuple[Tensor, Tensor, Tensor]:
        h, c, v = state
        v = self.mu * v + sx
        i, f, g, o = (v + self.w_hh(h)).chunk(4, -1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c, v

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
        B, H = x.shape[0], self.hidden
        state = (x.new_zeros(B, H), x.new_zeros(B, H), x.new_zeros(B, 4 * H))
        return _time_loop(self.step, self.s * self.w_ih(x), state, lengths)


# ----------------------------------------------------------------------------------------------- GRU
class GRULayer(nn.Module):
    """GRU as torch.nn.GRU (gate order r, z, n): r, z = sigmoid(W x + b_i + U h + b_h);
    n = tanh(W_n x + b_in + r * (U_n h + b_hn)); h = (1 - z) * n + z * h = n + z * (h - n)."""

    def __init__(self, input_size: int, hidden: int, mode: str = "dense", b: int = 8):
        super().__init__()
        self.hidden, self.output_size = hidden, hidden
        k = 1.0 / math.sqrt(hidden)
        self.w_ih = make_linear(input_size, 3 * hidden, mode, b, bias=True, init_bound=k)
        self.w_hh = make_linear(hidden, 3 * hidden, mode, b, bias=True, init_bound=k)

    def step(self, gx: Tensor, state: tuple[Tensor]) -> tuple[Tensor]:
        (h,) = state
        xr, xz, xn = gx.chunk(3, -1)
        hr, hz, hn = self.w_hh(h).chunk(3, -1)
        r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
        n = torch.tanh(xn + r * hn)
        return (n + z * (h - n),)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return _time_loop(self.step, self.w_ih(x), (x.new_zeros(x.shape[0], self.hidden),), lengths)


# ----------------------------------------------------------------------------------------------- ENRNN
def cayley(A: Tensor, D: Tensor) -> Tensor:
    """(I + A)^-1 (I - A) diag(D), computed in float64 (differentiable in A), returned in A's dtype."""
    A64 = A.double()
    eye = torch.eye(A.shape[0], dtype=torch.float64, device=A.device)
    return (torch.linalg.solve(eye + A64, eye - A64) * D.double()[None, :]).to(A.dtype)


def scaled_cayley_grad(A: Tensor, D: Tensor, W: Tensor, G: Tensor) -> Tensor:
    """scoRNN's gradient for A from G = dL/dW: V = (I + A)^-T G (D + W^T), dL/dA = V^T - V."""
    eye = torch.eye(A.shape[0], dtype=A.dtype, device=A.device)
    V = torch.linalg.solve((eye + A).T, G) @ (torch.diag(D) + W.T)
    return V.T - V


def spectral_radius(W: Tensor) -> Tensor:
    """Largest eigenvalue modulus (differentiable)."""
    return torch.linalg.eigvals(W).abs().max()


def spectral_normalize(W: Tensor) -> Tensor:
    """W / rho(W); autograd through eigvals gives the paper's dL/dW2 (checked in tests/test_models.py)."""
    return W / spectral_radius(W)


def modrelu(z: Tensor, bias: Tensor) -> Tensor:
    """sign(z) * relu(|z| + bias)."""
    return torch.sign(z) * F.relu(z.abs() + bias)


def _skew_init(n: int) -> Tensor:
    """Block-diagonal skew matrix of 2x2 blocks [[0, s], [-s, 0]].

    s = sqrt((1 - cos t) / (1 + cos t)), t ~ U[0, pi/2] (scoRNN init)."""
    A = torch.zeros(n, n)
    for k in range(0, n - 1, 2):
        cos_t = math.cos(float(torch.rand(())) * math.pi / 2)
        s = math.sqrt((1 - cos_t) / (1 + cos_t))
        A[k, k + 1], A[k + 1, k] = s, -s
    return A


class ENRNNLayer(nn.Module):
    """ENRNN (Helfrich & Ye 2020); scoRNN when n2 = 0. State h = [h1 (n1) ; h2 (n2)], N = n1 + n2.

    z = w_in(x) + [W1 h1 + w3(h2) ; W2n h2],  h = modReLU(z) = sign(z) relu(|z| + mod_bias).
    W1 = (I + A)^-1 (I - A) D: A skew-symmetric (a parameter with its own optimizer, orthogonal_parameters),
    D a fixed +-1 diagonal buffer with neg_eigs entries -1. W1 is recomputed from A at every forward, so
    autograd yields dL/dA_raw = -(I + A)^-T G (D + W1^T) = -V; before_step turns it into scoRNN's skew
    gradient V^T - V = grad - grad^T, which keeps A exactly skew under elementwise optimizers (RMSprop, Adam).
    W2n = W2 once rho(W2) <= 1 has held at every step, else W2 / rho(W2): after_step latches the buffer
    `normalized` the first time rho(W2) > 1. The gradient through rho comes from autograd.
    W1 and W2 stay dense (orthogonality / the eigenvalue bound is not kept by a block-circulant projection).
    """

    def __init__(
        self,
        input_size: int,
        hidden: int,
        n2: int = 0,
        mode: str = "dense",
        b: int = 8,
        neg_eigs: int | None = None,
    ):
        super().__init__()
        n1 = hidden - n2
        if n1 < 1 or n2 < 0:
            raise ValueError(f"ENRNNLayer: need 0 <= n2 < hidden (got hidden={hidden}, n2={n2})")
        neg_eigs = n1 // 2 if neg_eigs is None else neg_eigs
        if not 0 <= neg_eigs <= n1:
            raise ValueError(f"ENRNNLayer: neg_eigs must be in [0, n1={n1}] (got {neg_eigs})")
        self.n1, self.n2, self.output_size = n1, n2, hidden
        glorot = math.sqrt(6.0 / (input_size + hidden))
        self.w_in = make_linear(input_size, hidden, mode, b, bias=False, init_bound=glorot)
        self.mod_bias = nn.Parameter(torch.empty(hidden).uniform_(-0.01, 0.01))
        self.A = nn.Parameter(_skew_init(n1))
        self.register_buffer("D", torch.cat([torch.ones(n1 - neg_eigs), -torch.ones(neg_eigs)]))
        if n2:
            self.w3 = make_linear(n2, n1, mode, b, bias=False)
            d2 = torch.empty((n2 + 1) // 2).uniform_(-1.0, 1.0).repeat_interleave(2)[:n2]
            self.W2 = nn.Parameter(cayley(_skew_init(n2), d2))
            self.register_buffer("normalized", torch.tensor(False))
        else:
            self.w3, self.W2 = None, None

    @property
    def W1(self) -> Tensor:
        return cayley(self.A, self.D)

    @property
    def W2n(self) -> Tensor | None:
        if self.W2 is None:
            return None
        return spectral_normalize(self.W2) if bool(self.normalized) else self.W2

    def recurrent_matrix(self) -> Tensor:
        """Dense (N, N) recurrent matrix [[W1, W3], [0, W2n]] (detached)."""
        with torch.no_grad():
            if self.W2 is None:
                return self.W1.clone()
            top = torch.cat([self.W1, self.w3.dense_weight()], 1)
            bottom = torch.cat([self.W1.new_zeros(self.n2, self.n1), self.W2n], 1)
            return torch.cat([top, bottom], 0)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
        n1, W1, W2n = self.n1, self.W1, self.W2n

        def step(u: Tensor, state: tuple[Tensor]) -> tuple[Tensor]:
            (h,) = state
            if W2n is None:
                z = u + h @ W1.T
            else:
                h1, h2 = h[:, :n1], h[:, n1:]
                z = u + torch.cat([h1 @ W1.T + self.w3(h2), h2 @ W2n.T], -1)
            return (modrelu(z, self.mod_bias),)

        return _time_loop(step, self.w_in(x), (x.new_zeros(x.shape[0], self.output_size),), lengths)

    def before_step(self) -> None:
        if self.A.grad is not None:
            self.A.grad = self.A.grad - self.A.grad.T

    @torch.no_grad()
    def after_step(self) -> None:
        if self.W2 is not None and not bool(self.normalized) and spectral_radius(self.W2) > 1:
            self.normalized.fill_(True)
            log.info("ENRNN: rho(W2) > 1, W2 normalised by its spectral radius from now on")


# ----------------------------------------------------------------------------------------------- the model
class SequenceModel(nn.Module):
    """Stacked recurrent layers (model.layers) and an output layer (model.head)."""

    def __init__(self, cell: str, layers: list[nn.Module], head: nn.Module):
        super().__init__()
        self.cell = cell
        self.layers = nn.ModuleList(layers)
        self.head = head

    def forward(self, x: Tensor, lengths: Tensor | None = None, per_step: bool = False) -> Tensor:
        """(B, output) from each sequence's last valid step, or (B, T, output) with per_step."""
        if lengths is not None and bool((lengths >= x.shape[1]).all()):
            lengths = None  # nothing to mask
        last = None
        for layer in self.layers:
            x, last = layer(x, lengths)
        return self.head(x if per_step else last)

    def admm_layers(self) -> dict[str, DenseLinear]:
        return {
            n: m for n, m in self.named_modules() if isinstance(m, DenseLinear) and m.block_size is not None
        }

    def convert_to_circulant(self) -> None:
        """Replace every ADMM target by its block-circulant projection (in place)."""
        for name, layer in self.admm_layers().items():
            parent_name, _, attr = name.rpartition(".")
            setattr(self.get_submodule(parent_name), attr, BlockCirculantLinear.from_dense(layer))

    def orthogonal_parameters(self) -> list[nn.Parameter]:
        return [m.A for m in self.modules() if isinstance(m, ENRNNLayer)]

    def main_parameters(self) -> list[nn.Parameter]:
        ortho = {id(p) for p in self.orthogonal_parameters()}
        return [p for p in self.parameters() if id(p) not in ortho]

    def before_step(self) -> None:
        for m in self.modules():
            if isinstance(m, ENRNNLayer):
                m.before_step()

    def after_step(self) -> None:
        for m in self.modules():
            if isinstance(m, ENRNNLayer):
                m.after_step()


def build_model(cfg: dict, input_size: int, output_size: int) -> SequenceModel:
    """The model of a validated config (cfg["model"], cfg["compression"]); deterministic given the seed."""
    m, c = cfg["model"], cfg["compression"]
    cell, hidden, mode, b = m["cell"], m["hidden"], c["mode"], c["block_size"]
    layers, size = [], input_size
    for _ in range(m["layers"]):
        if cell == "lstm":
            layer = LSTMLayer(size, hidden, mode, b, m["projection"], m["peepholes"])
        elif cell == "bilstm":
            layer = BiLSTMLayer(size, hidden, mode, b, m["projection"], m["peepholes"])
        elif cell == "gru":
            layer = GRULayer(size, hidden, mode, b)
        elif cell in ("enrnn", "scornn"):
            n2 = m["n2"] if cell == "enrnn" else 0
            layer = ENRNNLayer(size, hidden, n2, mode, b, m["neg_eigs"])
        elif cell == "momentum_lstm":
            layer = MomentumLSTMLayer(size, hidden, mode, b, m["momentum"], m["step_size"])
        else:
            raise ValueError(f"build_model: unknown cell {cell!r}")
        layers.append(layer)
        size = layer.output_size
    head = make_linear(size, output_size, mode if c["compress_head"] else "dense", b, bias=True)
    return SequenceModel(cell, layers, head)


# ----------------------------------------------------------------------------------------------- torch import
def _set_linear(layer: nn.Module, weight: Tensor, bias: Tensor | None, key: str) -> None:
    """Copy a dense weight (and bias) into a DenseLinear, or its projection into a BlockCirculantLinear."""
    if tuple(weight.shape) != (layer.out_features, layer.in_features):
        raise ValueError(
            f"load_torch_state_dict: {key}: shape {tuple(weight.shape)} does not match the model "
            f"({layer.out_features}, {layer.in_features})"
        )
    with torch.no_grad():
        if isinstance(layer, BlockCirculantLinear):
            log.warning(
                "load_torch_state_dict: %s projected onto block-circulant b=%d", key, layer.block_size
            )
            layer.weight.copy_(circulant_vectors(weight.to(layer.weight.dtype), layer.block_size))
        else:
            layer.weight.copy_(weight)
        if layer.bias is not None:
            layer.bias.copy_(bias if bias is not None else torch.zeros_like(layer.bias))


def load_torch_state_dict(model: SequenceModel, sd: dict[str, Tensor]) -> SequenceModel:
    """Load the state_dict of a plain torch.nn.LSTM / nn.GRU (batch_first or not; bidirectional for BiLSTM).

    Keys may carry a prefix (e.g. "rnn.weight_ih_l0"); only the recurrent layers are loaded, not the head.
    LSTM biases b_ih + b_hh are summed into w_ih's bias; peepholes (absent in torch) are set to 0.
    """
    if model.cell not in ("lstm", "bilstm", "gru"):
        raise ValueError(f"load_torch_state_dict: cell {model.cell!r} has no torch.nn counterpart")
    starts = [k for k in sd if k.endswith("weight_ih_l0")]
    if len(starts) != 1:
        raise ValueError("load_torch_state_dict: expected exactly one 'weight_ih_l0' key (an nn.LSTM/nn.GRU)")
    prefix = starts[0][: -len("weight_ih_l0")]
    n_layers = len({k for k in sd if k.startswith(prefix + "weight_ih_l") and not k.endswith("_reverse")})
    if n_layers != len(model.layers):
        raise ValueError(
            f"load_torch_state_dict: state_dict has {n_layers} layers, the model {len(model.layers)}"
        )
    bidirectional = any(k.endswith("_reverse") for k in sd)
    if bidirectional != (model.cell == "bilstm"):
        raise ValueError("load_torch_state_dict: bidirectional state_dict needs cell bilstm (and vice versa)")
    for index, layer in enumerate(model.layers):
        pairs = [("", layer)] if model.cell != "bilstm" else [("", layer.fwd), ("_reverse", layer.bwd)]
        for suffix, target in pairs:

            def get(name, suffix=suffix, index=index):
                return sd.get(f"{prefix}{name}_l{index}{suffix}")

            b_ih, b_hh = get("bias_ih"), get("bias_hh")
            if model.cell == "gru":
                _set_linear(target.w_ih, get("weight_ih"), b_ih, f"weight_ih_l{index}{suffix}")
                _set_linear(target.w_hh, get("weight_hh"), b_hh, f"weight_hh_l{index}{suffix}")
                continue
            bias = None if b_ih is None else b_ih + b_hh
            _set_linear(target.w_ih, get("weight_ih"), bias, f"weight_ih_l{index}{suffix}")
            _set_linear(target.w_hh, get("weight_hh"), None, f"weight_hh_l{index}{suffix}")
            w_hr = get("weight_hr")
            if (w_hr is None) != (target.proj is None):
                raise ValueError(
                    f"load_torch_state_dict: projection of layer {index} does not match the model"
                )
            if w_hr is not None:
                _set_linear(target.proj, w_hr, None, f"weight_hr_l{index}{suffix}")
            if target.peep is not None:
                with torch.no_grad():
                    target.peep.zero_()
    return model


# ----------------------------------------------------------------------------------------------- model.init
def _torch_head(sd: dict[str, Tensor], rnn_prefix: str) -> tuple[str, Tensor, Tensor | None] | None:
    """The optional nn.Linear head of a user state_dict: (key, weight, bias) of its only 2-D weight outside
    the recurrent module, or None."""
    heads = [
        k
        for k, v in sd.items()
        if k.endswith("weight") and v.dim() == 2 and not (rnn_prefix and k.startswith(rnn_prefix))
        and "_ih_l" not in k and "_hh_l" not in k and "_hr_l" not in k
    ]  # fmt: skip
    if not heads:
        return None
    if len(heads) > 1:
        raise ValueError(f"{heads[1]}: more than one candidate output head ({', '.join(heads)})")
    key = heads[0]
    return key, sd[key], sd.get(key[: -len("weight")] + "bias")


def _load_own(model: SequenceModel, sd: dict[str, Tensor]) -> None:
    """Load a model.pt of this project; dense <-> block-circulant weights are expanded / projected."""
    from train.circulant import expand_block_circulant

    own = model.state_dict()
    extra = sorted(set(sd) - set(own))
    if extra:
        raise ValueError(f"{extra[0]}: key not in the configured model (shape {tuple(sd[extra[0]].shape)})")
    missing = sorted(set(own) - set(sd))
    if missing:
        raise ValueError(
            f"{missing[0]}: missing (the configured model needs shape {tuple(own[missing[0]].shape)})"
        )
    modules = dict(model.named_modules())
    with torch.no_grad():
        for key, value in sd.items():
            target = own[key]
            layer = modules.get(key.rpartition(".")[0])
            if key.endswith(".weight") and value.dim() == 3 and target.dim() == 2 and layer is not None:
                value = expand_block_circulant(value, layer.out_features, layer.in_features)
            elif key.endswith(".weight") and value.dim() == 2 and target.dim() == 3:
                value = circulant_vectors(value.to(target.dtype), layer.block_size)
            if tuple(value.shape) != tuple(target.shape):
                raise ValueError(
                    f"{key}: shape {tuple(value.shape)} does not match the model {tuple(target.shape)}"
                )
            target.copy_(value)


def load_pretrained(model: SequenceModel, sd: dict[str, Tensor]) -> dict:
    """Load model.init weights into the model: a torch nn.LSTM / nn.GRU state_dict (any prefix, bidirectional
    for bilstm) with an optional nn.Linear head, or this project's own model.pt. Raises ValueError naming the
    key and the shapes. Returns {"format": ..., "head": bool}."""
    if not isinstance(sd, dict) or not all(isinstance(v, Tensor) for v in sd.values()):
        raise ValueError("not a state_dict (a mapping of names to tensors)")
    starts = [k for k in sd if k.endswith("weight_ih_l0")]
    if not starts:
        _load_own(model, sd)
        return {"format": "model.pt", "head": True}
    load_torch_state_dict(model, sd)
    head = _torch_head(sd, starts[0][: -len("weight_ih_l0")])
    if head is None:
        log.warning("model.init: no nn.Linear head in the state_dict; the head keeps its random init")
        return {"format": "torch.nn", "head": False}
    key, weight, bias = head
    _set_linear(model.head, weight, bias, key)
    return {"format": "torch.nn", "head": True}
