"""report.html and `ape run fastsim --compare` (issue 18, "Reporting"): two tiny runs (the sweep
test's market, `test_fastsim.TINY`, seeds 3 and 4) on the test session's anvil write their
self-contained pages; the script compares them (and two sweeps' aggregates) without a chain, and
refuses a folder with nothing to compare or runs mixed with sweeps."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, replace

import pytest
from click.testing import CliRunner
from test_fastsim import TINY
from utils.helpers import load_script

from compute_market.fastsim import run_attached
from compute_market.fastsim.aggregate import aggregate, format_figure, headline
from compute_market.fastsim.html import code_hash, git_commit, write_sweep_html
from compute_market.fastsim.plots import PLOTS

FASTSIM = load_script("fastsim")


@pytest.fixture(scope="module")
def html_runs(project, tmp_path_factory):
    """Seeds 3 and 4 of the tiny market, each deployed afresh: (sim, report, folder) each."""
    runs = []
    for seed in (3, 4):
        out = tmp_path_factory.mktemp(f"html-seed{seed}")
        sim, report = run_attached(replace(TINY, seed=seed), project, out)
        runs.append((sim, report, out))
    return runs


def assert_self_contained(page: str) -> None:
    """No script, no stylesheet link, nothing fetched from elsewhere; every image inline."""
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert not re.search(r"<script|<link|@import|url\(", page, re.IGNORECASE)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    for src in re.findall(r"""<img[^>]*\ssrc=["']([^"']*)""", page):
        assert src.startswith("data:image/png;base64,") and len(src) > 1000


def compare(*args):
    return CliRunner(mix_stderr=False).invoke(FASTSIM.cli, ["--compare", *map(str, args)], terminal_width=200)


def test_report_html_is_self_contained_with_commit_code_hash_config_tables_and_plots(html_runs):
    sim, report, out = html_runs[0]
    page = (out / "report.html").read_text()
    assert_self_contained(page)
    assert len(re.findall(r"<img ", page)) == len(PLOTS)
    commit = git_commit()
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", commit) and commit in page
    code = report["anvil"]["code_sha256"]
    assert json.loads((out / "report.json").read_text())["anvil"]["code_sha256"] == code
    # the hash is the sha256 of the deployed contracts' runtime code, as the page says
    assert code == code_hash(sim.chain.rpc, sim.chain.deployment.addresses) and code in page
    assert "eth_getCode" in page
    for field, value in asdict(replace(TINY, seed=3)).items():  # every field, scalars with their value
        assert f"<td>{field}</td>" in page, field
        if isinstance(value, int | float | str):
            assert f"<td>{field}</td><td>{value}</td>" in page, field
    assert "clearing price against the catalog&#x27;s cloud price" in page and "speed" in page
    for model, prices in report["prices"].items():  # the terminal summary's prices table
        assert f'<td class="num">{model}</td>' in page and prices["cloud"] in page
    assert f'<td class="num">{report["jobs"]["posted"]}</td>' in page


def test_the_code_hash_follows_the_deployment_and_the_commit_is_unknown_outside_a_repository(
    html_runs, tmp_path, monkeypatch
):
    (_, first, _), (_, second, _) = html_runs
    # each run deployed afresh: the same code, other addresses in the immutables, another hash
    assert re.fullmatch(r"[0-9a-f]{64}", first["anvil"]["code_sha256"])
    assert first["anvil"]["code_sha256"] != second["anvil"]["code_sha256"]
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))  # (tmp_path may lie inside the repository)
    assert git_commit(tmp_path) == "unknown"


