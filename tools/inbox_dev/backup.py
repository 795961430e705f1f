"""Backups of one user as JSON Lines: what `python -m inbox_dev export` writes and `import` reads.

A backup is UTF-8 text, one JSON object per line: a header, one line per item of the user's
partition (in key order), and an end line that makes a cut-off file detectable::

    {"format": "notification-inbox-backup", "version": 2, "user": "alice", "exported_at": "…Z"}
    {"kind": "device", "item": {"pk": "U#alice", "sk": "D#…", "arn": "…", …}}
    {"kind": "member", "item": {"pk": "U#alice", "sk": "M#…", "g": "…", "ttl": 1775001600}}
    {"kind": "notification", "item": {"pk": "U#alice", "sk": "N#…", "a0": {"i": "bob"}, "n": 3, …}}
    {"kind": "tombstone", "item": {"pk": "U#alice", "sk": "N#…", "gone": "deleted", …}}
    {"kind": "preferences", "item": {"pk": "U#alice", "sk": "PREFS", "muted": [], …}}
    {"kind": "state", "item": {"pk": "U#alice", "sk": "STATE", "w": 1767225600000, "sw": …}}
    {"kind": "end", "count": 6}

An item is the table's own attributes (inbox/store/keys.py and items.py document them) as plain JSON, so that
a restore puts back exactly what was stored. Numbers are written exactly (integers as integers) and
read back exactly; binary and set attributes are not used by the app and are refused.

Kinds: ``notification`` (an inbox entry: one action, or a group of them; entries stored by the
first version of the app, with one actor in a/an/av, may still be in a table and are kept as they
are), ``tombstone`` (a deleted or retracted entry), ``member`` (the action that joined a group, or
its tombstone once undone), ``state`` (the read-all, seen-all and clear-all watermarks),
``preferences`` and ``device``.

Tombstones are kept, of entries and of members: they are what stops a redelivered or repeated
action from notifying again after a delete or an unlike (even an unlike that arrived before its
like), and that guarantee should survive a restore. WebSocket connections and flood counters are
not: they die with their sockets and their windows.

Version 1 files (the first data model) still import: their kinds are notification, tombstone,
read_state (the STATE item with the read-all watermark only, now a ``state``), preferences and
device, and their entries are of the first version's shape.

Nothing here talks to DynamoDB: the CLI reads and writes items with table_backup.py.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TextIO

from inbox.models import NotificationType, action_id
from inbox.store.items import ACTOR_SLOTS, MENTION_TAB_TYPES, updated_ms
from inbox.store.keys import (
    ARCHIVED_SUFFIX,
    PREFS_SK,
    READ_SUFFIX,
    STATE_POSITION,
    STATE_SK,
    UNREAD_SUFFIX,
    ItemKind,
    id_of,
    mentions_partition,
    position,
    sort_key,
    unread_partition,
    user_pk,
)
from inbox.store.preferences import preferences_from_item
from inbox.timestamps import iso_z

FORMAT = "notification-inbox-backup"
VERSION = 2
END = "end"
USER_ID_MAX_CHARS = 128

# Kinds of item, in the words of the file; the label is for summaries (singular, plural).
KINDS = {
    "notification": ("notification", "notifications"),
    "tombstone": ("tombstone", "tombstones"),
    "member": ("group member", "group members"),
    "state": ("watermarks", "watermarks"),
    "preferences": ("preferences", "preferences"),
    "device": ("device", "devices"),
}
# The kinds a file of each version holds, and the kind each is now.
KINDS_OF_VERSION: dict[int, dict[str, str]] = {
    1: {
        "notification": "notification",
        "tombstone": "tombstone",
        "read_state": "state",
        "preferences": "preferences",
        "device": "device",
    },
    2: {kind: kind for kind in KINDS},
}
# The kinds whose sort key is a prefix and an id.
ID_PREFIXES = {
    "notification": ItemKind.NOTIFICATION,
    "tombstone": ItemKind.NOTIFICATION,
    "member": ItemKind.MEMBER,
    "device": ItemKind.DEVICE,
}
GONE_REASONS = frozenset({"deleted", "retracted"})
PLATFORMS = frozenset({"apns", "apns_sandbox", "fcm"})
NOTIFICATION_TYPES = frozenset(kind.value for kind in NotificationType)
INDEX_KEYS = ("g1pk", "g1sk", "g2pk", "g2sk")
# Where an entry's index partition may be: unread, read, archived.
ENTRY_PARTITIONS = (UNREAD_SUFFIX, READ_SUFFIX, ARCHIVED_SUFFIX)
POSITION_PATTERN = re.compile(r"\d{13}#.+")


class BackupError(ValueError):
    """A file or an item that is not a valid backup; `line` is 1-based when a line is to blame."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.line = line


