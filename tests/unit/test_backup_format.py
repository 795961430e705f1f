"""The backup file format (inbox_dev.backup): exact numbers, validation with line numbers, moving a user,
and files of version 1 (the first data model)."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import Binary
from inbox.ingest.grouping import group_entry_id, group_key
from inbox.models import Actor, NotificationEvent, NotificationType, Resource, action_id
from inbox_dev import backup
from inbox_dev.backup import BackupError

EXPORTED_AT = datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)
NOW_S = 1_790_000_000
DAY_MS = 86_400_000
T = 1_789_000_000_000  # arrival times below are T + a few ms
LATER_TTL = Decimal(NOW_S + 86_400)


def group_id(kind: NotificationType, resource: Resource, user: str = "alice") -> str:
    """The id ingest gives the group an action of `kind` on `resource` starts at T."""
    event = NotificationEvent(
        type=kind, recipient_id=user, actor=Actor(id="x"), resource=resource, occurred_at=EXPORTED_AT
    )
    key = group_key(event)
    assert key is not None
    return group_entry_id(user, key, T // DAY_MS)


LIKES = group_id(NotificationType.LIKE, Resource(type="post", id="post-1"))
FOLLOWS = group_id(NotificationType.FOLLOW, Resource(type="user", id="alice"))
UNLIKED = group_id(NotificationType.LIKE, Resource(type="post", id="post-5"))
MENTION = action_id("mention", "frank", "post", "post-4", "alice")
DELETED = action_id("reply", "dave", "post", "post-2", "alice")
FIRST = action_id("like", "bob", "post", "post-9", "alice")  # stored by the first version
AHEAD = action_id("like", "ivan", "post", "post-7", "alice")  # unliked before its like, under the first version


def position(at: int, entry: str) -> str:
    return f"{at:013d}#{entry}"


def member(action: str, **attributes: Any) -> dict[str, Any]:
    return {"pk": "U#alice", "sk": f"M#{action}", **attributes, "ttl": LATER_TTL}


def items() -> list[dict[str, Any]]:
    """Every kind of item, as boto3's resource returns them (numbers are Decimals), in key order."""
    stored = [
        {
            "pk": "U#alice",
            "sk": "D#abcdefghijklmnop",
            "platform": "fcm",
            "enabled": True,
            "arn": "arn:aws:sns:us-east-1:123456789012:endpoint/GCM/inbox-fcm/1",
            "c": Decimal(T),
        },
        # Four likes of post-1 joined one group; grace's like of post-5 was undone, heidi's unlike
        # of post-6 came before its like.
        member(action_id("like", "bob", "post", "post-1", "alice"), g=LIKES),
        member(action_id("like", "erin", "post", "post-1", "alice"), g=LIKES),
        member(action_id("follow", "carol", "user", "alice", "alice"), g=FOLLOWS),
        member(action_id("like", "grace", "post", "post-5", "alice"), g=UNLIKED, gone="retracted"),
        member(action_id("like", "heidi", "post", "post-6", "alice"), gone="retracted"),
        {
            "pk": "U#alice",
            "sk": f"N#{LIKES}",
            "g1pk": "U#alice#U",
            "g1sk": position(T + 40, LIKES),
            "t": "like",
            "rt": "post",
            "ri": "post-1",
            "x": 'a "quoted" post\nwith a line break',
            "a0": {"i": "erin", "n": "Erin ✓", "v": "https://cdn.example.com/erin.png"},
            "a1": {"i": "dave"},
            "a2": {"i": "carol", "n": "Carol"},
            "n": Decimal(4),
            "c": Decimal(T + 10),
            "u": Decimal(T + 40),
            "o": Decimal(T + 39),
            "lp": Decimal(T + 10),
            "rg": "",
            "ttl": LATER_TTL,
            # Not attributes of the app: kept as they are, numbers exact.
            "score": Decimal("0.1000000000000000055511151231257827"),
            "nested": {"big": Decimal(10**30), "list": [Decimal("-1.5E-7"), None, False]},
        },
        {
            "pk": "U#alice",
            "sk": f"N#{FOLLOWS}",
            "g1pk": "U#alice#A",
            "g1sk": position(T + 20, FOLLOWS),
            "t": "follow",
            "rt": "user",
            "ri": "alice",
            "a0": {"i": "carol"},
            "n": Decimal(1),
            "c": Decimal(T + 20),
            "u": Decimal(T + 20),
            "o": Decimal(T + 19),
            "lp": Decimal(T + 20),
            "r": Decimal(T + 500),
            "ttl": LATER_TTL,
        },
        {
            "pk": "U#alice",
            "sk": f"N#{UNLIKED}",
            "t": "like",
            "rt": "post",
            "ri": "post-5",
            "a0": {"i": "grace"},
            "a1": None,
            "a2": None,
            "n": Decimal(1),
            "c": Decimal(T + 50),
            "u": Decimal(T + 50),
            "o": Decimal(T + 49),
            "gone": "retracted",
            "ttl": LATER_TTL,
        },
        {
            "pk": "U#alice",
            "sk": f"N#{MENTION}",
            "g1pk": "U#alice#U",
            "g1sk": position(T + 30, MENTION),
            "g2pk": "U#alice#M",
            "g2sk": position(T + 30, MENTION),
            "t": "mention",
            "rt": "post",
            "ri": "post-4",
            "a0": {"i": "frank"},
            "n": Decimal(1),
            "c": Decimal(T + 30),
            "u": Decimal(T + 30),
            "o": Decimal(T + 29),
            "ux": Decimal(T + 900),
            "ttl": LATER_TTL,
        },
        {
            "pk": "U#alice",
            "sk": f"N#{DELETED}",
            "t": "reply",
            "rt": "post",
            "ri": "post-2",
            "a0": {"i": "dave"},
            "n": Decimal(1),
            "c": Decimal(T + 60),
            "u": Decimal(T + 60),
            "o": Decimal(T + 59),
            "gone": "deleted",
            "ttl": LATER_TTL,
        },
        {
            "pk": "U#alice",
            "sk": f"N#{FIRST}",
            "g1pk": "U#alice#R",
            "g1sk": position(T + 1, FIRST),
            "t": "like",
            "a": "bob",
            "an": "Bob",
            "rt": "post",
            "ri": "post-9",
            "c": Decimal(T - 5_000),
            "s": Decimal(T + 1),
            "r": Decimal(T + 2),
            "ttl": LATER_TTL,
        },
        {"pk": "U#alice", "sk": f"N#{AHEAD}", "gone": "retracted", "rg": "", "ttl": LATER_TTL},
        {"pk": "U#alice", "sk": "PREFS", "muted": ["mention"], "ws": True, "push": False},
        {
            "pk": "U#alice",
            "sk": "STATE",
            "g1pk": "U#alice#U",
            "g1sk": "~",
            "w": Decimal(T + 100),
            "sw": Decimal(T + 200),
            "cw": Decimal(T),
            "xo": position(T + 30, MENTION),
        },
    ]
    return sorted(stored, key=lambda item: str(item["sk"]))


