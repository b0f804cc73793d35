"""ABI encoding and decoding from plain ABI lists: calldata, return values, event logs and
custom errors, with `eth_abi` and `eth_utils` only (no contract objects in the loop)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from eth_abi.abi import decode, encode
from eth_utils.crypto import keccak

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


# ---------------------------------------------------------------------------- fast paths
#
# `eth_abi` validates and dispatches through many layers: about 40 µs to decode one log and 20 µs
# to encode one call, most of the actor loop's Python time at thousands of transactions a
# second. The engine's types (one-word types, `string`, `bytes` and tuples of them) are packed
# and unpacked by one set of word codecs working on the node's hex (`HexLayout`, below), with
# the same checks on what is sent and the same values back as `eth_abi`
# (`tests/fastsim/test_fastsim_codec.py`, `tests/fastsim/test_fastsim_hexcodec.py`). `StaticLayout` is the same
# codecs for callers holding bytes (`encode_words`, `decode_words`); arrays, and anything the
# codecs refuse, go to `eth_abi`.

_WORD = re.compile(r"^(uint|int|address|bool|bytes)(\d*)$")


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


def decode_words(types: list[str], raw: bytes, layout: StaticLayout | None) -> list[Any]:
    """`normalize(eth_abi.decode(types, raw))`, by `layout` (the hex codecs) when the types are static."""
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


# ---------------------------------------------------------------------------- hex fast path
#
# The node speaks hex: calldata goes out and logs and return data come back as hex strings.
# `HexLayout` encodes to and decodes from those strings directly (no bytes in between), word
# by word, `string` and `bytes` and tuples holding them included (`postJob`'s `JobSpec`,
# `submitResult`'s URI, the `JobPosted` and `ResultSubmitted` logs). Arrays stay with `eth_abi`.
# Anything the fast path does not accept (a value of an odd type, a word out of range, non-zero
# padding, an offset out of bounds) is handed to `eth_abi`, which encodes or decodes it or says
# what is wrong: the fast path gives the same bytes and values as `eth_abi` or none
# (`tests/fastsim/test_fastsim_codec.py`).

_ZERO_WORD = "0" * 64
_HEX40 = re.compile(r"[0-9a-f]{40}")
HexReader = Callable[[str, int], Any]  # (hex without 0x, position in hex characters) -> value
HexWriter = Callable[[Any], str]  # value -> its hex words


class HexRefusedError(ValueError):
    """A value or an encoding the hex fast path leaves to `eth_abi`."""


def _hex_word_reader(kind: str) -> HexReader | None:
    """How to read one word of `kind` at a position of a hex string; None if not a one-word type."""
    match = _WORD.match(kind)
    if match is None:
        return None
    base, size = match.group(1), match.group(2)
    bits = int(size) if size else 256
    if base == "uint":

        def uint(h: str, p: int) -> int:
            value = int(h[p : p + 64], 16)
            if value >> bits:
                raise HexRefusedError(kind)
            return value

        return uint
    if base == "int":
        top, half = 1 << 256, 1 << (bits - 1)

        def sint(h: str, p: int) -> int:
            value = int(h[p : p + 64], 16)
            if value >> 255:
                value -= top
            if not -half <= value < half:
                raise HexRefusedError(kind)
            return value

        return sint
    if base == "address":
        pad = "0" * 24

        def address(h: str, p: int) -> str:
            if h[p : p + 24] != pad:
                raise HexRefusedError(kind)
            return "0x" + h[p + 24 : p + 64]

        return address
    if base == "bool":
        false, true = "0" * 64, "0" * 63 + "1"

        def boolean(h: str, p: int) -> bool:
            word = h[p : p + 64]
            if word == true:
                return True
            if word == false:
                return False
            raise HexRefusedError(kind)

        return boolean
    if base == "bytes" and size:
        n = 2 * int(size)
        rest = "0" * (64 - n)

        def fixed(h: str, p: int) -> bytes:
            if h[p + n : p + 64] != rest:
                raise HexRefusedError(kind)
            return bytes.fromhex(h[p : p + n])

        return fixed
    return None


def _hex_word_writer(kind: str) -> HexWriter | None:
    """How to write one value of `kind` as one hex word; None if not a one-word type."""
    match = _WORD.match(kind)
    if match is None:
        return None
    base, size = match.group(1), match.group(2)
    bits = int(size) if size else 256
    if base == "uint":
        limit = 1 << bits

        def uint(v: Any) -> str:
            if type(v) is not int or not 0 <= v < limit:
                raise HexRefusedError(kind)
            return f"{v:064x}"

        return uint
    if base == "int":
        half, top = 1 << (bits - 1), 1 << 256

        def sint(v: Any) -> str:
            if type(v) is not int or not -half <= v < half:
                raise HexRefusedError(kind)
            return f"{v if v >= 0 else v + top:064x}"

        return sint
    if base == "address":
        pad = "0" * 24

        def address(v: Any) -> str:
            if type(v) is not str or len(v) != 42 or v[:2] != "0x" or not _HEX40.fullmatch(v, 2):
                raise HexRefusedError(kind)  # checksummed or odd forms: eth_abi checks them
            return pad + v[2:]

        return address
    if base == "bool":
        false, true = "0" * 64, "0" * 63 + "1"

        def boolean(v: Any) -> str:
            if type(v) is not bool:
                raise HexRefusedError(kind)
            return true if v else false

        return boolean
    if base == "bytes" and size:
        n = int(size)

        def fixed(v: Any) -> str:
            if type(v) is not bytes or len(v) > n:
                raise HexRefusedError(kind)
            return v.hex().ljust(64, "0")

        return fixed
    return None


def _read_dynamic_bytes(h: str, p: int) -> bytes:
    """A `bytes` value whose length word is at `p`: its bytes, the padding checked."""
    length = int(h[p : p + 64], 16)
    start = p + 64
    end = start + 2 * length
    padded = start + 64 * -(-length // 32)
    if padded > len(h) or h[end:padded].strip("0"):
        raise HexRefusedError("bytes")
    return bytes.fromhex(h[start:end])


def _read_string(h: str, p: int) -> str:
    text = _read_dynamic_bytes(h, p).decode("utf-8")
    return text.lower() if len(text) == 42 and text.startswith("0x") else text  # as `normalize`


def _write_dynamic_bytes(v: Any) -> str:
    if type(v) is not bytes:
        raise HexRefusedError("bytes")
    body = v.hex()
    return f"{len(v):064x}" + body + "0" * (-len(body) % 64)


def _write_string(v: Any) -> str:
    if type(v) is not str:
        raise HexRefusedError("string")
    return _write_dynamic_bytes(v.encode("utf-8"))


@dataclass(frozen=True)
class HexLayout:
    """A list of types read from and written to hex strings: one-word types, `string`, `bytes`
    and tuples of these (static or not), with the ABI's head and tail."""

    readers: tuple[tuple[bool, int, Any], ...]  # per type: dynamic?, head words, its reader
    writers: tuple[tuple[bool, Any], ...]  # per type: dynamic?, its writer
    words: int  # head words
    dynamic: bool

    @staticmethod
    def of(types: list[str]) -> HexLayout | None:
        """The layout of `types`, or None if any of them is an array or unknown here."""
        readers: list[tuple[bool, int, Any]] = []
        writers: list[tuple[bool, Any]] = []
        words = 0
        for kind in types:
            inner = _split_tuple(kind)
            if inner is not None:
                sub = HexLayout.of(inner)
                if sub is None:
                    return None
                size = 1 if sub.dynamic else sub.words
                readers.append((sub.dynamic, size, sub))
                writers.append((sub.dynamic, sub))
                words += size
                continue
            if kind in ("string", "bytes"):
                readers.append((True, 1, _read_string if kind == "string" else _read_dynamic_bytes))
                writers.append((True, _write_string if kind == "string" else _write_dynamic_bytes))
                words += 1
                continue
            reader, writer = _hex_word_reader(kind), _hex_word_writer(kind)
            if reader is None or writer is None:
                return None
            readers.append((False, 1, reader))
            writers.append((False, writer))
            words += 1
        return HexLayout(tuple(readers), tuple(writers), words, any(d for d, _ in writers))

    def read(self, h: str, base: int = 0) -> list[Any]:
        """The values encoded at hex position `base` of `h` (tuples as lists)."""
        if len(h) - base < 64 * self.words:
            raise HexRefusedError("short")
        out: list[Any] = []
        p = base
        for dynamic, size, reader in self.readers:
            at = base + 2 * int(h[p : p + 64], 16) if dynamic else p
            if dynamic and not base + 64 * self.words <= at <= len(h) - 64:
                raise HexRefusedError("offset")
            out.append(reader.read(h, at) if isinstance(reader, HexLayout) else reader(h, at))
            p += 64 * size
        return out

    def write(self, values: list[Any] | tuple[Any, ...]) -> str:
        """The hex of `values`, head then tail; `HexRefusedError` when a value does not fit."""
        if type(values) not in (list, tuple) or len(values) != len(self.writers):
            raise HexRefusedError("arity")
        if not self.dynamic:
            return "".join(
                w.write(v) if isinstance(w, HexLayout) else w(v) for (_, w), v in zip(self.writers, values, strict=True)
            )
        heads: list[str] = []
        tails: list[str] = []
        tail_chars = 0
        for (dynamic, writer), value in zip(self.writers, values, strict=True):
            encoded = writer.write(value) if isinstance(writer, HexLayout) else writer(value)
            if dynamic:
                heads.append(f"{32 * self.words + tail_chars // 2:064x}")
                tails.append(encoded)
                tail_chars += len(encoded)
            else:
                heads.append(encoded)
        return "".join(heads) + "".join(tails)


