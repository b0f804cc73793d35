"""Content-addressed storage for manifests, inputs and result bundles, and checked fetching by URI.

Every object is named by the sha256 of its bytes. `LocalStore` keeps them in a folder (one file
per object, named by its hash, written atomically); `HttpStore` talks to the project's store
server (`compute_market.workloads.server`, ``ape run store``): ``PUT /<sha256>`` and
``GET /<sha256>``. `fetch` reads a ``file://``, ``http(s)://``, ``ipfs://`` or ``cas://`` URI and
checks the hash of what it got, whatever the source: a mismatch, an unreachable URI or an object
above the size limit raises `StoreError`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from compute_market.workloads.errors import StoreError
from compute_market.workloads.manifest import SHA256_RE

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
DEFAULT_IPFS_GATEWAY = "https://ipfs.io/ipfs/"
DEFAULT_TIMEOUT_S = 30.0
_CHUNK = 1 << 16


def sha256_hex(data: bytes) -> str:
    """The lowercase hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def normalize_digest(digest: str | bytes) -> str:
    """A sha256 as 64 lowercase hex digits, from hex (with or without ``0x``) or 32 raw bytes."""
    text = digest.hex() if isinstance(digest, bytes) else digest.removeprefix("0x").lower()
    if not SHA256_RE.match(text):
        raise StoreError(f"not a sha256 digest: {digest!r}")
    return text


def check_digest(data: bytes, expected: str, source: str) -> bytes:
    """Returns ``data`` if its sha256 is ``expected``; raises `StoreError` naming ``source`` otherwise."""
    actual = sha256_hex(data)
    if actual != expected:
        raise StoreError(f"{source}: sha256 mismatch (expected {expected}, got {actual})")
    return data


class Store(Protocol):
    """A content-addressed store: `put` returns the object's sha256; `get` returns checked bytes."""

    def put(self, data: bytes) -> str: ...

    def get(self, digest: str) -> bytes: ...


class LocalStore:
    """A folder of objects, each a file named by its sha256 (lowercase hex)."""

    def __init__(self, root: Path | str, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, digest: str) -> Path:
        """Where the object ``digest`` lives (whether or not it exists)."""
        return self.root / normalize_digest(digest)

    def has(self, digest: str) -> bool:
        """Whether the object is stored."""
        return self.path(digest).is_file()

    def put(self, data: bytes) -> str:
        """Stores ``data`` (atomically: a temporary file renamed into place) and returns its sha256."""
        if len(data) > self.max_bytes:
            raise StoreError(f"object of {len(data)} bytes is above the store's limit of {self.max_bytes}")
        digest = sha256_hex(data)
        target = self.root / digest
        if target.is_file():
            return digest
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".put-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def put_checked(self, data: bytes, digest: str) -> str:
        """Stores ``data`` only if its sha256 is ``digest`` (what the HTTP server does on PUT)."""
        return self.put(check_digest(data, normalize_digest(digest), "put"))

    def get(self, digest: str) -> bytes:
        """The object's bytes, re-checked against its name (a corrupted file raises `StoreError`)."""
        name = normalize_digest(digest)
        try:
            data = (self.root / name).read_bytes()
        except FileNotFoundError:
            raise StoreError(f"cas://{name}: not in the store at {self.root}") from None
        return check_digest(data, name, f"cas://{name}")

    def uri(self, digest: str) -> str:
        """A ``file://`` URI of the object (for a store on a shared file system)."""
        return self.path(digest).resolve().as_uri()


