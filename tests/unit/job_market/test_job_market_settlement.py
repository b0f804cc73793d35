"""JobMarket: results and settlement (payouts, the work report, fees for the treasury).

Numbers used throughout: CMP at 2.50 USD; a job of 2 GPUs for 10 hours with a max price of
2 CRD per GPU-hour escrows 40 CRD; the lease value at price p is 20p CRD; collateral is 30% of the
lease value at the max price (12 CRD: 4.8 CMP), whatever the bid
in CMP, 6p CRD / 2.5 = 2.4p CMP, and the registry lock adds 100 CMP per GPU.
"""

from __future__ import annotations

import ape
import pytest
from utils.helpers import H100
from utils.job_market import SETTLED, crd, leased_job

from compute_market.units import HOUR


@pytest.fixture
def customer(_customer, fresh_price):
    fresh_price()
    return _customer


def _awaiting_settlement(market, chain, customer, provider) -> int:
    """A 10-hour lease whose result is in and whose challenge window has closed."""
    job_id = leased_job(market, chain, customer, provider)
    chain.pending_timestamp = market.getJob(job_id).leaseStart + 10 * HOUR + 60
    market.submitResult(job_id, b"\x11" * 32, "ipfs://result", sender=provider)
    chain.pending_timestamp = market.getJob(job_id).challengeEnd
    return job_id


def test_result_then_settlement_pays_the_rest_and_records_a_completion(
    market, registry, credits, chain, customer, providers, treasury
):
    p1 = providers[0]
    job_id = leased_job(market, chain, customer, p1)
    start = market.getJob(job_id).leaseStart
    chain.pending_timestamp = start + 5 * HOUR
    market.claimEarnings(job_id, sender=p1)  # 8.8 gross
    chain.pending_timestamp = start + 10 * HOUR + 60
    tx = market.submitResult(job_id, b"\x11" * 32, "ipfs://result", sender=p1)
    challenge_end = tx.events.filter(market.ResultSubmitted)[0].challengeEnd
    with ape.reverts(market.ChallengeWindowOpen, challengeEnd=challenge_end):
        market.settleJob(job_id, sender=customer)
    chain.pending_timestamp = challenge_end
    before = credits.balanceOf(p1)
    tx = market.settleJob(job_id, sender=customer)
    settled = tx.events.filter(market.JobSettled)[0]
    assert (settled.providerGross, settled.refund) == (crd("13.2"), 0)
    assert credits.balanceOf(p1) == before + crd("13.068")  # 13.2 less 1%
    assert credits.balanceOf(market) == market.feesAccrued() == crd("0.22")  # 1% of 22, for the treasury
    assert registry.providerOf(p1).completed == 1
    assert market.offerOf(p1, H100).locked == 0
    assert market.statusOf(job_id) == SETTLED


def test_a_distributor_that_refuses_the_report_does_not_hold_the_settlement(
    market, rewards, credits, chain, admin, customer, providers
):
    """The rewards distributor is an immutable peer, so governance cannot unplug it; if it
    refuses the work report (here: the market's role revoked), the lease still settles and pays
    as usual (the provider its gross less the 1% fee), `WorkNotRecorded` says so, and the
    provider's activity is unchanged."""
    p1 = providers[0]
    job_id = _awaiting_settlement(market, chain, customer, p1)
    rewards.revokeRole(rewards.MARKET_ROLE(), market, sender=admin)
    before, activity = credits.balanceOf(p1), rewards.activityOf(p1)
    tx = market.settleJob(job_id, sender=customer)
    assert [log["jobId"] for log in tx.events.filter(market.WorkNotRecorded)] == [job_id]
    gross = tx.events.filter(market.JobSettled)[0].providerGross
    assert gross > 0 and credits.balanceOf(p1) == before + gross - gross // 100
    assert market.statusOf(job_id) == SETTLED
    assert rewards.activityOf(p1) == activity


