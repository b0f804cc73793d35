"""DisputeResolver: jury voting (commit, reveal), absent jurors and penalties.

Setting: CMP at 2.50 USD; a verified job of 2 GPUs for 10 hours won at 1.10 CRD per GPU-hour
(lease value 22 CRD; collateral 30% of the 40 CRD lease value at the 2 CRD max price: 4.8 CMP);
nine verifiers with 1,000 CMP each; the challenge bond is 10 CRD; finder's share 20% and jury
reward 10% of a slashed collateral; a whistleblower's jackpot 50% of the contradicted verifier's
slash (at most the collateral, the rest burned); juror penalty 5%, verifier slash 10%.
"""

from __future__ import annotations

import ape
import pytest
from utils.dispute_resolver import COLLATERAL, vote_all
from utils.helpers import claim_jury_rewards

from compute_market.units import DAY, to_wei


def test_a_vote_cannot_be_revealed_with_the_wrong_salt(resolver, chain, result_job, customer, verifiers, draws):
    resolver.challenge(result_job, "x", sender=customer)
    draws.process()
    juror = verifiers[resolver.jurorsOf(result_job)[0]]
    resolver.commitVote(result_job, resolver.voteCommitment(result_job, juror, True, b"right"), sender=juror)
    with ape.reverts(resolver.VoteAlreadyCommitted):
        resolver.commitVote(result_job, b"\x01" * 32, sender=juror)
    with ape.reverts(resolver.RevealNotOpen):
        resolver.revealVote(result_job, True, b"right", sender=juror)
    chain.pending_timestamp += DAY
    with ape.reverts(resolver.CommitClosed):
        resolver.commitVote(result_job, b"\x01" * 32, sender=verifiers[resolver.jurorsOf(result_job)[1]])
    with ape.reverts(resolver.InvalidVoteReveal):
        resolver.revealVote(result_job, True, b"wrong", sender=juror)
    with ape.reverts(resolver.InvalidVoteReveal):
        resolver.revealVote(result_job, False, b"right", sender=juror)
    resolver.revealVote(result_job, True, b"right", sender=juror)
    with ape.reverts(resolver.NoVoteCommitted):  # a vote is revealed once
        resolver.revealVote(result_job, True, b"right", sender=juror)


def test_an_absent_juror_is_penalised_and_the_penalty_burned(
    resolver, token, chain, result_job, customer, verifiers, draws, registry
):
    """The absent juror loses 50 CMP (5% of 1,000), burned; the majority gets only the jury's 10%
    of the slashed collateral. (Before: the 50 CMP went to the majority, so a majority bought with
    stake, a captured jury, was paid by the honest minority it outvoted: the simulation's jury
    grinder earned most of its +9,839 USD a run this way.)"""
    resolver.challenge(result_job, "x", sender=customer)
    draws.process()
    jurors = resolver.jurorsOf(result_job)
    assert len(jurors) >= 3
    absent = jurors[0]
    majority = jurors[1:]
    before = {j: token.balanceOf(j) for j in majority}
    vote_all(resolver, chain, result_job, jurors, verifiers, fault=True, skip=1)
    supply = token.totalSupply()
    tx = resolver.resolve(result_job, sender=customer)
    assert tx.events.filter(resolver.JurorPenalized)[0].amount == to_wei(50)
    assert token.totalSupply() == supply - to_wei(50)  # burned
    assert registry.verifierOf(absent).staked == to_wei(950)
    assert resolver.juryRewardOf(result_job, absent) == (0, 0)
    with ape.reverts(resolver.NoJuryReward):  # the absent juror has no share
        resolver.claimJuryReward(result_job, sender=verifiers[absent])
    claim_jury_rewards(resolver, result_job, verifiers)
    gained = sum(token.balanceOf(j) - before[j] for j in majority)
    assert gained == COLLATERAL // 10  # the jury's share of the slash, nothing of the penalty


def test_a_captured_jury_takes_nothing_from_the_honest_minority(
    resolver, token, chain, result_job, customer, verifiers, draws, registry
):
    """The jury grinder's play: its identities hold 3 of the 5 seats and convict an honest
    provider; the 2 honest jurors vote no fault. Each loses 50 CMP (5% of 1,000), burned: the
    3 captured seats share only the jury's 10% of the 4.8 CMP collateral slash. (Before: they
    also shared the minority's 100 CMP, about 250 USD a captured jury at 2.50 USD.)"""
    resolver.challenge(result_job, "x", sender=customer)
    draws.process()
    jurors = resolver.jurorsOf(result_job)
    assert len(jurors) == 5
    captured, honest = jurors[:3], jurors[3:]
    for juror in jurors:
        fault = juror in captured
        vote = resolver.voteCommitment(result_job, juror, fault, b"salt")
        resolver.commitVote(result_job, vote, sender=verifiers[juror])
    chain.pending_timestamp += DAY
    for juror in jurors:
        resolver.revealVote(result_job, juror in captured, b"salt", sender=verifiers[juror])
    chain.pending_timestamp += DAY
    before = {j: token.balanceOf(j) for j in captured}
    supply = token.totalSupply()
    tx = resolver.resolve(result_job, sender=customer)
    assert resolver.disputeOf(result_job).providerFault
    assert [e.amount for e in tx.events.filter(resolver.JurorPenalized)] == [to_wei(50)] * 2
    assert all(registry.verifierOf(j).staked == to_wei(950) for j in honest)
    assert token.totalSupply() <= supply - 2 * to_wei(50)  # the penalties burned (with the slash's remainder)
    claim_jury_rewards(resolver, result_job, verifiers)
    gained = sum(token.balanceOf(j) - before[j] for j in captured)
    assert gained == COLLATERAL // 10 // 3 * 3  # equal shares of the jury's cut, rounded down


@pytest.mark.parametrize(
    ("extra_stake", "seat", "penalty", "left"),
    [
        (4_000, 1_000, 50, 4_950),  # a large juror loses a seat's 50 CMP, not 5% of its 5,000 (250)
        (0, 600, 30, 970),  # a smaller seat: 5% of 600 CMP, whatever the juror's 1,000
    ],
)
def test_a_jurors_penalty_is_on_its_seat_not_its_whole_stake(
    resolver, token, chain, admin, result_job, customer, verifiers, draws, registry, extra_stake, seat, penalty, left
):
    """Every verifier stakes `extra_stake` more (each holds 1,000 CMP) and a seat puts `seat` CMP at
    risk (`seatStake`); the absent juror loses 5% of the seat, whatever its own stake. Seats are
    drawn by stake, so a penalty on the whole stake made a large verifier's exposure grow with the
    square of its stake: ten 500 CMP identities risked a tenth per seat of what one 5,000 CMP
    verifier did (the simulation's sybil farm, +1,514 USD a run beside a jury grinder)."""
    resolver.setSeatStake(to_wei(seat), sender=admin)
    for account in verifiers.values():
        if extra_stake:
            token.transfer(account, to_wei(extra_stake), sender=admin)
            registry.stakeAsVerifier(to_wei(extra_stake), sender=account)
    resolver.challenge(result_job, "x", sender=customer)
    draws.process()
    jurors = resolver.jurorsOf(result_job)
    vote_all(resolver, chain, result_job, jurors, verifiers, fault=True, skip=1)
    tx = resolver.resolve(result_job, sender=customer)
    assert [(e.juror, e.amount) for e in tx.events.filter(resolver.JurorPenalized)] == [(jurors[0], to_wei(penalty))]
    assert registry.verifierOf(jurors[0]).staked == to_wei(left)
