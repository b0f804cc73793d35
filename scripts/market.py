"""``ape run market …``: script the market from the command line.

    ape run market post-job --gpu H100-80GB --gpus 2 --hours 10 --max-price 2.00 \\
        --network ethereum:local:foundry --account TEST::1 --json

Every command takes ``--network``, ``--account``, ``--deployment``, ``--json`` and ``--yes``. Bad
input (negative, non-numeric or out-of-range numbers, a GPU model not in the catalog) exits 2 with
one line naming the option before anything is sent; a refusal by the chain exits 1 with the custom
error's name; with ``--json`` stdout carries only JSON (see `compute_market.cli`). A command that
moves value (post-job, stake, set-offer when it grows a provision, register-verifier,
mint-credits, redeem, transfer, bid, commit, challenge) prints what moves and how much, then asks
``Proceed? [y/N]`` before it sends anything, approvals included, unless ``--yes`` (or
``COMPUTE_MARKET_YES=1``); without a terminal to ask on it refuses (exit 2) instead.

A provider registers, stakes, then offers GPUs of a model with a provision of its stake
(``set-offer``): a bid or a sealed commitment locks the job's collateral and per-GPU stake of the
offer's provision, and a job the provider fails is slashed from it (``offer`` shows it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from ape import chain
from ape.api.networks import LOCAL_NETWORK_NAME

from compute_market.cli import (
    ADDRESS,
    BPS,
    BYTES32,
    CMP,
    CMP_OR_ZERO,
    COUNT,
    GPU_COUNT,
    GPU_MODEL,
    HOURS,
    JOB_ID,
    MANIFEST,
    OFFER_GPUS,
    PRICE,
    PROVISION,
    QUEUE_ENTRIES,
    SECONDS,
    USD_FEED,
    InputError,
    amount_text,
    confirm_value,
    emit,
    emit_line,
    market_command,
    require_job,
)
from compute_market.client import MarketClient
from compute_market.errors import MarketError, decoded
from compute_market.history import follow, job_history
from compute_market.models import NO_WORKLOAD, ZERO_ADDRESS, Attestation, DisputeStatus, JobRequest
from compute_market.salts import (
    SALTS_ENV,
    SaltFileError,
    SaltKey,
    SaltStore,
    commit_with_saved_salt,
    reveal_with_salt,
    salts_path,
)
from compute_market.units import WAD, bytes32, from_wei, to_wei, utc
from compute_market.workloads import FetchConfig, Manifest, WorkloadError, fetch, unpack, workload_id

SALTS_FILE = click.option(
    "--salts-file",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar=SALTS_ENV,
    show_envvar=True,
    default=None,
    help="Where sealed-bid salts are kept (default: ~/.compute-market/salts.json).",
)


@contextmanager
def salts_file_errors() -> Iterator[None]:
    """A salts file that cannot be read is a one-line error (exit 1); it is never overwritten."""
    try:
        yield
    except SaltFileError as err:
        raise click.ClickException(str(err)) from err


TIMES = "\N{MULTIPLICATION SIGN}"


def percent(bps: int) -> str:
    """Basis points as a percentage (``50`` → ``0.5%``)."""
    return f"{amount_text(Decimal(bps) / 100)}%"


def stake_locked(client: MarketClient, job_id: int) -> tuple[str, Decimal, Decimal]:
    """The job's GPU model and what a bid on `job_id` locks of the bidder's offer of that model's
    provision, in CMP: the job's collateral (also a sealed commitment's bond; at least the
    `bidBond` of when a sealed job was posted) and the job's per-GPU stake. Refuses a job the
    market never issued (``UnknownJob``) before anything is asked or sent."""
    job = require_job(client, job_id)
    collateral, gpu_stake = client.bid_lock(job_id)
    return job.gpu_model, collateral, gpu_stake


@click.group()
def cli() -> None:
    """Act on a deployed compute market."""


@market_command(cli, "register")
@click.option("--metadata", default="", help="Where the provider describes itself.")
@click.option("--region", default="", help="Region code, e.g. eu-west.")
def register(client: MarketClient, as_json: bool, metadata: str, region: str) -> None:
    """Register the account as a provider."""
    client.register(metadata, region)
    emit(client.provider().as_dict(), as_json)


@market_command(cli, "set-offer")
@click.option("--gpu", "gpu_model", type=GPU_MODEL, required=True, help="GPU model (data/gpu_catalog.json).")
@click.option("--count", type=OFFER_GPUS, required=True, help="GPUs offered (0, with --provision 0, withdraws).")
@click.option("--vram", type=COUNT, required=True, help="GB of memory per GPU.")
@click.option("--provision", type=PROVISION, required=True, help="CMP of your stake set aside for this model's jobs.")
def set_offer(client: MarketClient, as_json: bool, gpu_model: str, count: int, vram: int, provision: Decimal) -> None:
    """Offer GPUs of one model in the market, with --provision CMP of your stake set aside for its
    jobs: a bid locks the job's collateral and per-GPU stake of it, a job you fail is slashed from
    it, and it cannot go below what your bids lock. The market moves the difference out of your
    free stake (register and stake first) or back into it. A growing provision is shown and asked
    first, unless --yes; a refusal (not registered, too little free stake, below what bids hold)
    comes before anything is asked."""
    before = client.offer(None, gpu_model)
    with decoded():  # the market's and the ledger's refusals, before anything is asked or sent
        client.p.market.setOffer.estimate_gas_cost(
            bytes32(gpu_model), count, vram, to_wei(provision), sender=client.account
        )
    more = provision - before.provisioned
    if more > 0:
        confirm_value(
            f"set-offer provisions {amount_text(more)} CMP more of your free stake for {gpu_model} jobs "
            f"({amount_text(provision)} CMP in all: bids lock it, failed jobs are slashed from it)"
        )
    client.set_offer(gpu_model, count, vram, provision)
    emit(offer_view(client, client.address, gpu_model), as_json)


def offer_view(client: MarketClient, who: str, gpu_model: str) -> dict[str, Any]:
    """`who`'s offer of `gpu_model`, with the two names."""
    return {"provider": who, "gpu_model": gpu_model, **client.offer(who, gpu_model).as_dict()}


