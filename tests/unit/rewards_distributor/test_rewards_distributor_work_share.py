"""RewardsDistributor: the work share, capped by the fees paid; claims.

A distributor of its own per test (epochs of one day, 100,000 CMP in epoch 0 decaying 0.5%,
split 70% work, 20% stake, 10% verifiers), with an account holding the reporters' roles, so that
every timestamp and report is under the test's control. The oracle says 2.50 USD per CMP, so a
fee of 1 CRD is worth 0.4 CMP; a job's fee caps its provider's work reward at 7/8 of that and
its verifier's reward at 1/8.
"""

from __future__ import annotations

import ape
from utils.rewards_distributor import BASE, WAD, at

from compute_market.units import DAY, to_wei


def test_providers_with_300_and_100_credits_share_the_work_pool_75_25(dist, chain, settle, alice, bob, token):
    at(chain, dist, 100)
    settle(1, alice, to_wei(300))
    settle(2, bob, to_wei(100))
    at(chain, dist, DAY)
    pool = BASE * 7_000 // 10_000  # 70,000 CMP
    before = token.balanceOf(alice)
    tx = dist.claim(sender=alice)
    assert tx.events.filter(dist.Claimed)[0].activityRewards == pool * 3 // 4 == to_wei(52_500)
    settled = tx.events.filter(dist.EpochRewardsSettled)[0]
    assert (settled.epoch, settled.workReward, settled.verifierReward) == (0, to_wei(52_500), 0)
    assert token.balanceOf(alice) == before + to_wei(52_500)
    assert dist.pendingRewards(bob) == (to_wei(17_500), 0)
    dist.claim(sender=bob)


def test_a_work_reward_is_capped_by_the_fees_its_jobs_paid(dist, chain, settle, alice, bob, token):
    """Alice settles 300 CRD of work paying a 3 CRD fee (1.2 CMP at 2.50 USD): her pro-rata
    52,500 CMP is capped at 7/8 of 1.2 = 1.05 CMP; Bob's uncapped 17,500 is unchanged; the
    51,498.95 CMP above Alice's cap are never minted."""
    at(chain, dist, 100)
    tx = settle(1, alice, to_wei(300), fee=to_wei(3))
    assert tx.events.filter(dist.WorkRecorded)[0].workCap == to_wei("1.05")
    settle(2, bob, to_wei(100))
    at(chain, dist, DAY)
    chain.mine()
    assert dist.pendingRewards(alice) == (to_wei("1.05"), 0)
    assert dist.pendingRewards(bob) == (to_wei(17_500), 0)
    supply = token.totalSupply()
    dist.claim(sender=alice)
    dist.claim(sender=bob)
    assert token.totalSupply() == supply + to_wei("17501.05")


def test_work_without_a_fee_or_without_an_oracle_earns_nothing(dist, chain, settle, reporter, alice, bob, feed):
    """A fee-free job has no activity budget; a settlement while the oracle is stale still
    settles (the report does not revert) but earns no reward."""
    at(chain, dist, 100)
    settle(1, alice, to_wei(300), fee=0)
    at(chain, dist, 100 + 2 * 3_600)  # the oracle's last answer is now 2 hours old
    tx = dist.recordWork(2, bob, to_wei(100), to_wei(1), True, sender=reporter)
    assert tx.events.filter(dist.WorkRecorded)[0].workCap == 0
    at(chain, dist, DAY)
    chain.mine()
    assert dist.pendingRewards(alice) == (0, 0)
    assert dist.pendingRewards(bob) == (0, 0)


def test_an_epochs_fees_are_valued_at_the_rate_its_first_fee_read(
    dist, chain, settle, reporter, alice, bob, carol, credits, fresh_price
):
    """One oracle read per epoch: Alice's 3 CRD fee, the epoch's first, reads 0.4 CMP per CRD
    (2.50 USD) and caps her at 7/8 of 1.2 = 1.05 CMP. The oracle then says 2.90 USD, yet Bob's
    3 CRD fee in the same epoch is valued at the epoch's 0.4 (cap 1.05 again, no oracle call).
    The next epoch's first fee reads the new rate (1/2.90 = 0.3448... CMP per CRD)."""
    at(chain, dist, 100)
    first = settle(1, alice, to_wei(300), fee=to_wei(3))
    assert [(e.epoch, e.tokensPerCredit) for e in first.events.filter(dist.EpochRateSet)] == [(0, to_wei("0.4"))]
    assert dist.epochTotals(0).tokensPerCredit == to_wei("0.4")
    fresh_price("2.90")
    second = dist.recordWork(2, bob, to_wei(300), to_wei(3), True, sender=reporter)
    assert second.events.filter(dist.WorkRecorded)[0].workCap == to_wei("1.05")
    assert not second.events.filter(dist.EpochRateSet)
    at(chain, dist, DAY + 100)
    fresh_price("2.90")
    rate = credits.creditsToTokens(to_wei(1))
    assert rate < to_wei("0.4")  # at most 1/2.90 (the higher of the last accepted answers)
    third = dist.recordWork(3, carol, to_wei(300), to_wei(3), True, sender=reporter)
    assert [(e.epoch, e.tokensPerCredit) for e in third.events.filter(dist.EpochRateSet)] == [(1, rate)]
    assert third.events.filter(dist.WorkRecorded)[0].workCap == to_wei(3) * rate // WAD * 7 // 8


