"""Reads template.yaml, so that tests and local tools use the deployed definitions, not copies."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"


class _CloudFormationLoader(yaml.SafeLoader):
    """YAML loader that keeps short-form intrinsics (!Ref, !Sub, ...) as their long form."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = tag_suffix if tag_suffix in {"Ref", "Condition"} else f"Fn::{tag_suffix}"
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


def _load(text: str) -> Any:
    return yaml.load(text, Loader=_CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass


@lru_cache(maxsize=1)
def template() -> dict[str, Any]:
    """template.yaml with its Fn::ForEach loops expanded, as AWS::LanguageExtensions expands them."""
    return cast(dict[str, Any], expand_for_each(_load(TEMPLATE_PATH.read_text())))


_FOR_EACH = "Fn::ForEach::"


def expand_for_each(value: Any) -> Any:
    """``value`` with every Fn::ForEach replaced by the keys it stands for, nested loops included.

    In a loop's fragment, ``${Identifier}`` in any string (keys and Fn::Sub alike) becomes the item,
    ``&{Identifier}`` the item without its non-alphanumeric characters, and ``Ref: Identifier`` the item.
    Collections are literal lists: the template's loops need nothing else.
    """
    if isinstance(value, list):
        return [expand_for_each(item) for item in value]
    if not isinstance(value, dict):
        return value
    expanded: dict[str, Any] = {}
    for key, item in value.items():
        if not key.startswith(_FOR_EACH):
            copies = [{key: expand_for_each(item)}]
        else:
            identifier, collection, fragment = item
            if not isinstance(collection, list):
                raise ValueError(f"{key}: only a literal list can be looped over here, not {collection!r}")
            copies = [expand_for_each(_substitute(fragment, identifier, str(element))) for element in collection]
        for entries in copies:
            # CloudFormation rejects a loop that makes a key twice; so does this reader.
            duplicates = expanded.keys() & entries.keys()
            if duplicates:
                raise ValueError(f"{key} makes {sorted(duplicates)}, which the template has already")
            expanded.update(entries)
    return expanded


def _substitute(value: Any, identifier: str, element: str) -> Any:
    if isinstance(value, str):
        alphanumeric = re.sub(r"[^A-Za-z0-9]", "", element)
        return value.replace(f"${{{identifier}}}", element).replace(f"&{{{identifier}}}", alphanumeric)
    if isinstance(value, list):
        return [_substitute(item, identifier, element) for item in value]
    if isinstance(value, dict):
        if value == {"Ref": identifier}:
            return element
        return {
            _substitute(key, identifier, element): _substitute(item, identifier, element) for key, item in value.items()
        }
    return value


_SECTION = re.compile(r"^(\w+):")
_LOOP = re.compile(r"^  (Fn::ForEach::\w+):\s*$")


def expanded_text() -> str:
    """template.yaml's text with the loops of its sections written out, and every comment kept.

    For checkov, which reads its skips from the comments but passes over an Fn::ForEach silently, and
    with it the Globals of every function.
    """
    text = TEMPLATE_PATH.read_text()
    raw = _load(text)
    lines: list[str] = []
    section, in_loop = "", False
    for line in text.splitlines(keepends=True):
        indent = len(line) - len(line.lstrip(" "))
        if in_loop and (not line.strip() or indent > 2):
            continue
        in_loop = False
        if match := _SECTION.match(line):
            section = match.group(1)
        if match := _LOOP.match(line):
            name = match.group(1)
            written = yaml.safe_dump(expand_for_each({name: raw[section][name]}), sort_keys=False, width=120)
            lines += [f"  {item}" for item in written.splitlines(keepends=True)] + ["\n"]
            in_loop = True
        else:
            lines.append(line)
    return "".join(lines)


def resource(logical_id: str) -> dict[str, Any]:
    return cast(dict[str, Any], template()["Resources"][logical_id])


def table_definition(
    logical_id: str = "NotificationsTable", values: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], str | None]:
    """CreateTable arguments for the template's global table as its replica in the stack's region has
    it, and its TTL attribute name.

    Parameters take their defaults unless ``values`` sets them, as in resolve(). With PROVISIONED, the
    table and the index get the least capacity auto scaling may set.
    """
    body = resource(logical_id)
    if body["Type"] != "AWS::DynamoDB::GlobalTable":
        raise ValueError(f"{logical_id} is a {body['Type']}, not an AWS::DynamoDB::GlobalTable")
    values = values or {}
    # The local table is the replica in the stack's region; no region, this one's or another's, is resolved.
    (here,) = (item for item in body["Properties"]["Replicas"] if item.get("Region") == {"Ref": "AWS::Region"})
    replica = resolve({key: item for key, item in here.items() if key != "Region"}, values)
    properties = resolve({key: item for key, item in body["Properties"].items() if key != "Replicas"}, values)
    definition: dict[str, Any] = {
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": properties.get("BillingMode", "PROVISIONED"),
    }
    if definition["BillingMode"] == "PROVISIONED":
        definition["ProvisionedThroughput"] = _capacity(replica, properties)
    replica_indexes = {index["IndexName"]: index for index in replica.get("GlobalSecondaryIndexes", [])}
    if "GlobalSecondaryIndexes" in properties:
        definition["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index["IndexName"],
                "KeySchema": index["KeySchema"],
                "Projection": index["Projection"],
                **(
                    {"ProvisionedThroughput": _capacity(replica_indexes[index["IndexName"]], index)}
                    if definition["BillingMode"] == "PROVISIONED"
                    else {}
                ),
            }
            for index in properties["GlobalSecondaryIndexes"]
        ]
    if "StreamSpecification" in properties:
        definition["StreamSpecification"] = {"StreamEnabled": True, **properties["StreamSpecification"]}
    ttl = properties.get("TimeToLiveSpecification") or {}
    return definition, ttl.get("AttributeName") if ttl.get("Enabled") else None


