// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IRewardsDistributor} from "../../../contracts/interfaces/IRewardsDistributor.sol";
import {IStakingLedger} from "../../../contracts/interfaces/IStakingLedger.sol";

/// @title MockRewards
/// @notice A rewards distributor with a fixed stake-share schedule, for the ledger's stake-reward
///         accumulator. Epoch e covers [genesis + e·EPOCH, genesis + (e+1)·EPOCH) (EPOCH = 1 day).
///         Its stake share is `shareOf(e)` = (BASE >> (e / HALVING)) · W[e % 5], W = (3, 1, 4, 0, 2):
///         it differs from epoch to epoch (one epoch in five releases nothing) and halves every
///         HALVING = 90 epochs. BASE is not a multiple of EPOCH, so the per-second rate rounds.
///         As in the real distributor, the share is released linearly within its epoch:
///         R(t) = Σ_{k<e} shareOf(k) + shareOf(e)·(t − start of e)/EPOCH (rounded down), and
///         `stakeReleased(t0, t1)` = R(t1) − R(t0), exact for any t0 ≤ t1 (partial epochs pro rata);
///         `stakeRateAt(t)` = floor(shareOf(e)/EPOCH) for the epoch e containing t.
///         `take` plays `claim`: it calls `takeStakeRewards` as the rewards address and sums what
///         was taken (the minting is left out).
///         `setFault` makes the schedule's two functions misbehave, as a broken or malicious
///         distributor would (see `Fault`); `released` and `releasedBy` always give the true
///         schedule, for the tests' ghosts.
contract MockRewards is IRewardsDistributor {
    /// @notice How `stakeRateAt` and `stakeReleased` misbehave. `None`: they follow the schedule.
    ///         `Revert`: both revert. `RevertReleased`: only `stakeReleased` reverts. The next three
    ///         answer nonsense the ledger must refuse: `StartAfter` an epoch starting after `t`,
    ///         `EndNotAfter` an epoch ending at `t`, `HugeRate` a rate of 2^128 wei per second.
    ///         `MaxRate` answers 2^128 − 1 wei per second, which the ledger accepts (its
    ///         accumulator then saturates): only for a scripted test, never in the fuzzer's.
    enum Fault {
        None,
        Revert,
        RevertReleased,
        StartAfter,
        EndNotAfter,
        HugeRate,
        MaxRate
    }


    uint256 public constant EPOCH = 1 days;
    uint256 public constant HALVING = 90;
    /// @notice Share of a weight-1 epoch in the first halving block: 1,000,000 CMP and 12,345 wei.
    uint256 public constant BASE = 1_000_000 ether + 12_345;

    /// @notice Start of epoch 0.
    uint256 public immutable genesis;
    address public immutable deployer;
    /// @notice The staking ledger whose stake rewards `take` takes (set once).
    IStakingLedger public ledger;
    /// @notice Who may set `fault` besides the deployer (the handler).
    address public operator;
    /// @notice How the schedule's functions misbehave now.
    Fault public fault;

    /// @notice CMP taken from the ledger, in all and per account, and the number of takes.
    uint256 public totalTaken;
    mapping(address => uint256) public takenBy;
    uint256 public takes;

    /// @notice `setFault(Revert)` (and `RevertReleased`, for `stakeReleased`).
    error Unavailable();

    /// @dev R at the start of halving block j: `_blockStart[j]`, for every block whose base is
    ///      nonzero, and one more (everything ever released).
    uint256[] private _blockStart;

    constructor(uint256 genesis_) {
        genesis = genesis_;
        deployer = msg.sender;
        uint256 sum;
        _blockStart.push(0);
        for (uint256 j; BASE >> j != 0; ++j) {
            sum += (BASE >> j) * 10 * (HALVING / 5); // a block: HALVING/5 cycles of W, each summing 10
            _blockStart.push(sum);
        }
    }

    /// @notice Sets the ledger (once, by the deployer).
    function setLedger(IStakingLedger value) external {
        require(msg.sender == deployer && address(ledger) == address(0), "MockRewards: ledger set");
        ledger = value;
    }

    /// @notice Lets `value` set the fault (by the deployer).
    function setOperator(address value) external {
        require(msg.sender == deployer, "MockRewards: not deployer");
        operator = value;
    }

    /// @notice Makes `stakeRateAt` and `stakeReleased` misbehave as `value` says (`None`: not at all).
    function setFault(Fault value) external {
        require(msg.sender == deployer || msg.sender == operator, "MockRewards: not allowed");
        fault = value;
    }

    /// @notice Whether the ledger must write off the stake share released from `from` to `t` if
    ///         it brings its accumulator to `t` now (`from` being the later of its last update and
    ///         the end of the epoch whose rate it cached, and `t` > `from`): the distributor reverts
    ///         or answers nonsense, or only `stakeReleased` reverts and the ledger needs it (the
    ///         epoch containing `t` starts after `from`).
    function losesRelease(uint256 from, uint256 t) external view returns (bool) {
        Fault f = fault;
        if (f == Fault.None || f == Fault.MaxRate) return false;
        if (f == Fault.RevertReleased) return _epochStart(t) > from;
        return true;
    }

    /// @notice Takes `account`'s stake rewards from the ledger as the rewards distributor.
    function take(address account) external returns (uint256 amount) {
        amount = ledger.takeStakeRewards(account);
        totalTaken += amount;
        takenBy[account] += amount;
        ++takes;
    }

    /// @inheritdoc IRewardsDistributor
    function recordWork(uint256, address, uint256, uint256, bool) external {}

    /// @inheritdoc IRewardsDistributor
    function recordVerification(uint256, address) external {}

    /// @inheritdoc IRewardsDistributor
    function stakeRateAt(uint256 t) external view returns (uint256 perSecond, uint256 epochStart, uint256 epochEnd) {
        Fault f = fault;
        if (f == Fault.Revert) revert Unavailable();
        uint256 epoch = t < genesis ? 0 : (t - genesis) / EPOCH;
        epochStart = genesis + epoch * EPOCH;
        epochEnd = epochStart + EPOCH;
        perSecond = shareOf(epoch) / EPOCH;
        if (f == Fault.StartAfter) epochStart = t + 1;
        else if (f == Fault.EndNotAfter) epochEnd = t;
        else if (f == Fault.HugeRate) perSecond = 1 << 128;
        else if (f == Fault.MaxRate) perSecond = type(uint128).max;
    }

    /// @inheritdoc IRewardsDistributor
    function stakeReleased(uint256 t0, uint256 t1) external view returns (uint256) {
        Fault f = fault;
        if (f == Fault.Revert || f == Fault.RevertReleased) revert Unavailable();
        return released(t0, t1);
    }

    /// @notice The stake share released from `t0` to `t1`: R(t1) − R(t0) (0 unless t0 < t1),
    ///         whatever the fault.
    function released(uint256 t0, uint256 t1) public view returns (uint256) {
        return t1 > t0 ? releasedBy(t1) - releasedBy(t0) : 0;
    }

    /// @notice Epoch `epoch`'s stake share.
    function shareOf(uint256 epoch) public pure returns (uint256) {
        uint256 j = epoch / HALVING;
        return j >= 256 ? 0 : (BASE >> j) * _weight(epoch % 5);
    }

    /// @notice R(t): the stake share released from genesis to `t` (rounded down).
    function releasedBy(uint256 t) public view returns (uint256) {
        if (t <= genesis) return 0;
        uint256 epoch = (t - genesis) / EPOCH;
        uint256 into = (t - genesis) % EPOCH;
        return _releasedByEpoch(epoch) + shareOf(epoch) * into / EPOCH;
    }

    /// @notice The epoch containing `t` (0 before genesis).
    function epochAt(uint256 t) external view returns (uint256) {
        return t < genesis ? 0 : (t - genesis) / EPOCH;
    }

    /// @notice The end of the epoch containing `t`, as `stakeRateAt` gives it without a fault.
    function epochEndAt(uint256 t) external view returns (uint256) {
        return _epochStart(t) + EPOCH;
    }

    function _epochStart(uint256 t) private view returns (uint256) {
        return t < genesis ? genesis : genesis + (t - genesis) / EPOCH * EPOCH;
    }

    /// @dev Σ_{k < epoch} shareOf(k).
    function _releasedByEpoch(uint256 epoch) private view returns (uint256) {
        uint256 j = epoch / HALVING;
        uint256 last = _blockStart.length - 1; // blocks from `last` on release nothing
        if (j >= last) return _blockStart[last];
        uint256 n = epoch - j * HALVING; // epochs into the block (a block starts at a multiple of 5)
        return _blockStart[j] + (BASE >> j) * ((n / 5) * 10 + _prefix(n % 5));
    }

    /// @dev W = (3, 1, 4, 0, 2).
    function _weight(uint256 i) private pure returns (uint256) {
        return i == 0 ? 3 : i == 1 ? 1 : i == 2 ? 4 : i == 3 ? 0 : 2;
    }

    /// @dev W[0] + … + W[i − 1].
    function _prefix(uint256 i) private pure returns (uint256) {
        return i == 0 ? 0 : i == 1 ? 3 : i == 2 ? 4 : 8;
    }
}
