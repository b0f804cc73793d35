"""Writes the Solidity standard-JSON input of the project's contracts (for Slither and forge),
with OpenZeppelin resolved from node_modules, as ape-solidity compiles them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def standard_json(include_test_helpers: bool = False) -> dict:
    sources = {}
    for path in sorted((ROOT / "contracts").rglob("*.sol")):
        rel = path.relative_to(ROOT)
        if ".cache" in rel.parts or (not include_test_helpers and rel.parts[1] == "test"):
            continue
        sources[str(rel)] = {"content": path.read_text()}
    return {
        "language": "Solidity",
        "sources": sources,
        "settings": {
            "remappings": ["@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"],
            "optimizer": {"enabled": True, "runs": 200},
            "evmVersion": "cancun",
            "outputSelection": {
                "*": {"*": ["abi", "evm.bytecode", "evm.deployedBytecode", "evm.methodIdentifiers"], "": ["ast"]}
            },
        },
    }


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / ".build" / "standard-input.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(standard_json()))
    print(out)
