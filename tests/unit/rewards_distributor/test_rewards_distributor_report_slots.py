"""RewardsDistributor: what a work report reads and writes (README, gas; the settlement's report).

From the node's opcode trace (`tests/utils/storage_trace.py`). A provider's second report in an
epoch reads and writes one slot of its activity (the credits, the epoch and the work cap share a
slot; the verifier counters and what it is owed, which a settlement without a verifier does not
move, are in the other) and reads no schedule segment: the epoch's first report copies the
segment's work and verifier shares into the epoch's totals, the slot every report writes anyway.
Before, the report read the segment count and the segment (two cold slots, 4,200 gas) and wrote
both activity slots (a cold read and a write more, 5,000 gas).
"""

from __future__ import annotations

from utils.rewards_distributor import AMPLE_FEE
from utils.storage_trace import mapping_entry, parameter_slots, slots_touched, storage_word

from compute_market.units import DAY, to_wei


def report_in_epochs_0_and_1(dist, chain, reporter, account, fresh_price, second: int):
    """`account` settles 300 CRD of work in epoch 0, then `second` in epoch 1 (an ample fee each,
    no verifier); the receipt of the second report."""
    fresh_price()
    chain.pending_timestamp = dist.genesis() + 100
    dist.recordWork(1, account, to_wei(300), AMPLE_FEE, False, sender=reporter)
    chain.pending_timestamp = dist.genesis() + DAY + 100
    fresh_price()
    return dist.recordWork(2, account, second, AMPLE_FEE, False, sender=reporter)


def test_a_second_report_in_an_epoch_moves_one_activity_slot_and_reads_no_segment(
    dist, chain, reporter, alice, fresh_price
):
    """Two settlements by alice in epoch 0 (300 and 200 CRD, no verifier). The second touches
    no declared variable (no segment count), and of alice's two activity slots only the first;
    her credits and cap add up all the same (500 CRD; the cap grows by the second fee's work part)."""
    fresh_price()
    chain.pending_timestamp = dist.genesis() + 100
    dist.recordWork(1, alice, to_wei(300), to_wei(10), False, sender=reporter)
    cap = dist.activityOf(alice).workCap
    tx = dist.recordWork(2, alice, to_wei(200), to_wei(10), False, sender=reporter)
    touched = slots_touched(chain.provider, str(tx.txn_hash), dist.address)
    assert parameter_slots(touched) == []
    first = mapping_entry(touched, alice.address)  # the first slot of alice's activity
    assert first + 1 not in touched
    mine = dist.activityOf(alice)
    assert (mine.credits, mine.epoch, mine.workCap) == (to_wei(500), 0, 2 * cap)
    assert tx.events.filter(dist.WorkRecorded)[0].workCap == cap


def test_the_epochs_first_report_keeps_its_segments_shares_in_the_totals(dist, chain, reporter, alice, admin):
    """Epoch 0's segment splits 70% work, 10% verifiers: after its first report the totals carry
    7,000 and 1,000. A schedule set in epoch 0 (work 50%, verifiers 30%) applies from epoch 1:
    epoch 1's first report keeps 5,000 and 3,000, and epoch 0's stay as they were."""
    chain.pending_timestamp = dist.genesis() + 100
    assert (dist.epochTotals(0).workBps, dist.epochTotals(0).verifierBps) == (0, 0)
    dist.recordWork(1, alice, to_wei(300), AMPLE_FEE, False, sender=reporter)
    assert (dist.epochTotals(0).workBps, dist.epochTotals(0).verifierBps) == (7_000, 1_000)
    dist.setSchedule(to_wei(100_000), 50, 5_000, 2_000, 3_000, sender=admin)
    chain.pending_timestamp = dist.genesis() + DAY + 100
    dist.recordWork(2, alice, to_wei(300), AMPLE_FEE, False, sender=reporter)
    assert (dist.epochTotals(1).workBps, dist.epochTotals(1).verifierBps) == (5_000, 3_000)
    assert (dist.epochTotals(0).workBps, dist.epochTotals(0).verifierBps) == (7_000, 1_000)


def test_a_report_after_an_epoch_moves_both_slots_and_owes_the_last_epoch(dist, chain, reporter, alice, fresh_price):
    """Alice reports in epoch 0, then in epoch 1: the second report values epoch 0 (her whole
    work pool up to her cap, owed) and starts epoch 1's counters at the new report alone."""
    tx = report_in_epochs_0_and_1(dist, chain, reporter, alice, fresh_price, to_wei(200))
    settled = tx.events.filter(dist.EpochRewardsSettled)[0]
    mine = dist.activityOf(alice)
    assert (mine.credits, mine.epoch, mine.owed) == (to_wei(200), 1, settled.workReward)
    assert settled.workReward == dist.emissionOf(0) * 7_000 // 10_000
    assert (mine.verifierUnits, mine.verifierCap) == (0, 0)


def test_a_claim_leaves_the_owed_slot_in_use(dist, chain, reporter, alice, fresh_price, ledger):
    """Alice reports in epoch 0, in epoch 1 (her epoch-0 rewards become owed) and claims them:
    her second activity slot holds no count, no cap and nothing owed, yet stays non-zero (its
    `used` flag), so her first report of epoch 2, which owes epoch 1's rewards again, writes a used
    slot. Without the flag the claim left the slot zero and that report paid a fresh one."""
    report = report_in_epochs_0_and_1(dist, chain, reporter, alice, fresh_price, to_wei(300))
    first = mapping_entry(slots_touched(chain.provider, str(report.txn_hash), dist.address), alice.address)
    dist.claim(sender=alice)
    mine = dist.activityOf(alice)
    assert (mine.verifierUnits, mine.verifierCap, mine.owed, mine.used) == (0, 0, 0, True)
    assert storage_word(chain.provider, dist.address, first + 1) != 0