def item(sk: str) -> dict[str, Any]:
    return next(stored for stored in items() if stored["sk"] == sk)


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
        "version": 2,
        "user": "alice",
        "exported_at": "2026-01-02T03:04:05.678Z",
    }
    body = [json.loads(line) for line in lines[1:-1]]
    assert [value["item"]["sk"] for value in body] == [stored["sk"] for stored in items()]
    assert Counter(value["kind"] for value in body) == {
        "device": 1,
        "member": 5,
        "notification": 4,
        "tombstone": 3,
        "preferences": 1,
        "state": 1,
    }
    assert json.loads(lines[-1]) == {"kind": "end", "count": 15}
    # Integers are written as integers, keys first, and text is readable (not \u-escaped)
    assert '"c": 1789000000000' in lines[1]
    likes = next(line for line in lines if f'"N#{LIKES}"' in line)
    assert likes.startswith(f'{{"kind": "notification", "item": {{"pk": "U#alice", "sk": "N#{LIKES}"')
    assert '"a0": {"i": "erin", "n": "Erin ✓", "v": "https://cdn.example.com/erin.png"}' in likes


def test_every_item_round_trips_exactly() -> None:
    backup_file = backup.read_backup(export(), now_s=NOW_S)

    assert backup_file.header == backup.Header(user="alice", exported_at="2026-01-02T03:04:05.678Z")
    assert backup_file.items == items()
    likes = next(stored for stored in backup_file.items if stored["sk"] == f"N#{LIKES}")
    assert likes["score"].as_tuple() == Decimal("0.1000000000000000055511151231257827").as_tuple()
    assert likes["nested"]["big"] == 10**30
    assert isinstance(likes["u"], int)
    assert likes["a1"] == {"i": "dave"}
    assert backup.describe(backup_file.counts) == (
        "4 notifications, 3 tombstones, 5 group members, 1 watermarks, 1 preferences, 1 device"
    )


