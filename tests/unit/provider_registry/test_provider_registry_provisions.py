"""ProviderRegistry: provisions (the stake a provider sets aside for the market's jobs; the market
keeps it per GPU model in its offers, with the locks, and moves it with `provision`)."""

from __future__ import annotations

import ape

from compute_market.units import to_wei


def test_provisioned_stake_cannot_be_unstaked(registry, provider, operator):
    """1,000 staked, 500 provisioned: 500 free; an unstake of 501 is refused, of 500 accepted,
    and then nothing more can be provisioned."""
    registry.stake(to_wei(1_000), sender=provider)
    tx = registry.provision(provider, to_wei(500), sender=operator)
    event = tx.events.filter(registry.Provisioned)[0]
    assert (event["provider"], event.delta, event.provisioned) == (provider.address, to_wei(500), to_wei(500))
    assert registry.freeStakeOf(provider) == to_wei(500)
    with ape.reverts(registry.NotEnoughFreeStake, have=to_wei(500), need=to_wei(501)):
        registry.requestUnstake(to_wei(501), sender=provider)
    registry.requestUnstake(to_wei(500), sender=provider)
    with ape.reverts(registry.NotEnoughFreeStake, have=0, need=1):
        registry.provision(provider, 1, sender=operator)


def test_a_provision_needs_registration_and_free_stake(registry, provider, operator, stranger):
    """Unbonding stake is not free: 1,000 staked with 600 unbonding leaves 400 to provision."""
    with ape.reverts(registry.NotRegistered, provider=stranger.address):
        registry.provision(stranger, 1, sender=operator)
    registry.stake(to_wei(1_000), sender=provider)
    registry.requestUnstake(to_wei(600), sender=provider)
    with ape.reverts(registry.NotEnoughFreeStake, have=to_wei(400), need=to_wei(400) + 1):
        registry.provision(provider, to_wei(400) + 1, sender=operator)
    registry.provision(provider, to_wei(400), sender=operator)
    assert registry.freeStakeOf(provider) == 0


def test_a_provision_comes_back_whole_and_never_more(registry, provider, operator):
    """500 provisioned: 501 back is refused; 200 and then 300 come back and free all 1,000."""
    registry.stake(to_wei(1_000), sender=provider)
    registry.provision(provider, to_wei(500), sender=operator)
    with ape.reverts(registry.ProvisionExceeded, provisioned=to_wei(500), requested=to_wei(501)):
        registry.provision(provider, -to_wei(501), sender=operator)
    tx = registry.provision(provider, -to_wei(200), sender=operator)
    assert tx.events.filter(registry.Provisioned)[0].provisioned == to_wei(300)
    registry.provision(provider, -to_wei(300), sender=operator)
    assert (registry.providerOf(provider).provisioned, registry.freeStakeOf(provider)) == (0, to_wei(1_000))


def test_only_the_market_moves_slashes_or_records(registry, provider, operator, stranger):
    registry.stake(to_wei(1_000), sender=provider)
    registry.provision(provider, to_wei(1_000), sender=operator)
    for call in (
        lambda: registry.provision(provider, -1, sender=stranger),
        lambda: registry.slash(provider, 1, [], [], sender=stranger),
        lambda: registry.recordOutcome(provider, 0, 0, [], [], sender=stranger),
    ):
        with ape.reverts(registry.AccessControlUnauthorizedAccount):
            call()
    assert registry.providerOf(provider).provisioned == to_wei(1_000)
