"""RewardsDistributor at its edges: a schedule with no activity share, a claim with no ledger, the
ledger's zero address, the segment limit, a stake-rate query before genesis, R(t) inside an
epoch, q^k below the dust threshold, and an oracle rate that rounds to zero CMP per CRD.

A distributor of its own per test (epochs of one day, 100,000 CMP in epoch 0, split 70% work,
20% stake, 10% verifiers), with an account holding the reporters' roles."""

from __future__ import annotations

import ape
import pytest

from compute_market.units import DAY, WAD, to_wei, usd_to_feed

ZERO = "0x0000000000000000000000000000000000000000"
BASE = to_wei(100_000)

AMPLE_FEE = to_wei(10_000_000)


@pytest.fixture
def edge_reporter(accounts):
    return accounts[56]


def deploy_distributor(project, token, credits, admin, reporter, decay: int = 50):
    dist = project.RewardsDistributor.deploy(admin, token, credits, DAY, to_wei(200_000_000), BASE, decay, sender=admin)
    token.grantRole(token.MINTER_ROLE(), dist, sender=admin)
    for role in ("MARKET_ROLE", "RESOLVER_ROLE"):
        dist.grantRole(getattr(dist, role)(), reporter, sender=admin)
    return dist


@pytest.fixture
def edge_dist(project, token, credits, admin, edge_reporter):
    return deploy_distributor(project, token, credits, admin, edge_reporter)


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


def decayed(q: int, k: int) -> int:
    """The contract's `_decayed`: q^k, 0 below 10⁻⁹ (1e9 in WAD)."""
    g = rpow(q, k)
    return 0 if g < 10**9 else g


def released(seconds: int, base: int = BASE, decay: int = 50) -> int:
    """R(t) of a segment from epoch 0, `seconds` after genesis: G linear within an epoch."""
    q = (10_000 - decay) * WAD // 10_000
    k, into = divmod(seconds, DAY)
    g = decayed(q, k)
    if into:
        g -= (g - decayed(q, k + 1)) * into // DAY
    return base * 10_000 * (WAD - g) // (decay * WAD)


def at(chain, dist, seconds: int) -> None:
    """Makes the next transaction land `seconds` after the distributor's genesis."""
    chain.pending_timestamp = dist.genesis() + seconds


# ---------------------------------------------------------------------------- schedule


def test_a_schedule_without_activity_shares_values_no_fee_and_reads_no_oracle(
    edge_dist, chain, admin, edge_reporter, alice, bob, credits, fresh_price
):
    """From epoch 1 the whole emission goes to stake (work 0, stake 10,000, verifiers 0 bps). A
    job settled in epoch 1 with a 10,000,000 CRD fee and a verifier, the oracle live (0.4 CMP per
    CRD): its fee is not converted (no `EpochRateSet`, the epoch's rate stays 0), the work cap and
    the verifier cap are 0 (no division by the zero activity share), and nothing is owed after."""
    dist = edge_dist
    at(chain, dist, 100)
    dist.setSchedule(BASE, 50, 0, 10_000, 0, sender=admin)
    at(chain, dist, DAY + 100)
    fresh_price()
    assert credits.creditsToTokens(to_wei(1)) == to_wei("0.4")  # the oracle would answer
    dist.recordVerification(1, bob, sender=edge_reporter)
    tx = dist.recordWork(1, alice, to_wei(300), AMPLE_FEE, True, sender=edge_reporter)
    assert not tx.events.filter(dist.EpochRateSet)
    assert tx.events.filter(dist.WorkRecorded)[0].workCap == 0
    assert tx.events.filter(dist.VerifierWorkRecorded)[0].verifierCap == 0
    assert dist.epochTotals(1).tokensPerCredit == 0
    at(chain, dist, 2 * DAY)
    chain.mine()
    assert dist.pendingRewards(alice) == (0, 0)
    assert dist.pendingRewards(bob) == (0, 0)


def test_the_thirty_third_segment_is_refused(edge_dist, chain, admin):
    """`MAX_SEGMENTS` = 32 bounds the segment lookup. The deployment's segment and one more per
    epoch for 31 epochs (each 1 wei decaying 50%, a 2 wei tail) make 32; in epoch 31 a 33rd,
    even one that would replace the pending segment, reverts `TooManySegments`."""
    dist = edge_dist
    for epoch in range(31):
        at(chain, dist, epoch * DAY + 100)
        dist.setSchedule(1, 5_000, 7_000, 2_000, 1_000, sender=admin)
    assert dist.segmentCount() == int(dist.MAX_SEGMENTS()) == 32
    assert dist.segmentFor(31).fromEpoch == 31
    committed = dist.committedEmission()
    assert committed == BASE * 10_000 // 50 + 31 * 2
    at(chain, dist, 30 * DAY + 200)  # the 32nd segment (from epoch 31) has not begun: still refused
    with ape.reverts(dist.TooManySegments):
        dist.setSchedule(1, 5_000, 7_000, 2_000, 1_000, sender=admin)
    at(chain, dist, 31 * DAY + 100)
    with ape.reverts(dist.TooManySegments):
        dist.setSchedule(1, 5_000, 7_000, 2_000, 1_000, sender=admin)
    assert (dist.segmentCount(), dist.committedEmission()) == (32, committed)


