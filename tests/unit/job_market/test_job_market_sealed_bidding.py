"""JobMarket: sealed auctions (commit, reveal, second price, ties, forfeited bonds).

Numbers used throughout: CMP at 2.50 USD; a job of 2 GPUs for 10 hours with a max price of
2 CRD per GPU-hour escrows 40 CRD; the lease value at price p is 20p CRD; collateral is 30% of the
lease value at the max price (12 CRD: 4.8 CMP), whatever the bid
in CMP, 6p CRD / 2.5 = 2.4p CMP, and the registry lock adds 100 CMP per GPU.
"""

from __future__ import annotations

from decimal import Decimal

import ape
import pytest
from utils.helpers import H100
from utils.job_market import EXPIRED, commit, crd, post

from compute_market.commitments import commitment_for
from compute_market.gastrace import trace_transaction
from compute_market.units import DAY, HOUR, to_wei, usd_to_feed


@pytest.fixture
def customer(_customer, fresh_price):
    fresh_price()
    return _customer


def big_sealed_job(market, chain, customer) -> int:
    """A sealed job whose collateral is above the 10 CMP `bidBond`: 8 GPUs for 24 hours at up to
    2.50 CRD escrows 480 CRD; 30% of it is 144 CRD, 57.6 CMP at 2.50 USD."""
    job_id = post(market, chain, customer, sealed=True, gpus=8, hours=24, max_price=crd("2.50"))
    assert market.getJob(job_id).collateral == to_wei("57.6")
    return job_id


def test_sealed_auction_winner_is_paid_the_second_price(
    market, registry, credits, chain, customer, providers, fresh_price
):
    p1, p2, p3 = providers
    job_id = post(market, chain, customer, sealed=True)
    bids = {p1: crd("1.50"), p2: crd("1.20"), p3: crd("1.70")}
    for p, price in bids.items():
        commit(market, job_id, p, price, b"salt-" + bytes(p.address[-4:], "ascii"))
    assert market.offerOf(p1, H100).locked == to_wei(10) + to_wei(200)  # bid bond + per-GPU stake
    with ape.reverts(market.RevealNotOpen):
        market.revealBid(job_id, bids[p1], b"salt-" + bytes(p1.address[-4:], "ascii"), sender=p1)
    chain.pending_timestamp += HOUR
    fresh_price()
    for p, price in bids.items():
        market.revealBid(job_id, price, b"salt-" + bytes(p.address[-4:], "ascii"), sender=p)
    assert market.offerOf(p1, H100).locked == market.offerOf(p3, H100).locked == 0
    # the job's collateral (the 10 CMP bid bond, above 30% of this small lease at the max price,
    # 4.8 CMP): the commitment's lock, kept as the bid's
    assert market.offerOf(p2, H100).locked == to_wei(10) + to_wei(200)
    with ape.reverts(market.BiddingNotOver):
        market.finalizeAuction(job_id, sender=customer)
    chain.pending_timestamp += HOUR
    tx = market.finalizeAuction(job_id, sender=customer)
    event = tx.events.filter(market.AuctionFinalized)[0]
    assert (event["provider"], event.clearingPrice, event.refund) == (p2.address, crd("1.50"), crd(10))
    assert market.fundsOf(job_id).escrow == crd(30)


def test_sealed_auction_alone_is_paid_the_max_price(market, chain, customer, providers, fresh_price):
    job_id = post(market, chain, customer, sealed=True)
    commit(market, job_id, providers[0], crd("0.90"), b"s")
    chain.pending_timestamp += HOUR
    fresh_price()
    market.revealBid(job_id, crd("0.90"), b"s", sender=providers[0])
    chain.pending_timestamp += HOUR
    tx = market.finalizeAuction(job_id, sender=customer)
    assert tx.events.filter(market.AuctionFinalized)[0].clearingPrice == crd(2)


