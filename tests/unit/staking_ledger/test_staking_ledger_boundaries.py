"""The staking ledger at its edges: the last verifier slot, the draw queue when it is empty, when a
draw that cannot be made yet follows entries that could, `drawReady` on what is not a due draw, a
slash that rounds to nothing, the unbonding floor with and without a resolver, the reward
accumulator's 96-bit saturation, and a distributor that answers nonsense."""

from __future__ import annotations

import ape
import pytest
from ape.contracts import ContractContainer
from ethpm_types import ContractType
from utils.helpers import job_spec

from compute_market.deployment import Deployer
from compute_market.models import EntryKind
from compute_market.units import DAY, HOUR, to_wei

ZERO = "0x0000000000000000000000000000000000000000"
UINT96_MAX = 2**96 - 1
EU = b"eu-west".ljust(32, b"\0")
KEY_HASH = b"\x22" * 32
SUBSCRIPTION = 9


@pytest.fixture(scope="module")
def edge_buyer(accounts, make_customer, credits, resolver):
    account = make_customer(accounts[44])
    credits.approve(resolver, 2**256 - 1, sender=account)
    return account


@pytest.fixture(scope="module")
def edge_seller(accounts, make_provider):
    return make_provider(accounts[45])


@pytest.fixture(scope="module")
def edge_panel(accounts, make_verifier):
    return [make_verifier(a) for a in accounts[46:49]]


def verified_results(market, chain, buyer, seller, fresh_price, count: int) -> list[int]:
    """`count` verified jobs whose results were just submitted (none has a verifier yet)."""
    fresh_price()
    job_ids = []
    for _ in range(count):
        tx = market.postJob(job_spec(chain, verification=True), sender=buyer)
        job_ids.append(tx.events.filter(market.JobPosted)[0].jobId)
    for job_id in job_ids:
        market.placeBid(job_id, to_wei("1.1"), sender=seller)
    chain.pending_timestamp += HOUR
    for job_id in job_ids:
        market.finalizeAuction(job_id, sender=buyer)
    chain.pending_timestamp += 10 * HOUR
    for job_id in job_ids:
        market.submitResult(job_id, b"\x42" * 32, "ipfs://result", sender=seller)
    return job_ids


def fresh_ledger(project, token, admin, rewards=ZERO):
    """A `ProviderRegistry` of its own (no resolver, no randomness), accruing `rewards`' share."""
    return project.ProviderRegistry.deploy(admin, token, rewards, sender=admin)


def answering(sender, words: list[int]):
    """Deploys a contract that answers every call with the same three words (96 bytes): as a
    distributor, `stakeRateAt` returns (words[0], words[1], words[2]) and `stakeReleased`
    words[0]. Hand-assembled: CODECOPY the 96 data bytes to memory and RETURN them."""
    data = b"".join(w.to_bytes(32, "big") for w in words)
    runtime = bytes.fromhex("6060600c60003960606000f3") + data  # 12 bytes of code, then the data
    init = bytes.fromhex(f"60{len(runtime):02x}600c60003960{len(runtime):02x}6000f3")  # 12 bytes
    abi = [
        {
            "type": "function",
            "name": "stakeRateAt",
            "stateMutability": "view",
            "inputs": [{"name": "t", "type": "uint256"}],
            "outputs": [
                {"name": "perSecond", "type": "uint256"},
                {"name": "epochStart", "type": "uint256"},
                {"name": "epochEnd", "type": "uint256"},
            ],
        },
        {
            "type": "function",
            "name": "stakeReleased",
            "stateMutability": "view",
            "inputs": [{"name": "t0", "type": "uint256"}, {"name": "t1", "type": "uint256"}],
            "outputs": [{"name": "", "type": "uint256"}],
        },
    ]
    contract_type = ContractType(
        contractName="NonsenseDistributor", abi=abi, deploymentBytecode={"bytecode": "0x" + (init + runtime).hex()}
    )
    return ContractContainer(contract_type).deploy(sender=sender)


