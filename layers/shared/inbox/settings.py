"""Configuration from environment variables, validated once per cold start.

Each function reads only the settings it needs, so a missing variable fails the
function that depends on it at import time, with pydantic's clear message,
instead of failing a request later. Endpoints are not settings: boto3 reads
AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> itself.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field, HttpUrl, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DAY_SECONDS = 86_400
MAX_TTL_DAYS = 3650
# NotificationType's values, spelled out: importing the models here would add them to the cold start
# of functions that never use them (tests/tools/test_cost_ttl.py holds the two equal).
NOTIFICATION_TYPES = ("like", "follow", "reply", "repost", "mention")


def ttl_days_by_type(text: str) -> dict[str, int]:
    """Days each type is kept: "90" for all, or "like=30,repost=30,follow=90,reply=180,mention=180".

    A bare number among the pairs is the days of every type not named; without one, every type is named.
    """
    days: dict[str, int] = {}
    rest: int | None = None
    for part in (piece.strip() for piece in text.split(",")):
        name, _, value = part.rpartition("=")
        if not value.isdigit() or not 1 <= int(value) <= MAX_TTL_DAYS:
            raise ValueError(f"{part!r}: days must be a whole number from 1 to {MAX_TTL_DAYS}")
        if not name and rest is None:
            rest = int(value)
        elif name in NOTIFICATION_TYPES and name not in days:
            days[name] = int(value)
        else:
            raise ValueError(f"{part!r}: not a notification type, or named twice ({', '.join(NOTIFICATION_TYPES)})")
    missing = [kind for kind in NOTIFICATION_TYPES if kind not in days]
    if missing and rest is None:
        raise ValueError(f"no days for {', '.join(missing)}: name them or add a bare number for the rest")
    return {kind: days.get(kind, rest or 0) for kind in NOTIFICATION_TYPES}


class TableSettings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    table_name: str = Field(min_length=3, validation_alias="TABLE_NAME")
    # "90", or days per type: "like=30,repost=30,follow=90,reply=180,mention=180" (ttl_days_by_type).
    notification_ttl_days: str = Field(default="90", validation_alias="NOTIFICATION_TTL_DAYS")
    # API Gateway closes a WebSocket connection after 2 hours; the record outlives it a little
    # so that a connection is never forgotten while it can still receive messages.
    connection_ttl_seconds: int = Field(default=7_800, ge=7_200, validation_alias="CONNECTION_TTL_SECONDS")
    # A new connection beyond this closes the user's oldest. Reads of a user's connections take this
    # many plus a margin in one query, which stays within 1 read unit up to 40 (the template's maximum).
    max_connections_per_user: int = Field(default=10, ge=1, le=40, validation_alias="MAX_CONNECTIONS_PER_USER")
    # Set by Lambda; the region whose fan-out sends a change (see store.notifications).
    region: str = Field(default="", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"))

    @field_validator("notification_ttl_days", mode="after")
    @classmethod
    def _valid_ttl_days(cls, text: str) -> str:
        ttl_days_by_type(text)
        return text

    @property
    def notification_ttl_seconds_by_type(self) -> dict[str, int]:
        return {kind: days * DAY_SECONDS for kind, days in ttl_days_by_type(self.notification_ttl_days).items()}

    @property
    def notification_ttl_seconds(self) -> int:
        """The longest type's: for what is stored without a type (the tools' own items)."""
        return max(self.notification_ttl_seconds_by_type.values())


class PushSettings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    apns_platform_application_arn: str = Field(default="", validation_alias="APNS_PLATFORM_APPLICATION_ARN")
    apns_sandbox_platform_application_arn: str = Field(
        default="", validation_alias="APNS_SANDBOX_PLATFORM_APPLICATION_ARN"
    )
    fcm_platform_application_arn: str = Field(default="", validation_alias="FCM_PLATFORM_APPLICATION_ARN")

    def platform_application_arn(self, platform: str) -> str:
        return {
            "apns": self.apns_platform_application_arn,
            "apns_sandbox": self.apns_sandbox_platform_application_arn,
            "fcm": self.fcm_platform_application_arn,
        }.get(platform, "")


class FanoutSettings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    websocket_callback_url: HttpUrl = Field(validation_alias="WEBSOCKET_CALLBACK_URL")
    # Posts to the Management API run on a bounded pool: one slow connection must not
    # hold up the others, and a burst must not open hundreds of sockets.
    delivery_concurrency: int = Field(default=16, ge=1, le=128, validation_alias="DELIVERY_CONCURRENCY")
    # A group's later members reach its phones at most once per interval (the first always does).
    push_group_interval_seconds: int = Field(default=900, ge=0, validation_alias="PUSH_GROUP_INTERVAL_SECONDS")


class IngestSettings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    # Recipients of a batch are stored side by side: a conditional put is one round trip, and
    # a batch of 500 stored one after another would spend most of its time waiting.
    ingest_concurrency: int = Field(default=16, ge=1, le=64, validation_alias="INGEST_CONCURRENCY")
    flood_actor_limit: int = Field(default=20, ge=1, le=30, validation_alias="FLOOD_ACTOR_LIMIT")
    flood_recipient_limit: int = Field(default=500, ge=1, validation_alias="FLOOD_RECIPIENT_LIMIT")
    flood_window_seconds: int = Field(default=3600, ge=1, validation_alias="FLOOD_WINDOW_SECONDS")
    # A group takes new members for this long from its first one; then a new member starts a new group.
    group_window_seconds: int = Field(default=86_400, ge=60, validation_alias="GROUP_WINDOW_SECONDS")


class SocketSettings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    # $connect closes a user's oldest connection through the Management API when over the cap.
    websocket_callback_url: HttpUrl = Field(validation_alias="WEBSOCKET_CALLBACK_URL")


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    jwt_issuer: str = Field(min_length=1, validation_alias="JWT_ISSUER")
    jwt_audience: str = Field(min_length=1, validation_alias="JWT_AUDIENCE")
    jwks_url: HttpUrl = Field(validation_alias="JWKS_URL")


class UnsubscribeSettings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    # The key that signs one-click unsubscribe links, in Secrets Manager (read on first use).
    unsubscribe_secret_arn: str = Field(min_length=1, validation_alias="UNSUBSCRIBE_SECRET_ARN")


class DigestSettings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    email_from_address: str = Field(min_length=3, validation_alias="EMAIL_FROM_ADDRESS")
    # Empty: SES's defaults (the account-level suppression list still applies).
    email_configuration_set: str = Field(default="", validation_alias="EMAIL_CONFIGURATION_SET")
    inbox_url: HttpUrl = Field(validation_alias="INBOX_URL")
    # The unsubscribe route of the HTTP API, which the emails' links point to.
    unsubscribe_url: HttpUrl = Field(validation_alias="UNSUBSCRIBE_URL")
    # Users' digests are prepared and sent side by side: each is a few round trips.
    digest_concurrency: int = Field(default=16, ge=1, le=64, validation_alias="DIGEST_CONCURRENCY")


@lru_cache(maxsize=1)
def table_settings() -> TableSettings:
    return TableSettings()  # type: ignore[call-arg]


@lru_cache(maxsize=1)
def push_settings() -> PushSettings:
    return PushSettings()


@lru_cache(maxsize=1)
def fanout_settings() -> FanoutSettings:
    return FanoutSettings()  # type: ignore[call-arg]


@lru_cache(maxsize=1)
def ingest_settings() -> IngestSettings:
    return IngestSettings()


@lru_cache(maxsize=1)
def socket_settings() -> SocketSettings:
    return SocketSettings()  # type: ignore[call-arg]


@lru_cache(maxsize=1)
def auth_settings() -> AuthSettings:
    return AuthSettings()  # type: ignore[call-arg]


@lru_cache(maxsize=1)
def unsubscribe_settings() -> UnsubscribeSettings:
    return UnsubscribeSettings()  # type: ignore[call-arg]


@lru_cache(maxsize=1)
def digest_settings() -> DigestSettings:
    return DigestSettings()  # type: ignore[call-arg]