@dataclass(frozen=True)
class Header:
    user: str
    exported_at: str
    version: int = VERSION


@dataclass
class Backup:
    """A validated file: the items to write (already moved to the target user) and what was left out."""

    header: Header
    user: str
    items: list[dict[str, Any]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    expired: int = 0
    # Items that cannot be restored under another user, by kind (see move_item).
    left_out: Counter[str] = field(default_factory=Counter)


# -- what an item is --------------------------------------------------------------------------


def kind_of(item: Mapping[str, Any]) -> str:
    """The kind of a stored item, from its sort key; BackupError for what a backup must not hold."""
    sk = item.get("sk")
    if not isinstance(sk, str):
        raise BackupError("the item has no string sk")
    if sk.startswith(ItemKind.NOTIFICATION.value):
        return "tombstone" if "gone" in item else "notification"
    if sk.startswith(ItemKind.MEMBER.value):
        return "member"
    if sk == STATE_SK:
        return "state"
    if sk == PREFS_SK:
        return "preferences"
    if sk.startswith(ItemKind.DEVICE.value):
        return "device"
    if sk.startswith(ItemKind.CONNECTION.value):
        raise BackupError(f"{sk} is a WebSocket connection: connections are not backed up")
    if sk.startswith(ItemKind.FLOOD_COUNTER.value):
        raise BackupError(f"{sk} is a flood counter: flood counters are not backed up")
    raise BackupError(f"no backup kind for items with sk {sk!r}: teach inbox_dev/backup.py about them")


def check_user_id(user_id: Any, what: str = "user id") -> str:
    """The rules of models.UserId, without stripping: a backup never changes an id silently."""
    if not isinstance(user_id, str) or not user_id.strip():
        raise BackupError(f"{what} must be a non-empty string, not {user_id!r}")
    if user_id != user_id.strip() or len(user_id) > USER_ID_MAX_CHARS:
        raise BackupError(f"{what} {user_id!r} has surrounding spaces or more than {USER_ID_MAX_CHARS} characters")
    return user_id


def default_file_name(user_id: str) -> str:
    """`<user>.jsonl`, with characters that do not belong in a file name replaced by "_"."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", user_id) + ".jsonl"


def describe(counts: Mapping[str, int]) -> str:
    """'3 notifications, 1 tombstone, 1 device' in the order of KINDS."""
    parts = [f"{counts[kind]} {KINDS[kind][counts[kind] != 1]}" for kind in KINDS if counts.get(kind)]
    return ", ".join(parts) or "nothing"


# -- writing ----------------------------------------------------------------------------------


def _encode(value: Any, where: str) -> str:
    """JSON text for an attribute value as boto3 returns it, numbers exact (json.dumps has no Decimal)."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise BackupError(f"{where}: {value} is not a number DynamoDB can hold")
        # str() of a non-integral Decimal is valid JSON ("0.5", "1E-7") and parses back exactly.
        return str(int(value)) if value == value.to_integral_value() else str(value)
    if isinstance(value, Mapping):
        members = (
            f"{json.dumps(str(name), ensure_ascii=False)}: {_encode(member, f'{where}.{name}')}"
            for name, member in value.items()
        )
        return "{" + ", ".join(members) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_encode(element, where) for element in value) + "]"
    raise BackupError(
        f"{where}: a {type(value).__name__} value (a DynamoDB binary or set type) is not used by the app "
        "and cannot be backed up"
    )


def header_line(user_id: str, exported_at: datetime) -> str:
    stamp = iso_z(exported_at)
    header = {"format": FORMAT, "version": VERSION, "user": check_user_id(user_id), "exported_at": stamp}
    return json.dumps(header, ensure_ascii=False)


def item_line(item: Mapping[str, Any]) -> tuple[str, str]:
    """The kind of an item and its line: keys first, then the other attributes by name."""
    kind = kind_of(item)
    ordered = {name: item[name] for name in ("pk", "sk") if name in item}
    ordered.update({name: item[name] for name in sorted(item) if name not in ordered})
    sort_key = item.get("sk")
    attributes = (
        f"{json.dumps(name, ensure_ascii=False)}: {_encode(value, f'item {sort_key}, attribute {name}')}"
        for name, value in ordered.items()
    )
    return kind, f'{{"kind": "{kind}", "item": {{{", ".join(attributes)}}}}}'


