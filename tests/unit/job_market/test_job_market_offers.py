"""JobMarket: offers (a provider's GPUs of one model and the stake it set aside for them, in one
slot of the market) and the locks bids take on them.

Numbers: the providers of tests/unit/job_market/conftest.py stake 10,000 CMP, all provisioned,
and offer 8 H100s of 80 GB. A job of 2 GPUs for 10 hours at a max price of 2 CRD locks 204.8 CMP
on its best bidder's offer (collateral 30% of 40 CRD at 2.50 USD: 4.8 CMP, plus 100 CMP per GPU)
and reserves 2 of its GPUs.
"""

from __future__ import annotations

import ape
import pytest
from eth_utils import function_signature_to_4byte_selector
from utils.helpers import A100, EU, H100, assert_locks_match_jobs
from utils.job_market import crd, leased_job, post

from compute_market.gastrace import trace_transaction
from compute_market.units import HOUR, bytes32, to_wei

LOCK = crd("4.8") + to_wei(200)


@pytest.fixture
def customer(_customer, fresh_price):
    fresh_price()
    return _customer


@pytest.fixture
def newcomer(accounts, make_provider):
    """Registered with 1,000 CMP staked, offering 8 H100s with nothing provisioned."""
    return make_provider(accounts[14], stake=to_wei(1_000), provision=0)


def test_an_offer_moves_stake_between_the_ledger_and_the_market(market, registry, newcomer):
    """600 of 1,000 CMP provisioned for H100s and 300 for A100s leave 100 free; taking the
    H100 provision back frees it again. The ledger's provision is the offers' sum throughout."""
    tx = market.setOffer(H100, 8, 80, to_wei(600), sender=newcomer)
    event = tx.events.filter(market.OfferSet)[0]
    assert (event["provider"], event.gpuModel, event.gpus, event.vramGb, event.provisioned) == (
        newcomer.address,
        H100,
        8,
        80,
        to_wei(600),
    )
    assert tx.events.filter(registry.Provisioned)[0].delta == to_wei(600)
    assert tuple(market.offerOf(newcomer, H100)) == (to_wei(600), 0, 8, 0, 80)
    market.setOffer(A100, 4, 40, to_wei(300), sender=newcomer)
    assert registry.providerOf(newcomer).provisioned == to_wei(900)
    assert registry.freeStakeOf(newcomer) == to_wei(100)
    tx = market.setOffer(H100, 0, 80, 0, sender=newcomer)
    assert tx.events.filter(registry.Provisioned)[0].delta == -to_wei(600)
    assert (registry.providerOf(newcomer).provisioned, registry.freeStakeOf(newcomer)) == (to_wei(300), to_wei(700))
    tx = market.setOffer(A100, 2, 40, to_wei(300), sender=newcomer)  # the same provision: no ledger call
    assert not tx.events.filter(registry.Provisioned)


def test_a_malformed_or_unfunded_offer_is_refused(market, registry, newcomer, stranger):
    for args in (
        (bytes32(""), 8, 80, 0),
        (H100, 2**16, 80, 0),
        (H100, 8, 2**32, 0),
        (H100, 8, 80, 2**96),
    ):
        with ape.reverts(market.InvalidOffer):
            market.setOffer(*args, sender=newcomer)
    with ape.reverts(registry.NotEnoughFreeStake, have=to_wei(1_000), need=to_wei(1_000) + 1):
        market.setOffer(H100, 8, 80, to_wei(1_000) + 1, sender=newcomer)
    with ape.reverts(registry.NotRegistered, provider=stranger.address):
        market.setOffer(H100, 8, 80, 1, sender=stranger)


def test_a_bid_locks_its_offer_and_an_outbid_bidder_is_released(market, registry, chain, customer, providers):
    p1, p2, _ = providers
    job_id = post(market, chain, customer)
    market.placeBid(job_id, crd("1.80"), sender=p1)
    assert tuple(market.offerOf(p1, H100)) == (to_wei(10_000), LOCK, 8, 2, 80)
    with ape.reverts(market.OfferInUse, locked=LOCK, reserved=2):  # fewer GPUs than the bid holds
        market.setOffer(H100, 1, 80, to_wei(10_000), sender=p1)
    with ape.reverts(market.OfferInUse, locked=LOCK, reserved=2):  # less provision than it holds
        market.setOffer(H100, 8, 80, LOCK - 1, sender=p1)
    market.setOffer(H100, 2, 80, LOCK, sender=p1)  # exactly what the bid holds
    assert registry.freeStakeOf(p1) == to_wei(10_000) - LOCK
    market.placeBid(job_id, crd("1.50"), sender=p2)
    assert tuple(market.offerOf(p1, H100)) == (LOCK, 0, 2, 0, 80)
    assert tuple(market.offerOf(p2, H100)) == (to_wei(10_000), LOCK, 8, 2, 80)
    assert assert_locks_match_jobs(market, registry, providers, [job_id]) == 1


