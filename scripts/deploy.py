"""``ape run deploy``: deploys and wires the protocol on any Ape network.

    ape run deploy --network ethereum:local:foundry
    ape run deploy --network ethereum:sepolia:node --account deployer --price-feed 0x…

The record goes to ``deployments/<chain-id>.json``; running again reuses it.
"""

from __future__ import annotations

import click
from ape import project
from ape.cli import ConnectedProviderCommand, account_option, network_option

from compute_market.deployment import Deployer


@click.command(cls=ConnectedProviderCommand)
@network_option()
@account_option()
@click.option("--fresh", is_flag=True, help="Ignore the existing record and deploy everything anew.")
@click.option(
    "--price-feed",
    default=None,
    help="Address of a Chainlink-shaped CMP/USD feed; without it a MockPriceFeed is deployed.",
)
def cli(account, fresh: bool, price_feed: str | None) -> None:  # noqa: ANN001
    """Deploy the compute market and write deployments/<chain-id>.json."""
    deployer = Deployer(project, account, fresh=fresh, price_feed=price_feed, log=click.echo)
    protocol = deployer.run()
    click.echo(f"record: {deployer.path}")
    click.echo(f"deployed: {', '.join(deployer.deployed) or 'nothing'}")
    click.echo(f"reused: {', '.join(deployer.reused) or 'nothing'}")
    for name, address in protocol.addresses.items():
        click.echo(f"  {name:<20} {address}")