@market_command(cli, "offer")
@click.option("--gpu", "gpu_model", type=GPU_MODEL, required=True, help="GPU model (data/gpu_catalog.json).")
@click.option(
    "--provider", "provider_address", type=ADDRESS, default=None, help="A provider's address (default: the account)."
)
def offer(client: MarketClient, as_json: bool, gpu_model: str, provider_address: str | None) -> None:
    """Show a provider's offer of one GPU model: its provision and what bids lock of it (CMP),
    its GPUs and what bids reserve of them, their memory."""
    emit(offer_view(client, provider_address or client.address, gpu_model), as_json)


@market_command(cli, "stake")
@click.argument("amount", type=CMP)
def stake(client: MarketClient, as_json: bool, amount: Decimal) -> None:
    """Stake AMOUNT CMP (shows the amount and asks first, unless --yes)."""
    client.require_balance(client.p.token, to_wei(amount))  # unaffordable: refused, nothing asked
    confirm_value(f"stake moves {amount_text(amount)} CMP from your balance into your provider stake")
    client.stake(amount)
    emit(client.provider().as_dict(), as_json)


@market_command(cli, "unstake")
@click.argument("amount", type=CMP)
def unstake(client: MarketClient, as_json: bool, amount: Decimal) -> None:
    """Start unbonding AMOUNT CMP of your free stake (a provision is not free: lower it with
    set-offer first)."""
    client.request_unstake(amount)
    emit(client.provider().as_dict(), as_json)


@market_command(cli, "withdraw")
def withdraw(client: MarketClient, as_json: bool) -> None:
    """Withdraw unbonded stake."""
    client.withdraw_unstaked()
    emit(client.provider().as_dict(), as_json)


