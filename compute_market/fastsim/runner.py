"""A whole run: its own anvil (or a node Ape is already connected to), the deploy through Ape,
the engine, the mirror check, the raw batched-call rates on the same node, and the report."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from compute_market.fastsim.anvil import Anvil
from compute_market.fastsim.chain import Chain, Tx
from compute_market.fastsim.check import check_mirror
from compute_market.fastsim.config import GENESIS_TIME, FastSimConfig
from compute_market.fastsim.deploy import Deployment, deploy_on, deploy_with_ape
from compute_market.fastsim.engine import FastSim, Progress
from compute_market.fastsim.html import code_hash, write_run_html
from compute_market.fastsim.plots import plot
from compute_market.fastsim.rawrate import measure_protocol_rate
from compute_market.fastsim.report import build_report
from compute_market.fastsim.rpc import Rpc
from compute_market.simulation.engine import START_TIME
from compute_market.units import HOUR


class Timer:
    """Wall time by phase."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = self.phases.get(name, 0.0) + time.perf_counter() - started


RAW_REPEATS = 3  # each raw rate is the median of this many batches (one of 0.1 s swings with the load)


def raw_rates(chain: Chain, sim: FastSim) -> dict[str, Any]:
    """The node's raw batched rates, measured now: batches of `eth_call`s of a view
    (`balanceOf`), and batches of simple transactions (CMP `approve`), each mined as one block;
    each rate the median of `RAW_REPEATS` batches (all of them under `*_samples`)."""
    cfg = sim.cfg
    holders = [c.address for c in sim.customers] + [p.address for p in sim.providers] or [sim.admin]
    calls = [("ComputeCredits", "balanceOf", (holders[i % len(holders)],)) for i in range(cfg.raw_rate_calls)]
    call_rates: list[float] = []
    for _ in range(RAW_REPEATS):
        started = time.perf_counter()
        chain.calls(calls)
        call_rates.append(len(calls) / (time.perf_counter() - started))
    spender = chain.address("ProviderRegistry")
    tx_rates: list[float] = []
    ok = 0
    _, now = chain.head()
    for k in range(RAW_REPEATS):
        txs = [
            Tx(holders[i % len(holders)], "raw", "ComputeToken", "approve", (spender, k * cfg.raw_rate_txs + i + 1))
            for i in range(cfg.raw_rate_txs)
        ]
        started = time.perf_counter()
        block = chain.mine_step(txs, now + 1 + k)
        tx_rates.append(len(txs) / (time.perf_counter() - started))
        ok += sum(1 for o in block.outcomes if o.ok)
    return {
        "eth_call_per_s": round(statistics.median(call_rates), 1),
        "eth_call_per_s_samples": [round(r, 1) for r in call_rates],
        "tx_per_s": round(statistics.median(tx_rates), 1),
        "tx_per_s_samples": [round(r, 1) for r in tx_rates],
        "tx_ok": ok,
        "tx_sent": RAW_REPEATS * cfg.raw_rate_txs,
        "what": RAW_WHAT.format(repeats=RAW_REPEATS, calls=len(calls), txs=cfg.raw_rate_txs),
    }


RAW_WHAT = (
    "median of {repeats} batches each. eth_call_per_s: {calls} ComputeCredits.balanceOf calls in one "
    "JSON-RPC batch, per second of the round trip; tx_per_s: {txs} ComputeToken.approve transactions "
    "from the actors' accounts (explicit nonces, fixed gas), sent as one batch of eth_sendTransaction "
    "(not streamed), mined as one block, statuses read from its logs exactly as a step does "
    "(Chain.mine_step), per second of all that"
)


def play(
    cfg: FastSimConfig,
    chain: Chain,
    start_time: int,
    timer: Timer,
    progress: Progress | None = None,
    before_check: Callable[[FastSim], None] | None = None,
) -> tuple[FastSim, dict[str, Any]]:
    """Set-up, steps, check and raw rates (approvals, and the protocol's postJob and placeBid
    on a snapshot that is reverted) on a deployed chain with mining off."""
    sim = FastSim(cfg, chain, start_time, progress)
    with timer.phase("setup"):
        sim.setup()
    waited = chain.wait_seconds
    with timer.phase("run"):
        try:
            sim.run()
        finally:
            chain.close()
    timer.phases["run: in JSON-RPC"] = chain.wait_seconds - waited
    if before_check is not None:
        before_check(sim)
    with timer.phase("check"):
        checked = check_mirror(chain, sim.mirror, [p.address for p in sim.providers])
    with timer.phase("raw rate"):
        raw = raw_rates(chain, sim)
        # the protocol's own postJob and placeBid, inside a snapshot the node reverts to
        raw.update(measure_protocol_rate(chain, txs=cfg.raw_rate_txs))
    # the deployed contracts' runtime code (report.html's code hash), while the node is up
    return sim, {"checked": checked, "raw": raw, "code_sha256": code_hash(chain.rpc, chain.deployment.addresses)}


