"""Fixtures the integration tests share."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.helpers import http_event


@pytest.fixture
def call(function: Any, context: Any) -> Any:
    """The API function, called as API Gateway calls it for ``user``: (status, decoded body)."""
    api = function("api")

    def request(method: str, path: str, user: str | None, **kwargs: Any) -> tuple[int, Any]:
        response = api.lambda_handler(http_event(method, path, user, **kwargs), context)
        body = response.get("body")
        return response["statusCode"], json.loads(body) if body else None

    return request
