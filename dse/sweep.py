"""The sweep driver: expand, prune, schedule the stage jobs on Ray, collect one result file per point.

Ray core tasks (not Ray Tune): the work is a fixed DAG with sharing (one training feeds every compress job of
its model, one compress job every hardware job built from it), pruning is analytic and happens before anything
runs, and resuming is per point; Tune's one-trial-per-config model would train once per trial or need the
sharing rebuilt around it, and its searchers/ASHA have nothing to stop in training runs of seconds.

Order: every point gets its analytic estimate (dse.estimate); points the requirements rule out are recorded
as pruned and never trained; the rest are grouped by their training (train.loop.config_hash), compress
(that + the quantization section) and hardware (that + the hardware section without the clock) keys, and one
Ray task runs per distinct key, each depending on the one above. A point's result file
(points/ID.json) is written atomically as soon as its hardware job is back; a restarted sweep reuses every
point whose file says ok, and every job whose stamp exists (dse.stages).
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from configs.stages import value_digest
from configs.util import write_json
from dse import estimate, results, stages
from dse.space import Point, Space

log = logging.getLogger("dse")


def job_keys(p: Point) -> dict:
    """Training, compress and hardware keys of a point (points sharing a key share that job)."""
    from train.loop import config_hash

    cfg = p.cfg
    t = config_hash(cfg)
    c = value_digest({"train": t, "quantization": cfg["quantization"]})
    hw = {k: v for k, v in cfg["hardware"].items() if k != "clock_mhz"}
    h = value_digest({"compress": c, "hardware": hw})
    return {"train": f"t-{t}", "compress": f"c-{c}", "hardware": f"h-{h}"}


def start_ray(address: str | None, num_cpus: int) -> bool:
    """Connect to Ray: the cluster at address / RAY_ADDRESS, else a local one with num_cpus (0: all, capped at
    the machine's count). Returns True when this call started it (the sweep shuts it down)."""
    import ray

    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS")
    env = {"env_vars": {"PYTHONPATH": str(stages.ROOT)}}
    if address:
        ray.init(address=address, runtime_env=env, log_to_driver=False)
    else:
        cpus = os.cpu_count() or 1
        n = min(num_cpus, cpus) if num_cpus else cpus
        ray.init(num_cpus=n, include_dashboard=False, runtime_env=env, log_to_driver=False)
    return True


def ray_error(exc: BaseException) -> str:
    """One line for a Ray-level failure (worker died, task raised)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return f"ray: {type(exc).__name__}: {lines[0] if lines else ''}"[:400]


def load_points(work: Path) -> dict[str, dict]:
    """Result files of an earlier run: {id: record} (unreadable files are ignored: the point runs again)."""
    out = {}
    for f in sorted((work / "points").glob("*.json")):
        try:
            rec = json.loads(f.read_text())
        except (OSError, ValueError):
            continue
        out[rec.get("id", f.stem)] = rec
    return out


class Plan:
    """What a sweep will do: per point its keys, estimate and status before running."""

    def __init__(self, space: Space, work: Path):
        self.space, self.work = space, work
        self.previous = load_points(work)
        self.records: dict[str, dict] = {}
        self.todo: list[Point] = []
        for p in space.points:
            p.keys = job_keys(p)
            est = estimate.estimate(p.cfg)
            prev = self.previous.get(p.id)
            if prev and prev.get("status") == "ok":
                self.records[p.id] = dict(prev, reused=True)
                continue
            reason = estimate.prune_reason(est, p.cfg, space.requirements)
            if reason:
                self.records[p.id] = results.record(p, est, status="pruned", reason=f"estimate: {reason}")
            else:
                self.todo.append(p)
            p.est = est

    def counts(self) -> dict:
        """Training runs that one-config-at-a-time would need, and what pruning and sharing leave of them."""
        pts = self.space.points
        all_train = {p.keys["train"] for p in pts}
        pruned_est = [r for r in self.records.values() if r["status"] == "pruned"]
        kept = [p for p in pts if p.id not in {r["id"] for r in pruned_est}]
        kept_train = {p.keys["train"] for p in kept}
        return {
            "points": len(pts),
            "pruned_before_training": len(pruned_est),
            "reused_points": sum(1 for r in self.records.values() if r.get("reused")),
            "to_run": len(self.todo),
            "train_configs": len(all_train),
            "train_configs_needed": len(kept_train),
            "train_configs_pruned": len(all_train - kept_train),
            "training_runs_saved_by_pruning": len(pts) - len(kept),
            "training_runs_saved_by_sharing": len(kept) - len(kept_train),
            "compress_jobs": len({p.keys["compress"] for p in kept}),
            "hardware_jobs": len({p.keys["hardware"] for p in kept}),
        }


def _opts(space: Space) -> dict:
    s = space.stages
    return {
        "synth": s["synth"],
        "ecp5": s["ecp5"],
        "pnr_timeout": s["pnr_timeout"],
        "skip_inaccurate": s["skip_inaccurate"],
        "required_metric": space.requirements["metric"],
    }


def schedule(plan: Plan) -> dict:
    """Submit one Ray task per distinct job key; returns {hardware key: ObjectRef or dict}."""
    import ray

    work, opts = str(plan.work), _opts(plan.space)
    train_r = ray.remote(max_retries=0)(stages.train_job)
    comp_r = ray.remote(max_retries=0)(stages.compress_job)
    hw_r = ray.remote(max_retries=0)(stages.hardware_job)
    refs: dict[str, dict] = {"train": {}, "compress": {}, "hardware": {}}
    started = {"train": 0, "compress": 0, "hardware": 0}

    def job(kind, key, task, cpus, *args):
        if key not in refs[kind]:
            stamp = stages.done(plan.work, key)
            refs[kind][key] = stamp if stamp else task.options(num_cpus=cpus).remote(work, key, *args)
            started[kind] += stamp is None
        return refs[kind][key]

    for p in plan.todo:
        k, threads = p.keys, p.cfg["training"]["threads"]
        tr = job("train", k["train"], train_r, threads, p.cfg)
        co = job("compress", k["compress"], comp_r, threads, p.cfg, tr)
        job("hardware", k["hardware"], hw_r, 1, p.cfg, co, opts)
    plan.started = started
    return refs["hardware"]


def collect(plan: Plan, hw_refs: dict, progress: bool = True) -> None:
    """Wait for the hardware jobs; write every point's result file as soon as its job is back."""
    import ray
    from tqdm import tqdm

    by_key: dict[str, list[Point]] = {}
    for p in plan.todo:
        by_key.setdefault(p.keys["hardware"], []).append(p)
    n = len(plan.space.points)
    bar = tqdm(total=n, initial=len(plan.records), desc="dse", unit="pt", disable=not progress)
    pending = {ref: key for key, ref in hw_refs.items() if isinstance(ref, ray.ObjectRef)}
    ready = [(key, ref) for key, ref in hw_refs.items() if not isinstance(ref, ray.ObjectRef)]
    while ready or pending:
        for key, res in ready:
            for p in by_key[key]:
                rec = results.from_job(p, p.est, res, plan.space.requirements)
                write_json(plan.work / "points" / f"{p.id}.json", rec)
                plan.records[p.id] = rec
                bar.update(1)
        ready = []
        if pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                key = pending.pop(ref)
                try:
                    res = ray.get(ref)
                except Exception as exc:  # worker died, task raised: recorded, the sweep goes on
                    res = {"ok": False, "error": ray_error(exc)}
                ready.append((key, res))
    bar.close()


def run_sweep(space: Space, work: Path, address: str | None = None, progress: bool = True) -> dict:
    """Run (or resume) a sweep into work/; returns results.json's content."""
    t0 = time.time()
    work.mkdir(parents=True, exist_ok=True)
    plan = Plan(space, work)
    counts = plan.counts()
    log.info("%s: %s", space.name, counts)
    plan.started = {"train": 0, "compress": 0, "hardware": 0}
    if plan.todo:
        started = start_ray(address, space.ray["num_cpus"])
        try:
            collect(plan, schedule(plan), progress)
        finally:
            if started:
                import ray

                ray.shutdown()
    counts["jobs_run"] = plan.started
    counts["seconds"] = round(time.time() - t0, 1)
    return results.write_all(space, work, plan.records, counts)
