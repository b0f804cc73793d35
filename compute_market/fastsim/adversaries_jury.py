"""Jury adversaries with their own P&L (issue 18): a jury grinder and a sybil verifier farm, off by
default (`FastSimConfig.adversaries`: `grinder=N`, `sybil=N`); meant for runs with verifiers.

    grinder  one owner staking `GRINDER_IDENTITIES` verifier identities of `verifier_stake` each, and
             a challenger address of its own (a verifier staking 1,000 CMP, the least: staked parties may challenge
             any result). What a grinder can try against this protocol: the jury is drawn by stake
             from the hash of a block after the challenge, with the stake as it stood at the
             challenge, never the challenger, the parties or the verifier, and a job is disputed
             once; it cannot choose or re-draw its jury (tests/unit/dispute_resolver/). It can
             only hold many seats: split its stake over many identities (one identity holds at most
             one seat). So it challenges every honest result of the market (not the other
             adversaries' jobs) while the window is open; once the jury is drawn it counts its
             seats, and when they are a majority of the jury its identities vote "provider at
             fault" (the honest minority loses `jurorPenaltyBps` of a seat's stake, burned, the
             provider its collateral); otherwise they vote honestly and the bond is lost. Elsewhere its
             identities attest and vote honestly and claim their rewards like any verifier.
    sybil    one owner splitting one honest verifier's capital (`verifier_stake`) over
             `SYBIL_IDENTITIES` identities that all do honest duty (attest, vote, claim), against a
             control: one honest verifier of the same capital added to the same market. Its row is
             the farm's earnings less the control's (relative, as the lazy verifiers' row).

Every figure comes from the mirror and the logs of the block it moved in (CMP at that block's
oracle answer; what is still owed at the end at the last answer; docs/fastsim.md, "Adversaries")."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from compute_market.fastsim.actors import Customer
from compute_market.fastsim.books import GasBook, book_mint, mint_spread_usd
from compute_market.fastsim.chain import Block, Tx
from compute_market.fastsim.mirror import JobState, Status
from compute_market.fastsim.review import Dispute
from compute_market.fastsim.verifiers import Verifier, is_honest
from compute_market.models import Attestation, DisputeStatus
from compute_market.units import from_wei, to_wei

if TYPE_CHECKING:
    from compute_market.fastsim.engine import FastSim
    from compute_market.fastsim.verifiers import Reviewing

JURY_KINDS = ("grinder", "sybil")
GRINDER_IDENTITIES = 8  # verifier identities of the grinder, `verifier_stake` each
# Identities of the farm, sharing one verifier's `verifier_stake` (1,000 CMP each: the ledger's minimum).
SYBIL_IDENTITIES = 5
# A verifier's duty (what honest identities send too) and a juror's vote and claim, by function.
DUTY = frozenset(
    {
        "attest",
        "commitVote",
        "revealVote",
        "claimJuryReward",
        "claim",
        "requestVerifierUnstake",
        "withdrawVerifierStake",
    }
)
VOTES = frozenset({"commitVote", "revealVote", "claimJuryReward"})
# CMP the grinder's challenger stakes: any stake entitles it to challenge, and 1,000 is the ledger's least.
CHALLENGER_STAKE = 1_000
CHALLENGE_GAS = 700_000  # as the customers' challenges (`engine.CHALLENGE_GAS`)


@dataclass
class Identity(Verifier):
    """A staked verifier identity of an adversary: it attests and votes honestly and keeps its stake;
    a grinder's identities vote "at fault" on the grinder's own challenges once they hold a majority
    of the jury."""

    grinder: Grinder | None = field(default=None, repr=False, compare=False)

    def attestation(self, job: JobState, last_chance: bool) -> bool | None:
        """As the verifier of a result its grinder challenged: it waits (a verdict first excuses it),
        and at its last chance rejects the result when the grinder's jury is captured."""
        g = self.grinder
        if g is not None and job.job_id in g.challenged:
            return None if not last_chance else not g.capture(job.job_id)
        return super().attestation(job, last_chance)

    def ballot(self, job: JobState, rng: random.Random) -> bool:
        g = self.grinder
        if g is not None and job.job_id in g.challenged and g.capture(job.job_id):
            return True
        return super().ballot(job, rng)


