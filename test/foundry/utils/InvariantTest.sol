// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Base} from "./Base.sol";

/// @title InvariantTest
/// @notice The target lists Foundry's invariant fuzzer reads from a test contract (the functions
///         `targetContracts()` and `targetSelectors()`, found by name whatever the inheritance),
///         without forge-std's `StdInvariant`.
abstract contract InvariantTest is Base {
    /// @notice A contract and the functions of it the fuzzer may call (forge-std's layout).
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    address[] private _targetedContracts;
    FuzzSelector[] private _targetedSelectors;

    /// @dev Lets the fuzzer call `target` (any of its functions unless `_targetSelector` narrows them).
    function _targetContract(address target) internal {
        _targetedContracts.push(target);
    }

    /// @dev Narrows the fuzzer's calls on `target` to `selectors`.
    function _targetSelector(address target, bytes4[] memory selectors) internal {
        _targetedSelectors.push(FuzzSelector(target, selectors));
    }

    /// @notice The contracts the fuzzer calls (read by forge).
    function targetContracts() public view returns (address[] memory) {
        return _targetedContracts;
    }

    /// @notice The functions the fuzzer calls (read by forge).
    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _targetedSelectors;
    }
}
