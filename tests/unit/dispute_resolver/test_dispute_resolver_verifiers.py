"""DisputeResolver: verifier stake and draws, and absent verifiers.

Setting: CMP at 2.50 USD; a verified job of 2 GPUs for 10 hours won at 1.10 CRD per GPU-hour
(lease value 22 CRD; collateral 30% of the 40 CRD lease value at the 2 CRD max price: 4.8 CMP);
nine verifiers with 1,000 CMP each; the challenge bond is 10 CRD; finder's share 20% and jury
reward 10% of a slashed collateral; a whistleblower's jackpot 50% of the contradicted verifier's
slash (at most the collateral, the rest burned); juror penalty 5%, verifier slash 10%.
"""

from __future__ import annotations

import ape
from utils.dispute_resolver import DISPUTED, crd
from utils.helpers import job_spec

from compute_market.units import HOUR, to_wei

ZERO_ADDRESS = "0x" + "00" * 20


def test_verifier_stake_unbonds_and_leaves_the_draw(resolver, token, chain, accounts, make_verifier, registry):
    """A verifier with 1,500 CMP (not one of the module's nine) unstakes 500: the 1,000 left active
    meets the ledger's minimum; the unbonded 500 comes out after the unbonding period."""
    v = make_verifier(accounts[29], stake=to_wei(1_500))
    assert registry.totalActiveStake() == to_wei(1_500)
    with ape.reverts(registry.ZeroAmount):
        registry.stakeAsVerifier(0, sender=v)
    with ape.reverts(registry.ZeroAmount):
        registry.requestVerifierUnstake(0, sender=v)
    with ape.reverts(registry.NothingToWithdraw):
        registry.withdrawVerifierStake(sender=v)
    with ape.reverts(registry.AlreadyVerifier):
        registry.registerVerifier(sender=v)
    with ape.reverts(registry.NotEnoughActiveStake, have=to_wei(1_500), need=to_wei(1_501)):
        registry.requestVerifierUnstake(to_wei(1_501), sender=v)
    tx = registry.requestVerifierUnstake(to_wei(500), sender=v)
    end = tx.events.filter(registry.VerifierUnstakeRequested)[0].unbondingEnd
    assert registry.totalActiveStake() == to_wei(1_000)
    with ape.reverts(registry.UnbondingNotOver):
        registry.withdrawVerifierStake(sender=v)
    chain.pending_timestamp = end
    before = token.balanceOf(v)
    registry.withdrawVerifierStake(sender=v)
    assert token.balanceOf(v) == before + to_wei(500)
    assert registry.verifierOf(v).staked == to_wei(1_000)
    with ape.reverts(registry.NotVerifier):
        registry.stakeAsVerifier(1, sender=accounts[30])


def test_verifier_is_drawn_by_stake_and_never_a_party(
    resolver, market, chain, result_job, customer, provider, verifiers, make_verifier, draws
):
    # The customer and the provider also stake as verifiers, heavily: they must never be drawn.
    make_verifier(customer, stake=to_wei(100_000))
    make_verifier(provider, stake=to_wei(100_000))
    verifier = draws.verifier(result_job).verifier
    assert verifier in verifiers
    with ape.reverts(resolver.VerifierAlreadyAssigned):
        resolver.requestVerifier(result_job, sender=customer)


def test_a_verifier_is_drawn_only_while_its_whole_window_fits_in_the_challenge_window(
    resolver, market, chain, result_job, customer, verifiers, draws
):
    """Asked once the window no longer fits: refused. Asked in time but drawn too late (the draw
    is made from a later block): the verification lapses, nobody is assigned. Drawn in time: a
    rejection at the last second of its window still opens the dispute."""
    challenge_end = market.jobParties(result_job).challengeEnd
    window = resolver.attestWindow()
    before = chain.snapshot()
    chain.pending_timestamp = challenge_end - window  # its deadline would be the window's close
    with ape.reverts(resolver.VerificationTooLate, jobId=result_job, challengeEnd=challenge_end):
        resolver.requestVerifier(result_job, sender=customer)
    chain.restore(before)  # back to before that second, to ask two minutes earlier
    chain.pending_timestamp = challenge_end - window - 120
    resolver.requestVerifier(result_job, sender=customer)
    in_time = chain.snapshot()
    chain.pending_timestamp = challenge_end - window
    tx = draws.process()
    assert tx.events.filter(resolver.VerificationLapsed)[0].jobId == result_job
    assert resolver.verificationOf(result_job).verifier == ZERO_ADDRESS
    chain.restore(in_time)
    assigned = draws.process().events.filter(resolver.VerifierAssigned)[0]
    assert assigned.deadline < challenge_end
    chain.pending_timestamp = assigned.deadline
    resolver.attest(result_job, False, sender=verifiers[assigned.verifier])
    assert market.statusOf(result_job) == DISPUTED


