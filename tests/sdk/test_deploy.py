"""The deploy code: wiring, the record, and reuse on a second run."""

from __future__ import annotations

import dataclasses
import json

import ape
import pytest
from eth_utils import function_signature_to_4byte_selector
from web3.exceptions import ContractCustomError

from compute_market.deployment import CONTRACT_NAMES as CONTRACTS
from compute_market.deployment import Deployer


def test_deploy_wires_roles_and_writes_the_record(project, admin, tmp_path, chain):
    path = tmp_path / "record.json"
    protocol = Deployer(project, admin, record_path=path, log=lambda _m: None).run()
    token, credits = protocol.token, protocol.credits
    assert token.hasRole(token.MINTER_ROLE(), credits)
    assert credits.token() == token.address
    assert credits.priceFeed() == protocol.price_feed.address
    record = json.loads(path.read_text())
    assert record["chain_id"] == chain.chain_id
    assert set(record["contracts"]) == set(CONTRACTS)
    registry, market = protocol.registry, protocol.market
    assert registry.hasRole(registry.MARKET_ROLE(), market)  # provisions, slashes and outcomes
    assert "SLASHER_ROLE" not in {m.name for m in registry.contract_type.view_methods}  # one role now
    assert credits.isProtocolContract(market)
    assert market.credits() == credits.address and market.registry() == registry.address
    resolver = protocol.resolver
    assert market.hasRole(market.RESOLVER_ROLE(), resolver)
    assert credits.isProtocolContract(resolver)
    assert resolver.market() == market.address
    rewards = protocol.rewards
    assert token.hasRole(token.MINTER_ROLE(), rewards)
    assert rewards.hasRole(rewards.MARKET_ROLE(), market)
    assert rewards.hasRole(rewards.RESOLVER_ROLE(), resolver)
    assert rewards.ledger() == registry.address  # pays the stake rewards the ledger accrues
    assert registry.rewards() == market.rewards() == resolver.rewards() == rewards.address
    assert market.resolver() == resolver.address  # whose verification record pays verification fees
    assert record["deploy_block"] <= chain.blocks.head.number
    assert record["parameters"]["token"]["supply_cap"] == str(token.cap())


def test_second_run_reuses_everything_and_fresh_redeploys(project, admin, tmp_path):
    path = tmp_path / "record.json"
    first = Deployer(project, admin, record_path=path, log=lambda _m: None)
    first.run()
    second = Deployer(project, admin, record_path=path, log=lambda _m: None)
    again = second.run()
    assert second.deployed == []
    assert set(second.reused) == set(CONTRACTS)
    assert again.addresses == {n: e.address for n, e in first.record.contracts.items()}
    fresh = Deployer(project, admin, record_path=path, fresh=True, log=lambda _m: None)
    fresh.run()
    assert set(fresh.deployed) == set(CONTRACTS)


# The roles the README lets the deployer keep after the hand-over (a guardian that can pause).
GUARDIAN_ROLES = {"PAUSER_ROLE"}


def _governed(protocol):
    """Every access-controlled contract of the protocol, found by its ABI (not a hand-kept list)."""
    contracts = [getattr(protocol, f.name) for f in dataclasses.fields(protocol) if f.name != "record"]
    return [c for c in contracts if "hasRole" in {m.name for m in c.contract_type.view_methods}]


def _roles(target):
    """Names of every role constant of `target` (`DEFAULT_ADMIN_ROLE`, `..._ROLE`), from its ABI."""
    return sorted(
        m.name
        for m in target.contract_type.view_methods
        if m.name.endswith("_ROLE") and not m.inputs and [o.type for o in m.outputs] == ["bytes32"]
    )


def test_timelock_takes_every_admin_seat_and_the_deployer_keeps_only_pause(project, admin, tmp_path):
    deployer = Deployer(project, admin, record_path=tmp_path / "r.json", log=lambda _m: None)
    protocol = deployer.run()
    governed = _governed(protocol)
    names = {c.contract_type.name for c in governed}
    assert {"ComputeToken", "ComputeCredits", "ProviderRegistry", "JobMarket", "DisputeResolver"} <= names
    assert "RewardsDistributor" in names
    held = {(t.address, r) for t in governed for r in _roles(t) if t.hasRole(getattr(t, r)(), admin)}
    assert (protocol.resolver.address, "ARBITER_ROLE") in held  # the constructor makes the admin arbiter

    timelock = deployer.hand_over_to_timelock(protocol, 3_600)
    assert timelock.getMinDelay() == 3_600
    kept = []
    for target in governed:
        for name in _roles(target):
            role = getattr(target, name)()
            if name in GUARDIAN_ROLES:
                assert target.hasRole(role, admin), f"{target.contract_type.name}.{name} left the guardian"
            elif target.hasRole(role, admin):
                kept.append(f"{target.contract_type.name}.{name}")
            if (target.address, name) in held and name not in GUARDIAN_ROLES:
                assert target.hasRole(role, timelock), f"{target.contract_type.name}.{name} lost, not moved"
    assert kept == [], f"the deployer still holds {kept}"
    assert not timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE(), admin)

    market, resolver = protocol.market, protocol.resolver
    with ape.reverts(market.AccessControlUnauthorizedAccount):
        market.setProtocolFeeBps(0, sender=admin)
    with ape.reverts(resolver.AccessControlUnauthorizedAccount):
        resolver.arbitrate(1, True, sender=admin)
    market.pause(sender=admin)  # the guardian can still stop new business at once


