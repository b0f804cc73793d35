"""The staking ledger (`ProviderRegistry` on `StakingLedger`): one contract holds every CMP staked
by providers and verifiers, under one unbonding rule and one slash payout; the resolver holds no
stake and reaches it only through `requestDraw`, `completeDraw` and `slashVerifier`."""

from __future__ import annotations

import ape

from compute_market.units import DAY, HOUR, to_wei

ZERO = "0x0000000000000000000000000000000000000000"
VERIFIER_DRAW = 3


def test_the_ledger_holds_every_stake_of_providers_and_verifiers_to_the_wei(
    registry, resolver, token, accounts, make_provider, make_verifier
):
    """A provider with 10,000 CMP, a verifier with 1,000 and an account that is both (2,000 as a
    provider, 1,500 as a verifier): the ledger holds 14,500 CMP, the resolver nothing."""
    before = token.balanceOf(registry)
    make_provider(accounts[20], stake=to_wei(10_000))
    make_verifier(accounts[21], stake=to_wei(1_000))
    both = make_provider(accounts[22], stake=to_wei(2_000))
    make_verifier(both, stake=to_wei(1_500))
    assert token.balanceOf(registry) - before == to_wei(14_500)
    assert token.balanceOf(resolver) == 0
    assert (registry.stakeOf(both), registry.verifierOf(both).staked) == (to_wei(2_000), to_wei(1_500))
    assert registry.activeStakeOf(both) == to_wei(1_500)  # only verifier stake is drawn


def test_one_unbonding_rule_for_providers_and_verifiers(
    registry, resolver, token, chain, accounts, admin, make_provider, make_verifier
):
    """`unbondingPeriod` (6 days here) governs both: each request ends 6 days after it, an early
    withdrawal fails with the same error for both, both withdraw at the end; there is no second
    period to set. (The verifier holds 1,400 CMP, so the 1,000 left active meets the minimum.)"""
    registry.setUnbondingPeriod(6 * DAY, sender=admin)
    provider = make_provider(accounts[23], stake=to_wei(1_000), provision=0)
    verifier = make_verifier(accounts[24], stake=to_wei(1_400))
    p_tx = registry.requestUnstake(to_wei(400), sender=provider)
    v_tx = registry.requestVerifierUnstake(to_wei(400), sender=verifier)
    p_end = p_tx.events.filter(registry.UnstakeRequested)[0].unbondingEnd
    v_end = v_tx.events.filter(registry.VerifierUnstakeRequested)[0].unbondingEnd
    assert (p_end, v_end) == (p_tx.timestamp + 6 * DAY, v_tx.timestamp + 6 * DAY)
    with ape.reverts(registry.UnbondingNotOver, unbondingEnd=p_end):
        registry.withdrawUnstaked(sender=provider)
    with ape.reverts(registry.UnbondingNotOver, unbondingEnd=v_end):
        registry.withdrawVerifierStake(sender=verifier)
    chain.pending_timestamp = max(p_end, v_end)
    before = token.balanceOf(registry)
    registry.withdrawUnstaked(sender=provider)
    registry.withdrawVerifierStake(sender=verifier)
    assert before - token.balanceOf(registry) == to_wei(800)
    for contract in (registry, resolver):
        names = {abi.name for abi in contract.contract_type.abi if abi.type == "function"}
        assert not names & {"verifierUnbondingPeriod", "setVerifierUnbondingPeriod"}


def test_only_the_resolver_draws_and_slashes_verifiers_and_only_the_ledger_completes_draws(
    registry, resolver, stranger, accounts, make_verifier
):
    verifier = make_verifier(accounts[25])
    with ape.reverts(registry.NotResolver, caller=stranger.address):
        registry.requestDraw(VERIFIER_DRAW, 1, sender=stranger)
    with ape.reverts(registry.NotResolver, caller=stranger.address):
        registry.slashVerifier(verifier, 10_000, stranger, sender=stranger)
    with ape.reverts(resolver.NotLedger, caller=stranger.address):
        resolver.completeDraw(VERIFIER_DRAW, 1, 123, sender=stranger)
    assert registry.verifierOf(verifier).staked == to_wei(1_000)


def test_the_resolver_changes_only_while_no_draw_is_queued(registry, resolver, admin, stranger):
    with ape.reverts(registry.ZeroAddress):
        registry.setResolver(ZERO, sender=admin)
    with ape.reverts(registry.AccessControlUnauthorizedAccount):
        registry.setResolver(stranger, sender=stranger)
    registry.setResolver(admin, sender=admin)  # an account standing in for a resolver
    tx = registry.requestDraw(VERIFIER_DRAW, 7, sender=admin)
    assert tx.events.filter(registry.DrawRequested)[0].jobId == 7
    with ape.reverts(registry.DrawsPending, queued=1):  # the queued draw is the old resolver's
        registry.setResolver(resolver, sender=admin)


def test_a_verifier_slash_is_paid_by_the_ledgers_one_payout(registry, admin, token, accounts, make_verifier):
    """`slashVerifier` takes the amount asked (all of the stake at most) and pays it as a provider
    slash is paid (`SlashPaid`); a payee of zero burns it. 1,000 CMP staked: 100 to the harmed
    party, then 2,000 asked of the 900 left: 900 burned, nothing left."""
    verifier = make_verifier(accounts[26], stake=to_wei(1_000))
    registry.setResolver(admin, sender=admin)
    harmed = accounts[27]
    before, supply = token.balanceOf(harmed), token.totalSupply()
    tx = registry.slashVerifier(verifier, to_wei(100), harmed, sender=admin)
    paid = tx.events.filter(registry.SlashPaid)[0]
    assert (paid.account, paid.recipient, paid.amount) == (verifier.address, harmed.address, to_wei(100))
    assert token.balanceOf(harmed) - before == to_wei(100)
    assert registry.verifierOf(verifier).staked == to_wei(900)
    tx = registry.slashVerifier(verifier, to_wei(2_000), ZERO, sender=admin)  # more than it has: all of it
    assert tx.events.filter(registry.VerifierSlashed)[0].amount == to_wei(900)
    assert supply - token.totalSupply() == to_wei(900)
    assert registry.verifierOf(verifier).staked == 0
    assert registry.activeStakeOf(verifier) == 0


