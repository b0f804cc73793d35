// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Governed} from "../common/Governed.sol";
import {IComputeCredits} from "../interfaces/IComputeCredits.sol";
import {IJobMarket} from "../interfaces/IJobMarket.sol";
import {IProviderRegistry} from "../interfaces/IProviderRegistry.sol";
import {IRewardsDistributor} from "../interfaces/IRewardsDistributor.sol";
import {IVerificationRecord} from "../interfaces/IVerificationRecord.sol";

/// @title JobMarketStorage
/// @notice The job market's state: parameters, jobs, commitments, reference prices and the
///         providers' offers (GPUs and provisioned stake per model, with the locks bids hold).
/// @dev The one stateful base of both `JobMarket` and its auction module `JobAuctions`, which
///      the market runs by DELEGATECALL on its own storage: the two contracts inherit this and
///      declare no state of their own, so their storage layouts are the same by construction.
///      (The Graph Horizon keeps its allocation logic in `AllocationHandler` and Uniswap v4 its
///      pool logic in `Pool` for the same reason: the contract that holds the money stays under
///      the 24,576-byte limit. A linked Solidity library would need the compiler to know the
///      library's address, which Ape's build cannot be given.)
abstract contract JobMarketStorage is Governed, ReentrancyGuardTransient {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant HOUR = 3600;
    /// @notice How long a CMP rate read by `postJob` prices later postings' collateral.
    uint256 internal constant RATE_MAX_AGE = 10 minutes;

    struct ReferencePrice {
        uint128 price;
        uint64 updatedAt;
    }

    /// @notice Credits (CRD), escrowed and paid here; also the oracle for CMP collateral.
    IComputeCredits public immutable credits;
    /// @notice The staking ledger: provider stake (provisioned here through `setOffer`), region
    ///         and reputation.
    IProviderRegistry public immutable registry;
    /// @notice Told of the credits and fee each settled lease paid (a required immutable peer).
    IRewardsDistributor public immutable rewards;

    // The parameters are packed by the path that reads them (Decisions, "The market's parameters
    // in four slots"): slot 1 beside the pause flag (every guarded call reads it) holds what a
    // bid and a posting read and the job counter; slot 2 every term a posting copies
    // into its job; slot 3 the CMP amounts a posting prices; slot 4 what a settlement reads.

    // slot 1, after `Pausable`'s flag
    /// @notice Receives protocol fees.
    address public treasury;
    /// @notice Least improvement of a new open bid over the best (default 1%, 0.01% to 50%).
    uint16 public minDecrementBps = 100;
    /// @notice Revealed sealed bids per job above which the reference price is nudged down
    ///         (default 3, 1 to 100); open auctions' undercuts do not count. A job keeps the
    ///         value it was posted with (`Job.targetBids`).
    uint8 public targetBidsPerJob = 3;
    /// @notice Number of jobs posted; job ids run from 1.
    uint56 public jobCount;

    // slot 2
    /// @notice Protocol fee on provider pay (default 1%, at most 10%).
    uint16 public protocolFeeBps = 100;
    /// @notice Collateral as a share of the lease value (default 30%, iExec's ratio; at most 100%).
    uint16 public collateralBps = 3_000;
    /// @notice Keeper's share of a failure slash (default 5%, at most 50%).
    uint16 public keeperBountyBps = 500;
    /// @notice Verification fee of a job that asks for verification, as a share of its lease
    ///         value at the max price (default 5%, at most 50%); escrowed at posting.
    uint16 public verificationFeeBps = 500;
    /// @notice Time after the lease end to submit a result (default 1 h, 10 min to 7 days).
    uint24 public resultGrace = 1 hours;
    /// @notice Time to challenge a result (default 1 day, 1 h to 14 days).
    uint24 public challengeWindow = 1 days;
    /// @notice Sealed auctions: time to reveal after bidding ends (default 1 h, 10 min to 7 days).
    uint32 public revealPeriod = 1 hours;
    /// @notice Longest bidding period a job may ask for (default 30 days).
    uint32 public maxBiddingPeriod = 30 days;
    /// @notice Longest lease (default 365 days, at most 730 days); the shortest is one minute.
    uint32 public maxDuration = 365 days;
    /// @notice When `_keptRate` was read (0: never; 32 bits hold timestamps until 2106).
    uint32 internal _keptRateAt;

    // slot 3
    /// @notice Sealed auctions: the least collateral of a sealed job, fixed at posting (default 10
    ///         CMP, at most 100,000 CMP); each commitment locks the job's collateral and forfeits
    ///         it if not revealed.
    uint80 public bidBond = 10 ether;
    /// @notice CMP stake a bidder locks per GPU of the job beside its collateral (default 100
    ///         CMP, at most 1,000,000 CMP); fixed per job when it is posted.
    uint80 public minStakePerGpu = 100 ether;
    /// @notice CMP wei per credit (1e18 CRD wei) at the redemption price, as `postJob` last read
    ///         it from the credits contract (0: never). A posting within `RATE_MAX_AGE` of the
    ///         read prices its collateral at it instead of calling the oracle again.
    uint96 internal _keptRate;

    // slot 4
    /// @notice Protocol fees earned and not yet sent to the treasury (`withdrawFees`), in credits.
    uint96 public feesAccrued;
    /// @notice The resolver whose verification record decides who earns a job's verification
    ///         fee (zero: nobody verifies, every fee goes back to its customer).
    IVerificationRecord public resolver;

    mapping(uint256 => IJobMarket.Job) internal _jobs;
    mapping(uint256 => mapping(address => IJobMarket.Commitment)) internal _commitments;
    mapping(bytes32 => ReferencePrice) internal _referencePrices;
    /// @dev Each provider's offer per GPU model: provision, locks, GPUs and their memory.
    mapping(address => mapping(bytes32 => IJobMarket.Offer)) internal _offers;

    /// @param admin Governance.
    /// @param credits_ CRD.
    /// @param registry_ Provider registry.
    /// @param rewards_ The rewards distributor told of every settled lease.
    constructor(address admin, IComputeCredits credits_, IProviderRegistry registry_, IRewardsDistributor rewards_)
        Governed(admin)
    {
        if (address(credits_) == address(0) || address(registry_) == address(0) || address(rewards_) == address(0)) {
            revert ZeroAddress();
        }
        credits = credits_;
        registry = registry_;
        rewards = rewards_;
    }

    /// @dev The job `jobId`; reverts `UnknownJob` if it was never posted.
    function _job(uint256 jobId) internal view returns (IJobMarket.Job storage job) {
        job = _jobs[jobId];
        if (job.status == IJobMarket.JobStatus.None) revert IJobMarket.UnknownJob(jobId);
    }

    /// @dev Releases what `provider`'s bid on `job` locked of its offer (the job's collateral and
    ///      per-GPU stake, and its GPUs) and takes `slashAmount` (at most the lock) off the
    ///      offer's provision, for the ledger to slash in the same transaction: one slot written.
    ///      The lock was taken when the bid or commitment was made, so the subtractions cannot
    ///      underflow while the book holds its invariants.
    function _release(address provider, IJobMarket.Job storage job, uint256 slashAmount) internal {
        IJobMarket.Offer storage o = _offers[provider][job.gpuModel];
        IJobMarket.Offer memory m = o;
        uint256 amount = uint256(job.collateral) + job.gpuStake;
        (o.provisioned, o.locked, o.reserved) =
            (uint96(m.provisioned - slashAmount), uint96(m.locked - amount), m.reserved - uint16(job.gpuCount));
    }

    /// @dev The job `jobId`, which must be bidding in an auction of `kind`.
    function _biddingJob(uint256 jobId, IJobMarket.AuctionKind kind) internal view returns (IJobMarket.Job storage job) {
        job = _job(jobId);
        if (job.status != IJobMarket.JobStatus.Bidding) revert IJobMarket.WrongStatus(jobId, job.status);
        if (job.kind != kind) revert IJobMarket.WrongAuctionKind(jobId, job.kind);
    }
}
