"""A provider's profit and loss over every GPU-hour it owns, idle ones included.

    revenue        = credits earned (USD) + reward tokens * token price (USD, the oracle's)
    ownership cost = ownership_per_hour * owned GPU-hours      (owned = GPUs * hours, idle or busy)
    marginal cost  = marginal_per_busy_hour * busy GPU-hours
    profit         = revenue - ownership cost - marginal cost
    utilisation    = busy GPU-hours / owned GPU-hours

An idle provider earns nothing and pays ownership on every hour, so its profit is
-ownership_per_hour * hours * GPUs: negative, never zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from compute_market.economics.costs import CENT, ProviderCosts


@dataclass(frozen=True)
class PnL:
    """One provider's P&L over a period, in USD, unrounded (`rounded()` gives cents)."""

    owned_gpu_hours: Decimal
    busy_gpu_hours: Decimal
    credits_usd: Decimal
    rewards_usd: Decimal
    ownership_cost: Decimal
    marginal_cost: Decimal

    @property
    def revenue(self) -> Decimal:
        return self.credits_usd + self.rewards_usd

    @property
    def cost(self) -> Decimal:
        return self.ownership_cost + self.marginal_cost

    @property
    def profit(self) -> Decimal:
        return self.revenue - self.cost

    @property
    def utilisation(self) -> Decimal:
        """busy / owned GPU-hours; 0 when nothing was owned."""
        return self.busy_gpu_hours / self.owned_gpu_hours if self.owned_gpu_hours else Decimal(0)

    def rounded(self) -> dict[str, Decimal]:
        """Every money figure to the cent (half-even), utilisation to 4 places: for reports."""
        money = {
            "credits_usd": self.credits_usd,
            "rewards_usd": self.rewards_usd,
            "revenue": self.revenue,
            "ownership_cost": self.ownership_cost,
            "marginal_cost": self.marginal_cost,
            "profit": self.profit,
        }
        out = {key: value.quantize(CENT) for key, value in money.items()}
        out["utilisation"] = self.utilisation.quantize(Decimal("0.0001"))
        return out


def pnl(
    costs: ProviderCosts,
    gpus: int,
    hours: Decimal,
    busy_gpu_hours: Decimal,
    credits_usd: Decimal = Decimal(0),
    reward_tokens: Decimal = Decimal(0),
    token_price_usd: Decimal = Decimal(0),
) -> PnL:
    """The P&L of `gpus` GPUs of one model owned for `hours`, of which `busy_gpu_hours` were sold."""
    ledger = ProviderLedger(costs, gpus)
    ledger.advance(hours, busy_gpu_hours)
    ledger.earn(credits_usd, reward_tokens)
    return ledger.pnl(token_price_usd)


@dataclass
class ProviderLedger:
    """Running totals for one provider of `gpus` GPUs of one model, updated step by step.

    `advance(hours, busy)` every step (all owned hours count, idle ones included), `earn(...)` when
    credits or reward tokens are paid, `pnl(token_price_usd)` to read the P&L at the oracle price.
    """

    costs: ProviderCosts
    gpus: int
    owned_gpu_hours: Decimal = field(default=Decimal(0))
    busy_gpu_hours: Decimal = field(default=Decimal(0))
    credits_usd: Decimal = field(default=Decimal(0))
    reward_tokens: Decimal = field(default=Decimal(0))

    def __post_init__(self) -> None:
        if self.gpus < 0:
            raise ValueError(f"gpus must not be negative, got {self.gpus}")

    def advance(self, hours: Decimal, busy_gpu_hours: Decimal = Decimal(0)) -> None:
        """`hours` of time pass: gpus * hours owned, of which `busy_gpu_hours` were sold."""
        owned = self.gpus * Decimal(hours)
        if hours < 0 or not 0 <= busy_gpu_hours <= owned:
            raise ValueError(f"need hours >= 0 and 0 <= busy ({busy_gpu_hours}) <= gpus * hours ({owned})")
        self.owned_gpu_hours += owned
        self.busy_gpu_hours += Decimal(busy_gpu_hours)

    def earn(self, credits_usd: Decimal = Decimal(0), reward_tokens: Decimal = Decimal(0)) -> None:
        """Credits (USD) or reward tokens paid to the provider; penalties are negative credits."""
        self.credits_usd += Decimal(credits_usd)
        self.reward_tokens += Decimal(reward_tokens)

    def utilisation(self) -> Decimal:
        return self.busy_gpu_hours / self.owned_gpu_hours if self.owned_gpu_hours else Decimal(0)

    def pnl(self, token_price_usd: Decimal = Decimal(0)) -> PnL:
        return PnL(
            owned_gpu_hours=self.owned_gpu_hours,
            busy_gpu_hours=self.busy_gpu_hours,
            credits_usd=self.credits_usd,
            rewards_usd=self.reward_tokens * Decimal(token_price_usd),
            ownership_cost=self.costs.ownership_per_hour() * self.owned_gpu_hours,
            marginal_cost=self.costs.marginal_per_busy_hour() * self.busy_gpu_hours,
        )
