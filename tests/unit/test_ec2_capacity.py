"""EC2 capacity next to Fargate (issue 13): an Auto Scaling group capacity provider, ECS Managed Instances and
the capacity alarms (ARCH-2, ARCH-3, HA-2, HA-4, IAM-7, IAM-8, OBS-2)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Duration, Stack, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from ecs_platform.constructs import (
    AsgCapacity,
    AsgCapacityProps,
    Cluster,
    ClusterProps,
    ClusterReservationAlarms,
    ClusterReservationAlarmsProps,
    ConstructError,
    EncryptionKey,
    EncryptionKeyProps,
    InstanceRequirements,
    ManagedInstancesCapacity,
    ManagedInstancesCapacityProps,
    NotificationTopic,
    NotificationTopicProps,
)
from ecs_platform.constructs.acknowledge import acknowledge, acknowledge_rule
from ecs_platform.constructs.ec2_capacity import MANAGED_INSTANCES_DESCRIBE_ACTIONS
from ecs_platform.constructs.scoped_role import RESOURCE_WILDCARD_ONLY
from tests.helpers import nag_findings
from tests.unit.support import ACCOUNT, AZS, REGION, logical_id, nag_app, new_stack, of_type, only, plain_vpc, synth

PRIVATE = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
AL2023_PARAMETER = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
BOTTLEROCKET_ARM_PARAMETER = "/aws/service/bottlerocket/aws-ecs-2/arm64/latest/image_id"
AUTO_SCALING_ROLE = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
#: The test VPC is a fixture, not under review: its own findings are acknowledged here and left out of the pins.
FIXTURE = "Test/Vpc"

Finding = tuple[str, str]


def _pins() -> set[Finding]:
    """(rule, construct path) of every acknowledged finding of :func:`_build`. Changing this set is a security review."""
    ec2_arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}"
    ecs_arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}"
    iam5 = "AwsSolutions-IAM5[Resource::{}]"
    pins: set[Finding] = set()
    for group in ("Spot", "Arm"):
        policy = f"Test/{group}/InstanceRole/Policy/Resource"
        pins |= {
            # ecs:DiscoverPollEndpoint and the Session Manager channels have no resource-level permission.
            (iam5.format("*"), policy),
            # The cluster's container instances and tasks, whose IDs ECS assigns.
            (iam5.format(f"{ecs_arn}:container-instance/<ClusterC2E21B66>/*"), policy),
            (iam5.format(f"{ecs_arn}:task/<ClusterC2E21B66>/*"), policy),
            # ssm:UpdateInstanceInformation names the instance itself.
            (iam5.format(f"{ec2_arn}:instance/*"), policy),
            # No Auto Scaling notifications: the capacity alarm reports instances that do not come.
            ("AwsSolutions-AS3", f"Test/{group}/Group/ASG"),
        }
    # cdk-nag does not read the launch template of a MixedInstancesPolicy (the Spot group's).
    pins |= {
        (rule, "Test/Spot/Group/ASG")
        for rule in ("AwsSolutions-EC26", "NIST.800.53.R5-EC2IMDSv2Enabled", "HIPAA.Security-EC2IMDSv2Enabled")
    }
    # The Arm group's alarm has no topic.
    pins |= {
        (f"{pack}-CloudWatchAlarmAction", "Test/Arm/TasksWaitingForCapacity/Resource") for pack in ("NIST.800.53.R5", "HIPAA.Security")
    }
    for managed in ("Mi", "MiGpu"):
        agent = f"Test/{managed}/InstanceRole/Policy/Resource"
        infrastructure = f"Test/{managed}/InfrastructureRole/Policy/Resource"
        pins |= {
            (iam5.format("*"), agent),
            (iam5.format(f"{ecs_arn}:container-instance/<ClusterC2E21B66>/*"), agent),
            (iam5.format(f"{ecs_arn}:task-set/<ClusterC2E21B66>/*"), agent),
            # EC2 Describe* on '*'; what ECS creates (tagged AmazonECSManaged) has IDs EC2 assigns; AWS's AMIs.
            (iam5.format("*"), infrastructure),
            *{
                (iam5.format(f"{ec2_arn}:{kind}/*"), infrastructure)
                for kind in ("launch-template", "fleet", "instance", "network-interface", "volume")
            },
            (iam5.format(f"arn:aws:ec2:{REGION}::image/*"), infrastructure),
        }
    return pins


@dataclass
class Scenario:
    template: Template
    ids: dict[str, str]
    spot: AsgCapacity
    arm: AsgCapacity
    managed: ManagedInstancesCapacity
    report: dict[str, Any]
    acknowledgements: dict[str, str]


@dataclass
class Platform:
    stack: Stack
    vpc: ec2.Vpc
    cluster: ecs.Cluster
    key: EncryptionKey
    security_group: ec2.SecurityGroup


def _platform(app: App | None = None) -> Platform:
    """A cluster (the platform's, with FARGATE and FARGATE_SPOT) in a VPC with private subnets in two AZs."""
    stack = new_stack(app)
    vpc = plain_vpc(stack)
    acknowledge(vpc, "AwsSolutions-VPC7", "Test fixture: the VPC is not under review here.")
    for rule in ("VPCFlowLogsEnabled", "VPCDefaultSecurityGroupClosed"):
        acknowledge_rule(vpc, rule, "Test fixture: the VPC is not under review here.")
    cluster = Cluster(stack, "Cluster", props=ClusterProps(vpc=vpc)).cluster
    key = EncryptionKey(stack, "Key", props=EncryptionKeyProps(description="EC2 capacity volumes and alarms"))
    security_group = ec2.SecurityGroup(stack, "Instances", vpc=vpc, description="container instances", allow_all_outbound=False)
    return Platform(stack, vpc, cluster, key, security_group)


def _asg_props(p: Platform, **overrides: Any) -> AsgCapacityProps:
    values: dict[str, Any] = {
        "cluster": p.cluster,
        "name": "general",
        "vpc_subnets": PRIVATE,
        "instance_types": [ec2.InstanceType("m6i.large")],
        "min_capacity": 0,
        "max_capacity": 4,
        "key": p.key,
        "security_group": p.security_group,
    }
    return AsgCapacityProps(**{**values, **overrides})


def _mi_props(p: Platform, **overrides: Any) -> ManagedInstancesCapacityProps:
    values: dict[str, Any] = {
        "cluster": p.cluster,
        "name": "managed",
        "subnets": p.vpc.isolated_subnets,
        "security_group": p.security_group,
        "instance_requirements": InstanceRequirements(vcpu_min=2, vcpu_max=8, memory_min_mib=4096),
    }
    return ManagedInstancesCapacityProps(**{**values, **overrides})


def _build(app: App) -> tuple[Platform, AsgCapacity, AsgCapacity, ManagedInstancesCapacity]:
    """- ``Spot``: AL2023 on m6i.large then m5.large, 0 to 10 instances, 1 On-Demand then 70 % Spot, an alarm topic,
      a permissions boundary;
    - ``Arm``: Bottlerocket on m7g.large, 1 to 4 On-Demand instances, target 90 %, warm-up 2 minutes, no topic;
    - ``Mi``: Managed Instances on Spot, 2 to 8 vCPUs and at least 4 GiB, with the boundary;
    - ``MiGpu``: Managed Instances On-Demand with one NVIDIA GPU;
    - ``Alarms``: the cluster's CPU (80 %) and memory (90 %) reservation alarms, to the topic."""
    p = _platform(app)
    topic = NotificationTopic(p.stack, "Topic", props=NotificationTopicProps(key=p.key, display_name="capacity alarms"))
    boundary = iam.ManagedPolicy.from_managed_policy_name(p.stack, "Boundary", "capacity-boundary")
    spot = AsgCapacity(
        p.stack,
        "Spot",
        props=_asg_props(
            p,
            name="spot-general",
            instance_types=[ec2.InstanceType("m6i.large"), ec2.InstanceType("m5.large")],
            max_capacity=10,
            on_demand_base=1,
            spot_percent=70,
            alarm_topic=topic,
            permissions_boundary=boundary,
        ),
    )
    arm = AsgCapacity(
        p.stack,
        "Arm",
        props=_asg_props(
            p,
            name="arm",
            instance_types=[ec2.InstanceType("m7g.large")],
            min_capacity=1,
            machine_image="bottlerocket",
            root_volume_gib=50,
            target_capacity_percent=90,
            instance_warmup=Duration.minutes(2),
        ),
    )
    managed = ManagedInstancesCapacity(p.stack, "Mi", props=_mi_props(p, capacity_option="spot", permissions_boundary=boundary))
    ManagedInstancesCapacity(
        p.stack,
        "MiGpu",
        props=_mi_props(p, name="managed-gpu", instance_requirements=InstanceRequirements(vcpu_min=4, memory_min_mib=16384, gpus=1)),
    )
    ClusterReservationAlarms(
        p.stack, "Alarms", props=ClusterReservationAlarmsProps(cluster=p.cluster, cpu_reservation_percent=80, alarm_topic=topic)
    )
    return p, spot, arm, managed


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """Given :func:`_build` in an app with every cdk-nag pack, when it is synthesized once."""
    app = nag_app()
    p, spot, arm, managed = _build(app)
    ids = {
        "cluster": logical_id(p.cluster),
        "key": logical_id(p.key),
        "sg": logical_id(p.security_group),
        "spot.role": logical_id(spot.instance_role),
        "spot.group": logical_id(spot.auto_scaling_group),
        "spot.template": logical_id(spot.launch_template),
        "arm.role": logical_id(arm.instance_role),
        "arm.group": logical_id(arm.auto_scaling_group),
        "arm.template": logical_id(arm.launch_template),
        "mi.instance": logical_id(managed.instance_role),
        "mi.infrastructure": logical_id(managed.infrastructure_role),
        "mi.profile": logical_id(managed.instance_profile),
        "topic": logical_id(p.stack.node.find_child("Topic")),
        "subnets": json.dumps([{"Ref": logical_id(s)} for s in p.vpc.isolated_subnets]),
    }
    acknowledgements = {
        rule.split("::", 1)[1]: reason
        for construct in app.node.find_all()
        if not _is_fixture(construct.node.path)
        for entry in construct.node.metadata
        if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule, reason in entry.data.items()
        if not rule.startswith("CloudFormation-Validate::")  # CDK's own, on every stack
    }
    (template,) = synth(app, p.stack)
    report = json.loads((Path(app.outdir) / "validation-report.json").read_text())
    return Scenario(template, ids, spot, arm, managed, report, acknowledgements)


def _resource(scenario: Scenario, key: str) -> dict[str, Any]:
    props: dict[str, Any] = scenario.template.to_json()["Resources"][scenario.ids[key]]
    return props


def _template_data(scenario: Scenario, key: str) -> dict[str, Any]:
    data: dict[str, Any] = _resource(scenario, key)["Properties"]["LaunchTemplateData"]
    return data


def _provider(scenario: Scenario, name: str) -> dict[str, Any]:
    (found,) = [
        r["Properties"] for r in of_type(scenario.template, "AWS::ECS::CapacityProvider").values() if r["Properties"]["Name"] == name
    ]
    return found


def _statements(scenario: Scenario, role: str) -> list[dict[str, Any]]:
    """The statements of the one customer-managed policy attached to ``role``, normalized (lists sorted)."""
    (policy,) = [
        r
        for r in of_type(scenario.template, "AWS::IAM::ManagedPolicy").values()
        if r["Properties"]["Roles"] == [{"Ref": scenario.ids[role]}]
    ]
    return sorted((_normalized(s) for s in policy["Properties"]["PolicyDocument"]["Statement"]), key=lambda s: str(s["Sid"]))


def _normalized(statement: dict[str, Any]) -> dict[str, Any]:
    def listed(value: Any) -> list[Any]:
        return sorted(value if isinstance(value, list) else [value], key=json.dumps)

    return {**statement, "Action": listed(statement["Action"]), "Resource": listed(statement["Resource"])}


def _in_cluster(scenario: Scenario, kind: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [f"arn:aws:ecs:{REGION}:{ACCOUNT}:{kind}/", {"Ref": scenario.ids["cluster"]}, "/*"]]}


