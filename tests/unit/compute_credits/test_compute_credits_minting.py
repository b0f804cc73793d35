"""ComputeCredits: minting and redeeming at the oracle's price (SPEC §2, with numbers): staleness,
jumps, slippage, the redemption cap."""

from __future__ import annotations

from decimal import Decimal

import ape
import pytest
from utils.compute_credits import fresh_price

from compute_market.units import DAY, HOUR, to_wei, usd_to_feed

PRICE = usd_to_feed(Decimal("2.50"))


def test_burning_100_cmp_at_2_50_mints_250_crd_less_the_spread(credits, token, feed, admin, minter):
    fresh_price(feed, admin, "2.50")
    supply_before = token.totalSupply()
    tx = credits.mintWithTokens(to_wei(100), 0, minter, sender=minter)
    # 100 CMP * 2.50 USD = 250 CRD, less the 0.5% mint spread = 248.75 CRD.
    assert credits.balanceOf(minter) == to_wei(Decimal("248.75"))
    assert token.totalSupply() == supply_before - to_wei(100)
    event = tx.events.filter(credits.CreditsMinted)[0]
    assert (event.payer, event.to) == (minter.address, minter.address)
    assert (event.tokensBurned, event.credits, event.price) == (to_wei(100), to_wei("248.75"), PRICE)


def test_redeeming_100_crd_at_2_50_mints_40_cmp_less_the_spread(credits, token, feed, admin, minter, bob):
    fresh_price(feed, admin, "2.50")
    credits.mintWithTokens(to_wei(1_000), 0, minter, sender=minter)
    tx = credits.redeem(to_wei(100), 0, bob, sender=minter)
    # 100 CRD / 2.50 = 40 CMP, less the 1% redeem spread = 39.6 CMP.
    assert token.balanceOf(bob) == to_wei(Decimal("39.6"))
    assert credits.balanceOf(minter) == to_wei(2_487.5) - to_wei(100)
    event = tx.events.filter(credits.CreditsRedeemed)[0]
    assert (event.credits, event.tokensMinted, event.price) == (to_wei(100), to_wei("39.6"), PRICE)


def test_a_two_hour_old_price_reverts_stale(credits, feed, admin, minter, chain):
    fresh_price(feed, admin, "2.50")
    chain.pending_timestamp += 2 * HOUR
    with ape.reverts(credits.StalePrice):
        credits.mintWithTokens(to_wei(1), 0, minter, sender=minter)
    with ape.reverts(credits.StalePrice):
        credits.redeem(1, 0, minter, sender=minter)


def test_a_price_from_the_future_reverts_stale(credits, feed, admin, minter, chain):
    feed.setRoundData(feed.latestRound() + 1, PRICE, chain.pending_timestamp + HOUR, sender=admin)
    with ape.reverts(credits.StalePrice):
        credits.mintWithTokens(to_wei(1), 0, minter, sender=minter)


@pytest.mark.parametrize("answer", [0, -1])
def test_a_non_positive_price_reverts(credits, feed, admin, minter, answer):
    feed.setAnswer(answer, sender=admin)
    with ape.reverts(credits.NonPositivePrice, answer=answer):
        credits.mintWithTokens(to_wei(1), 0, minter, sender=minter)


def test_a_25_percent_jump_within_max_age_reverts(credits, feed, admin, minter, chain):
    fresh_price(feed, admin, "2.50")
    credits.mintWithTokens(to_wei(1), 0, minter, sender=minter)  # accepts 2.50
    chain.pending_timestamp += 10 * 60
    fresh_price(feed, admin, "3.125")  # +25%
    with ape.reverts(credits.PriceJumpTooLarge, lastPrice=PRICE, newPrice=usd_to_feed("3.125")):
        credits.mintWithTokens(to_wei(1), 0, minter, sender=minter)
    fresh_price(feed, admin, "1.875")  # -25%
    with ape.reverts(credits.PriceJumpTooLarge):
        credits.mintWithTokens(to_wei(1), 0, minter, sender=minter)
    fresh_price(feed, admin, "3.00")  # +20% is within the bound
    credits.mintWithTokens(to_wei(1), 0, minter, sender=minter)
    assert credits.lastPrice() == usd_to_feed("3.00")


