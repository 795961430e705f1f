"""Configuration from environment variables, validated once per cold start.

Each function reads only the settings it needs, so a missing variable fails the
function that depends on it at import time, with pydantic's clear message,
instead of failing a request later. Endpoints are not settings: boto3 reads
AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> itself.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field, HttpUrl
from pydantic_settings import BaseSettings, SettingsConfigDict

DAY_SECONDS = 86_400


class TableSettings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    table_name: str = Field(min_length=3, validation_alias="TABLE_NAME")
    notification_ttl_days: int = Field(default=90, ge=1, le=3650, validation_alias="NOTIFICATION_TTL_DAYS")
    # API Gateway closes a WebSocket connection after 2 hours; the record outlives it a little
    # so that a connection is never forgotten while it can still receive messages.
    connection_ttl_seconds: int = Field(default=7_800, ge=7_200, validation_alias="CONNECTION_TTL_SECONDS")
    # A new connection beyond this closes the user's oldest. Reads of a user's connections take this
    # many plus a margin in one query, which stays within 1 read unit up to 40 (the template's maximum).
    max_connections_per_user: int = Field(default=10, ge=1, le=40, validation_alias="MAX_CONNECTIONS_PER_USER")
    # Set by Lambda; the region whose fan-out sends a change (see store.notifications).
    region: str = Field(default="", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"))

    @property
    def notification_ttl_seconds(self) -> int:
        return self.notification_ttl_days * DAY_SECONDS


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