@dataclass(frozen=True)
class StaticLayout:
    """Static types (one-word types and tuples of them) to and from bytes, for callers that
    hold bytes rather than the node's hex: the same codecs as `HexLayout`, no second set."""

    hex: HexLayout

    @staticmethod
    def of(types: list[str]) -> StaticLayout | None:
        """The layout of `types`, or None if any of them is dynamic or unknown here."""
        layout = HexLayout.of(types)
        return None if layout is None or layout.dynamic else StaticLayout(layout)

    @property
    def words(self) -> int:
        return self.hex.words

    def decode(self, raw: bytes, offset: int = 0) -> list[Any]:
        """The values at `raw[offset:]` (tuples as lists, as `normalize` gives them)."""
        return self.hex.read(raw[offset:].hex())

    def encode(self, values: list[Any] | tuple[Any, ...]) -> bytes:
        """The words of `values`; `HexRefusedError` (a ValueError) when a value does not fit."""
        return bytes.fromhex(self.hex.write(values))


@dataclass(frozen=True)
class Function:
    """One function: its selector, input types and output types."""

    name: str
    selector: bytes
    inputs: list[str]
    outputs: list[str]
    output_names: list[str]
    hex_in: HexLayout | None = field(default=None, compare=False)
    hex_out: HexLayout | None = field(default=None, compare=False)

    @cached_property
    def prefix(self) -> str:
        """``0x`` and the selector's hex: the start of every calldata."""
        return "0x" + self.selector.hex()

    def calldata(self, *args: Any) -> str:
        """0x-prefixed calldata for `args`."""
        if self.hex_in is not None:
            try:
                return self.prefix + self.hex_in.write(args)
            except (TypeError, ValueError):
                pass  # eth_abi encodes what it accepts or says what is wrong
        return "0x" + (self.selector + encode_words(self.inputs, list(args), None)).hex()

    def decode_output(self, data: str) -> list[Any]:
        """The return values of a call, normalized."""
        text = data[2:] if data.startswith("0x") else data
        if self.hex_out is not None:
            try:
                return self.hex_out.read(text.lower())
            except (TypeError, ValueError):
                pass  # eth_abi decodes it or says what is wrong
        return decode_words(self.outputs, bytes.fromhex(text), None)


