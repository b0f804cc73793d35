// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IComputeCredits} from "../interfaces/IComputeCredits.sol";
import {IJobMarket} from "../interfaces/IJobMarket.sol";
import {IProviderRegistry} from "../interfaces/IProviderRegistry.sol";
import {IRewardsDistributor} from "../interfaces/IRewardsDistributor.sol";
import {JobMarketStorage} from "./JobMarketStorage.sol";

/// @title JobAuctions
/// @notice The job market's auction rules: open bids, sealed commitments and reveals, lapsed
///         commitments. Deployed once beside the market and run only by the market's
///         DELEGATECALL, on the market's storage: every write lands in the market, every event
///         is the market's, and the market stays the one address that holds the escrow.
/// @dev Same storage layout as `JobMarket` by construction (both inherit `JobMarketStorage`
///      and declare no state). The market checks pause and reentrancy before it forwards the
///      call with its own calldata (same selectors); this module's own storage is never used,
///      and a direct call reverts `NotDelegated`. Moving the auctions here took `JobMarket`
///      from 23,983 to 19,199 bytes.
contract JobAuctions is JobMarketStorage {
    /// @dev This module's own address, to tell a direct call from the market's DELEGATECALL.
    address private immutable _self;

    /// @notice Called directly instead of through the market.
    error NotDelegated();

    /// @param admin Governance of this module's (unused) own storage.
    /// @param credits_ The market's credits.
    /// @param registry_ The market's provider registry.
    /// @param rewards_ The market's rewards distributor.
    constructor(address admin, IComputeCredits credits_, IProviderRegistry registry_, IRewardsDistributor rewards_)
        JobMarketStorage(admin, credits_, registry_, rewards_)
    {
        _self = address(this);
    }

    modifier onlyDelegated() {
        if (address(this) == _self) revert NotDelegated();
        _;
    }

    /// @notice Bids `pricePerGpuHour` on an open auction. The bid must be at most the job's max
    ///         price and beat the best bid by `minDecrementBps`; it locks the bidder's collateral
    ///         and capacity and releases the bidder it outbids. O(1) whatever the number of bids.
    function placeBid(uint256 jobId, uint256 pricePerGpuHour) external onlyDelegated {
        IJobMarket.Job storage job = _biddingJob(jobId, IJobMarket.AuctionKind.Open);
        if (block.timestamp >= job.biddingEnd) revert IJobMarket.BiddingClosed(job.biddingEnd);
        if (pricePerGpuHour == 0) revert IJobMarket.ZeroPrice();
        if (pricePerGpuHour > job.maxPricePerGpuHour) revert IJobMarket.BidAboveMaxPrice(pricePerGpuHour, job.maxPricePerGpuHour);
        address previous = job.provider;
        if (previous != address(0)) {
            uint256 maxAllowed = uint256(job.price) * (BPS - minDecrementBps) / BPS;
            if (pricePerGpuHour > maxAllowed) revert IJobMarket.BidNotLowEnough(pricePerGpuHour, maxAllowed);
        }
        _checkEligible(job, msg.sender);
        (job.provider, job.price, job.bidCount) = (msg.sender, uint80(pricePerGpuHour), _counted(job.bidCount));
        // Open bids cannot tie (each beats the best by `minDecrementBps`), so no later bid needs the
        // block: the first bid's is kept so that the record's slot is written from then on and the
        // result's times land in it at the price of a used slot.
        if (previous == address(0)) job.bestBidBlock = uint40(block.number);
        // One call: the outbid bidder's lock is released and the same lock taken by the caller.
        registry.replaceLock(previous, msg.sender, _lockOf(job, jobId));
        emit IJobMarket.BidPlaced(jobId, msg.sender, pricePerGpuHour, job.collateral);
    }

    /// @notice Commits a sealed bid: `commitment = keccak256(abi.encode(jobId, bidder, price, salt))`
    ///         (its first 24 bytes are kept). Locks the job's collateral as the bond (`collateralBps`
    ///         of the lease at the max price, or `bidBond` where that is larger, fixed at posting),
    ///         plus `minStakePerGpu` per GPU, and reserves capacity until the reveal: what the
    ///         commitment locks is what the bid locks as the best one. An unrevealed commitment
    ///         forfeits that bond (whatever governance sets later) to the treasury, never to the
    ///         customer: a customer's shill that hides because it would have won loses the job's
    ///         collateral. One fresh slot per commitment.
    function commitBid(uint256 jobId, bytes32 commitment) external onlyDelegated {
        IJobMarket.Job storage job = _biddingJob(jobId, IJobMarket.AuctionKind.Sealed);
        if (block.timestamp >= job.biddingEnd) revert IJobMarket.BiddingClosed(job.biddingEnd);
        IJobMarket.Commitment storage c = _commitments[jobId][msg.sender];
        if (c.committedAtBlock != 0) revert IJobMarket.AlreadyCommitted(jobId, msg.sender);
        _checkEligible(job, msg.sender);
        (c.hash, c.committedAtBlock) = (bytes24(commitment), uint40(block.number));
        registry.lockCollateral(msg.sender, _lockOf(job, jobId));
        emit IJobMarket.BidCommitted(jobId, msg.sender, commitment);
    }

    /// @notice Reveals a sealed bid between `biddingEnd` and `revealEnd`. A new lowest price keeps
    ///         its commitment's lock as the bid's collateral (the two are the same), releases the
    ///         previous best and demotes it to second price; any other reveal releases its bond.
    ///         One registry call either way.
    ///         Ties go to the higher reputation, then the earlier commitment, then the lower
    ///         `keccak256(jobId, provider)`.
    function revealBid(uint256 jobId, uint256 pricePerGpuHour, bytes32 salt) external onlyDelegated {
        IJobMarket.Job storage job = _biddingJob(jobId, IJobMarket.AuctionKind.Sealed);
        if (block.timestamp < job.biddingEnd || block.timestamp >= job.revealEnd) {
            revert IJobMarket.RevealNotOpen(job.biddingEnd, job.revealEnd);
        }
        IJobMarket.Commitment storage c = _commitments[jobId][msg.sender];
        if (c.committedAtBlock == 0 || c.revealed) revert IJobMarket.NoCommitment(jobId, msg.sender);
        if (bytes24(keccak256(abi.encode(jobId, msg.sender, pricePerGpuHour, salt))) != c.hash) {
            revert IJobMarket.InvalidReveal();
        }
        if (pricePerGpuHour == 0) revert IJobMarket.ZeroPrice();
        if (pricePerGpuHour > job.maxPricePerGpuHour) revert IJobMarket.BidAboveMaxPrice(pricePerGpuHour, job.maxPricePerGpuHour);
        c.revealed = true;
        job.bidCount = _counted(job.bidCount);

        // `price` is what the best bidder would be paid: the second-lowest revealed price, or the
        // max price while one bid is revealed; `bestBid` is the best bidder's own price.
        address best = job.provider;
        bool isBest = best == address(0) || _beats(jobId, job, msg.sender, pricePerGpuHour, c.committedAtBlock);
        if (isBest) {
            // The previous best becomes the second-lowest price (it is at most the one before).
            uint256 paid = best == address(0) ? job.maxPricePerGpuHour : job.bestBid;
            (job.provider, job.price) = (msg.sender, uint80(paid));
            (job.bestBid, job.bestBidBlock) = (uint80(pricePerGpuHour), c.committedAtBlock);
        } else if (pricePerGpuHour < job.price) {
            job.price = uint80(pricePerGpuHour);
        }
        // The commitment already locks what the best bid locks: a new best keeps it as the bid's
        // and releases the previous best's; any other reveal releases its own.
        address released = isBest ? best : msg.sender;
        if (released != address(0)) registry.releaseCollateral(released, _lockOf(job, jobId));
        emit IJobMarket.BidRevealed(jobId, msg.sender, pricePerGpuHour, isBest);
    }

    /// @notice Ends a commitment that was not revealed: released without penalty when the job
    ///         was cancelled while bidding (possible only before bidding closed, so nobody could
    ///         reveal), forfeited once the reveal period is over: the bond it locked (the job's
    ///         collateral, fixed at posting), to
    ///         the treasury (a customer paid with lapsed bonds could post shill commitments as a
    ///         free option). A lease cancelled later does not excuse a commitment that lapsed
    ///         before it. Anyone.
    function settleCommitment(uint256 jobId, address provider) external onlyDelegated {
        IJobMarket.Job storage job = _job(jobId);
        IJobMarket.Commitment storage c = _commitments[jobId][provider];
        if (c.committedAtBlock == 0 || c.revealed) revert IJobMarket.NoCommitment(jobId, provider);
        c.revealed = true;
        registry.releaseCollateral(provider, _lockOf(job, jobId));
        if (job.status == IJobMarket.JobStatus.Cancelled && job.leaseStart == 0) {
            emit IJobMarket.BondReleased(jobId, provider);
            return;
        }
        if (block.timestamp < job.revealEnd) revert IJobMarket.RevealStillOpen(job.revealEnd);
        uint256 bond = job.collateral;
        address[] memory to = new address[](1);
        uint256[] memory amounts = new uint256[](1);
        (to[0], amounts[0]) = (treasury, bond);
        uint256 slashed = registry.slash(provider, bond, to, amounts);
        emit IJobMarket.BondForfeited(jobId, provider, slashed);
    }

    // ------------------------------------------------------------------ internals

    /// @dev Registration, model, memory, region and reputation; capacity and free stake are
    ///      checked by the registry when it locks.
    function _checkEligible(IJobMarket.Job storage job, address provider) private view {
        if (provider == job.customer) revert IJobMarket.SelfBid();
        IProviderRegistry.Profile memory p = registry.profileOf(provider, job.gpuModel);
        if (!p.registered) revert IJobMarket.ProviderNotRegistered(provider);
        if (p.gpuCount == 0) revert IJobMarket.GpuModelNotOffered(job.gpuModel);
        if (p.vramGb < job.minVramGb) revert IJobMarket.InsufficientVram(p.vramGb, job.minVramGb);
        if (job.hasRegion) {
            // Only a job that names a region pays for the bidder's region (a call and a slot).
            (bytes32 region, bytes32 theirs) = (job.region, registry.regionOf(provider));
            if (theirs != region) revert IJobMarket.WrongRegion(theirs, region);
        }
        if (p.reputationBps < job.minReputationBps) revert IJobMarket.ReputationTooLow(p.reputationBps, job.minReputationBps);
    }

    /// @dev The bid count after one more bid: it stays at 65,535 rather than revert a bid or a
    ///      reveal (it only feeds the reference price's nudge and the events).
    function _counted(uint16 count) private pure returns (uint16) {
        return count == type(uint16).max ? count : count + 1;
    }

    /// @dev Strict order of sealed bids: lower price, higher reputation, earlier commitment, lower hash.
    function _beats(uint256 jobId, IJobMarket.Job storage job, address challenger, uint256 price, uint40 committedAtBlock)
        private
        view
        returns (bool)
    {
        uint256 best = job.bestBid;
        if (price != best) return price < best;
        address incumbent = job.provider;
        uint16 repA = registry.reputationOf(challenger);
        uint16 repB = registry.reputationOf(incumbent);
        if (repA != repB) return repA > repB;
        uint40 incumbentBlock = job.bestBidBlock;
        if (committedAtBlock != incumbentBlock) return committedAtBlock < incumbentBlock;
        return keccak256(abi.encode(jobId, challenger)) < keccak256(abi.encode(jobId, incumbent));
    }
}
