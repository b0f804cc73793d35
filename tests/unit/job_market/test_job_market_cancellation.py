"""JobMarket: cancellation and expiry, refunds to the wei.

Numbers used throughout: CMP at 2.50 USD; a job of 2 GPUs for 10 hours with a max price of
2 CRD per GPU-hour escrows 40 CRD; the lease value at price p is 20p CRD; collateral is 30% of the
lease value at the max price (12 CRD: 4.8 CMP), whatever the bid
in CMP, 6p CRD / 2.5 = 2.4p CMP, and the registry lock adds 100 CMP per GPU.
"""

from __future__ import annotations

import ape
import pytest
from utils.helpers import H100
from utils.job_market import CANCELLED, EXPIRED, crd, leased_job, post

from compute_market.units import HOUR


@pytest.fixture
def customer(_customer, fresh_price):
    fresh_price()
    return _customer


def test_job_with_no_bids_expires_and_refunds_in_full(market, credits, chain, customer):
    before = credits.balanceOf(customer)
    job_id = post(market, chain, customer)
    chain.pending_timestamp += HOUR
    tx = market.finalizeAuction(job_id, sender=customer)
    assert tx.events.filter(market.JobExpired)[0].refund == crd(40)
    assert credits.balanceOf(customer) == before
    assert market.statusOf(job_id) == EXPIRED
    assert market.fundsOf(job_id).escrow == 0
    with ape.reverts(market.WrongStatus):
        market.finalizeAuction(job_id, sender=customer)


def test_cancellation_halfway_splits_accrued_and_unspent_to_the_wei(
    market, registry, credits, chain, customer, providers, treasury
):
    p1 = providers[0]
    job_id = leased_job(market, chain, customer, p1, price="1.37")  # value 27.4 CRD
    start = market.getJob(job_id).leaseStart
    chain.pending_timestamp = start + 5 * HOUR
    customer_before, provider_before = credits.balanceOf(customer), credits.balanceOf(p1)
    tx = market.cancelJob(job_id, sender=customer)
    event = tx.events.filter(market.JobCancelled)[0]
    assert (event.providerGross, event.refund) == (crd("13.7"), crd("13.7"))
    assert credits.balanceOf(customer) == customer_before + crd("13.7")
    assert credits.balanceOf(p1) == provider_before + crd("13.563")  # 13.7 less 1%
    assert credits.balanceOf(market) == market.feesAccrued()  # only the treasury's fees
    assert market.offerOf(p1, H100).locked == 0
    assert market.statusOf(job_id) == CANCELLED


def test_a_verified_lease_cancelled_halfway_refunds_the_unearned_verification_fee(
    market, credits, chain, customer, providers
):
    """The same lease with verification: 40 CRD at the max price plus its 5% fee (2 CRD) were
    escrowed; the auction kept 27.4 + 2; halfway, the provider gets 13.7 and the customer the
    other 13.7 and the fee nobody earned."""
    p1 = providers[0]
    job_id = leased_job(market, chain, customer, p1, price="1.37", verification=True)
    assert (market.fundsOf(job_id).escrow, market.getJob(job_id).verificationFee) == (crd("29.4"), crd(2))
    start = market.getJob(job_id).leaseStart
    chain.pending_timestamp = start + 5 * HOUR
    tx = market.cancelJob(job_id, sender=customer)
    event = tx.events.filter(market.JobCancelled)[0]
    assert (event.providerGross, event.refund) == (crd("13.7"), crd("15.7"))
    assert credits.balanceOf(market) == market.feesAccrued()  # only the treasury's fees


def test_cancellation_at_an_odd_second_splits_exactly(market, credits, chain, customer, providers):
    p1 = providers[0]
    job_id = leased_job(market, chain, customer, p1, price="1.37")
    start = market.getJob(job_id).leaseStart
    chain.pending_timestamp = start + 12_345
    event = market.cancelJob(job_id, sender=customer).events.filter(market.JobCancelled)[0]
    value = crd("27.4")
    accrued = value * 12_345 // (10 * HOUR)
    assert (event.providerGross, event.refund) == (accrued, value - accrued)
    assert credits.balanceOf(market) == market.feesAccrued()  # only the treasury's fees


def test_cancel_while_bidding_refunds_everything_and_releases_the_best_bidder(
    market, registry, credits, chain, customer, providers
):
    before = credits.balanceOf(customer)
    job_id = post(market, chain, customer)
    market.placeBid(job_id, crd(1), sender=providers[0])
    market.cancelJob(job_id, sender=customer)
    assert credits.balanceOf(customer) == before
    assert market.offerOf(providers[0], H100).locked == 0
    with ape.reverts(market.NotCustomer):
        market.cancelJob(job_id, sender=providers[0])


def test_cancel_after_the_lease_ran_out_reverts(market, chain, customer, providers):
    job_id = leased_job(market, chain, customer, providers[0])
    chain.pending_timestamp = market.getJob(job_id).leaseStart + 10 * HOUR
    with ape.reverts(market.LeaseOver):
        market.cancelJob(job_id, sender=customer)
