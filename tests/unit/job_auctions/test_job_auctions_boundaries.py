"""JobAuctions edges: the bid count saturating at 65,535, and a sealed tie between commitments
made in the same block, which falls through to the `keccak256(jobId, provider)` order.

Numbers used throughout: a job of 2 GPUs for 10 hours with a max price of 2 CRD per GPU-hour; the
providers are new (equal reputation).
"""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import keccak
from utils.helpers import job_spec
from utils.storage_trace import mapping_slot, storage_word

from compute_market.commitments import commitment_for
from compute_market.units import HOUR, to_wei

UINT16_MAX = 2**16 - 1


@pytest.fixture(scope="module")
def _ja_buyer(accounts, make_customer):
    return make_customer(accounts[30])


@pytest.fixture
def ja_buyer(_ja_buyer, fresh_price):
    """The customer, with a fresh oracle answer (tests move the clock)."""
    fresh_price()
    return _ja_buyer


@pytest.fixture(scope="module")
def _ja_bidders(accounts, make_provider):
    return [make_provider(accounts[i]) for i in (31, 32, 33)]


def post(market, chain, customer, **kw) -> int:
    tx = market.postJob(job_spec(chain, **kw), sender=customer)
    return tx.events.filter(market.JobPosted)[0].jobId


def rpc(chain, method: str, params: list):
    return chain.provider.make_request(method, params)


def job_record_slot(chain, market, job_id: int, customer) -> int:
    """The storage slot of `_jobs[job_id]`: the mapping slot p whose record's third word holds
    the customer's address (so the layout is found, not assumed)."""
    for p in range(64):
        base = mapping_slot(job_id, p)
        if storage_word(chain.provider, market.address, base + 2) & (2**160 - 1) == int(customer.address, 16):
            return base
    raise AssertionError("the job record's slot was not found")


def set_bid_count(chain, market, job_id: int, customer, count: int) -> None:
    """Writes `count` into the job's packed `bidCount` (bits 240..255 of word 1: provider, price,
    bidCount) with anvil_setStorageAt, leaving the best bidder and price as they are."""
    slot = job_record_slot(chain, market, job_id, customer) + 1
    word = storage_word(chain.provider, market.address, slot)
    word = (word & (2**240 - 1)) | (count << 240)
    rpc(chain, "anvil_setStorageAt", [market.address, hex(slot), "0x" + word.to_bytes(32, "big").hex()])
    assert market.getJob(job_id).bidCount == count


def test_bid_count_saturates_at_65535(market, chain, ja_buyer, _ja_bidders):
    """The count stays at 65,535 rather than revert: set to 65,534 after a first bid at 1.90, the
    next bid (1.80) makes it 65,535, and two more (1.70, 1.60) leave it there while each still
    becomes the best bid; the auction closes at 1.60 reporting 65,535 bids."""
    p1, p2, p3 = _ja_bidders
    job_id = post(market, chain, ja_buyer)
    market.placeBid(job_id, to_wei("1.90"), sender=p1)
    set_bid_count(chain, market, job_id, ja_buyer, UINT16_MAX - 1)
    market.placeBid(job_id, to_wei("1.80"), sender=p2)
    assert market.getJob(job_id).bidCount == UINT16_MAX
    for bidder, price in ((p3, "1.70"), (p1, "1.60")):
        market.placeBid(job_id, to_wei(price), sender=bidder)
        job = market.getJob(job_id)
        assert (job.bidCount, job.provider, job.price) == (UINT16_MAX, bidder.address, to_wei(price))
    chain.pending_timestamp += HOUR
    event = market.finalizeAuction(job_id, sender=ja_buyer).events.filter(market.AuctionFinalized)[0]
    assert (event["provider"], event.clearingPrice, event.bids) == (p1.address, to_wei("1.60"), UINT16_MAX)


