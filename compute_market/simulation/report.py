"""The simulation's report: summary figures read back from the chain, a JSON record, CSV time
series and PNG plots."""

from __future__ import annotations

import csv
import json
import math
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from statistics import mean
from typing import Any

import matplotlib
import matplotlib.pyplot as plt

from compute_market.agent import ProviderAgent
from compute_market.models import JobStatus
from compute_market.simulation.config import SimConfig
from compute_market.simulation.engine import RunState, Simulation
from compute_market.units import from_wei

matplotlib.use("Agg")


def build_report(sim: Simulation, state: RunState) -> dict[str, Any]:
    """Every figure of the summary, read from the chain's state and logs where it can be."""
    p = sim.protocol
    market, registry, token, credits = p.market, p.registry, p.token, p.credits
    count = market.jobCount()
    statuses = Counter(JobStatus(market.statusOf(i)).name for i in range(1, count + 1))
    ever_leased = {int(log.jobId) for log in market.AuctionFinalized.range(0, chain_head(sim) + 1)}
    disputed = {int(log.jobId) for log in market.JobDisputed.range(0, chain_head(sim) + 1)}

    prices: dict[str, list[Decimal]] = defaultdict(list)
    for tick in state.ticks:
        for model, cleared in tick.clearing.items():
            prices[model].extend(cleared)
    per_model = {}
    for model, gpu in sim.catalog.models.items():
        if model not in sim.cfg.gpu_mix:
            continue
        cleared = prices.get(model, [])
        avg = Decimal(mean(cleared)) if cleared else None
        per_model[model] = {
            "cloud_usd_per_gpu_hour": str(gpu.cloud_usd_per_gpu_hour),
            "jobs_cleared": len(cleared),
            "mean_clearing_usd": f"{avg:.4f}" if avg is not None else None,
            "discount_vs_cloud_pct": f"{(1 - avg / gpu.cloud_usd_per_gpu_hour) * 100:.1f}" if avg else None,
            "reference_price_usd": str(from_wei(market.referencePrice(model.encode().ljust(32, b"\0")))),
        }

    providers = [provider_report(sim, agent) for agent in sim.agents]
    slashed = sum(from_wei(log.amount) for log in registry.Slashed.range(0, chain_head(sim) + 1))
    verifier_slashed = sum(from_wei(log.amount) for log in p.registry.VerifierSlashed.range(0, chain_head(sim) + 1))
    minted_logs = list(credits.CreditsMinted.range(0, chain_head(sim) + 1))
    redeemed_logs = list(credits.CreditsRedeemed.range(0, chain_head(sim) + 1))
    hours_simulated = len(state.ticks)
    txs = sum(state.tx_by_actor.values())
    return {
        "config": {k: (v if isinstance(v, int | float | str | dict) else str(v)) for k, v in vars(sim.cfg).items()},
        "jobs": {
            "posted": count,
            "filled": len(ever_leased),
            "expired": statuses.get("EXPIRED", 0),
            "failed": statuses.get("FAILED", 0),
            "disputed": len(disputed),
            "cancelled": statuses.get("CANCELLED", 0),
            "settled": statuses.get("SETTLED", 0),
            "live": sum(statuses.get(s, 0) for s in ("BIDDING", "LEASED", "RESULT_SUBMITTED", "DISPUTED")),
            "by_status": dict(statuses),
        },
        "prices": per_model,
        "providers": providers,
        "slashes": {
            "provider_cmp": str(slashed),
            "verifier_cmp": str(verifier_slashed),
            "challenges": state.challenges,
            "cheaters": dict(state.cheats),
        },
        "credits": {
            "minted_crd": str(sum(from_wei(log.credits) for log in minted_logs)),
            "cmp_burned_for_credits": str(sum(from_wei(log.tokensBurned) for log in minted_logs)),
            "redeemed_crd": str(sum(from_wei(log.credits) for log in redeemed_logs)),
            "crd_supply": str(from_wei(credits.totalSupply())),
        },
        "tokens": {
            "cmp_supply_start": str(from_wei(sim.genesis_cmp)),
            "cmp_supply_end": str(from_wei(token.totalSupply())),
            "emitted_cmp": str(from_wei(p.rewards.totalClaimed())),
        },
        "gas_by_actor": {k: {"gas": v, "txs": state.tx_by_actor[k]} for k, v in sorted(state.gas_by_actor.items())},
        "refusals": dict(state.refused.most_common(12)),
        "throughput": {
            "wall_seconds": round(state.wall_seconds, 1),
            "simulated_hours": hours_simulated,
            "jobs_per_minute": round(count / (state.wall_seconds / 60), 2) if state.wall_seconds else None,
            "actor_tx_per_second": round(txs / state.wall_seconds, 2) if state.wall_seconds else None,
            "raw_anvil_tx_per_second": round(state.anvil_tx_per_second, 2),
        },
    }


def chain_head(sim: Simulation) -> int:
    from ape import chain

    return int(chain.blocks.head.number)


