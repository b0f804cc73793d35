"""The container runner: the manifest's image (pinned by digest) under Docker or Podman.

The container gets no network (``--network none``), a read-only root file system with a small
``/tmp``, the manifest's memory (swap included) and CPU limits, no capabilities, no privilege
gain, a process limit, the scratch directory mounted read-write at ``/work`` (its working
directory), the manifest's ``env``, and ``--gpus all`` (Docker) or the NVIDIA CDI device (Podman)
when the manifest asks for GPUs and the host has them. The engine's client runs in its own process
group like a process-runner program; at the time limit the container is killed by name too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import uuid
from dataclasses import replace
from pathlib import Path

from compute_market.workloads.manifest import ContainerSpec, Manifest
from compute_market.workloads.runner import Exit, Runner, wait_with_deadline

ENGINES = ("docker", "podman")
WORKDIR = "/work"
_OOM_EXIT = 137  # 128 + SIGKILL: what the engine reports when the cgroup's OOM killer ends the container


def engine_available(engine: str, timeout_s: float = 10.0) -> bool:
    """Whether ``engine`` is installed and its daemon or service answers (``<engine> info``)."""
    if shutil.which(engine) is None:
        return False
    try:
        probe = subprocess.run([engine, "info"], capture_output=True, timeout=timeout_s, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


class ContainerRunner(Runner):
    """Runs container manifests with ``engine`` (``docker``, ``podman``, or a path to either)."""

    kind = "container"

    def __init__(
        self,
        engine: str = "docker",
        work_root: Path | str | None = None,
        keep_scratch: bool = False,
        gpus_present: bool = False,
        pull: bool = True,
        pids_limit: int = 512,
        tmpfs_mb: int = 64,
    ) -> None:
        super().__init__(work_root, keep_scratch)
        self.engine = engine
        self.flavor = "podman" if Path(engine).name.startswith("podman") else "docker"
        self.gpus_present = gpus_present
        self.pull = pull
        self.pids_limit = pids_limit
        self.tmpfs_mb = tmpfs_mb

    @property
    def network_isolated(self) -> bool:
        return True

    def command(self, manifest: Manifest, scratch: Path, name: str) -> list[str]:
        """The engine's command line for ``manifest`` with ``scratch`` mounted at ``/work``."""
        spec = manifest.run
        assert isinstance(spec, ContainerSpec)
        res = manifest.resources
        argv = [self.engine, "run", "--rm", "--name", name, "--network", "none", "--read-only"]
        argv += ["--tmpfs", f"/tmp:rw,size={self.tmpfs_mb}m"]
        argv += ["--memory", f"{res.memory_mb}m", "--memory-swap", f"{res.memory_mb}m"]
        argv += ["--cpus", str(res.cpus), "--pids-limit", str(self.pids_limit)]
        argv += ["--cap-drop", "ALL", "--security-opt", "no-new-privileges"]
        if self.flavor == "podman":
            argv += ["--userns", "keep-id"]  # rootless Podman: files in /work stay the agent's
        else:
            argv += ["--user", f"{os.getuid()}:{os.getgid()}"]
        argv += ["--volume", f"{scratch.resolve()}:{WORKDIR}:rw", "--workdir", WORKDIR]
        for key in sorted(spec.env):
            argv += ["--env", f"{key}={spec.env[key]}"]
        if res.gpus and self.gpus_present:
            argv += ["--device", "nvidia.com/gpu=all"] if self.flavor == "podman" else ["--gpus", "all"]
        if not self.pull:
            argv += ["--pull", "never"]
        return [*argv, spec.image, *spec.command]

    def _execute(self, manifest: Manifest, scratch: Path, logs: Path) -> Exit:
        name = f"cm-{uuid.uuid4().hex[:16]}"
        exit = wait_with_deadline(
            self.command(manifest, scratch, name),
            cwd=scratch,
            env=None,  # the engine client needs the agent's environment (DOCKER_HOST, XDG_RUNTIME_DIR)
            logs=logs,
            time_limit_s=manifest.resources.time_limit_s,
            on_timeout=lambda _pid: self._kill(name),
        )
        return replace(exit, cpu_seconds=None)  # the client's CPU time, not the container's: unknown

    def _kill(self, name: str) -> None:
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            subprocess.run([self.engine, "kill", name], capture_output=True, timeout=30, check=False)

    def _out_of_memory(self, exit: Exit) -> bool:
        return exit.code == _OOM_EXIT or super()._out_of_memory(exit)
