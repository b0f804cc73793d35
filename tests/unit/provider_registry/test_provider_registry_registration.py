"""ProviderRegistry: registration and deregistration."""

from __future__ import annotations

import ape
from utils.provider_registry import EU

from compute_market.units import DAY, to_wei


def test_register_records_profile_and_emits(registry, bob):
    tx = registry.register("https://bob.example", EU, sender=bob)
    event = tx.events.filter(registry.ProviderRegistered)[0]
    assert (event["provider"], event.metadataURI, event.region) == (bob.address, "https://bob.example", EU)
    assert registry.metadataURIOf(bob) == "https://bob.example"
    assert registry.providerOf(bob).registered
    with ape.reverts(registry.AlreadyRegistered, provider=bob.address):
        registry.register("again", EU, sender=bob)


def test_deregistration_waits_for_the_provision_and_leaves_nothing_stuck(registry, token, provider, operator, chain):
    """1,000 staked, 1 CMP provisioned: leaving is refused until the market gives the provision
    back; then all 1,000 unbond, no provision can be taken, and the withdrawal empties the ledger."""
    registry.stake(to_wei(1_000), sender=provider)
    registry.provision(provider, 1, sender=operator)
    with ape.reverts(registry.StillProvisioned, provisioned=1):
        registry.deregister(sender=provider)
    registry.provision(provider, -1, sender=operator)
    tx = registry.deregister(sender=provider)
    assert tx.events.filter(registry.ProviderDeregistered)
    assert tx.events.filter(registry.UnstakeRequested)[0].amount == to_wei(1_000)
    assert not registry.providerOf(provider).registered
    with ape.reverts(registry.NotRegistered, provider=provider.address):
        registry.provision(provider, 1, sender=operator)
    chain.pending_timestamp += 7 * DAY
    before = token.balanceOf(provider)
    registry.withdrawUnstaked(sender=provider)
    assert token.balanceOf(provider) == before + to_wei(1_000)
    assert token.balanceOf(registry) == 0
    registry.register("ipfs://alice-again", EU, sender=provider)  # may come back, reputation kept
