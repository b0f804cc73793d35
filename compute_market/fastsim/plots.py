"""The run's PNG plots, the same four as the Ape engine (`ape run simulate`) draws
(`simulation/report.py`), from the time series and the report: clearing and reference prices
against the catalog's cloud prices per GPU model, utilisation, CMP and CRD supplies, and each
provider's profit. Every axis is labelled."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from compute_market.fastsim.series import Series

PLOTS = ("prices.png", "utilization.png", "supply.png", "earnings.png")


def plot(report: dict[str, Any], series: Series, out: Path) -> list[Path]:
    """Writes the four PNGs into `out`; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    return [_save(fig, out / name) for name, fig in figures(report, series).items()]


def figures(report: dict[str, Any], series: Series) -> dict[str, Figure]:
    """The four figures, by file name (not yet saved: `plot` saves and closes them)."""
    return {
        PLOTS[0]: _prices(report, series),
        PLOTS[1]: _utilization(series),
        PLOTS[2]: _supply(series),
        PLOTS[3]: _earnings(report),
    }


def _prices(report: dict[str, Any], series: Series) -> Figure:
    hours = [t.hour for t in series.ticks]
    fig, ax = plt.subplots(figsize=(9, 5))
    for i, model in enumerate(report["config"]["gpu_mix"]):
        color = f"C{i}"
        points = [(t.hour, p) for t in series.ticks for p in t.clearing.get(model, [])]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.scatter(xs, ys, s=14, color=color, label=f"{model} clearing")
        # no reference price yet: NaN leaves a gap in the line
        ax.plot(hours, [t.reference.get(model, math.nan) for t in series.ticks], color=color, lw=1)
        asks = [t.asks.get(model, math.nan) for t in series.ticks]
        if any(not math.isnan(a) for a in asks):
            ax.plot(hours, asks, color=color, lw=1, ls=":", label=f"{model} mean ask")
        cloud = report["cloud"].get(model)
        if cloud is not None:
            ax.axhline(float(cloud), color=color, ls="--", lw=1, label=f"{model} cloud {float(cloud):.2f}")
    ax.set(
        yscale="log",
        xlabel="simulated hour",
        ylabel="USD (CRD) per GPU-hour",
        title=f"Clearing (dots), reference (lines), mean ask (dotted), cloud (dashed): {report['config']['scenario']}",
    )
    ax.legend(fontsize=7, ncol=2)
    return fig


def _utilization(series: Series) -> Figure:
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot([t.hour for t in series.ticks], [t.utilization * 100 for t in series.ticks])
    ax.set(xlabel="simulated hour", ylabel="% of offered GPUs leased or bid", title="Utilisation", ylim=(0, 100))
    return fig


def _supply(series: Series) -> Figure:
    hours = [t.hour for t in series.ticks]
    fig, ax1 = plt.subplots(figsize=(9, 4))
    start = series.ticks[0].cmp_supply if series.ticks else 0.0
    ax1.plot(hours, [t.cmp_supply - start for t in series.ticks], color="C0", label="CMP supply (change)")
    ax1.set(xlabel="simulated hour", ylabel=f"CMP supply, change since {start:,.0f}")
    ax2 = ax1.twinx()
    ax2.plot(hours, [t.crd_supply for t in series.ticks], color="C1", label="CRD supply")
    ax2.set_ylabel("CRD (USD)")
    fig.legend(loc="upper center", bbox_to_anchor=(0.5, 0.88))
    ax1.set_title("Token supply (rewards minted, credits' CMP burned) and credits outstanding")
    return fig


def _earnings(report: dict[str, Any]) -> Figure:
    fig, ax = plt.subplots(figsize=(9, 4))
    providers = report["providers"]
    colors = ["C2" if p["role"] == "honest" else "C3" for p in providers]
    ax.bar(range(len(providers)), [float(p["profit_usd"]) for p in providers], color=colors)
    ax.set(
        xlabel="provider (index)",
        ylabel="profit, USD (credits + rewards - cost of every owned GPU-hour)",
        title="Provider profit (green: honest, red: cheating)",
    )
    return fig


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
