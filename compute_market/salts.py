"""Sealed-bid salts kept on disk, so that ``ape run market reveal JOB PRICE`` needs no salt.

A salt is never on the chain: lose it and the bid cannot be revealed (its bond is forfeited).
``commit`` writes the price and the salt to a JSON file before the commitment is sent, and takes
them out again if the chain refuses the commitment; ``reveal`` reads them back, refuses a price
other than the one committed before sending anything, and drops the entry once revealed.

The file (default ``~/.compute-market/salts.json``; ``COMPUTE_MARKET_SALTS`` or ``--salts-file``
name another) maps chain id → market address → job id → bidder address →
``{"price": "2.5", "salt": "0x…"}``. It is written atomically (a temporary file in the same
folder, flushed to disk, renamed over it: a kill leaves the old file or the new one) with mode
0600 in a 0700 folder, under an exclusive lock (``<file>.lock``) so that two commands committing
at once do not drop each other's salt.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ape import chain

from compute_market.client import MarketClient
from compute_market.errors import MarketError
from compute_market.units import to_wei

SALTS_ENV = "COMPUTE_MARKET_SALTS"
DEFAULT_SALTS = Path("~/.compute-market/salts.json")


class SaltFileError(Exception):
    """The salts file cannot be read as one (never overwritten: it may hold salts still owed)."""


def salts_path(option: Path | None = None) -> Path:
    """Where salts are kept: `option` (``--salts-file``), else ``$COMPUTE_MARKET_SALTS``, else
    ``~/.compute-market/salts.json``."""
    return Path(option or os.environ.get(SALTS_ENV) or DEFAULT_SALTS).expanduser()


@dataclass(frozen=True)
class SaltKey:
    """Whose salt: one bidder's commitment on one job of one market of one chain."""

    chain_id: int
    market: str
    job_id: int
    bidder: str

    @classmethod
    def of(cls, client: MarketClient, job_id: int) -> SaltKey:
        """The key of `client`'s account bidding on `job_id` of `client`'s market."""
        return cls(int(chain.chain_id), str(client.p.market.address), job_id, str(client.address))

    def path(self) -> tuple[str, str, str, str]:
        return (str(self.chain_id), self.market, str(self.job_id), self.bidder)


@dataclass(frozen=True)
class SavedSalt:
    """A committed price (USD per GPU-hour) and the salt that hides it."""

    price: Decimal
    salt: bytes

    def as_json(self) -> dict[str, str]:
        return {"price": str(self.price), "salt": "0x" + self.salt.hex()}

    @classmethod
    def from_json(cls, raw: dict[str, str]) -> SavedSalt:
        return cls(Decimal(raw["price"]), bytes.fromhex(raw["salt"].removeprefix("0x")))


class SaltStore:
    """The salts file at `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self, key: SaltKey) -> SavedSalt | None:
        """The salt saved for `key`, or None."""
        node: Any = self._read()
        for part in key.path():
            node = node.get(part) if isinstance(node, dict) else None
        try:
            return SavedSalt.from_json(node) if node is not None else None
        except (KeyError, TypeError, ValueError, ArithmeticError) as err:
            raise SaltFileError(f"{self.path}: the entry for job {key.job_id} is not a price and a salt") from err

    def put(self, key: SaltKey, entry: SavedSalt | None) -> None:
        """Saves `entry` under `key` (None: removes the key, and the levels it leaves empty)."""
        with self._locked():
            data = self._read()
            *parents, leaf = key.path()
            nodes = [data]
            for part in parents:
                nodes.append(nodes[-1].setdefault(part, {}))
            if entry is not None:
                nodes[-1][leaf] = entry.as_json()
            elif nodes[-1].pop(leaf, None) is None:
                return  # nothing to remove: the file is left as it is (or not created)
            for node, part in zip(reversed(nodes[:-1]), reversed(parents), strict=True):
                if not node[part]:
                    del node[part]
            self._write(data)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as err:
            raise SaltFileError(f"{self.path} is not a salts file ({err}); move it aside or pass --salts-file") from err
        if not isinstance(data, dict):
            raise SaltFileError(f"{self.path} is not a salts file (not a JSON object)")
        return data

    def _write(self, data: dict[str, Any]) -> None:
        """Replaces the file atomically; the new file is 0600 (``mkstemp``'s mode)."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as out:
                json.dump(data, out, indent=2)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """An exclusive lock on ``<file>.lock`` for a read-modify-write."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock


def commit_with_saved_salt(client: MarketClient, store: SaltStore, job_id: int, price: Decimal) -> bytes:
    """Commits a sealed bid at `price` under a new salt saved in `store` first (a kill after the
    commitment is sent cannot lose it); a refused commitment puts back what `store` held."""
    key = SaltKey.of(client, job_id)
    previous = store.get(key)
    salt = secrets.token_bytes(32)
    store.put(key, SavedSalt(price, salt))
    try:
        client.commit(job_id, price, salt)
    except MarketError:
        store.put(key, previous)  # nothing was committed under the new salt
        raise
    return salt


def salt_for_reveal(client: MarketClient, store: SaltStore, job_id: int, price: Decimal) -> bytes:
    """The salt saved for the account's commitment on `job_id`. Refuses (`MarketError`, nothing
    sent) when none is saved (``NoSavedSalt``) or when `price` is not the price committed
    (``PriceNotCommitted``: the chain would refuse the reveal with ``InvalidReveal``)."""
    key = SaltKey.of(client, job_id)
    saved = store.get(key)
    if saved is None:
        raise MarketError("NoSavedSalt", {"jobId": job_id, "bidder": key.bidder, "file": str(store.path)})
    if to_wei(saved.price) != to_wei(price):
        raise MarketError("PriceNotCommitted", {"jobId": job_id, "price": price, "committed": saved.price})
    return saved.salt


def reveal_with_salt(
    client: MarketClient, store: SaltStore, job_id: int, price: Decimal, salt: bytes | None = None
) -> None:
    """Reveals the account's sealed bid on `job_id` with `salt`, or, without one, with the salt
    `store` holds (see `salt_for_reveal`); the entry is dropped once revealed."""
    chosen = salt if salt is not None else salt_for_reveal(client, store, job_id, price)
    client.reveal(job_id, price, chosen)
    with suppress(SaltFileError):  # revealed; a salts file that cannot be read is left as it is
        store.put(SaltKey.of(client, job_id), None)
