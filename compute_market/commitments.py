"""A sealed bid's commitment, computed here rather than by a call to the market.

`commitBid(jobId, commitment)` takes ``keccak256(abi.encode(jobId, bidder, price, salt))``; the
market keeps its first 24 bytes and `revealBid` checks the revealed price and salt against them.
The digest needs no chain: the market does not offer it as a view (it would cost the market
bytecode it keeps for rules), and computing it locally spares a round trip to the node.
"""

from __future__ import annotations

from typing import Any

from eth_abi.abi import encode
from eth_utils.crypto import keccak


def commitment_for(job_id: int, bidder: Any, price: int, salt: bytes) -> bytes:
    """``keccak256(abi.encode(jobId, bidder, price, salt))``, as `commitBid` expects: `bidder` an
    address or an account (its ``address``), `price` in credit wei per GPU-hour, `salt` 32 bytes."""
    address = str(getattr(bidder, "address", bidder))
    if len(salt) != 32 or len(address) != 42:  # anything unusual: eth_abi checks it
        return keccak(encode(["uint256", "address", "uint256", "bytes32"], [job_id, address, price, salt]))
    words = job_id.to_bytes(32, "big") + bytes(12) + bytes.fromhex(address[2:]) + price.to_bytes(32, "big") + salt
    return keccak(words)
