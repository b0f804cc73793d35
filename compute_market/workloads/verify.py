"""Verification by re-execution: run a deterministic manifest again and compare bundle hashes.

A provider's submitted result is the sha256 of its bundle (`bundle.pack`); a verifier or juror
re-runs the manifest with the same inputs and `matches` its own bundle's hash against it. Only a
manifest that declares ``deterministic: true`` can be checked this way (`NotVerifiableError` otherwise).
"""

from __future__ import annotations

from compute_market.workloads.errors import NotVerifiableError, StoreError
from compute_market.workloads.host import Host, runner_for
from compute_market.workloads.manifest import Manifest
from compute_market.workloads.runner import RunResult
from compute_market.workloads.store import FetchConfig, Store, normalize_digest


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
