"""ComputeCredits: no oracle arbitrage.

The rule (SPEC §2, "no oracle arbitrage"): the contract keeps the last two accepted answers;
a mint uses the LOWER of them, a redemption the HIGHER, and with only one answer accepted from
the current feed both use it. The helpers below are that rule and the contract's rounding
(mulDiv rounds down), written once so that every expected amount is computed, not copied."""

from __future__ import annotations

import ape
import pytest
from utils.compute_credits import fresh_price

from compute_market.units import to_wei, usd_to_feed

BPS = 10_000
FEED_UNIT = 10**8
MINT_SPREAD_BPS = 50
REDEEM_SPREAD_BPS = 100


def credits_for(tokens: int, mint_price: int) -> int:
    """Credits a mint of `tokens` CMP gives at `mint_price` (8 decimals), after the 0.5% spread."""
    return tokens * mint_price * (BPS - MINT_SPREAD_BPS) // (FEED_UNIT * BPS)


def tokens_for(credit_amount: int, redeem_price: int) -> int:
    """CMP a redemption of `credit_amount` gives at `redeem_price`, after the 1% spread."""
    return credit_amount * FEED_UNIT * (BPS - REDEEM_SPREAD_BPS) // (redeem_price * BPS)


def rule_prices(accepted: list[int]) -> tuple[int, int]:
    """(mint price, redemption price) after the answers `accepted`, oldest first."""
    last_two = accepted[-2:]
    return min(last_two), max(last_two)


def accept(credits, feed, admin, minter, chain, usd: str) -> None:
    """Ten minutes on, the oracle answers `usd` and a 1-CMP mint (to a bystander) accepts it."""
    chain.pending_timestamp += 10 * 60
    fresh_price(feed, admin, usd)
    tx = credits.mintWithTokens(to_wei(1), 0, "0x000000000000000000000000000000000000dEaD", sender=minter)
    assert tx.events.filter(credits.PriceAccepted)[0].price == usd_to_feed(usd)


@pytest.mark.parametrize(
    ("history", "move"),
    [
        pytest.param(["2.50", "2.50"], "2.00", id="steady then -20%"),
        pytest.param(["2.50", "2.50"], "2.00025", id="steady then -19.99%"),
        pytest.param(["2.50", "2.00"], "1.60", id="-20% then -20%"),
        pytest.param(["2.50", "3.00"], "3.60", id="+20% then +20%"),
        pytest.param(["2.50", "3.00"], "2.40", id="+20% then -20%"),
    ],
)
def test_a_mint_then_redeem_around_an_accepted_update_returns_less_cmp_than_it_burned(
    credits, token, feed, admin, minter, chain, bob, history, move
):
    """100 CMP minted after the accepted answers `history`, the oracle then moves by the full
    `maxPriceJumpBps` (or just inside it) and is accepted, and all the credits are redeemed.

    | history     | move    | mint price | credits | redeem price | CMP back | old code (one price) |
    | 2.50, 2.50  | 2.00    | 2.50       | 248.75  | 2.50         | 98.505   | 123.13125 (+23%)     |
    | 2.50, 2.50  | 2.00025 | 2.50       | 248.75  | 2.50         | 98.505   | 123.1158... (+23%)   |
    | 2.50, 2.00  | 1.60    | 2.00       | 199     | 2.00         | 98.505   | 123.13125 (+23%)     |
    | 2.50, 3.00  | 3.60    | 2.50       | 248.75  | 3.60         | 68.40625 | 82.0875              |
    | 2.50, 3.00  | 2.40    | 2.50       | 248.75  | 3.00         | 82.0875  | 123.13125 (+23%)     |

    Whatever the move, the CMP back is at most 100 * 0.995 * 0.99 = 98.505: the mint's price is
    still one of the last two accepted answers after the update, so the redemption's is at least
    as high."""
    for usd in history:
        accept(credits, feed, admin, minter, chain, usd)
    accepted = [usd_to_feed(usd) for usd in history]
    mint_price, _ = rule_prices(accepted)

    burned = to_wei(100)
    tx = credits.mintWithTokens(burned, 0, minter, sender=minter)
    minted = credits_for(burned, mint_price)
    event = tx.events.filter(credits.CreditsMinted)[0]
    assert (event.credits, event.price) == (minted, mint_price)

    chain.pending_timestamp += 10 * 60
    fresh_price(feed, admin, move)
    accepted.append(usd_to_feed(move))
    _, redeem_price = rule_prices(accepted)
    cmp_before = token.balanceOf(bob)
    tx = credits.redeem(minted, 0, bob, sender=minter)
    back = tokens_for(minted, redeem_price)
    event = tx.events.filter(credits.CreditsRedeemed)[0]
    assert (event.credits, event.tokensMinted, event.price) == (minted, back, redeem_price)
    assert tx.events.filter(credits.PriceAccepted)[0].price == usd_to_feed(move)
    assert token.balanceOf(bob) - cmp_before == back
    assert back < burned
    assert back <= to_wei("98.505")
    assert (credits.lastPrice(), credits.prevPrice()) == (accepted[-1], accepted[-2])


