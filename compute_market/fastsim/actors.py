"""The actors the engine plays and how each decides, from the mirror only: providers (honest,
fakers, abandoners) with their costs, asks and ledgers from `compute_market.economics` and the
provider agent's undercutting rule, customers, and the keeper's duties. Every draw comes from the
run's seeded generator."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from typing import Any

from compute_market.agent import CENT, honest_result
from compute_market.economics import ProviderCosts, ProviderLedger, TrailingUtilisation, ask_price
from compute_market.fastsim.mirror import JobState
from compute_market.models import NO_WORKLOAD
from compute_market.units import HOUR, WAD, bytes32, from_wei, to_wei

BPS = 10_000
NO_REGION = b"\0" * 32


@dataclass
class SealedBid:
    """A sealed bid a provider committed: its price and salt (known only to it), and whether it
    will reveal it (a lapsing provider never does: the keeper forfeits the bond)."""

    price: int
    salt: bytes
    reveal: bool
    revealed: bool = False  # its reveal was sent


@dataclass
class Provider:
    """A provider of one GPU model. `role` is "honest", "fake" or "abandon".

    Its costs are fixed for the run; its ask is not: `reprice` sets it from the utilisation it
    realised over the trailing window (`ask_price`), and the engine books every owned and busy
    GPU-hour, every credit earned, reward claimed and slash into its `ledger`."""

    address: str
    role: str
    gpu_model: str
    gpu_count: int
    vram_gb: int
    region: str
    costs: ProviderCosts
    margin: Decimal
    trailing: TrailingUtilisation
    full_cost_utilisation: Decimal = Decimal("0.60")
    floor_utilisation: Decimal = Decimal("0.05")
    state: str = "active"  # "dormant", "active", "leaving", "left" (`fastsim.supply`, with `--entry-exit`)
    plans: dict[int, str] = field(default_factory=dict)  # job id → "honest", "fake", "quit", "vanish"
    claimed_at: dict[int, int] = field(default_factory=dict)
    sealed: dict[int, SealedBid] = field(default_factory=dict)  # job id → its sealed bid
    ask: Decimal = field(init=False)  # USD per GPU-hour, to the cent (rounded up)
    ask_wei: int = field(init=False)
    ledger: ProviderLedger = field(init=False)
    region_word: bytes = field(init=False)  # the region as the registry holds it (bytes32)
    pending_seconds: int = field(init=False, default=0)  # time since the last record (seconds)
    pending_busy: int = field(init=False, default=0)  # GPU-seconds leased since the last record
    booked_crd: int = field(init=False, default=0)  # credits (wei) already booked into the ledger
    booked_rewards: int = field(init=False, default=0)  # reward CMP (wei) already booked
    slashed_cmp: int = field(init=False, default=0)  # CMP (wei) slashed from its stake
    slashed_usd: Decimal = field(init=False, default=Decimal(0))  # the same at the oracle price of each slash

    def __post_init__(self) -> None:
        self.ledger = ProviderLedger(self.costs, self.gpu_count)
        self.region_word = bytes32(self.region)
        self.reprice()

    def reprice(self) -> None:
        """The ask from the trailing utilisation (`ask_price`), rounded up to the cent."""
        ask = ask_price(
            self.costs,
            self.trailing.value(),
            self.margin,
            floor_utilisation=self.floor_utilisation,
            full_cost_utilisation=self.full_cost_utilisation,
        )
        self.ask = max(CENT, ask.quantize(CENT, rounding=ROUND_CEILING))
        self.ask_wei = to_wei(self.ask)

    def record_step(self, seconds: int, busy_gpu_seconds: int) -> None:
        """One step's time and the GPU-seconds its leases held; booked at `close_record`."""
        self.pending_seconds += seconds
        self.pending_busy += busy_gpu_seconds

    def close_record(self) -> None:
        """Ends one record (a simulated hour, or what is left at the end of the run): its owned and
        busy GPU-hours go into the ledger and the trailing window, and the ask is re-priced."""
        if not self.pending_seconds:
            return
        if self.pending_busy > self.gpu_count * self.pending_seconds:
            raise ValueError(f"{self.pending_busy} busy GPU-s in {self.pending_seconds} s of {self.gpu_count} GPUs")
        hours = Decimal(self.pending_seconds) / HOUR
        # Both divisions round: a fully busy record (8 GPUs for 1,200 s) must not come out busier
        # than owned by the last digit (8 * 0.333...3 = 2.666...6 against 9,600 / 3,600 = 2.666...7).
        busy = min(Decimal(self.pending_busy) / HOUR, self.gpu_count * hours)
        self.ledger.advance(hours, busy)
        self.trailing.record(self.gpu_count * hours, busy)
        self.pending_seconds = self.pending_busy = 0
        self.reprice()

    def matches(self, job: JobState) -> bool:
        """Whether it may bid on `job` (as `ProviderAgent` checks and the market's `_lock` requires):
        the job names no region or the provider's, and asks no more memory per GPU than it has."""
        return self.vram_gb >= job.min_vram and (job.region == NO_REGION or job.region == self.region_word)

    @property
    def kind(self) -> str:
        return "provider" if self.role == "honest" else "cheater"

    def plan(self, job_id: int, rng: random.Random) -> str:
        """What it does with a lease it won, decided once per job."""
        if job_id not in self.plans:
            roll = rng.random()
            if self.role == "fake":
                self.plans[job_id] = "fake" if roll < 0.8 else "honest"
            elif self.role == "abandon":
                self.plans[job_id] = "quit" if roll < 0.3 else "vanish" if roll < 0.6 else "honest"
            else:
                self.plans[job_id] = "honest"
        return self.plans[job_id]

    def result(self, job_id: int, rng: random.Random) -> bytes:
        """The result hash it submits: the honest digest, or random bytes when faking."""
        return rng.randbytes(32) if self.plan(job_id, rng) == "fake" else honest_result(job_id, self.address)

    def bid_price(
        self, job: JobState, best: tuple[str, int] | None, min_decrement_bps: int, step: Decimal
    ) -> int | None:
        """Open auctions, as `ProviderAgent._undercut`: the first bid asks the max price; later
        ones undercut the best by `step` (at least the market's decrement), never below the ask.
        None when the job is below the ask or the best is out of reach."""
        ask = self.ask
        max_price = from_wei(job.max_price)
        if max_price < ask:
            return None
        if best is None:
            return job.max_price
        best_price = from_wei(best[1])
        decrement = max(Decimal(min_decrement_bps) / BPS, step)
        allowed = (best_price * (1 - Decimal(min_decrement_bps) / BPS)).quantize(CENT, rounding=ROUND_DOWN)
        if allowed < ask:
            return None
        price = to_wei(max(ask, (best_price * (1 - decrement)).quantize(CENT, rounding=ROUND_DOWN)))
        max_allowed = best[1] * (BPS - min_decrement_bps) // BPS
        return price if 0 < price <= max_allowed else None

    def sealed_price(self, job: JobState) -> int | None:
        """Sealed auctions, as the provider agent: a truthful bid at the ask (second price pays
        at least that); None when the job's max price is below it."""
        ask = self.ask_wei
        return ask if 0 < ask <= job.max_price else None


