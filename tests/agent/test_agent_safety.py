"""The provider agent does not drop what it owes (issue 19 item 2): a deleted, shared or foreign
state file, a cursor past the chain head, jobs posted before it started, RPC errors and Ctrl-C."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest
import requests
from ape.exceptions import ProviderError
from test_agent import CHEAP, cheap_and_dear_agents, settle_down
from utils.e2e import ADDRESSES, APE, PROVIDER, ROOT, Reader, ape, market
from utils.e2e import CHEAP as E2E_CHEAP

import compute_market.agent as agent_module
from compute_market.agent import ProviderAgent, StateLockedError
from compute_market.client import MarketClient
from compute_market.models import JobRequest, JobStatus
from compute_market.units import DAY, HOUR

OPEN_JOB = JobRequest("H100-80GB", 2, Decimal(1), Decimal(3), bidding_seconds=HOUR)


class Lines(list):
    """A log that keeps its lines."""

    def __call__(self, line: str) -> None:
        self.append(line)

    def having(self, text: str) -> list[str]:
        return [line for line in self if text in line]


@pytest.fixture
def agents(protocol, accounts, fund, tmp_path):
    with cheap_and_dear_agents(protocol, accounts, fund, tmp_path, (21, 22), Lines) as made:
        yield made


@pytest.fixture
def customer(protocol, accounts, fund):
    account = accounts[20]
    fund(account)
    client = MarketClient(protocol, account)
    client.mint_credits(Decimal(2_000))
    return client


def warp(chain, seconds: int) -> None:
    chain.pending_timestamp += seconds
    chain.mine()  # agents read the head block's time


def restart(agent: ProviderAgent, **kw) -> ProviderAgent:
    """The same provider in a new process, on the same state file (the old one is gone)."""
    agent.close()
    return ProviderAgent(agent.client, agent.gpu_model, agent.cost, agent.state_path, log=Lines(), **kw)


@pytest.fixture
def leased(agents, customer, chain, fresh_price):
    """An open auction the cheap agent won, its lease running: the job id."""
    fresh_price()
    job_id = customer.post_job(OPEN_JOB)
    settle_down(agents)
    warp(chain, HOUR)
    settle_down(agents)
    job = customer.job(job_id)
    assert (job.status, job.provider) == (JobStatus.LEASED, agents[0].me)
    return job_id


def deliver(agents, customer, chain, job_id: int) -> None:
    """Runs the lease and the challenge window out: the winner must submit and settle."""
    warp(chain, HOUR)
    settle_down(agents)
    assert customer.job(job_id).status == JobStatus.RESULT_SUBMITTED
    warp(chain, DAY)
    settle_down(agents)
    assert customer.job(job_id).status == JobStatus.SETTLED


# ---------------------------------------------------------------------- 1. lost state


def test_deleted_state_is_rebuilt_from_the_chain_and_the_won_lease_delivered(agents, customer, chain, leased):
    cheap, dear = agents
    cheap.state_path.unlink()
    restarted = restart(cheap)
    assert restarted.state.tracked == []
    restarted.step()
    assert restarted.state.tracked == [leased]
    assert restarted.log.having("rebuilding what")
    assert restarted.log.having(f"job {leased}: leased, owed, followed again")
    deliver([restarted, dear], customer, chain, leased)
    restarted.close()


def test_a_lost_sealed_salt_is_said_and_the_bid_lapses(agents, customer, chain, fresh_price):
    fresh_price()
    job_id = customer.post_job(JobRequest("H100-80GB", 2, Decimal(1), Decimal(3), sealed=True))
    settle_down(agents)  # both commit
    cheap, dear = agents
    cheap.state_path.unlink()
    restarted = restart(cheap)
    restarted.step()
    [line] = restarted.log.having(f"job {job_id}: its sealed bid cannot be revealed")
    assert "salt" in line
    warp(chain, HOUR)
    fresh_price()
    settle_down([restarted, dear])
    warp(chain, HOUR)
    settle_down([restarted, dear])
    assert customer.job(job_id).provider == dear.me  # the only revealed bid
    restarted.close()


def test_a_salt_is_on_disk_before_its_commitment_is_sent(agents, customer, chain, fresh_price, monkeypatch):
    fresh_price()
    job_id = customer.post_job(JobRequest("H100-80GB", 2, Decimal(1), Decimal(3), sealed=True))
    cheap, dear = agents
    send, on_disk = cheap.client.commit, []

    def commit_then_killed(*args):
        send(*args)
        on_disk.append(cheap.state_path.read_text() if cheap.state_path.exists() else None)  # what SIGKILL leaves
        raise KeyboardInterrupt

    monkeypatch.setattr(cheap.client, "commit", commit_then_killed)
    with pytest.raises(KeyboardInterrupt):
        cheap.step()
    monkeypatch.undo()
    assert on_disk[0] is not None and str(job_id) in json.loads(on_disk[0])["commitments"]
    cheap.state_path.write_text(on_disk[0])
    restarted = restart(cheap)
    settle_down([restarted, dear])  # the dear agent commits too
    warp(chain, HOUR)
    fresh_price()
    settle_down([restarted, dear])
    warp(chain, HOUR)
    settle_down([restarted, dear])
    assert customer.job(job_id).provider == cheap.me  # revealed with the saved salt: the lower bid wins
    restarted.close()


def test_a_state_file_deleted_while_running_is_rebuilt_and_written_again(agents, customer, chain, leased):
    cheap = agents[0]
    cheap.state_path.unlink()
    cheap.step()
    assert cheap.log.having("disappeared: rebuilding what")
    assert json.loads(cheap.state_path.read_text())["tracked"] == [leased]
    deliver(agents, customer, chain, leased)


# ---------------------------------------------------------------------- 2. one state, one agent


def test_a_second_agent_on_the_same_state_file_is_refused(agents, customer, chain, leased):
    cheap = agents[0]
    with pytest.raises(StateLockedError) as refused:
        ProviderAgent(cheap.client, "H100-80GB", CHEAP, cheap.state_path, log=Lines())
    message = str(refused.value)
    assert "in use by another agent" in message and "\n" not in message
    deliver(agents, customer, chain, leased)  # the first goes on undisturbed
    cheap.close()
    ProviderAgent(cheap.client, "H100-80GB", CHEAP, cheap.state_path, log=Lines()).close()  # free again


# ---------------------------------------------------------------------- 3. another chain, a cursor past the head


def test_a_state_for_another_chain_is_set_aside_and_the_owed_lease_delivered(agents, customer, chain, leased):
    cheap, dear = agents
    foreign = {"last_block": 10**6, "market": "5:0x" + "ab" * 32 + ":0x" + "cd" * 20, "tracked": [999]}
    cheap.state_path.write_text(json.dumps(foreign))
    restarted = restart(cheap)
    restarted.step()
    assert restarted.state.tracked == [leased]
    [aside] = cheap.state_path.parent.glob(f"{cheap.state_path.name}.*.old")
    assert json.loads(aside.read_text()) == foreign  # kept, not overwritten
    deliver([restarted, dear], customer, chain, leased)
    restarted.close()


def test_a_cursor_past_the_head_starts_over_and_sees_new_jobs(agents, customer, chain, leased, fresh_price):
    cheap, dear = agents
    saved = json.loads(cheap.state_path.read_text())
    saved["last_block"] = chain.blocks.head.number + 1_000  # the chain was restarted and redeployed
    cheap.state_path.write_text(json.dumps(saved))
    restarted = restart(cheap)
    fresh_price()
    job_id = customer.post_job(OPEN_JOB)
    settle_down([restarted, dear])
    assert customer.job(job_id).provider == cheap.me
    assert restarted.log.having("is past the chain head")
    deliver([restarted, dear], customer, chain, leased)
    restarted.close()


def test_a_head_below_the_cursor_while_running_reads_again(agents, customer, chain, fresh_price):
    cheap = agents[0]
    snapshot = chain.snapshot()
    for _ in range(5):
        chain.mine()
    cheap.step()
    chain.restore(snapshot)  # the chain is rewound under the running agent
    fresh_price()
    job_id = customer.post_job(OPEN_JOB)
    cheap.step()
    assert customer.job(job_id).provider == cheap.me
    assert cheap.log.having("is below the cursor")


# ---------------------------------------------------------------------- 4. jobs posted before it started


def test_jobs_posted_before_it_started_are_bid_on_while_open(agents, customer, chain, fresh_price, tmp_path):
    fresh_price()
    closed = customer.post_job(JobRequest("H100-80GB", 2, Decimal(1), Decimal(3), bidding_seconds=60))
    open_job = customer.post_job(OPEN_JOB)
    warp(chain, 120)  # the first one's bidding is over
    for agent in agents:
        agent.close()
    late = ProviderAgent(agents[0].client, "H100-80GB", CHEAP, tmp_path / "late.json", max_blocks=7, log=Lines())
    cursors = [late.state.last_block]
    while late.state.last_block < chain.blocks.head.number:
        late.step()
        cursors.append(late.state.last_block)
    assert all(0 < b - a <= 7 for a, b in pairwise(cursors))  # bounded per step
    assert customer.job(open_job).provider == late.me
    assert customer.job(closed).bids == 0 and not late.log.having("refused")
    late.close()


# ---------------------------------------------------------------------- 5. RPC errors, Ctrl-C


class FlakyChain:
    """The agent's view of the chain, failing as a lost node does while `errors` last."""

    def __init__(self, real, errors: list[Exception]) -> None:
        self.real, self.errors = real, errors

    def __getattr__(self, name: str):
        if name == "blocks" and self.errors:
            raise self.errors.pop(0)
        return getattr(self.real, name)


