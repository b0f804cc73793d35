"""The Python mirror of protocol state, updated from each block's logs only: jobs (with their
sealed-bid commitments), ERC-20 balances, supplies and what was minted and burned, provider
stakes, provisions and slashes, each provider's offer per GPU model in the market (`OfferSet`)
with the locks its bids hold (derived from the market's bid and outcome events and the job's
fixed lock, `collateral + gpuStake`), credit redemptions, the oracle's answers, the market's
reference prices, and the CMP each actor claimed from the rewards distributor (told by the
engine, which knows which transactions were claims: the distributor is not a watched contract)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from compute_market.fastsim.review import Review
from compute_market.models import JobStatus
from compute_market.units import HOUR, WAD, bytes32

ZERO = "0x0000000000000000000000000000000000000000"


Status = JobStatus  # `IJobMarket.JobStatus`, as the rest of the package names it

TERMINAL = frozenset({Status.SETTLED, Status.CANCELLED, Status.EXPIRED, Status.FAILED})
OPEN, SEALED = 0, 1  # `IJobMarket.AuctionKind`
BPS = 10_000
# The market's parameters a posting fixes a job's lock with (`ParameterUpdated` names, as bytes32).
LOCK_PARAMETERS = {
    bytes32("collateralBps"): "collateral_bps",
    bytes32("bidBond"): "bid_bond",
    bytes32("minStakePerGpu"): "min_stake_per_gpu",
}


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
class Offer:
    """A provider's offer of one GPU model (`IJobMarket.Offer`): its GPUs and their memory and the
    stake it provisioned for the model (from `OfferSet`; a forfeited bond or a failed lease takes
    the slash off `provisioned`), and what its bids hold of them (`locked` CMP, `reserved` GPUs)."""

    gpus: int = 0
    vram: int = 0
    provisioned: int = 0
    locked: int = 0
    reserved: int = 0

    def free(self) -> int:
        """Provision no bid holds (`NotEnoughProvision`'s `free`)."""
        return self.provisioned - self.locked

    def available(self) -> int:
        """GPUs no bid holds (`InsufficientCapacity`'s `available`)."""
        return self.gpus - self.reserved


NO_OFFER = Offer()  # what `Mirror.offer` answers for a model never offered (never written to)


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
    collateral: int = 0  # CMP its bidders lock beside `gpu_stake` (fixed at posting, as `postJob` priced it)
    gpu_stake: int = 0  # CMP per bid beside the collateral: `minStakePerGpu` at posting times the GPUs
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

    def lock(self) -> int:
        """CMP a bid or commitment on this job locks on the bidder's offer of its model."""
        return self.collateral + self.gpu_stake


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
    provisioned: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))  # the ledger's provisions
    offers: defaultdict[str, dict[bytes, Offer]] = field(default_factory=lambda: defaultdict(dict))  # provider → model
    registered: set[str] = field(default_factory=set)
    answers: list[int] = field(default_factory=list)  # oracle answers, in order
    answer_at: int = 0  # time of the latest answer
    collateral_rate: int = 0  # CMP wei per CRD the market last read for collateral (`CollateralRateRead`)
    reveal_period: int = 0  # the market's `revealPeriod` (set by the engine before any job)
    # the market's parameters a posting fixes the lock with (set by the engine before any job;
    # `ParameterUpdated` of the market keeps them)
    collateral_bps: int = 0
    bid_bond: int = 0
    min_stake_per_gpu: int = 0
    redeemed: dict[str, int] = field(default_factory=lambda: {"count": 0, "credits": 0, "tokens": 0})
    unsettled: dict[tuple[int, str], None] = field(default_factory=dict)  # commitments not revealed or settled
    fees_accrued: int = 0  # the market's `feesAccrued`: protocol fees not yet sent to the treasury
    review: Review = field(default_factory=Review)  # verifiers, the ledger's queue, verifications, disputes
    minted: dict[str, int] = field(default_factory=lambda: {"CMP": 0, "CRD": 0})  # Transfers from zero
    burned: dict[str, int] = field(default_factory=lambda: {"CMP": 0, "CRD": 0})  # Transfers to zero
    provider_slashed: int = 0  # CMP slashed from providers' provisions (`Slashed.amount`)
    reference: dict[bytes, int] = field(default_factory=dict)  # GPU model → the market's reference price
    models: dict[int, bytes] = field(default_factory=dict)  # model id → GPU model (`GpuModelAdded`)
    rewards: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))  # CMP claimed, by claimer
    # CMP a failed lease's slash credited in the ledger and not yet claimed, by payee (`payoutOf`:
    # `SlashCredited` less `PayoutClaimed`)
    payouts: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))

    # ------------------------------------------------------------------ views

    def offer(self, provider: str, gpu_model: bytes) -> Offer:
        """The provider's offer of `gpu_model` (an empty one if it never offered it)."""
        return self.offers.get(provider, {}).get(bytes(gpu_model), NO_OFFER)

    def reserved(self, provider: str) -> int:
        """GPUs the provider's bids hold, over its offers."""
        return sum(o.reserved for o in self.offers.get(provider, {}).values())

    def locked(self, provider: str) -> int:
        """CMP the provider's bids hold, over its offers."""
        return sum(o.locked for o in self.offers.get(provider, {}).values())

    def offered(self, provider: str) -> int:
        """CMP the provider provisioned, over its offers (the ledger's `provisioned` once a
        transaction is over)."""
        return sum(o.provisioned for o in self.offers.get(provider, {}).values())

    def free_stake(self, provider: str) -> int:
        """Stake neither provisioned nor unbonding (the ledger's `freeStakeOf`)."""
        return self.staked.get(provider, 0) - self.provisioned.get(provider, 0) - self.unbonding.get(provider, 0)

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
        elif event == "Provisioned":
            self.provisioned[args["provider"]] = int(args["provisioned"])
        elif event == "Slashed":
            # only the provision is slashable: it and the stake shrink, unbonding stake never
            provider, amount = args["provider"], int(args["amount"])
            self.provisioned[provider] -= amount
            self.staked[provider] -= amount
            self.provider_slashed += amount
        elif event == "SlashCredited":
            self.payouts[args["payee"]] += int(args["amount"])
        elif event == "PayoutClaimed":
            self.payouts[args["payee"]] -= int(args["amount"])
        elif event == "UnstakeRequested":
            self.unbonding[args["provider"]] = int(args["totalUnbonding"])
        elif event == "Unstaked":
            self.staked[args["provider"]] -= int(args["amount"])
            self.unbonding[args["provider"]] = 0

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
            posted.collateral, posted.gpu_stake = self._lock_terms(posted)
            return
        if event == "OfferSet":
            offer = self.offers[args["provider"]].setdefault(bytes(args["gpuModel"]), Offer())
            offer.gpus, offer.vram = int(args["gpus"]), int(args["vramGb"])
            offer.provisioned = int(args["provisioned"])
            return
        if event == "ParameterUpdated":
            name = LOCK_PARAMETERS.get(bytes(args["name"]))
            if name is not None:
                setattr(self, name, int(args["newValue"]))
            return
        if event == "CollateralRateRead":
            self.collateral_rate = int(args["tokensPerCredit"])
            return
        if event == "FeesWithdrawn":
            self.fees_accrued -= int(args["amount"])
            return
        if event == "GpuModelAdded":
            self.models[int(args["modelId"])] = bytes(args["gpuModel"])
            return
        if event == "ReferencePriceUpdated":  # logged by the model's id (`GpuModelAdded` names it)
            self.reference[self.models[int(args["modelId"])]] = int(args["price"])
            return
        job = self.jobs.get(int(args.get("jobId", 0)))
        if job is None:
            return
        if event == "BidPlaced":  # the bidder's lock taken, the outbid bidder's released
            if job.provider != ZERO:
                self._release(job.provider, job)
            job.provider, job.price = args["provider"], int(args["pricePerGpuHour"])
            self._lock(job.provider, job)
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
            if terminal is None:
                return
            if event == "JobFailed":  # released, and the slashed collateral taken off the provision
                self._release(args["provider"], job, int(args["slashed"]))
            elif event == "JobSettled" or (event == "JobCancelled" and job.provider != ZERO):
                self._release(job.provider, job)  # the lessee, or (cancelled while bidding) the best bidder
            job.status, job.escrow = terminal, 0

    def _lock_terms(self, job: JobState) -> tuple[int, int]:
        """The collateral and per-GPU stake `postJob` fixed for `job`: the lease at the max price
        times `collateralBps`, in CMP at the rate it was priced at (a sealed job's at least
        `bidBond`), and `minStakePerGpu` per GPU."""
        credits = job.lease_value(job.max_price) * self.collateral_bps // BPS
        collateral = credits * job.rate // WAD if credits else 0
        if job.kind == SEALED:
            collateral = max(collateral, self.bid_bond)
        return collateral, self.min_stake_per_gpu * job.gpu_count

    def _lock(self, provider: str, job: JobState) -> None:
        """A bid or commitment on `job` locks its lock and GPUs on the provider's offer of the model."""
        offer = self.offers[provider].setdefault(job.gpu_model, Offer())
        offer.locked += job.lock()
        offer.reserved += job.gpu_count

    def _release(self, provider: str, job: JobState, slashed: int = 0) -> None:
        """Undoes `_lock`; `slashed` (a forfeited bond, a failed lease's collateral) leaves the
        offer's provision with it (the ledger's `Slashed` takes it off the stake)."""
        offer = self.offers[provider].setdefault(job.gpu_model, Offer())
        offer.locked -= job.lock()
        offer.reserved -= job.gpu_count
        offer.provisioned -= slashed

    def _sealed(self, job: JobState, event: str, args: dict[str, Any]) -> None:
        """Commitments, reveals (best and second price as `revealBid` keeps them), lapsed bonds."""
        provider = args["provider"]
        key = (job.job_id, provider)
        if event == "BidCommitted":
            job.commitments[provider] = Commitment(bytes(args["commitment"]))
            self.unsettled[key] = None
            self._lock(provider, job)
            return
        self.unsettled.pop(key, None)
        commitment = job.commitments[provider]
        if event == "BondReleased":
            commitment.state = Bond.RELEASED
            self._release(provider, job)
        elif event == "BondForfeited":
            commitment.state = Bond.FORFEITED
            self._release(provider, job, int(args["amount"]))
        else:
            commitment.state = Bond.REVEALED
            price = int(args["pricePerGpuHour"])
            job.bids += 1
            if args["isBest"]:  # keeps its commitment's lock; the previous best's is released
                if job.provider != ZERO:
                    job.second_price = job.best_bid
                    self._release(job.provider, job)
                job.provider, job.best_bid = provider, price
            else:
                self._release(provider, job)  # not the best: its commitment's lock is released
                if job.second_price == 0 or price < job.second_price:
                    job.second_price = price
            # What the best bidder would be paid now, as the market keeps it in `price`.
            job.price = job.second_price or job.max_price
