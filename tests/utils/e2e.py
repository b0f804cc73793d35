"""The end-to-end harness: a separately started anvil, `ape run` commands as processes, agents, and
read-only views of the chain over JSON-RPC (tests/e2e, tests/agent/test_agent_safety.py)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from utils.helpers import CONFIRMED

ROOT = Path(__file__).resolve().parents[2]
APE = str(Path(sys.executable).parent / "ape")
CHEAP = [
    "--electricity",
    "0.10",
    "--power",
    "700",
    "--gpu-price",
    "25000",
    "--lifetime-hours",
    "26280",
    "--margin",
    "0.10",
]  # asks 1.1234 USD per GPU-hour


DEAR = [
    "--electricity",
    "0.20",
    "--power",
    "700",
    "--gpu-price",
    "30000",
    "--lifetime-hours",
    "26280",
    "--margin",
    "0.20",
]  # asks 1.5379


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Anvil:
    def __init__(self) -> None:
        self.port = free_port()
        self._start(["anvil", "--port", str(self.port), "--silent"])

    def _start(self, argv: list[str], cwd: Path | None = None) -> None:
        """Starts `argv` (an anvil on `self.port`) and waits until it answers."""
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(argv, cwd=cwd)
        for _ in range(100):
            try:
                self.rpc("eth_chainId")
            except requests.ConnectionError:
                time.sleep(0.1)
                continue
            # An anvil that could not bind its port exits at once, and the answer came from
            # another node that took the port in between (`bin/coverage`'s other session starts
            # anvils too): refuse it rather than run this test on that node's chain.
            time.sleep(0.2)
            if self.process.poll() is not None:
                raise RuntimeError(f"anvil exited on start (port {self.port} taken by another node?)")
            return
        raise RuntimeError("anvil did not start")

    def rpc(self, method: str, *params: object) -> object:
        reply = requests.post(
            self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}, timeout=10
        ).json()
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply["result"]

    def warp(self, seconds: int) -> None:
        self.rpc("evm_increaseTime", seconds)
        self.rpc("evm_mine")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def ape(*args: str, check: bool = True) -> str:
    result = subprocess.run(
        [APE, "run", *args], cwd=ROOT, capture_output=True, text=True, timeout=300, env=os.environ | CONFIRMED
    )
    if check and result.returncode != 0:
        raise AssertionError(f"ape run {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def market(anvil, record, account: str, *args: str) -> dict:
    out = ape("market", *args, "--network", anvil.url, "--account", account, "--deployment", str(record), "--json")
    return json.loads(out[out.index("{") :])


def agent_args(anvil, record: Path, account: str, cost: list[str], state: Path, poll: str) -> list[str]:
    """`ape run agent`'s options for an operator of 8 H100s in eu-west staking 5,000 CMP."""
    return [
        "--network",
        anvil.url,
        "--account",
        account,
        "--deployment",
        str(record),
        "--gpu",
        "H100-80GB",
        "--count",
        "8",
        "--vram",
        "80",
        "--region",
        "eu-west",
        "--stake",
        "5000",
        *cost,
        "--state",
        str(state),
        "--poll",
        poll,
    ]


class Agent:
    def __init__(self, anvil, record: Path, account: str, cost: list[str], state: Path, log: Path) -> None:
        self.args = ["agent", *agent_args(anvil, record, account, cost, state, "0.3")]
        self.log = log
        self.start()

    def start(self) -> None:
        self.out = self.log.open("a")
        self.process = subprocess.Popen(
            [APE, "run", *self.args], cwd=ROOT, stdout=self.out, stderr=subprocess.STDOUT, env=os.environ.copy()
        )

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(30)
        self.out.close()


class Reader:
    """Read-only views of the market over JSON-RPC (eth_call)."""

    def __init__(self, anvil, project, record: Path) -> None:
        from web3 import Web3

        addresses = {n: e["address"] for n, e in json.loads(record.read_text())["contracts"].items()}
        self.w3 = Web3(Web3.HTTPProvider(anvil.url))

        def contract(name: str):
            abi = [a.model_dump(mode="json", by_alias=True) for a in getattr(project, name).contract_type.abi]
            return self.w3.eth.contract(address=addresses[name], abi=abi)

        self.market = contract("JobMarket")
        self.credits = contract("ComputeCredits")
        self.registry = contract("ProviderRegistry")

    def job(self, job_id: int) -> dict:
        """The job's fields by name (`getJob`'s ABI), so a change of the struct's packing moves nothing."""
        get_job = next(item for item in self.market.abi if item.get("name") == "getJob")
        names = [c["name"] for c in get_job["outputs"][0]["components"]]
        return dict(zip(names, self.market.functions.getJob(job_id).call(), strict=True))

    def result_hash(self, job_id: int) -> bytes:
        """The hash the job's provider submitted, from `ResultSubmitted` (the market keeps it in the event only)."""
        logs = self.market.events.ResultSubmitted().get_logs(from_block=0, argument_filters={"jobId": job_id})
        return bytes(logs[-1]["args"]["resultHash"])

    def registered(self, address: str) -> bool:
        return self.registry.functions.providerOf(address).call()[2]  # (staked, rewardDebt, registered, …)

    def wait(self, what, timeout: float = 180.0) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if what():
                return
            time.sleep(0.5)
        raise AssertionError("timed out waiting for the agents")


ADDRESSES = {
    "TEST::0": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "TEST::1": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "TEST::2": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    "TEST::3": "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
}


# Job fields by name (`Reader.job`).
CUSTOMER, PROVIDER, STATUS, PRICE, BIDS = "customer", "provider", "status", "price", "bidCount"
