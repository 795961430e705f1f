"""Runs every measurement, prints one table, writes the JSON and the chart.

In-process measurements (ingest, capacity, fan-out) use a private DynamoDB Local; the others
(cold start, HTTP, delivery latency) a private local stack started as `make dev` starts it.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inbox_dev import capacity
from inbox_dev.bench import chart, cold_start, digests, durations, fanout, http, ingest, latency
from inbox_dev.bench.inprocess import in_process_aws
from inbox_dev.bench.stats import machine
from inbox_dev.stack import STATE_DIR, STATE_FILE_NAME
from inbox_dev.stack_process import READY_LINE, STARTUP_SECONDS, StackProcess, port_flags, stack_command, stack_ports

RESULTS_DIR = STATE_DIR / "bench"
GOALS = {
    "ingest.exactly_once_ratio": (">=", 0.8),
    "ingest.overhead_requests_per_notification": ("<=", 0.2),
    "cold_start.ratio": ("<=", 1.3),
    "fanout.sequential_ratio": ("<=", 0.15),
    "latency.at_20_per_s.p99_ms": ("<", 1000.0),
}


def _phase(name: str, measure: Callable[[], Any]) -> Any:
    began = time.monotonic()
    print(f"… {name}", file=sys.stderr, flush=True)
    result = measure()
    print(f"✓ {name} ({time.monotonic() - began:.0f} s)", file=sys.stderr, flush=True)
    return result


@contextmanager
def local_stack(environment: Mapping[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """A private local stack on free ports, with ``environment`` added to its own; yields what it wrote
    about itself and its state directory."""
    ports = stack_ports()
    state_dir = Path(tempfile.mkdtemp(prefix="inbox-bench-"))
    command = stack_command("--quiet", "--state-dir", str(state_dir), *port_flags(ports))
    stack = StackProcess.start(command, ports, environment)
    try:
        stack.wait_for(READY_LINE, STARTUP_SECONDS)
        yield {"ports": ports, "state_dir": str(state_dir), **json.loads((state_dir / STATE_FILE_NAME).read_text())}
        stack.interrupt()
    finally:
        stack.kill()


def run() -> dict[str, Any]:
    results: dict[str, Any] = {"machine": machine(), "date": datetime.now(UTC).isoformat(timespec="seconds")}
    with in_process_aws() as aws:
        results["ingest"] = _phase("ingest throughput", lambda: ingest.measure(aws))
        results["capacity"] = _phase("capacity units", capacity.measure)
        results["fanout"] = _phase("fan-out", lambda: fanout.measure(aws))
        results["durations"] = _phase("handler durations (for make cost)", lambda: durations.measure(aws))
        results["digests"] = _phase("email digests", lambda: digests.measure(aws))
    with local_stack() as state:
        results["cold_start"] = _phase("cold starts", lambda: cold_start.measure(state["functions"]))
        results["http"] = _phase("HTTP", lambda: http.measure(state))
    # In stacks of its own: one per Kafka batching window compared.
    results["latency"] = _phase("delivery latency", lambda: latency.measure(local_stack))
    return results


def _met(key: str, value: float | None) -> str:
    comparison, goal = GOALS[key]
    if value is None:
        return "no"
    holds = {"<=": value <= goal, ">=": value >= goal, "<": value < goal}[comparison]
    return "yes" if holds else "no"


def _number(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def report(results: dict[str, Any]) -> str:
    host = results["machine"]
    rows: list[tuple[str, ...]] = []
    rows += _ingest_rows(results["ingest"])
    starts = results["cold_start"]
    for name, figures in starts.items():
        if name == "baseline_ms":
            continue
        series = figures["ms"]
        rows.append(
            (
                f"Cold start, {name} (ms)",
                _number(series["median"]),
                _number(series["min"]),
                _number(series["max"]),
                f"boto3 + client {_number(starts['baseline_ms']['median'])} ms",
                f"{figures['ratio']:.2f}",
                "≤ 1.3",
                _met("cold_start.ratio", figures["ratio"]),
            )
        )
    spread = results["fanout"]
    rows.append(
        (
            f"Fan-out, {spread['notifications']} notifications, {spread['connections_per_user']} connections each (ms)",
            _number(spread["wall_ms"]["median"]),
            _number(spread["wall_ms"]["min"]),
            _number(spread["wall_ms"]["max"]),
            f"one after another {_number(spread['sequential_ms']['median'])} ms",
            f"{spread['sequential_ratio']:.2f}",
            "≤ 0.15",
            _met("fanout.sequential_ratio", spread["sequential_ratio"]),
        )
    )
    web = results["http"]
    rows.append(
        (
            f"HTTP GET /notifications, {web['clients']} clients (req/s)",
            _number(web["requests_per_s"]["median"]),
            _number(web["requests_per_s"]["min"]),
            _number(web["requests_per_s"]["max"]),
            f"same queries in-process {_number(web['direct_requests_per_s']['median'])}/s",
            f"{web['direct_ratio']:.2f}",
            "report",
            "",
        )
    )
    rows += _latency_rows(results["latency"])
    mail = results["digests"]
    rows.append(
        (
            f"Email digests, {mail['users']:,} users due in one invocation (digests/s)",
            _number(mail["per_s"], 1),
            "",
            "",
            f"SES answering in {mail['ses_answer_ms']:.0f} ms; per digest {mail['read_units_per_digest']:.2f} RCU, "
            f"{mail['write_units_per_digest']:.2f} WCU",
            "",
            "≤ 3 RCU, ≤ 1 WCU",
            "yes" if mail["read_units_per_digest"] <= 3 and mail["write_units_per_digest"] <= 1 else "no",
        )
    )
    capacity_header = ("Capacity units", *(f"{size:,} unread" for size in capacity.SIZES), "budget", "holds")
    header = ("Measurement", "median", "min", "max", "reference (median)", "ratio", "goal", "met")
    lines = [
        f"make bench: {host['cpus']} CPUs, {host['memory_gib']} GiB, Python {host['python']}, {results['date']}",
        "",
        *_table(header, rows),
        "",
        *_table(capacity_header, _capacity_rows(results)),
    ]
    return "\n".join(lines)


def _latency_rows(delivery: dict[str, Any]) -> list[tuple[str, ...]]:
    at_rate, window = delivery["at_20_per_s"], delivery["window_s"]
    rows: list[tuple[str, ...]] = []
    for name in ("p50", "p99"):
        series = at_rate[name] or {"median": None, "min": None, "max": None}
        goal = "< 1,000" if name == "p99" else ""
        met = _met("latency.at_20_per_s.p99_ms", at_rate["p99_ms"]) if name == "p99" else ""
        rows.append(
            (
                f"Kafka → WebSocket {name}, {at_rate['rate_per_s']:g} events/s, window {window:g} s (ms)",
                _number(series["median"]),
                _number(series["min"]),
                _number(series["max"]),
                f"lost {at_rate['lost']}, duplicated {at_rate['duplicated']}",
                "",
                goal,
                met,
            )
        )
    top = delivery["max_rate_under_1s"]
    tried = ", ".join(f"{float(rate):g}: {_number(result['p99_ms'])}" for rate, result in delivery["by_rate"].items())
    rows.append(
        ("Highest rate with p99 < 1 s (events/s)", _number(top), "", "", f"p99 ms at {tried}", "", "report", "")
    )
    for size, figures in delivery["by_window"].items():
        per_thousand = figures["invocations_per_1000_events"]
        invocations = ", ".join(f"{name} {count:g}" for name, count in sorted(per_thousand.items()))
        rows.append(
            (
                f"p99 with a {float(size):g} s Kafka window (ms)",
                _number(figures["p99_ms"]),
                "",
                "",
                f"invocations per 1,000 events: {invocations}",
                "",
                "report",
                "",
            )
        )
    return rows


def _ingest_rows(ingest: dict[str, Any]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for size, figures in ingest["by_batch_size"].items():
        own_writes = f"own writes alone {_number(figures['exactly_once_records_per_s']['median'])}/s"
        batch_write = f"BatchWriteItem {_number(figures['floor_items_per_s']['median'])}/s"
        ratio = figures["exactly_once_ratio"]
        met = _met("ingest.exactly_once_ratio", ratio)
        for label, key, reference, reference_ratio, goal, shown_met in (
            ("", "records_per_s", own_writes, ratio, "≥ 0.8", met),
            (", against BatchWriteItem", "records_per_s", batch_write, figures["floor_ratio"], "report", ""),
            (
                ", one by one (before)",
                "sequential_records_per_s",
                batch_write,
                figures["sequential_floor_ratio"],
                "",
                "",
            ),
        ):
            series = figures[key]
            rows.append(
                (
                    f"Ingest, batch of {size}{label} (records/s)",
                    _number(series["median"]),
                    _number(series["min"]),
                    _number(series["max"]),
                    reference,
                    f"{reference_ratio:.2f}",
                    goal,
                    shown_met,
                )
            )
    largest = ingest["by_batch_size"][str(ingest["batch_size"])]
    for label, prefix, goal in (("recipients new", "", "≤ 0.2"), ("recipients known", "known_recipients_", "report")):
        overhead = largest[f"{prefix}overhead_requests_per_notification"]
        by_operation = ", ".join(
            f"{name} {count:g}" for name, count in largest[f"{prefix}overhead_by_operation"].items()
        )
        met = _met("ingest.overhead_requests_per_notification", overhead) if goal != "report" else ""
        rows.append(
            (
                f"Ingest requests beyond writes per notification, {label}",
                f"{overhead:g}",
                "",
                "",
                f"of {largest['requests_per_notification']:g}: {by_operation}" if not prefix else by_operation,
                "",
                goal,
                met,
            )
        )
    return rows


def _capacity_rows(results: dict[str, Any]) -> list[tuple[str, ...]]:
    rows = []
    for operation, figures in results["capacity"].items():
        cells = []
        for size in capacity.SIZES:
            units = figures[str(size)]
            kind = "read_units" if "RCU" in figures["budget"] else "write_units"
            cells.append(f"{units[kind]:g} in {units['requests']} req")
        rows.append((operation, *cells, figures["budget"], "yes" if figures["holds"] else "no"))
    return rows


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[index]) for row in (header, *rows)) for index in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        first, *rest = cells
        aligned = (cell.rjust(width) for cell, width in zip(rest, widths[1:], strict=True))
        return "  ".join([first.ljust(widths[0]), *aligned])

    return [line(header), "  ".join("-" * width for width in widths), *(line(row) for row in rows)]


def main(output_dir: Path = RESULTS_DIR) -> int:
    results = run()
    output_dir.mkdir(parents=True, exist_ok=True)
    chart_path = output_dir / "bench.png"
    chart.draw(results, chart_path)
    results_path = output_dir / "results.json"
    results_path.write_text(json.dumps(results, indent=2))
    print(report(results))
    print(f"\nJSON: {results_path}\nChart: {chart_path}")
    return 0
