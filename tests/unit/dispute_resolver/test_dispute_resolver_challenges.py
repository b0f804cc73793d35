"""DisputeResolver: challenges (by the customer, a whistleblower or a verifier's rejection) and their outcomes.

Setting: CMP at 2.50 USD; a verified job of 2 GPUs for 10 hours won at 1.10 CRD per GPU-hour
(lease value 22 CRD; collateral 30% of the 40 CRD lease value at the 2 CRD max price: 4.8 CMP);
nine verifiers with 1,000 CMP each; the challenge bond is 10 CRD; finder's share 20% and jury
reward 10% of a slashed collateral; a whistleblower's jackpot 50% of the contradicted verifier's
slash (at most the collateral, the rest burned); juror penalty 5%, verifier slash 10%.
"""

from __future__ import annotations

import ape
import pytest
from utils.dispute_resolver import BOND, COLLATERAL, DISPUTED, FAILED, RESOLVED, SETTLED, crd, vote_all
from utils.helpers import claim_jury_rewards, job_spec

from compute_market.units import DAY, HOUR, to_wei


def test_upheld_challenge_compensates_the_customer_and_slashes_the_provider(
    resolver, market, registry, token, credits, chain, result_job, customer, provider, verifiers, draws
):
    crd_before, cmp_before = credits.balanceOf(customer), token.balanceOf(customer)
    tx = resolver.challenge(result_job, "output does not match the spec", sender=customer)
    draws.process()
    assert tx.events.filter(resolver.Challenged)[0].bond == BOND
    assert market.statusOf(result_job) == DISPUTED
    jurors = resolver.jurorsOf(result_job)
    assert len(jurors) == 5  # seats
    juror_before = {j: token.balanceOf(j) for j in jurors}
    vote_all(resolver, chain, result_job, jurors, verifiers, fault=True)
    tx = resolver.resolve(result_job, sender=customer)
    assert tx.events.filter(resolver.DisputeResolved)[0].providerFault
    jury_cut = COLLATERAL // 10
    # Jurors are paid by pull: the verdict opens equal shares, each juror claims its own.
    assert not tx.events.filter(resolver.JurorRewarded)
    opened = tx.events.filter(resolver.JuryRewardsOpened)[0]
    assert (opened.majority, opened.tokenShare, opened.creditShare) == (len(jurors), jury_cut // len(jurors), 0)
    assert token.balanceOf(resolver) == jury_cut
    assert claim_jury_rewards(resolver, result_job, verifiers) == (jury_cut, 0)
    with ape.reverts(resolver.NoJuryReward):  # once
        resolver.claimJuryReward(result_job, sender=verifiers[jurors[0]])
    with ape.reverts(resolver.NoJuryReward):  # not a juror
        resolver.claimJuryReward(result_job, sender=customer)
    # The customer: escrow (22 CRD, and the 2 CRD verification fee no verifier earned) and bond
    # (10 CRD) back, collateral less the jury's 10% in CMP.
    assert credits.balanceOf(customer) == crd_before + crd(24)
    assert token.balanceOf(customer) == cmp_before + COLLATERAL - jury_cut
    assert sum(token.balanceOf(j) - juror_before[j] for j in set(jurors)) == jury_cut
    assert registry.stakeOf(provider) == to_wei(10_000) - COLLATERAL
    assert registry.providerOf(provider).disputesLost == 1
    assert registry.reputationOf(provider) == 2_000  # (0+1)*10000/(0+3+2)
    assert market.statusOf(result_job) == FAILED
    assert credits.balanceOf(resolver) == 0 and credits.balanceOf(market) == market.feesAccrued()


def test_rejected_challenge_costs_the_challenger_its_bond(
    resolver, market, registry, credits, chain, result_job, customer, provider, verifiers, draws
):
    resolver.challenge(result_job, "I do not like it", sender=customer)
    draws.process()
    jurors = resolver.jurorsOf(result_job)
    juror_before = {j: credits.balanceOf(j) for j in jurors}
    provider_before = credits.balanceOf(provider)
    vote_all(resolver, chain, result_job, jurors, verifiers, fault=False)
    resolver.resolve(result_job, sender=provider)
    jury_cut = BOND // 10
    assert credits.balanceOf(resolver) == jury_cut  # until the jurors claim
    claim_jury_rewards(resolver, result_job, verifiers)
    paid_to_provider = credits.balanceOf(provider) - provider_before
    # The provider gets its pay (22 CRD less the 1% fee) and the bond less the jury's cut.
    assert paid_to_provider == crd("21.78") + BOND - jury_cut
    assert sum(credits.balanceOf(j) - juror_before[j] for j in set(jurors)) == jury_cut
    assert market.statusOf(result_job) == SETTLED
    assert registry.providerOf(provider).completed == 1
    assert credits.balanceOf(resolver) == 0


def test_whistleblower_catches_a_lazy_verifier(
    resolver,
    market,
    token,
    credits,
    chain,
    result_job,
    customer,
    accounts,
    make_provider,
    make_customer,
    verifiers,
    draws,
    registry,
):
    assigned = draws.verifier(result_job)
    lazy = verifiers[assigned.verifier]
    resolver.attest(result_job, True, sender=lazy)  # approves without checking
    whistleblower = make_customer(make_provider(accounts[12]))  # a staked provider, with credits for the bond
    credits.approve(resolver, BOND, sender=whistleblower)
    tx = resolver.challenge(result_job, "result hash is a copy of job 1", sender=whistleblower)
    draws.process()
    assert tx.events.filter(resolver.Challenged)[0].whistleblower
    jurors = resolver.jurorsOf(result_job)
    assert lazy.address not in jurors
    cmp_before, crd_before = token.balanceOf(whistleblower), credits.balanceOf(whistleblower)
    vote_all(resolver, chain, result_job, jurors, verifiers, fault=True)
    customer_before, supply_before = token.balanceOf(customer), token.totalSupply()
    tx = resolver.resolve(result_job, sender=whistleblower)
    # The lazy verifier loses 10% of its 1,000 CMP; the jackpot is half of those 100 CMP capped at
    # the 4.8 CMP collateral, and the rest (95.2 CMP) is burned. The bond comes back. The
    # customer gets the collateral less the jury's 10%, as if it had challenged itself.
    assert token.balanceOf(whistleblower) == cmp_before + COLLATERAL
    assert credits.balanceOf(whistleblower) == crd_before + BOND
    assert registry.verifierOf(lazy).staked == to_wei(900)
    paid = tx.events.filter(resolver.JackpotPaid)[0]
    assert (paid.amount, paid.burned) == (COLLATERAL, to_wei(100) - COLLATERAL)
    assert token.balanceOf(customer) == customer_before + COLLATERAL - COLLATERAL // 10
    assert token.totalSupply() == supply_before - (to_wei(100) - COLLATERAL)


def test_a_free_challenge_that_fails_costs_nobody_anything(
    resolver, market, token, credits, chain, admin, result_job, customer, provider, verifiers, draws, registry
):
    resolver.setChallengeBond(0, sender=admin)
    customer_before = credits.balanceOf(customer)
    tx = resolver.challenge(result_job, "no bond needed", sender=customer)
    draws.process()
    assert tx.events.filter(resolver.Challenged)[0].bond == 0
    assert credits.balanceOf(customer) == customer_before
    jurors = resolver.jurorsOf(result_job)
    vote_all(resolver, chain, result_job, jurors, verifiers, fault=False)
    provider_before = credits.balanceOf(provider)
    resolver.resolve(result_job, sender=provider)
    assert credits.balanceOf(provider) == provider_before + crd("21.78")  # its pay, and no bond
    assert credits.balanceOf(customer) == customer_before + crd(2)  # the fee no verifier earned
    assert all(registry.verifierOf(v).staked == to_wei(1_000) for v in verifiers)  # nobody slashed
    assert market.statusOf(result_job) == SETTLED
    assert credits.balanceOf(resolver) == 0


def test_verifier_rejection_opens_a_dispute_backed_by_its_stake(
    resolver, market, token, chain, result_job, customer, provider, verifiers, draws
):
    assigned = draws.verifier(result_job)
    verifier = verifiers[assigned.verifier]
    tx = resolver.attest(result_job, False, sender=verifier)
    draws.process()
    assert tx.events.filter(resolver.Challenged)[0].challenger == verifier.address
    assert market.statusOf(result_job) == DISPUTED
    jurors = resolver.jurorsOf(result_job)
    assert verifier.address not in jurors
    before = token.balanceOf(provider)
    vote_all(resolver, chain, result_job, jurors, verifiers, fault=False)
    resolver.resolve(result_job, sender=customer)
    assert token.balanceOf(provider) == before + to_wei(100)  # the wrong rejection costs 10% of stake
    assert market.statusOf(result_job) == SETTLED


def test_an_upheld_verifier_rejection_pays_the_verifier_the_finders_share(
    resolver, market, token, credits, chain, result_job, customer, verifiers, draws, registry
):
    assigned = draws.verifier(result_job)
    verifier = verifiers[assigned.verifier]
    resolver.attest(result_job, False, sender=verifier)  # opens the dispute without a CRD bond
    draws.process()
    jurors = resolver.jurorsOf(result_job)
    cmp_before, crd_before = token.balanceOf(verifier), credits.balanceOf(verifier)
    customer_before = token.balanceOf(customer)
    vote_all(resolver, chain, result_job, jurors, verifiers, fault=True)
    resolver.resolve(result_job, sender=customer)
    jackpot, jury_cut = COLLATERAL * 2 // 10, COLLATERAL // 10
    assert token.balanceOf(verifier) == cmp_before + jackpot  # the finder's 20%
    # It posted no bond, so none comes back; its verdict was borne out: the job's verification
    # fee (5% of the 40 CRD lease value at the max price) is its pay for the work.
    assert credits.balanceOf(verifier) == crd_before + crd(2)
    assert registry.verifierOf(verifier).staked == to_wei(1_000)  # the verdict agrees with it
    assert token.balanceOf(customer) == customer_before + COLLATERAL - jackpot - jury_cut
    assert market.statusOf(result_job) == FAILED
    assert credits.balanceOf(resolver) == 0


def test_an_undecided_verifier_rejection_ends_by_default_costing_nobody_anything(
    resolver, market, token, credits, chain, result_job, customer, provider, verifiers, draws, registry
):
    assigned = draws.verifier(result_job)
    verifier = verifiers[assigned.verifier]
    resolver.attest(result_job, False, sender=verifier)
    draws.process()
    chain.pending_timestamp += 2 * DAY  # nobody votes
    resolver.resolve(result_job, sender=customer)  # to the arbiter, who does not decide either
    chain.pending_timestamp += 2 * DAY
    cmp_before, crd_before = token.balanceOf(verifier), credits.balanceOf(verifier)
    resolver.resolveByDefault(result_job, sender=customer)
    assert market.statusOf(result_job) == SETTLED
    assert registry.verifierOf(verifier).staked == to_wei(1_000)  # nothing decided against it
    assert (token.balanceOf(verifier), credits.balanceOf(verifier)) == (cmp_before, crd_before)
    assert credits.balanceOf(resolver) == 0


@pytest.mark.parametrize(
    ("result_ok", "fault"), [(False, False), (True, True)], ids=["wrong-rejection", "wrong-approval"]
)
def test_a_verifier_attesting_after_a_challenge_is_judged_by_the_verdict(
    resolver, market, token, chain, result_job, customer, provider, verifiers, result_ok, fault, draws, registry
):
    assigned = draws.verifier(result_job)
    resolver.challenge(result_job, "wrong output", sender=customer)
    draws.process()
    tx = resolver.attest(result_job, result_ok, sender=verifiers[assigned.verifier])
    assert not tx.events.filter(resolver.Challenged)  # the open dispute decides
    assert resolver.disputeOf(result_job).challenger == customer.address
    with ape.reverts(resolver.AlreadyAttested):  # it did its duty: not absent
        resolver.slashAbsentVerifier(result_job, sender=customer)
    jurors = resolver.jurorsOf(result_job)
    # The verdict contradicts its attestation: 10% of its 1,000 CMP, to the provider on a wrong
    # rejection; burned on a wrong approval (the customer's challenge came before the approval,
    # so it blew no whistle), where the customer gets the collateral less the jury's 10%.
    paid_to = customer if fault else provider
    before, supply = token.balanceOf(paid_to), token.totalSupply()
    vote_all(resolver, chain, result_job, jurors, verifiers, fault=fault)
    resolver.resolve(result_job, sender=customer)
    assert registry.verifierOf(assigned.verifier).staked == to_wei(900)
    if fault:
        assert token.balanceOf(paid_to) == before + COLLATERAL * 9 // 10
        assert token.totalSupply() == supply - to_wei(100)
    else:
        assert token.balanceOf(paid_to) == before + to_wei(100)


@pytest.mark.parametrize("challenger", ["customer", "sybil"])
def test_a_faulty_providers_sybil_challenger_gets_no_jackpot_and_the_customer_the_same(
    resolver,
    token,
    credits,
    chain,
    accounts,
    result_job,
    customer,
    verifiers,
    make_provider,
    make_customer,
    challenger,
    draws,
):
    """The faulty provider's second address (staked, so entitled to challenge) challenges its own
    fake result first. It gets its bond back and nothing more; the customer is paid the 4.8 CMP
    collateral less the jury's 10% (4.32 CMP), exactly as when it challenges itself. (Before:
    the sybil took a 20% jackpot, 0.96 CMP, out of the customer's compensation.)"""
    if challenger == "sybil":
        sybil = make_customer(make_provider(accounts[13], stake=to_wei(1)))
        credits.approve(resolver, BOND, sender=sybil)
    else:
        sybil = customer
    resolver.challenge(result_job, "the result is fake", sender=sybil)
    draws.process()
    cmp_before, crd_before = token.balanceOf(sybil), credits.balanceOf(sybil)
    customer_before = token.balanceOf(customer)
    vote_all(resolver, chain, result_job, resolver.jurorsOf(result_job), verifiers, fault=True)
    tx = resolver.resolve(result_job, sender=customer)
    assert not tx.events.filter(resolver.JackpotPaid)
    assert token.balanceOf(customer) == customer_before + COLLATERAL * 9 // 10 == customer_before + crd("4.32")
    if challenger == "sybil":
        assert token.balanceOf(sybil) == cmp_before
        assert credits.balanceOf(sybil) == crd_before + BOND


def test_an_attestation_after_the_verdict_reverts_and_the_verifier_is_excused(
    resolver, market, chain, admin, result_job, customer, verifiers, draws, registry
):
    """With 1-hour vote periods and a 20-hour attestation window, a dispute is decided while
    the verifier's window is still open: its late approval cannot earn a verifier unit or dodge
    the verdict (it reverts), and it is excused, not slashed as absent. (Before: the approval
    went through after the verdict and recorded verifier work.)"""
    resolver.setAttestWindow(20 * HOUR, sender=admin)
    resolver.setVoteCommitPeriod(HOUR, sender=admin)
    resolver.setVoteRevealPeriod(HOUR, sender=admin)
    assigned = draws.verifier(result_job)
    resolver.challenge(result_job, "wrong output", sender=customer)
    draws.process()
    jurors = list(dict.fromkeys(resolver.jurorsOf(result_job)))  # each juror once, whatever its seats
    for juror in jurors:
        commitment = resolver.voteCommitment(result_job, juror, True, b"salt")
        resolver.commitVote(result_job, commitment, sender=verifiers[juror])
    chain.pending_timestamp += HOUR
    for juror in jurors:
        resolver.revealVote(result_job, True, b"salt", sender=verifiers[juror])
    chain.pending_timestamp += HOUR
    tx = resolver.resolve(result_job, sender=customer)
    assert tx.events.filter(resolver.VerificationExcused)[0].verifier == assigned.verifier
    assert chain.pending_timestamp < assigned.deadline
    with ape.reverts(resolver.WrongDisputeStatus, jobId=result_job, status=RESOLVED):
        resolver.attest(result_job, True, sender=verifiers[assigned.verifier])
    chain.pending_timestamp = assigned.deadline + 1
    with ape.reverts(resolver.AlreadyAttested):
        resolver.slashAbsentVerifier(result_job, sender=customer)
    assert registry.verifierOf(assigned.verifier).staked == to_wei(1_000)


def test_only_the_customer_or_staked_parties_challenge(resolver, result_job, stranger, provider):
    with ape.reverts(resolver.NotEntitledToChallenge, caller=stranger.address):
        resolver.challenge(result_job, "x", sender=stranger)
    with ape.reverts(resolver.NotEntitledToChallenge, caller=provider.address):
        resolver.challenge(result_job, "x", sender=provider)


def test_a_challenge_after_the_window_reverts(resolver, market, chain, result_job, customer):
    chain.pending_timestamp += DAY
    with ape.reverts(market.ChallengeWindowClosed):
        resolver.challenge(result_job, "late", sender=customer)


def test_a_job_is_disputed_once(resolver, result_job, customer):
    resolver.challenge(result_job, "first", sender=customer)
    with ape.reverts(resolver.AlreadyDisputed):
        resolver.challenge(result_job, "second", sender=customer)


def test_a_jury_pool_the_majority_does_not_divide_burns_its_remainder(
    resolver, market, token, chain, customer, provider, verifiers, draws, fresh_price
):
    """Posted with CMP at 2.70 USD, the job's collateral is 12 CRD at 0.370370370370370370 CMP per
    CRD: 4.444444444444444440 CMP, and the jury's 10% is 0.444444444444444444 CMP. Five seats
    voting fault split it 0.088888888888888888 CMP a seat; the 4 wei left over are burned, so the
    resolver holds exactly the five shares."""
    fresh_price("2.70")
    job_id = market.postJob(job_spec(chain, verification=True), sender=customer).events[-1].jobId
    market.placeBid(job_id, crd("1.10"), sender=provider)
    chain.pending_timestamp += HOUR
    market.finalizeAuction(job_id, sender=customer)
    chain.pending_timestamp += 10 * HOUR
    market.submitResult(job_id, b"\x42" * 32, "ipfs://result", sender=provider)
    fresh_price("2.70")
    collateral = market.getJob(job_id).collateral
    assert collateral == 4_444_444_444_444_444_440
    resolver.challenge(job_id, "output does not match the spec", sender=customer)
    draws.process()
    jurors = resolver.jurorsOf(job_id)
    vote_all(resolver, chain, job_id, jurors, verifiers, fault=True)
    supply = token.totalSupply()
    tx = resolver.resolve(job_id, sender=customer)
    opened = tx.events.filter(resolver.JuryRewardsOpened)[0]
    assert (opened.majority, opened.tokenShare) == (5, 88_888_888_888_888_888)
    assert token.balanceOf(resolver) == 5 * 88_888_888_888_888_888  # 444,444,444,444,444,440 wei
    assert supply - token.totalSupply() == 4  # the remainder, burned
