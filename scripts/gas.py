"""``ape run gas``: plays a fixed scenario on a local chain and prints gas per operation from
receipts; writes ``gas-report.json`` and compares with the previous one when it exists."""

from __future__ import annotations

import json
from pathlib import Path

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand, network_option

from compute_market.deployment import Deployer
from compute_market.gasreport import GasReport
from compute_market.units import DAY, bytes32, to_wei


def credits_scenario(protocol, gas: GasReport, admin, users) -> None:  # noqa: ANN001
    token, credits = protocol.token, protocol.credits
    for user in users:
        token.transfer(user, to_wei(1_000), sender=admin)
        token.approve(credits, 2**256 - 1, sender=user)
        gas.record("ComputeCredits.mintWithTokens", credits.mintWithTokens(to_wei(100), 0, user, sender=user))
        gas.record("ComputeCredits.redeem", credits.redeem(to_wei(10), 0, user, sender=user))


def registry_scenario(protocol, gas: GasReport, admin, users) -> None:  # noqa: ANN001
    token, registry = protocol.token, protocol.registry
    for i, user in enumerate(users):
        token.transfer(user, to_wei(10_000), sender=admin)
        token.approve(registry, 2**256 - 1, sender=user)
        gas.record(
            "ProviderRegistry.register",
            registry.register(f"ipfs://provider-{i}", bytes32("eu-west"), sender=user),
        )
        gas.record("ProviderRegistry.setCapacity", registry.setCapacity(bytes32("H100-80GB"), 8, 80, sender=user))
        gas.record("ProviderRegistry.stake", registry.stake(to_wei(5_000), sender=user))
        gas.record("ProviderRegistry.requestUnstake", registry.requestUnstake(to_wei(1_000), sender=user))
    chain.pending_timestamp += 7 * DAY
    for user in users:
        gas.record("ProviderRegistry.withdrawUnstaked", registry.withdrawUnstaked(sender=user))


@click.command(cls=ConnectedProviderCommand)
@network_option(default="ethereum:local:foundry")
@click.option("--out", type=click.Path(path_type=Path), default=Path("gas-report.json"), show_default=True)
def cli(out: Path) -> None:
    """Gas per operation from receipts."""
    admin, *users = accounts.test_accounts[:6]
    protocol = Deployer(project, admin, fresh=True, record_path=Path("/tmp/gas-deploy.json"), log=lambda _m: None).run()
    gas = GasReport()
    credits_scenario(protocol, gas, admin, users)
    registry_scenario(protocol, gas, admin, users)
    baseline = json.loads(out.read_text()) if out.exists() else None
    click.echo(gas.table(baseline))
    gas.save(out)
    click.echo(f"\nwritten to {out}")
