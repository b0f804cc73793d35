"""JobMarket: the parameters packed by the path that reads them (Decisions, "The market's
parameters in four slots").

Read from the node's opcode trace (`tests/utils/storage_trace.py`): the declared variables of the
market (slots below 256; jobs, commitments and reference prices live at hashes) that each hot path
touches. Slot 1 holds the pause flag, the treasury, what a bid reads (`minDecrementBps`) and the
job counter; slot 2 every term a posting copies into its job; slot 3 the CMP amounts a posting
prices; slot 4 the accrued fees and the resolver. Before the repack a posting touched 5 of these
slots (1 to 5), a bid 2 (1 and 2) and a settlement 2 (2 and 9), besides the job's verification-fee
slot.

A job's own slots, counted from its first (`job_slots`): 0 the customer, the bidding's ends and
the status; 1 the model; 2 the region; 3 the terms; 4 what a bid locks; 5 the best bid; 6 the
bidding's record and the lease's clock; 7 the verification fee. A posting writes 0, 1, 3 and 4
(the escrow and the pay released are derived, not stored: `fundsOf`).
"""

from __future__ import annotations

import pytest
from utils.helpers import job_spec
from utils.job_market import crd, leased_job, post, sealed_auction
from utils.storage_trace import mapping_slot, parameter_slots, slots_touched

from compute_market.units import HOUR, bytes32, to_wei

JOBS_SLOT = 5  # `_jobs`, the first mapping after the four parameter slots


def first_slot_of(job_id: int) -> int:
    """The storage slot of job `job_id`'s first word (`_jobs[jobId]`)."""
    return mapping_slot(job_id, JOBS_SLOT)


def job_slots(touched: set[int], job_id: int) -> list[int]:
    """Which of job `job_id`'s eight slots (0 to 7, from its first) are among `touched`."""
    first = first_slot_of(job_id)
    return sorted(slot - first for slot in touched if 0 <= slot - first < 8)


def test_a_posting_writes_four_job_slots(market, chain, customer):
    """A job without region or verification: its first slot, the model, the terms and what a bid
    locks, nothing else (each a fresh slot, 22,100 gas). Before, a fifth (the escrow, the pay
    released and the lease's start) was written too. A region and a verification fee add theirs."""
    post(market, chain, customer)  # the first posting reads the CMP rate; the second keeps it
    tx = market.postJob(job_spec(chain), sender=customer)
    job_id = market.jobCount()
    assert job_slots(slots_touched(chain.provider, str(tx.txn_hash), market.address), job_id) == [0, 1, 3, 4]
    tx = market.postJob(job_spec(chain, region=bytes32("eu-west"), verification=True), sender=customer)
    job_id = market.jobCount()
    assert job_slots(slots_touched(chain.provider, str(tx.txn_hash), market.address), job_id) == [0, 1, 2, 3, 4, 7]


@pytest.fixture
def customer(_customer, fresh_price):
    fresh_price()
    return _customer


def test_a_posting_touches_three_parameter_slots(market, chain, customer):
    """Slot 1 (the pause flag, read, and the job counter, written), 2 (the terms) and 3
    (`minStakePerGpu`, `bidBond` and the kept CMP rate): 2 cold slots fewer than before."""
    post(market, chain, customer)  # the first posting reads the CMP rate; the second keeps it
    tx = market.postJob(job_spec(chain), sender=customer)
    assert parameter_slots(slots_touched(chain.provider, str(tx.txn_hash), market.address)) == [1, 2, 3]


def test_an_open_bid_touches_only_the_pause_flags_slot(market, chain, customer, providers):
    """The pause flag and `minDecrementBps` share slot 1: an outbid reads no other parameter."""
    job_id = post(market, chain, customer)
    market.placeBid(job_id, crd("1.50"), sender=providers[0])
    tx = market.placeBid(job_id, crd("1.40"), sender=providers[1])
    assert parameter_slots(slots_touched(chain.provider, str(tx.txn_hash), market.address)) == [1]


def test_a_settlement_without_verification_reads_neither_the_fee_nor_the_resolver(market, chain, customer, providers):
    """Only slot 4 (the accrued fees, read and written; the resolver shares it, so the trace
    cannot tell whether it was used), and the job's verification-fee slot (its eighth) is not
    read: the job asks for no verification. Of the job: its first slot (the status, written),
    the model and what a bid locks (the lock released), the terms, the best bid and the lease's
    clock; the escrow is derived from them."""
    job_id = leased_job(market, chain, customer, providers[0])
    chain.pending_timestamp += 10 * HOUR
    market.submitResult(job_id, b"\x01" * 32, "r", sender=providers[0])
    chain.pending_timestamp += 86_400
    tx = market.settleJob(job_id, sender=customer)
    touched = slots_touched(chain.provider, str(tx.txn_hash), market.address)  # one trace
    assert parameter_slots(touched) == [4]
    assert job_slots(touched, job_id) == [0, 1, 3, 4, 5, 6]


def test_a_sealed_close_reads_no_parameter(market, chain, customer, providers):
    """Three reveals, then the close: it touches none of the market's declared slots (the nudge's
    target is the job's, in its first slot), and of the job its first slot, the model (the
    reference price's), the terms, the best bid (the price it pays is there already) and the
    lease's clock (the start, written beside the bidding's record); not what a bid locks nor the
    verification fee. Before, it read slot 1 for `targetBidsPerJob` and the bidding's record for
    the second price."""
    job_id = post(market, chain, customer, sealed=True)
    tx = sealed_auction(market, chain, job_id, providers, ["1.20", "1.50", "1.70"], customer)
    touched = slots_touched(chain.provider, str(tx.txn_hash), market.address)
    assert parameter_slots(touched) == []
    assert job_slots(touched, job_id) == [0, 1, 3, 5, 6]


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
