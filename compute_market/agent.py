"""A provider agent: watches the market's events and bids from a cost model, reveals sealed bids,
serves leases (submits results), claims earnings and settles, resuming from the last block it
handled after a restart.

Why not Silverback: Silverback (ApeWorX's bot framework) installs here beside eth-ape 0.8.51,
but it runs bots through its own async runner and task broker, and what the agent needs is
small and must be testable in one process: a persisted block cursor, a few event filters and a
state file. A polling loop over `eth_getLogs` ranges does exactly that with no broker, the same
way against a local anvil or a testnet RPC.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

from ape import chain

from compute_market.client import MarketClient
from compute_market.errors import MarketError
from compute_market.models import AuctionKind, JobStatus, JobView
from compute_market.units import from_bytes32, from_wei

CENT = Decimal("0.0001")


def honest_result(job_id: int, provider: str) -> bytes:
    """What serving a job honestly yields, as a digest (the simulation's ground truth)."""
    return hashlib.sha256(f"{job_id}:{provider}".encode()).digest()


@dataclass(frozen=True)
class CostModel:
    """What one GPU-hour costs the provider, and the margin it wants on top.

    cost = power (kW) * electricity (USD/kWh) + purchase price / amortisation hours
    """

    electricity_usd_per_kwh: Decimal
    gpu_power_watts: Decimal
    gpu_price_usd: Decimal
    amortization_hours: Decimal
    target_margin: Decimal = Decimal("0.15")

    def cost_per_gpu_hour(self) -> Decimal:
        energy = self.gpu_power_watts / 1000 * self.electricity_usd_per_kwh
        return energy + self.gpu_price_usd / self.amortization_hours

    def ask(self) -> Decimal:
        """The lowest price per GPU-hour the agent accepts."""
        return (self.cost_per_gpu_hour() * (1 + self.target_margin)).quantize(CENT)


@dataclass
class AgentState:
    """What survives a restart."""

    last_block: int
    market: str = ""  # the market this state belongs to (a state for another one is ignored)
    commitments: dict[str, dict[str, str]] = field(default_factory=dict)  # job id → price, salt
    tracked: list[int] = field(default_factory=list)  # jobs the agent bid on or serves
    claimed_at: dict[str, int] = field(default_factory=dict)  # job id → time of the last claim

    @classmethod
    def load(cls, path: Path, start_block: int, market: str) -> AgentState:
        if path.exists():
            raw = json.loads(path.read_text())
            if raw.get("market") == market:
                return cls(
                    raw["last_block"],
                    market,
                    raw.get("commitments", {}),
                    raw.get("tracked", []),
                    raw.get("claimed_at", {}),
                )
        return cls(start_block, market)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(vars(self), indent=2))
        tmp.replace(path)


