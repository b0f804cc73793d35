"""Simulation engine v2: a small run on the test session's anvil, deployed through the
session's own Ape provider, then played over raw JSON-RPC with mining off (open and sealed
auctions, cancellations, redemptions); and a sweep of two seeds in spawned processes, each with
its own anvil."""

from __future__ import annotations

import copy
import csv
import json
import math

import matplotlib.pyplot as plt
import pytest
from rich.console import Console

from compute_market.fastsim import FastSimConfig, MirrorMismatchError, check_mirror, run_attached
from compute_market.fastsim.actors import NO_REGION
from compute_market.fastsim.aggregate import headline, percentile, summarize
from compute_market.fastsim.chain import Tx
from compute_market.fastsim.mirror import SEALED, Bond, Status
from compute_market.fastsim.plots import PLOTS, figures
from compute_market.fastsim.report import deterministic, print_summary
from compute_market.fastsim.sweep import run_sweep, seed_dir
from compute_market.fastsim.verifiers import is_honest
from compute_market.units import HOUR, bytes32, from_bytes32, to_wei

SMALL = FastSimConfig(
    seed=11,
    providers=6,
    customers=10,
    days=0.3,  # 7.2 simulated hours: jobs post, lease, settle (2 h challenge window) within it
    jobs_per_customer_hour=0.6,
    cancel_bidding_rate=0.1,  # higher than the defaults, so that a small run plays every path
    cancel_lease_rate=0.15,
    lapse_rate=0.15,
    redeem_per_customer_hour=0.1,
    region_share=0.5,  # region and memory matching: many jobs name a region, many providers have half the memory
    half_vram_share=0.5,
    raw_rate_calls=200,
    raw_rate_txs=100,  # the session anvil keeps its 30M block gas limit
)


@pytest.fixture(scope="module")
def fastsim_runs(project, tmp_path_factory):
    """Two runs with the same settings and seed, each on a fresh deployment, and the first
    one's output folder."""
    out = tmp_path_factory.mktemp("fastsim-a")
    first = run_attached(SMALL, project, out)
    second = run_attached(SMALL, project, tmp_path_factory.mktemp("fastsim-b"))
    return first, second, out


def test_jobs_complete_end_to_end(fastsim_runs):
    (sim, report), _, _ = fastsim_runs
    jobs = report["jobs"]
    assert jobs["posted"] > 10
    assert jobs["filled"] >= jobs["settled"] > 0
    assert report["transactions"]["by_kind"]["customer postJob"] >= jobs["posted"]
    settled = [j for j in sim.mirror.jobs.values() if j.status == Status.SETTLED]
    assert all(j.escrow == 0 and j.paid_gross > 0 for j in settled)
    assert report["transactions"]["dropped"] == 0


def test_sealed_auctions_cancellations_and_redemptions(fastsim_runs):
    (sim, report), _, _ = fastsim_runs
    auctions, kinds = report["auctions"], report["transactions"]["by_kind"]
    assert auctions["sealed_jobs"] > 0 and auctions["sealed_filled"] > 0
    assert auctions["revealed"] > 0 and auctions["bonds_forfeited"] > 0  # lapsed bonds, settled by the keeper
    assert kinds["keeper settleCommitment"] >= auctions["bonds_forfeited"] + auctions["bonds_released"]
    sealed_leases = [j for j in sim.mirror.jobs.values() if j.kind == SEALED and j.lease_start]
    # second price: the clearing price is the second-lowest revealed price, or the max price when alone
    assert all(j.price == (j.second_price or j.max_price) for j in sealed_leases)
    assert report["jobs"]["cancelled"] > 0 and kinds["customer cancelJob"] >= report["jobs"]["cancelled"]
    assert report["credits"]["redemptions"] > 0 and float(report["credits"]["redeemed_crd"]) > 0
    assert report["transactions"]["reverted"] == 0


def test_mirror_matches_the_chain(fastsim_runs):
    (sim, report), _, _ = fastsim_runs
    assert report["checked"]["jobs"] == report["jobs"]["posted"]
    # Checked again after the run (the raw-rate block only added approvals): still equal.
    check_mirror(sim.chain, sim.mirror, [p.address for p in sim.providers])


def test_same_seed_same_report(fastsim_runs):
    (_, first), (_, second), _ = fastsim_runs
    assert deterministic(first) == deterministic(second)
    assert set(first) - set(deterministic(first)) == {"timing", "raw", "anvil"}


