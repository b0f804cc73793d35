"""Collects coverage while the tests run: a pytest plugin that traces every call and transaction.

Loaded with ``-p solcover.collect`` (``bin/coverage`` does it). It wraps the web3 provider of the
Ape test network: after every ``eth_sendRawTransaction`` / ``eth_sendTransaction`` it traces the
mined transaction, after every ``eth_call`` it traces the same call, and after an ``eth_estimateGas``
that failed (a transaction the test expected to revert, never sent) it traces that too. At the end
of the session it writes what ran to ``.build/coverage/raw.json``.

``bin/coverage`` now uses ``solcover.fast`` (same data from anvil's step logs, several times faster);
this collector stays for comparison (``SOLCOVER_COLLECTOR=js``). One known difference: the JS tracer
keys frames by ``log.contract.getAddress()``, the storage address, so code run by DELEGATECALL
(``JobAuctions`` under ``JobMarket``) is counted as the calling contract's code here.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

TRACER = (Path(__file__).with_name("tracer.js")).read_text()
RAW_PATH = Path(__file__).resolve().parents[2] / ".build" / "coverage" / "raw.json"

Request = Callable[[str, Any], dict]


@dataclass(slots=True)
class Hits:
    """What ran of one program: program counters, and at each JUMPI the ways taken (bits 1, 2)."""

    pcs: set[int] = field(default_factory=set)
    jumps: dict[int, int] = field(default_factory=dict)

    def add(self, pcs: list[int], jumps: dict[str, int]) -> None:
        self.pcs.update(pcs)
        for pc, bits in jumps.items():
            self.jumps[int(pc)] = self.jumps.get(int(pc), 0) | bits


@dataclass
class Collector:
    """Traces through `request` (the provider's own, unwrapped request function)."""

    request: Request
    codes: dict[str, str] = field(default_factory=dict)  # code hash -> code (runtime or init input)
    runtime: dict[str, Hits] = field(default_factory=dict)  # by code hash
    init: dict[str, Hits] = field(default_factory=dict)  # by init-input hash
    traces: int = 0
    failures: int = 0
    errors: dict[str, int] = field(default_factory=dict)  # why traces failed, with counts
    _code_at: dict[str, str] = field(default_factory=dict)  # address -> code hash, while unchanged

    def after(self, method: str, params: Any, response: dict) -> None:
        """Called with every request the tests make and its response."""
        if method in ("eth_sendRawTransaction", "eth_sendTransaction") and "result" in response:
            self._await_receipt(response["result"])
            self._trace("debug_traceTransaction", [response["result"], {"tracer": TRACER}])
        elif method == "eth_call" or (method == "eth_estimateGas" and "error" in response):
            block = params[1] if len(params) > 1 else "latest"
            self._trace("debug_traceCall", [params[0], block, {"tracer": TRACER}])

    def _await_receipt(self, tx_hash: str, attempts: int = 200) -> None:
        """anvil may return the hash a moment before the block with it is mined."""
        for _ in range(attempts):
            if self.request("eth_getTransactionReceipt", [tx_hash]).get("result"):
                return
            time.sleep(0.01)

    def _trace(self, method: str, params: list) -> None:
        response = self.request(method, params)
        if "result" not in response or not isinstance(response["result"], dict):
            self.failures += 1
            reason = str(response.get("error", response.get("result")))[:200]
            self.errors[reason] = self.errors.get(reason, 0) + 1
            return
        self.traces += 1
        frames: dict[str, dict] = response["result"]
        for key, frame in frames.items():
            if key.startswith("init:"):
                self._code_at.pop(key.removeprefix("init:"), None)  # a new contract lives there now
                digest = self._remember(frame["input"])
                self.init.setdefault(digest, Hits()).add(frame["pcs"], frame["jumps"])
        for key, frame in frames.items():
            if not key.startswith("init:"):
                digest = self._code_hash(key)
                if digest is not None:
                    self.runtime.setdefault(digest, Hits()).add(frame["pcs"], frame["jumps"])

    def _code_hash(self, address: str) -> str | None:
        if address not in self._code_at:
            code = self.request("eth_getCode", [address, "latest"]).get("result", "0x")
            if code in ("0x", ""):
                return None  # created and gone within a call: nothing to map it to
            self._code_at[address] = self._remember(code)
        return self._code_at[address]

    def _remember(self, code: str) -> str:
        digest = hashlib.sha256(code.encode()).hexdigest()
        self.codes.setdefault(digest, code)
        return digest

    def dump(self, path: Path = RAW_PATH) -> Path:
        """Writes what ran, merged with what an earlier dump there holds (runs add up; sessions
        that end together, as `bin/coverage`'s two halves may, take turns: `dump_lock`)."""
        with dump_lock(path):
            return self._dump(path)

    def _dump(self, path: Path) -> Path:
        data = load(path) if path.exists() else {"codes": {}, "runtime": {}, "init": {}, "traces": 0, "failures": 0}
        data["codes"].update(self.codes)
        data["traces"] += self.traces
        data["failures"] += self.failures
        for reason, count in self.errors.items():
            data.setdefault("errors", {})[reason] = data.get("errors", {}).get(reason, 0) + count
        for kind in ("runtime", "init"):
            for digest, hits in getattr(self, kind).items():
                entry = data[kind].setdefault(digest, {"pcs": [], "jumps": {}})
                entry["pcs"] = sorted(set(entry["pcs"]) | hits.pcs)
                for pc, bits in hits.jumps.items():
                    entry["jumps"][str(pc)] = entry["jumps"].get(str(pc), 0) | bits
        self._merge_counters(data)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))
        return path

    def _merge_counters(self, data: dict) -> None:
        """Adds a collector's own counters to `data` before the one write (none here)."""


