"""Draws from a VRF (`ChainlinkVrfAdapter` over a Chainlink VRF v2-shaped coordinator, here the
test-only `MockVrfCoordinator`): with a randomness source set, a queued draw waits for its word
and is made from it, whatever block it is processed in; a word that never comes falls back to the
target block's hash after `VRF_PATIENCE` (128) blocks, so no dispute is held up."""

from __future__ import annotations

from pathlib import Path

import ape
import pytest
from click.testing import CliRunner
from eth_abi import encode
from eth_utils import keccak
from utils.helpers import job_spec, load_script

from compute_market.deployment import Deployer
from compute_market.units import HOUR, to_wei

KEY_HASH = b"\x11" * 32
SUBSCRIPTION = 7
VERIFIER_DRAW = 3


@pytest.fixture(scope="module")
def coordinator(project, admin):
    return project.MockVrfCoordinator.deploy(sender=admin)


@pytest.fixture(scope="module")
def adapter(project, protocol, admin, coordinator, tmp_path_factory):
    """The deployer's `use_vrf` step on the module's deployment (its record in a fresh file)."""
    record = Path(tmp_path_factory.mktemp("vrf")) / "record.json"
    deployer = Deployer(project, admin, record_path=record, log=lambda _msg: None)
    return deployer.use_vrf(protocol, coordinator.address, KEY_HASH, SUBSCRIPTION)


@pytest.fixture(scope="module")
def buyer(accounts, make_customer, credits, resolver):
    account = make_customer(accounts[30])
    credits.approve(resolver, 2**256 - 1, sender=account)
    return account


@pytest.fixture(scope="module")
def seller(accounts, make_provider):
    return make_provider(accounts[31])


@pytest.fixture(scope="module")
def panel(accounts, make_verifier):
    return [make_verifier(a) for a in accounts[32:37]]


@pytest.fixture
def verified_result(market, chain, buyer, seller, panel, fresh_price, adapter):
    """A verified job whose result was just submitted, its verifier draw queued."""
    fresh_price()
    tx = market.postJob(job_spec(chain, verification=True), sender=buyer)
    job_id = tx.events.filter(market.JobPosted)[0].jobId
    market.placeBid(job_id, to_wei("1.1"), sender=seller)
    chain.pending_timestamp += HOUR
    market.finalizeAuction(job_id, sender=buyer)
    chain.pending_timestamp += 10 * HOUR
    market.submitResult(job_id, b"\x42" * 32, "ipfs://result", sender=seller)
    return job_id


def seed_of(word: bytes, job_id: int) -> int:
    return int.from_bytes(keccak(encode(["bytes32", "uint128", "uint8"], [word, job_id, VERIFIER_DRAW])), "big")


def test_the_deployer_wires_the_adapter_to_the_ledger(registry, adapter, coordinator):
    assert registry.randomness() == adapter.address
    assert (adapter.consumer(), adapter.coordinator()) == (registry.address, coordinator.address)
    assert (adapter.keyHash(), adapter.subscriptionId()) == (KEY_HASH, SUBSCRIPTION)


def test_a_draw_waits_for_its_vrf_word_and_is_made_from_it(
    registry, resolver, coordinator, adapter, chain, verified_result, buyer, seller
):
    tx = resolver.requestVerifier(verified_result, sender=buyer)
    position = tx.events.filter(registry.DrawRequested)[0].position
    request_id = tx.events.filter(adapter.RandomnessRequested)[0].requestId
    assert tx.events.filter(coordinator.RandomWordsRequested)[0].keyHash == KEY_HASH
    chain.mine(int(registry.drawDelay()) + 1)
    assert not registry.drawReady(position)  # the target block is mined, the word is not here
    with ape.reverts(registry.DrawNotReady):
        registry.processDraws(8, sender=buyer)
    word = (0xC0FFEE).to_bytes(32, "big")
    coordinator.fulfill(request_id, int.from_bytes(word, "big"), sender=buyer)
    assert adapter.randomnessOf(position) == (True, int.from_bytes(word, "big"))
    chain.mine(5)  # whichever block it is processed in, the word decides
    expected = registry.drawVerifiers(seed_of(word, verified_result), [buyer, seller], 1)
    assert registry.drawReady(position)
    tx = registry.processDraws(8, sender=buyer)
    assert [tx.events.filter(resolver.VerifierAssigned)[0].verifier] == list(expected)


