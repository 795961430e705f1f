"""Which faults the local stack injects, at what rates.

``INBOX_LOCAL_FAULTS=dynamodb_throttle=0.10,management_api_500=0.05`` in the environment of `make dev`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

FAULTS_VARIABLE = "INBOX_LOCAL_FAULTS"
# Where the processes that inject faults keep their counts (set by the stack for its workers).
TALLY_VARIABLE = "INBOX_LOCAL_FAULTS_TALLY"

DYNAMODB_THROTTLE = "dynamodb_throttle"
MANAGEMENT_API_500 = "management_api_500"


@dataclass(frozen=True)
class FaultRates:
    """The share of requests each fault answers: DynamoDB calls made by the functions, Management API posts."""

    dynamodb_throttle: float = 0.0
    management_api_500: float = 0.0

    @classmethod
    def parse(cls, text: str) -> FaultRates:
        """``kind=rate,...``; an empty text means no faults. ValueError names what is wrong and what is allowed."""
        kinds = [field.name for field in fields(cls)]
        rates: dict[str, float] = {}
        for part in filter(None, (part.strip() for part in text.split(","))):
            kind, separator, value = part.partition("=")
            kind = kind.strip()
            if not separator or kind not in kinds:
                raise ValueError(f"{FAULTS_VARIABLE}: {part!r} is not <kind>=<rate>, a kind among {', '.join(kinds)}")
            try:
                rate = float(value)
            except ValueError:
                raise ValueError(f"{FAULTS_VARIABLE}: the rate of {kind} is not a number: {value!r}") from None
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{FAULTS_VARIABLE}: the rate of {kind} is a share between 0 and 1, not {rate:g}")
            rates[kind] = rate
        return cls(**rates)

    def __str__(self) -> str:
        rates = ((field.name, getattr(self, field.name)) for field in fields(self))
        return ",".join(f"{kind}={rate:g}" for kind, rate in rates if rate)

    def __bool__(self) -> bool:
        return any(getattr(self, field.name) for field in fields(self))
