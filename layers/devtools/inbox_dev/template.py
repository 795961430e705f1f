"""Reads template.yaml, so that tests and local tools use the deployed definitions, not copies."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[3]
TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"


class _CloudFormationLoader(yaml.SafeLoader):
    """YAML loader that keeps short-form intrinsics (!Ref, !Sub, ...) as their long form."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


@lru_cache(maxsize=1)
def template() -> dict[str, Any]:
    with TEMPLATE_PATH.open() as handle:
        return cast(dict[str, Any], yaml.load(handle, Loader=_CloudFormationLoader))  # noqa: S506 - a SafeLoader subclass


def resource(logical_id: str) -> dict[str, Any]:
    return cast(dict[str, Any], template()["Resources"][logical_id])


def table_definition(logical_id: str = "NotificationsTable") -> tuple[dict[str, Any], str | None]:
    """CreateTable arguments for the template's table, and its TTL attribute name."""
    properties = resource(logical_id)["Properties"]
    definition: dict[str, Any] = {
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": properties["BillingMode"],
    }
    if "GlobalSecondaryIndexes" in properties:
        definition["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
    if "StreamSpecification" in properties:
        definition["StreamSpecification"] = {"StreamEnabled": True, **properties["StreamSpecification"]}
    ttl = properties.get("TimeToLiveSpecification") or {}
    return definition, ttl.get("AttributeName") if ttl.get("Enabled") else None
