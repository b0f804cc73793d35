"""``ape run verifier``: a verifier agent that re-executes the results it is drawn to check.

    ape run verifier --network http://127.0.0.1:8545 --account TEST::3 --stake 1000 \\
        --state .verifier/v3.json --cas .workloads-store

It registers as a verifier and tops its stake up to --stake if needed, then loops: it makes the
queued verifier and jury draws that are ready (``processDraws``), asks for the verifier draw of
every verified job whose result it sees (``requestVerifier``; --no-request-draws leaves that to
customers), and, when drawn, fetches the job's manifest and inputs, re-executes the workload with
this host's runner, compares its bundle's sha256 with the submitted one and attests ``ok`` or
``bad`` (a rejection opens a dispute). Drawn on a jury, it checks the same way, commits a sealed
vote (its salt saved in --state first), reveals it, closes the vote and claims its share.
``compute_market.verifier_agent`` says which results it rejects and why it approves a result it
cannot reproduce (a non-deterministic manifest, an input it cannot fetch) at the latest
--decide-margin seconds before its deadline.

``cas://`` inputs are read from --cas (a folder or a store server's URL: the customer's store);
``file://``, ``http(s)://`` and ``ipfs://`` (through --ipfs-gateway) need nothing. The state file,
its lock, the rebuild from the chain after a lost state, the backoff on a failing node and
Ctrl-C behave as the provider agent's (``ape run agent``); one account can run both, each with
its own --state. It runs headless: with an ``ape accounts`` keyfile it signs without prompting
when ``APE_ACCOUNTS_<alias>_PASSPHRASE`` holds the passphrase, and refuses to start without it.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from ape.cli import ConnectedProviderCommand, account_option, network_option

from compute_market.agent_base import end_on_signals, fetch_config, require_account, set_up
from compute_market.cli import CMP_OR_ZERO, InputError, load_client
from compute_market.verifier_agent import DECIDE_MARGIN, VerifierAgent
from compute_market.workloads import Host


@click.command(cls=ConnectedProviderCommand)
@network_option()
@account_option(prompt=False)  # headless: no interactive choice of account
@click.option("--deployment", type=click.Path(path_type=Path), default=None)
@click.option("--stake", type=CMP_OR_ZERO, required=True, help="CMP to keep staked as a verifier.")
@click.option("--state", "state_path", type=click.Path(path_type=Path, dir_okay=False), required=True)
@click.option("--poll", type=click.FloatRange(0, 3_600), default=2.0, show_default=True, help="Seconds between steps.")
@click.option("--max-steps", type=click.IntRange(1), default=None, help="Stop after this many steps (default: never).")
@click.option("--cas", default=None, help="Folder or store URL behind cas:// inputs (the customer's store).")
@click.option("--ipfs-gateway", default=None, help="Gateway for ipfs:// URIs (default https://ipfs.io/ipfs/).")
@click.option(
    "--request-draws/--no-request-draws",
    default=True,
    show_default=True,
    help="Ask for the verifier draw of every verified job whose result is in.",
)
@click.option(
    "--process-draws/--no-process-draws", default=True, show_default=True, help="Make the queued draws that are ready."
)
@click.option(
    "--decide-margin",
    type=click.IntRange(0, 86_400),
    default=DECIDE_MARGIN,
    show_default=True,
    help="Seconds before a deadline at which a check that reproduced nothing approves.",
)
def cli(
    account: Any,
    deployment: Path | None,
    stake: Decimal,
    state_path: Path,
    poll: float,
    max_steps: int | None,
    cas: str | None,
    ipfs_gateway: str | None,
    request_draws: bool,
    process_draws: bool,
    decide_margin: int,
) -> None:
    """Run a verifier agent."""
    require_account(account, "verifier")
    client = load_client(account, deployment, headless=True)
    minimum = client.min_verifier_stake()
    if 0 < stake < minimum:  # the ledger refuses a smaller verifier stake: say so before starting
        raise InputError(f"--stake: a verifier keeps at least {minimum} CMP staked (or 0 to stay out of the draws)")
    end_on_signals()
    config = fetch_config(cas, ipfs_gateway)
    host = Host.detect()

    def start() -> VerifierAgent:
        agent = VerifierAgent(
            client,
            state_path,
            log=lambda line: click.echo(line, nl=True),
            host=host,
            fetch_config=config,
            request_draws=request_draws,
            process_draws=process_draws,
            decide_margin=decide_margin,
        )
        agent.ensure_verifier(stake)
        return agent

    agent = set_up(start, "verifier", "verifier")
    if agent is None:  # interrupted
        return
    view = client.verifier()
    click.echo(
        f"verifier {account.address}: {view['staked']} CMP staked, from block {agent.state.last_block + 1}; "
        f"workloads: {host.describe()}; cas:// inputs from {cas or 'nowhere (no --cas)'}",
        nl=True,
    )
    agent.run(poll_seconds=poll, max_steps=max_steps)
