"""Deploys and wires the protocol, and keeps a record of it per chain.

The record, ``deployments/<chain-id>.json``, holds each contract's address, deploy block and
transaction, the deployer, and the parameters. Deploying again reuses every recorded contract
whose code is still on the chain (a fresh local anvil has none, so it redeploys), and the wiring
steps (roles, allow-lists) only send the transactions that are still missing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ape import chain
from ape.api import AccountAPI
from ape.contracts import ContractInstance

from compute_market import manifest
from compute_market.params import DeployParams

DEPLOYMENTS_DIR = Path(__file__).resolve().parent.parent / "deployments"
MINTER_ROLE = "MINTER_ROLE"
ADMIN_ROLE = "DEFAULT_ADMIN_ROLE"
# The roles the deployer keeps after the timelock hand-over (README: a guardian that can pause).
GUARDIAN_ROLES = frozenset({"PAUSER_ROLE"})
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
# Every contract a deployment records, in deployment order.
CONTRACT_NAMES = (
    "ComputeToken",
    "PriceFeed",
    "ComputeCredits",
    "ProviderRegistry",
    "JobAuctions",
    "JobMarket",
    "DisputeResolver",
    "RewardsDistributor",
)


@dataclass
class ContractEntry:
    """One deployed contract in the record."""

    address: str
    block: int
    tx: str


@dataclass
class DeploymentRecord:
    """What ``deployments/<chain-id>.json`` holds."""

    chain_id: int
    deployer: str
    contracts: dict[str, ContractEntry] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def path_for(chain_id: int, folder: Path = DEPLOYMENTS_DIR) -> Path:
        return folder / f"{chain_id}.json"

    @classmethod
    def load(cls, path: Path) -> DeploymentRecord | None:
        if not path.exists():
            return None
        raw = json.loads(path.read_text())
        contracts = {name: ContractEntry(**entry) for name, entry in raw.get("contracts", {}).items()}
        return cls(raw["chain_id"], raw["deployer"], contracts, raw.get("parameters", {}))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        body = {
            "chain_id": self.chain_id,
            "deployer": self.deployer,
            "deploy_block": min((c.block for c in self.contracts.values()), default=None),
            "contracts": {name: vars(entry) for name, entry in self.contracts.items()},
            "parameters": self.parameters,
        }
        path.write_text(json.dumps(body, indent=2) + "\n")


def typed_at(project: Any, container: str, address: str) -> ContractInstance:
    """The contract at `address` with the project's compiled type of `container`, replacing
    whatever Ape cached on disk for the address: a local chain redeploys other builds at the
    same addresses, and Ape would merge a stale cached ABI into this one (an event name in both
    then becomes an ambiguous wrapper that cannot be filtered by)."""
    return chain.contracts.instance_at(
        address,
        contract_type=getattr(project, container).contract_type,
        fetch_from_explorer=False,
        replace=True,
    )


def packaged_at(container: str, address: str) -> ContractInstance:
    """The contract at `address` typed with the package's bundled ABI of `container`
    (`compute_market.manifest`): no Ape project needed. Replaces Ape's cached type, as `typed_at`."""
    return chain.contracts.instance_at(
        address,
        contract_type=manifest.contract_type(container),
        fetch_from_explorer=False,
        replace=True,
    )


