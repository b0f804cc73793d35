"""A keeper: performs every permissionless deadline action of the market and the dispute resolver
that is due (SPEC §7), so that no auction, lease, commitment, draw or dispute stays stuck because
nobody in particular has to move it.

In one `Keeper.step()`, bounded by `max_actions` transactions and `max_looks` job reads, it:

- makes the queued verifier and jury draws whose target block is mined (`processDraws`);
- finalizes auctions whose bidding (sealed: reveal) period ended (`finalizeAuction`);
- settles jobs whose challenge window closed (`settleJob`);
- slashes providers that delivered no result by end + the job's `resultGrace` (`slashForFailure`);
- forfeits sealed commitments nobody revealed once the reveal period is over, or releases them
  on a job cancelled while bidding (`settleCommitment`);
- slashes verifiers that did not attest by their deadline (`slashAbsentVerifier`);
- closes jury votes after `revealEnd` (`resolve`) and disputes nobody decided after `appealEnd`
  (`resolveByDefault`).

What the keeper earns: only `slashForFailure` pays its caller, the job's `keeperBountyBps` (5% by
default, fixed when the job was posted) of the failed provider's collateral, in CMP (nothing when
the caller is that provider). The ledger credits the bounty (`payoutOf`); the keeper claims its
credits in one `claimPayout` once they reach `claim_at` CMP (1 by default), so that many bounties
share one claim. Every other action pays nothing and costs the keeper its gas:
running a keeper is a service to the market (its operators, customers waiting for refunds,
providers waiting for pay), as the simulation's keeper is. The state file keeps the bounties
earned and the gas fees paid, so an operator sees both.

How it finds work without looping over every job ever posted: like the provider agent
(`compute_market.agent`), it reads the market's and the resolver's logs from a block cursor kept
in a state file (`read_logs`: one ``eth_getLogs`` per page for all the events it watches, at most
`max_blocks` blocks per step). A job enters the keeper's set of open jobs with its first event
and leaves it once it ended and nothing about it can fall due any more; each open job carries the
chain time at which it next needs a look (its next deadline, or now when an event touched it), so
a step reads only the jobs that are due. The state file is written atomically (a temporary file
renamed over it), so a killed keeper resumes where it stopped. An error in one action (a revert
because somebody else acted first, an RPC failure) is logged and that job is looked at again
`retry_after` seconds later; the rest of the step goes on.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ape import chain
from ape.types import ContractLog, LogFilter
from eth_utils.crypto import keccak
from eth_utils.hexadecimal import encode_hex

from compute_market.client import MarketClient
from compute_market.deployment import market_deploy_block
from compute_market.models import ZERO_ADDRESS, Attestation, AuctionKind, DisputeStatus, JobStatus
from compute_market.units import from_wei

ENDED = frozenset({JobStatus.SETTLED, JobStatus.CANCELLED, JobStatus.EXPIRED, JobStatus.FAILED})
# Market events that bring a job to the keeper's attention (each has `jobId` as first argument).
MARKET_EVENTS = (
    "JobPosted",
    "BidCommitted",
    "BidRevealed",
    "AuctionFinalized",
    "ResultSubmitted",
    "JobCancelled",
    "JobDisputed",
)
RESOLVER_EVENTS = ("VerifierAssigned", "JuryDrawn", "AwaitingArbiter")
BID_EVENTS = frozenset({"BidCommitted", "BidRevealed"})  # no deadline moves: known jobs keep theirs


# ---------------------------------------------------------------------- shared helpers


def read_logs(
    events: Sequence[Any], start: int, stop: int, topics: Sequence[list[str] | None] = ()
) -> Iterator[ContractLog]:
    """The logs of the contract `events` (``contract.EventName`` objects, of one or several
    contracts) in blocks ``start..stop`` inclusive, in chain order: the provider agent's
    ``eth_getLogs``-over-a-block-range approach, with one request per page of blocks for all
    the events instead of one per event (Ape pages long ranges by its provider's page size).
    `topics` filters the indexed arguments on the node, after the event selector: one entry
    per indexed position, a list of accepted 32-byte topics or None for any (`address_topic`)."""
    abis = [event.abi for event in events]
    wanted = {(event.contract.address, event.abi.name) for event in events}
    log_filter = LogFilter(
        addresses=sorted({address for address, _ in wanted}),
        events=abis,
        topic_filter=[[encode_hex(keccak(text=abi.selector)) for abi in abis], *topics],
        start_block=start,
        stop_block=stop,
    )
    for log in chain.provider.get_contract_logs(log_filter):
        if (log.contract_address, log.event_name) in wanted:  # same signature on another contract
            yield log


def address_topic(address: str) -> str:
    """An address as the 32-byte topic of an indexed event argument (for `read_logs`)."""
    return "0x" + address.lower().removeprefix("0x").rjust(64, "0")


def write_json_atomic(path: Path, data: Any) -> None:
    """Writes `data` as JSON to `path` so that a reader (or a restart after a kill) sees the old
    file or the new one, never half of one: a temporary file, flushed to disk, renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w") as out:
        json.dump(data, out, indent=2)
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(path)


# ---------------------------------------------------------------------- state and results


@dataclass
class KeeperState:
    """What survives a restart."""

    last_block: int  # the last block whose logs were read
    market: str = ""  # "<chain id>:<market address>" (a state for another market is ignored)
    jobs: dict[str, int] = field(default_factory=dict)  # open job id → chain time of its next look
    committers: dict[str, list[str]] = field(default_factory=dict)  # job id → unrevealed sealed bidders
    bounties: str = "0"  # CMP earned (slashForFailure bounties), as a decimal string
    gas_fees_wei: int = 0  # native currency paid for the keeper's transactions
    transactions: int = 0

    @classmethod
    def load(cls, path: Path, start_block: int, market: str) -> KeeperState:
        if path.exists():
            raw = json.loads(path.read_text())
            if raw.get("market") == market:
                return cls(**raw)
        return cls(start_block, market)

    def save(self, path: Path) -> None:
        write_json_atomic(path, vars(self))


@dataclass(frozen=True)
class KeeperAction:
    """One transaction the keeper sent (or tried to)."""

    action: str  # the contract function
    job_id: int | None
    ok: bool
    detail: str = ""

    def __str__(self) -> str:
        where = f"job {self.job_id}" if self.job_id is not None else "queue"
        if self.action == "claimPayout":
            where = "ledger"
        outcome = "" if self.ok else " failed"
        return f"{where}: {self.action}{outcome}{f' ({self.detail})' if self.detail else ''}"


@dataclass
class _Look:
    """What one look at a job found: deadlines ahead, and whether it acted, failed or ran out of budget."""

    now: int
    wake: list[int] = field(default_factory=list)
    acted: bool = False
    failed: bool = False
    deferred: bool = False

    def next_look(self, retry_after: int, ended: bool) -> int | None:
        """When to look again (None: the job is done with)."""
        if self.failed:
            return self.now + retry_after
        if self.acted or self.deferred:
            return self.now  # the state moved (or must still move): read it again next step
        if self.wake:
            return min(self.wake)
        return None if ended else self.now + retry_after


# ---------------------------------------------------------------------- the keeper


class Keeper:
    """Moves every due deadline of one deployment, for one account that pays the gas."""

    def __init__(
        self,
        client: MarketClient,
        state_path: Path,
        *,
        start_block: int | None = None,
        max_actions: int = 20,
        max_looks: int = 200,
        max_blocks: int = 10_000,
        max_draws: int = 32,
        retry_after: int = 60,
        recheck_after: int = 3_600,
        claim_at: Decimal = Decimal(1),
        log: Callable[[str], None] = print,
    ) -> None:
        """`start_block` (default: the market's deploy block, so no job is missed) is where a
        new state starts reading logs; `max_actions` bounds the transactions of one step,
        `max_looks` the jobs read, `max_blocks` the blocks of logs read and `max_draws` the
        queue entries one `processDraws` handles. A failed action is retried `retry_after`
        chain seconds later; a dispute waiting for its jury draw is looked at again after
        `recheck_after` seconds at the latest (its `JuryDrawn` event wakes it sooner). The
        bounties the ledger credited are claimed at the end of a step once they reach
        `claim_at` CMP (0: whenever anything is credited)."""
        self.client = client
        self.market = client.p.market
        self.resolver = client.p.resolver
        self.state_path = state_path
        self.max_actions = max_actions
        self.max_looks = max_looks
        self.max_blocks = max_blocks
        self.max_draws = max_draws
        self.retry_after = retry_after
        self.recheck_after = recheck_after
        self.claim_at = claim_at
        self.log = log
        if start_block is None:
            start_block = market_deploy_block(client.p)
        identity = f"{chain.chain_id}:{self.market.address}"
        self.state = KeeperState.load(state_path, max(start_block - 1, -1), identity)
        self._events = [getattr(self.market, name) for name in MARKET_EVENTS] + [
            getattr(self.resolver, name) for name in RESOLVER_EVENTS
        ]
        self._budget = 0
        self._done: list[KeeperAction] = []
        previous = client.on_receipt

        def count(receipt: Any) -> None:  # gas paid, whatever the action
            self.state.transactions += 1
            try:
                self.state.gas_fees_wei += int(receipt.total_fees_paid)
            except Exception as err:  # bookkeeping only: never fail an action that went through
                self.log(f"could not read the fee of {receipt.txn_hash}: {err}")
            if previous is not None:
                previous(receipt)

        client.on_receipt = count

    @property
    def bounties(self) -> Decimal:
        """CMP earned so far (slashForFailure bounties)."""
        return Decimal(self.state.bounties)

    # ------------------------------------------------------------------ the loop

    def run(self, interval: float = 12.0, max_steps: int | None = None) -> None:
        """Steps every `interval` seconds (`max_steps` times, default forever). A step that
        fails as a whole (the node unreachable) is logged and the next one tries again."""
        steps = 0
        while max_steps is None or steps < max_steps:
            try:
                self.step()
            except Exception as err:  # keep running: the next step reads everything again
                self.log(f"step failed: {type(err).__name__}: {err}")
            steps += 1
            if max_steps is None or steps < max_steps:
                time.sleep(interval)

    def step(self) -> list[KeeperAction]:
        """Reads the new logs, makes the ready draws, then looks at every open job that is due
        and performs what is due on it; returns the transactions sent (and tried)."""
        self._budget, self._done = self.max_actions, []
        head = chain.blocks.head
        self._scan(int(head.number))
        self._draws()
        now = int(head.timestamp)
        due = sorted((at, int(job_id)) for job_id, at in self.state.jobs.items() if at <= now)
        for _, job_id in due[: self.max_looks]:
            try:
                next_look = self._look(job_id, now)
            except Exception as err:  # a read failed: come back later, go on with the others
                self.log(f"job {job_id}: could not read it: {type(err).__name__}: {err}")
                next_look = now + self.retry_after
            if next_look is None:
                self.state.jobs.pop(str(job_id), None)
                self.state.committers.pop(str(job_id), None)
            else:
                self.state.jobs[str(job_id)] = next_look
        self._claim()
        self.state.save(self.state_path)
        return self._done

    # ------------------------------------------------------------------ finding work

    def _scan(self, head: int) -> None:
        """Reads the watched logs of the next blocks (at most `max_blocks`) and wakes their jobs."""
        start = self.state.last_block + 1
        if head < start:
            return
        stop = min(head, start + self.max_blocks - 1)
        try:
            logs = list(read_logs(self._events, start, stop))
        except Exception as err:  # the cursor stays: the same blocks are read next step
            self.log(f"blocks {start}-{stop}: could not read logs: {type(err).__name__}: {err}")
            return
        for log in logs:
            key = str(int(log.event_arguments["jobId"]))
            if log.event_name in BID_EVENTS:
                bidder = str(log.event_arguments["provider"])
                bidders = self.state.committers.setdefault(key, [])
                if log.event_name == "BidCommitted" and bidder not in bidders:
                    bidders.append(bidder)
                elif log.event_name == "BidRevealed" and bidder in bidders:
                    bidders.remove(bidder)
                if not bidders:
                    del self.state.committers[key]
                self.state.jobs.setdefault(key, 0)
            else:
                self.state.jobs[key] = 0  # its state moved: look at it next
        self.state.last_block = stop

    def _draws(self) -> None:
        """Makes the queued draws that are ready (and the stake changes queued behind them)."""
        try:
            if self._budget <= 0:
                return
            self._budget -= 1
            processed = self.client.process_draws(self.max_draws)
        except Exception as err:
            self._record(KeeperAction("processDraws", None, False, f"{type(err).__name__}: {err}"))
            return
        if processed:
            self._record(KeeperAction("processDraws", None, True, f"{processed} queue entries"))
        else:
            self._budget += 1  # nothing was ready: nothing sent

    # ------------------------------------------------------------------ one job

    def _look(self, job_id: int, now: int) -> int | None:
        """Performs what is due on `job_id`; returns when to look at it again (None: never)."""
        job = self.market.getJob(job_id)
        status = JobStatus(job.status)
        look = _Look(now)
        if status == JobStatus.NONE:
            return None
        if status == JobStatus.BIDDING:
            closes = int(job.revealEnd if AuctionKind(job.kind) == AuctionKind.SEALED else job.biddingEnd)
            if now >= closes:
                self._act(look, "finalizeAuction", job_id, self.client.finalize, job_id)
            else:
                look.wake.append(closes)
        elif status == JobStatus.LEASED:
            deadline = int(job.leaseStart) + int(job.duration) + int(job.resultGrace)  # fixed when posted
            if now > deadline:
                self._act(look, "slashForFailure", job_id, self._slash_for_failure, job_id)
            else:
                look.wake.append(deadline + 1)
        elif status == JobStatus.RESULT_SUBMITTED:
            if now >= job.challengeEnd:
                self._act(look, "settleJob", job_id, self.client.settle, job_id)
            else:
                look.wake.append(int(job.challengeEnd))
        elif status == JobStatus.DISPUTED:
            self._dispute(job_id, look)
        self._commitments(job_id, status, int(job.revealEnd), look)
        if job.verification and status not in (JobStatus.BIDDING, JobStatus.LEASED):
            self._verification(job_id, look)
        return look.next_look(self.retry_after, ended=status in ENDED)

    def _dispute(self, job_id: int, look: _Look) -> None:
        dispute = self.resolver.disputeOf(job_id)
        status = DisputeStatus(dispute.status)
        if status == DisputeStatus.VOTING:
            if look.now >= dispute.revealEnd:
                self._act(look, "resolve", job_id, self.client.resolve, job_id)
            else:
                look.wake.append(int(dispute.revealEnd))
        elif status == DisputeStatus.AWAITING_ARBITER:
            if look.now >= dispute.appealEnd:
                self._act(look, "resolveByDefault", job_id, self.client.resolve_by_default, job_id)
            else:
                look.wake.append(int(dispute.appealEnd))
        else:  # drawing: `_draws` makes the jury, whose JuryDrawn event wakes the job
            look.wake.append(look.now + self.recheck_after)

    def _commitments(self, job_id: int, status: JobStatus, reveal_end: int, look: _Look) -> None:
        """Forfeits the sealed commitments nobody revealed (a job cancelled while bidding: releases them)."""
        bidders = self.state.committers.get(str(job_id))
        if not bidders:
            return
        if status != JobStatus.CANCELLED and look.now < reveal_end:
            look.wake.append(reveal_end)
            return
        for bidder in list(bidders):
            done = self.market.commitmentOf(job_id, bidder).revealed  # revealed, released or forfeited
            if done or self._act(look, "settleCommitment", job_id, self.client.settle_commitment, job_id, bidder):
                bidders.remove(bidder)
        if not bidders:
            del self.state.committers[str(job_id)]

    def _verification(self, job_id: int, look: _Look) -> None:
        """Slashes a drawn verifier that let its deadline pass without attesting."""
        verification = self.resolver.verificationOf(job_id)
        if verification.verifier == ZERO_ADDRESS or Attestation(verification.attestation) != Attestation.NONE:
            return
        if look.now > verification.deadline:
            self._act(look, "slashAbsentVerifier", job_id, self.client.slash_absent_verifier, job_id)
        else:
            look.wake.append(int(verification.deadline) + 1)

    # ------------------------------------------------------------------ acting

    def _act(self, look: _Look, action: str, job_id: int, fn: Callable[..., Any], *args: Any) -> bool:
        """Sends one action within the step's budget; an error is logged, not raised."""
        if self._budget <= 0:
            look.deferred = True
            return False
        self._budget -= 1
        try:
            result = fn(*args)
        except Exception as err:  # a revert (somebody acted first) or the RPC: retry later
            look.failed = True
            self._record(KeeperAction(action, job_id, False, f"{type(err).__name__}: {err}"))
            return False
        look.acted = True
        detail = f"{result} CMP" if isinstance(result, Decimal) and result else ""
        self._record(KeeperAction(action, job_id, True, detail))
        return True

    def _claim(self) -> None:
        """Claims the bounties the ledger credited this keeper once they reach `claim_at` CMP
        (within the step's budget; an error is logged and the next step tries again)."""
        if self._budget <= 0:
            return
        try:
            owed = self.client.payout_owed()
        except Exception as err:  # the RPC: next step
            self.log(f"could not read the credited bounties: {type(err).__name__}: {err}")
            return
        if owed == 0 or owed < self.claim_at:
            return
        self._budget -= 1
        try:
            claimed = self.client.claim_payout()
        except Exception as err:
            self._record(KeeperAction("claimPayout", None, False, f"{type(err).__name__}: {err}"))
            return
        self._record(KeeperAction("claimPayout", None, True, f"{claimed} CMP"))

    def _slash_for_failure(self, job_id: int) -> Decimal:
        bounty = self.client.slash_for_failure(job_id)
        self.state.bounties = str(self.bounties + bounty)
        return bounty

    def _record(self, action: KeeperAction) -> None:
        self._done.append(action)
        self.log(str(action))

    def summary(self) -> str:
        """One line: open jobs, cursor, transactions, gas paid and bounties earned."""
        return (
            f"{len(self.state.jobs)} open jobs, logs read to block {self.state.last_block}, "
            f"{self.state.transactions} transactions, "
            f"{from_wei(self.state.gas_fees_wei)} (native currency) paid in gas, "
            f"{self.bounties} CMP earned in bounties"
        )
