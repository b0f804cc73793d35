"""The arguments of a contract's custom error in human units, for the one-line CLI refusal.

The contracts' errors carry raw values: 18-decimal amounts in wei, Unix times, enums as integers,
short names as bytes32. `shown` renders them as the rest of the CLI does (`history`, `status`):
amounts as decimals with their token where the error says which (``NotEnoughFreeStake(have=0
CMP, need=250 CMP)``; an ERC-20 error does not say which token, so its amounts are decimals
alone), times as UTC ISO 8601, enums by name, parameter names as text. The raw values stay in
`MarketError.args_` and in the ``args`` of ``--json``.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from compute_market.models import Attestation, AuctionKind, DisputeStatus, EntryKind, JobStatus, Outcome
from compute_market.units import from_bytes32, from_wei, utc

ENUMS: dict[str, type[IntEnum]] = {
    e.__name__: e for e in (JobStatus, AuctionKind, EntryKind, Outcome, DisputeStatus, Attestation)
}
# bytes32 names: a parameter's (`ParameterOutOfBounds`), a job spec's field, a GPU model (`GpuModelNotOffered`)
NAMES = frozenset({"name", "field", "gpuModel"})
TIMES = frozenset(
    {
        "unbondingEnd",
        "deadline",
        "appealEnd",
        "commitEnd",
        "revealEnd",
        "challengeEnd",
        "biddingEnd",
        "until",
        "leaseEnd",
        "opensAt",
        "closesAt",
        "updatedAt",
    }
)
CMP, CRD_PER_GPU_HOUR, TOKENS = "CMP", "CRD/GPU-h", ""
# Errors whose 18-decimal amounts are in a known token: error name -> {argument: unit}.
AMOUNTS: dict[str, dict[str, str]] = {
    "NotEnoughFreeStake": {"have": CMP, "need": CMP},
    "NotEnoughActiveStake": {"have": CMP, "need": CMP},
    "NotEnoughProvision": {"have": CMP, "need": CMP},
    "OfferInUse": {"locked": CMP},  # and `reserved`, a count of GPUs
    "StillProvisioned": {"provisioned": CMP},
    "ProvisionExceeded": {"provisioned": CMP, "requested": CMP},
    "RedeemCapExceeded": {"requested": CMP, "remaining": CMP},
    "EmissionCapExceeded": {"committed": CMP, "cap": CMP},
    "BidAboveMaxPrice": {"price": CRD_PER_GPU_HOUR, "maxPrice": CRD_PER_GPU_HOUR},
    "BidNotLowEnough": {"price": CRD_PER_GPU_HOUR, "maxAllowed": CRD_PER_GPU_HOUR},
    # Both tokens have 18 decimals; these errors do not say which token.
    "ERC20InsufficientBalance": {"balance": TOKENS, "needed": TOKENS},
    "ERC20InsufficientAllowance": {"allowance": TOKENS, "needed": TOKENS},
    "ERC20ExceededCap": {"increasedSupply": CMP, "cap": CMP},
    "SlippageExceeded": {"out": TOKENS, "minOut": TOKENS},
}
SECONDS = frozenset({"maxAge", "delay", "minDelay"})


def shown_value(error: str, name: str, value: Any, internal_type: str = "") -> str:
    """One argument of `error` in human units (see the module docstring)."""
    enum = ENUMS.get(internal_type.rsplit(".", 1)[-1]) if internal_type.startswith("enum ") else None
    if enum is not None and isinstance(value, int):
        try:
            return enum(value).name
        except ValueError:
            return str(value)
    unit = AMOUNTS.get(error, {}).get(name)
    if unit is not None and isinstance(value, int):
        amount = format(from_wei(value), "f")  # no exponent: 0.000000000000000005, not 5E-18
        return f"{amount} {unit}" if unit else amount
    if name in TIMES and isinstance(value, int) and value > 0:
        return utc(value)
    if name in SECONDS and isinstance(value, int):
        return f"{value} s"
    if name in NAMES and isinstance(value, str) and value.startswith("0x") and len(value) == 66:
        value = bytes.fromhex(value[2:])  # a parameter's or a field's name, already shown as hex
    if isinstance(value, bytes | bytearray) and len(value) == 32 and name in NAMES:
        try:
            return from_bytes32(value)
        except UnicodeDecodeError:
            return "0x" + bytes(value).hex()
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    return str(value)


def shown(error: str, args: dict[str, Any], internal_types: dict[str, str] | None = None) -> dict[str, str]:
    """Every argument of `error` in human units."""
    types = internal_types or {}
    return {name: shown_value(error, name, value, types.get(name, "")) for name, value in args.items()}
