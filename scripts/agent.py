"""``ape run agent``: a provider agent that bids from its cost model and serves its leases.

    ape run agent --network http://127.0.0.1:8545 --account TEST::2 \\
        --gpu H100-80GB --count 8 --vram 80 --region eu-west --stake 5000 \\
        --electricity 0.12 --power 700 --gpu-price 30000 --lifetime-hours 26280 --margin 0.15 \\
        --state .agent/provider-2.json

It registers, stakes, and offers its GPUs in the market with --provision CMP of its stake set
aside for their jobs (default: all of --stake) if needed: a bid locks the job's collateral and
per-GPU stake of the provision, and the agent does not bid on a job whose lock the offer's free
provision does not cover. Then it loops: new jobs and outbids are read from the chain's logs from
the last block it handled (kept in --state), so a restarted agent carries on where it stopped,
sealed-bid salts included. With no state (or one for another chain
or deployment, or a cursor past the head) it reads the market's logs again from its deploy block
and rebuilds what it owes from the chain (sealed-bid salts excepted: they are only in the state).
A second agent on the same --state stops at once with a one-line error (a lock on
``<state>.lock``). A failed step (the node unreachable) is retried with a backoff; Ctrl-C or a
SIGTERM ends the agent with a summary line and exit code 0.

Jobs that carry a workload (docs/workloads.md) are bid on only when their manifest can be fetched
and checked and this host can run it (the runners found at start are in the start-up line); the
agent runs them when its lease starts and submits the result bundle's sha256 and URI: bundles go
to --store (default ``store`` next to --state, submitted as ``file://`` URIs) or, with
--store-url, are PUT to a store server (``ape run store``) and submitted as ``<url>/<sha256>``.
``cas://`` inputs are read from --cas (a folder or a store server's URL; default: the agent's
store). A run that fails claims the pay for the time used and abandons the lease.

It runs headless: with an ``ape accounts`` keyfile it signs without prompting when
``APE_ACCOUNTS_<alias>_PASSPHRASE`` holds the passphrase, and refuses to start without it.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from ape.cli import ConnectedProviderCommand, account_option, network_option

from compute_market.agent import CostModel, ProviderAgent
from compute_market.agent_base import end_on_signals, fetch_config, require_account, set_up
from compute_market.cli import (
    AGENT_GPUS,
    CMP_OR_ZERO,
    COUNT,
    GPU_MODEL,
    NON_NEGATIVE,
    POSITIVE,
    PROVISION,
    load_client,
)
from compute_market.workloads import Host, HttpStore, LocalStore


@click.command(cls=ConnectedProviderCommand)
@network_option()
@account_option(prompt=False)  # headless: no interactive choice of account
@click.option("--deployment", type=click.Path(path_type=Path), default=None)
@click.option("--gpu", "gpu_model", type=GPU_MODEL, required=True, help="GPU model (data/gpu_catalog.json).")
@click.option("--count", type=AGENT_GPUS, required=True, help="GPUs offered.")
@click.option("--vram", type=COUNT, required=True, help="GB per GPU.")
@click.option("--region", default="")
@click.option("--stake", type=CMP_OR_ZERO, required=True, help="CMP to keep staked.")
@click.option(
    "--provision",
    type=PROVISION,
    default=None,
    help="CMP of the stake to provision for --gpu's jobs (default: all of --stake).",
)
@click.option("--electricity", type=NON_NEGATIVE, required=True, help="USD per kWh.")
@click.option("--power", type=NON_NEGATIVE, required=True, help="Watts per GPU under load.")
@click.option("--gpu-price", type=NON_NEGATIVE, required=True, help="USD paid per GPU.")
@click.option("--lifetime-hours", type=POSITIVE, required=True, help="Hours to amortise a GPU over.")
@click.option("--margin", type=NON_NEGATIVE, default=Decimal("0.15"), show_default=True)
@click.option("--state", "state_path", type=click.Path(path_type=Path), required=True)
@click.option("--poll", type=click.FloatRange(0, 3_600), default=2.0, show_default=True, help="Seconds between steps.")
@click.option("--max-steps", type=click.IntRange(1), default=None, help="Stop after this many steps (default: never).")
@click.option(
    "--store",
    "store_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder of result bundles (default: 'store' next to --state).",
)
@click.option("--store-url", default=None, help="A store server (ape run store) to PUT result bundles to instead.")
@click.option("--cas", default=None, help="Folder or store URL behind cas:// inputs (default: the agent's store).")
@click.option("--ipfs-gateway", default=None, help="Gateway for ipfs:// URIs (default https://ipfs.io/ipfs/).")
def cli(
    account: Any,
    deployment: Path | None,
    gpu_model: str,
    count: int,
    vram: int,
    region: str,
    stake: Decimal,
    provision: Decimal | None,
    electricity: Decimal,
    power: Decimal,
    gpu_price: Decimal,
    lifetime_hours: Decimal,
    margin: Decimal,
    state_path: Path,
    poll: float,
    max_steps: int | None,
    store_dir: Path | None,
    store_url: str | None,
    cas: str | None,
    ipfs_gateway: str | None,
) -> None:
    """Run a provider agent."""
    require_account(account, "agent")
    client = load_client(account, deployment, headless=True)
    cost = CostModel(electricity, power, gpu_price, lifetime_hours, margin)
    end_on_signals()
    if store_dir is not None and store_url is not None:
        raise click.UsageError("--store and --store-url are exclusive (a local folder or a store server).")
    host = Host.detect()
    store = HttpStore(store_url) if store_url else LocalStore(store_dir or state_path.parent / "store")
    config = fetch_config(cas, ipfs_gateway, default_cas=store)

    def start() -> ProviderAgent:
        agent = ProviderAgent(
            client,
            gpu_model,
            cost,
            state_path,
            log=lambda line: click.echo(line, nl=True),
            host=host,
            store=store,
            fetch_config=config,
        )
        agent.ensure_provider(region, count, vram, stake, provision=provision)
        return agent

    agent = set_up(start, "provider", "agent")
    if agent is None:  # interrupted
        return
    click.echo(
        f"agent {account.address}: ask {cost.ask()} USD per {gpu_model}-hour, from block {agent.state.last_block + 1}; "
        f"workloads: {host.describe()}; bundles to {store_url or (store_dir or state_path.parent / 'store')}",
        nl=True,
    )
    agent.run(poll_seconds=poll, max_steps=max_steps)
