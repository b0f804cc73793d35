// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IProviderRegistry
/// @notice What the market and the dispute resolver use of the provider registry.
interface IProviderRegistry {
    /// @notice A settled outcome that moves a provider's reputation.
    enum Outcome {
        Completed,
        Failed,
        DisputeLost
    }

    /// @notice What a job needs to know of a provider to match it.
    struct Profile {
        bool registered;
        uint32 gpuCount;
        uint32 vramGb;
        uint16 reputationBps;
    }

    /// @notice A job's hold on a provider: `amount` CMP of its free stake and `gpus` GPUs of
    ///         `gpuModel`. The market keeps no lock record and neither does the registry: the
    ///         market derives each lock from its job (the amounts are fixed when the job is
    ///         posted or the bid committed), and the registry keeps only each provider's sums.
    struct Lock {
        uint256 jobId;
        bytes32 gpuModel;
        uint32 gpus;
        uint256 amount;
    }

    /// @notice Locks `lock.amount` of the provider's free stake and reserves `lock.gpus` GPUs
    ///         of `lock.gpuModel` for job `lock.jobId`. Market only.
    function lockCollateral(address provider, Lock calldata lock) external;

    /// @notice Releases what `lockCollateral` locked with the same `lock`. Market only.
    function releaseCollateral(address provider, Lock calldata lock) external;

    /// @notice One call per new best bid: releases `outbid`'s `lock` (zero: nobody held it) and
    ///         locks the same for `bidder`. Market only.
    function replaceLock(address outbid, address bidder, Lock calldata lock) external;

    /// @notice Takes up to `amount` of the provider's stake that no other job has locked, free
    ///         stake first and unbonding stake next, pays `recipients[i]` up to `amounts[i]` in
    ///         order, and burns the rest. Market and resolver only.
    function slash(address provider, uint256 amount, address[] calldata recipients, uint256[] calldata amounts)
        external
        returns (uint256 slashed);

    /// @notice One call per job outcome: releases `lock`, records `outcome` in the provider's
    ///         reputation, then (when `slashAmount` is not zero) slashes as `slash` does. Market only.
    /// @return slashed CMP taken.
    function closeLock(
        address provider,
        Lock calldata lock,
        Outcome outcome,
        uint256 slashAmount,
        address[] calldata recipients,
        uint256[] calldata amounts
    ) external returns (uint256 slashed);

    /// @notice Matching data of `provider` for `gpuModel`: registration, the model's GPUs and
    ///         memory, reputation. Not the region, which has a slot of its own: a bid reads it
    ///         (`regionOf`) only for a job that names one.
    function profileOf(address provider, bytes32 gpuModel) external view returns (Profile memory);

    /// @notice The region `provider` registered with (zero: none).
    function regionOf(address provider) external view returns (bytes32);

    /// @notice Reputation in basis points (see `ProviderRegistry`).
    function reputationOf(address provider) external view returns (uint16);

    /// @notice Stake neither locked nor unbonding.
    function freeStakeOf(address provider) external view returns (uint256);

    /// @notice Stake held for `provider`, including locked and unbonding stake.
    function stakeOf(address provider) external view returns (uint256);
}