def test_during_reveals_the_job_shows_what_the_best_bidder_would_be_paid(
    market, chain, customer, providers, fresh_price
):
    """`price` is what the best bidder would be paid if the auction closed now and `bestBid` its
    own price. Reveals of 1.50, 1.70 and 1.20 against a 2 CRD max: after the first, 2 (alone it
    is paid the max) and 1.50; after 1.70, 1.70 (the second price now) and 1.50; after 1.20,
    1.50 (the previous best becomes the second price) and 1.20. The close then pays `price` as
    it stands (that it reads no parameter, and of the job only the slots it needs, is
    `test_a_sealed_close_reads_no_parameter`). Before, `price` was the
    best bid's own and the second price sat in the bidding's record, read and copied at the
    close."""
    p1, p2, p3 = providers
    job_id = post(market, chain, customer, sealed=True)
    bids = [(p1, crd("1.50")), (p2, crd("1.70")), (p3, crd("1.20"))]
    for p, price in bids:
        commit(market, job_id, p, price, b"s")
    chain.pending_timestamp += HOUR
    fresh_price()
    shown = []
    for p, price in bids:
        market.revealBid(job_id, price, b"s", sender=p)
        job = market.getJob(job_id)
        shown.append((job.provider, job.price, job.bestBid))
    assert shown == [
        (p1.address, crd(2), crd("1.50")),
        (p1.address, crd("1.70"), crd("1.50")),
        (p3.address, crd("1.50"), crd("1.20")),
    ]
    chain.pending_timestamp += HOUR
    event = market.finalizeAuction(job_id, sender=customer).events.filter(market.AuctionFinalized)[0]
    assert (event["provider"], event.clearingPrice) == (p3.address, crd("1.50"))
    assert (market.getJob(job_id).price, market.getJob(job_id).bestBid) == (crd("1.50"), crd("1.20"))


def test_sealed_tie_is_broken_by_reputation(market, registry, chain, admin, customer, providers, fresh_price):
    low, high = providers[0], providers[1]
    registry.grantRole(registry.MARKET_ROLE(), admin, sender=admin)
    registry.recordOutcome(high, 0, 0, [], [], sender=admin)  # a completion elsewhere: 6,666 > 5,000
    job_id = post(market, chain, customer, sealed=True)
    commit(market, job_id, low, crd(1), b"a")  # earlier commitment, lower reputation
    commit(market, job_id, high, crd(1), b"b")
    chain.pending_timestamp += HOUR
    fresh_price()
    market.revealBid(job_id, crd(1), b"a", sender=low)
    tx = market.revealBid(job_id, crd(1), b"b", sender=high)
    assert tx.events.filter(market.BidRevealed)[0].isBest
    chain.pending_timestamp += HOUR
    event = market.finalizeAuction(job_id, sender=customer).events.filter(market.AuctionFinalized)[0]
    assert (event["provider"], event.clearingPrice) == (high.address, crd(1))


def test_sealed_tie_with_equal_reputation_goes_to_the_earlier_commitment(
    market, chain, customer, providers, fresh_price
):
    first, second = providers[0], providers[1]
    job_id = post(market, chain, customer, sealed=True)
    commit(market, job_id, first, crd(1), b"a")
    commit(market, job_id, second, crd(1), b"b")
    chain.pending_timestamp += HOUR
    fresh_price()
    market.revealBid(job_id, crd(1), b"b", sender=second)  # reveals first, committed later
    tx = market.revealBid(job_id, crd(1), b"a", sender=first)
    assert tx.events.filter(market.BidRevealed)[0].isBest
    assert market.getJob(job_id).provider == first.address


def test_reveal_with_the_wrong_salt_or_price_reverts(market, chain, customer, providers):
    job_id = post(market, chain, customer, sealed=True)
    commit(market, job_id, providers[0], crd(1), b"right")
    chain.pending_timestamp += HOUR
    with ape.reverts(market.InvalidReveal):
        market.revealBid(job_id, crd(1), b"wrong", sender=providers[0])
    with ape.reverts(market.InvalidReveal):
        market.revealBid(job_id, crd("0.9"), b"right", sender=providers[0])
    with ape.reverts(market.NoCommitment):
        market.revealBid(job_id, crd(1), b"right", sender=providers[1])