@market_command(cli, "mint-credits")
@click.argument("cmp", type=CMP)
@click.option("--min-credits", type=CMP_OR_ZERO, default=None, help="Revert if fewer credits come out.")
def mint_credits(client: MarketClient, as_json: bool, cmp: Decimal, min_credits: Decimal | None) -> None:
    """Burn CMP for USD credits at the oracle price (shows both amounts and asks first, unless --yes)."""
    credits, wei = client.p.credits, to_wei(cmp)
    client.require_balance(client.p.token, wei)
    with decoded():  # a stale or jumping oracle answer is refused here, as the mint would be
        out, price = int(credits.previewMint(wei)), int(credits.tokensToCredits(WAD))
    confirm_value(
        f"mint-credits burns {amount_text(cmp)} CMP for {amount_text(from_wei(out))} CRD (oracle price "
        f"{amount_text(from_wei(price))} CRD per CMP, less the {percent(int(credits.mintSpreadBps()))} mint spread)"
    )
    minted = client.mint_credits(cmp, min_credits)
    emit({"credits_minted": str(minted), **{k: str(v) for k, v in client.balances().items()}}, as_json)


@market_command(cli, "set-price")
@click.argument("usd", type=USD_FEED)
def set_price(client: MarketClient, as_json: bool, usd: Decimal) -> None:
    """Local chains: write USD as the mock CMP/USD oracle's new answer (feed owner only)."""
    client.set_oracle_price(usd)
    emit({"price_usd": str(usd)}, as_json)


@market_command(cli, "post-job")
@click.option("--gpu", "gpu_model", type=GPU_MODEL, required=True, help="GPU model (data/gpu_catalog.json).")
@click.option("--gpus", type=GPU_COUNT, required=True)
@click.option("--hours", type=HOURS, required=True)
@click.option("--max-price", type=PRICE, required=True, help="USD credits per GPU-hour.")
@click.option("--bidding", "bidding_seconds", type=SECONDS, default=3_600, show_default=True)
@click.option("--vram", type=COUNT, default=0)
@click.option("--region", default="")
@click.option("--sealed", is_flag=True)
@click.option("--min-reputation", type=BPS, default=0, help="Basis points.")
@click.option("--holdback", type=BPS, default=2_000, show_default=True, help="Basis points.")
@click.option("--verify", is_flag=True, help="Ask for a verifier (needs a deterministic --manifest).")
@click.option(
    "--manifest",
    type=MANIFEST,
    default=None,
    help="The workload manifest file (docs/workloads.md): its sha256 becomes the job's workload.",
)
@click.option("--manifest-uri", default=None, help="Where the manifest is published (with --manifest).")
def post_job(
    client: MarketClient,
    as_json: bool,
    gpu_model: str,
    gpus: int,
    hours: Decimal,
    max_price: Decimal,
    bidding_seconds: int,
    vram: int,
    region: str,
    sealed: bool,
    min_reputation: int,
    holdback: int,
    verify: bool,
    manifest: Manifest | None,
    manifest_uri: str | None,
) -> None:
    """Post a job, escrowing its maximum cost (shows it and asks first, unless --yes)."""
    if (manifest is None) != (manifest_uri is None):
        raise InputError("--manifest and --manifest-uri go together")
    if verify and (manifest is None or not manifest.deterministic):
        raise InputError("--verify needs a --manifest whose workload is deterministic (verifiers re-execute it)")
    request = JobRequest(
        gpu_model=gpu_model,
        gpu_count=gpus,
        hours=hours,
        max_price_per_gpu_hour=max_price,
        bidding_seconds=bidding_seconds,
        min_vram_gb=vram,
        region=region,
        sealed=sealed,
        min_reputation_bps=min_reputation,
        holdback_bps=holdback,
        verification=verify,
        workload=workload_id(manifest) if manifest is not None else NO_WORKLOAD,
        manifest_uri=manifest_uri or "",
    )
    with decoded():
        escrow, fee = (int(x) for x in client.p.market.escrowFor(request.to_spec(chain.pending_timestamp)))
    client.require_balance(client.p.credits, escrow)  # unaffordable: refused, nothing asked
    gpus_text = f"{gpus} GPU{'s' if gpus != 1 else ''}"
    terms = f"max price {amount_text(max_price)} CRD/GPU-h {TIMES} {gpus_text} {TIMES} {amount_text(hours)} h"
    if fee:
        terms += (
            f" = {amount_text(from_wei(escrow - fee))} CRD, plus the {amount_text(from_wei(fee))} CRD verification fee"
        )
    confirm_value(f"post-job escrows {amount_text(from_wei(escrow))} CRD ({terms})")
    job_id = client.post_job(request)
    workload = {"workload": "0x" + request.workload.hex(), "manifest_uri": request.manifest_uri} if manifest else {}
    emit(client.job(job_id).as_dict() | workload, as_json)


