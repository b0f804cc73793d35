"""The CLI and the agent as a user runs them: `ape run market|agent` processes against a
separately started anvil (the harness of test_e2e_cli_agent.py). `--json` output is parsed
whole with `json.loads`; refused input sends nothing (the account's nonce does not move); a
keyfile account signs headless with its passphrase in the environment, and without it the agent
stops with one line instead of a prompt."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from eth_account import Account
from utils.e2e import ADDRESSES, APE, CHEAP, ROOT, Anvil
from utils.helpers import CONFIRMED

from compute_market.cli import catalog_models

KEY = "0x" + "7a" * 32  # a throwaway key, not one of the test mnemonic's
OPERATOR = Account.from_key(KEY).address
PASSPHRASE = "correct horse 42"


@pytest.fixture(scope="module")
def anvil():
    node = Anvil()
    yield node
    node.stop()


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`ape run ARGS` with stdin closed (a prompt fails at once instead of waiting)."""
    return subprocess.run(
        [APE, "run", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **CONFIRMED, **(env or {})},  # confirmations answered
    )


@pytest.fixture(scope="module")
def record(anvil, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("deployment") / "deployment.json"
    done = run("deploy", "--network", anvil.url, "--account", "TEST::0", "--record", str(path))
    assert done.returncode == 0, done.stderr
    return path


def market(anvil, record: Path, account: str, *args: str, env: dict[str, str] | None = None):
    common = ["--network", anvil.url, "--account", account, "--deployment", str(record)]
    return run("market", *args, *common, env=env)


def nonce(anvil, address: str) -> int:
    return int(anvil.rpc("eth_getTransactionCount", address, "latest"), 16)


def test_json_stdout_is_json_alone_for_a_success_and_a_refusal(anvil, record):
    sent = market(anvil, record, "TEST::0", "transfer", ADDRESSES["TEST::3"], "10", "--json")
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout) == {"to": ADDRESSES["TEST::3"], "amount": "10"}
    assert "INFO" in sent.stderr  # Ape's log lines went to stderr, not away

    # No credits: the client refuses before sending anything, not even the approval.
    before = nonce(anvil, ADDRESSES["TEST::3"])
    post = ["post-job", "--gpu", "H100-80GB", "--gpus", "2", "--hours", "4", "--max-price", "2.5", "--json"]
    refused = market(anvil, record, "TEST::3", *post)
    assert refused.returncode == 1
    assert json.loads(refused.stdout) == {
        "error": "InsufficientBalance",
        "args": {"token": "CRD", "balance": "0", "needed": "20", "shortfall": "20"},
    }
    assert nonce(anvil, ADDRESSES["TEST::3"]) == before


def test_a_refusal_from_a_second_contract_prints_its_name_not_hex(anvil, record):
    assert market(anvil, record, "TEST::2", "register").returncode == 0
    offer = ["set-offer", "--gpu", "H100-80GB", "--count", "1", "--vram", "80", "--provision", "250"]

    # Nothing staked: the registry refuses the provision one call under JobMarket.setOffer,
    # before anything is asked or sent.
    before = nonce(anvil, ADDRESSES["TEST::2"])
    refused = market(anvil, record, "TEST::2", *offer)
    assert refused.returncode == 1
    last = refused.stderr.strip().splitlines()[-1]
    assert last == "refused: NotEnoughFreeStake(have=0 CMP, need=250 CMP)", last  # in CMP, not wei
    assert "0x589bddd7" not in refused.stdout + refused.stderr
    as_json = market(anvil, record, "TEST::2", *offer, "--json")
    assert as_json.returncode == 1
    refusal = json.loads(as_json.stdout)
    assert refusal["error"] == "NotEnoughFreeStake"
    assert refusal["args"]["have"] == "0" and refusal["shown"]["have"] == "0 CMP"  # raw, and for people
    assert "JobMarket.setOffer" in as_json.stderr  # Ape's call trace, on stderr
    assert nonce(anvil, ADDRESSES["TEST::2"]) == before


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["post-job", "--gpu", "RTX-9999", "--gpus", "1", "--hours", "1", "--max-price", "3"],
            # every model of data/gpu_catalog.json, in its order
            "Error: Invalid value for '--gpu': 'RTX-9999' is not one of "
            + ", ".join(f"'{m}'" for m in catalog_models())
            + ".",
        ),
        (
            ["post-job", "--gpu", "H100-80GB", "--gpus", "1", "--hours", "1", "--max-price", "-3"],
            "Error: Invalid value for '--max-price': -3 is not more than zero",
        ),
        (["mint-credits", "1e90"], "Error: Invalid value for 'CMP': 1e90 is more than the contract holds (at most "),
        (["stake", "-5"], "Error: Invalid value for 'AMOUNT': -5 is negative"),
    ],
    ids=["unknown-gpu", "negative-price", "huge-amount", "negative-argument"],
)
def test_bad_input_is_refused_in_one_line_before_anything_is_sent(anvil, record, args, line):
    before = nonce(anvil, ADDRESSES["TEST::1"])
    refused = market(anvil, record, "TEST::1", *args, "--json")
    assert refused.returncode == 2
    assert refused.stderr.startswith(line) and refused.stderr.count("\n") == 1, refused.stderr
    assert json.loads(refused.stdout) == {"error": "UsageError", "message": refused.stderr.strip()[len("Error: ") :]}
    assert nonce(anvil, ADDRESSES["TEST::1"]) == before


