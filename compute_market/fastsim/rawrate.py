"""The node's raw batched rate for the protocol's own hot-path calls, measured on the run's node
and leaving its state as it was.

Inside an `evm_snapshot` … `evm_revert`: throwaway customers and providers (fixed addresses of
their own, never the run's actors) are funded and set up (not timed: the providers register,
stake, and offer a GPU model of their own with all their stake provisioned); then, `repeats` times, a
batch of `txs` `JobMarket.postJob` (open auctions, one GPU, one hour) is sent and mined as one
block, and a batch of `txs` `JobMarket.placeBid` (the first bid on each of those jobs) likewise,
both through `Chain.mine_step` exactly as a step goes out (explicit nonces, fixed gas, statuses
from the block's logs), with no Python decisions in between. The node then reverts to the
snapshot; the chain's nonces and head are restored, so the run's mirror still matches the chain.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from typing import Any

from eth_utils.crypto import keccak

from compute_market.fastsim.chain import GAS, Block, Chain, Tx
from compute_market.models import NO_WORKLOAD
from compute_market.units import HOUR, bytes32

RAW_GPU = "fastsim-raw-gpu"  # the throwaway providers' GPU model (no run actor offers it)
RAW_VRAM_GB = 80
SETUP_BLOCK_TXS = 500  # set-up blocks stay small (anvil reads a block's receipts in quadratic time)
MAX_UINT = 2**256 - 1
OPEN_AUCTION = 0  # AuctionKind.Open
# Rounds measured; the rate is their median. Five, not three: one round in three or four ran at
# half speed while other processes shared the two cores, and a median of three then could be one.
PROTOCOL_REPEATS = 5

PROTOCOL_WHAT = (
    "median of {repeats} rounds. Each round: {txs} JobMarket.postJob (open auction, 1 GPU, 1 h) from "
    "{customers} throwaway customers, sent as one batch of eth_sendTransaction and mined as one block; "
    "then {txs} JobMarket.placeBid (the first bid on each of those jobs) from {providers} throwaway "
    "providers, likewise; each through Chain.mine_step (explicit nonces, fixed gas, statuses from the "
    "block's logs) with no Python decisions. protocol_tx_per_s: both batches' transactions per second "
    "of both; postJob/placeBid_tx_per_s: each batch alone. Measured inside evm_snapshot/evm_revert on "
    "the run's node after its mirror check: the run's state is left as it was"
)


def raw_address(kind: str, index: int) -> str:
    """A throwaway actor's fixed address (never one of the run's `fastsim:<kind>:<i>`)."""
    return "0x" + keccak(text=f"fastsim-raw:{kind}:{index}")[-20:].hex()


def measure_protocol_rate(
    chain: Chain, *, txs: int = 1_000, repeats: int = PROTOCOL_REPEATS, customers: int = 50, providers: int = 50
) -> dict[str, Any]:
    """The raw batched rate of `postJob` and `placeBid` on `chain`'s node (see the module's doc):
    batches of `txs` (fewer if the node's block gas limit holds fewer: `protocol_batch_txs`).
    Mining must be off (the engine's setting). Returns rates, samples and counts; raises
    `RuntimeError` when the set-up fails (e.g. the admin has too little CMP)."""
    if txs < 1 or repeats < 1 or customers < 1 or providers < 1:
        raise ValueError("txs, repeats, customers and providers must be positive")
    rpc = chain.rpc
    nonces = Counter(chain.nonces)
    snapshot = rpc.call("evm_snapshot")
    try:
        return _measure(chain, txs, repeats, customers, providers)
    finally:
        rpc.call("anvil_dropAllTransactions")
        if not rpc.call("evm_revert", [snapshot]):
            raise RuntimeError(f"evm_revert {snapshot} failed: the run's node state is not restored")
        chain.nonces.clear()
        chain.nonces.update(nonces)
        chain.head_number = None  # read again: the reverted head


def _measure(chain: Chain, txs: int, repeats: int, n_customers: int, n_providers: int) -> dict[str, Any]:
    admin = chain.deployment.admin
    # one batch is one block: as many as the block's gas limit holds (the engine's anvil: any)
    gas_limit = int(chain.rpc.call("eth_getBlockByNumber", ["latest", False])["gasLimit"], 16)
    txs = min(txs, gas_limit // max(GAS["postJob"], GAS["placeBid"]))
    if txs < 1:
        raise RuntimeError(f"a block of {gas_limit} gas holds no postJob")
    customers = [raw_address("customer", i) for i in range(n_customers)]
    providers = [raw_address("provider", i) for i in range(n_providers)]
    chain.prepare_senders([admin, *customers, *providers])
    _, now = chain.head()

    # ---------------------------------------------------------------- set-up (not timed)
    max_price = 10**18  # 1 CRD per GPU-hour: escrow of one 1-GPU, 1-hour job
    # each round goes round-robin from the first actor: the first ones take the extra ones
    jobs_per_customer = repeats * -(-txs // n_customers)
    bids_per_provider = repeats * -(-txs // n_providers)
    (collateral_bps,), (min_stake,), (collateral,), (admin_cmp,), round_data = chain.calls(
        [
            ("JobMarket", "collateralBps", ()),
            ("JobMarket", "minStakePerGpu", ()),
            ("ComputeCredits", "creditsToTokens", (max_price,)),
            ("ComputeToken", "balanceOf", (admin,)),
            ("PriceFeed", "latestRoundData", ()),
        ]
    )
    feed = int(round_data[1])  # the latest answer, posted again below
    collateral = collateral * collateral_bps // 10_000 + 1
    stake = 2 * bids_per_provider * (min_stake + collateral)  # twice the locks: any price move covered
    credits = jobs_per_customer * max_price
    mint = 2 * (chain.calls([("ComputeCredits", "creditsToTokens", (credits,))])[0][0] + 10**18)
    need = n_providers * stake + n_customers * mint
    if admin_cmp < need:
        raise RuntimeError(f"the admin has {admin_cmp} CMP wei, the throwaway actors need {need}")
    registry, credits_address, market = (chain.address(n) for n in ("ProviderRegistry", "ComputeCredits", "JobMarket"))
    gpu = bytes32(RAW_GPU)
    setup = [Tx(admin, "raw", "PriceFeed", "setAnswer", (feed,))]  # a fresh answer for the prices
    setup += [Tx(admin, "raw", "ComputeToken", "transfer", (p, stake)) for p in providers]
    setup += [Tx(admin, "raw", "ComputeToken", "transfer", (c, mint)) for c in customers]
    joining: list[Tx] = []
    for p in providers:
        joining += [
            Tx(p, "raw", "ComputeToken", "approve", (registry, MAX_UINT)),
            Tx(p, "raw", "ProviderRegistry", "register", (f"fastsim-raw://{p}", bytes32("raw"))),
        ]
    for c in customers:
        joining += [
            Tx(c, "raw", "ComputeToken", "approve", (credits_address, MAX_UINT)),
            Tx(c, "raw", "ComputeCredits", "approve", (market, MAX_UINT)),
        ]
    funded: list[Tx] = []
    for p in providers:  # all of the stake provisioned for the GPUs offered: what the bids lock
        funded += [
            Tx(p, "raw", "ProviderRegistry", "stake", (stake,)),
            Tx(p, "raw", "JobMarket", "setOffer", (gpu, bids_per_provider, RAW_VRAM_GB, stake)),
        ]
    funded += [Tx(c, "raw", "ComputeCredits", "mintWithTokens", (mint, 0, c)) for c in customers]
    for batch in (setup, joining, funded):
        for i in range(0, len(batch), SETUP_BLOCK_TXS):
            now += 1
            _expect_ok(chain.mine_step(batch[i : i + SETUP_BLOCK_TXS], now), "set-up")

    # ---------------------------------------------------------------- timed rounds
    post_rates: list[float] = []
    bid_rates: list[float] = []
    both_rates: list[float] = []
    ok = 0
    posted_topic = chain.codecs["JobMarket"].event_topic("JobPosted")
    posted_name = chain.codecs["JobMarket"].events[posted_topic].name
    for _ in range(repeats):
        now += 1
        spec = (gpu, 1, RAW_VRAM_GB, bytes32(""), HOUR, max_price, now + HOUR, OPEN_AUCTION, 0, 0, False)
        posts = [
            Tx(customers[i % n_customers], "raw", "JobMarket", "postJob", ((*spec, NO_WORKLOAD, ""),))
            for i in range(txs)
        ]
        started = time.perf_counter()
        block = chain.mine_step(posts, now)
        post_seconds = time.perf_counter() - started
        ok += _expect_ok(block, "postJob")
        jobs = [int(log.args["jobId"]) for log in block.logs if log.event == posted_name]
        if len(jobs) != txs:
            raise RuntimeError(f"{len(jobs)} JobPosted logs for {txs} postJob")
        now += 1
        bids = [
            Tx(providers[i % n_providers], "raw", "JobMarket", "placeBid", (job, max_price))
            for i, job in enumerate(jobs)
        ]
        started = time.perf_counter()
        block = chain.mine_step(bids, now)
        bid_seconds = time.perf_counter() - started
        ok += _expect_ok(block, "placeBid")
        post_rates.append(txs / post_seconds)
        bid_rates.append(txs / bid_seconds)
        both_rates.append(2 * txs / (post_seconds + bid_seconds))
    return {
        "protocol_tx_per_s": round(statistics.median(both_rates), 1),
        "protocol_tx_per_s_samples": [round(r, 1) for r in both_rates],
        "postJob_tx_per_s": round(statistics.median(post_rates), 1),
        "postJob_tx_per_s_samples": [round(r, 1) for r in post_rates],
        "placeBid_tx_per_s": round(statistics.median(bid_rates), 1),
        "placeBid_tx_per_s_samples": [round(r, 1) for r in bid_rates],
        "protocol_tx_ok": ok,
        "protocol_tx_sent": 2 * txs * repeats,
        "protocol_batch_txs": txs,
        "protocol_what": PROTOCOL_WHAT.format(repeats=repeats, txs=txs, customers=n_customers, providers=n_providers),
    }


def _expect_ok(block: Block, what: str) -> int:
    """How many of the block's transactions succeeded; `RuntimeError` naming the first failure."""
    failed = [o for o in block.outcomes if not o.ok]
    if failed or block.dropped:
        first = f"{failed[0].tx.function}: {failed[0].error}" if failed else "none reverted"
        raise RuntimeError(f"{what}: {len(failed)} reverted, {block.dropped} dropped (first: {first})")
    return len(block.outcomes)