def end_line(count: int) -> str:
    return json.dumps({"kind": END, "count": count})


def write_backup(
    user_id: str, items: Iterable[Mapping[str, Any]], out: TextIO, *, exported_at: datetime
) -> Counter[str]:
    """Write a whole backup of the user's items to `out`; the number of items of each kind."""
    out.write(header_line(user_id, exported_at) + "\n")
    counts: Counter[str] = Counter()
    expected_pk = user_pk(user_id)
    for item in items:
        if item.get("pk") != expected_pk:
            raise BackupError(f"item {item.get('pk')} {item.get('sk')} is not in the partition {expected_pk}")
        kind, line = item_line(item)
        out.write(line + "\n")
        counts[kind] += 1
    out.write(end_line(counts.total()) + "\n")
    return counts


# -- reading ----------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number DynamoDB can hold")


def _parse(raw: str | bytes, number: int) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise BackupError("not UTF-8 text", line=number) from None
    text = text.rstrip("\r\n")
    if not text.strip():
        raise BackupError("empty line; every line is one JSON object", line=number)
    try:
        value = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except ValueError as error:
        raise BackupError(f"not valid JSON ({error})", line=number) from None
    if not isinstance(value, dict):
        raise BackupError(f"expected a JSON object, found {type(value).__name__}", line=number)
    return value


def parse_header(raw: str | bytes) -> Header:
    value = _parse(raw, 1)
    if value.get("format") != FORMAT:
        raise BackupError(
            f'not a backup of this app: the first line must be a header with "format": "{FORMAT}"', line=1
        )
    version = value.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BackupError(f"the header's version must be a positive integer, not {version!r}", line=1)
    if version > VERSION:
        raise BackupError(f"version {version} is newer than this tool reads (up to {VERSION})", line=1)
    exported_at = value.get("exported_at")
    if not isinstance(exported_at, str):
        raise BackupError("the header has no exported_at string", line=1)
    try:
        user = check_user_id(value.get("user"), "the header's user")
    except BackupError as error:
        raise BackupError(str(error), line=1) from None
    return Header(user=user, exported_at=exported_at, version=version)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return _is_int(value) and value >= 1


def _is_str(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _is_text(value: Any) -> bool:
    """Any string, empty too (a region is written empty outside replicated tables)."""
    return isinstance(value, str)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_type(value: Any) -> bool:
    return value in NOTIFICATION_TYPES


def _is_type_list(value: Any) -> bool:
    return isinstance(value, list) and all(_is_type(element) for element in value)


def _is_text_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(element, str) for element in value)


def _is_map(value: Any) -> bool:
    return isinstance(value, dict)


def _is_actor(value: Any) -> bool:
    """A shown actor, {i: id, n?: username, v?: avatar}; null for an empty slot."""
    if value is None:
        return True
    if not isinstance(value, dict) or not _is_str(value.get("i")):
        return False
    return all(_is_str(value[name]) for name in ("n", "v") if name in value)


def _is_position(value: Any) -> bool:
    return isinstance(value, str) and POSITION_PATTERN.fullmatch(value) is not None


Checks = dict[str, Callable[[Any], bool]]
# Attributes of every entry, either shape; optional ones are checked when present.
_ENTRY: Checks = {"t": _is_type, "rt": _is_str, "ri": _is_str, "c": _is_int}
_ENTRY_OPTIONAL: Checks = {"x": _is_str, "r": _is_int, "ux": _is_int, "lp": _is_int, "ttl": _is_int, "rg": _is_text}
# An entry of this version: the newest actors (a0 always, a1 and a2 once the group has grown),
# the actor count, arrival (c), index position (u) and the producer's time (o).
_GROUP_ENTRY: Checks = {**_ENTRY, ACTOR_SLOTS[0]: _is_actor, "n": _is_count, "u": _is_int, "o": _is_int}
_GROUP_ENTRY_OPTIONAL: Checks = {**_ENTRY_OPTIONAL, **dict.fromkeys(ACTOR_SLOTS[1:], _is_actor)}
# An entry of the first version: one actor, c the producer's time, s the arrival (the position).
_FIRST_ENTRY: Checks = {**_ENTRY, "a": _is_str, "s": _is_int}
_FIRST_ENTRY_OPTIONAL: Checks = {**_ENTRY_OPTIONAL, "an": _is_str, "av": _is_str}
# Required attributes of the other kinds, and optional ones whose type is checked when present.
# Other attributes are kept as they are: a restore must not lose what a newer app version stored.
SCHEMAS: dict[str, tuple[Checks, Checks]] = {
    "member": ({}, {"g": _is_str, "gone": lambda value: value == "retracted", "ttl": _is_int}),
    "state": (
        {"g1pk": _is_str, "g1sk": _is_str},
        {"w": _is_int, "sw": _is_int, "cw": _is_int, "xo": _is_position, "rg": _is_text},
    ),
    # Either version's attributes (the first: muted, ws, push); the whole item must read as preferences.
    "preferences": (
        {},
        {
            "muted": _is_type_list,
            "ws": _is_bool,
            "push": _is_bool,
            "off": _is_text_list,
            "chOff": _is_text_list,
            "qh": _is_map,
            "dg": _is_map,
            "em": _is_str,
        },
    ),
    "device": ({"platform": lambda value: value in PLATFORMS, "enabled": _is_bool, "arn": _is_str, "c": _is_int}, {}),
}


