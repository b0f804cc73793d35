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
///         ledger (`ProviderRegistry`): providers, verifiers, the market (MARKET_ROLE: it moves
///         providers' stake into and out of their provisions, keeps its jobs' locks on the
///         provisions itself, as the `JobMarket` keeps them in its offers, and slashes
///         provisions), the resolver (through `MockResolver`), the VRF (through
///         `MockRandomness`), the rewards distributor (through `MockRewards`: it takes stake
///         rewards, and breaks and mends its schedule), keepers, governance, the clock and
///         strangers. Inputs are bounded so that most calls do something; missing
///         preconditions are set up first (register, stake, provision, wait) rather than
///         letting the call revert. Ghost variables record what went in and out of the ledger.
/// @dev Expected reverts (a stranger's privileged call, a stake while paused, a withdrawal
///      before the unbonding end, a provision beyond the free stake, a slash beyond the
///      provision, ...) are made with low-level calls: success is recorded in a ghost flag that
///      an invariant requires to stay false, or counted as a violation of the specification.
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

    /// @notice A job's lock the market holds on its provider's provision: the job's collateral
    ///         plus the per-GPU stake, fixed when the job is posted. The ledger knows nothing of
    ///         it (the `JobMarket` keeps its locks in its offers): the handler keeps them here.
    struct LiveLock {
        address provider;
        uint256 amount;
    }

    LiveLock[] internal _locks;
    uint256 internal _nextDrawJobId = 1;

    // ------------------------------------------------------------------ ghosts

    /// @notice CMP the actors moved into the ledger (`stake`, `stakeAsVerifier`).
    uint256 public ghostDeposited;
    /// @notice CMP the ledger sent back to actors (`withdrawUnstaked`, `withdrawVerifierStake`).
    uint256 public ghostWithdrawn;
    /// @notice CMP of slashes the ledger sent to payees at once.
    uint256 public ghostSlashPaid;
    /// @notice CMP of failed leases' slashes the ledger credited to payees (`SlashCredited`).
    uint256 public ghostCredited;
    /// @notice CMP of credited payouts the ledger sent out (`claimPayout`).
    uint256 public ghostPayoutsClaimed;
    /// @notice CMP of slashes the ledger burned (slashed − paid).
    uint256 public ghostBurned;
    /// @notice Per provider: CMP the market moved into its provision, CMP it moved back out, and
    ///         CMP slashed of it. The ledger's `provisioned` must equal in − out − slashed, to the
    ///         wei (invariant (m)).
    mapping(address => uint256) public ghostProvisionedIn;
    mapping(address => uint256) public ghostProvisionedOut;
    mapping(address => uint256) public ghostSlashedFrom;
    /// @notice Per provider: the market's live locks on its provision (Σ of their amounts), which
    ///         the market never gives back nor lets a slash of unlocked provision reach.
    mapping(address => uint256) public ghostLocked;
    /// @notice Per provider: stake it asked to unbond (unstake requests, deregistering) less
    ///         what it withdrew. Slashes take the provision only, so the ledger's `unbonding` must
    ///         equal it (invariant (n)).
    mapping(address => uint256) public ghostUnbonding;
    /// @notice A stranger's privileged call succeeded (and which selector).
    bool public ghostStrangerSucceeded;
    bytes4 public ghostStrangerSelector;
    uint256 public strangerCalls;
    /// @notice Operations whose effect differed from the specification (amount slashed, paid,
    ///         burned, provisioned, withdrawn), or forbidden operations that succeeded (stake while
    ///         paused, withdrawal before the unbonding end, a provision beyond the free stake, a
    ///         slash beyond the provision, deregistering while provisioned, ...).
    uint256 public ghostSpecViolations;
    string public lastSpecViolation;
    /// @notice Whether the last change of a verifier's active stake was a slash that left it
    ///         between 0 and `MIN_VERIFIER_STAKE` (exclusive): the only way a verifier may hold
    ///         less than the minimum but some (invariant (l)). A stake or an unstake request,
    ///         which must leave none or at least the minimum, clears it.
    mapping(address => bool) public ghostSlashedBelowMinimum;
    /// @notice Outcomes recorded per provider (only `recordOutcome` records one): completed,
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

    /// @notice A provider stakes `amount` (registering first if needed).
    function stake(uint256 actorSeed, uint256 amount) external accrues {
        address p = _provider(actorSeed);
        callsOf["stake"]++;
        if (!registry.providerOf(p).registered && !_register(p, "eu-west")) return;
        _stakeProvider(p, _bound(amount, 1, MAX_STAKE));
    }

    /// @notice A provider starts unbonding part of its free stake (staked − provisioned −
    ///         unbonding). One time in eight (`amount % 8 == 7`) it first asks for one wei more
    ///         than its free stake: the call must revert exactly `NotEnoughFreeStake(free, free + 1)`
    ///         and change nothing (the provision is not free stake).
    function requestUnstake(uint256 actorSeed, uint256 amount) external accrues {
        address p = _provider(actorSeed);
        callsOf["requestUnstake"]++;
        uint256 free = registry.freeStakeOf(p);
        if (amount % 8 == 7 && registry.stakeOf(p) != 0) {
            reached["unstakeBeyondFreeRefused"]++;
            _mustRevert(
                p,
                p,
                abi.encodeCall(ProviderRegistry.requestUnstake, (free + 1)),
                abi.encodeWithSelector(ProviderRegistry.NotEnoughFreeStake.selector, free, free + 1),
                "requestUnstake beyond the free stake"
            );
        }
        if (free == 0) return;
        amount = _bound(amount, 1, free);
        ProviderRegistry.Provider memory before = registry.providerOf(p);
        vm.prank(p);
        registry.requestUnstake(amount);
        ProviderRegistry.Provider memory afterwards = registry.providerOf(p);
        if (
            afterwards.unbonding != before.unbonding + amount || afterwards.staked != before.staked
                || afterwards.provisioned != before.provisioned
        ) {
            _violation("requestUnstake moved the wrong amount");
        }
        if (afterwards.unbondingEnd != block.timestamp + registry.unbondingPeriod()) {
            _violation("requestUnstake set the wrong unbonding end");
        }
        ghostUnbonding[p] += amount;
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
        if (registry.providerOf(p).provisioned != rec.provisioned) _violation("withdrawUnstaked moved the provision");
        ghostWithdrawn += received;
        if (received > ghostUnbonding[p]) _violation("withdrew more than was asked to unbond");
        else ghostUnbonding[p] -= received;
    }

    /// @notice A provider deregisters. While anything of its stake is provisioned the call must
    ///         revert exactly `StillProvisioned(provisioned)` and change nothing; one time in two,
    ///         when no job of the market holds any of the provision, the market first gives all of
    ///         it back (the provider withdraws every offer), and the provider then leaves: all its
    ///         free stake starts unbonding.
    function deregister(uint256 actorSeed, uint256 pathSeed) external accrues {
        address p = _provider(actorSeed);
        callsOf["deregister"]++;
        ProviderRegistry.Provider memory rec = registry.providerOf(p);
        if (!rec.registered) return;
        if (rec.provisioned != 0) {
            if (pathSeed % 2 == 0 || ghostLocked[p] != 0) {
                reached["deregisterRefused"]++;
                _mustRevert(
                    p,
                    p,
                    abi.encodeCall(ProviderRegistry.deregister, ()),
                    abi.encodeWithSelector(ProviderRegistry.StillProvisioned.selector, uint256(rec.provisioned)),
                    "deregistered while provisioned"
                );
                return;
            }
            reached["provisionTakenBackToLeave"]++;
            _provision(p, -int256(uint256(rec.provisioned)));
            rec = registry.providerOf(p);
        }
        uint256 free = registry.freeStakeOf(p);
        vm.prank(p);
        registry.deregister();
        ProviderRegistry.Provider memory afterwards = registry.providerOf(p);
        if (afterwards.registered || afterwards.unbonding != rec.unbonding + free || afterwards.staked != rec.staked) {
            _violation("deregister did not unbond all free stake");
        }
        if (registry.freeStakeOf(p) != 0) _violation("free stake left after deregistering");
        ghostUnbonding[p] += free;
    }

    // ================================================================== market

    /// @notice The market moves `amount` (1 CMP-wei to 1,000,000 CMP) of a provider's free stake
    ///         into its provision (the provider raised an offer's provision: `JobMarket.setOffer`).
    ///         See `_provisionIn` for the refusals tried first.
    function provisionIn(uint256 actorSeed, uint256 amount, uint256 pathSeed) external accrues {
        address p = _provider(actorSeed);
        callsOf["provisionIn"]++;
        _provisionIn(p, _bound(amount, 1, MAX_STAKE), pathSeed);
    }

    /// @dev Provisions `amount` of `p`'s stake, setting `p` up first. An unregistered `p` is
    ///      first tried as it is one time in four (`pathSeed % 4 == 0`): `provision` must revert
    ///      exactly `NotRegistered(p)` and change nothing; then `p` registers. When `p` lacks the
    ///      free stake, one time in four (`(pathSeed >> 8) % 4 == 0`) the move is first tried as it
    ///      is: it must revert exactly `NotEnoughFreeStake(free, amount)` and change nothing; then
    ///      `p` stakes the rest (while paused it provisions what it has free, if anything).
    ///      Returns whether it provisioned (all of `amount` unless paused).
    function _provisionIn(address p, uint256 amount, uint256 pathSeed) internal returns (bool) {
        if (!registry.providerOf(p).registered) {
            if (pathSeed % 4 == 0) {
                reached["provisionUnregisteredRefused"]++;
                _mustRevert(
                    market,
                    p,
                    abi.encodeCall(ProviderRegistry.provision, (p, int256(amount))),
                    abi.encodeWithSelector(ProviderRegistry.NotRegistered.selector, p),
                    "provisioned an unregistered provider"
                );
            }
            if (!_register(p, "eu-west")) return false;
        }
        uint256 free = registry.freeStakeOf(p);
        if (amount > free) {
            if ((pathSeed >> 8) % 4 == 0) {
                reached["provisionBeyondFreeRefused"]++;
                _mustRevert(
                    market,
                    p,
                    abi.encodeCall(ProviderRegistry.provision, (p, int256(amount))),
                    abi.encodeWithSelector(ProviderRegistry.NotEnoughFreeStake.selector, free, amount),
                    "provisioned beyond the free stake"
                );
            }
            if (registry.paused()) {
                if (free == 0) return false;
                amount = free;
            } else {
                _stakeProvider(p, amount - free);
            }
        }
        reached[amount == registry.freeStakeOf(p) ? bytes32("provisionAllFree") : bytes32("provisionIn")]++;
        _provision(p, int256(amount));
        return true;
    }

    /// @notice The market gives part of a provider's provision back to its free stake (the
    ///         provider lowered an offer's provision), never what the market's jobs hold of it
    ///         (`JobMarket.setOffer` refuses `OfferInUse`). One time in eight it first asks for
    ///         one wei more than the whole provision: the call must revert exactly
    ///         `ProvisionExceeded(provisioned, provisioned + 1)` and change nothing; one time in
    ///         eight it moves nothing (an offer's GPUs changed, not its provision), which must
    ///         succeed and change nothing, registered or not. One move in eight gives back all
    ///         that no job holds (all of the provision when no job holds any).
    function provisionOut(uint256 actorSeed, uint256 amount, uint256 pathSeed) external accrues {
        address p = _provider(actorSeed);
        callsOf["provisionOut"]++;
        uint256 provisioned = registry.providerOf(p).provisioned;
        if (pathSeed % 8 == 0) {
            reached["provisionOutBeyondRefused"]++;
            _mustRevert(
                market,
                p,
                abi.encodeCall(ProviderRegistry.provision, (p, -int256(provisioned + 1))),
                abi.encodeWithSelector(ProviderRegistry.ProvisionExceeded.selector, provisioned, provisioned + 1),
                "gave back more than the provision"
            );
        } else if (pathSeed % 8 == 1) {
            reached["provisionZero"]++;
            _provision(p, 0);
            return;
        }
        uint256 unlocked = provisioned > ghostLocked[p] ? provisioned - ghostLocked[p] : 0;
        if (unlocked == 0) return;
        amount = (pathSeed >> 3) % 8 == 0 ? unlocked : _bound(amount, 1, unlocked);
        reached[amount == provisioned ? bytes32("provisionAllOut") : bytes32("provisionOut")]++;
        _provision(p, -int256(amount));
    }

    /// @notice The market posts a job that provider `p` wins: it locks the job's collateral
    ///         (0–50,000 CMP) plus 100 CMP per GPU (1–8) on `p`'s provision, as the `JobMarket`
    ///         locks them on its offer. The ledger is not called for the lock: when the provision
    ///         no job holds falls short, `p` first provisions the rest (as `provisionIn`).
    function openJob(uint256 actorSeed, uint256 gpus, uint256 collateral, uint256 pathSeed) external accrues {
        address p = _provider(actorSeed);
        callsOf["openJob"]++;
        _openJob(p, _bound(collateral, 0, MAX_COLLATERAL), gpus, pathSeed);
    }

    /// @dev Locks `collateral` plus `MIN_STAKE_PER_GPU` per GPU on `p`'s provision (provisioning
    ///      what is missing first); returns whether it did (not while paused when `p` would have
    ///      to register or stake first) and the live lock's index.
    function _openJob(address p, uint256 collateral, uint256 gpus, uint256 pathSeed)
        internal
        returns (bool, uint256)
    {
        uint256 amount = collateral + MIN_STAKE_PER_GPU * _bound(gpus, 1, MAX_GPUS);
        uint256 provisioned = registry.providerOf(p).provisioned;
        uint256 unlocked = provisioned > ghostLocked[p] ? provisioned - ghostLocked[p] : 0;
        if (amount > unlocked && !_provisionIn(p, amount - unlocked, pathSeed)) return (false, 0);
        if (ghostLocked[p] + amount > registry.providerOf(p).provisioned) return (false, 0); // paused: short
        _locks.push(LiveLock(p, amount));
        ghostLocked[p] += amount;
        return (true, _locks.length - 1);
    }

    /// @notice One of the market's jobs ends: its lock is released and, two times in three, up to
    ///         the lock's amount is slashed of the provider's provision (the market takes it off
    ///         the offer's provision as it releases the lock), to up to four ordered payees. A coin
    ///         picks the market's call: `recordOutcome` (the lease settled, failed or lost a
    ///         dispute: the outcome is recorded, and the slash made if any), or `slash` alone (a
    ///         forfeited bond: no outcome); with no slash, the second path calls nothing (the
    ///         provider was outbid, or the job cancelled). See `_marketSlash` for what is checked.
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
        LiveLock memory l = _locks[i];
        _touch(l.provider);
        _removeLock(i);
        SlashArgs memory s;
        s.provider = l.provider;
        s.amount = (pathSeed >> 8) % 3 == 0 ? 0 : _bound(amount, 1, l.amount);
        s.record = pathSeed % 2 == 0;
        s.outcome = IProviderRegistry.Outcome(outcomeSeed % 3);
        (s.recipients, s.amounts) = _slashPayees(s.amount, nRecipients, paySeed);
        if (s.record) {
            reached["closeByRecordOutcome"]++;
        } else if (s.amount != 0) {
            reached["closeBySlash"]++;
        } else {
            reached["closeByRelease"]++;
            return; // released on the offer only: no ledger call
        }
        _marketSlash(s, pathSeed >> 16);
    }

    /// @notice The market slashes a provider's provision that no job holds (0 up to all of it;
    ///         all of it one time in eight) to up to four ordered payees. One time in four it asks for more than the whole
    ///         provision instead (by one wei up to a quarter of it more), through `slash` or, half
    ///         of those, through `recordOutcome` with an outcome: the call must revert exactly
    ///         `ProvisionExceeded(provisioned, amount)` and change nothing, outcome included (a
    ///         slash never reaches free or unbonding stake).
    function slashProvider(uint256 actorSeed, uint256 amount, uint256 nRecipients, uint256 paySeed) external accrues {
        address p = _provider(actorSeed);
        callsOf["slashProvider"]++;
        uint256 provisioned = registry.providerOf(p).provisioned;
        SlashArgs memory s;
        s.provider = p;
        if (paySeed % 4 == 0) {
            s.amount = _bound(amount, provisioned + 1, provisioned + provisioned / 4 + 1);
            (s.recipients, s.amounts) = _slashPayees(s.amount, nRecipients, paySeed);
            s.record = (paySeed >> 2) % 2 == 0;
            s.outcome = IProviderRegistry.Outcome.Failed;
            reached["slashBeyondProvisionRefused"]++;
            _mustRevert(
                market,
                p,
                _slashCall(s),
                abi.encodeWithSelector(ProviderRegistry.ProvisionExceeded.selector, provisioned, s.amount),
                "slashed beyond the provision"
            );
            return;
        }
        uint256 unlocked = provisioned > ghostLocked[p] ? provisioned - ghostLocked[p] : 0;
        s.amount = (paySeed >> 4) % 8 == 0 ? unlocked : _bound(amount, 0, unlocked);
        (s.recipients, s.amounts) = _slashPayees(s.amount, nRecipients, paySeed);
        if (s.amount != 0 && s.amount == provisioned) reached["slashedAllProvision"]++;
        _marketSlash(s, paySeed >> 8);
    }

    /// @notice The market settles a new job at once: it locks the job's stake (no collateral
    ///         beyond 100 CMP per GPU, provisioning first as `openJob` does), releases it and
    ///         records an outcome with no slash (`recordOutcome`). Nothing may be slashed or move
    ///         but the outcome, which is counted.
    function settleNewJob(uint256 actorSeed, uint256 pathSeed, uint256 gpus, uint256 outcome) external accrues {
        address p = _provider(actorSeed);
        callsOf["settleNewJob"]++;
        (bool opened, uint256 i) = _openJob(p, 0, gpus, pathSeed);
        if (!opened) return;
        _removeLock(i);
        SlashArgs memory s;
        (s.provider, s.record, s.outcome) = (p, true, IProviderRegistry.Outcome(outcome % 3));
        (s.recipients, s.amounts) = (new address[](0), new uint256[](0));
        _marketSlash(s, 1); // no bad payee list first
        if (registry.reputationOf(p) > 10_000) _violation("reputation above 100%");
    }

    /// @dev A market call that may slash: `recordOutcome` (with the outcome) or `slash`.
    struct SlashArgs {
        address provider;
        uint256 amount;
        bool record;
        IProviderRegistry.Outcome outcome;
        address[] recipients;
        uint256[] amounts;
    }

    function _slashCall(SlashArgs memory s) internal pure returns (bytes memory) {
        if (s.record) {
            return abi.encodeCall(
                ProviderRegistry.recordOutcome, (s.provider, s.outcome, s.amount, s.recipients, s.amounts)
            );
        }
        return abi.encodeCall(ProviderRegistry.slash, (s.provider, s.amount, s.recipients, s.amounts));
    }

    /// @dev Makes the market's call `s` and checks its effect: `provisioned` and `staked` down by
    ///      exactly the amount, the unbonding stake and its end untouched, the payees paid exactly
    ///      what the payout rule gives, the rest burned, and (`recordOutcome`) the outcome counted
    ///      or (`slash`) the counters unchanged. One call with a slash in eight (`badSeed % 8 ==
    ///      0`) first tries a bad payee list (five payees, or lengths that differ): it must revert
    ///      exactly (`TooManySlashRecipients(5)`, `LengthMismatch()`) and change nothing.
    function _marketSlash(SlashArgs memory s, uint256 badSeed) internal {
        address p = s.provider;
        if (s.amount != 0 && badSeed % 8 == 0) _badPayeesMustRevert(s, badSeed >> 3);
        ProviderRegistry.Provider memory before = registry.providerOf(p);
        uint256 paidBefore = _payeeBalances();
        uint256 creditedBefore = _payeeCredits();
        uint256 balanceBefore = token.balanceOf(address(registry));
        vm.prank(market);
        (bool ok, bytes memory ret) = address(registry).call(_slashCall(s));
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        uint256 credited = _checkPayout(s, _payeeBalances() - paidBefore, _payeeCredits() - creditedBefore);
        ProviderRegistry.Provider memory afterwards = registry.providerOf(p);
        if (afterwards.provisioned + s.amount != before.provisioned) {
            _violation("a slash took other than its amount of the provision");
        }
        if (afterwards.staked + s.amount != before.staked) _violation("a slash took other than its amount of the stake");
        if (afterwards.unbonding != before.unbonding || afterwards.unbondingEnd != before.unbondingEnd) {
            _violation("a slash touched the unbonding stake");
        }
        if (afterwards.registered != before.registered) _violation("a slash changed the registration");
        if (balanceBefore - token.balanceOf(address(registry)) != s.amount - credited) {
            _violation("a slash moved other CMP");
        }
        if (s.amount != 0 && before.unbonding != 0) reached["slashBesideUnbonding"]++;
        if (s.record) _ghostOutcome(p, s.outcome);
        _checkOutcomes(p, s.record ? "recordOutcome recorded the wrong outcome" : "slash recorded an outcome");
        ghostSlashedFrom[p] += s.amount;
    }

    /// @dev Checks what slash `s` paid: `sent` to the payees' balances, `credited` to their
    ///      payouts in the ledger. A failed lease's payees are credited, every other slash's paid
    ///      at once; in all, exactly what the payout rule gives, the rest burned. Returns `credited`.
    function _checkPayout(SlashArgs memory s, uint256 sent, uint256 credited) internal returns (uint256) {
        bool credits = s.record && s.outcome == IProviderRegistry.Outcome.Failed;
        if (credits && sent != 0) _violation("a failure's slash was sent, not credited");
        if (!credits && credited != 0) _violation("a slash other than a failure's was credited");
        if (credited != 0) reached["slashCredited"]++;
        uint256 paid = sent + credited;
        if (paid != _expectedPayout(s.amount, s.recipients, s.amounts)) _violation("a slash paid the wrong amounts");
        ghostSlashPaid += sent;
        ghostCredited += credited;
        ghostBurned += s.amount - paid;
        return credited;
    }

    /// @notice Someone (a payee, or anyone for it) claims a payee's credited payouts: exactly
    ///         `payoutOf(payee)` must go to the payee and nothing else move; with nothing
    ///         credited (the zero address included) the claim must revert `NothingToClaim(payee)`.
    function claimPayout(uint256 payeeSeed, uint256 callerSeed) external accrues {
        callsOf["claimPayout"]++;
        address payee = _payees[payeeSeed % _payees.length];
        address caller = callerSeed % 2 == 0 ? payee : address(0xC1A1);
        uint256 owed = registry.payoutOf(payee);
        bytes memory data = abi.encodeCall(StakingLedger.claimPayout, (payee));
        if (owed == 0) {
            reached["claimOfNothingRefused"]++;
            bytes memory want = abi.encodeWithSelector(StakingLedger.NothingToClaim.selector, payee);
            _mustRevert(caller, _providers[0], data, want, "a claim of nothing");
            return;
        }
        (uint256 payeeBefore, uint256 ledgerBefore) = (token.balanceOf(payee), token.balanceOf(address(registry)));
        vm.prank(caller);
        (bool ok,) = address(registry).call(data);
        if (!ok) _violation("a claim of a credited payout reverted");
        if (token.balanceOf(payee) - payeeBefore != owed || ledgerBefore - token.balanceOf(address(registry)) != owed) {
            _violation("a claim moved other than the payee's credit");
        }
        if (registry.payoutOf(payee) != 0) _violation("a claim left a credit");
        ghostPayoutsClaimed += owed;
        reached["payoutClaimed"]++;
    }

    /// @dev `s` with a payee list the ledger must refuse: five payees (`TooManySlashRecipients`)
    ///      or two payees and one amount (`LengthMismatch`). The whole call must revert exactly,
    ///      so neither the provision nor the outcome counters move.
    function _badPayeesMustRevert(SlashArgs memory s, uint256 seed) internal {
        reached["badPayeesRefused"]++;
        bool tooMany = seed % 2 == 0;
        SlashArgs memory bad = SlashArgs(
            s.provider, s.amount, s.record, s.outcome, new address[](tooMany ? 5 : 2), new uint256[](tooMany ? 5 : 1)
        );
        bytes memory want = tooMany
            ? abi.encodeWithSelector(ProviderRegistry.TooManySlashRecipients.selector, uint256(5))
            : abi.encodeWithSelector(ProviderRegistry.LengthMismatch.selector);
        _mustRevert(market, s.provider, _slashCall(bad), want, "a slash with a bad payee list");
    }

    /// @dev The market moves `delta` into (or out of) `p`'s provision: `provisioned` must move by
    ///      exactly `delta` and the free stake by exactly −`delta`, and nothing else of the record
    ///      (stake, unbonding and its end, registration, reputation).
    function _provision(address p, int256 delta) internal {
        ProviderRegistry.Provider memory before = registry.providerOf(p);
        uint256 freeBefore = registry.freeStakeOf(p);
        vm.prank(market);
        registry.provision(p, delta);
        ProviderRegistry.Provider memory afterwards = registry.providerOf(p);
        uint256 size = delta >= 0 ? uint256(delta) : uint256(-delta);
        bool up = delta >= 0;
        if (afterwards.provisioned != (up ? before.provisioned + size : before.provisioned - size)) {
            _violation("provision moved the provision by other than delta");
        }
        if (registry.freeStakeOf(p) != (up ? freeBefore - size : freeBefore + size)) {
            _violation("provision moved the free stake by other than -delta");
        }
        afterwards.provisioned = before.provisioned;
        if (keccak256(abi.encode(afterwards)) != keccak256(abi.encode(before))) {
            _violation("provision changed the record beyond the provision");
        }
        if (up) ghostProvisionedIn[p] += size;
        else ghostProvisionedOut[p] += size;
    }

    /// @dev `caller`'s call `data` to the ledger must revert with exactly `want` and leave `p`'s
    ///      record and the ledger's CMP balance as they were.
    function _mustRevert(address caller, address p, bytes memory data, bytes memory want, string memory what)
        internal
    {
        bytes32 record = keccak256(abi.encode(registry.providerOf(p)));
        uint256 balance = token.balanceOf(address(registry));
        vm.prank(caller);
        (bool ok, bytes memory ret) = address(registry).call(data);
        if (ok) _violation(string.concat(what, ": succeeded"));
        else if (keccak256(ret) != keccak256(want)) _violation(string.concat(what, ": wrong error"));
        if (keccak256(abi.encode(registry.providerOf(p))) != record || token.balanceOf(address(registry)) != balance) {
            _violation(string.concat(what, ": changed the record"));
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
        address p = _providers[strangerSeed % N_PROVIDERS];
        address v = _verifiers[0];
        address target = address(registry);
        bytes memory data;
        which %= 17;
        // What the market could take back or slash of `p`'s provision (no job holds it).
        uint256 provisioned = registry.providerOf(p).provisioned;
        uint256 unlocked = provisioned > ghostLocked[p] ? provisioned - ghostLocked[p] : 0;
        address[] memory none = new address[](0);
        uint256[] memory zero = new uint256[](0);
        if (which == 0) {
            // All of `p`'s free stake into its provision (none: a move of zero).
            data = abi.encodeCall(ProviderRegistry.provision, (p, int256(registry.freeStakeOf(p))));
        } else if (which == 1) {
            data = abi.encodeCall(ProviderRegistry.provision, (p, -int256(unlocked)));
        } else if (which == 2) {
            data = abi.encodeCall(ProviderRegistry.slash, (p, unlocked, none, zero));
        } else if (which == 3) {
            // An outcome alone (no slash): only the market records outcomes.
            data = abi.encodeCall(ProviderRegistry.recordOutcome, (p, IProviderRegistry.Outcome.Completed, 0, none, zero));
        } else if (which == 4) {
            data = abi.encodeCall(StakingLedger.requestDraw, (IStakingLedger.EntryKind.VerifierDraw, 1 << 100));
        } else if (which == 5) {
            data = abi.encodeCall(StakingLedger.slashVerifier, (v, MIN_VERIFIER_STAKE, stranger));
        } else if (which == 6) {
            data = abi.encodeCall(StakingLedger.setUnbondingPeriod, (10 days));
        } else if (which == 7) {
            data = abi.encodeCall(ProviderRegistry.provision, (p, int256(0)));
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
                ProviderRegistry.recordOutcome, (p, IProviderRegistry.Outcome.Failed, unlocked, none, zero)
            );
        }
        vm.prank(stranger);
        (bool ok,) = target.call(data);
        if (ok) {
            ghostStrangerSucceeded = true;
            ghostStrangerSelector = bytes4(data);
        }
    }

    // ================================================================== views for the invariants

    /// @notice Σ the payees' credited payouts in the ledger (`payoutOf`).
    function payeeCredits() external view returns (uint256) {
        return _payeeCredits();
    }

    /// @notice The provider actors.
    function providers() external view returns (address[] memory) {
        return _providers;
    }

    /// @notice The verifier actors (the last is also provider 0).
    function verifiers() external view returns (address[] memory) {
        return _verifiers;
    }

    /// @notice Number of the market's live locks.
    function liveLocks() external view returns (uint256) {
        return _locks.length;
    }

    /// @notice The live lock at index `i`: the provider whose provision it holds, and its amount.
    function liveLock(uint256 i) external view returns (address provider, uint256 amount) {
        return (_locks[i].provider, _locks[i].amount);
    }

    /// @notice Σ of the live locks on `p`'s provision, recomputed from the list of the market's
    ///         jobs (not the running ghost `ghostLocked`), and how many.
    function liveLockSum(address p) external view returns (uint256 amount, uint256 count) {
        for (uint256 i; i < _locks.length; ++i) {
            if (_locks[i].provider != p) continue;
            amount += _locks[i].amount;
            ++count;
        }
    }

    /// @notice What `p`'s provision must be: Σ of the market's moves into it, less Σ of its
    ///         moves out of it, less Σ of the slashes of it.
    function ghostProvisioned(address p) external view returns (uint256) {
        return ghostProvisionedIn[p] - ghostProvisionedOut[p] - ghostSlashedFrom[p];
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

    /// @dev Forgets the live lock at index `i` (the market released it) and its ghost sum.
    function _removeLock(uint256 i) internal {
        LiveLock memory l = _locks[i];
        _locks[i] = _locks[_locks.length - 1];
        _locks.pop();
        ghostLocked[l.provider] -= l.amount;
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

    /// @dev Σ the payees' credited payouts in the ledger (`payoutOf`).
    function _payeeCredits() internal view returns (uint256 sum) {
        for (uint256 i; i < _payees.length; ++i) {
            sum += registry.payoutOf(_payees[i]);
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
