"""HLS benchmark: our bit-exact HLS LSTM vs hls4ml's stock LSTM layer (the peer), same trained dense LSTM.

python -m scripts.bench_hls [--epochs N] [--hidden H] [--root build]
1. Trains (once; resumable) a dense LSTM on row-by-row digits (fixed length 8, so the stock layer, which
   always runs all T steps, sees the same sequences as ours) and exports its artifact (16-bit, direct mode).
2. Ours: the hls4ml project of the artifact (R2FRecurrent + R2FHead), C-simulation on the whole test set;
   checked against the integer reference (mismatches) and against the float model.
3. The peer: the same float weights as torch.nn.LSTM + nn.Linear through hls4ml's PyTorch frontend and its
   stock LSTM/Dense layers, 16-bit ap_fixed with the integer bits of our calibrated formats, fed the same
   quantized inputs; once with hls4ml's default quantization modes (TRN, WRAP), once with RND, SAT.
Prints a table and writes build/bench/hls.json. Imports torch (the peer needs hls4ml's PyTorch frontend).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np

from configs.schema import build_dir, validate
from configs.util import write_json

log = logging.getLogger("bench_hls")


def peer_config(cfg_base: dict, man: dict, mode: str) -> dict:
    """Precisions of the stock layers: 16-bit (our widths), integer bits from our calibrated formats.

    hls4ml's io_parallel LSTM needs one type for its input, its result (h and the cell state c) and its
    accumulator (the gate pre-activations): that type gets the integer bits of the widest of x, c and z.
    """
    fmt = man["formats"]

    def fx(bits, frac):
        return f"ap_fixed<{bits},{bits - frac}{mode}>"

    shared = fx(16, min(fmt[k]["frac"] for k in ("x", "l0.c", "l0.z")))
    for name, lc in cfg_base["LayerName"].items():
        p = lc.setdefault("Precision", {})
        if name == "x":
            p["result"] = shared
        elif "recurrent_weight" in p:  # the LSTM
            w, r, z = fmt["l0.w_ih"], fmt["l0.w_hh"], fmt["l0.z"]
            p.update(
                weight=fx(w["bits"], w["frac"]),
                recurrent_weight=fx(r["bits"], r["frac"]),
                bias=fx(z["bits"], z["frac"]),
                recurrent_bias=fx(z["bits"], z["frac"]),
                result=shared,
                accum=shared,
            )
        elif "weight" in p:  # the head
            w, y = fmt["head.w"], fmt["head.y"]
            p.update(
                weight=fx(w["bits"], w["frac"]),
                bias=fx(y["bits"], y["frac"]),
                result=fx(y["bits"], y["frac"]),
            )
            p["accum"] = fx(40, y["frac"])
    return cfg_base


def run_peer(fm: dict, man: dict, X: np.ndarray, out_dir: Path, mode: str) -> tuple[np.ndarray, float]:
    """The stock hls4ml LSTM + Dense with fm's float weights; returns (y float (N, O), compile seconds)."""
    import hls4ml
    import torch

    torch.set_num_threads(1)
    F, H, O = fm["model"]["input_size"], fm["model"]["hidden"], fm["model"]["output_size"]
    T = X.shape[1]

    class Peer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(F, H, batch_first=True)
            self.fc = torch.nn.Linear(H, O)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.fc(out)

    net = Peer().eval()
    with torch.no_grad():
        net.lstm.weight_ih_l0.copy_(torch.tensor(np.asarray(fm["matrices"]["l0.w_ih"]["w"])))
        net.lstm.weight_hh_l0.copy_(torch.tensor(np.asarray(fm["matrices"]["l0.w_hh"]["w"])))
        net.lstm.bias_ih_l0.copy_(torch.tensor(np.asarray(fm["vectors"]["l0.b"])))
        net.lstm.bias_hh_l0.zero_()
        net.fc.weight.copy_(torch.tensor(np.asarray(fm["matrices"]["head.w"]["w"])))
        net.fc.bias.copy_(torch.tensor(np.asarray(fm["vectors"]["head.b"])))
    cfg = hls4ml.utils.config_from_pytorch_model(
        net, (T, F), granularity="name", backend="Vitis", channels_last_conversion="internal"
    )
    cfg = peer_config(cfg, man, mode)
    graph = hls4ml.converters.convert_from_pytorch_model(
        net, output_dir=str(out_dir), backend="Vitis", io_type="io_parallel", hls_config=cfg
    )
    t0 = time.monotonic()
    graph.compile()
    secs = time.monotonic() - t0
    y = np.asarray(graph.predict(np.ascontiguousarray(X.reshape(len(X), -1).astype(np.float64))))
    return y.reshape(len(X), -1), secs


