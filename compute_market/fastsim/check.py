"""The mirror against the chain, with batched `eth_call`s: every job (its region, least memory,
collateral and per-GPU stake too), every sealed-bid commitment, every balance the mirror knows,
the supplies, provider stakes and free stakes, every offer the mirror knows (`offerOf`: all five
fields, the locks and reservations of the bids included) and each offering provider's provision
in the ledger (`providerOf(p).provisioned`) against the sum of its offers, to the wei, the
market's CRD balance against the sum of escrows, the reference price of every GPU model the
mirror saw one for, the CMP the rewards distributor minted by claims, every payout the ledger
credited and not yet claimed (`payoutOf`) that the mirror knows, and (with review) the
verifiers' stakes and unbonding. Raises `MirrorMismatchError` listing the first differences."""

from __future__ import annotations

from typing import Any

from compute_market.fastsim.chain import Chain
from compute_market.fastsim.mirror import Bond, Mirror

# getJob fields compared with the mirror's JobState attributes.
JOB_FIELDS = {
    "customer": "customer",
    "status": "status",
    "provider": "provider",
    "price": "price",
    "leaseStart": "lease_start",
    "challengeEnd": "challenge_end",
    "bidCount": "bids",
    "kind": "kind",
    "revealEnd": "reveal_end",
    "bestBid": "best_bid",
    "verification": "verification",
    "region": "region",
    "minVramGb": "min_vram",
    "collateral": "collateral",
    "gpuStake": "gpu_stake",
}
# offerOf fields (`IJobMarket.Offer`) compared with the mirror's Offer attributes.
OFFER_FIELDS = {
    "provisioned": "provisioned",
    "locked": "locked",
    "gpus": "gpus",
    "reserved": "reserved",
    "vramGb": "vram",
}
# fundsOf fields (derived on chain from the job, not stored) compared likewise.
FUNDS_FIELDS = {"escrow": "escrow", "paidGross": "paid_gross"}
COMPARED = {**JOB_FIELDS, **FUNDS_FIELDS}
CHUNK = 2_000  # eth_calls per batch


class MirrorMismatchError(AssertionError):
    """The mirror and the chain disagree."""

    def __init__(self, mismatches: list[str], total: int) -> None:
        shown = "\n  ".join(mismatches)
        super().__init__(f"mirror differs from the chain in {total} places; first {len(mismatches)}:\n  {shown}")
        self.mismatches = mismatches
        self.total = total


def struct_field_names(chain: Chain, contract: str, function: str) -> list[str]:
    """Names of the fields of the struct `contract.function` returns, from its ABI."""
    for item in chain.deployment.abis[contract]:
        if item.get("type") == "function" and item.get("name") == function:
            return [str(c["name"]) for c in item["outputs"][0]["components"]]
    raise KeyError(f"{function} not in the {contract} ABI")


def job_field_names(chain: Chain) -> list[str]:
    """Names of the `Job` struct's fields, from `getJob`'s ABI."""
    return struct_field_names(chain, "JobMarket", "getJob")


def _calls(chain: Chain, requests: list[tuple[str, str, tuple[Any, ...]]]) -> list[list[Any]]:
    out: list[list[Any]] = []
    for i in range(0, len(requests), CHUNK):
        out += chain.calls(requests[i : i + CHUNK])
    return out


