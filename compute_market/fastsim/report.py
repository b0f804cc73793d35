"""The run's report (a JSON-ready dict) and its summary table. Everything outside `timing`,
`raw` and `anvil` depends only on the settings and the seed."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from compute_market.agent import honest_result
from compute_market.fastsim.mirror import OPEN, SEALED, Bond, Status
from compute_market.units import from_bytes32, from_wei

if TYPE_CHECKING:
    from compute_market.fastsim.engine import FastSim

WALL_CLOCK_KEYS = ("timing", "raw", "anvil")  # the parts a repeated run may change


def _jobs(sim: FastSim) -> dict[str, Any]:
    jobs = sim.mirror.jobs.values()
    statuses = Counter(job.status.name for job in jobs)
    settled = [j for j in jobs if j.status == Status.SETTLED]
    fakes = sum(1 for j in settled if j.result_hash != honest_result(j.job_id, j.provider))
    return {
        "posted": len(sim.mirror.jobs),
        "filled": sum(1 for j in jobs if j.lease_start),
        "settled": statuses.get(Status.SETTLED.name, 0),
        "failed": statuses.get(Status.FAILED.name, 0),
        "expired": statuses.get(Status.EXPIRED.name, 0),
        "cancelled": statuses.get(Status.CANCELLED.name, 0),
        "open": statuses.get(Status.BIDDING.name, 0),
        "by_status": dict(sorted(statuses.items())),
        "fake_results_settled": fakes,
        "bids": sum(j.bids for j in jobs),
    }


def _auctions(sim: FastSim) -> dict[str, int]:
    """Open against sealed auctions: jobs, leases, and what became of the sealed commitments."""
    jobs = list(sim.mirror.jobs.values())
    sealed = [j for j in jobs if j.kind == SEALED]
    bonds = Counter(c.state.name for j in sealed for c in j.commitments.values())
    return {
        "open_jobs": len(jobs) - len(sealed),
        "open_filled": sum(1 for j in jobs if j.kind == OPEN and j.lease_start),
        "sealed_jobs": len(sealed),
        "sealed_filled": sum(1 for j in sealed if j.lease_start),
        "sealed_second_price": sum(1 for j in sealed if j.lease_start and j.second_price),
        "commitments": sum(bonds.values()),
        "revealed": bonds.get(Bond.REVEALED.name, 0),
        "bonds_forfeited": bonds.get(Bond.FORFEITED.name, 0),
        "bonds_released": bonds.get(Bond.RELEASED.name, 0),
        "unsettled": bonds.get(Bond.COMMITTED.name, 0),
    }


def _credits(sim: FastSim) -> dict[str, Any]:
    """Credit redemptions (burned CRD for minted CMP)."""
    redeemed = sim.mirror.redeemed
    return {
        "redemptions": redeemed["count"],
        "redeemed_crd": str(from_wei(redeemed["credits"]).quantize(Decimal("0.0001"))),
        "tokens_minted_cmp": str(from_wei(redeemed["tokens"]).quantize(Decimal("0.0001"))),
    }


def _prices(sim: FastSim) -> dict[str, dict[str, str]]:
    """Mean clearing price per GPU-hour by model, against the mean max price."""
    clearing: defaultdict[str, list[int]] = defaultdict(list)
    ceiling: defaultdict[str, list[int]] = defaultdict(list)
    for job in sim.mirror.jobs.values():
        model = from_bytes32(job.gpu_model)
        ceiling[model].append(job.max_price)
        if job.lease_start:
            clearing[model].append(job.price)
    out: dict[str, dict[str, str]] = {}
    for model in sorted(ceiling):
        prices = clearing[model]
        mean_max = from_wei(sum(ceiling[model])) / len(ceiling[model])
        out[model] = {
            "mean_max_price": str(mean_max.quantize(Decimal("0.0001"))),
            "mean_clearing": str((from_wei(sum(prices)) / len(prices)).quantize(Decimal("0.0001"))) if prices else "-",
            "leases": str(len(prices)),
        }
    return out


def build_report(
    sim: FastSim, extra: dict[str, Any], phases: dict[str, float], wall: float, rss: int, *, own_anvil: bool
) -> dict[str, Any]:
    """The report of a finished, checked run."""
    cfg = asdict(sim.cfg)
    cfg["undercut_step"] = str(cfg["undercut_step"])
    run_seconds = phases.get("run", 0.0) or 1e-9
    roles = Counter(p.role for p in sim.providers)
    report: dict[str, Any] = {
        "config": cfg,
        "actors": {"providers": dict(sorted(roles.items())), "customers": len(sim.customers), "keeper": 1},
        "jobs": _jobs(sim),
        "auctions": _auctions(sim),
        "credits": _credits(sim),
        "prices": _prices(sim),
        "transactions": {
            "setup": sim.setup_txs,
            "run": sim.run_txs,
            "reverted": sum(sim.reverted.values()),
            "dropped": sim.dropped,
            "by_actor": dict(sorted(sim.by_actor.items())),
            "by_kind": dict(sorted(sim.sent.items())),
            "reverted_by_kind": dict(sorted(sim.reverted.items())),
        },
        "skipped": dict(sorted(sim.skipped.items())),
        "blocks": {"steps": sim.steps_done, "mined": sim.blocks},
        "checked": extra["checked"],
        "timing": {
            "wall_seconds": round(wall, 2),
            "phases": {k: round(v, 2) for k, v in phases.items()},
            "actor_tx_per_s": round(sim.run_txs / run_seconds, 1),
            "blocks_per_s": round(sim.steps_done / run_seconds, 1),
            # the run's own transactions per second of JSON-RPC round trips: what the node gives
            # the actors' mix (heavier than the raw approvals) with the Python side left out
            "node_tx_per_s": round(sim.run_txs / (phases.get("run: in JSON-RPC", 0.0) or 1e-9), 1),
            "actor_share_of_raw": round(sim.run_txs / run_seconds / (extra["raw"]["tx_per_s"] or 1e-9), 3),
        },
        "raw": extra["raw"],
        "anvil": {
            "own": own_anvil,
            "rss_mb": round(rss / 2**20, 1),
            "peak_rss_mb": round(max(rss, extra.get("peak_rss", 0)) / 2**20, 1),
        },
    }
    if sim.reviewing is not None and sim.reviewing.on:  # absent from runs without verifiers
        report["review"] = _review(sim)
    return report


def _review(sim: FastSim) -> dict[str, Any]:
    """Verifiers, verifications and disputes."""
    review = sim.mirror.review
    assert sim.reviewing is not None
    jobs = [j for j in sim.mirror.jobs.values() if j.verification]
    return {
        "verifiers": len(sim.reviewing.verifiers),
        "lazy_verifiers": sum(1 for v in sim.reviewing.verifiers if v.lazy),
        "jobs_asking_verification": len(jobs),
        "verifications_requested": sum(1 for v in review.verifications.values() if v.requested),
        **review.counts,
        "disputed_now": sum(1 for j in sim.mirror.jobs.values() if j.status == Status.DISPUTED),
        "queue_left": review.tail - review.head,
    }


def deterministic(report: dict[str, Any]) -> dict[str, Any]:
    """The report without its wall-clock parts."""
    return {k: v for k, v in report.items() if k not in WALL_CLOCK_KEYS}


def print_summary(console: Console, report: dict[str, Any]) -> None:
    """Tables: jobs, transactions by kind and reverts, timing and rates."""
    jobs, txs, timing, raw = report["jobs"], report["transactions"], report["timing"], report["raw"]
    head = Table(title="fastsim: jobs", show_header=False)
    for key in (
        "posted",
        "filled",
        "settled",
        "failed",
        "expired",
        "cancelled",
        "open",
        "bids",
        "fake_results_settled",
    ):
        head.add_row(key, str(jobs[key]))
    for key, value in report["auctions"].items():
        head.add_row(key.replace("_", " "), str(value))
    for key, value in report["credits"].items():
        head.add_row(key.replace("_", " "), str(value))
    for key, value in report.get("review", {}).items():
        head.add_row(key.replace("_", " "), str(value))
    console.print(head)
    kinds = Table(title="transactions by kind")
    kinds.add_column("actor function")
    kinds.add_column("sent", justify="right")
    for kind, n in txs["by_kind"].items():
        kinds.add_row(kind, str(n))
    console.print(kinds)
    if txs["reverted_by_kind"]:
        reverts = Table(title="reverted (actor function: error)")
        reverts.add_column("revert")
        reverts.add_column("count", justify="right")
        for kind, n in txs["reverted_by_kind"].items():
            reverts.add_row(kind, str(n))
        console.print(reverts)
    perf = Table(title="speed", show_header=False)
    perf.add_row("wall time", f"{timing['wall_seconds']} s")
    for phase, seconds in timing["phases"].items():
        perf.add_row(f"  {phase}", f"{seconds} s")
    perf.add_row("transactions (run)", f"{txs['run']:,} ({txs['reverted']:,} reverted, {txs['dropped']} dropped)")
    perf.add_row("actor tx/s", f"{timing['actor_tx_per_s']} ({timing['actor_share_of_raw']:.0%} of the raw tx/s)")
    perf.add_row("node tx/s (the run's transactions, JSON-RPC time only)", str(timing["node_tx_per_s"]))
    perf.add_row("blocks/s", str(timing["blocks_per_s"]))
    perf.add_row("raw eth_call/s (batch)", str(raw["eth_call_per_s"]))
    perf.add_row("raw tx/s (batch, one block)", str(raw["tx_per_s"]))
    anvil = report["anvil"]
    rss = f"{anvil['rss_mb']} MB, {anvil['peak_rss_mb']} MB" if anvil["own"] else "(not ours)"
    perf.add_row("anvil RSS (end, peak)", rss)
    console.print(perf)
