// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ProviderRegistry} from "../../contracts/registry/ProviderRegistry.sol";
import {StakingLedger} from "../../contracts/staking/StakingLedger.sol";
import {IComputeToken} from "../../contracts/interfaces/IComputeToken.sol";
import {IRewardsDistributor} from "../../contracts/interfaces/IRewardsDistributor.sol";
import {IProviderRegistry} from "../../contracts/interfaces/IProviderRegistry.sol";
import {IStakingLedger} from "../../contracts/interfaces/IStakingLedger.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {LedgerSetup} from "./LedgerSetup.sol";
import {MockRewards} from "./mocks/MockRewards.sol";

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

        // Exclude verifiers 0 and 1 (and, bit 7, a stranger address and a duplicate): ask for 6
        // seats, get 6 among the other three (drawn with replacement).
        handler.requestDraw(1, 0x83, 6);
        // A stake change and an unstake after the request queue behind the draw.
        handler.stakeAsVerifier(2, 500 ether);
        handler.requestVerifierUnstake(3, 100 ether);
        vm.assertEq(registry.queueTail() - registry.queueHead(), 3, "draw + two queued changes");
        handler.processDraws(8, 2, 3);
        vm.assertEq(resolver.drawsCompleted(), 2, "second draw completed");
        vm.assertEq(resolver.verifiersDrawn(), 9, "six more seats drawn");

        // A draw whose target block leaves the hash window is re-targeted, then completed.
        handler.requestDraw(0, 0, 2);
        handler.roll(300);
        handler.processDraws(4, 3, 3); // re-targets
        vm.assertEq(resolver.drawsCompleted(), 2, "re-targeted, not drawn");
        handler.processDraws(4, 4, 3); // rolls to the new target and draws
        vm.assertEq(resolver.drawsCompleted(), 3, "re-targeted draw completed");

        // A slashed verifier's stake leaves the tree; an all-slashed one is never drawn.
        handler.slashVerifier(0, 1_500 ether, 0); // more than its 1,000 CMP: takes all of it
        vm.assertEq(registry.verifierOf(handler.verifiers()[0]).staked, 0, "slashed to zero");
        handler.requestDraw(0, 0, 5);
        handler.processDraws(4, 5, 3);
        vm.assertEq(resolver.verifiersDrawn(), 9 + 2 + 5, "five seats among the four with stake left");
        afterInvariant();
    }

    /// A provider's stake through the market: provisioned (staking what it lacks) for a job's
    /// lock, provisioned more, slashed of the provision only (never of the unbonding stake, nor
    /// of the free stake), a slash beyond the provision refused, deregistering refused while
    /// provisioned; the job ends with a slash, the provision is given back, the provider leaves
    /// and withdraws. The books keep.
    function test_providerLifecycle() public {
        address p0 = handler.providers()[0];
        handler.openJob(0, 4, 10_000 ether, 0x101); // registers, stakes and provisions 10,400 CMP; locks it
        ProviderRegistry.Provider memory r = registry.providerOf(p0);
        vm.assertEq(r.provisioned, 10_400 ether, "provisioned what the job locks");
        vm.assertEq(r.staked, 10_400 ether, "staked what it lacked");
        vm.assertEq(handler.ghostLocked(p0), 10_400 ether, "the market's lock");
        handler.stake(0, 5_000 ether);
        handler.requestUnstake(0, 1_000 ether);
        handler.provisionIn(0, 2_000 ether, 0x101); // of the 4,000 CMP free
        vm.assertEq(registry.freeStakeOf(p0), 2_000 ether, "15,400 - 12,400 - 1,000");
        handler.slashProvider(0, 2_000 ether, 4, 7); // all the provision no job holds
        r = registry.providerOf(p0);
        vm.assertEq(r.provisioned, 10_400 ether, "slashed the provision no job holds");
        vm.assertEq(r.unbonding, 1_000 ether, "the unbonding stake untouched");
        vm.assertEq(registry.freeStakeOf(p0), 2_000 ether, "the free stake untouched");
        vm.assertEq(handler.ghostBurned() + handler.ghostSlashPaid(), 2_000 ether, "slashed 2,000 CMP");
        handler.slashProvider(0, 1, 0, 4); // paySeed % 4 == 0: beyond the provision, refused
        vm.assertEq(handler.reached("slashBeyondProvisionRefused"), 1, "a slash beyond the provision refused");
        handler.deregister(0, 0); // still provisioned: refused
        vm.assertEq(handler.reached("deregisterRefused"), 1, "refused while provisioned");
        handler.closeJob(0, 1 << 8, 1, 5_000 ether, 2, 9); // recordOutcome(Failed) with a slash of 5,000
        r = registry.providerOf(p0);
        vm.assertEq(r.provisioned, 5_400 ether, "the job's slash taken of the provision");
        vm.assertEq(r.failed, 1, "the failure recorded");
        vm.assertEq(r.unbonding, 1_000 ether, "the unbonding stake still untouched");
        handler.deregister(0, 1); // no job holds the provision: given back, then the provider leaves
        vm.assertEq(handler.reached("provisionTakenBackToLeave"), 1, "provision given back to leave");
        r = registry.providerOf(p0);
        vm.assertFalse(r.registered, "deregistered");
        vm.assertEq(r.provisioned, 0, "nothing provisioned");
        vm.assertEq(r.unbonding, 8_400 ether, "all of the stake left unbonding");
        handler.withdrawUnstaked(0, 1); // waits out the unbonding period
        vm.assertEq(handler.ghostWithdrawn(), 8_400 ether, "withdrew it all");
        vm.assertEq(registry.stakeOf(p0), 0, "nothing staked");
        afterInvariant();
    }

    /// A failed lease's slash (10,400 CMP, the whole lock) is credited to its payees in the ledger,
    /// not sent; each payee's claim (by itself or by anyone for it) sends it exactly its credit,
    /// and a claim of nothing (the zero address's, or a second one) is refused.
    function test_failurePayoutsAreCreditedThenClaimed() public {
        handler.openJob(0, 4, 10_000 ether, 0x101);
        handler.closeJob(0, 1 << 8, 1, 10_400 ether, 2, 9); // recordOutcome(Failed) with a slash
        vm.assertEq(handler.reached("slashCredited"), 1, "credited");
        uint256 credited = handler.ghostCredited();
        vm.assertGt(credited, 0, "something credited");
        vm.assertEq(handler.payeeCredits(), credited, "owed what was credited");
        for (uint256 i; i < 4; ++i) {
            handler.claimPayout(i, i); // payee i (the fourth is the zero address), half by a stranger
        }
        handler.claimPayout(0, 0); // claimed already (or never credited): nothing
        vm.assertGe(handler.reached("payoutClaimed"), 1, "claimed");
        vm.assertGe(handler.reached("claimOfNothingRefused"), 2, "claims of nothing refused");
        vm.assertEq(handler.ghostPayoutsClaimed(), credited, "all of it claimed");
        vm.assertEq(handler.payeeCredits(), 0, "nothing owed");
        afterInvariant();
    }

    /// Every privileged function reverts for strangers; pausing stops stakes and registrations.
    function test_strangersAndPause() public {
        handler.openJob(1, 1, 0, 0x101);
        handler.stakeAsVerifier(1, 1_000 ether);
        for (uint256 which; which < 17; ++which) {
            handler.strangerCall(which, which);
        }
        handler.govern(3, 0); // pause
        vm.assertTrue(registry.paused(), "paused");
        handler.stake(2, 1 ether);
        handler.stakeAsVerifier(3, 1_000 ether);
        handler.register(3, "x");
        handler.provisionIn(2, 1 ether, 0x101); // not registered, and cannot register while paused
        handler.provisionOut(1, 1, 1); // giving back goes on while paused (a move of zero here)
        handler.openJob(1, 1, 0, 0x101); // the first job holds the whole provision: needs stake, paused
        handler.govern(3, 0); // unpause
        vm.assertFalse(registry.paused(), "unpaused");
        vm.assertEq(handler.strangerCalls(), 17, "stranger calls made");
        vm.assertEq(handler.liveLocks(), 1, "one job opened: the second needed stake while paused");
        afterInvariant();
    }

    /// Jobs end through `recordOutcome` (with a slash, after a refused bad payee list; without
    /// one), through `slash` alone (a forfeited bond: no outcome, after another refused list)
    /// and with no ledger call (a release); a new job is settled at once. Slashes take the
    /// provision only, the unbonding stake stays, and reputation keeps the books.
    function test_closeJobPaths() public {
        address p0 = handler.providers()[0];
        address p1 = handler.providers()[1];
        handler.openJob(0, 4, 10_000 ether, 0x101); // job 0: provider 0, 10,400 CMP
        handler.openJob(1, 2, 0, 0x101); // job 1: provider 1, 200 CMP
        handler.openJob(0, 1, 5 ether, 0x101); // job 2: provider 0, 105 CMP
        handler.stake(0, 5_000 ether);
        handler.requestUnstake(0, 1_000 ether);
        vm.assertEq(registry.providerOf(p0).provisioned, 10_505 ether, "provisioned both jobs' locks");
        // recordOutcome(Failed) with a slash of the whole lock; a five-payee list refused first.
        handler.closeJob(0, 1 << 8, 1, 10_400 ether, 4, 7);
        vm.assertEq(handler.reached("badPayeesRefused"), 1, "bad payee list tried");
        vm.assertEq(handler.reached("closeByRecordOutcome"), 1, "closed by recordOutcome");
        // Job 2 is at index 0 now: `slash` alone (a forfeited bond) of 100 of its 105 CMP.
        handler.closeJob(0, 1 | (1 << 8), 2, 100 ether, 2, 9);
        vm.assertEq(handler.reached("closeBySlash"), 1, "closed by slash");
        vm.assertEq(handler.reached("badPayeesRefused"), 2, "another bad payee list tried");
        handler.closeJob(0, 1, 0, 0, 0, 0); // job 1: released, no ledger call
        vm.assertEq(handler.reached("closeByRelease"), 1, "released");
        vm.assertEq(handler.liveLocks(), 0, "all jobs ended");
        ProviderRegistry.Provider memory r0 = registry.providerOf(p0);
        vm.assertEq(r0.provisioned, 5 ether, "10,505 - 10,400 - 100");
        vm.assertEq(r0.unbonding, 1_000 ether, "the unbonding stake untouched");
        vm.assertEq(r0.failed, 1, "recordOutcome recorded Failed");
        vm.assertEq(r0.completed + r0.disputesLost, 0, "slash recorded no outcome");
        vm.assertEq(
            handler.ghostBurned() + handler.ghostSlashPaid() + handler.ghostCredited(), 10_500 ether, "slashed"
        );
        vm.assertEq(handler.reached("slashCredited"), 1, "the failure's payees credited");
        ProviderRegistry.Provider memory r1 = registry.providerOf(p1);
        vm.assertEq(r1.completed + r1.failed + r1.disputesLost, 0, "a release records nothing");
        vm.assertEq(r1.provisioned, 200 ether, "a release leaves the provision");
        handler.settleNewJob(1, 0x101, 1, 2); // lock and settle at once: DisputeLost, no slash
        vm.assertEq(registry.providerOf(p1).disputesLost, 1, "settled with an outcome");
        vm.assertEq(registry.providerOf(p1).provisioned, 200 ether, "the settled job fit the provision");
        vm.assertEq(handler.liveLocks(), 0, "the settled job's lock is gone");
        afterInvariant();
    }

    /// The market's provision moves: an unregistered provider's provision is refused exactly
    /// (`NotRegistered`) before it registers; a move beyond the free stake is refused exactly
    /// (`NotEnoughFreeStake(free, amount)`) before the provider stakes the rest; giving back one
    /// wei more than the provision is refused exactly (`ProvisionExceeded`); a move of zero
    /// changes nothing; the market gives back only what its jobs do not hold; the provision is
    /// not free stake for an unstake request; deregistering waits for the jobs and the provision.
    /// Only the market moves provisions. Every refusal changes nothing.
    function test_provisionMovesAndRefusals() public {
        address p1 = handler.providers()[1];
        handler.provisionIn(1, 3_000 ether, 0); // pathSeed 0: both refusals tried first
        vm.assertEq(handler.reached("provisionUnregisteredRefused"), 1, "unregistered: refused");
        vm.assertEq(handler.reached("provisionBeyondFreeRefused"), 1, "beyond the free stake: refused");
        vm.assertEq(registry.providerOf(p1).provisioned, 3_000 ether, "provisioned");
        vm.assertEq(registry.freeStakeOf(p1), 0, "staked exactly what it provisioned");
        handler.openJob(1, 2, 1_000 ether, 0x101); // 1,200 CMP, within the provision
        vm.assertEq(registry.providerOf(p1).provisioned, 3_000 ether, "the job fits the provision");
        handler.provisionOut(1, 1_800 ether, 0); // pathSeed 0: one wei beyond refused first
        vm.assertEq(handler.reached("provisionOutBeyondRefused"), 1, "giving back too much: refused");
        vm.assertEq(registry.providerOf(p1).provisioned, 1_200 ether, "gave back what no job holds");
        handler.provisionOut(1, 1, 2); // nothing unlocked: nothing moves
        handler.provisionOut(1, 5, 1); // a move of zero
        vm.assertEq(handler.reached("provisionZero"), 1, "a move of zero");
        vm.assertEq(registry.providerOf(p1).provisioned, 1_200 ether, "the job's lock stays provisioned");
        handler.requestUnstake(1, 7); // 7 % 8 == 7: the free stake plus one wei refused first
        vm.assertEq(handler.reached("unstakeBeyondFreeRefused"), 1, "unstake beyond the free stake refused");
        vm.assertEq(registry.providerOf(p1).unbonding, 7, "7 wei unbonding");
        handler.deregister(1, 1); // a job holds the provision: refused
        vm.assertEq(handler.reached("deregisterRefused"), 1, "refused while a job holds the provision");
        handler.closeJob(0, 1, 0, 0, 0, 0); // released, no slash
        handler.deregister(1, 1); // gives it all back, then leaves
        vm.assertFalse(registry.providerOf(p1).registered, "deregistered");
        vm.assertEq(registry.providerOf(p1).unbonding, 3_000 ether, "all of the stake unbonding");
        handler.provisionIn(1, 1 ether, 0); // unregistered again: refused, then registers and stakes
        vm.assertEq(handler.reached("provisionUnregisteredRefused"), 2, "refused again");
        vm.assertEq(registry.providerOf(p1).provisioned, 1 ether, "provisioned anew");

        // Only the market: the same move from a stranger reverts, and changes nothing.
        address stranger = address(0x57A);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, registry.MARKET_ROLE()
            )
        );
        vm.prank(stranger);
        registry.provision(p1, -1 ether);
        vm.assertEq(registry.providerOf(p1).provisioned, 1 ether, "a stranger moved nothing");
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

    /// Stake rewards: nothing accrues while less than 1 CMP is at risk; then the released stake
    /// share goes to the stake at risk pro rata (here across epoch boundaries and an epoch with
    /// no share); a take pays exactly what was pending; a slash keeps what was earned; after the
    /// big staker leaves, the 0.5 CMP left at risk earns nothing again. (A verifier stakes at
    /// least `MIN_VERIFIER_STAKE`: it gets down to 0.5 CMP by a slash, in the same second.)
    function test_stakeRewardsAccrue() public {
        address v = handler.verifiers()[0]; // 0x2000, account 4
        address p = handler.providers()[1]; // 0x1001, account 1
        handler.stakeAsVerifier(0, 1_000 ether);
        handler.slashVerifier(0, 999.5 ether, 3); // payee 3 is address(0): burned
        vm.assertEq(registry.activeStakeOf(v), 0.5 ether, "0.5 CMP left by the slash");
        vm.assertTrue(handler.ghostSlashedBelowMinimum(v), "below the minimum by a slash");
        handler.warpEpoch(1, 1); // to the next boundary
        vm.assertEq(registry.pendingStakeRewards(v), 0, "below 1 CMP at risk: nothing accrues");
        vm.assertEq(handler.releasedAtRiskNow(), 0, "nothing released at risk");

        handler.stake(1, 1_000 ether);
        uint256 t0 = block.timestamp;
        handler.warpEpoch(2, 3 | (12_345 << 8)); // two boundaries ahead and 12,345 s into that epoch
        handler.warpEpoch(3, 0); // one second before a boundary three epochs ahead
        uint256 released = rewards.stakeReleased(t0, block.timestamp);
        vm.assertGt(released, 0, "a share was released");
        vm.assertEq(handler.releasedAtRiskNow(), released, "ghost: all released while at risk");
        uint256 pp = registry.pendingStakeRewards(p);
        uint256 pv = registry.pendingStakeRewards(v);
        vm.assertLe(pp + pv, released, "no more than released");
        vm.assertGe(pp + pv + 4 * 1 days, released, "no less than released, but for rounding");
        vm.assertLe(pp, 2_000 * pv + 2_000, "pro rata (1,000 : 0.5)");
        vm.assertGe(pp + 2_000, 2_000 * pv, "pro rata (1,000 : 0.5)");
        (uint256 rps, uint256 atRisk) = registry.stakeRewardsState();
        vm.assertEq(atRisk, 1_000.5 ether, "stake at risk");
        vm.assertGt(rps, 0, "reward per stake grew");

        handler.takeStakeRewards(1); // account 1: the provider
        vm.assertEq(rewards.takenBy(p), pp, "took exactly the pending");
        vm.assertEq(registry.pendingStakeRewards(p), 0, "nothing left pending");
        handler.warp(1 hours);
        uint256 earned = registry.pendingStakeRewards(p);
        vm.assertGt(earned, 0, "earns again");
        handler.provisionIn(1, 1_000 ether, 0x101); // all of it provisioned: still at risk, earning
        vm.assertEq(registry.pendingStakeRewards(p), earned, "a provision changes nothing earned");
        handler.slashProvider(1, 1_000 ether, 0, 1); // all of it (1,000 CMP) burned
        vm.assertEq(registry.stakeOf(p), 0, "slashed to zero");
        vm.assertGe(registry.pendingStakeRewards(p) + 1, earned, "a slash keeps what was earned");
        uint256 pvBefore = registry.pendingStakeRewards(v);
        handler.warpEpoch(1, 2);
        vm.assertEq(registry.pendingStakeRewards(v), pvBefore, "0.5 CMP at risk earns nothing");
        handler.takeStakeRewards(1);
        handler.takeStakeRewards(4);
        handler.takeStakeRewards(8); // an address that never staked: nothing
        vm.assertEq(handler.reached("takeRewards"), 3, "three takes paid");
        vm.assertEq(handler.reached("takeNothing"), 1, "one took nothing");
        afterInvariant();
    }

    /// With no rewards distributor (zero address) stake earns nothing and nobody can take.
    function test_zeroRewardsAccrueNothing() public {
        ProviderRegistry bare = new ProviderRegistry(GOV, IComputeToken(address(token)), IRewardsDistributor(address(0)));
        address alice = address(0xA1);
        vm.prank(address(handler));
        token.transfer(alice, 2_000 ether);
        vm.startPrank(alice);
        token.approve(address(bare), 2_000 ether);
        bare.register("ipfs://alice", "eu-west");
        bare.stake(1_000 ether);
        bare.registerVerifier();
        bare.stakeAsVerifier(1_000 ether);
        vm.stopPrank();
        vm.warp(block.timestamp + 10 days);
        vm.prank(alice);
        bare.requestUnstake(100 ether);
        (uint256 rps, uint256 atRisk) = bare.stakeRewardsState();
        vm.assertEq(rps, 0, "no reward per stake");
        vm.assertEq(atRisk, 1_900 ether, "stake at risk still kept");
        vm.assertEq(bare.pendingStakeRewards(alice), 0, "nothing pending");
        vm.expectRevert(abi.encodeWithSelector(StakingLedger.NotRewards.selector, address(rewards)));
        vm.prank(address(rewards));
        bare.takeStakeRewards(alice);
    }

    /// A rewards distributor that reverts or answers nonsense blocks no stake change: staking,
    /// unstake requests, withdrawals, slashes (of providers and verifiers, alone and in
    /// `recordOutcome`), provisions, deregistering and takes all go through while it fails. Within the epoch
    /// whose rate the ledger cached, stake still earns (nothing is asked); past it, nothing is
    /// released while the distributor fails, and the next update writes that time off. Each kind
    /// of failure, then the mended distributor: stake earns again.
    function test_stakeGoesOnWhileDistributorFails() public {
        handler.stakeAsVerifier(0, 1_000 ether); // at the deployment's time: nothing asked yet
        handler.warp(1 hours);
        handler.stake(1, 2_000 ether); // asks: caches the first epoch's rate
        handler.rewardsFault(_faultSeed(MockRewards.Fault.Revert));
        vm.assertEq(uint256(rewards.fault()), uint256(MockRewards.Fault.Revert), "distributor reverts");

        uint256 owed = _pendingSum();
        handler.warp(1 hours);
        vm.assertGt(_pendingSum(), owed, "earns within the cached epoch");
        handler.warpEpoch(1, 2); // one second past the cached epoch
        owed = _pendingSum();
        handler.warp(2 days);
        vm.assertEq(_pendingSum(), owed, "nothing released while the distributor reverts");

        handler.stake(1, 500 ether);
        vm.assertGt(handler.ghostWrittenOff(), 0, "the update wrote the release since the cached epoch off");
        vm.assertLe(_pendingSum(), owed, "the update released nothing");
        vm.assertGe(_pendingSum() + 2, owed, "the update changed nothing owed but rounding");
        handler.stakeAsVerifier(0, 100 ether);
        handler.requestUnstake(1, 100 ether);
        handler.requestVerifierUnstake(0, 50 ether); // leaves 1,050 CMP active
        vm.assertEq(registry.activeStakeOf(handler.verifiers()[0]), 1_050 ether, "verifier unbonds 50 CMP");
        handler.withdrawUnstaked(1, 1); // waits out the unbonding period, then withdraws
        handler.withdrawVerifierStake(0, 1);
        vm.assertEq(handler.ghostWithdrawn(), 150 ether, "both withdrew");
        handler.provisionIn(1, 500 ether, 0x101);
        handler.slashProvider(1, 10 ether, 1, 3);
        handler.slashVerifier(0, 50 ether, 0); // leaves 1,000 CMP
        handler.openJob(1, 1, 0, 0x101);
        handler.closeJob(0, 1 << 8, 1, 5 ether, 1, 3); // recordOutcome with a slash
        vm.assertEq(handler.reached("closeByRecordOutcome"), 1, "closed with an outcome and a slash");
        handler.deregister(1, 1); // gives the provision back, then unbonds all free stake
        vm.assertFalse(registry.providerOf(handler.providers()[1]).registered, "deregistered");
        handler.takeStakeRewards(1);
        handler.takeStakeRewards(4);
        vm.assertEq(handler.reached("takeRewards"), 2, "both took what they earned before the failure");
        vm.assertEq(handler.ghostSpecViolations(), 0, handler.lastSpecViolation());
        afterInvariant();

        // The other faults: only `stakeReleased` reverts; an epoch starting after the time asked;
        // one ending at it; a rate of 2^128 wei per second. Each update past two epoch boundaries
        // writes the time off, and the stake changes go through.
        handler.stake(2, 3_000 ether);
        handler.provisionIn(2, 1_000 ether, 0x101);
        for (uint256 k = uint256(MockRewards.Fault.RevertReleased); k <= uint256(MockRewards.Fault.HugeRate); ++k) {
            handler.rewardsFault(_faultSeed(MockRewards.Fault(k)));
            vm.assertEq(uint256(rewards.fault()), k, "fault set");
            uint256 writtenOff = handler.ghostWrittenOff();
            handler.warpEpoch(2, 3 | (5_000 << 8));
            owed = _pendingSum();
            handler.stakeAsVerifier(0, 10 ether);
            handler.requestUnstake(2, 1 ether);
            handler.slashVerifier(0, 10 ether, 1); // back to 1,000 CMP
            handler.slashProvider(2, 1 ether, 0, 1);
            vm.assertGt(handler.ghostWrittenOff(), writtenOff, "written off");
            vm.assertLe(_pendingSum(), owed, "nothing released by the failing updates");
            if (k != uint256(MockRewards.Fault.RevertReleased)) {
                handler.warp(12 hours);
                vm.assertLe(_pendingSum(), owed, "nothing released while the distributor fails");
            }
            afterInvariant();
        }

        handler.rewardsFault(1); // mended
        vm.assertEq(uint256(rewards.fault()), uint256(MockRewards.Fault.None), "mended");
        owed = _pendingSum();
        handler.warpEpoch(1, 3 | (7_000 << 8));
        handler.stake(2, 1 ether);
        vm.assertGt(_pendingSum(), owed, "earns again");
        vm.assertGe(handler.reached("releaseWrittenOff"), 5, "five updates wrote time off");
        afterInvariant();
    }

    /// A distributor rate the ledger accepts but that overflows the accumulator (2^128 − 1 wei
    /// per second for exactly 1 CMP at risk, `MIN_STAKE_AT_RISK`: a provider's stake, which has no
    /// minimum, unlike a verifier's): the reward per stake saturates at 2^96 − 1 in the view and in
    /// the write alike, and stake changes go on. At exactly 1 CMP the view brings the accumulator
    /// forward (`stakeAtRisk >= MIN_STAKE_AT_RISK`; with `>` the view would show 0).
    function test_acceptedHugeRateSaturates() public {
        MockRewards wild = new MockRewards(block.timestamp);
        ProviderRegistry bare = new ProviderRegistry(GOV, IComputeToken(address(token)), IRewardsDistributor(address(wild)));
        wild.setLedger(IStakingLedger(address(bare)));
        wild.setFault(MockRewards.Fault.MaxRate);
        address alice = address(0xA1);
        vm.prank(address(handler));
        token.transfer(alice, 10 ether);
        vm.startPrank(alice);
        token.approve(address(bare), 10 ether);
        bare.register("ipfs://alice", bytes32("eu-west"));
        bare.stake(1 ether);
        vm.stopPrank();
        vm.warp(block.timestamp + 1 hours);
        (uint256 rps,) = bare.stakeRewardsState();
        vm.assertEq(rps, type(uint96).max, "the view saturates");
        uint256 pending = bare.pendingStakeRewards(alice);
        vm.prank(alice);
        bare.stake(1 ether);
        (rps,) = bare.stakeRewardsState();
        vm.assertEq(rps, type(uint96).max, "the write saturates");
        vm.assertEq(bare.pendingStakeRewards(alice), pending, "the write kept what the view showed");
        vm.warp(block.timestamp + 2 days);
        vm.prank(alice);
        bare.requestUnstake(2 ether);
        vm.assertEq(wild.take(alice), pending, "took what accrued before saturating");
        vm.warp(block.timestamp + bare.unbondingPeriod());
        vm.prank(alice);
        bare.withdrawUnstaked();
        vm.assertEq(token.balanceOf(alice), 10 ether, "withdrew");
    }

    /// The verifiers' minimum stake through the handler: a stake or an unstake request that would
    /// leave some active stake below `MIN_VERIFIER_STAKE` is tried (`amount % 8 == 7`) and must
    /// revert exactly; the valid ones leave none or at least the minimum. Only a slash leaves
    /// less (`ghostSlashedBelowMinimum`, invariant (l)); the verifier can then stake back up to
    /// the minimum or unbond all of it. A slash beyond the stake takes all of it.
    function test_verifierMinimumThroughTheHandler() public {
        address v = handler.verifiers()[0];
        uint256 min = registry.MIN_VERIFIER_STAKE();
        handler.stakeAsVerifier(0, 7); // 7 wei of the 1,000 CMP needed: refused
        vm.assertEq(handler.reached("verifierStakeBelowMinRefused"), 1, "stake below the minimum refused");
        vm.assertEq(registry.activeStakeOf(v), 0, "nothing staked");
        handler.stakeAsVerifier(0, 1_200 ether);
        handler.requestVerifierUnstake(0, 7); // 200 CMP + 8 wei: would leave 8 wei short of 1,000 CMP
        vm.assertEq(handler.reached("verifierUnstakeBelowMinRefused"), 1, "unstake below the minimum refused");
        handler.requestVerifierUnstake(0, 200 ether); // leaves exactly the minimum
        vm.assertEq(registry.activeStakeOf(v), min, "the minimum left active");

        handler.slashVerifier(0, 400 ether, 0); // 600 CMP left: below the minimum, by a slash
        vm.assertEq(registry.activeStakeOf(v), 600 ether, "slashed active stake first");
        vm.assertTrue(handler.ghostSlashedBelowMinimum(v), "below the minimum by a slash");
        vm.assertEq(handler.reached("verifierSlashedBelowMin"), 1, "slashed below the minimum");
        afterInvariant();
        handler.requestVerifierUnstake(0, 7); // partial: refused, only all of it may go
        handler.stakeAsVerifier(0, 15); // 15 wei of the 400 CMP needed: refused
        vm.assertEq(handler.reached("verifierUnstakeBelowMinRefused"), 2, "partial unstake refused");
        vm.assertEq(handler.reached("verifierStakeBelowMinRefused"), 2, "too small a top-up refused");
        vm.assertTrue(handler.ghostSlashedBelowMinimum(v), "refused calls change nothing");
        handler.stakeAsVerifier(0, 400 ether); // back to exactly the minimum
        vm.assertEq(registry.activeStakeOf(v), min, "topped up to the minimum");
        vm.assertFalse(handler.ghostSlashedBelowMinimum(v), "at the minimum again");

        handler.slashVerifier(0, 500 ether, 3); // burned; 500 CMP left
        handler.requestVerifierUnstake(0, 100 ether); // below the minimum: unbonds all of it
        vm.assertEq(registry.activeStakeOf(v), 0, "all of it unbonding");
        vm.assertFalse(handler.ghostSlashedBelowMinimum(v), "none active");
        vm.assertEq(registry.verifierOf(v).unbonding, 700 ether, "200 + 500 CMP unbonding");
        handler.slashVerifier(0, 1_000 ether, 1); // more than the 700 CMP staked: all of it, from unbonding
        vm.assertEq(registry.verifierOf(v).staked, 0, "nothing left");
        vm.assertEq(handler.reached("verifierSlashedAll"), 1, "slashed all");
        afterInvariant();
    }

    /// Fuzz: any slash of a provider with a provision, the market's locks on it and unbonding
    /// stake keeps the books (a slash beyond the provision is refused), and so does the end of
    /// one of its jobs.
    function testFuzz_slashProvider(uint256 stakeAmount, uint256 unstake, uint256 slashAmount, uint256 n, uint256 seed)
        public
    {
        handler.stake(0, stakeAmount);
        handler.provisionIn(0, seed >> 64, seed);
        handler.openJob(0, seed >> 16, seed >> 32, seed);
        handler.requestUnstake(0, unstake);
        handler.slashProvider(0, slashAmount, n, seed);
        handler.closeJob(seed, seed >> 8, seed >> 24, slashAmount, n, seed >> 40);
        afterInvariant();
    }

    /// Fuzz: a verifier slash (of any amount: min(amount, staked) is taken) with queued draws and
    /// unbonding stake keeps the tree in step.
    function testFuzz_slashVerifierWhileDrawQueued(uint256 amount, uint256 unstake, uint256 slashAmount, uint256 payee)
        public
    {
        handler.stakeAsVerifier(0, amount);
        handler.stakeAsVerifier(1, amount >> 1);
        handler.requestDraw(0, 0, 2);
        handler.requestVerifierUnstake(0, unstake);
        handler.slashVerifier(0, slashAmount, payee);
        handler.processDraws(8, amount, 3);
        afterInvariant();
        vm.assertEq(resolver.drawsCompleted(), 1, "draw completed");
    }

    /// Σ pendingStakeRewards over every actor.
    function _pendingSum() internal view returns (uint256 sum) {
        address[] memory accounts = handler.accounts();
        for (uint256 i; i < accounts.length; ++i) {
            sum += registry.pendingStakeRewards(accounts[i]);
        }
    }

    /// A `rewardsFault` seed that sets `fault` (one in three seeds breaks the distributor, with
    /// the kind 1 + (seed >> 8) % 5).
    function _faultSeed(MockRewards.Fault fault) internal pure returns (uint256 seed) {
        seed = (uint256(fault) - 1) << 8;
        while (seed % 3 != 0) ++seed;
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

    /// @notice The ledger's accounting, as in the invariant suite's (a), (b), (d), (e), (f), (g),
    ///         (h), (i), (j), (k), (l), (m), (n).
    function checkAll() external view {
        address[] memory ps = handler.providers();
        address[] memory vs = handler.verifiers();
        uint256 sum;
        for (uint256 i; i < ps.length; ++i) {
            ProviderRegistry.Provider memory p = registry.providerOf(ps[i]);
            vm.assertGe(p.staked, uint256(p.provisioned) + p.unbonding, "(b) staked < provisioned + unbonding");
            vm.assertEq(registry.freeStakeOf(ps[i]), uint256(p.staked) - p.provisioned - p.unbonding, "(b) free");
            vm.assertTrue(p.provisioned == 0 || p.registered, "(b) provisioned, not registered");
            vm.assertEq(p.provisioned, handler.ghostProvisioned(ps[i]), "(m) provisioned != moves - slashes");
            (uint256 locked,) = handler.liveLockSum(ps[i]);
            vm.assertEq(handler.ghostLocked(ps[i]), locked, "(m) locked != sum over the live jobs");
            vm.assertLe(locked, p.provisioned, "(m) locks exceed the provision");
            vm.assertEq(p.unbonding, handler.ghostUnbonding(ps[i]), "(n) unbonding != asked - withdrawn");
            sum += p.staked;
        }
        for (uint256 i; i < vs.length; ++i) {
            sum += registry.verifierOf(vs[i]).staked;
        }
        uint256 balance = token.balanceOf(address(registry));
        vm.assertEq(balance, sum + handler.payeeCredits(), "(a) balance != stakes + credited payouts");
        vm.assertEq(
            handler.ghostDeposited() - handler.ghostWithdrawn() - handler.ghostSlashPaid()
                - handler.ghostPayoutsClaimed() - handler.ghostBurned(),
            balance,
            "(d) conservation"
        );
        vm.assertEq(handler.ghostCredited() - handler.ghostPayoutsClaimed(), handler.payeeCredits(), "(d) owed");
        vm.assertEq(INITIAL_SUPPLY - token.totalSupply(), handler.ghostBurned(), "(e) burns");
        vm.assertEq(
            resolver.drawnWithoutStake() + resolver.drawnExcluded() + resolver.wrongCount()
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
        for (uint256 i; i < vs.length; ++i) {
            uint256 active = registry.activeStakeOf(vs[i]);
            vm.assertTrue(
                active == 0 || active >= registry.MIN_VERIFIER_STAKE() || handler.ghostSlashedBelowMinimum(vs[i]),
                "(l) verifier stake below the minimum, not by a slash"
            );
        }
        (, uint256 atRisk) = registry.stakeRewardsState();
        vm.assertEq(atRisk, handler.stakeAtRisk(), "(i) stake at risk");
        address[] memory accounts = handler.accounts();
        uint256 owed = rewards.totalTaken();
        for (uint256 i; i < accounts.length; ++i) {
            owed += registry.pendingStakeRewards(accounts[i]);
        }
        uint256 kept = handler.releasedKeptNow();
        vm.assertLe(owed, kept, "(k) taken + pending > released while at risk and not written off");
        vm.assertGe(owed + handler.roundingAllowance(), kept, "(k) stake rewards lost");
    }
}