def test_q_to_the_k_below_a_billionth_counts_as_zero(project, token, credits, admin, edge_reporter):
    """Decay 50% (q = 0.5): q^29 = 1,862,645,149e-18 is above the 1e9 dust, q^30 = 931,322,574e-18
    below it, so G(30) = G(31) = 0: epoch 29 releases the whole rest, 2·100,000·q^29 CMP, and
    epoch 30 and later release nothing (without the dust rule epoch 30 would release ~9.3e13 wei)."""
    dist = deploy_distributor(project, token, credits, admin, edge_reporter, decay=5_000)
    q = WAD // 2
    assert (rpow(q, 29), rpow(q, 30)) == (1_862_645_149, 931_322_574)
    assert dist.emissionOf(29) == BASE * 2 * rpow(q, 29) // WAD
    assert dist.emissionOf(29) == released(30 * DAY, decay=5_000) - released(29 * DAY, decay=5_000)
    assert dist.emissionOf(30) == 0
    assert dist.emissionOf(31) == 0
    assert released(30 * DAY, decay=5_000) == dist.committedEmission() == BASE * 2  # the whole tail by epoch 30


# ---------------------------------------------------------------------------- stake share


def test_stake_released_inside_an_epoch_follows_the_linear_g(edge_dist):
    """Within an epoch G is linear: from genesis + 100 s to the epoch's middle the stake share
    (20%) released is 20% of R(43,200) - R(100) with G interpolated between q^0 and q^1, to the
    wei: 20% of 100,000·(43,100/86,400) ≈ 9,976.85 CMP, not 0 as a stepwise G would give."""
    dist = edge_dist
    g = dist.genesis()
    expected = (released(DAY // 2) - released(100)) * 2_000 // 10_000
    assert dist.stakeReleased(g + 100, g + DAY // 2) == expected
    assert to_wei("9976.8") < expected < to_wei("9976.9")
    assert dist.stakeReleased(g + DAY // 2, g + DAY) == (released(DAY) - released(DAY // 2)) * 2_000 // 10_000


def test_a_stake_rate_query_before_genesis_answers_epoch_0(edge_dist):
    """`stakeRateAt(t)` for t before genesis (0, and genesis - 1) answers epoch 0's rate and bounds
    rather than underflowing: 20,000 CMP over 86,400 s = 231,481,481,481,481,481 wei a second."""
    dist = edge_dist
    g = dist.genesis()
    epoch_0 = (to_wei(20_000) // DAY, g, g + DAY)
    assert epoch_0[0] == 231_481_481_481_481_481
    assert dist.stakeRateAt(g) == epoch_0
    assert dist.stakeRateAt(g - 1) == epoch_0
    assert dist.stakeRateAt(0) == epoch_0


# ---------------------------------------------------------------------------- ledger


def test_without_a_ledger_claiming_stake_rewards_pays_nothing(edge_dist, token, alice):
    """A distributor whose ledger was never set: `claimStakeRewards` returns 0 without calling
    anything (the zero address has no code to ask), mints nothing and emits nothing."""
    dist = edge_dist
    assert dist.ledger() == ZERO
    assert dist.claimStakeRewards.call(sender=alice) == 0
    before, supply = token.balanceOf(alice), token.totalSupply()
    tx = dist.claimStakeRewards(sender=alice)
    assert not tx.events.filter(dist.StakeRewardsClaimed)
    assert (token.balanceOf(alice), token.totalSupply(), dist.totalClaimed()) == (before, supply, 0)


def test_the_ledger_cannot_be_set_to_the_zero_address(edge_dist, admin):
    """`setLedger(0)` reverts `ZeroAddress` and leaves the ledger unset (settable later)."""
    dist = edge_dist
    with ape.reverts(dist.ZeroAddress):
        dist.setLedger(ZERO, sender=admin)
    assert dist.ledger() == ZERO


# ---------------------------------------------------------------------------- fee rate


def test_an_oracle_rate_of_zero_cmp_per_crd_is_not_snapshotted(
    project, edge_dist, chain, admin, edge_reporter, alice, bob, credits
):
    """A feed saying 1e19 USD per CMP makes a 1-CRD fee worth 1e18·1e8/1e27 = 0.1 wei, 0: the
    rate is not snapshotted (no `EpochRateSet`, the epoch's rate stays 0) and the fee earns no
    cap. Back at 2.50 USD, the epoch's next fee reads and snapshots 0.4 CMP per CRD."""
    dist = edge_dist
    at(chain, dist, 100)
    credits.setPriceFeed(project.MockPriceFeed.deploy(admin, 10**27, sender=admin), sender=admin)
    assert credits.creditsToTokens(to_wei(1)) == 0
    tx = dist.recordWork(1, alice, to_wei(100), to_wei(1), True, sender=edge_reporter)
    assert not tx.events.filter(dist.EpochRateSet)
    assert tx.events.filter(dist.WorkRecorded)[0].workCap == 0
    assert dist.epochTotals(0).tokensPerCredit == 0
    credits.setPriceFeed(project.MockPriceFeed.deploy(admin, usd_to_feed("2.50"), sender=admin), sender=admin)
    tx = dist.recordWork(2, bob, to_wei(100), to_wei(1), True, sender=edge_reporter)
    assert [(e.epoch, e.tokensPerCredit) for e in tx.events.filter(dist.EpochRateSet)] == [(0, to_wei("0.4"))]
    assert tx.events.filter(dist.WorkRecorded)[0].workCap == to_wei("0.35")
