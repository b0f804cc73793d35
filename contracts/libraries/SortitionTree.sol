// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title SortitionTree
/// @notice Stake-weighted random selection in O(log n): a sum tree of fanout 4 over member slots
///         1..CAPACITY. Each node keeps its four children's weights, two per storage word (128
///         bits each), so updating a weight writes one word on each of the 6 levels, and finding
///         the member that owns a point of the cumulative weight reads at most two words per
///         level, whatever the number of members. (A Fenwick tree, used before, writes up to 13
///         words per update: a verifier's stake change or slash cost about twice as much.)
/// @dev Leaf position p = slot − 1. At level l (0 = the nodes holding leaves, 5 = the root) the
///      node over p is `p >> 2(l+1)` and p lies under its child `(p >> 2l) & 3`. A node's children
///      0 and 1 share one word (child 0 in the low 128 bits), children 2 and 3 the next. Weights
///      must stay below 2^128 in total (the ledger's amounts are below 2^96).
library SortitionTree {
    /// @notice Number of member slots (4,096).
    uint256 internal constant CAPACITY = 4096;
    uint256 private constant LEVELS = 6; // 4^6 = CAPACITY
    uint256 private constant LOW = type(uint128).max;

    struct Tree {
        uint256 total;
        mapping(uint256 => uint256) nodes;
    }

    /// @notice The slot is outside 1..CAPACITY.
    error SlotOutOfRange(uint256 slot);
    /// @notice The point is not below the total weight.
    error PointOutOfRange(uint256 point, uint256 total);
    /// @notice A removal of more weight than the slot holds.
    error InsufficientWeight(uint256 slot, uint256 weight, uint256 delta);

    /// @dev Adds `delta` to the weight of `slot`.
    function add(Tree storage t, uint256 slot, uint256 delta) internal {
        if (slot == 0 || slot > CAPACITY) revert SlotOutOfRange(slot);
        t.total += delta;
        uint256 p = slot - 1;
        for (uint256 l; l < LEVELS; ++l) {
            uint256 child = (p >> (2 * l)) & 3;
            uint256 key = _key(l, p >> (2 * (l + 1)), child);
            // Both halves stay below 2^128: each is a sum of weights, all below the total.
            t.nodes[key] += child & 1 == 0 ? delta : delta << 128;
        }
    }

    /// @dev Removes `delta` from the weight of `slot` (which must hold at least `delta`).
    function sub(Tree storage t, uint256 slot, uint256 delta) internal {
        if (slot == 0 || slot > CAPACITY) revert SlotOutOfRange(slot);
        t.total -= delta;
        uint256 p = slot - 1;
        for (uint256 l; l < LEVELS; ++l) {
            uint256 child = (p >> (2 * l)) & 3;
            uint256 key = _key(l, p >> (2 * (l + 1)), child);
            uint256 word = t.nodes[key];
            uint256 half = child & 1 == 0 ? word & LOW : word >> 128;
            if (half < delta) revert InsufficientWeight(slot, half, delta); // (only on the leaf's level)
            t.nodes[key] = word - (child & 1 == 0 ? delta : delta << 128);
        }
    }

    /// @dev The slot whose weight interval contains `point`, i.e. the smallest slot whose
    ///      prefix sum exceeds `point`, for `point < total` (descending from the root).
    function find(Tree storage t, uint256 point) internal view returns (uint256) {
        if (point >= t.total) revert PointOutOfRange(point, t.total);
        uint256 node;
        for (uint256 l = LEVELS; l != 0;) {
            --l;
            uint256 word = t.nodes[_key(l, node, 0)];
            uint256 child;
            uint256 w = word & LOW;
            if (point >= w) {
                point -= w;
                child = 1;
                w = word >> 128;
                if (point >= w) {
                    point -= w;
                    child = 2;
                    word = t.nodes[_key(l, node, 2)];
                    w = word & LOW;
                    if (point >= w) {
                        point -= w;
                        child = 3;
                    }
                }
            }
            node = node * 4 + child;
        }
        return node + 1;
    }

    /// @dev Like `find`, over the tree without the weights of the first `n` slots of `excluded`
    ///      (ascending, distinct, nonzero): `point` must be below the total less their weights.
    function findExcluding(Tree storage t, uint256 point, uint256[] memory excluded, uint256 n)
        internal
        view
        returns (uint256)
    {
        uint256[] memory starts = new uint256[](n);
        uint256[] memory weights = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            starts[i] = prefix(t, excluded[i] - 1);
            weights[i] = weightOf(t, excluded[i]);
        }
        return findSkipping(t, point, starts, weights, n);
    }

    /// @dev Like `find`, skipping the first `n` weight intervals `[starts[i], starts[i] + weights[i])`
    ///      (ascending starts, as the prefix sums of excluded slots give them): callers that draw
    ///      several times over one unchanged tree compute each interval once, and a heavy staker
    ///      is excluded exactly, whatever its weight.
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

    /// @dev Weight of `slot` alone (one word read).
    function weightOf(Tree storage t, uint256 slot) internal view returns (uint256) {
        if (slot == 0 || slot > CAPACITY) return 0;
        uint256 p = slot - 1;
        uint256 child = p & 3;
        uint256 word = t.nodes[_key(0, p >> 2, child)];
        return child & 1 == 0 ? word & LOW : word >> 128;
    }

    /// @dev Sum of the weights of slots 1..slot.
    function prefix(Tree storage t, uint256 slot) internal view returns (uint256 sum) {
        if (slot >= CAPACITY) return t.total;
        // Leaves at positions 0..slot-1: on each level, the children left of the path.
        for (uint256 l; l < LEVELS; ++l) {
            uint256 child = (slot >> (2 * l)) & 3;
            if (child == 0) continue;
            uint256 node = slot >> (2 * (l + 1));
            uint256 word = t.nodes[_key(l, node, 0)];
            sum += word & LOW;
            if (child >= 2) sum += word >> 128;
            if (child == 3) sum += t.nodes[_key(l, node, 2)] & LOW;
        }
    }

    /// @dev The storage word of level `l`, node `node`, holding child `child` (and its pair).
    function _key(uint256 l, uint256 node, uint256 child) private pure returns (uint256) {
        return (l << 32) | (node << 1) | (child >> 1);
    }
}
