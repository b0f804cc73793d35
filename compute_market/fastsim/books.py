"""Bookkeeping the adversaries share: credits an owner minted by burning CMP, from the token
transfers of a block (the wash trader's and the jury grinder's books), and the gas their
transactions used, from the receipts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from compute_market.fastsim.mirror import ZERO
from compute_market.units import from_wei


class Minter(Protocol):
    """An adversary's books of the credits it minted by burning CMP."""

    mint_cmp_usd: Decimal  # CMP burned for credits, in USD at the answer of each block
    minted_crd: int  # credits those burns minted


def book_mint(owners: Mapping[str, Minter], contract: str, sender: str, to: str, value: int, price: Decimal) -> bool:
    """Books one token transfer if it is half of an owner's mint (its CMP burned, its credits
    minted); returns whether it was."""
    if contract == "ComputeToken" and sender in owners and to == ZERO:
        owners[sender].mint_cmp_usd += from_wei(value) * price
    elif contract == "ComputeCredits" and sender == ZERO and to in owners:
        owners[to].minted_crd += value
    else:
        return False
    return True


def mint_spread_usd(m: Minter) -> Decimal:
    """What minting cost beyond the credits it gave: the CMP burned less the credits minted (USD)."""
    return m.mint_cmp_usd - from_wei(m.minted_crd)


@dataclass
class GasBook:
    """Gas the adversaries' own transactions used (their receipts' `gasUsed`), per sender, and
    what it costs at the run's gas price (`--gas-price-gwei`) and ETH price (`--eth-usd`)."""

    usd_per_gas: Decimal
    used: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    sent: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))  # transactions mined

    def book(self, sender: str, gas: int) -> None:
        self.used[sender] += gas
        self.sent[sender] += 1

    @classmethod
    def priced(cls, gas_price_gwei: float, eth_usd: float) -> GasBook:
        return cls(Decimal(str(gas_price_gwei)) * Decimal(str(eth_usd)) / Decimal(10**9))

    def gas(self, addresses: Iterable[str]) -> int:
        return sum(self.used.get(a, 0) for a in addresses)

    def usd(self, gas: int) -> Decimal:
        return gas * self.usd_per_gas