def test_saturated_count_holds_through_a_sealed_reveal(market, chain, ja_buyer, _ja_bidders, fresh_price):
    """Reveals count through the same saturating step: a sealed job's count set to 65,535 stays
    65,535 after a reveal at 1.50, which becomes the best bid (alone, it would be paid the max
    price, 2)."""
    p1 = _ja_bidders[0]
    job_id = post(market, chain, ja_buyer, sealed=True)
    market.commitBid(job_id, commitment_for(job_id, p1, to_wei("1.50"), b"s"), sender=p1)
    set_bid_count(chain, market, job_id, ja_buyer, UINT16_MAX)
    chain.pending_timestamp += HOUR
    tx = market.revealBid(job_id, to_wei("1.50"), b"s", sender=p1)
    assert tx.events.filter(market.BidRevealed)[0].isBest
    job = market.getJob(job_id)
    assert (job.bidCount, job.provider, job.bestBid, job.price) == (UINT16_MAX, p1.address, to_wei("1.50"), to_wei(2))


def commit_in_one_block(chain, market, job_id: int, bids: list[tuple]) -> None:
    """Sends every (provider, price, salt) commitment with automining off, then mines them into
    one block (anvil's dev accounts are unlocked, so `eth_sendTransaction` signs for them)."""
    rpc(chain, "evm_setAutomine", [False])
    try:
        hashes = []
        for provider, price, salt in bids:
            data = market.commitBid.encode_input(job_id, commitment_for(job_id, provider, price, salt))
            tx = {"from": provider.address, "to": market.address, "data": "0x" + bytes(data).hex(), "gas": hex(500_000)}
            hashes.append(rpc(chain, "eth_sendTransaction", [tx]))
        rpc(chain, "evm_mine", [])
    finally:
        rpc(chain, "evm_setAutomine", [True])
    receipts = [rpc(chain, "eth_getTransactionReceipt", [h]) for h in hashes]
    assert [int(r["status"], 16) for r in receipts] == [1] * len(bids)
    assert len({int(r["blockNumber"], 16) for r in receipts}) == 1


@pytest.mark.parametrize("lower_hash_reveals_first", [True, False])
def test_same_block_tie_goes_to_the_lower_provider_hash(
    market, chain, ja_buyer, _ja_bidders, fresh_price, lower_hash_reveals_first
):
    """Two new providers (equal reputation) commit 1 CRD in the same block: price, reputation and
    commitment block all tie, so the lower `keccak256(abi.encode(jobId, provider))` wins whichever
    reveals first; it becomes the best bid and the other's 1 CRD the second price, and the
    auction clears at 1 CRD with the lower hash's provider."""
    a, b = _ja_bidders[0], _ja_bidders[1]
    job_id = post(market, chain, ja_buyer, sealed=True)
    commit_in_one_block(chain, market, job_id, [(a, to_wei(1), b"a"), (b, to_wei(1), b"b")])
    blocks = {market.commitmentOf(job_id, p).committedAtBlock for p in (a, b)}
    assert len(blocks) == 1

    def rank(p) -> bytes:
        return keccak(encode(["uint256", "address"], [job_id, p.address]))

    low, high = sorted([(a, b"a"), (b, b"b")], key=lambda ps: rank(ps[0]))
    order = [low, high] if lower_hash_reveals_first else [high, low]
    chain.pending_timestamp += HOUR
    first = market.revealBid(job_id, to_wei(1), order[0][1], sender=order[0][0])
    assert first.events.filter(market.BidRevealed)[0].isBest  # nobody to beat yet
    second = market.revealBid(job_id, to_wei(1), order[1][1], sender=order[1][0])
    assert second.events.filter(market.BidRevealed)[0].isBest == (not lower_hash_reveals_first)
    job = market.getJob(job_id)
    assert (job.provider, job.price, job.bestBid) == (low[0].address, to_wei(1), to_wei(1))
    chain.pending_timestamp += HOUR
    event = market.finalizeAuction(job_id, sender=ja_buyer).events.filter(market.AuctionFinalized)[0]
    assert (event["provider"], event.clearingPrice) == (low[0].address, to_wei(1))
