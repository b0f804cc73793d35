"""Incentives: activity rewards cannot be farmed (SPEC section 6).

A washer holds a customer address, a provider address and (in the verified case) the only
verifier's address, and trades with itself through the whole path: mint credits from CMP, post
a job (2 GPUs for 10 hours at up to 2 CRD per GPU-hour: 40 CRD), bid the maximum, lease, submit a
result, settle after the challenge window, claim its work and verifier rewards, and redeem every
credit back into CMP. An honest pair trades 0, 1 and 10 times the washer's volume in the same
epoch. The oracle says 2.50 USD per CMP throughout.

The washed job pays a 1% fee, 0.4 CRD = 0.16 CMP: the whole activity budget of the job. The
provider's work reward is capped at 7/8 of it (0.14 CMP) and its verifier's at 1/8 (0.02 CMP),
whatever the honest volume, while the 0.5% mint spread, the fee itself and the 1% redemption
spread cost the washer 0.41255 CMP: it ends 0.27255 CMP poorer than it started (0.25255 with its
own verifier), whatever the honest volume. (A verified job also escrows a 2 CRD verification
fee, which its approving verifier, the washer's own address, is paid: a wash.) Before the fee
caps it took home the whole 70,000 CMP work pool with no honest volume, and half or a tenth of
it beside honest volume.
"""

from __future__ import annotations

import pytest
from utils.helpers import job_spec

from compute_market.units import DAY, HOUR, to_wei

WASH_CMP = to_wei(17)  # burned for 42.2875 CRD: enough for the 40 CRD escrow


@pytest.fixture(scope="module")
def washer(accounts, make_provider, token, admin):
    """The washer's three addresses: customer, provider (staked 10,000 CMP), verifier."""
    customer, provider, verifier = accounts[40], accounts[41], accounts[42]
    make_provider(provider)
    token.transfer(customer, WASH_CMP, sender=admin)
    return customer, provider, verifier


@pytest.fixture(scope="module")
def honest(accounts, make_provider, make_customer):
    return make_customer(accounts[43], cmp_amount=to_wei(1_000)), make_provider(accounts[44])


def run_job(market, chain, customer, provider, hours: int, verification: bool, fresh_price) -> int:
    fresh_price()
    spec = job_spec(chain, hours=hours, max_price=to_wei(2), verification=verification)
    job_id = market.postJob(spec, sender=customer).events.filter(market.JobPosted)[0].jobId
    market.placeBid(job_id, to_wei(2), sender=provider)
    return job_id


def liquid_cmp(token, accounts) -> int:
    return sum(token.balanceOf(a) for a in accounts)


@pytest.mark.parametrize("verified", [False, True], ids=["unverified", "self-verified"])
@pytest.mark.parametrize("honest_multiple", [0, 1, 10])
def test_wash_trading_through_the_whole_path_loses_cmp(
    market,
    credits,
    token,
    rewards,
    resolver,
    chain,
    washer,
    honest,
    make_verifier,
    fresh_price,
    honest_multiple,
    verified,
    registry,
):
    w_customer, w_provider, w_verifier = washer
    if verified:
        make_verifier(w_verifier)  # the only verifier: the washer verifies itself
    start = liquid_cmp(token, washer)
    fresh_price()
    token.approve(credits, WASH_CMP, sender=w_customer)
    credits.mintWithTokens(WASH_CMP, 0, w_customer, sender=w_customer)
    credits.approve(market, 2**256 - 1, sender=w_customer)

    jobs = [(run_job(market, chain, w_customer, w_provider, 10, verified, fresh_price), w_provider)]
    if honest_multiple:
        h_customer, h_provider = honest
        jobs.append(
            (run_job(market, chain, h_customer, h_provider, 10 * honest_multiple, False, fresh_price), h_provider)
        )
    chain.pending_timestamp += HOUR
    for job_id, _ in jobs:
        market.finalizeAuction(job_id, sender=w_customer)
    chain.pending_timestamp += 10 * HOUR
    market.submitResult(jobs[0][0], b"\x42" * 32, "ipfs://result", sender=w_provider)
    if verified:
        resolver.requestVerifier(jobs[0][0], sender=w_customer)
        chain.mine(registry.drawDelay())
        registry.processDraws(8, sender=w_customer)
        resolver.attest(jobs[0][0], True, sender=w_verifier)
    if honest_multiple:
        chain.pending_timestamp += 10 * HOUR * (honest_multiple - 1)
        market.submitResult(jobs[1][0], b"\x42" * 32, "ipfs://result", sender=jobs[1][1])
    chain.pending_timestamp += DAY
    fresh_price()
    epoch = rewards.currentEpoch()
    for job_id, _ in jobs:
        market.settleJob(job_id, sender=w_customer)

    chain.pending_timestamp = rewards.genesis() + (epoch + 1) * DAY
    fee_cmp = to_wei("0.4") * 10 // 25  # 0.4 CRD at 2.50 USD
    claim = rewards.claim(sender=w_provider)
    work = claim.events.filter(rewards.EpochRewardsSettled)[0].workReward
    # The same claim pays the stake share to the provider's 10,000 CMP stake (and the verifier's
    # to its 1,000) for their time at risk, earned traded or not: not part of the wash's result.
    stake_rewards = claim.events.filter(rewards.Claimed)[0].stakeRewards
    assert work == fee_cmp * 7 // 8  # the cap binds whatever the honest volume
    earned = work
    if verified:
        tx = rewards.claim(sender=w_verifier)
        earned += tx.events.filter(rewards.EpochRewardsSettled)[0].verifierReward
        stake_rewards += tx.events.filter(rewards.Claimed)[0].stakeRewards  # its 1,000 CMP verifier stake
        assert earned == fee_cmp  # provider and verifier together: exactly the fee paid
    fresh_price()
    # The verifier's credits too: a verified job's 2 CRD verification fee went to it.
    for account in (w_customer, w_provider, w_verifier):
        balance = credits.balanceOf(account)
        if balance:
            credits.redeem(balance, 0, account, sender=account)
    if verified:
        registry.requestVerifierUnstake(to_wei(1_000), sender=w_verifier)  # its stake is its own
        start += to_wei(1_000)
        chain.pending_timestamp += 8 * DAY
        registry.withdrawVerifierStake(sender=w_verifier)
    # 17 CMP burned for 42.2875 CRD; 41.8875 CRD come back (the escrow less the 0.4 CRD fee)
    # and redeem at 1% spread into 16.58745 CMP; the rewards add 0.14 (and 0.02) CMP.
    loss = start + stake_rewards - liquid_cmp(token, washer)
    assert loss == (to_wei("0.25255") if verified else to_wei("0.27255"))
