"""ProviderRegistry: registration, capacity, stake, unbonding, locks, slashing, reputation."""

from __future__ import annotations

import ape
import pytest
from helpers import assert_bounded_setter

from compute_market.units import DAY, bytes32, to_wei

H100 = bytes32("H100-80GB")
A100 = bytes32("A100-40GB")
EU = bytes32("eu-west")
MIN_STAKE_PER_GPU = to_wei(100)
ZERO = "0x0000000000000000000000000000000000000000"


def lock(job_id: int, gpus: int, amount: int, model: bytes = H100) -> tuple[int, bytes, int, int]:
    """An `IProviderRegistry.Lock` as the market derives it from a job: `amount` is the whole
    lock (the job's collateral plus `minStakePerGpu` per GPU, both fixed at posting)."""
    return (job_id, model, gpus, amount)


@pytest.fixture
def operator(accounts, registry, admin):
    """An account holding the market's and the resolver's roles, as the JobMarket will."""
    operator = accounts[7]
    registry.grantRole(registry.MARKET_ROLE(), operator, sender=admin)
    registry.grantRole(registry.SLASHER_ROLE(), operator, sender=admin)
    return operator


@pytest.fixture
def provider(alice, registry, token, fund):
    fund(alice, to_wei(10_000))
    token.approve(registry, 2**256 - 1, sender=alice)
    registry.register("ipfs://alice", EU, sender=alice)
    registry.setCapacity(H100, 8, 80, sender=alice)
    return alice


def test_register_records_profile_and_emits(registry, bob):
    tx = registry.register("https://bob.example", EU, sender=bob)
    event = tx.events.filter(registry.ProviderRegistered)[0]
    assert (event["provider"], event.metadataURI, event.region) == (bob.address, "https://bob.example", EU)
    assert registry.metadataURIOf(bob) == "https://bob.example"
    assert registry.profileOf(bob, H100).registered
    with ape.reverts(registry.AlreadyRegistered, provider=bob.address):
        registry.register("again", EU, sender=bob)


def test_several_gpu_models_per_provider(registry, provider):
    tx = registry.setCapacity(A100, 4, 40, sender=provider)
    assert tx.events.filter(registry.CapacitySet)[0].gpuCount == 4
    assert registry.capacityOf(provider, H100).gpuCount == 8
    assert registry.capacityOf(provider, A100).vramGb == 40
    profile = registry.profileOf(provider, A100)
    assert (profile.gpuCount, profile.vramGb, profile.region) == (4, 40, EU)


def test_capacity_needs_registration_and_a_model(registry, stranger, provider):
    with ape.reverts(registry.NotRegistered, provider=stranger.address):
        registry.setCapacity(H100, 1, 80, sender=stranger)
    with ape.reverts(registry.InvalidGpuModel):
        registry.setCapacity(bytes32(""), 1, 80, sender=provider)


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


def test_slash_during_unbonding_takes_from_the_unbonding_amount(registry, token, provider, operator, bob):
    registry.stake(to_wei(1_000), sender=provider)
    registry.requestUnstake(to_wei(1_000), sender=provider)  # tries to escape a coming slash
    supply = token.totalSupply()
    tx = registry.slash(provider, to_wei(300), [bob], [to_wei(200)], sender=operator)
    event = tx.events.filter(registry.Slashed)[0]
    assert (event.slashed, event.burned) == (to_wei(300), to_wei(100))
    assert registry.providerOf(provider).unbonding == to_wei(700)
    assert registry.stakeOf(provider) == to_wei(700)
    assert token.balanceOf(bob) == to_wei(200)
    assert token.totalSupply() == supply - to_wei(100)


def test_slash_takes_free_stake_before_unbonding_stake(registry, provider, operator):
    registry.stake(to_wei(1_000), sender=provider)
    registry.requestUnstake(to_wei(600), sender=provider)
    registry.slash(provider, to_wei(300), [], [], sender=operator)
    record = registry.providerOf(provider)
    assert (record.staked, record.unbonding) == (to_wei(700), to_wei(600))
    registry.slash(provider, to_wei(300), [], [], sender=operator)
    record = registry.providerOf(provider)
    assert (record.staked, record.unbonding) == (to_wei(400), to_wei(400))


def test_slash_pays_harmed_party_then_challenger_then_burns(registry, token, provider, operator, bob, carol):
    registry.stake(to_wei(1_000), sender=provider)
    supply = token.totalSupply()
    registry.slash(provider, to_wei(500), [bob, carol], [to_wei(300), to_wei(300)], sender=operator)
    assert token.balanceOf(bob) == to_wei(300)  # harmed party paid in full first
    assert token.balanceOf(carol) == to_wei(200)  # challenger gets what is left
    assert token.totalSupply() == supply  # nothing left to burn


def test_slash_never_touches_stake_locked_for_other_jobs(registry, provider, operator):
    registry.stake(to_wei(1_000), sender=provider)
    registry.lockCollateral(provider, lock(1, 2, to_wei(500)), sender=operator)
    tx = registry.slash(provider, to_wei(2_000), [], [], sender=operator)
    assert tx.events.filter(registry.Slashed)[0].slashed == to_wei(500)
    record = registry.providerOf(provider)
    assert (record.staked, record.locked) == (to_wei(500), to_wei(500))


