// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IDisputeResolver} from "./IDisputeResolver.sol";

/// @title IVerificationRecord
/// @notice The resolver as the market reads it: a job's verification record, to pay the job's
///         verification fee (ABI-compatible with `DisputeResolver.verificationOf`), and the
///         bounds the market's challenge window must keep.
interface IVerificationRecord {
    /// @notice Who was drawn to verify a job, by when, and how it ended.
    struct Verification {
        address verifier;
        uint64 deadline;
        IDisputeResolver.Attestation attestation;
        bool requested;
    }

    /// @notice Job `jobId`'s verification (all zero when none was asked for).
    function verificationOf(uint256 jobId) external view returns (Verification memory);

    /// @notice The market's `challengeWindow` must lie in [min, max]: above the verifier's
    ///         attestation window, and short enough that the resolver's `slashDelay` stays below
    ///         the ledger's `unbondingPeriod`.
    function challengeWindowBounds() external view returns (uint256 min, uint256 max);
}
