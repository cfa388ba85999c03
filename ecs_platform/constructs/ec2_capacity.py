"""EC2 capacity for an ECS cluster, next to Fargate (ARCH-2, ARCH-3, HA-2, HA-4, IAM-7, IAM-8, OBS-2).

Two ways to run tasks on EC2 instances, each a capacity provider added to an existing cluster
(FARGATE and FARGATE_SPOT stay associated):

- :class:`AsgCapacity`: an Auto Scaling group of ECS-optimized instances (Amazon Linux 2023, its
  NVIDIA variant, or Bottlerocket) in private subnets of at least two AZs, scaled by ECS managed
  scaling (HA-4), On-Demand with an optional Spot share;
- :class:`ManagedInstancesCapacity`: ECS Managed Instances, where AWS chooses, launches, patches
  and replaces the instances from vCPU and memory requirements.

How a new ECS-optimized AMI reaches running instances (:class:`AsgCapacity`)
    The launch template takes its AMI from the public SSM parameter of the ECS-optimized image as a
    CloudFormation parameter, which CloudFormation resolves again on every deployment. A deployment
    after AWS published a new AMI therefore writes a new launch template version, and the group's
    ``AutoScalingInstanceRefresh`` update policy has CloudFormation start an instance refresh: new
    instances are launched first (minimum healthy 100 %, maximum 200 %), and each one counts as
    healthy only after the warm-up. Between deployments nothing changes (no drift, no surprise
    replacement); deploy regularly, or on the ECS AMI release notifications, to pick up patches.

    Managed termination protection makes every instance scale-in protected, and ECS lifts the
    protection only from instances without tasks. An instance refresh that waited for unprotected
    instances (Auto Scaling's default) would never finish, so the refresh replaces protected
    instances too (``ScaleInProtectedInstances: Refresh``). What keeps the tasks safe is managed
    instance draining: ECS's termination lifecycle hook puts the instance in DRAINING, the service
    scheduler starts replacement tasks on the new instances, and only then is the instance
    terminated. Spot interruptions are drained the same way (the agent's Spot draining setting).

Instance metadata (IMDS)
    IMDSv2 only, with a hop limit of 1: the ECS agent and the SSM agent run on the host network, so they
    reach IMDS in one hop, while a container behind a bridge or a task ENI cannot use a token. Tasks in
    ``awsvpc`` mode are blocked from IMDS as well (``ECS_AWSVPC_BLOCK_IMDS``, Bottlerocket's
    ``awsvpc-block-imds``), so tasks get credentials only from their task role, never the instance
    role's. No task needs IMDS on awsvpc: task credentials come from the agent's endpoint (169.254.170.2).

Service-linked roles (IAM-7)
    ECS's managed scaling acts on the group through ``AWSServiceRoleForECS``, and Auto Scaling launches the
    instances through ``AWSServiceRoleForAutoScaling``; AWS creates both, no stack here does. The root volumes'
    key lets the latter use it, through EC2 only.

The instance role (IAM-8)
    A :class:`ScopedRole` with what the ECS agent calls (taken from ``AmazonEC2ContainerServiceforEC2Role``
    and scoped to this cluster and its container instances) and what Session Manager needs; no AWS
    managed policy. Left out of AWS's policy: ``ecs:CreateCluster`` (the cluster exists), ``ecs:TagResource``
    and ``ec2:DescribeTags`` (the agent registers without tags), and the ECR pull and CloudWatch Logs
    actions: every task of the platform has an execution role, which the agent uses for both. CDK's
    ECS code adds its own statements (on ``*``) and, for Bottlerocket, two AWS managed policies to the
    group's role: the launch template gets an immutable view of the role so neither reaches it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from aws_cdk import Duration, Size, Stack, Token
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from ecs_platform.constructs.acknowledge import HIPAA, NIST, acknowledge, acknowledge_rule, nag_text
from ecs_platform.constructs.errors import ConstructError, refuse
from ecs_platform.constructs.scoped_role import MANAGED_INSTANCES_DESCRIBE_ACTIONS, ScopedRole, ScopedRoleProps
from ecs_platform.constructs.source_conditions import service_principal
from ecs_platform.limits import Range

#: ECS-optimized images an Auto Scaling group may run (public SSM parameters, resolved at deploy).
MACHINE_IMAGES = ("al2023", "al2023-gpu", "bottlerocket")
#: LIM-3: instances of one group, as tasks per service.
INSTANCES = Range(0, 5_000, "LIM-3")
SPOT_PERCENT = Range(0, 100, "share of the instances above the On-Demand base that are Spot")
TARGET_CAPACITY_PERCENT = Range(1, 100, "ECS managed scaling target; below 100 keeps spare instances")
#: The ECS-optimized Amazon Linux 2023 AMIs have a 30 GiB root snapshot; gp3 volumes end at 16 TiB.
ROOT_VOLUME_GIB = Range(30, 16_384, "the ECS-optimized AMI's snapshot is 30 GiB; gp3 ends at 16 TiB")
#: ECS managed scaling's instance warm-up, in seconds.
WARMUP_SECONDS = Range(0, 10_000, "ECS managed scaling instance warm-up")
PERCENT = Range(1, 100)
#: ECS capacity provider names: 1 to 255 letters, digits, hyphens and underscores.
_PROVIDER_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")
_RESERVED_PREFIXES = ("aws", "ecs", "fargate")
#: Bottlerocket's operating system volume (the containers' data volume is /dev/xvdb).
_BOTTLEROCKET_OS_VOLUME_GIB = 4
#: What Auto Scaling's service-linked role may do with a customer-managed key for EBS, as AWS documents.
_EBS_KEY_USE = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey")
_ARCHITECTURE_NAMES = {ec2.InstanceArchitecture.ARM_64: "arm64", ec2.InstanceArchitecture.X86_64: "x86_64"}
#: Where ECS's managed scaling publishes how much of the capacity the tasks need.
MANAGED_SCALING_NAMESPACE = "AWS/ECS/ManagedScaling"

CapacityOption = Literal["on-demand", "spot"]


def check_capacity_provider_name(name: str) -> str | None:
    """ECS's rules for a capacity provider name."""
    if not _PROVIDER_NAME.fullmatch(name):
        return f"{name!r} is not a capacity provider name; allowed: 1 to 255 letters, digits, '-' and '_'"
    if name.lower().startswith(_RESERVED_PREFIXES):
        return f"{name!r} starts with a prefix ECS reserves; allowed: a name not starting with aws, ecs or fargate"
    return None


