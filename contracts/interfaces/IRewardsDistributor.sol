// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IRewardsDistributor
/// @notice What the market and the resolver report to the rewards distributor, and the stake
///         share's schedule the staking ledger accrues.
interface IRewardsDistributor {
    /// @notice Job `jobId` settled in the current epoch: its provider earned `credits` and the job
    ///         paid `feeCredits` of protocol fees, which cap the activity rewards of the job's
    ///         provider and of the verifier that approved it (if any). `verification` is the
    ///         job's own flag: a job without verification has no verifier to look up (the
    ///         resolver records verifiers only for jobs that ask for one). Market only.
    function recordWork(uint256 jobId, address provider, uint256 credits, uint256 feeCredits, bool verification)
        external;

    /// @notice `verifier` approved job `jobId`'s result; it earns a verifier unit if and when the
    ///         job settles. Resolver only.
    function recordVerification(uint256 jobId, address verifier) external;

    /// @notice The stake share's release rate during the epoch containing time `t`: the epoch's
    ///         stake share over its length, rounded down, in CMP wei per second; and that epoch's
    ///         bounds. The staking ledger accrues stake rewards at this rate within an epoch.
    function stakeRateAt(uint256 t) external view returns (uint256 perSecond, uint256 epochStart, uint256 epochEnd);

    /// @notice The stake share released from time `t0` to `t1` (exact, segment by segment).
    function stakeReleased(uint256 t0, uint256 t1) external view returns (uint256);
}
