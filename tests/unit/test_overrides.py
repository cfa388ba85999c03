"""Overrides: a workload's escape hatch to CloudFormation properties, checked against the resource type (issue 15, item 7)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import pytest
from aws_cdk import Aws, CfnResource, Stack
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from ecs_platform.constructs import ConstructError, apply_overrides, overridable_types, property_catalog
from ecs_platform.constructs.overrides import split_path
from tests import cfn_catalog
from tests.unit.support import new_app, new_stack, only, plain_vpc, synth

TASK = "AWS::ECS::TaskDefinition"
SERVICE = "AWS::ECS::Service"
TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"

TASK_OVERRIDES: dict[str, Any] = {
    "ContainerDefinitions.0.StartTimeout": 30,
    "ContainerDefinitions.0.LinuxParameters.InitProcessEnabled": True,
    "ContainerDefinitions.0.Ulimits": [{"Name": "nofile", "SoftLimit": 65536, "HardLimit": 65536}],
    "ContainerDefinitions.0.DockerLabels.com\\.example\\.team": "payments",
    "ContainerDefinitions.0.Essential": None,
}
SERVICE_OVERRIDES: dict[str, Any] = {
    "DeploymentConfiguration.DeploymentCircuitBreaker.Enable": True,
    "DeploymentConfiguration.DeploymentCircuitBreaker.Rollback": True,
    "AvailabilityZoneRebalancing": "DISABLED",
    "EnableExecuteCommand": True,
}
TARGET_GROUP_OVERRIDES: dict[str, Any] = {"HealthCheckIntervalSeconds": 10, "HealthCheckPath": {"Fn::Sub": "/${AWS::Region}/health"}}


@dataclass
class Scenario:
    template: Template
    lines: dict[str, list[str]]


def _task_definition(stack: Stack, construct_id: str = "Task") -> ecs.FargateTaskDefinition:
    task = ecs.FargateTaskDefinition(stack, construct_id)
    task.add_container("app", image=ecs.ContainerImage.from_registry("nginx:1.27"))
    return task


def _cfn(construct: Any) -> CfnResource:
    return cast(CfnResource, construct.node.default_child)


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    app = new_app()
    stack = new_stack(app)
    vpc = plain_vpc(stack)
    task = _task_definition(stack)
    service = ecs.FargateService(stack, "Service", cluster=ecs.Cluster(stack, "Cluster", vpc=vpc), task_definition=task)
    target_group = elbv2.ApplicationTargetGroup(stack, "Targets", vpc=vpc, port=8080, target_type=elbv2.TargetType.IP)
    lines = {
        TASK: apply_overrides(_cfn(task), TASK_OVERRIDES),
        SERVICE: apply_overrides(_cfn(service), SERVICE_OVERRIDES, resource_type=SERVICE),
        TARGET_GROUP: apply_overrides(_cfn(target_group), TARGET_GROUP_OVERRIDES),
    }
    (template,) = synth(app, stack)
    return Scenario(template=template, lines=lines)


def _properties(scenario: Scenario, kind: str) -> dict[str, Any]:
    return dict(only(scenario.template, kind)[1]["Properties"])


def test_overrides_within_a_container_definition_land_in_the_template(scenario: Scenario) -> None:
    """An override by list index changes that container and keeps what the construct set (Image, Name)."""
    container = _properties(scenario, TASK)["ContainerDefinitions"][0]
    assert container["StartTimeout"] == 30
    assert container["LinuxParameters"]["InitProcessEnabled"] is True
    assert container["Ulimits"] == [{"Name": "nofile", "SoftLimit": 65536, "HardLimit": 65536}]
    assert container["Image"] == "nginx:1.27"
    assert container["Name"] == "app"


def test_an_escaped_dot_stays_inside_a_map_key(scenario: Scenario) -> None:
    """``\\.`` sets a Docker label whose key has dots instead of nesting mappings."""
    assert _properties(scenario, TASK)["ContainerDefinitions"][0]["DockerLabels"] == {"com.example.team": "payments"}


def test_a_null_value_deletes_the_property(scenario: Scenario) -> None:
    """``None`` removes a property the construct set (CDK sets ``Essential: true`` on every container)."""
    assert "Essential" not in _properties(scenario, TASK)["ContainerDefinitions"][0]


def test_service_overrides_merge_into_nested_objects(scenario: Scenario) -> None:
    """Overrides of the service set nested and top-level properties and keep the construct's siblings."""
    properties = _properties(scenario, SERVICE)
    assert properties["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert "MaximumPercent" in properties["DeploymentConfiguration"]
    assert properties["AvailabilityZoneRebalancing"] == "DISABLED"
    assert properties["EnableExecuteCommand"] is True


def test_target_group_overrides_take_intrinsics_unchecked(scenario: Scenario) -> None:
    """A CloudFormation intrinsic is passed through as the value (known only at deployment)."""
    properties = _properties(scenario, TARGET_GROUP)
    assert properties["HealthCheckIntervalSeconds"] == 10
    assert properties["HealthCheckPath"] == {"Fn::Sub": "/${AWS::Region}/health"}


def test_the_summary_lists_every_override_in_order(scenario: Scenario) -> None:
    """One line per override, with the resource type, the path as written and the value (or ``deleted``)."""
    task_lines = scenario.lines[TASK]
    assert len(task_lines) == len(TASK_OVERRIDES)
    assert task_lines[0] == "AWS::ECS::TaskDefinition ContainerDefinitions.0.StartTimeout = 30"
    assert task_lines[4] == "AWS::ECS::TaskDefinition ContainerDefinitions.0.Essential deleted"
    assert scenario.lines[SERVICE][2] == 'AWS::ECS::Service AvailabilityZoneRebalancing = "DISABLED"'
    assert len(scenario.lines[TARGET_GROUP]) == 2


def test_the_summary_marks_security_relevant_overrides(scenario: Scenario) -> None:
    """Overrides cdk-nag does not check are marked with the reason: exec access, Linux parameters; others are not."""
    marked = [line for lines in scenario.lines.values() for line in lines if "[security-relevant:" in line]
    assert [line.split("  [")[0] for line in marked] == [
        "AWS::ECS::TaskDefinition ContainerDefinitions.0.LinuxParameters.InitProcessEnabled = true",
        "AWS::ECS::Service EnableExecuteCommand = true",
    ]
    assert "interactive shell access" in marked[1]


# --- fails when ---------------------------------------------------------------------------------------------------


def _refusal(overrides: Mapping[str, Any], *, kind: str = TASK, resource_type: str | None = None) -> str:
    stack = new_stack()
    if kind == TASK:
        resource = _cfn(_task_definition(stack))
    elif kind == TARGET_GROUP:
        resource = _cfn(elbv2.ApplicationTargetGroup(stack, "Targets", vpc=plain_vpc(stack), port=80, target_type=elbv2.TargetType.IP))
    else:
        resource = _cfn(s3.Bucket(stack, "Bucket"))
    with pytest.raises(ConstructError) as error:
        apply_overrides(resource, overrides, resource_type=resource_type)
    return str(error.value)


def test_fails_when_a_path_is_misspelled_and_names_the_closest_path() -> None:
    """A typo fails at synthesis with the construct path and the property path it probably meant."""
    message = _refusal({"ContainerDefinitions.0.StartTimout": 30})
    assert message == (
        "Test/Task/Resource: overrides: 'ContainerDefinitions.0.StartTimout' is not a property of AWS::ECS::TaskDefinition; "
        "did you mean ContainerDefinitions.*.StartTimeout?"
    )


def test_fails_when_a_top_level_path_is_unknown() -> None:
    """A misspelled top-level property of the target group is refused with its suggestion."""
    message = _refusal({"HealthCheckIntervalSecs": 10}, kind=TARGET_GROUP)
    assert "'HealthCheckIntervalSecs' is not a property of AWS::ElasticLoadBalancingV2::TargetGroup" in message
    assert "did you mean HealthCheckIntervalSeconds" in message


@pytest.mark.parametrize(
    ("path", "suggestion"),
    [
        ("EnableFaultInjecton", "did you mean EnableFaultInjection?"),
        ("ContainerDefinitions.0.startTimeout", "did you mean ContainerDefinitions.*.StartTimeout?"),
        ("InitProcessEnabled", "did you mean ContainerDefinitions.*.LinuxParameters.InitProcessEnabled?"),
        ("Colour", "see ecs_platform/cfn_properties.json"),
    ],
)
def test_fails_when_a_path_is_unknown_with_a_suggestion_that_helps(path: str, suggestion: str) -> None:
    """Suggestions come from the same level first, ignoring case (the ECS API's camelCase), then from anywhere (a
    property put at the wrong level); a name like no property points at the catalog."""
    assert suggestion in _refusal({path: True})


def test_fails_when_a_path_names_a_read_only_attribute() -> None:
    """``TaskDefinitionArn`` is an attribute, not a property a template may set."""
    assert "'TaskDefinitionArn' is not a property of AWS::ECS::TaskDefinition" in _refusal({"TaskDefinitionArn": "arn"})


def test_fails_when_a_list_is_indexed_by_name() -> None:
    """List items are addressed by index, not by a container's name."""
    message = _refusal({"ContainerDefinitions.app.StartTimeout": 30})
    assert "'app' indexes a list of AWS::ECS::TaskDefinition; allowed: 0, 1, 2" in message


def test_fails_when_a_path_goes_below_a_scalar() -> None:
    """``Cpu`` is a string: nothing is below it."""
    assert "'Cpu.Units' is not a property of AWS::ECS::TaskDefinition" in _refusal({"Cpu.Units": "256"})


def test_fails_when_a_path_is_empty_or_has_an_empty_segment() -> None:
    """``ContainerDefinitions..StartTimeout`` is refused, not passed to CDK."""
    assert "is not a property path" in _refusal({"ContainerDefinitions..StartTimeout": 30})


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            "ContainerDefinitions.0.StartTimeout",
            "30",
            "'30' is a string; AWS::ECS::TaskDefinition ContainerDefinitions.*.StartTimeout takes an",
        ),
        ("ContainerDefinitions.0.StartTimeout", True, "True is a boolean; AWS::ECS::TaskDefinition ContainerDefinitions.*.StartTimeout"),
        ("Cpu", 512, "512 is an integer; AWS::ECS::TaskDefinition Cpu takes a string"),
        ("ContainerDefinitions.0.LinuxParameters.InitProcessEnabled", "true", "'true' is a string"),
        ("NetworkMode", "awsvpc ", "'awsvpc ' is not allowed for AWS::ECS::TaskDefinition NetworkMode; allowed: awsvpc, bridge, host"),
        (
            "ContainerDefinitions.0.Ulimits",
            {"Name": "nofile"},
            "is a mapping; AWS::ECS::TaskDefinition ContainerDefinitions.*.Ulimits takes a",
        ),
        ("ContainerDefinitions.0.Ulimits", [{"Name": "nofile", "SoftLimit": "1"}], "Ulimits.0.SoftLimit: '1' is a string"),
    ],
)
def test_fails_when_a_value_has_the_wrong_type_or_is_not_allowed(path: str, value: Any, expected: str) -> None:
    """Each value is checked against the property's type and allowed values, down into lists and mappings."""
    assert expected in _refusal({path: value})


