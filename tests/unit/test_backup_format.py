"""The backup file format (inbox_dev.backup): exact numbers, validation with line numbers, moving a user."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import Binary
from inbox.models import action_id
from inbox_dev import backup
from inbox_dev.backup import BackupError

EXPORTED_AT = datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)
NOW_S = 1_790_000_000
LIKE_ID = action_id("like", "bob", "post", "post-1", "alice")
FOLLOW_ID = action_id("follow", "carol", "user", "alice", "alice")
DELETED_ID = action_id("reply", "dave", "post", "post-2", "alice")


def items() -> list[dict[str, Any]]:
    """One item of each kind as boto3's resource returns them (numbers are Decimals), in key order."""
    return [
        {
            "pk": "U#alice",
            "sk": "D#abcdefghijklmnop",
            "platform": "fcm",
            "enabled": True,
            "arn": "arn:aws:sns:us-east-1:123456789012:endpoint/GCM/inbox-fcm/1",
            "c": Decimal(1_789_000_000_000),
        },
        {
            "pk": "U#alice",
            "sk": f"N#{FOLLOW_ID}",
            "g1pk": "U#alice#R",
            "g1sk": f"1789000000002#{FOLLOW_ID}",
            "t": "follow",
            "a": "carol",
            "an": "Carol ✓",
            "rt": "user",
            "ri": "alice",
            "c": Decimal(1_789_000_000_002),
            "s": Decimal(1_789_000_000_002),
            "r": Decimal(1_789_000_000_500),
            "ttl": Decimal(NOW_S + 86_400),
        },
        {
            "pk": "U#alice",
            "sk": f"N#{DELETED_ID}",
            "t": "reply",
            "a": "dave",
            "rt": "post",
            "ri": "post-2",
            "c": Decimal(1_789_000_000_003),
            "s": Decimal(1_789_000_000_003),
            "gone": "deleted",
            "ttl": Decimal(NOW_S + 86_400),
        },
        {
            "pk": "U#alice",
            "sk": f"N#{LIKE_ID}",
            "g1pk": "U#alice#U",
            "g1sk": f"1789000000001#{LIKE_ID}",
            "t": "like",
            "a": "bob",
            "rt": "post",
            "ri": "post-1",
            "x": 'a "quoted" post\nwith a line break',
            "c": Decimal(1_789_000_000_001),
            "s": Decimal(1_789_000_000_001),
            "ttl": Decimal(NOW_S + 86_400),
            # Not an attribute of the app: kept as it is, number exact.
            "score": Decimal("0.1000000000000000055511151231257827"),
            "nested": {"big": Decimal(10**30), "list": [Decimal("-1.5E-7"), None, False]},
        },
        {"pk": "U#alice", "sk": "PREFS", "muted": ["mention"], "ws": True, "push": False},
        {"pk": "U#alice", "sk": "STATE", "g1pk": "U#alice#U", "g1sk": "~", "w": Decimal(1_789_000_000_001)},
    ]


def export(user: str = "alice", content: list[dict[str, Any]] | None = None) -> list[str]:
    out = io.StringIO()
    backup.write_backup(user, items() if content is None else content, out, exported_at=EXPORTED_AT)
    return out.getvalue().splitlines()


def refusal(lines: list[str], **kwargs: Any) -> BackupError:
    with pytest.raises(BackupError) as caught:
        backup.read_backup([f"{line}\n" for line in lines], now_s=NOW_S, **kwargs)
    return caught.value


def test_a_backup_is_a_header_one_line_per_item_and_an_end_line() -> None:
    lines = export()

    assert json.loads(lines[0]) == {
        "format": "notification-inbox-backup",
        "version": 1,
        "user": "alice",
        "exported_at": "2026-01-02T03:04:05.678Z",
    }
    assert [json.loads(line)["kind"] for line in lines[1:]] == [
        "device",
        "notification",
        "tombstone",
        "notification",
        "preferences",
        "read_state",
        "end",
    ]
    assert json.loads(lines[-1]) == {"kind": "end", "count": 6}
    # Integers are written as integers, keys first, and text is readable (not \u-escaped)
    assert '"c": 1789000000000' in lines[1]
    assert lines[2].startswith(f'{{"kind": "notification", "item": {{"pk": "U#alice", "sk": "N#{FOLLOW_ID}"')
    assert '"an": "Carol ✓"' in lines[2]


