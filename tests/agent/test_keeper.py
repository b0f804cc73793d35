"""The keeper, in process against the test chain: each permissionless deadline action it must
take (a queued jury draw, an ended auction, a closed challenge window, a provider that never
delivered, an unrevealed sealed bid, an absent verifier, an undecided dispute), what it earns,
its bounds, its resilience to a failing action, its state file, and that it sends nothing when
nothing is due."""

from __future__ import annotations

from decimal import Decimal

import pytest

from compute_market.client import MarketClient
from compute_market.keeper import Keeper, KeeperState
from compute_market.models import Attestation, DisputeStatus, JobRequest, JobStatus
from compute_market.units import DAY, HOUR, from_wei, to_wei

RESULT = b"\x01" * 32


def advance(chain, seconds: int) -> None:
    """Moves the chain's clock and mines a block (the keeper reads the head block's time)."""
    chain.pending_timestamp += seconds
    chain.mine()


def summary(actions) -> list[tuple[str, int | None, bool]]:
    return [(a.action, a.job_id, a.ok) for a in actions]


@pytest.fixture
def lines() -> list[str]:
    return []


@pytest.fixture
def keeper_account(accounts):
    return accounts[40]


@pytest.fixture
def keeper(protocol, keeper_account, tmp_path, lines):
    return Keeper(MarketClient(protocol, keeper_account), tmp_path / "keeper.json", log=lines.append)


@pytest.fixture
def rival(protocol, accounts, make_provider):
    return MarketClient(protocol, make_provider(accounts[42]))


def leased_job(chain, customer, provider, fresh_price, keeper, **options) -> int:
    """An open auction won by `provider` at 2 USD, finalized by the keeper: a 4-hour lease."""
    fresh_price()
    job_id = customer.post_job(JobRequest("H100-80GB", 2, Decimal(4), Decimal(3), bidding_seconds=HOUR, **options))
    provider.bid(job_id, Decimal(2))
    advance(chain, HOUR)
    assert summary(keeper.step()) == [("finalizeAuction", job_id, True)]
    assert customer.job(job_id).status == JobStatus.LEASED
    return job_id


# ---------------------------------------------------------------------- market deadlines


def test_finalizes_an_ended_auction_settles_after_the_window_then_rests(
    chain, protocol, customer, provider, keeper, keeper_account, fresh_price, tmp_path, monkeypatch
):
    fresh_price()
    job_id = customer.post_job(JobRequest("H100-80GB", 2, Decimal(4), Decimal(3), bidding_seconds=HOUR))
    provider.bid(job_id, Decimal(2))
    bidding_end = customer.job(job_id).bidding_end

    assert keeper.step() == []  # it learned of the job from its logs; nothing is due before the end
    assert keeper.state.jobs == {str(job_id): bidding_end}

    # A restarted keeper (a new process on the same state file) carries on from the same cursor.
    keeper = Keeper(keeper.client, keeper.state_path, log=lambda _line: None)
    assert keeper.state.jobs == {str(job_id): bidding_end}
    looked: list[int] = []
    look = keeper._look
    monkeypatch.setattr(keeper, "_look", lambda j, now: looked.append(j) or look(j, now))
    assert keeper.step() == [] and looked == []  # not due: not even read

    advance(chain, HOUR)
    assert summary(keeper.step()) == [("finalizeAuction", job_id, True)]
    assert customer.job(job_id).status == JobStatus.LEASED

    advance(chain, 4 * HOUR)
    provider.submit_result(job_id, RESULT, "ipfs://result")
    assert keeper.step() == []  # the challenge window is open
    advance(chain, DAY)
    assert summary(keeper.step()) == [("settleJob", job_id, True)]
    assert customer.job(job_id).status == JobStatus.SETTLED

    nonce = keeper_account.nonce
    looked.clear()
    assert keeper.step() == []  # one last read of the ended job, which leaves the open set
    assert keeper.state.jobs == {} and looked == [job_id]
    assert keeper.step() == [] and looked == [job_id]  # nothing open: nothing read
    assert keeper_account.nonce == nonce  # and nothing sent
    saved = KeeperState.load(keeper.state_path, 0, keeper.state.market)
    assert saved.jobs == {} and saved.last_block == chain.blocks.head.number
    assert saved.transactions == 2 and saved.gas_fees_wei > 0