def _cluster_arn(scenario: Scenario) -> dict[str, Any]:
    return {"Fn::GetAtt": [scenario.ids["cluster"], "Arn"]}


def _statement(sid: str, actions: list[str], resources: list[Any], condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement = _normalized({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources})
    return {**statement, "Condition": condition} if condition else statement


# --- the Auto Scaling group ------------------------------------------------------------------------------


def test_ha2_the_group_spans_the_given_private_subnets_in_two_azs(scenario: Scenario) -> None:
    """HA-2: both groups launch in exactly the two private subnets, one per AZ of the fixture VPC."""
    for group in ("spot.group", "arm.group"):
        assert _resource(scenario, group)["Properties"]["VPCZoneIdentifier"] == json.loads(scenario.ids["subnets"])
    zones = {r["Properties"]["AvailabilityZone"] for r in of_type(scenario.template, "AWS::EC2::Subnet").values()}
    assert zones == set(AZS)


def test_launch_template_requires_imdsv2_with_one_hop_and_has_no_key_pair(scenario: Scenario) -> None:
    """IMDSv2 only, hop limit 1 (tasks behind a bridge or an ENI cannot use a token), no instance tags in IMDS; no SSH
    key pair (Session Manager instead); detailed monitoring; the given security group and no public IP setting."""
    for key in ("spot.template", "arm.template"):
        data = _template_data(scenario, key)
        assert data["MetadataOptions"] == {
            "HttpEndpoint": "enabled",
            "HttpPutResponseHopLimit": 1,
            "HttpTokens": "required",
            "InstanceMetadataTags": "disabled",
        }
        assert "KeyName" not in data and "NetworkInterfaces" not in data
        assert data["Monitoring"] == {"Enabled": True}
        assert data["SecurityGroupIds"] == [{"Fn::GetAtt": [scenario.ids["sg"], "GroupId"]}]


def test_root_volume_is_gp3_encrypted_with_the_customer_key(scenario: Scenario) -> None:
    """AL2023: /dev/xvda of 30 GiB; Bottlerocket: its OS volume and its data volume (root_volume_gib, 50 GiB); all gp3,
    encrypted with the given key, deleted with the instance."""

    def volume(size: int) -> dict[str, Any]:
        key = {"Fn::GetAtt": [scenario.ids["key"], "Arn"]}
        return {"DeleteOnTermination": True, "Encrypted": True, "KmsKeyId": key, "VolumeSize": size, "VolumeType": "gp3"}

    assert _template_data(scenario, "spot.template")["BlockDeviceMappings"] == [{"DeviceName": "/dev/xvda", "Ebs": volume(30)}]
    assert _template_data(scenario, "arm.template")["BlockDeviceMappings"] == [
        {"DeviceName": "/dev/xvda", "Ebs": volume(4)},
        {"DeviceName": "/dev/xvdb", "Ebs": volume(50)},
    ]


def test_key_policy_lets_auto_scaling_use_the_key_through_ec2_only(scenario: Scenario) -> None:
    """The two statements AWS documents for Auto Scaling and a customer-managed EBS key, for its service-linked role
    only, each limited to use through EC2 (kms:ViaService); written once though two groups share the key."""
    statements = _resource(scenario, "key")["Properties"]["KeyPolicy"]["Statement"]
    mine = [s for s in statements if s.get("Principal") == {"AWS": AUTO_SCALING_ROLE}]
    through_ec2 = {"kms:ViaService": f"ec2.{REGION}.amazonaws.com"}
    assert mine == [
        {
            "Sid": "AllowAutoScalingToUseTheKeyForEbs",
            "Effect": "Allow",
            "Principal": {"AWS": AUTO_SCALING_ROLE},
            "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
            "Resource": "*",
            "Condition": {"StringEquals": through_ec2},
        },
        {
            "Sid": "AllowAutoScalingToGrantTheKeyToEbs",
            "Effect": "Allow",
            "Principal": {"AWS": AUTO_SCALING_ROLE},
            "Action": "kms:CreateGrant",
            "Resource": "*",
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": True}, "StringEquals": through_ec2},
        },
    ]


def test_ami_is_the_ecs_optimized_image_of_the_architecture_resolved_at_each_deploy(scenario: Scenario) -> None:
    """The image IDs are SSM-parameter-typed CloudFormation parameters (resolved at every deployment) of the public
    ECS-optimized AMIs: AL2023 x86_64 for m6i/m5, Bottlerocket aws-ecs-2 arm64 for m7g."""
    parameters = scenario.template.to_json()["Parameters"]
    for key, name in (("spot.template", AL2023_PARAMETER), ("arm.template", BOTTLEROCKET_ARM_PARAMETER)):
        parameter = parameters[_template_data(scenario, key)["ImageId"]["Ref"]]
        assert parameter == {"Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>", "Default": name}


def test_user_data_joins_the_cluster_and_blocks_awsvpc_tasks_from_imds(scenario: Scenario) -> None:
    """AL2023: ECS_CLUSTER (CDK's), ECS_AWSVPC_BLOCK_IMDS and, with Spot, Spot instance draining; Bottlerocket: the
    same settings in the one [settings.ecs] table, after the cluster (no Spot there, so no Spot draining)."""
    cluster = {"Ref": scenario.ids["cluster"]}
    assert _template_data(scenario, "spot.template")["UserData"] == {
        "Fn::Base64": {
            "Fn::Join": [
                "",
                [
                    "#!/bin/bash\necho ECS_CLUSTER=",
                    cluster,
                    " >> /etc/ecs/ecs.config\necho ECS_AWSVPC_BLOCK_IMDS=true >> /etc/ecs/ecs.config"
                    "\necho ECS_ENABLE_SPOT_INSTANCE_DRAINING=true >> /etc/ecs/ecs.config",
                ],
            ]
        }
    }
    assert _template_data(scenario, "arm.template")["UserData"] == {
        "Fn::Base64": {"Fn::Join": ["", ['\n[settings.ecs]\ncluster = "', cluster, '"\nawsvpc-block-imds = true']]}
    }


def test_arch3_mixed_instances_policy_with_on_demand_base_and_spot_percentage(scenario: Scenario) -> None:
    """ARCH-3: one On-Demand instance, then 30 % On-Demand / 70 % Spot; On-Demand types in the given order, Spot from
    the pools with the most capacity, then the cheapest (price-capacity-optimized)."""
    policy = _resource(scenario, "spot.group")["Properties"]["MixedInstancesPolicy"]
    assert policy["InstancesDistribution"] == {
        "OnDemandAllocationStrategy": "prioritized",
        "OnDemandBaseCapacity": 1,
        "OnDemandPercentageAboveBaseCapacity": 30,
        "SpotAllocationStrategy": "price-capacity-optimized",
    }
    assert policy["LaunchTemplate"] == {
        "LaunchTemplateSpecification": {
            "LaunchTemplateId": {"Ref": scenario.ids["spot.template"]},
            "Version": {"Fn::GetAtt": [scenario.ids["spot.template"], "LatestVersionNumber"]},
        },
        "Overrides": [{"InstanceType": "m6i.large"}, {"InstanceType": "m5.large"}],
    }
    assert "InstanceType" not in _template_data(scenario, "spot.template")


def test_one_on_demand_instance_type_uses_the_launch_template_directly(scenario: Scenario) -> None:
    """No mixed instances policy for one type without Spot: the launch template holds the type."""
    group = _resource(scenario, "arm.group")["Properties"]
    assert "MixedInstancesPolicy" not in group
    assert group["LaunchTemplate"]["LaunchTemplateId"] == {"Ref": scenario.ids["arm.template"]}
    assert _template_data(scenario, "arm.template")["InstanceType"] == "m7g.large"


def test_ha4_capacity_provider_scales_protects_drains_and_warms_up(scenario: Scenario) -> None:
    """HA-4: managed scaling to the target capacity with the instance warm-up, managed termination protection (and the
    group's new instances protected from scale-in, which it requires), managed draining; the group's own warm-up."""
    for name, group, target, warmup, low, high in (
        ("spot-general", "spot.group", 100, 300, "0", "10"),
        ("arm", "arm.group", 90, 120, "1", "4"),
    ):
        assert _provider(scenario, name)["AutoScalingGroupProvider"] == {
            "AutoScalingGroupArn": {"Ref": scenario.ids[group]},
            "ManagedScaling": {"Status": "ENABLED", "TargetCapacity": target, "InstanceWarmupPeriod": warmup},
            "ManagedTerminationProtection": "ENABLED",
            "ManagedDraining": "ENABLED",
        }
        props = _resource(scenario, group)["Properties"]
        assert props["NewInstancesProtectedFromScaleIn"] is True
        assert (props["DefaultInstanceWarmup"], props["MinSize"], props["MaxSize"]) == (warmup, low, high)
        assert "DesiredCapacity" not in props


def test_ha4_new_amis_roll_out_through_an_instance_refresh_that_replaces_protected_instances(scenario: Scenario) -> None:
    """A changed launch template (a new AMI at deploy) starts an instance refresh: new instances first (100 to 200 %
    healthy), each after the warm-up, protected instances replaced too (managed draining moves their tasks)."""
    for group, warmup in (("spot.group", 300), ("arm.group", 120)):
        assert _resource(scenario, group)["UpdatePolicy"] == {
            "AutoScalingInstanceRefresh": {
                "Strategy": "Rolling",
                "Preferences": {
                    "MinHealthyPercentage": 100,
                    "MaxHealthyPercentage": 200,
                    "InstanceWarmup": warmup,
                    "SkipMatching": True,
                    "ScaleInProtectedInstances": "Refresh",
                },
            },
            "AutoScalingScheduledAction": {"IgnoreUnmodifiedGroupSizeProperties": True},
        }


def test_arch3_the_cluster_keeps_fargate_and_fargate_spot_and_adds_the_group_providers(scenario: Scenario) -> None:
    """ARCH-3: one association of the cluster: FARGATE, FARGATE_SPOT and both group providers; the Managed Instances
    providers are created for the cluster instead (ClusterName), as ECS does for them."""
    _, association = only(scenario.template, "AWS::ECS::ClusterCapacityProviderAssociations")
    assert association["Properties"]["Cluster"] == {"Ref": scenario.ids["cluster"]}
    names = association["Properties"]["CapacityProviders"]
    assert names[:2] == ["FARGATE", "FARGATE_SPOT"]
    providers = of_type(scenario.template, "AWS::ECS::CapacityProvider")
    assert sorted(providers[n["Ref"]]["Properties"]["Name"] for n in names[2:]) == ["arm", "spot-general"]
    for name in ("managed", "managed-gpu"):
        assert _provider(scenario, name)["ClusterName"] == {"Ref": scenario.ids["cluster"]}


def test_exposes_the_group_the_provider_its_name_and_the_instance_role(scenario: Scenario) -> None:
    """auto_scaling_group runs with instance_role; capacity_provider_name is the provider resource's name."""
    spot = scenario.spot
    stack = Stack.of(spot)
    assert isinstance(spot.capacity_provider, ecs.AsgCapacityProvider)
    resource = spot.capacity_provider.node.find_child("Provider")
    assert isinstance(resource, ecs.CfnCapacityProvider)
    assert stack.resolve(spot.capacity_provider_name) == {"Ref": stack.get_logical_id(resource)}
    assert spot.auto_scaling_group.role.role_name == spot.instance_role.role_name
    assert stack.resolve(scenario.managed.capacity_provider_name) == {"Ref": logical_id(scenario.managed.capacity_provider)}


# --- the instance role -----------------------------------------------------------------------------------


def test_iam8_the_instance_role_has_exactly_the_agents_and_session_managers_actions(scenario: Scenario) -> None:
    """IAM-8: the ECS agent registers and reports to this cluster only, polls and reads tags as this cluster's container
    instances (and its tasks); DiscoverPollEndpoint has no resource; Session Manager's heartbeat names this account's
    instances, its channels have no resource. No ECR, Logs, CreateCluster or TagResource (see the module)."""
    expected = sorted(
        [
            _statement(
                "RegisterAndReportToThisCluster",
                [
                    "ecs:RegisterContainerInstance",
                    "ecs:DeregisterContainerInstance",
                    "ecs:SubmitAttachmentStateChanges",
                    "ecs:SubmitContainerStateChange",
                    "ecs:SubmitTaskStateChange",
                ],
                [_cluster_arn(scenario)],
            ),
            _statement(
                "PollAsThisClustersContainerInstances",
                ["ecs:Poll", "ecs:StartTelemetrySession", "ecs:UpdateContainerInstancesState"],
                [_in_cluster(scenario, "container-instance")],
            ),
            _statement(
                "ReadTagsOfThisClustersTasks",
                ["ecs:ListTagsForResource"],
                [_in_cluster(scenario, "container-instance"), _in_cluster(scenario, "task")],
            ),
            _statement("FindThePollEndpoint", ["ecs:DiscoverPollEndpoint"], ["*"]),
            _statement("SessionManagerHeartbeat", ["ssm:UpdateInstanceInformation"], [f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/*"]),
            _statement(
                "SessionManagerChannels",
                [
                    "ssmmessages:CreateControlChannel",
                    "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel",
                    "ssmmessages:OpenDataChannel",
                ],
                ["*"],
            ),
        ],
        key=lambda s: str(s["Sid"]),
    )
    assert _statements(scenario, "spot.role") == expected
    assert _statements(scenario, "arm.role") == expected


def test_iam8_no_aws_managed_policy_no_inline_policy_and_one_customer_managed_policy_per_role(scenario: Scenario) -> None:
    """IAM-8: CDK's ECS wiring would add statements on '*' and, for Bottlerocket, AmazonSSMManagedInstanceCore and
    AmazonEC2ContainerServiceforEC2Role to a group's role: no role has a managed policy ARN or inline policy, there is
    no AWS::IAM::Policy, and each role has exactly one customer-managed policy."""
    scenario.template.resource_count_is("AWS::IAM::Policy", 0)
    roles = of_type(scenario.template, "AWS::IAM::Role")
    assert len(roles) == 6
    policies = Counter(json.dumps(r["Properties"]["Roles"]) for r in of_type(scenario.template, "AWS::IAM::ManagedPolicy").values())
    for role_id, role in roles.items():
        assert "ManagedPolicyArns" not in role["Properties"] and "Policies" not in role["Properties"], role_id
        assert policies[json.dumps([{"Ref": role_id}])] == 1, role_id


def test_the_instances_get_the_instance_role_through_the_launch_template_profile(scenario: Scenario) -> None:
    """The launch template's instance profile holds the ScopedRole, not a role of CDK's."""
    for template, role in (("spot.template", "spot.role"), ("arm.template", "arm.role")):
        profile_id = _template_data(scenario, template)["IamInstanceProfile"]["Arn"]["Fn::GetAtt"][0]
        assert scenario.template.to_json()["Resources"][profile_id]["Properties"]["Roles"] == [{"Ref": scenario.ids[role]}]


def test_instance_roles_trust_ec2_without_source_conditions_and_take_the_boundary(scenario: Scenario) -> None:
    """EC2 passes no aws:SourceAccount/aws:SourceArn for instance credentials (NO_SOURCE_CONDITION); the boundary is
    set where given (Spot group, Managed Instances), not elsewhere."""
    trust = {
        "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}}],
        "Version": "2012-10-17",
    }
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/capacity-boundary"
    for role, bounded in (("spot.role", True), ("arm.role", False), ("mi.instance", True)):
        props = _resource(scenario, role)["Properties"]
        assert props["AssumeRolePolicyDocument"] == trust
        assert props.get("PermissionsBoundary") == (boundary if bounded else None)
    assert _resource(scenario, "mi.infrastructure")["Properties"]["PermissionsBoundary"] == boundary


# --- ECS Managed Instances -------------------------------------------------------------------------------


def test_arch2_managed_instances_provider_launches_from_requirements_in_the_given_network(scenario: Scenario) -> None:
    """ARCH-2: Spot instances of 2 to 8 vCPUs and at least 4 GiB, no accelerator, in the two private subnets and the
    security group, with the instance profile of the scoped role; the infrastructure role is the scoped one; the
    provider waits for both roles' policies."""
    provider = _provider(scenario, "managed")
    assert provider["ManagedInstancesProvider"] == {
        "InfrastructureRoleArn": {"Fn::GetAtt": [scenario.ids["mi.infrastructure"], "Arn"]},
        "InstanceLaunchTemplate": {
            "CapacityOptionType": "SPOT",
            "Ec2InstanceProfileArn": {"Fn::GetAtt": [scenario.ids["mi.profile"], "Arn"]},
            "InstanceRequirements": {"AcceleratorCount": {"Max": 0}, "MemoryMiB": {"Min": 4096}, "VCpuCount": {"Max": 8, "Min": 2}},
            "Monitoring": "DETAILED",
            "NetworkConfiguration": {
                "SecurityGroups": [{"Fn::GetAtt": [scenario.ids["sg"], "GroupId"]}],
                "Subnets": json.loads(scenario.ids["subnets"]),
            },
        },
        "PropagateTags": "CAPACITY_PROVIDER",
    }
    assert _resource(scenario, "mi.profile")["Properties"]["Roles"] == [{"Ref": scenario.ids["mi.instance"]}]
    resources = scenario.template.to_json()["Resources"]
    (provider_id,) = [k for k, v in resources.items() if v["Type"] == "AWS::ECS::CapacityProvider" and v["Properties"]["Name"] == "managed"]
    policies = {
        k for k, v in resources.items() if v["Type"] == "AWS::IAM::ManagedPolicy" and k.startswith("Mi") and not k.startswith("MiGpu")
    }
    assert set(resources[provider_id]["DependsOn"]) == policies


def test_managed_instances_with_a_gpu_ask_for_nvidia_gpus_on_demand(scenario: Scenario) -> None:
    gpu = _provider(scenario, "managed-gpu")["ManagedInstancesProvider"]["InstanceLaunchTemplate"]
    assert gpu["CapacityOptionType"] == "ON_DEMAND"
    assert gpu["InstanceRequirements"] == {
        "AcceleratorCount": {"Min": 1},
        "AcceleratorManufacturers": ["nvidia"],
        "AcceleratorTypes": ["gpu"],
        "MemoryMiB": {"Min": 16384},
        "VCpuCount": {"Min": 4},
    }


def test_iam8_managed_instances_agent_registers_with_this_cluster_only(scenario: Scenario) -> None:
    """IAM-8: AmazonECSInstanceRolePolicyForManagedInstances' actions, on this cluster and its container instances and
    task sets (PutSystemLogEvents names both the cluster and the instance); nothing else (no Session Manager)."""
    container_instances = _in_cluster(scenario, "container-instance")
    assert _statements(scenario, "mi.instance") == sorted(
        [
            _statement("FindThePollEndpoint", ["ecs:DiscoverPollEndpoint"], ["*"]),
            _statement(
                "RegisterAndReportToThisCluster",
                ["ecs:RegisterContainerInstance", "ecs:SubmitAttachmentStateChanges", "ecs:SubmitTaskStateChange"],
                [_cluster_arn(scenario)],
            ),
            _statement("PollAsThisClustersContainerInstances", ["ecs:Poll"], [container_instances, _in_cluster(scenario, "task-set")]),
            _statement("Telemetry", ["ecs:StartTelemetrySession"], [container_instances]),
            _statement("SystemLogs", ["ecs:PutSystemLogEvents"], [_cluster_arn(scenario), container_instances]),
        ],
        key=lambda s: str(s["Sid"]),
    )


def test_iam8_managed_instances_infrastructure_role_is_scoped_to_what_ecs_marks_and_the_given_network(scenario: Scenario) -> None:
    """IAM-8: the actions of AmazonECSInfrastructureRolePolicyForManagedInstances with its conditions (AmazonECSManaged
    request tag, ECS-operated templates, tag on create), in this account and region; RunInstances and CreateFleet only
    in the given subnets and security group; PassRole of this instance role only, to EC2; the Spot service-linked role
    only for Spot; no resource group, tag or CloudFormation reads (capacity reservations are not configured)."""
    ec2_arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}"
    templates, fleets, instances, interfaces, volumes = (
        f"{ec2_arn}:{k}/*" for k in ("launch-template", "fleet", "instance", "network-interface", "volume")
    )
    network = [
        f"arn:aws:ec2:{REGION}::image/*",
        {"Fn::Join": ["", [f"{ec2_arn}:security-group/", {"Fn::GetAtt": [scenario.ids["sg"], "GroupId"]}]]},
        *({"Fn::Join": ["", [f"{ec2_arn}:subnet/", subnet]]} for subnet in json.loads(scenario.ids["subnets"])),
    ]
    marked = {"StringEquals": {"aws:RequestTag/AmazonECSManaged": "true"}}
    expected = [
        _statement("CreateLaunchTemplatesMarkedForEcs", ["ec2:CreateLaunchTemplate"], [templates], marked),
        _statement(
            "ChangeLaunchTemplatesEcsOperates",
            ["ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate"],
            [templates],
            {"StringEquals": {"ec2:ManagedResourceOperator": "ecs.amazonaws.com"}},
        ),
        _statement("CreateFleetsMarkedForEcs", ["ec2:CreateFleet"], [fleets, instances, interfaces, templates, volumes], marked),
        _statement("CreateFleetsInTheGivenNetwork", ["ec2:CreateFleet"], network),
        _statement("RunInstancesMarkedForEcs", ["ec2:RunInstances"], [instances, volumes, interfaces], marked),
        _statement(
            "RunInstancesFromEcsLaunchTemplates",
            ["ec2:RunInstances"],
            [templates],
            {"StringEquals": {"ec2:ResourceTag/AmazonECSManaged": "true"}},
        ),
        _statement("RunInstancesInTheGivenNetwork", ["ec2:RunInstances"], network),
        _statement(
            "TagWhatEcsCreates",
            ["ec2:CreateTags"],
            [fleets, templates, interfaces, instances, volumes],
            {"StringEquals": {"ec2:CreateAction": ["CreateFleet", "CreateLaunchTemplate", "RunInstances"]}},
        ),
        _statement(
            "PassTheInstanceRole",
            ["iam:PassRole"],
            [{"Fn::GetAtt": [scenario.ids["mi.instance"], "Arn"]}],
            {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
        ),
        _statement("DescribeEc2", list(MANAGED_INSTANCES_DESCRIBE_ACTIONS), ["*"]),
        _statement(
            "CreateTheSpotServiceLinkedRole",
            ["iam:CreateServiceLinkedRole"],
            [f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot"],
            {"StringEquals": {"iam:AWSServiceName": "spot.amazonaws.com"}},
        ),
    ]
    assert _statements(scenario, "mi.infrastructure") == sorted(expected, key=lambda s: str(s["Sid"]))
    assert set(MANAGED_INSTANCES_DESCRIBE_ACTIONS) <= set(RESOURCE_WILDCARD_ONLY)
    gpu_policy = [r for k, r in of_type(scenario.template, "AWS::IAM::ManagedPolicy").items() if k.startswith("MiGpuInfrastructureRole")]
    assert "iam:CreateServiceLinkedRole" not in json.dumps(gpu_policy)


def test_infrastructure_role_trusts_ecs(scenario: Scenario) -> None:
    """ECS assumes it; AWS documents no source condition for ECS infrastructure roles (NO_SOURCE_CONDITION)."""
    assert _resource(scenario, "mi.infrastructure")["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}}
    ]


# --- alarms ----------------------------------------------------------------------------------------------


def test_obs2_tasks_waiting_for_capacity_alarm_on_the_providers_reservation(scenario: Scenario) -> None:
    """OBS-2: CapacityProviderReservation (AWS/ECS/ManagedScaling) of the cluster and provider above 100 % for 15 minutes
    (tasks need instances the group does not get); to the topic when one is given."""
    found = [
        a
        for a in of_type(scenario.template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == "CapacityProviderReservation"
    ]
    assert len(found) == 2
    for alarm in found:
        props = alarm["Properties"]
        provider = props["Dimensions"][0]["Value"]["Ref"]
        spot = scenario.template.to_json()["Resources"][provider]["Properties"]["Name"] == "spot-general"
        assert {k: v for k, v in props.items() if k not in ("AlarmDescription", "Dimensions", "AlarmActions")} == {
            "Namespace": "AWS/ECS/ManagedScaling",
            "MetricName": "CapacityProviderReservation",
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 100,
            "EvaluationPeriods": 15,
            "Period": 60,
            "Statistic": "Minimum",
            "TreatMissingData": "notBreaching",
        }
        assert props["Dimensions"][1] == {"Name": "ClusterName", "Value": {"Ref": scenario.ids["cluster"]}}
        assert props.get("AlarmActions") == ([{"Ref": scenario.ids["topic"]}] if spot else None)


def test_obs2_cluster_cpu_and_memory_reservation_alarms(scenario: Scenario) -> None:
    """OBS-2: the cluster's CPUReservation above 80 % and MemoryReservation above 90 % (the default), 5-minute averages
    for 15 minutes, to the topic."""
    alarms = [
        a["Properties"] for a in of_type(scenario.template, "AWS::CloudWatch::Alarm").values() if a["Properties"]["Namespace"] == "AWS/ECS"
    ]
    assert sorted((a["MetricName"], a["Threshold"]) for a in alarms) == [("CPUReservation", 80), ("MemoryReservation", 90)]
    for alarm in alarms:
        assert alarm["Dimensions"] == [{"Name": "ClusterName", "Value": {"Ref": scenario.ids["cluster"]}}]
        assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["Statistic"]) == (300, 3, "Average")
        assert alarm["AlarmActions"] == [{"Ref": scenario.ids["topic"]}]


# --- cdk-nag ---------------------------------------------------------------------------------------------


def _reviewed(found: Counter[Finding]) -> Counter[Finding]:
    return Counter({finding: n for finding, n in found.items() if not _is_fixture(finding[1])})


def _is_fixture(path: str) -> bool:
    return path == FIXTURE or path.startswith(f"{FIXTURE}/")


def test_synthesizes_with_every_nag_pack_and_no_unacknowledged_finding(scenario: Scenario) -> None:
    assert {p["pluginName"] for p in scenario.report["pluginReports"]} >= {"AwsSolutions", "NIST.800.53.R5", "HIPAA.Security"}
    assert nag_findings(scenario.report, "violations") == Counter()


def test_iam8_acknowledgements_are_pinned_and_carry_reasons(scenario: Scenario) -> None:
    """The acknowledged findings are exactly :func:`_pins` (rule and construct), each once, with a reviewable reason."""
    suppressed = _reviewed(nag_findings(scenario.report, "suppressedViolations"))
    assert set(suppressed) == _pins()
    assert set(suppressed.values()) == {1}
    assert {rule for rule, _ in _pins()} == set(scenario.acknowledgements)
    for rule, reason in scenario.acknowledgements.items():
        assert len(reason) > 40, f"{rule}: reason too short to review: {reason!r}"


def test_every_acknowledgement_matches_a_real_finding(scenario: Scenario) -> None:
    """Synthesized with acknowledgements off, the findings are exactly the acknowledged ones, as often."""
    app = nag_app(acknowledgements=False)
    _build(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    unacknowledged = _reviewed(nag_findings(json.loads((Path(app.outdir) / "validation-report.json").read_text()), "violations"))
    assert unacknowledged == _reviewed(nag_findings(scenario.report, "suppressedViolations"))
    assert set(unacknowledged) == _pins()


# --- refused props ---------------------------------------------------------------------------------------


@pytest.fixture
def platform() -> Platform:
    return _platform()


def _refused_asg(p: Platform, **overrides: Any) -> str:
    with pytest.raises(ConstructError) as raised:
        AsgCapacity(p.stack, "Capacity", props=_asg_props(p, **overrides))
    assert raised.value.path == "Test/Capacity"
    return str(raised.value)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param(
            {"min_capacity": 5, "max_capacity": 4}, "min_capacity: 5 is above max_capacity 4; allowed: min <= max", id="min_above_max"
        ),
        pytest.param({"max_capacity": 5_001}, "max_capacity: 5001 is out of range; allowed: 0..5000 (LIM-3)", id="max_above_lim3"),
        pytest.param({"min_capacity": -1}, "min_capacity: -1 is out of range; allowed: 0..5000", id="negative_min"),
        pytest.param({"instance_types": []}, "instance_types is empty; allowed: at least one instance type", id="no_instance_type"),
        pytest.param(
            {"instance_types": [ec2.InstanceType("m6i.large"), ec2.InstanceType("m7g.large")]},
            "instance_types mix architectures (arm64, x86_64); allowed: one architecture",
            id="mixed_architectures",
        ),
        pytest.param({"name": "ecs-general"}, "name: 'ecs-general' starts with a prefix ECS reserves", id="name_ecs_prefix"),
        pytest.param({"name": "AWSpool"}, "name: 'AWSpool' starts with a prefix ECS reserves", id="name_aws_prefix_any_case"),
        pytest.param({"name": "fargate2"}, "name: 'fargate2' starts with a prefix ECS reserves", id="name_fargate_prefix"),
        pytest.param({"name": "general pool"}, "name: 'general pool' is not a capacity provider name; allowed: 1 to 255", id="name_space"),
        pytest.param({"name": ""}, "name: '' is not a capacity provider name", id="name_empty"),
        pytest.param({"name": "a" * 256}, "is not a capacity provider name", id="name_too_long"),
        pytest.param({"spot_percent": 101}, "spot_percent: 101 is out of range; allowed: 0..100", id="spot_above_100"),
        pytest.param({"spot_percent": -1}, "spot_percent: -1 is out of range; allowed: 0..100", id="spot_negative"),
        pytest.param({"on_demand_base": 5}, "on_demand_base: 5 is out of range; allowed: 0..4", id="base_above_max"),
        pytest.param(
            {"machine_image": "ubuntu"}, "machine_image: 'ubuntu' is not known; allowed: al2023, al2023-gpu, bottlerocket", id="bad_image"
        ),
        pytest.param(
            {"machine_image": "al2023-gpu", "instance_types": [ec2.InstanceType("g5g.xlarge")]},
            "machine_image: 'al2023-gpu' is an x86_64 AMI; instance_types are arm64",
            id="gpu_on_arm",
        ),
        pytest.param({"target_capacity_percent": 0}, "target_capacity_percent: 0 is out of range; allowed: 1..100", id="target_zero"),
        pytest.param({"root_volume_gib": 20}, "root_volume_gib: 20 is out of range; allowed: 30..16384", id="root_below_snapshot"),
        pytest.param(
            {"instance_warmup": Duration.seconds(10_001)}, "instance_warmup: 10001 is out of range; allowed: 0..10000", id="warmup"
        ),
    ],
)
def test_fails_when_an_asg_prop_breaks_its_rule(platform: Platform, overrides: dict[str, Any], expected: str) -> None:
    assert expected in _refused_asg(platform, **overrides)


def test_ha2_fails_when_the_subnets_are_in_one_az(platform: Platform) -> None:
    """HA-2: a selection of one AZ's private subnet is refused, naming the AZ."""
    message = _refused_asg(
        platform, vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, availability_zones=[AZS[0]])
    )
    assert f"vpc_subnets: subnets in 1 availability zone(s) ({AZS[0]}); allowed: two or more (HA-2)" in message


def test_fails_when_the_subnets_are_public() -> None:
    """SEC-1: instances never go in public subnets."""
    p = _platform()
    vpc = ec2.Vpc(
        p.stack,
        "Public",
        availability_zones=list(AZS),
        nat_gateways=0,
        subnet_configuration=[ec2.SubnetConfiguration(name="Pub", subnet_type=ec2.SubnetType.PUBLIC)],
    )
    cluster = ecs.Cluster(p.stack, "PublicCluster", vpc=vpc)
    message = _refused_asg(p, cluster=cluster, vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC))
    assert "vpc_subnets: the selection has public subnets; allowed: private subnets (SEC-1)" in message


def test_fails_when_the_cluster_is_imported(platform: Platform) -> None:
    """An imported cluster's capacity provider associations belong to its own stack: refused, not overwritten."""
    imported = ecs.Cluster.from_cluster_attributes(platform.stack, "Imported", cluster_name="shop", vpc=platform.vpc)
    assert "cluster: an imported cluster cannot take an Auto Scaling group capacity provider" in _refused_asg(platform, cluster=imported)


def _refused_mi(p: Platform, **overrides: Any) -> str:
    with pytest.raises(ConstructError) as raised:
        ManagedInstancesCapacity(p.stack, "Managed", props=_mi_props(p, **overrides))
    assert raised.value.path == "Test/Managed"
    return str(raised.value)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({"name": "fargate-like"}, "name: 'fargate-like' starts with a prefix ECS reserves", id="name_prefix"),
        pytest.param({"capacity_option": "reserved"}, "capacity_option: 'reserved' is not known; allowed: on-demand, spot", id="option"),
        pytest.param({"subnets": []}, "subnets is empty; allowed: private subnets in two or more AZs (HA-2)", id="no_subnet"),
        pytest.param(
            {"instance_requirements": InstanceRequirements(vcpu_min=4, vcpu_max=2, memory_min_mib=1024)},
            "instance_requirements.vcpu_max: 2 is below vcpu_min 4; allowed: min <= max",
            id="vcpu_range",
        ),
        pytest.param(
            {"instance_requirements": InstanceRequirements(vcpu_min=2, memory_min_mib=8192, memory_max_mib=4096)},
            "instance_requirements.memory_max_mib: 4096 is below memory_min_mib 8192; allowed: min <= max",
            id="memory_range",
        ),
        pytest.param(
            {"instance_requirements": InstanceRequirements(vcpu_min=0, memory_min_mib=1024)},
            "instance_requirements.vcpu_min: 0 is out of range; allowed: 1..1024",
            id="no_vcpu",
        ),
        pytest.param(
            {"instance_requirements": InstanceRequirements(vcpu_min=2, memory_min_mib=1024, gpus=-1)},
            "instance_requirements.gpus: -1 is out of range; allowed: 0..16",
            id="negative_gpus",
        ),
    ],
)
def test_fails_when_a_managed_instances_prop_breaks_its_rule(platform: Platform, overrides: dict[str, Any], expected: str) -> None:
    assert expected in _refused_mi(platform, **overrides)


def test_ha2_fails_when_managed_instances_subnets_are_in_one_az(platform: Platform) -> None:
    message = _refused_mi(platform, subnets=platform.vpc.isolated_subnets[:1])
    assert f"subnets: subnets in 1 availability zone(s) ({AZS[0]}); allowed: two or more (HA-2)" in message


@pytest.mark.parametrize(("field", "value"), [("cpu_reservation_percent", 0), ("memory_reservation_percent", 101)])
def test_fails_when_a_reservation_threshold_is_not_a_percentage(platform: Platform, field: str, value: int) -> None:
    with pytest.raises(ConstructError, match=rf"Test/Alarms: {field}: {value} is out of range; allowed: 1..100"):
        ClusterReservationAlarms(platform.stack, "Alarms", props=ClusterReservationAlarmsProps(cluster=platform.cluster, **{field: value}))


# --- other clusters and images ---------------------------------------------------------------------------


def test_managed_instances_on_an_imported_cluster_are_created_for_that_cluster() -> None:
    """A Managed Instances provider needs no association: on an imported cluster it is created for it (ClusterName), and
    its roles name that cluster; subnets imported by ID alone (AZ unknown) are not refused."""
    p = _platform()
    imported = ecs.Cluster.from_cluster_attributes(p.stack, "Imported", cluster_name="shop", vpc=p.vpc)
    ids = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
    subnets = [ec2.Subnet.from_subnet_id(p.stack, f"Subnet{i}", subnet_id) for i, subnet_id in enumerate(ids)]
    capacity = ManagedInstancesCapacity(p.stack, "Managed", props=_mi_props(p, cluster=imported, subnets=subnets))
    template = Template.from_stack(p.stack).to_json()
    provider = template["Resources"][logical_id(capacity.capacity_provider)]["Properties"]
    assert provider["ClusterName"] == "shop"
    assert provider["ManagedInstancesProvider"]["InstanceLaunchTemplate"]["NetworkConfiguration"]["Subnets"] == ids
    assert f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/shop" in json.dumps(template)


def test_the_gpu_image_is_the_al2023_nvidia_parameter() -> None:
    """al2023-gpu on g5.xlarge: the ECS-optimized AL2023 GPU AMI's parameter; al2023 on Graviton: the arm64 one."""
    p = _platform()
    AsgCapacity(p.stack, "Gpu", props=_asg_props(p, name="gpu", machine_image="al2023-gpu", instance_types=[ec2.InstanceType("g5.xlarge")]))
    AsgCapacity(p.stack, "Graviton", props=_asg_props(p, name="graviton", instance_types=[ec2.InstanceType("c7g.large")]))
    defaults = {v["Default"] for v in Template.from_stack(p.stack).to_json()["Parameters"].values()}
    assert {
        "/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id",
        "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id",
    } <= defaults
