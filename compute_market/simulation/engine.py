"""The market simulation: providers (honest and cheating agents), customers, verifiers and
jurors playing the deployed protocol hour by hour on a local chain, with anvil's clock moved
forward between hours."""

from __future__ import annotations

import random
import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypedDict, TypeVar

from ape import accounts, chain

from compute_market.agent import ProviderAgent, honest_result
from compute_market.client import MarketClient
from compute_market.deployment import Deployer, market_deploy_block
from compute_market.errors import MarketError
from compute_market.models import Attestation, DisputeStatus, JobRequest, JobStatus, JobView
from compute_market.simulation.actors import CheatingAgent, Customer, Verifier, draw_cost_model
from compute_market.simulation.config import Catalog, SimConfig
from compute_market.units import HOUR, from_wei, to_wei

START_TIME = 1_893_456_000  # 2030-01-01 00:00 UTC: a fixed clock makes runs repeatable
REGIONS = ("eu-west", "us-east")
TERMINAL = {JobStatus.SETTLED, JobStatus.CANCELLED, JobStatus.EXPIRED, JobStatus.FAILED}

T = TypeVar("T")


class _AgentOptions(TypedDict):
    """The keyword arguments every simulated provider agent gets (see `ProviderAgent`)."""

    log: Callable[[str], None]
    step: Decimal
    salt_fn: Callable[[], bytes]


@dataclass
class Tick:
    """What the market looked like at the end of one simulated hour."""

    hour: int
    block: int
    timestamp: int
    jobs_posted: int
    statuses: dict[str, int]
    utilization: float
    cmp_supply: Decimal
    crd_supply: Decimal
    clearing: dict[str, list[Decimal]]
    reference: dict[str, Decimal]


@dataclass
class RunState:
    """Everything the run accumulates for the report."""

    ticks: list[Tick] = field(default_factory=list)
    gas_by_actor: Counter[str] = field(default_factory=Counter)
    tx_by_actor: Counter[str] = field(default_factory=Counter)
    cheats: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    credits_minted: Decimal = Decimal(0)
    challenges: int = 0
    wall_seconds: float = 0.0
    anvil_tx_per_second: float = 0.0


