"""``ape run fastsim``: simulation engine v2. Starts its own anvil (no steps tracing, mining
off), deploys the protocol through Ape, then plays providers, customers, a keeper and the
oracle block by block over raw JSON-RPC batches; checks its mirror against the chain and
prints a summary with the run's speed beside the node's raw batched rate (docs/fastsim.md).
With ``--seeds N`` it runs N seeds of the scenario in parallel processes (``--jobs``), or as
tasks on an existing Dask cluster (``--cluster tcp://HOST:8786``), and aggregates their headline
figures.

    ape run fastsim --providers 20 --customers 50 --days 2 --seed 7
    ape run fastsim --seeds 20 --jobs 2
    ape run fastsim --seeds 20 --cluster tcp://127.0.0.1:8786
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
from ape import project
from ape.logging import logger
from rich.console import Console

from compute_market.fastsim.aggregate import print_aggregate
from compute_market.fastsim.config import FastSimConfig
from compute_market.fastsim.report import print_summary
from compute_market.fastsim.runner import run_own_anvil
from compute_market.fastsim.sweep import run_sweep
from compute_market.progress import progress_bar


@click.command()
@click.option("--providers", type=int, default=20, show_default=True)
@click.option("--customers", type=int, default=50, show_default=True)
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
@click.option("--verifiers", type=int, default=0, show_default=True, help="Staked verifiers (0: no verification).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("sim-output/fastsim"), show_default=True)
def cli(
    providers: int,
    customers: int,
    days: float,
    seed: int,
    seeds: int,
    jobs: int,
    cluster: str | None,
    step_minutes: int,
    demand: float,
    verifiers: int,
    out: Path,
) -> None:
    """Simulate the compute market fast: one block per step, raw JSON-RPC batches."""
    logger.set_level("WARNING")  # Ape logs every deploy transaction otherwise
    cfg = FastSimConfig(
        seed=seed,
        providers=providers,
        customers=customers,
        days=days,
        step_minutes=step_minutes,
        jobs_per_customer_hour=demand,
        verifiers=verifiers,
    )
    console = Console()
    scenario = f"p{providers}-c{customers}-d{days:g}" + (f"-v{verifiers}" if verifiers else "")
    if cluster is not None and seeds <= 0:
        raise click.BadParameter("--cluster runs a sweep: give --seeds N too", param_hint="--cluster")
    if seeds > 0:
        _sweep(console, cfg, list(range(seed, seed + seeds)), jobs or os.cpu_count() or 1, out / scenario, cluster)
        return
    out = out / f"{scenario}-seed{seed}"
    with progress_bar(console) as progress:
        task = progress.add_task("steps", total=cfg.steps, info="starting anvil, deploying")

        def tick(done: int, total: int, counts: dict[str, int]) -> None:
            info = f"jobs {counts['posted']} settled {counts['settled']} txs {counts['txs']}"
            progress.update(task, completed=done, info=info)

        report = run_own_anvil(cfg, project, out, progress=tick)
    print_summary(console, report)
    console.print(f"\n[bold]written:[/bold] {out / 'report.json'}")


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
    console.print(f"\n[bold]written:[/bold] {out / 'aggregate.json'} and {len(result['seeds'])} reports")
    if result["failed"]:
        raise click.ClickException(f"{len(result['failed'])} of {len(seeds)} runs failed")
