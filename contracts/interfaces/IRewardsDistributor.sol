// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IRewardsDistributor
/// @notice What the market, the resolver and the registry report to the rewards distributor.
interface IRewardsDistributor {
    /// @notice Credits a provider earned in a settled lease, counted in the current epoch. Market only.
    function recordWork(address provider, uint256 credits) external;

    /// @notice Verification or jury work units of a verifier in the current epoch. Resolver only.
    function recordVerifierWork(address verifier, uint256 units) external;

    /// @notice A provider's active stake (staked − unbonding) is now `newStake`. Registry only.
    function stakeChanged(address provider, uint256 newStake) external;
}
