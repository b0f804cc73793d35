"""Fixtures shared by the RewardsDistributor tests (tests/unit/rewards_distributor): a distributor of its
own per test, the account holding the reporters' roles, and a settle action."""

from __future__ import annotations

import pytest
from utils.rewards_distributor import AMPLE_FEE, deploy_distributor


@pytest.fixture
def reporter(accounts):
    return accounts[30]


@pytest.fixture
def dist(project, token, credits, admin, reporter):
    return deploy_distributor(project, token, credits, admin, reporter)


@pytest.fixture
def settle(dist, reporter, fresh_price):
    """Reports job `job_id` settled: `provider` earned `credits`, the job paid `fee` credits."""

    def _settle(job_id: int, provider, credits: int, fee: int = AMPLE_FEE, verification: bool = True):
        fresh_price()
        return dist.recordWork(job_id, provider, credits, fee, verification, sender=reporter)

    return _settle


@pytest.fixture
def ledger(project, token, dist, admin):
    """A staking ledger of its own accruing this distributor's stake share (the registry)."""
    registry = project.ProviderRegistry.deploy(admin, token, dist, sender=admin)
    dist.setLedger(registry, sender=admin)
    return registry
