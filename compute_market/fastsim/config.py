"""Settings of a fast-engine run; the same settings and seed give the same report."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from compute_market.simulation.engine import START_TIME
from compute_market.units import HOUR

GENESIS_TIME = START_TIME - HOUR  # the engine's anvil genesis: the deploy happens in this hour


@dataclass(frozen=True)
class FastSimConfig:
    """A run: actors, simulated time, demand and behaviours (defaults follow `SimConfig`)."""

    seed: int = 7
    providers: int = 20
    customers: int = 50
    days: float = 2.0
    step_minutes: int = 10
    gpu_mix: dict[str, float] = field(
        default_factory=lambda: {"H100-80GB": 0.4, "A100-80GB": 0.3, "A10G-24GB": 0.15, "L4-24GB": 0.15}
    )
    jobs_per_customer_hour: float = 0.25  # demand
    budget: tuple[float, float] = (0.5, 1.0)  # max price as a share of the cloud price
    bidding_minutes: int = 50  # open auctions close this long after posting
    holdback_bps: int = 2_000
    diligent_share: float = 0.7  # customers that settle as soon as the challenge window closes
    sealed_share: float = 0.4  # jobs posted as sealed auctions (commit, reveal, second price)
    lapse_rate: float = 0.05  # sealed commitments their provider never reveals (the bond is forfeited)
    cancel_lease_rate: float = 0.05  # leased jobs their customer cancels half-way (as bin/simulate)
    cancel_bidding_rate: float = 0.03  # jobs their customer cancels while bidding (sealed: before it closes)
    redeem_per_customer_hour: float = 0.02  # chance a customer redeems half its free credits for CMP
    verifiers: int = 0  # staked verifiers; 0: no verification, no disputes (the default scenario)
    verification_share: float = 0.3  # jobs that ask for a verifier (when there are verifiers)
    lazy_verifier_rate: float = 0.2  # verifiers that approve without checking and vote at random
    verifier_cmp: int = 10_000  # CMP the admin gives each verifier
    verifier_stake: int = 5_000
    cheat_fake_rate: float = 0.15  # share of providers that fake results
    cheat_abandon_rate: float = 0.1  # share of providers that abandon leases
    amortization_years: float = 3.0
    utilization_assumed: float = 0.6
    margin: tuple[float, float] = (0.05, 0.3)
    undercut_step: Decimal = Decimal("0.10")
    claim_every: int = HOUR  # a provider claims a lease's accrued pay this often
    oracle_every: int = HOUR // 2  # the keeper pushes a new answer this often (max age: 1 h)
    provider_cmp: int = 20_000  # CMP the admin gives each provider
    provider_stake: int = 15_000
    customer_cmp: int = 20_000
    raw_rate_calls: int = 2_000  # size of the raw eth_call batch measured at the end
    raw_rate_txs: int = 1_000  # size of the raw transaction batch measured at the end

    @property
    def step_seconds(self) -> int:
        return self.step_minutes * 60

    @property
    def steps(self) -> int:
        return max(1, round(self.days * 86_400 / self.step_seconds))
