"""RewardsDistributor: schedule, work/stake/verifier shares, fee caps, claims, governance, with
exact figures.

A distributor of its own per test (epochs of one day, 100,000 CMP in epoch 0 decaying 0.5%,
split 70% work, 20% stake, 10% verifiers), with an account holding the reporters' roles, so that
every timestamp and report is under the test's control. The oracle says 2.50 USD per CMP, so a
fee of 1 CRD is worth 0.4 CMP; a job's fee caps its provider's work reward at 7/8 of that and
its verifier's reward at 1/8."""

from __future__ import annotations

import ape
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compute_market.units import DAY, to_wei

BASE = to_wei(100_000)


@pytest.fixture
def reporter(accounts):
    return accounts[30]


AMPLE_FEE = to_wei(10_000_000)  # 4,000,000 CMP of fees: caps far above any pool here


def deploy_distributor(project, token, credits, admin, reporter, base=BASE, decay=50):
    dist = project.RewardsDistributor.deploy(admin, token, credits, DAY, to_wei(200_000_000), base, decay, sender=admin)
    token.grantRole(token.MINTER_ROLE(), dist, sender=admin)
    for role in ("MARKET_ROLE", "RESOLVER_ROLE"):
        dist.grantRole(getattr(dist, role)(), reporter, sender=admin)
    return dist


@pytest.fixture
def dist(project, token, credits, admin, reporter):
    return deploy_distributor(project, token, credits, admin, reporter)


WAD = 10**18


def rpow(x: int, n: int) -> int:
    """The contract's `_rpow` (WAD fixed point, rounding down at each step)."""
    z = x if n % 2 else WAD
    n //= 2
    while n:
        x = x * x // WAD
        if n % 2:
            z = z * x // WAD
        n //= 2
    return z


def released(seconds: int, base: int = BASE, decay: int = 50) -> int:
    """The contract's R(t) for the default schedule (one segment from epoch 0), `seconds` after
    genesis: base·(10⁴/d)·(1 - G), G = q^k at epoch boundaries, linear in between, to the wei."""
    q = (10_000 - decay) * WAD // 10_000
    k, into = divmod(seconds, DAY)
    g = rpow(q, k) if rpow(q, k) >= 10**9 else 0
    if into:
        g1 = rpow(q, k + 1) if rpow(q, k + 1) >= 10**9 else 0
        g -= (g - g1) * into // DAY
    return base * 10_000 * (WAD - g) // (decay * WAD)


def stake_pool(t0: int, t1: int) -> int:
    """The stake share (20%) released between `t0` and `t1` seconds after genesis."""
    return (released(t1) - released(t0)) * 2_000 // 10_000


def at(chain, dist, seconds: int) -> None:
    """Makes the next transaction land `seconds` after the distributor's genesis."""
    chain.pending_timestamp = dist.genesis() + seconds


@pytest.fixture
def settle(dist, reporter, fresh_price):
    """Reports job `job_id` settled: `provider` earned `credits`, the job paid `fee` credits."""

    def _settle(job_id: int, provider, credits: int, fee: int = AMPLE_FEE):
        fresh_price()
        return dist.recordWork(job_id, provider, credits, fee, sender=reporter)

    return _settle


# ---------------------------------------------------------------------------- schedule


def test_emission_decays_by_the_closed_form(dist):
    assert dist.emissionOf(0) == BASE
    assert dist.emissionOf(1) == to_wei(99_500)
    assert dist.emissionOf(2) == to_wei("99002.5")
    assert dist.emissionOf(29) == released(30 * DAY) - released(29 * DAY)
    total_30 = sum(dist.emissionOf(e) for e in range(30))
    assert total_30 == released(30 * DAY)  # epochs telescope: R at the end of epoch 29
    closed_form = BASE * (1 - (995 / 1000) ** 30) / (5 / 1000)
    assert abs(total_30 - closed_form) < to_wei("0.001")
    assert total_30 <= dist.committedEmission() == BASE * 10_000 // 50  # 20,000,000 CMP in all


