"""The CLI and the agent with real users' inputs, in process: a keyfile account signing headless,
errors raised by a contract one call deeper decoded by name, and bad input refused in one line
before anything is sent (see test_cli_safety_e2e.py for the same through `ape run`)."""

from __future__ import annotations

import importlib.util
import json
from decimal import Decimal
from pathlib import Path

import ape
import click
import pytest
from ape_accounts import import_account_from_private_key
from click.testing import CliRunner
from eth_abi import encode

from compute_market.cli import enable_autosign, passphrase_variable
from compute_market.client import MarketClient
from compute_market.errors import MarketError, decode_revert_data, decoded, project_errors
from compute_market.models import JobRequest
from compute_market.units import to_wei

ROOT = Path(__file__).resolve().parents[2]
KEY = "0x" + "5e" * 32  # a throwaway key, not one of the test mnemonic's
PASSPHRASE = "correct horse 42"


def load_market_script():
    """`scripts/market.py` as a module (scripts are not a package)."""
    spec = importlib.util.spec_from_file_location("market_script", ROOT / "scripts" / "market.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------- keyfile accounts


@pytest.fixture
def keyfile_account(admin, token, tmp_path, monkeypatch):
    """A keyfile account of `ape accounts`, written to a throwaway folder and funded."""
    # Ape caches the container's folder for the session: point it at tmp_path for this test only.
    container = ape.accounts.containers["accounts"]
    monkeypatch.setitem(container.__dict__, "data_folder", tmp_path)
    account = import_account_from_private_key("operator", PASSPHRASE, KEY)
    assert account.keyfile_path == tmp_path / "operator.json"
    admin.transfer(account, 10**18)
    token.transfer(account, to_wei(100), sender=admin)
    return account


def test_a_keyfile_account_signs_headless_with_its_passphrase_in_the_environment(
    keyfile_account, protocol, stranger, monkeypatch
):
    monkeypatch.setenv(passphrase_variable(keyfile_account), PASSPHRASE)
    enable_autosign(keyfile_account, headless=True)
    # Without autosign this stops at Ape's `Sign: [y/N]` prompt (pytest's stdin: Aborted!).
    MarketClient(protocol, keyfile_account).transfer_cmp(stranger.address, Decimal(40))
    assert protocol.token.balanceOf(keyfile_account) == to_wei(60)


def test_a_headless_keyfile_account_without_its_passphrase_refuses_to_start(keyfile_account, monkeypatch):
    variable = passphrase_variable(keyfile_account)
    assert variable == "APE_ACCOUNTS_operator_PASSPHRASE"
    monkeypatch.delenv(variable, raising=False)
    with pytest.raises(click.ClickException, match=variable):
        enable_autosign(keyfile_account, headless=True)
    monkeypatch.setenv(variable, "not it")
    with pytest.raises(click.ClickException, match=f"{variable} is not the passphrase"):
        enable_autosign(keyfile_account, headless=True)


def test_test_accounts_are_left_alone(admin):
    enable_autosign(admin, headless=True)  # nothing to unlock, nothing refused


# ---------------------------------------------------------------------- errors one call deeper


def test_every_project_error_is_in_the_table():
    table = project_errors()
    by_name = {spec.name: selector for selector, spec in table.items()}
    assert by_name["ERC20InsufficientBalance"].hex() == "e450d38c"  # OpenZeppelin's, in the tokens
    assert by_name["NotEnoughFreeStake"].hex() == "589bddd7"  # the registry's
    assert {"UnknownJob", "Panic", "Revert"} <= set(by_name)
    data = bytes.fromhex("589bddd7") + encode(["uint256", "uint256"], [to_wei(5), to_wei(7)])
    assert str(decode_revert_data(data)) == "NotEnoughFreeStake(have=5 CMP, need=7 CMP)"
    assert decode_revert_data(bytes.fromhex("deadbeef")) is None


def test_insufficient_credits_under_post_job_decode_as_the_credits_error(protocol, accounts, chain, fresh_price):
    # The client refuses this before sending (test_cli_funds.py); sent anyway, the credits
    # contract's error one call under JobMarket.postJob is decoded by name.
    fresh_price()
    protocol.credits.approve(protocol.market, to_wei(20), sender=accounts[20])  # no credits at all
    spec = JobRequest("H100-80GB", 2, Decimal(4), Decimal("2.50")).to_spec(chain.pending_timestamp)
    with pytest.raises(MarketError) as refused, decoded():
        protocol.market.postJob(spec, sender=accounts[20])
    assert refused.value.name == "ERC20InsufficientBalance"
    assert refused.value.args_ == {"sender": accounts[20].address, "balance": 0, "needed": to_wei(20)}


def test_too_little_stake_under_an_offer_decodes_as_the_registry_error(protocol, accounts, fund):
    # The market's `setOffer` asks the ledger to provision the stake: the ledger's error, one call
    # (and a delegate call) under JobMarket.setOffer, is decoded by name.
    provider = MarketClient(protocol, accounts[22])
    fund(accounts[22])
    provider.register("ipfs://p", "eu-west")
    provider.stake(Decimal(10))
    with pytest.raises(MarketError) as refused:
        provider.set_offer("H100-80GB", 8, 80, Decimal(25))
    assert refused.value.name == "NotEnoughFreeStake"
    assert refused.value.args_ == {"have": to_wei(10), "need": to_wei(25)}
    assert str(refused.value) == "NotEnoughFreeStake(have=10 CMP, need=25 CMP)"  # in CMP, not wei
    assert provider.offer(None, "H100-80GB").gpus == 0  # nothing offered


def test_too_little_provision_under_a_bid_is_the_markets_error_in_cmp(protocol, accounts, fund, fresh_price):
    fresh_price()
    customer = MarketClient(protocol, accounts[21])
    fund(accounts[21])
    customer.mint_credits(Decimal(1_000))
    job_id = customer.post_job(JobRequest("H100-80GB", 2, Decimal(4), Decimal(3)))
    provider = MarketClient(protocol, accounts[22])
    fund(accounts[22])
    provider.register("ipfs://p", "eu-west")
    provider.stake(Decimal(1_000))
    provider.set_offer("H100-80GB", 8, 80, Decimal(10))  # 990 CMP of the stake left free
    need = sum(provider.bid_lock(job_id), Decimal(0))
    with pytest.raises(MarketError) as refused:
        provider.bid(job_id, Decimal(3))
    assert refused.value.name == "NotEnoughProvision"
    assert refused.value.args_ == {"have": to_wei(10), "need": to_wei(need)}
    assert str(refused.value) == f"NotEnoughProvision(have=10 CMP, need={need} CMP)"
    provider.set_offer("H100-80GB", 8, 80, need)  # provisioned: the same bid goes through
    provider.bid(job_id, Decimal(3))
    offer = provider.offer(None, "H100-80GB")
    assert (offer.locked, offer.free, offer.reserved) == (need, 0, 2)
    assert provider.provider().provisioned == need


# ---------------------------------------------------------------------- bad input

POST = ["post-job", "--gpu", "H100-80GB", "--gpus", "2", "--hours", "4", "--max-price", "2.5"]
OFFER = ["set-offer", "--gpu", "H100-80GB", "--count", "1", "--vram", "80", "--provision", "10"]


def replace(args: list[str], option: str, value: str) -> list[str]:
    out = list(args)
    out[out.index(option) + 1] = value
    return out


BAD_INPUT = [
    # (arguments, what the one line must name, what it must say)
    (replace(POST, "--gpus", "-1"), "'--gpus'", "not in the range 1<=x<=2**32-1"),
    (replace(POST, "--gpus", "two"), "'--gpus'", "is not a valid integer"),
    (replace(POST, "--gpus", "99999999999999999999"), "'--gpus'", "not in the range"),
    (replace(POST, "--max-price", "-2.5"), "'--max-price'", "is not more than zero"),
    (replace(POST, "--max-price", "abc"), "'--max-price'", "is not a number"),
    (replace(POST, "--max-price", "NaN"), "'--max-price'", "is not a finite number"),
    (replace(POST, "--max-price", "inf"), "'--max-price'", "is not a finite number"),
    (replace(POST, "--max-price", "1e40"), "'--max-price'", "more than the contract holds"),
    (replace(POST, "--max-price", "0.0000000000000000001"), "'--max-price'", "not a whole number of wei"),
    (replace(POST, "--hours", "0"), "'--hours'", "is not more than zero"),
    (replace(POST, "--hours", "1e30"), "'--hours'", "more than the contract holds"),
    (replace(POST, "--gpu", "RTX-9999"), "'--gpu'", "is not one of 'H100-80GB'"),
    ([*POST, "--holdback", "10001"], "'--holdback'", "not in the range 0<=x<=10000"),
    (POST[:1] + POST[3:], "'--gpu'", "Missing option"),
    (replace(OFFER, "--gpu", "TPU-v5"), "'--gpu'", "is not one of"),
    (replace(OFFER, "--count", "65536"), "'--count'", "not in the range 0<=x<=65535"),
    (replace(OFFER, "--provision", "-1"), "'--provision'", "is not zero or more"),
    (replace(OFFER, "--provision", "1e11"), "'--provision'", "more than the contract holds"),
    (OFFER[:-2], "'--provision'", "Missing option"),
    (["offer"], "'--gpu'", "Missing option"),
    (["stake", "-5"], "'AMOUNT'", "-5 is negative"),
    (["stake", "1e60"], "'AMOUNT'", "more than the contract holds"),
    (["mint-credits", "lots"], "'CMP'", "is not a number"),
    (["transfer", "0x1234", "5"], "'TO'", "is not an address"),
    (["bid", "0", "3"], "'JOB_ID'", "not in the range 1<=x<=2**256-1"),
    (["reveal", "1", "3", "--salt", "0xnothex"], "'--salt'", "is not hex"),
    (["status", "--job", "-3"], "'--job'", "not in the range"),
]


@pytest.mark.parametrize(("args", "names", "says"), BAD_INPUT, ids=[" ".join(a[:1] + a[-2:]) for a, _, _ in BAD_INPUT])
def test_bad_input_is_one_line_naming_the_option_and_sends_nothing(args, names, says, accounts):
    cli = load_market_script().cli
    before = accounts[1].nonce
    result = CliRunner(mix_stderr=False).invoke(cli, [*args, "--account", "TEST::1"])
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: ") and names in result.stderr and says in result.stderr
    assert result.stdout == ""
    assert accounts[1].nonce == before


def test_bad_input_with_json_writes_the_error_as_json():
    cli = load_market_script().cli
    result = CliRunner(mix_stderr=False).invoke(cli, [*replace(POST, "--gpus", "-1"), "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout) == {
        "error": "UsageError",
        "message": "Invalid value for '--gpus': -1 is not in the range 1<=x<=2**32-1.",
    }
