"""Reverts decoded into the contracts' custom-error names and arguments.

Ape decodes a custom error only against the ABI of the contract the transaction was sent to, so
an error raised one call deeper (the credits contract's ``ERC20InsufficientBalance`` under
``JobMarket.postJob``, the registry's ``NotEnoughFreeStake`` under ``placeBid``) reaches us as
raw revert data. `decode` looks such data up by its selector in a table of every error of every
compiled contract of the project (OpenZeppelin's errors included, as the contracts declare or
inherit them) and decodes the arguments with eth_abi.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

from ape.exceptions import ContractLogicError, CustomError
from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from compute_market.error_units import shown


class MarketError(Exception):
    """A transaction or call the protocol refused, with the custom error's name and arguments
    (``NotEnoughFreeStake(have=…, need=…)``), or the revert message when there was no custom error.
    `args_` keeps the raw values; the message shows them in human units (`error_units.shown`:
    tokens, UTC times, enum names), as does ``shown`` in `as_dict` when it differs from ``args``."""

    def __init__(self, name: str, args: dict[str, Any], internal_types: dict[str, str] | None = None) -> None:
        self.name = name
        self.args_ = args
        self.shown = shown(name, args, internal_types)
        detail = ", ".join(f"{k}={v}" for k, v in self.shown.items())
        super().__init__(f"{name}({detail})")

    def as_dict(self) -> dict[str, Any]:
        raw = {k: str(v) for k, v in self.args_.items()}
        out: dict[str, Any] = {"error": self.name, "args": raw}
        if self.shown != raw:
            out["shown"] = self.shown
        return out


@dataclass(frozen=True)
class ErrorSpec:
    """One custom error: its name, and the names and canonical ABI types of its arguments."""

    name: str
    names: tuple[str, ...]
    types: tuple[str, ...]
    internal_types: tuple[str, ...] = ()

    @property
    def selector(self) -> bytes:
        return keccak(text=f"{self.name}({','.join(self.types)})")[:4]


# Solidity's own revert payloads: `revert("…")`/`require(…, "…")` and `assert`/arithmetic panics.
BUILTIN_ERRORS = (ErrorSpec("Revert", ("message",), ("string",)), ErrorSpec("Panic", ("code",), ("uint256",)))


def error_table(contract_types: Iterable[Any]) -> dict[bytes, ErrorSpec]:
    """Selector → error, over the ABIs of `contract_types` (ethpm ``ContractType`` objects)."""
    table = {spec.selector: spec for spec in BUILTIN_ERRORS}
    for contract_type in contract_types:
        for entry in contract_type.abi:
            if entry.type == "error":
                spec = ErrorSpec(
                    entry.name,
                    tuple(i.name or f"arg{n}" for n, i in enumerate(entry.inputs)),
                    tuple(i.canonical_type for i in entry.inputs),
                    tuple(i.internal_type or "" for i in entry.inputs),
                )
                table.setdefault(spec.selector, spec)
    return table


@cache
def project_errors() -> dict[bytes, ErrorSpec]:
    """The error table of every compiled contract of `ape.project` (built once per process); outside
    the repository (no project to compile), of the ABIs bundled with the package."""
    from ape import project

    from compute_market import manifest

    contract_types = (project.manifest.contract_types or {}).values()
    if not contract_types:  # nothing compiled yet
        contract_types = [c.contract_type for c in project.load_contracts().values()]
    if not contract_types:  # not in the repository: the SDK installed on its own
        contract_types = manifest.contract_types().values()
    return error_table(contract_types)


def _plain(value: Any, abi_type: str) -> Any:
    """An argument as its Ape rendering: checksummed addresses, ``0x`` hex for bytes."""
    if abi_type == "address":
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return [_plain(v, abi_type.rsplit("[", 1)[0]) for v in value]
    return value


def decode_revert_data(data: bytes, table: dict[bytes, ErrorSpec] | None = None) -> MarketError | None:
    """The `MarketError` that raw revert `data` encodes, or None when its selector is unknown."""
    spec = (table if table is not None else project_errors()).get(bytes(data[:4]))
    if spec is None:
        return None
    try:
        values = abi_decode(list(spec.types), bytes(data[4:]))
    except (DecodingError, OverflowError, ValueError):
        return None
    args = {n: _plain(v, t) for n, v, t in zip(spec.names, values, spec.types, strict=True)}
    return MarketError(spec.name, args, dict(zip(spec.names, spec.internal_types, strict=False)))


def _revert_data(err: ContractLogicError) -> bytes | None:
    """The raw revert data Ape left in the message (``0x…``) when it could not decode it."""
    message = err.revert_message
    if not isinstance(message, str) or not message.startswith("0x") or len(message) < 10:
        return None
    try:
        return bytes.fromhex(message[2:])
    except ValueError:
        return None


def decode(err: ContractLogicError) -> MarketError:
    """The `MarketError` for an Ape revert."""
    if isinstance(err, CustomError):
        abi = getattr(err, "abi", None)
        types = {i.name: i.internal_type or "" for i in getattr(abi, "inputs", []) if i.name}
        return MarketError(err.name, dict(err.inputs), types)
    data = _revert_data(err)
    if data is not None and (decoded_error := decode_revert_data(data)) is not None:
        return decoded_error
    return MarketError("Revert", {"message": str(err)})


@contextmanager
def decoded() -> Iterator[None]:
    """Re-raises any revert inside the block as a `MarketError`."""
    try:
        yield
    except ContractLogicError as err:
        raise decode(err) from err