def check_mirror(chain: Chain, mirror: Mirror, providers: list[str], limit: int = 20) -> dict[str, int]:
    """Compares; returns how many values were checked, raises `MirrorMismatchError` on any difference."""
    bad: list[str] = []
    count = _calls(chain, [("JobMarket", "jobCount", ())])[0][0]
    if count != len(mirror.jobs):
        bad.append(f"jobCount: chain {count}, mirror {len(mirror.jobs)}")
    names = job_field_names(chain)
    ids = sorted(mirror.jobs)
    jobs = _calls(chain, [("JobMarket", "getJob", (i,)) for i in ids])
    funds = _calls(chain, [("JobMarket", "fundsOf", (i,)) for i in ids])
    chain_escrow = 0
    for job_id, (raw,), (held,) in zip(ids, jobs, funds, strict=True):
        onchain = dict(zip(names, raw, strict=True))
        onchain.update(zip(FUNDS_FIELDS, held, strict=True))
        chain_escrow += int(onchain["escrow"])
        mine = mirror.jobs[job_id]
        for field, attr in COMPARED.items():
            want, have = onchain[field], getattr(mine, attr)
            if isinstance(want, str):
                differs = want != have
            elif isinstance(want, bytes):
                differs = want != bytes(have)
            else:
                differs = int(want) != int(have)
            if differs:
                bad.append(f"job {job_id} {field}: chain {want}, mirror {have}")
    commitments = [(job_id, p) for job_id in ids for p in sorted(mirror.jobs[job_id].commitments)]
    onchain_commitments = _calls(chain, [("JobMarket", "commitmentOf", c) for c in commitments])
    for (job_id, p), (raw,) in zip(commitments, onchain_commitments, strict=True):
        bid = mirror.jobs[job_id].commitments[p]
        want_hash, _block, revealed = raw  # the chain keeps the hash's first 24 bytes
        if bytes(want_hash) != bid.hash[:24] or bool(revealed) != (bid.state != Bond.COMMITTED):
            bad.append(f"job {job_id} commitment of {p}: chain revealed={revealed}, mirror {bid.state.name}")
    holders = {s: sorted(a for a in mirror.balances[s]) for s in ("CMP", "CRD")}
    requests: list[tuple[str, str, tuple[Any, ...]]] = [("ComputeToken", "balanceOf", (a,)) for a in holders["CMP"]]
    requests += [("ComputeCredits", "balanceOf", (a,)) for a in holders["CRD"]]
    requests += [("ComputeToken", "totalSupply", ()), ("ComputeCredits", "totalSupply", ())]
    market = chain.address("JobMarket")
    requests.append(("ComputeCredits", "balanceOf", (market,)))
    requests.append(("JobMarket", "feesAccrued", ()))
    requests += [("ProviderRegistry", "stakeOf", (p,)) for p in providers]
    requests += [("ProviderRegistry", "freeStakeOf", (p,)) for p in providers]
    models = sorted(mirror.reference)
    requests += [("JobMarket", "referencePrice", (m,)) for m in models]
    requests.append(("RewardsDistributor", "totalClaimed", ()))
    payees = sorted(set(mirror.payouts) | set(holders["CMP"]) | set(holders["CRD"]))  # every account it knows
    requests += [("ProviderRegistry", "payoutOf", (a,)) for a in payees]
    values = [int(v[0]) for v in _calls(chain, requests)]
    it = iter(values)
    for symbol in ("CMP", "CRD"):
        for address in holders[symbol]:
            want = next(it)
            if want != mirror.balances[symbol][address]:
                bad.append(f"{symbol} balance of {address}: chain {want}, mirror {mirror.balances[symbol][address]}")
    for symbol in ("CMP", "CRD"):
        want = next(it)
        if want != mirror.supply[symbol]:
            bad.append(f"{symbol} totalSupply: chain {want}, mirror {mirror.supply[symbol]}")
    market_crd, chain_fees = next(it), next(it)
    owed, mirrored = chain_escrow + chain_fees, mirror.escrow_total() + mirror.fees_accrued
    if not market_crd == owed == mirrored:
        bad.append(
            f"market CRD balance {market_crd}, escrows and fees owed on chain {owed} "
            f"({chain_escrow} + {chain_fees}), in mirror {mirrored}"
        )
    for p in providers:
        want = next(it)
        if want != mirror.staked[p]:
            bad.append(f"stake of {p}: chain {want}, mirror {mirror.staked[p]}")
    for p in providers:
        want = next(it)
        have = mirror.free_stake(p)
        if want != have:
            bad.append(f"free stake of {p}: chain {want}, mirror {have}")
    for m in models:
        want = next(it)
        if want != mirror.reference[m]:
            bad.append(f"reference price of {m.rstrip(bytes(1)).decode()}: chain {want}, mirror {mirror.reference[m]}")
    claimed = next(it)
    if claimed != mirror.rewards_total():
        bad.append(f"rewards claimed (totalClaimed): chain {claimed}, mirror {mirror.rewards_total()}")
    for a in payees:
        want = next(it)
        if want != mirror.payouts[a]:
            bad.append(f"payout credited to {a}: chain {want}, mirror {mirror.payouts[a]}")
    offered = _check_offers(chain, mirror, sorted(set(providers) | set(mirror.offers)), bad)
    reviewed = _check_review(chain, mirror, bad) if mirror.review.tail or mirror.review.verifier_stake else 0
    if bad:
        raise MirrorMismatchError(bad[:limit], len(bad))
    checked = len(ids) * len(JOB_FIELDS) + 2 * len(commitments) + len(values) + 1 + offered + reviewed
    return {"jobs": len(ids), "commitments": len(commitments), "values": checked}


