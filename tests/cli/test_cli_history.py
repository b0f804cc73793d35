"""`ape run market history --job N` and `ape run market watch`, in process against the test chain:
a job's timeline from the logs of the market, the resolver and the registry, and the market's
events followed as they are mined, both in CRD/CMP, UTC times and enum names."""

from __future__ import annotations

import json
import threading
import time
from decimal import Decimal

from utils.helpers import advance, load_script

from compute_market.history import (
    JOB_CONTRACTS,
    PLAIN_FIELDS,
    TIME_FIELDS,
    WATCHED_CONTRACTS,
    job_id_position,
    render_value,
    unit_of,
    utc,
)
from compute_market.models import JobRequest
from compute_market.units import HOUR, bytes32, to_wei

MARKET = load_script("market").cli
RESULT = b"\x01" * 32
# 2 H100s for 4 hours at up to 3 USD per GPU-hour: 24 CRD escrowed.
REQUEST = JobRequest("H100-80GB", 2, Decimal(4), Decimal(3), bidding_seconds=HOUR)


def delivered_job(chain, customer, provider, fresh_price) -> int:
    """A job posted, won at 2 USD per GPU-hour, leased and delivered; another job posted around it."""
    fresh_price()
    customer.post_job(REQUEST)  # not this job's events
    job_id = customer.post_job(REQUEST)
    provider.bid(job_id, Decimal(2))
    advance(chain, HOUR)
    provider.finalize(job_id)
    advance(chain, 4 * HOUR)
    provider.submit_result(job_id, RESULT, "ipfs://result one")
    fresh_price()  # the clock moved 5 hours
    customer.post_job(REQUEST)
    return job_id


def test_history_is_the_jobs_timeline_in_block_order_in_human_units(
    chain, protocol, customer, provider, fresh_price, invoke
):
    job_id = delivered_job(chain, customer, provider, fresh_price)

    shown = invoke(MARKET, "TEST::43", "history", "--job", str(job_id))
    assert shown.exit_code == 0, shown.stdout + shown.stderr
    lines = shown.stdout.strip().splitlines()
    names = [line.split("  ")[2] for line in lines]
    assert names == [  # no event of the lock: it follows from BidPlaced and the job's amounts
        "JobMarket.JobPosted",
        "JobMarket.BidPlaced",
        "JobMarket.AuctionFinalized",
        "JobMarket.ResultSubmitted",
    ]
    posted = lines[0]
    block = int(posted.split("  ")[1].removeprefix("block "))
    assert posted.startswith(utc(chain.blocks[block].timestamp) + "  block ")
    for field in ("gpuModel=H100-80GB", "maxPricePerGpuHour=3 CRD/GPU-h", "duration=4 h", "kind=OPEN", "escrow=24 CRD"):
        assert field in posted, posted
    assert "clearingPrice=2 CRD/GPU-h" in lines[2] and "refund=8 CRD" in lines[2]  # 24 - 2 x 2 x 4
    assert 'uri="ipfs://result one"' in lines[3] and "challengeEnd=20" in lines[3]

    as_json = invoke(MARKET, "TEST::43", "history", "--job", str(job_id), "--json")
    assert as_json.exit_code == 0, as_json.stderr
    events = json.loads(as_json.stdout)
    assert [e["event"] for e in events] == [n.split(".")[1] for n in names]
    assert all(e["args"]["jobId"] == job_id for e in events)
    assert [(e["block"], e["log_index"]) for e in events] == sorted((e["block"], e["log_index"]) for e in events)
    first = events[0]
    assert first["contract"] == "JobMarket" and first["time"] == utc(first["timestamp"])
    assert (first["args"]["escrow"], first["units"]["escrow"]) == ("24", "CRD")
    assert first["args"]["customer"] == customer.address
    bid = events[1]
    job = protocol.market.getJob(job_id)
    # The bid's collateral in CMP: with the job's per-GPU stake, what it locked of the bidder's offer.
    assert (bid["args"]["collateral"], bid["units"]["collateral"]) == (str(Decimal(job.collateral) / 10**18), "CMP")
    assert bid["args"]["provider"] == provider.address


