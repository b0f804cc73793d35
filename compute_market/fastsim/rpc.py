"""A minimal JSON-RPC client over one HTTP keep-alive session: single calls and batches."""

from __future__ import annotations

import itertools
import time
from typing import Any

import requests


class RpcError(RuntimeError):
    """A JSON-RPC error object returned by the node."""

    def __init__(self, method: str, error: dict[str, Any]) -> None:
        super().__init__(f"{method}: {error.get('message', error)}")
        self.method = method
        self.error = error


class Rpc:
    """JSON-RPC over HTTP: `call` sends one request, `batch` sends many in one POST and returns
    their results in the order asked (the node may answer in any order; ids match them up)."""

    def __init__(self, url: str, timeout: float = 600.0) -> None:
        self.url = url
        self.timeout = timeout
        self.session = requests.Session()
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
        ids = [next(self._ids) for _ in calls]
        body = [
            {"jsonrpc": "2.0", "id": i, "method": method, "params": params}
            for i, (method, params) in zip(ids, calls, strict=True)
        ]
        started = time.perf_counter()
        try:
            response = self.session.post(self.url, json=body, timeout=self.timeout)
            response.raise_for_status()
            answers = response.json()
        finally:
            self.wait_seconds += time.perf_counter() - started
        if isinstance(answers, dict):  # a batch-level error (e.g. an unparsable request)
            raise RpcError("batch", answers.get("error", answers))
        self.requests += len(calls)
        self.posts += 1
        by_id = {a["id"]: a for a in answers}
        results: list[Any] = []
        for i, (method, _params) in zip(ids, calls, strict=True):
            answer = by_id[i]
            if "error" in answer:
                err = RpcError(method, answer["error"])
                if raise_errors:
                    raise err
                results.append(err)
            else:
                results.append(answer.get("result"))
        return results

    def close(self) -> None:
        """Closes the HTTP session."""
        self.session.close()
