"""Builders and constants shared by the JobMarket tests (tests/unit/job_market)."""

from __future__ import annotations

from decimal import Decimal

from compute_market.commitments import commitment_for
from compute_market.models import JobStatus
from compute_market.units import HOUR, to_wei
from utils.helpers import job_spec

BIDDING, LEASED, RESULT, SETTLED = JobStatus.BIDDING, JobStatus.LEASED, JobStatus.RESULT_SUBMITTED, JobStatus.SETTLED
CANCELLED, EXPIRED, FAILED, DISPUTED = JobStatus.CANCELLED, JobStatus.EXPIRED, JobStatus.FAILED, JobStatus.DISPUTED


def crd(x: str | int) -> int:
    return to_wei(Decimal(str(x)))


def post(market, chain, customer, **kw) -> int:
    tx = market.postJob(job_spec(chain, **kw), sender=customer)
    return tx.events.filter(market.JobPosted)[0].jobId


def leased_job(market, chain, customer, provider, price: str = "1.10", **kw) -> int:
    job_id = post(market, chain, customer, **kw)
    market.placeBid(job_id, crd(price), sender=provider)
    chain.pending_timestamp += HOUR
    market.finalizeAuction(job_id, sender=provider)
    return job_id


def commit(market, job_id, provider, price: int, salt: bytes) -> None:
    market.commitBid(job_id, commitment_for(job_id, provider, price, salt), sender=provider)


def sealed_auction(market, chain, job_id, bidders, prices: list[str], closer):
    """Commits each bidder's price (salt `b"s"`), reveals them all once bidding is over, and
    closes the auction once reveals are: the receipt of `finalizeAuction`."""
    for bidder, price in zip(bidders, prices, strict=True):
        commit(market, job_id, bidder, crd(price), b"s")
    chain.pending_timestamp += HOUR
    for bidder, price in zip(bidders, prices, strict=True):
        market.revealBid(job_id, crd(price), b"s", sender=bidder)
    chain.pending_timestamp += HOUR
    return market.finalizeAuction(job_id, sender=closer)