def test_a_word_that_never_comes_falls_back_to_the_target_blocks_hash(
    registry, resolver, chain, verified_result, buyer, seller, adapter
):
    tx = resolver.requestVerifier(verified_result, sender=buyer)
    requested = tx.events.filter(registry.DrawRequested)[0]
    patience = int(registry.VRF_PATIENCE())
    assert patience == 128
    chain.mine(requested.targetBlock + patience - chain.blocks.head.number)
    assert not registry.drawReady(requested.position)  # still worth waiting for the word
    chain.mine(1)
    assert registry.drawReady(requested.position)
    target_hash = bytes(chain.blocks[requested.targetBlock].hash)
    expected = registry.drawVerifiers(seed_of(target_hash, verified_result), [buyer, seller], 1)
    tx = registry.processDraws(8, sender=buyer)
    assert [tx.events.filter(resolver.VerifierAssigned)[0].verifier] == list(expected)


def test_a_refused_request_never_blocks_a_challenge_or_a_verification(
    registry, resolver, coordinator, chain, verified_result, buyer, seller
):
    """A coordinator that refuses requests (here the mock's `failing`: a consumer not added to
    the subscription) would otherwise revert every `requestVerifier` and `challenge`: the request
    is logged as failed and the draw falls back to the target block's hash."""
    coordinator.setFailing(True, sender=buyer)
    tx = resolver.requestVerifier(verified_result, sender=buyer)
    requested = tx.events.filter(registry.DrawRequested)[0]
    assert tx.events.filter(registry.RandomnessRequestFailed)[0].position == requested.position
    chain.mine(requested.targetBlock + int(registry.VRF_PATIENCE()) + 1 - chain.blocks.head.number)
    target_hash = bytes(chain.blocks[requested.targetBlock].hash)
    expected = registry.drawVerifiers(seed_of(target_hash, verified_result), [buyer, seller], 1)
    tx = registry.processDraws(8, sender=buyer)
    assert [tx.events.filter(resolver.VerifierAssigned)[0].verifier] == list(expected)


def test_only_the_ledger_asks_and_only_the_coordinator_answers(
    adapter, coordinator, accounts, chain, stranger, registry, resolver, verified_result, buyer
):
    with ape.reverts(adapter.NotConsumer, caller=stranger.address):
        adapter.requestRandomness(1, sender=stranger)
    with ape.reverts(adapter.OnlyCoordinatorCanFulfill):
        adapter.rawFulfillRandomWords(1, [5], sender=stranger)
    tx = resolver.requestVerifier(verified_result, sender=buyer)
    request_id = tx.events.filter(adapter.RandomnessRequested)[0].requestId
    chain.provider.set_balance(coordinator.address, 10**18)
    as_coordinator = accounts[coordinator.address]  # impersonated
    with ape.reverts(adapter.UnknownRequest, requestId=request_id + 100):
        adapter.rawFulfillRandomWords(request_id + 100, [5], sender=as_coordinator)
    adapter.rawFulfillRandomWords(request_id, [5], sender=as_coordinator)
    with ape.reverts(adapter.AlreadyFulfilled):
        adapter.rawFulfillRandomWords(request_id, [6], sender=as_coordinator)


def test_the_source_changes_only_while_no_draw_is_queued(
    registry, resolver, adapter, admin, stranger, verified_result, buyer
):
    with ape.reverts(registry.AccessControlUnauthorizedAccount):
        registry.setRandomness(adapter, sender=stranger)
    resolver.requestVerifier(verified_result, sender=buyer)
    with ape.reverts(registry.DrawsPending, queued=1):
        registry.setRandomness("0x" + "00" * 20, sender=admin)


def test_the_deploy_command_takes_the_three_vrf_options_together(chain, tmp_path):
    common = ["--network", chain.provider.uri, "--account", "TEST::0", "--record", str(tmp_path / "r.json")]
    result = CliRunner(mix_stderr=False).invoke(
        load_script("deploy").cli, ["--vrf-coordinator", "0x" + "11" * 20, *common]
    )
    assert result.exit_code == 2
    assert result.stderr == "Error: --vrf-coordinator, --vrf-key-hash and --vrf-subscription go together\n"
    assert not (tmp_path / "r.json").exists()  # nothing deployed
