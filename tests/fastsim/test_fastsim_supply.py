"""Providers that enter and leave on profit in the block-level engine (issue 18, `--entry-exit`,
`compute_market/fastsim/supply.py`): the trailing P&L they decide on, and two small runs of the
same market, one valuing token rewards at the oracle price (the emission pays more than the
hardware costs: the entrants come in, nobody leaves) and one valuing them at nothing (every
provider loses money on the market alone and leaves)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from click.testing import CliRunner
from utils.helpers import load_script

from compute_market.economics import ProviderCosts, TrailingUtilisation
from compute_market.fastsim import FastSimConfig, run_attached
from compute_market.fastsim.actors import Provider
from compute_market.fastsim.aggregate import headline
from compute_market.fastsim.chain import GAS
from compute_market.fastsim.mirror import Mirror
from compute_market.fastsim.supply import DORMANT, LEFT, Snapshot, Supply, snapshot, trailing_pnl
from compute_market.simulation.config import Catalog
from compute_market.units import bytes32, to_wei

FASTSIM = load_script("fastsim")


@pytest.fixture(scope="module")
def h100_provider() -> Provider:
    catalog = Catalog.load()
    costs = ProviderCosts.from_catalog(catalog.models["H100-80GB"], catalog.electricity_usd_per_kwh)
    return Provider("0x" + "11" * 20, "honest", "H100-80GB", 8, 80, "", costs, Decimal("0.2"), TrailingUtilisation(24))


def test_the_trailing_pnl_counts_credits_rewards_at_the_price_and_every_owned_hour(h100_provider):
    """Between two snapshots 24 hours apart: 8 GPUs owned for 24 h (192 GPU-hours), 20 of them
    busy, 40 USD of credits and 10 CMP of rewards at 2.50: 65 USD of revenue against the ownership
    cost of 192 GPU-hours and the marginal cost of 20."""
    p = h100_provider
    then = Snapshot(Decimal(100), Decimal(5), Decimal(500), Decimal(60))
    now = Snapshot(Decimal(140), Decimal(15), Decimal(692), Decimal(80))
    profit, owned = trailing_pnl(p, then, now, Decimal("2.50"))
    cost = p.costs.ownership_per_hour() * 192 + p.costs.marginal_per_busy_hour() * 20
    assert owned == 192 and profit == Decimal(65) - cost < 0
    profit_at_zero, _ = trailing_pnl(p, then, now, Decimal(0))
    assert profit - profit_at_zero == Decimal(25)  # the rewards, and nothing else, move with the price
    assert snapshot(p) == Snapshot(Decimal(0), Decimal(0), Decimal(0), Decimal(0))
    assert snapshot(p, Decimal(3)).reward_tokens == Decimal(3)  # earned, not claimed yet


MODEL = bytes32("H100-80GB")


def _posted(mirror: Mirror, job_id: int, kind: int = 0) -> None:
    """Job `job_id`: 2 GPUs for an hour at 100 wei a GPU-hour (a lease of 200 credit wei, half
    of it collateral at 1 CMP a credit, 50 wei of stake per GPU: a lock of 200 CMP wei)."""
    mirror.collateral_bps, mirror.min_stake_per_gpu = 5_000, 50
    mirror.apply("JobMarket", "CollateralRateRead", {"tokensPerCredit": 10**18}, 0)
    posted = {"jobId": job_id, "customer": "0x" + "33" * 20, "gpuModel": MODEL, "gpuCount": 2}
    posted |= {"maxPricePerGpuHour": 100, "duration": 3600, "biddingEnd": 60, "kind": kind, "escrow": 200}
    mirror.apply("JobMarket", "JobPosted", posted, 0)


def test_the_mirror_follows_a_providers_offer_its_provision_and_the_slashes_it_takes():
    """1,000 CMP wei staked, 400 provisioned for 4 GPUs (`OfferSet`, the ledger's `Provisioned`),
    a bid locks 200 and 2 GPUs, 500 asked back: 100 free. The lease fails: its 100 of collateral
    leave the provision and the stake (`Slashed` takes the provision only, never the unbonding
    stake): 900 staked, 300 provisioned and nothing locked, 500 still unbonding, 100 free."""
    mirror, who = Mirror(), "0x" + "22" * 20
    mirror.apply("ProviderRegistry", "Staked", {"provider": who, "amount": 1000, "totalStaked": 1000}, 0)
    offer = {"provider": who, "gpuModel": MODEL, "gpus": 4, "vramGb": 80, "provisioned": 400}
    mirror.apply("JobMarket", "OfferSet", offer, 0)
    mirror.apply("ProviderRegistry", "Provisioned", {"provider": who, "delta": 400, "provisioned": 400}, 0)
    _posted(mirror, 1)
    assert (mirror.jobs[1].collateral, mirror.jobs[1].gpu_stake) == (100, 100)
    mirror.apply("JobMarket", "BidPlaced", {"jobId": 1, "provider": who, "pricePerGpuHour": 90, "collateral": 100}, 0)
    unstake = {"provider": who, "amount": 500, "totalUnbonding": 500, "unbondingEnd": 9}
    mirror.apply("ProviderRegistry", "UnstakeRequested", unstake, 0)
    held = mirror.offer(who, MODEL)
    assert (held.provisioned, held.locked, held.reserved, held.free(), held.available()) == (400, 200, 2, 200, 2)
    assert (mirror.locked(who), mirror.reserved(who), mirror.free_stake(who)) == (200, 2, 100)
    mirror.apply("ProviderRegistry", "Slashed", {"provider": who, "amount": 100, "burned": 0}, 0)
    failed = {"jobId": 1, "provider": who, "slashed": 100, "bounty": 0, "refund": 0}
    mirror.apply("JobMarket", "JobFailed", failed, 0)
    assert (mirror.staked[who], mirror.provisioned[who], mirror.unbonding[who]) == (900, 300, 500)
    assert (held.provisioned, held.locked, held.reserved) == (300, 0, 0) and mirror.offered(who) == 300
    assert mirror.free_stake(who) == 100 and mirror.provider_slashed == 100
    mirror.apply("ProviderRegistry", "Unstaked", {"provider": who, "amount": 500}, 0)
    assert (mirror.staked[who], mirror.unbonding[who], mirror.free_stake(who)) == (400, 0, 100)


def test_the_mirror_moves_sealed_locks_as_the_market_does():
    """Three commitments on a sealed job each lock 200 and 2 GPUs. A reveals best; B reveals lower
    and becomes best (A released); C reveals higher (C released); D's lapsed bond is forfeited:
    released and its 100 of collateral off its provision. The job settles: B released."""
    mirror = Mirror()
    a, b, c, d = ("0x" + k * 20 for k in ("aa", "bb", "cc", "dd"))
    for who in (a, b, c, d):
        offer = {"provider": who, "gpuModel": MODEL, "gpus": 8, "vramGb": 80, "provisioned": 1000}
        mirror.apply("JobMarket", "OfferSet", offer, 0)
    _posted(mirror, 7, kind=1)
    for who in (a, b, c, d):
        mirror.apply("JobMarket", "BidCommitted", {"jobId": 7, "provider": who, "commitment": bytes(32)}, 0)
    assert all(mirror.locked(w) == 200 and mirror.reserved(w) == 2 for w in (a, b, c, d))
    for who, price, best in ((a, 90, True), (b, 80, True), (c, 95, False)):
        reveal = {"jobId": 7, "provider": who, "pricePerGpuHour": price, "isBest": best}
        mirror.apply("JobMarket", "BidRevealed", reveal, 0)
    mirror.apply("JobMarket", "BondForfeited", {"jobId": 7, "provider": d, "amount": 100}, 0)
    assert [mirror.locked(w) for w in (a, b, c, d)] == [0, 200, 0, 0]
    assert mirror.offer(d, MODEL).provisioned == 900 and mirror.offer(b, MODEL).reserved == 2
    mirror.apply("JobMarket", "JobSettled", {"jobId": 7, "provider": b, "providerGross": 0, "refund": 0}, 0)
    assert (mirror.locked(b), mirror.reserved(b), mirror.offer(b, MODEL).provisioned) == (0, 0, 1000)


def test_a_window_shorter_than_a_reward_epoch_or_a_step_that_splits_the_hour_is_refused():
    """Rewards are earned a day at a time: a shorter window would see costs without their rewards;
    decisions come on hourly records, so the step must divide the hour (`--step-minutes 45` is
    refused in one line naming the option)."""
    with pytest.raises(ValueError, match="exit_window_hours must span a reward epoch"):
        Supply(window=12)
    assert Supply(window=24).window == 24
    answer = CliRunner(mix_stderr=False).invoke(FASTSIM.cli, ["--entry-exit", "--step-minutes", "45"])
    assert answer.exit_code == 2 and "--step-minutes" in answer.stderr and "divide 60" in answer.stderr
    assert "Traceback" not in answer.stderr


MARKET = FastSimConfig(
    seed=3,
    providers=4,
    customers=4,
    verifiers=0,
    days=2,
    step_minutes=30,
    jobs_per_customer_hour=0.5,
    gpu_mix={"H100-80GB": 0.5, "L4-24GB": 0.5},
    cheat_fake_rate=0.0,
    cheat_abandon_rate=0.0,
    series=False,
    raw_rate_calls=100,
    raw_rate_txs=50,
    entry_exit=True,
    entrants=2,
)


@pytest.fixture(scope="module")
def runs(project, tmp_path_factory):
    """The same market with token rewards in the decisions and without."""
    valued = run_attached(MARKET, project, tmp_path_factory.mktemp("supply-rewards"))
    no_rewards = replace(MARKET, rewards_in_decisions=False)
    unvalued = run_attached(no_rewards, project, tmp_path_factory.mktemp("supply-none"))
    return valued, unvalued


def _chain(sim, function, address):
    return sim.chain.calls([("ProviderRegistry", function, (address,))])[0][0]


def test_while_the_emission_pays_for_the_hardware_the_entrants_come_in(runs):
    """Rewards at the oracle price: the incumbents made money over the first window, so one entrant
    a simulated hour stakes and starts bidding. A provider leaves only on a losing window. Every
    stake and unstake went through (no transaction reverted). An entrant's costs start when it enters:
    it owned its GPUs from the step that sent its stake (half an hour after the hour it decided)
    to the end, not for the whole run."""
    (sim, report), _ = runs
    supply = report["supply"]
    assert [e["hour"] for e in supply["entries"]] == [25, 26]  # after the first 24-hour window, one an hour
    assert all(Decimal(e["trailing_pnl_usd"]) < 0 and e["hour"] >= 25 for e in supply["exits"])
    assert sum(sim.reverted.values()) == 0
    states = supply["providers_by_state"]
    assert states.get("active", 0) + states.get("left", 0) + states.get("leaving", 0) == MARKET.providers + 2
    hours = MARKET.days * 24
    for entry in supply["entries"]:
        p = sim.provider_of[entry["provider"]]
        assert _chain(sim, "stakeOf", p.address) == to_wei(MARKET.provider_stake) - p.slashed_cmp
        # owned from the step that sends its stake, the first after the hour it decided: 8 GPUs for 22.5 h
        assert p.ledger.owned_gpu_hours == p.gpu_count * (hours - entry["hour"] - Decimal(MARKET.step_minutes) / 60)
    figures = headline(report)
    assert (figures["supply.entries"], figures["supply.exits"]) == (2, len(supply["exits"]))


def test_without_the_emission_every_provider_loses_money_and_leaves(runs):
    """Rewards at nothing: at this market's utilisation every incumbent's P&L over a window goes
    negative (from hour 25, the first full window), so each stops bidding and, its leases over,
    withdraws its offer, takes its provision back and asks to unstake all its stake (on chain:
    nothing provisioned or free, all of it unbonding). An entrant comes
    in only on a window in which the incumbents still staying made money (the leaving ones do not
    count); the ones that never came stay without stake or cost. Jobs posted once the market
    emptied find nobody."""
    _, (sim, report) = runs
    supply = report["supply"]
    assert len(supply["exits"]) == MARKET.providers
    assert all(e["hour"] >= 25 and Decimal(e["trailing_pnl_usd"]) < 0 for e in supply["exits"])
    assert sum(sim.reverted.values()) == 0
    entered = {e["provider"] for e in supply["entries"]}
    for p in sim.providers:
        if p.address in entered or p.state != DORMANT:
            continue
        assert p.ledger.owned_gpu_hours == 0 and _chain(sim, "stakeOf", p.address) == 0
    for exit_ in supply["exits"]:
        p = sim.provider_of[exit_["provider"]]
        assert p.state == LEFT and _chain(sim, "freeStakeOf", p.address) == 0
        offer = sim.chain.calls([("JobMarket", "offerOf", (p.address, bytes32(p.gpu_model)))])[0][0]
        assert tuple(offer) == (0, 0, 0, 0, p.vram_gb) and sim.mirror.offered(p.address) == 0
        assert _chain(sim, "stakeOf", p.address) == sim.mirror.unbonding[p.address] > 0
    assert report["jobs"]["by_status"].get("EXPIRED", 0) > 0


def _offers(sim) -> list[tuple[int, int]]:
    """(provision set, gas used) of every `setOffer` the run mined, in chain order."""
    chain = sim.chain
    market, prefix = chain.address("JobMarket"), chain.codecs["JobMarket"].fn("setOffer").prefix
    numbers = range(chain.deployment.block, chain.head()[0] + 1)
    blocks = chain.rpc.batch([("eth_getBlockByNumber", [hex(n), True]) for n in numbers])
    sent = [t for b in blocks for t in b["transactions"] if (t["to"] or "").lower() == market]
    sent = [t for t in sent if t["input"].startswith(prefix)]
    receipts = chain.rpc.batch([("eth_getTransactionReceipt", [t["hash"]]) for t in sent])
    return [(int(t["input"][-64:], 16), int(r["gasUsed"], 16)) for t, r in zip(sent, receipts, strict=True)]


def test_offers_provision_the_whole_stake_and_use_under_half_their_gas_limit(runs):
    """Every `setOffer` of both runs: a provider's first (at set-up or on entry) provisions all
    it staked, a leaving one's takes it all back; each used at most half its fixed gas limit
    (`chain.GAS`; about 69,000 for a first offer, 117,900 for the first offer of a model, 48,800
    for a withdrawal)."""
    for sim, report in runs:
        offers = _offers(sim)
        stake = to_wei(MARKET.provider_stake)
        assert [p for p, _ in offers].count(stake) == MARKET.providers + len(report["supply"]["entries"])
        assert [p for p, _ in offers].count(0) == sum(p.state == LEFT for p in sim.providers)
        assert all(2 * gas <= GAS["setOffer"] for _, gas in offers)