class Simulation:
    def __init__(
        self,
        project: Any,
        config: SimConfig,
        out_dir: Path,
        progress: Callable[[int, int, Tick], None] | None = None,
    ) -> None:
        self.project = project
        self.cfg = config
        self.out = out_dir
        self.rng = random.Random(config.seed)
        self.catalog = Catalog.load()
        self.state = RunState()
        self.progress = progress
        self.actor_type: dict[str, str] = {}
        self.price_usd = Decimal("2.50")

    # ================================================================== set-up

    def _client(self, account: Any, kind: str) -> MarketClient:
        self.actor_type[account.address] = kind

        def count(receipt: Any, kind: str = kind) -> None:
            self.state.gas_by_actor[kind] += receipt.gas_used
            self.state.tx_by_actor[kind] += 1

        return MarketClient(self.protocol, account, on_receipt=count)

    def setup(self) -> None:
        cfg = self.cfg
        needed = 1 + cfg.providers + cfg.customers + cfg.verifiers
        pool = list(accounts.test_accounts)
        if needed > len(pool):
            raise ValueError(f"{needed} actors need {needed} test accounts; ape-config.yaml has {len(pool)}")
        shutil.rmtree(self.out / "agents", ignore_errors=True)  # a new chain: agents start afresh
        # Block times must not follow the wall clock (anvil adds real elapsed time by default):
        # one second per block, plus the hours the simulation skips, makes runs repeatable.
        chain.provider.make_request("anvil_setBlockTimestampInterval", [1])
        if chain.pending_timestamp < START_TIME:
            chain.pending_timestamp = START_TIME
        self.admin, *rest = pool[:needed]
        self.protocol = Deployer(
            self.project, self.admin, fresh=True, record_path=self.out / "deployment.json", log=lambda _m: None
        ).run()
        self.genesis_cmp = self.protocol.token.totalSupply()
        self.keeper = self._client(self.admin, "keeper")
        self._tune_governance()
        provider_accounts = rest[: cfg.providers]
        customer_accounts = rest[cfg.providers : cfg.providers + cfg.customers]
        verifier_accounts = rest[cfg.providers + cfg.customers :]
        self.agents = self._make_providers(provider_accounts)
        self.customers = [self._make_customer(a) for a in customer_accounts]
        self.verifiers = [self._make_verifier(a) for a in verifier_accounts]
        self.by_address = {v.client.address: v for v in self.verifiers}
        self.jobs: dict[int, Customer] = {}  # live jobs posted by the customers
        self._results: dict[int, tuple[bytes, str]] = {}  # job id: (result hash, provider)
        self._results_from = market_deploy_block(self.protocol)  # next block to read results from
        self.job_model: dict[int, str] = {}
        self.cancel_at: dict[int, int] = {}
        self.last_block = chain.blocks.head.number

    def _tune_governance(self) -> None:
        """Shorter windows than mainnet defaults, so that a job's whole life fits in hours."""
        p, me = self.protocol, self.admin
        p.resolver.setAttestWindow(HOUR, sender=me)  # first: the challenge window must exceed it
        p.market.setChallengeWindow(2 * HOUR, sender=me)
        p.market.setResultGrace(HOUR, sender=me)
        p.market.setRevealPeriod(HOUR, sender=me)
        for setter in (p.resolver.setVoteCommitPeriod, p.resolver.setVoteRevealPeriod, p.resolver.setAppealWindow):
            setter(HOUR, sender=me)

    def _make_providers(self, provider_accounts: list[Any]) -> list[ProviderAgent]:
        cfg, rng = self.cfg, self.rng
        n = len(provider_accounts)
        roles = ["fake"] * round(n * cfg.cheat_fake_rate) + ["abandon"] * round(n * cfg.cheat_abandon_rate)
        roles += ["honest"] * (n - len(roles))
        rng.shuffle(roles)
        names, weights = zip(*cfg.gpu_mix.items(), strict=True)
        agents: list[ProviderAgent] = []
        for i, (account, role) in enumerate(zip(provider_accounts, roles, strict=True)):
            gpu = self.catalog.models[names[i % len(names)] if i < len(names) else rng.choices(names, weights)[0]]
            cost = draw_cost_model(
                gpu,
                self.catalog.electricity_usd_per_kwh,
                rng,
                amortization_years=cfg.amortization_years,
                utilization=cfg.utilization_assumed,
                margin=cfg.margin,
            )
            client = self._client(account, "provider" if role == "honest" else "cheater")
            self.protocol.token.transfer(account, to_wei(20_000), sender=self.admin)
            # Salts from the run's generator: they end up in blocks, and block hashes feed the draws.
            kw: _AgentOptions = {
                "log": lambda _line: None,
                "step": cfg.undercut_step,
                "salt_fn": lambda: rng.randbytes(32),
            }
            state = self.out / "agents" / f"{account.address}.json"
            if role == "honest":
                agent = ProviderAgent(client, gpu.model, cost, state, **kw)
            else:
                fake, abandon = (0.8, 0.0) if role == "fake" else (0.0, 0.6)
                agent = CheatingAgent(
                    client, gpu.model, cost, state, rng=rng, fake_rate=fake, abandon_rate=abandon, **kw
                )
                self.state.cheats[role] += 1
            agent.ensure_provider(rng.choice(REGIONS), rng.choice((4, 8)), gpu.vram_gb, Decimal(15_000))
            agents.append(agent)
        return agents

    def _make_customer(self, account: Any) -> Customer:
        self.protocol.token.transfer(account, to_wei(100_000), sender=self.admin)
        return Customer(self._client(account, "customer"), self.rng.uniform(*self.cfg.budget))

    def _make_verifier(self, account: Any) -> Verifier:
        self.protocol.token.transfer(account, to_wei(2_000), sender=self.admin)
        client = self._client(account, "verifier")
        client.register_verifier(Decimal(1_000))
        return Verifier(client, lazy=self.rng.random() < self.cfg.lazy_verifier_rate)

    # ================================================================== the run

    def run(self) -> RunState:
        started = time.perf_counter()
        try:
            self.setup()
            hours = self.cfg.days * 24
            for hour in range(hours):
                self._hour(hour)
                if self.progress is not None:
                    self.progress(hour + 1, hours, self.state.ticks[-1])
        finally:
            # `setup` put the node on one second per block: a node shared with other work (the
            # test session's) goes back to its own clock, whatever happened.
            chain.provider.make_request("anvil_removeBlockTimestampInterval", [])
        self.state.wall_seconds = time.perf_counter() - started
        self.state.anvil_tx_per_second = self._raw_anvil_rate()
        return self.state

    def _hour(self, hour: int) -> None:
        self._oracle()
        for customer in self.customers:
            if self.rng.random() < self.cfg.jobs_per_customer_hour:
                self._post(customer)
        for _ in range(16):  # let the agents answer each other until they have nothing to add
            if not any([agent.step() for agent in self.agents]):
                break
        self._customers_duties()
        self._verifiers_duties()
        if hour % 24 == 23:
            self._claim_rewards()
        self._record(hour)
        chain.pending_timestamp = chain.blocks.head.timestamp + HOUR
        chain.mine()

    def _try(self, who: str, fn: Callable[..., T], *args: Any) -> T | None:
        try:
            return fn(*args)
        except MarketError as err:
            self.state.refused[f"{who}: {err.name}"] += 1
            return None

    def _oracle(self) -> None:
        self.price_usd = (self.price_usd * Decimal(str(1 + self.rng.uniform(-0.01, 0.01)))).quantize(Decimal("0.0001"))
        self.keeper.set_oracle_price(self.price_usd)

    def _post(self, customer: Customer) -> None:
        cfg, rng = self.cfg, self.rng
        names, weights = zip(*cfg.gpu_mix.items(), strict=True)
        gpu = self.catalog.models[rng.choices(names, weights)[0]]
        max_price = (gpu.cloud_usd_per_gpu_hour * Decimal(str(customer.budget_share))).quantize(Decimal("0.0001"))
        request = JobRequest(
            gpu_model=gpu.model,
            gpu_count=rng.choice((1, 1, 2, 4)),
            hours=Decimal(rng.choice((1, 2, 3, 4, 6))),
            max_price_per_gpu_hour=max_price,
            bidding_seconds=HOUR - 60,
            min_vram_gb=gpu.vram_gb,
            sealed=rng.random() < cfg.sealed_share,
            verification=rng.random() < cfg.verification_share,
        )
        escrow = request.max_price_per_gpu_hour * request.gpu_count * request.hours
        self.state.credits_minted += customer.ensure_credits(escrow, self.price_usd)
        job_id = self._try("customer", customer.client.post_job, request)
        if job_id is not None:
            customer.posted.append(job_id)
            self.jobs[job_id] = customer
            self.job_model[job_id] = gpu.model

    def _customers_duties(self) -> None:
        now = chain.blocks.head.timestamp
        market = self.protocol.market
        for job_id, customer in list(self.jobs.items()):
            job = customer.client.job(job_id)
            c = customer.client
            if job.status in TERMINAL:
                del self.jobs[job_id]
            elif job.status == JobStatus.BIDDING:
                closes = job.reveal_end if job.reveal_end else job.bidding_end
                if now >= closes:
                    self._try("customer", c.finalize, job_id)
            elif job.status == JobStatus.LEASED:
                end = job.lease_start + int(job.hours * HOUR)
                if job_id not in self.cancel_at:
                    cancels = self.rng.random() < self.cfg.cancel_rate
                    self.cancel_at[job_id] = job.lease_start + int(job.hours * HOUR / 2) if cancels else 0
                if self.cancel_at[job_id] and now >= self.cancel_at[job_id] and now < end:
                    self._try("customer", c.cancel, job_id)
                elif now > end + market.resultGrace():
                    self._try("customer", c.slash_for_failure, job_id)
            elif job.status == JobStatus.RESULT_SUBMITTED:
                self._check_result(customer, job)
                if now >= job.challenge_end and market.statusOf(job_id) == JobStatus.RESULT_SUBMITTED:
                    self._try("customer", c.settle, job_id)

    def _check_result(self, customer: Customer, job: JobView) -> None:
        job_id, c = job.job_id, customer.client
        resolver = self.protocol.resolver
        if job.verification and not resolver.verificationOf(job_id).requested:
            self._try("customer", c.request_verifier, job_id)
        if job_id in customer.checked:
            return
        customer.checked.add(job_id)
        faked = not self._result_is_honest(job_id)
        if not (faked and self.rng.random() < self.cfg.check_rate):
            return
        bond = from_wei(resolver.challengeBond())
        self.state.credits_minted += customer.ensure_credits(bond, self.price_usd)  # the bond is in CRD
        if self._try("customer", c.challenge, job_id, "result does not match the work") is not None:
            self.state.challenges += 1

    def _verifiers_duties(self) -> None:
        resolver, market = self.protocol.resolver, self.protocol.market
        if self.keeper.draws_pending():  # draws asked for this hour: made from a later block's hash
            chain.mine(int(self.protocol.registry.drawDelay()))
            self._try("keeper", self.keeper.process_draws)
        now = chain.blocks.head.timestamp
        for job_id in list(self.jobs):
            truth_ok = self._result_is_honest(job_id)
            verification = resolver.verificationOf(job_id)
            assigned = self.by_address.get(verification.verifier)
            if assigned is not None and verification.attestation == Attestation.NONE and now <= verification.deadline:
                verdict = True if assigned.lazy else truth_ok
                self._try("verifier", assigned.client.attest, job_id, verdict)
            dispute = resolver.disputeOf(job_id)
            if dispute.status == DisputeStatus.VOTING:
                for juror_address in dict.fromkeys(resolver.jurorsOf(job_id)):  # once per juror, not seat
                    juror = self.by_address.get(juror_address)
                    if juror is not None:
                        self._jury_duty(juror, job_id, dispute, now, truth_ok)
                if now >= dispute.revealEnd:
                    self._try("keeper", self.keeper.resolve, job_id)
                    if resolver.disputeOf(job_id).status == DisputeStatus.RESOLVED:
                        self._claim_jury_rewards(job_id)
            elif dispute.status == DisputeStatus.AWAITING_ARBITER:  # governance decides on the facts
                self._try("keeper", self.keeper.arbitrate, job_id, not truth_ok)
            if market.statusOf(job_id) in TERMINAL:
                self.jobs.pop(job_id, None)

    def _claim_jury_rewards(self, job_id: int) -> None:
        """The majority jurors of a dispute just decided claim their shares (paid by pull)."""
        resolver = self.protocol.resolver
        for juror_address in dict.fromkeys(resolver.jurorsOf(job_id)):  # once per juror, not seat
            juror = self.by_address.get(juror_address)
            if juror is not None and any(resolver.juryRewardOf(job_id, juror_address)):
                self._try("verifier", juror.client.claim_jury_reward, job_id)

    def _jury_duty(self, juror: Verifier, job_id: int, dispute: Any, now: int, truth_ok: bool) -> None:
        vote = self.protocol.resolver.voteOf(job_id, juror.client.address)
        if vote.commitment == b"\0" * 32 and now < dispute.commitEnd:
            fault = self.rng.random() < 0.5 if juror.lazy else not truth_ok
            salt = self._try("verifier", juror.client.commit_vote, job_id, fault, self.rng.randbytes(32))
            if salt is not None:
                juror.votes[job_id] = (fault, salt)
        elif dispute.commitEnd <= now < dispute.revealEnd and not vote.revealed and job_id in juror.votes:
            if juror.lazy and self.rng.random() < 0.5:
                return  # forgets to reveal: penalised
            fault, salt = juror.votes.pop(job_id)
            self._try("verifier", juror.client.reveal_vote, job_id, fault, salt)

    def _result_is_honest(self, job_id: int) -> bool:
        """Whether the job's submitted result is the honest one (no result yet: not honest). The
        market keeps a result's hash in `ResultSubmitted` only, so the results are read from the
        logs once, from where the last read stopped."""
        head = int(chain.blocks.head.number)
        if head >= self._results_from:
            market = self.protocol.market
            for log in market.ResultSubmitted.range(self._results_from, head + 1):
                # `log.provider` is the log's network provider: the event's argument is `log["provider"]`.
                self._results[int(log["jobId"])] = (bytes(log["resultHash"]), str(log["provider"]))
            self._results_from = head + 1
        result = self._results.get(job_id)
        return result is not None and result[0] == honest_result(job_id, result[1])

    def _claim_rewards(self) -> None:
        epoch = self.protocol.rewards.currentEpoch()
        if epoch == 0:
            return
        for actor in [a.client for a in self.agents] + [v.client for v in self.verifiers]:
            self._try("rewards", actor.claim_rewards)

    # ================================================================== measurements

    def _record(self, hour: int) -> None:
        p = self.protocol
        head = chain.blocks.head
        clearing: dict[str, list[Decimal]] = defaultdict(list)
        for log in p.market.AuctionFinalized.range(self.last_block + 1, head.number + 1):
            model = self.job_model.get(int(log.jobId))
            if model:
                clearing[model].append(from_wei(log.clearingPrice))
        self.last_block = head.number
        count = p.market.jobCount()
        statuses = Counter(JobStatus(p.market.statusOf(i)).name for i in range(1, count + 1))
        reserved = total = 0
        for agent in self.agents:
            offer = p.market.offerOf(agent.me, agent.gpu_model.encode().ljust(32, b"\0"))
            reserved += offer.reserved
            total += offer.gpus
        reference = {m: from_wei(p.market.referencePrice(m.encode().ljust(32, b"\0"))) for m in self.cfg.gpu_mix}
        self.state.ticks.append(
            Tick(
                hour=hour,
                block=head.number,
                timestamp=head.timestamp,
                jobs_posted=count,
                statuses=dict(statuses),
                utilization=reserved / total if total else 0.0,
                cmp_supply=from_wei(p.token.totalSupply()),
                crd_supply=from_wei(p.credits.totalSupply()),
                clearing=dict(clearing),
                reference=reference,
            )
        )

    def _raw_anvil_rate(self, n: int = 100) -> float:
        """Plain value transfers per second on the same anvil, through Ape, as a baseline."""
        started = time.perf_counter()
        for _ in range(n):
            self.admin.transfer(self.admin, 1)
        return n / (time.perf_counter() - started)
