"""ProviderRegistry: pause, roles and governance parameters."""

from __future__ import annotations

import ape
import pytest
from utils.helpers import assert_bounded_setter
from utils.provider_registry import EU

from compute_market.units import DAY, to_wei


def test_pause_stops_registration_and_stake_but_never_withdrawals(registry, provider, operator, admin, bob, chain):
    """Paused with 400 of 1,000 CMP provisioned: the provision still comes back, and all of
    the stake unbonds and is withdrawn."""
    registry.stake(to_wei(1_000), sender=provider)
    registry.provision(provider, to_wei(400), sender=operator)
    registry.pause(sender=admin)
    with ape.reverts(registry.EnforcedPause):
        registry.register("x", EU, sender=bob)
    with ape.reverts(registry.EnforcedPause):
        registry.stake(1, sender=provider)
    registry.provision(provider, -to_wei(400), sender=operator)
    registry.requestUnstake(to_wei(1_000), sender=provider)
    chain.pending_timestamp += 7 * DAY
    registry.withdrawUnstaked(sender=provider)
    registry.deregister(sender=provider)


@pytest.mark.parametrize(
    ("setter", "bad", "lo", "hi"),
    [
        ("setUnbondingPeriod", 5 * DAY, 5 * DAY + 1, 60 * DAY),  # above the resolver's 5-day slash delay
        ("setDrawDelay", 65, 1, 64),
    ],
)
def test_setters_check_bounds_and_roles(registry, admin, stranger, setter, bad, lo, hi):
    assert_bounded_setter(registry, setter, bad, lo, hi, hi, admin, stranger)


def test_new_unbonding_period_applies_to_new_requests(registry, provider, admin, chain):
    registry.setUnbondingPeriod(6 * DAY, sender=admin)
    registry.stake(to_wei(10), sender=provider)
    tx = registry.requestUnstake(to_wei(10), sender=provider)
    assert tx.events.filter(registry.UnstakeRequested)[0].unbondingEnd == chain.blocks.head.timestamp + 6 * DAY
