// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Governed} from "../common/Governed.sol";
import {IComputeCredits} from "../interfaces/IComputeCredits.sol";
import {IComputeToken} from "../interfaces/IComputeToken.sol";
import {IRewardsDistributor} from "../interfaces/IRewardsDistributor.sol";

/// @title RewardsDistributor
/// @notice CMP emissions per epoch, split between providers' work, providers' stake and
///         verifiers' work, minted when claimed.
/// @dev Epoch e covers [genesis + e·L, genesis + (e+1)·L) with L = `epochLength`.
///      Emission: a schedule is a list of segments; a segment starting at epoch f with base
///      emission B and decay d (basis points) emits E(e) = B·(1 − d/10⁴)^(e−f) in epoch e ≥ f.
///      Over N epochs a segment emits at most B·(1 − (1 − d/10⁴)^N)·10⁴/d, and at most B·10⁴/d
///      in total. Each segment's whole tail B·10⁴/d is charged against `emissionCap` when it is
///      added, so the emissions of every schedule governance can set sum to at most
///      `emissionCap`, fixed at deployment below the token's cap minus its supply.
///      Split per epoch (basis points of E(e), fixed with the segment): `workBps` to providers
///      pro rata to credits settled in the epoch (Render's rule), `stakeBps` to providers' active
///      stake over time (a Synthetix reward-per-token accumulator updated on every stake change,
///      each epoch at its own rate), `verifierBps` to verifiers pro rata to the verified jobs
///      that settled in the epoch. A share with no taker in an epoch is not minted. Every payout
///      rounds down, so the sum of all claims never exceeds what the schedule emitted.
///      Activity rewards are capped by the fees the activity paid (Helium HIP-10): a settled
///      job's protocol fee, converted to CMP at the oracle price when it settles, is that job's
///      whole activity budget. The provider's work reward from the job is at most
///      fee·workBps/(workBps+verifierBps) and the verifier that approved it at most
///      fee·verifierBps/(workBps+verifierBps), so a job's activity rewards never exceed the fee
///      it paid; the part of a pro-rata share above an account's cap is not minted. Wash
///      trading or self-verification therefore earns back at most the fee it paid, and loses the
///      credits' mint and redemption spreads and the gas. Jury work earns no emission: jurors are
///      paid from the dispute's bond and slashes.
///      Governance changes (`setSchedule`) apply from the next epoch on, never to the current one.
contract RewardsDistributor is Governed, ReentrancyGuard, IRewardsDistributor {
    using SafeCast for uint256;

    uint256 private constant BPS = 10_000;
    uint256 private constant WAD = 1e18;
    /// @notice Most schedule segments governance may add (bounds the segment lookup).
    uint256 public constant MAX_SEGMENTS = 32;
    /// @notice Most epochs the stake accumulator catches up in one call (see `checkpoint`).
    uint256 public constant MAX_CATCHUP_EPOCHS = 512;

    /// @notice Reports settled work (the JobMarket).
    bytes32 public constant MARKET_ROLE = keccak256("MARKET_ROLE");
    /// @notice Reports verifiers' approvals (the DisputeResolver).
    bytes32 public constant RESOLVER_ROLE = keccak256("RESOLVER_ROLE");
    /// @notice Reports stake changes (the ProviderRegistry).
    bytes32 public constant REGISTRY_ROLE = keccak256("REGISTRY_ROLE");

    struct Segment {
        uint64 fromEpoch;
        uint16 decayBps;
        uint16 workBps;
        uint16 stakeBps;
        uint16 verifierBps;
        uint128 baseEmission;
    }

    struct Work {
        // slot 0
        uint120 credits; // credits settled (the work share's weight)
        uint120 verifierUnits; // verified jobs settled (the verifier share's weight)
        bool claimed;
        // slot 1 (accounts only; zero in the epoch totals)
        uint128 workCap; // most CMP the work reward may pay: the fees its jobs paid, work part
        uint128 verifierCap; // most CMP the verifier reward may pay: the fees of the jobs it verified, verifier part
    }

    /// @notice The token minted (CMP).
    IComputeToken public immutable token;
    /// @notice Credits (CRD): converts the fees activity paid into CMP at the oracle price.
    IComputeCredits public immutable credits;
    /// @notice Start of epoch 0.
    uint256 public immutable genesis;
    /// @notice Epoch length in seconds.
    uint256 public immutable epochLength;
    /// @notice Most CMP every schedule may ever emit (see the contract's NatSpec).
    uint256 public immutable emissionCap;
    /// @notice Sum of the tails B·10⁴/d of all segments added so far (≤ `emissionCap`).
    uint256 public committedEmission;
    /// @notice CMP minted by claims so far.
    uint256 public totalClaimed;

    Segment[] private _segments;
    mapping(uint256 => Work) private _epochTotals;
    mapping(uint256 => mapping(address => Work)) private _work;
    /// @dev The verifier that approved job `jobId`'s result, until the job settles.
    mapping(uint256 => address) private _verifierOf;

    // Stake rewards (Synthetix StakingRewards, per-epoch rates).
    uint256 public totalStake;
    uint256 public rewardPerTokenStored;
    uint256 public lastUpdateTime;
    mapping(address => uint256) public stakeOf;
    mapping(address => uint256) private _rewardPerTokenPaid;
    mapping(address => uint256) private _stakeRewards;

    event ScheduleSet(
        uint256 indexed fromEpoch,
        uint256 baseEmission,
        uint256 decayBps,
        uint256 workBps,
        uint256 stakeBps,
        uint256 verifierBps
    );
    event WorkRecorded(
        uint256 indexed epoch, uint256 indexed jobId, address indexed provider, uint256 credits, uint256 workCap
    );
    event VerificationRecorded(uint256 indexed jobId, address indexed verifier);
    event VerifierWorkRecorded(
        uint256 indexed epoch, uint256 indexed jobId, address indexed verifier, uint256 verifierCap
    );
    event StakeChanged(address indexed provider, uint256 oldStake, uint256 newStake);
    event Claimed(address indexed account, uint256 indexed epoch, uint256 workReward, uint256 verifierReward);
    event StakeRewardsClaimed(address indexed account, uint256 amount);

    error EpochNotOver(uint256 epoch, uint256 currentEpoch);
    error InvalidSplit(uint256 workBps, uint256 stakeBps, uint256 verifierBps);
    error EmissionCapExceeded(uint256 committed, uint256 cap);
    error TooManySegments();

    /// @param admin Governance.
    /// @param token_ CMP (this contract needs its minter role).
    /// @param credits_ CRD, whose oracle values the fees that cap activity rewards.
    /// @param epochLength_ Epoch length in seconds (1 day by default in the deploy script).
    /// @param emissionCap_ Most CMP ever emitted; at most the token's cap minus its supply.
    /// @param baseEmission Emission of epoch 0.
    /// @param decayBps Decay per epoch, in [1, 5000] basis points.
    constructor(
        address admin,
        IComputeToken token_,
        IComputeCredits credits_,
        uint256 epochLength_,
        uint256 emissionCap_,
        uint256 baseEmission,
        uint256 decayBps
    ) Governed(admin) {
        if (address(token_) == address(0) || address(credits_) == address(0)) revert ZeroAddress();
        uint256 room = token_.cap() - token_.totalSupply();
        _checked("epochLength", 0, epochLength_, 1 hours, 30 days);
        _checked("emissionCap", 0, emissionCap_, 0, room);
        token = token_;
        credits = credits_;
        genesis = block.timestamp;
        lastUpdateTime = block.timestamp;
        epochLength = epochLength_;
        emissionCap = emissionCap_;
        _addSegment(0, baseEmission, decayBps, 7_000, 2_000, 1_000);
    }

    // ================================================================== reports

    /// @inheritdoc IRewardsDistributor
    function recordWork(uint256 jobId, address provider, uint256 creditAmount, uint256 feeCredits)
        external
        onlyRole(MARKET_ROLE)
    {
        uint256 epoch = currentEpoch();
        Segment memory s = _segmentFor(epoch);
        uint256 activityBps = uint256(s.workBps) + s.verifierBps;
        uint256 feeTokens = activityBps == 0 ? 0 : _feeTokens(feeCredits);
        uint256 workCap = feeTokens == 0 ? 0 : feeTokens * s.workBps / activityBps;
        Work storage mine = _work[epoch][provider];
        mine.credits += creditAmount.toUint120();
        mine.workCap += workCap.toUint128();
        _epochTotals[epoch].credits += creditAmount.toUint120();
        emit WorkRecorded(epoch, jobId, provider, creditAmount, workCap);
        address verifier = _verifierOf[jobId];
        if (verifier != address(0)) {
            delete _verifierOf[jobId];
            uint256 verifierCap = feeTokens == 0 ? 0 : feeTokens * s.verifierBps / activityBps;
            Work storage v = _work[epoch][verifier];
            v.verifierUnits += 1;
            v.verifierCap += verifierCap.toUint128();
            _epochTotals[epoch].verifierUnits += 1;
            emit VerifierWorkRecorded(epoch, jobId, verifier, verifierCap);
        }
    }

    /// @inheritdoc IRewardsDistributor
    function recordVerification(uint256 jobId, address verifier) external onlyRole(RESOLVER_ROLE) {
        _verifierOf[jobId] = verifier;
        emit VerificationRecorded(jobId, verifier);
    }

    /// @inheritdoc IRewardsDistributor
    function stakeChanged(address provider, uint256 newStake) external onlyRole(REGISTRY_ROLE) {
        _updateStakeRewards(provider);
        uint256 old = stakeOf[provider];
        stakeOf[provider] = newStake;
        totalStake = totalStake - old + newStake;
        emit StakeChanged(provider, old, newStake);
    }

    // ================================================================== claims

    /// @notice Claims the caller's work and verifier rewards of past `epochs` (O(1) each). An
    ///         epoch already claimed pays nothing; the current or a future epoch reverts.
    /// @return total CMP minted to the caller.
    function claim(uint256[] calldata epochs) external nonReentrant returns (uint256 total) {
        uint256 current = currentEpoch();
        for (uint256 i; i < epochs.length; ++i) {
            uint256 epoch = epochs[i];
            if (epoch >= current) revert EpochNotOver(epoch, current);
            Work storage mine = _work[epoch][msg.sender];
            if (mine.claimed) continue;
            mine.claimed = true;
            (uint256 work, uint256 verifier) = _epochRewards(epoch, mine);
            total += work + verifier;
            emit Claimed(msg.sender, epoch, work, verifier);
        }
        if (total != 0) _mint(msg.sender, total);
    }

    /// @notice Claims the caller's stake rewards accrued so far.
    function claimStakeRewards() external nonReentrant returns (uint256 amount) {
        _updateStakeRewards(msg.sender);
        amount = _stakeRewards[msg.sender];
        if (amount == 0) return 0;
        _stakeRewards[msg.sender] = 0;
        _mint(msg.sender, amount);
        emit StakeRewardsClaimed(msg.sender, amount);
    }

    /// @notice Moves the stake accumulator forward (at most `MAX_CATCHUP_EPOCHS` epochs). Anyone;
    ///         only needed after more than that many epochs without a stake change or claim.
    function checkpoint() external {
        _updateGlobal();
    }

    // ================================================================== views

    /// @notice The epoch now.
    function currentEpoch() public view returns (uint256) {
        return (block.timestamp - genesis) / epochLength;
    }

    /// @notice CMP scheduled for `epoch` (before the split).
    function emissionOf(uint256 epoch) public view returns (uint256) {
        Segment memory s = _segmentFor(epoch);
        return _emission(s, epoch);
    }

    /// @notice Work and verifier rewards `account` can claim for past `epoch` (0 once claimed).
    function pendingRewards(uint256 epoch, address account) external view returns (uint256 work, uint256 verifier) {
        Work memory mine = _work[epoch][account];
        if (mine.claimed || epoch >= currentEpoch()) return (0, 0);
        return _epochRewards(epoch, mine);
    }

    /// @notice Stake rewards `account` can claim now.
    function pendingStakeRewards(address account) external view returns (uint256) {
        (uint256 rpt,) = _rewardPerTokenNow();
        return _stakeRewards[account] + stakeOf[account] * (rpt - _rewardPerTokenPaid[account]) / WAD;
    }

    /// @notice Work recorded for `account` in `epoch`, and the epoch's totals.
    function workOf(uint256 epoch, address account) external view returns (Work memory mine, Work memory all) {
        return (_work[epoch][account], _epochTotals[epoch]);
    }

    /// @notice The schedule segment applying to `epoch`.
    function segmentFor(uint256 epoch) external view returns (Segment memory) {
        return _segmentFor(epoch);
    }

    /// @notice Number of schedule segments.
    function segmentCount() external view returns (uint256) {
        return _segments.length;
    }

    // ================================================================== governance

    /// @notice From the next epoch on: emission `baseEmission`, decaying `decayBps` per epoch, split
    ///         `workBps` / `stakeBps` / `verifierBps` (summing to 10,000). Charges the new tail
    ///         `baseEmission·10⁴/decayBps` against `emissionCap`.
    function setSchedule(uint256 baseEmission, uint256 decayBps, uint256 workBps, uint256 stakeBps, uint256 verifierBps)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        _updateGlobal();
        _addSegment(currentEpoch() + 1, baseEmission, decayBps, workBps, stakeBps, verifierBps);
    }

    // ================================================================== internals

    function _addSegment(
        uint256 fromEpoch,
        uint256 baseEmission,
        uint256 decayBps,
        uint256 workBps,
        uint256 stakeBps,
        uint256 verifierBps
    ) private {
        if (_segments.length == MAX_SEGMENTS) revert TooManySegments();
        if (workBps + stakeBps + verifierBps != BPS) revert InvalidSplit(workBps, stakeBps, verifierBps);
        _checked("decayBps", 0, decayBps, 1, 5_000);
        uint256 committed = committedEmission + Math.mulDiv(baseEmission, BPS, decayBps);
        if (committed > emissionCap) revert EmissionCapExceeded(committed, emissionCap);
        committedEmission = committed;
        uint256 n = _segments.length;
        if (n != 0 && _segments[n - 1].fromEpoch == fromEpoch) _segments.pop(); // replaced before it began
        _segments.push(
            Segment(
                uint64(fromEpoch),
                uint16(decayBps),
                uint16(workBps),
                uint16(stakeBps),
                uint16(verifierBps),
                uint128(baseEmission)
            )
        );
        emit ScheduleSet(fromEpoch, baseEmission, decayBps, workBps, stakeBps, verifierBps);
    }

    function _segmentFor(uint256 epoch) private view returns (Segment memory) {
        uint256 i = _segments.length;
        while (i > 1 && _segments[i - 1].fromEpoch > epoch) --i;
        return _segments[i - 1];
    }

    /// @dev B · q^(e − f) with q = 1 − d/10⁴, rounded down.
    function _emission(Segment memory s, uint256 epoch) private pure returns (uint256) {
        uint256 q = (BPS - s.decayBps) * WAD / BPS;
        return Math.mulDiv(s.baseEmission, _rpow(q, epoch - s.fromEpoch), WAD);
    }

    /// @dev An account's pro-rata shares of the epoch's work and verifier pools, each capped by
    ///      the fees its activity paid (the rest is never minted).
    function _epochRewards(uint256 epoch, Work memory mine) private view returns (uint256 work, uint256 verifier) {
        if (mine.workCap == 0 && mine.verifierCap == 0) return (0, 0);
        Segment memory s = _segmentFor(epoch);
        uint256 emission = _emission(s, epoch);
        Work memory all = _epochTotals[epoch];
        if (mine.workCap != 0) {
            work = Math.min(Math.mulDiv(emission * s.workBps / BPS, mine.credits, all.credits), mine.workCap);
        }
        if (mine.verifierCap != 0) {
            verifier = Math.min(
                Math.mulDiv(emission * s.verifierBps / BPS, mine.verifierUnits, all.verifierUnits), mine.verifierCap
            );
        }
    }

    /// @dev `feeCredits` in CMP at the oracle price; zero when the oracle cannot be read (no
    ///      reward rather than a settlement that reverts).
    function _feeTokens(uint256 feeCredits) private view returns (uint256) {
        if (feeCredits == 0) return 0;
        try credits.creditsToTokens(feeCredits) returns (uint256 tokens) {
            return tokens;
        } catch {
            return 0;
        }
    }

    function _updateStakeRewards(address account) private {
        _updateGlobal();
        uint256 rpt = rewardPerTokenStored;
        _stakeRewards[account] += stakeOf[account] * (rpt - _rewardPerTokenPaid[account]) / WAD;
        _rewardPerTokenPaid[account] = rpt;
    }

    function _updateGlobal() private {
        (rewardPerTokenStored, lastUpdateTime) = _rewardPerTokenNow();
    }

    /// @dev The accumulator moved to now, epoch by epoch at each epoch's stake rate (at most
    ///      `MAX_CATCHUP_EPOCHS` epochs); returns it and the time it reached.
    function _rewardPerTokenNow() private view returns (uint256 rpt, uint256 reached) {
        (rpt, reached) = (rewardPerTokenStored, lastUpdateTime);
        uint256 staked = totalStake;
        uint256 length = epochLength;
        for (uint256 n; n < MAX_CATCHUP_EPOCHS && reached < block.timestamp; ++n) {
            uint256 epoch = (reached - genesis) / length;
            uint256 end = Math.min(genesis + (epoch + 1) * length, block.timestamp);
            if (staked != 0) {
                Segment memory s = _segmentFor(epoch);
                uint256 pool = _emission(s, epoch) * s.stakeBps / BPS;
                rpt += Math.mulDiv(pool * (end - reached), WAD, length * staked);
            }
            reached = end;
        }
    }

    function _mint(address to, uint256 amount) private {
        totalClaimed += amount;
        token.mint(to, amount);
    }

    /// @dev x^n in WAD fixed point, rounding down (exponentiation by squaring).
    function _rpow(uint256 x, uint256 n) private pure returns (uint256 z) {
        z = n % 2 != 0 ? x : WAD;
        for (n /= 2; n != 0; n /= 2) {
            x = x * x / WAD;
            if (n % 2 != 0) z = z * x / WAD;
        }
    }
}
