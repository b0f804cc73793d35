"""ComputeCredits: credits move only to and from the protocol's contracts."""

from __future__ import annotations

import ape
from utils.compute_credits import fresh_price
from utils.storage_trace import mapping_slot, slots_touched, storage_word

from compute_market.units import to_wei


def test_user_to_user_credit_transfer_reverts(credits, feed, admin, minter, bob):
    fresh_price(feed, admin, "2.50")
    credits.mintWithTokens(to_wei(10), 0, minter, sender=minter)
    with ape.reverts(credits.CreditsNonTransferable, **{"from": minter.address, "to": bob.address}):
        credits.transfer(bob, 1, sender=minter)
    credits.approve(bob, 1, sender=minter)
    with ape.reverts(credits.CreditsNonTransferable):
        credits.transferFrom(minter, bob, 1, sender=bob)


def test_credits_move_to_and_from_an_allow_listed_protocol_contract(credits, feed, admin, minter, carol):
    """A protocol contract takes credits by pulling them (as escrows and bonds are taken) and
    pays them out by `transfer`."""
    fresh_price(feed, admin, "2.50")
    credits.mintWithTokens(to_wei(10), 0, minter, sender=minter)
    tx = credits.setProtocolContract(carol, True, sender=admin)  # carol stands in for the escrow
    assert tx.events.filter(credits.ProtocolContractSet)[0].allowed == 1
    credits.approve(carol, to_wei(2), sender=minter)
    credits.transferFrom(minter, carol, to_wei(1), sender=carol)
    credits.transfer(minter, to_wei(1), sender=carol)
    assert credits.balanceOf(carol) == 0
    credits.setProtocolContract(carol, False, sender=admin)
    with ape.reverts(credits.CreditsNonTransferable):
        credits.transferFrom(minter, carol, 1, sender=carol)


def test_credits_pushed_into_the_market_or_the_resolver_revert(credits, market, resolver, feed, admin, minter):
    """v1 let a holder `transfer` credits straight to the market or the resolver (both protocol
    contracts), or mint them there: they sat outside every escrow with no way out, and the
    market's balance exceeded its escrows. Now only the contract itself can bring credits in
    (by pulling them), so a mistaken send reverts and the holder keeps its credits."""
    fresh_price(feed, admin, "2.50")
    credits.mintWithTokens(to_wei(10), 0, minter, sender=minter)
    held = credits.balanceOf(minter)
    for target in (market, resolver):
        with ape.reverts(credits.CreditsNonTransferable, to=target.address):
            credits.transfer(target, to_wei(1), sender=minter)
        credits.approve(minter, to_wei(1), sender=minter)
        with ape.reverts(credits.CreditsNonTransferable):  # a transferFrom sent by anyone else
            credits.transferFrom(minter, target, to_wei(1), sender=minter)
        with ape.reverts(credits.CreditsNonTransferable):
            credits.mintWithTokens(to_wei(1), 0, target, sender=minter)
    assert credits.balanceOf(minter) == held
    assert credits.balanceOf(market) == credits.balanceOf(resolver) == 0


def test_a_pull_reads_only_the_pulling_contracts_flag(credits, chain, feed, admin, minter, carol):
    """A protocol contract pulling credits (`transferFrom` sent by the receiver: every escrow and
    bond taken) is allowed by its own flag, so the holder's is not read: one cold slot (2,100 gas)
    fewer on every posting and challenge. A payout reads the payer's flag only, as before."""
    fresh_price(feed, admin, "2.50")
    credits.mintWithTokens(to_wei(10), 0, minter, sender=minter)
    credits.setProtocolContract(carol, True, sender=admin)
    credits.approve(carol, to_wei(2), sender=minter)

    def key(account, index: int) -> int:
        return mapping_slot(account.address, index)

    # `isProtocolContract`'s slot: the address-keyed mapping holding exactly 1 for carol.
    index = next(i for i in range(64) if storage_word(chain.provider, credits.address, key(carol, i)) == 1)

    def flags_read(tx) -> tuple[bool, bool]:
        """Whether the transaction read the holder's flag, and the protocol contract's."""
        touched = slots_touched(chain.provider, str(tx.txn_hash), credits.address)
        return key(minter, index) in touched, key(carol, index) in touched

    pull = credits.transferFrom(minter, carol, to_wei(1), sender=carol)
    assert flags_read(pull) == (False, True)
    payout = credits.transfer(minter, to_wei(1), sender=carol)
    assert flags_read(payout) == (False, True)
