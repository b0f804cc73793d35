// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IDrawConsumer} from "../../../contracts/interfaces/IDrawConsumer.sol";
import {IStakingLedger} from "../../../contracts/interfaces/IStakingLedger.sol";

/// @title MockResolver
/// @notice A stand-in for the DisputeResolver, as the ledger sees one: it requests draws (for the
///         handler), completes them by calling `drawVerifiers`, and slashes verifiers. Each draw
///         is checked against a snapshot of every verifier's active stake taken when it was
///         requested, which is the stake the draw must see (the ledger queues later changes
///         behind it). It never reverts in `completeDraw` (that would revert `processDraws`):
///         it counts what went wrong and the invariants require the counts to stay zero.
///         Before each `processDraws` the handler tells it the seed every draw it expects to
///         complete must get (`expectSeed`: from the VRF word, or the target block's hash); a
///         completion with another seed, or with none expected, is counted in `wrongSeed`.
contract MockResolver is IDrawConsumer {
    /// @notice What `slashDelay()` returns: the ledger's `unbondingPeriod` must exceed it.
    uint256 public constant SLASH_DELAY = 2 days;

    struct Request {
        bool pending;
        IStakingLedger.EntryKind kind;
        uint8 count;
        uint256 snapshotTotal; // Σ active stake of the verifiers at the request
        address[] excluded;
        uint256[] snapshot; // active stake per verifier (index as in `verifiers`), at the request
    }

    IStakingLedger public immutable ledger;
    address public immutable handler;
    address[] internal _verifiers;
    mapping(uint256 => Request) internal _requests;

    /// @notice Draws completed.
    uint256 public drawsCompleted;
    /// @notice Verifiers drawn over all completed draws.
    uint256 public verifiersDrawn;
    /// @notice Drawn verifiers whose active stake was zero when the draw was requested.
    uint256 public drawnWithoutStake;
    /// @notice Drawn verifiers that were in the draw's excluded list.
    uint256 public drawnExcluded;
    /// @notice Draws that returned a different number of seats than `count` (none when no
    ///         verifier is eligible): seats are drawn with replacement.
    uint256 public wrongCount;
    /// @notice Draws whose tree total differed from the active stake at the request.
    uint256 public wrongTotal;
    /// @notice `completeDraw` calls for no pending request, or with another kind, or not from the ledger.
    uint256 public badCompletions;
    /// @notice Last `totalActiveStake` seen in a completion and the snapshot it had to equal (diagnostics).
    uint256 public lastTotalSeen;
    uint256 public lastTotalExpected;
    /// @notice Completions whose seed differed from the one the handler expected (or had none).
    uint256 public wrongSeed;
    /// @notice Completions whose seed was checked (and matched).
    uint256 public seedsChecked;
    /// @notice Last seed received and the one expected (diagnostics).
    uint256 public lastSeedSeen;
    uint256 public lastSeedExpected;
    mapping(uint256 => uint256) internal _expectedSeed;
    mapping(uint256 => bool) internal _seedExpected;

    error NotHandler();

    constructor(IStakingLedger ledger_, address handler_, address[] memory verifiers_) {
        ledger = ledger_;
        handler = handler_;
        _verifiers = verifiers_;
    }

    modifier onlyHandler() {
        if (msg.sender != handler) revert NotHandler();
        _;
    }

    /// @notice Snapshots the verifiers' active stake and queues a draw of `count` verifiers for
    ///         `jobId`, never any address of `excluded`. Handler only.
    function request(IStakingLedger.EntryKind kind, uint256 jobId, address[] calldata excluded, uint8 count)
        external
        onlyHandler
        returns (uint256 targetBlock)
    {
        Request storage r = _requests[jobId];
        r.pending = true;
        r.kind = kind;
        r.count = count;
        r.excluded = excluded;
        uint256 n = _verifiers.length;
        uint256[] memory snap = new uint256[](n);
        uint256 total;
        for (uint256 i; i < n; ++i) {
            snap[i] = ledger.activeStakeOf(_verifiers[i]);
            total += snap[i];
        }
        r.snapshot = snap;
        r.snapshotTotal = total;
        targetBlock = ledger.requestDraw(kind, jobId);
    }

    /// @notice The seed the draw for `jobId` must be completed with, should it complete in the
    ///         next `processDraws`. Handler only.
    function expectSeed(uint256 jobId, uint256 seed) external onlyHandler {
        (_expectedSeed[jobId], _seedExpected[jobId]) = (seed, true);
    }

    /// @notice Slashes `amount` CMP of `verifier`'s stake (all of it at most) to `to` through the
    ///         ledger. Handler only.
    function slash(address verifier, uint256 amount, address to) external onlyHandler returns (uint256) {
        return ledger.slashVerifier(verifier, amount, to);
    }

    /// @inheritdoc IDrawConsumer
    function completeDraw(IStakingLedger.EntryKind kind, uint256 jobId, uint256 seed) external {
        Request storage r = _requests[jobId];
        if (msg.sender != address(ledger) || !r.pending || r.kind != kind) {
            ++badCompletions;
            return;
        }
        r.pending = false;
        ++drawsCompleted;

        // The seed must be keccak256(abi.encode(word or target block hash, jobId, kind)).
        (lastSeedSeen, lastSeedExpected) = (seed, _expectedSeed[jobId]);
        if (!_seedExpected[jobId] || seed != _expectedSeed[jobId]) ++wrongSeed;
        else ++seedsChecked;
        delete _seedExpected[jobId];
        delete _expectedSeed[jobId];

        // The tree must hold exactly the active stake as it stood at the request.
        uint256 total = _totalActiveStake();
        (lastTotalSeen, lastTotalExpected) = (total, r.snapshotTotal);
        if (total != r.snapshotTotal) ++wrongTotal;

        address[] memory drawn = ledger.drawVerifiers(seed, r.excluded, r.count);
        verifiersDrawn += drawn.length;

        uint256 eligible;
        for (uint256 i; i < _verifiers.length; ++i) {
            if (r.snapshot[i] != 0 && !_isExcluded(r.excluded, _verifiers[i])) ++eligible;
        }
        if (drawn.length != (eligible == 0 ? 0 : r.count)) ++wrongCount;

        for (uint256 i; i < drawn.length; ++i) {
            if (_isExcluded(r.excluded, drawn[i])) ++drawnExcluded;
            if (_snapshotOf(r, drawn[i]) == 0) ++drawnWithoutStake;
        }
    }

    /// @inheritdoc IDrawConsumer
    function slashDelay() external pure returns (uint256) {
        return SLASH_DELAY;
    }

    /// @notice Whether the draw for `jobId` was requested and not yet completed.
    function pending(uint256 jobId) external view returns (bool) {
        return _requests[jobId].pending;
    }

    function _totalActiveStake() private view returns (uint256) {
        (bool ok, bytes memory ret) = address(ledger).staticcall(abi.encodeWithSignature("totalActiveStake()"));
        return ok ? abi.decode(ret, (uint256)) : type(uint256).max;
    }

    function _snapshotOf(Request storage r, address account) private view returns (uint256) {
        for (uint256 i; i < _verifiers.length; ++i) {
            if (_verifiers[i] == account) return r.snapshot[i];
        }
        return 0; // not a verifier at all
    }

    function _isExcluded(address[] storage excluded, address account) private view returns (bool) {
        for (uint256 i; i < excluded.length; ++i) {
            if (excluded[i] == account) return true;
        }
        return false;
    }
}
