"""Verification by re-execution: run a deterministic manifest again and compare bundle hashes.

A provider's submitted result is the sha256 of its bundle (`bundle.pack`); a verifier or juror
re-runs the manifest with the same inputs and `matches` its own bundle's hash against it. Only a
manifest that declares ``deterministic: true`` can be checked this way (`NotVerifiableError` otherwise).
`fetch_manifest` reads a job's manifest from its URI as a verifier (or provider) must: at most
1 MiB, its sha256 the job's workload, canonical; `differing_files` says which files of two bundles
differ, for the log of a rejected result.
"""

from __future__ import annotations

from dataclasses import replace

from compute_market.workloads import bundle
from compute_market.workloads.errors import NotVerifiableError, StoreError
from compute_market.workloads.host import Host, runner_for
from compute_market.workloads.manifest import Manifest, load_published
from compute_market.workloads.runner import RunResult
from compute_market.workloads.store import FetchConfig, Store, fetch, normalize_digest

MANIFEST_MAX_BYTES = 1 << 20  # a manifest above 1 MiB is refused before it is read in full


def reexecute(manifest: Manifest, store: Store | FetchConfig, available: Host | None = None) -> RunResult:
    """Runs ``manifest`` again on this host; inputs come through ``store`` (for ``cas://``) or a `FetchConfig`."""
    if not manifest.deterministic:
        raise NotVerifiableError(
            "deterministic: the manifest does not declare itself deterministic, so re-execution cannot check "
            "its result (post the job without verification)"
        )
    config = store if isinstance(store, FetchConfig) else FetchConfig(cas=store)
    host = available if available is not None else Host.detect(probe_containers=manifest.run.runner == "container")
    return runner_for(manifest, host).run(manifest, config)


def matches(result: RunResult, submitted_sha256: str | bytes) -> bool:
    """Whether a re-execution succeeded and produced the bundle whose sha256 the provider submitted."""
    if not result.ok or result.bundle_sha256 is None:
        return False
    try:
        return normalize_digest(submitted_sha256) == result.bundle_sha256
    except StoreError:
        return False


def fetch_manifest(uri: str, workload: bytes | str, config: FetchConfig | None = None) -> Manifest:
    """A job's manifest from its URI: at most `MANIFEST_MAX_BYTES`, hash-checked against the job's
    ``workload`` and canonical (`load_published`); `StoreError` or `ManifestError` otherwise."""
    cfg = config or FetchConfig()
    limited = replace(cfg, max_bytes=min(cfg.max_bytes, MANIFEST_MAX_BYTES))
    return load_published(fetch(uri, workload, limited), workload)


def differing_files(ours: bytes, theirs: bytes) -> list[str]:
    """The names of the files that two bundles do not share byte for byte (present in one only, or
    with other contents), sorted; `StoreError` if either is not a valid bundle."""
    a, b = bundle.read(ours), bundle.read(theirs)
    return sorted(name for name in a.keys() | b.keys() if a.get(name) != b.get(name))
