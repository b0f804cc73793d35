"""One self-contained ``report.html`` per run (beside ``report.json``) and per sweep (beside
``aggregate.json``), and the comparison of runs or sweeps (``ape run fastsim --compare``).

A page has no external asset: inline CSS, no script, plots embedded as base64 PNG data URIs. It
gives the run's configuration (every field), the git commit of the working tree it was written
from, the hash of the deployed contracts' runtime code (`code_hash`, recorded in the report under
``anvil.code_sha256``), the terminal summary's tables and the plots."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import subprocess
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from compute_market.fastsim.aggregate import figure_order, format_figure, headline
from compute_market.fastsim.plots import PLOTS
from compute_market.fastsim.report import summary_tables
from compute_market.fastsim.rpc import Rpc

CODE_HASHED = (
    "sha256 over the deployed protocol contracts sorted by name, each as the UTF-8 line "
    "'<name>:<eth_getCode at its address, lower-case hex>\\n', read from the run's node once the run "
    "was checked (deployed code includes immutables: peers' addresses, the rewards genesis)"
)
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em;color:#222;max-width:1200px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.8em 0;font-size:.85em}
caption{caption-side:top;text-align:left;font-weight:600;padding:.3em 0}
.note{font-size:.8em;color:#555;margin:.2em 0 1em}
th,td{border:1px solid #ddd;padding:.25em .6em;vertical-align:top}th{background:#f3f3f3}
td.num{text-align:right;font-variant-numeric:tabular-nums}code{font-size:.9em}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}.pos{color:#070}.neg{color:#a00}
"""


def git_commit(cwd: Path | None = None) -> str:
    """`git rev-parse HEAD` of the working tree, with `+dirty` when `git status --porcelain`
    lists anything; "unknown" outside a repository (or without git)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain"], cwd=cwd, capture_output=True, text=True, timeout=60, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if status.strip() else "") if head else "unknown"


def code_hash(rpc: Rpc, addresses: Mapping[str, str]) -> str:
    """`CODE_HASHED`: the sha256 of the contracts' runtime code (one batch of `eth_getCode`)."""
    names = sorted(addresses)
    codes = rpc.batch([("eth_getCode", [addresses[name], "latest"]) for name in names])
    digest = hashlib.sha256()
    for name, code in zip(names, codes, strict=True):
        digest.update(f"{name}:{str(code).lower()}\n".encode())
    return digest.hexdigest()


# ---------------------------------------------------------------------------- building blocks


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _plain(cell: object) -> str:
    """A rich cell (markup text or `Text`) as plain text."""
    if isinstance(cell, Text):
        return cell.plain
    return Text.from_markup(str(cell)).plain if isinstance(cell, str) else str(cell)


def table_html(table: Table) -> str:
    """A rich `Table` (as the terminal summary prints it) as an HTML table."""
    columns = table.columns
    rows = list(zip(*(list(c.cells) for c in columns), strict=True)) if columns else []
    parts = ["<table>"]
    if table.title:
        parts.append(f"<caption>{_e(_plain(table.title))}</caption>")
    if table.show_header:
        parts.append("<tr>" + "".join(f"<th>{_e(_plain(c.header))}</th>" for c in columns) + "</tr>")
    for row in rows:
        cells = (
            f'<td class="num">{_e(_plain(cell))}</td>' if col.justify == "right" else f"<td>{_e(_plain(cell))}</td>"
            for col, cell in zip(columns, row, strict=True)
        )
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</table>")
    if table.caption:
        parts.append(f'<p class="note">{_e(_plain(table.caption))}</p>')
    return "\n".join(parts)


def simple_table(head: Iterable[str], rows: Iterable[Iterable[object]], title: str = "", numeric_from: int = 1) -> str:
    """An HTML table from plain rows (columns from `numeric_from` on right-aligned)."""
    parts = ["<table>"]
    if title:
        parts.append(f"<caption>{_e(title)}</caption>")
    parts.append("<tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>")
    for row in rows:
        cells = (
            f'<td class="num">{_e(cell)}</td>' if k >= numeric_from else f"<td>{_e(cell)}</td>"
            for k, cell in enumerate(row)
        )
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</table>")
    return "\n".join(parts)


def _value(value: object) -> str:
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list | tuple) else str(value)


def config_table(config: Mapping[str, Any], title: str = "configuration (every field)") -> str:
    return simple_table(("field", "value"), ((k, _value(v)) for k, v in sorted(config.items())), title, 2)