def test_jobs_name_regions_and_memory_and_providers_bid_only_where_they_match(fastsim_runs):
    (sim, report), _, _ = fastsim_runs
    jobs = list(sim.mirror.jobs.values())
    assert any(j.region != NO_REGION for j in jobs) and any(j.region == NO_REGION for j in jobs)
    full = {name: model.vram_gb for name, model in sim.catalog.models.items()}
    assert any(p.vram_gb < full[p.gpu_model] for p in sim.providers), "no half-memory provider"
    assert any(j.min_vram < full[from_bytes32(j.gpu_model)] for j in jobs)  # some jobs need half the memory
    by_address = {p.address: p for p in sim.providers}
    leased = [j for j in jobs if j.lease_start]
    assert leased and all(by_address[j.provider].matches(j) for j in leased)
    named = [j for j in leased if j.region != NO_REGION]
    assert named and all(by_address[j.provider].region_word == j.region for j in named)
    assert report["skipped"]["provider region or memory does not match"] > 0
    assert report["transactions"]["reverted"] == 0  # no WrongRegion, no InsufficientVram


def test_the_run_writes_the_series_and_four_labelled_plots(fastsim_runs):
    (sim, report), _, out = fastsim_runs
    rows = list(csv.DictReader((out / "timeseries.csv").open()))
    hourly = HOUR // SMALL.step_seconds
    assert len(rows) == len(sim.series.ticks) == 1 + math.ceil(SMALL.steps / hourly)  # the start, each hour, the end
    assert int(rows[-1]["jobs_posted"]) == report["jobs"]["posted"]
    cleared = [float(p) for t in sim.series.ticks for ps in t.clearing.values() for p in ps]
    assert len(cleared) == report["jobs"]["filled"]
    for name in PLOTS:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name, fig in figures(report, sim.series).items():
        for ax in fig.axes:  # a twin's shared axis is hidden: the first one's label serves it
            for axis in (ax.xaxis, ax.yaxis):
                assert not axis.get_visible() or axis.get_label_text(), f"{name}: an axis without a label"
        plt.close(fig)


def test_the_summary_reads_prices_against_the_clouds_rewards_statuses_and_speed(fastsim_runs):
    (_, report), _, _ = fastsim_runs
    console = Console(record=True, width=200)
    print_summary(console, report)
    text = console.export_text()
    assert "clearing price against the catalog's cloud price" in text
    for model, prices in report["prices"].items():
        assert model in text and prices["cloud"] in text and prices["mean_clearing"] in text
    assert "emitted cmp" in text and "by status now:" in text
    for status, n in report["jobs"]["by_status"].items():
        assert f"{status.lower()} {n}" in text
    assert f"{report['timing']['actor_tx_per_s']} actor tx/s" in text
    assert f"raw {report['raw']['tx_per_s']} tx/s" in text


@pytest.mark.parametrize("field", ["escrow", "status", "balance", "commitment", "region", "memory"])
def test_a_corrupted_mirror_is_caught(fastsim_runs, field):
    (sim, _), _, _ = fastsim_runs
    mirror = copy.deepcopy(sim.mirror)
    job = next(j for j in mirror.jobs.values() if j.status == Status.SETTLED)
    if field == "region":
        job.region = bytes32("nowhere")
    elif field == "memory":
        job.min_vram += 1
    elif field == "commitment":
        job = next(j for j in mirror.jobs.values() if j.commitments)
        bid = next(iter(job.commitments.values()))
        bid.state = Bond.COMMITTED if bid.state != Bond.COMMITTED else Bond.REVEALED
    elif field == "escrow":
        job.escrow += 1
    elif field == "status":
        job.status = Status.FAILED
    else:
        mirror.balances["CRD"][job.customer] -= 5
    with pytest.raises(MirrorMismatchError) as caught:
        check_mirror(sim.chain, mirror, [p.address for p in sim.providers])
    assert f"job {job.job_id}" in str(caught.value) or job.customer in str(caught.value)


@pytest.mark.parametrize("field", ["provisioned", "locked", "gpus", "reserved", "vram", "ledger"])
def test_a_corrupted_offer_or_provision_is_caught(fastsim_runs, field):
    """Every offer's five fields against `offerOf`, and the ledger's provision against the sum of
    the provider's offers (and the mirror's own ledger events), to the wei."""
    (sim, _), _, _ = fastsim_runs
    mirror = copy.deepcopy(sim.mirror)
    p = sim.providers[0]
    offer = mirror.offers[p.address][bytes32(p.gpu_model)]
    if field == "ledger":
        mirror.provisioned[p.address] += 1
        match = f"provision of {p.address}"
    else:
        setattr(offer, field, getattr(offer, field) + 1)
        match = f"offer of {p.gpu_model} by {p.address} {'vramGb' if field == 'vram' else field}"
    with pytest.raises(MirrorMismatchError, match=match):
        check_mirror(sim.chain, mirror, [p.address for p in sim.providers])


