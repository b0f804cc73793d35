"""A sweep: many seeds of one scenario in parallel worker processes (spawn context), each run
with its own anvil on its own port and its own Ape connection; one report per run and an
aggregate of the headline figures (`aggregate.json`). With a cluster address the same runs are
tasks on an existing Dask distributed cluster (`run_sweep(..., cluster=ADDRESS)`)."""

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
from compute_market.fastsim.html import write_run_html, write_sweep_html

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


def _run_seed_on_cluster(cfg: FastSimConfig, out: Path) -> tuple[dict[str, Any] | None, str]:
    """The task a Dask worker runs: Ape quieted once per worker process, then one seed. The
    worker's working directory must be the project (Ape finds the contracts from it)."""
    _init_worker()
    return _run_seed_safely(cfg, out)


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


def run_sweep(
    cfg: FastSimConfig,
    seeds: list[int],
    jobs: int,
    out: Path,
    done: Done | None = None,
    cluster: str | None = None,
) -> dict[str, Any]:
    """Runs `cfg` for every seed, `jobs` at a time in spawned processes, or as tasks on the Dask
    cluster whose scheduler listens at `cluster` (then the cluster's workers set the
    parallelism); writes `out/seed<S>/report.json` (and `report.html`) per run, `out/aggregate.json` and
    `out/report.html`; returns the
    aggregate (with the sweep's wall time under `sweep`)."""
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    reports: dict[int, dict[str, Any]] = {}
    failures: dict[int, str] = {}

    def record(seed: int, report: dict[str, Any] | None, error: str) -> None:
        if report is None:
            failures[seed] = error
        else:
            reports[seed] = report
            _write_report(seed_dir(out, seed), report)  # here, whichever machine ran it
        if done is not None:
            done(seed, report, error)

    if cluster is not None:
        workers, where = _on_cluster(cfg, seeds, out, cluster, record)
    else:
        workers, where = max(1, min(jobs, len(seeds))), "processes"
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker) as pool:
            futures: dict[Future[tuple[dict[str, Any] | None, str]], int] = {
                pool.submit(_run_seed_safely, replace(cfg, seed=seed), seed_dir(out, seed)): seed for seed in seeds
            }
            for future in as_completed(futures):
                try:
                    report, error = future.result()
                except Exception as err:  # a worker that died
                    report, error = None, f"{type(err).__name__}: {err}"
                record(futures[future], report, error)
    result = aggregate(reports, failures)
    result["sweep"] = {
        "wall_seconds": round(time.perf_counter() - started, 2),
        "jobs": workers,
        "cpus": os.cpu_count() or 1,
        "runner": where,
        "config": {k: v for k, v in _config(cfg).items() if k != "seed"},
        # the runs' deployed code (`html.code_hash`): one hash when every run deployed the same code
        "code_sha256": sorted(
            {str(r["anvil"]["code_sha256"]) for r in reports.values() if "code_sha256" in r["anvil"]}
        ),
    }
    text = json.dumps(result, indent=2, sort_keys=True) + "\n"
    (out / "aggregate.json").write_text(text)
    written = dict(json.loads(text))  # as written (tuples become lists)
    write_sweep_html(written, out)
    return written


def _on_cluster(
    cfg: FastSimConfig, seeds: list[int], out: Path, address: str, record: Callable[[int, Any, str], None]
) -> tuple[int, str]:
    """Submits one task per seed to the Dask scheduler at `address` and records each result as
    it completes; returns the number of workers and where the runs went. A task that raised (a
    worker lost, say) is recorded as that seed's failure, like a dead process in the pool."""
    from distributed import Client
    from distributed import as_completed as completed

    # distributed ships type hints but leaves Client and as_completed unannotated
    with Client(address, timeout=30) as client:  # type: ignore[no-untyped-call]
        workers = len(client.scheduler_info().get("workers", {}))
        futures = {
            client.submit(
                _run_seed_on_cluster,
                replace(cfg, seed=seed),
                seed_dir(out, seed),
                key=f"fastsim-{out.name}-seed{seed}-{time.time_ns()}",
                pure=False,
            ): seed
            for seed in seeds
        }
        for future in completed(futures):  # type: ignore[no-untyped-call]
            seed = futures[future]
            try:
                report, error = future.result()
            except Exception as err:  # the task raised or its worker died
                report, error = None, f"{type(err).__name__}: {err}"
            record(seed, report, error)
    return workers, f"dask {address}"


def _write_report(folder: Path, report: dict[str, Any]) -> None:
    """The run's report.json (a worker on another machine wrote its own there, not here)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    if not (folder / "report.html").is_file():  # a worker on another machine: its page, without the plots
        write_run_html(report, folder)


def _config(cfg: FastSimConfig) -> dict[str, Any]:
    data = asdict(cfg)
    data["undercut_step"] = str(data["undercut_step"])
    return data
