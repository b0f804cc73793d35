"""DisputeResolver and ChainlinkVrfAdapter at their boundaries: the edge outcomes of guards, views
and payouts that the feature tests in this folder never reach.

Setting (as there): CMP at 2.50 USD; a verified job of 2 GPUs for 10 hours won at 1.10 CRD per
GPU-hour, its collateral 4.8 CMP; nine verifiers with 1,000 CMP each; a 5-seat jury; the
challenge bond is 10 CRD; verifier slash 10%, juror penalty 5% of a 1,000 CMP seat, jackpot 50%
of a contradicted verifier's slash; the ledger's unbonding period 7 days and the resolver's
slash delay 5 days (challenge 1 d + commit 1 d + reveal 1 d + appeal 2 d).
"""

from __future__ import annotations

from decimal import Decimal

import ape
import pytest
from utils.dispute_resolver import (
    BOND,
    COLLATERAL,
    DRAWING,
    RESOLVED,
    VOTING,
    challenge_and_draw_a_split_jury,
    process_draws,
    seats_of,
)

from compute_market.models import DisputeStatus
from compute_market.units import DAY, HOUR, to_wei

NONE = DisputeStatus.NONE
ZERO_ADDRESS = "0x" + "00" * 20
ZERO_BYTES32 = b"\x00" * 32


def draw_verifier(resolver, chain, registry, job_id, caller):
    """Requests and makes the verifier draw of `job_id`; its `VerifierAssigned` event."""
    resolver.requestVerifier(job_id, sender=caller)
    return process_draws(chain, registry, caller).events.filter(resolver.VerifierAssigned)[0]


def commit_all(resolver, job_id, jurors, by_address, fault: bool) -> None:
    """Each juror of `jurors` (listed once per seat) commits `fault` once."""
    for juror in dict.fromkeys(jurors):
        vote = resolver.voteCommitment(job_id, juror, fault, b"salt")
        resolver.commitVote(job_id, vote, sender=by_address[juror])


def reveal_all(resolver, job_id, jurors, by_address, fault: bool) -> None:
    """Each juror of `jurors` (listed once per seat) reveals `fault` once."""
    for juror in dict.fromkeys(jurors):
        resolver.revealVote(job_id, fault, b"salt", sender=by_address[juror])


@pytest.fixture
def whistleblow(
    resolver, chain, registry, accounts, make_provider, make_customer, credits, result_job, verifiers, customer
):
    """A call (made once the test has set its parameters): the drawn verifier approves the result
    job, a staked provider (account 12) blows the whistle and the whole jury votes fault; returns
    (lazy verifier, whistleblower), the vote ready to resolve."""

    def blow():
        lazy = verifiers[draw_verifier(resolver, chain, registry, result_job, customer).verifier]
        resolver.attest(result_job, True, sender=lazy)
        whistleblower = make_customer(make_provider(accounts[12]))
        credits.approve(resolver, BOND, sender=whistleblower)
        tx = resolver.challenge(result_job, "the result is a copy", sender=whistleblower)
        assert tx.events.filter(resolver.Challenged)[0].whistleblower
        process_draws(chain, registry, whistleblower)
        jurors = resolver.jurorsOf(result_job)
        commit_all(resolver, result_job, jurors, verifiers, True)
        chain.pending_timestamp += DAY
        reveal_all(resolver, result_job, jurors, verifiers, True)
        chain.pending_timestamp += DAY
        return lazy, whistleblower

    return blow


# ---------------------------------------------------------------------------- attestation


