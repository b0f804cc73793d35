// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Vm} from "./Vm.sol";

/// @title Base
/// @notice What the handlers and the tests share: the cheatcode handle, `_bound`, `_min` and `_max`.
abstract contract Base {
    /// @dev The cheatcode address (`keccak256("hevm cheat code")`, last 20 bytes).
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    /// @dev `x` mapped into `[min, max]`: unchanged when already inside, else wrapped around.
    ///      Like forge-std's `bound`, so that fuzzed inputs mostly make a call that does something.
    function _bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        if (x >= min && x <= max) return x;
        uint256 size = max - min;
        if (size == type(uint256).max) return x;
        return min + x % (size + 1);
    }

    /// @dev The smaller of `a` and `b`.
    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }

    /// @dev The larger of `a` and `b`.
    function _max(uint256 a, uint256 b) internal pure returns (uint256) {
        return a > b ? a : b;
    }
}