def test_commitments_close_at_bidding_end(market, chain, customer, providers):
    job_id = post(market, chain, customer, sealed=True)
    chain.pending_timestamp += HOUR
    with ape.reverts(market.BiddingClosed):
        commit(market, job_id, providers[0], crd(1), b"late")


def test_a_revealed_price_of_zero_or_above_the_max_reverts(market, chain, customer, providers, fresh_price):
    job_id = post(market, chain, customer, sealed=True)
    commit(market, job_id, providers[0], 0, b"zero")
    commit(market, job_id, providers[1], crd("2.01"), b"high")
    chain.pending_timestamp += HOUR
    fresh_price()
    with ape.reverts(market.ZeroPrice):
        market.revealBid(job_id, 0, b"zero", sender=providers[0])
    with ape.reverts(market.BidAboveMaxPrice, price=crd("2.01"), maxPrice=crd(2)):
        market.revealBid(job_id, crd("2.01"), b"high", sender=providers[1])


def test_a_one_wei_bid_risks_as_much_collateral_as_an_honest_one(market, registry, chain, customer, providers):
    """Open: a 1-wei bid locks the 4.8 CMP an honest bid locks (v1: 2 wei, and nobody could
    outbid it). Sealed: a 1-wei winner paid the 1.80 CRD second price holds the sealed job's
    collateral, 10 CMP: the bid bond, above the 4.8 CMP of the lease at the max price (v1: none)."""
    job_id = post(market, chain, customer)
    tx = market.placeBid(job_id, 1, sender=providers[0])
    assert tx.events.filter(market.BidPlaced)[0].collateral == crd("4.8")
    sealed = post(market, chain, customer, sealed=True)
    commit(market, sealed, providers[1], 1, b"low")
    commit(market, sealed, providers[2], crd("1.80"), b"honest")
    chain.pending_timestamp += HOUR
    market.revealBid(sealed, 1, b"low", sender=providers[1])
    market.revealBid(sealed, crd("1.80"), b"honest", sender=providers[2])
    chain.pending_timestamp += HOUR
    market.finalizeAuction(sealed, sender=customer)
    job = market.getJob(sealed)
    assert (job.provider, job.price, job.collateral) == (providers[1].address, crd("1.80"), to_wei(10))
    # and the ledger holds it: the winner's 10 CMP and 100 CMP per GPU, the loser released
    assert market.offerOf(providers[1], H100).locked == to_wei(10) + to_wei(200)
    assert market.offerOf(providers[2], H100).locked == 0


def test_an_oracle_outage_never_makes_a_reveal_impossible(market, registry, credits, chain, admin, customer, providers):
    """The collateral (4.8 CMP, with no bid bond to floor it) is priced when the job is posted:
    90 minutes later, with the oracle's last answer stale, both sealed bids are still revealed and
    the auction is won, so no bond is forfeited for the oracle's fault. (Before: `revealBid` priced the collateral then
    and reverted with `StalePrice`.)"""
    market.setBidBond(0, sender=admin)
    job_id = post(market, chain, customer, sealed=True)
    assert market.getJob(job_id).collateral == crd("4.8")
    commit(market, job_id, providers[0], crd("1.20"), b"a")
    commit(market, job_id, providers[1], crd("1.50"), b"b")
    chain.pending_timestamp += 90 * 60  # reveals are open; the oracle's answer is over an hour old
    chain.mine()
    with ape.reverts(credits.StalePrice):
        credits.currentPrice()
    market.revealBid(job_id, crd("1.20"), b"a", sender=providers[0])
    market.revealBid(job_id, crd("1.50"), b"b", sender=providers[1])
    assert market.offerOf(providers[0], H100).locked == crd("4.8") + to_wei(200)
    chain.pending_timestamp += HOUR
    market.finalizeAuction(job_id, sender=customer)
    assert market.getJob(job_id).provider == providers[0].address


