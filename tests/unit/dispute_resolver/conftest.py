"""Fixtures shared by the DisputeResolver tests (tests/unit/dispute_resolver): module-scoped parties and
verifiers, a verified job whose result was just submitted, and the draws it queued."""

from __future__ import annotations

import pytest
from utils.dispute_resolver import crd, process_draws
from utils.helpers import job_spec

from compute_market.units import HOUR


# The parties and the nine verifiers are set up once per module (each test then starts from
# that state); only the oracle answer is renewed for every test, since tests move the clock.
@pytest.fixture(scope="module")
def _customer(accounts, make_customer, credits, resolver):
    account = make_customer(accounts[10])
    credits.approve(resolver, 2**256 - 1, sender=account)
    return account


@pytest.fixture(scope="module")
def _provider(accounts, make_provider):
    return make_provider(accounts[11])


# Every test here acts as those module parties (function-scoped names, as everywhere: see
# `pytest_collection_finish` in tests/conftest.py), with a fresh oracle answer.
@pytest.fixture
def customer(_customer, fresh_price):
    fresh_price()
    return _customer


@pytest.fixture
def provider(_provider):
    return _provider


@pytest.fixture(scope="module")
def verifiers(accounts, make_verifier):
    return {a.address: make_verifier(a) for a in accounts[20:29]}


@pytest.fixture
def result_job(market, chain, customer, provider, verifiers, fresh_price):
    """A verified job whose result was just submitted."""
    tx = market.postJob(job_spec(chain, verification=True), sender=customer)
    job_id = tx.events.filter(market.JobPosted)[0].jobId
    market.placeBid(job_id, crd("1.10"), sender=provider)
    chain.pending_timestamp += HOUR
    market.finalizeAuction(job_id, sender=customer)
    chain.pending_timestamp += 10 * HOUR
    market.submitResult(job_id, b"\x42" * 32, "ipfs://result", sender=provider)
    fresh_price()
    return job_id


@pytest.fixture
def draws(resolver, chain, customer, registry):
    """Makes queued draws: mines past their target blocks and processes the queue."""

    class Draws:
        @staticmethod
        def process():
            return process_draws(chain, registry, customer)

        @staticmethod
        def verifier(job_id: int):
            """Requests the verifier of `job_id` and makes the draw: its `VerifierAssigned` event."""
            resolver.requestVerifier(job_id, sender=customer)
            return Draws.process().events.filter(resolver.VerifierAssigned)[0]

    return Draws
