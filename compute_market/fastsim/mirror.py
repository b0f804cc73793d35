"""The Python mirror of protocol state, updated from each block's logs only: jobs (with their
sealed-bid commitments), ERC-20 balances, supplies and what was minted and burned, provider
stakes, collateral locks and slashes, credit redemptions, the oracle's answers, the market's
reference prices, and the CMP each actor claimed from the rewards distributor (told by the
engine, which knows which transactions were claims: the distributor is not a watched contract)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from compute_market.fastsim.review import Review
from compute_market.models import JobStatus
from compute_market.units import HOUR

ZERO = "0x0000000000000000000000000000000000000000"


Status = JobStatus  # `IJobMarket.JobStatus`, as the rest of the package names it

TERMINAL = frozenset({Status.SETTLED, Status.CANCELLED, Status.EXPIRED, Status.FAILED})
OPEN, SEALED = 0, 1  # `IJobMarket.AuctionKind`


class Bond(IntEnum):
    """Where a sealed-bid commitment stands (`revealed` on chain: anything but COMMITTED)."""

    COMMITTED = 0
    REVEALED = 1
    RELEASED = 2  # the job was cancelled: the bond came back
    FORFEITED = 3  # not revealed in time: the keeper's `settleCommitment` slashed the bond


@dataclass
class Commitment:
    """One provider's sealed bid on one job."""

    hash: bytes
    state: Bond = Bond.COMMITTED


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
    verification: bool = False  # asked for a verifier (its escrow carries the verification fee)
    region: bytes = b"\0" * 32  # zero: any region (the engine tells it from the `postJob` it sent)
    min_vram: int = 0  # least memory per GPU (idem)
    reveal_end: int = 0  # sealed: reveals close
    second_price: int = 0  # sealed: second-lowest revealed price (0 = none; the mirror's own)
    best_bid: int = 0  # sealed: the best bid's own revealed price (getJob's `bestBid`)
    rate: int = 0  # CMP wei per CRD its collateral was priced at (the market's kept rate at posting)
    commitments: dict[str, Commitment] = field(default_factory=dict)  # sealed: provider → commitment

    def lease_value(self, price: int | None = None) -> int:
        """Credits (wei) of the whole lease at `price` per GPU-hour (default: the job's price)."""
        return (self.price if price is None else price) * self.gpu_count * self.duration // HOUR