@dataclass
class Protocol:
    """The deployed contracts, as Ape contract instances."""

    token: ContractInstance
    price_feed: ContractInstance
    credits: ContractInstance
    registry: ContractInstance
    market: ContractInstance
    resolver: ContractInstance
    rewards: ContractInstance
    record: DeploymentRecord

    @property
    def addresses(self) -> dict[str, str]:
        return {name: entry.address for name, entry in self.record.contracts.items()}

    @classmethod
    def load(cls, project: Any, path: Path | None = None) -> Protocol:
        """The protocol recorded in ``path`` (default: this chain's record), typed with the
        project's compiled contracts."""
        return cls._typed(cls._record(path), lambda container, address: typed_at(project, container, address))

    @classmethod
    def load_packaged(cls, path: str | Path) -> Protocol:
        """The protocol recorded in ``path``, typed with the ABIs bundled in the package: works
        from any directory, without the repository or a compiled project (connect to the chain
        first, e.g. ``with networks.parse_network_choice(URL):``)."""
        return cls._typed(cls._record(Path(path)), packaged_at)

    @staticmethod
    def _record(path: Path | None) -> DeploymentRecord:
        """The record at ``path`` (default: this chain's), checked to be for the connected chain."""
        path = path or DeploymentRecord.path_for(chain.chain_id)
        record = DeploymentRecord.load(path)
        if record is None:
            raise FileNotFoundError(f"no deployment record at {path}: run `ape run deploy` first")
        if record.chain_id != chain.chain_id:
            raise ValueError(f"{path} is for chain {record.chain_id}, connected to {chain.chain_id}")
        return record

    @classmethod
    def _typed(cls, record: DeploymentRecord, type_at: Callable[[str, str], ContractInstance]) -> Protocol:
        """The record's contracts, each typed by ``type_at(container, address)``."""

        def at(name: str, container: str) -> ContractInstance:
            return type_at(container, record.contracts[name].address)

        return cls(
            token=at("ComputeToken", "ComputeToken"),
            price_feed=at("PriceFeed", "MockPriceFeed"),
            credits=at("ComputeCredits", "ComputeCredits"),
            registry=at("ProviderRegistry", "ProviderRegistry"),
            market=at("JobMarket", "JobMarket"),
            resolver=at("DisputeResolver", "DisputeResolver"),
            rewards=at("RewardsDistributor", "RewardsDistributor"),
            record=record,
        )


Log = Callable[[str], None]


def market_deploy_block(protocol: Protocol) -> int:
    """The block the deployment's market was deployed in, from its record (no market log is
    older); the chain head when the record lacks it."""
    entry = protocol.record.contracts.get("JobMarket")
    return entry.block if entry is not None else int(chain.blocks.head.number)


def role_names(target: ContractInstance) -> list[str]:
    """Every role constant of ``target`` (``DEFAULT_ADMIN_ROLE`` and each ``..._ROLE`` getter of
    its ABI), the admin role last."""
    names = {
        m.name
        for m in target.contract_type.view_methods
        if m.name.endswith("_ROLE") and not m.inputs and [o.type for o in m.outputs] == ["bytes32"]
    }
    return sorted(names, key=lambda n: (n == ADMIN_ROLE, n))


