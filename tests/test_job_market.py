"""JobMarket: auctions, escrow, leases, failure slashing and reference prices, with exact amounts.

Numbers used throughout: CMP at 2.50 USD; a job of 2 GPUs for 10 hours with a max price of
2 CRD per GPU-hour escrows 40 CRD; the lease value at price p is 20p CRD; collateral is 30% of the
lease value at the max price (12 CRD: 4.8 CMP), whatever the bid
in CMP, 6p CRD / 2.5 = 2.4p CMP, and the registry lock adds 100 CMP per GPU.
"""

from __future__ import annotations

from decimal import Decimal

import ape
import pytest
from helpers import A100, EU, H100, US, assert_bounded_setter, job_spec

from compute_market.units import HOUR, bytes32, to_wei

OPEN, SEALED = 0, 1
BIDDING, LEASED, RESULT, SETTLED, CANCELLED, EXPIRED, FAILED, DISPUTED = range(1, 9)


def crd(x: str | int) -> int:
    return to_wei(Decimal(str(x)))


# The customer and the providers are set up once per module (each test then starts from that
# state); only the oracle answer is renewed for every test, since tests move the clock.
@pytest.fixture(scope="module")
def _customer(accounts, make_customer):
    return make_customer(accounts[10])


@pytest.fixture
def customer(_customer, fresh_price):
    fresh_price()
    return _customer


@pytest.fixture(scope="module")
def providers(accounts, make_provider):
    return [make_provider(accounts[i]) for i in (11, 12, 13)]


@pytest.fixture
def treasury(market):
    return market.treasury()


def post(market, chain, customer, **kw) -> int:
    tx = market.postJob(job_spec(chain, **kw), sender=customer)
    return tx.events.filter(market.JobPosted)[0].jobId


def leased_job(market, chain, customer, provider, price: str = "1.10", **kw) -> int:
    job_id = post(market, chain, customer, **kw)
    market.placeBid(job_id, crd(price), sender=provider)
    chain.pending_timestamp += HOUR
    market.finalizeAuction(job_id, sender=provider)
    return job_id


def commit(market, job_id, provider, price: int, salt: bytes) -> None:
    market.commitBid(job_id, market.commitmentFor(job_id, provider, price, salt), sender=provider)


# ---------------------------------------------------------------------------- posting


def test_post_job_escrows_max_price_times_gpus_times_hours(market, credits, chain, customer):
    before = credits.balanceOf(customer)
    tx = market.postJob(job_spec(chain), sender=customer)
    event = tx.events.filter(market.JobPosted)[0]
    assert event.escrow == crd(40)
    assert credits.balanceOf(customer) == before - crd(40)
    assert credits.balanceOf(market) == crd(40)
    job = market.getJob(event.jobId)
    assert (job.status, job.gpuCount, job.duration, job.feeBps) == (BIDDING, 2, 10 * HOUR, 100)


@pytest.mark.parametrize(
    ("field", "kw"),
    [
        ("gpuModel", {"model": bytes32("")}),
        ("gpuCount", {"gpus": 0}),
        ("gpuCount", {"gpus": 2**16}),  # the job stores GPU counts in 16 bits
        ("minVramGb", {"vram": 2**16}),  # and the least memory per GPU
        ("maxPricePerGpuHour", {"max_price": 0}),
        ("maxPricePerGpuHour", {"max_price": 2**80}),  # the best bid's price is stored in 80 bits
        ("escrow", {"max_price": 2**80 - 1, "gpus": 65_535}),  # escrows in 96 bits: 655,350 GPU-hours do not fit
        ("biddingEnd", {"bidding": 0}),
        ("biddingEnd", {"bidding": 31 * 86_400}),
        ("holdbackBps", {"holdback": 10_001}),
        ("minReputationBps", {"min_rep": 10_001}),
        ("duration", {"hours": 0}),
    ],
)
def test_invalid_job_specs_revert_naming_the_field(market, chain, customer, field, kw):
    with ape.reverts(market.InvalidJobSpec, field=field):
        market.postJob(job_spec(chain, **kw), sender=customer)


# ---------------------------------------------------------------------------- open auctions


