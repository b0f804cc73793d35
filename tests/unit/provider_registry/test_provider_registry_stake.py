"""ProviderRegistry: stake and unbonding."""

from __future__ import annotations

import ape

from compute_market.units import DAY, to_wei


def test_stake_moves_tokens_and_needs_registration(registry, token, provider, stranger):
    tx = registry.stake(to_wei(1_000), sender=provider)
    assert tx.events.filter(registry.Staked)[0].totalStaked == to_wei(1_000)
    assert token.balanceOf(registry) == to_wei(1_000)
    assert registry.freeStakeOf(provider) == to_wei(1_000)
    with ape.reverts(registry.NotRegistered):
        registry.stake(1, sender=stranger)
    with ape.reverts(registry.ZeroAmount):
        registry.stake(0, sender=provider)


def test_unbonding_waits_the_period_then_withdraws(registry, token, provider, chain):
    registry.stake(to_wei(1_000), sender=provider)
    tx = registry.requestUnstake(to_wei(400), sender=provider)
    end = tx.events.filter(registry.UnstakeRequested)[0].unbondingEnd
    assert end == chain.blocks.head.timestamp + 7 * DAY
    assert registry.freeStakeOf(provider) == to_wei(600)
    with ape.reverts(registry.UnbondingNotOver, unbondingEnd=end):
        registry.withdrawUnstaked(sender=provider)
    chain.pending_timestamp = end
    before = token.balanceOf(provider)
    registry.withdrawUnstaked(sender=provider)
    assert token.balanceOf(provider) == before + to_wei(400)
    assert registry.stakeOf(provider) == to_wei(600)
    with ape.reverts(registry.NothingToWithdraw):
        registry.withdrawUnstaked(sender=provider)


def test_nothing_to_unstake_and_no_registration_to_leave_revert(registry, provider, stranger):
    with ape.reverts(registry.ZeroAmount):
        registry.requestUnstake(0, sender=provider)
    with ape.reverts(registry.NotRegistered, provider=stranger):
        registry.deregister(sender=stranger)
