"""Result bundles: an uncompressed tar whose bytes depend only on the files' names and contents.

Entries are regular files only, sorted by name, with mtime 0, uid/gid 0, no user or group names
and mode 0644, in the POSIX (pax) format; no compression, since compressors' output may change
between library versions. The same outputs therefore give the same sha256 on every machine,
which is what a verifier compares. `unpack` extracts a bundle safely (files only, nothing outside
the target directory).
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Mapping
from pathlib import Path

from compute_market.workloads.errors import ManifestError, StoreError
from compute_market.workloads.manifest import check_relative_path


def pack(files: Mapping[str, bytes]) -> bytes:
    """The deterministic tar of ``files`` (relative POSIX path → contents)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            data = files[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.type = tarfile.REGTYPE
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def read(bundle: bytes) -> dict[str, bytes]:
    """The files of a bundle; refuses anything but regular files at safe relative paths."""
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(bundle), mode="r:") as tar:
            for member in tar.getmembers():
                if not member.isreg():
                    raise StoreError(f"bundle: entry {member.name!r} is not a regular file")
                try:
                    check_relative_path(member.name, "bundle entry", glob=True)
                except ManifestError as exc:
                    raise StoreError(str(exc)) from None
                if member.name in files:
                    raise StoreError(f"bundle: entry {member.name!r} appears twice")
                extracted = tar.extractfile(member)
                files[member.name] = extracted.read() if extracted is not None else b""
    except tarfile.TarError as exc:
        raise StoreError(f"bundle: not a tar archive ({exc})") from None
    return files


def unpack(bundle: bytes, dest: Path | str) -> list[Path]:
    """Writes a bundle's files under ``dest`` and returns their paths (sorted)."""
    root = Path(dest)
    written: list[Path] = []
    for name, data in sorted(read(bundle).items()):
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append(target)
    return written