def stake_as_provider(ledger, token, admin, who, amount: int):
    token.transfer(who, amount, sender=admin)
    token.approve(ledger, amount, sender=who)
    ledger.register("ipfs://staker", EU, sender=who)
    return ledger.stake(amount, sender=who)


# ---------------------------------------------------------------------------- verifiers


def _write_verifier_count(ledger, chain, count: int) -> None:
    """Sets `verifierCount` to `count`: tries each 32-bit field at each byte offset of the ledger's
    first storage words that holds the current count until `verifierCount()` answers `count` (so a
    layout change fails here, loudly, instead of writing the wrong field)."""
    current = ledger.verifierCount()
    for slot in range(64):
        word = int(chain.provider.make_request("eth_getStorageAt", [ledger.address, hex(slot), "latest"]), 16)
        for shift in range(0, 232, 8):
            if (word >> shift) & 0xFFFFFFFF != current:
                continue
            written = word & ~(0xFFFFFFFF << shift) | (count << shift)
            chain.provider.make_request("anvil_setStorageAt", [ledger.address, hex(slot), f"0x{written:064x}"])
            if ledger.verifierCount() == count:
                return
            chain.provider.make_request("anvil_setStorageAt", [ledger.address, hex(slot), f"0x{word:064x}"])
    raise AssertionError("verifierCount not found in the ledger's first 64 storage words")


def test_the_4097th_verifier_is_refused_at_the_trees_capacity(project, token, chain, admin, alice, bob, carol):
    """The sortition tree has 4,096 slots and slots are never reused: the 4,096th verifier takes
    slot 4,096, the next registration reverts `VerifierCapacityReached(4096)` and the count stays
    4,096. Registering 4,095 verifiers for real takes minutes (tens under the coverage collector),
    and the check reads only the counter, so the test writes the count of 4,095 (a count the
    ledger reaches by registrations) and registers the last two for real."""
    ledger = fresh_ledger(project, token, admin)
    ledger.registerVerifier(sender=alice)
    _write_verifier_count(ledger, chain, 4_095)
    ledger.registerVerifier(sender=bob)
    assert ledger.verifierSlotOf(bob) == 4_096
    assert ledger.verifierAtSlot(4_096) == bob
    with ape.reverts(ledger.VerifierCapacityReached, capacity=4_096):
        ledger.registerVerifier(sender=carol)
    assert ledger.verifierCount() == 4_096
    assert ledger.verifierSlotOf(carol) == 0


def test_a_slash_that_rounds_to_nothing_changes_nothing(registry, admin, token, accounts, make_verifier):
    """A slash of 0 CMP (a penalty share set to 0 by governance) returns 0 at once: no
    `VerifierSlashed`, no payout, the verifier's 1,000 CMP and the tree untouched."""
    verifier = make_verifier(accounts[50], stake=to_wei(1_000))
    registry.setResolver(admin, sender=admin)  # an account standing in for the resolver
    total, supply = registry.totalActiveStake(), token.totalSupply()
    assert registry.slashVerifier.call(verifier, 0, accounts[51], sender=admin) == 0
    tx = registry.slashVerifier(verifier, 0, accounts[51], sender=admin)
    assert not tx.events.filter(registry.VerifierSlashed)
    assert not tx.events.filter(registry.SlashPaid)
    assert registry.verifierOf(verifier).staked == to_wei(1_000)
    assert (registry.totalActiveStake(), token.totalSupply(), token.balanceOf(accounts[51])) == (total, supply, 0)


# ---------------------------------------------------------------------------- draw queue


def test_processing_an_empty_queue_reverts_nothing_queued(registry, stranger):
    """With head == tail (nothing requested, or everything processed) `processDraws` reverts
    `NothingQueued` rather than returning 0."""
    assert registry.queueHead() == registry.queueTail()
    with ape.reverts(registry.NothingQueued):
        registry.processDraws(8, sender=stranger)