def _zones_problem(zones: Sequence[str]) -> str | None:
    known = {zone for zone in zones if not Token.is_unresolved(zone)}
    if len(known) == len(list(zones)) and len(known) < 2:
        return f"subnets in {len(known)} availability zone(s) ({', '.join(sorted(known)) or 'none'}); allowed: two or more (HA-2)"
    return None


def _cluster_resource(cluster: ecs.ICluster, kind: str) -> str:
    """The ARN pattern of this cluster's ``kind`` (container instances, tasks, task sets): ECS's long ARN format."""
    return Stack.of(cluster).format_arn(service="ecs", resource=kind, resource_name=f"{cluster.cluster_name}/*")


def _acknowledge_patterns(role: ScopedRole, patterns: dict[str, str]) -> None:
    """Acknowledge the IAM5 finding of each wildcard ARN pattern the role's policy names, with its reason."""
    for pattern, reason in patterns.items():
        acknowledge(role, f"AwsSolutions-IAM5[Resource::{nag_text(role, pattern)}]", reason)


# --- Auto Scaling group capacity -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AsgCapacityProps:
    cluster: ecs.ICluster
    """The cluster the capacity provider is added to (an ``ecs.Cluster`` of this app: its capacity provider
    associations are written here)."""
    name: str
    """Name of the capacity provider (what a service's capacity provider strategy names)."""
    vpc_subnets: ec2.SubnetSelection
    """Private subnets of the cluster's VPC, in at least two AZs (HA-2)."""
    instance_types: Sequence[ec2.InstanceType]
    """Instance types, in order of preference for On-Demand, all of one CPU architecture."""
    min_capacity: int
    """Fewest instances (0 lets the group empty when no task runs)."""
    max_capacity: int
    """Most instances (at most 5,000, LIM-3)."""
    key: kms.IKey
    """Customer-managed key of the root volumes; its policy lets Auto Scaling's service-linked role use it
    through EC2 (a key of this app; an imported key's owner adds that)."""
    security_group: ec2.ISecurityGroup
    """Security group of the instances (tasks in awsvpc mode have their own)."""
    on_demand_base: int = 0
    """Instances that are always On-Demand, before the Spot share applies. Default: 0."""
    spot_percent: int = 0
    """Share of the instances above ``on_demand_base`` that are Spot, 0 to 100. Default: 0 (all On-Demand)."""
    machine_image: str = "al2023"
    """``al2023``, ``al2023-gpu`` (NVIDIA) or ``bottlerocket``: the ECS-optimized AMI, resolved at each deploy.
    Default: al2023."""
    root_volume_gib: int = 30
    """Size of the encrypted gp3 volume for the OS and images (Bottlerocket: the data volume). Default: 30."""
    target_capacity_percent: int = 100
    """ECS managed scaling target; below 100 keeps spare instances for fast task starts. Default: 100."""
    instance_warmup: Duration = Duration.minutes(5)
    """Time before a new instance counts in managed scaling and the instance refresh goes on. Default: 5 minutes."""
    alarm_topic: sns.ITopic | None = None
    """Where the capacity alarm notifies (tasks waiting for instances, OBS-2). Default: no action (console only)."""
    permissions_boundary: iam.IManagedPolicy | None = None
    """Permissions boundary of the instance role. Default: none."""


