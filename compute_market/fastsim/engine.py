"""The step loop: every step, the actors decide from the mirror, their transactions go out as
one JSON-RPC batch, one block is mined at the step's time, and that block's logs (one
`eth_getLogs`, which also tell which transactions succeeded) update the mirror. Open and sealed
auctions (commit, reveal, lapsed bonds), cancellations and credit redemptions are played."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable
from decimal import Decimal

from eth_utils import keccak

from compute_market.fastsim.actors import (
    MIN_STAKE_PER_GPU,
    Customer,
    Provider,
    SealedBid,
    StepView,
    collateral_estimate,
    commitment_hash,
    tokens_for,
)
from compute_market.fastsim.chain import Block, Chain, Tx
from compute_market.fastsim.config import FastSimConfig
from compute_market.fastsim.mirror import OPEN, SEALED, TERMINAL, ZERO, Bond, JobState, Mirror, Status
from compute_market.fastsim.verifiers import Reviewing
from compute_market.models import NO_WORKLOAD
from compute_market.simulation.actors import draw_cost_model
from compute_market.simulation.config import Catalog
from compute_market.units import HOUR, bytes32, to_wei, usd_to_feed

MAX_UINT = 2**256 - 1
REGIONS = ("eu-west", "us-east")
SETUP_BLOCK_TXS = 500
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

    # ================================================================== set-up

    def setup(self) -> None:
        """Creates the actors, replays the deployment's logs into the mirror, funds, approves,
        registers and stakes (blocks of at most `SETUP_BLOCK_TXS` transactions)."""
        cfg, rng = self.cfg, self.rng
        self._read_parameters()
        self.providers = self._make_providers()
        for i in range(cfg.customers):
            c = Customer(actor_address("customer", i), rng.uniform(*cfg.budget), rng.random() < cfg.diligent_share)
            self.customers.append(c)
            self.customer_of[c.address] = c
        self.reviewing = Reviewing(self)
        if self.reviewing.on:
            self.reviewing.read_parameters()
        verifiers = [v.address for v in self.reviewing.verifiers]
        self.chain.prepare_senders(
            [self.admin] + [p.address for p in self.providers] + list(self.customer_of) + verifiers
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
        clock = self._mine_setup(funding, self.start_time + 1)
        joining: list[Tx] = []
        registry, credits, market = (self.chain.address(n) for n in ("ProviderRegistry", "ComputeCredits", "JobMarket"))
        for p in self.providers:
            joining += [
                Tx(p.address, "setup", "ComputeToken", "approve", (registry, MAX_UINT)),
                Tx(p.address, "setup", "ProviderRegistry", "register", (f"fastsim://{p.address}", bytes32(p.region))),
                Tx(
                    p.address,
                    "setup",
                    "ProviderRegistry",
                    "setCapacity",
                    (bytes32(p.gpu_model), p.gpu_count, p.vram_gb),
                ),
                Tx(p.address, "setup", "ProviderRegistry", "stake", (to_wei(cfg.provider_stake),)),
            ]
        for c in self.customers:
            joining += [
                Tx(c.address, "setup", "ComputeToken", "approve", (credits, MAX_UINT)),
                Tx(c.address, "setup", "ComputeCredits", "approve", (market, MAX_UINT)),
            ]
        joining += self.reviewing.joining()
        self._mine_setup(joining, clock)

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
            *("revealPeriod", "bidBond", "verificationFeeBps"),
        )
        values = [int(v[0]) for v in self.chain.calls([("JobMarket", n, ()) for n in names])]
        self.min_decrement_bps, self.collateral_bps, self.result_grace, self.challenge_window = values[:4]
        self.mirror.reveal_period, self.bid_bond, self.verification_fee_bps = values[4:]

    def _make_providers(self) -> list[Provider]:
        cfg, rng = self.cfg, self.rng
        n = cfg.providers
        roles = ["fake"] * round(n * cfg.cheat_fake_rate) + ["abandon"] * round(n * cfg.cheat_abandon_rate)
        roles += ["honest"] * (n - len(roles))
        rng.shuffle(roles)
        names, weights = zip(*cfg.gpu_mix.items(), strict=True)
        out: list[Provider] = []
        for i, role in enumerate(roles):
            gpu = self.catalog.models[names[i % len(names)] if i < len(names) else rng.choices(names, weights)[0]]
            cost = draw_cost_model(
                gpu,
                self.catalog.electricity_usd_per_kwh,
                rng,
                amortization_years=cfg.amortization_years,
                utilization=cfg.utilization_assumed,
                margin=cfg.margin,
            )
            region, gpus = rng.choice(REGIONS), rng.choice((4, 8))
            out.append(Provider(actor_address("provider", i), role, gpu.model, gpus, gpu.vram_gb, region, cost))
        return out

    # ================================================================== the run

    def run(self) -> None:
        """All steps."""
        total = self.cfg.steps
        # `counts` visits every job ever posted: once a simulated hour, not every step (at 30,000
        # jobs and 4,320 steps it was about a tenth of the run)
        every = max(1, HOUR // self.cfg.step_seconds)
        counts: dict[str, int] = {}
        for k in range(1, total + 1):
            self.step(self.start_time + k * self.cfg.step_seconds)
            if self.progress is not None:
                if k == 1 or k % every == 0 or k == total:
                    counts = self.counts()
                else:
                    counts = {**counts, "txs": self.run_txs, "reverted": sum(self.reverted.values())}
                self.progress(k, total, counts)

    def step(self, now: int) -> Block:
        """One step: decisions, one batch, one block at `now`, receipts and logs."""
        view = StepView()
        txs: list[Tx] = self.chain.stream()  # sent in batches while the actors below decide
        self._oracle(now, txs)
        self._keeper(now, view, txs)
        if self.reviewing is not None and self.reviewing.on:
            self.reviewing.keeper(now, txs)
        self._customers(now, view, txs)
        if self.reviewing is not None and self.reviewing.on:
            self.reviewing.verifiers_step(now, txs)
        self._providers(now, view, txs)
        block = self._mine(txs, now)
        self.steps_done += 1
        return block

    def _mine(self, txs: list[Tx], timestamp: int, setup: bool = False) -> Block:
        block = self.chain.mine_step(txs, timestamp)
        self.blocks += 1
        self.head_block = block.number
        self.dropped += block.dropped
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
        for log in block.logs:
            self.mirror.apply(log.contract, log.event, log.args, block.timestamp)
            if log.contract != "JobMarket":
                continue
            job_id = int(log.args.get("jobId", 0))
            if log.event == "JobPosted":
                self.live[job_id] = None
                customer = self.customer_of.get(log.args["customer"])
                if customer is not None:
                    customer.posted.append(job_id)
            elif job_id in self.live and self.mirror.jobs[job_id].status in TERMINAL:
                del self.live[job_id]
        return block

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
                elif self.reviewing is not None and self.reviewing.on:
                    request = self.reviewing.request(job, now)
                    if request is not None:
                        txs.append(request)
            if c.posted:
                still = [j for j in c.posted if jobs[j].status not in TERMINAL]
                if len(still) != len(c.posted):
                    for gone in set(c.posted) - set(still):
                        c.cancel_at.pop(gone, None)
                        c.cancel_at.pop(-gone, None)
                    c.posted = still
            if rng.random() < redeem_chance and self._redeem(c, view, txs):
                continue
            if rng.random() >= chance:
                continue
            gpu = self.catalog.models[rng.choices(names, weights)[0]]
            max_price = to_wei((gpu.cloud_usd_per_gpu_hour * Decimal(str(c.budget_share))).quantize(Decimal("0.0001")))
            gpus, hours = rng.choice((1, 1, 2, 4)), rng.choice((1, 2, 3, 4, 6))
            duration = hours * HOUR
            escrow = max_price * gpus * duration // HOUR
            verification = self.reviewing is not None and self.reviewing.on and rng.random() < cfg.verification_share
            escrow += escrow * self.verification_fee_bps // 10_000 if verification else 0
            if not self._fund(c, escrow, view, txs):
                continue
            spec = (
                bytes32(gpu.model),
                gpus,
                gpu.vram_gb,
                bytes32(""),
                duration,
                max_price,
                now + cfg.bidding_minutes * 60,
                SEALED if rng.random() < cfg.sealed_share else OPEN,
                0,
                cfg.holdback_bps,
                verification,
                NO_WORKLOAD,  # a capacity lease: the simulated work is not described on chain
                "",
            )
            txs.append(Tx(c.address, "customer", "JobMarket", "postJob", (spec,)))
            view.credits[c.address] -= escrow

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
        """Mints credits (three escrows' worth) when the balance is short; False when the
        customer's CMP cannot cover it."""
        balance = self.mirror.balances["CRD"][c.address] + view.credits[c.address]
        if balance >= escrow:
            return True
        wanted = 3 * escrow - balance
        tokens = tokens_for(wanted, usd_to_feed(self.price))
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
        order = list(self.providers)
        self.rng.shuffle(order)
        for p in order:
            for job_id in serving.get(p.address, ()):
                self._serve(p, job_id, now, view, txs)
            self._reveal(p, now, txs)
            view.pending[p.address] = self._pending(p)
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
        need = collateral_estimate(job, self.mirror.answers, self.collateral_bps)
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
        """Whether the provider has the GPUs and the free stake (beyond what its sealed bids
        awaiting reveal will lock, and a 5% margin) for `job`; counts the skips."""
        m = self.mirror
        if p.gpu_count - m.reserved(p.address) - view.reserved[p.address] < job.gpu_count:
            self.skipped["provider at capacity"] += 1
            return False
        need = collateral_estimate(job, m.answers, self.collateral_bps)
        free = m.staked[p.address] - m.locked(p.address) - view.locked[p.address] - view.pending[p.address]
        if free < need * 105 // 100:
            self.skipped["provider short of free stake"] += 1
            return False
        return True

    def _bond_lock(self, job: JobState) -> int:
        """What a commitment locks: the bid bond plus the per-GPU minimum."""
        return self.bid_bond + MIN_STAKE_PER_GPU * job.gpu_count

    def _pending(self, p: Provider) -> int:
        """Stake the provider's sealed bids will lock on top of their bonds if revealed best."""
        extra = 0
        for job_id, bid in p.sealed.items():
            if bid.reveal:
                job = self.mirror.jobs[job_id]
                need = collateral_estimate(job, self.mirror.answers, self.collateral_bps)
                extra += max(0, need - self._bond_lock(job))
        return extra

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
        commitment = commitment_hash(job_id, p.address, price, salt)
        txs.append(Tx(p.address, p.kind, "JobMarket", "commitBid", (job_id, commitment)))
        p.sealed[job_id] = SealedBid(price, salt, reveal)
        view.reserved[p.address] += job.gpu_count
        view.locked[p.address] += self._bond_lock(job)
        if reveal:
            need = collateral_estimate(job, self.mirror.answers, self.collateral_bps)
            view.pending[p.address] += max(0, need - self._bond_lock(job))

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
