"""The bench's PNG: ingest throughput against batch size, the delivery latency distribution at 20 events/s,
and p99 latency against the event rate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inbox_dev.bench.stats import percentile


def draw(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    from matplotlib import pyplot

    figure, (throughput, latency, by_rate) = pyplot.subplots(1, 3, figsize=(17, 4.5), dpi=110)
    by_size = results["ingest"]["by_batch_size"]
    sizes = [int(size) for size in by_size]
    for key, label, style in (
        ("floor_items_per_s", "floor: BatchWriteItem", "k--"),
        ("records_per_s", "ingest (recipients side by side)", "o-"),
        ("sequential_records_per_s", "ingest, one record after another (before)", "s:"),
    ):
        throughput.plot(sizes, [by_size[str(size)][key]["median"] for size in sizes], style, label=label)
    throughput.set(title="Ingest throughput (median of runs)", xlabel="records per batch", ylabel="records per second")
    throughput.set_ylim(bottom=0)
    throughput.legend(fontsize=8)
    throughput.grid(alpha=0.3)

    delivery = results["latency"]
    values = sorted(delivery["latencies_ms"])
    if values:
        latency.hist(values, bins=50, color="tab:blue", alpha=0.8)
        for name, share, color in (("p50", 0.50, "tab:green"), ("p99", 0.99, "tab:red")):
            at = percentile(values, share)
            latency.axvline(at, color=color, linestyle="--", label=f"{name} {at:,.0f} ms")
        latency.legend(fontsize=8)
    at_rate = delivery["at_20_per_s"]
    latency.set(
        title=f"Kafka → WebSocket at {at_rate['rate_per_s']:g} events/s, window {delivery['window_s']:g} s",
        xlabel="milliseconds",
        ylabel="deliveries",
    )
    latency.grid(alpha=0.3)

    rates = sorted(delivery["by_rate"].items(), key=lambda item: float(item[0]))
    measured = [(float(rate), result["p99_ms"]) for rate, result in rates if result["p99_ms"] is not None]
    by_rate.plot([rate for rate, _ in measured], [p99 for _, p99 in measured], "o-", label="p99")
    by_rate.axhline(1000, color="tab:red", linestyle="--", label="goal: 1 s")
    by_rate.set(title="p99 against the event rate", xlabel="events per second", ylabel="milliseconds")
    by_rate.set_xscale("log", base=2)
    by_rate.set_xticks([rate for rate, _ in measured], [f"{rate:g}" for rate, _ in measured])
    by_rate.set_ylim(bottom=0)
    by_rate.legend(fontsize=8)
    by_rate.grid(alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    pyplot.close(figure)
