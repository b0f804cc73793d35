// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IDisputeResolver
/// @notice Lifecycle of a dispute in the resolver.
interface IDisputeResolver {
    /// @notice None → Drawing → Voting → (Resolved | AwaitingArbiter → Resolved).
    enum DisputeStatus {
        None,
        Voting,
        AwaitingArbiter,
        Resolved,
        Drawing // challenged; the jury is drawn from a later block's hash (`processDraws`)
    }

    /// @notice How a verification ended.
    enum Attestation {
        None,
        ResultOk,
        ResultBad,
        Absent,
        Excused // a verdict came while the verifier's window was still open
    }
}
