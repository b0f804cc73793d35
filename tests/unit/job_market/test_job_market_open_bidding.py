"""JobMarket: open auctions and who may bid (eligibility), and `placeBid`'s gas.

Numbers used throughout: CMP at 2.50 USD; a job of 2 GPUs for 10 hours with a max price of
2 CRD per GPU-hour escrows 40 CRD; the lease value at price p is 20p CRD; collateral is 30% of the
lease value at the max price (12 CRD: 4.8 CMP), whatever the bid
in CMP, 6p CRD / 2.5 = 2.4p CMP, and the registry lock adds 100 CMP per GPU.
"""

from __future__ import annotations

import ape
import pytest
from utils.helpers import A100, EU, H100, US
from utils.job_market import LEASED, crd, post

from compute_market.units import HOUR, to_wei


@pytest.fixture
def customer(_customer, fresh_price):
    fresh_price()
    return _customer


def test_open_auction_with_three_bidders(market, registry, credits, chain, customer, providers):
    p1, p2, p3 = providers
    job_id = post(market, chain, customer)
    market.placeBid(job_id, crd("1.80"), sender=p1)
    assert market.offerOf(p1, H100).locked == crd("4.8") + to_wei(200)  # 30% of 40 CRD at 2.50 + 2 * 100
    market.placeBid(job_id, crd("1.50"), sender=p2)
    assert market.offerOf(p1, H100).locked == 0  # outbid: released
    market.placeBid(job_id, crd("1.20"), sender=p3)
    with ape.reverts(market.BidNotLowEnough, price=crd("1.19"), maxAllowed=crd("1.188")):
        market.placeBid(job_id, crd("1.19"), sender=p1)
    tx = market.placeBid(job_id, crd("1.10"), sender=p1)
    assert tx.events.filter(market.BidPlaced)[0].collateral == crd("4.8")  # the same at any bid
    assert market.offerOf(p3, H100).locked == 0
    free = [market.offerOf(p, H100).provisioned - market.offerOf(p, H100).locked for p in (p2, p3)]
    assert free == [to_wei(10_000)] * 2

    with ape.reverts(market.BiddingNotOver):
        market.finalizeAuction(job_id, sender=customer)
    chain.pending_timestamp += HOUR
    before = credits.balanceOf(customer)
    tx = market.finalizeAuction(job_id, sender=p2)
    event = tx.events.filter(market.AuctionFinalized)[0]
    assert (event["provider"], event.clearingPrice, event.bids) == (p1.address, crd("1.10"), 4)
    assert event.refund == crd(18)  # 40 escrowed, lease value 1.10 * 2 * 10 = 22
    assert credits.balanceOf(customer) == before + crd(18)
    job = market.getJob(job_id)
    assert (job.status, market.fundsOf(job_id).escrow, job.price) == (LEASED, crd(22), crd("1.10"))
    assert credits.balanceOf(market) == crd(22)
    with ape.reverts(market.WrongStatus, jobId=job_id, status=LEASED):  # the auction is over
        market.placeBid(job_id, crd(1), sender=p2)


def test_bids_close_at_bidding_end(market, chain, customer, providers):
    job_id = post(market, chain, customer)
    chain.pending_timestamp += HOUR
    with ape.reverts(market.BiddingClosed):
        market.placeBid(job_id, crd(1), sender=providers[0])


def test_best_bidder_may_lower_its_own_bid(market, registry, chain, customer, providers):
    job_id = post(market, chain, customer)
    market.placeBid(job_id, crd("1.50"), sender=providers[0])
    market.placeBid(job_id, crd("1.00"), sender=providers[0])
    assert market.offerOf(providers[0], H100).locked == crd("4.8") + to_wei(200)
    assert market.getJob(job_id).price == crd(1)


def test_bid_above_max_price_reverts(market, chain, customer, providers):
    job_id = post(market, chain, customer)
    with ape.reverts(market.BidAboveMaxPrice, price=crd("2.01"), maxPrice=crd(2)):
        market.placeBid(job_id, crd("2.01"), sender=providers[0])
    with ape.reverts(market.ZeroPrice):
        market.placeBid(job_id, 0, sender=providers[0])


def test_a_bidder_without_an_offer_reverts(market, chain, customer, stranger):
    """An account that never offered the model (so never registered and provisioned for it)."""
    job_id = post(market, chain, customer)
    with ape.reverts(market.GpuModelNotOffered, gpuModel=H100):
        market.placeBid(job_id, crd(1), sender=stranger)


def test_under_staked_bidder_reverts(market, registry, chain, customer, accounts, make_provider):
    poor = make_provider(accounts[14], stake=to_wei(200))
    job_id = post(market, chain, customer)
    with ape.reverts(market.NotEnoughProvision, have=to_wei(200), need=to_wei(200) + crd("4.8")):
        market.placeBid(job_id, crd(1), sender=poor)


def test_wrong_gpu_model_reverts(market, chain, customer, accounts, make_provider):
    a100_only = make_provider(accounts[14], model=A100)
    job_id = post(market, chain, customer)
    with ape.reverts(market.GpuModelNotOffered, gpuModel=H100):
        market.placeBid(job_id, crd(1), sender=a100_only)


def test_too_little_vram_reverts(market, chain, customer, providers):
    job_id = post(market, chain, customer, vram=96)
    with ape.reverts(market.InsufficientVram, have=80, need=96):
        market.placeBid(job_id, crd(1), sender=providers[0])


def test_wrong_region_reverts(market, chain, customer, providers):
    job_id = post(market, chain, customer, region=US)
    with ape.reverts(market.WrongRegion, have=EU, need=US):
        market.placeBid(job_id, crd(1), sender=providers[0])
    job_id = post(market, chain, customer, region=EU)
    market.placeBid(job_id, crd(1), sender=providers[0])


def test_low_reputation_reverts(market, chain, customer, providers):
    job_id = post(market, chain, customer, min_rep=6_000)  # newcomers score 5,000
    with ape.reverts(market.ReputationTooLow, have=5_000, need=6_000):
        market.placeBid(job_id, crd(1), sender=providers[0])


def test_too_few_free_gpus_reverts(market, registry, chain, customer, providers):
    job_id = post(market, chain, customer, gpus=9)
    with ape.reverts(market.InsufficientCapacity, available=8, requested=9):
        market.placeBid(job_id, crd(1), sender=providers[0])


def test_customer_cannot_bid_on_its_own_job(market, chain, accounts, make_provider, make_customer):
    both = make_customer(make_provider(accounts[15]))
    job_id = post(market, chain, both)
    with ape.reverts(market.SelfBid):
        market.placeBid(job_id, crd(1), sender=both)


def test_place_bid_gas_is_the_same_after_1_and_after_200_prior_bids(market, chain, customer, providers):
    """O(1) bidding: the 2nd bid (1 prior) and the 201st (200 prior) cost the same within 5%."""
    p1, p2 = providers[0], providers[1]
    job_id = post(market, chain, customer, bidding=86_400)
    price = crd(2)
    gas = []
    for i in range(201):
        tx = market.placeBid(job_id, price, sender=(p1, p2)[i % 2])
        gas.append(tx.gas_used)
        price = price * 99 // 100
    after_one, after_two_hundred = gas[1], gas[200]
    assert abs(after_two_hundred - after_one) <= after_one * 5 // 100, (after_one, after_two_hundred)
    assert market.getJob(job_id).bidCount == 201
