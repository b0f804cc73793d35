"""The example workloads in ``examples/<name>/``: each folder holds a ``manifest.json`` and the input
files it names (same relative paths), referenced by hash as ``cas://<sha256>``.

`publish_example` puts the inputs and the canonical manifest in a store and returns the manifest
and its workload id, which is what a customer does before posting a job. After editing an
example's files, ``python -m compute_market.workloads.examples`` rewrites the manifests' hashes
(a test fails while a manifest is stale).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from compute_market.workloads.errors import ManifestError
from compute_market.workloads.manifest import Manifest, canonical_bytes, load_manifest
from compute_market.workloads.store import Store, sha256_hex

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"


def example_names(root: Path = EXAMPLES_DIR) -> list[str]:
    """The examples (folders with a ``manifest.json``), sorted."""
    return sorted(p.parent.name for p in root.glob("*/manifest.json"))


def example_manifest(name: str, root: Path = EXAMPLES_DIR) -> Manifest:
    """The example's manifest, after checking that each input file in its folder has the declared hash."""
    folder = root / name
    manifest = load_manifest((folder / "manifest.json").read_bytes())
    for n, item in enumerate(manifest.inputs):
        path = folder / item.path
        if not path.is_file():
            raise ManifestError(f"inputs[{n}].path: {path} is missing")
        actual = sha256_hex(path.read_bytes())
        if actual != item.sha256:
            raise ManifestError(f"inputs[{n}].sha256: {path} has sha256 {actual} (run the refresh)")
    return manifest


def publish_example(name: str, store: Store, root: Path = EXAMPLES_DIR) -> tuple[Manifest, str]:
    """Puts the example's inputs and canonical manifest in ``store``; returns the manifest and its workload id (hex)."""
    manifest = example_manifest(name, root)
    for item in manifest.inputs:
        store.put((root / name / item.path).read_bytes())
    return manifest, store.put(canonical_bytes(manifest))


def refresh(name: str, root: Path = EXAMPLES_DIR) -> bool:
    """Rewrites the hashes and ``cas://`` URIs of the example's inputs from its files; True if it changed."""
    path = root / name / "manifest.json"
    doc = json.loads(path.read_text())
    for item in doc.get("inputs", []):
        digest = sha256_hex((root / name / item["path"]).read_bytes())
        item["sha256"], item["uri"] = digest, f"cas://{digest}"
    text = json.dumps(doc, indent=2) + "\n"
    if text == path.read_text():
        return False
    path.write_text(text)
    return True


def main(argv: list[str]) -> int:
    """``python -m compute_market.workloads.examples [NAME...]``: refreshes the examples' manifests."""
    for name in argv or example_names():
        print(f"{name}: {'updated' if refresh(name) else 'up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
