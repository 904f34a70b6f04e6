"""rnn2fpga layers inside hls4ml through its extension API (no torch here).

- IR layers `R2FRecurrent` (one stacked layer: LSTM / BiLSTM / MomentumLSTM / GRU / ENRNN / scoRNN cells)
  and `R2FHead`, registered with `register_layer`; their weights are hls4ml weight variables of the manifest's
  integer types (ap_int<bits>), built from a `codegen.LayerSpec`.
- Config and function-call templates and the header library (hw/hls/include/rnn2fpga, copied to
  firmware/nnet_utils/) registered with `backend.register_template` / `backend.register_source` for the
  Vivado and Vitis backends.
- PyTorch frontend handlers (`register_pytorch_layer_handler`) for the HLS4MLModule subclasses of
  hw/hls/torch_frontend.py; the handlers only read the module's spec (hls4ml calls them twice).
`register()` is idempotent (hls4ml raises on a second registration, so every step is guarded).
"""

from __future__ import annotations

import hls4ml
from hls4ml.backends.template import FunctionCallTemplate, LayerConfigTemplate
from hls4ml.model.layers import Layer, layer_map, register_layer
from hls4ml.model.optimizer.optimizer import optimizer_map
from hls4ml.model.types import IntegerPrecisionType

from hw.hls.codegen import LayerSpec
from hw.hls.cpp import HEADERS

BACKENDS = ("Vivado", "Vitis")
INCLUDES = ["nnet_utils/r2f_rnn.h"]


class _R2FLayer(Layer):
    """Common part: the spec (attribute r2f_spec) gives the output variable and the weight variables."""

    def _add_weights(self, spec: LayerSpec) -> None:
        for w in spec.weights:
            self.add_weights_variable(
                name=w.key,
                var_name=w.key,
                precision=IntegerPrecisionType(w.bits, True),
                data=w.data.reshape(-1),
            )


class R2FRecurrent(_R2FLayer):
    """One recurrent layer: inputs (sequence [T, n_in], length [1]) -> sequence [T, n_out]."""

    def initialize(self):
        spec: LayerSpec = self.attributes["r2f_spec"]
        self.add_output_variable([spec.n_t, spec.n_out], precision=IntegerPrecisionType(spec.out_bits, True))
        self._add_weights(spec)


class R2FHead(_R2FLayer):
    """The output layer: inputs (sequence, length) -> y [n_out] (per_step: [T, n_out])."""

    def initialize(self):
        spec: LayerSpec = self.attributes["r2f_spec"]
        shape = [spec.n_t, spec.n_out] if spec.per_step else [spec.n_out]
        self.add_output_variable(shape, precision=IntegerPrecisionType(spec.out_bits, True))
        self._add_weights(spec)


def _prefix(node) -> str:
    return f"config{node.index}"


class R2FConfigTemplate(LayerConfigTemplate):
    """All config structs of a layer (matvec, PWL, cell), prefixed config<index>."""

    def __init__(self):
        super().__init__((R2FRecurrent, R2FHead))

    def format(self, node):
        spec: LayerSpec = node.get_attr("r2f_spec")
        return "".join(s.replace("{P}", _prefix(node)) for s in spec.structs)


class R2FFunctionTemplate(FunctionCallTemplate):
    """The call(s): the sequence loop of each direction, or the head, with the weight variables as arrays."""

    def __init__(self):
        super().__init__((R2FRecurrent, R2FHead), include_header=INCLUDES)

    def format(self, node):
        spec: LayerSpec = node.get_attr("r2f_spec")
        P = _prefix(node)
        x = node.get_input_variable(node.inputs[0]).name
        n = f"r2f::clamp_len<{spec.n_t}>({node.get_input_variable(node.inputs[1]).name}[0])"
        y = node.get_output_variable().name
        names = {w.key: node.get_weights(w.key).name for w in spec.weights}
        lines = []
        for info in spec.cells:  # the head template, or a cell's generated sequence function (codegen.py)
            call = info["call"].replace("{P}", P)
            args = ", ".join(names[k] for k in info["fields"])  # the weight variables, as array arguments
            lines.append(f"{call}({x}, {n}, {y}, {args});")
        return lines


# ---------------------------------------------------------------------------------------- torch handlers
def parse_r2f_module(
    operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config
):
    """PyTorch frontend handler for the HLS4MLModule subclasses (reads class_object.spec only)."""
    spec: LayerSpec = class_object.spec
    layer = {
        "class_name": "R2FHead" if spec.kind == "head" else "R2FRecurrent",
        "name": layer_name,
        "inputs": list(input_names),
        "r2f_spec": spec,
    }
    if spec.kind == "head":
        shape = [None, spec.n_t, spec.n_out] if spec.per_step else [None, spec.n_out]
    else:
        shape = [None, spec.n_t, spec.n_out]
    return layer, shape


TORCH_MODULES = ("R2FRecurrentModule", "R2FHeadModule")


def register(backends=BACKENDS) -> None:
    """Register layers, templates, sources and PyTorch handlers (safe to call any number of times)."""
    for name, cls in (("R2FRecurrent", R2FRecurrent), ("R2FHead", R2FHead)):
        if layer_map.get(name) is not cls:
            register_layer(name, cls)
    from hls4ml.converters.pytorch_to_hls import get_supported_pytorch_layers

    for name in TORCH_MODULES:
        if name not in get_supported_pytorch_layers():
            hls4ml.converters.register_pytorch_layer_handler(name, parse_r2f_module)
    for be in backends:
        backend = hls4ml.backends.get_backend(be)
        for tmpl in (R2FConfigTemplate, R2FFunctionTemplate):
            if f"{be.lower()}:{tmpl().get_name()}" not in optimizer_map:
                backend.register_template(tmpl)
        for h in HEADERS:
            backend.register_source(h)  # a dict entry: re-registering is harmless
