"""Running a manifest: a fresh scratch directory, checked inputs, limits, and a deterministic bundle.

`Runner.run` is the same for every runner: make a scratch directory, fetch every input through
`fetch` (hash-checked; a bad input raises `StoreError` before anything runs), start the program
in its own process group, wait up to the manifest's time limit (then kill the group), and turn
the declared outputs into a bundle (`bundle.pack`). The result is a `RunResult`; only an ``ok``
result carries a bundle. `ProcessRunner` runs the entrypoint as a subprocess with a memory limit
(``RLIMIT_AS``), CPU affinity, a reduced environment and, where ``unshare`` can make a network
namespace without privileges, no network. The container runner is in `compute_market.workloads.container`.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from compute_market.workloads import bundle
from compute_market.workloads.errors import UnsupportedRunner
from compute_market.workloads.manifest import Manifest, ProcessSpec
from compute_market.workloads.outputs import BadOutput, collect
from compute_market.workloads.store import FetchConfig, fetch, sha256_hex

DEFAULT_FILE_LIMIT = 1 << 30  # RLIMIT_FSIZE: no single file (outputs, logs, scratch) above 1 GiB
_TAIL_BYTES = 4096
_OOM_MARKERS = ("MemoryError", "Cannot allocate memory", "std::bad_alloc", "out of memory")


class RunStatus(StrEnum):
    """How a run ended."""

    OK = "ok"
    FAILED = "failed"  # non-zero exit (the code is in `RunResult.exit_code`)
    TIMEOUT = "timeout"  # still running at the manifest's time limit: killed
    OUT_OF_MEMORY = "out_of_memory"  # hit the memory limit
    BAD_OUTPUT = "bad_output"  # exited 0, but the outputs are missing, unsafe or too big


@dataclass(frozen=True)
class RunResult:
    """A run's outcome. ``bundle`` and ``bundle_sha256`` are set only when ``status`` is ``ok``."""

    status: RunStatus
    runner: str
    detail: str
    wall_seconds: float
    cpu_seconds: float | None  # None when the runner cannot measure it (containers)
    exit_code: int | None = None
    bundle: bytes | None = None
    bundle_sha256: str | None = None
    files: tuple[str, ...] = ()
    network_isolated: bool = False
    stderr_tail: str = ""

    @property
    def ok(self) -> bool:
        """Whether the run succeeded and produced a bundle."""
        return self.status is RunStatus.OK

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON data, without the bundle's bytes."""
        return {
            "status": self.status.value,
            "runner": self.runner,
            "detail": self.detail,
            "exit_code": self.exit_code,
            "bundle_sha256": self.bundle_sha256,
            "bundle_bytes": None if self.bundle is None else len(self.bundle),
            "files": list(self.files),
            "cpu_seconds": self.cpu_seconds,
            "wall_seconds": self.wall_seconds,
            "network_isolated": self.network_isolated,
        }


@dataclass(frozen=True)
class Exit:
    """How the program ended, before its outputs are looked at."""

    code: int | None  # exit code, or minus the signal number; None if killed at the time limit
    timed_out: bool
    wall_seconds: float
    cpu_seconds: float | None
    stderr_tail: str


class Runner(ABC):
    """What every runner shares: scratch directory, inputs, waiting with a deadline, outputs."""

    kind: ClassVar[str]

    def __init__(self, work_root: Path | str | None = None, keep_scratch: bool = False) -> None:
        self.work_root = Path(work_root) if work_root is not None else None
        self.keep_scratch = keep_scratch

    @property
    @abstractmethod
    def network_isolated(self) -> bool:
        """Whether runs of this runner have no network."""

    @abstractmethod
    def _execute(self, manifest: Manifest, scratch: Path, logs: Path) -> Exit:
        """Runs the program in ``scratch`` and waits for it (or kills it at the time limit)."""

    def _out_of_memory(self, exit: Exit) -> bool:
        """Whether a non-zero exit looks like the memory limit: a known message or a SIGKILL we did not send."""
        return exit.code == -signal.SIGKILL or any(m in exit.stderr_tail for m in _OOM_MARKERS)

    def run(self, manifest: Manifest, fetch_config: FetchConfig | None = None) -> RunResult:
        """Runs ``manifest``; inputs are fetched with ``fetch_config`` (`StoreError` if one is bad)."""
        if manifest.run.runner != self.kind:
            raise UnsupportedRunner(f"run.runner: {manifest.run.runner!r} manifest given to the {self.kind} runner")
        if self.work_root is not None:
            self.work_root.mkdir(parents=True, exist_ok=True)
        run_dir = Path(tempfile.mkdtemp(prefix="cm-run-", dir=self.work_root))
        try:
            scratch, logs = run_dir / "scratch", run_dir / "logs"
            scratch.mkdir()
            logs.mkdir()
            place_inputs(manifest, scratch, fetch_config or FetchConfig())
            return self._result(manifest, scratch, self._execute(manifest, scratch, logs))
        finally:
            if not self.keep_scratch:
                shutil.rmtree(run_dir, ignore_errors=True)

    def _result(self, manifest: Manifest, scratch: Path, exit: Exit) -> RunResult:
        common: dict[str, Any] = {
            "runner": self.kind,
            "wall_seconds": exit.wall_seconds,
            "cpu_seconds": exit.cpu_seconds,
            "exit_code": exit.code,
            "network_isolated": self.network_isolated,
            "stderr_tail": exit.stderr_tail,
        }
        limit = manifest.resources.time_limit_s
        if exit.timed_out:
            return RunResult(RunStatus.TIMEOUT, detail=f"killed at the time limit of {limit} s", **common)
        if exit.code != 0:
            if self._out_of_memory(exit):
                detail = f"hit the memory limit of {manifest.resources.memory_mb} MB (exit {exit.code})"
                return RunResult(RunStatus.OUT_OF_MEMORY, detail=detail, **common)
            return RunResult(RunStatus.FAILED, detail=f"exited with {exit.code}", **common)
        try:
            files = collect(scratch, manifest.outputs)
        except (BadOutput, OSError) as exc:
            return RunResult(RunStatus.BAD_OUTPUT, detail=str(exc), **common)
        packed = bundle.pack(files)
        return RunResult(
            RunStatus.OK,
            detail=f"{len(files)} file(s), {sum(map(len, files.values()))} bytes",
            bundle=packed,
            bundle_sha256=sha256_hex(packed),
            files=tuple(sorted(files)),
            **common,
        )