def test_a_settlement_starved_of_gas_reverts_rather_than_skip_the_work_report(market, chain, customer, providers):
    """A caller cannot make the distributor's report run out of gas and the settlement go on
    without it (the catch would swallow the failure): with less than 250,000 gas left before
    the report the whole settlement reverts `GasTooLowForReport`, and with enough it records."""
    p1 = providers[0]
    job_id = _awaiting_settlement(market, chain, customer, p1)
    with ape.reverts(market.GasTooLowForReport):
        market.settleJob(job_id, sender=customer, gas=250_000)
    tx = market.settleJob(job_id, sender=customer, gas=600_000)
    assert not tx.events.filter(market.WorkNotRecorded)
    assert market.statusOf(job_id) == SETTLED


def test_fees_accrue_in_the_market_and_anyone_sends_them_to_the_treasury(
    market, credits, chain, admin, customer, providers, treasury, stranger
):
    """Two claims of 8.8 CRD gross each accrue 0.088 + 0.088 = 0.176 CRD of fees in the market
    (no transfer to the treasury per claim); a stranger's `withdrawFees` sends all 0.176 to the
    treasury set at that moment and nothing to itself; the market then holds only escrow."""
    p1 = providers[0]
    job_id = leased_job(market, chain, customer, p1)
    start = market.getJob(job_id).leaseStart
    chain.pending_timestamp = start + 5 * HOUR
    tx = market.claimEarnings(job_id, sender=p1)
    assert [log["to"] for log in tx.events.filter(credits.Transfer)] == [p1.address]  # the provider only
    chain.pending_timestamp = start + 10 * HOUR
    market.claimEarnings(job_id, sender=p1)
    assert market.feesAccrued() == crd("0.176")
    market.setTreasury(admin, sender=admin)
    before, own = credits.balanceOf(admin), credits.balanceOf(stranger)
    tx = market.withdrawFees(sender=stranger)
    event = tx.events.filter(market.FeesWithdrawn)[0]
    assert (event.treasury, event.amount) == (admin.address, crd("0.176"))
    assert credits.balanceOf(admin) == before + crd("0.176")
    assert credits.balanceOf(stranger) == own
    assert market.feesAccrued() == 0
    assert credits.balanceOf(market) == market.fundsOf(job_id).escrow  # the 4.4 CRD of holdback
    with ape.reverts(market.NoFeesAccrued):
        market.withdrawFees(sender=stranger)


def test_a_fee_free_job_pays_the_provider_everything_and_the_treasury_nothing(
    market, credits, chain, admin, customer, providers, treasury
):
    p1 = providers[0]
    market.setProtocolFeeBps(0, sender=admin)
    job_id = leased_job(market, chain, customer, p1)
    start = market.getJob(job_id).leaseStart
    chain.pending_timestamp = start + 10 * HOUR
    tx = market.submitResult(job_id, b"\x11" * 32, "ipfs://result", sender=p1)
    chain.pending_timestamp = tx.events.filter(market.ResultSubmitted)[0].challengeEnd
    before = credits.balanceOf(p1)
    tx = market.settleJob(job_id, sender=customer)
    assert tx.events.filter(market.EarningsClaimed)[0].fee == 0
    assert credits.balanceOf(p1) == before + crd(22)  # the whole lease, 2 GPUs x 10 h x 1.10
    assert market.feesAccrued() == 0
    with ape.reverts(market.NoFeesAccrued):
        market.withdrawFees(sender=customer)
    assert credits.balanceOf(market) == market.feesAccrued()  # only the treasury's fees
    with ape.reverts(market.WrongStatus, jobId=job_id, status=SETTLED):  # nothing left to claim
        market.claimEarnings(job_id, sender=p1)


def test_early_result_stops_the_lease_and_refunds_the_unused_time(market, credits, chain, customer, providers):
    p1 = providers[0]
    job_id = leased_job(market, chain, customer, p1)
    start = market.getJob(job_id).leaseStart
    chain.pending_timestamp = start + 4 * HOUR
    market.submitResult(job_id, b"\x11" * 32, "ipfs://r", sender=p1)
    chain.pending_timestamp += 86_400
    before = credits.balanceOf(customer)
    event = market.settleJob(job_id, sender=p1).events.filter(market.JobSettled)[0]
    assert (event.providerGross, event.refund) == (crd("8.8"), crd("13.2"))
    assert credits.balanceOf(customer) == before + crd("13.2")
