"""The project's content-store server: ``PUT /<sha256>`` stores a body whose hash is its name,
``GET /<sha256>`` (and ``HEAD``) returns it. Standard library only (``ThreadingHTTPServer``),
objects kept in a `LocalStore` folder. It has no authentication: run it for a local or trusted
network, or behind a proxy that authenticates uploads (docs/workloads.md).

    server = StoreServer("store-dir", port=0).start()   # a thread; server.url is the base URL
    ...
    server.stop()
"""

from __future__ import annotations

import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from compute_market.workloads.errors import StoreError
from compute_market.workloads.manifest import SHA256_RE
from compute_market.workloads.store import DEFAULT_MAX_BYTES, LocalStore, sha256_hex


class _Handler(BaseHTTPRequestHandler):
    """One request against the server's `LocalStore`."""

    server: _StoreHTTPServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._read(with_body=True)

    def do_HEAD(self) -> None:
        self._read(with_body=False)

    def do_PUT(self) -> None:
        digest = self._digest()
        if digest is None:
            return
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._reply(HTTPStatus.LENGTH_REQUIRED, b"Content-Length required\n", close=True)
            return
        size = int(length)
        if size > self.server.store.max_bytes:
            self._reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, b"object above the server's limit\n", close=True)
            return
        data = self.rfile.read(size)
        if sha256_hex(data) != digest:
            self._reply(HTTPStatus.BAD_REQUEST, b"sha256 of the body does not match the path\n")
            return
        existed = self.server.store.has(digest)
        try:
            self.server.store.put(data)
        except (StoreError, OSError) as exc:
            self._reply(HTTPStatus.INTERNAL_SERVER_ERROR, f"{exc}\n".encode())
            return
        self._reply(HTTPStatus.OK if existed else HTTPStatus.CREATED, f"{digest}\n".encode())

    def _read(self, *, with_body: bool) -> None:
        digest = self._digest()
        if digest is None:
            return
        try:
            data = self.server.store.get(digest)
        except StoreError:
            self._reply(HTTPStatus.NOT_FOUND, b"not found\n", with_body=with_body)
            return
        self._reply(HTTPStatus.OK, data, with_body=with_body, content_type="application/octet-stream")

    def _digest(self) -> str | None:
        name = self.path.split("?", 1)[0].lstrip("/")
        if not SHA256_RE.match(name):
            self._reply(HTTPStatus.NOT_FOUND, b"paths are /<sha256 in lowercase hex>\n", close=True)
            return None
        return name

    def _reply(
        self,
        status: HTTPStatus,
        body: bytes,
        *,
        with_body: bool = True,
        content_type: str = "text/plain; charset=utf-8",
        close: bool = False,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if close:  # the request body was not read: the connection cannot be reused
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class _StoreHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], store: LocalStore, verbose: bool) -> None:
        self.store = store
        self.verbose = verbose
        super().__init__(address, _Handler)


class StoreServer:
    """The store server over the folder ``root``, listening on ``host:port`` (port 0: a free one)."""

    def __init__(
        self,
        root: Path | str,
        host: str = "127.0.0.1",
        port: int = 0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        verbose: bool = False,
    ) -> None:
        self.store = LocalStore(root, max_bytes=max_bytes)
        self._httpd = _StoreHTTPServer((host, port), self.store, verbose)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, ``http://host:port/``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> StoreServer:
        """Serves in a daemon thread and returns at once."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="store-server", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serves in this thread until interrupted."""
        try:
            self._httpd.serve_forever()
        finally:
            self._httpd.server_close()

    def stop(self) -> None:
        """Stops serving and closes the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
