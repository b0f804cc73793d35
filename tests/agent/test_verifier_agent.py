"""The verifier agent (compute_market/verifier_agent.py), in process against the test chain: it
asks for and makes the draws of verified jobs, re-executes the workload of a result it is drawn
to check and attests; on a jury it re-executes too, commits, reveals, closes the vote and claims.

Setting: a provider agent (account 50) wins a 1-GPU, 1-hour verified job at its 3 CRD max price
(lease value 3 CRD, verification fee 5% of it: 0.15 CRD, collateral 30% of the 3 CRD at 2.50
USD per CMP: 0.36 CMP); three verifier agents (accounts 51 to 53) with 1,000 CMP each: one is
drawn to verify, the other two are the jury of a dispute (the customer, the provider and the
verifier are excluded).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from utils.helpers import advance, load_script

from compute_market.agent import CostModel, ProviderAgent
from compute_market.client import MarketClient
from compute_market.models import Attestation, DisputeStatus, JobRequest, JobStatus
from compute_market.units import DAY, HOUR, to_wei
from compute_market.verifier_agent import VerifierAgent, VerifierState
from compute_market.workloads import (
    FetchConfig,
    Host,
    LocalStore,
    Manifest,
    RunResult,
    canonical_bytes,
    parse_manifest,
    runner_for,
)
from compute_market.workloads.examples import EXAMPLES_DIR, publish_example

CHEAP = CostModel(Decimal("0.10"), Decimal("700"), Decimal("25000"), Decimal("26280"), Decimal("0.10"))
HOST = Host.detect(probe_containers=False)
COLLATERAL = to_wei(Decimal("0.36"))  # 30% of 3 CRD, in CMP at 2.50 USD
FEE = to_wei(Decimal("0.15"))  # 5% of the 3 CRD lease value


class Lines(list):
    """A log that keeps its lines."""

    def __call__(self, line: str) -> None:
        self.append(line)

    def having(self, text: str) -> list[str]:
        return [line for line in self if text in line]


class LazyAgent(ProviderAgent):
    """A provider that computes half of matmul's rows (examples/faulty_matmul) and submits that."""

    faulty: tuple[Manifest, FetchConfig]

    def run_workload(self, job_id: int, manifest: Manifest) -> RunResult:
        lazy, config = self.faulty
        return runner_for(lazy, self.host).run(lazy, config)


@pytest.fixture
def published(tmp_path) -> LocalStore:
    """The customer's store: examples' inputs and canonical manifests."""
    return LocalStore(tmp_path / "published")


@pytest.fixture
def checkers(protocol, accounts, fund, tmp_path, published):
    """Three verifier agents (accounts 51 to 53), registered with 1,000 CMP each."""
    agents = []
    for n in (51, 52, 53):
        account = accounts[n]
        fund(account, to_wei(1_000))
        agent = VerifierAgent(
            MarketClient(protocol, account),
            tmp_path / f"verifier-{n}" / "state.json",
            log=Lines(),
            host=HOST,
            fetch_config=FetchConfig(cas=published),
        )
        agent.ensure_verifier(Decimal(1_000))
        agents.append(agent)
    try:
        yield agents
    finally:
        for agent in agents:
            agent.close()


def make_provider_agent(cls, protocol, accounts, fund, tmp_path, published) -> ProviderAgent:
    account = accounts[50]
    fund(account)
    agent = cls(
        MarketClient(protocol, account),
        "H100-80GB",
        CHEAP,
        tmp_path / "provider" / "state.json",
        log=Lines(),
        host=HOST,
        fetch_config=FetchConfig(cas=published),
    )
    agent.ensure_provider("eu-west", 8, 80, Decimal(5_000))
    return agent


def post(customer, workload: bytes, uri: str) -> int:
    return customer.post_job(
        JobRequest(
            "H100-80GB",
            1,
            Decimal(1),
            Decimal(3),
            bidding_seconds=HOUR,
            verification=True,
            workload=workload,
            manifest_uri=uri,
        )
    )


def serve(agent: ProviderAgent, chain, job_id: int) -> None:
    """The provider agent bids, finalizes, runs the workload and submits its bundle."""
    agent.step()  # bids
    advance(chain, HOUR)
    agent.step()  # finalizes
    agent.step()  # runs and stores
    advance(chain, HOUR)
    agent.step()  # submits
    assert agent.client.job(job_id).status == JobStatus.RESULT_SUBMITTED, list(agent.log)