def test_one_call_closes_a_jobs_lock_slashes_and_records_the_outcome(
    registry, token, provider, operator, bob, carol, stranger
):
    """`closeLock` is the market's one call per job outcome: 1,000 staked, 500 locked for job 1
    (300 collateral and 2 GPUs at 100); a failure releases the lock, slashes the 300 collateral
    to the harmed party (250) then the keeper (50), and counts one failure."""
    registry.stake(to_wei(1_000), sender=provider)
    job = lock(1, 2, to_wei(500))
    registry.lockCollateral(provider, job, sender=operator)
    with ape.reverts(registry.AccessControlUnauthorizedAccount):
        registry.closeLock(provider, job, 1, to_wei(300), [bob, carol], [to_wei(250), to_wei(50)], sender=stranger)
    tx = registry.closeLock(provider, job, 1, to_wei(300), [bob, carol], [to_wei(250), to_wei(50)], sender=operator)
    assert tx.events.filter(registry.CollateralReleased)[0].amount == to_wei(500)
    assert tx.events.filter(registry.Slashed)[0].slashed == to_wei(300)
    assert (token.balanceOf(bob), token.balanceOf(carol)) == (to_wei(250), to_wei(50))
    record = registry.providerOf(provider)
    assert (record.staked, record.locked, record.activeLocks, record.failed) == (to_wei(700), 0, 0, 1)
    assert registry.capacityOf(provider, H100).reserved == 0
    with ape.reverts(registry.NoCollateralLocked, provider=provider.address, jobId=1):  # closed once
        registry.closeLock(provider, job, 0, 0, [], [], sender=operator)
    # A completion: no slash, one completion counted.
    registry.lockCollateral(provider, lock(2, 1, 0), sender=operator)
    tx = registry.closeLock(provider, lock(2, 1, 0), 0, 0, [], [], sender=operator)
    assert not tx.events.filter(registry.Slashed)
    assert registry.providerOf(provider).completed == 1


def test_slash_checks_its_recipient_lists(registry, provider, operator, bob):
    with ape.reverts(registry.LengthMismatch):
        registry.slash(provider, 1, [bob], [], sender=operator)
    with ape.reverts(registry.TooManySlashRecipients, count=5):
        registry.slash(provider, 1, [bob] * 5, [1] * 5, sender=operator)


def test_reputation_is_the_bayesian_estimate(registry, provider, operator):
    """Outcomes are recorded when a lease's lock closes (`closeLock`: release, reputation and any
    slash in one call): 0 completed, 1 failed, 2 dispute lost."""
    registry.stake(to_wei(1_000), sender=provider)
    job = iter(range(1, 100))

    def close(outcome: int):
        job_id = next(job)
        registry.lockCollateral(provider, lock(job_id, 1, 0), sender=operator)
        return registry.closeLock(provider, lock(job_id, 1, 0), outcome, 0, [], [], sender=operator)

    assert registry.reputationOf(provider) == 5_000  # (0+1)*10000/(0+2)
    event = close(0).events.filter(registry.ReputationUpdated)[0]
    assert (event.completed, event.score) == (1, 6_666)  # 2*10000/3
    for _ in range(3):
        close(0)
    assert registry.reputationOf(provider) == 8_333  # 5*10000/6
    close(1)  # failed: weighs three completions
    assert registry.reputationOf(provider) == 5_555  # 5*10000/9
    close(2)  # dispute lost
    assert registry.reputationOf(provider) == 4_166  # 5*10000/12
    assert registry.profileOf(provider, H100).reputationBps == 4_166


def test_deregistration_waits_for_locks_and_leaves_nothing_stuck(registry, token, provider, operator, chain):
    registry.stake(to_wei(1_000), sender=provider)
    registry.lockCollateral(provider, lock(1, 1, 0), sender=operator)
    with ape.reverts(registry.CollateralStillLocked):
        registry.deregister(sender=provider)
    registry.releaseCollateral(provider, lock(1, 1, 0), sender=operator)
    tx = registry.deregister(sender=provider)
    assert tx.events.filter(registry.ProviderDeregistered)
    assert tx.events.filter(registry.UnstakeRequested)[0].amount == to_wei(1_000)
    assert not registry.profileOf(provider, H100).registered
    with ape.reverts(registry.NotRegistered):
        registry.lockCollateral(provider, lock(2, 1, 0), sender=operator)
    chain.pending_timestamp += 7 * DAY
    before = token.balanceOf(provider)
    registry.withdrawUnstaked(sender=provider)
    assert token.balanceOf(provider) == before + to_wei(1_000)
    assert token.balanceOf(registry) == 0
    registry.register("ipfs://alice-again", EU, sender=provider)  # may come back, reputation kept


def test_pause_stops_registration_and_stake_but_never_withdrawals(registry, provider, admin, bob, chain):
    registry.stake(to_wei(1_000), sender=provider)
    registry.pause(sender=admin)
    with ape.reverts(registry.EnforcedPause):
        registry.register("x", EU, sender=bob)
    with ape.reverts(registry.EnforcedPause):
        registry.stake(1, sender=provider)
    registry.requestUnstake(to_wei(1_000), sender=provider)
    chain.pending_timestamp += 7 * DAY
    registry.withdrawUnstaked(sender=provider)
    registry.setCapacity(H100, 1, 80, sender=provider)
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


def test_nothing_to_unstake_and_no_registration_to_leave_revert(registry, provider, stranger):
    with ape.reverts(registry.ZeroAmount):
        registry.requestUnstake(0, sender=provider)
    with ape.reverts(registry.NotRegistered, provider=stranger):
        registry.deregister(sender=stranger)