def provider_report(sim: Simulation, agent: ProviderAgent) -> dict[str, Any]:
    """Credits earned (net of fees), the cost of the GPU-hours served, profit, and rewards."""
    market = sim.protocol.market
    me = agent.me
    earned = sum(
        from_wei(log.net) for log in market.EarningsClaimed.range(0, chain_head(sim) + 1) if log["provider"] == me
    )
    served = Decimal(0)
    for log in market.AuctionFinalized.range(0, chain_head(sim) + 1):
        if log["provider"] == me:
            job = market.getJob(int(log.jobId))
            end = job.leaseEnd or min(job.leaseStart + job.duration, sim.state.ticks[-1].timestamp)
            served += Decimal(max(0, end - job.leaseStart)) / 3600 * job.gpuCount
    cost = served * agent.cost.cost_per_gpu_hour()
    view = sim.protocol.registry.providerOf(me)
    return {
        "address": me,
        "kind": sim.actor_type[me],
        "gpu_model": agent.gpu_model,
        "ask_usd": str(agent.cost.ask()),
        "gpu_hours_served": f"{served:.2f}",
        "earned_crd": f"{earned:.4f}",
        "cost_usd": f"{cost:.4f}",
        "profit_usd": f"{earned - cost:.4f}",
        "stake_cmp": str(from_wei(view.staked)),
        "provisioned_cmp": str(from_wei(view.provisioned)),
        "reputation_bps": sim.protocol.registry.reputationOf(me),
    }


def write_outputs(report: dict[str, Any], state: RunState, cfg: SimConfig, out: Path) -> list[Path]:
    """The JSON record, the CSV time series and the PNG plots; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    files = [out / "report.json", out / "timeseries.csv"]
    files[0].write_text(json.dumps(report, indent=2, default=str) + "\n")
    models = list(cfg.gpu_mix)
    with files[1].open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            [
                "hour",
                "block",
                "timestamp",
                "jobs_posted",
                "utilization",
                "cmp_supply",
                "crd_supply",
                *[f"clearing_{m}" for m in models],
                *[f"reference_{m}" for m in models],
                *[s.name.lower() for s in JobStatus if s != JobStatus.NONE],
            ]
        )
        for t in state.ticks:
            writer.writerow(
                [
                    t.hour,
                    t.block,
                    t.timestamp,
                    t.jobs_posted,
                    f"{t.utilization:.4f}",
                    t.cmp_supply,
                    t.crd_supply,
                    *[f"{mean(t.clearing[m]):.4f}" if t.clearing.get(m) else "" for m in models],
                    *[t.reference.get(m, "") for m in models],
                    *[t.statuses.get(s.name, 0) for s in JobStatus if s != JobStatus.NONE],
                ]
            )
    files += plot(report, state, cfg, out)
    return files


def plot(report: dict[str, Any], state: RunState, cfg: SimConfig, out: Path) -> list[Path]:
    hours = [t.hour for t in state.ticks]
    paths = []

    fig, ax = plt.subplots(figsize=(9, 5))
    for i, model in enumerate(cfg.gpu_mix):
        color = f"C{i}"
        points = [(t.hour, float(p)) for t in state.ticks for p in t.clearing.get(model, [])]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.scatter(xs, ys, s=14, color=color, label=f"{model} clearing")
        # No reference price yet: NaN leaves a gap in the line.
        ax.plot(hours, [float(t.reference.get(model, 0)) or math.nan for t in state.ticks], color=color, lw=1)
        cloud = float(report["prices"][model]["cloud_usd_per_gpu_hour"])
        ax.axhline(cloud, color=color, ls="--", lw=1, label=f"{model} cloud {cloud:.2f}")
    ax.set(
        yscale="log",
        xlabel="hour",
        ylabel="USD per GPU-hour",
        title=f"Clearing prices (dots), reference prices (lines) and cloud list prices (dashed), {cfg.scenario}",
    )
    ax.legend(fontsize=7, ncol=2)
    paths.append(_save(fig, out / "prices.png"))

    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(hours, [t.utilization * 100 for t in state.ticks])
    ax.set(xlabel="hour", ylabel="% of offered GPUs reserved", title="Utilization", ylim=(0, 100))
    paths.append(_save(fig, out / "utilization.png"))

    fig, ax1 = plt.subplots(figsize=(9, 4))
    ax1.plot(hours, [float(t.cmp_supply) for t in state.ticks], color="C0", label="CMP supply")
    ax1.set(xlabel="hour", ylabel="CMP")
    ax2 = ax1.twinx()
    ax2.plot(hours, [float(t.crd_supply) for t in state.ticks], color="C1", label="CRD supply")
    ax2.set_ylabel("CRD (USD)")
    fig.legend(loc="upper left")
    ax1.set_title("Token supply and credits outstanding")
    paths.append(_save(fig, out / "supply.png"))

    fig, ax = plt.subplots(figsize=(9, 4))
    profits = [(p["kind"], float(p["profit_usd"])) for p in report["providers"]]
    ax.bar(range(len(profits)), [v for _, v in profits], color=["C3" if k == "cheater" else "C2" for k, _ in profits])
    ax.set(xlabel="provider", ylabel="USD", title="Provider profit (green: honest, red: cheating)")
    paths.append(_save(fig, out / "earnings.png"))
    return paths


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