def test_every_item_round_trips_exactly() -> None:
    backup_file = backup.read_backup(export(), now_s=NOW_S)

    assert backup_file.header == backup.Header(user="alice", exported_at="2026-01-02T03:04:05.678Z")
    assert backup_file.items == items()
    liked = backup_file.items[3]
    assert liked["score"].as_tuple() == Decimal("0.1000000000000000055511151231257827").as_tuple()
    assert liked["nested"]["big"] == 10**30
    assert isinstance(liked["c"], int)
    assert backup.describe(backup_file.counts) == (
        "2 notifications, 1 tombstone, 1 read-all watermark, 1 preferences, 1 device"
    )


def test_connections_unknown_items_and_binary_or_set_values_are_refused_on_export() -> None:
    connection = {"pk": "U#alice", "sk": "C#conn-1", "at": Decimal(1), "ttl": Decimal(NOW_S + 60)}
    with pytest.raises(BackupError, match="WebSocket connection"):
        export(content=[connection])
    with pytest.raises(BackupError, match="no backup kind for items with sk 'G#1'"):
        export(content=[{"pk": "U#alice", "sk": "G#1"}])
    with pytest.raises(BackupError, match="attribute tags: a set value"):
        export(content=[{**items()[0], "tags": {"a", "b"}}])
    with pytest.raises(BackupError, match="attribute blob: a Binary value"):
        export(content=[{**items()[0], "blob": Binary(b"\x00")}])
    with pytest.raises(BackupError, match="not in the partition U#alice"):
        export(content=[{**items()[0], "pk": "U#bob"}])


def test_items_past_their_ttl_are_left_out() -> None:
    lines = export()

    backup_file = backup.read_backup(lines, now_s=NOW_S + 86_400)

    assert backup_file.expired == 3
    assert [item["sk"] for item in backup_file.items] == ["D#abcdefghijklmnop", "PREFS", "STATE"]


def replace_line(lines: list[str], number: int, text: str) -> list[str]:
    return [text if index == number else line for index, line in enumerate(lines, start=1)]


def replace_item(lines: list[str], number: int, **changes: Any) -> list[str]:
    value = json.loads(lines[number - 1], parse_float=Decimal)
    value["item"].update(changes)
    for name in [name for name, change in changes.items() if change is None]:
        del value["item"][name]
    return replace_line(lines, number, json.dumps(value, default=int))


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (lambda lines: replace_line(lines, 3, '{"kind": "notification", "item": {'), 3, "not valid JSON"),
        (lambda lines: replace_line(lines, 1, '{"format": "something-else"}'), 1, "not a backup of this app"),
        (lambda lines: replace_line(lines, 1, lines[0].replace('"version": 1', '"version": 2')), 1, "newer"),
        (lambda lines: replace_line(lines, 1, lines[0].replace('"alice"', '""')), 1, "user must be a non-empty"),
        (lambda lines: ["\ufeff" + lines[0], *lines[1:]], 1, "not valid JSON"),
        (lambda lines: replace_line(lines, 4, "[1, 2]"), 4, "expected a JSON object"),
        (lambda lines: replace_line(lines, 4, ""), 4, "empty line"),
        (lambda lines: replace_line(lines, 2, lines[1].replace('"device"', '"connection"')), 2, "expected {"),
        (lambda lines: replace_line(lines, 2, lines[1].replace('"device"', '"preferences"')), 2, "makes the item"),
        (lambda lines: replace_line(lines, 3, lines[2].replace("U#alice#R", "U#bob#R")), 3, "has g1pk"),
        (lambda lines: replace_line(lines, 7, lines[6].replace('"w": 1789000000001', '"w": 1.5')), 7, "bad 'w'"),
        (lambda lines: replace_item(lines, 3, pk="U#bob"), 3, "pk must be 'U#alice'"),
        (lambda lines: replace_item(lines, 3, s=1), 3, "has g1sk"),
        (lambda lines: replace_item(lines, 3, t="poke"), 3, "bad 't'"),
        (lambda lines: replace_item(lines, 3, a=None), 3, "lacks attribute 'a'"),
        (lambda lines: replace_item(lines, 4, g1pk="U#alice#U"), 4, "tombstone"),
        (lambda lines: replace_item(lines, 6, muted=["spam"]), 6, "bad 'muted'"),
        (lambda lines: replace_item(lines, 2, platform="sms"), 2, "bad 'platform'"),
        (lambda lines: replace_item(lines, 2, enabled="yes"), 2, "bad 'enabled'"),
        (lambda lines: replace_line(lines, 3, lines[2].replace('"ttl": ', '"ttl": NaN, "old": ')), 3, "not valid JSON"),
        (lambda lines: [*lines[:3], lines[2], *lines[3:]], 4, "again (first on line 3)"),
        (lambda lines: lines[:-1], 8, "cut short"),
        (lambda lines: [*lines[:-1], '{"kind": "end", "count": 5}'], 8, "counts 5 items but the file holds 6"),
        (lambda lines: [*lines, lines[1]], 9, "text after the end line"),
        (lambda lines: [], 1, "empty"),
    ],
)
def test_a_bad_file_is_refused_with_the_line_to_blame(change: Any, line: int, message: str) -> None:
    error = refusal(change(export()))

    assert error.line == line
    assert str(error).startswith(f"line {line}: ")
    assert message in str(error)