@dataclass(frozen=True)
class Event:
    """One event: topic 0, and how its indexed and data parameters decode."""

    name: str
    topic: str
    names: list[str]
    indexed: list[bool]
    types: list[str]
    data_types: list[str] = field(default_factory=list, compare=False)
    topic_readers: list[HexReader | None] = field(default_factory=list, compare=False)
    hex_data: HexLayout | None = field(default=None, compare=False)
    hex_topics: tuple[HexReader, ...] | None = field(default=None, compare=False)  # None: not all one-word

    @staticmethod
    def build(name: str, topic: str, names: list[str], indexed: list[bool], types: list[str]) -> Event:
        """An event with its fast decoders prepared."""
        data_types = [t for t, ix in zip(types, indexed, strict=True) if not ix]
        readers = [_hex_word_reader(t) for t, ix in zip(types, indexed, strict=True) if ix]
        hex_topics = None if any(r is None for r in readers) else tuple(r for r in readers if r is not None)
        return Event(name, topic, names, indexed, types, data_types, readers, HexLayout.of(data_types), hex_topics)

    def decode(self, topics: list[str], data: str) -> dict[str, Any]:
        """The event's arguments by name (indexed dynamic types stay as their topic hash)."""
        if self.hex_data is not None and self.hex_topics is not None and len(topics) == len(self.hex_topics) + 1:
            try:
                return self._decode_hex(topics, data)
            except (TypeError, ValueError):
                pass  # the general path below decodes it or says what is wrong
        values = decode_words(self.data_types, bytes.fromhex(data[2:]), None) if self.data_types else []
        out: dict[str, Any] = {}
        position = 0
        topic_index = 1
        for name, kind, ix in zip(self.names, self.types, self.indexed, strict=True):
            if ix:
                word = topics[topic_index][2:].lower()
                reader = self.topic_readers[topic_index - 1]
                topic_index += 1
                if reader is not None:
                    out[name] = reader(word, 0)
                else:
                    raw = bytes.fromhex(word)
                    dynamic = kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("(")
                    out[name] = raw if dynamic else normalize(decode([kind], raw)[0])
            else:
                out[name] = values[position]
                position += 1
        return out

    @cached_property
    def _plan(self) -> tuple[tuple[str, bool, int, Any], ...]:
        """Per parameter: its name, whether it is a topic, and where and how it is read (a
        topic's index; a one-word data value's hex position; else its index in `read`'s list)."""
        assert self.hex_data is not None and self.hex_topics is not None
        plan: list[tuple[str, bool, int, Any]] = []
        topic, position, word = 1, 0, 0
        for name, ix in zip(self.names, self.indexed, strict=True):
            if ix:
                plan.append((name, True, topic, self.hex_topics[topic - 1]))
                topic += 1
                continue
            dynamic, size, reader = self.hex_data.readers[position]
            one_word = not dynamic and size == 1 and not isinstance(reader, HexLayout)
            plan.append((name, False, 64 * word if one_word else position, reader if one_word else None))
            position += 1
            word += size
        return tuple(plan)

    def _decode_hex(self, topics: list[str], data: str) -> dict[str, Any]:
        """`decode` for events whose indexed parameters are one-word types, from the hex: each
        one-word value read in place, the rest (tuples, strings) by the data's layout."""
        assert self.hex_data is not None
        h = data[2:].lower()
        if len(h) < 64 * self.hex_data.words:
            raise HexRefusedError("short")
        values: list[Any] | None = None
        out: dict[str, Any] = {}
        for name, is_topic, at, reader in self._plan:
            if is_topic:
                out[name] = reader(topics[at][2:].lower(), 0)
            elif reader is not None:
                out[name] = reader(h, at)
            else:
                if values is None:
                    values = self.hex_data.read(h)
                out[name] = values[at]
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
                    HexLayout.of(inputs_),
                    HexLayout.of(outputs_),
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
