// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ComputeToken} from "../../contracts/token/ComputeToken.sol";
import {ComputeCredits} from "../../contracts/credits/ComputeCredits.sol";
import {MockPriceFeed} from "../../contracts/oracle/MockPriceFeed.sol";
import {ProviderRegistry} from "../../contracts/registry/ProviderRegistry.sol";
import {JobAuctions} from "../../contracts/market/JobAuctions.sol";
import {JobMarket} from "../../contracts/market/JobMarket.sol";
import {IJobMarket} from "../../contracts/interfaces/IJobMarket.sol";
import {IComputeToken} from "../../contracts/interfaces/IComputeToken.sol";
import {IComputeCredits} from "../../contracts/interfaces/IComputeCredits.sol";
import {IPriceFeed} from "../../contracts/interfaces/IPriceFeed.sol";
import {IProviderRegistry} from "../../contracts/interfaces/IProviderRegistry.sol";
import {IRewardsDistributor} from "../../contracts/interfaces/IRewardsDistributor.sol";
import {IStakingLedger} from "../../contracts/interfaces/IStakingLedger.sol";
import {InvariantTest} from "./utils/InvariantTest.sol";
import {MockRewards} from "./mocks/MockRewards.sol";
import {JobMarketHandler} from "./handlers/JobMarketHandler.sol";

