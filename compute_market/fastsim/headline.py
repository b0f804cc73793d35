"""The README's headline table from seed sweeps: per scenario and GPU model, the median clearing
price with its 90% interval over the seeds, against the catalog's lowest hyperscaler and
marketplace prices, with the realised utilisation and the providers' profit before token rewards.

    python -m compute_market.fastsim.headline baseline=DIR/aggregate.json glut=... scarce=...  (or the sweep folders)

Each `aggregate.json` is what `ape run fastsim --seeds N [--scenario S]` writes; figures are
the sweep's per-figure median and its 5th and 95th percentiles over the runs in which the model
traded (`econ.<model>.*`)."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from compute_market.simulation.config import Catalog, GpuModel

COLUMNS = (
    "scenario",
    "GPU",
    "seeds traded",
    "median clearing (90% interval)",
    "hyperscaler / marketplace (lowest)",
    "below hyperscaler",
    "below marketplace",
    "utilisation",
    "profit before rewards (USD)",
)


def _lowest(quotes: tuple[Any, ...]) -> Decimal | None:
    return min((q.usd_per_gpu_hour for q in quotes), default=None)


def _span(figure: dict[str, Any], fmt: str) -> str:
    """`median (p05 to p95)` of one aggregated figure."""
    median, low, high = (figure[k] for k in ("median", "p05", "p95"))
    return f"{median:{fmt}} ({low:{fmt}} to {high:{fmt}})"


def rows(scenario: str, aggregate: dict[str, Any], catalog: Catalog) -> list[list[str]]:
    """One row per GPU model that traded in at least one run of the sweep."""
    figures: dict[str, dict[str, Any]] = aggregate["figures"]
    out = []
    for model in sorted({key.split(".")[1] for key in figures if key.startswith("econ.")}):
        clearing = figures.get(f"econ.{model}.median_clearing")
        if not clearing:
            continue
        gpu: GpuModel = catalog.models[model]
        hyper, market = _lowest(gpu.hyperscaler), _lowest(gpu.marketplace)
        below = [figures.get(f"econ.{model}.discount_vs_{k}") for k in ("hyperscaler", "marketplace_low")]
        utilisation = figures.get(f"econ.{model}.utilisation")
        profit = figures.get(f"econ.{model}.profit_before_rewards_usd")
        out.append(
            [
                scenario,
                model,
                f"{clearing['runs']} of {aggregate['runs']}",
                _span(clearing, ".2f"),
                f"{hyper or '-'} / {market or '-'}",
                *(_span(b, ".0%") if b else "-" for b in below),
                _span(utilisation, ".0%") if utilisation else "-",
                _span(profit, ",.0f") if profit else "-",
            ]
        )
    return out


def markdown(table: list[list[str]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * 2 + "---:|" * (len(COLUMNS) - 2)]
    lines += ["| " + " | ".join(row) + " |" for row in table]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if not argv or any("=" not in arg for arg in argv):
        print("usage: python -m compute_market.fastsim.headline SCENARIO=SWEEP_DIR_OR_AGGREGATE ...", file=sys.stderr)
        return 2
    catalog = Catalog.load()
    table: list[list[str]] = []
    for arg in argv:
        scenario, given = arg.split("=", 1)
        path = Path(given) / "aggregate.json" if Path(given).is_dir() else Path(given)
        try:
            aggregate = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            print(f"{scenario}: cannot read a sweep's aggregate.json at {path} ({exc})", file=sys.stderr)
            return 2
        table += rows(scenario, aggregate, catalog)
    print(markdown(table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
