"""SES and Secrets Manager on loopback, in the moto server that also plays SNS.

The digests' from-address is verified in moto's SES, the unsubscribe links' key is a secret in
its Secrets Manager, and every email moto's SES accepted can be read back for the page's
Emails panel (moto keeps them in memory, in this process).
"""

from __future__ import annotations

import email
import secrets
from email.message import Message
from typing import Any

import boto3

from inbox_dev.gateway import HTTP_API_ID
from inbox_dev.runtime import ACCOUNT_ID, REGION

FROM_ADDRESS = "digests@inbox.example"
SECRET_NAME = "inbox-local-unsubscribe-links"  # noqa: S105 - the name of a secret, not one


class LocalEmail:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.secret_arn = ""

    def start(self) -> None:
        boto3.client("sesv2", endpoint_url=self.endpoint, region_name=REGION).create_email_identity(
            EmailIdentity=FROM_ADDRESS
        )
        created = boto3.client("secretsmanager", endpoint_url=self.endpoint, region_name=REGION).create_secret(
            Name=SECRET_NAME, SecretString=secrets.token_urlsafe(48)
        )
        self.secret_arn = created["ARN"]

    @staticmethod
    def sent() -> list[dict[str, Any]]:
        """Every email sent, oldest first: addresses, headers, and the text and HTML parts."""
        from moto.ses.models import ses_backends

        emails = []
        for message in ses_backends[ACCOUNT_ID][REGION].sent_messages:
            raw = getattr(message, "raw_data", None)
            if raw is None:
                continue
            parsed = email.message_from_string(raw)
            emails.append(
                {
                    "id": message.id,
                    "to": parsed["To"],
                    "from": parsed["From"],
                    "subject": parsed["Subject"],
                    "date": parsed["Date"],
                    "listUnsubscribe": parsed["List-Unsubscribe"],
                    "listUnsubscribePost": parsed["List-Unsubscribe-Post"],
                    "text": _part(parsed, "text/plain"),
                    "html": _part(parsed, "text/html"),
                }
            )
        return emails


def _part(message: Message, content_type: str) -> str | None:
    for part in message.walk():
        if part.get_content_type() == content_type:
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8")
    return None


def email_values(email: LocalEmail, inbox_url: str) -> dict[str, str]:
    """The template's digest parameters and the links' secret, on this machine."""
    return {
        "EmailFromAddress": FROM_ADDRESS,
        "InboxUrl": inbox_url,
        "UnsubscribeLinkSecret": email.secret_arn,
        "HttpApi": HTTP_API_ID,
    }
