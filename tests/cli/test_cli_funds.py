"""Exact approvals: the client approves exactly what the next call spends (never an unlimited
allowance), and checks the balance first, so that a command the account cannot afford sends
nothing at all, not even the approval, and says the shortfall in CMP or CRD in one line."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from utils.helpers import load_script

from compute_market.client import MarketClient
from compute_market.errors import MarketError
from compute_market.models import JobRequest
from compute_market.units import HOUR, to_wei

MARKET = load_script("market").cli


@pytest.fixture
def holder(protocol, accounts, fund, registry):
    """Account 45: 10 CMP, a registered provider with nothing staked and no allowance."""
    fund(accounts[45], to_wei(10))
    client = MarketClient(protocol, accounts[45])
    client.register("ipfs://p", "eu-west")
    return client


def test_staking_more_cmp_than_held_is_refused_before_any_approval(accounts, protocol, holder, invoke):
    nonce = accounts[45].nonce
    refused = invoke(MARKET, "TEST::45", "stake", "50")
    assert refused.exit_code == 1
    assert refused.stdout == ""
    assert refused.stderr.strip().splitlines() == [
        "refused: InsufficientBalance(token=CMP, balance=10, needed=50, shortfall=40)"
    ]
    as_json = invoke(MARKET, "TEST::45", "stake", "50", "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout) == {
        "error": "InsufficientBalance",
        "args": {"token": "CMP", "balance": "10", "needed": "50", "shortfall": "40"},
    }
    assert accounts[45].nonce == nonce  # no approval sent
    assert protocol.token.allowance(accounts[45], protocol.registry) == 0


def test_a_stake_approves_exactly_its_amount_and_leaves_no_allowance(accounts, protocol, holder, run_market):
    nonce = accounts[45].nonce
    assert run_market("TEST::45", "stake", "4")["staked"] == "4"
    assert accounts[45].nonce == nonce + 2  # approve 4, stake 4
    assert protocol.token.allowance(accounts[45], protocol.registry) == 0  # the exact approval, consumed
    assert run_market("TEST::45", "stake", "6")["staked"] == "10"  # all it holds
    assert protocol.token.allowance(accounts[45], protocol.registry) == 0


def test_posting_a_job_without_enough_credits_sends_nothing(accounts, protocol, fresh_price, invoke):
    fresh_price()
    nonce = accounts[46].nonce
    post = ["post-job", "--gpu", "H100-80GB", "--gpus", "2", "--hours", "4", "--max-price", "2.5"]
    refused = invoke(MARKET, "TEST::46", *post)
    assert refused.exit_code == 1
    assert refused.stderr.strip().splitlines() == [
        "refused: InsufficientBalance(token=CRD, balance=0, needed=20, shortfall=20)"
    ]
    assert accounts[46].nonce == nonce


def test_a_posted_job_consumes_its_exact_escrow_approval(accounts, protocol, make_customer, fresh_price, run_market):
    customer = make_customer(accounts[46])
    protocol.credits.approve(protocol.market, 0, sender=customer)  # undo the fixture's unlimited approval
    fresh_price()
    # 3 GPUs for 1.5 hours at 2.35 USD: 10.575 CRD, an escrow the contract rounds in wei.
    post = ["post-job", "--gpu", "H100-80GB", "--gpus", "3", "--hours", "1.5", "--max-price", "2.35"]
    job = run_market("TEST::46", *post)
    assert job["escrow"] == "10.575"
    assert protocol.credits.allowance(customer, protocol.market) == 0


def test_the_escrow_approved_is_the_contracts_lease_value_to_the_wei(protocol, accounts, make_customer, fresh_price):
    customer = MarketClient(protocol, make_customer(accounts[46]))
    protocol.credits.approve(protocol.market, 0, sender=accounts[46])
    fresh_price()
    price, hours = Decimal("0.333333333333333333"), Decimal(7_201) / HOUR  # 2 h and 1 s
    job_id = customer.post_job(JobRequest("H100-80GB", 7, hours, price))
    # The contract's lease value, price * gpus * duration / 3600 rounded down, to the wei.
    assert protocol.market.fundsOf(job_id).escrow == to_wei(price) * 7 * 7_201 // HOUR
    assert protocol.credits.allowance(accounts[46], protocol.market) == 0


def test_a_verifier_stake_below_the_ledgers_minimum_is_one_line_and_sends_nothing(accounts, invoke):
    """The ledger keeps a verifier's active stake at 0 or at least 1,000 CMP (`MIN_VERIFIER_STAKE`):
    `register-verifier 999` says so naming AMOUNT (exit 2) before it asks or sends anything."""
    nonce = accounts[45].nonce
    refused = invoke(MARKET, "TEST::45", "register-verifier", "999")
    assert refused.exit_code == 2
    assert refused.stderr.strip().splitlines() == [
        "Error: AMOUNT: a verifier's active stake must be at least 1000 CMP; 999 more makes it 999"
    ]
    assert accounts[45].nonce == nonce


def test_minting_approves_exactly_and_a_verifier_short_of_cmp_is_not_even_registered(
    accounts, protocol, holder, fresh_price, run_market, invoke
):
    fresh_price()
    run_market("TEST::45", "mint-credits", "3")
    assert protocol.token.allowance(accounts[45], protocol.credits) == 0
    nonce = accounts[45].nonce
    refused = invoke(MARKET, "TEST::45", "register-verifier", "1000")
    assert refused.exit_code == 1
    assert refused.stderr.strip().splitlines() == [
        "refused: InsufficientBalance(token=CMP, balance=7, needed=1000, shortfall=993)"
    ]
    assert accounts[45].nonce == nonce  # neither registerVerifier nor an approval
    assert not holder.verifier()["registered"]


def test_transfers_and_redemptions_beyond_the_balance_are_refused_in_tokens(accounts, holder):
    with pytest.raises(MarketError) as short:
        holder.transfer_cmp(accounts[9].address, Decimal("10.5"))
    assert str(short.value) == "InsufficientBalance(token=CMP, balance=10, needed=10.5, shortfall=0.5)"
    with pytest.raises(MarketError) as no_credits:
        holder.redeem_credits(Decimal(1))
    assert no_credits.value.args_["token"] == "CRD"
