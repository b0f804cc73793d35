"""``ape run gas``: plays fixed scenarios on a local chain and prints gas per operation from
receipts; writes ``gas-report.json`` and compares with the previous one when it exists."""

from __future__ import annotations

import json
from pathlib import Path

import click
from ape import accounts, project
from ape.cli import ConnectedProviderCommand, network_option

from compute_market.benchmarks import credits_scenario, market_scenario, registry_scenario
from compute_market.deployment import Deployer
from compute_market.gasreport import GasReport


@click.command(cls=ConnectedProviderCommand)
@network_option(default="ethereum:local:foundry")
@click.option("--out", type=click.Path(path_type=Path), default=Path("gas-report.json"), show_default=True)
def cli(out: Path) -> None:
    """Gas per operation from receipts."""
    admin, customer, *providers = accounts.test_accounts[:6]
    record = Path(project.path) / ".build" / "gas-deployment.json"
    protocol = Deployer(project, admin, fresh=True, record_path=record, log=lambda _m: None).run()
    gas = GasReport()
    credits_scenario(protocol, gas, admin, [customer, *providers])
    registry_scenario(protocol, gas, admin, providers)
    market_scenario(protocol, gas, admin, customer, providers)
    baseline = json.loads(out.read_text()) if out.exists() else None
    click.echo(gas.table(baseline))
    gas.save(out)
    click.echo(f"\nwritten to {out}")
