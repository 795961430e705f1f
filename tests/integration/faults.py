"""AWS faults injected into the app's own clients through botocore's event hooks, and taken out again.

A ``before-send`` handler that returns a response stands in for the service: botocore parses it as
the service's answer, and the client's retry mode (inbox.aws_clients: standard mode) retries throttles
and 5xx answers exactly as it would in AWS. A rule decides per call and attempt. A call's key (the
table and item key, or the SNS target) is the same on every attempt. Its stable key is, for fixed
user ids, also the same on every run, so a seeded rule injects the same faults every time: it
leaves out what changes with the time of the run (the hour a flood counter counts, the day a
group's entry started, which its id is hashed from).
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.retries.standard import RetryQuotaChecker
from inbox_dev.faults.answers import DYNAMODB_ERRORS as DYNAMODB_ERRORS  # the tests' error codes
from inbox_dev.faults.answers import attempts, dynamodb_error, sns_error


@dataclass(frozen=True)
class Call:
    """One attempt of one API call, as the client sends it."""

    operation: str  # PutItem, Publish, ...
    key: str  # what the call is about, as sent: the same on every attempt
    attempt: int  # 1, then 2 on botocore's first retry, ...
    max_attempts: int
    stable_key: str = ""  # the key without what changes from run to run (see stable_keys); seeded rules draw on it


Rule = Callable[[Call], str | Exception | None]
"""The error code to answer a call with, an exception to raise as the HTTP layer would, or None to let it through."""

DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem"})


def entry_write(call: Call) -> bool:
    """A write of an inbox entry (N#<id>): an entry stored, a group grown or left by an action.

    Not a group member's put (M#<action id>) nor a flood counter's update.
    """
    return call.operation in DYNAMODB_WRITES and '"sk": {"S": "N#' in call.key


def _body(request: AWSPreparedRequest) -> bytes:
    body = request.body
    if body is None:
        return b""
    return body if isinstance(body, bytes) else str(body).encode()


def dynamodb_key(operation: str, request: AWSPreparedRequest) -> str:
    """The table and item a DynamoDB call is about (or its query)."""
    body = json.loads(_body(request) or b"{}")
    if "Item" in body:
        about: Any = {name: body["Item"][name] for name in ("pk", "sk") if name in body["Item"]}
    elif "Key" in body:
        about = body["Key"]
    else:
        about = [body.get(name) for name in ("IndexName", "KeyConditionExpression", "ExpressionAttributeValues")]
    return f"{operation} {body.get('TableName')} {json.dumps(about, sort_keys=True)}"


_PARTITION = re.compile(r'"pk": \{"S": "([^"]*)"\}')
_ENTRY = re.compile(r'"N#([^"]+)"')


class StableKeys:
    """Call keys without what changes from run to run.

    * Flood counters' keys name the hour they count (F#<window start>#<actor>): the window is left out.
    * A group's entry id is hashed from the day its group started: each entry id is named by its
      order of first appearance among the calls about its user's partition (N#<entry 1>, ...).
      A user's events are applied one after another, so the order is the same on every run.
    """

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, str]] = {}  # partition -> entry id -> name

    def __call__(self, key: str) -> str:
        key = re.sub(r"F#\d+#", "F#<window>#", key)
        partition = _PARTITION.search(key)
        entry = _ENTRY.search(key)
        if partition is None or entry is None:
            return key
        names = self._entries.setdefault(partition.group(1), {})
        name = names.setdefault(entry.group(1), f"<entry {len(names) + 1}>")
        return key[: entry.start(1)] + name + key[entry.end(1) :]


def sns_key(operation: str, request: AWSPreparedRequest) -> str:
    fields = parse_qs(_body(request).decode())
    target = fields.get("TargetArn") or fields.get("TopicArn") or fields.get("EndpointArn") or [""]
    return f"{operation} {target[0]}"


class Faults:
    """Fake error answers for the calls ``rule`` picks, on one client, while the context is open.

    Every attempt is recorded (``calls``) and every fault (``injected``). The client's retry quota
    is refilled on entry and exit: a test that exhausts retries must not leave the session's
    shared client unable to retry in the next test.
    """

    def __init__(self, client: Any, rule: Rule | None = None) -> None:
        self.client = client
        self.rule = rule
        self.calls: list[Call] = []
        self.injected: list[tuple[Call, str | Exception]] = []
        self._lock = threading.Lock()
        self._service = client.meta.service_model.service_id.hyphenize()
        self._json = client.meta.service_model.protocol == "json"
        self._unique_id = f"test-faults-{id(self)}"
        self._stable_keys = StableKeys()

    def __enter__(self) -> Faults:
        refill_retry_quota(self.client)
        self.client.meta.events.register(f"before-send.{self._service}", self._before_send, unique_id=self._unique_id)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.client.meta.events.unregister(f"before-send.{self._service}", unique_id=self._unique_id)
        refill_retry_quota(self.client)

    def exhausted(self) -> set[str]:
        """Keys of the calls that failed on their last attempt: botocore gave up on them."""
        with self._lock:
            return {call.key for call, _ in self.injected if call.attempt == call.max_attempts}

    def _before_send(self, request: AWSPreparedRequest, event_name: str, **_: Any) -> AWSResponse | None:
        operation = event_name.rsplit(".", 1)[-1]
        key = dynamodb_key(operation, request) if self._json else sns_key(operation, request)
        with self._lock:
            stable_key = self._stable_keys(key)
        call = Call(operation, key, *attempts(request), stable_key=stable_key)
        code = self.rule(call) if self.rule is not None else None
        with self._lock:
            self.calls.append(call)
            if code is not None:
                self.injected.append((call, code))
        if isinstance(code, Exception):
            raise code
        if code is None:
            return None
        return dynamodb_error(request, code) if self._json else sns_error(request, code)


def refill_retry_quota(client: Any) -> None:
    """Give the client's standard-mode retry quota its full capacity back.

    botocore keeps the quota on a handler of the client's ``after-call`` event and offers no
    public way to it; the lookup is pinned to the botocore this project pins, and fails loudly
    if that changes rather than leave a drained quota behind.
    """
    service = client.meta.service_model.service_id.hyphenize()
    emitter = client.meta.events._emitter
    for handler in emitter._handlers.prefix_search(f"after-call.{service}"):
        checker = getattr(handler, "__self__", None)
        if isinstance(checker, RetryQuotaChecker):
            quota = checker._quota  # type: ignore[attr-defined]  # private: see the docstring
            quota.release(quota._max_capacity)
            return
    raise AssertionError(f"no standard-mode retry quota on the {service} client: update refill_retry_quota")


def _draw(seed: int, *parts: object) -> random.Random:
    # String seeds are hashed with SHA-512: the same draw on every run, whatever PYTHONHASHSEED is.
    return random.Random("|".join(map(str, (seed, *parts))))


def transient(seed: int, rate: float, codes: Sequence[str], among: Callable[[Call], bool] = lambda call: True) -> Rule:
    """Each attempt of the calls ``among`` picks fails with probability ``rate``, never the last one:
    faults that retries overcome."""

    def rule(call: Call) -> str | None:
        if not among(call):
            return None
        draw = _draw(seed, call.stable_key, call.attempt)
        if call.attempt < call.max_attempts and draw.random() < rate:
            return draw.choice(codes)
        return None

    return rule


def persistent(seed: int, rate: float, codes: Sequence[str], among: Callable[[Call], bool] = lambda call: True) -> Rule:
    """A share ``rate`` of the calls ``among`` picks fails on every attempt: botocore's retries are exhausted."""

    def rule(call: Call) -> str | None:
        if not among(call):
            return None
        draw = _draw(seed, call.stable_key)
        return draw.choice(codes) if draw.random() < rate else None

    return rule


class NthEntryWrite:
    """The ``n``-th entry write fails on every attempt with ``code``.

    Writes are counted by call, in the order first attempted, not by key: every action that joins a
    group writes the same entry. For calls made one after another (one user's events).
    """

    def __init__(self, n: int, code: str = "InternalServerError") -> None:
        self._n, self._code = n, code
        self._started = 0
        self._failing: str | None = None
        self._lock = threading.Lock()

    def __call__(self, call: Call) -> str | None:
        if not entry_write(call):
            return None
        with self._lock:
            if call.attempt == 1:
                self._started += 1
                if self._started == self._n:
                    self._failing = call.key
            if call.key != self._failing:
                return None
            if call.attempt == call.max_attempts:
                self._failing = None  # botocore gives up: a later write of the entry goes through
            return self._code


def when(condition: Callable[[Call], bool], code: str | Exception) -> Rule:
    """Every attempt of the calls ``condition`` picks fails with ``code``."""
    return lambda call: code if condition(call) else None