def test_a_job_whose_escrow_rounds_to_zero_reverts(market, chain, customer):
    spec = list(job_spec(chain, gpus=1, max_price=1))
    spec[4] = 60  # one minute at 1 wei per GPU-hour
    with ape.reverts(market.InvalidJobSpec, field="escrow"):
        market.postJob(tuple(spec), sender=customer)


def test_open_auction_with_three_bidders(market, registry, credits, chain, customer, providers):
    p1, p2, p3 = providers
    job_id = post(market, chain, customer)
    market.placeBid(job_id, crd("1.80"), sender=p1)
    assert registry.providerOf(p1).locked == crd("4.8") + to_wei(200)  # 30% of 40 CRD at 2.50 + 2 * 100
    market.placeBid(job_id, crd("1.50"), sender=p2)
    assert registry.providerOf(p1).locked == 0  # outbid: released
    market.placeBid(job_id, crd("1.20"), sender=p3)
    with ape.reverts(market.BidNotLowEnough, price=crd("1.19"), maxAllowed=crd("1.188")):
        market.placeBid(job_id, crd("1.19"), sender=p1)
    tx = market.placeBid(job_id, crd("1.10"), sender=p1)
    assert tx.events.filter(market.BidPlaced)[0].collateral == crd("4.8")  # the same at any bid
    assert registry.providerOf(p3).locked == 0
    assert registry.freeStakeOf(p2) == registry.freeStakeOf(p3) == to_wei(10_000)

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
    assert (job.status, job.escrow, job.price) == (LEASED, crd(22), crd("1.10"))
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
    assert registry.providerOf(providers[0]).locked == crd("4.8") + to_wei(200)
    assert market.getJob(job_id).price == crd(1)


# ---------------------------------------------------------------------------- eligibility


def test_bid_above_max_price_reverts(market, chain, customer, providers):
    job_id = post(market, chain, customer)
    with ape.reverts(market.BidAboveMaxPrice, price=crd("2.01"), maxPrice=crd(2)):
        market.placeBid(job_id, crd("2.01"), sender=providers[0])
    with ape.reverts(market.ZeroPrice):
        market.placeBid(job_id, 0, sender=providers[0])


def test_unregistered_bidder_reverts(market, chain, customer, stranger):
    job_id = post(market, chain, customer)
    with ape.reverts(market.ProviderNotRegistered, provider=stranger.address):
        market.placeBid(job_id, crd(1), sender=stranger)


def test_under_staked_bidder_reverts(market, registry, chain, customer, accounts, make_provider):
    poor = make_provider(accounts[14], stake=to_wei(200))
    job_id = post(market, chain, customer)
    with ape.reverts(registry.NotEnoughFreeStake, have=to_wei(200), need=to_wei(200) + crd("4.8")):
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
    with ape.reverts(registry.InsufficientCapacity, available=8, requested=9):
        market.placeBid(job_id, crd(1), sender=providers[0])


def test_customer_cannot_bid_on_its_own_job(market, chain, accounts, make_provider, make_customer):
    both = make_customer(make_provider(accounts[15]))
    job_id = post(market, chain, both)
    with ape.reverts(market.SelfBid):
        market.placeBid(job_id, crd(1), sender=both)


# ---------------------------------------------------------------------------- sealed auctions


def test_sealed_auction_winner_is_paid_the_second_price(
    market, registry, credits, chain, customer, providers, fresh_price
):
    p1, p2, p3 = providers
    job_id = post(market, chain, customer, sealed=True)
    bids = {p1: crd("1.50"), p2: crd("1.20"), p3: crd("1.70")}
    for p, price in bids.items():
        commit(market, job_id, p, price, b"salt-" + bytes(p.address[-4:], "ascii"))
    assert registry.providerOf(p1).locked == to_wei(10) + to_wei(200)  # bid bond + per-GPU stake
    with ape.reverts(market.RevealNotOpen):
        market.revealBid(job_id, bids[p1], b"salt-" + bytes(p1.address[-4:], "ascii"), sender=p1)
    chain.pending_timestamp += HOUR
    fresh_price()
    for p, price in bids.items():
        market.revealBid(job_id, price, b"salt-" + bytes(p.address[-4:], "ascii"), sender=p)
    assert registry.providerOf(p1).locked == registry.providerOf(p3).locked == 0
    assert registry.providerOf(p2).locked == crd("4.8") + to_wei(200)  # at the max price, not its bid
    with ape.reverts(market.BiddingNotOver):
        market.finalizeAuction(job_id, sender=customer)
    chain.pending_timestamp += HOUR
    tx = market.finalizeAuction(job_id, sender=customer)
    event = tx.events.filter(market.AuctionFinalized)[0]
    assert (event["provider"], event.clearingPrice, event.refund) == (p2.address, crd("1.50"), crd(10))
    assert market.getJob(job_id).escrow == crd(30)


