"""SortitionTree edges through its harness: slots outside 1..4,096, removals larger than a slot's
weight, and exclusions whose interval starts at or before the point.

Numbers used throughout: slots 1, 2 and 3 weigh 10, 20 and 30 (total 60), so their intervals are
[0, 10), [10, 30) and [30, 60); the tree has 4,096 slots.
"""

from __future__ import annotations

import ape
import pytest

CAPACITY = 4_096
WEIGHTS = [10, 20, 30]


@pytest.fixture
def tree(project, admin):
    """A fresh harness holding slots 1..3 at 10, 20 and 30."""
    harness = project.SortitionTreeHarness.deploy(sender=admin)
    harness.addMany(WEIGHTS, sender=admin)
    return harness


@pytest.mark.parametrize("slot", [0, CAPACITY + 1, 2**256 - 1])
def test_sub_outside_the_slots_reverts_naming_the_slot(tree, admin, slot):
    """`sub` accepts only slots 1..4,096: slot 0, 4,097 and 2^256-1 revert SlotOutOfRange(slot)
    and the total stays 60."""
    with ape.reverts(tree.SlotOutOfRange, slot=slot):
        tree.sub(slot, 1, sender=admin)
    assert tree.total() == 60


def test_sub_at_the_last_slot_is_in_range(tree, admin):
    """Slot 4,096 is the last valid slot: 5 added then 5 removed leaves it at 0 and the total
    back at 60 (the range check's other side)."""
    tree.add(CAPACITY, 5, sender=admin)
    assert tree.weightOf(CAPACITY) == 5 and tree.total() == 65
    tree.sub(CAPACITY, 5, sender=admin)
    assert tree.weightOf(CAPACITY) == 0 and tree.total() == 60


def test_sub_of_more_than_the_slot_holds_reverts_with_its_weight(tree, admin):
    """Removing 15 from slot 1 (weight 10) while the total (60) covers it reverts
    InsufficientWeight(slot 1, weight 10, delta 15), and nothing changes; removing exactly 10
    empties the slot."""
    with ape.reverts(tree.InsufficientWeight, slot=1, weight=10, delta=15):
        tree.sub(1, 15, sender=admin)
    assert (tree.weightOf(1), tree.total()) == (10, 60)
    tree.sub(1, 10, sender=admin)
    assert (tree.weightOf(1), tree.total()) == (0, 50)


def test_sub_in_a_pair_odd_child_checks_its_own_half(tree, admin):
    """Slot 2 (weight 20) shares its leaf word with slot 1 (weight 10): removing 21 from it
    reverts InsufficientWeight(2, 20, 21) though the word's other half holds 10 more."""
    with ape.reverts(tree.InsufficientWeight, slot=2, weight=20, delta=21):
        tree.sub(2, 21, sender=admin)
    assert tree.weightOf(2) == 20


def test_find_excluding_skips_an_interval_that_starts_at_or_before_the_point(tree):
    """Excluding slot 1 ([0, 10)): point 0 is at the interval's start, so it moves past the 10
    and lands in slot 2; point 19 -> 29 is still slot 2, point 20 -> 30 is slot 3. Excluding slot
    2 ([10, 30)): point 9 is before it (slot 1), point 10 skips it to 30 (slot 3)."""
    assert [tree.findExcluding(p, [1]) for p in (0, 19, 20, 49)] == [2, 2, 3, 3]
    assert [tree.findExcluding(p, [2]) for p in (0, 9, 10, 39)] == [1, 1, 3, 3]
    assert [tree.findExcluding(p, [1, 2]) for p in (0, 29)] == [3, 3]
    with ape.reverts(tree.PointOutOfRange, point=60, total=60):
        tree.findExcluding(30, [1, 2])  # 30 + 10 + 20 is past the total


@pytest.mark.parametrize("slot", [0, CAPACITY + 1, 2**256 - 1])
def test_weight_of_a_slot_outside_the_range_is_zero(tree, slot):
    """Slots 0, 4,097 and 2^256-1 hold no weight: `weightOf` returns 0 (slot 0 would otherwise
    underflow computing its leaf position), while slot 1 weighs 10."""
    assert tree.weightOf(slot) == 0
    assert tree.weightOf(1) == 10


def test_excluding_a_slot_past_the_last_changes_nothing(tree):
    """An excluded slot 4,097 has no weight and its interval starts at the total (60): after
    slot 1 is skipped the points land as with slot 1 alone excluded (0 -> 2, 20 -> 3)."""
    for point in (0, 19, 20, 49):
        assert tree.findExcluding(point, [1, CAPACITY + 1]) == tree.findExcluding(point, [1])
    assert tree.findExcluding(59, [CAPACITY + 1]) == 3


def test_an_excluded_slot_past_the_last_starts_at_the_total(tree):
    """The prefix before slot 4,097 is the whole total (60), not 0: listed first (out of the
    ascending order `findExcluding` asks for), its interval starts after every point, so the scan
    stops there and slot 1 behind it is not skipped: point 5 stays in slot 1 (a prefix of 0 would
    skip slot 1's 10 and give slot 2)."""
    assert tree.findExcluding(5, [CAPACITY + 1, 1]) == 1
    assert tree.findExcluding(5, [1]) == 2