def test_a_revert_is_named_by_its_custom_error(fastsim_runs):
    (sim, _), _, _ = fastsim_runs
    chain = sim.chain
    chain.prepare_senders([sim.admin])  # the second run's deploy moved the admin's nonce on
    _, now = chain.head()
    chain.set_automine(False)
    try:
        block = chain.mine_step([Tx(sim.admin, "keeper", "JobMarket", "settleJob", (10**9,))], now + 60)
    finally:
        chain.set_automine(True)
        chain.rpc.call("anvil_autoImpersonateAccount", [False])
    (outcome,) = block.outcomes
    assert not outcome.ok
    assert outcome.error == "UnknownJob"
    assert chain.replay_reason(outcome.tx, block.number - 1) == "UnknownJob"


REVIEWED = FastSimConfig(
    seed=5,
    providers=6,
    customers=10,
    # A day: results, verifier draws, attestations and several juries' two 1-hour periods, so that
    # some jury reveals whichever verifiers the session's block hashes draw (they depend on every
    # block the suite mined before; 9.6 hours was enough alone and not after the whole suite), and
    # a little more: a rewards epoch (a day) ends, and stake asked back at the start is withdrawn
    # once unbonded (the ledger's shortest unbonding period is a day).
    days=1.1,
    jobs_per_customer_hour=0.6,
    verifiers=8,
    verification_share=0.7,
    cheat_fake_rate=0.5,  # many fakes, so that verifiers reject and juries sit
    check_rate=0.0,  # only verifiers open disputes here (customers' challenges: test_fastsim_challenges.py)
    verifier_unstake_per_day=1.0,  # every verifier asks to unstake half its stake on the first day
    raw_rate_calls=100,
    raw_rate_txs=50,
)


@pytest.fixture(scope="module")
def reviewed_run(project, tmp_path_factory):
    """A run with verifiers on the session's anvil."""
    return run_attached(REVIEWED, project, tmp_path_factory.mktemp("fastsim-review"))


def test_verifiers_attest_and_juries_decide(reviewed_run):
    sim, report = reviewed_run
    review, kinds = report["review"], report["transactions"]["by_kind"]
    assert review["verifiers"] == 8 and review["jobs_asking_verification"] > 0
    assert kinds["customer requestVerifier"] == review["verifications_requested"] > 0
    assert kinds["keeper processDraws"] > 0 and review["verifiers_assigned"] > 0
    assert review["approved"] > 0 and review["rejected"] > 0  # honest verifiers reject fakes
    assert review["challenges"] == review["rejected"] and review["juries"] > 0
    assert kinds.get("verifier commitVote", 0) > 0 and kinds.get("verifier revealVote", 0) > 0, kinds
    assert review["provider_fault"] + review["no_fault"] > 0  # at least one dispute decided
    assert report["transactions"]["reverted"] == 0
    for job_id, dispute in sim.mirror.review.disputes.items():
        job = sim.mirror.jobs[job_id]
        if dispute.fault:  # the jury found the provider at fault: the job failed, its result was fake
            assert job.status == Status.FAILED and not is_honest(job)


def test_providers_and_verifiers_claim_rewards_once_an_epoch_is_over(reviewed_run):
    sim, report = reviewed_run
    kinds = report["transactions"]["by_kind"]
    claimers = len(sim.providers) + len(sim.reviewing.verifiers)
    assert sum(n for kind, n in kinds.items() if kind.endswith(" claim")) == claimers  # one epoch ended
    assert kinds["verifier claim"] == len(sim.reviewing.verifiers)
    emitted = sim.mirror.rewards_total()
    assert emitted > 0 and float(report["tokens"]["emitted_cmp"]) > 0
    (claimed,) = sim.chain.calls([("RewardsDistributor", "totalClaimed", ())])[0]
    assert claimed == emitted  # what the check compares too
    assert sum(float(p["rewards_cmp"]) for p in report["providers"]) > 0


