"""The readable end-of-run summary (rich tables)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def print_summary(console: Console, report: dict[str, Any]) -> None:
    jobs = report["jobs"]
    t = Table(title=f"Jobs ({report['config']['scenario']}, seed {report['config']['seed']})")
    for key in ("posted", "filled", "settled", "cancelled", "expired", "failed", "disputed", "live"):
        t.add_column(key, justify="right")
    t.add_row(
        *(str(jobs[k]) for k in ("posted", "filled", "settled", "cancelled", "expired", "failed", "disputed", "live"))
    )
    console.print(t)

    t = Table(title="Clearing price vs cloud list price (USD per GPU-hour)")
    for col in ("GPU", "jobs cleared", "mean clearing", "cloud", "below cloud", "reference"):
        t.add_column(col, justify="right")
    for model, p in report["prices"].items():
        below = f"{p['discount_vs_cloud_pct']}%" if p["discount_vs_cloud_pct"] else "-"
        t.add_row(
            model,
            str(p["jobs_cleared"]),
            p["mean_clearing_usd"] or "-",
            p["cloud_usd_per_gpu_hour"],
            below,
            p["reference_price_usd"],
        )
    console.print(t)

    t = Table(title="Providers")
    for col in ("provider", "kind", "GPU", "ask", "GPU-hours", "earned CRD", "cost USD", "profit USD", "reputation"):
        t.add_column(col, justify="right")
    for p in report["providers"]:
        t.add_row(
            p["address"][:10],
            p["kind"],
            p["gpu_model"],
            p["ask_usd"],
            p["gpu_hours_served"],
            p["earned_crd"],
            p["cost_usd"],
            p["profit_usd"],
            str(p["reputation_bps"]),
        )
    console.print(t)

    t = Table(title="Money and tokens")
    t.add_column("figure")
    t.add_column("value", justify="right")
    rows = {
        "credits minted (CRD)": report["credits"]["minted_crd"],
        "CMP burned for credits": report["credits"]["cmp_burned_for_credits"],
        "credits redeemed (CRD)": report["credits"]["redeemed_crd"],
        "CMP emitted as rewards": report["tokens"]["emitted_cmp"],
        "CMP supply start → end": f"{report['tokens']['cmp_supply_start']} → {report['tokens']['cmp_supply_end']}",
        "providers slashed (CMP)": report["slashes"]["provider_cmp"],
        "verifiers and jurors slashed (CMP)": report["slashes"]["verifier_cmp"],
        "challenges": str(report["slashes"]["challenges"]),
    }
    for k, v in rows.items():
        t.add_row(k, v)
    console.print(t)

    t = Table(title="Gas by actor type")
    for col in ("actor", "transactions", "gas", "gas per tx"):
        t.add_column(col, justify="right")
    for actor, g in report["gas_by_actor"].items():
        t.add_row(actor, str(g["txs"]), f"{g['gas']:,}", f"{g['gas'] // max(1, g['txs']):,}")
    console.print(t)

    th = report["throughput"]
    console.print(
        f"[bold]throughput:[/bold] {th['simulated_hours']} simulated hours in {th['wall_seconds']} s, "
        f"{th['jobs_per_minute']} jobs/min, {th['actor_tx_per_second']} actor tx/s "
        f"(raw anvil through Ape: {th['raw_anvil_tx_per_second']} tx/s)"
    )
