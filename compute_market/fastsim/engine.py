"""The step loop: every step, the actors decide from the mirror, their transactions go out as
one JSON-RPC batch, one block is mined at the step's time, and that block's logs (one
`eth_getLogs`, which also tell which transactions succeeded) update the mirror. Open and sealed
auctions (commit, reveal, lapsed bonds), cancellations, credit redemptions, customers'
challenges of results they find faked, reward claims, and jobs naming a region and a least
memory per GPU (providers bid only where they match) are played."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from eth_utils.crypto import keccak

from compute_market.commitments import commitment_for
from compute_market.economics import ProviderCosts, TrailingUtilisation
from compute_market.fastsim.actors import Customer, Provider, SealedBid, StepView, job_spec, tokens_for
from compute_market.fastsim.adversaries import Adversaries
from compute_market.fastsim.chain import Block, Chain, Log, Tx
from compute_market.fastsim.config import FastSimConfig
from compute_market.fastsim.demand import Demand, outside_price
from compute_market.fastsim.mirror import OPEN, SEALED, TERMINAL, ZERO, Bond, JobState, Mirror, Status
from compute_market.fastsim.series import Series
from compute_market.fastsim.supply import ACTIVE, DORMANT, LEAVING, Supply
from compute_market.fastsim.verifiers import Reviewing, is_honest
from compute_market.simulation.config import Catalog
from compute_market.units import DAY, HOUR, bytes32, feed_to_usd, from_bytes32, from_wei, to_wei, usd_to_feed

MAX_UINT = 2**256 - 1
REGIONS = ("eu-west", "us-east")
SETUP_BLOCK_TXS = 500
CHALLENGE_GAS = 700_000  # a challenge opens the dispute and queues its jury draw (as a rejecting `attest`)
CLAIM_GAS = 400_000  # the distributor rolls the epoch over and takes the ledger's stake rewards
Progress = Callable[[int, int, dict[str, int]], None]


def actor_address(kind: str, index: int) -> str:
    """A fixed address per actor (the node signs for it by impersonation)."""
    return "0x" + keccak(text=f"fastsim:{kind}:{index}")[-20:].hex()


class FastSim:
    """Plays providers, customers, a keeper and the oracle on a deployed protocol."""

    def __init__(self, cfg: FastSimConfig, chain: Chain, start_time: int, progress: Progress | None = None) -> None:
        self.cfg = cfg
        self.chain = chain
        self.rng = random.Random(cfg.seed)
        self.catalog = Catalog.load()
        self.mirror = Mirror()
        self.progress = progress
        self.start_time = start_time
        self.admin = chain.deployment.admin
        self.price = Decimal("2.50")
        self.providers: list[Provider] = []
        self.provider_of: dict[str, Provider] = {}
        self.customers: list[Customer] = []
        self.customer_of: dict[str, Customer] = {}
        self.live: dict[int, None] = {}  # jobs not yet terminal, in posting order
        self.sent: Counter[str] = Counter()  # "actor function" → transactions sent
        self.reverted: Counter[str] = Counter()  # "actor function: error" → reverted transactions
        self.by_actor: Counter[str] = Counter()
        self.setup_txs = 0
        self.dropped = 0
        self.skipped: Counter[str] = Counter()  # decisions not taken, and why
        self.blocks = 0
        self.run_txs = 0
        self.steps_done = 0
        self.head_block = 0  # the latest block mined
        self.reviewing: Reviewing | None = None  # verifiers and disputes, when the run has verifiers
        self.series = Series()  # hourly figures for the CSV and the plots
        self.claimed_day = 0  # the latest simulated day whose end the claimers acted on
        self.cmp_supply_start = 0  # CMP supply once set up (before any run step)
        self.challenge_bond = 0  # the resolver's, in credits (read at set-up)
        self.min_verifier_stake = 0  # the ledger's `MIN_VERIFIER_STAKE`, in CMP wei (read at set-up)
        self.resolver = chain.address("DisputeResolver")
        self.adversaries: Adversaries | None = None  # only when the settings name some (`cfg.adversaries`)
        # customers with choices (`cfg.outside_option`): where demand went, budgets raised
        self.demand: Demand | None = Demand(elasticity=cfg.elasticity) if cfg.outside_option else None
        # providers that enter and leave on profit (`cfg.entry_exit`): decided on hourly records
        if cfg.entry_exit and HOUR % cfg.step_seconds:
            raise ValueError(
                f"entry and exit decide every hour: the step ({cfg.step_minutes} min) must divide 60 minutes"
            )
        self.supply: Supply | None = Supply(cfg.exit_window_hours) if cfg.entry_exit else None

    # ================================================================== set-up

    def setup(self) -> None:
        """Creates the actors, replays the deployment's logs into the mirror, funds, approves,
        registers and stakes (blocks of at most `SETUP_BLOCK_TXS` transactions)."""
        cfg, rng = self.cfg, self.rng
        self._read_parameters()
        self.providers = self._make_providers()
        if self.supply is not None:  # dormant entrants, after the incumbents
            self.providers += self.supply.make_entrants(self, cfg.entrants, len(self.providers))
        if any(cfg.adversaries.values()):
            self.adversaries = Adversaries(self)
            self.providers += self.adversaries.make_providers()
        self.provider_of = {p.address: p for p in self.providers}
        for i in range(cfg.customers):
            c = Customer(actor_address("customer", i), rng.uniform(*cfg.budget), rng.random() < cfg.diligent_share)
            self.customers.append(c)
            self.customer_of[c.address] = c
        self.reviewing = Reviewing(self)
        if self.reviewing.disputes:
            self.reviewing.read_parameters()
        verifiers = [v.address for v in self.reviewing.verifiers]
        adversaries = self.adversaries.senders() if self.adversaries is not None else []
        self.chain.prepare_senders(
            [self.admin] + [p.address for p in self.providers] + list(self.customer_of) + verifiers + adversaries
        )
        head, _ = self.chain.head()
        for log in self.chain.logs(0, head):
            self.mirror.apply(log.contract, log.event, log.args, 0)
        funding = [Tx(self.admin, "oracle", "PriceFeed", "setAnswer", (usd_to_feed(self.price),))]
        for p in self.providers:
            funding.append(Tx(self.admin, "setup", "ComputeToken", "transfer", (p.address, to_wei(cfg.provider_cmp))))
        for c in self.customers:
            funding.append(Tx(self.admin, "setup", "ComputeToken", "transfer", (c.address, to_wei(cfg.customer_cmp))))
        funding += self.reviewing.funding()
        if self.adversaries is not None:
            funding += self.adversaries.funding()
        clock = self._mine_setup(funding, self.start_time + 1)
        joining: list[Tx] = []
        registry, credits, market = (self.chain.address(n) for n in ("ProviderRegistry", "ComputeCredits", "JobMarket"))
        for p in self.providers:
            joining += [
                Tx(p.address, "setup", "ComputeToken", "approve", (registry, MAX_UINT)),
                Tx(p.address, "setup", "ProviderRegistry", "register", (f"fastsim://{p.address}", bytes32(p.region))),
            ]
            if p.state != DORMANT:  # an entrant stakes and offers its GPUs when it enters
                joining += self.enter(p, "setup")
        for c in self.customers:
            joining += [
                Tx(c.address, "setup", "ComputeToken", "approve", (credits, MAX_UINT)),
                Tx(c.address, "setup", "ComputeCredits", "approve", (market, MAX_UINT)),
            ]
            if self.reviewing.challenges:  # the challenge bond is paid in credits to the resolver
                joining.append(Tx(c.address, "setup", "ComputeCredits", "approve", (self.resolver, MAX_UINT)))
        joining += self.reviewing.joining()
        if self.adversaries is not None:
            joining += self.adversaries.joining()
        self._mine_setup(joining, clock)
        self.cmp_supply_start = self.mirror.supply["CMP"]
        if self.adversaries is not None:
            self.adversaries.started()

    def enter(self, p: Provider, actor: str) -> list[Tx]:
        """A registered provider's way into the market: it stakes `provider_stake` and offers its
        GPUs of its model with all of that stake provisioned for them (`JobMarket.setOffer`: the
        market moves it from the free stake into the provision, which its bids lock)."""
        stake = to_wei(self.cfg.provider_stake)
        return [
            Tx(p.address, actor, "ProviderRegistry", "stake", (stake,)),
            Tx(p.address, actor, "JobMarket", "setOffer", (bytes32(p.gpu_model), p.gpu_count, p.vram_gb, stake)),
        ]

    def _mine_setup(self, txs: list[Tx], timestamp: int) -> int:
        """Mines set-up transactions in blocks of at most `SETUP_BLOCK_TXS`, a second apart
        (anvil reads a block's receipts in time quadratic in its size); returns the next time."""
        for i in range(0, len(txs), SETUP_BLOCK_TXS):
            self._mine(txs[i : i + SETUP_BLOCK_TXS], timestamp, setup=True)
            timestamp += 1
        return timestamp

    def _read_parameters(self) -> None:
        names = (
            *("minDecrementBps", "collateralBps", "resultGrace", "challengeWindow"),
            *("revealPeriod", "bidBond", "verificationFeeBps", "keeperBountyBps", "minStakePerGpu"),
        )
        requests = [("JobMarket", n, ()) for n in names]
        requests.append(("DisputeResolver", "challengeBond", ()))
        requests.append(("ProviderRegistry", "MIN_VERIFIER_STAKE", ()))
        values = [int(v[0]) for v in self.chain.calls(requests)]
        self.min_decrement_bps, self.collateral_bps, self.result_grace, self.challenge_window = values[:4]
        self.mirror.reveal_period, self.bid_bond, self.verification_fee_bps, keeper_bounty_bps = values[4:8]
        min_stake_per_gpu, self.challenge_bond, self.min_verifier_stake = values[8:]
        # what a posting fixes each job's lock with (the market's `ParameterUpdated` keeps them)
        self.mirror.collateral_bps, self.mirror.bid_bond = self.collateral_bps, self.bid_bond
        self.mirror.min_stake_per_gpu = min_stake_per_gpu
        if self.demand is not None:  # a failed lease's customer recovers the collateral less the bounty
            self.demand.recovered_share = self.collateral_bps * (10_000 - keeper_bounty_bps) / 10_000**2

    def _make_providers(self) -> list[Provider]:
        cfg, rng = self.cfg, self.rng
        n = cfg.providers
        roles = ["fake"] * round(n * cfg.cheat_fake_rate) + ["abandon"] * round(n * cfg.cheat_abandon_rate)
        roles += ["honest"] * (n - len(roles))
        rng.shuffle(roles)
        names, weights = zip(*cfg.gpu_mix.items(), strict=True)
        out: list[Provider] = []
        for i, role in enumerate(roles):
            model = names[i % len(names)] if i < len(names) else rng.choices(names, weights)[0]
            out.append(self.new_provider(i, role, model, rng))
        return out

    def new_provider(self, index: int, role: str, model: str, rng: random.Random) -> Provider:
        """Provider `index` of GPU model `model`: its electricity price, margin, region, GPUs and
        memory drawn from `rng` (in this order), its costs from the catalog."""
        cfg = self.cfg
        gpu = self.catalog.models[model]
        drawn = Decimal(str(rng.uniform(*cfg.electricity_range)))  # the draws in the old cost model's order
        margin = Decimal(str(round(rng.uniform(*cfg.margin), 3)))
        electricity = self.catalog.electricity_usd_per_kwh * drawn * Decimal(str(cfg.electricity_multiplier))
        costs = ProviderCosts.from_catalog(gpu, electricity, **self.cost_overrides(gpu.purchase_usd))
        region, gpus = rng.choice(REGIONS), rng.choice((4, 8))
        vram = gpu.vram_gb // 2 if rng.random() < cfg.half_vram_share else gpu.vram_gb
        return Provider(
            actor_address("provider", index),
            role,
            gpu.model,
            gpus,
            vram,
            region,
            costs,
            margin,
            self._trailing(gpus),
            full_cost_utilisation=Decimal(str(cfg.full_cost_utilisation)),
            floor_utilisation=Decimal(str(cfg.floor_utilisation)),
        )

    def cost_overrides(self, purchase_usd: Decimal) -> dict[str, Decimal]:
        """The settings' overrides of `ProviderCosts.from_catalog`'s defaults for a GPU bought at
        `purchase_usd` (the catalog's price times `gpu_price_multiplier`)."""
        cfg = self.cfg
        out = {key: Decimal(str(value)) for key, value in cfg.cost_overrides.items()}
        out["gpu_price_usd"] = purchase_usd * Decimal(str(cfg.gpu_price_multiplier))
        for key, value in (
            ("pue", cfg.pue),
            ("cost_of_capital", cfg.cost_of_capital),
            ("amortisation_years", cfg.amortization_years),
        ):
            if value is not None:
                out[key] = Decimal(str(value))
        return out

    def _trailing(self, gpus: int) -> TrailingUtilisation:
        """A provider's trailing utilisation: `utilisation_window_hours` hourly records, filled
        with a prior of that many hours at `initial_utilisation` that the run's hours push out."""
        cfg = self.cfg
        initial = Decimal(str(cfg.initial_utilisation))
        trailing = TrailingUtilisation(cfg.utilisation_window_hours, initial)
        for _ in range(cfg.utilisation_window_hours):
            trailing.record(Decimal(gpus), gpus * initial)
        return trailing

    # ================================================================== the run

    def run(self) -> None:
        """All steps."""
        total = self.cfg.steps
        # `counts` visits every job ever posted: once a simulated hour, not every step (at 30,000
        # jobs and 4,320 steps it was about a tenth of the run)
        every = max(1, HOUR // self.cfg.step_seconds)
        counts: dict[str, int] = {}
        if self.cfg.series:
            self.series.record(self, self.start_time)
        for k in range(1, total + 1):
            now = self.start_time + k * self.cfg.step_seconds
            self.step(now)
            if k % every == 0 or k == total:  # an hour's record (or the run's last, partial one)
                for p in self.providers:
                    p.close_record()
                if self.supply is not None and k % every == 0:
                    self.supply.hourly(self, k // every)
            if self.cfg.series and (k % every == 0 or k == total):
                self.series.record(self, now)
            if self.progress is not None:
                if k == 1 or k % every == 0 or k == total:
                    counts = self.counts()
                else:
                    counts = {**counts, "txs": self.run_txs, "reverted": sum(self.reverted.values())}
                self.progress(k, total, counts)
        self.book_earnings()  # what the last block paid
        if self.adversaries is not None:
            self.adversaries.finish()  # reads what it needs from the node before it stops

    def step(self, now: int) -> Block:
        """One step: decisions, one batch, one block at `now`, receipts and logs."""
        view = StepView()
        self._account(now)
        txs: list[Tx] = self.chain.stream()  # sent in batches while the actors below decide
        self._oracle(now, txs)
        self._keeper(now, view, txs)
        reviewing = self.reviewing
        if reviewing is not None and reviewing.disputes:
            reviewing.keeper(now, txs)
        self._customers(now, view, txs)
        if reviewing is not None and reviewing.on:
            reviewing.verifiers_step(now, txs)
        if self.supply is not None:
            self.supply.step(self, txs)
        self._providers(now, view, txs)
        if self.adversaries is not None:
            self.adversaries.step(now, view, txs)
        self._claim_rewards(now, txs)
        block = self._mine(txs, now)
        self.steps_done += 1
        return block

    def _mine(self, txs: list[Tx], timestamp: int, setup: bool = False) -> Block:
        block = self.chain.mine_step(txs, timestamp)
        self.blocks += 1
        self.head_block = block.number
        self.dropped += block.dropped
        specs: dict[str, tuple[Any, ...]] = {}  # postJob's hash → its spec (region, memory: not logged)
        claims: set[str] = set()  # reward claims' hashes: their CMP mints are rewards
        for outcome in block.outcomes:
            tx = outcome.tx
            if setup:
                self.setup_txs += 1
            else:
                self.run_txs += 1
                self.sent[f"{tx.actor} {tx.function}"] += 1
                self.by_actor[tx.actor] += 1
            if not outcome.ok:
                self.reverted[f"{tx.actor} {tx.function}: {outcome.error}"] += 1
            elif tx.function == "processDraws":  # the ledger processed the entries the keeper counted
                self.mirror.review.processed(int(tx.args[0]))
            elif tx.function == "postJob":
                specs[outcome.hash] = tx.args[0]
            elif tx.function == "claim":
                claims.add(outcome.hash)
        for log in block.logs:
            self.mirror.apply(log.contract, log.event, log.args, block.timestamp)
            if log.tx in claims and log.contract == "ComputeToken" and log.args.get("from") == ZERO:
                self.mirror.claimed(log.args["to"], int(log.args["value"]))
            elif log.contract == "ProviderRegistry" and log.event == "Slashed":
                self._book_slash(log.args["provider"], int(log.args["amount"]))
            elif log.contract == "JobMarket":
                self._follow_job(log, specs.get(log.tx))
        if self.adversaries is not None:
            self.adversaries.book_gas(block)
            if not setup:
                self.adversaries.after_block(block)
        return block

    def _follow_job(self, log: Log, spec: tuple[Any, ...] | None) -> None:
        """After the mirror applied a market log: a posted job's region and memory (from the
        `postJob` sent), the live jobs and each customer's, the series' cleared leases."""
        job_id = int(log.args.get("jobId", 0))
        if log.event == "JobPosted":
            if spec is not None:
                self.mirror.posted(job_id, spec[3], spec[2])
            self.live[job_id] = None
            customer = self.customer_of.get(log.args["customer"])
            if customer is not None:
                customer.posted.append(job_id)
        elif job_id in self.live and self.mirror.jobs[job_id].status in TERMINAL:
            del self.live[job_id]
        if log.event in ("JobSettled", "JobFailed") and self.demand is not None:
            job = self.mirror.jobs[job_id]
            value = job.lease_value()
            paid = job.paid_gross / value if value else 0.0
            self.demand.lease_ended(from_bytes32(job.gpu_model), log.event == "JobFailed", paid)
        if log.event == "AuctionFinalized" and self.cfg.series:
            job = self.mirror.jobs[job_id]
            self.series.cleared(from_bytes32(job.gpu_model), job)

    # ================================================================== provider economics

    def _account(self, now: int) -> None:
        """The step that ends at `now`, from the mirror as the block before left it: each
        provider's time, the GPU-seconds its leases held in the step (a leased GPU is busy from
        the lease's start to its end, or until the job is cancelled, abandoned or slashed), and
        the credits and reward tokens it received."""
        start = now - self.cfg.step_seconds
        busy: Counter[str] = Counter()
        for job_id in self.live:
            job = self.mirror.jobs[job_id]
            if job.status == Status.LEASED:
                held = min(now, job.lease_start + job.duration) - max(start, job.lease_start)
                if held > 0:
                    busy[job.provider] += job.gpu_count * held
        for p in self.providers:
            if p.state in (ACTIVE, LEAVING):  # a dormant entrant or one that left owns no GPUs here
                p.record_step(now - start, busy[p.address])
        self.book_earnings()

    def book_earnings(self) -> None:
        """Credits (1 CRD = 1 USD) and reward CMP the providers received since last booked:
        providers spend no credits, so what their balance gained is what they earned."""
        balances = self.mirror.balances["CRD"]
        for p in self.providers:
            credits, rewards = balances[p.address], self.mirror.rewards[p.address]
            if credits != p.booked_crd or rewards != p.booked_rewards:
                p.ledger.earn(from_wei(credits - p.booked_crd), from_wei(rewards - p.booked_rewards))
                p.booked_crd, p.booked_rewards = credits, rewards

    def _book_slash(self, provider: str, slashed: int) -> None:
        """A slash of a provider's stake (a failed lease, a forfeited bond): negative revenue, its
        CMP valued at the oracle's latest answer."""
        p = self.provider_of.get(provider)
        if p is None:
            return
        usd = from_wei(slashed) * self.token_price()
        p.slashed_cmp += slashed
        p.slashed_usd += usd
        p.ledger.earn(credits_usd=-usd)

    def token_price(self) -> Decimal:
        """CMP in USD: the oracle's latest answer on chain (the run's first price before any)."""
        return feed_to_usd(self.mirror.answers[-1]) if self.mirror.answers else self.price

    # ================================================================== actors

    def _oracle(self, now: int, txs: list[Tx]) -> None:
        """A new answer every `oracle_every` seconds, within ±1% of the last (the credits
        refuse answers older than an hour, or 20% away)."""
        if now - self.mirror.answer_at < self.cfg.oracle_every:
            return
        self.price = (self.price * Decimal(str(1 + self.rng.uniform(-0.01, 0.01)))).quantize(Decimal("0.0001"))
        txs.append(Tx(self.admin, "oracle", "PriceFeed", "setAnswer", (usd_to_feed(self.price),)))

    def _keeper(self, now: int, view: StepView, txs: list[Tx]) -> None:
        """Finalizes closed auctions, slashes leases past their result deadline, settles results
        their customers left unsettled an hour after the challenge window."""
        for job_id in self.live:
            job = self.mirror.jobs[job_id]
            closes = job.reveal_end if job.kind == SEALED else job.bidding_end
            if job.status == Status.BIDDING and now >= closes:
                txs.append(Tx(self.admin, "keeper", "JobMarket", "finalizeAuction", (job_id,)))
            elif job.status == Status.LEASED and now > job.lease_start + job.duration + self.result_grace:
                txs.append(Tx(self.admin, "keeper", "JobMarket", "slashForFailure", (job_id,)))
            elif job.status == Status.RESULT_SUBMITTED and now >= job.challenge_end + HOUR:
                txs.append(Tx(self.admin, "keeper", "JobMarket", "settleJob", (job_id,)))
            else:
                continue
            view.handled.add(job_id)
        for job_id, provider in self.mirror.unsettled:  # sealed bids not revealed in time, or of cancelled jobs
            job = self.mirror.jobs[job_id]
            if job.status == Status.CANCELLED or now >= job.reveal_end:
                txs.append(Tx(self.admin, "keeper", "JobMarket", "settleCommitment", (job_id, provider)))

    def _customers(self, now: int, view: StepView, txs: list[Tx]) -> None:
        cfg, rng = self.cfg, self.rng
        chance = cfg.jobs_per_customer_hour * cfg.step_seconds / HOUR
        redeem_chance = cfg.redeem_per_customer_hour * cfg.step_seconds / HOUR
        names, weights = zip(*cfg.gpu_mix.items(), strict=True)
        jobs = self.mirror.jobs
        for c in self.customers:
            for job_id in c.posted:
                job = jobs[job_id]
                if job_id in view.handled:
                    continue
                if c.diligent and job.status == Status.RESULT_SUBMITTED and now >= job.challenge_end:
                    txs.append(Tx(c.address, "customer", "JobMarket", "settleJob", (job_id,)))
                    view.handled.add(job_id)
                elif self._cancels(c, job, now):
                    txs.append(Tx(c.address, "customer", "JobMarket", "cancelJob", (job_id,)))
                    view.handled.add(job_id)
                elif job.status == Status.RESULT_SUBMITTED:
                    self._review(c, job, now, view, txs)
            if c.posted:
                still = [j for j in c.posted if jobs[j].status not in TERMINAL]
                if len(still) != len(c.posted):
                    for gone in set(c.posted) - set(still):
                        c.cancel_at.pop(gone, None)
                        c.cancel_at.pop(-gone, None)
                        if self.demand is not None and jobs[gone].status == Status.EXPIRED:  # nobody bid
                            self.demand.unfilled(c.address, from_bytes32(jobs[gone].gpu_model))
                    c.posted = still
            if rng.random() < redeem_chance and self._redeem(c, view, txs):
                continue
            if rng.random() >= chance:
                continue
            gpu = self.catalog.models[rng.choices(names, weights)[0]]
            if self.demand is None:
                budget = gpu.cloud_usd_per_gpu_hour * Decimal(str(c.budget_share))
            else:  # against the cheapest alternative, if the market's price still pays
                outside = outside_price(gpu)
                reference = self.mirror.reference.get(bytes32(gpu.model), 0)
                if not self.demand.takes_market(rng, gpu.model, reference, outside):
                    continue
                weighed = self.demand.budget(c.address, gpu.model, c.budget_share, outside)
                if weighed is None:  # the failure risk eats the whole saving: elsewhere after all
                    continue
                budget = weighed
            max_price = to_wei(budget.quantize(Decimal("0.0001")))
            gpus, hours = rng.choice((1, 1, 2, 4)), rng.choice((1, 2, 3, 4, 6))
            region = rng.choice(REGIONS) if rng.random() < cfg.region_share else ""
            min_vram = gpu.vram_gb if rng.random() < cfg.full_vram_share else gpu.vram_gb // 2
            duration = hours * HOUR
            escrow = max_price * gpus * duration // HOUR
            verification = self.reviewing is not None and self.reviewing.on and rng.random() < cfg.verification_share
            escrow += escrow * self.verification_fee_bps // 10_000 if verification else 0
            if not self._fund(c, escrow, view, txs):
                continue
            kind = SEALED if rng.random() < cfg.sealed_share else OPEN
            bidding_end = now + cfg.bidding_minutes * 60
            spec = job_spec(
                gpu.model,
                gpus,
                min_vram,
                region,
                duration,
                max_price,
                bidding_end,
                kind,
                cfg.holdback_bps,
                verification,
            )
            txs.append(Tx(c.address, "customer", "JobMarket", "postJob", (spec,)))
            view.credits[c.address] -= escrow
            if self.demand is not None:
                self.demand.posted(gpu.model)

    def _review(self, c: Customer, job: JobState, now: int, view: StepView, txs: list[Tx]) -> None:
        """A result in: the customer asks for its verifier (jobs that asked for verification), and
        checks it once (`check_rate`, as the Ape engine's customers): a fake one it challenges,
        posting the resolver's bond in credits, while the challenge window is open."""
        reviewing = self.reviewing
        if reviewing is None or not reviewing.disputes:
            return
        if reviewing.on:
            request = reviewing.request(job, now)
            if request is not None:
                txs.append(request)
        if job.job_id in c.checked or not reviewing.challenges:
            return
        c.checked.add(job.job_id)
        if is_honest(job) or self.rng.random() >= self.cfg.check_rate:
            return
        if now >= job.challenge_end or job.job_id in self.mirror.review.disputes:
            self.skipped["customer challenge too late"] += 1
            return
        if not self._fund(c, self.challenge_bond, view, txs):
            return
        reason = "result does not match the work"
        txs.append(Tx(c.address, "customer", "DisputeResolver", "challenge", (job.job_id, reason), gas=CHALLENGE_GAS))
        view.credits[c.address] -= self.challenge_bond
        view.handled.add(job.job_id)

    def _claim_rewards(self, now: int, txs: list[Tx]) -> None:
        """At the end of each simulated day (as the Ape engine's), every provider and verifier
        claims what it is owed: the work and verifier rewards of the epochs (a day each) that
        ended, and the stake rewards accrued. Timed from the run's start, not from the
        distributor's epochs, so that a run repeats on a node whose deploy time differs."""
        day = (now - self.start_time) // DAY
        if not self.cfg.claim_rewards or day <= self.claimed_day:
            return
        self.claimed_day = day
        claimers = [(p.address, p.kind) for p in self.providers if p.state != DORMANT]
        if self.reviewing is not None:
            claimers += [(v.address, "verifier") for v in self.reviewing.verifiers]
        for address, kind in claimers:
            txs.append(Tx(address, kind, "RewardsDistributor", "claim", (), gas=CLAIM_GAS))

    def _cancels(self, c: Customer, job: JobState, now: int) -> bool:
        """Whether the customer cancels `job` now. Decided once per job and phase: while bidding
        (`cancel_bidding_rate`, at a random time before bidding closes; a sealed auction cannot
        be cancelled later), and once leased (`cancel_lease_rate`, half-way through the lease)."""
        cfg, rng = self.cfg, self.rng
        if job.status == Status.BIDDING and now < job.bidding_end:
            key = -job.job_id  # the bidding phase's decision
            if key not in c.cancel_at:
                cancels = rng.random() < cfg.cancel_bidding_rate
                c.cancel_at[key] = now + rng.randrange(job.bidding_end - now) if cancels else 0
            return c.cancel_at[key] != 0 and now >= c.cancel_at[key]
        if job.status == Status.LEASED and now < job.lease_start + job.duration:
            if job.job_id not in c.cancel_at:
                cancels = rng.random() < cfg.cancel_lease_rate
                c.cancel_at[job.job_id] = job.lease_start + job.duration // 2 if cancels else 0
            return c.cancel_at[job.job_id] != 0 and now >= c.cancel_at[job.job_id]
        return False

    def _redeem(self, c: Customer, view: StepView, txs: list[Tx]) -> bool:
        """Redeems half the customer's free credits for CMP (at least 1 CRD); False if it has too few."""
        amount = (self.mirror.balances["CRD"][c.address] + view.credits[c.address]) // 2
        if amount < to_wei(1):
            return False
        txs.append(Tx(c.address, "customer", "ComputeCredits", "redeem", (amount, 0, c.address)))
        view.credits[c.address] -= amount
        return True

    def _fund(self, c: Customer, escrow: int, view: StepView, txs: list[Tx]) -> bool:
        """Mints credits (three escrows' worth) when the balance is short, first claiming the
        CMP failed leases credited the customer if its wallet is short; False when the
        customer's CMP cannot cover it."""
        balance = self.mirror.balances["CRD"][c.address] + view.credits[c.address]
        if balance >= escrow:
            return True
        wanted = 3 * escrow - balance
        tokens = tokens_for(wanted, usd_to_feed(self.price))
        owed = self.mirror.payouts[c.address]
        short = self.mirror.balances["CMP"][c.address] + view.tokens[c.address] < tokens
        if short and owed > 0 and c.address not in view.claimed:
            txs.append(Tx(c.address, "customer", "ProviderRegistry", "claimPayout", (c.address,)))
            view.claimed.add(c.address)
            view.tokens[c.address] += owed
        if self.mirror.balances["CMP"][c.address] + view.tokens[c.address] < tokens:
            self.skipped["customer out of CMP"] += 1
            return False
        txs.append(Tx(c.address, "customer", "ComputeCredits", "mintWithTokens", (tokens, 0, c.address)))
        view.tokens[c.address] -= tokens
        view.credits[c.address] += wanted
        return True

    def _providers(self, now: int, view: StepView, txs: list[Tx]) -> None:
        serving: defaultdict[str, list[int]] = defaultdict(list)
        open_jobs: defaultdict[bytes, list[int]] = defaultdict(list)
        sealed_jobs: defaultdict[bytes, list[int]] = defaultdict(list)
        for job_id in self.live:
            job = self.mirror.jobs[job_id]
            if job.status == Status.LEASED:
                serving[job.provider].append(job_id)
            elif job.status == Status.BIDDING and now < job.bidding_end and job_id not in view.handled:
                (sealed_jobs if job.kind == SEALED else open_jobs)[job.gpu_model].append(job_id)
        order = [p for p in self.providers if p.state != DORMANT]  # the same draws as without entrants
        self.rng.shuffle(order)
        for p in order:
            for job_id in serving.get(p.address, ()):
                self._serve(p, job_id, now, view, txs)
            self._reveal(p, now, txs)
            if p.state != ACTIVE:  # dormant, or leaving: no new bids
                continue
            for job_id in open_jobs.get(bytes32(p.gpu_model), ()):
                self._bid(p, job_id, view, txs)
            for job_id in sealed_jobs.get(bytes32(p.gpu_model), ()):
                self._commit(p, job_id, view, txs)

    def _serve(self, p: Provider, job_id: int, now: int, view: StepView, txs: list[Tx]) -> None:
        job = self.mirror.jobs[job_id]
        if job_id in view.handled:
            return
        plan = p.plan(job_id, self.rng)
        end = job.lease_start + job.duration
        if plan == "vanish":
            return
        if plan == "quit":
            if now >= job.lease_start + job.duration // 2:
                txs.append(Tx(p.address, p.kind, "JobMarket", "abandonJob", (job_id,)))
                view.handled.add(job_id)
            return
        if now >= end:
            result = p.result(job_id, self.rng)
            txs.append(Tx(p.address, p.kind, "JobMarket", "submitResult", (job_id, result, f"fastsim://{job_id}")))
            view.handled.add(job_id)
        elif now - p.claimed_at.get(job_id, job.lease_start) >= self.cfg.claim_every:
            txs.append(Tx(p.address, p.kind, "JobMarket", "claimEarnings", (job_id,)))
            p.claimed_at[job_id] = now

    def _bid(self, p: Provider, job_id: int, view: StepView, txs: list[Tx]) -> None:
        job = self.mirror.jobs[job_id]
        best = view.best.get(job_id) or ((job.provider, job.price) if job.provider != ZERO else None)
        if best is not None and best[0] == p.address:
            return
        if not self._can_take(p, job, view):
            return
        need = job.lock()
        price = p.bid_price(job, best, self.min_decrement_bps, self.cfg.undercut_step)
        if price is None:
            return
        txs.append(Tx(p.address, p.kind, "JobMarket", "placeBid", (job_id, price)))
        view.best[job_id] = (p.address, price)
        view.reserved[p.address] += job.gpu_count
        view.locked[p.address] += need
        if best is not None:  # the outbid provider's lock is released by this bid
            view.reserved[best[0]] -= job.gpu_count
            view.locked[best[0]] -= need

    def _can_take(self, p: Provider, job: JobState, view: StepView) -> bool:
        """Whether the provider's offer of the job's model has the GPUs and the provision no bid
        holds (beyond what its bids sent this step lock, and a 5% margin) for `job`'s lock (its
        collateral and per-GPU stake, fixed at posting); counts the skips. Each provider offers
        one model, so the step's own bids are counted per provider."""
        if not p.matches(job):
            self.skipped["provider region or memory does not match"] += 1
            return False
        offer = self.mirror.offer(p.address, job.gpu_model)
        if offer.available() - view.reserved[p.address] < job.gpu_count:
            self.skipped["provider at capacity"] += 1
            return False
        free = offer.free() - view.locked[p.address]
        if offer.provisioned == 0 or free < job.lock() * 105 // 100:
            self.skipped["provider short of free provision"] += 1
            return False
        return True

    def _commit(self, p: Provider, job_id: int, view: StepView, txs: list[Tx]) -> None:
        """A sealed bid at the ask, with a fresh salt; some (`lapse_rate`) will never be revealed."""
        job = self.mirror.jobs[job_id]
        if job_id in p.sealed or p.address in job.commitments:
            return
        price = p.sealed_price(job)
        if price is None or not self._can_take(p, job, view):
            return
        salt = self.rng.randbytes(32)
        reveal = self.rng.random() >= self.cfg.lapse_rate
        commitment = commitment_for(job_id, p.address, price, salt)
        txs.append(Tx(p.address, p.kind, "JobMarket", "commitBid", (job_id, commitment)))
        p.sealed[job_id] = SealedBid(price, salt, reveal)
        view.reserved[p.address] += job.gpu_count
        view.locked[p.address] += job.lock()

    def _reveal(self, p: Provider, now: int, txs: list[Tx]) -> None:
        """Reveals the provider's sealed bids whose reveal window is open; forgets the bids
        that are revealed, released, forfeited, or whose commitment never made it."""
        for job_id, bid in list(p.sealed.items()):
            job = self.mirror.jobs[job_id]
            commitment = job.commitments.get(p.address)
            if commitment is None:
                if job.status != Status.BIDDING or now >= job.bidding_end:
                    del p.sealed[job_id]  # the commitment was refused
                continue
            if commitment.state != Bond.COMMITTED:
                del p.sealed[job_id]
                continue
            # a cancelled sealed job keeps its commitments until the keeper releases them
            window_open = job.status == Status.BIDDING and job.bidding_end <= now < job.reveal_end
            if bid.reveal and not bid.revealed and window_open:
                txs.append(Tx(p.address, p.kind, "JobMarket", "revealBid", (job_id, bid.price, bid.salt)))
                bid.revealed = True

    # ================================================================== figures

    def counts(self) -> dict[str, int]:
        """Jobs by outcome so far, and transactions."""
        statuses = Counter(job.status for job in self.mirror.jobs.values())
        return {
            "posted": len(self.mirror.jobs),
            "filled": sum(1 for j in self.mirror.jobs.values() if j.lease_start),
            "settled": statuses[Status.SETTLED],
            "failed": statuses[Status.FAILED],
            "expired": statuses[Status.EXPIRED],
            "cancelled": statuses[Status.CANCELLED],
            "txs": self.run_txs,
            "reverted": sum(self.reverted.values()),
        }
