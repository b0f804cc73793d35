// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IRewardsDistributor} from "../../../contracts/interfaces/IRewardsDistributor.sol";

/// @title MockRewards
/// @notice Records the last active stake the ledger reported for each provider and verifier, so
///         that an invariant can check the reports follow the ledger (staked − unbonding).
contract MockRewards is IRewardsDistributor {
    address public immutable ledger;
    /// @notice Last reported provider active stake.
    mapping(address => uint256) public providerStake;
    /// @notice Last reported verifier active stake.
    mapping(address => uint256) public verifierStake;
    /// @notice Reports that did not come from the ledger.
    uint256 public foreignReports;

    constructor(address ledger_) {
        ledger = ledger_;
    }

    /// @inheritdoc IRewardsDistributor
    function recordWork(uint256, address, uint256, uint256) external {}

    /// @inheritdoc IRewardsDistributor
    function recordVerification(uint256, address) external {}

    /// @inheritdoc IRewardsDistributor
    function stakeChanged(address provider, uint256 newStake) external {
        if (msg.sender != ledger) ++foreignReports;
        providerStake[provider] = newStake;
    }

    /// @inheritdoc IRewardsDistributor
    function verifierStakeChanged(address verifier, uint256 newStake) external {
        if (msg.sender != ledger) ++foreignReports;
        verifierStake[verifier] = newStake;
    }
}
