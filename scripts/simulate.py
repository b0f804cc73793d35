"""``ape run simulate``: the main job. Starts a local anvil, deploys the protocol and plays a
market of providers, customers, verifiers and cheaters over simulated days, then prints a
summary and writes a JSON record, CSV time series and PNG plots.

    ape run simulate --days 2 --providers 10 --customers 5 --verifiers 7 --seed 7
    ape run simulate --scenario glut      # large idle supply: prices fall far below the clouds
    ape run simulate --scenario scarce    # scarce supply: prices rise toward the cloud price
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from ape import project
from ape.cli import ConnectedProviderCommand, network_option
from ape.logging import logger
from rich.console import Console

from compute_market.progress import progress_bar
from compute_market.simulation.config import SimConfig
from compute_market.simulation.engine import START_TIME, Simulation, Tick
from compute_market.simulation.report import build_report, write_outputs
from compute_market.simulation.summary import print_summary

# The local anvil this command starts gets a fixed genesis: block hashes, and with them the
# prevrandao the verifier and jury draws use, then repeat from run to run (see bin/bootstrap).
os.environ.setdefault("ANVIL_GENESIS_TIMESTAMP", str(START_TIME))


def parse_mix(text: str | None) -> dict[str, float] | None:
    if not text:
        return None
    pairs = (item.split("=") for item in text.split(","))
    return {name.strip(): float(weight) for name, weight in pairs}


@click.command(cls=ConnectedProviderCommand)
@network_option(default="ethereum:local:foundry")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--days", type=int, default=2, show_default=True)
@click.option("--providers", type=int, default=10, show_default=True)
@click.option("--customers", type=int, default=5, show_default=True)
@click.option("--verifiers", type=int, default=7, show_default=True)
@click.option("--gpu-mix", default=None, help="e.g. H100-80GB=0.5,L4-24GB=0.5 (names from data/gpu_catalog.json)")
@click.option("--sealed-share", type=float, default=0.4, show_default=True)
@click.option("--fake-rate", type=float, default=0.15, show_default=True, help="Share of providers faking results.")
@click.option("--abandon-rate", type=float, default=0.1, show_default=True, help="Share of providers abandoning.")
@click.option("--lazy-rate", type=float, default=0.2, show_default=True, help="Share of lazy verifiers.")
@click.option("--demand", type=float, default=0.25, show_default=True, help="Jobs per customer per hour.")
@click.option("--scenario", type=click.Choice(["baseline", "glut", "scarce"]), default="baseline", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=Path("sim-output"), show_default=True)
def cli(
    seed: int,
    days: int,
    providers: int,
    customers: int,
    verifiers: int,
    gpu_mix: str | None,
    sealed_share: float,
    fake_rate: float,
    abandon_rate: float,
    lazy_rate: float,
    demand: float,
    scenario: str,
    out: Path,
) -> None:
    """Simulate the compute market on a local chain."""
    logger.set_level("WARNING")  # one line per transaction would drown the progress bar
    base = SimConfig(
        seed=seed,
        days=days,
        providers=providers,
        customers=customers,
        verifiers=verifiers,
        sealed_share=sealed_share,
        cheat_fake_rate=fake_rate,
        cheat_abandon_rate=abandon_rate,
        lazy_verifier_rate=lazy_rate,
        jobs_per_customer_hour=demand,
    )
    mix = parse_mix(gpu_mix)
    if mix:
        base = SimConfig(**{**vars(base), "gpu_mix": mix})
    cfg = base.for_scenario(scenario)
    out = out / f"{cfg.scenario}-seed{cfg.seed}"
    console = Console()
    with progress_bar(console) as progress:
        task = progress.add_task("simulating", total=cfg.days * 24, info="")

        def tick(done: int, total: int, t: Tick) -> None:
            progress.update(task, completed=done, info=f"day {t.hour // 24 + 1}, jobs {t.jobs_posted}, block {t.block}")

        sim = Simulation(project, cfg, out, progress=tick)
        state = sim.run()
    report = build_report(sim, state)
    files = write_outputs(report, state, cfg, out)
    print_summary(console, report)
    console.print("\n[bold]written:[/bold] " + ", ".join(str(f) for f in files))
