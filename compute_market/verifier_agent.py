"""A verifier agent: stakes as a verifier, asks for and makes the draws of verified jobs, and checks
the results it is drawn for by re-executing their workloads, as the drawn verifier (`attest`) and
as a juror (`commitVote`, `revealVote`); it closes the disputes it takes part in and claims its
jury shares. `ape run verifier` runs it (scripts/verifier.py); docs/workloads.md, "What the
verifier does", is its description for users.

What one `VerifierAgent.step()` does, in order:

- makes the queued draws that are ready (the staking ledger's `processDraws`, as a keeper does:
  a verifier wants its draws made, or it could never be drawn);
- reads the market's `ResultSubmitted` and the resolver's `VerifierAssigned` and `JuryDrawn` logs
  from its block cursor: a verified job's result (whose verifier draw it asks for,
  `requestVerifier`, unless somebody did), a draw naming this account as the verifier, a jury
  it sits on;
- as the drawn verifier, before its deadline: fetches the job's manifest (from the URI in
  `JobPosted`, checked against the job's `workload`), re-executes it with the host's runner
  (`verify.reexecute`: inputs fetched and hash-checked), fetches the provider's bundle from the
  URI it submitted, and attests: `ok` when its own bundle's sha256 is the submitted one, `bad`
  otherwise (which opens a dispute with this account as challenger; it names the files that
  differ in its log);
- as a juror: the same check, then a sealed vote (`fault` when the result does not match) whose
  salt is saved in the state file before the commitment is sent, revealed once the commit period
  is over; after the reveal period it closes the vote (`resolve`) and claims its share
  (`claimJuryReward`). As the challenger of a dispute (its own rejection), it closes the vote too.

Verdicts (decided here; docs/workloads.md explains why):

- A fault is asserted only when this host reproduced it: the re-execution ran and its bundle's
  sha256 is not the submitted one, or it ran and produced no result (`failed`, `bad_output`;
  `timeout` and `out_of_memory`, which a busy host can cause, only after a second run ends the
  same way). The manifest is deterministic, so every honest host gets the same outcome.
- When nothing can be reproduced, the result is approved ("no fault found") at the latest
  `decide_margin` seconds before the deadline (the attestation's, or the jury's commit end):
  a manifest that is not deterministic, a job without a workload, a manifest or input that
  cannot be fetched, or a workload this host cannot run (runner, resources). Abstaining instead
  would cost the verifier its absence penalty, paid to the customer, who could provoke it at
  will (a non-deterministic job posted with verification by calling the contract directly, or
  inputs taken offline after the provider fetched them); a juror who does not reveal loses its
  juror penalty the same way. Until that moment, a failed fetch is tried again at every step.

Safety, as the provider agent's (both are `compute_market.agent_base.StateAgent`s): a state file
keyed by the chain and the market, written atomically and locked (`<state>.lock`: one agent per
state file); with no state, a foreign one (set aside) or a cursor past the head, it reads the logs
again from the market's deploy block (what it still owes comes back from the chain; a committed
vote whose salt was only in a lost state cannot be revealed, which it says); a failed step is
retried after a doubling backoff; Ctrl-C ends it with a summary line.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Self

from ape import chain

from compute_market.agent_base import SavedState, StateAgent, one_line
from compute_market.client import MarketClient
from compute_market.deployment import market_deploy_block
from compute_market.errors import MarketError
from compute_market.keeper import read_logs
from compute_market.models import NO_WORKLOAD, Attestation, DisputeStatus, JobStatus
from compute_market.workloads import (
    FetchConfig,
    Host,
    Manifest,
    RunStatus,
    StoreError,
    Unrunnable,
    WorkloadError,
    differing_files,
    fetch,
    fetch_manifest,
    matches,
    reexecute,
    runner_for,
    sha256_hex,
)

DECIDE_MARGIN = 1_800  # seconds before a deadline at which a check that found nothing approves
RUNS = 2  # runs of a workload that timed out or ran out of memory before that counts as its outcome
DRAW_RETRY_BLOCKS = 10  # blocks to wait after a refused processDraws
HOST_DEPENDENT = frozenset({RunStatus.TIMEOUT, RunStatus.OUT_OF_MEMORY})


@dataclass(frozen=True)
class Verdict:
    """A checked result: whether it is the workload's (`ok`), why, and whether it was reproduced."""

    ok: bool
    why: str
    reproduced: bool  # False: approved for want of anything to reproduce (see the module docstring)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "why": self.why, "reproduced": self.reproduced}