@dataclass
class Customer:
    """Posts jobs within its budget, mints credits when short, settles its results, cancels some
    jobs (while bidding or half-way through the lease), redeems spare credits, and checks results
    (challenging the fakes it finds)."""

    address: str
    budget_share: float
    diligent: bool
    posted: list[int] = field(default_factory=list)
    cancel_at: dict[int, int] = field(default_factory=dict)  # job id → when it cancels (0: never)
    checked: set[int] = field(default_factory=set)  # results it has checked (and challenged if fake)


@dataclass
class StepView:
    """What the actors of one step have already decided, on top of the mirror: tentative best
    bids, GPUs and provision their bids reserve and lock (per provider: each offers one model),
    credits minted and escrowed, jobs already handled."""

    best: dict[int, tuple[str, int]] = field(default_factory=dict)
    reserved: Counter[str] = field(default_factory=Counter)
    locked: Counter[str] = field(default_factory=Counter)
    credits: Counter[str] = field(default_factory=Counter)
    tokens: Counter[str] = field(default_factory=Counter)
    handled: set[int] = field(default_factory=set)
    claimed: set[str] = field(default_factory=set)  # accounts whose credited payouts a claim takes


def job_spec(
    gpu_model: str,
    gpus: int,
    min_vram: int,
    region: str,
    duration: int,
    max_price: int,
    bidding_end: int,
    kind: int,
    holdback_bps: int,
    verification: bool = False,
) -> tuple[Any, ...]:
    """`postJob`'s `JobSpec` tuple for a capacity lease (no workload: the simulated work is not
    described on chain; no minimum reputation)."""
    return (
        bytes32(gpu_model),
        gpus,
        min_vram,
        bytes32(region),
        duration,
        max_price,
        bidding_end,
        kind,
        0,
        holdback_bps,
        verification,
        NO_WORKLOAD,
        "",
    )


def tokens_for(credits: int, price_answer: int) -> int:
    """Whole CMP that mint at least `credits` CRD at an 8-decimal `price_answer` (spread and
    the lower of two answers covered by a 10% margin)."""
    cmp_wei = credits * 10**8 * 11 // (price_answer * 10)
    return -(-cmp_wei // WAD) * WAD