def test_the_cap_bounds_every_schedule(project, token, credits, admin, reporter, dist):
    room = token.cap() - token.totalSupply()
    with ape.reverts(dist.ParameterOutOfBounds):
        project.RewardsDistributor.deploy(admin, token, credits, DAY, room + 1, BASE, 50, sender=admin)
    with ape.reverts(dist.EmissionCapExceeded):
        dist.setSchedule(to_wei(10_000_000), 50, 7_000, 2_000, 1_000, sender=admin)  # tail 2e9 > cap
    with ape.reverts(dist.ParameterOutOfBounds):
        dist.setSchedule(BASE, 0, 7_000, 2_000, 1_000, sender=admin)  # no decay: no finite tail


# ---------------------------------------------------------------------------- work share


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
    tx = dist.recordWork(2, bob, to_wei(100), to_wei(1), sender=reporter)
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
    second = dist.recordWork(2, bob, to_wei(300), to_wei(3), sender=reporter)
    assert second.events.filter(dist.WorkRecorded)[0].workCap == to_wei("1.05")
    assert not second.events.filter(dist.EpochRateSet)
    at(chain, dist, DAY + 100)
    fresh_price("2.90")
    rate = credits.creditsToTokens(to_wei(1))
    assert rate < to_wei("0.4")  # at most 1/2.90 (the higher of the last accepted answers)
    third = dist.recordWork(3, carol, to_wei(300), to_wei(3), sender=reporter)
    assert [(e.epoch, e.tokensPerCredit) for e in third.events.filter(dist.EpochRateSet)] == [(1, rate)]
    assert third.events.filter(dist.WorkRecorded)[0].workCap == to_wei(3) * rate // WAD * 7 // 8


def test_an_oracle_outage_at_an_epochs_first_fee_leaves_the_rate_for_the_next_fee(
    dist, chain, settle, reporter, alice, bob
):
    """A fee recorded while the oracle is stale earns no cap and snapshots nothing; the next
    fee with a live oracle reads the epoch's rate."""
    at(chain, dist, 2 * 3_600)  # the oracle's last answer is more than an hour old
    stale = dist.recordWork(1, alice, to_wei(100), to_wei(1), sender=reporter)
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
    # cleared (Bob's never left zero).
    assert alice_tx.gas_used <= bob_tx.gas_used + 5_000
    assert max(alice_tx.gas_used, bob_tx.gas_used) <= 80_000


def test_verified_jobs_that_settle_share_the_verifier_pool(dist, chain, settle, reporter, alice, bob, carol):
    """Alice approved job 1, Bob jobs 2 to 4: a quarter and three quarters of the 10,000 CMP
    pool. Bob's approval of job 5, which never settles, earns nothing."""
    at(chain, dist, 100)
    for job_id, verifier in [(1, alice), (2, bob), (3, bob), (4, bob), (5, bob)]:
        dist.recordVerification(job_id, verifier, sender=reporter)
    for job_id in range(1, 5):
        tx = settle(job_id, carol, to_wei(10))
        assert tx.events.filter(dist.VerifierWorkRecorded)[0].verifierCap == AMPLE_FEE * 4 // 10 // 8
    at(chain, dist, DAY)
    chain.mine()
    assert dist.pendingRewards(alice) == (to_wei(2_500), 0)
    assert dist.pendingRewards(bob) == (to_wei(7_500), 0)
    settled = dist.claim(sender=bob).events.filter(dist.EpochRewardsSettled)[0]
    assert (settled.workReward, settled.verifierReward) == (0, to_wei(7_500))


def test_a_verifier_reward_is_capped_by_the_fee_of_the_job_it_verified(dist, chain, settle, reporter, alice, bob):
    """A 1 CRD fee (0.4 CMP) caps the verifier of that job at 0.05 CMP and its provider at 0.35."""
    at(chain, dist, 100)
    dist.recordVerification(7, alice, sender=reporter)
    settle(7, bob, to_wei(100), fee=to_wei(1))
    at(chain, dist, DAY)
    chain.mine()
    assert dist.pendingRewards(alice) == (to_wei("0.05"), 0)
    assert dist.pendingRewards(bob) == (to_wei("0.35"), 0)