@dataclass
class Mirror:
    """Protocol state rebuilt from logs. `apply` takes one decoded log."""

    jobs: dict[int, JobState] = field(default_factory=dict)
    balances: dict[str, defaultdict[str, int]] = field(
        default_factory=lambda: {"CMP": defaultdict(int), "CRD": defaultdict(int)}
    )
    supply: dict[str, int] = field(default_factory=lambda: {"CMP": 0, "CRD": 0})
    staked: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    unbonding: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))  # providers' stake leaving
    locks: defaultdict[str, dict[int, tuple[int, int]]] = field(default_factory=lambda: defaultdict(dict))
    lock_gpus: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))  # sums of `locks`
    lock_amount: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    registered: set[str] = field(default_factory=set)
    answers: list[int] = field(default_factory=list)  # oracle answers, in order
    answer_at: int = 0  # time of the latest answer
    collateral_rate: int = 0  # CMP wei per CRD the market last read for collateral (`CollateralRateRead`)
    reveal_period: int = 0  # the market's `revealPeriod` (set by the engine before any job)
    redeemed: dict[str, int] = field(default_factory=lambda: {"count": 0, "credits": 0, "tokens": 0})
    unsettled: dict[tuple[int, str], None] = field(default_factory=dict)  # commitments not revealed or settled
    fees_accrued: int = 0  # the market's `feesAccrued`: protocol fees not yet sent to the treasury
    review: Review = field(default_factory=Review)  # verifiers, the ledger's queue, verifications, disputes
    minted: dict[str, int] = field(default_factory=lambda: {"CMP": 0, "CRD": 0})  # Transfers from zero
    burned: dict[str, int] = field(default_factory=lambda: {"CMP": 0, "CRD": 0})  # Transfers to zero
    provider_slashed: int = 0  # CMP slashed from providers (`Slashed.slashed`)
    reference: dict[bytes, int] = field(default_factory=dict)  # GPU model → the market's reference price
    rewards: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))  # CMP claimed, by claimer

    # ------------------------------------------------------------------ views

    def reserved(self, provider: str) -> int:
        """GPUs held by the provider's collateral locks."""
        return self.lock_gpus[provider]

    def locked(self, provider: str) -> int:
        """CMP held by the provider's collateral locks."""
        return self.lock_amount[provider]

    def rewards_total(self) -> int:
        """CMP minted by reward claims (the distributor's `totalClaimed`)."""
        return sum(self.rewards.values())

    def claimed(self, account: str, value: int) -> None:
        """A reward claim minted `value` CMP to `account` (its `Transfer` is applied as any other)."""
        self.rewards[account] += value

    def posted(self, job_id: int, region: bytes, min_vram: int) -> None:
        """What `JobPosted` does not log of a job: its region and least memory per GPU."""
        job = self.jobs[job_id]
        job.region, job.min_vram = bytes(region), int(min_vram)

    def escrow_total(self) -> int:
        """Credits every job holds: with `fees_accrued`, what the market's CRD balance must be."""
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
            self.review.apply_ledger(event, args)
        elif contract == "DisputeResolver":
            self.review.apply_resolver(event, args, timestamp)
        elif contract == "ComputeCredits" and event == "CreditsRedeemed":
            self.redeemed["count"] += 1
            self.redeemed["credits"] += int(args["credits"])
            self.redeemed["tokens"] += int(args["tokensMinted"])
        elif contract == "PriceFeed" and event == "AnswerUpdated":
            self.answers.append(int(args["current"]))
            self.answer_at = int(args["updatedAt"])

    def _transfer(self, symbol: str, args: dict[str, Any]) -> None:
        sender, to, value = args["from"], args["to"], int(args["value"])
        balances = self.balances[symbol]
        if sender == ZERO:
            self.supply[symbol] += value
            self.minted[symbol] += value
        else:
            balances[sender] -= value
        if to == ZERO:
            self.supply[symbol] -= value
            self.burned[symbol] += value
        else:
            balances[to] += value

    def _registry(self, event: str, args: dict[str, Any]) -> None:
        if event == "ProviderRegistered":
            self.registered.add(args["provider"])
        elif event == "Staked":
            self.staked[args["provider"]] = int(args["totalStaked"])
        elif event == "Slashed":
            # the registry takes free stake first, then unbonding stake (`ProviderRegistry._take`)
            provider, slashed = args["provider"], int(args["slashed"])
            free = self.staked[provider] - self.locked(provider) - self.unbonding[provider]
            if slashed > free:
                self.unbonding[provider] -= slashed - free
            self.staked[provider] -= slashed
            self.provider_slashed += slashed
        elif event == "UnstakeRequested":
            self.unbonding[args["provider"]] = int(args["totalUnbonding"])
        elif event == "Unstaked":
            self.staked[args["provider"]] -= int(args["amount"])
            self.unbonding[args["provider"]] = 0
        elif event == "CollateralLocked":
            self._unlock(args["provider"], int(args["jobId"]))
            gpus, amount = int(args["gpus"]), int(args["amount"])
            self.locks[args["provider"]][int(args["jobId"])] = (gpus, amount)
            self.lock_gpus[args["provider"]] += gpus
            self.lock_amount[args["provider"]] += amount
        elif event == "CollateralReleased":
            self._unlock(args["provider"], int(args["jobId"]))

    def _unlock(self, provider: str, job_id: int) -> None:
        gpus, amount = self.locks[provider].pop(job_id, (0, 0))
        self.lock_gpus[provider] -= gpus
        self.lock_amount[provider] -= amount

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
            posted = self.jobs[job_id]
            posted.rate = self.collateral_rate  # read in the same `postJob` (logged before it) or kept
            # `postJob` escrows the lease value at the max price, plus a fee when verification is asked for
            posted.verification = posted.escrow > posted.lease_value(posted.max_price)
            if int(args["kind"]) == SEALED:
                posted.reveal_end = int(args["biddingEnd"]) + self.reveal_period
            return
        if event == "CollateralRateRead":
            self.collateral_rate = int(args["tokensPerCredit"])
            return
        if event == "FeesWithdrawn":
            self.fees_accrued -= int(args["amount"])
            return
        if event == "ReferencePriceUpdated":
            self.reference[bytes(args["gpuModel"])] = int(args["price"])
            return
        job = self.jobs.get(int(args.get("jobId", 0)))
        if job is None:
            return
        if event == "BidPlaced":
            job.provider, job.price = args["provider"], int(args["pricePerGpuHour"])
            job.collateral = int(args["collateral"])
            job.bids += 1
        elif event in ("BidCommitted", "BidRevealed", "BondReleased", "BondForfeited"):
            self._sealed(job, event, args)
        elif event == "AuctionFinalized":
            job.status, job.price = Status.LEASED, int(args["clearingPrice"])
            job.escrow -= int(args["refund"])
            job.lease_start = timestamp
        elif event == "EarningsClaimed":
            gross = int(args["net"]) + int(args["fee"])
            job.escrow -= gross
            job.paid_gross += gross
            self.fees_accrued += int(args["fee"])
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

    def _sealed(self, job: JobState, event: str, args: dict[str, Any]) -> None:
        """Commitments, reveals (best and second price as `revealBid` keeps them), lapsed bonds."""
        provider = args["provider"]
        key = (job.job_id, provider)
        if event == "BidCommitted":
            job.commitments[provider] = Commitment(bytes(args["commitment"]))
            self.unsettled[key] = None
            return
        self.unsettled.pop(key, None)
        commitment = job.commitments[provider]
        if event == "BondReleased":
            commitment.state = Bond.RELEASED
        elif event == "BondForfeited":
            commitment.state = Bond.FORFEITED
        else:
            commitment.state = Bond.REVEALED
            price = int(args["pricePerGpuHour"])
            job.bids += 1
            if args["isBest"]:
                if job.provider != ZERO:
                    job.second_price = job.best_bid
                job.provider, job.best_bid = provider, price
            elif job.second_price == 0 or price < job.second_price:
                job.second_price = price
            # What the best bidder would be paid now, as the market keeps it in `price`.
            job.price = job.second_price or job.max_price
