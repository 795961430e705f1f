"""The template reader: the table, mappings and environments the local stack builds from template.yaml."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import inbox_dev.template as template_reader
import pytest
from inbox_dev.template import (
    TEMPLATE_PATH,
    condition,
    expand_for_each,
    expanded_text,
    functions,
    http_routes,
    resolve,
    resource,
    table_definition,
    template,
)

REFERENCES = {
    "NotificationsTable": "notifications-local",
    "WebSocketApi": "ws",
    "WebSocketStage": "live",
    "JwtIssuer": "https://issuer.example.com",
    "JwtAudience": "inbox-app",
    "JwksUrl": "https://issuer.example.com/.well-known/jwks.json",
    "AWS::Region": "eu-west-1",
    "AWS::URLSuffix": "amazonaws.com",
    "HttpApi": "api-id",
    "UnsubscribeLinkSecret": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:links",
}
SOCIAL_API_TOPICS = ["message-liked", "user-followed", "post-reposted", "post-created"]
WORKER_TOPICS = [
    "notifications.post.like",
    "notifications.post.unlike",
    "notifications.comment.like",
    "notifications.reply.post",
    "notifications.reply.comment",
]


def table_properties(values: dict[str, str]) -> dict[str, Any]:
    return dict(resolve(resource("NotificationsTable")["Properties"], {**REFERENCES, **values}))


def test_the_default_table_is_an_on_demand_table_with_its_two_indexes_stream_and_ttl() -> None:
    # Given the template's defaults
    # When the local table's definition is read
    definition, ttl_attribute = table_definition()

    # Then it is on demand, keyed by pk/sk, with the inbox and tabs indexes, the stream and TTL on "ttl"
    assert definition["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in definition
    assert definition["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert {attribute["AttributeName"] for attribute in definition["AttributeDefinitions"]} == {
        "pk",
        "sk",
        "g1pk",
        "g1sk",
        "g2pk",
        "g2sk",
    }
    assert definition["GlobalSecondaryIndexes"] == [
        {
            "IndexName": name,
            "KeySchema": [
                {"AttributeName": f"{prefix}pk", "KeyType": "HASH"},
                {"AttributeName": f"{prefix}sk", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
        for name, prefix in (("inbox", "g1"), ("tabs", "g2"))
    ]
    assert definition["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert ttl_attribute == "ttl"


def test_the_table_is_one_global_table_whatever_the_regions() -> None:
    # Given the template
    # When its DynamoDB resources are listed
    tables = {
        name: body["Type"] for name, body in template()["Resources"].items() if body["Type"].startswith("AWS::DynamoDB")
    }

    # Then there is one, a global table that exists in every variant, and no auto scaling resources
    assert tables == {"NotificationsTable": "AWS::DynamoDB::GlobalTable"}
    assert "Condition" not in resource("NotificationsTable")
    assert not [body for body in template()["Resources"].values() if "ApplicationAutoScaling" in body["Type"]]


def test_provisioned_billing_gives_the_local_table_and_its_index_the_least_capacity_of_auto_scaling() -> None:
    # Given PROVISIONED billing with 7 read units at least
    # When the local table's definition is read
    definition, _ = table_definition(values={"BillingMode": "PROVISIONED", "MinReadCapacity": "7"})

    # Then the table and its indexes start at the minimum reads and writes
    assert definition["BillingMode"] == "PROVISIONED"
    assert definition["ProvisionedThroughput"] == {"ReadCapacityUnits": 7, "WriteCapacityUnits": 5}
    for index in definition["GlobalSecondaryIndexes"]:
        assert index["ProvisionedThroughput"] == {"ReadCapacityUnits": 7, "WriteCapacityUnits": 5}


def test_provisioned_billing_scales_writes_of_the_table_and_reads_of_every_replica_and_index() -> None:
    # Given PROVISIONED billing and two other regions
    values = {"BillingMode": "PROVISIONED", "ReplicaRegions": "us-west-2,ap-south-1", "MaxReadCapacity": "300"}

    # When the deployed table's properties are resolved
    properties = table_properties(values)

    # Then writes scale between the write bounds, table and index alike, at the target utilization
    writes = {
        "MinCapacity": "5",
        "MaxCapacity": "200",
        "TargetTrackingScalingPolicyConfiguration": {"TargetValue": "70"},
    }
    assert properties["WriteProvisionedThroughputSettings"] == {"WriteCapacityAutoScalingSettings": writes}
    assert properties["GlobalSecondaryIndexes"][0]["WriteProvisionedThroughputSettings"] == {
        "WriteCapacityAutoScalingSettings": writes
    }
    # And reads scale between the read bounds in every replica, for the table and for the inbox index
    reads = {
        "ReadCapacityAutoScalingSettings": {
            "MinCapacity": "5",
            "MaxCapacity": "300",
            "TargetTrackingScalingPolicyConfiguration": {"TargetValue": "70"},
        }
    }
    assert len(properties["Replicas"]) == 3
    for replica in properties["Replicas"]:
        assert replica["ReadProvisionedThroughputSettings"] == reads
        assert replica["GlobalSecondaryIndexes"] == [
            {"IndexName": name, "ReadProvisionedThroughputSettings": reads} for name in ("inbox", "tabs")
        ]


def test_on_demand_billing_sets_no_capacity_anywhere() -> None:
    # Given the default billing and a replica elsewhere
    # When the deployed table's properties are resolved
    properties = table_properties({"ReplicaRegions": "us-west-2"})

    # Then neither the table, its index nor a replica has capacity settings
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert "WriteProvisionedThroughputSettings" not in properties
    assert "WriteProvisionedThroughputSettings" not in properties["GlobalSecondaryIndexes"][0]
    for replica in properties["Replicas"]:
        assert "ReadProvisionedThroughputSettings" not in replica
        assert "GlobalSecondaryIndexes" not in replica


def test_without_replica_regions_the_table_has_one_replica_here_with_the_aws_managed_key() -> None:
    # Given the template's defaults
    # When the deployed table's properties are resolved
    properties = table_properties({})

    # Then its only replica is in the stack's region, with the template's protection, recovery and class
    assert properties["Replicas"] == [
        {
            "Region": "eu-west-1",
            "DeletionProtectionEnabled": "true",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": "true"},
            "TableClass": "STANDARD",
        }
    ]
    # And it is encrypted with the AWS managed key, there being no customer managed key
    assert properties["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}


def test_with_replica_regions_the_local_table_is_still_the_replica_in_the_stacks_region() -> None:
    # Given other regions
    # When the local table's definition is read
    # Then it is the same as in a single region
    assert table_definition(values={"ReplicaRegions": "us-west-2"}) == table_definition()


def test_replica_slots_and_their_keys_come_from_the_comma_separated_regions() -> None:
    # Given two other regions and a multi-Region key
    values = {"ReplicaRegions": "us-west-2,ap-south-1", "KmsKeyArn": "arn:aws:kms:eu-west-1:111122223333:key/mrk-0123"}

    # When the deployed table's replicas are resolved
    replicas = table_properties(values)["Replicas"]

    # Then there is one replica per region, each with the key's replica in its region
    assert [replica["Region"] for replica in replicas] == ["eu-west-1", "us-west-2", "ap-south-1"]
    assert [replica["SSESpecification"]["KMSMasterKeyId"] for replica in replicas] == [
        "arn:aws:kms:eu-west-1:111122223333:key/mrk-0123",
        "arn:aws:kms:us-west-2:111122223333:key/mrk-0123",
        "arn:aws:kms:ap-south-1:111122223333:key/mrk-0123",
    ]


def test_conditions_follow_the_parameter_defaults_unless_given() -> None:
    assert not condition("HasFirstReplica", {})
    assert not condition("IsProvisioned", {})
    assert not condition("HasKmsKey", {})
    assert condition("IsProvisioned", {"BillingMode": "PROVISIONED"})
    assert condition("HasFirstReplica", {"ReplicaRegions": "us-west-2"})
    assert condition("HasSecondReplica", {"ReplicaRegions": "us-west-2,ap-south-1"})
    assert not condition("HasThirdReplica", {"ReplicaRegions": "us-west-2,ap-south-1"})


def test_every_reference_to_the_table_names_the_one_table() -> None:
    # Given the local values of the table's name, ARN and stream
    values = {
        **REFERENCES,
        "NotificationsTable.Arn": "arn:aws:dynamodb:eu-west-1:111122223333:table/t",
        "NotificationsTable.StreamArn": "arn:aws:dynamodb:eu-west-1:111122223333:table/t/stream/s",
    }

    # When the fan-out's stream event, the output and the alarm are resolved
    stream = resolve(resource("FanoutFunction")["Properties"]["Events"]["InboxChanges"]["Properties"]["Stream"], values)
    output = resolve(template()["Outputs"]["TableName"]["Value"], values)
    alarm = resolve(resource("ThrottlesAlarm")["Properties"]["Dimensions"], values)

    # Then each is the table's
    assert stream == "arn:aws:dynamodb:eu-west-1:111122223333:table/t/stream/s"
    assert output == "notifications-local"
    assert alarm == [{"Name": "TableName", "Value": "notifications-local"}]


def test_every_function_reaches_the_local_table_and_ingest_gets_the_flood_limits() -> None:
    for spec in functions().values():
        assert spec.environment(REFERENCES)["TABLE_NAME"] == "notifications-local"
    ingest = functions()["IngestFunction"].environment(REFERENCES)
    assert ingest["FLOOD_ACTOR_LIMIT"] == "20"
    assert ingest["FLOOD_RECIPIENT_LIMIT"] == "500"
    assert ingest["FLOOD_WINDOW_SECONDS"] == "3600"


def test_no_value_drops_the_property_or_item_that_holds_it() -> None:
    value = {
        "kept": "a",
        "dropped": {"Ref": "AWS::NoValue"},
        "items": ["x", {"Fn::If": ["HasKmsKey", "key", {"Ref": "AWS::NoValue"}]}],
    }

    assert resolve(value, {}) == {"kept": "a", "items": ["x"]}
    assert resolve(value, {"KmsKeyArn": "arn:aws:kms:eu-west-1:111122223333:key/k"})["items"] == ["x", "key"]


def test_for_each_makes_one_copy_per_item_with_the_item_in_keys_subs_and_refs() -> None:
    # Given a loop over two topics, nested in a loop over two kinds
    loops = {
        "Kept": {"Type": "AWS::SQS::Queue"},
        "Fn::ForEach::Kinds": [
            "Kind",
            ["Msk", "Kafka"],
            {
                "Fn::ForEach::Topics": [
                    "Topic",
                    ["message-liked", "notifications.post.like"],
                    {
                        "From${Kind}&{Topic}": {
                            "Properties": {
                                "Topics": [{"Ref": "Topic"}],
                                "Group": {"Fn::Sub": "${Prefix}-${Topic}"},
                                "Function": {"Ref": "IngestFunction"},
                            }
                        }
                    },
                ]
            },
        ],
    }

    # When it is expanded
    expanded = expand_for_each(loops)

    # Then each pair has its resource: ids without punctuation, the item in Ref and Fn::Sub, other refs kept
    assert list(expanded) == [
        "Kept",
        "FromMskmessageliked",
        "FromMsknotificationspostlike",
        "FromKafkamessageliked",
        "FromKafkanotificationspostlike",
    ]
    assert expanded["FromKafkanotificationspostlike"]["Properties"] == {
        "Topics": ["notifications.post.like"],
        "Group": {"Fn::Sub": "${Prefix}-notifications.post.like"},
        "Function": {"Ref": "IngestFunction"},
    }


def test_for_each_refuses_to_make_a_key_twice() -> None:
    # Given a loop whose items differ only in punctuation
    loop = {"Fn::ForEach::Twice": ["Topic", ["a-b", "ab"], {"Queue&{Topic}": {}}]}

    # When it is expanded, then the second copy is refused
    with pytest.raises(ValueError, match="Queueab"):
        expand_for_each(loop)


def test_the_template_has_one_msk_and_one_self_managed_mapping_per_topic() -> None:
    # Given the template's expanded resources
    mappings = {
        name: body["Properties"]
        for name, body in template()["Resources"].items()
        if body["Type"] == "AWS::Lambda::EventSourceMapping"
    }

    # Then each topic of the social API and of the worker has a mapping for MSK and one for self-managed Kafka
    msk = {body["Topics"][0]: body for body in mappings.values() if "EventSourceArn" in body}
    kafka = {body["Topics"][0]: body for body in mappings.values() if "SelfManagedEventSource" in body}
    assert len(mappings) == 18
    assert sorted(msk) == sorted(kafka) == sorted(SOCIAL_API_TOPICS + WORKER_TOPICS)
    # And each reads its topic alone, in a consumer group of its own, into the ingest function
    for topic, properties in [*msk.items(), *kafka.items()]:
        assert properties["Topics"] == [topic]
        assert properties["FunctionName"] == {"Ref": "IngestFunction.Alias"}
        group = properties.get("AmazonManagedKafkaEventSourceConfig") or properties["SelfManagedKafkaEventSourceConfig"]
        assert resolve(group["ConsumerGroupId"], {}) == f"notification-inbox-{topic}"
    assert resource("IngestFromMskmessageliked")["Condition"] == "UseMsk"
    assert resource("IngestFromKafkanotificationsreplycomment")["Condition"] == "UseSelfManagedKafka"


def test_the_expanded_text_is_the_expanded_template_with_every_checkov_skip_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given template.yaml, which has loops, and checkov's skips in comments
    source = TEMPLATE_PATH.read_text()
    expanded = template()
    loop = re.compile(r"^ *Fn::ForEach::\w+:", re.MULTILINE)
    assert loop.search(source)

    # When its loops are written out, and that text is read as a template
    text = expanded_text()
    (tmp_path / "template.yaml").write_text(text)
    monkeypatch.setattr(template_reader, "TEMPLATE_PATH", tmp_path / "template.yaml")
    template.cache_clear()
    try:
        read = template()
    finally:
        template.cache_clear()

    # Then it reads as the expanded template, with no loop left and every skip still there
    assert read == expanded
    assert not loop.search(text)
    skips = re.compile(r"#\s*checkov:skip=.*")
    assert skips.findall(text) == skips.findall(source)


def test_digests_run_hourly_for_the_hour_scheduled_and_only_with_a_sender_and_an_inbox_link() -> None:
    # Given the digest function as the template declares it
    digest = resource("DigestFunction")
    schedule = digest["Properties"]["Events"]["Hourly"]

    # Then the scheduler calls it at the top of every hour with the time it was scheduled for
    assert schedule["Type"] == "ScheduleV2"
    assert schedule["Properties"]["ScheduleExpression"] == "cron(0 * * * ? *)"
    assert json.loads(schedule["Properties"]["Input"]) == {"scheduledTime": "<aws.scheduler.scheduled-time>"}
    # And it exists only once a from-address and the inbox's link are given
    assert digest["Condition"] == "SendsDigests"
    assert not condition("SendsDigests", {})
    assert not condition("SendsDigests", {"EmailFromAddress": "digests@example.com"})
    assert condition("SendsDigests", {"EmailFromAddress": "digests@example.com", "InboxUrl": "https://app.example.com"})
    # And its links point at the HTTP API's unsubscribe route
    environment = functions()["DigestFunction"].environment(REFERENCES)
    assert environment["UNSUBSCRIBE_URL"] == "https://api-id.execute-api.eu-west-1.amazonaws.com/unsubscribe"


def test_the_unsubscribe_route_needs_no_login_and_every_other_route_does() -> None:
    open_routes = {route.route_key for route in http_routes() if not route.authorized}
    assert open_routes == {"GET /unsubscribe", "POST /unsubscribe", "GET /openapi.json", "GET /docs"}


def test_snapstart_is_off_by_default_and_every_source_invokes_the_alias_it_would_serve() -> None:
    # Given the template's functions, their globals and the resources that invoke them
    resources = {name: body for name, body in template()["Resources"].items() if "Properties" in body}
    globals_ = template()["Globals"]["Function"]
    names = {name for name, body in resources.items() if body["Type"] == "AWS::Serverless::Function"}

    # Then SnapStart takes the parameter, None unless PublishedVersions is given
    assert globals_["SnapStart"] == {"ApplyOn": {"Ref": "SnapStart"}}
    assert resolve(globals_["SnapStart"], {}) == {"ApplyOn": "None"}
    assert template()["Parameters"]["SnapStart"]["AllowedValues"] == ["None", "PublishedVersions"]
    # And every function publishes a version on any change, a new layer included, behind its alias
    assert globals_["AutoPublishAlias"] == "live"
    assert all(resources[name]["Properties"]["AutoPublishAliasAllProperties"] is True for name in names)
    # And what SAM's events do not wire invokes the alias, never the unpublished function
    invokers = [
        *(body["Properties"]["FunctionName"] for body in resources.values() if "FunctionName" in body["Properties"]),
        *(
            body["Properties"][key]["Fn::Sub"][1]["Alias"]
            for body in resources.values()
            for key in ("IntegrationUri", "AuthorizerUri")
            if key in body["Properties"]
        ),
    ]
    assert {reference["Ref"] for reference in invokers} == {
        f"{name}.Alias" for name in ("IngestFunction", *sorted(name for name in names if name.startswith("Ws")))
    }
