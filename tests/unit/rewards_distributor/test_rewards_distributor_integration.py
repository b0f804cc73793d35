"""RewardsDistributor: the protocol's contracts report to the protocol's distributor.

A distributor of its own per test (epochs of one day, 100,000 CMP in epoch 0 decaying 0.5%,
split 70% work, 20% stake, 10% verifiers), with an account holding the reporters' roles, so that
every timestamp and report is under the test's control. The oracle says 2.50 USD per CMP, so a
fee of 1 CRD is worth 0.4 CMP; a job's fee caps its provider's work reward at 7/8 of that and
its verifier's reward at 1/8.
"""

from __future__ import annotations

from compute_market.units import DAY, to_wei


def test_market_registry_and_resolver_report_to_the_protocols_distributor(
    rewards, market, registry, chain, accounts, make_provider, make_customer, fresh_price
):
    """The settled job paid 2 CRD of which a 1% fee, 0.02 CRD = 0.008 CMP at 2.50 USD: the
    provider's work reward is capped at 7/8 of it, 0.007 CMP."""
    from utils.helpers import job_spec

    provider = make_provider(accounts[11], provision=to_wei(6_000))  # stakes 10,000, 4,000 left free
    at_risk = registry.stakeRewardsState()[1]
    customer = make_customer(accounts[10])
    job_id = market.postJob(job_spec(chain, hours=1), sender=customer).events.filter(market.JobPosted)[0].jobId
    market.placeBid(job_id, to_wei(1), sender=provider)
    chain.pending_timestamp += 3_600
    market.finalizeAuction(job_id, sender=customer)
    chain.pending_timestamp += 3_600
    market.submitResult(job_id, b"\x01" * 32, "r", sender=provider)
    chain.pending_timestamp += DAY
    fresh_price()
    market.settleJob(job_id, sender=customer)
    epoch = rewards.currentEpoch()
    mine = rewards.activityOf(provider)
    assert (mine.epoch, mine.credits) == (epoch, to_wei(2))  # 1 CRD per GPU-hour, 2 GPUs, 1 hour
    assert mine.workCap == to_wei("0.007")
    registry.requestUnstake(to_wei(4_000), sender=provider)
    assert registry.stakeRewardsState()[1] == at_risk - to_wei(4_000)


def test_the_protocols_ledger_accrues_verifier_and_provider_stake(
    rewards, accounts, make_provider, make_verifier, chain, registry
):
    """A verifier's active stake earns the stake share: staking and an unstake request move the
    ledger's stake at risk; a provider that also verifies earns on both stakes."""
    assert rewards.ledger() == registry.address
    before = registry.stakeRewardsState()[1]
    verifier = make_verifier(accounts[20], stake=to_wei(1_400))
    assert registry.stakeRewardsState()[1] == before + to_wei(1_400)
    registry.requestVerifierUnstake(to_wei(400), sender=verifier)  # 1,000 stays active: the minimum
    assert registry.stakeRewardsState()[1] == before + to_wei(1_000)
    both = make_provider(accounts[21])  # 10,000 as a provider
    make_verifier(both, stake=to_wei(1_000))
    assert registry.stakeRewardsState()[1] == before + to_wei(12_000)
    chain.pending_timestamp += DAY
    chain.mine()
    assert registry.pendingStakeRewards(verifier) > 0
    assert rewards.pendingRewards(both)[1] == registry.pendingStakeRewards(both) > 0
