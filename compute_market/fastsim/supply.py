"""Providers that enter and leave on profit (issue 18), on with `--entry-exit`.

- **Exit.** Every simulated hour, a provider of the market (honest, faking or abandoning: the
  adversaries keep their own strategies) that has been in the market for at least `window`
  hours (24) looks at its P&L over the last `window` hours: the credits it earned (slashes
  negative), the reward tokens it earned (claimed, or owed: the distributor's `pendingRewards`)
  valued at the oracle's latest answer, less the ownership
  cost of every GPU-hour it owned and the marginal cost of the busy ones. When that is negative it
  leaves: it stops bidding at once, its leases and sealed commitments run out, and once its bids
  lock nothing of its offer it withdraws the offer and takes its provision back (`setOffer(model,
  0, vram, 0)`: free stake excludes the provision) and requests to unstake all of its stake. Its
  hardware leaves the market with it: no cost is booked after that (sold or put to other use).
- **Entry.** `entrants` more providers (honest, drawn from their own seeded generator so that the
  incumbents and customers are those of the same run without entry) are set up dormant: funded and
  registered, no stake, no offer and no cost (they have not bought their GPUs). Every simulated
  hour, when the honest incumbents that have been in for `window` hours and are not leaving made
  money over it (their P&L as above, per owned GPU-hour, is positive), the next dormant one stakes,
  offers its GPUs with all its stake provisioned (`FastSim.enter`) and starts bidding; its costs
  start then. One a simulated hour at most.

The window must span a reward epoch (a day): rewards are earned epoch by epoch (`pendingRewards`
shows an epoch's once it is over), so a shorter window would see the costs of hours whose rewards
have not come yet.

Token rewards count in both decisions at the oracle's price (`--no-rewards-in-decisions`: at
nothing, as if the token were worthless; slashes are still valued at the oracle price, as the
ledgers book them): in a market whose emission pays more than the hardware
costs, providers enter whatever the customers pay (README, "Providers that enter and leave")."""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from compute_market.economics import ProviderLedger
from compute_market.fastsim.chain import Tx
from compute_market.units import from_wei

if TYPE_CHECKING:
    from compute_market.fastsim.actors import Provider
    from compute_market.fastsim.engine import FastSim

WINDOW_HOURS = 24
MARKET_ROLES = ("honest", "fake", "abandon")  # the market's providers; an adversary plays its own strategy
ACTIVE, DORMANT, LEAVING, LEFT = "active", "dormant", "leaving", "left"


@dataclass(frozen=True)
class Snapshot:
    """A provider's ledger at the end of one simulated hour."""

    credits_usd: Decimal
    reward_tokens: Decimal
    owned_gpu_hours: Decimal
    busy_gpu_hours: Decimal


def snapshot(p: Provider, unclaimed_tokens: Decimal = Decimal(0)) -> Snapshot:
    """The provider's ledger now; its reward tokens include those earned and not yet claimed."""
    ledger = p.ledger
    tokens = ledger.reward_tokens + unclaimed_tokens
    return Snapshot(ledger.credits_usd, tokens, ledger.owned_gpu_hours, ledger.busy_gpu_hours)


def trailing_pnl(p: Provider, then: Snapshot, now: Snapshot, token_price: Decimal) -> tuple[Decimal, Decimal]:
    """The provider's profit between two snapshots, rewards at `token_price` (the ledger's own
    `pnl` over the difference), and the GPU-hours it owned in between."""
    between = ProviderLedger(
        p.costs,
        p.gpu_count,
        owned_gpu_hours=now.owned_gpu_hours - then.owned_gpu_hours,
        busy_gpu_hours=now.busy_gpu_hours - then.busy_gpu_hours,
        credits_usd=now.credits_usd - then.credits_usd,
        reward_tokens=now.reward_tokens - then.reward_tokens,
    )
    return between.pnl(token_price).profit, between.owned_gpu_hours


