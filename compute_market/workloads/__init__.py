"""Workloads: what a job runs (manifest), where its bytes live (content-addressed stores), how a
provider runs it (process and container runners, deterministic result bundles) and how a verifier
checks it (re-execution). docs/workloads.md explains the whole; the contracts, agent and CLI use it
through the names below."""

from compute_market.workloads.bundle import pack, read, unpack
from compute_market.workloads.container import ContainerRunner, engine_available
from compute_market.workloads.errors import (
    InsufficientResources,
    ManifestError,
    NotVerifiableError,
    StoreError,
    Unrunnable,
    UnsupportedRunner,
    WorkloadError,
)
from compute_market.workloads.host import Host, runner_for
from compute_market.workloads.manifest import (
    ContainerSpec,
    InputFile,
    Manifest,
    Outputs,
    ProcessSpec,
    Resources,
    canonical_bytes,
    load_manifest,
    load_published,
    parse_manifest,
    workload_id,
)
from compute_market.workloads.runner import ProcessRunner, RunResult, RunStatus, network_isolation_prefix
from compute_market.workloads.server import StoreServer
from compute_market.workloads.store import FetchConfig, HttpStore, LocalStore, Store, fetch, sha256_hex
from compute_market.workloads.verify import differing_files, fetch_manifest, matches, reexecute

__all__ = [
    "ContainerRunner",
    "ContainerSpec",
    "FetchConfig",
    "Host",
    "HttpStore",
    "InputFile",
    "InsufficientResources",
    "LocalStore",
    "Manifest",
    "ManifestError",
    "NotVerifiableError",
    "Outputs",
    "ProcessRunner",
    "ProcessSpec",
    "Resources",
    "RunResult",
    "RunStatus",
    "Store",
    "StoreError",
    "StoreServer",
    "Unrunnable",
    "UnsupportedRunner",
    "WorkloadError",
    "canonical_bytes",
    "differing_files",
    "engine_available",
    "fetch",
    "fetch_manifest",
    "load_manifest",
    "load_published",
    "matches",
    "network_isolation_prefix",
    "pack",
    "parse_manifest",
    "read",
    "reexecute",
    "runner_for",
    "sha256_hex",
    "unpack",
    "workload_id",
]