def test_slashes_a_provider_that_never_delivered_and_earns_the_bounty(
    chain, protocol, admin, customer, provider, keeper, keeper_account, fresh_price
):
    job_id = leased_job(chain, customer, provider, fresh_price, keeper)
    collateral = protocol.market.getJob(job_id).collateral
    bounty = collateral * protocol.market.getJob(job_id).keeperBountyBps // 10_000
    assert bounty > 0
    # Governance changes apply to later jobs only: this one keeps its 1-hour grace and 5% bounty.
    protocol.market.setResultGrace(7 * DAY, sender=admin)
    protocol.market.setKeeperBountyBps(0, sender=admin)

    advance(chain, 4 * HOUR)  # the lease ended; the result grace (1 h) runs
    assert keeper.step() == []
    advance(chain, protocol.market.getJob(job_id).resultGrace + 1)
    before = protocol.token.balanceOf(keeper_account)
    done = keeper.step()
    assert summary(done) == [("slashForFailure", job_id, True)]
    assert done[0].detail == f"{from_wei(bounty)} CMP"
    assert keeper.bounties == from_wei(bounty)
    assert customer.job(job_id).status == JobStatus.FAILED
    # The ledger credited the bounty; below the keeper's 1 CMP claim threshold it waits.
    assert bounty < 10**18
    assert (protocol.registry.payoutOf(keeper_account), protocol.token.balanceOf(keeper_account)) == (bounty, before)
    assert keeper.step() == []
    keeper.claim_at = from_wei(bounty)  # at the threshold: claimed at the end of the next step
    done = keeper.step()
    assert summary(done) == [("claimPayout", None, True)]
    assert str(done[0]) == f"ledger: claimPayout ({from_wei(bounty)} CMP)"
    assert protocol.token.balanceOf(keeper_account) - before == bounty
    assert protocol.registry.payoutOf(keeper_account) == 0


def test_forfeits_an_unrevealed_sealed_commitment_after_the_reveal_period(
    chain, protocol, customer, provider, rival, keeper, fresh_price
):
    fresh_price()
    job_id = customer.post_job(JobRequest("H100-80GB", 2, Decimal(4), Decimal(3), bidding_seconds=HOUR, sealed=True))
    salt = provider.commit(job_id, Decimal(2))
    rival.commit(job_id, Decimal("2.5"))  # never revealed
    assert keeper.step() == []
    assert keeper.state.committers == {str(job_id): [provider.address, rival.address]}

    advance(chain, HOUR)
    fresh_price()
    provider.reveal(job_id, Decimal(2), salt)
    assert keeper.step() == []  # the reveal period is still open
    assert keeper.state.committers == {str(job_id): [rival.address]}  # the revealed bid is off the list

    advance(chain, HOUR)
    treasury = protocol.market.treasury()
    before_treasury = protocol.token.balanceOf(treasury)
    before_stake = rival.provider().staked
    done = keeper.step()
    assert summary(done) == [("finalizeAuction", job_id, True), ("settleCommitment", job_id, True)]
    bond = from_wei(protocol.market.getJob(job_id).collateral)  # a commitment's bond: the job's collateral
    assert done[1].detail == f"{bond} CMP"
    assert customer.job(job_id).status == JobStatus.LEASED and customer.job(job_id).provider == provider.address
    assert protocol.market.commitmentOf(job_id, rival.address).revealed
    assert rival.provider().staked == before_stake - bond
    assert protocol.token.balanceOf(treasury) - before_treasury == to_wei(bond)
    assert keeper.state.committers == {}


# ---------------------------------------------------------------------- draws and disputes


