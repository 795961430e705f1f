"""The template's edges under abuse: connection cap, throttling, origins, tokens kept out of URLs and logs."""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

from inbox.settings import TableSettings
from inbox_dev.template import (
    PROJECT_ROOT,
    access_log_format,
    functions,
    resolve,
    resource,
    template,
    websocket_routes,
)

# $context variables that can hold no token: none of them is a header, the query string or the path.
SAFE_VARIABLES = {
    "requestId",
    "requestTime",
    "identity.sourceIp",
    "httpMethod",
    "routeKey",
    "status",
    "protocol",
    "responseLength",
    "responseLatency",
    "integrationLatency",
    "integrationErrorMessage",
    "eventType",
    "connectionId",
    "authorizer.claims.sub",
    "authorizer.principalId",
    "authorizer.error",
    "error.message",
}
CONTEXT_VARIABLE = re.compile(r"\$context\.([A-Za-z0-9_.]+)")


def samconfig_parameters() -> dict[str, dict[str, str]]:
    config = tomllib.loads((PROJECT_ROOT / "samconfig.toml").read_text())
    return {
        name: dict(re.findall(r'(\w+)="([^"]*)"', sections["deploy"]["parameters"]["parameter_overrides"]))
        for name, sections in config.items()
        if isinstance(sections, dict) and "deploy" in sections
    }


def test_by_default_any_origin_may_call_the_http_api_but_staging_and_prod_name_theirs() -> None:
    # Given the template's CORS configuration and the environments of samconfig.toml
    cors = resource("HttpApi")["Properties"]["CorsConfiguration"]
    environments = samconfig_parameters()

    # Then the default allows any origin (dev), and staging and prod allow only their own https origins
    assert resolve(cors["AllowOrigins"], {}) == ["*"]
    assert "AllowedOrigins" not in environments["default"]
    for name in ("staging", "prod"):
        origins = resolve(cors["AllowOrigins"], {"AllowedOrigins": environments[name]["AllowedOrigins"]})
        assert origins, name
        assert all(origin.startswith("https://") for origin in origins), name
    pattern = re.compile(template()["Parameters"]["AllowedOrigins"]["AllowedPattern"])
    assert all(pattern.fullmatch(values.get("AllowedOrigins", "*")) for values in environments.values())
    assert not pattern.fullmatch("https://app.example.com, https://admin.example.com")
    assert not pattern.fullmatch("https://*.example.com")


def test_both_apis_log_access_as_json_without_any_variable_that_could_hold_a_token() -> None:
    for logical_id in ("HttpApi", "WebSocketStage"):
        # Given the API's access log format
        log_format = access_log_format(logical_id)
        assert log_format is not None, logical_id

        # Then it is JSON once API Gateway fills it in, and names only variables that hold no token
        variables = set(CONTEXT_VARIABLE.findall(log_format))
        assert variables <= SAFE_VARIABLES, (logical_id, variables - SAFE_VARIABLES)
        line = json.loads(CONTEXT_VARIABLE.sub("value", log_format))
        assert {"requestId", "routeKey", "status"} <= set(line), logical_id
        # And into a log group whose retention is the parameter's
        destination = resource(logical_id)["Properties"]["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0]
        assert resource(destination)["Properties"]["RetentionInDays"] == {"Ref": "AccessLogRetentionDays"}


def test_the_websocket_stage_waits_for_the_regions_cloudwatch_role_when_the_stack_sets_it() -> None:
    # Given the stage and the account setting WebSocket access logs need
    stage = resource("WebSocketStage")
    handle = resource(stage["DependsOn"])

    # Then the stage waits for the setting when this stack makes it, and the role outlives the stack
    assert resolve(handle["Metadata"]["AccountSetting"], {"ApiGatewayAccount": "set"}) == "set"
    assert resolve(handle["Metadata"]["AccountSetting"], {"ApiGatewayCloudWatchRole": "existing"}) == "existing"
    for logical_id in ("ApiGatewayAccount", "ApiGatewayLoggingRole"):
        assert resource(logical_id)["Condition"] == "CreatesApiGatewayCloudWatchRole"
        assert resource(logical_id)["DeletionPolicy"] == "Retain"


def test_the_websocket_authorizer_runs_whether_the_token_is_in_the_query_or_the_subprotocols() -> None:
    # Given the $connect route's authorizer
    [connect] = [route for route in websocket_routes() if route.route_key == "$connect"]

    # Then it has no identity source, which API Gateway would require in every handshake
    assert connect.authorizer_function == "WsAuthorizerFunction"
    assert connect.identity_source == ()


def test_the_connect_function_may_close_connections_of_its_stage_and_read_the_users() -> None:
    # Given the connect function's variables and policy, resolved
    values = {
        "WebSocketApi": "ws",
        "WebSocketStage": "live",
        "NotificationsTable": "table",
        "NotificationsTable.Arn": "arn",
        "AWS::Region": "eu-west-1",
        "AWS::AccountId": "111122223333",
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }
    spec = functions()["WsConnectFunction"]
    statements = resolve(resource("WsConnectFunction")["Properties"]["Policies"][0]["Statement"], values)

    # Then it knows the Management API's URL, may post to and delete the stage's connections, and
    # query, put and delete items of the table
    environment = spec.environment(values)
    assert environment["WEBSOCKET_CALLBACK_URL"] == "https://ws.execute-api.eu-west-1.amazonaws.com/live"
    [manage] = [statement for statement in statements if statement["Action"] == "execute-api:ManageConnections"]
    assert [resource_arn.rsplit(":", 1)[1] for resource_arn in manage["Resource"]] == [
        "ws/live/POST/@connections/*",
        "ws/live/DELETE/@connections/*",
    ]
    [table] = [statement for statement in statements if statement["Resource"] == "arn"]
    assert sorted(table["Action"]) == ["dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Query"]


def test_every_function_knows_the_cap_which_the_settings_take_up_to_the_templates_maximum() -> None:
    # Given the cap's parameter and the functions' environment
    parameter: dict[str, Any] = template()["Parameters"]["MaxConnectionsPerUser"]
    values = {
        "AWS::Region": "eu-west-1",
        "AWS::URLSuffix": "amazonaws.com",
        "NotificationsTable": "table",
        "WebSocketApi": "ws",
        "WebSocketStage": "live",
    }

    # Then every function gets it (the connect function closes beyond it, the fan-out reads up to it)
    for name, spec in functions().items():
        assert spec.variables.get("MAX_CONNECTIONS_PER_USER") == {"Ref": "MaxConnectionsPerUser"}, name
    assert functions()["WsConnectFunction"].environment(values)["MAX_CONNECTIONS_PER_USER"] == "10"
    # And the settings accept every value the template does
    field = TableSettings.model_fields["max_connections_per_user"]
    bounds = {type(item).__name__: item for item in field.metadata}
    assert (parameter["MinValue"], parameter["MaxValue"], parameter["Default"]) == (
        bounds["Ge"].ge,
        bounds["Le"].le,
        field.default,
    )
