// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IRandomnessSource} from "../../../contracts/interfaces/IRandomnessSource.sol";

/// @notice What the mock reads of the ledger: the queue's end, to check the key of a request.
interface IQueueTail {
    function queueTail() external view returns (uint64);
}

/// @title MockRandomness
/// @notice A stand-in for a VRF randomness source (`ChainlinkVrfAdapter`), as the ledger sees
///         one. The handler decides what the VRF does: deliver a word for a key (`fulfil`),
///         leave it pending (do nothing), or refuse requests (`setRefusing`: `requestRandomness`
///         then reverts, as with an unfunded subscription). It checks each request: it must
///         come from the ledger, for the queue position of the draw just queued, once per key.
///         A bad request is counted, not reverted (a revert would only look like a refusal).
contract MockRandomness is IRandomnessSource {
    address public immutable ledger;
    address public immutable handler;

    /// @notice When set, `requestRandomness` reverts.
    bool public refusing;
    /// @notice Keys the ledger asked a word for (and the source accepted).
    mapping(uint256 => bool) public requested;
    mapping(uint256 => bool) internal _ready;
    mapping(uint256 => uint256) internal _word;

    /// @notice Requests accepted and words delivered.
    uint256 public requests;
    uint256 public fulfilled;
    /// @notice Requests not from the ledger, for a key other than the last queue position, or
    ///         for a key asked before.
    uint256 public badRequests;

    error Refused();
    error NotHandler();
    error NotRequested(uint256 key);
    error AlreadyFulfilled(uint256 key);

    constructor(address ledger_, address handler_) {
        ledger = ledger_;
        handler = handler_;
    }

    modifier onlyHandler() {
        if (msg.sender != handler) revert NotHandler();
        _;
    }

    /// @inheritdoc IRandomnessSource
    function requestRandomness(uint256 key) external {
        if (refusing) revert Refused();
        if (msg.sender != ledger || requested[key] || key + 1 != IQueueTail(ledger).queueTail()) ++badRequests;
        requested[key] = true;
        ++requests;
    }

    /// @inheritdoc IRandomnessSource
    function randomnessOf(uint256 key) external view returns (bool ready, uint256 word) {
        return (_ready[key], _word[key]);
    }

    /// @notice The VRF delivers `word` for `key` (asked, not yet delivered). Handler only.
    function fulfil(uint256 key, uint256 word) external onlyHandler {
        if (!requested[key]) revert NotRequested(key);
        if (_ready[key]) revert AlreadyFulfilled(key);
        (_ready[key], _word[key]) = (true, word);
        ++fulfilled;
    }

    /// @notice Makes requests revert (or succeed again). Handler only.
    function setRefusing(bool value) external onlyHandler {
        refusing = value;
    }

    /// @notice Whether `key` was asked and its word not delivered yet.
    function pendingWord(uint256 key) external view returns (bool) {
        return requested[key] && !_ready[key];
    }
}
