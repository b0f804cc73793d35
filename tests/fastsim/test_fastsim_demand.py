"""Customers with choices in the block-level engine (issue 18, `--outside-option`): budgets against
the cheapest alternative, demand that follows the market's saving, budgets raised after unfilled
jobs (`compute_market/fastsim/demand.py`)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from compute_market.fastsim import FastSimConfig, run_attached
from compute_market.fastsim.aggregate import headline
from compute_market.fastsim.demand import (
    RISK_PRIOR,
    TRIAL,
    Demand,
    demand_chance,
    failure_cost,
    failure_risk,
    outside_price,
    risk_adjusted_share,
)
from compute_market.simulation.config import Catalog, GpuModel, PriceQuote
from compute_market.units import to_wei


def _quote(usd: str) -> PriceQuote:
    return PriceQuote("m", "x", Decimal(usd), None, "https://example.org", "2026-11-01", True)


def test_the_outside_option_is_the_cheapest_alternative():
    """Cloud 6.88 with marketplace quotes 2.49 and 1.87: 1.87; without quotes: the cloud price; and
    the catalog's H100 is priced at its lowest marketplace quote, below AWS."""
    quotes = (_quote("2.49"), _quote("1.87"))
    gpu = GpuModel("G", 80, Decimal(700), Decimal(25_000), Decimal("6.88"), marketplace=quotes)
    assert outside_price(gpu) == Decimal("1.87")
    assert outside_price(replace(gpu, marketplace=())) == Decimal("6.88")
    h100 = Catalog.load().models["H100-80GB"]
    assert outside_price(h100) == min(q.usd_per_gpu_hour for q in h100.marketplace) < h100.cloud_usd_per_gpu_hour


@pytest.mark.parametrize(
    ("reference", "chance"),
    [
        ("0", 1.0),  # no reference: all demand stays
        ("1.00", 1.0),  # half the outside price: a saving of 50%, times 2
        ("1.50", 0.5),  # a saving of 25%: half the demand
        ("1.95", 0.1),  # a saving of 2.5%: 5%, raised to the 10% trial floor
        ("2.40", TRIAL),  # dearer than the outside option: the trial floor only
    ],
)
def test_demand_follows_the_saving_against_the_outside_price(reference, chance):
    """Outside price 2.00 USD, elasticity 2."""
    assert demand_chance(to_wei(reference), Decimal("2.00")) == pytest.approx(chance)


def test_an_unfilled_job_raises_the_next_budget_for_that_model_up_to_the_outside_price():
    """A budget of 60% of the outside price: 69% after one unfilled job, 79.35% after two, capped at
    100% after four; another model's budget is untouched. Each is then weighed by the prior failure
    risk (10%), a failed lease's prior paid share (one half) and the 28.5% of the max price a
    customer recovers (30% collateral less the 5% keeper's bounty): (s - 0.1) / (1 - 0.1 * 0.785)."""
    demand = Demand(recovered_share=0.285)

    def weighed(share: float) -> float:
        return (share - 0.1) / (1 - 0.1 * (1 - 0.5 + 0.285))

    assert demand.budget_share("c", "H100", 0.6) == pytest.approx(weighed(0.6))
    demand.unfilled("c", "H100")
    assert demand.budget_share("c", "H100", 0.6) == pytest.approx(weighed(0.69))
    demand.unfilled("c", "H100")
    assert demand.budget_share("c", "H100", 0.6) == pytest.approx(weighed(0.7935))
    demand.unfilled("c", "H100")
    demand.unfilled("c", "H100")
    assert demand.budget_share("c", "H100", 0.6) == pytest.approx(weighed(1.0))
    assert demand.budget_share("c", "L4", 0.6) == demand.budget_share("d", "H100", 0.6) == pytest.approx(weighed(0.6))
    assert demand.report()["budget_raises"] == 4


def test_the_failure_risk_and_the_paid_share_start_at_their_priors_and_follow_the_outcomes():
    """One failure in ten before any outcome; 10 settled leases: 1/20; then 10 failed: 11/30. A
    failed lease's paid share starts at one half; two failures that had paid 20% and 40%: (0.5 +
    0.6) / 3. Only that model's outcomes count."""
    demand = Demand()
    assert demand.risk("H100") == failure_risk(0, 0) == RISK_PRIOR[0] / RISK_PRIOR[1] == 0.1
    assert demand.paid_share("H100") == 0.5
    for _ in range(10):
        demand.lease_ended("H100", failed=False)
    assert demand.risk("H100") == pytest.approx(1 / 20)
    for paid in (0.2, 0.4):
        demand.lease_ended("H100", failed=True, paid_share=paid)
    assert demand.paid_share("H100") == pytest.approx(1.1 / 3)
    for _ in range(8):
        demand.lease_ended("H100", failed=True)
    assert demand.risk("H100") == pytest.approx(11 / 30) and demand.risk("L4") == 0.1
    report = demand.report()
    assert (report["leases_ended"], report["leases_failed"]) == ({"H100": 20}, {"H100": 10})
    assert report["failure_risk"]["H100"] == round(11 / 30, 4)


