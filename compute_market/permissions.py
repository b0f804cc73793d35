"""The protocol's permission map: every function that not everyone may call, in one table.

Each row names a contract, its gated functions, the gate (an OpenZeppelin role, or a check that
the caller is one peer contract) and who holds it after `ape run deploy`. The contracts keep
their own checks (roles per contract, peer addresses); this table is the one place that says who
may do what across all of them, and the tests hold the two together:

- every `onlyRole`, `onlyResolver`, `onlyDelegated` and `onlyOwner` function in `contracts/` is
  in the table with the same gate (read from the sources), and every inline caller check listed
  here exists;
- every function in the table refuses a stranger with its gate's own error, naming its role;
- after a deployment, and after `--timelock-delay`'s hand-over, each role is held by exactly the
  holders the table names (read from the contracts' `RoleGranted` and `RoleRevoked` logs).

`python -m compute_market.permissions` prints it as Markdown (docs/permissions.md is that output).
"""

from __future__ import annotations

from dataclasses import dataclass

# Holders. Governance is the deployer until `--timelock-delay` moves it to the timelock; the
# guardian (the pauser) stays with the deployer, who can stop new business at once.
GOVERNANCE = "governance"
GUARDIAN = "guardian"
DEPLOYER = "deployer"

ADMIN = "DEFAULT_ADMIN_ROLE"
PAUSER = "PAUSER_ROLE"


@dataclass(frozen=True)
class Gate:
    """Who may call: holders of ``role``, or (``role`` empty) the one ``peer`` a check compares
    the caller with, refusing others with ``error``."""

    role: str
    error: str
    peer: str = ""

    def describe(self) -> str:
        return f"`{self.role}`" if self.role else f"caller is {self.peer} (`{self.error}`)"


def role(name: str) -> Gate:
    return Gate(name, "AccessControlUnauthorizedAccount")


@dataclass(frozen=True)
class Permission:
    """``functions`` of ``contract`` (a `Protocol` field, or ``auctions`` / ``vrf_adapter``)
    behind ``gate``, held by ``holders`` (contract fields, or GOVERNANCE, GUARDIAN, DEPLOYER)."""

    contract: str
    functions: tuple[str, ...]
    gate: Gate
    holders: tuple[str, ...]
    why: str


GOVERNED = ("credits", "registry", "auctions", "market", "resolver", "rewards")
"""Contracts built on `Governed` (roles, pause); `token` has roles but no pause."""

_ROLE_ADMIN = tuple(
    Permission(c, ("grantRole", "revokeRole"), role(ADMIN), (GOVERNANCE,), "grants and revokes every role")
    for c in ("token", *GOVERNED)
)
_PAUSE = tuple(
    Permission(c, ("pause", "unpause"), role(PAUSER), (GUARDIAN,), "stops new business; every exit stays open")
    for c in GOVERNED
)