def test_fails_when_a_mapping_value_has_an_unknown_key() -> None:
    """A whole object as the value is checked key by key, with the closest key suggested."""
    message = _refusal({"ContainerDefinitions.0.Ulimits": [{"Nmae": "nofile", "SoftLimit": 1, "HardLimit": 1}]})
    assert "'ContainerDefinitions.0.Ulimits.0.Nmae' is not a property of AWS::ECS::TaskDefinition" in message
    assert "did you mean ContainerDefinitions.*.Ulimits.*.Name" in message


def test_fails_when_the_resource_type_has_no_catalog() -> None:
    """Only the catalogued types are overridable; the message lists them."""
    message = _refusal({"BucketName": "x"}, kind="bucket")
    assert "AWS::S3::Bucket has no property catalog; allowed: AWS::ECS::Service, AWS::ECS::TaskDefinition" in message


def test_fails_when_resource_type_is_not_the_resources_type() -> None:
    """``resource_type`` guards against overriding the wrong resource (a service's overrides on the task definition)."""
    assert "resource_type AWS::ECS::Service is not the resource's type AWS::ECS::TaskDefinition" in _refusal(
        {"EnableExecuteCommand": True}, resource_type=SERVICE
    )


def test_nothing_is_applied_when_one_override_is_refused() -> None:
    """All overrides are checked before any is applied, so a refused spec leaves the resource as the construct built it."""
    app = new_app()
    stack = new_stack(app)
    task = _task_definition(stack)
    with pytest.raises(ConstructError):
        apply_overrides(_cfn(task), {"ContainerDefinitions.0.StartTimeout": 30, "Memory": 1024})
    (template,) = synth(app, stack)
    assert "StartTimeout" not in only(template, TASK)[1]["Properties"]["ContainerDefinitions"][0]