def test_sealed_auction_alone_is_paid_the_max_price(market, chain, customer, providers, fresh_price):
    job_id = post(market, chain, customer, sealed=True)
    commit(market, job_id, providers[0], crd("0.90"), b"s")
    chain.pending_timestamp += HOUR
    fresh_price()
    market.revealBid(job_id, crd("0.90"), b"s", sender=providers[0])
    chain.pending_timestamp += HOUR
    tx = market.finalizeAuction(job_id, sender=customer)
    assert tx.events.filter(market.AuctionFinalized)[0].clearingPrice == crd(2)


def test_sealed_tie_is_broken_by_reputation(market, registry, chain, admin, customer, providers, fresh_price):
    low, high = providers[0], providers[1]
    registry.grantRole(registry.MARKET_ROLE(), admin, sender=admin)
    lease = (10**9, H100, 1, 0)  # a lease of another market's
    registry.lockCollateral(high, lease, sender=admin)
    registry.closeLock(high, lease, 0, 0, [], [], sender=admin)  # completed: 6,666 > 5,000
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
    outbid it). Sealed: a 1-wei winner paid the 1.80 CRD second price holds 4.8 CMP, the
    collateral of the lease at the max price (v1: none)."""
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
    assert (job.provider, job.price, job.collateral) == (providers[1].address, crd("1.80"), crd("4.8"))


def test_an_oracle_outage_never_makes_a_reveal_impossible(market, registry, credits, chain, customer, providers):
    """The collateral (4.8 CMP) is priced when the job is posted: 90 minutes later, with the
    oracle's last answer stale, both sealed bids are still revealed and the auction is won, so no
    bond is forfeited for the oracle's fault. (Before: `revealBid` priced the collateral then
    and reverted with `StalePrice`.)"""
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
    assert registry.providerOf(providers[0]).locked == crd("4.8") + to_wei(200)
    chain.pending_timestamp += HOUR
    market.finalizeAuction(job_id, sender=customer)
    assert market.getJob(job_id).provider == providers[0].address


def test_a_copied_commitment_cannot_be_revealed_by_another_bidder(market, chain, customer, providers):
    job_id = post(market, chain, customer, sealed=True)
    digest = market.commitmentFor(job_id, providers[0], crd(1), b"s")
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
    assert registry.providerOf(providers[0]).locked == 0
    with ape.reverts(market.NoCommitment):
        market.settleCommitment(job_id, providers[0], sender=customer)


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


def big_sealed_job(market, chain, customer) -> int:
    """A sealed job whose collateral is above the 10 CMP `bidBond`: 8 GPUs for 24 hours at up to
    2.50 CRD escrows 480 CRD; 30% of it is 144 CRD, 57.6 CMP at 2.50 USD."""
    job_id = post(market, chain, customer, sealed=True, gpus=8, hours=24, max_price=crd("2.50"))
    assert market.getJob(job_id).collateral == to_wei("57.6")
    return job_id


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
    assert market.commitmentOf(job_id, shill).bond == to_wei("57.6")
    assert registry.providerOf(shill).locked == to_wei("57.6") + to_wei(800)  # the bond + 100 CMP per GPU
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
    assert registry.providerOf(shill).locked == 0


def test_a_commitment_revealed_best_keeps_its_lock_as_the_bids_collateral(
    market, registry, chain, customer, providers, fresh_price
):
    """A commitment locks what the bid locks as the best one (57.6 + 800 CMP), so revealing it best
    moves nothing of its own: the registry only releases the bidder it displaces (one call, no
    `CollateralLocked`). A losing reveal releases its bond; the winner's lock is the collateral."""
    p1, p2, p3 = providers
    job_id = big_sealed_job(market, chain, customer)
    lock = to_wei("57.6") + to_wei(800)
    for p, price in ((p1, "1.80"), (p2, "1.20"), (p3, "1.50")):
        commit(market, job_id, p, crd(price), p.address[-8:].encode())
    chain.pending_timestamp += HOUR
    fresh_price()
    tx = market.revealBid(job_id, crd("1.80"), p1.address[-8:].encode(), sender=p1)
    assert not tx.events.filter(registry.CollateralLocked) and not tx.events.filter(registry.CollateralReleased)
    assert registry.providerOf(p1).locked == lock
    tx = market.revealBid(job_id, crd("1.20"), p2.address[-8:].encode(), sender=p2)
    assert [e["provider"] for e in tx.events.filter(registry.CollateralReleased)] == [p1.address]
    assert not tx.events.filter(registry.CollateralLocked)
    tx = market.revealBid(job_id, crd("1.50"), p3.address[-8:].encode(), sender=p3)
    assert [e["provider"] for e in tx.events.filter(registry.CollateralReleased)] == [p3.address]
    assert [registry.providerOf(p).locked for p in providers] == [0, lock, 0]
    chain.pending_timestamp += HOUR
    market.finalizeAuction(job_id, sender=customer)
    job = market.getJob(job_id)
    assert (job.provider, job.price) == (p2.address, crd("1.50"))
    assert registry.providerOf(p2).locked == lock and registry.providerOf(p2).activeLocks == 1


