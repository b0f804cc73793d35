"""What the provider agent (`compute_market.agent`) and the verifier agent
(`compute_market.verifier_agent`) share, so that both keep what they owe the same way (issue 19):

- a state file (`SavedState`: a block cursor and the deployment it belongs to, then each agent's
  own fields) keyed by the chain (id and genesis block hash) and the market's address, written
  atomically (a kill leaves the old file or the new one);
- an exclusive lock (``fcntl.flock``) on a sidecar ``<state>.lock`` file: a second agent on the
  same state file stops at once with `StateLockedError`;
- starting over (`StateAgent._start_over`) with no state file, an unreadable one or one for
  another chain or deployment (both set aside, never overwritten), a cursor past the chain head,
  a head that fell below the cursor, or a state file that disappeared while the agent runs;
- sealed commitments (bids, jury votes) whose salt is written to the state file before the
  commitment is sent, so that no kill in between loses it;
- the run loop: a failed step is logged in one line and tried again after a backoff that doubles
  up to a cap; Ctrl-C ends it with a summary line;
- for their ``ape run`` scripts (scripts/agent.py, scripts/verifier.py): the headless account
  check, SIGINT/SIGTERM as that Ctrl-C, the ``--cas``/``--ipfs-gateway`` fetch configuration and
  the one-line errors of a failed set-up.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import signal
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, ClassVar, Generic, Self, TypeVar

import click
from ape import chain
from eth_utils.conversions import to_hex

from compute_market.client import MarketClient
from compute_market.deployment import market_deploy_block
from compute_market.errors import MarketError
from compute_market.keeper import read_logs, write_json_atomic
from compute_market.workloads import FetchConfig, Host, HttpStore, LocalStore

MAX_BACKOFF = 60.0  # seconds: the longest wait between two steps while the node fails


class StateLockedError(RuntimeError):
    """Another agent (another process, or another agent of this one) holds the state file."""


def lock_state(path: Path) -> int:
    """Takes an exclusive lock on the sidecar ``<state>.lock`` of the state file `path`, held
    while the returned descriptor is open (the kernel releases it when the process ends, killed
    or not); raises `StateLockedError`, naming the holder's process id, when another holds it."""
    lock = path.with_name(f"{path.name}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise StateLockedError(f"{path} is in use by another agent (process {holder} holds {lock})") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def set_aside(path: Path) -> Path:
    """Renames a state file the agent will not use, so that nothing in it (salts) is overwritten."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    aside = path.with_name(f"{path.name}.{stamp}.old")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.{stamp}-{n}.old")
    path.replace(aside)
    return aside


def one_line(err: BaseException, limit: int = 200) -> str:
    """An exception as one short line: its type and the first line of its message."""
    lines = str(err).strip().splitlines()
    text = f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------- the state file


@dataclass
class SavedState:
    """What survives a restart: the cursor and the deployment, then each agent's own fields."""

    last_block: int  # the last block whose logs were read
    market: str = ""  # "<chain id>:<genesis hash>:<market address>": the deployment it belongs to

    KIND: ClassVar[str] = "a state"  # what the state is, in the error on an unreadable one
    # What a malformed file raises while `parse` reads it (anything else propagates as it is).
    UNREADABLE: ClassVar[tuple[type[Exception], ...]] = (KeyError, TypeError, AttributeError)

    @classmethod
    def parse(cls, raw: Any) -> Self:
        """The state in the decoded JSON `raw` (KeyError, TypeError, … when it is not one)."""
        return cls(int(raw["last_block"]), str(raw.get("market", "")))

    @classmethod
    def read(cls, path: Path) -> Self | None:
        """The state saved at `path`, None when there is none; ValueError when it is unreadable."""
        if not path.exists():
            return None
        try:
            return cls.parse(json.loads(path.read_text()))
        except cls.UNREADABLE as err:
            raise ValueError(f"not {cls.KIND}: {one_line(err)}") from err

    def save(self, path: Path) -> None:
        """Writes the state atomically (a kill leaves the old file or the new one)."""
        write_json_atomic(path, vars(self))


S = TypeVar("S", bound=SavedState)
V = TypeVar("V", bound=Mapping[str, Any])


class StateAgent(ABC, Generic[S]):
    """An agent's state file, its lock, starting over, sealed salts and run loop; a subclass
    steps (`step`), says where it stands (`summary`) and what starting over does (`rebuilding`)."""

    # Whether a state file that disappeared while the agent runs has the next step read every log
    # again from `start_block` (the verifier), or only the agent's own (the provider's `_rebuild`).
    rescan_on_loss: ClassVar[bool] = False

    def __init__(
        self,
        state_type: type[S],
        client: MarketClient,
        state_path: Path,
        *,
        start_block: int | None,
        max_blocks: int,
        salt_fn: Callable[[], bytes] | None,
        log: Callable[[str], None],
        sleep: Callable[[float], None],
        host: Host | None,
    ) -> None:
        """Takes the state file's lock (`StateLockedError` when another agent holds it), then opens
        its state. `start_block` (default: the market's deploy block, so that nothing before the
        agent started is missed) is where a new state starts reading logs, at most `max_blocks`
        blocks per step; `sleep` waits between steps (tests pass their own)."""
        self.client = client
        self.market = client.p.market
        self.state_path = state_path
        self.max_blocks = max_blocks
        self.salt_fn = salt_fn  # sealed salts (default: secrets); the simulation seeds them
        self.log = log
        self.sleep = sleep
        self.steps = self.failed_steps = 0
        self._failures = 0  # consecutive failed steps
        self._saved: str | None = None  # the state as last written
        self._rebuild_reason: str | None = None  # why the next step rebuilds from the chain
        self._host = host
        self._state_type = state_type
        self._lock: int | None = lock_state(state_path)
        self.start_block = start_block if start_block is not None else market_deploy_block(client.p)
        self.identity = f"{chain.chain_id}:{to_hex(chain.blocks[0].hash)}:{self.market.address}"
        self.state = self._open_state()

    @property
    def me(self) -> str:
        return self.client.address

    @property
    def host(self) -> Host:
        """This machine's runners and resources, detected once (at the first workload if not given)."""
        if self._host is None:
            self._host = Host.detect()
            self.log(f"host: {self._host.describe()}")
        return self._host

    def close(self) -> None:
        """Releases the state file's lock (ending the process releases it too)."""
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    # ------------------------------------------------------------------ what a subclass says

    @abstractmethod
    def step(self) -> list[str]:
        """One step of the agent; returns what it did."""

    @abstractmethod
    def summary(self) -> str:
        """One line: steps, failures, the cursor and what the agent follows."""

    @abstractmethod
    def rebuilding(self) -> str:
        """What starting over does, said after the reason in a log line."""

    # ------------------------------------------------------------------ state

    def _open_state(self) -> S:
        """The saved state when it is this deployment's and its cursor is not past the head;
        otherwise a new one from `start_block` (keeping the saved jobs and salts when only the
        cursor is wrong), which the next steps complete from the chain."""
        fresh = self._state_type(self.start_block - 1, self.identity)
        path = self.state_path
        try:
            saved = self._state_type.read(path)
        except ValueError as err:
            return self._start_over(fresh, f"unreadable state {path} ({err}), set aside as {set_aside(path).name}")
        if saved is None:
            return self._start_over(fresh, f"no state at {path}")
        if saved.market != self.identity:
            other = saved.market or "an unnamed deployment"
            return self._start_over(fresh, f"the state at {path} is for {other}, set aside as {set_aside(path).name}")
        head = int(chain.blocks.head.number)
        if saved.last_block > head:
            cursor, saved.last_block = saved.last_block, fresh.last_block
            return self._start_over(saved, f"the saved cursor (block {cursor}) is past the chain head ({head})")
        return saved

    def _start_over(self, state: S, reason: str) -> S:
        """Logs why the state starts over and has the next step rebuild it from the chain."""
        self._rebuild_reason = reason
        self.log(f"{reason}: {self.rebuilding()}")
        return state

    def _check_state(self, head: int) -> None:
        """Starts over when the head fell below the cursor (a restarted, redeployed or rewound
        chain: the blocks past the head are gone) or when the state file disappeared."""
        if head < self.state.last_block:
            cursor, self.state.last_block = self.state.last_block, self.start_block - 1
            self._start_over(self.state, f"the chain head ({head}) is below the cursor (block {cursor})")
        elif self._saved is not None and not self.state_path.exists():
            if self.rescan_on_loss:
                self.state.last_block = self.start_block - 1
            self._start_over(self.state, f"the state file {self.state_path} disappeared")

    def _save(self) -> None:
        """Writes the state when it changed, or when its file disappeared."""
        text = json.dumps(vars(self.state), sort_keys=True)
        if text != self._saved or not self.state_path.exists():
            self.state.save(self.state_path)
            self._saved = text

    def _send_sealed(self, book: dict[str, V], key: str, entry: Callable[[str], V], send: Callable[[V], object]) -> V:
        """Sends the sealed commitment saved under `key` in `book` (a state field), or a new one,
        `entry` of a fresh salt (hex), which is saved to the state file before it is sent: a kill in
        between does not lose the salt, and a salt saved for a commitment that never reached the
        chain is sent again. A new one that `send` fails to commit (`MarketError`) is dropped."""
        saved = book.get(key)
        new = saved is None
        if saved is None:
            salt = self.salt_fn() if self.salt_fn else secrets.token_bytes(32)
            saved = book[key] = entry(salt.hex())
            self._save()
        try:
            send(saved)
        except MarketError:
            if new:  # refused: no commitment on the chain
                del book[key]
            raise
        return saved

    def _job_posted(self, job_id: int, since: int) -> tuple[bytes, str] | None:
        """Job `job_id`'s workload and manifest URI, from its `JobPosted` log in blocks `since` to
        the head; None when there is none."""
        head = int(chain.blocks.head.number)
        topic = "0x" + format(job_id, "x").rjust(64, "0")
        logs = list(read_logs([self.market.JobPosted], since, head, [[topic]]))
        if not logs:
            return None
        args = logs[-1].event_arguments
        return bytes(args["workload"]), str(args["manifestURI"])

    # ------------------------------------------------------------------ the loop

    def run(self, poll_seconds: float = 2.0, max_steps: int | None = None, max_backoff: float = MAX_BACKOFF) -> None:
        """Steps every `poll_seconds` (`max_steps` times, default until interrupted). A step that
        fails (the node unreachable, a timeout, an RPC error) is logged in one line and tried again
        after a backoff that doubles with each failure in a row, up to `max_backoff` seconds.
        Ctrl-C (KeyboardInterrupt) ends the loop; either way it ends with a summary line."""
        steps = 0
        try:
            while max_steps is None or steps < max_steps:
                delay = self._attempt(poll_seconds, max_backoff)
                steps += 1
                if max_steps is None or steps < max_steps:
                    self.sleep(delay)
        except KeyboardInterrupt:
            self.log("interrupted")
        self.log(self.summary())

    def _attempt(self, poll_seconds: float, max_backoff: float) -> float:
        """Runs one step; returns the wait before the next: `poll_seconds` after a success, a
        backoff after a failure (twice the poll interval, at least 1 s, doubling to `max_backoff`)."""
        self.steps += 1
        try:
            self.step()
        except Exception as err:  # the node or the network: the next step reads everything again
            self.failed_steps += 1
            self._failures += 1
            delay = min(max_backoff, max(poll_seconds, 1.0) * 2.0 ** min(self._failures, 16))
            self.log(f"step failed: {one_line(err)}; retrying in {delay:g} s")
            return delay
        if self._failures:
            self.log(f"recovered after {self._failures} failed steps")
        self._failures = 0
        return poll_seconds


# ---------------------------------------------------------------------- for the `ape run` scripts

A = TypeVar("A", bound=StateAgent[Any])


def require_account(account: Any, who: str) -> None:
    """A usage error without ``--account``: the `who` runs headless and does not ask for one."""
    if account is None:
        raise click.UsageError(f"Missing option '--account' (the {who} runs headless and does not ask).")


def end_on_signals() -> None:
    """Has Ctrl-C (SIGINT) and `kill` (SIGTERM) raise the KeyboardInterrupt the agents' loop ends
    on, with a summary line and exit code 0 (over Ape's own handlers, which exit at once with
    130/143)."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def fetch_config(
    cas: str | None, ipfs_gateway: str | None, default_cas: LocalStore | HttpStore | None = None
) -> FetchConfig:
    """How an agent fetches: ``cas://`` from `cas` (a store server's URL or a folder; without it
    `default_cas`), ``ipfs://`` through `ipfs_gateway` (without it the default gateway)."""
    inputs = default_cas
    if cas is not None:
        inputs = HttpStore(cas) if cas.startswith(("http://", "https://")) else LocalStore(cas)
    return FetchConfig(cas=inputs) if ipfs_gateway is None else FetchConfig(ipfs_gateway, cas=inputs)


def set_up(start: Callable[[], A], role: str, name: str) -> A | None:
    """The agent `start()` opens and registers; its failures as the command's one-line errors
    (another agent holds the state file, a refused transaction, the node unreachable: "could not
    set up the `name`"); None, said in a line, when Ctrl-C interrupts it."""
    try:
        return start()
    except StateLockedError as err:
        raise click.ClickException(str(err)) from None
    except MarketError as err:
        raise click.ClickException(f"refused while setting up the {role}: {err}") from err
    except KeyboardInterrupt:
        click.echo(f"interrupted while setting up the {role}")
        return None
    except Exception as err:  # the node unreachable at start: one line, no traceback
        raise click.ClickException(f"could not set up the {name}: {one_line(err)}") from err
