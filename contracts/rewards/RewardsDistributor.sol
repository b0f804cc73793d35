// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Governed} from "../common/Governed.sol";
import {IComputeCredits} from "../interfaces/IComputeCredits.sol";
import {IComputeToken} from "../interfaces/IComputeToken.sol";
import {IRewardsDistributor} from "../interfaces/IRewardsDistributor.sol";
import {IStakingLedger} from "../interfaces/IStakingLedger.sol";

/// @title RewardsDistributor
/// @notice CMP emissions per epoch, split between providers' work, providers' and verifiers'
///         stake, and verifiers' work, minted when claimed; every claim is O(1) whatever the number of
///         epochs it covers.
/// @dev Epoch e covers [genesis + e·L, genesis + (e+1)·L) with L = `epochLength`.
///      Emission: a schedule is a list of segments; a segment starting at epoch f with base
///      emission B and decay d (basis points) releases, by time t, R(t) = B·(10⁴/d)·(1 − G(t))
///      where G(f + k) = q^k (q = 1 − d/10⁴, in WAD, rounded down, taken as 0 below 10⁻⁹) at
///      epoch boundaries and G is linear in between. Epoch e's emission is R(end of e) −
///      R(start of e) ≈ B·q^(e−f), and a segment releases at most B·10⁴/d in all. Each
///      segment's whole tail B·10⁴/d is charged against `emissionCap` when it is added, so the
///      emissions of every schedule governance can set sum to at most `emissionCap`, fixed at
///      deployment below the token's cap minus its supply. Because R is one monotone function
///      of time, emissions over any interval telescope: the staking ledger's accumulator catches
///      up over any number of idle epochs with one `stakeReleased` (two evaluations of R per
///      segment, at most `MAX_SEGMENTS`, one in practice).
///      Split per epoch (basis points of the emission, fixed with the segment): `workBps` to
///      providers pro rata to credits settled in the epoch (Render's rule), `stakeBps` to the
///      active stake of providers and verifiers over time (stake at risk: both are slashable).
///      The stake share is accrued by the staking ledger beside each stake (a reward-per-stake
///      accumulator in the ledger's own storage, no call per stake change): within an epoch at
///      the rate `stakeRateAt` gives (the epoch's stake share over its length, rounded down),
///      across epochs by `stakeReleased`; `claim` takes what the ledger accrued for the caller
///      (`IStakingLedger.takeStakeRewards`) and mints it. `verifierBps` to verifiers pro rata to the verified jobs that
///      settled in the epoch. A share with no taker in an epoch is not minted. Every payout
///      rounds down, so the sum of all claims never exceeds what the schedule released.
///      Activity rewards are capped by the fees the activity paid (Helium HIP-10): a settled
///      job's protocol fee, converted to CMP at its epoch's rate (the oracle's redemption price
///      when the epoch's first fee was recorded, at most one epoch old), is that job's whole
///      activity budget. The provider's work reward from the job is at most
///      fee·workBps/(workBps+verifierBps) and the verifier that approved it at most
///      fee·verifierBps/(workBps+verifierBps), so a job's activity rewards never exceed the fee
///      it paid; the part of a pro-rata share above an account's cap is not minted. Wash
///      trading or self-verification therefore earns back at most the fee it paid, and loses the
///      credits' mint and redemption spreads and the gas. Jury work earns no emission: jurors are
///      paid from the dispute's bond and slashes.
///      O(1) claims (Livepeer's earnings pool, lazily): each account keeps the activity of one
///      epoch, its latest. When it is reported in a later epoch, or claims, that epoch is over
///      and its totals final, so its rewards are computed once and added to what the account is
///      owed. `claim()` pays what is owed plus the stake rewards accrued.
///      Governance changes (`setSchedule`) apply from the next epoch on, never to the current one.
contract RewardsDistributor is Governed, ReentrancyGuardTransient, IRewardsDistributor {
    using SafeCast for uint256;

    uint256 private constant BPS = 10_000;
    uint256 private constant WAD = 1e18;
    /// @dev q^k below this (10⁻⁹ in WAD) counts as 0: G stays monotone despite rounding.
    uint256 private constant DUST = 1e9;
    /// @notice Most schedule segments governance may add (bounds the segment lookup).
    uint256 public constant MAX_SEGMENTS = 32;

    /// @notice Reports settled work (the JobMarket).
    bytes32 public constant MARKET_ROLE = keccak256("MARKET_ROLE");
    /// @notice Reports verifiers' approvals (the DisputeResolver).
    bytes32 public constant RESOLVER_ROLE = keccak256("RESOLVER_ROLE");

    struct Segment {
        uint64 fromEpoch;
        uint16 decayBps;
        uint16 workBps;
        uint16 stakeBps;
        uint16 verifierBps;
        uint128 baseEmission;
    }

    /// @notice An account's activity in its latest epoch, and what it is owed.
    struct Activity {
        // slot 0: all that a provider's work report in the same epoch reads and writes
        uint96 credits; // credits settled in `epoch` (the work share's weight)
        uint32 epoch; // the epoch the counters belong to
        uint128 workCap; // most CMP the epoch's work reward may pay: its jobs' fees, work part
        // slot 1: verifier work, and what earlier epochs left owed
        uint32 verifierUnits; // verified jobs settled in `epoch` (the verifier share's weight)
        uint120 verifierCap; // most CMP the epoch's verifier reward may pay: its jobs' fees, verifier part
        uint96 owed; // activity rewards of earlier epochs, not yet claimed
        // Set by the slot's first write and never cleared: a claim that zeroes `owed` leaves the
        // slot non-zero, so the next epoch's first report writes a used slot (2,900 gas), not a
        // fresh one (20,000).
        bool used;
    }

    /// @notice An epoch's totals: the denominators of its pro-rata shares, the CMP rate its
    ///         fees are valued at, and its activity shares, in one slot (what a report reads).
    struct EpochTotals {
        uint104 credits;
        uint32 verifierUnits;
        // CMP wei per CRD (1e18 wei), read from the oracle by the epoch's first `recordWork`
        // that could read it: every fee of the epoch is valued at it (0 = not read yet).
        uint88 tokensPerCredit;
        // The epoch's segment's `workBps` and `verifierBps`, copied by its first report (an epoch's
        // segment is fixed once it began: `setSchedule` starts from the next one), so later
        // reports read no segment. Both 0 until then (or for a schedule without activity shares).
        uint16 workBps;
        uint16 verifierBps;
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

    Segment[] private _segments;
    mapping(uint256 => EpochTotals) private _epochTotals;
    mapping(address => Activity) private _activity;
    /// @dev The verifier that approved job `jobId`'s result, until the job settles.
    mapping(uint256 => address) private _verifierOf;

    /// @notice The staking ledger, which accrues the stake share beside each stake (set once).
    IStakingLedger public ledger;
    /// @dev CMP minted by claims so far (packed beside `ledger`: both are read by every claim).
    uint96 private _totalClaimed;

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
    /// @notice The CMP rate `epoch`'s fees are valued at (CMP wei per CRD), read once.
    event EpochRateSet(uint256 indexed epoch, uint256 tokensPerCredit);
    event VerifierWorkRecorded(
        uint256 indexed epoch, uint256 indexed jobId, address indexed verifier, uint256 verifierCap
    );
    /// @notice The staking ledger was set.
    event LedgerSet(address indexed ledger);
    /// @notice `account`'s activity in past `epoch` was valued: it is owed these rewards.
    event EpochRewardsSettled(address indexed account, uint256 indexed epoch, uint256 workReward, uint256 verifierReward);
    /// @notice `account` claimed its owed activity rewards and its stake rewards.
    event Claimed(address indexed account, uint256 activityRewards, uint256 stakeRewards);
    event StakeRewardsClaimed(address indexed account, uint256 amount);

    error InvalidSplit(uint256 workBps, uint256 stakeBps, uint256 verifierBps);
    error EmissionCapExceeded(uint256 committed, uint256 cap);
    error TooManySegments();
    error LedgerAlreadySet(address ledger);

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
        epochLength = epochLength_;
        emissionCap = emissionCap_;
        _addSegment(0, baseEmission, decayBps, 7_000, 2_000, 1_000);
    }

    // ================================================================== reports

    /// @inheritdoc IRewardsDistributor
    function recordWork(uint256 jobId, address provider, uint256 creditAmount, uint256 feeCredits, bool verification)
        external
        onlyRole(MARKET_ROLE)
    {
        uint256 epoch = currentEpoch();
        EpochTotals storage totals = _epochTotals[epoch];
        (uint256 workBps, uint256 verifierBps) = _activityShares(totals, epoch);
        uint256 activityBps = workBps + verifierBps;
        uint256 feeTokens = activityBps == 0 ? 0 : _feeTokens(totals, epoch, feeCredits);
        uint256 workCap = feeTokens == 0 ? 0 : feeTokens * workBps / activityBps;
        Activity storage mine = _rollOverOwing(provider, epoch);
        (mine.credits, mine.workCap) = (mine.credits + creditAmount.toUint96(), mine.workCap + workCap.toUint128());
        totals.credits += creditAmount.toUint104();
        emit WorkRecorded(epoch, jobId, provider, creditAmount, workCap);
        if (verification) {
            _recordVerifier(jobId, epoch, totals, feeTokens == 0 ? 0 : feeTokens * verifierBps / activityBps);
        }
    }

    /// @dev `epoch`'s work and verifier shares: kept in its totals by its first report, read
    ///      from its segment (and kept) until then.
    function _activityShares(EpochTotals storage totals, uint256 epoch)
        private
        returns (uint256 workBps, uint256 verifierBps)
    {
        (workBps, verifierBps) = (totals.workBps, totals.verifierBps);
        if (workBps + verifierBps != 0) return (workBps, verifierBps);
        Segment memory s = _segmentFor(epoch);
        (workBps, verifierBps) = (s.workBps, s.verifierBps);
        if (workBps + verifierBps != 0) (totals.workBps, totals.verifierBps) = (s.workBps, s.verifierBps);
    }

    /// @dev Credits job `jobId`'s verifier, if the resolver recorded one, with a verification
    ///      and `verifierCap` CMP of cap in `epoch`, once (the record is cleared).
    function _recordVerifier(uint256 jobId, uint256 epoch, EpochTotals storage totals, uint256 verifierCap) private {
        address verifier = _verifierOf[jobId];
        if (verifier == address(0)) return;
        delete _verifierOf[jobId];
        Activity storage v = _rollOverOwing(verifier, epoch);
        v.verifierUnits += 1;
        (v.verifierCap, v.used) = (v.verifierCap + verifierCap.toUint120(), true);
        totals.verifierUnits += 1;
        emit VerifierWorkRecorded(epoch, jobId, verifier, verifierCap);
    }

    /// @inheritdoc IRewardsDistributor
    function recordVerification(uint256 jobId, address verifier) external onlyRole(RESOLVER_ROLE) {
        _verifierOf[jobId] = verifier;
        emit VerificationRecorded(jobId, verifier);
    }

    // ================================================================== claims

    /// @notice Claims everything the caller is owed: work and verifier rewards of every past
    ///         epoch and the stake rewards accrued so far, in O(1) whatever the number of epochs.
    ///         The current epoch's activity is paid once the epoch is over. A second claim pays
    ///         only what accrued since.
    /// @return total CMP minted to the caller.
    function claim() external nonReentrant returns (uint256 total) {
        (Activity storage mine, uint256 activity) = _rollOver(msg.sender, currentEpoch());
        uint256 owed = mine.owed;
        if (owed != 0) mine.owed = 0;
        activity += owed;
        IStakingLedger l = ledger;
        uint256 stake = address(l) == address(0) ? 0 : l.takeStakeRewards(msg.sender);
        total = activity + stake;
        if (total == 0) return 0;
        _mint(msg.sender, total);
        emit Claimed(msg.sender, activity, stake);
    }

    /// @notice Claims the caller's stake rewards accrued so far (O(1) whatever the number of epochs).
    function claimStakeRewards() external nonReentrant returns (uint256 amount) {
        IStakingLedger l = ledger;
        if (address(l) == address(0)) return 0;
        amount = l.takeStakeRewards(msg.sender);
        if (amount == 0) return 0;
        _mint(msg.sender, amount);
        emit StakeRewardsClaimed(msg.sender, amount);
    }

    // ================================================================== views

    /// @notice The epoch now.
    function currentEpoch() public view returns (uint256) {
        return (block.timestamp - genesis) / epochLength;
    }

    /// @notice CMP minted by claims so far.
    function totalClaimed() external view returns (uint256) {
        return _totalClaimed;
    }

    /// @notice CMP scheduled for `epoch` (before the split).
    function emissionOf(uint256 epoch) public view returns (uint256) {
        return _emission(_segmentFor(epoch), epoch);
    }

    /// @notice What `account` could claim now: activity rewards of past epochs and stake rewards.
    function pendingRewards(address account) external view returns (uint256 activity, uint256 stake) {
        Activity memory mine = _activity[account];
        activity = mine.owed;
        if (mine.epoch < currentEpoch()) {
            (uint256 work, uint256 verifier) = _epochRewards(mine);
            activity += work + verifier;
        }
        IStakingLedger l = ledger;
        if (address(l) != address(0)) stake = l.pendingStakeRewards(account);
    }

    /// @inheritdoc IRewardsDistributor
    function stakeRateAt(uint256 t) external view returns (uint256 perSecond, uint256 epochStart, uint256 epochEnd) {
        uint256 epoch = t < genesis ? 0 : (t - genesis) / epochLength;
        epochStart = genesis + epoch * epochLength;
        epochEnd = epochStart + epochLength;
        perSecond = _stakeReleased(epochStart, epochEnd) / epochLength;
    }

    /// @inheritdoc IRewardsDistributor
    function stakeReleased(uint256 t0, uint256 t1) external view returns (uint256) {
        return t1 > t0 ? _stakeReleased(t0, t1) : 0;
    }

    /// @notice `account`'s activity in its latest epoch and what it is owed (see `Activity`).
    function activityOf(address account) external view returns (Activity memory) {
        return _activity[account];
    }

    /// @notice `epoch`'s credits settled and verified jobs settled (the shares' denominators),
    ///         and the CMP rate its fees are valued at (0 until its first fee).
    function epochTotals(uint256 epoch) external view returns (EpochTotals memory) {
        return _epochTotals[epoch];
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
        _addSegment(currentEpoch() + 1, baseEmission, decayBps, workBps, stakeBps, verifierBps);
    }

    /// @notice Sets the staking ledger whose stake rewards `claim` pays; once (the ledger's
    ///         accumulator is the record of what stake earned, which another ledger would not have).
    function setLedger(IStakingLedger value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(value) == address(0)) revert ZeroAddress();
        if (address(ledger) != address(0)) revert LedgerAlreadySet(address(ledger));
        ledger = value;
        emit LedgerSet(address(value));
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

    /// @dev R(t): what segment `s` has released by time `t` (its whole schedule, before the
    ///      split; 0 before it starts), B·(10⁴/d)·(1 − G(t)) rounded down, G as in the NatSpec.
    function _released(Segment memory s, uint256 t) private view returns (uint256) {
        uint256 start = genesis + uint256(s.fromEpoch) * epochLength;
        if (t <= start) return 0;
        uint256 k = (t - start) / epochLength;
        uint256 into = (t - start) % epochLength;
        uint256 q = (BPS - s.decayBps) * WAD / BPS;
        uint256 g = _decayed(q, k);
        if (into != 0) g -= (g - _decayed(q, k + 1)) * into / epochLength;
        return Math.mulDiv(uint256(s.baseEmission) * BPS, WAD - g, uint256(s.decayBps) * WAD);
    }

    /// @dev Epoch `epoch`'s emission under its segment `s`: R(end) − R(start).
    function _emission(Segment memory s, uint256 epoch) private view returns (uint256) {
        uint256 start = genesis + epoch * epochLength;
        return _released(s, start + epochLength) - _released(s, start);
    }

    /// @dev The stake share released in [t0, t1], segment by segment (each segment's share at
    ///      its own `stakeBps`), newest segment first.
    function _stakeReleased(uint256 t0, uint256 t1) private view returns (uint256 pool) {
        uint256 end = t1;
        for (uint256 i = _segments.length; i != 0 && end > t0; --i) {
            Segment memory s = _segments[i - 1];
            uint256 start = genesis + uint256(s.fromEpoch) * epochLength;
            if (start >= end) continue; // a segment that has not begun
            uint256 from = Math.max(start, t0);
            pool += (_released(s, end) - _released(s, from)) * s.stakeBps / BPS;
            end = from;
        }
    }

    /// @dev q^k (WAD, rounded down), 0 once below `DUST`: non-increasing in k.
    function _decayed(uint256 q, uint256 k) private pure returns (uint256 g) {
        g = _rpow(q, k);
        if (g < DUST) g = 0;
    }

    /// @dev Values `account`'s activity in a past epoch (returned as `valued`, for the caller
    ///      to pay or to owe), then points its counters at `epoch` (the current one). O(1): the
    ///      past epoch's totals are final.
    function _rollOver(address account, uint256 epoch) private returns (Activity storage mine, uint256 valued) {
        mine = _activity[account];
        uint256 last = mine.epoch;
        if (last == epoch) return (mine, 0); // the same epoch: only slot 0 was read
        Activity memory m = mine;
        if (m.workCap != 0 || m.verifierCap != 0) {
            (uint256 work, uint256 verifier) = _epochRewards(m);
            valued = work + verifier;
            emit EpochRewardsSettled(account, last, work, verifier);
        }
        (mine.credits, mine.epoch, mine.workCap) = (0, epoch.toUint32(), 0);
        if (m.verifierUnits != 0 || m.verifierCap != 0) (mine.verifierUnits, mine.verifierCap) = (0, 0);
    }

    /// @dev `_rollOver`, keeping what was valued as owed (reports, which pay nothing out).
    function _rollOverOwing(address account, uint256 epoch) private returns (Activity storage mine) {
        uint256 valued;
        (mine, valued) = _rollOver(account, epoch);
        if (valued != 0) (mine.owed, mine.used) = (mine.owed + valued.toUint96(), true);
    }

    /// @dev An account's pro-rata shares of its epoch's work and verifier pools, each capped by
    ///      the fees its activity paid (the rest is never minted).
    function _epochRewards(Activity memory mine) private view returns (uint256 work, uint256 verifier) {
        if (mine.workCap == 0 && mine.verifierCap == 0) return (0, 0);
        Segment memory s = _segmentFor(mine.epoch);
        uint256 emission = _emission(s, mine.epoch);
        EpochTotals memory all = _epochTotals[mine.epoch];
        // A cap implies a weight (a fee is paid only on credits, a verifier cap only with a unit),
        // so the totals are nonzero; checked anyway, as a zero total would block the account.
        if (mine.workCap != 0 && all.credits != 0) {
            work = Math.min(Math.mulDiv(emission * s.workBps / BPS, mine.credits, all.credits), mine.workCap);
        }
        if (mine.verifierCap != 0 && all.verifierUnits != 0) {
            verifier = Math.min(
                Math.mulDiv(emission * s.verifierBps / BPS, mine.verifierUnits, all.verifierUnits), mine.verifierCap
            );
        }
    }

    /// @dev `feeCredits` in CMP at the epoch's rate: the oracle's (at the redemption price, as
    ///      `creditsToTokens` quotes it) when the epoch's first fee was recorded, so one oracle
    ///      call per epoch rather than per settlement, and a rate at most one epoch old. While the
    ///      oracle cannot be read the fee earns no cap (no reward rather than a settlement that
    ///      reverts) and the next fee tries again.
    function _feeTokens(EpochTotals storage totals, uint256 epoch, uint256 feeCredits)
        private
        returns (uint256) {
        if (feeCredits == 0) return 0;
        uint256 rate = totals.tokensPerCredit;
        if (rate == 0) {
            try credits.creditsToTokens(1 ether) returns (uint256 tokens) {
                // A rate beyond 88 bits (a CRD worth over 309 million CMP) is not snapshotted.
                if (tokens == 0 || tokens > type(uint88).max) return 0;
                (rate, totals.tokensPerCredit) = (tokens, uint88(tokens));
                emit EpochRateSet(epoch, tokens);
            } catch {
                return 0;
            }
        }
        return Math.mulDiv(feeCredits, rate, 1 ether);
    }

    function _mint(address to, uint256 amount) private {
        _totalClaimed += amount.toUint96();
        token.mint(to, amount);
    }

    /// @dev x^n in WAD fixed point, rounding down (exponentiation by squaring).
    ///      Unchecked: x ≤ WAD and z ≤ WAD throughout (q < 1), so no product exceeds 10³⁶.
    function _rpow(uint256 x, uint256 n) private pure returns (uint256 z) {
        unchecked {
            z = n & 1 != 0 ? x : WAD;
            for (n >>= 1; n != 0; n >>= 1) {
                x = x * x / WAD;
                if (n & 1 != 0) z = z * x / WAD;
            }
        }
    }
}