@pytest.mark.parametrize("sealed", [False, True])
def test_the_per_gpu_stake_is_fixed_when_the_job_is_posted(
    market, registry, chain, admin, customer, providers, fresh_price, sealed
):
    """Posted at 100 CMP per GPU (2 GPUs: 200 CMP beside the 4.8 CMP collateral); governance
    then sets 0, and later 1,000. Bids, commitments and the release all use the job's 200, so
    every lock is released to the wei (no per-bid record exists to remember it)."""
    job_id = post(market, chain, customer, sealed=sealed)
    assert market.getJob(job_id).gpuStake == to_wei(200)
    market.setMinStakePerGpu(0, sender=admin)
    p1, p2 = providers[0], providers[1]
    if sealed:
        commit(market, job_id, p1, crd("1.50"), b"a")
        commit(market, job_id, p2, crd("1.20"), b"b")
        assert registry.providerOf(p1).locked == to_wei(10) + to_wei(200)
        market.setMinStakePerGpu(to_wei(1_000), sender=admin)
        chain.pending_timestamp += HOUR
        market.revealBid(job_id, crd("1.50"), b"a", sender=p1)
        market.revealBid(job_id, crd("1.20"), b"b", sender=p2)
    else:
        market.placeBid(job_id, crd("1.50"), sender=p1)
        market.setMinStakePerGpu(to_wei(1_000), sender=admin)
        market.placeBid(job_id, crd("1.20"), sender=p2)
    assert registry.providerOf(p1).locked == 0
    assert registry.providerOf(p2).locked == crd("4.8") + to_wei(200)
    fresh_price()
    assert market.getJob(post(market, chain, customer)).gpuStake == to_wei(2_000)
    chain.pending_timestamp += 2 * HOUR
    market.finalizeAuction(job_id, sender=customer)
    market.submitResult(job_id, bytes32("r"), "ipfs://r", sender=p2)
    chain.pending_timestamp += 25 * HOUR
    market.settleJob(job_id, sender=customer)
    record = registry.providerOf(p2)
    assert (record.locked, record.activeLocks, registry.capacityOf(p2, H100).reserved) == (0, 0, 0)