@dataclass
class Grinder:
    """A jury grinder: its challenger, its identities and the results it challenged."""

    challenger: Customer  # posts the bonds (mints its credits like a customer)
    identities: list[Identity] = field(default_factory=list)
    challenged: dict[int, None] = field(default_factory=dict)  # job ids, in order
    seats: dict[int, int] = field(default_factory=dict)  # job → its seats on the jury drawn
    captured: dict[int, bool] = field(default_factory=dict)  # job → its seats are a majority of the jury
    # flows, each valued in USD at the oracle's answer of its block
    mint_cmp_usd: Decimal = Decimal(0)  # CMP the challenger burned for credits
    minted_crd: int = 0
    bonds_paid: int = 0  # credits the challenger sent the resolver
    bonds_returned: int = 0  # and got back
    rewards_usd: Decimal = Decimal(0)  # its jurors' shares on its own disputes, claimed
    rewards_elsewhere_usd: Decimal = Decimal(0)  # on other disputes (honest duty), CMP part only
    jackpot_usd: Decimal = Decimal(0)  # whistleblower jackpots paid to the challenger
    finder_usd: Decimal = Decimal(0)  # finder's cuts its identities got as verifiers of its disputes
    penalties_usd: Decimal = Decimal(0)  # its identities' slashes on its own disputes (jurors, verifier)
    penalties_cmp: int = 0
    honest_penalised_cmp: int = 0  # honest jurors' penalties on its disputes (taken by its majority)
    gas: int = 0  # its attack's gas: set-up, the challenger's challenges and mints, its votes on them
    review: Any = field(default=None, repr=False, compare=False)  # the run's mirror of review (`Mirror.review`)

    @property
    def addresses(self) -> set[str]:
        return {i.address for i in self.identities}

    def capture(self, job_id: int) -> bool:
        """Counts its seats on the jury drawn for its challenge of `job_id` (once drawn): whether
        they are a majority of the jury (then its identities vote "at fault")."""
        if job_id not in self.seats:
            dispute = self.review.disputes.get(job_id)
            if dispute is None or not dispute.jurors:
                return False
            mine = self.addresses
            self.seats[job_id] = sum(b.seats for juror, b in dispute.jurors.items() if juror in mine)
            self.captured[job_id] = self.seats[job_id] >= dispute.seat_count // 2 + 1
        return self.captured[job_id]


@dataclass
class Farm:
    """A sybil verifier farm and its control (one honest verifier of the same capital)."""

    identities: list[Identity]
    control: Identity


@dataclass
class Books:
    """What one verifier identity earned and lost, from the logs (USD at each block's answer)."""

    jury_cmp_usd: Decimal = Decimal(0)  # CMP shares claimed (`JurorRewarded.tokens`)
    jury_cmp: int = 0
    ledger_usd: Decimal = Decimal(0)  # CMP the ledger paid it (a finder's cut of a slashed collateral)
    ledger_cmp: int = 0
    activity_usd: Decimal = Decimal(0)  # `Claimed.activityRewards`
    stake_usd: Decimal = Decimal(0)  # `Claimed.stakeRewards`
    activity_cmp: int = 0
    stake_cmp: int = 0
    slashed_usd: Decimal = Decimal(0)  # `VerifierSlashed`
    slashed_cmp: int = 0


