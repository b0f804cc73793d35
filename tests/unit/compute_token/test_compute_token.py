"""ComputeToken: cap, minter role, burn, permit, and no votes."""

from __future__ import annotations

import ape
from eth_account import Account
from eth_account.messages import encode_typed_data

from compute_market.units import to_wei


def test_initial_supply_goes_to_recipient_and_cap_is_set(token, admin):
    assert token.balanceOf(admin) == to_wei(400_000_000)
    assert token.totalSupply() == to_wei(400_000_000)
    assert token.cap() == to_wei(1_000_000_000)
    assert (token.name(), token.symbol(), token.decimals()) == ("Compute Token", "CMP", 18)


def test_a_token_may_start_with_no_supply(project, admin):
    token = project.ComputeToken.deploy(admin, admin, 0, to_wei(1_000), sender=admin)
    assert token.totalSupply() == 0 and token.cap() == to_wei(1_000)


def test_only_minters_mint(token, admin, stranger):
    with ape.reverts(token.AccessControlUnauthorizedAccount):
        token.mint(stranger, 1, sender=stranger)
    token.grantRole(token.MINTER_ROLE(), admin, sender=admin)
    token.mint(stranger, 5, sender=admin)
    assert token.balanceOf(stranger) == 5


def test_mint_past_cap_reverts(token, admin):
    token.grantRole(token.MINTER_ROLE(), admin, sender=admin)
    room = token.cap() - token.totalSupply()
    with ape.reverts(token.ERC20ExceededCap):
        token.mint(admin, room + 1, sender=admin)
    token.mint(admin, room, sender=admin)
    assert token.totalSupply() == token.cap()


def test_burn_makes_room_under_the_cap(token, admin, alice):
    token.transfer(alice, to_wei(10), sender=admin)
    before = token.totalSupply()
    token.burn(to_wei(4), sender=alice)
    assert token.totalSupply() == before - to_wei(4)
    assert token.balanceOf(alice) == to_wei(6)


def test_permit_sets_allowance_once_and_cannot_be_replayed(token, chain, bob):
    owner = Account.create()
    deadline = chain.pending_timestamp + 3_600
    value = to_wei(7)
    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Permit",
        "domain": {
            "name": "Compute Token",
            "version": "1",
            "chainId": chain.chain_id,
            "verifyingContract": token.address,
        },
        "message": {"owner": owner.address, "spender": bob.address, "value": value, "nonce": 0, "deadline": deadline},
    }
    sig = Account.sign_message(encode_typed_data(full_message=typed), owner.key)
    token.permit(
        owner.address, bob, value, deadline, sig.v, sig.r.to_bytes(32, "big"), sig.s.to_bytes(32, "big"), sender=bob
    )
    assert token.allowance(owner.address, bob) == value
    assert token.nonces(owner.address) == 1
    with ape.reverts(token.ERC2612InvalidSigner):
        token.permit(
            owner.address, bob, value, deadline, sig.v, sig.r.to_bytes(32, "big"), sig.s.to_bytes(32, "big"), sender=bob
        )


def test_the_token_has_no_votes(token):
    """No ERC20Votes (SPEC §1: nothing in the protocol votes): the ABI has no delegation, votes,
    checkpoints or clock, so no mint or burn pays for a checkpoint."""
    abi = token.contract_type.abi
    functions = {item.name for item in abi if item.type == "function"}
    events = {item.name for item in abi if item.type == "event"}
    votes = {
        "delegate",
        "delegateBySig",
        "delegates",
        "getVotes",
        "getPastVotes",
        "getPastTotalSupply",
        "numCheckpoints",
        "checkpoints",
        "clock",
        "CLOCK_MODE",
    }
    assert votes.isdisjoint(functions)
    assert {"DelegateChanged", "DelegateVotesChanged"}.isdisjoint(events)
    assert {"transfer", "permit", "burnFrom", "mint", "cap"} <= functions  # the ABI was read