def test_timelock_hand_over_sends_nothing_the_second_time(project, admin, tmp_path):
    path = tmp_path / "r.json"
    deployer = Deployer(project, admin, record_path=path, log=lambda _m: None)
    protocol = deployer.run()
    timelock = deployer.hand_over_to_timelock(protocol, 3_600)
    nonce = admin.nonce
    again = Deployer(project, admin, record_path=path, log=lambda _m: None)
    assert again.hand_over_to_timelock(again.run(), 3_600).address == timelock.address
    assert admin.nonce == nonce
    assert again.gas == {}


ZERO = "0x" + "00" * 20


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("ComputeCredits", lambda p, me: (ZERO, p.token, p.price_feed, 1)),  # Governed: no admin
        ("ComputeCredits", lambda p, me: (me, ZERO, p.price_feed, 1)),
        ("ProviderRegistry", lambda p, me: (me, ZERO, p.rewards)),
        ("JobMarket", lambda p, me: (me, p.credits, p.registry, ZERO, p.market.auctions(), p.rewards)),
        ("JobMarket", lambda p, me: (me, p.credits, p.registry, me, p.market.auctions(), ZERO)),
        ("JobAuctions", lambda p, me: (me, p.credits, ZERO, p.rewards)),
        ("JobAuctions", lambda p, me: (me, p.credits, p.registry, ZERO)),
        ("DisputeResolver", lambda p, me: (me, ZERO, p.credits, p.market, p.registry, p.rewards)),  # the token
        ("DisputeResolver", lambda p, me: (me, p.token, p.credits, ZERO, p.registry, p.rewards)),
        ("DisputeResolver", lambda p, me: (me, p.token, p.credits, p.market, p.registry, ZERO)),
        ("RewardsDistributor", lambda p, me: (me, ZERO, p.credits, 86_400, 1, 1, 0)),
        ("RewardsDistributor", lambda p, me: (me, p.token, ZERO, 86_400, 1, 1, 0)),
    ],
    ids=[
        "credits-admin",
        "credits-token",
        "registry-token",
        "market-treasury",
        "market-rewards",
        "auctions-registry",
        "auctions-rewards",
        "resolver-token",
        "resolver-market",
        "resolver-rewards",
        "rewards-token",
        "rewards-credits",
    ],
)
def test_constructors_refuse_the_zero_address(project, chain, protocol, admin, name, args):
    # Through eth_call: ape cannot always name a custom error raised by a deployment (there is
    # no address to look its ABI up by), so the test reads the revert data itself.
    container = getattr(project, name)
    data = container.contract_type.deployment_bytecode.bytecode + container.constructor.encode_input(
        *args(protocol, admin)
    ).hex().removeprefix("0x")
    with pytest.raises(ContractCustomError) as failure:
        chain.provider.web3.eth.call({"from": admin.address, "data": data})
    assert failure.value.data == "0x" + function_signature_to_4byte_selector("ZeroAddress()").hex()


def test_loading_a_record_ignores_a_stale_abi_cached_for_its_addresses(project, admin, tmp_path, chain):
    """A local chain redeploys other builds at the same addresses, and Ape merges what it cached
    for an address with the type it is given: the rewards contract once read with a different
    ABI (here the token's) gained the token's events, and an event name in both ABIs became an
    ambiguous wrapper that the CLI could not filter by. Loading the record uses the project's
    type alone."""
    from compute_market.deployment import Protocol

    path = tmp_path / "record.json"
    protocol = Deployer(project, admin, record_path=path, log=lambda _m: None).run()
    chain.contracts.instance_at(protocol.rewards.address, contract_type=project.ComputeToken.contract_type)
    loaded = Protocol.load(project, path)
    events = {abi.name for abi in loaded.rewards.contract_type.events}
    assert "Transfer" not in events and "Claimed" in events
    assert loaded.rewards.contract_type.name == "RewardsDistributor"


@pytest.mark.parametrize("other", ["registry", "rewards"])
def test_the_market_refuses_an_auctions_module_of_other_contracts(project, chain, protocol, admin, other):
    """The market runs its auctions module's code on its own storage, so the module must have
    been deployed for the same credits, registry and rewards (a module pointing at another
    registry would lock and slash stake there)."""
    registry = protocol.token if other == "registry" else protocol.registry  # the token: not a registry
    rewards = protocol.token if other == "rewards" else protocol.rewards
    module = project.JobAuctions.deploy(admin, protocol.credits, registry, rewards, sender=admin)
    container = project.JobMarket
    data = container.contract_type.deployment_bytecode.bytecode + container.constructor.encode_input(
        admin, protocol.credits, protocol.registry, admin, module, protocol.rewards
    ).hex().removeprefix("0x")
    with pytest.raises(ContractCustomError) as failure:
        chain.provider.web3.eth.call({"from": admin.address, "data": data})
    assert failure.value.data == "0x" + function_signature_to_4byte_selector("AuctionsMismatch()").hex()


def test_the_auctions_module_refuses_direct_calls(project, protocol, admin):
    """Its code is only ever run by the market's DELEGATECALL: called directly it would act on
    its own empty storage, so it refuses."""
    auctions = project.JobAuctions.at(protocol.market.auctions())
    with ape.reverts(auctions.NotDelegated):
        auctions.placeBid(1, 1, sender=admin)
    with ape.reverts(auctions.NotDelegated):
        auctions.settleCommitment(1, admin, sender=admin)
    with ape.reverts(auctions.NotDelegated):
        auctions.cancelJob(1, sender=admin)


def test_the_market_fits_with_room_to_grow(project):
    """Deployed sizes from the build (what `ape run gas` prints): the market under 21,500
    bytes, every contract under the 24,576-byte limit."""
    from gas_benchmarks.scenarios import deployed_sizes

    sizes = deployed_sizes(project)
    assert sizes["JobMarket"] <= 21_500, sizes
    assert max(sizes.values()) <= 24_576, sizes