def _is_first_version(item: Mapping[str, Any]) -> bool:
    """An entry stored by the first version: no updatedAt (u), its arrival (s) is its position."""
    return "u" not in item and ("s" in item or "a" in item)


def _entry_schema(kind: str, item: Mapping[str, Any]) -> tuple[Checks, Checks]:
    if _is_first_version(item):
        return _FIRST_ENTRY, _FIRST_ENTRY_OPTIONAL
    if kind == "tombstone" and "u" not in item:
        # A tombstone the first version left for an unlike that came before its like: keys, gone,
        # rg and ttl only. It blocks that action's key like any other tombstone.
        return {}, {**_ENTRY, **_ENTRY_OPTIONAL}
    if kind == "tombstone":
        # A group whose last actor left is emptied: no actors, a count of 0.
        return {**_GROUP_ENTRY, "n": _is_int}, _GROUP_ENTRY_OPTIONAL
    return _GROUP_ENTRY, _GROUP_ENTRY_OPTIONAL


def _check_attributes(kind: str, item: Mapping[str, Any], required: Checks, optional: Checks) -> None:
    for name, valid in required.items():
        if name not in item:
            raise BackupError(f"{kind} {item['sk']} lacks attribute {name!r}")
        if not valid(item[name]):
            raise BackupError(f"{kind} {item['sk']} has a bad {name!r}: {item[name]!r}")
    for name, valid in optional.items():
        if name in item and not valid(item[name]):
            raise BackupError(f"{kind} {item['sk']} has a bad {name!r}: {item[name]!r}")


def _check_entry_index_keys(item: Mapping[str, Any], entry_id: str, user_id: str) -> None:
    """A live entry's index keys: its partition, its position (u, or s for the first version), and
    the ``tabs`` keys of mentions and replies (required for this version's, equal to the position)."""
    sk = item["sk"]
    partitions = tuple(f"{user_pk(user_id)}{suffix}" for suffix in ENTRY_PARTITIONS)
    if item["g1pk"] not in partitions:
        raise BackupError(f"notification {sk} has g1pk {item['g1pk']!r}, not one of {partitions}")
    if item["g1sk"] != position(updated_ms(item), entry_id):
        field_name = "s" if "u" not in item else "u"
        raise BackupError(f"notification {sk} has g1sk {item['g1sk']!r}, not <{field_name}>#<id>")
    in_tabs = item["t"] in MENTION_TAB_TYPES
    if not in_tabs:
        if "g2pk" in item or "g2sk" in item:
            raise BackupError(f"notification {sk} has tabs index keys: only mentions and replies have them")
        return
    if "g2pk" not in item and "g2sk" not in item and _is_first_version(item):
        return  # the first version had no tabs index
    expected = (mentions_partition(user_id), item["g1sk"])
    if "g2pk" not in item or "g2sk" not in item:
        raise BackupError(f"notification {sk} lacks tabs index keys: a {item['t']} has g2pk and g2sk {expected}")
    if (item["g2pk"], item["g2sk"]) != expected:
        raise BackupError(
            f"notification {sk} has tabs index keys {item.get('g2pk')!r}, {item.get('g2sk')!r}, not {expected}"
        )


