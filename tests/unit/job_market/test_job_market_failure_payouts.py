"""A failed lease's slash, credited in the ledger (README Decisions, "A failed lease's slash is
credited, not sent").

`slashForFailure` and `abandonJob` credit the customer's compensation and the keeper's bounty to
`payoutOf` (`SlashCredited`) instead of sending CMP: the failure path then writes one used slot per
payee where two transfers wrote the ledger's balance and each payee's (README, Gas:
`slashForFailure` 136,788 → 115,137). Each payee claims with `claimPayout`, or anyone delivers it
(to the payee only). The lease's end is written only when it stops early, and the provider's
record keeps everything an outcome moves besides its stake in one slot (from the node's opcode
trace, `tests/utils/storage_trace.py`).

Numbers as in `test_job_market_failure.py`: a lease of 2 GPUs for 10 hours at 1.10 CRD; the
collateral is 4.8 CMP, the keeper's 5% is 0.24 CMP and the customer's 95% 4.56 CMP.
"""

from __future__ import annotations

import ape
import pytest
from utils.job_market import crd, leased_job
from utils.storage_trace import mapping_entry, slots_touched, storage_word

from compute_market.units import HOUR


@pytest.fixture
def customer(_customer, fresh_price):
    fresh_price()
    return _customer


def failed_job(market, chain, customer, provider, keeper, fresh_price):
    """A lease its provider never delivered, slashed by `keeper` after end + grace; the receipt."""
    fresh_price()
    job_id = leased_job(market, chain, customer, provider)
    chain.pending_timestamp = market.getJob(job_id).leaseStart + 11 * HOUR + 1
    return market.slashForFailure(job_id, sender=keeper)


def test_credits_add_up_over_failures_and_one_claim_sends_them_all(
    market, registry, token, chain, customer, providers, stranger, fresh_price
):
    """Two failures slashed by the same keeper: the customer is credited 4.56 CMP twice (9.12),
    the keeper 0.24 twice (0.48). The keeper's one claim sends it 0.48 CMP; a second claim is
    refused (`NothingToClaim`), as is a claim for an account never credited."""
    failed_job(market, chain, customer, providers[0], stranger, fresh_price)
    failed_job(market, chain, customer, providers[1], stranger, fresh_price)
    assert (registry.payoutOf(customer), registry.payoutOf(stranger)) == (crd("9.12"), crd("0.48"))
    before = token.balanceOf(stranger)
    tx = registry.claimPayout(stranger, sender=stranger)
    assert tx.events.filter(registry.PayoutClaimed)[0].amount == crd("0.48")
    assert token.balanceOf(stranger) - before == crd("0.48")
    with ape.reverts(registry.NothingToClaim, payee=stranger):
        registry.claimPayout(stranger, sender=stranger)
    with ape.reverts(registry.NothingToClaim, payee=providers[2]):
        registry.claimPayout(providers[2], sender=stranger)
    assert registry.payoutOf(customer) == crd("9.12")  # the customer's credit waits for it


def test_a_claim_leaves_the_payout_slot_in_use(market, registry, chain, customer, providers, stranger, fresh_price):
    """After the keeper's claim its payout slot still holds the `used` flag (a nonzero word),
    so its next bounty writes a used slot (2,900 gas) rather than a fresh one (20,000)."""
    tx = failed_job(market, chain, customer, providers[0], stranger, fresh_price)
    claim = registry.claimPayout(stranger, sender=stranger)
    slot = mapping_entry(slots_touched(chain.provider, str(claim.txn_hash), registry.address), stranger.address)
    assert slot in slots_touched(chain.provider, str(tx.txn_hash), registry.address)
    assert registry.payoutOf(stranger) == 0
    assert storage_word(chain.provider, registry.address, slot) != 0


def test_an_outcome_moves_two_slots_of_the_providers_record(
    market, registry, chain, customer, providers, stranger, fresh_price
):
    """A failure's `recordOutcome` reads and writes the provider's first two record slots (the
    stake with its reward debt; the provision with the outcome counters) and not the third (the
    unbonding stake), where the counters had a slot of their own (a cold read and a write more,
    5,000 gas)."""
    p1 = providers[0]
    tx = failed_job(market, chain, customer, p1, stranger, fresh_price)
    touched = slots_touched(chain.provider, str(tx.txn_hash), registry.address)
    first = mapping_entry(touched, p1.address)
    assert {first, first + 1} <= touched
    assert first + 2 not in touched
    record = registry.providerOf(p1)
    assert (record.failed, record.completed, record.disputesLost) == (1, 0, 0)


def test_the_lease_end_is_written_only_when_a_lease_stops_early(
    market, registry, chain, customer, providers, stranger, fresh_price
):
    """A failure after the scheduled end leaves `leaseEnd` at 0, which reads as the scheduled
    end (as a result on time does): the customer's refund is the same 13.2 CRD it was when the
    end was written. An abandoned lease, 3 hours in, records its early end."""
    p1 = providers[0]
    job_id = leased_job(market, chain, customer, p1)
    start = market.getJob(job_id).leaseStart
    chain.pending_timestamp = start + 5 * HOUR
    market.claimEarnings(job_id, sender=p1)
    chain.pending_timestamp = start + 11 * HOUR + 1
    tx = market.slashForFailure(job_id, sender=stranger)
    assert tx.events.filter(market.JobFailed)[0].refund == crd("13.2")
    assert market.getJob(job_id).leaseEnd == 0
    assert market.fundsOf(job_id).escrow == 0
    fresh_price()
    abandoned = leased_job(market, chain, customer, providers[1])
    chain.pending_timestamp = market.getJob(abandoned).leaseStart + 3 * HOUR
    tx = market.abandonJob(abandoned, sender=providers[1])
    assert market.getJob(abandoned).leaseEnd == tx.timestamp
    assert registry.payoutOf(customer) == crd("9.36")  # 4.56 + the whole 4.8 of the abandoned lease
