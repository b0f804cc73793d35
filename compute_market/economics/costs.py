"""What one GPU costs its provider: ownership paid every hour, and the extra cost of a busy hour.

Every default below is documented with its source in docs/economics.md; the ones no source pins
down are marked there as assumptions. Money is Decimal, in USD; power in watts; time in hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from compute_market.simulation.config import GpuModel

HOURS_PER_YEAR = Decimal(8760)  # 365 days; the simulation's CostModel uses the same year
HOURS_PER_MONTH = HOURS_PER_YEAR / 12  # 730: colocation is quoted per kW-month
CENT = Decimal("0.01")

# Defaults (sources and caveats: docs/economics.md, "Defaults").
DEFAULT_SERVER_OVERHEAD_SHARE = Decimal("0.40")  # CPUs, RAM, NICs, chassis per GPU, as a share of the GPU price
DEFAULT_AMORTISATION_YEARS = Decimal(5)  # GPU-server useful life (Epoch AI, after hyperscaler lives)
DEFAULT_COST_OF_CAPITAL = Decimal("0.10")  # annual; low end of GPU-backed private credit (10-17% APR)
DEFAULT_PUE = Decimal("1.58")  # Uptime Institute industry average, 2023
DEFAULT_IDLE_FRACTION = Decimal("0.15")  # idle GPU draw as a share of TDP (measured 11-21%)
DEFAULT_BUSY_POWER_FACTOR = Decimal("1.38")  # busy server draw per GPU / GPU TDP (8x H100 node, measured)
DEFAULT_COLOCATION_USD_PER_KW_MONTH = Decimal("184.06")  # CBRE, North America, H2 2024
DEFAULT_PROVISIONED_POWER_FACTOR = Decimal("1.82")  # rated server kW per GPU / GPU TDP (DGX H100: 10.2 kW / 8)


def capital_recovery_factor(rate: Decimal, years: Decimal) -> Decimal:
    """The annuity that repays 1 USD borrowed (or tied up) at `rate` over `years`.

    CRF = r * (1 + r)^n / ((1 + r)^n - 1), and CRF = 1 / n when r = 0 (straight-line).
    3 years at 8%: 0.08 * 1.259712 / 0.259712 = 0.388034 per year.
    """
    if years <= 0:
        raise ValueError(f"amortisation years must be positive, got {years}")
    if rate < 0:
        raise ValueError(f"cost of capital must not be negative, got {rate}")
    if rate == 0:
        return 1 / years
    growth = (1 + rate) ** years
    return rate * growth / (growth - 1)


def _decimal(value: Decimal | int | float | str) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


@dataclass(frozen=True)
class ProviderCosts:
    """The costs of one GPU of one model, with its share of the server and the data centre.

    capital        = gpu_price_usd * (1 + server_overhead_share)            USD, paid up front
    capital/hour   = capital * CRF(cost_of_capital, amortisation_years) / 8760
    idle power     = idle_watts / 1000 * pue * electricity_usd_per_kwh        USD/h, every hour
    ownership/hour = capital/hour + hosting_usd_per_gpu_hour + idle power     paid idle or busy
    marginal/hour  = (busy_watts - idle_watts) / 1000 * pue * electricity    only when busy
    break_even(u)  = marginal + ownership / u                                 price per sold hour

    A provider that sells u of its hours at break_even(u) covers every hour it owns, idle ones
    included. Hosting is colocation rent for the GPU's share of the server's provisioned power; the
    electricity itself is billed separately, with the facility's overhead in the PUE.
    """

    model: str
    gpu_price_usd: Decimal
    electricity_usd_per_kwh: Decimal
    busy_watts: Decimal  # the GPU and its share of the host (CPUs, NICs, fans) when busy
    idle_watts: Decimal  # the same when idle
    hosting_usd_per_gpu_hour: Decimal
    server_overhead_share: Decimal = DEFAULT_SERVER_OVERHEAD_SHARE
    amortisation_years: Decimal = DEFAULT_AMORTISATION_YEARS
    cost_of_capital: Decimal = DEFAULT_COST_OF_CAPITAL
    pue: Decimal = DEFAULT_PUE

    def __post_init__(self) -> None:
        for name in ("gpu_price_usd", "electricity_usd_per_kwh", "idle_watts", "hosting_usd_per_gpu_hour"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")
        if self.server_overhead_share < 0:
            raise ValueError(f"server_overhead_share must not be negative, got {self.server_overhead_share}")
        if self.busy_watts < self.idle_watts:
            raise ValueError(f"busy_watts ({self.busy_watts}) below idle_watts ({self.idle_watts})")
        if self.pue < 1:
            raise ValueError(f"PUE is total power / IT power, at least 1, got {self.pue}")
        capital_recovery_factor(self.cost_of_capital, self.amortisation_years)  # validates both

    @classmethod
    def from_catalog(
        cls, gpu: GpuModel, electricity_usd_per_kwh: Decimal, **overrides: Decimal | int | float | str
    ) -> ProviderCosts:
        """The costs of one GPU of a catalog model, with the documented defaults.

        busy_watts = power_watts * busy_power_factor            (default 1.38)
        idle_watts = power_watts * idle_fraction                (default 0.15)
        hosting    = colocation_usd_per_kw_month * power_watts / 1000 * provisioned_power_factor / 730
                     (defaults 184.06 USD/kW-month and 1.82)

        Any field (pue, cost_of_capital, gpu_price_usd, ...) or any of these four inputs
        (busy_power_factor, idle_fraction, colocation_usd_per_kw_month, provisioned_power_factor)
        can be overridden by keyword; an unknown keyword raises TypeError.
        """
        values = {key: _decimal(value) for key, value in overrides.items()}
        busy_factor = values.pop("busy_power_factor", DEFAULT_BUSY_POWER_FACTOR)
        idle_fraction = values.pop("idle_fraction", DEFAULT_IDLE_FRACTION)
        colocation = values.pop("colocation_usd_per_kw_month", DEFAULT_COLOCATION_USD_PER_KW_MONTH)
        provisioned = values.pop("provisioned_power_factor", DEFAULT_PROVISIONED_POWER_FACTOR)
        if not 0 <= idle_fraction <= busy_factor:
            raise ValueError(f"idle_fraction {idle_fraction} must lie in [0, busy_power_factor {busy_factor}]")
        fields = {
            "gpu_price_usd": gpu.purchase_usd,
            "busy_watts": gpu.power_watts * busy_factor,
            "idle_watts": gpu.power_watts * idle_fraction,
            "hosting_usd_per_gpu_hour": colocation * gpu.power_watts / 1000 * provisioned / HOURS_PER_MONTH,
        }
        unknown = set(values) - (set(cls.__dataclass_fields__) - {"model", "electricity_usd_per_kwh"})
        if unknown:
            raise TypeError(f"unknown cost overrides: {sorted(unknown)}")
        fields.update(values)
        return cls(
            model=gpu.model,
            electricity_usd_per_kwh=_decimal(electricity_usd_per_kwh),
            gpu_price_usd=fields["gpu_price_usd"],
            busy_watts=fields["busy_watts"],
            idle_watts=fields["idle_watts"],
            hosting_usd_per_gpu_hour=fields["hosting_usd_per_gpu_hour"],
            server_overhead_share=fields.get("server_overhead_share", DEFAULT_SERVER_OVERHEAD_SHARE),
            amortisation_years=fields.get("amortisation_years", DEFAULT_AMORTISATION_YEARS),
            cost_of_capital=fields.get("cost_of_capital", DEFAULT_COST_OF_CAPITAL),
            pue=fields.get("pue", DEFAULT_PUE),
        )

    def capital_usd(self) -> Decimal:
        """The GPU and its share of the server: gpu_price_usd * (1 + server_overhead_share)."""
        return self.gpu_price_usd * (1 + self.server_overhead_share)

    def capital_per_hour(self) -> Decimal:
        """capital * CRF(cost_of_capital, amortisation_years) / 8760: the annuity, per hour owned."""
        crf = capital_recovery_factor(self.cost_of_capital, self.amortisation_years)
        return self.capital_usd() * crf / HOURS_PER_YEAR

    def idle_power_per_hour(self) -> Decimal:
        """idle_watts / 1000 * pue * electricity_usd_per_kwh."""
        return self.idle_watts / 1000 * self.pue * self.electricity_usd_per_kwh

    def ownership_per_hour(self) -> Decimal:
        """Paid every hour the GPU is owned, idle or busy: capital recovery + hosting + idle power."""
        return self.capital_per_hour() + self.hosting_usd_per_gpu_hour + self.idle_power_per_hour()

    def marginal_per_busy_hour(self) -> Decimal:
        """The extra cost of a busy hour: (busy_watts - idle_watts) / 1000 * pue * electricity."""
        return (self.busy_watts - self.idle_watts) / 1000 * self.pue * self.electricity_usd_per_kwh

    def break_even_price(self, utilisation: Decimal | float | str) -> Decimal:
        """The price per sold GPU-hour that covers every owned hour: marginal + ownership / u.

        u is the share of owned hours sold, in (0, 1]; at u = 1 this is ownership + marginal.
        """
        u = _decimal(utilisation)
        if not 0 < u <= 1:
            raise ValueError(f"utilisation must lie in (0, 1], got {u}")
        return self.marginal_per_busy_hour() + self.ownership_per_hour() / u

    def break_even_utilisation(self, price: Decimal) -> Decimal | None:
        """The share of hours a provider must sell at `price` to break even: ownership / (price - marginal).

        None when the price does not even cover the marginal cost, or when breaking even would need
        more than every hour (the result would exceed 1).
        """
        contribution = price - self.marginal_per_busy_hour()
        if contribution <= 0:
            return None
        needed = self.ownership_per_hour() / contribution
        return needed if needed <= 1 else None
