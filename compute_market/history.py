"""The market's events in human units, for `ape run market history` and `ape run market watch`.

A job's timeline is every log of the `JobMarket`, the `DisputeResolver` and the
`ProviderRegistry` whose indexed ``jobId`` is that job (34 kinds of event: 16, 16 and the
registry's 2 draw events), read with one ``eth_getLogs`` per page of blocks and per position of
``jobId`` among the indexed arguments (the first for all of them today), from the market's
deploy block. A bid's lock on its bidder's offer has no event of its own: it follows from the
bid events (`BidPlaced` and `BidCommitted` lock, an outbid, a reveal, `BondReleased`,
`BondForfeited`, `JobCancelled`, `JobSettled` and `JobFailed` release) and the job's fixed
``collateral + gpuStake`` (`JobPosted`'s ``lock``). `follow` reads every event of the market
(offers set included) and the resolver as blocks are mined. Each event is rendered alike for
both:

- 18-decimal amounts as decimals with their token: CRD for credits (escrow, prices per
  GPU-hour, refunds, pay, fees, challenge bonds), CMP for stake (collateral, slashes, bounties,
  penalties, jury tokens, bonds forfeited), and the CMP rate a posting read in CMP/CRD;
- timestamps (``biddingEnd``, ``deadline``…) as UTC ISO 8601, ``duration`` in hours;
- enums by name (``kind=SEALED``), GPU models and regions as text, other bytes as ``0x`` hex.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ape import chain

from compute_market.deployment import Protocol, market_deploy_block
from compute_market.error_units import ENUMS
from compute_market.keeper import read_logs
from compute_market.units import HOUR, from_bytes32, from_wei, utc

# Amount fields by token (every 18-decimal amount of the three contracts' events).
CRD_FIELDS = frozenset({"escrow", "refund", "net", "fee", "providerGross", "bond", "credits", "creditShare"})
PRICE_FIELDS = frozenset({"maxPricePerGpuHour", "pricePerGpuHour", "clearingPrice", "price"})  # CRD/GPU-h
CMP_FIELDS = frozenset(
    {
        "collateral",
        "slashed",
        "bounty",
        "penalty",
        "tokens",
        "burned",
        "amount",
        "totalStaked",
        "totalUnbonding",
        "tokenShare",
        "provisioned",
        "lock",
    }
)
RATE_FIELDS = frozenset({"tokensPerCredit"})  # CMP wei per CRD (1e18 wei): CMP per CRD, 18 decimals
TIME_FIELDS = frozenset(
    {"biddingEnd", "revealEnd", "challengeEnd", "deadline", "commitEnd", "appealEnd", "unbondingEnd"}
)
TEXT_FIELDS = frozenset({"gpuModel", "region", "name"})  # bytes32 holding a short name
# Integers that are counts, ids or positions (`ParameterUpdated` values are in each parameter's
# unit; an offer's `vramGb` is GB per GPU).
PLAIN_FIELDS = frozenset(
    {
        "jobId",
        "bids",
        "gpuCount",
        "gpus",
        "vramGb",
        "position",
        "slot",
        "targetBlock",
        "oldValue",
        "newValue",
        "majority",
        "modelId",
    }
)
JOB_CONTRACTS = ("JobMarket", "DisputeResolver", "ProviderRegistry")  # whose events carry a jobId
WATCHED_CONTRACTS = ("JobMarket", "DisputeResolver")
CONTRACT_ATTRIBUTES = {"JobMarket": "market", "DisputeResolver": "resolver", "ProviderRegistry": "registry"}


def job_topic(job_id: int) -> str:
    """A job id as the 32-byte topic of an indexed ``uint256 jobId``."""
    return "0x" + format(job_id, "064x")


# ---------------------------------------------------------------------- rendering


def unit_of(name: str, abi_type: str) -> str | None:
    """The unit an argument is shown in, from its name (None: a plain value)."""
    if not abi_type.startswith("uint"):
        return None
    if name in CRD_FIELDS:
        return "CRD"
    if name in PRICE_FIELDS:
        return "CRD/GPU-h"
    if name in CMP_FIELDS:
        return "CMP"
    if name in RATE_FIELDS:
        return "CMP/CRD"
    if name == "duration":
        return "h"
    return None


def _text(raw: bytes | bytearray) -> str:
    """A bytes32 short name as text, or as hex when it is not one."""
    try:
        return from_bytes32(raw)
    except UnicodeDecodeError:
        return "0x" + bytes(raw).hex()


def render_value(name: str, abi_type: str, internal_type: str | None, value: Any) -> Any:
    """One event argument in human units (see the module docstring); JSON-ready."""
    enum = ENUMS.get((internal_type or "").rsplit(".", 1)[-1]) if (internal_type or "").startswith("enum ") else None
    if enum is not None:
        return enum(int(value)).name
    if isinstance(value, (list, tuple)):
        return [render_value(name, abi_type.rsplit("[", 1)[0], None, v) for v in value]
    unit = unit_of(name, abi_type)
    if unit == "h":
        return str(Decimal(int(value)) / HOUR)
    if unit is not None:
        return str(from_wei(int(value)))
    if name in TIME_FIELDS and abi_type.startswith("uint"):
        return utc(value)
    if isinstance(value, (bytes, bytearray)):
        return _text(value) if name in TEXT_FIELDS else "0x" + bytes(value).hex()
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    return str(value)


def _shown(value: Any, abi_type: str) -> str:
    """An argument as the text line shows it: free text quoted, lists bracketed."""
    if isinstance(value, list):
        return "[" + ",".join(_shown(v, abi_type.rsplit("[", 1)[0]) for v in value) + "]"
    if abi_type == "string":
        return '"' + str(value).replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


@dataclass(frozen=True)
class MarketEvent:
    """One log, rendered: where and when it happened, and its arguments in human units."""

    block: int
    log_index: int
    timestamp: int
    tx: str
    contract: str
    event: str
    args: dict[str, Any]
    units: dict[str, str]
    types: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        """The JSON object of ``--json``: amounts as decimal strings, their tokens in ``units``."""
        return {
            "block": self.block,
            "log_index": self.log_index,
            "time": utc(self.timestamp),
            "timestamp": self.timestamp,
            "tx": self.tx,
            "contract": self.contract,
            "event": self.event,
            "args": self.args,
            "units": self.units,
        }

    def line(self) -> str:
        """``2025-06-01T12:00:00Z  block 42  JobMarket.JobPosted  customer=0x…, escrow=24 CRD, …``"""
        fields = ", ".join(
            f"{name}={_shown(value, self.types[name])}" + (f" {self.units[name]}" if name in self.units else "")
            for name, value in self.args.items()
        )
        return f"{utc(self.timestamp)}  block {self.block}  {self.contract}.{self.event}  {fields}".rstrip()


def render_log(log: Any, contract: str, abi: Any, timestamp: int) -> MarketEvent:
    """A decoded Ape `ContractLog` of `contract` (its event's `abi`) as a `MarketEvent`."""
    args: dict[str, Any] = {}
    units: dict[str, str] = {}
    types: dict[str, str] = {}
    for item in abi.inputs:
        value = log.event_arguments[item.name]
        args[item.name] = render_value(item.name, item.type, item.internal_type, value)
        types[item.name] = item.type
        unit = unit_of(item.name, item.type)
        if unit is not None and not (item.internal_type or "").startswith("enum "):
            units[item.name] = unit
    tx = log.transaction_hash
    return MarketEvent(
        block=int(log.block_number),
        log_index=int(log.log_index),
        timestamp=timestamp,
        tx=tx if isinstance(tx, str) else "0x" + bytes(tx).hex(),
        contract=contract,
        event=log.event_name,
        args=args,
        units=units,
        types=types,
    )


# ---------------------------------------------------------------------- reading


def contract_events(protocol: Protocol, names: Iterable[str]) -> list[tuple[str, Any]]:
    """Every event (``contract.EventName``) of the contracts `names`, with the contract's name."""
    out: list[tuple[str, Any]] = []
    for name in names:
        contract = getattr(protocol, CONTRACT_ATTRIBUTES[name])
        out.extend((name, getattr(contract, abi.name)) for abi in contract.contract_type.events)
    return out


def job_id_position(abi: Any) -> int | None:
    """Where ``jobId`` is among an event's indexed arguments (0 first), or None when it is not one."""
    indexed = [i.name for i in abi.inputs if i.indexed]
    return indexed.index("jobId") if "jobId" in indexed else None


def read_events(
    named_events: list[tuple[str, Any]], start: int, stop: int, topics: list[list[str] | None] | None = None
) -> list[MarketEvent]:
    """The `named_events` logged in blocks ``start..stop``, in chain order, with their blocks'
    times (one block read per block holding events)."""
    if not named_events or stop < start:
        return []
    by_key = {(event.contract.address, event.abi.name): (name, event.abi) for name, event in named_events}
    times: dict[int, int] = {}
    out = []
    for log in read_logs([event for _, event in named_events], start, stop, topics or ()):
        name, abi = by_key[(log.contract_address, log.event_name)]
        block = int(log.block_number)
        if block not in times:
            times[block] = int(chain.blocks[block].timestamp)
        out.append(render_log(log, name, abi, times[block]))
    return sorted(out, key=lambda e: (e.block, e.log_index))


def job_history(protocol: Protocol, job_id: int, stop: int | None = None) -> list[MarketEvent]:
    """Every event of the three contracts that carries `job_id`, from the market's deploy block
    to `stop` (default: the head), in chain order."""
    head = int(chain.blocks.head.number) if stop is None else stop
    start = market_deploy_block(protocol)
    groups: dict[int, list[tuple[str, Any]]] = {}
    for name, event in contract_events(protocol, JOB_CONTRACTS):
        position = job_id_position(event.abi)
        if position is not None:
            groups.setdefault(position, []).append((name, event))
    out = []
    for position, named in groups.items():
        topics: list[list[str] | None] = [None] * position + [[job_topic(job_id)]]
        out.extend(read_events(named, start, head, topics))
    return sorted(out, key=lambda e: (e.block, e.log_index))


def follow(
    protocol: Protocol,
    start: int,
    *,
    interval: float,
    deadline: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[MarketEvent]:
    """The market's and the resolver's events from block `start` on, as blocks are mined: reads
    the new blocks every `interval` seconds until the `clock` passes `deadline` (None: forever)."""
    named = contract_events(protocol, WATCHED_CONTRACTS)
    next_block = start
    while True:
        head = int(chain.blocks.head.number)
        if head >= next_block:
            yield from read_events(named, next_block, head)
            next_block = head + 1
        remaining = None if deadline is None else deadline - clock()
        if remaining is not None and remaining <= 0:
            return
        sleep(interval if remaining is None else min(interval, remaining))
