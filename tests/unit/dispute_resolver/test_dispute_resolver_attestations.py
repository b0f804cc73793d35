"""DisputeResolver: attestations and the verification fee.

Setting: CMP at 2.50 USD; a verified job of 2 GPUs for 10 hours won at 1.10 CRD per GPU-hour
(lease value 22 CRD; collateral 30% of the 40 CRD lease value at the 2 CRD max price: 4.8 CMP);
nine verifiers with 1,000 CMP each; the challenge bond is 10 CRD; finder's share 20% and jury
reward 10% of a slashed collateral; a whistleblower's jackpot 50% of the contradicted verifier's
slash (at most the collateral, the rest burned); juror penalty 5%, verifier slash 10%.
"""

from __future__ import annotations

import ape
from utils.dispute_resolver import crd
from utils.helpers import job_spec

from compute_market.units import HOUR


def test_a_verified_job_escrows_a_verification_fee_for_the_verifier_that_approves(
    resolver, market, credits, chain, result_job, customer, verifiers, draws
):
    """Posting a verified job escrows the 40 CRD lease value at the max price plus 5% for its
    verifier (2 CRD); the auction refunds 18 of the 42 and keeps the 22 CRD lease and the fee.
    The verifier that approves a result that settles is paid the fee at settlement."""
    assert market.escrowFor(job_spec(chain, verification=True)) == (crd(42), crd(2))
    assert market.escrowFor(job_spec(chain)) == (crd(40), 0)
    job = market.getJob(result_job)
    assert (market.fundsOf(result_job).escrow, job.verificationFee) == (crd(24), crd(2))
    assigned = draws.verifier(result_job)
    resolver.attest(result_job, True, sender=verifiers[assigned.verifier])
    chain.pending_timestamp = market.getJob(result_job).challengeEnd
    before = credits.balanceOf(assigned.verifier), credits.balanceOf(customer)
    tx = market.settleJob(result_job, sender=customer)
    paid = tx.events.filter(market.VerificationFeePaid)[0]
    assert (paid.jobId, paid.verifier, paid.amount) == (result_job, assigned.verifier, crd(2))
    assert credits.balanceOf(assigned.verifier) == before[0] + crd(2)
    assert credits.balanceOf(customer) == before[1]  # the lease was served in full: nothing back
    assert credits.balanceOf(market) == market.feesAccrued()  # only the treasury's fees


def test_only_the_assigned_verifier_attests_once_in_time(resolver, chain, result_job, customer, verifiers, draws):
    verifier = draws.verifier(result_job)
    with ape.reverts(resolver.NotAssignedVerifier):
        resolver.attest(result_job, True, sender=customer)
    resolver.attest(result_job, True, sender=verifiers[verifier.verifier])
    with ape.reverts(resolver.AlreadyAttested):
        resolver.attest(result_job, True, sender=verifiers[verifier.verifier])


def test_a_distributor_that_refuses_the_approval_does_not_block_the_attestation(
    resolver, rewards, admin, result_job, verifiers, draws
):
    """The distributor is an immutable peer: if it refuses to record an approval (here the
    resolver's role revoked), the attestation stands (its verifier is not left to be slashed as
    absent) and `VerificationNotRecorded` says the approval earns nothing."""
    verifier = draws.verifier(result_job).verifier
    rewards.revokeRole(rewards.RESOLVER_ROLE(), resolver, sender=admin)
    tx = resolver.attest(result_job, True, sender=verifiers[verifier])
    assert [(log["jobId"], log["verifier"]) for log in tx.events.filter(resolver.VerificationNotRecorded)] == [
        (result_job, verifier)
    ]
    assert [log["resultOk"] for log in tx.events.filter(resolver.Attested)] == [True]


def test_a_late_attestation_reverts(resolver, chain, result_job, customer, verifiers, draws):
    verifier = draws.verifier(result_job)
    chain.pending_timestamp += 6 * HOUR + 1
    with ape.reverts(resolver.AttestationClosed):
        resolver.attest(result_job, True, sender=verifiers[verifier.verifier])
