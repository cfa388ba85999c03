"""EC2 capacity next to Fargate (issue 13), as specs/ec2.yaml synthesizes it: a web service on an Auto Scaling
group provider (On-Demand base, then Spot), one on Fargate Spot, a GPU job on GPU instances, a worker on ECS
Managed Instances."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Synthesized

Resources = dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def ec2(synth: Callable[[str], Synthesized]) -> Synthesized:
    return synth("ec2")


def _props(ec2: Synthesized, kind: str) -> Resources:
    return {k: v["Properties"] for k, v in ec2.resources(kind).items()}


def _service(ec2: Synthesized, name: str) -> dict[str, Any]:
    (found,) = [s for s in _props(ec2, "AWS::ECS::Service").values() if s.get("ServiceName") == name]
    return found


def _definition(ec2: Synthesized, family: str) -> dict[str, Any]:
    (found,) = [d for d in _props(ec2, "AWS::ECS::TaskDefinition").values() if d["Family"] == family]
    return found


def _groups(ec2: Synthesized) -> dict[str, dict[str, Any]]:
    """The Auto Scaling groups by capacity provider name."""
    groups = _props(ec2, "AWS::AutoScaling::AutoScalingGroup")
    found = {}
    for provider in _props(ec2, "AWS::ECS::CapacityProvider").values():
        if "AutoScalingGroupProvider" in provider:
            found[provider["Name"]] = groups[provider["AutoScalingGroupProvider"]["AutoScalingGroupArn"]["Ref"]]
    return found


def test_arch2_each_workload_runs_on_the_launch_type_of_its_providers(ec2: Synthesized) -> None:
    """web on EC2 instances, preview on Fargate Spot, the worker on Managed Instances, all in awsvpc mode."""
    assert _definition(ec2, "web")["RequiresCompatibilities"] == ["EC2"]
    assert _definition(ec2, "web")["NetworkMode"] == "awsvpc" and "RuntimePlatform" not in _definition(ec2, "web")
    assert _definition(ec2, "thumbnails")["RequiresCompatibilities"] == ["MANAGED_INSTANCES"]
    definitions = [d for d in _props(ec2, "AWS::ECS::TaskDefinition").values() if d["RequiresCompatibilities"] == ["FARGATE"]]
    assert len(definitions) == 1  # preview
    web, preview = _service(ec2, "web"), _service(ec2, "preview")
    assert "LaunchType" not in web and web["CapacityProviderStrategy"] == [{"CapacityProvider": "render-dev-general", "Weight": 1}]
    assert preview["CapacityProviderStrategy"] == [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]
    assert _service(ec2, "thumbnails")["CapacityProviderStrategy"] == [{"CapacityProvider": "render-dev-managed", "Weight": 1}]


def test_arch3_the_cluster_holds_fargate_and_the_ec2_providers(ec2: Synthesized) -> None:
    (association,) = _props(ec2, "AWS::ECS::ClusterCapacityProviderAssociations").values()
    providers = association["CapacityProviders"]
    assert providers[:2] == ["FARGATE", "FARGATE_SPOT"] and len(providers) == 4
    managed = [p for p in _props(ec2, "AWS::ECS::CapacityProvider").values() if "ManagedInstancesProvider" in p]
    assert [p["Name"] for p in managed] == ["render-dev-managed"] and "ClusterName" in managed[0]


def test_ha2_the_instances_span_two_azs_in_the_private_subnets_of_their_class(ec2: Synthesized) -> None:
    groups = _groups(ec2)
    assert set(groups) == {"render-dev-general", "render-dev-gpu"}
    for name, subnets in (("render-dev-general", "WebSubnet"), ("render-dev-gpu", "BatchSubnet")):
        zones = groups[name]["VPCZoneIdentifier"]
        assert len(zones) == 2 and all(subnets in json.dumps(z) for z in zones)


def test_ha3_services_on_instances_spread_over_azs_then_instances(ec2: Synthesized) -> None:
    assert _service(ec2, "web")["PlacementStrategies"] == [
        {"Type": "spread", "Field": "attribute:ecs.availability-zone"},
        {"Type": "spread", "Field": "instanceId"},
    ]


def test_ha4_the_capacity_provider_scales_the_instances_and_protects_them_while_tasks_run(ec2: Synthesized) -> None:
    for provider in _props(ec2, "AWS::ECS::CapacityProvider").values():
        if "AutoScalingGroupProvider" not in provider:
            continue
        asg = provider["AutoScalingGroupProvider"]
        assert asg["ManagedScaling"]["Status"] == "ENABLED" and asg["ManagedScaling"]["TargetCapacity"] == 100
        assert asg["ManagedScaling"]["InstanceWarmupPeriod"] == 300
        assert asg["ManagedTerminationProtection"] == "ENABLED" and asg["ManagedDraining"] == "ENABLED"
    for group in _groups(ec2).values():
        assert group["NewInstancesProtectedFromScaleIn"] is True


def test_arch3_on_demand_base_then_spot_capacity_optimized(ec2: Synthesized) -> None:
    spread = _groups(ec2)["render-dev-general"]["MixedInstancesPolicy"]["InstancesDistribution"]
    assert (spread["OnDemandBaseCapacity"], spread["OnDemandPercentageAboveBaseCapacity"]) == (1, 50)
    assert spread["SpotAllocationStrategy"] == "price-capacity-optimized"


def test_sec3_launch_templates_require_imdsv2_and_encrypt_the_root_volume_with_the_platform_key(ec2: Synthesized) -> None:
    templates = _props(ec2, "AWS::EC2::LaunchTemplate")
    assert len(templates) == 2
    (volumes_key,) = [k for k in ec2.resources("AWS::KMS::Key") if k.startswith("VolumesKey")]
    for template in templates.values():
        data = template["LaunchTemplateData"]
        assert data["MetadataOptions"]["HttpTokens"] == "required"
        assert "KeyName" not in data  # Session Manager, no SSH key
        (volume,) = [m["Ebs"] for m in data["BlockDeviceMappings"] if "Ebs" in m]
        assert volume["Encrypted"] is True and volume["VolumeType"] == "gp3"
        assert volume["KmsKeyId"] == {"Fn::GetAtt": [volumes_key, "Arn"]}


def test_a_gpu_job_reserves_its_gpu_on_gpu_instances_packed_by_memory(ec2: Synthesized) -> None:
    render = _definition(ec2, "render")
    assert render["RequiresCompatibilities"] == ["EC2"]
    assert render["ContainerDefinitions"][0]["ResourceRequirements"] == [{"Type": "GPU", "Value": "1"}]
    parameters = json.dumps(ec2.workloads_json["Outputs"]["RenderRunTaskParameters"]["Value"])
    assert '\\"capacityProvider\\":\\"render-dev-gpu\\"' in parameters
    assert '\\"placementStrategy\\":[{\\"type\\":\\"binpack\\",\\"field\\":\\"MEMORY\\"}]' in parameters


def test_iam8_the_instance_roles_grants_are_scoped_in_one_customer_managed_policy(ec2: Synthesized) -> None:
    roles = {k: v for k, v in _props(ec2, "AWS::IAM::Role").items() if "InstanceRole" in k}
    assert roles and all("ManagedPolicyArns" not in r for r in roles.values())
    policies = [p for p in _props(ec2, "AWS::IAM::ManagedPolicy").values() if any(r["Ref"] in roles for r in p.get("Roles", []))]
    actions = {
        a
        for p in policies
        for s in p["PolicyDocument"]["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert {"ecs:RegisterContainerInstance", "ecs:Poll", "ecs:SubmitTaskStateChange", "ssm:UpdateInstanceInformation"} <= actions
    assert "ecs:CreateCluster" not in actions
    assert "AmazonEC2ContainerServiceforEC2Role" not in json.dumps(ec2.workloads_json)


def test_obs2_reservation_alarms_watch_the_cluster_and_each_provider(ec2: Synthesized) -> None:
    metrics = {a.get("MetricName") for a in _props(ec2, "AWS::CloudWatch::Alarm").values()}
    assert {"CPUReservation", "MemoryReservation", "CapacityProviderReservation"} <= metrics
