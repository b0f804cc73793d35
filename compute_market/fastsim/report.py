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
from compute_market.economics import CENT, discount_vs_cloud, percentile
from compute_market.fastsim.mirror import OPEN, SEALED, Bond, Status
from compute_market.fastsim.overhead import verification_overhead
from compute_market.units import bytes32, from_bytes32, from_wei

if TYPE_CHECKING:
    from compute_market.fastsim.engine import FastSim

WALL_CLOCK_KEYS = ("timing", "raw", "anvil")  # the parts a repeated run may change
FOUR = Decimal("0.0001")


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
    """Mean clearing price per GPU-hour by model, against the mean max price, the catalog's cloud
    price (and how far below it the market cleared) and the market's reference price."""
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
        mean = (from_wei(sum(prices)) / len(prices)).quantize(FOUR) if prices else None
        cloud = sim.catalog.models[model].cloud_usd_per_gpu_hour
        reference = sim.mirror.reference.get(bytes32(model), 0)
        out[model] = {
            "mean_max_price": str(mean_max.quantize(FOUR)),
            "mean_clearing": str(mean) if mean is not None else "-",
            "leases": str(len(prices)),
            "cloud": str(cloud),
            "below_cloud_pct": f"{(1 - mean / cloud) * 100:.1f}" if mean is not None else "-",
            "reference": str(from_wei(reference).quantize(FOUR)) if reference else "-",
        }
    return out


def _providers(sim: FastSim) -> list[dict[str, Any]]:
    """Each provider: what it offers, its costs and last ask, the GPU-hours its leases paid for,
    the credits it holds (earned net of fees: providers spend none), its P&L over every GPU-hour
    it owned (`cost_usd` and `profit_usd` are the ledger's cost and profit, idle hours included,
    rewards at the oracle's last price, slashes as negative revenue), its stake and the CMP it
    claimed as rewards."""
    paid: defaultdict[str, Decimal] = defaultdict(Decimal)
    for job in sim.mirror.jobs.values():
        if job.price and job.paid_gross:
            paid[job.provider] += Decimal(job.paid_gross) / job.price
    token_price = sim.token_price()
    out: list[dict[str, Any]] = []
    for p in sim.providers:
        earned = from_wei(sim.mirror.balances["CRD"][p.address])
        pnl = p.ledger.pnl(token_price)
        utilisation = pnl.utilisation
        out.append(
            {
                "address": p.address,
                "role": p.role,
                "gpu_model": p.gpu_model,
                "gpus": p.gpu_count,
                "vram_gb": p.vram_gb,
                "region": p.region,
                "ask_usd": str(p.ask),
                "gpu_hours_paid": f"{paid[p.address]:.2f}",
                "earned_crd": f"{earned:.4f}",
                "cost_usd": f"{pnl.cost:.4f}",
                "profit_usd": f"{pnl.profit:.4f}",
                "stake_cmp": str(from_wei(sim.mirror.staked[p.address]).quantize(FOUR)),
                "rewards_cmp": str(from_wei(sim.mirror.rewards[p.address]).quantize(FOUR)),
                "economics": {
                    "electricity_usd_per_kwh": str(p.costs.electricity_usd_per_kwh.quantize(Decimal("0.00001"))),
                    "margin": str(p.margin),
                    "ownership_per_hour": str(p.costs.ownership_per_hour().quantize(FOUR)),
                    "marginal_per_busy_hour": str(p.costs.marginal_per_busy_hour().quantize(FOUR)),
                    "owned_gpu_hours": str(pnl.owned_gpu_hours.quantize(FOUR)),
                    "busy_gpu_hours": str(pnl.busy_gpu_hours.quantize(FOUR)),
                    "trailing_utilisation": str(p.trailing.value().quantize(FOUR)),
                    "slashed_cmp": str(from_wei(p.slashed_cmp).quantize(FOUR)),
                    "slashed_usd": str(p.slashed_usd.quantize(CENT)),
                    "break_even_usd": str(p.costs.break_even_price(utilisation).quantize(CENT)) if utilisation else "-",
                    **{key: str(value) for key, value in pnl.rounded().items()},
                },
            }
        )
    return out


MONEY = ("credits_usd", "rewards_usd", "revenue", "ownership_cost", "marginal_cost", "profit")


def _usd(key: str) -> str:
    """A `PnL` figure's name in the report: `profit` → `profit_usd` (`credits_usd` stays)."""
    return key if key.endswith("_usd") else f"{key}_usd"