def test_a_jumping_oracle_never_makes_a_reveal_impossible(
    market, registry, credits, token, feed, admin, chain, customer, providers
):
    """The credits contract accepts a fresh 2.50 USD answer (a mint) and, with `maxPriceAge` at
    2 days, still holds it when the oracle jumps 50% to 3.75 at the reveals: it refuses to price
    with the jump (`PriceJumpTooLarge`, the bound is 20%). Both bids are revealed all the same and
    the auction is won at the collateral fixed at posting (4.8 CMP), so no bond is forfeited for
    the oracle's fault. (Before: `revealBid` priced the collateral then and reverted.)"""
    credits.setMaxPriceAge(2 * DAY, sender=admin)
    token.approve(credits, to_wei(1), sender=admin)
    credits.mintWithTokens(to_wei(1), 0, admin, sender=admin)  # accepts the fresh 2.50 answer
    market.setBidBond(0, sender=admin)  # the collateral is then the oracle's 4.8 CMP alone
    job_id = post(market, chain, customer, sealed=True)
    commit(market, job_id, providers[0], crd("1.20"), b"a")
    commit(market, job_id, providers[1], crd("1.50"), b"b")
    chain.pending_timestamp += HOUR
    feed.setAnswer(usd_to_feed(Decimal("3.75")), sender=admin)
    with ape.reverts(credits.PriceJumpTooLarge):
        credits.currentPrice()
    market.revealBid(job_id, crd("1.20"), b"a", sender=providers[0])
    market.revealBid(job_id, crd("1.50"), b"b", sender=providers[1])
    chain.pending_timestamp += HOUR
    market.finalizeAuction(job_id, sender=customer)
    job = market.getJob(job_id)
    assert (job.provider, job.collateral) == (providers[0].address, crd("4.8"))
    assert market.offerOf(providers[0], H100).locked == crd("4.8") + to_wei(200)
    assert market.offerOf(providers[1], H100).locked == 0


def test_a_copied_commitment_cannot_be_revealed_by_another_bidder(market, chain, customer, providers):
    job_id = post(market, chain, customer, sealed=True)
    digest = commitment_for(job_id, providers[0], crd(1), b"s")
    market.commitBid(job_id, digest, sender=providers[0])
    market.commitBid(job_id, digest, sender=providers[1])  # front-runner copies the digest
    chain.pending_timestamp += HOUR
    with ape.reverts(market.InvalidReveal):
        market.revealBid(job_id, crd(1), b"s", sender=providers[1])


def test_unrevealed_commitment_forfeits_the_bond_to_the_protocol(market, registry, token, chain, customer, providers):
    """The lapsed 10 CMP bond goes to the treasury, never to the customer (who could otherwise
    post shill commitments, reveal them only when it pays, and collect their bonds back)."""
    job_id = post(market, chain, customer, sealed=True)
    commit(market, job_id, providers[0], crd(1), b"s")
    with ape.reverts(market.AlreadyCommitted):
        commit(market, job_id, providers[0], crd(1), b"s")
    chain.pending_timestamp += HOUR
    with ape.reverts(market.RevealStillOpen):
        market.settleCommitment(job_id, providers[0], sender=customer)
    chain.pending_timestamp += HOUR
    market.finalizeAuction(job_id, sender=customer)
    assert market.statusOf(job_id) == EXPIRED
    before, treasury_before = token.balanceOf(customer), token.balanceOf(market.treasury())
    tx = market.settleCommitment(job_id, providers[0], sender=customer)
    assert tx.events.filter(market.BondForfeited)[0].amount == to_wei(10)
    assert token.balanceOf(customer) == before
    assert token.balanceOf(market.treasury()) == treasury_before + to_wei(10)
    assert registry.stakeOf(providers[0]) == to_wei(9_990)
    assert market.offerOf(providers[0], H100).locked == 0
    with ape.reverts(market.NoCommitment):
        market.settleCommitment(job_id, providers[0], sender=customer)


