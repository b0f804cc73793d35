"""Provider economics in the fast engine (issue 18): providers price from their costs and realised
trailing utilisation (`compute_market.economics`), book every owned GPU-hour into a ledger, and the
report gives P&L, utilisation, clearing and break-even prices and the discounts per GPU model.

Two small runs on the test session's anvil with the same seed that differ only in the GPU price:
one GPU model (A100-80GB) that customers ask for, and one (L4-24GB, weight 0) that the second
provider offers and no customer ever asks for, so that it stays idle. (The actors share one seeded
generator, so the two runs' demand differs a little once their bids differ: the sealed auctions at
the cloud price below keep the clearing prices to the providers' asks.)"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from rich.console import Console

from compute_market.economics import CENT, ask_price
from compute_market.fastsim import FastSimConfig, run_attached
from compute_market.fastsim.report import print_summary

TRADED, IDLE = "A100-80GB", "L4-24GB"
FOUR = Decimal("0.0001")
MONEY = ("credits_usd", "rewards_usd", "revenue", "ownership_cost", "marginal_cost", "profit")

BASE = FastSimConfig(
    seed=3,
    providers=10,
    customers=10,
    days=0.3,  # 7.2 simulated hours
    jobs_per_customer_hour=0.5,
    gpu_mix={TRADED: 1.0, IDLE: 0.0},  # provider 1 offers the L4; no customer draws it
    # Sealed auctions only, every job at the cloud price: each provider whose ask is below it bids
    # its ask, and a lease with two reveals clears at the second-lowest ask. The clearing price then
    # follows the providers' costs, not the customers' budgets.
    sealed_share=1.0,
    budget=(1.0, 1.0),
    lapse_rate=0.0,
    cheat_fake_rate=0.0,
    cheat_abandon_rate=0.0,
    raw_rate_calls=100,
    raw_rate_txs=50,
)
DEAR = replace(BASE, gpu_price_multiplier=1.5)  # the only difference: GPUs cost half as much again


@pytest.fixture(scope="module")
def economics_runs(project, tmp_path_factory):
    """The base run and the one with dearer GPUs, each on a fresh deployment."""
    base = run_attached(BASE, project, tmp_path_factory.mktemp("economics-base"))
    dear = run_attached(DEAR, project, tmp_path_factory.mktemp("economics-dear"))
    return base, dear


def test_the_headline_discount_is_computed_from_costs(economics_runs):
    """Same seed, same actors and demand; only the GPU price differs. The dearer GPUs raise the
    ownership cost, hence every ask above the floor utilisation, hence the clearing price; the
    discount vs the hyperscaler price falls. The discount is a result, not an input."""
    (base_sim, base), (dear_sim, dear) = economics_runs
    assert [p.costs.electricity_usd_per_kwh for p in base_sim.providers] == [
        p.costs.electricity_usd_per_kwh for p in dear_sim.providers
    ]
    for cheap, costly in zip(base_sim.providers, dear_sim.providers, strict=True):
        assert costly.costs.gpu_price_usd == cheap.costs.gpu_price_usd * Decimal("1.5")
        assert costly.costs.ownership_per_hour() > cheap.costs.ownership_per_hour()
    low, high = base["economics"]["models"][TRADED], dear["economics"]["models"][TRADED]
    assert low["leases"] > 0 and high["leases"] > 0
    assert Decimal(high["mean_ask_usd"]) > Decimal(low["mean_ask_usd"])
    assert Decimal(high["median_clearing"]) > Decimal(low["median_clearing"])
    assert Decimal(high["discount_vs_hyperscaler"]) < Decimal(low["discount_vs_hyperscaler"])
    assert Decimal(high["break_even_usd"]) > Decimal(low["break_even_usd"])
    # the discount is 1 - median clearing / the catalog's lowest hyperscaler quote
    hyperscaler = Decimal(low["hyperscaler_usd"])
    expected = (1 - Decimal(low["median_clearing"]) / hyperscaler).quantize(FOUR)
    assert abs(Decimal(low["discount_vs_hyperscaler"]) - expected) <= FOUR
    assert base["prices"][TRADED]["mean_clearing"] == low["mean_clearing"]  # the same leases
    # a sealed lease with a second reveal clears at that price: an ask, at most the job's max price
    leases = [j for j in base_sim.mirror.jobs.values() if j.lease_start and j.second_price]
    assert leases and all(j.price == j.second_price <= j.max_price for j in leases)


def test_an_idle_provider_loses_its_ownership_cost(economics_runs):
    """The L4 provider never leases a GPU: no revenue, and a loss of ownership per hour times
    every GPU-hour it owned, to the cent."""
    (sim, report), _ = economics_runs
    (idle,) = [p for p in sim.providers if p.gpu_model == IDLE]
    hours = Decimal(BASE.steps * BASE.step_seconds) / 3600
    owned = idle.gpu_count * hours
    expected = -(idle.costs.ownership_per_hour() * owned).quantize(CENT)
    (row,) = [p for p in report["providers"] if p["gpu_model"] == IDLE]
    economics = row["economics"]
    assert Decimal(economics["owned_gpu_hours"]) == owned.quantize(FOUR) and Decimal(economics["busy_gpu_hours"]) == 0
    assert Decimal(economics["revenue"]) == 0 and Decimal(economics["utilisation"]) == 0
    assert Decimal(economics["profit"]) == expected < 0
    assert Decimal(row["profit_usd"]).quantize(CENT) == expected
    model = report["economics"]["models"][IDLE]
    assert Decimal(model["profit_usd"]) == expected and model["leases"] == 0
    assert model["median_clearing"] == "-" and model["discount_vs_hyperscaler"] == "-"
    # its idle hours pushed part of the window's prior out: its utilisation and its ask fell
    prior = Decimal(str(BASE.initial_utilisation))
    assert 0 < idle.trailing.value() < prior
    assert idle.ask < ask_price(idle.costs, prior, idle.margin)


def test_per_model_figures_sum_the_providers(economics_runs):
    """Every model's P&L and GPU-hours are the sums of its providers' (each rounded to the cent,
    so within half a cent per provider), its utilisation busy / owned GPU-hours, and the hours
    cover the whole run."""
    for sim, report in economics_runs:
        models = report["economics"]["models"]
        assert set(models) == {TRADED, IDLE}
        run_hours = Decimal(sim.cfg.steps * sim.cfg.step_seconds) / 3600
        for model, row in models.items():
            group = [p for p in report["providers"] if p["gpu_model"] == model]
            assert row["providers"] == len(group) and row["gpus"] == sum(p["gpus"] for p in group)
            owned = sum(Decimal(p["economics"]["owned_gpu_hours"]) for p in group)
            busy = sum(Decimal(p["economics"]["busy_gpu_hours"]) for p in group)
            assert owned == Decimal(row["owned_gpu_hours"]) == (row["gpus"] * run_hours).quantize(FOUR)
            assert abs(busy - Decimal(row["busy_gpu_hours"])) <= FOUR * len(group)
            assert abs(Decimal(row["utilisation"]) - Decimal(row["busy_gpu_hours"]) / owned) <= FOUR
            for key in MONEY:
                total = sum(Decimal(p["economics"][key]) for p in group)
                name = key if key.endswith("_usd") else f"{key}_usd"
                assert abs(total - Decimal(row[name])) <= CENT / 2 * len(group), (model, key)
            before = Decimal(row["profit_usd"]) - Decimal(row["rewards_usd"])
            assert abs(Decimal(row["profit_before_rewards_usd"]) - before) <= CENT
        traded = models[TRADED]
        assert Decimal(traded["busy_gpu_hours"]) > 0 and Decimal(traded["credits_usd"]) > 0
        # GPU-hours paid for never exceed the hours leased
        paid = sum(Decimal(p["gpu_hours_paid"]) for p in report["providers"])
        assert paid <= Decimal(traded["busy_gpu_hours"]) + Decimal("0.01")


def test_the_summary_prints_the_economics_by_model(economics_runs):
    (_, report), _ = economics_runs
    console = Console(record=True, width=250)
    print_summary(console, report)
    text = console.export_text()
    assert "provider economics by GPU model" in text
    for model, row in report["economics"]["models"].items():
        assert model in text and row["profit_usd"] in text and row["ownership_cost_usd"] in text