def _economics(sim: FastSim) -> dict[str, Any]:
    """Per GPU model: providers, GPUs, utilisation (busy / owned GPU-hours), the P&L summed over
    its providers (every owned hour counts), the profit without token rewards (what the market
    alone paid), profit per owned GPU-hour, the median and mean
    clearing price, the break-even price at the realised utilisation (the cost of every owned
    hour over the hours sold), and the discount of the median clearing price vs the catalog's
    cloud price, its lowest hyperscaler quote and its lowest marketplace quote (`discount_vs_cloud`:
    1 - clearing / reference). Money in USD, to the cent; "-" where there is nothing to divide."""
    token_price = sim.token_price()
    clearing: defaultdict[str, list[Decimal]] = defaultdict(list)
    for job in sim.mirror.jobs.values():
        if job.lease_start:
            clearing[from_bytes32(job.gpu_model)].append(from_wei(job.price))
    groups: defaultdict[str, list[Any]] = defaultdict(list)
    for p in sim.providers:
        groups[p.gpu_model].append(p)
    models: dict[str, Any] = {}
    for model in sorted(set(groups) | set(clearing)):
        gpu = sim.catalog.models[model]
        pnls = [p.ledger.pnl(token_price) for p in groups[model]]
        owned = sum((x.owned_gpu_hours for x in pnls), Decimal(0))
        busy = sum((x.busy_gpu_hours for x in pnls), Decimal(0))
        money = {key: sum((getattr(x, key) for x in pnls), Decimal(0)) for key in MONEY}
        prices = clearing[model]
        median = percentile(prices, "0.5") if prices else None
        references = {
            "cloud": gpu.cloud_usd_per_gpu_hour,
            "hyperscaler": min((q.usd_per_gpu_hour for q in gpu.hyperscaler), default=None),
            "marketplace_low": min((q.usd_per_gpu_hour for q in gpu.marketplace), default=None),
        }
        row: dict[str, Any] = {
            "providers": len(groups[model]),
            "gpus": sum(p.gpu_count for p in groups[model]),
            "owned_gpu_hours": str(owned.quantize(FOUR)),
            "busy_gpu_hours": str(busy.quantize(FOUR)),
            "utilisation": str((busy / owned).quantize(FOUR)) if owned else "-",
            **{_usd(key): str(value.quantize(CENT)) for key, value in money.items()},
            "profit_before_rewards_usd": str((money["profit"] - money["rewards_usd"]).quantize(CENT)),
            "profit_per_owned_gpu_hour": str((money["profit"] / owned).quantize(FOUR)) if owned else "-",
            "leases": len(prices),
            "median_clearing": str(median.quantize(FOUR)) if median is not None else "-",
            "mean_clearing": str((sum(prices, Decimal(0)) / len(prices)).quantize(FOUR)) if prices else "-",
            "break_even_usd": str(((money["ownership_cost"] + money["marginal_cost"]) / busy).quantize(FOUR))
            if busy
            else "-",
            "mean_ask_usd": str((sum(p.ask for p in groups[model]) / len(groups[model])).quantize(FOUR))
            if groups[model]
            else "-",
        }
        for name, reference in references.items():
            row[f"{name}_usd"] = str(reference) if reference is not None else "-"
            discount = discount_vs_cloud(median, reference) if median is not None and reference else None
            row[f"discount_vs_{name}"] = str(discount.quantize(FOUR)) if discount is not None else "-"
        models[model] = row
    cfg = sim.cfg
    return {
        "token_price_usd": str(token_price),
        "pricing": {
            "full_cost_utilisation": str(cfg.full_cost_utilisation),
            "floor_utilisation": str(cfg.floor_utilisation),
            "window_hours": cfg.utilisation_window_hours,
            "initial_utilisation": str(cfg.initial_utilisation),
        },
        "models": models,
    }


def _tokens(sim: FastSim) -> dict[str, Any]:
    """CMP and CRD: supplies, minted and burned, rewards claimed, slashes."""
    m = sim.mirror
    claimers = sum(1 for v in m.rewards.values() if v)
    return {
        "cmp_supply_start": str(from_wei(sim.cmp_supply_start).quantize(FOUR)),
        "cmp_supply_end": str(from_wei(m.supply["CMP"]).quantize(FOUR)),
        "emitted_cmp": str(from_wei(m.rewards_total()).quantize(FOUR)),
        "reward_claimers": claimers,
        "credits_minted_crd": str(from_wei(m.minted["CRD"]).quantize(FOUR)),
        "cmp_burned": str(from_wei(m.burned["CMP"]).quantize(FOUR)),
        "crd_supply_end": str(from_wei(m.supply["CRD"]).quantize(FOUR)),
        "providers_slashed_cmp": str(from_wei(m.provider_slashed).quantize(FOUR)),
        "verifiers_slashed_cmp": str(from_wei(m.review.verifier_slashed).quantize(FOUR)),
    }


