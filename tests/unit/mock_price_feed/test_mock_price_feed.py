"""MockPriceFeed: Chainlink's shape, 8 decimals, owner-only writes."""

from __future__ import annotations

import ape


def test_answers_have_chainlink_shape_and_8_decimals(feed, admin, chain):
    assert feed.decimals() == 8
    assert feed.description() == "CMP / USD"
    feed.setAnswer(123_000_000, sender=admin)
    round_id, answer, started, updated, answered_in = feed.latestRoundData()
    assert answer == 123_000_000
    assert answered_in == round_id
    assert started == updated == chain.blocks.head.timestamp
    assert feed.getRoundData(round_id)[1] == 123_000_000


def test_round_data_can_be_set_and_unknown_rounds_revert(feed, admin):
    feed.setRoundData(1_000, 5, 42, sender=admin)
    assert feed.latestRoundData()[:4] == (1_000, 5, 42, 42)
    with ape.reverts(feed.NoDataPresent, roundId=999_999):
        feed.getRoundData(999_999)


def test_only_the_owner_writes(feed, stranger):
    with ape.reverts(feed.OwnableUnauthorizedAccount):
        feed.setAnswer(1, sender=stranger)
