"""The cost shown and a confirmation asked before value moves: a market command that locks or
sends tokens, credits or stake prints one line naming what moves and how much (CMP or CRD), then
asks ``Proceed? [y/N]`` before it sends anything, approvals included. No: exit 1, one line,
nothing sent. No terminal and no ``--yes``: exit 2 naming ``--yes``, nothing sent. ``--yes`` or
``COMPUTE_MARKET_YES=1``: no prompt. With ``--json`` the line and the prompt go to stderr and the
refusals are JSON errors.

CliRunner's stdin is never a terminal; a test that answers the prompt makes
`compute_market.cli._interactive` say it is one, and gives the answer as CliRunner's input."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from click.testing import CliRunner
from utils.helpers import H100, advance, load_script

import compute_market.cli as cli
from compute_market.client import MarketClient
from compute_market.models import JobRequest
from compute_market.salts import SALTS_ENV
from compute_market.units import HOUR, from_wei, to_wei

MARKET = load_script("market").cli
CANCELLED = "cancelled: nothing sent"
NEEDS_YES = "this command moves value; pass --yes (or set COMPUTE_MARKET_YES=1) to confirm without a prompt"
PROMPT = "Proceed? [y/N]"
TIMES = "\N{MULTIPLICATION SIGN}"
POST = ["post-job", "--gpu", "H100-80GB", "--gpus", "2", "--hours", "4", "--max-price", "2.5"]


@pytest.fixture(autouse=True)
def salts_file(tmp_path, monkeypatch):
    monkeypatch.setenv(SALTS_ENV, str(tmp_path / "salts.json"))  # commit writes nothing to the home folder


@pytest.fixture
def ask(chain, record_path):
    """Runs `ape run market ARGS` in process as `account` WITHOUT the suite's
    ``COMPUTE_MARKET_YES=1`` (unset even if the shell exports it), `input` as stdin."""

    def _ask(account: str, *args: str, input: str | None = None, env: dict[str, str] | None = None):
        common = ["--network", chain.provider.uri, "--account", account, "--deployment", str(record_path)]
        environment: dict[str, str | None] = {cli.YES_ENV: None, **(env or {})}
        return CliRunner(mix_stderr=False).invoke(MARKET, [*args, *common], input=input, env=environment)

    return _ask


@pytest.fixture
def terminal(monkeypatch):
    """stdin counts as a terminal: the prompt is asked (CliRunner's input answers it)."""
    monkeypatch.setattr(cli, "_interactive", lambda: True)


@dataclass
class Case:
    """A value-moving command ready to run: who runs it, its arguments, the line it must show,
    and what the chain holds that it would change (a snapshot to compare)."""

    account: str
    args: list[str]
    shown: str
    state: Callable[[], tuple]
    moved: Callable[[tuple, tuple], bool]  # before, after: the value moved as shown


@pytest.fixture(params=["post-job", "stake", "set-offer", "bid"])
def case(request, protocol, accounts, chain, fund, make_customer, make_provider, fresh_price) -> Case:
    token, credits, market, registry = protocol.token, protocol.credits, protocol.market, protocol.registry
    fresh_price()
    if request.param == "post-job":
        customer = make_customer(accounts[43])
        credits.approve(market, 0, sender=customer)  # no allowance left over: an approval would show

        def post_state() -> tuple:
            return (
                customer.nonce,
                credits.balanceOf(customer),
                credits.allowance(customer, market),
                market.jobCount(),
            )

        return Case(
            "TEST::43",
            POST,
            f"post-job escrows 20 CRD (max price 2.5 CRD/GPU-h {TIMES} 2 GPUs {TIMES} 4 h)",
            post_state,
            lambda before, after: after[1] == before[1] - to_wei(20) and after[3] == before[3] + 1,
        )
    if request.param == "stake":
        holder = accounts[45]
        fund(holder, to_wei(100))
        MarketClient(protocol, holder).register("ipfs://p", "eu-west")

        def stake_state() -> tuple:
            return (
                holder.nonce,
                token.balanceOf(holder),
                token.allowance(holder, registry),
                registry.providerOf(holder).staked,
            )

        return Case(
            "TEST::45",
            ["stake", "40"],
            "stake moves 40 CMP from your balance into your provider stake",
            stake_state,
            lambda before, after: after[3] == before[3] + to_wei(40) and after[1] == before[1] - to_wei(40),
        )
    if request.param == "set-offer":
        offerer = make_provider(accounts[45], stake=to_wei(100), provision=to_wei(10))

        def offer_state() -> tuple:
            return (offerer.nonce, market.offerOf(offerer, H100).provisioned, registry.providerOf(offerer).provisioned)

        return Case(
            "TEST::45",
            ["set-offer", "--gpu", "H100-80GB", "--count", "8", "--vram", "80", "--provision", "50"],
            "set-offer provisions 40 CMP more of your free stake for H100-80GB jobs (50 CMP in all: bids lock it, "
            "failed jobs are slashed from it)",
            offer_state,
            lambda before, after: after[1:] == (to_wei(50), to_wei(50)) and before[1:] == (to_wei(10), to_wei(10)),
        )
    customer = MarketClient(protocol, make_customer(accounts[43]))
    job_id = customer.post_job(JobRequest("H100-80GB", 2, Decimal(4), Decimal(3)))
    bidder = make_provider(accounts[41])
    job = market.getJob(job_id)
    assert job.collateral > 0 and job.gpuStake > 0
    collateral, gpu_stake = from_wei(job.collateral), from_wei(job.gpuStake)

    def bid_state() -> tuple:
        return (bidder.nonce, market.offerOf(bidder, H100).locked, market.getJob(job_id).provider)

    return Case(
        "TEST::41",
        ["bid", str(job_id), "2"],
        f"bid locks {collateral + gpu_stake:f} CMP of your H100-80GB offer's provision for job {job_id} while your "
        f"bid leads (collateral {collateral:f} CMP + GPU stake {gpu_stake:f} CMP), at 2 CRD/GPU-h",
        bid_state,
        lambda before, after: after[1] == before[1] + job.collateral + job.gpuStake and after[2] == bidder.address,
    )


def test_answering_no_sends_nothing_and_exits_1_in_one_line(case, ask, terminal):
    before = case.state()
    result = ask(case.account, *case.args, input="n\n")
    assert result.exit_code == 1, result.stdout + result.stderr
    assert result.stderr == f"{CANCELLED}\n"
    assert result.stdout.splitlines()[0] == case.shown
    assert PROMPT in result.stdout
    assert case.state() == before  # no approval, no transaction, nothing locked or escrowed


def test_no_answer_at_all_is_a_no(case, ask, terminal):
    before = case.state()
    result = ask(case.account, *case.args)  # end of input at the prompt
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == CANCELLED
    assert case.state() == before


def test_answering_yes_shows_the_exact_amounts_and_proceeds(case, ask, terminal):
    before = case.state()
    result = ask(case.account, *case.args, input="y\n")
    assert result.exit_code == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == case.shown
    assert lines[1].startswith(PROMPT)
    assert case.moved(before, case.state())


def test_without_a_terminal_and_without_yes_it_refuses_naming_the_option(case, ask):
    before = case.state()
    result = ask(case.account, *case.args, input="y\n")  # input, but stdin is no terminal: not asked
    assert result.exit_code == 2
    assert result.stderr == f"Error: {NEEDS_YES}\n"
    assert PROMPT not in result.stdout
    assert case.state() == before


def test_yes_proceeds_without_a_prompt(case, ask, terminal):
    before = case.state()
    result = ask(case.account, *case.args, "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert PROMPT not in result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == case.shown  # the cost is shown all the same
    assert case.moved(before, case.state())


def test_json_without_yes_and_without_a_terminal_is_a_json_error(case, ask):
    before = case.state()
    result = ask(case.account, *case.args, "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout) == {"error": "ConfirmationRequired", "message": NEEDS_YES}
    assert result.stderr.splitlines()[0] == case.shown  # the line goes to stderr with --json
    assert case.state() == before


def test_json_answered_no_is_a_json_error_and_the_prompt_is_on_stderr(case, ask, terminal):
    before = case.state()
    result = ask(case.account, *case.args, "--json", input="n\n")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"error": "Cancelled", "message": CANCELLED}
    assert result.stderr.splitlines()[0] == case.shown and PROMPT in result.stderr
    assert case.state() == before


def test_json_answered_yes_keeps_stdout_for_json(case, ask, terminal):
    result = ask(case.account, *case.args, "--json", input="y\n")
    assert result.exit_code == 0, result.stderr
    assert "error" not in json.loads(result.stdout)
    assert PROMPT in result.stderr


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_the_environment_variable_answers_yes(case, ask, terminal, value):
    before = case.state()
    result = ask(case.account, *case.args, env={"COMPUTE_MARKET_YES": value})
    assert result.exit_code == 0, result.stdout + result.stderr
    assert PROMPT not in result.stdout + result.stderr
    assert case.moved(before, case.state())


def test_the_environment_variable_set_to_0_answers_nothing(protocol, ask, accounts, make_customer, fresh_price):
    fresh_price()
    make_customer(accounts[43])
    nonce = accounts[43].nonce
    result = ask("TEST::43", *POST, env={"COMPUTE_MARKET_YES": "0"})
    assert result.exit_code == 2 and NEEDS_YES in result.stderr
    assert accounts[43].nonce == nonce


# ---------------------------------------------------------------------- the other value-moving commands


def test_every_value_moving_command_shows_what_moves(
    chain, protocol, accounts, ask, fund, make_customer, make_provider, fresh_price
):
    """The line of each command, with --yes (the JSON run: on stderr, stdout JSON alone)."""
    fresh_price()
    customer = MarketClient(protocol, make_customer(accounts[43]))
    provider = make_provider(accounts[41])
    fund(accounts[47], to_wei(1_500))
    stranger = accounts[48].address

    def shown(account: str, *args: str) -> str:
        result = ask(account, *args, "--yes", "--json")
        assert result.exit_code == 0, result.stdout + result.stderr
        assert "error" not in json.loads(result.stdout)
        return result.stderr.splitlines()[0]

    assert shown("TEST::47", "transfer", stranger, "5") == f"transfer sends 5 CMP to {stranger}"
    assert shown("TEST::47", "mint-credits", "100") == (
        "mint-credits burns 100 CMP for 248.75 CRD (oracle price 2.5 CRD per CMP, less the 0.5% mint spread)"
    )
    assert shown("TEST::47", "redeem", "10") == (
        "redeem burns 10 CRD for 3.96 CMP (at the oracle price, less the 1% redemption spread)"
    )
    assert shown("TEST::47", "register-verifier", "1000") == (
        "register-verifier moves 1000 CMP from your balance into your verifier stake, "
        "registering the account as a verifier first"
    )
    assert shown("TEST::47", "register-verifier", "5") == (
        "register-verifier moves 5 CMP from your balance into your verifier stake"
    )

    sealed = customer.post_job(JobRequest("H100-80GB", 2, Decimal(4), Decimal(3), sealed=True))
    job = protocol.market.getJob(sealed)  # a commitment's bond: the job's collateral (at least `bidBond`)
    bond, gpu_stake = from_wei(job.collateral), from_wei(job.gpuStake)
    assert shown("TEST::41", "commit", str(sealed), "2") == (
        f"commit locks {bond + gpu_stake:f} CMP of your H100-80GB offer's provision for job {sealed} (bond "
        f"{bond:f} CMP, forfeited unless you reveal, + GPU stake {gpu_stake:f} CMP), sealed price 2 CRD/GPU-h"
    )

    fractional = ["post-job", "--gpu", "H100-80GB", "--gpus", "1", "--hours", "1.5", "--max-price", "2"]
    assert shown("TEST::43", *fractional) == (
        f"post-job escrows 3 CRD (max price 2 CRD/GPU-h {TIMES} 1 GPU {TIMES} 1.5 h)"
    )

    # A result to challenge: bid, lease, result.
    job_id = customer.post_job(JobRequest("H100-80GB", 1, Decimal(1), Decimal(3)))
    bidder = MarketClient(protocol, provider)
    bidder.bid(job_id, Decimal(2))
    advance(chain, HOUR + 1)
    fresh_price()
    bidder.finalize(job_id)
    advance(chain, HOUR + 1)
    bidder.submit_result(job_id, b"\x01" * 32, "ipfs://result")
    bond_crd = from_wei(protocol.resolver.challengeBond())
    assert shown("TEST::43", "challenge", str(job_id), "empty output") == (
        f"challenge posts a {bond_crd:f} CRD bond on job {job_id} (returned unless the dispute finds no fault)"
    )


def test_an_unaffordable_spend_is_refused_before_anything_is_asked(ask, accounts, fund, terminal):
    fund(accounts[45], to_wei(10))
    nonce = accounts[45].nonce
    result = ask("TEST::45", "transfer", accounts[9].address, "50", input="y\n")
    assert result.exit_code == 1
    assert result.stdout == ""  # no line shown, no prompt
    assert result.stderr == "refused: InsufficientBalance(token=CMP, balance=10, needed=50, shortfall=40)\n"
    assert accounts[45].nonce == nonce


def test_a_bid_on_an_unknown_job_is_refused_before_anything_is_asked(ask, terminal):
    result = ask("TEST::41", "bid", "999", "2", input="y\n")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "refused: UnknownJob(jobId=999)\n"


@pytest.mark.parametrize(
    "args",
    [["claim", "1"], ["withdraw-fees"], ["status"], ["cancel", "1"], ["unstake", "1"], ["offer", "--gpu", "H100-80GB"]],
    ids=lambda a: a[0],
)
def test_commands_that_move_no_value_of_the_callers_ask_nothing(ask, args):
    """Without a terminal and without --yes they run (or are refused by the chain) as before."""
    result = ask("TEST::41", *args, "--json")
    assert result.exit_code in (0, 1), result.stderr
    out = json.loads(result.stdout)
    assert out.get("error") != "ConfirmationRequired"
    assert PROMPT not in result.stderr


def test_an_offer_that_keeps_or_lowers_its_provision_asks_nothing(protocol, ask, accounts, make_provider):
    """Only a growing provision puts more stake at risk: the same provision with other GPUs, or a
    lower one (stake back to free), runs without a terminal and without --yes."""
    market, registry = protocol.market, protocol.registry
    offerer = make_provider(accounts[45], stake=to_wei(100), provision=to_wei(60))
    offer = ["set-offer", "--gpu", "H100-80GB", "--vram", "80", "--json"]
    for count, provision in (("4", "60"), ("4", "25")):
        result = ask("TEST::45", *offer, "--count", count, "--provision", provision)
        assert result.exit_code == 0, result.stdout + result.stderr
        assert json.loads(result.stdout)["provisioned"] == provision
        assert PROMPT not in result.stderr
    assert (market.offerOf(offerer, H100).gpus, market.offerOf(offerer, H100).provisioned) == (4, to_wei(25))
    assert registry.freeStakeOf(offerer) == to_wei(75)


def test_an_offer_the_chain_would_refuse_is_refused_before_anything_is_asked(ask, accounts, make_provider, terminal):
    make_provider(accounts[45], stake=to_wei(100), provision=0)
    nonce = accounts[45].nonce
    args = ["set-offer", "--gpu", "H100-80GB", "--count", "8", "--vram", "80", "--provision", "150"]
    result = ask("TEST::45", *args, input="y\n")
    assert result.exit_code == 1
    assert result.stdout == ""  # no line shown, no prompt
    assert result.stderr.strip().splitlines()[-1] == "refused: NotEnoughFreeStake(have=100 CMP, need=150 CMP)"
    assert accounts[45].nonce == nonce
