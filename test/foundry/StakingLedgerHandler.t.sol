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
        handler.processDraws(1, 1, 3);
        vm.assertEq(resolver.drawsCompleted(), 1, "draw completed");
        vm.assertEq(resolver.verifiersDrawn(), 3, "three drawn");

        // Exclude verifiers 0 and 1 (and, bit 7, a stranger address and a duplicate): ask for 6, get 3.
        handler.requestDraw(1, 0x83, 6);
        // A stake change and an unstake after the request queue behind the draw.
        handler.stakeAsVerifier(2, 500 ether);
        handler.requestVerifierUnstake(3, 100 ether);
        vm.assertEq(registry.queueTail() - registry.queueHead(), 3, "draw + two queued changes");
        handler.processDraws(8, 2, 3);
        vm.assertEq(resolver.drawsCompleted(), 2, "second draw completed");
        vm.assertEq(resolver.verifiersDrawn(), 6, "three more drawn");

        // A draw whose target block leaves the hash window is re-targeted, then completed.
        handler.requestDraw(0, 0, 2);
        handler.roll(300);
        handler.processDraws(4, 3, 3); // re-targets
        vm.assertEq(resolver.drawsCompleted(), 2, "re-targeted, not drawn");
        handler.processDraws(4, 4, 3); // rolls to the new target and draws
        vm.assertEq(resolver.drawsCompleted(), 3, "re-targeted draw completed");

        // A slashed verifier's stake leaves the tree; an all-slashed one is never drawn.
        handler.slashVerifier(0, 10_000, 0);
        handler.requestDraw(0, 0, 5);
        handler.processDraws(4, 5, 3);
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
        for (uint256 which; which < 17; ++which) {
            handler.strangerCall(which, which);
        }
        handler.govern(3, 0); // pause
        vm.assertTrue(registry.paused(), "paused");
        handler.stake(2, 1 ether);
        handler.stakeAsVerifier(3, 1 ether);
        handler.register(3, "x");
        handler.govern(3, 0); // unpause
        vm.assertFalse(registry.paused(), "unpaused");
        vm.assertEq(handler.strangerCalls(), 17, "stranger calls made");
        afterInvariant();
    }

    /// Jobs close through `closeLock` (with a slash, after a refused bad payee list; without one)
    /// and through the old path (release, slash, record): locks, slashes and reputation keep the books.
    function test_closeLockAndOldPath() public {
        handler.lockCollateral(0, 0, 4, 10_000 ether);
        handler.lockCollateral(1, 1, 2, 0);
        handler.lockCollateral(0, 1, 1, 5 ether);
        handler.stake(0, 5_000 ether);
        handler.requestUnstake(0, 1_000 ether);
        // closeLock with a slash of everything slashable; a five-payee list is refused first.
        handler.closeJob(0, 1 << 8, 1, type(uint256).max, 4, 7);
        vm.assertEq(handler.reached("closeLockRefused"), 1, "bad payee list tried");
        // The old path with a slash, then closeLock without one.
        handler.closeJob(0, 1 | (1 << 8), 2, 1_000 ether, 2, 9);
        handler.closeJob(0, 0, 0, 0, 0, 0);
        vm.assertEq(handler.liveLocks(), 0, "all locks closed");
        vm.assertEq(handler.reached("closeLock"), 2, "closed by closeLock");
        vm.assertEq(handler.reached("closeOldPath"), 1, "closed by the old path");
        vm.assertEq(handler.reached("closeWithSlash"), 2, "two closes slashed");
        vm.assertGe(handler.ghostBurned() + handler.ghostSlashPaid(), 5_000 ether, "slashed");
        handler.recordOutcome(1, 0);
        afterInvariant();
    }

    /// With the VRF mock as source: a draw uses the word once it arrived (a zero word too); a
    /// draw whose word is pending cannot be made (DrawNotReady) until the patience runs out, then
    /// uses the target block's hash; a refusing source does not stop the request; governance can
    /// switch the source only with an empty queue.
    function test_randomnessDraws() public {
        for (uint256 i; i < 5; ++i) {
            handler.stakeAsVerifier(i, (i + 1) * 1000 ether);
        }
        handler.switchRandomness(1); // on (empty queue)
        vm.assertEq(address(registry.randomness()), address(vrf), "source set");

        handler.requestDraw(0, 0, 3);
        vm.assertTrue(vrf.requested(0), "the draw asked for a word for its position");
        handler.processDraws(1, 9, 0); // the word arrives, the draw uses it
        vm.assertEq(resolver.drawsCompleted(), 1, "drawn from the word");
        vm.assertEq(handler.reached("drawFromWord"), 1, "word used");

        handler.requestDraw(1, 0, 2);
        handler.processDraws(1, 1, 1); // pending: must revert DrawNotReady(jobId, target + 128)
        vm.assertEq(handler.reached("wordPending"), 1, "pending draw refused");
        vm.assertEq(resolver.drawsCompleted(), 1, "not drawn while pending");
        handler.switchRandomness(0); // off, with a draw queued: must revert
        vm.assertEq(handler.reached("randomnessSwitchRefused"), 1, "switch refused");
        vm.assertEq(address(registry.randomness()), address(vrf), "source kept");
        handler.processDraws(1, 2, 2); // waits out the patience, falls back to the block hash
        vm.assertEq(handler.reached("patienceBoundary"), 1, "patience boundary checked");
        vm.assertEq(handler.reached("drawFromHashAfterPatience"), 1, "fell back");
        vm.assertEq(resolver.drawsCompleted(), 2, "drawn after the patience");

        handler.randomnessSource(0, 0, 0); // the source refuses requests
        handler.requestDraw(0, 0, 1);
        vm.assertEq(handler.reached("requestRefused"), 1, "request refused, draw still queued");
        handler.processDraws(1, 3, 2);
        vm.assertEq(resolver.drawsCompleted(), 3, "refused draw fell back");

        handler.randomnessSource(0, 1, 0); // accepts again
        handler.requestDraw(0, 0, 2);
        handler.randomnessSource(1, 0, 8); // delivers the word 0 (8 % 8 == 0)
        handler.processDraws(1, 4, 3);
        vm.assertEq(handler.reached("drawFromZeroWord"), 1, "a zero word is a word");

        handler.switchRandomness(0); // off (empty queue)
        vm.assertEq(address(registry.randomness()), address(0), "source unset");
        handler.requestDraw(0, 0, 1);
        handler.processDraws(1, 5, 3);
        vm.assertEq(handler.reached("drawFromHash"), 1, "block hash without a source");
        vm.assertEq(resolver.seedsChecked(), 5, "every seed checked");
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
        handler.processDraws(8, amount, 3);
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

    /// @notice The ledger's accounting, as in the invariant suite's (a), (b), (d), (e), (f), (g), (h), (j).
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
        vm.assertEq(resolver.wrongSeed() + vrf.badRequests(), 0, "(f) seeds and requests");
        vm.assertFalse(handler.ghostStrangerSucceeded(), "(g) stranger");
        for (uint256 i; i < ps.length; ++i) {
            ProviderRegistry.Provider memory p = registry.providerOf(ps[i]);
            vm.assertEq(p.completed, handler.ghostCompleted(ps[i]), "(j) completed");
            vm.assertEq(p.failed, handler.ghostFailed(ps[i]), "(j) failed");
            vm.assertEq(p.disputesLost, handler.ghostDisputesLost(ps[i]), "(j) disputesLost");
        }
        vm.assertEq(handler.ghostSpecViolations(), 0, handler.lastSpecViolation());
    }
}
