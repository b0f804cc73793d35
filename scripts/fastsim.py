"""``ape run fastsim``: simulation engine v2, and the main job (``bin/simulate`` runs it; its
defaults are the market the Ape engine, ``ape run simulate``, plays by default: 10 providers, 5
customers, 7 verifiers, 2 days, seed 7). Starts its own anvil (no steps tracing, mining off),
deploys the protocol through Ape, then plays providers, customers, verifiers, a keeper and the
oracle block by block over raw JSON-RPC batches; checks its mirror against the chain, writes
``report.json``, a self-contained ``report.html``, ``timeseries.csv`` and four PNG plots, and
prints a summary with the run's speed beside the node's raw batched rate (docs/fastsim.md).
``--compare DIR DIR ...`` compares runs or sweeps already written (no chain).
With ``--seeds N`` it runs N seeds of the scenario in parallel processes (``--jobs``), or as
tasks on an existing Dask cluster (``--cluster tcp://HOST:8786``), and aggregates their headline
figures.

    ape run fastsim                                   # the main job's market
    ape run fastsim --scenario scarce                 # at most 3 providers, demand 0.6
    ape run fastsim --providers 20 --customers 50 --verifiers 0 --days 2 --seed 7
    ape run fastsim --seeds 20 --jobs 2
    ape run fastsim --seeds 20 --jobs 2 --gpu-price-multiplier 1.5 --pue 1.2   # a cost sweep
    ape run fastsim --seeds 20 --cluster tcp://127.0.0.1:8786
    ape run fastsim --seeds 20 --jobs 1 --adversaries wash=1,lowball=1,shill=1   # attacks' P&L
    ape run fastsim --seeds 20 --jobs 2 --adversaries grinder=1,sybil=1          # jury attacks' P&L
    ape run fastsim --compare sim-output/fastsim/p10-c5-d2-v7-seed7 sim-output/fastsim/p10-c5-d2-v7-seed8
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from ape import project
from ape.logging import logger
from click.core import ParameterSource
from rich.console import Console
from rich.table import Table

from compute_market.fastsim.adversaries import parse_adversaries
from compute_market.fastsim.aggregate import print_aggregate
from compute_market.fastsim.config import FastSimConfig
from compute_market.fastsim.html import CompareError, compare, compare_page, comparison_rows
from compute_market.fastsim.plots import PLOTS
from compute_market.fastsim.report import print_summary
from compute_market.fastsim.runner import run_own_anvil
from compute_market.fastsim.sweep import run_sweep
from compute_market.progress import progress_bar


@click.command()
@click.option("--providers", type=int, default=10, show_default=True)
@click.option("--customers", type=int, default=5, show_default=True)
@click.option("--days", type=float, default=2.0, show_default=True, help="Simulated days (fractions allowed).")
@click.option("--seed", type=int, default=7, show_default=True, help="The seed (with --seeds: the first).")
@click.option("--seeds", type=int, default=0, help="Run this many seeds (seed, seed+1, …) in parallel; aggregate.")
@click.option("--jobs", type=int, default=0, help="Parallel runs of a sweep (default: the CPU count).")
@click.option(
    "--cluster",
    default=None,
    metavar="ADDRESS",
    help="Run the sweep's seeds as tasks on the Dask scheduler at ADDRESS (tcp://host:port), not local processes.",
)
@click.option("--step-minutes", type=int, default=10, show_default=True, help="Simulated minutes per block.")
@click.option("--demand", type=float, default=0.25, show_default=True, help="Jobs per customer per hour.")
@click.option("--verifiers", type=int, default=7, show_default=True, help="Staked verifiers (0: no verification).")
@click.option("--scenario", type=click.Choice(["baseline", "glut", "scarce"]), default="baseline", show_default=True)
@click.option("--gpu-mix", default=None, help="e.g. H100-80GB=0.5,L4-24GB=0.5 (names from data/gpu_catalog.json)")
@click.option("--sealed-share", type=float, default=0.4, show_default=True, help="Share of sealed auctions.")
@click.option("--fake-rate", type=float, default=0.15, show_default=True, help="Share of providers faking results.")
@click.option("--abandon-rate", type=float, default=0.1, show_default=True, help="Share of providers abandoning.")
@click.option("--lazy-rate", type=float, default=0.2, show_default=True, help="Share of lazy verifiers.")
@click.option(
    "--outside-option/--no-outside-option",
    default=False,
    show_default=True,
    help="Customers budget against the cheapest alternative (cloud or marketplace) and take it when the "
    'market\'s reference price saves too little (docs/fastsim.md, "Customers with choices").',
)
@click.option(
    "--elasticity",
    type=click.FloatRange(0, min_open=True),
    default=2.0,
    show_default=True,
    help="With --outside-option: demand kept per unit of saving (2: a market half the outside price keeps all).",
)
@click.option(
    "--entry-exit/--no-entry-exit",
    default=False,
    show_default=True,
    help="Providers leave when their P&L over the last 24 h (rewards at the oracle price) is negative, and "
    '--entrants dormant providers enter while the incumbents make money (docs/fastsim.md, "Entry and exit").',
)
@click.option(
    "--entrants",
    type=click.IntRange(0, 1_000),
    default=3,
    show_default=True,
    help="With --entry-exit: providers waiting to enter.",
)
@click.option(
    "--rewards-in-decisions/--no-rewards-in-decisions",
    default=True,
    show_default=True,
    help="With --entry-exit: value token rewards at the oracle price when deciding (else at nothing).",
)
@click.option(
    "--verification-share",
    type=click.FloatRange(0, 1),
    default=0.3,
    show_default=True,
    help="Share of jobs that ask for a verifier (with --verifiers above 0).",
)
@click.option(
    "--check-rate",
    type=float,
    default=0.7,
    show_default=True,
    help="Chance a customer checks a result (and challenges a fake).",
)
@click.option(
    "--electricity-multiplier",
    type=float,
    default=1.0,
    show_default=True,
    help="Scales every provider's electricity price (drawn at 0.8-1.5 x the catalog's).",
)
@click.option("--gpu-price-multiplier", type=float, default=1.0, show_default=True, help="Scales GPU prices.")
@click.option("--pue", type=float, default=None, help="Data-centre PUE (default: the economics default, 1.58).")
@click.option("--cost-of-capital", type=float, default=None, help="Annual cost of capital (default 0.10).")
@click.option(
    "--full-cost-utilisation",
    type=float,
    default=0.60,
    show_default=True,
    help="Pricing policy: the trailing utilisation at which a provider asks its full cost.",
)
@click.option(
    "--utilisation-window", type=int, default=24, show_default=True, help="Trailing utilisation window, hours."
)
@click.option(
    "--adversaries",
    default=None,
    metavar="KIND=N,...",
    help=(
        "Adversaries with their own P&L (default: none): wash (wash trader), lowball (lowball bidder), "
        "shill (shill-bidding customer), grinder (jury grinder: 8 staked verifier identities, challenges "
        "honest results, convicts with a captured jury), sybil (sybil verifier farm: one verifier's stake "
        "over 5 identities of 1,000 CMP, against a control verifier); e.g. wash=1,lowball=1,shill=1,grinder=1,sybil=1. "
        "grinder and sybil are meant for runs with verifiers."
    ),
)
@click.option(
    "--gas-price-gwei",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Gas price an adversary pays for its own transactions (gas used from their receipts).",
)
@click.option(
    "--eth-usd",
    type=click.FloatRange(min=0),
    default=3000.0,
    show_default=True,
    help="Price of the chain's native coin in USD, for --gas-price-gwei.",
)
@click.option("--series/--no-series", default=True, show_default=True, help="Hourly time series, CSV and PNG plots.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("sim-output/fastsim"), show_default=True)
@click.option(
    "--compare",
    is_flag=True,
    help=(
        "Compare the runs (report.json) or sweeps (aggregate.json) in the folders given as arguments "
        "(--compare DIR DIR ...): headline figures side by side with their differences; writes compare.html "
        "beside the first folder (or into --out if given). Starts no chain."
    ),
)
@click.argument("folders", nargs=-1, type=click.Path(path_type=Path), metavar="[DIR ...]")
def cli(**opts: Any) -> None:
    """Simulate the compute market fast: one block per step, raw JSON-RPC batches."""
    if opts["compare"] or opts["folders"]:
        console = Console()  # piped: wide enough for the side-by-side table
        _compare(console if console.is_terminal else Console(width=200), list(opts["folders"]), opts["out"])
        return
    logger.set_level("WARNING")  # Ape logs every deploy transaction otherwise
    cfg = make_config(opts)
    seed, seeds, cluster, out = opts["seed"], opts["seeds"], opts["cluster"], opts["out"]
    scenario = f"p{cfg.providers}-c{cfg.customers}-d{cfg.days:g}" + (f"-v{cfg.verifiers}" if cfg.verifiers else "")
    if cfg.scenario != "baseline":
        scenario = f"{cfg.scenario}-{scenario}"
    console = Console()
    if cluster is not None and seeds <= 0:
        raise click.BadParameter("--cluster runs a sweep: give --seeds N too", param_hint="--cluster")
    if cfg.entry_exit and 60 % cfg.step_minutes:
        raise click.BadParameter(
            "--entry-exit decides every hour: the step must divide 60", param_hint="--step-minutes"
        )
    if seeds > 0:
        workers = opts["jobs"] or os.cpu_count() or 1
        _sweep(console, cfg, list(range(seed, seed + seeds)), workers, out / scenario, cluster)
        return
    out = out / f"{scenario}-seed{seed}"
    with progress_bar(console) as progress:
        task = progress.add_task("steps", total=cfg.steps, info="starting anvil, deploying")

        def tick(done: int, total: int, counts: dict[str, int]) -> None:
            info = f"jobs {counts['posted']} settled {counts['settled']} txs {counts['txs']}"
            progress.update(task, completed=done, info=info)

        report = run_own_anvil(cfg, project, out, progress=tick)
    print_summary(console, report)
    written = ["report.json", "report.html"] + (["timeseries.csv", *PLOTS] if cfg.series else [])
    console.print(f"\n[bold]written:[/bold] {out}/ " + ", ".join(written))


def parse_mix(text: str | None) -> dict[str, float] | None:
    """`H100-80GB=0.5,L4-24GB=0.5` → weights by GPU model (None when empty)."""
    if not text:
        return None
    pairs = (item.split("=") for item in text.split(","))
    return {name.strip(): float(weight) for name, weight in pairs}


def make_config(opts: dict[str, Any]) -> FastSimConfig:
    """The run's settings from the options (the scenario applied last, as the Ape engine does)."""
    cfg = FastSimConfig(
        seed=opts["seed"],
        providers=opts["providers"],
        customers=opts["customers"],
        days=opts["days"],
        step_minutes=opts["step_minutes"],
        jobs_per_customer_hour=opts["demand"],
        verifiers=opts["verifiers"],
        sealed_share=opts["sealed_share"],
        cheat_fake_rate=opts["fake_rate"],
        cheat_abandon_rate=opts["abandon_rate"],
        lazy_verifier_rate=opts["lazy_rate"],
        verification_share=opts["verification_share"],
        outside_option=opts["outside_option"],
        elasticity=opts["elasticity"],
        entry_exit=opts["entry_exit"],
        entrants=opts["entrants"],
        rewards_in_decisions=opts["rewards_in_decisions"],
        check_rate=opts["check_rate"],
        gas_price_gwei=opts["gas_price_gwei"],
        eth_usd=opts["eth_usd"],
        series=opts["series"],
        electricity_multiplier=opts["electricity_multiplier"],
        gpu_price_multiplier=opts["gpu_price_multiplier"],
        pue=opts["pue"],
        cost_of_capital=opts["cost_of_capital"],
        full_cost_utilisation=opts["full_cost_utilisation"],
        utilisation_window_hours=opts["utilisation_window"],
    )
    try:
        adversaries = parse_adversaries(opts.get("adversaries"))
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--adversaries") from err
    if adversaries:
        cfg = replace(cfg, adversaries=adversaries)
    mix = parse_mix(opts["gpu_mix"])
    if mix:
        cfg = replace(cfg, gpu_mix=mix)
    return cfg.for_scenario(opts["scenario"])


