// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ProviderRegistry} from "../../contracts/registry/ProviderRegistry.sol";
import {LedgerSetup} from "./LedgerSetup.sol";

/// @title StakingLedgerHandlerTest
/// @notice Scripted and fuzzed sequences through the handler: they show that its actions reach
///         the paths the invariants are about (draws completed, exclusions, queued stake changes,
///         re-targeted draws, slashes paid and burned), and check the ledger's accounting after them.
contract StakingLedgerHandlerTest is LedgerSetup {
    function setUp() public {
        _deploy();
    }

    /// Draws complete, see the stake as it stood at the request, honour exclusions, and a draw
    /// whose target block left the 256-block window is re-targeted and completed later.
    function test_drawsQueueAndExclusions() public {
        for (uint256 i; i < 5; ++i) {
            handler.stakeAsVerifier(i, (i + 1) * 1000 ether);
        }
        handler.requestDraw(0, 0, 3);
        handler.processDraws(1, 1);
        vm.assertEq(resolver.drawsCompleted(), 1, "draw completed");
        vm.assertEq(resolver.verifiersDrawn(), 3, "three drawn");

        // Exclude verifiers 0 and 1 (and, bit 7, a stranger address and a duplicate): ask for 6, get 3.
        handler.requestDraw(1, 0x83, 6);
        // A stake change and an unstake after the request queue behind the draw.
        handler.stakeAsVerifier(2, 500 ether);
        handler.requestVerifierUnstake(3, 100 ether);
        vm.assertEq(registry.queueTail() - registry.queueHead(), 3, "draw + two queued changes");
        handler.processDraws(8, 2);
        vm.assertEq(resolver.drawsCompleted(), 2, "second draw completed");
        vm.assertEq(resolver.verifiersDrawn(), 6, "three more drawn");

        // A draw whose target block leaves the hash window is re-targeted, then completed.
        handler.requestDraw(0, 0, 2);
        handler.roll(300);
        handler.processDraws(4, 3); // re-targets
        vm.assertEq(resolver.drawsCompleted(), 2, "re-targeted, not drawn");
        handler.processDraws(4, 4); // rolls to the new target and draws
        vm.assertEq(resolver.drawsCompleted(), 3, "re-targeted draw completed");

        // A slashed verifier's stake leaves the tree; an all-slashed one is never drawn.
        handler.slashVerifier(0, 10_000, 0);
        handler.requestDraw(0, 0, 5);
        handler.processDraws(4, 5);
        vm.assertEq(resolver.verifiersDrawn(), 6 + 2 + 4, "four verifiers with stake left");
        afterInvariant();
    }

    /// Locks, slashes (capped at stake minus locks, paid in order, rest burned), releases,
    /// unstakes and withdrawals keep the books.
    function test_providerLifecycle() public {
        handler.lockCollateral(0, 0, 4, 10_000 ether);
        handler.lockCollateral(0, 1, 2, 0);
        handler.stake(0, 5_000 ether);
        handler.requestUnstake(0, 1_000 ether); // unbonding stake is slashable too
        handler.slashProvider(0, type(uint256).max, 4, 7);
        vm.assertEq(registry.freeStakeOf(handler.providers()[0]), 0, "slash took all unlocked stake");
        vm.assertEq(handler.ghostBurned() + handler.ghostSlashPaid(), 5_000 ether, "free and unbonding stake slashed");
        handler.releaseCollateral(0);
        handler.requestUnstake(0, type(uint256).max);
        handler.withdrawUnstaked(0, 1); // waits out the unbonding period
        vm.assertGe(handler.ghostWithdrawn(), 1, "withdrew");
        handler.deregister(0); // still one lock: must revert, and does
        handler.releaseCollateral(0);
        handler.deregister(0);
        vm.assertFalse(registry.providerOf(handler.providers()[0]).registered, "deregistered");
        afterInvariant();
    }

    /// Every privileged function reverts for strangers; pausing stops stakes and registrations.
    function test_strangersAndPause() public {
        handler.lockCollateral(1, 0, 1, 0);
        handler.stakeAsVerifier(1, 1 ether);
        for (uint256 which; which < 16; ++which) {
            handler.strangerCall(which, which);
        }
        handler.govern(3, 0); // pause
        vm.assertTrue(registry.paused(), "paused");
        handler.stake(2, 1 ether);
        handler.stakeAsVerifier(3, 1 ether);
        handler.register(3, "x");
        handler.govern(3, 0); // unpause
        vm.assertFalse(registry.paused(), "unpaused");
        vm.assertEq(handler.strangerCalls(), 16, "stranger calls made");
        afterInvariant();
    }

    /// Fuzz: any slash of a provider with locks and unbonding stake keeps the books.
    function testFuzz_slashProvider(uint256 stakeAmount, uint256 unstake, uint256 slashAmount, uint256 n, uint256 seed)
        public
    {
        handler.stake(0, stakeAmount);
        handler.lockCollateral(0, seed, seed >> 16, seed >> 32);
        handler.requestUnstake(0, unstake);
        handler.slashProvider(0, slashAmount, n, seed);
        afterInvariant();
    }

    /// Fuzz: a verifier slash with queued draws and unbonding stake keeps the tree in step.
    function testFuzz_slashVerifierWhileDrawQueued(uint256 amount, uint256 unstake, uint256 bps, uint256 payee) public {
        handler.stakeAsVerifier(0, amount);
        handler.stakeAsVerifier(1, amount >> 1);
        handler.requestDraw(0, 0, 2);
        handler.requestVerifierUnstake(0, unstake);
        handler.slashVerifier(0, bps, payee);
        handler.processDraws(8, amount);
        afterInvariant();
        vm.assertEq(resolver.drawsCompleted(), 1, "draw completed");
    }

    /// Invariants (see `StakingLedgerInvariants`), checked at the end of each scripted test.
    function afterInvariant() internal view {
        (bool ok, bytes memory ret) = address(this).staticcall(abi.encodeWithSignature("checkAll()"));
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
    }

    /// @notice The ledger's accounting, as in the invariant suite's (a), (b), (d), (e), (f), (g), (h).
    function checkAll() external view {
        address[] memory ps = handler.providers();
        address[] memory vs = handler.verifiers();
        uint256 sum;
        for (uint256 i; i < ps.length; ++i) {
            ProviderRegistry.Provider memory p = registry.providerOf(ps[i]);
            vm.assertGe(p.staked, uint256(p.locked) + p.unbonding, "(b) staked < locked + unbonding");
            vm.assertEq(p.locked, handler.ghostLocked(ps[i]), "(b) locked != live locks");
            sum += p.staked;
        }
        for (uint256 i; i < vs.length; ++i) {
            sum += registry.verifierOf(vs[i]).staked;
        }
        uint256 balance = token.balanceOf(address(registry));
        vm.assertEq(balance, sum, "(a) balance != stakes");
        vm.assertEq(
            handler.ghostDeposited() - handler.ghostWithdrawn() - handler.ghostSlashPaid() - handler.ghostBurned(),
            balance,
            "(d) conservation"
        );
        vm.assertEq(INITIAL_SUPPLY - token.totalSupply(), handler.ghostBurned(), "(e) burns");
        vm.assertEq(
            resolver.drawnWithoutStake() + resolver.drawnExcluded() + resolver.drawnTwice() + resolver.wrongCount()
                + resolver.wrongTotal() + resolver.badCompletions(),
            0,
            "(f) draws"
        );
        vm.assertFalse(handler.ghostStrangerSucceeded(), "(g) stranger");
        vm.assertEq(handler.ghostSpecViolations(), 0, handler.lastSpecViolation());
    }
}