def _capacity(reads: Mapping[str, Any], writes: Mapping[str, Any]) -> dict[str, int]:
    """ProvisionedThroughput at auto scaling's least: reads are set per replica, writes for the whole table."""
    read_scaling = reads["ReadProvisionedThroughputSettings"]["ReadCapacityAutoScalingSettings"]
    write_scaling = writes["WriteProvisionedThroughputSettings"]["WriteCapacityAutoScalingSettings"]
    return {
        "ReadCapacityUnits": int(read_scaling["MinCapacity"]),
        "WriteCapacityUnits": int(write_scaling["MinCapacity"]),
    }


# -- functions, APIs and intrinsics, for the local stack -----------------------------------

_SUB_REFERENCE = re.compile(r"\$\{([^}!][^}]*)\}")
# What Ref AWS::NoValue resolves to: the property or list item that holds it is left out.
_NO_VALUE = object()


def condition(name: str, values: Mapping[str, str]) -> bool:
    """Whether a condition of the template holds, its parameters taken as in resolve()."""
    return bool(resolve(template()["Conditions"][name], values))


def resolve(value: Any, values: Mapping[str, str]) -> Any:
    """Evaluate the intrinsics a local run needs.

    Ref (AWS::NoValue drops what holds it), Fn::Sub, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split,
    and Fn::If with the template's conditions (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition).
    ``values`` maps logical ids, parameters, pseudo parameters (``AWS::Region``) and
    attributes (``Table.Arn``) to local values; a parameter missing from it takes its Default.
    """
    if isinstance(value, dict) and len(value) == 1:
        ((name, argument),) = value.items()
        if name == "Ref":
            return _NO_VALUE if argument == "AWS::NoValue" else _lookup(str(argument), values)
        if name == "Condition" and isinstance(argument, str):
            return condition(argument, values)
        if name == "Fn::If":
            name_of_condition, if_true, if_false = argument
            return resolve(if_true if condition(name_of_condition, values) else if_false, values)
        if name == "Fn::Equals":
            left, right = (resolve(item, values) for item in argument)
            return str(left) == str(right)
        if name == "Fn::Not":
            return not resolve(argument[0], values)
        if name == "Fn::And":
            return all(resolve(item, values) for item in argument)
        if name == "Fn::Or":
            return any(resolve(item, values) for item in argument)
        if name == "Fn::Select":
            index, items = argument
            return resolve(items, values)[int(resolve(index, values))]
        if name == "Fn::Split":
            separator, text = argument
            return str(resolve(text, values)).split(separator)
        if name == "Fn::GetAtt":
            return _lookup(".".join(argument), values)
        if name == "Fn::Sub":
            text, local = (argument, {}) if isinstance(argument, str) else argument
            merged = {**values, **{key: str(resolve(item, values)) for key, item in local.items()}}
            return _SUB_REFERENCE.sub(lambda match: _lookup(match.group(1), merged), text)
        if name == "Fn::Join":
            separator, items = argument
            return separator.join(str(resolve(item, values)) for item in items)
    if isinstance(value, dict):
        resolved = {key: resolve(item, values) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}
    if isinstance(value, list):
        return [item for item in (resolve(item, values) for item in value) if item is not _NO_VALUE]
    return value


