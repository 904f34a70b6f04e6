"""The torch exporter (compress/export.py): numpy float model == torch for every cell, end-to-end export."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import yaml

torch = pytest.importorskip("torch")

from compress import reference as ref  # noqa: E402
from compress.artifact import load_artifact  # noqa: E402
from compress.export import export, float_model_from_torch  # noqa: E402
from configs.schema import validate  # noqa: E402
from train.models import build_model  # noqa: E402

CELLS = ["lstm", "gru", "enrnn", "scornn", "momentum_lstm", "bilstm"]


def _cfg(cell, mode, **model):
    m = {"cell": cell, "hidden": 8, "layers": 2}
    if cell == "enrnn":
        m["n2"] = 3
    m.update(model)
    return validate({"model": m, "compression": {"mode": mode, "block_size": 4}}, "test.yaml")


@pytest.mark.parametrize("mode", ["dense", "circulant", "admm"])
@pytest.mark.parametrize("cell", CELLS)
def test_numpy_float_model_equals_torch(cell, mode):
    torch.set_num_threads(1)
    torch.manual_seed(CELLS.index(cell))
    extra = {"projection": 4, "peepholes": True} if cell in ("lstm", "bilstm") else {}
    cfg = _cfg(cell, mode, **extra)
    model = build_model(cfg, 5, 3)
    if mode == "admm":
        model.convert_to_circulant()
    model.eval()
    task = SimpleNamespace(input_size=5, output_size=3, per_step=False, kind="classification")
    fm = float_model_from_torch(model, cfg, task)
    want = {"dense": {"dense"}, "circulant": {"circulant"}, "admm": {"circulant"}}[mode]
    if cell in ("enrnn", "scornn"):
        want = want | {"dense"}
    assert {m["structure"] for m in fm["matrices"].values()} == want
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 7, 5))
    L = rng.integers(1, 8, 6)
    L[0] = 7
    with torch.no_grad():
        y_t = model(torch.from_numpy(X.astype(np.float32)), torch.from_numpy(L)).double().numpy()
    y_n = ref.run_float(fm, X.astype(np.float32), L)["y"]
    assert np.max(np.abs(y_t - y_n)) < 1e-4


@pytest.mark.parametrize("cell", ["lstm", "gru", "enrnn"])
def test_numpy_float_model_equals_torch_per_step(cell):
    torch.set_num_threads(1)
    torch.manual_seed(1)
    cfg = _cfg(cell, "circulant")
    model = build_model(cfg, 5, 3).eval()
    task = SimpleNamespace(input_size=5, output_size=3, per_step=True, kind="copying")
    fm = float_model_from_torch(model, cfg, task)
    X = np.random.default_rng(1).normal(size=(4, 6, 5)).astype(np.float32)
    with torch.no_grad():
        y_t = model(torch.from_numpy(X), None, per_step=True).double().numpy()
    y_n = ref.run_float(fm, X)["y"]
    assert y_n.shape == (4, 6, 3)
    assert np.max(np.abs(y_t - y_n)) < 1e-4


def test_export_end_to_end_and_cli_errors(tmp_path, capsys):
    torch.set_num_threads(1)
    raw = {
        "name": "tiny",
        "task": {"name": "adding", "seq_len": 6, "n_train": 64, "n_test": 32},
        "model": {"cell": "gru", "hidden": 8},
        "compression": {"mode": "circulant", "block_size": 4},
        "quantization": {"matvec_mode": "fft", "n_test_vectors": 6, "weight_bits": 12, "act_bits": 12},
    }
    cfg_path = tmp_path / "tiny.yaml"
    cfg_path.write_text(yaml.safe_dump(raw))
    cfg = validate(raw, str(cfg_path))
    from compress.__main__ import main
    from configs.schema import run_cli

    with pytest.raises(SystemExit) as info:  # no model.pt yet: one-line error, exit 2
        run_cli(main, ["--config", str(cfg_path), "--root", str(tmp_path)])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "model.pt" in err and "\n" not in err
    torch.manual_seed(0)
    model = build_model(cfg, 2, 1)
    (tmp_path / "tiny" / "train").mkdir(parents=True)
    torch.save(model.state_dict(), tmp_path / "tiny" / "train" / "model.pt")
    m = export(cfg, root=tmp_path)
    out = tmp_path / "tiny" / "compress"
    for name in ("model.yaml", "weights.npz", "vectors.npz", "metrics.json", "pwl.png"):
        assert (out / name).is_file(), name
    assert m["torch_vs_numpy_float_max_abs"] < 1e-4
    assert m["metric_name"] == "mse" and np.isfinite(m["fixed_metric"])
    art = load_artifact(out)
    assert art.manifest["quantization"]["weight_bits"] == 12
    v = art.vectors
    assert len(v["x"]) == 6 and set(v["source"].tolist()) == {0, 1}
    assert np.array_equal(ref.run_int(art, v["x"], v["lengths"])["y"], v["y"])
    first = (out / "weights.npz").read_bytes(), (out / "vectors.npz").read_bytes()
    export(cfg, root=tmp_path)  # deterministic: same model, same config -> same bytes
    assert first == ((out / "weights.npz").read_bytes(), (out / "vectors.npz").read_bytes())


def test_qat_weight_only_runs_and_is_reported(tmp_path):
    torch.set_num_threads(1)
    raw = {
        "name": "tinyqat",
        "task": {"name": "adding", "seq_len": 5, "n_train": 32, "n_test": 16},
        "model": {"cell": "lstm", "hidden": 8},
        "compression": {"mode": "circulant", "block_size": 4},
        "training": {"batch_size": 16},
        "quantization": {"qat_epochs": 1, "weight_bits": 8, "n_test_vectors": 2},
    }
    cfg = validate(raw, "tinyqat.yaml")
    torch.manual_seed(0)
    model = build_model(cfg, 2, 1)
    (tmp_path / "tinyqat" / "train").mkdir(parents=True)
    torch.save(model.state_dict(), tmp_path / "tinyqat" / "train" / "model.pt")
    m = export(cfg, root=tmp_path)
    assert m["qat"]["epochs"] == 1 and len(m["qat"]["losses"]) == 1
    sd = torch.load(tmp_path / "tinyqat" / "compress" / "model_qat.pt", weights_only=True)
    changed = any(not torch.equal(sd[k], v) for k, v in model.state_dict().items())
    assert changed and not any("parametrizations" in k for k in sd)
