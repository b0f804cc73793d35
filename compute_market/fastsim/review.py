"""The mirror of result review, from logs: verifiers' stakes, the staking ledger's queue of
stake changes and draws, verifications (request, draw, attestation) and disputes (challenge,
jury, votes, verdict, jury rewards)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from compute_market.models import Attestation, DisputeStatus, EntryKind

ZERO = "0x0000000000000000000000000000000000000000"


@dataclass
class Entry:
    """One queued ledger entry: a stake change, or a draw with its target block."""

    kind: EntryKind
    target: int = 0
    job_id: int = 0


@dataclass
class Verification:
    """`DisputeResolver.verificationOf`."""

    requested: bool = False
    verifier: str = ZERO
    deadline: int = 0
    attestation: Attestation = Attestation.NONE


@dataclass
class Ballot:
    """One juror's vote (it counts once per seat the juror holds)."""

    committed: bool = False
    revealed: bool = False
    fault: bool = False
    claimed: bool = False
    seats: int = 1


@dataclass
class Dispute:
    """`DisputeResolver.disputeOf`, with the jurors and their votes."""

    challenger: str
    status: DisputeStatus = DisputeStatus.DRAWING
    commit_end: int = 0
    reveal_end: int = 0
    appeal_end: int = 0
    jurors: dict[str, Ballot] = field(default_factory=dict)  # one ballot per juror, whatever its seats
    fault: bool = False
    by_jury: bool = False
    token_share: int = 0
    credit_share: int = 0

    @property
    def seat_count(self) -> int:
        """The jury's seats (`jurySize` when drawn; a juror may hold several)."""
        return sum(b.seats for b in self.jurors.values())