def test_draw_ready_is_false_for_what_is_not_a_draw_and_for_a_draw_not_yet_due(
    registry, admin, chain, accounts, make_verifier
):
    """`drawReady` is true only for a queued draw whose target block is mined: an unused
    position (kind None), a queued stake change (kind StakeAdded), and a draw just requested
    (target 2 blocks ahead) all answer false; the draw answers true once its target is past."""
    make_verifier(accounts[52])
    registry.setResolver(admin, sender=admin)  # an account standing in for the resolver
    requested = registry.requestDraw(EntryKind.VERIFIER_DRAW, 7, sender=admin).events.filter(registry.DrawRequested)[0]
    draw = requested.position
    assert registry.drawReady(draw) is False  # target block not mined yet
    staker = make_verifier(accounts[53])  # queues behind the draw
    change = registry.queueTail() - 1
    assert registry.queueEntry(change).kind == 1  # StakeAdded
    assert registry.verifierOf(staker).staked == to_wei(1_000)
    assert registry.drawReady(change) is False
    assert registry.drawReady(change + 1) is False  # nothing queued there
    assert registry.queueEntry(change + 1).kind == 0
    if (blocks := requested.targetBlock + 1 - chain.blocks.head.number) > 0:
        chain.mine(blocks)
    assert registry.drawReady(draw) is True


def test_a_draw_not_yet_due_behind_processed_entries_stops_the_batch_without_reverting(
    registry,
    resolver,
    market,
    chain,
    admin,
    stranger,
    accounts,
    edge_buyer,
    edge_seller,
    edge_panel,
    fresh_price,
    make_verifier,
):
    """Queue: job 1's draw (draw delay 1 block), a stake change behind it, job 2's draw (draw delay
    64 blocks). `processDraws(8)` makes job 1's draw and applies the stake change, then stops at
    job 2's draw, which is not due: it returns without reverting, job 2's draw stays at the head.
    Only a batch whose first entry is that draw reverts `DrawNotReady`."""
    first_job, second_job = verified_results(market, chain, edge_buyer, edge_seller, fresh_price, 2)
    registry.setDrawDelay(1, sender=admin)
    resolver.requestVerifier(first_job, sender=edge_buyer)
    registry.setDrawDelay(64, sender=admin)
    staker = make_verifier(accounts[54], stake=to_wei(1_700))  # queued behind the first draw
    total = registry.totalActiveStake()
    tx = resolver.requestVerifier(second_job, sender=edge_buyer)
    second = tx.events.filter(registry.DrawRequested)[0]
    assert registry.queueTail() - registry.queueHead() == 3
    tx = registry.processDraws(8, sender=stranger)
    assert [e.jobId for e in tx.events.filter(resolver.VerifierAssigned)] == [first_job]
    assert registry.totalActiveStake() == total + to_wei(1_700)  # the stake change reached the tree
    assert registry.activeStakeOf(staker) == to_wei(1_700)
    assert (registry.queueHead(), registry.queueTail()) == (second.position, second.position + 1)
    with ape.reverts(registry.DrawNotReady, jobId=second_job, targetBlock=second.targetBlock):
        registry.processDraws(8, sender=stranger)


