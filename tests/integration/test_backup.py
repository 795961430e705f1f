"""Backups of one user (make export / make import) against DynamoDB Local: what the API shows survives a round trip."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.conditions import Key
from inbox.api.reader import InboxReader
from inbox.ingest.grouping import Groups, group_key
from inbox.models import (
    Actor,
    Device,
    NotificationEvent,
    NotificationType,
    Resource,
    Retraction,
    action_id,
)
from inbox.store import Store
from inbox.store.items import MENTION_TAB_TYPES
from inbox.store.listing import Listing, Status
from inbox.store.notifications import Stored, Undone
from inbox.timestamps import from_ms, iso_z, now_ms
from inbox_dev import backup
from inbox_dev.cli import main
from inbox_dev.table_backup import export_items, import_items

from tests.builders import preferences
from tests.conftest import TABLE_NAME

DAY_MS = 86_400_000
GROUP_WINDOW_MS = DAY_MS  # the functions' default grouping window


def event(kind: NotificationType, actor: str, recipient: str, resource: Resource) -> NotificationEvent:
    return NotificationEvent(
        type=kind,
        recipient_id=recipient,
        actor=Actor(id=actor, username=actor.title(), avatar=f"https://cdn.example.com/{actor}.png"),
        resource=resource,
        occurred_at=datetime.now(UTC),
    )


def post(number: int) -> Resource:
    return Resource(type="post", id=f"post-{number}", excerpt=f"Post number {number} ✓")


def unlike(actor: str, recipient: str, number: int) -> Retraction:
    return Retraction(
        type=NotificationType.LIKE,
        recipient_id=recipient,
        actor_id=actor,
        resource_type="post",
        resource_id=f"post-{number}",
    )


def tick() -> int:
    """A moment later than every change so far: the store stamps watermarks and marks with the clock."""
    time.sleep(0.002)
    return now_ms()


def join(store: Store, action: NotificationEvent, at: int | None = None) -> tuple[Stored, str]:
    """A like, repost or follow as ingest stores it: into its group's entry. The outcome and the entry id."""
    at = at or tick()
    key = group_key(action)
    assert key is not None
    entry_id = Groups(store.notifications, action.recipient_id, GROUP_WINDOW_MS).entry_for(key, at)
    return store.notifications.add_to_group(action, entry_id, at_ms=at), entry_id


@pytest.fixture
def inbox(store: Store, user: str) -> dict[str, NotificationEvent]:
    """Every kind of item a user can have, made through the store as ingest and the API make them:
    the events stored, by name."""
    events: dict[str, NotificationEvent] = {}

    def add(name: str, action: NotificationEvent) -> str:
        events[name] = action
        if group_key(action) is None:
            assert store.notifications.put(action, at_ms=tick()) is Stored.CREATED
            return action.notification_id
        stored, entry_id = join(store, action)
        assert stored in (Stored.CREATED, Stored.JOINED)
        return entry_id

    # A like from before the user cleared the inbox
    add("cleared", event(NotificationType.LIKE, "olga", user, post(0)))
    tick()
    store.watermarks.clear_all(user)
    # Four likes of one post make a group; a follow, a reply, a repost, a mention and a like follow
    for actor in ("bob", "carol", "dave", "erin"):
        add(f"like-{actor}", event(NotificationType.LIKE, actor, user, post(1)))
    follow = add("follow", event(NotificationType.FOLLOW, "carol", user, Resource(type="user", id=user)))
    reply = add("reply", event(NotificationType.REPLY, "dave", user, post(2)))
    repost = add("repost", event(NotificationType.REPOST, "erin", user, post(3)))
    mention = add("mention", event(NotificationType.MENTION, "frank", user, post(4)))
    add("unliked", event(NotificationType.LIKE, "grace", user, post(5)))
    # Read: the follow one by one, the rest by the read-all watermark; then the mention marked unread
    store.entries.mark_read(user, follow)
    tick()
    store.watermarks.read_all(user)
    tick()
    store.entries.mark_unread(user, mention)
    # Archived, deleted, unliked, and an unlike that came before its like
    store.entries.archive(user, repost)
    store.entries.delete(user, reply)
    assert store.notifications.retract(unlike("grace", user, 5)) is Undone.RETRACTED
    assert store.notifications.retract(unlike("heidi", user, 6)) is Undone.AHEAD
    events["unliked-ahead"] = event(NotificationType.LIKE, "heidi", user, post(6))
    # A newer like seen (the inbox was opened), then a reply read and a mention not seen yet
    add("newer-like", event(NotificationType.LIKE, "ivan", user, post(7)))
    tick()
    assert store.watermarks.seen_all(user)
    newer_reply = add("newer-reply", event(NotificationType.REPLY, "judy", user, post(8)))
    store.entries.mark_read(user, newer_reply)
    add("newer-mention", event(NotificationType.MENTION, "ken", user, post(9)))
    # One past its TTL is not shown at all
    old = event(NotificationType.REPLY, "old", user, post(10))
    assert store.notifications.put(old, at_ms=now_ms() - 100 * DAY_MS) is Stored.CREATED
    store.preferences.put(user, preferences(mutedTypes=["repost"], channels={"websocket": True, "push": False}))
    device = Device(id="abcdefghijklmnop", platform="fcm", enabled=True, created_at=datetime(2026, 1, 1, tzinfo=UTC))
    store.devices.put(user, device, "arn:aws:sns:us-east-1:123456789012:endpoint/GCM/inbox-fcm/1")
    store.connections.add(user, "conn-1")
    return events


