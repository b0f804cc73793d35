"""Adversaries as agents with their own P&L in the fast engine (issue 18): a wash trader, a lowball
bidder and a shill-bidding customer, beside the existing fake-result providers and lazy verifiers;
a jury grinder and a sybil verifier farm (`fastsim/adversaries_jury.py`).

Two small runs on the test session's anvil, a little over a simulated day (so that the wash trader's
first epoch is over and it claims its work rewards), few actors and 30-minute blocks to keep them
short: one with the market adversaries, one with the jury adversaries (a grinder challenges every
honest result, which would change the others' markets); the mirror is checked against the chain at
the end of each as in every run."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from decimal import Decimal

import pytest
from click.testing import CliRunner
from rich.console import Console
from utils.helpers import load_script

from compute_market.fastsim import FastSimConfig, run_attached
from compute_market.fastsim.adversaries import parse_adversaries
from compute_market.fastsim.adversaries_jury import GRINDER_IDENTITIES, SYBIL_IDENTITIES
from compute_market.fastsim.aggregate import aggregate, headline
from compute_market.fastsim.books import GasBook
from compute_market.fastsim.mirror import OPEN, Bond, Status
from compute_market.fastsim.report import print_summary
from compute_market.fastsim.runner import RAW_REPEATS
from compute_market.fastsim.verifiers import is_honest
from compute_market.models import DisputeStatus
from compute_market.units import HOUR, from_wei, to_wei

ADVERSARIAL = FastSimConfig(
    seed=5,
    providers=3,
    customers=3,
    verifiers=2,
    lazy_verifier_rate=0.5,
    days=1.25,
    step_minutes=30,
    bidding_minutes=50,
    jobs_per_customer_hour=0.4,
    gpu_mix={"H100-80GB": 1.0},  # one model: every adversary meets the market's providers
    cheat_fake_rate=0.34,  # one of the three providers fakes results
    cheat_abandon_rate=0.0,
    series=False,
    raw_rate_calls=100,
    raw_rate_txs=50,
    adversaries={"wash": 1, "lowball": 1, "shill": 1},
    gas_price_gwei=2.0,  # each adversary pays its own transactions' gas: 2 gwei at 3,000 USD per ETH
    eth_usd=3_000.0,
)
USD_PER_GAS = Decimal(2) * 3_000 / 10**9


def _gas_usd(details, key="gas_used"):
    """The row's gas at the runs' price, to the cent as the books give it."""
    return (details[key] * USD_PER_GAS).quantize(Decimal("0.01"))


JURY = replace(
    ADVERSARIAL,
    verifiers=3,
    lazy_verifier_rate=0.0,
    verifier_unstake_per_day=0.0,
    adversaries={"grinder": 1, "sybil": 1},
)


@pytest.fixture(scope="module")
def adversarial_run(project, tmp_path_factory):
    return run_attached(ADVERSARIAL, project, tmp_path_factory.mktemp("adversaries"))


@pytest.fixture(scope="module")
def jury_run(project, tmp_path_factory):
    return run_attached(JURY, project, tmp_path_factory.mktemp("jury-adversaries"))


def _rows(report, kind):
    return [row for row in report["adversaries"] if row["kind"] == kind]


def test_parse_adversaries():
    assert parse_adversaries("wash=1, lowball=2,shill") == {"wash": 1, "lowball": 2, "shill": 1}
    assert parse_adversaries("grinder=1,sybil=2") == {"grinder": 1, "sybil": 2}
    assert parse_adversaries("") == {} and parse_adversaries(None) == {}
    with pytest.raises(ValueError, match="unknown adversary"):
        parse_adversaries("bribe=3")


def test_gas_is_priced_at_the_settings_and_a_negative_price_is_refused():
    """2 gwei at 3,000 USD an ETH: a million gas costs 6 USD; `--gas-price-gwei -1` is refused in
    one line naming the option."""
    book = GasBook.priced(2.0, 3_000.0)
    book.used["0xa"] += 600_000
    book.used["0xb"] += 400_000
    assert book.gas(["0xa", "0xb", "0xc"]) == 1_000_000 and book.usd(1_000_000) == Decimal(6)
    answer = CliRunner(mix_stderr=False).invoke(load_script("fastsim").cli, ["--gas-price-gwei", "-1"])
    assert answer.exit_code == 2 and "--gas-price-gwei" in answer.stderr and "Traceback" not in answer.stderr


def test_the_wash_trader_settles_its_own_jobs_and_claims_at_a_loss(adversarial_run):
    sim, report = adversarial_run
    assert sim.adversaries is not None
    (wash,) = sim.adversaries.washers
    jobs = [sim.mirror.jobs[j] for j in wash.jobs]
    assert len(jobs) > 5
    settled = [j for j in jobs if j.status == Status.SETTLED]
    assert settled and all(j.provider == wash.provider and j.price == j.max_price for j in settled)
    assert sim.sent["adversary claim"] >= 1 and sim.adversaries.activity[wash.provider] > 0  # it claimed work rewards
    (row,) = _rows(report, "wash")
    details = row["details"]
    assert row["addresses"] == [wash.customer.address, wash.provider]
    assert Decimal(details["stake_rewards_cmp_excluded"]) > 0  # claimed, but left out of its P&L
    assert Decimal(row["gained_usd"]) > 0
    # the work reward is capped by the fee the job paid: it never covers the fee
    assert Decimal(row["gained_usd"]) < Decimal(details["fees_usd"])
    assert details["gas_used"] > 0 and Decimal(details["gas_usd"]) == _gas_usd(details)
    spent = Decimal(details["fees_usd"]) + Decimal(details["mint_spread_usd"]) + Decimal(details["redeem_spread_usd"])
    assert abs(spent + Decimal(details["gas_usd"]) - Decimal(row["spent_usd"])) <= Decimal("0.03")
    assert Decimal(row["net_usd"]) < 0 and row["stopped_by"] == "the fee cap"


def test_the_lowball_bidder_wins_below_cost_and_loses(adversarial_run):
    sim, report = adversarial_run
    assert sim.adversaries is not None
    (low,) = sim.adversaries.lowballers
    leases = [j for j in sim.mirror.jobs.values() if j.provider == low.address and j.lease_start]
    assert leases
    # open auctions clear at its bid, below its marginal cost (sealed ones at the second price);
    # it cannot bid at zero risk: the collateral is priced from the job's max price, not its bid
    open_leases = [j for j in leases if j.kind == OPEN]
    assert open_leases and all(from_wei(j.price) < low.costs.marginal_per_busy_hour() for j in open_leases)
    price = sim.token_price()
    assert all(
        from_wei(j.collateral) * price > from_wei(j.price * j.gpu_count * j.duration // HOUR) for j in open_leases
    )
    (row,) = _rows(report, "lowball")
    assert Decimal(row["details"]["busy_gpu_hours"]) > 0
    assert row["details"]["gas_used"] > 0 and Decimal(row["details"]["gas_usd"]) == _gas_usd(row["details"])
    assert Decimal(row["net_usd"]) < 0 and row["stopped_by"].startswith("collateral")


def test_the_shill_bidder_commits_from_its_own_providers(adversarial_run):
    """The shill commits on its own sealed auctions from its staked provider addresses and reveals
    only bids that cannot win. Its P&L is reported whatever its sign: a shill that reveals whenever
    it cannot win gets its bond back, so it can come out ahead (docs/fastsim.md, "Adversaries")."""
    sim, report = adversarial_run
    assert sim.adversaries is not None
    (shill,) = sim.adversaries.shills
    assert shill.bids and all(a in sim.mirror.registered for a in shill.providers)
    assert shill.revealed and shill.revealed <= set(shill.bids)
    for job_id in shill.revealed:  # a revealed shill never won its own job
        assert sim.mirror.jobs[job_id].provider not in shill.providers
    commitments = [sim.mirror.jobs[j].commitments.get(a) for j, (a, _p, _s) in shill.bids.items()]
    assert any(c is not None and c.state != Bond.COMMITTED for c in commitments)
    for a in shill.providers:  # its books against the chain: the stake less the bonds it saw forfeited
        stake = sim.chain.calls([("ProviderRegistry", "stakeOf", (a,))])[0][0]
        assert stake == to_wei(sim.cfg.provider_stake) - sim.adversaries.forfeited_cmp[a]
    (row,) = _rows(report, "shill")
    assert row["addresses"] == [shill.customer.address, *shill.providers]
    assert row["details"]["shill_commitments"] == len(shill.bids)
    assert Decimal(row["net_usd"]) == Decimal(row["gained_usd"]) - Decimal(row["spent_usd"])
    # its shill providers' gas (a commitment alone is over 100,000), not the customer's own jobs'
    details = row["details"]
    assert details["gas_used"] > 100_000 * len(shill.bids) and Decimal(details["gas_usd"]) == _gas_usd(details)
    spent = Decimal(details["bonds_forfeited_usd"]) + Decimal(details["gas_usd"])
    assert abs(spent - Decimal(row["spent_usd"])) <= Decimal("0.01")
    assert sim.adversaries.gas.gas([shill.customer.address]) > 0  # booked, but not the attack's
    # what stopped it: the bonds it lost where they outweigh its saving, else only its gas
    if Decimal(row["net_usd"]) < 0:
        by_rule = Decimal(row["gained_usd"]) < Decimal(details["bonds_forfeited_usd"])
        assert row["stopped_by"] == ("lapsed bonds go to the treasury" if by_rule else "the gas of its commitments")
    else:
        assert row["stopped_by"].startswith(("not stopped", "nothing"))


def _every_transaction_booked(sim):
    """Each adversary address's booked transactions are all it ever sent: its nonce on chain, less
    the approvals the run's raw-rate measurement sent from the market's addresses after the run
    (the lowball bidder is one of its providers)."""
    holders = [c.address for c in sim.customers] + [p.address for p in sim.providers]
    raw = Counter(holders[i % len(holders)] for _ in range(RAW_REPEATS) for i in range(sim.cfg.raw_rate_txs))
    watched = sorted(sim.adversaries.gas_senders())
    counts = sim.chain.rpc.batch([("eth_getTransactionCount", [a, "latest"]) for a in watched])
    assert {a: sim.adversaries.gas.sent[a] + raw[a] for a in watched} == {
        a: int(n, 16) for a, n in zip(watched, counts, strict=True)
    }


def test_the_report_carries_every_adversary_and_the_sweep_figures(adversarial_run):
    sim, report = adversarial_run
    kinds = {row["kind"] for row in report["adversaries"]}
    assert {"wash", "lowball", "shill", "fake", "lazy"} <= kinds
    _every_transaction_booked(sim)
    for row in report["adversaries"]:
        assert set(row) == {"kind", "addresses", "spent_usd", "gained_usd", "net_usd", "stopped_by", "details"}
        assert Decimal(row["net_usd"]) == Decimal(row["gained_usd"]) - Decimal(row["spent_usd"])
    assert report["config"]["adversaries"] == {"wash": 1, "lowball": 1, "shill": 1}
    assert report["checked"]  # the mirror matched the chain at the end
    figures = headline(report)
    for kind in ("wash", "lowball", "shill"):
        assert figures[f"adversary.{kind}.net_usd"] == float(_rows(report, kind)[0]["net_usd"])
        assert figures[f"adversary.{kind}.gas_used"] == _rows(report, kind)[0]["details"]["gas_used"]
    agg = aggregate({5: report, 6: report})
    assert agg["figures"]["adversary.wash.net_usd"]["median"] == figures["adversary.wash.net_usd"]
    console = Console(record=True, width=200)
    print_summary(console, report)
    text = console.export_text()
    assert "adversaries (P&L in USD)" in text
    assert all(row["net_usd"] in text for row in report["adversaries"])


def _chain(sim, contract, function, address):
    return sim.chain.calls([(contract, function, (address,))])[0][0]


def test_the_jury_grinder_votes_fault_only_with_a_captured_jury_and_its_books_match_the_chain(jury_run):
    """The grinder challenges honest results from its own staked challenger; its identities vote
    "at fault" exactly on the juries where they hold a majority, which then decide so. Its books
    match the chain: each identity's CMP wallet is the jury shares, finder's cuts and rewards it
    was seen to receive, its stake what it staked less the slashes seen; the challenger's credits
    are what it minted less the bonds it paid plus those returned. The row adds up; its sign is
    not asserted (docs/fastsim.md, "Adversaries")."""
    sim, report = jury_run
    assert sim.adversaries is not None and sim.adversaries.jury is not None
    jury = sim.adversaries.jury
    (g,) = jury.grinders
    review = sim.mirror.review
    assert len(g.identities) == GRINDER_IDENTITIES and len(g.challenged) >= 3
    for job_id in g.challenged:
        assert is_honest(sim.mirror.jobs[job_id])  # it challenges honest results only
        assert review.disputes[job_id].challenger == g.challenger.address
    decided = [
        j for j in g.challenged if review.disputes[j].status == DisputeStatus.RESOLVED and review.disputes[j].by_jury
    ]
    assert decided and any(g.captured[j] for j in decided)
    for job_id in decided:
        d = review.disputes[job_id]
        mine = [b for juror, b in d.jurors.items() if juror in g.addresses]
        assert g.seats[job_id] == sum(b.seats for b in mine)  # one vote a seat
        assert all(b.revealed and b.fault == g.captured[job_id] for b in mine)
        assert d.fault == g.captured[job_id]  # a captured jury convicts an honest provider
    for identity in g.identities:
        a, books = identity.address, jury.books[identity.address]
        staked = int(_chain(sim, "ProviderRegistry", "verifierOf", a)[0])
        assert staked == to_wei(JURY.verifier_stake) - books.slashed_cmp == review.verifier_stake[a]
        wallet = int(_chain(sim, "ComputeToken", "balanceOf", a))
        assert wallet == books.jury_cmp + books.ledger_cmp + books.activity_cmp + books.stake_cmp
    credits = int(_chain(sim, "ComputeCredits", "balanceOf", g.challenger.address))
    assert credits == g.minted_crd - g.bonds_paid + g.bonds_returned
    assert g.bonds_paid == len(g.challenged) * sim.challenge_bond
    (row,) = _rows(report, "grinder")
    details = row["details"]
    assert row["addresses"] == [g.challenger.address, *sorted(g.addresses)]
    assert details["challenges"] == len(g.challenged) and details["juries_captured"] == sum(g.captured.values())
    assert details["fault_verdicts"] == sum(1 for j in decided if review.disputes[j].fault)
    spent = sum(Decimal(details[k]) for k in ("bonds_lost_usd", "identities_slashed_usd", "mint_spread_usd", "gas_usd"))
    gained = sum(Decimal(details[k]) for k in ("jury_rewards_usd", "jackpots_usd", "finder_cuts_usd"))
    assert abs(spent - Decimal(row["spent_usd"])) <= Decimal("0.04")
    assert details["gas_used"] > 150_000 * details["challenges"]  # a challenge alone is about 175,000
    assert Decimal(details["gas_usd"]) == _gas_usd(details)
    assert abs(gained - Decimal(row["gained_usd"])) <= Decimal("0.03")
    assert Decimal(details["honest_jurors_penalised_cmp"]) > 0  # what its captured juries took
    assert row["stopped_by"].startswith("not stopped") == (Decimal(row["net_usd"]) >= 0)


def test_the_sybil_farm_splits_one_verifiers_stake_and_is_scored_against_a_control(jury_run):
    """The farm stakes one verifier's capital over its identities, the control the same in one;
    neither unstakes. Their stakes, CMP wallets and credits on chain are what the books say, and
    the row is the farm's net less the control's and less the gas its extra identities used."""
    sim, report = jury_run
    assert sim.adversaries is not None and sim.adversaries.jury is not None
    jury = sim.adversaries.jury
    (farm,) = jury.farms
    review = sim.mirror.review
    assert len(farm.identities) == SYBIL_IDENTITIES
    members = [(i, to_wei(JURY.verifier_stake) // SYBIL_IDENTITIES) for i in farm.identities]
    for identity, stake in [*members, (farm.control, to_wei(JURY.verifier_stake))]:
        a, books = identity.address, jury.books[identity.address]
        assert identity in sim.reviewing.verifiers and a not in review.unbonding
        staked = int(_chain(sim, "ProviderRegistry", "verifierOf", a)[0])
        assert staked == stake - books.slashed_cmp == review.verifier_stake[a]
        wallet = int(_chain(sim, "ComputeToken", "balanceOf", a))
        assert wallet == books.jury_cmp + books.ledger_cmp + books.activity_cmp + books.stake_cmp
        assert int(_chain(sim, "ComputeCredits", "balanceOf", a)) == sim.mirror.balances["CRD"][a]
    assert sum(jury.books[i.address].stake_cmp for i in farm.identities) > 0  # they claimed stake rewards
    (row,) = _rows(report, "sybil")
    details = row["details"]
    assert row["addresses"] == [i.address for i in farm.identities]
    assert details["farm_jury_seats"] + details["control_jury_seats"] > 0
    farm_net, control_net = Decimal(details["farm_net_usd"]), Decimal(details["control_net_usd"])
    extra_gas = Decimal(details["extra_gas_usd"])
    assert abs(Decimal(row["net_usd"]) - (farm_net - control_net - extra_gas)) <= Decimal("0.03")
    # splitting costs gas: five identities register, stake, claim and vote where one would
    assert details["farm_gas_used"] > details["control_gas_used"] > 0
    assert details["extra_gas_used"] == details["farm_gas_used"] - details["control_gas_used"]
    _every_transaction_booked(sim)
    extra = (details["farm_gas_used"] - details["control_gas_used"]) * USD_PER_GAS
    assert abs(Decimal(details["extra_gas_usd"]) - extra) <= Decimal("0.01")
    spent = Decimal(details["farm_slashed_usd"]) + control_net + Decimal(details["extra_gas_usd"])
    assert abs(spent - Decimal(row["spent_usd"])) <= Decimal("0.02")


def test_the_jury_adversaries_are_in_the_report_and_the_sweep_figures(jury_run):
    _, report = jury_run
    assert report["checked"]  # the mirror matched the chain at the end
    assert report["config"]["adversaries"] == {"grinder": 1, "sybil": 1}
    figures = headline(report)
    for kind in ("grinder", "sybil"):
        (row,) = _rows(report, kind)
        assert Decimal(row["net_usd"]) == Decimal(row["gained_usd"]) - Decimal(row["spent_usd"])
        assert figures[f"adversary.{kind}.net_usd"] == float(row["net_usd"])
    console = Console(record=True, width=200)
    print_summary(console, report)
    text = console.export_text()
    assert all(row["net_usd"] in text for row in report["adversaries"])