def _check_offers(chain: Chain, mirror: Mirror, providers: list[str], bad: list[str]) -> int:
    """Every offer the mirror knows against `offerOf` (all five fields), and each provider's
    provision in the ledger (`providerOf(p).provisioned`) against the sum of its offers'
    provisions and against the ledger's own events (`Provisioned`, `Slashed`), to the wei;
    appends differences to `bad`, returns how many values it compared."""
    offers = [(p, model) for p in providers for model in sorted(mirror.offers.get(p, {}))]
    names = struct_field_names(chain, "JobMarket", "offerOf")
    records = struct_field_names(chain, "ProviderRegistry", "providerOf")
    requests: list[tuple[str, str, tuple[Any, ...]]] = [("JobMarket", "offerOf", o) for o in offers]
    requests += [("ProviderRegistry", "providerOf", (p,)) for p in providers]
    it = iter(_calls(chain, requests))
    for p, model in offers:
        onchain = dict(zip(names, next(it)[0], strict=True))
        mine = mirror.offers[p][model]
        for field, attr in OFFER_FIELDS.items():
            want, have = int(onchain[field]), getattr(mine, attr)
            if want != have:
                gpu = model.rstrip(bytes(1)).decode(errors="replace")
                bad.append(f"offer of {gpu} by {p} {field}: chain {want}, mirror {have}")
    for p in providers:
        want = int(dict(zip(records, next(it)[0], strict=True))["provisioned"])
        offered, ledger = mirror.offered(p), mirror.provisioned.get(p, 0)
        if not want == offered == ledger:
            bad.append(f"provision of {p}: ledger {want}, mirror's offers {offered}, mirror's ledger {ledger}")
    return len(offers) * len(OFFER_FIELDS) + len(providers)


def _check_review(chain: Chain, mirror: Mirror, bad: list[str]) -> int:
    """The ledger's queue bounds, every verifier's stake, every verification and dispute the
    mirror knows; appends differences to `bad`, returns how many values it compared."""
    review = mirror.review
    verifiers = sorted(review.verifier_stake)
    verified = sorted(review.verifications)
    disputed = sorted(review.disputes)
    requests: list[tuple[str, str, tuple[Any, ...]]] = [
        ("ProviderRegistry", "queueHead", ()),
        ("ProviderRegistry", "queueTail", ()),
    ]
    requests += [("ProviderRegistry", "verifierOf", (v,)) for v in verifiers]
    requests += [("DisputeResolver", "verificationOf", (j,)) for j in verified]
    requests += [("DisputeResolver", "disputeOf", (j,)) for j in disputed]
    it = iter(_calls(chain, requests))
    head, tail = int(next(it)[0]), int(next(it)[0])
    if (head, tail) != (review.head, review.tail):
        bad.append(f"ledger queue: chain {head}..{tail}, mirror {review.head}..{review.tail}")
    for v in verifiers:
        record = next(it)[0]
        staked, unbonding = int(record[0]), (int(record[2]), int(record[3]))
        if staked != review.verifier_stake[v]:
            bad.append(f"verifier stake of {v}: chain {staked}, mirror {review.verifier_stake[v]}")
        held = review.unbonding.get(v, (0, 0))
        if unbonding[0] != held[0] or (unbonding[0] and unbonding[1] != held[1]):
            bad.append(f"verifier unbonding of {v}: chain {unbonding}, mirror {held}")
    for j in verified:
        verifier, deadline, attestation, requested = next(it)[0]
        mine = review.verifications[j]
        if (verifier, int(deadline), int(attestation), bool(requested)) != (
            mine.verifier,
            mine.deadline,
            int(mine.attestation),
            mine.requested,
        ):
            bad.append(f"verification of job {j}: chain {verifier} {attestation} {requested}, mirror {mine}")
    for j in disputed:
        raw = next(it)[0]
        challenger, status, fault, by_jury = raw[0], int(raw[2]), bool(raw[4]), bool(raw[6])
        d = review.disputes[j]
        if (challenger, status, fault, by_jury) != (d.challenger, int(d.status), d.fault, d.by_jury):
            bad.append(f"dispute on job {j}: chain status {status} fault {fault}, mirror {d.status.name} {d.fault}")
    return 2 + 3 * len(verifiers) + 4 * len(verified) + 4 * len(disputed)
