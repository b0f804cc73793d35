"""ProviderRegistry: slashing and reputation."""

from __future__ import annotations

import ape
import pytest
from utils.provider_registry import EU, H100, lock

from compute_market.units import to_wei


@pytest.fixture
def provider(alice, registry, token, fund):
    fund(alice, to_wei(10_000))
    token.approve(registry, 2**256 - 1, sender=alice)
    registry.register("ipfs://alice", EU, sender=alice)
    registry.setCapacity(H100, 8, 80, sender=alice)
    return alice


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
