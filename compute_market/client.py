"""A typed client over a deployed compute market: every action of SPEC §7 with plain Python
values (USD prices as ``Decimal``, durations in hours, GPU models by name), reverts raised as
`MarketError` with the contract's custom-error name and arguments."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ape import chain

from compute_market.commitments import commitment_for
from compute_market.deployment import Protocol, market_deploy_block
from compute_market.errors import MarketError, decoded
from compute_market.models import EntryKind, JobRequest, JobStatus, JobView, OfferView, ProviderView
from compute_market.units import bytes32, from_bytes32, from_wei, to_wei, usd_to_feed

GAS_MARGIN = 20_000
GAS_FLOOR = 300_000
DRAW_KINDS = (EntryKind.VERIFIER_DRAW, EntryKind.JURY_DRAW)


class MarketClient:
    """One account acting on one deployment."""

    def __init__(self, protocol: Protocol, account: Any, on_receipt: Callable[[Any], None] | None = None) -> None:
        self.p = protocol
        self.account = account
        self.on_receipt = on_receipt  # called with every receipt (gas accounting)

    @property
    def address(self) -> str:
        return str(self.account.address)

    def _send(self, method: Any, *args: Any) -> Any:
        """Sends with a gas limit of 25% over the estimate, and at least `GAS_FLOOR`: the state
        the estimate saw may not be the one the transaction meets (other agents' transactions
        land first; pay accrues with time, so a claim estimated when nothing was due must still
        afford its transfers). Unused gas is not paid for."""
        with decoded():
            estimate = method.estimate_gas_cost(*args, sender=self.account)
            gas = max(estimate * 5 // 4 + GAS_MARGIN, GAS_FLOOR)
            receipt = method(*args, sender=self.account, gas=gas)
        if self.on_receipt is not None:
            self.on_receipt(receipt)
        return receipt

    def _symbol(self, token: Any) -> str:
        """``CMP`` for the protocol token, ``CRD`` for the credits."""
        return "CMP" if token.address == self.p.token.address else "CRD"

    def require_balance(self, token: Any, amount: int) -> None:
        """Refuses, before anything is sent, a spend of `amount` wei of `token` the account
        cannot afford: ``InsufficientBalance(token=CRD, balance=0, needed=20, shortfall=20)``,
        amounts in CMP or CRD (not wei)."""
        balance = int(token.balanceOf(self.address))
        if balance < amount:
            raise MarketError(
                "InsufficientBalance",
                {
                    "token": self._symbol(token),
                    "balance": from_wei(balance),
                    "needed": from_wei(amount),
                    "shortfall": from_wei(amount - balance),
                },
            )

    def _approve(self, token: Any, spender: Any, amount: int) -> None:
        """Lets `spender` pull `amount` wei of `token` for the call that follows: the balance is
        checked first (`require_balance`: a spend the account cannot afford sends nothing, not
        even the approval), and an allowance short of `amount` is set to exactly `amount`, never
        to an unlimited one; the spend consumes it (a 20 CRD escrow leaves the allowance at 0)."""
        self.require_balance(token, amount)
        if token.allowance(self.address, spender) < amount:
            self._send(token.approve, spender, amount)

    # ------------------------------------------------------------------ balances and credits

    def balances(self, address: str | None = None) -> dict[str, Decimal]:
        who = address or self.address
        return {"CMP": from_wei(self.p.token.balanceOf(who)), "CRD": from_wei(self.p.credits.balanceOf(who))}

    def transfer_cmp(self, to: str, cmp: Decimal) -> None:
        self.require_balance(self.p.token, to_wei(cmp))
        self._send(self.p.token.transfer, to, to_wei(cmp))

    def mint_credits(self, cmp: Decimal, min_credits: Decimal | None = None) -> Decimal:
        """Burns `cmp` CMP for credits at the oracle price; returns the credits minted."""
        amount = to_wei(cmp)
        self._approve(self.p.token, self.p.credits, amount)
        floor = to_wei(min_credits) if min_credits is not None else 0
        tx = self._send(self.p.credits.mintWithTokens, amount, floor, self.address)
        return from_wei(tx.events.filter(self.p.credits.CreditsMinted)[0].credits)

    def redeem_credits(self, crd: Decimal, min_tokens: Decimal | None = None) -> Decimal:
        floor = to_wei(min_tokens) if min_tokens is not None else 0
        self.require_balance(self.p.credits, to_wei(crd))
        tx = self._send(self.p.credits.redeem, to_wei(crd), floor, self.address)
        return from_wei(tx.events.filter(self.p.credits.CreditsRedeemed)[0].tokensMinted)

    def set_oracle_price(self, usd: Decimal) -> None:
        """Local chains only: writes a new answer to the MockPriceFeed (its owner only)."""
        self._send(self.p.price_feed.setAnswer, usd_to_feed(usd))

    # ------------------------------------------------------------------ providers

    def register(self, metadata_uri: str, region: str) -> None:
        self._send(self.p.registry.register, metadata_uri, bytes32(region))

    def set_offer(self, gpu_model: str, gpu_count: int, vram_gb: int, provision_cmp: Decimal) -> None:
        """Offers `gpu_count` GPUs of `gpu_model` with `vram_gb` GB each in the market, and sets
        the offer's provision to `provision_cmp` CMP of the account's stake (`market.setOffer`):
        the ledger moves the difference out of (or back into) its free stake, so the account
        must be registered and have staked that much first. The market refuses a provision
        below what its bids lock or a count below the GPUs they reserve (``OfferInUse``); a count
        of zero and no provision withdraw the model."""
        self._send(self.p.market.setOffer, bytes32(gpu_model), gpu_count, vram_gb, to_wei(provision_cmp))

    def offer(self, who: str | None, gpu_model: str) -> OfferView:
        """`who`'s offer of `gpu_model` (default: the account's), CMP amounts in CMP."""
        o = self.p.market.offerOf(who or self.address, bytes32(gpu_model))
        return OfferView(
            provisioned=from_wei(o.provisioned),
            locked=from_wei(o.locked),
            gpus=int(o.gpus),
            reserved=int(o.reserved),
            vram_gb=int(o.vramGb),
        )

    def stake(self, cmp: Decimal) -> None:
        amount = to_wei(cmp)
        self._approve(self.p.token, self.p.registry, amount)
        self._send(self.p.registry.stake, amount)

    def request_unstake(self, cmp: Decimal) -> None:
        self._send(self.p.registry.requestUnstake, to_wei(cmp))

    def withdraw_unstaked(self) -> None:
        self._send(self.p.registry.withdrawUnstaked)

    def provider(self, address: str | None = None) -> ProviderView:
        who = address or self.address
        r = self.p.registry.providerOf(who)
        return ProviderView(
            address=who,
            registered=r.registered,
            region=from_bytes32(r.region),
            staked=from_wei(r.staked),
            provisioned=from_wei(r.provisioned),
            unbonding=from_wei(r.unbonding),
            free=from_wei(self.p.registry.freeStakeOf(who)),
            reputation_bps=self.p.registry.reputationOf(who),
            completed=r.completed,
            failed=r.failed,
            disputes_lost=r.disputesLost,
        )

    # ------------------------------------------------------------------ jobs

    def post_job(self, request: JobRequest) -> int:
        """Escrows the job's maximum cost in credits (plus the verification fee when it asks for
        verification: the market's `escrowFor`) and posts it; returns the job id."""
        spec = request.to_spec(chain.pending_timestamp)
        escrow, _fee = self.p.market.escrowFor(spec)
        self._approve(self.p.credits, self.p.market, int(escrow))
        tx = self._send(self.p.market.postJob, spec)
        return int(tx.events.filter(self.p.market.JobPosted)[0].jobId)

    def bid_lock(self, job_id: int) -> tuple[Decimal, Decimal]:
        """What a bid (or a sealed commitment) on `job_id` locks of the bidder's offer of the
        job's GPU model, in CMP: the job's collateral (a sealed commitment's bond) and its per-GPU
        stake, both fixed when the job was posted."""
        job = self.p.market.getJob(job_id)
        return from_wei(int(job.collateral)), from_wei(int(job.gpuStake))

    def bid(self, job_id: int, price_per_gpu_hour: Decimal) -> None:
        self._send(self.p.market.placeBid, job_id, to_wei(price_per_gpu_hour))

    def commit(self, job_id: int, price_per_gpu_hour: Decimal, salt: bytes | None = None) -> bytes:
        """Commits a sealed bid; returns the salt, which the reveal needs (keep it)."""
        salt = salt or secrets.token_bytes(32)
        digest = commitment_for(job_id, self.address, to_wei(price_per_gpu_hour), salt)
        self._send(self.p.market.commitBid, job_id, digest)
        return salt

    def reveal(self, job_id: int, price_per_gpu_hour: Decimal, salt: bytes) -> None:
        """Reveals a sealed bid (between bidding's end and the reveal's); not revealing forfeits
        the bond the commitment locked (`settleCommitment`)."""
        self._send(self.p.market.revealBid, job_id, to_wei(price_per_gpu_hour), salt)

    def finalize(self, job_id: int) -> JobView:
        self._send(self.p.market.finalizeAuction, job_id)
        return self.job(job_id)

    def claim(self, job_id: int) -> Decimal:
        """Claims lease earnings; returns the credits received (net of the fee)."""
        tx = self._send(self.p.market.claimEarnings, job_id)
        events = tx.events.filter(self.p.market.EarningsClaimed)
        return from_wei(events[0].net) if events else Decimal(0)

    def withdraw_fees(self) -> Decimal:
        """Sends the protocol fees accrued in the market to its treasury (anyone may); returns
        the credits sent. `MarketError` ``NoFeesAccrued`` when there are none."""
        tx = self._send(self.p.market.withdrawFees)
        return from_wei(tx.events.filter(self.p.market.FeesWithdrawn)[0].amount)

    def submit_result(self, job_id: int, result_hash: bytes, uri: str) -> None:
        self._send(self.p.market.submitResult, job_id, result_hash, uri)

    def settle(self, job_id: int) -> None:
        self._send(self.p.market.settleJob, job_id)

    def cancel(self, job_id: int) -> None:
        self._send(self.p.market.cancelJob, job_id)

    def abandon(self, job_id: int) -> None:
        self._send(self.p.market.abandonJob, job_id)

    def slash_for_failure(self, job_id: int) -> Decimal:
        """`slashForFailure` on a job whose provider delivered no result by end + resultGrace;
        returns the keeper bounty the caller earned (CMP, `keeperBountyBps` of the collateral;
        0 when the caller is the provider), which the ledger credits (`claim_payout` sends it)."""
        tx = self._send(self.p.market.slashForFailure, job_id)
        return from_wei(tx.events.filter(self.p.market.JobFailed)[0].bounty)

    def payout_owed(self, payee: str | None = None) -> Decimal:
        """CMP the ledger credited `payee` (default: this account) from failed leases' slashes
        (a customer's compensation, a keeper's bounties) and not yet claimed."""
        return from_wei(self.p.registry.payoutOf(payee or self.address))

    def claim_payout(self, payee: str | None = None) -> Decimal:
        """`claimPayout`: sends `payee` (default: this account; anyone may deliver another's)
        the CMP the ledger credited it; returns the CMP sent."""
        tx = self._send(self.p.registry.claimPayout, payee or self.address)
        return from_wei(tx.events.filter(self.p.registry.PayoutClaimed)[0].amount)

    def job(self, job_id: int) -> JobView:
        """The job as of the latest block: its record and its funds read at that one block."""
        market, block = self.p.market, chain.blocks.head.number
        return JobView.from_chain(job_id, market.getJob(job_id, block_id=block), market.fundsOf(job_id, block_id=block))

    def result_of(self, job_id: int) -> tuple[bytes, str]:
        """The result a job's provider submitted: its sha256 (the bundle's, for a job with a
        workload) and the URI it gave, from the latest `ResultSubmitted` of the job. `MarketError`
        ``NoResult`` when none was submitted, ``UnknownJob`` for a job never posted."""
        market = self.p.market
        if not 1 <= job_id <= int(market.jobCount()):
            raise MarketError("UnknownJob", {"jobId": job_id})
        logs = list(
            market.ResultSubmitted.range(
                market_deploy_block(self.p), chain.blocks.head.number + 1, search_topics={"jobId": job_id}
            )
        )
        if not logs:
            raise MarketError("NoResult", {"jobId": job_id})
        latest = logs[-1]
        return bytes(latest.resultHash), str(latest.uri)

    def open_jobs(self, last: int = 200) -> list[JobView]:
        """Jobs still bidding among the `last` posted (newest first)."""
        count = self.p.market.jobCount()
        jobs = (self.job(i) for i in range(count, max(0, count - last), -1))
        return [j for j in jobs if j.status == JobStatus.BIDDING]

    # ------------------------------------------------------------------ disputes and rewards

    def challenge(self, job_id: int, reason: str) -> bool:
        """Challenges a result, posting the bond; returns whether it was a whistleblower challenge."""
        self._approve(self.p.credits, self.p.resolver, self.p.resolver.challengeBond())
        tx = self._send(self.p.resolver.challenge, job_id, reason)
        return bool(tx.events.filter(self.p.resolver.Challenged)[0].whistleblower)

    def commit_vote(self, job_id: int, provider_fault: bool, salt: bytes | None = None) -> bytes:
        salt = salt or secrets.token_bytes(32)
        digest = self.p.resolver.voteCommitment(job_id, self.address, provider_fault, salt)
        self._send(self.p.resolver.commitVote, job_id, digest)
        return salt

    def reveal_vote(self, job_id: int, provider_fault: bool, salt: bytes) -> None:
        self._send(self.p.resolver.revealVote, job_id, provider_fault, salt)

    def resolve(self, job_id: int) -> None:
        self._send(self.p.resolver.resolve, job_id)

    def arbitrate(self, job_id: int, provider_fault: bool) -> None:
        """The arbiter's decision on a dispute its jury could not decide (ARBITER_ROLE)."""
        self._send(self.p.resolver.arbitrate, job_id, provider_fault)

    def register_verifier(self, cmp: Decimal) -> None:
        self.require_balance(self.p.token, to_wei(cmp))  # before registering: nothing sent if short
        self._send(self.p.registry.registerVerifier)
        self.stake_as_verifier(cmp)

    def request_verifier(self, job_id: int) -> int:
        """Queues the draw of `job_id`'s verifier; returns the block whose hash will decide it
        (`process_draws` makes it once that block is mined)."""
        tx = self._send(self.p.resolver.requestVerifier, job_id)
        return int(tx.events.filter(self.p.registry.DrawRequested)[0].targetBlock)

    def draws_pending(self) -> int:
        """Entries (draws and the stake changes behind them) waiting in the staking ledger's queue."""
        return int(self.p.registry.queueTail()) - int(self.p.registry.queueHead())

    def process_draws(self, max_entries: int = 32) -> int:
        """Makes the queued draws whose target blocks are mined (a keeper's duty) and applies the
        stake changes queued behind them: the number of queue entries processed (0, sending
        nothing, when the first entry is a draw not ready yet). Only the entries ready in the
        latest block are asked for, so the gas estimate covers what the transaction will do (a
        draw that becomes ready in the transaction's own block would otherwise add work)."""
        registry = self.p.registry
        first, end = int(registry.queueHead()), int(registry.queueTail())
        latest = chain.blocks.head.number
        ready = 0
        for position in range(first, min(end, first + max_entries)):
            entry = registry.queueEntry(position)
            # A draw waits for its target block (and, with a VRF, for its word or its patience).
            if entry.kind in DRAW_KINDS and (entry.targetBlock >= latest or not registry.drawReady(position)):
                break
            ready += 1
        if ready:
            self._send(registry.processDraws, ready)
        return ready

    def claim_jury_reward(self, job_id: int) -> tuple[Decimal, Decimal]:
        """Claims the account's share as a juror who voted with the majority of `job_id`'s
        dispute (paid by pull, once): the CMP and the CRD received."""
        tx = self._send(self.p.resolver.claimJuryReward, job_id)
        paid = tx.events.filter(self.p.resolver.JurorRewarded)[0]
        return from_wei(paid.tokens), from_wei(paid.credits)

    def attest(self, job_id: int, result_ok: bool) -> None:
        self._send(self.p.resolver.attest, job_id, result_ok)

    def claim_rewards(self) -> Decimal:
        """Claims every reward owed (work and verifier rewards of past epochs, stake rewards) in
        one O(1) transaction; returns the CMP received."""
        before = self.p.token.balanceOf(self.address)
        self._send(self.p.rewards.claim)
        return from_wei(self.p.token.balanceOf(self.address) - before)

    # ------------------------------------------------------------------ keepers and verifiers
    # (added for the keeper and `ape run market`: deadline actions that report what they moved,
    # verifier stake, and reward claims that only send what is due)

    def settle_commitment(self, job_id: int, provider: str) -> Decimal:
        """Ends `provider`'s unrevealed sealed commitment on `job_id` (anyone, once the reveal
        period is over, or at once on a cancelled job): returns the CMP bond forfeited to the
        treasury (0 when the job was cancelled and the bond was released)."""
        tx = self._send(self.p.market.settleCommitment, job_id, provider)
        forfeited = tx.events.filter(self.p.market.BondForfeited)
        return from_wei(forfeited[0].amount) if forfeited else Decimal(0)

    def slash_absent_verifier(self, job_id: int) -> Decimal:
        """Slashes the job's verifier that did not attest by its deadline (anyone; the penalty
        goes to the customer); returns the CMP taken."""
        tx = self._send(self.p.resolver.slashAbsentVerifier, job_id)
        return from_wei(tx.events.filter(self.p.resolver.VerifierAbsent)[0].penalty)

    def resolve_by_default(self, job_id: int) -> None:
        """Ends a dispute nobody decided once its appeal window passed (anyone): no verdict."""
        self._send(self.p.resolver.resolveByDefault, job_id)

    def min_verifier_stake(self) -> Decimal:
        """The least active stake (CMP) a verifier may hold other than none: the ledger's
        `MIN_VERIFIER_STAKE`."""
        return from_wei(int(self.p.registry.MIN_VERIFIER_STAKE()))

    def stake_as_verifier(self, cmp: Decimal) -> None:
        """Adds `cmp` CMP to the account's verifier stake (it must be a verifier already)."""
        amount = to_wei(cmp)
        self._approve(self.p.token, self.p.registry, amount)
        self._send(self.p.registry.stakeAsVerifier, amount)

    def verifier(self, address: str | None = None) -> dict[str, Any]:
        """A verifier's record: registered, staked, unbonding, active stake (CMP), unbonding end."""
        who = address or self.address
        v = self.p.registry.verifierOf(who)
        return {
            "address": who,
            "registered": int(v.slot) != 0,
            "staked": from_wei(v.staked),
            "unbonding": from_wei(v.unbonding),
            "active": from_wei(self.p.registry.activeStakeOf(who)),
            "unbonding_end": int(v.unbondingEnd),
        }

    def claim_due_rewards(self) -> dict[str, Decimal]:
        """Claims everything owed in one transaction, sent only when it pays something; returns
        the CMP of each part (activity, stake)."""
        if not any(self.p.rewards.pendingRewards(self.address)):
            return {"activity": Decimal(0), "stake": Decimal(0)}
        tx = self._send(self.p.rewards.claim)
        claimed = tx.events.filter(self.p.rewards.Claimed)[0]
        return {"activity": from_wei(claimed.activityRewards), "stake": from_wei(claimed.stakeRewards)}
