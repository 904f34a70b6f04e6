"""`make cpu`: CPU baselines of the trained model, measured in one run (build/NAME/cpu/results.json, which
`make report` reads): PyTorch's fused nn.LSTM / nn.GRU kernel holding the model's dense-equivalent weights,
ONNX Runtime on that module exported to ONNX (torch.onnx TorchScript exporter, needs the `onnx` package), and
PyTorch through our own step loop (the trained model as trained). Batch 1 and 64, the config's thread count
(training.threads) for every runtime.

Frames are time steps of the task's test sequences at their own lengths: batch 1 runs the first 64 test
sequences one by one (no padding); batch 64 runs them as one batch padded to the longest (PyTorch: packed
sequence, ONNX: the RNN operator's sequence_lens; frames counted are the valid steps only). Latency per
frame = the time of one step of a batch. Cells without a fused kernel (ENRNN, scoRNN, MomentumLSTM, LSTM
with peepholes) get our own float model only, an LSTM with projection no ONNX row (the ONNX
LSTM operator has no projection); the results say so. Energy per frame from
RAPL (powercap) where readable, else an estimate at ASSUMED_W_PER_THREAD (labelled estimated).
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import statistics
import time
from pathlib import Path

from configs.schema import ConfigError, build_dir, load_config, run_cli
from configs.util import write_json
from scripts.report import ESTIMATED, MEASURED, _row

log = logging.getLogger("cpu")

N_SEQUENCES = 64  # test sequences timed (batch 1: one by one; batch 64: one batch)
# Assumed CPU power per busy thread when RAPL is not readable. Source: Intel ARK TDPs of server Xeons (e.g.
# Xeon Platinum 8380: 270 W / 40 cores = 6.75 W; Xeon Gold 6348: 235 W / 28 cores = 8.4 W) rounded up to 10 W
# per core; the CPU here reports a generic "Intel(R) Xeon(R) Processor" (a VM), so its own TDP is unknown.
ASSUMED_W_PER_THREAD = 10.0
NO_FUSED = ("enrnn", "scornn", "momentum_lstm")


def rapl_energy_uj() -> int | None:
    """Package energy counter (RAPL through powercap) in uJ, or None when not readable."""
    base = Path("/sys/class/powercap")
    total, found = 0, False
    for f in sorted(base.glob("intel-rapl:*/energy_uj")) if base.exists() else []:
        try:
            total += int(f.read_text())
            found = True
        except (OSError, ValueError):
            return None
    return total if found else None


def time_call(fn, min_seconds: float = 0.5, max_reps: int = 200) -> tuple[float, float | None]:
    """(median seconds per call, RAPL joules per call or None) of fn() after one warm-up call."""
    fn()
    times = []
    e0 = rapl_energy_uj()
    while len(times) < 3 or (sum(times) < min_seconds and len(times) < max_reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    e1 = rapl_energy_uj()
    joules = (e1 - e0) * 1e-6 / len(times) if e0 is not None and e1 is not None and e1 > e0 else None
    return statistics.median(times), joules


# ---------------------------------------------------------------------------------------------- fused model
def fused_reason(model) -> str | None:
    """Why the model has no fused torch.nn counterpart, or None when it has one."""
    if model.cell in NO_FUSED:
        return f"cell {model.cell}: no fused PyTorch kernel or ONNX RNN operator"
    layers = [layer for m in model.layers for layer in ((m.fwd, m.bwd) if model.cell == "bilstm" else (m,))]
    if any(getattr(m, "peep", None) is not None for m in layers):
        return "LSTM with peepholes: torch.nn.LSTM has none"
    return None


def _dense(linear):
    """(dense weight, bias or None) of a DenseLinear / BlockCirculantLinear."""
    w = linear.to_dense() if hasattr(linear, "to_dense") else linear.dense_weight()
    return w.detach().clone(), None if linear.bias is None else linear.bias.detach().clone()


def fused_model(model):
    """torch.nn.LSTM / nn.GRU (+ nn.Linear head) holding the model's dense-equivalent weights (eval mode)."""
    import torch
    from torch import nn

    class Fused(nn.Module):
        """rnn over a batch (packed when lengths are given), head on the top layer's last valid output."""

        def __init__(self, rnn, head, bidirectional):
            super().__init__()
            self.rnn, self.head, self.bidirectional = rnn, head, bidirectional

        def forward(self, x, lengths=None):
            if lengths is not None and x.shape[0] > 1:
                x = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            _, h = self.rnn(x)
            h = h[0] if isinstance(h, tuple) else h
            last = torch.cat([h[-2], h[-1]], -1) if self.bidirectional else h[-1]
            return self.head(last)

    first = model.layers[0]
    bi = model.cell == "bilstm"
    cell0 = first.fwd if bi else first
    in_size = cell0.w_ih.in_features
    if model.cell == "gru":
        rnn = nn.GRU(in_size, cell0.hidden, len(model.layers), batch_first=True)
    else:
        proj = cell0.proj.out_features if cell0.proj is not None else 0
        rnn = nn.LSTM(
            in_size, cell0.hidden, len(model.layers), batch_first=True, bidirectional=bi, proj_size=proj
        )
    sd = {}
    for k, layer in enumerate(model.layers):
        for suffix, cell in (("", layer.fwd), ("_reverse", layer.bwd)) if bi else (("", layer),):
            w_ih, b_ih = _dense(cell.w_ih)
            w_hh, b_hh = _dense(cell.w_hh)
            sd[f"weight_ih_l{k}{suffix}"], sd[f"weight_hh_l{k}{suffix}"] = w_ih, w_hh
            sd[f"bias_ih_l{k}{suffix}"] = b_ih
            sd[f"bias_hh_l{k}{suffix}"] = b_hh if b_hh is not None else torch.zeros_like(b_ih)
            if getattr(cell, "proj", None) is not None:
                sd[f"weight_hr_l{k}{suffix}"] = _dense(cell.proj)[0]
    rnn.load_state_dict(sd)
    w, b = _dense(model.head)
    head = nn.Linear(w.shape[1], w.shape[0], bias=b is not None)
    head.load_state_dict({"weight": w} | ({"bias": b} if b is not None else {}))
    return Fused(rnn, head, bi).eval()