@pytest.mark.parametrize(
    ("history", "expected_back"),
    [
        pytest.param(["2.50"], "98.505", id="one answer"),
        pytest.param(["2.50", "2.50"], "98.505", id="steady"),
        pytest.param(["2.50", "2.00"], "78.804", id="after -20%"),
        pytest.param(["2.50", "3.00"], "82.0875", id="after +20%"),
    ],
)
def test_a_round_trip_with_no_update_loses_the_two_spreads_and_the_last_move(
    credits, token, feed, admin, minter, chain, bob, history, expected_back
):
    """100 CMP minted and redeemed at once, with no oracle update between.

    With one accepted answer, or a steady price, exactly the two spreads go: 100 * 2.50 *
    0.995 = 248.75 CRD, back 248.75 / 2.50 * 0.99 = 98.505 CMP. Until the next accepted answer
    after a move, the round trip also pays the move: after 2.50 → 2.00, 100 * 2.00 * 0.995 =
    199 CRD, back 199 / 2.50 * 0.99 = 78.804 CMP; after 2.50 → 3.00, 248.75 CRD back at 3.00 is
    82.0875 CMP."""
    for usd in history:
        accept(credits, feed, admin, minter, chain, usd)
    mint_price, redeem_price = rule_prices([usd_to_feed(usd) for usd in history])
    minted = credits.mintWithTokens(to_wei(100), 0, minter, sender=minter).return_value
    assert minted == credits_for(to_wei(100), mint_price)
    cmp_before = token.balanceOf(bob)
    tx = credits.redeem(minted, 0, bob, sender=minter)
    assert not tx.events.filter(credits.PriceAccepted)
    back = token.balanceOf(bob) - cmp_before
    assert back == tokens_for(minted, redeem_price) == to_wei(expected_back)


def test_previews_and_conversions_equal_what_the_next_call_does(credits, token, feed, admin, minter, chain):
    """After 2.50 → 3.00 and a pending answer of 3.30 (not yet accepted), the views count 3.30 as
    accepted: mints at min(3.00, 3.30) = 3.00, 100 CMP → 298.5 CRD; redemptions at
    max(3.00, 3.30) = 3.30, 100 CRD → 30 CMP. The mint accepts 3.30 and the pair (3.00, 3.30)
    stands, so the same quotes hold for the calls after it."""
    accept(credits, feed, admin, minter, chain, "2.50")
    accept(credits, feed, admin, minter, chain, "3.00")
    chain.pending_timestamp += 10 * 60
    fresh_price(feed, admin, "3.30")
    mint_price, redeem_price = usd_to_feed("3.00"), usd_to_feed("3.30")
    assert credits.currentPrice() == usd_to_feed("3.30")
    assert credits.tokensToCredits(to_wei(100)) == to_wei(300)
    assert credits.creditsToTokens(to_wei(33)) == to_wei(10)
    quoted_mint = credits.previewMint(to_wei(100))
    quoted_redeem = credits.previewRedeem(to_wei(100))
    assert quoted_mint == credits_for(to_wei(100), mint_price) == to_wei("298.5")
    assert quoted_redeem == tokens_for(to_wei(100), redeem_price) == to_wei(30)

    tx = credits.mintWithTokens(to_wei(100), quoted_mint, minter, sender=minter)
    assert tx.return_value == quoted_mint
    assert tx.events.filter(credits.PriceAccepted)[0].price == usd_to_feed("3.30")
    assert (credits.lastPrice(), credits.prevPrice()) == (usd_to_feed("3.30"), usd_to_feed("3.00"))
    assert credits.previewMint(to_wei(100)) == quoted_mint
    assert credits.previewRedeem(to_wei(100)) == quoted_redeem
    tx = credits.redeem(to_wei(100), quoted_redeem, minter, sender=minter)
    assert tx.return_value == quoted_redeem
    assert tx.events.filter(credits.CreditsRedeemed)[0].price == redeem_price
    tx = credits.mintWithTokens(to_wei(100), 0, minter, sender=minter)
    assert (tx.return_value, tx.events.filter(credits.CreditsMinted)[0].price) == (quoted_mint, mint_price)