def test_a_lapsed_commitment_is_forfeited_even_after_the_customer_cancels_the_lease(
    market, registry, token, chain, customer, providers
):
    """providers[0] commits and reveals, providers[1] commits and never reveals. The auction
    closes, then the customer cancels the running lease. The lapse happened before the
    cancellation: providers[1] still forfeits its 10 CMP bond to the treasury (9,990 CMP left).
    Before, any cancelled job released an unrevealed bond without penalty, so a lease cancelled
    after the auction let every lapsed bidder off."""
    job_id = post(market, chain, customer, sealed=True)
    commit(market, job_id, providers[0], crd("1.20"), b"s")
    commit(market, job_id, providers[1], crd("1.10"), b"t")
    chain.pending_timestamp += HOUR
    market.revealBid(job_id, crd("1.20"), b"s", sender=providers[0])
    chain.pending_timestamp += HOUR
    market.finalizeAuction(job_id, sender=customer)
    market.cancelJob(job_id, sender=customer)
    treasury_before = token.balanceOf(market.treasury())
    tx = market.settleCommitment(job_id, providers[1], sender=customer)
    assert not tx.events.filter(market.BondReleased)
    assert tx.events.filter(market.BondForfeited)[0].amount == to_wei(10)
    assert token.balanceOf(market.treasury()) == treasury_before + to_wei(10)
    assert registry.stakeOf(providers[1]) == to_wei(9_990)
    assert market.offerOf(providers[1], H100).locked == 0


def test_a_commitment_on_a_job_cancelled_while_bidding_is_released_whole(market, registry, chain, customer, providers):
    """Cancelled before bidding closed, nobody could reveal: the commitment's bond is released
    without penalty (BondReleased, the whole 10,000 CMP kept, nothing locked)."""
    job_id = post(market, chain, customer, sealed=True)
    commit(market, job_id, providers[1], crd("1.10"), b"t")
    market.cancelJob(job_id, sender=customer)
    tx = market.settleCommitment(job_id, providers[1], sender=customer)
    assert tx.events.filter(market.BondReleased) and not tx.events.filter(market.BondForfeited)
    assert registry.stakeOf(providers[1]) == to_wei(10_000)
    assert market.offerOf(providers[1], H100).locked == 0


@pytest.mark.parametrize("new_bond", [to_wei(5_000), 0])
def test_a_lapsed_commitment_forfeits_the_bond_it_locked_not_the_current_one(
    market, registry, chain, admin, customer, providers, new_bond
):
    """Committed under a 10 CMP bond; governance then sets 5,000 CMP or 0. The lapsed bidder
    loses exactly the 10 CMP it locked. (Before: 5,000 CMP were slashed, or nothing.)"""
    job_id = post(market, chain, customer, sealed=True)
    commit(market, job_id, providers[0], crd(1), b"s")
    market.setBidBond(new_bond, sender=admin)
    chain.pending_timestamp += 2 * HOUR
    tx = market.settleCommitment(job_id, providers[0], sender=customer)
    assert tx.events.filter(market.BondForfeited)[0].amount == to_wei(10)
    assert registry.stakeOf(providers[0]) == to_wei(9_990)


def test_a_shill_that_hides_because_it_would_have_won_forfeits_the_jobs_collateral(
    market, registry, token, chain, customer, providers, fresh_price
):
    """The customer's shill commits 1.05 beside an honest 1.80. Revealed, it would win, so it hides
    (revealed, it would cut the honest winner's pay from the max 2.50 to 1.05: 1.45 CRD
    for 192 GPU-hours, 278.4 CRD). Hiding now costs the job's collateral, 57.6 CMP = 144 CRD: what the shill's bid
    would have locked as the best one. (Before: the 10 CMP bond, 25 CRD: a cheap option.)"""
    honest, shill = providers[0], providers[1]
    job_id = big_sealed_job(market, chain, customer)
    commit(market, job_id, honest, crd("1.80"), b"honest")
    commit(market, job_id, shill, crd("1.05"), b"shill")
    assert market.getJob(job_id).collateral == to_wei("57.6")  # each commitment's bond
    assert market.offerOf(shill, H100).locked == to_wei("57.6") + to_wei(800)  # the bond + 100 CMP per GPU
    chain.pending_timestamp += HOUR
    fresh_price()
    market.revealBid(job_id, crd("1.80"), b"honest", sender=honest)
    chain.pending_timestamp += HOUR
    market.finalizeAuction(job_id, sender=customer)
    job = market.getJob(job_id)
    assert (job.provider, job.price) == (honest.address, crd("2.50"))  # alone: paid the max price
    customer_before, treasury_before = token.balanceOf(customer), token.balanceOf(market.treasury())
    tx = market.settleCommitment(job_id, shill, sender=customer)
    assert tx.events.filter(market.BondForfeited)[0].amount == to_wei("57.6")
    assert token.balanceOf(market.treasury()) == treasury_before + to_wei("57.6")
    assert token.balanceOf(customer) == customer_before
    assert registry.stakeOf(shill) == to_wei(10_000) - to_wei("57.6")
    assert market.offerOf(shill, H100).locked == 0