def test_compare_two_runs_shows_both_and_the_differences(html_runs, tmp_path):
    (_, a, dir_a), (_, b, dir_b) = html_runs
    result = compare(dir_a, dir_b, "--out", tmp_path)
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert f"[1] {dir_a}" in text and f"[2] {dir_b}" in text and "config seed: 3 | 4" in text
    assert "[2] - [1]" in text
    posted = (a["jobs"]["posted"], b["jobs"]["posted"])
    delta = posted[1] - posted[0]
    row = next(line for line in text.splitlines() if "jobs.posted" in line)
    cells = [c.strip() for c in row.strip("│ ").split("│")]
    assert cells[:3] == ["jobs.posted", str(posted[0]), str(posted[1])]
    assert cells[3].startswith(f"{delta:+d}" if delta else "0")
    for name in headline(a).keys() & headline(b).keys():
        assert name in text
    page = (tmp_path / "compare.html").read_text()
    assert_self_contained(page)
    assert str(dir_a) in page and str(dir_b) in page and a["anvil"]["code_sha256"] in page
    assert "<td>jobs.posted</td>" in page
    # without --out: beside the first folder
    assert compare(dir_a, dir_b).exit_code == 0 and (dir_a.parent / "compare.html").is_file()


def sweep_folder(path, reports):
    """An aggregate as a sweep writes it, from real reports (without running the sweep)."""
    result = aggregate({r["config"]["seed"]: r for r in reports})
    config = {k: v for k, v in reports[0]["config"].items() if k != "seed"}
    result["sweep"] = {"wall_seconds": 1.0, "jobs": 1, "cpus": 2, "runner": "processes", "config": config}
    result["sweep"]["code_sha256"] = sorted({r["anvil"]["code_sha256"] for r in reports})
    path.mkdir()
    (path / "aggregate.json").write_text(json.dumps(result))
    return result


def test_a_sweep_page_and_a_comparison_of_sweeps(html_runs, tmp_path):
    reports = [report for _, report, _ in html_runs]
    result = sweep_folder(tmp_path / "sweep-a", reports)
    page = write_sweep_html(result, tmp_path / "sweep-a").read_text()
    assert_self_contained(page)
    assert "median" in page and "90% interval (p05 to p95)" in page and "<th>seed 3</th><th>seed 4</th>" in page
    assert '<a href="seed3/report.html">' in page and git_commit() in page
    for code in result["sweep"]["code_sha256"]:
        assert code in page
    for field in result["sweep"]["config"]:
        assert f"<td>{field}</td>" in page
    sweep_folder(tmp_path / "sweep-b", reports[:1])
    answer = compare(tmp_path / "sweep-a", tmp_path / "sweep-b")
    assert answer.exit_code == 0, answer.stderr
    assert "comparison of 2 sweeps: medians (90% interval)" in answer.stdout
    posted = result["figures"]["jobs.posted"]
    row = next(line for line in answer.stdout.splitlines() if "jobs.posted" in line)
    assert (
        f"{format_figure(posted['median'])} ({format_figure(posted['p05'])} to {format_figure(posted['p95'])})" in row
    )
    assert (tmp_path / "compare.html").is_file()


def test_compare_refuses_a_folder_without_a_report_and_runs_mixed_with_sweeps(html_runs, tmp_path):
    (_, report, dir_a), (_, _, dir_b) = html_runs
    empty = tmp_path / "empty"
    empty.mkdir()
    answer = compare(dir_a, empty)
    assert answer.exit_code != 0
    (line,) = answer.stderr.strip().splitlines()
    assert line.startswith("Error: --compare:") and f"{empty} has neither report.json" in line
    sweep_folder(tmp_path / "sweep", [report])
    answer = compare(dir_a, tmp_path / "sweep")
    (line,) = answer.stderr.strip().splitlines()
    assert answer.exit_code != 0 and line.startswith("Error: --compare: cannot mix runs")
    answer = compare(dir_a)
    assert answer.exit_code != 0 and "--compare: give two or more folders" in answer.stderr
    answer = CliRunner(mix_stderr=False).invoke(FASTSIM.cli, [str(dir_a), str(dir_b)])
    assert answer.exit_code != 0 and "--compare" in answer.stderr
