"""`python -m train.make_example --config configs/imported_lstm.yaml`: write the config's model.init file.

Stands in for a model trained elsewhere: a plain torch nn.LSTM / nn.GRU (batch_first) with an nn.Linear head
on the last valid state, trained on the config's task (inputs normalised as the config says, so the imported
model sees the inputs it was trained on), saved as a state_dict with torch.save.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import torch
import torch.nn.functional as F

from configs.schema import ConfigError, load_config, run_cli
from configs.util import atomic_write_bytes

log = logging.getLogger(__name__)


class UserRNN(torch.nn.Module):
    """nn.LSTM / nn.GRU and an nn.Linear head on the last valid state (packed sequences)."""

    def __init__(self, kind: str, input_size: int, hidden: int, out: int, layers: int = 1):
        super().__init__()
        bidirectional = kind == "bilstm"
        cls = torch.nn.GRU if kind == "gru" else torch.nn.LSTM
        self.rnn = cls(input_size, hidden, num_layers=layers, batch_first=True, bidirectional=bidirectional)
        self.fc = torch.nn.Linear(hidden * (2 if bidirectional else 1), out)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, h_n = self.rnn(packed)
        h_n = h_n if isinstance(self.rnn, torch.nn.GRU) else h_n[0]
        return self.fc(torch.cat([h_n[-2], h_n[-1]], -1) if self.rnn.bidirectional else h_n[-1])


def train_user_model(cfg: dict, epochs: int) -> tuple[UserRNN, float]:
    """Train the stand-in model on the task's training split; returns it and its test accuracy."""
    from train.data import load_task

    m = cfg["model"]
    if m["cell"] not in ("lstm", "gru", "bilstm"):
        raise ConfigError(f"model.cell: make_example writes nn.LSTM / nn.GRU weights (got {m['cell']!r})")
    task = load_task(cfg)
    if task.kind != "classification":
        raise ConfigError(f"task.name: make_example needs a classification task (got {task.name!r})")
    torch.manual_seed(cfg["seed"])
    model = UserRNN(m["cell"], task.input_size, m["hidden"], task.output_size, m["layers"])
    opt = torch.optim.Adam(model.parameters(), lr=cfg["training"]["lr"])
    x, y, lengths = (torch.from_numpy(a) for a in task.train)
    gen = torch.Generator().manual_seed(cfg["seed"])
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=gen).split(cfg["training"]["batch_size"]):
            loss = F.cross_entropy(model(x[idx], lengths[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    xt, yt, lt = (torch.from_numpy(a) for a in task.test)
    with torch.no_grad():
        acc = float((model(xt, lt).argmax(-1) == yt).float().mean())
    return model, acc


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.make_example", description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="configs/imported_lstm.yaml", help="config with model.init")
    parser.add_argument("--epochs", type=int, default=40, help="training epochs of the stand-in model")
    args = parser.parse_args(argv)
    cfg = load_config(args.config)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not cfg["model"]["init"]:
        raise ConfigError(f"{args.config}: model.init: the file to write is not set (got None)")
    torch.set_flush_denormal(True)
    torch.set_num_threads(cfg["training"]["threads"])
    model, acc = train_user_model(cfg, args.epochs)
    import io

    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    atomic_write_bytes(Path(cfg["model"]["init"]), buf.getvalue())
    print(f"{cfg['model']['init']}: nn.{type(model.rnn).__name__} state_dict, test accuracy {acc:.4f}")
    return 0


if __name__ == "__main__":
    run_cli(main)
