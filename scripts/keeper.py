"""``ape run keeper``: perform every permissionless deadline action of the market that is due.

    ape run keeper --network http://127.0.0.1:8545 --account keeper --state .keeper/state.json --interval 12

Each step makes the queued verifier and jury draws, finalizes ended auctions, settles jobs past
their challenge window, slashes providers that delivered no result (the only action that pays:
the keeper bounty, 5% of the collateral), forfeits unrevealed sealed commitments, slashes absent
verifiers and closes disputes (``resolve``, ``resolveByDefault``); see `compute_market.keeper`.
Every other action costs the keeper its gas. The state file (default
``.keeper/<chain-id>.json``) holds the block cursor and the open jobs, so a restarted keeper
resumes where it stopped. ``--once`` makes one step and exits.

It runs headless: with an ``ape accounts`` keyfile it signs without prompting when
``APE_ACCOUNTS_<alias>_PASSPHRASE`` holds the passphrase, and refuses to start without it.
"""

from __future__ import annotations

from contextlib import suppress
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from ape import chain
from ape.cli import ConnectedProviderCommand, account_option, network_option

from compute_market.cli import load_client
from compute_market.keeper import Keeper


@click.command(cls=ConnectedProviderCommand)
@network_option()
@account_option(prompt=False)  # headless: no interactive choice of account
@click.option("--deployment", type=click.Path(path_type=Path), default=None, help="Deployment record.")
@click.option(
    "--state",
    "state_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="State file (default: .keeper/<chain-id>.json).",
)
@click.option(
    "--interval", type=click.FloatRange(0, 86_400), default=12.0, show_default=True, help="Seconds between steps."
)
@click.option("--once", is_flag=True, help="Make one step and exit.")
@click.option(
    "--max-actions", type=click.IntRange(1, 1_000), default=20, show_default=True, help="Transactions per step."
)
@click.option("--from-block", type=click.IntRange(0), default=None, help="Where a new state starts reading logs.")
@click.option(
    "--claim-at",
    type=click.FloatRange(0),
    default=1.0,
    show_default=True,
    help="Claim the bounties the ledger credited once they reach this many CMP (0: whenever any).",
)
def cli(
    account: Any,
    deployment: Path | None,
    state_path: Path | None,
    interval: float,
    once: bool,
    max_actions: int,
    from_block: int | None,
    claim_at: float,
) -> None:
    """Run a keeper."""
    if account is None:
        raise click.UsageError("Missing option '--account' (the keeper runs headless and does not ask).")
    client = load_client(account, deployment, headless=True)
    path = state_path or Path(".keeper") / f"{chain.chain_id}.json"
    keeper = Keeper(
        client,
        path,
        start_block=from_block,
        max_actions=max_actions,
        claim_at=Decimal(str(claim_at)),
        log=lambda line: click.echo(line, nl=True),
    )
    click.echo(f"keeper {account.address}: reading logs from block {keeper.state.last_block + 1}", nl=True)
    with suppress(KeyboardInterrupt):  # stopped by its operator: the state is saved after every step
        keeper.run(interval=interval, max_steps=1 if once else None)
    click.echo(keeper.summary(), nl=True)
