"""Lambda event filtering: the FilterCriteria patterns of a mapping, checked and matched against records."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

_MISSING = object()
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float)


def _equal(expected: Any, value: Any) -> bool:
    # JSON equality: true is not 1, while 1 and 1.0 are the same number.
    if isinstance(expected, bool) or isinstance(value, bool):
        return expected is value
    return bool(expected == value)


def _valid_numeric(argument: Any) -> bool:
    if not isinstance(argument, list) or not argument or len(argument) % 2:
        return False
    pairs = zip(argument[::2], argument[1::2], strict=True)
    return all(op in _COMPARISONS and _is_number(bound) for op, bound in pairs)


def _numeric(argument: list[Any], value: Any) -> bool:
    pairs = zip(argument[::2], argument[1::2], strict=True)
    return _is_number(value) and all(_COMPARISONS[op](value, bound) for op, bound in pairs)


def _anything_but(argument: Any, value: Any) -> bool:
    excluded = argument if isinstance(argument, list) else [argument]
    return not any(_equal(item, value) for item in excluded)


# The rules Lambda supports, each with a check of its argument.
_RULE_ARGUMENTS: dict[str, Callable[[Any], bool]] = {
    "prefix": lambda argument: isinstance(argument, str),
    "suffix": lambda argument: isinstance(argument, str),
    "equals-ignore-case": lambda argument: isinstance(argument, str),
    "anything-but": lambda argument: (
        _is_scalar(argument) or (isinstance(argument, list) and all(_is_scalar(item) for item in argument))
    ),
    "numeric": _valid_numeric,
    "exists": lambda argument: isinstance(argument, bool),
}
# How a present value matches each rule; "exists" is about presence itself (see _matches_value).
_RULE_MATCHES: dict[str, Callable[[Any, Any], bool]] = {
    "prefix": lambda argument, value: isinstance(value, str) and value.startswith(argument),
    "suffix": lambda argument, value: isinstance(value, str) and value.endswith(argument),
    "equals-ignore-case": lambda argument, value: isinstance(value, str) and value.casefold() == argument.casefold(),
    "anything-but": _anything_but,
    "numeric": _numeric,
}


def check_pattern(pattern: Mapping[str, Any], path: str = "") -> None:
    """Reject what Lambda would reject, so that an unsupported rule never silently passes or drops records."""
    for key, expected in pattern.items():
        where = f"{path}.{key}" if path else key
        if isinstance(expected, Mapping):
            check_pattern(expected, where)
        elif isinstance(expected, list):
            for candidate in expected:
                if isinstance(candidate, Mapping):
                    _check_rule(candidate, where)
                elif not _is_scalar(candidate):
                    raise ValueError(f"filter field {where}: {candidate!r} is neither a value nor a rule")
        else:
            raise ValueError(f"filter field {where}: expected an object or a list of values, got {expected!r}")


def _check_rule(rule: Mapping[str, Any], where: str) -> None:
    if len(rule) != 1:
        raise ValueError(f"filter field {where}: a rule has exactly one operator, got {dict(rule)!r}")
    ((name, argument),) = rule.items()
    if name not in _RULE_ARGUMENTS:
        raise ValueError(f"filter field {where}: unsupported rule {name!r} (supported: {', '.join(_RULE_ARGUMENTS)})")
    if not _RULE_ARGUMENTS[name](argument):
        raise ValueError(f"filter field {where}: invalid argument for {name!r}: {argument!r}")


def matches_filter(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Whether ``event`` matches one filter pattern of Lambda event filtering.

    Objects nest; a leaf lists the values and rules allowed there (any of them); a list in the
    event matches when one of its items does. Unsupported rules raise ValueError.
    """
    check_pattern(pattern)
    return _matches_object(pattern, event)


def passes_filters(filters: Sequence[Mapping[str, Any]], event: Mapping[str, Any]) -> bool:
    """Lambda keeps a record that matches any of the mapping's filters, and every record without filters."""
    return not filters or any(matches_filter(pattern, event) for pattern in filters)


def _matches_object(pattern: Mapping[str, Any], value: Any) -> bool:
    if isinstance(value, list):
        return any(_matches_object(pattern, item) for item in value)
    if not isinstance(value, Mapping):
        return False
    return all(_matches_field(expected, value.get(key, _MISSING)) for key, expected in pattern.items())


def _matches_field(expected: Any, value: Any) -> bool:
    if isinstance(expected, Mapping):
        # A missing object is an empty one: only {"exists": false} rules inside it can match.
        return _matches_object(expected, {} if value is _MISSING else value)
    values = value if isinstance(value, list) else [value]
    return any(_matches_value(candidate, item) for candidate in expected for item in values)


def _matches_value(candidate: Any, value: Any) -> bool:
    if isinstance(candidate, Mapping):
        ((name, argument),) = candidate.items()
        if name == "exists":
            return (value is not _MISSING) is argument
        return value is not _MISSING and _RULE_MATCHES[name](argument, value)
    return value is not _MISSING and _equal(candidate, value)