def test_connections_flood_counters_unknown_items_and_binary_or_set_values_are_refused_on_export() -> None:
    connection = {"pk": "U#alice", "sk": "C#conn-1", "at": Decimal(1), "ttl": Decimal(NOW_S + 60)}
    with pytest.raises(BackupError, match="WebSocket connection"):
        export(content=[connection])
    with pytest.raises(BackupError, match="flood counter"):
        export(content=[{"pk": "U#alice", "sk": "F#1789000000#bob", "ids": {"x"}}])
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

    assert backup_file.expired == 12
    assert [stored["sk"] for stored in backup_file.items] == ["D#abcdefghijklmnop", "PREFS", "STATE"]


def line_of(lines: list[str], sk: str) -> int:
    """The 1-based number of the item's line."""
    return next(number for number, line in enumerate(lines, start=1) if f'"sk": {json.dumps(sk)}' in line)


def replace_line(lines: list[str], number: int, text: str) -> list[str]:
    return [text if index == number else line for index, line in enumerate(lines, start=1)]


def replace_item(lines: list[str], number: int, **changes: Any) -> list[str]:
    value = json.loads(lines[number - 1], parse_float=Decimal)
    value["item"].update(changes)
    for name in [name for name, change in changes.items() if change is None]:
        del value["item"][name]
    return replace_line(lines, number, json.dumps(value, default=int))


Change = Callable[[list[str]], tuple[list[str], int]]


def edit(sk: str, **changes: Any) -> Change:
    """Change attributes of the item with this sort key (None deletes one); the line to blame is its own."""

    def change(lines: list[str]) -> tuple[list[str], int]:
        number = line_of(lines, sk)
        return replace_item(lines, number, **changes), number

    return change


def text(sk: str, old: str, new: str) -> Change:
    """Replace text in the line of the item with this sort key (or in the header, for sk "")."""

    def change(lines: list[str]) -> tuple[list[str], int]:
        number = line_of(lines, sk) if sk else 1
        assert old in lines[number - 1]
        return replace_line(lines, number, lines[number - 1].replace(old, new, 1)), number

    return change


def whole(change: Callable[[list[str]], list[str]], line: Callable[[list[str]], int]) -> Change:
    return lambda lines: (change(lines), line(lines))