def test_makes_a_queued_jury_draw_then_resolves_the_dispute_by_default(
    chain, protocol, accounts, customer, provider, keeper, fresh_price, make_verifier, registry
):
    resolver = protocol.resolver
    for i in range(44, 49):
        make_verifier(accounts[i])
    job_id = leased_job(chain, customer, provider, fresh_price, keeper)
    provider.submit_result(job_id, RESULT, "ipfs://result")
    credits_before = protocol.credits.balanceOf(customer.address)
    customer.challenge(job_id, "wrong output")
    assert resolver.disputeOf(job_id).status == DisputeStatus.DRAWING

    chain.mine(int(registry.drawDelay()) + 1)  # the draw's target block is mined
    assert summary(keeper.step()) == [("processDraws", None, True)]
    dispute = resolver.disputeOf(job_id)
    assert dispute.status == DisputeStatus.VOTING
    assert len(resolver.jurorsOf(job_id)) == 5
    assert customer.draws_pending() == 0

    advance(chain, 2 * DAY)  # nobody votes: commit and reveal periods pass
    assert summary(keeper.step()) == [("resolve", job_id, True)]
    assert resolver.disputeOf(job_id).status == DisputeStatus.AWAITING_ARBITER
    assert keeper.step() == []  # the arbiter has until appealEnd

    advance(chain, int(resolver.appealWindow()))
    assert summary(keeper.step()) == [("resolveByDefault", job_id, True)]
    assert resolver.disputeOf(job_id).status == DisputeStatus.RESOLVED
    assert customer.job(job_id).status == JobStatus.SETTLED
    value = to_wei(customer.job(job_id).price_per_gpu_hour * 2 * 4)  # the escrow left after the auction
    refund = value - protocol.market.fundsOf(job_id).paidGross
    assert protocol.credits.balanceOf(customer.address) - credits_before == refund  # the bond came back
    assert keeper.step() == [] and keeper.state.jobs == {}


