"""`make cost`: its flags, and the run that measures (or reads the bench's figures), prices and draws."""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
from pathlib import Path

from inbox.settings import ttl_days_by_type

from inbox_dev.cost import chart, memory
from inbox_dev.cost.inputs import measured
from inbox_dev.cost.model import Assumptions, Billing, Deployment, Usage, estimate
from inbox_dev.cost.report import Lever, as_json, as_text
from inbox_dev.template import PROJECT_ROOT

COST_DIR = PROJECT_ROOT / ".local" / "cost"
DOCS_CHART = PROJECT_ROOT / "docs" / "bill.png"
# The per-type lever: reactions matter for days; conversations keep the estimate's 90.
SHORTER_TTL = "like=30,repost=30,follow=30,reply=90,mention=90"


def _ttl_days(text: str) -> dict[str, int]:
    try:
        return ttl_days_by_type(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def add_arguments(parser: argparse.ArgumentParser) -> None:
    scenario = Usage()
    parser.add_argument("--users", type=int, default=scenario.users)
    for flag, per_day, meaning in (
        ("--notifications-per-day", scenario.notifications_per_user_per_day, "notifications per user per day"),
        ("--reads-per-day", scenario.inbox_reads_per_user_per_day, "HTTP reads of the inbox per user per day"),
        ("--count-polls-per-day", scenario.unread_count_polls_per_user_per_day, "unread counts per user per day"),
    ):
        parser.add_argument(flag, type=float, default=per_day, help=meaning)
    parser.add_argument(
        "--billing",
        choices=[mode.value for mode in Billing],
        default=Billing.ON_DEMAND.value,
        help="the template's BillingMode (on-demand: PAY_PER_REQUEST)",
    )
    parser.add_argument("--replicas", type=int, choices=range(4), default=0, help="regions in ReplicaRegions")
    parser.add_argument(
        "--ttl-days", type=_ttl_days, default="90", help=f'NotificationTtlDays, e.g. "90" or "{SHORTER_TTL}"'
    )
    parser.add_argument(
        "--group-join-share",
        type=float,
        default=Assumptions().group_join_share,
        help="share of likes, reposts and follows that join an open group",
    )
    parser.add_argument("--snap-start", action="store_true", help="SnapStart=PublishedVersions on every function")
    parser.add_argument("--json", action="store_true", help="the figures as JSON, no text and no chart")


def run(arguments: argparse.Namespace, results_file: Path) -> int:
    usage = Usage(
        users=arguments.users,
        notifications_per_user_per_day=arguments.notifications_per_day,
        inbox_reads_per_user_per_day=arguments.reads_per_day,
        unread_count_polls_per_user_per_day=arguments.count_polls_per_day,
    )
    assume = Assumptions(group_join_share=arguments.group_join_share)
    figures, source = measured(results_file)
    sizes = memory.table({name: figures.durations[name] for name in figures.memory_mb if name in figures.durations})
    deploy = Deployment(
        billing=Billing(arguments.billing),
        replicas=arguments.replicas,
        ttl_days=arguments.ttl_days,
        snap_start=arguments.snap_start,
    )
    bill = estimate(usage, figures, deploy, assume)
    before = Deployment(memory_mb=dict.fromkeys(figures.memory_mb, 512))
    chosen = Deployment(memory_mb={name: row["chosen_mb"] for name, row in sizes.items()})
    provisioned = dataclasses.replace(chosen, billing=Billing.PROVISIONED)
    shorter = dataclasses.replace(provisioned, ttl_days=ttl_days_by_type(SHORTER_TTL))
    steps = [
        ("on demand, 90 days, 512 MB everywhere (before)", before),
        ("+ memory sizes chosen for the latency budgets", chosen),
        ("+ PROVISIONED with auto scaling", provisioned),
        ("+ " + SHORTER_TTL, shorter),
        ("the same with one replica region", dataclasses.replace(shorter, replicas=1)),
        ("step 4 with SnapStart on every function", dataclasses.replace(shorter, snap_start=True)),
    ]
    levers = [Lever(name, estimate(usage, figures, step, assume)) for name, step in steps]
    assumptions = {
        name: ({str(kind): share for kind, share in value.items()} if isinstance(value, dict) else value)
        for name, value in dataclasses.asdict(assume).items()
    }
    report = as_json(bill, levers, sizes, assumptions, source)
    if arguments.json:
        print(json.dumps(report, indent=2))
        return 0
    print(as_text(report, bill))
    COST_DIR.mkdir(parents=True, exist_ok=True)
    (COST_DIR / "cost.json").write_text(json.dumps(report, indent=2) + "\n")
    chart.draw(report, COST_DIR / "bill.png")
    if usage == Usage() and deploy == Deployment():
        shutil.copyfile(COST_DIR / "bill.png", DOCS_CHART)  # the docs show the scenario's own run
    print(f"\nwritten: {COST_DIR / 'cost.json'}, {COST_DIR / 'bill.png'}")
    return 0
