"""Shared fixtures: accounts by role and the protocol deployed through the deploy code itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from compute_market.deployment import Deployer
from compute_market.units import to_wei


@pytest.fixture(scope="session")
def admin(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def alice(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def bob(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def carol(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def stranger(accounts):
    return accounts[9]


@pytest.fixture(scope="module")
def protocol(project, admin, tmp_path_factory):
    record = Path(tmp_path_factory.mktemp("deployments")) / "record.json"
    return Deployer(project, admin, record_path=record, log=lambda _msg: None).run()


@pytest.fixture(scope="module")
def token(protocol):
    return protocol.token


@pytest.fixture(scope="module")
def feed(protocol):
    return protocol.price_feed


@pytest.fixture(scope="module")
def credits(protocol):
    return protocol.credits


@pytest.fixture(scope="module")
def fund(token, admin):
    """Gives an account CMP from the admin's initial supply."""

    def _fund(account, amount: int = to_wei(10_000)) -> None:
        token.transfer(account, amount, sender=admin)

    return _fund


@pytest.fixture(scope="module")
def registry(protocol):
    return protocol.registry