def build_report(
    sim: FastSim, extra: dict[str, Any], phases: dict[str, float], wall: float, rss: int, *, own_anvil: bool
) -> dict[str, Any]:
    """The report of a finished, checked run."""
    cfg = asdict(sim.cfg)
    cfg["undercut_step"] = str(cfg["undercut_step"])
    if not cfg["adversaries"]:  # reports of runs without adversaries stay as they were
        del cfg["adversaries"]
    run_seconds = phases.get("run", 0.0) or 1e-9
    roles = Counter(p.role for p in sim.providers)
    report: dict[str, Any] = {
        "config": cfg,
        "actors": {"providers": dict(sorted(roles.items())), "customers": len(sim.customers), "keeper": 1},
        "jobs": _jobs(sim),
        "auctions": _auctions(sim),
        "credits": _credits(sim),
        "prices": _prices(sim),
        "cloud": {m: str(sim.catalog.models[m].cloud_usd_per_gpu_hour) for m in sim.cfg.gpu_mix},
        "providers": _providers(sim),
        "economics": _economics(sim),
        "tokens": _tokens(sim),
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
            # actor tx/s over the raw rate of the protocol's own hot-path calls (postJob, then
            # placeBid on those jobs, each batch one block, no Python decisions; raw.protocol_*)
            "actor_share_of_raw": round(sim.run_txs / run_seconds / (extra["raw"]["protocol_tx_per_s"] or 1e-9), 3),
            # the same over the raw rate of CMP approvals (raw.tx_per_s), the cheapest transaction
            "actor_share_of_raw_approve": round(sim.run_txs / run_seconds / (extra["raw"]["tx_per_s"] or 1e-9), 3),
        },
        "raw": extra["raw"],
        "anvil": {
            "own": own_anvil,
            "rss_mb": round(rss / 2**20, 1),
            "peak_rss_mb": round(max(rss, extra.get("peak_rss", 0)) / 2**20, 1),
        },
    }
    if sim.reviewing is not None and sim.reviewing.disputes:  # absent from runs without disputes
        report["review"] = _review(sim)
    if sim.adversaries is not None:  # absent from runs without adversaries
        report["adversaries"] = sim.adversaries.rows()
    if sim.demand is not None:  # absent from runs without the outside option
        report["demand"] = sim.demand.report()
    if sim.supply is not None:  # absent from runs without entry and exit
        report["supply"] = sim.supply.report(sim)
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
        "unstake_requests": review.unstaked["requests"],
        "unstake_withdrawals": review.unstaked["withdrawals"],
        "unstaked_cmp": str(from_wei(review.unstaked["withdrawn"]).quantize(FOUR)),
        **verification_overhead(sim),
    }


def deterministic(report: dict[str, Any]) -> dict[str, Any]:
    """The report without its wall-clock parts."""
    return {k: v for k, v in report.items() if k not in WALL_CLOCK_KEYS}


def summary_tables(report: dict[str, Any]) -> list[Table]:
    """The tables of the readable summary (the terminal's and report.html's), those with rows."""
    demand = report.get("demand", {})  # runs with the outside option
    supply = report.get("supply")  # runs with entry and exit
    moves = (
        {}
        if supply is None
        else {
            "entries": len(supply["entries"]),
            "exits": len(supply["exits"]),
            **{f"providers {state}": n for state, n in supply["providers_by_state"].items()},
        }
    )
    tables = (
        _jobs_table(report),
        _prices_table(report),
        _economics_table(report),
        _pairs_table("auctions and credits", {**report["auctions"], **report["credits"]}),
        _pairs_table("review: verifications, challenges, disputes", report.get("review", {})),
        _counts_table("customers' choices: jobs to the market", "GPU", "jobs", demand.get("to_market", {})),
        _counts_table("customers' choices: jobs taken elsewhere", "GPU", "jobs", demand.get("went_outside", {})),
        _pairs_table("providers entering and leaving", moves),
        _providers_table(report["providers"]),
        _adversaries_table(report.get("adversaries", [])),
        _pairs_table("money and tokens", report["tokens"]),
        _counts_table("transactions by kind", "actor function", "sent", report["transactions"]["by_kind"]),
        _counts_table(
            "reverted (actor function: error)", "revert", "count", report["transactions"]["reverted_by_kind"]
        ),
        _speed_table(report),
    )
    return [t for t in tables if t.row_count]


