// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

interface IVrfConsumer {
    function rawFulfillRandomWords(uint256 requestId, uint256[] calldata randomWords) external;
}

/// @title MockVrfCoordinator
/// @notice Test-only stand-in for a Chainlink VRF v2 coordinator (as Chainlink's own
///         `VRFCoordinatorV2Mock`): records requests and lets a test deliver the words.
contract MockVrfCoordinator {
    struct Request {
        address consumer;
        uint32 numWords;
    }

    uint256 public lastRequestId;
    /// @notice When set, requests revert (an unfunded subscription or a consumer not added).
    bool public failing;
    mapping(uint256 => Request) public requests;

    event RandomWordsRequested(uint256 indexed requestId, address indexed consumer, bytes32 keyHash, uint64 subId);

    error UnknownRequest(uint256 requestId);
    error InvalidConsumer();

    /// @notice Makes requests revert (or succeed again).
    function setFailing(bool value) external {
        failing = value;
    }

    /// @notice Records a request from the caller.
    function requestRandomWords(bytes32 keyHash, uint64 subId, uint16, uint32, uint32 numWords)
        external
        returns (uint256 requestId)
    {
        if (failing) revert InvalidConsumer();
        requestId = ++lastRequestId;
        requests[requestId] = Request(msg.sender, numWords);
        emit RandomWordsRequested(requestId, msg.sender, keyHash, subId);
    }

    /// @notice Delivers `word` (and words derived from it) for `requestId` to its consumer.
    function fulfill(uint256 requestId, uint256 word) external {
        Request memory r = requests[requestId];
        if (r.consumer == address(0)) revert UnknownRequest(requestId);
        delete requests[requestId];
        uint256[] memory words = new uint256[](r.numWords);
        for (uint256 i; i < words.length; ++i) {
            words[i] = uint256(keccak256(abi.encode(word, i)));
        }
        if (words.length != 0) words[0] = word;
        IVrfConsumer(r.consumer).rawFulfillRandomWords(requestId, words);
    }
}
