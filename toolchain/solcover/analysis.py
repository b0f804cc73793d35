"""Maps what ran back to the source: statements, functions and branches of our own contracts.

- A *statement* (a leaf statement of the AST: expression, declaration, return, emit, revert, ...)
  is covered when an instruction the compiler attributes to it, or to anything inside it, ran.
- A *function* (or modifier) is covered when any instruction inside it ran.
- A *branch point* is an ``if``, a ternary ``?:`` or a loop condition; it has two branches, taken
  and not taken. Each of its conditional jumps (JUMPI; the optimizer may emit several copies) is
  classified by where its two ways lead: the way whose first basic block runs code of the
  ``true`` body (or whose other way runs the ``else`` body) is the taken branch. The tracer saw
  which ways each jump went, so each branch is covered or not. ``&&`` and ``||`` short-circuit
  jumps are not branches here. A branch point none of whose jumps could be classified falls
  back to the bodies: taken if its true body ran; not taken if its else body ran or, without an
  else, if one of its jumps (one per copy of the code) went both ways, or if any ran while the
  true body never did.

Only sources under contracts/ count, except the test helpers in contracts/test/ (OpenZeppelin's
code is compiled in but is not ours to measure).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field

from solcover.build import Artifact, Build
from solcover.bytecode import JUMPDEST, JUMPI, TERMINATORS, Instruction, SourceRange

LEAF_STATEMENTS = frozenset(
    {
        "ExpressionStatement",
        "VariableDeclarationStatement",
        "Return",
        "EmitStatement",
        "RevertStatement",
        "Break",
        "Continue",
        "InlineAssembly",
    }
)
LOOPS = frozenset({"ForStatement", "WhileStatement", "DoWhileStatement"})


def counted(path: str) -> bool:
    return path.startswith("contracts/") and not path.startswith(("contracts/test/", "contracts/interfaces/"))


@dataclass(slots=True)
class BranchPoint:
    kind: str  # "if", "?:" or "loop"
    src: SourceRange
    condition: SourceRange
    true_body: SourceRange
    false_body: SourceRange | None
    taken: bool = False
    not_taken: bool = False
    jumps: int = 0  # conditional jumps found for it in the bytecode
    classified: int = 0  # of which classified


@dataclass(slots=True)
class FileCoverage:
    path: str
    statements: dict[SourceRange, bool] = field(default_factory=dict)
    functions: dict[str, bool] = field(default_factory=dict)  # "name@line" -> covered
    branches: list[BranchPoint] = field(default_factory=list)

    @property
    def branch_total(self) -> int:
        return 2 * len(self.branches)

    @property
    def branch_hit(self) -> int:
        return sum(b.taken + b.not_taken for b in self.branches)


@dataclass(slots=True)
class Hits:
    pcs: set[int]
    jumps: dict[int, int]


def analyse(build: Build, raw: dict) -> list[FileCoverage]:
    """Coverage of each counted source file from a build and the collector's raw data."""
    programs = list(_programs(build, raw))
    executed = _executed_ranges(programs)
    files: dict[int, FileCoverage] = {
        sid: FileCoverage(path) for sid, path in sorted(build.sources.items(), key=lambda kv: kv[1]) if counted(path)
    }
    for sid, cov in files.items():
        ranges = executed.get(sid, [])
        for node in _walk(build.asts[sid]):
            kind = node["nodeType"]
            src = SourceRange.parse(node["src"])
            if kind in LEAF_STATEMENTS:
                cov.statements[src] = _ran_within(ranges, src)
            elif kind in ("FunctionDefinition", "ModifierDefinition") and node.get("body"):
                name = node.get("name") or node.get("kind", "function")
                cov.functions[f"{name}@{build.line(src)}"] = _ran_within(ranges, src)
            point = _branch_point(node)
            if point is not None:
                cov.branches.append(point)
    jumps_by_range = _jumps_by_range(programs)
    for sid, cov in files.items():
        for point in cov.branches:
            _resolve(point, jumps_by_range, executed.get(sid, []))
    return list(files.values())


def _programs(build: Build, raw: dict) -> Iterator[tuple[list[Instruction], Hits]]:
    """Each compiled program with what ran of it (possibly nothing), over all code that matched it."""
    merged: dict[tuple[str, str], Hits] = {}
    for kind, identify in (("runtime", build.identify_runtime), ("init", build.identify_init)):
        for digest, entry in raw[kind].items():
            artifact = identify(raw["codes"][digest])
            if artifact is None:
                continue
            hits = merged.setdefault((kind, artifact.name), Hits(set(), {}))
            hits.pcs.update(entry["pcs"])
            for pc, bits in entry["jumps"].items():
                hits.jumps[int(pc)] = hits.jumps.get(int(pc), 0) | bits
    for artifact in build.artifacts:
        yield artifact.runtime, merged.get(("runtime", artifact.name), Hits(set(), {}))
        yield artifact.init, merged.get(("init", artifact.name), Hits(set(), {}))


def identified(build: Build, raw: dict) -> dict[str, int]:
    """How many traced programs matched each contract (a check that identification works)."""
    counts: dict[str, int] = {}
    for kind, identify in (("runtime", build.identify_runtime), ("init", build.identify_init)):
        for digest in raw[kind]:
            artifact: Artifact | None = identify(raw["codes"][digest])
            name = f"{artifact.name if artifact else '(unknown)'} {kind}"
            counts[name] = counts.get(name, 0) + 1
    return counts


