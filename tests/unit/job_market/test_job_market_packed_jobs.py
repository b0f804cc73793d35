"""JobMarket: a job packed in four slots (Decisions, "A job in four slots") and read back whole.

The market keeps a job's model as an id given the first time a job or an offer names it, the
per-GPU stake in whole CMP, and a sealed or verified job's extra terms in a fifth slot; `getJob`
unpacks all of it into the `Job` record callers always had. Numbers: jobs of 2 GPUs for 10 hours
at a max price of 2 CRD, CMP at 2.50 USD (collateral 4.8 CMP), 100 CMP per GPU (200 CMP stake).
"""

from __future__ import annotations

import ape
import pytest
from utils.helpers import H100, job_spec
from utils.job_market import commit, crd, post

from compute_market.units import HOUR, bytes32, to_wei

L40S = bytes32("L40S-48GB")
NEVER = bytes32("never-named")
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


@pytest.fixture
def customer(_customer, fresh_price):
    fresh_price()
    return _customer


def test_an_offer_names_a_new_model_and_a_later_job_uses_its_id(market, chain, customer, accounts, make_provider):
    """A provider offering L40S GPUs first names the model (`GpuModelAdded`, the next id); a job
    for L40S posted afterwards reuses that id (no event), shows the model by name, and the
    provider's offer of it takes the job's bid."""
    provider = make_provider(accounts[15], provision=0)  # 10,000 CMP staked, none provisioned yet
    count = market.gpuModelCount()
    tx = market.setOffer(L40S, 4, 48, to_wei(1_000), sender=provider)
    assert [(bytes(e.gpuModel), e.modelId) for e in tx.events.filter(market.GpuModelAdded)] == [(L40S, count + 1)]
    assert (market.gpuModelId(L40S), market.gpuModelCount()) == (count + 1, count + 1)
    posted = market.postJob(job_spec(chain, model=L40S, vram=40), sender=customer)
    assert not posted.events.filter(market.GpuModelAdded)
    job_id = market.jobCount()
    assert bytes(market.getJob(job_id).gpuModel) == L40S
    market.placeBid(job_id, crd("1.5"), sender=provider)
    assert market.offerOf(provider, L40S).reserved == 2
    assert market.offerOf(provider, H100).reserved == 0


def test_a_model_nobody_named_reads_as_nothing(market, stranger):
    """No id, no offer, no reference price, and an unknown job's record is all zero."""
    assert market.gpuModelId(NEVER) == 0
    assert tuple(market.offerOf(stranger, NEVER)) == (0, 0, 0, 0, 0)
    assert market.referencePrice(NEVER) == 0
    job = market.getJob(10**9)
    assert (bytes(job.gpuModel), job.customer, job.status, job.collateral, job.gpuStake) == (
        bytes(32),
        ZERO_ADDRESS,
        0,
        0,
        0,
    )


def test_get_job_unpacks_a_sealed_verified_job_with_a_region(market, chain, customer, providers):
    """Every field of the record as posted: the reveal window's end (bidding's end + 1 hour), the
    nudge target (3), the region, the verification fee (5% of the 40 CRD lease), the per-GPU
    stake (100 CMP times 2), the collateral; then after two reveals (1.20 and 1.50 CRD) the best
    bid's own price, its commitment's block and the second price the winner will be paid."""
    spec = job_spec(chain, sealed=True, verification=True, region=bytes32("eu-west"), min_rep=0)
    market.postJob(spec, sender=customer)
    job_id = market.jobCount()
    job = market.getJob(job_id)
    assert (job.customer, job.biddingEnd, job.revealEnd) == (customer.address, spec[6], spec[6] + HOUR)
    assert (job.kind, job.status, job.targetBids, bytes(job.gpuModel), bytes(job.region)) == (
        1,
        1,
        3,
        H100,
        bytes32("eu-west"),
    )
    assert (job.maxPricePerGpuHour, job.duration, job.gpuCount, job.minVramGb) == (to_wei(2), 10 * HOUR, 2, 40)
    assert (job.holdbackBps, job.feeBps, job.keeperBountyBps, job.resultGrace, job.challengeWindow) == (
        2_000,
        100,
        500,
        HOUR,
        86_400,
    )
    assert (job.collateral, job.gpuStake, job.verification, job.hasRegion) == (to_wei(10), to_wei(200), True, True)
    assert job.verificationFee == crd(2)
    blocks = []
    for provider, price in zip(providers[:2], ("1.20", "1.50"), strict=True):
        commit(market, job_id, provider, crd(price), b"s")
        blocks.append(chain.blocks.head.number)
    chain.pending_timestamp += HOUR
    for provider, price in zip(providers[:2], ("1.20", "1.50"), strict=True):
        market.revealBid(job_id, crd(price), b"s", sender=provider)
    job = market.getJob(job_id)
    assert (job.provider, job.price, job.bestBid, job.bestBidBlock, job.bidCount) == (
        providers[0].address,
        crd("1.50"),
        crd("1.20"),
        blocks[0],
        2,
    )


def test_an_open_job_keeps_no_sealed_terms(market, chain, customer, providers):
    """An open job writes no fifth slot: no reveal window, no nudge target, no best bid's block
    (open bids cannot tie), whatever the bids."""
    job_id = post(market, chain, customer)
    market.placeBid(job_id, crd("1.50"), sender=providers[0])
    market.placeBid(job_id, crd("1.40"), sender=providers[1])
    job = market.getJob(job_id)
    assert (job.revealEnd, job.targetBids, job.bestBidBlock, job.bestBid, job.verificationFee) == (0, 0, 0, 0, 0)
    assert (job.provider, job.price, job.bidCount) == (providers[1].address, crd("1.40"), 2)


def test_the_per_gpu_stake_is_set_in_whole_cmp(market, chain, customer, admin, providers):
    """100.5 CMP per GPU is refused (`NotWholeTokens`, naming the parameter and the value): a job
    keeps the stake in whole CMP. 7 CMP is taken: a job posted after it locks 14 CMP beside its
    collateral, and its bidder's offer holds exactly that."""
    with ape.reverts(market.NotWholeTokens, name=bytes32("minStakePerGpu"), value=to_wei("100.5")):
        market.setMinStakePerGpu(to_wei("100.5"), sender=admin)
    market.setMinStakePerGpu(to_wei(7), sender=admin)
    assert market.minStakePerGpu() == to_wei(7)
    job_id = post(market, chain, customer)
    assert market.getJob(job_id).gpuStake == to_wei(14)
    locked = market.offerOf(providers[0], H100).locked
    market.placeBid(job_id, crd("1.50"), sender=providers[0])
    assert market.offerOf(providers[0], H100).locked - locked == crd("4.8") + to_wei(14)


def test_the_reference_price_is_logged_by_model_id(market, chain, customer, providers):
    """A close logs the new reference price with the model's id (the id `GpuModelAdded` gave it),
    and `referencePrice` answers for the model by name."""
    job_id = post(market, chain, customer)
    market.placeBid(job_id, crd("1.50"), sender=providers[0])
    chain.pending_timestamp += HOUR
    tx = market.finalizeAuction(job_id, sender=customer)
    event = tx.events.filter(market.ReferencePriceUpdated)[0]
    assert (event.modelId, event.price) == (market.gpuModelId(H100), market.referencePrice(H100))
    assert market.referencePrice(H100) != 0