class AsgCapacity(Construct):
    """An Auto Scaling group capacity provider of the cluster (ARCH-2, ARCH-3, HA-2, HA-4).

    ECS managed scaling sizes the group to the tasks (target ``target_capacity_percent``), managed
    termination protection keeps instances with tasks from scale-in (new instances start protected),
    and managed draining moves tasks off an instance before Auto Scaling terminates it. The group
    spreads over the given subnets' AZs. Several instance types, or a Spot share, take a mixed
    instances policy (On-Demand types in the given order, Spot price-capacity-optimized); one
    On-Demand type is set in the launch template itself.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: AsgCapacityProps) -> None:
        super().__init__(scope, construct_id)
        cluster = props.cluster
        self._cluster = cluster
        self._check(props)
        if not isinstance(cluster, ecs.Cluster):
            raise ConstructError(
                self,
                "cluster: an imported cluster cannot take an Auto Scaling group capacity provider (its capacity provider "
                "associations belong to the stack that created it); allowed: an ecs.Cluster of this app",
            )
        architecture = props.instance_types[0].architecture
        machine_image, image_type = _machine_image(props.machine_image, architecture)
        bottlerocket = image_type == ecs.MachineImageType.BOTTLEROCKET

        self.instance_role = _instance_role(self, f"ECS container instances of capacity provider {props.name}", props.permissions_boundary)
        """The role of the instances: the ECS agent on this cluster and Session Manager."""
        self._grant_agent(cluster)
        _grant_ebs_key_to_auto_scaling(props.key)

        self.launch_template = ec2.LaunchTemplate(
            self,
            "LaunchTemplate",
            machine_image=machine_image,
            user_data=ec2.UserData.custom("") if bottlerocket else ec2.UserData.for_linux(),
            # CDK's ECS wiring writes statements on '*' (and, for Bottlerocket, AWS managed policies) to the
            # group's role: the instances get this role, but CDK only an immutable view of it.
            role=self.instance_role.without_policy_updates(),
            security_group=props.security_group,
            http_tokens=ec2.LaunchTemplateHttpTokens.REQUIRED,
            http_endpoint=True,
            http_put_response_hop_limit=1,
            instance_metadata_tags=False,
            detailed_monitoring=True,
            block_devices=_block_devices(props, bottlerocket),
            instance_type=props.instance_types[0] if len(props.instance_types) == 1 and props.spot_percent == 0 else None,
        )
        """The launch template: no key pair (Session Manager instead), IMDSv2 only, encrypted gp3 volumes."""
        spot = props.spot_percent > 0
        mixed = spot or len(props.instance_types) > 1
        self.auto_scaling_group = autoscaling.AutoScalingGroup(
            self,
            "Group",
            vpc=cluster.vpc,
            vpc_subnets=props.vpc_subnets,
            min_capacity=props.min_capacity,
            max_capacity=props.max_capacity,
            launch_template=None if mixed else self.launch_template,
            mixed_instances_policy=_mixed_instances_policy(props, self.launch_template) if mixed else None,
            default_instance_warmup=props.instance_warmup,
            group_metrics=[autoscaling.GroupMetrics.all()],
            update_policy=autoscaling.UpdatePolicy.instance_refresh(
                strategy=autoscaling.InstanceRefreshStrategy.ROLLING,
                min_healthy_percentage=100,
                max_healthy_percentage=200,
                instance_warmup=props.instance_warmup,
                skip_matching=True,
                scale_in_protected_instances=autoscaling.ScaleInProtectedInstances.REFRESH,
            ),
        )
        """The group: desired capacity is ECS managed scaling's, not CloudFormation's."""
        if mixed:
            _acknowledge_mixed_instances(self.auto_scaling_group, self.launch_template)
        acknowledge(
            self.auto_scaling_group,
            "AwsSolutions-AS3",
            "ECS managed scaling drives this group: instances that cannot launch leave tasks waiting, which the "
            "CapacityProviderReservation alarm reports (OBS-2); Auto Scaling notifications to the encrypted alarm topic "
            "would need Auto Scaling's service-linked role in the topic key's policy.",
        )
        self.capacity_provider = ecs.AsgCapacityProvider(
            self,
            "Provider",
            auto_scaling_group=self.auto_scaling_group,
            capacity_provider_name=props.name,
            machine_image_type=image_type,
            enable_managed_scaling=True,
            target_capacity_percent=props.target_capacity_percent,
            instance_warmup_period=int(props.instance_warmup.to_seconds()),
            enable_managed_termination_protection=True,
            enable_managed_draining=True,
        )
        """The capacity provider (ARCH-3): managed scaling, termination protection and draining (HA-4)."""
        cluster.add_asg_capacity_provider(self.capacity_provider, machine_image_type=image_type)
        # After CDK's own lines: Bottlerocket's settings go into the [settings.ecs] table it opened.
        self._agent_settings(bottlerocket, spot)
        self.capacity_provider_name = self.capacity_provider.capacity_provider_name
        """The capacity provider's name, for capacity provider strategies."""
        self.reservation_alarm = cloudwatch.Alarm(
            self,
            "TasksWaitingForCapacity",
            metric=self.metric_capacity_provider_reservation(),
            threshold=100,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=15,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"{self.node.path}: tasks waiting for EC2 capacity for 15 minutes (CapacityProviderReservation above 100 %)",
        )
        """OBS-2: the provider needs more instances than it can get (maximum reached, no Spot, launch failures)."""
        _notify(self.reservation_alarm, props.alarm_topic)

    def _check(self, props: AsgCapacityProps) -> None:
        refuse(self, "name", check_capacity_provider_name(props.name), props.name)
        if not props.instance_types:
            raise ConstructError(self, "instance_types is empty; allowed: at least one instance type")
        architectures = sorted({_ARCHITECTURE_NAMES.get(t.architecture, str(t.architecture)) for t in props.instance_types})
        if len(architectures) > 1:
            raise ConstructError(
                self, f"instance_types mix architectures ({', '.join(architectures)}); allowed: one architecture (one AMI)"
            )
        if props.machine_image not in MACHINE_IMAGES:
            raise ConstructError(self, f"machine_image: {props.machine_image!r} is not known; allowed: {', '.join(MACHINE_IMAGES)}")
        if props.machine_image == "al2023-gpu" and architectures != ["x86_64"]:
            raise ConstructError(self, f"machine_image: 'al2023-gpu' is an x86_64 AMI; instance_types are {architectures[0]}")
        low, high = props.min_capacity, props.max_capacity
        refuse(self, "min_capacity", INSTANCES.check(low), low)
        refuse(self, "max_capacity", INSTANCES.check(high), high)
        refuse(self, "min_capacity", None if low <= high else f"{low} is above max_capacity {high}; allowed: min <= max", low, high)
        refuse(self, "on_demand_base", Range(0, high).check(props.on_demand_base), props.on_demand_base, high)
        refuse(self, "spot_percent", SPOT_PERCENT.check(props.spot_percent), props.spot_percent)
        refuse(self, "target_capacity_percent", TARGET_CAPACITY_PERCENT.check(props.target_capacity_percent), props.target_capacity_percent)
        refuse(self, "root_volume_gib", ROOT_VOLUME_GIB.check(props.root_volume_gib), props.root_volume_gib)
        warmup = props.instance_warmup.to_seconds()
        refuse(self, "instance_warmup", WARMUP_SECONDS.check(int(warmup)), warmup)
        chosen = props.vpc_subnets
        selected = props.cluster.vpc.select_subnets(
            availability_zones=chosen.availability_zones,
            one_per_az=chosen.one_per_az,
            subnet_filters=chosen.subnet_filters,
            subnet_group_name=chosen.subnet_group_name,
            subnets=chosen.subnets,
            subnet_type=chosen.subnet_type,
        )
        if selected.has_public:
            raise ConstructError(self, "vpc_subnets: the selection has public subnets; allowed: private subnets (SEC-1)")
        refuse(self, "vpc_subnets", _zones_problem(selected.availability_zones), *selected.availability_zones)

    def _grant_agent(self, cluster: ecs.ICluster) -> None:
        """What the ECS agent and Session Manager call, on this cluster and its container instances."""
        role = self.instance_role
        stack = Stack.of(self)
        container_instances = _cluster_resource(cluster, "container-instance")
        tasks = _cluster_resource(cluster, "task")
        instances = stack.format_arn(service="ec2", resource="instance", resource_name="*")
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="RegisterAndReportToThisCluster",
                actions=[
                    "ecs:RegisterContainerInstance",
                    "ecs:DeregisterContainerInstance",
                    "ecs:SubmitAttachmentStateChanges",
                    "ecs:SubmitContainerStateChange",
                    "ecs:SubmitTaskStateChange",
                ],
                resources=[cluster.cluster_arn],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="PollAsThisClustersContainerInstances",
                actions=["ecs:Poll", "ecs:StartTelemetrySession", "ecs:UpdateContainerInstancesState"],
                resources=[container_instances],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadTagsOfThisClustersTasks", actions=["ecs:ListTagsForResource"], resources=[container_instances, tasks]
            )
        )
        role.add_to_principal_policy(iam.PolicyStatement(sid="FindThePollEndpoint", actions=["ecs:DiscoverPollEndpoint"], resources=["*"]))
        # Session Manager (no SSH key): the agent's heartbeat names the instance; the channels have no resource.
        role.add_to_principal_policy(
            iam.PolicyStatement(sid="SessionManagerHeartbeat", actions=["ssm:UpdateInstanceInformation"], resources=[instances])
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="SessionManagerChannels",
                actions=[
                    "ssmmessages:CreateControlChannel",
                    "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel",
                    "ssmmessages:OpenDataChannel",
                ],
                resources=["*"],
            )
        )
        _acknowledge_patterns(
            role,
            {
                container_instances: "The container instances of this cluster only (their IDs are ECS's): the agent polls, "
                "reports telemetry and reads tags as its own instance.",
                tasks: "The tasks of this cluster only (their IDs are ECS's): the agent reads their tags.",
                instances: "ssm:UpdateInstanceInformation names the instance itself, whose ID is not known before launch; "
                "limited to this account and region.",
            },
        )

    def _agent_settings(self, bottlerocket: bool, spot: bool) -> None:
        """Block awsvpc tasks from IMDS (and drain Spot instances on their interruption notice)."""
        user_data = self.launch_template.user_data
        assert user_data is not None
        if bottlerocket:
            user_data.add_commands("awsvpc-block-imds = true", *(["enable-spot-instance-draining = true"] if spot else []))
            return
        user_data.add_commands(
            "echo ECS_AWSVPC_BLOCK_IMDS=true >> /etc/ecs/ecs.config",
            *(["echo ECS_ENABLE_SPOT_INSTANCE_DRAINING=true >> /etc/ecs/ecs.config"] if spot else []),
        )

    def metric_capacity_provider_reservation(self) -> cloudwatch.Metric:
        """Instances the tasks need over instances running, in percent: above 100 means tasks wait for capacity."""
        return cloudwatch.Metric(
            namespace=MANAGED_SCALING_NAMESPACE,
            metric_name="CapacityProviderReservation",
            dimensions_map={
                "ClusterName": self._cluster.cluster_name,
                "CapacityProviderName": self.capacity_provider.capacity_provider_name,
            },
            statistic="Minimum",
            period=Duration.minutes(1),
        )