def test_only_reporters_report(dist, stranger):
    with ape.reverts(dist.AccessControlUnauthorizedAccount):
        dist.recordWork(1, stranger, 1, 1, sender=stranger)
    with ape.reverts(dist.AccessControlUnauthorizedAccount):
        dist.recordVerification(1, stranger, sender=stranger)


# ---------------------------------------------------------------------------- stake share


START = 300  # seconds after genesis: later than the set-up transactions' blocks
EU = b"eu-west".ljust(32, b"\0")


@pytest.fixture
def ledger(project, token, dist, admin):
    """A staking ledger of its own accruing this distributor's stake share (the registry)."""
    registry = project.ProviderRegistry.deploy(admin, token, dist, sender=admin)
    dist.setLedger(registry, sender=admin)
    return registry


def prepare(ledger, token, admin, who, amount, *, verifier: bool = False) -> None:
    """Funds, approves and registers `who`, so that its stake is one transaction at a chosen time."""
    token.transfer(who, amount, sender=admin)
    token.approve(ledger, token.allowance(who, ledger) + amount, sender=who)
    if verifier and ledger.verifierOf(who).slot == 0:
        ledger.registerVerifier(sender=who)
    if not verifier and not ledger.providerOf(who).registered:
        ledger.register("ipfs://staker", EU, sender=who)


def rate(e: int) -> int:
    """The ledger's accrual rate in epoch `e`: the epoch's stake share per second, rounded down."""
    return stake_pool(e * DAY, (e + 1) * DAY) // DAY


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
    first = dist.claim(sender=alice).events.filter(dist.Claimed)[0].stakeRewards
    assert first > 0
    chain.mine()  # the next block's second only: one more second of accrual
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
    ledger.stakeAsVerifier(to_wei(1_000), sender=alice)
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


# ---------------------------------------------------------------------------- governance


def test_schedule_changes_apply_from_the_next_epoch_only(dist, chain, admin, stranger):
    at(chain, dist, 100)
    with ape.reverts(dist.AccessControlUnauthorizedAccount):
        dist.setSchedule(BASE, 100, 5_000, 3_000, 2_000, sender=stranger)
    with ape.reverts(dist.InvalidSplit):
        dist.setSchedule(BASE, 100, 5_000, 3_000, 1_000, sender=admin)
    dist.setSchedule(to_wei(50_000), 100, 5_000, 3_000, 2_000, sender=admin)
    assert dist.emissionOf(0) == BASE  # the current epoch is untouched
    assert dist.segmentFor(0).workBps == 7_000
    assert dist.emissionOf(1) == to_wei(50_000)
    assert dist.emissionOf(2) == to_wei(49_500)
    assert dist.segmentFor(1).workBps == 5_000


# ---------------------------------------------------------------------------- integration


def test_market_registry_and_resolver_report_to_the_protocols_distributor(
    rewards, market, registry, chain, accounts, make_provider, make_customer, fresh_price
):
    """The settled job paid 2 CRD of which a 1% fee, 0.02 CRD = 0.008 CMP at 2.50 USD: the
    provider's work reward is capped at 7/8 of it, 0.007 CMP."""
    from helpers import job_spec

    provider = make_provider(accounts[11])  # stakes 10,000
    at_risk = registry.stakeRewardsState()[1]
    customer = make_customer(accounts[10])
    job_id = market.postJob(job_spec(chain, hours=1), sender=customer).events.filter(market.JobPosted)[0].jobId
    market.placeBid(job_id, to_wei(1), sender=provider)
    chain.pending_timestamp += 3_600
    market.finalizeAuction(job_id, sender=customer)
    chain.pending_timestamp += 3_600
    market.submitResult(job_id, b"\x01" * 32, "r", sender=provider)
    chain.pending_timestamp += DAY
    fresh_price()
    market.settleJob(job_id, sender=customer)
    epoch = rewards.currentEpoch()
    mine = rewards.activityOf(provider)
    assert (mine.epoch, mine.credits) == (epoch, to_wei(2))  # 1 CRD per GPU-hour, 2 GPUs, 1 hour
    assert mine.workCap == to_wei("0.007")
    registry.requestUnstake(to_wei(4_000), sender=provider)
    assert registry.stakeRewardsState()[1] == at_risk - to_wei(4_000)