class JuryAdversaries:
    """The run's jury grinders and sybil farms: set-up, their moves, their books and rows."""

    def __init__(self, sim: FastSim, counts: dict[str, int], rng: random.Random, gas: GasBook) -> None:
        from compute_market.fastsim.engine import actor_address

        self.sim = sim
        self.rng = rng
        self.gas = gas  # the gas the identities' and challengers' transactions used
        cfg = sim.cfg
        self.grinders: list[Grinder] = []
        for g in range(counts.get("grinder", 0)):
            challenger = Customer(actor_address("adversary-grinder-challenger", g), 1.0, True)
            grinder = Grinder(challenger, review=sim.mirror.review)
            grinder.identities = [
                Identity(actor_address("adversary-grinder", g * GRINDER_IDENTITIES + k), False, unstakes=False)
                for k in range(GRINDER_IDENTITIES)
            ]
            for identity in grinder.identities:
                identity.grinder = grinder
            self.grinders.append(grinder)
        self.farms = [
            Farm(
                [
                    Identity(actor_address("adversary-sybil", f * SYBIL_IDENTITIES + k), False, unstakes=False)
                    for k in range(SYBIL_IDENTITIES)
                ],
                Identity(actor_address("adversary-sybil-control", f), False, unstakes=False),
            )
            for f in range(counts.get("sybil", 0))
        ]
        self.stake = {
            **{i.address: to_wei(cfg.verifier_stake) for g in self.grinders for i in g.identities},
            **{g.challenger.address: to_wei(CHALLENGER_STAKE) for g in self.grinders},
            **{i.address: to_wei(cfg.verifier_stake) // SYBIL_IDENTITIES for f in self.farms for i in f.identities},
            **{f.control.address: to_wei(cfg.verifier_stake) for f in self.farms},
        }
        self.verifiers: list[Identity] = []  # every staked identity, the challengers included (they may be drawn)
        for grinder in self.grinders:
            self.verifiers += [*grinder.identities, Identity(grinder.challenger.address, False, unstakes=False)]
        for farm in self.farms:
            self.verifiers += [*farm.identities, farm.control]
        self.books: defaultdict[str, Books] = defaultdict(Books)
        self.pending: dict[str, tuple[int, int]] = {}  # (activity, stake) owed at the end (`finish`)
        self.others: set[str] = set()  # the other adversaries' addresses (the grinder leaves their jobs)

    # ------------------------------------------------------------------ set-up

    def senders(self) -> list[str]:
        return [v.address for v in self.verifiers]

    def funding(self) -> list[Tx]:
        """CMP from the admin: each identity its stake, each challenger a customer's CMP besides."""
        cfg, admin = self.sim.cfg, self.sim.admin
        txs = [Tx(admin, "setup", "ComputeToken", "transfer", (a, amount)) for a, amount in self.stake.items()]
        for g in self.grinders:
            txs.append(Tx(admin, "setup", "ComputeToken", "transfer", (g.challenger.address, to_wei(cfg.customer_cmp))))
        return txs

    def joining(self) -> list[Tx]:
        """Each identity approves the ledger, registers as a verifier and stakes; the challengers also
        approve the credits (to mint) and the resolver (the bonds)."""
        sim = self.sim
        registry, credits = sim.chain.address("ProviderRegistry"), sim.chain.address("ComputeCredits")
        txs: list[Tx] = []
        for address, amount in self.stake.items():
            txs += [
                Tx(address, "setup", "ComputeToken", "approve", (registry, 2**256 - 1)),
                Tx(address, "setup", "ProviderRegistry", "registerVerifier", ()),
                Tx(address, "setup", "ProviderRegistry", "stakeAsVerifier", (amount,)),
            ]
        for g in self.grinders:
            txs += [
                Tx(g.challenger.address, "setup", "ComputeToken", "approve", (credits, 2**256 - 1)),
                Tx(g.challenger.address, "setup", "ComputeCredits", "approve", (sim.resolver, 2**256 - 1)),
            ]
        return txs

    def started(self, reviewing: Reviewing, others: set[str]) -> None:
        """Once set up: the identities join the run's verifiers (attestations, jury duty, claims)."""
        self.others = others
        for v in self.verifiers:
            reviewing.verifiers.append(v)
            reviewing.by_address[v.address] = v

    # ------------------------------------------------------------------ each step

    def step(self, now: int, view: Any, txs: list[Tx]) -> None:
        for g in self.grinders:
            self._grind(g, now, view, txs)

    def _grind(self, g: Grinder, now: int, view: Any, txs: list[Tx]) -> None:
        """Challenges every honest result still open to challenge (not another adversary's job, nor
        one its own identity verifies); marks its seats on the juries drawn for its challenges."""
        sim = self.sim
        review = sim.mirror.review
        mine = g.addresses
        for job_id in g.challenged:
            g.capture(job_id)  # its seats on the juries drawn (a jury it never sits on is counted too)
        for job_id in sim.live:
            job = sim.mirror.jobs[job_id]
            if job.status != Status.RESULT_SUBMITTED or job_id in g.challenged or job_id in review.disputes:
                continue
            if now >= job.challenge_end or not is_honest(job):
                continue
            if job.customer in self.others or job.provider in self.others or job_id in view.handled:
                continue
            verification = review.verifications.get(job_id)
            if verification is not None and verification.verifier in mine:
                continue  # a fault verdict would slash its own verifier
            if not sim._fund(g.challenger, sim.challenge_bond, view, txs):
                return
            args = (job_id, "result does not match the work")
            txs.append(Tx(g.challenger.address, "adversary", "DisputeResolver", "challenge", args, gas=CHALLENGE_GAS))
            view.credits[g.challenger.address] -= sim.challenge_bond
            view.handled.add(job_id)
            g.challenged[job_id] = None

    # ------------------------------------------------------------------ the books

    def after_block(self, block: Block, price: Decimal) -> None:
        """Follows the identities' and challengers' flows in a mined block."""
        resolver, ledger = self.sim.resolver, self.sim.chain.address("ProviderRegistry")
        challengers = {g.challenger.address: g for g in self.grinders}
        owner = {i.address: g for g in self.grinders for i in g.identities}
        ours = {v.address for v in self.verifiers}
        grinded = {j: g for g in self.grinders for j in g.challenged}
        # the job a transaction's resolver logs name: a verifier slash in it belongs to that dispute
        job_of = {
            log.tx: int(log.args["jobId"])
            for log in block.logs
            if log.contract == "DisputeResolver" and "jobId" in log.args
        }
        for log in block.logs:
            args, event = log.args, log.event
            if event == "Transfer" and (args["from"] in challengers or args["to"] in challengers):
                self._transfer(challengers, log.contract, args, resolver, price)
            elif (
                event == "Transfer" and log.contract == "ComputeToken" and args["from"] == ledger and args["to"] in ours
            ):
                value, to = int(args["value"]), args["to"]
                self.books[to].ledger_cmp += value
                self.books[to].ledger_usd += from_wei(value) * price
                g = owner.get(to)
                if g is not None and job_of.get(log.tx) in g.challenged:
                    g.finder_usd += from_wei(value) * price
            elif log.contract == "DisputeResolver" and event == "JurorRewarded" and args["juror"] in ours:
                job_id, juror = int(args["jobId"]), args["juror"]
                tokens = from_wei(int(args["tokens"])) * price
                self.books[juror].jury_cmp_usd += tokens
                self.books[juror].jury_cmp += int(args["tokens"])
                g = owner.get(juror)
                if g is not None and job_id in g.challenged:
                    g.rewards_usd += tokens + from_wei(int(args["credits"]))
                elif g is not None:
                    g.rewards_elsewhere_usd += tokens
            elif log.contract == "DisputeResolver" and event == "JurorPenalized":
                job_id, juror, amount = int(args["jobId"]), args["juror"], int(args["amount"])
                g = grinded.get(job_id)
                if g is not None and juror not in g.addresses:
                    g.honest_penalised_cmp += amount
            elif log.contract == "DisputeResolver" and event == "JackpotPaid" and args["whistleblower"] in challengers:
                challengers[args["whistleblower"]].jackpot_usd += from_wei(int(args["amount"])) * price
            elif log.contract == "ProviderRegistry" and event == "VerifierSlashed" and args["verifier"] in ours:
                verifier, amount = args["verifier"], int(args["amount"])
                books = self.books[verifier]
                books.slashed_usd += from_wei(amount) * price
                books.slashed_cmp += amount
                g = owner.get(verifier)
                if g is not None and job_of.get(log.tx) in g.challenged:  # on its own dispute
                    g.penalties_usd += from_wei(amount) * price
                    g.penalties_cmp += amount

    def _transfer(
        self, challengers: dict[str, Grinder], contract: str, args: dict[str, Any], resolver: str, price: Decimal
    ) -> None:
        sender, to, value = args["from"], args["to"], int(args["value"])
        if book_mint(challengers, contract, sender, to, value, price):
            return
        if contract == "ComputeCredits" and sender in challengers and to == resolver:
            challengers[sender].bonds_paid += value
        elif contract == "ComputeCredits" and sender == resolver and to in challengers:
            challengers[to].bonds_returned += value

    def claimed(self, account: str, activity: int, stake: int, price: Decimal) -> None:
        """A `Claimed` log of the distributor (the adversaries' `_claims` tells every one)."""
        if account in self.stake:
            books = self.books[account]
            books.activity_cmp += activity
            books.stake_cmp += stake
            books.activity_usd += from_wei(activity) * price
            books.stake_usd += from_wei(stake) * price

    def finish(self) -> None:
        """At the run's end: the activity and stake rewards every identity is owed, not claimed."""
        accounts = list(self.stake)
        if accounts:
            answers = self.sim.chain.calls([("RewardsDistributor", "pendingRewards", (a,)) for a in accounts])
            self.pending = {a: (int(v[0]), int(v[1])) for a, v in zip(accounts, answers, strict=True)}

    # ------------------------------------------------------------------ P&L

    def book_attack_gas(self, tx: Tx, gas: int) -> None:
        """Books a grinder's attack gas: its challenger's transactions but its verifier duty, and
        its identities' set-up and votes and claims on the disputes it opened (their duty elsewhere,
        like its rewards, is left out)."""
        for g in self.grinders:
            challenger = tx.sender == g.challenger.address and tx.function not in DUTY
            own_vote = tx.function in VOTES and int(tx.args[0]) in g.challenged
            if challenger or (tx.sender in g.addresses and (tx.actor == "setup" or own_vote)):
                g.gas += gas

    def rows(self, price: Decimal) -> list[dict[str, Any]]:
        from compute_market.fastsim.adversaries import _row

        out: list[dict[str, Any]] = []
        for g in self.grinders:
            spent, gained, details = self._grinder_books(g, price)
            stopped = "minority and absent jurors' penalties burned, not paid to a (captured) majority"
            out.append(_row("grinder", [g.challenger.address, *sorted(g.addresses)], spent, gained, stopped, details))
        for f in self.farms:
            spent, gained, details = self._farm_books(f, price)
            stopped = (
                "stake-weighted draws and emissions (splitting earns the same per CMP)"
                if Decimal(details["net_before_gas_usd"]) < 0
                else "the gas of its extra identities (seats, pay and penalties follow the stake)"
            )
            out.append(_row("sybil", [i.address for i in f.identities], spent, gained, stopped, details))
        return out

    def _owed(self, dispute: Dispute, juror: str) -> bool:
        """Whether `juror` is owed an unclaimed majority share of `dispute`."""
        ballot = dispute.jurors.get(juror)
        return (
            dispute.status == DisputeStatus.RESOLVED
            and dispute.by_jury
            and ballot is not None
            and ballot.revealed
            and ballot.fault == dispute.fault
            and not ballot.claimed
        )

    def _grinder_books(self, g: Grinder, price: Decimal) -> tuple[Decimal, Decimal, dict[str, Any]]:
        """Its attack only: gained = its jurors' shares on its own disputes (claimed at the claim's
        answer, owed at the last) and the challenger's jackpots; spent = the bonds it lost, its jurors'
        penalties on its disputes, and the spread of minting the bonds' credits. Its identities'
        honest duty elsewhere (fees, rewards, stake rewards) is left out and given in `details`."""
        from compute_market.fastsim.adversaries import _cmp, _usd, gas_details

        m, sim = self.sim.mirror, self.sim
        review = m.review
        disputes = {j: review.disputes[j] for j in g.challenged if j in review.disputes}
        opened = {j: d for j, d in disputes.items() if d.challenger == g.challenger.address}
        resolved = {j: d for j, d in opened.items() if d.status == DisputeStatus.RESOLVED}
        unresolved_bonds = sim.challenge_bond * (len(opened) - len(resolved))
        owed = Decimal(0)
        for d in resolved.values():
            for juror in g.addresses:
                if self._owed(d, juror):
                    seats = d.jurors[juror].seats  # one share per seat
                    owed += (from_wei(d.token_share) * price + from_wei(d.credit_share)) * seats
        bonds_lost = from_wei(g.bonds_paid - g.bonds_returned - unresolved_bonds)
        mint_spread = mint_spread_usd(g)
        gas = g.gas  # `book_attack_gas`
        spent = bonds_lost + g.penalties_usd + mint_spread + self.gas.usd(gas)
        gained = g.rewards_usd + owed + g.jackpot_usd + g.finder_usd
        faults = [j for j, d in resolved.items() if d.fault]
        books = [self.books[a] for a in g.addresses]
        pending = [self.pending.get(a, (0, 0)) for a in g.addresses]
        duty_crd = sum((from_wei(m.balances["CRD"][a]) for a in g.addresses), Decimal(0))
        duty = (
            duty_crd
            + g.rewards_elsewhere_usd
            + sum((b.activity_usd + b.ledger_usd for b in books), Decimal(0))
            - g.finder_usd
            - (sum((b.slashed_usd for b in books), Decimal(0)) - g.penalties_usd)  # slashed elsewhere
        )
        stake = sum(self.stake[a] for a in g.addresses)
        total = sum(review.active(v) for v in review.verifier_stake)
        details = {
            "identities": len(g.identities),
            "stake_cmp": _cmp(stake),
            "stake_share_at_end": f"{stake / total:.3f}" if total else "0",
            "challenges": len(opened),
            "resolved": len(resolved),
            "juries_drawn": len(g.seats),
            "juries_captured": sum(g.captured.values()),
            "seats_histogram": {str(k): list(g.seats.values()).count(k) for k in sorted(set(g.seats.values()))},
            "fault_verdicts": len(faults),
            "no_fault_verdicts": len(resolved) - len(faults),
            "bonds_lost_usd": _usd(bonds_lost),
            "mint_spread_usd": _usd(mint_spread),
            "identities_slashed_usd": _usd(g.penalties_usd),
            "jury_rewards_usd": _usd(g.rewards_usd + owed),
            "jury_rewards_owed_usd": _usd(owed),
            "jackpots_usd": _usd(g.jackpot_usd),
            "finder_cuts_usd": _usd(g.finder_usd),
            "honest_jurors_penalised_cmp": _cmp(g.honest_penalised_cmp),
            "honest_collateral_slashed_cmp": _cmp(sum(m.jobs[j].collateral for j in faults)),
            "honest_duty_elsewhere_usd_excluded": _usd(duty),
            "stake_rewards_cmp_excluded": _cmp(sum(b.stake_cmp for b in books) + sum(p[1] for p in pending)),
            **gas_details(self.gas, gas),
        }
        return spent, gained, details

    def _earned(self, address: str, price: Decimal) -> tuple[Decimal, Decimal]:
        """An honest identity's earnings (credits: fees and jury credit shares; CMP: jury shares,
        finder's cuts, activity and stake rewards claimed, and owed at the end) and its slashes, in USD."""
        books = self.books[address]
        activity, stake = self.pending.get(address, (0, 0))
        gained = (
            from_wei(self.sim.mirror.balances["CRD"][address])
            + books.jury_cmp_usd
            + books.ledger_usd
            + books.activity_usd
            + books.stake_usd
            + from_wei(activity + stake) * price
        )
        return gained, books.slashed_usd

    def _farm_books(self, f: Farm, price: Decimal) -> tuple[Decimal, Decimal, dict[str, Any]]:
        """The farm's earnings less its slashes, against the control's (same capital, one identity):
        gained = the farm's earnings; spent = its slashes plus the control's net."""
        from compute_market.fastsim.adversaries import _cmp, _usd

        review = self.sim.mirror.review
        farm = [i.address for i in f.identities]
        earned = [self._earned(a, price) for a in farm]
        gained = sum((e for e, _ in earned), Decimal(0))
        slashed = sum((s for _, s in earned), Decimal(0))
        control_gained, control_slashed = self._earned(f.control.address, price)
        control_net = control_gained - control_slashed
        farm_gas, control_gas = self.gas.gas(farm), self.gas.gas([f.control.address])
        before_gas = gained - slashed - control_net
        extra_gas = self.gas.usd(farm_gas - control_gas)  # what splitting costs in gas

        def attested(addresses: list[str]) -> int:
            done = [v for v in review.verifications.values() if v.attestation != Attestation.NONE]
            return sum(1 for v in done if v.verifier in addresses)

        def seats(addresses: list[str]) -> int:
            return sum(b.seats for d in review.disputes.values() for juror, b in d.jurors.items() if juror in addresses)

        control = [f.control.address]

        def rewards(addresses: list[str], which: int) -> str:  # claimed and owed (0: activity, 1: stake)
            claimed = sum(self.books[a].activity_cmp if which == 0 else self.books[a].stake_cmp for a in addresses)
            return _cmp(claimed + sum(self.pending.get(a, (0, 0))[which] for a in addresses))

        details = {
            "identities": len(farm),
            "stake_per_identity_cmp": _cmp(self.stake[farm[0]]),
            "farm_net_usd": _usd(gained - slashed),
            "control_net_usd": _usd(control_net),
            "farm_slashed_usd": _usd(slashed),
            "control_slashed_usd": _usd(control_slashed),
            "farm_verifications": attested(farm),
            "control_verifications": attested(control),
            "farm_jury_seats": seats(farm),
            "control_jury_seats": seats(control),
            "farm_stake_rewards_cmp": rewards(farm, 1),
            "control_stake_rewards_cmp": rewards(control, 1),
            "farm_activity_rewards_cmp": rewards(farm, 0),
            "control_activity_rewards_cmp": rewards(control, 0),
            "farm_gas_used": farm_gas,
            "control_gas_used": control_gas,
            "extra_gas_used": farm_gas - control_gas,
            "net_before_gas_usd": _usd(before_gas),
            "extra_gas_usd": _usd(extra_gas),
        }
        return slashed + control_net + extra_gas, gained, details


__all__ = ["GRINDER_IDENTITIES", "JURY_KINDS", "SYBIL_IDENTITIES", "Farm", "Grinder", "Identity", "JuryAdversaries"]
