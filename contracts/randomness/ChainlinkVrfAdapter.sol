// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IRandomnessSource} from "../interfaces/IRandomnessSource.sol";
import {IVRFCoordinatorV2} from "../interfaces/IVRFCoordinatorV2.sol";

/// @title ChainlinkVrfAdapter
/// @notice Random words for the staking ledger's draws from a Chainlink VRF v2 coordinator, for
///         chains that have one: the ledger asks for a word when it queues a draw, the
///         coordinator delivers it with a proof nobody (the block proposer included) can bias, and
///         the ledger's `processDraws` uses it instead of a block hash.
/// @dev Set on the ledger with `setRandomness`. The subscription (`subscriptionId`) must be
///      funded and this adapter added as its consumer, as for any Chainlink VRF consumer. A word
///      that never arrives does not block a draw: after `VRF_PATIENCE` blocks past its target the
///      ledger falls back to the target block's hash (see `StakingLedger`).
contract ChainlinkVrfAdapter is IRandomnessSource {
    struct Randomness {
        bool ready;
        uint256 word;
    }

    /// @notice The VRF coordinator.
    IVRFCoordinatorV2 public immutable coordinator;
    /// @notice The only contract that may ask for words (the staking ledger).
    address public immutable consumer;
    /// @notice The VRF key (gas lane).
    bytes32 public immutable keyHash;
    /// @notice The funded subscription paying for the requests.
    uint64 public immutable subscriptionId;
    /// @notice Blocks the coordinator waits before answering.
    uint16 public immutable confirmations;
    /// @notice Gas the coordinator gives `rawFulfillRandomWords`.
    uint32 public immutable callbackGasLimit;

    mapping(uint256 requestId => uint256 keyPlusOne) private _keyOf;
    mapping(uint256 key => Randomness) private _randomness;

    /// @notice A word was asked for `key`.
    event RandomnessRequested(uint256 indexed key, uint256 indexed requestId);
    /// @notice The coordinator delivered the word for `key`.
    event RandomnessFulfilled(uint256 indexed key, uint256 indexed requestId, uint256 word);

    error ZeroAddress();
    error NotConsumer(address caller);
    error OnlyCoordinatorCanFulfill(address have, address want);
    error UnknownRequest(uint256 requestId);
    error AlreadyFulfilled(uint256 key);

    /// @param coordinator_ The chain's VRF v2 coordinator.
    /// @param consumer_ The staking ledger.
    constructor(
        IVRFCoordinatorV2 coordinator_,
        address consumer_,
        bytes32 keyHash_,
        uint64 subscriptionId_,
        uint16 confirmations_,
        uint32 callbackGasLimit_
    ) {
        if (address(coordinator_) == address(0) || consumer_ == address(0)) revert ZeroAddress();
        (coordinator, consumer, keyHash) = (coordinator_, consumer_, keyHash_);
        (subscriptionId, confirmations, callbackGasLimit) = (subscriptionId_, confirmations_, callbackGasLimit_);
    }

    /// @inheritdoc IRandomnessSource
    function requestRandomness(uint256 key) external {
        if (msg.sender != consumer) revert NotConsumer(msg.sender);
        uint256 requestId = coordinator.requestRandomWords(keyHash, subscriptionId, confirmations, callbackGasLimit, 1);
        _keyOf[requestId] = key + 1;
        emit RandomnessRequested(key, requestId);
    }

    /// @notice The coordinator's answer to a request (Chainlink's `VRFConsumerBaseV2` callback).
    function rawFulfillRandomWords(uint256 requestId, uint256[] calldata randomWords) external {
        if (msg.sender != address(coordinator)) revert OnlyCoordinatorCanFulfill(msg.sender, address(coordinator));
        uint256 keyPlusOne = _keyOf[requestId];
        if (keyPlusOne == 0) revert UnknownRequest(requestId);
        uint256 key = keyPlusOne - 1;
        Randomness storage r = _randomness[key];
        if (r.ready) revert AlreadyFulfilled(key);
        (r.ready, r.word) = (true, randomWords[0]);
        emit RandomnessFulfilled(key, requestId, randomWords[0]);
    }

    /// @inheritdoc IRandomnessSource
    function randomnessOf(uint256 key) external view returns (bool ready, uint256 word) {
        Randomness storage r = _randomness[key];
        return (r.ready, r.word);
    }
}