def place_inputs(manifest: Manifest, scratch: Path, fetch_config: FetchConfig) -> None:
    """Fetches every input (hash-checked) and writes it at its path under ``scratch``."""
    for item in manifest.inputs:
        data = fetch(item.uri, item.sha256, fetch_config)
        target = scratch / item.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(0o755)  # content addresses carry no mode: inputs may be programs


def wait_with_deadline(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str] | None,
    logs: Path,
    time_limit_s: float,
    preexec: Callable[[], None] | None = None,
    on_timeout: Callable[[int], None] | None = None,
) -> Exit:
    """Starts ``argv`` in a new session (its own process group), stdout/stderr to ``logs``; kills the
    group at the deadline (and calls ``on_timeout(pid)`` first) and after the program exits (leftover
    children). CPU time is the program's and its reaped children's (``wait4``)."""
    with (logs / "stdout").open("wb") as out, (logs / "stderr").open("wb") as err:
        start = time.monotonic()
        try:
            proc = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
                preexec_fn=preexec,  # rlimits must be set in the child
                close_fds=True,
            )
        except OSError as exc:  # the program does not exist or cannot be executed
            err.write(f"cannot start {argv[0]!r}: {exc}\n".encode())
            err.flush()
            return Exit(127, False, time.monotonic() - start, 0.0, _tail(logs / "stderr"))
        deadline = start + time_limit_s
        timed_out = False
        pause = 0.005
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() >= deadline:
                timed_out = True
                if on_timeout is not None:
                    on_timeout(proc.pid)
                _kill_group(proc.pid)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
        wall = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        _kill_group(proc.pid)
    code = None if timed_out else proc.returncode
    return Exit(code, timed_out, wall, usage.ru_utime + usage.ru_stime, _tail(logs / "stderr"))


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _tail(path: Path) -> str:
    with path.open("rb") as f:
        f.seek(max(0, path.stat().st_size - _TAIL_BYTES))
        return f.read().decode(errors="replace")


@cache
def network_isolation_prefix() -> tuple[str, ...] | None:
    """The command prefix that runs a program without network on this host, or None if there is none.

    ``unshare -rn`` makes a user namespace (mapping us to root inside it) and an empty network
    namespace, without privileges where the kernel allows unprivileged user namespaces;
    ``unshare -n`` is tried too (it works for root). Probed once per process."""
    if shutil.which("unshare") is None:
        return None
    for prefix in (("unshare", "-rn", "--"), ("unshare", "-n", "--")):
        try:
            probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return prefix
    return None


class ProcessRunner(Runner):
    """The embedded runner: the manifest's entrypoint as a subprocess of the agent.

    Limits: wall time (the process group is killed), address space (``RLIMIT_AS`` = memory_mb),
    file size (``RLIMIT_FSIZE``), CPU affinity (``cpus`` cores). Environment: the manifest's ``env``
    plus ``PATH``. Network: none when ``isolate_network`` is True or None (auto) and the host can
    (`network_isolation_prefix`); True refuses to run without isolation. Not isolated: the file
    system (the program can read what the agent's user can) and other processes (docs/workloads.md).
    """

    kind = "process"

    def __init__(
        self,
        work_root: Path | str | None = None,
        keep_scratch: bool = False,
        isolate_network: bool | None = None,
        path: str | None = None,
        file_limit: int = DEFAULT_FILE_LIMIT,
    ) -> None:
        super().__init__(work_root, keep_scratch)
        prefix = network_isolation_prefix() if isolate_network is not False else None
        if isolate_network and prefix is None:
            raise UnsupportedRunner("process runner: network isolation asked, but `unshare -rn` does not work here")
        self._prefix: tuple[str, ...] = prefix or ()
        self.path = path if path is not None else os.environ.get("PATH", os.defpath)
        self.file_limit = file_limit

    @property
    def network_isolated(self) -> bool:
        return bool(self._prefix)

    def command(self, manifest: Manifest) -> list[str]:
        """The argv run in the scratch directory (the entrypoint, behind ``unshare`` when isolating)."""
        assert isinstance(manifest.run, ProcessSpec)
        return [*self._prefix, *manifest.run.entrypoint]

    def environment(self, manifest: Manifest) -> dict[str, str]:
        """The program's whole environment: ``PATH`` and the manifest's ``env``."""
        assert isinstance(manifest.run, ProcessSpec)
        return {"PATH": self.path, **manifest.run.env}

    def _execute(self, manifest: Manifest, scratch: Path, logs: Path) -> Exit:
        memory = manifest.resources.memory_mb * 1024 * 1024
        file_limit = self.file_limit
        cores = sorted(os.sched_getaffinity(0))[: manifest.resources.cpus]

        def limits() -> None:  # runs in the child between fork and exec
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            os.sched_setaffinity(0, cores)

        return wait_with_deadline(
            self.command(manifest),
            cwd=scratch,
            env=self.environment(manifest),
            logs=logs,
            time_limit_s=manifest.resources.time_limit_s,
            preexec=limits,
        )
