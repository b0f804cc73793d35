"""Constants and actions shared by the DisputeResolver tests (tests/unit/dispute_resolver)."""

from __future__ import annotations

from decimal import Decimal

from compute_market.models import DisputeStatus, JobStatus
from compute_market.units import DAY, to_wei

FAILED, SETTLED, DISPUTED = JobStatus.FAILED, JobStatus.SETTLED, JobStatus.DISPUTED
VOTING, AWAITING_ARBITER = DisputeStatus.VOTING, DisputeStatus.AWAITING_ARBITER
RESOLVED, DRAWING = DisputeStatus.RESOLVED, DisputeStatus.DRAWING
COLLATERAL = to_wei(Decimal("4.8"))
BOND = to_wei(10)


def crd(x: str | int) -> int:
    return to_wei(Decimal(str(x)))


def vote_all(resolver, chain, job_id, jurors, accounts_by_address, fault: bool, skip: int = 0) -> None:
    """Every juror commits `fault`, once whatever its seats (`jurors` may list it per seat); the
    first `skip` distinct jurors never reveal."""
    jurors = list(dict.fromkeys(jurors))
    for juror in jurors:
        account = accounts_by_address[juror]
        resolver.commitVote(job_id, resolver.voteCommitment(job_id, juror, fault, b"salt"), sender=account)
    chain.pending_timestamp += DAY
    for juror in jurors[skip:]:
        resolver.revealVote(job_id, fault, b"salt", sender=accounts_by_address[juror])
    chain.pending_timestamp += DAY


def seats_of(jurors) -> dict[str, int]:
    """Seats per juror of a jury as `jurorsOf` lists it (once per seat), in order of first seat."""
    seats: dict[str, int] = {}
    for juror in jurors:
        seats[juror] = seats.get(juror, 0) + 1
    return seats


def process_draws(chain, registry, caller):
    """Mines past the queued draws' target blocks and makes them."""
    chain.mine(registry.drawDelay())
    return registry.processDraws(64, sender=caller)


def challenge_and_draw_a_split_jury(resolver, chain, registry, job_id, challenger) -> dict[str, int]:
    """Challenges `job_id` and makes the jury's draw; its seats per juror (`seats_of`). Tests that
    need a minority juror need two jurors at least: with nine equal verifiers one of them holds
    all five seats in 1 draw of 6,561 (9 / 9^5), so such a draw is undone and the challenge made
    again a block later, from another block's hash (the draws come from the hash of a block
    mined after the challenge, which varies from run to run with the blocks' timestamps)."""
    for _ in range(5):
        before = chain.snapshot()
        resolver.challenge(job_id, "x", sender=challenger)
        process_draws(chain, registry, challenger)
        seats = seats_of(resolver.jurorsOf(job_id))
        if len(seats) >= 2:
            return seats
        chain.restore(before)
        chain.mine()
    raise AssertionError(f"one juror held all five seats of job {job_id} in five draws in a row")