def test_a_job_whose_per_gpu_stake_overflows_is_refused(market, chain, admin, customer):
    market.setMinStakePerGpu(to_wei(1_000_000), sender=admin)
    spec = list(job_spec(chain, gpus=2**32 - 1, max_price=1))
    with ape.reverts(market.InvalidJobSpec, field="gpuCount"):
        market.postJob(tuple(spec), sender=customer)


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
    assert registry.freeStakeOf(providers[0]) == to_wei(10_000)


def test_auction_kinds_are_not_mixed(market, chain, customer, providers):
    open_id = post(market, chain, customer)
    sealed_id = post(market, chain, customer, sealed=True)
    with ape.reverts(market.WrongAuctionKind):
        market.commitBid(open_id, b"\x01" * 32, sender=providers[0])
    with ape.reverts(market.WrongAuctionKind):
        market.placeBid(sealed_id, crd(1), sender=providers[0])


# ---------------------------------------------------------------------------- no bids


def test_job_with_no_bids_expires_and_refunds_in_full(market, credits, chain, customer):
    before = credits.balanceOf(customer)
    job_id = post(market, chain, customer)
    chain.pending_timestamp += HOUR
    tx = market.finalizeAuction(job_id, sender=customer)
    assert tx.events.filter(market.JobExpired)[0].refund == crd(40)
    assert credits.balanceOf(customer) == before
    assert market.statusOf(job_id) == EXPIRED
    assert market.getJob(job_id).escrow == 0
    with ape.reverts(market.WrongStatus):
        market.finalizeAuction(job_id, sender=customer)


# ---------------------------------------------------------------------------- leases


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
    assert market.getJob(job_id).escrow == crd("13.2")
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
    assert registry.providerOf(p1).locked == 0
    assert market.statusOf(job_id) == SETTLED


def _awaiting_settlement(market, chain, customer, provider) -> int:
    """A 10-hour lease whose result is in and whose challenge window has closed."""
    job_id = leased_job(market, chain, customer, provider)
    chain.pending_timestamp = market.getJob(job_id).leaseStart + 10 * HOUR + 60
    market.submitResult(job_id, b"\x11" * 32, "ipfs://result", sender=provider)
    chain.pending_timestamp = market.getJob(job_id).challengeEnd
    return job_id


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
    assert credits.balanceOf(market) == market.getJob(job_id).escrow  # the 4.4 CRD of holdback
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
    assert registry.providerOf(p1).locked == 0
    assert market.statusOf(job_id) == CANCELLED


def test_a_verified_lease_cancelled_halfway_refunds_the_unearned_verification_fee(
    market, credits, chain, customer, providers
):
    """The same lease with verification: 40 CRD at the max price plus its 5% fee (2 CRD) were
    escrowed; the auction kept 27.4 + 2; halfway, the provider gets 13.7 and the customer the
    other 13.7 and the fee nobody earned."""
    p1 = providers[0]
    job_id = leased_job(market, chain, customer, p1, price="1.37", verification=True)
    assert (market.getJob(job_id).escrow, market.getJob(job_id).verificationFee) == (crd("29.4"), crd(2))
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
    assert registry.providerOf(providers[0]).locked == 0
    with ape.reverts(market.NotCustomer):
        market.cancelJob(job_id, sender=providers[0])


def test_cancel_after_the_lease_ran_out_reverts(market, chain, customer, providers):
    job_id = leased_job(market, chain, customer, providers[0])
    chain.pending_timestamp = market.getJob(job_id).leaseStart + 10 * HOUR
    with ape.reverts(market.LeaseOver):
        market.cancelJob(job_id, sender=customer)