def _row(name, y, y_float, labels, secs, extra=""):
    err = np.abs(y - y_float)
    return {
        "implementation": name,
        "max_abs_err": float(err.max()),
        "mean_abs_err": float(err.mean()),
        "accuracy": float(np.mean(np.argmax(y, axis=1) == labels)),
        "argmax_agreement": float(np.mean(np.argmax(y, axis=1) == np.argmax(y_float, axis=1))),
        "compile_seconds": round(secs, 1),
        "note": extra,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scripts.bench_hls", description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--root", default="build")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")

    from compress import fixedpoint as fxp
    from compress import reference as ref
    from compress.artifact import load_artifact
    from compress.export import export, float_model_from_torch
    from hw.hls.project import build_graph, csim
    from train.loop import load_trained, train

    cfg = validate(
        {
            "name": "bench_hls_peer",
            "task": {"name": "digits_row"},
            "model": {"cell": "lstm", "hidden": args.hidden},
            "compression": {"mode": "dense"},
            "training": {"epochs": args.epochs},
            "quantization": {
                "weight_bits": 16,
                "act_bits": 16,
                "preact_bits": 16,
                "cell_bits": 16,
                "matvec_mode": "direct",
                "pwl_segments": 32,
            },
        },
        "bench_hls_peer",
    )
    root = Path(args.root)
    if not (build_dir(cfg, "train", root) / "model.pt").is_file():
        log.info("training the dense LSTM (digits, row by row)")
        train(cfg, root=root)
    if not (build_dir(cfg, "compress", root) / "model.yaml").is_file():
        export(cfg, root)
    art = load_artifact(build_dir(cfg, "compress", root))
    model, task = load_trained(cfg, root)
    fm = float_model_from_torch(model, cfg, task)
    Xte, yte, Lte = task.test
    Xte = np.asarray(Xte, dtype=np.float64)
    Lte = np.asarray(Lte, dtype=np.int64)
    man = art.manifest
    fx_x = man["formats"]["x"]
    x_int = fxp.quantize(Xte, fx_x["bits"], fx_x["frac"])
    y_float = ref.run_float(fm, Xte, Lte)["y"]
    ref_int = ref.run_int(art, Xte, Lte)["y"]

    out = build_dir(cfg, "hls", root)
    graph = build_graph(art, out, T=Xte.shape[1])
    t0 = time.monotonic()
    graph.compile()
    secs = time.monotonic() - t0
    y_int = csim(graph, x_int, Lte)
    mism = int(np.count_nonzero(np.any(y_int != ref_int, axis=1)))
    y_ours = fxp.dequantize(y_int, man["formats"]["head.y"]["frac"])
    rows = [
        _row("float model (numpy)", y_float, y_float, yte, 0.0, "reference for the errors"),
        _row(
            "rnn2fpga HLS (ours)", y_ours, y_float, yte, secs, f"PWL 32 seg; {mism} mismatches vs reference"
        ),
    ]
    x_grid = fxp.dequantize(x_int, fx_x["frac"])  # same quantized inputs, on the peer's input grid
    for mode, label in (("", "TRN/WRAP (hls4ml default)"), (",AP_RND,AP_SAT", "RND/SAT")):
        tag = "default" if not mode else "rnd_sat"
        y_peer, psecs = run_peer(fm, man, x_grid, build_dir(cfg, f"peer_{tag}", root), mode)
        rows.append(_row(f"hls4ml stock LSTM, {label}", y_peer, y_float, yte, psecs, "LUT sigmoid/tanh 1024"))
    result = {
        "task": "digits_row",
        "hidden": args.hidden,
        "bits": 16,
        "test_sequences": int(len(Xte)),
        "ours_vs_reference_mismatches": mism,
        "float_output_abs_max": float(np.max(np.abs(y_float))),
        "peer_shared_type_int_bits": 16 - min(man["formats"][k]["frac"] for k in ("x", "l0.c", "l0.z")),
        "rows": rows,
    }
    write_json(root / "bench" / "hls.json", result)
    print(
        f"HLS C-sim vs float, dense LSTM hidden {args.hidden}, digits row-by-row, {len(Xte)} test sequences "
        f"(max |float output| {result['float_output_abs_max']:.2f})"
    )
    print("| implementation | max abs err | mean abs err | accuracy | argmax = float | compile s | note |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['implementation']} | {r['max_abs_err']:.4f} | {r['mean_abs_err']:.5f} | "
            f"{r['accuracy']:.4f} | {r['argmax_agreement']:.4f} | {r['compile_seconds']} | {r['note']} |"
        )
    return 1 if mism else 0


if __name__ == "__main__":
    sys.exit(main())