def test_a_bid_needs_the_model_the_gpus_and_the_provision_free_on_its_offer(
    market, registry, chain, customer, newcomer
):
    job_id = post(market, chain, customer)
    a100_job = post(market, chain, customer, model=A100)
    with ape.reverts(market.GpuModelNotOffered, gpuModel=A100):
        market.placeBid(a100_job, crd(1), sender=newcomer)
    with ape.reverts(market.NotEnoughProvision, have=0, need=LOCK):
        market.placeBid(job_id, crd(1), sender=newcomer)
    market.setOffer(H100, 1, 80, LOCK - 1, sender=newcomer)
    with ape.reverts(market.InsufficientCapacity, available=1, requested=2):
        market.placeBid(job_id, crd(1), sender=newcomer)
    market.setOffer(H100, 2, 80, LOCK - 1, sender=newcomer)
    with ape.reverts(market.NotEnoughProvision, have=LOCK - 1, need=LOCK):
        market.placeBid(job_id, crd(1), sender=newcomer)
    market.setOffer(H100, 2, 80, LOCK, sender=newcomer)
    market.placeBid(job_id, crd(1), sender=newcomer)
    other = post(market, chain, customer)  # nothing left on the offer for a second job
    with ape.reverts(market.InsufficientCapacity, available=0, requested=2):
        market.placeBid(other, crd(1), sender=newcomer)


@pytest.mark.parametrize(
    ("terms", "calls"),
    [({}, []), ({"min_rep": 1}, ["reputationOf(address)"]), ({"region": EU}, ["regionOf(address)"])],
)
def test_a_bid_calls_the_ledger_only_for_what_the_job_asks(market, registry, chain, customer, providers, terms, calls):
    """The offer holds the model, memory, GPUs and provision: a plain job's bid calls no other
    contract; one that names a least reputation or a region asks the ledger for that alone."""
    job_id = post(market, chain, customer, **terms)
    tx = market.placeBid(job_id, crd(1), sender=providers[0])
    (module,) = trace_transaction(chain.provider, str(tx.txn_hash))["calls"]  # the auctions' DELEGATECALL
    made = [(c["to"].lower(), c["input"][:10]) for c in module.get("calls") or []]
    expected = [(registry.address.lower(), "0x" + function_signature_to_4byte_selector(s).hex()) for s in calls]
    assert (module["type"], made) == ("DELEGATECALL", expected)


def test_offers_go_on_while_paused(market, registry, admin, providers):
    """A provider can always take back what no job holds."""
    market.pause(sender=admin)
    market.setOffer(H100, 0, 80, 0, sender=providers[0])
    assert registry.freeStakeOf(providers[0]) == to_wei(10_000)


def test_a_failure_slashes_the_collateral_from_the_offers_provision(market, registry, chain, customer, providers):
    """The failed lease releases its 204.8 CMP lock and takes its 4.8 CMP collateral from the
    offer's provision, and the ledger takes the same from its own: both books agree to the wei."""
    job_id = leased_job(market, chain, customer, providers[0])
    chain.pending_timestamp += 11 * HOUR + HOUR + 1  # lease and result grace over, no result
    market.slashForFailure(job_id, sender=providers[1])
    assert tuple(market.offerOf(providers[0], H100)) == (to_wei(10_000) - crd("4.8"), 0, 8, 0, 80)
    assert registry.providerOf(providers[0]).provisioned == to_wei(10_000) - crd("4.8")
    assert registry.stakeOf(providers[0]) == to_wei(10_000) - crd("4.8")
    assert assert_locks_match_jobs(market, registry, providers, [job_id]) == 0


def test_a_best_bidder_with_room_for_one_lock_may_lower_its_own_bid(market, chain, customer, newcomer):
    """An offer of exactly the job's 2 GPUs and its 204.8 CMP: the bidder that leads may still
    undercut itself, since its own lock is released before the new bid takes it."""
    market.setOffer(H100, 2, 80, LOCK, sender=newcomer)
    job_id = post(market, chain, customer)
    market.placeBid(job_id, crd("1.80"), sender=newcomer)
    market.placeBid(job_id, crd("1.50"), sender=newcomer)
    assert tuple(market.offerOf(newcomer, H100)) == (LOCK, LOCK, 2, 2, 80)
    assert market.getJob(job_id).price == crd("1.50")
