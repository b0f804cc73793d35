"""The provider agent, in process: cost model, open and sealed bidding, serving, restarts."""

from __future__ import annotations

from contextlib import contextmanager
from decimal import Decimal

import pytest

from compute_market.agent import CostModel, ProviderAgent
from compute_market.client import MarketClient
from compute_market.models import JobRequest, JobStatus
from compute_market.units import DAY, HOUR

CHEAP = CostModel(Decimal("0.10"), Decimal("700"), Decimal("25000"), Decimal("26280"), Decimal("0.10"))
DEAR = CostModel(Decimal("0.20"), Decimal("700"), Decimal("30000"), Decimal("26280"), Decimal("0.20"))


def test_cost_model_prices_energy_and_amortisation():
    # 0.7 kW * 0.10 USD + 25,000 / 26,280 h = 0.07 + 0.9513 = 1.0213 USD per GPU-hour, +10%.
    assert CHEAP.cost_per_gpu_hour().quantize(Decimal("0.0001")) == Decimal("1.0213")
    assert CHEAP.ask() == Decimal("1.1234")
    assert DEAR.ask() == Decimal("1.5379")


@contextmanager
def cheap_and_dear_agents(protocol, accounts, fund, folder, slots, make_log):
    """Two registered, staked H100 agents on accounts `slots` (the cheap one first), each
    logging to `make_log()`; closed (their state files' locks released) on exit."""
    made = []
    try:
        for i, cost in zip(slots, (CHEAP, DEAR), strict=True):
            account = accounts[i]
            fund(account)
            log = make_log()
            agent = ProviderAgent(
                MarketClient(protocol, account), "H100-80GB", cost, folder / f"agent-{i}.json", log=log
            )
            agent.ensure_provider("eu-west", 8, 80, Decimal(5_000))
            made.append(agent)
        yield made
    finally:
        for agent in made:
            agent.close()


@pytest.fixture
def agents(protocol, accounts, fund, tmp_path):
    with cheap_and_dear_agents(protocol, accounts, fund, tmp_path, (11, 12), lambda: lambda _line: None) as made:
        yield made


@pytest.fixture
def customer(protocol, accounts, fund):
    account = accounts[10]
    fund(account)
    client = MarketClient(protocol, account)
    client.mint_credits(Decimal(2_000))
    return client


def settle_down(agents, rounds: int = 30) -> None:
    for _ in range(rounds):
        if not any([agent.step() for agent in agents]):
            return


def test_ensure_provider_is_idempotent(agents):
    cheap = agents[0]
    cheap.ensure_provider("eu-west", 8, 80, Decimal(5_000))
    view = cheap.client.provider()
    assert (view.registered, view.staked) == (True, Decimal(5_000))


def test_open_auction_goes_to_the_cheaper_agent_near_the_dearer_ask(agents, customer, chain, fresh_price):
    fresh_price()
    job_id = customer.post_job(JobRequest("H100-80GB", 2, Decimal(4), Decimal(3), bidding_seconds=HOUR))
    settle_down(agents)
    job = customer.job(job_id)
    assert job.provider == agents[0].me
    # The dearer agent stops at its ask (1.5379): the winning price is one the dearer agent cannot
    # beat by the 1% decrement, and at most one 5% step below its last bid.
    assert DEAR.ask() * Decimal("0.95") <= job.price_per_gpu_hour < DEAR.ask() / Decimal("0.99")
    chain.pending_timestamp += HOUR
    chain.mine()  # agents read the head block's time
    settle_down(agents)
    assert customer.job(job_id).status == JobStatus.LEASED
    chain.pending_timestamp += 4 * HOUR
    chain.mine()  # agents read the head block's time
    settle_down(agents)
    assert customer.job(job_id).status == JobStatus.RESULT_SUBMITTED
    chain.pending_timestamp += DAY
    chain.mine()  # agents read the head block's time
    before = agents[0].client.balances()["CRD"]
    settle_down(agents)
    assert customer.job(job_id).status == JobStatus.SETTLED
    value = job.price_per_gpu_hour * 2 * 4
    assert agents[0].client.balances()["CRD"] - before == value * Decimal("0.99")
    assert agents[0].state.tracked == [] and agents[1].state.tracked == []


def test_jobs_below_the_ask_or_for_other_gpus_are_ignored(agents, customer, fresh_price):
    fresh_price()
    cheap_job = customer.post_job(JobRequest("H100-80GB", 1, Decimal(1), Decimal("1.00")))
    other_gpu = customer.post_job(JobRequest("A100-40GB", 1, Decimal(1), Decimal(5)))
    settle_down(agents)
    assert customer.job(cheap_job).bids == 0
    assert customer.job(other_gpu).bids == 0


def test_sealed_auction_restart_between_commit_and_reveal_still_wins(
    agents, customer, chain, fresh_price, protocol, tmp_path
):
    fresh_price()
    job_id = customer.post_job(JobRequest("H100-80GB", 2, Decimal(2), Decimal(3), sealed=True))
    settle_down(agents)  # both commit at their asks
    assert all(str(job_id) in a.state.commitments for a in agents)
    cheap = agents[0]
    # The cheap agent is killed (its lock goes with it): a new process reads the same state file.
    cheap.close()
    restarted = ProviderAgent(cheap.client, "H100-80GB", CHEAP, cheap.state_path, log=lambda _l: None)
    assert restarted.state.commitments == cheap.state.commitments
    chain.pending_timestamp += HOUR
    chain.mine()  # agents read the head block's time
    fresh_price()
    settle_down([restarted, agents[1]])
    chain.pending_timestamp += HOUR
    chain.mine()  # agents read the head block's time
    settle_down([restarted, agents[1]])
    job = customer.job(job_id)
    # Lowest revealed price wins and is paid the second-lowest: the dearer agent's ask.
    assert (job.provider, job.price_per_gpu_hour) == (cheap.me, DEAR.ask())
    assert job.status == JobStatus.LEASED