@market_command(cli, "results")
@click.option("--job", "job_id", type=JOB_ID, required=True)
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True, help="Folder to unpack into.")
@click.option("--ipfs-gateway", default=None, help="Gateway for ipfs:// URIs (default https://ipfs.io/ipfs/).")
def results(client: MarketClient, as_json: bool, job_id: int, out: Path, ipfs_gateway: str | None) -> None:
    """Download a job's result bundle from the URI its provider gave, check it against the hash
    on chain, and unpack its files into --out."""
    expected, uri = client.result_of(job_id)
    config = FetchConfig(ipfs_gateway=ipfs_gateway) if ipfs_gateway else FetchConfig()
    try:
        files = unpack(fetch(uri, expected, config), out)
    except WorkloadError as err:
        raise MarketError("ResultUnavailable", {"jobId": job_id, "uri": uri, "reason": str(err)}) from err
    emit({"job_id": job_id, "sha256": "0x" + expected.hex(), "uri": uri, "files": [str(f) for f in files]}, as_json)


@market_command(cli, "bid")
@click.argument("job_id", type=JOB_ID)
@click.argument("price", type=PRICE)
def bid(client: MarketClient, as_json: bool, job_id: int, price: Decimal) -> None:
    """Bid PRICE (USD per GPU-hour) on an open auction, locking the job's collateral and per-GPU
    stake of your offer's provision while the bid leads (shows it and asks first, unless --yes)."""
    gpu_model, collateral, gpu_stake = stake_locked(client, job_id)
    confirm_value(
        f"bid locks {amount_text(collateral + gpu_stake)} CMP of your {gpu_model} offer's provision for job "
        f"{job_id} while your bid leads (collateral {amount_text(collateral)} CMP + GPU stake "
        f"{amount_text(gpu_stake)} CMP), at {amount_text(price)} CRD/GPU-h"
    )
    client.bid(job_id, price)
    emit(client.job(job_id).as_dict(), as_json)


@market_command(cli, "commit")
@click.argument("job_id", type=JOB_ID)
@click.argument("price", type=PRICE)
@SALTS_FILE
def commit(client: MarketClient, as_json: bool, job_id: int, price: Decimal, salts_file: Path | None) -> None:
    """Commit a sealed bid, locking a bond (the job's collateral, at least the bid bond) and
    per-GPU stake of your offer's provision until the reveal (shows it and asks first, unless
    --yes). Its salt is saved to the salts file before the commitment is sent (for `reveal JOB
    PRICE`), and printed."""
    store = SaltStore(salts_path(salts_file))
    gpu_model, bond, gpu_stake = stake_locked(client, job_id)
    with salts_file_errors():
        store.get(SaltKey.of(client, job_id))  # an unreadable salts file: refused before asking
    confirm_value(
        f"commit locks {amount_text(bond + gpu_stake)} CMP of your {gpu_model} offer's provision for job "
        f"{job_id} (bond {amount_text(bond)} CMP, forfeited unless you reveal, + GPU stake "
        f"{amount_text(gpu_stake)} CMP), sealed price {amount_text(price)} CRD/GPU-h"
    )
    with salts_file_errors():
        salt = commit_with_saved_salt(client, store, job_id, price)
    emit({"job_id": job_id, "price": str(price), "salt": "0x" + salt.hex(), "salts_file": str(store.path)}, as_json)