def test_provider_that_never_submits_is_slashed_and_the_customer_compensated(
    market, registry, token, credits, chain, customer, providers, stranger
):
    p1 = providers[0]
    job_id = leased_job(market, chain, customer, p1)  # collateral 4.8 CMP
    start = market.getJob(job_id).leaseStart
    chain.pending_timestamp = start + 5 * HOUR
    market.claimEarnings(job_id, sender=p1)  # keeps 8.8 gross it was paid
    deadline = start + 10 * HOUR + HOUR
    chain.pending_timestamp = deadline
    with ape.reverts(market.ResultDeadlineNotPassed, deadline=deadline):
        market.slashForFailure(job_id, sender=stranger)
    chain.pending_timestamp = deadline + 1
    with ape.reverts(market.ResultDeadlinePassed):
        market.submitResult(job_id, b"\x01" * 32, "late", sender=p1)
    crd_before, cmp_before, keeper_before = (
        credits.balanceOf(customer),
        token.balanceOf(customer),
        token.balanceOf(stranger),
    )
    tx = market.slashForFailure(job_id, sender=stranger)
    event = tx.events.filter(market.JobFailed)[0]
    assert (event.slashed, event.bounty, event.refund) == (crd("4.8"), crd("0.24"), crd("13.2"))
    assert credits.balanceOf(customer) == crd_before + crd("13.2")
    assert token.balanceOf(customer) == cmp_before + crd("4.56")
    assert token.balanceOf(stranger) == keeper_before + crd("0.24")
    assert registry.stakeOf(p1) == to_wei(10_000) - crd("4.8")
    assert registry.providerOf(p1).failed == 1
    assert registry.providerOf(p1).locked == 0
    assert credits.balanceOf(market) == market.feesAccrued()  # only the treasury's fees
    assert market.statusOf(job_id) == FAILED


def test_a_failed_provider_slashing_itself_gets_no_keeper_bounty(market, registry, token, chain, customer, providers):
    """The provider that missed its deadline calls `slashForFailure` itself: the 5% bounty
    (0.24 CMP of the 4.8 CMP collateral) is not paid to it; the customer gets all 4.8 CMP."""
    p1 = providers[0]
    job_id = leased_job(market, chain, customer, p1)
    chain.pending_timestamp = market.getJob(job_id).leaseStart + 11 * HOUR + 1
    cmp_before, provider_before = token.balanceOf(customer), token.balanceOf(p1)
    tx = market.slashForFailure(job_id, sender=p1)
    assert tx.events.filter(market.JobFailed)[0].bounty == 0
    assert token.balanceOf(customer) == cmp_before + crd("4.8")
    assert token.balanceOf(p1) == provider_before


def test_grace_and_keeper_bounty_are_fixed_when_the_job_is_posted(
    market, token, chain, admin, customer, providers, stranger
):
    """Posted under a 1-hour grace and a 5% bounty; governance then sets 7 days and 50%. The
    running lease keeps its terms: the provider is slashable 1 hour after the end, and the keeper
    gets 5% of the 4.8 CMP collateral (0.24 CMP), not 50%. (Before: the new grace let a late
    provider off for a week, and the new bounty took from the customer's compensation.)"""
    job_id = leased_job(market, chain, customer, providers[0])
    market.setResultGrace(7 * 24 * HOUR, sender=admin)
    market.setKeeperBountyBps(5_000, sender=admin)
    assert market.getJob(job_id).resultGrace == HOUR
    chain.pending_timestamp = market.getJob(job_id).leaseStart + 11 * HOUR + 1
    with ape.reverts(market.ResultDeadlinePassed):
        market.submitResult(job_id, b"\x01" * 32, "late", sender=providers[0])
    before = token.balanceOf(stranger)
    tx = market.slashForFailure(job_id, sender=stranger)
    assert tx.events.filter(market.JobFailed)[0].bounty == crd("0.24")
    assert token.balanceOf(stranger) == before + crd("0.24")


def test_the_challenge_window_is_fixed_when_the_job_is_posted(market, chain, admin, customer, providers, fresh_price):
    """Posted under a 1-day challenge window; governance then sets 12 hours. The result opens the
    job's own day, not the new 12 hours: a customer who planned a day to check the result keeps
    it. (Before: the window was read when the result came, so a change cut running jobs' windows.)"""
    job_id = leased_job(market, chain, customer, providers[0])
    assert market.getJob(job_id).challengeWindow == 24 * HOUR
    market.setChallengeWindow(12 * HOUR, sender=admin)
    chain.pending_timestamp += 10 * HOUR
    tx = market.submitResult(job_id, b"\x01" * 32, "ipfs://r", sender=providers[0])
    assert tx.events.filter(market.ResultSubmitted)[0].challengeEnd == tx.timestamp + 24 * HOUR
    assert market.getJob(job_id).challengeEnd == tx.timestamp + 24 * HOUR
    fresh_price()
    later = post(market, chain, customer)
    assert market.getJob(later).challengeWindow == 12 * HOUR