@dataclass
class Review:
    """Review state rebuilt from the ledger's (registry's) and the resolver's logs."""

    verifier_stake: dict[str, int] = field(default_factory=dict)  # verifier → staked (unbonding included)
    unbonding: dict[str, tuple[int, int]] = field(default_factory=dict)  # verifier → (amount, end)
    verifier_slashed: int = 0  # CMP slashed from verifiers and jurors
    unstaked: dict[str, int] = field(default_factory=lambda: {"requests": 0, "withdrawals": 0, "withdrawn": 0})
    queue: dict[int, Entry] = field(default_factory=dict)  # position → entry not yet processed
    head: int = 0  # the ledger's queueHead
    tail: int = 0  # the ledger's queueTail
    verifications: dict[int, Verification] = field(default_factory=dict)
    disputes: dict[int, Dispute] = field(default_factory=dict)
    rewards_open: dict[int, None] = field(default_factory=dict)  # disputes a jury decided, rewards to claim
    counts: dict[str, int] = field(
        default_factory=lambda: (
            dict.fromkeys(
                ("verifiers_assigned", "verifications_lapsed", "approved", "rejected", "challenges", "juries"), 0
            )
            | dict.fromkeys(("arbitrated", "provider_fault", "no_fault", "jurors_penalized", "jury_rewards_paid"), 0)
            | dict.fromkeys(("customer_challenges", "whistleblower_challenges"), 0)
        )
    )

    def ready(self, head_block: int) -> int:
        """How many leading queue entries `processDraws` can process in the next block (number
        `head_block + 1`): stake changes, and draws whose target block is mined by then."""
        n = 0
        for position in range(self.head, self.tail):
            entry = self.queue[position]
            if entry.kind in (EntryKind.VERIFIER_DRAW, EntryKind.JURY_DRAW) and head_block + 1 <= entry.target:
                break
            n += 1
        return n

    def processed(self, n: int) -> None:
        """`processDraws` processed the `n` leading entries (the engine tells, on its success)."""
        for position in range(self.head, self.head + n):
            del self.queue[position]
        self.head += n

    def apply_ledger(self, event: str, args: dict[str, Any]) -> None:
        """A log of the staking ledger (the provider registry)."""
        if event == "VerifierStaked":
            self.verifier_stake[args["verifier"]] = int(args["totalStaked"])
        elif event == "VerifierSlashed":
            self._slashed(args["verifier"], int(args["amount"]))
        elif event == "VerifierUnstakeRequested":
            self.unbonding[args["verifier"]] = (int(args["totalUnbonding"]), int(args["unbondingEnd"]))
            self.unstaked["requests"] += 1
        elif event == "VerifierUnstaked":
            self.verifier_stake[args["verifier"]] -= int(args["amount"])
            self.unbonding[args["verifier"]] = (0, self.unbonding[args["verifier"]][1])
            self.unstaked["withdrawals"] += 1
            self.unstaked["withdrawn"] += int(args["amount"])
        elif event == "StakeChangeQueued":
            kind = EntryKind.STAKE_ADDED if args["added"] else EntryKind.STAKE_REMOVED
            self._queued(int(args["position"]), Entry(kind))
        elif event == "DrawRequested":
            job_id = int(args["jobId"])
            self._queued(int(args["position"]), Entry(EntryKind(int(args["kind"])), int(args["targetBlock"]), job_id))
            if EntryKind(int(args["kind"])) == EntryKind.VERIFIER_DRAW:
                self.verifications.setdefault(job_id, Verification()).requested = True

    def active(self, verifier: str) -> int:
        """The verifier's stake less what is unbonding."""
        return self.verifier_stake.get(verifier, 0) - self.unbonding.get(verifier, (0, 0))[0]

    def _slashed(self, verifier: str, amount: int) -> None:
        """`slashVerifier` takes the active stake first, then the unbonding."""
        from_unbonding = max(0, amount - self.active(verifier))
        if from_unbonding:
            left, end = self.unbonding[verifier]
            self.unbonding[verifier] = (left - from_unbonding, end)
        self.verifier_stake[verifier] -= amount
        self.verifier_slashed += amount

    def _queued(self, position: int, entry: Entry) -> None:
        self.queue[position] = entry  # a draw whose target left the window is queued again in place
        self.tail = max(self.tail, position + 1)

    def apply_resolver(self, event: str, args: dict[str, Any], timestamp: int) -> None:
        """A log of the dispute resolver."""
        job_id = int(args.get("jobId", 0))
        c = self.counts
        if event == "VerifierAssigned":
            v = self.verifications.setdefault(job_id, Verification(requested=True))
            v.verifier, v.deadline = args["verifier"], int(args["deadline"])
            c["verifiers_assigned"] += 1
        elif event == "VerificationLapsed":
            c["verifications_lapsed"] += 1
        elif event == "Attested":
            ok = bool(args["resultOk"])
            self.verifications[job_id].attestation = Attestation.RESULT_OK if ok else Attestation.RESULT_BAD
            c["approved" if ok else "rejected"] += 1
        elif event == "VerificationExcused":
            self.verifications[job_id].attestation = Attestation.EXCUSED
        elif event == "VerifierAbsent":
            self.verifications[job_id].attestation = Attestation.ABSENT
        elif event == "Challenged":
            self.disputes[job_id] = Dispute(args["challenger"])
            c["challenges"] += 1
            c["customer_challenges"] += int(int(args["bond"]) > 0)  # a verifier's rejection posts no bond
            c["whistleblower_challenges"] += int(bool(args["whistleblower"]))
        elif event == "JuryDrawn":
            d = self.disputes[job_id]
            d.status, d.commit_end, d.reveal_end = DisputeStatus.VOTING, int(args["commitEnd"]), int(args["revealEnd"])
            seats = Counter(args["jurors"])  # drawn with replacement: a juror once per seat
            d.jurors = {juror: Ballot(seats=n) for juror, n in seats.items()}
            c["juries"] += 1
        elif event == "VoteCommitted":
            self.disputes[job_id].jurors[args["juror"]].committed = True
        elif event == "VoteRevealed":
            ballot = self.disputes[job_id].jurors[args["juror"]]
            ballot.revealed, ballot.fault = True, bool(args["providerFault"])
        elif event == "AwaitingArbiter":
            d = self.disputes[job_id]
            d.status, d.appeal_end = DisputeStatus.AWAITING_ARBITER, int(args["appealEnd"])
        elif event == "DisputeResolved":
            d = self.disputes[job_id]
            d.status, d.fault = DisputeStatus.RESOLVED, bool(args["providerFault"])
            c["provider_fault" if d.fault else "no_fault"] += 1
            c["arbitrated"] += int(not args["byJury"] and not args["byDefault"])
        elif event == "JuryRewardsOpened":
            d = self.disputes[job_id]
            d.by_jury, d.token_share, d.credit_share = True, int(args["tokenShare"]), int(args["creditShare"])
            self.rewards_open[job_id] = None
        elif event == "JurorRewarded":
            self.disputes[job_id].jurors[args["juror"]].claimed = True
            c["jury_rewards_paid"] += 1
        elif event == "JurorPenalized":
            c["jurors_penalized"] += 1
