"""RewardsDistributor: the emission schedule, its cap, and schedule changes.

A distributor of its own per test (epochs of one day, 100,000 CMP in epoch 0 decaying 0.5%,
split 70% work, 20% stake, 10% verifiers), with an account holding the reporters' roles, so that
every timestamp and report is under the test's control. The oracle says 2.50 USD per CMP, so a
fee of 1 CRD is worth 0.4 CMP; a job's fee caps its provider's work reward at 7/8 of that and
its verifier's reward at 1/8.
"""

from __future__ import annotations

import ape
from utils.rewards_distributor import BASE, at, released

from compute_market.units import DAY, to_wei


def test_emission_decays_by_the_closed_form(dist):
    assert dist.emissionOf(0) == BASE
    assert dist.emissionOf(1) == to_wei(99_500)
    assert dist.emissionOf(2) == to_wei("99002.5")
    assert dist.emissionOf(29) == released(30 * DAY) - released(29 * DAY)
    total_30 = sum(dist.emissionOf(e) for e in range(30))
    assert total_30 == released(30 * DAY)  # epochs telescope: R at the end of epoch 29
    closed_form = BASE * (1 - (995 / 1000) ** 30) / (5 / 1000)
    assert abs(total_30 - closed_form) < to_wei("0.001")
    assert total_30 <= dist.committedEmission() == BASE * 10_000 // 50  # 20,000,000 CMP in all


def test_the_cap_bounds_every_schedule(project, token, credits, admin, reporter, dist):
    room = token.cap() - token.totalSupply()
    with ape.reverts(dist.ParameterOutOfBounds):
        project.RewardsDistributor.deploy(admin, token, credits, DAY, room + 1, BASE, 50, sender=admin)
    with ape.reverts(dist.EmissionCapExceeded):
        dist.setSchedule(to_wei(10_000_000), 50, 7_000, 2_000, 1_000, sender=admin)  # tail 2e9 > cap
    with ape.reverts(dist.ParameterOutOfBounds):
        dist.setSchedule(BASE, 0, 7_000, 2_000, 1_000, sender=admin)  # no decay: no finite tail


def test_schedule_changes_apply_from_the_next_epoch_only(dist, chain, admin, stranger):
    at(chain, dist, 100)
    with ape.reverts(dist.AccessControlUnauthorizedAccount):
        dist.setSchedule(BASE, 100, 5_000, 3_000, 2_000, sender=stranger)
    with ape.reverts(dist.InvalidSplit):
        dist.setSchedule(BASE, 100, 5_000, 3_000, 1_000, sender=admin)
    dist.setSchedule(to_wei(50_000), 100, 5_000, 3_000, 2_000, sender=admin)
    assert dist.emissionOf(0) == BASE  # the current epoch is untouched
    assert dist.segmentFor(0).workBps == 7_000
    assert dist.emissionOf(1) == to_wei(50_000)
    assert dist.emissionOf(2) == to_wei(49_500)
    assert dist.segmentFor(1).workBps == 5_000
