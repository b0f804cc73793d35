"""Gas figures read from receipts: collect per operation, print a table, compare with a baseline."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from statistics import median
from typing import Any


class GasReport:
    """Gas used per operation, from ``receipt.gas_used``."""

    def __init__(self) -> None:
        self.samples: dict[str, list[int]] = defaultdict(list)
        self.transactions: dict[str, list[str]] = defaultdict(list)

    def record(self, operation: str, receipt: Any) -> Any:
        """Adds the receipt's gas under ``operation`` and returns the receipt."""
        self.samples[operation].append(int(receipt.gas_used))
        self.transactions[operation].append(str(receipt.txn_hash))
        return receipt

    def median_transaction(self, operation: str) -> str | None:
        """The hash of the transaction whose gas is the median of ``operation`` (the lower middle
        one for an even count); None for an operation recorded without a receipt."""
        pairs = sorted(zip(self.samples[operation], self.transactions[operation], strict=False))
        return pairs[(len(pairs) - 1) // 2][1] if pairs and len(pairs) == len(self.samples[operation]) else None

    def summary(self) -> dict[str, dict[str, int]]:
        return {
            op: {"min": min(v), "median": int(median(v)), "max": max(v), "n": len(v)}
            for op, v in sorted(self.samples.items())
        }

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.summary(), indent=2) + "\n")

    def table(self, baseline: dict[str, dict[str, int]] | None = None) -> str:
        """A Markdown table; with a baseline, the change of the median against it."""
        head = "| operation | min | median | max | n |" + (" Δ median |" if baseline else "")
        rule = "|---|---:|---:|---:|---:|" + ("---:|" if baseline else "")
        rows = [head, rule]
        for op, s in self.summary().items():
            row = f"| `{op}` | {s['min']:,} | {s['median']:,} | {s['max']:,} | {s['n']} |"
            if baseline:
                old = baseline.get(op, {}).get("median")
                row += f" {s['median'] - old:+,} |" if old else " new |"
            rows.append(row)
        return "\n".join(rows)
