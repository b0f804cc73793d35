// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
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
    using SafeERC20 for IERC20;

    uint256 internal constant BPS = 10_000;
    uint256 internal constant HOUR = 3600;
    /// @notice How long a CMP rate read by `postJob` prices later postings' collateral.
    uint256 internal constant RATE_MAX_AGE = 10 minutes;

    struct ReferencePrice {
        uint128 price;
        uint64 updatedAt;
    }

    /// @notice A job as stored: four slots, each holding what one group of calls reads
    ///         together, so an open job's whole life writes four fresh slots (three at posting,
    ///         the best bid's at the first bid) and every call reads only the slots it needs:
    ///         a bid 0, 1 and 2 (the auction's terms, the best bid, and the customer with what a
    ///         bid locks), a claim and a result 0, 1 and 3 (the lease's terms and clock), a
    ///         close, a settlement and a failure all four. A sealed job's reveal window, nudge
    ///         target and best bid, and a verified job's fee, share a fifth slot written at
    ///         posting only for such jobs; a region, a sixth, only for a job that names one.
    ///         `getJob` gives it unpacked (`IJobMarket.Job`). The escrow and the pay released
    ///         are not stored (`JobMarket.fundsOf`). The model is kept as its id (`gpuModelId`):
    ///         a 32-bit number given to each model the first time a job or an offer names it.
    ///         The per-GPU stake is kept in whole CMP (`setMinStakePerGpu` takes whole CMP).
    ///         Amounts of CMP are 96-bit, prices 80-bit, times 32-bit (to 2106) but the best
    ///         bid's block (40-bit); `postJob` refuses a job whose amounts would not fit.
    struct StoredJob {
        // slot 0: the auction's terms (every call reads it; a bid reads all it holds)
        IJobMarket.JobStatus status;
        IJobMarket.AuctionKind kind;
        bool verification;
        bool hasRegion; // the job names a region (slot 5 is read only then)
        uint32 biddingEnd; // seconds, to 2106 (as every time of the job)
        uint32 modelId; // the job's GPU model's id (`_models`)
        uint80 maxPricePerGpuHour; // postJob refuses 2^80 or more
        uint16 gpuCount; // postJob refuses more than 65,535
        uint16 minVramGb; // likewise
        uint16 minReputationBps;
        uint32 stakePerGpu; // whole CMP a bid locks per GPU beside the collateral (`minStakePerGpu` at posting)
        // slot 1: the best bid, and the count an open bid or a reveal moves with it (written
        // from the first bid on)
        address provider; // best bidder while bidding, then the winner
        // What the best bidder would be paid if the auction closed now, then the clearing price:
        // open, the best bid; sealed, the second-lowest revealed price, or the max price while
        // only one bid is revealed (so the close reads it here and writes nothing).
        uint80 price;
        uint16 bidCount; // bids placed (open) or revealed (sealed); stays at 65,535 past it
        // slot 2: who pays, and the CMP a bid locks (priced at posting: sealed, at least `bidBond`)
        address customer;
        uint96 collateral;
        // slot 3: the lease's terms, fixed at posting, and its clock
        uint32 duration;
        uint16 holdbackBps;
        uint16 feeBps; // protocol fee
        uint16 keeperBountyBps; // keeper's share of a failure slash
        uint24 resultGrace; // time after the lease to submit a result (at most 7 days)
        uint24 challengeWindow; // time to challenge a result (at most 14 days)
        uint32 leaseStart;
        uint32 leaseEnd; // set when the lease stops early (result, cancel, failure)
        uint32 challengeEnd; // result challenge window closes
        uint32 paidUntil; // the provider's last paying claim: the pay released so far is what had accrued then, less the holdback
        // slot 4 (sealed auctions and verified jobs only)
        uint32 revealEnd; // sealed: reveals close
        uint8 targetBids; // sealed: `targetBidsPerJob` at posting (the close's nudge reads it)
        uint40 bestBidBlock; // sealed: the best bid's commitment's block (for ties)
        uint80 bestBid; // sealed: the best bid's own revealed price (0 until the first reveal)
        uint96 verificationFee; // credits in escrow for the verifier's work, fixed at posting
        // slot 5 (a job that names a region only)
        bytes32 region;
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
    /// @dev `minStakePerGpu` in whole CMP (default 100, at most 1,000,000): a job keeps it so.
    uint32 internal _minStakePerGpuCmp = 100;
    /// @notice Number of GPU models named so far by jobs or offers; their ids run from 1 (here
    ///         beside what a posting reads, so naming a new model reads no other parameter slot).
    uint32 public gpuModelCount;
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

    mapping(uint256 => StoredJob) internal _jobs;
    mapping(uint256 => mapping(address => IJobMarket.Commitment)) internal _commitments;
    /// @dev Per model id.
    mapping(uint32 => ReferencePrice) internal _referencePrices;
    /// @dev Each provider's offer per model id: provision, locks, GPUs and their memory.
    mapping(address => mapping(uint32 => IJobMarket.Offer)) internal _offers;
    /// @dev Each GPU model's id (0: never named) and each id's model.
    mapping(bytes32 => uint32) internal _modelIds;
    mapping(uint32 => bytes32) internal _models;

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
    function _job(uint256 jobId) internal view returns (StoredJob storage job) {
        job = _jobs[jobId];
        if (job.status == IJobMarket.JobStatus.None) revert IJobMarket.UnknownJob(jobId);
    }

    /// @notice CMP stake a bidder locks per GPU beside its collateral (default 100 CMP, at most
    ///         1,000,000 CMP, whole CMP); fixed per job when it is posted.
    function minStakePerGpu() public view returns (uint256) {
        return uint256(_minStakePerGpuCmp) * 1 ether;
    }

    /// @dev The id of `gpuModel` (not zero), given now if no job or offer named it before: the
    ///      first posting or offer of a model pays for its two slots, every later one reads one.
    function _modelIdOf(bytes32 gpuModel) internal returns (uint32 id) {
        id = _modelIds[gpuModel];
        if (id != 0) return id;
        unchecked {
            id = ++gpuModelCount; // 2^32 models cannot be named: each costs over 40,000 gas
        }
        (_modelIds[gpuModel], _models[id]) = (id, gpuModel);
        emit IJobMarket.GpuModelAdded(gpuModel, id);
    }

    /// @dev What a bid on `job` locks of its bidder's offer: the collateral and the per-GPU stake.
    function _lockOf(StoredJob storage job) internal view returns (uint256) {
        return uint256(job.collateral) + uint256(job.stakePerGpu) * job.gpuCount * 1 ether;
    }

    /// @dev Releases what `provider`'s bid on `job` locked of its offer (the job's collateral and
    ///      per-GPU stake, and its GPUs) and takes `slashAmount` (at most the lock) off the
    ///      offer's provision, for the ledger to slash in the same transaction: one slot written.
    ///      The lock was taken when the bid or commitment was made, so the subtractions cannot
    ///      underflow while the book holds its invariants.
    function _release(address provider, StoredJob storage job, uint256 slashAmount) internal {
        IJobMarket.Offer storage o = _offers[provider][job.modelId];
        IJobMarket.Offer memory m = o;
        uint256 amount = _lockOf(job);
        (o.provisioned, o.locked, o.reserved) =
            (uint96(m.provisioned - slashAmount), uint96(m.locked - amount), m.reserved - uint16(job.gpuCount));
    }

    /// @dev The job `jobId`, which must be bidding in an auction of `kind`.
    function _biddingJob(uint256 jobId, IJobMarket.AuctionKind kind) internal view returns (StoredJob storage job) {
        job = _job(jobId);
        if (job.status != IJobMarket.JobStatus.Bidding) revert IJobMarket.WrongStatus(jobId, job.status);
        if (job.kind != kind) revert IJobMarket.WrongAuctionKind(jobId, job.kind);
    }

    // ------------------------------------------------------------------ the lease's money

    /// @dev Exact and never past 256 bits: a spec's price, GPUs and duration are 128, 32 and 64
    ///      bits wide (a job's 80, 16 and 32).
    function _leaseValue(uint256 price, uint256 gpus, uint256 duration) internal pure returns (uint256) {
        return price * gpus * duration / HOUR;
    }

    /// @dev The lease's value at the clearing price (`value` below): computed once per call and
    ///      handed to the helpers that need it.
    function _value(StoredJob storage job) internal view returns (uint256) {
        return _leaseValue(job.price, job.gpuCount, job.duration);
    }

    /// @dev Pay accrued from the lease start to now, the early end, or the scheduled end.
    function _accrued(StoredJob storage job, uint256 value) internal view returns (uint256) {
        return _accruedAt(job, value, block.timestamp);
    }

    /// @dev Pay accrued from the lease start to `t`, the early end, or the scheduled end,
    ///      whichever comes first (0 before the start): the lease value at the clearing price,
    ///      as `finalizeAuction` kept it in escrow, times the share of the lease elapsed. An
    ///      early end is written only as the lease leaves `Leased`, and never moves again.
    function _accruedAt(StoredJob storage job, uint256 value, uint256 t) internal view returns (uint256) {
        (uint256 start, uint256 end, uint256 duration) = (job.leaseStart, job.leaseEnd, job.duration);
        if (end == 0) end = start + duration;
        if (t > end) t = end;
        if (t <= start) return 0;
        // A value below 2^117 (80-bit price, 16-bit GPUs, 32-bit duration) times 32-bit seconds.
        return value * (t - start) / duration;
    }

    /// @dev What a claim at `t` may have released in all: the pay accrued by then less the holdback.
    function _releasableAt(StoredJob storage job, uint256 value, uint256 t) internal view returns (uint256) {
        return _accruedAt(job, value, t) * (BPS - job.holdbackBps) / BPS;
    }

    /// @dev The pay released to the provider while the lease ran: what its last paying claim
    ///      could release (the same formula at the same time, so exact to the wei).
    function _claimed(StoredJob storage job, uint256 value) internal view returns (uint256) {
        return _releasableAt(job, value, job.paidUntil);
    }

    /// @dev A bidding job's escrow: what posting took, the lease at the max price and the verification fee.
    function _biddingEscrow(StoredJob storage job) internal view returns (uint256) {
        return _leaseValue(job.maxPricePerGpuHour, job.gpuCount, job.duration) + _feeHeld(job);
    }

    /// @dev A running lease's escrow: the lease at the clearing price and the verification fee,
    ///      less the pay `claimed` so far.
    function _leaseEscrow(StoredJob storage job, uint256 value, uint256 claimed) internal view returns (uint256) {
        return value + _feeHeld(job) - claimed;
    }

    /// @dev The verification fee the escrow holds (none for a job without verification: its
    ///      slot is not read).
    function _feeHeld(StoredJob storage job) internal view returns (uint256) {
        return job.verification ? job.verificationFee : 0;
    }

    /// @dev The fee on the first `paidGross` credits of pay; each payment's fee is the
    ///      difference, so the fees paid sum to exactly `_feeOn` of all the pay released.
    function _feeOn(StoredJob storage job, uint256 paidGross) internal view returns (uint256) {
        return paidGross * job.feeBps / BPS;
    }

    /// @dev Pays `gross` of job `jobId`'s pay (the pay released before it: `before`) to its
    ///      provider, less the fee, which accrues for the treasury.
    function _payProvider(StoredJob storage job, uint256 jobId, uint256 before, uint256 gross) internal {
        uint256 fee = _feeOn(job, before + gross) - _feeOn(job, before);
        uint256 net = gross - fee;
        address provider = job.provider;
        // Checked: at 2^96 wei (79 billion CRD) unsent, claims wait for `withdrawFees` (anyone).
        if (fee != 0) feesAccrued += uint96(fee);
        _transfer(provider, net);
        emit IJobMarket.EarningsClaimed(jobId, provider, net, fee);
    }

    function _transfer(address to, uint256 amount) internal {
        if (amount != 0) IERC20(address(credits)).safeTransfer(to, amount);
    }
}
