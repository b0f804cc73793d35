"""`python -m compute_market.economics`: the break-even table of docs/economics.md, from the catalog."""

from __future__ import annotations

from compute_market.economics.table import break_even_table, format_table
from compute_market.simulation.config import Catalog


def main() -> None:
    catalog = Catalog.load()
    print(f"USD per GPU-hour; electricity {catalog.electricity_usd_per_kwh} USD/kWh; defaults of docs/economics.md")
    print(format_table(break_even_table(catalog)))


if __name__ == "__main__":
    main()
