"""`python -m solcover`: the coverage report from the data the last `bin/coverage` test run collected."""

from __future__ import annotations

from pathlib import Path

import click

from solcover.analysis import analyse, identified
from solcover.build import compile_contracts
from solcover.collect import RAW_PATH, load
from solcover.report import print_table, write


@click.command()
@click.option("--raw", "raw_path", type=click.Path(path_type=Path), default=RAW_PATH, show_default=True)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=RAW_PATH.parent, show_default=True)
def main(raw_path: Path, out_dir: Path) -> None:
    """Prints statement, branch and function coverage per contract source and writes the reports."""
    raw = load(raw_path)
    build = compile_contracts()
    unknown = {name: n for name, n in identified(build, raw).items() if name.startswith("(unknown)")}
    files = analyse(build, raw)
    print_table(files)
    json_path, md_path = write(build, files, raw, out_dir)
    click.echo(
        f"{raw.get('traces', 0):,} traces ({raw.get('failures', 0)} failed); "
        f"code not ours or not matched: {sum(unknown.values())} programs"
    )
    click.echo(f"wrote {json_path} and {md_path}")


if __name__ == "__main__":
    main()