def export_onnx(fused, input_size: int, path: Path) -> Path:
    """torch.onnx.export (TorchScript exporter) of the fused module with dynamic batch and time, then every
    LSTM/GRU node given the graph input `lengths` (int32, per sequence) as its sequence_lens."""
    import onnx
    import torch
    from onnx import TensorProto, helper

    path.parent.mkdir(parents=True, exist_ok=True)
    x = torch.zeros(2, 3, input_size)
    torch.onnx.export(
        fused,
        (x,),
        str(path),
        dynamo=False,
        input_names=["x"],
        output_names=["y"],
        dynamic_axes={"x": {0: "batch", 1: "time"}, "y": {0: "batch"}},
    )
    g = onnx.load(str(path))
    rnns = [n for n in g.graph.node if n.op_type in ("LSTM", "GRU")]
    if not rnns:
        raise RuntimeError(f"{path}: the exported graph has no LSTM/GRU operator")
    g.graph.input.append(helper.make_tensor_value_info("lengths", TensorProto.INT32, ["batch"]))
    for n in rnns:
        while len(n.input) < 5:
            n.input.append("")
        n.input[4] = "lengths"
    onnx.checker.check_model(g)
    onnx.save(g, str(path))
    return path


def ort_session(path: Path, threads: int):
    """ONNX Runtime CPU session with `threads` intra-op threads (one inter-op thread, sequential)."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


# ---------------------------------------------------------------------------------------------- runners
def runners(model, onnx_path: Path | None, threads: int) -> tuple[dict, dict]:
    """{label: fn(x, lengths) -> numpy y} for each runtime, and {label: reason} for those left out."""
    import numpy as np
    import torch

    out, skipped = {}, {}

    def torch_fn(m):
        def run(x, ln):
            with torch.inference_mode():
                return m(torch.from_numpy(x), torch.from_numpy(ln)).numpy()

        return run

    reason = fused_reason(model)
    if reason is None:
        fused = fused_model(model)
        out[f"PyTorch fused nn.{'GRU' if model.cell == 'gru' else 'LSTM'}"] = torch_fn(fused)
        if getattr(fused.rnn, "proj_size", 0):
            skipped["ONNX Runtime"] = "LSTM with projection: the ONNX LSTM operator has none"
        elif onnx_path is not None:
            in_size = fused.rnn.input_size
            sess = ort_session(export_onnx(fused, in_size, onnx_path), threads)
            out["ONNX Runtime"] = lambda x, ln: sess.run(None, {"x": x, "lengths": ln.astype(np.int32)})[0]
    else:
        skipped["PyTorch fused kernel"] = reason
        skipped["ONNX Runtime"] = reason
    out["PyTorch (our step loop)"] = torch_fn(model)
    return out, skipped


def _energy(joules: float | None, seconds: float, threads: int, frames: float) -> tuple[float, str]:
    if joules is not None:
        return 1e6 * joules / frames, MEASURED
    return 1e6 * ASSUMED_W_PER_THREAD * threads * seconds / frames, ESTIMATED


def measure(fn, X, lengths, batch: int, threads: int) -> dict:
    """Time fn over the sequences in chunks of `batch` (one chunk per call; batch 1 at each sequence's own
    length, larger chunks padded to their longest; frames = valid steps)."""
    import numpy as np

    chunks = []
    for i in range(0, len(X), batch):
        ln = lengths[i : i + batch]
        chunks.append((np.ascontiguousarray(X[i : i + batch, : int(ln.max())]), ln))
    frames = float(lengths.sum())
    sec, joules = time_call(lambda: [fn(x, ln) for x, ln in chunks])
    energy, elab = _energy(joules, sec, threads, frames)
    steps = sum(int(ln.max()) for _, ln in chunks)  # steps of the chunks run one after another
    return {
        "frames_per_s": frames / sec,
        "latency_us": 1e6 * sec / steps,  # one time step of a chunk (batch 1: of one sequence)
        "energy_uj": energy,
        "energy_label": elab,
        "seconds": sec,
        "frames": frames,
        "padding_fraction": 1.0 - frames / sum(len(ln) * int(ln.max()) for _, ln in chunks),
    }


def cpu_rows(cfg: dict, batches=(1, N_SEQUENCES), root: str = "build") -> tuple[list[dict], dict]:
    """The CPU rows (one per runtime and batch) and the run's info."""
    import numpy as np
    import onnxruntime
    import torch

    from train.loop import load_trained

    threads = cfg["training"]["threads"]
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    model, task = load_trained(cfg, root)
    Xt, _, lt = task.test
    idx = [i % len(Xt) for i in range(N_SEQUENCES)]
    X, lengths = np.ascontiguousarray(Xt[idx], dtype=np.float32), np.asarray(lt[idx], dtype=np.int64)
    fns, skipped = runners(model, build_dir(cfg, "cpu", root) / "model.onnx", threads)
    ref = fns["PyTorch (our step loop)"](X, lengths)
    info = {
        "threads": threads,
        "rapl": rapl_energy_uj() is not None,
        "cpu": _cpu_name(),
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
        "sequences": N_SEQUENCES,
        "mean_length": float(lengths.mean()),
        "assumed_w_per_thread": None if rapl_energy_uj() is not None else ASSUMED_W_PER_THREAD,
        "not_measured": skipped,
        "load_average_1min": round(os.getloadavg()[0], 2),  # other jobs on the same cores slow every row
        "max_abs_dy_vs_step_loop": {},
    }
    rows = []
    for label, fn in fns.items():
        info["max_abs_dy_vs_step_loop"][label] = float(np.abs(fn(X, lengths) - ref).max())
        for b in batches:
            m = measure(fn, X, lengths, b, threads)
            vals = {k: m[k] for k in ("frames_per_s", "latency_us", "energy_uj")}
            labs = {"frames_per_s": MEASURED, "latency_us": MEASURED, "energy_uj": m["energy_label"]}
            note = (
                f"batch {b}, {threads} thread(s), float32, {N_SEQUENCES} test sequences "
                f"(mean {info['mean_length']:.1f} steps)"
            )
            if b > 1:
                note += f", padded to the longest of each batch ({100 * m['padding_fraction']:.0f} % padding)"
            if label == "PyTorch (our step loop)":
                note += f"; the trained {cfg['compression']['mode']} model through train/models.py's loop"
            else:
                note += "; dense-equivalent weights of the trained model"
            if m["energy_label"] == ESTIMATED:
                note += f"; energy = {ASSUMED_W_PER_THREAD:g} W x {threads} thread(s) x time (no RAPL)"
            rows.append(_row(f"CPU {label}, batch {b}", cfg["name"], vals, labs, note))
    return rows, info


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip() + f" ({os.cpu_count()} logical CPUs)"
    except OSError:
        pass
    return "unknown CPU"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scripts.cpu_baseline", description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    cfg = load_config(args.config)
    model_pt = build_dir(cfg, "train") / "model.pt"
    if not model_pt.is_file():
        raise ConfigError(f"{model_pt}: missing: run `make train` first")
    rows, info = cpu_rows(cfg)
    out = build_dir(cfg, "cpu")
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    write_json(out / "results.json", {"rows": rows, "info": info, "date": stamp})
    for r in rows:
        log.info("%s: %.0f frames/s", r["name"], r["values"]["frames_per_s"])
    for k, v in info["not_measured"].items():
        log.info("not measured: %s (%s)", k, v)
    return 0


if __name__ == "__main__":
    run_cli(main)
