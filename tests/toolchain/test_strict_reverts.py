"""`ape.reverts(Error)` is strict in this suite (tests/utils/strict_reverts.py): the revert must be that
error, with the inputs given, also when ape could not decode it (a view call's revert, another
contract's error bubbling up) and when the error class comes from a contract type."""

from __future__ import annotations

import ape
import pytest

from compute_market.units import DAY


@pytest.fixture
def stale(chain, credits):
    """The oracle's answer 10 days old: `creditsToTokens` (a view) reverts `StalePrice`."""
    chain.pending_timestamp += 10 * DAY
    chain.mine()
    return credits


def test_a_view_calls_revert_must_be_the_expected_error(stale, market):
    with ape.reverts(stale.StalePrice):  # the right error passes
        stale.creditsToTokens(10**18)
    with pytest.raises(AssertionError, match="Expected error 'WrongStatus'"), ape.reverts(market.WrongStatus):
        stale.creditsToTokens(10**18)  # ape alone lets this pass


def test_an_undecoded_errors_inputs_are_compared(feed):
    """`NoDataPresent(999999)` from a view: the right input passes, a wrong or unknown one fails."""
    with ape.reverts(feed.NoDataPresent, roundId=999_999):
        feed.getRoundData(999_999)
    with pytest.raises(AssertionError, match="roundId"), ape.reverts(feed.NoDataPresent, roundId=1):
        feed.getRoundData(999_999)
    with pytest.raises(AssertionError, match="no inputs named"), ape.reverts(feed.NoDataPresent, round=999_999):
        feed.getRoundData(999_999)


def test_an_error_class_of_a_contract_type_is_checked(project, market, stranger):
    """`project.JobMarket.X` has no instance: ape compares nothing unless made strict."""
    with ape.reverts(project.JobMarket.NoFeesAccrued):
        market.withdrawFees(sender=stranger)
    with pytest.raises(AssertionError, match="but was 'NoFeesAccrued'"), ape.reverts(project.JobMarket.WrongStatus):
        market.withdrawFees(sender=stranger)
