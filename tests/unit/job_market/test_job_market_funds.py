"""JobMarket: the escrow and the pay released, derived from the job (`fundsOf`), not stored.

A job keeps neither: while bidding its escrow is the lease at the max price, during the lease
the lease at the clearing price less the pay released, and the pay released is what had accrued
at the provider's last paying claim less the holdback (the job keeps only that claim's time,
`paidUntil`). These tests hold the derivation to what was actually paid, to the wei.

Numbers: a verified job of 2 GPUs for 10 hours at a max of 2 CRD per GPU-hour escrows 40 CRD
and a 2 CRD verification fee; bid 1.10, the lease is worth 22 CRD; holdback 20%, fee 1%.
"""

from __future__ import annotations

import pytest
from utils.job_market import crd, leased_job, post

from compute_market.units import HOUR


@pytest.fixture
def customer(_customer, fresh_price):
    fresh_price()
    return _customer


def _gross(market, tx) -> int:
    """Credits a transaction released to the provider, fee included (its `EarningsClaimed`)."""
    return sum(e.net + e.fee for e in tx.events.filter(market.EarningsClaimed))


def test_funds_follow_the_job_from_posting_to_settlement(market, credits, chain, customer, providers):
    """Bidding: (42, 0). Leased at 1.10: (24, 0). A claim at 2.5 h: accrued 5.5, released 4.4:
    (19.6, 4.4). A result at 5 h ends the lease: a claim then releases 80% of 11, (15.2, 8.8).
    The settlement pays the other 2.2 and refunds the rest: (0, 11), and the market holds nothing
    for the job (no verifier was drawn: the fee goes back to the customer too)."""
    p1 = providers[0]
    job_id = leased_job(market, chain, customer, p1, verification=True)
    assert tuple(market.fundsOf(job_id)) == (crd(24), 0)
    start = market.getJob(job_id).leaseStart
    chain.pending_timestamp = start + 5 * HOUR // 2
    tx = market.claimEarnings(job_id, sender=p1)
    assert _gross(market, tx) == crd("4.4")
    assert tuple(market.fundsOf(job_id)) == (crd("19.6"), crd("4.4"))
    assert market.getJob(job_id).paidUntil == start + 5 * HOUR // 2
    chain.pending_timestamp = start + 5 * HOUR
    market.submitResult(job_id, b"\x01" * 32, "r", sender=p1)
    chain.pending_timestamp += HOUR  # past the early end: pay stopped accruing at 5 h
    market.claimEarnings(job_id, sender=p1)
    assert tuple(market.fundsOf(job_id)) == (crd("15.2"), crd("8.8"))
    chain.pending_timestamp += 86_400
    before = credits.balanceOf(customer)
    tx = market.settleJob(job_id, sender=customer)
    assert _gross(market, tx) == crd("2.2")
    assert credits.balanceOf(customer) - before == crd(13)  # 24 less the 11 of pay
    assert tuple(market.fundsOf(job_id)) == (0, crd(11))
    assert credits.balanceOf(market) == market.feesAccrued()


def test_a_bidding_job_holds_the_lease_at_the_max_price(market, chain, customer, providers):
    """Posted, outbid and expired: (42, 0) while bidding, whatever the bids; (0, 0) once it
    expires unleased (its 40 went back), as for a job never posted."""
    job_id = post(market, chain, customer, verification=True)
    assert tuple(market.fundsOf(job_id)) == (crd(42), 0)
    market.placeBid(job_id, crd("1.50"), sender=providers[0])
    assert tuple(market.fundsOf(job_id)) == (crd(42), 0)
    expired = post(market, chain, customer)
    chain.pending_timestamp += HOUR
    market.finalizeAuction(expired, sender=customer)
    assert tuple(market.fundsOf(expired)) == (0, 0)
    assert tuple(market.fundsOf(10**9)) == (0, 0)  # never posted


def test_irregular_claims_release_exactly_what_the_derivation_says(market, credits, chain, customer, providers):
    """Seven claims at odd seconds (each rounds down): after each, the pay released is the sum of
    what the claims released, to the wei, and the escrow plus it is the 22 CRD lease; a second
    claim within the same second releases nothing. A cancellation then
    pays the rest of what accrued and refunds the remainder: the market holds only the fees."""
    p1 = providers[0]
    job_id = leased_job(market, chain, customer, p1)
    start = market.getJob(job_id).leaseStart
    released = 0
    for offset in (1, 7, 613, 3_001, 3_002, 9_999, 17_777):
        chain.pending_timestamp = start + offset
        released += _gross(market, market.claimEarnings(job_id, sender=p1))
        funds = market.fundsOf(job_id)
        assert funds.paidGross == released
        assert funds.escrow + funds.paidGross == crd(22)
        assert credits.balanceOf(market) == funds.escrow + market.feesAccrued()
    until = market.getJob(job_id).paidUntil
    chain.pending_timestamp = until  # the same second as the last claim
    assert _gross(market, market.claimEarnings(job_id, sender=p1)) == 0
    chain.pending_timestamp = start + 5 * HOUR
    tx = market.cancelJob(job_id, sender=customer)
    assert released + _gross(market, tx) == crd(11)  # all that accrued by the cancellation
    assert tuple(market.fundsOf(job_id)) == (0, crd(11))
    assert credits.balanceOf(market) == market.feesAccrued()


def test_a_failed_lease_paid_only_what_was_claimed(market, credits, chain, customer, providers):
    """A claim at 2 h releases 80% of 4.4; the provider then sends no result. The slash for the
    failure refunds the whole rest of the escrow (22 less 3.52) and the job shows 3.52 paid."""
    p1 = providers[0]
    job_id = leased_job(market, chain, customer, p1)
    start = market.getJob(job_id).leaseStart
    chain.pending_timestamp = start + 2 * HOUR
    market.claimEarnings(job_id, sender=p1)
    assert tuple(market.fundsOf(job_id)) == (crd("18.48"), crd("3.52"))
    chain.pending_timestamp = start + 10 * HOUR + int(market.getJob(job_id).resultGrace) + 1
    before = credits.balanceOf(customer)
    market.slashForFailure(job_id, sender=providers[1])
    assert credits.balanceOf(customer) - before == crd("18.48")
    assert tuple(market.fundsOf(job_id)) == (0, crd("3.52"))
    assert credits.balanceOf(market) == market.feesAccrued()