class ProviderAgent:
    """One provider's bidding and serving loop over one GPU model."""

    def __init__(
        self,
        client: MarketClient,
        gpu_model: str,
        cost: CostModel,
        state_path: Path,
        *,
        start_block: int | None = None,
        step: Decimal = Decimal("0.05"),
        claim_every: int = 3_600,
        salt_fn: Any = None,
        log: Any = print,
    ) -> None:
        self.client = client
        self.market = client.p.market
        self.gpu_model = gpu_model
        self.cost = cost
        self.undercut_step = step  # how far an outbid agent undercuts the best bid
        self.claim_every = claim_every  # seconds of accrual between two claims
        self.salt_fn = salt_fn  # sealed-bid salts (default: secrets); the simulation seeds them
        self.state_path = state_path
        start = start_block if start_block is not None else chain.blocks.head.number
        self.state = AgentState.load(state_path, start, f"{chain.chain_id}:{self.market.address}")
        self.log = log

    @property
    def me(self) -> str:
        return self.client.address

    # ------------------------------------------------------------------ set-up

    def ensure_provider(self, region: str, gpu_count: int, vram_gb: int, stake: Decimal, metadata: str = "") -> None:
        """Registers, offers capacity and tops the stake up to `stake`, doing only what is missing."""
        view = self.client.provider()
        if not view.registered:
            self.client.register(metadata or f"agent://{self.me}", region)
        capacity = self.client.p.registry.capacityOf(self.me, self.gpu_model.encode().ljust(32, b"\0"))
        if capacity.gpuCount != gpu_count or capacity.vramGb != vram_gb:
            self.client.set_capacity(self.gpu_model, gpu_count, vram_gb)
        missing = stake - view.staked
        if missing > 0:
            self.client.stake(missing)

    # ------------------------------------------------------------------ the loop

    def run(self, poll_seconds: float = 2.0, max_steps: int | None = None) -> None:
        steps = 0
        while max_steps is None or steps < max_steps:
            self.step()
            steps += 1
            time.sleep(poll_seconds)

    def step(self) -> list[str]:
        """Handles the blocks since the last step, then every tracked job; returns what it did."""
        done: list[str] = []
        head = chain.blocks.head.number
        start = self.state.last_block + 1
        if head >= start:
            for log in self.market.JobPosted.range(start, head + 1):
                done += self._consider(int(log.jobId))
            for log in self.market.BidPlaced.range(start, head + 1):
                job_id = int(log.jobId)
                if job_id in self.state.tracked and log["provider"] != self.me:
                    done += self._consider(job_id)  # outbid: answer if still worth it
            self.state.last_block = head
        for job_id in list(self.state.tracked):
            done += self._advance(job_id)
        self.state.save(self.state_path)
        for line in done:
            self.log(line)
        return done

    # ------------------------------------------------------------------ decisions

    def _matches(self, job: JobView) -> bool:
        registry = self.client.p.registry
        capacity = registry.capacityOf(self.me, job.gpu_model.encode().ljust(32, b"\0"))
        profile = registry.profileOf(self.me, job.gpu_model.encode().ljust(32, b"\0"))
        region_ok = not job.region or job.region == from_bytes32(profile.region)
        return (
            job.gpu_model == self.gpu_model
            and capacity.gpuCount - capacity.reserved >= job.gpu_count
            and capacity.vramGb >= job.min_vram_gb
            and region_ok
            and job.customer != self.me
        )

    def _consider(self, job_id: int) -> list[str]:
        job = self.client.job(job_id)
        now = chain.blocks.head.timestamp
        if job.status != JobStatus.BIDDING or now >= job.bidding_end or not self._matches(job):
            return []
        ask = self.cost.ask()
        if job.max_price_per_gpu_hour < ask:
            return [f"job {job_id}: max {job.max_price_per_gpu_hour} below ask {ask}, skipped"]
        try:
            if job.kind == AuctionKind.SEALED:
                if str(job_id) in self.state.commitments:
                    return []
                salt = self.client.commit(job_id, ask, self.salt_fn() if self.salt_fn else None)  # truthful
                self.state.commitments[str(job_id)] = {"price": str(ask), "salt": salt.hex()}
                self._track(job_id)
                return [f"job {job_id}: committed a sealed bid"]
            if job.provider == self.me:
                return []
            price = self._undercut(job, ask)
            if price is None:
                return [f"job {job_id}: best {job.price_per_gpu_hour} already below ask {ask}"]
            self.client.bid(job_id, price)
            self._track(job_id)
            return [f"job {job_id}: bid {price}"]
        except MarketError as err:
            return [f"job {job_id}: refused {err}"]

    def _undercut(self, job: JobView, ask: Decimal) -> Decimal | None:
        """Open auctions: undercut the best bid by `step` (at least the market's decrement), never
        below the ask; the first bid asks the job's max price. None when the best is out of reach."""
        if job.provider is None:
            return max(ask, job.max_price_per_gpu_hour)
        decrement = max(Decimal(self.market.minDecrementBps()) / 10_000, self.undercut_step)
        allowed = (job.price_per_gpu_hour * (1 - Decimal(self.market.minDecrementBps()) / 10_000)).quantize(
            CENT, rounding=ROUND_DOWN
        )
        if allowed < ask:
            return None
        return max(ask, (job.price_per_gpu_hour * (1 - decrement)).quantize(CENT, rounding=ROUND_DOWN))

    def _advance(self, job_id: int) -> list[str]:
        job = self.client.job(job_id)
        now = chain.blocks.head.timestamp
        commitment = self.state.commitments.get(str(job_id))
        try:
            if job.status == JobStatus.BIDDING:
                if job.kind == AuctionKind.SEALED and commitment and job.bidding_end <= now < job.reveal_end:
                    self.client.reveal(job_id, Decimal(commitment["price"]), bytes.fromhex(commitment["salt"]))
                    del self.state.commitments[str(job_id)]
                    return [f"job {job_id}: revealed {commitment['price']}"]
                closes = job.reveal_end if job.kind == AuctionKind.SEALED else job.bidding_end
                if now >= closes:
                    view = self.client.finalize(job_id)
                    return [f"job {job_id}: finalized, {view.status.name.lower()}"]
                return []
            if job.provider != self.me:
                self._untrack(job_id)
                return [f"job {job_id}: lost"] if job.status in (JobStatus.LEASED, JobStatus.EXPIRED) else []
            if job.status == JobStatus.LEASED:
                if self.wants_to_abandon(job):
                    self.client.abandon(job_id)
                    self._untrack(job_id)
                    return [f"job {job_id}: abandoned"]
                if now >= job.lease_start + int(job.hours * 3600):
                    self.client.submit_result(job_id, self.result_for(job_id), f"agent://{self.me}/{job_id}")
                    return [f"job {job_id}: result submitted"]
                last = self.state.claimed_at.get(str(job_id), job.lease_start)
                if now - last < self.claim_every:
                    return []
                received = self.client.claim(job_id)
                self.state.claimed_at[str(job_id)] = now
                return [f"job {job_id}: claimed {received}"] if received else []
            if job.status == JobStatus.RESULT_SUBMITTED and now >= job.challenge_end:
                self.client.settle(job_id)
                self._untrack(job_id)
                return [f"job {job_id}: settled, paid {from_wei(self.market.getJob(job_id).paidGross)} gross"]
            if job.status not in (JobStatus.RESULT_SUBMITTED, JobStatus.DISPUTED):
                self._untrack(job_id)
            return []
        except MarketError as err:
            return [f"job {job_id}: refused {err}"]

    # ------------------------------------------------------------------ hooks

    def result_for(self, job_id: int) -> bytes:
        """The result of serving `job_id` (an honest agent's: the work's digest)."""
        return honest_result(job_id, self.me)

    def wants_to_abandon(self, job: JobView) -> bool:
        """Whether to quit a lease (an honest agent never does)."""
        return False

    def _track(self, job_id: int) -> None:
        if job_id not in self.state.tracked:
            self.state.tracked.append(job_id)

    def _untrack(self, job_id: int) -> None:
        if job_id in self.state.tracked:
            self.state.tracked.remove(job_id)
        self.state.commitments.pop(str(job_id), None)
        self.state.claimed_at.pop(str(job_id), None)
