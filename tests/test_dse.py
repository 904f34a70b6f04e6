"""dse: the sweep machinery on a tiny space with local Ray (real train / compress / rtl stages, no synthesis):
results, pruning, a failing point, resume after the driver is killed, a worker that dies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from configs.schema import ConfigError, load_config
from dse import estimate, sweep
from dse.space import ROOT, load_space

ray = pytest.importorskip("ray")

# two models (1 and 60 epochs: the second finishes well after the first), P in {1, 2}, E in {1, 3}; b = 4 fft:
# 20 analytic multipliers at P = 1, 32 at P = 2 (pruned by max_multipliers 30); E = 3 fails in hw.rtl.
# ADMM capped at 64 steps (two Z/U updates): hidden 8 never meets the tolerance, and the default 2000 steps
# (~290 epochs, a checkpoint each) were most of the fixture's CPU time, in both models alike
TINY = {
    "base": "configs/default.yaml",
    "overrides": {
        "model.hidden": 8,
        "compression.finetune_epochs": 1,
        "compression.admm_steps": 64,
        "training.threads": 1,
        "quantization.n_test_vectors": 2,
        "compression.block_size": 4,
    },
    "phase1": {"training.epochs": [1, 60]},
    "phase2": {"hardware.parallelism": [1, 2], "hardware.ew_words": [1, 3]},
    "requirements": {"max_multipliers": 30},
    "stages": {"synth": False},
}


@pytest.fixture(scope="module")
def ray_local():
    """One local Ray for the module (2 CPUs); its GCS address lets a second driver join it."""
    assert sweep.start_ray(None, 2)  # the sweep's own local start
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


def _space(tmp: Path, raw: dict, name: str = "tiny") -> Path:
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _status(out: dict) -> dict:
    return {r["id"]: r["status"] for r in out["points"]}


def _statuses(work: Path) -> dict:
    """{point id: status} of the result files in work/points."""
    return {f.stem: json.loads(f.read_text())["status"] for f in (work / "points").glob("*.json")}


@pytest.fixture(scope="module")
def killed_then_resumed(ray_local, tmp_path_factory):
    """A driver (`python -m dse --address`) SIGKILLed once a point file says ok; then the sweep rerun
    (twice) in this process."""
    tmp = tmp_path_factory.mktemp("dse")
    space_file, work = _space(tmp, TINY), tmp / "work"
    cmd = [
        sys.executable,
        "-m",
        "dse",
        "--space",
        str(space_file),
        "--out",
        str(work),
        "--address",
        ray_local,
    ]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    deadline = time.monotonic() + 1200  # a guard against a hang, not a timing check (loaded 2-core CI)
    while "ok" not in _statuses(work).values() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.kill()
    log = proc.communicate()[0]
    before = _statuses(work)
    assert "ok" in before.values(), log[-3000:]
    space = load_space(space_file)
    resumed = sweep.run_sweep(space, work, progress=False)
    again = sweep.run_sweep(space, work, progress=False)
    return space, work, before, resumed, again


def test_results_pruning_and_failing_points(killed_then_resumed):
    space, work, _, out, again = killed_then_resumed
    by = {}
    for r in out["points"]:
        by.setdefault(r["status"], []).append(r)
    pts = {p.id: p for p in space.points}
    # P=2, E=1: 32 analytic multipliers > 30, pruned before training; E=3: hw.rtl refuses it (sweep goes on)
    assert sorted((pts[r["id"]].phase2["hardware.parallelism"], r["status"]) for r in by["pruned"]) == [
        (2, "pruned"),
        (2, "pruned"),
    ]
    assert all(r["reason"].startswith("estimate: multipliers 32 > 30") for r in by["pruned"])
    assert len(by["failed"]) == 4
    for r in by["failed"]:
        assert pts[r["id"]].phase2["hardware.ew_words"] == 3
        assert r["reason"] == "hw.rtl: hardware.ew_words: must be a power of two (got 3)"
    assert len(by["ok"]) == 2 and all(r["metric_name"] == "accuracy" for r in by["ok"])
    # results on disk: one CSV row per point, a result file per point that ran, the summary names the failures
    rows = (work / "results.csv").read_text().splitlines()
    assert len(rows) == 1 + len(space.points)
    files = {f.stem for f in (work / "points").glob("*.json")}  # estimate-pruned points are decided again
    assert files == {r["id"] for r in by["ok"] + by["failed"]}
    assert json.loads((work / "results.json").read_text())["points"] == again["points"]  # the last run
    text = (work / "summary.md").read_text()
    assert text.count("must be a power of two") == 4
    assert (work / "acc_vs_energy.png").stat().st_size > 0 and (
        work / "acc_vs_resources.png"
    ).stat().st_size > 0


def test_estimates_are_the_generated_rtl(killed_then_resumed):
    """Pruning uses the analytic cycles and multipliers: they equal those of the rtl the stages generated."""
    _, _, _, out, _ = killed_then_resumed
    ok = [r for r in out["points"] if r["status"] == "ok"]
    assert ok
    for r in ok:
        assert r["cycles_estimate"] == r["cycles_per_step"]
        assert r["multipliers_estimate"] == r["multipliers"]


def test_one_training_per_model(killed_then_resumed):
    """Every hardware point of a model uses its one training (the build folders link to it)."""
    space, work, _, out, _ = killed_then_resumed
    trains = {r["train_job"] for r in out["points"] if r["status"] != "pruned"}
    assert len(trains) == 2  # the two epoch counts; four hardware points each minus the pruned
    for r in out["points"]:
        if r["status"] == "pruned":
            continue
        comp = work / "build" / r["hardware_job"] / "compress"
        assert comp.is_symlink() and os.readlink(comp) == f"../{r['compress_job']}/compress"
        train = work / "build" / r["compress_job"] / "train"
        assert os.readlink(train) == f"../{r['train_job']}/train"
    c = out["counts"]
    assert c["training_runs_saved_by_sharing"] == 6 - 2 and c["training_runs_saved_by_pruning"] == 2


def test_resume_after_kill_reuses_finished_points(killed_then_resumed):
    space, _, before, resumed, again = killed_then_resumed
    ok_before = [i for i, s in before.items() if s == "ok"]
    assert (
        len(before) < len(space.points) - 2
    )  # killed midway: some points (pruned ones have none) had no file
    assert resumed["counts"]["reused_points"] == len(ok_before)
    assert [r["id"] for r in resumed["points"] if r.get("reused")] == [
        p.id for p in space.points if p.id in ok_before
    ]
    assert _status(again) == _status(resumed)
    # a complete sweep rerun: ok points reused, nothing trained or compressed again, failed points retried
    assert again["counts"]["reused_points"] == 2
    assert again["counts"]["jobs_run"] == {"train": 0, "compress": 0, "hardware": 4}


def _die():
    os._exit(3)


def test_a_dying_worker_is_a_recorded_failure(ray_local, tmp_path):
    """A task whose worker process dies gives its points a one-line error; the others are still recorded."""
    raw = dict(TINY, phase1={"training.epochs": [1]})
    raw["phase2"] = {"hardware.parallelism": [1], "hardware.ew_words": [1, 2]}
    plan = sweep.Plan(load_space(_space(tmp_path, raw)), tmp_path / "work")
    (dead, live) = plan.todo
    refs = {
        dead.keys["hardware"]: ray.remote(max_retries=0)(_die).remote(),
        live.keys["hardware"]: {"ok": False, "error": "stage: injected"},
    }
    sweep.collect(plan, refs, progress=False)
    assert plan.records[dead.id]["status"] == "failed"
    reason = plan.records[dead.id]["reason"]
    assert reason.startswith("ray: ") and "\n" not in reason and "died" in reason.lower()
    assert plan.records[live.id]["reason"] == "stage: injected"
    assert (tmp_path / "work" / "points" / f"{dead.id}.json").is_file()


# ------------------------------------------------------------------ the space file (no Ray)
@pytest.mark.parametrize(
    "edit, message",
    [
        ({"phase1": {"model.hiden": [8]}}, "phase1.model.hiden: not a config key: model.hiden (got [8])"),
        ({"phase1": {"compression.block_size": [3]}}, "phase1: compression.block_size: must be one of"),
        ({"phase2": {"model.hidden": [8]}}, "phase2.model.hidden: phase2 keys must be quantization.*"),
        ({"requirements": {"metric": "high"}}, "requirements.metric: expected a number (got 'high')"),
        ({"stages": {"synth": 1}}, "stages.synth: expected true/false (got 1)"),
        (
            {"phase2": {"a.b,hardware.parallelism": [[1]]}},
            "phase2.a.b,hardware.parallelism: not a config key",
        ),
        ({"phase2": {"hardware.parallelism,hardware.ew_words": [[1]]}}, "each value must list 2 values"),
        ({"base": "configs/nope.yaml"}, "base: no such file (got 'configs/nope.yaml')"),
    ],
)
def test_bad_space_is_one_line(tmp_path, edit, message):
    path = _space(tmp_path, {**TINY, **edit}, "bad")
    with pytest.raises(ConfigError) as exc:
        load_space(path)
    text = str(exc.value)
    assert text.startswith(str(path)) and message in text and "\n" not in text


def test_bad_space_exits_2(tmp_path):
    path = _space(tmp_path, {**TINY, "phase1": {"compression.block_size": [3]}}, "bad")
    proc = subprocess.run(
        [sys.executable, "-m", "dse", "--space", str(path), "--dry-run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: {path}: phase1: compression.block_size: must be one of [2, 4, 8, 16, 32] (got 3)"
    ]


def test_zipped_keys_move_together(tmp_path):
    raw = dict(TINY, phase1={"quantization.weight_bits,quantization.act_bits": [[16, 16], [8, 10]]})
    space = load_space(_space(tmp_path, raw))
    pairs = {(p.cfg["quantization"]["weight_bits"], p.cfg["quantization"]["act_bits"]) for p in space.points}
    assert pairs == {(16, 16), (8, 10)} and len(space.points) == 2 * 4


def test_estimate_resolves_auto_as_the_rtl_stage():
    """A point whose hardware.parallelism is auto (configs/default.yaml) is estimated at the P the rtl stage
    would pick (hw.fit.resolve), not reported as an error."""
    from configs.schema import load_config
    from hw import cycles

    cfg = load_config(ROOT / "configs/default.yaml")
    assert cfg["hardware"]["parallelism"] == "auto"
    est = estimate.estimate(cfg)
    assert "error" not in est, est
    fixed = load_config(ROOT / "configs/default.yaml")
    fixed["hardware"]["parallelism"] = 1
    assert est["cycles_per_step"] < estimate.estimate(fixed)["cycles_per_step"]
    assert est["multipliers"] > cycles.multipliers({"B": 8, "P": 1, "E": 1, "FFT": 1, "DIRECT": 0})["total"]


def test_pruning_follows_each_requirement():
    """Each requirement alone prunes exactly the points whose estimate violates it."""
    from configs.schema import load_config

    cfg = load_config(ROOT / "configs/default.yaml")
    cfg["hardware"]["batch"] = 1
    est = {"cycles_per_step": 200, "multipliers": 50, "bram36": 4.0}  # 100 MHz: 500k frames/s
    assert estimate.prune_reason(est, cfg, {}) is None
    assert estimate.prune_reason(est, cfg, {"min_frames_per_s": 5e5}) is None
    assert estimate.prune_reason(est, cfg, {"min_frames_per_s": 5.01e5}).startswith("frames/s 5e+05 < 501000")
    assert estimate.prune_reason(est, cfg, {"max_multipliers": 50}) is None
    assert estimate.prune_reason(est, cfg, {"max_multipliers": 49}) == "multipliers 50 > 49"
    assert estimate.prune_reason(est, cfg, {"max_bram36": 3.5}) == "bram36 4 > 3.5"
    cfg["hardware"]["batch"] = 2  # a batch step is one step of each sequence: 1M frames/s
    assert estimate.prune_reason(est, cfg, {"min_frames_per_s": 1e6}) is None
    assert estimate.prune_reason(est, cfg, {"min_frames_per_s": 1.01e6}).startswith(
        "frames/s 1e+06 < 1.01e+06"
    )


@pytest.mark.slow
def test_synthesized_point_has_resources_and_energy(ray_local, tmp_path):
    """One point through yosys synth_xilinx: LUT/DSP counts, the power estimate and energy per frame."""
    raw = dict(TINY, phase1={"training.epochs": [1]}, stages={"synth": True})
    raw["phase2"] = {"hardware.parallelism": [1], "hardware.clock_mhz": [50, 100]}  # one synthesis
    out = sweep.run_sweep(load_space(_space(tmp_path, raw)), tmp_path / "work", progress=False)
    assert out["counts"]["jobs_run"]["hardware"] == 1
    slow, fast = out["points"]
    for r in (slow, fast):
        assert r["status"] == "ok" and r["lut"] > 0 and r["dsp"] > 0 and r["power_w"] > 0
        batch = load_config(ROOT / TINY["base"])["hardware"]["batch"]  # cycles per step: of each sequence
        joules = r["power_w"] * r["cycles_per_step"] / batch / (r["clock_mhz"] * 1e6)
        assert r["energy_nj_per_frame"] == pytest.approx(joules * 1e9)
    assert slow["lut"] == fast["lut"] and slow["power_w"] < fast["power_w"]
    assert out["pareto"]["energy_nj_per_frame"]
