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
from utils.dispute_resolver import COLLATERAL, challenge_and_draw_a_split_jury, seats_of, vote_all
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
    resolver, token, chain, result_job, customer, verifiers, registry
):
    """The absent juror (the one holding the fewest of the 5 seats: one or two) loses 50 CMP (5% of
    a 1,000 CMP seat) per seat, burned; the majority gets only the jury's 10% of the slashed
    collateral. (Before: the 50 CMP went to the majority, so a majority bought with
    stake, a captured jury, was paid by the honest minority it outvoted: the simulation's jury
    grinder earned most of its +9,839 USD a run this way.)"""
    seats = challenge_and_draw_a_split_jury(resolver, chain, registry, result_job, customer)
    absent = min(seats, key=seats.__getitem__)
    assert seats[absent] <= 2
    majority = [j for j in seats if j != absent]
    before = {j: token.balanceOf(j) for j in majority}
    vote_all(resolver, chain, result_job, [absent, *majority], verifiers, fault=True, skip=1)
    supply = token.totalSupply()
    tx = resolver.resolve(result_job, sender=customer)
    penalty = to_wei(50) * seats[absent]
    assert [(e.juror, e.amount) for e in tx.events.filter(resolver.JurorPenalized)] == [(absent, to_wei(50))] * seats[
        absent
    ]
    assert token.totalSupply() == supply - penalty  # burned
    assert registry.verifierOf(absent).staked == to_wei(1_000) - penalty
    assert resolver.juryRewardOf(result_job, absent) == (0, 0)
    with ape.reverts(resolver.NoJuryReward):  # the absent juror has no share
        resolver.claimJuryReward(result_job, sender=verifiers[absent])
    claim_jury_rewards(resolver, result_job, verifiers)
    gained = sum(token.balanceOf(j) - before[j] for j in majority)
    assert gained == COLLATERAL // 10  # the jury's share of the slash, nothing of the penalty


def test_a_captured_jury_takes_nothing_from_the_honest_minority(
    resolver, token, chain, result_job, customer, verifiers, draws, registry
):
    """The jury grinder's play: its identities hold at least 3 of the 5 seats (the first jurors
    drawn, until they do) and convict an honest provider; the honest jurors vote no fault on the
    other seats. Each honest seat loses 50 CMP (5% of 1,000), burned: the captured seats share
    only the jury's 10% of the 4.8 CMP collateral slash. (Before: they also shared the minority's
    100 CMP, about 250 USD a captured jury at 2.50 USD.)"""
    resolver.challenge(result_job, "x", sender=customer)
    draws.process()
    seats = seats_of(resolver.jurorsOf(result_job))
    jurors, captured = list(seats), []
    while sum(seats[j] for j in captured) < 3:
        captured.append(jurors[len(captured)])
    honest = jurors[len(captured) :]
    captured_seats, honest_seats = sum(seats[j] for j in captured), sum(seats[j] for j in honest)
    assert captured_seats + honest_seats == 5
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
    assert [e.amount for e in tx.events.filter(resolver.JurorPenalized)] == [to_wei(50)] * honest_seats
    assert all(registry.verifierOf(j).staked == to_wei(1_000) - to_wei(50) * seats[j] for j in honest)
    assert token.totalSupply() <= supply - honest_seats * to_wei(
        50
    )  # the penalties burned (with the slash's remainder)
    claim_jury_rewards(resolver, result_job, verifiers)
    gained = sum(token.balanceOf(j) - before[j] for j in captured)
    assert gained == COLLATERAL // 10 // captured_seats * captured_seats  # equal shares a seat, rounded down


@pytest.mark.parametrize(
    ("extra_stake", "seat", "penalty", "left"),
    [
        (4_000, 1_000, 50, 4_950),  # a large juror loses a seat's 50 CMP, not 5% of its 5,000 (250)
        (0, 600, 30, 970),  # a smaller seat: 5% of 600 CMP, whatever the juror's 1,000
    ],
)
def test_a_jurors_penalty_is_on_its_seat_not_its_whole_stake(
    resolver, token, chain, admin, result_job, customer, verifiers, registry, extra_stake, seat, penalty, left
):
    """Every verifier stakes `extra_stake` more (each holds 1,000 CMP) and a seat puts `seat` CMP at
    risk (`seatStake`); the absent juror loses 5% of the seat, whatever its own stake. Seats are
    drawn by stake, so a penalty on the whole stake made a large verifier's exposure grow with the
    square of its stake: ten 500 CMP identities risked a tenth per seat of what one 5,000 CMP
    verifier did (the simulation's sybil farm, +1,514 USD a run beside a jury grinder). The absent
    juror is the one holding the fewest seats (one or two); it loses the penalty per seat."""
    resolver.setSeatStake(to_wei(seat), sender=admin)
    for account in verifiers.values():
        if extra_stake:
            token.transfer(account, to_wei(extra_stake), sender=admin)
            registry.stakeAsVerifier(to_wei(extra_stake), sender=account)
    seats = challenge_and_draw_a_split_jury(resolver, chain, registry, result_job, customer)
    absent = min(seats, key=seats.__getitem__)
    assert seats[absent] <= 2
    vote_all(resolver, chain, result_job, [absent, *(j for j in seats if j != absent)], verifiers, fault=True, skip=1)
    tx = resolver.resolve(result_job, sender=customer)
    penalties = [(e.juror, e.amount) for e in tx.events.filter(resolver.JurorPenalized)]
    assert penalties == [(absent, to_wei(penalty))] * seats[absent]
    assert registry.verifierOf(absent).staked == to_wei(left) - to_wei(penalty) * (seats[absent] - 1)
