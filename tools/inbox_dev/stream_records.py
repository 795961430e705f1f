"""DynamoDB Streams records as Lambda delivers them, built from table items.

One builder for everything that feeds the fan-out function a stream batch without a stream:
the fan-out benchmark and the fault tests.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from boto3.dynamodb.types import TypeSerializer

_SERIALIZER = TypeSerializer()


def insert_record(item: dict[str, Any], sequence_number: str, stream_arn: str) -> dict[str, Any]:
    """The DynamoDB Streams INSERT record of a new item, as Lambda delivers it."""
    image = {name: _SERIALIZER.serialize(value) for name, value in item.items()}
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": int(time.time()),
            "Keys": {"pk": image["pk"], "sk": image["sk"]},
            "NewImage": image,
            "SequenceNumber": sequence_number,
            "SizeBytes": len(json.dumps(image)),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": stream_arn,
    }


def modify_record(old: dict[str, Any], new: dict[str, Any], sequence_number: str, stream_arn: str) -> dict[str, Any]:
    """The DynamoDB Streams MODIFY record of an item changed from ``old`` to ``new``, as Lambda delivers it."""
    record = insert_record(new, sequence_number, stream_arn)
    record["eventName"] = "MODIFY"
    record["dynamodb"]["OldImage"] = {name: _SERIALIZER.serialize(value) for name, value in old.items()}
    return record
