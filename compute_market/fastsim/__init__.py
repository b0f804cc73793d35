"""Simulation engine v2: whole job lifecycles (open and sealed auctions, cancellations,
redemptions) played block by block over raw JSON-RPC against the deployed contracts, with Ape
only to compile and deploy; sweeps of seeds in parallel processes. See docs/fastsim.md."""

from compute_market.fastsim.check import MirrorMismatchError, check_mirror
from compute_market.fastsim.config import FastSimConfig
from compute_market.fastsim.runner import run_attached, run_own_anvil
from compute_market.fastsim.sweep import run_sweep

__all__ = ["FastSimConfig", "MirrorMismatchError", "check_mirror", "run_attached", "run_own_anvil", "run_sweep"]
