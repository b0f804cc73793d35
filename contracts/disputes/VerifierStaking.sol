// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Governed} from "../common/Governed.sol";
import {IComputeToken} from "../interfaces/IComputeToken.sol";
import {SortitionTree} from "../libraries/SortitionTree.sol";

/// @title VerifierStaking
/// @notice Verifiers' CMP stake, held by the dispute resolver: registration, stake, unbonding
///         (as for providers), slashing, and a stake-weighted random draw in O(log n).
/// @dev Each verifier owns a slot of a `SortitionTree` whose weight is its active stake
///      (staked − unbonding). Unbonding stake is not drawn but stays slashable.
///      Draws nobody can choose (SPEC §5): a request only queues the draw with a target block
///      `drawDelay` blocks ahead; anyone completes it later (`processDraws`) from that block's
///      hash, which nobody knew when the request was sent, so neither reverting nor waiting for
///      a suitable block moves it. A draw whose target left the 256-block window gets a new
///      target. The draw uses the stake as it stood when it was requested: while any draw is
///      queued, stake changes to the tree (stakes, unstake requests, slashes) queue behind it in
///      one FIFO and reach the tree only when everything before them was processed; with nothing
///      queued they apply at once. Bookkeeping (`verifierOf`, `activeStakeOf`) is always
///      current; `totalActiveStake` is the tree's (what the next draw sees).
abstract contract VerifierStaking is Governed, ReentrancyGuard {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using SortitionTree for SortitionTree.Tree;

    struct Verifier {
        uint128 staked; // everything held, unbonding included
        uint128 unbonding;
        uint64 unbondingEnd;
        uint32 slot;
    }

    /// @notice What a queue entry does when processed.
    enum EntryKind {
        None,
        StakeAdded,
        StakeRemoved,
        VerifierDraw,
        JuryDraw
    }

    /// @dev Slots a draw must skip, ascending, with their weight intervals in the tree.
    struct Excluded {
        uint256[] slots;
        uint256[] starts;
        uint256[] weights;
        uint256 n;
        uint256 weight; // sum of `weights`
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
    /// @notice Seconds between an unstake request and the withdrawal (default 7 days, 1 to 60 days).
    uint64 public verifierUnbondingPeriod = 7 days;
    /// @notice Verifiers registered so far (slots are never reused).
    uint32 public verifierCount;

    mapping(address => Verifier) private _verifiers;
    mapping(uint256 => address) public verifierAtSlot;
    SortitionTree.Tree private _tree;

    /// @notice Blocks between a draw's request and the block whose hash decides it (default 2, 1 to 64).
    uint64 public drawDelay = 2;
    /// @notice Queue positions: entries `queueHead` to `queueTail - 1` wait to be processed.
    uint64 public queueHead;
    uint64 public queueTail;
    mapping(uint256 => Entry) private _queue;

    event VerifierRegistered(address indexed verifier, uint256 slot);
    event VerifierStaked(address indexed verifier, uint256 amount, uint256 totalStaked);
    event VerifierUnstakeRequested(address indexed verifier, uint256 amount, uint256 totalUnbonding, uint256 unbondingEnd);
    event VerifierUnstaked(address indexed verifier, uint256 amount);
    event VerifierSlashed(address indexed verifier, uint256 amount, address indexed recipient);
    /// @notice A draw was queued (or given a new target after its block left the hash window).
    event DrawRequested(uint256 indexed jobId, EntryKind kind, uint256 targetBlock, uint256 position);
    /// @notice A stake change waits behind queued draws.
    event StakeChangeQueued(address indexed verifier, bool added, uint256 amount, uint256 position);

    error AlreadyVerifier(address account);
    error NotVerifier(address account);
    error VerifierCapacityReached(uint256 capacity);
    error NotEnoughActiveStake(uint256 have, uint256 need);
    error VerifierUnbondingNotOver(uint256 unbondingEnd);
    error NothingToWithdraw();
    error ZeroAmount();
    error NothingQueued();
    error DrawNotReady(uint256 jobId, uint256 targetBlock);

    constructor(IComputeToken token_) {
        if (address(token_) == address(0)) revert ZeroAddress();
        token = token_;
    }

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

    /// @notice Adds `amount` CMP (approved to this contract) to the caller's verifier stake.
    function stakeAsVerifier(uint256 amount) external whenNotPaused nonReentrant {
        if (amount == 0) revert ZeroAmount();
        Verifier storage v = _verifiers[msg.sender];
        if (v.slot == 0) revert NotVerifier(msg.sender);
        uint128 total = v.staked + amount.toUint128();
        v.staked = total;
        _changeWeight(msg.sender, v.slot, true, amount);
        _activeStakeChanged(msg.sender);
        IERC20(address(token)).safeTransferFrom(msg.sender, address(this), amount);
        emit VerifierStaked(msg.sender, amount, total);
    }

    /// @notice Starts unbonding `amount` of the caller's active stake; it leaves the draw now,
    ///         stays slashable, and is withdrawable `verifierUnbondingPeriod` after the last request.
    function requestVerifierUnstake(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Verifier storage v = _verifiers[msg.sender];
        uint256 active = uint256(v.staked) - v.unbonding;
        if (amount > active) revert NotEnoughActiveStake(active, amount);
        uint128 total = v.unbonding + uint128(amount);
        uint64 end = uint64(block.timestamp) + verifierUnbondingPeriod;
        (v.unbonding, v.unbondingEnd) = (total, end);
        _changeWeight(msg.sender, v.slot, false, amount);
        _activeStakeChanged(msg.sender);
        emit VerifierUnstakeRequested(msg.sender, amount, total, end);
    }

    /// @notice Withdraws the caller's unbonded verifier stake after the unbonding period.
    function withdrawVerifierStake() external nonReentrant {
        Verifier storage v = _verifiers[msg.sender];
        uint128 amount = v.unbonding;
        if (amount == 0) revert NothingToWithdraw();
        if (block.timestamp < v.unbondingEnd) revert VerifierUnbondingNotOver(v.unbondingEnd);
        (v.unbonding, v.staked) = (0, v.staked - amount);
        IERC20(address(token)).safeTransfer(msg.sender, amount);
        emit VerifierUnstaked(msg.sender, amount);
    }

    /// @notice Processes up to `maxEntries` queued entries in order (anyone; keepers): stake
    ///         changes reach the tree, and each draw whose target block is past is made from that
    ///         block's hash. Stops at the first draw whose target block has not been mined yet;
    ///         a draw whose target left the 256-block window gets a new target `drawDelay`
    ///         blocks ahead and stays first. Reverts `NothingQueued` on an empty queue and
    ///         `DrawNotReady` when the first entry is a draw that cannot be made yet.
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
                bytes32 hash = blockhash(e.targetBlock);
                if (hash == bytes32(0)) {
                    uint64 target = uint64(block.number) + drawDelay; // left the window: draw again later
                    _queue[head].targetBlock = target;
                    emit DrawRequested(e.value, e.kind, target, head);
                    ++processed;
                    break;
                }
                _completeDraw(e.kind, e.value, uint256(keccak256(abi.encode(hash, e.value, e.kind))));
            }
            delete _queue[head];
            ++head;
        }
        queueHead = head;
    }

    /// @notice The queue entry at `position`.
    function queueEntry(uint256 position) external view returns (Entry memory) {
        return _queue[position];
    }

    /// @notice Sets `drawDelay` in blocks within [1, 64].
    function setDrawDelay(uint256 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        drawDelay = uint64(_checked("drawDelay", drawDelay, value, 1, 64));
    }

    /// @notice Sets `verifierUnbondingPeriod` in seconds within [1 day, 60 days].
    function setVerifierUnbondingPeriod(uint256 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        verifierUnbondingPeriod =
            uint64(_checked("verifierUnbondingPeriod", verifierUnbondingPeriod, value, 1 days, 60 days));
    }

    /// @notice A verifier's record.
    function verifierOf(address account) external view returns (Verifier memory) {
        return _verifiers[account];
    }

    /// @notice Stake that takes part in draws (staked − unbonding).
    function activeStakeOf(address account) public view returns (uint256) {
        Verifier storage v = _verifiers[account];
        return uint256(v.staked) - v.unbonding;
    }

    /// @notice Sum of the active stake the tree holds: every verifier's, less the changes still
    ///         queued behind pending draws.
    function totalActiveStake() external view returns (uint256) {
        return _tree.total;
    }

    // ------------------------------------------------------------------ internals

    /// @dev Draws up to `count` distinct verifiers, each with probability proportional to active
    ///      stake among those not yet drawn, never any address of `excluded` (the job's parties,
    ///      the challenger, the verifier): excluded exactly, whatever their stake, so the draw
    ///      comes out short only when fewer than `count` other verifiers have stake. Gas grows
    ///      with `count` and `excluded.length` (both bounded by the caller), never with the
    ///      number of verifiers.
    function _drawMany(uint256 seed, address[] memory excluded, uint256 count)
        internal
        view
        returns (address[] memory drawn)
    {
        // The excluded slots' weight intervals, ascending, each computed once for all the draws.
        Excluded memory x = Excluded(
            new uint256[](excluded.length + count),
            new uint256[](excluded.length + count),
            new uint256[](excluded.length + count),
            0,
            0
        );
        for (uint256 i; i < excluded.length; ++i) {
            uint256 slot = _verifiers[excluded[i]].slot;
            if (slot != 0) _exclude(x, slot);
        }
        drawn = new address[](count);
        uint256 found;
        for (; found < count; ++found) {
            uint256 total = _tree.total - x.weight;
            if (total == 0) break;
            uint256 point = uint256(keccak256(abi.encode(seed, found))) % total;
            uint256 slot = _tree.findSkipping(point, x.starts, x.weights, x.n);
            drawn[found] = verifierAtSlot[slot];
            _exclude(x, slot);
        }
        assembly ("memory-safe") {
            mstore(drawn, found) // shorten to the verifiers found
        }
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
        uint256 weight = _tree.prefix(slot) - start;
        (x.slots[i], x.starts[i], x.weights[i]) = (slot, start, weight);
        x.n += 1;
        x.weight += weight;
    }

    /// @dev Queues a draw for job `jobId`, decided by the hash of the block `drawDelay` ahead.
    function _requestDraw(EntryKind kind, uint256 jobId) internal returns (uint256 targetBlock) {
        targetBlock = block.number + drawDelay;
        uint64 position = queueTail;
        _queue[position] = Entry(kind, 0, uint64(targetBlock), uint128(jobId));
        queueTail = position + 1;
        emit DrawRequested(jobId, kind, targetBlock, position);
    }

    /// @dev The verifier's active stake (`activeStakeOf`) changed: its stake rewards follow it.
    function _activeStakeChanged(address verifier) internal virtual;

    /// @dev Makes a queued draw from `seed` (the target block's hash mixed with the job id).
    function _completeDraw(EntryKind kind, uint256 jobId, uint256 seed) internal virtual;

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

    /// @dev Takes `bps` of the verifier's stake (active first, then unbonding) and sends it to
    ///      `recipient`, or keeps it in this contract when `recipient` is this contract.
    function _slashVerifier(address verifier, uint256 bps, address recipient) internal returns (uint256 amount) {
        Verifier storage v = _verifiers[verifier];
        uint256 staked = v.staked;
        amount = staked * bps / 10_000;
        if (amount == 0) return 0;
        uint256 active = staked - v.unbonding;
        if (amount <= active) {
            _changeWeight(verifier, v.slot, false, amount);
        } else {
            if (active != 0) _changeWeight(verifier, v.slot, false, active);
            v.unbonding -= uint128(amount - active);
        }
        v.staked = uint128(staked - amount);
        _activeStakeChanged(verifier);
        if (recipient != address(this)) IERC20(address(token)).safeTransfer(recipient, amount);
        emit VerifierSlashed(verifier, amount, recipient);
    }
}
