// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IStakingLedger
/// @notice What the dispute resolver and the rewards distributor use of the staking ledger (the
///         `ProviderRegistry`), which holds all CMP stake of providers and verifiers: draws over
///         the verifiers' stake, the slashing of verifiers, and the stake rewards accrued beside
///         each stake; and what a failed lease's payees (the customer, the keeper) claim.
interface IStakingLedger {
    /// @notice What a queue entry does when processed.
    enum EntryKind {
        None,
        StakeAdded,
        StakeRemoved,
        VerifierDraw,
        JuryDraw
    }

    /// @notice Queues a draw of `kind` for job `jobId`, decided by the hash of the block
    ///         `drawDelay` blocks ahead over the stake as it stands now; the ledger completes it
    ///         in `processDraws` by calling the resolver's `completeDraw`. Resolver only.
    /// @return targetBlock The block whose hash will decide the draw.
    function requestDraw(EntryKind kind, uint256 jobId) external returns (uint256 targetBlock);

    /// @notice `count` seats drawn from `seed`, stake-weighted over the tree as it stands (call it
    ///         from `completeDraw`), never any address of `excluded`; with replacement, so a
    ///         verifier may hold several seats (it appears once per seat). None when no stake is
    ///         left to draw from.
    function drawVerifiers(uint256 seed, address[] calldata excluded, uint256 count)
        external
        view
        returns (address[] memory drawn);

    /// @notice Takes `amount` CMP of `verifier`'s stake, all of it at most (active first, then
    ///         unbonding), and pays it to `to` (the zero address: burns it). Resolver only.
    /// @return taken CMP taken.
    function slashVerifier(address verifier, uint256 amount, address to) external returns (uint256 taken);

    /// @notice Sends `payee` the CMP that failed leases' slashes credited it (as the harmed
    ///         customer or the keeper that reported the failure). Anyone may call it; the CMP goes
    ///         to `payee` only. Reverts `NothingToClaim` when nothing is credited.
    /// @return amount CMP sent.
    function claimPayout(address payee) external returns (uint256 amount);

    /// @notice CMP credited to `payee` by failed leases' slashes and not yet claimed.
    function payoutOf(address payee) external view returns (uint256);

    /// @notice The least active stake a verifier may hold (1,000 CMP), other than none: no draw can
    ///         put more at risk (the resolver's `seatStake` is bounded by it), so splitting stake
    ///         over identities never lowers what an assignment or a seat risks.
    function MIN_VERIFIER_STAKE() external view returns (uint256);

    /// @notice Takes `account`'s stake rewards accrued so far (as a provider and as a verifier)
    ///         for the rewards distributor to pay; O(1) whatever the number of epochs.
    ///         Rewards distributor only.
    /// @return amount CMP the distributor must pay `account`.
    function takeStakeRewards(address account) external returns (uint256 amount);

    /// @notice Stake rewards `account` could take now.
    function pendingStakeRewards(address account) external view returns (uint256);

    /// @notice The sortition slot of verifier `account` (0: not a verifier); slots are never reused.
    function verifierSlotOf(address account) external view returns (uint256);

    /// @notice The verifier at sortition slot `slot` (zero address: none).
    function verifierAtSlot(uint256 slot) external view returns (address);

    /// @notice Seconds between an unstake request and the withdrawal, for all stake.
    function unbondingPeriod() external view returns (uint64);

    /// @notice A verifier's stake that takes part in draws (staked − unbonding).
    function activeStakeOf(address account) external view returns (uint256);
}
