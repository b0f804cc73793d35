"""``ape run gas``: plays fixed scenarios on a local chain and prints gas per operation from
receipts; writes ``gas-report.json`` and compares with the previous one when it exists."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand, network_option

from compute_market.deployment import Deployer, Protocol
from compute_market.gasreport import GasReport
from compute_market.simulation.engine import START_TIME
from gas_benchmarks.scenarios import (
    H100,
    credits_scenario,
    deployed_sizes,
    dispute_scenario,
    draw_scaling,
    market_scaling,
    market_scenario,
    registry_scenario,
    rewards_scenario,
)

# A fixed genesis, as for the simulation: the same prevrandao (so the same verifiers and jurors
# drawn) and the same epoch positions on every run, so that two runs give the same figures.
os.environ.setdefault("ANVIL_GENESIS_TIMESTAMP", str(START_TIME))


@click.command(cls=ConnectedProviderCommand)
@network_option(default="ethereum:local:foundry")
@click.option("--out", type=click.Path(path_type=Path), default=Path("gas-report.json"), show_default=True)
def cli(out: Path) -> None:
    """Gas per operation from receipts."""
    admin, customer, *providers = accounts.test_accounts[:6]
    verifiers = accounts.test_accounts[20:29]
    record = Path(project.path) / ".build" / "gas-deployment.json"
    chain.provider.make_request("anvil_setBlockTimestampInterval", [1])  # blocks off the wall clock

    def deploy() -> Protocol:
        return Deployer(project, admin, fresh=True, record_path=record, log=lambda _m: None).run()

    protocol = deploy()
    gas = GasReport()
    credits_scenario(protocol, gas, admin, [customer, *providers])
    registry_scenario(protocol, gas, admin, providers)
    market_scenario(protocol, gas, admin, customer, providers)
    dispute_scenario(protocol, gas, admin, customer, providers[0], verifiers)
    rewards_scenario(protocol, gas, admin, accounts.test_accounts[30], accounts.test_accounts[31:34])
    baseline = json.loads(out.read_text()) if out.exists() else None
    click.echo(gas.table(baseline))

    click.echo("\nDeployed size (bytes of runtime code; the limit is 24,576)")
    for name, size in deployed_sizes(project).items():
        click.echo(f"| `{name}` | {size:,} | {24_576 - size:,} left |")

    click.echo("\nScaling: gas of one stake-weighted verifier draw (processDraws after requestVerifier)")
    draws = draw_scaling(
        project, deploy_with_provider(deploy, admin, providers[0]), admin, customer, providers[0], (10, 100, 1_000)
    )
    for size, used in draws.items():
        click.echo(f"  {size:>5} verifiers: {used:,}")
    click.echo("\nScaling: gas as prior bids (placeBid, finalizeAuction) or open jobs (settleJob) grow")
    market_figures = market_scaling(
        deploy_with_provider(deploy, admin, providers[0], providers[1]), admin, customer, providers[:2]
    )
    for op, row in market_figures.items():
        click.echo(f"  {op:<16} " + "  ".join(f"n={n}: {g:,}" for n, g in row.items()))
    scaling = {"verifierDraw": {str(k): v for k, v in draws.items()}}
    scaling |= {op: {str(k): v for k, v in row.items()} for op, row in market_figures.items()}
    report = gas.summary() | {"scaling": scaling}
    out.write_text(json.dumps(report, indent=2) + "\n")
    click.echo(f"\nwritten to {out}")


def deploy_with_provider(deploy: Callable[[], Protocol], admin: Any, *providers: Any) -> Protocol:
    """A fresh deployment with `providers` registered and staked (for the scaling runs)."""
    protocol = deploy()
    registry_scenario(protocol, GasReport(), admin, list(providers))
    for provider in providers:
        protocol.registry.setCapacity(H100, 64, 80, sender=provider)  # room for every benchmark job
    return protocol