@market_command(cli, "reveal")
@click.argument("job_id", type=JOB_ID)
@click.argument("price", type=PRICE)
@click.option("--salt", type=BYTES32, default=None, help="The commitment's salt (default: the one commit saved).")
@SALTS_FILE
def reveal(
    client: MarketClient, as_json: bool, job_id: int, price: Decimal, salt: bytes | None, salts_file: Path | None
) -> None:
    """Reveal a sealed bid with the salt commit saved (or --salt). A PRICE other than the one
    committed is refused before anything is sent."""
    store = SaltStore(salts_path(salts_file))
    with salts_file_errors():
        reveal_with_salt(client, store, job_id, price, salt)
    emit(client.job(job_id).as_dict(), as_json)


@market_command(cli, "finalize")
@click.argument("job_id", type=JOB_ID)
def finalize(client: MarketClient, as_json: bool, job_id: int) -> None:
    """Close an auction: start the lease, or expire the job."""
    emit(client.finalize(job_id).as_dict(), as_json)


@market_command(cli, "claim")
@click.argument("job_id", type=JOB_ID)
def claim(client: MarketClient, as_json: bool, job_id: int) -> None:
    """Claim lease earnings."""
    emit({"job_id": job_id, "received": str(client.claim(job_id))}, as_json)


@market_command(cli, "withdraw-fees")
def withdraw_fees(client: MarketClient, as_json: bool) -> None:
    """Send the protocol fees accrued in the market to its treasury (anyone may)."""
    emit({"treasury": client.p.market.treasury(), "sent": str(client.withdraw_fees())}, as_json)


@market_command(cli, "result")
@click.argument("job_id", type=JOB_ID)
@click.argument("result_hash", type=BYTES32)
@click.argument("uri")
def result(client: MarketClient, as_json: bool, job_id: int, result_hash: bytes, uri: str) -> None:
    """Submit a job's result (a 32-byte hex hash and a URI)."""
    client.submit_result(job_id, result_hash, uri)
    emit(client.job(job_id).as_dict(), as_json)


@market_command(cli, "settle")
@click.argument("job_id", type=JOB_ID)
def settle(client: MarketClient, as_json: bool, job_id: int) -> None:
    """Settle a job whose challenge window closed."""
    client.settle(job_id)
    emit(client.job(job_id).as_dict(), as_json)


@market_command(cli, "cancel")
@click.argument("job_id", type=JOB_ID)
def cancel(client: MarketClient, as_json: bool, job_id: int) -> None:
    """Cancel a job (customer)."""
    client.cancel(job_id)
    emit(client.job(job_id).as_dict(), as_json)


@market_command(cli, "challenge")
@click.argument("job_id", type=JOB_ID)
@click.argument("reason")
def challenge(client: MarketClient, as_json: bool, job_id: int, reason: str) -> None:
    """Challenge a result, posting the resolver's challenge bond in CRD (shows it and asks first,
    unless --yes)."""
    bond = int(client.p.resolver.challengeBond())
    client.require_balance(client.p.credits, bond)  # unaffordable: refused, nothing asked
    confirm_value(
        f"challenge posts a {amount_text(from_wei(bond))} CRD bond on job {job_id} (returned unless the dispute "
        "finds no fault)"
    )
    client.challenge(job_id, reason)
    emit(client.job(job_id).as_dict(), as_json)


@market_command(cli, "vote")
@click.argument("job_id", type=JOB_ID)
@click.argument("verdict", type=click.Choice(["fault", "no-fault"]))
@click.option("--salt", type=BYTES32, default=None, help="Reveal the vote committed with this salt.")
def vote(client: MarketClient, as_json: bool, job_id: int, verdict: str, salt: bytes | None) -> None:
    """Commit a jury vote (prints the salt), or reveal it with --salt."""
    fault = verdict == "fault"
    if salt is None:
        out = client.commit_vote(job_id, fault)
        emit({"job_id": job_id, "verdict": verdict, "salt": "0x" + out.hex()}, as_json)
    else:
        client.reveal_vote(job_id, fault, salt)
        emit({"job_id": job_id, "verdict": verdict, "revealed": True}, as_json)


