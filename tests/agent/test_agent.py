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
    nonce = cheap.client.account.nonce
    cheap.ensure_provider("eu-west", 8, 80, Decimal(5_000))
    assert cheap.client.account.nonce == nonce  # nothing was missing: nothing sent
    view = cheap.client.provider()
    assert (view.registered, view.staked, view.provisioned, view.free) == (True, Decimal(5_000), Decimal(5_000), 0)
    offer = cheap.client.offer(None, "H100-80GB")  # all the stake provisioned for its one model
    assert (offer.provisioned, offer.locked, offer.gpus, offer.reserved, offer.vram_gb) == (Decimal(5_000), 0, 8, 0, 80)


def test_ensure_provider_provisions_what_it_is_told_and_what_the_stake_covers(protocol, accounts, fund, tmp_path):
    lines: list[str] = []
    fund(accounts[13])
    client = MarketClient(protocol, accounts[13])
    agent = ProviderAgent(client, "H100-80GB", CHEAP, tmp_path / "agent.json", log=lines.append)
    lines.clear()  # its start ("no state at …")
    try:
        agent.ensure_provider("eu-west", 4, 80, Decimal(3_000), provision=Decimal(1_200))
        assert (client.offer(None, "H100-80GB").provisioned, client.provider().free) == (Decimal(1_200), 1_800)
        agent.ensure_provider("eu-west", 4, 80, Decimal(3_000))  # default: all of the stake
        assert client.offer(None, "H100-80GB").provisioned == Decimal(3_000)
        assert lines == []
        agent.ensure_provider("eu-west", 4, 80, Decimal(3_000), provision=Decimal(500))  # given back
        client.request_unstake(Decimal(2_000))  # unbonding: no longer free
        agent.ensure_provider("eu-west", 6, 80, Decimal(3_000))  # covers 500 + 500 free only
        offer = client.offer(None, "H100-80GB")
        assert (offer.gpus, offer.provisioned, client.provider().free) == (6, Decimal(1_000), 0)
        assert lines == [
            "provision of H100-80GB: 1000 CMP, not 3000: the stake covers only 1000 CMP "
            "(free stake and the offer's provision)"
        ]
    finally:
        agent.close()


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


def test_the_agent_bids_only_on_jobs_its_free_provision_covers(
    protocol, accounts, fund, customer, fresh_price, tmp_path
):
    """A bid locks the job's collateral and per-GPU stake (100 CMP a GPU) of the offer's
    provision: with 250 CMP provisioned, the agent bids on a 2-GPU job (about 201 CMP), then
    skips a second one its free provision no longer covers, saying so, and sends nothing for it."""
    fresh_price()
    lines: list[str] = []
    fund(accounts[13])
    client = MarketClient(protocol, accounts[13])
    agent = ProviderAgent(client, "H100-80GB", CHEAP, tmp_path / "agent.json", log=lines.append)
    try:
        agent.ensure_provider("eu-west", 8, 80, Decimal(1_000), provision=Decimal(250))
        first = customer.post_job(JobRequest("H100-80GB", 2, Decimal(1), Decimal(3)))
        agent.step()
        lock = sum(client.bid_lock(first), Decimal(0))
        assert customer.job(first).provider == agent.me
        assert client.offer(None, "H100-80GB").locked == lock and Decimal(200) < lock < Decimal(250)
        second = customer.post_job(JobRequest("H100-80GB", 2, Decimal(1), Decimal(3), sealed=True))
        nonce = client.account.nonce
        done = agent.step()
        assert customer.job(second).bids == 0 and client.account.nonce == nonce
        need = sum(client.bid_lock(second), Decimal(0))  # its bond (the sealed bid bond) and 200 CMP
        assert need > Decimal(250) - lock
        assert done == [
            f"job {second}: a bid locks {need} CMP, the H100-80GB offer has {Decimal(250) - lock} CMP free, skipped"
        ]
        assert str(second) not in agent.state.commitments  # no salt kept for a bid never made
        lines.clear()
        agent.ensure_provider("eu-west", 8, 80, Decimal(1_000), provision=Decimal(100))  # below the lock
        assert client.offer(None, "H100-80GB").provisioned == lock  # as low as the market lets it go
        assert lines == [f"provision of H100-80GB: {lock} CMP, not 100: its bids lock {lock} CMP"]
    finally:
        agent.close()


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
