"""`ape.reverts(SomeError)` made strict: the revert must be that error, with those inputs.

Ape (0.8) checks an expected custom error only when it decoded the revert into a custom error of a
contract *instance*: a revert it could not decode (another contract's error bubbling up through
the called one, or a view call's) passes whatever error was expected, and so does any custom error
when the expected class comes from a contract *type* (`project.JobMarket.WrongStatus`). `install()`
(called by tests/conftest.py) wraps `RevertsContextManager.__exit__` so that in both cases the
revert's selector must be the expected error's, and the inputs named in `ape.reverts(Error, **inputs)`
must match the decoded arguments.
"""

from __future__ import annotations

import re
from types import TracebackType
from typing import Any

from ape.exceptions import ContractLogicError, CustomError
from ape.pytest.contextmanagers import RevertsContextManager
from eth_abi.abi import decode
from eth_utils.crypto import keccak

_UNDECODED = re.compile(r"custom error 0x([0-9a-fA-F]{8}):? ?(.*)", re.DOTALL)
_HEX = re.compile(r"(?:0x)?([0-9a-fA-F]{2})*")


def revert_data(error: ContractLogicError) -> tuple[bytes, bool]:
    """The revert data of an error ape did not decode, and whether it is exact. Anvil reports it
    as "0x<data>", or as "custom error 0x<selector>: <arguments>" with the arguments in hex or as
    text (UTF-8, lossy: bytes that are no UTF-8 come back as U+FFFD, and then only the selector
    is exact)."""
    message = str(error.revert_message or "")
    match = _UNDECODED.fullmatch(message)
    if not match:
        return (bytes.fromhex(message.removeprefix("0x")), True) if _HEX.fullmatch(message) else (b"", True)
    selector, arguments = bytes.fromhex(match[1]), match[2]
    if _HEX.fullmatch(arguments):
        return selector + bytes.fromhex(arguments.removeprefix("0x")), True
    return selector + arguments.encode("utf-8"), "\ufffd" not in arguments


def _selector(error_cls: Any) -> bytes:
    return keccak(text=error_cls.abi.selector)[:4]


def check(expected: Any, error: BaseException | None, inputs: dict[str, Any]) -> None:
    """Raises AssertionError unless `error` is the custom error `expected` with `inputs`."""
    if not (isinstance(expected, type) and issubclass(expected, CustomError)):
        return  # a message, a pattern or nothing was expected: ape's own check stands
    if not isinstance(error, ContractLogicError):
        return  # ape reported it already
    name = expected.__name__
    if isinstance(error, CustomError):
        if _selector(type(error)) != _selector(expected):
            raise AssertionError(f"Expected error '{name}' but was '{type(error).__name__}'")
        unknown = sorted(set(inputs) - set(error.inputs))  # ape skips names the error does not have
        if unknown:
            raise AssertionError(f"'{name}' has no inputs named {unknown}")
        return  # decoded: ape compared the inputs
    data, exact = revert_data(error)
    if data[:4] != _selector(expected):
        raise AssertionError(f"Expected error '{name}' but the revert was {error.revert_message!r}")
    if not inputs:
        return
    if not exact:
        raise AssertionError(f"'{name}': its arguments came back lossy: {error.revert_message!r}")
    names = [i.name for i in expected.abi.inputs]
    values = dict(zip(names, decode([i.canonical_type for i in expected.abi.inputs], data[4:]), strict=True))
    unknown = sorted(set(inputs) - set(names))
    if unknown:
        raise AssertionError(f"'{name}' has no inputs named {unknown}")
    wrong = [f"{key}: expected {want!r}, was {values[key]!r}" for key, want in inputs.items() if values[key] != want]
    if wrong:
        raise AssertionError(f"'{name}' with other inputs: " + "; ".join(wrong))


def install() -> None:
    """Wraps ape's `RevertsContextManager.__exit__` with `check` (once)."""
    original = RevertsContextManager.__exit__
    if getattr(original, "_strict", False):
        return

    def strict_exit(
        self: RevertsContextManager,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        handled = original(self, exc_type, exc_value, traceback)
        check(self.expected_message, exc_value, dict(self.error_inputs or {}))
        return handled

    strict_exit._strict = True  # type: ignore[attr-defined]
    RevertsContextManager.__exit__ = strict_exit  # type: ignore[method-assign]
