"""JobMarket edges: collateral priced at zero or past 96 bits at posting, calls on a job in the
wrong status, and the challenge window's bounds with and without the resolver's.

Numbers used throughout: CMP at 2.50 USD; a job of 2 GPUs for 10 hours with a max price of 2 CRD
per GPU-hour escrows 40 CRD, its collateral is 30% of that (12 CRD: 4.8 CMP) and the registry
lock adds 100 CMP per GPU (200 CMP). The resolver's defaults bound the challenge window to
[6 h + 1 s, 3 days - 1 s]: above its 6-hour attest window, and below the 7-day unbonding period
less the jury's 1 + 1 days and the 2-day appeal window; the market's own bounds are [1 h, 14 days].
"""

from __future__ import annotations

import ape
import pytest
from utils.helpers import H100, job_spec

from compute_market.models import JobStatus
from compute_market.units import DAY, HOUR, bytes32, to_wei

UINT96_MAX = 2**96 - 1
ZERO_ADDRESS = "0x" + "00" * 20


@pytest.fixture(scope="module")
def _jm_buyer(accounts, make_customer):
    return make_customer(accounts[20])


@pytest.fixture
def jm_buyer(_jm_buyer, fresh_price):
    """The customer, with a fresh oracle answer (tests move the clock)."""
    fresh_price()
    return _jm_buyer


@pytest.fixture(scope="module")
def _jm_seller(accounts, make_provider):
    return make_provider(accounts[21])


def post(market, chain, customer, **kw) -> int:
    tx = market.postJob(job_spec(chain, **kw), sender=customer)
    return tx.events.filter(market.JobPosted)[0].jobId


def leased_job(market, chain, customer, provider, price: int = to_wei(1), **kw) -> int:
    """A 2-GPU, 10-hour job (`kw` as for `job_spec`) won at `price` (1 CRD) per GPU-hour, its
    lease started."""
    job_id = post(market, chain, customer, **kw)
    market.placeBid(job_id, price, sender=provider)
    chain.pending_timestamp += HOUR
    market.finalizeAuction(job_id, sender=provider)
    return job_id


def result_job(market, chain, customer, provider) -> int:
    """A leased job whose provider submitted its result one hour into the lease."""
    job_id = leased_job(market, chain, customer, provider)
    chain.pending_timestamp += HOUR
    market.submitResult(job_id, b"\x01" * 32, "ipfs://result", sender=provider)
    return job_id


# ---------------------------------------------------------------------------- collateral at posting


def test_zero_collateral_rate_posts_without_the_oracle(market, credits, registry, admin, chain, jm_buyer, _jm_seller):
    """With `collateralBps` at 0 the collateral is 0 credits and the oracle is not asked: a job
    posts with a 2-hour-old answer (older than the 1-hour `maxPriceAge`), its collateral is 0 and
    its bid locks only the 200 CMP per-GPU stake. At 30% the same stale answer reverts StalePrice."""
    chain.pending_timestamp += 2 * HOUR
    chain.mine()
    with ape.reverts(credits.StalePrice, maxAge=HOUR):
        market.postJob(job_spec(chain), sender=jm_buyer)
    market.setCollateralBps(0, sender=admin)
    job_id = post(market, chain, jm_buyer)
    job = market.getJob(job_id)
    assert (job.collateral, job.gpuStake, market.fundsOf(job_id).escrow) == (0, to_wei(200), to_wei(40))
    market.placeBid(job_id, to_wei(1), sender=_jm_seller)
    assert market.offerOf(_jm_seller, H100).locked == to_wei(200)


def test_stale_answer_reverts_with_stale_price_when_collateral_is_due(market, credits, chain, jm_buyer):
    """The other side of the zero-collateral shortcut: at the default 30% the 12-CRD collateral
    must be priced, so a 2-hour-old answer reverts the posting with the credits' StalePrice."""
    chain.pending_timestamp += 2 * HOUR
    chain.mine()
    with ape.reverts(credits.StalePrice, maxAge=HOUR):
        credits.creditsToTokens(to_wei(12))
    with ape.reverts(credits.StalePrice, maxAge=HOUR):
        market.postJob(job_spec(chain), sender=jm_buyer)