def _lookup(name: str, values: Mapping[str, str]) -> str:
    if name in values:
        return values[name]
    parameter = template().get("Parameters", {}).get(name)
    if parameter is not None and "Default" in parameter:
        return str(parameter["Default"])
    raise KeyError(f"template.yaml refers to {name}, which has no local value")


@dataclass(frozen=True)
class FunctionSpec:
    """An AWS::Serverless::Function as Lambda would run it: code folder, handler, limits, variables."""

    logical_id: str
    code_dir: Path
    module: str
    handler: str
    timeout_s: int
    memory_mb: int
    variables: dict[str, Any]  # unresolved: see resolve()

    def environment(self, values: Mapping[str, str]) -> dict[str, str]:
        return {name: str(value) for name, value in resolve(self.variables, values).items()}


def functions() -> dict[str, FunctionSpec]:
    defaults = template().get("Globals", {}).get("Function", {})
    specs = {}
    for logical_id, body in template()["Resources"].items():
        if body["Type"] != "AWS::Serverless::Function":
            continue
        properties = {**defaults, **body["Properties"]}
        module, handler = str(properties["Handler"]).rsplit(".", 1)
        variables = {
            **defaults.get("Environment", {}).get("Variables", {}),
            **body["Properties"].get("Environment", {}).get("Variables", {}),
        }
        specs[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_dir=PROJECT_ROOT / properties["CodeUri"],
            module=module,
            handler=handler,
            timeout_s=int(properties.get("Timeout", 3)),
            memory_mb=int(properties.get("MemorySize", 128)),
            variables=variables,
        )
    return specs


@dataclass(frozen=True)
class HttpRoute:
    method: str
    path: str  # API Gateway's form, e.g. /notifications/{id}/read
    function: str
    authorized: bool

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


def http_routes(api: str = "HttpApi") -> list[HttpRoute]:
    """The HTTP API's routes, from the HttpApi events of the template's functions."""
    routes = []
    for function in functions():
        for event in resource(function)["Properties"].get("Events", {}).values():
            properties = event.get("Properties", {})
            if event["Type"] != "HttpApi" or properties.get("ApiId") != {"Ref": api}:
                continue
            authorizer = properties.get("Auth", {}).get("Authorizer")
            routes.append(
                HttpRoute(str(properties["Method"]).upper(), properties["Path"], function, authorizer != "NONE")
            )
    return routes


@dataclass(frozen=True)
class Throttle:
    """A route's throttling on its stage: ``burst`` requests at once, ``rate`` per second in the long run."""

    burst: int
    rate: float


def _throttle(settings: Mapping[str, Any] | None) -> Throttle | None:
    if not settings or "ThrottlingBurstLimit" not in settings or "ThrottlingRateLimit" not in settings:
        return None
    return Throttle(int(settings["ThrottlingBurstLimit"]), float(settings["ThrottlingRateLimit"]))


