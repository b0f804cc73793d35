// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

interface ICreditsLike {
    function redeem(uint256 creditAmount, uint256 minTokensOut, address to) external returns (uint256);
}

/// @title ReentrantPriceFeed
/// @notice Test-only attacker: a Chainlink-shaped feed whose `latestRoundData` tries to re-enter
///         the credits contract (redeeming) while a mint or redemption is reading the price.
contract ReentrantPriceFeed {
    ICreditsLike public immutable credits;

    constructor(ICreditsLike credits_) {
        credits = credits_;
    }

    function decimals() external pure returns (uint8) {
        return 8;
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        // A view cannot change state: the call below runs under STATICCALL and must fail.
        (bool ok,) = address(credits).staticcall(abi.encodeCall(ICreditsLike.redeem, (1, 0, address(this))));
        require(!ok, "re-entered");
        return (1, 250_000_000, block.timestamp, block.timestamp, 1);
    }
}
