"""`python -m solcover.codesize NAME`: where a contract's deployed bytes go.

Each runtime instruction's bytes (the opcode and its push data) are counted to the innermost
function or modifier whose source holds the instruction's source-map range; instructions mapped
to no function are the contract's own (dispatch, state) or the compiler's (ABI coders and checks
it generates, source id -1 or a generated Yul source). Bytes past the last instruction the source
map covers (the metadata solc appends) are not code and are not counted. Used to decide what
leaves a contract near the 24,576-byte limit (docs/lock-book.md, "Room").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import click

from solcover.analysis import _walk
from solcover.build import Build, compile_contracts
from solcover.bytecode import SourceRange, push_size

COMPILER = "(compiler-generated)"
_CODE_NODES = ("FunctionDefinition", "ModifierDefinition")


def _functions(build: Build) -> Iterator[tuple[SourceRange, str]]:
    """The source range and "Contract.function" of every function and modifier."""
    for ast in build.asts.values():
        for contract in _walk(ast):
            if contract["nodeType"] != "ContractDefinition":
                continue
            for node in _walk(contract):
                if node["nodeType"] in _CODE_NODES:
                    label = node.get("name") or node.get("kind") or "?"
                    yield SourceRange.parse(node["src"]), f"{contract['name']}.{label}"


def function_bytes(build: Build, name: str) -> Counter[str]:
    """Bytes of contract `name`'s runtime code per function (see the module's docstring)."""
    artifact = next((a for a in build.artifacts if a.name == name), None)
    if artifact is None:
        raise click.BadParameter(f"no contract named {name!r} in the build", param_hint="NAME")
    by_file: dict[int, list[tuple[SourceRange, str]]] = {}
    for body, label in _functions(build):
        by_file.setdefault(body.file, []).append((body, label))
    counts: Counter[str] = Counter()
    for instruction in artifact.runtime:
        src, size = instruction.src, 1 + push_size(instruction.op)
        if src.file not in build.sources:
            counts[COMPILER] += size
            continue
        holders = [(body.length, label) for body, label in by_file.get(src.file, []) if src.within(body)]
        counts[min(holders)[1] if holders else f"({build.sources[src.file]})"] += size
    return counts


@click.command()
@click.argument("name")
@click.option("--top", type=click.IntRange(1), default=40, show_default=True, help="How many rows to print.")
def cli(name: str, top: int) -> None:
    """Bytes of contract NAME's deployed code per function, largest first."""
    counts = function_bytes(compile_contracts(), name)
    click.echo(f"{name}: {sum(counts.values()):,} bytes of code counted")
    for label, size in counts.most_common(top):
        click.echo(f"{size:>7,}  {label}")


if __name__ == "__main__":
    cli()
