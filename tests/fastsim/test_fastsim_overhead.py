"""Verification overhead in the block-level engine (issue 18): the GPU-hours the checks re-execute
over the GPU-hours leased, measured from a run's logs (`compute_market/fastsim/overhead.py`)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from types import SimpleNamespace

import pytest

from compute_market.fastsim import FastSimConfig, run_attached
from compute_market.fastsim.mirror import JobState
from compute_market.fastsim.overhead import verification_overhead
from compute_market.fastsim.review import Ballot, Dispute, Review, Verification
from compute_market.models import Attestation
from compute_market.units import HOUR

HONEST, LAZY, OTHER, CUSTOMER = "0xhonest", "0xlazy", "0xother", "0xcustomer"


def _job(job_id: int, gpus: int, hours: int, *, verified: bool, result: bool = True) -> JobState:
    job = JobState(job_id, CUSTOMER, b"H100", gpus, 0, hours * HOUR, 0, 0, 0, verification=verified)
    if result:
        job.result_hash = b"\x01" * 32
    return job


def _sim(jobs: list[JobState], review: Review, adversaries: SimpleNamespace | None = None) -> SimpleNamespace:
    verifiers = [SimpleNamespace(address=HONEST, lazy=False), SimpleNamespace(address=OTHER, lazy=False)]
    verifiers.append(SimpleNamespace(address=LAZY, lazy=True))
    mirror = SimpleNamespace(jobs={j.job_id: j for j in jobs}, review=review)
    return SimpleNamespace(mirror=mirror, reviewing=SimpleNamespace(verifiers=verifiers), adversaries=adversaries)


def test_the_overhead_counts_every_re_execution_and_no_lazy_check():
    """Four jobs: 8 GPUs x 2 h checked by an honest verifier (16 GPU-h run again); 4 x 1 h approved
    by a lazy one (nothing run); 2 x 3 h unverified but disputed, two honest jurors revealing (12
    GPU-h), a lazy one revealing and an honest one not (nothing); 1 x 5 h with no result yet (not
    leased work). 28 GPU-h re-executed over 26 leased: 1.0769, of which the verifier's 16
    (0.6154) and the jurors' 12 (0.4615); the verifier's 16 over the 20 verified: 0.8000."""
    jobs = [
        _job(1, 8, 2, verified=True),
        _job(2, 4, 1, verified=True),
        _job(3, 2, 3, verified=False),
        _job(4, 1, 5, verified=True, result=False),
    ]
    review = Review()
    review.verifications = {
        1: Verification(True, HONEST, 0, Attestation.RESULT_OK),
        2: Verification(True, LAZY, 0, Attestation.RESULT_OK),
        4: Verification(True, OTHER, 0, Attestation.NONE),  # drawn, not attested yet: nothing run
    }
    dispute = Dispute(CUSTOMER)
    dispute.jurors = {
        HONEST: Ballot(True, True),
        OTHER: Ballot(True, True, True),
        LAZY: Ballot(True, True),
        "0xlate": Ballot(True, False),
    }
    review.disputes = {3: dispute}
    out = verification_overhead(_sim(jobs, review))
    assert out == {
        "leased_gpu_hours": "26.0000",
        "verified_gpu_hours": "20.0000",
        "verifier_reexecutions": 1,
        "verifier_reexecution_gpu_hours": "16.0000",
        "juror_reexecutions": 2,
        "juror_reexecution_gpu_hours": "12.0000",
        "overhead": "1.0769",
        "overhead_verifiers": "0.6154",
        "overhead_juries": "0.4615",
        "overhead_of_verified": "0.8000",
    }


def test_a_jury_grinder_re_runs_nothing_it_challenged_and_everything_else():
    """Two 4-GPU, 2-hour jobs disputed, an honest juror and a grinder identity revealing on each:
    on job 1, which the grinder challenged, its identity voted by plan (not counted); on job 2 it
    did honest duty (counted). 3 re-runs of 8 GPU-hours over 16 leased: 1.5000."""
    review = Review()
    for job_id in (1, 2):
        dispute = Dispute(CUSTOMER)
        dispute.jurors = {HONEST: Ballot(True, True), "0xgrinder": Ballot(True, True, True)}
        review.disputes[job_id] = dispute
    identity = SimpleNamespace(address="0xgrinder")
    grinder = SimpleNamespace(identities=[identity], challenged=[1])
    adversaries = SimpleNamespace(jury=SimpleNamespace(grinders=[grinder]))
    jobs = [_job(1, 4, 2, verified=False), _job(2, 4, 2, verified=False)]
    out = verification_overhead(_sim(jobs, review, adversaries))
    assert (out["juror_reexecutions"], out["juror_reexecution_gpu_hours"], out["overhead"]) == (3, "24.0000", "1.5000")


def test_a_run_with_nothing_leased_has_no_overhead_ratio():
    out = verification_overhead(_sim([_job(1, 8, 2, verified=True, result=False)], Review()))
    assert (out["overhead"], out["overhead_of_verified"], out["leased_gpu_hours"]) == ("-", "-", "0.0000")


SHARED = FastSimConfig(
    seed=11,
    providers=6,
    customers=10,
    days=0.5,
    jobs_per_customer_hour=0.6,
    verifiers=6,
    lazy_verifier_rate=0.0,
    cheat_fake_rate=0.0,
    check_rate=0.0,
    raw_rate_calls=100,
    raw_rate_txs=50,
)


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_the_overhead_follows_the_share_of_jobs_verified(project, tmp_path, share):
    """The same market with no job asking for a verifier and with every job asking: no
    re-execution and an overhead of 0 at 0; at 1, honest verifiers (none lazy, no fakes) run
    every result they attest again, so the overhead is the attested share of the leased GPU-hours,
    well above Gensyn's 46% (each check here is a full re-execution)."""
    _, report = run_attached(replace(SHARED, verification_share=share), project, tmp_path)
    review = report["review"]
    leased = Decimal(review["leased_gpu_hours"])
    assert leased > 0
    if share == 0.0:
        assert review["verifier_reexecutions"] == 0 and review["overhead"] == "0.0000"
        assert review["verified_gpu_hours"] == "0.0000" and review["overhead_of_verified"] == "-"
        return
    assert review["verified_gpu_hours"] == review["leased_gpu_hours"]  # every lease asked
    assert review["verifier_reexecutions"] == review["approved"] + review["rejected"] > 0
    spent = Decimal(review["verifier_reexecution_gpu_hours"]) + Decimal(review["juror_reexecution_gpu_hours"])
    assert Decimal(review["overhead"]) == (spent / leased).quantize(Decimal("0.0001")) > Decimal("0.46")
    assert review["overhead_of_verified"] == review["overhead_verifiers"]  # every lease was verified
