"""The template reader: the table and environments the local stack builds from template.yaml's defaults."""

from __future__ import annotations

import pytest
from inbox_dev.template import condition, functions, resolve, table_definition, template

REFERENCES = {
    "NotificationsTable": "notifications-local",
    "WebSocketApi": "ws",
    "WebSocketStage": "live",
    "JwtIssuer": "https://issuer.example.com",
    "JwtAudience": "inbox-app",
    "JwksUrl": "https://issuer.example.com/.well-known/jwks.json",
    "AWS::Region": "eu-west-1",
    "AWS::URLSuffix": "amazonaws.com",
}


def test_the_default_table_is_a_plain_on_demand_table_with_the_inbox_index_stream_and_ttl() -> None:
    definition, ttl_attribute = table_definition()

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
    }
    (index,) = definition["GlobalSecondaryIndexes"]
    assert index == {
        "IndexName": "inbox",
        "KeySchema": [{"AttributeName": "g1pk", "KeyType": "HASH"}, {"AttributeName": "g1sk", "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "ALL"},
    }
    assert definition["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert ttl_attribute == "ttl"


def test_provisioned_billing_gives_the_table_and_its_index_their_minimum_capacity() -> None:
    definition, _ = table_definition(values={"BillingMode": "PROVISIONED", "MinReadCapacity": "7"})

    assert definition["BillingMode"] == "PROVISIONED"
    assert definition["ProvisionedThroughput"] == {"ReadCapacityUnits": 7, "WriteCapacityUnits": 5}
    assert definition["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"] == {
        "ReadCapacityUnits": 7,
        "WriteCapacityUnits": 5,
    }


def test_with_replica_regions_the_plain_table_is_not_created() -> None:
    with pytest.raises(ValueError, match="IsSingleRegion"):
        table_definition(values={"ReplicaRegions": "us-west-2"})


def test_conditions_follow_the_parameter_defaults_unless_given() -> None:
    assert condition("IsSingleRegion", {})
    assert not condition("IsMultiRegion", {})
    assert not condition("IsProvisionedSingleRegion", {})
    assert not condition("HasKmsKey", {})
    assert condition("IsProvisionedSingleRegion", {"BillingMode": "PROVISIONED"})
    assert condition("HasSecondReplica", {"ReplicaRegions": "us-west-2,ap-south-1"})
    assert not condition("HasThirdReplica", {"ReplicaRegions": "us-west-2,ap-south-1"})


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


def test_replica_slots_and_their_keys_come_from_the_comma_separated_regions() -> None:
    replicas = resolve(
        template()["Resources"]["NotificationsGlobalTable"]["Properties"]["Replicas"],
        {
            **REFERENCES,
            "ReplicaRegions": "us-west-2,ap-south-1",
            "KmsKeyArn": "arn:aws:kms:eu-west-1:111122223333:key/mrk-0123",
        },
    )

    assert [replica["Region"] for replica in replicas] == ["eu-west-1", "us-west-2", "ap-south-1"]
    assert [replica["SSESpecification"]["KMSMasterKeyId"] for replica in replicas] == [
        "arn:aws:kms:eu-west-1:111122223333:key/mrk-0123",
        "arn:aws:kms:us-west-2:111122223333:key/mrk-0123",
        "arn:aws:kms:ap-south-1:111122223333:key/mrk-0123",
    ]
