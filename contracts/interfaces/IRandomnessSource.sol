// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IRandomnessSource
/// @notice A source of random words for the staking ledger's draws, for chains that have a VRF
///         (`ChainlinkVrfAdapter`); without one the ledger uses a later block's hash.
interface IRandomnessSource {
    /// @notice Asks for one random word for `key` (the ledger's queue position). Consumer only.
    function requestRandomness(uint256 key) external;

    /// @notice The word for `key`, once the VRF delivered it (`ready`).
    function randomnessOf(uint256 key) external view returns (bool ready, uint256 word);
}