PERMISSIONS: tuple[Permission, ...] = (
    *_ROLE_ADMIN,
    *_PAUSE,
    Permission("token", ("mint",), role("MINTER_ROLE"), ("credits", "rewards"), "CMP for redemptions and emissions"),
    Permission(
        "credits",
        (
            "setProtocolContract",
            "setPriceFeed",
            "setMintSpreadBps",
            "setRedeemSpreadBps",
            "setMaxPriceJumpBps",
            "setMaxPriceAge",
            "setEpochLength",
            "setRedeemCapPerEpoch",
        ),
        role(ADMIN),
        (GOVERNANCE,),
        "the oracle, spreads, caps and the protocol contracts credits may reach",
    ),
    Permission(
        "registry",
        ("provision",),
        role("MARKET_ROLE"),
        ("market",),
        "stake moved into and out of a provider's provision as it sets its offers",
    ),
    Permission("registry", ("slash",), role("MARKET_ROLE"), ("market",), "lapsed sealed-bid bonds, from the provision"),
    Permission(
        "registry",
        ("recordOutcome",),
        role("MARKET_ROLE"),
        ("market",),
        "each job's outcome: reputation, and a failed job's collateral slashed from the provision",
    ),
    Permission(
        "registry",
        ("setResolver", "setRandomness", "setDrawDelay", "setUnbondingPeriod"),
        role(ADMIN),
        (GOVERNANCE,),
        "draws and unbonding",
    ),
    Permission(
        "registry",
        ("requestDraw", "slashVerifier"),
        Gate("", "NotResolver", "the ledger's `resolver`"),
        ("resolver",),
        "queues draws, penalises verifiers and jurors",
    ),
    Permission(
        "registry",
        ("takeStakeRewards",),
        Gate("", "NotRewards", "the ledger's `rewards`"),
        ("rewards",),
        "releases the stake-reward share an account earned",
    ),
    Permission(
        "market",
        ("openDispute", "resolveDispute"),
        role("RESOLVER_ROLE"),
        ("resolver",),
        "a challenged result and its verdict",
    ),
    Permission(
        "market",
        (
            "setTreasury",
            "setResolver",
            "setVerificationFeeBps",
            "setProtocolFeeBps",
            "setCollateralBps",
            "setMinDecrementBps",
            "setKeeperBountyBps",
            "setTargetBidsPerJob",
            "setResultGrace",
            "setChallengeWindow",
            "setRevealPeriod",
            "setMaxBiddingPeriod",
            "setMaxDuration",
            "setMinStakePerGpu",
            "setBidBond",
        ),
        role(ADMIN),
        (GOVERNANCE,),
        "fees, collateral, windows and the treasury (a running job keeps its money terms)",
    ),
    Permission(
        "auctions",
        ("cancelJob", "setOffer", "placeBid", "commitBid", "revealBid", "settleCommitment"),
        Gate("", "NotDelegated", "the market, running the module's code by DELEGATECALL"),
        ("market",),
        "the module refuses direct calls; the market's entry points are open to all",
    ),
    Permission("resolver", ("arbitrate",), role("ARBITER_ROLE"), (GOVERNANCE,), "appeals and juries that never form"),
    Permission(
        "resolver",
        (
            "setChallengeBond",
            "setJurySize",
            "setAttestWindow",
            "setVoteCommitPeriod",
            "setVoteRevealPeriod",
            "setAppealWindow",
            "setJurorPenaltyBps",
            "setSeatStake",
            "setAbsencePenaltyBps",
            "setVerifierSlashBps",
            "setShares",
        ),
        role(ADMIN),
        (GOVERNANCE,),
        "bonds, juries, windows, penalties and shares",
    ),
    Permission(
        "resolver",
        ("completeDraw",),
        Gate("", "NotLedger", "the resolver's `registry`"),
        ("registry",),
        "the ledger's callback with a draw's seed",
    ),
    Permission("rewards", ("recordWork",), role("MARKET_ROLE"), ("market",), "each settled lease's credits and fee"),
    Permission("rewards", ("recordVerification",), role("RESOLVER_ROLE"), ("resolver",), "each approval"),
    Permission(
        "rewards", ("setSchedule", "setLedger"), role(ADMIN), (GOVERNANCE,), "the emission schedule and the ledger"
    ),
    Permission(
        "price_feed",
        ("setAnswer", "setRoundData", "transferOwnership", "renounceOwnership"),
        Gate("", "OwnableUnauthorizedAccount", "the mock feed's owner"),
        (DEPLOYER,),
        "the mock feed of a local deployment (a testnet uses its real feed, `--price-feed`)",
    ),
)


def rows() -> list[tuple[str, str, str, str, str]]:
    """(contract, function, gate, holders, why) for every gated function, in table order."""
    return [(p.contract, f, p.gate.describe(), ", ".join(p.holders), p.why) for p in PERMISSIONS for f in p.functions]


def markdown() -> str:
    head = [
        "# Who may call what",
        "",
        "Generated by `python -m compute_market.permissions` from `compute_market/permissions.py`; the",
        "tests hold it to the contracts (tests/sdk/test_permissions.py). Holders: *governance* is the",
        "deployer until `ape run deploy --timelock-delay` moves it to the timelock; the *guardian* (the",
        "pauser) stays with the deployer; a contract name means that contract of the deployment. Every",
        "function not listed here is open to everyone, or to the parties the call itself names (a job's",
        "customer cancels it, its provider submits the result, a drawn verifier attests, a juror votes):",
        "the market's entry points, deadlines and claims. Not in the table: the timelock's own roles",
        "(the deployer proposes and cancels, anyone executes, the timelock administers itself) and the",
        "VRF adapter, deployed only with `--vrf-*`, which takes requests only from the ledger",
        "(`NotConsumer`) and random words only from its coordinator.",
        "",
        "| contract | function | gate | held by | what it controls |",
        "|---|---|---|---|---|",
    ]
    body = [f"| {c} | `{f}` | {g} | {h} | {w} |" for c, f, g, h, w in rows()]
    return "\n".join([*head, *body]) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
