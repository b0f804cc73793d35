"""Shared plumbing of the `ape run market` and `ape run agent` commands: parameter types that
refuse bad input in one line, keyfile accounts signing headless, the client, output (with
``--json``, stdout carries only JSON) and the confirmation asked before value moves."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from decimal import ROUND_DOWN, Decimal, InvalidOperation, localcontext
from functools import cache, wraps
from pathlib import Path
from typing import Any, TextIO

import click
from ape import project
from ape.api import AccountAPI
from ape.cli import ConnectedProviderCommand, account_option, network_option
from ape_accounts import KeyfileAccount
from ape_accounts.accounts import InvalidPasswordError
from eth_utils.address import is_address, to_checksum_address

from compute_market.client import MarketClient
from compute_market.deployment import Protocol
from compute_market.errors import MarketError
from compute_market.models import JobStatus, JobView
from compute_market.units import FEED_DECIMALS, HOUR, WAD
from compute_market.workloads import Manifest, ManifestError, load_manifest

UINT16 = 2**16 - 1
UINT32 = 2**32 - 1
UINT96 = 2**96 - 1
UINT64 = 2**64 - 1
UINT128 = 2**128 - 1
INT256 = 2**255 - 1
UINT256 = 2**256 - 1

# ---------------------------------------------------------------------- parameter types


class DecimalType(click.ParamType):
    """A decimal number: finite, not negative (positive unless `allow_zero`), and, when the
    contract stores it as an integer count of 1/`unit` (wei, seconds…), a whole number of those
    and at most `limit` of them (what the on-chain integer type holds)."""

    name = "decimal"

    def __init__(
        self, *, allow_zero: bool = False, unit: int = 1, limit: int | None = None, unit_name: str = ""
    ) -> None:
        self.allow_zero = allow_zero
        self.unit = unit
        self.limit = limit
        self.unit_name = unit_name

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Decimal:
        number = self._parse(value, param, ctx)
        if number < 0 or (number == 0 and not self.allow_zero):
            self.fail(f"{value} is not {'zero or more' if self.allow_zero else 'more than zero'}", param, ctx)
        with localcontext(prec=120):  # exact: 2**256 has 78 digits
            units = number * self.unit
            largest = f"{(Decimal(self.limit or 0) / self.unit).quantize(Decimal('0.0001'), ROUND_DOWN).normalize():f}"
        if self.unit_name and units != units.to_integral_value():
            self.fail(f"{value} is not a whole number of {self.unit_name}", param, ctx)
        if self.limit is not None and units > self.limit:
            self.fail(f"{value} is more than the contract holds (at most {largest})", param, ctx)
        return number

    def _parse(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Decimal:
        if isinstance(value, Decimal):
            number = value
        else:
            try:
                number = Decimal(str(value).strip())
            except InvalidOperation:
                self.fail(f"{value!r} is not a number", param, ctx)
        if not number.is_finite():
            self.fail(f"{value} is not a finite number", param, ctx)
        return number


CMP = DecimalType(unit=WAD, limit=UINT256, unit_name="wei")  # token and credit amounts (uint256)
CMP_OR_ZERO = DecimalType(allow_zero=True, unit=WAD, limit=UINT256, unit_name="wei")
PROVISION = DecimalType(allow_zero=True, unit=WAD, limit=UINT96, unit_name="wei")  # an offer's (uint96)
PRICE = DecimalType(unit=WAD, limit=UINT128, unit_name="wei")  # USD per GPU-hour (uint128)
USD_FEED = DecimalType(unit=10**FEED_DECIMALS, limit=INT256, unit_name="1e-8 USD")  # oracle answer
HOURS = DecimalType(unit=HOUR, limit=UINT64, unit_name="seconds")  # durations (uint64 seconds)
POSITIVE = DecimalType()  # off-chain figures (cost model)
NON_NEGATIVE = DecimalType(allow_zero=True)


class UintRange(click.IntRange):
    """An integer in ``[low, high]``, the bound named by its Solidity type in errors."""

    def __init__(self, low: int, high: int, high_name: str) -> None:
        super().__init__(low, high)
        self.high_name = high_name

    def _describe_range(self) -> str:
        return f"{self.min}<=x<={self.high_name}"


JOB_ID = UintRange(1, UINT256, "2**256-1")
GPU_COUNT = UintRange(1, UINT32, "2**32-1")
COUNT = UintRange(0, UINT32, "2**32-1")
OFFER_GPUS = UintRange(0, UINT16, "65535")  # an offer's GPUs (uint16; 0 withdraws the model)
AGENT_GPUS = UintRange(1, UINT16, "65535")  # the GPUs an agent offers
BPS = UintRange(0, 10_000, "10000")
SECONDS = UintRange(1, UINT32, "2**32-1")
QUEUE_ENTRIES = UintRange(1, 1_000, "1000")  # processDraws(maxEntries), one transaction's worth


class Bytes32Type(click.ParamType):
    """32 bytes as hex (``0x`` optional, at most 64 digits), left-padded with zeros."""

    name = "bytes32"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> bytes:
        if isinstance(value, bytes):
            return value
        digits = str(value).strip().removeprefix("0x")
        try:
            raw = bytes.fromhex(digits)
        except ValueError:
            self.fail(f"{value!r} is not hex", param, ctx)
        if len(raw) > 32:
            self.fail(f"{value!r} is longer than 32 bytes", param, ctx)
        return raw.rjust(32, b"\0")


BYTES32 = Bytes32Type()


class InputError(click.UsageError):
    """Bad input found once the options are parsed (options that must go together, or one
    that rules another out): exit 2 with one ``Error: …`` line, without the usage text click
    adds to a usage error raised inside a command."""

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True, file=file)


class ManifestFile(click.ParamType):
    """A workload manifest file (docs/workloads.md), checked by the strict loader: the
    `Manifest`, or one line naming what is wrong."""

    name = "manifest"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Manifest:
        if isinstance(value, Manifest):
            return value
        try:
            return load_manifest(Path(str(value)).read_bytes())
        except OSError as err:
            self.fail(f"cannot read {value}: {err.strerror}", param, ctx)
        except ManifestError as err:
            self.fail(f"{value}: {err}", param, ctx)


MANIFEST = ManifestFile()


class AddressType(click.ParamType):
    """A 20-byte hex address (a mixed-case one must carry a valid EIP-55 checksum)."""

    name = "address"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if not is_address(str(value)):
            self.fail(f"{value!r} is not an address (0x and 40 hex digits, checksum if mixed-case)", param, ctx)
        return to_checksum_address(str(value))


ADDRESS = AddressType()


@cache
def catalog_models() -> tuple[str, ...]:
    """The GPU model names of data/gpu_catalog.json."""
    from compute_market.simulation.config import Catalog

    return tuple(Catalog.load().models)


class GpuModelType(click.Choice):
    """A GPU model of the catalog (any case; the catalog's spelling is what goes on chain)."""

    name = "gpu"

    def __init__(self) -> None:
        super().__init__(catalog_models(), case_sensitive=False)


GPU_MODEL = GpuModelType()

# ---------------------------------------------------------------------- accounts


def passphrase_variable(account: KeyfileAccount) -> str:
    """The environment variable Ape reads a keyfile account's passphrase from."""
    return f"APE_ACCOUNTS_{account.alias}_PASSPHRASE"


class _CachedKeyNotice(logging.Filter):
    """Drops Ape's "Using cached key" warning, logged on every signature once autosign is on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Using cached key for")


_CACHED_KEY_NOTICE = _CachedKeyNotice()


def enable_autosign(account: AccountAPI, *, headless: bool) -> None:
    """Lets a keyfile account sign without prompting when its passphrase is in the environment
    (``APE_ACCOUNTS_<alias>_PASSPHRASE``). Without it, a headless command refuses to start (it
    would stop at ``Sign: [y/N]``); an interactive one keeps Ape's prompts. Other accounts
    (test accounts, hardware wallets) are left as they are."""
    if not isinstance(account, KeyfileAccount):
        return
    variable = passphrase_variable(account)
    passphrase = os.environ.get(variable)
    if not passphrase:
        if headless:
            raise click.ClickException(f"account '{account.alias}' is a keyfile: set {variable} to sign headless")
        return
    try:
        account.set_autosign(True, passphrase=passphrase)
    except InvalidPasswordError as err:
        raise click.ClickException(f"{variable} is not the passphrase of account '{account.alias}'") from err
    logging.getLogger("ape").addFilter(_CACHED_KEY_NOTICE)  # once: the same filter object


def load_client(account: AccountAPI, deployment: Path | None, *, headless: bool) -> MarketClient:
    """The client of `account` on the recorded deployment; a missing or foreign record is a
    one-line error."""
    enable_autosign(account, headless=headless)
    try:
        protocol = Protocol.load(project, deployment)
    except (FileNotFoundError, ValueError) as err:
        raise click.ClickException(str(err)) from err
    return MarketClient(protocol, account)


def require_job(client: MarketClient, job_id: int) -> JobView:
    """The job `job_id`; refuses a job id the market never issued (the contract's own ``UnknownJob``)."""
    job = client.job(job_id)
    if job.status == JobStatus.NONE:
        raise MarketError("UnknownJob", {"jobId": job_id})
    return job


# ---------------------------------------------------------------------- output

_json_out: list[TextIO] = []  # where `emit` writes JSON while a --json command runs


@contextmanager
def json_stdout() -> Iterator[None]:
    """While it lasts, stdout carries only what `emit` writes as JSON; everything else written
    to stdout (Ape's log lines, revert call traces, prompts) goes to stderr. When stdout is a
    real file descriptor it is re-pointed at stderr, which also catches writers that kept a
    reference to the original stream (Ape's trace printer does)."""
    stdout = sys.stdout
    stdout.flush()
    try:
        fd: int | None = stdout.fileno()
    except (AttributeError, OSError, ValueError):  # an in-memory stream (click's CliRunner)
        fd = None
    if fd is None:
        out = stdout
    else:
        sys.stderr.flush()
        out = os.fdopen(os.dup(fd), "w")
        os.dup2(sys.stderr.fileno(), fd)
    _json_out.append(out)
    try:
        with redirect_stdout(sys.stderr):
            yield
    finally:
        _json_out.pop()
        sys.stderr.flush()
        stdout.flush()
        if fd is not None:
            out.flush()
            os.dup2(out.fileno(), fd)
            out.close()


def emit_json(data: Any) -> None:
    """Writes `data` as JSON to stdout (the real one, while `json_stdout` lasts)."""
    click.echo(json.dumps(data, indent=2, default=str), file=_json_out[-1] if _json_out else None)


def emit_line(data: Any, as_json: bool) -> None:
    """Prints one record of a stream at once: `data` as compact JSON on one line (JSON Lines),
    or its text (``str(data)``)."""
    if as_json:
        out = _json_out[-1] if _json_out else sys.stdout
        click.echo(json.dumps(data, default=str), file=out)
        out.flush()
    else:
        click.echo(str(data))
        sys.stdout.flush()


def emit(data: Any, as_json: bool) -> None:
    """Prints `data` as JSON, or as an aligned table (list of dicts) or key/value lines (dict)."""
    if as_json:
        emit_json(data)
        return
    if isinstance(data, list):
        if not data:
            click.echo("(none)")
            return
        keys = list(data[0])
        widths = {k: max(len(k), *(len(str(row[k])) for row in data)) for k in keys}
        click.echo("  ".join(k.ljust(widths[k]) for k in keys))
        for row in data:
            click.echo("  ".join(str(row[k]).ljust(widths[k]) for k in keys))
    elif isinstance(data, dict):
        width = max(len(k) for k in data)
        for k, v in data.items():
            click.echo(f"{k.ljust(width)}  {v}")
    else:
        click.echo(str(data))


# ---------------------------------------------------------------------- confirmation

YES_ENV = "COMPUTE_MARKET_YES"  # `--yes` from the environment (1, true, yes)
CANCELLED = "cancelled: nothing sent"


class Cancelled(click.ClickException):
    """The user said no (or nothing) to the confirmation: exit 1 with one line, nothing sent."""

    exit_code = 1

    def __init__(self) -> None:
        super().__init__(CANCELLED)

    def show(self, file: Any = None) -> None:
        click.echo(self.format_message(), err=True, file=file)


class ConfirmationRequired(click.ClickException):
    """A command that moves value, without `--yes`, where nobody can answer the prompt (stdin is
    not a terminal): exit 2 with one line naming the option, nothing sent, instead of hanging."""

    exit_code = 2

    def __init__(self) -> None:
        super().__init__(f"this command moves value; pass --yes (or set {YES_ENV}=1) to confirm without a prompt")


def _interactive() -> bool:
    """Whether someone can answer a prompt: stdin is a terminal (tests replace this)."""
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):  # no stdin, or a closed one
        return False


def amount_text(amount: Decimal) -> str:
    """An amount as people write it: ``24``, ``10.575``, ``0.000001`` (no exponent, no trailing zeros)."""
    return f"{amount.normalize():f}"


def confirm_value(summary: str) -> None:
    """Shows what a command is about to move (one line: what, how much, in CMP or CRD; on stderr
    with ``--json``) and asks ``Proceed? [y/N]``, unless ``--yes`` (or ``COMPUTE_MARKET_YES=1``).
    Call it before the command sends anything, approvals included. A no (or end of input, or
    Ctrl-C) raises `Cancelled` (exit 1); no terminal to ask on raises `ConfirmationRequired`
    (exit 2). Both are JSON errors with ``--json``, and nothing is sent."""
    ctx = click.get_current_context()
    as_json = bool(ctx.params.get("as_json"))
    click.echo(summary, err=as_json)
    if ctx.params.get("yes"):
        return
    if not _interactive():
        raise ConfirmationRequired()
    try:
        proceed = click.confirm("Proceed?", default=False, err=as_json)
    except click.Abort:  # end of input or Ctrl-C at the prompt
        click.echo(err=as_json)  # the refusal's line below the prompt, not after it
        proceed = False
    if not proceed:
        raise Cancelled()


# ---------------------------------------------------------------------- commands


class MarketCommand(ConnectedProviderCommand):
    """A connected command whose bad input is a one-line ``Error: …`` (exit 2), also written as
    JSON with ``--json``, and whose ``--json`` run keeps stdout for JSON alone."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        as_json = "--json" in args  # before click consumes `args`
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as err:
            err = self._negative_argument(err)
            if "\n" in err.format_message():  # a missing choice lists the choices a line each
                err = click.UsageError(" ".join(err.format_message().split()))
            if as_json:
                emit_json({"error": "UsageError", "message": err.format_message()})
            err.ctx = None  # no usage text and no hint: the error line alone
            raise err from None

    def _negative_argument(self, err: click.UsageError) -> click.UsageError:
        """Click takes ``-5`` in an argument's place for an unknown option; say what it is."""
        if not isinstance(err, click.NoSuchOption):
            return err
        try:
            Decimal(err.option_name)
        except InvalidOperation:
            return err
        numeric = (DecimalType, click.IntRange)
        names = [
            p.human_readable_name for p in self.params if isinstance(p, click.Argument) and isinstance(p.type, numeric)
        ]
        hint = " or ".join(f"'{n}'" for n in names) or "an argument"
        return click.UsageError(f"Invalid value for {hint}: {err.option_name} is negative", err.ctx)

    def invoke(self, ctx: click.Context) -> Any:
        if not ctx.params.get("as_json"):
            return super().invoke(ctx)
        with json_stdout():
            try:
                return super().invoke(ctx)
            except click.ClickException as err:
                name = "UsageError" if isinstance(err, click.UsageError) else type(err).__name__
                emit_json({"error": name, "message": err.format_message()})
                raise


def market_command(group: click.Group, name: str) -> Callable[[Callable[..., Any]], click.Command]:
    """Registers `fn(client, as_json, **options)` as a subcommand connected to a network, with
    `--network`, `--account`, `--deployment`, `--json` and `--yes` (read by `confirm_value`, which
    the commands that move value call); reverts print the custom error."""

    def decorator(fn: Callable[..., Any]) -> click.Command:
        @group.command(name=name, cls=MarketCommand, help=fn.__doc__)
        @network_option()
        @account_option()
        @click.option(
            "--deployment",
            type=click.Path(path_type=Path),
            default=None,
            help="Deployment record (default: deployments/<chain-id>.json).",
        )
        @click.option("--json", "as_json", is_flag=True, help="Only JSON on stdout (logs go to stderr), errors too.")
        @click.option(
            "--yes",
            "yes",
            is_flag=True,
            envvar=YES_ENV,
            show_envvar=True,
            help="Move value without asking (a command that sends tokens, credits or stake shows the amount and "
            "asks first; without a terminal it refuses unless --yes).",
        )
        @wraps(fn)
        def command(account: Any, deployment: Path | None, as_json: bool, yes: bool, **kwargs: Any) -> None:
            client = load_client(account, deployment, headless=False)
            try:
                fn(client, as_json, **kwargs)
            except MarketError as err:
                if as_json:
                    emit_json(err.as_dict())
                else:
                    click.echo(f"refused: {err}", err=True)
                raise SystemExit(1) from err

        return command

    return decorator
