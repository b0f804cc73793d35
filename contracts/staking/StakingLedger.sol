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
///         (`unbondingPeriod`; unbonding stake stays slashable until withdrawn) and one slash
///         payout (ordered payees, the rest burned). This base holds the verifiers' side:
///         registration, stake, the stake-weighted draw in O(log n) and its queue; the
///         `ProviderRegistry` built on it holds the providers' side (records, capacity,
///         collateral locks, reputation).
/// @dev Invariant (tested to the wei): the ledger's CMP balance equals the providers' `staked`
///      plus the verifiers' `staked`; nothing else is held here.
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
    using SortitionTree for SortitionTree.Tree;

    uint256 private constant BPS = 10_000;
    /// @notice Blocks past its target a draw waits for its VRF word before using the target
    ///         block's hash instead (half the 256-block hash window).
    uint256 public constant VRF_PATIENCE = 128;

    struct Verifier {
        uint128 staked; // everything held, unbonding included
        uint128 unbonding;
        uint64 unbondingEnd;
        uint32 slot;
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
    /// @notice Seconds between an unstake request and the withdrawal, for providers and
    ///         verifiers alike (default 7 days, 1 to 60 days); applies to new requests.
    uint64 public unbondingPeriod = 7 days;
    /// @notice Verifiers registered so far (slots are never reused).
    uint32 public verifierCount;
    /// @notice Blocks between a draw's request and the block whose hash decides it (default 2, 1 to 64).
    uint64 public drawDelay = 2;
    /// @notice Queue positions: entries `queueHead` to `queueTail - 1` wait to be processed.
    uint64 public queueHead;
    uint64 public queueTail;

    /// @notice The dispute resolver: requests draws, completes them, slashes verifiers.
    IDrawConsumer public resolver;
    /// @notice Told of every change of an account's active stake (zero: nobody).
    IRewardsDistributor public rewards;
    /// @notice Where draws take their random words from (a VRF adapter); zero: block hashes.
    IRandomnessSource public randomness;

    mapping(address => Verifier) private _verifiers;
    mapping(uint256 => address) public verifierAtSlot;
    SortitionTree.Tree private _tree;
    mapping(uint256 => Entry) private _queue;

    event VerifierRegistered(address indexed verifier, uint256 slot);
    event VerifierStaked(address indexed verifier, uint256 amount, uint256 totalStaked);
    event VerifierUnstakeRequested(address indexed verifier, uint256 amount, uint256 totalUnbonding, uint256 unbondingEnd);
    event VerifierUnstaked(address indexed verifier, uint256 amount);
    event VerifierSlashed(address indexed verifier, uint256 amount, address indexed recipient);
    /// @notice Part of a slash (of a provider or a verifier) paid to a harmed party, a
    ///         challenger, a keeper or the resolver's juror pool.
    event SlashPaid(address indexed account, address indexed recipient, uint256 amount);
    /// @notice A draw was queued (or given a new target after its block left the hash window).
    event DrawRequested(uint256 indexed jobId, EntryKind kind, uint256 targetBlock, uint256 position);
    /// @notice A stake change waits behind queued draws.
    event StakeChangeQueued(address indexed verifier, bool added, uint256 amount, uint256 position);
    /// @notice The rewards distributor changed.
    event RewardsSet(address indexed rewards);
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
    error UnbondingNotOver(uint256 unbondingEnd);
    error NothingToWithdraw();
    error ZeroAmount();
    error NothingQueued();
    error DrawNotReady(uint256 jobId, uint256 targetBlock);
    error NotResolver(address caller);
    error DrawsPending(uint256 queued);

    modifier onlyResolver() {
        if (msg.sender != address(resolver)) revert NotResolver(msg.sender);
        _;
    }

    constructor(IComputeToken token_) {
        if (address(token_) == address(0)) revert ZeroAddress();
        token = token_;
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

    /// @notice Adds `amount` CMP (approved to this contract) to the caller's verifier stake.
    function stakeAsVerifier(uint256 amount) external whenNotPaused nonReentrant {
        if (amount == 0) revert ZeroAmount();
        Verifier storage v = _verifiers[msg.sender];
        if (v.slot == 0) revert NotVerifier(msg.sender);
        uint128 total = v.staked + amount.toUint128();
        v.staked = total;
        _changeWeight(msg.sender, v.slot, true, amount);
        _verifierStakeChanged(msg.sender, v);
        IERC20(address(token)).safeTransferFrom(msg.sender, address(this), amount);
        emit VerifierStaked(msg.sender, amount, total);
    }

    /// @notice Starts unbonding `amount` of the caller's active verifier stake; it leaves the
    ///         draw now, stays slashable, and is withdrawable `unbondingPeriod` after the last
    ///         request.
    function requestVerifierUnstake(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Verifier storage v = _verifiers[msg.sender];
        uint256 active = uint256(v.staked) - v.unbonding;
        if (amount > active) revert NotEnoughActiveStake(active, amount);
        uint128 total = v.unbonding + uint128(amount);
        uint64 end = uint64(block.timestamp) + unbondingPeriod;
        (v.unbonding, v.unbondingEnd) = (total, end);
        _changeWeight(msg.sender, v.slot, false, amount);
        _verifierStakeChanged(msg.sender, v);
        emit VerifierUnstakeRequested(msg.sender, amount, total, end);
    }

    /// @notice Withdraws the caller's unbonded verifier stake after the unbonding period.
    function withdrawVerifierStake() external nonReentrant {
        Verifier storage v = _verifiers[msg.sender];
        uint128 amount = v.unbonding;
        if (amount == 0) revert NothingToWithdraw();
        if (block.timestamp < v.unbondingEnd) revert UnbondingNotOver(v.unbondingEnd);
        (v.unbonding, v.staked) = (0, v.staked - amount);
        IERC20(address(token)).safeTransfer(msg.sender, amount);
        emit VerifierUnstaked(msg.sender, amount);
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

    /// @inheritdoc IStakingLedger
    function slashVerifier(address verifier, uint256 bps, address to)
        external
        onlyResolver
        nonReentrant
        returns (uint256 amount)
    {
        Verifier storage v = _verifiers[verifier];
        uint256 staked = v.staked;
        amount = staked * bps / BPS;
        if (amount == 0) return 0;
        uint256 active = staked - v.unbonding;
        if (amount <= active) {
            _changeWeight(verifier, v.slot, false, amount);
        } else {
            if (active != 0) _changeWeight(verifier, v.slot, false, active);
            v.unbonding -= uint128(amount - active);
        }
        v.staked = uint128(staked - amount);
        _verifierStakeChanged(verifier, v);
        emit VerifierSlashed(verifier, amount, to);
        address[] memory recipients = new address[](1);
        uint256[] memory amounts = new uint256[](1);
        (recipients[0], amounts[0]) = (to, amount);
        _payOut(verifier, amount, recipients, amounts);
    }

    // ------------------------------------------------------------------ views

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
        unbondingPeriod = uint64(_checked("unbondingPeriod", unbondingPeriod, value, above, 60 days));
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

    /// @notice Sets the rewards distributor told of stake changes (zero to stop telling).
    function setRewards(IRewardsDistributor value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        rewards = value;
        emit RewardsSet(address(value));
    }

    // ------------------------------------------------------------------ internals

    /// @dev Pays the recipients in order, each up to its amount, and burns what is left: the
    ///      one slash payout of the ledger, for providers and verifiers.
    function _payOut(address account, uint256 total, address[] memory recipients, uint256[] memory amounts)
        internal
        returns (uint256 burned)
    {
        burned = total;
        IERC20 cmp = IERC20(address(token));
        for (uint256 i; i < recipients.length && burned != 0; ++i) {
            uint256 pay = amounts[i] < burned ? amounts[i] : burned;
            if (pay == 0 || recipients[i] == address(0)) continue;
            burned -= pay;
            cmp.safeTransfer(recipients[i], pay);
            emit SlashPaid(account, recipients[i], pay);
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

    /// @dev Tells the rewards distributor a verifier's active stake, which earns the stake share.
    function _verifierStakeChanged(address verifier, Verifier storage v) private {
        IRewardsDistributor r = rewards;
        if (address(r) != address(0)) r.verifierStakeChanged(verifier, uint256(v.staked) - v.unbonding);
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
