"""Capacity units per operation as DynamoDB reports them, for `make bench` and the capacity tests.

Measured for the owner of a small inbox (10 unread) and of a crowded one (10,000 unread),
against the pipeline's budgets. Units are exact, so the tests assert these same figures.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from inbox.api.reader import InboxReader
from inbox.models import Actor, NotificationEvent, NotificationType, Resource, Retraction

from inbox_dev.capacity_meter import CapacityMeter, metering

if TYPE_CHECKING:
    from inbox.store import Store

SIZES = (10, 10_000)
FLOOD_WINDOW = 1_795_000_000


@dataclass(frozen=True)
class Consumed:
    read_units: float
    write_units: float
    requests: int


@dataclass(frozen=True)
class Budget:
    """At most this many units of one kind (and requests, where the budget says)."""

    kind: str  # "read" or "write"
    units: float
    requests: int | None = None

    def holds(self, consumed: Consumed) -> bool:
        units = consumed.read_units if self.kind == "read" else consumed.write_units
        return units <= self.units and (self.requests is None or consumed.requests <= self.requests)

    def __str__(self) -> str:
        text = f"≤ {self.units:g} {'RCU' if self.kind == 'read' else 'WCU'}"
        return f"{text} in ≤ {self.requests} requests" if self.requests else text


# The pipeline's budgets; retracting and the unread listing have none of their own, so they
# are held to their nearest kin (a delete, the full listing).
BUDGETS = {
    "store": Budget("write", 2),
    "store_duplicate": Budget("write", 1),
    # Flood control: one counter update per notification (the store's budget plus 1), and the
    # window's total read once per recipient per batch.
    "flood_counter": Budget("write", 1),
    "flood_total": Budget("read", 1, requests=1),
    "retract": Budget("write", 3),
    "list_20": Budget("read", 2, requests=2),
    "list_unread_20": Budget("read", 2, requests=2),
    "unread_count": Budget("read", 2),
    "mark_one_read": Budget("write", 3),
    "mark_all_read": Budget("write", 2, requests=1),
    "delete": Budget("write", 3),
}


def like(recipient: str, index: int) -> NotificationEvent:
    """A like with a full actor and excerpt: the size of a typical notification."""
    return NotificationEvent(
        type=NotificationType.LIKE,
        recipient_id=recipient,
        # Fixed-width numbers: every item has the same size, whichever ones a query happens to read.
        actor=Actor(
            id=f"actor-{index:04d}", username=f"Actor {index:04d}", avatar=f"https://cdn.example.com/a/{index:04d}.png"
        ),
        resource=Resource(type="post", id=f"post-{index:06d}", excerpt="Shipping the inbox today, finally!"),
        occurred_at=datetime.now(UTC),
    )


def fill(store: Store, user: str, count: int) -> None:
    """Give ``user`` ``count`` unread notifications."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda index: store.notifications.put(like(user, index)), range(count)))


def consumed(meter: CapacityMeter, operation: Callable[[], Any]) -> Consumed:
    meter.reset()
    operation()
    return Consumed(meter.read_units, meter.write_units, meter.requests)


def measure_operations(store: Store, owner: str) -> dict[str, Consumed]:
    """Every inbox operation once, for ``owner``, reads first so that they see the inbox as filled."""
    reader = InboxReader(store.notifications)
    notifications = store.notifications
    fresh = like(owner, 10**6)
    undone = like(owner, 10**6 + 1)
    retraction = Retraction(
        type=undone.type,
        recipient_id=owner,
        actor_id=undone.actor.id,
        resource_type=undone.resource.type,
        resource_id=undone.resource.id,
    )
    with metering(store.table.meta.client) as meter:
        figures = {
            "list_20": consumed(meter, lambda: reader.page(owner, limit=20)),
            "list_unread_20": consumed(meter, lambda: reader.page(owner, limit=20, unread_only=True)),
            "unread_count": consumed(meter, lambda: reader.unread_count(owner)),
            "flood_counter": consumed(
                meter, lambda: store.flood.count(owner, fresh.notification_id, "actor-0", FLOOD_WINDOW, 3600, 20)
            ),
            "flood_total": consumed(meter, lambda: store.flood.total(owner, FLOOD_WINDOW)),
            "store": consumed(meter, lambda: notifications.put(fresh)),
            "store_duplicate": consumed(meter, lambda: notifications.put(fresh)),
        }
        notifications.put(undone)
        figures["retract"] = consumed(meter, lambda: notifications.retract(retraction))
        newest = reader.page(owner, limit=2).items
        figures["mark_one_read"] = consumed(meter, lambda: notifications.mark_read(owner, newest[0].id))
        figures["delete"] = consumed(meter, lambda: notifications.delete(owner, newest[1].id))
        figures["mark_all_read"] = consumed(meter, lambda: notifications.mark_all_read(owner))
    return figures


def measure_sizes(store: Store, run: str) -> dict[int, dict[str, Consumed]]:
    """Every operation measured for the owner of an inbox of each size, filled first."""
    by_size = {}
    for size in SIZES:
        owner = f"{run}-capacity-{size}"
        fill(store, owner, size)
        by_size[size] = measure_operations(store, owner)
    return by_size


def measure(run: str = "bench") -> dict[str, Any]:
    """``capacity.<operation>.<size>``: units and requests, with the budget and whether it holds."""
    from inbox import wiring

    by_size = measure_sizes(wiring.store(), run)
    return {
        operation: {
            **{str(size): asdict(by_size[size][operation]) for size in SIZES},
            "budget": str(budget),
            "holds": all(budget.holds(by_size[size][operation]) for size in SIZES),
        }
        for operation, budget in BUDGETS.items()
    }
