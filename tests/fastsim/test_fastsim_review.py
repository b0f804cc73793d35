"""The review mirror follows a jury drawn with replacement: one ballot per juror, its seats counted."""

from __future__ import annotations

from compute_market.fastsim.review import Review
from compute_market.models import DisputeStatus


def test_a_jury_drawn_with_replacement_holds_one_ballot_per_juror_and_its_seats():
    """`JuryDrawn` lists a juror once per seat: [a, b, a, c, a] is three ballots, a's with 3 of the
    5 seats; a's one reveal marks its ballot (its vote counts 3 times on chain)."""
    review = Review()
    review.apply_resolver("Challenged", {"jobId": 7, "challenger": "0xch", "bond": 10, "whistleblower": False}, 0)
    args = {"jobId": 7, "jurors": ["0xa", "0xb", "0xa", "0xc", "0xa"], "commitEnd": 100, "revealEnd": 200}
    review.apply_resolver("JuryDrawn", args, 0)
    dispute = review.disputes[7]
    assert dispute.status == DisputeStatus.VOTING
    assert {j: b.seats for j, b in dispute.jurors.items()} == {"0xa": 3, "0xb": 1, "0xc": 1}
    assert dispute.seat_count == 5
    review.apply_resolver("VoteCommitted", {"jobId": 7, "juror": "0xa"}, 0)
    review.apply_resolver("VoteRevealed", {"jobId": 7, "juror": "0xa", "providerFault": True}, 0)
    ballot = dispute.jurors["0xa"]
    assert (ballot.committed, ballot.revealed, ballot.fault, ballot.seats) == (True, True, True, 3)
