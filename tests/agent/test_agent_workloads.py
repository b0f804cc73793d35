"""The provider agent does the work of jobs that carry a workload (docs/workloads.md, "What the
agent does"), in process against the test chain: it checks the manifest before bidding, runs the
workload when its lease starts, stores the result bundle and submits its sha256 and URI; a run
that fails claims the pay for the time used and abandons the lease, never submitting a hash."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from utils.helpers import advance, load_script

from compute_market.agent import AgentState, CostModel, ProviderAgent
from compute_market.client import MarketClient
from compute_market.errors import MarketError
from compute_market.models import JobRequest, JobStatus
from compute_market.units import HOUR
from compute_market.workloads import (
    FetchConfig,
    Host,
    LocalStore,
    ProcessRunner,
    canonical_bytes,
    fetch,
    parse_manifest,
    read,
)
from compute_market.workloads.examples import publish_example

MARKET = load_script("market").cli
CHEAP = CostModel(Decimal("0.10"), Decimal("700"), Decimal("25000"), Decimal("26280"), Decimal("0.10"))
HOST = Host.detect(probe_containers=False)  # the process runner only, as on this machine


class Lines(list):
    """A log that keeps its lines."""

    def __call__(self, line: str) -> None:
        self.append(line)

    def having(self, text: str) -> list[str]:
        return [line for line in self if text in line]


@pytest.fixture
def published(tmp_path) -> LocalStore:
    """The customer's store, where examples' inputs and canonical manifests are published."""
    return LocalStore(tmp_path / "published")


@pytest.fixture
def worker(protocol, accounts, fund, tmp_path, published):
    """A registered, staked H100 agent (account 31) whose `cas://` inputs come from `published`
    and whose bundles go to its default store (``store`` next to its state file)."""
    account = accounts[31]
    fund(account)
    agent = ProviderAgent(
        MarketClient(protocol, account),
        "H100-80GB",
        CHEAP,
        tmp_path / "agent" / "state.json",
        log=Lines(),
        host=HOST,
        fetch_config=FetchConfig(cas=published),
    )
    agent.ensure_provider("eu-west", 8, 80, Decimal(5_000))
    try:
        yield agent
    finally:
        agent.close()


def post(customer, workload: bytes, uri: str) -> int:
    return customer.post_job(
        JobRequest("H100-80GB", 1, Decimal(1), Decimal(3), bidding_seconds=HOUR, workload=workload, manifest_uri=uri)
    )


def publish(name: str, store: LocalStore) -> tuple[bytes, str]:
    """Publishes an example; returns its workload and the manifest's ``file://`` URI."""
    _manifest, digest = publish_example(name, store)
    return bytes.fromhex(digest), store.uri(digest)


def win(agent, customer, chain, job_id: int) -> None:
    """The agent bids, the auction closes, the agent finalizes it and sees its lease."""
    agent.step()
    assert customer.job(job_id).provider == agent.me
    advance(chain, HOUR)
    agent.step()  # finalizes
    assert customer.job(job_id).status == JobStatus.LEASED


