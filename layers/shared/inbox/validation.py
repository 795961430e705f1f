"""One summary of pydantic's validation errors, for bad Kafka records and bad HTTP requests alike."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

MAX_PROBLEMS = 5


def summary(errors: Iterable[Mapping[str, Any]], *, skip: Sequence[str] = (), whole: str = "value") -> str:
    """ "field.path: message; ..." for the first few problems.

    ``skip`` drops location parts such as "body"; ``whole`` names a problem of the whole input.
    """
    problems = []
    for error in list(errors)[:MAX_PROBLEMS]:
        location = ".".join(str(part) for part in error.get("loc", ()) if part not in skip)
        problems.append(f"{location or whole}: {error.get('msg', 'is invalid')}")
    return "; ".join(problems)
