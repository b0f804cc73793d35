"""DisputeResolver and the ledger: every draw puts one seat's stake at risk, whatever the verifier's
own stake, and no verifier holds less active stake than a seat can cost.

Setting: the module's verified job (2 GPUs for 10 hours at 1.10 CRD per GPU-hour), nine
verifiers with 1,000 CMP each; `seatStake` 1,000 CMP (the ledger's `MIN_VERIFIER_STAKE`); absence
penalty 5% and verifier slash 10% of the seat (50 and 100 CMP).

Before this rule a verifier lost a share of its whole stake while draws are by stake: a verifier
of 5,000 CMP lost 250 CMP when absent and 500 CMP when a verdict contradicted it, five identities
of 1,000 CMP each lost a fifth of that per draw for the same number of draws, so splitting paid
(the simulation's sybil farm, +129.89 USD a run beside a jury grinder).
"""

from __future__ import annotations

import ape
import pytest
from utils.dispute_resolver import vote_all

from compute_market.units import DAY, HOUR, to_wei

MINIMUM = to_wei(1_000)


def _top_up(token, registry, admin, account, extra: int) -> None:
    if extra:
        token.transfer(account, extra, sender=admin)
        registry.stakeAsVerifier(extra, sender=account)


@pytest.mark.parametrize("extra", [0, to_wei(4_000)], ids=["1,000-CMP", "5,000-CMP"])
def test_an_absent_verifier_loses_a_seats_share_whatever_its_stake(
    resolver, registry, token, chain, admin, result_job, customer, verifiers, draws, extra
):
    """The drawn verifier holds 1,000 or 5,000 CMP and never attests: either loses 50 CMP (5% of
    the 1,000 CMP seat) to the customer; 5% of the larger stake would be 250."""
    assigned = draws.verifier(result_job)
    account = verifiers[assigned.verifier]
    _top_up(token, registry, admin, account, extra)
    chain.pending_timestamp = assigned.deadline + 1
    before = token.balanceOf(customer)
    tx = resolver.slashAbsentVerifier(result_job, sender=customer)
    assert tx.events.filter(resolver.VerifierAbsent)[0].penalty == to_wei(50)
    assert token.balanceOf(customer) == before + to_wei(50)
    assert registry.verifierOf(account).staked == MINIMUM + extra - to_wei(50)


@pytest.mark.parametrize("extra", [0, to_wei(4_000)], ids=["1,000-CMP", "5,000-CMP"])
def test_a_contradicted_verifier_loses_a_seats_share_whatever_its_stake(
    resolver, registry, token, chain, admin, result_job, customer, provider, verifiers, draws, extra
):
    """The drawn verifier (1,000 or 5,000 CMP) rejects a good result and the jury finds no fault:
    either pays the provider 100 CMP (10% of the seat); 10% of 5,000 would be 500."""
    account = verifiers[draws.verifier(result_job).verifier]
    _top_up(token, registry, admin, account, extra)
    resolver.attest(result_job, False, sender=account)
    draws.process()
    before = token.balanceOf(provider)
    vote_all(resolver, chain, result_job, resolver.jurorsOf(result_job), verifiers, fault=False)
    resolver.resolve(result_job, sender=customer)
    assert token.balanceOf(provider) == before + to_wei(100)
    assert registry.verifierOf(account).staked == MINIMUM + extra - to_wei(100)


def test_a_seat_never_costs_more_than_the_least_stake_a_verifier_holds(resolver, registry, admin):
    """`seatStake` is bounded by the ledger's `MIN_VERIFIER_STAKE`: a seat of 1,000 CMP + 1 wei is
    refused, naming the bound, so no identity at the minimum can lose less than a whole seat's
    share (a penalty is at most 100% of the seat)."""
    assert registry.MIN_VERIFIER_STAKE() == MINIMUM
    assert resolver.seatStake() == MINIMUM
    with ape.reverts(resolver.ParameterOutOfBounds, value=MINIMUM + 1, min=to_wei(1), max=MINIMUM):
        resolver.setSeatStake(MINIMUM + 1, sender=admin)