MEMBER = f"M#{action_id('like', 'bob', 'post', 'post-1', 'alice')}"
AHEAD_MEMBER = f"M#{action_id('like', 'heidi', 'post', 'post-6', 'alice')}"
DEVICE = "D#abcdefghijklmnop"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # the file
        (whole(lambda lines: replace_line(lines, 3, '{"kind": "member", "item": {'), lambda _: 3), "not valid JSON"),
        (text("", '"format": "notification-inbox-backup"', '"format": "something-else"'), "not a backup of this app"),
        (text("", '"version": 2', '"version": 3'), "newer"),
        (text("", '"version": 2', '"version": 0'), "positive integer"),
        (text("", '"alice"', '""'), "user must be a non-empty"),
        (whole(lambda lines: ["\ufeff" + lines[0], *lines[1:]], lambda _: 1), "not valid JSON"),
        (whole(lambda lines: replace_line(lines, 4, "[1, 2]"), lambda _: 4), "expected a JSON object"),
        (whole(lambda lines: replace_line(lines, 4, ""), lambda _: 4), "empty line"),
        (whole(lambda lines: [*lines[:3], lines[2], *lines[3:]], lambda _: 4), "again (first on line 3)"),
        (whole(lambda lines: lines[:-1], len), "cut short"),
        (
            whole(lambda lines: [*lines[:-1], '{"kind": "end", "count": 5}'], len),
            "counts 5 items but the file holds 15",
        ),
        (whole(lambda lines: [*lines, lines[1]], lambda lines: len(lines) + 1), "text after the end line"),
        (whole(lambda lines: [], lambda _: 1), "empty"),
        (text(f"N#{LIKES}", '"ttl": ', '"ttl": NaN, "old": '), "not valid JSON"),
        # kinds
        (text(DEVICE, '"device"', '"connection"'), "expected {"),
        (text("STATE", '"state"', '"read_state"'), "expected {"),  # the name of version 1 only
        (text(DEVICE, '"device"', '"preferences"'), "makes the item"),
        (text(MEMBER, '"member"', '"notification"'), "makes the item"),
        (edit(f"N#{LIKES}", pk="U#bob"), "pk must be 'U#alice'"),
        # entries
        (edit(f"N#{LIKES}", g1pk="U#bob#U"), "has g1pk"),
        (edit(f"N#{LIKES}", g1pk="U#alice#M"), "has g1pk"),
        (edit(f"N#{LIKES}", u=T + 41), "not <u>#<id>"),
        (edit(f"N#{LIKES}", u=None), "lacks attribute 'u'"),
        (edit(f"N#{LIKES}", a0=None), "lacks attribute 'a0'"),
        (edit(f"N#{LIKES}", a0={"n": "Erin"}), "bad 'a0'"),
        (edit(f"N#{LIKES}", a1="dave"), "bad 'a1'"),
        (edit(f"N#{LIKES}", n=0), "bad 'n'"),
        (edit(f"N#{LIKES}", t="poke"), "bad 't'"),
        (edit(f"N#{LIKES}", rg=1), "bad 'rg'"),
        (edit(f"N#{LIKES}", g2pk="U#alice#M", g2sk=position(T + 40, LIKES)), "only mentions and replies"),
        (edit(f"N#{MENTION}", g2pk=None, g2sk=None), "lacks tabs index keys"),
        (edit(f"N#{MENTION}", g2sk=None), "lacks tabs index keys"),
        (edit(f"N#{MENTION}", g2sk=position(T + 31, MENTION)), "tabs index keys"),
        (edit(f"N#{MENTION}", g2pk="U#bob#M"), "tabs index keys"),
        (edit(f"N#{FIRST}", a=None), "lacks attribute 'a'"),
        (edit(f"N#{FIRST}", s=1), "not <s>#<id>"),
        (edit(f"N#{FIRST}", an=7), "bad 'an'"),
        (edit(f"N#{DELETED}", g1pk="U#alice#U"), "a tombstone is out of the index"),
        (edit(f"N#{DELETED}", gone="hidden"), "bad 'gone'"),
        (edit(f"N#{AHEAD}", ttl="soon"), "bad 'ttl'"),
        # members
        (edit(MEMBER, g=None), "neither 'g' (its group) nor 'gone'"),
        (edit(AHEAD_MEMBER, gone="deleted"), "bad 'gone'"),
        (edit(MEMBER, g1pk="U#alice#U", g1sk="~"), "never in an index"),
        (edit(MEMBER, g=""), "bad 'g'"),
        # watermarks, preferences, devices
        (text("STATE", f'"w": {T + 100}', '"w": 1.5'), "bad 'w'"),
        (edit("STATE", sw="yesterday"), "bad 'sw'"),
        (edit("STATE", xo="12#abc"), "bad 'xo'"),
        (edit("STATE", g1pk="U#alice#R"), "not the unread partition and ~"),
        (edit("STATE", g2pk="U#alice#M", g2sk="~"), "tabs index keys"),
        (edit("PREFS", muted=["spam"]), "bad 'muted'"),
        (edit(DEVICE, platform="sms"), "bad 'platform'"),
        (edit(DEVICE, enabled="yes"), "bad 'enabled'"),
        (edit(DEVICE, g1pk="U#alice#U"), "never in an index"),
    ],
)
def test_a_bad_file_is_refused_with_the_line_to_blame(change: Change, message: str) -> None:
    lines, line = change(export())

    error = refusal(lines)

    assert error.line == line
    assert str(error).startswith(f"line {line}: ")
    assert message in str(error)


def test_an_invalid_utf8_line_is_refused_with_its_number() -> None:
    lines = [line.encode() + b"\n" for line in export()]
    number = line_of(export(), f"N#{LIKES}")
    lines[number - 1] = lines[number - 1].replace(b"Erin", b"Erin\xff")

    with pytest.raises(BackupError, match=rf"^line {number}: not UTF-8 text$"):
        backup.read_backup(lines, now_s=NOW_S)


def test_unknown_attributes_of_a_newer_version_are_kept() -> None:
    # Given items with attributes this version does not know, in actors and members too
    content = items()
    for stored in content:
        if stored["sk"] in (f"N#{LIKES}", MEMBER):
            stored["future"] = {"reaction": "🎉"}
        if stored["sk"] == f"N#{LIKES}":
            stored["a0"] = {**stored["a0"], "badge": "gold"}

    # When they are exported and read back
    read = backup.read_backup(export(content=content), now_s=NOW_S)

    # Then nothing is lost
    assert read.items == content


def by_sk(moved: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(stored["sk"]): stored for stored in moved}


