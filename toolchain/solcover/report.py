"""Coverage figures: a table on the terminal, a JSON summary and a Markdown list of what never ran."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from solcover.analysis import FileCoverage
from solcover.build import Build


@dataclass(frozen=True, slots=True)
class Figures:
    statements: tuple[int, int]
    branches: tuple[int, int]
    functions: tuple[int, int]

    @classmethod
    def of(cls, files: list[FileCoverage]) -> Figures:
        return cls(
            (sum(sum(f.statements.values()) for f in files), sum(len(f.statements) for f in files)),
            (sum(f.branch_hit for f in files), sum(f.branch_total for f in files)),
            (sum(sum(f.functions.values()) for f in files), sum(len(f.functions) for f in files)),
        )

    def as_dict(self) -> dict[str, dict[str, float | int]]:
        return {
            name: {"hit": hit, "total": total, "percent": round(_percent(hit, total), 1)}
            for name, (hit, total) in (
                ("statements", self.statements),
                ("branches", self.branches),
                ("functions", self.functions),
            )
        }


def _percent(hit: int, total: int) -> float:
    return 100.0 * hit / total if total else 100.0


def _cell(pair: tuple[int, int]) -> str:
    hit, total = pair
    return f"{_percent(hit, total):5.1f}% ({hit}/{total})"


def print_table(files: list[FileCoverage], console: Console | None = None) -> Figures:
    table = Table(title="Solidity coverage (bin/coverage)")
    table.add_column("Source", no_wrap=True)
    for column in ("Statements", "Branches", "Functions"):
        table.add_column(column, justify="right", no_wrap=True)
    for cov in files:
        fig = Figures.of([cov])
        table.add_row(cov.path, _cell(fig.statements), _cell(fig.branches), _cell(fig.functions))
    total = Figures.of(files)
    table.add_row("Total", _cell(total.statements), _cell(total.branches), _cell(total.functions), style="bold")
    console = console or Console()
    console.width = max(console.width, 110)
    console.print(table)
    return total


@dataclass(frozen=True, slots=True)
class Gap:
    """A branch outcome that never ran. `key` leaves the line out, so code moving does not count as new."""

    path: str
    line: int
    kind: str
    missing: str
    code: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.path, self.kind, self.missing, self.code)

    def markdown(self) -> str:
        return f"| {self.path}:{self.line} | {self.kind} | {self.missing} | `{self.code}` |"


def gaps(build: Build, files: list[FileCoverage]) -> list[Gap]:
    """Every branch that never ran: where, which way, and the code (shortened to 90 characters)."""
    found = []
    for cov in files:
        for point in cov.branches:
            missing = [name for name, hit in (("taken", point.taken), ("not taken", point.not_taken)) if not hit]
            if not missing:
                continue
            code = " ".join(build.snippet(point.src).split())
            code = code if len(code) <= 90 else code[:87] + "..."
            found.append(Gap(cov.path, build.line(point.src), point.kind, " and ".join(missing), code))
    return found


def uncovered_branches(build: Build, files: list[FileCoverage]) -> list[str]:
    """One Markdown line per branch that never ran."""
    return [gap.markdown() for gap in gaps(build, files)]


_GAP_ROW = re.compile(
    r"^\| (?P<path>[^|]+?):(?P<line>\d+) \| (?P<kind>[^|]+?) \| (?P<missing>[^|]+?) \| `(?P<code>.*)` \|$"
)


def known_gaps(report_md: str) -> list[Gap]:
    """The gaps listed in a report.md written by `write` (the committed docs/coverage.md)."""
    return [
        Gap(m["path"], int(m["line"]), m["kind"], m["missing"], m["code"])
        for m in map(_GAP_ROW.match, report_md.splitlines())
        if m
    ]


def new_gaps(found: list[Gap], known: list[Gap]) -> list[Gap]:
    """The gaps not in `known`, matched by path, kind, outcome and code, line left out (and counted:
    a second unrun copy of a known line is new)."""
    left = Counter(gap.key for gap in known)
    fresh = []
    for gap in found:
        if left[gap.key]:
            left[gap.key] -= 1
        else:
            fresh.append(gap)
    return fresh


def write(build: Build, files: list[FileCoverage], raw: dict, out_dir: Path) -> tuple[Path, Path]:
    """Writes coverage.json (figures per file and in total) and report.md (tables and gaps)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    total = Figures.of(files)
    summary = {
        "traces": raw.get("traces", 0),
        "failed_traces": raw.get("failures", 0),
        "total": total.as_dict(),
        "files": {cov.path: Figures.of([cov]).as_dict() for cov in files},
    }
    json_path = out_dir / "coverage.json"
    json_path.write_text(json.dumps(summary, indent=2) + "\n")
    md = [
        "# Solidity coverage",
        "",
        f"Measured by `bin/coverage` from {summary['traces']:,} traced calls and transactions of the test suite",
        "(method: `toolchain/solcover/analysis.py`).",
        "",
        "| Source | Statements | Branches | Functions |",
        "|---|---:|---:|---:|",
    ]
    for cov in [*files, None]:
        fig = Figures.of([cov] if cov else files)
        name = cov.path if cov else "**Total**"
        md.append(f"| {name} | {_cell(fig.statements)} | {_cell(fig.branches)} | {_cell(fig.functions)} |")
    rows = uncovered_branches(build, files)
    missed = total.branches[1] - total.branches[0]
    md += ["", f"## Branches that never ran ({missed}, at {len(rows)} places)", ""]
    md += ["| Where | Kind | Missing | Code |", "|---|---|---|---|", *rows]
    md_path = out_dir / "report.md"
    md_path.write_text("\n".join(md) + "\n")
    return json_path, md_path
