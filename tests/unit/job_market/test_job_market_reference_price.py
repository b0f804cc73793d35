"""JobMarket: the reference price (an EMA with nudges).

Numbers used throughout: CMP at 2.50 USD; a job of 2 GPUs for 10 hours with a max price of
2 CRD per GPU-hour escrows 40 CRD; the lease value at price p is 20p CRD; collateral is 30% of the
lease value at the max price (12 CRD: 4.8 CMP), whatever the bid
in CMP, 6p CRD / 2.5 = 2.4p CMP, and the registry lock adds 100 CMP per GPU.
"""

from __future__ import annotations

import pytest
from utils.helpers import A100, H100
from utils.job_market import crd, post, sealed_auction

from compute_market.units import HOUR


@pytest.fixture
def customer(_customer, fresh_price):
    fresh_price()
    return _customer


def test_reference_price_is_an_ema_with_nudges(market, chain, customer, providers, fresh_price):
    p1, p2 = providers[0], providers[1]
    # An unbid job with no history sets the reference at its max price.
    fresh_price()  # posting prices the collateral at the oracle
    job_id = post(market, chain, customer)
    chain.pending_timestamp += HOUR
    market.finalizeAuction(job_id, sender=customer)
    assert market.referencePrice(H100) == crd(2)
    # A second unbid job nudges it up by 1/8.
    fresh_price()  # posting prices the collateral at the oracle
    job_id = post(market, chain, customer)
    chain.pending_timestamp += HOUR
    market.finalizeAuction(job_id, sender=customer)
    assert market.referencePrice(H100) == crd("2.25")
    # A third says nothing new: the index never rises past 9/8 of the unbid max price.
    fresh_price()  # posting prices the collateral at the oracle
    job_id = post(market, chain, customer)
    chain.pending_timestamp += HOUR
    tx = market.finalizeAuction(job_id, sender=customer)
    assert not tx.events.filter(market.ReferencePriceUpdated)
    assert market.referencePrice(H100) == crd("2.25")
    # A clearing price of 1.00 with one bid: EMA (7 * 2.25 + 1) / 8 = 2.09375.
    fresh_price()
    job_id = post(market, chain, customer)
    market.placeBid(job_id, crd(1), sender=p1)
    chain.pending_timestamp += HOUR
    market.finalizeAuction(job_id, sender=customer)
    assert market.referencePrice(H100) == crd("2.09375")
    # Five undercuts between two providers in an open auction: an outcome like any other, the
    # plain EMA (v1 counted every undercut as a bid and nudged the index down by 2/24).
    fresh_price()
    job_id = post(market, chain, customer)
    price = crd("1.9")
    for i in range(5):
        market.placeBid(job_id, price, sender=(p1, p2)[i % 2])
        price = price * 98 // 100
    chain.pending_timestamp += HOUR
    clearing = market.finalizeAuction(job_id, sender=customer).events.filter(market.AuctionFinalized)[0]
    ema = (crd("2.09375") * 7 + clearing.clearingPrice) // 8
    assert market.referencePrice(H100) == ema
    assert market.referencePrice(A100) == 0


def test_many_sealed_bidders_nudge_the_reference_down(market, chain, admin, customer, providers, fresh_price):
    """Three providers reveal against a target of one bidder: the EMA of the 1.50 clearing price
    (the second price) is nudged down by one eighth, the most excess counts for."""
    market.setTargetBidsPerJob(1, sender=admin)
    job_id = post(market, chain, customer, sealed=True)
    sealed_auction(market, chain, job_id, providers, ["1.20", "1.50", "1.70"], customer)
    assert market.referencePrice(H100) == crd("1.5") - crd("1.5") // 8


def test_the_nudge_target_is_the_one_in_force_when_the_job_was_posted(
    market, chain, admin, customer, providers, fresh_price
):
    """A job posted under a target of one bidder and closed after governance raised it to 100:
    its three reveals are still above that target (the excess counts up to the target itself,
    one), so the 1.50 clearing price enters the index an eighth lower, 1.50 - 1.50/8 = 1.3125.
    The job keeps the target in the slot every call reads (its `targetBids`), which spares the
    close a cold read of the parameter; before, the close read the target of the day and
    entered 1.50 unchanged."""
    market.setTargetBidsPerJob(1, sender=admin)
    job_id = post(market, chain, customer, sealed=True)
    market.setTargetBidsPerJob(100, sender=admin)
    sealed_auction(market, chain, job_id, providers, ["1.20", "1.50", "1.70"], customer)
    assert market.referencePrice(H100) == crd("1.3125")
    assert market.getJob(job_id).targetBids == 1
    # a job posted now keeps the new target
    fresh_price()  # posting prices the collateral at the oracle
    assert market.getJob(post(market, chain, customer, sealed=True)).targetBids == 100


def test_a_steady_clearing_price_with_many_sealed_bidders_keeps_the_reference_at_seven_eighths(
    market, chain, admin, customer, providers, fresh_price
):
    """Four sealed jobs in a row, each cleared at 1.50 (the second price) with three reveals
    against a target of one: every outcome enters the index at 1.50 - 1/8 = 1.3125, so the
    index stays at 1.3125 after each. Before, the nudge was taken off the index itself every
    time and compounded: 1.3125, 1.1689, 1.0590, 0.9789, on its way to 7/15 of 1.50 (0.70), so
    anyone could drag the index down with throwaway reveals that cost only gas."""
    market.setTargetBidsPerJob(1, sender=admin)
    prices = ["1.20", "1.50", "1.70"]
    for _ in range(4):
        fresh_price()  # posting prices the collateral at the oracle
        job_id = post(market, chain, customer, sealed=True)
        sealed_auction(market, chain, job_id, providers, prices, customer)
        assert market.referencePrice(H100) == crd("1.3125")
        # the winner runs nothing here: cancel the lease so its GPUs are free for the next job
        market.cancelJob(job_id, sender=customer)


def test_unbid_jobs_raise_the_reference_by_an_eighth_up_to_nine_eighths_of_their_price(
    market, chain, customer, providers, fresh_price
):
    fresh_price()  # posting prices the collateral at the oracle
    job_id = post(market, chain, customer)
    market.placeBid(job_id, crd(1), sender=providers[0])
    chain.pending_timestamp += HOUR
    market.finalizeAuction(job_id, sender=customer)
    assert market.referencePrice(H100) == crd(1)
    # A lowball job nobody bid on (0.50 < 1.00) leaves the index alone.
    fresh_price()  # posting prices the collateral at the oracle
    job_id = post(market, chain, customer, max_price=crd("0.5"))
    chain.pending_timestamp += HOUR
    market.finalizeAuction(job_id, sender=customer)
    assert market.referencePrice(H100) == crd(1)
    # Unbid jobs at 1.20: +1/8 to 1.125, then capped at 9/8 of 1.20 = 1.35, then no higher.
    expected = [crd("1.125"), crd("1.265625"), crd("1.35"), crd("1.35")]
    for want in expected:
        fresh_price()  # posting prices the collateral at the oracle
        job_id = post(market, chain, customer, max_price=crd("1.2"))
        chain.pending_timestamp += HOUR
        market.finalizeAuction(job_id, sender=customer)
        assert market.referencePrice(H100) == want
