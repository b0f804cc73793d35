// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IComputeCredits
/// @notice USD credits (CRD, 1 CRD = 1 USD) minted by burning CMP at the oracle price.
interface IComputeCredits is IERC20 {
    /// @notice Burns `tokenAmount` CMP of the caller and mints credits to `to`.
    function mintWithTokens(uint256 tokenAmount, uint256 minCreditsOut, address to) external returns (uint256);

    /// @notice Burns `creditAmount` credits of the caller and mints CMP to `to`.
    function redeem(uint256 creditAmount, uint256 minTokensOut, address to) external returns (uint256);

    /// @notice CMP worth `creditAmount` credits at the current checked oracle price, no spread.
    function creditsToTokens(uint256 creditAmount) external view returns (uint256);

    /// @notice Credits worth `tokenAmount` CMP at the current checked oracle price, no spread.
    function tokensToCredits(uint256 tokenAmount) external view returns (uint256);
}
