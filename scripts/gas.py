"""``ape run gas``: plays a fixed scenario on a local chain and prints gas per operation from
receipts; writes ``gas-report.json`` and compares with the previous one when it exists."""

from __future__ import annotations

import json
from pathlib import Path

import click
from ape import accounts, project
from ape.cli import ConnectedProviderCommand, network_option

from compute_market.deployment import Deployer
from compute_market.gasreport import GasReport
from compute_market.units import to_wei


def credits_scenario(protocol, gas: GasReport, admin, users) -> None:  # noqa: ANN001
    token, credits = protocol.token, protocol.credits
    for user in users:
        token.transfer(user, to_wei(1_000), sender=admin)
        token.approve(credits, 2**256 - 1, sender=user)
        gas.record("ComputeCredits.mintWithTokens", credits.mintWithTokens(to_wei(100), 0, user, sender=user))
        gas.record("ComputeCredits.redeem", credits.redeem(to_wei(10), 0, user, sender=user))


@click.command(cls=ConnectedProviderCommand)
@network_option(default="ethereum:local:foundry")
@click.option("--out", type=click.Path(path_type=Path), default=Path("gas-report.json"), show_default=True)
def cli(out: Path) -> None:
    """Gas per operation from receipts."""
    admin, *users = accounts.test_accounts[:6]
    protocol = Deployer(
        project, admin, fresh=True, record_path=Path("/tmp/gas-deploy.json"), log=lambda _m: None
    ).run()
    gas = GasReport()
    credits_scenario(protocol, gas, admin, users)
    baseline = json.loads(out.read_text()) if out.exists() else None
    click.echo(gas.table(baseline))
    gas.save(out)
    click.echo(f"\nwritten to {out}")