def _sweep(
    console: Console, cfg: FastSimConfig, seeds: list[int], jobs: int, scenario_out: Path, cluster: str | None
) -> None:
    """Runs the seeds in parallel processes (or on the cluster), prints the aggregate, fails if
    any run failed."""
    out = scenario_out / f"sweep-seeds{seeds[0]}-{seeds[-1]}"
    with progress_bar(console) as progress:
        where = f"on the Dask cluster at {cluster}" if cluster else f"{jobs} at a time"
        task = progress.add_task("runs", total=len(seeds), info=where)

        def done(seed: int, report: dict[str, Any] | None, error: str) -> None:
            if report is None:
                progress.console.print(f"[red]seed {seed} failed[/red]: {error.splitlines()[0]}")
            else:
                jobs_ = report["jobs"]
                speed = report["timing"]["actor_tx_per_s"]
                progress.console.print(
                    f"seed {seed}: {jobs_['posted']} jobs, {jobs_['settled']} settled, {speed} actor tx/s"
                )
            progress.advance(task)

        result = run_sweep(cfg, seeds, jobs, out, done, cluster=cluster)
    print_aggregate(console, result, wall=result["sweep"]["wall_seconds"])
    console.print(
        f"\n[bold]written:[/bold] {out / 'aggregate.json'}, {out / 'report.html'} and {len(result['seeds'])} reports"
    )
    if result["failed"]:
        raise click.ClickException(f"{len(result['failed'])} of {len(seeds)} runs failed")


