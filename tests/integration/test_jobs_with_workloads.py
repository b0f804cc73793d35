"""Jobs that say what to run: `postJob`'s `workload` (the sha256 of a workload manifest, see
docs/workloads.md) and the manifest's URI travel in `JobPosted`; `ape run market post-job
--manifest FILE --manifest-uri URI` sets both, and refuses a bad manifest, a half-given pair, or
`--verify` on a workload that is not deterministic, before anything is sent."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import ape
import pytest
from utils.helpers import advance, job_spec, load_script

from compute_market.models import JobRequest
from compute_market.units import HOUR, bytes32
from compute_market.workloads import load_manifest, pack, workload_id

MARKET = load_script("market").cli
ROOT = Path(__file__).resolve().parents[2]
MATMUL = ROOT / "examples" / "matmul" / "manifest.json"
REQUEST = JobRequest("H100-80GB", 1, Decimal(1), Decimal(3), bidding_seconds=HOUR)
ONE_GPU_HOUR = ["post-job", "--gpu", "H100-80GB", "--gpus", "1", "--hours", "1", "--max-price", "2.5"]


def test_the_workload_and_its_uri_travel_in_job_posted(market, chain, customer, fresh_price):
    fresh_price()
    workload = workload_id(load_manifest(MATMUL.read_bytes()))
    spec = job_spec(chain, workload=workload, manifest_uri="ipfs://bafy-matmul")
    tx = market.postJob(spec, sender=customer.account)
    posted = tx.events.filter(market.JobPosted)[0]
    assert (bytes(posted.workload), posted.manifestURI) == (workload, "ipfs://bafy-matmul")


@pytest.mark.parametrize(
    ("workload", "uri"), [(b"\x01" * 32, ""), (b"\0" * 32, "ipfs://x")], ids=["no-uri", "no-workload"]
)
def test_a_workload_without_its_uri_or_the_reverse_is_refused(market, chain, customer, fresh_price, workload, uri):
    fresh_price()
    with ape.reverts(market.InvalidJobSpec, field=bytes32("workload")):
        market.postJob(job_spec(chain, workload=workload, manifest_uri=uri), sender=customer.account)


def test_post_job_with_a_manifest_sets_the_workload(invoke, market, fresh_price, customer):
    fresh_price()
    uri = f"file://{MATMUL}"
    result = invoke(MARKET, "TEST::43", *ONE_GPU_HOUR, "--manifest", str(MATMUL), "--manifest-uri", uri, "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    out = json.loads(result.stdout)
    expected = workload_id(load_manifest(MATMUL.read_bytes()))
    assert (out["workload"], out["manifest_uri"]) == ("0x" + expected.hex(), uri)
    logs = list(market.JobPosted.range(0, ape.chain.blocks.head.number + 1, search_topics={"jobId": out["job_id"]}))
    assert bytes(logs[-1].workload) == expected


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--manifest", "{matmul}"], "--manifest and --manifest-uri go together"),
        (["--manifest-uri", "ipfs://x"], "--manifest and --manifest-uri go together"),
        (["--verify"], "--verify needs a --manifest whose workload is deterministic"),
        (["--manifest", "{bad}", "--manifest-uri", "ipfs://x"], "Invalid value for '--manifest'"),
        (["--manifest", "{missing}", "--manifest-uri", "ipfs://x"], "Invalid value for '--manifest'"),
    ],
    ids=["manifest-alone", "uri-alone", "verify-without-manifest", "bad-manifest", "missing-file"],
)
def test_post_job_refuses_a_bad_workload_before_sending(invoke, accounts, tmp_path, extra, message):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 1, "run": {"runner": "process"}}')
    paths = {"matmul": str(MATMUL), "bad": str(bad), "missing": str(tmp_path / "none.json")}
    nonce = accounts[43].nonce
    result = invoke(MARKET, "TEST::43", *ONE_GPU_HOUR, *[e.format(**paths) for e in extra])
    assert result.exit_code == 2, result.stdout + result.stderr
    assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert accounts[43].nonce == nonce  # nothing sent
    as_json = invoke(MARKET, "TEST::43", *ONE_GPU_HOUR, *[e.format(**paths) for e in extra], "--json")
    assert json.loads(as_json.stdout)["error"] == "UsageError"


def test_the_customer_downloads_the_result_bundle_and_it_is_checked(
    invoke, market, chain, customer, provider, fresh_price, tmp_path
):
    """The provider stores its result bundle (here a file) and submits its sha256 and URI;
    `results` fetches it, checks the hash against the chain and unpacks it. A bundle that no
    longer matches is refused, as is a job without a result."""
    fresh_price()
    job_id = customer.post_job(REQUEST)
    none_yet = invoke(MARKET, "TEST::43", "results", "--job", str(job_id), "--out", str(tmp_path / "no"), "--json")
    assert none_yet.exit_code == 1 and json.loads(none_yet.stdout)["error"] == "NoResult", none_yet.stdout
    provider.bid(job_id, Decimal(2))
    advance(chain, HOUR)
    provider.finalize(job_id)
    advance(chain, HOUR)
    bundle = pack({"out/answer.txt": b"42\n", "out/log.txt": b"ok\n"})
    stored = tmp_path / "bundle.tar"
    stored.write_bytes(bundle)
    provider.submit_result(job_id, hashlib.sha256(bundle).digest(), f"file://{stored}")

    out = tmp_path / "results"
    result = invoke(MARKET, "TEST::43", "results", "--job", str(job_id), "--out", str(out), "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert (out / "out" / "answer.txt").read_bytes() == b"42\n"
    assert json.loads(result.stdout)["sha256"] == "0x" + hashlib.sha256(bundle).hexdigest()

    stored.write_bytes(pack({"out/answer.txt": b"41\n"}))  # the URI now serves something else
    refused = invoke(MARKET, "TEST::43", "results", "--job", str(job_id), "--out", str(tmp_path / "again"), "--json")
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["error"] == "ResultUnavailable"
    assert not (tmp_path / "again").exists()