def test_abandoned_lease_gives_the_customer_the_whole_slash(
    market, registry, token, credits, chain, customer, providers
):
    p1 = providers[0]
    job_id = leased_job(market, chain, customer, p1)
    cmp_before, crd_before = token.balanceOf(customer), credits.balanceOf(customer)
    tx = market.abandonJob(job_id, sender=p1)
    event = tx.events.filter(market.JobFailed)[0]
    assert (event.slashed, event.bounty) == (crd("4.8"), 0)
    assert token.balanceOf(customer) == cmp_before + crd("4.8")
    assert credits.balanceOf(customer) == crd_before + crd(22)
    assert registry.providerOf(p1).failed == 1
    with ape.reverts(market.NotProvider):
        market.abandonJob(job_id, sender=customer)


# ---------------------------------------------------------------------------- disputes hooks


@pytest.fixture
def resolver_role(accounts, market, admin):
    account = accounts[16]
    market.grantRole(market.RESOLVER_ROLE(), account, sender=admin)
    return account


def test_dispute_with_provider_fault_slashes_and_refunds(
    market, registry, token, credits, chain, customer, providers, resolver_role
):
    p1 = providers[0]
    job_id = leased_job(market, chain, customer, p1)
    chain.pending_timestamp = market.getJob(job_id).leaseStart + 10 * HOUR
    market.submitResult(job_id, b"\x01" * 32, "r", sender=p1)
    with ape.reverts(market.AccessControlUnauthorizedAccount):
        market.openDispute(job_id, sender=customer)
    market.openDispute(job_id, sender=resolver_role)
    assert market.statusOf(job_id) == DISPUTED
    with ape.reverts(market.WrongStatus):
        market.settleJob(job_id, sender=customer)
    cmp_before, crd_before = token.balanceOf(customer), credits.balanceOf(customer)
    market.resolveDispute(job_id, True, [customer], [crd("4.8")], sender=resolver_role)
    assert token.balanceOf(customer) == cmp_before + crd("4.8")
    assert credits.balanceOf(customer) == crd_before + crd(22)
    assert registry.providerOf(p1).disputesLost == 1
    assert market.statusOf(job_id) == FAILED
    assert credits.balanceOf(market) == market.feesAccrued()  # only the treasury's fees


def test_dispute_without_fault_settles_the_job(market, registry, credits, chain, customer, providers, resolver_role):
    p1 = providers[0]
    job_id = leased_job(market, chain, customer, p1)
    chain.pending_timestamp = market.getJob(job_id).leaseStart + 10 * HOUR
    market.submitResult(job_id, b"\x01" * 32, "r", sender=p1)
    market.openDispute(job_id, sender=resolver_role)
    market.resolveDispute(job_id, False, [], [], sender=resolver_role)
    assert market.statusOf(job_id) == SETTLED
    assert registry.providerOf(p1).completed == 1
    assert credits.balanceOf(market) == market.feesAccrued()  # only the treasury's fees


def test_dispute_cannot_open_after_the_window(market, chain, customer, providers, resolver_role):
    p1 = providers[0]
    job_id = leased_job(market, chain, customer, p1)
    chain.pending_timestamp = market.getJob(job_id).leaseStart + 10 * HOUR
    market.submitResult(job_id, b"\x01" * 32, "r", sender=p1)
    chain.pending_timestamp += 86_400
    with ape.reverts(market.ChallengeWindowClosed):
        market.openDispute(job_id, sender=resolver_role)


# ---------------------------------------------------------------------------- reference price


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
    for provider, price in zip(providers, ["1.20", "1.50", "1.70"], strict=True):
        commit(market, job_id, provider, crd(price), b"s")
    chain.pending_timestamp += HOUR
    fresh_price()
    for provider, price in zip(providers, ["1.20", "1.50", "1.70"], strict=True):
        market.revealBid(job_id, crd(price), b"s", sender=provider)
    chain.pending_timestamp += HOUR
    market.finalizeAuction(job_id, sender=customer)
    assert market.referencePrice(H100) == crd("1.5") - crd("1.5") // 8


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


