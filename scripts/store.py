"""``ape run store``: the project's content-addressed store server (no chain needed).

``PUT /<sha256>`` stores a body whose sha256 is its name, ``GET /<sha256>`` returns it; objects
live in ``--dir``, one file per object named by its hash (docs/workloads.md). No authentication:
serve it on a local or trusted network.

    ape run store --dir .workloads-store --port 8088
"""

from __future__ import annotations

from pathlib import Path

import click

from compute_market.workloads.server import StoreServer
from compute_market.workloads.store import DEFAULT_MAX_BYTES


@click.command()
@click.option(
    "--dir",
    "root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".workloads-store"),
    show_default=True,
    help="Folder of the objects (created if missing).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", type=click.IntRange(0, 65535), default=8088, show_default=True, help="Port (0: a free one).")
@click.option(
    "--max-bytes", type=click.IntRange(1), default=DEFAULT_MAX_BYTES, show_default=True, help="Largest object."
)
@click.option("--verbose", is_flag=True, help="Log every request.")
def cli(root: Path, host: str, port: int, max_bytes: int, verbose: bool) -> None:
    """Serve a content-addressed store over HTTP."""
    server = StoreServer(root, host=host, port=port, max_bytes=max_bytes, verbose=verbose)
    click.echo(f"store: serving {root.resolve()} at {server.url} (PUT/GET /<sha256>); Ctrl-C stops", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("store: stopped", err=True)


if __name__ == "__main__":
    cli()