def check_item(kind: str, item: Mapping[str, Any], user_id: str) -> None:
    """BackupError unless the item is one the app could have stored for this user, as this kind."""
    expected_pk = user_pk(user_id)
    if item.get("pk") != expected_pk:
        raise BackupError(f"pk must be {expected_pk!r} (the header's user), not {item.get('pk')!r}")
    actual = kind_of(item)
    if actual != kind:
        raise BackupError(f"the line says {kind!r} but sk {item['sk']!r} makes the item a {actual!r}")
    sk = item["sk"]
    if kind in ("notification", "tombstone"):
        required, optional = _entry_schema(kind, item)
        if kind == "notification":
            required = {**required, "g1pk": _is_str, "g1sk": _is_str}
        else:
            required = {**required, "gone": lambda value: value in GONE_REASONS}
    else:
        required, optional = SCHEMAS[kind]
    _check_attributes(kind, item, required, optional)
    if kind == "preferences":
        try:
            preferences_from_item(item)
        except (ValueError, KeyError, TypeError) as error:
            raise BackupError(f"preferences {item['sk']} do not read as preferences: {error}") from None
    prefix = ID_PREFIXES.get(kind)
    identifier = id_of(sk, prefix) if prefix else None
    if prefix and not identifier:
        raise BackupError(f"{kind} {sk} has no id after {prefix.value!r}")
    index_keys = [name for name in INDEX_KEYS if name in item]
    if kind == "notification":
        _check_entry_index_keys(item, identifier or "", user_id)
    elif kind == "state":
        if (item["g1pk"], item["g1sk"]) != (unread_partition(user_id), STATE_POSITION):
            raise BackupError(
                f"state has index keys {item['g1pk']!r}, {item['g1sk']!r}, not the unread partition and ~"
            )
        if "g2pk" in item or "g2sk" in item:
            raise BackupError("state has tabs index keys: it is in the inbox index only")
    elif index_keys:
        what = {"tombstone": "a tombstone is out of the index"}.get(kind, f"a {kind} item is never in an index")
        raise BackupError(f"{kind} {sk} has index keys ({', '.join(index_keys)}): {what}")
    if kind == "member" and "g" not in item and "gone" not in item:
        raise BackupError(f"member {sk} has neither 'g' (its group) nor 'gone' (an undone action)")


# -- moving a backup to another user ----------------------------------------------------------


def _actor_of(item: Mapping[str, Any]) -> str | None:
    if _is_first_version(item):
        actor = item.get("a")
        return actor if isinstance(actor, str) else None
    shown = item.get(ACTOR_SLOTS[0])
    return shown.get("i") if isinstance(shown, Mapping) and isinstance(shown.get("i"), str) else None


def _action_id_of(item: Mapping[str, Any], recipient: str) -> str | None:
    """The id of the action an entry stands for if it were addressed to `recipient`; None without one."""
    actor = _actor_of(item)
    kind, resource_type, resource_id = item.get("t"), item.get("rt"), item.get("ri")
    if actor is None or not all(isinstance(part, str) for part in (kind, resource_type, resource_id)):
        return None
    return action_id(str(kind), actor, str(resource_type), str(resource_id), recipient)


def _entry_id(item: Mapping[str, Any]) -> str:
    return id_of(str(item["sk"]), ItemKind.NOTIFICATION) or ""


def move_item(kind: str, item: Mapping[str, Any], old_user: str, new_user: str) -> dict[str, Any] | None:
    """The item as if it had been stored for `new_user`, or None for an item that cannot be moved.

    Every key that embeds the user id is rewritten: pk always; the index partitions of entries
    (unread, read or archived; and the Mentions tab's) and of the watermarks. A follow's resource
    is the followed user, i.e. the recipient: it moves too. (read_backup then points the
    watermarks' unread floor, xo, at the new id of the entry it names.)

    An entry of one action (a reply, a mention, any entry of the first version: its id is its
    action's) is keyed by the action *including the recipient* (models.action_id): it gets the id
    of the action addressed to the new user, so that a redelivery or an unlike addressed to them
    finds the restored entry or tombstone. A group entry keeps its id: that is a hash of the
    recipient, the group and a bucket of time (inbox.ingest.grouping.group_entry_id), and the
    bucket cannot be recomputed without the grouping window, a setting of the deployment that the
    file does not hold. Actions addressed to the new user therefore start groups of their own.

    Left out (None):
    * devices: their push endpoints are the original owner's phones;
    * group members: keyed by their action ids, which cannot be recomputed for the new user (a
      member holds no actor or resource). Without them, a like addressed to the new user that a
      moved group already counts makes a new entry, and an unlike does not take its actor out of
      the moved group;
    * tombstones the first version left with no action in them (an unlike ahead of its like).
    """
    if kind in ("device", "member"):
        return None
    moved = dict(item)
    moved["pk"] = user_pk(new_user)
    if kind in ("notification", "tombstone"):
        moved_id = _entry_id(item)
        old_action = _action_id_of(item, old_user)
        if old_action is None and "u" not in item:
            return None  # a tombstone with no action in it: its id cannot be recomputed
        if moved.get("rt") == "user" and moved.get("ri") == old_user:
            moved["ri"] = new_user
        if moved_id == old_action:
            moved_id = _action_id_of(moved, new_user) or moved_id
            moved["sk"] = sort_key(ItemKind.NOTIFICATION, moved_id)
        if "g1pk" in moved:
            suffix = str(moved["g1pk"]).removeprefix(user_pk(old_user))
            moved["g1pk"] = f"{user_pk(new_user)}{suffix}"
            moved["g1sk"] = position(updated_ms(moved), moved_id)
        if "g2pk" in moved:
            moved["g2pk"] = mentions_partition(new_user)
            moved["g2sk"] = moved["g1sk"]
    elif kind == "state":
        moved["g1pk"] = unread_partition(new_user)
    return moved