def test_an_approval_without_gas_for_the_report_reverts(resolver, chain, registry, result_job, customer, verifiers):
    """An approval keeps REPORT_GAS (100,000) for the distributor's record: sent with a 100,000
    gas limit, less than 100,000 is left at the check and it reverts `GasTooLowForReport` with
    `needed` 100,000 (nothing is attested); with the gas estimated it goes through."""
    assigned = draw_verifier(resolver, chain, registry, result_job, customer)
    verifier = verifiers[assigned.verifier]
    with ape.reverts(resolver.GasTooLowForReport, needed=100_000):
        resolver.attest(result_job, True, sender=verifier, gas=100_000)
    assert resolver.verificationOf(result_job).attestation == 0  # still None
    tx = resolver.attest(result_job, True, sender=verifier)
    assert [log["resultOk"] for log in tx.events.filter(resolver.Attested)] == [True]


# ---------------------------------------------------------------------------- dispute status guards


def test_resolve_by_default_only_ends_a_dispute_awaiting_the_arbiter(
    resolver, chain, registry, result_job, customer, verifiers
):
    """`resolveByDefault` ends only an `AwaitingArbiter` dispute: while the jury votes (status 1),
    even once its appeal end (zero, never set) is long past, and after a verdict (status 3) it
    reverts `WrongDisputeStatus` with the dispute's status."""
    resolver.challenge(result_job, "x", sender=customer)
    process_draws(chain, registry, customer)
    with ape.reverts(resolver.WrongDisputeStatus, jobId=result_job, status=VOTING):
        resolver.resolveByDefault(result_job, sender=customer)
    jurors = resolver.jurorsOf(result_job)
    commit_all(resolver, result_job, jurors, verifiers, False)
    chain.pending_timestamp += DAY
    reveal_all(resolver, result_job, jurors, verifiers, False)
    chain.pending_timestamp += DAY
    resolver.resolve(result_job, sender=customer)
    with ape.reverts(resolver.WrongDisputeStatus, jobId=result_job, status=RESOLVED):
        resolver.resolveByDefault(result_job, sender=customer)
    with ape.reverts(resolver.WrongDisputeStatus, jobId=result_job + 1, status=NONE):
        resolver.resolveByDefault(result_job + 1, sender=customer)


# ---------------------------------------------------------------------------- views


def test_vote_of_an_account_off_the_jury_is_all_zero(resolver, chain, registry, result_job, customer, verifiers):
    """Of the nine verifiers at most five hold the jury's five seats; the first juror commits. `voteOf` shows its
    commitment, and an all-zero vote for a staked verifier off the jury (it has a ledger slot,
    found nowhere in the jury) and for the customer (no slot), not juror 0's commitment."""
    resolver.challenge(result_job, "x", sender=customer)
    process_draws(chain, registry, customer)
    jurors = resolver.jurorsOf(result_job)
    assert len(jurors) == 5
    commitment = resolver.voteCommitment(result_job, jurors[0], True, b"salt")
    resolver.commitVote(result_job, commitment, sender=verifiers[jurors[0]])
    assert resolver.voteOf(result_job, jurors[0]).commitment == commitment
    outsider = next(v for v in verifiers if v not in jurors)
    assert registry.verifierSlotOf(outsider) != 0
    empty = (ZERO_BYTES32, False, False, False)
    for account in (outsider, customer.address):
        vote = resolver.voteOf(result_job, account)
        assert (vote.commitment, vote.revealed, vote.providerFault, vote.claimed) == empty


def test_a_dispute_without_a_jury_finds_no_juror(resolver, chain, registry, result_job, customer, verifiers):
    """Before its jury is drawn (status `Drawing`, 0 jurors) and on a job never disputed, no
    account is a juror: `voteOf` is all zero and `jurorsOf` empty even for a staked verifier;
    once the 5 jurors are drawn, the same verifiers are found in it."""
    resolver.challenge(result_job, "x", sender=customer)
    dispute = resolver.disputeOf(result_job)
    assert (dispute.status, dispute.jurorCount) == (DRAWING, 0)
    empty = (ZERO_BYTES32, False, False, False)
    for job_id in (result_job, result_job + 1):
        assert resolver.jurorsOf(job_id) == []
        for verifier in verifiers:
            vote = resolver.voteOf(job_id, verifier)
            assert (vote.commitment, vote.revealed, vote.providerFault, vote.claimed) == empty
    process_draws(chain, registry, customer)
    jurors = resolver.jurorsOf(result_job)
    commit_all(resolver, result_job, jurors, verifiers, True)
    assert all(resolver.voteOf(result_job, j).commitment != ZERO_BYTES32 for j in jurors)


