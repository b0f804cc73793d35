// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

/// @title Governed
/// @notice Shared governance plumbing of the protocol's contracts: OpenZeppelin roles, a pause
///         switch held by `PAUSER_ROLE`, and a bounds-checked parameter setter that emits
///         `ParameterUpdated` for every change.
/// @dev `DEFAULT_ADMIN_ROLE` is governance (the deployer, or a TimelockController put in its seat).
abstract contract Governed is AccessControl, Pausable {
    /// @notice Role allowed to pause and unpause.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @notice A governance parameter changed.
    event ParameterUpdated(bytes32 indexed name, uint256 oldValue, uint256 newValue);

    /// @notice A parameter was set outside its documented bounds.
    error ParameterOutOfBounds(bytes32 name, uint256 value, uint256 min, uint256 max);

    /// @notice The zero address was given where an account or contract is required.
    error ZeroAddress();

    constructor(address admin) {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
    }

    /// @notice Stops the entry points that start new business (see each contract's NatSpec).
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Resumes after `pause()`.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    /// @dev Checks `value` against `[min, max]` and emits `ParameterUpdated`; returns `value`
    ///      so that callers can write `x = _checked(...)`.
    function _checked(bytes32 name, uint256 oldValue, uint256 value, uint256 min, uint256 max)
        internal
        returns (uint256)
    {
        if (value < min || value > max) revert ParameterOutOfBounds(name, value, min, max);
        emit ParameterUpdated(name, oldValue, value);
        return value;
    }
}
