"""What the governance services (SEC-6, SEC-7, SEC-8) are told, as plain data: the AWS Config managed rules the
platform creates and why, what the recorder leaves out, GuardDuty's documented tag and settings, and where GuardDuty's
Fargate agent image lives. The spec checks its ``governance:`` against these before CDK starts; the
:class:`~ecs_platform.constructs.Governance` construct builds from them. No dependencies.
"""

from __future__ import annotations

from collections.abc import Mapping

#: AWS managed Config rules the platform creates, identifier -> why (SEC-7). Every identifier is on AWS Config's
#: list of managed rules; a rule is regional and a few are missing in some regions (each rule's page lists them):
#: ``excluded_config_rules`` leaves those out there.
CONFIG_RULES: Mapping[str, str] = {
    # Task definitions: IAM, network and secrets of what runs.
    "ECS_TASK_DEFINITION_LINUX_USER_NON_ROOT": "A Linux container running as root (the platform runs the image's user unless told).",
    "ECS_CONTAINERS_NONPRIVILEGED": "A privileged container holds root on its host.",
    "ECS_CONTAINERS_READONLY_ACCESS": "A container with a writable root filesystem (read-only is the platform's default).",
    "ECS_NO_ENVIRONMENT_SECRETS": "Credentials written in plain environment values instead of secrets (SEC-4).",
    "ECS_TASK_DEFINITION_LOG_CONFIGURATION": "A container whose output no log driver keeps.",
    "ECS_TASK_DEFINITION_NETWORK_MODE_NOT_HOST": "Host networking bypasses the task's security groups (SEC-2); the platform uses awsvpc.",
    "ECS_TASK_DEFINITION_PID_MODE_CHECK": "A task sharing its host's process namespace.",
    # Services and capacity.
    "ECS_FARGATE_LATEST_PLATFORM_VERSION": "A Fargate service pinned to an old platform version misses its security fixes.",
    "ECS_CAPACITY_PROVIDER_TERMINATION_CHECK": "An EC2 capacity provider that may terminate instances with tasks on them.",
    # Network (SEC-1, SEC-2).
    "SUBNET_AUTO_ASSIGN_PUBLIC_IP_DISABLED": "A subnet giving public IPs to what starts in it (SEC-1).",
    "VPC_FLOW_LOGS_ENABLED": "A VPC whose traffic is not recorded.",
    "ALB_HTTP_TO_HTTPS_REDIRECTION_CHECK": "A load balancer serving plain HTTP instead of redirecting to HTTPS.",
    "ALB_HTTP_DROP_INVALID_HEADER_ENABLED": "A load balancer forwarding malformed headers (request smuggling).",
    "ELB_DELETION_PROTECTION_ENABLED": "A load balancer a stack deletion would remove (set deletion_protection in production).",
    "ELB_LOGGING_ENABLED": "A load balancer without access logs.",
    # Encryption (SEC-3).
    "CLOUDWATCH_LOG_GROUP_ENCRYPTED": "A log group not encrypted with a KMS key (SEC-3).",
    "SNS_ENCRYPTED_KMS": "A topic not encrypted with a KMS key (SEC-3).",
    "CMK_BACKING_KEY_ROTATION_ENABLED": "A customer-managed key that does not rotate (SEC-3).",
    "S3_BUCKET_SSL_REQUESTS_ONLY": "A bucket that accepts requests without TLS.",
    # Images.
    "ECR_PRIVATE_IMAGE_SCANNING_ENABLED": "A repository whose images are not scanned on push.",
    "ECR_PRIVATE_TAG_IMMUTABILITY_ENABLED": "A repository whose tags can be moved to another image.",
    # This construct's own services, also when they exist already (existing_*).
    "MULTI_REGION_CLOUD_TRAIL_ENABLED": "No multi-region trail records the account's API calls (SEC-6).",
    "CLOUD_TRAIL_ENCRYPTION_ENABLED": "A trail whose log files are not KMS-encrypted (SEC-6).",
    "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED": "A trail whose log files cannot be proved unmodified (SEC-6).",
    "GUARDDUTY_ENABLED_CENTRALIZED": "GuardDuty is off in this region (SEC-8).",
    "GUARDDUTY_ECS_PROTECTION_RUNTIME_ENABLED": "ECS Runtime Monitoring with automated agent management is off (SEC-8).",
}

