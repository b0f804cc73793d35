"""EVM bytecode: instructions, solc source maps, and code identity that ignores metadata and immutables."""

from __future__ import annotations

import re
from dataclasses import dataclass

JUMPI = 0x57
JUMP = 0x56
JUMPDEST = 0x5B
PUSH1 = 0x60
PUSH32 = 0x7F
#: Instructions that end a basic block.
TERMINATORS = frozenset({0x00, JUMP, JUMPI, 0xF3, 0xFD, 0xFE, 0xFF})

# The CBOR metadata solc appends to runtime code: ipfs hash (34 bytes) and compiler version.
_METADATA = re.compile(r"a264697066735822[0-9a-f]{68}64736f6c6343[0-9a-f]{6}0033")


@dataclass(frozen=True, slots=True)
class SourceRange:
    """A source map entry: `length` bytes from `start` in the source with id `file`."""

    start: int
    length: int
    file: int

    def within(self, other: SourceRange) -> bool:
        return (
            self.file == other.file
            and self.start >= other.start
            and self.start + self.length <= other.start + other.length
        )

    @classmethod
    def parse(cls, src: str) -> SourceRange:
        start, length, file = (int(x) for x in src.split(":")[:3])
        return cls(start, length, file)


@dataclass(frozen=True, slots=True)
class Instruction:
    pc: int
    op: int
    push: int | None  # the value of a PUSH, else None
    src: SourceRange


def push_size(op: int) -> int:
    """Bytes of push data after opcode `op` (0 for anything but PUSH1 to PUSH32)."""
    return op - PUSH1 + 1 if PUSH1 <= op <= PUSH32 else 0


def instructions(code_hex: str, source_map: str) -> list[Instruction]:
    """Decodes code and zips it with its (compressed) source map, one entry per instruction."""
    code = bytes.fromhex(code_hex.removeprefix("0x"))
    ranges = _source_map(source_map)
    out: list[Instruction] = []
    pc = 0
    while pc < len(code) and len(out) < len(ranges):
        op = code[pc]
        size = push_size(op)
        push = int.from_bytes(code[pc + 1 : pc + 1 + size], "big") if size else None
        out.append(Instruction(pc, op, push, ranges[len(out)]))
        pc += 1 + size
    return out


def _source_map(source_map: str) -> list[SourceRange]:
    """Expands solc's compressed `s:l:f:j:m;...` source map (empty fields repeat the previous)."""
    start = length = file = 0
    out: list[SourceRange] = []
    for entry in source_map.split(";") if source_map else []:
        fields = entry.split(":")
        if fields[0]:
            start = int(fields[0])
        if len(fields) > 1 and fields[1]:
            length = int(fields[1])
        if len(fields) > 2 and fields[2]:
            file = int(fields[2])
        out.append(SourceRange(start, length, file))
    return out


def strip_metadata(code_hex: str) -> str:
    """Lower-case hex without 0x in which every metadata hash is blanked (it differs by source path)."""
    return _METADATA.sub(lambda m: "m" * len(m.group(0)), code_hex.lower().removeprefix("0x"))


def blank_immutables(code_hex: str, references: dict[str, list[dict[str, int]]]) -> str:
    """Blanks the bytes a constructor fills in for immutables (given by solc's immutableReferences)."""
    chars = list(code_hex)
    for refs in references.values():
        for ref in refs:
            begin = 2 * ref["start"]
            chars[begin : begin + 2 * ref["length"]] = "i" * (2 * ref["length"])
    return "".join(chars)
