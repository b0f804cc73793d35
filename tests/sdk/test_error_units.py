"""Refusals in human units: a contract's custom error decoded from raw revert data shows its
amounts in CMP or CRD per GPU-hour, its times in UTC, its enums and parameter names by name
(the raw values stay in `args_` and in ``--json``'s ``args``)."""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak

from compute_market.errors import MarketError, decode_revert_data
from compute_market.units import bytes32, to_wei


def revert_data(signature: str, types: list[str], values: list) -> bytes:
    return keccak(text=signature)[:4] + encode(types, values)


def test_amounts_times_enums_and_names_are_shown_in_human_units():
    stake = decode_revert_data(revert_data("NotEnoughFreeStake(uint256,uint256)", ["uint256"] * 2, [0, to_wei(250)]))
    assert str(stake) == "NotEnoughFreeStake(have=0 CMP, need=250 CMP)"
    assert stake.args_ == {"have": 0, "need": to_wei(250)}
    bid = decode_revert_data(revert_data("BidAboveMaxPrice(uint256,uint256)", ["uint256"] * 2, [to_wei(3), to_wei(2)]))
    assert str(bid) == "BidAboveMaxPrice(price=3 CRD/GPU-h, maxPrice=2 CRD/GPU-h)"
    unbonding = decode_revert_data(revert_data("UnbondingNotOver(uint256)", ["uint256"], [1_893_456_000]))
    assert str(unbonding) == "UnbondingNotOver(unbondingEnd=2030-01-01T00:00:00Z)"
    status = decode_revert_data(revert_data("WrongStatus(uint256,uint8)", ["uint256", "uint8"], [7, 4]))
    assert str(status) == "WrongStatus(jobId=7, status=SETTLED)"
    bounds = decode_revert_data(
        revert_data(
            "ParameterOutOfBounds(bytes32,uint256,uint256,uint256)",
            ["bytes32", "uint256", "uint256", "uint256"],
            [bytes32("unbondingPeriod"), 86_400, 432_001, 5_184_000],
        )
    )
    assert str(bounds).startswith("ParameterOutOfBounds(name=unbondingPeriod, value=86400,")
    stale = decode_revert_data(revert_data("StalePrice(uint256,uint256)", ["uint256"] * 2, [1_893_456_000, 3_600]))
    assert str(stale) == "StalePrice(updatedAt=2030-01-01T00:00:00Z, maxAge=3600 s)"


def test_an_erc20_error_shows_decimal_amounts_without_guessing_the_token():
    sender = "0x" + "11" * 20
    data = revert_data(
        "ERC20InsufficientBalance(address,uint256,uint256)",
        ["address", "uint256", "uint256"],
        [sender, to_wei("12.5"), to_wei(40)],
    )
    refused = decode_revert_data(data)
    assert refused is not None
    assert refused.shown["balance"] == "12.5" and refused.shown["needed"] == "40"
    assert refused.as_dict()["args"]["needed"] == str(to_wei(40))  # raw for machines


def test_an_error_without_units_has_no_shown_copy():
    plain = MarketError("UnknownJob", {"jobId": 999})
    assert str(plain) == "UnknownJob(jobId=999)"
    assert plain.as_dict() == {"error": "UnknownJob", "args": {"jobId": "999"}}


def test_the_offer_and_provision_errors_show_cmp_gpus_and_the_gpu_model():
    """The market's offer errors and the ledger's provision errors: provisions and locks in CMP,
    GPUs as counts, the model by name."""
    cases = [
        ("NotEnoughProvision(uint256,uint256)", [to_wei(10), to_wei("210.5")], "have=10 CMP, need=210.5 CMP"),
        ("OfferInUse(uint256,uint256)", [to_wei(200), 2], "locked=200 CMP, reserved=2"),
        ("InsufficientCapacity(uint256,uint256)", [2, 4], "available=2, requested=4"),
        ("StillProvisioned(uint256)", [to_wei(300)], "provisioned=300 CMP"),
        ("ProvisionExceeded(uint256,uint256)", [to_wei(5), to_wei(7)], "provisioned=5 CMP, requested=7 CMP"),
    ]
    for signature, values, shown in cases:
        types = signature[signature.index("(") + 1 : -1].split(",")
        refused = decode_revert_data(revert_data(signature, types, values))
        assert str(refused) == f"{signature.split('(')[0]}({shown})"
    model = decode_revert_data(revert_data("GpuModelNotOffered(bytes32)", ["bytes32"], [bytes32("H100-80GB")]))
    assert str(model) == "GpuModelNotOffered(gpuModel=H100-80GB)"
    assert model.args_ == {"gpuModel": "0x" + bytes32("H100-80GB").hex()}  # raw for machines
    assert str(decode_revert_data(revert_data("InvalidOffer()", [], []))) == "InvalidOffer()"