#: Managed rules considered and left out, identifier -> why.
RULES_LEFT_OUT: Mapping[str, str] = {
    "ECS_TASK_DEFINITION_MEMORY_HARD_LIMIT": "AWS Config discontinued it (April 2026); Fargate caps memory per task anyway.",
    "ECS_TASK_DEFINITION_NONROOT_USER": "EC2 launch type only, absent in many regions; ECS_TASK_DEFINITION_LINUX_USER_NON_ROOT covers all.",
    "ECS_AWSVPC_NETWORKING_ENABLED": "Missing in many regions; ECS_TASK_DEFINITION_NETWORK_MODE_NOT_HOST catches the dangerous mode.",
    "ECS_TASK_DEFINITION_USER_FOR_HOST_MODE_CHECK": "Only about host networking, which ECS_TASK_DEFINITION_NETWORK_MODE_NOT_HOST reports.",
    "ECS_CONTAINER_INSIGHTS_ENABLED": "The platform's clusters use Container Insights 'enhanced'; AWS documents the rule for 'enabled'.",
    "IAM_NO_INLINE_POLICY_CHECK": "The CDK bootstrap roles use inline policies; the platform's own roles are checked by cdk-nag.",
}

#: Resource types the recorder leaves out, type -> why: they only add cost on this platform (SEC-7).
#: Considered and kept: ``AWS::Config::ResourceCompliance`` (the rules' compliance timeline is what SEC-7
#: reports) and ``AWS::EC2::Instance``/``AWS::EC2::Volume`` (EC2 capacity scales, but instances are what an
#: investigation needs).
EXCLUDED_RESOURCE_TYPES: Mapping[str, str] = {
    "AWS::EC2::NetworkInterface": (
        "Every awsvpc task (all of Fargate) creates and deletes one: configuration items at each task start and stop, "
        "which the tasks' own records (ECS, CloudTrail) already tell."
    ),
}

#: The resource types SEC-7 requires a timeline of: never excluded.
REQUIRED_RESOURCE_TYPES = ("AWS::ECS::Cluster", "AWS::ECS::Service", "AWS::ECS::TaskDefinition")

#: The IAM resource types AWS Config records in one region only (a region supported before February 2022).
GLOBAL_RESOURCE_TYPES = ("AWS::IAM::Group", "AWS::IAM::Policy", "AWS::IAM::Role", "AWS::IAM::User")

#: Environment variable names ECS_NO_ENVIRONMENT_SECRETS looks for (exact names: the rule compares keys).
DEFAULT_SECRET_KEYS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "ECS_ENGINE_AUTH_DATA",
    "PASSWORD",
    "DB_PASSWORD",
    "DATABASE_PASSWORD",
    "SECRET_KEY",
    "API_KEY",
    "TOKEN",
)

#: The tag AWS documents for taking an ECS cluster (or, with EC2 agent management, an EC2 instance) out of
#: GuardDuty's automated agent management: ``Tags.of(cluster).add(*GUARDDUTY_OPT_OUT_TAG)``.
GUARDDUTY_OPT_OUT_TAG = ("GuardDutyManaged", "false")

#: GuardDuty's finding publishing frequencies.
FINDING_PUBLISHING_FREQUENCIES = ("FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS")

#: GuardDuty severities from 7.0 are High (and from 9.0 Critical).
HIGH_SEVERITY = 7

#: The account of the ECR repository ``aws-guardduty-agent-fargate`` that GuardDuty's Fargate agent (a sidecar it adds
#: to each task) is pulled from, by region, as GuardDuty's user guide lists them ("ECR repository for GuardDuty agent
#: on AWS Fargate"). The tasks' execution roles pull it: they are granted that repository, in their region, exactly.
GUARDDUTY_FARGATE_AGENT_ACCOUNTS: Mapping[str, str] = {
    "us-east-1": "593207742271",
    "us-east-2": "307168627858",
    "us-west-1": "684579721401",
    "us-west-2": "733349766148",
    "af-south-1": "197869348890",
    "ap-east-1": "258348409381",
    "ap-east-2": "259886477082",
    "ap-south-1": "251508486986",
    "ap-south-2": "950823858135",
    "ap-northeast-1": "533107202818",
    "ap-northeast-2": "914738172881",
    "ap-northeast-3": "273192626886",
    "ap-southeast-1": "174946120834",
    "ap-southeast-2": "005257825471",
    "ap-southeast-3": "510637619217",
    "ap-southeast-4": "251357961535",
    "ap-southeast-5": "156041399949",
    "ap-southeast-7": "054037130133",
    "ca-central-1": "354763396469",
    "ca-west-1": "339712888787",
    "eu-central-1": "323658145986",
    "eu-central-2": "529164026651",
    "eu-north-1": "591436053604",
    "eu-south-1": "266869475730",
    "eu-south-2": "919611009337",
    "eu-west-1": "694911143906",
    "eu-west-2": "892757235363",
    "eu-west-3": "665651866788",
    "il-central-1": "870907303882",
    "me-central-1": "000014521398",
    "me-south-1": "536382113932",
    "mx-central-1": "311141559934",
    "sa-east-1": "758426053663",
}

#: The repository of GuardDuty's Fargate agent (in each region's account of :data:`GUARDDUTY_FARGATE_AGENT_ACCOUNTS`).
GUARDDUTY_FARGATE_AGENT_REPOSITORY = "aws-guardduty-agent-fargate"
