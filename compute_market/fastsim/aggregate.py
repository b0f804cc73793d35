"""Headline figures of many runs of one scenario (a sweep over seeds): for each, the mean and
a 90% interval (the 5th and 95th percentiles across runs, linearly interpolated), and a table."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.table import Table

JOB_FIGURES = ("posted", "filled", "settled", "failed", "expired", "cancelled", "bids", "fake_results_settled")
AUCTION_FIGURES = ("sealed_jobs", "sealed_filled", "commitments", "bonds_forfeited")
REVIEW_FIGURES = (
    *("verifications_requested", "approved", "rejected", "juries", "provider_fault", "no_fault"),
    *("customer_challenges", "unstake_withdrawals"),
    # the checks' re-executions over the leased GPU-hours (fastsim/overhead.py)
    *("overhead", "overhead_verifiers", "overhead_juries", "overhead_of_verified"),
)
ECONOMICS_FIGURES = (
    *("utilisation", "median_clearing", "discount_vs_hyperscaler", "discount_vs_marketplace_low"),
    *("break_even_usd", "profit_per_owned_gpu_hour", "profit_before_rewards_usd"),
)
FEW_SEEDS = 20  # below this, the 5th and 95th percentiles lie between the extreme runs


def percentile(values: list[float], q: float) -> float:
    """The `q`-th percentile (0-100) with linear interpolation between the closest ranks (numpy's
    default); the only value for a single run."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(values: list[float]) -> dict[str, float]:
    """Mean, median, 5th and 95th percentiles, extremes and the number of runs."""
    return {
        "mean": round(sum(values) / len(values), 4),
        "median": round(percentile(values, 50), 4),
        "p05": round(percentile(values, 5), 4),
        "p95": round(percentile(values, 95), 4),
        "min": round(min(values), 4),
        "max": round(max(values), 4),
        "runs": len(values),
    }


def headline(report: dict[str, Any]) -> dict[str, float]:
    """One run's headline figures as numbers: job outcomes, sealed auctions, redemptions, review
    (runs with verifiers), transactions, mean clearing price per GPU model (only models with leases), provider
    economics per GPU model (utilisation, median clearing, discounts, break-even, profit per owned GPU-hour and
    without rewards),
    actor tx/s."""
    jobs = report["jobs"]
    out: dict[str, float] = {f"jobs.{k}": float(jobs.get(k, 0)) for k in JOB_FIGURES}
    for key in AUCTION_FIGURES:
        if key in report.get("auctions", {}):
            out[f"auctions.{key}"] = float(report["auctions"][key])
    if "credits" in report:
        out["credits.redemptions"] = float(report["credits"]["redemptions"])
        out["credits.redeemed_crd"] = float(report["credits"]["redeemed_crd"])
    for key in REVIEW_FIGURES:  # runs with verifiers only
        if report.get("review", {}).get(key, "-") != "-":  # a ratio of nothing is "-"
            out[f"review.{key}"] = float(report["review"][key])
    if "tokens" in report:
        out["tokens.emitted_cmp"] = float(report["tokens"]["emitted_cmp"])
    out["transactions.run"] = float(report["transactions"]["run"])
    out["transactions.reverted"] = float(report["transactions"]["reverted"])
    for model, prices in sorted(report.get("prices", {}).items()):
        if prices.get("mean_clearing", "-") != "-":
            out[f"price.{model}"] = float(prices["mean_clearing"])
    for model, row in sorted(report.get("economics", {}).get("models", {}).items()):  # reports since issue 18
        for key in ECONOMICS_FIGURES:
            if row.get(key, "-") != "-":
                out[f"econ.{model}.{key}"] = float(row[key])
    adversaries: dict[str, float] = {}
    gas: dict[str, float] = {}
    for row in report.get("adversaries", []):  # runs with adversaries: each kind's net P&L (summed)
        adversaries[row["kind"]] = adversaries.get(row["kind"], 0.0) + float(row["net_usd"])
        used = row["details"].get("gas_used", row["details"].get("extra_gas_used"))
        if used is not None:  # the gas its own attack used (the farm's: beyond the control's)
            gas[row["kind"]] = gas.get(row["kind"], 0.0) + float(used)
    for kind, net in sorted(adversaries.items()):
        out[f"adversary.{kind}.net_usd"] = round(net, 2)
    for kind, used in sorted(gas.items()):
        out[f"adversary.{kind}.gas_used"] = used
    if "demand" in report:  # runs with the outside option: the share of demand that went elsewhere
        outside, market = sum(report["demand"]["went_outside"].values()), sum(report["demand"]["to_market"].values())
        if outside + market:
            out["demand.outside_share"] = round(outside / (outside + market), 4)
        out["demand.budget_raises"] = float(report["demand"]["budget_raises"])
    if "supply" in report:  # runs with entry and exit: how many came and went
        out["supply.entries"] = float(len(report["supply"]["entries"]))
        out["supply.exits"] = float(len(report["supply"]["exits"]))
    out["timing.actor_tx_per_s"] = float(report["timing"]["actor_tx_per_s"])
    if "actor_share_of_raw" in report["timing"]:  # reports from before it have none
        out["timing.actor_share_of_raw"] = float(report["timing"]["actor_share_of_raw"])
    out["timing.wall_seconds"] = float(report["timing"]["wall_seconds"])
    return out


