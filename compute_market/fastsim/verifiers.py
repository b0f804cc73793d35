"""Result review: verifiers staked in the ledger (the provider registry), customers asking for a
verifier, the keeper making the ledger's draws (`processDraws`) and closing votes, verifiers
attesting and sitting on juries (commit and reveal votes with salts), majority jurors claiming
their rewards, verifiers unstaking (`requestVerifierUnstake`, then `withdrawVerifierStake` once
unbonded), all when the run has verifiers (`FastSimConfig.verifiers`); the keeper's part also
when customers challenge results (`check_rate`), which needs no verifier (an undrawn jury goes
to the arbiter). Every decision comes from the mirror and the run's seeded generator."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from compute_market.agent import honest_result
from compute_market.fastsim.chain import Tx
from compute_market.fastsim.mirror import JobState, Status
from compute_market.models import Attestation, DisputeStatus
from compute_market.units import DAY, HOUR, to_wei

if TYPE_CHECKING:
    from compute_market.fastsim.engine import FastSim

PER_DRAW_GAS = 800_000  # gas limit per queued entry `processDraws` is asked to process


@dataclass
class Verifier:
    """A staked verifier; a lazy one approves every result and votes at random (and forgets to
    reveal half its votes), as in the Ape engine."""

    address: str
    lazy: bool
    votes: dict[int, tuple[bool, bytes]] = field(default_factory=dict)  # job id → (fault, salt) committed
    unstake_day: int = 0  # the latest simulated day it considered unstaking
    unstakes: bool = True  # whether it considers unstaking (an adversary's identities keep their stake)

    def verdict(self, honest: bool) -> bool:
        """Its attestation: whether the result is fine."""
        return True if self.lazy else honest

    def vote(self, honest: bool, rng: random.Random) -> bool:
        """Its vote: whether the provider is at fault."""
        return rng.random() < 0.5 if self.lazy else not honest

    def attestation(self, job: JobState, last_chance: bool) -> bool | None:
        """Its attestation on `job` now (None: not yet; an adversary's identities override it)."""
        return self.verdict(is_honest(job))

    def ballot(self, job: JobState, rng: random.Random) -> bool:
        """Its vote on `job`'s dispute (an adversary's identities override it)."""
        return self.vote(is_honest(job), rng)


def vote_commitment(job_id: int, juror: str, fault: bool, salt: bytes) -> bytes:
    """`keccak256(abi.encode(jobId, juror, providerFault, salt))`, as `commitVote` expects."""
    return keccak(encode(["uint256", "address", "bool", "bytes32"], [job_id, juror, fault, salt]))


def is_honest(job: JobState) -> bool:
    """Whether the job's submitted result is the honest digest."""
    return job.result_hash == honest_result(job.job_id, job.provider)


class Reviewing:
    """The review duties of a run's actors, on the run's mirror and generator."""

    def __init__(self, sim: FastSim) -> None:
        self.sim = sim
        cfg = sim.cfg
        self.verifiers = [
            Verifier(_address(i), sim.rng.random() < cfg.lazy_verifier_rate) for i in range(cfg.verifiers)
        ]
        self.by_address = {v.address: v for v in self.verifiers}
        self.attest_window = 0

    @property
    def on(self) -> bool:
        """Whether the run has verifiers."""
        return bool(self.verifiers)

    @property
    def challenges(self) -> bool:
        """Whether customers check results and challenge the fakes."""
        return self.sim.cfg.check_rate > 0

    @property
    def disputes(self) -> bool:
        """Whether disputes can open (a verifier's rejection or a customer's challenge)."""
        return self.on or self.challenges

    @property
    def unstaking(self) -> bool:
        return self.on and self.sim.cfg.verifier_unstake_per_day > 0

    # ------------------------------------------------------------------ set-up

    def funding(self) -> list[Tx]:
        """CMP for each verifier; the resolver's vote and appeal periods shortened to an hour
        (as the Ape engine does), so that a dispute ends within hours."""
        admin, cfg = self.sim.admin, self.sim.cfg
        txs = [
            Tx(admin, "setup", "ComputeToken", "transfer", (v.address, to_wei(cfg.verifier_cmp)))
            for v in self.verifiers
        ]
        if self.disputes:
            for setter in ("setVoteCommitPeriod", "setVoteRevealPeriod", "setAppealWindow"):
                txs.append(Tx(admin, "setup", "DisputeResolver", setter, (HOUR,)))
        return txs

    def joining(self) -> list[Tx]:
        """Each verifier approves the ledger, registers and stakes; the admin shortens the
        ledger's unbonding period (after the resolver's periods: `slashDelay` must stay below it)."""
        registry, stake = self.sim.chain.address("ProviderRegistry"), to_wei(self.sim.cfg.verifier_stake)
        txs: list[Tx] = []
        if self.unstaking:
            period = (self.sim.cfg.unbonding_period,)
            txs.append(Tx(self.sim.admin, "setup", "ProviderRegistry", "setUnbondingPeriod", period))
        for v in self.verifiers:
            txs += [
                Tx(v.address, "setup", "ComputeToken", "approve", (registry, 2**256 - 1)),
                Tx(v.address, "setup", "ProviderRegistry", "registerVerifier", ()),
                Tx(v.address, "setup", "ProviderRegistry", "stakeAsVerifier", (stake,)),
            ]
        return txs

    def read_parameters(self) -> None:
        (self.attest_window,) = (int(v[0]) for v in self.sim.chain.calls([("DisputeResolver", "attestWindow", ())]))

    # ------------------------------------------------------------------ the keeper

    def keeper(self, now: int, txs: list[Tx]) -> None:
        """Processes the ledger's ready entries; closes votes past their reveal end; decides,
        as the arbiter, the disputes a jury could not (on the facts); slashes absent verifiers."""
        sim = self.sim
        review, admin = sim.mirror.review, sim.admin
        ready = review.ready(sim.head_block)
        if ready:
            txs.append(Tx(admin, "keeper", "ProviderRegistry", "processDraws", (ready,), gas=PER_DRAW_GAS * ready))
        for job_id in sim.live:
            job = sim.mirror.jobs[job_id]
            dispute = review.disputes.get(job_id)
            if dispute is not None and job.status == Status.DISPUTED:
                if dispute.status == DisputeStatus.VOTING and now >= dispute.reveal_end:
                    txs.append(Tx(admin, "keeper", "DisputeResolver", "resolve", (job_id,)))
                elif dispute.status == DisputeStatus.AWAITING_ARBITER and now < dispute.appeal_end:
                    txs.append(Tx(admin, "keeper", "DisputeResolver", "arbitrate", (job_id, not is_honest(job))))
            v = review.verifications.get(job_id)
            if v is not None and v.attestation == Attestation.NONE and v.deadline and now > v.deadline:
                resolved = dispute is not None and dispute.status == DisputeStatus.RESOLVED
                if not resolved:
                    txs.append(Tx(admin, "keeper", "DisputeResolver", "slashAbsentVerifier", (job_id,)))

    # ------------------------------------------------------------------ customers

    def request(self, job: JobState, now: int) -> Tx | None:
        """The customer's `requestVerifier` for a result it asked to have verified, while the
        verifier's window still fits in the challenge window."""
        v = self.sim.mirror.review.verifications.get(job.job_id)
        if not job.verification or job.status != Status.RESULT_SUBMITTED or (v is not None and v.requested):
            return None
        if now + self.attest_window >= job.challenge_end:
            return None
        return Tx(job.customer, "customer", "DisputeResolver", "requestVerifier", (job.job_id,))

    # ------------------------------------------------------------------ verifiers

    def verifiers_step(self, now: int, txs: list[Tx]) -> None:
        """Attestations, jury votes (commit, then reveal) and jury reward claims."""
        sim = self.sim
        review = sim.mirror.review
        for job_id in sim.live:
            job = sim.mirror.jobs[job_id]
            v = review.verifications.get(job_id)
            if v is not None and v.attestation == Attestation.NONE and now <= v.deadline:
                dispute = review.disputes.get(job_id)
                verifier = self.by_address.get(v.verifier)
                open_ = dispute is None or dispute.status != DisputeStatus.RESOLVED
                if verifier is not None and open_ and job.status in (Status.RESULT_SUBMITTED, Status.DISPUTED):
                    ok = verifier.attestation(job, now + sim.cfg.step_seconds > v.deadline)
                    if ok is not None:
                        txs.append(Tx(verifier.address, "verifier", "DisputeResolver", "attest", (job_id, ok)))
            dispute = review.disputes.get(job_id)
            if dispute is not None and dispute.status == DisputeStatus.VOTING:
                for juror, ballot in dispute.jurors.items():
                    verifier = self.by_address.get(juror)
                    if verifier is not None:
                        self._jury_duty(verifier, job, ballot.committed, ballot.revealed, dispute.commit_end, now, txs)
        if self.unstaking:
            self._unstake(now, txs)
        for job_id in list(review.rewards_open):  # disputes whose majority jurors may claim
            dispute = review.disputes[job_id]
            unclaimed = [
                j for j, b in dispute.jurors.items() if b.revealed and b.fault == dispute.fault and not b.claimed
            ]
            if not unclaimed:
                del review.rewards_open[job_id]
            for juror in unclaimed:
                if juror in self.by_address and (dispute.token_share or dispute.credit_share):
                    txs.append(Tx(juror, "verifier", "DisputeResolver", "claimJuryReward", (job_id,)))

    def _unstake(self, now: int, txs: list[Tx]) -> None:
        """Withdraws unbonded stake once its unbonding is over; once a simulated day, with a
        chance of `verifier_unstake_per_day`, a verifier with nothing unbonding asks to unstake
        half its active stake, keeping at least `MIN_VERIFIER_STAKE` (it leaves the draws at once,
        stays slashable while unbonding)."""
        sim = self.sim
        review = sim.mirror.review
        day = (now - sim.start_time) // DAY + 1
        for v in self.verifiers:
            if not v.unstakes:
                continue
            unbonding, end = review.unbonding.get(v.address, (0, 0))
            if unbonding and now >= end:
                txs.append(Tx(v.address, "verifier", "ProviderRegistry", "withdrawVerifierStake", ()))
                continue
            if v.unstake_day == day:
                continue
            v.unstake_day = day
            active = review.active(v.address)  # keeps half, never less than the ledger's minimum
            amount = active - max(active - active // 2, sim.min_verifier_stake)
            if sim.rng.random() < sim.cfg.verifier_unstake_per_day and not unbonding and amount > 0:
                txs.append(Tx(v.address, "verifier", "ProviderRegistry", "requestVerifierUnstake", (amount,)))

    def _jury_duty(
        self,
        verifier: Verifier,
        job: JobState,
        committed: bool,
        revealed: bool,
        commit_end: int,
        now: int,
        txs: list[Tx],
    ) -> None:
        """A juror's vote: committed with a fresh salt while the commit period lasts, revealed
        in the reveal period (a lazy juror forgets half the time)."""
        rng = self.sim.rng
        dispute = self.sim.mirror.review.disputes[job.job_id]
        if not committed and job.job_id not in verifier.votes and now < commit_end:
            fault, salt = verifier.ballot(job, rng), rng.randbytes(32)
            commitment = vote_commitment(job.job_id, verifier.address, fault, salt)
            txs.append(Tx(verifier.address, "verifier", "DisputeResolver", "commitVote", (job.job_id, commitment)))
            verifier.votes[job.job_id] = (fault, salt)
        elif committed and not revealed and commit_end <= now < dispute.reveal_end and job.job_id in verifier.votes:
            if verifier.lazy and rng.random() < 0.5:
                verifier.votes.pop(job.job_id)  # forgets to reveal: penalised
                return
            fault, salt = verifier.votes.pop(job.job_id)
            txs.append(Tx(verifier.address, "verifier", "DisputeResolver", "revealVote", (job.job_id, fault, salt)))


def _address(index: int) -> str:
    return "0x" + keccak(text=f"fastsim:verifier:{index}")[-20:].hex()
