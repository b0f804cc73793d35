"""JobMarket: the parameters packed by the path that reads them (Decisions, "The market's
parameters in four slots"), and a job packed by the calls that read it (Decisions, "A job in
four slots").

Read from the node's opcode trace (`tests/utils/storage_trace.py`): the declared variables of the
market (slots below 256; jobs, commitments, reference prices, offers and model ids live at
hashes) that each hot path touches. Slot 1 holds the pause flag, the treasury, what a bid reads
(`minDecrementBps`) and the job counter; slot 2 every term a posting copies into its job; slot 3
the CMP amounts a posting prices and the model counter; slot 4 the accrued fees and the resolver.

A job's own slots, counted from its first (`job_slots`): 0 the auction's terms (status, kind,
bidding's end, model id, max price, GPUs, least memory and reputation, per-GPU stake); 1 the best
bid (bidder, price, count); 2 the customer and the collateral; 3 the lease's terms and clock;
4 a sealed job's reveal window, nudge target and best bid, and a verified job's fee; 5 the region.
Before (f45d299) a job had eight: its first slot, the model, the region, the terms, what a bid
locks, the best bid, the bidding's record with the lease's clock, and the verification fee; a
posting wrote four fresh slots and the first bid two more, and a bid read six.
"""

from __future__ import annotations

import pytest
from utils.helpers import job_spec
from utils.job_market import crd, leased_job, post, sealed_auction
from utils.storage_trace import mapping_slot, parameter_slots, slots_touched

from compute_market.units import HOUR, bytes32, to_wei

JOBS_SLOT = 5  # `_jobs`, the first mapping after the four parameter slots
MODEL_IDS_SLOT = 9  # `_modelIds`, after the commitments (6), reference prices (7) and offers (8)
MODELS_SLOT = 10  # `_models`


def first_slot_of(job_id: int) -> int:
    """The storage slot of job `job_id`'s first word (`_jobs[jobId]`)."""
    return mapping_slot(job_id, JOBS_SLOT)


def job_slots(touched: set[int], job_id: int) -> list[int]:
    """Which of job `job_id`'s six slots (0 to 5, from its first) are among `touched`."""
    first = first_slot_of(job_id)
    return sorted(slot - first for slot in touched if 0 <= slot - first < 6)


def touched_by(chain, tx, market) -> set[int]:
    return slots_touched(chain.provider, str(tx.txn_hash), market.address)


def test_a_posting_writes_three_job_slots(market, chain, customer):
    """An open job without region or verification: the auction's terms, the customer with the
    collateral, and the lease's terms (each a fresh slot, 22,100 gas); the best bid's slot is
    the first bid's. A sealed job adds its fifth slot, a verified one too (the fee), a region
    its sixth. Before, a posting wrote four (and the first bid two more)."""
    post(market, chain, customer)  # the first posting reads the CMP rate; the second keeps it
    tx = market.postJob(job_spec(chain), sender=customer)
    assert job_slots(touched_by(chain, tx, market), market.jobCount()) == [0, 2, 3]
    tx = market.postJob(job_spec(chain, sealed=True), sender=customer)
    assert job_slots(touched_by(chain, tx, market), market.jobCount()) == [0, 2, 3, 4]
    tx = market.postJob(job_spec(chain, region=bytes32("eu-west"), verification=True), sender=customer)
    assert job_slots(touched_by(chain, tx, market), market.jobCount()) == [0, 2, 3, 4, 5]


def test_bids_read_three_job_slots_and_the_first_writes_one_fresh(market, chain, customer, providers):
    """The first bid on an open job reads the auction's terms and the customer with the
    collateral, and writes the best bid's slot (its one fresh slot); an outbid touches the same
    three and no other slot of the job (not the lease's). Before, a bid read six job slots and
    the first one wrote two fresh."""
    job_id = post(market, chain, customer)
    first = market.placeBid(job_id, crd("1.50"), sender=providers[0])
    assert job_slots(touched_by(chain, first, market), job_id) == [0, 1, 2]
    outbid = market.placeBid(job_id, crd("1.40"), sender=providers[1])
    assert job_slots(touched_by(chain, outbid, market), job_id) == [0, 1, 2]


def test_a_claim_and_a_result_read_neither_the_customer_nor_the_collateral(market, chain, customer, providers):
    """A claim and a result need the status, the best bid (provider, price) and the lease's terms
    and clock: job slots 0, 1 and 3."""
    job_id = leased_job(market, chain, customer, providers[0])
    chain.pending_timestamp += 5 * HOUR
    claim = market.claimEarnings(job_id, sender=providers[0])
    assert job_slots(touched_by(chain, claim, market), job_id) == [0, 1, 3]
    chain.pending_timestamp += 5 * HOUR
    result = market.submitResult(job_id, b"\x01" * 32, "r", sender=providers[0])
    assert job_slots(touched_by(chain, result, market), job_id) == [0, 1, 3]