/// @title JobMarketInvariants
/// @notice Invariants of the job market (`JobMarket` with its `JobAuctions` module) on the real
///         ledger (`ProviderRegistry`), paid in real `ComputeCredits` (docs/invariants.md, "The
///         market suite"), checked by Foundry after every call the fuzzer makes to
///         `JobMarketHandler`; and scripted tests of the handler's actions.
///         Deployed as `compute_market/deployment.py` wires the protocol (credits on a
///         `MockPriceFeed`, the auction module beside the market, the market's `MARKET_ROLE` on
///         the ledger, the market allow-listed for credits), with `MockRewards` as the rewards
///         distributor of both the ledger and the market and no dispute resolver.
contract JobMarketInvariants is InvariantTest {
    uint256 internal constant INITIAL_SUPPLY = 10_000_000_000 ether;
    uint256 internal constant SUPPLY_CAP = 20_000_000_000 ether;
    address internal constant GOV = address(0x60F);
    address internal constant TREASURY = address(0x7EA5);

    ComputeToken internal token;
    MockPriceFeed internal feed;
    ComputeCredits internal credits;
    MockRewards internal rewards;
    ProviderRegistry internal registry;
    JobMarket internal market;
    JobMarketHandler internal handler;

    function setUp() public {
        // A real chain's clock: at forge's default (timestamp 1) the market's kept collateral
        // rate, never read (`_keptRateAt` = 0), would count as fresh for the first 10 minutes
        // and price every collateral at 0.
        vm.warp(1_800_000_000);
        token = new ComputeToken(GOV, address(this), INITIAL_SUPPLY, SUPPLY_CAP);
        feed = new MockPriceFeed(address(this), 2.5e8); // 2.50 USD per CMP
        credits = new ComputeCredits(GOV, IComputeToken(address(token)), IPriceFeed(address(feed)), 0);
        rewards = new MockRewards(block.timestamp);
        registry = new ProviderRegistry(GOV, IComputeToken(address(token)), IRewardsDistributor(address(rewards)));
        rewards.setLedger(IStakingLedger(address(registry)));
        JobAuctions auctions = new JobAuctions(
            GOV,
            IComputeCredits(address(credits)),
            IProviderRegistry(address(registry)),
            IRewardsDistributor(address(rewards))
        );
        market = new JobMarket(
            GOV,
            IComputeCredits(address(credits)),
            IProviderRegistry(address(registry)),
            TREASURY,
            auctions,
            IRewardsDistributor(address(rewards))
        );
        handler = new JobMarketHandler(token, credits, feed, registry, market, GOV, TREASURY);
        feed.transferOwnership(address(handler)); // the handler plays the oracle
        token.transfer(address(handler), INITIAL_SUPPLY);

        vm.startPrank(GOV);
        registry.grantRole(registry.MARKET_ROLE(), address(market));
        credits.setProtocolContract(address(market), true);
        // Results are challengeable for an hour (the least; a day by default), so that settling
        // a job does not move the clock past every auction still open.
        market.setChallengeWindow(1 hours);
        // Reveals and results get 10 minutes (their least; an hour by default), for the same reason.
        market.setRevealPeriod(10 minutes);
        market.setResultGrace(10 minutes);
        vm.stopPrank();

        vm.label(address(token), "CMP");
        vm.label(address(credits), "CRD");
        vm.label(address(registry), "ProviderRegistry");
        vm.label(address(market), "JobMarket");
        vm.label(address(auctions), "JobAuctions");
        vm.label(address(handler), "MarketHandler");

        // The weights (a selector listed twice is picked twice as often) favour the steps that
        // carry a job through its life over those that start new jobs, so that leases end in
        // every way rather than most auctions expiring.
        bytes4[] memory selectors = new bytes4[](31);
        selectors[0] = JobMarketHandler.stake.selector;
        selectors[1] = JobMarketHandler.setOffer.selector;
        selectors[2] = JobMarketHandler.unstake.selector;
        selectors[3] = JobMarketHandler.postJob.selector;
        selectors[4] = JobMarketHandler.cancelJob.selector;
        selectors[5] = JobMarketHandler.placeBid.selector;
        selectors[6] = JobMarketHandler.commitBid.selector;
        selectors[7] = JobMarketHandler.revealBid.selector;
        selectors[8] = JobMarketHandler.settleCommitment.selector;
        selectors[9] = JobMarketHandler.finalizeAuction.selector;
        selectors[10] = JobMarketHandler.claimEarnings.selector;
        selectors[11] = JobMarketHandler.submitResult.selector;
        selectors[12] = JobMarketHandler.settleJob.selector;
        selectors[13] = JobMarketHandler.slashForFailure.selector;
        selectors[14] = JobMarketHandler.abandonJob.selector;
        selectors[15] = JobMarketHandler.withdrawFees.selector;
        selectors[16] = JobMarketHandler.claimPayout.selector;
        selectors[17] = JobMarketHandler.govern.selector;
        selectors[18] = JobMarketHandler.refreshPrice.selector;
        selectors[19] = JobMarketHandler.warp.selector;
        selectors[20] = JobMarketHandler.forbidden.selector;
        selectors[21] = JobMarketHandler.postJob.selector;
        selectors[22] = JobMarketHandler.placeBid.selector;
        selectors[23] = JobMarketHandler.placeBid.selector;
        selectors[24] = JobMarketHandler.commitBid.selector;
        selectors[25] = JobMarketHandler.revealBid.selector;
        selectors[26] = JobMarketHandler.revealBid.selector;
        selectors[27] = JobMarketHandler.finalizeAuction.selector;
        selectors[28] = JobMarketHandler.submitResult.selector;
        selectors[29] = JobMarketHandler.settleJob.selector;
        selectors[30] = JobMarketHandler.forbidden.selector;
        _targetContract(address(handler));
        _targetSelector(address(handler), selectors);
    }

    // ------------------------------------------------------------------ invariants

    /// (a) Credits conservation, to the wei, against the handler's own accounts: each followed
    ///     job's `fundsOf(job).escrow` equals the escrow the handler computed from its record of
    ///     the job (`expectedEscrow`), `feesAccrued` equals the handler's sum of the fees it
    ///     computed (`ghostFees`), and the market's CRD balance equals Σ expected escrows plus
    ///     `ghostFees` (the jobs the handler dropped had ended, and an ended job's escrow is 0,
    ///     checked while it was followed); and no credit is anywhere but with the market and the
    ///     actors (the supply is their sum).
    function invariant_market_creditsConserved() public view {
        uint256[] memory ids = handler.jobs();
        uint256 escrows;
        for (uint256 i; i < ids.length; ++i) {
            uint256 expected = handler.expectedEscrow(ids[i]);
            vm.assertEq(market.fundsOf(ids[i]).escrow, expected, "(a) fundsOf(job).escrow != the handler's escrow");
            escrows += expected;
        }
        vm.assertEq(market.feesAccrued(), handler.ghostFees(), "(a) feesAccrued != the handler's fees");
        uint256 held = credits.balanceOf(address(market));
        vm.assertEq(held, escrows + handler.ghostFees(), "(a) market CRD != sum of escrows + fees (the handler's)");
        address[] memory ps = handler.payees();
        for (uint256 i; i < ps.length; ++i) {
            held += credits.balanceOf(ps[i]);
        }
        vm.assertEq(held, credits.totalSupply(), "(a) credits outside the market and the actors");
    }

    /// (b) Every offer holds `locked <= provisioned` and `reserved <= gpus`, and its locks are
    ///     exactly what the market's jobs say it holds (as `tests/utils/helpers.py`'s
    ///     `assert_locks_match_jobs`): `collateral + gpuStake` and the job's GPUs for each job the
    ///     provider leads (bidding) or serves (leased, result submitted), and the same for each
    ///     sealed commitment neither revealed nor settled.
    function invariant_market_offersWithinBounds() public view {
        address[] memory ps = handler.providers();
        bytes32[] memory ms = handler.models();
        uint256[] memory ids = handler.jobs();
        for (uint256 i; i < ps.length; ++i) {
            uint256[] memory locked = new uint256[](ms.length);
            uint256[] memory reserved = new uint256[](ms.length);
            for (uint256 k; k < ids.length; ++k) {
                IJobMarket.Job memory job = market.getJob(ids[k]);
                uint256 holds = job.provider == ps[i]
                    && (job.status == IJobMarket.JobStatus.Bidding
                        || job.status == IJobMarket.JobStatus.Leased
                        || job.status == IJobMarket.JobStatus.ResultSubmitted)
                    ? 1
                    : 0;
                if (job.kind == IJobMarket.AuctionKind.Sealed) {
                    IJobMarket.Commitment memory c = market.commitmentOf(ids[k], ps[i]);
                    if (c.committedAtBlock != 0 && !c.revealed) ++holds;
                }
                uint256 m = job.gpuModel == ms[0] ? 0 : 1;
                locked[m] += holds * (uint256(job.collateral) + job.gpuStake);
                reserved[m] += holds * job.gpuCount;
            }
            for (uint256 m; m < ms.length; ++m) {
                IJobMarket.Offer memory o = market.offerOf(ps[i], ms[m]);
                vm.assertLe(o.locked, o.provisioned, "(b) offer locked > provisioned");
                vm.assertLe(o.reserved, o.gpus, "(b) offer reserved > gpus");
                vm.assertEq(o.locked, locked[m], "(b) offer locked != what its jobs and commitments hold");
                vm.assertEq(o.reserved, reserved[m], "(b) offer reserved != the GPUs its jobs and commitments hold");
            }
        }
    }

    /// (c) For every provider, the ledger's `provisioned` equals Σ over the models of its offer's
    ///     `provisioned`, to the wei.
    function invariant_market_provisionMatchesOffers() public view {
        address[] memory ps = handler.providers();
        bytes32[] memory ms = handler.models();
        for (uint256 i; i < ps.length; ++i) {
            uint256 sum;
            for (uint256 m; m < ms.length; ++m) {
                sum += market.offerOf(ps[i], ms[m]).provisioned;
            }
            vm.assertEq(registry.providerOf(ps[i]).provisioned, sum, "(c) ledger provision != sum of the offers'");
        }
    }

    /// (d) The ledger's CMP balance equals Σ providers' `staked` plus Σ the slash payouts
    ///     credited and not yet claimed (no verifier stakes in this suite), to the wei.
    function invariant_market_ledgerHoldsStakes() public view {
        uint256 sum;
        address[] memory ps = handler.providers();
        for (uint256 i; i < ps.length; ++i) {
            sum += registry.providerOf(ps[i]).staked;
        }
        address[] memory payees = handler.payees();
        for (uint256 i; i < payees.length; ++i) {
            sum += registry.payoutOf(payees[i]);
        }
        vm.assertEq(token.balanceOf(address(registry)), sum, "(d) ledger CMP != stakes + unclaimed payouts");
    }

    /// (e) Free stake is never negative: for every provider `staked >= provisioned + unbonding`.
    function invariant_market_freeStakeNeverNegative() public view {
        address[] memory ps = handler.providers();
        for (uint256 i; i < ps.length; ++i) {
            ProviderRegistry.Provider memory p = registry.providerOf(ps[i]);
            vm.assertGe(p.staked, uint256(p.provisioned) + p.unbonding, "(e) staked < provisioned + unbonding");
        }
    }

    /// (f) No forbidden call ever succeeded (a stranger or the wrong party cancelling, claiming,
    ///     submitting, abandoning or governing; a bid with less provision than its collateral,
    ///     above the max price, of zero, on one's own job or below the least reputation; a
    ///     provider earning a bounty for slashing itself; a settlement in the challenge window,
    ///     a slash before the deadline, a late result; an offer below its locks; the auction
    ///     module called directly), every action moved exactly the amounts the market's rules
    ///     say, and every job moved only along the market's status transitions.
    function invariant_market_forbiddenCallsReverted() public view {
        vm.assertEq(handler.ghostForbidden(), 0, handler.lastForbidden());
        vm.assertEq(
            handler.ghostViolations(),
            0,
            string.concat("first: ", handler.firstViolation(), "; last: ", handler.lastViolation())
        );
    }

    /// Forge checks only a campaign's own invariant after each call; at the end of every run all
    /// six are checked, so every campaign also checks the others (the ghost flags of (f) stick).
    function afterInvariant() public view {
        _allInvariants();
    }

    // ------------------------------------------------------------------ scripted tests

    /// An open job through the handler's actions: post, bid, finalize, a result at the lease's
    /// end, settlement after the challenge window, fees to the treasury.
    function test_market_openJobSettlesAndPaysTheTreasury() public {
        address customer = handler.customers()[0];
        address provider = handler.providers()[0];
        handler.postJob(0, 0, 2, 3 ether, 1 hours, 10 minutes, 0); // open, 2 GPUs, 3 CRD/GPU-h, 1 h
        uint256 id = handler.jobs()[0];
        vm.assertEq(market.fundsOf(id).escrow, 6 ether, "escrow at the max price");
        handler.placeBid(0, 0, 2 ether);
        handler.finalizeAuction(0, false);
        IJobMarket.Job memory job = market.getJob(id);
        vm.assertEq(uint256(job.status), uint256(IJobMarket.JobStatus.Leased), "leased");
        vm.assertEq(job.provider, provider, "winner");
        vm.assertEq(market.fundsOf(id).escrow, 4 ether, "escrow at the clearing price");
        uint256 customerCredits = credits.balanceOf(customer);
        handler.submitResult(0, uint256(job.leaseStart) + job.duration - block.timestamp);
        handler.settleJob(0, 0);
        vm.assertEq(uint256(market.statusOf(id)), uint256(IJobMarket.JobStatus.Settled), "settled");
        // 2 CRD × 2 GPUs × 1 h = 4 CRD of pay; the 1% fee is 0.04 CRD.
        vm.assertEq(credits.balanceOf(provider), 4 ether - 0.04 ether, "provider paid the lease less the fee");
        vm.assertEq(credits.balanceOf(customer), customerCredits, "nothing left to refund after a full lease");
        vm.assertEq(market.feesAccrued(), 0.04 ether, "fee accrued");
        handler.withdrawFees(0);
        vm.assertEq(credits.balanceOf(TREASURY), 0.04 ether, "treasury got the fee, to the wei");
        vm.assertEq(credits.balanceOf(address(market)), 0, "market holds nothing");
        vm.assertEq(registry.providerOf(provider).completed, 1, "completion recorded");
        vm.assertEq(market.offerOf(provider, "H100-80GB").locked, 0, "lock released");
        _allInvariants();
    }

    /// A sealed job through the handler's actions: two commitments, one revealed, the winner
    /// slashed by the keeper for a missing result, the unrevealed bond forfeited to the treasury,
    /// payouts claimed from the ledger.
    function test_market_sealedFailureSlashesAndForfeits() public {
        address customer = handler.customers()[1];
        address winner = handler.providers()[1];
        address lapsed = handler.providers()[2];
        handler.postJob(1, 1, 1, 5 ether, 2 hours, 30 minutes, 1); // sealed, 1 GPU, 5 CRD/GPU-h, 2 h
        uint256 id = handler.jobs()[0];
        // 30% of 10 CRD at 0.4 CMP per CRD is 1.2 CMP, below the 10 CMP bid bond: the bond.
        vm.assertEq(market.getJob(id).collateral, 10 ether, "collateral is the bid bond");
        handler.commitBid(0, 1, 4 ether, "a");
        handler.commitBid(0, 2, 3 ether, "b");
        handler.revealBid(0, 1);
        handler.finalizeAuction(0, false);
        vm.assertEq(market.getJob(id).provider, winner, "the only revealed bid wins");
        vm.assertEq(market.getJob(id).price, 5 ether, "alone: paid the max price");
        uint256 staked = registry.stakeOf(winner);
        handler.slashForFailure(0, 0); // the keeper, after the result deadline
        vm.assertEq(uint256(market.statusOf(id)), uint256(IJobMarket.JobStatus.Failed), "failed");
        vm.assertEq(registry.stakeOf(winner), staked - 10 ether, "collateral slashed");
        vm.assertEq(registry.payoutOf(customer), 9.5 ether, "customer credited the collateral less 5%");
        vm.assertEq(registry.payoutOf(handler.KEEPER()), 0.5 ether, "keeper credited 5%");
        vm.assertEq(registry.providerOf(winner).failed, 1, "failure recorded");
        handler.settleCommitment(0, 2);
        vm.assertEq(token.balanceOf(TREASURY), 10 ether, "the lapsed bond went to the treasury");
        vm.assertEq(market.offerOf(lapsed, "A100-40GB").locked, 0, "lapsed lock released");
        handler.claimPayout(0, 0);
        handler.claimPayout(0, 0);
        vm.assertEq(token.balanceOf(customer), 9.5 ether, "customer claimed");
        vm.assertEq(token.balanceOf(handler.KEEPER()), 0.5 ether, "keeper claimed");
        _allInvariants();
    }

    /// A provider slashing its own lease for a missing result (through the handler's
    /// `slashForFailure`, caller seed 2: the provider) earns no bounty: the customer is credited
    /// the whole collateral.
    function test_market_selfSlashEarnsNoBounty() public {
        address customer = handler.customers()[2];
        address provider = handler.providers()[3];
        handler.postJob(2, 0, 1, 1 ether, 1 hours, 5 minutes, 0); // open, 1 GPU, 1 CRD/GPU-h, 1 h
        handler.placeBid(0, 3, 1 ether);
        handler.finalizeAuction(0, false);
        uint256 id = handler.jobs()[0];
        uint256 collateral = market.getJob(id).collateral;
        // 30% of 1 CRD at 0.4 CMP/CRD: 0.12 CMP.
        vm.assertEq(collateral, 0.12 ether, "collateral");
        handler.slashForFailure(0, 2);
        vm.assertEq(uint256(market.statusOf(id)), uint256(IJobMarket.JobStatus.Failed), "failed");
        vm.assertEq(registry.payoutOf(customer), collateral, "customer credited the whole collateral");
        vm.assertEq(registry.payoutOf(provider), 0, "no bounty for slashing oneself");
        _allInvariants();
    }

    /// A sealed job with two reveals clears at the second price: the lower bid wins and is paid
    /// the other bid's price; the customer gets the max price's lease less that.
    function test_market_sealedClearsAtTheSecondPrice() public {
        address customer = handler.customers()[0];
        handler.postJob(0, 0, 1, 5 ether, 1 hours, 10 minutes, 1); // sealed, 1 GPU, 5 CRD/GPU-h, 1 h
        uint256 id = handler.jobs()[0];
        handler.commitBid(0, 1, 4 ether, "a");
        handler.commitBid(0, 2, 3 ether, "b");
        handler.revealBid(0, 1);
        handler.revealBid(0, 2);
        uint256 before = credits.balanceOf(customer);
        handler.finalizeAuction(0, false);
        IJobMarket.Job memory job = market.getJob(id);
        vm.assertEq(job.provider, handler.providers()[2], "the lower bid wins");
        vm.assertEq(job.price, 4 ether, "paid the second price");
        vm.assertEq(credits.balanceOf(customer), before + 1 ether, "refund: 5 CRD less 4 CRD of lease");
        _allInvariants();
    }

    function _allInvariants() internal view {
        invariant_market_creditsConserved();
        invariant_market_offersWithinBounds();
        invariant_market_provisionMatchesOffers();
        invariant_market_ledgerHoldsStakes();
        invariant_market_freeStakeNeverNegative();
        invariant_market_forbiddenCallsReverted();
    }
}
