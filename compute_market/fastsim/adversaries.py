"""Adversaries as agents with their own P&L (issue 18), off by default (`FastSimConfig.adversaries`).

    wash     one owner: a customer address and a registered, staked provider address. Each simulated
             hour (while its job can still settle before the run ends) it posts an open auction in a
             region only its own provider serves, wins it at the max price, serves it honestly and
             lets it settle; it claims its rewards daily and redeems all its credits at the end.
    lowball  a provider that bids 1% of its ask (at least 1 wei) on every job it can take, and serves.
    shill    a customer that posts sealed auctions every hour and commits a shill bid on each from its
             own registered, staked provider addresses; once the honest reveals are in, it reveals a
             shill only when that cannot win (it would lease to itself), hoping to set the second price.
    grinder  a jury grinder: many staked verifier identities and a challenger of its own; it challenges
             honest results and, when its identities hold a majority of the jury drawn, votes "at fault"
             (`fastsim/adversaries_jury.py`).
    sybil    a sybil verifier farm: one verifier's capital split over many identities doing honest
             duty, against a control verifier of the same capital (`fastsim/adversaries_jury.py`).

The rows for the existing cheaters (fake-result providers, lazy verifiers) are attack P&L relative to
honest behaviour. Every figure comes from the mirror, the provider ledgers and the distributor's
`Claimed` logs; money is in USD at the oracle's last answer (docs/fastsim.md, "Adversaries")."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from compute_market.commitments import commitment_for
from compute_market.economics import CENT, ProviderCosts
from compute_market.fastsim.actors import Customer, Provider, job_spec
from compute_market.fastsim.adversaries_jury import JURY_KINDS, JuryAdversaries
from compute_market.fastsim.books import GasBook, book_mint, mint_spread_usd
from compute_market.fastsim.chain import Block, Tx
from compute_market.fastsim.mirror import OPEN, SEALED, ZERO, Bond, JobState, Status
from compute_market.units import DAY, HOUR, bytes32, from_wei, to_wei

if TYPE_CHECKING:
    from compute_market.fastsim.engine import FastSim

KINDS = ("wash", "lowball", "shill", *JURY_KINDS)
SHILLS_PER_CUSTOMER = 2  # provider addresses each shill-bidding customer controls
LOWBALL_SHARE = 100  # the lowball bidder asks 1/100 of its ask
CLAIM_GAS = 400_000


def parse_adversaries(text: str | None) -> dict[str, int]:
    """`wash=1,lowball=1,shill=1,grinder=1,sybil=1` → counts by kind (unknown kinds raise ValueError)."""
    out: dict[str, int] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        name, _, count = item.partition("=")
        name = name.strip()
        if name not in KINDS:
            raise ValueError(f"unknown adversary {name!r} (known: {', '.join(KINDS)})")
        out[name] = int(count) if count.strip() else 1
    return out


def _address(kind: str, index: int) -> str:
    from compute_market.fastsim.engine import actor_address

    return actor_address(f"adversary-{kind}", index)


@dataclass
class LowballProvider(Provider):
    """A provider that bids far below its marginal cost: 1% of its ask, at least 1 wei."""

    def target(self) -> int:
        return max(1, self.ask_wei // LOWBALL_SHARE)

    def bid_price(
        self, job: JobState, best: tuple[str, int] | None, min_decrement_bps: int, step: Decimal
    ) -> int | None:
        price = min(self.target(), job.max_price)
        if best is None:
            return price
        return price if 0 < price <= best[1] * (10_000 - min_decrement_bps) // 10_000 else None

    def sealed_price(self, job: JobState) -> int | None:
        return min(self.target(), job.max_price)


@dataclass
class Wash:
    """A wash trader: its customer and provider addresses, and the jobs it washed."""

    customer: Customer
    provider: str
    region: str
    gpu_model: str
    jobs: list[int] = field(default_factory=list)
    bid: set[int] = field(default_factory=set)
    served: set[int] = field(default_factory=set)
    redeemed: bool = False
    # flows, each valued in USD at the oracle's answer of its block
    mint_cmp_usd: Decimal = Decimal(0)  # CMP burned for credits
    minted_crd: int = 0  # credits those burns minted
    redeemed_crd: int = 0  # credits burned by redemptions
    redeem_cmp_usd: Decimal = Decimal(0)  # CMP those redemptions minted
    fees_crd: int = 0  # protocol fees its jobs paid
    activity_usd: Decimal = Decimal(0)  # activity rewards claimed (`Claimed.activityRewards`)


@dataclass
class Shill:
    """A shill-bidding customer, its shill provider addresses and their sealed bids."""

    customer: Customer
    providers: list[str]
    gpu_model: str
    jobs: list[int] = field(default_factory=list)
    bids: dict[int, tuple[str, int, bytes]] = field(default_factory=dict)  # job → (shill, price, salt)
    revealed: set[int] = field(default_factory=set)


class Adversaries:
    """The run's adversaries: set-up transactions, their moves each step, their P&L rows."""

    def __init__(self, sim: FastSim) -> None:
        self.sim = sim
        cfg = sim.cfg
        self.rng = random.Random(f"adversaries:{cfg.seed}")  # never the market's generator
        self.gas = GasBook.priced(cfg.gas_price_gwei, cfg.eth_usd)  # what their own transactions used
        counts = cfg.adversaries
        names = list(cfg.gpu_mix)
        self.model = max(names, key=lambda n: cfg.gpu_mix[n])  # the most asked-for model
        self.washers = [
            Wash(
                Customer(_address("wash-customer", i), 1.0, True), _address("wash-provider", i), f"wash-{i}", self.model
            )
            for i in range(counts.get("wash", 0))
        ]
        self.shills = [
            Shill(
                Customer(_address("shill-customer", i), 0.9, True),
                [_address("shill-provider", i * SHILLS_PER_CUSTOMER + k) for k in range(SHILLS_PER_CUSTOMER)],
                self.model,
            )
            for i in range(counts.get("shill", 0))
        ]
        self.lowballers: list[LowballProvider] = []
        jury = any(counts.get(kind, 0) for kind in JURY_KINDS)
        self.jury = JuryAdversaries(sim, counts, self.rng, self.gas) if jury else None  # grinders and sybil farms
        self.reveals: defaultdict[int, dict[str, int]] = defaultdict(dict)  # shill jobs: provider → revealed price
        self.forfeited: defaultdict[str, Decimal] = defaultdict(Decimal)  # shill provider → bonds lost (USD)
        self.forfeited_cmp: defaultdict[str, int] = defaultdict(int)
        self.activity: defaultdict[str, int] = defaultdict(int)  # `Claimed.activityRewards`, by account
        self.stake_rewards: defaultdict[str, int] = defaultdict(int)  # `Claimed.stakeRewards`
        self.verifier_slashed: defaultdict[str, int] = defaultdict(int)
        self.verifier_slashed_usd: defaultdict[str, Decimal] = defaultdict(Decimal)
        self.claimed_day = 0
        self.fee_bps = 0
        self.start_value: dict[str, int] = {}
        self.pending: dict[str, int] = {}  # activity rewards owed at the end, not claimed (`finish`)

    # ------------------------------------------------------------------ set-up

    def make_providers(self) -> list[Provider]:
        """The lowball bidders (they join the market's providers: the engine bids and serves for them)."""
        sim, cfg = self.sim, self.sim.cfg
        gpu = sim.catalog.models[self.model]
        electricity = sim.catalog.electricity_usd_per_kwh * Decimal(str(cfg.electricity_multiplier))
        for i in range(cfg.adversaries.get("lowball", 0)):
            costs = ProviderCosts.from_catalog(gpu, electricity, **sim.cost_overrides(gpu.purchase_usd))
            self.lowballers.append(
                LowballProvider(
                    _address("lowball", i),
                    "lowball",
                    gpu.model,
                    8,
                    gpu.vram_gb,
                    self.rng.choice(("eu-west", "us-east")),
                    costs,
                    Decimal("0.10"),
                    sim._trailing(8),
                    full_cost_utilisation=Decimal(str(cfg.full_cost_utilisation)),
                    floor_utilisation=Decimal(str(cfg.floor_utilisation)),
                )
            )
        return list(self.lowballers)

    def senders(self) -> list[str]:
        out: list[str] = []
        for w in self.washers:
            out += [w.customer.address, w.provider]
        for s in self.shills:
            out += [s.customer.address, *s.providers]
        if self.jury is not None:
            out += self.jury.senders()
        return out

    def funding(self) -> list[Tx]:
        """CMP from the admin: each customer address a customer's, each provider address a provider's."""
        cfg, admin = self.sim.cfg, self.sim.admin
        txs: list[Tx] = []
        for address in self._customers():
            txs.append(Tx(admin, "setup", "ComputeToken", "transfer", (address, to_wei(cfg.customer_cmp))))
        for address in self._providers():
            txs.append(Tx(admin, "setup", "ComputeToken", "transfer", (address, to_wei(cfg.provider_cmp))))
        if self.jury is not None:
            txs += self.jury.funding()
        return txs

    def joining(self) -> list[Tx]:
        """Approvals; the provider addresses register (the wash provider in its own region), stake
        and offer 8 GPUs of the model with all their stake provisioned."""
        sim, cfg = self.sim, self.sim.cfg
        registry, credits, market = (sim.chain.address(n) for n in ("ProviderRegistry", "ComputeCredits", "JobMarket"))
        gpu = sim.catalog.models[self.model]
        regions = {w.provider: w.region for w in self.washers}
        stake = to_wei(cfg.provider_stake)  # all of it provisioned: what its bids and commitments lock
        txs: list[Tx] = []
        for address in self._customers():
            txs += [
                Tx(address, "setup", "ComputeToken", "approve", (credits, 2**256 - 1)),
                Tx(address, "setup", "ComputeCredits", "approve", (market, 2**256 - 1)),
            ]
        for address in self._providers():
            region = regions.get(address, "eu-west")
            txs += [
                Tx(address, "setup", "ComputeToken", "approve", (registry, 2**256 - 1)),
                Tx(address, "setup", "ProviderRegistry", "register", (f"fastsim://{address}", bytes32(region))),
                Tx(address, "setup", "ProviderRegistry", "stake", (stake,)),
                Tx(address, "setup", "JobMarket", "setOffer", (bytes32(gpu.model), 8, gpu.vram_gb, stake)),
            ]
        if self.jury is not None:
            txs += self.jury.joining()
        return txs

    def started(self) -> None:
        """Once set up: the wash owners' holdings (CMP wei, with stake; credits) and the market's fee."""
        sim = self.sim
        (self.fee_bps,) = (int(v[0]) for v in sim.chain.calls([("JobMarket", "protocolFeeBps", ())]))
        for w in self.washers:
            self.start_value[w.customer.address] = self._holdings(w)[0]
        if self.jury is not None and sim.reviewing is not None:  # the grinders leave the others' jobs alone
            others = {*self._customers(), *self._providers(), *(p.address for p in self.lowballers)}
            self.jury.started(sim.reviewing, others)

    def _customers(self) -> list[str]:
        return [w.customer.address for w in self.washers] + [s.customer.address for s in self.shills]

    def _providers(self) -> list[str]:
        return [w.provider for w in self.washers] + [a for s in self.shills for a in s.providers]

    # ------------------------------------------------------------------ each step

    def step(self, now: int, view: Any, txs: list[Tx]) -> None:
        """Every adversary's moves this step (after the market's actors)."""
        sim = self.sim
        end = sim.start_time + sim.cfg.steps * sim.cfg.step_seconds
        for w in self.washers:
            self._wash(w, now, end, view, txs)
        for s in self.shills:
            self._shill(s, now, view, txs)
        if self.jury is not None:
            self.jury.step(now, view, txs)
        day = (now - sim.start_time) // DAY
        last = now + sim.cfg.step_seconds > end
        if (day > self.claimed_day or last) and sim.cfg.claim_rewards:
            self.claimed_day = day
            for address in [w.provider for w in self.washers]:
                txs.append(Tx(address, "adversary", "RewardsDistributor", "claim", (), gas=CLAIM_GAS))

    def _hourly(self, now: int) -> bool:
        return (now - self.sim.start_time) % HOUR < self.sim.cfg.step_seconds

    def _wash(self, w: Wash, now: int, end: int, view: Any, txs: list[Tx]) -> None:
        sim, cfg = self.sim, self.sim.cfg
        jobs = sim.mirror.jobs
        for job_id in w.jobs:
            job = jobs[job_id]
            if job.status == Status.BIDDING and job_id not in w.bid and now < job.bidding_end:
                txs.append(Tx(w.provider, "adversary", "JobMarket", "placeBid", (job_id, job.max_price)))
                w.bid.add(job_id)
            elif job.status == Status.LEASED and job_id not in w.served and now >= job.lease_start + job.duration:
                result = _honest(job_id, w.provider)
                txs.append(Tx(w.provider, "adversary", "JobMarket", "submitResult", (job_id, result, "fastsim://wash")))
                w.served.add(job_id)
        gpu = sim.catalog.models[w.gpu_model]
        bidding = cfg.bidding_minutes * 60
        # post only jobs that settle (challenge window, then the keeper's hour) before the end
        settles = now + bidding + HOUR + sim.result_grace + sim.challenge_window + 2 * HOUR
        if self._hourly(now) and settles < end:
            max_price = to_wei(gpu.cloud_usd_per_gpu_hour)
            escrow = max_price
            if sim._fund(w.customer, escrow, view, txs):
                spec = job_spec(
                    gpu.model, 1, gpu.vram_gb, w.region, HOUR, max_price, now + bidding, OPEN, cfg.holdback_bps, False
                )
                txs.append(Tx(w.customer.address, "adversary", "JobMarket", "postJob", (spec,)))
                view.credits[w.customer.address] -= escrow
        if not w.redeemed and now + 2 * cfg.step_seconds > end:  # cash out every free credit
            w.redeemed = True
            for address in (w.customer.address, w.provider):
                amount = sim.mirror.balances["CRD"][address] + view.credits[address]
                if amount > 0:
                    txs.append(Tx(address, "adversary", "ComputeCredits", "redeem", (amount, 0, address)))
                    view.credits[address] -= amount

    def _shill(self, s: Shill, now: int, view: Any, txs: list[Tx]) -> None:
        sim, cfg = self.sim, self.sim.cfg
        jobs = sim.mirror.jobs
        for job_id in s.jobs:
            job = jobs[job_id]
            if job.status != Status.BIDDING:
                continue
            if job_id not in s.bids and now < job.bidding_end:
                shill = s.providers[len(s.bids) % len(s.providers)]
                price = job.max_price * self.rng.randint(60, 95) // 100
                salt = self.rng.randbytes(32)
                commitment = commitment_for(job_id, shill, price, salt)
                txs.append(Tx(shill, "adversary", "JobMarket", "commitBid", (job_id, commitment)))
                s.bids[job_id] = (shill, price, salt)
            elif job_id in s.bids and job_id not in s.revealed and job.bidding_end + cfg.step_seconds <= now:
                shill, price, salt = s.bids[job_id]
                mine = job.commitments.get(shill)
                honest = [p for a, p in self.reveals[job_id].items() if a != shill]
                if mine is None or mine.state != Bond.COMMITTED or now >= job.reveal_end:
                    continue
                if honest and min(honest) < price:  # it cannot win: it may set the second price
                    txs.append(Tx(shill, "adversary", "JobMarket", "revealBid", (job_id, price, salt)))
                    s.revealed.add(job_id)
        if self._hourly(now):
            gpu = sim.catalog.models[s.gpu_model]
            max_price = to_wei((gpu.cloud_usd_per_gpu_hour * Decimal("0.9")).quantize(Decimal("0.0001")))
            gpus, duration = 1, 2 * HOUR
            escrow = max_price * gpus * duration // HOUR
            if sim._fund(s.customer, escrow, view, txs):
                spec = job_spec(
                    gpu.model,
                    gpus,
                    gpu.vram_gb // 2,
                    "",
                    duration,
                    max_price,
                    now + cfg.bidding_minutes * 60,
                    SEALED,
                    cfg.holdback_bps,
                    False,
                )
                txs.append(Tx(s.customer.address, "adversary", "JobMarket", "postJob", (spec,)))
                view.credits[s.customer.address] -= escrow

    def book_gas(self, block: Block) -> None:
        """The gas the adversaries' own transactions used in `block`, set-up blocks included (their
        receipts, one batch; blocks without one of theirs read nothing)."""
        watched = self.gas_senders()
        ours = [o for o in block.outcomes if o.tx.sender in watched]
        if not ours:
            return
        receipts = self.sim.chain.rpc.batch([("eth_getTransactionReceipt", [o.hash]) for o in ours])
        for outcome, receipt in zip(ours, receipts, strict=True):
            used = int(receipt["gasUsed"], 16)  # an outcome is a transaction mined in this block
            self.gas.book(outcome.tx.sender, used)
            if self.jury is not None:
                self.jury.book_attack_gas(outcome.tx, used)

    def gas_senders(self) -> set[str]:
        """Every address whose transactions' gas is booked: the adversaries' own."""
        watched = set(self.senders()) | {p.address for p in self.lowballers}
        if self.jury is not None:
            watched |= {g.challenger.address for g in self.jury.grinders}
        return watched

    def after_block(self, block: Block) -> None:
        """What the adversaries follow in a mined block: their jobs, the sealed reveals on the shills'
        jobs, forfeited shill bonds, verifier slashes, and (blocks with a reward claim) the split of
        each claim into activity and stake rewards from the distributor's `Claimed` logs."""
        sim = self.sim
        washers = {w.customer.address: w for w in self.washers}
        shills = {s.customer.address: s for s in self.shills}
        shill_providers = {a for s in self.shills for a in s.providers}
        owners = {a: w for w in self.washers for a in (w.customer.address, w.provider)}
        washed = {j: w for w in self.washers for j in w.jobs}
        claims = {o.hash for o in block.outcomes if o.ok and o.tx.function == "claim"}
        price = sim.token_price()
        for log in block.logs:
            args = log.args
            if log.event == "Transfer" and owners and (args["from"] in owners or args["to"] in owners):
                self._flow(owners, log.contract, args, log.tx in claims, price)
            elif log.event == "EarningsClaimed" and int(args["jobId"]) in washed:
                washed[int(args["jobId"])].fees_crd += int(args["fee"])
            if log.contract == "JobMarket":
                if log.event == "JobPosted":
                    customer = args["customer"]
                    if customer in washers:
                        washers[customer].jobs.append(int(args["jobId"]))
                    elif customer in shills:
                        shills[customer].jobs.append(int(args["jobId"]))
                elif log.event == "BidRevealed":
                    self.reveals[int(args["jobId"])][args["provider"]] = int(args["pricePerGpuHour"])
                elif log.event == "BondForfeited" and args["provider"] in shill_providers:
                    self.forfeited_cmp[args["provider"]] += int(args["amount"])
                    self.forfeited[args["provider"]] += from_wei(int(args["amount"])) * price
            elif log.contract == "ProviderRegistry" and log.event == "VerifierSlashed":
                self.verifier_slashed[args["verifier"]] += int(args["amount"])
                self.verifier_slashed_usd[args["verifier"]] += from_wei(int(args["amount"])) * price
        if claims:
            self._claims(block.number, price)
        if self.jury is not None:
            self.jury.after_block(block, price)

    def _flow(self, owners: dict[str, Wash], contract: str, args: dict[str, Any], claim: bool, price: Decimal) -> None:
        """A wash owner's token transfer: credits minted for CMP, or CMP minted for credits."""
        sender, to, value = args["from"], args["to"], int(args["value"])
        if book_mint(owners, contract, sender, to, value, price):
            return
        if contract == "ComputeCredits" and sender in owners and to == ZERO:
            owners[sender].redeemed_crd += value
        elif contract == "ComputeToken" and sender == ZERO and to in owners and not claim:
            owners[to].redeem_cmp_usd += from_wei(value) * price

    def _claims(self, number: int, price: Decimal) -> None:
        chain = self.sim.chain
        address = chain.address("RewardsDistributor")
        events = chain.codecs["RewardsDistributor"].events
        raw = chain.rpc.call("eth_getLogs", [{"fromBlock": hex(number), "toBlock": hex(number), "address": address}])
        for entry in raw:
            event = events.get(entry["topics"][0]) if entry["topics"] else None
            if event is not None and event.name == "Claimed":
                args = event.decode(entry["topics"], entry["data"])
                self.activity[args["account"]] += int(args["activityRewards"])
                self.stake_rewards[args["account"]] += int(args["stakeRewards"])
                if self.jury is not None:
                    self.jury.claimed(args["account"], int(args["activityRewards"]), int(args["stakeRewards"]), price)
                for w in self.washers:
                    if args["account"] in (w.provider, w.customer.address):
                        w.activity_usd += from_wei(int(args["activityRewards"])) * price

    # ------------------------------------------------------------------ P&L

    def _holdings(self, w: Wash) -> tuple[int, int]:
        """The wash owner's CMP (both wallets, the stake, and what failed leases credited either in
        the ledger) and credits (both wallets, plus what its live jobs still escrow, net of the
        protocol fee they will pay), in wei."""
        m = self.sim.mirror
        wallets = (w.customer.address, w.provider)
        cmp = sum(m.balances["CMP"][a] + m.payouts[a] for a in wallets) + m.staked[w.provider]
        crd = sum(m.balances["CRD"][a] for a in (w.customer.address, w.provider))
        for job_id in w.jobs:
            crd += m.jobs[job_id].escrow * (10_000 - self.fee_bps) // 10_000
        return cmp, crd

    def rows(self) -> list[dict[str, Any]]:
        """One row per adversary: kind, addresses, spent, gained, net (USD), what stopped it, details."""
        sim = self.sim
        price = sim.token_price()
        pending = self.pending
        out: list[dict[str, Any]] = []
        for w in self.washers:
            out.append(self._wash_row(w, price, pending))
        for low in self.lowballers:
            out.append(self._lowball_row(low, price))
        for s in self.shills:
            out.append(self._shill_row(s))
        if self.jury is not None:
            out += self.jury.rows(price)
        for p in sim.providers:
            if p.role == "fake":
                out.append(self._fake_row(p))
        if sim.reviewing is not None and sim.reviewing.verifiers:
            out += self._lazy_rows(price)
        return out

    def finish(self) -> None:
        """At the run's end, while the node runs: the activity rewards the wash owners are owed but
        have not claimed (their epoch is not over)."""
        if self.jury is not None:
            self.jury.finish()
        accounts = [a for w in self.washers for a in (w.provider, w.customer.address)]
        if accounts:
            answers = self.sim.chain.calls([("RewardsDistributor", "pendingRewards", (a,)) for a in accounts])
            self.pending = {a: int(v[0]) for a, v in zip(accounts, answers, strict=True)}

    def _wash_row(self, w: Wash, price: Decimal, pending: dict[str, int]) -> dict[str, Any]:
        """Spent: the spreads of minting and redeeming credits and the protocol fees its jobs paid,
        each at the oracle's answer of its block. Gained: the activity rewards claimed (at the
        answer of the claim) and still owed (at the last answer); its stake rewards, paid whether it
        trades or not, are left out. The change in its holdings is given too: it also carries the
        CMP price's moves while the owner held credits."""
        m = self.sim.mirror
        accounts = (w.provider, w.customer.address)
        owed = sum(pending.get(a, 0) for a in accounts)
        mint_spread = mint_spread_usd(w)
        redeem_spread = from_wei(w.redeemed_crd) - w.redeem_cmp_usd
        fees = from_wei(w.fees_crd)
        gas = self.gas.gas(accounts)
        spent = mint_spread + redeem_spread + fees + self.gas.usd(gas)
        gained = w.activity_usd + from_wei(owed) * price
        cmp, crd = self._holdings(w)
        start = self.start_value[w.customer.address]
        stake_cmp = sum(self.stake_rewards[a] for a in accounts)
        holdings = from_wei(cmp - start - stake_cmp + owed) * price + from_wei(crd)
        settled = [j for j in w.jobs if m.jobs[j].status == Status.SETTLED]
        details = {
            "jobs_posted": len(w.jobs),
            "jobs_settled": len(settled),
            "washed_volume_usd": _usd(sum((from_wei(m.jobs[j].paid_gross) for j in settled), Decimal(0))),
            "fees_usd": _usd(fees),
            "mint_spread_usd": _usd(mint_spread),
            "redeem_spread_usd": _usd(redeem_spread),
            "activity_rewards_cmp": _cmp(sum(self.activity[a] for a in accounts) + owed),
            "activity_rewards_owed_cmp": _cmp(owed),
            "stake_rewards_cmp_excluded": _cmp(stake_cmp),
            "holdings_change_usd": _usd(holdings),
            **gas_details(self.gas, gas),
        }
        return _row("wash", [w.customer.address, w.provider], spent, gained, "the fee cap", details)

    def _lowball_row(self, p: Provider, price: Decimal) -> dict[str, Any]:
        pnl = p.ledger.pnl(price)
        dedicated = p.costs.ownership_per_hour() * pnl.busy_gpu_hours
        gas = self.gas.gas([p.address])
        spent = pnl.marginal_cost + dedicated + self.gas.usd(gas)
        gained = pnl.credits_usd  # credits earned, slashes as negative revenue; no rewards
        details = {
            "busy_gpu_hours": str(pnl.busy_gpu_hours.quantize(Decimal("0.0001"))),
            "bid_usd_per_gpu_hour": str(from_wei(max(1, p.ask_wei // LOWBALL_SHARE))),
            "ask_usd": str(p.ask),
            "leases": sum(1 for j in self.sim.mirror.jobs.values() if j.provider == p.address and j.lease_start),
            "marginal_cost_usd": _usd(pnl.marginal_cost),
            "ownership_of_busy_hours_usd": _usd(dedicated),
            "profit_before_rewards_usd": _usd(pnl.profit - pnl.rewards_usd),
            "slashed_usd": _usd(p.slashed_usd),
            **gas_details(self.gas, gas),
        }
        return _row("lowball", [p.address], spent, gained, "collateral at the max price; serves below cost", details)

    def _shill_row(self, s: Shill) -> dict[str, Any]:
        m = self.sim.mirror
        improvement = Decimal(0)
        improved = 0
        for job_id in s.jobs:
            job = m.jobs[job_id]
            if not job.lease_start or job.provider in s.providers or job.status in (Status.FAILED, Status.CANCELLED):
                continue  # only leases it paid for in full
            honest = sorted(p for a, p in self.reveals[job_id].items() if a not in s.providers)
            without = honest[1] if len(honest) > 1 else job.max_price  # the clearing price without shills
            saved = from_wei(job.lease_value(without - job.price))  # the price cut over the lease
            if saved > 0:
                improved += 1
                improvement += saved
        bonds = sum((self.forfeited[a] for a in s.providers), Decimal(0))
        # the shill providers' transactions only: the customer's own would be sent anyway
        gas = self.gas.gas(s.providers)
        details = {
            "jobs_posted": len(s.jobs),
            "shill_commitments": len(s.bids),
            "shill_reveals": len(s.revealed),
            "jobs_with_lower_price": improved,
            "bonds_forfeited_cmp": _cmp(sum(self.forfeited_cmp[a] for a in s.providers)),
            "bonds_forfeited_usd": _usd(bonds),
            **gas_details(self.gas, gas),
        }
        spent = bonds + self.gas.usd(gas)
        # what stops it when it loses: the bonds (the protocol's rule) or only its commitments' gas
        stopped = "lapsed bonds go to the treasury" if improvement < bonds else "the gas of its commitments"
        return _row(
            "shill",
            [s.customer.address, *s.providers],
            spent,
            improvement,
            stopped,
            details,
        )

    def _fake_row(self, p: Provider) -> dict[str, Any]:
        """A fake-result provider against honest behaviour: the marginal cost of the GPU-hours it
        faked (saved), less its slashes and the pay withheld from the faked leases that failed."""
        m = self.sim.mirror
        planned = [m.jobs[j] for j, plan in p.plans.items() if plan == "fake" and m.jobs[j].lease_start]
        # judged on resolved outcomes: a faked lease still running, or whose result may still be
        # challenged, counts neither its saving nor its penalty yet
        faked = [j for j in planned if j.status in (Status.SETTLED, Status.FAILED)]
        hours = sum((Decimal(j.gpu_count * j.duration) / HOUR for j in faked), Decimal(0))
        saved = p.costs.marginal_per_busy_hour() * hours
        withheld = sum(
            (from_wei(j.lease_value() - j.paid_gross) for j in faked if j.status == Status.FAILED),
            Decimal(0),
        )
        details = {
            "faked_jobs": len(faked),
            "faked_unresolved": len(planned) - len(faked),
            "faked_gpu_hours": str(hours.quantize(Decimal("0.0001"))),
            "failed": sum(1 for j in faked if j.status == Status.FAILED),
            "settled_fake": sum(1 for j in faked if j.status == Status.SETTLED),
            "slashed_usd": _usd(p.slashed_usd),
            "pay_withheld_usd": _usd(withheld),
        }
        return _row("fake", [p.address], p.slashed_usd + withheld, saved, "challenges and slashing", details)

    def _lazy_rows(self, price: Decimal) -> list[dict[str, Any]]:
        """Lazy verifiers against the honest ones: what each earned (fees and jury credits, activity
        rewards) less its slashes, minus the honest verifiers' mean of the same."""
        sim = self.sim
        assert sim.reviewing is not None

        def earned(address: str) -> tuple[Decimal, Decimal]:
            gained = from_wei(sim.mirror.balances["CRD"][address]) + from_wei(self.activity[address]) * price
            return gained, self.verifier_slashed_usd[address]

        ours = set(self.jury.stake) if self.jury is not None else set()  # the jury adversaries' identities
        honest = [earned(v.address) for v in sim.reviewing.verifiers if not v.lazy and v.address not in ours]
        baseline = sum((g - s for g, s in honest), Decimal(0)) / len(honest) if honest else Decimal(0)
        out: list[dict[str, Any]] = []
        for v in sim.reviewing.verifiers:
            if not v.lazy:
                continue
            gained, slashed = earned(v.address)
            details = {
                "earned_usd": _usd(gained),
                "slashed_cmp": _cmp(self.verifier_slashed[v.address]),
                "slashed_usd": _usd(slashed),
                "honest_mean_net_usd": _usd(baseline),
            }
            # relative to honest behaviour: what it earned beyond the honest mean, less its penalties
            out.append(_row("lazy", [v.address], slashed + baseline, gained, "absence and jury penalties", details))
        return out


def _honest(job_id: int, provider: str) -> bytes:
    from compute_market.agent import honest_result

    return honest_result(job_id, provider)


def _usd(value: Decimal) -> str:
    return str(value.quantize(CENT))


def _cmp(wei: int) -> str:
    return str(from_wei(wei).quantize(Decimal("0.0001")))


def gas_details(book: GasBook, gas: int) -> dict[str, Any]:
    """A row's `details` entries for the gas its attack used and what it cost."""
    return {"gas_used": gas, "gas_usd": _usd(book.usd(gas))}


def _row(
    kind: str, addresses: list[str], spent: Decimal, gained: Decimal, stopped: str, details: dict[str, Any]
) -> dict[str, Any]:
    net = gained.quantize(CENT) - spent.quantize(CENT)  # the table adds up to the cent
    return {
        "kind": kind,
        "addresses": addresses,
        "spent_usd": _usd(spent),
        "gained_usd": _usd(gained),
        "net_usd": _usd(net),
        "stopped_by": stopped
        if net < 0
        else "nothing gained or lost"
        if not gained and not spent
        else f"not stopped ({stopped} did not outweigh the gain)",
        "details": details,
    }


__all__ = ["KINDS", "Adversaries", "LowballProvider", "parse_adversaries"]
