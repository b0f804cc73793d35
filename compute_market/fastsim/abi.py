"""ABI encoding and decoding from plain ABI lists: calldata, return values, event logs and
custom errors, with `eth_abi` and `eth_utils` only (no contract objects in the loop)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
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


# ---------------------------------------------------------------------------- static fast path
#
# `eth_abi` validates and dispatches through many layers: about 40 µs to decode one log and 20 µs
# to encode one call, most of the actor loop's Python time at thousands of transactions a
# second. Almost every type the engine meets is static (one 32-byte word: uintN, intN,
# address, bool, bytesN, or a tuple of them); those are packed and unpacked here word by word,
# with the same checks on what is sent and the same values back (`tests/test_fastsim_codec.py`
# compares both paths). A list of types with any dynamic member goes to `eth_abi` as before.

_WORD = re.compile(r"^(uint|int|address|bool|bytes)(\d*)$")
WordDecoder = Callable[[bytes], Any]
WordEncoder = Callable[[Any], bytes]


def _split_tuple(kind: str) -> list[str] | None:
    """The member types of a static tuple type ``(a,b,…)`` (no array suffix); None otherwise."""
    if not (kind.startswith("(") and kind.endswith(")")):
        return None
    members, depth, start = [], 0, 1
    for i, ch in enumerate(kind):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if (ch == "," and depth == 1) or i == len(kind) - 1:
            members.append(kind[start:i])
            start = i + 1
    return [m for m in members if m]


def _word_decoder(kind: str) -> WordDecoder | None:
    """How to read one word of `kind` as `normalize(eth_abi.decode(...))` would; None if not a
    one-word type."""
    match = _WORD.match(kind)
    if match is None:
        return None
    base, size = match.group(1), match.group(2)
    bits = int(size) if size else 256
    if base == "uint":

        def uint(w: bytes) -> int:
            value = int.from_bytes(w, "big")
            if value >> bits:
                raise ValueError(f"{kind} out of range: 0x{w.hex()}")
            return value

        return uint
    if base == "int":

        def sint(w: bytes) -> int:
            value = int.from_bytes(w, "big", signed=True)
            if not -(1 << (bits - 1)) <= value < 1 << (bits - 1):
                raise ValueError(f"{kind} out of range: 0x{w.hex()}")
            return value

        return sint
    if base == "address":

        def address(w: bytes) -> str:
            if w[:12] != bytes(12):
                raise ValueError(f"not an address: 0x{w.hex()}")
            return "0x" + w[12:].hex()

        return address
    if base == "bool":

        def boolean(w: bytes) -> bool:
            if w[:31] != b"\0" * 31 or w[31] > 1:
                raise ValueError(f"not a bool: 0x{w.hex()}")
            return w[31] == 1

        return boolean
    if base == "bytes" and size:
        n = int(size)
        return lambda w: w[:n]
    return None


def _word_encoder(kind: str) -> WordEncoder | None:
    """How to write one value of `kind` as one word, refusing what `eth_abi` would refuse
    (TypeError/ValueError: the caller then lets `eth_abi` say why); None if not a one-word type."""
    match = _WORD.match(kind)
    if match is None:
        return None
    base, size = match.group(1), match.group(2)
    bits = int(size) if size else 256
    if base == "uint":

        def uint(v: Any) -> bytes:
            if type(v) is not int or not 0 <= v < 1 << bits:
                raise TypeError(kind)
            return v.to_bytes(32, "big")

        return uint
    if base == "int":

        def sint(v: Any) -> bytes:
            if type(v) is not int or not -(1 << (bits - 1)) <= v < 1 << (bits - 1):
                raise TypeError(kind)
            return v.to_bytes(32, "big", signed=True)

        return sint
    if base == "address":

        def address(v: Any) -> bytes:
            if type(v) is not str or len(v) != 42 or not v.startswith("0x") or v[2:] != v[2:].lower():
                raise TypeError(kind)  # checksummed or odd forms: eth_abi checks them
            return bytes(12) + bytes.fromhex(v[2:])

        return address
    if base == "bool":

        def boolean(v: Any) -> bytes:
            if type(v) is not bool:
                raise TypeError(kind)
            return (1 if v else 0).to_bytes(32, "big")

        return boolean
    if base == "bytes" and size:
        n = int(size)

        def fixed(v: Any) -> bytes:
            if type(v) is not bytes or len(v) > n:
                raise TypeError(kind)
            return v + bytes(32 - len(v))

        return fixed
    return None


@dataclass(frozen=True)
class StaticLayout:
    """A list of static types flattened to words: how to decode and encode them fast."""

    readers: list[tuple[int, Any]]  # per top-level type: its word count and its reader
    writers: list[Any]
    words: int

    @staticmethod
    def of(types: list[str]) -> StaticLayout | None:
        """The layout of `types`, or None if any of them is dynamic or unknown here."""
        readers: list[tuple[int, Any]] = []
        writers: list[Any] = []
        words = 0
        for kind in types:
            inner = _split_tuple(kind)
            if inner is not None:
                sub = StaticLayout.of(inner)
                if sub is None:
                    return None
                readers.append((sub.words, sub))
                writers.append(sub)
                words += sub.words
                continue
            reader, writer = _word_decoder(kind), _word_encoder(kind)
            if reader is None or writer is None:
                return None
            readers.append((1, reader))
            writers.append(writer)
            words += 1
        return StaticLayout(readers, writers, words)

    def decode(self, raw: bytes, offset: int = 0) -> list[Any]:
        """The values at `raw[offset:]` (tuples as lists, as `normalize` gives them)."""
        if len(raw) - offset < 32 * self.words:
            raise ValueError(f"{len(raw) - offset} bytes for {self.words} words")
        out: list[Any] = []
        for count, reader in self.readers:
            if isinstance(reader, StaticLayout):
                out.append(reader.decode(raw, offset))
            else:
                out.append(reader(raw[offset : offset + 32]))
            offset += 32 * count
        return out

    def encode(self, values: list[Any] | tuple[Any, ...]) -> bytes:
        """The words of `values`; TypeError/ValueError when a value does not fit its type."""
        if len(values) != len(self.writers):
            raise TypeError("arity")
        parts = []
        for writer, value in zip(self.writers, values, strict=True):
            if isinstance(writer, StaticLayout):
                if not isinstance(value, tuple | list):
                    raise TypeError("tuple")
                parts.append(writer.encode(value))
            else:
                parts.append(writer(value))
        return b"".join(parts)


def decode_words(types: list[str], raw: bytes, layout: StaticLayout | None) -> list[Any]:
    """`normalize(eth_abi.decode(types, raw))`, by `layout` when the types are static."""
    if layout is not None:
        return layout.decode(raw)
    return [normalize(v) for v in decode(types, raw)]


def encode_words(types: list[str], values: list[Any], layout: StaticLayout | None) -> bytes:
    """`eth_abi.encode(types, values)`, by `layout` when the types are static and the values plain."""
    if layout is not None:
        try:
            return layout.encode(values)
        except (TypeError, ValueError):
            pass  # eth_abi encodes what it accepts or says what is wrong
    return encode(types, values)


@dataclass(frozen=True)
class Function:
    """One function: its selector, input types and output types."""

    name: str
    selector: bytes
    inputs: list[str]
    outputs: list[str]
    output_names: list[str]
    in_layout: StaticLayout | None = field(default=None, compare=False)
    out_layout: StaticLayout | None = field(default=None, compare=False)

    def calldata(self, *args: Any) -> str:
        """0x-prefixed calldata for `args`."""
        return "0x" + (self.selector + encode_words(self.inputs, list(args), self.in_layout)).hex()

    def decode_output(self, data: str) -> list[Any]:
        """The return values of a call, normalized."""
        raw = bytes.fromhex(data[2:] if data.startswith("0x") else data)
        return decode_words(self.outputs, raw, self.out_layout)


@dataclass(frozen=True)
class Event:
    """One event: topic 0, and how its indexed and data parameters decode."""

    name: str
    topic: str
    names: list[str]
    indexed: list[bool]
    types: list[str]
    data_types: list[str] = field(default_factory=list, compare=False)
    data_layout: StaticLayout | None = field(default=None, compare=False)
    topic_readers: list[WordDecoder | None] = field(default_factory=list, compare=False)

    @staticmethod
    def build(name: str, topic: str, names: list[str], indexed: list[bool], types: list[str]) -> Event:
        """An event with its fast decoders prepared."""
        data_types = [t for t, ix in zip(types, indexed, strict=True) if not ix]
        readers = [_word_decoder(t) for t, ix in zip(types, indexed, strict=True) if ix]
        return Event(name, topic, names, indexed, types, data_types, StaticLayout.of(data_types), readers)

    def decode(self, topics: list[str], data: str) -> dict[str, Any]:
        """The event's arguments by name (indexed dynamic types stay as their topic hash)."""
        values = decode_words(self.data_types, bytes.fromhex(data[2:]), self.data_layout) if self.data_types else []
        out: dict[str, Any] = {}
        position = 0
        topic_index = 1
        for name, kind, ix in zip(self.names, self.types, self.indexed, strict=True):
            if ix:
                raw = bytes.fromhex(topics[topic_index][2:])
                reader = self.topic_readers[topic_index - 1]
                topic_index += 1
                if reader is not None:
                    out[name] = reader(raw)
                else:
                    dynamic = kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("(")
                    out[name] = raw if dynamic else normalize(decode([kind], raw)[0])
            else:
                out[name] = values[position]
                position += 1
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
                inputs_ = [abi_type(p) for p in item.get("inputs", [])]
                outputs_ = [abi_type(p) for p in item.get("outputs", [])]
                fn = Function(
                    item["name"],
                    keccak(text=signature(item))[:4],
                    inputs_,
                    outputs_,
                    [str(p.get("name", "")) for p in item.get("outputs", [])],
                    StaticLayout.of(inputs_),
                    StaticLayout.of(outputs_),
                )
                self.functions.setdefault(fn.name, fn)  # overloads: the first one (none here)
            elif kind == "event" and not item.get("anonymous"):
                inputs = item.get("inputs", [])
                ev = Event.build(
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