class HttpStore:
    """A client of the project's store server (``ape run store``): ``PUT``/``GET`` ``<base_url>/<sha256>``."""

    def __init__(self, base_url: str, timeout_s: float = DEFAULT_TIMEOUT_S, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes

    def url(self, digest: str) -> str:
        """The object's ``http(s)://`` URI (fetchable by anyone who can reach the server)."""
        return self.base_url + normalize_digest(digest)

    uri = url

    def put(self, data: bytes) -> str:
        """Uploads ``data``; the server checks that its sha256 is the name it is stored under."""
        digest = sha256_hex(data)
        request = urllib.request.Request(self.url(digest), data=data, method="PUT")
        request.add_header("Content-Type", "application/octet-stream")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            raise StoreError(f"PUT {self.url(digest)}: HTTP {exc.code} {_body(exc)}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise StoreError(f"PUT {self.url(digest)}: unreachable ({_reason(exc)})") from None
        return digest

    def get(self, digest: str) -> bytes:
        """Downloads and checks the object."""
        name = normalize_digest(digest)
        return check_digest(_http_get(self.url(name), self.max_bytes, self.timeout_s), name, self.url(name))


@dataclass(frozen=True)
class FetchConfig:
    """How `fetch` resolves URIs: the IPFS gateway, the store behind ``cas://``, a size limit, a timeout."""

    ipfs_gateway: str = DEFAULT_IPFS_GATEWAY
    cas: Store | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    timeout_s: float = DEFAULT_TIMEOUT_S


def fetch(uri: str, expected_sha256: str | bytes, config: FetchConfig | None = None) -> bytes:
    """Reads ``uri`` and returns its bytes if their sha256 is ``expected_sha256``; `StoreError` otherwise.

    ``file:///abs/path``; ``http(s)://…`` (any server or gateway); ``ipfs://CID[/path]`` through
    ``config.ipfs_gateway``; ``cas://<sha256>`` through ``config.cas`` (whose name must be the
    expected hash). Objects above ``config.max_bytes`` are refused without being read in full.
    """
    cfg = config or FetchConfig()
    expected = normalize_digest(expected_sha256)
    scheme, sep, rest = uri.partition("://")
    if not sep:
        raise StoreError(f"{uri}: not a URI")
    if scheme == "file":
        data = _file_get(uri, cfg.max_bytes)
    elif scheme in ("http", "https"):
        data = _http_get(uri, cfg.max_bytes, cfg.timeout_s)
    elif scheme == "ipfs":
        data = _http_get(cfg.ipfs_gateway.rstrip("/") + "/" + rest, cfg.max_bytes, cfg.timeout_s)
    elif scheme == "cas":
        if normalize_digest(rest) != expected:
            raise StoreError(f"{uri}: names another object than the expected {expected}")
        if cfg.cas is None:
            raise StoreError(f"{uri}: no content store configured for cas:// URIs")
        data = cfg.cas.get(expected)
        if len(data) > cfg.max_bytes:
            raise StoreError(f"{uri}: {len(data)} bytes, above the limit of {cfg.max_bytes}")
    else:
        raise StoreError(f"{uri}: unsupported scheme {scheme!r} (file, http, https, ipfs, cas)")
    return check_digest(data, expected, uri)


def _file_get(uri: str, max_bytes: int) -> bytes:
    parts = urlsplit(uri)
    if parts.netloc not in ("", "localhost"):
        raise StoreError(f"{uri}: file:// URIs must name a local absolute path")
    path = Path(unquote(parts.path))
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > max_bytes:
                raise StoreError(f"{uri}: {size} bytes, above the limit of {max_bytes}")
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise StoreError(f"{uri}: unreachable ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise StoreError(f"{uri}: above the limit of {max_bytes} bytes")
    return data


def _http_get(url: str, max_bytes: int, timeout_s: float) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) > max_bytes:
                raise StoreError(f"{url}: {length} bytes, above the limit of {max_bytes}")
            chunks: list[bytes] = []
            total = 0
            while chunk := response.read(_CHUNK):
                total += len(chunk)
                if total > max_bytes:
                    raise StoreError(f"{url}: above the limit of {max_bytes} bytes")
                chunks.append(chunk)
    except urllib.error.HTTPError as exc:
        raise StoreError(f"{url}: HTTP {exc.code} {_body(exc)}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise StoreError(f"{url}: unreachable ({_reason(exc)})") from None
    return b"".join(chunks)


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    return str(reason)


def _body(exc: urllib.error.HTTPError) -> str:
    try:
        return exc.read(200).decode(errors="replace").strip()
    except OSError:
        return ""
