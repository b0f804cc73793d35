"""The whole protocol under random sequences (Hypothesis stateful testing): customers, providers,
verifiers and jurors, keepers, a challenger, the arbiter and governance act in random order while
time moves, and the protocol's invariants are checked after every step.

CI runs a bounded number of examples, the same ones every run (the `repeatable` profile in
conftest); `HYPOTHESIS_PROFILE=explore STATEFUL_EXAMPLES=200 STATEFUL_STEPS=60 bin/test -k stateful`
runs a longer search on fresh examples.
"""

from __future__ import annotations

import os

import pytest
from ape.exceptions import ContractLogicError
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from utils.helpers import H100, assert_locks_match_jobs, job_spec, unclaimed_jury_rewards

from compute_market.commitments import commitment_for
from compute_market.models import DisputeStatus, JobStatus
from compute_market.units import HOUR, to_wei

EXAMPLES = int(os.environ.get("STATEFUL_EXAMPLES", "4"))
STEPS = int(os.environ.get("STATEFUL_STEPS", "20"))
SALT = b"\x07" * 32
BIDDING, LEASED, RESULT, SETTLED = JobStatus.BIDDING, JobStatus.LEASED, JobStatus.RESULT_SUBMITTED, JobStatus.SETTLED
CANCELLED, EXPIRED, FAILED, DISPUTED = JobStatus.CANCELLED, JobStatus.EXPIRED, JobStatus.FAILED, JobStatus.DISPUTED
# Transitions a job may make between two observations (None: the job is new).
ALLOWED = {
    BIDDING: {BIDDING, LEASED, CANCELLED, EXPIRED},
    LEASED: {LEASED, RESULT, SETTLED, CANCELLED, FAILED, DISPUTED},
    RESULT: {RESULT, SETTLED, FAILED, DISPUTED},
    DISPUTED: {DISPUTED, SETTLED, FAILED},
    SETTLED: {SETTLED},
    CANCELLED: {CANCELLED},
    EXPIRED: {EXPIRED},
    FAILED: {FAILED},
}


