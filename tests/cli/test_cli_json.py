"""Every `ape run market` command with `--json`, from one table: a provider, a customer, a verifier
and a keeper take a job through bidding, a sealed auction, a lease, a result and a challenge,
and every command's stdout must parse as JSON, its refusals and bad input included (`watch`
writes JSON Lines: each line parses). A command missing from the table fails the test."""

from __future__ import annotations

import json
from typing import Any

import pytest
from utils.helpers import advance, load_script

from compute_market.salts import SALTS_ENV
from compute_market.units import HOUR

MARKET = load_script("market").cli
ACCOUNTS = {"admin": 0, "keeper": 40, "provider": 45, "customer": 46, "verifier": 47}
ONE_GPU_HOUR = ("--gpu", "H100-80GB", "--gpus", "1", "--hours", "1", "--max-price", "3")
OFFER = ("set-offer", "--gpu", "H100-80GB", "--count", "8", "--vram", "80", "--provision")  # and the CMP

# (who, arguments, expected: None for success, else the error's name; the job id a post-job
# returns is kept under `keep` and its name in braces in later arguments stands for it).
Row = tuple[str, tuple[str, ...], str | None, str | None]
ADVANCE = "advance"  # (ADVANCE, (seconds,), None, None): the chain's clock moves on
SCENARIO: list[Row] = [
    ("admin", ("set-price", "2.5"), None, None),  # the mock feed's owner
    ("keeper", ("set-price", "2.5"), "OwnableUnauthorizedAccount", None),
    ("admin", ("transfer", "{provider}", "3000"), None, None),
    ("admin", ("transfer", "{customer}", "1000"), None, None),
    ("admin", ("transfer", "{verifier}", "1200"), None, None),
    ("provider", ("register", "--region", "eu-west"), None, None),
    ("provider", ("stake", "2500"), None, None),
    ("provider", ("stake", "1000"), "InsufficientBalance", None),
    ("provider", (*OFFER, "3000"), "NotEnoughFreeStake", None),  # the ledger's, under the market's call
    ("provider", (*OFFER, "2000"), None, None),
    ("provider", ("offer", "--gpu", "H100-80GB"), None, None),
    ("provider", ("unstake", "1"), None, None),
    ("provider", ("withdraw",), "UnbondingNotOver", None),
    ("customer", ("mint-credits", "400"), None, None),
    ("customer", ("post-job", *ONE_GPU_HOUR), None, "open"),
    ("customer", ("post-job", *ONE_GPU_HOUR, "--sealed"), None, "sealed"),
    ("customer", ("post-job", *ONE_GPU_HOUR), None, "cancelled"),
    ("customer", ("cancel", "{cancelled}"), None, None),
    ("provider", ("bid", "{open}", "2"), None, None),
    ("provider", ("commit", "{sealed}", "2"), None, None),
    ("provider", ("reveal", "{sealed}", "2"), "RevealNotOpen", None),
    ("provider", (*OFFER, "0"), "OfferInUse", None),  # the bid and the commitment lock some of it
    ("customer", ("status", "--job", "{open}"), None, None),
    ("customer", ("status",), None, None),
    ("customer", ("jobs",), None, None),
    ("customer", ("history", "--job", "{open}"), None, None),
    ("customer", ("history", "--job", "999"), "UnknownJob", None),
    ("customer", ("results", "--job", "{sealed}", "--out", "results-never-written"), "NoResult", None),
    ("customer", ("watch", "--from-block", "0", "--max-events", "3", "--interval", "0"), None, None),
    ("keeper", ("advance-time", "60"), None, None),  # local chains only
    (ADVANCE, (str(HOUR),), None, None),
    ("provider", ("reveal", "{sealed}", "2"), None, None),
    ("provider", ("finalize", "{open}"), None, None),
    ("customer", ("settle", "{open}"), "WrongStatus", None),
    (ADVANCE, (str(HOUR),), None, None),
    ("provider", ("claim", "{open}"), None, None),
    ("keeper", ("withdraw-fees",), None, None),  # the claim's fee, to the treasury
    ("keeper", ("withdraw-fees",), "NoFeesAccrued", None),
    ("provider", ("result", "{open}", "0x01", "ipfs://result"), None, None),
    ("verifier", ("register-verifier", "1000"), None, None),
    ("customer", ("request-verifier", "{open}"), "VerificationNotRequested", None),
    ("verifier", ("attest", "{open}", "ok"), "NotAssignedVerifier", None),
    ("customer", ("challenge", "{open}", "the output is empty"), None, None),
    ("verifier", ("vote", "{open}", "fault"), "WrongDisputeStatus", None),  # the jury is not drawn yet
    ("keeper", ("resolve", "{open}"), "WrongDisputeStatus", None),
    ("verifier", ("claim-jury", "{open}"), "NoJuryReward", None),  # nothing decided yet
    ("keeper", ("process-draws",), None, None),
    ("keeper", ("slash-failure", "{open}"), "WrongStatus", None),
    ("keeper", ("claim-payout",), "NothingToClaim", None),  # no lease failed: nothing credited
    ("keeper", ("claim-payout", "--payee", "{customer}"), "NothingToClaim", None),
    ("customer", ("redeem", "10"), None, None),
    ("provider", ("claim-rewards",), None, None),
    ("customer", ("bid", "0", "1"), "UsageError", None),
]


def parse(command: str, stdout: str) -> Any:
    """The command's JSON: one document, or for `watch` one per line."""
    if command == "watch":
        return [json.loads(line) for line in stdout.splitlines()]
    return json.loads(stdout)


def test_every_command_has_a_row():
    assert {args[0] for who, args, _, _ in SCENARIO if who != ADVANCE} == set(MARKET.commands)


def test_every_command_writes_json_on_stdout_for_a_result_and_a_refusal(
    chain, accounts, invoke, fresh_price, tmp_path, monkeypatch
):
    monkeypatch.setenv(SALTS_ENV, str(tmp_path / "salts.json"))
    fresh_price()
    names = {role: accounts[n].address for role, n in ACCOUNTS.items()}
    for number, (who, template, expected, keep) in enumerate(SCENARIO):
        if who == ADVANCE:
            advance(chain, int(template[0]))
            fresh_price()
            continue
        args = [a.format(**names) for a in template]
        result = invoke(MARKET, f"TEST::{ACCOUNTS[who]}", *args, "--json")
        row = f"row {number}: {who} {' '.join(args)}\n{result.stdout}\n{result.stderr}"
        assert result.exit_code == {None: 0, "UsageError": 2}.get(expected, 1), row
        out = parse(args[0], result.stdout)
        if expected is None:
            assert out and "error" not in out, row  # watch: at least one line
        else:
            assert out["error"] == expected, row
        if keep is not None:
            names[keep] = str(out["job_id"])


@pytest.mark.parametrize("command", ["history", "watch", "commit", "reveal"])
def test_a_new_commands_bad_input_is_json_too(command, invoke):
    bad = {
        "history": ["--job", "0"],
        "watch": ["--max-events", "0"],
        "commit": ["1", "-2"],
        "reveal": ["1", "2", "--salt", "0xzz"],
    }[command]
    result = invoke(MARKET, "TEST::46", command, *bad, "--json")
    assert result.exit_code == 2, result.stderr
    assert json.loads(result.stdout)["error"] == "UsageError"
