"""JobMarket: posting a job (escrow, spec validation, the per-GPU stake fixed at posting).

Numbers used throughout: CMP at 2.50 USD; a job of 2 GPUs for 10 hours with a max price of
2 CRD per GPU-hour escrows 40 CRD; the lease value at price p is 20p CRD; collateral is 30% of the
lease value at the max price (12 CRD: 4.8 CMP), whatever the bid
in CMP, 6p CRD / 2.5 = 2.4p CMP, and the registry lock adds 100 CMP per GPU.
"""

from __future__ import annotations

import ape
import pytest
from utils.helpers import H100, job_spec
from utils.job_market import BIDDING, commit, crd, post

from compute_market.units import HOUR, bytes32, to_wei


@pytest.fixture
def customer(_customer, fresh_price):
    fresh_price()
    return _customer


def test_post_job_escrows_max_price_times_gpus_times_hours(market, credits, chain, customer):
    before = credits.balanceOf(customer)
    tx = market.postJob(job_spec(chain), sender=customer)
    event = tx.events.filter(market.JobPosted)[0]
    assert event.escrow == crd(40)
    assert credits.balanceOf(customer) == before - crd(40)
    assert credits.balanceOf(market) == crd(40)
    job = market.getJob(event.jobId)
    assert (job.status, job.gpuCount, job.duration, job.feeBps) == (BIDDING, 2, 10 * HOUR, 100)


@pytest.mark.parametrize(
    ("field", "kw"),
    [
        ("gpuModel", {"model": bytes32("")}),
        ("gpuCount", {"gpus": 0}),
        ("gpuCount", {"gpus": 2**16}),  # the job stores GPU counts in 16 bits
        ("minVramGb", {"vram": 2**16}),  # and the least memory per GPU
        ("maxPricePerGpuHour", {"max_price": 0}),
        ("maxPricePerGpuHour", {"max_price": 2**80}),  # the best bid's price is stored in 80 bits
        ("escrow", {"max_price": 2**80 - 1, "gpus": 65_535}),  # escrows in 96 bits: 655,350 GPU-hours do not fit
        ("biddingEnd", {"bidding": 0}),
        ("biddingEnd", {"bidding": 31 * 86_400}),
        ("holdbackBps", {"holdback": 10_001}),
        ("minReputationBps", {"min_rep": 10_001}),
        ("duration", {"hours": 0}),
    ],
)
def test_invalid_job_specs_revert_naming_the_field(market, chain, customer, field, kw):
    with ape.reverts(market.InvalidJobSpec, field=bytes32(field)):
        market.postJob(job_spec(chain, **kw), sender=customer)


def test_a_job_whose_escrow_rounds_to_zero_reverts(market, chain, customer):
    spec = list(job_spec(chain, gpus=1, max_price=1))
    spec[4] = 60  # one minute at 1 wei per GPU-hour
    with ape.reverts(market.InvalidJobSpec, field=bytes32("escrow")):
        market.postJob(tuple(spec), sender=customer)


