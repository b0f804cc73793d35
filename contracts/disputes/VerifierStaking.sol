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
///      Randomness comes from `block.prevrandao` mixed with the job id and a counter, in the
///      transaction that asks for the draw: its sender can still choose the draw (revert unless
///      it suits, or wait for a suitable block). Delayed draws completed from a later block's
///      hash are the next step (docs/disputes.md, "Randomness, honestly").
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

    /// @notice The staked token (CMP).
    IComputeToken public immutable token;
    /// @notice Seconds between an unstake request and the withdrawal (default 7 days, 1 to 60 days).
    uint64 public verifierUnbondingPeriod = 7 days;
    /// @notice Verifiers registered so far (slots are never reused).
    uint32 public verifierCount;

    mapping(address => Verifier) private _verifiers;
    mapping(uint256 => address) public verifierAtSlot;
    SortitionTree.Tree private _tree;
    uint256 private _drawNonce;

    event VerifierRegistered(address indexed verifier, uint256 slot);
    event VerifierStaked(address indexed verifier, uint256 amount, uint256 totalStaked);
    event VerifierUnstakeRequested(address indexed verifier, uint256 amount, uint256 totalUnbonding, uint256 unbondingEnd);
    event VerifierUnstaked(address indexed verifier, uint256 amount);
    event VerifierSlashed(address indexed verifier, uint256 amount, address indexed recipient);

    error AlreadyVerifier(address account);
    error NotVerifier(address account);
    error VerifierCapacityReached(uint256 capacity);
    error NotEnoughActiveStake(uint256 have, uint256 need);
    error VerifierUnbondingNotOver(uint256 unbondingEnd);
    error NothingToWithdraw();
    error ZeroAmount();

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
        _tree.add(v.slot, amount);
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
        _tree.sub(v.slot, amount);
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

    /// @notice Sum of all verifiers' active stake.
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
    function _drawMany(uint256 jobId, address[] memory excluded, uint256 count)
        internal
        returns (address[] memory drawn)
    {
        uint256[] memory slots = new uint256[](excluded.length + count);
        uint256 n;
        uint256 excludedWeight;
        for (uint256 i; i < excluded.length; ++i) {
            uint256 slot = _verifiers[excluded[i]].slot;
            if (slot != 0 && _insertSorted(slots, n, slot)) {
                ++n;
                excludedWeight += _tree.weightOf(slot);
            }
        }
        drawn = new address[](count);
        uint256 seed = uint256(keccak256(abi.encode(block.prevrandao, jobId, ++_drawNonce)));
        uint256 found;
        for (; found < count; ++found) {
            uint256 total = _tree.total - excludedWeight;
            if (total == 0) break;
            uint256 point = uint256(keccak256(abi.encode(seed, found))) % total;
            uint256 slot = _tree.findExcluding(point, slots, n);
            drawn[found] = verifierAtSlot[slot];
            _insertSorted(slots, n++, slot);
            excludedWeight += _tree.weightOf(slot);
        }
        assembly ("memory-safe") {
            mstore(drawn, found) // shorten to the verifiers found
        }
    }

    /// @dev Inserts `slot` into the ascending first `n` entries of `slots` (which has room);
    ///      false when it is already there.
    function _insertSorted(uint256[] memory slots, uint256 n, uint256 slot) private pure returns (bool) {
        uint256 i = n;
        while (i != 0 && slots[i - 1] > slot) {
            slots[i] = slots[i - 1];
            --i;
        }
        if (i != 0 && slots[i - 1] == slot) {
            for (uint256 j = i; j < n; ++j) slots[j] = slots[j + 1]; // undo the shift
            return false;
        }
        slots[i] = slot;
        return true;
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
            _tree.sub(v.slot, amount);
        } else {
            if (active != 0) _tree.sub(v.slot, active);
            v.unbonding -= uint128(amount - active);
        }
        v.staked = uint128(staked - amount);
        if (recipient != address(this)) IERC20(address(token)).safeTransfer(recipient, amount);
        emit VerifierSlashed(verifier, amount, recipient);
    }
}