def test_a_verifier_holds_no_active_stake_or_at_least_the_minimum(registry, token, admin, accounts, chain):
    """Registered with nothing: staking 999 CMP is refused, 1,000 accepted; asking 1 CMP out
    (leaving 999 active) is refused, all of it accepted; staking 500 back while the 1,000 unbond
    is refused (the unbonding stake is not active), 1,000 accepted."""
    verifier = accounts[33]
    token.transfer(verifier, to_wei(3_000), sender=admin)
    token.approve(registry, 2**256 - 1, sender=verifier)
    registry.registerVerifier(sender=verifier)
    with ape.reverts(registry.VerifierStakeBelowMinimum, active=to_wei(999), minimum=MINIMUM):
        registry.stakeAsVerifier(to_wei(999), sender=verifier)
    registry.stakeAsVerifier(MINIMUM, sender=verifier)
    with ape.reverts(registry.VerifierStakeBelowMinimum, active=to_wei(999), minimum=MINIMUM):
        registry.requestVerifierUnstake(to_wei(1), sender=verifier)
    registry.requestVerifierUnstake(MINIMUM, sender=verifier)
    assert registry.activeStakeOf(verifier) == 0
    chain.pending_timestamp += HOUR
    with ape.reverts(registry.VerifierStakeBelowMinimum, active=to_wei(500), minimum=MINIMUM):
        registry.stakeAsVerifier(to_wei(500), sender=verifier)
    registry.stakeAsVerifier(MINIMUM, sender=verifier)
    assert (registry.activeStakeOf(verifier), registry.verifierOf(verifier).staked) == (MINIMUM, 2 * MINIMUM)


def test_a_stake_split_over_identities_expects_the_seats_it_would_hold_whole(
    registry, token, admin, accounts, verifiers
):
    """Seats are drawn with replacement: over 200 juries of 5 seats drawn among one verifier of
    5,000 CMP and five of 1,000 (the module's nine excluded), each side holds about half of the
    1,000 seats (binomial: 500 +- 16). Drawn as distinct identities (before), the 5,000 CMP
    verifier sat at most once a jury (at most 200 seats) and the five small ones took the rest:
    splitting a stake bought seats."""
    make = {accounts[30]: to_wei(5_000), **{accounts[i]: MINIMUM for i in range(31, 36)}}
    for account, stake in make.items():
        token.transfer(account, stake, sender=admin)
        token.approve(registry, stake, sender=account)
        registry.registerVerifier(sender=account)
        registry.stakeAsVerifier(stake, sender=account)
    excluded = list(verifiers)
    whole = split = 0
    for seed in range(200):
        seats = registry.drawVerifiers(seed, excluded, 5)
        assert len(seats) == 5
        whole += sum(1 for s in seats if s == accounts[30].address)
        split += sum(1 for s in seats if s in {a.address for a in list(make)[1:]})
    assert whole + split == 1_000
    assert 430 <= whole <= 570


def test_a_juror_holding_several_seats_votes_is_paid_and_penalised_once_per_seat(
    resolver, registry, token, chain, result_job, customer, verifiers, draws
):
    """Seven of the nine verifiers leave the draws, so the jury's 5 seats fall to the two left:
    one holds at least 3. It votes "fault" with one commitment and one reveal, and its vote
    counts once per seat (a majority alone); the other votes "no fault" on its seats. The
    majority juror claims one share of the jury's cut per seat; the minority juror loses 50 CMP
    (5% of a 1,000 CMP seat) per seat. Drawn as distinct identities (before), the jury had two
    seats, one vote each: a tie, to the arbiter."""
    staying = list(verifiers)[:2]
    for address in list(verifiers)[2:]:
        registry.requestVerifierUnstake(MINIMUM, sender=verifiers[address])
    resolver.challenge(result_job, "wrong output", sender=customer)
    draws.process()
    jurors = list(resolver.jurorsOf(result_job))
    assert len(jurors) == 5 and set(jurors) <= set(staying)
    seats = {a: jurors.count(a) for a in staying}
    major, minor = sorted(staying, key=lambda a: -seats[a])
    assert seats[major] >= 3
    votes = {major: True, minor: False}
    for juror in [a for a in staying if seats[a]]:
        digest = resolver.voteCommitment(result_job, juror, votes[juror], b"salt")
        resolver.commitVote(result_job, digest, sender=verifiers[juror])
    chain.pending_timestamp += DAY
    for juror in [a for a in staying if seats[a]]:
        resolver.revealVote(result_job, votes[juror], b"salt", sender=verifiers[juror])
    dispute = resolver.disputeOf(result_job)
    assert (dispute.votesFault, dispute.votesNoFault) == (seats[major], seats[minor])
    chain.pending_timestamp += DAY
    tx = resolver.resolve(result_job, sender=customer)
    assert tx.events.filter(resolver.DisputeResolved)[0].providerFault
    penalties = tx.events.filter(resolver.JurorPenalized)
    assert [(p.juror, p.amount) for p in penalties] == [(minor, to_wei(50))] * seats[minor]
    assert registry.verifierOf(minor).staked == MINIMUM - to_wei(50) * seats[minor]
    opened = tx.events.filter(resolver.JuryRewardsOpened)[0]
    assert opened.majority == seats[major]
    paid = resolver.claimJuryReward(result_job, sender=verifiers[major]).events.filter(resolver.JurorRewarded)[0]
    assert paid.tokens == opened.tokenShare * seats[major] > 0
    assert resolver.juryRewardOf(result_job, major) == (0, 0)
    with ape.reverts(resolver.NoJuryReward):
        resolver.claimJuryReward(result_job, sender=verifiers[major])
