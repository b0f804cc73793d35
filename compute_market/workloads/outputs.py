"""Collecting a finished run's declared outputs from its scratch directory, refusing anything unsafe.

Patterns are relative paths in which ``*``, ``?`` and ``[…]`` match within one path component
and a ``**`` component matches any number of them; a match that is a directory brings every file
below it. The scratch directory is walked without following symbolic links; a selected link is
kept (under its own name, with its target's contents) only if it resolves to a regular file inside
the scratch directory. Every pattern must match something, every selected entry must be a regular
file, and the total size must stay within ``max_output_bytes``; otherwise `BadOutput`.
"""

from __future__ import annotations

import fnmatch
import os
import re
from functools import cache
from pathlib import Path

from compute_market.workloads.manifest import Outputs


class BadOutput(Exception):  # noqa: N818 (the run status it becomes is ``bad_output``)
    """The outputs cannot be returned: missing, escaping the scratch directory, not files, or too big."""


def collect(scratch: Path, outputs: Outputs) -> dict[str, bytes]:
    """The selected files (relative POSIX name → contents), checked against the rules above."""
    root = Path(os.path.realpath(scratch))
    entries = _walk(root)
    selected: dict[str, Path] = {}
    for pattern in outputs.paths:
        parts = tuple(pattern.split("/"))
        hits = [e for e in entries if _match(parts, tuple(e.split("/")))]
        if not hits:
            raise BadOutput(f"declared output {pattern!r} is missing")
        for name in hits:
            _select(root, name, entries, selected)
    files: dict[str, bytes] = {}
    total = 0
    for name in sorted(selected):
        path = selected[name]
        size = path.stat().st_size
        total += size
        if total > outputs.max_output_bytes:
            raise BadOutput(f"outputs exceed max_output_bytes ({outputs.max_output_bytes}) at {name!r}")
        with path.open("rb") as f:
            data = f.read(size + 1)
        if len(data) != size:
            raise BadOutput(f"output {name!r} changed while being read")
        files[name] = data
    return files


def _walk(root: Path) -> list[str]:
    """Every entry below ``root`` as a relative POSIX path, without following links."""
    found: list[str] = []

    def visit(directory: Path, prefix: str) -> None:
        with os.scandir(directory) as it:
            for entry in sorted(it, key=lambda e: e.name):
                name = prefix + entry.name
                found.append(name)
                if entry.is_dir(follow_symlinks=False):
                    visit(Path(entry.path), name + "/")

    visit(root, "")
    return found


def _select(root: Path, name: str, entries: list[str], selected: dict[str, Path]) -> None:
    path = root / name
    if not path.is_symlink() and path.is_dir():
        below = [e for e in entries if e.startswith(name + "/")]
        for child in below:
            child_path = root / child
            if child_path.is_symlink() or not child_path.is_dir():
                _select(root, child, entries, selected)
        return
    real = Path(os.path.realpath(path))
    if real != root and root not in real.parents:
        raise BadOutput(f"output {name!r} points outside the scratch directory")
    if not real.is_file():
        raise BadOutput(f"output {name!r} is not a regular file")
    selected[name] = real


def _match(pattern: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_match(rest, parts[i:]) for i in range(len(parts) + 1))
    return bool(parts) and _component(head).match(parts[0]) is not None and _match(rest, parts[1:])


@cache
def _component(glob: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(glob))