def view(store: Store, user: str) -> dict[str, Any]:
    """What the HTTP API would show the user: every listing, the second page after the first, the badge."""
    reader = InboxReader(store.queries)

    def listing(shown: Listing) -> dict[str, Any]:
        return reader.page(user, limit=100, listing=shown).model_dump(mode="json", by_alias=True)

    first = reader.page(user, limit=2)
    return {
        "inbox": listing(Listing()),
        "unread": listing(Listing(unread_only=True)),
        "archived": listing(Listing(status=Status.ARCHIVED)),
        "mentions": listing(Listing(types=MENTION_TAB_TYPES)),
        "first page": first.model_dump(mode="json", by_alias=True)["items"],
        "second page": reader.page(user, limit=2, cursor=first.next_cursor).model_dump(mode="json", by_alias=True)[
            "items"
        ],
        "counts": reader.counts(user).model_dump(),
        "preferences": store.preferences.get(user).model_dump(mode="json", by_alias=True),
        "devices": [stored.model_dump(mode="json") for stored in store.devices.of(user)],
    }


def shown(listing: dict[str, Any]) -> list[tuple[str, str, int, bool, bool]]:
    """Each entry of a listing as a user reads it: who did what, how many, read, seen."""
    return [
        (entry["actor"]["id"], entry["type"], entry["actorCount"], entry["read"], entry["seen"])
        for entry in listing["items"]
    ]


def stored_items(table: Any, user: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = table.query(KeyConditionExpression=Key("pk").eq(f"U#{user}"), ConsistentRead=True)[
        "Items"
    ]
    return items


def wipe(table: Any, user: str) -> None:
    with table.batch_writer() as batch:
        for item in stored_items(table, user):
            batch.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})
    assert stored_items(table, user) == []


def cli(*arguments: str, endpoint: str) -> int:
    return main([*arguments, "--table", TABLE_NAME, "--endpoint-url", endpoint])


def now_s() -> int:
    return int(datetime.now(UTC).timestamp())