def test_a_risky_model_gets_lower_budgets_and_less_demand():
    """Share 90%, risk 10%, 30% recovered: paying the whole lease before a failure, a max price of
    0.8 / 0.97 = 82.5% of the outside price costs what 90% would with no failures; paying half of
    it, 0.8 / 0.92 = 87.0%; the budget's failure cost is the share again. A reference at half the
    outside price keeps all demand without risk; at a 20% risk, paying it all before failing, the
    failures cost 0.2 * (1 - 0.3 * 0.5) = 17% of the outside price, the saving is 33% and two thirds
    of the demand stays. A risk at or above the customer's share leaves no budget: the job goes
    elsewhere and is counted there; a budget is posted to the 0.0001 tick."""
    assert risk_adjusted_share(0.9, 0.1, 0.3) == pytest.approx(0.8 / 0.97)
    assert risk_adjusted_share(0.9, 0.1, 0.3, paid=0.5) == pytest.approx(0.8 / 0.92)
    for paid in (0.0, 0.5, 1.0):
        b = risk_adjusted_share(0.9, 0.1, 0.3, paid)
        assert failure_cost(b, 0.1, 0.3, paid) == pytest.approx(0.9)
    assert risk_adjusted_share(0.9, 0.0, 0.3) == 0.9
    assert risk_adjusted_share(0.5, 0.5, 0.3) == risk_adjusted_share(0.5, 0.7, 0.3) == 0.0
    # never above the outside price: recovering more than it paid, a failure would cost less than
    # the price it adds (0.8 / 0.8715 = 0.918 > 0.9 is allowed; 1.0 raised would be 1.03: capped);
    # at a risk whose failures return more than the price adds, the outside price itself
    assert risk_adjusted_share(0.9, 0.1, 0.285, paid=0.0) == pytest.approx(0.8 / 0.8715)
    assert risk_adjusted_share(1.0, 0.1, 0.285, paid=0.0) == 1.0
    assert risk_adjusted_share(1.0, 0.8, 0.285, paid=0.0) == 1.0  # slope 1 - 0.8 * 1.285 < 0
    half = to_wei("1.00")
    assert demand_chance(half, Decimal("2.00")) == 1.0
    assert demand_chance(half, Decimal("2.00"), risk=0.2, recovered=0.3) == pytest.approx(0.66)
    demand = Demand(recovered_share=0.3)
    for _ in range(30):
        demand.lease_ended("H100", failed=True)  # risk 31/40
    assert demand.budget("c", "H100", 0.7, Decimal("2.00")) is None
    assert demand.went_outside["H100"] == 1
    share = (0.7 - 0.1) / (1 - 0.1 * (1 - 0.5 + 0.3))
    assert demand.budget("c", "L4", 0.7, Decimal("0.50")) == (Decimal("0.50") * Decimal(str(share))).quantize(
        Decimal("0.0001")
    )
    assert demand.budget("c", "L4", 0.7, Decimal("0.00001")) is None  # below the tick
    assert demand.went_outside["L4"] == 1


CHOOSING = FastSimConfig(
    seed=4,
    providers=6,
    customers=10,
    days=0.5,
    jobs_per_customer_hour=0.6,
    raw_rate_calls=100,
    raw_rate_txs=50,
)


@pytest.fixture(scope="module")
def runs(project, tmp_path_factory):
    """The same market without and with customers' choices."""
    plain = run_attached(CHOOSING, project, tmp_path_factory.mktemp("demand-off"))[1]
    choosing = run_attached(replace(CHOOSING, outside_option=True), project, tmp_path_factory.mktemp("demand-on"))[1]
    return plain, choosing


def test_customers_with_an_outside_option_post_fewer_jobs_at_lower_budgets(runs):
    """Without choices every customer posts at a share of the hyperscaler's price; with them, the
    budget is a share of the cheapest alternative (the marketplaces, far below AWS for the H100 and
    A100), and some jobs go elsewhere: fewer jobs posted, lower max prices, the report says where
    the demand went and a sweep aggregates the share that left."""
    plain, choosing = runs
    assert "demand" not in plain
    demand = choosing["demand"]
    outside, market = sum(demand["went_outside"].values()), sum(demand["to_market"].values())
    assert outside > 0 and market == choosing["jobs"]["posted"] < plain["jobs"]["posted"]
    for model in ("H100-80GB", "A100-80GB"):
        assert Decimal(choosing["prices"][model]["mean_max_price"]) < Decimal(plain["prices"][model]["mean_max_price"])
    figures = headline(choosing)
    assert figures["demand.outside_share"] == round(outside / (outside + market), 4)
    assert "demand.outside_share" not in headline(plain)


def test_the_customers_failure_risk_counts_the_runs_ended_leases(runs):
    """The customers' risk is read from the run's public outcomes: every settled and failed lease
    of the run, by model, and the risk reported is the prior updated by them."""
    _, choosing = runs
    demand, by_status = choosing["demand"], choosing["jobs"]["by_status"]
    ended, failed = demand["leases_ended"], demand["leases_failed"]
    assert sum(ended.values()) == by_status.get("SETTLED", 0) + by_status.get("FAILED", 0) > 0
    assert sum(failed.values()) == by_status.get("FAILED", 0)
    for model, n in ended.items():
        assert demand["failure_risk"][model] == round(failure_risk(failed[model], n), 4)
        assert 0 <= demand["paid_before_failing"][model] <= 1
