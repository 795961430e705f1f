"""Realistic producer events for every supported topic, as the two producers publish them."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from inbox.ingest.producers import EXOBOOK_ACTIONS, SOCIAL_TOPICS, SUPPORTED_TOPICS
from inbox.timestamps import iso_z

POST_TEXTS = (
    "Shipping the new inbox today. Live updates, unread badge, the lot.",
    "Anyone else think DynamoDB single-table design is a puzzle worth solving?",
    "Sunset over the harbour this evening, no filter needed.",
    "Hot take: cursors beat page numbers for every feed that changes.",
    "Three weeks into learning Rust and the borrow checker finally likes me.",
    "Our team just hit a million users. Thank you all!",
)


def avatar(user: str) -> str:
    return f"https://avatars.example.com/{user}.png"


def display_name(user: str) -> str:
    return user.replace("-", " ").title()


def sample_event(
    topic: str, *, actor: str, recipient: str, resource_id: str | None = None, rng: random.Random | None = None
) -> dict[str, Any]:
    """The value a producer would publish on ``topic`` for ``actor`` acting on ``recipient``."""
    if topic not in SUPPORTED_TOPICS:
        raise ValueError(f"unknown topic {topic!r}; supported: {', '.join(SUPPORTED_TOPICS)}")
    rng = rng or random.Random()  # noqa: S311 - sample data, not secrets
    text = rng.choice(POST_TEXTS)
    resource_id = resource_id or f"post-{rng.randrange(10**6):06d}"
    now = iso_z(datetime.now(UTC))
    if topic in SOCIAL_TOPICS:
        value: dict[str, Any] = {
            "actorId": actor,
            "actorUsername": display_name(actor),
            "actorAvatar": avatar(actor),
            "createdAt": now,
        }
        if topic == "user-followed":
            return {**value, "followedUserId": recipient}
        if topic == "post-created":
            reply_to = f"post-{rng.randrange(10**6):06d}"
            reply = {"replyToPostId": reply_to, "replyToUserId": recipient}
            return {**value, "postId": resource_id, "postText": text, **reply}
        return {**value, "postId": resource_id, "postText": text, "postAuthorId": recipient}
    resource_type = "COMMENT" if ".comment" in topic else "POST"
    return {
        "owner": recipient,
        "trigger_user": actor,
        "username": display_name(actor),
        "user_picture": avatar(actor),
        "user_bio": "Writes about distributed systems.",
        "action": EXOBOOK_ACTIONS[topic],
        "resource_type": resource_type,
        "resource_id": resource_id,
        "excerpt": text,
        "created_at": now,
    }
