"""The artifact contract (compress/artifact.py): round trip, determinism, validation errors, random models."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import yaml

from compress import reference as ref
from compress.artifact import (
    MANIFEST,
    VECTORS,
    WEIGHTS,
    ArtifactError,
    load_artifact,
    npz_bytes,
    random_artifact,
    save_artifact,
)
from configs.schema import ConfigError

CELLS = ["lstm", "gru", "enrnn", "scornn", "momentum_lstm", "bilstm"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    d = tmp_path_factory.mktemp("art")
    random_artifact("lstm", b=4, mode="fft", projection=4, peepholes=True, layers=2, seed=1, out_dir=d)
    return d


def _copy(src, dst):
    dst.mkdir(parents=True, exist_ok=True)
    for name in (MANIFEST, WEIGHTS, VECTORS):
        (dst / name).write_bytes((src / name).read_bytes())
    return dst


@pytest.mark.parametrize("mode", ["direct", "fft"])
@pytest.mark.parametrize("b", [2, 4, 8, None])
@pytest.mark.parametrize("cell", CELLS)
def test_random_artifact_every_type_round_trips(cell, b, mode, tmp_path):
    art = random_artifact(cell, input_size=5, hidden=16, b=b, mode=mode, seed=2, T=4, out_dir=tmp_path)
    back = load_artifact(tmp_path)
    assert back.manifest == yaml.safe_load(yaml.safe_dump(art.manifest))
    assert set(back.arrays) == set(art.arrays)
    for k, v in art.arrays.items():
        assert np.array_equal(back.arrays[k], v), k
    # the stored expected outputs are what the reference computes from the loaded files
    res = ref.run_int(back, back.vectors["x"], back.vectors["lengths"], record=True)
    assert np.array_equal(res["y"], back.vectors["y"])
    for k, v in res["internals"].items():
        assert np.array_equal(v, back.vectors[f"step.{k}"]), k
    structures = {m["structure"] for m in back.manifest["matrices"].values()}
    assert structures == (
        {"dense"} if b is None else {"circulant"} | ({"dense"} if cell in ("enrnn", "scornn") else set())
    )


def test_same_inputs_same_bytes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    random_artifact("bilstm", b=8, mode="fft", hidden=16, seed=5, out_dir=a)
    random_artifact("bilstm", b=8, mode="fft", hidden=16, seed=5, out_dir=b)
    for name in (MANIFEST, WEIGHTS, VECTORS):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    save_artifact(load_artifact(a), b)  # re-saving a loaded artifact changes nothing
    for name in (MANIFEST, WEIGHTS, VECTORS):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    c = tmp_path / "c"
    random_artifact("bilstm", b=8, mode="fft", hidden=16, seed=6, out_dir=c)
    assert (a / WEIGHTS).read_bytes() != (c / WEIGHTS).read_bytes()


def _expect(folder, *words):
    with pytest.raises(ArtifactError) as info:
        load_artifact(folder)
    msg = str(info.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg, msg
    assert isinstance(info.value, ConfigError)  # run_cli turns it into a one-line error, exit 2
    return msg


def _edit_manifest(folder, fn):
    man = yaml.safe_load((folder / MANIFEST).read_text())
    fn(man)
    (folder / MANIFEST).write_text(yaml.safe_dump(man))


def _edit_weights(folder, fn):
    with np.load(folder / WEIGHTS) as z:
        arrays = {k: z[k] for k in z.files}
    fn(arrays)
    (folder / WEIGHTS).write_bytes(npz_bytes(arrays))


def test_missing_files(saved, tmp_path):
    _expect(tmp_path, "model.yaml", "missing")
    d = _copy(saved, tmp_path)
    (d / WEIGHTS).unlink()
    _expect(d, "weights.npz", "missing")


def test_truncated_npz_and_manifest(saved, tmp_path):
    d = _copy(saved, tmp_path)
    data = (saved / WEIGHTS).read_bytes()
    (d / WEIGHTS).write_bytes(data[: len(data) // 2])
    _expect(d, "weights.npz", "unreadable")
    d2 = _copy(saved, tmp_path / "v")
    data = (saved / VECTORS).read_bytes()
    (d2 / VECTORS).write_bytes(data[:100])
    _expect(d2, "vectors.npz")
    d3 = _copy(saved, tmp_path / "m")
    text = (saved / MANIFEST).read_text()
    (d3 / MANIFEST).write_text(text[: len(text) // 3])
    _expect(d3, "model.yaml")
    (d3 / MANIFEST).write_text("")
    _expect(d3, "model.yaml")


def test_wrong_versions(saved, tmp_path):
    d = _copy(saved, tmp_path)
    _edit_manifest(d, lambda m: m.update(contract_version=2))
    _expect(d, "model.yaml", "contract_version", "2")
    d = _copy(saved, tmp_path)
    _edit_manifest(d, lambda m: m.update(artifact_version=0))
    _expect(d, "model.yaml", "artifact_version")
    d = _copy(saved, tmp_path)
    _edit_manifest(d, lambda m: m.pop("contract_version"))
    _expect(d, "model.yaml", "contract_version", "missing")


def test_shape_disagreements(saved, tmp_path):
    d = _copy(saved, tmp_path)
    _edit_weights(d, lambda a: a.update({"l0.w_hh.w": a["l0.w_hh.w"][:, :-1]}))
    _expect(d, "weights.npz", "l0.w_hh.w", "shape")
    d = _copy(saved, tmp_path)
    _edit_weights(d, lambda a: a.pop("l1.w_ih.wf_im"))
    _expect(d, "weights.npz", "l1.w_ih.wf_im", "missing")
    d = _copy(saved, tmp_path)
    _edit_manifest(d, lambda m: m["matrices"]["l0.w_ih"].update(rows=17))
    _expect(d, "model.yaml", "l0.w_ih")
    d = _copy(saved, tmp_path)
    _edit_manifest(d, lambda m: m["model"].update(hidden=9))
    _expect(d, "model.yaml")
    d = _copy(saved, tmp_path)
    _edit_weights(d, lambda a: a.update({"l0.b": a["l0.b"][:-1]}))
    _expect(d, "weights.npz", "l0.b", "shape")
    d = _copy(saved, tmp_path)
    _edit_weights(d, lambda a: a.update({"head.w.w": a["head.w.w"] * 0 + 2**20}))
    _expect(d, "weights.npz", "head.w.w", "range")


def test_bad_manifest_values(saved, tmp_path):
    d = _copy(saved, tmp_path)
    _edit_manifest(d, lambda m: m["quantization"].update(matvec_mode="dft"))
    _expect(d, "model.yaml", "matvec_mode", "dft")
    d = _copy(saved, tmp_path)
    _edit_manifest(d, lambda m: m["formats"].pop("l1.z"))
    _expect(d, "model.yaml", "l1.z")
    d = _copy(saved, tmp_path)
    (d / MANIFEST).write_text("contract_version: [1\n")
    _expect(d, "model.yaml", "YAML")


def test_npz_is_plain_numpy_readable(saved):
    with zipfile.ZipFile(saved / WEIGHTS) as zf:
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in zf.infolist())
    with np.load(saved / VECTORS) as z:
        assert z["x"].shape[0] == z["y"].shape[0] == z["lengths"].shape[0]


def test_percentile_calibration_trades_outliers_for_resolution():
    from compress.artifact import build_artifact, random_float_model

    fm = random_float_model("lstm", b=4, seed=9)
    rng = np.random.default_rng(9)
    X = rng.uniform(-1, 1, (20, 4, 5))
    X[0, 0, 0] = 60.0  # one outlier
    L = np.full(20, 4)
    q = dict(weight_bits=8, act_bits=8, preact_bits=8, cell_bits=8, pwl_segments=32, matvec_mode="direct")
    a_max = build_artifact(fm, X, L, q)
    a_p = build_artifact(fm, X, L, q | {"calibration": "p99"})
    assert a_max.manifest["quantization"]["calibration"] == "max"
    assert a_p.manifest["formats"]["x"]["frac"] > a_max.manifest["formats"]["x"]["frac"]
    assert a_p.manifest["formats"]["l0.w_ih"] == a_max.manifest["formats"]["l0.w_ih"]  # weights: always max
    assert ref.run_int(a_max, X, L)["sat"]["x"] == 0
    assert ref.run_int(a_p, X, L)["sat"]["x"] >= 1
    with pytest.raises(ArtifactError, match="calibration"):
        build_artifact(fm, X, L, q | {"calibration": "median"})
