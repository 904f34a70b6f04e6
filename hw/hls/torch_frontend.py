"""The PyTorch side of the hls4ml integration (imports torch: used only by the peer benchmark and the
torch integration test; `make hls` never imports this module).

`R2FNet(artifact)` is a torch module made of HLS4MLModule subclasses — `R2FRecurrentModule` per stacked
layer and `R2FHeadModule` — whose forward runs the integer reference (compress/reference.py) on integer
inputs. hls4ml's PyTorch frontend keeps them as leaf modules and hands them to the handlers registered by
`hw.hls.extension.register()`, which produce the same IR layers as the torch-free path (`hw.hls.project`).
"""

from __future__ import annotations

import numpy as np
import torch
from hls4ml.utils.torch import HLS4MLModule

from compress import reference as ref
from hw.hls.codegen import layer_specs


class _R2FModule(HLS4MLModule):
    def __init__(self, artifact, spec):
        super().__init__()
        self.artifact = artifact
        self.spec = spec  # read by hw.hls.extension.parse_r2f_module

    def _be(self):
        return ref.IntBackend(self.artifact.manifest, self.artifact.arrays)


class R2FRecurrentModule(_R2FModule):
    """Stacked layer k: (x (B, T, F) integers, lengths (B,)) -> output sequence (B, T, n_out) integers."""

    def __init__(self, artifact, spec, k: int):
        super().__init__(artifact, spec)
        self.k = k

    def forward(self, x, length):
        model = self.artifact.manifest["model"]
        X = x.detach().numpy().astype(np.int64)
        L = np.clip(length.detach().numpy().reshape(-1).astype(np.int64), 1, X.shape[1])
        be = self._be()
        cells = ref.cell_names(model)[self.k]
        xfmt = ref.layer_input_name(model, self.k)
        if len(cells) == 2:  # forward and backward cells
            of = ref.run_cell(be, cells[0], model, X, xfmt, L)
            ob = ref.run_cell(be, cells[1], model, ref.reverse_valid(X, L), xfmt, L)
            out = np.concatenate([of, ref.reverse_valid(ob, L)], axis=2)
        else:
            out = ref.run_cell(be, cells[0], model, X, xfmt, L)
        return torch.from_numpy(out.astype(np.float64))


class R2FHeadModule(_R2FModule):
    """(u (B, T, n_in), lengths) -> y (B, O) or (B, T, O) integers at head.y."""

    def forward(self, u, length):
        model = self.artifact.manifest["model"]
        U = u.detach().numpy().astype(np.int64)
        B, T = U.shape[:2]
        L = np.clip(length.detach().numpy().reshape(-1).astype(np.int64), 1, T)
        be = self._be()
        ufmt = ref.cell_output_name(model, ref.cell_names(model)[-1][0])
        v = U.reshape(B * T, -1) if model.get("per_step") else U[np.arange(B), L - 1].copy()
        if len(ref.cell_names(model)[-1]) == 2 and not model.get("per_step"):  # backward final state: t = 0
            half = U.shape[2] // 2
            v[:, half:] = U[:, 0, half:]
        y = be.add([be.mv("head.w", v, ufmt, "head.y"), be.vec("head.b")], "head.y")
        return torch.from_numpy(
            y.reshape((B, T, -1) if model.get("per_step") else (B, -1)).astype(np.float64)
        )


class R2FNet(torch.nn.Module):
    """The whole integer model as torch modules: forward(x_int (B, T, F), lengths (B, 1))."""

    def __init__(self, artifact, T: int):
        super().__init__()
        specs = layer_specs(artifact.manifest, artifact.arrays, T)
        self.rnn = torch.nn.ModuleList(R2FRecurrentModule(artifact, s, k) for k, s in enumerate(specs[:-1]))
        self.head = R2FHeadModule(artifact, specs[-1])

    def forward(self, x, length):
        for layer in self.rnn:
            x = layer(x, length)
        return self.head(x, length)


def convert(artifact, out_dir, T: int, backend: str = "Vitis"):
    """R2FNet through hls4ml's PyTorch frontend (channels_last_conversion='internal')."""
    import hls4ml

    from hw.hls.extension import register
    from hw.hls.project import LEN_BITS

    register()
    net = R2FNet(artifact, T)
    F = int(artifact.manifest["model"]["input_size"])
    cfg = hls4ml.utils.config_from_pytorch_model(
        net,
        [(T, F), (1,)],
        default_precision=f"ap_int<{artifact.manifest['formats']['x']['bits']}>",
        channels_last_conversion="internal",
        granularity="model",
        backend=backend,
    )
    cfg.setdefault("LayerName", {})["length"] = {"Precision": {"result": f"ap_int<{LEN_BITS}>"}}
    graph = hls4ml.converters.convert_from_pytorch_model(
        net, output_dir=str(out_dir), backend=backend, io_type="io_parallel", hls_config=cfg
    )
    return net, graph
