"""Fixtures shared by the JobMarket tests (tests/unit/job_market): a module-scoped customer and providers."""

from __future__ import annotations

import pytest


# The customer and the providers are set up once per module (each test then starts from that
# state); only the oracle answer is renewed for every test, since tests move the clock.
@pytest.fixture(scope="module")
def _customer(accounts, make_customer):
    return make_customer(accounts[10])


@pytest.fixture(scope="module")
def providers(accounts, make_provider):
    return [make_provider(accounts[i]) for i in (11, 12, 13)]


@pytest.fixture
def treasury(market):
    return market.treasury()