@market_command(cli, "status")
@click.option("--job", "job_id", type=JOB_ID, default=None)
@click.option(
    "--provider", "provider_address", type=ADDRESS, default=None, help="A provider's address (default: the account)."
)
def status(client: MarketClient, as_json: bool, job_id: int | None, provider_address: str | None) -> None:
    """Show a job, or a provider and its balances."""
    if job_id is not None:
        emit(require_job(client, job_id).as_dict(), as_json)
    else:
        view = client.provider(provider_address).as_dict()
        balances = client.balances(provider_address)
        emit(view | {k: str(v) for k, v in balances.items()}, as_json)


@market_command(cli, "history")
@click.option("--job", "job_id", type=JOB_ID, required=True)
def history(client: MarketClient, as_json: bool, job_id: int) -> None:
    """A job's timeline: every market, resolver and registry event of the job, a line each in
    block order (UTC time, event, fields in CRD/CMP); --json: a list of objects."""
    require_job(client, job_id)
    events = job_history(client.p, job_id)
    if as_json:
        emit([e.as_dict() for e in events], as_json)
    else:
        for event in events:
            click.echo(event.line())


@market_command(cli, "watch")
@click.option("--from-block", type=click.IntRange(0), default=None, help="First block read (default: the next one).")
@click.option("--max-events", type=click.IntRange(1), default=None, help="Stop after this many events.")
@click.option("--timeout", type=click.FloatRange(0), default=None, help="Stop after this many seconds.")
@click.option(
    "--interval", type=click.FloatRange(0, 3_600), default=2.0, show_default=True, help="Seconds between reads."
)
def watch(
    client: MarketClient,
    as_json: bool,
    from_block: int | None,
    max_events: int | None,
    timeout: float | None,
    interval: float,
) -> None:
    """Follow the market's and the resolver's events as blocks are mined, printed as history
    prints them (--json: one JSON object per line), until Ctrl-C, --max-events or --timeout."""
    start = from_block if from_block is not None else int(chain.blocks.head.number) + 1
    deadline = None if timeout is None else time.monotonic() + timeout
    seen = 0
    with suppress(KeyboardInterrupt):  # stopped by its user: not an error
        for event in follow(client.p, start, interval=interval, deadline=deadline):
            emit_line(event.as_dict() if as_json else event.line(), as_json)
            seen += 1
            if max_events is not None and seen >= max_events:
                break
    click.echo(f"watched {seen} events from block {start}", err=True)


@market_command(cli, "jobs")
@click.option(
    "--last", type=click.IntRange(1, 10_000), default=200, show_default=True, help="How many recent jobs to scan."
)
def jobs(client: MarketClient, as_json: bool, last: int) -> None:
    """List open jobs (still bidding)."""
    rows = [
        {
            k: j.as_dict()[k]
            for k in (
                "job_id",
                "gpu_model",
                "gpu_count",
                "hours",
                "max_price_per_gpu_hour",
                "price_per_gpu_hour",
                "kind",
                "bids",
                "bidding_end",
            )
        }
        for j in client.open_jobs(last)
    ]
    emit(rows, as_json)


@market_command(cli, "transfer")
@click.argument("to", type=ADDRESS)
@click.argument("amount", type=CMP)
def transfer(client: MarketClient, as_json: bool, to: str, amount: Decimal) -> None:
    """Send AMOUNT CMP to the address TO (to fund providers and customers; shows it and asks
    first, unless --yes)."""
    client.require_balance(client.p.token, to_wei(amount))  # unaffordable: refused, nothing asked
    confirm_value(f"transfer sends {amount_text(amount)} CMP to {to}")
    client.transfer_cmp(to, amount)
    emit({"to": to, "amount": str(amount)}, as_json)


# ---------------------------------------------------------------------- credits, verifiers, disputes, keepers


def dispute_view(client: MarketClient, job_id: int) -> dict[str, Any]:
    """A job's dispute as the resolver holds it, with the job's status."""
    d = client.p.resolver.disputeOf(job_id)
    return {
        "job_id": job_id,
        "job_status": client.job(job_id).status.name,
        "dispute": DisputeStatus(d.status).name,
        "challenger": d.challenger if d.challenger != ZERO_ADDRESS else None,
        "jurors": list(client.p.resolver.jurorsOf(job_id)),
        "commit_end": int(d.commitEnd),
        "reveal_end": int(d.revealEnd),
        "appeal_end": int(d.appealEnd),
        "votes_fault": int(d.votesFault),
        "votes_no_fault": int(d.votesNoFault),
    }


