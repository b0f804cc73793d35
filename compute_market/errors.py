"""Reverts decoded into the contracts' custom-error names and arguments."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ape.exceptions import ContractLogicError, CustomError


class MarketError(Exception):
    """A transaction or call the protocol refused, with the custom error's name and arguments
    (``NotEnoughFreeStake(have=…, need=…)``), or the revert message when there was no custom error."""

    def __init__(self, name: str, args: dict[str, Any]) -> None:
        self.name = name
        self.args_ = args
        detail = ", ".join(f"{k}={v}" for k, v in args.items())
        super().__init__(f"{name}({detail})")

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.name, "args": {k: str(v) for k, v in self.args_.items()}}


def decode(err: ContractLogicError) -> MarketError:
    """The `MarketError` for an Ape revert."""
    if isinstance(err, CustomError):
        return MarketError(err.name, dict(err.inputs))
    return MarketError("Revert", {"message": str(err)})


@contextmanager
def decoded() -> Iterator[None]:
    """Re-raises any revert inside the block as a `MarketError`."""
    try:
        yield
    except ContractLogicError as err:
        raise decode(err) from err
