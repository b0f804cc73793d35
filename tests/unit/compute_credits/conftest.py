"""Fixtures shared by the ComputeCredits tests (tests/unit/compute_credits)."""

from __future__ import annotations

import pytest

from compute_market.units import to_wei


@pytest.fixture
def minter(alice, fund, token, credits):
    fund(alice, to_wei(10_000))
    token.approve(credits, 2**256 - 1, sender=alice)
    return alice