def test_rpc_errors_are_logged_in_one_line_and_retried_with_a_capped_backoff(
    agents, customer, chain, fresh_price, monkeypatch
):
    fresh_price()
    job_id = customer.post_job(OPEN_JOB)
    cheap, waits = agents[0], []
    cheap.sleep = waits.append
    lost = [
        requests.ConnectionError("Connection refused"),
        ProviderError("node unreachable\nsecond line"),
        TimeoutError("read timed out"),
    ]
    monkeypatch.setattr(agent_module, "chain", FlakyChain(chain, (lost * 3)[:8]))
    cheap.run(poll_seconds=1, max_steps=10)
    assert customer.job(job_id).provider == cheap.me  # the node came back: the agent bid
    assert waits == [2, 4, 8, 16, 32, 60, 60, 60, 1]  # doubling, capped at 60 s, then the poll again
    failed = cheap.log.having("step failed: ")
    assert len(failed) == 8 and failed[1] == "step failed: ProviderError: node unreachable; retrying in 4 s"
    assert cheap.log.having("recovered after 8 failed steps")
    assert cheap.log[-1].startswith(f"agent {cheap.me}: 10 steps (8 failed)")


def test_ctrl_c_ends_the_loop_cleanly_with_a_summary(agents):
    cheap = agents[0]
    calls = []

    def step() -> list[str]:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return []

    cheap.step = step
    cheap.sleep = lambda _seconds: None
    try:
        cheap.run(poll_seconds=0)
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped the agent's loop")
    assert cheap.log[-2:] == ["interrupted", cheap.summary()]


