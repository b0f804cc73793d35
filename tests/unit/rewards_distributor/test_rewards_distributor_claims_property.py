"""RewardsDistributor: a Hypothesis property test: claims never exceed what was emitted nor the fees paid.

A distributor of its own per test (epochs of one day, 100,000 CMP in epoch 0 decaying 0.5%,
split 70% work, 20% stake, 10% verifiers), with an account holding the reporters' roles, so that
every timestamp and report is under the test's control. The oracle says 2.50 USD per CMP, so a
fee of 1 CRD is worth 0.4 CMP; a job's fee caps its provider's work reward at 7/8 of that and
its verifier's reward at 1/8.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from utils.rewards_distributor import BASE, deploy_distributor, prepare

from compute_market.units import DAY, to_wei

OPS = st.lists(
    st.tuples(
        st.sampled_from(["work", "verify", "stake", "time", "claim", "claimStake", "schedule"]),
        st.integers(0, 2),  # which account
        st.integers(1, 10**24),  # amount
    ),
    min_size=5,
    max_size=25,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_claims_never_exceed_what_was_emitted_nor_the_fees_paid(
    ops, project, token, credits, admin, reporter, chain, accounts, fresh_price
):
    """Random settlements (fees from 1 wei to a million CRD), approvals, stake changes, time and
    claims: all claims stay within the emissions, and each account's work and verifier claims
    within the fee caps its reports carried."""
    dist = deploy_distributor(project, token, credits, admin, reporter)
    ledger = project.ProviderRegistry.deploy(admin, token, dist, sender=admin)
    dist.setLedger(ledger, sender=admin)
    people = [accounts[31], accounts[32], accounts[33]]
    caps = {account.address: 0 for account in people}
    claimed = {account.address: 0 for account in people}

    def claim(account) -> None:
        tx = dist.claim(sender=account)
        claimed[account.address] += sum(e.activityRewards for e in tx.events.filter(dist.Claimed))

    job_id = 0
    for op, who, amount in ops:
        account = people[who]
        if op == "work":
            job_id += 1
            fresh_price()
            tx = dist.recordWork(job_id, account, amount, amount % to_wei(1_000_000) + 1, True, sender=reporter)
            for event in tx.events.filter(dist.WorkRecorded):
                caps[event.event_arguments["provider"]] += event.workCap
            for event in tx.events.filter(dist.VerifierWorkRecorded):
                caps[event.verifier] += event.verifierCap
        elif op == "verify":
            dist.recordVerification(job_id + 1, account, sender=reporter)
        elif op == "stake":
            stake = amount % to_wei(10_000) + 1
            prepare(ledger, token, admin, account, stake)
            ledger.stake(stake, sender=account)
        elif op == "time":
            chain.pending_timestamp += amount % (3 * DAY)
        elif op == "claim":
            claim(account)
        elif op == "claimStake":
            dist.claimStakeRewards(sender=account)
        else:
            dist.setSchedule(amount % BASE + 1, amount % 100 + 1, 6_000, 3_000, 1_000, sender=admin)
    current = dist.currentEpoch()
    for account in people:  # everyone claims everything at the end
        claim(account)
        dist.claimStakeRewards(sender=account)
    emitted = sum(dist.emissionOf(e) for e in range(current + 1))
    assert dist.totalClaimed() <= emitted
    assert all(claimed[a] <= caps[a] for a in caps), (claimed, caps)
