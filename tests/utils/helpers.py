"""Constants and builders shared by the test modules (`from utils.helpers import ...`)."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path
from types import ModuleType

from compute_market.cli import YES_ENV
from compute_market.models import JobStatus
from compute_market.units import bytes32, to_wei

H100 = bytes32("H100-80GB")
A100 = bytes32("A100-40GB")
EU = bytes32("eu-west")
US = bytes32("us-east")
ANY_REGION = bytes32("")
PRICE_USD = "2.50"  # CMP/USD used by the market tests
# The environment that answers the market commands' confirmation (tests/cli/test_cli_confirm.py asks).
CONFIRMED = {YES_ENV: "1"}


def job_spec(
    chain,
    *,
    model: bytes = H100,
    gpus: int = 2,
    vram: int = 40,
    region: bytes = ANY_REGION,
    hours: int = 10,
    max_price: int = to_wei(2),
    bidding: int = 3_600,
    sealed: bool = False,
    min_rep: int = 0,
    holdback: int = 2_000,
    verification: bool = False,
    workload: bytes = b"\0" * 32,
    manifest_uri: str = "",
) -> tuple:
    """A JobSpec tuple in the contract's field order."""
    return (
        model,
        gpus,
        vram,
        region,
        hours * 3_600,
        max_price,
        chain.pending_timestamp + bidding,
        1 if sealed else 0,
        min_rep,
        holdback,
        verification,
        workload,
        manifest_uri,
    )


def assert_bounded_setter(contract, setter: str, bad: int, lo: int, hi: int, valid: int, admin, stranger) -> None:
    """A governance setter refuses `bad` with its bounds, refuses a stranger, and sets `valid`
    for the admin with a `ParameterUpdated` event."""
    import ape

    with ape.reverts(contract.ParameterOutOfBounds, value=bad, min=lo, max=hi):
        getattr(contract, setter)(bad, sender=admin)
    with ape.reverts(contract.AccessControlUnauthorizedAccount):
        getattr(contract, setter)(lo, sender=stranger)
    tx = getattr(contract, setter)(valid, sender=admin)
    assert tx.events.filter(contract.ParameterUpdated)[0].newValue == valid


def load_script(name: str) -> ModuleType:
    """`scripts/<name>.py` as a module (scripts are not a package)."""
    path = Path(__file__).resolve().parents[2] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"{name}_script", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def advance(chain, seconds: int) -> None:
    """Moves the chain's clock `seconds` on and mines a block."""
    chain.pending_timestamp += seconds
    chain.mine()


def unclaimed_jury_rewards(resolver, job_ids) -> tuple[int, int]:
    """CMP and CRD the resolver holds for majority jurors who have not claimed yet (wei)."""
    cmp = crd = 0
    for job_id in job_ids:
        for juror in dict.fromkeys(resolver.jurorsOf(job_id)):  # a juror per seat: once each
            tokens, credits = resolver.juryRewardOf(job_id, juror)
            cmp, crd = cmp + tokens, crd + credits
    return cmp, crd


def claim_jury_rewards(resolver, job_id, accounts_by_address) -> tuple[int, int]:
    """Every juror with a share in `job_id`'s dispute claims it; the CMP and CRD paid (wei)."""
    cmp = crd = 0
    for juror in dict.fromkeys(resolver.jurorsOf(job_id)):
        tokens, credits = resolver.juryRewardOf(job_id, juror)
        if tokens or credits:
            resolver.claimJuryReward(job_id, sender=accounts_by_address[juror])
            cmp, crd = cmp + tokens, crd + credits
    return cmp, crd


# Job statuses in which the job's winner (or, while bidding, its best bidder) holds its lock:
# bidding, leased, result submitted, disputed.
HOLDING_LOCK = {JobStatus.BIDDING, JobStatus.LEASED, JobStatus.RESULT_SUBMITTED, JobStatus.DISPUTED}


def assert_locks_match_jobs(market, registry, providers, job_ids, models=()) -> int:
    """Across the market-ledger boundary: no contract keeps a record per lock, so each
    provider's offer of each model must hold, to the wei, what the market's jobs say it holds:
    `collateral + gpuStake` and the job's GPUs for each job it leads or serves, and the same for
    each sealed commitment neither revealed nor settled; each offer's `locked <= provisioned` and
    `reserved <= gpus`; and the ledger's provision of the provider is the sum of its offers'
    (over the jobs' models and `models`, which must name every model the providers offer).
    Returns the number of live locks found (so a caller can tell the check was not vacuous)."""
    jobs = {j: market.getJob(j) for j in job_ids}
    models = {bytes(job.gpuModel) for job in jobs.values()} | {bytes(m) for m in models}
    live = 0
    for provider in providers:
        locked = dict.fromkeys(models, 0)
        reserved = dict.fromkeys(models, 0)
        for job_id, job in jobs.items():
            model = bytes(job.gpuModel)
            holds = int(job.provider == provider.address and job.status in HOLDING_LOCK)
            if job.kind == 1:  # a sealed auction: each live commitment holds the same lock
                commitment = market.commitmentOf(job_id, provider)
                holds += int(commitment.committedAtBlock != 0 and not commitment.revealed)
            locked[model] += holds * (job.collateral + job.gpuStake)
            reserved[model] += holds * job.gpuCount
            live += holds
        provisioned = 0
        for model in models:
            offer = market.offerOf(provider, model)
            assert (offer.locked, offer.reserved) == (locked[model], reserved[model]), (provider, model)
            assert offer.locked <= offer.provisioned and offer.reserved <= offer.gpus, (provider, model)
            provisioned += offer.provisioned
        assert registry.providerOf(provider).provisioned == provisioned, provider
    return live


def random_word_value(kind: str, rng: random.Random) -> object:
    """A random value of the one-word ABI type `kind` (uintN, intN, address, bool, bytesN), edges
    included: for the fast codecs' tests against `eth_abi`."""
    if kind.startswith("uint"):
        bits = int(kind[4:])
        return rng.choice([0, 1, (1 << bits) - 1, rng.getrandbits(bits)])
    if kind.startswith("int"):
        bits = int(kind[3:])
        return rng.choice([0, -1, -(1 << (bits - 1)), (1 << (bits - 1)) - 1, rng.getrandbits(bits - 1)])
    if kind == "address":
        return "0x" + rng.randbytes(20).hex()
    if kind == "bool":
        return rng.random() < 0.5
    return rng.randbytes(rng.randint(0, int(kind[5:])))
