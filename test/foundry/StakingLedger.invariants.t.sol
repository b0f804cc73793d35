// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ProviderRegistry} from "../../contracts/registry/ProviderRegistry.sol";
import {StakingLedger} from "../../contracts/staking/StakingLedger.sol";
import {IStakingLedger} from "../../contracts/interfaces/IStakingLedger.sol";
import {LedgerSetup} from "./LedgerSetup.sol";
import {StakingLedgerHandler} from "./handlers/StakingLedgerHandler.sol";

/// @title StakingLedgerInvariants
/// @notice Invariants of the staking ledger (`ProviderRegistry` on `StakingLedger`), checked by
///         Foundry after every call the fuzzer makes to `StakingLedgerHandler`.
contract StakingLedgerInvariants is LedgerSetup {
    function setUp() public {
        _deploy();

        // Draws start with the VRF mock as randomness source; governance switches it off and on.
        vm.prank(GOV);
        registry.setRandomness(vrf);

        bytes4[] memory selectors = new bytes4[](31);
        selectors[0] = StakingLedgerHandler.register.selector;
        selectors[1] = StakingLedgerHandler.provisionIn.selector;
        selectors[2] = StakingLedgerHandler.stake.selector;
        selectors[3] = StakingLedgerHandler.requestUnstake.selector;
        selectors[4] = StakingLedgerHandler.withdrawUnstaked.selector;
        selectors[5] = StakingLedgerHandler.deregister.selector;
        selectors[6] = StakingLedgerHandler.openJob.selector;
        selectors[7] = StakingLedgerHandler.provisionOut.selector;
        selectors[8] = StakingLedgerHandler.slashProvider.selector;
        selectors[9] = StakingLedgerHandler.settleNewJob.selector;
        selectors[10] = StakingLedgerHandler.registerVerifier.selector;
        selectors[11] = StakingLedgerHandler.stakeAsVerifier.selector;
        selectors[12] = StakingLedgerHandler.requestVerifierUnstake.selector;
        selectors[13] = StakingLedgerHandler.withdrawVerifierStake.selector;
        selectors[14] = StakingLedgerHandler.requestDraw.selector;
        selectors[15] = StakingLedgerHandler.processDraws.selector;
        selectors[16] = StakingLedgerHandler.slashVerifier.selector;
        selectors[17] = StakingLedgerHandler.warp.selector;
        selectors[18] = StakingLedgerHandler.roll.selector;
        selectors[19] = StakingLedgerHandler.govern.selector;
        selectors[20] = StakingLedgerHandler.strangerCall.selector;
        // The busiest paths get a second entry, so they are picked twice as often (the market's
        // jobs: `openJob` locks provision, `closeJob` releases it and slashes).
        selectors[21] = StakingLedgerHandler.stakeAsVerifier.selector;
        selectors[22] = StakingLedgerHandler.openJob.selector;
        selectors[23] = StakingLedgerHandler.closeJob.selector;
        selectors[24] = StakingLedgerHandler.randomnessSource.selector;
        selectors[25] = StakingLedgerHandler.switchRandomness.selector;
        selectors[26] = StakingLedgerHandler.takeStakeRewards.selector;
        selectors[27] = StakingLedgerHandler.warpEpoch.selector;
        selectors[28] = StakingLedgerHandler.rewardsFault.selector;
        selectors[29] = StakingLedgerHandler.closeJob.selector;
        selectors[30] = StakingLedgerHandler.claimPayout.selector;
        _targetContract(address(handler));
        _targetSelector(address(handler), selectors);
    }

    // ------------------------------------------------------------------ invariants

    /// (a) The ledger's CMP balance equals Σ providers' `staked` + Σ verifiers' `staked` + Σ the
    ///     payouts credited and not yet claimed, to the wei.
    function invariant_a_balanceEqualsStakes() public view {
        vm.assertEq(
            token.balanceOf(address(registry)),
            _sumProviderStaked() + _sumVerifierStaked() + handler.payeeCredits(),
            "(a) balance != stakes + credited payouts"
        );
    }

    /// (b) For every provider, `staked >= provisioned + unbonding`: the provision never exceeds
    ///     staked − unbonding, and the free stake is never negative; `freeStakeOf` = staked −
    ///     provisioned − unbonding; a provider with anything provisioned is registered (it cannot
    ///     deregister while provisioned, nor be provisioned unless registered).
    function invariant_b_provisionWithinStake() public view {
        address[] memory ps = handler.providers();
        for (uint256 i; i < ps.length; ++i) {
            ProviderRegistry.Provider memory p = registry.providerOf(ps[i]);
            vm.assertGe(p.staked, uint256(p.provisioned) + p.unbonding, "(b) staked < provisioned + unbonding");
            vm.assertLe(p.provisioned, uint256(p.staked) - p.unbonding, "(b) provisioned > staked - unbonding");
            vm.assertEq(
                registry.freeStakeOf(ps[i]), uint256(p.staked) - p.provisioned - p.unbonding, "(b) free stake"
            );
            vm.assertTrue(p.provisioned == 0 || p.registered, "(b) a provisioned provider is not registered");
        }
    }

    /// (c) When the queue is empty (`queueHead == queueTail`), `totalActiveStake()` equals
    ///     Σ verifiers' (staked − unbonding); in general, the tree's total plus the stake changes
    ///     still queued equals that sum.
    function invariant_c_treeMatchesActiveStake() public view {
        uint256 active = _sumVerifierActive();
        uint64 head = registry.queueHead();
        uint64 tail = registry.queueTail();
        uint256 tree = registry.totalActiveStake();
        if (head == tail) vm.assertEq(tree, active, "(c) empty queue: tree total != active stake");
        for (uint64 pos = head; pos < tail; ++pos) {
            StakingLedger.Entry memory e = registry.queueEntry(pos);
            if (e.kind == IStakingLedger.EntryKind.StakeAdded) tree += e.value;
            else if (e.kind == IStakingLedger.EntryKind.StakeRemoved) tree -= e.value;
        }
        vm.assertEq(tree, active, "(c) tree total + queued changes != active stake");
    }

    /// (d) Conservation: deposits − withdrawals − slashes paid out − credited payouts claimed −
    ///     burned == the ledger's balance; the payouts credited less those claimed are exactly
    ///     what the payees are owed (`payoutOf`).
    function invariant_d_conservation() public view {
        vm.assertEq(
            handler.ghostDeposited() - handler.ghostWithdrawn() - handler.ghostSlashPaid()
                - handler.ghostPayoutsClaimed() - handler.ghostBurned(),
            token.balanceOf(address(registry)),
            "(d) deposits - withdrawals - paid - claimed - burned != balance"
        );
        vm.assertEq(
            handler.ghostCredited() - handler.ghostPayoutsClaimed(), handler.payeeCredits(), "(d) credited - claimed != owed"
        );
    }

    /// (e) The token supply only falls, and only by what the ledger burned (nothing else mints
    ///     or burns in this setup).
    function invariant_e_supplyFallsOnlyByBurns() public view {
        vm.assertEq(INITIAL_SUPPLY - token.totalSupply(), handler.ghostBurned(), "(e) supply drop != ledger burns");
    }

    /// (f) Every drawn verifier had active stake (in the stake the draw saw: the stake when it
    ///     was requested) and was never an excluded address; a draw returns `count` seats
    ///     (drawn with replacement) when any verifier is eligible and none otherwise, and the tree the draw sees holds
    ///     exactly the active stake as it stood at the request. Every draw got exactly the seed
    ///     keccak256(abi.encode(word, jobId, kind)), the word being the VRF's when it arrived,
    ///     else (no source, or the patience ran out) the target block's hash; and the source was
    ///     asked only by the ledger, once per draw, for the draw's queue position.
    function invariant_f_drawsAreSound() public view {
        vm.assertEq(resolver.drawnWithoutStake(), 0, "(f) drew a verifier without active stake");
        vm.assertEq(resolver.drawnExcluded(), 0, "(f) drew an excluded address");
        vm.assertEq(resolver.wrongCount(), 0, "(f) wrong number of verifiers drawn");
        vm.assertEq(resolver.wrongTotal(), 0, "(f) draw saw a tree other than the stake at its request");
        vm.assertEq(resolver.badCompletions(), 0, "(f) completeDraw for an unknown draw");
        vm.assertEq(resolver.wrongSeed(), 0, "(f) a draw got another seed than its word's or block hash's");
        vm.assertEq(vrf.badRequests(), 0, "(f) the randomness source got a bad request");
    }

    /// (g) Strangers never succeeded at a privileged call (ghost flag).
    function invariant_g_strangersAlwaysReverted() public view {
        vm.assertFalse(handler.ghostStrangerSucceeded(), "(g) a stranger's privileged call succeeded");
    }

    /// (h) Every operation moved exactly what the specification says (slash amounts and payouts,
    ///     provisions, unstakes, withdrawals), and forbidden ones (staking or registering while
    ///     paused, withdrawing before the unbonding end, deregistering while provisioned, a
    ///     provision beyond the free stake or of an unregistered provider, giving back or slashing
    ///     more than the provision, a bad payee list) always reverted, with the exact error.
    function invariant_h_operationsFollowSpec() public view {
        vm.assertEq(handler.ghostSpecViolations(), 0, handler.lastSpecViolation());
    }

    /// (i) The stake-reward accumulator's stake at risk (`stakeRewardsState`, brought to now)
    ///     equals Σ providers' (staked − unbonding) + Σ verifiers' (staked − unbonding), to the wei.
    function invariant_i_stakeAtRiskFollowsStake() public view {
        uint256 sum;
        address[] memory ps = handler.providers();
        for (uint256 i; i < ps.length; ++i) {
            ProviderRegistry.Provider memory p = registry.providerOf(ps[i]);
            sum += uint256(p.staked) - p.unbonding;
        }
        address[] memory vs = handler.verifiers();
        for (uint256 i; i < vs.length; ++i) {
            StakingLedger.Verifier memory v = registry.verifierOf(vs[i]);
            sum += uint256(v.staked) - v.unbonding;
        }
        (, uint256 atRisk) = registry.stakeRewardsState();
        vm.assertEq(atRisk, sum, "(i) stakeAtRisk != active stake of providers and verifiers");
    }

    /// (j) Reputation follows the outcomes recorded (only `recordOutcome` records one: the
    ///     handler's `closeJob` on that path and `settleNewJob`; `slash` records none): for every
    ///     provider, `providerOf`'s completed, failed and disputesLost equal the ghost counts,
    ///     and `reputationOf` is (c + 1) * 10000 / (c + 3f + 3d + 2).
    function invariant_j_reputationFollowsOutcomes() public view {
        address[] memory ps = handler.providers();
        for (uint256 i; i < ps.length; ++i) {
            ProviderRegistry.Provider memory p = registry.providerOf(ps[i]);
            (uint256 c, uint256 f, uint256 d) =
                (handler.ghostCompleted(ps[i]), handler.ghostFailed(ps[i]), handler.ghostDisputesLost(ps[i]));
            vm.assertEq(p.completed, c, "(j) completed != outcomes recorded");
            vm.assertEq(p.failed, f, "(j) failed != outcomes recorded");
            vm.assertEq(p.disputesLost, d, "(j) disputesLost != outcomes recorded");
            vm.assertEq(registry.reputationOf(ps[i]), (c + 1) * 10_000 / (c + 3 * (f + d) + 2), "(j) reputation score");
        }
    }

    /// (k) Stake rewards never exceed the stake share released: Σ taken + Σ `pendingStakeRewards`
    ///     over every account is at most the share the distributor released since the ledger's
    ///     deployment while the stake at risk was at least 1 CMP (which is at most all it released
    ///     since then), less what the ledger wrote off while the distributor reverted or answered
    ///     nonsense, or would write off were it brought to now (`writtenOffNow`: nothing is released
    ///     while it fails); and at least that less the rounding the accumulator may lose (the
    ///     handler's `roundingAllowance`: nothing is lost but rounding and what was written off).
    ///     The distributor's count of what was taken per account equals the handler's. (Each take
    ///     equalled the pending just before it and left nothing pending: checked under (h).)
    function invariant_k_stakeRewardsWithinRelease() public view {
        address[] memory accounts = handler.accounts();
        uint256 owed = rewards.totalTaken();
        uint256 taken;
        for (uint256 i; i < accounts.length; ++i) {
            owed += registry.pendingStakeRewards(accounts[i]);
            vm.assertEq(rewards.takenBy(accounts[i]), handler.ghostTaken(accounts[i]), "(k) taken per account");
            taken += rewards.takenBy(accounts[i]);
        }
        vm.assertEq(taken, rewards.totalTaken(), "(k) taken by an account that is not an actor");
        uint256 atRisk = handler.releasedAtRiskNow();
        uint256 writtenOff = handler.writtenOffNow();
        vm.assertLe(writtenOff, atRisk, "(k) written off > released while stake was at risk");
        uint256 kept = atRisk - writtenOff;
        vm.assertLe(owed, kept, "(k) taken + pending > stake share released while at risk and not written off");
        vm.assertLe(atRisk, rewards.released(handler.deployedAt(), block.timestamp), "(k) ghost > released");
        vm.assertGe(owed + handler.roundingAllowance(), kept, "(k) stake rewards lost beyond rounding");
    }

    /// (l) Every verifier's active stake (staked − unbonding) is none or at least the ledger's
    ///     `MIN_VERIFIER_STAKE` (1,000 CMP), unless the last change of it was a slash that left
    ///     less (the handler's `ghostSlashedBelowMinimum`): stakes and unstake requests must leave
    ///     none or at least the minimum (the handler also tries ones that would not: they must
    ///     revert, under (h)); only a slash may leave less, and the verifier can then only stake
    ///     back up to the minimum or unbond all of it.
    function invariant_l_verifierStakeNoneOrAtLeastMinimum() public view {
        uint256 minimum = registry.MIN_VERIFIER_STAKE();
        vm.assertEq(minimum, 1_000 ether, "(l) MIN_VERIFIER_STAKE != 1,000 CMP");
        address[] memory vs = handler.verifiers();
        for (uint256 i; i < vs.length; ++i) {
            uint256 active = registry.activeStakeOf(vs[i]);
            if (active == 0 || active >= minimum) continue;
            vm.assertTrue(handler.ghostSlashedBelowMinimum(vs[i]), "(l) active stake below the minimum, not by a slash");
        }
    }

    /// (m) For every provider, the ledger's `provisioned` equals the market's moves of its stake
    ///     into the provision, less its moves out of it, less the slashes of it (the handler's
    ///     ghosts), to the wei; and it covers the market's live locks on it (Σ of the live jobs'
    ///     locks held by the provider, as the running ghost and recomputed from the list of jobs):
    ///     the market never gives back, nor slashes beyond, what its jobs hold.
    function invariant_m_provisionFollowsTheMarket() public view {
        address[] memory ps = handler.providers();
        for (uint256 i; i < ps.length; ++i) {
            uint256 provisioned = registry.providerOf(ps[i]).provisioned;
            vm.assertEq(provisioned, handler.ghostProvisioned(ps[i]), "(m) provisioned != moves in - moves out - slashes");
            (uint256 locked,) = handler.liveLockSum(ps[i]);
            vm.assertEq(handler.ghostLocked(ps[i]), locked, "(m) locked != sum over the live jobs");
            vm.assertLe(locked, provisioned, "(m) the market's locks exceed the provision");
        }
    }

    /// (n) Slashes never touch unbonding stake: for every provider, the ledger's `unbonding`
    ///     equals the stake it asked to unbond (unstake requests, and its free stake when it
    ///     deregistered) less what it withdrew (the handler's ghost), to the wei. (Each slash is
    ///     also checked to leave `unbonding` and `unbondingEnd` as they were, under (h).)
    function invariant_n_slashesSpareUnbondingStake() public view {
        address[] memory ps = handler.providers();
        for (uint256 i; i < ps.length; ++i) {
            vm.assertEq(registry.providerOf(ps[i]).unbonding, handler.ghostUnbonding(ps[i]), "(n) unbonding != asked - withdrawn");
        }
    }

    /// @notice Run after each run (sequence of `depth` calls) of every invariant's campaign:
    ///         checks all the invariants, so that each campaign, whichever invariant it checks
    ///         after every call, also checks the others at the end of each of its runs (forge
    ///         runs one campaign per `invariant_*` function). The ghost flags of (f), (g) and (h)
    ///         are sticky, so a violation anywhere in the run is caught here.
    function afterInvariant() public view {
        invariant_a_balanceEqualsStakes();
        invariant_b_provisionWithinStake();
        invariant_c_treeMatchesActiveStake();
        invariant_d_conservation();
        invariant_e_supplyFallsOnlyByBurns();
        invariant_f_drawsAreSound();
        invariant_g_strangersAlwaysReverted();
        invariant_h_operationsFollowSpec();
        invariant_i_stakeAtRiskFollowsStake();
        invariant_j_reputationFollowsOutcomes();
        invariant_k_stakeRewardsWithinRelease();
        invariant_l_verifierStakeNoneOrAtLeastMinimum();
        invariant_m_provisionFollowsTheMarket();
        invariant_n_slashesSpareUnbondingStake();
    }

    // ------------------------------------------------------------------ helpers

    function _sumProviderStaked() internal view returns (uint256 sum) {
        address[] memory ps = handler.providers();
        for (uint256 i; i < ps.length; ++i) {
            sum += registry.stakeOf(ps[i]);
        }
    }

    function _sumVerifierStaked() internal view returns (uint256 sum) {
        address[] memory vs = handler.verifiers();
        for (uint256 i; i < vs.length; ++i) {
            sum += registry.verifierOf(vs[i]).staked;
        }
    }

    function _sumVerifierActive() internal view returns (uint256 sum) {
        address[] memory vs = handler.verifiers();
        for (uint256 i; i < vs.length; ++i) {
            sum += registry.activeStakeOf(vs[i]);
        }
    }
}
