"""Fixtures shared by the ProviderRegistry tests (tests/unit/provider_registry)."""

from __future__ import annotations

import pytest
from utils.provider_registry import EU

from compute_market.units import to_wei


@pytest.fixture
def operator(accounts, registry, admin):
    """An account holding the market's role, as the JobMarket does: it moves provisions,
    slashes them and records outcomes."""
    operator = accounts[7]
    registry.grantRole(registry.MARKET_ROLE(), operator, sender=admin)
    return operator


@pytest.fixture
def provider(alice, registry, token, fund):
    """Alice, registered, with 10,000 CMP to stake and the registry approved."""
    fund(alice, to_wei(10_000))
    token.approve(registry, 2**256 - 1, sender=alice)
    registry.register("ipfs://alice", EU, sender=alice)
    return alice
