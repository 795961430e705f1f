"""The bench's PNG: ingest throughput against batch size, and the delivery latency distribution."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inbox_dev.bench.stats import percentile


def draw(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    from matplotlib import pyplot

    figure, (throughput, latency) = pyplot.subplots(1, 2, figsize=(12, 4.5), dpi=110)
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

    values = sorted(results["latency"]["latencies_ms"])
    if values:
        latency.hist(values, bins=50, color="tab:blue", alpha=0.8)
        for name, share, color in (("p50", 0.50, "tab:green"), ("p99", 0.99, "tab:red")):
            at = percentile(values, share)
            latency.axvline(at, color=color, linestyle="--", label=f"{name} {at:,.0f} ms")
        latency.legend(fontsize=8)
    latency.set(title="Kafka → WebSocket delivery latency", xlabel="milliseconds", ylabel="deliveries")
    latency.grid(alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    pyplot.close(figure)
