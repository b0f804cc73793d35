"""The mirror against the chain, with batched `eth_call`s: every job, every balance the
mirror knows, the supplies, provider stakes, and the market's CRD balance against the sum of
escrows. Raises `MirrorMismatchError` listing the first differences."""

from __future__ import annotations

from typing import Any

from compute_market.fastsim.chain import Chain
from compute_market.fastsim.mirror import Mirror

# getJob fields compared with the mirror's JobState attributes.
JOB_FIELDS = {
    "customer": "customer",
    "status": "status",
    "escrow": "escrow",
    "provider": "provider",
    "price": "price",
    "paidGross": "paid_gross",
    "leaseStart": "lease_start",
    "challengeEnd": "challenge_end",
    "bidCount": "bids",
}
CHUNK = 2_000  # eth_calls per batch


class MirrorMismatchError(AssertionError):
    """The mirror and the chain disagree."""

    def __init__(self, mismatches: list[str], total: int) -> None:
        shown = "\n  ".join(mismatches)
        super().__init__(f"mirror differs from the chain in {total} places; first {len(mismatches)}:\n  {shown}")
        self.mismatches = mismatches
        self.total = total


def job_field_names(chain: Chain) -> list[str]:
    """Names of the `Job` struct's fields, from `getJob`'s ABI."""
    for item in chain.deployment.abis["JobMarket"]:
        if item.get("type") == "function" and item.get("name") == "getJob":
            return [str(c["name"]) for c in item["outputs"][0]["components"]]
    raise KeyError("getJob not in the JobMarket ABI")


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
    chain_escrow = 0
    for job_id, (raw,) in zip(ids, jobs, strict=True):
        onchain = dict(zip(names, raw, strict=True))
        chain_escrow += int(onchain["escrow"])
        mine = mirror.jobs[job_id]
        for field, attr in JOB_FIELDS.items():
            want, have = onchain[field], getattr(mine, attr)
            differs = want != have if isinstance(want, str) else int(want) != int(have)
            if differs:
                bad.append(f"job {job_id} {field}: chain {want}, mirror {have}")
    holders = {s: sorted(a for a in mirror.balances[s]) for s in ("CMP", "CRD")}
    requests: list[tuple[str, str, tuple[Any, ...]]] = [("ComputeToken", "balanceOf", (a,)) for a in holders["CMP"]]
    requests += [("ComputeCredits", "balanceOf", (a,)) for a in holders["CRD"]]
    requests += [("ComputeToken", "totalSupply", ()), ("ComputeCredits", "totalSupply", ())]
    market = chain.address("JobMarket")
    requests.append(("ComputeCredits", "balanceOf", (market,)))
    requests += [("ProviderRegistry", "stakeOf", (p,)) for p in providers]
    requests += [("ProviderRegistry", "freeStakeOf", (p,)) for p in providers]
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
    market_crd = next(it)
    if not market_crd == chain_escrow == mirror.escrow_total():
        mirrored = mirror.escrow_total()
        bad.append(f"market CRD balance {market_crd}, sum of escrows on chain {chain_escrow}, in mirror {mirrored}")
    for p in providers:
        want = next(it)
        if want != mirror.staked[p]:
            bad.append(f"stake of {p}: chain {want}, mirror {mirror.staked[p]}")
    for p in providers:
        want = next(it)
        have = mirror.staked[p] - mirror.locked(p)
        if want != have:
            bad.append(f"free stake of {p}: chain {want}, mirror {have}")
    if bad:
        raise MirrorMismatchError(bad[:limit], len(bad))
    return {"jobs": len(ids), "values": len(ids) * len(JOB_FIELDS) + len(values) + 1}