def test_a_large_move_is_accepted_once_the_anchor_is_max_age_old(credits, feed, admin, minter, chain):
    fresh_price(feed, admin, "2.50")
    credits.mintWithTokens(to_wei(1), 0, minter, sender=minter)
    chain.pending_timestamp += HOUR + 1
    fresh_price(feed, admin, "3.50")  # +40%, but the last accepted answer is over an hour old
    credits.mintWithTokens(to_wei(1), 0, minter, sender=minter)
    assert credits.lastPrice() == usd_to_feed("3.50")


def test_min_credits_out_protects_against_a_price_drop(credits, feed, admin, minter):
    fresh_price(feed, admin, "2.50")
    quoted = credits.previewMint(to_wei(100))
    assert quoted == to_wei("248.75")
    fresh_price(feed, admin, "2.40")  # lands before the user's transaction
    with ape.reverts(credits.SlippageExceeded, out=to_wei("238.8"), minOut=quoted):
        credits.mintWithTokens(to_wei(100), quoted, minter, sender=minter)


def test_min_tokens_out_protects_redemptions(credits, feed, admin, minter):
    fresh_price(feed, admin, "2.50")
    credits.mintWithTokens(to_wei(100), 0, minter, sender=minter)
    quoted = credits.previewRedeem(to_wei(100))
    fresh_price(feed, admin, "2.60")
    with ape.reverts(credits.SlippageExceeded):
        credits.redeem(to_wei(100), quoted, minter, sender=minter)


def test_redemption_cap_holds_within_an_epoch_and_resets_across_the_boundary(
    credits, token, feed, admin, minter, chain
):
    credits.setRedeemCapPerEpoch(to_wei(50), sender=admin)
    # Start just after an epoch boundary so the whole test sits in known epochs.
    now = chain.pending_timestamp
    chain.pending_timestamp = (now // DAY + 1) * DAY + 60
    fresh_price(feed, admin, "2.50")
    credits.mintWithTokens(to_wei(1_000), 0, minter, sender=minter)
    credits.redeem(to_wei(100), 0, minter, sender=minter)  # 39.6 CMP
    assert credits.redeemableThisEpoch() == to_wei("10.4")
    with ape.reverts(credits.RedeemCapExceeded, requested=to_wei("39.6"), remaining=to_wei("10.4")):
        credits.redeem(to_wei(100), 0, minter, sender=minter)
    chain.pending_timestamp += DAY  # next epoch
    fresh_price(feed, admin, "2.50")
    credits.redeem(to_wei(100), 0, minter, sender=minter)
    assert credits.redeemableThisEpoch() == to_wei("10.4")
    credits.setRedeemCapPerEpoch(to_wei(20), sender=admin)  # below what this epoch already used
    assert credits.redeemableThisEpoch() == 0
    with ape.reverts(credits.RedeemCapExceeded, requested=to_wei("3.96"), remaining=0):
        credits.redeem(to_wei(10), 0, minter, sender=minter)
    chain.pending_timestamp += DAY
    chain.mine()
    assert credits.redeemableThisEpoch() == to_wei(20)  # a new epoch starts from nothing used


def test_zero_amounts_and_zero_recipients_revert(credits, feed, admin, minter):
    fresh_price(feed, admin, "2.50")
    with ape.reverts(credits.ZeroAmount):
        credits.mintWithTokens(0, 0, minter, sender=minter)
    with ape.reverts(credits.ZeroAddress):
        credits.mintWithTokens(1, 0, "0x0000000000000000000000000000000000000000", sender=minter)
    with ape.reverts(credits.ZeroAmount):
        credits.redeem(0, 0, minter, sender=minter)
    with ape.reverts(credits.ZeroAddress):
        credits.redeem(1, 0, "0x0000000000000000000000000000000000000000", sender=minter)
    with ape.reverts(credits.ZeroAddress):
        credits.setProtocolContract("0x0000000000000000000000000000000000000000", True, sender=admin)
    with ape.reverts(credits.ZeroAddress):
        credits.setPriceFeed("0x0000000000000000000000000000000000000000", sender=admin)