def test_moving_to_another_user_rewrites_every_key_that_embeds_the_user() -> None:
    # When alice's backup is read for zoe
    moved = backup.read_backup(export(), now_s=NOW_S, user="zoe")

    # Then every item is in zoe's partition
    assert moved.user == "zoe"
    assert {stored["pk"] for stored in moved.items} == {"U#zoe"}
    stored = by_sk(moved.items)
    # Entries of one action get the id of the action addressed to zoe, with their index positions
    mention = action_id("mention", "frank", "post", "post-4", "zoe")
    assert {name: stored[f"N#{mention}"][name] for name in ("g1pk", "g1sk", "g2pk", "g2sk")} == {
        "g1pk": "U#zoe#U",
        "g1sk": position(T + 30, mention),
        "g2pk": "U#zoe#M",
        "g2sk": position(T + 30, mention),
    }
    first = action_id("like", "bob", "post", "post-9", "zoe")
    assert (stored[f"N#{first}"]["g1pk"], stored[f"N#{first}"]["g1sk"]) == ("U#zoe#R", position(T + 1, first))
    assert stored[f"N#{action_id('reply', 'dave', 'post', 'post-2', 'zoe')}"]["gone"] == "deleted"
    # Group entries keep their ids; a follow's resource is the recipient itself
    assert (stored[f"N#{LIKES}"]["g1pk"], stored[f"N#{LIKES}"]["g1sk"]) == ("U#zoe#U", position(T + 40, LIKES))
    assert stored[f"N#{FOLLOWS}"]["ri"] == "zoe"
    assert stored[f"N#{FOLLOWS}"]["g1pk"] == "U#zoe#A"
    assert stored[f"N#{UNLIKED}"] == {**item(f"N#{UNLIKED}"), "pk": "U#zoe"}
    # The watermarks move, and the entry marked unread under them is found by its new id
    assert stored["STATE"] == {**item("STATE"), "pk": "U#zoe", "g1pk": "U#zoe#U", "xo": position(T + 30, mention)}
    assert stored["PREFS"] == {**item("PREFS"), "pk": "U#zoe"}
    # Left out: the device (its push endpoint would send zoe's notifications to alice's phone),
    # group members (their ids are those of alice's actions) and the first version's tombstone
    # that names no action
    assert moved.left_out == {"device": 1, "member": 5, "tombstone": 1}
    assert backup.describe(moved.counts) == "4 notifications, 2 tombstones, 1 watermarks, 1 preferences"
    assert not any(sk.startswith(("D#", "M#")) for sk in stored)
    # and the moved items are a valid backup of the new user
    rewritten = io.StringIO()
    backup.write_backup("zoe", moved.items, rewritten, exported_at=EXPORTED_AT)
    assert backup.read_backup(rewritten.getvalue().splitlines(), now_s=NOW_S).items == moved.items


# -- version 1 files: what the first version of this tool wrote --------------------------------

V1_LIKE = action_id("like", "bob", "post", "post-1", "alice")
V1_FOLLOW = action_id("follow", "carol", "user", "alice", "alice")
V1_DELETED = action_id("reply", "dave", "post", "post-2", "alice")


def v1_items() -> list[dict[str, Any]]:
    """A user's items in the first data model: entries of one actor (c the producer's time, s the
    arrival), a tombstone, the read-all watermark alone."""
    return [
        {
            "pk": "U#alice",
            "sk": "D#abcdefghijklmnop",
            "platform": "fcm",
            "enabled": True,
            "arn": "arn:aws:sns:us-east-1:123456789012:endpoint/GCM/inbox-fcm/1",
            "c": T,
        },
        {
            "pk": "U#alice",
            "sk": f"N#{V1_FOLLOW}",
            "g1pk": "U#alice#R",
            "g1sk": position(T + 2, V1_FOLLOW),
            "t": "follow",
            "a": "carol",
            "an": "Carol ✓",
            "rt": "user",
            "ri": "alice",
            "c": T + 2,
            "s": T + 2,
            "r": T + 500,
            "ttl": NOW_S + 86_400,
        },
        {
            "pk": "U#alice",
            "sk": f"N#{V1_DELETED}",
            "t": "reply",
            "a": "dave",
            "rt": "post",
            "ri": "post-2",
            "c": T + 3,
            "s": T + 3,
            "gone": "deleted",
            "ttl": NOW_S + 86_400,
        },
        {
            "pk": "U#alice",
            "sk": f"N#{V1_LIKE}",
            "g1pk": "U#alice#U",
            "g1sk": position(T + 1, V1_LIKE),
            "t": "like",
            "a": "bob",
            "rt": "post",
            "ri": "post-1",
            "c": T + 1,
            "s": T + 1,
            "ttl": NOW_S + 86_400,
        },
        {"pk": "U#alice", "sk": "PREFS", "muted": ["mention"], "ws": True, "push": False},
        {"pk": "U#alice", "sk": "STATE", "g1pk": "U#alice#U", "g1sk": "~", "w": T + 1},
    ]


