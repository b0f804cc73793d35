"""Settings of a fast-engine run; the same settings and seed give the same report."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from compute_market.simulation.config import scenario_market
from compute_market.simulation.engine import START_TIME
from compute_market.units import DAY, HOUR

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
    cancel_lease_rate: float = 0.05  # leased jobs their customer cancels half-way (as the Ape engine)
    cancel_bidding_rate: float = 0.03  # jobs their customer cancels while bidding (sealed: before it closes)
    redeem_per_customer_hour: float = 0.02  # chance a customer redeems half its free credits for CMP
    verifiers: int = 0  # staked verifiers; 0: no verification, no disputes (the default scenario)
    verification_share: float = 0.3  # jobs that ask for a verifier (when there are verifiers)
    lazy_verifier_rate: float = 0.2  # verifiers that approve without checking and vote at random
    verifier_cmp: int = 10_000  # CMP the admin gives each verifier
    verifier_stake: int = 5_000
    cheat_fake_rate: float = 0.15  # share of providers that fake results
    cheat_abandon_rate: float = 0.1  # share of providers that abandon leases
    # Provider economics (`compute_market.economics`; docs/fastsim.md, "Provider economics").
    # Costs: `ProviderCosts.from_catalog` with its documented defaults, electricity drawn per
    # provider at `electricity_range` times the catalog's price, then scaled by the multipliers.
    electricity_range: tuple[float, float] = (0.8, 1.5)
    electricity_multiplier: float = 1.0
    gpu_price_multiplier: float = 1.0  # scales the catalog's purchase price
    pue: float | None = None  # None: the economics default (1.58)
    cost_of_capital: float | None = None  # annual; None: the economics default (0.10)
    amortization_years: float | None = None  # None: the economics default (5 years)
    cost_overrides: dict[str, float] = field(default_factory=dict)  # any other `from_catalog` override
    # Pricing policy: `ask_price` from realised trailing utilisation.
    margin: tuple[float, float] = (0.05, 0.3)  # each provider's margin, drawn from this range
    full_cost_utilisation: float = 0.60  # the utilisation at which a provider asks its full cost
    floor_utilisation: float = 0.05  # at or below it, the ask is the marginal cost plus the margin
    utilisation_window_hours: int = 24  # trailing window of the utilisation the ask follows
    initial_utilisation: float = 0.60  # the window's prior: a new provider's history before the run
    undercut_step: Decimal = Decimal("0.10")
    claim_every: int = HOUR  # a provider claims a lease's accrued pay this often
    oracle_every: int = HOUR // 2  # the keeper pushes a new answer this often (max age: 1 h)
    provider_cmp: int = 20_000  # CMP the admin gives each provider
    provider_stake: int = 15_000
    customer_cmp: int = 20_000
    raw_rate_calls: int = 2_000  # size of the raw eth_call batch measured at the end
    raw_rate_txs: int = 1_000  # size of the raw transaction batch measured at the end
    check_rate: float = 0.7  # chance a customer checks a result, and challenges it when it is fake
    # What an adversary's transactions cost it: gas used (receipts) x gas price x ETH price. The
    # local chain charges nothing that matters; 0 leaves the rows as the protocol's rules alone
    # make them (an L2 at a few thousandths of a gwei is close to that).
    gas_price_gwei: float = 0.0
    eth_usd: float = 3_000.0
    claim_rewards: bool = True  # providers and verifiers claim their rewards once each epoch is over
    verifier_unstake_per_day: float = 0.2  # chance a verifier asks, each simulated day, to unstake half its stake
    unbonding_period: int = DAY  # the ledger's unbonding period in runs with verifiers (its minimum)
    region_share: float = 0.3  # jobs that name a region (the others take any)
    full_vram_share: float = 0.6  # jobs that need their model's whole memory (the others half of it)
    half_vram_share: float = 0.2  # providers whose configuration offers half their model's memory
    # Adversaries as agents with their own P&L (`fastsim.adversaries`): kind → how many; none by default
    adversaries: dict[str, int] = field(default_factory=dict)
    # Customers with choices (`fastsim.demand`): budgets against the cheapest alternative (cloud or
    # marketplace), demand that follows the market's saving, budgets raised after unfilled jobs.
    outside_option: bool = False
    elasticity: float = 2.0  # demand multiplier per unit of saving (with `outside_option`)
    # Providers that enter and leave on profit (`fastsim.supply`): exits on a negative P&L over the
    # trailing window, `entrants` dormant providers that enter while the incumbents make money.
    entry_exit: bool = False
    entrants: int = 3
    exit_window_hours: int = 24
    rewards_in_decisions: bool = True  # entry and exit value token rewards at the oracle price (else at 0)
    scenario: str = "baseline"
    series: bool = True  # record an hourly time series (for the CSV and the plots)

    def for_scenario(self, name: str) -> FastSimConfig:
        """The market of scenario `name`, as the Ape engine plays it (`scenario_market`)."""
        providers, demand = scenario_market(name, self.providers, self.jobs_per_customer_hour)
        return replace(self, scenario=name, providers=providers, jobs_per_customer_hour=demand)

    @property
    def step_seconds(self) -> int:
        return self.step_minutes * 60

    @property
    def steps(self) -> int:
        return max(1, round(self.days * 86_400 / self.step_seconds))
