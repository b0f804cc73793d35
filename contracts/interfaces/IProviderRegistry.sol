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

    /// @notice Moves `delta` CMP of `provider`'s free stake into its provision for the market
    ///         (`delta` > 0: the provider must be registered and have that much free stake), or
    ///         back out of it (`delta` < 0: at most the provision). The market keeps the provision
    ///         per GPU model in its offers and checks that no job's lock is given back. Market only.
    function provision(address provider, int256 delta) external;

    /// @notice Takes `amount` of `provider`'s provision (the market released the job's lock and
    ///         took the same amount off the offer first), pays `recipients[i]` up to `amounts[i]`
    ///         in order, and burns the rest. Market only.
    function slash(address provider, uint256 amount, address[] calldata recipients, uint256[] calldata amounts)
        external;

    /// @notice One call per job outcome: records `outcome` in the provider's reputation, then
    ///         (when `slashAmount` is not zero) slashes as `slash` does, except that a `Failed`
    ///         outcome's payees are credited in the ledger (`SlashCredited`) for each to claim
    ///         with `claimPayout`, not sent CMP. Market only.
    function recordOutcome(
        address provider,
        Outcome outcome,
        uint256 slashAmount,
        address[] calldata recipients,
        uint256[] calldata amounts
    ) external;

    /// @notice The region `provider` registered with (zero: none).
    function regionOf(address provider) external view returns (bytes32);

    /// @notice Reputation in basis points (see `ProviderRegistry`).
    function reputationOf(address provider) external view returns (uint16);

    /// @notice Stake neither provisioned nor unbonding.
    function freeStakeOf(address provider) external view returns (uint256);

    /// @notice Stake held for `provider`, including provisioned and unbonding stake.
    function stakeOf(address provider) external view returns (uint256);
}
