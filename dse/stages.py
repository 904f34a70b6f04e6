"""The stage jobs of a sweep: each runs the project's own stage commands (`python -m train`, `compress`,
`hw.rtl`, `hw.synth --no-ecp5`) as subprocesses in the sweep's work folder, so every stage validates its input
and fails with its own one-line error.

Layout under the work folder (build/dse/NAME): configs/KIND-KEY.yaml, build/KIND-KEY/<stage>/ (KIND t = train,
c = compress, h = rtl + synthesis), logs/, stamps/KIND-KEY.json (written atomically once a job succeeded: a
restarted sweep reuses it). A compress job's build folder links train/ to the training it uses, a hardware
job's links compress/: one training serves every compress job of its model, one compress job every hardware
job.
Jobs return {"ok": bool, "error": one line or None, ...}: a failure travels down the chain as a value.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import yaml

from configs.util import atomic_write_text, write_json
from dse.space import ROOT


def error_line(text: str, rc: int) -> str:
    """The one line a failed stage said: its last `error:` line, else its last line, else the exit code."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error:")]
    line = errors[-1][len("error:") :].strip() if errors else (lines[-1] if lines else f"exit code {rc}")
    return line[:400]


def write_config(work: Path, name: str, cfg: dict) -> Path:
    """work/configs/NAME.yaml with name set (task.path made absolute: stages run in the work folder)."""
    cfg = json.loads(json.dumps(cfg))
    cfg["name"] = name
    if cfg["task"].get("path"):
        cfg["task"]["path"] = str((ROOT / cfg["task"]["path"]).resolve())
    path = work / "configs" / f"{name}.yaml"
    atomic_write_text(path, yaml.safe_dump(cfg, sort_keys=True))
    return path


def _die_with_parent() -> None:
    """In the child: SIGKILL when the parent (the Ray worker) dies: a killed sweep leaves no stage running."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        pass


def run_stage(work: Path, module: str, name: str, cfg: dict, *extra: str) -> str | None:
    """Run `python -m MODULE --config work/configs/NAME.yaml` in work/; None when it succeeded, else the error
    line prefixed by the module. stdout + stderr go to work/logs/NAME.MODULE.log."""
    path = write_config(work, name, cfg)
    threads = str(cfg["training"]["threads"])
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONHASHSEED="0", OMP_NUM_THREADS=threads)
    cmd = [sys.executable, "-m", module, "--config", str(path), *extra]
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, preexec_fn=_die_with_parent)
    log = work / "logs" / f"{name}.{module}.log"
    atomic_write_text(log, f"$ {' '.join(cmd)}\n{proc.stdout}\n--- stderr\n{proc.stderr}")
    if proc.returncode != 0:
        return f"{module}: {error_line(proc.stderr or proc.stdout, proc.returncode)}"
    return None


def link(work: Path, name: str, stage: str, target: str) -> None:
    """build/NAME/STAGE -> ../TARGET/STAGE (relative, replaced when it points elsewhere)."""
    dst = work / "build" / name / stage
    dst.parent.mkdir(parents=True, exist_ok=True)
    rel = Path("..") / target / stage
    if dst.is_symlink() and os.readlink(dst) == str(rel):
        return
    if dst.is_symlink() or dst.exists():
        dst.unlink()
    dst.symlink_to(rel, target_is_directory=True)


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def stamp_path(work: Path, name: str) -> Path:
    return work / "stamps" / f"{name}.json"


def done(work: Path, name: str) -> dict | None:
    """The stamp of a job that succeeded in an earlier run (None: run it)."""
    path = stamp_path(work, name)
    try:
        return read_json(path)
    except (OSError, ValueError):
        return None


def _finish(work: Path, name: str, res: dict) -> dict:
    if res["ok"]:
        write_json(stamp_path(work, name), res)
    return res


def train_job(work: str, name: str, cfg: dict) -> dict:
    """Train (train reuses a finished run of the same config hash and resumes its checkpoint)."""
    work = Path(work)
    err = run_stage(work, "train", name, cfg)
    if err:
        return {"ok": False, "error": err, "name": name}
    m = read_json(work / "build" / name / "train" / "metrics.json")
    keep = ("test_metric_name", "test_metric", "params", "params_dense", "compression_ratio", "train_seconds")
    return _finish(work, name, {"ok": True, "error": None, "name": name, "train": {k: m[k] for k in keep}})


def compress_job(work: str, name: str, cfg: dict, trained: dict) -> dict:
    """Quantize one trained model with this point's quantization section (the fixed-point metric)."""
    if not trained["ok"]:
        return trained
    work = Path(work)
    link(work, name, "train", trained["name"])
    err = run_stage(work, "compress", name, cfg)
    if err:
        return {"ok": False, "error": err, "name": name, "train": trained["train"]}
    m = read_json(work / "build" / name / "compress" / "metrics.json")
    res = {
        "ok": True,
        "error": None,
        "name": name,
        "train": trained["train"],
        "compress": {k: m[k] for k in ("metric_name", "float_metric", "fixed_metric", "saturation_total")},
    }
    return _finish(work, name, res)


def meets(metric_name: str, value: float, required: float | None) -> bool:
    """Does a test metric satisfy the requirement (accuracy >=, mse <=; None: always)?"""
    if required is None:
        return True
    return value <= required if metric_name == "mse" else value >= required


def hardware_job(work: str, name: str, cfg: dict, compressed: dict, opts: dict) -> dict:
    """rtl (+ yosys synthesis, + ECP5 when asked) of one compress job on one core configuration.

    opts: synth, ecp5, pnr_timeout, required_metric, skip_inaccurate."""
    if not compressed["ok"]:
        return compressed
    work = Path(work)
    res = {k: compressed[k] for k in ("train", "compress")}
    res.update(ok=True, error=None, name=name, skipped=None)
    c = compressed["compress"]
    if opts["skip_inaccurate"] and not meets(c["metric_name"], c["fixed_metric"], opts["required_metric"]):
        res["skipped"] = f"{c['metric_name']} {c['fixed_metric']:.4f} misses {opts['required_metric']:g}"
        return res  # no stamp: cheap, and it depends on the requirement
    link(work, name, "compress", compressed["name"])
    err = run_stage(work, "hw.rtl", name, cfg)
    if err:
        return dict(res, ok=False, error=err)
    rtl = read_json(work / "build" / name / "rtl" / "rtl.json")
    res["rtl"] = {
        "cycles_per_step": rtl["cycles_per_step"],
        "multipliers": rtl["multipliers"]["total"],
        "params": rtl["params"],
        "instruction_bits": rtl["instruction_bits"],
    }
    if opts["synth"]:
        extra = () if opts["ecp5"] else ("--no-ecp5",)
        err = run_stage(work, "hw.synth", name, cfg, *extra, "--pnr-timeout", str(opts["pnr_timeout"]))
        if err:
            return dict(res, ok=False, error=err)
        s = read_json(work / "build" / name / "synth" / "synth.json")
        res["synth"] = {"xc7": s["xc7"]["counts"], "activity": s.get("activity"), "seconds": s.get("seconds")}
        if "pnr" in s.get("ecp5", {}):
            pnr = s["ecp5"]["pnr"]
            res["synth"]["ecp5"] = {k: pnr.get(k) for k in ("fmax_mhz", "target_mhz", "timing_met")}
    return _finish(work, name, res)
