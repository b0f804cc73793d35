"""DisputeResolver: governance parameters.

Setting: CMP at 2.50 USD; a verified job of 2 GPUs for 10 hours won at 1.10 CRD per GPU-hour
(lease value 22 CRD; collateral 30% of the 40 CRD lease value at the 2 CRD max price: 4.8 CMP);
nine verifiers with 1,000 CMP each; the challenge bond is 10 CRD; finder's share 20% and jury
reward 10% of a slashed collateral; a whistleblower's jackpot 50% of the contradicted verifier's
slash (at most the collateral, the rest burned); juror penalty 5%, verifier slash 10%.
"""

from __future__ import annotations

import ape
import pytest
from utils.dispute_resolver import crd
from utils.helpers import assert_bounded_setter, job_spec

from compute_market.units import DAY, HOUR, to_wei


@pytest.mark.parametrize(
    ("setter", "bad", "lo", "hi"),
    [
        ("setChallengeBond", to_wei(1_000_001), 0, to_wei(1_000_000)),
        ("setJurySize", 10, 1, 9),
        ("setAttestWindow", 599, 600, DAY - 1),  # below the market's 1-day challenge window
        # The slash delay (challenge 1 d + commit 1 d + reveal 1 d + appeal 2 d) stays below the
        # ledger's 7-day unbonding period: each term's room is 7 days less the others, less 1 s.
        ("setVoteCommitPeriod", 3_599, 3_600, 3 * DAY - 1),
        ("setVoteRevealPeriod", 3_599, 3_600, 3 * DAY - 1),
        ("setAppealWindow", 3_599, 3_600, 4 * DAY - 1),
        ("setJurorPenaltyBps", 5_001, 0, 5_000),
        ("setSeatStake", to_wei(1_000) + 1, to_wei(1), to_wei(1_000)),  # at most the ledger's minimum verifier stake
        ("setAbsencePenaltyBps", 5_001, 0, 5_000),
        ("setVerifierSlashBps", 10_001, 0, 10_000),
    ],
)
def test_setters_check_bounds_and_roles(resolver, admin, stranger, setter, bad, lo, hi):
    assert_bounded_setter(resolver, setter, bad, lo, hi, hi, admin, stranger)


def test_the_attestation_window_stays_inside_the_challenge_window(resolver, market, admin):
    """v1 let governance set the resolver's `attestWindow` at or above the market's
    `challengeWindow`, after which every `requestVerifier` reverted: each setter now checks the
    other contract's window (bounds named in `ParameterOutOfBounds`)."""
    with ape.reverts(resolver.ParameterOutOfBounds, max=DAY - 1):
        resolver.setAttestWindow(DAY, sender=admin)  # the challenge window is 1 day
    with ape.reverts(market.ParameterOutOfBounds, min=6 * HOUR + 1):
        market.setChallengeWindow(6 * HOUR, sender=admin)  # the attestation window is 6 hours
    market.setChallengeWindow(6 * HOUR + 1, sender=admin)
    with ape.reverts(resolver.ParameterOutOfBounds, max=6 * HOUR):
        resolver.setAttestWindow(6 * HOUR + 1, sender=admin)
    resolver.setAttestWindow(HOUR, sender=admin)
    market.setChallengeWindow(HOUR + 1, sender=admin)


def test_a_job_posted_under_a_shorter_challenge_window_loses_its_verification_never_money(
    resolver, market, credits, chain, admin, customer, provider, verifiers
):
    """Each job keeps the challenge window it was posted with, while the attestation window's
    bound is checked against the market's current one. A verified job posted under a 6 h + 1 s
    window, after which governance sets the window back to 1 day and the attestation window to
    20 h, can no longer be verified inside its own window: `requestVerifier` refuses
    (`VerificationTooLate`), so no verifier is drawn. The job still settles, and the 2 CRD
    verification fee (5% of the 40 CRD lease at the max price) comes back to the customer with
    the escrow: the customer loses the verification it asked for, never money, and can still
    challenge the result itself (Decisions, "Windows fixed per job")."""
    market.setChallengeWindow(6 * HOUR + 1, sender=admin)
    job_id = (
        market.postJob(job_spec(chain, verification=True), sender=customer).events.filter(market.JobPosted)[0].jobId
    )
    market.setChallengeWindow(DAY, sender=admin)
    resolver.setAttestWindow(20 * HOUR, sender=admin)
    market.placeBid(job_id, crd("1.10"), sender=provider)
    chain.pending_timestamp += HOUR
    market.finalizeAuction(job_id, sender=customer)
    chain.pending_timestamp += 10 * HOUR
    market.submitResult(job_id, b"\x42" * 32, "ipfs://result", sender=provider)
    with ape.reverts(resolver.VerificationTooLate):
        resolver.requestVerifier(job_id, sender=customer)
    chain.pending_timestamp += 6 * HOUR + 2
    before = credits.balanceOf(customer)
    settled = market.settleJob(job_id, sender=customer).events.filter(market.JobSettled)[0]
    assert (settled.providerGross, settled.refund) == (crd(22), crd(2))
    assert credits.balanceOf(customer) == before + crd(2)


def test_shares_cannot_exceed_the_whole(resolver, admin):
    with ape.reverts(resolver.SharesTooLarge):
        resolver.setShares(0, 5_000, 6_000, sender=admin)
    resolver.setShares(10_000, 1_000, 3_000, sender=admin)
    assert (resolver.jackpotBps(), resolver.juryRewardBps(), resolver.finderBps()) == (10_000, 1_000, 3_000)
