"""Routes of /devices: phones registered for push."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from inbox import aws_clients, wiring
from inbox.api.devices import DeviceRegistry
from inbox.api.errors import documented
from inbox.api.routes import current_user, no_content
from inbox.models import Device, DeviceRegistration
from inbox.settings import push_settings

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]  # its __init__ is not annotated
DeviceId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z2-7]{16}$")]


@lru_cache(maxsize=1)
def registry() -> DeviceRegistry:
    return DeviceRegistry(wiring.store().devices, aws_clients.sns(), push_settings())


@router.post(
    "/devices",
    summary="Register a phone for push, or refresh its registration",
    status_code=201,
    responses=documented(201, "The device", 400, 415, 422),
)
def register_device(registration: DeviceRegistration) -> Device:
    return registry().register(current_user(router), registration)


@router.get("/devices", summary="The user's phones", responses=documented(200, "The devices"))
def list_devices() -> list[Device]:
    return [stored.device for stored in wiring.store().devices.of(current_user(router))]


@router.delete("/devices/<id>", summary="Stop pushing to a phone", responses=documented(204, "Done", 400, 404))
def delete_device(id: DeviceId) -> Response[Any]:  # noqa: A002
    registry().unregister(current_user(router), id)
    return no_content()
