"""ProviderRegistry: registration, capacity and deregistration."""

from __future__ import annotations

import ape
import pytest
from utils.provider_registry import A100, EU, H100, lock

from compute_market.units import DAY, bytes32, to_wei


@pytest.fixture
def provider(alice, registry, token, fund):
    fund(alice, to_wei(10_000))
    token.approve(registry, 2**256 - 1, sender=alice)
    registry.register("ipfs://alice", EU, sender=alice)
    registry.setCapacity(H100, 8, 80, sender=alice)
    return alice


def test_register_records_profile_and_emits(registry, bob):
    tx = registry.register("https://bob.example", EU, sender=bob)
    event = tx.events.filter(registry.ProviderRegistered)[0]
    assert (event["provider"], event.metadataURI, event.region) == (bob.address, "https://bob.example", EU)
    assert registry.metadataURIOf(bob) == "https://bob.example"
    assert registry.profileOf(bob, H100).registered
    with ape.reverts(registry.AlreadyRegistered, provider=bob.address):
        registry.register("again", EU, sender=bob)


def test_several_gpu_models_per_provider(registry, provider):
    tx = registry.setCapacity(A100, 4, 40, sender=provider)
    assert tx.events.filter(registry.CapacitySet)[0].gpuCount == 4
    assert registry.capacityOf(provider, H100).gpuCount == 8
    assert registry.capacityOf(provider, A100).vramGb == 40
    profile = registry.profileOf(provider, A100)
    assert (profile.gpuCount, profile.vramGb, registry.regionOf(provider)) == (4, 40, EU)


def test_capacity_needs_registration_and_a_model(registry, stranger, provider):
    with ape.reverts(registry.NotRegistered, provider=stranger.address):
        registry.setCapacity(H100, 1, 80, sender=stranger)
    with ape.reverts(registry.InvalidGpuModel):
        registry.setCapacity(bytes32(""), 1, 80, sender=provider)


def test_deregistration_waits_for_locks_and_leaves_nothing_stuck(registry, token, provider, operator, chain):
    registry.stake(to_wei(1_000), sender=provider)
    registry.lockCollateral(provider, lock(1, 1, 0), sender=operator)
    with ape.reverts(registry.CollateralStillLocked):
        registry.deregister(sender=provider)
    registry.releaseCollateral(provider, lock(1, 1, 0), sender=operator)
    tx = registry.deregister(sender=provider)
    assert tx.events.filter(registry.ProviderDeregistered)
    assert tx.events.filter(registry.UnstakeRequested)[0].amount == to_wei(1_000)
    assert not registry.profileOf(provider, H100).registered
    with ape.reverts(registry.NotRegistered):
        registry.lockCollateral(provider, lock(2, 1, 0), sender=operator)
    chain.pending_timestamp += 7 * DAY
    before = token.balanceOf(provider)
    registry.withdrawUnstaked(sender=provider)
    assert token.balanceOf(provider) == before + to_wei(1_000)
    assert token.balanceOf(registry) == 0
    registry.register("ipfs://alice-again", EU, sender=provider)  # may come back, reputation kept