def print_summary(console: Console, report: dict[str, Any]) -> None:
    """The readable end of a run: jobs, prices against the clouds, auctions and credits, review,
    providers, money and tokens, transactions, and the speed (actor and raw tx/s)."""
    for table in summary_tables(report):
        console.print(table)
    cfg, timing, raw = report["config"], report["timing"], report["raw"]
    hours = report["blocks"]["steps"] * cfg["step_minutes"] / 60
    console.print(
        f"[bold]throughput:[/bold] {hours:g} simulated hours in {timing['wall_seconds']} s "
        f"(run phase {timing['phases'].get('run', 0)} s), {report['transactions']['run']:,} transactions, "
        f"{timing['actor_tx_per_s']} actor tx/s against a raw {raw['protocol_tx_per_s']} tx/s of the "
        f"protocol's postJob+placeBid ({timing['actor_share_of_raw']:.0%}) and a raw {raw['tx_per_s']} tx/s of "
        f"approvals ({timing['actor_share_of_raw_approve']:.0%}) on the same anvil"
    )


def _adversaries_table(rows: list[dict[str, Any]]) -> Table:
    """Each adversary's P&L: what it spent, what it gained, the net and what stopped it."""
    table = Table(title="adversaries (P&L in USD)")
    for name in ("kind", "address", "spent", "gained", "net", "stopped by"):
        table.add_column(name, justify="right" if name in ("spent", "gained", "net") else "left")
    for row in rows:
        net = row["net_usd"]
        style = "green" if net.startswith("-") else "red"
        table.add_row(
            row["kind"],
            row["addresses"][0][:10],
            row["spent_usd"],
            row["gained_usd"],
            f"[{style}]{net}[/{style}]",
            row["stopped_by"],
        )
    return table


def _jobs_table(report: dict[str, Any]) -> Table:
    cfg, jobs = report["config"], report["jobs"]
    title = (
        f"jobs ({cfg['scenario']}, seed {cfg['seed']}: {cfg['providers']} providers, {cfg['customers']} customers, "
        f"{cfg['verifiers']} verifiers, {cfg['days']:g} days)"
    )
    table = Table(title=title)
    keys = ("posted", "filled", "settled", "cancelled", "expired", "failed", "open", "bids", "fake_results_settled")
    for key in keys:
        table.add_column(key.replace("_", " "), justify="right")
    table.add_row(*(str(jobs[k]) for k in keys))
    by_status = ", ".join(f"{k.lower()} {v}" for k, v in jobs["by_status"].items())
    table.caption = f"by status now: {by_status}"
    return table


def _prices_table(report: dict[str, Any]) -> Table:
    table = Table(title="clearing price against the catalog's cloud price (USD = CRD per GPU-hour)")
    for col in ("GPU", "leases", "mean clearing", "mean max price", "cloud", "below cloud", "reference"):
        table.add_column(col, justify="right")
    for model, p in report["prices"].items():
        below = f"{p['below_cloud_pct']}%" if p["below_cloud_pct"] != "-" else "-"
        table.add_row(model, p["leases"], p["mean_clearing"], p["mean_max_price"], p["cloud"], below, p["reference"])
    return table


ECONOMICS_ROWS = (
    ("providers", "providers"),
    ("GPUs", "gpus"),
    ("utilisation (busy/owned)", "utilisation"),
    ("revenue (credits + rewards)", "revenue_usd"),
    ("  of which rewards", "rewards_usd"),
    ("ownership cost", "ownership_cost_usd"),
    ("marginal cost", "marginal_cost_usd"),
    ("profit", "profit_usd"),
    ("profit without rewards", "profit_before_rewards_usd"),
    ("profit per owned GPU-hour", "profit_per_owned_gpu_hour"),
    ("leases", "leases"),
    ("median clearing", "median_clearing"),
    ("mean clearing", "mean_clearing"),
    ("break-even at realised util.", "break_even_usd"),
    ("mean ask at the end", "mean_ask_usd"),
    ("discount vs hyperscaler", "discount_vs_hyperscaler"),
    ("vs lowest marketplace", "discount_vs_marketplace_low"),
)
SHARES = ("utilisation", "discount_vs_hyperscaler", "discount_vs_marketplace_low")


