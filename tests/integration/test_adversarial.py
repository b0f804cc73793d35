"""Adversarial suite: what an attacker or a careless operator could try, and why it fails."""

from __future__ import annotations

import ape
from utils.helpers import H100, job_spec

from compute_market.commitments import commitment_for
from compute_market.units import DAY, HOUR, to_wei

ZERO = "0x0000000000000000000000000000000000000000"


def test_a_reentrant_price_feed_cannot_change_state_mid_mint(project, credits, token, admin, alice, fund):
    """Oracle reads are view calls (STATICCALL): a feed that re-enters gets nowhere."""
    attacker = project.ReentrantPriceFeed.deploy(credits, sender=admin)
    credits.setPriceFeed(attacker, sender=admin)
    fund(alice, to_wei(100))
    token.approve(credits, to_wei(100), sender=alice)
    credits.mintWithTokens(to_wei(100), 0, alice, sender=alice)  # the feed's re-entry attempt failed inside
    assert credits.balanceOf(alice) == to_wei("248.75")


# Strangers on every gated function: tests/sdk/test_permissions.py, from the permission map.


def test_bid_griefing_costs_the_griefer_and_cannot_stall_the_auction(
    market, registry, chain, accounts, make_provider, make_customer, fresh_price
):
    """Each outbid must take 1% off: 100 outbids drive the price down 63%, each bid locks fresh
    collateral, and a tiny undercut is refused."""
    customer = make_customer(accounts[10])
    honest, griefer = make_provider(accounts[11]), make_provider(accounts[12])
    fresh_price()
    job_id = market.postJob(job_spec(chain, bidding=DAY), sender=customer).events.filter(market.JobPosted)[0].jobId
    market.placeBid(job_id, to_wei(2), sender=honest)
    with ape.reverts(market.BidNotLowEnough):
        market.placeBid(job_id, to_wei(2) - 1, sender=griefer)  # one wei less: refused
    price = to_wei(2)
    for i in range(100):
        price = price * 99 // 100
        market.placeBid(job_id, price, sender=(griefer, honest)[i % 2])
    assert market.getJob(job_id).price < to_wei(2) * 37 // 100
    # Only the best bidder holds a lock: the outbid party's offer holds none.
    loser = honest if market.getJob(job_id).provider == griefer.address else griefer
    assert market.offerOf(loser, H100).locked == 0


def test_pausing_everything_never_traps_funds(
    protocol, chain, admin, accounts, make_provider, make_customer, make_verifier, fresh_price
):
    p = protocol
    customer = make_customer(accounts[10])
    provider = make_provider(accounts[11])
    verifier = make_verifier(accounts[20])
    fresh_price()
    bidding = p.market.postJob(job_spec(chain, bidding=2 * HOUR), sender=customer).events[-1].jobId
    sealed = p.market.postJob(job_spec(chain, sealed=True, bidding=2 * HOUR), sender=customer).events[-1].jobId
    p.market.commitBid(sealed, commitment_for(sealed, provider, to_wei(1), b"s"), sender=provider)
    leased = p.market.postJob(job_spec(chain), sender=customer).events[-1].jobId
    p.market.placeBid(leased, to_wei(1), sender=provider)
    chain.pending_timestamp += HOUR
    p.market.finalizeAuction(leased, sender=customer)
    for contract in (p.credits, p.registry, p.market, p.resolver, p.rewards):
        contract.pause(sender=admin)
    # Every party still gets out: customer refunds, provider pay, bonds, stakes, credits.
    p.market.cancelJob(bidding, sender=customer)
    p.market.cancelJob(sealed, sender=customer)
    p.market.settleCommitment(sealed, provider, sender=provider)
    chain.pending_timestamp += 5 * HOUR
    p.market.claimEarnings(leased, sender=provider)
    p.market.submitResult(leased, b"\x01" * 32, "r", sender=provider)
    chain.pending_timestamp += DAY
    p.market.settleJob(leased, sender=customer)
    assert p.credits.balanceOf(p.market) == p.market.feesAccrued()  # only the treasury's fees
    fresh_price()
    p.credits.redeem(to_wei(10), 0, customer, sender=customer)
    # The provision comes back from the market (its offers are not stopped by pause), then unbonds.
    assert p.market.offerOf(provider, H100).locked == 0
    p.market.setOffer(H100, 0, 0, 0, sender=provider)
    assert p.registry.providerOf(provider).provisioned == 0
    p.registry.requestUnstake(p.registry.freeStakeOf(provider), sender=provider)
    p.registry.requestVerifierUnstake(to_wei(1_000), sender=verifier)
    chain.pending_timestamp += 7 * DAY
    p.registry.withdrawUnstaked(sender=provider)
    p.registry.withdrawVerifierStake(sender=verifier)
    assert p.token.balanceOf(p.registry) == 0
    assert p.token.balanceOf(p.resolver) == 0
    # New business, on the other hand, is refused.
    with ape.reverts(p.market.EnforcedPause):
        p.market.postJob(job_spec(chain), sender=customer)