def test_a_user_restored_from_a_backup_sees_exactly_what_they_saw(
    store: Store, table: Any, user: str, inbox: dict[str, NotificationEvent]
) -> None:
    # Given a user with every kind of item, and what the API shows them
    before = view(store, user)
    assert shown(before["inbox"]) == [
        ("ken", "mention", 1, False, False),
        ("judy", "reply", 1, True, True),
        ("ivan", "like", 1, False, True),
        ("frank", "mention", 1, False, True),
        ("carol", "follow", 1, True, True),
        ("erin", "like", 4, True, True),
    ]
    assert [actor["id"] for actor in before["inbox"]["items"][-1]["actors"]] == ["erin", "dave", "carol"]
    assert shown(before["unread"]) == [entry for entry in shown(before["inbox"]) if not entry[3]]
    assert shown(before["archived"]) == [("erin", "repost", 1, True, True)]
    assert [entry[:2] for entry in shown(before["mentions"])] == [
        ("ken", "mention"),
        ("judy", "reply"),
        ("frank", "mention"),
    ]
    assert before["counts"] == {"unread": 3, "unseen": 1, "capped": False}

    # When their items are exported, deleted and imported
    out = io.StringIO()
    counts = backup.write_backup(user, export_items(table, user), out, exported_at=datetime.now(UTC))
    wipe(table, user)
    restored = backup.read_backup(out.getvalue().splitlines(), now_s=now_s())
    written = import_items(table, restored.items)

    # Then the API shows the same, without the connection or the expired notification
    assert dict(counts) == {
        "notification": 8,
        "tombstone": 2,
        "member": 10,
        "state": 1,
        "preferences": 1,
        "device": 1,
    }
    assert written == 23
    assert view(store, user) == before
    assert store.connections.of(user) == []
    assert not any(item["sk"].startswith("C#") for item in stored_items(table, user))
    # and the tombstones still stop a redelivered or repeated action from notifying again: the
    # deleted reply, the unliked like, the like whose unlike came first, a like already counted
    assert store.notifications.put(inbox["reply"]) is Stored.DUPLICATE
    assert join(store, inbox["unliked"])[0] is Stored.DUPLICATE
    assert join(store, inbox["unliked-ahead"])[0] is Stored.DUPLICATE
    assert join(store, inbox["like-bob"])[0] is Stored.DUPLICATE
    assert view(store, user) == before


def test_a_group_with_many_members_round_trips_with_its_count(
    store: Store, user: str, dynamodb_endpoint: str, tmp_path: Path, capsys: Any
) -> None:
    # Given 25 likes of one post, the newest of them undone
    likers = [f"liker-{number:02d}" for number in range(25)]
    for liker in likers:
        join(store, event(NotificationType.LIKE, liker, user, post(1)))
    assert store.notifications.retract(unlike("liker-24", user, 1)) is Undone.RETRACTED
    before = view(store, user)
    (entry,) = before["inbox"]["items"]
    assert (entry["actorCount"], [actor["id"] for actor in entry["actors"]]) == (24, ["liker-23", "liker-22"])

    # When the user is exported, deleted and imported
    file = tmp_path / "backup.jsonl"
    assert cli("export", user, "--output", str(file), endpoint=dynamodb_endpoint) == 0
    wipe(store.table, user)
    assert cli("import", str(file), endpoint=dynamodb_endpoint) == 0

    # Then the group shows the same actors and count
    assert view(store, user) == before
    output = capsys.readouterr().out
    assert f"Exported 1 notification, 25 group members of {user}" in output
    assert f"Imported 1 notification, 25 group members for {user}" in output
    # and its members still count each like once: redelivered or repeated after an unlike, a like
    # changes nothing; an unlike takes one off, a new like adds one
    assert join(store, event(NotificationType.LIKE, "liker-03", user, post(1)))[0] is Stored.DUPLICATE
    assert join(store, event(NotificationType.LIKE, "liker-24", user, post(1)))[0] is Stored.DUPLICATE
    assert view(store, user)["inbox"] == before["inbox"]
    assert store.notifications.retract(unlike("liker-10", user, 1)) is Undone.RETRACTED
    assert join(store, event(NotificationType.LIKE, "zed", user, post(1)))[0] is Stored.JOINED
    (entry,) = view(store, user)["inbox"]["items"]
    assert (entry["actorCount"], [actor["id"] for actor in entry["actors"]]) == (24, ["zed", "liker-23", "liker-22"])


