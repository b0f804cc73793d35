"""Simulation settings, the GPU catalog, and the two headline scenarios."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

CATALOG_PATH = Path(__file__).resolve().parents[2] / "data" / "gpu_catalog.json"


@dataclass(frozen=True)
class PriceQuote:
    """One rental price of a GPU model: a hyperscaler instance or a marketplace offering, per GPU-hour."""

    provider: str
    offering: str  # the instance type (hyperscaler) or the offering (marketplace)
    usd_per_gpu_hour: Decimal  # the low end where the source gives a range
    usd_per_gpu_hour_high: Decimal | None  # the high end of a range, else None
    source: str
    date: str  # the source's date, or when the stored copy was read
    checked: bool  # True: machine-generated provider data; False: a secondary article

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> PriceQuote:
        high = raw.get("usd_per_gpu_hour_high")
        return cls(
            raw["provider"],
            raw.get("instance") or raw.get("offering", ""),
            Decimal(str(raw["usd_per_gpu_hour"])),
            None if high is None else Decimal(str(high)),
            raw["source"],
            raw["date"],
            bool(raw["checked"]),
        )


@dataclass(frozen=True)
class GpuModel:
    """One GPU model of the catalog (see data/gpu_catalog.json for every figure's source).

    The simulation uses the first five fields; the price quotes and notes document where
    cloud_usd_per_gpu_hour comes from and what the marketplaces charge."""

    model: str
    vram_gb: int
    power_watts: Decimal
    purchase_usd: Decimal
    cloud_usd_per_gpu_hour: Decimal
    hyperscaler: tuple[PriceQuote, ...] = ()
    marketplace: tuple[PriceQuote, ...] = ()
    notes: str = ""


@dataclass(frozen=True)
class Catalog:
    electricity_usd_per_kwh: Decimal
    models: dict[str, GpuModel]

    @classmethod
    def load(cls, path: Path = CATALOG_PATH) -> Catalog:
        raw = json.loads(path.read_text())
        models = {
            m["model"]: GpuModel(
                m["model"],
                int(m["vram_gb"]),
                Decimal(str(m["power_watts"])),
                Decimal(str(m["purchase_usd"])),
                Decimal(str(m["cloud_usd_per_gpu_hour"])),
                tuple(PriceQuote.from_json(q) for q in m.get("hyperscaler", ())),
                tuple(PriceQuote.from_json(q) for q in m.get("marketplace", ())),
                m.get("notes", ""),
            )
            for m in raw["models"]
        }
        return cls(Decimal(str(raw["electricity"]["usd_per_kwh"])), models)


def scenario_market(name: str, providers: int, demand: float) -> tuple[int, float]:
    """Providers and jobs per customer-hour of scenario `name`, for both engines: `glut`, idle
    supply is large (at least 16 providers, demand 0.15: Akash and io.net's claim of prices
    80-90% below the clouds); `scarce`, few providers and many jobs (at most 3 providers, demand
    0.6: prices rise toward the cloud price); `baseline`, as set."""
    if name == "glut":
        return max(providers, 16), 0.15
    if name == "scarce":
        return min(providers, 3), 0.6
    if name == "baseline":
        return providers, demand
    raise ValueError(f"unknown scenario {name!r}: baseline, glut or scarce")


@dataclass(frozen=True)
class SimConfig:
    """Everything a run depends on; the same config and seed give the same run."""

    seed: int = 7
    days: int = 2
    providers: int = 10
    customers: int = 5
    verifiers: int = 7
    gpu_mix: dict[str, float] = field(
        default_factory=lambda: {"H100-80GB": 0.4, "A100-80GB": 0.3, "A10G-24GB": 0.15, "L4-24GB": 0.15}
    )
    sealed_share: float = 0.4  # share of jobs with sealed auctions
    jobs_per_customer_hour: float = 0.25  # demand
    budget: tuple[float, float] = (0.5, 1.0)  # max price as a share of the cloud price
    verification_share: float = 0.3
    cancel_rate: float = 0.05  # per leased job, once
    check_rate: float = 0.7  # chance a customer checks a result (and challenges a fake one)
    cheat_fake_rate: float = 0.15  # share of providers that fake results
    cheat_abandon_rate: float = 0.1  # share of providers that abandon leases
    lazy_verifier_rate: float = 0.2  # share of verifiers that approve without checking
    amortization_years: float = 3.0
    utilization_assumed: float = 0.6  # the share of hours providers expect to sell
    margin: tuple[float, float] = (0.05, 0.3)
    undercut_step: Decimal = Decimal("0.10")
    scenario: str = "baseline"

    def for_scenario(self, name: str) -> SimConfig:
        """The market of scenario `name` (see `scenario_market`)."""
        providers, demand = scenario_market(name, self.providers, self.jobs_per_customer_hour)
        return replace(self, scenario=name, providers=providers, jobs_per_customer_hour=demand)