def v1_file(content: list[dict[str, Any]] | None = None) -> list[str]:
    """The lines the first version of the tool wrote: kinds of its own, read_state for STATE."""
    header = {"format": "notification-inbox-backup", "version": 1, "user": "alice", "exported_at": "2026-01-01T00:00Z"}
    stored = v1_items() if content is None else content
    kinds = {"D#": "device", "N#": "notification", "PREFS": "preferences", "STATE": "read_state"}
    lines = [json.dumps(header)]
    for value in stored:
        kind = next(kind for prefix, kind in kinds.items() if str(value["sk"]).startswith(prefix))
        kind = "tombstone" if "gone" in value else kind
        lines.append(json.dumps({"kind": kind, "item": value}, ensure_ascii=False))
    return [*lines, json.dumps({"kind": "end", "count": len(stored)})]


def test_a_version_1_file_still_reads_with_its_items_as_they_were() -> None:
    # When a file of the first version is read
    read = backup.read_backup(v1_file(), now_s=NOW_S)

    # Then its items come back unchanged, the read-all watermark as today's watermarks
    assert read.header.version == 1
    assert read.items == v1_items()
    assert backup.describe(read.counts) == "2 notifications, 1 tombstone, 1 watermarks, 1 preferences, 1 device"
    # and written again, they make a file of today's version
    lines = export(content=read.items)
    assert json.loads(lines[0])["version"] == 2
    assert backup.read_backup(lines, now_s=NOW_S).items == v1_items()


def test_a_version_1_file_moves_to_another_user_by_its_actions() -> None:
    moved = by_sk(backup.read_backup(v1_file(), now_s=NOW_S, user="zoe").items)

    like = action_id("like", "bob", "post", "post-1", "zoe")
    follow = action_id("follow", "carol", "user", "zoe", "zoe")
    assert (moved[f"N#{like}"]["g1pk"], moved[f"N#{like}"]["g1sk"]) == ("U#zoe#U", position(T + 1, like))
    assert (moved[f"N#{follow}"]["g1pk"], moved[f"N#{follow}"]["ri"]) == ("U#zoe#R", "zoe")
    assert f"N#{action_id('reply', 'dave', 'post', 'post-2', 'zoe')}" in moved
    assert moved["STATE"] == {**v1_items()[-1], "pk": "U#zoe", "g1pk": "U#zoe#U"}


def test_a_version_1_file_keeps_the_first_version_kinds() -> None:
    # A member is no kind of version 1, nor is state (its name was read_state)
    lines = v1_file()
    with_member = [
        *lines[:2],
        json.dumps({"kind": "member", "item": member("a" * 26, g=LIKES)}, default=int),
        *lines[2:],
    ]
    with_member[-1] = json.dumps({"kind": "end", "count": len(v1_items()) + 1})
    renamed = [line.replace('"kind": "read_state"', '"kind": "state"') for line in lines]

    assert "version 1" in str(refusal(with_member))
    assert refusal(with_member).line == 3
    assert refusal(renamed).line == len(lines) - 1
    # and the first version's tombstone of an unlike ahead of its like, which it could not read back, reads now
    ahead = {"pk": "U#alice", "sk": f"N#{AHEAD}", "gone": "retracted", "rg": "", "ttl": NOW_S + 60}
    assert backup.read_backup(v1_file([*v1_items(), ahead]), now_s=NOW_S).counts["tombstone"] == 2


@pytest.mark.parametrize("user", ["", " zoe", "z" * 129])
def test_a_bad_target_user_is_refused(user: str) -> None:
    with pytest.raises(BackupError, match="--user"):
        backup.read_backup(export(), now_s=NOW_S, user=user)


def test_the_default_file_name_is_safe_for_any_user_id() -> None:
    assert backup.default_file_name("alice") == "alice.jsonl"
    assert backup.default_file_name("../a b/c.d") == "___a_b_c_d.jsonl"
