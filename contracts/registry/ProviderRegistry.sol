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
///         records: registration, the stake provisioned to the market, slashing, and reputation.
/// @dev Stake accounting per provider, all in CMP:
///        staked      = everything held for the provider (free + provisioned + unbonding)
///        provisioned = stake the provider set aside for the market's jobs (The Graph Horizon's
///                      provision): the market keeps it per GPU model in its offers, with the
///                      locks of the jobs bid on (a bid calls this contract only for a job's
///                      region or least reputation)
///        unbonding   = stake requested out, withdrawable after `unbondingPeriod`
///        free        = staked - provisioned - unbonding
///      A slash takes provisioned stake, which the provider can only take back through the
///      market, and the market refuses while a job's lock needs it: requesting an unstake never
///      escapes a pending slash (The Graph's audit H02).
///      Reputation is the Bayesian estimate (c + 1) * 10000 / (c + 3f + 3d + 2) basis points,
///      with c completed leases, f failed leases and d disputes lost: a newcomer starts at 50%,
///      each failure or lost dispute weighs three completions.
///      `pause()` stops registration and new stake; unstaking, withdrawals, deregistration and
///      the market's provisions, outcomes and slashes go on.
contract ProviderRegistry is StakingLedger, IProviderRegistry {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using SafeCast for int256;

    /// @notice May move provisions, slash them and record outcomes (the JobMarket).
    bytes32 public constant MARKET_ROLE = keccak256("MARKET_ROLE");

    uint256 private constant MAX_SLASH_RECIPIENTS = 4;

    struct Provider {
        // slot 0: all that `stake` reads and writes
        uint96 staked;
        int152 rewardDebt; // stake rewards of the active stake already counted (StakingLedger._pending)
        bool registered;
        // slot 1: all that an outcome (`recordOutcome`, with its slash) reads and writes besides slot 0
        uint96 provisioned; // the sum of the provider's offers' provisions in the market
        uint32 completed;
        uint32 failed;
        uint32 disputesLost;
        bool initialized; // set by the first registration and never cleared (see `register`)
        // slot 2
        uint96 unbonding;
        uint32 unbondingEnd;
        // slot 3
        bytes32 region;
    }

    mapping(address => Provider) private _providers;
    mapping(address => string) public metadataURIOf;

    /// @notice A provider registered (or registered again after deregistering).
    event ProviderRegistered(address indexed provider, string metadataURI, bytes32 region);
    /// @notice A provider left; its free stake started unbonding.
    event ProviderDeregistered(address indexed provider);
    /// @notice Stake added.
    event Staked(address indexed provider, uint256 amount, uint256 totalStaked);
    /// @notice Stake started unbonding; `unbondingEnd` applies to the whole unbonding amount.
    event UnstakeRequested(address indexed provider, uint256 amount, uint256 totalUnbonding, uint256 unbondingEnd);
    /// @notice Unbonded stake withdrawn.
    event Unstaked(address indexed provider, uint256 amount);
    /// @notice The market moved `delta` of the provider's stake into (or out of) its provision.
    event Provisioned(address indexed provider, int256 delta, uint256 provisioned);
    /// @notice Provisioned stake slashed: `amount` taken, `burned` of it destroyed, the rest paid out.
    event Slashed(address indexed provider, uint256 amount, uint256 burned);
    /// @notice Reputation changed.
    event ReputationUpdated(
        address indexed provider, Outcome outcome, uint32 completed, uint32 failed, uint32 disputesLost, uint16 score
    );

    error AlreadyRegistered(address provider);
    error NotRegistered(address provider);
    error NotEnoughFreeStake(uint256 have, uint256 need);
    error StillProvisioned(uint256 provisioned);
    error ProvisionExceeded(uint256 provisioned, uint256 requested);
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
        // ReentrancyGuard keeps its status nonzero): the first stake, provision and outcome
        // then write a used slot (2,900 gas) instead of a fresh one (20,000), paid once here.
        p.initialized = true;
        p.region = region;
        metadataURIOf[msg.sender] = metadataURI;
        emit ProviderRegistered(msg.sender, metadataURI, region);
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

    /// @notice Starts unbonding `amount` of the caller's free stake (never provisioned stake,
    ///         the only stake a slash takes, so no pending slash is escaped). The whole unbonding
    ///         amount becomes withdrawable `unbondingPeriod` after the latest request.
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

    /// @notice Leaves the registry once the caller has taken its provision back from the market
    ///         (`JobMarket.setOffer`, which no job's lock lets go below what the jobs hold); all
    ///         free stake starts unbonding. The reputation record is kept for a later registration.
    function deregister() external {
        Provider storage p = _providers[msg.sender];
        if (!p.registered) revert NotRegistered(msg.sender);
        if (p.provisioned != 0) revert StillProvisioned(p.provisioned);
        p.registered = false;
        emit ProviderDeregistered(msg.sender);
        uint256 free = _free(p);
        if (free != 0) _startUnbonding(p, msg.sender, free);
    }

    // ------------------------------------------------------------------ market

    /// @inheritdoc IProviderRegistry
    function provision(address provider, int256 delta) external onlyRole(MARKET_ROLE) {
        Provider storage p = _providers[provider];
        uint256 total = p.provisioned;
        if (delta > 0) {
            if (!p.registered) revert NotRegistered(provider);
            uint256 free = _free(p);
            if (uint256(delta) > free) revert NotEnoughFreeStake(free, uint256(delta));
            total += uint256(delta); // at most staked < 2^96
        } else {
            uint256 back = uint256(-delta); // -type(int256).min overflows: a checked revert
            if (back > total) revert ProvisionExceeded(total, back);
            total -= back;
        }
        p.provisioned = uint96(total);
        emit Provisioned(provider, delta, total);
    }

    /// @inheritdoc IProviderRegistry
    function slash(address provider, uint256 amount, address[] calldata recipients, uint256[] calldata amounts)
        external
        onlyRole(MARKET_ROLE)
        nonReentrant
    {
        _slash(provider, amount, recipients, amounts, false);
    }

    /// @inheritdoc IProviderRegistry
    function recordOutcome(
        address provider,
        Outcome outcome,
        uint256 slashAmount,
        address[] calldata recipients,
        uint256[] calldata amounts
    ) external onlyRole(MARKET_ROLE) nonReentrant {
        _record(provider, outcome); // effects first: the slash transfers and reports
        // A failed lease's payees (the customer, the keeper) are credited, to claim later: the
        // failure path is a keeper's, and crediting is what keeps it at its gas target.
        if (slashAmount != 0) _slash(provider, slashAmount, recipients, amounts, outcome == Outcome.Failed);
    }

    // ------------------------------------------------------------------ views

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

    /// @dev Takes `amount` of the provision: stake at risk (it earns the stake share), so the
    ///      reward debt moves with it. The market slashes at most what a job locked of an offer,
    ///      which its provision covers, so `ProvisionExceeded` means the two books disagree.
    function _slash(
        address provider,
        uint256 amount,
        address[] calldata recipients,
        uint256[] calldata amounts,
        bool credit
    ) private {
        if (recipients.length != amounts.length) revert LengthMismatch();
        if (recipients.length > MAX_SLASH_RECIPIENTS) revert TooManySlashRecipients(recipients.length);
        Provider storage p = _providers[provider];
        uint256 provisioned = p.provisioned;
        if (amount > provisioned) revert ProvisionExceeded(provisioned, amount);
        p.provisioned = uint96(provisioned - amount);
        (p.staked, p.rewardDebt) = (uint96(p.staked - amount), _removeAtRisk(p.rewardDebt, amount));
        uint256 burned = _payOut(provider, amount, recipients, amounts, credit);
        emit Slashed(provider, amount, burned);
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
        return uint256(p.staked) - p.provisioned - p.unbonding;
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
