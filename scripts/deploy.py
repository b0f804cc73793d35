"""``ape run deploy``: deploys and wires the protocol on any Ape network.

    ape run deploy --network ethereum:local:foundry
    ape run deploy --network http://127.0.0.1:8545 --account TEST::0
    ape run deploy --network ethereum:sepolia:node --account deployer \\
        --price-feed 0xYourCmpUsdFeed --timelock-delay 172800 --dry-run

The record goes to ``deployments/<chain-id>.json``; running again reuses it and deploys only
what is missing. ``--dry-run`` sends nothing to the network: it lists what would be deployed
and plays the whole deployment on a throwaway local anvil to report its gas.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from ape import accounts, chain, networks, project
from ape.cli import ConnectedProviderCommand, account_option, network_option

from compute_market.cli import ADDRESS, BYTES32, InputError
from compute_market.deployment import Deployer


@click.command(cls=ConnectedProviderCommand)
@network_option()
@account_option()
@click.option("--fresh", is_flag=True, help="Ignore the existing record and deploy everything anew.")
@click.option("--price-feed", default=None, help="A Chainlink-shaped CMP/USD feed; without it a MockPriceFeed.")
@click.option("--treasury", default=None, help="Fee recipient (default: the deployer).")
@click.option(
    "--timelock-delay",
    type=int,
    default=None,
    help="Put a TimelockController with this delay "
    "(seconds) in every admin seat; the deployer keeps only the pauser role.",
)
@click.option(
    "--record",
    type=click.Path(path_type=Path),
    default=None,
    help="Deployment record (default: deployments/<chain-id>.json).",
)
@click.option(
    "--vrf-coordinator",
    type=ADDRESS,
    default=None,
    help="A Chainlink VRF v2 coordinator: draws then use its random words (with --vrf-key-hash, --vrf-subscription).",
)
@click.option("--vrf-key-hash", type=BYTES32, default=None, help="The VRF key hash (gas lane), in hex.")
@click.option(
    "--vrf-subscription", type=click.IntRange(0, 2**64 - 1), default=None, help="The funded VRF subscription id."
)
@click.option("--dry-run", is_flag=True, help="Send nothing: list what would be deployed and its gas.")
def cli(
    account: Any,
    fresh: bool,
    price_feed: str | None,
    treasury: str | None,
    timelock_delay: int | None,
    record: Path | None,
    vrf_coordinator: str | None,
    vrf_key_hash: bytes | None,
    vrf_subscription: int | None,
    dry_run: bool,
) -> None:
    """Deploy the compute market and write its deployment record."""
    vrf = (vrf_coordinator, vrf_key_hash, vrf_subscription)
    if any(v is not None for v in vrf) and not all(v is not None for v in vrf):
        raise InputError("--vrf-coordinator, --vrf-key-hash and --vrf-subscription go together")
    deployer = Deployer(
        project, account, fresh=fresh, price_feed=price_feed, treasury=treasury, record_path=record, log=click.echo
    )
    if dry_run:
        missing = deployer.plan()
        click.echo(f"chain {chain.chain_id}: would deploy {', '.join(missing) or 'nothing'}")
        gas = _simulate(account.address, price_feed, treasury, timelock_delay)
        click.echo(f"\n{'step':<36}{'gas':>12}")
        for step, used in gas.items():
            click.echo(f"{step:<36}{used:>12,}")
        click.echo(f"{'total (full deployment)':<36}{sum(gas.values()):>12,}")
        return
    protocol = deployer.run()
    if vrf_coordinator is not None and vrf_key_hash is not None and vrf_subscription is not None:
        adapter = deployer.use_vrf(protocol, vrf_coordinator, vrf_key_hash, vrf_subscription)
        click.echo(f"draws use the VRF adapter {adapter.address}")
    if timelock_delay is not None:
        timelock = deployer.hand_over_to_timelock(protocol, timelock_delay)
        click.echo(f"admin is now the timelock {timelock.address} (delay {timelock_delay} s)")
    click.echo(f"record: {deployer.path}")
    click.echo(f"deployed: {', '.join(deployer.deployed) or 'nothing'}")
    click.echo(f"reused: {', '.join(deployer.reused) or 'nothing'}")
    for name, address in protocol.addresses.items():
        click.echo(f"  {name:<20} {address}")


def _simulate(address: str, price_feed: str | None, treasury: str | None, delay: int | None) -> dict[str, int]:
    """Plays the full deployment on a throwaway anvil, from `address` impersonated; gas per step."""
    with networks.ethereum.local.use_provider("foundry"):
        chain.provider.set_balance(address, 10**24)
        me = accounts[address]
        sim = Deployer(
            project,
            me,
            fresh=True,
            price_feed=None,
            treasury=treasury,
            record_path=Path(project.path) / ".build" / "dry-run.json",
            log=lambda _m: None,
        )
        protocol = sim.run()
        if delay is not None:
            sim.hand_over_to_timelock(protocol, delay)
        if price_feed:
            sim.gas.pop("PriceFeed", None)  # an external feed is not deployed
        return sim.gas