def verification_view(client: MarketClient, job_id: int) -> dict[str, Any]:
    """A job's verification: the drawn verifier, its deadline and its attestation."""
    v = client.p.resolver.verificationOf(job_id)
    return {
        "job_id": job_id,
        "requested": bool(v.requested),
        "verifier": v.verifier if v.verifier != ZERO_ADDRESS else None,
        "deadline": int(v.deadline),
        "attestation": Attestation(v.attestation).name,
    }


@market_command(cli, "redeem")
@click.argument("crd", type=CMP)
@click.option("--min-tokens", type=CMP_OR_ZERO, default=None, help="Revert if less CMP comes out.")
def redeem(client: MarketClient, as_json: bool, crd: Decimal, min_tokens: Decimal | None) -> None:
    """Redeem CRD credits for CMP at the oracle price (less the redemption spread; shows both
    amounts and asks first, unless --yes)."""
    credits, wei = client.p.credits, to_wei(crd)
    client.require_balance(credits, wei)
    with decoded():  # a stale or jumping oracle answer is refused here, as the redemption would be
        out = int(credits.previewRedeem(wei))
    confirm_value(
        f"redeem burns {amount_text(crd)} CRD for {amount_text(from_wei(out))} CMP (at the oracle price, less the "
        f"{percent(int(credits.redeemSpreadBps()))} redemption spread)"
    )
    received = client.redeem_credits(crd, min_tokens)
    emit({"tokens_received": str(received), **{k: str(v) for k, v in client.balances().items()}}, as_json)


@market_command(cli, "register-verifier")
@click.argument("amount", type=CMP)
def register_verifier(client: MarketClient, as_json: bool, amount: Decimal) -> None:
    """Register the account as a verifier (if it is not one yet) and stake AMOUNT CMP (shows it
    and asks first, unless --yes)."""
    view = client.verifier()
    registered = bool(view["registered"])
    minimum = client.min_verifier_stake()
    if view["active"] + amount < minimum:  # the ledger would refuse it: say so before asking
        raise InputError(
            f"AMOUNT: a verifier's active stake must be at least {amount_text(minimum)} CMP; "
            f"{amount_text(amount)} more makes it {amount_text(view['active'] + amount)}"
        )
    client.require_balance(client.p.token, to_wei(amount))  # unaffordable: refused, nothing asked
    first = "" if registered else ", registering the account as a verifier first"
    confirm_value(
        f"register-verifier moves {amount_text(amount)} CMP from your balance into your verifier stake{first}"
    )
    if registered:
        client.stake_as_verifier(amount)
    else:
        client.register_verifier(amount)
    emit({k: str(v) if isinstance(v, Decimal) else v for k, v in client.verifier().items()}, as_json)


@market_command(cli, "request-verifier")
@click.argument("job_id", type=JOB_ID)
def request_verifier(client: MarketClient, as_json: bool, job_id: int) -> None:
    """Queue the draw of a verifier for a job that asked for verification (made by process-draws)."""
    target = client.request_verifier(job_id)
    emit({"job_id": job_id, "target_block": target, "draws_pending": client.draws_pending()}, as_json)


@market_command(cli, "attest")
@click.argument("job_id", type=JOB_ID)
@click.argument("verdict", type=click.Choice(["ok", "bad"]))
def attest(client: MarketClient, as_json: bool, job_id: int, verdict: str) -> None:
    """The drawn verifier's verdict on a result: ok, or bad (which opens a dispute)."""
    client.attest(job_id, verdict == "ok")
    emit(verification_view(client, job_id), as_json)


@market_command(cli, "resolve")
@click.argument("job_id", type=JOB_ID)
def resolve(client: MarketClient, as_json: bool, job_id: int) -> None:
    """Close a dispute: the jury's vote once its reveal period is over, or, once the arbiter's
    appeal window passed without a decision, by default (no verdict, the job settles)."""
    if client.p.resolver.disputeOf(job_id).status == DisputeStatus.AWAITING_ARBITER:
        client.resolve_by_default(job_id)
    else:
        client.resolve(job_id)
    emit(dispute_view(client, job_id), as_json)


