"""One store serves a batch's threads side by side: answers must not depend on what runs next to them."""

from __future__ import annotations

import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from inbox.api.reader import InboxReader
from inbox.store import Store
from inbox.store.listing import Listing
from inbox_dev.capacity import fill

UNREAD = Listing(unread_only=True)


def test_reads_running_side_by_side_answer_as_they_do_one_at_a_time(store: Store, reader: InboxReader) -> None:
    # Given five users with inboxes of different sizes and open connections
    users = [f"user-{uuid.uuid4().hex[:12]}" for _ in range(5)]
    for size, user in enumerate(users, start=3):
        fill(store, user, size)
        store.connections.add(user, f"{user}-tab")

    def answers(user: str) -> tuple[Any, ...]:
        return (
            [item.id for item in reader.page(user, limit=20).items],
            [item.id for item in reader.page(user, limit=20, listing=UNREAD).items],
            reader.unread_count(user).count,
            store.connections.of(user),
        )

    expected = {user: answers(user) for user in users}

    # When 16 threads ask the same questions 400 times at once, switching threads as often as they can
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            concurrent = list(pool.map(lambda index: (users[index % 5], answers(users[index % 5])), range(400)))
    finally:
        sys.setswitchinterval(switch_interval)

    # Then every answer is the one a lone caller gets (no request is garbled by another)
    assert all(answer == expected[user] for user, answer in concurrent)