def test_tokens_are_not_checked() -> None:
    """A CDK token (a pseudo parameter here) is known only at deployment, so its type is not checked."""
    stack = new_stack()
    lines = apply_overrides(_cfn(_task_definition(stack)), {"ContainerDefinitions.0.StartTimeout": Aws.NO_VALUE, "Family": Aws.STACK_NAME})
    assert len(lines) == 2


# --- the catalog ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "path", "entry"),
    [
        (TASK, "ContainerDefinitions.*.Ulimits", {"type": "array"}),
        (TASK, "ContainerDefinitions.*.Ulimits.*.SoftLimit", {"type": "integer"}),
        (TASK, "ContainerDefinitions.*.LinuxParameters.InitProcessEnabled", {"type": "boolean"}),
        (TASK, "ContainerDefinitions.*.DockerLabels", {"type": "map"}),
        (TASK, "ContainerDefinitions.*.DockerLabels.*", {"type": "string"}),
        (TASK, "Cpu", {"type": "string"}),
        (SERVICE, "DeploymentConfiguration.DeploymentCircuitBreaker.Enable", {"type": "boolean"}),
        (SERVICE, "NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp", {"type": "string", "enum": ["DISABLED", "ENABLED"]}),
        (SERVICE, "EnableExecuteCommand", {"type": "boolean"}),
        (TARGET_GROUP, "HealthCheckIntervalSeconds", {"type": "integer"}),
    ],
)
def test_the_catalog_has_the_property_paths_with_their_types(kind: str, path: str, entry: dict[str, Any]) -> None:
    """Nested paths (``$ref`` resolved, ``*`` for list items and map keys) carry their type and allowed values."""
    assert property_catalog()[kind][path] == entry


