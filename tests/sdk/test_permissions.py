"""The permission map (`compute_market/permissions.py`, docs/permissions.md) against the contracts:
complete against the sources, every gate refusing a stranger with its own error, and each role
held by exactly the holders the map names, before and after the timelock hand-over."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import ape
import pytest
from ape.utils import ZERO_ADDRESS

from compute_market import permissions
from compute_market.deployment import Deployer, role_names, typed_at
from compute_market.permissions import DEPLOYER, GOVERNANCE, GOVERNED, GUARDIAN, PERMISSIONS

ROOT = Path(__file__).resolve().parents[2]

# Which deployed contracts each source file's functions end up in.
SOURCES = {
    "token/ComputeToken.sol": ("token",),
    "credits/ComputeCredits.sol": ("credits",),
    "staking/StakingLedger.sol": ("registry",),
    "registry/ProviderRegistry.sol": ("registry",),
    "market/JobMarket.sol": ("market",),
    "market/JobAuctions.sol": ("auctions",),
    "disputes/DisputeResolver.sol": ("resolver",),
    "rewards/RewardsDistributor.sol": ("rewards",),
    "common/Governed.sol": GOVERNED,
    "oracle/MockPriceFeed.sol": ("price_feed",),
}
MODIFIER_ERRORS = {
    "onlyResolver": "NotResolver",
    "onlyDelegated": "NotDelegated",
    "onlyOwner": "OwnableUnauthorizedAccount",
}
FUNCTION = re.compile(r"function\s+(\w+)\s*\([^)]*\)([^{;]*)\{", re.S)


def _gates_in_sources() -> set[tuple[str, str, str]]:
    """(contract, function, role or error) of every modifier-gated function in `contracts/`."""
    found = set()
    for path, targets in SOURCES.items():
        for name, modifiers in FUNCTION.findall((ROOT / "contracts" / path).read_text()):
            gate = re.search(r"onlyRole\((\w+)\)", modifiers)
            key = gate.group(1) if gate else next((e for m, e in MODIFIER_ERRORS.items() if m in modifiers), None)
            if key is not None:
                found |= {(t, name, key) for t in targets}
    return found


def _table() -> set[tuple[str, str, str]]:
    return {(p.contract, f, p.gate.role or p.gate.error) for p in PERMISSIONS for f in p.functions}


def test_every_gated_function_in_the_sources_is_in_the_map_with_its_gate():
    """The sources' `onlyRole`, `onlyResolver`, `onlyDelegated` and `onlyOwner` functions (about
    60, pause and unpause counted per contract) are all in the map, each with the same gate: a
    new gated function, or a changed role, fails here until the map says who holds it."""
    in_sources = _gates_in_sources()
    assert len(in_sources) > 50
    assert in_sources - _table() == set()


def test_the_map_names_each_function_once_and_its_document_is_current():
    """No function appears in two rows, and docs/permissions.md is the module's output."""
    keys = [(p.contract, f) for p in PERMISSIONS for f in p.functions]
    assert len(keys) == len(set(keys))
    assert (ROOT / "docs" / "permissions.md").read_text() == permissions.markdown()


def _zero(abi_type: Any) -> Any:
    """The zero value of an ABI input type (a gate is checked before any argument is used)."""
    t = abi_type.type
    if t.endswith("]"):
        return []
    if t == "tuple":
        return tuple(_zero(c) for c in abi_type.components)
    if t.startswith(("uint", "int")):
        return 0
    if t == "address":
        return ZERO_ADDRESS
    if t == "bool":
        return False
    if t == "string":
        return ""
    return b"" if t == "bytes" else b"\0" * int(t.removeprefix("bytes"))


def _contracts(project: Any, protocol: Any) -> dict[str, Any]:
    found = {
        name: getattr(protocol, name) for name in ("token", "credits", "registry", "market", "resolver", "rewards")
    }
    found["price_feed"] = protocol.price_feed
    found["auctions"] = typed_at(project, "JobAuctions", protocol.market.auctions())
    return found


ROWS = [(p.contract, f, p.gate) for p in PERMISSIONS for f in p.functions]


@pytest.mark.parametrize(("contract", "function", "gate"), ROWS, ids=[f"{c}.{f}" for c, f, _ in ROWS])
def test_every_function_in_the_map_refuses_a_stranger_with_its_gates_error(
    project, protocol, stranger, contract, function, gate
):
    """Called by a stranger with zero arguments, each function reverts with its gate's error:
    `AccessControlUnauthorizedAccount` naming the stranger and the row's role, or the peer check's
    own error (`NotResolver`, `NotRewards`, `NotLedger`, `NotDelegated`, the owner's)."""
    target = _contracts(project, protocol)[contract]
    (method,) = [m for m in target.contract_type.mutable_methods if m.name == function]
    args = [_zero(i) for i in method.inputs]
    if gate.role:
        role_id = getattr(target, gate.role)()
        with ape.reverts(target.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=role_id):
            getattr(target, function)(*args, sender=stranger)
    else:
        with ape.reverts(getattr(target, gate.error)):
            getattr(target, function)(*args, sender=stranger)


def _role_holders(target: Any, role_id: bytes, head: int) -> set[str]:
    granted = [log for log in target.RoleGranted.range(0, head + 1) if log.role == role_id]
    revoked = [log for log in target.RoleRevoked.range(0, head + 1) if log.role == role_id]
    changes = sorted(
        [(log.block_number, log.log_index, True, log.account) for log in granted]
        + [(log.block_number, log.log_index, False, log.account) for log in revoked]
    )
    holders: set[str] = set()
    for *_order, grant, account in changes:
        if grant:
            holders.add(account)
        else:
            holders.discard(account)
    return holders


def _check_holders(project: Any, protocol: Any, chain: Any, governance: str, deployer: str) -> None:
    contracts = _contracts(project, protocol)
    names = {GOVERNANCE: governance, GUARDIAN: deployer, DEPLOYER: deployer}
    expected: dict[tuple[str, str], set[str]] = {}
    for p in PERMISSIONS:
        if p.gate.role:
            held = {names.get(h) or contracts[h].address for h in p.holders}
            expected.setdefault((p.contract, p.gate.role), set()).update(held)
    head = chain.blocks.head.number
    for contract in ("token", *GOVERNED):
        target = contracts[contract]
        for name in role_names(target):
            assert (contract, name) in expected, f"{contract}.{name} has no row in the map"
            actual = _role_holders(target, getattr(target, name)(), head)
            assert actual == expected[(contract, name)], f"{contract}.{name}: {actual} != {expected[(contract, name)]}"
    assert protocol.registry.resolver() == protocol.resolver.address
    assert protocol.registry.rewards() == protocol.rewards.address
    assert protocol.resolver.registry() == protocol.registry.address
    assert protocol.market.auctions() == contracts["auctions"].address
    assert protocol.price_feed.owner() == deployer


def test_each_role_is_held_by_exactly_the_holders_in_the_map_before_and_after_the_hand_over(
    project, chain, admin, tmp_path
):
    """A fresh deployment: every role constant of every contract has a row, and its holders,
    replayed from the grant and revoke logs, are the row's (governance and the guardian are the
    deployer, a peer is that contract, nobody else). After `hand_over_to_timelock`, governance is
    the timelock and the deployer holds nothing but the pauser role."""
    deployer = Deployer(project, admin, record_path=tmp_path / "r.json", log=lambda _m: None)
    protocol = deployer.run()
    _check_holders(project, protocol, chain, admin.address, admin.address)
    timelock = deployer.hand_over_to_timelock(protocol, 3_600)
    _check_holders(project, protocol, chain, timelock.address, admin.address)
