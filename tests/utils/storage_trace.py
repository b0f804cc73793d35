"""Which storage slots of one contract a transaction touched, from the node's opcode tracer.

`debug_traceTransaction` with the struct logger gives every opcode with its call depth and stack.
A frame's storage is the called contract's for CALL and STATICCALL and the caller's for
DELEGATECALL (the market's auction module runs on the market's storage), so following the calls
tells whose slot each SLOAD and SSTORE reads or writes.
"""

from __future__ import annotations

from typing import Any

from eth_utils import keccak

_CALLS = {"CALL", "STATICCALL", "DELEGATECALL", "CALLCODE"}


def _word(value: str) -> int:
    return int(value, 16)


def slots_touched(provider: Any, txn_hash: str, address: str) -> set[int]:
    """Keys of the slots of `address` that the transaction read or wrote (SLOAD, SSTORE)."""
    trace = provider.make_request(
        "debug_traceTransaction", [txn_hash, {"enableMemory": False, "disableStack": False, "disableStorage": True}]
    )
    logs = trace["structLogs"]
    owner = address.lower()
    tx = provider.web3.eth.get_transaction(txn_hash)
    owners = [str(tx["to"]).lower()]  # owners[d - 1]: whose storage the frame at depth d uses
    touched: set[int] = set()
    for i, log in enumerate(logs):
        depth, op, stack = log["depth"], log["op"], log.get("stack") or []
        del owners[depth:]
        if op in ("SLOAD", "SSTORE") and owners[-1] == owner:
            touched.add(_word(stack[-1]))
        entered = i + 1 < len(logs) and logs[i + 1]["depth"] == depth + 1
        if op in _CALLS and entered:
            target = "0x" + f"{_word(stack[-2]):040x}"[-40:]
            owners.append(owners[-1] if op in ("DELEGATECALL", "CALLCODE") else target)
    return touched


def mapping_slot(key: int | str, index: int) -> int:
    """The slot of `m[key]` for a mapping `m` declared at slot `index`: keccak256 of the key and
    the index, each a 32-byte word (an address key is given as its hex string)."""
    word = int(key, 16) if isinstance(key, str) else key
    return int.from_bytes(keccak(word.to_bytes(32, "big") + index.to_bytes(32, "big")), "big")


def mapping_entry(touched: set[int], key: int | str, declared: int = 64) -> int:
    """The slot of `key`'s entry in the one mapping (of those declared at slots 0 to `declared` - 1)
    whose entry for `key` a transaction touched (found from the trace, not assumed from the layout)."""
    found = [mapping_slot(key, index) for index in range(declared) if mapping_slot(key, index) in touched]
    assert len(found) == 1, found
    return found[0]


def storage_word(provider: Any, address: str, slot: int) -> int:
    """The word at `slot` of `address`'s storage, at the latest block."""
    value = provider.make_request("eth_getStorageAt", [address, hex(slot), "latest"])
    return int(value if isinstance(value, str) else value.hex(), 16)


def parameter_slots(touched: set[int]) -> list[int]:
    """The slots below 256 among `touched` (from `slots_touched`): a contract's declared
    variables (mappings' entries live at hashes, far above)."""
    return sorted(slot for slot in touched if slot < 256)
