"""A sweep: many seeds of one scenario in parallel worker processes (spawn context), each run
with its own anvil on its own port and its own Ape connection; one report per run and an
aggregate of the headline figures (`aggregate.json`)."""

from __future__ import annotations

import json
import multiprocessing
import os
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from compute_market.fastsim.aggregate import aggregate
from compute_market.fastsim.config import FastSimConfig

Done = Callable[[int, dict[str, Any] | None, str], None]  # seed, report (None on failure), error


def _init_worker() -> None:
    """Once per worker process: imports Ape (the slow part) and quiets its logger."""
    from ape.logging import logger

    logger.set_level("WARNING")


def run_seed(cfg: FastSimConfig, out: Path) -> dict[str, Any]:
    """One run in this (worker) process: its own anvil, Ape connected to it for the deploy."""
    from ape import project

    from compute_market.fastsim.runner import run_own_anvil

    return run_own_anvil(cfg, project, out)


def _run_seed_safely(cfg: FastSimConfig, out: Path) -> tuple[dict[str, Any] | None, str]:
    """`run_seed`, with a failure returned as text (a report's exception may not pickle)."""
    try:
        return run_seed(cfg, out), ""
    except Exception as err:  # a failed seed must not stop the sweep
        detail = traceback.format_exc(limit=3)
        return None, f"{type(err).__name__}: {err}\n{detail}"


def seed_dir(out: Path, seed: int) -> Path:
    """Where a sweep writes one run's report and deployment record."""
    return out / f"seed{seed}"


def run_sweep(cfg: FastSimConfig, seeds: list[int], jobs: int, out: Path, done: Done | None = None) -> dict[str, Any]:
    """Runs `cfg` for every seed, `jobs` at a time in spawned processes; writes
    `out/seed<S>/report.json` per run and `out/aggregate.json`; returns the aggregate (with the
    sweep's wall time under `sweep`)."""
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    reports: dict[int, dict[str, Any]] = {}
    failures: dict[int, str] = {}
    workers = max(1, min(jobs, len(seeds)))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker) as pool:
        futures: dict[Future[tuple[dict[str, Any] | None, str]], int] = {
            pool.submit(_run_seed_safely, replace(cfg, seed=seed), seed_dir(out, seed)): seed for seed in seeds
        }
        for future in as_completed(futures):
            seed = futures[future]
            try:
                report, error = future.result()
            except Exception as err:  # a worker that died
                report, error = None, f"{type(err).__name__}: {err}"
            if report is None:
                failures[seed] = error
            else:
                reports[seed] = report
            if done is not None:
                done(seed, report, error)
    result = aggregate(reports, failures)
    result["sweep"] = {
        "wall_seconds": round(time.perf_counter() - started, 2),
        "jobs": workers,
        "cpus": os.cpu_count() or 1,
        "config": {k: v for k, v in _config(cfg).items() if k != "seed"},
    }
    text = json.dumps(result, indent=2, sort_keys=True) + "\n"
    (out / "aggregate.json").write_text(text)
    return dict(json.loads(text))  # as written (tuples become lists)


def _config(cfg: FastSimConfig) -> dict[str, Any]:
    data = asdict(cfg)
    data["undercut_step"] = str(data["undercut_step"])
    return data
