"""JobMarket: a provider that fails or abandons, slashing and the keeper bounty.

A failure's slash is credited in the ledger to the customer and the keeper (`payoutOf`), who
claim it with `claimPayout` (README Decisions, "A failed lease's slash is credited, not sent").

Numbers used throughout: CMP at 2.50 USD; a job of 2 GPUs for 10 hours with a max price of
2 CRD per GPU-hour escrows 40 CRD; the lease value at price p is 20p CRD; collateral is 30% of the
lease value at the max price (12 CRD: 4.8 CMP), whatever the bid
in CMP, 6p CRD / 2.5 = 2.4p CMP, and the registry lock adds 100 CMP per GPU.
"""

from __future__ import annotations

import ape
import pytest
from utils.helpers import H100
from utils.job_market import FAILED, crd, leased_job, post

from compute_market.units import HOUR, to_wei


@pytest.fixture
def customer(_customer, fresh_price):
    fresh_price()
    return _customer


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
    crd_before, cmp_before, keeper_before, ledger_before = (
        credits.balanceOf(customer),
        token.balanceOf(customer),
        token.balanceOf(stranger),
        token.balanceOf(registry),
    )
    tx = market.slashForFailure(job_id, sender=stranger)
    event = tx.events.filter(market.JobFailed)[0]
    assert (event.slashed, event.bounty, event.refund) == (crd("4.8"), crd("0.24"), crd("13.2"))
    assert credits.balanceOf(customer) == crd_before + crd("13.2")
    # The CMP stays in the ledger, credited: 4.56 to the customer, 0.24 to the keeper.
    assert (registry.payoutOf(customer), registry.payoutOf(stranger)) == (crd("4.56"), crd("0.24"))
    credited = [(e.payee, e.amount) for e in tx.events.filter(registry.SlashCredited)]
    assert credited == [(customer, crd("4.56")), (stranger, crd("0.24"))]
    assert not tx.events.filter(registry.SlashPaid)
    assert (token.balanceOf(customer), token.balanceOf(stranger)) == (cmp_before, keeper_before)
    assert token.balanceOf(registry) == ledger_before
    # Anyone may deliver a payee's credit; it goes to the payee only.
    registry.claimPayout(customer, sender=stranger)
    registry.claimPayout(stranger, sender=stranger)
    assert token.balanceOf(customer) == cmp_before + crd("4.56")
    assert token.balanceOf(stranger) == keeper_before + crd("0.24")
    assert token.balanceOf(registry) == ledger_before - crd("4.8")
    assert registry.payoutOf(customer) == registry.payoutOf(stranger) == 0
    assert registry.stakeOf(p1) == to_wei(10_000) - crd("4.8")
    assert registry.providerOf(p1).failed == 1
    assert market.offerOf(p1, H100).locked == 0
    assert credits.balanceOf(market) == market.feesAccrued()  # only the treasury's fees
    assert market.statusOf(job_id) == FAILED


def test_a_failed_provider_slashing_itself_gets_no_keeper_bounty(market, registry, token, chain, customer, providers):
    """The provider that missed its deadline calls `slashForFailure` itself: the 5% bounty
    (0.24 CMP of the 4.8 CMP collateral) is not paid to it; the customer gets all 4.8 CMP."""
    p1 = providers[0]
    job_id = leased_job(market, chain, customer, p1)
    chain.pending_timestamp = market.getJob(job_id).leaseStart + 11 * HOUR + 1
    provider_before = token.balanceOf(p1)
    tx = market.slashForFailure(job_id, sender=p1)
    assert tx.events.filter(market.JobFailed)[0].bounty == 0
    assert registry.payoutOf(customer) == crd("4.8")
    assert registry.payoutOf(p1) == 0
    assert token.balanceOf(p1) == provider_before


def test_a_failed_provider_slashing_itself_through_another_address_still_loses_95_percent(
    market, registry, token, chain, customer, providers, accounts
):
    """The same provider calls `slashForFailure` from a second address of its own: that address
    is paid the 5% keeper bounty (0.24 CMP) like any keeper, and the provider's two addresses
    together still lose 4.56 CMP of the 4.8 CMP collateral, 95%: the bounty pays whoever ends a
    failure first (the provider can always be first) and cannot turn a failure into a gain. The
    customer gets the other 4.56 CMP. (Decisions, "The keeper bounty on a failure".)"""
    p1, second = providers[0], accounts[47]
    job_id = leased_job(market, chain, customer, p1)
    chain.pending_timestamp = market.getJob(job_id).leaseStart + 11 * HOUR + 1
    stake_before = registry.stakeOf(p1)
    group_before = token.balanceOf(p1) + token.balanceOf(second)
    tx = market.slashForFailure(job_id, sender=second)
    assert tx.events.filter(market.JobFailed)[0].bounty == crd("0.24")
    registry.claimPayout(second, sender=second)
    group_change = token.balanceOf(p1) + token.balanceOf(second) + registry.stakeOf(p1) - group_before - stake_before
    assert group_change == -crd("4.56")
    assert registry.payoutOf(customer) == crd("4.56")


def test_grace_and_keeper_bounty_are_fixed_when_the_job_is_posted(
    market, registry, chain, admin, customer, providers, stranger
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
    tx = market.slashForFailure(job_id, sender=stranger)
    assert tx.events.filter(market.JobFailed)[0].bounty == crd("0.24")
    assert registry.payoutOf(stranger) == crd("0.24")


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


def test_abandoned_lease_gives_the_customer_the_whole_slash(market, registry, credits, chain, customer, providers):
    p1 = providers[0]
    job_id = leased_job(market, chain, customer, p1)
    crd_before = credits.balanceOf(customer)
    tx = market.abandonJob(job_id, sender=p1)
    event = tx.events.filter(market.JobFailed)[0]
    assert (event.slashed, event.bounty) == (crd("4.8"), 0)
    assert registry.payoutOf(customer) == crd("4.8")
    assert credits.balanceOf(customer) == crd_before + crd(22)
    assert registry.providerOf(p1).failed == 1
    with ape.reverts(market.NotProvider):
        market.abandonJob(job_id, sender=customer)