# ---------------------------------------------------------------------------- pause and roles


def test_pause_stops_new_business_but_never_the_ways_out(
    market, credits, chain, admin, customer, providers, fresh_price
):
    p1 = providers[0]
    job_id = leased_job(market, chain, customer, p1)
    fresh_price()  # the lease above moved the clock an hour; posting prices collateral at the oracle
    bidding_id = post(market, chain, customer)
    market.pause(sender=admin)
    with ape.reverts(market.EnforcedPause):
        market.postJob(job_spec(chain), sender=customer)
    with ape.reverts(market.EnforcedPause):
        market.placeBid(bidding_id, crd(1), sender=p1)
    market.cancelJob(bidding_id, sender=customer)
    start = market.getJob(job_id).leaseStart
    chain.pending_timestamp = start + 5 * HOUR
    market.claimEarnings(job_id, sender=p1)
    chain.pending_timestamp = start + 10 * HOUR
    market.submitResult(job_id, b"\x01" * 32, "r", sender=p1)
    chain.pending_timestamp += 86_400
    market.settleJob(job_id, sender=customer)
    assert credits.balanceOf(market) == market.feesAccrued()  # only the treasury's fees


@pytest.mark.parametrize(
    ("setter", "bad", "lo", "hi"),
    [
        ("setProtocolFeeBps", 1_001, 0, 1_000),
        ("setCollateralBps", 10_001, 0, 10_000),
        ("setMinDecrementBps", 0, 1, 5_000),
        ("setKeeperBountyBps", 5_001, 0, 5_000),
        ("setTargetBidsPerJob", 0, 1, 100),
        ("setResultGrace", 599, 600, 7 * 86_400),
        # above the resolver's 6 h attestation window; below 7 days of unbonding less 4 of dispute
        ("setChallengeWindow", 21_600, 21_601, 3 * 86_400 - 1),
        ("setRevealPeriod", 599, 600, 7 * 86_400),
        ("setMaxBiddingPeriod", 3_599, 3_600, 90 * 86_400),
        ("setMaxDuration", 3_599, 3_600, 730 * 86_400),
        ("setBidBond", to_wei(100_001), 0, to_wei(100_000)),
        ("setMinStakePerGpu", to_wei(1_000_001), 0, to_wei(1_000_000)),
        ("setVerificationFeeBps", 5_001, 0, 5_000),
    ],
)
def test_setters_check_bounds_and_roles(market, admin, stranger, setter, bad, lo, hi):
    assert_bounded_setter(market, setter, bad, lo, hi, hi, admin, stranger)


def test_fee_changes_apply_to_jobs_posted_afterwards(market, chain, admin, customer):
    job_id = post(market, chain, customer)
    market.setProtocolFeeBps(500, sender=admin)
    assert market.getJob(job_id).feeBps == 100
    assert market.getJob(post(market, chain, customer)).feeBps == 500


def test_the_verification_record_is_set_by_governance_only(market, admin, stranger):
    with ape.reverts(market.AccessControlUnauthorizedAccount):
        market.setResolver(stranger, sender=stranger)
    previous = market.resolver()
    tx = market.setResolver(stranger, sender=admin)
    assert tx.events.filter(market.ResolverSet)[0].resolver == stranger.address
    market.setResolver(previous, sender=admin)


def test_treasury_is_set_by_governance_only(market, admin, stranger):
    with ape.reverts(market.AccessControlUnauthorizedAccount):
        market.setTreasury(stranger, sender=stranger)
    with ape.reverts(market.ZeroAddress):
        market.setTreasury("0x" + "00" * 20, sender=admin)
    market.setTreasury(stranger, sender=admin)
    assert market.treasury() == stranger.address


def test_unknown_jobs_revert(market, stranger):
    with ape.reverts(market.UnknownJob, jobId=999):
        market.finalizeAuction(999, sender=stranger)


# ---------------------------------------------------------------------------- gas


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
