"""ProviderRegistry: slashing (of the provision only) and reputation."""

from __future__ import annotations

import ape

from compute_market.units import to_wei


def test_a_slash_takes_the_provision_and_never_unbonding_stake(registry, provider, operator):
    """1,000 staked: 400 provisioned, 600 unbonding. A slash of 300 takes it from the provision
    (stake 700, provision 100, unbonding untouched); one of 101 more than the provision reverts
    (the market never slashes beyond what a job locked of it)."""
    registry.stake(to_wei(1_000), sender=provider)
    registry.provision(provider, to_wei(400), sender=operator)
    registry.requestUnstake(to_wei(600), sender=provider)
    tx = registry.slash(provider, to_wei(300), [], [], sender=operator)
    event = tx.events.filter(registry.Slashed)[0]
    assert (event.amount, event.burned) == (to_wei(300), to_wei(300))
    record = registry.providerOf(provider)
    assert (record.staked, record.provisioned, record.unbonding) == (to_wei(700), to_wei(100), to_wei(600))
    with ape.reverts(registry.ProvisionExceeded, provisioned=to_wei(100), requested=to_wei(101)):
        registry.slash(provider, to_wei(101), [], [], sender=operator)


def test_slash_pays_harmed_party_then_challenger_then_burns(registry, token, provider, operator, bob, carol):
    registry.stake(to_wei(1_000), sender=provider)
    registry.provision(provider, to_wei(1_000), sender=operator)
    supply = token.totalSupply()
    registry.slash(provider, to_wei(500), [bob, carol], [to_wei(300), to_wei(300)], sender=operator)
    assert token.balanceOf(bob) == to_wei(300)  # harmed party paid in full first
    assert token.balanceOf(carol) == to_wei(200)  # challenger gets what is left
    assert token.totalSupply() == supply  # nothing left to burn
    registry.slash(provider, to_wei(100), [bob], [to_wei(40)], sender=operator)
    assert token.totalSupply() == supply - to_wei(60)  # the rest burned


def test_one_call_records_the_outcome_and_slashes(registry, token, provider, operator, bob, carol):
    """`recordOutcome` is the market's one call per job outcome: a failure with 300 CMP of
    collateral slashes it from the provision to the harmed party (250) then the keeper (50),
    credited in the ledger for each to claim, and counts one failure; a completion slashes
    nothing; a lost dispute's slash of 100 CMP is paid at once (60 to the harmed party, the 40
    left burned)."""
    registry.stake(to_wei(1_000), sender=provider)
    registry.provision(provider, to_wei(500), sender=operator)
    tx = registry.recordOutcome(provider, 1, to_wei(300), [bob, carol], [to_wei(250), to_wei(50)], sender=operator)
    assert tx.events.filter(registry.Slashed)[0].amount == to_wei(300)
    assert tx.events.filter(registry.ReputationUpdated)[0].failed == 1
    assert (token.balanceOf(bob), token.balanceOf(carol)) == (0, 0)
    assert (registry.payoutOf(bob), registry.payoutOf(carol)) == (to_wei(250), to_wei(50))
    assert token.balanceOf(registry) == to_wei(1_000)  # 700 staked + 300 credited
    record = registry.providerOf(provider)
    assert (record.staked, record.provisioned, record.failed) == (to_wei(700), to_wei(200), 1)
    tx = registry.recordOutcome(provider, 0, 0, [], [], sender=operator)
    assert not tx.events.filter(registry.Slashed)
    assert registry.providerOf(provider).completed == 1
    supply = token.totalSupply()
    tx = registry.recordOutcome(provider, 2, to_wei(100), [bob], [to_wei(60)], sender=operator)
    assert tx.events.filter(registry.Slashed)[0].burned == to_wei(40)
    assert [(e.recipient, e.amount) for e in tx.events.filter(registry.SlashPaid)] == [(bob, to_wei(60))]
    assert (token.balanceOf(bob), registry.payoutOf(bob)) == (to_wei(60), to_wei(250))
    assert token.totalSupply() == supply - to_wei(40)
    assert registry.providerOf(provider).disputesLost == 1


def test_slash_checks_its_recipient_lists(registry, provider, operator, bob):
    with ape.reverts(registry.LengthMismatch):
        registry.slash(provider, 1, [bob], [], sender=operator)
    with ape.reverts(registry.TooManySlashRecipients, count=5):
        registry.slash(provider, 1, [bob] * 5, [1] * 5, sender=operator)


def test_reputation_is_the_bayesian_estimate(registry, provider, operator):
    """Outcomes are recorded once per lease (`recordOutcome`): 0 completed, 1 failed, 2 dispute lost."""

    def close(outcome: int):
        return registry.recordOutcome(provider, outcome, 0, [], [], sender=operator)

    assert registry.reputationOf(provider) == 5_000  # (0+1)*10000/(0+2)
    event = close(0).events.filter(registry.ReputationUpdated)[0]
    assert (event.completed, event.score) == (1, 6_666)  # 2*10000/3
    for _ in range(3):
        close(0)
    assert registry.reputationOf(provider) == 8_333  # 5*10000/6
    close(1)  # failed: weighs three completions
    assert registry.reputationOf(provider) == 5_555  # 5*10000/9
    close(2)  # dispute lost
    assert registry.reputationOf(provider) == 4_166  # 5*10000/12