def test_draws_a_requested_verifier_then_slashes_it_when_absent(
    chain, protocol, accounts, customer, provider, keeper, fresh_price, make_verifier, registry
):
    resolver = protocol.resolver
    verifier = make_verifier(accounts[44])
    job_id = leased_job(chain, customer, provider, fresh_price, keeper, verification=True)
    provider.submit_result(job_id, RESULT, "ipfs://result")
    customer.request_verifier(job_id)
    chain.mine(int(registry.drawDelay()) + 1)
    assert summary(keeper.step()) == [("processDraws", None, True)]
    verification = resolver.verificationOf(job_id)
    assert verification.verifier == verifier.address

    staked = registry.verifierOf(verifier).staked
    advance(chain, int(resolver.attestWindow()) + 1)
    done = keeper.step()
    assert summary(done) == [("slashAbsentVerifier", job_id, True)]
    penalty = min(staked, resolver.seatStake() * resolver.absencePenaltyBps() // 10_000)  # a seat's share
    assert registry.verifierOf(verifier).staked == staked - penalty
    assert resolver.verificationOf(job_id).attestation == Attestation.ABSENT

    advance(chain, DAY)
    assert summary(keeper.step()) == [("settleJob", job_id, True)]


# ---------------------------------------------------------------------- a market left alone


def test_a_market_left_alone_ends_with_every_job_in_a_final_state(
    chain, protocol, accounts, customer, provider, rival, keeper, fresh_price, make_verifier, registry
):
    """Six jobs, one for each deadline, then nobody but the keeper acts for a week: an auction
    nobody bid on, a lease never delivered, a delivered result, a verified result whose
    verifier never attests, a challenged result nobody votes on, and a sealed auction whose only
    commitment is never revealed. Keeper steps every 6 hours (each mines a block, so the queued
    draws become ready) leave every job final, nothing queued, and no credits held."""
    resolver, market = protocol.resolver, protocol.market
    for i in range(44, 49):
        make_verifier(accounts[i])
    fresh_price()
    request = JobRequest("H100-80GB", 2, Decimal(4), Decimal(3), bidding_seconds=HOUR)
    delivered, verified, disputed, undelivered, unbid = (
        customer.post_job(request),
        customer.post_job(JobRequest("H100-80GB", 2, Decimal(4), Decimal(3), bidding_seconds=HOUR, verification=True)),
        customer.post_job(request),
        customer.post_job(request),
        customer.post_job(request),
    )
    sealed = customer.post_job(JobRequest("H100-80GB", 2, Decimal(4), Decimal(3), bidding_seconds=HOUR, sealed=True))
    for job_id in (delivered, verified, disputed, undelivered):
        provider.bid(job_id, Decimal(2))
    rival.commit(sealed, Decimal("2.5"))  # never revealed
    advance(chain, HOUR)
    keeper.step()  # the ended open auctions: four leases start, one expires
    advance(chain, 4 * HOUR)
    for job_id in (delivered, verified, disputed):
        provider.submit_result(job_id, RESULT, "ipfs://result")
    customer.request_verifier(verified)
    customer.challenge(disputed, "wrong output")

    for _ in range(28):  # a week, and nobody else acts
        advance(chain, 6 * HOUR)
        keeper.step()

    final = {
        delivered: JobStatus.SETTLED,
        verified: JobStatus.SETTLED,
        disputed: JobStatus.SETTLED,  # resolved by default: no verdict, the job settles
        undelivered: JobStatus.FAILED,
        unbid: JobStatus.EXPIRED,
        sealed: JobStatus.EXPIRED,
    }
    assert {j: customer.job(j).status for j in final} == final
    assert resolver.verificationOf(verified).attestation == Attestation.ABSENT
    assert resolver.disputeOf(disputed).status == DisputeStatus.RESOLVED
    assert market.commitmentOf(sealed, rival.address).revealed  # forfeited
    assert registry.queueHead() == registry.queueTail()
    assert protocol.credits.balanceOf(market) == protocol.market.feesAccrued()  # the treasury's fees
    assert protocol.credits.balanceOf(resolver) == 0
    assert keeper.state.jobs == {} and keeper.state.committers == {}


# ---------------------------------------------------------------------- bounds and failures


def expired_auctions(chain, customer, fresh_price, count: int) -> list[int]:
    """`count` open auctions nobody bid on, past their bidding end."""
    fresh_price()
    request = JobRequest("H100-80GB", 1, Decimal(1), Decimal(3), bidding_seconds=HOUR)
    jobs = [customer.post_job(request) for _ in range(count)]
    advance(chain, HOUR)
    return jobs


def test_an_error_in_one_action_is_logged_and_the_others_go_on(
    chain, protocol, customer, keeper, fresh_price, lines, monkeypatch
):
    keeper.retry_after = 0  # look again at the next step
    first, second = expired_auctions(chain, customer, fresh_price, 2)
    finalize = keeper.client.finalize

    def flaky(job_id: int):
        if job_id == first:
            raise ConnectionError("node unreachable")
        return finalize(job_id)

    monkeypatch.setattr(keeper.client, "finalize", flaky)
    done = keeper.step()
    assert summary(done) == [("finalizeAuction", first, False), ("finalizeAuction", second, True)]
    assert "ConnectionError: node unreachable" in done[0].detail
    assert any(f"job {first}: finalizeAuction failed" in line for line in lines)
    assert customer.job(first).status == JobStatus.BIDDING
    assert customer.job(second).status == JobStatus.EXPIRED

    monkeypatch.setattr(keeper.client, "finalize", finalize)
    assert summary(keeper.step()) == [("finalizeAuction", first, True)]
    assert customer.job(first).status == JobStatus.EXPIRED


def test_a_step_sends_at_most_max_actions(chain, protocol, customer, keeper, fresh_price):
    keeper.max_actions = 2
    jobs = expired_auctions(chain, customer, fresh_price, 3)
    assert summary(keeper.step()) == [("finalizeAuction", jobs[0], True), ("finalizeAuction", jobs[1], True)]
    assert summary(keeper.step()) == [("finalizeAuction", jobs[2], True)]
    assert keeper.step() == []
    assert keeper.state.jobs == {}
