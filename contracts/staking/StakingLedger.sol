// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Governed} from "../common/Governed.sol";
import {IComputeToken} from "../interfaces/IComputeToken.sol";
import {IDrawConsumer} from "../interfaces/IDrawConsumer.sol";
import {IRandomnessSource} from "../interfaces/IRandomnessSource.sol";
import {IRewardsDistributor} from "../interfaces/IRewardsDistributor.sol";
import {IStakingLedger} from "../interfaces/IStakingLedger.sol";
import {SortitionTree} from "../libraries/SortitionTree.sol";

/// @title StakingLedger
/// @notice The one ledger of CMP stake, in The Graph Horizon's shape: every CMP staked by
///         providers and by verifiers sits in this contract, under one unbonding rule
///         (`unbondingPeriod`; a verifier's unbonding stake stays slashable until withdrawn, a
///         provider's slashes take only the stake it provisioned to the market) and one slash
///         payout (ordered payees, the rest burned; a failed lease's payees are credited here
///         and claim with `claimPayout`). This base holds the verifiers' side:
///         registration, stake, the stake-weighted draw in O(log n) and its queue; the
///         `ProviderRegistry` built on it holds the providers' side (records, provisions,
///         reputation; the market keeps the locks on each provision).
/// @dev Invariant (tested to the wei): the ledger's CMP balance equals the providers' `staked`
///      plus the verifiers' `staked` plus the payouts credited and not yet claimed; nothing
///      else is held here.
///      Each verifier owns a slot of a `SortitionTree` whose weight is its active stake
///      (staked − unbonding). Unbonding stake is not drawn but stays slashable.
///      Draws nobody can choose (SPEC §5): the resolver's request only queues the draw with a
///      target block `drawDelay` blocks ahead; anyone completes it later (`processDraws`) from
///      that block's hash, which nobody knew when the request was sent, so neither reverting nor
///      waiting for a suitable block moves it. A draw whose target left the 256-block window
///      gets a new target. The draw uses the stake as it stood when it was requested: while any
///      draw is queued, stake changes to the tree (stakes, unstake requests, slashes) queue
///      behind it in one FIFO and reach the tree only when everything before them was
///      processed; with nothing queued they apply at once. Bookkeeping (`verifierOf`,
///      `activeStakeOf`) is always current; `totalActiveStake` is the tree's (what the next
///      draw sees). The resolver makes a due draw in its `completeDraw`, called from here.
///      On a chain with a VRF, governance may set a `randomness` source (`ChainlinkVrfAdapter`):
///      each queued draw then asks it for a word, and the draw uses that word (which not even
///      the block proposer can bias) instead of the block hash. A word that has not arrived
///      `VRF_PATIENCE` blocks after the target block does not hold the dispute up: the draw
///      falls back to the target block's hash.
abstract contract StakingLedger is Governed, ReentrancyGuardTransient, IStakingLedger {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using SafeCast for int256;
    using SortitionTree for SortitionTree.Tree;

    uint256 private constant WAD = 1e18;
    /// @dev Stake rewards accrue only while at least this much stake (1 CMP) is at risk: the
    ///         stake share released while less is staked is not minted. This also bounds the
    ///         accumulator: each second adds at most the CMP released, so it stays below the
    ///         emission cap and never overflows.
    uint256 internal constant MIN_STAKE_AT_RISK = 1 ether;
    /// @notice Blocks past its target a draw waits for its VRF word before using the target
    ///         block's hash instead (half the 256-block hash window).
    uint256 public constant VRF_PATIENCE = 128;
    /// @inheritdoc IStakingLedger
    uint256 public constant MIN_VERIFIER_STAKE = 1_000 ether;

    struct Verifier {
        // slot 0
        uint96 staked; // everything held, unbonding included
        int152 rewardDebt; // stake rewards of the active stake already counted (see `_pending`)
        // slot 1
        uint96 unbonding;
        uint64 unbondingEnd;
        uint32 slot;
    }

    /// @notice The stake-reward accumulator, one slot: stake rewards per CMP of stake at risk
    ///         (WAD), the stake at risk (every provider's and verifier's active stake), when it
    ///         was last brought forward, and the unbonding period (a parameter every change of
    ///         active stake by an unstake request reads with the rest).
    /// @dev `rewardPerStake` fits 96 bits: each second adds at most the CMP released (the stake at
    ///      risk is at least `MIN_STAKE_AT_RISK` = 1 CMP when it grows), and all releases together
    ///      stay below the token's cap, itself below 2^96 (checked at construction). It saturates
    ///      rather than revert, so no stake change can ever be blocked by the accumulator.
    struct Accumulator {
        uint96 rewardPerStake;
        uint96 stakeAtRisk;
        uint32 updatedAt;
        uint32 unbondingPeriod;
    }

    /// @notice The stake share's release rate in CMP wei per second, cached from the rewards
    ///         distributor for the epoch ending at `until` (rounded down: never above the epoch's share).
    struct StakeRate {
        uint128 perSecond;
        uint64 until;
    }

    /// @dev Slots a draw must skip, ascending, with their weight intervals in the tree.
    struct Excluded {
        uint256[] slots;
        uint256[] starts;
        uint256[] weights;
        uint256 n;
        uint256 weight; // sum of `weights`
    }

    /// @notice CMP a failed lease's slash credited to a payee (the customer, the keeper), kept
    ///         until claimed. `used` is set by the first credit and never cleared, so a claim
    ///         leaves the slot in use and the payee's next credit writes a used slot (2,900 gas,
    ///         not 20,000), as OpenZeppelin's ReentrancyGuard keeps its status nonzero.
    struct Payout {
        uint128 owed;
        bool used;
    }

    /// @notice One queued step: a change of a slot's weight, or a draw for a job (one slot).
    struct Entry {
        EntryKind kind;
        uint32 slot; // stake changes
        uint64 targetBlock; // draws: the block whose hash decides
        uint128 value; // stake changes: the amount; draws: the job id
    }

    /// @notice The staked token (CMP).
    IComputeToken public immutable token;
    /// @notice The rewards distributor: its schedule sets the stake share this ledger accrues,
    ///         and it pays what `takeStakeRewards` takes (zero: stake earns nothing).
    IRewardsDistributor public immutable rewards;
    /// @notice Verifiers registered so far (slots are never reused).
    uint32 public verifierCount;
    /// @notice Blocks between a draw's request and the block whose hash decides it (default 2, 1 to 64).
    uint64 public drawDelay = 2;
    /// @notice Queue positions: entries `queueHead` to `queueTail - 1` wait to be processed.
    uint64 public queueHead;
    uint64 public queueTail;

    /// @notice The dispute resolver: requests draws, completes them, slashes verifiers.
    IDrawConsumer public resolver;
    /// @notice Where draws take their random words from (a VRF adapter); zero: block hashes.
    IRandomnessSource public randomness;

    mapping(address => Verifier) private _verifiers;
    mapping(uint256 => address) public verifierAtSlot;
    SortitionTree.Tree private _tree;
    mapping(uint256 => Entry) private _queue;
    Accumulator private _acc;
    StakeRate private _rate;
    mapping(address => Payout) private _payouts;

    event VerifierRegistered(address indexed verifier, uint256 slot);
    event VerifierStaked(address indexed verifier, uint256 amount, uint256 totalStaked);
    event VerifierUnstakeRequested(address indexed verifier, uint256 amount, uint256 totalUnbonding, uint256 unbondingEnd);
    event VerifierUnstaked(address indexed verifier, uint256 amount);
    event VerifierSlashed(address indexed verifier, uint256 amount, address indexed recipient);
    /// @notice Part of a slash (a provider's lost dispute, a forfeited bond, a verifier's slash)
    ///         sent at once to a harmed party, a finder, a challenger or the resolver's juror pool
    ///         (a failed lease's are credited instead: `SlashCredited`).
    event SlashPaid(address indexed account, address indexed recipient, uint256 amount);
    /// @notice Part of a failed lease's slash credited to `payee` (the customer or the keeper),
    ///         who claims it with `claimPayout`.
    event SlashCredited(address indexed account, address indexed payee, uint256 amount);
    /// @notice `payee`'s credited payouts were sent to it.
    event PayoutClaimed(address indexed payee, uint256 amount);
    /// @notice A draw was queued (or given a new target after its block left the hash window).
    event DrawRequested(uint256 indexed jobId, EntryKind kind, uint256 targetBlock, uint256 position);
    /// @notice A stake change waits behind queued draws.
    event StakeChangeQueued(address indexed verifier, bool added, uint256 amount, uint256 position);
    /// @notice `account`'s stake rewards were taken for the rewards distributor to pay.
    event StakeRewardsTaken(address indexed account, uint256 amount);
    /// @notice The resolver changed.
    event ResolverSet(address indexed resolver);
    /// @notice The randomness source changed (zero: block hashes).
    event RandomnessSet(address indexed randomness);
    /// @notice The randomness source refused a request: the draw will use a block hash.
    event RandomnessRequestFailed(uint256 indexed jobId, uint256 position);

    error AlreadyVerifier(address account);
    error NotVerifier(address account);
    error VerifierCapacityReached(uint256 capacity);
    error NotEnoughActiveStake(uint256 have, uint256 need);
    error VerifierStakeBelowMinimum(uint256 active, uint256 minimum);
    error UnbondingNotOver(uint256 unbondingEnd);
    error NothingToWithdraw();
    error NothingToClaim(address payee);
    error ZeroAmount();
    error NothingQueued();
    error DrawNotReady(uint256 jobId, uint256 targetBlock);
    error NotResolver(address caller);
    error DrawsPending(uint256 queued);
    error NotRewards(address caller);
    error TokenCapTooLarge(uint256 cap);

    modifier onlyResolver() {
        if (msg.sender != address(resolver)) revert NotResolver(msg.sender);
        _;
    }

    /// @param token_ CMP; its cap must fit the packed stake records (below 2^96 wei).
    /// @param rewards_ The rewards distributor whose stake share this ledger accrues (zero: none).
    constructor(IComputeToken token_, IRewardsDistributor rewards_) {
        if (address(token_) == address(0)) revert ZeroAddress();
        uint256 cap = token_.cap();
        if (cap > type(uint96).max) revert TokenCapTooLarge(cap);
        token = token_;
        rewards = rewards_;
        (_acc.updatedAt, _acc.unbondingPeriod) = (uint32(block.timestamp), 7 days);
    }

    // ------------------------------------------------------------------ verifiers

    /// @notice Registers the caller as a verifier (stake with `stakeAsVerifier`).
    function registerVerifier() external whenNotPaused {
        Verifier storage v = _verifiers[msg.sender];
        if (v.slot != 0) revert AlreadyVerifier(msg.sender);
        uint32 slot = verifierCount + 1;
        if (slot > SortitionTree.CAPACITY) revert VerifierCapacityReached(SortitionTree.CAPACITY);
        verifierCount = slot;
        v.slot = slot;
        verifierAtSlot[slot] = msg.sender;
        emit VerifierRegistered(msg.sender, slot);
    }

    /// @notice Adds `amount` CMP (approved to this contract) to the caller's verifier stake; the
    ///         active stake after it must be at least `MIN_VERIFIER_STAKE`.
    function stakeAsVerifier(uint256 amount) external whenNotPaused nonReentrant {
        if (amount == 0) revert ZeroAmount();
        Verifier storage v = _verifiers[msg.sender];
        if (v.slot == 0) revert NotVerifier(msg.sender);
        uint96 total = v.staked + amount.toUint96();
        _checkVerifierStake(total - v.unbonding);
        (v.staked, v.rewardDebt) = (total, _addAtRisk(v.rewardDebt, amount));
        _changeWeight(msg.sender, v.slot, true, amount);
        IERC20(address(token)).safeTransferFrom(msg.sender, address(this), amount);
        emit VerifierStaked(msg.sender, amount, total);
    }

    /// @notice Starts unbonding `amount` of the caller's active verifier stake; it leaves the
    ///         draw now, stays slashable, and is withdrawable `unbondingPeriod` after the last
    ///         request. What stays active must be none or at least `MIN_VERIFIER_STAKE`.
    function requestVerifierUnstake(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Verifier storage v = _verifiers[msg.sender];
        uint256 active = uint256(v.staked) - v.unbonding;
        if (amount > active) revert NotEnoughActiveStake(active, amount);
        if (amount != active) _checkVerifierStake(active - amount);
        uint96 total = v.unbonding + uint96(amount);
        uint64 end = uint64(block.timestamp) + _acc.unbondingPeriod;
        (v.unbonding, v.unbondingEnd) = (total, end);
        v.rewardDebt = _removeAtRisk(v.rewardDebt, amount);
        _changeWeight(msg.sender, v.slot, false, amount);
        emit VerifierUnstakeRequested(msg.sender, amount, total, end);
    }

    /// @notice Withdraws the caller's unbonded verifier stake after the unbonding period.
    function withdrawVerifierStake() external nonReentrant {
        Verifier storage v = _verifiers[msg.sender];
        uint96 amount = v.unbonding;
        if (amount == 0) revert NothingToWithdraw();
        if (block.timestamp < v.unbondingEnd) revert UnbondingNotOver(v.unbondingEnd);
        (v.unbonding, v.staked) = (0, v.staked - amount);
        IERC20(address(token)).safeTransfer(msg.sender, amount);
        emit VerifierUnstaked(msg.sender, amount);
    }

    /// @dev A verifier's active stake is none or at least `MIN_VERIFIER_STAKE`: an identity smaller
    ///      than what a draw can put at risk would lose less than a whole seat when penalised.
    function _checkVerifierStake(uint256 active) private pure {
        if (active < MIN_VERIFIER_STAKE) revert VerifierStakeBelowMinimum(active, MIN_VERIFIER_STAKE);
    }

    // ------------------------------------------------------------------ draws

    /// @inheritdoc IStakingLedger
    function requestDraw(EntryKind kind, uint256 jobId) external onlyResolver returns (uint256 targetBlock) {
        targetBlock = block.number + drawDelay;
        uint64 position = queueTail;
        _queue[position] = Entry(kind, 0, uint64(targetBlock), jobId.toUint128());
        queueTail = position + 1;
        emit DrawRequested(jobId, kind, targetBlock, position);
        IRandomnessSource source = randomness;
        if (address(source) != address(0)) {
            // A source that refuses (a consumer not added to the subscription, a VRF outage)
            // must not block the challenge or the verification: the draw then falls back to
            // the target block's hash after `VRF_PATIENCE`.
            try source.requestRandomness(position) {}
            catch {
                emit RandomnessRequestFailed(jobId, position);
            }
        }
    }

    /// @notice Processes up to `maxEntries` queued entries in order (anyone; keepers): stake
    ///         changes reach the tree, and each draw whose target block is past is made from that
    ///         block's hash by the resolver. Stops at the first draw whose target block has not
    ///         been mined yet; a draw whose target left the 256-block window gets a new target
    ///         `drawDelay` blocks ahead and stays first. Reverts `NothingQueued` on an empty
    ///         queue and `DrawNotReady` when the first entry is a draw that cannot be made yet.
    /// @return processed Entries processed.
    function processDraws(uint256 maxEntries) external nonReentrant returns (uint256 processed) {
        uint64 head = queueHead;
        uint64 tail = queueTail;
        if (head == tail) revert NothingQueued();
        for (; processed < maxEntries && head < tail; ++processed) {
            Entry memory e = _queue[head];
            if (e.kind == EntryKind.StakeAdded) {
                _tree.add(e.slot, e.value);
            } else if (e.kind == EntryKind.StakeRemoved) {
                _tree.sub(e.slot, e.value);
            } else {
                if (block.number <= e.targetBlock) {
                    if (processed == 0) revert DrawNotReady(e.value, e.targetBlock);
                    break;
                }
                (bool waiting, bool fromVrf, bytes32 hash) = _randomWord(head, e.targetBlock);
                if (waiting) {
                    if (processed == 0) revert DrawNotReady(e.value, e.targetBlock + VRF_PATIENCE);
                    break;
                }
                if (!fromVrf && hash == bytes32(0)) {
                    uint64 target = uint64(block.number) + drawDelay; // left the window: draw again later
                    _queue[head].targetBlock = target;
                    emit DrawRequested(e.value, e.kind, target, head);
                    ++processed;
                    break;
                }
                // The head moves first: the resolver draws over the tree as it stands now.
                delete _queue[head];
                queueHead = ++head;
                resolver.completeDraw(e.kind, e.value, uint256(keccak256(abi.encode(hash, e.value, e.kind))));
                continue;
            }
            delete _queue[head];
            ++head;
        }
        queueHead = head;
    }

    /// @inheritdoc IStakingLedger
    function drawVerifiers(uint256 seed, address[] calldata excluded, uint256 count)
        external
        view
        returns (address[] memory drawn)
    {
        // The excluded slots' weight intervals, ascending, each computed once for all the draws.
        // Seats are drawn with replacement (Kleros): a verifier drawn twice holds two seats, so
        // the seats a stake expects do not depend on how many identities hold it.
        uint256 n = excluded.length;
        Excluded memory x = Excluded(new uint256[](n), new uint256[](n), new uint256[](n), 0, 0);
        for (uint256 i; i < n; ++i) {
            uint256 slot = _verifiers[excluded[i]].slot;
            if (slot != 0) _exclude(x, slot);
        }
        uint256 total = _tree.total - x.weight;
        if (total == 0) return new address[](0);
        drawn = new address[](count);
        for (uint256 i; i < count; ++i) {
            uint256 point = uint256(keccak256(abi.encode(seed, i))) % total;
            drawn[i] = verifierAtSlot[_tree.findSkipping(point, x.starts, x.weights, x.n)];
        }
    }

    /// @inheritdoc IStakingLedger
    function slashVerifier(address verifier, uint256 wanted, address to)
        external
        onlyResolver
        nonReentrant
        returns (uint256 amount)
    {
        Verifier storage v = _verifiers[verifier];
        uint256 staked = v.staked;
        amount = wanted < staked ? wanted : staked;
        if (amount == 0) return 0;
        uint256 active = staked - v.unbonding;
        uint256 fromActive = amount <= active ? amount : active;
        if (fromActive != 0) {
            _changeWeight(verifier, v.slot, false, fromActive);
            v.rewardDebt = _removeAtRisk(v.rewardDebt, fromActive);
        }
        if (amount > active) v.unbonding -= uint96(amount - active);
        v.staked = uint96(staked - amount);
        emit VerifierSlashed(verifier, amount, to);
        address[] memory recipients = new address[](1);
        uint256[] memory amounts = new uint256[](1);
        (recipients[0], amounts[0]) = (to, amount);
        _payOut(verifier, amount, recipients, amounts, false);
    }

    // ------------------------------------------------------------------ payouts

    /// @inheritdoc IStakingLedger
    function claimPayout(address payee) external nonReentrant returns (uint256 amount) {
        Payout storage p = _payouts[payee];
        amount = p.owed;
        if (amount == 0) revert NothingToClaim(payee);
        p.owed = 0;
        emit PayoutClaimed(payee, amount);
        IERC20(address(token)).safeTransfer(payee, amount);
    }

    /// @inheritdoc IStakingLedger
    function payoutOf(address payee) external view returns (uint256) {
        return _payouts[payee].owed;
    }

    // ------------------------------------------------------------------ stake rewards

    /// @inheritdoc IStakingLedger
    function takeStakeRewards(address account) external returns (uint256 amount) {
        if (msg.sender != address(rewards)) revert NotRewards(msg.sender);
        (uint256 providerAtRisk, int256 providerDebt) = _providerAtRisk(account);
        Verifier storage v = _verifiers[account];
        uint256 verifierAtRisk = v.staked == 0 ? 0 : uint256(v.staked) - v.unbonding;
        // With nothing at risk what is owed does not depend on the accumulator: leave it be.
        uint256 rps = providerAtRisk == 0 && verifierAtRisk == 0 ? 0 : _moveStakeAtRisk(0, 0);
        uint256 fromProvider = _pending(providerAtRisk, providerDebt, rps);
        uint256 fromVerifier = _pending(verifierAtRisk, v.rewardDebt, rps);
        if (fromProvider != 0) _setProviderDebt(account, providerDebt + fromProvider.toInt256());
        if (fromVerifier != 0) v.rewardDebt = (v.rewardDebt + fromVerifier.toInt256()).toInt152();
        amount = fromProvider + fromVerifier;
        if (amount != 0) emit StakeRewardsTaken(account, amount);
    }

    /// @inheritdoc IStakingLedger
    function pendingStakeRewards(address account) external view returns (uint256) {
        (uint256 rps,) = _rewardPerStakeNow();
        (uint256 providerAtRisk, int256 providerDebt) = _providerAtRisk(account);
        Verifier storage v = _verifiers[account];
        return _pending(providerAtRisk, providerDebt, rps) + _pending(uint256(v.staked) - v.unbonding, v.rewardDebt, rps);
    }

    /// @notice The stake-reward accumulator brought to now: stake rewards per CMP at risk (WAD)
    ///         and the stake at risk (every provider's and verifier's active stake).
    function stakeRewardsState() external view returns (uint256 rewardPerStake, uint256 stakeAtRisk) {
        (rewardPerStake, stakeAtRisk) = _rewardPerStakeNow();
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IStakingLedger
    function unbondingPeriod() public view returns (uint64) {
        return _acc.unbondingPeriod;
    }

    /// @notice Whether the draw queued at `position` can be made now: its target block is mined
    ///         and, with a randomness source, its word arrived or its patience ran out.
    function drawReady(uint256 position) external view returns (bool) {
        Entry storage e = _queue[position];
        if (e.kind != EntryKind.VerifierDraw && e.kind != EntryKind.JuryDraw) return false;
        if (block.number <= e.targetBlock) return false;
        (bool waiting,,) = _randomWord(position, e.targetBlock);
        return !waiting;
    }

    /// @notice The queue entry at `position`.
    function queueEntry(uint256 position) external view returns (Entry memory) {
        return _queue[position];
    }

    /// @notice A verifier's record.
    function verifierOf(address account) external view returns (Verifier memory) {
        return _verifiers[account];
    }

    /// @inheritdoc IStakingLedger
    function verifierSlotOf(address account) external view returns (uint256) {
        return _verifiers[account].slot;
    }

    /// @inheritdoc IStakingLedger
    function activeStakeOf(address account) public view returns (uint256) {
        Verifier storage v = _verifiers[account];
        return uint256(v.staked) - v.unbonding;
    }

    /// @notice Sum of the active verifier stake the tree holds: every verifier's, less the
    ///         changes still queued behind pending draws.
    function totalActiveStake() external view returns (uint256) {
        return _tree.total;
    }

    // ------------------------------------------------------------------ governance

    /// @notice Sets `unbondingPeriod` in seconds, within [1 day, 60 days] and above the
    ///         resolver's `slashDelay` (a drawn verifier or juror must not withdraw before the
    ///         verdict that may slash it); applies to new requests of providers and verifiers.
    function setUnbondingPeriod(uint256 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 above = 1 days;
        IDrawConsumer r = resolver;
        if (address(r) != address(0)) {
            uint256 delay = r.slashDelay();
            if (delay >= above) above = delay + 1;
        }
        _acc.unbondingPeriod = uint32(_checked("unbondingPeriod", _acc.unbondingPeriod, value, above, 60 days));
    }

    /// @notice Sets `drawDelay` in blocks within [1, 64].
    function setDrawDelay(uint256 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        drawDelay = uint64(_checked("drawDelay", drawDelay, value, 1, 64));
    }

    /// @notice Sets the dispute resolver, which requests and completes draws and slashes
    ///         verifiers; only while no entry is queued (a queued draw is the old resolver's).
    function setResolver(IDrawConsumer value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(value) == address(0)) revert ZeroAddress();
        uint256 queued = queueTail - queueHead;
        if (queued != 0) revert DrawsPending(queued);
        resolver = value;
        emit ResolverSet(address(value));
    }

    /// @notice Sets where draws take their random words from (a VRF adapter; zero: block
    ///         hashes); only while no entry is queued (a queued draw asked the old source).
    function setRandomness(IRandomnessSource value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 queued = queueTail - queueHead;
        if (queued != 0) revert DrawsPending(queued);
        randomness = value;
        emit RandomnessSet(address(value));
    }

    // ------------------------------------------------------------------ internals

    /// @dev The active stake of `account` as a provider and its reward debt (the provider side
    ///      of the ledger is the derived contract's).
    function _providerAtRisk(address account) internal view virtual returns (uint256 atRisk, int256 debt);

    /// @dev Sets the reward debt of `account`'s provider stake.
    function _setProviderDebt(address account, int256 debt) internal virtual;

    /// @dev Brings the accumulator to now, then moves the stake at risk up by `added` and down by
    ///      `removed`; returns the reward per stake to value the change at. Every change of an
    ///      account's active stake calls this first, so the accumulator always divides a release
    ///      by the stake that was at risk while it was released.
    function _moveStakeAtRisk(uint256 added, uint256 removed) internal returns (uint256) {
        Accumulator memory a = _acc;
        if (a.updatedAt != block.timestamp) {
            (uint256 released, StakeRate memory next, bool newRate) = _releasedSince(a.updatedAt, _rate);
            if (newRate) _rate = next;
            if (a.stakeAtRisk >= MIN_STAKE_AT_RISK) {
                uint256 rps = a.rewardPerStake + released * WAD / a.stakeAtRisk; // < 2^96, see Accumulator
                a.rewardPerStake = rps > type(uint96).max ? type(uint96).max : uint96(rps);
            }
            a.updatedAt = uint32(block.timestamp);
        }
        a.stakeAtRisk = (a.stakeAtRisk + added - removed).toUint96();
        _acc = a;
        return a.rewardPerStake;
    }

    /// @dev The reward debt after `amount` of active stake was added at `rps` (rounded up: the
    ///      account never earns what accrued before its stake arrived).
    function _addAtRisk(int152 debt, uint256 amount) internal returns (int152) {
        uint256 rps = _moveStakeAtRisk(amount, 0);
        return (debt + ((amount * rps + WAD - 1) / WAD).toInt256()).toInt152();
    }

    /// @dev The reward debt after `amount` of active stake left at `rps` (rounded down).
    function _removeAtRisk(int152 debt, uint256 amount) internal returns (int152) {
        uint256 rps = _moveStakeAtRisk(0, amount);
        return (debt - (amount * rps / WAD).toInt256()).toInt152();
    }

    /// @dev What active stake `atRisk` with reward debt `debt` earned up to `rps`. The debt
    ///      rounds against the account on every change, so this never exceeds what it accrued;
    ///      rounding can leave it a few wei below zero, which counts as nothing owed.
    function _pending(uint256 atRisk, int256 debt, uint256 rps) internal pure returns (uint256) {
        int256 owed = (atRisk * rps / WAD).toInt256() - debt;
        return owed > 0 ? uint256(owed) : 0;
    }

    /// @dev The accumulator brought to now, without writing (for views).
    function _rewardPerStakeNow() private view returns (uint256 rps, uint256 stakeAtRisk) {
        Accumulator memory a = _acc;
        (rps, stakeAtRisk) = (a.rewardPerStake, a.stakeAtRisk);
        if (a.updatedAt != block.timestamp && stakeAtRisk >= MIN_STAKE_AT_RISK) {
            (uint256 released,,) = _releasedSince(a.updatedAt, _rate);
            rps += released * WAD / stakeAtRisk;
            if (rps > type(uint96).max) rps = type(uint96).max; // as `_moveStakeAtRisk` saturates
        }
    }

    /// @dev The stake share released from `from` to now: at the cached rate within its epoch;
    ///      across epoch boundaries, the distributor's exact release of the whole epochs between
    ///      and the new epoch's rate (`newRate`, to cache) for the part of it that passed. Each
    ///      epoch thus releases at most its stake share (O(1) whatever the number of epochs).
    ///      A distributor that reverts or answers nonsense releases nothing (and is asked again
    ///      at the next change): stake changes, unstaking and slashes never depend on it.
    function _releasedSince(uint256 from, StakeRate memory r)
        private
        view
        returns (uint256 released, StakeRate memory next, bool newRate)
    {
        uint256 t = block.timestamp;
        IRewardsDistributor source = rewards;
        if (address(source) == address(0) || from >= t) return (0, r, false);
        if (t <= r.until) return (r.perSecond * (t - from), r, false);
        if (from < r.until) (released, from) = (r.perSecond * (r.until - from), r.until);
        try source.stakeRateAt(t) returns (uint256 perSecond, uint256 start, uint256 end) {
            if (start > t || end <= t || perSecond > type(uint128).max) return (released, r, false);
            if (start > from) {
                try source.stakeReleased(from, start) returns (uint256 whole) {
                    if (whole > type(uint96).max) return (released, r, false); // above any cap: nonsense
                    released += whole;
                } catch {
                    return (released, r, false);
                }
                from = start;
            }
            released += perSecond * (t - from);
            (next, newRate) = (StakeRate(uint128(perSecond), uint64(end)), true);
        } catch {
            return (released, r, false);
        }
    }

    /// @dev Pays the recipients in order, each up to its amount, and burns what is left: the
    ///      one slash payout of the ledger, for providers and verifiers. With `credit`, each
    ///      payee's part is credited here for it to claim (`claimPayout`) instead of sent: one
    ///      used slot per payee, where a transfer writes the ledger's balance and the payee's.
    function _payOut(
        address account,
        uint256 total,
        address[] memory recipients,
        uint256[] memory amounts,
        bool credit
    ) internal returns (uint256 burned) {
        burned = total;
        IERC20 cmp = IERC20(address(token));
        for (uint256 i; i < recipients.length && burned != 0; ++i) {
            uint256 pay = amounts[i] < burned ? amounts[i] : burned;
            address to = recipients[i];
            if (pay == 0 || to == address(0)) continue;
            burned -= pay;
            if (credit) {
                Payout storage p = _payouts[to];
                (p.owed, p.used) = (p.owed + uint128(pay), true); // the sum of slashes < the CMP cap < 2^96
                emit SlashCredited(account, to, pay);
            } else {
                cmp.safeTransfer(to, pay);
                emit SlashPaid(account, to, pay);
            }
        }
        if (burned != 0) token.burn(burned);
    }

    /// @dev The random word of the draw at `position`: the VRF's when a source is set and its
    ///      word arrived (`fromVrf`); else, unless it is still worth waiting for the word
    ///      (`waiting`), the target block's hash (zero once it left the 256-block window).
    function _randomWord(uint256 position, uint256 targetBlock)
        private
        view
        returns (bool waiting, bool fromVrf, bytes32 word)
    {
        IRandomnessSource source = randomness;
        if (address(source) != address(0)) {
            uint256 vrfWord;
            (fromVrf, vrfWord) = source.randomnessOf(position);
            if (fromVrf) return (false, true, bytes32(vrfWord));
            if (block.number <= targetBlock + VRF_PATIENCE) return (true, false, 0);
        }
        return (false, false, blockhash(targetBlock));
    }

    /// @dev Adds `slot` to the ascending excluded set `x` (nothing when it is already there).
    function _exclude(Excluded memory x, uint256 slot) private view {
        uint256 i = x.n;
        while (i != 0 && x.slots[i - 1] > slot) --i;
        if (i != 0 && x.slots[i - 1] == slot) return;
        for (uint256 j = x.n; j > i; --j) {
            (x.slots[j], x.starts[j], x.weights[j]) = (x.slots[j - 1], x.starts[j - 1], x.weights[j - 1]);
        }
        uint256 start = _tree.prefix(slot - 1);
        uint256 weight = _tree.weightOf(slot);
        (x.slots[i], x.starts[i], x.weights[i]) = (slot, start, weight);
        x.n += 1;
        x.weight += weight;
    }

    /// @dev Changes a slot's weight at once when nothing is queued, else behind the queued draws.
    function _changeWeight(address verifier, uint32 slot, bool add, uint256 amount) private {
        uint64 position = queueTail;
        if (queueHead == position) {
            if (add) _tree.add(slot, amount);
            else _tree.sub(slot, amount);
            return;
        }
        _queue[position] = Entry(add ? EntryKind.StakeAdded : EntryKind.StakeRemoved, slot, 0, amount.toUint128());
        queueTail = position + 1;
        emit StakeChangeQueued(verifier, add, amount, position);
    }
}