def test_an_invalid_utf8_line_is_refused_with_its_number() -> None:
    lines = [line.encode() + b"\n" for line in export()]
    lines[2] = lines[2].replace(b"Carol", b"Carol\xff")

    with pytest.raises(BackupError, match=r"^line 3: not UTF-8 text$"):
        backup.read_backup(lines, now_s=NOW_S)


def test_moving_to_another_user_rewrites_every_key_that_embeds_the_user() -> None:
    moved = backup.read_backup(export(), now_s=NOW_S, user="zoe")

    follow, tombstone, like, preferences, state = moved.items
    assert moved.user == "zoe"
    assert {item["pk"] for item in moved.items} == {"U#zoe"}
    # The device is left out: its push endpoint would send zoe's notifications to the original owner's phone.
    assert moved.devices_left_out == 1
    # A notification's id is derived from its action including the recipient: recomputed, as the
    # index position; a follow's resource is the recipient itself.
    like_id = action_id("like", "bob", "post", "post-1", "zoe")
    assert (like["sk"], like["g1pk"], like["g1sk"]) == (f"N#{like_id}", "U#zoe#U", f"1789000000001#{like_id}")
    follow_id = action_id("follow", "carol", "user", "zoe", "zoe")
    assert (follow["sk"], follow["g1pk"], follow["ri"]) == (f"N#{follow_id}", "U#zoe#R", "zoe")
    assert tombstone["sk"] == f"N#{action_id('reply', 'dave', 'post', 'post-2', 'zoe')}"
    assert "g1pk" not in tombstone
    assert state == {**items()[5], "pk": "U#zoe", "g1pk": "U#zoe#U"}
    assert preferences == {**items()[4], "pk": "U#zoe"}
    # and the moved items are a valid backup of the new user
    rewritten = io.StringIO()
    backup.write_backup("zoe", moved.items, rewritten, exported_at=EXPORTED_AT)
    assert backup.read_backup(rewritten.getvalue().splitlines(), now_s=NOW_S).items == moved.items


@pytest.mark.parametrize("user", ["", " zoe", "z" * 129])
def test_a_bad_target_user_is_refused(user: str) -> None:
    with pytest.raises(BackupError, match="--user"):
        backup.read_backup(export(), now_s=NOW_S, user=user)


def test_the_default_file_name_is_safe_for_any_user_id() -> None:
    assert backup.default_file_name("alice") == "alice.jsonl"
    assert backup.default_file_name("../a b/c.d") == "___a_b_c_d.jsonl"