def image(path: Path) -> str:
    """The PNG at `path` as an `<img>` with a base64 data URI."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<figure><img alt="{_e(path.name)}" src="data:image/png;base64,{data}"></figure>'


def page(title: str, body: Iterable[str]) -> str:
    """A whole self-contained page."""
    written = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>{_e(title)}</h1>\n"
        f'<p class="note">written {written}</p>\n' + "\n".join(body) + "\n</body>\n</html>\n"
    )


def provenance(commit: str, code: str | Iterable[str] | None) -> str:
    """The git commit and the code hash as a table."""
    hashes = [code] if isinstance(code, str) else sorted(set(code or ()))
    rows = [
        ("git commit", commit),
        ("contracts' runtime code sha256", ", ".join(hashes) if hashes else "unknown (the report has none)"),
        ("code hash over", CODE_HASHED),
    ]
    return "<h2>Provenance</h2>\n" + simple_table(("what", "value"), rows, numeric_from=2)


# ---------------------------------------------------------------------------- one run


def run_page(report: dict[str, Any], folder: Path, commit: str | None = None) -> str:
    """The page of one run whose plots (if any) are in `folder`."""
    cfg = report["config"]
    title = f"fastsim run: {cfg['scenario']}, seed {cfg['seed']}"
    body = [provenance(commit or git_commit(), report.get("anvil", {}).get("code_sha256"))]
    # every field: reports of runs without adversaries leave that one out (`report.build_report`)
    body += ["<h2>Configuration</h2>", config_table({"adversaries": {}, **cfg})]
    body += ["<h2>Summary</h2>", *(table_html(t) for t in summary_tables(report))]
    plots = [folder / name for name in PLOTS if (folder / name).is_file()]
    if plots:
        body += ["<h2>Plots</h2>", *(image(p) for p in plots)]
    return page(title, body)


def write_run_html(report: dict[str, Any], folder: Path) -> Path:
    """`folder/report.html` for the run (its plots read from `folder`)."""
    path = folder / "report.html"
    path.write_text(run_page(report, folder))
    return path


# ---------------------------------------------------------------------------- a sweep


def sweep_page(result: dict[str, Any], commit: str | None = None) -> str:
    """The page of a sweep: the aggregate (median and 90% interval per figure), the per-seed
    figures, failures, links to each seed's own page."""
    sweep = result.get("sweep", {})
    seeds = [str(s) for s in result["seeds"]]
    title = f"fastsim sweep: {result['runs']} runs (seeds {', '.join(seeds)})"
    body = [provenance(commit or git_commit(), sweep.get("code_sha256"))]
    body += ["<h2>Configuration</h2>", config_table(sweep.get("config", {}), "configuration (every field but seed)")]
    runner = {k: v for k, v in sweep.items() if k not in ("config", "code_sha256")}
    body.append(simple_table(("sweep", "value"), sorted(runner.items()), numeric_from=2))
    names = sorted(result["figures"], key=figure_order)
    rows = []
    for name in names:
        s = result["figures"][name]
        median = format_figure(s["median"]) if "median" in s else "-"
        rows.append(
            (
                name,
                median,
                f"{format_figure(s['p05'])} to {format_figure(s['p95'])}",
                format_figure(s["mean"]),
                s["runs"],
            )
        )
    body += [
        "<h2>Aggregate</h2>",
        simple_table(("figure", "median", "90% interval (p05 to p95)", "mean", "runs"), rows, result["interval"]),
    ]
    if result.get("note"):
        body.append(f'<p class="note">{_e(result["note"])}</p>')
    per_run: dict[str, dict[str, float]] = result["per_run"]
    runs = [s for s in seeds if s in per_run]
    per_seed = [
        (name, *(format_figure(per_run[s][name]) if name in per_run[s] else "-" for s in runs)) for name in names
    ]
    body += ["<h2>Per seed</h2>", simple_table(("figure", *(f"seed {s}" for s in runs)), per_seed)]
    links = " ".join(f'<a href="seed{s}/report.html">seed {s}</a>' for s in runs)
    body.append(f'<p class="note">each seed\'s own page: {links}</p>')
    if result.get("failed"):
        body += ["<h2>Failed seeds</h2>", simple_table(("seed", "error"), sorted(result["failed"].items()), "", 2)]
    return page(title, body)


def write_sweep_html(result: dict[str, Any], folder: Path) -> Path:
    path = folder / "report.html"
    path.write_text(sweep_page(result))
    return path


# ---------------------------------------------------------------------------- comparison


class CompareError(ValueError):
    """A folder `--compare` cannot read, or runs mixed with sweeps."""


def load(folder: Path) -> tuple[str, dict[str, Any]]:
    """("run", report) or ("sweep", aggregate) of a folder."""
    if (folder / "aggregate.json").is_file():
        return "sweep", dict(json.loads((folder / "aggregate.json").read_text()))
    if (folder / "report.json").is_file():
        return "run", dict(json.loads((folder / "report.json").read_text()))
    raise CompareError(f"{folder} has neither report.json (a run) nor aggregate.json (a sweep)")


