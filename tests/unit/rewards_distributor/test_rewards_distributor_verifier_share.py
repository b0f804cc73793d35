"""RewardsDistributor: the verifier share.

A distributor of its own per test (epochs of one day, 100,000 CMP in epoch 0 decaying 0.5%,
split 70% work, 20% stake, 10% verifiers), with an account holding the reporters' roles, so that
every timestamp and report is under the test's control. The oracle says 2.50 USD per CMP, so a
fee of 1 CRD is worth 0.4 CMP; a job's fee caps its provider's work reward at 7/8 of that and
its verifier's reward at 1/8.
"""

from __future__ import annotations

from utils.rewards_distributor import AMPLE_FEE, at

from compute_market.units import DAY, to_wei


def test_verified_jobs_that_settle_share_the_verifier_pool(dist, chain, settle, reporter, alice, bob, carol):
    """Alice approved job 1, Bob jobs 2 to 4: a quarter and three quarters of the 10,000 CMP
    pool. Bob's approval of job 5, which never settles, earns nothing."""
    at(chain, dist, 100)
    for job_id, verifier in [(1, alice), (2, bob), (3, bob), (4, bob), (5, bob)]:
        dist.recordVerification(job_id, verifier, sender=reporter)
    for job_id in range(1, 5):
        tx = settle(job_id, carol, to_wei(10))
        assert tx.events.filter(dist.VerifierWorkRecorded)[0].verifierCap == AMPLE_FEE * 4 // 10 // 8
    at(chain, dist, DAY)
    chain.mine()
    assert dist.pendingRewards(alice) == (to_wei(2_500), 0)
    assert dist.pendingRewards(bob) == (to_wei(7_500), 0)
    settled = dist.claim(sender=bob).events.filter(dist.EpochRewardsSettled)[0]
    assert (settled.workReward, settled.verifierReward) == (0, to_wei(7_500))


def test_a_verifier_reward_is_capped_by_the_fee_of_the_job_it_verified(dist, chain, settle, reporter, alice, bob):
    """A 1 CRD fee (0.4 CMP) caps the verifier of that job at 0.05 CMP and its provider at 0.35."""
    at(chain, dist, 100)
    dist.recordVerification(7, alice, sender=reporter)
    settle(7, bob, to_wei(100), fee=to_wei(1))
    at(chain, dist, DAY)
    chain.mine()
    assert dist.pendingRewards(alice) == (to_wei("0.05"), 0)
    assert dist.pendingRewards(bob) == (to_wei("0.35"), 0)


def test_a_job_reported_without_verification_has_no_verifier_to_look_up(dist, chain, settle, reporter, alice, bob):
    """The market passes the job's own `verification` flag. Reported without it, job 7 pays no
    verifier and leaves the record untouched (the resolver records verifiers only for jobs that ask
    for one, so this is a job it never recorded); its provider's work cap is the same 0.35 CMP. The
    same job reported with the flag pays Alice her 0.05 CMP (a distributor that ignored the flag
    would pay her on the report without it)."""
    at(chain, dist, 100)
    dist.recordVerification(7, alice, sender=reporter)
    first = settle(7, bob, to_wei(100), fee=to_wei(1), verification=False)
    assert not first.events.filter(dist.VerifierWorkRecorded)
    assert first.events.filter(dist.WorkRecorded)[0].workCap == to_wei("0.35")
    second = settle(7, bob, to_wei(100), fee=to_wei(1), verification=True)
    assert second.events.filter(dist.VerifierWorkRecorded)[0].verifierCap == to_wei("0.05")
    at(chain, dist, DAY)
    chain.mine()
    assert dist.pendingRewards(alice) == (to_wei("0.05"), 0)
    assert dist.pendingRewards(bob) == (to_wei("0.70"), 0)
