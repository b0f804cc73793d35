"""README.md's local walk-through ("A job from post to payment on a local chain"), run as written.

The commands are read from README.md: the fenced block after the ``<!-- walkthrough`` marker,
and the anvil command of the block before it. The test starts that anvil itself on a free port
(with a chain id of its own, so the deployment record it writes is not the user's
``deployments/31337.json``; it is deleted afterwards), puts the port in place of README's 8545,
and runs every command of the block in order, each in a subprocess of its own (``bash -c`` with
the block's ``source`` and variable lines before it), each of which must exit 0. At the end the
chain itself must show job 1 settled and the provider paid. A command changed in README.md
changes what runs: a wrong one fails here.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from contextlib import contextmanager
from decimal import Decimal

import pytest
from utils.e2e import ADDRESSES, PROVIDER, ROOT, STATUS, Anvil, Reader, free_port
from utils.helpers import load_script

from compute_market.models import JobStatus

README = ROOT / "README.md"
MARKER = "<!-- walkthrough:"  # not "<!-- walkthrough-workload" (tests/e2e/test_e2e_workload_walkthrough.py)
README_PORT = "8545"
SETTLED = JobStatus.SETTLED
COMMAND_TIMEOUT = 300


def fenced_blocks(text: str) -> list[tuple[int, str]]:
    """Every fenced code block of a Markdown text: (offset of its opening fence, its body)."""
    return [(m.start(), m.group(1)) for m in re.finditer(r"^```[a-z]*\n(.*?)^```$", text, re.M | re.S)]


def shell_lines(block: str) -> list[str]:
    """A block's commands, a line each (backslash continuations joined), blank lines and
    whole-line comments left out."""
    joined = re.sub(r"\\\n\s*", " ", block)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def walkthrough() -> tuple[str, list[str]]:
    """README's anvil command (the last line starting ``anvil`` in the block before the marker)
    and the walk-through's commands (the block right after the marker)."""
    text = README.read_text()
    marker = text.find(MARKER)
    assert marker >= 0, f"README.md has no {MARKER} … --> marker"
    blocks = fenced_blocks(text)
    after = [body for start, body in blocks if start > marker]
    before = [body for start, body in blocks if start < marker]
    assert after and before, "the walkthrough marker must sit between the chain's block and the commands' block"
    anvil = [line for line in shell_lines(before[-1]) if line.startswith("anvil")]
    assert anvil, "the block before the walkthrough starts no anvil"
    return anvil[-1], shell_lines(after[0])


def is_setup(line: str) -> bool:
    """A line that sets the shell up for the next ones (``source …``, ``NAME=…``)."""
    return line.startswith(("source ", ". ", "export ")) or re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", line) is not None


class ReadmeAnvil(Anvil):
    """README's anvil command with a free port and a chain id of its own (the helpers of
    `test_e2e_cli_agent.Anvil` otherwise: `rpc`, `stop`)."""

    def __init__(self, command: str) -> None:
        argv = shlex.split(command.split("#", 1)[0])
        assert argv[:3] == ["anvil", "--port", README_PORT], f"README's chain is `{command}`, not on port 8545"
        self.port = free_port()
        self.chain_id = 3_000_000 + self.port  # no other run's record, nor the user's 31337
        argv[2] = str(self.port)
        self._start([*argv, "--chain-id", str(self.chain_id), "--silent"], cwd=ROOT)


@contextmanager
def readme_anvil(command: str):
    """A README block's anvil on a free port; the deployment record it gets deleted afterwards
    (and the deployments folder, when the run made it)."""
    node = ReadmeAnvil(command)
    record = ROOT / "deployments" / f"{node.chain_id}.json"
    folder_existed = record.parent.exists()
    try:
        yield node
    finally:
        node.stop()
        record.unlink(missing_ok=True)
        if not folder_existed and record.parent.exists() and not any(record.parent.iterdir()):
            record.parent.rmdir()


@pytest.fixture(scope="module")
def readme_chain():
    """README's anvil on a free port, the record it gets deleted afterwards."""
    command, _ = walkthrough()
    with readme_anvil(command) as node:
        yield node


def test_the_walkthrough_is_the_chain_and_the_commands_it_needs():
    anvil, commands = walkthrough()
    assert anvil.startswith(f"anvil --port {README_PORT}")
    text = "\n".join(commands)
    assert text.count(f"http://127.0.0.1:{README_PORT}") == 1  # the one place the test changes
    verbs = [c.split()[3] for c in commands if c.startswith("ape run market ")]
    # Post to payment: every step the issue names, in this order (the offer after the stake it provisions).
    steps = [
        "mint-credits",
        "register",
        "stake",
        "set-offer",
        "post-job",
        "bid",
        "finalize",
        "claim",
        "result",
        "settle",
    ]
    positions = [verbs.index(step) for step in steps]
    assert positions == sorted(positions), verbs
    assert "advance-time" in verbs and commands[0].startswith("source ")
    assert any(c.startswith("ape run deploy ") for c in commands)


def test_readme_walkthrough_runs_as_written(readme_chain, project):
    _, commands = walkthrough()
    url = f"http://127.0.0.1:{readme_chain.port}"
    setup: list[str] = []
    for number, command in enumerate(commands):
        command = command.replace(f"http://127.0.0.1:{README_PORT}", url)
        if is_setup(command):
            setup.append(command)
        script = "\n".join(["set -e", *setup, command])
        done = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
        assert done.returncode == 0, (
            f"README walk-through line {number + 1} failed:\n{command}\n{done.stdout}\n{done.stderr}"
        )

    # The chain itself: job 1 settled, its provider the walk-through's and paid.
    record = ROOT / "deployments" / f"{readme_chain.chain_id}.json"
    assert json.loads(record.read_text())["chain_id"] == readme_chain.chain_id
    reader = Reader(readme_chain, project, record)
    job = reader.job(1)
    provider = ADDRESSES["TEST::2"]
    assert job[STATUS] == SETTLED
    assert job[PROVIDER] == provider
    paid = Decimal(reader.credits.functions.balanceOf(provider).call()) / 10**18
    # 2 GPUs, 4 hours, 2.00 CRD per GPU-hour: 16 CRD, less the 1% protocol fee: the README's figure.
    assert paid == Decimal("15.84")
    assert reader.registered(provider)


class RemoteChain:
    """A stand-in for Ape's `chain` on a live network: a Geth node on Sepolia; it records every
    request made to it."""

    chain_id = 11155111

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.provider = self
        self.network = type("Network", (), {"name": "sepolia"})()

    def make_request(self, method: str, params: list) -> str:
        self.requests.append(method)
        return "Geth/v1.14.12-stable/linux-amd64/go1.23.4"


def test_advance_time_refuses_a_live_chain_in_one_line_and_sends_nothing(invoke, monkeypatch):
    market = load_script("market")
    remote = RemoteChain()
    monkeypatch.setattr(market, "chain", remote)
    assert market.local_node() is None
    remote.requests.clear()
    result = invoke(market.cli, "TEST::0", "advance-time", "3600")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: advance-time works on local chains only (anvil, Hardhat): chain 11155111 is not one"
    )
    assert remote.requests == ["web3_clientVersion"]  # neither evm_increaseTime nor evm_mine


def test_advance_time_moves_a_local_chains_clock(invoke, chain):
    before = chain.blocks.head
    result = invoke(load_script("market").cli, "TEST::0", "advance-time", "3600", "--json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["advanced_seconds"] == 3600 and out["block"] == before.number + 1
    assert out["timestamp"] >= before.timestamp + 3600
