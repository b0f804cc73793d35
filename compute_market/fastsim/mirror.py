"""The Python mirror of protocol state, updated from each block's logs only: jobs, ERC-20
balances and supplies, provider stakes and collateral locks, the oracle's answers."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

ZERO = "0x0000000000000000000000000000000000000000"


class Status(IntEnum):
    """`IJobMarket.JobStatus`."""

    NONE = 0
    BIDDING = 1
    LEASED = 2
    RESULT_SUBMITTED = 3
    SETTLED = 4
    CANCELLED = 5
    EXPIRED = 6
    FAILED = 7
    DISPUTED = 8


TERMINAL = frozenset({Status.SETTLED, Status.CANCELLED, Status.EXPIRED, Status.FAILED})


@dataclass
class JobState:
    """One job as the logs tell it (the fields `getJob` is checked against)."""

    job_id: int
    customer: str
    gpu_model: bytes
    gpu_count: int
    max_price: int
    duration: int
    bidding_end: int
    kind: int
    escrow: int
    status: Status = Status.BIDDING
    provider: str = ZERO
    price: int = 0
    bids: int = 0
    collateral: int = 0
    lease_start: int = 0
    challenge_end: int = 0
    result_hash: bytes = b"\0" * 32
    paid_gross: int = 0


@dataclass
class Mirror:
    """Protocol state rebuilt from logs. `apply` takes one decoded log."""

    jobs: dict[int, JobState] = field(default_factory=dict)
    balances: dict[str, defaultdict[str, int]] = field(
        default_factory=lambda: {"CMP": defaultdict(int), "CRD": defaultdict(int)}
    )
    supply: dict[str, int] = field(default_factory=lambda: {"CMP": 0, "CRD": 0})
    staked: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    locks: defaultdict[str, dict[int, tuple[int, int]]] = field(default_factory=lambda: defaultdict(dict))
    registered: set[str] = field(default_factory=set)
    answers: list[int] = field(default_factory=list)  # oracle answers, in order
    answer_at: int = 0  # time of the latest answer

    # ------------------------------------------------------------------ views

    def reserved(self, provider: str) -> int:
        """GPUs held by the provider's collateral locks."""
        return sum(gpus for gpus, _ in self.locks[provider].values())

    def locked(self, provider: str) -> int:
        """CMP held by the provider's collateral locks."""
        return sum(amount for _, amount in self.locks[provider].values())

    def escrow_total(self) -> int:
        """Credits every job holds: what the market's CRD balance must be."""
        return sum(job.escrow for job in self.jobs.values())

    # ------------------------------------------------------------------ logs

    def apply(self, contract: str, event: str, args: dict[str, Any], timestamp: int) -> None:
        """Updates the mirror with one log of `contract` (a deployment record name)."""
        if event == "Transfer" and contract in ("ComputeToken", "ComputeCredits"):
            self._transfer("CMP" if contract == "ComputeToken" else "CRD", args)
        elif contract == "JobMarket":
            self._market(event, args, timestamp)
        elif contract == "ProviderRegistry":
            self._registry(event, args)
        elif contract == "PriceFeed" and event == "AnswerUpdated":
            self.answers.append(int(args["current"]))
            self.answer_at = int(args["updatedAt"])

    def _transfer(self, symbol: str, args: dict[str, Any]) -> None:
        sender, to, value = args["from"], args["to"], int(args["value"])
        balances = self.balances[symbol]
        if sender == ZERO:
            self.supply[symbol] += value
        else:
            balances[sender] -= value
        if to == ZERO:
            self.supply[symbol] -= value
        else:
            balances[to] += value

    def _registry(self, event: str, args: dict[str, Any]) -> None:
        if event == "ProviderRegistered":
            self.registered.add(args["provider"])
        elif event == "Staked":
            self.staked[args["provider"]] = int(args["totalStaked"])
        elif event == "Slashed":
            self.staked[args["provider"]] -= int(args["slashed"])
        elif event == "CollateralLocked":
            self.locks[args["provider"]][int(args["jobId"])] = (int(args["gpus"]), int(args["amount"]))
        elif event == "CollateralReleased":
            self.locks[args["provider"]].pop(int(args["jobId"]), None)

    def _market(self, event: str, args: dict[str, Any], timestamp: int) -> None:
        if event == "JobPosted":
            job_id = int(args["jobId"])
            self.jobs[job_id] = JobState(
                job_id,
                args["customer"],
                bytes(args["gpuModel"]),
                int(args["gpuCount"]),
                int(args["maxPricePerGpuHour"]),
                int(args["duration"]),
                int(args["biddingEnd"]),
                int(args["kind"]),
                int(args["escrow"]),
            )
            return
        job = self.jobs.get(int(args.get("jobId", 0)))
        if job is None:
            return
        if event == "BidPlaced":
            job.provider, job.price = args["provider"], int(args["pricePerGpuHour"])
            job.collateral = int(args["collateral"])
            job.bids += 1
        elif event == "AuctionFinalized":
            job.status, job.price = Status.LEASED, int(args["clearingPrice"])
            job.escrow -= int(args["refund"])
            job.lease_start = timestamp
        elif event == "EarningsClaimed":
            gross = int(args["net"]) + int(args["fee"])
            job.escrow -= gross
            job.paid_gross += gross
        elif event == "ResultSubmitted":
            job.status = Status.RESULT_SUBMITTED
            job.challenge_end = int(args["challengeEnd"])
            job.result_hash = bytes(args["resultHash"])
        elif event == "JobDisputed":
            job.status = Status.DISPUTED
        else:
            terminal = {
                "JobExpired": Status.EXPIRED,
                "JobCancelled": Status.CANCELLED,
                "JobSettled": Status.SETTLED,
                "JobFailed": Status.FAILED,
            }.get(event)
            if terminal is not None:
                job.status, job.escrow = terminal, 0