def test_set_price_feed_forgets_the_previous_answer_too(project, credits, token, feed, admin, minter, chain, bob):
    """After 2.50 → 2.00 the pair is (2.50, 2.00): 100 CRD redeem at 2.50 into 39.6 CMP. A new
    feed answering 2.00 forgets both: its first answer alone prices both ways (100 CRD → 49.5
    CMP, 100 CMP → 199 CRD), and its next answer pairs with it."""
    accept(credits, feed, admin, minter, chain, "2.50")
    accept(credits, feed, admin, minter, chain, "2.00")
    assert (credits.lastPrice(), credits.prevPrice()) == (usd_to_feed("2.00"), usd_to_feed("2.50"))
    assert credits.previewRedeem(to_wei(100)) == to_wei("39.6")

    new_feed = project.MockPriceFeed.deploy(admin, usd_to_feed("2.00"), sender=admin)
    credits.setPriceFeed(new_feed, sender=admin)
    assert (credits.lastPrice(), credits.prevPrice(), credits.lastPriceUpdatedAt()) == (0, 0, 0)
    assert credits.previewRedeem(to_wei(100)) == to_wei("49.5")
    assert credits.previewMint(to_wei(100)) == to_wei(199)
    minted = credits.mintWithTokens(to_wei(100), 0, minter, sender=minter).return_value
    assert (credits.lastPrice(), credits.prevPrice()) == (usd_to_feed("2.00"), 0)
    before = token.balanceOf(bob)
    credits.redeem(minted, 0, bob, sender=minter)
    assert token.balanceOf(bob) - before == to_wei("98.505")  # 199 / 2.00 * 0.99: the two spreads

    chain.pending_timestamp += 10 * 60
    new_feed.setAnswer(usd_to_feed("2.20"), sender=admin)
    credits.mintWithTokens(to_wei(1), 0, minter, sender=minter)
    assert (credits.lastPrice(), credits.prevPrice()) == (usd_to_feed("2.20"), usd_to_feed("2.00"))


def test_an_answer_above_uint96_reverts_safecast(credits, feed, admin, minter):
    """Accepted answers are stored as uint96 (three to a slot); a larger one cannot be stored."""
    feed.setAnswer(2**96, sender=admin)
    with ape.reverts(credits.SafeCastOverflowedUintDowncast, bits=96, value=2**96):
        credits.mintWithTokens(to_wei(1), 0, minter, sender=minter)


def test_a_second_answer_within_the_same_second_is_accepted_and_an_older_one_never_prices(
    credits, feed, admin, minter, chain
):
    """2.50 accepted at T; the feed answers 2.40 also at T (a feed updated twice in one second):
    the next call accepts it, so the pair is (2.50, 2.40). An answer dated before T (2.30) is
    checked but not accepted, and the quotes stay on the accepted pair: 100 CMP → 238.8 CRD
    (2.40 * 0.995 * 100), 100 CRD → 39.6 CMP (100 / 2.50 * 0.99)."""
    accept(credits, feed, admin, minter, chain, "2.50")
    at = credits.lastPriceUpdatedAt()
    feed.setRoundData(feed.latestRound() + 1, usd_to_feed("2.40"), at, sender=admin)
    tx = credits.mintWithTokens(to_wei(1), 0, minter, sender=minter)
    assert tx.events.filter(credits.PriceAccepted)[0].price == usd_to_feed("2.40")
    assert (credits.lastPrice(), credits.prevPrice(), credits.lastPriceUpdatedAt()) == (
        usd_to_feed("2.40"),
        usd_to_feed("2.50"),
        at,
    )
    feed.setRoundData(feed.latestRound() + 1, usd_to_feed("2.30"), at - 1, sender=admin)
    assert credits.currentPrice() == usd_to_feed("2.30")  # passes the checks
    assert credits.previewMint(to_wei(100)) == to_wei("238.8")
    assert credits.previewRedeem(to_wei(100)) == to_wei("39.6")
    tx = credits.mintWithTokens(to_wei(100), 0, minter, sender=minter)
    assert not tx.events.filter(credits.PriceAccepted)
    assert tx.events.filter(credits.CreditsMinted)[0].credits == to_wei("238.8")
    assert credits.lastPrice() == usd_to_feed("2.40")
