"""Publishing a workload as a customer does before posting its job: the input files and the
canonical manifest put in a content store, the manifest's URI printed for ``post-job --manifest-uri``.

    python -m compute_market.workloads.publish examples/matmul --store .workloads-store
    python -m compute_market.workloads.publish examples/matmul --store http://127.0.0.1:8088 --json

FOLDER holds a ``manifest.json`` and the input files it names, at their paths (as the examples in
``examples/`` do); each file must have the sha256 the manifest declares. ``--store`` is a folder
(a `LocalStore`: the URI is ``file://…``) or the URL of a store server (``ape run store``: the URI
is ``<url>/<sha256>``). Publishing again is harmless: the store is content-addressed. The job's
``workload`` is the manifest's sha256 whichever copy ``post-job --manifest`` reads (the file in
FOLDER or the canonical one in the store): both have the same canonical form. Bad input exits 2
with one line naming the argument; a store that refuses or cannot be reached exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from compute_market.workloads.errors import ManifestError, StoreError
from compute_market.workloads.examples import example_manifest
from compute_market.workloads.manifest import Manifest, canonical_bytes
from compute_market.workloads.store import HttpStore, LocalStore


def open_store(where: str) -> LocalStore | HttpStore:
    """A store server for an ``http(s)://`` URL, else a folder."""
    return HttpStore(where) if where.startswith(("http://", "https://")) else LocalStore(where)


def publish_folder(folder: Path, store: LocalStore | HttpStore) -> tuple[Manifest, str, str]:
    """Puts the folder's input files and its canonical manifest in ``store``: returns the manifest,
    its workload id (hex sha256) and the manifest's URI in the store. `ManifestError` for a
    manifest that is invalid or names a missing or changed file; `StoreError` when the store fails."""
    root = folder.resolve()
    manifest = example_manifest(root.name, root.parent)
    for item in manifest.inputs:
        store.put((root / item.path).read_bytes())
    digest = store.put(canonical_bytes(manifest))
    return manifest, digest, store.uri(digest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m compute_market.workloads.publish",
        description="Publish a workload's inputs and canonical manifest; print the manifest's URI.",
    )
    parser.add_argument("folder", type=Path, help="a folder with manifest.json and the input files it names")
    parser.add_argument("--store", required=True, help="a store folder, or a store server's http(s) URL")
    parser.add_argument("--json", action="store_true", help="print the workload, the URI and the inputs as JSON")
    args = parser.parse_args(argv)
    if not (args.folder / "manifest.json").is_file():
        parser.exit(2, f"Error: FOLDER: {args.folder} has no manifest.json\n")
    try:
        store = open_store(args.store)
    except OSError as err:
        parser.exit(2, f"Error: --store: cannot use {args.store}: {err.strerror or err}\n")
    try:
        manifest, digest, uri = publish_folder(args.folder, store)
    except ManifestError as err:
        parser.exit(2, f"Error: FOLDER: {args.folder}: {err}\n")
    except StoreError as err:
        parser.exit(1, f"Error: --store: {err}\n")
    if args.json:
        doc = {
            "name": manifest.name,
            "workload": "0x" + digest,
            "manifest_uri": uri,
            "inputs": [item.path for item in manifest.inputs],
            "deterministic": manifest.deterministic,
        }
        print(json.dumps(doc))
    else:
        print(uri)
    return 0


if __name__ == "__main__":
    sys.exit(main())
