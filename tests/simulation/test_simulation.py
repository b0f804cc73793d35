"""A small simulation (a few actors, one simulated day), its report checked against the chain."""

from __future__ import annotations

from decimal import Decimal

import pytest
from utils.helpers import unclaimed_jury_rewards

from compute_market.agent import honest_result
from compute_market.models import DisputeStatus, JobStatus
from compute_market.simulation.config import Catalog, SimConfig
from compute_market.simulation.engine import Simulation
from compute_market.simulation.report import build_report, write_outputs
from compute_market.units import from_wei

ZERO = "0x0000000000000000000000000000000000000000"


@pytest.fixture(scope="module")
def run(project, tmp_path_factory):
    cfg = SimConfig(
        seed=3,
        days=1,
        providers=5,
        customers=3,
        verifiers=5,
        jobs_per_customer_hour=0.4,
        cheat_fake_rate=0.2,
        cheat_abandon_rate=0.2,
    )
    out = tmp_path_factory.mktemp("sim")
    sim = Simulation(project, cfg, out)
    state = sim.run()
    report = build_report(sim, state)
    files = write_outputs(report, state, cfg, out)
    return sim, state, report, files


def test_every_posted_job_is_in_exactly_one_state(run):
    sim, _, report, _ = run
    market = sim.protocol.market
    posted = market.jobCount()
    assert report["jobs"]["posted"] == posted > 5
    statuses = [JobStatus(market.statusOf(i)) for i in range(1, posted + 1)]
    assert JobStatus.NONE not in statuses
    assert sum(report["jobs"]["by_status"].values()) == posted
    assert report["jobs"]["by_status"] == {s.name: statuses.count(s) for s in set(statuses)}
    assert report["jobs"]["filled"] >= report["jobs"]["settled"] > 0


def test_supplies_equal_mints_minus_burns(run):
    sim, _, report, _ = run
    p = sim.protocol
    minted = list(p.credits.CreditsMinted.range(0, sim.last_block + 1))
    redeemed = list(p.credits.CreditsRedeemed.range(0, sim.last_block + 1))
    crd = sum(e.credits for e in minted) - sum(e.credits for e in redeemed)
    assert p.credits.totalSupply() == crd
    assert Decimal(report["credits"]["crd_supply"]) == from_wei(crd)
    transfers = list(p.token.Transfer.range(0, sim.last_block + 1))
    mints = sum(e.value for e in transfers if e["from"] == ZERO)
    burns = sum(e.value for e in transfers if e["to"] == ZERO)
    assert p.token.totalSupply() == mints - burns
    assert Decimal(report["tokens"]["cmp_supply_end"]) == from_wei(mints - burns)
    assert Decimal(report["tokens"]["emitted_cmp"]) == from_wei(p.rewards.totalClaimed())
    assert Decimal(report["credits"]["cmp_burned_for_credits"]) == from_wei(sum(e.tokensBurned for e in minted))


def test_no_contract_holds_funds_nobody_can_claim(run):
    sim, _, _, _ = run
    p = sim.protocol
    ids = range(1, p.market.jobCount() + 1)
    # An ended job holds nothing by derivation (`fundsOf`): one that kept credits it should have
    # paid out would leave the market's balance above the sum.
    assert p.credits.balanceOf(p.market) == sum(p.market.fundsOf(i).escrow for i in ids) + p.market.feesAccrued()
    open_bonds = sum(
        p.resolver.disputeOf(i).bond
        for i in ids
        if p.resolver.disputeOf(i).status
        in (DisputeStatus.VOTING, DisputeStatus.AWAITING_ARBITER, DisputeStatus.DRAWING)
    )
    unclaimed_cmp, unclaimed_crd = unclaimed_jury_rewards(p.resolver, ids)
    assert p.credits.balanceOf(p.resolver) == open_bonds + unclaimed_crd
    verifiers = [v.client.address for v in sim.verifiers]
    providers = [a.me for a in sim.agents]
    # The one staking ledger holds every provider's and every verifier's stake and what failed
    # leases credited their customers and keepers and nobody claimed yet, and nothing else.
    staked = sum(p.registry.stakeOf(a) for a in providers) + sum(p.registry.verifierOf(v).staked for v in verifiers)
    credited = list(p.registry.SlashCredited.range(0, sim.last_block + 1))
    claimed = sum(e.amount for e in p.registry.PayoutClaimed.range(0, sim.last_block + 1))
    owed = sum(p.registry.payoutOf(a) for a in {e.payee for e in credited})
    assert owed == sum(e.amount for e in credited) - claimed
    assert (p.token.balanceOf(p.registry), p.token.balanceOf(p.resolver)) == (staked + owed, unclaimed_cmp)


def test_only_faked_results_are_challenged_and_honest_ones_are_seen_as_honest(run):
    """Customers and jurors judge a result against the honest one (the simulation's ground truth,
    read from `ResultSubmitted`: the market keeps the hash in the event only). Every challenged
    result is a fake, and the simulation sees each honest result as honest and each fake as fake."""
    sim, _, _, _ = run
    p = sim.protocol
    logs = p.market.ResultSubmitted.range(0, sim.last_block + 1)
    results = {int(log["jobId"]): (bytes(log["resultHash"]), str(log["provider"])) for log in logs}
    honest = {j for j, (digest, who) in results.items() if digest == honest_result(j, who)}
    challenged = {j for j in results if p.resolver.disputeOf(j).challenger != ZERO}
    assert honest and challenged <= set(results) - honest
    assert {j for j in results if sim._result_is_honest(j)} == honest


def test_report_files_and_cheaters(run):
    _sim, state, report, files = run
    assert {f.name for f in files} >= {
        "report.json",
        "timeseries.csv",
        "prices.png",
        "utilization.png",
        "supply.png",
        "earnings.png",
    }
    assert all(f.stat().st_size > 0 for f in files)
    assert len((files[1]).read_text().splitlines()) == 1 + 24  # a header and one row per hour
    assert state.cheats["fake"] + state.cheats["abandon"] == 2
    cloud = {m: g.cloud_usd_per_gpu_hour for m, g in Catalog.load().models.items()}
    for model, figures in report["prices"].items():
        if figures["mean_clearing_usd"]:
            assert Decimal(figures["mean_clearing_usd"]) <= cloud[model]  # nobody pays above its budget


def test_the_reported_challenges_are_the_customers_challenges_on_chain(run):
    sim, _, report, _ = run
    customers = {c.client.address for c in sim.customers}
    logs = sim.protocol.resolver.Challenged.range(0, sim.last_block + 1)
    on_chain = [log for log in logs if log.challenger in customers]
    assert report["slashes"]["challenges"] == len(on_chain) > 0