@pytest.mark.usefixtures("market")
def test_protocol_invariants_hold_under_random_sequences(
    protocol, accounts, chain, admin, stranger, make_provider, make_customer, make_verifier, fresh_price
):
    p = protocol
    customers = [make_customer(accounts[i], to_wei(3_000)) for i in (10, 11)]
    for c in customers:
        p.credits.approve(p.resolver, 2**256 - 1, sender=c)
    providers = [make_provider(accounts[i], gpus=64, provision=to_wei(8_000)) for i in (12, 13, 14)]
    # Verifiers (jurors of the customers' challenges); the first provider is one too: one ledger
    # holds both of its stakes.
    # 1,600 CMP each: an unstake of up to 600 leaves the ledger's 1,000 CMP minimum active.
    verifiers = [make_verifier(a, to_wei(1_600)) for a in (*(accounts[i] for i in (15, 16, 17)), providers[0])]
    params = ("protocolFeeBps", "collateralBps", "minDecrementBps", "keeperBountyBps")

    class Protocol(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.snapshot = chain.snapshot()
            self.jobs: list[int] = []
            self.seen: dict[int, int] = {}
            self.salts: dict[tuple[int, str], tuple[int, bytes]] = {}
            self.params = {name: getattr(p.market, name)() for name in params}
            self.emission_epochs = 0
            self.start_block = chain.blocks.head.number
            self.activity_claimed = {provider.address: 0 for provider in providers}

        def teardown(self) -> None:
            chain.restore(self.snapshot)

        def attempt(self, fn, *args, **kw):
            try:
                return fn(*args, **kw)
            except ContractLogicError:
                return None  # refused in this state: fine, the invariants say whether it was right

        @initialize()
        def a_market_with_locks(self):
            """Every example starts with stake locked across the boundary: an open job with a best
            bid and a sealed job with a commitment, so the lock invariant always has locks to
            check (without it the few CI examples rarely reach a successful bid)."""
            fresh_price()
            for sealed in (False, True):
                spec = job_spec(chain, gpus=2, hours=3, max_price=to_wei(3), sealed=sealed, bidding=2 * HOUR)
                self.jobs.append(p.market.postJob(spec, sender=customers[0]).events.filter(p.market.JobPosted)[0].jobId)
            p.market.placeBid(self.jobs[0], to_wei(2), sender=providers[1])
            price, salt = to_wei(2), os.urandom(32)
            p.market.commitBid(
                self.jobs[1], commitment_for(self.jobs[1], providers[2], price, salt), sender=providers[2]
            )
            self.salts[(self.jobs[1], providers[2].address)] = (price, salt)

        # ------------------------------------------------------------ customers

        @rule(
            who=st.sampled_from(customers),
            gpus=st.integers(1, 4),
            hours=st.integers(1, 6),
            price=st.integers(1, 5),
            sealed=st.booleans(),
            holdback=st.sampled_from([0, 2_000, 10_000]),
        )
        def post(self, who, gpus, hours, price, sealed, holdback):
            fresh_price()
            spec = job_spec(
                chain,
                gpus=gpus,
                hours=hours,
                max_price=to_wei(price),
                sealed=sealed,
                holdback=holdback,
                bidding=2 * HOUR,
            )
            tx = self.attempt(p.market.postJob, spec, sender=who)
            if tx is not None:
                self.jobs.append(tx.events.filter(p.market.JobPosted)[0].jobId)

        @precondition(lambda self: self.jobs)
        @rule(data=st.data())
        def cancel(self, data):
            job_id = data.draw(st.sampled_from(self.jobs))
            self.attempt(p.market.cancelJob, job_id, sender=accounts[p.market.getJob(job_id).customer])

        @precondition(lambda self: self.jobs)
        @rule(data=st.data())
        def challenge(self, data):
            job_id = data.draw(st.sampled_from(self.jobs))
            self.attempt(p.resolver.challenge, job_id, "x", sender=accounts[p.market.getJob(job_id).customer])

        # ------------------------------------------------------------ providers

        @precondition(lambda self: self.jobs)
        @rule(data=st.data(), provider=st.sampled_from(providers), share=st.integers(30, 99))
        def bid(self, data, provider, share):
            job_id = data.draw(st.sampled_from(self.jobs))
            job = p.market.getJob(job_id)
            fresh_price()
            if job.kind == 1:
                price, salt = job.maxPricePerGpuHour * share // 100, os.urandom(32)
                digest = commitment_for(job_id, provider, price, salt)
                if self.attempt(p.market.commitBid, job_id, digest, sender=provider) is not None:
                    self.salts[(job_id, provider.address)] = (price, salt)
            else:
                ceiling = job.price or job.maxPricePerGpuHour
                self.attempt(p.market.placeBid, job_id, ceiling * share // 100, sender=provider)

        @precondition(lambda self: self.salts)
        @rule(data=st.data())
        def reveal(self, data):
            job_id, address = data.draw(st.sampled_from(sorted(self.salts)))
            price, salt = self.salts[(job_id, address)]
            fresh_price()
            if self.attempt(p.market.revealBid, job_id, price, salt, sender=accounts[address]) is not None:
                del self.salts[(job_id, address)]

        @precondition(lambda self: self.jobs)
        @rule(data=st.data())
        def serve(self, data):
            job_id = data.draw(st.sampled_from(self.jobs))
            winner = p.market.getJob(job_id).provider
            if winner in [a.address for a in providers]:
                account = accounts[winner]
                self.attempt(p.market.claimEarnings, job_id, sender=account)
                self.attempt(p.market.submitResult, job_id, os.urandom(32), "r", sender=account)

        @precondition(lambda self: self.jobs)
        @rule(data=st.data())
        def abandon(self, data):
            job_id = data.draw(st.sampled_from(self.jobs))
            winner = p.market.getJob(job_id).provider
            if winner in [a.address for a in providers]:
                self.attempt(p.market.abandonJob, job_id, sender=accounts[winner])

        @rule(provider=st.sampled_from(providers), amount=st.integers(1, 2_000))
        def unstake(self, provider, amount):
            self.attempt(p.registry.requestUnstake, to_wei(amount), sender=provider)

        @rule(provider=st.sampled_from(providers), amount=st.integers(0, 10_000), gpus=st.integers(0, 64))
        def reoffer(self, provider, amount, gpus):
            """The provider moves its provision and GPUs anywhere, refused below what its bids
            hold or above its free stake."""
            self.attempt(p.market.setOffer, H100, gpus, 80, to_wei(amount), sender=provider)

        # ------------------------------------------------------------ verifiers

        @rule(verifier=st.sampled_from(verifiers), amount=st.integers(1, 600))
        def verifier_unstake(self, verifier, amount):
            self.attempt(p.registry.requestVerifierUnstake, to_wei(amount), sender=verifier)

        @rule(verifier=st.sampled_from(verifiers))
        def verifier_withdraws(self, verifier):
            self.attempt(p.registry.withdrawVerifierStake, sender=verifier)

        @precondition(lambda self: self.jobs)
        @rule(data=st.data(), fault=st.booleans())
        def jurors_vote(self, data, fault):
            """Every juror drawn for the job commits, or reveals, a vote for `fault`."""
            job_id = data.draw(st.sampled_from(self.jobs))
            for juror in dict.fromkeys(p.resolver.jurorsOf(job_id)):  # once per juror, not per seat
                digest = p.resolver.voteCommitment(job_id, juror, fault, SALT)
                self.attempt(p.resolver.commitVote, job_id, digest, sender=accounts[juror])
                self.attempt(p.resolver.revealVote, job_id, fault, SALT, sender=accounts[juror])

        @precondition(lambda self: self.jobs)
        @rule(data=st.data())
        def jurors_claim(self, data):
            job_id = data.draw(st.sampled_from(self.jobs))
            for juror in dict.fromkeys(p.resolver.jurorsOf(job_id)):
                self.attempt(p.resolver.claimJuryReward, job_id, sender=accounts[juror])

        @rule(who=st.sampled_from(providers))
        def provider_withdraws(self, who):
            self.attempt(p.registry.withdrawUnstaked, sender=who)

        @rule(payee=st.sampled_from([*customers, *providers]), caller=st.sampled_from([stranger, *providers]))
        def payee_claims(self, payee, caller):
            """A failure's customer or keeper claims its credited CMP (or anyone delivers it)."""
            self.attempt(p.registry.claimPayout, payee, sender=caller)

        # ------------------------------------------------------------ keepers, arbiter, time

        @precondition(lambda self: self.jobs)
        @rule(data=st.data(), keeper=st.sampled_from(providers))
        def keep(self, data, keeper):
            job_id = data.draw(st.sampled_from(self.jobs))
            for fn in (p.market.finalizeAuction, p.market.settleJob, p.market.slashForFailure):
                self.attempt(fn, job_id, sender=keeper)
            for provider in providers:
                self.attempt(p.market.settleCommitment, job_id, provider, sender=keeper)
            self.attempt(p.resolver.resolve, job_id, sender=keeper)
            self.attempt(p.resolver.resolveByDefault, job_id, sender=keeper)
            self.attempt(p.registry.processDraws, 16, sender=keeper)  # juries drawn from a later block

        @precondition(lambda self: self.jobs)
        @rule(data=st.data(), fault=st.booleans())
        def arbitrate(self, data, fault):
            job_id = data.draw(st.sampled_from(self.jobs))
            self.attempt(p.resolver.arbitrate, job_id, fault, sender=admin)

        @rule(seconds=st.sampled_from([60, 1_800, HOUR, 3 * HOUR, 13 * HOUR, 26 * HOUR]))
        def warp(self, seconds):
            chain.pending_timestamp += seconds
            chain.mine()

        @rule(who=st.sampled_from(providers))
        def claim_rewards(self, who):
            tx = self.attempt(p.rewards.claim, sender=who)
            for claimed in tx.events.filter(p.rewards.Claimed) if tx else []:
                self.activity_claimed[who.address] += claimed.activityRewards
            self.attempt(p.rewards.claimStakeRewards, sender=who)

        # ------------------------------------------------------------ governance

        @rule(name=st.sampled_from(params), value=st.integers(0, 6_000))
        def stranger_sets_a_parameter(self, name, value):
            setter = getattr(p.market, "set" + name[0].upper() + name[1:])
            self.attempt(setter, value, sender=stranger)

        @rule(name=st.sampled_from(params), value=st.integers(1, 5_000))
        def governance_sets_a_parameter(self, name, value):
            setter = getattr(p.market, "set" + name[0].upper() + name[1:])
            if self.attempt(setter, value, sender=admin) is not None:
                self.params[name] = value

        # ------------------------------------------------------------ invariants

        @invariant()
        def market_holds_exactly_what_it_owes(self):
            # An ended job's escrow is 0 by derivation (`fundsOf`): one that kept credits it should
            # have paid out would leave the balance above the sum.
            jobs = {j: p.market.getJob(j) for j in self.jobs}
            escrows = sum(p.market.fundsOf(j).escrow for j in self.jobs)
            assert p.credits.balanceOf(p.market) == escrows + p.market.feesAccrued()
            for job_id, job in jobs.items():
                previous = self.seen.get(job_id, 1)
                assert job.status in ALLOWED[previous], (job_id, previous, job.status)
                self.seen[job_id] = job.status

        @invariant()
        def the_ledger_holds_exactly_all_stake(self):
            """One staking ledger: its CMP balance is every provider's and every verifier's stake
            plus the failures' payouts credited and not yet claimed, to the wei (the resolver
            holds only the majority jurors' unclaimed CMP shares), and with no draw queued the
            tree weighs exactly the verifiers' active stake."""
            total = sum(p.registry.payoutOf(a) for a in (*customers, *providers))
            for provider in providers:
                record = p.registry.providerOf(provider)
                assert record.staked >= record.provisioned + record.unbonding  # free stake never negative
                total += record.staked
            active = 0
            for verifier in verifiers:
                record = p.registry.verifierOf(verifier)
                assert record.staked >= record.unbonding
                total += record.staked
                active += record.staked - record.unbonding
            assert p.token.balanceOf(p.registry) == total
            assert p.token.balanceOf(p.resolver) == unclaimed_jury_rewards(p.resolver, self.jobs)[0]
            if p.registry.queueHead() == p.registry.queueTail():
                assert p.registry.totalActiveStake() == active

        @invariant()
        def the_ledger_locks_exactly_what_the_markets_jobs_hold(self):
            assert_locks_match_jobs(p.market, p.registry, providers, self.jobs)

        @invariant()
        def resolver_holds_only_open_bonds_and_unclaimed_shares(self):
            bonds = sum(
                p.resolver.disputeOf(j).bond
                for j in self.jobs
                if p.resolver.disputeOf(j).status
                in (DisputeStatus.VOTING, DisputeStatus.AWAITING_ARBITER, DisputeStatus.DRAWING)
            )
            assert p.credits.balanceOf(p.resolver) == bonds + unclaimed_jury_rewards(p.resolver, self.jobs)[1]

        @invariant()
        def supplies_and_emissions_are_bounded(self):
            assert p.token.totalSupply() <= p.token.cap()
            current = p.rewards.currentEpoch()
            assert p.rewards.totalClaimed() <= sum(p.rewards.emissionOf(e) for e in range(current + 1))

        @invariant()
        def no_activity_reward_exceeds_the_fees_it_paid(self):
            # Work rewards a provider claimed never exceed the protocol fees its leases paid, in
            # CMP at the oracle's 2.50 USD (fees of failed leases count here, not in the caps).
            head = chain.blocks.head.number
            for provider, claimed in self.activity_claimed.items():
                if claimed:
                    logs = p.market.EarningsClaimed.range(
                        self.start_block, head + 1, search_topics={"provider": provider}
                    )
                    assert claimed <= sum(log.fee for log in logs) * 10 // 25, provider

        @invariant()
        def only_governance_changed_parameters(self):
            for name, value in self.params.items():
                assert getattr(p.market, name)() == value

    Protocol.TestCase.settings = settings(
        max_examples=EXAMPLES,
        stateful_step_count=STEPS,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    run_state_machine_as_test(Protocol, settings=Protocol.TestCase.settings)
