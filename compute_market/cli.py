"""Shared plumbing of the `ape run market` commands: options, the client, output."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click
from ape import project
from ape.cli import ConnectedProviderCommand, account_option, network_option

from compute_market.client import MarketClient
from compute_market.deployment import Protocol
from compute_market.errors import MarketError


def emit(data: Any, as_json: bool) -> None:
    """Prints `data` as JSON, or as an aligned table (list of dicts) or key/value lines (dict)."""
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
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


def market_command(group: click.Group, name: str) -> Callable[[Callable[..., Any]], click.Command]:
    """Registers `fn(client, as_json, **options)` as a subcommand connected to a network, with
    `--network`, `--account`, `--deployment` and `--json`; reverts print the custom error."""

    def decorator(fn: Callable[..., Any]) -> click.Command:
        @group.command(name=name, cls=ConnectedProviderCommand, help=fn.__doc__)
        @network_option()
        @account_option()
        @click.option(
            "--deployment",
            type=click.Path(path_type=Path),
            default=None,
            help="Deployment record (default: deployments/<chain-id>.json).",
        )
        @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
        @wraps(fn)
        def command(account: Any, deployment: Path | None, as_json: bool, **kwargs: Any) -> None:
            client = MarketClient(Protocol.load(project, deployment), account)
            try:
                fn(client, as_json, **kwargs)
            except MarketError as err:
                if as_json:
                    click.echo(json.dumps(err.as_dict()))
                else:
                    click.echo(f"refused: {err}", err=True)
                raise SystemExit(1) from err

        return command

    return decorator
