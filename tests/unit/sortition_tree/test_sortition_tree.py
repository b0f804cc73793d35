"""SortitionTree: exact weighted lookup, exclusions, and O(log n) draws."""

from __future__ import annotations

import random
from itertools import accumulate

import ape
import pytest


@pytest.fixture
def tree(project, admin):
    return project.SortitionTreeHarness.deploy(sender=admin)


def reference_find(weights: list[int], point: int, excluded: set[int] = frozenset()) -> int:
    """The slot (1-based) owning `point` over the weights without the excluded slots."""
    kept = [(i + 1, w) for i, w in enumerate(weights) if (i + 1) not in excluded]
    for slot, end in zip([s for s, _ in kept], accumulate(w for _, w in kept), strict=True):
        if point < end:
            return slot
    raise AssertionError("point out of range")


def test_find_matches_a_linear_scan_at_every_boundary(tree, admin):
    weights = [5, 0, 3, 9, 1, 0, 0, 7]
    tree.addMany(weights, sender=admin)
    assert tree.total() == sum(weights)
    for point in range(sum(weights)):
        assert tree.find(point) == reference_find(weights, point)
    with ape.reverts(tree.PointOutOfRange):
        tree.find(sum(weights))


def test_find_excluding_skips_exactly_the_excluded_weights(tree, admin):
    """40 random weights; excluding 0 to 9 slots (the heaviest among them, neighbours, the ends)
    leaves every point mapped exactly as a linear scan over the remaining weights maps it."""
    rng = random.Random(7)
    weights = [rng.randint(0, 20) for _ in range(40)]
    weights[16] = 10_000  # a heavy member excluded exactly, not redrawn
    tree.addMany(weights, sender=admin)
    cases = [[], [17], [3, 17], [1, 40], [16, 17, 18], [1, 2, 3, 4, 5, 6, 7, 8, 9], [9, 20, 31, 39, 40]]
    for excluded in cases:
        remaining = sum(weights) - sum(weights[s - 1] for s in excluded)
        for point in [*rng.sample(range(remaining), 25), 0, remaining - 1]:
            assert tree.findExcluding(point, excluded) == reference_find(weights, point, set(excluded))


def test_updates_keep_weights_and_totals(tree, admin):
    tree.add(4, 10, sender=admin)
    tree.add(4, 5, sender=admin)
    tree.sub(4, 3, sender=admin)
    assert tree.weightOf(4) == 12 and tree.total() == 12
    with ape.reverts(tree.SlotOutOfRange, slot=0):
        tree.add(0, 1, sender=admin)
    with ape.reverts(tree.SlotOutOfRange, slot=4097):
        tree.add(4097, 1, sender=admin)


def test_draw_gas_does_not_grow_with_the_number_of_members(tree, admin):
    """A draw reads one or two words on each of the tree's six levels, whatever the number of
    members: 1,000 members cost more than 10 only where the points fall in a node's third or
    fourth child (one more cold word read there, 2,100 gas, on at most six levels)."""
    tree.addMany([100] * 10, sender=admin)
    small = [tree.drawTx(seed, sender=admin).gas_used for seed in range(5)]
    for start in range(10, 1_000, 165):
        tree.addMany([0] * start + [100] * 165, sender=admin)  # slots up to 1,000 get weight
    large = [tree.drawTx(seed, sender=admin).gas_used for seed in range(5)]
    assert max(large) <= max(small) + 6 * 2_500, (small, large)