def test_a_model_named_again_reads_its_id_only(market, chain, customer):
    """The first posting of a new model gives it the next id (`GpuModelAdded`); a second posting
    of it reads the id (one slot of `_modelIds`) and writes no model slot."""
    count = market.gpuModelCount()
    tx = market.postJob(job_spec(chain, model=bytes32("B200-192GB")), sender=customer)
    assert [(bytes(e.gpuModel), e.modelId) for e in tx.events.filter(market.GpuModelAdded)] == [
        (bytes32("B200-192GB"), count + 1)
    ]
    assert market.gpuModelId(bytes32("B200-192GB")) == count + 1 == market.gpuModelCount()
    again = market.postJob(job_spec(chain, model=bytes32("B200-192GB")), sender=customer)
    assert not again.events.filter(market.GpuModelAdded)
    touched = touched_by(chain, again, market)
    assert mapping_slot(int.from_bytes(bytes32("B200-192GB"), "big"), MODEL_IDS_SLOT) in touched
    assert mapping_slot(count + 1, MODELS_SLOT) not in touched
    assert market.gpuModelCount() == count + 1


@pytest.fixture
def customer(_customer, fresh_price):
    fresh_price()
    return _customer


def test_a_posting_touches_three_parameter_slots(market, chain, customer):
    """Slot 1 (the pause flag, read, and the job counter, written), 2 (the terms) and 3
    (`minStakePerGpu`, `bidBond`, the model counter and the kept CMP rate)."""
    post(market, chain, customer)  # the first posting reads the CMP rate; the second keeps it
    tx = market.postJob(job_spec(chain), sender=customer)
    assert parameter_slots(touched_by(chain, tx, market)) == [1, 2, 3]


def test_an_open_bid_touches_only_the_pause_flags_slot(market, chain, customer, providers):
    """The pause flag and `minDecrementBps` share slot 1: an outbid reads no other parameter."""
    job_id = post(market, chain, customer)
    market.placeBid(job_id, crd("1.50"), sender=providers[0])
    tx = market.placeBid(job_id, crd("1.40"), sender=providers[1])
    assert parameter_slots(touched_by(chain, tx, market)) == [1]


def test_a_settlement_without_verification_reads_neither_the_fee_nor_the_resolver(market, chain, customer, providers):
    """Only slot 4 (the accrued fees, read and written; the resolver shares it, so the trace
    cannot tell whether it was used), and the job's fifth slot (the verification fee) is not
    read: the job asks for no verification. Of the job its four slots (the status written, the
    lock released, the pay and refund from the lease's terms and clock); the escrow is derived
    from them. Before, six of its eight."""
    job_id = leased_job(market, chain, customer, providers[0])
    chain.pending_timestamp += 10 * HOUR
    market.submitResult(job_id, b"\x01" * 32, "r", sender=providers[0])
    chain.pending_timestamp += 86_400
    tx = market.settleJob(job_id, sender=customer)
    touched = touched_by(chain, tx, market)  # one trace
    assert parameter_slots(touched) == [4]
    assert job_slots(touched, job_id) == [0, 1, 2, 3]


def test_a_sealed_close_reads_no_parameter(market, chain, customer, providers):
    """Three reveals, then the close: it touches none of the market's declared slots (the nudge's
    target is the job's, in its fifth slot with the reveal window's end), and all five slots of
    the job: the auction's terms (status written, the model's id for the reference price), the
    best bid (the price it pays is there already), the customer (the refund), the lease's terms
    (the start written). Before, it read slot 1 for `targetBidsPerJob`."""
    job_id = post(market, chain, customer, sealed=True)
    tx = sealed_auction(market, chain, job_id, providers, ["1.20", "1.50", "1.70"], customer)
    touched = touched_by(chain, tx, market)
    assert parameter_slots(touched) == []
    assert job_slots(touched, job_id) == [0, 1, 2, 3, 4]


def test_every_parameter_at_its_bounds_leaves_its_neighbours_as_they_were(market, admin):
    """Packed slots: each setter at its upper and lower bound, and every getter then reads what
    was set (a narrower type or a wrong offset would cut a value or overwrite a neighbour)."""
    bounds = {
        "MinDecrementBps": (1, 5_000),
        "TargetBidsPerJob": (1, 100),
        "ProtocolFeeBps": (0, 1_000),
        "CollateralBps": (0, 10_000),
        "KeeperBountyBps": (0, 5_000),
        "VerificationFeeBps": (0, 5_000),
        "ResultGrace": (600, 7 * 86_400),
        "RevealPeriod": (600, 7 * 86_400),
        "MaxBiddingPeriod": (3_600, 90 * 86_400),
        "MaxDuration": (3_600, 730 * 86_400),
        "BidBond": (0, to_wei(100_000)),
        "MinStakePerGpu": (0, to_wei(1_000_000)),
    }
    before = {name: getattr(market, name[0].lower() + name[1:])() for name in bounds}
    window, treasury, count = market.challengeWindow(), market.treasury(), market.jobCount()
    for side in (1, 0):
        for name, pair in bounds.items():
            getattr(market, "set" + name)(pair[side], sender=admin)
        assert {name: getattr(market, name[0].lower() + name[1:])() for name in bounds} == {
            name: pair[side] for name, pair in bounds.items()
        }
        assert (market.challengeWindow(), market.treasury(), market.jobCount()) == (window, treasury, count)
    for name, value in before.items():
        getattr(market, "set" + name)(value, sender=admin)
