"""DisputeResolver: conservation of bonds, slashes and fees.

Setting: CMP at 2.50 USD; a verified job of 2 GPUs for 10 hours won at 1.10 CRD per GPU-hour
(lease value 22 CRD; collateral 30% of the 40 CRD lease value at the 2 CRD max price: 4.8 CMP);
nine verifiers with 1,000 CMP each; the challenge bond is 10 CRD; finder's share 20% and jury
reward 10% of a slashed collateral; a whistleblower's jackpot 50% of the contradicted verifier's
slash (at most the collateral, the rest burned); juror penalty 5%, verifier slash 10%.
"""

from __future__ import annotations

from utils.dispute_resolver import challenge_and_draw_a_split_jury, crd, vote_all
from utils.helpers import claim_jury_rewards

from compute_market.units import to_wei


def test_bonds_slashes_and_fees_in_equal_out_to_the_wei(
    resolver, market, registry, token, credits, chain, result_job, customer, provider, verifiers, admin
):
    parties = [customer, provider, *verifiers.values(), market.treasury()]
    cmp_before = {str(p): token.balanceOf(p) for p in parties}
    crd_before = {str(p): credits.balanceOf(p) for p in parties}
    supply_before = token.totalSupply()
    staked_before = sum(registry.verifierOf(v).staked for v in verifiers)
    seats = challenge_and_draw_a_split_jury(resolver, chain, registry, result_job, customer)
    absent = min(seats, key=seats.__getitem__)  # one or two seats: the others hold a majority
    assert seats[absent] <= 2
    vote_all(resolver, chain, result_job, [absent, *(j for j in seats if j != absent)], verifiers, fault=True, skip=1)
    resolver.resolve(result_job, sender=customer)
    claim_jury_rewards(resolver, result_job, verifiers)
    # CMP: what the provider lost plus what verifiers lost equals what everyone gained plus burns.
    provider_loss = to_wei(10_000) - registry.stakeOf(provider)
    verifier_loss = staked_before - sum(registry.verifierOf(v).staked for v in verifiers)
    gains = sum(token.balanceOf(p) - cmp_before[str(p)] for p in parties)
    burned = supply_before - token.totalSupply()
    assert provider_loss + verifier_loss == gains + burned
    # The staking ledger holds exactly the stake of the provider and the verifiers; the resolver none.
    ledger = registry.stakeOf(provider) + sum(registry.verifierOf(v).staked for v in verifiers)
    assert (token.balanceOf(registry), token.balanceOf(resolver)) == (ledger, 0)
    # CRD: the market and the resolver hold nothing; the customer got escrow and bond back.
    assert credits.balanceOf(resolver) == 0 and credits.balanceOf(market) == market.feesAccrued()
    # 22 CRD of lease and the 2 CRD verification fee nobody earned (no verifier was drawn).
    assert sum(credits.balanceOf(p) - crd_before[str(p)] for p in parties) == crd(24)
