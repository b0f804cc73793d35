"""Provider economics (compute_market/economics): pure Python, no chain, no Ape fixtures.

Hand computations use the H100-80GB of data/gpu_catalog.json (27,500 USD, 700 W) at the catalog's
electricity price (0.083 USD/kWh) and the defaults of docs/economics.md:

    capital      = 27,500 * (1 + 0.40)                          = 38,500 USD
    CRF(10%, 5y) = 0.1 * 1.1^5 / (1.1^5 - 1) = 0.161051 / 0.61051 = 0.263797
    capital/h    = 38,500 * 0.263797 / 8760                     = 1.159384
    hosting/h    = 184.06 * 0.700 kW * 1.82 / 730               = 0.321223
    idle power/h = 0.105 kW * 1.58 * 0.083                      = 0.013770
    ownership/h  = 1.159384 + 0.321223 + 0.013770               = 1.494376
    marginal/h   = (0.966 - 0.105) kW * 1.58 * 0.083            = 0.112912
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compute_market.economics import (
    CENT,
    ProviderCosts,
    ProviderLedger,
    TrailingUtilisation,
    ask_price,
    break_even_table,
    capital_recovery_factor,
    discount_vs_cloud,
    format_table,
    headline,
    percentile,
    pnl,
)
from compute_market.simulation.config import Catalog

D = Decimal


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


@pytest.fixture(scope="module")
def h100(catalog: Catalog) -> ProviderCosts:
    return ProviderCosts.from_catalog(catalog.models["H100-80GB"], catalog.electricity_usd_per_kwh)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT)


def test_capital_recovery_factor_matches_hand_computation():
    """3 years at 8%: 0.08 * 1.08^3 / (1.08^3 - 1) = 0.08 * 1.259712 / 0.259712 = 0.3880335.
    5 years at 10%: 0.263797 (the default). At 0% it is straight-line, 1 / n."""
    assert capital_recovery_factor(D("0.08"), D(3)).quantize(D("0.0000001")) == D("0.3880335")
    assert capital_recovery_factor(D("0.10"), D(5)).quantize(D("0.000001")) == D("0.263797")
    assert capital_recovery_factor(D(0), D(4)) == D("0.25")
    # an annuity costs more than straight-line whenever capital has a price
    assert capital_recovery_factor(D("0.08"), D(3)) > D(1) / 3


def test_h100_cost_components_match_hand_computation(h100: ProviderCosts):
    """The figures of the module docstring, to six places."""
    six = D("0.000001")
    assert h100.capital_usd() == D(38500)
    assert h100.capital_per_hour().quantize(six) == D("1.159384")
    assert h100.hosting_usd_per_gpu_hour.quantize(six) == D("0.321223")
    assert h100.idle_power_per_hour().quantize(six) == D("0.013770")
    assert h100.ownership_per_hour().quantize(six) == D("1.494376")
    assert h100.marginal_per_busy_hour().quantize(six) == D("0.112912")


def test_break_even_at_full_utilisation_is_ownership_plus_marginal(catalog: Catalog):
    """At u = 1 every owned hour is sold once: break_even(1) = ownership + marginal, for every model."""
    for gpu in catalog.models.values():
        costs = ProviderCosts.from_catalog(gpu, catalog.electricity_usd_per_kwh)
        assert costs.break_even_price(1) == costs.ownership_per_hour() + costs.marginal_per_busy_hour()


def test_h100_break_even_at_20_60_100_percent(h100: ProviderCosts):
    """break_even(u) = 0.112912 + 1.494376 / u:
    u = 20%:  0.112912 + 7.471881 = 7.58 USD/GPU-h (above AWS's 6.88: a 20%-busy H100 loses money
              even at the hyperscaler's on-demand price);
    u = 60%:  0.112912 + 2.490627 = 2.60;
    u = 100%: 0.112912 + 1.494376 = 1.61."""
    expected = {D("0.2"): D("7.58"), D("0.6"): D("2.60"), D(1): D("1.61")}
    for u, price in expected.items():
        got = h100.break_even_price(u)
        print(f"H100 break-even at {u:.0%}: {got:.4f} USD/GPU-h")
        assert cents(got) == price
    with pytest.raises(ValueError):
        h100.break_even_price(0)


def test_break_even_utilisation_inverts_break_even_price(h100: ProviderCosts):
    """At AWS's 6.88 the H100 breaks even when 1.494376 / (6.88 - 0.112912) = 22.08% of hours sell;
    below the marginal cost no utilisation suffices."""
    needed = h100.break_even_utilisation(D("6.88"))
    assert needed is not None and needed.quantize(D("0.0001")) == D("0.2208")
    assert h100.break_even_price(needed).quantize(D("0.0000001")) == D("6.88")
    assert h100.break_even_utilisation(D("0.10")) is None
    assert h100.break_even_utilisation(D("1.50")) is None  # would need more than every hour


def test_idle_provider_month_pnl_is_minus_ownership(h100: ProviderCosts):
    """8 idle H100s for a 730-hour month: 5,840 GPU-hours owned, none sold, nothing earned.
    P&L = -1.494376126 * 730 * 8 = -8,727.16 USD, to the cent; utilisation 0."""
    result = pnl(h100, gpus=8, hours=D(730), busy_gpu_hours=D(0))
    assert result.profit < 0
    assert cents(result.profit) == cents(-h100.ownership_per_hour() * 730 * 8) == D("-8727.16")
    assert result.marginal_cost == 0
    assert result.utilisation == 0
    assert result.rounded()["profit"] == D("-8727.16")


def test_ledger_counts_every_owned_hour_and_values_tokens(h100: ProviderCosts):
    """2 H100s for 10 hours, 5 GPU-hours sold for 20 USD plus 100 tokens at 0.05 USD:
    revenue 25.00; ownership 1.494376 * 20 = 29.89; marginal 0.112912 * 5 = 0.56;
    profit 25.00 - 29.89 - 0.56 = -5.45; utilisation 5 / 20 = 25%."""
    ledger = ProviderLedger(h100, gpus=2)
    for _ in range(10):
        ledger.advance(D(1), D("0.5"))
    ledger.earn(credits_usd=D(20), reward_tokens=D(100))
    result = ledger.pnl(token_price_usd=D("0.05"))
    assert result.owned_gpu_hours == 20 and result.busy_gpu_hours == 5
    assert result.utilisation == ledger.utilisation() == D("0.25")
    assert cents(result.revenue) == D("25.00")
    assert cents(result.ownership_cost) == D("29.89")
    assert cents(result.marginal_cost) == D("0.56")
    assert cents(result.profit) == D("-5.45")
    # the same tokens at a higher oracle price turn the loss into a profit
    assert ledger.pnl(token_price_usd=D("0.2")).profit > 0
    with pytest.raises(ValueError):
        ledger.advance(D(1), D(3))  # 3 busy GPU-hours from 2 GPUs in 1 hour


def test_ask_falls_with_trailing_utilisation_to_the_marginal_floor(h100: ProviderCosts):
    """With margin 15%, floor 5% and full-cost 60%:
    u <= 5%: ask = 1.15 * 0.112912 = 0.13 (the marginal floor);
    u = 30%: w = 0.25 / 0.55 = 0.4545, ask = 1.15 * (0.112912 + 0.4545 * 1.494376 / 0.6) = 1.43;
    u = 60%: ask = 1.15 * break_even(60%) = 1.15 * 2.603538 = 2.99;
    u = 100%: w = 1.7273, ask = 5.08 (scarcity premium)."""
    margin = D("0.15")
    levels = [D(x) for x in ("1", "0.8", "0.6", "0.45", "0.3", "0.15", "0.1", "0.05", "0.02", "0")]
    asks = [ask_price(h100, u, margin) for u in levels]
    assert all(a >= b for a, b in pairwise(asks))
    assert asks[0] > asks[2] > asks[4] > asks[6] > asks[7]  # strictly falling above the floor
    floor = h100.marginal_per_busy_hour() * (1 + margin)
    assert asks[7] == asks[8] == asks[9] == floor
    assert all(a >= h100.marginal_per_busy_hour() for a in asks)
    assert [cents(ask_price(h100, u, margin)) for u in ("0", "0.3", "0.6", "1")] == [
        D("0.13"),
        D("1.43"),
        D("2.99"),
        D("5.08"),
    ]
    assert ask_price(h100, "0.6", margin) == h100.break_even_price("0.6") * (1 + margin)


def test_ask_never_below_marginal_cost_even_without_margin(h100: ProviderCosts):
    """margin 0 and an idle provider: the ask is exactly the marginal cost, 0.112912."""
    assert ask_price(h100, 0, 0) == h100.marginal_per_busy_hour()
    with pytest.raises(ValueError):
        ask_price(h100, "0.5", "-0.1")


@pytest.mark.parametrize(
    ("field", "higher"),
    [
        ("electricity_usd_per_kwh", D("0.15")),
        ("pue", D("2.0")),
        ("gpu_price_usd", D(35000)),
        ("cost_of_capital", D("0.15")),
    ],
)
@pytest.mark.parametrize("utilisation", [D("0.1"), D("0.3"), D("0.6"), D(1)])
def test_ask_rises_with_each_cost(h100: ProviderCosts, field: str, higher: Decimal, utilisation: Decimal):
    """Raising electricity (0.083 -> 0.15), PUE (1.58 -> 2.0), the GPU price (27,500 -> 35,000) or
    the cost of capital (10% -> 15%) raises the ask at every utilisation above the floor."""
    dearer = replace(h100, **{field: higher})
    assert ask_price(dearer, utilisation, "0.15") > ask_price(h100, utilisation, "0.15")
    assert dearer.break_even_price(utilisation) > h100.break_even_price(utilisation)


@pytest.mark.parametrize("field", ["electricity_usd_per_kwh", "pue"])
def test_ask_floor_rises_with_energy_costs_only(h100: ProviderCosts, field: str):
    """At or below the floor utilisation only the marginal cost counts: sunk ownership does not
    move the floor, energy does."""
    assert ask_price(replace(h100, **{field: D(3)}), 0, "0.1") > ask_price(h100, 0, "0.1")
    assert ask_price(replace(h100, gpu_price_usd=D(60000)), 0, "0.1") == ask_price(h100, 0, "0.1")


def test_from_catalog_overrides(catalog: Catalog):
    """Overrides replace a field (pue) or a derivation input (idle_fraction 0.2 -> idle 140 W);
    an unknown name is refused."""
    gpu = catalog.models["H100-80GB"]
    costs = ProviderCosts.from_catalog(gpu, D("0.083"), pue="1.2", idle_fraction="0.2")
    assert costs.pue == D("1.2") and costs.idle_watts == D(140)
    with pytest.raises(TypeError):
        ProviderCosts.from_catalog(gpu, D("0.083"), pue_typo=D(1))
    with pytest.raises(ValueError):
        ProviderCosts.from_catalog(gpu, D("0.083"), pue=D("0.9"))


def test_trailing_utilisation_window():
    """Window of 2 steps of 8 owned GPU-hours: busy 8, 4, 0 -> after 3 steps (4 + 0) / 16 = 25%."""
    tracker = TrailingUtilisation(window=2, initial=D("0.5"))
    assert tracker.value() == D("0.5")
    for busy in (8, 4, 0):
        tracker.record(D(8), D(busy))
    assert tracker.value() == D("0.25")


def test_discount_vs_cloud():
    """1 - 1.238 / 6.88 = 0.82 (82% below); at the cloud price 0; dearer than the cloud, negative."""
    assert discount_vs_cloud(D("1.238"), D("6.88")).quantize(D("0.0001")) == D("0.8201")
    assert discount_vs_cloud(D("6.88"), D("6.88")) == 0
    assert discount_vs_cloud(D("8.6"), D("6.88")) == D("-0.25")
    with pytest.raises(ValueError):
        discount_vs_cloud(D(1), D(0))


def test_percentile_linear_interpolation():
    """Values 1..21 (n = 21): P5 at h = 20 * 0.05 = 1 -> 2; P95 at h = 19 -> 20; median 11.
    Values 1, 2, 3, 4: median at h = 1.5 -> 2.5; P5 at h = 0.15 -> 1.15 (numpy's 'linear')."""
    values = [D(v) for v in range(21, 0, -1)]  # order does not matter
    assert (percentile(values, "0.05"), percentile(values, "0.5"), percentile(values, "0.95")) == (2, 11, 20)
    four = [D(1), D(2), D(3), D(4)]
    assert percentile(four, "0.5") == D("2.5")
    assert percentile(four, "0.05") == D("1.15")
    assert percentile(four, 1) == 4 and percentile([D(7)], "0.3") == 7
    with pytest.raises(ValueError):
        percentile([], "0.5")


def test_headline_interval_over_seeds():
    """Clearing prices 1.0, 1.1, ..., 3.0 (21 seeds) vs a cloud price of 5: median 2.0 -> 60% below;
    P5 1.1 and P95 2.9 -> discounts 42% (at the dear end) to 78% (at the cheap end)."""
    prices = [D("1.0") + D("0.1") * i for i in range(21)]
    result = headline(prices, D(5))
    assert result.n == 21 and result.level == D("0.90")
    assert (result.price_low, result.price_median, result.price_high) == (D("1.1"), D("2.0"), D("2.9"))
    assert (result.discount_low, result.discount_median, result.discount_high) == (D("0.42"), D("0.6"), D("0.78"))


def test_break_even_table_covers_the_catalog(catalog: Catalog):
    """One row per catalog model; break-even falls as utilisation rises; the table prints."""
    rows = break_even_table(catalog)
    assert [row.model for row in rows] == list(catalog.models)
    for row in rows:
        assert row.break_even[0] > row.break_even[1] > row.break_even[2] > row.marginal_per_busy_hour
    text = format_table(rows)
    assert "H100-80GB" in text and "| 10.08 | 2.60 | 1.61 |" in text


@pytest.mark.parametrize(
    ("change", "direction"),
    [
        ({"electricity_usd_per_kwh": D("0.20")}, -1),  # dearer energy: a smaller discount
        ({"cost_of_capital": D("0.03")}, 1),  # cheaper capital: a larger discount
    ],
)
def test_discount_of_the_ask_moves_with_costs_and_utilisation(h100: ProviderCosts, change: dict, direction: int):
    """The discount a provider's ask implies against AWS's 6.88 is computed, not restated: at 30%
    utilisation and 15% margin the H100 asks 1.43, 79.2% below; changing a cost input or the
    realised utilisation (30% -> 60%: ask 2.99, 56.5% below) moves it."""
    cloud = D("6.88")
    base = discount_vs_cloud(ask_price(h100, "0.3", "0.15"), cloud)
    assert base.quantize(D("0.001")) == D("0.792")
    moved = discount_vs_cloud(ask_price(replace(h100, **change), "0.3", "0.15"), cloud)
    assert (moved - base) * direction > 0
    busier = discount_vs_cloud(ask_price(h100, "0.6", "0.15"), cloud)
    assert busier.quantize(D("0.001")) == D("0.565")


@given(
    price=st.decimals(min_value=100, max_value=100_000, places=0),
    watts=st.decimals(min_value=50, max_value=1_500, places=0),
    electricity=st.decimals(min_value="0.01", max_value="0.5", places=3),
    rate=st.decimals(min_value=0, max_value="0.3", places=3),
    u1=st.decimals(min_value=0, max_value=1, places=3),
    u2=st.decimals(min_value=0, max_value=1, places=3),
    margin=st.decimals(min_value=0, max_value=1, places=2),
)
def test_ask_is_monotone_in_utilisation_and_above_marginal(price, watts, electricity, rate, u1, u2, margin):
    """For any costs, a busier provider never asks less, and no ask is below the marginal cost."""
    costs = ProviderCosts(
        model="X",
        gpu_price_usd=price,
        electricity_usd_per_kwh=electricity,
        busy_watts=watts,
        idle_watts=watts * D("0.15"),
        hosting_usd_per_gpu_hour=D("0.1"),
        cost_of_capital=rate,
    )
    low, high = sorted((u1, u2))
    assert ask_price(costs, low, margin) <= ask_price(costs, high, margin)
    assert ask_price(costs, low, margin) >= costs.marginal_per_busy_hour()


def test_the_headline_table_reads_a_sweeps_medians_and_intervals():
    """A sweep's aggregate (as `ape run fastsim --seeds N` writes it) becomes one README row per
    GPU model that traded: H100 cleared at a median 2.50 USD (1.53 to 5.46 over 18 of 20 seeds),
    64% (21% to 78%) below the lowest hyperscaler quote; a model with no clearing price is left out."""
    from compute_market.fastsim.headline import markdown, rows
    from compute_market.simulation.config import Catalog

    def fig(median: float, p05: float, p95: float, runs: int = 18) -> dict[str, float]:
        return {"median": median, "p05": p05, "p95": p95, "runs": runs}

    aggregate = {
        "runs": 20,
        "figures": {
            "econ.H100-80GB.median_clearing": fig(2.5, 1.53, 5.46),
            "econ.H100-80GB.discount_vs_hyperscaler": fig(0.64, 0.21, 0.78),
            "econ.H100-80GB.discount_vs_marketplace_low": fig(-0.35, -1.95, 0.17),
            "econ.H100-80GB.utilisation": fig(0.11, 0.07, 0.2),
            "econ.H100-80GB.profit_before_rewards_usd": fig(-1181, -2190, -347),
            "econ.L4-24GB.utilisation": fig(0.0, 0.0, 0.0),
        },
    }
    table = rows("baseline", aggregate, Catalog.load())
    assert len(table) == 1
    row = table[0]
    assert row[:4] == ["baseline", "H100-80GB", "18 of 20", "2.50 (1.53 to 5.46)"]
    assert row[5:] == ["64% (21% to 78%)", "-35% (-195% to 17%)", "11% (7% to 20%)", "-1,181 (-2,190 to -347)"]
    assert markdown(table).splitlines()[2].startswith("| baseline | H100-80GB | 18 of 20 |")


def test_the_headline_command_takes_a_sweep_folder_and_names_a_bad_path(tmp_path, capsys):
    """`python -m compute_market.fastsim.headline baseline=DIR` reads DIR/aggregate.json (before, a
    folder raised IsADirectoryError); a path with no aggregate exits 2 with one line naming it."""
    import json

    from compute_market.fastsim.headline import main

    (tmp_path / "aggregate.json").write_text(json.dumps({"runs": 0, "figures": {}}))
    assert main([f"baseline={tmp_path}"]) == 0
    assert capsys.readouterr().out.startswith("| scenario |")
    missing = tmp_path / "nowhere"
    assert main([f"glut={missing}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"glut: cannot read a sweep's aggregate.json at {missing}")


def test_a_fully_busy_third_of_an_hour_books_as_owned(h100):
    """The engine's provider books a record of integer seconds: 8 GPUs busy for all of 1,200 s
    owns 8 * 1/3 = 2.666...6 GPU-hours (1/3 rounded first) and sold 9,600 / 3,600 = 2.666...7: the
    busy hours are capped at the owned ones (before, the ledger refused the record and a run
    ending on such a record failed), while more busy than owned GPU-seconds is still an error."""
    from compute_market.fastsim.actors import Provider

    provider = Provider("0x" + "11" * 20, "honest", "H100-80GB", 8, 80, "", h100, D("0.2"), TrailingUtilisation(24))
    provider.record_step(1_200, 8 * 1_200)
    provider.close_record()
    assert provider.ledger.busy_gpu_hours == provider.ledger.owned_gpu_hours == 8 * (D(1_200) / 3_600)
    provider.record_step(1_200, 8 * 1_200 + 1)
    with pytest.raises(ValueError, match="busy GPU-s"):
        provider.close_record()
