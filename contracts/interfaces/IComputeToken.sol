// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IComputeToken
/// @notice The protocol's native token (CMP) as the other contracts use it.
interface IComputeToken is IERC20 {
    /// @notice Mints `amount` CMP to `to`; only holders of the minter role, never past the cap.
    function mint(address to, uint256 amount) external;

    /// @notice Burns `amount` CMP of the caller.
    function burn(uint256 amount) external;

    /// @notice Burns `amount` CMP of `account`, spending the caller's allowance.
    function burnFrom(address account, uint256 amount) external;

    /// @notice The hard cap on the total supply.
    function cap() external view returns (uint256);
}
