"""JobMarket: pause, roles and governance parameters.

Numbers used throughout: CMP at 2.50 USD; a job of 2 GPUs for 10 hours with a max price of
2 CRD per GPU-hour escrows 40 CRD; the lease value at price p is 20p CRD; collateral is 30% of the
lease value at the max price (12 CRD: 4.8 CMP), whatever the bid
in CMP, 6p CRD / 2.5 = 2.4p CMP, and the registry lock adds 100 CMP per GPU.
"""

from __future__ import annotations

import ape
import pytest
from utils.helpers import assert_bounded_setter, job_spec
from utils.job_market import crd, leased_job, post

from compute_market.units import HOUR, to_wei


@pytest.fixture
def customer(_customer, fresh_price):
    fresh_price()
    return _customer


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
