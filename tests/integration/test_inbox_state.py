"""Seen, read, archived and cleared entries, the counts, tabs and paging, through the HTTP API on DynamoDB Local."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from inbox.api.reader import InboxReader
from inbox.models import Actor, NotificationEvent, NotificationType, Resource
from inbox.store import Store
from inbox.store.keys import ItemKind, key, read_partition
from inbox.store.listing import Listing
from inbox.timestamps import to_ms
from inbox_dev.capacity import ARCHIVED, fill, filled_item

from tests.integration.helpers import kafka_event, like


def mention(actor: str, recipient: str, post: str) -> NotificationEvent:
    return NotificationEvent(
        type=NotificationType.MENTION,
        recipient_id=recipient,
        actor=Actor(id=actor),
        resource=Resource(type="post", id=post),
        occurred_at=datetime(2026, 11, 23, tzinfo=UTC),
    )


@pytest.fixture
def five(function: Any, context: Any, user: str) -> list[str]:
    """Five entries (likes of five posts), newest first."""
    for index in range(5):
        function("ingest").lambda_handler(kafka_event(like(f"actor-{index}", user), first_offset=index), context)
    return [f"actor-{index}" for index in reversed(range(5))]


def listed(call: Any, user: str, **query: str) -> list[str]:
    status, page = call("GET", "/notifications", user, query=query or None)
    assert status == 200
    return [item["actor"]["id"] for item in page["items"]]


def ids(call: Any, user: str, **query: str) -> list[str]:
    return [item["id"] for item in call("GET", "/notifications", user, query=query or None)[1]["items"]]


def counts(call: Any, user: str) -> dict[str, Any]:
    status, body = call("GET", "/notifications/counts", user)
    assert status == 200
    return dict(body)


def test_opening_the_inbox_clears_the_unseen_badge_but_not_unread(call: Any, five: list[str], user: str) -> None:
    # Given five new entries
    assert counts(call, user) == {"unread": 5, "unseen": 5, "capped": False}

    # When the inbox is opened
    assert call("POST", "/notifications/seen-all", user) == (204, None)

    # Then nothing is unseen, everything is still unread, and each entry says so
    assert counts(call, user) == {"unread": 5, "unseen": 0, "capped": False}
    _, page = call("GET", "/notifications", user)
    assert {(item["seen"], item["read"]) for item in page["items"]} == {(True, False)}


@pytest.mark.parametrize(
    ("entries", "limit", "unread"),
    # fill() archives every other one of the oldest 25 entries
    [(3, 20, 1), (30, 20, 17), (200, 100, 100)],
)
def test_the_first_page_carries_the_counts_the_counts_route_gives(
    call: Any, store: Store, user: str, entries: int, limit: int, unread: int
) -> None:
    # Given fewer unread entries than a page, more than a page, and more than the counts go
    fill(store, user, entries)
    expected = {"unread": unread, "unseen": unread, "capped": unread >= 100}
    assert counts(call, user) == expected

    # When the app opens the inbox, once before and once after the inbox was seen
    before = call("GET", "/notifications", user, query={"limit": str(limit)})
    call("POST", "/notifications/seen-all", user)
    after = call("GET", "/notifications", user, query={"limit": str(limit)})

    # Then each first page's counts are those GET /notifications/counts gives at that moment
    assert before[0] == after[0] == 200
    assert before[1]["counts"] == expected
    assert after[1]["counts"] == counts(call, user) == {**expected, "unseen": 0}


def test_opening_the_inbox_in_one_request_shows_what_was_new_and_clears_the_badge(
    call: Any, function: Any, context: Any, five: list[str], user: str, meter: Any
) -> None:
    # Given five new entries
    # When the app opens the inbox
    status, opened = call("POST", "/notifications/open", user, query={"limit": "3"})

    # Then it gets the newest three, each still marked as not seen before, and counts with nothing unseen
    assert status == 200
    assert [(item["actor"]["id"], item["seen"]) for item in opened["items"]] == [(actor, False) for actor in five[:3]]
    assert opened["counts"] == {"unread": 5, "unseen": 0, "capped": False}
    assert opened["nextCursor"] is not None
    # And the badge stays clear, while the entries stay unread
    assert counts(call, user) == {"unread": 5, "unseen": 0, "capped": False}

    # When one more entry arrives and the app opens the inbox again, then only that one is new
    function("ingest").lambda_handler(kafka_event(like("actor-9", user), first_offset=9), context)
    _, again = call("POST", "/notifications/open", user, query={"limit": "3"})
    assert [item["seen"] for item in again["items"]] == [False, True, True]

    # When it opens it a third time, nothing was unseen, and nothing is written
    meter.reset()
    _, third = call("POST", "/notifications/open", user)
    assert {item["seen"] for item in third["items"]} == {True}
    assert (meter.write_units, third["counts"]["unseen"]) == (0, 0)


def test_an_open_leaves_unseen_what_arrived_after_the_page_it_showed(
    call: Any, five: list[str], user: str, store: Store
) -> None:
    # Given the inbox read for an open, and an entry changed after that read but before the open's write
    stored, counts_read = store.queries.opening(user, Listing(), 20)
    later = {**key(user, ItemKind.NOTIFICATION, "later"), "u": counts_read.newest_unseen_ms + 5_000}

    # When the open marks what it showed as seen
    store.watermarks.see_up_to(user, counts_read.newest_unseen_ms)

    # Then the watermark is the newest shown entry's time: a later change is still unseen
    state = store.watermarks.state(user)
    assert (
        state.seen_all == counts_read.newest_unseen_ms == max(to_ms(item.updated_at) for item in stored.notifications)
    )
    assert not state.is_seen(later)


def test_opening_an_inbox_with_nothing_unseen_writes_nothing(
    call: Any, five: list[str], user: str, store: Store, meter: Any
) -> None:
    # Given the inbox was opened once
    call("POST", "/notifications/seen-all", user)

    # When it is opened again with nothing new
    meter.reset()
    assert call("POST", "/notifications/seen-all", user) == (204, None)

    # Then it wrote nothing and read at most one unit
    assert (meter.write_units, meter.read_units <= 1) == (0, True)


def test_archived_entries_leave_the_inbox_for_the_archive_and_come_back(call: Any, five: list[str], user: str) -> None:
    # Given the newest entry is read, then archived
    newest = ids(call, user)[0]
    call("POST", f"/notifications/{newest}/read", user)
    assert call("POST", f"/notifications/{newest}/archive", user) == (204, None)

    # Then the inbox no longer lists it, the archive does, and the counts leave it out
    assert listed(call, user) == five[1:]
    _, archive = call("GET", "/notifications", user, query={"status": "archived"})
    assert [(item["id"], item["archived"], item["read"]) for item in archive["items"]] == [(newest, True, True)]
    assert counts(call, user)["unread"] == 4

    # When it is unarchived, it is back where it was, read as it was
    assert call("POST", f"/notifications/{newest}/unarchive", user) == (204, None)
    assert listed(call, user) == five
    assert call("GET", "/notifications", user, query={"status": "archived"})[1]["items"] == []
    assert counts(call, user)["unread"] == 4


def test_clear_all_hides_everything_now_and_later_entries_show(
    call: Any, function: Any, context: Any, five: list[str], user: str
) -> None:
    # Given five entries, when the user clears the inbox
    assert call("POST", "/notifications/clear-all", user) == (204, None)

    # Then nothing is listed or counted
    assert listed(call, user) == []
    assert listed(call, user, unreadOnly="true") == []
    assert counts(call, user) == {"unread": 0, "unseen": 0, "capped": False}

    # And a later entry shows as usual
    time.sleep(0.002)  # a later millisecond than the clear-all's watermark
    function("ingest").lambda_handler(kafka_event(like("late", user), first_offset=50), context)
    assert listed(call, user) == ["late"]
    assert counts(call, user) == {"unread": 1, "unseen": 1, "capped": False}


def test_marking_unread_after_read_all_makes_it_unread_again(call: Any, five: list[str], user: str) -> None:
    # Given everything was read with read-all
    oldest = ids(call, user)[-1]
    call("POST", "/notifications/read-all", user)
    assert counts(call, user)["unread"] == 0

    # When the oldest is marked unread
    assert call("POST", f"/notifications/{oldest}/unread", user) == (204, None)

    # Then it alone is unread, in the count and in the unread listing, and it is not unseen
    assert counts(call, user) == {"unread": 1, "unseen": 0, "capped": False}
    assert ids(call, user, unreadOnly="true") == [oldest]
    # And marking it read again clears it
    call("POST", f"/notifications/{oldest}/read", user)
    assert counts(call, user)["unread"] == 0


def test_the_mentions_tab_lists_only_mentions_and_replies(call: Any, five: list[str], user: str, store: Store) -> None:
    # Given likes and two mentions
    for index in range(2):
        store.notifications.put(mention(f"mentioner-{index}", user, f"post-{index}"))

    # When the Mentions tab is listed, then it shows the two mentions, newest first
    assert listed(call, user, type="mention,reply") == ["mentioner-1", "mentioner-0"]
    assert listed(call, user, type="like") == five
    # And an unknown type is a clear 400
    status, body = call("GET", "/notifications", user, query={"type": "mention,poke"})
    assert (status, body["error"]["code"]) == (400, "invalid_input")
    assert "poke" in body["error"]["message"]


def test_paging_through_read_and_unread_entries_with_read_all_between_pages(
    call: Any, function: Any, context: Any, user: str
) -> None:
    # Given six entries, every other one read
    for index in range(6):
        function("ingest").lambda_handler(kafka_event(like(f"actor-{index}", user), first_offset=index), context)
    every = ids(call, user)
    for entry_id in every[::2]:
        call("POST", f"/notifications/{entry_id}/read", user)

    # When the first page of two is read, then everything is marked read, then the rest is paged
    _, first = call("GET", "/notifications", user, query={"limit": "2"})
    call("POST", "/notifications/read-all", user)
    pages = [first]
    while pages[-1]["nextCursor"]:
        pages.append(call("GET", "/notifications", user, query={"limit": "2", "cursor": pages[-1]["nextCursor"]})[1])

    # Then every entry shows once, in order, read as it was when the listing began
    shown = [item for page in pages for item in page["items"]]
    assert [item["id"] for item in shown] == every
    assert [item["read"] for item in shown] == [True, False, True, False, True, False]


@pytest.mark.parametrize(("unread", "count", "capped"), [(99, 99, False), (100, 100, True), (101, 100, True)])
def test_the_counts_are_exact_up_to_99_and_capped_from_100(
    call: Any, store: Store, user: str, unread: int, count: int, capped: bool
) -> None:
    # Given that many unread entries
    for index in range(unread):
        store.notifications.put(mention(f"actor-{index}", user, f"post-{index}"))

    # When the counts are read, then they are exact below 100 and capped from 100 on
    assert counts(call, user) == {"unread": count, "unseen": count, "capped": capped}
    assert call("GET", "/notifications/unread-count", user) == (200, {"count": count, "capped": capped})


def test_expired_entries_are_hidden_and_cannot_be_changed(call: Any, five: list[str], user: str, store: Store) -> None:
    # Given the oldest entry is past its TTL but not yet deleted by DynamoDB
    oldest = ids(call, user)[-1]
    store.table.update_item(
        Key=key(user, ItemKind.NOTIFICATION, oldest),
        UpdateExpression="SET #ttl = :past",
        ExpressionAttributeNames={"#ttl": "ttl"},
        ExpressionAttributeValues={":past": int(time.time()) - 60},
    )

    # Then no listing or count shows it, and marking or deleting it is a 404
    assert oldest not in ids(call, user)
    assert oldest not in ids(call, user, unreadOnly="true")
    assert counts(call, user)["unread"] == 4
    for method, path in (
        ("POST", f"/notifications/{oldest}/read"),
        ("POST", f"/notifications/{oldest}/archive"),
        ("DELETE", f"/notifications/{oldest}"),
    ):
        status, body = call(method, path, user)
        assert (status, body["error"]["code"]) == (404, "not_found")


@pytest.mark.parametrize("size", [10, 10_000])
def test_the_counts_and_listings_at_both_sizes(
    call: Any, store: Store, reader: InboxReader, user: str, size: int
) -> None:
    # Given an inbox of that many entries (groups and mentions; every other one of the oldest few archived)
    fill(store, user, size)

    # When it is opened, then nothing is unseen, and at most 99 are counted exactly
    before = counts(call, user)
    call("POST", "/notifications/seen-all", user)
    after = counts(call, user)
    expected_unread = size - 5 if size == 10 else 100
    assert before == {"unread": expected_unread, "unseen": expected_unread, "capped": size > 100}
    assert after == {"unread": expected_unread, "unseen": 0, "capped": size > 100}
    # And a page of each listing has twenty or all there are
    assert len(ids(call, user)) == min(20, size - 5)
    assert len(ids(call, user, type="mention,reply")) == min(20, size // 10)
    assert len(ids(call, user, status="archived")) == (5 if size == 10 else 13)


def test_a_type_filter_reads_entries_with_the_users_watermarks(
    call: Any, five: list[str], user: str, store: Store
) -> None:
    # Given a mention beside the likes, everything read with read-all, then the inbox cleared
    store.notifications.put(mention("mentioner", user, "post-m"))
    call("POST", "/notifications/read-all", user)

    # Then a listing by type shows them read
    _, likes = call("GET", "/notifications", user, query={"type": "like,mention"})
    assert {item["read"] for item in likes["items"]} == {True}
    assert len(likes["items"]) == 6

    # And once cleared, no listing by type, tab or archive shows them
    call("POST", "/notifications/clear-all", user)
    assert listed(call, user, type="like") == []
    assert listed(call, user, type="like,mention") == []
    assert listed(call, user, type="mention,reply") == []


def test_the_archive_of_a_tab_lists_its_archived_mentions(call: Any, five: list[str], user: str, store: Store) -> None:
    # Given a mention, archived
    store.notifications.put(mention("mentioner", user, "post-m"))
    [mentioned] = ids(call, user, type="mention,reply")
    call("POST", f"/notifications/{mentioned}/archive", user)

    # When the archive is listed by the tab's types, then it is there, and nothing else
    assert ids(call, user, status="archived", type="mention,reply") == [mentioned]
    assert ids(call, user, status="archived", type="mention") == [mentioned]
    assert ids(call, user, type="mention,reply") == []


def test_a_cursor_below_its_listings_floor_is_an_empty_last_page(call: Any, five: list[str], user: str) -> None:
    # Given a cursor of the unread listing, rewritten to a position far below the read-all watermark
    call("POST", "/notifications/read-all", user)
    document = {"u": user, "l": "inbox|1|", "p": "0000000000001", "s": [int(time.time() * 1000), 0, 0, ""]}
    forged = base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")

    # When it is used, then the answer is an empty last page, not a server error
    assert call("GET", "/notifications", user, query={"unreadOnly": "true", "cursor": forged}) == (
        200,
        {"items": [], "nextCursor": None, "counts": None},
    )


def test_an_entry_marked_unread_beneath_many_read_ones_makes_the_count_say_at_least(
    call: Any, store: Store, user: str
) -> None:
    # Given 150 entries, all read with read-all, and the oldest marked unread again
    for index in range(150):
        store.notifications.put(mention(f"actor-{index}", user, f"post-{index}"))
    call("POST", "/notifications/read-all", user)
    _, page = call("GET", "/notifications", user, query={"limit": "100"})
    oldest = call("GET", "/notifications", user, query={"limit": "100", "cursor": page["nextCursor"]})[1]["items"][-1]
    call("POST", f"/notifications/{oldest['id']}/unread", user)

    # When the counts are read, then they do not claim nothing is unread: the count is capped ("at least")
    body = counts(call, user)
    assert body["capped"] is True
    # And the unread listing finds it, however many pages it takes
    found, cursor = [], None
    while True:
        query = {"unreadOnly": "true", **({"cursor": cursor} if cursor else {})}
        _, listing = call("GET", "/notifications", user, query=query)
        found += [item["id"] for item in listing["items"]]
        cursor = listing["nextCursor"]
        if not cursor:
            break
    assert found == [oldest["id"]]


def test_a_page_of_many_unread_entries_reads_no_older_read_entry(store: Store, user: str, meter: Any) -> None:
    # Given 30 entries read one by one (in the read partition), then 30 newer unread ones
    start = int(time.time() * 1000) - 120_000
    with store.table.batch_writer() as batch:
        for index in range(60):
            item = filled_item(user, index + ARCHIVED, start + index)  # none of fill()'s archived ones
            if index < 30:
                item["g1pk"] = read_partition(user)
            batch.put_item(Item=item)

    # When the inbox's first page is read
    meter.reset()
    page = store.queries.newest(user, Listing(), 20, None)

    # Then it shows the 20 newest, all unread, and its query of the read partition started at the
    # 20th of them: it read nothing there (half a unit, the least a query costs; reading that
    # partition's 21 newest would cost 1.5 more)
    assert [notification.read for notification in page.notifications] == [False] * 20
    assert (meter.requests, meter.read_units) == (2, 1.0 + 0.5)
