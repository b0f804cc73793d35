"""Cluster mode of a sweep: the same runs as tasks on a Dask distributed cluster. A local cluster
of two worker processes (spawned, each with its own anvil and Ape connection, as the sweep's
process pool has) runs a tiny sweep of two seeds; one report per run and their aggregate."""

from __future__ import annotations

import json

import pytest
from distributed import LocalCluster

from compute_market.fastsim import FastSimConfig
from compute_market.fastsim.aggregate import headline
from compute_market.fastsim.report import deterministic
from compute_market.fastsim.sweep import run_sweep, seed_dir

TINY = FastSimConfig(
    providers=4,
    customers=6,
    days=0.1,  # 2.4 simulated hours
    jobs_per_customer_hour=0.6,
    raw_rate_calls=100,
    raw_rate_txs=50,
)


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes of one thread each; no dashboard."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local:
        yield local


def test_a_sweep_runs_on_a_dask_cluster(cluster, tmp_path):
    seen: list[int] = []
    result = run_sweep(
        TINY, [5, 6], 1, tmp_path, done=lambda seed, _r, _e: seen.append(seed), cluster=cluster.scheduler_address
    )
    assert result["failed"] == {} and result["seeds"] == [5, 6] and sorted(seen) == [5, 6]
    assert result["sweep"]["runner"] == f"dask {cluster.scheduler_address}" and result["sweep"]["jobs"] == 2
    assert json.loads((tmp_path / "aggregate.json").read_text()) == result
    reports = {s: json.loads((seed_dir(tmp_path, s) / "report.json").read_text()) for s in (5, 6)}
    for seed, report in reports.items():
        assert report["config"]["seed"] == seed
        assert report["anvil"]["own"] and report["checked"]["jobs"] == report["jobs"]["posted"] > 0
        assert report["transactions"]["reverted"] == 0
    assert deterministic(reports[5]) != deterministic(reports[6])
    assert result["per_run"] == {str(s): headline(reports[s]) for s in (5, 6)}
    posted = [reports[s]["jobs"]["posted"] for s in (5, 6)]
    assert result["figures"]["jobs.posted"]["mean"] == pytest.approx(sum(posted) / 2)
    assert result["figures"]["jobs.posted"]["min"] == min(posted)
