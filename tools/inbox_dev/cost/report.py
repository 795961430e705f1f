"""The bill as text and as JSON: its lines, the seed's estimate beside it, the levers, hosted prices."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from inbox_dev.cost.model import Bill, Line, prices

# The social API's own estimate: 300 M writes at $1.25/M, 1.5 B reads at $0.25/M, ~50 GB (before the
# November 2024 price cut), DynamoDB alone.
SEED = {"writes": 375.00, "reads": 375.00, "storage": 12.50}
SEED_TOTAL = 762.50
GOALS = {"dynamodb_usd": 900.0, "total_usd": 3400.0}
SERVICES = {"DynamoDB": "dynamodb_usd", "Lambda": "lambda_usd", "API Gateway": "api_gateway_usd", "SNS": "sns_usd"}


@dataclass(frozen=True)
class Lever:
    name: str
    bill: Bill


def totals(bill: Bill) -> dict[str, float]:
    figures = {key: bill.total(service) for service, key in SERVICES.items()}
    return {**figures, "total_usd": bill.total()}


def seed_lines(bill: Bill) -> dict[str, float]:
    """This bill cut as the seed's was: DynamoDB writes, reads and storage, and everything else."""

    def of(prefix: str) -> float:
        return sum(
            line.monthly_usd for line in bill.lines if line.service == "DynamoDB" and line.item.startswith(prefix)
        )

    writes, reads, storage = of("write"), of("read"), of("storage")
    return {
        "writes": round(writes, 2),
        "reads": round(reads, 2),
        "storage": round(storage, 2),
        "not in the seed": round(bill.total() - writes - reads - storage, 2),
    }


def as_json(
    bill: Bill,
    levers: list[Lever],
    memory: Mapping[str, Any],
    assumptions: Mapping[str, Any],
    source: str,
) -> dict[str, Any]:
    price = prices()
    return {
        **totals(bill),
        "usd_per_1000_notifications": bill.facts["usd_per_1000_notifications"],
        "goals": {key: {"at_most": goal, "met": totals(bill)[key] <= goal} for key, goal in GOALS.items()},
        "seed": {**SEED, "total_usd": SEED_TOTAL, "here": seed_lines(bill)},
        "usage": asdict(bill.usage),
        "deployment": {
            "billing": bill.deployment.billing.value,
            "replicas": bill.deployment.replicas,
            "ttl_days": {str(kind): days for kind, days in bill.deployment.ttl_days.items()},
            "point_in_time_recovery": bill.deployment.point_in_time_recovery,
        },
        "assumptions": assumptions,
        "lines": [asdict(line) for line in bill.lines],
        "facts": bill.facts,
        "memory": memory,
        "levers": [{"name": lever.name, **totals(lever.bill)} for lever in levers],
        "hosted_inboxes": price["hosted_inboxes"],
        "inputs": source,
        "prices_read_on": price["read_on"],
    }


def _money(value: float) -> str:
    return f"${value:,.2f}"


def _quantity(value: float) -> str:
    for divisor, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if value >= divisor:
            return f"{value / divisor:,.1f}{suffix}"
    return f"{value:,.1f}"


def _line(line: Line, width: int) -> str:
    label = f"{line.service}: {line.item}"
    return f"  {label:<{width}}  {_quantity(line.quantity):>9} {line.unit:<11} {_money(line.monthly_usd):>12}"


def as_text(report: Mapping[str, Any], bill: Bill) -> str:
    usage, deploy = bill.usage, bill.deployment
    days = ", ".join(f"{kind}={days}" for kind, days in report["deployment"]["ttl_days"].items())
    out = [
        f"Monthly cost, {prices()['region']} list prices read {report['prices_read_on']}",
        f"  {usage.users:,} users, {usage.notifications_per_user_per_day:g} notifications and "
        f"{usage.inbox_reads_per_user_per_day:g} inbox reads per user per day",
        f"  DynamoDB {deploy.billing.value}, {deploy.replicas} replica regions, days kept: {days}",
        f"  capacity units and durations: {report['inputs']}",
        "",
    ]
    width = max(len(f"{line.service}: {line.item}") for line in bill.lines)
    out += [_line(line, width) for line in bill.lines]
    out.append("")
    for service, key in SERVICES.items():
        out.append(f"  {service:<{width}}  {'':>21} {_money(report[key]):>12}")
    out.append(f"  {'Total':<{width}}  {'':>21} {_money(report['total_usd']):>12}")
    per_1000 = f"${report['usd_per_1000_notifications']:.4f}"
    out.append(f"  {'per 1,000 notifications':<{width}}  {'':>21} {per_1000:>12}")
    out += [
        "",
        "Goals: "
        + ", ".join(
            f"{key} {_money(report[key])} {'≤' if goal['met'] else '>'} {_money(goal['at_most'])}"
            for key, goal in report["goals"].items()
        ),
    ]
    here = report["seed"]["here"]
    out += ["", "The social API's own estimate next to this one:"]
    for name in ("writes", "reads", "storage", "not in the seed"):
        out.append(f"  {name:<16} seed {_money(report['seed'].get(name, 0.0)):>10}   here {_money(here[name]):>10}")
    out.append(f"  {'total':<16} seed {_money(SEED_TOTAL):>10}   here {_money(report['total_usd']):>10}")
    out += ["", "Levers, one after another (DynamoDB, total):"]
    for lever in report["levers"]:
        out.append(f"  {lever['name']:<58} {_money(lever['dynamodb_usd']):>10} {_money(lever['total_usd']):>10}")
    out += ["", "Memory sizes (median ms: measured wall and CPU; modelled at 256/512/1024 MB; chosen):"]
    for name, row in report["memory"].items():
        modelled = " / ".join(f"{ms:g}" for ms in row["modelled_ms"].values())
        out.append(f"  {name:<22} {row['wall_ms']:>7g} {row['cpu_ms'] or 0:>7g}   {modelled:<24} {row['chosen_mb']} MB")
    out += ["", "Assumed (not measured):"]
    out += [f"  {name}: {value}" for name, value in report["assumptions"].items()]
    out += ["", f"Hosted inboxes, per 1,000 (this: ${report['usd_per_1000_notifications']:.4f}):"]
    for hosted in report["hosted_inboxes"]:
        figure = _money(hosted["usd_per_1000"]) if hosted["usd_per_1000"] is not None else "no figure found"
        out.append(f"  {hosted['name']:<12} {figure:>16} per 1,000 {hosted['unit']} (read {hosted['read_on']})")
    return "\n".join(out)