def test_collateral_past_96_bits_reverts_naming_collateral(market, credits, feed, admin, chain, jm_buyer):
    """A job escrowing 3,000 CRD (2 GPUs, 10 h, 150 CRD per GPU-hour) has 900 CRD of collateral.
    With CMP quoted at 1 feed unit (1e-8 USD) that is 900e18 * 1e8 = 9e28 CMP wei, past
    2^96 - 1 (about 7.92e28): InvalidJobSpec("collateral"), as is a collateral that fits but not
    with the per-GPU stake beside it. At 2 units it is 4.5e28, which fits, and the job stores
    exactly that collateral."""
    unit = credits.priceUnit()
    assert unit == 10**8
    feed.setAnswer(1, sender=admin)
    credits.setPriceFeed(feed, sender=admin)  # forgets the last two accepted answers: 1 unit it is
    assert credits.creditsToTokens(to_wei(900)) == 9 * 10**28 > UINT96_MAX
    with ape.reverts(market.InvalidJobSpec, field=bytes32("collateral")):
        market.postJob(job_spec(chain, max_price=to_wei(150)), sender=jm_buyer)
    # What a bid locks is the collateral and 200 CMP of per-GPU stake, and it must fit an offer's
    # 96-bit provision too: a collateral of 6e8 * max price (30% of 20 GPU-hours at 1e8 CMP per
    # CRD) just under 2^96 fits alone but not with the stake, so no bid could ever take the job.
    near = UINT96_MAX // (6 * 10**8)
    assert UINT96_MAX - 6 * 10**8 * near < to_wei(200)
    with ape.reverts(market.InvalidJobSpec, field=bytes32("collateral")):
        market.postJob(job_spec(chain, max_price=near), sender=jm_buyer)

    feed.setAnswer(2, sender=admin)
    credits.setPriceFeed(feed, sender=admin)
    job_id = post(market, chain, jm_buyer, max_price=to_wei(150))
    job = market.getJob(job_id)
    assert (market.fundsOf(job_id).escrow, job.collateral) == (to_wei(3_000), 45 * 10**27)


# ---------------------------------------------------------------------------- wrong status


def test_cancel_refuses_a_job_past_its_lease(market, chain, jm_buyer, _jm_seller, fresh_price):
    """Only a bidding or leased job may be cancelled: once its result is in (status 3), after it
    expired unbid (6) or was cancelled (5), cancelJob reverts WrongStatus with that status."""
    job_id = result_job(market, chain, jm_buyer, _jm_seller)
    with ape.reverts(market.WrongStatus, jobId=job_id, status=JobStatus.RESULT_SUBMITTED):
        market.cancelJob(job_id, sender=jm_buyer)

    fresh_price()  # the lease moved the clock past the answer's 1-hour age
    unbid = post(market, chain, jm_buyer)
    chain.pending_timestamp += HOUR
    market.finalizeAuction(unbid, sender=jm_buyer)
    assert market.statusOf(unbid) == JobStatus.EXPIRED
    with ape.reverts(market.WrongStatus, jobId=unbid, status=JobStatus.EXPIRED):
        market.cancelJob(unbid, sender=jm_buyer)

    fresh_price()
    cancelled = post(market, chain, jm_buyer)
    market.cancelJob(cancelled, sender=jm_buyer)
    with ape.reverts(market.WrongStatus, jobId=cancelled, status=JobStatus.CANCELLED):
        market.cancelJob(cancelled, sender=jm_buyer)


def test_slash_for_failure_refuses_a_job_that_is_not_leased(market, registry, admin, chain, jm_buyer, _jm_seller):
    """A keeper may slash only a leased job: one still bidding reverts WrongStatus(1), and one
    whose result came in one hour into its 10-hour lease reverts WrongStatus(3) even 12 hours
    later, past the lease's end plus the 1-hour grace; the provider's 204.8 CMP lock stays."""
    bidding = post(market, chain, jm_buyer)
    with ape.reverts(market.WrongStatus, jobId=bidding, status=JobStatus.BIDDING):
        market.slashForFailure(bidding, sender=admin)

    job_id = result_job(market, chain, jm_buyer, _jm_seller)
    chain.pending_timestamp += 12 * HOUR
    with ape.reverts(market.WrongStatus, jobId=job_id, status=JobStatus.RESULT_SUBMITTED):
        market.slashForFailure(job_id, sender=admin)
    assert market.offerOf(_jm_seller, H100).locked == to_wei("204.8")


def test_resolve_dispute_refuses_a_job_not_in_dispute(market, admin, chain, jm_buyer, _jm_seller, fresh_price):
    """The resolver may resolve only a disputed job: a result awaiting its challenge window
    (status 3) reverts WrongStatus(3) either way of the verdict, and so does a leased job (2)."""
    market.grantRole(market.RESOLVER_ROLE(), admin, sender=admin)
    job_id = result_job(market, chain, jm_buyer, _jm_seller)
    for fault in (True, False):
        with ape.reverts(market.WrongStatus, jobId=job_id, status=JobStatus.RESULT_SUBMITTED):
            market.resolveDispute(job_id, fault, [], [], sender=admin)
    assert market.statusOf(job_id) == JobStatus.RESULT_SUBMITTED

    fresh_price()
    leased = leased_job(market, chain, jm_buyer, _jm_seller)
    with ape.reverts(market.WrongStatus, jobId=leased, status=JobStatus.LEASED):
        market.resolveDispute(leased, True, [], [], sender=admin)


