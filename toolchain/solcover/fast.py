"""Collects coverage while the tests run, from anvil's native step logs (the default collector).

Loaded with ``-p solcover.fast`` (``bin/coverage`` does it; ``SOLCOVER_COLLECTOR=js bin/coverage``
selects the original JS-tracer collector, ``solcover.collect``). It records the same thing as
``solcover.collect`` and writes the same ``.build/coverage/raw.json``: for every program that ran,
the program counters it executed and, at each JUMPI, the ways it went (bit 1: fell through, bit 2:
jumped). What it traces is the same too: every mined transaction, every ``eth_call``, every
``eth_estimateGas`` that failed. How it traces is what differs, and it is several times faster:

- **Step logs instead of a JS tracer.** anvil runs a JS tracer's ``step`` function in an embedded
  interpreter for every instruction, which costs seconds for a transaction of a few hundred
  thousand steps. Its native struct logger (``debug_traceTransaction`` / ``debug_traceCall``
  without a ``tracer``, stack, memory, storage and return data disabled) lists each step's ``pc``,
  ``op`` and ``depth`` only. A mined transaction is not even re-executed: Ape starts anvil with
  ``--steps-tracing``, so anvil returns the steps it recorded while mining. The way a JUMPI went
  is read from the step after it: ``pc + 1`` when it fell through, the jump target otherwise.
- **The call tree names the code.** Step logs do not say which contract a frame runs, so when a
  trace goes deeper than its first frame (or creates a contract) the collector also asks for
  anvil's native ``callTracer`` tree and pairs its calls, in order, with the call instructions of
  the step log (each ``CALL``/``STATICCALL``/``DELEGATECALL``/``CALLCODE``/``CREATE``/``CREATE2``
  has one node, precompiles and accounts without code included; a call with code is followed by
  steps one level deeper). A frame is attributed to the code it runs: the callee's for a
  ``DELEGATECALL`` (``JobMarket``'s auction functions run ``JobAuctions``' code), the init code
  for a creation. If the two traces ever disagree the item is traced again with the JS tracer
  (counted in ``raw.json`` as ``fallbacks``).
- **Fast decoding.** The step log is fetched over the provider's own endpoint with a persistent
  session and decoded by ``msgspec`` straight into small structs (web3 would build a dict per step).
- **Transactions are traced on a worker thread**, while the test goes on (anvil serves the trace
  on the other core). The worker must be done before anything that could take a mined transaction
  away or change code (an ``evm_revert`` between tests, ``anvil_setCode``, any request not known
  to be harmless): such requests wait for it, and the cache of code by address is cleared then.
  ``eth_call``s are traced at once (they depend on the state of the moment; each costs a couple of
  milliseconds). ``SOLCOVER_BACKGROUND=0`` traces transactions at once too.
- **Repeated calls are traced once.** An ``eth_call`` identical to one already traced (same call,
  same block argument) since the chain last changed runs the same code the same way, so it is
  not traced again (counted in ``raw.json`` as ``skipped_calls``). The chain counts as changed
  after any request not known to be read-only and whenever the block number moves.

``raw.json`` also gets ``timings`` (seconds per kind of request, and the bytes and steps of the step
logs) and ``open_jumps`` (JUMPIs that were the last step of a failing frame, whose way step logs
cannot tell; the JS tracer would have read it off the stack; 0 in every run so far).

Set ``SOLCOVER_LEGACY_DELEGATECALL=1`` to attribute delegate calls as the JS tracer does (to the
calling contract's code: the JS tracer keys frames by ``log.contract.getAddress()``, the storage
address), which only serves to compare the two collectors figure for figure.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import msgspec
import requests

from solcover.collect import (
    RAW_PATH,
    TRACER,
    Collector,
    Hits,
    Request,
    hook,
    session_fixture,
    unhook,
)

STEP_OPTIONS = {"disableStack": True, "disableMemory": True, "disableStorage": True, "enableReturnData": False}
CALL_OPS = frozenset({"CALL", "STATICCALL", "DELEGATECALL", "CALLCODE", "CREATE", "CREATE2"})
CREATE_OPS = frozenset({"CREATE", "CREATE2"})
SENDS = frozenset({"eth_sendRawTransaction", "eth_sendTransaction"})
# Requests that leave the chain as it was: every other request (a transaction, a snapshot's revert, a
# time or balance change, ...) makes the next eth_call worth tracing again even if it repeats one.
READ_ONLY = frozenset(
    {
        "eth_call",
        "eth_estimateGas",
        "eth_getBalance",
        "eth_getCode",
        "eth_getStorageAt",
        "eth_getTransactionCount",
        "eth_getTransactionReceipt",
        "eth_getTransactionByHash",
        "eth_getBlockByNumber",
        "eth_getBlockByHash",
        "eth_blockNumber",
        "eth_chainId",
        "eth_accounts",
        "eth_gasPrice",
        "eth_maxPriorityFeePerGas",
        "eth_feeHistory",
        "eth_getLogs",
        "eth_syncing",
        "net_version",
        "web3_clientVersion",
        "anvil_nodeInfo",
        "debug_traceTransaction",
        "debug_traceCall",
    }
)


# Changes to the chain that neither drop mined transactions nor change code: the worker may go on
# tracing through them (every other change waits for it).
KEEPS_HISTORY = frozenset(
    {
        "evm_snapshot",
        "evm_mine",
        "anvil_mine",
        "evm_increaseTime",
        "evm_setNextBlockTimestamp",
        "anvil_setNextBlockTimestamp",
        "anvil_setBlockTimestampInterval",
        "anvil_removeBlockTimestampInterval",
        "anvil_setNextBlockBaseFeePerGas",
        "anvil_setBalance",
        "anvil_setNonce",
        "anvil_setStorageAt",
        "anvil_impersonateAccount",
        "anvil_stopImpersonatingAccount",
        "anvil_autoImpersonateAccount",
        "anvil_setCoinbase",
        "evm_setAutomine",
        "evm_setBlockGasLimit",
    }
)


class Step(msgspec.Struct):
    pc: int
    op: str
    depth: int


class StepLog(msgspec.Struct):
    structLogs: list[Step]  # noqa: N815 (anvil's field name)


class StepResponse(msgspec.Struct):
    result: StepLog | None = None
    error: Any = None


_DECODE = msgspec.json.Decoder(StepResponse).decode


class MismatchError(Exception):
    """The step log and the call tree of one trace do not pair up."""


class NeedTreeError(Exception):
    """A trace without its call tree entered a frame: the tree must name the code it ran."""


@dataclass(slots=True)
class _Frame:
    key: str  # "0x..." (runtime code of that address) or "init:0x..." (init code creating it)
    node: dict | None  # the call tree's node of this frame (None: not fetched, no calls expected)
    storage: str  # the address whose storage it runs on (what the JS tracer keys frames by)
    next_call: int = 0  # index of the node's next child


_UNNAMED = _Frame("", None, "")  # a call whose callee is not known yet (no call tree fetched)


@dataclass
class FastCollector(Collector):
    """Drop-in for `solcover.collect.Collector` (same hits, same dump), tracing from step logs."""

    endpoint: str = ""
    legacy_delegatecall: bool = False
    background: bool = True  # trace mined transactions on a worker thread
    fallbacks: int = 0  # traces redone with the JS tracer
    skipped_calls: int = 0  # repeated eth_calls not traced again
    open_jumps: int = 0  # JUMPIs that were a frame's last step (it failed there): way unknown
    timings: dict[str, list[float]] = field(default_factory=dict)  # what -> [count, seconds]
    provider_request: Request | None = None  # the provider's own request function (uninstall)
    _ids: Any = field(default_factory=lambda: count(1))
    _epoch: int = 0
    _block: str = ""
    _seen_calls: set[str] = field(default_factory=set)
    _local: threading.local = field(default_factory=threading.local)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _queue: queue.Queue = field(default_factory=queue.Queue)
    _worker: threading.Thread | None = None

    def __post_init__(self) -> None:
        # Every request of the collector goes over its own sessions (one per thread), never through
        # web3: the worker thread must not share the provider's session, and web3's decoding is slow.
        self.provider_request = self.request
        self.request = self._rpc

    # -- requests ------------------------------------------------------------------------------

    def _post(self, method: str, params: list) -> bytes:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        body = json.dumps({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params})
        response = session.post(self.endpoint, data=body, headers={"Content-Type": "application/json"})
        return response.content

    def _rpc(self, method: str, params: Any) -> dict:
        try:
            return json.loads(self._post(method, params))
        except (ValueError, requests.RequestException) as error:
            return {"error": f"{type(error).__name__}: {error}"}

    def _timed(self, what: str, started: float) -> None:
        with self._lock:
            entry = self.timings.setdefault(what, [0, 0.0])
            entry[0] += 1
            entry[1] += time.perf_counter() - started

    # -- what to trace ---------------------------------------------------------------------------

    def before(self, method: str, params: Any) -> None:
        """Called before every request the tests make: a change to the chain other than a new
        transaction (a snapshot's revert, a new timestamp, ...) waits for the traces of the
        transactions mined so far (a revert would take them away) and forgets the code seen."""
        if method in READ_ONLY or method in SENDS:
            return
        self._epoch += 1
        if method not in KEEPS_HISTORY:
            self.flush()
            with self._lock:
                self._code_at.clear()  # an address may hold other code after a revert

    def after(self, method: str, params: Any, response: dict) -> None:
        """Called with every request the tests make and its response."""
        if method in SENDS:
            self._epoch += 1
            if "result" in response:
                if self.background:
                    self._start_worker()
                    self._queue.put(response["result"])
                else:
                    self._traced_transaction(response["result"])
        elif method == "eth_call" or (method == "eth_estimateGas" and "error" in response):
            started = time.perf_counter()
            block = params[1] if len(params) > 1 else "latest"
            if self._repeated(params[0], block):
                self.skipped_calls += 1
                return
            self._trace_call(params[0], block)
            self._timed("call", started)

    def flush(self) -> None:
        """Waits until every transaction handed to the worker is traced."""
        if self._worker is not None:
            started = time.perf_counter()
            self._queue.join()
            self._timed("waiting for the worker", started)

    def _start_worker(self) -> None:
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="solcover", daemon=True)
            self._worker.start()

    def _work(self) -> None:
        while True:
            tx_hash = self._queue.get()
            try:
                self._traced_transaction(tx_hash)
            except Exception as error:  # a failed trace is counted, never fatal
                with self._lock:
                    self.failures += 1
                    reason = f"worker: {type(error).__name__}: {error}"[:200]
                    self.errors[reason] = self.errors.get(reason, 0) + 1
            finally:
                self._queue.task_done()

    def _traced_transaction(self, tx_hash: str) -> None:
        started = time.perf_counter()
        self._trace_transaction(tx_hash)
        self._timed("transaction", started)

    def _trace(self, method: str, params: list) -> None:
        with self._lock:
            super()._trace(method, params)

    def _repeated(self, call: dict, block: Any) -> bool:
        """Whether the same call ran on the same chain since the chain last changed."""
        number = self.request("eth_blockNumber", []).get("result", "")
        if number != self._block:
            self._block = number
            self._epoch += 1
        key = f"{self._epoch}|{json.dumps([call, block], sort_keys=True)}"
        if key in self._seen_calls:
            return True
        if len(self._seen_calls) > 100_000:
            self._seen_calls.clear()
        self._seen_calls.add(key)
        return False

    # -- tracing ---------------------------------------------------------------------------------

    def _trace_transaction(self, tx_hash: str) -> None:
        receipt = self._await_receipt_value(tx_hash)
        self._trace_steps("debug_traceTransaction", [tx_hash], (receipt or {}).get("to"))

    def _trace_call(self, call: dict, block: Any) -> None:
        self._trace_steps("debug_traceCall", [call, block], call.get("to"))

    def _trace_steps(self, method: str, target: list, to: str | None) -> None:
        """Traces a transaction or call (`target`: the method's parameters before the options) from
        its step log, with its call tree when needed; with the JS tracer if that fails."""
        steps = self._steps(method, [*target, STEP_OPTIONS])
        if steps is not None:
            frames = None
            if to is not None:  # a call: its first frame runs the code at `to`
                try:
                    frames = self._frames(steps, {"type": "CALL", "to": to, "shallow": True})
                except NeedTreeError:
                    pass
                except MismatchError as mismatch:
                    self._fallback(mismatch)
                    steps = None
            if steps is not None and frames is None:
                tree = self._call_tree(method, [*target, {"tracer": "callTracer"}])
                try:
                    frames = self._frames(steps, tree) if tree is not None else None
                except MismatchError as mismatch:
                    self._fallback(mismatch)
            if frames is not None:
                started = time.perf_counter()
                with self._lock:
                    self._add(frames)
                self._timed("record", started)
                return
        self._trace(method, [*target, {"tracer": TRACER}])

    def _fallback(self, mismatch: Exception) -> None:
        with self._lock:
            self.fallbacks += 1
            reason = f"fallback: {mismatch}"[:200]
            self.errors[reason] = self.errors.get(reason, 0) + 1

    def _await_receipt_value(self, tx_hash: str, attempts: int = 200) -> dict | None:
        """anvil may return the hash a moment before the block with it is mined."""
        for _ in range(attempts):
            receipt = self.request("eth_getTransactionReceipt", [tx_hash]).get("result")
            if receipt:
                return receipt
            time.sleep(0.01)
        return None

    def _steps(self, method: str, params: list) -> list[Step] | None:
        started = time.perf_counter()
        try:
            raw = self._post(method, params)
        except requests.RequestException as error:
            raw = json.dumps({"error": f"{type(error).__name__}: {error}"}).encode()
        self._timed(f"{method} steps (request)", started)
        started = time.perf_counter()
        try:
            decoded = _DECODE(raw)
        except msgspec.DecodeError:
            decoded = StepResponse(error=raw[:200].decode(errors="replace"))
        self._timed(f"{method} steps (decode)", started)
        with self._lock:
            sizes = self.timings.setdefault(f"{method} steps (bytes, steps)", [0, 0])
            sizes[0] += len(raw)
            sizes[1] += len(decoded.result.structLogs) if decoded.result is not None else 0
        if decoded.result is None:
            reason = f"steps: {decoded.error}"[:200]
            with self._lock:
                self.errors[reason] = self.errors.get(reason, 0) + 1
            return None
        return decoded.result.structLogs

    def _call_tree(self, method: str, params: list) -> dict | None:
        started = time.perf_counter()
        response = self.request(method, params)
        self._timed(f"{method} callTracer", started)
        result = response.get("result")
        return result if isinstance(result, dict) else None

    def _add(self, frames: dict[str, tuple[set[int], dict[int, int], str]]) -> None:
        self.traces += 1
        for key, (pcs, jumps, code) in frames.items():  # constructors first, as the JS collector
            if key.startswith("init:"):
                self._code_at.pop(key.removeprefix("init:"), None)  # a new contract lives there now
                _merge(self.init.setdefault(self._remember(code), Hits()), pcs, jumps)
        for key, (pcs, jumps, _) in frames.items():
            if not key.startswith("init:"):
                digest = self._code_hash(key)
                if digest is not None:
                    _merge(self.runtime.setdefault(digest, Hits()), pcs, jumps)

    def _frames(self, steps: list[Step], root: dict) -> dict[str, tuple[set[int], dict[int, int], str]]:
        """Splits the steps by frame: key -> (pcs, JUMPI ways, init code)."""
        out: dict[str, tuple[set[int], dict[int, int], str]] = {}
        stack: list[_Frame] = []
        frame = self._frame(root, None)
        pending: _Frame | None = None
        pcs, jumps = self._slot(out, frame, root)
        depth = steps[0].depth if steps else 1
        last = len(steps) - 1
        open_jumps = 0
        for i, step in enumerate(steps):
            d = step.depth
            if d != depth:
                if pending is _UNNAMED:
                    raise NeedTreeError
                if d == depth + 1 and pending is not None:
                    stack.append(frame)
                    frame = pending
                elif d < depth and len(stack) >= depth - d:
                    for _ in range(depth - d):
                        frame = stack.pop()
                else:
                    raise MismatchError(f"depth {depth} -> {d} at step {i}")
                depth = d
                pcs, jumps = self._slot(out, frame, frame.node)
            pending = None
            pc = step.pc
            pcs.add(pc)
            op = step.op
            if op == "JUMPI":
                if i < last and steps[i + 1].depth == d:
                    jumps[pc] = jumps.get(pc, 0) | (1 if steps[i + 1].pc == pc + 1 else 2)
                else:
                    open_jumps += 1
            elif op in CALL_OPS:
                node = frame.node
                if node is not None and node.get("shallow"):
                    pending = _UNNAMED  # fine if the call runs no code (a precompile, an account)
                    continue
                calls = node.get("calls", []) if node is not None else []
                if frame.next_call >= len(calls):
                    raise MismatchError(f"{op} at pc {pc} without a node in the call tree")
                child = calls[frame.next_call]
                frame.next_call += 1
                if child.get("type") != op:
                    raise MismatchError(f"{op} at pc {pc} paired with a {child.get('type')} node")
                pending = self._frame(child, frame)
        if open_jumps:
            with self._lock:
                self.open_jumps += open_jumps
        return out

    def _frame(self, node: dict, parent: _Frame | None) -> _Frame:
        kind = node.get("type", "CALL")
        to = (node.get("to") or "").lower()
        if kind in CREATE_OPS:
            return _Frame("init:" + to, node, to)
        if kind in ("DELEGATECALL", "CALLCODE") and parent is not None:
            if self.legacy_delegatecall:
                return _Frame(parent.key, node, parent.storage)
            return _Frame(to, node, parent.storage)
        return _Frame(to, node, to)

    @staticmethod
    def _slot(out: dict, frame: _Frame, node: dict | None) -> tuple[set[int], dict[int, int]]:
        if frame.key not in out:
            code = (node or {}).get("input", "") if frame.key.startswith("init:") else ""
            out[frame.key] = (set(), {}, code)
        pcs, jumps, _ = out[frame.key]
        return pcs, jumps

    def dump(self, path: Path = RAW_PATH) -> Path:
        self.flush()
        return Collector.dump(self, path)

    def _merge_counters(self, data: dict) -> None:
        data["fallbacks"] = data.get("fallbacks", 0) + self.fallbacks
        data["skipped_calls"] = data.get("skipped_calls", 0) + self.skipped_calls
        data["open_jumps"] = data.get("open_jumps", 0) + self.open_jumps
        timings = data.setdefault("timings", {})
        for what, (n, seconds) in self.timings.items():
            before = timings.get(what, [0, 0.0])
            timings[what] = [before[0] + n, round(before[1] + seconds, 3)]


def _merge(hits: Hits, pcs: set[int], jumps: dict[int, int]) -> None:
    hits.pcs |= pcs
    for pc, bits in jumps.items():
        hits.jumps[pc] = hits.jumps.get(pc, 0) | bits


def install(web3_provider: Any) -> FastCollector:
    """Wraps `web3_provider.make_request` so that every request is followed by its trace."""
    collector = FastCollector(
        request=web3_provider.make_request,
        endpoint=web3_provider.endpoint_uri,
        legacy_delegatecall=os.environ.get("SOLCOVER_LEGACY_DELEGATECALL") == "1",
        background=os.environ.get("SOLCOVER_BACKGROUND", "1") == "1",
    )
    hook(web3_provider, collector)
    return collector


def uninstall(web3_provider: Any, collector: FastCollector) -> None:
    collector.flush()
    assert collector.provider_request is not None
    unhook(web3_provider, collector.provider_request)


_solcover = session_fixture(install, uninstall)
