"""What this host can run: its runners and resources, and `runner_for`, which picks the runner
for a manifest or refuses it (so the agent can refuse before bidding)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from compute_market.workloads.container import ENGINES, ContainerRunner, engine_available
from compute_market.workloads.errors import InsufficientResources, UnsupportedRunner
from compute_market.workloads.manifest import Manifest
from compute_market.workloads.runner import ProcessRunner, Runner


@dataclass(frozen=True)
class GpuInfo:
    """The host's GPUs as ``nvidia-smi`` reports them: how many, and the smallest one's memory (GB)."""

    count: int = 0
    vram_gb: int = 0


def detect_gpus() -> GpuInfo:
    """Counts NVIDIA GPUs with ``nvidia-smi``; none when it is absent or fails."""
    if shutil.which("nvidia-smi") is None:
        return GpuInfo()
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return GpuInfo()
    mib = [int(v) for v in out.split() if v.strip().isdigit()]
    return GpuInfo(len(mib), min(mib) // 1024 if mib else 0)


def _memory_mb() -> int:
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // (1024 * 1024)


@dataclass(frozen=True)
class Host:
    """The runners this host has (by kind) and what it can give one workload."""

    runners: Mapping[str, Runner]
    cpus: int = field(default_factory=lambda: len(os.sched_getaffinity(0)))
    memory_mb: int = field(default_factory=_memory_mb)
    gpus: int = 0
    vram_gb: int = 0

    @classmethod
    def detect(
        cls,
        work_root: Path | str | None = None,
        container_engine: str | None = None,
        probe_containers: bool = True,
    ) -> Host:
        """The process runner, plus a container runner if ``container_engine`` (or the first of
        docker, podman found) answers ``info``; GPUs from ``nvidia-smi``."""
        gpu = detect_gpus()
        runners: dict[str, Runner] = {"process": ProcessRunner(work_root=work_root)}
        engines = [container_engine] if container_engine else list(ENGINES) if probe_containers else []
        for engine in engines:
            if engine_available(engine):
                runners["container"] = ContainerRunner(engine, work_root=work_root, gpus_present=gpu.count > 0)
                break
        return cls(runners=runners, gpus=gpu.count, vram_gb=gpu.vram_gb)

    def describe(self) -> str:
        """One line for logs: runners, isolation and resources."""
        names = ", ".join(
            f"{kind} ({'no network' if r.network_isolated else 'network not isolated'})"
            for kind, r in sorted(self.runners.items())
        )
        return f"runners: {names}; {self.cpus} CPUs, {self.memory_mb} MB, {self.gpus} GPUs of {self.vram_gb} GB"


def runner_for(manifest: Manifest, available: Host) -> Runner:
    """The runner that will run ``manifest`` here; `UnsupportedRunner` or `InsufficientResources` if none can."""
    kind = manifest.run.runner
    runner = available.runners.get(kind)
    if runner is None:
        have = ", ".join(sorted(available.runners)) or "none"
        raise UnsupportedRunner(f"run.runner: this host has no {kind} runner (it has: {have})")
    res = manifest.resources
    asks = [
        ("gpus", res.gpus, available.gpus),
        ("vram_gb", res.vram_gb if res.gpus else 0, available.vram_gb),
        ("cpus", res.cpus, available.cpus),
        ("memory_mb", res.memory_mb, available.memory_mb),
    ]
    for name, need, have_ in asks:
        if need > have_:
            raise InsufficientResources(f"resources.{name}: asks {need}, this host has {have_}")
    return runner
