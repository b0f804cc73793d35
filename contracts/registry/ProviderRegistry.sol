// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Governed} from "../common/Governed.sol";
import {IComputeToken} from "../interfaces/IComputeToken.sol";
import {IProviderRegistry} from "../interfaces/IProviderRegistry.sol";
import {IRewardsDistributor} from "../interfaces/IRewardsDistributor.sol";
import {StakingLedger} from "../staking/StakingLedger.sol";

/// @title ProviderRegistry
/// @notice The staking ledger (see `StakingLedger`: all CMP stake of providers and verifiers,
///         one unbonding rule, one slash payout, the verifiers' draws) and the providers'
///         records: registration, hardware capacity per GPU model, collateral locks for the jobs
///         they win, slashing, and reputation.
/// @dev Stake accounting per provider, all in CMP:
///        staked    = everything held for the provider (free + locked + unbonding)
///        locked    = sum of the job locks (collateral + minStakePerGpu * gpus per job, as the
///                    market fixed them when the job was posted; the market derives each lock
///                    from its job, so neither contract keeps a record per lock)
///        unbonding = stake requested out, withdrawable after `unbondingPeriod`
///        free      = staked - locked - unbonding
///      Unbonding stake stays slashable: a slash takes free stake first, then unbonding stake,
///      so requesting an unstake never escapes a pending slash (The Graph's audit H02).
///      Reputation is the Bayesian estimate (c + 1) * 10000 / (c + 3f + 3d + 2) basis points,
///      with c completed leases, f failed leases and d disputes lost: a newcomer starts at 50%,
///      each failure or lost dispute weighs three completions.
///      `pause()` stops registration and new stake; unstaking, withdrawals, capacity changes,
///      deregistration and the market's locks, releases and slashes go on.
contract ProviderRegistry is StakingLedger, IProviderRegistry {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using SafeCast for int256;

    /// @notice May lock and release collateral and record outcomes (the JobMarket).
    bytes32 public constant MARKET_ROLE = keccak256("MARKET_ROLE");
    /// @notice May slash and record outcomes (the JobMarket and the DisputeResolver).
    bytes32 public constant SLASHER_ROLE = keccak256("SLASHER_ROLE");

    uint256 private constant MAX_SLASH_RECIPIENTS = 4;

    struct Provider {
        // slot 0: all that `stake` reads and writes
        uint96 staked;
        int152 rewardDebt; // stake rewards of the active stake already counted (StakingLedger._pending)
        bool registered;
        // slot 1
        uint96 locked;
        uint96 unbonding;
        uint32 unbondingEnd;
        uint24 activeLocks;
        bool initialized; // set by the first registration and never cleared (see `register`)
        // slot 2
        uint32 completed;
        uint32 failed;
        uint32 disputesLost;
        // slot 3
        bytes32 region;
    }

    struct Capacity {
        uint32 gpuCount;
        uint32 vramGb;
        uint32 reserved;
    }

    mapping(address => Provider) private _providers;
    mapping(address => mapping(bytes32 => Capacity)) private _capacity;
    mapping(address => string) public metadataURIOf;

    /// @notice A provider registered (or registered again after deregistering).
    event ProviderRegistered(address indexed provider, string metadataURI, bytes32 region);
    /// @notice A provider left; its free stake started unbonding.
    event ProviderDeregistered(address indexed provider);
    /// @notice A provider set what it offers of one GPU model.
    event CapacitySet(address indexed provider, bytes32 indexed gpuModel, uint32 gpuCount, uint32 vramGb);
    /// @notice Stake added.
    event Staked(address indexed provider, uint256 amount, uint256 totalStaked);
    /// @notice Stake started unbonding; `unbondingEnd` applies to the whole unbonding amount.
    event UnstakeRequested(address indexed provider, uint256 amount, uint256 totalUnbonding, uint256 unbondingEnd);
    /// @notice Unbonded stake withdrawn.
    event Unstaked(address indexed provider, uint256 amount);
    /// @notice Collateral locked and capacity reserved for a job.
    event CollateralLocked(
        address indexed provider, uint256 indexed jobId, bytes32 gpuModel, uint32 gpus, uint256 amount
    );
    /// @notice A job's lock released.
    event CollateralReleased(address indexed provider, uint256 indexed jobId, uint256 amount);
    /// @notice Stake slashed: `slashed` taken (of `requested`), `burned` of it destroyed, the rest paid out.
    event Slashed(address indexed provider, uint256 requested, uint256 slashed, uint256 burned);
    /// @notice Reputation changed.
    event ReputationUpdated(
        address indexed provider, Outcome outcome, uint32 completed, uint32 failed, uint32 disputesLost, uint16 score
    );

    error AlreadyRegistered(address provider);
    error NotRegistered(address provider);
    error InvalidGpuModel();
    error CapacityInUse(uint32 reserved, uint32 requested);
    error InsufficientCapacity(uint32 available, uint32 requested);
    error NotEnoughFreeStake(uint256 have, uint256 need);
    error CollateralStillLocked(uint256 locked, uint32 activeLocks);
    error NoCollateralLocked(address provider, uint256 jobId);
    error TooManySlashRecipients(uint256 count);
    error LengthMismatch();

    /// @param admin Governance.
    /// @param token_ CMP.
    /// @param rewards_ The rewards distributor whose stake share the ledger accrues (zero: none).
    constructor(address admin, IComputeToken token_, IRewardsDistributor rewards_)
        Governed(admin)
        StakingLedger(token_, rewards_)
    {}

    // ------------------------------------------------------------------ providers

    /// @notice Registers the caller as a provider.
    /// @param metadataURI Where the provider describes itself (endpoint, hardware, contact).
    /// @param region Region code, e.g. "eu-west" as bytes32.
    function register(string calldata metadataURI, bytes32 region) external whenNotPaused {
        Provider storage p = _providers[msg.sender];
        if (p.registered) revert AlreadyRegistered(msg.sender);
        p.registered = true;
        // Both hot slots of the record hold a nonzero value from here on (as OpenZeppelin's
        // ReentrancyGuard keeps its status nonzero): the first stake, unstake request and lock
        // then write a used slot (2,900 gas) instead of a fresh one (20,000), paid once here.
        p.initialized = true;
        p.region = region;
        metadataURIOf[msg.sender] = metadataURI;
        emit ProviderRegistered(msg.sender, metadataURI, region);
    }

    /// @notice Sets how many GPUs of `gpuModel` the caller offers and their memory. A count of
    ///         zero withdraws the model; a count below what jobs hold reverts `CapacityInUse`.
    function setCapacity(bytes32 gpuModel, uint32 gpuCount, uint32 vramGb) external {
        if (!_providers[msg.sender].registered) revert NotRegistered(msg.sender);
        if (gpuModel == bytes32(0)) revert InvalidGpuModel();
        Capacity storage c = _capacity[msg.sender][gpuModel];
        if (gpuCount < c.reserved) revert CapacityInUse(c.reserved, gpuCount);
        (c.gpuCount, c.vramGb) = (gpuCount, vramGb);
        emit CapacitySet(msg.sender, gpuModel, gpuCount, vramGb);
    }

    /// @notice Adds `amount` CMP (approved to this contract) to the caller's stake.
    function stake(uint256 amount) external whenNotPaused nonReentrant {
        if (amount == 0) revert ZeroAmount();
        Provider storage p = _providers[msg.sender];
        if (!p.registered) revert NotRegistered(msg.sender);
        uint96 total = p.staked + amount.toUint96();
        (p.staked, p.rewardDebt) = (total, _addAtRisk(p.rewardDebt, amount));
        IERC20(address(token)).safeTransferFrom(msg.sender, address(this), amount);
        emit Staked(msg.sender, amount, total);
    }

    /// @notice Starts unbonding `amount` of the caller's free stake. The whole unbonding amount
    ///         becomes withdrawable `unbondingPeriod` after the latest request, and stays
    ///         slashable until withdrawn.
    function requestUnstake(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Provider storage p = _providers[msg.sender];
        uint256 free = _free(p);
        if (amount > free) revert NotEnoughFreeStake(free, amount);
        _startUnbonding(p, msg.sender, amount);
    }

    /// @notice Withdraws the caller's unbonded stake once the unbonding period is over.
    function withdrawUnstaked() external nonReentrant {
        Provider storage p = _providers[msg.sender];
        uint96 amount = p.unbonding;
        if (amount == 0) revert NothingToWithdraw();
        if (block.timestamp < p.unbondingEnd) revert UnbondingNotOver(p.unbondingEnd);
        p.unbonding = 0;
        p.staked -= amount;
        IERC20(address(token)).safeTransfer(msg.sender, amount);
        emit Unstaked(msg.sender, amount);
    }

    /// @notice Leaves the registry once no job holds the caller's collateral; all free stake
    ///         starts unbonding. The reputation record is kept for a later registration.
    function deregister() external {
        Provider storage p = _providers[msg.sender];
        if (!p.registered) revert NotRegistered(msg.sender);
        if (p.locked != 0 || p.activeLocks != 0) revert CollateralStillLocked(p.locked, p.activeLocks);
        p.registered = false;
        emit ProviderDeregistered(msg.sender);
        uint256 free = _free(p);
        if (free != 0) _startUnbonding(p, msg.sender, free);
    }

    // ------------------------------------------------------------------ market and resolver

    /// @inheritdoc IProviderRegistry
    function lockCollateral(address provider, Lock calldata lock) external onlyRole(MARKET_ROLE) {
        _lock(provider, lock);
    }

    /// @inheritdoc IProviderRegistry
    function releaseCollateral(address provider, Lock calldata lock) external onlyRole(MARKET_ROLE) {
        _release(provider, lock);
    }

    /// @inheritdoc IProviderRegistry
    function replaceLock(address outbid, address bidder, Lock calldata lock) external onlyRole(MARKET_ROLE) {
        if (outbid != address(0)) _release(outbid, lock);
        _lock(bidder, lock);
    }

    /// @inheritdoc IProviderRegistry
    function slash(address provider, uint256 amount, address[] calldata recipients, uint256[] calldata amounts)
        external
        onlyRole(SLASHER_ROLE)
        nonReentrant
        returns (uint256 slashed)
    {
        slashed = _slash(provider, amount, recipients, amounts);
    }

    /// @inheritdoc IProviderRegistry
    function closeLock(
        address provider,
        Lock calldata lock,
        Outcome outcome,
        uint256 slashAmount,
        address[] calldata recipients,
        uint256[] calldata amounts
    ) external onlyRole(MARKET_ROLE) nonReentrant returns (uint256 slashed) {
        _release(provider, lock);
        _record(provider, outcome); // effects first: the slash transfers and reports
        if (slashAmount != 0) slashed = _slash(provider, slashAmount, recipients, amounts);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IProviderRegistry
    function profileOf(address provider, bytes32 gpuModel) external view returns (Profile memory profile) {
        Provider storage p = _providers[provider];
        Capacity memory c = _capacity[provider][gpuModel];
        profile = Profile({
            registered: p.registered,
            gpuCount: c.gpuCount,
            vramGb: c.vramGb,
            reputationBps: _score(p.completed, p.failed, p.disputesLost)
        });
    }

    /// @inheritdoc IProviderRegistry
    function regionOf(address provider) external view returns (bytes32) {
        return _providers[provider].region;
    }

    /// @inheritdoc IProviderRegistry
    function reputationOf(address provider) external view returns (uint16) {
        Provider storage p = _providers[provider];
        return _score(p.completed, p.failed, p.disputesLost);
    }

    /// @inheritdoc IProviderRegistry
    function freeStakeOf(address provider) external view returns (uint256) {
        return _free(_providers[provider]);
    }

    /// @inheritdoc IProviderRegistry
    function stakeOf(address provider) external view returns (uint256) {
        return _providers[provider].staked;
    }

    /// @notice The whole record of `provider`.
    function providerOf(address provider) external view returns (Provider memory) {
        return _providers[provider];
    }

    /// @notice What `provider` offers of `gpuModel`, and how much of it jobs hold.
    function capacityOf(address provider, bytes32 gpuModel) external view returns (Capacity memory) {
        return _capacity[provider][gpuModel];
    }

    // ------------------------------------------------------------------ internals

    /// @inheritdoc StakingLedger
    function _providerAtRisk(address account) internal view override returns (uint256 atRisk, int256 debt) {
        Provider storage p = _providers[account];
        uint256 staked = p.staked;
        if (staked == 0) return (0, p.rewardDebt); // no stake: the second slot is not read
        return (staked - p.unbonding, p.rewardDebt);
    }

    /// @inheritdoc StakingLedger
    function _setProviderDebt(address account, int256 debt) internal override {
        _providers[account].rewardDebt = debt.toInt152();
    }

    /// @dev Locks `lock.amount` of free stake and reserves `lock.gpus` of the model's capacity.
    function _lock(address provider, Lock calldata lock) private {
        Provider storage p = _providers[provider];
        if (!p.registered) revert NotRegistered(provider);
        (bytes32 gpuModel, uint32 gpus, uint256 amount) = (lock.gpuModel, lock.gpus, lock.amount);
        Capacity storage c = _capacity[provider][gpuModel];
        (uint32 offered, uint32 reserved) = (c.gpuCount, c.reserved);
        uint32 available = offered > reserved ? offered - reserved : 0;
        if (gpus == 0 || gpus > available) revert InsufficientCapacity(available, gpus);
        uint256 free = _free(p);
        if (amount > free) revert NotEnoughFreeStake(free, amount);
        c.reserved = reserved + gpus;
        (p.locked, p.activeLocks) = (p.locked + uint96(amount), p.activeLocks + 1); // amount <= free < 2^96
        emit CollateralLocked(provider, lock.jobId, gpuModel, gpus, amount);
    }

    /// @dev Undoes `_lock` with the same `lock`. A release of more stake or GPUs than the
    ///      provider has locked reverts `NoCollateralLocked`: the sums never go below zero.
    function _release(address provider, Lock calldata lock) private {
        Provider storage p = _providers[provider];
        Capacity storage c = _capacity[provider][lock.gpuModel];
        (uint256 amount, uint32 gpus) = (lock.amount, lock.gpus);
        (uint96 locked, uint24 activeLocks, uint32 reserved) = (p.locked, p.activeLocks, c.reserved);
        if (amount > locked || activeLocks == 0 || gpus > reserved) revert NoCollateralLocked(provider, lock.jobId);
        (p.locked, p.activeLocks) = (locked - uint96(amount), activeLocks - 1);
        c.reserved = reserved - gpus;
        emit CollateralReleased(provider, lock.jobId, amount);
    }

    function _slash(address provider, uint256 amount, address[] calldata recipients, uint256[] calldata amounts)
        private
        returns (uint256 slashed)
    {
        if (recipients.length != amounts.length) revert LengthMismatch();
        if (recipients.length > MAX_SLASH_RECIPIENTS) revert TooManySlashRecipients(recipients.length);
        slashed = _take(_providers[provider], amount);
        uint256 burned = _payOut(provider, slashed, recipients, amounts);
        emit Slashed(provider, amount, slashed, burned);
    }

    function _record(address provider, Outcome outcome) private {
        Provider storage p = _providers[provider];
        (uint32 c, uint32 f, uint32 d) = (p.completed, p.failed, p.disputesLost);
        if (outcome == Outcome.Completed) c += 1;
        else if (outcome == Outcome.Failed) f += 1;
        else d += 1;
        (p.completed, p.failed, p.disputesLost) = (c, f, d);
        emit ReputationUpdated(provider, outcome, c, f, d, _score(c, f, d));
    }

    function _free(Provider storage p) private view returns (uint256) {
        return uint256(p.staked) - p.locked - p.unbonding;
    }

    /// @dev Takes up to `amount` of the stake no job has locked: free stake, then unbonding stake.
    /// @dev Takes free stake first, which leaves the stake at risk (the stake that earns the
    ///      stake share), then unbonding stake, which earns nothing already.
    function _take(Provider storage p, uint256 amount) private returns (uint256 taken) {
        (uint256 staked, uint256 locked, uint256 unbonding) = (p.staked, p.locked, p.unbonding);
        uint256 slashable = staked - locked;
        taken = amount < slashable ? amount : slashable;
        uint256 free = slashable - unbonding;
        uint256 fromFree = taken < free ? taken : free;
        if (taken > free) p.unbonding = uint96(unbonding - (taken - free));
        if (fromFree != 0) p.rewardDebt = _removeAtRisk(p.rewardDebt, fromFree);
        p.staked = uint96(staked - taken);
    }

    function _startUnbonding(Provider storage p, address provider, uint256 amount) private {
        uint96 total = p.unbonding + uint96(amount);
        uint32 end = uint32(block.timestamp) + uint32(unbondingPeriod());
        (p.unbonding, p.unbondingEnd) = (total, end);
        p.rewardDebt = _removeAtRisk(p.rewardDebt, amount);
        emit UnstakeRequested(provider, amount, total, end);
    }

    function _score(uint32 c, uint32 f, uint32 d) private pure returns (uint16) {
        return uint16((uint256(c) + 1) * 10_000 / (uint256(c) + 3 * (uint256(f) + d) + 2));
    }
}
