"""Providers that enter and leave on profit in the block-level engine (issue 18, `--entry-exit`,
`compute_market/fastsim/supply.py`): the trailing P&L they decide on, and two small runs of the
same market, one valuing token rewards at the oracle price (the emission pays more than the
hardware costs: the entrants come in, nobody leaves) and one valuing them at nothing (every
provider loses money on the market alone and leaves)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from click.testing import CliRunner
from utils.helpers import load_script

from compute_market.economics import ProviderCosts, TrailingUtilisation
from compute_market.fastsim import FastSimConfig, run_attached
from compute_market.fastsim.actors import Provider
from compute_market.fastsim.aggregate import headline
from compute_market.fastsim.mirror import Mirror
from compute_market.fastsim.supply import DORMANT, LEFT, Snapshot, Supply, snapshot, trailing_pnl
from compute_market.simulation.config import Catalog
from compute_market.units import to_wei

FASTSIM = load_script("fastsim")


@pytest.fixture(scope="module")
def h100_provider() -> Provider:
    catalog = Catalog.load()
    costs = ProviderCosts.from_catalog(catalog.models["H100-80GB"], catalog.electricity_usd_per_kwh)
    return Provider("0x" + "11" * 20, "honest", "H100-80GB", 8, 80, "", costs, Decimal("0.2"), TrailingUtilisation(24))


def test_the_trailing_pnl_counts_credits_rewards_at_the_price_and_every_owned_hour(h100_provider):
    """Between two snapshots 24 hours apart: 8 GPUs owned for 24 h (192 GPU-hours), 20 of them
    busy, 40 USD of credits and 10 CMP of rewards at 2.50: 65 USD of revenue against the ownership
    cost of 192 GPU-hours and the marginal cost of 20."""
    p = h100_provider
    then = Snapshot(Decimal(100), Decimal(5), Decimal(500), Decimal(60))
    now = Snapshot(Decimal(140), Decimal(15), Decimal(692), Decimal(80))
    profit, owned = trailing_pnl(p, then, now, Decimal("2.50"))
    cost = p.costs.ownership_per_hour() * 192 + p.costs.marginal_per_busy_hour() * 20
    assert owned == 192 and profit == Decimal(65) - cost < 0
    profit_at_zero, _ = trailing_pnl(p, then, now, Decimal(0))
    assert profit - profit_at_zero == Decimal(25)  # the rewards, and nothing else, move with the price
    assert snapshot(p) == Snapshot(Decimal(0), Decimal(0), Decimal(0), Decimal(0))
    assert snapshot(p, Decimal(3)).reward_tokens == Decimal(3)  # earned, not claimed yet


def test_the_mirror_follows_a_providers_unbonding_stake_as_the_registry_takes_it():
    """1,000 CMP staked, 300 locked by a lease, 600 asked back: 100 free. A slash of 250 takes the
    100 free first, then 150 of the unbonding stake (`ProviderRegistry._take`): 750 staked, 450
    unbonding, nothing free; the withdrawal of the 450 leaves the 300 the lease holds."""
    mirror, who = Mirror(), "0x" + "22" * 20
    mirror.apply("ProviderRegistry", "Staked", {"provider": who, "amount": 1000, "totalStaked": 1000}, 0)
    mirror.apply("ProviderRegistry", "CollateralLocked", {"provider": who, "jobId": 1, "gpus": 1, "amount": 300}, 0)
    mirror.apply(
        "ProviderRegistry",
        "UnstakeRequested",
        {"provider": who, "amount": 600, "totalUnbonding": 600, "unbondingEnd": 9},
        0,
    )
    assert mirror.staked[who] - mirror.locked(who) - mirror.unbonding[who] == 100
    mirror.apply("ProviderRegistry", "Slashed", {"provider": who, "amount": 250, "slashed": 250, "burned": 0}, 0)
    assert (mirror.staked[who], mirror.unbonding[who], mirror.locked(who)) == (750, 450, 300)
    mirror.apply("ProviderRegistry", "Unstaked", {"provider": who, "amount": 450}, 0)
    assert (mirror.staked[who], mirror.unbonding[who]) == (300, 0)


def test_a_window_shorter_than_a_reward_epoch_or_a_step_that_splits_the_hour_is_refused():
    """Rewards are earned a day at a time: a shorter window would see costs without their rewards;
    decisions come on hourly records, so the step must divide the hour (`--step-minutes 45` is
    refused in one line naming the option)."""
    with pytest.raises(ValueError, match="exit_window_hours must span a reward epoch"):
        Supply(window=12)
    assert Supply(window=24).window == 24
    answer = CliRunner(mix_stderr=False).invoke(FASTSIM.cli, ["--entry-exit", "--step-minutes", "45"])
    assert answer.exit_code == 2 and "--step-minutes" in answer.stderr and "divide 60" in answer.stderr
    assert "Traceback" not in answer.stderr


MARKET = FastSimConfig(
    seed=3,
    providers=4,
    customers=4,
    verifiers=0,
    days=2,
    step_minutes=30,
    jobs_per_customer_hour=0.5,
    gpu_mix={"H100-80GB": 0.5, "L4-24GB": 0.5},
    cheat_fake_rate=0.0,
    cheat_abandon_rate=0.0,
    series=False,
    raw_rate_calls=100,
    raw_rate_txs=50,
    entry_exit=True,
    entrants=2,
)


@pytest.fixture(scope="module")
def runs(project, tmp_path_factory):
    """The same market with token rewards in the decisions and without."""
    valued = run_attached(MARKET, project, tmp_path_factory.mktemp("supply-rewards"))
    no_rewards = replace(MARKET, rewards_in_decisions=False)
    unvalued = run_attached(no_rewards, project, tmp_path_factory.mktemp("supply-none"))
    return valued, unvalued


def _chain(sim, function, address):
    return sim.chain.calls([("ProviderRegistry", function, (address,))])[0][0]


def test_while_the_emission_pays_for_the_hardware_the_entrants_come_in(runs):
    """Rewards at the oracle price: the incumbents made money over the first window, so one entrant
    a simulated hour stakes and starts bidding. A provider leaves only on a losing window. Every
    stake and unstake went through (no transaction reverted). An entrant's costs start when it enters:
    it owned its GPUs from the step that sent its stake (half an hour after the hour it decided)
    to the end, not for the whole run."""
    (sim, report), _ = runs
    supply = report["supply"]
    assert [e["hour"] for e in supply["entries"]] == [25, 26]  # after the first 24-hour window, one an hour
    assert all(Decimal(e["trailing_pnl_usd"]) < 0 and e["hour"] >= 25 for e in supply["exits"])
    assert sum(sim.reverted.values()) == 0
    states = supply["providers_by_state"]
    assert states.get("active", 0) + states.get("left", 0) + states.get("leaving", 0) == MARKET.providers + 2
    hours = MARKET.days * 24
    for entry in supply["entries"]:
        p = sim.provider_of[entry["provider"]]
        assert _chain(sim, "stakeOf", p.address) == to_wei(MARKET.provider_stake) - p.slashed_cmp
        # owned from the step that sends its stake, the first after the hour it decided: 8 GPUs for 22.5 h
        assert p.ledger.owned_gpu_hours == p.gpu_count * (hours - entry["hour"] - Decimal(MARKET.step_minutes) / 60)
    figures = headline(report)
    assert (figures["supply.entries"], figures["supply.exits"]) == (2, len(supply["exits"]))


def test_without_the_emission_every_provider_loses_money_and_leaves(runs):
    """Rewards at nothing: at this market's utilisation every incumbent's P&L over a window goes
    negative (from hour 25, the first full window), so each stops bidding and, its leases over,
    asks to unstake all its stake (on chain: nothing free, all of it unbonding). An entrant comes
    in only on a window in which the incumbents still staying made money (the leaving ones do not
    count); the ones that never came stay without stake or cost. Jobs posted once the market
    emptied find nobody."""
    _, (sim, report) = runs
    supply = report["supply"]
    assert len(supply["exits"]) == MARKET.providers
    assert all(e["hour"] >= 25 and Decimal(e["trailing_pnl_usd"]) < 0 for e in supply["exits"])
    assert sum(sim.reverted.values()) == 0
    entered = {e["provider"] for e in supply["entries"]}
    for p in sim.providers:
        if p.address in entered or p.state != DORMANT:
            continue
        assert p.ledger.owned_gpu_hours == 0 and _chain(sim, "stakeOf", p.address) == 0
    for exit_ in supply["exits"]:
        p = sim.provider_of[exit_["provider"]]
        assert p.state == LEFT and _chain(sim, "freeStakeOf", p.address) == 0
        assert _chain(sim, "stakeOf", p.address) == sim.mirror.unbonding[p.address] > 0
    assert report["jobs"]["by_status"].get("EXPIRED", 0) > 0
