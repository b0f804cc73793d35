"""bin/bootstrap's anvil front (`.venv/bin/anvil`, the `anvil` that Ape, the tests and the
simulation start): anvil 1.7.1 writes the states of blocks older than the few hundred it keeps in
memory to a folder of its own and never removes it, not even when stopped with Ctrl-C (about
1 GB a test session; 76 GB had piled up under ~/.foundry/anvil/tmp on this machine). The front
sends those folders to the project's `.build/anvil-states/`, where `bin/coverage` removes the
ones its run made."""

from __future__ import annotations

import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path

from compute_market.fastsim.anvil import free_port
from compute_market.fastsim.rpc import Rpc

ROOT = Path(__file__).resolve().parents[2]
STATES = ROOT / ".build" / "anvil-states"


def holds(folder: Path, marker: str) -> bool:
    """Whether one of the first five state files of `folder` names `marker` (every state after
    the marker's balance does; the genesis block's, which may be among them, does not). Another
    session's anvil may be writing its own folder meanwhile: a file it is writing or has just
    removed counts as not ours."""
    for path in sorted(folder.iterdir())[:5]:
        try:
            if marker in path.read_text().lower():
                return True
        except (OSError, UnicodeDecodeError):
            continue
    return False


def test_old_block_states_go_under_the_project_and_stay_after_ctrl_c():
    """600 blocks mined after an account of its own got a balance: anvil writes 200 of their
    states to one new folder under .build/anvil-states/ (found by that account, which every
    state after it holds), and leaves it there after Ctrl-C. Without the front's `--cache-path`
    the folder goes to ~/.foundry/anvil/tmp, and none appears here."""
    front = shutil.which("anvil")
    assert front == str(ROOT / ".venv" / "bin" / "anvil"), front
    marker = "c0ffee" + secrets.token_hex(17)  # an address nobody else's chain holds
    STATES.mkdir(parents=True, exist_ok=True)
    before = set(STATES.iterdir())
    port = free_port()
    process = subprocess.Popen([front, "--port", str(port), "--silent"])
    rpc = Rpc(f"http://127.0.0.1:{port}", timeout=10)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                rpc.call("eth_blockNumber")
                break
            except OSError:  # not listening yet (RpcConnectionError is a ConnectionError)
                assert time.monotonic() < deadline, "anvil did not answer"
                time.sleep(0.2)
        rpc.call("anvil_setBalance", ["0x" + marker, "0x1234"])
        rpc.call("anvil_mine", [hex(600)])
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    ours = [folder for folder in set(STATES.iterdir()) - before if holds(folder, marker)]
    try:
        assert len(ours) == 1, ours  # other sessions' anvils may have made folders meanwhile
        assert ours[0].name.startswith("anvil-state-")
        assert len(list(ours[0].iterdir())) >= 100  # left behind by anvil itself, after Ctrl-C
    finally:
        for folder in ours:
            shutil.rmtree(folder)
