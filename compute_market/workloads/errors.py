"""The errors of the workload library: each carries a one-line message meant for the user."""

from __future__ import annotations


class WorkloadError(Exception):
    """Base of every error this package raises on purpose."""


class ManifestError(WorkloadError):
    """A manifest that does not follow the schema; the message names the field (``inputs[0].path: ...``)."""


class StoreError(WorkloadError):
    """A fetch or store operation that failed: unreachable URI, missing object, hash mismatch, oversize."""


class Unrunnable(WorkloadError):  # noqa: N818 (UnsupportedRunner and InsufficientResources read better)
    """A manifest this host cannot run; the agent refuses it before bidding."""


class UnsupportedRunner(Unrunnable):
    """The manifest names a runner (process, container) this host does not have."""


class InsufficientResources(Unrunnable):
    """The manifest asks for more GPUs, VRAM, CPUs or memory than this host offers."""


class NotVerifiableError(WorkloadError):
    """Re-execution was asked of a manifest that does not declare itself deterministic."""
