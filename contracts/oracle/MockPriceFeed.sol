// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IPriceFeed} from "../interfaces/IPriceFeed.sol";

/// @title MockPriceFeed
/// @notice A Chainlink-shaped CMP/USD feed for local chains and tests: its owner sets the answer,
///         the round id and the update time. Never deploy it where real value is at stake.
contract MockPriceFeed is IPriceFeed, Ownable {
    struct Round {
        int256 answer;
        uint64 startedAt;
        uint64 updatedAt;
    }

    uint8 public constant override decimals = 8;
    uint256 public constant override version = 4;

    uint80 public latestRound;
    mapping(uint80 => Round) private _rounds;

    /// @notice A new round was written.
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);

    /// @notice The round asked for was never written.
    error NoDataPresent(uint80 roundId);

    /// @param initialAnswer First answer, with 8 decimals (2.50 USD = 250000000).
    constructor(address owner_, int256 initialAnswer) Ownable(owner_) {
        _write(1, initialAnswer, block.timestamp);
    }

    /// @notice "CMP / USD".
    function description() external pure override returns (string memory) {
        return "CMP / USD";
    }

    /// @notice Writes a new round with `answer`, updated now.
    function setAnswer(int256 answer) external onlyOwner {
        _write(latestRound + 1, answer, block.timestamp);
    }

    /// @notice Writes round `roundId` with `answer` and `updatedAt` (to fake stale or future data).
    function setRoundData(uint80 roundId, int256 answer, uint256 updatedAt) external onlyOwner {
        _write(roundId, answer, updatedAt);
    }

    /// @inheritdoc IPriceFeed
    function getRoundData(uint80 roundId)
        external
        view
        override
        returns (uint80, int256, uint256, uint256, uint80)
    {
        Round memory r = _rounds[roundId];
        if (r.updatedAt == 0) revert NoDataPresent(roundId);
        return (roundId, r.answer, r.startedAt, r.updatedAt, roundId);
    }

    /// @inheritdoc IPriceFeed
    function latestRoundData() external view override returns (uint80, int256, uint256, uint256, uint80) {
        uint80 id = latestRound;
        Round memory r = _rounds[id];
        return (id, r.answer, r.startedAt, r.updatedAt, id);
    }

    function _write(uint80 roundId, int256 answer, uint256 updatedAt) private {
        _rounds[roundId] = Round(answer, uint64(updatedAt), uint64(updatedAt));
        if (roundId > latestRound) latestRound = roundId;
        emit AnswerUpdated(answer, roundId, updatedAt);
    }
}