def load(path: Path = RAW_PATH) -> dict:
    return json.loads(path.read_text())


@contextmanager
def dump_lock(path: Path) -> Iterator[None]:
    """Holds an exclusive lock on `path`'s lock file (beside it) while a session merges its
    data into `path`, so that two test sessions writing the same report do not lose each
    other's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.with_name(path.name + ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def hook(web3_provider: Any, collector: Any) -> None:
    """Routes the provider's requests through `collector`: its `before` (if it has one) ahead of
    each request, its `after` with the response."""
    original = web3_provider.make_request
    before = getattr(collector, "before", None)

    def make_request(method: str, params: Any) -> dict:
        if before is not None:
            before(method, params)
        response = original(method, params)
        collector.after(method, params, response)
        return response

    web3_provider.make_request = make_request
    web3_provider._request_func_cache = (None, None)  # web3 caches the bound method it calls


def unhook(web3_provider: Any, original: Request) -> None:
    """Gives the provider its own request function back."""
    web3_provider.make_request = original
    web3_provider._request_func_cache = (None, None)


def session_fixture(install: Callable[[Any], Any], uninstall: Callable[[Any, Any], None]) -> Any:
    """The plugin's autouse fixture: traces the whole session on the test network with the
    collector `install` makes, then writes .build/coverage/raw.json."""

    @pytest.fixture(scope="session", autouse=True, name="_solcover")
    def _solcover(networks: Any) -> Any:
        web3_provider = networks.provider.web3.provider
        collector = install(web3_provider)
        yield collector
        uninstall(web3_provider, collector)
        collector.dump()

    return _solcover


def install(web3_provider: Any) -> Collector:
    """Wraps `web3_provider.make_request` so that every request is followed by its trace."""
    collector = Collector(request=web3_provider.make_request)
    hook(web3_provider, collector)
    return collector


def uninstall(web3_provider: Any, collector: Collector) -> None:
    unhook(web3_provider, collector.request)


_solcover = session_fixture(install, uninstall)
