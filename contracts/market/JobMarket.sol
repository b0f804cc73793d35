// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IComputeCredits} from "../interfaces/IComputeCredits.sol";
import {IJobMarket} from "../interfaces/IJobMarket.sol";
import {IDisputeResolver} from "../interfaces/IDisputeResolver.sol";
import {IProviderRegistry} from "../interfaces/IProviderRegistry.sol";
import {IRewardsDistributor} from "../interfaces/IRewardsDistributor.sol";
import {IVerificationRecord} from "../interfaces/IVerificationRecord.sol";
import {JobAuctions} from "./JobAuctions.sol";
import {JobMarketStorage} from "./JobMarketStorage.sol";

/// @title JobMarket
/// @notice Customers post compute jobs and escrow credits; staked providers bid the price down
///         in a reverse auction (open, or sealed with second-price settlement); the winner
///         serves the job as a lease paid by the second, submits a result, and is paid once the
///         challenge window closes. Providers that fail are slashed for the customer.
/// @dev Money: credits (CRD) only. A job's escrow (`fundsOf`) is every credit the market holds
///      for it: while bidding the lease at the max price, during the lease the lease at the
///      clearing price less the pay released so far, none once the job has ended; a verified
///      job's escrow also holds its `verificationFee`, paid at the end to the verifier whose
///      verdict was borne out, else refunded with the rest. The escrow is not stored: every
///      transition pays out exactly the difference between the formula before and after it, and
///      the only credits held outside a job are the protocol fees accrued for the treasury, so
///      the market's CRD balance equals the sum of its jobs' escrows plus `feesAccrued` (credits
///      enter only when the market pulls them: `ComputeCredits` refuses a transfer pushed into it).
///      The pay released is not stored either: a claim pays what accrued until now less the
///      holdback, and records only the time (`paidUntil`).
///      The lease value is `price * gpus * duration / 3600`; pay accrues linearly per second, so
///      accrued(t) = value * elapsed / duration, exact to the wei at the end.
///      Collateral is CMP stake locked on the bidder's offer of the job's model (`Offer`: stake
///      the provider provisioned from the ledger, the `ProviderRegistry`, for that model's jobs,
///      beside its GPUs, in one slot of this contract, so a bid calls no other contract unless
///      the job names a region or a least reputation (or, sealed, ties on price), and an outcome
///      makes one call, to record it and slash the provision): `collateralBps` of the lease
///      value at the job's max price (never less than at the price the provider will be paid,
///      so a 1-wei bid risks as much as an honest one, and a sealed winner paid the second price
///      is covered), converted at the oracle price when the job is posted (so posting needs a
///      fresh answer and bids and reveals need none), plus `minStakePerGpu` per GPU.
///      Every bid, reveal and settlement is O(1): the auction keeps only its best (and, sealed,
///      second) price; outbid and revealed-but-losing bidders are released on the spot.
///      Invariants of the book: per offer `locked <= provisioned` and `reserved <= gpus`; the
///      ledger's provision of each provider is the sum of its offers' `provisioned`, to the wei.
///      `pause()` stops `postJob`, `placeBid` and `commitBid`. Reveals, finalization, claims,
///      cancellations, results, settlements, slashes, disputes and offers always go on.
///      The auction entry points forward to `JobAuctions`, run by DELEGATECALL on this
///      contract's storage (both inherit `JobMarketStorage`), to keep this contract small.
contract JobMarket is JobMarketStorage, IJobMarket {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice Applies dispute outcomes (the DisputeResolver).
    bytes32 public constant RESOLVER_ROLE = keccak256("RESOLVER_ROLE");

    /// @notice The auction rules (`JobAuctions`), run on this contract's storage by DELEGATECALL.
    address public immutable auctions;

    event JobPosted(
        uint256 indexed jobId,
        address indexed customer,
        bytes32 indexed gpuModel,
        uint32 gpuCount,
        uint128 maxPricePerGpuHour,
        uint64 duration,
        uint64 biddingEnd,
        AuctionKind kind,
        uint256 escrow,
        uint256 lock,
        bytes32 workload,
        string manifestURI
    );
    event AuctionFinalized(
        uint256 indexed jobId, address indexed provider, uint256 clearingPrice, uint256 bids, uint256 refund
    );
    event JobExpired(uint256 indexed jobId, uint256 refund);
    event ResultSubmitted(
        uint256 indexed jobId, address indexed provider, bytes32 resultHash, string uri, uint256 challengeEnd
    );
    event JobSettled(uint256 indexed jobId, address indexed provider, uint256 providerGross, uint256 refund);
    event JobFailed(uint256 indexed jobId, address indexed provider, uint256 slashed, uint256 bounty, uint256 refund);
    event JobDisputed(uint256 indexed jobId);
    /// @notice The reference price of the GPU model with id `modelId` (`GpuModelAdded` and
    ///         `gpuModelId` map models to ids) moved to `price`.
    event ReferencePriceUpdated(uint256 indexed modelId, uint256 price);
    /// @notice `postJob` read the CMP rate (CMP wei per credit) it prices collateral at; the
    ///         next `RATE_MAX_AGE` of postings use it.
    event CollateralRateRead(uint256 tokensPerCredit);
    /// @dev Gas a settlement keeps for the distributor's work report (its costliest case, the
    ///      first report of an epoch for a new provider and a new verifier, takes about 200,000).
    uint256 private constant REPORT_GAS = 250_000;

    event TreasurySet(address indexed treasury);
    /// @notice Accrued protocol fees sent to the treasury.
    event FeesWithdrawn(address indexed treasury, uint256 amount);
    event ResolverSet(address indexed resolver);
    /// @notice Job `jobId`'s verification fee went to the verifier whose verdict was borne out.
    event VerificationFeePaid(uint256 indexed jobId, address indexed verifier, uint256 amount);
    /// @notice The rewards distributor refused job `jobId`'s work report; the job settled anyway.
    event WorkNotRecorded(uint256 indexed jobId);

    /// @notice `postJob` refused the job: `field` names what is wrong (a spec field, or the
    ///         `escrow` or `collateral` past 96 bits), as short text in a bytes32.
    error InvalidJobSpec(bytes32 field);
    /// @notice Parameter `name` takes whole tokens (a multiple of 10^18 wei).
    error NotWholeTokens(bytes32 name, uint256 value);
    /// @notice `withdrawFees` with no fee accrued.
    error NoFeesAccrued();
    error BiddingNotOver(uint256 until);
    error NotProvider(address caller);
    error ResultDeadlinePassed(uint256 deadline);
    error ResultDeadlineNotPassed(uint256 deadline);
    error ChallengeWindowOpen(uint256 challengeEnd);
    error ChallengeWindowClosed(uint256 challengeEnd);
    /// @notice The auctions module was deployed for other credits or another registry.
    error AuctionsMismatch();
    /// @notice Too little gas left to report the settled work to the distributor.
    error GasTooLowForReport(uint256 left, uint256 needed);

    /// @param admin Governance.
    /// @param credits_ CRD.
    /// @param registry_ Provider registry.
    /// @param treasury_ Receives protocol fees.
    /// @param auctions_ The `JobAuctions` module deployed for the same credits, registry and rewards.
    /// @param rewards_ The rewards distributor told of every settled lease (its `MARKET_ROLE`).
    constructor(
        address admin,
        IComputeCredits credits_,
        IProviderRegistry registry_,
        address treasury_,
        JobAuctions auctions_,
        IRewardsDistributor rewards_
    ) JobMarketStorage(admin, credits_, registry_, rewards_) {
        if (treasury_ == address(0)) revert ZeroAddress();
        if (auctions_.registry() != registry_ || auctions_.credits() != credits_ || auctions_.rewards() != rewards_) {
            revert AuctionsMismatch();
        }
        treasury = treasury_;
        auctions = address(auctions_);
    }

    // ================================================================== customers

    /// @notice Posts a job and escrows `maxPricePerGpuHour * gpuCount * duration / 3600`
    ///         credits from the caller, plus `verificationFeeBps` of that for a job that asks for
    ///         verification (`escrowFor` gives both; approve the market first).
    /// @return jobId The new job's id.
    function postJob(JobSpec calldata spec) external whenNotPaused nonReentrant returns (uint256 jobId) {
        _validate(spec);
        (uint256 escrow, uint256 verificationFee) = escrowFor(spec);
        if (escrow == 0 || escrow > type(uint96).max) revert InvalidJobSpec("escrow");
        // The collateral is priced once, now: bids and reveals need no oracle (an outage cannot
        // make a reveal impossible) and every bidder locks the same amount.
        uint256 collateralCredits = (escrow - verificationFee) * collateralBps / BPS;
        // Below 2^96 (checked above) times a rate below 2^96 (`_collateralRate`): no overflow.
        uint256 collateral = collateralCredits == 0 ? 0 : collateralCredits * _collateralRate() / 1 ether;
        // A sealed job's collateral is at least `bidBond`: each commitment locks the collateral as
        // its bond, so a commitment revealed best keeps its lock and a lapse forfeits it.
        if (spec.kind == AuctionKind.Sealed && collateral < bidBond) collateral = bidBond;
        // At most 1,000,000 CMP (the setter's cap) × 65,535 GPUs (`_validate`) < 2^96: fits.
        uint256 stakePerGpu = _minStakePerGpuCmp; // whole CMP
        uint256 lock = collateral + stakePerGpu * spec.gpuCount * 1 ether;
        // What a bid locks must fit an offer's 96-bit provision, or no bid could ever be placed.
        if (lock > type(uint96).max) revert InvalidJobSpec("collateral");
        unchecked {
            jobId = ++jobCount; // 2^56 postings cannot happen: each costs over 100,000 gas
        }
        StoredJob storage job = _jobs[jobId];
        _storeAuction(job, spec, stakePerGpu);
        (job.customer, job.collateral) = (msg.sender, uint96(collateral));
        _storeLease(job, spec);
        if (spec.kind == AuctionKind.Sealed || verificationFee != 0) _storeSealedAndFee(job, spec, verificationFee);
        if (spec.region != bytes32(0)) job.region = spec.region;

        IERC20(address(credits)).safeTransferFrom(msg.sender, address(this), escrow);
        _emitPosted(jobId, spec, escrow, lock);
    }

    /// @notice Cancels a job. While bidding (for sealed auctions, only before bidding closes):
    ///         everything is refunded and the best bidder released.
    ///         During the lease: the lease ends now, the provider keeps what accrued and the
    ///         customer gets the rest. Customer only.
    function cancelJob(uint256 jobId) external nonReentrant {
        (jobId);
        _delegateToAuctions();
    }

    // ================================================================== offers

    /// @notice Sets the caller's offer of `gpuModel`: `gpuCount` GPUs of `vramGb` GB each and
    ///         `provisioned` CMP of its stake set aside for that model's jobs, moved from (or
    ///         back to) its free stake in the ledger. Neither may go below what the caller's
    ///         bids hold (`OfferInUse`). Not stopped by `pause()`.
    function setOffer(bytes32 gpuModel, uint256 gpuCount, uint256 vramGb, uint256 provisioned) external nonReentrant {
        (gpuModel, gpuCount, vramGb, provisioned);
        _delegateToAuctions();
    }

    // ================================================================== open auctions

    /// @notice Bids `pricePerGpuHour` on an open auction. The bid must be at most the job's max
    ///         price and beat the best bid by `minDecrementBps`; it locks the job's collateral,
    ///         per-GPU stake and GPUs on the bidder's offer of the job's model and releases the
    ///         bidder it outbids. O(1) whatever the number of bids.
    function placeBid(uint256 jobId, uint256 pricePerGpuHour) external whenNotPaused nonReentrant {
        (jobId, pricePerGpuHour); // read by `JobAuctions` from the forwarded calldata
        _delegateToAuctions();
    }

    // ================================================================== sealed auctions

    /// @notice Commits a sealed bid: `commitment = keccak256(abi.encode(jobId, bidder, price, salt))`.
    ///         Locks a bond of the job's collateral (`collateralBps` of the lease at the max price,
    ///         fixed at posting), or `bidBond` where that is larger, plus `minStakePerGpu` per GPU,
    ///         and reserves the job's GPUs, on the bidder's offer of the job's model until the
    ///         reveal: what the commitment locks is what the bid would lock as the best one. An unrevealed commitment forfeits that bond (as locked
    ///         now, whatever governance sets later) to the treasury, never to the customer: a
    ///         customer's shill that hides because it would have won loses the job's collateral.
    function commitBid(uint256 jobId, bytes32 commitment) external whenNotPaused nonReentrant {
        (jobId, commitment);
        _delegateToAuctions();
    }

    /// @notice Reveals a sealed bid between `biddingEnd` and `revealEnd`. A new lowest price keeps
    ///         its commitment's lock as the bid's (the two are the same), releases the previous
    ///         best and demotes it to second price; any other reveal releases its bond. Ties go to
    ///         the higher reputation, then the earlier commitment, then the lower
    ///         `keccak256(jobId, provider)`.
    function revealBid(uint256 jobId, uint256 pricePerGpuHour, bytes32 salt) external nonReentrant {
        (jobId, pricePerGpuHour, salt);
        _delegateToAuctions();
    }

    /// @notice Ends a commitment that was not revealed: released without penalty when the job
    ///         was cancelled while bidding (possible only before bidding closed, so nobody could
    ///         reveal), forfeited once the reveal period is over: the bond locked at commit, to
    ///         the treasury (a customer paid with lapsed bonds could post shill commitments as a
    ///         free option). A lease cancelled later does not excuse a commitment that lapsed
    ///         before it. Anyone.
    function settleCommitment(uint256 jobId, address provider) external nonReentrant {
        (jobId, provider);
        _delegateToAuctions();
    }

    // ================================================================== both auctions

    /// @notice Closes the auction (anyone, after bidding, or for sealed auctions revealing,
    ///         ends). With a winner the lease starts at the clearing price (open: the best bid;
    ///         sealed: the second-lowest revealed price, or the max price when alone) and the
    ///         escrow above the lease value is refunded. Without one the job expires, refunded in full.
    function finalizeAuction(uint256 jobId) external nonReentrant {
        StoredJob storage job = _job(jobId);
        if (job.status != JobStatus.Bidding) revert WrongStatus(jobId, job.status);
        bool sealed_ = job.kind == AuctionKind.Sealed;
        uint256 closesAt = sealed_ ? job.revealEnd : job.biddingEnd;
        if (block.timestamp < closesAt) revert BiddingNotOver(closesAt);
        address winner = job.provider;

        if (winner == address(0)) {
            uint256 escrow = _biddingEscrow(job);
            job.status = JobStatus.Expired;
            _nudgeUp(job.modelId, job.maxPricePerGpuHour);
            _transfer(job.customer, escrow);
            emit JobExpired(jobId, escrow);
            return;
        }
        // Open: the best bid. Sealed: the second-lowest revealed price, or the max price when one
        // bid was revealed (`revealBid` keeps it there).
        uint256 clearing = job.price;
        (uint256 gpus, uint256 duration) = (job.gpuCount, job.duration);
        // The escrow is still what posting took (the lease at the max price, and the verifier's
        // fee): the refund is the max price's lease less the clearing price's, the fee stays.
        uint256 refund = _leaseValue(job.maxPricePerGpuHour, gpus, duration) - _leaseValue(clearing, gpus, duration);
        job.leaseStart = uint32(block.timestamp);
        job.status = JobStatus.Leased;
        // Outcomes move the index, undercuts do not: an open auction's clearing price already
        // carries its competition, so only a sealed auction's count of bidders nudges it down.
        _updateReference(job, clearing, sealed_);
        if (refund != 0) _transfer(job.customer, refund);
        emit AuctionFinalized(jobId, winner, clearing, job.bidCount, refund);
    }

    // ================================================================== providers

    /// @notice Pays the provider the pay accrued so far, less the holdback and the protocol fee.
    function claimEarnings(uint256 jobId) external nonReentrant returns (uint256 gross) {
        StoredJob storage job = _job(jobId);
        if (msg.sender != job.provider) revert NotProvider(msg.sender);
        JobStatus status = job.status;
        if (status != JobStatus.Leased && status != JobStatus.ResultSubmitted && status != JobStatus.Disputed) {
            revert WrongStatus(jobId, status);
        }
        uint256 value = _value(job);
        uint256 paid = _claimed(job, value);
        // What accrued until now, less the holdback: at least what the last claim released.
        gross = _releasableAt(job, value, block.timestamp) - paid;
        if (gross != 0) {
            job.paidUntil = uint32(block.timestamp);
            _payProvider(job, jobId, paid, gross);
        }
    }

    /// @notice Submits the result, before `leaseEnd + resultGrace`. A result before the
    ///         scheduled end ends the lease now (pay stops accruing). The challenge window opens.
    ///         The hash and URI are in `ResultSubmitted` only (verifiers and jurors read the
    ///         event; no contract reads them), which spares a fresh storage slot per job.
    function submitResult(uint256 jobId, bytes32 resultHash, string calldata uri) external {
        StoredJob storage job = _job(jobId);
        if (msg.sender != job.provider) revert NotProvider(msg.sender);
        if (job.status != JobStatus.Leased) revert WrongStatus(jobId, job.status);
        uint256 scheduledEnd = uint256(job.leaseStart) + job.duration;
        uint256 deadline = scheduledEnd + job.resultGrace;
        if (block.timestamp > deadline) revert ResultDeadlinePassed(deadline);
        if (block.timestamp < scheduledEnd) job.leaseEnd = uint32(block.timestamp);
        uint256 challengeEnd = block.timestamp + job.challengeWindow;
        (job.status, job.challengeEnd) = (JobStatus.ResultSubmitted, uint32(challengeEnd));
        emit ResultSubmitted(jobId, msg.sender, resultHash, uri, challengeEnd);
    }

    /// @notice The provider quits a lease: it keeps what it already claimed, the customer gets
    ///         the rest of the escrow and the whole collateral slash.
    function abandonJob(uint256 jobId) external nonReentrant {
        StoredJob storage job = _job(jobId);
        if (msg.sender != job.provider) revert NotProvider(msg.sender);
        if (job.status != JobStatus.Leased) revert WrongStatus(jobId, job.status);
        _fail(job, jobId, address(0));
    }

    // ================================================================== anyone

    /// @notice Settles a job whose challenge window closed: pays the provider the rest of the
    ///         accrued pay (holdback included, less the fee), refunds the unspent escrow, releases
    ///         the collateral and records a completed lease.
    function settleJob(uint256 jobId) external nonReentrant {
        StoredJob storage job = _job(jobId);
        if (job.status != JobStatus.ResultSubmitted) revert WrongStatus(jobId, job.status);
        if (block.timestamp < job.challengeEnd) revert ChallengeWindowOpen(job.challengeEnd);
        _settle(job, jobId);
    }

    /// @notice Slashes a provider who delivered no result by `leaseEnd + resultGrace`. The caller
    ///         earns `keeperBountyBps` of the slash; the customer gets the rest and the unspent escrow.
    function slashForFailure(uint256 jobId) external nonReentrant {
        StoredJob storage job = _job(jobId);
        if (job.status != JobStatus.Leased) revert WrongStatus(jobId, job.status);
        uint256 deadline = uint256(job.leaseStart) + job.duration + job.resultGrace;
        if (block.timestamp <= deadline) revert ResultDeadlineNotPassed(deadline);
        _fail(job, jobId, msg.sender);
    }

    // ================================================================== disputes

    /// @inheritdoc IJobMarket
    function openDispute(uint256 jobId) external onlyRole(RESOLVER_ROLE) {
        StoredJob storage job = _job(jobId);
        if (job.status != JobStatus.ResultSubmitted) revert WrongStatus(jobId, job.status);
        if (block.timestamp >= job.challengeEnd) revert ChallengeWindowClosed(job.challengeEnd);
        job.status = JobStatus.Disputed;
        emit JobDisputed(jobId);
    }

    /// @inheritdoc IJobMarket
    function resolveDispute(uint256 jobId, bool providerFault, address[] calldata recipients, uint256[] calldata amounts)
        external
        onlyRole(RESOLVER_ROLE)
        nonReentrant
        returns (uint256 slashed)
    {
        StoredJob storage job = _job(jobId);
        if (job.status != JobStatus.Disputed) revert WrongStatus(jobId, job.status);
        if (!providerFault) {
            _settle(job, jobId);
            return 0;
        }
        uint256 value = _value(job);
        uint256 refund = _leaseEscrow(job, value, _claimed(job, value));
        job.status = JobStatus.Failed;
        refund -= _payVerificationFee(job, jobId, true);
        slashed = _closeLock(job, IProviderRegistry.Outcome.DisputeLost, job.collateral, recipients, amounts);
        _transfer(job.customer, refund);
        emit JobFailed(jobId, job.provider, slashed, 0, refund);
    }

    // ================================================================== views

    /// @notice What posting `spec` escrows: the lease value at the max price, plus the
    ///         verification fee (`verificationFeeBps` of it) when the job asks for verification.
    /// @return escrow Credits `postJob` takes (fee included).
    /// @return verificationFee The part of `escrow` that pays the verifier.
    function escrowFor(JobSpec calldata spec) public view returns (uint256 escrow, uint256 verificationFee) {
        escrow = _leaseValue(spec.maxPricePerGpuHour, spec.gpuCount, spec.duration);
        if (spec.verification) verificationFee = escrow * verificationFeeBps / BPS;
        escrow += verificationFee;
    }

    /// @notice The whole record of job `jobId`, unpacked (all zero for an unknown id).
    function getJob(uint256 jobId) external view returns (Job memory j) {
        StoredJob storage s = _jobs[jobId];
        (j.customer, j.biddingEnd, j.revealEnd, j.kind, j.status, j.targetBids) =
            (s.customer, s.biddingEnd, s.revealEnd, s.kind, s.status, s.targetBids);
        (j.gpuModel, j.region, j.maxPricePerGpuHour, j.duration, j.gpuCount, j.minVramGb) =
            (_models[s.modelId], s.region, s.maxPricePerGpuHour, s.duration, s.gpuCount, s.minVramGb);
        (j.minReputationBps, j.holdbackBps, j.feeBps, j.keeperBountyBps, j.resultGrace, j.challengeWindow) =
            (s.minReputationBps, s.holdbackBps, s.feeBps, s.keeperBountyBps, s.resultGrace, s.challengeWindow);
        (j.collateral, j.gpuStake, j.verification, j.hasRegion) =
            (s.collateral, uint96(_lockOf(s) - s.collateral), s.verification, s.hasRegion);
        (j.provider, j.price, j.bidCount, j.bestBidBlock, j.bestBid) =
            (s.provider, s.price, s.bidCount, s.bestBidBlock, s.bestBid);
        (j.leaseStart, j.leaseEnd, j.challengeEnd, j.paidUntil, j.verificationFee) =
            (s.leaseStart, s.leaseEnd, s.challengeEnd, s.paidUntil, s.verificationFee);
    }

    /// @notice The id jobs, offers and reference prices keep `gpuModel` as (0: never named).
    function gpuModelId(bytes32 gpuModel) external view returns (uint32) {
        return _modelIds[gpuModel];
    }

    /// @inheritdoc IJobMarket
    function jobParties(uint256 jobId) external view returns (JobParties memory) {
        StoredJob storage job = _jobs[jobId];
        return JobParties(job.customer, job.provider, job.status, job.verification, job.challengeEnd, job.collateral);
    }

    /// @notice Status of job `jobId` (`None` for an unknown id).
    function statusOf(uint256 jobId) external view returns (JobStatus) {
        return _jobs[jobId].status;
    }

    /// @notice `provider`'s sealed-bid commitment on job `jobId`.
    function commitmentOf(uint256 jobId, address provider) external view returns (Commitment memory) {
        return _commitments[jobId][provider];
    }

    /// @notice Pay accrued to the provider so far, fee included, and what it may claim now.
    function earningsOf(uint256 jobId) external view returns (uint256 accrued, uint256 claimable) {
        StoredJob storage job = _jobs[jobId];
        JobStatus s = job.status;
        if (s != JobStatus.Leased && s != JobStatus.ResultSubmitted && s != JobStatus.Disputed) return (0, 0);
        uint256 value = _value(job);
        accrued = _accrued(job, value);
        claimable = _releasableAt(job, value, block.timestamp) - _claimed(job, value);
    }

    /// @notice `provider`'s offer of `gpuModel` (see `IJobMarket.Offer`).
    function offerOf(address provider, bytes32 gpuModel) external view returns (Offer memory) {
        return _offers[provider][_modelIds[gpuModel]];
    }

    /// @notice What the market holds for job `jobId` and what it has paid its provider (see
    ///         `IJobMarket.Funds`); neither is stored, both follow from the job.
    function fundsOf(uint256 jobId) external view returns (Funds memory funds) {
        StoredJob storage job = _jobs[jobId];
        JobStatus s = job.status;
        if (s == JobStatus.Bidding) return Funds(_biddingEscrow(job), 0);
        if (job.leaseStart == 0) return funds; // unknown, expired, or cancelled while bidding
        uint256 value = _value(job);
        uint256 claimed = _claimed(job, value);
        if (s == JobStatus.Leased || s == JobStatus.ResultSubmitted || s == JobStatus.Disputed) {
            return Funds(_leaseEscrow(job, value, claimed), claimed);
        }
        // Ended: a settled or cancelled lease paid all that accrued, a failed one what was claimed.
        funds.paidGross = s == JobStatus.Failed ? claimed : _accrued(job, value);
    }

    /// @notice Reference price of `gpuModel` in credits per GPU-hour: an EMA (weight 1/8) of
    ///         clearing prices, nudged up 1/8 when a job expires unbid (never past 9/8 of that
    ///         job's max price); a sealed auction that draws more than `targetBidsPerJob` (as
    ///         at its posting) bidders enters its clearing price lowered by up to 1/8 (the index never falls
    ///         below 7/8 of a steady clearing price). Zero: no history.
    function referencePrice(bytes32 gpuModel) external view returns (uint256) {
        return _referencePrices[_modelIds[gpuModel]].price;
    }

    // ================================================================== governance

    /// @notice Sets the fee recipient.
    function setTreasury(address value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (value == address(0)) revert ZeroAddress();
        treasury = value;
        emit TreasurySet(value);
    }

    /// @notice Sends every fee accrued so far to the treasury (the one set now). Anyone: the
    ///         fees can only go to the treasury, and sending them in batches spares each claim
    ///         and settlement a transfer.
    /// @return amount Credits sent.
    function withdrawFees() external nonReentrant returns (uint256 amount) {
        amount = feesAccrued;
        if (amount == 0) revert NoFeesAccrued();
        feesAccrued = 0;
        address to = treasury;
        _transfer(to, amount);
        emit FeesWithdrawn(to, amount);
    }

    /// @notice Sets the resolver whose verification record decides who earns verification fees.
    function setResolver(IVerificationRecord value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        resolver = value;
        emit ResolverSet(address(value));
    }

    /// @notice Sets `verificationFeeBps` within [0, 5000]; applies to jobs posted afterwards.
    function setVerificationFeeBps(uint256 v) external onlyRole(DEFAULT_ADMIN_ROLE) {
        verificationFeeBps = uint16(_checked("verificationFeeBps", verificationFeeBps, v, 0, 5_000));
    }

    /// @notice Sets `protocolFeeBps` within [0, 1000]; applies to jobs posted afterwards.
    function setProtocolFeeBps(uint256 v) external onlyRole(DEFAULT_ADMIN_ROLE) {
        protocolFeeBps = uint16(_checked("protocolFeeBps", protocolFeeBps, v, 0, 1_000));
    }

    /// @notice Sets `collateralBps` within [0, 10000]; applies to bids placed afterwards.
    function setCollateralBps(uint256 v) external onlyRole(DEFAULT_ADMIN_ROLE) {
        collateralBps = uint16(_checked("collateralBps", collateralBps, v, 0, BPS));
    }

    /// @notice Sets `minDecrementBps` within [1, 5000].
    function setMinDecrementBps(uint256 v) external onlyRole(DEFAULT_ADMIN_ROLE) {
        minDecrementBps = uint16(_checked("minDecrementBps", minDecrementBps, v, 1, 5_000));
    }

    /// @notice Sets `keeperBountyBps` within [0, 5000]; applies to jobs posted afterwards.
    function setKeeperBountyBps(uint256 v) external onlyRole(DEFAULT_ADMIN_ROLE) {
        keeperBountyBps = uint16(_checked("keeperBountyBps", keeperBountyBps, v, 0, 5_000));
    }

    /// @notice Sets `targetBidsPerJob` within [1, 100], for jobs posted from now on.
    function setTargetBidsPerJob(uint256 v) external onlyRole(DEFAULT_ADMIN_ROLE) {
        targetBidsPerJob = uint8(_checked("targetBidsPerJob", targetBidsPerJob, v, 1, 100));
    }

    /// @notice Sets `resultGrace` in seconds within [10 min, 7 days]; applies to jobs posted afterwards.
    function setResultGrace(uint256 v) external onlyRole(DEFAULT_ADMIN_ROLE) {
        resultGrace = uint24(_checked("resultGrace", resultGrace, v, 10 minutes, 7 days));
    }

    /// @notice Sets `challengeWindow` in seconds within [1 h, 14 days] and within the resolver's
    ///         `challengeWindowBounds`: longer than its `attestWindow` (a verifier's whole window
    ///         must fit in it), and short enough that a drawn verifier's stake is still bonded when
    ///         the dispute that may slash it ends. Applies to jobs posted afterwards: each job keeps
    ///         the window it was posted with (so shorten the unbonding period after lowering this
    ///         only once the jobs posted before have settled).
    function setChallengeWindow(uint256 v) external onlyRole(DEFAULT_ADMIN_ROLE) {
        (uint256 above, uint256 below) = (1 hours, 14 days);
        IVerificationRecord r = resolver;
        if (address(r) != address(0)) {
            (uint256 lo, uint256 hi) = r.challengeWindowBounds();
            if (lo > above) above = lo;
            if (hi < below) below = hi;
        }
        challengeWindow = uint24(_checked("challengeWindow", challengeWindow, v, above, below));
    }

    /// @notice Sets `revealPeriod` in seconds within [10 min, 7 days]; applies to jobs posted afterwards.
    function setRevealPeriod(uint256 v) external onlyRole(DEFAULT_ADMIN_ROLE) {
        revealPeriod = uint32(_checked("revealPeriod", revealPeriod, v, 10 minutes, 7 days));
    }

    /// @notice Sets `maxBiddingPeriod` in seconds within [1 h, 90 days].
    function setMaxBiddingPeriod(uint256 v) external onlyRole(DEFAULT_ADMIN_ROLE) {
        maxBiddingPeriod = uint32(_checked("maxBiddingPeriod", maxBiddingPeriod, v, 1 hours, 90 days));
    }

    /// @notice Sets `maxDuration` in seconds within [1 h, 730 days].
    function setMaxDuration(uint256 v) external onlyRole(DEFAULT_ADMIN_ROLE) {
        maxDuration = uint32(_checked("maxDuration", maxDuration, v, 1 hours, 730 days));
    }

    /// @notice Sets `minStakePerGpu` in CMP wei, a whole number of CMP (a job keeps it in whole
    ///         CMP), within [0, 1,000,000 CMP]; applies to jobs posted afterwards.
    function setMinStakePerGpu(uint256 v) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (v % 1 ether != 0) revert NotWholeTokens("minStakePerGpu", v);
        _minStakePerGpuCmp = uint32(_checked("minStakePerGpu", minStakePerGpu(), v, 0, 1_000_000 ether) / 1 ether);
    }

    /// @notice Sets `bidBond`, the least collateral of a sealed job (what each of its commitments
    ///         locks as its bond), in CMP wei within [0, 100,000 CMP]; applies to jobs posted afterwards.
    function setBidBond(uint256 v) external onlyRole(DEFAULT_ADMIN_ROLE) {
        bidBond = uint80(_checked("bidBond", bidBond, v, 0, 100_000 ether));
    }

    // ================================================================== internals

    /// @dev Runs the called auction function of `JobAuctions` on this contract's storage with
    ///      the same calldata (the module has the same selectors and the same storage layout:
    ///      both inherit `JobMarketStorage` and nothing else with state), bubbling its revert.
    function _delegateToAuctions() private {
        address target = auctions;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, 0, calldatasize())
            let ok := delegatecall(gas(), target, ptr, calldatasize(), 0, 0)
            returndatacopy(ptr, 0, returndatasize())
            if iszero(ok) { revert(ptr, returndatasize()) }
        }
    }

    /// @dev `JobPosted`, from its own frame (the event's twelve values do not fit postJob's stack).
    function _emitPosted(uint256 jobId, JobSpec calldata spec, uint256 escrow, uint256 lock) private {
        emit JobPosted(
            jobId,
            msg.sender,
            spec.gpuModel,
            spec.gpuCount,
            spec.maxPricePerGpuHour,
            spec.duration,
            spec.biddingEnd,
            spec.kind,
            escrow,
            lock,
            spec.workload,
            spec.manifestURI
        );
    }

    /// @dev Slot 0 of a new job: the auction's terms. Times are 32-bit, to 2106: `_validate`
    ///      keeps the bidding's end within 90 days of now.
    function _storeAuction(StoredJob storage job, JobSpec calldata spec, uint256 stakePerGpu) private {
        (job.status, job.kind, job.verification, job.hasRegion) =
            (JobStatus.Bidding, spec.kind, spec.verification, spec.region != bytes32(0));
        (job.biddingEnd, job.modelId, job.maxPricePerGpuHour) =
            (uint32(spec.biddingEnd), _modelIdOf(spec.gpuModel), uint80(spec.maxPricePerGpuHour));
        (job.gpuCount, job.minVramGb, job.minReputationBps, job.stakePerGpu) =
            (uint16(spec.gpuCount), uint16(spec.minVramGb), spec.minReputationBps, uint32(stakePerGpu));
    }

    /// @dev Slot 3 of a new job: the lease's terms (its length, the holdback it asked for, the
    ///      fee and bounty it pays, the grace its provider has for the result and the time to
    ///      challenge it).
    function _storeLease(StoredJob storage job, JobSpec calldata spec) private {
        (job.duration, job.holdbackBps, job.feeBps, job.keeperBountyBps) =
            (uint32(spec.duration), spec.holdbackBps, protocolFeeBps, keeperBountyBps);
        (job.resultGrace, job.challengeWindow) = (resultGrace, challengeWindow);
    }

    /// @dev Slot 4 of a new sealed or verified job: the reveal window's end and the close's nudge
    ///      target (sealed), the verifier's fee (verified).
    function _storeSealedAndFee(StoredJob storage job, JobSpec calldata spec, uint256 verificationFee) private {
        if (spec.kind == AuctionKind.Sealed) {
            (job.revealEnd, job.targetBids) = (uint32(spec.biddingEnd) + uint32(revealPeriod), targetBidsPerJob);
        }
        job.verificationFee = uint96(verificationFee);
    }

    function _validate(JobSpec calldata spec) private view {
        if (spec.gpuModel == bytes32(0)) revert InvalidJobSpec("gpuModel");
        if (spec.gpuCount == 0 || spec.gpuCount > type(uint16).max) revert InvalidJobSpec("gpuCount");
        if (spec.minVramGb > type(uint16).max) revert InvalidJobSpec("minVramGb");
        if (spec.duration < 1 minutes || spec.duration > maxDuration) revert InvalidJobSpec("duration");
        if (spec.maxPricePerGpuHour == 0 || spec.maxPricePerGpuHour > type(uint80).max) {
            revert InvalidJobSpec("maxPricePerGpuHour");
        }
        if (spec.biddingEnd <= block.timestamp || spec.biddingEnd > block.timestamp + maxBiddingPeriod) {
            revert InvalidJobSpec("biddingEnd");
        }
        if (spec.holdbackBps > BPS) revert InvalidJobSpec("holdbackBps");
        if (spec.minReputationBps > BPS) revert InvalidJobSpec("minReputationBps");
        if ((spec.workload == bytes32(0)) != (bytes(spec.manifestURI).length == 0)) revert InvalidJobSpec("workload");
    }

    function _settle(StoredJob storage job, uint256 jobId) private {
        address provider = job.provider;
        uint256 value = _value(job);
        uint256 claimed = _claimed(job, value);
        uint256 accrued = _accrued(job, value);
        uint256 providerGross = accrued - claimed;
        uint256 escrow = _leaseEscrow(job, value, claimed);
        job.status = JobStatus.Settled;
        uint256 refund = escrow - providerGross - _payVerificationFee(job, jobId, false);
        _closeLock(job, IProviderRegistry.Outcome.Completed, 0, new address[](0), new uint256[](0));
        if (providerGross != 0) _payProvider(job, jobId, claimed, providerGross);
        // The distributor cannot hold a settlement hostage (a revoked role, a bug): the lease
        // settles and the work goes unrewarded, said by `WorkNotRecorded`. A caller cannot starve
        // the report of gas to skip it: below `REPORT_GAS` left the whole settlement reverts.
        if (gasleft() < REPORT_GAS) revert GasTooLowForReport(gasleft(), REPORT_GAS);
        try rewards.recordWork(jobId, provider, accrued, _feeOn(job, accrued), job.verification) {}
        catch {
            emit WorkNotRecorded(jobId);
        }
        _transfer(job.customer, refund);
        emit JobSettled(jobId, provider, providerGross, refund);
    }

    /// @dev Pays job `jobId`'s verification fee to its verifier when the verifier's verdict was
    ///      borne out (it approved a result that settles, or rejected one found faulty); returns
    ///      what it paid. Otherwise (no verifier drawn, absent, wrong, or excused) the fee stays
    ///      in the escrow the customer gets back.
    function _payVerificationFee(StoredJob storage job, uint256 jobId, bool providerFault) private returns (uint256 paid) {
        if (!job.verification) return 0; // no fee: its slot and the resolver's stay unread
        uint256 fee = job.verificationFee;
        IVerificationRecord record = resolver;
        if (fee == 0 || address(record) == address(0)) return 0;
        IVerificationRecord.Verification memory v = record.verificationOf(jobId);
        IDisputeResolver.Attestation borneOut =
            providerFault ? IDisputeResolver.Attestation.ResultBad : IDisputeResolver.Attestation.ResultOk;
        if (v.attestation != borneOut) return 0;
        _transfer(v.verifier, fee);
        emit VerificationFeePaid(jobId, v.verifier, fee);
        return fee;
    }

    /// @dev Failure: the customer gets the unspent escrow back (the provider keeps only what it
    ///      already claimed) and the collateral slash, less the keeper's bounty when a keeper
    ///      called; the ledger credits both CMP parts, for each to claim (`claimPayout`).
    function _fail(StoredJob storage job, uint256 jobId, address keeper) private {
        address provider = job.provider;
        address customer = job.customer;
        uint256 value = _value(job);
        uint256 refund = _leaseEscrow(job, value, _claimed(job, value));
        job.status = JobStatus.Failed;
        // Only a leased job fails. As for a result, the lease's end is written only when it stops
        // early (an abandoned lease); at or after the scheduled end, 0 reads as that end.
        uint256 scheduledEnd = uint256(job.leaseStart) + job.duration;
        if (block.timestamp < scheduledEnd) job.leaseEnd = uint32(block.timestamp);
        uint256 collateral = job.collateral;
        uint256 bounty = keeper == address(0) || keeper == provider ? 0 : collateral * job.keeperBountyBps / BPS;
        address[] memory to = new address[](2);
        uint256[] memory amounts = new uint256[](2);
        (to[0], amounts[0]) = (customer, collateral - bounty);
        (to[1], amounts[1]) = (keeper, bounty);
        uint256 slashed = _closeLock(job, IProviderRegistry.Outcome.Failed, collateral, to, amounts);
        _transfer(customer, refund);
        emit JobFailed(jobId, provider, slashed, bounty, refund);
    }

    /// @dev The winner's lock released on its offer with `slashAmount` taken off the offer's
    ///      provision, then the market's one call to the ledger per outcome: the outcome
    ///      recorded, `slashAmount` slashed from the provision to `to` in order.
    function _closeLock(
        StoredJob storage job,
        IProviderRegistry.Outcome outcome,
        uint256 slashAmount,
        address[] memory to,
        uint256[] memory amounts
    ) private returns (uint256) {
        address provider = job.provider;
        _release(provider, job, slashAmount);
        registry.recordOutcome(provider, outcome, slashAmount, to, amounts);
        return slashAmount;
    }

    /// @dev CMP wei per credit for a posting's collateral: the rate read within `RATE_MAX_AGE`, or
    ///      a fresh one from the credits contract (the redemption price, reverting as it does on a
    ///      stale or jumping oracle), kept for the next postings. A rate beyond 96 bits (a credit
    ///      worth over 79 billion CMP: a broken feed) is refused (`SafeCastOverflowedUintDowncast`).
    function _collateralRate() private returns (uint256 rate) {
        rate = _keptRate;
        if (block.timestamp < uint256(_keptRateAt) + RATE_MAX_AGE) return rate; // never read: 0 + 10 min
        rate = credits.creditsToTokens(1 ether);
        (_keptRate, _keptRateAt) = (rate.toUint96(), uint32(block.timestamp));
        emit CollateralRateRead(rate);
    }

    function _updateReference(StoredJob storage job, uint256 clearing, bool sealed_) private {
        uint32 modelId = job.modelId;
        ReferencePrice storage r = _referencePrices[modelId];
        uint256 sample = clearing;
        if (sealed_) {
            // Sealed auctions only. The nudge lowers this outcome's sample, never the index
            // itself: compounded on the index, one nudge per outcome would settle it at 7/15 of a
            // steady clearing price; on the sample, the index stays at or above 7/8 of it however
            // many bids are revealed. The target is the job's (`targetBidsPerJob` at posting),
            // in the slot every call reads.
            (uint256 bids, uint256 target) = (job.bidCount, job.targetBids);
            if (bids > target) {
                uint256 excess = Math.min(bids - target, target);
                sample -= clearing * excess / (8 * target);
            }
        }
        uint256 ref = r.price;
        ref = ref == 0 ? sample : (ref * 7 + sample) / 8;
        (r.price, r.updatedAt) = (ref.toUint128(), uint64(block.timestamp));
        emit ReferencePriceUpdated(modelId, ref);
    }

    /// @dev A job nobody bid on at `maxPrice` says the market price is above `maxPrice`, and no
    ///      more: the index rises by 1/8 but never past 9/8 of that price, so a run of unbid jobs
    ///      cannot compound it without bound and a lowball job below the index leaves it alone.
    function _nudgeUp(uint32 modelId, uint256 maxPrice) private {
        ReferencePrice storage r = _referencePrices[modelId];
        uint256 ref = r.price;
        uint256 ceiling = maxPrice + maxPrice / 8;
        if (ref >= ceiling) return;
        ref = ref == 0 ? maxPrice : Math.min(ref + ref / 8, ceiling);
        (r.price, r.updatedAt) = (ref.toUint128(), uint64(block.timestamp));
        emit ReferencePriceUpdated(modelId, ref);
    }
}
