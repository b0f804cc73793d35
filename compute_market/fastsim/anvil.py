"""The engine's own anvil: started without steps tracing, mining off, a fixed genesis time,
on a free port; stopped (and its memory measured) at the end.

Two settings keep a month-long market within time and memory on anvil 1.7.1 (docs/fastsim.md,
"Slice 3", "Why anvil grew, and what bounds it"):

- **No history** (`--prune-history`, `--transaction-block-keeper`): anvil otherwise keeps a full
  copy of the state for every block and every transaction's receipt and call trace forever (the
  30 to 55 KB per transaction measured before). The engine reads only the newest block's logs,
  receipts and traces, so it keeps the last `KEEP_BLOCKS` blocks' transactions and no past state.
- **A fork of an empty node** (`--fork-url`): anvil 1.7.1 recomputes the state root from every
  storage slot of every account at each block (about 1.2 µs a slot: 0.5 s a block at 400,000
  slots, and the market never frees a job's slots). A forked node computes no state root (its
  blocks carry a zero root); it forks a second, idle anvil at its genesis, so every account and
  contract of the run lives in the forked node's own memory (contracts deployed there read
  unset slots locally, never from the base)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO

from compute_market.fastsim.rpc import Rpc, RpcConnectionError

TEST_MNEMONIC = "test test test test test test test test test test test junk"
CHAIN_ID = 1337  # what Ape's `ethereum:local` network signs for
BLOCK_GAS_LIMIT = 10**12  # a step's batch is one block, however large
# Blocks whose transactions (receipts, logs, call traces) anvil keeps: more than the deploy's
# blocks (the engine replays the deploy's logs once, right after it) and the few the engine reads.
KEEP_BLOCKS = 32


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_bytes(pid: int) -> int:
    """Resident memory of process `pid` (psutil when installed, else /proc), 0 when gone."""
    try:
        import psutil  # type: ignore[import-untyped,import-not-found,unused-ignore]

        return int(psutil.Process(pid).memory_info().rss)
    except ImportError:
        pass
    except Exception:
        return 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


class Anvil:
    """An anvil process of our own. Use as a context manager: it is stopped on the way out,
    also on error. Mining is off (`--no-mining`): the engine mines each block itself."""

    def __init__(
        self,
        genesis_timestamp: int,
        accounts: int = 2,
        binary: str | None = None,
        *,
        fork_base: bool = True,
        keep_blocks: int = KEEP_BLOCKS,
    ) -> None:
        found = binary or shutil.which("anvil")
        if found is None:
            raise FileNotFoundError("anvil is not on PATH: `source bin/env.sh` first")
        self.binary = found
        self.genesis_timestamp = genesis_timestamp
        self.accounts = accounts
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.peak_rss = 0
        self.fork_base = fork_base  # fork an idle anvil of our own: no state root at each block
        self.keep_blocks = keep_blocks  # 0: anvil's defaults (every block's state and transactions kept)
        self.base: Anvil | None = None
        # anvil's output (shown if it fails to start): a file open as long as the process runs
        self.log: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid if self.process is not None else 0

    def command(self) -> list[str]:
        """The command line: no `--steps-tracing`, zero fees, a huge block gas limit (a step's
        batch is one block, however large), fee-ordered blocks (the engine orders a step's
        transactions by their tips)."""
        return [
            self.binary,
            "--port",
            str(self.port),
            "--mnemonic",
            TEST_MNEMONIC,
            "--accounts",
            str(self.accounts),
            "--chain-id",
            str(CHAIN_ID),
            "--timestamp",
            str(self.genesis_timestamp),
            "--no-mining",
            "--block-base-fee-per-gas",
            "0",
            "--gas-price",
            "0",
            "--hardfork",
            "cancun",
            "--gas-limit",
            str(BLOCK_GAS_LIMIT),
            "--order",
            "fees",
            "--silent",
            *self.history_args(),
        ]

    def history_args(self) -> list[str]:
        """What anvil keeps of past blocks, and the base node to fork (see the module's doc)."""
        args: list[str] = []
        if self.keep_blocks:
            args += ["--prune-history", "--transaction-block-keeper", str(self.keep_blocks)]
        if self.base is not None:
            args += ["--fork-url", self.base.url, "--no-storage-caching"]
        return args

    def start(self, wait_seconds: float = 30.0) -> Anvil:
        """Starts anvil (and first the idle base node it forks) and waits until it answers."""
        if self.fork_base and self.base is None:
            self.base = Anvil(self.genesis_timestamp, self.accounts, self.binary, fork_base=False, keep_blocks=0)
            self.base.start(wait_seconds)
        for _attempt in range(5):
            self.port = free_port()
            self.log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the process)
            # `--timestamp` is given here: anvil refuses it twice, and `ape run` imports
            # scripts/simulate.py, which sets ANVIL_GENESIS_TIMESTAMP for ape-foundry's anvil.
            env = {k: v for k, v in os.environ.items() if k != "ANVIL_GENESIS_TIMESTAMP"}
            self.process = subprocess.Popen(self.command(), stdout=self.log, stderr=subprocess.STDOUT, env=env)
            deadline = time.monotonic() + wait_seconds
            while time.monotonic() < deadline and self.process.poll() is None:
                probe = Rpc(self.url, timeout=2)
                try:
                    probe.call("eth_chainId")
                    return self
                except RpcConnectionError:
                    time.sleep(0.05)
                finally:
                    probe.close()
            self._stop_process()  # died (port taken in between?) or never answered: try another port
            self.log.seek(0)
            said = self.log.read().decode(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"anvil did not start: {' '.join(self.command())}\n{said}")

    def rss(self) -> int:
        """Resident memory now, in bytes (with the base node's); remembers the peak seen."""
        now = rss_bytes(self.pid) if self.process is not None else 0
        now += self.base.rss() if self.base is not None else 0
        self.peak_rss = max(self.peak_rss, now)
        return now

    def stop(self) -> None:
        """Terminates the process and its base node (kills each if it does not end within 5 s)."""
        self._stop_process()
        if self.base is not None:
            self.base.stop()
            self.base = None

    def _stop_process(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
