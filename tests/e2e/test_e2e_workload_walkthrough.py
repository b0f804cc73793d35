"""The README's walk-through of a workload ("A workload from post to download on a local chain"),
run as written: the fenced block after the ``<!-- walkthrough-workload`` marker, with the anvil
command of the block before it.

The test starts that anvil itself on a free port with a chain id of its own (so the deployment
record it writes, ``deployments/<chain id>.json``, is nobody else's; it is deleted afterwards) and
puts the port in place of 8545. The commands run in order, each in a subprocess of its own
(``bash -c`` with the block's ``source`` and variable lines before it), each of which must exit
0, in a scratch checkout: a folder whose entries are links to the project's, except the folders
the walk-through writes (``.workloads-store``, ``.agent``, ``out``), so that it neither reads a
user's state files nor leaves its own behind. At the end the chain must show job 1 settled, its
provider and verifier paid, and the downloaded file must be the one on chain.
"""

from __future__ import annotations

import json
import os
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from test_e2e_workload import OK, SETTLED, Chain
from test_readme_walkthrough import COMMAND_TIMEOUT, fenced_blocks, is_setup, readme_anvil, shell_lines
from utils.e2e import ADDRESSES, PROVIDER, ROOT, STATUS

MARKER = "<!-- walkthrough-workload"
README = ROOT / "README.md"
README_PORT = "8545"
WRITTEN = frozenset({".workloads-store", ".agent", "out", "deployments", ".keeper"})  # not linked


def walkthrough() -> tuple[Path, str, list[str]]:
    """Where the walk-through is, its anvil command (the last line starting ``anvil`` in the block
    before the marker) and its commands (the block right after the marker)."""
    source, text = README, README.read_text()
    marker = text.find(MARKER)
    if marker < 0:
        raise AssertionError(f"README.md has no {MARKER} … --> marker")
    blocks = fenced_blocks(text)
    after = [body for start, body in blocks if start > marker]
    before = [body for start, body in blocks if start < marker]
    assert after and before, "the marker must sit between the chain's block and the commands' block"
    anvil = [line for line in shell_lines(before[-1]) if line.startswith("anvil")]
    assert anvil, "the block before the walk-through starts no anvil"
    return source, anvil[-1], shell_lines(after[0])


@pytest.fixture(scope="module")
def workload_chain():
    """The walk-through's anvil on a free port; its deployment record deleted afterwards."""
    _, command, _ = walkthrough()
    with readme_anvil(command) as node:
        yield node


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A scratch checkout (links to the project's entries but the folders the walk-through
    writes) and the environment to run in it: a TMPDIR outside it (Ape compiles in a copy under
    the temp dir unless the project lies there)."""
    root = tmp_path_factory.mktemp("walkthrough")
    folder = root / "checkout"
    folder.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in WRITTEN:
            (folder / entry.name).symlink_to(entry)
    (root / "tmp").mkdir()
    return folder, os.environ | {"TMPDIR": str(root / "tmp")}


def test_the_walkthrough_runs_a_verified_workload_from_post_to_download():
    _, anvil, commands = walkthrough()
    assert anvil.startswith(f"anvil --port {README_PORT} --block-time ")  # draws need blocks to come
    text = "\n".join(commands)
    assert text.count(f"http://127.0.0.1:{README_PORT}") == 1  # the one place the test changes
    steps = [
        "python -m compute_market.workloads.publish examples/",
        "ape run market post-job ",
        "ape run agent ",
        "ape run verifier ",
        "ape run market results --job 1",
    ]
    positions = [next(i for i, c in enumerate(commands) if step in c) for step in steps]
    assert positions == sorted(positions), commands
    post = next(c for c in commands if "ape run market post-job " in c)
    assert "--verify" in post and "--manifest " in post and "--manifest-uri " in post


def test_the_workload_walkthrough_runs_as_written(workload_chain, checkout, project):
    source, _, commands = walkthrough()
    folder, env = checkout
    url = f"http://127.0.0.1:{workload_chain.port}"
    setup: list[str] = []
    outputs: list[str] = []
    for number, command in enumerate(commands):
        command = command.replace(f"http://127.0.0.1:{README_PORT}", url)
        if is_setup(command):
            setup.append(command)
        script = "\n".join(["set -e", *setup, command])
        done = subprocess.run(
            ["bash", "-c", script], cwd=folder, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
        )
        assert done.returncode == 0, (
            f"{source.name} walk-through line {number + 1} failed:\n{command}\n{done.stdout}\n{done.stderr}"
        )
        outputs.append(done.stdout)

    record = ROOT / "deployments" / f"{workload_chain.chain_id}.json"
    reader = Chain(workload_chain, project, record)
    job = reader.job(1)
    assert job[STATUS] == SETTLED and job[PROVIDER] == ADDRESSES["TEST::2"]
    verifier, _deadline, attestation, _requested = reader.verification(1)
    assert (verifier, attestation) == (ADDRESSES["TEST::3"], OK)
    crd = {who: Decimal(reader.crd(ADDRESSES[who])) / 10**18 for who in ("TEST::1", "TEST::2", "TEST::3")}
    assert crd == {"TEST::1": Decimal("245.60"), "TEST::2": Decimal("2.97"), "TEST::3": Decimal("0.15")}

    # The verifier re-executed and approved; the customer's file is the bundle on chain.
    said = "\n".join(outputs)
    submitted = reader.result_hash(1).hex()
    assert f"job 1: attested ok: re-executed matmul: bundle {submitted} matches the result" in said
    downloaded = folder / "out" / "job-1" / "out" / "checksum.json"
    assert json.loads(downloaded.read_text())["n"] == 60
    assert downloaded.read_text() in said  # `cat` printed it
    from compute_market.workloads import pack, sha256_hex

    assert sha256_hex(pack({"out/checksum.json": downloaded.read_bytes()})) == submitted
    assert (folder / ".agent" / "store" / submitted).is_file()  # the provider's bundle, where its URI says
    assert not (folder / ".agent").is_symlink()  # the states are the scratch checkout's, not the user's
