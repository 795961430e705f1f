"""Email digests: who is due this hour, what their email says, and sending it through SES."""