def aggregate(reports: dict[int, dict[str, Any]], failures: dict[int, str] | None = None) -> dict[str, Any]:
    """Per figure, the summary across the runs (seed → report) that have it."""
    seeds = sorted(reports)
    per_run = {seed: headline(reports[seed]) for seed in seeds}
    names: list[str] = sorted({name for figures in per_run.values() for name in figures}, key=figure_order)
    figures = {name: summarize([per_run[s][name] for s in seeds if name in per_run[s]]) for name in names}
    note = ""
    if len(seeds) < FEW_SEEDS:
        note = (
            f"only {len(seeds)} runs: the 5th and 95th percentiles are interpolated between the runs' "
            "extremes and say little about the tails"
        )
    return {
        "seeds": seeds,
        "runs": len(seeds),
        "interval": "90% (5th to 95th percentile across runs, linear interpolation)",
        "note": note,
        "figures": figures,
        "per_run": {str(s): per_run[s] for s in seeds},
        "failed": {str(s): e for s, e in sorted((failures or {}).items())},
    }


def figure_order(name: str) -> tuple[int, str]:
    """Jobs first (in outcome order), then auctions, credits, review, tokens, transactions, prices,
    economics, adversaries, timing."""
    group, _, key = name.partition(".")
    groups = (
        *("jobs", "auctions", "credits", "review", "tokens", "transactions", "price", "econ", "adversary"),
        "timing",
    )
    rank = groups.index(group) if group in groups else len(groups)
    inner = JOB_FIGURES.index(key) if group == "jobs" and key in JOB_FIGURES else 0
    inner = AUCTION_FIGURES.index(key) if group == "auctions" and key in AUCTION_FIGURES else inner
    inner = REVIEW_FIGURES.index(key) if group == "review" and key in REVIEW_FIGURES else inner
    return rank * 100 + inner, name


def format_figure(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 or value == int(value) else f"{value:,.4g}"


def print_aggregate(console: Console, agg: dict[str, Any], wall: float | None = None, rows: Iterable[str] = ()) -> None:
    """The aggregate as a table: figure, mean, median, 90% interval, min-max."""
    caption = agg["note"] or None
    title = f"fastsim sweep: {agg['runs']} runs (seeds {', '.join(map(str, agg['seeds']))})"
    if wall is not None:
        title += f", {wall:.1f} s"
    table = Table(title=title, caption=caption)
    table.add_column("figure", no_wrap=True)
    table.add_column("mean", justify="right")
    table.add_column("median", justify="right")
    table.add_column("90% interval (p5 - p95)", justify="right")
    table.add_column("min - max", justify="right")
    wanted = set(rows)
    for name in sorted(agg["figures"], key=figure_order):  # aggregate.json's keys are sorted by name
        s = agg["figures"][name]
        if wanted and name not in wanted:
            continue
        table.add_row(
            name,
            format_figure(s["mean"]),
            format_figure(s["median"]) if "median" in s else "-",  # aggregates from before it have none
            f"{format_figure(s['p05'])} - {format_figure(s['p95'])}",
            f"{format_figure(s['min'])} - {format_figure(s['max'])}",
        )
    console.print(table)
    for seed, error in agg["failed"].items():
        console.print(f"[red]seed {seed} failed:[/red] {error}")
