"""Customers with choices (issue 18), on with `--outside-option`: the market competes with the
cheapest alternative each GPU model has, and demand follows the saving.

- **The outside option** of a GPU model is its cheapest alternative in the catalog: the
  hyperscaler's on-demand price or, where one is listed, the lowest marketplace quote (RunPod,
  Vast, Lambda; `data/gpu_catalog.json`). A customer's budget (the job's max price) is its
  `budget_share` of that price, not of the hyperscaler's.
- **Price-elastic demand.** Before posting, a customer looks at the market's reference price of
  the model (public, on chain: it moves on outcomes) and posts with a chance of
  `elasticity * saving`, capped at 1, where `saving = 1 - reference / outside`; otherwise it takes
  the outside option (counted per model as `went_outside`). With the default elasticity of 2, a
  market half the outside price keeps all its demand, one a quarter cheaper half of it. The
  chance never falls below `TRIAL` (10%): the reference moves only on outcomes, so a market whose
  reference looks as dear as the outside option would otherwise never get the jobs that could
  show it is cheaper (posting costs a customer little: an unfilled job's escrow comes back). A
  model with no reference price (none set, no outcome yet) keeps all its demand.
- **A higher budget after an unfilled job.** When a customer's job ends with no lease
  (expired: nobody bid within its max price, or no provider matched its region or memory: the
  customer cannot tell which), its budget for that model rises by `budget_raise` (15%), again
  after each such job, up to the outside price itself; a filled job does not lower it.
- **Budgets that weigh the providers' failure risk.** A lease can fail (a provider that abandons
  it, a fake result a jury convicts): the customer has then paid for the hours served (wasted: the
  job is bought again outside), gets the unspent escrow back, and receives the job's collateral
  less the keeper's bounty. The risk of a model is what the market's public outcomes show,
  `JobFailed` among the leases that ended (`JobSettled` or `JobFailed`), from a prior of one
  failure in ten leases: `(failed + 1) / (ended + 10)`; the share of a failed lease's value paid
  before it failed, `f`, is the mean over the model's failed leases, from a prior of one half. In
  units of the outside price, a max price `b` then costs the customer
  `(1 - risk) * b + risk * (f * b + 1 - k * b)`, for `k` the share of the max price it recovers
  (`collateralBps` times `1 - keeperBountyBps`, read from the market at set-up: a keeper's
  `slashForFailure` takes its bounty; a provider's own `abandonJob` takes none, not modelled), so
  the budget that costs what its share `s` of the outside price would is
  `b = (s - risk) / (1 - risk * (1 - f + k))`, none when the risk is at least its share (the job
  goes elsewhere) and at most the outside price; the saving that drives demand is measured the
  same way at the reference price (the collateral taken at the reference, not the max price).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from compute_market.units import from_wei

if TYPE_CHECKING:
    from compute_market.simulation.config import GpuModel

ELASTICITY = 2.0  # demand multiplier per unit of saving (see above)
BUDGET_RAISE = 0.15  # a budget's rise after an unfilled job
TRIAL = 0.1  # the least chance a job goes to the market, whatever its reference price
RISK_PRIOR = (1, 10)  # a model's failure risk before any outcome: one failure in ten leases
TICK = Decimal("0.0001")  # a max price's precision in USD (the engine posts it to this tick)


def failure_risk(failed: int, ended: int) -> float:
    """A model's chance that a lease fails, from the leases that ended and the prior."""
    return (failed + RISK_PRIOR[0]) / (ended + RISK_PRIOR[1])


PAID_PRIOR = (0.5, 1)  # the share of a failed lease's value paid before it failed: one half, before any


def failure_cost(price: float, risk: float, recovered: float, paid: float) -> float:
    """What a lease at `price` (in units of the outside price) costs the customer once failures
    count: with chance `risk` it paid `paid` of the lease, buys the job outside and recovers
    `recovered` of the max price (the collateral less the keeper's bounty)."""
    return (1 - risk) * price + risk * (paid * price + 1 - recovered * price)


def risk_adjusted_share(share: float, risk: float, recovered: float, paid: float = 1.0) -> float:
    """The budget, as a share of the outside price, whose `failure_cost` is `share`:
    `(share - risk) / (1 - risk * (1 - paid + recovered))`; 0 when the risk is at least the share,
    and at most the outside price itself (1), which is also the budget when a failure would
    return more than the price it adds (the cost no longer grows with the price)."""
    if share <= risk:
        return 0.0
    slope = 1 - risk * (1 - paid + recovered)  # how the failure cost grows with the price
    return 1.0 if slope <= 0 else min(1.0, (share - risk) / slope)


def outside_price(gpu: GpuModel) -> Decimal:
    """The model's cheapest alternative in USD per GPU-hour: the hyperscaler's on-demand price or
    the lowest marketplace quote, whichever is lower."""
    quotes = [q.usd_per_gpu_hour for q in gpu.marketplace]
    return min([gpu.cloud_usd_per_gpu_hour, *quotes])