def steps(chain, agents: list[VerifierAgent], rounds: int = 1) -> None:
    """Every agent steps; then blocks are mined so that queued draws come due."""
    for _ in range(rounds):
        for agent in agents:
            agent.step()
        chain.mine(3)


def drawn(resolver, agents: list[VerifierAgent], job_id: int) -> VerifierAgent:
    verifier = resolver.verificationOf(job_id).verifier
    return next(a for a in agents if a.me == verifier)


def test_the_drawn_verifier_re_executes_and_approves_an_honest_result(
    protocol, accounts, fund, tmp_path, published, checkers, customer, chain, fresh_price
):
    fresh_price()
    provider = make_provider_agent(ProviderAgent, protocol, accounts, fund, tmp_path, published)
    try:
        _manifest, digest = publish_example("matmul", published)
        job_id = post(customer, bytes.fromhex(digest), published.uri(digest))
        serve(provider, chain, job_id)
        submitted, _uri = customer.result_of(job_id)

        steps(chain, checkers)  # one asks for the draw; the others see it asked
        asked = [a for a in checkers if a.log.having(f"job {job_id}: asked for its verifier draw")]
        assert len(asked) == 1
        steps(chain, checkers)  # the draw is made, the drawn verifier re-executes and attests
        verification = protocol.resolver.verificationOf(job_id)
        assert Attestation(verification.attestation) == Attestation.RESULT_OK
        verifier = drawn(protocol.resolver, checkers, job_id)
        (line,) = verifier.log.having(f"job {job_id}: attested ok")
        assert f"bundle {submitted.hex()} matches the result" in line
        assert json.loads(verifier.state_path.read_text())["verdicts"] == {}  # attested: forgotten

        advance(chain, DAY)  # the challenge window closes: the provider agent settles
        before = protocol.credits.balanceOf(verifier.me)
        provider.step()
        assert customer.job(job_id).status == JobStatus.SETTLED
        assert protocol.credits.balanceOf(verifier.me) - before == FEE  # its verdict borne out
    finally:
        provider.close()


def test_a_wrong_result_is_rejected_and_slashed_through_a_jury_of_verifier_agents(
    protocol, accounts, fund, tmp_path, published, checkers, customer, chain, fresh_price
):
    """The lazy provider submits faulty_matmul's bundle for matmul: the drawn verifier's
    re-execution differs (out/checksum.json), it attests bad, the two other agents are the jury,
    both vote fault; the provider's 0.36 CMP collateral is slashed: 70% (0.252 CMP) to the
    customer, 20% (0.072) to the verifier as finder, 10% to the jury (0.018 each); the customer
    gets its whole escrow back but the verifier's 0.15 CRD fee."""
    fresh_price()
    lazy_manifest, _ = publish_example("faulty_matmul", published)
    LazyAgent.faulty = (lazy_manifest, FetchConfig(cas=published))
    provider = make_provider_agent(LazyAgent, protocol, accounts, fund, tmp_path, published)
    token, credits, resolver = protocol.token, protocol.credits, protocol.resolver
    try:
        _manifest, digest = publish_example("matmul", published)
        crd_before = credits.balanceOf(customer.address)
        job_id = post(customer, bytes.fromhex(digest), published.uri(digest))
        serve(provider, chain, job_id)
        assert customer.job(job_id).price_per_gpu_hour == Decimal(3)
        assert int(protocol.market.getJob(job_id).collateral) == COLLATERAL
        cmp_before = {a: token.balanceOf(a) for a in [customer.address, *(c.me for c in checkers)]}

        steps(chain, checkers, rounds=2)  # asked, drawn, re-executed: bad, a dispute opens
        verifier = drawn(resolver, checkers, job_id)
        others = [a for a in checkers if a is not verifier]
        (line,) = verifier.log.having(f"job {job_id}: attested bad, a dispute opens")
        assert "files that differ: out/checksum.json" in line
        assert customer.job(job_id).status == JobStatus.DISPUTED
        steps(chain, checkers, rounds=2)  # the jury is drawn, each juror re-executes and commits
        seats = resolver.jurorsOf(job_id)  # 5 seats drawn with replacement among the two others
        assert len(seats) == 5 and set(seats) <= {j.me for j in others}
        jurors = [j for j in others if j.me in seats]
        for juror in jurors:
            assert juror.log.having(f"job {job_id}: committed a jury vote (fault)")
            assert juror.state.votes[str(job_id)]["fault"] is True  # saved before it was sent

        advance(chain, DAY)  # reveal period
        steps(chain, checkers)
        assert int(resolver.disputeOf(job_id).votesFault) == 5  # one vote a seat
        advance(chain, DAY)  # vote over: closed, then each juror claims its share
        steps(chain, checkers, rounds=2)
        dispute = resolver.disputeOf(job_id)
        assert DisputeStatus(dispute.status) == DisputeStatus.RESOLVED and dispute.providerFault
        assert customer.job(job_id).status == JobStatus.FAILED
    finally:
        provider.close()

    gained = {a: token.balanceOf(a) - cmp_before[a] for a in cmp_before}
    assert gained[customer.address] == COLLATERAL * 7 // 10
    assert gained[verifier.me] == COLLATERAL * 2 // 10
    share = COLLATERAL // 10 // 5  # the jury's 10% of the collateral, a fifth a seat
    assert [gained[j.me] for j in others] == [share * seats.count(j.me) for j in others]
    assert credits.balanceOf(customer.address) == crd_before - FEE  # the escrow back but the fee
    assert provider.client.provider().disputes_lost == 1
    for juror in jurors:
        paid = Decimal(share * seats.count(juror.me)) / 10**18
        assert juror.log.having(f"job {job_id}: claimed its jury share: {paid} CMP")
        assert juror.state.juries == [] and juror.state.votes == {}
    assert verifier.log.having(f"job {job_id}: the dispute it opened was decided: the provider at fault")


