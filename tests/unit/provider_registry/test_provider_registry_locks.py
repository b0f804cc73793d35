"""ProviderRegistry: locks (each provider's sums; one `replaceLock` per new best bid)."""

from __future__ import annotations

import ape
import pytest
from utils.provider_registry import A100, EU, H100, lock

from compute_market.units import to_wei

ZERO = "0x0000000000000000000000000000000000000000"


@pytest.fixture
def provider(alice, registry, token, fund):
    fund(alice, to_wei(10_000))
    token.approve(registry, 2**256 - 1, sender=alice)
    registry.register("ipfs://alice", EU, sender=alice)
    registry.setCapacity(H100, 8, 80, sender=alice)
    return alice


def test_locked_collateral_cannot_be_unstaked(registry, provider, operator):
    registry.stake(to_wei(1_000), sender=provider)
    # 2 GPUs: 2 * 100 CMP per GPU + 300 CMP collateral = 500 CMP locked.
    tx = registry.lockCollateral(provider, lock(1, 2, to_wei(500)), sender=operator)
    assert tx.events.filter(registry.CollateralLocked)[0].amount == to_wei(500)
    assert registry.freeStakeOf(provider) == to_wei(500)
    with ape.reverts(registry.NotEnoughFreeStake, have=to_wei(500), need=to_wei(501)):
        registry.requestUnstake(to_wei(501), sender=provider)
    registry.requestUnstake(to_wei(500), sender=provider)


def test_lock_needs_free_stake_for_the_whole_lock(registry, provider, operator):
    registry.stake(to_wei(499), sender=provider)
    with ape.reverts(registry.NotEnoughFreeStake, have=to_wei(499), need=to_wei(500)):
        registry.lockCollateral(provider, lock(1, 2, to_wei(500)), sender=operator)


def test_capacity_is_reserved_per_lock_and_never_beyond_what_is_offered(registry, provider, operator):
    """8 H100s offered, none of model A100: a 6-GPU lock leaves 2; 3 more, or any A100, are
    refused; the offer cannot fall below what jobs hold; a release gives all 6 back."""
    registry.stake(to_wei(5_000), sender=provider)
    registry.lockCollateral(provider, lock(1, 6, 0), sender=operator)
    with ape.reverts(registry.InsufficientCapacity, available=2, requested=3):
        registry.lockCollateral(provider, lock(2, 3, 0), sender=operator)
    with ape.reverts(registry.InsufficientCapacity, available=0, requested=1):
        registry.lockCollateral(provider, lock(3, 1, 0, A100), sender=operator)
    with ape.reverts(registry.InsufficientCapacity, available=2, requested=0):
        registry.lockCollateral(provider, lock(4, 0, 0), sender=operator)
    with ape.reverts(registry.CapacityInUse, reserved=6, requested=5):
        registry.setCapacity(H100, 5, 80, sender=provider)
    registry.releaseCollateral(provider, lock(1, 6, 0), sender=operator)
    assert registry.capacityOf(provider, H100).reserved == 0
    registry.lockCollateral(provider, lock(2, 8, 0), sender=operator)


def test_release_returns_stake_and_capacity_and_never_more_than_was_locked(registry, provider, operator):
    """1,000 staked, 500 locked for job 9 (2 GPUs): the release frees both; a second release of
    the same lock, or one of more stake than is locked, reverts and changes nothing."""
    registry.stake(to_wei(1_000), sender=provider)
    registry.lockCollateral(provider, lock(9, 2, to_wei(500)), sender=operator)
    with ape.reverts(registry.NoCollateralLocked, provider=provider.address, jobId=9):  # more than locked
        registry.releaseCollateral(provider, lock(9, 2, to_wei(501)), sender=operator)
    tx = registry.releaseCollateral(provider, lock(9, 2, to_wei(500)), sender=operator)
    event = tx.events.filter(registry.CollateralReleased)[0]
    assert (event.jobId, event.amount) == (9, to_wei(500))
    assert registry.freeStakeOf(provider) == to_wei(1_000)
    record = registry.providerOf(provider)
    assert (record.locked, record.activeLocks, registry.capacityOf(provider, H100).reserved) == (0, 0, 0)
    with ape.reverts(registry.NoCollateralLocked, provider=provider.address, jobId=9):  # released once
        registry.releaseCollateral(provider, lock(9, 2, to_wei(500)), sender=operator)
    assert registry.freeStakeOf(provider) == to_wei(1_000)


def test_one_call_moves_a_lock_from_the_outbid_to_the_new_best_bidder(registry, token, fund, provider, operator, bob):
    """`replaceLock` is the market's one call per new best bid: alice holds job 1's 500 CMP and
    2 GPUs; bob outbids her and takes the same lock, and alice is free again. A bidder without
    the free stake or the GPUs is refused and alice keeps her lock."""
    registry.stake(to_wei(1_000), sender=provider)
    fund(bob, to_wei(1_000))
    token.approve(registry, 2**256 - 1, sender=bob)
    registry.register("ipfs://bob", EU, sender=bob)
    registry.setCapacity(H100, 1, 80, sender=bob)
    registry.stake(to_wei(499), sender=bob)
    job = lock(1, 2, to_wei(500))
    tx = registry.replaceLock(ZERO, provider, job, sender=operator)  # the first bid
    assert not tx.events.filter(registry.CollateralReleased)
    with ape.reverts(registry.InsufficientCapacity, available=1, requested=2):
        registry.replaceLock(provider, bob, job, sender=operator)
    registry.setCapacity(H100, 2, 80, sender=bob)
    with ape.reverts(registry.NotEnoughFreeStake, have=to_wei(499), need=to_wei(500)):
        registry.replaceLock(provider, bob, job, sender=operator)
    assert registry.providerOf(provider).locked == to_wei(500)
    registry.stake(to_wei(1), sender=bob)
    tx = registry.replaceLock(provider, bob, job, sender=operator)
    assert tx.events.filter(registry.CollateralReleased)[0]["provider"] == provider.address
    assert tx.events.filter(registry.CollateralLocked)[0]["provider"] == bob.address
    assert (registry.freeStakeOf(provider), registry.freeStakeOf(bob)) == (to_wei(1_000), 0)
    assert registry.capacityOf(provider, H100).reserved == 0
    assert registry.capacityOf(bob, H100).reserved == 2


def test_only_market_and_resolver_roles_lock_slash_or_record(registry, provider, stranger):
    registry.stake(to_wei(1_000), sender=provider)
    with ape.reverts(registry.AccessControlUnauthorizedAccount):
        registry.lockCollateral(provider, lock(1, 1, 0), sender=stranger)
    with ape.reverts(registry.AccessControlUnauthorizedAccount):
        registry.releaseCollateral(provider, lock(1, 1, 0), sender=stranger)
    with ape.reverts(registry.AccessControlUnauthorizedAccount):
        registry.replaceLock(ZERO, provider, lock(1, 1, 0), sender=stranger)
    with ape.reverts(registry.AccessControlUnauthorizedAccount):
        registry.slash(provider, 1, [], [], sender=stranger)
    with ape.reverts(registry.AccessControlUnauthorizedAccount):
        registry.closeLock(provider, lock(1, 1, 0), 0, 0, [], [], sender=stranger)
