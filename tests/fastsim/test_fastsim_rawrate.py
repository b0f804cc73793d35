"""The protocol-call raw rate (`fastsim/rawrate.py`): measured on the run's node between the run
and its mirror check, it gives positive rates, every transaction succeeds, and the run's state
(mirror check, nonces, head) is as it was."""

from __future__ import annotations

from typing import Any

from compute_market.fastsim import FastSimConfig, check_mirror, run_attached
from compute_market.fastsim.rawrate import measure_protocol_rate

TINY = FastSimConfig(seed=5, providers=4, customers=6, days=0.1, raw_rate_calls=50, raw_rate_txs=20)


def test_protocol_rate_runs_and_leaves_the_run_unchanged(project, tmp_path):
    measured: dict[str, Any] = {}

    def measure(sim: Any) -> None:
        head = sim.chain.head()
        nonces = dict(sim.chain.nonces)
        # the session anvil keeps a 30M block gas limit: small batches (postJob is 600k gas);
        # 20 over 6 providers and 3 customers: uneven, the first ones take more each round
        measured.update(measure_protocol_rate(sim.chain, txs=20, repeats=2, customers=3, providers=6))
        assert sim.chain.head() == head
        assert dict(sim.chain.nonces) == nonces

    sim, report = run_attached(TINY, project, tmp_path, before_check=measure)
    assert measured["protocol_tx_ok"] == measured["protocol_tx_sent"] == 2 * 20 * 2
    for key in ("protocol_tx_per_s", "postJob_tx_per_s", "placeBid_tx_per_s"):
        assert measured[key] > 0
        assert len(measured[f"{key}_samples"]) == 2
    assert "postJob" in measured["protocol_what"]
    # the run's own check ran after the measurement and passed; once more now
    assert report["checked"]["jobs"] == report["jobs"]["posted"]
    check_mirror(sim.chain, sim.mirror, [p.address for p in sim.providers])