def test_the_cli_round_trip_is_exact_and_importing_twice_changes_nothing(
    store: Store, table: Any, user: str, inbox: Any, dynamodb_endpoint: str, tmp_path: Path, capsys: Any
) -> None:
    before = view(store, user)
    items_before = stored_items(table, user)
    file = tmp_path / "backup.jsonl"

    # When the CLI exports the user, the items are deleted, and the CLI imports the file twice
    assert cli("export", user, "--output", str(file), endpoint=dynamodb_endpoint) == 0
    wipe(table, user)
    assert cli("import", str(file), endpoint=dynamodb_endpoint) == 0
    once = stored_items(table, user)
    assert cli("import", str(file), endpoint=dynamodb_endpoint) == 0

    # Then every item but the connection and the expired one is back as it was, and the second
    # import changed nothing
    now = now_s()
    kept = [item for item in items_before if not item["sk"].startswith("C#") and item.get("ttl", now + 1) > now]
    assert len(kept) == len(items_before) - 2
    assert once == kept
    assert stored_items(table, user) == once
    assert view(store, user) == before
    output = capsys.readouterr().out
    what = "8 notifications, 2 tombstones, 10 group members, 1 watermarks, 1 preferences, 1 device"
    assert f"Exported {what} of {user}" in output
    assert f"Imported {what} for {user}" in output
    # and exporting again writes the same lines (but the header's time), also to stdout
    assert cli("export", user, "--output", "-", endpoint=dynamodb_endpoint) == 0
    again = capsys.readouterr().out.splitlines()
    assert again[1:] == file.read_text().splitlines()[1:]
    assert json.loads(again[0]) | {"exported_at": None} == {
        "format": "notification-inbox-backup",
        "version": 2,
        "user": user,
        "exported_at": None,
    }


def test_an_existing_file_is_not_replaced_without_force(
    user: str, inbox: Any, dynamodb_endpoint: str, tmp_path: Path, capsys: Any
) -> None:
    file = tmp_path / "backup.jsonl"
    file.write_text("keep me")

    assert cli("export", user, "--output", str(file), endpoint=dynamodb_endpoint) == 1
    assert file.read_text() == "keep me"
    assert "--force" in capsys.readouterr().err

    assert cli("export", user, "--output", str(file), "--force", endpoint=dynamodb_endpoint) == 0
    assert json.loads(file.read_text().splitlines()[0])["user"] == user
    assert not (tmp_path / "backup.jsonl.partial").exists()


def as_seen_by(entries: list[dict[str, Any]], new_user: str) -> list[dict[str, Any]]:
    """The entries as another user sees them once moved: a mention or a reply under the id of its
    action addressed to them, a group under its own id, a follow of them."""
    moved = []
    for entry in entries:
        resource = {**entry["resource"], "id": new_user} if entry["type"] == "follow" else entry["resource"]
        entry_id = entry["id"]
        if entry["type"] in ("mention", "reply"):
            entry_id = action_id(entry["type"], entry["actor"]["id"], resource["type"], resource["id"], new_user)
        moved.append({**entry, "id": entry_id, "resource": resource})
    return moved


def test_a_backup_restored_under_another_user_id_shows_that_user_the_same_inbox(
    store: Store,
    user: str,
    other_user: str,
    inbox: dict[str, NotificationEvent],
    dynamodb_endpoint: str,
    tmp_path: Path,
    capsys: Any,
) -> None:
    before = view(store, user)
    file = tmp_path / "backup.jsonl"
    assert cli("export", user, "--output", str(file), endpoint=dynamodb_endpoint) == 0

    # When the backup is imported with --user
    assert cli("import", str(file), "--user", other_user, endpoint=dynamodb_endpoint) == 0

    # Then the other user sees the same inbox, archive, Mentions tab and badge; mentions and
    # replies under the ids of the actions addressed to them, groups under their ids, the follow of them
    after = view(store, other_user)
    for name in ("inbox", "unread", "archived", "mentions", "first page", "second page"):
        entries = before[name] if isinstance(before[name], list) else before[name]["items"]
        moved = after[name] if isinstance(after[name], list) else after[name]["items"]
        assert moved == as_seen_by(entries, other_user), name
    assert {name: after[name] for name in ("counts", "preferences")} == {
        name: before[name] for name in ("counts", "preferences")
    }
    # and no phone: the device's push endpoint is the original user's, whose phone it would reach;
    # nor the group members, whose ids are those of actions addressed to the original user
    assert before["devices"] != []
    assert after["devices"] == []
    assert not any(item["sk"].startswith(("D#", "M#")) for item in stored_items(store.table, other_user))
    output = capsys.readouterr().out
    assert f"1 device left out (their push endpoints belong to {user})" in output
    assert f"10 group members left out (their ids are those of actions addressed to {user})" in output
    # the original user is untouched, and the tombstones work for the new user too
    assert view(store, user) == before
    assert store.notifications.put(inbox["reply"].model_copy(update={"recipient_id": other_user})) is Stored.DUPLICATE


