"""Provider economics: what a GPU costs its owner, the ask that follows, P&L, and the headline.

Pure Python and Decimal; no chain and no simulation engine. Formulas and the defaults' sources:
docs/economics.md. `python -m compute_market.economics` prints the break-even table.
"""

from compute_market.economics.costs import (
    CENT,
    DEFAULT_AMORTISATION_YEARS,
    DEFAULT_BUSY_POWER_FACTOR,
    DEFAULT_COLOCATION_USD_PER_KW_MONTH,
    DEFAULT_COST_OF_CAPITAL,
    DEFAULT_IDLE_FRACTION,
    DEFAULT_PROVISIONED_POWER_FACTOR,
    DEFAULT_PUE,
    DEFAULT_SERVER_OVERHEAD_SHARE,
    HOURS_PER_MONTH,
    HOURS_PER_YEAR,
    ProviderCosts,
    capital_recovery_factor,
)
from compute_market.economics.headline import Headline, discount_vs_cloud, headline, percentile
from compute_market.economics.ledger import PnL, ProviderLedger, pnl
from compute_market.economics.pricing import (
    DEFAULT_FLOOR_UTILISATION,
    DEFAULT_FULL_COST_UTILISATION,
    TrailingUtilisation,
    ask_price,
)
from compute_market.economics.table import BreakEvenRow, break_even_table, format_table

__all__ = [
    "CENT",
    "DEFAULT_AMORTISATION_YEARS",
    "DEFAULT_BUSY_POWER_FACTOR",
    "DEFAULT_COLOCATION_USD_PER_KW_MONTH",
    "DEFAULT_COST_OF_CAPITAL",
    "DEFAULT_FLOOR_UTILISATION",
    "DEFAULT_FULL_COST_UTILISATION",
    "DEFAULT_IDLE_FRACTION",
    "DEFAULT_PROVISIONED_POWER_FACTOR",
    "DEFAULT_PUE",
    "DEFAULT_SERVER_OVERHEAD_SHARE",
    "HOURS_PER_MONTH",
    "HOURS_PER_YEAR",
    "BreakEvenRow",
    "Headline",
    "PnL",
    "ProviderCosts",
    "ProviderLedger",
    "TrailingUtilisation",
    "ask_price",
    "break_even_table",
    "capital_recovery_factor",
    "discount_vs_cloud",
    "format_table",
    "headline",
    "percentile",
    "pnl",
]
