// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IRewardsDistributor
/// @notice What the market, the resolver and the registry report to the rewards distributor.
interface IRewardsDistributor {
    /// @notice Job `jobId` settled in the current epoch: its provider earned `credits` and the job
    ///         paid `feeCredits` of protocol fees, which cap the activity rewards of the job's
    ///         provider and of the verifier that approved it (if any). Market only.
    function recordWork(uint256 jobId, address provider, uint256 credits, uint256 feeCredits) external;

    /// @notice `verifier` approved job `jobId`'s result; it earns a verifier unit if and when the
    ///         job settles. Resolver only.
    function recordVerification(uint256 jobId, address verifier) external;

    /// @notice A provider's active stake (staked − unbonding) is now `newStake`; it earns the
    ///         stake share. Registry only.
    function stakeChanged(address provider, uint256 newStake) external;

    /// @notice A verifier's active stake (staked − unbonding) is now `newStake`; it earns the
    ///         stake share beside any provider stake of the same account. Ledger (registry) only.
    function verifierStakeChanged(address verifier, uint256 newStake) external;
}
