"""template.yaml passes `sam validate --lint` for every combination of its switches that matters, and
for the parameters of every environment of samconfig.toml.

cfn-lint checks every branch of the template's conditions, but values it resolves (Fn::Select and
Fn::Split of a parameter, a parameter's default against its AllowedPattern) come from the parameters'
defaults. So each variant is the template with those defaults replaced, its loops expanded as
AWS::LanguageExtensions expands them, written out as JSON, and linted as `make validate` lints
template.yaml (which lints the loops as written). The variants run side by side: each takes seconds.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from inbox_dev.template import PROJECT_ROOT, template

pytestmark = pytest.mark.integration

SAM = PROJECT_ROOT / ".venv-sam" / "bin" / "sam"
KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
MULTI_REGION_KEY = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"

VARIANTS: dict[str, dict[str, str]] = {
    "default": {},
    "replicas": {"ReplicaRegions": "eu-west-1,ap-southeast-2,us-west-2"},
    "provisioned": {"BillingMode": "PROVISIONED"},
    "provisioned-replicas": {"BillingMode": "PROVISIONED", "ReplicaRegions": "eu-west-1"},
    "kms": {"KmsKeyArn": KEY},
    "kms-replicas": {"KmsKeyArn": MULTI_REGION_KEY, "ReplicaRegions": "eu-west-1,ap-southeast-2"},
    "infrequent-access": {"TableClass": "STANDARD_INFREQUENT_ACCESS"},
    "pitr-off": {"PointInTimeRecovery": "false"},
    "deletion-protection-off": {"DeletionProtection": "false"},
    "provisioned-kms-replicas": {
        "BillingMode": "PROVISIONED",
        "KmsKeyArn": MULTI_REGION_KEY,
        "ReplicaRegions": "eu-west-1,ap-southeast-2,us-west-2",
    },
    "msk-and-push": {
        "MskClusterArn": "arn:aws:kafka:us-east-1:111122223333:cluster/events/0a1b2c3d-4e5f-6789-abcd-ef0123456789-2",
        "ApnsPlatformApplicationArn": "arn:aws:sns:us-east-1:111122223333:app/APNS/inbox",
        "FcmPlatformApplicationArn": "arn:aws:sns:us-east-1:111122223333:app/GCM/inbox",
    },
    "self-managed-kafka": {
        "KafkaBootstrapServers": "b-1.kafka.internal:9096,b-2.kafka.internal:9096",
        "KafkaAuthSecretArn": "arn:aws:secretsmanager:us-east-1:111122223333:secret:AmazonMSK_inbox-AbCdEf",
    },
}


def samconfig_environments() -> dict[str, dict[str, str]]:
    """The parameter_overrides of each environment of samconfig.toml, as variants."""
    config = tomllib.loads((PROJECT_ROOT / "samconfig.toml").read_text())
    return {
        f"samconfig-{name}": dict(
            re.findall(r'(\w+)="([^"]*)"', sections["deploy"]["parameters"]["parameter_overrides"])
        )
        for name, sections in config.items()
        if isinstance(sections, dict) and "deploy" in sections
    }


VARIANTS.update(samconfig_environments())


def render(parameters: dict[str, str], directory: Path) -> Path:
    """template.yaml with these parameters' defaults replaced, as JSON (intrinsics in their long form)."""
    rendered = copy.deepcopy(template())
    for name, value in parameters.items():
        assert name in rendered["Parameters"], f"template.yaml has no parameter {name}"
        rendered["Parameters"][name]["Default"] = value
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "template.json"
    path.write_text(json.dumps(rendered, indent=1))
    return path


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    # The rendered copy sits in a directory of its own, so no samconfig.toml is read: --lint is explicit.
    return subprocess.run(  # noqa: S603 - a fixed command on a file this test wrote
        [str(SAM), "validate", "--lint", "--template-file", str(path)],
        cwd=path.parent,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def lint_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    # make test installs the SAM CLI first; without it these checks cannot be made, which is a failure.
    assert SAM.exists(), "the AWS SAM CLI is not installed: run make test (it installs it into .venv-sam)"
    root = tmp_path_factory.mktemp("variants")
    paths = {name: render(parameters, root / name) for name, parameters in VARIANTS.items()}
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return dict(zip(paths, pool.map(lint, paths.values()), strict=True))


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_variant_passes_sam_validate_lint(
    variant: str, lint_results: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    result = lint_results[variant]
    assert result.returncode == 0, f"{variant} {VARIANTS[variant]}:\n{result.stdout}\n{result.stderr}"
    assert "is a valid SAM Template" in result.stdout + result.stderr
