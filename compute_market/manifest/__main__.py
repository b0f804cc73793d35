"""``python -m compute_market.manifest [--build PATH] [--check]``: regenerates the bundled ABIs
from the project's build, or (``--check``) exits 1 when they differ from it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from compute_market.manifest import BUILD_PATH, MANIFEST_PATH, from_build, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m compute_market.manifest", description=__doc__)
    parser.add_argument("--build", type=Path, default=BUILD_PATH, help="Ape's build file (.build/__local__.json)")
    parser.add_argument("--out", type=Path, default=MANIFEST_PATH, help="the manifest to write or check")
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when out of date")
    args = parser.parse_args(argv)
    if args.check:
        current = json.loads(args.out.read_text()) if args.out.exists() else None
        if current != from_build(args.build):
            print(f"{args.out} differs from {args.build}: run `python -m compute_market.manifest`", file=sys.stderr)
            return 1
        print(f"{args.out} matches {args.build}")
        return 0
    manifest = write(args.build, args.out)
    print(f"wrote {len(manifest['contractTypes'])} contract ABIs to {args.out} ({args.out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