@dataclass
class VerifierState(SavedState):
    """What survives a restart: the cursor, the deployment (`SavedState`), the jobs and vote salts."""

    requests: list[int] = field(default_factory=list)  # verified jobs whose verifier draw to ask for
    assigned: list[int] = field(default_factory=list)  # jobs this account was drawn to verify
    juries: list[int] = field(default_factory=list)  # disputes whose jury this account sits on
    challenges: list[int] = field(default_factory=list)  # disputes its own rejection opened
    votes: dict[str, dict[str, Any]] = field(default_factory=dict)  # job id → {"fault", "salt"}: to reveal
    verdicts: dict[str, dict[str, Any]] = field(default_factory=dict)  # job id → Verdict.as_dict + "result"

    KIND: ClassVar[str] = "a verifier state"
    UNREADABLE: ClassVar[tuple[type[Exception], ...]] = (KeyError, TypeError, AttributeError, ValueError)

    @classmethod
    def parse(cls, raw: Any) -> Self:
        return cls(
            int(raw["last_block"]),
            str(raw.get("market", "")),
            [int(j) for j in raw.get("requests", [])],
            [int(j) for j in raw.get("assigned", [])],
            [int(j) for j in raw.get("juries", [])],
            [int(j) for j in raw.get("challenges", [])],
            {str(k): dict(v) for k, v in raw.get("votes", {}).items()},
            {str(k): dict(v) for k, v in raw.get("verdicts", {}).items()},
        )


