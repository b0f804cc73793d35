// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IMarketParameters
/// @notice The market's parameters the dispute resolver checks its own against.
interface IMarketParameters {
    /// @notice Time to challenge a result, in seconds.
    function challengeWindow() external view returns (uint24);
}
