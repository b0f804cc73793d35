"""Units of the protocol: 18-decimal amounts, 8-decimal oracle prices, basis points, hours."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

WAD = 10**18
FEED_DECIMALS = 8
BPS = 10_000
HOUR = 3_600
DAY = 86_400


def to_wei(amount: Decimal | int | str) -> int:
    """18-decimal fixed point of a token or credit amount (``Decimal("2.5")`` → 2.5e18)."""
    return int(Decimal(amount) * WAD)


def from_wei(amount: int) -> Decimal:
    """Inverse of :func:`to_wei`."""
    return Decimal(amount) / WAD


def usd_to_feed(price: Decimal | int | str) -> int:
    """A USD price as an 8-decimal Chainlink answer (``Decimal("2.50")`` → 250_000_000)."""
    return int(Decimal(price) * 10**FEED_DECIMALS)


def feed_to_usd(answer: int) -> Decimal:
    """Inverse of :func:`usd_to_feed`."""
    return Decimal(answer) / Decimal(10**FEED_DECIMALS)


def bytes32(text: str) -> bytes:
    """A short name (GPU model, region) as a right-padded ``bytes32``; ``""`` is zero (any)."""
    raw = text.encode()
    if len(raw) > 32:
        raise ValueError(f"{text!r} is longer than 32 bytes")
    return raw.ljust(32, b"\0")


def utc(timestamp: int) -> str:
    """A Unix time as UTC ISO 8601 to the second (``2025-06-01T12:00:00Z``)."""
    return datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_bytes32(raw: bytes | bytearray) -> str:
    """Inverse of :func:`bytes32`."""
    return bytes(raw).rstrip(b"\0").decode()