class Deployer:
    """Deploys what the record lacks, then wires what is not wired yet."""

    def __init__(
        self,
        project: Any,
        account: AccountAPI,
        params: DeployParams | None = None,
        *,
        record_path: Path | None = None,
        fresh: bool = False,
        price_feed: str | None = None,
        treasury: str | None = None,
        log: Log = print,
    ) -> None:
        self.project = project
        self.account = account
        self.params = params or DeployParams()
        self.path = record_path or DeploymentRecord.path_for(chain.chain_id)
        self.external_feed = price_feed
        self.treasury = treasury
        self.log = log
        existing = None if fresh else DeploymentRecord.load(self.path)
        if existing is not None and existing.chain_id != chain.chain_id:
            raise ValueError(f"{self.path} is for chain {existing.chain_id}, not {chain.chain_id}")
        self.record = existing or DeploymentRecord(chain.chain_id, account.address)
        self.record.parameters = self.params.as_dict()
        self.deployed: list[str] = []
        self.reused: list[str] = []
        self.gas: dict[str, int] = {}

    # ------------------------------------------------------------------ steps

    def contract(self, name: str, container: str, *args: Any) -> ContractInstance:
        """The recorded ``name`` if its code is on chain, else a new deployment of ``container``."""
        kind = getattr(self.project, container)
        entry = self.record.contracts.get(name)
        if entry is not None and chain.provider.get_code(entry.address):
            self.reused.append(name)
            return typed_at(self.project, container, entry.address)
        instance = kind.deploy(*args, sender=self.account)
        receipt = chain.get_receipt(instance.txn_hash)
        self.record.contracts[name] = ContractEntry(instance.address, receipt.block_number, receipt.txn_hash)
        self.record.save(self.path)
        self.deployed.append(name)
        self.gas[name] = receipt.gas_used
        self.log(f"deployed {name} at {instance.address} (gas {receipt.gas_used:,})")
        return instance

    def grant(self, target: ContractInstance, role_name: str, account: str) -> None:
        role = getattr(target, role_name)()
        if not target.hasRole(role, account):
            receipt = target.grantRole(role, account, sender=self.account)
            self.gas[f"grant {role_name}"] = self.gas.get(f"grant {role_name}", 0) + receipt.gas_used
            self.log(f"granted {role_name} on {target.address} to {account}")

    def allow_protocol_contract(self, credits: ContractInstance, account: str) -> None:
        if not credits.isProtocolContract(account):
            receipt = credits.setProtocolContract(account, True, sender=self.account)
            self.gas["allow-list credits"] = self.gas.get("allow-list credits", 0) + receipt.gas_used
            self.log(f"allow-listed {account} for credits")

    # ------------------------------------------------------------------ the protocol

    def run(self) -> Protocol:
        p, me = self.params, self.account.address
        token = self.contract("ComputeToken", "ComputeToken", me, me, p.token.initial_supply, p.token.supply_cap)
        if self.external_feed:
            feed = self._feed_at()
        else:
            feed = self.contract("PriceFeed", "MockPriceFeed", me, p.credits.mock_initial_price)
        credits = self.contract(
            "ComputeCredits",
            "ComputeCredits",
            me,
            token.address,
            feed.address,
            p.credits.redeem_cap_per_epoch,
        )
        self.grant(token, MINTER_ROLE, credits.address)
        r = p.rewards
        rewards = self.contract(
            "RewardsDistributor",
            "RewardsDistributor",
            me,
            token.address,
            credits.address,
            r.epoch_length,
            r.emission_cap,
            r.base_emission,
            r.decay_bps,
        )
        # The ledger accrues the rewards' stake share beside each stake: the distributor first.
        registry = self.contract("ProviderRegistry", "ProviderRegistry", me, token.address, rewards.address)
        if rewards.ledger() != registry.address:
            receipt = rewards.setLedger(registry.address, sender=self.account)
            self.gas["setLedger"] = receipt.gas_used
            self.log(f"rewards pay the stake rewards of ledger {registry.address}")
        treasury = self.treasury or me
        # The market's auction rules, run by the market's DELEGATECALL on its own storage.
        auctions = self.contract("JobAuctions", "JobAuctions", me, credits.address, registry.address, rewards.address)
        market = self.contract(
            "JobMarket",
            "JobMarket",
            me,
            credits.address,
            registry.address,
            treasury,
            auctions.address,
            rewards.address,
        )
        self.grant(registry, "MARKET_ROLE", market.address)
        self.allow_protocol_contract(credits, market.address)
        resolver = self.contract(
            "DisputeResolver",
            "DisputeResolver",
            me,
            token.address,
            credits.address,
            market.address,
            registry.address,
            rewards.address,
        )
        self.grant(market, "RESOLVER_ROLE", resolver.address)
        if market.resolver() != resolver.address:  # its verification record pays verification fees
            receipt = market.setResolver(resolver.address, sender=self.account)
            self.gas["setResolver"] = receipt.gas_used
            self.log(f"market reads verifications from {resolver.address}")
        self.allow_protocol_contract(credits, resolver.address)
        if registry.resolver() != resolver.address:  # the ledger's draws and verifier slashes
            receipt = registry.setResolver(resolver.address, sender=self.account)
            self.gas["setResolver"] = self.gas.get("setResolver", 0) + receipt.gas_used
            self.log(f"staking ledger serves draws to {resolver.address}")
        self.grant(token, MINTER_ROLE, rewards.address)
        self.grant(rewards, "MARKET_ROLE", market.address)
        self.grant(rewards, "RESOLVER_ROLE", resolver.address)
        self.record.save(self.path)
        return Protocol(
            token=token,
            price_feed=feed,
            credits=credits,
            registry=registry,
            market=market,
            resolver=resolver,
            rewards=rewards,
            record=self.record,
        )

    def use_vrf(
        self,
        protocol: Protocol,
        coordinator: str,
        key_hash: bytes,
        subscription_id: int,
        *,
        confirmations: int = 3,
        callback_gas_limit: int = 200_000,
    ) -> ContractInstance:
        """Deploys a `ChainlinkVrfAdapter` for the chain's VRF v2 `coordinator` and makes it the
        staking ledger's source of random words for draws (the subscription must be funded and
        the adapter added to it as a consumer, as for any Chainlink VRF consumer)."""
        registry = protocol.registry
        adapter = self.contract(
            "VrfAdapter",
            "ChainlinkVrfAdapter",
            coordinator,
            registry.address,
            key_hash,
            subscription_id,
            confirmations,
            callback_gas_limit,
        )
        if registry.randomness() != adapter.address:
            receipt = registry.setRandomness(adapter.address, sender=self.account)
            self.gas["setRandomness"] = receipt.gas_used
            self.log(f"draws take their random words from the VRF adapter {adapter.address}")
        self.record.parameters["vrf_coordinator"] = coordinator
        self.record.save(self.path)
        return adapter

    def hand_over_to_timelock(self, protocol: Protocol, delay: int) -> ContractInstance:
        """Deploys a `ProtocolTimelock` (the deployer proposes, anyone executes) and moves every
        role the deployer holds on every contract (admin, arbiter, any role added later) to it;
        the deployer keeps only the pauser role (a guardian)."""
        me = self.account.address
        timelock = self.contract("ProtocolTimelock", "ProtocolTimelock", delay, [me], [ZERO_ADDRESS])
        # The auctions module's own roles govern storage nothing reads (the market runs its code on
        # the market's storage), but no power stays with the deployer.
        auctions = typed_at(self.project, "JobAuctions", protocol.market.auctions())
        governed = [
            protocol.token,
            protocol.credits,
            protocol.registry,
            auctions,
            protocol.market,
            protocol.resolver,
            protocol.rewards,
        ]
        for target in governed:
            # The admin role last: granting the others needs it, renouncing it ends the deployer's say.
            held = [
                name
                for name in role_names(target)
                if name not in GUARDIAN_ROLES and target.hasRole(getattr(target, name)(), me)
            ]
            for name in dict.fromkeys([*held, ADMIN_ROLE]):
                self.grant(target, name, timelock.address)
            for name in held:
                target.renounceRole(getattr(target, name)(), me, sender=self.account)
                self.log(f"deployer renounced {name} of {target.address}")
        self.record.parameters["timelock_delay"] = str(delay)
        self.record.save(self.path)
        return timelock

    def plan(self) -> list[str]:
        """Names of the recorded contracts missing on this chain (all of them without a record)."""
        return [
            n
            for n in CONTRACT_NAMES
            if n not in self.record.contracts or not chain.provider.get_code(self.record.contracts[n].address)
        ]

    def _feed_at(self) -> ContractInstance:
        """An external Chainlink-shaped feed, typed with the IPriceFeed interface."""
        assert self.external_feed is not None
        feed = typed_at(self.project, "IPriceFeed", self.external_feed)
        self.record.contracts["PriceFeed"] = ContractEntry(self.external_feed, 0, "")
        return feed