def _executed_ranges(programs: list[tuple[list[Instruction], Hits]]) -> dict[int, list[tuple[int, int]]]:
    """Per source id, the sorted (start, end) of every range some executed instruction maps to."""
    out: dict[int, set[tuple[int, int]]] = {}
    for code, hits in programs:
        for ins in code:
            if ins.pc in hits.pcs:
                out.setdefault(ins.src.file, set()).add((ins.src.start, ins.src.start + ins.src.length))
    return {sid: sorted(ranges) for sid, ranges in out.items()}


def _ran_within(ranges: list[tuple[int, int]], src: SourceRange) -> bool:
    end = src.start + src.length
    i = bisect.bisect_left(ranges, (src.start, -1))
    while i < len(ranges) and ranges[i][0] < end:
        if ranges[i][1] <= end:
            return True
        i += 1
    return False


def _walk(node: object) -> Iterator[dict]:
    if isinstance(node, dict):
        if "nodeType" in node and "src" in node:
            yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _branch_point(node: dict) -> BranchPoint | None:
    kind = node["nodeType"]
    if kind == "IfStatement":
        false_body = node.get("falseBody")
        return BranchPoint(
            "if",
            SourceRange.parse(node["src"]),
            SourceRange.parse(node["condition"]["src"]),
            SourceRange.parse(node["trueBody"]["src"]),
            SourceRange.parse(false_body["src"]) if false_body else None,
        )
    if kind == "Conditional":
        return BranchPoint(
            "?:",
            SourceRange.parse(node["src"]),
            SourceRange.parse(node["condition"]["src"]),
            SourceRange.parse(node["trueExpression"]["src"]),
            SourceRange.parse(node["falseExpression"]["src"]),
        )
    if kind in LOOPS and node.get("condition"):
        return BranchPoint(
            "loop",
            SourceRange.parse(node["src"]),
            SourceRange.parse(node["condition"]["src"]),
            SourceRange.parse(node["body"]["src"]),
            None,
        )
    return None


@dataclass(slots=True)
class _Jump:
    fall_block: list[Instruction]
    jump_block: list[Instruction] | None
    bits: int  # ways seen: 1 fell through, 2 jumped


def _jumps_by_range(programs: list[tuple[list[Instruction], Hits]]) -> dict[SourceRange, list[_Jump]]:
    out: dict[SourceRange, list[_Jump]] = {}
    for code, hits in programs:
        index = {ins.pc: i for i, ins in enumerate(code)}
        for i, ins in enumerate(code):
            if ins.op != JUMPI:
                continue
            dest = code[i - 1].push if i > 0 else None
            jump_block = _block(code, index[dest]) if dest in index else None
            out.setdefault(ins.src, []).append(_Jump(_block(code, i + 1), jump_block, hits.jumps.get(ins.pc, 0)))
    return out


def _block(code: list[Instruction], start: int) -> list[Instruction]:
    """The basic block from `start`: up to and including the first instruction that ends one."""
    end = start
    while end < len(code) and code[end].op not in TERMINATORS:
        end += 1
    return code[start : end + 1]


def _runs(block: list[Instruction] | None, body: SourceRange | None) -> bool:
    """Whether the block runs code of `body`. A JUMPDEST runs nothing: the optimizer shares jump
    targets between constructs and the source map may give one the range of a neighbouring body
    (an `if (a && b) f();` whose skip target is tagged with `f()`), so it is not evidence."""
    return block is not None and body is not None and any(ins.op != JUMPDEST and ins.src.within(body) for ins in block)


def _resolve(point: BranchPoint, jumps_by_range: dict[SourceRange, list[_Jump]], ranges: list) -> None:
    copies = jumps_by_range.get(point.src, []) + (
        jumps_by_range.get(point.condition, []) if point.condition != point.src else []
    )
    point.jumps = len(copies)
    for jump in copies:
        fall_true, jump_true = _runs(jump.fall_block, point.true_body), _runs(jump.jump_block, point.true_body)
        fall_false, jump_false = _runs(jump.fall_block, point.false_body), _runs(jump.jump_block, point.false_body)
        if fall_true != jump_true:
            taken_bit = 1 if fall_true else 2
        elif fall_false != jump_false:
            taken_bit = 2 if fall_false else 1
        else:
            continue  # a short-circuit jump or one the optimizer moved: no way to tell which way is which
        point.classified += 1
        point.taken |= bool(jump.bits & taken_bit)
        point.not_taken |= bool(jump.bits & (3 - taken_bit))
    if point.classified == 0:
        # Fall back on the bodies. Without an else, "not taken" shows only through a lone jump:
        # it went both ways, or it ran while the true body never did.
        point.taken = _ran_within(ranges, point.true_body)
        if point.false_body is not None:
            point.not_taken = _ran_within(ranges, point.false_body)
        else:
            # Each copy of the code (a library compiled into two contracts, say) counts: one
            # that went both ways saw both, and one that ran while the true body never did saw
            # the condition false.
            ran = [jump for jump in copies if jump.bits]
            point.not_taken = any(jump.bits == 3 for jump in ran) or (bool(ran) and not point.taken)
