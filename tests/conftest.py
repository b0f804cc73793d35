"""Shared fixtures: accounts by role and the protocol deployed through the deploy code itself."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import settings
from utils.helpers import CONFIRMED, EU, H100, PRICE_USD, load_script
from utils.strict_reverts import install as strict_reverts

from compute_market.client import MarketClient
from compute_market.deployment import Deployer
from compute_market.units import to_wei, usd_to_feed

# Property tests draw the same examples on every run by default, so CI and the coverage figures
# are reproducible and a red run is never a newly drawn example on an unrelated change.
# `HYPOTHESIS_PROFILE=explore` draws fresh ones (a failure then prints the blob that replays it).
settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

# `ape.reverts(Error)` passes on reverts ape could not decode (tests/utils/strict_reverts.py): made strict.
strict_reverts()


def pytest_collection_finish(session: pytest.Session) -> None:
    """Refuses a suite in which one fixture name is defined at two scopes.

    Ape's isolation orders a test's fixtures by every scope its *name* has anywhere in the session,
    so a function-scoped `provider` in one module, when another module has a module-scoped
    `provider`, runs before the test's snapshot and its transactions leak into the next tests.
    Give the longer-lived fixture its own name (`_provider`) and keep the short-lived one.
    """
    definitions = session._fixturemanager._arg2fixturedefs  # pytest has no public map of them
    mixed = {
        name: sorted({d.scope for d in defs}) for name, defs in definitions.items() if len({d.scope for d in defs}) > 1
    }
    if mixed:
        raise pytest.UsageError(f"fixtures defined at more than one scope (Ape isolation leaks): {mixed}")


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


@pytest.fixture(scope="module")
def market(protocol):
    return protocol.market


# ---------------------------------------------------------------------- market helpers


@pytest.fixture(scope="module")
def fresh_price(feed, admin):
    """Writes a fresh oracle answer (tests that move time must refresh the oracle)."""

    def _fresh(usd: str = PRICE_USD) -> None:
        feed.setAnswer(usd_to_feed(Decimal(usd)), sender=admin)

    return _fresh


@pytest.fixture(scope="module")
def make_provider(registry, market, token, admin):
    """Registers and stakes for an account, then offers `gpus` GPUs of `model` in the market
    with `provision` of the stake set aside for them (all of it unless told)."""

    def _make(
        account,
        stake: int = to_wei(10_000),
        model: bytes = H100,
        gpus: int = 8,
        vram: int = 80,
        region: bytes = EU,
        provision: int | None = None,
    ):
        token.transfer(account, stake, sender=admin)
        token.approve(registry, 2**256 - 1, sender=account)
        registry.register(f"ipfs://{account.address}", region, sender=account)
        if stake:
            registry.stake(stake, sender=account)
        market.setOffer(model, gpus, vram, stake if provision is None else provision, sender=account)
        return account

    return _make


@pytest.fixture(scope="module")
def make_customer(token, credits, market, admin, fresh_price):
    """Gives an account credits (minted from CMP) and approves the market."""

    def _make(account, cmp_amount: int = to_wei(4_000)):
        fresh_price()
        token.transfer(account, cmp_amount, sender=admin)
        token.approve(credits, cmp_amount, sender=account)
        credits.mintWithTokens(cmp_amount, 0, account, sender=account)
        credits.approve(market, 2**256 - 1, sender=account)
        return account

    return _make


@pytest.fixture(scope="module")
def resolver(protocol):
    return protocol.resolver


@pytest.fixture(scope="module")
def make_verifier(registry, token, admin):
    """Registers an account as a verifier with `stake` CMP."""

    def _make(account, stake: int = to_wei(1_000)):
        token.transfer(account, stake, sender=admin)
        token.approve(registry, 2**256 - 1, sender=account)
        registry.registerVerifier(sender=account)
        if stake:
            registry.stakeAsVerifier(stake, sender=account)
        return account

    return _make


@pytest.fixture(scope="module")
def rewards(protocol):
    return protocol.rewards


# ---------------------------------------------------------------------- parties as SDK clients


@pytest.fixture
def customer(protocol, accounts, make_customer):
    """A customer (account 43, credits minted) acting through `MarketClient`. Modules whose
    parties are bare accounts define their own `customer`, at the same (function) scope."""
    return MarketClient(protocol, make_customer(accounts[43]))


@pytest.fixture
def provider(protocol, accounts, make_provider):
    """A provider (account 41, registered and staked) acting through `MarketClient`."""
    return MarketClient(protocol, make_provider(accounts[41]))


# ---------------------------------------------------------------------- `ape run market` in process


@pytest.fixture
def record_path(protocol, tmp_path) -> Path:
    """The module's deployment record, saved for the CLI's ``--deployment``."""
    path = tmp_path / "deployment.json"
    protocol.record.save(path)
    return path


@pytest.fixture
def invoke(chain, record_path):
    """Runs a command of a script's click group as `account` on the test node, in process (the
    command connects to the node by its URL), its confirmation answered by ``COMPUTE_MARKET_YES=1``;
    returns click's result."""

    def _invoke(script, account: str, *args: str):
        common = ["--network", chain.provider.uri, "--account", account, "--deployment", str(record_path)]
        return CliRunner(mix_stderr=False).invoke(script, [*args, *common], env=CONFIRMED)

    return _invoke


@pytest.fixture
def run_market(invoke):
    """Runs `ape run market ARGS --json` as `account`; returns the parsed JSON (exit code 0)."""
    market = load_script("market").cli

    def _market(account: str, *args: str) -> dict:
        result = invoke(market, account, *args, "--json")
        assert result.exit_code == 0, result.stdout + result.stderr
        return json.loads(result.stdout)

    return _market
