"""ComputeCredits: pause, roles and governance parameters."""

from __future__ import annotations

import ape
import pytest
from utils.compute_credits import fresh_price
from utils.helpers import assert_bounded_setter

from compute_market.units import DAY, HOUR, to_wei


def test_pause_stops_minting_but_never_redemption(credits, feed, admin, minter, stranger):
    fresh_price(feed, admin, "2.50")
    credits.mintWithTokens(to_wei(10), 0, minter, sender=minter)
    with ape.reverts(credits.AccessControlUnauthorizedAccount):
        credits.pause(sender=stranger)
    credits.pause(sender=admin)
    with ape.reverts(credits.EnforcedPause):
        credits.mintWithTokens(to_wei(1), 0, minter, sender=minter)
    credits.redeem(to_wei(10), 0, minter, sender=minter)
    credits.unpause(sender=admin)
    credits.mintWithTokens(to_wei(1), 0, minter, sender=minter)


@pytest.mark.parametrize(
    ("setter", "value", "lo", "hi"),
    [
        ("setMintSpreadBps", 1_001, 0, 1_000),
        ("setRedeemSpreadBps", 1_001, 0, 1_000),
        ("setMaxPriceJumpBps", 99, 100, 10_000),
        ("setMaxPriceAge", 59, 60, 2 * DAY),
        ("setEpochLength", 30 * DAY + 1, HOUR, 30 * DAY),
    ],
)
def test_setters_check_bounds_and_roles(credits, admin, stranger, setter, value, lo, hi):
    assert_bounded_setter(credits, setter, value, lo, hi, lo, admin, stranger)


def test_spread_changes_apply_to_the_next_mint(credits, feed, admin, minter):
    fresh_price(feed, admin, "2.50")
    credits.setMintSpreadBps(0, sender=admin)
    credits.mintWithTokens(to_wei(100), 0, minter, sender=minter)
    assert credits.balanceOf(minter) == to_wei(250)


def test_only_admin_allow_lists_or_changes_the_feed(credits, stranger, feed):
    with ape.reverts(credits.AccessControlUnauthorizedAccount):
        credits.setProtocolContract(stranger, True, sender=stranger)
    with ape.reverts(credits.AccessControlUnauthorizedAccount):
        credits.setPriceFeed(feed, sender=stranger)
