"""Shared by the ProviderRegistry tests (tests/unit/provider_registry)."""

from __future__ import annotations

from compute_market.units import bytes32

H100 = bytes32("H100-80GB")
A100 = bytes32("A100-40GB")
EU = bytes32("eu-west")