def test_no_drawn_verifier_can_withdraw_before_the_verdict_that_may_slash_it(registry, resolver, market, admin):
    """v1 let governance set the dispute's periods past the verifiers' unbonding period (and the
    unbonding period below them), so a juror drawn with stake it had just asked out could
    withdraw before the verdict that penalizes it. The slash delay (challenge window 1 d + commit
    1 d + reveal 1 d + appeal 2 d = 5 days) must stay below the 7-day `unbondingPeriod`: every
    setter of either side refuses what would close the gap, naming its bounds."""
    assert resolver.slashDelay() == 5 * DAY
    with ape.reverts(registry.ParameterOutOfBounds, value=5 * DAY, min=5 * DAY + 1, max=60 * DAY):
        registry.setUnbondingPeriod(5 * DAY, sender=admin)
    with ape.reverts(resolver.ParameterOutOfBounds, value=4 * DAY, min=HOUR, max=4 * DAY - 1):
        resolver.setAppealWindow(4 * DAY, sender=admin)
    with ape.reverts(resolver.ParameterOutOfBounds, value=3 * DAY, min=HOUR, max=3 * DAY - 1):
        resolver.setVoteCommitPeriod(3 * DAY, sender=admin)
    with ape.reverts(resolver.ParameterOutOfBounds, value=3 * DAY, min=HOUR, max=3 * DAY - 1):
        resolver.setVoteRevealPeriod(3 * DAY, sender=admin)
    with ape.reverts(market.ParameterOutOfBounds, value=3 * DAY, min=6 * HOUR + 1, max=3 * DAY - 1):
        market.setChallengeWindow(3 * DAY, sender=admin)
    # A longer unbonding period makes room for a longer dispute, and then holds it.
    registry.setUnbondingPeriod(14 * DAY, sender=admin)
    resolver.setAppealWindow(11 * DAY - 1, sender=admin)
    assert resolver.slashDelay() == 14 * DAY - 1
    with ape.reverts(registry.ParameterOutOfBounds, min=14 * DAY):
        registry.setUnbondingPeriod(14 * DAY - 1, sender=admin)
    assert resolver.challengeWindowBounds() == (6 * HOUR + 1, DAY)


def test_the_ledger_refuses_a_token_whose_cap_does_not_fit_its_packed_records(project, admin):
    """Stakes, locks and the stake at risk are packed in 96 bits: a CMP whose cap reaches 2^96
    wei (79 billion CMP) could overflow them, so the ledger refuses it at deployment."""
    wide = project.ComputeToken.deploy(admin, admin, 0, 2**96, sender=admin)
    with ape.reverts(custom_error="TokenCapTooLarge"):
        project.ProviderRegistry.deploy(admin, wide, ZERO, sender=admin)
    fits = project.ComputeToken.deploy(admin, admin, 0, 2**96 - 1, sender=admin)
    assert project.ProviderRegistry.deploy(admin, fits, ZERO, sender=admin).rewards() == ZERO


def test_a_ledger_without_rewards_stakes_and_accrues_nothing(project, token, admin, alice, chain):
    """With no distributor (the zero address) stake works as ever and earns nothing: there is
    no schedule to accrue and nobody to pay."""
    ledger = project.ProviderRegistry.deploy(admin, token, ZERO, sender=admin)
    token.transfer(alice, to_wei(100), sender=admin)
    token.approve(ledger, to_wei(100), sender=alice)
    ledger.register("ipfs://p", b"eu-west".ljust(32, b"\0"), sender=alice)
    ledger.stake(to_wei(100), sender=alice)
    chain.pending_timestamp += DAY
    chain.mine()
    assert ledger.stakeRewardsState() == (0, to_wei(100))
    assert ledger.pendingStakeRewards(alice) == 0
    with ape.reverts(ledger.NotRewards, caller=alice.address):
        ledger.takeStakeRewards(alice, sender=alice)


def test_a_failing_distributor_never_blocks_stake_unstake_or_withdrawal(project, token, admin, alice, chain):
    """The ledger asks its distributor for the stake share's rate once per epoch. A distributor
    that reverts (here a contract without the functions: the token itself) releases nothing,
    and staking, an unstake request and the withdrawal all go through."""
    ledger = project.ProviderRegistry.deploy(admin, token, token, sender=admin)
    token.transfer(alice, to_wei(100), sender=admin)
    token.approve(ledger, to_wei(100), sender=alice)
    ledger.register("ipfs://p", b"eu-west".ljust(32, b"\0"), sender=alice)
    ledger.stake(to_wei(100), sender=alice)
    chain.pending_timestamp += 2 * DAY
    ledger.requestUnstake(to_wei(40), sender=alice)
    assert ledger.stakeRewardsState() == (0, to_wei(60))
    assert ledger.pendingStakeRewards(alice) == 0
    chain.pending_timestamp += 7 * DAY
    ledger.withdrawUnstaked(sender=alice)
    assert token.balanceOf(alice) == to_wei(40)