def test_the_agent_runs_the_workload_and_submits_its_bundle(
    worker, customer, chain, fresh_price, published, invoke, tmp_path
):
    fresh_price()
    workload, uri = publish("matmul", published)
    job_id = post(customer, workload, uri)
    win(worker, customer, chain, job_id)
    saved = AgentState.read(worker.state_path)
    assert saved is not None
    assert saved.workloads[str(job_id)] == {"workload": workload.hex(), "manifest_uri": uri}

    worker.step()  # the lease has started: the workload runs, its bundle is stored
    stored = json.loads(worker.state_path.read_text())["results"][str(job_id)]
    assert stored["uri"].startswith("file://")
    assert customer.job(job_id).status == JobStatus.LEASED  # submitted at the lease's end, as before
    advance(chain, HOUR)
    worker.step()
    assert customer.job(job_id).status == JobStatus.RESULT_SUBMITTED
    result_hash, result_uri = customer.result_of(job_id)
    assert (result_hash.hex(), result_uri) == (stored["sha256"], stored["uri"])
    bundle_path = Path(result_uri.removeprefix("file://"))
    assert bundle_path.parent == (worker.state_path.parent / "store").resolve()

    # The bundle at the URI hashes to the on-chain result and holds the workload's outputs: the
    # same bundle as an independent run of the manifest (the example is deterministic).
    bundle = fetch(result_uri, result_hash)
    manifest = parse_manifest(json.loads(fetch(uri, workload)))
    again = ProcessRunner().run(manifest, FetchConfig(cas=published))
    assert again.ok and again.bundle == bundle
    files = read(bundle)
    assert sorted(files) == ["out/checksum.json"]

    out = tmp_path / "results"
    downloaded = invoke(MARKET, "TEST::43", "results", "--job", str(job_id), "--out", str(out), "--json")
    assert downloaded.exit_code == 0, downloaded.stdout + downloaded.stderr
    assert (out / "out" / "checksum.json").read_bytes() == files["out/checksum.json"]
    assert json.loads(downloaded.stdout)["sha256"] == "0x" + result_hash.hex()
    assert worker.log.having(f"job {job_id}: result submitted: bundle {stored['sha256']}")


def test_the_state_without_workload_fields_still_loads(tmp_path):
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"last_block": 7, "market": "m", "commitments": {}, "tracked": [3], "claimed_at": {}}))
    state = AgentState.read(old)
    assert state is not None and (state.tracked, state.workloads, state.results) == ([3], {}, {})


@pytest.mark.parametrize("case", ["wrong-hash", "unreachable", "container"])
def test_the_agent_does_not_bid_on_a_workload_it_cannot_check_or_run(
    worker, customer, fresh_price, published, tmp_path, case
):
    fresh_price()
    if case == "wrong-hash":  # the URI serves another manifest than the job's workload
        workload, _ = publish("matmul", published)
        _, uri = publish("train_step", published)
        expected = "sha256 mismatch"
    elif case == "unreachable":
        workload, uri = publish("matmul", published)[0], f"file://{tmp_path}/nowhere/manifest.json"
        expected = "unreachable"
    else:  # a container manifest: this host has no container engine
        doc = json.loads((Path(__file__).resolve().parents[2] / "examples/matmul/manifest.json").read_text())
        doc["run"] = {"runner": "container", "image": "python@sha256:" + "ab" * 32, "command": ["python3", "main.py"]}
        digest = published.put(canonical_bytes(parse_manifest(doc)))
        workload, uri = bytes.fromhex(digest), published.uri(digest)
        expected = "no container runner"
        assert "container" not in worker.host.runners
    job_id = post(customer, workload, uri)
    worker.step()
    worker.step()
    assert customer.job(job_id).bids == 0
    refusals = worker.log.having(f"job {job_id}: not bidding")
    assert len(refusals) == 1 and expected in refusals[0], list(worker.log)
    assert str(job_id) not in worker.state.workloads and worker.state.tracked == []


def test_a_workload_that_times_out_is_abandoned_without_a_result(worker, customer, chain, fresh_price, published):
    fresh_price()
    workload, uri = publish("too_slow", published)
    job_id = post(customer, workload, uri)
    win(worker, customer, chain, job_id)
    advance(chain, 10 * 60)  # ten minutes of the lease used when the run starts
    worker.step()  # runs it: killed at its time limit
    assert customer.job(job_id).status == JobStatus.FAILED
    (line,) = worker.log.having(f"job {job_id}: workload failed")
    assert "run timeout" in line and "abandoned the lease" in line
    with pytest.raises(MarketError, match="NoResult"):
        customer.result_of(job_id)
    assert "claimed 0 " not in line  # paid for the ten minutes used (less the holdback)
    assert job_id not in worker.state.tracked and str(job_id) not in worker.state.results
