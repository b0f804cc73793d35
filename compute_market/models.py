"""Plain-Python views of the protocol's records, in human units."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from enum import IntEnum
from typing import Any

from compute_market.units import HOUR, bytes32, from_bytes32, from_wei, to_wei


class JobStatus(IntEnum):
    NONE = 0
    BIDDING = 1
    LEASED = 2
    RESULT_SUBMITTED = 3
    SETTLED = 4
    CANCELLED = 5
    EXPIRED = 6
    FAILED = 7
    DISPUTED = 8


class DisputeStatus(IntEnum):
    """`IDisputeResolver.DisputeStatus`."""

    NONE = 0
    VOTING = 1
    AWAITING_ARBITER = 2
    RESOLVED = 3
    DRAWING = 4


class Attestation(IntEnum):
    """`IDisputeResolver.Attestation`."""

    NONE = 0
    RESULT_OK = 1
    RESULT_BAD = 2
    ABSENT = 3
    EXCUSED = 4


class AuctionKind(IntEnum):
    OPEN = 0
    SEALED = 1


class EntryKind(IntEnum):
    """`IStakingLedger.EntryKind`: an entry of the staking ledger's draw queue."""

    NONE = 0
    STAKE_ADDED = 1
    STAKE_REMOVED = 2
    VERIFIER_DRAW = 3
    JURY_DRAW = 4


class Outcome(IntEnum):
    """`IProviderRegistry.Outcome`: what a job did to its provider's reputation."""

    COMPLETED = 0
    FAILED = 1
    DISPUTE_LOST = 2


ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


NO_WORKLOAD = b"\0" * 32  # a job's `workload` when it names none: a bare capacity lease

# The contract's `JobSpec` in field order: gpuModel, gpuCount, minVramGb, region, duration,
# maxPricePerGpuHour, biddingEnd, kind, minReputationBps, holdbackBps, verification, workload,
# manifestURI (IJobMarket.sol).
JobSpecTuple = tuple[bytes, int, int, bytes, int, int, int, int, int, int, bool, bytes, str]


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """`values` for JSON: each Decimal as its exact string, the rest as it is."""
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in values.items()}


@dataclass(frozen=True)
class JobRequest:
    """What a customer asks for, in human units (prices in USD credits per GPU-hour)."""

    gpu_model: str
    gpu_count: int
    hours: Decimal
    max_price_per_gpu_hour: Decimal
    bidding_seconds: int = 3_600
    min_vram_gb: int = 0
    region: str = ""
    sealed: bool = False
    min_reputation_bps: int = 0
    holdback_bps: int = 2_000
    verification: bool = False
    workload: bytes = NO_WORKLOAD  # sha256 of the workload manifest
    manifest_uri: str = ""  # where the manifest is published (empty with a zero workload)

    def to_spec(self, now: int) -> JobSpecTuple:
        """The contract's `JobSpec` tuple, bidding closing `bidding_seconds` after `now`."""
        return (
            bytes32(self.gpu_model),
            self.gpu_count,
            self.min_vram_gb,
            bytes32(self.region),
            int(Decimal(self.hours) * HOUR),
            to_wei(self.max_price_per_gpu_hour),
            now + self.bidding_seconds,
            int(AuctionKind.SEALED if self.sealed else AuctionKind.OPEN),
            self.min_reputation_bps,
            self.holdback_bps,
            self.verification,
            self.workload,
            self.manifest_uri,
        )


@dataclass(frozen=True)
class JobView:
    """A job as the market holds it."""

    job_id: int
    status: JobStatus
    customer: str
    provider: str | None
    gpu_model: str
    gpu_count: int
    min_vram_gb: int
    region: str
    hours: Decimal
    kind: AuctionKind
    max_price_per_gpu_hour: Decimal
    # What the best bidder would be paid if the auction closed now, then the clearing price
    # (sealed: the second-lowest revealed price, or the max price while one bid is revealed).
    price_per_gpu_hour: Decimal
    bidding_end: int
    reveal_end: int
    lease_start: int
    challenge_end: int
    escrow: Decimal
    paid: Decimal
    bids: int
    verification: bool
    best_bid_per_gpu_hour: Decimal | None = None  # sealed: the best bidder's own revealed price

    @classmethod
    def from_chain(cls, job_id: int, raw: Any, funds: Any) -> JobView:
        """``raw`` is ``getJob``'s record and ``funds`` ``fundsOf``'s (the escrow and the pay
        released are derived on chain, not stored)."""
        provider = raw.provider if raw.provider != ZERO_ADDRESS else None
        return cls(
            job_id=job_id,
            status=JobStatus(raw.status),
            customer=raw.customer,
            provider=provider,
            gpu_model=from_bytes32(raw.gpuModel),
            gpu_count=raw.gpuCount,
            min_vram_gb=raw.minVramGb,
            region=from_bytes32(raw.region),
            hours=Decimal(raw.duration) / HOUR,
            kind=AuctionKind(raw.kind),
            max_price_per_gpu_hour=from_wei(raw.maxPricePerGpuHour),
            price_per_gpu_hour=from_wei(raw.price),
            bidding_end=raw.biddingEnd,
            reveal_end=raw.revealEnd,
            lease_start=raw.leaseStart,
            challenge_end=raw.challengeEnd,
            escrow=from_wei(funds.escrow),
            paid=from_wei(funds.paidGross),
            bids=raw.bidCount,
            verification=raw.verification,
            best_bid_per_gpu_hour=from_wei(raw.bestBid) if raw.bestBid else None,
        )

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["status"] = self.status.name
        out["kind"] = self.kind.name
        return _plain(out)


@dataclass(frozen=True)
class ProviderView:
    """A provider's registry record and balances: `staked` = `free` + `provisioned` (set aside
    for the market's jobs, per GPU model in its offers: `OfferView`) + `unbonding`."""

    address: str
    registered: bool
    region: str
    staked: Decimal
    provisioned: Decimal
    unbonding: Decimal
    free: Decimal
    reputation_bps: int
    completed: int
    failed: int
    disputes_lost: int

    def as_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))


@dataclass(frozen=True)
class OfferView:
    """A provider's offer of one GPU model in the market (`JobMarket.offerOf`): the CMP of its
    stake provisioned for the model's jobs and the part its bids lock, its GPUs of the model and
    the part its bids reserve, and their memory. A bid needs the job's GPUs free (`free_gpus`)
    and the job's collateral plus per-GPU stake free in the provision (`free`)."""

    provisioned: Decimal
    locked: Decimal
    gpus: int
    reserved: int
    vram_gb: int

    @property
    def free(self) -> Decimal:
        """CMP of the provision no bid locks."""
        return self.provisioned - self.locked

    @property
    def free_gpus(self) -> int:
        """GPUs no bid reserves."""
        return self.gpus - self.reserved

    def as_dict(self) -> dict[str, Any]:
        return _plain(asdict(self) | {"free": self.free, "free_gpus": self.free_gpus})