def test_status_of_a_job_that_does_not_exist_is_refused(anvil, record):
    shown = market(anvil, record, "TEST::1", "status", "--job", "999")
    assert shown.returncode == 1
    assert shown.stderr.strip().splitlines()[-1] == "refused: UnknownJob(jobId=999)"
    as_json = market(anvil, record, "TEST::1", "status", "--job", "999", "--json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout) == {"error": "UnknownJob", "args": {"jobId": "999"}}


@pytest.fixture
def ape_data(tmp_path) -> Path:
    """An Ape data folder holding one keyfile account, `operator` (the packages are shared)."""
    folder = tmp_path / "ape-data"
    (folder / "accounts").mkdir(parents=True)
    packages = Path(os.environ.get("APE_DATA_FOLDER", Path.home() / ".ape")) / "packages"
    if packages.is_dir():
        (folder / "packages").symlink_to(packages)  # OpenZeppelin, not fetched again
    keyfile = Account.encrypt(KEY, PASSPHRASE)  # what `ape accounts import` writes
    (folder / "accounts" / "operator.json").write_text(json.dumps(keyfile))
    return folder


def test_a_keyfile_account_signs_headless_in_the_agent_and_the_cli(anvil, record, ape_data, tmp_path):
    anvil.rpc("anvil_setBalance", OPERATOR, hex(10**19))
    funded = market(anvil, record, "TEST::0", "transfer", OPERATOR, "200")
    assert funded.returncode == 0, funded.stderr
    agent = [
        "agent",
        "--network",
        anvil.url,
        "--account",
        "operator",
        "--deployment",
        str(record),
        "--gpu",
        "H100-80GB",
        "--count",
        "2",
        "--vram",
        "80",
        "--stake",
        "100",
        *CHEAP,
        "--state",
        str(tmp_path / "agent.json"),
        "--poll",
        "0",
        "--max-steps",
        "1",
    ]
    data = {"APE_DATA_FOLDER": str(ape_data)}

    stopped = run(*agent, env=data)
    assert stopped.returncode == 1
    assert stopped.stderr.strip().splitlines()[-1] == (
        "Error: account 'operator' is a keyfile: set APE_ACCOUNTS_operator_PASSPHRASE to sign headless"
    )
    assert "Sign:" not in stopped.stdout + stopped.stderr
    assert nonce(anvil, OPERATOR) == 0

    passphrase = {**data, "APE_ACCOUNTS_operator_PASSPHRASE": PASSPHRASE}
    started = run(*agent, env=passphrase)
    assert started.returncode == 0, started.stdout + started.stderr
    assert f"agent {OPERATOR}: ask" in started.stdout
    assert nonce(anvil, OPERATOR) == 4  # register, approve, stake, offer: signed without a prompt

    back = market(anvil, record, "operator", "transfer", ADDRESSES["TEST::0"], "50", "--json", env=passphrase)
    assert back.returncode == 0, back.stderr
    assert json.loads(back.stdout) == {"to": ADDRESSES["TEST::0"], "amount": "50"}
    assert nonce(anvil, OPERATOR) == 5
