"""The headline: how far below the cloud price a GPU model clears, with a 90% interval.

    discount = 1 - clearing_price / cloud_price

Percentiles use linear interpolation between order statistics (Hyndman and Fan's type 7, numpy's
default "linear"): for n sorted values x[0..n-1] and q in [0, 1], h = (n - 1) * q and
P(q) = x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)]).

The discount is an affine, decreasing function of the price, so the discount's percentiles are the
prices' percentiles mapped through it with the ends swapped: the discount's 5th percentile is the
discount at the price's 95th. `headline` reports the median and the central `level` interval of
the clearing prices (one per seed, say) and the discounts they imply. It describes how the result
spreads across seeds; it is not a confidence interval for the median.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal


def discount_vs_cloud(clearing_price: Decimal, cloud_price: Decimal) -> Decimal:
    """1 - clearing / cloud: 0.8 is "80% below the cloud price"; negative when dearer than the cloud."""
    if cloud_price <= 0:
        raise ValueError(f"cloud price must be positive, got {cloud_price}")
    return 1 - Decimal(clearing_price) / Decimal(cloud_price)


def percentile(values: Iterable[Decimal], q: Decimal | float | str) -> Decimal:
    """The q-quantile (q in [0, 1]) by linear interpolation between order statistics (type 7)."""
    xs = sorted(Decimal(v) for v in values)
    quantile = Decimal(str(q))
    if not xs:
        raise ValueError("percentile of no values")
    if not 0 <= quantile <= 1:
        raise ValueError(f"quantile must lie in [0, 1], got {quantile}")
    h = (len(xs) - 1) * quantile
    low = int(h)  # floor, h >= 0
    if low + 1 >= len(xs):
        return xs[-1]
    return xs[low] + (h - low) * (xs[low + 1] - xs[low])


@dataclass(frozen=True)
class Headline:
    """Per-model headline over n clearing prices: median and the central `level` interval."""

    n: int
    level: Decimal
    cloud_price: Decimal
    price_median: Decimal
    price_low: Decimal  # percentile (1 - level) / 2 of the prices
    price_high: Decimal  # percentile (1 + level) / 2
    discount_median: Decimal
    discount_low: Decimal  # the discount at price_high
    discount_high: Decimal  # the discount at price_low


def headline(
    clearing_prices: Iterable[Decimal], cloud_price: Decimal, level: Decimal | float | str = Decimal("0.90")
) -> Headline:
    """Median and `level` interval (default 90%: the 5th and 95th percentiles) of the clearing
    prices, and the discounts vs `cloud_price` they imply (method: module docstring)."""
    prices = [Decimal(p) for p in clearing_prices]
    lvl = Decimal(str(level))
    if not 0 < lvl < 1:
        raise ValueError(f"level must lie in (0, 1), got {lvl}")
    tail = (1 - lvl) / 2
    median, low, high = (percentile(prices, q) for q in (Decimal("0.5"), tail, 1 - tail))
    return Headline(
        n=len(prices),
        level=lvl,
        cloud_price=Decimal(cloud_price),
        price_median=median,
        price_low=low,
        price_high=high,
        discount_median=discount_vs_cloud(median, cloud_price),
        discount_low=discount_vs_cloud(high, cloud_price),
        discount_high=discount_vs_cloud(low, cloud_price),
    )
