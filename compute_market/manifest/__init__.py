"""The protocol's contract ABIs, bundled with the package (``contracts.json``), so a deployment
can be loaded without the Ape project that compiled it (`Protocol.load_packaged`).

``python -m compute_market.manifest`` regenerates the file from the project's build
(``.build/__local__.json``, which ``ape compile`` writes); ``--check`` only compares.
``tests/sdk/test_sdk_package.py`` fails when the file and the build disagree.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from ethpm_types import ContractType

MANIFEST_PATH = Path(__file__).resolve().with_name("contracts.json")
# The project's build (a repository checkout; an installed package has none).
BUILD_PATH = Path(__file__).resolve().parents[2] / ".build" / "__local__.json"
# Every contract type a deployment record's contracts are loaded with (deployment order; the
# record's "PriceFeed" is a MockPriceFeed or an external IPriceFeed, "VrfAdapter" a ChainlinkVrfAdapter).
BUNDLED = (
    "ComputeToken",
    "MockPriceFeed",
    "IPriceFeed",
    "ComputeCredits",
    "RewardsDistributor",
    "ProviderRegistry",
    "JobAuctions",
    "JobMarket",
    "DisputeResolver",
    "ProtocolTimelock",
    "ChainlinkVrfAdapter",
)


def from_build(build: Path = BUILD_PATH, names: tuple[str, ...] = BUNDLED) -> dict[str, Any]:
    """The manifest (name and ABI of each of `names`) taken from an Ape build file."""
    if not build.exists():
        raise FileNotFoundError(f"no build at {build}: run `ape compile` in the repository first")
    types = json.loads(build.read_text()).get("contractTypes") or {}
    missing = [n for n in names if n not in types]
    if missing:
        raise KeyError(f"{build} lacks the contract types {missing}: run `ape compile`")
    return {"contractTypes": {n: {"contractName": n, "abi": types[n]["abi"]} for n in names}}


def render(manifest: dict[str, Any]) -> str:
    """The file's text: compact JSON, one contract a line."""
    lines = [f"{json.dumps(n)}: {json.dumps(t, separators=(',', ':'))}" for n, t in manifest["contractTypes"].items()]
    return '{"contractTypes": {\n' + ",\n".join(lines) + "\n}}\n"


def write(build: Path = BUILD_PATH, out: Path = MANIFEST_PATH) -> dict[str, Any]:
    """Regenerates `out` from `build`; returns the manifest written."""
    manifest = from_build(build)
    out.write_text(render(manifest))
    contract_types.cache_clear()
    return manifest


@cache
def contract_types() -> dict[str, ContractType]:
    """The bundled contract types by name (read once per process)."""
    raw = json.loads(MANIFEST_PATH.read_text())["contractTypes"]
    return {name: ContractType.model_validate(body) for name, body in raw.items()}


def contract_type(name: str) -> ContractType:
    """The bundled contract type `name`; a name the manifest lacks is a `KeyError` naming them all."""
    types = contract_types()
    if name not in types:
        raise KeyError(f"{name} is not in the bundled manifest ({', '.join(types)})")
    return types[name]
