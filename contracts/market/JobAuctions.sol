// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IComputeCredits} from "../interfaces/IComputeCredits.sol";
import {IJobMarket} from "../interfaces/IJobMarket.sol";
import {IProviderRegistry} from "../interfaces/IProviderRegistry.sol";
import {IRewardsDistributor} from "../interfaces/IRewardsDistributor.sol";
import {JobMarketStorage} from "./JobMarketStorage.sol";

/// @title JobAuctions
/// @notice The job market's auction rules and the providers' offers: offers set, open bids,
///         sealed commitments and reveals, lapsed commitments. Deployed once beside the market and run only by the market's
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

    /// @notice Sets the caller's offer of `gpuModel`: `gpuCount` GPUs of `vramGb` GB each and
    ///         `provisioned` CMP of its stake set aside for that model's jobs. The ledger moves the
    ///         difference from the caller's free stake into its provision (the caller must be
    ///         registered and have that much free) or back. Neither the GPUs nor the provision may
    ///         go below what the caller's bids hold (`OfferInUse`); a count of zero and no
    ///         provision withdraw the model. Not stopped by `pause()`: a provider can always
    ///         take back what no job holds.
    function setOffer(bytes32 gpuModel, uint256 gpuCount, uint256 vramGb, uint256 provisioned) external onlyDelegated {
        if (
            gpuModel == bytes32(0) || gpuCount > type(uint16).max || vramGb > type(uint32).max
                || provisioned > type(uint96).max
        ) revert IJobMarket.InvalidOffer();
        IJobMarket.Offer storage o = _offers[msg.sender][_modelIdOf(gpuModel)];
        IJobMarket.Offer memory m = o;
        if (provisioned < m.locked || gpuCount < m.reserved) revert IJobMarket.OfferInUse(m.locked, m.reserved);
        (o.provisioned, o.gpus, o.vramGb) = (uint96(provisioned), uint16(gpuCount), uint32(vramGb));
        emit IJobMarket.OfferSet(msg.sender, gpuModel, gpuCount, vramGb, provisioned);
        if (provisioned != m.provisioned) {
            registry.provision(msg.sender, int256(provisioned) - int256(uint256(m.provisioned)));
        }
    }

    /// @notice Cancels a job. While bidding (for sealed auctions, only before bidding closes):
    ///         everything is refunded and the best bidder released. During the lease: the lease
    ///         ends now, the provider keeps what accrued and the customer gets the rest.
    ///         Customer only.
    function cancelJob(uint256 jobId) external onlyDelegated {
        StoredJob storage job = _job(jobId);
        if (msg.sender != job.customer) revert IJobMarket.NotCustomer(msg.sender);
        IJobMarket.JobStatus status = job.status;
        uint256 escrow;
        uint256 claimed;
        uint256 providerGross;
        if (status == IJobMarket.JobStatus.Leased) {
            uint256 scheduledEnd = uint256(job.leaseStart) + job.duration;
            if (block.timestamp >= scheduledEnd) revert IJobMarket.LeaseOver(scheduledEnd);
            uint256 value = _value(job);
            claimed = _claimed(job, value);
            escrow = _leaseEscrow(job, value, claimed);
            job.leaseEnd = uint32(block.timestamp);
            providerGross = _accrued(job, value) - claimed;
            _release(job.provider, job, 0);
        } else if (status == IJobMarket.JobStatus.Bidding) {
            // No free look: once sealed bids may be revealed, only finalizeAuction ends the job.
            if (job.kind == IJobMarket.AuctionKind.Sealed && block.timestamp >= job.biddingEnd) {
                revert IJobMarket.BiddingClosed(job.biddingEnd);
            }
            escrow = _biddingEscrow(job);
            if (job.provider != address(0)) _release(job.provider, job, 0);
        } else {
            revert IJobMarket.WrongStatus(jobId, status);
        }
        job.status = IJobMarket.JobStatus.Cancelled;
        uint256 refund = escrow - providerGross;
        if (providerGross != 0) _payProvider(job, jobId, claimed, providerGross);
        _transfer(job.customer, refund);
        emit IJobMarket.JobCancelled(jobId, providerGross, refund);
    }

    /// @notice Bids `pricePerGpuHour` on an open auction. The bid must be at most the job's max
    ///         price and beat the best bid by `minDecrementBps`; it locks the bidder's collateral
    ///         and GPUs on its offer and releases the bidder it outbids (the two offers are the
    ///         only slots outside the job it writes, and it calls no other contract unless the job
    ///         names a region or a least reputation). O(1) whatever the number of bids.
    function placeBid(uint256 jobId, uint256 pricePerGpuHour) external onlyDelegated {
        StoredJob storage job = _biddingJob(jobId, IJobMarket.AuctionKind.Open);
        if (block.timestamp >= job.biddingEnd) revert IJobMarket.BiddingClosed(job.biddingEnd);
        if (pricePerGpuHour == 0) revert IJobMarket.ZeroPrice();
        if (pricePerGpuHour > job.maxPricePerGpuHour) revert IJobMarket.BidAboveMaxPrice(pricePerGpuHour, job.maxPricePerGpuHour);
        address previous = job.provider;
        if (previous != address(0)) {
            uint256 maxAllowed = uint256(job.price) * (BPS - minDecrementBps) / BPS;
            if (pricePerGpuHour > maxAllowed) revert IJobMarket.BidNotLowEnough(pricePerGpuHour, maxAllowed);
        }
        // The outbid bidder is released first: a best bidder that lowers its own bid keeps one
        // lock, and needs no room on its offer for a second.
        if (previous != address(0)) _release(previous, job, 0);
        _lock(job, msg.sender);
        // Open bids cannot tie (each beats the best by `minDecrementBps`): no block is kept.
        (job.provider, job.price, job.bidCount) = (msg.sender, uint80(pricePerGpuHour), _counted(job.bidCount));
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
        StoredJob storage job = _biddingJob(jobId, IJobMarket.AuctionKind.Sealed);
        if (block.timestamp >= job.biddingEnd) revert IJobMarket.BiddingClosed(job.biddingEnd);
        IJobMarket.Commitment storage c = _commitments[jobId][msg.sender];
        if (c.committedAtBlock != 0) revert IJobMarket.AlreadyCommitted(jobId, msg.sender);
        _lock(job, msg.sender);
        (c.hash, c.committedAtBlock) = (bytes24(commitment), uint40(block.number));
        emit IJobMarket.BidCommitted(jobId, msg.sender, commitment);
    }

    /// @notice Reveals a sealed bid between `biddingEnd` and `revealEnd`. A new lowest price keeps
    ///         its commitment's lock as the bid's collateral (the two are the same), releases the
    ///         previous best and demotes it to second price; any other reveal releases its bond.
    ///         One offer released either way.
    ///         Ties go to the higher reputation, then the earlier commitment, then the lower
    ///         `keccak256(jobId, provider)`.
    function revealBid(uint256 jobId, uint256 pricePerGpuHour, bytes32 salt) external onlyDelegated {
        StoredJob storage job = _biddingJob(jobId, IJobMarket.AuctionKind.Sealed);
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
        if (released != address(0)) _release(released, job, 0);
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
        StoredJob storage job = _job(jobId);
        IJobMarket.Commitment storage c = _commitments[jobId][provider];
        if (c.committedAtBlock == 0 || c.revealed) revert IJobMarket.NoCommitment(jobId, provider);
        c.revealed = true;
        if (job.status == IJobMarket.JobStatus.Cancelled && job.leaseStart == 0) {
            _release(provider, job, 0);
            emit IJobMarket.BondReleased(jobId, provider);
            return;
        }
        if (block.timestamp < job.revealEnd) revert IJobMarket.RevealStillOpen(job.revealEnd);
        uint256 bond = job.collateral;
        _release(provider, job, bond);
        address[] memory to = new address[](1);
        uint256[] memory amounts = new uint256[](1);
        (to[0], amounts[0]) = (treasury, bond);
        emit IJobMarket.BondForfeited(jobId, provider, bond);
        registry.slash(provider, bond, to, amounts);
    }

    // ------------------------------------------------------------------ internals

    /// @dev Checks that `provider` may bid on `job` (model, memory, region, reputation, GPUs and
    ///      provision free on its offer) and locks the job's collateral and per-GPU stake and its
    ///      GPUs on the offer: one slot read and written. Only a job that names a region or a
    ///      least reputation pays for a call to the ledger.
    function _lock(StoredJob storage job, address provider) private {
        if (provider == job.customer) revert IJobMarket.SelfBid();
        IJobMarket.Offer storage o = _offers[provider][job.modelId];
        IJobMarket.Offer memory m = o;
        if (m.gpus == 0) revert IJobMarket.GpuModelNotOffered(_models[job.modelId]);
        if (m.vramGb < job.minVramGb) revert IJobMarket.InsufficientVram(m.vramGb, job.minVramGb);
        if (job.hasRegion) {
            (bytes32 region, bytes32 theirs) = (job.region, registry.regionOf(provider));
            if (theirs != region) revert IJobMarket.WrongRegion(theirs, region);
        }
        uint16 least = job.minReputationBps;
        if (least != 0) {
            uint16 reputation = registry.reputationOf(provider);
            if (reputation < least) revert IJobMarket.ReputationTooLow(reputation, least);
        }
        uint256 gpus = job.gpuCount;
        uint256 available = m.gpus - m.reserved;
        if (gpus > available) revert IJobMarket.InsufficientCapacity(available, gpus);
        uint256 amount = _lockOf(job);
        uint256 free = m.provisioned - m.locked;
        // A provision of zero also refuses a job that locks nothing: provisioning needs a
        // registered provider, and deregistering needs every provision taken back.
        if (amount > free || m.provisioned == 0) revert IJobMarket.NotEnoughProvision(free, amount);
        (o.locked, o.reserved) = (uint96(m.locked + amount), uint16(m.reserved + gpus));
    }

    /// @dev The bid count after one more bid: it stays at 65,535 rather than revert a bid or a
    ///      reveal (it only feeds the reference price's nudge and the events).
    function _counted(uint16 count) private pure returns (uint16) {
        return count == type(uint16).max ? count : count + 1;
    }

    /// @dev Strict order of sealed bids: lower price, higher reputation, earlier commitment, lower hash.
    function _beats(uint256 jobId, StoredJob storage job, address challenger, uint256 price, uint40 committedAtBlock)
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