def test_the_catalog_leaves_out_read_only_attributes() -> None:
    """Attributes CloudFormation refuses in a template (ARNs, the service's ``Name``) are not overridable."""
    assert {"TaskDefinitionArn"} & set(property_catalog()[TASK]) == set()
    assert {"ServiceArn", "Name"} & set(property_catalog()[SERVICE]) == set()
    assert overridable_types() == (SERVICE, TASK, TARGET_GROUP)


def test_the_committed_catalog_matches_cfn_lint_schemas() -> None:
    """Drift: ecs_platform/cfn_properties.json is what ``python -m tests.cfn_catalog`` generates from the installed
    cfn-lint's resource provider schemas (regenerate it after upgrading cfn-lint)."""
    pytest.importorskip("cfnlint")
    generated = cfn_catalog.build()
    committed = json.loads(cfn_catalog.CATALOG.read_text(encoding="utf-8"))
    for kind in cfn_catalog.RESOURCE_TYPES:
        added, removed = sorted(set(generated[kind]) - set(committed[kind])), sorted(set(committed[kind]) - set(generated[kind]))
        assert (added, removed) == ([], []), f"{kind}: run `python -m tests.cfn_catalog`"
        assert generated[kind] == committed[kind], f"{kind}: types changed; run `python -m tests.cfn_catalog`"
    assert set(committed) - {"_source"} == set(cfn_catalog.RESOURCE_TYPES)


def test_a_path_splits_on_unescaped_dots_only() -> None:
    """``\\.`` is a dot inside a segment, as in CDK's ``add_override``."""
    assert split_path("ContainerDefinitions.0.DockerLabels.com\\.example") == ["ContainerDefinitions", "0", "DockerLabels", "com.example"]