def test_a_shill_revealed_where_it_cannot_win_gives_the_customer_what_a_lower_max_price_would(
    market, chain, customer, providers, fresh_price
):
    """Why the shill is bounded and not closed (README Decisions, "Shill bids"): the customer's shill
    commits 2.00 on the 8-GPU day and, seeing the honest 1.80, reveals: the winner is paid 2.00
    instead of the max 2.50. Posting the same job with a max price of 2.00 gets the same 2.00 from
    the same bid (another honest provider's: the first one's GPUs are leased) with no shill at all:
    revealed, a shill is a reserve price; hidden, because it would have won, it loses the job's
    collateral (the test above)."""
    first, second, shill = providers
    job_id = big_sealed_job(market, chain, customer)
    commit(market, job_id, first, crd("1.80"), b"honest")
    commit(market, job_id, shill, crd("2.00"), b"shill")
    chain.pending_timestamp += HOUR
    fresh_price()
    market.revealBid(job_id, crd("1.80"), b"honest", sender=first)
    market.revealBid(job_id, crd("2.00"), b"shill", sender=shill)
    chain.pending_timestamp += HOUR
    market.finalizeAuction(job_id, sender=customer)
    shilled = market.getJob(job_id)
    fresh_price()  # posting prices the collateral at a fresh answer
    reserve = post(market, chain, customer, sealed=True, gpus=8, hours=24, max_price=crd("2.00"))
    commit(market, reserve, second, crd("1.80"), b"honest")
    chain.pending_timestamp += HOUR
    fresh_price()
    market.revealBid(reserve, crd("1.80"), b"honest", sender=second)
    chain.pending_timestamp += HOUR
    market.finalizeAuction(reserve, sender=customer)
    reserved = market.getJob(reserve)
    assert (shilled.provider, reserved.provider) == (first.address, second.address)
    assert shilled.price == reserved.price == crd("2.00")
    assert market.fundsOf(job_id).escrow == market.fundsOf(reserve).escrow  # the same pay for the same lease


def test_a_commitment_revealed_best_keeps_its_lock_as_the_bids_collateral(
    market, registry, chain, customer, providers, fresh_price
):
    """A commitment locks what the bid locks as the best one (57.6 + 800 CMP), so revealing it best
    moves nothing of its own: only the offer of the bidder it displaces is released, and no
    other contract is called. A losing reveal releases its bond; the winner's lock is the collateral."""
    p1, p2, p3 = providers
    job_id = big_sealed_job(market, chain, customer)
    lock = to_wei("57.6") + to_wei(800)
    for p, price in ((p1, "1.80"), (p2, "1.20"), (p3, "1.50")):
        commit(market, job_id, p, crd(price), p.address[-8:].encode())
    chain.pending_timestamp += HOUR
    fresh_price()
    for p, price, locks in ((p1, "1.80", [lock] * 3), (p2, "1.20", [0, lock, lock]), (p3, "1.50", [0, lock, 0])):
        tx = market.revealBid(job_id, crd(price), p.address[-8:].encode(), sender=p)
        assert [market.offerOf(q, H100).locked for q in providers] == locks
        assert not trace_transaction(chain.provider, str(tx.txn_hash))["calls"][0].get("calls")
    chain.pending_timestamp += HOUR
    market.finalizeAuction(job_id, sender=customer)
    job = market.getJob(job_id)
    assert (job.provider, job.price) == (p2.address, crd("1.50"))
    assert market.offerOf(p2, H100).locked == lock