def _machine_image(kind: str, architecture: ec2.InstanceArchitecture) -> tuple[ec2.IMachineImage, ecs.MachineImageType]:
    """The ECS-optimized AMI (an SSM parameter CloudFormation resolves at deploy) and how CDK configures it."""
    if kind == "bottlerocket":
        return ecs.BottleRocketImage(
            variant=ecs.BottlerocketEcsVariant.AWS_ECS_2, architecture=architecture
        ), ecs.MachineImageType.BOTTLEROCKET
    if kind == "al2023-gpu":
        hardware = ecs.AmiHardwareType.GPU
    else:
        hardware = ecs.AmiHardwareType.ARM if architecture == ec2.InstanceArchitecture.ARM_64 else ecs.AmiHardwareType.STANDARD
    return ecs.EcsOptimizedImage.amazon_linux2023(hardware), ecs.MachineImageType.AMAZON_LINUX_2


def _mixed_instances_policy(props: AsgCapacityProps, launch_template: ec2.LaunchTemplate) -> autoscaling.MixedInstancesPolicy:
    """Several instance types (On-Demand in the given order), or a Spot share above the On-Demand base."""
    return autoscaling.MixedInstancesPolicy(
        launch_template=launch_template,
        launch_template_overrides=[autoscaling.LaunchTemplateOverrides(instance_type=t) for t in props.instance_types],
        instances_distribution=autoscaling.InstancesDistribution(
            on_demand_allocation_strategy=autoscaling.OnDemandAllocationStrategy.PRIORITIZED,
            on_demand_base_capacity=props.on_demand_base,
            on_demand_percentage_above_base_capacity=100 - props.spot_percent,
            # Pools with the most spare capacity first, then the cheapest of them: fewer interruptions
            # than lowest-price, and cheaper than capacity-optimized, which ignores price.
            spot_allocation_strategy=autoscaling.SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED if props.spot_percent else None,
        ),
    )


