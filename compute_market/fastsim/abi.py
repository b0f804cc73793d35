"""ABI encoding and decoding from plain ABI lists: calldata, return values, event logs and
custom errors, with `eth_abi` and `eth_utils` only (no contract objects in the loop)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import decode, encode
from eth_utils import keccak

Abi = list[dict[str, Any]]

ERROR_STRING = bytes.fromhex("08c379a0")  # Error(string)
PANIC = bytes.fromhex("4e487b71")  # Panic(uint256)


def abi_type(param: dict[str, Any]) -> str:
    """The canonical type of one ABI parameter (tuples spelled out, arrays kept)."""
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in param["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def signature(item: dict[str, Any]) -> str:
    """``name(type,...)`` of a function, event or error."""
    return f"{item['name']}({','.join(abi_type(p) for p in item.get('inputs', []))})"


def normalize(value: Any) -> Any:
    """Decoded values in plain form: addresses lower-case, tuples as lists."""
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value.lower()
    if isinstance(value, tuple | list):
        return [normalize(v) for v in value]
    return value


@dataclass(frozen=True)
class Function:
    """One function: its selector, input types and output types."""

    name: str
    selector: bytes
    inputs: list[str]
    outputs: list[str]
    output_names: list[str]

    def calldata(self, *args: Any) -> str:
        """0x-prefixed calldata for `args`."""
        return "0x" + (self.selector + encode(self.inputs, list(args))).hex()

    def decode_output(self, data: str) -> list[Any]:
        """The return values of a call, normalized."""
        raw = bytes.fromhex(data[2:] if data.startswith("0x") else data)
        return [normalize(v) for v in decode(self.outputs, raw)]


@dataclass(frozen=True)
class Event:
    """One event: topic 0, and how its indexed and data parameters decode."""

    name: str
    topic: str
    names: list[str]
    indexed: list[bool]
    types: list[str]

    def decode(self, topics: list[str], data: str) -> dict[str, Any]:
        """The event's arguments by name (indexed dynamic types stay as their topic hash)."""
        data_types = [t for t, ix in zip(self.types, self.indexed, strict=True) if not ix]
        values = list(decode(data_types, bytes.fromhex(data[2:]))) if data_types else []
        out: dict[str, Any] = {}
        topic_iter = iter(topics[1:])
        for name, kind, ix in zip(self.names, self.types, self.indexed, strict=True):
            if ix:
                raw = bytes.fromhex(next(topic_iter)[2:])
                dynamic = kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("(")
                out[name] = raw if dynamic else normalize(decode([kind], raw)[0])
            else:
                out[name] = normalize(values.pop(0))
        return out


@dataclass(frozen=True)
class ErrorType:
    """One custom error."""

    name: str
    selector: bytes
    types: list[str]


class Codec:
    """Functions, events and errors of one contract's ABI."""

    def __init__(self, abi: Abi) -> None:
        self.functions: dict[str, Function] = {}
        self.events: dict[str, Event] = {}
        self.errors: dict[bytes, ErrorType] = {}
        for item in abi:
            kind = item.get("type")
            if kind == "function":
                fn = Function(
                    item["name"],
                    keccak(text=signature(item))[:4],
                    [abi_type(p) for p in item.get("inputs", [])],
                    [abi_type(p) for p in item.get("outputs", [])],
                    [str(p.get("name", "")) for p in item.get("outputs", [])],
                )
                self.functions.setdefault(fn.name, fn)  # overloads: the first one (none here)
            elif kind == "event" and not item.get("anonymous"):
                inputs = item.get("inputs", [])
                ev = Event(
                    item["name"],
                    "0x" + keccak(text=signature(item)).hex(),
                    [str(p["name"]) for p in inputs],
                    [bool(p.get("indexed")) for p in inputs],
                    [abi_type(p) for p in inputs],
                )
                self.events[ev.topic] = ev
            elif kind == "error":
                err = ErrorType(item["name"], keccak(text=signature(item))[:4], [abi_type(p) for p in item["inputs"]])
                self.errors[err.selector] = err

    def fn(self, name: str) -> Function:
        """The function `name`; KeyError names what the ABI has."""
        try:
            return self.functions[name]
        except KeyError:
            raise KeyError(f"no function {name!r} in the ABI (has {sorted(self.functions)})") from None

    def event_topic(self, name: str) -> str:
        """Topic 0 of event `name`."""
        for topic, ev in self.events.items():
            if ev.name == name:
                return topic
        raise KeyError(f"no event {name!r} in the ABI")


def decode_revert(data: str | bytes | None, errors: dict[bytes, ErrorType]) -> str:
    """A revert's name from its return data: a custom error of `errors` by its 4-byte selector,
    ``Error(<reason>)``, ``Panic(<code>)``, ``empty`` or ``unknown 0x<selector>``."""
    raw = bytes.fromhex(data[2:] if data.startswith("0x") else data) if isinstance(data, str) else (data or b"")
    if len(raw) < 4:
        return "empty"
    selector, body = raw[:4], raw[4:]
    if selector == ERROR_STRING:
        try:
            return f"Error({decode(['string'], body)[0]})"
        except Exception:
            return "Error(?)"
    if selector == PANIC:
        try:
            return f"Panic({decode(['uint256'], body)[0]:#x})"
        except Exception:
            return "Panic(?)"
    err = errors.get(selector)
    return err.name if err is not None else f"unknown 0x{selector.hex()}"
