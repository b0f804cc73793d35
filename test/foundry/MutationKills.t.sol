// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ProviderRegistry} from "../../contracts/registry/ProviderRegistry.sol";
import {StakingLedger} from "../../contracts/staking/StakingLedger.sol";
import {IProviderRegistry} from "../../contracts/interfaces/IProviderRegistry.sol";
import {IStakingLedger} from "../../contracts/interfaces/IStakingLedger.sol";
import {IDrawConsumer} from "../../contracts/interfaces/IDrawConsumer.sol";
import {IComputeToken} from "../../contracts/interfaces/IComputeToken.sol";
import {IRewardsDistributor} from "../../contracts/interfaces/IRewardsDistributor.sol";
import {ComputeToken} from "../../contracts/token/ComputeToken.sol";
import {LedgerSetup} from "./LedgerSetup.sol";

/// The log-recording cheatcodes (not in utils/Vm.sol).
interface VmLogs {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory);
}

/// @title MutationKillsTest
/// @notice Unit tests written to kill the mutants `bin/mutation` found surviving the suite
///         (docs/mutation.md): each test names the mutant (file:line, operator) it kills. They
///         pin down boundaries the handler's random sequences rarely hit exactly.
contract MutationKillsTest is LedgerSetup {
    address internal constant PROVIDER = address(0xB0B);
    VmLogs internal constant vmLogs = VmLogs(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    /// What `slashDelay()` answers while this test is the ledger's resolver.
    uint256 internal slashDelayValue;
    uint256 internal drawsCompleted;
    /// Whether `completeDraw` re-enters the ledger, and what each re-entrant call answered: its
    /// revert selector, or 0 when it went through.
    bool internal reenter;
    bytes4[8] internal reentryAnswers;

    // --- IDrawConsumer, for the tests that make this contract the resolver
    function slashDelay() external view returns (uint256) {
        return slashDelayValue;
    }

    function completeDraw(IStakingLedger.EntryKind, uint256, uint256) external {
        ++drawsCompleted;
        if (reenter) _reenterEverything();
    }

    function _answer(bool ok, bytes memory data) private pure returns (bytes4 sel) {
        if (ok || data.length < 4) return bytes4(0);
        assembly {
            sel := mload(add(data, 32))
        }
    }

    /// From inside `completeDraw` (so inside `processDraws`), call every `nonReentrant` function.
    function _reenterEverything() private {
        address[] memory none = new address[](0);
        uint256[] memory zero = new uint256[](0);
        bytes[8] memory calls = [
            abi.encodeCall(registry.stake, (1)),
            abi.encodeCall(registry.withdrawUnstaked, ()),
            abi.encodeCall(registry.slash, (PROVIDER, 0, none, zero)),
            abi.encodeCall(registry.recordOutcome, (PROVIDER, IProviderRegistry.Outcome.Completed, 0, none, zero)),
            abi.encodeCall(registry.stakeAsVerifier, (1)),
            abi.encodeCall(registry.withdrawVerifierStake, ()),
            abi.encodeCall(registry.processDraws, (1)),
            abi.encodeCall(registry.slashVerifier, (PROVIDER, 0, address(this)))
        ];
        for (uint256 i; i < calls.length; ++i) {
            (bool ok, bytes memory data) = address(registry).call(calls[i]);
            reentryAnswers[i] = _answer(ok, data);
        }
    }

    function setUp() public {
        _deploy();
    }

    /// A registered provider holding `amount` CMP staked (funded by the handler, which holds the supply).
    function _stakedProvider(address provider, uint256 amount) internal {
        vm.prank(address(handler));
        token.transfer(provider, amount);
        vm.startPrank(provider);
        registry.register("ipfs://p", bytes32("eu-west"));
        token.approve(address(registry), amount);
        registry.stake(amount);
        vm.stopPrank();
    }

    function _provision(address provider, int256 delta) internal {
        vm.prank(MARKET);
        registry.provision(provider, delta);
    }

    /// ProviderRegistry.sol `provision` (in place of the mutants of `_lock` and `_release`, which
    /// are gone): the whole free stake can be provisioned (`uint256(delta) > free` flipped to
    /// `>=`), one wei more cannot, with the exact figures; the whole provision can be given back
    /// (`back > total` flipped to `>=`), one wei more cannot. The moves land exactly (deleting or
    /// flipping `total += ...`, `total -= back` or `p.provisioned = ...`), and the free stake
    /// moves against them (`_free`'s arithmetic).
    function test_provisionMovesFreeStakeBothWays() public {
        _stakedProvider(PROVIDER, 1_000 ether);
        vm.startPrank(MARKET);
        registry.provision(PROVIDER, 400 ether);
        vm.assertEq(registry.providerOf(PROVIDER).provisioned, 400 ether, "400 provisioned");
        vm.assertEq(registry.freeStakeOf(PROVIDER), 600 ether, "600 free");
        vm.expectRevert(abi.encodeWithSelector(ProviderRegistry.NotEnoughFreeStake.selector, 600 ether, 600 ether + 1));
        registry.provision(PROVIDER, 600 ether + 1);
        registry.provision(PROVIDER, 600 ether); // exactly the free stake
        vm.assertEq(registry.providerOf(PROVIDER).provisioned, 1_000 ether, "all of it provisioned");
        vm.assertEq(registry.freeStakeOf(PROVIDER), 0, "nothing free");
        vm.expectRevert(abi.encodeWithSelector(ProviderRegistry.NotEnoughFreeStake.selector, 0, 1));
        registry.provision(PROVIDER, 1);

        registry.provision(PROVIDER, -250 ether);
        vm.assertEq(registry.providerOf(PROVIDER).provisioned, 750 ether, "250 given back");
        vm.assertEq(registry.freeStakeOf(PROVIDER), 250 ether, "250 free again");
        vm.expectRevert(abi.encodeWithSelector(ProviderRegistry.ProvisionExceeded.selector, 750 ether, 750 ether + 1));
        registry.provision(PROVIDER, -(750 ether + 1));
        registry.provision(PROVIDER, -750 ether); // exactly the provision
        vm.stopPrank();
        ProviderRegistry.Provider memory p = registry.providerOf(PROVIDER);
        vm.assertEq(p.provisioned, 0, "nothing provisioned");
        vm.assertEq(p.staked, 1_000 ether, "the stake never moved");
        vm.assertEq(registry.freeStakeOf(PROVIDER), 1_000 ether, "all of it free");
    }

    /// ProviderRegistry.sol `provision`: only a registered provider's stake can be provisioned
    /// (`NotRegistered`, checked before the free stake), a move of zero needs no registration
    /// (`delta > 0` flipped to `>=` would refuse it), and -2^255 is refused by the checked negation.
    function test_provisionOfUnregisteredProviders() public {
        vm.startPrank(MARKET);
        vm.expectRevert(abi.encodeWithSelector(ProviderRegistry.NotRegistered.selector, PROVIDER));
        registry.provision(PROVIDER, 1);
        registry.provision(PROVIDER, 0); // nothing moves: allowed, registered or not
        vm.expectRevert(abi.encodeWithSelector(bytes4(keccak256("Panic(uint256)")), uint256(0x11)));
        registry.provision(PROVIDER, type(int256).min);
        vm.stopPrank();
        vm.assertEq(registry.providerOf(PROVIDER).provisioned, 0, "nothing provisioned");
    }

    /// ProviderRegistry.sol `_free`: neither the provision nor the unbonding stake is free; an
    /// unstake request can take only what is neither (staked 1,000, provisioned 300, unbonding
    /// 200: 500 free, 501 refused), nor can a provision.
    function test_freeStakeExcludesProvisionAndUnbonding() public {
        _stakedProvider(PROVIDER, 1_000 ether);
        _provision(PROVIDER, 300 ether);
        vm.startPrank(PROVIDER);
        registry.requestUnstake(200 ether);
        vm.assertEq(registry.freeStakeOf(PROVIDER), 500 ether, "1,000 - 300 - 200");
        vm.expectRevert(abi.encodeWithSelector(ProviderRegistry.NotEnoughFreeStake.selector, 500 ether, 500 ether + 1));
        registry.requestUnstake(500 ether + 1);
        vm.stopPrank();
        vm.prank(MARKET);
        vm.expectRevert(abi.encodeWithSelector(ProviderRegistry.NotEnoughFreeStake.selector, 500 ether, 500 ether + 1));
        registry.provision(PROVIDER, int256(500 ether + 1));
        vm.prank(PROVIDER);
        registry.requestUnstake(500 ether);
        ProviderRegistry.Provider memory p = registry.providerOf(PROVIDER);
        vm.assertEq(p.unbonding, 700 ether, "700 unbonding");
        vm.assertEq(p.provisioned, 300 ether, "the provision kept");
        vm.assertEq(registry.freeStakeOf(PROVIDER), 0, "nothing free");
    }

    /// ProviderRegistry.sol `_slash` (replacing the mutants of `_take`, which is gone): a slash
    /// takes the provision only. The whole provision can be slashed (`amount > provisioned`
    /// flipped to `>=`), one wei more is refused `ProvisionExceeded` with the exact figures and
    /// takes nothing (also through `recordOutcome`, which then records no outcome either); the
    /// unbonding stake, its end and the free stake are never touched; the stake and the provision
    /// fall by exactly the amount, paid to the payees in order and the rest burned.
    function test_slashTakesOnlyTheProvision() public {
        _stakedProvider(PROVIDER, 1_000 ether);
        _provision(PROVIDER, 300 ether);
        vm.prank(PROVIDER);
        registry.requestUnstake(200 ether);
        ProviderRegistry.Provider memory before = registry.providerOf(PROVIDER);
        address[] memory to = new address[](2);
        uint256[] memory amounts = new uint256[](2);
        (to[0], amounts[0]) = (address(0xA11CE), 100 ether);
        (to[1], amounts[1]) = (address(0xCA201), 500 ether);
        uint256 supply = token.totalSupply();

        vm.startPrank(MARKET);
        bytes memory exceeded =
            abi.encodeWithSelector(ProviderRegistry.ProvisionExceeded.selector, 300 ether, 300 ether + 1);
        vm.expectRevert(exceeded);
        registry.slash(PROVIDER, 300 ether + 1, to, amounts);
        vm.expectRevert(exceeded);
        registry.recordOutcome(PROVIDER, IProviderRegistry.Outcome.Failed, 300 ether + 1, to, amounts);
        vm.assertEq(registry.providerOf(PROVIDER).failed, 0, "a refused slash records no outcome");

        registry.slash(PROVIDER, 120 ether, to, amounts); // 100 to 0xA11CE, 20 to 0xCA201
        // A failure's slash is credited to its payees, not sent: 100 + 80.
        registry.recordOutcome(PROVIDER, IProviderRegistry.Outcome.Failed, 180 ether, to, amounts);
        vm.stopPrank();
        ProviderRegistry.Provider memory p = registry.providerOf(PROVIDER);
        vm.assertEq(p.provisioned, 0, "the whole provision slashed");
        vm.assertEq(p.staked, 700 ether, "the stake fell by the slashes");
        vm.assertEq(p.unbonding, before.unbonding, "unbonding stake untouched");
        vm.assertEq(p.unbondingEnd, before.unbondingEnd, "unbonding end untouched");
        vm.assertEq(registry.freeStakeOf(PROVIDER), 500 ether, "free stake untouched");
        vm.assertEq(p.failed, 1, "recordOutcome recorded the failure");
        vm.assertEq(token.balanceOf(address(0xA11CE)), 100 ether, "paid first");
        vm.assertEq(token.balanceOf(address(0xCA201)), 20 ether, "paid the rest");
        vm.assertEq(registry.payoutOf(address(0xA11CE)), 100 ether, "credited first");
        vm.assertEq(registry.payoutOf(address(0xCA201)), 80 ether, "credited the rest");
        vm.assertEq(token.totalSupply(), supply, "nothing burned");
        vm.assertEq(token.balanceOf(address(registry)), 880 ether, "the ledger holds the stake and the credits");
        vm.prank(address(0xB0B)); // anyone may deliver a payee's credit, to the payee only
        vm.assertEq(registry.claimPayout(address(0xCA201)), 80 ether, "claimed");
        vm.assertEq(token.balanceOf(address(0xCA201)), 100 ether, "the payee got its credit");
        vm.assertEq(registry.payoutOf(address(0xCA201)), 0, "nothing left to claim");
        vm.expectRevert(abi.encodeWithSelector(StakingLedger.NothingToClaim.selector, address(0xCA201)));
        registry.claimPayout(address(0xCA201));

        vm.prank(MARKET);
        vm.expectRevert(abi.encodeWithSelector(ProviderRegistry.ProvisionExceeded.selector, 0, 1));
        registry.slash(PROVIDER, 1, to, amounts); // nothing provisioned: nothing slashable
    }

    /// ProviderRegistry.sol `recordOutcome`: with no slash amount nothing is slashed and no
    /// `Slashed` event is emitted (`slashAmount != 0` flipped or negated would slash 0, or skip
    /// the slash of an amount).
    function test_recordOutcomeSlashesOnlyAnAmount() public {
        _stakedProvider(PROVIDER, 100 ether);
        _provision(PROVIDER, 100 ether);
        address[] memory none = new address[](0);
        uint256[] memory zero = new uint256[](0);
        vmLogs.recordLogs();
        vm.prank(MARKET);
        registry.recordOutcome(PROVIDER, IProviderRegistry.Outcome.Completed, 0, none, zero);
        vm.assertEq(vmLogs.getRecordedLogs().length, 1, "ReputationUpdated only");
        vm.prank(MARKET);
        registry.recordOutcome(PROVIDER, IProviderRegistry.Outcome.DisputeLost, 40 ether, none, zero);
        ProviderRegistry.Provider memory p = registry.providerOf(PROVIDER);
        vm.assertEq(p.provisioned, 60 ether, "40 slashed of the provision");
        vm.assertEq(p.staked, 60 ether, "40 slashed of the stake");
        vm.assertEq(p.completed, 1, "completed");
        vm.assertEq(p.disputesLost, 1, "dispute lost");
    }

    /// ProviderRegistry.sol `deregister`: refused `StillProvisioned(provisioned)` while anything
    /// is provisioned (`provisioned != 0` flipped or negated), allowed once the provision is
    /// given back; all free stake then unbonds.
    function test_deregisterRefusedWhileProvisioned() public {
        _stakedProvider(PROVIDER, 1_000 ether);
        _provision(PROVIDER, 1);
        vm.prank(PROVIDER);
        vm.expectRevert(abi.encodeWithSelector(ProviderRegistry.StillProvisioned.selector, uint256(1)));
        registry.deregister();
        _provision(PROVIDER, -1);
        vm.prank(PROVIDER);
        registry.deregister();
        ProviderRegistry.Provider memory p = registry.providerOf(PROVIDER);
        vm.assertFalse(p.registered, "deregistered");
        vm.assertEq(p.unbonding, 1_000 ether, "all of it unbonding");
        vm.prank(MARKET);
        vm.expectRevert(abi.encodeWithSelector(ProviderRegistry.NotRegistered.selector, PROVIDER));
        registry.provision(PROVIDER, 1); // nor can a deregistered provider be provisioned
    }

    /// ProviderRegistry.sol: only the market (MARKET_ROLE) moves provisions, slashes them and
    /// records outcomes (the removal of `onlyRole(MARKET_ROLE)` from `provision`, `slash` or
    /// `recordOutcome`); calls that succeed for the market revert for another account, with
    /// the exact error.
    function test_onlyTheMarketProvisionsSlashesAndRecords() public {
        _stakedProvider(PROVIDER, 10 ether);
        address stranger = address(0x57A);
        bytes32 role = registry.MARKET_ROLE();
        address[] memory none = new address[](0);
        uint256[] memory zero = new uint256[](0);
        bytes[4] memory calls = [
            abi.encodeCall(registry.provision, (PROVIDER, int256(10 ether))),
            abi.encodeCall(registry.provision, (PROVIDER, int256(0))),
            abi.encodeCall(registry.slash, (PROVIDER, 0, none, zero)),
            abi.encodeCall(registry.recordOutcome, (PROVIDER, IProviderRegistry.Outcome.Completed, 0, none, zero))
        ];
        bytes memory denied =
            abi.encodeWithSelector(bytes4(keccak256("AccessControlUnauthorizedAccount(address,bytes32)")), stranger, role);
        for (uint256 i; i < calls.length; ++i) {
            vm.prank(stranger);
            (bool ok, bytes memory ret) = address(registry).call(calls[i]);
            vm.assertFalse(ok, string.concat("a stranger's call went through, call ", _digit(i)));
            vm.assertTrue(keccak256(ret) == keccak256(denied), string.concat("wrong error, call ", _digit(i)));
        }
        ProviderRegistry.Provider memory p = registry.providerOf(PROVIDER);
        vm.assertEq(p.provisioned + p.completed, 0, "nothing moved");
        for (uint256 i; i < calls.length; ++i) {
            vm.prank(MARKET);
            (bool ok,) = address(registry).call(calls[i]);
            vm.assertTrue(ok, string.concat("the market's call failed, call ", _digit(i)));
        }
        vm.assertEq(registry.providerOf(PROVIDER).provisioned, 10 ether, "the market provisioned");
    }

    /// ProviderRegistry.sol `register` (del of `p.initialized = true`, `p.region = region` and
    /// `metadataURIOf[msg.sender] = metadataURI` survived the full run): registration records the
    /// region and the metadata URI, and marks the record's second slot used, so the first
    /// provision writes a used slot.
    function test_registerRecordsRegionUriAndWarmsTheRecord() public {
        vm.prank(PROVIDER);
        registry.register("ipfs://p", bytes32("eu-west"));
        ProviderRegistry.Provider memory p = registry.providerOf(PROVIDER);
        vm.assertTrue(p.registered, "registered");
        vm.assertTrue(p.initialized, "the second slot is nonzero from registration on");
        vm.assertTrue(p.region == bytes32("eu-west"), "region");
        vm.assertTrue(keccak256(bytes(registry.metadataURIOf(PROVIDER))) == keccak256("ipfs://p"), "metadata URI");
    }

    /// StakingLedger.sol constructor: a CMP cap of exactly 2^96 - 1 fits the packed stake records
    /// (cmp `cap > max` -> `>=` survived the full run), one wei more does not.
    function test_tokenCapAtThe96BitLimit() public {
        uint256 limit = type(uint96).max;
        ComputeToken atLimit = new ComputeToken(GOV, address(this), 0, limit);
        new ProviderRegistry(GOV, IComputeToken(address(atLimit)), IRewardsDistributor(address(0)));
        ComputeToken over = new ComputeToken(GOV, address(this), 0, limit + 1);
        vm.expectRevert(abi.encodeWithSelector(StakingLedger.TokenCapTooLarge.selector, limit + 1));
        new ProviderRegistry(GOV, IComputeToken(address(over)), IRewardsDistributor(address(0)));
    }

    /// StakingLedger.sol `registerVerifier`: all 4,096 slots of the tree are usable (cmp `slot >
    /// CAPACITY` -> `>=` survived): the 4,096th verifier takes the last slot, the 4,097th is refused.
    function test_everySlotOfTheTreeIsUsable() public {
        for (uint160 i = 1; i <= 4_096; ++i) {
            vm.prank(address(0x10000 + i));
            registry.registerVerifier();
        }
        vm.assertEq(registry.verifierAtSlot(4_096), address(0x10000 + 4_096), "the last slot taken");
        vm.expectRevert(abi.encodeWithSelector(StakingLedger.VerifierCapacityReached.selector, uint256(4_096)));
        vm.prank(address(0x20000));
        registry.registerVerifier();
    }

    /// StakingLedger.sol `requestVerifierUnstake`: active = staked - unbonding (arith `-` -> `+`
    /// survived): with 2,500 CMP staked and 1,500 unbonding, 1,001 more is refused and 1,000 (all
    /// that is active) is not. (The mutant's active stake, 4,000 CMP, would let 1,001 through and
    /// leave 2,999 active, above `MIN_VERIFIER_STAKE`: no other check refuses it.)
    function test_verifierUnstakesOnlyActiveStake() public {
        address verifier = address(0xFEE);
        _stakeAsVerifier(verifier, 2_500 ether);
        vm.startPrank(verifier);
        registry.requestVerifierUnstake(1_500 ether);
        vm.expectRevert(abi.encodeWithSelector(StakingLedger.NotEnoughActiveStake.selector, 1_000 ether, 1_001 ether));
        registry.requestVerifierUnstake(1_001 ether);
        registry.requestVerifierUnstake(1_000 ether);
        vm.stopPrank();
        vm.assertEq(registry.activeStakeOf(verifier), 0, "all of it unbonding");
    }

    /// StakingLedger.sol `processDraws` (cmp flips of `processed < maxEntries`, `head < tail`
    /// and `block.number <= e.targetBlock`, and `processed == 0` flipped or negated, survived):
    /// a draw at its target block is not ready and, first in the queue, reverts `DrawNotReady`;
    /// a batch takes at most `maxEntries` entries and never runs past the tail; a draw not ready
    /// behind processed entries ends the batch without reverting.
    function test_processDrawsBatchBoundaries() public {
        vm.prank(GOV);
        registry.setResolver(IDrawConsumer(address(this)));
        uint256 target = registry.requestDraw(IStakingLedger.EntryKind.VerifierDraw, 1); // position 0
        _stakeAsVerifier(address(0xA1), 1_000 ether); // queued behind the draw: position 1
        _stakeAsVerifier(address(0xA2), 1_000 ether); // position 2
        vm.roll(target);
        vm.expectRevert(abi.encodeWithSelector(StakingLedger.DrawNotReady.selector, uint256(1), target));
        registry.processDraws(10);

        vm.roll(target + 1);
        vm.assertEq(registry.processDraws(1), 1, "one entry: the draw");
        vm.assertEq(drawsCompleted, 1, "drawn");
        vm.assertEq(registry.processDraws(10), 2, "the two stake changes, not past the tail");
        vm.assertEq(registry.queueHead(), 3, "head at the tail");
        vm.assertEq(registry.queueTail(), 3, "tail");

        uint256 first = registry.requestDraw(IStakingLedger.EntryKind.VerifierDraw, 2); // position 3
        _stakeAsVerifier(address(0xA3), 1_000 ether); // position 4
        vm.roll(first + 1);
        uint256 second = registry.requestDraw(IStakingLedger.EntryKind.VerifierDraw, 3); // position 5
        vm.assertGt(second, block.number, "the second draw is not ready yet");
        vm.assertEq(registry.processDraws(10), 2, "the first draw and the stake change, then a stop");
        vm.assertEq(registry.queueHead(), 5, "the second draw waits first in the queue");
        vm.assertEq(drawsCompleted, 2, "drawn");
    }

    function _stakeAsVerifier(address verifier, uint256 amount) private {
        vm.prank(address(handler)); // the handler holds the supply
        token.transfer(verifier, amount);
        vm.startPrank(verifier);
        if (registry.verifierSlotOf(verifier) == 0) registry.registerVerifier();
        token.approve(address(registry), amount);
        registry.stakeAsVerifier(amount);
        vm.stopPrank();
    }

    /// StakingLedger.sol `_exclude`: an excluded set given out of slot order is sorted by shifting
    /// the larger slots up (arith `j - 1` -> `j + 1` in the shift survived the CI sample once the
    /// handler's calls changed with step two: it reads past the entries, or the end of the set).
    /// With verifiers in slots 1, 2 and 3, excluding 3 then 1 (and 3 again, a duplicate) leaves
    /// only slot 2 to draw, every seat.
    function test_excludedSetOutOfSlotOrder() public {
        address[3] memory v = [address(0xE1), address(0xE2), address(0xE3)];
        for (uint256 i; i < 3; ++i) {
            _stakeAsVerifier(v[i], 1_000 ether + i * 500 ether); // slots 1, 2, 3
            vm.assertEq(registry.verifierOf(v[i]).slot, i + 1, "slot in registration order");
        }
        address[] memory excluded = new address[](2);
        (excluded[0], excluded[1]) = (v[2], v[0]);
        address[] memory drawn = registry.drawVerifiers(7, excluded, 8);
        vm.assertEq(drawn.length, 8, "eight seats");
        for (uint256 i; i < drawn.length; ++i) {
            vm.assertEq(drawn[i], v[1], "only the verifier not excluded is drawn");
        }
        excluded = new address[](3);
        (excluded[0], excluded[1], excluded[2]) = (v[2], v[0], v[2]);
        drawn = registry.drawVerifiers(11, excluded, 8);
        vm.assertEq(drawn.length, 8, "eight seats, the duplicate ignored");
        for (uint256 i; i < drawn.length; ++i) {
            vm.assertEq(drawn[i], v[1], "only the verifier not excluded is drawn, duplicate or not");
        }
    }

    /// StakingLedger.sol `drawReady`: a draw is not ready while its target block is the current
    /// block (cmp `<=` -> `<` survived), and is ready from the next block on.
    function test_drawReadyOnlyAfterTargetBlock() public {
        vm.prank(GOV);
        registry.setResolver(IDrawConsumer(address(this)));
        uint256 target = registry.requestDraw(IStakingLedger.EntryKind.VerifierDraw, 42);
        vm.assertFalse(registry.drawReady(0), "not ready before the target block");
        vm.roll(target);
        vm.assertFalse(registry.drawReady(0), "not ready at the target block");
        vm.roll(target + 1);
        vm.assertTrue(registry.drawReady(0), "ready once the target block is mined");
    }

    /// ProviderRegistry.sol `requestUnstake`: the whole free stake can be unstaked at once
    /// (cmp `amount > free` -> `>=` survived), one wei more cannot.
    function test_requestUnstakeOfAllFreeStake() public {
        vm.prank(address(handler)); // the handler holds the supply
        token.transfer(PROVIDER, 1_000 ether);
        vm.startPrank(PROVIDER);
        registry.register("ipfs://p", bytes32("eu-west"));
        token.approve(address(registry), 1_000 ether);
        registry.stake(1_000 ether);
        vm.expectRevert(
            abi.encodeWithSelector(ProviderRegistry.NotEnoughFreeStake.selector, 1_000 ether, 1_000 ether + 1)
        );
        registry.requestUnstake(1_000 ether + 1);
        registry.requestUnstake(1_000 ether);
        vm.stopPrank();
        vm.assertEq(registry.providerOf(PROVIDER).unbonding, 1_000 ether, "all of it unbonding");
        vm.assertEq(registry.freeStakeOf(PROVIDER), 0, "nothing free");
    }

    /// StakingLedger.sol `setUnbondingPeriod`: the floor is 1 day, or the resolver's slash delay
    /// plus one when that is at least 1 day (survived: if-neg of `delay >= above`; also pins
    /// `>=` -> `>` and `delay + 1` -> `delay - 1`).
    function test_unbondingPeriodFloorFollowsSlashDelay() public {
        vm.startPrank(GOV);
        registry.setResolver(IDrawConsumer(address(this)));

        slashDelayValue = 1 hours; // below 1 day: the floor stays 1 day
        vm.expectRevert();
        registry.setUnbondingPeriod(1 days - 1);
        registry.setUnbondingPeriod(1 days);
        vm.assertEq(registry.unbondingPeriod(), 1 days, "1 day accepted");

        slashDelayValue = 1 days; // exactly 1 day: the period must exceed it
        vm.expectRevert();
        registry.setUnbondingPeriod(1 days);
        registry.setUnbondingPeriod(1 days + 1);
        vm.assertEq(registry.unbondingPeriod(), 1 days + 1, "1 day + 1 s accepted");

        slashDelayValue = 3 days;
        vm.expectRevert();
        registry.setUnbondingPeriod(3 days);
        registry.setUnbondingPeriod(3 days + 1);
        vm.assertEq(registry.unbondingPeriod(), 3 days + 1, "3 days + 1 s accepted");
        vm.stopPrank();
    }

    /// StakingLedger.sol `setResolver`: entries queued = tail - head (arith `-` -> `+` survived):
    /// once every queued entry is processed the resolver can be replaced, head and tail nonzero.
    function test_setResolverAfterTheQueueDrains() public {
        vm.prank(GOV);
        registry.setResolver(IDrawConsumer(address(this)));
        uint256 target = registry.requestDraw(IStakingLedger.EntryKind.VerifierDraw, 7);
        vm.prank(GOV);
        vm.expectRevert(abi.encodeWithSelector(StakingLedger.DrawsPending.selector, uint256(1)));
        registry.setResolver(IDrawConsumer(address(resolver)));
        vm.roll(target + 1);
        registry.processDraws(1);
        vm.assertEq(drawsCompleted, 1, "draw completed");
        vm.assertEq(registry.queueHead(), 1, "head moved");
        vm.prank(GOV);
        registry.setResolver(IDrawConsumer(address(resolver)));
    }

    /// StakingLedger.sol `takeStakeRewards`: nothing owed, no `StakeRewardsTaken` event (cmp
    /// `amount != 0` -> `==` survived: the suite never looked at events).
    function test_takeStakeRewardsOfNothingEmitsNothing() public {
        vmLogs.recordLogs();
        vm.prank(address(rewards));
        uint256 amount = registry.takeStakeRewards(PROVIDER);
        vm.assertEq(amount, 0, "nothing owed");
        vm.assertEq(vmLogs.getRecordedLogs().length, 0, "no event");
    }

    /// StakingLedger.sol `takeStakeRewards` (arith `staked - unbonding` -> `+` in the verifier's
    /// stake at risk survived: no test took a verifier's rewards while part of its stake was
    /// unbonding): 2,500 CMP staked, 1,000 unbonding, a day later the take is exactly what
    /// `pendingStakeRewards` showed for the 1,500 CMP at risk (the mutant counts 3,500).
    function test_takeStakeRewardsOfAVerifierCountsItsActiveStakeOnly() public {
        address verifier = address(0xFEE);
        _stakeAsVerifier(verifier, 2_500 ether);
        vm.prank(verifier);
        registry.requestVerifierUnstake(1_000 ether);
        vm.warp(block.timestamp + 1 days);
        uint256 pending = registry.pendingStakeRewards(verifier);
        vm.assertGt(pending, 0, "rewards accrued");
        vm.prank(address(rewards));
        vm.assertEq(registry.takeStakeRewards(verifier), pending, "the active stake's rewards, to the wei");
    }

    /// StakingLedger.sol `setDrawDelay`: the new delay is stored and used by the next draw
    /// (del of `drawDelay = ...` survived), within [1, 64].
    function test_setDrawDelayTakesEffect() public {
        vm.startPrank(GOV);
        registry.setResolver(IDrawConsumer(address(this)));
        registry.setDrawDelay(17);
        vm.expectRevert();
        registry.setDrawDelay(0);
        vm.expectRevert();
        registry.setDrawDelay(65);
        vm.stopPrank();
        vm.assertEq(registry.drawDelay(), 17, "stored");
        uint256 target = registry.requestDraw(IStakingLedger.EntryKind.JuryDraw, 9);
        vm.assertEq(target, block.number + 17, "used by the next draw");
    }

    /// Every `nonReentrant` entry point refuses a call made while `processDraws` runs (from the
    /// resolver's `completeDraw`): kills the removal of `nonReentrant` (mod-rm) from `stake`,
    /// `withdrawUnstaked`, `slash`, `recordOutcome`, `stakeAsVerifier`, `withdrawVerifierStake`,
    /// `processDraws` and `slashVerifier` (the removal from `withdrawUnstaked` survived: CMP has
    /// no transfer hooks, so only a re-entering resolver can tell).
    function test_nonReentrantEntryPointsRefuseReentry() public {
        vm.startPrank(GOV);
        registry.setResolver(IDrawConsumer(address(this)));
        registry.grantRole(registry.MARKET_ROLE(), address(this));
        vm.stopPrank();
        uint256 target = registry.requestDraw(IStakingLedger.EntryKind.VerifierDraw, 5);
        vm.roll(target + 1);
        reenter = true;
        registry.processDraws(1);
        vm.assertEq(drawsCompleted, 1, "draw completed");
        bytes4 guard = bytes4(keccak256("ReentrancyGuardReentrantCall()"));
        for (uint256 i; i < 8; ++i) {
            vm.assertTrue(reentryAnswers[i] == guard, string.concat("re-entry refused by the guard, call ", _digit(i)));
        }
    }

    function _digit(uint256 i) private pure returns (string memory) {
        return string(abi.encodePacked(bytes1(uint8(48 + i))));
    }

    /// While paused, a registered provider or verifier with approved CMP cannot stake (the
    /// removal of `whenNotPaused` from `stakeAsVerifier` survived: the handler's paused stake
    /// also failed for other reasons); after unpausing both stakes go through.
    function test_pauseStopsStakesOfRegisteredAccounts() public {
        address verifier = address(0x7E21);
        vm.startPrank(address(handler)); // the handler holds the supply
        token.transfer(PROVIDER, 10 ether);
        token.transfer(verifier, 1_000 ether);
        vm.stopPrank();
        vm.startPrank(PROVIDER);
        registry.register("ipfs://p", bytes32("eu-west"));
        token.approve(address(registry), 10 ether);
        vm.stopPrank();
        vm.startPrank(verifier);
        registry.registerVerifier();
        token.approve(address(registry), 1_000 ether);
        vm.stopPrank();

        vm.prank(GOV);
        registry.pause();
        bytes4 paused = bytes4(keccak256("EnforcedPause()"));
        vm.prank(PROVIDER);
        vm.expectRevert(paused);
        registry.stake(1 ether);
        vm.prank(verifier);
        vm.expectRevert(paused);
        registry.stakeAsVerifier(1_000 ether); // the minimum: only the pause refuses it

        vm.prank(GOV);
        registry.unpause();
        vm.prank(PROVIDER);
        registry.stake(1 ether);
        vm.prank(verifier);
        registry.stakeAsVerifier(1_000 ether);
        vm.assertEq(registry.stakeOf(PROVIDER), 1 ether, "provider staked");
        vm.assertEq(registry.verifierOf(verifier).staked, 1_000 ether, "verifier staked");
    }
}
