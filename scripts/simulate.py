"""``ape run simulate``: the main job. For now: a local chain, the deployment, credits minted
from tokens by a few customers, and their balances. Later it plays the whole market."""

from __future__ import annotations

from decimal import Decimal

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand, network_option

from compute_market.deployment import Deployer
from compute_market.units import from_wei, to_wei


@click.command(cls=ConnectedProviderCommand)
@network_option(default="ethereum:local:foundry")
@click.option("--customers", default=3, show_default=True, help="Customers who mint credits.")
def cli(customers: int) -> None:
    """Deploy on a local anvil, mint credits from tokens, print balances."""
    deployer_account, *users = accounts.test_accounts[: customers + 1]
    protocol = Deployer(project, deployer_account, fresh=True, log=click.echo).run()
    token, credits = protocol.token, protocol.credits
    click.echo(f"chain {chain.chain_id}, block {chain.blocks.head.number}")
    for i, user in enumerate(users, start=1):
        amount = to_wei(100 * i)
        token.transfer(user, amount, sender=deployer_account)
        token.approve(credits, amount, sender=user)
        receipt = credits.mintWithTokens(amount, 0, user, sender=user)
        click.echo(f"customer {i} burned {100 * i} CMP for credits (gas {receipt.gas_used:,})")
    click.echo(f"\n{'account':<44}{'CMP':>16}{'CRD':>16}")
    for user in users:
        cmp_balance = from_wei(token.balanceOf(user))
        crd_balance = from_wei(credits.balanceOf(user))
        click.echo(f"{user.address:<44}{cmp_balance:>16.2f}{crd_balance:>16.2f}")
    click.echo(
        f"\nCMP supply {from_wei(token.totalSupply()):,.2f}   CRD supply "
        f"{from_wei(credits.totalSupply()):,.2f}   price {Decimal(credits.currentPrice()) / 10**8} USD"
    )
