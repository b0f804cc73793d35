"""Ape at the edges: compiles and deploys with the project's idempotent `Deployer`, shortens
the governance windows, and hands the engine plain addresses and ABIs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compute_market.deployment import Deployer, typed_at
from compute_market.fastsim.abi import Abi
from compute_market.units import HOUR

# Record name → compiled contract type, for every contract the engine talks to.
CONTAINERS = {
    "ComputeToken": "ComputeToken",
    "PriceFeed": "MockPriceFeed",
    "ComputeCredits": "ComputeCredits",
    "ProviderRegistry": "ProviderRegistry",
    "JobAuctions": "JobAuctions",
    "JobMarket": "JobMarket",
    "DisputeResolver": "DisputeResolver",
    "RewardsDistributor": "RewardsDistributor",
}


@dataclass(frozen=True)
class Deployment:
    """What the engine needs of a deployment: addresses (lower-case), ABIs and the admin."""

    addresses: dict[str, str]
    abis: dict[str, Abi]
    admin: str
    block: int  # the chain head once deployed and tuned


def tune(protocol: Any, admin: Any) -> None:
    """Shorter windows than mainnet defaults, so that a job's whole life fits in hours (as
    `bin/simulate` does): the attest window first, the challenge window must exceed it."""
    if protocol.resolver.attestWindow() != HOUR:
        protocol.resolver.setAttestWindow(HOUR, sender=admin)
    if protocol.market.challengeWindow() != 2 * HOUR:
        protocol.market.setChallengeWindow(2 * HOUR, sender=admin)
    if protocol.market.resultGrace() != HOUR:
        protocol.market.setResultGrace(HOUR, sender=admin)
    if protocol.market.revealPeriod() != HOUR:
        protocol.market.setRevealPeriod(HOUR, sender=admin)


def deploy_with_ape(project: Any, record_path: Path) -> Deployment:
    """Deploys on the provider Ape is connected to (its blocks must be mined as they come:
    automine on) and returns addresses and ABIs from the deployed contract types."""
    from ape import accounts, chain

    admin = accounts.test_accounts[0]
    protocol = Deployer(project, admin, fresh=True, record_path=record_path, log=lambda _m: None).run()
    tune(protocol, admin)
    addresses: dict[str, str] = {}
    abis: dict[str, Abi] = {}
    for name, container in CONTAINERS.items():
        address = protocol.record.contracts[name].address
        instance = typed_at(project, container, address)
        addresses[name] = address.lower()
        abis[name] = [
            item.model_dump(mode="json", by_alias=True, exclude_none=True) for item in instance.contract_type.abi
        ]
    return Deployment(addresses, abis, admin.address.lower(), int(chain.blocks.head.number))


def deploy_on(url: str, project: Any, record_path: Path) -> Deployment:
    """Connects Ape to the node at `url` (the `ethereum:local` network's signer chain id,
    1337), deploys, and disconnects."""
    from ape import networks

    with networks.parse_network_choice(f"ethereum:local:{url}", disconnect_after=True):
        return deploy_with_ape(project, record_path)