def test_an_oracle_outage_at_an_epochs_first_fee_leaves_the_rate_for_the_next_fee(
    dist, chain, settle, reporter, alice, bob
):
    """A fee recorded while the oracle is stale earns no cap and snapshots nothing; the next
    fee with a live oracle reads the epoch's rate."""
    at(chain, dist, 2 * 3_600)  # the oracle's last answer is more than an hour old
    stale = dist.recordWork(1, alice, to_wei(100), to_wei(1), True, sender=reporter)
    assert stale.events.filter(dist.WorkRecorded)[0].workCap == 0
    assert not stale.events.filter(dist.EpochRateSet)
    assert dist.epochTotals(0).tokensPerCredit == 0
    live = settle(2, bob, to_wei(100), fee=to_wei(1))
    assert live.events.filter(dist.WorkRecorded)[0].workCap == to_wei("0.35")
    assert dist.epochTotals(0).tokensPerCredit == to_wei("0.4")


def test_a_claim_twice_pays_once(dist, chain, settle, alice, token):
    at(chain, dist, 100)
    settle(1, alice, 1)
    assert dist.pendingRewards(alice) == (0, 0)  # epoch 0 is not over
    at(chain, dist, DAY)
    chain.mine()
    assert dist.pendingRewards(alice) == (to_wei(70_000), 0)
    before = token.balanceOf(alice)
    dist.claim(sender=alice)
    assert token.balanceOf(alice) == before + to_wei(70_000)
    assert dist.pendingRewards(alice) == (0, 0)
    tx = dist.claim(sender=alice)
    assert token.balanceOf(alice) == before + to_wei(70_000)
    assert not tx.events.filter(dist.Claimed)
    assert dist.activityOf(alice).owed == 0


def test_the_current_epochs_activity_is_paid_once_the_epoch_is_over(dist, chain, settle, alice, token):
    """A claim inside epoch 0 pays nothing for it (its pool is not final); Alice's second job
    in the same epoch adds to the same record; the claim after the epoch pays the whole pool."""
    at(chain, dist, 100)
    settle(1, alice, 1)
    tx = dist.claim(sender=alice)
    assert not tx.events.filter(dist.Claimed)
    settle(2, alice, 1)
    assert dist.activityOf(alice).credits == 2
    at(chain, dist, DAY)
    before = token.balanceOf(alice)
    dist.claim(sender=alice)
    assert token.balanceOf(alice) == before + to_wei(70_000)


def test_thirty_epochs_of_work_are_claimed_at_once_in_constant_gas(
    dist, chain, settle, admin, alice, bob, carol, token
):
    """Alice works in each of 30 epochs, Bob and Carol in epoch 0 only; each then claims once.
    Each of Alice's epochs is valued when her next report arrives (O(1): its totals are final),
    so her one claim pays the sum of 30 work pools and costs what Bob's one-epoch claim costs:
    at most 80,000 gas for a holder of CMP once the distributor has paid a claim (Carol's)."""
    for account in (alice, bob):
        token.transfer(account, 1, sender=admin)
    for epoch in range(30):
        at(chain, dist, epoch * DAY + 100)
        settle(3 * epoch + 1, alice, to_wei(2))
        if epoch == 0:
            settle(2, bob, to_wei(1))
            settle(3, carol, to_wei(1))
    at(chain, dist, 30 * DAY)
    pools = [dist.emissionOf(e) * 7_000 // 10_000 for e in range(30)]
    expected = pools[0] // 2 + sum(pools[1:])
    dist.claim(sender=carol)
    before = token.balanceOf(alice)
    alice_tx = dist.claim(sender=alice)
    bob_tx = dist.claim(sender=bob)
    assert token.balanceOf(alice) - before == expected
    assert alice_tx.events.filter(dist.Claimed)[0].activityRewards == expected
    assert bob_tx.events.filter(dist.Claimed)[0].activityRewards == pools[0] // 4
    # The same reads and writes but one: Alice's owed balance, kept between her epochs, is
    # cleared (Bob's never left zero). Her slot stays in use (its `used` flag), so the clearing
    # earns no refund: 5,257 gas more than Bob's here, paid back by 17,100 on her next report.
    assert alice_tx.gas_used <= bob_tx.gas_used + 5_500
    assert max(alice_tx.gas_used, bob_tx.gas_used) <= 80_000


def test_only_reporters_report(dist, stranger):
    with ape.reverts(dist.AccessControlUnauthorizedAccount):
        dist.recordWork(1, stranger, 1, 1, True, sender=stranger)
    with ape.reverts(dist.AccessControlUnauthorizedAccount):
        dist.recordVerification(1, stranger, sender=stranger)
