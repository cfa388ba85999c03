"""Cluster: Container Insights (enhanced), FARGATE and FARGATE_SPOT capacity providers, optional Name tag."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from aws_cdk import aws_ecs as ecs
from aws_cdk.assertions import Template

from ecs_platform.constructs import Cluster, ClusterProps
from tests.unit.support import logical_id, new_app, new_stack, of_type, plain_vpc, synth


@dataclass
class Scenario:
    template: Template
    ids: dict[str, str]


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """Given three clusters on a plain VPC: one with a Name tag, one without, one with Container Insights lowered."""
    app = new_app()
    stack = new_stack(app)
    vpc = plain_vpc(stack)
    clusters = {
        "named": Cluster(stack, "Named", props=ClusterProps(vpc=vpc, name_tag="MyCluster")),
        "unnamed": Cluster(stack, "Unnamed", props=ClusterProps(vpc=vpc)),
        "basic": Cluster(stack, "Basic", props=ClusterProps(vpc=vpc, container_insights=ecs.ContainerInsights.ENABLED)),
    }
    ids = {name: logical_id(c.cluster) for name, c in clusters.items()}
    # When synthesized
    (template,) = synth(app, stack)
    return Scenario(template, ids)


def _cluster(scenario: Scenario, name: str) -> dict[str, object]:
    props: dict[str, object] = of_type(scenario.template, "AWS::ECS::Cluster")[scenario.ids[name]]["Properties"]
    return props


def test_obs2_container_insights_enhanced_by_default(scenario: Scenario) -> None:
    """OBS-2: Container Insights with enhanced observability unless the caller lowers it."""
    for name in ("named", "unnamed"):
        assert _cluster(scenario, name)["ClusterSettings"] == [{"Name": "containerInsights", "Value": "enhanced"}]
    assert _cluster(scenario, "basic")["ClusterSettings"] == [{"Name": "containerInsights", "Value": "enabled"}]


def test_arch3_fargate_and_fargate_spot_capacity_providers_associated(scenario: Scenario) -> None:
    """ARCH-3: each cluster has one ClusterCapacityProviderAssociations with FARGATE and FARGATE_SPOT."""
    associations = of_type(scenario.template, "AWS::ECS::ClusterCapacityProviderAssociations").values()
    assert sorted(a["Properties"]["Cluster"]["Ref"] for a in associations) == sorted(scenario.ids.values())
    for association in associations:
        assert association["Properties"]["CapacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
        assert association["Properties"]["DefaultCapacityProviderStrategy"] == []


def test_cli4_name_tag_when_given(scenario: Scenario) -> None:
    """CLI-4: --tags key=Name,value=MyCluster."""
    assert _cluster(scenario, "named")["Tags"] == [{"Key": "Name", "Value": "MyCluster"}]


def test_no_name_tag_when_not_given(scenario: Scenario) -> None:
    assert "Tags" not in _cluster(scenario, "unnamed")


def test_cloudformation_names_the_cluster(scenario: Scenario) -> None:
    """No physical name: the Name tag is a tag, not ClusterName."""
    for name in scenario.ids:
        assert "ClusterName" not in _cluster(scenario, name)