def run_own_anvil(
    cfg: FastSimConfig, project: Any, out: Path | None = None, progress: Progress | None = None
) -> dict[str, Any]:
    """Starts an anvil of its own, deploys through Ape, plays, checks, measures, stops anvil
    (also on error); returns the report and writes ``report.json`` into `out`."""
    timer = Timer()
    started = time.perf_counter()
    with timer.phase("start anvil"):
        anvil = Anvil(GENESIS_TIME).start()
    try:
        rpc = Rpc(anvil.url)

        def tick(done: int, total: int, counts: dict[str, int]) -> None:
            if done % 50 == 0 or done == total:
                anvil.rss()  # the peak is kept
            if progress is not None:
                progress(done, total, counts)

        with timer.phase("deploy"):
            rpc.call("evm_setAutomine", [True])
            rpc.call("anvil_setBlockTimestampInterval", [1])  # deploy blocks one second apart
            rpc.call("anvil_setBalance", ["0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266", hex(10**30)])
            deployment = deploy_on(anvil.url, project, _record_path(out))
            rpc.call("anvil_removeBlockTimestampInterval")
            rpc.call("evm_setAutomine", [False])
        if anvil.keep_blocks and deployment.block >= anvil.keep_blocks:  # its logs would be gone
            raise RuntimeError(f"the deploy took {deployment.block} blocks: raise anvil.KEEP_BLOCKS above it")
        chain = Chain(rpc, deployment)
        sim, extra = play(cfg, chain, START_TIME, timer, tick)
        rss = anvil.rss()
    finally:
        anvil.stop()
    extra["peak_rss"] = anvil.peak_rss
    report = build_report(sim, extra, timer.phases, time.perf_counter() - started, rss, own_anvil=True)
    report["anvil"]["code_sha256"] = extra["code_sha256"]
    write_outputs(report, sim, out)
    return report


def run_attached(
    cfg: FastSimConfig,
    project: Any,
    out: Path | None = None,
    before_check: Callable[[FastSim], None] | None = None,
) -> tuple[FastSim, dict[str, Any]]:
    """The same run on the node Ape is connected to (a test session's anvil): deploys there,
    turns its automine off for the run and back on at the end (also on error)."""
    from ape import chain as ape_chain

    timer = Timer()
    started = time.perf_counter()
    rpc = Rpc(str(ape_chain.provider.uri))
    with timer.phase("deploy"):
        deployment: Deployment = deploy_with_ape(project, _record_path(out))
    head_time = int(ape_chain.blocks.head.timestamp)
    start = max(START_TIME, head_time - head_time % HOUR + HOUR)
    rpc.call("evm_setAutomine", [False])
    try:
        sim, extra = play(cfg, Chain(rpc, deployment), start, timer, before_check=before_check)
    finally:  # leave the session's node as it was: mining on, no impersonation
        rpc.call("anvil_dropAllTransactions")
        rpc.call("evm_setAutomine", [True])
        rpc.call("anvil_autoImpersonateAccount", [False])
    report = build_report(sim, extra, timer.phases, time.perf_counter() - started, 0, own_anvil=False)
    report["anvil"]["code_sha256"] = extra["code_sha256"]  # deployment-specific: kept out of `deterministic`
    write_outputs(report, sim, out)
    return sim, report


def _record_path(out: Path | None) -> Path:
    """Where the deploy writes its record: the output folder, else a temporary one."""
    folder = out if out is not None else Path(tempfile.mkdtemp(prefix="fastsim-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "deployment.json"


def write_outputs(report: dict[str, Any], sim: FastSim, out: Path | None) -> list[Path]:
    """Into `out`: the hourly time series (`timeseries.csv`) and the plots (`plots.PLOTS`) when the
    run recorded one, then `report.json` (its `timing.phases.plots` the time the plots took) and
    `report.html` (`fastsim.html`).
    Returns the files written."""
    if out is None:
        return []
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    if sim.cfg.series:
        started = time.perf_counter()
        files.append(sim.series.write_csv(out / "timeseries.csv", list(sim.cfg.gpu_mix)))
        files += plot(report, sim.series, out)
        report["timing"]["phases"]["plots"] = round(time.perf_counter() - started, 2)
    files.append(out / "report.json")
    files[-1].write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    files.append(write_run_html(report, out))  # self-contained: the summary's tables, the plots embedded
    return files
