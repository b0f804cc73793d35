"""The run's hourly time series, from the mirror only (no call to the node): jobs by status,
utilisation of the providers' GPUs, CMP and CRD supplies, the leases cleared in the hour per GPU
model, the market's reference prices and the providers' mean ask per model (it follows their
realised utilisation). Written as `timeseries.csv` and drawn by `plots`."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from compute_market.fastsim.mirror import JobState, Status
from compute_market.fastsim.supply import ACTIVE, LEAVING
from compute_market.units import bytes32, from_wei

if TYPE_CHECKING:
    from compute_market.fastsim.engine import FastSim

STATUSES = [s for s in Status if s != Status.NONE]


@dataclass(frozen=True)
class Tick:
    """The market at the end of one simulated hour (prices in CRD, i.e. USD, per GPU-hour)."""

    hour: float  # simulated hours since the run started
    timestamp: int
    jobs_posted: int
    statuses: dict[str, int]
    utilization: float  # share of the providers' GPUs held by collateral locks
    cmp_supply: float
    crd_supply: float
    clearing: dict[str, list[float]]  # GPU model → the prices of the leases cleared in the hour
    reference: dict[str, float]  # GPU model → the market's reference price (absent before any)
    asks: dict[str, float] = field(default_factory=dict)  # GPU model → its providers' mean ask


@dataclass
class Series:
    """Ticks, and the leases cleared since the last one (the engine tells each)."""

    ticks: list[Tick] = field(default_factory=list)
    pending: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def cleared(self, model: str, job: JobState) -> None:
        """A lease of `model` cleared at `job.price`."""
        self.pending[model].append(float(from_wei(job.price)))

    def record(self, sim: FastSim, now: int) -> None:
        """The tick at `now`."""
        m = sim.mirror
        present = [p for p in sim.providers if p.state in (ACTIVE, LEAVING)]  # not dormant or gone
        offered = sum(p.gpu_count for p in present)
        reserved = sum(m.reserved(p.address) for p in present)
        reference = {model: float(from_wei(m.reference.get(bytes32(model), 0))) for model in sim.cfg.gpu_mix}
        asks: defaultdict[str, list[float]] = defaultdict(list)
        for p in present:
            asks[p.gpu_model].append(float(p.ask))
        self.ticks.append(
            Tick(
                hour=(now - sim.start_time) / 3600,
                timestamp=now,
                jobs_posted=len(m.jobs),
                statuses=dict(Counter(job.status.name for job in m.jobs.values())),
                utilization=reserved / offered if offered else 0.0,
                cmp_supply=float(from_wei(m.supply["CMP"])),
                crd_supply=float(from_wei(m.supply["CRD"])),
                clearing={model: prices for model, prices in self.pending.items()},
                reference={k: v for k, v in reference.items() if v},
                asks={model: sum(values) / len(values) for model, values in asks.items()},
            )
        )
        self.pending = defaultdict(list)

    def write_csv(self, path: Path, models: list[str]) -> Path:
        """One row per tick: the figures above, the mean clearing and the reference price per model,
        the statuses, and the providers' mean ask per model."""
        with path.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(
                [
                    *("hour", "timestamp", "jobs_posted", "utilization", "cmp_supply", "crd_supply"),
                    *[f"clearing_{m}" for m in models],
                    *[f"reference_{m}" for m in models],
                    *[s.name.lower() for s in STATUSES],
                    *[f"ask_{m}" for m in models],
                ]
            )
            for t in self.ticks:
                means = [t.clearing.get(m) for m in models]
                writer.writerow(
                    [
                        *(f"{t.hour:g}", t.timestamp, t.jobs_posted, f"{t.utilization:.4f}"),
                        *(f"{t.cmp_supply:.4f}", f"{t.crd_supply:.4f}"),
                        *[f"{sum(p) / len(p):.4f}" if p else "" for p in means],
                        *[f"{t.reference[m]:.4f}" if m in t.reference else "" for m in models],
                        *[t.statuses.get(s.name, 0) for s in STATUSES],
                        *[f"{t.asks[m]:.4f}" if m in t.asks else "" for m in models],
                    ]
                )
        return path
