"""A provider's ask from the utilisation it actually realised, not from an assumed one.

Why not cost-plus at realised utilisation (ask = break_even(u) * (1 + margin))? Because
break_even(u) = marginal + ownership / u rises as u falls: a provider that sells fewer hours would
ask more, sell fewer still, and ask more again. Prices would then follow whatever utilisation the
run happens to produce upward, and a glut would make compute dearer, never cheaper.

The ownership cost is sunk for the period: it is paid whether the GPU is idle or busy. Any price
above the marginal cost of a busy hour therefore beats idling (an idle GPU earns nothing and still
pays ownership). So the short-run floor of a rational ask is the marginal cost, and how much of
the ownership cost a provider can load onto its price depends on demand, which it observes as its
trailing utilisation. `ask_price` uses that signal:

    w(u) = max(0, (u - floor_utilisation) / (full_cost_utilisation - floor_utilisation))
    ask  = (1 + margin) * (marginal + w(u) * ownership / full_cost_utilisation)

- u <= floor_utilisation: w = 0, ask = marginal * (1 + margin), the opportunity-cost floor;
- u = full_cost_utilisation: w = 1, ask = break_even(full_cost_utilisation) * (1 + margin): a
  provider that sells that share of its hours at that price covers every hour it owns;
- u > full_cost_utilisation: w > 1, a scarcity premium; at u = 1 (every hour sold) the ask is
  highest. A busy provider raises its price, an idle one cuts it.

The ask is non-decreasing in u, never below marginal * (1 + margin) (so never below the marginal
cost for margin >= 0), and rises with every cost (electricity, PUE, GPU price, cost of capital)
whenever u > floor_utilisation. Providers whose realised P&L stays negative (they sell too little at
asks below break-even) should exit; that lowers supply and raises the survivors' utilisation and
asks. The clearing price then comes out of supply, demand and costs rather than out of an assumed
utilisation. full_cost_utilisation is a pricing policy (the utilisation at which the provider asks
its full cost), not a cost input.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal

from compute_market.economics.costs import ProviderCosts

DEFAULT_FLOOR_UTILISATION = Decimal("0.05")
DEFAULT_FULL_COST_UTILISATION = Decimal("0.60")


def ask_price(
    costs: ProviderCosts,
    trailing_utilisation: Decimal | float | str,
    margin: Decimal | float | str,
    floor_utilisation: Decimal | float | str = DEFAULT_FLOOR_UTILISATION,
    full_cost_utilisation: Decimal | float | str = DEFAULT_FULL_COST_UTILISATION,
) -> Decimal:
    """The ask per GPU-hour, in USD, unrounded (see the module docstring for the rule and why).

    ask = (1 + margin) * (marginal + w * ownership / full_cost_utilisation),
    w   = max(0, (u - floor) / (full_cost - floor)),  u = trailing utilisation in [0, 1].
    """
    u, m = Decimal(str(trailing_utilisation)), Decimal(str(margin))
    floor, full = Decimal(str(floor_utilisation)), Decimal(str(full_cost_utilisation))
    if not 0 <= u <= 1:
        raise ValueError(f"trailing utilisation must lie in [0, 1], got {u}")
    if m < 0:
        raise ValueError(f"margin must not be negative, got {m}")
    if not 0 <= floor < full <= 1:
        raise ValueError(f"need 0 <= floor_utilisation ({floor}) < full_cost_utilisation ({full}) <= 1")
    weight = max(Decimal(0), (u - floor) / (full - floor))
    loaded = costs.marginal_per_busy_hour() + weight * costs.ownership_per_hour() / full
    return (1 + m) * loaded


class TrailingUtilisation:
    """Busy GPU-hours over owned GPU-hours across the last `window` recorded steps.

    utilisation = sum(busy) / sum(owned) over the window; `initial` until anything is recorded.
    A provider records each step's hours and prices its next ask from `value()`.
    """

    def __init__(self, window: int, initial: Decimal = Decimal(0)) -> None:
        if window < 1:
            raise ValueError(f"window must be at least one step, got {window}")
        self._steps: deque[tuple[Decimal, Decimal]] = deque(maxlen=window)
        self._initial = initial

    def record(self, owned_gpu_hours: Decimal, busy_gpu_hours: Decimal) -> None:
        if owned_gpu_hours < 0 or not 0 <= busy_gpu_hours <= owned_gpu_hours:
            raise ValueError(f"need 0 <= busy ({busy_gpu_hours}) <= owned ({owned_gpu_hours})")
        self._steps.append((Decimal(owned_gpu_hours), Decimal(busy_gpu_hours)))

    def value(self) -> Decimal:
        owned = sum((step[0] for step in self._steps), Decimal(0))
        if owned == 0:
            return self._initial
        return sum((step[1] for step in self._steps), Decimal(0)) / owned
