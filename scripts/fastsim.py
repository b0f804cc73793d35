"""``ape run fastsim``: simulation engine v2 (slice 1). Starts its own anvil (no steps tracing,
mining off), deploys the protocol through Ape, then plays providers, customers, a keeper and
the oracle block by block over raw JSON-RPC batches; checks its mirror against the chain and
prints a summary with the run's speed beside the node's raw batched rate (docs/fastsim.md).

    ape run fastsim --providers 20 --customers 50 --days 2 --seed 7
"""

from __future__ import annotations

from pathlib import Path

import click
from ape import project
from ape.logging import logger
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from compute_market.fastsim.config import FastSimConfig
from compute_market.fastsim.report import print_summary
from compute_market.fastsim.runner import run_own_anvil


@click.command()
@click.option("--providers", type=int, default=20, show_default=True)
@click.option("--customers", type=int, default=50, show_default=True)
@click.option("--days", type=float, default=2.0, show_default=True, help="Simulated days (fractions allowed).")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--step-minutes", type=int, default=10, show_default=True, help="Simulated minutes per block.")
@click.option("--demand", type=float, default=0.25, show_default=True, help="Jobs per customer per hour.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("sim-output/fastsim"), show_default=True)
def cli(providers: int, customers: int, days: float, seed: int, step_minutes: int, demand: float, out: Path) -> None:
    """Simulate the compute market fast: one block per step, raw JSON-RPC batches."""
    logger.set_level("WARNING")  # Ape logs every deploy transaction otherwise
    cfg = FastSimConfig(
        seed=seed,
        providers=providers,
        customers=customers,
        days=days,
        step_minutes=step_minutes,
        jobs_per_customer_hour=demand,
    )
    out = out / f"p{providers}-c{customers}-d{days:g}-seed{seed}"
    console = Console()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("steps", total=cfg.steps, info="starting anvil, deploying")

        def tick(done: int, total: int, counts: dict[str, int]) -> None:
            info = f"jobs {counts['posted']} settled {counts['settled']} txs {counts['txs']}"
            progress.update(task, completed=done, info=info)

        report = run_own_anvil(cfg, project, out, progress=tick)
    print_summary(console, report)
    console.print(f"\n[bold]written:[/bold] {out / 'report.json'}")
