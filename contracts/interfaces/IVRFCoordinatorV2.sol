// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IVRFCoordinatorV2
/// @notice The part of Chainlink's VRF v2 coordinator (`VRFCoordinatorV2Interface`) a consumer
///         calls: a request for `numWords` random words, answered later by the coordinator
///         calling the consumer's `rawFulfillRandomWords(requestId, randomWords)`.
interface IVRFCoordinatorV2 {
    /// @notice Requests random words; the coordinator calls back the requesting contract.
    function requestRandomWords(
        bytes32 keyHash,
        uint64 subId,
        uint16 minimumRequestConfirmations,
        uint32 callbackGasLimit,
        uint32 numWords
    ) external returns (uint256 requestId);
}