def compare(folders: list[Path]) -> dict[str, Any]:
    """Headline figures of two or more runs (`aggregate.headline`) or sweeps (their medians and
    90% intervals) side by side, each against the first: its difference and the relative one."""
    if len(folders) < 2:
        raise CompareError("give two or more folders")
    loaded = [load(folder) for folder in folders]
    kinds = {kind for kind, _ in loaded}
    if len(kinds) > 1:
        which = ", ".join(f"{f} ({kind})" for f, (kind, _) in zip(folders, loaded, strict=True))
        raise CompareError(f"cannot mix runs (report.json) with sweeps (aggregate.json): {which}")
    kind = kinds.pop()
    values: list[dict[str, float]] = []
    spans: list[dict[str, str]] = []
    configs: list[dict[str, Any]] = []
    codes: list[str] = []
    for _, data in loaded:
        if kind == "run":
            values.append(headline(data))
            spans.append({})
            configs.append(dict(data["config"]))
            codes.append(str(data.get("anvil", {}).get("code_sha256", "-")))
        else:
            figures = data["figures"]
            values.append({k: float(f.get("median", f["mean"])) for k, f in figures.items()})
            spans.append({k: f"{format_figure(f['p05'])} to {format_figure(f['p95'])}" for k, f in figures.items()})
            configs.append(dict(data.get("sweep", {}).get("config", {})) | {"seeds": data["seeds"]})
            codes.append(", ".join(data.get("sweep", {}).get("code_sha256", [])) or "-")
    names = sorted({n for v in values for n in v}, key=figure_order)
    rows: list[dict[str, Any]] = []
    for name in names:
        first = values[0].get(name)
        row: dict[str, Any] = {"figure": name, "values": [v.get(name) for v in values], "diffs": []}
        row["spans"] = [s.get(name, "") for s in spans]
        for v in values[1:]:
            other = v.get(name)
            if first is None or other is None:
                row["diffs"].append((None, None))
            else:
                row["diffs"].append((other - first, (other - first) / abs(first) if first else None))
        rows.append(row)
    keys = sorted({k for c in configs for k in c})
    differing = [(k, [_value(c.get(k, "-")) for c in configs]) for k in keys]
    differing = [(k, vals) for k, vals in differing if len(set(vals)) > 1]
    return {
        "kind": kind,
        "folders": [str(f) for f in folders],
        "rows": rows,
        "config_differences": differing,
        "code_sha256": codes,
    }


def _diff(delta: float | None, rel: float | None) -> str:
    if delta is None:
        return "-"
    text = ("+" if delta > 0 else "") + format_figure(delta)
    return text + (f" ({rel:+.1%})" if rel is not None else "")


def comparison_rows(result: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the comparison table: figure, each folder's value (a sweep's median
    with its 90% interval), then each later folder's difference from the first."""
    n = len(result["folders"])
    labels = [f"[{k + 1}]" for k in range(n)]
    head = ["figure", *labels, *(f"{labels[k]} - [1]" for k in range(1, n))]
    rows = []
    for row in result["rows"]:
        cells = [
            ("-" if v is None else format_figure(v)) + (f" ({span})" if span and v is not None else "")
            for v, span in zip(row["values"], row["spans"], strict=True)
        ]
        rows.append([row["figure"], *cells, *(_diff(d, r) for d, r in row["diffs"])])
    return head, rows


def compare_page(result: dict[str, Any], commit: str | None = None) -> str:
    folders = result["folders"]
    title = f"fastsim comparison of {len(folders)} {result['kind']}s"
    legend = [(f"[{k + 1}]", f, code) for k, (f, code) in enumerate(zip(folders, result["code_sha256"], strict=True))]
    body = [
        simple_table(("", "folder", "contracts' runtime code sha256"), legend, "compared", 3),
        f'<p class="note">written from git commit {_e(commit or git_commit())}; code hash: {_e(CODE_HASHED)}</p>',
    ]
    if result["config_differences"]:
        cfg_rows = [(k, *vals) for k, vals in result["config_differences"]]
        labels = [f"[{k + 1}]" for k in range(len(folders))]
        body += ["<h2>Configuration differences</h2>", simple_table(("field", *labels), cfg_rows, numeric_from=1)]
    head, rows = comparison_rows(result)
    what = "median (90% interval)" if result["kind"] == "sweep" else "value"
    body += ["<h2>Headline figures</h2>", simple_table(head, rows, f"each folder's {what}; differences from [1]")]
    return page(title, body)
