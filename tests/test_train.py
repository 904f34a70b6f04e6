"""Training stage: task loaders, artifacts, exact resume, determinism, ADMM behaviour (tiny configs, fast)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from configs.schema import ConfigError, validate
from train.circulant import BlockCirculantLinear, project_block_circulant
from train.data import load_task
from train.loop import TIME_KEYS, load_trained, train

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def tiny(**sections) -> dict:
    """A validated config: small model, few epochs, one thread; sections override/extend the defaults."""
    raw = {
        "name": "tiny",
        "task": {"name": "japanese_vowels", "n_train": 64, "n_test": 32, "seq_len": 12, "copy_length": 3},
        "model": {"cell": "lstm", "hidden": 16},
        "compression": {"mode": "dense", "block_size": 4, "finetune_epochs": 2},
        "training": {"epochs": 2, "batch_size": 32, "threads": 1, "min_steps": 0},
    }
    for sec, values in sections.items():
        if isinstance(values, dict):
            raw.setdefault(sec, {}).update(values)
        else:
            raw[sec] = values
    return validate(raw, "tiny.yaml")


def strip_times(obj):
    """metrics without the wall-time fields (which differ between identical runs)."""
    if isinstance(obj, dict):
        return {k: strip_times(v) for k, v in obj.items() if k not in TIME_KEYS}
    if isinstance(obj, list):
        return [strip_times(v) for v in obj]
    return obj


def weights(root: Path, name: str = "tiny") -> dict:
    return torch.load(root / name / "train" / "model.pt", weights_only=True)


# ---------------------------------------------------------------------------------------------- tasks
def test_copying_task():
    d = load_task(tiny(task={"name": "copying"}))
    x, y, lengths = d.train
    total = 12 + 2 * 3
    assert (d.kind, d.metric_name, d.per_step, d.input_size, d.output_size) == (
        "copying",
        "copy_accuracy",
        True,
        10,
        9,
    )
    assert x.shape == (64, total, 10) and y.shape == (64, total) and (lengths == total).all()
    assert np.array_equal(x.sum(-1), np.ones((64, total)))  # one-hot
    symbols = x[:, :3].argmax(-1)
    assert ((symbols >= 1) & (symbols <= 8)).all()
    assert (x[:, 3 + 12 - 1].argmax(-1) == 9).all()  # the marker
    assert np.array_equal(y[:, -3:], symbols) and (y[:, :-3] == 0).all()
    assert d.test[0].shape == (32, total, 10)


def test_adding_task():
    d = load_task(tiny(task={"name": "adding"}))
    x, y, lengths = d.train
    assert (d.kind, d.metric_name, d.input_size, d.output_size) == ("regression", "mse", 2, 1)
    assert x.shape == (64, 12, 2) and y.shape == (64, 1) and x.dtype == np.float32
    assert (x[:, :, 1].sum(1) == 2).all()
    assert (x[:, :6, 1].sum(1) == 1).all()  # one marker in each half
    np.testing.assert_allclose(y[:, 0], (x[:, :, 0] * x[:, :, 1]).sum(1), rtol=1e-6)


@pytest.mark.parametrize(
    "name, shape, classes",
    [("digits_row", (8, 8), 10), ("digits_pixel", (64, 1), 10), ("japanese_vowels", (29, 12), 9)],
)
def test_real_tasks(name, shape, classes):
    d = load_task(tiny(task={"name": name}))
    (xtr, ytr, ltr), (xva, _, _), (xte, _, lte) = d.train, d.val, d.test
    assert xtr.shape[1:] == shape and xte.shape[1:] == shape and xtr.dtype == np.float32
    assert xva.shape[1:] == shape
    assert (d.input_size, d.output_size, d.kind) == (shape[1], classes, "classification")
    assert set(np.unique(ytr)) == set(range(classes)) and ytr.dtype == np.int64 and ltr.dtype == np.int64
    valid = np.arange(shape[0])[None, :] < ltr[:, None]
    np.testing.assert_allclose(xtr[valid].mean(0), 0, atol=1e-4)  # normalised with training statistics
    assert (xtr[~valid] == 0).all() and (xte[np.arange(shape[0])[None, :] >= lte[:, None]] == 0).all()
    if name == "japanese_vowels":  # the official split (val from its training part), lengths 7..29
        assert (len(xtr) + len(xva), len(xte)) == (270, 370) and len(xva) == 54
        assert min(ltr.min(), lte.min()) == 7 and max(ltr.max(), lte.max()) == 29
    else:
        assert len(xtr) + len(xva) + len(xte) == 1797


@pytest.mark.parametrize("dataset, n_train, n_test, length", [("ItalyPowerDemand", 67, 1029, 24)])
def test_aeon_bundled_ucr_set(dataset, n_train, n_test, length):
    d = load_task(tiny(task={"name": "aeon", "dataset": dataset}))
    assert (d.input_size, d.output_size, d.name) == (1, 2, dataset)
    assert len(d.train[0]) + len(d.val[0]) == n_train and len(d.test[0]) == n_test
    assert d.train[0].shape[1] == length and set(np.unique(d.val[1])) == {0, 1}
    with pytest.raises(ConfigError, match="task.dataset: NoSuchSet_TRAIN.ts"):
        load_task(tiny(task={"name": "aeon", "dataset": "NoSuchSet"}))


def _id_npz(path, n=200, classes=(0, 1, 2), weights=(0.6, 0.3, 0.1), **extra):
    """An npz whose single feature is the sample id (so splits can be traced back), imbalanced classes."""
    rng = np.random.default_rng(5)
    x = np.repeat(np.arange(n, dtype=np.float32)[:, None, None], 3, axis=1)
    y = rng.choice(classes, size=n, p=weights)
    np.savez(path, X=x, y=y, **extra)
    return y


def _ids(split) -> np.ndarray:
    return split[0][:, 0, 0].astype(np.int64)


def test_validation_split_is_seeded_stratified_and_disjoint(tmp_path):
    y = _id_npz(tmp_path / "d.npz")
    path = str(tmp_path / "d.npz")
    cfg = tiny(task={"name": "npz", "path": path, "normalize": False, "val_fraction": 0.25})
    d = load_task(cfg)
    tr, va, te = _ids(d.train), _ids(d.val), _ids(d.test)
    assert not (set(tr) & set(va)) and not (set(tr) & set(te)) and not (set(va) & set(te))
    assert sorted(np.concatenate([tr, va, te])) == list(range(200))
    n_trainval = len(tr) + len(va)
    for c in (0, 1, 2):  # each class is held out in proportion (stratified), within rounding
        in_trainval = int(np.isin(np.flatnonzero(y == c), np.concatenate([tr, va])).sum())
        assert abs(int((d.val[1] == c).sum()) - 0.25 * in_trainval) <= 0.5
    assert abs(len(va) - 0.25 * n_trainval) <= 2
    again = load_task(cfg)
    other = load_task(dict(cfg, seed=1))
    assert np.array_equal(_ids(again.val), va) and not np.array_equal(_ids(other.val), va)
    assert np.array_equal(_ids(again.test), te)


def test_npz_brings_its_own_split(tmp_path):
    split = np.array(["train"] * 120 + ["val"] * 30 + ["test"] * 50)
    _id_npz(tmp_path / "s.npz", split=split)
    d = load_task(tiny(task={"name": "npz", "path": str(tmp_path / "s.npz"), "normalize": False}))
    assert list(_ids(d.train)) == list(range(120)) and list(_ids(d.val)) == list(range(120, 150))
    assert list(_ids(d.test)) == list(range(150, 200))
    _id_npz(tmp_path / "n.npz", split=np.r_[np.zeros(150, int), np.full(50, 2)])  # no val: carved from train
    d = load_task(tiny(task={"name": "npz", "path": str(tmp_path / "n.npz"), "normalize": False}))
    assert list(_ids(d.test)) == list(range(150, 200)) and len(d.val[0]) == 30
    _id_npz(tmp_path / "b.npz", split=np.array(["train"] * 199 + ["holdout"]))
    with pytest.raises(ConfigError) as err:
        load_task(tiny(task={"name": "npz", "path": str(tmp_path / "b.npz")}))
    msg = str(err.value)
    assert "\n" not in msg and str(tmp_path / "b.npz") in msg and " split:" in msg and "'holdout'" in msg


def test_input_normalisation_given_or_off(tmp_path):
    _id_npz(tmp_path / "d.npz")
    base = {"name": "npz", "path": str(tmp_path / "d.npz")}
    off = load_task(tiny(task=dict(base, normalize=False)))
    given = load_task(tiny(task=dict(base, mean=[100.0], std=[50.0])))
    stats = load_task(tiny(task=base))
    np.testing.assert_allclose(given.test[0], (off.test[0] - 100.0) / 50.0, rtol=1e-6)
    assert (given.feature_mean, given.feature_std) == (np.float32(100.0), np.float32(50.0))
    np.testing.assert_allclose(stats.train[0].mean(), 0.0, atol=1e-4)
    with pytest.raises(ConfigError, match="task.mean: expected 1 or 1 values"):
        load_task(tiny(task=dict(base, mean=[1.0, 2.0])))


def test_tasks_deterministic_in_seed():
    a = load_task(tiny(task={"name": "adding"}))
    b = load_task(tiny(task={"name": "adding"}))
    c = load_task(tiny(task={"name": "adding"}, seed=1))
    assert np.array_equal(a.train[0], b.train[0]) and not np.array_equal(a.train[0], c.train[0])
    d1, d2 = (
        load_task(tiny(task={"name": "digits_row"})),
        load_task(tiny(task={"name": "digits_row"}, seed=3)),
    )
    assert not np.array_equal(d1.test[1], d2.test[1])


def test_npz_task(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 6, 3)).astype(np.float32)
    y = rng.integers(0, 4, 50)
    lengths = rng.integers(2, 7, 50)
    np.savez(tmp_path / "d.npz", X=x, y=y, lengths=lengths)
    d = load_task(tiny(task={"name": "npz", "path": str(tmp_path / "d.npz"), "test_fraction": 0.2}))
    assert d.train[0].shape[1:] == (6, 3) and len(d.train[0]) + len(d.val[0]) + len(d.test[0]) == 50
    assert (d.input_size, d.output_size) == (3, 4) and set(d.train[2]) <= set(range(2, 7))
    np.savez(tmp_path / "r.npz", X=x, y=rng.normal(size=(50, 2)))
    r = load_task(tiny(task={"name": "npz", "path": str(tmp_path / "r.npz"), "regression": True}))
    assert (r.kind, r.output_size, r.train[1].shape[1]) == ("regression", 2, 2)


@pytest.mark.parametrize(
    "arrays, key",
    [
        ({"X": np.zeros((5, 4)), "y": np.zeros(5)}, "X"),
        ({"X": np.zeros((5, 4, 2)), "y": np.zeros(4)}, "y"),
        ({"X": np.zeros((5, 4, 2))}, "y"),
        ({"X": np.zeros((5, 4, 2)), "y": np.zeros(5), "lengths": np.full(5, 9)}, "lengths"),
        ({"X": np.zeros((5, 4, 2)), "y": np.full(5, 0.5)}, "y"),
    ],
)
def test_npz_errors_name_file_and_key(tmp_path, arrays, key):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(ConfigError) as err:
        load_task(tiny(task={"name": "npz", "path": str(path)}))
    msg = str(err.value)
    assert "\n" not in msg and str(path) in msg and f" {key}:" in msg


# ---------------------------------------------------------------------------------------------- runs
def test_cli_run_writes_artifacts(tmp_path):
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(
        "task: {name: japanese_vowels}\nmodel: {hidden: 8}\ncompression: {mode: circulant, block_size: 4}\n"
        "training: {epochs: 2, threads: 1, min_steps: 0}\n"
    )
    cmd = [sys.executable, "-m", "train", "--config", str(cfg), "--root", str(tmp_path / "build")]
    run = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    out = tmp_path / "build" / "tiny" / "train"
    assert {p.name for p in out.iterdir()} >= {"model.pt", "metrics.json", "curve.png", "checkpoint.pt"}
    m = json.loads((out / "metrics.json").read_text())
    for key in ("task", "model", "compression", "block_size", "params", "params_dense", "compression_ratio"):
        assert key in m
    for key in ("test_metric_name", "test_metric", "train_seconds", "history"):
        assert key in m
    assert (m["task"], m["compression"], m["block_size"], m["test_metric_name"]) == (
        "japanese_vowels",
        "circulant",
        4,
        "accuracy",
    )
    assert m["params"] < m["params_dense"] and m["compression_ratio"] == pytest.approx(
        m["params_dense"] / m["params"], abs=1e-4
    )
    assert len(m["history"]) == 2
    from configs.schema import load_config
    from train.loop import as_tensors, evaluate

    run_cfg = load_config(cfg)  # the reported test metric is the saved model's, recomputed here
    model, task = load_trained(run_cfg, root=tmp_path / "build")
    assert m["test_metric"] == pytest.approx(evaluate(model, task, as_tensors(task.test))[1], abs=1e-9)
    sd = torch.load(out / "model.pt", weights_only=True)
    assert sd and all(isinstance(v, torch.Tensor) for v in sd.values())
    assert (out / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    before = (out / "model.pt").stat().st_mtime_ns
    again = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "already trained" in again.stderr
    assert (out / "model.pt").stat().st_mtime_ns == before


@pytest.mark.parametrize(
    "overrides, kill_at",
    [
        # LSTM ADMM: kills in the pretraining, the ADMM phase and the fine-tuning (after the projection)
        (
            {
                "compression": {"mode": "admm", "admm_interval": 4, "admm_steps": 18, "tolerance": 0},
                "training": {"epochs": 3},
            },
            (2, 4, 7),
        ),
        # ENRNN (orthogonal optimizer, latch) on the adding problem
        (
            {
                "task": {"name": "adding"},
                "model": {"cell": "enrnn", "hidden": 12, "n2": 4},
                "training": {"epochs": 3, "batch_size": 16},
            },
            (1, 2),
        ),
    ],
)
def test_resume_equals_uninterrupted(tmp_path, overrides, kill_at):
    cfg = tiny(**overrides)
    straight = train(cfg, root=tmp_path / "a")
    for k in kill_at:  # "kill" right after epoch k (the checkpoint is the only state carried over)
        assert train(cfg, root=tmp_path / "b", stop_after_epoch=k) is None
        torch.manual_seed(
            12345
        )  # disturb the process state: resume must restore everything from the checkpoint
        torch.rand(7)
    resumed = train(cfg, root=tmp_path / "b")
    assert strip_times(resumed) == strip_times(straight)
    if cfg["compression"]["mode"] == "admm":  # the kills did land in all three phases
        phases = [h["phase"] for h in straight["history"]]
        assert [phases[k - 1] for k in kill_at] == ["pretrain", "admm", "finetune"]
    wa, wb = weights(tmp_path / "a"), weights(tmp_path / "b")
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def test_same_seed_same_result_other_seed_differs(tmp_path):
    cfg = tiny(task={"name": "digits_row"}, training={"epochs": 1})
    a, b = train(cfg, root=tmp_path / "a"), train(cfg, root=tmp_path / "b")
    train(tiny(task={"name": "digits_row"}, training={"epochs": 1}, seed=1), root=tmp_path / "c")
    assert strip_times(a) == strip_times(b)
    wa, wb, wc = weights(tmp_path / "a"), weights(tmp_path / "b"), weights(tmp_path / "c")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert not all(torch.equal(wa[k], wc[k]) for k in wa)


def test_admm_phases_and_final_model_is_block_circulant(tmp_path):
    cfg = tiny(
        compression={"mode": "admm", "finetune_epochs": 2, "admm_interval": 4, "admm_steps": 60},
        training={"epochs": 2},
    )
    m = train(cfg, root=tmp_path)
    phases = [h["phase"] for h in m["history"]]
    assert phases[:2] == ["pretrain"] * 2 and phases[-2:] == ["finetune"] * 2 and "admm" in phases
    assert phases == sorted(phases, key=["pretrain", "admm", "finetune"].index)
    log = m["admm"]
    steps = [a["step"] for a in log]
    assert steps[0] == 4 and all(b - a == 4 for a, b in zip(steps[:-1], steps[1:], strict=True))
    assert log[-1]["primal_rel"] < 0.01 or steps[-1] == 60  # tolerance met, or the step budget spent
    assert log[-1]["primal"] < log[0]["primal"] and len({a["rho"] for a in log}) > 1
    n_test = len(load_task(cfg).test[1])  # an accuracy over the test set: k / n_test for a whole k
    k = m["acc_after_projection"] * n_test
    assert abs(k - round(k)) < 1e-6 and 0 < round(k) <= n_test and m["compression_ratio"] > 1
    model, task = load_trained(cfg, root=tmp_path)
    assert not model.admm_layers()
    circ = [mod for mod in model.modules() if isinstance(mod, BlockCirculantLinear)]
    assert circ
    for mod in circ:
        dense = mod.to_dense().detach()
        torch.testing.assert_close(project_block_circulant(dense, 4), dense, rtol=0, atol=1e-6)
    # same structure as a model trained directly in circulant form
    twin = tiny(compression={"mode": "circulant"})
    from train.models import build_model

    ref = build_model(twin, task.input_size, task.output_size).state_dict()
    assert {k: v.shape for k, v in ref.items()} == {k: v.shape for k, v in model.state_dict().items()}


def test_admm_tolerance_ends_the_phase_before_the_step_budget(tmp_path):
    cfg = tiny(
        compression={"mode": "admm", "finetune_epochs": 1, "admm_interval": 2, "tolerance": 0.5},
        training={"epochs": 1},
    )
    m = train(cfg, root=tmp_path)
    log = m["admm"]
    assert log[-1]["primal_rel"] < 0.5 and all(a["primal_rel"] >= 0.5 for a in log[:-1])
    assert m["admm_steps_run"] == log[-1]["step"] < 3000


def _admm_of_tiny(mode_cfg=None):
    from train.loop import ADMM
    from train.models import build_model

    cfg = tiny(compression={"mode": "admm", **(mode_cfg or {})})
    torch.manual_seed(0)
    model = build_model(cfg, 12, 9)
    return model, ADMM(model, cfg["compression"])


def test_residual_balancing_raises_and_lowers_rho_and_rescales_u():
    from train.loop import RHO_MU, RHO_TAU

    model, admm = _admm_of_tiny({"rho_start": 0.1})
    assert admm.balance(primal=RHO_MU * 1.01, dual=1.0) == pytest.approx(0.1 * RHO_TAU)
    assert admm.balance(primal=1.0, dual=RHO_MU * 1.01) == pytest.approx(0.1 / RHO_TAU)
    assert admm.balance(primal=1.0, dual=1.0) == 0.1  # balanced: unchanged
    # first update from the dense init: W is far from the constraint and Z has barely moved -> rho rises
    u_before = {n: u.clone() for n, u in admm.U.items()}
    rec = admm.update(32)
    assert rec["primal"] > RHO_MU * rec["dual"] and admm.rho == pytest.approx(0.1 * RHO_TAU)
    for n, m in admm.layers.items():  # U was W - Z at rho = 0.1; rescaled by rho_old / rho_new
        w = m.dense_weight().detach()
        expected = (u_before[n] + w - admm.Z[n]) * (0.1 / admm.rho)
        torch.testing.assert_close(admm.U[n], expected)
    # W on the constraint (W = Z), but Z moved since the last update: the dual residual dominates -> rho
    # falls and U (here E, orthogonal to the circulant set, so U keeps it) is multiplied by tau
    rho, E = admm.rho, {}
    with torch.no_grad():
        for n, m in admm.layers.items():
            noise = torch.randn_like(admm.Z[n])
            E[n] = 0.01 * (noise - admm.project(noise, m.block_size))
            m.weight.copy_(admm.Z[n])
            admm.U[n] = E[n].clone()
            admm.Z[n] = admm.Z[n] + 0.05  # the previous Z
    rec = admm.update(64)
    assert rec["dual"] > RHO_MU * rec["primal"] and admm.rho == pytest.approx(rho / RHO_TAU)
    for n in admm.layers:
        torch.testing.assert_close(admm.U[n], E[n] * RHO_TAU)


def test_geometric_schedule_stays_available():
    _, admm = _admm_of_tiny(
        {"rho_schedule": "geometric", "rho_start": 0.01, "rho_end": 1.0, "admm_steps": 100}
    )
    rhos = []
    for step in (25, 50, 100):
        admm.update(step)
        rhos.append(admm.rho)
    assert rhos == pytest.approx([0.01 * 100**0.25, 0.1, 1.0])


def test_caps_and_target(tmp_path):
    m = train(tiny(training={"epochs": 50, "max_iterations": 5}), root=tmp_path / "a")
    assert (m["iterations"], m["stopped_by"], len(m["history"])) == (5, "max_iterations", 1)
    m = train(tiny(training={"epochs": 50, "target": 0.0, "eval_every": 3}), root=tmp_path / "b")
    assert (m["iterations"], m["stopped_by"]) == (3, "target") and m["evals"][0]["iteration"] == 3


def test_admm_cap_in_admm_phase_still_projects(tmp_path):
    m = train(
        tiny(compression={"mode": "admm"}, training={"epochs": 20, "max_iterations": 12}), root=tmp_path
    )
    assert (m["iterations"], m["stopped_by"]) == (12, "max_iterations")
    assert m["acc_after_projection"] is not None and m["params"] < m["params_dense"]


# ---------------------------------------------------------------------------------------------- bad files
def _cli(module: str, cfg_path: Path, root: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", module, "--config", str(cfg_path), "--root", str(root)]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _assert_one_line_error(run: subprocess.CompletedProcess, path: Path) -> None:
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and str(path) in last and "truncated" in last


def test_truncated_checkpoint_and_model_give_one_line_errors(tmp_path):
    text = (
        "task: {name: japanese_vowels}\nmodel: {hidden: 8}\ntraining: {epochs: 2, threads: 1, min_steps: 0}\n"
    )
    (tmp_path / "tiny.yaml").write_text(text)
    cfg, root = validate(__import__("yaml").safe_load(text), str(tmp_path / "tiny.yaml")), tmp_path / "b"
    assert train(cfg, root=root, stop_after_epoch=1) is None
    ckpt = root / "tiny" / "train" / "checkpoint.pt"
    _truncate(ckpt)
    _assert_one_line_error(_cli("train", tmp_path / "tiny.yaml", root), ckpt)
    train(cfg, root=root, force=True)
    model_pt = root / "tiny" / "train" / "model.pt"
    _truncate(model_pt)
    _assert_one_line_error(_cli("compress", tmp_path / "tiny.yaml", root), model_pt)


# ---------------------------------------------------------------------------------------------- model.init
def test_imported_lstm_config_through_compress(tmp_path):
    """A config with model.init (a user's nn.LSTM + nn.Linear state_dict), mode dense: train writes the
    imported model as is and compress's float model equals torch on the test set."""
    from compress.export import export
    from train.make_example import train_user_model

    raw = {
        "name": "imported",
        "task": {"name": "japanese_vowels"},
        "model": {"cell": "lstm", "hidden": 8, "init": str(tmp_path / "user.pt")},
        "compression": {"mode": "dense"},
        "training": {"threads": 1},
        "quantization": {"n_test_vectors": 4},
    }
    cfg = validate(raw, "imported.yaml")
    user, user_acc = train_user_model(cfg, epochs=3)
    torch.save(user.state_dict(), tmp_path / "user.pt")
    m = train(cfg, root=tmp_path / "b")
    assert m["iterations"] == 0 and m["init"] == {"format": "torch.nn", "head": True}
    assert m["test_metric"] == pytest.approx(user_acc, abs=1e-6)
    c = export(cfg, root=tmp_path / "b")
    assert c["torch_vs_numpy_float_max_abs"] < 1e-5 and c["float_metric"] == pytest.approx(user_acc)
    model, task = load_trained(cfg, root=tmp_path / "b")
    x, _, lengths = (torch.from_numpy(a) for a in task.test)
    with torch.no_grad():
        torch.testing.assert_close(model(x, lengths), user(x, lengths), rtol=0, atol=1e-5)


# ---------------------------------------------------------------------------------------------- selection
def test_best_validated_epoch_is_kept_and_min_steps_extends_small_data(tmp_path):
    m = train(tiny(training={"epochs": 1, "min_steps": 30, "lr": 0.1}), root=tmp_path)
    assert len(m["history"]) == 5  # 216 training sequences / 32 = 7 steps per epoch: 5 epochs for 30 steps
    vals = [h["val_metric"] for h in m["history"]]
    assert vals[-1] < max(vals)  # (this run's last epoch is not its best one: the kept model must be)
    assert m["val_metric"] == max(vals)
    best = [h for h in m["history"] if h["val_metric"] == max(vals)]
    assert m["val_loss"] == pytest.approx(min(h["val_loss"] for h in best), rel=1e-6)
    assert m["phases"][0]["test_metric"] == m["test_metric"]


def test_patience_stops_a_phase_without_validation_progress(tmp_path):
    m = train(tiny(training={"epochs": 30, "patience": 2, "lr": 0.0}), root=tmp_path)
    assert len(m["history"]) == 3  # lr 0: the first epoch stays the best, two more without progress


def test_finetuning_rate_is_scaled_only_after_a_converged_admm(tmp_path, monkeypatch):
    """compression.finetune_lr_scale: fine-tuning at lr * scale when the hard projection moves the weights by
    less than compression.tolerance, else at lr; the earlier phases at lr. At scale 0 fine-tuning cannot move
    the projected model: every fine-tuning epoch validates the same."""
    import train.loop as loop

    made = []

    def recording(model, tcfg, scale=1.0):
        opts = make(model, tcfg, scale)
        made.append([g["lr"] for o in opts for g in o.param_groups])
        return opts

    make = loop.make_optimizers
    monkeypatch.setattr(loop, "make_optimizers", recording)
    comp = {"mode": "admm", "finetune_epochs": 3, "admm_interval": 2, "tolerance": 0.5}
    lr = {"epochs": 1, "lr": 0.004}
    m = train(tiny(compression={**comp, "finetune_lr_scale": 0.25}, training=lr), root=tmp_path / "a")
    assert made[-1] == [pytest.approx(0.001)] and all(lrs == [0.004] for lrs in made[:-1]) and len(made) > 2
    assert (
        m["projection_rel"] <= m["admm"][-1]["primal_rel"] * (1 + 1e-6) < 0.5
        and m["finetune_lr_scale"] == 0.25
    )
    capped = {**comp, "finetune_lr_scale": 0.25, "tolerance": 1e-6, "admm_steps": 4}  # far from converged
    m = train(tiny(compression=capped, training=lr), root=tmp_path / "c")
    assert made[-1] == [0.004] and m["projection_rel"] > 1e-6 and m["finetune_lr_scale"] == 1.0
    m = train(
        tiny(compression={**comp, "finetune_lr_scale": 0.0}, training={"epochs": 1}), root=tmp_path / "b"
    )
    tuned = [h for h in m["history"] if h["phase"] == "finetune"]
    assert len(tuned) == 3 and len({h["val_loss"] for h in tuned}) == 1
    assert m["test_metric"] == m["acc_after_projection"] and m["val_metric"] == m["val_after_projection"]
