"""Customers' challenges in the block-level engine: a customer checks a result once and
challenges the fakes it finds (posting the resolver's bond in credits); with no verifier to draw
a jury from, the dispute goes to the arbiter (the keeper), who decides on the facts."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest

from compute_market.fastsim import FastSimConfig, MirrorMismatchError, check_mirror, run_attached
from compute_market.fastsim.mirror import Status
from compute_market.fastsim.verifiers import is_honest
from compute_market.models import DisputeStatus

CHALLENGED = FastSimConfig(
    seed=3,
    providers=6,
    customers=10,
    days=0.3,  # 7.2 simulated hours: results come in from hour 2 on, disputes last an hour or two
    jobs_per_customer_hour=0.6,
    verifiers=0,
    check_rate=1.0,  # every customer checks every result
    cheat_fake_rate=0.5,  # many fakes to challenge
    raw_rate_calls=100,
    raw_rate_txs=50,
)


@pytest.fixture(scope="module")
def challenged_run(project, tmp_path_factory):
    return run_attached(CHALLENGED, project, tmp_path_factory.mktemp("fastsim-challenges"))


def test_customers_challenge_the_fakes_and_the_arbiter_decides(challenged_run):
    sim, report = challenged_run
    kinds, review = report["transactions"]["by_kind"], report["review"]
    challenged = kinds.get("customer challenge", 0)
    assert challenged > 0 and review["customer_challenges"] == review["challenges"] == challenged
    assert review["arbitrated"] > 0 and review["provider_fault"] > 0
    assert report["transactions"]["reverted"] == 0
    disputes = sim.mirror.review.disputes
    assert len(disputes) == challenged
    for job_id, dispute in disputes.items():
        job = sim.mirror.jobs[job_id]
        assert dispute.challenger == job.customer and not is_honest(job)  # only fakes are challenged
        if dispute.status == DisputeStatus.RESOLVED:
            assert dispute.fault and job.status == Status.FAILED
    last = sim.start_time + CHALLENGED.steps * CHALLENGED.step_seconds  # a result in the last block goes unseen
    fakes = [j for j in sim.mirror.jobs.values() if j.challenge_end and not is_honest(j)]
    seen = [j for j in fakes if j.challenge_end - sim.challenge_window < last]
    assert seen and all(j.job_id in disputes for j in seen)  # every fake result seen was caught (check rate 1)
    assert report["jobs"]["fake_results_settled"] == 0


def test_without_checks_fakes_settle_and_nobody_challenges(project, tmp_path):
    """The same market with customers who check nothing: no challenge, fakes settle unpunished."""
    _, report = run_attached(replace(CHALLENGED, check_rate=0.0), project, tmp_path)
    assert "customer challenge" not in report["transactions"]["by_kind"]
    assert "review" not in report  # no verifier, no challenge: no dispute can open
    assert report["jobs"]["fake_results_settled"] > 0


def test_a_corrupted_dispute_in_the_mirror_is_caught(challenged_run):
    sim, _ = challenged_run
    mirror = copy.deepcopy(sim.mirror)
    job_id, dispute = next(iter(mirror.review.disputes.items()))
    dispute.challenger = sim.admin
    with pytest.raises(MirrorMismatchError, match=f"dispute on job {job_id}"):
        check_mirror(sim.chain, mirror, [p.address for p in sim.providers])