@pytest.mark.parametrize("sealed", [False, True])
def test_the_per_gpu_stake_is_fixed_when_the_job_is_posted(
    market, registry, chain, admin, customer, providers, fresh_price, sealed
):
    """Posted at 100 CMP per GPU (2 GPUs: 200 CMP beside the collateral, 4.8 CMP open and the
    10 CMP bid bond sealed); governance
    then sets 0, and later 1,000. Bids, commitments and the release all use the job's 200, so
    every lock is released to the wei (no per-bid record exists to remember it)."""
    job_id = post(market, chain, customer, sealed=sealed)
    assert market.getJob(job_id).gpuStake == to_wei(200)
    market.setMinStakePerGpu(0, sender=admin)
    p1, p2 = providers[0], providers[1]
    if sealed:
        commit(market, job_id, p1, crd("1.50"), b"a")
        commit(market, job_id, p2, crd("1.20"), b"b")
        assert market.offerOf(p1, H100).locked == to_wei(10) + to_wei(200)
        market.setMinStakePerGpu(to_wei(1_000), sender=admin)
        chain.pending_timestamp += HOUR
        market.revealBid(job_id, crd("1.50"), b"a", sender=p1)
        market.revealBid(job_id, crd("1.20"), b"b", sender=p2)
    else:
        market.placeBid(job_id, crd("1.50"), sender=p1)
        market.setMinStakePerGpu(to_wei(1_000), sender=admin)
        market.placeBid(job_id, crd("1.20"), sender=p2)
    assert market.offerOf(p1, H100).locked == 0
    assert market.offerOf(p2, H100).locked == (to_wei(10) if sealed else crd("4.8")) + to_wei(200)
    fresh_price()
    assert market.getJob(post(market, chain, customer)).gpuStake == to_wei(2_000)
    chain.pending_timestamp += 2 * HOUR
    market.finalizeAuction(job_id, sender=customer)
    market.submitResult(job_id, bytes32("r"), "ipfs://r", sender=p2)
    chain.pending_timestamp += 25 * HOUR
    market.settleJob(job_id, sender=customer)
    offer = market.offerOf(p2, H100)
    assert (offer.locked, offer.reserved) == (0, 0)


def test_a_job_whose_per_gpu_stake_overflows_is_refused(market, chain, admin, customer):
    market.setMinStakePerGpu(to_wei(1_000_000), sender=admin)
    spec = list(job_spec(chain, gpus=2**32 - 1, max_price=1))
    with ape.reverts(market.InvalidJobSpec, field=bytes32("gpuCount")):
        market.postJob(tuple(spec), sender=customer)


def test_the_cmp_rate_is_read_once_per_ten_minutes_of_postings(market, credits, chain, customer, fresh_price):
    """The first posting reads the credits contract's CMP rate (CMP at 2.50 USD: 0.4 CMP per CRD)
    and keeps it: the job's 12 CRD of collateral is 4.8 CMP. The oracle then moves 10% to 2.75 USD.
    A posting 9 minutes after the read still prices at the kept rate (4.8 CMP, no read, about
    16,000 gas less); one 10 minutes after it reads the new rate (1/2.75 CMP per CRD: 4.3636 CMP)."""
    tx = market.postJob(job_spec(chain), sender=customer)
    (read,) = tx.events.filter(market.CollateralRateRead)
    assert read.tokensPerCredit == credits.creditsToTokens(to_wei(1)) == to_wei("0.4")
    assert market.getJob(tx.events.filter(market.JobPosted)[0].jobId).collateral == crd("4.8")
    chain.pending_timestamp += 9 * 60
    fresh_price("2.75")
    cached = market.postJob(job_spec(chain), sender=customer)
    assert not cached.events.filter(market.CollateralRateRead)
    assert market.getJob(cached.events.filter(market.JobPosted)[0].jobId).collateral == crd("4.8")
    assert cached.gas_used < tx.gas_used - 10_000
    chain.pending_timestamp += 60
    again = market.postJob(job_spec(chain), sender=customer)
    (read,) = again.events.filter(market.CollateralRateRead)
    assert read.tokensPerCredit == credits.creditsToTokens(to_wei(1)) == to_wei(1) * 10**8 // (275 * 10**6)
    job = market.getJob(again.events.filter(market.JobPosted)[0].jobId)
    assert job.collateral == crd(12) * read.tokensPerCredit // to_wei(1) == 4_363_636_363_636_363_632


def test_a_job_without_collateral_reads_no_rate(market, chain, admin, customer):
    """With `collateralBps` at 0 an open job carries no collateral and a sealed one the 10 CMP bid
    bond: neither needs the oracle, so both post with its answer two hours stale."""
    market.setCollateralBps(0, sender=admin)
    chain.pending_timestamp += 2 * HOUR
    for sealed, collateral in ((False, 0), (True, to_wei(10))):
        tx = market.postJob(job_spec(chain, sealed=sealed), sender=customer)
        assert not tx.events.filter(market.CollateralRateRead)
        assert market.getJob(tx.events.filter(market.JobPosted)[0].jobId).collateral == collateral
