"""Shared by the ProviderRegistry tests (tests/unit/provider_registry)."""

from __future__ import annotations

from compute_market.units import bytes32

H100 = bytes32("H100-80GB")
A100 = bytes32("A100-40GB")
EU = bytes32("eu-west")


def lock(job_id: int, gpus: int, amount: int, model: bytes = H100) -> tuple[int, bytes, int, int]:
    """An `IProviderRegistry.Lock` as the market derives it from a job: `amount` is the whole
    lock (the job's collateral plus `minStakePerGpu` per GPU, both fixed at posting)."""
    return (job_id, model, gpus, amount)
