"""Simulation engine v2 (slice 1): a small run on the test session's anvil, deployed through
the session's own Ape provider, then played over raw JSON-RPC with mining off."""

from __future__ import annotations

import copy

import pytest

from compute_market.fastsim import FastSimConfig, MirrorMismatchError, check_mirror, run_attached
from compute_market.fastsim.chain import Tx
from compute_market.fastsim.mirror import Status
from compute_market.fastsim.report import deterministic

SMALL = FastSimConfig(
    seed=11,
    providers=6,
    customers=10,
    days=0.3,  # 7.2 simulated hours: jobs post, lease, settle (2 h challenge window) within it
    jobs_per_customer_hour=0.6,
    raw_rate_calls=200,
    raw_rate_txs=100,  # the session anvil keeps its 30M block gas limit
)


@pytest.fixture(scope="module")
def fastsim_runs(project, tmp_path_factory):
    """Two runs with the same settings and seed, each on a fresh deployment."""
    first = run_attached(SMALL, project, tmp_path_factory.mktemp("fastsim-a"))
    second = run_attached(SMALL, project, tmp_path_factory.mktemp("fastsim-b"))
    return first, second


def test_jobs_complete_end_to_end(fastsim_runs):
    (sim, report), _ = fastsim_runs
    jobs = report["jobs"]
    assert jobs["posted"] > 10
    assert jobs["filled"] >= jobs["settled"] > 0
    assert report["transactions"]["by_kind"]["customer postJob"] >= jobs["posted"]
    settled = [j for j in sim.mirror.jobs.values() if j.status == Status.SETTLED]
    assert all(j.escrow == 0 and j.paid_gross > 0 for j in settled)
    assert report["transactions"]["dropped"] == 0


def test_mirror_matches_the_chain(fastsim_runs):
    (sim, report), _ = fastsim_runs
    assert report["checked"]["jobs"] == report["jobs"]["posted"]
    # Checked again after the run (the raw-rate block only added approvals): still equal.
    check_mirror(sim.chain, sim.mirror, [p.address for p in sim.providers])


def test_same_seed_same_report(fastsim_runs):
    (_, first), (_, second) = fastsim_runs
    assert deterministic(first) == deterministic(second)
    assert set(first) - set(deterministic(first)) == {"timing", "raw", "anvil"}


@pytest.mark.parametrize("field", ["escrow", "status", "balance"])
def test_a_corrupted_mirror_is_caught(fastsim_runs, field):
    (sim, _), _ = fastsim_runs
    mirror = copy.deepcopy(sim.mirror)
    job = next(j for j in mirror.jobs.values() if j.status == Status.SETTLED)
    if field == "escrow":
        job.escrow += 1
    elif field == "status":
        job.status = Status.FAILED
    else:
        mirror.balances["CRD"][job.customer] -= 5
    with pytest.raises(MirrorMismatchError) as caught:
        check_mirror(sim.chain, mirror, [p.address for p in sim.providers])
    assert f"job {job.job_id}" in str(caught.value) or job.customer in str(caught.value)


def test_a_revert_is_named_by_its_custom_error(fastsim_runs):
    (sim, _), _ = fastsim_runs
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