def _acknowledge_mixed_instances(group: autoscaling.AutoScalingGroup, launch_template: ec2.LaunchTemplate) -> None:
    """cdk-nag finds a group's launch template only in its LaunchTemplate property, not in a MixedInstancesPolicy."""
    where = f"this group's launch template ({launch_template.node.path}), named in its MixedInstancesPolicy, which cdk-nag does not read"
    acknowledge(group, "AwsSolutions-EC26", f"Every volume is encrypted with the customer-managed key by {where}.")
    acknowledge_rule(group, "EC2IMDSv2Enabled", f"IMDSv2 is required (HttpTokens required, hop limit 1) by {where}.", packs=(NIST, HIPAA))


def _block_devices(props: AsgCapacityProps, bottlerocket: bool) -> list[ec2.BlockDevice]:
    def volume(size: int) -> ec2.BlockDeviceVolume:
        return ec2.BlockDeviceVolume.ebs(
            size, encrypted=True, kms_key=props.key, volume_type=ec2.EbsDeviceVolumeType.GP3, delete_on_termination=True
        )

    if not bottlerocket:
        return [ec2.BlockDevice(device_name="/dev/xvda", volume=volume(props.root_volume_gib))]
    return [
        ec2.BlockDevice(device_name="/dev/xvda", volume=volume(_BOTTLEROCKET_OS_VOLUME_GIB)),
        ec2.BlockDevice(device_name="/dev/xvdb", volume=volume(props.root_volume_gib)),
    ]


def _grant_ebs_key_to_auto_scaling(key: kms.IKey) -> None:
    """The two key policy statements AWS documents for Auto Scaling launching instances with volumes encrypted by a
    customer-managed key: its service-linked role may use the key, and create grants for the AWS resources (the
    volumes) it launches. Both only through EC2 (``kms:ViaService``), which is how EBS uses the key. The role
    ``AWSServiceRoleForAutoScaling`` must exist before the key policy names it (Auto Scaling creates it with the
    account's first group). Idempotent; a no-op for an imported key."""
    if key.node.try_find_child("AllowAutoScalingEbs") is not None:
        return
    if isinstance(key, Construct):
        Construct(key, "AllowAutoScalingEbs")  # marks the key as done
    stack = Stack.of(key)
    auto_scaling = iam.ArnPrincipal(
        stack.format_arn(
            service="iam",
            region="",
            resource="role",
            resource_name="aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
        )
    )
    through_ec2 = {"kms:ViaService": f"ec2.{stack.region}.amazonaws.com"}
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowAutoScalingToUseTheKeyForEbs",
            principals=[auto_scaling],
            actions=list(_EBS_KEY_USE),
            resources=["*"],
            conditions={"StringEquals": through_ec2},
        )
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowAutoScalingToGrantTheKeyToEbs",
            principals=[auto_scaling],
            actions=["kms:CreateGrant"],
            resources=["*"],
            conditions={"Bool": {"kms:GrantIsForAWSResource": True}, "StringEquals": through_ec2},
        )
    )


def _notify(alarm: cloudwatch.Alarm, topic: sns.ITopic | None) -> None:
    if topic is not None:
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
        return
    acknowledge_rule(
        alarm,
        "CloudWatchAlarmAction",
        "No alarm topic was given: the alarm shows in the CloudWatch console and dashboards; pass alarm_topic to be notified.",
        packs=(NIST, HIPAA),
    )


