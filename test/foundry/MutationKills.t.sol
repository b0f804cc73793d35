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
    bytes32 internal constant MODEL = bytes32("H100");
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
        IProviderRegistry.Lock memory lock = _lock(1, 1);
        bytes[8] memory calls = [
            abi.encodeCall(registry.stake, (1)),
            abi.encodeCall(registry.withdrawUnstaked, ()),
            abi.encodeCall(registry.slash, (PROVIDER, 0, none, zero)),
            abi.encodeCall(registry.closeLock, (PROVIDER, lock, IProviderRegistry.Outcome.Completed, 0, none, zero)),
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

    function _lock(uint256 jobId, uint32 gpus) internal view returns (IProviderRegistry.Lock memory) {
        return IProviderRegistry.Lock({jobId: jobId, gpuModel: MODEL, gpus: gpus, amount: 0});
    }

    /// ProviderRegistry.sol `_lock`: available = offered - reserved (arith `-` -> `+` survived):
    /// once a provider's GPUs are all reserved, one more GPU is refused with `available` 0, and
    /// with some reserved only the rest can be locked.
    function test_lockRefusesReservedCapacity() public {
        vm.startPrank(PROVIDER);
        registry.register("ipfs://p", bytes32("eu-west"));
        registry.setCapacity(MODEL, 3, 80);
        vm.stopPrank();

        vm.startPrank(MARKET);
        registry.lockCollateral(PROVIDER, _lock(1, 2));
        vm.expectRevert(abi.encodeWithSelector(ProviderRegistry.InsufficientCapacity.selector, uint32(1), uint32(2)));
        registry.lockCollateral(PROVIDER, _lock(2, 2));
        registry.lockCollateral(PROVIDER, _lock(3, 1));
        vm.expectRevert(abi.encodeWithSelector(ProviderRegistry.InsufficientCapacity.selector, uint32(0), uint32(1)));
        registry.lockCollateral(PROVIDER, _lock(4, 1));
        vm.stopPrank();
        vm.assertEq(registry.capacityOf(PROVIDER, MODEL).reserved, 3, "all three reserved");
    }

    /// ProviderRegistry.sol `register` (del of `p.initialized = true`, `p.region = region` and
    /// `metadataURIOf[msg.sender] = metadataURI` survived the full run): registration records the
    /// region and the metadata URI, and marks the record's second slot used, so the first lock
    /// writes a used slot.
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
    /// `withdrawUnstaked`, `slash`, `closeLock`, `stakeAsVerifier`, `withdrawVerifierStake`,
    /// `processDraws` and `slashVerifier` (the removal from `withdrawUnstaked` survived: CMP has
    /// no transfer hooks, so only a re-entering resolver can tell).
    function test_nonReentrantEntryPointsRefuseReentry() public {
        vm.startPrank(GOV);
        registry.setResolver(IDrawConsumer(address(this)));
        registry.grantRole(registry.MARKET_ROLE(), address(this));
        registry.grantRole(registry.SLASHER_ROLE(), address(this));
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