def test_a_result_it_cannot_reproduce_is_approved_before_the_deadline(
    protocol, accounts, fund, tmp_path, published, checkers, customer, chain, fresh_price
):
    """A non-deterministic manifest posted with verification (the CLI refuses it; the contract
    cannot tell): nothing to reproduce, so the drawn verifier approves at once rather than be
    slashed for absence. A manifest it cannot fetch: it waits, then approves `decide_margin`
    before its deadline."""
    fresh_price()
    provider = make_provider_agent(ProviderAgent, protocol, accounts, fund, tmp_path, published)
    try:
        doc = json.loads((EXAMPLES_DIR / "matmul" / "manifest.json").read_text())
        doc["deterministic"] = False
        publish_example("matmul", published)  # its input
        digest = published.put(canonical_bytes(parse_manifest(doc)))
        job_id = post(customer, bytes.fromhex(digest), published.uri(digest))
        serve(provider, chain, job_id)
        steps(chain, checkers, rounds=2)
        verifier = drawn(protocol.resolver, checkers, job_id)
        assert Attestation(protocol.resolver.verificationOf(job_id).attestation) == Attestation.RESULT_OK
        (line,) = verifier.log.having(f"job {job_id}: attested ok")
        assert "not deterministic" in line

        fresh_price()
        _m, digest = publish_example("matmul", published)
        job_id = post(customer, bytes.fromhex(digest), published.uri(digest))
        serve(provider, chain, job_id)
        published.path(digest).unlink()  # the manifest is gone from the customer's store
        steps(chain, checkers, rounds=2)
        verification = protocol.resolver.verificationOf(job_id)
        verifier = drawn(protocol.resolver, checkers, job_id)
        assert Attestation(verification.attestation) == Attestation.NONE
        waiting = verifier.log.having(f"job {job_id}: no verdict yet: manifest")
        assert len(waiting) == 1 and "unreachable" in waiting[0]
        advance(chain, int(protocol.resolver.attestWindow()) - 1_800)  # decide_margin before the deadline
        verifier.step()
        assert Attestation(protocol.resolver.verificationOf(job_id).attestation) == Attestation.RESULT_OK
        assert verifier.log.having(f"job {job_id}: attested ok: no fault found: manifest")
    finally:
        provider.close()


