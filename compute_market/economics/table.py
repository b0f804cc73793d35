"""Break-even prices per catalog model, for docs/economics.md (`python -m compute_market.economics`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from compute_market.economics.costs import CENT, ProviderCosts
from compute_market.simulation.config import Catalog

TABLE_UTILISATIONS = (Decimal("0.15"), Decimal("0.60"), Decimal("1"))


@dataclass(frozen=True)
class BreakEvenRow:
    model: str
    ownership_per_hour: Decimal
    marginal_per_busy_hour: Decimal
    break_even: tuple[Decimal, ...]  # one per utilisation asked for
    cloud_price: Decimal
    marketplace_low: Decimal | None  # the lowest marketplace quote, if any
    utilisation_at_cloud: Decimal | None  # share of hours to sell at the cloud price to break even
    utilisation_at_marketplace: Decimal | None  # the same at the lowest marketplace quote


def break_even_table(
    catalog: Catalog, utilisations: Sequence[Decimal] = TABLE_UTILISATIONS, **overrides: Decimal
) -> list[BreakEvenRow]:
    """One row per catalog model, from `ProviderCosts.from_catalog` with the defaults (or overrides)."""
    rows = []
    for gpu in catalog.models.values():
        costs = ProviderCosts.from_catalog(gpu, catalog.electricity_usd_per_kwh, **overrides)
        low = min((q.usd_per_gpu_hour for q in gpu.marketplace), default=None)
        rows.append(
            BreakEvenRow(
                model=gpu.model,
                ownership_per_hour=costs.ownership_per_hour(),
                marginal_per_busy_hour=costs.marginal_per_busy_hour(),
                break_even=tuple(costs.break_even_price(u) for u in utilisations),
                cloud_price=gpu.cloud_usd_per_gpu_hour,
                marketplace_low=low,
                utilisation_at_cloud=costs.break_even_utilisation(gpu.cloud_usd_per_gpu_hour),
                utilisation_at_marketplace=None if low is None else costs.break_even_utilisation(low),
            )
        )
    return rows


def _share(value: Decimal | None) -> str:
    return "never" if value is None else f"{value * 100:.0f}%"


def format_table(rows: Sequence[BreakEvenRow], utilisations: Sequence[Decimal] = TABLE_UTILISATIONS) -> str:
    """A Markdown table of `rows`, USD per GPU-hour to the cent."""
    heads = [f"break-even at {u * 100:.0f}%" for u in utilisations]
    lines = [
        "| Model | ownership/h | marginal/busy h | " + " | ".join(heads) + " | cloud | lowest marketplace"
        " | utilisation to break even at cloud | at lowest marketplace |",
        "| --- " * (len(heads) + 7) + "|",
    ]
    for row in rows:
        cells = [
            row.model,
            str(row.ownership_per_hour.quantize(CENT)),
            str(row.marginal_per_busy_hour.quantize(CENT)),
            *(str(price.quantize(CENT)) for price in row.break_even),
            str(row.cloud_price),
            "none" if row.marketplace_low is None else str(row.marketplace_low),
            _share(row.utilisation_at_cloud),
            "n/a" if row.marketplace_low is None else _share(row.utilisation_at_marketplace),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
