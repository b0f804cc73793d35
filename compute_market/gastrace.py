"""Where a transaction's gas goes, from the node's call tracer (`debug_traceTransaction`).

A receipt gives one number. The call tracer gives a tree of frames, each with the gas used inside
it, so a transaction's gas splits into three parts that add up to the receipt's figure exactly:

- **intrinsic**: the 21,000 every transaction pays plus its calldata (4 gas a zero byte, 16 a
  non-zero one, EIP-2028);
- **calls**: each call the transaction's contract makes to another contract, with everything that
  call does (its own calls included), labelled ``Contract.function`` where the address and the
  selector are known;
- **own**: the rest: the contract's own opcodes, storage and events, the cost of making its calls
  (2,600 for a cold account) and the net of any storage refund.

Code run by `DELEGATECALL` (the market's auction module) runs on the caller's storage and counts
as the caller's own; the calls it makes are listed like the caller's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils.abi import function_signature_to_4byte_selector

TX_BASE_GAS = 21_000
ZERO_BYTE_GAS = 4
NONZERO_BYTE_GAS = 16

Labeller = Callable[[str, str], str]


@dataclass(frozen=True)
class CallShare:
    """One external call and the gas used inside it (its own calls included)."""

    label: str
    gas: int


@dataclass(frozen=True)
class Breakdown:
    """A transaction's gas in three parts; ``intrinsic + own + sum(calls) == total``."""

    total: int
    intrinsic: int
    own: int
    calls: tuple[CallShare, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "intrinsic": self.intrinsic,
            "own": self.own,
            "calls": [{"label": c.label, "gas": c.gas} for c in self.calls],
        }

    def calls_text(self) -> str:
        """The calls in one line, largest first: ``RewardsDistributor.recordWork 40,623; …``."""
        ordered = sorted(self.calls, key=lambda c: -c.gas)
        return "; ".join(f"{c.label} {c.gas:,}" for c in ordered) or "none"


def calldata_gas(data: bytes) -> int:
    """Gas a transaction pays for its calldata (EIP-2028)."""
    zeros = data.count(0)
    return zeros * ZERO_BYTE_GAS + (len(data) - zeros) * NONZERO_BYTE_GAS


def _hex_int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def _hex_bytes(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


def _external_calls(frame: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The frames ``frame`` calls in other contracts' storage, looking through delegate calls."""
    for child in frame.get("calls", []) or []:
        if str(child.get("type", "")).upper() == "DELEGATECALL":
            yield from _external_calls(child)
        else:
            yield child


def breakdown(trace: Mapping[str, Any], label: Labeller) -> Breakdown:
    """Splits the gas of a transaction's top call frame (`callTracer` output) into its parts.

    ``label(address, selector)`` names a call; ``selector`` is ``0x`` and eight hex digits, or the
    input's first bytes when shorter (a plain transfer of ether)."""
    total = _hex_int(trace["gasUsed"])
    intrinsic = TX_BASE_GAS + calldata_gas(_hex_bytes(str(trace.get("input", "0x"))))
    calls = tuple(
        CallShare(label(str(c.get("to", "")).lower(), str(c.get("input", "0x"))[:10].lower()), _hex_int(c["gasUsed"]))
        for c in _external_calls(trace)
    )
    own = total - intrinsic - sum(c.gas for c in calls)
    return Breakdown(total, intrinsic, own, calls)


def labeller(contracts: Mapping[str, Any]) -> Labeller:
    """Names calls to ``contracts`` (a name → Ape contract instance map) by their ABIs; other
    addresses and selectors are shown as they are."""
    names = {str(c.address).lower(): name for name, c in contracts.items()}
    selectors: dict[str, dict[str, str]] = {}
    for name, contract in contracts.items():
        methods = [*contract.contract_type.mutable_methods, *contract.contract_type.view_methods]
        selectors[name] = {"0x" + function_signature_to_4byte_selector(m.selector).hex(): m.name for m in methods}

    def label(address: str, selector: str) -> str:
        name = names.get(address.lower())
        if name is None:
            return f"{address[:10]}….{selector}"
        return f"{name}.{selectors[name].get(selector, selector)}"

    return label


def trace_transaction(provider: Any, txn_hash: str) -> dict[str, Any]:
    """The call tracer's tree of ``txn_hash`` (a node with the debug namespace: anvil, geth)."""
    result = provider.make_request("debug_traceTransaction", [txn_hash, {"tracer": "callTracer"}])
    return dict(result)
