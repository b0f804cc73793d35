"""Fixtures shared by the ProviderRegistry tests (tests/unit/provider_registry)."""

from __future__ import annotations

import pytest


@pytest.fixture
def operator(accounts, registry, admin):
    """An account holding the market's and the resolver's roles, as the JobMarket will."""
    operator = accounts[7]
    registry.grantRole(registry.MARKET_ROLE(), operator, sender=admin)
    registry.grantRole(registry.SLASHER_ROLE(), operator, sender=admin)
    return operator