def test_the_protocols_ledger_accrues_verifier_and_provider_stake(
    rewards, accounts, make_provider, make_verifier, chain, registry
):
    """A verifier's active stake earns the stake share: staking and an unstake request move the
    ledger's stake at risk; a provider that also verifies earns on both stakes."""
    assert rewards.ledger() == registry.address
    before = registry.stakeRewardsState()[1]
    verifier = make_verifier(accounts[20], stake=to_wei(1_000))
    assert registry.stakeRewardsState()[1] == before + to_wei(1_000)
    registry.requestVerifierUnstake(to_wei(400), sender=verifier)
    assert registry.stakeRewardsState()[1] == before + to_wei(600)
    both = make_provider(accounts[21])  # 10,000 as a provider
    make_verifier(both, stake=to_wei(1_000))
    assert registry.stakeRewardsState()[1] == before + to_wei(11_600)
    chain.pending_timestamp += DAY
    chain.mine()
    assert registry.pendingStakeRewards(verifier) > 0
    assert rewards.pendingRewards(both)[1] == registry.pendingStakeRewards(both) > 0


# ---------------------------------------------------------------------------- property


OPS = st.lists(
    st.tuples(
        st.sampled_from(["work", "verify", "stake", "time", "claim", "claimStake", "schedule"]),
        st.integers(0, 2),  # which account
        st.integers(1, 10**24),  # amount
    ),
    min_size=5,
    max_size=25,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_claims_never_exceed_what_was_emitted_nor_the_fees_paid(
    ops, project, token, credits, admin, reporter, chain, accounts, fresh_price
):
    """Random settlements (fees from 1 wei to a million CRD), approvals, stake changes, time and
    claims: all claims stay within the emissions, and each account's work and verifier claims
    within the fee caps its reports carried."""
    dist = deploy_distributor(project, token, credits, admin, reporter)
    ledger = project.ProviderRegistry.deploy(admin, token, dist, sender=admin)
    dist.setLedger(ledger, sender=admin)
    people = [accounts[31], accounts[32], accounts[33]]
    caps = {account.address: 0 for account in people}
    claimed = {account.address: 0 for account in people}

    def claim(account) -> None:
        tx = dist.claim(sender=account)
        claimed[account.address] += sum(e.activityRewards for e in tx.events.filter(dist.Claimed))

    job_id = 0
    for op, who, amount in ops:
        account = people[who]
        if op == "work":
            job_id += 1
            fresh_price()
            tx = dist.recordWork(job_id, account, amount, amount % to_wei(1_000_000) + 1, sender=reporter)
            for event in tx.events.filter(dist.WorkRecorded):
                caps[event.event_arguments["provider"]] += event.workCap
            for event in tx.events.filter(dist.VerifierWorkRecorded):
                caps[event.verifier] += event.verifierCap
        elif op == "verify":
            dist.recordVerification(job_id + 1, account, sender=reporter)
        elif op == "stake":
            stake = amount % to_wei(10_000) + 1
            prepare(ledger, token, admin, account, stake)
            ledger.stake(stake, sender=account)
        elif op == "time":
            chain.pending_timestamp += amount % (3 * DAY)
        elif op == "claim":
            claim(account)
        elif op == "claimStake":
            dist.claimStakeRewards(sender=account)
        else:
            dist.setSchedule(amount % BASE + 1, amount % 100 + 1, 6_000, 3_000, 1_000, sender=admin)
    current = dist.currentEpoch()
    for account in people:  # everyone claims everything at the end
        claim(account)
        dist.claimStakeRewards(sender=account)
    emitted = sum(dist.emissionOf(e) for e in range(current + 1))
    assert dist.totalClaimed() <= emitted
    assert all(claimed[a] <= caps[a] for a in caps), (claimed, caps)
