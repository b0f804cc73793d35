// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title SortitionTree
/// @notice Stake-weighted random selection in O(log n): a Fenwick (binary indexed) tree over
///         member slots 1..CAPACITY holding each member's weight. Updating a weight touches at
///         most log2(CAPACITY) = 12 nodes; finding the member that owns a point of the cumulative
///         weight reads 12 nodes, whatever the number of members.
library SortitionTree {
    /// @notice Number of member slots (4,096).
    uint256 internal constant CAPACITY = 4096;
    uint256 private constant LOG_CAPACITY = 12;

    struct Tree {
        uint256 total;
        mapping(uint256 => uint256) nodes;
    }

    /// @notice The slot is outside 1..CAPACITY.
    error SlotOutOfRange(uint256 slot);
    /// @notice The point is not below the total weight.
    error PointOutOfRange(uint256 point, uint256 total);

    /// @dev Adds `delta` to the weight of `slot`.
    function add(Tree storage t, uint256 slot, uint256 delta) internal {
        if (slot == 0 || slot > CAPACITY) revert SlotOutOfRange(slot);
        t.total += delta;
        for (uint256 i = slot; i <= CAPACITY; i += i & (~i + 1)) {
            t.nodes[i] += delta;
        }
    }

    /// @dev Removes `delta` from the weight of `slot` (which must hold at least `delta`).
    function sub(Tree storage t, uint256 slot, uint256 delta) internal {
        if (slot == 0 || slot > CAPACITY) revert SlotOutOfRange(slot);
        t.total -= delta;
        for (uint256 i = slot; i <= CAPACITY; i += i & (~i + 1)) {
            t.nodes[i] -= delta;
        }
    }

    /// @dev The slot whose weight interval contains `point`, i.e. the smallest slot whose
    ///      prefix sum exceeds `point`, for `point < total` (binary lifting over the tree).
    function find(Tree storage t, uint256 point) internal view returns (uint256 slot) {
        if (point >= t.total) revert PointOutOfRange(point, t.total);
        uint256 remaining = point;
        for (uint256 step = 1 << LOG_CAPACITY; step != 0; step >>= 1) {
            uint256 next = slot + step;
            if (next <= CAPACITY) {
                uint256 w = t.nodes[next];
                if (w <= remaining) {
                    slot = next;
                    remaining -= w;
                }
            }
        }
        return slot + 1;
    }

    /// @dev Like `find`, over the tree without the weights of the first `n` slots of `excluded`
    ///      (ascending, distinct, nonzero): `point` must be below the total less their weights.
    ///      Each excluded slot costs two prefix sums, so a heavy staker is excluded exactly and
    ///      cannot crowd others out of a draw it must not win, whatever its weight.
    function findExcluding(Tree storage t, uint256 point, uint256[] memory excluded, uint256 n)
        internal
        view
        returns (uint256)
    {
        uint256[] memory starts = new uint256[](n);
        uint256[] memory weights = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            starts[i] = prefix(t, excluded[i] - 1);
            weights[i] = prefix(t, excluded[i]) - starts[i];
        }
        return findSkipping(t, point, starts, weights, n);
    }

    /// @dev Like `find`, skipping the first `n` weight intervals `[starts[i], starts[i] + weights[i])`
    ///      (ascending starts, as the prefix sums of excluded slots give them): callers that draw
    ///      several times over one unchanged tree compute each interval once.
    function findSkipping(
        Tree storage t,
        uint256 point,
        uint256[] memory starts,
        uint256[] memory weights,
        uint256 n
    ) internal view returns (uint256) {
        for (uint256 i; i < n; ++i) {
            if (point < starts[i]) break; // later intervals start even further right
            point += weights[i];
        }
        return find(t, point);
    }

    /// @dev Weight of `slot` alone.
    function weightOf(Tree storage t, uint256 slot) internal view returns (uint256) {
        if (slot == 0) return 0;
        return prefix(t, slot) - prefix(t, slot - 1);
    }

    /// @dev Sum of the weights of slots 1..slot.
    function prefix(Tree storage t, uint256 slot) internal view returns (uint256 sum) {
        for (uint256 i = slot; i != 0; i -= i & (~i + 1)) {
            sum += t.nodes[i];
        }
    }
}
