"""`ape run market` commands for verifiers, disputes, keepers and credits, and `ape run keeper`,
in process (click's CliRunner) against the test chain: the commands connect to the test node by
its URL, so each runs in a fraction of a second (test_cli_safety_e2e.py runs `ape run` itself)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner
from utils.helpers import advance, load_script

from compute_market.models import DisputeStatus, JobRequest, JobStatus
from compute_market.units import DAY, HOUR, from_wei, to_wei

RESULT = b"\x01" * 32
MARKET = load_script("market").cli
KEEPER = load_script("keeper").cli


def leased_job(chain, customer, provider, fresh_price, **options) -> int:
    """A 4-hour lease of 2 H100s won by `provider` at 2 USD per GPU-hour."""
    fresh_price()
    job_id = customer.post_job(JobRequest("H100-80GB", 2, Decimal(4), Decimal(3), bidding_seconds=HOUR, **options))
    provider.bid(job_id, Decimal(2))
    advance(chain, HOUR)
    provider.finalize(job_id)
    return job_id


def test_verifier_dispute_keeper_and_credit_commands(
    chain, protocol, accounts, fund, customer, provider, fresh_price, run_market, registry
):
    resolver = protocol.resolver
    fund(accounts[44], to_wei(2_000))
    verifier = run_market("TEST::44", "register-verifier", "1000")
    assert (verifier["registered"], verifier["staked"], verifier["active"]) == (True, "1000", "1000")
    assert run_market("TEST::44", "register-verifier", "5")["staked"] == "1005"  # a verifier tops up

    # A job that asked for verification: the customer queues the draw, a keeper makes it.
    job_id = leased_job(chain, customer, provider, fresh_price, verification=True)
    advance(chain, 4 * HOUR)
    provider.submit_result(job_id, RESULT, "ipfs://result")
    queued = run_market("TEST::43", "request-verifier", str(job_id))
    assert queued == {
        "job_id": job_id,
        "target_block": chain.blocks.head.number + int(registry.drawDelay()),
        "draws_pending": 1,
    }
    nonce = accounts[40].nonce
    assert run_market("TEST::40", "process-draws") == {"processed": 0, "draws_pending": 1}  # not ready yet
    assert accounts[40].nonce == nonce  # so nothing was sent
    chain.mine(int(registry.drawDelay()) + 1)
    assert run_market("TEST::40", "process-draws", "--max", "8") == {"processed": 1, "draws_pending": 0}

    # The verifier rejects the result: a dispute; with no other verifier to draw, the arbiter
    # has it, and once its appeal window passed anyone resolves it by default.
    attested = run_market("TEST::44", "attest", str(job_id), "bad")
    assert (attested["verifier"], attested["attestation"]) == (accounts[44].address, "RESULT_BAD")
    chain.mine(int(registry.drawDelay()) + 1)
    assert run_market("TEST::40", "process-draws")["processed"] == 1
    assert resolver.disputeOf(job_id).status == DisputeStatus.AWAITING_ARBITER
    advance(chain, int(resolver.appealWindow()))
    fresh_price()  # settlement values the fee at the oracle price (activity rewards below)
    resolved = run_market("TEST::40", "resolve", str(job_id))
    assert (resolved["dispute"], resolved["job_status"], resolved["jurors"]) == ("RESOLVED", "SETTLED", [])

    # A provider that never delivers: the slashing caller earns the keeper bounty, credited in the
    # ledger; `claim-payout` sends it, and a second claim is refused with the custom error.
    failed = leased_job(chain, customer, provider, fresh_price)
    collateral = protocol.market.getJob(failed).collateral
    advance(chain, 4 * HOUR + protocol.market.getJob(failed).resultGrace + 1)
    before = protocol.token.balanceOf(accounts[40])
    slashed = run_market("TEST::40", "slash-failure", str(failed))
    bounty = collateral * protocol.market.getJob(failed).keeperBountyBps // 10_000
    assert (slashed["status"], Decimal(slashed["bounty_cmp"])) == ("FAILED", from_wei(bounty))
    assert (protocol.token.balanceOf(accounts[40]), protocol.registry.payoutOf(accounts[40])) == (before, bounty)
    claimed = run_market("TEST::40", "claim-payout")
    assert (claimed["payee"], Decimal(claimed["cmp"])) == (accounts[40].address, from_wei(bounty))
    assert protocol.token.balanceOf(accounts[40]) - before == bounty
    # The customer's compensation, delivered by someone else to the customer.
    owed = protocol.registry.payoutOf(customer.address)
    delivered = run_market("TEST::40", "claim-payout", "--payee", customer.address)
    assert (delivered["payee"], Decimal(delivered["cmp"])) == (customer.address, from_wei(owed)) and owed > 0

    # Credits back to CMP.
    fresh_price()
    cmp_before = protocol.token.balanceOf(customer.address)
    redeemed = run_market("TEST::43", "redeem", "10")
    received = protocol.token.balanceOf(customer.address) - cmp_before
    assert received > 0 and Decimal(redeemed["tokens_received"]) == from_wei(received)

    # Rewards: the settled job's epoch, once over, and the stake rewards accrued, in one claim.
    advance(chain, DAY)
    cmp_before = protocol.token.balanceOf(accounts[41])
    claimed = run_market("TEST::41", "claim-rewards")
    assert Decimal(claimed["activity_cmp"]) > 0 and Decimal(claimed["stake_cmp"]) > 0
    received = from_wei(protocol.token.balanceOf(accounts[41]) - cmp_before)
    assert received == Decimal(claimed["activity_cmp"]) + Decimal(claimed["stake_cmp"])
    again = run_market("TEST::41", "claim-rewards")  # the epoch is paid: only seconds of stake rewards
    assert Decimal(again["activity_cmp"]) == 0 and Decimal(again["stake_cmp"]) < Decimal(claimed["stake_cmp"])


def test_a_refusal_of_a_new_command_is_the_contract_error(customer, provider, fresh_price, chain, invoke):
    job_id = leased_job(chain, customer, provider, fresh_price)
    refused = invoke(MARKET, "TEST::40", "slash-failure", str(job_id), "--json")
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["error"] == "ResultDeadlineNotPassed"
    refused = invoke(MARKET, "TEST::40", "request-verifier", str(job_id))
    assert refused.exit_code == 1
    assert refused.stderr.strip().splitlines()[-1] == f"refused: VerificationNotRequested(jobId={job_id})"


BAD_INPUT = [
    (["attest", "1", "maybe"], "'{ok|bad}'", "'maybe' is not one of 'ok', 'bad'"),
    (["redeem", "abc"], "'CRD'", "is not a number"),
    (["redeem", "-3"], "'CRD'", "-3 is negative"),
    (["register-verifier", "0"], "'AMOUNT'", "is not more than zero"),
    (["process-draws", "--max", "0"], "'--max'", "not in the range 1<=x<=1000"),
    (["request-verifier", "0"], "'JOB_ID'", "not in the range 1<=x<=2**256-1"),
    (["slash-failure", "one"], "'JOB_ID'", "is not a valid integer"),
]


@pytest.mark.parametrize(("args", "names", "says"), BAD_INPUT, ids=[" ".join(a) for a, _, _ in BAD_INPUT])
def test_bad_input_to_a_new_command_is_one_line_and_sends_nothing(args, names, says, accounts):
    before = accounts[40].nonce
    result = CliRunner(mix_stderr=False).invoke(MARKET, [*args, "--account", "TEST::40"])
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and names in result.stderr and says in result.stderr, result.stderr
    assert accounts[40].nonce == before


# ---------------------------------------------------------------------- ape run keeper


def test_the_keeper_command_makes_one_step_and_keeps_its_state(chain, protocol, customer, invoke, accounts, tmp_path):
    fresh = customer.post_job(JobRequest("H100-80GB", 1, Decimal(1), Decimal(3), bidding_seconds=HOUR))
    advance(chain, HOUR)
    state = tmp_path / "keeper" / "state.json"
    first = invoke(KEEPER, "TEST::40", "--state", str(state), "--once")
    assert first.exit_code == 0, first.stdout + first.stderr
    assert f"job {fresh}: finalizeAuction" in first.stdout
    assert first.stdout.strip().splitlines()[-1].startswith("1 open jobs")  # read once more, then dropped
    assert customer.job(fresh).status == JobStatus.EXPIRED
    saved = json.loads(state.read_text())
    assert saved["last_block"] >= chain.blocks.head.number - 1 and saved["transactions"] == 1

    nonce = accounts[40].nonce
    second = invoke(KEEPER, "TEST::40", "--state", str(state), "--once", "--interval", "0")
    assert second.exit_code == 0, second.stdout + second.stderr
    assert f"reading logs from block {saved['last_block'] + 1}" in second.stdout  # resumed
    assert second.stdout.strip().splitlines()[-1].startswith("0 open jobs")
    assert accounts[40].nonce == nonce  # nothing due: nothing sent


def test_the_keeper_command_needs_an_account(chain, record_path):
    result = CliRunner(mix_stderr=False).invoke(
        KEEPER, ["--network", chain.provider.uri, "--deployment", str(record_path), "--once"]
    )
    assert result.exit_code == 2
    assert "Missing option '--account'" in result.stderr