# ---------------------------------------------------------------------- the same, through `ape run agent`


class StatefulAnvil:
    """A separately started anvil that keeps its chain across a stop and a start (``--state``),
    as a node that goes away and comes back does."""

    def __init__(self, folder: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.dump = folder / "anvil-state.json"
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(["anvil", "--port", str(self.port), "--silent", "--state", str(self.dump)])
        for _ in range(100):
            try:
                requests.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, timeout=5)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("anvil did not start")

    def stop(self) -> None:
        self.process.terminate()  # anvil writes its state on the way out
        self.process.wait(30)


def wait_for(what, timeout: float = 120.0) -> None:
    deadline = time.time() + timeout
    while not what():
        if time.time() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.5)


def test_the_agent_command_survives_the_node_refuses_a_second_agent_and_stops_on_ctrl_c(project, tmp_path):
    node = StatefulAnvil(tmp_path)
    agent = None
    try:
        record = tmp_path / "deployment.json"
        ape("deploy", "--network", node.url, "--account", "TEST::0", "--record", str(record))
        for who in ("TEST::1", "TEST::2"):
            market(node, record, "TEST::0", "transfer", ADDRESSES[who], "6000")
        market(node, record, "TEST::1", "mint-credits", "1000")
        state, log = tmp_path / "agent.json", tmp_path / "agent.log"
        args = ["agent", "--network", node.url, "--account", "TEST::2", "--deployment", str(record)]
        args += ["--gpu", "H100-80GB", "--count", "8", "--vram", "80", "--stake", "5000", *E2E_CHEAP]
        args += ["--state", str(state), "--poll", "0.3"]
        with log.open("w") as out:
            agent = subprocess.Popen([APE, "run", *args], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        wait_for(state.exists)

        second = subprocess.run([APE, "run", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert second.returncode == 1
        assert "Traceback" not in second.stdout + second.stderr
        [line] = [x for x in (second.stdout + second.stderr).splitlines() if "in use by another agent" in x]
        assert line.startswith("Error: ")

        node.stop()  # the node goes away under the running agent
        wait_for(lambda: log.read_text().count("step failed: ") >= 2)
        assert agent.poll() is None
        node.start()
        post = ["post-job", "--gpu", "H100-80GB", "--gpus", "2", "--hours", "1", "--max-price", "3"]
        job_id = market(node, record, "TEST::1", *post, "--bidding", "3600")["job_id"]
        reader = Reader(node, project, record)
        wait_for(lambda: reader.job(job_id)[PROVIDER] == ADDRESSES["TEST::2"])
        # The bid is sent inside the step; the step logs its recovery once it ends.
        wait_for(lambda: "recovered after" in log.read_text())

        agent.send_signal(signal.SIGINT)
        assert agent.wait(60) == 0
        text = log.read_text()
        assert "Traceback" not in text
        assert text.rstrip().splitlines()[-1].startswith(f"agent {ADDRESSES['TEST::2']}: ")
    finally:
        if agent is not None and agent.poll() is None:
            agent.kill()
            agent.wait(30)
        node.stop()
