"""Backups of one user as JSON Lines: what `python -m inbox_dev export` writes and `import` reads.

A backup is UTF-8 text, one JSON object per line: a header, one line per item of the user's
partition (in key order), and an end line that makes a cut-off file detectable::

    {"format": "notification-inbox-backup", "version": 1, "user": "alice", "exported_at": "…Z"}
    {"kind": "device", "item": {"pk": "U#alice", "sk": "D#…", "arn": "…", …}}
    {"kind": "notification", "item": {"pk": "U#alice", "sk": "N#…", "g1pk": "U#alice#R", …}}
    {"kind": "tombstone", "item": {"pk": "U#alice", "sk": "N#…", "gone": "deleted", …}}
    {"kind": "preferences", "item": {"pk": "U#alice", "sk": "PREFS", "muted": [], …}}
    {"kind": "read_state", "item": {"pk": "U#alice", "sk": "STATE", "w": 1767225600000, …}}
    {"kind": "end", "count": 5}

An item is the table's own attributes (inbox/store/keys.py and items.py document them) as plain JSON, so that
a restore puts back exactly what was stored. Numbers are written exactly (integers as integers) and
read back exactly; binary and set attributes are not used by the app and are refused.

Tombstones are kept: they are what stops a redelivered or repeated action from notifying again
after a delete or an unlike, and that guarantee should survive a restore. WebSocket connections
are not: they are ephemeral and die with their sockets.

Nothing here talks to DynamoDB: the CLI reads and writes items with table_backup.py.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TextIO

from inbox.models import NotificationType, action_id
from inbox.store.keys import (
    PREFS_SK,
    STATE_POSITION,
    STATE_SK,
    ItemKind,
    position,
    read_partition,
    sort_key,
    unread_partition,
    user_pk,
)

FORMAT = "notification-inbox-backup"
VERSION = 1
END = "end"
USER_ID_MAX_CHARS = 128

# Kinds of item, in the words of the file; the label is for summaries (singular, plural).
KINDS = {
    "notification": ("notification", "notifications"),
    "tombstone": ("tombstone", "tombstones"),
    "read_state": ("read-all watermark", "read-all watermarks"),
    "preferences": ("preferences", "preferences"),
    "device": ("device", "devices"),
}
GONE_REASONS = frozenset({"deleted", "retracted"})
PLATFORMS = frozenset({"apns", "apns_sandbox", "fcm"})
NOTIFICATION_TYPES = frozenset(kind.value for kind in NotificationType)


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
    # Restored under another user, a device would send that user's pushes to the original owner's phone.
    devices_left_out: int = 0


# -- what an item is --------------------------------------------------------------------------


def kind_of(item: Mapping[str, Any]) -> str:
    """The kind of a stored item, from its sort key; BackupError for what a backup must not hold."""
    sk = item.get("sk")
    if not isinstance(sk, str):
        raise BackupError("the item has no string sk")
    if sk.startswith(ItemKind.NOTIFICATION.value):
        return "tombstone" if "gone" in item else "notification"
    if sk == STATE_SK:
        return "read_state"
    if sk == PREFS_SK:
        return "preferences"
    if sk.startswith(ItemKind.DEVICE.value):
        return "device"
    if sk.startswith(ItemKind.CONNECTION.value):
        raise BackupError(f"{sk} is a WebSocket connection: connections are not backed up")
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
    stamp = exported_at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
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


def _is_str(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_type_list(value: Any) -> bool:
    return isinstance(value, list) and all(element in NOTIFICATION_TYPES for element in value)


_NOTIFICATION = {"t": lambda v: v in NOTIFICATION_TYPES, "a": _is_str, "rt": _is_str, "ri": _is_str, "c": _is_int}
_NOTIFICATION_OPTIONAL = {"an": _is_str, "av": _is_str, "x": _is_str, "r": _is_int, "ttl": _is_int}
# Required attributes of each kind, and optional ones whose type is checked when present. Other
# attributes are kept as they are: a restore must not lose what a newer app version stored.
SCHEMAS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "notification": ({**_NOTIFICATION, "s": _is_int, "g1pk": _is_str, "g1sk": _is_str}, _NOTIFICATION_OPTIONAL),
    "tombstone": ({**_NOTIFICATION, "s": _is_int, "gone": lambda v: v in GONE_REASONS}, _NOTIFICATION_OPTIONAL),
    "read_state": ({"w": _is_int, "g1pk": _is_str, "g1sk": _is_str}, {}),
    "preferences": ({"muted": _is_type_list, "ws": _is_bool, "push": _is_bool}, {}),
    "device": ({"platform": lambda v: v in PLATFORMS, "enabled": _is_bool, "arn": _is_str, "c": _is_int}, {}),
}


def check_item(kind: str, item: Mapping[str, Any], user_id: str) -> None:
    """BackupError unless the item is one the app could have stored for this user, as this kind."""
    expected_pk = user_pk(user_id)
    if item.get("pk") != expected_pk:
        raise BackupError(f"pk must be {expected_pk!r} (the header's user), not {item.get('pk')!r}")
    actual = kind_of(item)
    if actual != kind:
        raise BackupError(f"the line says {kind!r} but sk {item['sk']!r} makes the item a {actual!r}")
    required, optional = SCHEMAS[kind]
    for name, valid in required.items():
        if name not in item:
            raise BackupError(f"{kind} {item['sk']} lacks attribute {name!r}")
        if not valid(item[name]):
            raise BackupError(f"{kind} {item['sk']} has a bad {name!r}: {item[name]!r}")
    for name, valid in optional.items():
        if name in item and not valid(item[name]):
            raise BackupError(f"{kind} {item['sk']} has a bad {name!r}: {item[name]!r}")
    if kind == "notification":
        partitions = (unread_partition(user_id), read_partition(user_id))
        if item["g1pk"] not in partitions:
            raise BackupError(f"notification {item['sk']} has g1pk {item['g1pk']!r}, not one of {partitions}")
        if item["g1sk"] != position(item["s"], item["sk"][2:]):
            raise BackupError(f"notification {item['sk']} has g1sk {item['g1sk']!r}, not <s>#<id>")
    elif kind == "tombstone" and ("g1pk" in item or "g1sk" in item):
        raise BackupError(f"tombstone {item['sk']} has index keys: a tombstone is out of the index")
    elif kind == "read_state" and (item["g1pk"], item["g1sk"]) != (unread_partition(user_id), STATE_POSITION):
        raise BackupError(
            f"read_state has index keys {item['g1pk']!r}, {item['g1sk']!r}, not the unread partition and ~"
        )


def move_item(kind: str, item: Mapping[str, Any], old_user: str, new_user: str) -> dict[str, Any]:
    """The item as if it had been stored for `new_user`: every key that embeds the user id is rewritten.

    pk always; the index partition of notifications (read or unread) and of the watermark; and a
    notification's id, which is derived from its action *including the recipient* (models.action_id),
    so that a redelivery or an unlike addressed to the new user finds the restored item or tombstone.
    A follow's resource is the followed user, i.e. the recipient: it moves too.
    """
    moved = dict(item)
    moved["pk"] = user_pk(new_user)
    if kind in ("notification", "tombstone"):
        if moved["rt"] == "user" and moved["ri"] == old_user:
            moved["ri"] = new_user
        new_id = action_id(moved["t"], moved["a"], moved["rt"], moved["ri"], new_user)
        moved["sk"] = sort_key(ItemKind.NOTIFICATION, new_id)
        if "g1pk" in moved:
            read = moved["g1pk"] == read_partition(old_user)
            moved["g1pk"] = read_partition(new_user) if read else unread_partition(new_user)
            moved["g1sk"] = position(moved["s"], new_id)
    elif kind == "read_state":
        moved["g1pk"] = unread_partition(new_user)
    return moved


def read_backup(lines: Iterable[str | bytes], *, now_s: int, user: str | None = None) -> Backup:
    """Validate a whole file and return the items to write, moved to `user` when given.

    Every line is checked before anything is returned, so a bad file writes nothing. Items whose
    ttl has passed by now are left out (counted in `expired`): DynamoDB would delete them anyway.
    """
    iterator = iter(lines)
    first = next(iterator, None)
    if first is None:
        raise BackupError("the file is empty; expected the header", line=1)
    header = parse_header(first)
    target = check_user_id(user, "--user") if user is not None else header.user
    backup = Backup(header=header, user=target)
    seen: dict[str, int] = {}
    end_at: int | None = None
    number = 1
    for number, raw in enumerate(iterator, start=2):
        if end_at is not None:
            raise BackupError(f"text after the end line (line {end_at})", line=number)
        value = _parse(raw, number)
        kind = value.get("kind")
        if kind == END:
            count = value.get("count")
            if set(value) != {"kind", "count"} or not _is_int(count):
                raise BackupError('the end line is {"kind": "end", "count": <items>}', line=number)
            if count != number - 2:
                raise BackupError(f"the end line counts {count} items but the file holds {number - 2}", line=number)
            end_at = number
            continue
        if set(value) != {"kind", "item"} or kind not in KINDS or not isinstance(value["item"], dict):
            kinds = ", ".join(KINDS)
            raise BackupError(f'expected {{"kind": <{kinds} or end>, "item": {{...}}}}', line=number)
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
        if target != header.user and kind == "device":
            backup.devices_left_out += 1
            continue
        backup.items.append(move_item(kind, item, header.user, target) if target != header.user else item)
        backup.counts[kind] += 1
    if end_at is None:
        raise BackupError("the file ends without its end line: it was cut short", line=number + 1)
    return backup