def _moved_floor(floor: str, renamed: Mapping[str, str]) -> str:
    """The unread floor (the position of an entry marked unread) with its entry's id after a move."""
    floor_id = floor.split("#", 1)[1]
    return position(int(floor.split("#", 1)[0]), renamed.get(floor_id, floor_id))


# -- reading a whole file ---------------------------------------------------------------------


def read_backup(lines: Iterable[str | bytes], *, now_s: int, user: str | None = None) -> Backup:
    """Validate a whole file and return the items to write, moved to `user` when given.

    Every line is checked before anything is returned, so a bad file writes nothing. Items whose
    ttl has passed by now are left out (counted in `expired`): DynamoDB would delete them anyway.
    Items of a version 1 file come back as they are, their kinds under today's names.
    """
    iterator = iter(lines)
    first = next(iterator, None)
    if first is None:
        raise BackupError("the file is empty; expected the header", line=1)
    header = parse_header(first)
    kinds = KINDS_OF_VERSION[header.version]
    target = check_user_id(user, "--user") if user is not None else header.user
    moving = target != header.user
    backup = Backup(header=header, user=target)
    seen: dict[str, int] = {}
    renamed: dict[str, str] = {}  # entry ids changed by the move
    end_at: int | None = None
    number = 1
    for number, raw in enumerate(iterator, start=2):
        if end_at is not None:
            raise BackupError(f"text after the end line (line {end_at})", line=number)
        value = _parse(raw, number)
        named = value.get("kind")
        if named == END:
            count = value.get("count")
            if set(value) != {"kind", "count"} or not _is_int(count):
                raise BackupError('the end line is {"kind": "end", "count": <items>}', line=number)
            if count != number - 2:
                raise BackupError(f"the end line counts {count} items but the file holds {number - 2}", line=number)
            end_at = number
            continue
        if set(value) != {"kind", "item"} or named not in kinds or not isinstance(value["item"], dict):
            names = ", ".join(kinds)
            raise BackupError(
                f'expected {{"kind": <{names} or end>, "item": {{...}}}} (version {header.version})', line=number
            )
        kind = kinds[str(named)]
        item: dict[str, Any] = value["item"]
        try:
            check_item(kind, item, header.user)
        except BackupError as error:
            raise BackupError(str(error), line=number) from None
        if item["sk"] in seen:
            raise BackupError(f"{item['sk']} again (first on line {seen[item['sk']]})", line=number)
        seen[item["sk"]] = number
        if _is_int(item.get("ttl")) and item["ttl"] <= now_s:
            backup.expired += 1
            continue
        if moving:
            moved = move_item(kind, item, header.user, target)
            if moved is None:
                backup.left_out[kind] += 1
                continue
            if kind in ("notification", "tombstone") and moved["sk"] != item["sk"]:
                renamed[_entry_id(item)] = _entry_id(moved)
            item = moved
        backup.items.append(item)
        backup.counts[kind] += 1
    if end_at is None:
        raise BackupError("the file ends without its end line: it was cut short", line=number + 1)
    for item in backup.items:
        if renamed and item["sk"] == STATE_SK and "xo" in item:
            item["xo"] = _moved_floor(str(item["xo"]), renamed)
    return backup
