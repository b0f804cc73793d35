"""Real work end to end, the way users run it: a separately started anvil that makes a block every
second (as a live chain does: verifier and jury draws wait for a later block), `ape run deploy`,
`ape run market …`, `python -m compute_market.workloads.publish`, and `ape run agent` and
`ape run verifier` processes. The test itself only reads the chain and moves its clock.

- An honest job through the project's HTTP store server (`ape run store`): the customer
  publishes matmul there and posts a verified job; the provider agent wins, runs it with the
  process runner, uploads the bundle and submits its sha256 and URI; the verifier agent asks for
  the draw, makes it, re-executes and approves; the provider agent settles; `results` downloads
  the bundle, whose hash is the one on chain and the one of a run made here.
- A lazy provider (an `ape run agent` process whose agent computes examples/faulty_matmul, half
  of matmul's rows, and submits that) caught by re-execution: three verifier agent processes,
  one drawn to verify (it attests bad, which opens a dispute), the two others the jury (each
  re-executes and votes fault); the verdict slashes the provider.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

# Run as a script (`lazy-agent`, below), the module needs tests/ on the path for `utils`, as pytest gives it.
sys.path.append(str(Path(__file__).resolve().parents[1]))

from utils.e2e import (
    ADDRESSES,
    APE,
    CHEAP,
    PRICE,
    PROVIDER,
    ROOT,
    STATUS,
    Anvil,
    Reader,
    agent_args,
    ape,
    free_port,
)

from compute_market.models import Attestation, DisputeStatus, JobStatus

# Job fields by name (see test_e2e_cli_agent for the others).
COLLATERAL = "collateral"
LEASED, RESULT_SUBMITTED, SETTLED = JobStatus.LEASED, JobStatus.RESULT_SUBMITTED, JobStatus.SETTLED
FAILED, DISPUTED = JobStatus.FAILED, JobStatus.DISPUTED
# verificationOf: (verifier, deadline, attestation, requested); disputeOf: (challenger, commitEnd,
# status, whistleblower, providerFault, jurorCount, byJury, revealEnd, appealEnd, bond, votesFault, …)
OK, BAD = Attestation.RESULT_OK, Attestation.RESULT_BAD
RESOLVED = DisputeStatus.RESOLVED
ADDRESSES = ADDRESSES | {
    "TEST::4": "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
    "TEST::5": "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
}
WAD = Decimal(10**18)


class BlockAnvil(Anvil):
    """An anvil that mines a block every second, as a live chain does."""

    def __init__(self) -> None:
        self.port = free_port()
        self._start(["anvil", "--port", str(self.port), "--silent", "--block-time", "1"])


@pytest.fixture(scope="module")
def block_anvil():
    node = BlockAnvil()
    yield node
    node.stop()


class Chain(Reader):
    """Read-only views of the market, the resolver, the registry and the tokens over JSON-RPC."""

    def __init__(self, anvil, project, record: Path) -> None:
        super().__init__(anvil, project, record)
        addresses = {n: e["address"] for n, e in json.loads(record.read_text())["contracts"].items()}

        def contract(name: str):
            abi = [a.model_dump(mode="json", by_alias=True) for a in getattr(project, name).contract_type.abi]
            return self.w3.eth.contract(address=addresses[name], abi=abi)

        self.resolver = contract("DisputeResolver")
        self.token = contract("ComputeToken")

    def verification(self, job_id: int) -> tuple:
        return self.resolver.functions.verificationOf(job_id).call()

    def dispute(self, job_id: int) -> tuple:
        return self.resolver.functions.disputeOf(job_id).call()

    def cmp(self, who: str) -> int:
        return self.token.functions.balanceOf(who).call()

    def crd(self, who: str) -> int:
        return self.credits.functions.balanceOf(who).call()


def market(anvil, record, account: str, *args: str) -> dict:
    out = ape("market", *args, "--network", anvil.url, "--account", account, "--deployment", str(record), "--json")
    return json.loads(out[out.index("{") :])


class Process:
    """A long-running command (an agent, a store server) with its output in a log file."""

    def __init__(self, argv: list[str], log: Path) -> None:
        self.log = log
        self.out = log.open("a")
        self.process = subprocess.Popen(
            argv, cwd=ROOT, stdout=self.out, stderr=subprocess.STDOUT, env=os.environ.copy()
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)
        self.out.close()

    def text(self) -> str:
        return self.log.read_text()


def provider_args(anvil, record: Path, state: Path, *store: str) -> list[str]:
    return [*agent_args(anvil, record, "TEST::2", CHEAP, state, "0.5"), *store]


def verifier(anvil, record: Path, account: str, folder: Path, cas: str) -> Process:
    argv = [APE, "run", "verifier", "--network", anvil.url, "--account", account, "--deployment", str(record)]
    argv += ["--stake", "1000", "--state", str(folder / f"{account[6:]}.json"), "--poll", "0.5", "--cas", cas]
    return Process(argv, folder / f"verifier-{account[6:]}.log")


def publish(store: str) -> dict:
    """The customer publishes examples/matmul's input and canonical manifest to `store`."""
    out = subprocess.run(
        [sys.executable, "-m", "compute_market.workloads.publish", "examples/matmul", "--store", store, "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout)


def deploy_and_fund(anvil, record: Path, funds: dict[str, str]) -> None:
    ape("deploy", "--network", anvil.url, "--account", "TEST::0", "--record", str(record))
    for who, amount in funds.items():
        market(anvil, record, "TEST::0", "transfer", ADDRESSES[who], amount)
    minted = market(anvil, record, "TEST::1", "mint-credits", "100")
    assert Decimal(minted["credits_minted"]) == Decimal("248.75")


def post_verified_job(anvil, record: Path, manifest_uri: str) -> int:
    job = market(
        anvil,
        record,
        "TEST::1",
        "post-job",
        "--gpu",
        "H100-80GB",
        "--gpus",
        "1",
        "--hours",
        "1",
        "--max-price",
        "3",
        "--verify",
        "--manifest",
        "examples/matmul/manifest.json",
        "--manifest-uri",
        manifest_uri,
    )
    assert job["verification"] is True
    return int(job["job_id"])


def run_the_lease(anvil, reader: Chain, job_id: int, provider: Process) -> None:
    """The provider agent bids; bidding closes; it finalizes and runs; the lease ends; it submits."""
    reader.wait(lambda: reader.job(job_id)[PROVIDER] == ADDRESSES["TEST::2"], timeout=180)
    anvil.warp(3_600)
    reader.wait(lambda: reader.job(job_id)[STATUS] == LEASED)
    reader.wait(lambda: f"job {job_id}: ran the workload" in provider.text())
    anvil.warp(3_600)
    reader.wait(lambda: reader.job(job_id)[STATUS] == RESULT_SUBMITTED)


def test_an_honest_job_through_the_http_store_is_verified_settled_and_downloaded(block_anvil, project, tmp_path):
    """1 GPU for 1 hour at the 3 CRD max price, verified: the customer pays 3 CRD and the 0.15 CRD
    verification fee (5%), the provider gets 2.97 CRD (less the 1% fee), the verifier 0.15 CRD."""
    anvil, record = block_anvil, tmp_path / "deployment.json"
    deploy_and_fund(anvil, record, {"TEST::1": "1000", "TEST::2": "6000", "TEST::3": "1000"})
    store_port = free_port()
    store_url = f"http://127.0.0.1:{store_port}"
    server = Process(
        [APE, "run", "store", "--dir", str(tmp_path / "server"), "--port", str(store_port)], tmp_path / "store.log"
    )
    reader = Chain(anvil, project, record)
    processes = [server]
    try:
        reader.wait(lambda: "serving" in server.text())
        published = publish(store_url)
        assert published["manifest_uri"] == f"{store_url}/{published['workload'][2:]}"
        job_id = post_verified_job(anvil, record, published["manifest_uri"])

        provider = Process(
            [
                APE,
                "run",
                "agent",
                *provider_args(anvil, record, tmp_path / "provider.json", "--store-url", store_url, "--cas", store_url),
            ],
            tmp_path / "provider.log",
        )
        processes.append(provider)
        checker = verifier(anvil, record, "TEST::3", tmp_path, store_url)
        processes.append(checker)
        run_the_lease(anvil, reader, job_id, provider)
        submitted = reader.result_hash(job_id)

        # The verifier agent asks for the draw, makes it (a block later), re-executes and approves.
        reader.wait(lambda: reader.verification(job_id)[2] == OK, timeout=120)
        assert reader.verification(job_id)[0] == ADDRESSES["TEST::3"]
        said = f"job {job_id}: attested ok: re-executed matmul: bundle {submitted.hex()} matches the result"
        reader.wait(lambda: said in checker.text())  # logged once its step is over
        assert f"job {job_id}: asked for its verifier draw" in checker.text()

        anvil.warp(86_400)  # the challenge window closes: the provider agent settles
        reader.wait(lambda: reader.job(job_id)[STATUS] == SETTLED)
    finally:
        for process in processes[1:]:
            process.stop()

    try:
        out = tmp_path / "results"
        downloaded = market(anvil, record, "TEST::1", "results", "--job", str(job_id), "--out", str(out))
    finally:
        server.stop()
    assert downloaded["sha256"] == "0x" + submitted.hex()
    assert downloaded["uri"] == f"{store_url}/{submitted.hex()}"  # uploaded to the store server
    checksum = json.loads((out / "out" / "checksum.json").read_text())
    assert set(checksum) >= {"n", "sha256"}, checksum
    # The same bundle as a run of the published manifest made here, with the process runner.
    from compute_market.workloads import FetchConfig, LocalStore, ProcessRunner, pack
    from compute_market.workloads.examples import publish_example

    manifest, _ = publish_example("matmul", LocalStore(tmp_path / "here"))
    here = ProcessRunner().run(manifest, FetchConfig(cas=LocalStore(tmp_path / "here")))
    assert here.bundle_sha256 == submitted.hex()
    assert pack({"out/checksum.json": (out / "out" / "checksum.json").read_bytes()}) == here.bundle

    price = Decimal(reader.job(job_id)[PRICE]) / WAD
    assert price == 3
    assert Decimal(reader.crd(ADDRESSES["TEST::2"])) / WAD == Decimal("2.97")
    assert Decimal(reader.crd(ADDRESSES["TEST::3"])) / WAD == Decimal("0.15")
    assert Decimal(reader.crd(ADDRESSES["TEST::1"])) / WAD == Decimal("248.75") - Decimal("3.15")


def test_a_lazy_providers_wrong_result_is_caught_by_re_execution_and_slashed_by_a_jury(block_anvil, project, tmp_path):
    """The lazy provider wins the 1-GPU, 1-hour verified job at 3 CRD; its collateral is 30% of the
    3 CRD lease value at the max price, in CMP at 2.50 USD: 0.36 CMP. The drawn verifier's
    re-execution differs (out/checksum.json): it attests bad, a dispute opens with it as
    challenger; the other two verifier agents are the jury, re-execute, commit fault, reveal a day
    later; the vote is closed a day after that. The verdict slashes the 0.36 CMP collateral:
    0.252 CMP (70%) to the customer, 0.072 (20%, the finder's share) to the verifier, 0.036 (10%)
    to the jury, 0.018 each, claimed by the juror agents; the customer's escrow comes back whole
    (3.15 CRD) but the 0.15 CRD verification fee, paid to the verifier whose rejection stood; the
    provider's stake falls by 0.36 CMP and its record counts a lost dispute."""
    anvil, record = block_anvil, tmp_path / "deployment.json"
    funds = {"TEST::1": "1000", "TEST::2": "6000", "TEST::3": "1000", "TEST::4": "1000", "TEST::5": "1000"}
    deploy_and_fund(anvil, record, funds)
    store = tmp_path / "customer-store"
    published = publish(str(store))
    assert published["manifest_uri"].startswith("file://")
    reader = Chain(anvil, project, record)
    provider_state = tmp_path / "lazy.json"
    lazy = Process(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "lazy-agent",
            str(store),
            *provider_args(anvil, record, provider_state, "--cas", str(store)),
        ],
        tmp_path / "lazy.log",
    )
    checkers = {who: verifier(anvil, record, who, tmp_path, str(store)) for who in ("TEST::3", "TEST::4", "TEST::5")}
    processes = [lazy, *checkers.values()]
    try:
        for who in checkers:  # each has registered and staked before the job is posted
            reader.wait(lambda who=who: reader.registry.functions.activeStakeOf(ADDRESSES[who]).call() > 0, 180)
        reader.wait(lambda: reader.registry.functions.stakeOf(ADDRESSES["TEST::2"]).call() > 0, timeout=180)
        before = {who: (reader.cmp(a), reader.crd(a)) for who, a in ADDRESSES.items()}
        job_id = post_verified_job(anvil, record, published["manifest_uri"])
        stake_before = reader.registry.functions.stakeOf(ADDRESSES["TEST::2"]).call()
        run_the_lease(anvil, reader, job_id, lazy)
        collateral = reader.job(job_id)[COLLATERAL]
        assert collateral == 36 * 10**16  # 0.36 CMP

        reader.wait(lambda: reader.verification(job_id)[2] == BAD, timeout=180)
        drawn = next(who for who in checkers if ADDRESSES[who] == reader.verification(job_id)[0])
        others = sorted(who for who in checkers if who != drawn)
        assert reader.job(job_id)[STATUS] == DISPUTED
        reader.wait(lambda: "files that differ: out/checksum.json" in checkers[drawn].text())
        reader.wait(lambda: len(reader.resolver.functions.jurorsOf(job_id).call()) == 5, timeout=120)
        seats = list(reader.resolver.functions.jurorsOf(job_id).call())  # drawn with replacement
        assert set(seats) <= {ADDRESSES[j] for j in others}
        jurors = [j for j in others if ADDRESSES[j] in seats]
        reader.wait(lambda: all(f"job {job_id}: committed a jury vote (fault)" in checkers[j].text() for j in jurors))

        anvil.warp(86_400)  # the reveal period
        reader.wait(lambda: reader.dispute(job_id)[10] == 5)  # five votes of fault revealed: one a seat
        anvil.warp(86_400)  # the vote is over: an agent closes it, the jurors claim their shares
        reader.wait(lambda: reader.dispute(job_id)[2] == RESOLVED)
        reader.wait(lambda: all("claimed its jury share" in checkers[j].text() for j in jurors))
        reader.wait(lambda: "the dispute it opened was decided" in checkers[drawn].text())
    finally:
        for process in processes:
            process.stop()

    assert reader.dispute(job_id)[4] is True  # provider at fault
    assert reader.job(job_id)[STATUS] == FAILED
    gained = {who: (reader.cmp(a) - before[who][0], reader.crd(a) - before[who][1]) for who, a in ADDRESSES.items()}
    wei = 10**18
    assert gained["TEST::1"] == (252 * wei // 1000, -15 * wei // 100)  # +0.252 CMP; only the fee spent
    assert gained[drawn] == (72 * wei // 1000, 15 * wei // 100)  # finder's 20%, and the fee
    # 10% of the collateral, a fifth of it a seat
    assert [gained[j] for j in others] == [(36 * wei // 1000 // 5 * seats.count(ADDRESSES[j]), 0) for j in others]
    assert reader.registry.functions.stakeOf(ADDRESSES["TEST::2"]).call() == stake_before - collateral
    status = market(anvil, record, "TEST::2", "status")
    assert (status["disputes_lost"], status["completed"], Decimal(status["CRD"])) == (1, 0, 0)  # never paid
    assert "ran the workload" in lazy.text() and f"job {job_id}: result submitted" in lazy.text()


def lazy_agent(store: str, argv: list[str]) -> None:
    """``python tests/e2e/test_e2e_workload.py lazy-agent STORE ARGS…``: `ape run agent` ARGS, with an
    agent that runs examples/faulty_matmul (published to STORE) instead of the job's workload."""
    from utils.helpers import load_script

    from compute_market.workloads import FetchConfig, LocalStore, Manifest, RunResult, runner_for
    from compute_market.workloads.examples import publish_example

    inputs = LocalStore(store)
    faulty, _ = publish_example("faulty_matmul", inputs)
    script = load_script("agent")

    class LazyAgent(script.ProviderAgent):
        def run_workload(self, job_id: int, manifest: Manifest) -> RunResult:
            return runner_for(faulty, self.host).run(faulty, FetchConfig(cas=inputs))

    script.ProviderAgent = LazyAgent
    script.cli.main(args=argv, prog_name="ape run agent")


if __name__ == "__main__" and sys.argv[1:2] == ["lazy-agent"]:
    lazy_agent(sys.argv[2], sys.argv[3:])