def _economics_table(report: dict[str, Any]) -> Table:
    """One column per GPU model: utilisation, P&L over every owned GPU-hour, clearing, break-even
    and ask prices, and the discounts (reports from before the economics have none: empty)."""
    economics = report.get("economics", {})
    models = economics.get("models", {})
    table = Table(
        title="provider economics by GPU model (USD; discount = 1 - median clearing / price)",
        caption=f"rewards at {economics.get('token_price_usd', '-')} USD per CMP (the oracle's last answer); "
        "break-even: every owned hour's cost over the hours sold",
    )
    table.add_column("figure")
    for model in models:
        table.add_column(model, justify="right")
    if not models:
        return table
    for label, key in ECONOMICS_ROWS:
        cells = []
        for row in models.values():
            value = row[key]
            if key in SHARES and value != "-":
                value = f"{Decimal(value) * 100:.1f}%"
            cells.append(str(value))
        table.add_row(label, *cells)
    return table


def _pairs_table(title: str, pairs: dict[str, Any]) -> Table:
    table = Table(title=title, show_header=False)
    for key, value in pairs.items():
        table.add_row(key.replace("_", " "), f"{value:,}" if isinstance(value, int) else str(value))
    return table


PROVIDER_ROWS = 20  # more providers than this: one row per role


def _providers_table(providers: list[dict[str, Any]]) -> Table:
    """One row per provider, or per role (sums) when there are many (amounts to the cent)."""
    cols = ("GPU-h paid", "earned CRD", "cost USD", "profit USD", "rewards CMP")
    keys = ("gpu_hours_paid", "earned_crd", "cost_usd", "profit_usd", "rewards_cmp")
    many = len(providers) > PROVIDER_ROWS
    table = Table(title="providers by role (sums)" if many else "providers (report.json: region, memory, ask)")
    for col in ("role", "providers", *cols) if many else ("provider", "role", "GPU", "GPUs", *cols):
        table.add_column(col, justify="right")
    if not many:
        for p in providers:
            head = (p["address"][:8], p["role"], p["gpu_model"], str(p["gpus"]))
            table.add_row(*head, *(f"{Decimal(p[k]):.2f}" for k in keys))
        return table
    roles: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in providers:
        roles[p["role"]].append(p)
    for role, group in sorted(roles.items()):
        table.add_row(role, str(len(group)), *(f"{sum(Decimal(p[k]) for p in group):.2f}" for k in keys))
    return table


def _counts_table(title: str, what: str, counted: str, counts: dict[str, int]) -> Table:
    """A two-column table of counts (transactions by kind, reverts by kind and error)."""
    table = Table(title=title)
    table.add_column(what)
    table.add_column(counted, justify="right")
    for kind, n in counts.items():
        table.add_row(kind, str(n))
    return table


def _speed_table(report: dict[str, Any]) -> Table:
    txs, timing, raw, anvil = report["transactions"], report["timing"], report["raw"], report["anvil"]
    perf = Table(title="speed", show_header=False)
    perf.add_row("wall time", f"{timing['wall_seconds']} s")
    for phase, seconds in timing["phases"].items():
        perf.add_row(f"  {phase}", f"{seconds} s")
    perf.add_row("transactions (run)", f"{txs['run']:,} ({txs['reverted']:,} reverted, {txs['dropped']} dropped)")
    perf.add_row(
        "actor tx/s",
        f"{timing['actor_tx_per_s']} ({timing['actor_share_of_raw']:.0%} of the raw protocol tx/s, "
        f"{timing['actor_share_of_raw_approve']:.0%} of the raw approve tx/s)",
    )
    perf.add_row("node tx/s (the run's transactions, JSON-RPC time only)", str(timing["node_tx_per_s"]))
    perf.add_row("blocks/s", str(timing["blocks_per_s"]))
    perf.add_row("raw eth_call/s (batch)", str(raw["eth_call_per_s"]))
    perf.add_row("raw tx/s (batch, one block): approve", str(raw["tx_per_s"]))
    perf.add_row(
        "raw tx/s (batch, one block): postJob+placeBid",
        f"{raw['protocol_tx_per_s']} (postJob {raw['postJob_tx_per_s']}, placeBid {raw['placeBid_tx_per_s']})",
    )
    rss = f"{anvil['rss_mb']} MB, {anvil['peak_rss_mb']} MB" if anvil["own"] else "(not ours)"
    perf.add_row("anvil RSS (end, peak)", rss)
    return perf
