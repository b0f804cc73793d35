// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IStakingLedger} from "./IStakingLedger.sol";

/// @title IDrawConsumer
/// @notice The dispute resolver as the staking ledger sees it: told when a queued draw is due.
interface IDrawConsumer {
    /// @notice The draw of `kind` for job `jobId` is due, from `seed` (the target block's hash
    ///         mixed with the job and the kind); the consumer draws with `drawVerifiers` now,
    ///         before any stake change queued behind the draw reaches the tree. Ledger only.
    function completeDraw(IStakingLedger.EntryKind kind, uint256 jobId, uint256 seed) external;

    /// @notice The longest a drawn verifier or juror may wait for a penalty, in seconds; the
    ///         ledger's `unbondingPeriod` must exceed it.
    function slashDelay() external view returns (uint256);
}
