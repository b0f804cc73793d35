// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ComputeToken} from "../../contracts/token/ComputeToken.sol";
import {IComputeToken} from "../../contracts/interfaces/IComputeToken.sol";
import {ProviderRegistry} from "../../contracts/registry/ProviderRegistry.sol";
import {InvariantTest} from "./utils/InvariantTest.sol";
import {StakingLedgerHandler} from "./handlers/StakingLedgerHandler.sol";
import {MockResolver} from "./mocks/MockResolver.sol";
import {MockRewards} from "./mocks/MockRewards.sol";
import {MockRandomness} from "./mocks/MockRandomness.sol";
import {IRewardsDistributor} from "../../contracts/interfaces/IRewardsDistributor.sol";
import {IStakingLedger} from "../../contracts/interfaces/IStakingLedger.sol";

/// @title LedgerSetup
/// @notice The deployment the invariant and fuzz tests share: CMP (the whole supply given to the
///         handler, which funds the actors), the `ProviderRegistry` (the staking ledger) governed
///         by `GOV`, the market `MARKET` with MARKET_ROLE (provisions and slashes), the handler's
///         `MockResolver` as resolver and a `MockRewards` as rewards distributor (its stake-share
///         schedule starts `GENESIS_LEAD` before the ledger's deployment, so the ledger's first
///         epoch is a partial one; `rewards` is immutable in the ledger). The handler's
///         `MockRandomness` (`vrf`) exists but is not set: draws use block hashes until a test
///         (or governance, in the invariant suite) sets it.
abstract contract LedgerSetup is InvariantTest {
    uint256 internal constant INITIAL_SUPPLY = 10_000_000_000 ether;
    uint256 internal constant SUPPLY_CAP = 20_000_000_000 ether;

    address internal constant GOV = address(0x60F);
    address internal constant MARKET = address(0x3A7);
    /// @notice Time between the distributor's genesis and the ledger's deployment (mid-epoch).
    uint256 internal constant GENESIS_LEAD = 7 hours + 17 minutes + 3;

    ComputeToken internal token;
    ProviderRegistry internal registry;
    StakingLedgerHandler internal handler;
    MockResolver internal resolver;
    MockRewards internal rewards;
    MockRandomness internal vrf;

    function _deploy() internal {
        token = new ComputeToken(GOV, address(this), INITIAL_SUPPLY, SUPPLY_CAP);
        rewards = new MockRewards(block.timestamp);
        vm.warp(block.timestamp + GENESIS_LEAD);
        registry = new ProviderRegistry(GOV, IComputeToken(address(token)), IRewardsDistributor(address(rewards)));
        rewards.setLedger(IStakingLedger(address(registry)));
        handler = new StakingLedgerHandler(registry, token, GOV, MARKET);
        rewards.setOperator(address(handler)); // the handler breaks and mends the distributor
        resolver = handler.resolver();
        vrf = handler.vrf();
        token.transfer(address(handler), INITIAL_SUPPLY);

        vm.startPrank(GOV);
        registry.grantRole(registry.MARKET_ROLE(), MARKET);
        registry.setResolver(resolver);
        vm.stopPrank();

        vm.label(address(token), "CMP");
        vm.label(address(registry), "ProviderRegistry");
        vm.label(address(resolver), "MockResolver");
        vm.label(address(rewards), "MockRewards");
        vm.label(address(vrf), "MockRandomness");
        vm.label(address(handler), "Handler");
    }
}
