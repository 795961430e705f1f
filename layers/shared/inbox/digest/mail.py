"""Sending a digest through SES v2: one raw MIME message with both parts and RFC 8058 headers.

Raw content carries ``List-Unsubscribe`` and ``List-Unsubscribe-Post``, which mail clients use
for their own unsubscribe button (a POST to the link, no login). Python's email package builds
the message: headers are encoded by it, never by hand.
"""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING

from inbox.digest.compose import DigestEmail

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client


# CRLF line ends, and long headers kept on one line up to RFC 5322's limit: a header without
# spaces (the unsubscribe link) would otherwise be cut into encoded words mail clients cannot use.
MAIL_POLICY = policy.SMTP.clone(max_line_length=998)


def mime_message(email: DigestEmail, sender: str, recipient: str) -> bytes:
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = email.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["List-Unsubscribe"] = f"<{email.unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message.as_bytes()


class SesMailer:
    def __init__(self, ses: SESV2Client, from_address: str, configuration_set: str = "") -> None:
        self._ses = ses
        self._from_address = from_address
        self._configuration_set = configuration_set

    def send(self, recipient: str, email: DigestEmail) -> str:
        """The SES message id."""
        arguments = {
            "FromEmailAddress": self._from_address,
            "Destination": {"ToAddresses": [recipient]},
            "Content": {"Raw": {"Data": mime_message(email, self._from_address, recipient)}},
            "EmailTags": [{"Name": "kind", "Value": "digest"}],
        }
        if self._configuration_set:
            arguments["ConfigurationSetName"] = self._configuration_set
        return self._ses.send_email(**arguments)["MessageId"]  # type: ignore[arg-type]
