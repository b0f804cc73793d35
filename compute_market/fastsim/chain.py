"""The engine's view of the node: contracts by name with their codecs, one batch of
transactions per block (explicit nonces, fixed gas, tips that fix the order), the block's
receipts and logs, reverts decoded by their custom error, and batched `eth_call`s."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, SupportsIndex

from compute_market.fastsim.abi import Codec, ErrorType, Function, decode_revert
from compute_market.fastsim.deploy import Deployment
from compute_market.fastsim.rpc import Rpc, RpcError

# The contracts whose logs update the mirror.
WATCHED = ("ComputeToken", "PriceFeed", "ComputeCredits", "ProviderRegistry", "JobMarket", "DisputeResolver")
RICH = 10**30  # wei given to every sender (fees are zero: tips only order the block)
# Fixed gas limits (no estimation): about twice the most each call used in gas-report.json.
GAS = {
    "approve": 80_000,
    "transfer": 100_000,
    "setAnswer": 150_000,
    "register": 200_000,
    # measured (test_fastsim_supply, `ape run gas`): a first offer (a fresh slot and the ledger's
    # provision) about 69,000, the first offer of a model nobody named yet (its id: two fresh
    # slots more) 117,894, a withdrawal (provision back to zero) about 48,800
    "setOffer": 250_000,
    "stake": 350_000,
    "mintWithTokens": 300_000,
    "postJob": 600_000,
    "placeBid": 350_000,
    "finalizeAuction": 250_000,
    "claimEarnings": 200_000,
    "submitResult": 150_000,
    "settleJob": 450_000,
    "slashForFailure": 450_000,
    "abandonJob": 450_000,
    "commitBid": 350_000,
    "revealBid": 350_000,
    "settleCommitment": 400_000,
    "cancelJob": 300_000,
    "redeem": 250_000,
    "registerVerifier": 150_000,
    "stakeAsVerifier": 900_000,
    "requestVerifier": 200_000,
    "processDraws": 800_000,  # per entry (the engine sets the limit from how many it asks for)
    "attest": 700_000,  # a rejection opens the dispute and queues its jury draw
    "commitVote": 130_000,
    "revealVote": 150_000,
    "resolve": 900_000,
    "arbitrate": 900_000,
    "claimJuryReward": 150_000,
    "claimPayout": 100_000,  # a customer's credited compensation (`ape run gas`: 44,921)
    "slashAbsentVerifier": 500_000,
}
DEFAULT_GAS = 500_000
STREAM_CHUNK = 96  # a step's transactions go out in batches of this many while the actors decide
TIP_TOP = 10**9  # a streamed step's first tip; each later transaction tips one wei less


@dataclass(frozen=True)
class Tx:
    """One transaction of a step: who sends it, for which actor kind, what it calls."""

    sender: str
    actor: str  # "provider", "cheater", "customer", "keeper", "oracle", "setup"
    contract: str
    function: str
    args: tuple[Any, ...]
    gas: int = 0  # 0: the function's entry in GAS

    @property
    def gas_limit(self) -> int:
        return self.gas or GAS.get(self.function, DEFAULT_GAS)


@dataclass(frozen=True)
class Outcome:
    """A mined transaction: its hash and whether it succeeded (with the revert's name)."""

    tx: Tx
    hash: str
    ok: bool
    error: str = ""


@dataclass(frozen=True)
class Log:
    """One decoded log of a watched contract."""

    contract: str
    event: str
    args: dict[str, Any]
    tx: str = ""  # the transaction's hash


@dataclass
class Block:
    """What one mined step returned."""

    number: int
    timestamp: int
    outcomes: list[Outcome]
    logs: list[Log]
    dropped: int = 0


@dataclass
class Chain:
    """Raw JSON-RPC to the deployment's node."""

    rpc: Rpc
    deployment: Deployment
    codecs: dict[str, Codec] = field(init=False)
    nonces: Counter[str] = field(default_factory=Counter)
    errors: dict[bytes, ErrorType] = field(init=False)
    head_number: int | None = None  # the latest block, once known (the engine mines every block)
    sender: Rpc | None = field(default=None, init=False)  # the sending thread's connection
    sending: ThreadPoolExecutor | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.codecs = {name: Codec(abi) for name, abi in self.deployment.abis.items()}
        self.errors = {}
        for codec in self.codecs.values():
            self.errors.update(codec.errors)
        self.by_address = {address: name for name, address in self.deployment.addresses.items()}
        # each watched contract's name and events by its address, as logs name it
        self._watched = {self.address(c).lower(): (c, self.codecs[c].events) for c in WATCHED}
        self._targets: dict[tuple[str, str], tuple[Function, str]] = {}  # (contract, function): codec, address

    def address(self, contract: str) -> str:
        return self.deployment.addresses[contract]

    # ------------------------------------------------------------------ accounts

    def prepare_senders(self, senders: list[str]) -> None:
        """Lets the node sign for any address (impersonation), funds the senders for gas and
        reads their nonces."""
        self.rpc.call("anvil_autoImpersonateAccount", [True])
        self.rpc.batch([("anvil_setBalance", [s, hex(RICH)]) for s in senders])
        counts = self.rpc.batch([("eth_getTransactionCount", [s, "latest"]) for s in senders])
        for sender, count in zip(senders, counts, strict=True):
            self.nonces[sender] = int(count, 16)

    # ------------------------------------------------------------------ blocks

    def set_automine(self, on: bool) -> None:
        self.rpc.call("evm_setAutomine", [on])
        self.head_number = None  # blocks may have been mined by others: read the head again

    def head(self) -> tuple[int, int]:
        """Number and timestamp of the latest block."""
        block = self.rpc.call("eth_getBlockByNumber", ["latest", False])
        self.head_number = int(block["number"], 16)
        return self.head_number, int(block["timestamp"], 16)

    def send_call(self, tx: Tx, tip: int) -> tuple[str, list[Any]]:
        """The `eth_sendTransaction` of `tx` with the sender's next nonce (taken) and `tip`."""
        key = (tx.contract, tx.function)
        target = self._targets.get(key)
        if target is None:
            target = self._targets[key] = (self.codecs[tx.contract].fn(tx.function), self.address(tx.contract))
        fn, to = target
        nonce = self.nonces[tx.sender]
        self.nonces[tx.sender] = nonce + 1
        fee = hex(tip)
        fields = {
            "from": tx.sender,
            "to": to,
            "data": fn.calldata(*tx.args),
            "gas": hex(tx.gas or GAS.get(tx.function, DEFAULT_GAS)),
            "nonce": hex(nonce),
            "maxFeePerGas": fee,
            "maxPriorityFeePerGas": fee,
        }
        return ("eth_sendTransaction", [fields])

    def stream(self) -> TxStream:
        """An empty list of a step's transactions that sends them as they are appended."""
        if self.sender is None:
            self.sender = Rpc(self.rpc.url, self.rpc.timeout)  # its own HTTP connection
            self.sending = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fastsim-send")
        return TxStream(self)

    def close(self) -> None:
        """Stops the sending thread (a later `stream` starts another)."""
        if self.sending is not None:
            self.sending.shutdown(wait=True)
        if self.sender is not None:
            self.sender.close()
        self.sending, self.sender = None, None

    @property
    def wait_seconds(self) -> float:
        """Wall time in JSON-RPC round trips, the sending thread's included."""
        return self.rpc.wait_seconds + (self.sender.wait_seconds if self.sender is not None else 0.0)

    def mine_step(self, txs: list[Tx], timestamp: int) -> Block:
        """Sends `txs` (mined in this order: decreasing tips) as one batch, or, for this chain's
        `TxStream`, waits for the batches it already sent; mines one block at `timestamp`, reads
        its logs (one `eth_getLogs`), the statuses of the transactions that logged nothing (one
        batch of receipts), names the reverts."""
        n = len(txs)
        if isinstance(txs, TxStream) and txs.chain is self:
            hashes = txs.hashes()
        else:
            hashes = self.rpc.batch([self.send_call(tx, n - i) for i, tx in enumerate(txs)], raise_errors=False)
        if self.head_number is None:
            self.head_number = self.head()[0]
        self.rpc.call("evm_mine", [timestamp])
        # Mining is off and the engine mines every block itself: the new block is the next
        # number, at `timestamp` (no `eth_getBlockByNumber` per step; the logs confirm it).
        number, stamp = self.head_number + 1, timestamp
        self.head_number = number
        sent = [(tx, h) for tx, h in zip(txs, hashes, strict=True) if isinstance(h, str)]
        logs = self.logs(number, number)
        receipts = self.statuses(number, [h for _, h in sent], {log.tx for log in logs})
        dropped = n - sum(1 for r in receipts if r is not None)
        if dropped:
            self._resync([tx.sender for tx in txs])
        reverted = [h for (_, h), r in zip(sent, receipts, strict=True) if r is False]
        reasons = dict(zip(reverted, self.revert_reasons(reverted), strict=True))
        outcomes = [
            Outcome(tx, h, bool(r), reasons.get(h, ""))
            for (tx, h), r in zip(sent, receipts, strict=True)
            if r is not None
        ]
        return Block(number, stamp, outcomes, logs, dropped)

    def statuses(self, number: int, hashes: list[str], logged: set[str]) -> list[bool | None]:
        """Whether each transaction succeeded (None: not in block `number`). A transaction that
        emitted a log succeeded (every call the engine makes targets a watched contract); the
        others' receipts are read in one batch. Reading every receipt costs anvil time quadratic
        in the block's size (`eth_getBlockReceipts` of 4,800 transactions: 22 s; of the ~450 of
        a step at 2,200 actors: 0.25 s, most of the run), so only the silent ones are read."""
        silent = [h for h in hashes if h not in logged]
        read = self.rpc.batch([("eth_getTransactionReceipt", [h]) for h in silent])
        found: dict[str, bool | None] = {
            h: None if r is None or int(r["blockNumber"], 16) != number else r["status"] == "0x1"
            for h, r in zip(silent, read, strict=True)
        }
        return [True if h in logged else found[h] for h in hashes]

    def _resync(self, senders: list[str]) -> None:
        """After a transaction was refused or left out: drops what is pending and reads the
        senders' nonces again."""
        self.rpc.call("anvil_dropAllTransactions")
        unique = sorted(set(senders))
        counts = self.rpc.batch([("eth_getTransactionCount", [s, "latest"]) for s in unique])
        for sender, count in zip(unique, counts, strict=True):
            self.nonces[sender] = int(count, 16)

    def revert_reasons(self, hashes: list[str]) -> list[str]:
        """Each reverted transaction's custom error, from its call trace's return data (one
        batch of `debug_traceTransaction` with the call tracer; no steps tracing needed)."""
        traces = self.rpc.batch(
            [("debug_traceTransaction", [h, {"tracer": "callTracer"}]) for h in hashes], raise_errors=False
        )
        names: list[str] = []
        for trace in traces:
            if isinstance(trace, RpcError) or not isinstance(trace, dict):
                names.append("untraceable")
            elif trace.get("output"):
                names.append(decode_revert(trace["output"], self.errors))
            else:
                names.append(str(trace.get("error") or "empty"))
        return names

    def replay_reason(self, tx: Tx, block: int) -> str:
        """The revert `tx` gives when replayed with `eth_call` at `block` ("ok" if it passes)."""
        data = self.codecs[tx.contract].fn(tx.function).calldata(*tx.args)
        try:
            self.rpc.call("eth_call", [{"from": tx.sender, "to": self.address(tx.contract), "data": data}, hex(block)])
        except RpcError as err:
            return decode_revert(err.error.get("data"), self.errors)
        return "ok"

    def logs(self, start: int, stop: int) -> list[Log]:
        """Decoded logs of the watched contracts in blocks `start`..`stop`, in chain order."""
        raw = self.rpc.call(
            "eth_getLogs",
            [{"fromBlock": hex(start), "toBlock": hex(stop), "address": [self.address(c) for c in WATCHED]}],
        )
        out: list[Log] = []
        append, watched, one_block = out.append, self._watched, hex(start) if start == stop else ""
        for entry in raw:
            if one_block and entry["blockNumber"] != one_block and int(entry["blockNumber"], 16) != start:
                raise RuntimeError(f"asked for the logs of block {start}, got block {entry['blockNumber']}'s")
            found = watched.get(entry["address"].lower())
            topics = entry["topics"]
            if found is None or not topics:
                continue
            event = found[1].get(topics[0])
            if event is not None:
                append(Log(found[0], event.name, event.decode(topics, entry["data"]), entry["transactionHash"]))
        return out

    # ------------------------------------------------------------------ views

    def calls(self, requests: list[tuple[str, str, tuple[Any, ...]]], block: str = "latest") -> list[list[Any]]:
        """Many `eth_call`s (contract, function, args) in one batch; decoded return values."""
        batch: list[tuple[str, list[Any]]] = []
        for contract, function, args in requests:
            data = self.codecs[contract].fn(function).calldata(*args)
            batch.append(("eth_call", [{"to": self.address(contract), "data": data}, block]))
        raw = self.rpc.batch(batch)
        return [self.codecs[c].fn(f).decode_output(r) for (c, f, _a), r in zip(requests, raw, strict=True)]


class TxStream(list[Tx]):
    """A step's transactions, sent while the actors are still deciding: every `STREAM_CHUNK`
    appended, one thread of the chain posts them as a batch of `eth_sendTransaction` on its own
    connection (batches in order, each transaction with its sender's next nonce and a tip one
    wei below the one before, so the block keeps the decision order), while the main thread goes
    on. Anvil checks and pools one batch while Python decides the next; `hashes` sends the rest
    and waits for all of them, in order. (`+=` appends without sending at once: the next batch
    takes them.)"""

    def __init__(self, chain: Chain) -> None:
        super().__init__()
        self.chain = chain
        self.sent = 0  # how many are in a batch already
        self.batches: list[Future[list[Any]]] = []

    def append(self, tx: Tx) -> None:
        super().append(tx)
        if len(self) - self.sent >= STREAM_CHUNK:
            self.flush()

    def extend(self, txs: Iterable[Tx]) -> None:
        for tx in txs:
            self.append(tx)

    def insert(self, index: SupportsIndex, tx: Tx) -> None:
        raise TypeError("a streamed step only appends (sent transactions cannot move)")

    def flush(self) -> None:
        """Posts the transactions not yet sent, as one batch, from the sending thread."""
        chain = self.chain
        if self.sent == len(self) or chain.sending is None or chain.sender is None:
            return
        calls = [chain.send_call(tx, TIP_TOP - i) for i, tx in enumerate(self[self.sent :], start=self.sent)]
        self.batches.append(chain.sending.submit(chain.sender.batch, calls, raise_errors=False))
        self.sent = len(self)

    def hashes(self) -> list[Any]:
        """Every transaction's hash (or its `RpcError`), in order, once all batches are answered."""
        self.flush()
        return [h for batch in self.batches for h in batch.result()]
