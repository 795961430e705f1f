"""Event adapters: Kafka records from both producers mapped to the canonical event model.

The social API (NestJS, kafkajs) publishes on message-liked, user-followed, post-reposted and
post-created with camelCase fields. The Exobook notification worker (Go) publishes on
notifications.<resource>.<verb> with snake_case fields and a numeric action code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from inbox.models import (
    EXCERPT_MAX_CHARS,
    Actor,
    NotificationEvent,
    NotificationType,
    Resource,
    Retraction,
    UserId,
)
from inbox.observability import logger
from inbox.validation import summary

# A domain event is a few hundred bytes; anything this large is a producer bug, not a notification.
MAX_RECORD_BYTES = 64 * 1024
MAX_MENTIONS = 50

Events = list[NotificationEvent | Retraction]


class InvalidRecord(ValueError):
    """A record that can never become a notification: retrying it cannot help."""


def _parse_timestamp(value: Any) -> Any:
    """Producers send ISO 8601 strings or Unix times in seconds or milliseconds."""
    if isinstance(value, bool):
        raise ValueError("a timestamp cannot be a boolean")
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 10**11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"timestamp {value} is out of range") from None
    return value


def _in_utc(value: datetime) -> datetime:
    """A producer's time in UTC; one without an offset is taken as UTC. Out of range if UTC has no such time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"timestamp {value.isoformat()} is out of range") from None


