"""notifications: and governance: of a spec (OBS-2, SEC-6, SEC-7, SEC-8): what is accepted, and bad input refused
with the field, the value and what is allowed, before CDK starts."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ecs_platform.spec import SpecError, parse_spec, parse_specs

SPECS = Path(__file__).resolve().parents[2] / "specs"
OPERATIONS: dict[str, Any] = yaml.safe_load((SPECS / "operations.yaml").read_text(encoding="utf-8"))
ENVIRONMENTS: dict[str, Any] = yaml.safe_load((SPECS / "environments.yaml").read_text(encoding="utf-8"))


def operations() -> dict[str, Any]:
    return copy.deepcopy(OPERATIONS)


def test_the_operations_example_names_its_subscribers_and_governance() -> None:
    spec = parse_spec(operations())
    assert spec.notifications.email == ["ops@example.com"]
    assert spec.notifications.slack is not None and spec.notifications.slack.workspace_id == "T0123ABCD"
    assert spec.governance is not None
    assert (spec.governance.retention_days, spec.governance.archive_after_days, spec.governance.runtime_monitoring) == (365, 90, True)


BAD: dict[str, tuple[dict[str, Any], str, str]] = {
    "an invalid email address": (
        {"notifications": {"email": ["ops@example"]}},
        "notifications.email[0]",
        r"'ops@example' is not valid; allowed: an email address such as ops@example\.com",
    ),
    "a Slack channel without a workspace": (
        {"notifications": {"slack": {"channel_id": "C0123ABCD"}}},
        "notifications.slack.workspace_id",
        r"required key is missing \(The Slack workspace ID, such as T0123ABCD",
    ),
    "a Slack channel ID that is a name": (
        {"notifications": {"slack": {"workspace_id": "T0123ABCD", "channel_id": "#ops"}}},
        "notifications.slack.channel_id",
        r"'#ops' is not valid; allowed: a Slack channel ID such as C0123ABCD",
    ),
    "an HTTP endpoint": (
        {"notifications": {"https": ["http://hooks.example.com/alarms"]}},
        "notifications.https[0]",
        r"'http://hooks\.example\.com/alarms' is not valid; allowed: an https:// URL",
    ),
    "a queue that is not an ARN": (
        {"notifications": {"sqs": ["alarms-queue"]}},
        "notifications.sqs[0]",
        r"'alarms-queue' is not valid; allowed: an SQS queue ARN",
    ),
    "an unknown Config rule left out": (
        {"governance": {"excluded_config_rules": ["ECS_NO_SUCH_RULE"]}},
        "governance.excluded_config_rules[0]",
        r"'ECS_NO_SUCH_RULE' is not one of the platform's Config rules; allowed: .*ALB_HTTP_TO_HTTPS_REDIRECTION_CHECK",
    ),
    "logs archived after they expire": (
        {"governance": {"retention_days": 30, "archive_after_days": 90}},
        "governance",
        r"archive_after_days 90 is not before retention_days 30; allowed: 1\.\.29, or null",
    ),
    "an unknown GuardDuty publishing frequency": (
        {"governance": {"finding_publishing_frequency": "HOURLY"}},
        "governance.finding_publishing_frequency",
        r"'HOURLY'.*allowed: .*FIFTEEN_MINUTES.*ONE_HOUR.*SIX_HOURS",
    ),
    "an unknown governance key": (
        {"governance": {"cloudtrail": True}},
        "governance.cloudtrail",
        r"unknown key; allowed keys: .*existing_trail",
    ),
}


@pytest.mark.parametrize("name", BAD)
def test_fails_when(name: str) -> None:
    """Given the operations example with one change, then it is refused, and the problem names the field, the value
    and what is allowed."""
    change, path, message = BAD[name]
    data = operations()
    for key, value in change.items():
        data[key] = value
    with pytest.raises(SpecError) as excinfo:
        parse_spec(data, source="bad.yaml")
    found = [m for p, m in excinfo.value.issues if p == path]
    assert found, excinfo.value.issues
    assert any(re.search(message, m) for m in found), found


def environments(**governance: Any) -> dict[str, Any]:
    data = copy.deepcopy(ENVIRONMENTS)
    data["governance"] = governance
    return data


def test_sec6_governance_of_environments_sharing_an_account_is_asked_once() -> None:
    """dev and staging share an account and region: the same governance is one stack there, prod's another."""
    from ecs_platform.stacks.translate import DeliveryTranslation

    specs = parse_specs(environments(), source="environments.yaml", base_dir=SPECS)
    assert DeliveryTranslation(specs).governed == [("111111111111", "ap-northeast-1"), ("222222222222", "ap-northeast-1")]


def test_fails_when_governance_is_asked_twice_for_one_account_and_region() -> None:
    """dev and staging share an account and region; dev keeps its trail's logs a shorter time: two trails, two
    recorders in one place, which AWS refuses or bills twice."""
    data = environments()
    data["environments"][0]["overrides"]["governance"] = {"retention_days": 400}
    with pytest.raises(SpecError) as excinfo:
        parse_specs(data, source="environments.yaml", base_dir=SPECS)
    assert excinfo.value.issues == [
        (
            "environments[1].overrides.governance",
            "governance asked twice for 111111111111 in ap-northeast-1: staging and dev differ in retention_days; allowed: "
            "the same governance for every environment of an account and region (it is built once there), or none in one of them",
        )
    ]


def test_sec8_an_environment_may_opt_its_cluster_out_of_runtime_monitoring() -> None:
    """runtime_monitoring is the cluster's setting: environments sharing an account may differ in it."""
    data = environments()
    data["environments"][0]["overrides"]["governance"] = {"runtime_monitoring": False}
    specs = parse_specs(data, source="environments.yaml", base_dir=SPECS)
    assert [s.governance.runtime_monitoring for s in specs if s.governance] == [False, True, True]
