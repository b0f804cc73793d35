"""data/gpu_catalog.json: every model has what the simulation reads, every price has a source and a date,
marketplaces undercut the hyperscaler (or the exception is listed here with its reason)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from compute_market.simulation.config import CATALOG_PATH, Catalog, SimConfig

RAW = json.loads(CATALOG_PATH.read_text())
CATALOG = Catalog.load()

# The fields Catalog.load() and the engines read (compute_market/simulation/config.py), with their sources.
SIMULATION_FIELDS = ("model", "vram_gb", "power_watts", "purchase_usd", "cloud_usd_per_gpu_hour")
SOURCE_FIELDS = ("power_source", "purchase_source", "cloud_source", "cloud_as_of")

# Issue 18, "Catalog refresh": at least these models.
ISSUE_18_MODELS = {
    "H200-141GB",
    "H100-80GB",
    "A100-80GB",
    "A100-40GB",
    "L40S-48GB",
    "L4-24GB",
    "A10G-24GB",
    "RTX4090-24GB",
}

# (model, marketplace provider, offering) whose price is not below the hyperscaler's, and why.
ABOVE_HYPERSCALER = {
    ("A10G-24GB", "Lambda", "on-demand gpu_1x_a10"): (
        "Lambda rents the A10, not AWS's A10G, and its 1x instance carries 30 vCPU and 200 GiB "
        "against g5.xlarge's 4 vCPU and 16 GiB"
    ),
}

# Models no hyperscaler rents: their simulation cloud price is a marketplace price.
NO_HYPERSCALER = {"RTX4090-24GB": "a consumer card; AWS, Google Cloud and Azure do not offer it"}


def quotes(model: dict) -> list[dict]:
    return [*model["hyperscaler"], *model["marketplace"]]


def test_the_models_of_issue_18_are_present():
    assert {m["model"] for m in RAW["models"]} >= ISSUE_18_MODELS
    assert set(CATALOG.models) >= ISSUE_18_MODELS


def test_the_default_gpu_mix_is_in_the_catalog():
    assert set(SimConfig().gpu_mix) <= set(CATALOG.models)


@pytest.mark.parametrize("model", RAW["models"], ids=lambda m: m["model"])
def test_every_model_has_what_the_simulation_reads(model):
    for key in (*SIMULATION_FIELDS, *SOURCE_FIELDS, "hyperscaler", "marketplace", "notes"):
        assert key in model, f"{model['model']} lacks {key}"
    for key in SOURCE_FIELDS:
        assert isinstance(model[key], str) and model[key].strip(), f"{model['model']}: empty {key}"
    gpu = CATALOG.models[model["model"]]
    assert gpu.vram_gb > 0
    assert gpu.power_watts > 0
    assert gpu.purchase_usd > 0
    assert gpu.cloud_usd_per_gpu_hour > 0
    assert Decimal(str(model["cloud_usd_per_gpu_hour"])) == gpu.cloud_usd_per_gpu_hour


@pytest.mark.parametrize("model", RAW["models"], ids=lambda m: m["model"])
def test_every_price_has_a_source_a_date_and_a_positive_per_gpu_figure(model):
    assert quotes(model), f"{model['model']} has no price at all"
    for q in quotes(model):
        what = f"{model['model']} {q['provider']}"
        assert q["source"].startswith("http"), what
        assert isinstance(q["date"], str) and q["date"].strip(), what
        assert isinstance(q["checked"], bool), what
        assert Decimal(str(q["usd_per_gpu_hour"])) > 0, what
        if "usd_per_gpu_hour_high" in q:
            assert Decimal(str(q["usd_per_gpu_hour_high"])) >= Decimal(str(q["usd_per_gpu_hour"])), what
        if "instance_usd_per_hour" in q:  # an instance price divided by its GPUs, to the 4th decimal
            per_gpu = Decimal(str(q["instance_usd_per_hour"])) / q["gpus_per_instance"]
            assert abs(per_gpu - Decimal(str(q["usd_per_gpu_hour"]))) < Decimal("0.0001"), what
    loaded = CATALOG.models[model["model"]]
    assert len(loaded.hyperscaler) == len(model["hyperscaler"])
    assert len(loaded.marketplace) == len(model["marketplace"])
    assert all(q.source and q.date for q in (*loaded.hyperscaler, *loaded.marketplace))


@pytest.mark.parametrize("model", RAW["models"], ids=lambda m: m["model"])
def test_the_simulation_cloud_price_is_a_listed_price(model):
    gpu = CATALOG.models[model["model"]]
    if model["model"] in NO_HYPERSCALER:
        assert not gpu.hyperscaler
        assert gpu.cloud_usd_per_gpu_hour in {q.usd_per_gpu_hour for q in gpu.marketplace if q.checked}
    else:
        assert gpu.hyperscaler, f"{model['model']} has no hyperscaler price"
        assert gpu.cloud_usd_per_gpu_hour == gpu.hyperscaler[0].usd_per_gpu_hour


@pytest.mark.parametrize("model", RAW["models"], ids=lambda m: m["model"])
def test_marketplaces_are_below_the_hyperscaler(model):
    gpu = CATALOG.models[model["model"]]
    if not gpu.hyperscaler:
        assert model["model"] in NO_HYPERSCALER
        return
    hyperscaler = min(q.usd_per_gpu_hour for q in gpu.hyperscaler)
    above = {
        (gpu.model, q.provider, q.offering)
        for q in gpu.marketplace
        if max(q.usd_per_gpu_hour, q.usd_per_gpu_hour_high or q.usd_per_gpu_hour) >= hyperscaler
    }
    expected = {key for key in ABOVE_HYPERSCALER if key[0] == gpu.model}
    assert above == expected


def test_the_old_pre_cut_aws_prices_are_gone():
    # Issue 18: 12.29 (H100) and 5.12 (A100 80GB) predate AWS's June 2025 cut.
    assert CATALOG.models["H100-80GB"].cloud_usd_per_gpu_hour == Decimal("6.88")
    assert CATALOG.models["A100-80GB"].cloud_usd_per_gpu_hour == Decimal("3.4309")
    assert "12.29" in CATALOG.models["H100-80GB"].notes
    assert "5.12" in CATALOG.models["A100-80GB"].notes


def test_the_catalog_says_when_and_from_where():
    assert RAW["retrieved"] == "2026-11-26"
    assert RAW["sources"] and all(s["url"].startswith("http") and s["date"] for s in RAW["sources"])
    assert RAW["unverified"], "what could not be checked must be listed"
    cited = {q["source"] for m in RAW["models"] for q in quotes(m)}
    assert cited <= {s["url"] for s in RAW["sources"]}