def test_a_malformed_file_is_refused_with_its_line_and_writes_nothing(
    table: Any, user: str, inbox: Any, other_user: str, dynamodb_endpoint: str, tmp_path: Path, capsys: Any
) -> None:
    file = tmp_path / "backup.jsonl"
    assert cli("export", user, "--output", str(file), endpoint=dynamodb_endpoint) == 0
    lines = file.read_text().splitlines()
    bad_json = tmp_path / "bad-json.jsonl"
    bad_json.write_text("\n".join([*lines[:2], '{"kind": "notification", "item": {"pk": ', *lines[3:]]) + "\n")
    bad_header = tmp_path / "bad-header.jsonl"
    bad_header.write_text("\n".join(['{"format": "something-else", "version": 2}', *lines[1:]]) + "\n")
    capsys.readouterr()

    # When either is imported (into a user with nothing yet)
    json_status = cli("import", str(bad_json), "--user", other_user, endpoint=dynamodb_endpoint)
    json_error = capsys.readouterr().err
    header_status = cli("import", str(bad_header), "--user", other_user, endpoint=dynamodb_endpoint)
    header_error = capsys.readouterr().err

    # Then both are refused with the line to blame, and nothing was written (though line 2 was good)
    assert (json_status, header_status) == (1, 1)
    assert f"{bad_json}: line 3: not valid JSON" in json_error
    assert f"{bad_header}: line 1: not a backup of this app" in header_error
    assert "nothing was written" in json_error
    assert stored_items(table, other_user) == []


def test_dry_run_validates_without_a_table(
    table: Any, user: str, inbox: Any, other_user: str, dynamodb_endpoint: str, tmp_path: Path, capsys: Any
) -> None:
    file = tmp_path / "backup.jsonl"
    assert cli("export", user, "--output", str(file), endpoint=dynamodb_endpoint) == 0
    capsys.readouterr()

    assert main(["import", str(file), "--user", other_user, "--dry-run"]) == 0

    output = capsys.readouterr().out
    assert "would write 8 notifications, 2 tombstones, 1 watermarks, 1 preferences for" in output
    assert "1 device left out" in output
    assert "10 group members left out" in output
    assert stored_items(table, other_user) == []


# -- files of version 1, written before entries grouped ----------------------------------------


def v1_entry(kind: NotificationType, actor: str, user: str, resource: Resource, arrived: int) -> dict[str, Any]:
    """An entry as the first version stored it: one actor, c the producer's time, s the arrival."""
    entry_id = action_id(kind.value, actor, resource.type, resource.id, user)
    entry: dict[str, Any] = {
        "pk": f"U#{user}",
        "sk": f"N#{entry_id}",
        "g1pk": f"U#{user}#U",
        "g1sk": f"{arrived:013d}#{entry_id}",
        "t": kind.value,
        "a": actor,
        "an": actor.title(),
        "av": f"https://cdn.example.com/{actor}.png",
        "rt": resource.type,
        "ri": resource.id,
        "c": arrived - 500,
        "s": arrived,
        "ttl": arrived // 1000 + 90 * 86_400,
    }
    if resource.excerpt:
        entry["x"] = resource.excerpt
    return entry