def test_a_juror_that_lost_its_state_rebuilds_and_says_its_vote_cannot_be_revealed(
    protocol, accounts, fund, tmp_path, published, checkers, customer, chain, fresh_price
):
    fresh_price()
    lazy_manifest, _ = publish_example("faulty_matmul", published)
    LazyAgent.faulty = (lazy_manifest, FetchConfig(cas=published))
    provider = make_provider_agent(LazyAgent, protocol, accounts, fund, tmp_path, published)
    try:
        _manifest, digest = publish_example("matmul", published)
        job_id = post(customer, bytes.fromhex(digest), published.uri(digest))
        serve(provider, chain, job_id)
        steps(chain, checkers, rounds=4)
        verifier = drawn(protocol.resolver, checkers, job_id)
        seats = protocol.resolver.jurorsOf(job_id)  # 5 seats drawn with replacement among the two others
        # One of the two may hold no seat (1 in 16 draws): the juror is one that holds a seat.
        juror = next(a for a in checkers if a is not verifier and a.me in seats)
        assert juror.state.votes[str(job_id)]["fault"] is True
        verdict = json.loads(juror.state_path.read_text())["verdicts"][str(job_id)]  # kept while it votes
        assert (verdict["result"], verdict["ok"], verdict["reproduced"]) == (
            customer.result_of(job_id)[0].hex(),
            False,
            True,
        )
        juror.state_path.unlink()  # the state is lost with the vote's salt
        juror.step()
        assert juror.log.having("disappeared: reading the market's and the resolver's logs again")
        assert json.loads(juror.state_path.read_text())["votes"] == {str(job_id): juror.state.votes[str(job_id)]}

        # A new agent on a fresh state file: it finds its jury again from the chain's logs.
        juror.close()
        lines = Lines()
        again = VerifierAgent(juror.client, tmp_path / "fresh" / "state.json", log=lines, host=HOST)
        try:
            advance(chain, DAY)
            again.step()
            assert lines.having(f"job {job_id}: its committed vote cannot be revealed")
            assert again.state.juries == []
        finally:
            again.close()
    finally:
        provider.close()


def test_an_unreadable_state_is_set_aside(tmp_path):
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"last_block": "x"}))
    with pytest.raises(ValueError, match="not a verifier state"):
        VerifierState.read(path)
    path.write_text(json.dumps({"last_block": 3, "juries": [2], "votes": {"2": {"fault": True, "salt": "00"}}}))
    state = VerifierState.read(path)
    assert state is not None and state.juries == [2] and state.votes["2"]["fault"] is True
    assert VerifierState.read(Path(tmp_path / "none.json")) is None


def test_the_agent_tops_up_the_active_stake_not_counting_stake_still_unbonding(protocol, accounts, fund, tmp_path):
    """A verifier with all its 1,000 CMP unbonding (out of the draws) asks for 1,500: it stakes 1,500
    more, so 1,500 are active. Counting the unbonding stake, it sent 500, which the ledger refuses
    (an active stake between 0 and its 1,000 CMP minimum) and the agent did not start."""
    account = accounts[56]
    fund(account, to_wei(2_500))
    client = MarketClient(protocol, account)
    client.register_verifier(Decimal(1_000))
    protocol.registry.requestVerifierUnstake(to_wei(1_000), sender=account)
    agent = VerifierAgent(client, tmp_path / "state.json", log=Lines(), host=HOST, fetch_config=FetchConfig())
    try:
        agent.ensure_verifier(Decimal(1_500))
    finally:
        agent.close()
    view = client.verifier()
    assert (view["active"], view["staked"], view["unbonding"]) == (Decimal(1_500), Decimal(2_500), Decimal(1_000))


def test_ape_run_verifier_registers_stakes_and_refuses_a_second_agent_on_its_state(
    invoke, checkers, accounts, fund, tmp_path, chain
):
    """`ape run verifier` in process: it registers and stakes the account (TEST::54), steps and
    ends with its summary line; on a state file another agent holds it stops at once, one line."""
    verifier = load_script("verifier").cli
    fund(accounts[54], to_wei(1_000))
    state = tmp_path / "cli" / "state.json"
    # Less than the ledger's 1,000 CMP minimum: refused before anything is sent, one line.
    small = invoke(verifier, "TEST::54", "--stake", "500", "--state", str(state), "--max-steps", "1", "--poll", "0")
    assert small.exit_code == 2 and accounts[54].nonce == 0
    assert small.stderr.strip().splitlines() == [
        "Error: --stake: a verifier keeps at least 1000 CMP staked (or 0 to stay out of the draws)"
    ]
    result = invoke(verifier, "TEST::54", "--stake", "1000", "--state", str(state), "--max-steps", "1", "--poll", "0")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"verifier {accounts[54].address}: 1000 CMP staked" in result.stdout
    assert f"verifier {accounts[54].address}: 1 steps (0 failed)" in result.stdout
    assert json.loads(state.read_text())["market"] == checkers[0].identity

    held = checkers[0].state_path
    refused = invoke(verifier, "TEST::51", "--stake", "1000", "--state", str(held), "--max-steps", "1")
    assert refused.exit_code == 1
    (line,) = refused.stderr.strip().splitlines()
    assert line.startswith("Error: ") and "is in use by another agent" in line

    # Without --account (on the test's node, so that nothing waits for a node of its own to start).
    no_account = CliRunner(mix_stderr=False).invoke(
        verifier, ["--stake", "1", "--state", str(state), "--network", chain.provider.uri]
    )
    assert no_account.exit_code == 2 and "--account" in no_account.stderr
