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
from rich.console import Console

from compute_market.deployment import Deployer, Protocol
from compute_market.gasreport import GasReport
from compute_market.gastrace import Breakdown, breakdown, labeller, trace_transaction
from compute_market.progress import progress_bar
from compute_market.simulation.engine import START_TIME
from compute_market.units import to_wei
from gas_benchmarks.scenarios import (
    H100,
    MARKET_SIZES,
    PROVISION_CMP,
    credits_scenario,
    deployed_sizes,
    dispute_scenario,
    draw_scaling,
    first_credit_scenario,
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
    first_credit_scenario(protocol, gas, admin, accounts.test_accounts[34:37], providers[0])
    rewards_scenario(protocol, gas, admin, accounts.test_accounts[30], accounts.test_accounts[31:34])
    baseline = json.loads(out.read_text()) if out.exists() else None
    click.echo(gas.table(baseline))
    click.echo("\nWhere the gas goes (each operation's median transaction, from the node's call tracer)")
    breakdowns = gas_breakdowns(protocol, gas)
    click.echo(breakdown_table(breakdowns))

    click.echo("\nDeployed size (bytes of runtime code; the limit is 24,576)")
    for name, size in deployed_sizes(project).items():
        click.echo(f"| `{name}` | {size:,} | {24_576 - size:,} left |")

    click.echo("\nScaling: gas of one stake-weighted verifier draw (processDraws after requestVerifier)")
    draws = draw_scaling(
        project, deploy_with_provider(deploy, admin, providers[0]), admin, customer, providers[0], (10, 100, 1_000)
    )
    for size, used in draws.items():
        click.echo(f"  {size:>5} verifiers: {used:,}")
    click.echo("\nScaling: gas as prior bids (placeBid, finalizeAuction) or open jobs (postJob, settleJob) grow")
    with progress_bar(Console(stderr=True)) as bar:
        task = bar.add_task("scaling", total=sum(2 * n + 12 for n in MARKET_SIZES), info="")
        market_figures = market_scaling(
            deploy_with_provider(deploy, admin, providers[0], providers[1]),
            admin,
            customer,
            providers[:2],
            sent=lambda count: bar.advance(task, count),
        )
    for op, row in market_figures.items():
        click.echo(f"  {op:<16} " + "  ".join(f"n={n}: {g:,}" for n, g in row.items()))
    scaling = {"verifierDraw": {str(k): v for k, v in draws.items()}}
    scaling |= {op: {str(k): v for k, v in row.items()} for op, row in market_figures.items()}
    report = gas.summary() | {"scaling": scaling, "breakdown": {op: b.as_dict() for op, b in breakdowns.items()}}
    out.write_text(json.dumps(report, indent=2) + "\n")
    click.echo(f"\nwritten to {out}")


def gas_breakdowns(protocol: Protocol, gas: GasReport) -> dict[str, Breakdown]:
    """The call tracer's split of each operation's median transaction (operations recorded as
    sums of several transactions, like the lifecycle, have none)."""
    contracts = {
        "ComputeToken": protocol.token,
        "PriceFeed": protocol.price_feed,
        "ComputeCredits": protocol.credits,
        "ProviderRegistry": protocol.registry,
        "JobMarket": protocol.market,
        "DisputeResolver": protocol.resolver,
        "RewardsDistributor": protocol.rewards,
    }
    label = labeller(contracts)
    found = {op: gas.median_transaction(op) for op in gas.summary()}
    return {op: breakdown(trace_transaction(chain.provider, tx), label) for op, tx in found.items() if tx is not None}


def breakdown_table(breakdowns: dict[str, Breakdown]) -> str:
    rows = [
        "| operation | total | 21,000 + calldata | the contract itself | calls to other contracts |",
        "|---|---:|---:|---:|---|",
    ]
    for op, b in breakdowns.items():
        rows.append(f"| `{op}` | {b.total:,} | {b.intrinsic:,} | {b.own:,} | {b.calls_text()} |")
    return "\n".join(rows)


def deploy_with_provider(deploy: Callable[[], Protocol], admin: Any, *providers: Any) -> Protocol:
    """A fresh deployment with `providers` registered and staked (for the scaling runs)."""
    protocol = deploy()
    registry_scenario(protocol, GasReport(), admin, list(providers))
    for provider in providers:
        # room for every benchmark job
        protocol.market.setOffer(H100, 64, 80, to_wei(PROVISION_CMP), sender=provider)
    return protocol
