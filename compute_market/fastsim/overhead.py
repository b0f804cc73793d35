"""Verification overhead (issue 18): the compute a run's checks spent, measured from its logs.

The protocol checks a result by running the job again: the drawn verifier re-executes it before
it attests, and every juror of a dispute re-executes it before it votes (deterministic workloads,
docs/workloads.md). So each check costs the job's own GPU-hours, and the overhead of a run is

    overhead = (verifier re-executions + juror re-executions, in GPU-hours)
               / GPU-hours of every lease that delivered a result

where a verifier counts when it attested (approved or rejected) and a juror when it revealed a
vote, each only if it is not lazy: a lazy verifier approves and votes without running anything
(`fastsim.verifiers.Verifier`), which is what it saves and what its penalties price. A jury
grinder's identities (`fastsim.adversaries_jury`) attest and vote by plan on the jobs it
challenged, without running them, and are not counted there; elsewhere they do honest duty, as a
sybil farm's identities do, and are. The two
parts are reported apart (`overhead_verifiers`, `overhead_juries`: each over the leased
GPU-hours), and the verifiers' part also over the GPU-hours of the leases that asked for a
verifier (`overhead_of_verified`: below 1 where verifiers were lazy, absent or not drawn in
time). Juries sit on disputes, which customers open too, so their part follows the fakes found
more than the share of jobs verified. Gensyn quotes about 46% for its probabilistic proof-of-learning
checks; a full re-execution of every verified job costs 100% of it, before disputes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from compute_market.models import Attestation
from compute_market.units import HOUR

if TYPE_CHECKING:
    from compute_market.fastsim.engine import FastSim
    from compute_market.fastsim.mirror import JobState

NO_RESULT = b"\0" * 32
CHECKED = (Attestation.RESULT_OK, Attestation.RESULT_BAD)  # an attestation made after a re-execution
FOUR = Decimal("0.0001")


def _gpu_hours(job: JobState) -> Decimal:
    return Decimal(job.gpu_count * job.duration) / HOUR


def _ratio(part: Decimal, whole: Decimal) -> str:
    return str((part / whole).quantize(FOUR)) if whole else "-"


def verification_overhead(sim: FastSim) -> dict[str, Any]:
    """The run's re-executions in GPU-hours and their share of the leased GPU-hours (see above)."""
    assert sim.reviewing is not None
    review = sim.mirror.review
    jobs = sim.mirror.jobs
    lazy = {v.address for v in sim.reviewing.verifiers if v.lazy}
    by_plan: set[tuple[str, int]] = set()  # (identity, job): a grinder's own challenges, decided by plan
    jury = sim.adversaries.jury if sim.adversaries is not None else None
    for g in jury.grinders if jury is not None else ():
        by_plan |= {(i.address, job_id) for i in g.identities for job_id in g.challenged}
    served = [j for j in jobs.values() if j.result_hash != NO_RESULT]
    leased = sum((_gpu_hours(j) for j in served), Decimal(0))
    verified = sum((_gpu_hours(j) for j in served if j.verification), Decimal(0))
    by_verifiers = Decimal(0)
    checks = 0
    for job_id, v in review.verifications.items():
        if v.attestation in CHECKED and v.verifier not in lazy and (v.verifier, job_id) not in by_plan:
            by_verifiers += _gpu_hours(jobs[job_id])
            checks += 1
    by_jurors = Decimal(0)
    votes = 0
    for job_id, dispute in review.disputes.items():
        honest = sum(
            1
            for juror, ballot in dispute.jurors.items()
            if ballot.revealed and juror not in lazy and (juror, job_id) not in by_plan
        )
        by_jurors += honest * _gpu_hours(jobs[job_id])
        votes += honest
    spent = by_verifiers + by_jurors
    return {
        "leased_gpu_hours": str(leased.quantize(FOUR)),
        "verified_gpu_hours": str(verified.quantize(FOUR)),
        "verifier_reexecutions": checks,
        "verifier_reexecution_gpu_hours": str(by_verifiers.quantize(FOUR)),
        "juror_reexecutions": votes,
        "juror_reexecution_gpu_hours": str(by_jurors.quantize(FOUR)),
        "overhead": _ratio(spent, leased),
        "overhead_verifiers": _ratio(by_verifiers, leased),
        "overhead_juries": _ratio(by_jurors, leased),
        "overhead_of_verified": _ratio(by_verifiers, verified),
    }


__all__ = ["CHECKED", "verification_overhead"]
