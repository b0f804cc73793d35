// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ComputeToken} from "../../../contracts/token/ComputeToken.sol";
import {ProviderRegistry} from "../../../contracts/registry/ProviderRegistry.sol";
import {StakingLedger} from "../../../contracts/staking/StakingLedger.sol";
import {IStakingLedger} from "../../../contracts/interfaces/IStakingLedger.sol";
import {IProviderRegistry} from "../../../contracts/interfaces/IProviderRegistry.sol";
import {IRandomnessSource} from "../../../contracts/interfaces/IRandomnessSource.sol";
import {Base} from "../utils/Base.sol";
import {MockResolver} from "../mocks/MockResolver.sol";
import {MockRandomness} from "../mocks/MockRandomness.sol";
import {MockRewards} from "../mocks/MockRewards.sol";

/// @title StakingLedgerHandler
/// @notice The only contract the invariant fuzzer calls. It plays every actor of the staking
///         ledger (`ProviderRegistry`): providers, verifiers, the market (MARKET_ROLE and
///         SLASHER_ROLE), the resolver (through `MockResolver`), the VRF (through
///         `MockRandomness`), the rewards distributor (through `MockRewards`: it takes stake
///         rewards, and breaks and mends its schedule), keepers, governance, the clock and strangers. Inputs are bounded so that most calls do something; missing
///         preconditions are set up first (register, add capacity, stake, wait) rather than
///         letting the call revert. Ghost variables record what went in and out of the ledger.
/// @dev Expected reverts (a stranger's privileged call, a stake while paused, a withdrawal
///      before the unbonding end) are made with low-level calls: success is recorded in a ghost
///      flag that an invariant requires to stay false.
///      Every action runs under `accrues`, which follows the stake-reward accumulator: before and
///      after the action it adds to `ghostReleasedAtRisk` the stake share the distributor released
///      since the last checkpoint while the stake at risk was at least 1 CMP, and after the action
///      it checks the reward per stake, and the `pendingStakeRewards` of the accounts the action
///      acted on (all of them when time passed) against their values before (see `_afterAction`).
///      When the action brought the ledger's accumulator forward while the distributor failed,
///      it adds what the ledger had to write off to `ghostWrittenOff` (see `_followUpdate`). To
///      know when the ledger brought its accumulator forward, and to which cached epoch, the
///      handler reads the accumulator's two storage words (`accSlot`, found at deployment).
contract StakingLedgerHandler is Base {
    uint256 internal constant N_PROVIDERS = 4;
    uint256 internal constant N_VERIFIERS = 5; // the last verifier is also provider 0
    uint256 internal constant MAX_STAKE = 1_000_000 ether;
    uint256 internal constant MAX_COLLATERAL = 50_000 ether;
    uint256 internal constant MAX_GPUS = 8;
    uint256 internal constant MIN_STAKE_AT_RISK = 1 ether; // the ledger's MIN_STAKE_AT_RISK
    /// @dev The least active stake a verifier may hold, other than none (the ledger's
    ///      `MIN_VERIFIER_STAKE`, 1,000 CMP: the constructor checks the ledger agrees).
    uint256 internal constant MIN_VERIFIER_STAKE = 1_000 ether;
    /// @dev CMP the market locks per GPU beside a job's collateral (the JobMarket's default
    ///      `minStakePerGpu`): the handler, as the market, adds it to form each lock's amount.
    uint256 internal constant MIN_STAKE_PER_GPU = 100 ether;

    ProviderRegistry public immutable registry;
    ComputeToken public immutable token;
    MockResolver public immutable resolver;
    /// @notice The randomness source governance may set on the ledger (`switchRandomness`).
    MockRandomness public immutable vrf;
    /// @notice The ledger's rewards distributor (immutable in the ledger): schedule and takes.
    MockRewards public immutable rewards;
    /// @notice When the ledger was deployed (the handler is deployed in the same block).
    uint256 public immutable deployedAt;
    uint256 internal constant PATIENCE = 128; // the ledger's VRF_PATIENCE
    address public immutable gov;
    address public immutable market;
    address public immutable keeper = address(0xBEEF);

    address[] internal _providers;
    address[] internal _verifiers;
    address[] internal _accounts; // every provider and verifier once (provider 0 is also a verifier)
    address[] internal _payees; // slash recipients; address(0) among them (skipped by the ledger)
    bytes32[2] internal _models = [bytes32("H100"), bytes32("A100")];

    /// @notice A collateral lock the market holds: what its job fixed (the registry keeps no
    ///         record per lock, only each provider's sums; the market derives the
    ///         `IProviderRegistry.Lock` from its job, as the handler does from this, `_lockArgs`).
    ///         `provider` is the job's current holder (`replaceLock` moves it).
    struct LiveLock {
        address provider;
        uint256 jobId;
        uint256 amount;
        uint32 gpus;
        bytes32 model;
    }

    LiveLock[] internal _locks;
    uint256 internal _nextJobId = 1;
    uint256 internal _nextDrawJobId = 1;

    // ------------------------------------------------------------------ ghosts

    /// @notice CMP the actors moved into the ledger (`stake`, `stakeAsVerifier`).
    uint256 public ghostDeposited;
    /// @notice CMP the ledger sent back to actors (`withdrawUnstaked`, `withdrawVerifierStake`).
    uint256 public ghostWithdrawn;
    /// @notice CMP of slashes the ledger paid to payees.
    uint256 public ghostSlashPaid;
    /// @notice CMP of slashes the ledger burned (slashed − paid).
    uint256 public ghostBurned;
    /// @notice Sum of the live locks per provider, count of them, and GPUs reserved per model.
    mapping(address => uint256) public ghostLocked;
    mapping(address => uint256) public ghostLockCount;
    mapping(address => mapping(bytes32 => uint256)) public ghostReserved;
    /// @notice A stranger's privileged call succeeded (and which selector).
    bool public ghostStrangerSucceeded;
    bytes4 public ghostStrangerSelector;
    uint256 public strangerCalls;
    /// @notice Operations whose effect differed from the specification (amount slashed, paid,
    ///         burned, locked, withdrawn), or forbidden operations that succeeded (stake while
    ///         paused, withdrawal before the unbonding end).
    uint256 public ghostSpecViolations;
    string public lastSpecViolation;
    /// @notice Whether the last change of a verifier's active stake was a slash that left it
    ///         between 0 and `MIN_VERIFIER_STAKE` (exclusive): the only way a verifier may hold
    ///         less than the minimum but some (invariant (l)). A stake or an unstake request,
    ///         which must leave none or at least the minimum, clears it.
    mapping(address => bool) public ghostSlashedBelowMinimum;
    /// @notice Outcomes recorded per provider (only `closeLock` records one): completed,
    ///         failed, disputes lost; `providerOf`'s counters must equal them (invariant (j)).
    mapping(address => uint256) public ghostCompleted;
    mapping(address => uint256) public ghostFailed;
    mapping(address => uint256) public ghostDisputesLost;
    /// @notice Stake share the distributor released since the ledger's deployment while the stake
    ///         at risk (Σ active stake of providers and verifiers) was at least 1 CMP, up to
    ///         `lastCheckpoint`: all the ledger may ever hand out for that time.
    uint256 public ghostReleasedAtRisk;
    uint256 public lastCheckpoint;
    /// @notice Handler actions run, and the largest stake at risk seen (they bound the rounding
    ///         the accumulator may lose, see `roundingAllowance`).
    uint256 public ghostActions;
    uint256 public ghostMaxStakeAtRisk;
    /// @notice Stake rewards taken, per account (the distributor's `takenBy` must agree).
    mapping(address => uint256) public ghostTaken;
    /// @notice Stake share released while at risk that the ledger wrote off: released from the
    ///         later of its accumulator's last update and the end of its cached epoch to an update
    ///         made while the distributor reverted or answered nonsense (`MockRewards.losesRelease`).
    uint256 public ghostWrittenOff;
    /// @notice The storage slot of the ledger's `Accumulator` (the cached `StakeRate` is the next one).
    uint256 public immutable accSlot;
    /// @dev Set by `rewardsFault` for `_afterAction`: the views of pending stake rewards may
    ///      fall (-1: the fault now hides part of the release) or grow (+1: it shows it again).
    int256 internal _viewShift;
    /// @dev The accounts the current action acts on and their pending stake rewards before it
    ///      (`_touch`), and what the action took, and from whom (`_afterAction` allows for it).
    address[] internal _touched;
    uint256[] internal _touchedPending;
    address internal _takenFrom;
    uint256 internal _takenNow;
    /// @notice Calls per handler action (diagnostics; forge's metrics table also has them).
    mapping(bytes32 => uint256) public callsOf;
    /// @notice How often the new paths were reached (diagnostics; `test_coverage` reads them).
    mapping(bytes32 => uint256) public reached;

    constructor(ProviderRegistry registry_, ComputeToken token_, address gov_, address market_) {
        require(registry_.MIN_VERIFIER_STAKE() == MIN_VERIFIER_STAKE, "handler: the ledger's MIN_VERIFIER_STAKE");
        registry = registry_;
        token = token_;
        gov = gov_;
        market = market_;
        for (uint256 i; i < N_PROVIDERS; ++i) {
            _providers.push(address(uint160(0x1000 + i)));
        }
        for (uint256 i; i + 1 < N_VERIFIERS; ++i) {
            _verifiers.push(address(uint160(0x2000 + i)));
        }
        _verifiers.push(_providers[0]);
        for (uint256 i; i < N_PROVIDERS; ++i) {
            _accounts.push(_providers[i]);
        }
        for (uint256 i; i + 1 < N_VERIFIERS; ++i) {
            _accounts.push(_verifiers[i]);
        }
        _payees.push(address(0xA11CE));
        _payees.push(address(0xB0B));
        _payees.push(address(0xCA201));
        _payees.push(address(0));
        resolver = new MockResolver(IStakingLedger(address(registry_)), address(this), _verifiers);
        vrf = new MockRandomness(address(registry_), address(this));
        rewards = MockRewards(address(registry_.rewards()));
        deployedAt = block.timestamp;
        lastCheckpoint = block.timestamp;
        // The accumulator at deployment (this block): reward per stake and stake at risk zero,
        // updated now, the default unbonding period; and no rate cached yet.
        uint256 want = (uint256(registry_.unbondingPeriod()) << 224) | (block.timestamp << 192);
        uint256 slot = type(uint256).max;
        for (uint256 i; i < 64; ++i) {
            if (uint256(vm.load(address(registry_), bytes32(i))) == want) {
                slot = i;
                break;
            }
        }
        require(slot != type(uint256).max, "handler: the ledger's accumulator slot not found");
        require(vm.load(address(registry_), bytes32(slot + 1)) == 0, "handler: a rate cached at deployment");
        accSlot = slot;
    }

    /// @dev Checkpoints the stake share released before and after the action, and checks the
    ///      accumulator's effect after it (`_afterAction`).
    modifier accrues() {
        Snapshot memory snap = _beforeAction();
        _;
        _afterAction(snap);
    }

    /// @dev What `_afterAction` compares with: the time and the reward per stake (brought to now)
    ///      before the action; the accumulator as stored (stake at risk, last update) and the
    ///      cached rate; and the release the views left out (`writtenOffNow` − `ghostWrittenOff`).
    struct Snapshot {
        uint256 time;
        uint256 rps;
        uint256 atRisk;
        uint256 updatedAt;
        uint256 perSecond;
        uint256 until;
        uint256 hidden;
    }

    // ================================================================== providers

    /// @notice A provider registers (nothing when it already is, or while paused: then the call must revert).
    function register(uint256 actorSeed, bytes32 region) external accrues {
        address p = _provider(actorSeed);
        callsOf["register"]++;
        if (registry.providerOf(p).registered) return;
        _register(p, region);
    }

    /// @notice A registered provider sets its capacity of one GPU model, never below what jobs hold.
    function setCapacity(uint256 actorSeed, uint256 modelSeed, uint256 count, uint256 vram) external accrues {
        address p = _provider(actorSeed);
        callsOf["setCapacity"]++;
        if (!registry.providerOf(p).registered && !_register(p, "eu-west")) return;
        bytes32 model = _models[modelSeed % 2];
        uint256 reserved = registry.capacityOf(p, model).reserved;
        count = _bound(count, reserved, reserved + 16);
        vm.prank(p);
        registry.setCapacity(model, uint32(count), uint32(_bound(vram, 8, 192)));
    }

    /// @notice A provider stakes `amount` (registering first if needed).
    function stake(uint256 actorSeed, uint256 amount) external accrues {
        address p = _provider(actorSeed);
        callsOf["stake"]++;
        if (!registry.providerOf(p).registered && !_register(p, "eu-west")) return;
        _stakeProvider(p, _bound(amount, 1, MAX_STAKE));
    }

    /// @notice A provider starts unbonding part of its free stake.
    function requestUnstake(uint256 actorSeed, uint256 amount) external accrues {
        address p = _provider(actorSeed);
        callsOf["requestUnstake"]++;
        uint256 free = registry.freeStakeOf(p);
        if (free == 0) return;
        amount = _bound(amount, 1, free);
        ProviderRegistry.Provider memory before = registry.providerOf(p);
        vm.prank(p);
        registry.requestUnstake(amount);
        ProviderRegistry.Provider memory afterwards = registry.providerOf(p);
        if (afterwards.unbonding != before.unbonding + amount || afterwards.staked != before.staked) {
            _violation("requestUnstake moved the wrong amount");
        }
        if (afterwards.unbondingEnd != block.timestamp + registry.unbondingPeriod()) {
            _violation("requestUnstake set the wrong unbonding end");
        }
    }

    /// @notice A provider withdraws its unbonded stake; before the unbonding end it either waits
    ///         (warps to the end) or tries early, which must revert.
    function withdrawUnstaked(uint256 actorSeed, uint256 waitSeed) external accrues {
        address p = _provider(actorSeed);
        callsOf["withdrawUnstaked"]++;
        ProviderRegistry.Provider memory rec = registry.providerOf(p);
        if (rec.unbonding == 0) return;
        if (block.timestamp < rec.unbondingEnd) {
            if (waitSeed % 3 == 0) {
                vm.prank(p);
                (bool ok,) = address(registry).call(abi.encodeCall(ProviderRegistry.withdrawUnstaked, ()));
                if (ok) _violation("provider withdrew before the unbonding end");
                return;
            }
            _touchAll(); // time passes: every account's pending is followed
            vm.warp(rec.unbondingEnd);
        }
        uint256 balanceBefore = token.balanceOf(p);
        vm.prank(p);
        registry.withdrawUnstaked();
        uint256 received = token.balanceOf(p) - balanceBefore;
        if (received != rec.unbonding) _violation("withdrawUnstaked paid the wrong amount");
        ghostWithdrawn += received;
    }

    /// @notice A provider deregisters; with collateral still locked the call must revert.
    function deregister(uint256 actorSeed) external accrues {
        address p = _provider(actorSeed);
        callsOf["deregister"]++;
        ProviderRegistry.Provider memory rec = registry.providerOf(p);
        if (!rec.registered) return;
        if (rec.locked != 0 || rec.activeLocks != 0) {
            vm.prank(p);
            (bool ok,) = address(registry).call(abi.encodeCall(ProviderRegistry.deregister, ()));
            if (ok) _violation("deregistered with collateral locked");
            return;
        }
        uint256 free = registry.freeStakeOf(p);
        vm.prank(p);
        registry.deregister();
        ProviderRegistry.Provider memory afterwards = registry.providerOf(p);
        if (afterwards.registered || afterwards.unbonding != rec.unbonding + free) {
            _violation("deregister did not unbond all free stake");
        }
    }

    // ================================================================== market

    /// @notice The market locks collateral of a provider for a new job (registering the provider,
    ///         adding capacity and stake first when they lack).
    function lockCollateral(uint256 actorSeed, uint256 modelSeed, uint256 gpus, uint256 collateral) external accrues {
        address p = _provider(actorSeed);
        callsOf["lockCollateral"]++;
        _lockNew(p, modelSeed, gpus, collateral);
    }

    /// @dev Locks collateral of `p` for a new job (see `lockCollateral`); returns whether it did
    ///      (not while paused when `p` would have to register or stake first) and the live lock's
    ///      index. The lock's amount is `collateral` plus `MIN_STAKE_PER_GPU` per GPU, as the
    ///      market adds it. `modelSeed` picks the model (bit 0), the call (bit 8: `lockCollateral`,
    ///      or `replaceLock(address(0), p, lock)`, an open auction's first bid) and, one time in
    ///      four when `p` lacks the free stake (bits 16–17), a first try of the lock before `p`
    ///      stakes, which must revert exactly `NotEnoughFreeStake(free, amount)` and change nothing.
    ///      Either call must move `p`'s sums by exactly the lock: `locked` by its amount,
    ///      `activeLocks` by one, the model's `reserved` by its GPUs, and nothing else.
    function _lockNew(address p, uint256 modelSeed, uint256 gpus, uint256 collateral)
        internal
        returns (bool done, uint256 index)
    {
        if (!registry.providerOf(p).registered && !_register(p, "eu-west")) return (false, 0);
        bytes32 model = _models[modelSeed % 2];
        ProviderRegistry.Capacity memory c = registry.capacityOf(p, model);
        if (c.gpuCount <= c.reserved) {
            vm.prank(p);
            registry.setCapacity(model, uint32(c.reserved + _bound(gpus, 1, MAX_GPUS)), 80);
            c = registry.capacityOf(p, model);
        }
        gpus = _bound(gpus, 1, _min(c.gpuCount - c.reserved, MAX_GPUS));
        collateral = _bound(collateral, 0, MAX_COLLATERAL);
        LiveLock memory l = LiveLock(p, _nextJobId, collateral + MIN_STAKE_PER_GPU * gpus, uint32(gpus), model);
        uint256 free = registry.freeStakeOf(p);
        if (l.amount > free) {
            if ((modelSeed >> 16) % 4 == 0) _lockMustRevert(l, free);
            if (registry.paused()) return (false, 0);
            _stakeProvider(p, l.amount - free);
        }
        ++_nextJobId;
        Sums memory before = _sums(p, model);
        vm.prank(market);
        if ((modelSeed >> 8) % 2 == 0) {
            registry.lockCollateral(p, _lockArgs(l));
            _checkSums(p, l, before, 1, true, "lockCollateral moved the sums by other than the lock");
        } else {
            reached["firstBid"]++;
            registry.replaceLock(address(0), p, _lockArgs(l));
            _checkSums(p, l, before, 1, true, "replaceLock (first bid) moved the sums by other than the lock");
        }
        _locks.push(l);
        ghostLocked[p] += l.amount;
        ghostLockCount[p] += 1;
        ghostReserved[p][model] += gpus;
        return (true, _locks.length - 1);
    }

    /// @notice The market releases one of the live locks: the provider's sums must fall by
    ///         exactly the lock. One time in eight it first tries to release more than the lock
    ///         (one wei more than the provider's `locked`, or one GPU more than it reserves of the
    ///         model), which must revert and change nothing. When the release leaves too little
    ///         locked or reserved (or no lock) for the same lock, a second release of it must
    ///         revert too (`NoCollateralLocked`): the registry keeps no record per lock, only sums,
    ///         which never go below zero.
    function releaseCollateral(uint256 lockSeed) external accrues {
        callsOf["releaseCollateral"]++;
        if (_locks.length == 0) return;
        uint256 i = lockSeed % _locks.length;
        LiveLock memory l = _locks[i];
        _touch(l.provider);
        if ((lockSeed >> 128) % 8 == 0) _overReleaseMustRevert(l, lockSeed >> 131);
        Sums memory before = _sums(l.provider, l.model);
        vm.prank(market);
        registry.releaseCollateral(l.provider, _lockArgs(l));
        _checkSums(l.provider, l, before, -1, true, "releaseCollateral moved the sums by other than the lock");
        _removeLock(i);
        if (
            ghostLockCount[l.provider] == 0 || ghostLocked[l.provider] < l.amount
                || ghostReserved[l.provider][l.model] < l.gpus
        ) {
            reached["secondReleaseRefused"]++;
            _releaseMustRevert(l.provider, _lockArgs(l), "a second release of a lock beyond the sums succeeded");
        }
    }

    /// @notice The market's call per new best bid: `replaceLock(outbid, bidder, lock)` moves one
    ///         of the live locks from the provider holding it to a bidder (a random provider: one
    ///         time in four the holder itself, which bids again on its own job). The bidder is set
    ///         up first as `lockCollateral` does (registered, the model's GPUs and the free stake
    ///         the lock needs); when it could not back the lock, one time in four the bid is
    ///         first tried as it is, and must revert and leave both providers' sums as they were.
    ///         Then the outbid provider's sums must fall and the bidder's grow by exactly the lock
    ///         (neither's stake nor unbonding moving); a bid on one's own job changes nothing.
    function replaceLock(uint256 lockSeed, uint256 bidderSeed, uint256 pathSeed) external accrues {
        callsOf["replaceLock"]++;
        if (_locks.length == 0) return;
        uint256 i = lockSeed % _locks.length;
        LiveLock memory l = _locks[i];
        address outbid = l.provider;
        _touch(outbid);
        address bidder = _provider(bidderSeed);
        IProviderRegistry.Lock memory lock = _lockArgs(l);
        if (bidder != outbid && !_canBack(bidder, l) && pathSeed % 4 == 0) {
            reached["replaceLockRefused"]++;
            _replaceLockMustRevert(outbid, bidder, l);
        }
        if (bidder != outbid && !_prepareBidder(bidder, l)) return;
        Sums memory outbidBefore = _sums(outbid, l.model);
        Sums memory bidderBefore = _sums(bidder, l.model);
        vm.prank(market);
        registry.replaceLock(outbid, bidder, lock);
        if (bidder == outbid) {
            reached["replaceLockSelf"]++;
            _checkSums(outbid, l, outbidBefore, 0, true, "replaceLock on one's own lock changed the sums");
            return;
        }
        reached["replaceLock"]++;
        _checkSums(outbid, l, outbidBefore, -1, true, "replaceLock moved the outbid's sums by other than the lock");
        _checkSums(bidder, l, bidderBefore, 1, true, "replaceLock moved the bidder's sums by other than the lock");
        ghostLocked[outbid] -= l.amount;
        ghostLockCount[outbid] -= 1;
        ghostReserved[outbid][l.model] -= l.gpus;
        ghostLocked[bidder] += l.amount;
        ghostLockCount[bidder] += 1;
        ghostReserved[bidder][l.model] += l.gpus;
        _locks[i].provider = bidder;
    }

    /// @notice The market (as slasher) slashes a provider up to `amount`, paying up to four
    ///         ordered payees (address(0) among the candidates) and burning the rest.
    function slashProvider(uint256 actorSeed, uint256 amount, uint256 nRecipients, uint256 paySeed) external accrues {
        address p = _provider(actorSeed);
        callsOf["slashProvider"]++;
        ProviderRegistry.Provider memory rec = registry.providerOf(p);
        // Sometimes more than can be taken, so the cap (staked − locked) is exercised.
        amount = _bound(amount, 0, uint256(rec.staked) + uint256(rec.staked) / 4 + 1);
        (address[] memory recipients, uint256[] memory amounts) = _slashPayees(amount, nRecipients, paySeed);
        uint256 expected = _min(amount, uint256(rec.staked) - rec.locked);
        uint256 paidBefore = _payeeBalances();
        vm.prank(market);
        uint256 slashed = registry.slash(p, amount, recipients, amounts);
        uint256 paid = _payeeBalances() - paidBefore;
        if (slashed != expected) _violation("slash took the wrong amount");
        if (paid != _expectedPayout(slashed, recipients, amounts)) _violation("slash paid the wrong amounts");
        if (paid > slashed) _violation("slash paid more than it took");
        ghostSlashPaid += paid;
        ghostBurned += slashed - paid;
    }

    /// @notice The market settles a new job at once: it locks collateral for it (as
    ///         `lockCollateral`, with no collateral beyond `MIN_STAKE_PER_GPU` per GPU) and closes
    ///         the lock with an outcome and no slash (`closeLock`, the only way to record an
    ///         outcome). The provider's sums must fall back by exactly the lock, nothing be
    ///         slashed, and the outcome counted.
    function settleNewJob(uint256 actorSeed, uint256 modelSeed, uint256 gpus, uint256 outcome) external accrues {
        address p = _provider(actorSeed);
        callsOf["settleNewJob"]++;
        (bool locked, uint256 i) = _lockNew(p, modelSeed, gpus, 0);
        if (!locked) return;
        LiveLock memory l = _locks[i];
        IProviderRegistry.Outcome o = IProviderRegistry.Outcome(outcome % 3);
        Sums memory before = _sums(p, l.model);
        vm.prank(market);
        uint256 slashed = registry.closeLock(p, _lockArgs(l), o, 0, new address[](0), new uint256[](0));
        if (slashed != 0) _violation("closeLock without a slash slashed");
        _checkSums(p, l, before, -1, true, "closeLock moved the sums by other than the lock");
        _removeLock(i);
        _ghostOutcome(p, o);
        _checkOutcomes(p, "closeLock recorded the wrong outcome");
        if (registry.reputationOf(p) > 10_000) _violation("reputation above 100%");
    }

    /// @notice The market closes one of the live locks and, two times in three, slashes (up to
    ///         125% of what is slashable once the lock is released) to up to four ordered payees.
    ///         Half the time through `closeLock` (one call, which also records the job's outcome),
    ///         half through `releaseCollateral` then `slash` (as a cancelled job or an auction
    ///         bond goes: no outcome). Both must have the same effect on stake: the provider's
    ///         `locked`, `activeLocks` and the model's `reserved` down by exactly the lock,
    ///         exactly the expected slash paid and burned; `closeLock` counts the outcome, the
    ///         other path leaves the reputation as it was. One `closeLock` in eight with a slash
    ///         first tries a bad payee list (five payees, or lengths that differ), which must
    ///         revert the whole call.
    function closeJob(
        uint256 lockSeed,
        uint256 pathSeed,
        uint256 outcomeSeed,
        uint256 amount,
        uint256 nRecipients,
        uint256 paySeed
    ) external accrues {
        callsOf["closeJob"]++;
        if (_locks.length == 0) return;
        uint256 i = lockSeed % _locks.length;
        CloseArgs memory c;
        c.lock = _locks[i];
        _touch(c.lock.provider);
        c.outcome = IProviderRegistry.Outcome(outcomeSeed % 3);
        Sums memory before = _sums(c.lock.provider, c.lock.model);
        uint256 slashable = before.staked - before.locked + c.lock.amount; // once the lock is released
        c.amount = (pathSeed >> 8) % 3 == 0 ? 0 : _bound(amount, 1, slashable + slashable / 4 + 1);
        (c.recipients, c.amounts) = _slashPayees(c.amount, nRecipients, paySeed);
        uint256 expected = _min(c.amount, slashable);
        uint256 paidBefore = _payeeBalances();
        (uint256 slashed, bool recorded) = _close(c, pathSeed);
        uint256 paid = _payeeBalances() - paidBefore;
        if (slashed != expected) _violation("closeJob slashed the wrong amount");
        if (paid != _expectedPayout(slashed, c.recipients, c.amounts)) _violation("closeJob paid the wrong amounts");
        _checkSums(c.lock.provider, c.lock, before, -1, false, "closeJob moved the lock sums by other than the lock");
        _removeLock(i);
        if (recorded) _ghostOutcome(c.lock.provider, c.outcome);
        _checkOutcomes(c.lock.provider, "closeJob recorded the wrong outcome");
        ghostSlashPaid += paid;
        ghostBurned += slashed - paid;
    }

    /// @dev The arguments of a job's close.
    struct CloseArgs {
        LiveLock lock;
        IProviderRegistry.Outcome outcome;
        uint256 amount;
        address[] recipients;
        uint256[] amounts;
    }

    /// @dev Closes `c.lock` through `closeLock` (even `pathSeed`: the outcome is recorded) or
    ///      through `releaseCollateral` and `slash` (no outcome); returns the slash.
    function _close(CloseArgs memory c, uint256 pathSeed) internal returns (uint256 slashed, bool recorded) {
        address p = c.lock.provider;
        IProviderRegistry.Lock memory lock = _lockArgs(c.lock);
        if (c.amount != 0) reached["closeWithSlash"]++;
        if (pathSeed % 2 == 0) {
            reached["closeLock"]++;
            if (c.amount != 0 && (pathSeed >> 16) % 8 == 0) _closeLockMustRevert(c, pathSeed);
            vm.prank(market);
            return (registry.closeLock(p, lock, c.outcome, c.amount, c.recipients, c.amounts), true);
        }
        reached["closeOldPath"]++;
        vm.prank(market);
        registry.releaseCollateral(p, lock);
        if (c.amount != 0) {
            vm.prank(market);
            slashed = registry.slash(p, c.amount, c.recipients, c.amounts);
        }
    }

    /// @dev What a provider's record and one model's capacity hold of its locks, and its stake.
    struct Sums {
        uint256 staked;
        uint256 unbonding;
        uint256 locked;
        uint256 activeLocks;
        uint256 reserved;
    }

    function _sums(address p, bytes32 model) internal view returns (Sums memory s) {
        ProviderRegistry.Provider memory rec = registry.providerOf(p);
        (s.staked, s.unbonding, s.locked, s.activeLocks) = (rec.staked, rec.unbonding, rec.locked, rec.activeLocks);
        s.reserved = registry.capacityOf(p, model).reserved;
    }

    /// @dev `p`'s sums moved by exactly the lock `l` since `before`: up (`dir` 1), down (-1) or
    ///      not at all (0): `locked` by its amount, `activeLocks` by one, `reserved` of its model
    ///      by its GPUs; with `stakeKept`, `staked` and `unbonding` did not move either.
    function _checkSums(address p, LiveLock memory l, Sums memory before, int256 dir, bool stakeKept, string memory what)
        internal
    {
        Sums memory s = _sums(p, l.model);
        bool ok = s.locked == _moved(before.locked, l.amount, dir) && s.activeLocks == _moved(before.activeLocks, 1, dir)
            && s.reserved == _moved(before.reserved, l.gpus, dir);
        if (stakeKept && (s.staked != before.staked || s.unbonding != before.unbonding)) ok = false;
        if (!ok) _violation(what);
    }

    /// @dev `x` moved by `by` in direction `dir` (an impossible fall reads as a mismatch, not a revert).
    function _moved(uint256 x, uint256 by, int256 dir) internal pure returns (uint256) {
        if (dir > 0) return x + by;
        if (dir < 0) return x >= by ? x - by : type(uint256).max;
        return x;
    }

    function _sameSums(Sums memory a, Sums memory b) internal pure returns (bool) {
        return a.staked == b.staked && a.unbonding == b.unbonding && a.locked == b.locked
            && a.activeLocks == b.activeLocks && a.reserved == b.reserved;
    }

    /// @dev The `IProviderRegistry.Lock` the market derives from the job of `l`.
    function _lockArgs(LiveLock memory l) internal pure returns (IProviderRegistry.Lock memory) {
        return IProviderRegistry.Lock({jobId: l.jobId, gpuModel: l.model, gpus: l.gpus, amount: l.amount});
    }

    /// @dev Whether `p` could take the lock `l` as it stands: registered, enough GPUs of the
    ///      model offered and not reserved, enough free stake.
    function _canBack(address p, LiveLock memory l) internal view returns (bool) {
        if (!registry.providerOf(p).registered) return false;
        ProviderRegistry.Capacity memory c = registry.capacityOf(p, l.model);
        return c.gpuCount >= uint256(c.reserved) + l.gpus && registry.freeStakeOf(p) >= l.amount;
    }

    /// @dev Sets `bidder` up to take the lock `l` (see `replaceLock`): registers it, raises its
    ///      capacity of the model to what is reserved plus the lock's GPUs when it offers less,
    ///      stakes what free stake it lacks. False while paused when it would have to register
    ///      or stake.
    function _prepareBidder(address bidder, LiveLock memory l) internal returns (bool) {
        if (!registry.providerOf(bidder).registered && !_register(bidder, "eu-west")) return false;
        ProviderRegistry.Capacity memory c = registry.capacityOf(bidder, l.model);
        if (c.gpuCount < uint256(c.reserved) + l.gpus) {
            vm.prank(bidder);
            registry.setCapacity(l.model, c.reserved + l.gpus, 80);
        }
        uint256 free = registry.freeStakeOf(bidder);
        if (l.amount > free) {
            if (registry.paused()) return false;
            _stakeProvider(bidder, l.amount - free);
        }
        return true; // a bidder still unable to back the lock makes `replaceLock` revert (fail_on_revert)
    }

    /// @dev A lock `p` cannot back for lack of free stake: `lockCollateral` must revert exactly
    ///      `NotEnoughFreeStake(free, amount)` and change nothing.
    function _lockMustRevert(LiveLock memory l, uint256 free) internal {
        reached["lockRefused"]++;
        Sums memory before = _sums(l.provider, l.model);
        vm.prank(market);
        (bool ok, bytes memory ret) =
            address(registry).call(abi.encodeCall(ProviderRegistry.lockCollateral, (l.provider, _lockArgs(l))));
        bytes memory want = abi.encodeWithSelector(ProviderRegistry.NotEnoughFreeStake.selector, free, l.amount);
        if (ok) _violation("lockCollateral beyond the free stake succeeded");
        else if (keccak256(ret) != keccak256(want)) _violation("lockCollateral beyond the free stake: wrong error");
        if (!_sameSums(before, _sums(l.provider, l.model))) _violation("a refused lockCollateral changed the sums");
    }

    /// @dev Tries to release more than the lock `l` (its provider's whole `locked` plus one wei,
    ///      or the model's whole `reserved` plus one GPU, `which` decides): must revert, change nothing.
    function _overReleaseMustRevert(LiveLock memory l, uint256 which) internal {
        reached["overReleaseRefused"]++;
        Sums memory s = _sums(l.provider, l.model);
        IProviderRegistry.Lock memory lock = _lockArgs(l);
        if (which % 2 == 0) lock.amount = s.locked + 1;
        else lock.gpus = uint32(s.reserved + 1);
        _releaseMustRevert(l.provider, lock, "a release of more than is locked succeeded");
    }

    /// @dev `releaseCollateral(p, lock)` must revert exactly `NoCollateralLocked(p, jobId)` and
    ///      leave `p`'s sums as they were.
    function _releaseMustRevert(address p, IProviderRegistry.Lock memory lock, string memory what) internal {
        Sums memory before = _sums(p, lock.gpuModel);
        vm.prank(market);
        (bool ok, bytes memory ret) =
            address(registry).call(abi.encodeCall(ProviderRegistry.releaseCollateral, (p, lock)));
        bytes memory want = abi.encodeWithSelector(ProviderRegistry.NoCollateralLocked.selector, p, lock.jobId);
        if (ok) _violation(what);
        else if (keccak256(ret) != keccak256(want)) _violation("a release beyond the sums: wrong error");
        if (!_sameSums(before, _sums(p, lock.gpuModel))) _violation("a refused release changed the sums");
    }

    /// @dev A bid from `bidder`, who cannot back the lock `l`: `replaceLock` must revert as a
    ///      whole, the outbid keeping its lock and the bidder's sums unchanged.
    function _replaceLockMustRevert(address outbid, address bidder, LiveLock memory l) internal {
        Sums memory outbidBefore = _sums(outbid, l.model);
        Sums memory bidderBefore = _sums(bidder, l.model);
        vm.prank(market);
        (bool ok,) =
            address(registry).call(abi.encodeCall(ProviderRegistry.replaceLock, (outbid, bidder, _lockArgs(l))));
        if (ok) _violation("replaceLock to a bidder who cannot back the lock succeeded");
        if (!_sameSums(outbidBefore, _sums(outbid, l.model)) || !_sameSums(bidderBefore, _sums(bidder, l.model))) {
            _violation("a refused replaceLock changed the sums");
        }
    }

    // ================================================================== verifiers

    /// @notice An account registers as a verifier (nothing when it already is).
    function registerVerifier(uint256 actorSeed) external accrues {
        address v = _verifier(actorSeed);
        callsOf["registerVerifier"]++;
        if (registry.verifierOf(v).slot != 0) return;
        _registerVerifier(v);
    }

    /// @notice A verifier stakes `amount` (registering first if needed), bounded so that its
    ///         active stake after it is at least `MIN_VERIFIER_STAKE`. One time in eight
    ///         (`amount % 8 == 7`) when its active stake is below the minimum, it stakes too
    ///         little to reach it instead: the call must revert exactly
    ///         `VerifierStakeBelowMinimum(active + amount, MIN_VERIFIER_STAKE)` and change nothing.
    function stakeAsVerifier(uint256 actorSeed, uint256 amount) external accrues {
        address v = _verifier(actorSeed);
        callsOf["stakeAsVerifier"]++;
        if (registry.verifierOf(v).slot == 0 && !_registerVerifier(v)) return;
        uint256 activeBefore = registry.activeStakeOf(v);
        uint256 need = activeBefore >= MIN_VERIFIER_STAKE ? 1 : MIN_VERIFIER_STAKE - activeBefore;
        bool tooLittle = need > 1 && amount % 8 == 7;
        amount = tooLittle ? _bound(amount, 1, need - 1) : _bound(amount, need, MAX_STAKE);
        _fund(v, amount);
        if (registry.paused()) {
            vm.prank(v);
            (bool ok,) = address(registry).call(abi.encodeCall(StakingLedger.stakeAsVerifier, (amount)));
            if (ok) _violation("verifier staked while paused");
            return;
        }
        if (tooLittle) {
            reached["verifierStakeBelowMinRefused"]++;
            uint256 stakedBefore = registry.verifierOf(v).staked;
            vm.prank(v);
            (bool ok, bytes memory ret) =
                address(registry).call(abi.encodeCall(StakingLedger.stakeAsVerifier, (amount)));
            bytes memory want = abi.encodeWithSelector(
                StakingLedger.VerifierStakeBelowMinimum.selector, activeBefore + amount, MIN_VERIFIER_STAKE
            );
            if (ok) _violation("a verifier staked below the minimum");
            else if (keccak256(ret) != keccak256(want)) _violation("stakeAsVerifier below the minimum: wrong error");
            if (registry.verifierOf(v).staked != stakedBefore) _violation("a refused stakeAsVerifier staked");
            return;
        }
        vm.prank(v);
        registry.stakeAsVerifier(amount);
        if (registry.activeStakeOf(v) != activeBefore + amount) _violation("stakeAsVerifier added the wrong amount");
        ghostDeposited += amount;
        ghostSlashedBelowMinimum[v] = false;
    }

    /// @notice A verifier starts unbonding part of its active stake: all of it, or (when it holds
    ///         more than `MIN_VERIFIER_STAKE`) as much as leaves at least the minimum active.
    ///         One time in eight (`amount % 8 == 7`) it asks to unbond an amount that would leave
    ///         some active stake but less than the minimum instead: the call must revert exactly
    ///         `VerifierStakeBelowMinimum(active - amount, MIN_VERIFIER_STAKE)` and change nothing.
    function requestVerifierUnstake(uint256 actorSeed, uint256 amount) external accrues {
        address v = _verifier(actorSeed);
        callsOf["requestVerifierUnstake"]++;
        uint256 active = registry.activeStakeOf(v);
        if (active == 0) return;
        // Up to `room` leaves at least the minimum active; `room + 1` stands for all of it.
        uint256 room = active > MIN_VERIFIER_STAKE ? active - MIN_VERIFIER_STAKE : 0;
        if (active > 1 && amount % 8 == 7) {
            _unstakeBelowMinimum(v, active, _bound(amount, room + 1, active - 1));
            return;
        }
        amount = _bound(amount, 1, room + 1);
        if (amount == room + 1) amount = active;
        vm.prank(v);
        registry.requestVerifierUnstake(amount);
        if (registry.activeStakeOf(v) != active - amount) _violation("requestVerifierUnstake moved the wrong amount");
        ghostSlashedBelowMinimum[v] = false;
    }

    /// @dev `v` asks to unbond `amount` of its `active` stake, leaving some but less than the
    ///      minimum: must revert exactly `VerifierStakeBelowMinimum(active - amount, minimum)`.
    function _unstakeBelowMinimum(address v, uint256 active, uint256 amount) internal {
        reached["verifierUnstakeBelowMinRefused"]++;
        StakingLedger.Verifier memory before = registry.verifierOf(v);
        vm.prank(v);
        (bool ok, bytes memory ret) =
            address(registry).call(abi.encodeCall(StakingLedger.requestVerifierUnstake, (amount)));
        bytes memory want = abi.encodeWithSelector(
            StakingLedger.VerifierStakeBelowMinimum.selector, active - amount, MIN_VERIFIER_STAKE
        );
        if (ok) _violation("a verifier unstaked to below the minimum");
        else if (keccak256(ret) != keccak256(want)) _violation("requestVerifierUnstake below the minimum: wrong error");
        StakingLedger.Verifier memory afterwards = registry.verifierOf(v);
        if (afterwards.unbonding != before.unbonding || afterwards.unbondingEnd != before.unbondingEnd) {
            _violation("a refused requestVerifierUnstake changed the unbonding");
        }
    }

    /// @notice A verifier withdraws its unbonded stake; before the end it waits or tries early (must revert).
    function withdrawVerifierStake(uint256 actorSeed, uint256 waitSeed) external accrues {
        address v = _verifier(actorSeed);
        callsOf["withdrawVerifierStake"]++;
        StakingLedger.Verifier memory rec = registry.verifierOf(v);
        if (rec.unbonding == 0) return;
        if (block.timestamp < rec.unbondingEnd) {
            if (waitSeed % 3 == 0) {
                vm.prank(v);
                (bool ok,) = address(registry).call(abi.encodeCall(StakingLedger.withdrawVerifierStake, ()));
                if (ok) _violation("verifier withdrew before the unbonding end");
                return;
            }
            _touchAll(); // time passes: every account's pending is followed
            vm.warp(rec.unbondingEnd);
        }
        uint256 balanceBefore = token.balanceOf(v);
        vm.prank(v);
        registry.withdrawVerifierStake();
        uint256 received = token.balanceOf(v) - balanceBefore;
        if (received != rec.unbonding) _violation("withdrawVerifierStake paid the wrong amount");
        ghostWithdrawn += received;
    }

    // ================================================================== resolver and keepers

    /// @notice The resolver queues a draw of up to `count` verifiers, excluding the verifiers
    ///         picked by `excludedMask` (and, with bit 7, a non-verifier address and a duplicate).
    function requestDraw(uint256 kindSeed, uint256 excludedMask, uint256 count) external accrues {
        callsOf["requestDraw"]++;
        uint256 n;
        for (uint256 i; i < N_VERIFIERS; ++i) {
            if (excludedMask & (1 << i) != 0) ++n;
        }
        bool extra = excludedMask & (1 << 7) != 0;
        address[] memory excluded = new address[](n + (extra ? 2 : 0));
        uint256 k;
        for (uint256 i; i < N_VERIFIERS; ++i) {
            if (excludedMask & (1 << i) != 0) excluded[k++] = _verifiers[i];
        }
        if (extra) {
            excluded[k++] = address(0xDEAD); // not a verifier: ignored
            excluded[k++] = n != 0 ? excluded[0] : _verifiers[0]; // a duplicate
        }
        IStakingLedger.EntryKind kind =
            kindSeed % 2 == 0 ? IStakingLedger.EntryKind.VerifierDraw : IStakingLedger.EntryKind.JuryDraw;
        uint256 jobId = _nextDrawJobId++;
        uint64 position = registry.queueTail();
        uint256 target = resolver.request(kind, jobId, excluded, uint8(_bound(count, 0, N_VERIFIERS + 1)));
        if (target != block.number + registry.drawDelay()) _violation("requestDraw set the wrong target block");
        StakingLedger.Entry memory e = registry.queueEntry(position);
        if (e.kind != kind || e.value != jobId || e.targetBlock != target || registry.queueTail() != position + 1) {
            _violation("requestDraw queued the wrong entry");
        }
        // With a source the draw asks it for a word for its queue position (a refusing source
        // must not make the request revert); without one nothing is asked.
        bool withSource = address(registry.randomness()) != address(0);
        if (withSource && vrf.refusing()) {
            reached["requestRefused"]++;
            if (vrf.requested(position)) _violation("a refusing source recorded a request");
        } else if (vrf.requested(position) != withSource) {
            _violation(withSource ? "requestDraw did not ask the source" : "requestDraw asked an unset source");
        }
    }

    /// @notice A keeper processes up to `maxEntries` queued entries, after rolling to the first
    ///         draw's target block when it is not mined yet; target blocks within the 256-block
    ///         window get a hash (`setBlockhash`), older ones have none and are re-targeted.
    ///         With a randomness source set, `mode` decides the first reachable draw whose word
    ///         is missing: 0 the VRF delivers it now; 1 and 3 it stays pending (at the head,
    ///         `processDraws` must then revert `DrawNotReady(jobId, target + VRF_PATIENCE)`);
    ///         2 the keeper waits out the patience: at its last block `drawReady` must be false
    ///         (and `processDraws` revert), one block later true, and the draw falls back to the
    ///         target block's hash. Other draws in reach get their word half the time. The
    ///         handler predicts the whole call (entries processed, draws completed, the seed each
    ///         gets, re-targeting, `drawReady` of each entry reached, or the exact revert) and
    ///         tells the resolver the seeds to expect.
    function processDraws(uint256 maxEntries, uint256 hashSeed, uint256 mode) external accrues {
        callsOf["processDraws"]++;
        uint64 head = registry.queueHead();
        uint64 tail = registry.queueTail();
        if (head == tail) return;
        maxEntries = _bound(maxEntries, 1, 24);
        bool withSource = address(registry.randomness()) != address(0);
        uint64 end = tail - head < maxEntries ? tail : head + uint64(maxEntries);
        // The first draw among the entries this call may reach decides whether the call can start.
        bool first = true;
        for (uint64 pos = head; pos < end; ++pos) {
            StakingLedger.Entry memory e = registry.queueEntry(pos);
            if (!_isDraw(e.kind)) continue;
            if (first) {
                first = false;
                if (pos == head && block.number <= e.targetBlock) vm.roll(e.targetBlock + 1);
                if (withSource && !_wordReady(pos)) {
                    if (mode % 4 == 0 && vrf.requested(pos)) _fulfil(pos, hashSeed);
                    else if (mode % 4 == 2) _waitOutPatience(pos, pos == head, e);
                }
            } else if (withSource && vrf.pendingWord(pos) && (hashSeed >> (pos % 128)) & 1 == 1) {
                _fulfil(pos, uint256(keccak256(abi.encode(hashSeed, pos))));
            }
        }
        for (uint64 pos = head; pos < end; ++pos) {
            StakingLedger.Entry memory e = registry.queueEntry(pos);
            if (!_isDraw(e.kind)) continue;
            if (block.number > e.targetBlock && block.number - e.targetBlock <= 256 && blockhash(e.targetBlock) == 0) {
                vm.setBlockhash(e.targetBlock, keccak256(abi.encode(hashSeed, e.targetBlock)));
            }
        }

        Prediction memory want = _predict(head, tail, maxEntries, withSource);
        if (want.reverts) {
            reached["drawNotReadyRevert"]++;
            vm.prank(keeper);
            (bool ok, bytes memory ret) = address(registry).call(abi.encodeCall(StakingLedger.processDraws, (maxEntries)));
            if (ok) _violation("processDraws made a draw that was not ready");
            else if (keccak256(ret) != keccak256(want.revertData)) _violation("processDraws reverted with the wrong error");
            return;
        }
        uint256 completedBefore = resolver.drawsCompleted();
        vm.prank(keeper);
        uint256 processed = registry.processDraws(maxEntries);
        if (processed == 0 || processed > maxEntries) _violation("processDraws processed nothing or too much");
        if (processed != want.processed) _violation("processDraws processed other entries than predicted");
        if (resolver.drawsCompleted() - completedBefore != want.completions) {
            _violation("processDraws completed other draws than predicted");
        }
        if (want.retargeted) {
            reached["retarget"]++;
            if (registry.queueHead() != want.retargetPos) _violation("re-targeted draw is not the head");
            if (registry.queueEntry(want.retargetPos).targetBlock != block.number + registry.drawDelay()) {
                _violation("re-targeted draw got the wrong target block");
            }
        } else if (registry.queueHead() != head + processed) {
            _violation("processDraws moved the head wrongly");
        }
        uint256 left = registry.queueTail() - registry.queueHead();
        if (left > tail - head) _violation("processDraws grew the queue");
    }

    /// @notice The VRF: delivers the word of a queued draw that asked for one (five times in
    ///         six; the word is 0 one time in eight), or makes the source refuse requests (one
    ///         time in three of the rest) or accept them again.
    function randomnessSource(uint256 which, uint256 positionSeed, uint256 word) external accrues {
        callsOf["randomnessSource"]++;
        if (which % 6 == 0) {
            vrf.setRefusing(positionSeed % 3 == 0);
            return;
        }
        uint64 head = registry.queueHead();
        uint64 n = registry.queueTail() - head;
        if (n == 0) return;
        uint64 start = uint64(positionSeed % n);
        for (uint64 k; k < n; ++k) {
            uint64 pos = head + (start + k) % n;
            if (vrf.pendingWord(pos)) {
                _fulfil(pos, word);
                return;
            }
        }
    }

    /// @notice The resolver slashes `amount` CMP of a verifier's stake to a payee (or burns it
    ///         all when the payee is address(0)): the ledger takes min(amount, staked), active
    ///         stake first, then unbonding. The amount is, by `payeeSeed >> 8`, one time in two
    ///         up to `MIN_VERIFIER_STAKE` (a penalty of the resolver: a share of its `seatStake`,
    ///         which the minimum bounds), else up to twice the verifier's stake (beyond it: all).
    function slashVerifier(uint256 actorSeed, uint256 amount, uint256 payeeSeed) external accrues {
        address v = _verifier(actorSeed);
        callsOf["slashVerifier"]++;
        StakingLedger.Verifier memory before = registry.verifierOf(v);
        uint256 active = uint256(before.staked) - before.unbonding;
        uint256 cap = (payeeSeed >> 8) % 2 == 1 ? MIN_VERIFIER_STAKE : 2 * uint256(before.staked) + 1;
        amount = _bound(amount, 0, cap);
        address to = _payees[payeeSeed % _payees.length];
        uint256 expected = _min(amount, before.staked);
        uint256 fromActive = _min(expected, active);
        uint256 paidBefore = _payeeBalances();
        uint256 slashed = resolver.slash(v, amount, to);
        uint256 paid = _payeeBalances() - paidBefore;
        if (slashed != expected) _violation("slashVerifier took the wrong amount");
        if (paid != (to == address(0) ? 0 : slashed)) _violation("slashVerifier paid the wrong amount");
        StakingLedger.Verifier memory afterwards = registry.verifierOf(v);
        if (
            afterwards.staked != before.staked - expected
                || afterwards.unbonding != before.unbonding - (expected - fromActive)
        ) {
            _violation("slashVerifier took other than active stake first, then unbonding");
        }
        if (expected != 0 && expected == before.staked) reached["verifierSlashedAll"]++;
        if (fromActive != 0) {
            bool below = active - fromActive != 0 && active - fromActive < MIN_VERIFIER_STAKE;
            ghostSlashedBelowMinimum[v] = below;
            if (below) reached["verifierSlashedBelowMin"]++;
        }
        ghostSlashPaid += paid;
        ghostBurned += slashed - paid;
    }

    // ================================================================== time and governance

    /// @notice Time passes (1 second to 30 days).
    function warp(uint256 secondsAhead) external accrues {
        callsOf["warp"]++;
        _touchAll();
        vm.warp(block.timestamp + _bound(secondsAhead, 1, 30 days));
    }

    /// @notice Time passes to an epoch boundary of the distributor 1 to 3 epochs ahead: one second
    ///         before it, exactly at it, one second after it, or anywhere in the epoch it starts.
    function warpEpoch(uint256 epochs, uint256 where) external accrues {
        callsOf["warpEpoch"]++;
        _touchAll();
        uint256 length = rewards.EPOCH();
        uint256 boundary = rewards.genesis() + (rewards.epochAt(block.timestamp) + _bound(epochs, 1, 3)) * length;
        uint256 w = where % 4;
        uint256 t = w == 0 ? boundary - 1 : w == 1 ? boundary : w == 2 ? boundary + 1 : boundary + (where >> 8) % length;
        if (t <= block.timestamp) t = block.timestamp + 1;
        reached[w == 1 ? bytes32("warpToBoundary") : bytes32("warpNearBoundary")]++;
        vm.warp(t);
    }

    /// @notice The rewards distributor takes an account's stake rewards (as `claim` does): a
    ///         provider, a verifier, or (one time in nine) an address that never staked. It must
    ///         get exactly what `pendingStakeRewards` said just before, and leave nothing pending.
    function takeStakeRewards(uint256 actorSeed) external accrues {
        callsOf["takeStakeRewards"]++;
        uint256 k = actorSeed % (_accounts.length + 1);
        address a = k < _accounts.length ? _accounts[k] : address(0xD00D);
        if (a != address(0xD00D)) _touch(a);
        uint256 pending = registry.pendingStakeRewards(a);
        uint256 takenBefore = rewards.takenBy(a);
        uint256 amount = rewards.take(a);
        if (amount != pending) _violation("takeStakeRewards took other than pendingStakeRewards");
        if (rewards.takenBy(a) != takenBefore + amount) _violation("MockRewards did not count the take");
        if (registry.pendingStakeRewards(a) != 0) _violation("takeStakeRewards left rewards pending");
        (_takenFrom, _takenNow) = (a, amount);
        ghostTaken[a] += amount;
        reached[amount == 0 ? bytes32("takeNothing") : bytes32("takeRewards")]++;
    }

    /// @notice The rewards distributor breaks (one time in three: both schedule functions revert,
    ///         only `stakeReleased` reverts, or `stakeRateAt` answers an epoch starting after the
    ///         time asked, one ending at it, or a rate of 2^128 wei per second) or works again.
    ///         The ledger must then write off, at its next update, the stake share released since
    ///         the later of its last update and its cached epoch's end; its views leave that out
    ///         at once. So the sum of the pending stake rewards must move by the share the fault
    ///         hides or shows again (`writtenOffNow`), but for the rounding of one update.
    function rewardsFault(uint256 which) external accrues {
        callsOf["rewardsFault"]++;
        MockRewards.Fault f = which % 3 == 0 ? MockRewards.Fault(1 + (which >> 8) % 5) : MockRewards.Fault.None;
        _touchAll();
        uint256 hiddenBefore = writtenOffNow() - ghostWrittenOff;
        uint256 owedBefore = _owed();
        rewards.setFault(f);
        uint256 hiddenAfter = writtenOffNow() - ghostWrittenOff;
        uint256 owedAfter = _owed();
        _viewShift = hiddenAfter > hiddenBefore ? -1 : hiddenAfter < hiddenBefore ? int256(1) : int256(0);
        // Σ pending moves by the release hidden or shown again, less the rounding of one update.
        (, uint256 atRisk,) = _accState();
        uint256 tolerance = rewards.EPOCH() + 2 + atRisk / 1e18 + 1 + 2 * _accounts.length;
        uint256 shown = owedAfter + hiddenAfter; // both sides, so no difference goes negative
        uint256 was = owedBefore + hiddenBefore;
        if ((shown > was ? shown - was : was - shown) > tolerance) {
            _violation("a distributor fault moved pending stake rewards by other than the release it hides");
        }
        reached[f == MockRewards.Fault.None ? bytes32("rewardsMended") : bytes32("rewardsBroken")]++;
        if (hiddenAfter > hiddenBefore) reached["rewardsHidden"]++;
    }

    /// @notice Blocks pass (1 to 300: past 256, queued draw targets leave the hash window).
    function roll(uint256 blocksAhead) external accrues {
        callsOf["roll"]++;
        vm.roll(block.number + _bound(blocksAhead, 1, 300));
    }

    /// @notice Governance sets `unbondingPeriod` (anywhere within its bounds, or at one of them)
    ///         or `drawDelay` within its bounds, or pauses / unpauses (pausing one time in four of
    ///         those). (`minStakePerGpu` is the market's now, no longer the registry's: the handler,
    ///         as the market, adds its `MIN_STAKE_PER_GPU` to each lock.)
    function govern(uint256 which, uint256 value) external accrues {
        callsOf["govern"]++;
        which %= 4;
        uint256 minUnbonding = resolver.SLASH_DELAY() + 1;
        bool paused = registry.paused();
        vm.startPrank(gov);
        if (which == 0) {
            registry.setUnbondingPeriod(_bound(value, minUnbonding, 60 days));
        } else if (which == 1) {
            registry.setUnbondingPeriod(value % 2 == 0 ? minUnbonding : 60 days);
        } else if (which == 2) {
            registry.setDrawDelay(_bound(value, 1, 64));
        } else if (paused) {
            registry.unpause();
        } else if (value % 4 == 0) {
            registry.pause();
        }
        vm.stopPrank();
    }

    /// @notice Governance sets the randomness source (the mock two times in three, else none:
    ///         block hashes). Only with an empty queue: otherwise the call must revert
    ///         `DrawsPending(queued)` and change nothing.
    function switchRandomness(uint256 seed) external accrues {
        callsOf["switchRandomness"]++;
        address value = seed % 3 == 0 ? address(0) : address(vrf);
        address before = address(registry.randomness());
        uint256 queued = registry.queueTail() - registry.queueHead();
        vm.prank(gov);
        (bool ok, bytes memory ret) =
            address(registry).call(abi.encodeCall(StakingLedger.setRandomness, (IRandomnessSource(value))));
        if (queued != 0) {
            reached["randomnessSwitchRefused"]++;
            if (ok) _violation("setRandomness succeeded with a non-empty queue");
            else if (keccak256(ret) != keccak256(abi.encodeWithSelector(StakingLedger.DrawsPending.selector, queued))) {
                _violation("setRandomness reverted with the wrong error");
            }
            if (address(registry.randomness()) != before) _violation("refused setRandomness changed the source");
            return;
        }
        reached[value == address(0) ? bytes32("randomnessOff") : bytes32("randomnessOn")]++;
        if (!ok) _violation("setRandomness reverted with an empty queue");
        if (address(registry.randomness()) != value) _violation("setRandomness set another source");
    }

    /// @notice A stranger (no role) calls a privileged function with arguments that would
    ///         otherwise succeed; the call must revert.
    function strangerCall(uint256 which, uint256 strangerSeed) external accrues {
        callsOf["strangerCall"]++;
        ++strangerCalls;
        address stranger = address(uint160(uint256(keccak256(abi.encode("stranger", strangerSeed % 16)))));
        address p = _providers[0];
        address v = _verifiers[0];
        address target = address(registry);
        bytes memory data;
        which %= 17;
        (address lp, IProviderRegistry.Lock memory lock) = _strangerLock(p);
        if (which == 0) {
            data = abi.encodeCall(
                ProviderRegistry.lockCollateral,
                (p, IProviderRegistry.Lock({jobId: 1 << 200, gpuModel: _models[0], gpus: 1, amount: 0}))
            );
        } else if (which == 1) {
            data = abi.encodeCall(ProviderRegistry.releaseCollateral, (lp, lock));
        } else if (which == 2) {
            data = abi.encodeCall(ProviderRegistry.slash, (p, 1 ether, new address[](0), new uint256[](0)));
        } else if (which == 3) {
            // An outcome alone (no slash): only the market records outcomes.
            data = abi.encodeCall(
                ProviderRegistry.closeLock,
                (lp, lock, IProviderRegistry.Outcome.Completed, 0, new address[](0), new uint256[](0))
            );
        } else if (which == 4) {
            data = abi.encodeCall(StakingLedger.requestDraw, (IStakingLedger.EntryKind.VerifierDraw, 1 << 100));
        } else if (which == 5) {
            data = abi.encodeCall(StakingLedger.slashVerifier, (v, MIN_VERIFIER_STAKE, stranger));
        } else if (which == 6) {
            data = abi.encodeCall(StakingLedger.setUnbondingPeriod, (10 days));
        } else if (which == 7) {
            // The market's per-bid call: the holder outbids itself (the release frees what the lock
            // takes again), or a first bid when no lock is live.
            data = _locks.length != 0
                ? abi.encodeCall(ProviderRegistry.replaceLock, (lp, lp, lock))
                : abi.encodeCall(
                    ProviderRegistry.replaceLock,
                    (address(0), p, IProviderRegistry.Lock({jobId: 1 << 200, gpuModel: _models[0], gpus: 1, amount: 0}))
                );
        } else if (which == 8) {
            data = abi.encodeCall(StakingLedger.setDrawDelay, (5));
        } else if (which == 9) {
            data = abi.encodeWithSignature("setResolver(address)", stranger);
        } else if (which == 10) {
            data = abi.encodeWithSignature("setRandomness(address)", stranger);
        } else if (which == 11) {
            data = abi.encodeCall(StakingLedger.takeStakeRewards, (p));
        } else if (which == 12) {
            data = abi.encodeWithSignature(registry.paused() ? "unpause()" : "pause()");
        } else if (which == 13) {
            data = abi.encodeWithSignature("grantRole(bytes32,address)", registry.MARKET_ROLE(), stranger);
        } else if (which == 14) {
            target = address(token);
            data = abi.encodeWithSignature("mint(address,uint256)", stranger, 1 ether);
        } else if (which == 15) {
            target = address(resolver);
            data = abi.encodeCall(MockResolver.slash, (v, MIN_VERIFIER_STAKE, stranger));
        } else {
            data = abi.encodeCall(
                ProviderRegistry.closeLock,
                (lp, lock, IProviderRegistry.Outcome.Failed, 1 ether, new address[](0), new uint256[](0))
            );
        }
        vm.prank(stranger);
        (bool ok,) = target.call(data);
        if (ok) {
            ghostStrangerSucceeded = true;
            ghostStrangerSelector = bytes4(data);
        }
    }

    /// @dev The lock a stranger's release, close or bid names: the first live lock and its
    ///      holder, or (none live) a one-GPU lock of `p`'s for job 1.
    function _strangerLock(address p) internal view returns (address, IProviderRegistry.Lock memory) {
        if (_locks.length != 0) return (_locks[0].provider, _lockArgs(_locks[0]));
        return (p, IProviderRegistry.Lock({jobId: 1, gpuModel: _models[0], gpus: 1, amount: MIN_STAKE_PER_GPU}));
    }

    // ================================================================== views for the invariants

    /// @notice The provider actors.
    function providers() external view returns (address[] memory) {
        return _providers;
    }

    /// @notice The verifier actors (the last is also provider 0).
    function verifiers() external view returns (address[] memory) {
        return _verifiers;
    }

    /// @notice The GPU models providers offer.
    function models() external view returns (bytes32[2] memory) {
        return _models;
    }

    /// @notice Number of live locks.
    function liveLocks() external view returns (uint256) {
        return _locks.length;
    }

    /// @notice The live lock at index `i`: its holder and the `IProviderRegistry.Lock` the market
    ///         derives from its job.
    function liveLock(uint256 i) external view returns (address provider, IProviderRegistry.Lock memory lock) {
        return (_locks[i].provider, _lockArgs(_locks[i]));
    }

    /// @notice Sums over the live locks held by `p` (recomputed from the list of the market's
    ///         jobs, not the running ghosts): CMP locked, how many, GPUs reserved per model.
    function liveLockSums(address p) external view returns (uint256 amount, uint256 count, uint256[2] memory gpus) {
        for (uint256 i; i < _locks.length; ++i) {
            LiveLock storage l = _locks[i];
            if (l.provider != p) continue;
            amount += l.amount;
            ++count;
            gpus[l.model == _models[0] ? 0 : 1] += l.gpus;
        }
    }

    /// @notice Every provider and verifier actor once (provider 0 is also verifier 4).
    function accounts() external view returns (address[] memory) {
        return _accounts;
    }

    /// @notice Σ providers' (staked − unbonding) + Σ verifiers' (staked − unbonding), from the records.
    function stakeAtRisk() public view returns (uint256 sum) {
        for (uint256 i; i < N_PROVIDERS; ++i) {
            ProviderRegistry.Provider memory p = registry.providerOf(_providers[i]);
            sum += uint256(p.staked) - p.unbonding;
        }
        for (uint256 i; i < N_VERIFIERS; ++i) {
            sum += registry.activeStakeOf(_verifiers[i]);
        }
    }

    /// @notice `ghostReleasedAtRisk` brought to now (the stake at risk has not changed since the
    ///         last checkpoint: every action ends with one).
    function releasedAtRiskNow() public view returns (uint256) {
        uint256 t = block.timestamp;
        if (t <= lastCheckpoint || stakeAtRisk() < MIN_STAKE_AT_RISK) return ghostReleasedAtRisk;
        return ghostReleasedAtRisk + rewards.released(lastCheckpoint, t);
    }

    /// @notice `ghostWrittenOff`, plus what the ledger would write off were it brought to now
    ///         (its views leave that out already): while the distributor fails, the stake share
    ///         released since the later of the accumulator's last update and the end of the cached
    ///         epoch, if that end is past and at least 1 CMP is at risk.
    function writtenOffNow() public view returns (uint256) {
        (, uint256 atRisk, uint256 updatedAt) = _accState();
        (, uint256 until) = _rateState();
        uint256 t = block.timestamp;
        if (t <= updatedAt || t <= until || atRisk < MIN_STAKE_AT_RISK) return ghostWrittenOff;
        uint256 from = _max(updatedAt, until);
        return rewards.losesRelease(from, t) ? ghostWrittenOff + rewards.released(from, t) : ghostWrittenOff;
    }

    /// @notice What the ledger may hand out for the time so far: the share released while at
    ///         risk less what it wrote off (or would, brought to now) while the distributor failed.
    function releasedKeptNow() external view returns (uint256) {
        return releasedAtRiskNow() - writtenOffNow();
    }

    /// @notice The most the accumulator may lose to rounding so far. Each accumulator update that
    ///         moves time (at most one per action, plus the open one the views bring to now)
    ///         loses below 2·EPOCH + 2 wei to the per-second rate of the partial epochs at its
    ///         ends, and below stakeAtRisk/1e18 + 1 wei to the reward-per-stake division; each
    ///         stake change or take rounds an account's debt against it by at most 1 wei, and
    ///         reading `pendingStakeRewards` rounds down by at most 1 wei per record (2 per account).
    function roundingAllowance() external view returns (uint256) {
        uint256 maxAtRisk = _max(ghostMaxStakeAtRisk, stakeAtRisk());
        return (ghostActions + 1) * (2 * rewards.EPOCH() + 2 + maxAtRisk / 1e18 + 1 + 8) + 2 * _accounts.length;
    }

    // ================================================================== internals

    /// @dev Adds the stake share released since the last checkpoint, if the stake at risk was at
    ///      least 1 CMP meanwhile. `atRisk` is the ledger's stake at risk now (invariant (i) holds
    ///      it to the records' sum): it changes only inside actions, and no action both moves time
    ///      and changes it (the waits of the withdrawals and the warps change no active stake), so
    ///      it is the one of the whole interval.
    function _checkpoint(uint256 atRisk) internal {
        uint256 t = block.timestamp;
        if (t <= lastCheckpoint) return;
        if (atRisk >= MIN_STAKE_AT_RISK) ghostReleasedAtRisk += rewards.released(lastCheckpoint, t);
        lastCheckpoint = t;
    }

    function _beforeAction() internal returns (Snapshot memory snap) {
        uint256 atRisk;
        (snap.rps, atRisk) = registry.stakeRewardsState();
        _checkpoint(atRisk);
        ++ghostActions;
        snap.time = block.timestamp;
        (, snap.atRisk, snap.updatedAt) = _accState();
        (snap.perSecond, snap.until) = _rateState();
        snap.hidden = writtenOffNow() - ghostWrittenOff;
        delete _touched;
        delete _touchedPending;
        (_takenFrom, _takenNow) = (address(0), 0);
        _viewShift = 0;
    }

    /// @dev The action brought the accumulator forward to `updatedAt` (from `snap.updatedAt`).
    ///      That must be now (no action both moves time and changes stake). Past the cached
    ///      epoch's end the ledger asks the distributor: if that fails (`losesRelease`), the share
    ///      released from the later of the last update and that end to now is written off (when
    ///      at least 1 CMP was at risk meanwhile), and no rate is cached; if not, the new epoch's
    ///      rate and end are cached. Within the cached epoch nothing is asked, nothing changes.
    function _followUpdate(Snapshot memory snap, uint256 updatedAt) internal {
        uint256 t = block.timestamp;
        if (updatedAt != t) _violation("the accumulator was brought to another time than now");
        (uint256 perSecond, uint256 until) = _rateState();
        bool cachedKept = perSecond == snap.perSecond && until == snap.until;
        if (t <= snap.until) {
            if (!cachedKept) _violation("the cached rate changed within its epoch");
            return;
        }
        uint256 from = _max(snap.updatedAt, snap.until);
        if (rewards.losesRelease(from, t)) {
            reached["releaseWrittenOff"]++;
            if (snap.atRisk >= MIN_STAKE_AT_RISK) ghostWrittenOff += rewards.released(from, t);
            if (!cachedKept) _violation("the ledger cached a failing distributor's rate");
        } else if (until != rewards.epochEndAt(t) || perSecond != rewards.shareOf(rewards.epochAt(t)) / rewards.EPOCH()) {
            _violation("the ledger cached another rate than the epoch's");
        }
    }

    /// @dev The accumulator as stored: reward per stake, stake at risk, last update.
    function _accState() internal view returns (uint256 rps, uint256 atRisk, uint256 updatedAt) {
        uint256 w = uint256(vm.load(address(registry), bytes32(accSlot)));
        return (uint96(w), uint96(w >> 96), uint32(w >> 192));
    }

    /// @dev The cached stake rate: wei per second, and the end of its epoch.
    function _rateState() internal view returns (uint256 perSecond, uint256 until) {
        uint256 w = uint256(vm.load(address(registry), bytes32(accSlot + 1)));
        return (uint128(w), uint64(w >> 128));
    }

    /// @dev Σ `pendingStakeRewards` over every actor.
    function _owed() internal view returns (uint256 sum) {
        for (uint256 i; i < _accounts.length; ++i) {
            sum += registry.pendingStakeRewards(_accounts[i]);
        }
    }

    /// @dev Follows `account`'s pending stake rewards through the current action: records them
    ///      now (call it before the action changes anything of the account), once.
    function _touch(address account) internal {
        for (uint256 i; i < _touched.length; ++i) {
            if (_touched[i] == account) return;
        }
        _touched.push(account);
        _touchedPending.push(registry.pendingStakeRewards(account));
    }

    /// @dev Follows every account (before time passes).
    function _touchAll() internal {
        for (uint256 i; i < _accounts.length; ++i) {
            _touch(_accounts[i]);
        }
    }

    /// @dev After every action: the reward per stake never fell, and did not move at all unless
    ///      time passed, so the pending stake rewards of an account whose records the action did
    ///      not change did not move either. Each account the action acted on (`_touch`; all of
    ///      them when time passed), less what the action took from it: when time passed (no action
    ///      that moves time changes stake), its pending never fell; when it did not, it never
    ///      grew, and fell by at most 2 wei (a change of the account's own stake rounds its debt
    ///      against it by at most 1 wei). Exceptions, where a distributor fault hides part of the
    ///      release from the views or shows it again: `rewardsFault` (the views may only fall when
    ///      it broke the distributor, only grow when it mended it, by the amount checked there),
    ///      and time passing while only `stakeReleased` reverts (the views may fall when they
    ///      come to need it). If the action brought the accumulator forward, `_followUpdate`.
    function _afterAction(Snapshot memory snap) internal {
        (uint256 rps, uint256 atRisk) = registry.stakeRewardsState();
        _checkpoint(atRisk);
        (,, uint256 updatedAt) = _accState();
        if (updatedAt != snap.updatedAt) _followUpdate(snap, updatedAt);
        bool moved = block.timestamp != snap.time;
        // The views may fall only as a fault hides part of the release: when `rewardsFault`
        // broke the distributor (-1), or when time passed while only `stakeReleased` reverts
        // and the views now need it (they did not before).
        bool mayFall = _viewShift < 0
            || (moved && rewards.fault() == MockRewards.Fault.RevertReleased && writtenOffNow() - ghostWrittenOff > snap.hidden);
        bool mayGrow = _viewShift > 0;
        if (rps < snap.rps && !mayFall) _violation("rewardPerStake fell");
        if (!moved && rps > snap.rps && !mayGrow) _violation("rewardPerStake moved without time passing");
        if (atRisk > ghostMaxStakeAtRisk) ghostMaxStakeAtRisk = atRisk;
        for (uint256 i; i < _touched.length; ++i) {
            address a = _touched[i];
            uint256 before = _touchedPending[i];
            if (a == _takenFrom) {
                if (_takenNow > before) {
                    _violation("a take exceeded the pending stake rewards");
                    continue;
                }
                before -= _takenNow;
            }
            uint256 nowPending = registry.pendingStakeRewards(a);
            if (mayGrow || mayFall) {
                // The amounts are checked in sum (`rewardsFault`) and by (k); the direction here.
                if (mayGrow && nowPending < before) _violation("pending stake rewards fell as the distributor mended");
                if (mayFall && !moved && nowPending > before) _violation("pending stake rewards grew as the distributor broke");
                continue;
            }
            if (moved) {
                if (nowPending < before) _violation("pending stake rewards fell while time passed");
            } else if (nowPending > before) {
                _violation("pending stake rewards grew without time passing");
            } else if (before - nowPending > 2) {
                _violation("a stake change cost more than rounding of pending stake rewards");
            }
        }
    }

    /// @dev What `processDraws` should do from the current state.
    struct Prediction {
        bool reverts;
        bytes revertData;
        uint256 processed;
        uint256 completions;
        bool retargeted;
        uint64 retargetPos;
    }

    /// @dev Walks the queue as `processDraws(maxEntries)` must: stake changes are applied; a draw
    ///      stops the call when its target block is not mined or (with a source) its word is
    ///      missing and the patience has not run out (a revert when nothing was processed before
    ///      it); a draw with neither a word nor a block hash is re-targeted and stops the call;
    ///      any other draw completes with seed keccak256(abi.encode(word or the target block's
    ///      hash, jobId, kind)), which the resolver is told to expect. Also checks `drawReady`
    ///      of every entry reached against the same rule.
    function _predict(uint64 head, uint64 tail, uint256 maxEntries, bool withSource)
        internal
        returns (Prediction memory p)
    {
        uint64 pos = head;
        while (p.processed < maxEntries && pos < tail) {
            StakingLedger.Entry memory e = registry.queueEntry(pos);
            if (!_isDraw(e.kind)) {
                if (registry.drawReady(pos)) _violation("drawReady true for a stake change");
                ++p.processed;
                ++pos;
                continue;
            }
            (bool ready, uint256 word) = withSource ? vrf.randomnessOf(pos) : (false, 0);
            bool mined = block.number > e.targetBlock;
            bool waiting = mined && withSource && !ready && block.number <= e.targetBlock + PATIENCE;
            if (registry.drawReady(pos) != (mined && !waiting)) _violation("drawReady disagrees with block and word");
            if (!mined || waiting) {
                if (p.processed == 0) {
                    p.reverts = true;
                    p.revertData = abi.encodeWithSelector(
                        StakingLedger.DrawNotReady.selector,
                        uint256(e.value),
                        mined ? uint256(e.targetBlock) + PATIENCE : uint256(e.targetBlock)
                    );
                    if (waiting) reached["wordPending"]++;
                }
                break;
            }
            bytes32 hash = ready ? bytes32(word) : blockhash(e.targetBlock);
            if (!ready && hash == bytes32(0)) {
                (p.retargeted, p.retargetPos) = (true, pos);
                ++p.processed;
                break;
            }
            resolver.expectSeed(e.value, uint256(keccak256(abi.encode(hash, uint256(e.value), e.kind))));
            if (ready) reached[word == 0 ? bytes32("drawFromZeroWord") : bytes32("drawFromWord")]++;
            else reached[withSource ? bytes32("drawFromHashAfterPatience") : bytes32("drawFromHash")]++;
            ++p.completions;
            ++p.processed;
            ++pos;
        }
    }

    /// @dev Rolls to the last block a draw without its word still waits for it: `drawReady` must
    ///      be false there (and, at the head, `processDraws` revert exactly); then one block more,
    ///      where `drawReady` must be true (the draw falls back to the target block's hash).
    function _waitOutPatience(uint64 pos, bool atHead, StakingLedger.Entry memory e) internal {
        uint256 last = uint256(e.targetBlock) + PATIENCE;
        if (block.number > last) return;
        reached["patienceBoundary"]++;
        if (block.number < last) vm.roll(last);
        if (registry.drawReady(pos)) _violation("drawReady before the patience ran out");
        if (atHead) {
            vm.prank(keeper);
            (bool ok, bytes memory ret) = address(registry).call(abi.encodeCall(StakingLedger.processDraws, (1)));
            bytes memory want = abi.encodeWithSelector(StakingLedger.DrawNotReady.selector, uint256(e.value), last);
            if (ok || keccak256(ret) != keccak256(want)) _violation("processDraws did not wait for the word");
        }
        vm.roll(last + 1);
        if (!registry.drawReady(pos)) _violation("drawReady false after the patience ran out");
    }

    /// @dev The VRF delivers a word for `pos` (zero one time in eight).
    function _fulfil(uint256 pos, uint256 word) internal {
        if (word % 8 == 0) word = 0;
        vrf.fulfil(pos, word);
    }

    function _wordReady(uint256 pos) internal view returns (bool ready) {
        (ready,) = vrf.randomnessOf(pos);
    }

    function _isDraw(IStakingLedger.EntryKind kind) internal pure returns (bool) {
        return kind == IStakingLedger.EntryKind.VerifierDraw || kind == IStakingLedger.EntryKind.JuryDraw;
    }

    /// @dev `closeLock` with a payee list the slash must refuse (five payees, or a length
    ///      mismatch): the whole call must revert, so the lock and the counters stay.
    function _closeLockMustRevert(CloseArgs memory c, uint256 seed) internal {
        reached["closeLockRefused"]++;
        bool tooMany = (seed >> 24) % 2 == 0;
        address[] memory recipients = new address[](tooMany ? 5 : 2);
        uint256[] memory amounts = new uint256[](tooMany ? 5 : 1);
        vm.prank(market);
        (bool ok,) = address(registry).call(
            abi.encodeCall(
                ProviderRegistry.closeLock,
                (c.lock.provider, _lockArgs(c.lock), c.outcome, c.amount, recipients, amounts)
            )
        );
        if (ok) _violation("closeLock with a bad payee list succeeded");
    }

    /// @dev Up to four ordered payees (address(0) among the candidates) for a slash of `amount`.
    function _slashPayees(uint256 amount, uint256 nRecipients, uint256 paySeed)
        internal
        view
        returns (address[] memory recipients, uint256[] memory amounts)
    {
        uint256 n = _bound(nRecipients, 0, 4);
        recipients = new address[](n);
        amounts = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            uint256 s = uint256(keccak256(abi.encode(paySeed, i)));
            recipients[i] = _payees[s % _payees.length];
            amounts[i] = _bound(s >> 8, 0, amount);
        }
    }

    /// @dev Forgets the live lock at index `i` (released or closed) and its ghost sums.
    function _removeLock(uint256 i) internal {
        LiveLock memory l = _locks[i];
        _locks[i] = _locks[_locks.length - 1];
        _locks.pop();
        ghostLocked[l.provider] -= l.amount;
        ghostLockCount[l.provider] -= 1;
        ghostReserved[l.provider][l.model] -= l.gpus;
    }

    function _ghostOutcome(address p, IProviderRegistry.Outcome outcome) internal {
        if (outcome == IProviderRegistry.Outcome.Completed) ghostCompleted[p] += 1;
        else if (outcome == IProviderRegistry.Outcome.Failed) ghostFailed[p] += 1;
        else ghostDisputesLost[p] += 1;
    }

    /// @dev `providerOf(p)`'s reputation counters must equal the ghost's.
    function _checkOutcomes(address p, string memory what) internal {
        ProviderRegistry.Provider memory rec = registry.providerOf(p);
        if (rec.completed != ghostCompleted[p] || rec.failed != ghostFailed[p] || rec.disputesLost != ghostDisputesLost[p])
        {
            _violation(what);
        }
    }

    function _max(uint256 a, uint256 b) internal pure returns (uint256) {
        return a > b ? a : b;
    }

    /// @dev The provider an action acts on (its pending stake rewards are followed, `_touch`).
    function _provider(uint256 seed) internal returns (address p) {
        p = _providers[seed % N_PROVIDERS];
        _touch(p);
    }

    /// @dev The verifier an action acts on (its pending stake rewards are followed, `_touch`).
    function _verifier(uint256 seed) internal returns (address v) {
        v = _verifiers[seed % N_VERIFIERS];
        _touch(v);
    }

    /// @dev Registers `p`; while paused the call must revert (returns false then).
    function _register(address p, bytes32 region) internal returns (bool) {
        bool paused = registry.paused();
        vm.prank(p);
        (bool ok,) = address(registry).call(abi.encodeCall(ProviderRegistry.register, ("ipfs://provider", region)));
        if (paused) {
            if (ok) _violation("registered while paused");
            return false;
        }
        if (!ok) _violation("register reverted");
        return ok;
    }

    /// @dev Registers `v` as a verifier; while paused the call must revert (returns false then).
    function _registerVerifier(address v) internal returns (bool) {
        bool paused = registry.paused();
        vm.prank(v);
        (bool ok,) = address(registry).call(abi.encodeCall(StakingLedger.registerVerifier, ()));
        if (paused) {
            if (ok) _violation("verifier registered while paused");
            return false;
        }
        if (!ok) _violation("registerVerifier reverted");
        return ok;
    }

    /// @dev Provider `p` (registered) stakes `amount`; while paused the call must revert.
    function _stakeProvider(address p, uint256 amount) internal {
        _fund(p, amount);
        bool paused = registry.paused();
        uint256 stakedBefore = registry.stakeOf(p);
        vm.prank(p);
        (bool ok,) = address(registry).call(abi.encodeCall(ProviderRegistry.stake, (amount)));
        if (paused) {
            if (ok) _violation("provider staked while paused");
            return;
        }
        if (!ok) _violation("stake reverted");
        if (registry.stakeOf(p) != stakedBefore + amount) _violation("stake added the wrong amount");
        ghostDeposited += amount;
    }

    /// @dev Gives `actor` at least `amount` CMP (from the handler's supply) approved to the ledger.
    function _fund(address actor, uint256 amount) internal {
        uint256 balance = token.balanceOf(actor);
        if (balance < amount) token.transfer(actor, amount - balance);
        vm.prank(actor);
        token.approve(address(registry), amount);
    }

    /// @dev Sum of the payees' CMP balances.
    function _payeeBalances() internal view returns (uint256 sum) {
        for (uint256 i; i < _payees.length; ++i) {
            if (_payees[i] != address(0)) sum += token.balanceOf(_payees[i]);
        }
    }

    /// @dev What the ledger's payout rule pays of `total`: recipients in order, each up to its
    ///      amount, address(0) skipped.
    function _expectedPayout(uint256 total, address[] memory recipients, uint256[] memory amounts)
        internal
        pure
        returns (uint256 paid)
    {
        uint256 left = total;
        for (uint256 i; i < recipients.length && left != 0; ++i) {
            uint256 pay = _min(amounts[i], left);
            if (pay == 0 || recipients[i] == address(0)) continue;
            left -= pay;
            paid += pay;
        }
    }

    function _violation(string memory what) internal {
        ++ghostSpecViolations;
        lastSpecViolation = what;
    }
}
