"""JobMarket: the hooks the dispute resolver calls.

Numbers used throughout: CMP at 2.50 USD; a job of 2 GPUs for 10 hours with a max price of
2 CRD per GPU-hour escrows 40 CRD; the lease value at price p is 20p CRD; collateral is 30% of the
lease value at the max price (12 CRD: 4.8 CMP), whatever the bid
in CMP, 6p CRD / 2.5 = 2.4p CMP, and the registry lock adds 100 CMP per GPU.
"""

from __future__ import annotations

import ape
import pytest
from utils.job_market import DISPUTED, FAILED, SETTLED, crd, leased_job

from compute_market.units import HOUR


@pytest.fixture
def customer(_customer, fresh_price):
    fresh_price()
    return _customer


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


def test_a_dispute_opens_only_on_a_submitted_result(market, chain, customer, providers, resolver_role):
    """The resolver can open a dispute only on a job whose result is in: on a running lease
    (status 2) `openDispute` reverts WrongStatus(2), and once settled (status 4) WrongStatus(4)."""
    p1 = providers[0]
    job_id = leased_job(market, chain, customer, p1)
    with ape.reverts(market.WrongStatus, jobId=job_id, status=2):
        market.openDispute(job_id, sender=resolver_role)
    chain.pending_timestamp = market.getJob(job_id).leaseStart + 10 * HOUR
    market.submitResult(job_id, b"\x01" * 32, "r", sender=p1)
    chain.pending_timestamp += 86_400
    market.settleJob(job_id, sender=customer)
    with ape.reverts(market.WrongStatus, jobId=job_id, status=SETTLED):
        market.openDispute(job_id, sender=resolver_role)
