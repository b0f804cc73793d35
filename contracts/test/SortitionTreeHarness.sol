// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {SortitionTree} from "../libraries/SortitionTree.sol";

/// @title SortitionTreeHarness
/// @notice Test-only wrapper exposing `SortitionTree` (never deployed by the deploy script).
contract SortitionTreeHarness {
    using SortitionTree for SortitionTree.Tree;

    SortitionTree.Tree private _tree;

    /// @notice A draw made by `drawTx`, so its gas can be read from a receipt.
    event Drawn(uint256 slot);

    /// @notice Adds `delta` to `slot`.
    function add(uint256 slot, uint256 delta) external {
        _tree.add(slot, delta);
    }

    /// @notice Adds weights to slots 1..weights.length in one call.
    function addMany(uint256[] calldata weights) external {
        for (uint256 i; i < weights.length; ++i) {
            _tree.add(i + 1, weights[i]);
        }
    }

    /// @notice Removes `delta` from `slot`.
    function sub(uint256 slot, uint256 delta) external {
        _tree.sub(slot, delta);
    }

    /// @notice The slot owning `point`.
    function find(uint256 point) external view returns (uint256) {
        return _tree.find(point);
    }

    /// @notice The slot owning `point` with the `excluded` slots (ascending) left out.
    function findExcluding(uint256 point, uint256[] calldata excluded) external view returns (uint256) {
        return _tree.findExcluding(point, excluded, excluded.length);
    }

    function drawTx(uint256 seed) external returns (uint256 slot) {
        slot = _tree.find(uint256(keccak256(abi.encode(seed))) % _tree.total);
        emit Drawn(slot);
    }

    /// @notice Total weight.
    function total() external view returns (uint256) {
        return _tree.total;
    }

    /// @notice Weight of one slot.
    function weightOf(uint256 slot) external view returns (uint256) {
        return _tree.weightOf(slot);
    }
}
