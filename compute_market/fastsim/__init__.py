"""Simulation engine v2 (slice 1): whole job lifecycles played block by block over raw
JSON-RPC against the deployed contracts, with Ape only to compile and deploy. See docs/fastsim.md."""

from compute_market.fastsim.check import MirrorMismatchError, check_mirror
from compute_market.fastsim.config import FastSimConfig
from compute_market.fastsim.runner import run_attached, run_own_anvil

__all__ = ["FastSimConfig", "MirrorMismatchError", "check_mirror", "run_attached", "run_own_anvil"]
