"""JobMarket: leases and what a provider earns and claims while serving.

Numbers used throughout: CMP at 2.50 USD; a job of 2 GPUs for 10 hours with a max price of
2 CRD per GPU-hour escrows 40 CRD; the lease value at price p is 20p CRD; collateral is 30% of the
lease value at the max price (12 CRD: 4.8 CMP), whatever the bid
in CMP, 6p CRD / 2.5 = 2.4p CMP, and the registry lock adds 100 CMP per GPU.
"""

from __future__ import annotations

import ape
import pytest
from utils.job_market import crd, leased_job, post

from compute_market.units import HOUR


@pytest.fixture
def customer(_customer, fresh_price):
    fresh_price()
    return _customer


def test_claim_earnings_pays_accrued_less_holdback_and_fee(market, credits, chain, customer, providers, treasury):
    p1 = providers[0]
    job_id = leased_job(market, chain, customer, p1)  # 22 CRD over 10 hours, 20% holdback
    start = market.getJob(job_id).leaseStart
    chain.pending_timestamp = start + 5 * HOUR
    before, fees = credits.balanceOf(p1), market.feesAccrued()
    tx = market.claimEarnings(job_id, sender=p1)
    event = tx.events.filter(market.EarningsClaimed)[0]
    # accrued 11, releasable 80% = 8.8, fee 1% = 0.088, accrued in the market for the treasury
    assert (event.net, event.fee) == (crd("8.712"), crd("0.088"))
    assert credits.balanceOf(p1) == before + crd("8.712")
    assert market.feesAccrued() == fees + crd("0.088")
    assert market.fundsOf(job_id).escrow == crd("13.2")
    with ape.reverts(market.NotProvider):
        market.claimEarnings(job_id, sender=customer)


def test_earnings_of_a_lease_are_accrued_pay_and_what_is_claimable(market, chain, customer, providers):
    p1 = providers[0]
    bidding = post(market, chain, customer)
    assert market.earningsOf(bidding) == (0, 0)
    job_id = leased_job(market, chain, customer, p1)  # 22 CRD over 10 hours, 20% holdback
    chain.pending_timestamp = market.getJob(job_id).leaseStart + 5 * HOUR
    chain.mine()
    assert market.earningsOf(job_id) == (crd(11), crd("8.8"))
    chain.pending_timestamp = market.getJob(job_id).leaseStart + 5 * HOUR + 1
    market.claimEarnings(job_id, sender=p1)
    assert market.earningsOf(job_id).claimable == 0  # nothing new within the same second


def test_only_the_provider_submits_or_abandons_and_only_while_leased(market, chain, customer, providers):
    p1 = providers[0]
    job_id = leased_job(market, chain, customer, p1)
    with ape.reverts(market.NotProvider):
        market.submitResult(job_id, b"\x01" * 32, "r", sender=providers[1])
    chain.pending_timestamp = market.getJob(job_id).leaseStart + 10 * HOUR
    market.submitResult(job_id, b"\x01" * 32, "r", sender=p1)
    with ape.reverts(market.WrongStatus):
        market.submitResult(job_id, b"\x02" * 32, "r", sender=p1)
    with ape.reverts(market.WrongStatus):
        market.abandonJob(job_id, sender=p1)
