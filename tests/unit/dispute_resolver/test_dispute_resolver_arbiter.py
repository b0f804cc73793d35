"""DisputeResolver: the arbiter and the default ending of an undecided dispute.

Setting: CMP at 2.50 USD; a verified job of 2 GPUs for 10 hours won at 1.10 CRD per GPU-hour
(lease value 22 CRD; collateral 30% of the 40 CRD lease value at the 2 CRD max price: 4.8 CMP);
nine verifiers with 1,000 CMP each; the challenge bond is 10 CRD; finder's share 20% and jury
reward 10% of a slashed collateral; a whistleblower's jackpot 50% of the contradicted verifier's
slash (at most the collateral, the rest burned); juror penalty 5%, verifier slash 10%.
"""

from __future__ import annotations

import ape
from utils.dispute_resolver import AWAITING_ARBITER, BOND, FAILED, SETTLED, VOTING, crd, seats_of
from utils.helpers import job_spec

from compute_market.units import DAY, HOUR, to_wei


def test_a_hung_jury_goes_to_the_arbiter(
    resolver, market, token, chain, result_job, customer, admin, verifiers, draws, registry
):
    resolver.challenge(result_job, "x", sender=customer)
    draws.process()
    jurors = resolver.jurorsOf(result_job)
    with ape.reverts(resolver.VotingNotOver):
        resolver.resolve(result_job, sender=customer)
    with ape.reverts(resolver.WrongDisputeStatus, jobId=result_job, status=VOTING):  # the jury comes first
        resolver.arbitrate(result_job, True, sender=admin)
    chain.pending_timestamp += 2 * DAY  # nobody votes
    supply = token.totalSupply()
    tx = resolver.resolve(result_job, sender=customer)
    assert tx.events.filter(resolver.AwaitingArbiter)
    assert resolver.disputeOf(result_job).status == AWAITING_ARBITER
    with ape.reverts(resolver.WrongDisputeStatus):  # the jury's time is over
        resolver.commitVote(result_job, b"\x01" * 32, sender=verifiers[jurors[0]])
    with ape.reverts(resolver.AccessControlUnauthorizedAccount):
        resolver.arbitrate(result_job, True, sender=customer)
    resolver.arbitrate(result_job, True, sender=admin)
    assert market.statusOf(result_job) == FAILED
    # Every absent juror lost 5% of a seat per seat it held, burned since there is no majority to
    # give it to.
    assert all(registry.verifierOf(j).staked == to_wei(1_000) - to_wei(50) * n for j, n in seats_of(jurors).items())
    assert token.totalSupply() == supply - to_wei(50) * len(jurors)


def test_an_undecided_dispute_ends_by_default_after_the_appeal_window(
    resolver, market, credits, chain, result_job, customer, admin, draws
):
    resolver.challenge(result_job, "x", sender=customer)
    draws.process()
    chain.pending_timestamp += 2 * DAY
    resolver.resolve(result_job, sender=customer)
    with ape.reverts(resolver.AppealWindowOpen):
        resolver.resolveByDefault(result_job, sender=customer)
    chain.pending_timestamp += 2 * DAY
    with ape.reverts(resolver.AppealWindowOver):
        resolver.arbitrate(result_job, True, sender=admin)
    before = credits.balanceOf(customer)
    resolver.resolveByDefault(result_job, sender=customer)
    # Bond back, nothing decided; the job settles with the verification fee nobody earned back.
    assert credits.balanceOf(customer) == before + BOND + crd(2)
    assert market.statusOf(result_job) == SETTLED
    assert credits.balanceOf(resolver) == 0


def test_no_active_verifier_stake_means_the_arbiter_decides_at_once(
    resolver, market, chain, customer, provider, verifiers, admin, draws, registry
):
    for verifier in verifiers.values():  # every verifier is leaving: nobody can sit on a jury
        registry.requestVerifierUnstake(registry.activeStakeOf(verifier), sender=verifier)
    assert registry.totalActiveStake() == 0
    tx = market.postJob(job_spec(chain), sender=customer)
    job_id = tx.events.filter(market.JobPosted)[0].jobId
    market.placeBid(job_id, crd(1), sender=provider)
    chain.pending_timestamp += HOUR
    market.finalizeAuction(job_id, sender=customer)
    market.submitResult(job_id, b"\x01" * 32, "r", sender=provider)
    resolver.challenge(job_id, "x", sender=customer)
    assert draws.process().events.filter(resolver.AwaitingArbiter)
    resolver.arbitrate(job_id, False, sender=admin)
    assert market.statusOf(job_id) == SETTLED