def demand_chance(
    reference_wei: int,
    outside: Decimal,
    elasticity: float = ELASTICITY,
    risk: float = 0.0,
    recovered: float = 0.0,
    paid: float = 1.0,
) -> float:
    """The chance a customer posts to the market rather than taking the outside option, from the
    market's reference price (0: none yet, all demand stays) and the model's failure risk."""
    if reference_wei == 0:
        return 1.0
    reference = float(from_wei(reference_wei) / outside)  # in units of the outside price
    saving = 1 - failure_cost(reference, risk, recovered, paid)
    return min(1.0, max(TRIAL, elasticity * saving))


@dataclass
class Demand:
    """The customers' budgets per model and where their demand went."""

    elasticity: float = ELASTICITY
    budget_raise: float = BUDGET_RAISE
    recovered_share: float = 0.0  # collateral less the keeper's bounty, of the max price (set at set-up)
    raised: dict[tuple[str, str], float] = field(default_factory=dict)  # (customer, model) → budget multiplier
    went_outside: Counter[str] = field(default_factory=Counter)
    to_market: Counter[str] = field(default_factory=Counter)
    ended: Counter[str] = field(default_factory=Counter)  # leases that settled or failed, by model
    failed: Counter[str] = field(default_factory=Counter)
    paid_before_failing: dict[str, float] = field(default_factory=dict)  # sum of failed leases' paid shares
    raises: int = 0

    def takes_market(self, rng: random.Random, model: str, reference_wei: int, outside: Decimal) -> bool:
        """Whether this job goes to the market (one draw of `rng`); counts a job taken elsewhere
        (the engine counts one posted with `posted`, once the customer could fund it)."""
        risk, paid = self.risk(model), self.paid_share(model)
        chance = demand_chance(reference_wei, outside, self.elasticity, risk, self.recovered_share, paid)
        if rng.random() < chance:
            return True
        self.went_outside[model] += 1
        return False

    def risk(self, model: str) -> float:
        """The model's failure risk from the market's outcomes so far."""
        return failure_risk(self.failed[model], self.ended[model])

    def paid_share(self, model: str) -> float:
        """The share of a failed lease's value its customer had paid, from the model's failures."""
        total = self.paid_before_failing.get(model, 0.0) + PAID_PRIOR[0]
        return total / (self.failed[model] + PAID_PRIOR[1])

    def lease_ended(self, model: str, failed: bool, paid_share: float = 0.0) -> None:
        """A lease of `model` ended (`JobSettled` or `JobFailed`, with the share of its value paid),
        as every customer sees on chain."""
        self.ended[model] += 1
        if failed:
            self.failed[model] += 1
            self.paid_before_failing[model] = self.paid_before_failing.get(model, 0.0) + paid_share

    def budget(self, customer: str, model: str, share: float, outside: Decimal) -> Decimal | None:
        """The max price (USD per GPU-hour) of the customer's next job for `model`: its
        `budget_share` of the outside price; None, counted as taken elsewhere, when the failure
        risk leaves nothing worth posting."""
        budget = (outside * Decimal(str(self.budget_share(customer, model, share)))).quantize(TICK)
        if budget < TICK:  # nothing worth posting (a max price rounds to the tick, 0.0001)
            self.went_outside[model] += 1
            return None
        return budget

    def posted(self, model: str) -> None:
        """A job for `model` went to the market."""
        self.to_market[model] += 1

    def budget_share(self, customer: str, model: str, share: float) -> float:
        """The customer's budget as a share of the outside price: its own share, raised after
        unfilled jobs, at most 1, then weighed by the model's failure risk (0: not worth posting)."""
        raised = min(1.0, share * self.raised.get((customer, model), 1.0))
        return risk_adjusted_share(raised, self.risk(model), self.recovered_share, self.paid_share(model))

    def unfilled(self, customer: str, model: str) -> None:
        """One of the customer's jobs for `model` ended with no lease: its next budget rises."""
        key = (customer, model)
        self.raised[key] = self.raised.get(key, 1.0) * (1 + self.budget_raise)
        self.raises += 1

    def report(self) -> dict[str, Any]:
        """What the run's customers did with their choices."""
        models = sorted(set(self.went_outside) | set(self.to_market))
        return {
            "elasticity": self.elasticity,
            "budget_raise": self.budget_raise,
            "to_market": {m: self.to_market[m] for m in models},
            "went_outside": {m: self.went_outside[m] for m in models},
            "budget_raises": self.raises,
            "failure_risk": {m: round(self.risk(m), 4) for m in sorted(set(models) | set(self.ended))},
            "paid_before_failing": {m: round(self.paid_share(m), 4) for m in sorted(self.ended)},
            "leases_ended": {m: self.ended[m] for m in sorted(self.ended)},
            "leases_failed": {m: self.failed[m] for m in sorted(self.ended)},
        }


__all__ = [
    "BUDGET_RAISE",
    "ELASTICITY",
    "RISK_PRIOR",
    "TRIAL",
    "Demand",
    "demand_chance",
    "failure_cost",
    "failure_risk",
    "outside_price",
    "risk_adjusted_share",
]
