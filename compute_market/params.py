"""Deployment parameters: the SPEC's defaults, each settable by governance within bounds."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from compute_market.units import DAY, to_wei, usd_to_feed


@dataclass(frozen=True)
class TokenParams:
    """ComputeToken (CMP)."""

    supply_cap: int = to_wei(1_000_000_000)
    initial_supply: int = to_wei(400_000_000)


@dataclass(frozen=True)
class CreditsParams:
    """ComputeCredits (CRD) and, on local chains, the mock CMP/USD feed."""

    redeem_cap_per_epoch: int = to_wei(1_000_000)
    mock_initial_price: int = usd_to_feed(Decimal("2.50"))


@dataclass(frozen=True)
class RewardsParams:
    """RewardsDistributor: epochs of a day, 100,000 CMP in epoch 0 decaying 0.5% per epoch.

    Over N epochs the schedule emits 100,000 * (1 - 0.995^N) / 0.005 CMP: about 2,792,316 CMP in
    30 days, 16,790,374 in a year, at most 20,000,000 in all; `emission_cap` bounds every
    schedule governance may set later."""

    epoch_length: int = DAY
    emission_cap: int = to_wei(200_000_000)
    base_emission: int = to_wei(100_000)
    decay_bps: int = 50


@dataclass(frozen=True)
class DeployParams:
    """Everything the deploy script needs besides the accounts."""

    token: TokenParams = field(default_factory=TokenParams)
    credits: CreditsParams = field(default_factory=CreditsParams)
    rewards: RewardsParams = field(default_factory=RewardsParams)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, as written in the deployment record (ints as strings)."""
        return {section: {k: str(v) for k, v in values.items()} for section, values in asdict(self).items()}
