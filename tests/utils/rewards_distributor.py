"""Constants and closed forms shared by the RewardsDistributor tests (tests/unit/rewards_distributor)."""

from __future__ import annotations

from compute_market.units import DAY, to_wei

BASE = to_wei(100_000)
AMPLE_FEE = to_wei(10_000_000)  # 4,000,000 CMP of fees: caps far above any pool here


def deploy_distributor(project, token, credits, admin, reporter, base=BASE, decay=50):
    dist = project.RewardsDistributor.deploy(admin, token, credits, DAY, to_wei(200_000_000), base, decay, sender=admin)
    token.grantRole(token.MINTER_ROLE(), dist, sender=admin)
    for role in ("MARKET_ROLE", "RESOLVER_ROLE"):
        dist.grantRole(getattr(dist, role)(), reporter, sender=admin)
    return dist


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


EU = b"eu-west".ljust(32, b"\0")


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