# --- ECS Managed Instances -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class InstanceRequirements:
    """What an instance ECS Managed Instances launches must have; ECS picks the instance types that fit."""

    vcpu_min: int
    """Fewest vCPUs."""
    memory_min_mib: int
    """Least memory, in MiB."""
    vcpu_max: int | None = None
    """Most vCPUs. Default: no upper bound."""
    memory_max_mib: int | None = None
    """Most memory, in MiB. Default: no upper bound."""
    gpus: int = 0
    """NVIDIA GPUs an instance has at least; 0 leaves out every instance with an accelerator. Default: 0."""


@dataclass(frozen=True, kw_only=True)
class ManagedInstancesCapacityProps:
    cluster: ecs.ICluster
    """The cluster the capacity provider belongs to (it is created for this cluster only)."""
    name: str
    """Name of the capacity provider (what a service's capacity provider strategy names)."""
    subnets: Sequence[ec2.ISubnet]
    """Private subnets the instances are launched in, in at least two AZs (HA-2)."""
    security_group: ec2.ISecurityGroup
    """Security group of the instances."""
    instance_requirements: InstanceRequirements
    """vCPU and memory ranges (and GPUs) of the instances."""
    capacity_option: CapacityOption = "on-demand"
    """``on-demand`` or ``spot`` instances. Default: on-demand."""
    permissions_boundary: iam.IManagedPolicy | None = None
    """Permissions boundary of the infrastructure role and the instance role. Default: none."""