def test_a_draw_waiting_for_its_vrf_word_behind_processed_entries_stops_the_batch_without_reverting(
    project,
    protocol,
    registry,
    resolver,
    market,
    chain,
    admin,
    stranger,
    accounts,
    edge_buyer,
    edge_seller,
    edge_panel,
    fresh_price,
    make_verifier,
    tmp_path,
):
    """With a VRF source: job 1's draw (its word fulfilled), a stake change, job 2's draw (its word
    not arrived, both targets mined, patience of 128 blocks not over). `processDraws(8)` makes the
    first draw from its word, applies the stake change and stops at the waiting draw, returning
    without reverting; alone at the head, that draw reverts `DrawNotReady` naming its target + 128."""
    coordinator = project.MockVrfCoordinator.deploy(sender=admin)
    deployer = Deployer(project, admin, record_path=tmp_path / "record.json", log=lambda _msg: None)
    adapter = deployer.use_vrf(protocol, coordinator.address, KEY_HASH, SUBSCRIPTION)
    first_job, second_job = verified_results(market, chain, edge_buyer, edge_seller, fresh_price, 2)
    tx = resolver.requestVerifier(first_job, sender=edge_buyer)
    request_id = tx.events.filter(adapter.RandomnessRequested)[0].requestId
    staker = make_verifier(accounts[55], stake=to_wei(1_300))  # queued behind the first draw
    tx = resolver.requestVerifier(second_job, sender=edge_buyer)
    second = tx.events.filter(registry.DrawRequested)[0]
    coordinator.fulfill(request_id, 0xC0FFEE, sender=stranger)
    chain.mine(int(registry.drawDelay()) + 1)
    assert chain.blocks.head.number > second.targetBlock  # due by block, waiting for its word
    assert registry.drawReady(second.position) is False
    tx = registry.processDraws(8, sender=stranger)
    assert [e.jobId for e in tx.events.filter(resolver.VerifierAssigned)] == [first_job]
    assert registry.activeStakeOf(staker) == to_wei(1_300)
    assert (registry.queueHead(), registry.queueTail()) == (second.position, second.position + 1)
    patience = int(registry.VRF_PATIENCE())
    with ape.reverts(registry.DrawNotReady, jobId=second_job, targetBlock=second.targetBlock + patience):
        registry.processDraws(8, sender=stranger)


# ---------------------------------------------------------------------------- unbonding floor


def test_without_a_resolver_the_unbonding_floor_is_one_day(project, token, admin):
    """A ledger with no resolver yet asks no slash delay: `setUnbondingPeriod` accepts exactly
    [1 day, 60 days] and refuses 1 day - 1 s naming those bounds."""
    ledger = fresh_ledger(project, token, admin)
    assert ledger.resolver() == ZERO
    with ape.reverts(ledger.ParameterOutOfBounds, value=DAY - 1, min=DAY, max=60 * DAY):
        ledger.setUnbondingPeriod(DAY - 1, sender=admin)
    ledger.setUnbondingPeriod(DAY, sender=admin)
    assert ledger.unbondingPeriod() == DAY


def test_a_slash_delay_under_a_day_leaves_the_floor_at_one_day(registry, resolver, market, admin):
    """The resolver's periods at their minimums: challenge window 6 h + 1 s, commit, reveal and
    appeal 1 h each, so `slashDelay` = 9 h + 1 s < 1 day. The floor stays 1 day (not the delay
    + 1): 1 day is accepted, 1 day - 1 s refused with min = 1 day."""
    registry.setUnbondingPeriod(7 * DAY, sender=admin)
    resolver.setAppealWindow(HOUR, sender=admin)
    resolver.setVoteCommitPeriod(HOUR, sender=admin)
    resolver.setVoteRevealPeriod(HOUR, sender=admin)
    market.setChallengeWindow(6 * HOUR + 1, sender=admin)
    assert resolver.slashDelay() == 9 * HOUR + 1
    with ape.reverts(registry.ParameterOutOfBounds, value=DAY - 1, min=DAY, max=60 * DAY):
        registry.setUnbondingPeriod(DAY - 1, sender=admin)
    registry.setUnbondingPeriod(DAY, sender=admin)
    assert registry.unbondingPeriod() == DAY


# ---------------------------------------------------------------------------- accumulator


