// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ComputeToken} from "../../../contracts/token/ComputeToken.sol";
import {ComputeCredits} from "../../../contracts/credits/ComputeCredits.sol";
import {MockPriceFeed} from "../../../contracts/oracle/MockPriceFeed.sol";
import {ProviderRegistry} from "../../../contracts/registry/ProviderRegistry.sol";
import {JobMarket} from "../../../contracts/market/JobMarket.sol";
import {JobAuctions} from "../../../contracts/market/JobAuctions.sol";
import {IJobMarket} from "../../../contracts/interfaces/IJobMarket.sol";
import {Base} from "../utils/Base.sol";

/// @title JobMarketHandler
/// @notice The fuzzer's one target for the market suite (`JobMarket.invariants.t.sol`): it plays
///         every actor of the real `JobMarket` (with its `JobAuctions` module) on the real ledger
///         (`ProviderRegistry`), paid in real `ComputeCredits` priced by a `MockPriceFeed`:
///         four providers, three customers, a keeper, a stranger, governance, the oracle and the
///         clock. Inputs are bounded; what an action needs first (stake, an offer with room for
///         the job, credits, a fresh oracle answer, the time a step may be taken at) is set up
///         before it rather than left to revert, so that every action does something; calls that
///         must fail are made as low-level calls and a success is recorded in a ghost
///         (`ghostForbidden`). Each money-moving action also checks the amounts it moved against
///         amounts the handler computes itself from the market's rules and its own record of
///         each job (`Terms`; never from `escrowFor`, `fundsOf`, `earningsOf` or `feesAccrued`),
///         each auction's winner and clearing price against its own record of the bids and
///         reveals (`ghostViolations`); every action checks that no job moved along a status
///         transition the market does not have and that `feesAccrued` equals `ghostFees`.
///         Disputes (`openDispute`, `resolveDispute`, the resolver's verification fees) are left
///         out: no resolver is set, so a verified job's fee goes back to its customer.
contract JobMarketHandler is Base {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant N_PROVIDERS = 4;
    uint256 internal constant N_CUSTOMERS = 3;
    /// @notice Most jobs followed at once; ended jobs that hold nothing are dropped to make room.
    uint256 public constant MAX_JOBS = 64;
    bytes32 public constant REGION = "eu-west";

    ComputeToken public immutable token;
    ComputeCredits public immutable credits;
    MockPriceFeed public immutable feed;
    ProviderRegistry public immutable registry;
    JobMarket public immutable market;
    address public immutable gov;
    address public immutable treasury;
    address public constant KEEPER = address(0x4EE9E5);
    address public constant STRANGER = address(0x5742A6);

    address[] internal _providers;
    address[] internal _customers;
    address[] internal _payees;
    bytes32[] internal _models;

    /// @notice Jobs followed (posted and not yet dropped), at most `MAX_JOBS`.
    uint256[] internal _jobs;
    mapping(uint256 => IJobMarket.JobStatus) internal _lastStatus;

    struct SealedBid {
        uint80 price;
        bytes32 salt;
    }

    mapping(uint256 => mapping(address => SealedBid)) internal _sealed;

    /// @notice The handler's own record of a job, written from what it posted, bid, revealed
    ///         and did (never from the market's money views): the terms copied at posting (the
    ///         fee, bounty and collateral from the handler's copies of the parameters), the
    ///         auction's best bid (open) or lowest and second-lowest revealed prices (sealed),
    ///         and the lease's clearing price, start, early end and last paying claim.
    struct Terms {
        address customer;
        bool sealed_;
        bool verification;
        uint8 phase; // 0 bidding, 1 lease (leased or result submitted), 2 ended
        uint256 maxPrice;
        uint256 gpus;
        uint256 duration;
        uint256 holdbackBps;
        uint256 feeBps;
        uint256 bountyBps;
        uint256 verificationFee;
        uint256 collateral;
        // the auction: open, the best bid; sealed, the first revealed at the lowest price
        address best;
        uint256 bestPrice;
        // sealed: reveals, the lowest and second-lowest revealed prices (the max price while
        // one is revealed), how many revealed the lowest
        uint256 reveals;
        uint256 low1;
        uint256 low2;
        uint256 lowTies;
        // the lease
        address provider;
        uint256 price;
        uint256 leaseStart;
        uint256 leaseEnd;
        uint256 paidUntil;
    }

    mapping(uint256 => Terms) internal _terms;

    /// @notice The handler's copies of the market's parameters (read once at deployment, then
    ///         moved only by `govern`) and of its kept collateral rate (read from the credits).
    uint256 public verificationFeeBps;
    uint256 public protocolFeeBps;
    uint256 public collateralBps;
    uint256 public keeperBountyBps;
    uint256 public minStakePerGpu;
    uint256 public bidBond;
    uint256 public minDecrementBps;
    uint256 internal _keptRate;
    uint256 internal _keptRateAt;
    /// @notice The protocol fees accrued and not withdrawn, as the handler computed them.
    uint256 public ghostFees;

    /// @notice Forbidden calls that succeeded (must stay 0), and the last one's name.
    uint256 public ghostForbidden;
    string public lastForbidden;
    /// @notice Actions that moved other amounts than the market's rules say (must stay 0).
    uint256 public ghostViolations;
    string public firstViolation;
    string public lastViolation;
    /// @notice How often each path was taken (for the docs' coverage figures).
    mapping(bytes32 => uint256) public reached;
    uint256 public calls;

    constructor(
        ComputeToken token_,
        ComputeCredits credits_,
        MockPriceFeed feed_,
        ProviderRegistry registry_,
        JobMarket market_,
        address gov_,
        address treasury_
    ) {
        (token, credits, feed, registry, market, gov, treasury) =
        (token_, credits_, feed_, registry_, market_, gov_, treasury_);
        for (uint256 i; i < N_PROVIDERS; ++i) {
            address p = address(uint160(0x9F0000 + i));
            _providers.push(p);
            _payees.push(p);
        }
        for (uint256 i; i < N_CUSTOMERS; ++i) {
            address c = address(uint160(0xC50000 + i));
            _customers.push(c);
            _payees.push(c);
        }
        _payees.push(KEEPER);
        _payees.push(STRANGER);
        _payees.push(treasury_);
        _models.push("H100-80GB");
        _models.push("A100-40GB");
        (verificationFeeBps, protocolFeeBps, collateralBps, keeperBountyBps) =
        (market_.verificationFeeBps(), market_.protocolFeeBps(), market_.collateralBps(), market_.keeperBountyBps());
        (minStakePerGpu, bidBond, minDecrementBps) =
        (market_.minStakePerGpu(), market_.bidBond(), market_.minDecrementBps());
    }

    /// @dev Every action ends by checking the jobs' status transitions and the fees accrued
    ///      against the handler's own sum of the fees it computed.
    modifier checked() {
        ++calls;
        _;
        _checkTransitions();
        if (market.feesAccrued() != ghostFees) _violation("feesAccrued != the fees the handler computed");
    }

    // ================================================================== views for the invariants

    function providers() external view returns (address[] memory) {
        return _providers;
    }

    function customers() external view returns (address[] memory) {
        return _customers;
    }

    /// @notice Everyone the ledger may owe a slash payout, and everyone who may hold credits
    ///         besides the market (the treasury included).
    function payees() external view returns (address[] memory) {
        return _payees;
    }

    function models() external view returns (bytes32[] memory) {
        return _models;
    }

    function jobs() external view returns (uint256[] memory) {
        return _jobs;
    }

    /// @notice What the market should hold for job `id`, from the handler's record alone: while
    ///         bidding the lease at the max price plus the verification fee; during the lease
    ///         the lease at the clearing price plus the fee, less the pay claimed; 0 once ended.
    function expectedEscrow(uint256 id) public view returns (uint256) {
        Terms storage t = _terms[id];
        if (t.phase == 0) return _leaseV(t.maxPrice, t) + t.verificationFee;
        if (t.phase == 1) return _leaseV(t.price, t) + t.verificationFee - _claimedG(t);
        return 0;
    }

    // ================================================================== providers

    /// @notice A provider stakes `amount` (1 to 5,000 CMP), registering first if needed.
    function stake(uint256 p, uint256 amount) external checked {
        _stake(_provider(p), _bound(amount, 1 ether, 5_000 ether));
    }

    /// @notice A provider sets its offer of a model: GPUs (at least those its bids hold, at most
    ///         8), memory, and a provision between what its bids lock and all its free stake
    ///         (staking `extra` more first, up to 2,000 CMP). Now and then it also tries to go
    ///         below what its bids hold, which must revert (`OfferInUse`).
    function setOffer(uint256 p, uint256 m, uint256 gpus, uint256 vram, uint256 provisioned, uint256 extra)
        external
        checked
    {
        address provider = _provider(p);
        bytes32 model = _models[m % _models.length];
        extra = _bound(extra, 0, 2_000 ether);
        if (extra != 0) _stake(provider, extra);
        IJobMarket.Offer memory o = market.offerOf(provider, model);
        uint256 free = registry.freeStakeOf(provider);
        if (o.locked != 0 && provisioned % 5 == 0) {
            _mustFail(
                provider,
                address(market),
                abi.encodeCall(JobMarket.setOffer, (model, o.gpus, o.vramGb, o.locked - 1)),
                "offer provision lowered below its locks"
            );
        }
        if (o.reserved != 0 && gpus % 5 == 0) {
            _mustFail(
                provider,
                address(market),
                abi.encodeCall(JobMarket.setOffer, (model, o.reserved - 1, o.vramGb, o.provisioned)),
                "offer GPUs lowered below its reservations"
            );
        }
        uint256 g = _bound(gpus, o.reserved, _max(o.reserved, 8));
        uint256 v = _bound(vram, 16, 96);
        uint256 target = _bound(provisioned, o.locked, uint256(o.provisioned) + free);
        _setOffer(provider, model, g, v, target);
        reached["setOffer"]++;
    }

    /// @notice A provider withdraws what finished unbonding (waiting the 7 days out first one
    ///         time in four when no followed job is live, else one time in 64), or else asks to
    ///         unstake part of its free stake (with none free, it tries one wei, which must revert).
    function unstake(uint256 p, uint256 amount) external checked {
        address provider = _provider(p);
        ProviderRegistry.Provider memory r = registry.providerOf(provider);
        // Waiting out the unbonding (7 days) expires every auction and passes every deadline:
        // one time in four when no followed job is live, else only one time in 64.
        if (r.unbonding != 0 && (amount % 64 == 0 || (amount % 4 == 0 && !_anyLive()))) _warpTo(r.unbondingEnd);
        if (r.unbonding != 0 && block.timestamp >= r.unbondingEnd) {
            uint256 before = token.balanceOf(provider);
            vm.prank(provider);
            registry.withdrawUnstaked();
            if (token.balanceOf(provider) != before + r.unbonding) _violation("withdrawUnstaked paid another amount");
            reached["withdrawUnstaked"]++;
            return;
        }
        uint256 free = registry.freeStakeOf(provider);
        if (free == 0) {
            _mustFail(
                provider,
                address(registry),
                abi.encodeCall(ProviderRegistry.requestUnstake, (1)),
                "unstaked provisioned stake"
            );
            return;
        }
        vm.prank(provider);
        registry.requestUnstake(_bound(amount, 1, free));
        reached["requestUnstake"]++;
    }

    // ================================================================== customers

    /// @notice A customer posts a job (minting the credits it escrows first, the oracle refreshed
    ///         if stale): 1 to 4 GPUs of a model, 0.001 to 20 CRD per GPU-hour, a lease of one
    ///         minute to an hour and bidding of one to 20 minutes (one time in four each, up to
    ///         eight and four hours); `flags` choose open or sealed, the region, the least memory
    ///         and reputation (one time in four), the holdback and verification. The market must
    ///         take the handler's escrow and keep its collateral, stake and terms.
    function postJob(
        uint256 c,
        uint256 m,
        uint256 gpus,
        uint256 price,
        uint256 duration,
        uint256 bidding,
        uint256 flags
    ) external checked {
        _prune();
        if (_jobs.length >= MAX_JOBS) {
            reached["jobsFull"]++;
            return;
        }
        address customer = _customers[c % N_CUSTOMERS];
        IJobMarket.JobSpec memory spec;
        spec.gpuModel = _models[m % _models.length];
        spec.gpuCount = uint32(_bound(gpus, 1, 4));
        spec.minVramGb = uint32(flags & 4 != 0 ? _bound(flags >> 8, 0, 80) : 0);
        spec.region = flags & 2 != 0 ? REGION : bytes32(0);
        // Short most of the time (a lease up to 1 h, bidding up to 20 min), so that the clock
        // moved for one job does not pass every other's deadline; long one time in four.
        spec.duration = uint64(_bound(duration, 1 minutes, duration % 4 == 0 ? 8 hours : 1 hours));
        spec.maxPricePerGpuHour = uint128(_bound(price, 1e15, 20 ether));
        spec.biddingEnd = uint64(block.timestamp + _bound(bidding, 1 minutes, bidding % 4 == 0 ? 4 hours : 20 minutes));
        spec.kind = flags & 1 != 0 ? IJobMarket.AuctionKind.Sealed : IJobMarket.AuctionKind.Open;
        // A least reputation one time in four (one in two left too many auctions without a bidder).
        spec.minReputationBps = uint16(flags & 8 != 0 && flags & 64 != 0 ? 4_000 : 0);
        spec.holdbackBps = uint16(_bound(flags >> 16, 0, BPS));
        spec.verification = flags & 16 != 0;
        if (flags & 32 != 0) (spec.workload, spec.manifestURI) = (keccak256(abi.encode(flags)), "ipfs://manifest");

        _freshFeed();
        uint256 id = market.jobCount() + 1;
        uint256 escrow = _expectTerms(id, customer, spec);
        // Half as much again is minted and approved, so that a market taking more than the
        // escrow fails the balance check below rather than the allowance.
        _credits(customer, escrow + escrow / 2);
        uint256 balance = credits.balanceOf(address(market));
        vm.prank(customer);
        credits.approve(address(market), escrow + escrow / 2);
        vm.prank(customer);
        if (market.postJob(spec) != id) _violation("postJob gave another id");
        if (credits.balanceOf(address(market)) != balance + escrow) _violation("postJob escrowed another amount");
        IJobMarket.Job memory job = market.getJob(id);
        Terms storage t = _terms[id];
        if (job.collateral != t.collateral) _violation("postJob priced another collateral");
        if (job.gpuStake != minStakePerGpu * spec.gpuCount) _violation("postJob kept another per-GPU stake");
        if (job.verificationFee != t.verificationFee) _violation("postJob kept another verification fee");
        if (job.feeBps != t.feeBps || job.keeperBountyBps != t.bountyBps || job.holdbackBps != t.holdbackBps) {
            _violation("postJob kept other terms");
        }
        _jobs.push(id);
        _lastStatus[id] = IJobMarket.JobStatus.Bidding;
        reached[spec.kind == IJobMarket.AuctionKind.Sealed ? bytes32("postSealed") : bytes32("postOpen")]++;
    }

    /// @notice The customer cancels a job it may cancel: bidding (sealed: before bidding
    ///         closes), or leased before the lease's scheduled end (with `lease`, a lease if
    ///         there is one). Checks the refund and pay against the handler's record.
    function cancelJob(uint256 j, bool lease) external checked {
        (bool found, uint256 id, IJobMarket.Job memory job) = _find(j, lease ? _cancellableLease : _cancellable);
        if (!found) (found, id, job) = _find(j, _cancellable);
        if (!found) return;
        Terms storage t = _terms[id];
        uint256 escrow = expectedEscrow(id);
        uint256 gross;
        uint256 fee;
        if (job.status == IJobMarket.JobStatus.Leased) {
            // The lease ends now: the provider gets what accrued since its last claim.
            uint256 claimed = _claimedG(t);
            t.leaseEnd = block.timestamp;
            gross = _accruedAtG(t, block.timestamp) - claimed;
            fee = _feeG(t, claimed + gross) - _feeG(t, claimed);
        }
        uint256 customerBefore = credits.balanceOf(job.customer);
        uint256 providerBefore = job.provider == address(0) ? 0 : credits.balanceOf(job.provider);
        vm.prank(job.customer);
        market.cancelJob(id);
        t.phase = 2;
        ghostFees += fee;
        if (credits.balanceOf(job.customer) != customerBefore + escrow - gross) {
            _violation("cancelJob refunded another amount");
        }
        if (
            job.status == IJobMarket.JobStatus.Leased && credits.balanceOf(job.provider) != providerBefore + gross - fee
        ) {
            _violation("cancelJob paid the provider another amount");
        }
        reached[job.status == IJobMarket.JobStatus.Leased ? bytes32("cancelLease") : bytes32("cancelBidding")]++;
    }

    // ================================================================== auctions

    /// @notice A provider bids on an open auction (its offer made ready first): a price at most
    ///         the best bid less `minDecrementBps`. A provider below the job's least reputation
    ///         must be refused.
    function placeBid(uint256 j, uint256 p, uint256 price) external checked {
        (bool found, uint256 id, IJobMarket.Job memory job) = _find(j, _openBidding);
        if (!found) return;
        address provider = _provider(p);
        uint256 maxAllowed = _maxAllowed(id);
        if (maxAllowed == 0) return;
        if (!_readyToBid(provider, id, job)) return;
        uint256 bid = _bound(price, 1, maxAllowed);
        if (price % 7 == 0) {
            _mustFail(
                provider,
                address(market),
                abi.encodeCall(JobMarket.placeBid, (id, maxAllowed + 1)),
                "bid not low enough"
            );
        }
        vm.prank(provider);
        market.placeBid(id, bid);
        (_terms[id].best, _terms[id].bestPrice) = (provider, bid);
        reached[job.provider == provider ? bytes32("bidOwnLower") : bytes32("bid")]++;
    }

    /// @notice A provider commits a sealed bid (its offer made ready first), at most the max
    ///         price. One time in three (by `salt`) every other provider not yet committed to the
    ///         job commits too, at one of four prices (the max price less 0, 1, 2 or 3 eighths),
    ///         so that auctions with several reveals, second prices and ties come up often.
    function commitBid(uint256 j, uint256 p, uint256 price, bytes32 salt) external checked {
        (bool found, uint256 id, IJobMarket.Job memory job) = _find(j, _sealedCommitting);
        if (!found) return;
        address provider = _provider(p);
        if (market.commitmentOf(id, provider).committedAtBlock != 0) {
            _mustFail(provider, address(market), abi.encodeCall(JobMarket.commitBid, (id, salt)), "committed twice");
            return;
        }
        _commit(id, job, provider, _bound(price, 1, job.maxPricePerGpuHour), salt);
        if (uint256(salt) % 3 != 0) return;
        for (uint256 k = 1; k < N_PROVIDERS; ++k) {
            address other = _provider(p % N_PROVIDERS + k);
            if (market.commitmentOf(id, other).committedAtBlock != 0) continue;
            uint256 step = uint256(keccak256(abi.encode(salt, k))) % 4;
            uint256 bid = _max(job.maxPricePerGpuHour - job.maxPricePerGpuHour * step / 8, 1);
            _commit(id, job, other, bid, keccak256(abi.encode(salt, k)));
        }
        reached["commitMany"]++;
    }

    function _commit(uint256 id, IJobMarket.Job memory job, address provider, uint256 bid, bytes32 salt) internal {
        if (!_readyToBid(provider, id, job)) return;
        _sealed[id][provider] = SealedBid(uint80(bid), salt);
        vm.prank(provider);
        market.commitBid(id, keccak256(abi.encode(id, provider, bid, salt)));
        reached["commit"]++;
    }

    /// @notice A committed provider reveals (the clock moved to the reveal window first). A wrong
    ///         salt must be refused. One time in two every other pending committer of the job
    ///         reveals after it.
    function revealBid(uint256 j, uint256 p) external checked {
        uint256 n = _jobs.length;
        uint256 id;
        address provider;
        IJobMarket.Job memory job;
        for (uint256 k; k < n && provider == address(0); ++k) {
            id = _jobs[(j % n + k) % n];
            job = market.getJob(id);
            if (_sealedRevealable(job)) provider = _pendingCommitter(id, p);
        }
        if (provider == address(0)) return;
        if (block.timestamp < job.biddingEnd) _warpTo(job.biddingEnd);
        SealedBid memory b = _sealed[id][provider];
        if (p % 5 == 0) {
            _mustFail(
                provider,
                address(market),
                abi.encodeCall(JobMarket.revealBid, (id, b.price, bytes32(uint256(b.salt) ^ 1))),
                "revealed with a wrong salt"
            );
        }
        _reveal(id, provider);
        // One time in two every other committer of the job reveals too.
        if ((p >> 8) % 2 == 1) {
            for (address q = _pendingCommitter(id, p); q != address(0); q = _pendingCommitter(id, p)) {
                _reveal(id, q);
            }
            reached["revealMany"]++;
        }
    }

    /// @dev `provider` reveals its sealed bid on job `id`; the handler's record of the lowest and
    ///      second-lowest revealed prices (the max price while one is revealed) follows.
    function _reveal(uint256 id, address provider) internal {
        SealedBid memory b = _sealed[id][provider];
        vm.prank(provider);
        market.revealBid(id, b.price, b.salt);
        Terms storage t = _terms[id];
        uint256 price = b.price;
        if (t.reveals == 0) {
            (t.best, t.low1, t.low2, t.lowTies) = (provider, price, t.maxPrice, 1);
        } else if (price < t.low1) {
            (t.best, t.low2, t.low1, t.lowTies) = (provider, t.low1, price, 1);
        } else {
            if (price == t.low1) ++t.lowTies;
            if (price < t.low2) t.low2 = price;
        }
        ++t.reveals;
        reached["reveal"]++;
    }

    /// @notice Anyone settles a commitment left unrevealed: released if the job was cancelled
    ///         while bidding, otherwise (the clock moved past the reveals first) forfeited to the
    ///         treasury, which must receive exactly the job's collateral in CMP.
    function settleCommitment(uint256 j, uint256 p) external checked {
        uint256 n = _jobs.length;
        if (n == 0) return;
        for (uint256 k; k < n; ++k) {
            uint256 id = _jobs[(j % n + k) % n];
            address provider = _pendingCommitter(id, p);
            if (provider == address(0)) continue;
            IJobMarket.Job memory job = market.getJob(id);
            bool cancelledBidding = job.status == IJobMarket.JobStatus.Cancelled && job.leaseStart == 0;
            if (!cancelledBidding && block.timestamp < job.revealEnd) _warpTo(job.revealEnd);
            uint256 treasuryBefore = token.balanceOf(treasury);
            uint256 stakedBefore = registry.stakeOf(provider);
            vm.prank(KEEPER);
            market.settleCommitment(id, provider);
            uint256 forfeited = cancelledBidding ? 0 : _terms[id].collateral;
            if (token.balanceOf(treasury) != treasuryBefore + forfeited) {
                _violation("a lapsed bond paid the treasury another amount");
            }
            if (registry.stakeOf(provider) != stakedBefore - forfeited) {
                _violation("a lapsed bond slashed another amount");
            }
            reached[cancelledBidding ? bytes32("bondReleased") : bytes32("bondForfeited")]++;
            return;
        }
    }

    /// @notice Anyone finalizes an auction with a best bid (or, with `anyAuction`, any auction),
    ///         the clock moved to its close first: the handler's winner leases at the handler's
    ///         clearing price and the customer gets the max price's lease less the clearing
    ///         price's; an auction without a bid or reveal expires, refunded in full.
    function finalizeAuction(uint256 j, bool anyAuction) external checked {
        (bool found, uint256 id, IJobMarket.Job memory job) = _find(j, anyAuction ? _bidding : _biddingWithBid);
        if (!found) return;
        uint256 closesAt = job.kind == IJobMarket.AuctionKind.Sealed ? job.revealEnd : job.biddingEnd;
        if (block.timestamp < closesAt) _warpTo(closesAt);
        uint256 escrow = expectedEscrow(id);
        uint256 before = credits.balanceOf(job.customer);
        vm.prank(STRANGER);
        market.finalizeAuction(id);
        _finalized(id, before, escrow);
    }

    /// @dev Checks a finalization against the handler's record. Open: the best bid wins at its
    ///      price. Sealed: the first revealed at the lowest price wins (on a tie, any of those
    ///      at it: reputation and commitment order decide), paid the second-lowest revealed
    ///      price (the max price when alone). The customer gets the max price's lease less the
    ///      clearing price's, or the whole escrow when nobody won.
    function _finalized(uint256 id, uint256 before, uint256 escrow) internal {
        Terms storage t = _terms[id];
        bool tied = t.sealed_ && t.lowTies > 1;
        uint256 clearing = t.sealed_ ? t.low2 : t.bestPrice;
        IJobMarket.Job memory after_ = market.getJob(id);
        uint256 refund;
        if (t.best == address(0)) {
            refund = escrow;
            t.phase = 2;
            if (after_.status != IJobMarket.JobStatus.Expired) _violation("finalizeAuction leased a job nobody won");
        } else {
            refund = _leaseV(t.maxPrice, t) - _leaseV(clearing, t);
            (t.phase, t.provider, t.price, t.leaseStart) = (1, after_.provider, clearing, block.timestamp);
            if (after_.status != IJobMarket.JobStatus.Leased) {
                _violation("finalizeAuction expired a job with a winner");
            }
            if (tied ? _sealed[id][after_.provider].price != t.low1 : after_.provider != t.best) {
                _violation("finalizeAuction: another winner than the best bid");
            }
            if (after_.price != clearing) _violation("finalizeAuction: another clearing price");
            if (t.sealed_ && t.reveals > 1) reached["secondPrice"]++;
            if (tied) reached["sealedTie"]++;
        }
        if (credits.balanceOf(t.customer) != before + refund) _violation("finalizeAuction refunded another amount");
        reached[t.best == address(0) ? bytes32("expired") : bytes32("leased")]++;
    }

    // ================================================================== leases

    /// @notice The provider claims its pay so far, after `wait` (up to 30 min); the claim must
    ///         pay what accrued by now less the holdback, less what its earlier claims released,
    ///         less the fee on it (all from the handler's record of the job).
    function claimEarnings(uint256 j, uint256 wait) external checked {
        (bool found, uint256 id, IJobMarket.Job memory job) = _find(j, _serving);
        if (!found) return;
        _warpTo(block.timestamp + _bound(wait, 0, 30 minutes));
        Terms storage t = _terms[id];
        uint256 paid = _claimedG(t);
        uint256 claimable = _releasableG(t, block.timestamp) - paid;
        uint256 fee = _feeG(t, paid + claimable) - _feeG(t, paid);
        uint256 before = credits.balanceOf(job.provider);
        vm.prank(job.provider);
        uint256 gross = market.claimEarnings(id);
        if (claimable != 0) t.paidUntil = block.timestamp;
        ghostFees += fee;
        if (gross != claimable || credits.balanceOf(job.provider) != before + claimable - fee) {
            _violation("claimEarnings paid another amount");
        }
        reached[gross == 0 ? bytes32("claimNothing") : bytes32("claim")]++;
    }

    /// @notice The provider submits its result after `wait` (within its deadline); past the
    ///         deadline the result must be refused.
    function submitResult(uint256 j, uint256 wait) external checked {
        (bool found, uint256 id, IJobMarket.Job memory job) = _find(j, _leased);
        if (!found) return;
        uint256 deadline = uint256(job.leaseStart) + job.duration + job.resultGrace;
        if (block.timestamp > deadline) {
            _mustFail(
                job.provider,
                address(market),
                abi.encodeCall(JobMarket.submitResult, (id, bytes32("r"), "")),
                "late result"
            );
            return;
        }
        _warpTo(block.timestamp + _bound(wait, 0, deadline - block.timestamp));
        vm.prank(job.provider);
        market.submitResult(id, keccak256(abi.encode(id)), "ipfs://result");
        // A result before the scheduled end ends the lease now.
        Terms storage t = _terms[id];
        if (block.timestamp < t.leaseStart + t.duration) t.leaseEnd = block.timestamp;
        reached["result"]++;
    }

    /// @notice Anyone settles a job whose challenge window closed (the clock moved there first):
    ///         the provider gets the rest of its pay less the fee, the customer the rest of the
    ///         escrow. Before the window closes a settlement must be refused.
    function settleJob(uint256 j, uint256 callerSeed) external checked {
        (bool found, uint256 id, IJobMarket.Job memory job) = _find(j, _resulted);
        if (!found) return;
        address caller = _anyone(callerSeed);
        if (block.timestamp < job.challengeEnd) {
            _mustFail(
                caller, address(market), abi.encodeCall(JobMarket.settleJob, (id)), "settled in the challenge window"
            );
            _warpTo(job.challengeEnd);
        }
        Terms storage t = _terms[id];
        // The provider gets all that accrued (the holdback included) less what it claimed, less
        // the fee; the customer the rest of the escrow, the verification fee included (no
        // resolver: no verifier earns it).
        uint256 escrow = expectedEscrow(id);
        uint256 claimed = _claimedG(t);
        uint256 accrued = _accruedAtG(t, block.timestamp);
        uint256 gross = accrued - claimed;
        uint256 fee = _feeG(t, accrued) - _feeG(t, claimed);
        uint256 providerBefore = credits.balanceOf(job.provider);
        uint256 customerBefore = credits.balanceOf(job.customer);
        vm.prank(caller);
        market.settleJob(id);
        t.phase = 2;
        ghostFees += fee;
        if (credits.balanceOf(job.provider) != providerBefore + gross - fee) {
            _violation("settleJob paid the provider another amount");
        }
        if (credits.balanceOf(job.customer) != customerBefore + escrow - gross) {
            _violation("settleJob refunded another amount");
        }
        reached["settled"]++;
    }

    /// @notice A keeper, a stranger or the provider itself slashes a lease with no result by its
    ///         deadline (the clock moved past it first; before it the slash must be refused): the
    ///         customer is credited the collateral less the caller's bounty, the caller the
    ///         bounty, and never the provider itself.
    function slashForFailure(uint256 j, uint256 callerSeed) external checked {
        (bool found, uint256 id, IJobMarket.Job memory job) = _find(j, _leased);
        if (!found) return;
        uint256 r = callerSeed % 3;
        address caller = r == 0 ? KEEPER : r == 1 ? STRANGER : job.provider;
        uint256 deadline = uint256(job.leaseStart) + job.duration + job.resultGrace;
        if (block.timestamp <= deadline) {
            _mustFail(
                caller, address(market), abi.encodeCall(JobMarket.slashForFailure, (id)), "slashed before the deadline"
            );
            _warpTo(deadline + 1);
        }
        Terms storage t = _terms[id];
        uint256 bounty = caller == job.provider ? 0 : t.collateral * t.bountyBps / BPS;
        _failed(id, job, caller, bounty, "slashForFailure");
        reached[caller == job.provider ? bytes32("selfSlash") : bytes32("keeperSlash")]++;
    }

    /// @notice The provider abandons its lease: the customer is credited the whole collateral.
    function abandonJob(uint256 j) external checked {
        (bool found, uint256 id, IJobMarket.Job memory job) = _find(j, _leased);
        if (!found) return;
        _failed(id, job, address(0), 0, "abandonJob");
        reached["abandoned"]++;
    }

    // ================================================================== money out

    /// @notice Anyone sends the accrued fees to the treasury (with none, the call must revert).
    function withdrawFees(uint256 callerSeed) external checked {
        address caller = _anyone(callerSeed);
        uint256 fees = ghostFees;
        if (fees == 0) {
            _mustFail(caller, address(market), abi.encodeCall(JobMarket.withdrawFees, ()), "withdrew no fees");
            return;
        }
        uint256 before = credits.balanceOf(treasury);
        vm.prank(caller);
        market.withdrawFees();
        ghostFees = 0;
        if (credits.balanceOf(treasury) != before + fees) {
            _violation("withdrawFees moved another amount");
        }
        reached["feesWithdrawn"]++;
    }

    /// @notice Anyone claims a payee's slash payout from the ledger: exactly what it was owed.
    function claimPayout(uint256 payeeSeed, uint256 callerSeed) external checked {
        uint256 n = _payees.length;
        for (uint256 k; k < n; ++k) {
            address payee = _payees[(payeeSeed % n + k) % n];
            uint256 owed = registry.payoutOf(payee);
            if (owed == 0) continue;
            uint256 before = token.balanceOf(payee);
            vm.prank(_anyone(callerSeed));
            registry.claimPayout(payee);
            if (token.balanceOf(payee) != before + owed || registry.payoutOf(payee) != 0) {
                _violation("claimPayout paid another amount");
            }
            reached["payoutClaimed"]++;
            return;
        }
    }

    // ================================================================== governance, oracle, clock

    /// @notice Governance sets one of the market's parameters within its bounds (the handler's
    ///         copy moves with it).
    function govern(uint256 which, uint256 value) external checked {
        uint256 w = which % 7;
        bytes memory data;
        if (w == 0) {
            protocolFeeBps = _bound(value, 0, 1_000);
            data = abi.encodeCall(JobMarket.setProtocolFeeBps, (protocolFeeBps));
        } else if (w == 1) {
            collateralBps = _bound(value, 0, BPS);
            data = abi.encodeCall(JobMarket.setCollateralBps, (collateralBps));
        } else if (w == 2) {
            keeperBountyBps = _bound(value, 0, 5_000);
            data = abi.encodeCall(JobMarket.setKeeperBountyBps, (keeperBountyBps));
        } else if (w == 3) {
            minStakePerGpu = _bound(value, 0, 500) * 1 ether;
            data = abi.encodeCall(JobMarket.setMinStakePerGpu, (minStakePerGpu));
        } else if (w == 4) {
            bidBond = _bound(value, 0, 1_000 ether);
            data = abi.encodeCall(JobMarket.setBidBond, (bidBond));
        } else if (w == 5) {
            minDecrementBps = _bound(value, 1, 5_000);
            data = abi.encodeCall(JobMarket.setMinDecrementBps, (minDecrementBps));
        } else {
            verificationFeeBps = _bound(value, 0, 5_000);
            data = abi.encodeCall(JobMarket.setVerificationFeeBps, (verificationFeeBps));
        }
        vm.prank(gov);
        (bool ok, bytes memory ret) = address(market).call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        reached["govern"]++;
    }

    /// @notice The oracle moves the CMP price by up to ±10% of the last accepted answer (within
    ///         1 to 10 USD), as a fresh answer.
    function refreshPrice(uint256 move) external checked {
        uint256 ref = credits.lastPrice();
        if (ref == 0) {
            (, int256 answer,,,) = feed.latestRoundData();
            ref = uint256(answer);
        }
        uint256 lo = _max(ref * 9 / 10, 1e8);
        uint256 hi = _min(ref * 11 / 10, 10e8);
        feed.setAnswer(int256(_bound(move, lo, hi)));
        reached["priceMoved"]++;
    }

    /// @notice Time passes: 1 s to 1 h (and a block).
    function warp(uint256 secs) external checked {
        _warpTo(block.timestamp + _bound(secs, 1, 1 hours));
    }

    // ================================================================== forbidden calls

    /// @notice Someone tries a call that must fail: a stranger acting as a job's customer or
    ///         provider, or as governance or the market on the ledger; a provider bidding with
    ///         less free provision than the job's lock (a bid below the collateral), or above the
    ///         max price; a customer bidding on its own job; a call to the auction module itself.
    function forbidden(uint256 which, uint256 j, uint256 p) external checked {
        uint256 w = which % 8;
        if (w == 0 || w == 1) {
            (bool found, uint256 id, IJobMarket.Job memory job) = _find(j, w == 0 ? _cancellable : _serving);
            if (!found) return;
            if (w == 0) {
                _mustFail(
                    STRANGER, address(market), abi.encodeCall(JobMarket.cancelJob, (id)), "a stranger cancelled a job"
                );
                _mustFail(
                    job.provider,
                    address(market),
                    abi.encodeCall(JobMarket.cancelJob, (id)),
                    "a provider cancelled a job"
                );
            } else {
                _mustFail(
                    STRANGER,
                    address(market),
                    abi.encodeCall(JobMarket.claimEarnings, (id)),
                    "a stranger claimed earnings"
                );
                _mustFail(
                    job.customer,
                    address(market),
                    abi.encodeCall(JobMarket.claimEarnings, (id)),
                    "a customer claimed earnings"
                );
                _mustFail(
                    STRANGER,
                    address(market),
                    abi.encodeCall(JobMarket.submitResult, (id, bytes32("x"), "")),
                    "a stranger submitted a result"
                );
                _mustFail(
                    STRANGER,
                    address(market),
                    abi.encodeCall(JobMarket.abandonJob, (id)),
                    "a stranger abandoned a lease"
                );
            }
        } else if (w == 2) {
            // A bid below the collateral: the bidder's offer is left one wei short of the lock.
            (bool found, uint256 id, IJobMarket.Job memory job) = _find(j, _openBidding);
            if (!found) return;
            address provider = _provider(p);
            if (job.provider == provider) return; // its own lock would be released first
            uint256 maxAllowed = _maxAllowed(id);
            uint256 lock = uint256(job.collateral) + job.gpuStake;
            if (maxAllowed == 0 || lock == 0 || !_readyToBid(provider, id, job)) return;
            IJobMarket.Offer memory o = market.offerOf(provider, job.gpuModel);
            _setOffer(provider, job.gpuModel, o.gpus, o.vramGb, uint256(o.locked) + lock - 1);
            // Every other check passes: only the provision is short, by one wei.
            _mustFailWith(
                provider,
                address(market),
                abi.encodeCall(JobMarket.placeBid, (id, maxAllowed)),
                abi.encodeWithSelector(IJobMarket.NotEnoughProvision.selector, lock - 1, lock),
                "a bid without the provision for its collateral"
            );
            reached["bidShortRefused"]++;
        } else if (w == 3) {
            (bool found, uint256 id, IJobMarket.Job memory job) = _find(j, _openBidding);
            if (!found) return;
            _mustFail(
                job.customer,
                address(market),
                abi.encodeCall(JobMarket.placeBid, (id, 1)),
                "a customer bid on its own job"
            );
            _mustFail(
                _provider(p),
                address(market),
                abi.encodeCall(JobMarket.placeBid, (id, uint256(job.maxPricePerGpuHour) + 1)),
                "a bid above the max price"
            );
            _mustFail(_provider(p), address(market), abi.encodeCall(JobMarket.placeBid, (id, 0)), "a bid of zero");
        } else if (w == 4) {
            _mustFail(
                STRANGER,
                address(market),
                abi.encodeCall(JobMarket.setProtocolFeeBps, (1_000)),
                "a stranger set the fee"
            );
            _mustFail(
                STRANGER,
                address(market),
                abi.encodeCall(JobMarket.setTreasury, (STRANGER)),
                "a stranger set the treasury"
            );
        } else if (w == 5) {
            address provider = _provider(p);
            _mustFail(
                STRANGER,
                address(registry),
                abi.encodeCall(ProviderRegistry.provision, (provider, int256(1))),
                "a stranger provisioned"
            );
            address[] memory none = new address[](0);
            uint256[] memory zero = new uint256[](0);
            _mustFail(
                STRANGER,
                address(registry),
                abi.encodeCall(ProviderRegistry.slash, (provider, 1, none, zero)),
                "a stranger slashed"
            );
        } else if (w == 6) {
            _mustFailWith(
                _provider(p),
                market.auctions(),
                abi.encodeCall(JobMarket.setOffer, (_models[0], 1, 80, 1)),
                abi.encodeWithSelector(JobAuctions.NotDelegated.selector),
                "the auction module ran outside the market"
            );
        } else {
            // An unknown job, and a lease whose scheduled end passed cannot be cancelled.
            _mustFail(
                STRANGER,
                address(market),
                abi.encodeCall(JobMarket.finalizeAuction, (uint256(type(uint64).max))),
                "finalized an unknown job"
            );
            (bool found, uint256 id, IJobMarket.Job memory job) = _find(j, _leased);
            if (found && block.timestamp >= uint256(job.leaseStart) + job.duration) {
                _mustFail(
                    job.customer,
                    address(market),
                    abi.encodeCall(JobMarket.cancelJob, (id)),
                    "cancelled a lease after its end"
                );
            }
        }
        reached["forbidden"]++;
    }

    // ================================================================== internals

    /// @dev A failure (`caller` zero: the provider abandons): the customer gets the lease's
    ///      escrow back in credits and is credited the collateral less `bounty` in CMP, the
    ///      caller `bounty`; the provider's stake falls by the collateral.
    function _failed(uint256 id, IJobMarket.Job memory job, address caller, uint256 bounty, string memory what)
        internal
    {
        Terms storage t = _terms[id];
        uint256 escrow = expectedEscrow(id);
        // A lease that fails before its scheduled end ends now.
        if (block.timestamp < t.leaseStart + t.duration) t.leaseEnd = block.timestamp;
        uint256 customerOwed = registry.payoutOf(job.customer);
        uint256 callerOwed = caller == address(0) ? 0 : registry.payoutOf(caller);
        uint256 customerCredits = credits.balanceOf(job.customer);
        uint256 staked = registry.stakeOf(job.provider);
        if (caller == address(0)) {
            vm.prank(job.provider);
            market.abandonJob(id);
        } else {
            vm.prank(caller);
            market.slashForFailure(id);
        }
        t.phase = 2;
        uint256 collateral = t.collateral;
        if (registry.payoutOf(job.customer) != customerOwed + collateral - bounty) {
            _violation(string.concat(what, ": customer credited another amount"));
        }
        if (caller != address(0) && registry.payoutOf(caller) != callerOwed + bounty) {
            if (caller == job.provider) _forbidden("a provider earned a bounty for slashing itself");
            else _violation(string.concat(what, ": keeper credited another bounty"));
        }
        if (registry.stakeOf(job.provider) != staked - collateral) {
            _violation(string.concat(what, ": slashed another amount"));
        }
        if (credits.balanceOf(job.customer) != customerCredits + escrow) {
            _violation(string.concat(what, ": refunded another amount"));
        }
    }

    /// @dev Makes `provider`'s offer of the job's model able to take the job's lock (GPUs,
    ///      memory, provision; staking first what the provision needs); false when its reputation
    ///      is below the job's least (then the bid is tried and must be refused).
    function _readyToBid(address provider, uint256 id, IJobMarket.Job memory job) internal returns (bool) {
        if (job.minReputationBps != 0 && registry.reputationOf(provider) < job.minReputationBps) {
            bytes memory data = job.kind == IJobMarket.AuctionKind.Open
                ? abi.encodeCall(JobMarket.placeBid, (id, 1))
                : abi.encodeCall(JobMarket.commitBid, (id, bytes32("c")));
            _mustFail(provider, address(market), data, "a bid below the job's least reputation");
            reached["reputationRefused"]++;
            return false;
        }
        IJobMarket.Offer memory o = market.offerOf(provider, job.gpuModel);
        uint256 lock = uint256(job.collateral) + job.gpuStake;
        uint256 gpus = _max(o.gpus, uint256(o.reserved) + job.gpuCount);
        uint256 vram = _max(o.vramGb, job.minVramGb);
        uint256 provisioned = o.provisioned;
        uint256 room = provisioned - o.locked;
        if (room < lock || provisioned == 0) {
            uint256 need = _max(lock - _min(room, lock), 1);
            uint256 free = registry.freeStakeOf(provider);
            if (free < need) _stake(provider, need - free);
            provisioned += need;
        }
        if (gpus != o.gpus || vram != o.vramGb || provisioned != o.provisioned) {
            _setOffer(provider, job.gpuModel, gpus, vram, provisioned);
        }
        return true;
    }

    /// @dev `provider` sets its offer; the ledger's provision must move by the difference.
    function _setOffer(address provider, bytes32 model, uint256 gpus, uint256 vram, uint256 provisioned) internal {
        uint256 before = market.offerOf(provider, model).provisioned;
        uint256 ledgerBefore = registry.providerOf(provider).provisioned;
        vm.prank(provider);
        market.setOffer(model, gpus, vram, provisioned);
        uint256 ledgerAfter = registry.providerOf(provider).provisioned;
        if (ledgerAfter + before != ledgerBefore + provisioned) {
            _violation("setOffer moved the ledger's provision by another amount");
        }
    }

    function _stake(address provider, uint256 amount) internal {
        if (!registry.providerOf(provider).registered) {
            vm.prank(provider);
            registry.register("ipfs://provider", REGION);
        }
        token.transfer(provider, amount);
        vm.prank(provider);
        token.approve(address(registry), amount);
        vm.prank(provider);
        registry.stake(amount);
    }

    /// @dev Gives `customer` at least `amount` credits, minted from CMP at the oracle's price.
    function _credits(address customer, uint256 amount) internal {
        uint256 have = credits.balanceOf(customer);
        if (have >= amount) return;
        uint256 perCmp = credits.previewMint(1 ether);
        uint256 tokens = (amount - have) * 1 ether / perCmp + 1 ether;
        token.transfer(customer, tokens);
        vm.prank(customer);
        token.approve(address(credits), tokens);
        vm.prank(customer);
        credits.mintWithTokens(tokens, 0, customer);
    }

    /// @dev Re-publishes the oracle's answer when it is more than 30 minutes old.
    function _freshFeed() internal {
        (, int256 answer,, uint256 updatedAt,) = feed.latestRoundData();
        if (block.timestamp - updatedAt > 30 minutes) feed.setAnswer(answer);
    }

    function _warpTo(uint256 t) internal {
        if (t <= block.timestamp) return;
        vm.warp(t);
        vm.roll(block.number + 1);
    }

    /// @dev `caller` makes the call `data` to `target`, which must revert.
    function _mustFail(address caller, address target, bytes memory data, string memory what) internal {
        vm.prank(caller);
        (bool ok,) = target.call(data);
        if (ok) _forbidden(what);
    }

    /// @dev As `_mustFail`, and the revert must be exactly `want` (else a violation).
    function _mustFailWith(address caller, address target, bytes memory data, bytes memory want, string memory what)
        internal
    {
        vm.prank(caller);
        (bool ok, bytes memory ret) = target.call(data);
        if (ok) _forbidden(what);
        else if (keccak256(ret) != keccak256(want)) _violation(string.concat(what, ": wrong error"));
    }

    function _forbidden(string memory what) internal {
        ++ghostForbidden;
        lastForbidden = what;
    }

    function _violation(string memory what) internal {
        if (ghostViolations++ == 0) firstViolation = what;
        lastViolation = what;
    }

    /// @dev Every followed job moved only along the market's transitions since the last action:
    ///      Bidding → Leased | Cancelled | Expired; Leased → ResultSubmitted | Cancelled | Failed;
    ///      ResultSubmitted → Settled (no disputes here); the ends never move.
    function _checkTransitions() internal {
        for (uint256 i; i < _jobs.length; ++i) {
            uint256 id = _jobs[i];
            IJobMarket.JobStatus was = _lastStatus[id];
            IJobMarket.JobStatus now_ = market.statusOf(id);
            if (now_ == was) continue;
            bool ok =
                (was == IJobMarket.JobStatus.Bidding
                        && (now_ == IJobMarket.JobStatus.Leased
                            || now_ == IJobMarket.JobStatus.Cancelled
                            || now_ == IJobMarket.JobStatus.Expired))
                    || (was == IJobMarket.JobStatus.Leased
                        && (now_ == IJobMarket.JobStatus.ResultSubmitted
                            || now_ == IJobMarket.JobStatus.Cancelled
                            || now_ == IJobMarket.JobStatus.Failed))
                    || (was == IJobMarket.JobStatus.ResultSubmitted && now_ == IJobMarket.JobStatus.Settled);
            if (!ok) _violation("a job moved along a transition the market does not have");
            _lastStatus[id] = now_;
        }
    }

    /// @dev Drops the followed jobs that ended and hold nothing (no commitment left unsettled).
    function _prune() internal {
        uint256 i;
        while (i < _jobs.length) {
            uint256 id = _jobs[i];
            if (_ended(market.statusOf(id)) && _pendingCommitter(id, 0) == address(0)) {
                _jobs[i] = _jobs[_jobs.length - 1];
                _jobs.pop();
            } else {
                ++i;
            }
        }
    }

    /// @dev A provider with a commitment on job `id` neither revealed nor settled (searching from
    ///      `seed`), or zero.
    function _pendingCommitter(uint256 id, uint256 seed) internal view returns (address) {
        for (uint256 k; k < N_PROVIDERS; ++k) {
            address p = _providers[(seed % N_PROVIDERS + k) % N_PROVIDERS];
            IJobMarket.Commitment memory c = market.commitmentOf(id, p);
            if (c.committedAtBlock != 0 && !c.revealed) return p;
        }
        return address(0);
    }

    /// @dev The first followed job from index `seed` that `pick` accepts.
    function _find(uint256 seed, function(IJobMarket.Job memory) view returns (bool) pick)
        internal
        view
        returns (bool found, uint256 id, IJobMarket.Job memory job)
    {
        uint256 n = _jobs.length;
        for (uint256 k; k < n; ++k) {
            id = _jobs[(seed % n + k) % n];
            job = market.getJob(id);
            if (pick(job)) return (true, id, job);
        }
        return (false, 0, job);
    }

    function _bidding(IJobMarket.Job memory job) internal pure returns (bool) {
        return job.status == IJobMarket.JobStatus.Bidding;
    }

    function _openBidding(IJobMarket.Job memory job) internal view returns (bool) {
        return job.status == IJobMarket.JobStatus.Bidding && job.kind == IJobMarket.AuctionKind.Open
            && block.timestamp < job.biddingEnd;
    }

    function _sealedCommitting(IJobMarket.Job memory job) internal view returns (bool) {
        return job.status == IJobMarket.JobStatus.Bidding && job.kind == IJobMarket.AuctionKind.Sealed
            && block.timestamp < job.biddingEnd;
    }

    function _sealedRevealable(IJobMarket.Job memory job) internal view returns (bool) {
        return job.status == IJobMarket.JobStatus.Bidding && job.kind == IJobMarket.AuctionKind.Sealed
            && block.timestamp < job.revealEnd;
    }

    function _cancellable(IJobMarket.Job memory job) internal view returns (bool) {
        if (job.status == IJobMarket.JobStatus.Leased) return block.timestamp < uint256(job.leaseStart) + job.duration;
        if (job.status != IJobMarket.JobStatus.Bidding) return false;
        return job.kind == IJobMarket.AuctionKind.Open || block.timestamp < job.biddingEnd;
    }

    function _cancellableLease(IJobMarket.Job memory job) internal view returns (bool) {
        return job.status == IJobMarket.JobStatus.Leased && block.timestamp < uint256(job.leaseStart) + job.duration;
    }

    function _biddingWithBid(IJobMarket.Job memory job) internal pure returns (bool) {
        return job.status == IJobMarket.JobStatus.Bidding && job.provider != address(0);
    }

    function _leased(IJobMarket.Job memory job) internal pure returns (bool) {
        return job.status == IJobMarket.JobStatus.Leased;
    }

    function _resulted(IJobMarket.Job memory job) internal pure returns (bool) {
        return job.status == IJobMarket.JobStatus.ResultSubmitted;
    }

    function _serving(IJobMarket.Job memory job) internal pure returns (bool) {
        return job.status == IJobMarket.JobStatus.Leased || job.status == IJobMarket.JobStatus.ResultSubmitted;
    }

    function _ended(IJobMarket.JobStatus s) internal pure returns (bool) {
        return s == IJobMarket.JobStatus.Settled || s == IJobMarket.JobStatus.Cancelled
            || s == IJobMarket.JobStatus.Expired || s == IJobMarket.JobStatus.Failed;
    }

    function _provider(uint256 seed) internal view returns (address) {
        return _providers[seed % N_PROVIDERS];
    }

    /// @dev The keeper, the stranger, a customer or a provider.
    function _anyone(uint256 seed) internal view returns (address) {
        uint256 r = seed % 4;
        if (r == 0) return KEEPER;
        if (r == 1) return STRANGER;
        if (r == 2) return _customers[(seed >> 8) % N_CUSTOMERS];
        return _providers[(seed >> 8) % N_PROVIDERS];
    }

    // ------------------------------------------------------------------ the handler's money rules
    // From the market's NatSpec (JobMarket's header, JobMarketStorage's lease money), applied to
    // the handler's own record of each job (`Terms`), never to the market's views.

    /// @dev The terms a posting of `spec` as job `id` must take: the escrow (the lease at the
    ///      max price, plus `verificationFeeBps` of it when verified), the collateral
    ///      (`collateralBps` of the lease at the max price, fee excluded, in CMP at the rate
    ///      kept for 10 minutes from the credits' redemption price, read only for a nonzero
    ///      amount; a sealed job's at least `bidBond`), the fee and bounty in force. Returns the escrow.
    function _expectTerms(uint256 id, address customer, IJobMarket.JobSpec memory spec) internal returns (uint256) {
        Terms storage t = _terms[id];
        (t.customer, t.sealed_, t.verification) =
        (customer, spec.kind == IJobMarket.AuctionKind.Sealed, spec.verification);
        (t.maxPrice, t.gpus, t.duration, t.holdbackBps) =
        (spec.maxPricePerGpuHour, spec.gpuCount, spec.duration, spec.holdbackBps);
        (t.feeBps, t.bountyBps) = (protocolFeeBps, keeperBountyBps);
        uint256 lease = _leaseV(t.maxPrice, t);
        if (spec.verification) t.verificationFee = lease * verificationFeeBps / BPS;
        uint256 collateralCredits = lease * collateralBps / BPS;
        uint256 collateral;
        if (collateralCredits != 0) {
            if (block.timestamp >= _keptRateAt + 10 minutes) {
                (_keptRate, _keptRateAt) = (credits.creditsToTokens(1 ether), block.timestamp);
            }
            collateral = collateralCredits * _keptRate / 1 ether;
        }
        if (t.sealed_ && collateral < bidBond) collateral = bidBond;
        t.collateral = collateral;
        return lease + t.verificationFee;
    }

    /// @dev The lease value at `price` of the job: `price * gpus * duration / 3600`.
    function _leaseV(uint256 price, Terms storage t) internal view returns (uint256) {
        return price * t.gpus * t.duration / 3600;
    }

    /// @dev Pay accrued by `when`: linear from the lease's start to its early or scheduled end.
    function _accruedAtG(Terms storage t, uint256 when) internal view returns (uint256) {
        uint256 end = t.leaseEnd == 0 ? t.leaseStart + t.duration : t.leaseEnd;
        if (when > end) when = end;
        if (when <= t.leaseStart) return 0;
        return _leaseV(t.price, t) * (when - t.leaseStart) / t.duration;
    }

    /// @dev What claims may have released by `when`: the accrued pay less the holdback.
    function _releasableG(Terms storage t, uint256 when) internal view returns (uint256) {
        return _accruedAtG(t, when) * (BPS - t.holdbackBps) / BPS;
    }

    /// @dev What the provider's claims released, as of its last paying claim.
    function _claimedG(Terms storage t) internal view returns (uint256) {
        return _releasableG(t, t.paidUntil);
    }

    /// @dev The fee on the first `gross` credits of the job's pay (each payment's fee is the difference).
    function _feeG(Terms storage t, uint256 gross) internal view returns (uint256) {
        return gross * t.feeBps / BPS;
    }

    /// @dev The highest open bid job `id` takes now: its max price, or the handler's record of
    ///      the best bid less `minDecrementBps`.
    function _maxAllowed(uint256 id) internal view returns (uint256) {
        Terms storage t = _terms[id];
        return t.best == address(0) ? t.maxPrice : t.bestPrice * (BPS - minDecrementBps) / BPS;
    }

    /// @dev Some followed job is bidding or leased (a long clock jump would end it).
    function _anyLive() internal view returns (bool) {
        for (uint256 i; i < _jobs.length; ++i) {
            if (_terms[_jobs[i]].phase < 2) return true;
        }
        return false;
    }
}