@dataclass
class Supply:
    """Who is in the market, who entered and who left, and why."""

    window: int = WINDOW_HOURS
    history: dict[str, deque[Snapshot]] = field(default_factory=dict)
    joining: list[Provider] = field(default_factory=list)  # decided, their stake not sent yet
    entries: list[dict[str, Any]] = field(default_factory=list)
    exits: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.window < WINDOW_HOURS:
            raise ValueError(f"exit_window_hours must span a reward epoch (at least {WINDOW_HOURS}), got {self.window}")

    def make_entrants(self, sim: FastSim, count: int, first_index: int) -> list[Provider]:
        """`count` honest providers, dormant, drawn as the engine draws its own (`_provider`) from
        a generator of their own."""
        rng = random.Random(f"{sim.cfg.seed}-entrants")
        names, weights = zip(*sim.cfg.gpu_mix.items(), strict=True)
        out = []
        for i in range(count):
            p = sim.new_provider(first_index + i, "honest", rng.choices(names, weights)[0], rng)
            p.state = DORMANT
            out.append(p)
        return out

    def hourly(self, sim: FastSim, hour: int) -> None:
        """After the hour's records: each provider's snapshot, the exits, and at most one entry."""
        sim.book_earnings()  # what the last block paid (claims land on the hour) before the snapshots
        price = sim.token_price() if sim.cfg.rewards_in_decisions else Decimal(0)
        market_profit, market_owned = Decimal(0), Decimal(0)
        present = [p for p in sim.providers if p.state in (ACTIVE, LEAVING)]
        # rewards earned and not claimed yet count too (claims come once a simulated day)
        unclaimed = sim.chain.calls([("RewardsDistributor", "pendingRewards", (p.address,)) for p in present])
        for p, (activity, stake) in zip(present, unclaimed, strict=True):
            history = self.history.setdefault(p.address, deque(maxlen=self.window + 1))
            history.append(snapshot(p, from_wei(int(activity) + int(stake))))
            if len(history) <= self.window:
                continue  # not in the market for a whole window yet
            profit, owned = trailing_pnl(p, history[0], history[-1], price)
            if p.role == "honest" and p.state == ACTIVE:  # the entry signal: the providers staying
                market_profit, market_owned = market_profit + profit, market_owned + owned
            if p.state == ACTIVE and profit < 0 and p.role in MARKET_ROLES:
                p.state = LEAVING
                self.exits.append({"provider": p.address, "hour": hour, "trailing_pnl_usd": str(round(profit, 2))})
        dormant = [p for p in sim.providers if p.state == DORMANT and p not in self.joining]
        if dormant and market_owned > 0 and market_profit > 0:
            p = dormant[0]
            self.joining.append(p)
            per_hour = round(market_profit / market_owned, 4)
            self.entries.append({"provider": p.address, "hour": hour, "market_profit_per_gpu_hour": str(per_hour)})

    def step(self, sim: FastSim, txs: list[Tx]) -> None:
        """The entrants' stakes and offers; a leaving provider's offers withdrawn, its provision
        taken back and its stake asked back, once its bids lock nothing."""
        for p in self.joining:
            txs.extend(sim.enter(p, "provider"))
            p.state = ACTIVE
        self.joining.clear()
        m = sim.mirror
        for p in sim.providers:
            if p.state != LEAVING or m.locked(p.address) or m.reserved(p.address):
                continue  # leases and sealed commitments lock provision: it waits until they are over
            for model, offer in sorted(m.offers.get(p.address, {}).items()):
                if offer.gpus or offer.provisioned:  # nothing locked: all of it comes back
                    txs.append(Tx(p.address, "provider", "JobMarket", "setOffer", (model, 0, offer.vram, 0)))
            free = m.staked[p.address] - m.unbonding[p.address]  # once the provision is back
            if free > 0:
                txs.append(Tx(p.address, "provider", "ProviderRegistry", "requestUnstake", (free,)))
            p.state = LEFT

    def report(self, sim: FastSim) -> dict[str, Any]:
        states: dict[str, int] = {}
        for p in sim.providers:
            states[p.state] = states.get(p.state, 0) + 1
        return {
            "window_hours": self.window,
            "entries": self.entries,
            "exits": self.exits,
            "providers_by_state": dict(sorted(states.items())),
        }


__all__ = ["ACTIVE", "DORMANT", "LEAVING", "LEFT", "WINDOW_HOURS", "Supply", "trailing_pnl"]
