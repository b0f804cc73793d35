"""A minimal JSON-RPC client over one HTTP keep-alive connection: single calls and batches.

It speaks HTTP/1.1 through `http.client` directly: `requests` added about half a millisecond of
Python to every round trip (proxy look-ups in the environment, hooks, adapters: an `eth_chainId`
round trip to a local anvil took 650 µs through it, 165 µs here), and a run makes four or five
round trips a step. The JSON goes out with the C encoder, compact."""

from __future__ import annotations

import http.client
import itertools
import json
import socket
import time
from typing import Any
from urllib.parse import urlsplit


class RpcError(RuntimeError):
    """A JSON-RPC error object returned by the node."""

    def __init__(self, method: str, error: dict[str, Any]) -> None:
        super().__init__(f"{method}: {error.get('message', error)}")
        self.method = method
        self.error = error


class RpcConnectionError(ConnectionError):
    """The node could not be reached, or closed the connection without an answer."""


_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False).encode
_DECODE = json.JSONDecoder().decode
_HEADERS = {"Content-Type": "application/json", "Accept": "application/json", "Connection": "keep-alive"}


class Rpc:
    """JSON-RPC over HTTP: `call` sends one request, `batch` sends many in one POST and returns
    their results in the order asked (the node may answer in any order; ids match them up)."""

    def __init__(self, url: str, timeout: float = 600.0) -> None:
        self.url = url
        self.timeout = timeout
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._conn: http.client.HTTPConnection | None = None
        self._ids = itertools.count(1)
        self.requests = 0  # JSON-RPC requests sent (a batch counts its members)
        self.posts = 0  # HTTP round trips
        self.wait_seconds = 0.0  # wall time inside round trips (the node working, the JSON both ways)

    def call(self, method: str, params: list[Any] | None = None) -> Any:
        """One request; raises `RpcError` when the node answers with an error."""
        return self.batch([(method, params or [])])[0]

    def batch(self, calls: list[tuple[str, list[Any]]], *, raise_errors: bool = True) -> list[Any]:
        """Many requests in one HTTP POST. With `raise_errors` off, a failed member comes back
        as its `RpcError` instead of raising."""
        if not calls:
            return []
        first = next(self._ids)
        for _ in range(len(calls) - 1):
            next(self._ids)
        body = _ENCODE(
            [
                {"jsonrpc": "2.0", "id": first + k, "method": method, "params": params}
                for k, (method, params) in enumerate(calls)
            ]
        ).encode()
        started = time.perf_counter()
        try:
            answers = _DECODE(self._post(body))
        finally:
            self.wait_seconds += time.perf_counter() - started
        if isinstance(answers, dict):  # a batch-level error (e.g. an unparsable request)
            raise RpcError("batch", answers.get("error", answers))
        self.requests += len(calls)
        self.posts += 1
        by_id: dict[int, dict[str, Any]] = {a["id"]: a for a in answers}
        results: list[Any] = []
        for k, (method, _params) in enumerate(calls):
            answer = by_id[first + k]
            if "error" in answer:
                err = RpcError(method, answer["error"])
                if raise_errors:
                    raise err
                results.append(err)
            else:
                results.append(answer.get("result"))
        return results

    def _connect(self) -> http.client.HTTPConnection:
        if self._conn is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = kind(self._host, self._port, timeout=self.timeout)
            self._conn.connect()
            if self._conn.sock is not None:
                self._conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self._conn

    def _post(self, body: bytes) -> str:
        """POSTs `body`, returns the answer's text. A keep-alive connection the node closed
        while idle is opened again once (the request was not read: nothing ran twice)."""
        for attempt in (0, 1):
            reused = self._conn is not None
            try:
                conn = self._connect()
                conn.request("POST", self._path, body, _HEADERS)
            except (OSError, http.client.HTTPException) as err:
                self.close()
                if reused and attempt == 0:
                    continue
                raise RpcConnectionError(f"{self.url}: {err}") from err
            try:
                response = conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as err:
                self.close()
                if reused and attempt == 0 and isinstance(err, http.client.RemoteDisconnected):
                    continue  # closed before answering: the idle connection had been dropped
                raise RpcConnectionError(f"{self.url}: {err}") from err
            except (OSError, http.client.HTTPException) as err:
                self.close()
                raise RpcConnectionError(f"{self.url}: {err}") from err
            if response.status != 200:
                self.close()
                raise RpcConnectionError(f"{self.url}: HTTP {response.status}: {data[:300]!r}")
            if response.will_close:
                self.close()
            return data.decode()
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Closes the HTTP connection (the next request opens another)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