def test_history_of_a_job_the_market_never_issued_is_refused(invoke):
    shown = invoke(MARKET, "TEST::43", "history", "--job", "999")
    assert shown.exit_code == 1
    assert shown.stdout == "" and shown.stderr.strip().splitlines()[-1] == "refused: UnknownJob(jobId=999)"
    as_json = invoke(MARKET, "TEST::43", "history", "--job", "999", "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout) == {"error": "UnknownJob", "args": {"jobId": "999"}}


def test_event_arguments_are_rendered_in_tokens_times_hours_and_names():
    assert render_value("escrow", "uint256", "uint256", to_wei("24.5")) == "24.5"
    assert render_value("collateral", "uint256", "uint256", 0) == "0"
    assert render_value("duration", "uint64", "uint64", 5_400) == "1.5"
    assert render_value("biddingEnd", "uint64", "uint64", 0) == "1970-01-01T00:00:00Z"
    assert render_value("kind", "uint8", "enum IJobMarket.AuctionKind", 1) == "SEALED"
    assert render_value("kind", "uint8", "enum IStakingLedger.EntryKind", 4) == "JURY_DRAW"
    assert render_value("gpuModel", "bytes32", "bytes32", bytes32("H100-80GB")) == "H100-80GB"
    assert render_value("resultHash", "bytes32", "bytes32", b"\xab" * 32) == "0x" + "ab" * 32
    assert render_value("jurors", "address[]", "address[]", ["0xA", "0xB"]) == ["0xA", "0xB"]
    assert render_value("bids", "uint256", "uint256", 3) == 3


def test_every_integer_the_commands_show_has_a_unit_or_is_a_count(project):
    """A new event argument holding an amount or a time must be classified in history.py, or it
    would be shown in wei or as a bare Unix time."""
    unclassified = []
    for name in sorted(set(JOB_CONTRACTS) | set(WATCHED_CONTRACTS)):
        for abi in getattr(project, name).contract_type.events:
            if name not in WATCHED_CONTRACTS and job_id_position(abi) is None:
                continue  # not shown: a registry event of no job
            for item in abi.inputs:
                if not item.type.startswith("uint") or (item.internal_type or "").startswith("enum "):
                    continue
                if unit_of(item.name, item.type) is None and item.name not in TIME_FIELDS | PLAIN_FIELDS:
                    unclassified.append(f"{name}.{abi.name}.{item.name}")
    assert unclassified == []


# ---------------------------------------------------------------------- watch


def test_watch_from_a_block_prints_each_event_as_history_does_and_stops_at_max_events(
    chain, customer, provider, fresh_price, invoke
):
    """Every event of the market, the rate a posting reads for its collateral included (CMP at
    2.50 USD: 0.4 CMP per CRD), in block order and in human units."""
    fresh_price()
    start = chain.blocks.head.number + 1
    job_id = customer.post_job(REQUEST)
    provider.bid(job_id, Decimal("2.5"))

    lines = invoke(MARKET, "TEST::43", "watch", "--from-block", str(start), "--max-events", "3", "--interval", "0")
    assert lines.exit_code == 0, lines.stderr
    shown = lines.stdout.strip().splitlines()
    names = [line.split("  ")[2] for line in shown]
    assert names == ["JobMarket.CollateralRateRead", "JobMarket.JobPosted", "JobMarket.BidPlaced"]
    assert "tokensPerCredit=0.4 CMP/CRD" in shown[0]
    assert "escrow=24 CRD" in shown[1] and "pricePerGpuHour=2.5 CRD/GPU-h" in shown[2]
    assert lines.stderr.strip().splitlines()[-1] == f"watched 3 events from block {start}"

    as_json = invoke(
        MARKET, "TEST::43", "watch", "--from-block", str(start), "--max-events", "3", "--interval", "0", "--json"
    )
    assert as_json.exit_code == 0, as_json.stderr
    events = [json.loads(line) for line in as_json.stdout.splitlines()]  # JSON Lines: one object each
    assert [(e["event"], e["args"].get("jobId")) for e in events] == [
        ("CollateralRateRead", None),
        ("JobPosted", job_id),
        ("BidPlaced", job_id),
    ]
    assert events[2]["args"]["provider"] == provider.address


def test_watch_shows_an_offer_set_in_cmp_and_by_name(chain, provider, invoke):
    start = chain.blocks.head.number + 1
    provider.set_offer("H100-80GB", 4, 80, Decimal("2500.5"))
    lines = invoke(MARKET, "TEST::43", "watch", "--from-block", str(start), "--max-events", "1", "--interval", "0")
    assert lines.exit_code == 0, lines.stderr
    (shown,) = lines.stdout.strip().splitlines()
    assert shown.split("  ")[2] == "JobMarket.OfferSet"
    assert shown.endswith(
        f"provider={provider.address}, gpuModel=H100-80GB, gpus=4, vramGb=80, provisioned=2500.5 CMP"
    ), shown


def test_watch_follows_events_mined_after_it_started(chain, customer, fresh_price, invoke):
    fresh_price()
    posted: list[int] = []

    customer.post_job(REQUEST)  # reads the CMP rate: the posting watched below uses it and logs only `JobPosted`

    def post_later() -> None:
        time.sleep(1.0)
        posted.append(customer.post_job(REQUEST))

    # From the next block, named: on a loaded machine the posting can be mined before the
    # watcher takes its first block, and it must still be followed.
    start = chain.blocks.head.number + 1
    poster = threading.Thread(target=post_later)
    poster.start()
    try:
        args = [
            "watch",
            "--from-block",
            str(start),
            "--max-events",
            "1",
            "--timeout",
            "60",
            "--interval",
            "0.2",
            "--json",
        ]
        followed = invoke(MARKET, "TEST::43", *args)
    finally:
        poster.join(60)
    assert followed.exit_code == 0, followed.stderr
    event = json.loads(followed.stdout)
    assert (event["event"], event["args"]["jobId"]) == ("JobPosted", posted[0])


def test_watch_stops_at_its_timeout_when_nothing_happens(invoke):
    began = time.monotonic()
    quiet = invoke(MARKET, "TEST::43", "watch", "--timeout", "0.5", "--interval", "0.1", "--json")
    assert quiet.exit_code == 0, quiet.stderr
    assert quiet.stdout == ""
    assert quiet.stderr.strip().splitlines()[-1].startswith("watched 0 events from block ")
    assert time.monotonic() - began < 30


def test_watch_stops_without_an_error_on_ctrl_c(invoke, monkeypatch):
    script = load_script("market")

    def interrupted(*_args: object, **_options: object):
        raise KeyboardInterrupt
        yield  # a generator, as `follow` is

    monkeypatch.setattr(script, "follow", interrupted)
    stopped = invoke(script.cli, "TEST::43", "watch", "--json")
    assert stopped.exit_code == 0, stopped.stderr
    assert stopped.stdout == "" and "watched 0 events from block " in stopped.stderr
