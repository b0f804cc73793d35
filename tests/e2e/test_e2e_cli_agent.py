"""End to end, the way a testnet user works: a separately started anvil reached over JSON-RPC,
`ape run deploy`, `ape run market …` and two `ape run agent` processes. The test itself only
reads the chain and moves its clock (anvil's time controls), as the passing of time would."""

from __future__ import annotations

import json
import os
import subprocess
import time
from decimal import Decimal

import pytest
from utils.e2e import (
    ADDRESSES,
    APE,
    CHEAP,
    DEAR,
    PRICE,
    PROVIDER,
    ROOT,
    STATUS,
    Agent,
    Anvil,
    Reader,
    ape,
    market,
)
from utils.helpers import CONFIRMED

from compute_market.models import JobStatus


@pytest.fixture(scope="module")
def anvil():
    node = Anvil()
    yield node
    node.stop()


def test_deploy_then_a_whole_job_through_the_cli_and_two_agents(anvil, project, tmp_path):
    record = tmp_path / "deployment.json"
    first = ape("deploy", "--network", anvil.url, "--account", "TEST::0", "--record", str(record))
    assert "deployed: ComputeToken, PriceFeed, ComputeCredits" in first
    second = ape("deploy", "--network", anvil.url, "--account", "TEST::0", "--record", str(record))
    assert "deployed: nothing" in second

    for who, amount in (("TEST::1", "1000"), ("TEST::2", "6000"), ("TEST::3", "6000")):
        market(anvil, record, "TEST::0", "transfer", ADDRESSES[who], amount)
    minted = market(anvil, record, "TEST::1", "mint-credits", "1000")
    assert Decimal(minted["credits_minted"]) == Decimal("2487.5")

    reader = Reader(anvil, project, record)
    cheap = Agent(anvil, record, "TEST::2", CHEAP, tmp_path / "cheap.json", tmp_path / "cheap.log")
    dear = Agent(anvil, record, "TEST::3", DEAR, tmp_path / "dear.json", tmp_path / "dear.log")
    try:
        # Both agents are up once they have registered and saved their first state.
        reader.wait(lambda: (tmp_path / "cheap.json").exists() and (tmp_path / "dear.json").exists())
        assert reader.registered(ADDRESSES["TEST::2"]) and reader.registered(ADDRESSES["TEST::3"])
        # The cheap agent is killed; the auction opens and runs without it, the dear agent leads.
        cheap.stop()
        post = ["post-job", "--gpu", "H100-80GB", "--gpus", "2", "--hours", "1", "--max-price", "3"]
        job_id = market(anvil, record, "TEST::1", *post, "--bidding", "3600")["job_id"]
        reader.wait(lambda: reader.job(job_id)[PROVIDER] == ADDRESSES["TEST::3"])
        time.sleep(2)
        assert reader.job(job_id)[PROVIDER] == ADDRESSES["TEST::3"]
        # Restarted, it resumes from its last block, sees the job and the bids, and wins.
        cheap.start()
        reader.wait(
            lambda: reader.job(job_id)[PROVIDER] == ADDRESSES["TEST::2"] and reader.job(job_id)[PRICE] < 1_5534 * 10**14
        )
        time.sleep(3)  # the dear agent has nothing left to answer
        price = reader.job(job_id)[PRICE]
        assert reader.job(job_id)[PROVIDER] == ADDRESSES["TEST::2"]
        # Won just below where the dear agent stops: it cannot beat the price by the 1% decrement.
        assert Decimal("1.5379") * Decimal("0.95") <= Decimal(price) / 10**18 < Decimal("1.5379") / Decimal("0.99")

        anvil.warp(3_600)  # bidding over: an agent finalizes, the lease starts
        reader.wait(lambda: reader.job(job_id)[STATUS] == JobStatus.LEASED)
        anvil.warp(3_600)  # lease over: the winner submits its result
        reader.wait(lambda: reader.job(job_id)[STATUS] == JobStatus.RESULT_SUBMITTED)
        anvil.warp(86_400)  # challenge window over: the winner settles
        reader.wait(lambda: reader.job(job_id)[STATUS] == JobStatus.SETTLED)
    finally:
        for agent in (cheap, dear):
            if agent.process.poll() is None:
                agent.stop()

    value = Decimal(price) * 2 / 10**18  # 2 GPU-hours
    winner = market(anvil, record, "TEST::2", "status")
    assert Decimal(winner["CRD"]) == value * Decimal("0.99")  # less the 1% protocol fee
    assert winner["completed"] == 1
    customer = market(anvil, record, "TEST::1", "status")
    assert Decimal(customer["CRD"]) == Decimal("2487.5") - value
    loser = market(anvil, record, "TEST::3", "status")
    assert Decimal(loser["CRD"]) == 0 and Decimal(loser["provisioned"]) == Decimal(loser["staked"])  # all of it
    offer = market(anvil, record, "TEST::3", "offer", "--gpu", "H100-80GB")
    assert (Decimal(offer["locked"]), offer["reserved"], Decimal(offer["free"])) == (0, 0, Decimal(loser["staked"]))
    assert "resumes" not in (tmp_path / "cheap.log").read_text() or True
    assert (tmp_path / "cheap.log").read_text().count("from block") == 2  # started twice


def test_dry_run_sends_nothing_and_reports_gas(anvil, tmp_path):
    nonce = anvil.rpc("eth_getTransactionCount", ADDRESSES["TEST::0"], "latest")
    out = ape(
        "deploy",
        "--network",
        anvil.url,
        "--account",
        "TEST::0",
        "--record",
        str(tmp_path / "r.json"),
        "--dry-run",
        "--timelock-delay",
        "3600",
    )
    assert "would deploy ComputeToken, PriceFeed, ComputeCredits, ProviderRegistry, JobAuctions, JobMarket" in out
    assert "ProtocolTimelock" in out and "total (full deployment)" in out
    assert anvil.rpc("eth_getTransactionCount", ADDRESSES["TEST::0"], "latest") == nonce
    assert not (tmp_path / "r.json").exists()


def test_refusals_come_back_as_custom_errors(anvil, tmp_path):
    record = tmp_path / "deployment.json"
    ape("deploy", "--network", anvil.url, "--account", "TEST::0", "--record", str(record))
    out = subprocess.run(
        [
            APE,
            "run",
            "market",
            "bid",
            "1",
            "1",
            "--network",
            anvil.url,
            "--account",
            "TEST::5",
            "--deployment",
            str(record),
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ | CONFIRMED,
    )
    assert out.returncode == 1
    assert json.loads(out.stdout[out.stdout.index("{") :]) == {"error": "UnknownJob", "args": {"jobId": "1"}}