@market_command(cli, "claim-jury")
@click.argument("job_id", type=JOB_ID)
def claim_jury(client: MarketClient, as_json: bool, job_id: int) -> None:
    """Claim your share as a juror who voted with the majority of a decided dispute."""
    cmp, crd = client.claim_jury_reward(job_id)
    emit({"job_id": job_id, "cmp": str(cmp), "crd": str(crd)}, as_json)


@market_command(cli, "claim-rewards")
def claim_rewards(client: MarketClient, as_json: bool) -> None:
    """Claim every reward owed: work and verifier rewards of every past epoch and the stake
    rewards accrued, in one transaction (none when nothing is owed)."""
    received = client.claim_due_rewards()
    emit({f"{k}_cmp": str(v) for k, v in received.items()}, as_json)


@market_command(cli, "slash-failure")
@click.argument("job_id", type=JOB_ID)
def slash_failure(client: MarketClient, as_json: bool, job_id: int) -> None:
    """Slash the provider of a job that got no result by its end + result grace (the caller
    earns the keeper bounty, credited in the ledger: `claim-payout` sends it)."""
    bounty = client.slash_for_failure(job_id)
    emit(client.job(job_id).as_dict() | {"bounty_cmp": str(bounty)}, as_json)


@market_command(cli, "claim-payout")
@click.option("--payee", type=ADDRESS, default=None, help="Whose credit to send it (default: your own).")
def claim_payout(client: MarketClient, as_json: bool, payee: str | None) -> None:
    """Claim the CMP failed leases' slashes credited you (a customer's compensation, a keeper's
    bounties); with --payee, deliver another account's credit to it. Nothing credited: refused
    with `NothingToClaim`."""
    who = payee or client.address
    emit({"payee": who, "cmp": str(client.claim_payout(who))}, as_json)


@market_command(cli, "process-draws")
@click.option("--max", "max_entries", type=QUEUE_ENTRIES, default=32, show_default=True, help="Queue entries.")
def process_draws(client: MarketClient, as_json: bool, max_entries: int) -> None:
    """Make the queued verifier and jury draws whose target block is mined (sends nothing when
    none is ready)."""
    processed = client.process_draws(max_entries)
    emit({"processed": processed, "draws_pending": client.draws_pending()}, as_json)


# ---------------------------------------------------------------------- local chains

# `web3_clientVersion` of the development nodes whose clock may be moved (anvil, Hardhat, Ganache).
LOCAL_NODES = ("anvil", "hardhat", "ganache")


def local_node() -> str | None:
    """The development node behind the connection (``anvil/v1.…``), or None for any other chain:
    Ape's own local network, or a node whose client version names anvil, Hardhat or Ganache."""
    try:
        version = str(chain.provider.make_request("web3_clientVersion", []))
    except Exception:  # a node without the method is no development node
        version = ""
    if version.lower().startswith(LOCAL_NODES) or chain.provider.network.name == LOCAL_NETWORK_NAME:
        return version or LOCAL_NETWORK_NAME
    return None


@market_command(cli, "advance-time")
@click.argument("seconds", type=SECONDS)
def advance_time(client: MarketClient, as_json: bool, seconds: int) -> None:
    """Local chains only (anvil, Hardhat): move the chain's clock SECONDS on and mine a block
    (evm_increaseTime, evm_mine), e.g. past a bidding end, a lease or a challenge window.
    Refused on any other chain, before anything is sent."""
    if local_node() is None:
        raise click.ClickException(
            f"advance-time works on local chains only (anvil, Hardhat): chain {chain.chain_id} is not one"
        )
    chain.provider.make_request("evm_increaseTime", [seconds])
    chain.provider.make_request("evm_mine", [])
    head = chain.provider.get_block("latest")
    emit(
        {
            "advanced_seconds": seconds,
            "block": int(head.number),
            "timestamp": int(head.timestamp),
            "time": utc(int(head.timestamp)),
        },
        as_json,
    )