def v1_backup(user: str) -> tuple[list[str], int]:
    """The file the first version of the tool wrote for a user, and when its entries arrived."""
    start = now_ms() - 3_600_000
    like = v1_entry(NotificationType.LIKE, "bob", user, post(1), start + 1000)
    follow = {
        **v1_entry(NotificationType.FOLLOW, "carol", user, Resource(type="user", id=user), start + 2000),
        "g1pk": f"U#{user}#R",
        "r": start + 2100,
    }
    reply = v1_entry(NotificationType.REPLY, "dave", user, post(2), start + 3000)
    deleted = {name: value for name, value in reply.items() if name not in ("g1pk", "g1sk")} | {"gone": "deleted"}
    mention = v1_entry(NotificationType.MENTION, "frank", user, post(4), start + 4000)
    repost = v1_entry(NotificationType.REPOST, "erin", user, post(3), start + 5000)
    items = [
        ("notification", like),
        ("notification", follow),
        ("tombstone", deleted),
        ("notification", mention),
        ("notification", repost),
        ("preferences", {"pk": f"U#{user}", "sk": "PREFS", "muted": [], "ws": True, "push": True}),
        ("read_state", {"pk": f"U#{user}", "sk": "STATE", "g1pk": f"U#{user}#U", "g1sk": "~", "w": start + 2500}),
    ]
    header = {"format": "notification-inbox-backup", "version": 1, "user": user, "exported_at": "2026-01-02T03:04Z"}
    lines = [json.dumps(header), *(json.dumps({"kind": kind, "item": item}) for kind, item in items)]
    return [*lines, json.dumps({"kind": "end", "count": len(items)})], start


def test_a_version_1_file_still_imports_and_its_entries_read_as_groups_of_one(
    store: Store, user: str, dynamodb_endpoint: str, tmp_path: Path, capsys: Any
) -> None:
    # Given a backup the first version wrote
    lines, start = v1_backup(user)
    file = tmp_path / "v1.jsonl"
    file.write_text("\n".join(lines) + "\n")

    # When it is imported
    assert cli("import", str(file), endpoint=dynamodb_endpoint) == 0

    # Then each entry is a group of one, read as the file said (one by one, or under the
    # read-all watermark), arrived when it arrived and occurred when the producer said
    assert "Imported 4 notifications, 1 tombstone, 1 watermarks, 1 preferences" in capsys.readouterr().out
    restored = view(store, user)
    assert shown(restored["inbox"]) == [
        ("erin", "repost", 1, False, False),
        ("frank", "mention", 1, False, False),
        ("carol", "follow", 1, True, True),
        ("bob", "like", 1, True, True),
    ]
    for entry, arrived in zip(restored["inbox"]["items"], (5000, 4000, 2000, 1000), strict=True):
        assert entry["actors"] == [entry["actor"]]
        assert entry["actor"]["username"] == entry["actor"]["id"].title()
        assert entry["createdAt"] == entry["updatedAt"] == iso_z(from_ms(start + arrived))
        assert entry["occurredAt"] == iso_z(from_ms(start + arrived - 500))
    assert restored["counts"] == {"unread": 2, "unseen": 2, "capped": False}
    # and its entries still answer to their actions: the deleted reply does not come back, an
    # unlike withdraws the like
    assert store.notifications.put(event(NotificationType.REPLY, "dave", user, post(2))) is Stored.DUPLICATE
    assert store.notifications.retract(unlike("bob", user, 1)) is Undone.RETRACTED
    assert [entry[:2] for entry in shown(view(store, user)["inbox"])] == [
        ("erin", "repost"),
        ("frank", "mention"),
        ("carol", "follow"),
    ]

    # When the user is exported again (today's version, the first version's entries as they are) and restored
    again = tmp_path / "again.jsonl"
    before = view(store, user)
    assert cli("export", user, "--output", str(again), endpoint=dynamodb_endpoint) == 0
    wipe(store.table, user)
    assert cli("import", str(again), endpoint=dynamodb_endpoint) == 0

    # Then they see the same
    assert json.loads(again.read_text().splitlines()[0])["version"] == 2
    assert view(store, user) == before
