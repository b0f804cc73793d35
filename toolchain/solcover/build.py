"""Compiles the contracts (as ape does: same compiler, settings and code) with source maps and ASTs."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field

from standard_json import ROOT, standard_json

from solcover.bytecode import Instruction, SourceRange, blank_immutables, instructions, strip_metadata

_OUTPUTS = [
    "evm.bytecode.object",
    "evm.bytecode.sourceMap",
    "evm.deployedBytecode.object",
    "evm.deployedBytecode.sourceMap",
    "evm.deployedBytecode.immutableReferences",
]


@dataclass(slots=True)
class Artifact:
    """One contract's two programs: the init code (constructor) and the runtime code."""

    name: str
    init: list[Instruction]
    runtime: list[Instruction]
    init_key: str  # init code without metadata
    runtime_key: str  # runtime code without metadata or immutables
    immutables: dict[str, list[dict[str, int]]]


@dataclass(slots=True)
class Build:
    """The compiled contracts of a tree, with their sources as the source maps refer to them."""

    sources: dict[int, str]  # source id -> path
    texts: dict[int, bytes]  # source id -> text (source maps count bytes, not characters)
    asts: dict[int, dict]  # source id -> AST
    artifacts: list[Artifact] = field(default_factory=list)

    def line(self, src: SourceRange) -> int:
        return self.texts[src.file].count(b"\n", 0, src.start) + 1

    def snippet(self, src: SourceRange) -> str:
        return self.texts[src.file][src.start : src.start + src.length].decode(errors="replace")

    def identify_runtime(self, code_hex: str) -> Artifact | None:
        code = strip_metadata(code_hex)
        for artifact in self.artifacts:
            same_length = len(artifact.runtime_key) == len(code) and artifact.runtime_key
            if same_length and blank_immutables(code, artifact.immutables) == artifact.runtime_key:
                return artifact
        return None

    def identify_init(self, input_hex: str) -> Artifact | None:
        """The artifact whose init code starts the creation input (constructor arguments follow it)."""
        data = strip_metadata(input_hex)
        best = None
        for artifact in self.artifacts:
            longer = best is None or len(artifact.init_key) > len(best.init_key)
            if artifact.init_key and data.startswith(artifact.init_key) and longer:
                best = artifact
        return best


def compile_contracts(paths: list[str] | None = None) -> Build:
    """Compiles every contract under contracts/ (or only `paths`, relative to the project root)."""
    std = standard_json(include_test_helpers=True)
    if paths is not None:
        std["sources"] = {p: std["sources"][p] for p in paths}
    std["settings"]["outputSelection"] = {"*": {"*": _OUTPUTS, "": ["ast"]}}
    result = subprocess.run(
        ["node", str(ROOT / "toolchain" / "solc.js"), "--standard-json"],
        input=json.dumps(std),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    output = json.loads(result.stdout)
    errors = [e for e in output.get("errors", []) if e["severity"] == "error"]
    if errors:
        raise RuntimeError("\n".join(e["formattedMessage"] for e in errors))
    build = Build(sources={}, texts={}, asts={})
    for path, source in output["sources"].items():
        build.sources[source["id"]] = path
        build.asts[source["id"]] = source["ast"]
        build.texts[source["id"]] = (ROOT / path).read_bytes()
    for contracts in output["contracts"].values():
        for name, data in contracts.items():
            evm = data["evm"]
            if not evm["deployedBytecode"]["object"]:
                continue  # interfaces and abstract contracts
            init_hex, runtime_hex = evm["bytecode"]["object"], evm["deployedBytecode"]["object"]
            immutables = evm["deployedBytecode"].get("immutableReferences", {})
            build.artifacts.append(
                Artifact(
                    name=name,
                    init=instructions(init_hex, evm["bytecode"]["sourceMap"]),
                    runtime=instructions(runtime_hex, evm["deployedBytecode"]["sourceMap"]),
                    init_key=strip_metadata(init_hex),
                    runtime_key=blank_immutables(strip_metadata(runtime_hex), immutables),
                    immutables=immutables,
                )
            )
    return build