def test_verification_is_only_for_jobs_that_asked(resolver, market, chain, customer, provider, verifiers):
    tx = market.postJob(job_spec(chain, verification=False), sender=customer)
    job_id = tx.events.filter(market.JobPosted)[0].jobId
    with ape.reverts(resolver.VerificationNotRequested, jobId=job_id):
        resolver.requestVerifier(job_id, sender=customer)


def test_absent_verifier_is_slashed_to_the_customer(
    resolver, token, chain, result_job, customer, verifiers, draws, registry
):
    verifier = draws.verifier(result_job)
    with ape.reverts(resolver.AttestationStillOpen):
        resolver.slashAbsentVerifier(result_job, sender=customer)
    chain.pending_timestamp += 6 * HOUR + 1
    before = token.balanceOf(customer)
    tx = resolver.slashAbsentVerifier(result_job, sender=customer)
    assert tx.events.filter(resolver.VerifierAbsent)[0].penalty == to_wei(50)  # 5% of 1,000
    assert token.balanceOf(customer) == before + to_wei(50)
    assert registry.verifierOf(verifier.verifier).staked == to_wei(950)
    assert registry.activeStakeOf(verifier.verifier) == to_wei(950)  # its stake rewards follow the slash
    with ape.reverts(resolver.AlreadyAttested):  # its verification ended as absent
        resolver.attest(result_job, True, sender=verifiers[verifier.verifier])
    with ape.reverts(resolver.AlreadyAttested):  # and cannot be slashed twice
        resolver.slashAbsentVerifier(result_job, sender=customer)
    with ape.reverts(resolver.VerificationNotRequested):
        resolver.slashAbsentVerifier(result_job + 1, sender=customer)


def test_an_absent_verifier_who_started_unbonding_is_slashed_from_the_unbonding_stake(
    resolver, token, chain, result_job, customer, verifiers, draws, registry
):
    """The drawn verifier asks all its 1,000 CMP out before its deadline (it cannot leave less
    than the 1,000 CMP minimum active: 980 of it is refused); the absence penalty, 5% of the
    1,000 CMP seat, comes out of the unbonding stake: 950 left, all of it unbonding."""
    verifier = draws.verifier(result_job)
    account = verifiers[verifier.verifier]
    with ape.reverts(registry.VerifierStakeBelowMinimum, active=to_wei(20), minimum=to_wei(1_000)):
        registry.requestVerifierUnstake(to_wei(980), sender=account)
    registry.requestVerifierUnstake(to_wei(1_000), sender=account)  # runs for the exit before the slash
    chain.pending_timestamp += 6 * HOUR + 1
    before = token.balanceOf(customer)
    tx = resolver.slashAbsentVerifier(result_job, sender=customer)
    assert tx.events.filter(resolver.VerifierAbsent)[0].penalty == to_wei(50)  # 5% of the 1,000 CMP seat
    assert token.balanceOf(customer) == before + to_wei(50)
    state = registry.verifierOf(account)
    assert (state.staked, state.unbonding) == (to_wei(950), to_wei(950))
    assert registry.activeStakeOf(account) == 0
    assert registry.totalActiveStake() == to_wei(8_000)  # the other eight verifiers
    chain.pending_timestamp = state.unbondingEnd
    before, ledger_before = token.balanceOf(account), token.balanceOf(registry)
    registry.withdrawVerifierStake(sender=account)
    assert token.balanceOf(account) == before + to_wei(950)
    assert ledger_before - token.balanceOf(registry) == to_wei(950)  # out of the one staking ledger
    assert token.balanceOf(resolver) == 0  # which holds all stake: none here


def test_an_absent_verifiers_fee_goes_back_to_the_customer(
    resolver, market, credits, chain, result_job, customer, verifiers, draws
):
    """A verifier that never attests earns nothing (and is slashed): the 2 CRD fee is refunded."""
    assigned = draws.verifier(result_job)
    chain.pending_timestamp = market.getJob(result_job).challengeEnd
    before = credits.balanceOf(customer)
    tx = market.settleJob(result_job, sender=customer)
    assert not tx.events.filter(market.VerificationFeePaid)
    assert credits.balanceOf(customer) == before + crd(2)
    assert credits.balanceOf(assigned.verifier) == 0


def test_a_job_finds_no_verifier_when_all_stake_is_unbonding(
    resolver, result_job, customer, verifiers, draws, registry
):
    for verifier in verifiers.values():
        registry.requestVerifierUnstake(registry.activeStakeOf(verifier), sender=verifier)
    resolver.requestVerifier(result_job, sender=customer)
    assert draws.process().events.filter(resolver.VerificationLapsed)[0].jobId == result_job
    assert resolver.verificationOf(result_job).verifier == ZERO_ADDRESS
