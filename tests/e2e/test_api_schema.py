"""The HTTP API against its own OpenAPI document: schemathesis fuzzes every operation on the local stack.

The document is the one the API serves (`GET /openapi.json`); requests go through the local
API Gateway (the template's routes and JWT authorizer) with a valid bearer token, valid and
invalid input alike. Every answer must be documented (status, content type, body, headers)
and none may be a 5xx.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from inbox_dev.samples import sample_event
from inbox_dev.template import http_routes
from schemathesis import BaseSchema
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.conftest import RunningStack, wait_until

pytestmark = pytest.mark.e2e

OPERATIONS = {
    "GET /notifications",
    "POST /notifications/open",
    "GET /notifications/unread-count",
    "GET /notifications/counts",
    "POST /notifications/read-all",
    "POST /notifications/seen-all",
    "POST /notifications/clear-all",
    "POST /notifications/{id}/read",
    "POST /notifications/{id}/unread",
    "POST /notifications/{id}/archive",
    "POST /notifications/{id}/unarchive",
    "DELETE /notifications/{id}",
    "GET /preferences",
    "PUT /preferences",
    "POST /devices",
    "GET /devices",
    "DELETE /devices/{id}",
}
MIN_REQUESTS = 1_000
# 200 generated examples per operation (valid and invalid input), plus schemathesis' coverage cases:
# about 3,500 requests over the 16 operations, the same ones on every run (derandomize).
settings.register_profile(
    "api-schema",
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

# Requests sent per operation, for the count check at the end of the module.
sent: Counter[str] = Counter()


@pytest.fixture(scope="module")
def fuzz_token(local_stack: RunningStack) -> str:
    """A user with notifications in the inbox, so that listings have items to validate."""
    user = f"fuzz-{uuid.uuid4().hex[:8]}"
    token = local_stack.token(user)
    for index, topic in enumerate(("message-liked", "user-followed", "notifications.post.like")):
        local_stack.produce(topic, sample_event(topic, actor=f"actor-{index}", recipient=user))

    def listed() -> int:
        return len(local_stack.api("GET", "/notifications", token).json()["items"])

    wait_until(lambda: listed() == 3, timeout=60)
    return token


@pytest.fixture(scope="module")
def api_schema(local_stack: RunningStack) -> BaseSchema:
    return schemathesis.openapi.from_url(f"{local_stack.http_api}/openapi.json", timeout=30)


schema = schemathesis.pytest.from_fixture("api_schema")


@settings(settings.get_profile("api-schema"))
@schema.parametrize()
def test_every_operation_answers_as_documented_and_never_with_a_5xx(case: Any, fuzz_token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_token}"}, checks=CHECKS, timeout=30)
    sent[case.operation.label] += 1


def test_the_document_describes_the_deployed_routes(local_stack: RunningStack) -> None:
    # The template's authorized routes, as API Gateway spells them ({id}), bearer authentication,
    # and each route's answers
    document = requests.get(f"{local_stack.http_api}/openapi.json", timeout=30).json()
    operations = {f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item}
    deployed = {route.route_key for route in http_routes() if route.authorized}
    assert operations == deployed == OPERATIONS
    assert document["security"] == [{"bearer": []}]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert {"401", "413", "429"} <= set(operation["responses"]), f"{method} {path}"
            if "{id}" in path:
                assert [(p["name"], p["in"]) for p in operation["parameters"]] == [("id", "path")]
                assert {"400", "404"} <= set(operation["responses"]), f"{method} {path}"


def test_the_fuzzing_covered_every_operation_with_enough_requests() -> None:
    # Given the schemathesis test above, run first in this module (on its own, this test fails: nothing was sent)
    # Then it sent requests to every operation, and enough of them, each answered as documented
    print(f"schemathesis sent {sum(sent.values())} requests: {dict(sorted(sent.items()))}")
    assert sent, "schemathesis sent no request: run the whole module, the fuzzing test first"
    assert set(sent) == OPERATIONS
    assert sum(sent.values()) >= MIN_REQUESTS
