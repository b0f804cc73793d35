"""`python -m solcover`: the coverage report from the data the last `bin/coverage` test run collected."""

from __future__ import annotations

from pathlib import Path

import click

from solcover.analysis import analyse, identified
from solcover.build import compile_contracts
from solcover.collect import RAW_PATH, load
from solcover.report import Figures, gaps, known_gaps, new_gaps, print_table, write


@click.command()
@click.option("--raw", "raw_path", type=click.Path(path_type=Path), default=RAW_PATH, show_default=True)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=RAW_PATH.parent, show_default=True)
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 100),
    default=None,
    help="Exit with status 1 (after the report) if the total branch coverage is below this percentage.",
)
@click.option(
    "--known",
    "known_path",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="A committed report.md (docs/coverage.md): exit with status 1 if a branch never ran that it does not list.",
)
def main(raw_path: Path, out_dir: Path, fail_under: float | None, known_path: Path | None) -> None:
    """Prints statement, branch and function coverage per contract source and writes the reports."""
    if not raw_path.is_file():
        raise click.ClickException(f"no coverage data at {raw_path}: the test run traced nothing (it stopped early?)")
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
    failures = []
    if fail_under is not None:
        hit, total = Figures.of(files).branches
        percent = 100.0 * hit / total if total else 100.0
        if hit * 100 < fail_under * total:  # exact: 96.96% fails a 97% gate although the table shows 97.0%
            failures.append(
                f"branch coverage {percent:.2f}% ({hit}/{total}) is below the required {fail_under:g}%: "
                f"{total - hit} branches never ran (listed in {md_path})"
            )
        else:
            click.echo(f"branch coverage {percent:.2f}% ({hit}/{total}) meets the required {fail_under:g}%")
    if known_path is not None:
        known = known_gaps(known_path.read_text())
        fresh = new_gaps(gaps(build, files), known)
        if fresh:
            listing = "\n".join(gap.markdown() for gap in fresh)
            failures.append(
                f"{len(fresh)} branch outcome(s) never ran that {known_path} does not list (test them, or run "
                f"bin/coverage to accept them into {known_path}):\n{listing}"
            )
        else:
            click.echo(f"every branch outcome that never ran is one of the {len(known)} listed in {known_path}")
    if failures:
        raise click.ClickException("\n".join(failures))


if __name__ == "__main__":
    main()
