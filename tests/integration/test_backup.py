"""Backups of one user (make export / make import) against DynamoDB Local: what the API shows survives a round trip."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.conditions import Key
from inbox.api.reader import InboxReader
from inbox.models import (
    Actor,
    Device,
    NotificationEvent,
    NotificationType,
    Preferences,
    Resource,
    Retraction,
    action_id,
)
from inbox.store import Store
from inbox.timestamps import now_ms
from inbox_dev import backup
from inbox_dev.cli import main
from inbox_dev.table_backup import export_items, import_items

from tests.conftest import TABLE_NAME

DAY_MS = 86_400_000


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


@pytest.fixture
def inbox(store: Store, user: str) -> dict[str, NotificationEvent]:
    """Every kind of item a user can have: the events stored, by name."""
    start = now_ms() - 60_000
    events = {
        "like": event(NotificationType.LIKE, "bob", user, post(1)),
        "follow": event(NotificationType.FOLLOW, "carol", user, Resource(type="user", id=user)),
        "reply": event(NotificationType.REPLY, "dave", user, post(2)),
        "repost": event(NotificationType.REPOST, "erin", user, post(3)),
        "mention": event(NotificationType.MENTION, "frank", user, post(4)),
        "unliked": event(NotificationType.LIKE, "grace", user, post(5)),
    }
    for offset, stored in enumerate(events.values()):
        assert store.notifications.put(stored, stored_at_ms=start + offset * 1000)
    # Read: the follow one by one, the like and the follow by the read-all watermark; then newer ones
    store.notifications.mark_read(user, events["follow"].notification_id)
    store.notifications.mark_all_read(user)
    later = {
        "newer-like": event(NotificationType.LIKE, "heidi", user, post(6)),
        "newer-reply": event(NotificationType.REPLY, "ivan", user, post(7)),
        "newer-repost": event(NotificationType.REPOST, "judy", user, post(8)),
    }
    for offset, stored in enumerate(later.values()):
        assert store.notifications.put(stored, stored_at_ms=now_ms() + 1000 + offset * 1000)
    store.notifications.mark_read(user, later["newer-reply"].notification_id)
    # A deleted one and a retracted one leave tombstones; one past its TTL is not shown at all
    store.notifications.delete(user, events["reply"].notification_id)
    store.notifications.retract(
        Retraction(
            type=NotificationType.LIKE, recipient_id=user, actor_id="grace", resource_type="post", resource_id="post-5"
        )
    )
    assert store.notifications.put(
        event(NotificationType.LIKE, "old", user, post(9)), stored_at_ms=now_ms() - 100 * DAY_MS
    )
    store.preferences.put(
        user, Preferences.model_validate({"mutedTypes": ["mention"], "channels": {"websocket": True, "push": False}})
    )
    device = Device(id="abcdefghijklmnop", platform="fcm", enabled=True, created_at=datetime(2026, 1, 1, tzinfo=UTC))
    store.devices.put(user, device, "arn:aws:sns:us-east-1:123456789012:endpoint/GCM/inbox-fcm/1")
    store.connections.add(user, "conn-1")
    return {**events, **later}


def view(store: Store, user: str) -> dict[str, Any]:
    """What the HTTP API would show the user."""
    reader = InboxReader(store.notifications)
    return {
        "all": reader.page(user, limit=100).model_dump(mode="json"),
        "unread": reader.page(user, limit=100, unread_only=True).model_dump(mode="json"),
        "paged": reader.page(user, limit=2).model_dump(mode="json")["items"],
        "count": reader.unread_count(user).model_dump(),
        "preferences": store.preferences.get(user).model_dump(mode="json"),
        "devices": [stored.model_dump(mode="json") for stored in store.devices.of(user)],
    }


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


def test_a_user_restored_from_a_backup_sees_exactly_what_they_saw(
    store: Store, table: Any, user: str, inbox: dict[str, NotificationEvent]
) -> None:
    # Given a user with every kind of item, and what the API shows them
    before = view(store, user)
    assert before["count"] == {"count": 2, "capped": False}
    assert len(before["all"]["items"]) == 7

    # When their items are exported, deleted and imported
    out = io.StringIO()
    counts = backup.write_backup(user, export_items(table, user), out, exported_at=datetime.now(UTC))
    wipe(table, user)
    restored = backup.read_backup(out.getvalue().splitlines(), now_s=int(datetime.now(UTC).timestamp()))
    written = import_items(table, restored.items)

    # Then the API shows the same, without the connection or the expired notification
    assert dict(counts) == {"notification": 7, "tombstone": 2, "read_state": 1, "preferences": 1, "device": 1}
    assert written == 12
    assert view(store, user) == before
    assert store.connections.of(user) == []
    assert not any(item["sk"].startswith("C#") for item in stored_items(table, user))
    # and the tombstones still stop a redelivered or repeated action from notifying again
    assert store.notifications.put(inbox["reply"]) is False
    assert store.notifications.put(inbox["unliked"]) is False


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
    now_s = int(datetime.now(UTC).timestamp())
    kept = [item for item in items_before if not item["sk"].startswith("C#") and item.get("ttl", now_s + 1) > now_s]
    assert len(kept) == len(items_before) - 2
    assert once == kept
    assert stored_items(table, user) == once
    assert view(store, user) == before
    output = capsys.readouterr().out
    assert f"Exported 7 notifications, 2 tombstones, 1 read-all watermark, 1 preferences, 1 device of {user}" in output
    assert f"Imported 7 notifications, 2 tombstones, 1 read-all watermark, 1 preferences, 1 device for {user}" in output
    # and exporting again writes the same lines (but the header's time), also to stdout
    assert cli("export", user, "--output", "-", endpoint=dynamodb_endpoint) == 0
    again = capsys.readouterr().out.splitlines()
    assert again[1:] == file.read_text().splitlines()[1:]
    assert json.loads(again[0])["user"] == user


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


def test_a_backup_restored_under_another_user_id_shows_that_user_the_same_inbox(
    store: Store,
    user: str,
    other_user: str,
    inbox: dict[str, NotificationEvent],
    dynamodb_endpoint: str,
    tmp_path: Path,
) -> None:
    before = view(store, user)
    file = tmp_path / "backup.jsonl"
    assert cli("export", user, "--output", str(file), endpoint=dynamodb_endpoint) == 0

    # When the backup is imported with --user
    assert cli("import", str(file), "--user", other_user, endpoint=dynamodb_endpoint) == 0

    # Then the other user sees the same inbox; ids are those of the actions addressed to them,
    # and the follow is of them
    after = view(store, other_user)

    def without_ids(listing: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**item, "id": None} for item in listing]

    for name in ("all", "unread"):
        assert without_ids(after[name]["items"]) == without_ids(
            [
                {**item, "resource": {**item["resource"], "id": other_user}} if item["type"] == "follow" else item
                for item in before[name]["items"]
            ]
        )
    shown = [stored for name, stored in inbox.items() if name not in ("reply", "unliked")]

    def resource_id(stored: NotificationEvent) -> str:
        return other_user if stored.type is NotificationType.FOLLOW else stored.resource.id

    assert {item["id"] for item in after["all"]["items"]} == {
        action_id(stored.type, stored.actor.id, stored.resource.type, resource_id(stored), other_user)
        for stored in shown
    }
    assert {name: after[name] for name in ("count", "preferences")} == {
        name: before[name] for name in ("count", "preferences")
    }
    # and no phone: the device's push endpoint is the original user's, whose phone it would reach
    assert before["devices"] != []
    assert after["devices"] == []
    # the original user is untouched, and the tombstones work for the new user too
    assert view(store, user) == before
    assert store.notifications.put(inbox["reply"].model_copy(update={"recipient_id": other_user})) is False


def test_a_malformed_file_is_refused_with_its_line_and_writes_nothing(
    table: Any, user: str, inbox: Any, other_user: str, dynamodb_endpoint: str, tmp_path: Path, capsys: Any
) -> None:
    file = tmp_path / "backup.jsonl"
    assert cli("export", user, "--output", str(file), endpoint=dynamodb_endpoint) == 0
    lines = file.read_text().splitlines()
    bad_json = tmp_path / "bad-json.jsonl"
    bad_json.write_text("\n".join([*lines[:2], '{"kind": "notification", "item": {"pk": ', *lines[3:]]) + "\n")
    bad_header = tmp_path / "bad-header.jsonl"
    bad_header.write_text("\n".join(['{"format": "something-else", "version": 1}', *lines[1:]]) + "\n")
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

    assert "would write 7 notifications, 2 tombstones" in capsys.readouterr().out
    assert stored_items(table, other_user) == []
