"""The bill by line next to the social API's estimate, and the levers against the goals, as a PNG."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from inbox_dev.cost.report import GOALS, SEED


def draw(report: Mapping[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    from matplotlib import pyplot

    figure, (by_line, levers) = pyplot.subplots(1, 2, figsize=(14, 5.5), dpi=110, width_ratios=(3, 2))
    seed_by_line = {
        "DynamoDB: write": SEED["writes"],
        "DynamoDB: read": SEED["reads"],
        "DynamoDB: storage": SEED["storage"],
    }
    labels, here, seed = [], [], []
    for line in report["lines"]:
        if line["monthly_usd"] == 0:
            continue
        label = f"{line['service']}: {line['item']}"
        labels.append(label.split(" (")[0])
        here.append(line["monthly_usd"])
        seed.append(next((usd for prefix, usd in seed_by_line.items() if label.startswith(prefix)), 0.0))
    rows = range(len(labels))
    by_line.barh([row + 0.2 for row in rows], here, height=0.4, label=f"this model (${report['total_usd']:,.0f})")
    by_line.barh(
        [row - 0.2 for row in rows], seed, height=0.4, label=f"the social API's estimate (${sum(SEED.values()):,.2f})"
    )
    by_line.set_yticks(list(rows), labels, fontsize=7)
    by_line.invert_yaxis()
    by_line.set(title="Monthly bill by line, USD", xlabel="USD a month")
    by_line.legend(fontsize=8)
    by_line.grid(axis="x", alpha=0.3)

    names = [lever["name"] for lever in report["levers"]]
    dynamodb = [lever["dynamodb_usd"] for lever in report["levers"]]
    rest = [lever["total_usd"] - lever["dynamodb_usd"] for lever in report["levers"]]
    columns = range(len(names))
    levers.bar(columns, dynamodb, label="DynamoDB")
    levers.bar(columns, rest, bottom=dynamodb, label="Lambda, API Gateway, SNS")
    levers.axhline(GOALS["total_usd"], color="tab:red", linestyle="--", label=f"total goal ${GOALS['total_usd']:,.0f}")
    levers.axhline(
        GOALS["dynamodb_usd"], color="tab:purple", linestyle=":", label=f"DynamoDB goal ${GOALS['dynamodb_usd']:,.0f}"
    )
    levers.set_ylim(top=max(lever["total_usd"] for lever in report["levers"]) * 1.3)  # room for the legend
    levers.set_xticks(list(columns), [f"{index + 1}" for index in columns])
    levers.set(title="Levers, one after another", xlabel="step (see docs/performance.md)", ylabel="USD a month")
    levers.legend(fontsize=7, ncols=2, loc="upper center")
    levers.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    pyplot.close(figure)
