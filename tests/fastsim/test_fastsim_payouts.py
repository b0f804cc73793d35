"""The fast simulation and the ledger's credited payouts: a failed lease's slash is credited to
the customer and the keeper (`SlashCredited`) and claimed later (`PayoutClaimed`); the mirror
keeps what is owed (the chain check compares it with `payoutOf` for every account), and a
simulated customer short of CMP claims its credit before minting credits."""

from __future__ import annotations

from types import SimpleNamespace

from compute_market.fastsim import FastSimConfig
from compute_market.fastsim.actors import Customer, StepView
from compute_market.fastsim.engine import FastSim
from compute_market.fastsim.mirror import Mirror
from compute_market.units import to_wei


def test_the_mirror_keeps_what_failed_leases_credited_until_it_is_claimed():
    """A failure credits the customer 95 and the keeper 5 (`SlashCredited`), a second failure the
    customer 190 more; the customer's claim (`PayoutClaimed`) takes its 285, the keeper's 5 wait:
    the mirror's `payouts` is the ledger's `payoutOf`, which `check` compares for every account."""
    mirror, customer, keeper, provider = Mirror(), "0x" + "33" * 20, "0x" + "44" * 20, "0x" + "22" * 20
    for payee, amount in ((customer, 95), (keeper, 5), (customer, 190)):
        mirror.apply("ProviderRegistry", "SlashCredited", {"account": provider, "payee": payee, "amount": amount}, 0)
    assert (mirror.payouts[customer], mirror.payouts[keeper]) == (285, 5)
    mirror.apply("ProviderRegistry", "PayoutClaimed", {"payee": customer, "amount": 285}, 0)
    assert (mirror.payouts[customer], mirror.payouts[keeper]) == (0, 5)


def test_a_customer_short_of_cmp_claims_its_credited_compensation_before_minting():
    """A customer with no CMP in its wallet and 50 CMP credited by failed leases needs 30 CRD
    (three escrows of 10) at 2.50 USD a CMP: it claims its credit first, then mints, in the same
    step; a second shortfall in that step claims nothing again. A customer with nothing credited
    and no CMP mints nothing (`customer out of CMP`)."""
    chain = SimpleNamespace(deployment=SimpleNamespace(admin="0x" + "aa" * 20), address=lambda _name: "0x" + "bb" * 20)
    sim = FastSim(FastSimConfig(), chain, 0)  # type: ignore[arg-type]  # only the two fields the set-up reads
    owed, broke = Customer("0x" + "33" * 20, 1.0, False), Customer("0x" + "44" * 20, 1.0, False)
    sim.mirror.payouts[owed.address] = to_wei(50)
    view, txs = StepView(), []
    assert sim._fund(owed, to_wei(10), view, txs)
    assert [(t.contract, t.function, t.args) for t in txs[:1]] == [("ProviderRegistry", "claimPayout", (owed.address,))]
    assert [t.function for t in txs] == ["claimPayout", "mintWithTokens"]
    view.credits[owed.address] = 0  # as if the escrows were spent in the step: short again
    sim._fund(owed, to_wei(10), view, txs)
    assert [t.function for t in txs].count("claimPayout") == 1
    assert not sim._fund(broke, to_wei(10), view, txs)
    assert sim.skipped["customer out of CMP"] == 1
