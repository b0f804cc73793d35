"""Shared by the ComputeCredits tests (tests/unit/compute_credits)."""

from __future__ import annotations

from decimal import Decimal

from compute_market.units import usd_to_feed


def fresh_price(feed, admin, usd: str) -> None:
    feed.setAnswer(usd_to_feed(Decimal(usd)), sender=admin)
