"""The local stack's function variables as `sam local invoke --env-vars` reads them, for functions in containers.

A container reaches the host's servers at host.docker.internal, not at 127.0.0.1: endpoints are
rewritten. Other values stay as they are, such as JWT_ISSUER, which names the token issuer and
must equal the tokens' ``iss`` claim.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from inbox_dev.runtime import LocalFunction

CONTAINER_HOST = "host.docker.internal"
_LOOPBACK_HOST = re.compile(r"(?<=://)(127\.0\.0\.1|localhost)(?=[:/]|$)")


def _is_endpoint(variable: str) -> bool:
    return variable.endswith("_URL") or variable.startswith("AWS_ENDPOINT_URL")


def container_value(variable: str, value: str) -> str:
    """``value`` as a container sees it: an endpoint on loopback is on host.docker.internal."""
    return _LOOPBACK_HOST.sub(CONTAINER_HOST, value) if _is_endpoint(variable) else value


def sam_environment(functions: Iterable[LocalFunction]) -> dict[str, dict[str, str]]:
    """For each function, by logical id: its template variables with the stack's values, and the endpoints of
    AWS services the stack sets (SAM applies a variable only if the function declares it in template.yaml)."""
    environments = {}
    for function in functions:
        environment = function.environment
        # A variable that resolves to AWS::NoValue is not in the environment, locally as in Lambda.
        declared = [name for name in function.spec.variables if name in environment]
        endpoints = [name for name in environment if name.startswith("AWS_ENDPOINT_URL")]
        environments[function.name] = {name: container_value(name, environment[name]) for name in declared + endpoints}
    return environments