def _compare(console: Console, folders: list[Path], out: Path) -> None:
    """`--compare DIR DIR ...`: the headline figures side by side (no chain), and compare.html."""
    if not click.get_current_context().params["compare"]:
        raise click.ClickException(f"--compare: folders given without --compare: {' '.join(map(str, folders))}")
    try:
        result = compare(folders)
    except CompareError as err:
        raise click.ClickException(f"--compare: {err}") from err
    head, rows = comparison_rows(result)
    title = f"fastsim comparison of {len(folders)} {result['kind']}s" + (
        ": medians (90% interval)" if result["kind"] == "sweep" else ""
    )
    table = Table(title=title, caption="differences: each folder's value minus [1]'s (and relative to [1]'s)")
    for k, name in enumerate(head):
        table.add_column(name, justify="left" if k == 0 else "right", no_wrap=k == 0)
    for row in rows:
        table.add_row(*row)
    for k, (folder, code) in enumerate(zip(result["folders"], result["code_sha256"], strict=True)):
        console.print(f"[{k + 1}] {folder} (contracts' code sha256 {code[:16]})", markup=False)
    for field, values in result["config_differences"]:
        console.print(f"config {field}: " + " | ".join(values), markup=False)
    console.print(table)
    given = click.get_current_context().get_parameter_source("out") != ParameterSource.DEFAULT
    target = (out if out.suffix == ".html" else out / "compare.html") if given else folders[0].parent / "compare.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(compare_page(result))
    console.print(f"\n[bold]written:[/bold] {target}")