def test_the_reward_accumulator_saturates_at_96_bits(project, token, credits, admin, alice, chain):
    """A distributor minting another token (cap 2^200) with 2^120 wei of emission in hourly epochs
    releases about 7.4e31 wei of stake share a second; on Alice's 1 CMP at risk the reward per
    stake passes 2^96 within a second. Both the view and the stored accumulator saturate at
    2^96 - 1 rather than revert or wrap, and her claim pays exactly 2^96 - 1 wei of that token."""
    wide = project.ComputeToken.deploy(admin, admin, 0, 2**200, sender=admin)
    dist = project.RewardsDistributor.deploy(admin, wide, credits, HOUR, 2**130, 2**120, 5_000, sender=admin)
    wide.grantRole(wide.MINTER_ROLE(), dist, sender=admin)
    ledger = fresh_ledger(project, token, admin, dist)
    dist.setLedger(ledger, sender=admin)
    assert dist.stakeRateAt(chain.blocks.head.timestamp)[0] > UINT96_MAX  # per second
    stake_as_provider(ledger, token, admin, alice, to_wei(1))
    assert ledger.stakeRewardsState() == (0, to_wei(1))
    chain.pending_timestamp += 10
    chain.mine()
    assert ledger.stakeRewardsState() == (UINT96_MAX, to_wei(1))  # the view saturates
    assert ledger.pendingStakeRewards(alice) == UINT96_MAX
    tx = dist.claimStakeRewards(sender=alice)  # the ledger brings the stored accumulator forward
    assert tx.events.filter(ledger.StakeRewardsTaken)[0].amount == UINT96_MAX
    assert wide.balanceOf(alice) == UINT96_MAX
    assert ledger.stakeRewardsState() == (UINT96_MAX, to_wei(1))  # stored saturated, nothing more owed
    assert ledger.pendingStakeRewards(alice) == 0


# ---------------------------------------------------------------------------- nonsense distributors


def test_a_rate_beyond_128_bits_releases_nothing(project, token, admin, alice, chain):
    """A distributor whose `stakeRateAt` says 2^128 wei a second (above the cached rate's 128 bits)
    for an epoch [0, 2^63) around now: the ledger takes it for nonsense, releases nothing and
    caches no rate, so 1 CMP at risk for a day earns nothing."""
    source = answering(admin, [2**128, 0, 2**63])
    assert source.stakeRateAt(0) == (2**128, 0, 2**63)
    ledger = fresh_ledger(project, token, admin, source)
    stake_as_provider(ledger, token, admin, alice, to_wei(1))
    chain.pending_timestamp += DAY
    chain.mine()
    assert ledger.stakeRewardsState() == (0, to_wei(1))
    ledger.requestUnstake(to_wei("0.5"), sender=alice)  # a stake change brings the accumulator forward
    assert ledger.stakeRewardsState() == (0, to_wei("0.5"))
    assert ledger.pendingStakeRewards(alice) == 0


def test_a_whole_epochs_release_beyond_96_bits_releases_nothing(project, token, admin, alice, chain):
    """A distributor saying 2^100 wei a second for an epoch starting an hour from now, and 2^100
    wei (above any token cap) for the whole epochs before it. Staked before that start, Alice's
    1 CMP crosses into the epoch: the ledger asks for the whole epochs' release, finds it beyond
    96 bits, and releases nothing: the reward per stake stays 0 in the view and after a change."""
    start = chain.blocks.head.timestamp + HOUR
    source = answering(admin, [2**100, start, 2**63])
    assert source.stakeReleased(0, start) == 2**100
    ledger = fresh_ledger(project, token, admin, source)
    stake_as_provider(ledger, token, admin, alice, to_wei(1))  # before `start`: a start > now is nonsense too
    assert ledger.stakeRewardsState() == (0, to_wei(1))
    chain.pending_timestamp = start + 100
    chain.mine()
    assert ledger.stakeRewardsState() == (0, to_wei(1))
    ledger.requestUnstake(to_wei("0.5"), sender=alice)
    assert ledger.stakeRewardsState() == (0, to_wei("0.5"))
    assert ledger.pendingStakeRewards(alice) == 0