def http_throttles(values: Mapping[str, str], api: str = "HttpApi") -> dict[str, Throttle]:
    """Each HTTP API route's throttling, by route key: its event's RouteSettings, else the API's DefaultRouteSettings.

    As on API Gateway, a route's own settings replace the default ones; a route with neither is not throttled.
    """
    default = _throttle(resolve(resource(api)["Properties"].get("DefaultRouteSettings"), values))
    throttles = {}
    for function in functions():
        for event in resource(function)["Properties"].get("Events", {}).values():
            properties = event.get("Properties", {})
            if event["Type"] != "HttpApi" or properties.get("ApiId") != {"Ref": api}:
                continue
            route_key = f"{str(properties['Method']).upper()} {properties['Path']}"
            throttle = _throttle(resolve(properties.get("RouteSettings"), values)) or default
            if throttle is not None:
                throttles[route_key] = throttle
    return throttles


def access_log_format(logical_id: str) -> str | None:
    """The access log format of an HTTP API (AWS::Serverless::HttpApi) or a stage, if it logs access."""
    settings = resource(logical_id)["Properties"].get("AccessLogSettings") or {}
    return str(settings["Format"]) if "Format" in settings else None


@dataclass(frozen=True)
class WebSocketRoute:
    route_key: str
    function: str
    authorizer_function: str | None
    identity_source: tuple[str, ...] = ()
    # A route with a route response sends the function's answer back to the client.
    answers: bool = False


_FUNCTION_ARN = re.compile(r"\$\{(\w+)\.Arn\}")


def _function_in_uri(uri: Any) -> str:
    """The function in ${Function.Arn}, or in a variable of the Sub set to !Ref Function.Alias."""
    text = uri["Fn::Sub"] if isinstance(uri, dict) else str(uri)
    if isinstance(text, list):
        text, variables = text
        for value in variables.values():
            if isinstance(value, dict) and str(value.get("Ref", "")).endswith(".Alias"):
                return str(value["Ref"]).removesuffix(".Alias")
    match = _FUNCTION_ARN.search(text)
    if match is None:
        raise ValueError(f"no function in integration URI {uri!r}")
    return match.group(1)


def websocket_routes(api: str = "WebSocketApi") -> list[WebSocketRoute]:
    """Routes of the WebSocket API, each with the function behind it and behind its authorizer."""
    resources = template()["Resources"]
    routes = []
    for name, body in resources.items():
        properties = body.get("Properties", {})
        if body["Type"] != "AWS::ApiGatewayV2::Route" or properties.get("ApiId") != {"Ref": api}:
            continue
        integration = str(properties["Target"]["Fn::Sub"]).removeprefix("integrations/${").removesuffix("}")
        function = _function_in_uri(resources[integration]["Properties"]["IntegrationUri"])
        authorizer_function, identity = None, ()
        if properties.get("AuthorizationType") == "CUSTOM":
            authorizer = resources[properties["AuthorizerId"]["Ref"]]["Properties"]
            authorizer_function = _function_in_uri(authorizer["AuthorizerUri"])
            identity = tuple(authorizer.get("IdentitySource", []))
        answers = any(
            other["Type"] == "AWS::ApiGatewayV2::RouteResponse" and other["Properties"].get("RouteId") == {"Ref": name}
            for other in resources.values()
        )
        routes.append(WebSocketRoute(properties["RouteKey"], function, authorizer_function, identity, answers))
    return routes


def websocket_stage(api: str = "WebSocketApi") -> str:
    return str(resource(websocket_stage_id(api))["Properties"]["StageName"])


def websocket_stage_id(api: str = "WebSocketApi") -> str:
    """The logical id of the WebSocket API's stage."""
    for name, body in template()["Resources"].items():
        if body["Type"] == "AWS::ApiGatewayV2::Stage" and body["Properties"].get("ApiId") == {"Ref": api}:
            return str(name)
    raise KeyError(f"no stage for {api}")


if __name__ == "__main__":
    sys.stdout.write(expanded_text())