def test_no_jury_reward_before_the_jurys_verdict(resolver, chain, registry, result_job, customer, verifiers):
    """`juryRewardOf` is (0, 0) while the jury still votes, though every juror revealed fault, and
    claiming reverts `NoJuryReward`; once its verdict is in, each majority juror sees its shares:
    the jury's 10% of the 4.8 CMP collateral over 5 seats, 0.096 CMP a seat."""
    resolver.challenge(result_job, "x", sender=customer)
    process_draws(chain, registry, customer)
    jurors = resolver.jurorsOf(result_job)
    commit_all(resolver, result_job, jurors, verifiers, True)
    chain.pending_timestamp += DAY
    reveal_all(resolver, result_job, jurors, verifiers, True)
    assert resolver.disputeOf(result_job).status == VOTING
    assert all(resolver.juryRewardOf(result_job, j) == (0, 0) for j in jurors)
    with ape.reverts(resolver.NoJuryReward):
        resolver.claimJuryReward(result_job, sender=verifiers[jurors[0]])
    chain.pending_timestamp += DAY
    resolver.resolve(result_job, sender=customer)
    assert all(
        resolver.juryRewardOf(result_job, j) == (COLLATERAL // 10 // 5 * n, 0) for j, n in seats_of(jurors).items()
    )


def test_no_jury_reward_when_the_arbiter_decides(resolver, chain, registry, admin, result_job, customer, verifiers):
    """Only the juror holding the fewest of the five seats (one or two: nine verifiers share
    them) reveals fault: below the quorum of 3 seats, the arbiter decides fault. The dispute is
    resolved but not by the jury: the revealed juror's `juryRewardOf` is (0, 0) and claiming
    reverts `NoJuryReward`."""
    seats = challenge_and_draw_a_split_jury(resolver, chain, registry, result_job, customer)
    voter = min(seats, key=seats.__getitem__)
    assert seats[voter] <= 2
    commit_all(resolver, result_job, [voter], verifiers, True)
    chain.pending_timestamp += DAY
    reveal_all(resolver, result_job, [voter], verifiers, True)
    chain.pending_timestamp += DAY
    resolver.resolve(result_job, sender=customer)
    resolver.arbitrate(result_job, True, sender=admin)
    dispute = resolver.disputeOf(result_job)
    assert (dispute.status, dispute.byJury, dispute.providerFault) == (RESOLVED, False, True)
    assert resolver.juryRewardOf(result_job, voter) == (0, 0)
    with ape.reverts(resolver.NoJuryReward):
        resolver.claimJuryReward(result_job, sender=verifiers[voter])


# ---------------------------------------------------------------------------- governance bounds


def test_the_attestation_window_is_capped_at_a_day_under_a_longer_challenge_window(resolver, market, admin):
    """Under a challenge window above 1 day (here 2 days) the attestation window's bound is its
    own 1-day ceiling, not the challenge window less 1 s: 1 day + 1 s reverts with max 86,400
    and 1 day is accepted."""
    market.setChallengeWindow(2 * DAY, sender=admin)
    with ape.reverts(resolver.ParameterOutOfBounds, value=DAY + 1, min=600, max=DAY):
        resolver.setAttestWindow(DAY + 1, sender=admin)
    resolver.setAttestWindow(DAY, sender=admin)
    assert resolver.attestWindow() == DAY


def test_a_long_unbonding_period_leaves_the_vote_periods_at_their_own_caps(resolver, registry, admin):
    """With a 60-day unbonding period the room for the commit period (60 d - 4 d - 1 s) exceeds
    its 7-day cap, and the appeal window's (60 d - 3 d - 1 s) its 30-day cap: the caps bind,
    7 days + 1 s and 30 days + 1 s revert with max 7 and 30 days, 7 and 30 days are accepted."""
    registry.setUnbondingPeriod(60 * DAY, sender=admin)
    with ape.reverts(resolver.ParameterOutOfBounds, max=7 * DAY):
        resolver.setVoteCommitPeriod(7 * DAY + 1, sender=admin)
    resolver.setVoteCommitPeriod(7 * DAY, sender=admin)
    with ape.reverts(resolver.ParameterOutOfBounds, max=30 * DAY):
        resolver.setAppealWindow(30 * DAY + 1, sender=admin)
    resolver.setAppealWindow(30 * DAY, sender=admin)
    assert (resolver.voteCommitPeriod(), resolver.appealWindow()) == (7 * DAY, 30 * DAY)


def test_a_resolver_the_ledger_left_has_no_room_for_its_periods(
    project, resolver, market, registry, token, credits, rewards, admin
):
    """The ledger moves to a second resolver (commit, reveal and appeal 1 hour: slash delay
    1 day + 3 hours) and its unbonding period drops to that delay + 1 s (97,201 s). The old
    resolver's vote periods alone (4 days) now exceed the unbonding period: its room is 0, so
    `challengeWindowBounds` gives max 0 and every period setter reverts with max 0."""
    second = project.DisputeResolver.deploy(admin, token, credits, market, registry, rewards, sender=admin)
    for setter in ("setVoteCommitPeriod", "setVoteRevealPeriod", "setAppealWindow"):
        getattr(second, setter)(HOUR, sender=admin)
    assert second.slashDelay() == DAY + 3 * HOUR
    registry.setResolver(second, sender=admin)
    registry.setUnbondingPeriod(DAY + 3 * HOUR + 1, sender=admin)
    assert resolver.challengeWindowBounds() == (6 * HOUR + 1, 0)
    with ape.reverts(resolver.ParameterOutOfBounds, min=HOUR, max=0):
        resolver.setVoteCommitPeriod(HOUR, sender=admin)
    with ape.reverts(resolver.ParameterOutOfBounds, min=HOUR, max=0):
        resolver.setAppealWindow(HOUR, sender=admin)


# ---------------------------------------------------------------------------- payouts


def test_a_zero_jackpot_burns_the_whole_slash(resolver, registry, token, credits, admin, result_job, whistleblow):
    """With `jackpotBps` 0 the whistleblower's jackpot is 0: the lazy verifier's 100 CMP slash
    (10% of 1,000) is burned whole, the whistleblower gets no CMP, only its 10 CRD bond back."""
    resolver.setShares(0, 1_000, 2_000, sender=admin)
    lazy, whistleblower = whistleblow()
    cmp_before, crd_before = token.balanceOf(whistleblower), credits.balanceOf(whistleblower)
    supply = token.totalSupply()
    tx = resolver.resolve(result_job, sender=whistleblower)
    paid = tx.events.filter(resolver.JackpotPaid)[0]
    assert (paid.whistleblower, paid.amount, paid.burned) == (whistleblower.address, 0, to_wei(100))
    assert token.balanceOf(whistleblower) == cmp_before
    assert credits.balanceOf(whistleblower) == crd_before + BOND
    assert token.totalSupply() == supply - to_wei(100)
    assert registry.verifierOf(lazy).staked == to_wei(900)
    assert token.balanceOf(resolver) == COLLATERAL // 10  # only the jurors' unclaimed shares


def test_a_jackpot_equal_to_the_slash_burns_nothing(resolver, registry, token, credits, admin, result_job, whistleblow):
    """With `verifierSlashBps` 1 (0.01%) and `jackpotBps` 10,000 the lazy verifier loses 0.1 CMP
    of its 1,000 and all of it, below the 4.8 CMP collateral, is the whistleblower's jackpot:
    nothing is burned and the CMP supply is unchanged by the verdict."""
    resolver.setVerifierSlashBps(1, sender=admin)
    resolver.setShares(10_000, 1_000, 2_000, sender=admin)
    lazy, whistleblower = whistleblow()
    cmp_before = token.balanceOf(whistleblower)
    supply = token.totalSupply()
    tx = resolver.resolve(result_job, sender=whistleblower)
    slash = to_wei(Decimal("0.1"))
    paid = tx.events.filter(resolver.JackpotPaid)[0]
    assert (paid.amount, paid.burned) == (slash, 0)
    assert token.balanceOf(whistleblower) == cmp_before + slash
    assert token.totalSupply() == supply
    assert registry.verifierOf(lazy).staked == to_wei(1_000) - slash


def test_a_juror_with_all_its_stake_unbonding_loses_the_same_seat_share(
    resolver, chain, registry, token, admin, result_job, customer, verifiers
):
    """A seat puts 600 CMP at risk; the jurors of the first two seats stay absent, the others
    vote fault (the arbiter decides fault where they hold fewer than 3 seats). The one still
    active and the one that moved all its 1,000 CMP to unbonding after the draw lose the same
    5% of the seat per seat, 30 CMP each (the second out of its unbonding stake), burned."""
    resolver.setSeatStake(to_wei(600), sender=admin)
    seats = challenge_and_draw_a_split_jury(resolver, chain, registry, result_job, customer)
    assert len(seats) >= 2
    leaving, absent, *voters = seats
    registry.requestVerifierUnstake(to_wei(1_000), sender=verifiers[leaving])
    assert registry.activeStakeOf(leaving) == 0
    commit_all(resolver, result_job, voters, verifiers, True)
    chain.pending_timestamp += DAY
    reveal_all(resolver, result_job, voters, verifiers, True)
    chain.pending_timestamp += DAY
    supply = token.totalSupply()
    tx = resolver.resolve(result_job, sender=customer)
    if not tx.events.filter(resolver.DisputeResolved):  # fewer than 3 seats voted: the arbiter
        tx = resolver.arbitrate(result_job, True, sender=admin)
    penalties = [(e.juror, e.amount) for e in tx.events.filter(resolver.JurorPenalized)]
    assert sorted(penalties) == sorted(
        [(leaving, to_wei(30))] * seats[leaving] + [(absent, to_wei(30))] * seats[absent]
    )
    state = registry.verifierOf(leaving)
    lost = to_wei(30) * seats[leaving]
    assert (state.staked, state.unbonding) == (to_wei(1_000) - lost, to_wei(1_000) - lost)
    assert registry.verifierOf(absent).staked == to_wei(1_000) - to_wei(30) * seats[absent]
    assert token.totalSupply() == supply - to_wei(30) * (seats[leaving] + seats[absent])


# ---------------------------------------------------------------------------- VRF adapter


def test_the_vrf_adapter_refuses_a_zero_coordinator_or_consumer(project, admin, registry):
    """The adapter's coordinator and consumer are immutable: either one zero reverts
    `ZeroAddress` at deployment; both set, it deploys with them."""
    coordinator = project.MockVrfCoordinator.deploy(sender=admin)
    args = (b"\x01" * 32, 7, 3, 200_000)
    with ape.reverts(project.ChainlinkVrfAdapter.ZeroAddress):
        project.ChainlinkVrfAdapter.deploy(ZERO_ADDRESS, registry, *args, sender=admin)
    with ape.reverts(project.ChainlinkVrfAdapter.ZeroAddress):
        project.ChainlinkVrfAdapter.deploy(coordinator, ZERO_ADDRESS, *args, sender=admin)
    adapter = project.ChainlinkVrfAdapter.deploy(coordinator, registry, *args, sender=admin)
    assert (adapter.coordinator(), adapter.consumer()) == (coordinator.address, registry.address)