def test_verifiers_unstake_and_withdraw_once_unbonded(reviewed_run):
    sim, report = reviewed_run
    kinds, review = report["transactions"]["by_kind"], report["review"]
    verifiers = len(sim.reviewing.verifiers)
    assert kinds["verifier requestVerifierUnstake"] == review["unstake_requests"] == verifiers
    assert kinds["verifier withdrawVerifierStake"] == review["unstake_withdrawals"] > 0
    assert float(review["unstaked_cmp"]) > 0
    for v in sim.reviewing.verifiers:  # half asked back; withdrawn (the stake shrank) or still unbonding
        record = sim.chain.calls([("ProviderRegistry", "verifierOf", (v.address,))])[0][0]
        assert int(record[0]) == sim.mirror.review.verifier_stake[v.address] < to_wei(REVIEWED.verifier_stake)


@pytest.mark.parametrize("field", ["stake", "unbonding", "rewards"])
def test_a_corrupted_review_mirror_is_caught(reviewed_run, field):
    sim, _ = reviewed_run
    mirror = copy.deepcopy(sim.mirror)
    verifier = next(iter(mirror.review.verifier_stake))
    if field == "stake":
        mirror.review.verifier_stake[verifier] += 1
        match = f"verifier stake of {verifier}"
    elif field == "unbonding":
        left, end = mirror.review.unbonding[verifier]
        mirror.review.unbonding[verifier] = (left + 1, end)
        match = f"verifier unbonding of {verifier}"
    else:
        mirror.rewards[verifier] += 1
        match = "rewards claimed"
    with pytest.raises(MirrorMismatchError, match=match):
        check_mirror(sim.chain, mirror, [p.address for p in sim.providers])


TINY = FastSimConfig(
    providers=4,
    customers=6,
    days=0.15,  # 3.6 simulated hours
    jobs_per_customer_hour=0.6,
    raw_rate_calls=100,
    raw_rate_txs=50,
)


def test_a_sweep_aggregates_its_runs(tmp_path):
    """Two seeds in two spawned processes, each with its own anvil and Ape connection: one report
    per run, and an aggregate whose figures are those of the reports."""
    result = run_sweep(TINY, [3, 4], 2, tmp_path)
    assert result["failed"] == {} and result["seeds"] == [3, 4]
    assert json.loads((tmp_path / "aggregate.json").read_text()) == result
    reports = {s: json.loads((seed_dir(tmp_path, s) / "report.json").read_text()) for s in (3, 4)}
    assert reports[3]["config"]["seed"] == 3 and reports[4]["config"]["seed"] == 4
    assert deterministic(reports[3]) != deterministic(reports[4])
    for report in reports.values():
        assert report["anvil"]["own"] and report["checked"]["jobs"] == report["jobs"]["posted"]
    assert result["per_run"] == {str(s): headline(reports[s]) for s in (3, 4)}
    assert result["sweep"]["jobs"] == 2 and result["runs"] == 2
    for key in ("posted", "filled", "settled", "failed", "expired", "cancelled"):
        values = [reports[s]["jobs"][key] for s in (3, 4)]
        figure = result["figures"][f"jobs.{key}"]
        assert figure["mean"] == pytest.approx(sum(values) / 2)
        assert figure["min"] == min(values) and figure["max"] == max(values)
        assert figure["p05"] == pytest.approx(min(values) + 0.05 * (max(values) - min(values)))
        assert figure["p95"] == pytest.approx(min(values) + 0.95 * (max(values) - min(values)))
    speeds = [reports[s]["timing"]["actor_tx_per_s"] for s in (3, 4)]
    assert result["figures"]["timing.actor_tx_per_s"]["mean"] == pytest.approx(sum(speeds) / 2, abs=1e-3)
    models = {m for r in reports.values() for m, p in r["prices"].items() if p["mean_clearing"] != "-"}
    assert models and {f"price.{m}" for m in models} == {f for f in result["figures"] if f.startswith("price.")}
    for model in models:
        cleared = [r["prices"].get(model, {}).get("mean_clearing", "-") for r in reports.values()]
        prices = [float(p) for p in cleared if p != "-"]
        assert result["figures"][f"price.{model}"]["mean"] == pytest.approx(sum(prices) / len(prices), abs=1e-4)
    assert "only 2 runs" in result["note"]


def test_percentiles_interpolate_like_numpy():
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 5) == pytest.approx(1.95)
    assert percentile(values, 95) == pytest.approx(19.05)
    assert percentile([4.0], 5) == 4.0
    assert summarize([1.0, 3.0])["mean"] == 2.0