def _excerpt(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_MAX_CHARS else text[: EXCERPT_MAX_CHARS - 1] + "…"


Timestamp = Annotated[datetime, BeforeValidator(_parse_timestamp), AfterValidator(_in_utc)]
# Texts that are shortened to an excerpt may be as long as the record itself: they are cut, never refused.
LongText = Annotated[str, Field(max_length=MAX_RECORD_BYTES)]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", str_max_length=8192)


class SocialEvent(_Payload):
    """Fields of the social API's events."""

    actor_id: UserId = Field(alias="actorId")
    actor_username: str | None = Field(default=None, alias="actorUsername", max_length=128)
    actor_avatar: str | None = Field(default=None, alias="actorAvatar", max_length=2048)
    post_id: str | None = Field(default=None, alias="postId", min_length=1, max_length=256)
    post_text: LongText | None = Field(default=None, alias="postText")
    post_author_id: UserId | None = Field(default=None, alias="postAuthorId")
    followed_user_id: UserId | None = Field(default=None, alias="followedUserId")
    reply_to_post_id: str | None = Field(default=None, alias="replyToPostId", max_length=256)
    reply_to_user_id: UserId | None = Field(default=None, alias="replyToUserId")
    mentions: list[UserId] = Field(default_factory=list, max_length=MAX_MENTIONS)
    event_id: str | None = Field(default=None, alias="eventId", max_length=256)
    created_at: Timestamp | None = Field(default=None, alias="createdAt")

    @property
    def actor(self) -> Actor:
        return Actor(id=self.actor_id, username=self.actor_username, avatar=self.actor_avatar)

    def post(self) -> Resource:
        if self.post_id is None:
            raise InvalidRecord("postId is required")
        return Resource(type="post", id=self.post_id, excerpt=_excerpt(self.post_text))


class ExobookEvent(_Payload):
    """Fields of the Exobook worker's events."""

    owner: UserId
    trigger_user: UserId
    username: str | None = Field(default=None, max_length=128)
    user_picture: str | None = Field(default=None, max_length=2048)
    user_bio: LongText | None = None
    action: int
    resource_type: str = Field(min_length=1, max_length=32)
    resource_id: str = Field(min_length=1, max_length=256)
    excerpt: LongText | None = None
    created_at: Timestamp | None = None

    @property
    def actor(self) -> Actor:
        return Actor(id=self.trigger_user, username=self.username, avatar=self.user_picture)

    @property
    def resource(self) -> Resource:
        return Resource(type=self.resource_type, id=self.resource_id, excerpt=_excerpt(self.excerpt))


def _event(kind: NotificationType, recipient: str, actor: Actor, resource: Resource, at: datetime) -> NotificationEvent:
    return NotificationEvent(type=kind, recipient_id=recipient, actor=actor, resource=resource, occurred_at=at)


def _social_like_or_repost(kind: NotificationType) -> Callable[[SocialEvent, datetime], Events]:
    def adapt(event: SocialEvent, at: datetime) -> Events:
        if event.post_author_id is None:
            raise InvalidRecord("postAuthorId is required")
        return [_event(kind, event.post_author_id, event.actor, event.post(), at)]

    return adapt


def _social_follow(event: SocialEvent, at: datetime) -> Events:
    if event.followed_user_id is None:
        raise InvalidRecord("followedUserId is required")
    followed = Resource(type="user", id=event.followed_user_id)
    return [_event(NotificationType.FOLLOW, event.followed_user_id, event.actor, followed, at)]


def _social_post_created(event: SocialEvent, at: datetime) -> Events:
    post = event.post()
    outcome: Events = []
    if event.reply_to_post_id is not None:
        if event.reply_to_user_id is None:
            raise InvalidRecord("replyToUserId is required when replyToPostId is set")
        outcome.append(_event(NotificationType.REPLY, event.reply_to_user_id, event.actor, post, at))
    # A user who is replied to and mentioned in the same post gets the reply only.
    for mentioned in dict.fromkeys(event.mentions):
        if mentioned != event.reply_to_user_id:
            outcome.append(_event(NotificationType.MENTION, mentioned, event.actor, post, at))
    return outcome


# Action codes of the Exobook worker for each subject. Its documents define only 1 (like post) and
# 2 (like comment); a record whose code disagrees with its subject is logged and taken by its subject.
EXOBOOK_ACTIONS: dict[str, int] = {
    "notifications.post.like": 1,
    "notifications.comment.like": 2,
    "notifications.reply.post": 3,
    "notifications.reply.comment": 4,
    "notifications.post.unlike": 5,
}


def _exobook(kind: NotificationType) -> Callable[[ExobookEvent, datetime], Events]:
    def adapt(event: ExobookEvent, at: datetime) -> Events:
        return [_event(kind, event.owner, event.actor, event.resource, at)]

    return adapt


def _exobook_unlike(event: ExobookEvent, at: datetime) -> Events:
    return [
        Retraction(
            type=NotificationType.LIKE,
            recipient_id=event.owner,
            actor_id=event.trigger_user,
            resource_type=event.resource_type.lower(),
            resource_id=event.resource_id,
        )
    ]


SOCIAL_TOPICS: dict[str, Callable[[SocialEvent, datetime], Events]] = {
    "message-liked": _social_like_or_repost(NotificationType.LIKE),
    "post-reposted": _social_like_or_repost(NotificationType.REPOST),
    "user-followed": _social_follow,
    "post-created": _social_post_created,
}
EXOBOOK_TOPICS: dict[str, Callable[[ExobookEvent, datetime], Events]] = {
    "notifications.post.like": _exobook(NotificationType.LIKE),
    "notifications.comment.like": _exobook(NotificationType.LIKE),
    "notifications.reply.post": _exobook(NotificationType.REPLY),
    "notifications.reply.comment": _exobook(NotificationType.REPLY),
    "notifications.post.unlike": _exobook_unlike,
}
SUPPORTED_TOPICS: tuple[str, ...] = (*SOCIAL_TOPICS, *EXOBOOK_TOPICS)


def _json_object(raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_RECORD_BYTES:
        raise InvalidRecord(f"value is {len(raw)} bytes, over the {MAX_RECORD_BYTES}-byte limit")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidRecord(f"value is not UTF-8 (byte {error.start})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidRecord(f"value is not JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    if not isinstance(document, dict):
        raise InvalidRecord(f"value is a JSON {type(document).__name__}, not an object")
    return document


def adapt(topic: str, raw: bytes, record_timestamp_ms: int) -> Events:
    """Map one Kafka record's value to the canonical events it stands for.

    The record's own timestamp stands in for a missing createdAt: it is the same on every
    redelivery of the record.
    """
    fallback_time = datetime.fromtimestamp(record_timestamp_ms / 1000, UTC)
    try:
        if topic in SOCIAL_TOPICS:
            social = SocialEvent.model_validate(_json_object(raw))
            return SOCIAL_TOPICS[topic](social, social.created_at or fallback_time)
        if topic in EXOBOOK_TOPICS:
            exobook = ExobookEvent.model_validate(_json_object(raw))
            if exobook.action != EXOBOOK_ACTIONS[topic]:
                # The worker documents only codes 1 and 2; its subject names the event, so it decides.
                logger.warning(
                    "action code does not match the subject; the subject decides",
                    extra={"topic": topic, "action": exobook.action, "expected": EXOBOOK_ACTIONS[topic]},
                )
            return EXOBOOK_TOPICS[topic](exobook, exobook.created_at or fallback_time)
    except ValidationError as error:
        raise InvalidRecord(summary(error.errors())) from None
    raise InvalidRecord(f"unknown topic {topic!r}")
