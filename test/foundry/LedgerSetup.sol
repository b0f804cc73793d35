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

/// @title LedgerSetup
/// @notice The deployment the invariant and fuzz tests share: CMP (the whole supply given to the
///         handler, which funds the actors), the `ProviderRegistry` (the staking ledger) governed
///         by `GOV`, the market `MARKET` with MARKET_ROLE and SLASHER_ROLE, the handler's
///         `MockResolver` as resolver and a `MockRewards` as rewards distributor. The handler's
///         `MockRandomness` (`vrf`) exists but is not set: draws use block hashes until a test
///         (or governance, in the invariant suite) sets it.
abstract contract LedgerSetup is InvariantTest {
    uint256 internal constant INITIAL_SUPPLY = 10_000_000_000 ether;
    uint256 internal constant SUPPLY_CAP = 20_000_000_000 ether;

    address internal constant GOV = address(0x60F);
    address internal constant MARKET = address(0x3A7);

    ComputeToken internal token;
    ProviderRegistry internal registry;
    StakingLedgerHandler internal handler;
    MockResolver internal resolver;
    MockRewards internal rewards;
    MockRandomness internal vrf;

    function _deploy() internal {
        token = new ComputeToken(GOV, address(this), INITIAL_SUPPLY, SUPPLY_CAP);
        registry = new ProviderRegistry(GOV, IComputeToken(address(token)));
        handler = new StakingLedgerHandler(registry, token, GOV, MARKET);
        resolver = handler.resolver();
        vrf = handler.vrf();
        rewards = new MockRewards(address(registry));
        token.transfer(address(handler), INITIAL_SUPPLY);

        vm.startPrank(GOV);
        registry.grantRole(registry.MARKET_ROLE(), MARKET);
        registry.grantRole(registry.SLASHER_ROLE(), MARKET);
        registry.setResolver(resolver);
        registry.setRewards(rewards);
        vm.stopPrank();

        vm.label(address(token), "CMP");
        vm.label(address(registry), "ProviderRegistry");
        vm.label(address(resolver), "MockResolver");
        vm.label(address(rewards), "MockRewards");
        vm.label(address(vrf), "MockRandomness");
        vm.label(address(handler), "Handler");
    }
}