class ManagedInstancesCapacity(Construct):
    """An ECS Managed Instances capacity provider of the cluster (ARCH-2, ARCH-3, HA-2).

    AWS chooses instance types from the requirements, launches instances in the given subnets, patches
    and replaces them; ECS does that with the infrastructure role, which may only launch and tag what ECS
    marks ``AmazonECSManaged``, in the given subnets and security group, and pass the one instance role.
    The instance role lets the ECS agent register with this cluster only. Neither carries an AWS managed
    policy (IAM-8). Left out of ``AmazonECSInfrastructureRolePolicyForManagedInstances``: the resource group,
    tag and CloudFormation reads, used for capacity reservations in resource groups, which this construct
    does not configure.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: ManagedInstancesCapacityProps) -> None:
        super().__init__(scope, construct_id)
        cluster = props.cluster
        self._check(props)
        spot = props.capacity_option == "spot"
        self.instance_role = _instance_role(self, f"ECS Managed Instances of capacity provider {props.name}", props.permissions_boundary)
        """The role of the instances: the ECS agent on this cluster."""
        self._grant_agent(cluster)
        self.instance_profile = iam.InstanceProfile(self, "InstanceProfile", role=self.instance_role)
        """The instance profile ECS launches the instances with."""
        self.infrastructure_role = ScopedRole(
            self,
            "InfrastructureRole",
            props=ScopedRoleProps(
                assumed_by=service_principal("ecs.amazonaws.com", scope=self),
                description=f"ECS launches and manages the instances of capacity provider {props.name}",
                permissions_boundary=props.permissions_boundary,
            ),
        )
        """The role ECS assumes to launch, tag and replace the instances."""
        self._grant_infrastructure(props, spot)
        requirements = props.instance_requirements
        self.capacity_provider = ecs.ManagedInstancesCapacityProvider(
            self,
            "Provider",
            capacity_provider_name=props.name,
            infrastructure_role=self.infrastructure_role,
            ec2_instance_profile=self.instance_profile,
            subnets=list(props.subnets),
            security_groups=[props.security_group],
            capacity_option_type=ecs.CapacityOptionType.SPOT if spot else ecs.CapacityOptionType.ON_DEMAND,
            instance_requirements=_instance_requirements(requirements),
            monitoring=ecs.InstanceMonitoring.DETAILED,
            propagate_tags=ecs.PropagateManagedInstancesTags.CAPACITY_PROVIDER,
        )
        """The capacity provider, created for this cluster (ARCH-3)."""
        for role in (self.instance_role, self.infrastructure_role):
            if role.scoped_policy is not None:
                self.capacity_provider.node.add_dependency(role.scoped_policy)
        if isinstance(cluster, ecs.Cluster):
            cluster.add_managed_instances_capacity_provider(self.capacity_provider)
        else:
            self.capacity_provider.bind(cluster)
        self.capacity_provider_name = self.capacity_provider.capacity_provider_name
        """The capacity provider's name, for capacity provider strategies."""

    def _check(self, props: ManagedInstancesCapacityProps) -> None:
        refuse(self, "name", check_capacity_provider_name(props.name), props.name)
        if props.capacity_option not in ("on-demand", "spot"):
            raise ConstructError(self, f"capacity_option: {props.capacity_option!r} is not known; allowed: on-demand, spot")
        if not props.subnets:
            raise ConstructError(self, "subnets is empty; allowed: private subnets in two or more AZs (HA-2)")
        zones = [_zone(subnet) for subnet in props.subnets]
        if None not in zones:
            refuse(self, "subnets", _zones_problem([z for z in zones if z is not None]), *zones)
        r = props.instance_requirements
        refuse(self, "instance_requirements.vcpu_min", Range(1, 1_024).check(r.vcpu_min), r.vcpu_min)
        refuse(self, "instance_requirements.memory_min_mib", Range(1, 25_165_824).check(r.memory_min_mib), r.memory_min_mib)
        if r.vcpu_max is not None and r.vcpu_max < r.vcpu_min:
            raise ConstructError(self, f"instance_requirements.vcpu_max: {r.vcpu_max} is below vcpu_min {r.vcpu_min}; allowed: min <= max")
        if r.memory_max_mib is not None and r.memory_max_mib < r.memory_min_mib:
            raise ConstructError(
                self,
                f"instance_requirements.memory_max_mib: {r.memory_max_mib} is below memory_min_mib {r.memory_min_mib}; allowed: min <= max",
            )
        refuse(self, "instance_requirements.gpus", Range(0, 16).check(r.gpus), r.gpus)

    def _grant_agent(self, cluster: ecs.ICluster) -> None:
        """``AmazonECSInstanceRolePolicyForManagedInstances``, scoped to this cluster."""
        role = self.instance_role
        container_instances = _cluster_resource(cluster, "container-instance")
        task_sets = _cluster_resource(cluster, "task-set")
        role.add_to_principal_policy(iam.PolicyStatement(sid="FindThePollEndpoint", actions=["ecs:DiscoverPollEndpoint"], resources=["*"]))
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="RegisterAndReportToThisCluster",
                actions=["ecs:RegisterContainerInstance", "ecs:SubmitAttachmentStateChanges", "ecs:SubmitTaskStateChange"],
                resources=[cluster.cluster_arn],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="PollAsThisClustersContainerInstances", actions=["ecs:Poll"], resources=[container_instances, task_sets]
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(sid="Telemetry", actions=["ecs:StartTelemetrySession"], resources=[container_instances])
        )
        # The Service Authorization Reference names the cluster and the container instance for system logs.
        role.add_to_principal_policy(
            iam.PolicyStatement(sid="SystemLogs", actions=["ecs:PutSystemLogEvents"], resources=[cluster.cluster_arn, container_instances])
        )
        _acknowledge_patterns(
            role,
            {
                container_instances: "The container instances of this cluster only (their IDs are ECS's): the agent polls and "
                "reports telemetry and system logs as its own instance.",
                task_sets: "The task sets of this cluster only (their IDs are ECS's): the agent polls for them.",
            },
        )

    def _grant_infrastructure(self, props: ManagedInstancesCapacityProps, spot: bool) -> None:
        """``AmazonECSInfrastructureRolePolicyForManagedInstances``, in this account and region, in the given subnets
        and security group, passing only this instance role."""
        role = self.infrastructure_role
        stack = Stack.of(self)

        def ec2_arn(kind: str, name: str = "*", account: str | None = None) -> str:
            return stack.format_arn(service="ec2", resource=kind, resource_name=name, account=account)

        launch_templates, fleets, instances, interfaces, volumes = (
            ec2_arn(kind) for kind in ("launch-template", "fleet", "instance", "network-interface", "volume")
        )
        images = ec2_arn("image", account="")
        network = [ec2_arn("subnet", s.subnet_id) for s in props.subnets] + [
            ec2_arn("security-group", props.security_group.security_group_id)
        ]
        created_by_ecs = {"StringEquals": {"aws:RequestTag/AmazonECSManaged": "true"}}
        statements = [
            iam.PolicyStatement(
                sid="CreateLaunchTemplatesMarkedForEcs",
                actions=["ec2:CreateLaunchTemplate"],
                resources=[launch_templates],
                conditions=created_by_ecs,
            ),
            iam.PolicyStatement(
                sid="ChangeLaunchTemplatesEcsOperates",
                actions=["ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate"],
                resources=[launch_templates],
                conditions={"StringEquals": {"ec2:ManagedResourceOperator": "ecs.amazonaws.com"}},
            ),
            iam.PolicyStatement(
                sid="CreateFleetsMarkedForEcs",
                actions=["ec2:CreateFleet"],
                resources=[fleets, instances, interfaces, launch_templates, volumes],
                conditions=created_by_ecs,
            ),
            iam.PolicyStatement(sid="CreateFleetsInTheGivenNetwork", actions=["ec2:CreateFleet"], resources=[*network, images]),
            iam.PolicyStatement(
                sid="RunInstancesMarkedForEcs",
                actions=["ec2:RunInstances"],
                resources=[instances, volumes, interfaces],
                conditions=created_by_ecs,
            ),
            iam.PolicyStatement(
                sid="RunInstancesFromEcsLaunchTemplates",
                actions=["ec2:RunInstances"],
                resources=[launch_templates],
                conditions={"StringEquals": {"ec2:ResourceTag/AmazonECSManaged": "true"}},
            ),
            iam.PolicyStatement(sid="RunInstancesInTheGivenNetwork", actions=["ec2:RunInstances"], resources=[*network, images]),
            iam.PolicyStatement(
                sid="TagWhatEcsCreates",
                actions=["ec2:CreateTags"],
                resources=[fleets, launch_templates, interfaces, instances, volumes],
                conditions={"StringEquals": {"ec2:CreateAction": ["CreateFleet", "CreateLaunchTemplate", "RunInstances"]}},
            ),
            iam.PolicyStatement(
                sid="PassTheInstanceRole",
                actions=["iam:PassRole"],
                resources=[self.instance_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
            ),
            iam.PolicyStatement(sid="DescribeEc2", actions=list(MANAGED_INSTANCES_DESCRIBE_ACTIONS), resources=["*"]),
        ]
        if spot:
            statements.append(
                iam.PolicyStatement(
                    sid="CreateTheSpotServiceLinkedRole",
                    actions=["iam:CreateServiceLinkedRole"],
                    resources=[
                        stack.format_arn(
                            service="iam",
                            region="",
                            resource="role",
                            resource_name="aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot",
                        )
                    ],
                    conditions={"StringEquals": {"iam:AWSServiceName": "spot.amazonaws.com"}},
                )
            )
        for statement in statements:
            role.add_to_principal_policy(statement)
        ecs_ids = "whose IDs EC2 assigns at launch; only with the AmazonECSManaged tag ECS sets (or on what ECS operates), "
        _acknowledge_patterns(
            role,
            {
                launch_templates: "ECS's launch templates, " + ecs_ids + "in this account and region.",
                fleets: "ECS's EC2 fleets, " + ecs_ids + "in this account and region.",
                instances: "The instances ECS launches, " + ecs_ids + "in this account and region.",
                interfaces: "The network interfaces of the instances ECS launches, " + ecs_ids + "in this account and region.",
                volumes: "The volumes of the instances ECS launches, " + ecs_ids + "in this account and region.",
                images: "The AMI is AWS's (ECS Managed Instances chooses and patches it), so its ID is not known here; "
                "instances only launch in the given subnets and security group.",
            },
        )


def _zone(subnet: ec2.ISubnet) -> str | None:
    """The subnet's AZ, or None when it is not known (a subnet imported by ID alone raises on access)."""
    try:
        zone: str = subnet.availability_zone
    except RuntimeError:
        return None
    return zone


def _instance_requirements(r: InstanceRequirements) -> ec2.InstanceRequirementsConfig:
    gpu = r.gpus > 0
    return ec2.InstanceRequirementsConfig(
        v_cpu_count_min=r.vcpu_min,
        v_cpu_count_max=r.vcpu_max,
        memory_min=Size.mebibytes(r.memory_min_mib),
        memory_max=Size.mebibytes(r.memory_max_mib) if r.memory_max_mib is not None else None,
        accelerator_count_min=r.gpus if gpu else None,
        accelerator_count_max=None if gpu else 0,
        accelerator_types=[ec2.AcceleratorType.GPU] if gpu else None,
        accelerator_manufacturers=[ec2.AcceleratorManufacturer.NVIDIA] if gpu else None,
    )


# --- Cluster alarms --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ClusterReservationAlarmsProps:
    cluster: ecs.ICluster
    """The cluster whose EC2 capacity is watched (Fargate tasks do not count in these metrics)."""
    cpu_reservation_percent: int = 90
    """Alarm when the tasks reserve more of the instances' CPU than this, for 15 minutes. Default: 90."""
    memory_reservation_percent: int = 90
    """Alarm when the tasks reserve more of the instances' memory than this, for 15 minutes. Default: 90."""
    alarm_topic: sns.ITopic | None = None
    """Where the alarms notify. Default: no action (console only)."""


class ClusterReservationAlarms(Construct):
    """OBS-2: the cluster's CPUReservation and MemoryReservation (AWS/ECS) staying high, one alarm each:
    the EC2 capacity is nearly full, so new tasks soon wait for instances (or managed scaling is held back
    by the groups' maximum)."""

    def __init__(self, scope: Construct, construct_id: str, *, props: ClusterReservationAlarmsProps) -> None:
        super().__init__(scope, construct_id)
        self._cluster = props.cluster
        self.alarms: list[cloudwatch.Alarm] = []
        """The CPU and memory reservation alarms."""
        for construct_id_, metric_name, field, threshold in (
            ("CpuReservationHigh", "CPUReservation", "cpu_reservation_percent", props.cpu_reservation_percent),
            ("MemoryReservationHigh", "MemoryReservation", "memory_reservation_percent", props.memory_reservation_percent),
        ):
            refuse(self, field, PERCENT.check(threshold), threshold)
            alarm = cloudwatch.Alarm(
                self,
                construct_id_,
                metric=self.metric(metric_name),
                threshold=threshold,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=3,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=f"{self.node.path}: {metric_name} above {threshold} % for 15 minutes",
            )
            _notify(alarm, props.alarm_topic)
            self.alarms.append(alarm)

    def metric(self, metric_name: str) -> cloudwatch.Metric:
        """An AWS/ECS metric of the cluster (``CPUReservation``, ``MemoryReservation``), average over 5 minutes."""
        return cloudwatch.Metric(
            namespace="AWS/ECS",
            metric_name=metric_name,
            dimensions_map={"ClusterName": self._cluster.cluster_name},
            statistic="Average",
            period=Duration.minutes(5),
        )


def _instance_role(scope: Construct, description: str, permissions_boundary: iam.IManagedPolicy | None) -> ScopedRole:
    """The role EC2 instances of a capacity provider assume (the ECS agent's grants are added by the provider)."""
    return ScopedRole(
        scope,
        "InstanceRole",
        props=ScopedRoleProps(
            assumed_by=service_principal("ec2.amazonaws.com", scope=scope),
            description=description,
            permissions_boundary=permissions_boundary,
        ),
    )
