"""`python -m compute_market.workloads.publish`, the customer's step before `post-job`, as a user
runs it: a workload folder's inputs and canonical manifest put in a store folder or a store server,
the manifest's URI printed; bad input refused in one line naming the argument, nothing stored."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from utils.e2e import ROOT, free_port

from compute_market.workloads import (
    LocalStore,
    StoreServer,
    canonical_bytes,
    fetch,
    load_published,
    workload_id,
)
from compute_market.workloads.examples import example_manifest


def publish(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "compute_market.workloads.publish", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_folder_is_published_to_a_store_folder_and_its_uri_printed(tmp_path):
    done = publish("examples/train_step", "--store", str(tmp_path / "store"))
    assert done.returncode == 0, done.stderr
    manifest = example_manifest("train_step")
    digest = workload_id(manifest).hex()
    assert done.stdout == f"{(tmp_path / 'store' / digest).as_uri()}\n"
    store = LocalStore(tmp_path / "store")
    assert store.get(digest) == canonical_bytes(manifest)
    assert load_published(fetch(done.stdout.strip(), digest), digest) == manifest
    for item in manifest.inputs:  # main.py and data/data.csv, by their hashes
        assert store.get(item.sha256) == (ROOT / "examples/train_step" / item.path).read_bytes()
    again = publish("examples/train_step", "--store", str(tmp_path / "store"))
    assert again.stdout == done.stdout  # content-addressed: the same again


def test_a_folder_is_published_to_a_store_server(tmp_path):
    server = StoreServer(tmp_path / "served", port=0).start()
    try:
        done = publish("examples/matmul", "--store", server.url, "--json")
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    digest = workload_id(example_manifest("matmul")).hex()
    assert out == {
        "name": "matmul",
        "workload": "0x" + digest,
        "manifest_uri": f"{server.url.rstrip('/')}/{digest}",
        "inputs": ["main.py"],
        "deterministic": True,
    }
    assert LocalStore(tmp_path / "served").has(digest)


def test_bad_input_is_refused_in_one_line_naming_the_argument(tmp_path):
    changed = tmp_path / "matmul"
    shutil.copytree(ROOT / "examples/matmul", changed)
    (changed / "main.py").write_text("print('not the file the manifest names')\n")
    cases = [
        (["examples", "--store", str(tmp_path / "s1")], 2, "Error: FOLDER: examples has no manifest.json"),
        ([str(changed), "--store", str(tmp_path / "s2")], 2, "inputs[0].sha256: "),
        (["examples/matmul", "--store", f"http://127.0.0.1:{free_port()}"], 1, "Error: --store: PUT http://"),
    ]
    for args, code, expected in cases:
        done = publish(*args)
        assert done.returncode == code, (args, done.stderr)
        (line,) = done.stderr.strip().splitlines()
        assert expected in line and done.stdout == ""
    assert list((tmp_path / "s2").iterdir()) == []  # nothing stored from the changed folder
