"""The declarative spec: what a platform team writes, as plain data.

Models reject unknown keys and coerce nothing (``strict``): a YAML ``"256"`` is not the
integer 256. Field-local checks live in validators here; checks that span fields (CPU and
memory pairs, unique names, certificates) live in :mod:`ecs_platform.spec.checks`, so
every problem is reported with its path, all at once.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Discriminator, Field, Tag, model_validator

from ecs_platform import limits
from ecs_platform.integrations import check_secret_value_from
from ecs_platform.spec.access import AccessEntry
from ecs_platform.spec.base import AbsolutePath, EnvName, Family, Name, Port, Tags, _check, _Model, _pattern, _range, _rule
from ecs_platform.spec.storage import StoreSpec, TopicSpec
from ecs_platform.spec.workload_options import Cidr, EgressRuleSpec, LogRoutingSpec, OverridesSpec, VolumeSpec

#: Environment variable names that look like secrets: those belong in ``secrets:`` (SEC-4).
SECRET_LOOKING = re.compile(r"PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|(^|_)KEY($|_)", re.IGNORECASE)


def _no_secret_looking_names(env: dict[str, str]) -> dict[str, str]:
    bad = sorted(name for name in env if SECRET_LOOKING.search(name))
    if bad:
        subject = f"{bad[0]} looks like a secret" if len(bad) == 1 else f"{', '.join(bad)} look like secrets"
        raise ValueError(
            f"{subject} and would be stored in plain text in the task definition; "
            "allowed: put them under the container's 'secrets:' (Secrets Manager or SSM Parameter Store, SEC-4/SEC-5)"
        )
    return env


class EnvironmentSpec(_Model):
    """Where the platform is deployed."""

    name: Name = Field(description="Environment name, e.g. dev or prod; used in stage and stack names.")
    production: bool = Field(
        default=False,
        description="Production keeps stateful resources on delete and turns on deletion protection. Default: false.",
    )
    account: Annotated[str, _pattern(r"\d{12}", "12 digits")] | None = Field(
        default=None, description="AWS account ID. Default: the account of the CLI's credentials at deploy time."
    )
    region: Annotated[str, _pattern(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d", "a region name such as ap-northeast-1")] = Field(
        default="ap-northeast-1", description="AWS region. Default: ap-northeast-1."
    )
    availability_zones: Annotated[
        list[Annotated[str, _pattern(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d[a-z]", "an AZ name such as ap-northeast-1a")]],
        _check(lambda zones: limits.check_availability_zone_count(len(zones))),
        Field(json_schema_extra={"minItems": limits.AVAILABILITY_ZONES.low, "maxItems": limits.AVAILABILITY_ZONES.high}),
    ] = Field(
        description="AZ names the VPC spans (at least two, HA-2). Naming them avoids an AWS lookup at synthesis.",
        examples=[["ap-northeast-1a", "ap-northeast-1c"]],
    )


class EnvironmentEntry(EnvironmentSpec):
    """One environment of ``environments:``: where it is deployed, and what it changes of the shared settings."""

    overrides: dict[str, Any] = Field(
        default_factory=dict,
        description="The shared settings this environment changes, written like the spec; a list of named entries "
        "(services, jobs, workers, load_balancers, containers) as a mapping from the name to the fields that change, "
        "e.g. {services: {api: {desired_count: 1}}}. Default: none.",
    )


SubnetIds = Annotated[
    list[Annotated[str, _pattern(r"subnet-[0-9a-f]{8,17}", "a subnet ID such as subnet-0123456789abcdef0")]],
    Field(min_length=2, max_length=6),
]


RouteTableId = Annotated[str, _pattern(r"rtb-[0-9a-f]{8,17}", "a route table ID such as rtb-0123456789abcdef0")]


class ExistingVpcSpec(_Model):
    """A VPC someone else owns, by ID, with a subnet per availability zone (in environment.availability_zones' order)
    for each subnet class: SEC-1 still holds, so the classes may not share a subnet."""

    vpc_id: Annotated[str, _pattern(r"vpc-[0-9a-f]{8,17}", "a VPC ID such as vpc-0123456789abcdef0")] = Field(description="Required.")
    cidr: Annotated[str, _check(limits.check_vpc_cidr)] = Field(description="The VPC's IPv4 CIDR. Required.")
    public_subnet_ids: SubnetIds = Field(description="Public subnets (load balancers), one per AZ. Required.")
    web_subnet_ids: SubnetIds = Field(description="Private subnets of web tasks, one per AZ. Required.")
    batch_subnet_ids: SubnetIds = Field(description="Private subnets of batch tasks, one per AZ. Required.")
    web_route_table_ids: list[RouteTableId] = Field(
        default_factory=list,
        description="Route tables of the web subnets, in order (for gateway endpoints: s3). Default: none.",
    )
    batch_route_table_ids: list[RouteTableId] = Field(
        default_factory=list, description="Route tables of the batch subnets, in their order. Default: none."
    )


class NetworkSpec(_Model):
    """The VPC: public subnets for load balancers, private subnets for web and for batch tasks (SEC-1)."""

    cidr: Annotated[str, _check(limits.check_vpc_cidr)] = Field(
        default="10.0.0.0/16", description="IPv4 CIDR of the VPC, /16 to /20. Default: 10.0.0.0/16."
    )
    nat_gateways: int | None = Field(
        default=None,
        description="NAT gateways for private-subnet egress. Default: one per AZ in production, 1 otherwise.",
    )
    existing: ExistingVpcSpec | None = Field(
        default=None, description="Use this VPC and its subnets instead of creating one (cidr and nat_gateways do not apply). Default: new."
    )
    endpoints: list[Literal[limits.VPC_ENDPOINTS]] = Field(  # type: ignore[valid-type]
        default_factory=list,
        description="VPC endpoints in the private subnets, so AWS API traffic stays off NAT: "
        f"{', '.join(limits.VPC_ENDPOINTS)} (ecr: the API and Docker endpoints; s3: a gateway). Default: none.",
    )
    batch_nat: bool = Field(
        default=True,
        description="false: the batch subnets have no route to a NAT gateway (jobs reach AWS through the endpoints, which must "
        "include ecr, logs and s3). Default: true.",
    )


class ClusterSpec(_Model):
    name: str | None = Field(
        default=None, description="Value of the cluster's Name tag (CLI-4). Default: '<app>-<environment>'.", examples=["MyCluster"]
    )


class LogsSpec(_Model):
    retention_days: Annotated[int, _check(limits.check_log_retention)] = Field(
        default=365, description="Retention of every log group the platform creates, in days. Default: 365."
    )


class SecretRef(_Model):
    """A container secret: exactly one source."""

    secrets_manager: Annotated[str, _check(check_secret_value_from)] | None = Field(
        default=None,
        description="Secrets Manager secret: its full ARN, optionally with ECS's ':json-key:version-stage:version-id' "
        "(e.g. arn:aws:secretsmanager:...:secret:db-AbCdEf:password::).",
    )
    ssm_parameter: str | None = Field(default=None, description="SSM parameter name (/path/name) or ARN.")
    kms_key: str | None = Field(
        default=None, description="ARN of the customer-managed key encrypting it: the execution role gets kms:Decrypt (IAM-3/4)."
    )

    @model_validator(mode="after")
    def _exactly_one_source(self) -> SecretRef:
        if (self.secrets_manager is None) == (self.ssm_parameter is None):
            given = "both" if self.secrets_manager is not None else "neither"
            raise ValueError(
                f"{given} of secrets_manager and ssm_parameter given; allowed: exactly one, "
                "'secrets_manager' (a secret ARN) or 'ssm_parameter' (a parameter name)"
            )
        return self


class ContainerHealthCheckSpec(_Model):
    """A container health check (BP-2), for images that ship one."""

    command: list[str] = Field(min_length=1, description='e.g. ["CMD-SHELL", "curl -f http://localhost/ || exit 1"].')
    interval_seconds: Annotated[int, *_range(5, 300)] | None = Field(default=None, description="Default: 30 (ECS's).")
    timeout_seconds: Annotated[int, *_range(2, 60)] | None = Field(default=None, description="Default: 5 (ECS's).")
    retries: Annotated[int, *_range(1, 10)] | None = Field(default=None, description="Default: 3 (ECS's).")
    start_period_seconds: Annotated[int, *_range(0, 300)] | None = Field(default=None, description="Default: none (ECS's).")


ImageTag = Annotated[
    str,
    _pattern(
        r"sha256:[0-9a-f]{64}|(?!sha256:)[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}",
        "a tag (letters, digits, '_', '.', '-'; at most 128) or a digest sha256:<64 hex digits>",
    ),
]
RepositoryName = Annotated[
    str,
    _pattern(
        r"(?=.{2,256}$)(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*",
        "an ECR repository name: 2-256 lowercase letters, digits and . _ - in /-separated parts, e.g. shop/api",
    ),
]
RelativePath = Annotated[str, _pattern(r"[^\0]{1,1024}", "a path relative to the spec file, e.g. ./app")]


class BuildImageSpec(_Model):
    """An image built from source: the CDK CLI builds it at deploy (Docker needed there, not for synthesis) and
    publishes it to the account's CDK assets repository; the task definition names it by content hash."""

    build: RelativePath = Field(description="The build context directory, relative to the spec file, e.g. ./app.")
    dockerfile: RelativePath | None = Field(default=None, description="The Dockerfile, relative to build. Default: Dockerfile.")
    target: Annotated[str, _pattern(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}", "a build stage name")] | None = Field(
        default=None, description="Build stage of a multi-stage Dockerfile. Default: the last."
    )
    build_args: dict[Annotated[str, _pattern(r"[A-Za-z_][A-Za-z0-9_]{0,127}", "a build argument name")], str] = Field(
        default_factory=dict, description="--build-arg values (not for secrets: they stay in the image's history). Default: none."
    )
    tag: ImageTag | None = Field(
        default=None,
        description="Skip the build and run the image an earlier build published under this tag in the CDK assets "
        "repository (usually given as -c image_tag:<workload>=<tag>). Default: build.",
    )


class RepositoryImageSpec(_Model):
    """An image of a repository the platform owns (created, encrypted and scanned by the shared images stack);
    CI pushes to it and rolls out a tag with -c image_tag=... (or image_tag:<workload>=...) without a spec edit."""

    repository: RepositoryName = Field(description="Repository name, e.g. shop/api (created by the platform).")
    tag: ImageTag | None = Field(
        default=None,
        description="Tag or digest (sha256:..., recommended: immutable). Default: -c image_tag:<workload>=... or -c image_tag=...; "
        "one of them is required.",
    )


def _image_form(value: Any) -> str | None:
    """Which form of image a value is written in: a reference (a string), ``{build: ...}`` or ``{repository: ...}``."""
    if isinstance(value, str):
        return "reference"
    if isinstance(value, BuildImageSpec | RepositoryImageSpec):  # serializing a validated spec
        return "build" if isinstance(value, BuildImageSpec) else "repository"
    if isinstance(value, dict):
        return "build" if "build" in value else "repository" if "repository" in value else None
    return None


Image = Annotated[
    Annotated[str, _pattern(r"[^\s]{1,1024}", "an image reference without spaces, e.g. nginx:1.27 or an ECR URI"), Tag("reference")]
    | Annotated[BuildImageSpec, Tag("build")]
    | Annotated[RepositoryImageSpec, Tag("repository")],
    Discriminator(
        _image_form,
        custom_error_type="image_form",
        custom_error_message="allowed: an image reference (nginx:1.27), {build: ./dir} or {repository: name, tag: ...}",
    ),
]


class RangeSpec(_Model):
    """A range of a Managed Instances requirement."""

    min: Annotated[int, *_range(0, 1_000_000)] = Field(description="Lowest.")
    max: Annotated[int, *_range(1, 1_000_000)] | None = Field(default=None, description="Highest. Default: no upper bound.")


class CapacityProviderSpec(_Model):
    """EC2 capacity for the cluster, next to Fargate (ARCH-2, ARCH-3, HA-4): an Auto Scaling group the capacity
    provider scales (asg), or ECS Managed Instances, which AWS provisions and patches (managed_instances)."""

    name: Name = Field(description="Name workloads name in capacity; the provider is <app>-<env>-<name>.")
    type: Literal["asg", "managed_instances"] = Field(default="asg", description="Default: asg.")
    instance_types: list[Annotated[str, _pattern(r"[a-z][a-z0-9-]*\.[a-z0-9]+", "an instance type such as m7i.large")]] = Field(
        default_factory=list, description="asg: instance types, the first the launch template's (at least one). Default: none."
    )
    vcpus: RangeSpec | None = Field(default=None, description="managed_instances: vCPUs of the instances (required there).")
    memory_gib: RangeSpec | None = Field(default=None, description="managed_instances: memory of the instances in GiB (required there).")
    min_count: Annotated[int, *_rule(limits.INSTANCE_COUNT)] = Field(default=0, description="asg: fewest instances. Default: 0.")
    max_count: Annotated[int, *_rule(limits.INSTANCE_COUNT)] = Field(default=10, description="asg: most instances (LIM-3). Default: 10.")
    on_demand_base: Annotated[int, *_rule(limits.INSTANCE_COUNT)] = Field(
        default=0, description="asg: instances that are always On-Demand before any Spot. Default: 0."
    )
    spot_percent: Annotated[int, *_range(0, 100)] = Field(
        default=0, description="asg: share of the instances above the base that are Spot (capacity-optimized). Default: 0."
    )
    spot: bool = Field(default=False, description="managed_instances: Spot instead of On-Demand. Default: false.")
    image: Literal["al2023", "al2023-gpu", "bottlerocket"] = Field(
        default="al2023", description="asg: the ECS-optimized AMI (its public SSM parameter). Default: al2023."
    )
    subnets: Literal["web", "batch"] = Field(default="web", description="The private subnets of the instances (SEC-1). Default: web.")
    root_volume_gib: Annotated[int, *_range(20, 16384)] = Field(default=30, description="asg: encrypted gp3 root volume. Default: 30.")
    target_capacity_percent: Annotated[int, *_range(1, 100)] = Field(
        default=100, description="asg: managed scaling's target use of the instances (HA-4). Default: 100."
    )

    @model_validator(mode="after")
    def _consistent(self) -> CapacityProviderSpec:
        if self.min_count > self.max_count:
            raise ValueError(f"min_count {self.min_count} is above max_count {self.max_count}; allowed: min_count <= max_count")
        if self.type == "asg" and not self.instance_types:
            raise ValueError("an asg provider names no instance type; allowed: instance_types: [m7i.large, ...]")
        if self.type == "managed_instances" and (self.vcpus is None or self.memory_gib is None):
            raise ValueError("managed_instances needs vcpus and memory_gib ranges; allowed: vcpus: {min: 2}, memory_gib: {min: 4}")
        return self


class SlackSpec(_Model):
    """An AWS Chatbot Slack channel (the workspace authorized once in the Chatbot console)."""

    workspace_id: Annotated[str, _pattern(r"T[A-Z0-9]{2,20}", "a Slack workspace ID such as T0123ABCD")] = Field(
        description="The Slack workspace ID, such as T0123ABCD (the AWS Chatbot console shows it once the workspace is authorized)."
    )
    channel_id: Annotated[str, _pattern(r"[CG][A-Z0-9]{2,20}", "a Slack channel ID such as C0123ABCD")] = Field(
        description="The channel ID, such as C0123ABCD (the last part of the channel's link)."
    )


class NotificationsSpec(_Model):
    """Who hears of alarms and failed job runs: subscribed to the alarm topic and the job-failure topic (OBS-2)."""

    email: list[Annotated[str, _pattern(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", "an email address such as ops@example.com")]] = Field(
        default_factory=list, description="Email addresses (each confirms the subscription). Default: none."
    )
    https: list[Annotated[str, _pattern(r"https://[^\s]{3,2000}", "an https:// URL")]] = Field(
        default_factory=list, description="HTTPS endpoints (they confirm the subscription). Default: none."
    )
    sqs: list[Annotated[str, _pattern(r"arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[\w-]{1,80}", "an SQS queue ARN")]] = Field(
        default_factory=list, description="SQS queues (their policy must let the topics send). Default: none."
    )
    functions: list[Annotated[str, _pattern(r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[\w-]{1,64}", "a Lambda function ARN")]] = (
        Field(default_factory=list, description="Lambda functions of the environment's account. Default: none.")
    )
    slack: SlackSpec | None = Field(default=None, description="An AWS Chatbot Slack channel. Default: none.")


class GovernanceSpec(_Model):
    """CloudTrail (SEC-6), AWS Config (SEC-7) and GuardDuty (SEC-8), built once for each account and region of the
    environments that ask for it, in the shared stage (``<app>-governance``), deployed before the environments."""

    retention_days: int = Field(default=365, ge=1, le=36500, description="Days the trail's and Config's log files are kept. Default: 365.")
    archive_after_days: int | None = Field(
        default=90,
        ge=1,
        description="Days after which log files move to S3 Glacier Instant Retrieval; null keeps them in S3 Standard. Default: 90.",
    )
    trail_to_cloudwatch_logs: bool = Field(
        default=False,
        description="Also deliver the trail's events to a CloudWatch Logs group (metric filters, Logs Insights; billed per GB). "
        "Default: false.",
    )
    existing_trail: bool = Field(
        default=False,
        description="A multi-region trail records the account already (the organization's, or this spec's in another region): "
        "create none. Default: false.",
    )
    existing_recorder: bool = Field(
        default=False,
        description="The region has an AWS Config recorder: create no recorder or delivery channel (the rules still). Default: false.",
    )
    existing_detector: bool = Field(
        default=False, description="The region has a GuardDuty detector: create none (the findings rule still). Default: false."
    )
    excluded_config_rules: list[Annotated[str, _pattern(r"[A-Z0-9_]{3,128}", "a managed rule identifier such as ELB_LOGGING_ENABLED")]] = (
        Field(default_factory=list, description="Managed Config rules of the platform's list not to create (one AWS lacks in the region).")
    )
    record_global_resource_types: bool = Field(
        default=True,
        description="Record IAM users, groups, roles and policies here: set false in every region but one. Default: true.",
    )
    finding_publishing_frequency: Literal["FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"] = Field(
        default="FIFTEEN_MINUTES", description="How often GuardDuty publishes updates of existing findings. Default: FIFTEEN_MINUTES."
    )
    runtime_monitoring: bool = Field(
        default=True,
        description="GuardDuty Runtime Monitoring of the tasks (its agent, a sidecar GuardDuty adds, on Fargate and on the "
        "instances of EC2 capacity). An environment that opts out sets false in its overrides: its cluster is tagged "
        "GuardDutyManaged=false. Default: true.",
    )

    @model_validator(mode="after")
    def _archive_before_expiry(self) -> GovernanceSpec:
        if self.archive_after_days is not None and self.archive_after_days >= self.retention_days:
            raise ValueError(
                f"archive_after_days {self.archive_after_days} is not before retention_days {self.retention_days}; "
                f"allowed: 1..{self.retention_days - 1}, or null"
            )
        return self


class ImagesSpec(_Model):
    """The platform's own image repositories and the pull-through cache (shared by every environment)."""

    account: Annotated[str, _pattern(r"\d{12}", "12 digits")] | None = Field(
        default=None,
        description="Account of the repositories of {repository: ...} images; environments in other accounts may pull. "
        "Default: the first environment's.",
    )
    region: Annotated[str, _pattern(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d", "a region name such as ap-northeast-1")] | None = Field(
        default=None, description="Region of the repositories. Default: the first environment's."
    )
    pull_through_cache: list[Literal["ecr-public", "docker-hub"]] = Field(
        default_factory=list,
        description="Pull images of these registries through an ECR pull-through cache of each environment's account "
        "(no Docker Hub rate limit, one NAT address for many pulls). Default: none.",
    )
    docker_hub_credentials: (
        Annotated[
            str,
            _pattern(
                r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:ecr-pullthroughcache/[A-Za-z0-9/_+=.@-]+",
                "the ARN of a Secrets Manager secret named ecr-pullthroughcache/... (ECR reads only those)",
            ),
        ]
        | None
    ) = Field(default=None, description="Docker Hub credentials for the cache (required with docker-hub). Default: none.")


#: The capabilities a container may drop (ECS's KernelCapabilities).
LINUX_CAPABILITIES = (
    "ALL", "AUDIT_CONTROL", "AUDIT_WRITE", "BLOCK_SUSPEND", "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID",
    "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE", "LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD", "NET_ADMIN",
    "NET_BIND_SERVICE", "NET_BROADCAST", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_ADMIN", "SYS_BOOT",
    "SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO", "SYS_RESOURCE", "SYS_TIME",
    "SYS_TTY_CONFIG", "SYSLOG", "WAKE_ALARM",
)  # fmt: skip


class UlimitSpec(_Model):
    """One resource limit of a container (Fargate honours nofile; other names apply on EC2)."""

    name: Literal[
        "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime",
        "sigpending", "stack",
    ] = Field(description="The limit, e.g. nofile.")  # fmt: skip
    soft: Annotated[int, *_range(0, 2**31 - 1)] = Field(description="Soft limit.")
    hard: Annotated[int, *_range(0, 2**31 - 1)] = Field(description="Hard limit, at least the soft one.")

    @model_validator(mode="after")
    def _soft_within_hard(self) -> UlimitSpec:
        if self.soft > self.hard:
            raise ValueError(f"soft limit {self.soft} exceeds hard limit {self.hard}; allowed: soft <= hard")
        return self


class ContainerSpec(_Model):
    name: Name = Field(description="Container name, unique within its task definition.")
    image: Image = Field(
        description="An image reference (registry/repository:tag or @digest), {build: ./dir} (built from source) or "
        "{repository: name, tag: ...} (a repository the platform owns)."
    )
    port: Port | None = Field(default=None, description="Container port the task listens on. Default: none.")
    protocol: Literal["tcp", "udp"] = Field(default="tcp", description="Port protocol. Default: tcp.")
    essential: bool = Field(default=True, description="Stop the task when this container stops. Default: true.")
    command: list[str] | None = Field(
        default=None, description="Overrides the image's CMD. Default: the image's.", examples=[["npm", "start"]]
    )
    cpu: Annotated[int, *_range(0, 16384)] | None = Field(
        default=None, description="CPU units reserved for the container. Default: none (shares the task's)."
    )
    memory: Annotated[int, *_range(6, 122880)] | None = Field(
        default=None, description="Hard memory limit of the container in MiB. Default: none (the task's memory)."
    )
    environment: Annotated[dict[EnvName, str], AfterValidator(_no_secret_looking_names)] = Field(
        default_factory=dict, description="Plain environment variables; names that look secret are refused (use secrets)."
    )
    readonly_root_filesystem: bool = Field(default=True, description="Mount the root filesystem read-only. Default: true.")
    writable_paths: list[AbsolutePath] = Field(
        default_factory=lambda: ["/tmp"],  # noqa: S108 - a path inside the container
        description="Scratch volumes mounted writable at these paths. Default: [/tmp].",
    )
    user: Annotated[str, _pattern(r"[A-Za-z0-9_-]{1,32}(:[A-Za-z0-9_-]{1,32})?", "a user or uid[:gid] such as 1000:1000")] | None = Field(
        default=None, description="Run as this user (uid[:gid] or name) instead of the image's. Default: the image's."
    )
    health_check: ContainerHealthCheckSpec | None = Field(default=None, description="Container health check. Default: none.")
    gpu: Annotated[int, *_range(0, 16)] = Field(default=0, description="GPUs reserved (EC2 GPU instances only). Default: 0.")
    secrets: dict[EnvName, SecretRef] = Field(
        default_factory=dict, description="Environment variables injected from Secrets Manager or SSM Parameter Store."
    )
    entrypoint: list[str] | None = Field(
        default=None, description="Overrides the image's ENTRYPOINT. Default: the image's.", examples=[["/docker-entrypoint.sh"]]
    )
    working_directory: AbsolutePath | None = Field(
        default=None, description="Directory the command runs in, e.g. /app. Default: the image's WORKDIR."
    )
    depends_on: dict[Name, Literal[limits.DEPENDENCY_CONDITIONS]] = Field(  # type: ignore[valid-type]
        default_factory=dict,
        description="Containers of the task this one waits for, and for what: START, COMPLETE or SUCCESS (non-essential "
        "containers only) or HEALTHY (containers with a health check), e.g. {migrate: SUCCESS}. Default: none.",
    )
    stop_timeout_seconds: Annotated[int, *_range(2, 86400)] | None = Field(
        default=None, description="Seconds between SIGTERM and SIGKILL at stop; at most 120 on Fargate. Default: 30 (ECS's)."
    )
    init_process: bool = Field(
        default=False, description="Run an init process (tini) as PID 1 that reaps zombies and forwards signals. Default: false."
    )
    ulimits: list[UlimitSpec] = Field(default_factory=list, description="Resource limits, e.g. [{name: nofile, soft: 65535, hard: 65535}].")
    drop_capabilities: list[Literal[LINUX_CAPABILITIES]] = Field(  # type: ignore[valid-type]
        default_factory=list, description="Linux capabilities removed from the container, e.g. [ALL] or [NET_RAW]. Default: none."
    )
    docker_labels: dict[Annotated[str, _pattern(r"[^\s=]{1,255}", "a label key without spaces or '='")], str] = Field(
        default_factory=dict, description="Docker labels of the container, e.g. {com.example.team: payments}. Default: none."
    )
    app_protocol: Literal["http", "http2", "grpc"] | None = Field(
        default=None,
        description="Application protocol of the port: Service Connect's metrics and retries, and the target group's "
        "protocol version (http2 and grpc need an HTTPS listener). Default: none (plain TCP to Service Connect, HTTP/1.1 to the ALB).",
    )


Containers = Annotated[
    list[ContainerSpec],
    _check(lambda containers: limits.check_container_count(len(containers))),
    Field(json_schema_extra={"minItems": 1, "maxItems": limits.MAX_CONTAINERS_PER_TASK}),
]


class PlacementSpec(_Model):
    """Placement of a workload's tasks on the instances of its EC2 capacity providers."""

    strategy: Literal["spread", "binpack"] = Field(
        default="spread",
        description="spread: over AZs, then instances (HA-3; services need it); binpack: fill instances by memory (jobs, cost). "
        "Default: spread.",
    )
    constraints: list[Annotated[str, _pattern(r"[^\n]{1,2000}", "a cluster query expression")]] = Field(
        default_factory=list,
        description="memberOf expressions of the cluster query language, e.g. 'attribute:ecs.instance-type =~ g5.*'. Default: none.",
    )


class _WorkloadSpec(_Model):
    name: Name = Field(description="Workload name, unique in the spec.")
    family: Family | None = Field(default=None, description="Task definition family. Default: the workload name.")
    cpu: Annotated[int, *_rule(limits.EC2_TASK_CPU)] = Field(
        default=256, description="Task CPU units: a Fargate size on Fargate; on EC2 what one instance of its providers holds. Default: 256."
    )
    memory: Annotated[int, *_range(128, 1_572_864)] = Field(
        default=512, description="Task memory in MiB: pairs with cpu on Fargate; on EC2 what one instance holds. Default: 512."
    )
    containers: Containers = Field(description="1 to 10 containers (LIM-2).")
    access: list[AccessEntry] = Field(
        default_factory=list, description="What the task role may do, one entry per integration (IAM-5). Default: nothing."
    )
    architecture: Literal["x86_64", "arm64"] = Field(default="x86_64", description="CPU architecture of the tasks. Default: x86_64.")
    placement: PlacementSpec | None = Field(
        default=None,
        description="EC2 only: how tasks are placed on instances. Default: spread over AZs, then instances (HA-3).",
    )
    ephemeral_storage_gib: Annotated[int, *_range(21, 200)] | None = Field(
        default=None, description="Task ephemeral storage in GiB. Default: Fargate's 20 GiB."
    )
    tags: Tags = Field(default_factory=dict, description="Tags for this workload's resources.")
    volumes: list[VolumeSpec] = Field(default_factory=list, description="EFS and EBS volumes of the tasks. Default: none.")
    log_routing: LogRoutingSpec | None = Field(
        default=None, description="Route the containers' logs through a FireLens (Fluent Bit) sidecar. Default: awslogs to CloudWatch."
    )
    tracing: Literal["xray"] | None = Field(
        default=None,
        description="xray: an AWS Distro for OpenTelemetry collector sidecar sends traces to X-Ray; containers get "
        "OTEL_EXPORTER_OTLP_ENDPOINT. Default: none.",
    )
    egress: list[EgressRuleSpec] | None = Field(
        default=None,
        description="The only outbound rules of the tasks besides HTTPS to AWS (web tasks otherwise reach everything, batch "
        "tasks HTTPS only). Default: the subnet class's.",
    )
    overrides: OverridesSpec = Field(
        default_factory=OverridesSpec, description="CloudFormation properties by path: the escape hatch. Default: none."
    )

    @property
    def task_family(self) -> str:
        return self.family or self.name


class HealthCheckSpec(_Model):
    """Target-group health check and the service's grace period (BP-2)."""

    path: Annotated[str, _pattern(r"/[\x21-\x7e]{0,1023}", "a path starting with '/'")] | None = Field(
        default=None, description="Default: / (the construct's)."
    )
    interval_seconds: Annotated[int, *_range(5, 300)] | None = Field(default=None, description="Default: 10 (the construct's).")
    timeout_seconds: Annotated[int, *_range(2, 120)] | None = Field(default=None, description="Default: 5 (the construct's).")
    healthy_threshold: Annotated[int, *_range(2, 10)] | None = Field(default=None, description="Default: 2 (the construct's).")
    unhealthy_threshold: Annotated[int, *_range(2, 10)] | None = Field(default=None, description="Default: 3 (the construct's).")
    healthy_http_codes: Annotated[str, _pattern(r"\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*", "codes or ranges such as 200 or 200-399")] | None = (
        Field(default=None, description="Default: 200-399 (the construct's).")
    )
    grace_period_seconds: Annotated[int, *_range(0, 7200)] | None = Field(
        default=None, description="Seconds ECS ignores failing health checks after a task starts. Default: 60 (the construct's)."
    )


class DomainSpec(_Model):
    """A name in a Route 53 hosted zone: the certificate is validated there and the name points to the ALB."""

    name: Annotated[str, _pattern(r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", "a DNS name such as api.example.com")]
    hosted_zone_id: Annotated[str, _pattern(r"Z[A-Z0-9]{4,32}", "a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ")]
    hosted_zone_name: Annotated[
        str, _pattern(r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", "the zone's DNS name such as example.com")
    ]
    aliases: list[Annotated[str, _pattern(r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", "a DNS name such as www.example.com")]] = (
        Field(
            default_factory=list,
            max_length=9,
            description="More names in the zone: on the certificate, each an alias. Default: none.",
        )
    )


WebAclArn = Annotated[
    str,
    _pattern(r"arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional/webacl/[\w-]+/[0-9a-f-]{36}", "a REGIONAL WAFv2 web ACL ARN"),
]
PathPattern = Annotated[
    str, _pattern(r"/[A-Za-z0-9_.$/~\"'@:+&*?-]{0,127}", "a path pattern starting with '/', up to 128 characters, wildcards * and ?")
]
HostPattern = Annotated[
    str, _pattern(r"[A-Za-z0-9*?-]([A-Za-z0-9.*?-]{0,126})?\.[A-Za-z*?]+", "a host name such as api.example.com or *.example.com")
]


class AlbSpec(_Model):
    """The fields of an Application Load Balancer itself."""

    public: bool = Field(description="true: internet-facing ALB in public subnets; false: internal ALB. Required.")
    https: bool = Field(description="true needs certificate_arn or domain; false must be said explicitly (HTTP only). Required.")
    certificate_arn: str | None = Field(
        default=None,
        description="ACM certificate ARN in the environment's region, for https: true.",
        examples=["arn:aws:acm:ap-northeast-1:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"],
    )
    domain: DomainSpec | None = Field(
        default=None, description="A DNS name for the ALB: a certificate is created with DNS validation, and an alias record."
    )
    web_acl_arn: WebAclArn | None = Field(default=None, description="WAFv2 web ACL (REGIONAL) to associate with the ALB. Default: none.")
    test_listener_port: Annotated[int, *_range(1, 65535)] | None = Field(
        default=None,
        description="A test listener on this port, open to the VPC only: blue/green, linear and canary deployments "
        "send it to the new revision before production traffic. Default: none.",
    )
    allowed_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="Networks allowed to reach the listeners of a public ALB, e.g. [203.0.113.0/24]. Default: the internet.",
    )


class SharedLoadBalancerSpec(AlbSpec):
    """An ALB that several services share, each on its own listener rule (paths, hosts)."""

    name: Name = Field(description="Name services use in load_balancer.shared.")


class LoadBalancerSpec(AlbSpec):
    """How a web service is exposed: an ALB of its own, or rules on a shared one. Exposure is always
    an explicit decision: public and https are required unless the service uses a shared ALB."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [{"required": ["shared"]}, {"required": ["public", "https"]}]})

    public: bool | None = Field(  # type: ignore[assignment]
        default=None, description="true: internet-facing ALB in public subnets; false: internal ALB. Required unless shared."
    )
    https: bool | None = Field(  # type: ignore[assignment]
        default=None, description="true needs certificate_arn or domain; false must be said explicitly (HTTP only). Required unless shared."
    )
    shared: Name | None = Field(
        default=None, description="Name of a shared ALB (top-level load_balancers) to route from. Default: an ALB of the service's own."
    )
    paths: list[PathPattern] = Field(
        default_factory=list, max_length=5, description="Path patterns routed to this service, e.g. /api/*. Default: any path."
    )
    hosts: list[HostPattern] = Field(
        default_factory=list, max_length=5, description="Host names routed to this service, e.g. api.example.com. Default: any host."
    )
    priority: Annotated[int, *_rule(limits.RULE_PRIORITY)] | None = Field(
        default=None,
        description="Listener rule priority (lower is evaluated first), unique on the load balancer. Required for a rule with "
        "paths or hosts on a shared load balancer (a default from the service's position would change when another "
        "service is added). Default: 10 for paths or hosts on the service's own load balancer; 50000 (last) for a catch-all.",
    )
    container: Name | None = Field(default=None, description="Container receiving traffic. Default: the first container with a port.")
    target_groups: Name | None = Field(
        default=None,
        description="A label in the identity of the service's target groups. Give a new one when the service moves to "
        "another load balancer: a target group cannot serve two, so the service gets new ones there. Default: none.",
    )
    stickiness_seconds: Annotated[int, *_range(1, 604800)] | None = Field(
        default=None, description="Keep a client on one task this long (a load balancer cookie). Default: off."
    )
    slow_start_seconds: Annotated[int, *_range(30, 900)] | None = Field(
        default=None, description="Ramp a new task's share of requests up over this time. Default: off."
    )


class DeploymentSpec(_Model):
    """How a new revision replaces the running one (ECS-native strategies)."""

    strategy: Literal["rolling", "blue_green", "linear", "canary"] = Field(
        default="rolling",
        description="rolling: replace tasks in place; blue_green: start the new revision beside the old, then move all traffic; "
        "linear: move traffic in equal steps; canary: move a small share first, then the rest. Default: rolling.",
    )
    bake_minutes: Annotated[int, *_range(0, 1440)] | None = Field(
        default=None,
        description="blue_green/linear/canary: minutes both revisions keep running after all traffic moved (instant rollback). "
        "Default: ECS's (15).",
    )
    step_percent: Annotated[float, _check(limits.check_tenths)] | None = Field(
        default=None, description="linear: 3.0-100.0 per step (default 10); canary: 0.1-100.0 first share (default 5). Multiples of 0.1."
    )
    step_bake_minutes: Annotated[int, *_range(0, 1440)] | None = Field(
        default=None, description="linear/canary: minutes between traffic steps. Default: ECS's (linear 6, canary 10)."
    )
    min_healthy_percent: Annotated[int, *_range(0, 100)] | None = Field(
        default=None, description="rolling: healthy share kept during a deployment. Default: 100 (the construct's)."
    )
    max_healthy_percent: Annotated[int, *_range(100, 200)] | None = Field(
        default=None, description="rolling: running share allowed during a deployment. Default: 200 (the construct's)."
    )


class ServiceConnectTlsSpec(_Model):
    """Service Connect TLS: ECS issues each server a certificate from the private CA and rotates it."""

    certificate_authority_arn: Annotated[
        str,
        _pattern(
            r"arn:(aws|aws-cn|aws-us-gov):acm-pca:[a-z0-9-]+:\d{12}:certificate-authority/[0-9a-f-]{36}",
            "an AWS Private CA ARN, arn:aws:acm-pca:<region>:<account>:certificate-authority/<uuid>",
        ),
    ] = Field(description="The private CA that issues the servers' certificates, in the environment's region. Required.")
    kms_key: (
        Annotated[
            str,
            _pattern(
                r"arn:(aws|aws-cn|aws-us-gov):kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}",
                "a KMS key ARN, arn:aws:kms:<region>:<account>:key/<uuid>",
            ),
        ]
        | None
    ) = Field(
        default=None,
        description="Customer-managed key of the secrets holding the certificates. Default: Secrets Manager's AWS managed key.",
    )


class ServiceConnectSpec(_Model):
    """ECS Service Connect for the spec's services: one Cloud Map namespace, names instead of addresses (ARCH-7, ARCH-9)."""

    namespace: Annotated[
        str,
        _pattern(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*", "a DNS-style name such as shop.internal"),
    ] = Field(description="Cloud Map HTTP namespace the services join, e.g. shop.internal. Required.")
    tls: ServiceConnectTlsSpec | None = Field(
        default=None,
        description="TLS between the services, certificates issued by an AWS Private CA. Default: none (plaintext inside the VPC).",
    )


class ConnectSpec(_Model):
    """A service's name and timeouts in the Service Connect namespace."""

    name: Name | None = Field(default=None, description="Name clients call (http://<name>:<port>). Default: the service name.")
    callers: list[Name] = Field(
        default_factory=list,
        description="The services allowed to call this one through Service Connect (SEC-2). "
        "Default: none; only its load balancer reaches it.",
    )
    per_request_timeout_seconds: Annotated[int, *_range(1, 2147483)] | None = Field(
        default=None, description="Longest time a request may take through the proxy. Default: 15 seconds (ECS's)."
    )
    idle_timeout_seconds: Annotated[int, *_range(1, 2147483)] | None = Field(
        default=None, description="Idle connection timeout of the proxy. Default: 300 seconds (ECS's)."
    )


class ScheduledScalingSpec(_Model):
    """A change of the scaling range at given times (in the service's scaling time zone)."""

    name: Name
    schedule: Annotated[str, _check(limits.check_schedule)] = Field(description="cron(...) or rate(...), as for jobs.")
    min_count: Annotated[int, *_rule(limits.SCALING_MIN_TASKS)]
    max_count: Annotated[int, *_rule(limits.SCALING_MAX_TASKS)]


class ScalingSpec(_Model):
    """Service Auto Scaling (ARCH-5, HA-5): between min_count and max_count, tracking the targets given."""

    min_count: Annotated[int, *_rule(limits.SCALING_MIN_TASKS)] | None = Field(
        default=None, description="Fewest tasks. Default: the service's desired_count."
    )
    max_count: Annotated[int, *_rule(limits.SCALING_MAX_TASKS)] | None = Field(
        default=None, description="Most tasks. Default: twice the minimum."
    )
    cpu_percent: Annotated[int, *_range(10, 95)] | None = Field(default=60, description="Target average CPU utilization. Default: 60.")
    memory_percent: Annotated[int, *_range(10, 95)] | None = Field(
        default=None, description="Target average memory utilization. Default: none."
    )
    requests_per_task: Annotated[int, *_range(1, 1_000_000)] | None = Field(
        default=None, description="Target ALB requests per task per minute. Default: none."
    )
    timezone: Annotated[str, _check(limits.check_time_zone)] = Field(
        default="UTC", description="Time zone of scheduled actions. Default: UTC."
    )
    scheduled: list[ScheduledScalingSpec] = Field(default_factory=list, description="Scheduled changes of the range. Default: none.")


class CapacitySpec(_Model):
    """One capacity provider of a workload's strategy (ARCH-3): FARGATE, FARGATE_SPOT, or one of capacity_providers
    (a strategy does not mix Fargate with EC2 providers)."""

    provider: Annotated[
        str,
        _pattern(r"FARGATE|FARGATE_SPOT|[a-z][a-z0-9-]{0,30}[a-z0-9]", "FARGATE, FARGATE_SPOT or the name of one of capacity_providers"),
    ]
    base: Annotated[int, *_range(0, 100000)] = Field(default=0, description="Tasks always placed here first. Default: 0.")
    weight: Annotated[int, *_range(0, 1000)] = Field(default=1, description="Share of the remaining tasks. Default: 1.")


class ServiceSpec(_WorkloadSpec):
    """A long-running web/API service on Fargate: behind an ALB of its own or a shared one, or internal
    and reached through Service Connect (USE-1, USE-2)."""

    desired_count: Annotated[
        int,
        *_rule(limits.SERVICE_TASKS),
    ] = Field(
        default=2,
        description="Tasks kept running, spread over AZs. 1 only outside production (one task is in one AZ; HA-3). Default: 2.",
    )
    subnets: Annotated[
        str,
        _check(
            lambda v: (
                None
                if v == "web"
                else f"{v!r} is not allowed; allowed: 'web' (tasks run in the dedicated private web subnets, never public ones, SEC-1)"
            )
        ),
    ] = Field(default="web", description="Subnet group of the tasks. Only 'web'. Default: web.")
    load_balancer: LoadBalancerSpec | None = Field(
        default=None,
        description="ALB exposure: an ALB of its own or rules on a shared one. Default: none (an internal service, "
        "reachable through Service Connect only).",
    )
    deployment: DeploymentSpec = Field(default_factory=DeploymentSpec, description="Deployment strategy. Default: rolling.")
    connect: ConnectSpec = Field(
        default_factory=ConnectSpec, description="Name and timeouts in the spec's Service Connect namespace (needs service_connect)."
    )
    health_check: HealthCheckSpec = Field(default_factory=HealthCheckSpec)
    capacity: list[CapacitySpec] = Field(
        default_factory=list, description="Capacity provider strategy (ARCH-3). Default: [] (launch type FARGATE)."
    )
    scaling: ScalingSpec = Field(default_factory=ScalingSpec, description="Service Auto Scaling. Default: desired_count..2x on CPU 60 %.")
    stack: Name | None = Field(
        default=None,
        description="The stack the service lives in: <app>-<env>-<stack>, shared by the services that name it. It changes only "
        "when this does (CloudFormation then creates the service anew there), never because others are added or removed. "
        f"At most {limits.SERVICES_PER_STACK} services a stack. Default: the workload stack.",
    )

    @property
    def scaling_range(self) -> tuple[int, int]:
        low = self.scaling.min_count or self.desired_count
        return low, self.scaling.max_count or 2 * low


class JobSpec(_WorkloadSpec):
    """A batch job: runs to completion on a schedule or on demand, then uses nothing (USE-3)."""

    schedule: Annotated[str, _check(limits.check_schedule)] | None = Field(
        default=None, description="EventBridge Scheduler expression, rate(...) or cron(...). Default: none (on demand only)."
    )
    timezone: Annotated[str, _check(limits.check_time_zone)] | None = Field(
        default=None, description="IANA time zone of the schedule. Default: UTC (the construct's)."
    )
    flexible_window_minutes: Annotated[int, *_range(1, 1440)] | None = Field(
        default=None, description="Let the scheduler start a run up to this many minutes late, to spread load. Default: none (on time)."
    )
    count: Annotated[int, *_rule(limits.RUN_TASK_COUNT)] | None = Field(
        default=None, description="Tasks started per run. Default: 1 (the construct's)."
    )
    capacity: (
        Annotated[
            str,
            _pattern(r"FARGATE|FARGATE_SPOT|[a-z][a-z0-9-]{0,30}[a-z0-9]", "FARGATE, FARGATE_SPOT or the name of an asg capacity provider"),
        ]
        | None
    ) = Field(default=None, description="Capacity provider: FARGATE, FARGATE_SPOT or an asg one. Default: FARGATE (the construct's).")
    timeout_seconds: Annotated[int, *_range(60, 604800, "a run may last from a minute to a week")] | None = Field(
        default=None, description="Stop a scheduled run that takes longer and count it as failed. Default: none."
    )
    retries: Annotated[int, *_range(0, 10)] | None = Field(
        default=None, description="Run a failed or timed-out scheduled run again, up to this many times. Default: 0 (the construct's)."
    )
    subnets: Annotated[
        str,
        _check(
            lambda v: (
                None if v == "batch" else f"{v!r} is not allowed; allowed: 'batch' (jobs run in the dedicated private batch subnets, SEC-1)"
            )
        ),
    ] = Field(default="batch", description="Subnet group of the tasks. Only 'batch'. Default: batch.")
    calls: list[Name] = Field(
        default_factory=list,
        description="Services the job calls, each through its internal load balancer (RunTask tasks do not join Service "
        "Connect): the job's group may reach it, and its URL is in <SERVICE>_URL. Default: none.",
    )


class WorkerQueueSpec(_Model):
    """The queue a worker consumes: its own (no arn) or an existing one."""

    arn: str | None = Field(
        default=None, description="ARN of an existing queue. Default: the worker's own KMS-encrypted queue with a dead-letter queue."
    )
    kms_key: str | None = Field(default=None, description="ARN of an existing queue's customer-managed key. Default: none.")
    visibility_timeout_seconds: Annotated[int, *_range(0, 43200)] | None = Field(
        default=None, description="Own queue only. Default: 300 (the construct's)."
    )
    max_receive_count: Annotated[int, *_range(1, 1000)] | None = Field(
        default=None, description="Receives before a message moves to the dead-letter queue (own queue). Default: 5 (the construct's)."
    )


class WorkerSpec(_WorkloadSpec):
    """A queue worker: a service without a load balancer that consumes an SQS queue and scales on its backlog."""

    queue: WorkerQueueSpec = Field(description="The queue to consume. Required: {} for the worker's own, or {arn: ...}.")
    min_count: Annotated[int, *_rule(limits.WORKER_MIN_TASKS)] = Field(
        default=1, description="Fewest tasks; 0 needs scale_to_zero: true. Default: 1."
    )
    max_count: Annotated[int, *_rule(limits.WORKER_MAX_TASKS)] = Field(default=10, description="Most tasks. Default: 10.")
    scale_to_zero: bool = Field(default=False, description="Allow min_count 0: no task runs while the queue is empty. Default: false.")
    capacity: list[CapacitySpec] = Field(
        default_factory=list, description="Capacity provider strategy (ARCH-3). Default: [] (launch type FARGATE)."
    )
    backlog_per_task: Annotated[int, *_rule(limits.BACKLOG_PER_TASK)] | None = Field(
        default=None, description="Visible messages per running task the scaling aims at. Default: 10 (the construct's)."
    )
    subnets: Annotated[
        str,
        _check(
            lambda v: (
                None
                if v == "batch"
                else f"{v!r} is not allowed; allowed: 'batch' (workers run in the dedicated private batch subnets, SEC-1)"
            )
        ),
    ] = Field(default="batch", description="Subnet group of the tasks. Only 'batch'. Default: batch.")


class Spec(_Model):
    """A whole platform: one environment, its network, cluster, services and jobs."""

    app: Name = Field(description="Application name; prefixes stack names.")
    environment: EnvironmentSpec
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    cluster: ClusterSpec = Field(default_factory=ClusterSpec)
    logs: LogsSpec = Field(default_factory=LogsSpec)
    load_balancers: list[SharedLoadBalancerSpec] = Field(
        default_factory=list, description="ALBs shared by several services (each routes by paths/hosts). Default: none."
    )
    service_connect: ServiceConnectSpec | None = Field(
        default=None, description="ECS Service Connect: services reach each other by name (ARCH-7). Default: off."
    )
    services: list[ServiceSpec] = Field(default_factory=list, max_length=limits.MAX_SERVICES_PER_CLUSTER)
    jobs: list[JobSpec] = Field(default_factory=list)
    workers: list[WorkerSpec] = Field(default_factory=list, description="Queue workers (services that consume an SQS queue).")
    capacity_providers: list[CapacityProviderSpec] = Field(
        default_factory=list, description="EC2 capacity next to Fargate (ARCH-2): asg or managed_instances providers. Default: none."
    )
    images: ImagesSpec = Field(default_factory=ImagesSpec, description="Image repositories and pull-through cache. Default: none.")
    notifications: NotificationsSpec = Field(
        default_factory=NotificationsSpec,
        description="Who hears of alarms and failed job runs (OBS-2). Default: nobody (the summary warns).",
    )
    governance: GovernanceSpec | None = Field(
        default=None,
        description="CloudTrail, AWS Config and GuardDuty, once per account and region (SEC-6, SEC-7, SEC-8). Default: off.",
    )
    storage: list[StoreSpec] = Field(
        default_factory=list, description="Buckets, tables, Aurora clusters and file systems the platform owns. Default: none."
    )
    topics: list[TopicSpec] = Field(default_factory=list, description="SNS topics the platform owns. Default: none.")
    delivery: DeliverySpec | None = Field(
        default=None, description="The delivery pipeline and GitHub Actions role (ARCH-6). Default: none."
    )
    tags: Tags = Field(default_factory=dict, description="Tags applied to every resource.")
    permissions_boundary: str | None = Field(
        default=None, description="ARN of a managed policy set as permissions boundary of every task and execution role."
    )

    @property
    def cluster_name_tag(self) -> str:
        return self.cluster.name or f"{self.app}-{self.environment.name}"

    @property
    def nat_gateways(self) -> int:
        if self.network.nat_gateways is not None:
            return self.network.nat_gateways
        return len(self.environment.availability_zones) if self.environment.production else 1


Branch = Annotated[str, _pattern(r"(?![-/.])[A-Za-z0-9._/*-]{1,200}(?<![/.])", "a branch name such as main or release/*")]
Repository = Annotated[str, _pattern(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+", "owner/name (GitLab: group/subgroup/name)")]


class DeliverySourceSpec(_Model):
    """Where the pipeline takes commits from: a CodeConnections (CodeStar) connection to GitHub, GitLab or
    Bitbucket, or a CodeCommit repository (check that CodeCommit is open to your account: AWS closed it to
    new customers in 2024)."""

    connection_arn: (
        Annotated[
            str,
            _pattern(
                r"arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}",
                "a CodeConnections ARN, arn:aws:codeconnections:<region>:<account>:connection/<uuid>",
            ),
        ]
        | None
    ) = Field(default=None, description="The connection (with repository). Default: none (then codecommit).")
    repository: Repository | None = Field(default=None, description="owner/name of the repository the connection reaches.")
    codecommit: Annotated[str, _pattern(r"[\w.-]{1,100}", "a CodeCommit repository name")] | None = Field(
        default=None, description="A CodeCommit repository of the pipeline's account (instead of a connection)."
    )
    branch: Branch = Field(default="main", description="The branch delivered to production. Default: main.")

    @model_validator(mode="after")
    def _one_source(self) -> DeliverySourceSpec:
        connection = self.connection_arn is not None or self.repository is not None
        if connection == (self.codecommit is not None):
            raise ValueError("allowed: connection_arn with repository, or codecommit (exactly one source)")
        if connection and (self.connection_arn is None or self.repository is None):
            raise ValueError("a connection needs both connection_arn and repository")
        return self


class GithubOidcSpec(_Model):
    """A role GitHub Actions of one repository assume without stored keys, to run make deploy (in each account)."""

    repository: Annotated[str, _pattern(r"[A-Za-z0-9-]{1,39}/[A-Za-z0-9_.-]{1,100}", "owner/name of a GitHub repository")] = Field(
        description="The repository whose workflows may deploy."
    )
    branches: list[Branch] = Field(default_factory=list, description="Branches whose jobs may deploy (jobs without an environment).")
    environments: list[Annotated[str, _pattern(r"[^\s/]{1,255}", "a GitHub environment name")]] = Field(
        default_factory=list, description="GitHub environments whose jobs may deploy (protect them with reviewers)."
    )
    provider_arn: (
        Annotated[
            str,
            _pattern(
                r"arn:aws[a-z-]*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com",
                "the ARN of the account's GitHub OIDC provider",
            ),
        ]
        | None
    ) = Field(default=None, description="The account's existing GitHub OIDC provider (one per account). Default: created.")

    @model_validator(mode="after")
    def _someone(self) -> GithubOidcSpec:
        if not self.branches and not self.environments:
            raise ValueError("no branch or environment may deploy; allowed: branches: [main] and/or environments: [...]")
        return self


class DeliverySpec(_Model):
    """From commit to production (ARCH-6): a CodePipeline that tests, synthesizes and deploys every environment in
    order, and/or a deploy role for GitHub Actions."""

    account: Annotated[str, _pattern(r"\d{12}", "12 digits")] | None = Field(
        default=None, description="The pipeline's account (a tools account). Default: the first environment's."
    )
    region: Annotated[str, _pattern(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d", "a region name such as ap-northeast-1")] | None = Field(
        default=None, description="The pipeline's region; the environments it delivers to are in it. Default: the first environment's."
    )
    source: DeliverySourceSpec | None = Field(default=None, description="The repository; without it, no pipeline. Default: none.")
    test_command: Annotated[str, _pattern(r"[^\n]{1,500}", "one shell command line")] = Field(
        default="make test", description="The tests the pipeline runs before synthesis. Default: make test."
    )
    approvals: list[Name] | None = Field(
        default=None, description="Environments that wait for a manual approval (every production one must). Default: the production ones."
    )
    github_oidc: GithubOidcSpec | None = Field(default=None, description="A deploy role for GitHub Actions. Default: none.")


class SpecFile(Spec):
    """A spec file as written: one ``environment:`` or several ``environments:`` (the JSON Schema's root;
    the loader turns a file into one :class:`Spec` per environment)."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": ["environment"]}, {"required": ["environments"]}]})

    environment: EnvironmentSpec | None = Field(  # type: ignore[assignment]
        default=None, description="Where the platform is deployed, for a spec of one environment (or environments)."
    )
    environments: list[EnvironmentEntry] | None = Field(
        default=None,
        description="Several environments, in delivery order (dev, staging, prod): each with where it is deployed and "
        "its overrides of the shared settings (or environment, for one).",
    )
