"""Conservation: after a random mix of jobs, the market's CRD balance equals what it still owes
(the sum of its jobs' escrows) to the wei, and every ended job holds nothing; across the
boundary, the ledger's locked stake, lock counts and reserved GPUs equal what the market's jobs
and commitments hold (`assert_locks_match_jobs`), and nothing is locked once every job ended.

Jobs run side by side in phases (post, bid, close, serve) with random sizes, prices, auction
kinds, holdbacks, verification (whose fee the escrow also holds), timings and fates (settled,
cancelled, failed, abandoned, expired), in a random interleaving; the balance is checked after
every phase step."""

from __future__ import annotations

import random

import pytest
from utils.helpers import H100, assert_locks_match_jobs, job_spec

from compute_market.commitments import commitment_for
from compute_market.models import JobStatus
from compute_market.units import HOUR, to_wei

SETTLED, CANCELLED, EXPIRED, FAILED = JobStatus.SETTLED, JobStatus.CANCELLED, JobStatus.EXPIRED, JobStatus.FAILED
FATES = ["settle", "settle", "cancel", "fail", "abandon", "expire", "cancel-bidding"]


@pytest.mark.parametrize("seed", [1, 2])
def test_market_balance_equals_escrow_owed_after_random_jobs(
    seed, accounts, market, registry, credits, chain, make_provider, make_customer, fresh_price
):
    rng = random.Random(seed)
    customers = [make_customer(accounts[i], to_wei(2_000)) for i in (10, 11)]
    providers = [make_provider(accounts[i], gpus=32) for i in (12, 13, 14)]
    jobs: list[dict] = []

    most_locks = 0

    def check() -> None:
        nonlocal most_locks
        owed = sum(market.fundsOf(j["id"]).escrow for j in jobs)
        assert credits.balanceOf(market) == owed + market.feesAccrued()
        most_locks = max(most_locks, assert_locks_match_jobs(market, registry, providers, [j["id"] for j in jobs]))

    # Post: 10 jobs, one per fate plus random ones.
    fates = FATES + [rng.choice(FATES) for _ in range(3)]
    rng.shuffle(fates)
    for fate in fates:
        sealed = rng.random() < 0.5
        who = rng.choice(customers)
        spec = job_spec(
            chain,
            gpus=rng.randint(1, 2),
            hours=rng.randint(1, 12),
            max_price=to_wei(rng.randint(1, 4)),
            sealed=sealed,
            holdback=rng.choice([0, 2_000, 10_000]),
            bidding=2 * HOUR,
            verification=rng.random() < 0.5,
        )
        job_id = market.postJob(spec, sender=who).events.filter(market.JobPosted)[0].jobId
        jobs.append({"id": job_id, "customer": who, "sealed": sealed, "fate": fate, "bids": []})
    check()

    # Bid: each job but the expiring ones gets 1 to 3 bids, in random order across jobs.
    bids = [(j, p) for j in jobs if j["fate"] != "expire" for p in rng.sample(providers, rng.randint(1, 3))]
    rng.shuffle(bids)
    for job, provider in bids:
        spec = market.getJob(job["id"])
        if job["sealed"]:
            price, salt = spec.maxPricePerGpuHour * rng.randint(40, 100) // 100, rng.randbytes(32)
            market.commitBid(job["id"], commitment_for(job["id"], provider, price, salt), sender=provider)
            job["bids"].append((provider, price, salt))
        else:
            ceiling = spec.price or spec.maxPricePerGpuHour
            market.placeBid(job["id"], ceiling * rng.randint(50, 98) // 100, sender=provider)
        check()
    for job in (j for j in jobs if j["fate"] == "cancel-bidding"):
        market.cancelJob(job["id"], sender=job["customer"])
        check()

    # Close: reveal sealed bids (one bidder in five never reveals), then finalize everything.
    chain.pending_timestamp += 2 * HOUR
    fresh_price()
    for job in jobs:
        for provider, price, salt in job["bids"]:
            if rng.random() < 0.8 and job["fate"] != "cancel-bidding":
                market.revealBid(job["id"], price, salt, sender=provider)
    chain.pending_timestamp += HOUR
    for job in jobs:
        if job["fate"] != "cancel-bidding":
            market.finalizeAuction(job["id"], sender=job["customer"])
            check()
        for provider, *_ in job["bids"]:
            if market.commitmentOf(job["id"], provider).revealed is False:
                market.settleCommitment(job["id"], provider, sender=job["customer"])
    check()

    # Serve: claims at random times, then each fate, in a random interleaving.
    live = [j for j in jobs if market.statusOf(j["id"]) == JobStatus.LEASED]
    for _ in range(3):
        chain.pending_timestamp += rng.randint(600, 3 * HOUR)
        for job in rng.sample(live, len(live)):
            winner = accounts[market.getJob(job["id"]).provider]
            if job["fate"] == "cancel" and rng.random() < 0.5 and market.statusOf(job["id"]) == JobStatus.LEASED:
                market.cancelJob(job["id"], sender=job["customer"])
            elif market.statusOf(job["id"]) == JobStatus.LEASED:
                market.claimEarnings(job["id"], sender=winner)
            check()
    for job in rng.sample(live, len(live)):
        state = market.statusOf(job["id"])
        winner = accounts[market.getJob(job["id"]).provider]
        if state != 2:
            continue
        if job["fate"] in ("settle", "expire", "cancel-bidding"):
            market.submitResult(job["id"], rng.randbytes(32), "ipfs://r", sender=winner)
        elif job["fate"] == "cancel":
            market.cancelJob(job["id"], sender=job["customer"])
        elif job["fate"] == "abandon":
            market.abandonJob(job["id"], sender=winner)
        check()
    chain.pending_timestamp += 2 * 86_400
    fresh_price()
    for job in live:
        state = market.statusOf(job["id"])
        if state == 3:
            market.settleJob(job["id"], sender=providers[0])
        elif state == 2:
            market.slashForFailure(job["id"], sender=providers[0])
        check()

    statuses = {market.statusOf(j["id"]) for j in jobs}
    assert statuses == {SETTLED, CANCELLED, EXPIRED, FAILED}, statuses
    fees, treasury = market.feesAccrued(), market.treasury()
    assert fees > 0
    before = credits.balanceOf(treasury)
    market.withdrawFees(sender=customers[0])  # anyone sends them, only to the treasury
    assert credits.balanceOf(treasury) == before + fees
    assert credits.balanceOf(market) == market.feesAccrued() == 0  # every ended job paid out its escrow
    assert most_locks >= 10  # the lock check saw the commitments and leases, not an empty book
    assert all(market.offerOf(p, H100).locked == 0 for p in providers)
