"""The simulation's actors beyond the honest provider agent: cheating providers, customers and
verifiers. Every decision draws from the run's seeded random generator."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from compute_market.agent import CostModel, ProviderAgent, honest_result
from compute_market.client import MarketClient
from compute_market.models import JobView
from compute_market.simulation.config import GpuModel


def draw_cost_model(
    gpu: GpuModel,
    electricity_usd_per_kwh: Decimal,
    rng: random.Random,
    *,
    amortization_years: float,
    utilization: float,
    margin: tuple[float, float],
) -> CostModel:
    """A provider's cost model for `gpu`, as both simulation engines draw it: electricity at
    0.8-1.5 times the catalog's price, the GPU amortised over `amortization_years` at
    `utilization`, and a margin drawn from `margin`."""
    return CostModel(
        electricity_usd_per_kwh=electricity_usd_per_kwh * Decimal(str(rng.uniform(0.8, 1.5))),
        gpu_power_watts=gpu.power_watts,
        gpu_price_usd=gpu.purchase_usd,
        amortization_hours=Decimal(str(amortization_years * 8760 * utilization)),
        target_margin=Decimal(str(round(rng.uniform(*margin), 3))),
    )


class CheatingAgent(ProviderAgent):
    """A provider agent that fakes results or abandons leases, each with its own probability."""

    def __init__(self, *args: Any, rng: random.Random, fake_rate: float, abandon_rate: float, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.rng = rng
        self.fake_rate = fake_rate
        self.abandon_rate = abandon_rate
        self.decided: dict[int, str] = {}  # job id → "fake", "abandon" or "honest", decided once

    def _plan(self, job_id: int) -> str:
        if job_id not in self.decided:
            roll = self.rng.random()
            plan = (
                "abandon"
                if roll < self.abandon_rate
                else "fake"
                if roll < self.abandon_rate + self.fake_rate
                else "honest"
            )
            self.decided[job_id] = plan
        return self.decided[job_id]

    def result_for(self, job_id: int) -> bytes:
        if self._plan(job_id) == "fake":
            return self.rng.randbytes(32)
        return honest_result(job_id, self.me)

    def wants_to_abandon(self, job: JobView) -> bool:
        return self._plan(job.job_id) == "abandon"


@dataclass
class Customer:
    """Posts jobs within its budget, mints credits when short, checks and challenges results."""

    client: MarketClient
    budget_share: float
    posted: list[int] = field(default_factory=list)
    cancelled: set[int] = field(default_factory=set)
    checked: set[int] = field(default_factory=set)

    def ensure_credits(self, needed: Decimal, price_usd: Decimal) -> Decimal:
        """Mints credits from CMP when the balance is below `needed`; returns the credits minted."""
        balance = self.client.balances()["CRD"]
        if balance >= needed:
            return Decimal(0)
        cmp = ((needed - balance) * 2 / price_usd).quantize(Decimal(1)) + 1
        return self.client.mint_credits(cmp)


@dataclass
class Verifier:
    """Stakes, attests and serves on juries; a lazy one approves without checking and often
    forgets to reveal its vote."""

    client: MarketClient
    lazy: bool
    votes: dict[int, tuple[bool, bytes]] = field(default_factory=dict)  # job id → verdict, salt
