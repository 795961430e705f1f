"""Objects built once per process from the settings: what each handler's module creates at cold start."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from inbox import aws_clients
from inbox.settings import digest_settings, table_settings, unsubscribe_settings
from inbox.store import Store

if TYPE_CHECKING:
    from inbox.digest.links import UnsubscribeLinks
    from inbox.digest.runner import DigestRun
    from inbox.preferences.service import PreferenceService

SECRET_MAX_AGE_SECONDS = 300


@lru_cache(maxsize=1)
def store() -> Store:
    settings = table_settings()
    return Store.on(
        aws_clients.dynamodb_table(settings.table_name),
        notification_ttl_seconds=settings.notification_ttl_seconds_by_type,
        connection_ttl_seconds=settings.connection_ttl_seconds,
        region=settings.region,
        max_connections_per_user=settings.max_connections_per_user,
    )


# The objects below import what only their own functions use (Jinja2, the digest, Secrets
# Manager): importing them at the top would add to every function's cold start.


@lru_cache(maxsize=1)
def preference_service() -> PreferenceService:
    from inbox.preferences.service import PreferenceService

    return PreferenceService(store().preferences, store().digests)


def unsubscribe_links(route_url: str = "") -> UnsubscribeLinks:
    """Links to ``route_url`` signed with the current key (Powertools caches the secret for five minutes)."""
    from aws_lambda_powertools.utilities.parameters import get_secret

    from inbox.digest.links import UnsubscribeLinks

    settings = unsubscribe_settings()
    secret = get_secret(settings.unsubscribe_secret_arn, max_age=SECRET_MAX_AGE_SECONDS)
    return UnsubscribeLinks(str(secret), route_url)


def digest_run() -> DigestRun:
    from inbox.digest.compose import DigestComposer
    from inbox.digest.mail import SesMailer
    from inbox.digest.runner import DigestRun

    settings = digest_settings()
    return DigestRun(
        preferences=store().preferences,
        schedules=store().digests,
        inbox=store().queries,
        mailer=SesMailer(aws_clients.sesv2(), settings.email_from_address, settings.email_configuration_set),
        composer=DigestComposer(str(settings.inbox_url)),
        links=unsubscribe_links(str(settings.unsubscribe_url)),
        concurrency=settings.digest_concurrency,
    )
