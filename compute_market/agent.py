"""A provider agent: watches the market's events and bids from a cost model, reveals sealed bids,
serves leases (submits results), claims earnings and settles, resuming from the last block it
handled after a restart.

It does not drop what it owes (issue 19):

- Its state file (a block cursor, the jobs it follows, sealed-bid salts) is keyed by the chain
  (id and genesis block hash) and the market's address. With no state file, an unreadable one
  (set aside), one for another chain or deployment (set aside), or a cursor past the chain head
  (a restarted or redeployed local chain), it starts over from the market's deploy block and
  rebuilds from the chain what this account owes: every job it bid on or won, found from its own
  `BidPlaced`, `BidCommitted`, `BidRevealed` and `AuctionFinalized` logs, is followed again while
  its auction is open or it is the provider of a lease to serve or a result to settle. It does the
  same when the state file disappears while it runs. Sealed-bid salts are not on the chain: a bid
  committed by a lost state cannot be revealed (its bond is forfeited), which it says in a log
  line. A salt is written to the state file before its commitment is sent, so that no kill in
  between loses it.
- A new state reads the market's logs from the deploy block (at most `max_blocks` blocks per
  step), so jobs posted before the agent started are seen; it bids only on jobs still open.
- It takes an exclusive lock (``fcntl.flock``) on a sidecar ``<state>.lock`` file: a second agent
  on the same state file stops at once with `StateLockedError`.
- `run` survives the node: a step that fails (connection lost, a timeout, an RPC error) is logged
  in one line and tried again after a backoff that doubles up to a cap; Ctrl-C ends it with a
  summary line.

The state file, its lock, starting over, sealed salts and the run loop are
`compute_market.agent_base.StateAgent`'s, which the verifier agent shares.

Why not Silverback: Silverback (ApeWorX's bot framework) installs here beside eth-ape 0.8.51,
but it runs bots through its own async runner and task broker, and what the agent needs is
small and must be testable in one process: a persisted block cursor, a few event filters and a
state file. A polling loop over `eth_getLogs` ranges does exactly that with no broker, the same
way against a local anvil or a testnet RPC.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any, ClassVar, Self

from ape import chain

from compute_market.agent_base import SavedState, StateAgent, one_line
from compute_market.agent_base import StateLockedError as StateLockedError  # raised by ProviderAgent()
from compute_market.client import MarketClient
from compute_market.errors import MarketError
from compute_market.keeper import address_topic, read_logs
from compute_market.models import NO_WORKLOAD, AuctionKind, JobStatus, JobView, OfferView
from compute_market.units import from_bytes32, from_wei
from compute_market.workloads import (
    FetchConfig,
    Host,
    HttpStore,
    LocalStore,
    Manifest,
    RunResult,
    WorkloadError,
    fetch,
    load_published,
    runner_for,
)

CENT = Decimal("0.0001")
# The market events a step reads: new jobs, bids (outbids, and the agent's own), wins.
SCANNED_EVENTS = ("JobPosted", "BidPlaced", "BidCommitted", "BidRevealed", "AuctionFinalized")
# The events naming the agent as `provider` (their second indexed argument): what it bid on or won.
OWN_EVENTS = ("BidPlaced", "BidCommitted", "BidRevealed", "AuctionFinalized")
# Job states in which the provider still owes something: a result, or the settlement it is paid by.
OWED = frozenset({JobStatus.LEASED, JobStatus.RESULT_SUBMITTED, JobStatus.DISPUTED})
MANIFEST_MAX_BYTES = 1 << 20  # a manifest above 1 MiB is refused before it is read in full


def honest_result(job_id: int, provider: str) -> bytes:
    """What serving a job honestly yields, as a digest (the simulation's ground truth)."""
    return hashlib.sha256(f"{job_id}:{provider}".encode()).digest()


@dataclass(frozen=True)
class CostModel:
    """What one GPU-hour costs the provider, and the margin it wants on top.

    cost = power (kW) * electricity (USD/kWh) + purchase price / amortisation hours
    """

    electricity_usd_per_kwh: Decimal
    gpu_power_watts: Decimal
    gpu_price_usd: Decimal
    amortization_hours: Decimal
    target_margin: Decimal = Decimal("0.15")

    def cost_per_gpu_hour(self) -> Decimal:
        energy = self.gpu_power_watts / 1000 * self.electricity_usd_per_kwh
        return energy + self.gpu_price_usd / self.amortization_hours

    def ask(self) -> Decimal:
        """The lowest price per GPU-hour the agent accepts."""
        return (self.cost_per_gpu_hour() * (1 + self.target_margin)).quantize(CENT)


@dataclass
class AgentState(SavedState):
    """What survives a restart: the cursor, the deployment (`SavedState`), the jobs and salts."""

    commitments: dict[str, dict[str, str]] = field(default_factory=dict)  # job id → price, salt
    tracked: list[int] = field(default_factory=list)  # jobs the agent bid on or serves
    claimed_at: dict[str, int] = field(default_factory=dict)  # job id → time of the last claim
    # job id → {"workload": hex sha256, "manifest_uri": URI}: the manifest accepted before bidding
    workloads: dict[str, dict[str, str]] = field(default_factory=dict)
    # job id → {"sha256": hex, "uri": URI}: the result bundle, stored, to submit at the lease's end
    results: dict[str, dict[str, str]] = field(default_factory=dict)

    KIND: ClassVar[str] = "an agent state"

    @classmethod
    def parse(cls, raw: Any) -> Self:
        return cls(
            int(raw["last_block"]),
            str(raw.get("market", "")),
            dict(raw.get("commitments", {})),
            [int(job_id) for job_id in raw.get("tracked", [])],
            dict(raw.get("claimed_at", {})),
            dict(raw.get("workloads", {})),
            dict(raw.get("results", {})),
        )


class ProviderAgent(StateAgent[AgentState]):
    """One provider's bidding and serving loop over one GPU model: its offer of that model in the
    market (`ensure_provider`) holds its GPUs and the stake provisioned for the model's jobs, and
    it bids only on jobs whose lock (collateral plus per-GPU stake) the offer's free provision
    covers. It has no leave path: giving a provision back (`MarketClient.set_offer`, never below
    what bids lock) before unstaking is the operator's (``ape run market set-offer``)."""

    def __init__(
        self,
        client: MarketClient,
        gpu_model: str,
        cost: CostModel,
        state_path: Path,
        *,
        start_block: int | None = None,
        step: Decimal = Decimal("0.05"),
        claim_every: int = 3_600,
        salt_fn: Callable[[], bytes] | None = None,
        max_blocks: int = 10_000,
        log: Callable[[str], None] = print,
        sleep: Callable[[float], None] = time.sleep,
        host: Host | None = None,
        store: LocalStore | HttpStore | None = None,
        fetch_config: FetchConfig | None = None,
    ) -> None:
        """Takes the state file's lock (`StateLockedError` when another agent holds it), then opens its
        state (`StateAgent`). `start_block` (default: the market's deploy block, so that no job posted
        before the agent started is missed) is where a new state starts reading logs, at most
        `max_blocks` blocks per step; `sleep` waits between steps (tests pass their own).

        Workloads: `host` (default: `Host.detect()` when the first workload is seen) runs them,
        `store` (default: a `LocalStore` in ``store`` next to the state file) keeps the result
        bundles, `fetch_config` resolves manifests and inputs (default: ``cas://`` through `store`)."""
        self.gpu_model = gpu_model
        self.cost = cost
        self.undercut_step = step  # how far an outbid agent undercuts the best bid
        self.claim_every = claim_every  # seconds of accrual between two claims
        self._store = store
        self._fetch_config = fetch_config
        self._posted: dict[int, tuple[bytes, str]] = {}  # job id → (workload, manifest URI) from JobPosted
        self._manifests: dict[int, Manifest] = {}  # job id → its accepted manifest
        self._refused: set[int] = set()  # jobs whose workload was refused (said once)
        self._runs: dict[int, RunResult] = {}  # job id → a successful run whose bundle is not stored yet
        self._failed: dict[int, str] = {}  # job id → why its run failed (if abandoning it failed too)
        super().__init__(
            AgentState,
            client,
            state_path,
            start_block=start_block,
            max_blocks=max_blocks,
            salt_fn=salt_fn,
            log=log,
            sleep=sleep,
            host=host,
        )

    @property
    def store(self) -> LocalStore | HttpStore:
        """Where result bundles go (made at the first use: a `LocalStore` in ``store`` next to the state)."""
        if self._store is None:
            self._store = LocalStore(self.state_path.parent / "store")
        return self._store

    @property
    def fetch_config(self) -> FetchConfig:
        """How manifests and inputs are fetched (default: ``cas://`` URIs through the agent's store)."""
        if self._fetch_config is None:
            self._fetch_config = FetchConfig(cas=self.store)
        return self._fetch_config

    # ------------------------------------------------------------------ state

    def rebuilding(self) -> str:
        return (
            f"rebuilding what {self.me} owes from the chain, "
            f"reading the market's logs again since block {self.start_block}"
        )

    def _rebuild(self) -> None:
        """Follows again every job this account bid on or won that still needs it (an auction to
        answer or finalize, a lease to serve, a result to settle), found from its own logs since
        `start_block`; logs the sealed bids it can no longer reveal."""
        head = int(chain.blocks.head.number)
        events = [getattr(self.market, name) for name in OWN_EVENTS]
        mine = [None, [address_topic(self.me)]]  # any job id; provider = this account
        logs = read_logs(events, self.start_block, head, mine) if head >= self.start_block else iter(())
        job_ids = sorted({int(log.event_arguments["jobId"]) for log in logs})
        for job_id in job_ids:
            for line in self._recover(job_id):
                self.log(line)
        self._rebuild_reason = None
        self.log(
            f"rebuilt from the chain (blocks {self.start_block}-{head}): bid on {len(job_ids)} jobs, "
            f"following {sorted(self.state.tracked)}"
        )

    def _recover(self, job_id: int) -> list[str]:
        """Follows `job_id` again if its auction is open or this account owes on it."""
        job = self.client.job(job_id)
        known = job_id in self.state.tracked
        if job.status == JobStatus.BIDDING:
            self._track(job_id)
            if job.kind == AuctionKind.SEALED and str(job_id) not in self.state.commitments:
                commitment = self.market.commitmentOf(job_id, self.me)
                if commitment.committedAtBlock != 0 and not commitment.revealed:
                    return [
                        f"job {job_id}: its sealed bid cannot be revealed: the salt was only in the lost state "
                        "(salts are never on the chain), so the bid lapses and its bond is forfeited"
                    ]
            return [] if known else [f"job {job_id}: bidding, followed again"]
        if job.provider == self.me and job.status in OWED:
            self._track(job_id)
            return [] if known else [f"job {job_id}: {job.status.name.lower()}, owed, followed again"]
        return []

    # ------------------------------------------------------------------ set-up

    def ensure_provider(
        self,
        region: str,
        gpu_count: int,
        vram_gb: int,
        stake: Decimal,
        metadata: str = "",
        *,
        provision: Decimal | None = None,
    ) -> None:
        """Registers, tops the stake up to `stake`, then offers `gpu_count` GPUs of its model
        with `vram_gb` GB each in the market and `provision` CMP of its stake provisioned for the
        model's jobs (default: all of `stake`: the agent offers one model), doing only what is
        missing. The provision is at most what the stake covers (the free stake plus what the
        offer holds already: stake provisioned for another model, unbonding or slashed is not
        taken; said in a line) and never below what the agent's bids lock (the market refuses)."""
        view = self.client.provider()
        if not view.registered:
            self.client.register(metadata or f"agent://{self.me}", region)
        missing = stake - view.staked
        if missing > 0:
            self.client.stake(missing)
        offer = self.client.offer(self.me, self.gpu_model)
        wanted = stake if provision is None else provision
        covered = offer.provisioned + self.client.provider().free
        target = max(offer.locked, min(wanted, covered))
        if target < wanted:
            self.log(
                f"provision of {self.gpu_model}: {target} CMP, not {wanted}: the stake covers only {covered} CMP "
                "(free stake and the offer's provision)"
            )
        elif target > wanted:
            self.log(f"provision of {self.gpu_model}: {target} CMP, not {wanted}: its bids lock {target} CMP")
        if (offer.gpus, offer.vram_gb, offer.provisioned) != (gpu_count, vram_gb, target):
            self.client.set_offer(self.gpu_model, gpu_count, vram_gb, target)

    # ------------------------------------------------------------------ the loop

    def summary(self) -> str:
        """One line: steps, failures, the cursor and what the agent follows."""
        return (
            f"agent {self.me}: {self.steps} steps ({self.failed_steps} failed), logs read to block "
            f"{self.state.last_block}, following jobs {sorted(self.state.tracked)}, "
            f"{len(self.state.commitments)} sealed bids to reveal"
        )

    def step(self) -> list[str]:
        """Rebuilds from the chain when the state was lost, handles the next blocks' logs (at most
        `max_blocks`), then every tracked job; saves the state and returns what it did."""
        done: list[str] = []
        try:
            head = int(chain.blocks.head.number)
            self._check_state(head)
            if self._rebuild_reason is not None:
                self._rebuild()
            self._scan(head, done)
            for job_id in list(self.state.tracked):
                done += self._advance(job_id)
        finally:  # what was done is kept and said, even when the step fails half-way
            self._save()
            for line in done:
                self.log(line)
        return done

    def _scan(self, head: int, done: list[str]) -> None:
        """Reads the market's logs of the next blocks (at most `max_blocks`): bids on new jobs
        still open, answers outbids on the jobs it follows, follows every job it bid on or won."""
        start = self.state.last_block + 1
        if head < start:
            return
        stop = min(head, start + self.max_blocks - 1)
        logs = list(read_logs([getattr(self.market, name) for name in SCANNED_EVENTS], start, stop))
        now = int(chain.blocks.head.timestamp)
        for log in logs:  # new jobs first, then bids: the order the agent has always answered in
            if log.event_name == "JobPosted":
                args = log.event_arguments
                self._posted[int(args["jobId"])] = (bytes(args["workload"]), str(args["manifestURI"]))
            if log.event_name == "JobPosted" and self._may_bid(log.event_arguments, now):
                done += self._consider(int(log.event_arguments["jobId"]))
        for log in logs:
            if log.event_name == "JobPosted":
                continue
            job_id, provider = int(log.event_arguments["jobId"]), log.event_arguments["provider"]
            if provider == self.me:
                self._track(job_id)  # its own bid or win: followed even if the state forgot it
            elif log.event_name == "BidPlaced" and job_id in self.state.tracked:
                done += self._consider(job_id)  # outbid: answer if still worth it
        self.state.last_block = stop

    def _may_bid(self, posted: Any, now: int) -> bool:
        """Whether a posted job (its `JobPosted` arguments) is for this GPU model and still open."""
        return from_bytes32(posted["gpuModel"]) == self.gpu_model and int(posted["biddingEnd"]) > now

    # ------------------------------------------------------------------ decisions

    def _matching_offer(self, job: JobView) -> OfferView | None:
        """The agent's offer when it can take the job (its model, GPUs free and memory, its
        region), read once for the decisions that follow; None when it cannot."""
        if job.gpu_model != self.gpu_model or job.customer == self.me:
            return None
        offer = self.client.offer(self.me, job.gpu_model)
        region_ok = not job.region or job.region == from_bytes32(self.client.p.registry.regionOf(self.me))
        matches = offer.free_gpus >= job.gpu_count and offer.vram_gb >= job.min_vram_gb and region_ok
        return offer if matches else None

    def _short_of_provision(self, job_id: int, offer: OfferView) -> str | None:
        """None when the offer's free provision covers what a bid on `job_id` locks (the job's
        collateral and per-GPU stake); else why not, in one line (the market would refuse the
        bid with ``NotEnoughProvision``)."""
        need = sum(self.client.bid_lock(job_id), Decimal(0))
        free = offer.free
        if need > free:
            return f"job {job_id}: a bid locks {need} CMP, the {self.gpu_model} offer has {free} CMP free, skipped"
        return None

    def _consider(self, job_id: int) -> list[str]:
        job = self.client.job(job_id)
        now = chain.blocks.head.timestamp
        if job.status != JobStatus.BIDDING or now >= job.bidding_end:
            return []
        offer = self._matching_offer(job)
        if offer is None:
            return []
        ask = self.cost.ask()
        if job.max_price_per_gpu_hour < ask:
            return [f"job {job_id}: max {job.max_price_per_gpu_hour} below ask {ask}, skipped"]
        if job_id in self._refused:
            return []
        refusal = self._check_workload(job_id)
        if refusal is not None:
            self._refused.add(job_id)
            return [f"job {job_id}: not bidding: {refusal}"]
        try:
            if job.kind == AuctionKind.SEALED:
                return self._commit(job_id, ask, offer)
            if job.provider == self.me:
                return []
            short = self._short_of_provision(job_id, offer)
            if short is not None:
                return [short]
            price = self._undercut(job, ask)
            if price is None:
                return [f"job {job_id}: best {job.price_per_gpu_hour} already below ask {ask}"]
            self.client.bid(job_id, price)
            self._track(job_id)
            return [f"job {job_id}: bid {price}"]
        except MarketError as err:
            return [f"job {job_id}: refused {err}"]

    def _commit(self, job_id: int, ask: Decimal, offer: OfferView) -> list[str]:
        """Commits a sealed bid at the ask (truthful). The salt is saved before the commitment is
        sent, so that a kill in between does not lose it; a salt saved for a commitment that
        never reached the chain is sent again."""
        key = str(job_id)
        if key in self.state.commitments and self.market.commitmentOf(job_id, self.me).committedAtBlock != 0:
            return []
        short = self._short_of_provision(job_id, offer)
        if short is not None:
            return [short]
        self._send_sealed(
            self.state.commitments,
            key,
            lambda salt: {"price": str(ask), "salt": salt},
            lambda saved: self.client.commit(job_id, Decimal(saved["price"]), bytes.fromhex(saved["salt"])),
        )
        self._track(job_id)
        return [f"job {job_id}: committed a sealed bid"]

    def _undercut(self, job: JobView, ask: Decimal) -> Decimal | None:
        """Open auctions: undercut the best bid by `step` (at least the market's decrement), never
        below the ask; the first bid asks the job's max price. None when the best is out of reach."""
        if job.provider is None:
            return max(ask, job.max_price_per_gpu_hour)
        decrement = max(Decimal(self.market.minDecrementBps()) / 10_000, self.undercut_step)
        allowed = (job.price_per_gpu_hour * (1 - Decimal(self.market.minDecrementBps()) / 10_000)).quantize(
            CENT, rounding=ROUND_DOWN
        )
        if allowed < ask:
            return None
        return max(ask, (job.price_per_gpu_hour * (1 - decrement)).quantize(CENT, rounding=ROUND_DOWN))

    def _advance(self, job_id: int) -> list[str]:
        job = self.client.job(job_id)
        now = chain.blocks.head.timestamp
        commitment = self.state.commitments.get(str(job_id))
        try:
            if job.status == JobStatus.BIDDING:
                if job.kind == AuctionKind.SEALED and commitment and job.bidding_end <= now < job.reveal_end:
                    self.client.reveal(job_id, Decimal(commitment["price"]), bytes.fromhex(commitment["salt"]))
                    del self.state.commitments[str(job_id)]
                    return [f"job {job_id}: revealed {commitment['price']}"]
                closes = job.reveal_end if job.kind == AuctionKind.SEALED else job.bidding_end
                if now >= closes:
                    view = self.client.finalize(job_id)
                    return [f"job {job_id}: finalized, {view.status.name.lower()}"]
                return []
            if job.provider != self.me:
                self._untrack(job_id)
                return [f"job {job_id}: lost"] if job.status in (JobStatus.LEASED, JobStatus.EXPIRED) else []
            if job.status == JobStatus.LEASED:
                if self.wants_to_abandon(job):
                    self.client.abandon(job_id)
                    self._untrack(job_id)
                    return [f"job {job_id}: abandoned"]
                done: list[str] = []
                workload, manifest_uri = self._workload_of(job_id)
                if workload != NO_WORKLOAD:  # run at the lease's start, the bundle kept until its end
                    done = self._serve(job_id, workload, manifest_uri)
                    if job_id not in self.state.tracked:  # the run failed: abandoned
                        return done
                if now >= job.lease_start + int(job.hours * 3600):
                    if workload == NO_WORKLOAD:
                        self.client.submit_result(job_id, self.result_for(job_id), f"agent://{self.me}/{job_id}")
                        return [f"job {job_id}: result submitted"]
                    stored = self.state.results.get(str(job_id))
                    if stored is None:  # the bundle could not be stored yet: tried again next step
                        return done
                    self.client.submit_result(job_id, bytes.fromhex(stored["sha256"]), stored["uri"])
                    return [*done, f"job {job_id}: result submitted: bundle {stored['sha256']} at {stored['uri']}"]
                last = self.state.claimed_at.get(str(job_id), job.lease_start)
                if now - last < self.claim_every:
                    return done
                received = self.client.claim(job_id)
                self.state.claimed_at[str(job_id)] = now
                return [*done, f"job {job_id}: claimed {received}"] if received else done
            if job.status == JobStatus.RESULT_SUBMITTED and now >= job.challenge_end:
                self.client.settle(job_id)
                self._untrack(job_id)
                return [f"job {job_id}: settled, paid {from_wei(self.market.fundsOf(job_id).paidGross)} gross"]
            if job.status not in (JobStatus.RESULT_SUBMITTED, JobStatus.DISPUTED):
                self._untrack(job_id)
            return []
        except MarketError as err:
            return [f"job {job_id}: refused {err}"]

    # ------------------------------------------------------------------ workloads

    def _workload_of(self, job_id: int) -> tuple[bytes, str]:
        """The job's workload and manifest URI: from its `JobPosted` seen by a scan, the state, or
        else the chain (a job followed again after a restart); `NO_WORKLOAD` for a bare lease."""
        if job_id in self._posted:
            return self._posted[job_id]
        saved = self.state.workloads.get(str(job_id))
        if saved is not None:
            posted = (bytes.fromhex(saved["workload"]), saved["manifest_uri"])
        else:
            found = self._job_posted(job_id, self.start_block)
            if found is None:
                return NO_WORKLOAD, ""  # not cached: the job may be posted later (a rewound chain)
            posted = found
        self._posted[job_id] = posted
        return posted

    def _load_manifest(self, job_id: int, workload: bytes, manifest_uri: str) -> Manifest:
        """The job's manifest, fetched from its URI and checked (its sha256 is the job's workload,
        it is canonical and valid); `WorkloadError` (`StoreError`, `ManifestError`) otherwise."""
        manifest = self._manifests.get(job_id)
        if manifest is None:
            config = FetchConfig(
                ipfs_gateway=self.fetch_config.ipfs_gateway,
                cas=self.fetch_config.cas,
                max_bytes=min(self.fetch_config.max_bytes, MANIFEST_MAX_BYTES),
                timeout_s=self.fetch_config.timeout_s,
            )
            manifest = load_published(fetch(manifest_uri, workload, config), workload)
            self._manifests[job_id] = manifest
        return manifest

    def _check_workload(self, job_id: int) -> str | None:
        """Before bidding: None when the job has no workload, or its manifest can be fetched, is the
        job's and this host can run it (remembered in the state); else why not, in one line."""
        workload, manifest_uri = self._workload_of(job_id)
        if workload == NO_WORKLOAD or str(job_id) in self.state.workloads:
            return None
        try:
            manifest = self._load_manifest(job_id, workload, manifest_uri)
            runner_for(manifest, self.host)
        except WorkloadError as err:
            return f"workload {workload.hex()[:12]}… from {manifest_uri}: {one_line(err)}"
        self.state.workloads[str(job_id)] = {"workload": workload.hex(), "manifest_uri": manifest_uri}
        return None

    def _serve(self, job_id: int, workload: bytes, manifest_uri: str) -> list[str]:
        """On a lease: runs the workload once (at the lease's start) and puts its bundle in the store,
        remembered in the state until it is submitted. A run that fails (or cannot start) ends the
        lease honestly: pay claimed for the time used, then `abandonJob` (no hash is submitted)."""
        key = str(job_id)
        if key in self.state.results:
            return []
        if job_id in self._failed:  # failed before, but abandoning it did not go through
            return self._give_up(job_id, self._failed[job_id])
        run = self._runs.get(job_id)
        if run is None:
            try:
                manifest = self._load_manifest(job_id, workload, manifest_uri)
                run = self.run_workload(job_id, manifest)
            except WorkloadError as err:
                return self._give_up(job_id, f"could not run: {one_line(err)}")
            if not run.ok or run.bundle is None or run.bundle_sha256 is None:
                return self._give_up(job_id, f"run {run.status.value}: {run.detail}")
            self._runs[job_id] = run
        assert run.bundle is not None
        try:
            digest = self.store.put(run.bundle)
        except WorkloadError as err:  # kept in memory: stored again at the next step
            return [f"job {job_id}: could not store the result bundle ({one_line(err)}), trying again"]
        self.state.results[key] = {"sha256": digest, "uri": self.store.uri(digest)}
        del self._runs[job_id]
        return [
            f"job {job_id}: ran the workload ({run.detail}, {run.wall_seconds:.1f} s): "
            f"bundle {digest} stored at {self.state.results[key]['uri']}"
        ]

    def _give_up(self, job_id: int, why: str) -> list[str]:
        """The honest end of a lease whose workload failed: claims the pay accrued so far (the time
        used), then abandons (the customer gets the rest of the escrow and the collateral slash)."""
        self._failed[job_id] = why
        received = self.client.claim(job_id)
        self.client.abandon(job_id)
        del self._failed[job_id]
        self._untrack(job_id)
        return [
            f"job {job_id}: workload failed ({why}): claimed {received} for the time used and abandoned "
            "the lease, no result submitted"
        ]

    # ------------------------------------------------------------------ hooks

    def result_for(self, job_id: int) -> bytes:
        """The result of serving `job_id` (an honest agent's: the work's digest)."""
        return honest_result(job_id, self.me)

    def wants_to_abandon(self, job: JobView) -> bool:
        """Whether to quit a lease (an honest agent never does)."""
        return False

    def run_workload(self, job_id: int, manifest: Manifest) -> RunResult:
        """Runs job `job_id`'s workload (an honest agent: its own manifest, with this host's
        runner, inputs through `fetch_config`). `WorkloadError` when it cannot start."""
        return runner_for(manifest, self.host).run(manifest, self.fetch_config)

    def _track(self, job_id: int) -> None:
        if job_id not in self.state.tracked:
            self.state.tracked.append(job_id)

    def _untrack(self, job_id: int) -> None:
        if job_id in self.state.tracked:
            self.state.tracked.remove(job_id)
        self.state.commitments.pop(str(job_id), None)
        self.state.claimed_at.pop(str(job_id), None)
        self.state.workloads.pop(str(job_id), None)
        self.state.results.pop(str(job_id), None)
        self._manifests.pop(job_id, None)
        self._runs.pop(job_id, None)
