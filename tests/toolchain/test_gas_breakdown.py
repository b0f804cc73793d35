"""The gas benchmark's split of a transaction (`compute_market/gastrace.py`): its three parts add
up to the receipt, a delegate call's code counts as the caller's own, and calls are named."""

from __future__ import annotations

import pytest
from utils.helpers import EU, H100
from utils.job_market import crd, post

from compute_market.gasreport import GasReport
from compute_market.gastrace import TX_BASE_GAS, breakdown, calldata_gas, labeller, trace_transaction

MARKET = "0x" + "aa" * 20
AUCTIONS = "0x" + "bb" * 20
LEDGER = "0x" + "cc" * 20
TOKEN = "0x" + "dd" * 20


def _label(address: str, selector: str) -> str:
    return {LEDGER: "Ledger", TOKEN: "Token"}.get(address, "?") + "." + selector


def test_calldata_is_priced_per_byte_as_eip_2028_says():
    """3 zero bytes at 4 gas and 2 non-zero bytes at 16: 44 gas."""
    assert calldata_gas(bytes([0, 1, 0, 2, 0])) == 3 * 4 + 2 * 16
    assert calldata_gas(b"") == 0


def test_a_synthetic_trace_splits_into_parts_that_add_up():
    """A market call of 100,000 gas with 8 bytes of calldata (4 non-zero): intrinsic 21,000 +
    4 x 16 + 4 x 4 = 21,080. Its auction module (a delegate call of 50,000) calls the ledger
    (20,000, of which 5,000 in a nested call that stays the ledger's) and the market calls the
    token (7,000): calls 27,000, and the market's own gas is 100,000 - 21,080 - 27,000 = 51,920."""
    trace = {
        "type": "CALL",
        "to": MARKET,
        "input": "0x12345678" + "00" * 4,
        "gasUsed": hex(100_000),
        "calls": [
            {
                "type": "DELEGATECALL",
                "to": AUCTIONS,
                "input": "0x12345678",
                "gasUsed": hex(50_000),
                "calls": [
                    {
                        "type": "CALL",
                        "to": LEDGER,
                        "input": "0xb2703306" + "00" * 32,
                        "gasUsed": hex(20_000),
                        "calls": [{"type": "STATICCALL", "to": TOKEN, "input": "0x70a08231", "gasUsed": hex(5_000)}],
                    }
                ],
            },
            {"type": "CALL", "to": TOKEN, "input": "0xa9059cbb", "gasUsed": hex(7_000)},
        ],
    }
    split = breakdown(trace, _label)
    assert split.intrinsic == TX_BASE_GAS + 4 * 16 + 4 * 4 == 21_080
    assert [(c.label, c.gas) for c in split.calls] == [("Ledger.0xb2703306", 20_000), ("Token.0xa9059cbb", 7_000)]
    assert split.own == 100_000 - 21_080 - 27_000 == 51_920
    assert split.intrinsic + split.own + sum(c.gas for c in split.calls) == split.total
    assert split.calls_text() == "Ledger.0xb2703306 20,000; Token.0xa9059cbb 7,000"


def test_the_median_transaction_is_the_one_whose_gas_is_the_median():
    """Samples 30, 10, 20 (hashes c, a, b): the median is 20's (b); with a fourth, 40, the lower
    middle (20's) is chosen. A figure recorded as a sum of transactions has no transaction."""

    class Receipt:
        def __init__(self, gas: int, txn_hash: str) -> None:
            self.gas_used, self.txn_hash = gas, txn_hash

    gas = GasReport()
    for used, tx in ((30, "0xc"), (10, "0xa"), (20, "0xb")):
        gas.record("op", Receipt(used, tx))
    assert gas.median_transaction("op") == "0xb"
    gas.record("op", Receipt(40, "0xd"))
    assert gas.median_transaction("op") == "0xb"
    gas.samples["sum"].append(99)
    assert gas.median_transaction("sum") is None


@pytest.fixture
def bidders(accounts, make_provider):
    return [make_provider(accounts[i]) for i in (44, 45)]


def test_a_live_outbid_is_split_by_the_node_and_calls_no_other_contract(
    protocol, market, chain, make_customer, accounts, bidders
):
    """On the local node: a second open bid outbids the first. Its receipt's gas equals the three
    parts, and it calls no other contract: the bidder's lock and the outbid bidder's release are
    on their offers, slots of the market (written from the auction module by delegate call, which
    counts as the market's own gas)."""
    customer = make_customer(accounts[46])
    job_id = post(market, chain, customer)
    market.placeBid(job_id, crd("1.50"), sender=bidders[0])
    receipt = market.placeBid(job_id, crd("1.40"), sender=bidders[1])
    contracts = {"ProviderRegistry": protocol.registry, "JobMarket": market, "ComputeCredits": protocol.credits}
    split = breakdown(trace_transaction(chain.provider, str(receipt.txn_hash)), labeller(contracts))
    assert split.total == receipt.gas_used
    assert split.intrinsic + split.own == receipt.gas_used
    assert split.calls == ()
    assert split.own > 0
    assert market.offerOf(bidders[0], H100).locked == 0  # released on the outbid bidder's offer
    assert market.offerOf(bidders[1], H100).locked > 0


@pytest.mark.parametrize(
    ("terms", "called"),
    [({"region": EU}, "ProviderRegistry.regionOf"), ({"min_rep": 4_000}, "ProviderRegistry.reputationOf")],
    ids=["region", "least-reputation"],
)
def test_a_bid_on_a_job_that_names_a_region_or_a_reputation_reads_that_of_the_ledger(
    protocol, market, chain, make_customer, accounts, bidders, terms, called
):
    """A job without a region or a least reputation (above) makes no ledger call. A job that
    names a region pays for the bidder's `regionOf` (the bidders are in EU), one that names a
    least reputation for its `reputationOf` (a newcomer's 50% passes 40%), and nothing else."""
    customer = make_customer(accounts[46])
    job_id = post(market, chain, customer, **terms)
    receipt = market.placeBid(job_id, crd("1.50"), sender=bidders[0])
    contracts = {"ProviderRegistry": protocol.registry, "JobMarket": market, "ComputeCredits": protocol.credits}
    split = breakdown(trace_transaction(chain.provider, str(receipt.txn_hash)), labeller(contracts))
    assert [c.label for c in split.calls] == [called]
    assert split.intrinsic + split.own + split.calls[0].gas == receipt.gas_used
