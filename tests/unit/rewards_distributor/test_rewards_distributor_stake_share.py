"""RewardsDistributor: the stake share, by stake time, through the staking ledger.

A distributor of its own per test (epochs of one day, 100,000 CMP in epoch 0 decaying 0.5%,
split 70% work, 20% stake, 10% verifiers), with an account holding the reporters' roles, so that
every timestamp and report is under the test's control. The oracle says 2.50 USD per CMP, so a
fee of 1 CRD is worth 0.4 CMP; a job's fee caps its provider's work reward at 7/8 of that and
its verifier's reward at 1/8.
"""

from __future__ import annotations

import ape
from utils.rewards_distributor import WAD, at, prepare, rate, stake_pool

from compute_market.units import DAY, to_wei

START = 300  # seconds after genesis: later than the set-up transactions' blocks


def test_the_distributor_tells_the_ledger_each_epochs_rate_and_exact_releases(dist):
    for epoch in (0, 1, 29):
        per_second, start, end = dist.stakeRateAt(dist.genesis() + epoch * DAY + 5)
        assert (start, end) == (dist.genesis() + epoch * DAY, dist.genesis() + (epoch + 1) * DAY)
        assert per_second == rate(epoch)
    assert rate(0) == to_wei(20_000) // DAY == 231_481_481_481_481_481
    g = dist.genesis()
    assert dist.stakeReleased(g + DAY, g + 3 * DAY) == stake_pool(DAY, 3 * DAY)
    assert dist.stakeReleased(g + DAY, g + DAY) == 0