# ---------------------------------------------------------------------------- challenge window bounds


def test_without_a_resolver_the_challenge_window_has_the_market_bounds(market, resolver, admin):
    """With the resolver wired, 1 hour is refused (its bounds are [21,601 s, 259,199 s]); with
    the resolver unset only the market's [3,600 s, 1,209,600 s] apply: 1 hour and 14 days are
    set, 3,599 s and 14 days + 1 s are refused with those bounds."""
    lo, hi = resolver.challengeWindowBounds()
    assert (lo, hi) == (6 * HOUR + 1, 3 * DAY - 1)
    with ape.reverts(market.ParameterOutOfBounds, value=HOUR, min=lo, max=hi):
        market.setChallengeWindow(HOUR, sender=admin)

    market.setResolver(ZERO_ADDRESS, sender=admin)
    for bad in (HOUR - 1, 14 * DAY + 1):
        with ape.reverts(market.ParameterOutOfBounds, value=bad, min=HOUR, max=14 * DAY):
            market.setChallengeWindow(bad, sender=admin)
    for good in (HOUR, 14 * DAY):
        market.setChallengeWindow(good, sender=admin)
        assert market.challengeWindow() == good


def test_a_resolver_lower_bound_under_one_hour_leaves_the_market_floor(market, resolver, admin):
    """With the attest window at 10 minutes the resolver's lower bound is 601 s, below the
    market's 1 hour: the floor stays 3,600 s (3,599 s refused with min 3,600, 3,600 s set) while
    the resolver's upper bound, 3 days - 1 s, still applies."""
    resolver.setAttestWindow(10 * 60, sender=admin)
    assert resolver.challengeWindowBounds() == (601, 3 * DAY - 1)
    with ape.reverts(market.ParameterOutOfBounds, value=HOUR - 1, min=HOUR, max=3 * DAY - 1):
        market.setChallengeWindow(HOUR - 1, sender=admin)
    market.setChallengeWindow(HOUR, sender=admin)
    assert market.challengeWindow() == HOUR


def test_a_resolver_upper_bound_over_14_days_leaves_the_market_ceiling(market, resolver, registry, admin):
    """With the unbonding period at 60 days the resolver's upper bound is 60 - 4 days - 1 s
    (4,838,399 s), above the market's 14 days: the ceiling stays 1,209,600 s (14 days + 1 s
    refused with max 14 days, 14 days set) while the resolver's floor, 6 h + 1 s, still applies."""
    registry.setUnbondingPeriod(60 * DAY, sender=admin)
    assert resolver.challengeWindowBounds() == (6 * HOUR + 1, 56 * DAY - 1)
    with ape.reverts(market.ParameterOutOfBounds, value=14 * DAY + 1, min=6 * HOUR + 1, max=14 * DAY):
        market.setChallengeWindow(14 * DAY + 1, sender=admin)
    market.setChallengeWindow(14 * DAY, sender=admin)
    assert market.challengeWindow() == 14 * DAY


# ---------------------------------------------------------------------------- verification fees


def _settle_verified(market, chain, customer, provider):
    """A 2-GPU, 10-hour job asking for verification, won at 1.10 CRD (a lease of 22 CRD), its
    result submitted at the lease's end and settled once the challenge window closed."""
    job_id = leased_job(market, chain, customer, provider, to_wei("1.10"), verification=True)
    chain.pending_timestamp += 10 * HOUR
    market.submitResult(job_id, b"\x01" * 32, "r", sender=provider)
    chain.pending_timestamp += DAY
    return market.settleJob(job_id, sender=customer).events.filter(market.JobSettled)[0]


def test_a_verified_job_without_a_fee_or_without_a_resolver_pays_no_verifier(
    market, chain, admin, jm_buyer, _jm_seller, fresh_price
):
    """A job that asks for verification but escrowed no fee (`verificationFeeBps` 0 at posting:
    40 CRD, 18 of it refunded at the close) settles paying the provider its 22 CRD and refunding
    nothing more; one that escrowed its 5% fee (42 CRD) while no resolver is set gets the 2 CRD fee
    back at settlement: nobody verified either."""
    market.setVerificationFeeBps(0, sender=admin)
    settled = _settle_verified(market, chain, jm_buyer, _jm_seller)
    assert (settled.providerGross, settled.refund) == (to_wei(22), 0)
    market.setVerificationFeeBps(500, sender=admin)
    market.setResolver(ZERO_ADDRESS, sender=admin)
    fresh_price()  # a day and 11 hours on
    settled = _settle_verified(market, chain, jm_buyer, _jm_seller)
    assert (settled.providerGross, settled.refund) == (to_wei(22), to_wei(2))
