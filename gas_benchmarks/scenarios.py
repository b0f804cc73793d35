"""Fixed gas scenarios: each plays one part of the protocol and records receipts' gas."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ape import chain

from compute_market.commitments import commitment_for
from compute_market.deployment import Protocol
from compute_market.gasreport import GasReport
from compute_market.models import JobRequest, JobSpecTuple
from compute_market.units import DAY, HOUR, bytes32, to_wei, usd_to_feed

H100 = bytes32("H100-80GB")
EU = bytes32("eu-west")


def refresh_price(protocol: Protocol, admin: Any, usd: str = "2.50") -> None:
    protocol.price_feed.setAnswer(usd_to_feed(usd), sender=admin)


def credits_scenario(protocol: Protocol, gas: GasReport, admin: Any, users: list[Any]) -> None:
    token, credits = protocol.token, protocol.credits
    for user in users:
        token.transfer(user, to_wei(1_000), sender=admin)
        token.approve(credits, 2**256 - 1, sender=user)
        gas.record("ComputeCredits.mintWithTokens", credits.mintWithTokens(to_wei(100), 0, user, sender=user))
        gas.record("ComputeCredits.redeem", credits.redeem(to_wei(10), 0, user, sender=user))


# What each benchmark provider sets aside for H100 jobs of its 15,000 CMP staked: room for every
# benchmark job's lock, with stake left free for the unstake request measured beside it.
PROVISION_CMP = 10_000


def registry_scenario(protocol: Protocol, gas: GasReport, admin: Any, users: list[Any]) -> None:
    token, registry = protocol.token, protocol.registry
    for i, user in enumerate(users):
        token.transfer(user, to_wei(20_000), sender=admin)
        token.approve(registry, 2**256 - 1, sender=user)
        gas.record("ProviderRegistry.register", registry.register(f"ipfs://provider-{i}", EU, sender=user))
        gas.record("ProviderRegistry.stake", registry.stake(to_wei(15_000), sender=user))
        offer = protocol.market.setOffer(H100, 8, 80, to_wei(PROVISION_CMP), sender=user)
        gas.record("JobMarket.setOffer", offer)
        gas.record("ProviderRegistry.requestUnstake", registry.requestUnstake(to_wei(1_000), sender=user))
    chain.pending_timestamp += 7 * DAY
    for user in users:
        gas.record("ProviderRegistry.withdrawUnstaked", registry.withdrawUnstaked(sender=user))


# The benchmark's job says what to run, as a real one does: a manifest's sha256 and an IPFS URI.
WORKLOAD = bytes.fromhex("5f" * 32)
MANIFEST_URI = "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"


def spec(*, sealed: bool = False, hours: int = 10, verification: bool = False) -> JobSpecTuple:
    request = JobRequest(
        "H100-80GB",
        2,
        Decimal(hours),
        Decimal(2),
        bidding_seconds=HOUR,
        min_vram_gb=40,
        sealed=sealed,
        verification=verification,
        workload=WORKLOAD,
        manifest_uri=MANIFEST_URI,
    )
    return request.to_spec(chain.pending_timestamp)


LIFECYCLE = "JobMarket lifecycle (post, {bids} open bids, finalize, claim, result, settle)"
SETTLE_FIRST_REPORT = "JobMarket.settleJob (the provider's first report of the epoch)"
SLASH_FIRST_OF_EPOCH = "JobMarket.slashForFailure (the epoch's first stake change)"
SLASH_FIRST_CREDITS = "JobMarket.slashForFailure (the customer's and the keeper's first credit)"


def market_scenario(protocol: Protocol, gas: GasReport, admin: Any, customer: Any, providers: list[Any]) -> None:
    """Providers must be registered with H100 capacity and stake (see `registry_scenario`)."""
    token, credits, market = protocol.token, protocol.credits, protocol.market
    refresh_price(protocol, admin)
    token.transfer(customer, to_wei(10_000), sender=admin)
    token.approve(credits, 2**256 - 1, sender=customer)
    credits.mintWithTokens(to_wei(10_000), 0, customer, sender=customer)
    credits.approve(market, 2**256 - 1, sender=customer)
    bidders, winner = providers[1:], providers[-1]
    for _round in range(3):
        refresh_price(protocol, admin)
        # Two companion leases on the same timeline, settled first. The first posting of ten
        # minutes reads the CMP rate for collateral; the epoch's first fee reads the epoch's rate
        # (`first`, another provider's), and the winner's first report of the epoch values its
        # last epoch's activity (`second`, the winner's). The lifecycle's own settlement is then
        # the steady state: the epoch's rate read and the winner already active in the epoch, as
        # for every settlement after a provider's first of the day.
        reads_rate = gas.record("JobMarket.postJob (reads the CMP rate)", market.postJob(spec(), sender=customer))
        first = reads_rate.events[-1].jobId
        market.placeBid(first, to_wei("1.8"), sender=providers[0])
        second = market.postJob(spec(), sender=customer).events[-1].jobId
        market.placeBid(second, to_wei("1.8"), sender=winner)
        # Open auction, a whole lease; its transactions also add up to one job's lifecycle: the
        # issue's, with three bids.
        lifecycle = [gas.record("JobMarket.postJob", market.postJob(spec(), sender=customer))]
        job_id = lifecycle[0].events[-1].jobId
        price = to_wei("1.8")
        for provider in bidders:
            lifecycle.append(gas.record("JobMarket.placeBid", market.placeBid(job_id, price, sender=provider)))
            price = price * 95 // 100
        chain.pending_timestamp += HOUR
        market.finalizeAuction(first, sender=customer)
        market.finalizeAuction(second, sender=customer)
        lifecycle.append(gas.record("JobMarket.finalizeAuction", market.finalizeAuction(job_id, sender=customer)))
        chain.pending_timestamp += 5 * HOUR
        lifecycle.append(gas.record("JobMarket.claimEarnings", market.claimEarnings(job_id, sender=winner)))
        chain.pending_timestamp += 5 * HOUR
        market.submitResult(first, b"\x02" * 32, "ipfs://r", sender=providers[0])
        market.submitResult(second, b"\x03" * 32, "ipfs://r", sender=winner)
        result = market.submitResult(job_id, b"\x01" * 32, "ipfs://r", sender=winner)
        lifecycle.append(gas.record("JobMarket.submitResult", result))
        chain.pending_timestamp += DAY
        refresh_price(protocol, admin)  # a live oracle, as on a real chain: the fee is valued
        gas.record("JobMarket.settleJob (epoch's first fee)", market.settleJob(first, sender=customer))
        gas.record(SETTLE_FIRST_REPORT, market.settleJob(second, sender=customer))
        lifecycle.append(gas.record("JobMarket.settleJob", market.settleJob(job_id, sender=customer)))
        total = sum(int(receipt.gas_used) for receipt in lifecycle)
        gas.samples[LIFECYCLE.format(bids=len(bidders))].append(total)
        gas.record("JobMarket.withdrawFees", market.withdrawFees(sender=customer))  # the job's fees

        # Sealed auction up to the lease, then a cancellation.
        refresh_price(protocol, admin)
        job_id = market.postJob(spec(sealed=True), sender=customer).events[-1].jobId
        prices = [to_wei("1.5") - i * to_wei("0.1") for i in range(len(providers))]
        for provider, p in zip(providers, prices, strict=True):
            digest = commitment_for(job_id, provider, p, b"salt")
            gas.record("JobMarket.commitBid", market.commitBid(job_id, digest, sender=provider))
        chain.pending_timestamp += HOUR
        refresh_price(protocol, admin)
        for provider, p in zip(providers, prices, strict=True):
            gas.record("JobMarket.revealBid", market.revealBid(job_id, p, b"salt", sender=provider))
        chain.pending_timestamp += HOUR
        gas.record("JobMarket.finalizeAuction (sealed)", market.finalizeAuction(job_id, sender=customer))
        chain.pending_timestamp += 2 * HOUR
        gas.record("JobMarket.cancelJob (lease)", market.cancelJob(job_id, sender=customer))

        # Two failed leases. The first slash is the epoch's first change of stake at risk: the
        # ledger asks the distributor for the epoch's stake rate (once per epoch, whoever changes
        # stake first). The second is the steady state.
        refresh_price(protocol, admin)
        failed = []
        for provider in providers[:2]:
            job_id = market.postJob(spec(hours=1), sender=customer).events[-1].jobId
            market.placeBid(job_id, to_wei(1), sender=provider)
            failed.append(job_id)
        chain.pending_timestamp += HOUR
        for job_id in failed:
            market.finalizeAuction(job_id, sender=customer)
        chain.pending_timestamp += 3 * HOUR
        gas.record(SLASH_FIRST_OF_EPOCH, market.slashForFailure(failed[0], sender=admin))
        gas.record("JobMarket.slashForFailure", market.slashForFailure(failed[1], sender=admin))
        # The ledger credited the customer's compensation and the keeper's bounty; the customer
        # claims its own (its first claim also writes its first CMP balance; later ones do not).
        gas.record("ProviderRegistry.claimPayout", protocol.registry.claimPayout(customer, sender=customer))
        chain.pending_timestamp += HOUR


def first_credit_scenario(protocol: Protocol, gas: GasReport, admin: Any, fresh: list[Any], provider: Any) -> None:
    """A failure whose customer and keeper the ledger never credited before: it writes a fresh
    payout slot for each (the steady row's customer and keeper were credited in earlier rounds,
    and a claim leaves the slot in use). `fresh` are three unused accounts: a first failure (of
    `fresh[0]`'s job, slashed by `admin`) takes the epoch's first stake change, so that the
    measured one (`fresh[1]`'s job, slashed by `fresh[2]`) carries only the first credits.
    `provider` must have an H100 offer (`market_scenario`)."""
    market = protocol.market
    jobs = []
    for customer in fresh[:2]:
        _fund_customer(protocol, admin, customer)
        job_id = market.postJob(spec(hours=1), sender=customer).events[-1].jobId
        market.placeBid(job_id, to_wei(1), sender=provider)
        jobs.append(job_id)
    chain.pending_timestamp += HOUR
    for job_id, customer in zip(jobs, fresh, strict=False):
        market.finalizeAuction(job_id, sender=customer)
    chain.pending_timestamp += 3 * HOUR
    market.slashForFailure(jobs[0], sender=admin)
    gas.record(SLASH_FIRST_CREDITS, market.slashForFailure(jobs[1], sender=fresh[2]))


def _fund_customer(protocol: Protocol, admin: Any, customer: Any, cmp_amount: int = to_wei(10_000)) -> None:
    token, credits = protocol.token, protocol.credits
    refresh_price(protocol, admin)
    token.transfer(customer, cmp_amount, sender=admin)
    token.approve(credits, 2**256 - 1, sender=customer)
    credits.mintWithTokens(cmp_amount, 0, customer, sender=customer)
    credits.approve(protocol.market, 2**256 - 1, sender=customer)
    credits.approve(protocol.resolver, 2**256 - 1, sender=customer)


def _verified_result(protocol: Protocol, admin: Any, customer: Any, provider: Any) -> int:
    """A verified job, won by `provider`, whose result was just submitted; returns its id."""
    market = protocol.market
    refresh_price(protocol, admin)
    job_id = market.postJob(spec(verification=True), sender=customer).events[-1].jobId
    market.placeBid(job_id, to_wei(1), sender=provider)
    chain.pending_timestamp += HOUR
    market.finalizeAuction(job_id, sender=customer)
    chain.pending_timestamp += 10 * HOUR
    market.submitResult(job_id, b"\x01" * 32, "ipfs://r", sender=provider)
    refresh_price(protocol, admin)
    return int(job_id)


def dispute_scenario(
    protocol: Protocol, gas: GasReport, admin: Any, customer: Any, provider: Any, verifiers: list[Any]
) -> None:
    """`provider` must be registered and staked; `verifiers` are fresh accounts."""
    token, resolver, registry = protocol.token, protocol.resolver, protocol.registry
    by_address = {v.address: v for v in verifiers}
    for v in verifiers:
        token.transfer(v, to_wei(1_000), sender=admin)
        token.approve(registry, 2**256 - 1, sender=v)
        gas.record("ProviderRegistry.registerVerifier", registry.registerVerifier(sender=v))
        gas.record("ProviderRegistry.stakeAsVerifier", registry.stakeAsVerifier(to_wei(1_000), sender=v))
    _fund_customer(protocol, admin, customer)
    for fault in (True, False, True):
        job_id = _verified_result(protocol, admin, customer, provider)
        gas.record("DisputeResolver.requestVerifier", resolver.requestVerifier(job_id, sender=customer))
        tx = gas.record("ProviderRegistry.processDraws (verifier)", _process_draws(registry, customer))
        verifier = by_address[tx.events.filter(resolver.VerifierAssigned)[0].verifier]
        gas.record("DisputeResolver.attest", resolver.attest(job_id, True, sender=verifier))
        gas.record("DisputeResolver.challenge", resolver.challenge(job_id, "wrong output", sender=customer))
        gas.record("ProviderRegistry.processDraws (jury of 5)", _process_draws(registry, customer))
        jurors = [by_address[j] for j in dict.fromkeys(resolver.jurorsOf(job_id))]  # a juror per seat
        for juror in jurors:
            digest = resolver.voteCommitment(job_id, juror, fault, b"salt")
            gas.record("DisputeResolver.commitVote", resolver.commitVote(job_id, digest, sender=juror))
        chain.pending_timestamp += DAY
        for juror in jurors:
            gas.record("DisputeResolver.revealVote", resolver.revealVote(job_id, fault, b"salt", sender=juror))
        chain.pending_timestamp += DAY
        label = "provider fault" if fault else "no fault"
        gas.record(f"DisputeResolver.resolve ({label})", resolver.resolve(job_id, sender=customer))
        for juror in jurors:  # the majority's shares, paid by pull
            if any(resolver.juryRewardOf(job_id, juror)):
                gas.record("DisputeResolver.claimJuryReward", resolver.claimJuryReward(job_id, sender=juror))


def _process_draws(registry: Any, keeper: Any) -> Any:
    """Mines past the queued draws' target blocks, then makes them."""
    chain.mine(int(registry.drawDelay()))
    return registry.processDraws(32, sender=keeper)


def draw_scaling(
    project: Any, protocol: Protocol, admin: Any, customer: Any, provider: Any, sizes: tuple[int, ...]
) -> dict[int, int]:
    """Gas of one stake-weighted verifier draw (`processDraws` after `requestVerifier`) as the
    verifier count grows to each of
    `sizes`; verifiers are contracts spawned by the test-only `VerifierFleet`."""
    token, resolver, registry = protocol.token, protocol.resolver, protocol.registry
    fleet = project.VerifierFleet.deploy(sender=admin)
    token.approve(fleet, 2**256 - 1, sender=admin)
    _fund_customer(protocol, admin, customer)
    figures: dict[int, int] = {}
    for size in sizes:
        while registry.verifierCount() < size:
            batch = min(50, size - registry.verifierCount())
            fleet.spawn(registry, token, batch, to_wei(1_000), sender=admin)
        used = []
        for _ in range(2):  # the first draw of a deployment also pays for first-time storage
            job_id = _verified_result(protocol, admin, customer, provider)
            resolver.requestVerifier(job_id, sender=customer)
            used.append(_process_draws(registry, customer).gas_used)
        figures[size] = used[-1]
    return figures


def rewards_scenario(protocol: Protocol, gas: GasReport, admin: Any, reporter: Any, earners: list[Any]) -> None:
    """Work recorded by a `reporter` holding the market's role, in the first epoch for `one` and
    in each of 30 epochs for `thirty`; then one claim each (O(1): the same gas), and stake-reward
    claims after 30 idle epochs and after one."""
    rewards, registry = protocol.rewards, protocol.registry
    rewards.grantRole(rewards.MARKET_ROLE(), reporter, sender=admin)
    one, thirty, staker = earners[:3]
    for earner in (one, thirty, staker):  # holders of CMP already: a first-time holder pays ~17,100 more
        protocol.token.transfer(earner, to_wei(1), sender=admin)
    protocol.token.transfer(staker, to_wei(1_000), sender=admin)
    protocol.token.approve(registry, to_wei(1_000), sender=staker)
    registry.register("ipfs://staker", EU, sender=staker)
    registry.stake(to_wei(1_000), sender=staker)
    for epoch in range(30):
        refresh_price(protocol, admin)  # the fees that cap the rewards are valued at the oracle
        if epoch == 0:
            rewards.recordWork(2 * epoch + 1, one, to_wei(10), to_wei("0.1"), False, sender=reporter)
        rewards.recordWork(2 * epoch + 2, thirty, to_wei(30), to_wei("0.3"), False, sender=reporter)
        chain.pending_timestamp += DAY
    gas.record("RewardsDistributor.claim (1 epoch)", rewards.claim(sender=one))
    gas.record("RewardsDistributor.claim (30 epochs)", rewards.claim(sender=thirty))
    gas.record("RewardsDistributor.claimStakeRewards (30 epochs idle)", rewards.claimStakeRewards(sender=staker))
    chain.pending_timestamp += DAY
    gas.record("RewardsDistributor.claimStakeRewards", rewards.claimStakeRewards(sender=staker))


MARKET_SIZES = (1, 10, 100, 1_000)


def market_scaling(
    protocol: Protocol,
    admin: Any,
    customer: Any,
    providers: list[Any],
    sizes: tuple[int, ...] = MARKET_SIZES,
    sent: Callable[[int], None] = lambda _count: None,
) -> dict[str, dict[int, int]]:
    """Gas of `placeBid` and `finalizeAuction` after n prior bids on one job, and of `postJob` and
    `settleJob` with n other jobs open in the market: none may grow with n.

    Each settlement measured is the second of its epoch, as in the main scenario: a companion
    lease settles first and pays for the epoch's CMP rate (the oracle is refreshed before, as a
    live feed would be), so the row compares like with like. `sent(k)` is told of every k
    transactions sent (about 2n + 12 per size), for a progress bar."""
    market = protocol.market
    _fund_customer(protocol, admin, customer, to_wei(50_000))
    for provider in providers:
        market.setOffer(H100, 4_000, 80, to_wei(PROVISION_CMP), sender=provider)
    figures: dict[str, dict[int, int]] = {op: {} for op in ("placeBid", "finalizeAuction", "postJob", "settleJob")}
    for n in sizes:
        winner = providers[n % 2]  # the last bidder below
        refresh_price(protocol, admin)
        companion = market.postJob(spec(), sender=customer).events[-1].jobId
        market.placeBid(companion, to_wei(2), sender=winner)
        job_id = market.postJob(spec(), sender=customer).events[-1].jobId
        price = to_wei(2)
        for i in range(n):
            market.placeBid(job_id, price, sender=providers[i % 2])
            price = price * 99 // 100
            sent(1)
        figures["placeBid"][n] = market.placeBid(job_id, price * 99 // 100, sender=winner).gas_used
        chain.pending_timestamp += HOUR
        market.finalizeAuction(companion, sender=customer)
        figures["finalizeAuction"][n] = market.finalizeAuction(job_id, sender=customer).gas_used
        # n other jobs left open beside these two
        refresh_price(protocol, admin)
        for _ in range(n):
            market.postJob(spec(), sender=customer)
            sent(1)
        figures["postJob"][n] = market.postJob(spec(), sender=customer).gas_used
        chain.pending_timestamp += 10 * HOUR
        market.submitResult(companion, b"\x02" * 32, "r", sender=winner)
        market.submitResult(job_id, b"\x01" * 32, "r", sender=winner)
        chain.pending_timestamp += DAY
        refresh_price(protocol, admin)
        market.settleJob(companion, sender=customer)
        figures["settleJob"][n] = market.settleJob(job_id, sender=customer).gas_used
        sent(12)
    return figures


PROTOCOL_CONTRACTS = (
    "ComputeToken",
    "ComputeCredits",
    "ProviderRegistry",
    "JobMarket",
    "JobAuctions",
    "DisputeResolver",
    "RewardsDistributor",
    "ProtocolTimelock",
)


def deployed_sizes(project: Any) -> dict[str, int]:
    """Runtime bytecode size in bytes of each protocol contract, from the project's build."""
    sizes = {}
    for name in PROTOCOL_CONTRACTS:
        code = getattr(project, name).contract_type.runtime_bytecode.bytecode or "0x"
        sizes[name] = (len(code) - 2) // 2
    return sizes
