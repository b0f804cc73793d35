// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ComputeToken} from "../../../contracts/token/ComputeToken.sol";
import {ProviderRegistry} from "../../../contracts/registry/ProviderRegistry.sol";
import {StakingLedger} from "../../../contracts/staking/StakingLedger.sol";
import {IStakingLedger} from "../../../contracts/interfaces/IStakingLedger.sol";
import {IProviderRegistry} from "../../../contracts/interfaces/IProviderRegistry.sol";
import {Base} from "../utils/Base.sol";
import {MockResolver} from "../mocks/MockResolver.sol";

/// @title StakingLedgerHandler
/// @notice The only contract the invariant fuzzer calls. It plays every actor of the staking
///         ledger (`ProviderRegistry`): providers, verifiers, the market (MARKET_ROLE and
///         SLASHER_ROLE), the resolver (through `MockResolver`), keepers, governance, the clock
///         and strangers. Inputs are bounded so that most calls do something; missing
///         preconditions are set up first (register, add capacity, stake, wait) rather than
///         letting the call revert. Ghost variables record what went in and out of the ledger.
/// @dev Expected reverts (a stranger's privileged call, a stake while paused, a withdrawal
///      before the unbonding end) are made with low-level calls: success is recorded in a ghost
///      flag that an invariant requires to stay false.
contract StakingLedgerHandler is Base {
    uint256 internal constant N_PROVIDERS = 4;
    uint256 internal constant N_VERIFIERS = 5; // the last verifier is also provider 0
    uint256 internal constant MAX_STAKE = 1_000_000 ether;
    uint256 internal constant MAX_COLLATERAL = 50_000 ether;
    uint256 internal constant MAX_GPUS = 8;

    ProviderRegistry public immutable registry;
    ComputeToken public immutable token;
    MockResolver public immutable resolver;
    address public immutable gov;
    address public immutable market;
    address public immutable keeper = address(0xBEEF);

    address[] internal _providers;
    address[] internal _verifiers;
    address[] internal _payees; // slash recipients; address(0) among them (skipped by the ledger)
    bytes32[2] internal _models = [bytes32("H100"), bytes32("A100")];

    /// @notice A collateral lock the market holds.
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
    /// @notice Calls per handler action (diagnostics; forge's metrics table also has them).
    mapping(bytes32 => uint256) public callsOf;

    constructor(ProviderRegistry registry_, ComputeToken token_, address gov_, address market_) {
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
        _payees.push(address(0xA11CE));
        _payees.push(address(0xB0B));
        _payees.push(address(0xCA201));
        _payees.push(address(0));
        resolver = new MockResolver(IStakingLedger(address(registry_)), address(this), _verifiers);
    }

    // ================================================================== providers

    /// @notice A provider registers (nothing when it already is, or while paused: then the call must revert).
    function register(uint256 actorSeed, bytes32 region) external {
        address p = _provider(actorSeed);
        callsOf["register"]++;
        if (registry.providerOf(p).registered) return;
        _register(p, region);
    }

    /// @notice A registered provider sets its capacity of one GPU model, never below what jobs hold.
    function setCapacity(uint256 actorSeed, uint256 modelSeed, uint256 count, uint256 vram) external {
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
    function stake(uint256 actorSeed, uint256 amount) external {
        address p = _provider(actorSeed);
        callsOf["stake"]++;
        if (!registry.providerOf(p).registered && !_register(p, "eu-west")) return;
        _stakeProvider(p, _bound(amount, 1, MAX_STAKE));
    }

    /// @notice A provider starts unbonding part of its free stake.
    function requestUnstake(uint256 actorSeed, uint256 amount) external {
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
    function withdrawUnstaked(uint256 actorSeed, uint256 waitSeed) external {
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
    function deregister(uint256 actorSeed) external {
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
    function lockCollateral(uint256 actorSeed, uint256 modelSeed, uint256 gpus, uint256 collateral) external {
        address p = _provider(actorSeed);
        callsOf["lockCollateral"]++;
        if (!registry.providerOf(p).registered && !_register(p, "eu-west")) return;
        bytes32 model = _models[modelSeed % 2];
        ProviderRegistry.Capacity memory c = registry.capacityOf(p, model);
        if (c.gpuCount <= c.reserved) {
            vm.prank(p);
            registry.setCapacity(model, uint32(c.reserved + _bound(gpus, 1, MAX_GPUS)), 80);
            c = registry.capacityOf(p, model);
        }
        gpus = _bound(gpus, 1, _min(c.gpuCount - c.reserved, MAX_GPUS));
        collateral = _bound(collateral, 0, MAX_COLLATERAL);
        uint256 amount = collateral + uint256(registry.minStakePerGpu()) * gpus;
        uint256 free = registry.freeStakeOf(p);
        if (amount > free) {
            if (registry.paused()) return;
            _stakeProvider(p, amount - free);
        }
        uint256 jobId = _nextJobId++;
        vm.prank(market);
        uint256 locked = registry.lockCollateral(p, jobId, model, uint32(gpus), collateral);
        if (locked != amount) _violation("lockCollateral locked the wrong amount");
        _locks.push(LiveLock(p, jobId, locked, uint32(gpus), model));
        ghostLocked[p] += locked;
        ghostLockCount[p] += 1;
        ghostReserved[p][model] += gpus;
    }

    /// @notice The market releases one of the live locks.
    function releaseCollateral(uint256 lockSeed) external {
        callsOf["releaseCollateral"]++;
        if (_locks.length == 0) return;
        uint256 i = lockSeed % _locks.length;
        LiveLock memory l = _locks[i];
        vm.prank(market);
        registry.releaseCollateral(l.provider, l.jobId);
        _locks[i] = _locks[_locks.length - 1];
        _locks.pop();
        ghostLocked[l.provider] -= l.amount;
        ghostLockCount[l.provider] -= 1;
        ghostReserved[l.provider][l.model] -= l.gpus;
    }

    /// @notice The market (as slasher) slashes a provider up to `amount`, paying up to four
    ///         ordered payees (address(0) among the candidates) and burning the rest.
    function slashProvider(uint256 actorSeed, uint256 amount, uint256 nRecipients, uint256 paySeed) external {
        address p = _provider(actorSeed);
        callsOf["slashProvider"]++;
        ProviderRegistry.Provider memory rec = registry.providerOf(p);
        // Sometimes more than can be taken, so the cap (staked − locked) is exercised.
        amount = _bound(amount, 0, uint256(rec.staked) + uint256(rec.staked) / 4 + 1);
        uint256 n = _bound(nRecipients, 0, 4);
        address[] memory recipients = new address[](n);
        uint256[] memory amounts = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            uint256 s = uint256(keccak256(abi.encode(paySeed, i)));
            recipients[i] = _payees[s % _payees.length];
            amounts[i] = _bound(s >> 8, 0, amount);
        }
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

    /// @notice The market records a settled outcome of a provider.
    function recordOutcome(uint256 actorSeed, uint256 outcome) external {
        address p = _provider(actorSeed);
        callsOf["recordOutcome"]++;
        vm.prank(market);
        registry.recordOutcome(p, IProviderRegistry.Outcome(outcome % 3));
        if (registry.reputationOf(p) > 10_000) _violation("reputation above 100%");
    }

    // ================================================================== verifiers

    /// @notice An account registers as a verifier (nothing when it already is).
    function registerVerifier(uint256 actorSeed) external {
        address v = _verifier(actorSeed);
        callsOf["registerVerifier"]++;
        if (registry.verifierOf(v).slot != 0) return;
        _registerVerifier(v);
    }

    /// @notice A verifier stakes `amount` (registering first if needed).
    function stakeAsVerifier(uint256 actorSeed, uint256 amount) external {
        address v = _verifier(actorSeed);
        callsOf["stakeAsVerifier"]++;
        if (registry.verifierOf(v).slot == 0 && !_registerVerifier(v)) return;
        amount = _bound(amount, 1, MAX_STAKE);
        _fund(v, amount);
        uint256 activeBefore = registry.activeStakeOf(v);
        if (registry.paused()) {
            vm.prank(v);
            (bool ok,) = address(registry).call(abi.encodeCall(StakingLedger.stakeAsVerifier, (amount)));
            if (ok) _violation("verifier staked while paused");
            return;
        }
        vm.prank(v);
        registry.stakeAsVerifier(amount);
        if (registry.activeStakeOf(v) != activeBefore + amount) _violation("stakeAsVerifier added the wrong amount");
        ghostDeposited += amount;
    }

    /// @notice A verifier starts unbonding part of its active stake.
    function requestVerifierUnstake(uint256 actorSeed, uint256 amount) external {
        address v = _verifier(actorSeed);
        callsOf["requestVerifierUnstake"]++;
        uint256 active = registry.activeStakeOf(v);
        if (active == 0) return;
        amount = _bound(amount, 1, active);
        vm.prank(v);
        registry.requestVerifierUnstake(amount);
        if (registry.activeStakeOf(v) != active - amount) _violation("requestVerifierUnstake moved the wrong amount");
    }

    /// @notice A verifier withdraws its unbonded stake; before the end it waits or tries early (must revert).
    function withdrawVerifierStake(uint256 actorSeed, uint256 waitSeed) external {
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
    function requestDraw(uint256 kindSeed, uint256 excludedMask, uint256 count) external {
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
        uint256 target = resolver.request(kind, jobId, excluded, uint8(_bound(count, 0, N_VERIFIERS + 1)));
        if (target != block.number + registry.drawDelay()) _violation("requestDraw set the wrong target block");
    }

    /// @notice A keeper processes up to `maxEntries` queued entries, after rolling to the first
    ///         draw's target block when it is not mined yet; target blocks within the 256-block
    ///         window get a hash (`setBlockhash`), older ones have none and are re-targeted.
    function processDraws(uint256 maxEntries, uint256 hashSeed) external {
        callsOf["processDraws"]++;
        uint64 head = registry.queueHead();
        uint64 tail = registry.queueTail();
        if (head == tail) return;
        maxEntries = _bound(maxEntries, 1, 24);
        // The first draw among the entries this call may reach decides whether the call can start.
        for (uint64 pos = head; pos < tail && pos < head + maxEntries; ++pos) {
            StakingLedger.Entry memory e = registry.queueEntry(pos);
            if (e.kind != IStakingLedger.EntryKind.VerifierDraw && e.kind != IStakingLedger.EntryKind.JuryDraw) {
                continue;
            }
            if (pos == head && block.number <= e.targetBlock) vm.roll(e.targetBlock + 1);
            if (block.number > e.targetBlock && block.number - e.targetBlock <= 256 && blockhash(e.targetBlock) == 0) {
                vm.setBlockhash(e.targetBlock, keccak256(abi.encode(hashSeed, e.targetBlock)));
            }
        }
        uint256 before = tail - head;
        vm.prank(keeper);
        uint256 processed = registry.processDraws(maxEntries);
        if (processed == 0 || processed > maxEntries) _violation("processDraws processed nothing or too much");
        uint256 left = registry.queueTail() - registry.queueHead();
        if (left > before) _violation("processDraws grew the queue");
    }

    /// @notice The resolver slashes `bps` of a verifier's stake to a payee (or burns it all when
    ///         the payee is address(0)).
    function slashVerifier(uint256 actorSeed, uint256 bps, uint256 payeeSeed) external {
        address v = _verifier(actorSeed);
        callsOf["slashVerifier"]++;
        bps = _bound(bps, 0, 10_000);
        address to = _payees[payeeSeed % _payees.length];
        uint256 expected = uint256(registry.verifierOf(v).staked) * bps / 10_000;
        uint256 paidBefore = _payeeBalances();
        uint256 slashed = resolver.slash(v, bps, to);
        uint256 paid = _payeeBalances() - paidBefore;
        if (slashed != expected) _violation("slashVerifier took the wrong amount");
        if (paid != (to == address(0) ? 0 : slashed)) _violation("slashVerifier paid the wrong amount");
        ghostSlashPaid += paid;
        ghostBurned += slashed - paid;
    }

    // ================================================================== time and governance

    /// @notice Time passes (1 second to 30 days).
    function warp(uint256 secondsAhead) external {
        callsOf["warp"]++;
        vm.warp(block.timestamp + _bound(secondsAhead, 1, 30 days));
    }

    /// @notice Blocks pass (1 to 300: past 256, queued draw targets leave the hash window).
    function roll(uint256 blocksAhead) external {
        callsOf["roll"]++;
        vm.roll(block.number + _bound(blocksAhead, 1, 300));
    }

    /// @notice Governance sets `unbondingPeriod`, `minStakePerGpu` or `drawDelay` within their
    ///         bounds, or pauses / unpauses (pausing one time in four of those).
    function govern(uint256 which, uint256 value) external {
        callsOf["govern"]++;
        which %= 4;
        uint256 minUnbonding = resolver.SLASH_DELAY() + 1;
        bool paused = registry.paused();
        vm.startPrank(gov);
        if (which == 0) {
            registry.setUnbondingPeriod(_bound(value, minUnbonding, 60 days));
        } else if (which == 1) {
            registry.setMinStakePerGpu(_bound(value, 0, 1_000 ether));
        } else if (which == 2) {
            registry.setDrawDelay(_bound(value, 1, 64));
        } else if (paused) {
            registry.unpause();
        } else if (value % 4 == 0) {
            registry.pause();
        }
        vm.stopPrank();
    }

    /// @notice A stranger (no role) calls a privileged function with arguments that would
    ///         otherwise succeed; the call must revert.
    function strangerCall(uint256 which, uint256 strangerSeed) external {
        callsOf["strangerCall"]++;
        ++strangerCalls;
        address stranger = address(uint160(uint256(keccak256(abi.encode("stranger", strangerSeed % 16)))));
        address p = _providers[0];
        address v = _verifiers[0];
        address target = address(registry);
        bytes memory data;
        which %= 16;
        if (which == 0) {
            data = abi.encodeCall(ProviderRegistry.lockCollateral, (p, 1 << 200, _models[0], 1, 0));
        } else if (which == 1) {
            (address lp, uint256 job) = _locks.length != 0 ? (_locks[0].provider, _locks[0].jobId) : (p, 1);
            data = abi.encodeCall(ProviderRegistry.releaseCollateral, (lp, job));
        } else if (which == 2) {
            data = abi.encodeCall(ProviderRegistry.slash, (p, 1 ether, new address[](0), new uint256[](0)));
        } else if (which == 3) {
            data = abi.encodeCall(ProviderRegistry.recordOutcome, (p, IProviderRegistry.Outcome.Completed));
        } else if (which == 4) {
            data = abi.encodeCall(StakingLedger.requestDraw, (IStakingLedger.EntryKind.VerifierDraw, 1 << 100));
        } else if (which == 5) {
            data = abi.encodeCall(StakingLedger.slashVerifier, (v, 10_000, stranger));
        } else if (which == 6) {
            data = abi.encodeCall(StakingLedger.setUnbondingPeriod, (10 days));
        } else if (which == 7) {
            data = abi.encodeCall(ProviderRegistry.setMinStakePerGpu, (1));
        } else if (which == 8) {
            data = abi.encodeCall(StakingLedger.setDrawDelay, (5));
        } else if (which == 9) {
            data = abi.encodeWithSignature("setResolver(address)", stranger);
        } else if (which == 10) {
            data = abi.encodeWithSignature("setRandomness(address)", stranger);
        } else if (which == 11) {
            data = abi.encodeWithSignature("setRewards(address)", address(0));
        } else if (which == 12) {
            data = abi.encodeWithSignature(registry.paused() ? "unpause()" : "pause()");
        } else if (which == 13) {
            data = abi.encodeWithSignature("grantRole(bytes32,address)", registry.MARKET_ROLE(), stranger);
        } else if (which == 14) {
            target = address(token);
            data = abi.encodeWithSignature("mint(address,uint256)", stranger, 1 ether);
        } else {
            target = address(resolver);
            data = abi.encodeCall(MockResolver.slash, (v, 10_000, stranger));
        }
        vm.prank(stranger);
        (bool ok,) = target.call(data);
        if (ok) {
            ghostStrangerSucceeded = true;
            ghostStrangerSelector = bytes4(data);
        }
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

    // ================================================================== internals

    function _provider(uint256 seed) internal view returns (address) {
        return _providers[seed % N_PROVIDERS];
    }

    function _verifier(uint256 seed) internal view returns (address) {
        return _verifiers[seed % N_VERIFIERS];
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