def test_stake_rewards_follow_stake_time(dist, ledger, chain, admin, token, alice, bob):
    """Alice stakes 1,000 CMP from START, Bob 3,000 from the epoch's middle; the ledger accrues the
    20,000 CMP stake share at 231,481,481,481,481,481 wei a second. Alone, Alice earns
    rate·(43,200 - 300)/1,000 per CMP; shared, each CMP earns rate·43,200/4,000 =
    2.499999999999999994 CMP: Bob 7,499.999999999999982 CMP (the rate's rounding, 18,000 wei
    under 7,500), Alice 12,430.555 CMP in all."""
    for who, amount in ((alice, to_wei(1_000)), (bob, to_wei(3_000))):
        prepare(ledger, token, admin, who, amount)
    at(chain, dist, START)
    ledger.stake(to_wei(1_000), sender=alice)
    at(chain, dist, DAY // 2)
    ledger.stake(to_wei(3_000), sender=bob)
    at(chain, dist, DAY)
    chain.mine()  # read both at the epoch's end exactly
    alone = rate(0) * (DAY // 2 - START) * WAD // to_wei(1_000)
    shared = rate(0) * (DAY // 2) * WAD // to_wei(4_000)
    assert shared == 2_499_999_999_999_999_994
    assert ledger.pendingStakeRewards(alice) == 1_000 * (alone + shared)
    assert to_wei(12_430) < 1_000 * (alone + shared) < to_wei(12_431)  # 12,500 less the first 300 s
    assert ledger.pendingStakeRewards(bob) == 3_000 * shared == to_wei(7_500) - 18_000
    assert dist.pendingRewards(bob) == (0, 3_000 * shared)
    assert ledger.stakeRewardsState() == (alone + shared, to_wei(4_000))
    # Claiming pays what accrued up to the claim's block (a second or more of epoch 1: the ledger
    # adds epoch 0's rest and epoch 1's seconds before it divides by the stake, so the rounding is
    # that of the sum, whatever number of seconds the machine took).
    before = token.balanceOf(bob)
    tx = dist.claimStakeRewards(sender=bob)
    paid = token.balanceOf(bob) - before
    seconds = tx.timestamp - dist.genesis() - DAY
    assert paid == 3_000 * ((rate(0) * (DAY // 2) + rate(1) * seconds) * WAD // to_wei(4_000))
    assert 3_000 * (shared + rate(1) * seconds * WAD // to_wei(4_000)) <= paid
    assert tx.events.filter(ledger.StakeRewardsTaken)[0].amount == paid
    assert ledger.pendingStakeRewards(bob) == 0


def test_only_the_distributor_takes_stake_rewards_and_only_once(dist, ledger, chain, admin, token, alice, stranger):
    prepare(ledger, token, admin, alice, to_wei(1_000))
    ledger.stake(to_wei(1_000), sender=alice)
    chain.pending_timestamp += DAY // 4
    with ape.reverts(ledger.NotRewards, caller=stranger.address):
        ledger.takeStakeRewards(alice, sender=stranger)
    with ape.reverts(dist.LedgerAlreadySet):
        dist.setLedger(stranger, sender=admin)
    first = dist.claim(sender=alice)
    assert first.events.filter(dist.Claimed)[0].stakeRewards > 0
    chain.pending_timestamp = first.timestamp + 1
    chain.mine()
    chain.pending_timestamp = first.timestamp + 2  # two seconds after the first claim, whatever the clock
    second = dist.claim(sender=alice).events.filter(dist.Claimed)
    assert second == [] or second[0].stakeRewards <= 2 * rate(0)


def test_stake_rewards_cross_epochs_at_each_epochs_rate(dist, ledger, chain, admin, alice, token):
    """From START to the end of epoch 0 at epoch 0's rate, all of epoch 1 exactly (the
    distributor's closed form, no rate rounding), then epoch 2's rate up to the claim."""
    prepare(ledger, token, admin, alice, to_wei(1_000))
    at(chain, dist, START)
    ledger.stake(to_wei(1_000), sender=alice)
    at(chain, dist, 2 * DAY)
    before = token.balanceOf(alice)
    tx = dist.claimStakeRewards(sender=alice)
    released = rate(0) * (DAY - START) + stake_pool(DAY, 2 * DAY) + rate(2) * (tx.timestamp - dist.genesis() - 2 * DAY)
    per_stake = released * WAD // to_wei(1_000)
    assert token.balanceOf(alice) - before == 1_000 * per_stake
    assert to_wei(39_830) < 1_000 * per_stake < to_wei(39_831)  # 20% of 100,000 and of 99,500, less 300 s


def test_stake_rewards_over_a_thousand_idle_epochs_cost_what_one_epoch_costs(
    dist, ledger, chain, admin, alice, bob, token
):
    """Nothing happens for 1,000 epochs: Alice's stake rewards are the stake share of 1,000
    epochs of emission (the whole epochs released in closed form, to the wei), and her claim
    costs about what Bob's claim after one epoch costs: no loop over epochs."""
    for who in (alice, bob):
        prepare(ledger, token, admin, who, to_wei(1_000))
    at(chain, dist, START)
    alice_from = ledger.stake(to_wei(1_000), sender=alice).timestamp - dist.genesis()
    bob_from = ledger.stake(to_wei(1_000), sender=bob).timestamp - dist.genesis()  # the same second or the next
    at(chain, dist, DAY + START)
    bob_tx = dist.claimStakeRewards(sender=bob)
    bob_at = bob_tx.timestamp - dist.genesis()
    at(chain, dist, 1_000 * DAY + START)
    before = token.balanceOf(alice)
    alice_tx = dist.claimStakeRewards(sender=alice)
    alice_at = alice_tx.timestamp - dist.genesis()
    alone = rate(0) * (bob_from - alice_from) * WAD // to_wei(1_000)
    to_bob = (rate(0) * (DAY - bob_from) + rate(1) * (bob_at - DAY)) * WAD // to_wei(2_000)
    after_bob = (
        (rate(1) * (2 * DAY - bob_at) + stake_pool(2 * DAY, 1_000 * DAY) + rate(1_000) * (alice_at - 1_000 * DAY))
        * WAD
        // to_wei(2_000)
    )
    assert token.balanceOf(alice) - before == 1_000 * (alone + to_bob + after_bob)
    assert to_wei(1_986_000) < token.balanceOf(alice) - before < to_wei(1_987_000)  # half of 20% of 19.87 M
    # The same storage reads and writes; only q^k's exponentiation by squaring grows, as log k.
    assert alice_tx.gas_used <= bob_tx.gas_used + 10_000


def test_verifier_stake_earns_the_stake_share_beside_provider_stake(dist, ledger, chain, admin, token, alice, bob):
    """Stake at risk earns the stake share whether it backs leases or verdicts. Alice stakes
    1,000 CMP as a provider and 1,000 as a verifier, Bob 2,000 as a verifier only: each holds
    half of the 4,000 at risk and earns half of the pool (to within the seconds between their
    stakes). Each part then leaves the stake at risk alone, by an unstake request."""
    prepare(ledger, token, admin, alice, to_wei(1_000))
    prepare(ledger, token, admin, alice, to_wei(1_000), verifier=True)
    prepare(ledger, token, admin, bob, to_wei(2_000), verifier=True)
    at(chain, dist, START)
    ledger.stake(to_wei(1_000), sender=alice)
    at(chain, dist, START + 1)  # a second apart, whatever the clock: Alice is 2 seconds ahead of Bob
    ledger.stakeAsVerifier(to_wei(1_000), sender=alice)
    at(chain, dist, START + 2)
    ledger.stakeAsVerifier(to_wei(2_000), sender=bob)
    assert ledger.stakeRewardsState()[1] == to_wei(4_000)
    at(chain, dist, DAY)
    chain.mine()
    alice_stake, bob_stake = ledger.pendingStakeRewards(alice), ledger.pendingStakeRewards(bob)
    assert abs(alice_stake - bob_stake) <= 2 * rate(0)
    assert to_wei(9_900) < bob_stake < to_wei(10_000)
    ledger.requestVerifierUnstake(to_wei(1_000), sender=alice)  # the verifier part leaves, the provider part stays
    assert ledger.stakeRewardsState()[1] == to_wei(3_000)
    ledger.requestUnstake(to_wei(500), sender=alice)
    assert ledger.stakeRewardsState()[1] == to_wei(2_500)
    # What accrued before the requests stays owed; from now on Alice earns on 500 of 2,500.
    owed, since = ledger.pendingStakeRewards(alice), chain.blocks.head.timestamp
    assert owed >= alice_stake
    chain.pending_timestamp += 1_000
    chain.mine()
    seconds = chain.blocks.head.timestamp - since
    expected = 500 * (rate(1) * seconds * WAD // to_wei(2_500))
    assert abs(ledger.pendingStakeRewards(alice) - owed - expected) <= 2  # the debt's rounding


def test_nothing_accrues_to_less_than_one_cmp_at_risk(dist, ledger, chain, admin, token, alice):
    """1,000 wei at risk would otherwise take a whole epoch's stake share: below
    `MIN_STAKE_AT_RISK` (1 CMP) the share released is not minted to anyone."""
    prepare(ledger, token, admin, alice, 1_000)
    ledger.stake(1_000, sender=alice)
    chain.pending_timestamp += DAY // 2
    chain.mine()
    assert ledger.pendingStakeRewards(alice) == 0
    assert ledger.stakeRewardsState() == (0, 1_000)
