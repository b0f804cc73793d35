// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ComputeToken} from "../../../contracts/token/ComputeToken.sol";
import {ComputeCredits} from "../../../contracts/credits/ComputeCredits.sol";
import {MockPriceFeed} from "../../../contracts/oracle/MockPriceFeed.sol";
import {ProviderRegistry} from "../../../contracts/registry/ProviderRegistry.sol";
import {JobMarket} from "../../../contracts/market/JobMarket.sol";
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
///         the market's rules (`ghostViolations`), and every action checks that no job moved
///         along a status transition the market does not have.
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

    /// @notice Forbidden calls that succeeded (must stay 0), and the last one's name.
    uint256 public ghostForbidden;
    string public lastForbidden;
    /// @notice Actions that moved other amounts than the market's rules say (must stay 0).
    uint256 public ghostViolations;
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
    }

    /// @dev Every action ends by checking the jobs' status transitions.
    modifier checked() {
        ++calls;
        _;
        _checkTransitions();
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

    /// @notice A provider withdraws what finished unbonding (one time in four waiting for it), or
    ///         else asks to unstake part of its free stake (with none free, it tries one wei,
    ///         which must revert).
    function unstake(uint256 p, uint256 amount) external checked {
        address provider = _provider(p);
        ProviderRegistry.Provider memory r = registry.providerOf(provider);
        // One time in four, the provider waits out its unbonding (7 days) first.
        if (r.unbonding != 0 && amount % 4 == 0) _warpTo(r.unbondingEnd);
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
    ///         if stale): 1 to 4 GPUs of a model, 0.001 to 20 CRD per GPU-hour, one minute to eight
    ///         hours, bidding for one minute to four hours; `flags` choose open or sealed, the region,
    ///         the least memory and reputation, the holdback and verification.
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
        spec.duration = uint64(_bound(duration, 1 minutes, 8 hours));
        spec.maxPricePerGpuHour = uint128(_bound(price, 1e15, 20 ether));
        spec.biddingEnd = uint64(block.timestamp + _bound(bidding, 1 minutes, 4 hours));
        spec.kind = flags & 1 != 0 ? IJobMarket.AuctionKind.Sealed : IJobMarket.AuctionKind.Open;
        spec.minReputationBps = uint16(flags & 8 != 0 ? 4_000 : 0);
        spec.holdbackBps = uint16(_bound(flags >> 16, 0, BPS));
        spec.verification = flags & 16 != 0;
        if (flags & 32 != 0) (spec.workload, spec.manifestURI) = (keccak256(abi.encode(flags)), "ipfs://manifest");

        _freshFeed();
        (uint256 escrow,) = market.escrowFor(spec);
        _credits(customer, escrow);
        uint256 balance = credits.balanceOf(address(market));
        vm.prank(customer);
        credits.approve(address(market), escrow);
        vm.prank(customer);
        uint256 id = market.postJob(spec);
        if (credits.balanceOf(address(market)) != balance + escrow) _violation("postJob escrowed another amount");
        _jobs.push(id);
        _lastStatus[id] = IJobMarket.JobStatus.Bidding;
        reached[spec.kind == IJobMarket.AuctionKind.Sealed ? bytes32("postSealed") : bytes32("postOpen")]++;
    }

    /// @notice The customer cancels a job it may cancel: bidding (sealed: before bidding
    ///         closes), or leased before the lease's scheduled end (with `lease`, a lease if
    ///         there is one). Checks the refund and pay.
    function cancelJob(uint256 j, bool lease) external checked {
        (bool found, uint256 id, IJobMarket.Job memory job) = _find(j, lease ? _cancellableLease : _cancellable);
        if (!found) (found, id, job) = _find(j, _cancellable);
        if (!found) return;
        IJobMarket.Funds memory f = market.fundsOf(id);
        uint256 gross;
        if (job.status == IJobMarket.JobStatus.Leased) {
            (uint256 accrued,) = market.earningsOf(id);
            gross = accrued - f.paidGross;
        }
        uint256 net = gross - (_feeOn(job, f.paidGross + gross) - _feeOn(job, f.paidGross));
        uint256 customerBefore = credits.balanceOf(job.customer);
        uint256 providerBefore = job.provider == address(0) ? 0 : credits.balanceOf(job.provider);
        vm.prank(job.customer);
        market.cancelJob(id);
        if (credits.balanceOf(job.customer) != customerBefore + f.escrow - gross) {
            _violation("cancelJob refunded another amount");
        }
        if (job.status == IJobMarket.JobStatus.Leased && credits.balanceOf(job.provider) != providerBefore + net) {
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
        uint256 maxAllowed = job.provider == address(0)
            ? job.maxPricePerGpuHour
            : uint256(job.price) * (BPS - market.minDecrementBps()) / BPS;
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
        reached[job.provider == provider ? bytes32("bidOwnLower") : bytes32("bid")]++;
    }

    /// @notice A provider commits a sealed bid (its offer made ready first), at most the max price.
    function commitBid(uint256 j, uint256 p, uint256 price, bytes32 salt) external checked {
        (bool found, uint256 id, IJobMarket.Job memory job) = _find(j, _sealedCommitting);
        if (!found) return;
        address provider = _provider(p);
        if (market.commitmentOf(id, provider).committedAtBlock != 0) {
            _mustFail(provider, address(market), abi.encodeCall(JobMarket.commitBid, (id, salt)), "committed twice");
            return;
        }
        if (!_readyToBid(provider, id, job)) return;
        uint80 bid = uint80(_bound(price, 1, job.maxPricePerGpuHour));
        _sealed[id][provider] = SealedBid(bid, salt);
        vm.prank(provider);
        market.commitBid(id, keccak256(abi.encode(id, provider, uint256(bid), salt)));
        reached["commit"]++;
    }

    /// @notice A committed provider reveals (the clock moved to the reveal window first). A wrong
    ///         salt must be refused.
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
        vm.prank(provider);
        market.revealBid(id, b.price, b.salt);
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
            uint256 forfeited = cancelledBidding ? 0 : job.collateral;
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
    ///         the clock moved to its close first: a winner's lease starts and the customer gets the max price's lease less the clearing price's; an
    ///         auction without one expires, refunded in full.
    function finalizeAuction(uint256 j, bool anyAuction) external checked {
        (bool found, uint256 id, IJobMarket.Job memory job) = _find(j, anyAuction ? _bidding : _biddingWithBid);
        if (!found) return;
        uint256 closesAt = job.kind == IJobMarket.AuctionKind.Sealed ? job.revealEnd : job.biddingEnd;
        if (block.timestamp < closesAt) _warpTo(closesAt);
        uint256 before = credits.balanceOf(job.customer);
        uint256 escrow = market.fundsOf(id).escrow;
        vm.prank(STRANGER);
        market.finalizeAuction(id);
        uint256 refund =
            job.provider == address(0) ? escrow : _lease(job.maxPricePerGpuHour, job) - _lease(job.price, job);
        if (credits.balanceOf(job.customer) != before + refund) _violation("finalizeAuction refunded another amount");
        reached[job.provider == address(0) ? bytes32("expired") : bytes32("leased")]++;
    }

    // ================================================================== leases

    /// @notice The provider claims its pay so far, after `wait` (up to 2 h); the claim must pay
    ///         what accrued less the holdback, less the fee.
    function claimEarnings(uint256 j, uint256 wait) external checked {
        (bool found, uint256 id, IJobMarket.Job memory job) = _find(j, _serving);
        if (!found) return;
        _warpTo(block.timestamp + _bound(wait, 0, 2 hours));
        (, uint256 claimable) = market.earningsOf(id);
        uint256 paid = market.fundsOf(id).paidGross;
        uint256 net = claimable - (_feeOn(job, paid + claimable) - _feeOn(job, paid));
        uint256 fees = market.feesAccrued();
        uint256 before = credits.balanceOf(job.provider);
        vm.prank(job.provider);
        uint256 gross = market.claimEarnings(id);
        if (gross != claimable || credits.balanceOf(job.provider) != before + net) {
            _violation("claimEarnings paid another amount");
        }
        if (market.feesAccrued() != fees + claimable - net) _violation("claimEarnings accrued another fee");
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
        (uint256 accrued,) = market.earningsOf(id);
        IJobMarket.Funds memory f = market.fundsOf(id);
        uint256 gross = accrued - f.paidGross;
        uint256 fee = _feeOn(job, accrued) - _feeOn(job, f.paidGross);
        uint256 fees = market.feesAccrued();
        uint256 providerBefore = credits.balanceOf(job.provider);
        uint256 customerBefore = credits.balanceOf(job.customer);
        vm.prank(caller);
        market.settleJob(id);
        if (credits.balanceOf(job.provider) != providerBefore + gross - fee) {
            _violation("settleJob paid the provider another amount");
        }
        if (credits.balanceOf(job.customer) != customerBefore + f.escrow - gross) {
            _violation("settleJob refunded another amount");
        }
        if (market.feesAccrued() != fees + fee) _violation("settleJob accrued another fee");
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
        uint256 bounty = caller == job.provider ? 0 : uint256(job.collateral) * job.keeperBountyBps / BPS;
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
        uint256 fees = market.feesAccrued();
        if (fees == 0) {
            _mustFail(caller, address(market), abi.encodeCall(JobMarket.withdrawFees, ()), "withdrew no fees");
            return;
        }
        uint256 before = credits.balanceOf(treasury);
        vm.prank(caller);
        market.withdrawFees();
        if (credits.balanceOf(treasury) != before + fees || market.feesAccrued() != 0) {
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

    /// @notice Governance sets one of the market's parameters within its bounds.
    function govern(uint256 which, uint256 value) external checked {
        uint256 w = which % 6;
        bytes memory data;
        if (w == 0) data = abi.encodeCall(JobMarket.setProtocolFeeBps, (_bound(value, 0, 1_000)));
        else if (w == 1) data = abi.encodeCall(JobMarket.setCollateralBps, (_bound(value, 0, BPS)));
        else if (w == 2) data = abi.encodeCall(JobMarket.setKeeperBountyBps, (_bound(value, 0, 5_000)));
        else if (w == 3) data = abi.encodeCall(JobMarket.setMinStakePerGpu, (_bound(value, 0, 500) * 1 ether));
        else if (w == 4) data = abi.encodeCall(JobMarket.setBidBond, (_bound(value, 0, 1_000 ether)));
        else data = abi.encodeCall(JobMarket.setMinDecrementBps, (_bound(value, 1, 5_000)));
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
            uint256 maxAllowed = job.provider == address(0)
                ? job.maxPricePerGpuHour
                : uint256(job.price) * (BPS - market.minDecrementBps()) / BPS;
            uint256 lock = uint256(job.collateral) + job.gpuStake;
            if (maxAllowed == 0 || lock == 0 || !_readyToBid(provider, id, job)) return;
            IJobMarket.Offer memory o = market.offerOf(provider, job.gpuModel);
            _setOffer(provider, job.gpuModel, o.gpus, o.vramGb, uint256(o.locked) + lock - 1);
            // Every other check passes: only the provision is short, by one wei.
            vm.prank(provider);
            (bool ok, bytes memory ret) = address(market).call(abi.encodeCall(JobMarket.placeBid, (id, maxAllowed)));
            bytes memory want = abi.encodeWithSelector(IJobMarket.NotEnoughProvision.selector, lock - 1, lock);
            if (ok) _forbidden("a bid without the provision for its collateral");
            else if (keccak256(ret) != keccak256(want)) _violation("a bid short of provision: wrong error");
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
            address module = market.auctions();
            _mustFail(
                _provider(p),
                module,
                abi.encodeCall(JobMarket.setOffer, (_models[0], 1, 80, 1)),
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
        uint256 escrow = market.fundsOf(id).escrow;
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
        uint256 collateral = job.collateral;
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

    function _forbidden(string memory what) internal {
        ++ghostForbidden;
        lastForbidden = what;
    }

    function _violation(string memory what) internal {
        ++ghostViolations;
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

    /// @dev The lease value at `price` of `job`.
    function _lease(uint256 price, IJobMarket.Job memory job) internal pure returns (uint256) {
        return price * job.gpuCount * job.duration / 3600;
    }

    /// @dev The fee on the first `gross` credits of a job's pay (the market's `_feeOn`).
    function _feeOn(IJobMarket.Job memory job, uint256 gross) internal pure returns (uint256) {
        return gross * job.feeBps / BPS;
    }

    function _max(uint256 a, uint256 b) internal pure returns (uint256) {
        return a > b ? a : b;
    }
}