class VerifierAgent(StateAgent[VerifierState]):
    """One verifier's loop: draws, re-execution, attestations, jury votes."""

    rescan_on_loss = True  # what it owes is found again only by reading every log from `start_block`

    def __init__(
        self,
        client: MarketClient,
        state_path: Path,
        *,
        start_block: int | None = None,
        max_blocks: int = 10_000,
        max_draws: int = 32,
        request_draws: bool = True,
        process_draws: bool = True,
        decide_margin: int = DECIDE_MARGIN,
        runs: int = RUNS,
        salt_fn: Callable[[], bytes] | None = None,
        log: Callable[[str], None] = print,
        sleep: Callable[[float], None] = time.sleep,
        host: Host | None = None,
        fetch_config: FetchConfig | None = None,
    ) -> None:
        """Takes the state file's lock (`StateLockedError` when another agent holds it), then opens
        its state. `start_block` (default: the market's deploy block) is where a new state starts
        reading logs, at most `max_blocks` blocks per step. `request_draws` asks for the verifier
        draw of every verified job whose result it sees; `process_draws` makes ready draws (at
        most `max_draws` queue entries a step). `host` (default: `Host.detect()` at the first
        workload) re-executes; `fetch_config` resolves manifests, inputs (``cas://`` through its
        `cas`) and the providers' bundles."""
        self.resolver = client.p.resolver
        self.max_draws = max_draws
        self.request_draws = request_draws
        self.process_draws = process_draws
        self.decide_margin = decide_margin
        self.runs = runs
        self._fetch_config = fetch_config or FetchConfig()
        self._posted: dict[int, tuple[bytes, str]] = {}  # job id → (workload, manifest URI)
        self._results: dict[int, tuple[bytes, str]] = {}  # job id → (submitted sha256, URI)
        self._attempts: dict[int, int] = {}  # job id → runs that ended timeout / out_of_memory
        self._said: dict[int, str] = {}  # job id → the last "no verdict yet" reason logged
        self._draws_after = 0  # the block from which processDraws is tried again after a refusal
        super().__init__(
            VerifierState,
            client,
            state_path,
            start_block=start_block,
            max_blocks=max_blocks,
            salt_fn=salt_fn,
            log=log,
            sleep=sleep,
            host=host,
        )

    # ------------------------------------------------------------------ state

    def rebuilding(self) -> str:
        return (
            f"reading the market's and the resolver's logs again since block {self.start_block} "
            f"to find what {self.me} owes"
        )

    # ------------------------------------------------------------------ set-up

    def ensure_verifier(self, stake: Decimal) -> None:
        """Registers as a verifier (when `stake` is above zero and it is not one) and tops its
        active stake up to `stake` CMP, doing only what is missing. Stake still unbonding is not
        counted: it leaves the draws, and the ledger's minimum (`MIN_VERIFIER_STAKE`) is on the
        active stake."""
        view = self.client.verifier()
        if not view["registered"]:
            if stake > 0:
                self.client.register_verifier(stake)
            return
        missing = stake - view["active"]
        if missing > 0:
            self.client.stake_as_verifier(missing)

    # ------------------------------------------------------------------ the loop

    def summary(self) -> str:
        """One line: steps, failures, the cursor and what the agent follows."""
        s = self.state
        return (
            f"verifier {self.me}: {self.steps} steps ({self.failed_steps} failed), logs read to block "
            f"{s.last_block}, verifying jobs {sorted(s.assigned)}, on the juries of {sorted(s.juries)}, "
            f"challenging {sorted(s.challenges)}, {len(s.votes)} votes to reveal"
        )

    def step(self) -> list[str]:
        """Makes the ready draws, reads the next blocks' logs (at most `max_blocks`), then acts on
        every job it follows; saves the state and returns what it did."""
        done: list[str] = []
        try:
            if self.process_draws:
                done += self._draws()
            head = int(chain.blocks.head.number)
            self._check_state(head)
            self._scan(head)
            for job_id in list(self.state.requests):
                done += self._request(job_id)
            for job_id in list(self.state.assigned):
                done += self._attest(job_id)
            for job_id in list(self.state.juries):
                done += self._jury(job_id)
            for job_id in list(self.state.challenges):
                done += self._challenge(job_id)
            self._forget()
        finally:  # what was done is kept and said, even when the step fails half-way
            self._save()
            for line in done:
                self.log(line)
        return done

    def _forget(self) -> None:
        """Drops the verdicts and cached reads of jobs it no longer has to check."""
        keep = {*self.state.assigned, *self.state.juries}
        self.state.verdicts = {k: v for k, v in self.state.verdicts.items() if int(k) in keep}
        for cache in (self._attempts, self._said):
            for job_id in [j for j in cache if j not in keep]:
                del cache[job_id]
        follow = keep | {*self.state.requests, *self.state.challenges}
        for reads in (self._posted, self._results):
            for job_id in [j for j in reads if j not in follow]:
                del reads[job_id]

    def _scan(self, head: int) -> None:
        """Follows the verified jobs whose results it reads, its draws as verifier, its juries."""
        start = self.state.last_block + 1
        if head < start:
            return
        stop = min(head, start + self.max_blocks - 1)
        events = [self.market.ResultSubmitted, self.resolver.VerifierAssigned, self.resolver.JuryDrawn]
        me = self.me.lower()
        for log in read_logs(events, start, stop):
            args = log.event_arguments
            job_id = int(args["jobId"])
            if log.event_name == "ResultSubmitted":
                self._results[job_id] = (bytes(args["resultHash"]), str(args["uri"]))
                if self.request_draws and self.client.job(job_id).verification:
                    _add(self.state.requests, job_id)
            elif log.event_name == "VerifierAssigned" and str(args["verifier"]).lower() == me:
                _add(self.state.assigned, job_id)
            elif log.event_name == "JuryDrawn" and me in {str(a).lower() for a in args["jurors"]}:
                _add(self.state.juries, job_id)
        self.state.last_block = stop

    # ------------------------------------------------------------------ draws

    def _draws(self) -> list[str]:
        """Makes the queued draws whose target block is mined (nothing sent when none is). After a
        refusal (another agent or a keeper made them first, or the draw reverts) it waits
        `DRAW_RETRY_BLOCKS` blocks before trying again, so that a failing draw does not cost gas
        at every step."""
        head = int(chain.blocks.head.number)
        if head < self._draws_after:
            return []
        try:
            processed = self.client.process_draws(self.max_draws)
        except MarketError as err:
            self._draws_after = head + DRAW_RETRY_BLOCKS
            return [f"processDraws refused {err}; trying again in {DRAW_RETRY_BLOCKS} blocks"]
        return [f"made the ready draws ({processed} queue entries)"] if processed else []

    def _request(self, job_id: int) -> list[str]:
        """Asks for the verifier draw of a verified job whose result is in, unless somebody did
        or it is too late for a verifier's whole attestation window."""
        _drop(self.state.requests, job_id)
        job = self.client.job(job_id)
        if not job.verification or job.status != JobStatus.RESULT_SUBMITTED:
            return []
        if self.resolver.verificationOf(job_id).requested:
            return []
        now = int(chain.blocks.head.timestamp)
        if now + int(self.resolver.attestWindow()) >= job.challenge_end:
            return [f"job {job_id}: too late to ask for a verifier (its challenge window ends first)"]
        try:
            target = self.client.request_verifier(job_id)
        except MarketError as err:  # somebody asked first
            return [f"job {job_id}: request for a verifier refused {err}"]
        return [f"job {job_id}: asked for its verifier draw (decided by the hash of block {target})"]

    # ------------------------------------------------------------------ the drawn verifier

    def _attest(self, job_id: int) -> list[str]:
        """As the drawn verifier: checks the result and attests before the deadline."""
        v = self.resolver.verificationOf(job_id)
        if v.verifier != self.me or Attestation(v.attestation) != Attestation.NONE:
            _drop(self.state.assigned, job_id)  # attested (by an earlier run), excused or absent
            return []
        now = int(chain.blocks.head.timestamp)
        if now > int(v.deadline):
            _drop(self.state.assigned, job_id)
            return [f"job {job_id}: its attestation deadline passed before a verdict (absent)"]
        if DisputeStatus(self.resolver.disputeOf(job_id).status) == DisputeStatus.RESOLVED:
            _drop(self.state.assigned, job_id)
            return []
        verdict, lines = self._verdict(job_id, int(v.deadline) - self.decide_margin, now)
        if verdict is None:
            return lines
        disputed = DisputeStatus(self.resolver.disputeOf(job_id).status) != DisputeStatus.NONE
        try:
            self.client.attest(job_id, verdict.ok)
        except MarketError as err:
            return [*lines, f"job {job_id}: attestation refused {err}"]
        _drop(self.state.assigned, job_id)
        if not verdict.ok and not disputed:
            _add(self.state.challenges, job_id)  # its rejection opened the dispute
        opened = ", a dispute opens" if not verdict.ok and not disputed else ""
        return [*lines, f"job {job_id}: attested {'ok' if verdict.ok else 'bad'}{opened}: {verdict.why}"]

    # ------------------------------------------------------------------ juries

    def _jury(self, job_id: int) -> list[str]:
        """As a juror: commits a vote from its own check, reveals it, closes the vote, claims."""
        key = str(job_id)
        d = self.resolver.disputeOf(job_id)
        status = DisputeStatus(d.status)
        now = int(chain.blocks.head.timestamp)
        if status == DisputeStatus.RESOLVED:
            _drop(self.state.juries, job_id)
            self.state.votes.pop(key, None)
            return self._claim(job_id)
        if status != DisputeStatus.VOTING:  # to the arbiter: no jury share to claim
            _drop(self.state.juries, job_id)
            self.state.votes.pop(key, None)
            return []
        vote = self.resolver.voteOf(job_id, self.me)
        committed = any(bytes(vote.commitment))
        try:
            if now < int(d.commitEnd):
                if committed:
                    return []
                return self._commit_vote(job_id, int(d.commitEnd), now)
            if now < int(d.revealEnd):
                if vote.revealed:
                    return []
                if not committed:
                    _drop(self.state.juries, job_id)
                    return [f"job {job_id}: no vote committed before the commit end: nothing to reveal"]
                saved = self.state.votes.get(key)
                if saved is None:
                    _drop(self.state.juries, job_id)
                    return [
                        f"job {job_id}: its committed vote cannot be revealed: the salt was only in the lost state "
                        "(salts are never on the chain), so the juror penalty applies"
                    ]
                self.client.reveal_vote(job_id, bool(saved["fault"]), bytes.fromhex(saved["salt"]))
                del self.state.votes[key]
                return [f"job {job_id}: revealed its jury vote ({'fault' if saved['fault'] else 'no fault'})"]
            return self._resolve(job_id)
        except MarketError as err:
            return [f"job {job_id}: refused {err}"]

    def _commit_vote(self, job_id: int, commit_end: int, now: int) -> list[str]:
        """Commits a sealed vote: fault when its own check found the result wrong. The salt is
        saved before the commitment is sent (a kill in between does not lose it)."""
        verdict, lines = self._verdict(job_id, commit_end - self.decide_margin, now)
        if verdict is None:
            return lines
        fault = not verdict.ok
        saved = self._send_sealed(
            self.state.votes,
            str(job_id),
            lambda salt: {"fault": fault, "salt": salt},
            lambda saved: self.client.commit_vote(job_id, bool(saved["fault"]), bytes.fromhex(saved["salt"])),
        )
        said = "fault" if saved["fault"] else "no fault"
        return [*lines, f"job {job_id}: committed a jury vote ({said}): {verdict.why}"]

    def _claim(self, job_id: int) -> list[str]:
        tokens, crd = self.resolver.juryRewardOf(job_id, self.me)
        if not tokens and not crd:
            return []
        try:
            cmp, credits = self.client.claim_jury_reward(job_id)
        except MarketError as err:
            return [f"job {job_id}: jury share refused {err}"]
        return [f"job {job_id}: claimed its jury share: {cmp} CMP, {credits} CRD"]

    def _resolve(self, job_id: int) -> list[str]:
        """Closes a vote whose reveal period is over (anyone may; the verdict pays the jurors)."""
        self.client.resolve(job_id)
        d = self.resolver.disputeOf(job_id)
        if DisputeStatus(d.status) == DisputeStatus.RESOLVED:
            verdict = "provider at fault" if d.providerFault else "no fault"
            return [f"job {job_id}: closed the vote: {verdict} ({d.votesFault} fault, {d.votesNoFault} no fault)"]
        return [f"job {job_id}: closed the vote without a majority: to the arbiter"]

    def _challenge(self, job_id: int) -> list[str]:
        """The dispute its rejection opened: closes the vote once its reveal period is over."""
        d = self.resolver.disputeOf(job_id)
        status = DisputeStatus(d.status)
        if status == DisputeStatus.RESOLVED:
            _drop(self.state.challenges, job_id)
            verdict = "the provider at fault" if d.providerFault else "no fault: its rejection was wrong"
            job = self.client.job(job_id)
            return [f"job {job_id}: the dispute it opened was decided: {verdict} (job {job.status.name.lower()})"]
        if status == DisputeStatus.VOTING and int(chain.blocks.head.timestamp) >= int(d.revealEnd):
            try:
                return self._resolve(job_id)
            except MarketError as err:
                return [f"job {job_id}: refused {err}"]
        if status in (DisputeStatus.AWAITING_ARBITER, DisputeStatus.NONE):
            _drop(self.state.challenges, job_id)
        return []

    # ------------------------------------------------------------------ checking a result

    def _verdict(self, job_id: int, decide_by: int, now: int) -> tuple[Verdict | None, list[str]]:
        """The verdict on job `job_id`'s result (kept in the state, so a restart does not run the
        workload again), or None and what it waits for; at `decide_by` a check that could not
        reproduce anything approves (see the module docstring)."""
        result, uri = self._result_of(job_id)
        saved = self.state.verdicts.get(str(job_id))
        if saved is not None and saved.get("result") == result.hex():
            return Verdict(bool(saved["ok"]), str(saved["why"]), bool(saved["reproduced"])), []
        verdict, waiting = self._check(job_id, result, uri)
        if verdict is None and now >= decide_by:
            verdict = Verdict(True, f"no fault found: {waiting}", reproduced=False)
        if verdict is None:
            if self._said.get(job_id) == waiting:
                return None, []
            self._said[job_id] = waiting
            return None, [f"job {job_id}: no verdict yet: {waiting}"]
        self._said.pop(job_id, None)
        self.state.verdicts[str(job_id)] = {"result": result.hex(), **verdict.as_dict()}
        return verdict, []

    def _check(self, job_id: int, result: bytes, uri: str) -> tuple[Verdict | None, str]:
        """Re-executes the job's workload and compares its bundle with the submitted result. A
        verdict, or None and why there is none yet (a fetch failed, a host-dependent failure to
        run again, a workload this host cannot run)."""
        workload, manifest_uri = self._posted_of(job_id)
        if workload == NO_WORKLOAD:
            return Verdict(True, "no workload: nothing to re-execute, no fault to find", False), ""
        try:
            manifest = fetch_manifest(manifest_uri, workload, self._fetch_config)
        except WorkloadError as err:
            return None, f"manifest {manifest_uri}: {one_line(err)}"
        if not manifest.deterministic:
            return Verdict(True, "the manifest is not deterministic: re-execution cannot judge it", False), ""
        try:
            runner_for(manifest, self.host)
        except Unrunnable as err:
            return None, f"this host cannot run the workload: {one_line(err)}"
        try:
            run = reexecute(manifest, self._fetch_config, self.host)
        except StoreError as err:
            return None, f"an input could not be fetched: {one_line(err)}"
        except WorkloadError as err:
            return None, f"could not run: {one_line(err)}"
        if run.status in HOST_DEPENDENT:
            self._attempts[job_id] = self._attempts.get(job_id, 0) + 1
            if self._attempts[job_id] < self.runs:
                done = self._attempts[job_id]
                return None, f"re-execution {done} of {self.runs} ended {run.status.value} ({run.detail})"
        ours = run.bundle_sha256
        if matches(run, result):
            return Verdict(True, f"re-executed {_name(manifest)}: bundle {ours} matches the result", True), ""
        if not run.ok:
            why = f"re-executed {_name(manifest)}: it ended {run.status.value} ({run.detail}), no result to match"
            return Verdict(False, why, True), ""
        assert run.bundle is not None
        return Verdict(False, f"re-executed {_name(manifest)}: {self._mismatch(run.bundle, result, uri)}", True), ""

    def _mismatch(self, ours: bytes, result: bytes, uri: str) -> str:
        """What differs between its own bundle and the provider's (fetched from the submitted URI)."""
        head = f"bundle {sha256_hex(ours)}, not the submitted {result.hex()}"
        try:
            files = differing_files(ours, fetch(uri, result, self._fetch_config))
        except WorkloadError as err:
            return f"{head} (the provider's bundle: {one_line(err)})"
        return f"{head}; files that differ: {', '.join(files) or 'none'}"

    def _result_of(self, job_id: int) -> tuple[bytes, str]:
        if job_id not in self._results:
            self._results[job_id] = self.client.result_of(job_id)
        return self._results[job_id]

    def _posted_of(self, job_id: int) -> tuple[bytes, str]:
        """The job's workload and manifest URI, from its `JobPosted` log."""
        if job_id not in self._posted:
            found = self._job_posted(job_id, market_deploy_block(self.client.p))
            if found is None:
                return NO_WORKLOAD, ""
            self._posted[job_id] = found
        return self._posted[job_id]


def _name(manifest: Manifest) -> str:
    return manifest.name or "the workload"


def _add(jobs: list[int], job_id: int) -> None:
    if job_id not in jobs:
        jobs.append(job_id)


def _drop(jobs: list[int], job_id: int) -> None:
    if job_id in jobs:
        jobs.remove(job_id)