def test_a_small_sealed_jobs_collateral_is_the_bid_bond_fixed_at_posting(
    market, registry, chain, admin, customer, providers, fresh_price
):
    """A 2-GPU, 4-hour sealed job at up to 2 CRD: 30% of its 16 CRD is 4.8 CMP, below the 10 CMP
    `bidBond`, so its collateral is 10 CMP, fixed at posting (an open job's stays 4.8). Governance
    then raises the bond to 5,000 CMP: both commitments still lock the job's 10 + 200 CMP, the
    reveal that takes the lead keeps its lock as the bid's (nothing locked, nothing swapped), and
    the winner holds 10 + 200 CMP. (Before: each commitment locked the bond current at commit,
    5,000 CMP, and the winner swapped it for the 4.8 CMP collateral in a second ledger call.)"""
    sealed = post(market, chain, customer, sealed=True)
    assert market.getJob(sealed).collateral == to_wei(10)
    assert market.getJob(post(market, chain, customer)).collateral == crd("4.8")
    market.setBidBond(to_wei(5_000), sender=admin)
    lock = to_wei(10) + to_wei(200)
    p1, p2 = providers[0], providers[1]
    commit(market, sealed, p1, crd("1.50"), b"a")
    commit(market, sealed, p2, crd("1.20"), b"b")
    assert market.offerOf(p1, H100).locked == market.offerOf(p2, H100).locked == lock
    chain.pending_timestamp += HOUR
    fresh_price()
    market.revealBid(sealed, crd("1.50"), b"a", sender=p1)
    assert (market.offerOf(p1, H100).locked, market.offerOf(p2, H100).locked) == (lock, lock)
    market.revealBid(sealed, crd("1.20"), b"b", sender=p2)
    chain.pending_timestamp += HOUR
    market.finalizeAuction(sealed, sender=customer)
    assert (market.offerOf(p1, H100).locked, market.offerOf(p2, H100).locked) == (0, lock)


def test_a_sealed_job_cannot_be_cancelled_once_bidding_closed(market, chain, customer, providers):
    """After the commit phase the customer would see the revealed prices for free and let the
    unrevealed bidders off: the job can only be finalized (refunded in full if nobody won)."""
    job_id = post(market, chain, customer, sealed=True)
    commit(market, job_id, providers[0], crd(1), b"s")
    chain.pending_timestamp += HOUR
    market.revealBid(job_id, crd(1), b"s", sender=providers[0])
    bidding_end = market.getJob(job_id).biddingEnd
    with ape.reverts(market.BiddingClosed, biddingEnd=bidding_end):
        market.cancelJob(job_id, sender=customer)


def test_cancelled_sealed_job_releases_bonds_without_penalty(market, registry, chain, customer, providers):
    job_id = post(market, chain, customer, sealed=True)
    commit(market, job_id, providers[0], crd(1), b"s")
    market.cancelJob(job_id, sender=customer)
    tx = market.settleCommitment(job_id, providers[0], sender=providers[0])
    assert tx.events.filter(market.BondReleased)
    assert registry.stakeOf(providers[0]) == to_wei(10_000)
    assert tuple(market.offerOf(providers[0], H100))[:2] == (to_wei(10_000), 0)


def test_auction_kinds_are_not_mixed(market, chain, customer, providers):
    open_id = post(market, chain, customer)
    sealed_id = post(market, chain, customer, sealed=True)
    with ape.reverts(market.WrongAuctionKind):
        market.commitBid(open_id, b"\x01" * 32, sender=providers[0])
    with ape.reverts(market.WrongAuctionKind):
        market.placeBid(sealed_id, crd(1), sender=providers[0])
