"""Volumes beyond task-local scratch space: shared EFS file systems and ECS-managed EBS volumes (issue 15).

- **EFS** (:class:`SharedFileSystem`, :func:`mount_efs`): a KMS-encrypted file system (SEC-3) whose mount
  targets admit NFS only from the security groups of the tasks that mount it (SEC-2), and whose file system
  policy refuses clients without TLS. Because a file system policy exists, a client must authenticate with IAM:
  nothing in the policy allows the anonymous principal. Each workload mounts through an access point of its
  own, rooted in its own directory and forcing its POSIX user, with transit encryption and IAM authorization on;
  its task role may mount (and write, unless read-only) through that access point only, never as root (IAM-5).
  On Fargate, EFS needs platform version 1.4.0 or later (``LATEST``, the default when none is named).
- **EBS** (:func:`ebs_volume`, :func:`run_task_volume_configuration`): ECS creates one encrypted volume per
  task when the task starts and deletes it when the task stops (scratch or fast storage; it does not outlive
  the task: for data that must persist, use EFS). ECS does so with an infrastructure role
  (:class:`EbsVolumeRole`) holding the statements of ``AmazonECSInfrastructureRolePolicyForVolumes`` (v5)
  limited to this account and region and to encrypted volumes, and the key grants EBS needs through EC2
  (``kms:ViaService``), with no AWS managed policy (IAM-8). A task takes at most one such volume.

EventBridge Scheduler's ECS target (``EcsParameters``) has no volume configurations: a scheduled job cannot
get an EBS volume that way (a universal ``aws-sdk:ecs:runTask`` target could pass
:func:`run_task_volume_configuration` in its input).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aws_cdk import RemovalPolicy, Size, Stack, Tags
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct, IConstruct, IDependable

from ecs_platform.constructs.acknowledge import HIPAA, NIST, acknowledge, acknowledge_rule, nag_text
from ecs_platform.constructs.errors import ConstructError, refuse, unresolved
from ecs_platform.constructs.scoped_role import ScopedRole, ScopedRoleProps
from ecs_platform.constructs.source_conditions import service_principal
from ecs_platform.limits import Range

#: NFS, the only port of an EFS mount target.
NFS_PORT = 2049
#: What a task's EFS client may do: mount, and write unless read-only. Never ``ClientRootAccess``.
EFS_MOUNT = "elasticfilesystem:ClientMount"
EFS_WRITE = "elasticfilesystem:ClientWrite"
EFS_CLIENT_ACTIONS = (EFS_MOUNT, EFS_WRITE, "elasticfilesystem:ClientRootAccess")

VolumeType = Literal["gp3", "gp2", "io1", "io2", "st1", "sc1", "standard"]
FileSystemType = Literal["xfs", "ext4", "ext3"]

#: Sizes (GiB) ECS documents for the EBS volumes it attaches to tasks, per volume type.
EBS_SIZE_GIB: Mapping[str, Range] = {
    "gp3": Range(1, 16_384, "gp3"),
    "gp2": Range(1, 16_384, "gp2"),
    "io1": Range(4, 16_384, "io1"),
    "io2": Range(4, 16_384, "io2"),
    "st1": Range(125, 16_384, "st1"),
    "sc1": Range(125, 16_384, "sc1"),
    "standard": Range(1, 1_024, "standard"),
}
#: Volume types whose IOPS are provisioned: io1 and io2 need them, gp3 may raise its 3,000.
EBS_IOPS_REQUIRED = ("io1", "io2")
EBS_IOPS_ALLOWED = ("gp3", "io1", "io2")
#: Only gp3 takes a throughput (MiB/s).
EBS_THROUGHPUT_ALLOWED = ("gp3",)

_VOLUME_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


# --- EFS ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SharedFileSystemProps:
    vpc: ec2.IVpc
    """The VPC of the workloads that mount it."""
    subnets: ec2.SubnetSelection
    """The workloads' subnets: one mount target in each (one per AZ). Not used for an imported file system."""
    encryption_key: kms.IKey
    """Customer-managed key that encrypts the file system at rest (SEC-3)."""
    name: str | None = None
    """Name of the file system (its Name tag). Default: the construct path."""
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN
    """What deleting the stack (or replacing the file system) does to its data. Default: RETAIN."""
    file_system_id: str | None = None
    """An existing file system (``fs-...``) of this account and region to mount instead of creating one: no
    mount target, security group or policy is created; workloads get their access points and grants. Default: a
    new file system."""
    security_group: ec2.ISecurityGroup | None = None
    """Imported file system only: the security group of its mount targets; :meth:`SharedFileSystem.allow_from`
    adds the NFS rules to it. Default: none (the file system's owner admits the workloads' groups)."""
    transition_to_ia: efs.LifecyclePolicy = efs.LifecyclePolicy.AFTER_30_DAYS
    """Files not read for this long move to Infrequent Access storage. Default: 30 days."""
    throughput_mode: efs.ThroughputMode = efs.ThroughputMode.ELASTIC
    """Throughput mode. Default: ELASTIC (throughput follows the load, paid by use)."""
    automatic_backups: bool = True
    """Back the file system up daily with AWS Backup's default plan. Default: true."""


class _FileSystemSecurityGroup(ec2.SecurityGroup):
    """The mount targets' group: no inbound rule until a workload is admitted, no outbound (SEC-2)."""

    def __init__(self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, name: str) -> None:
        super().__init__(
            scope,
            construct_id,
            vpc=vpc,
            allow_all_outbound=False,
            description="EFS mount targets: NFS (2049) only from the security groups of the tasks that mount it (SEC-2)",
        )
        Tags.of(self).add("Name", name)


class SharedFileSystem(Construct):
    """An encrypted EFS file system for the workloads of one VPC, or an existing one imported by ID.

    Created: encrypted with ``encryption_key`` (SEC-3), elastic throughput, daily automatic backups, files
    moved to Infrequent Access after 30 days unread, one mount target per subnet in a security group that admits
    NFS only from the groups :meth:`allow_from` names (never a CIDR, SEC-2). Its file system policy denies every
    client action without TLS (``aws:SecureTransport``) and allows nothing to anyone: with a policy in effect, EFS
    gives an anonymous (non-IAM) client only what the policy allows it, so every client must authenticate with
    IAM and hold its own grant (:func:`mount_efs`).
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: SharedFileSystemProps) -> None:
        super().__init__(scope, construct_id)
        self.file_system: efs.FileSystem | None = None
        """The file system this construct created (None when imported)."""
        self.security_group: ec2.ISecurityGroup | None = props.security_group
        """The mount targets' security group (an imported file system's, when given)."""
        if props.file_system_id is not None:
            if not unresolved(props.file_system_id) and not re.fullmatch(r"fs-[0-9a-f]{8,40}", props.file_system_id):
                raise ConstructError(self, f"file_system_id: {props.file_system_id!r} is not a file system ID; allowed: fs-<hex>")
            self.file_system_id: str = props.file_system_id
            self.file_system_arn: str = Stack.of(self).format_arn(
                service="elasticfilesystem", resource="file-system", resource_name=props.file_system_id
            )
            return
        if not props.vpc.select_subnets(**_selection(props.subnets)).subnet_ids:
            raise ConstructError(
                self, "subnets: EFS needs subnets for its mount targets; allowed: the workloads' private subnets (one per AZ)"
            )
        name = props.name or self.node.path.replace("/", "-")
        group = _FileSystemSecurityGroup(self, "SecurityGroup", vpc=props.vpc, name=f"{name}-mount-targets")
        self.security_group = group
        self.file_system = efs.FileSystem(
            self,
            "FileSystem",
            vpc=props.vpc,
            vpc_subnets=props.subnets,
            security_group=group,
            encrypted=True,
            kms_key=props.encryption_key,
            file_system_name=name,
            performance_mode=efs.PerformanceMode.GENERAL_PURPOSE,
            throughput_mode=props.throughput_mode,
            lifecycle_policy=props.transition_to_ia,
            enable_automatic_backups=props.automatic_backups,
            removal_policy=props.removal_policy,
            file_system_policy=iam.PolicyDocument(
                statements=[
                    iam.PolicyStatement(
                        sid="DenyClientsWithoutTls",
                        effect=iam.Effect.DENY,
                        principals=[iam.AnyPrincipal()],
                        actions=list(EFS_CLIENT_ACTIONS),
                        conditions={"Bool": {"aws:SecureTransport": "false"}},
                    )
                ]
            ),
            # CDK's way of denying anonymous access adds a statement allowing ClientWrite and ClientRootAccess to
            # any principal that mounts; the policy above denies anonymous clients by allowing them nothing.
            allow_anonymous_access=True,
        )
        if props.automatic_backups:
            acknowledge_rule(
                self.file_system,
                "EFSInBackupPlan",
                "Automatic backups are on: EFS backs the file system up daily in AWS Backup's default plan "
                "(aws/efs/automatic-backup-plan), which is not a resource of this template.",
                packs=(NIST, HIPAA),
            )
        self.file_system_id = self.file_system.file_system_id
        self.file_system_arn = self.file_system.file_system_arn

    @property
    def mount_targets_available(self) -> IDependable | None:
        """What a task definition mounting the file system waits for (None when imported)."""
        return self.file_system.mount_targets_available if self.file_system is not None else None

    def allow_from(self, security_group: ec2.ISecurityGroup) -> None:
        """Admit NFS (tcp/2049) from ``security_group`` to the mount targets, and let the group reach them (an
        outbound rule, where the group does not allow all outbound traffic). Idempotent."""
        if self.security_group is None:
            return
        self.security_group.connections.allow_from(security_group, ec2.Port.tcp(NFS_PORT), "NFS from the tasks that mount the file system")


def mount_efs(
    scope: Construct,
    *,
    task_definition: ecs.TaskDefinition,
    container: ecs.ContainerDefinition,
    file_system: SharedFileSystem,
    volume_name: str,
    container_path: str,
    task_role: ScopedRole,
    security_groups: Sequence[ec2.ISecurityGroup] = (),
    read_only: bool = False,
    root_directory: str | None = None,
    uid: int = 1000,
    gid: int = 1000,
) -> efs.CfnAccessPoint:
    """Mount ``file_system`` in ``container`` at ``container_path``, through an access point of the workload's own.

    The access point (created in ``scope``) is rooted at ``root_directory`` (default ``/<scope id>``), which EFS
    creates owned by ``uid``:``gid`` with mode 0750, and makes every client act as ``uid``:``gid``. The task
    definition's volume has transit encryption and IAM authorization on; ``task_role`` may ``ClientMount`` (and
    ``ClientWrite`` unless ``read_only``) on the file system through this access point only (the
    ``elasticfilesystem:AccessPointArn`` condition), never ``ClientRootAccess``. ``security_groups`` (the tasks')
    are admitted to the mount targets. On Fargate, the service needs platform version 1.4.0 or later.
    Returns the access point.
    """
    root = root_directory if root_directory is not None else f"/{scope.node.id}"
    _check_volume_name(scope, task_definition, "volume_name", volume_name)
    _check_container_path(scope, container_path)
    if not root.startswith("/") or root.rstrip("/") == "" or "//" in root or ".." in root.split("/"):
        raise ConstructError(scope, f"root_directory: {root!r} is not a directory of its own; allowed: an absolute path below /")
    for field, value in (("uid", uid), ("gid", gid)):
        refuse(scope, field, Range(0, 4_294_967_295, "a POSIX ID").check(value), value)
    access_point = efs.CfnAccessPoint(
        scope,
        f"{volume_name}AccessPoint",
        file_system_id=file_system.file_system_id,
        posix_user=efs.CfnAccessPoint.PosixUserProperty(uid=str(uid), gid=str(gid)),
        root_directory=efs.CfnAccessPoint.RootDirectoryProperty(
            path=root,
            creation_info=efs.CfnAccessPoint.CreationInfoProperty(owner_uid=str(uid), owner_gid=str(gid), permissions="750"),
        ),
        access_point_tags=[efs.CfnAccessPoint.AccessPointTagProperty(key="Name", value=f"{volume_name}:{root}")],
    )
    task_definition.add_volume(
        name=volume_name,
        efs_volume_configuration=ecs.EfsVolumeConfiguration(
            file_system_id=file_system.file_system_id,
            transit_encryption="ENABLED",
            authorization_config=ecs.AuthorizationConfig(access_point_id=access_point.attr_access_point_id, iam="ENABLED"),
        ),
    )
    container.add_mount_points(ecs.MountPoint(container_path=container_path, source_volume=volume_name, read_only=read_only))
    task_role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=[EFS_MOUNT] if read_only else [EFS_MOUNT, EFS_WRITE],
            resources=[file_system.file_system_arn],
            conditions={"StringEquals": {"elasticfilesystem:AccessPointArn": access_point.attr_arn}},
        )
    )
    for group in security_groups:
        file_system.allow_from(group)
    available = file_system.mount_targets_available
    if available is not None:
        # A task started before its mount targets exist fails to mount.
        task_definition.node.add_dependency(available)
    return access_point


# --- EBS ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class EbsVolumeRoleProps:
    permissions_boundary: iam.IManagedPolicy | None = None
    """Permissions boundary of the role. Default: none."""


class EbsVolumeRole(ScopedRole):
    """The infrastructure role ECS creates, attaches and deletes the tasks' EBS volumes with (IAM-8: no AWS
    managed policy).

    The statements of ``AmazonECSInfrastructureRolePolicyForVolumes`` (v5), narrowed: volumes of this account and
    region only, created encrypted and tagged by ECS for a task of this account and region; attached to and
    detached from the Fargate or EC2 host of the task (Fargate's hosts are in AWS's accounts); deleted only when
    ECS created them. Left out: creating volumes from snapshots (not offered). Each key of :meth:`allow_key` may be
    used by EBS through EC2 only (``kms:ViaService``). AWS documents the trust policy of the infrastructure role
    without conditions (see ``NO_SOURCE_CONDITION``).
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: EbsVolumeRoleProps | None = None) -> None:
        super().__init__(
            scope,
            construct_id,
            props=ScopedRoleProps(
                assumed_by=service_principal("ecs.amazonaws.com", scope=scope),
                description="ECS creates, attaches and deletes the encrypted EBS volumes of this workload's tasks",
                permissions_boundary=(props or EbsVolumeRoleProps()).permissions_boundary,
            ),
        )
        self._keys: set[str] = set()
        stack = Stack.of(self)
        volumes = stack.format_arn(service="ec2", resource="volume", resource_name="*")
        hosts = stack.format_arn(service="ec2", resource="instance", resource_name="*", account="*")
        tasks = stack.format_arn(service="ecs", resource="task", resource_name="*")
        created_for_a_task = {
            "ArnLike": {"aws:RequestTag/AmazonECSCreated": tasks},
            "StringEquals": {"aws:RequestTag/AmazonECSManaged": "true"},
        }
        for statement in (
            iam.PolicyStatement(
                sid="CreateEncryptedVolumesForTasks",
                actions=["ec2:CreateVolume"],
                resources=[volumes],
                conditions={**created_for_a_task, "Bool": {"ec2:Encrypted": "true"}},
            ),
            iam.PolicyStatement(
                sid="TagVolumesOnCreation",
                actions=["ec2:CreateTags"],
                resources=[volumes],
                conditions={
                    "ArnLike": created_for_a_task["ArnLike"],
                    "StringEquals": {**created_for_a_task["StringEquals"], "ec2:CreateAction": "CreateVolume"},
                },
            ),
            iam.PolicyStatement(
                sid="AttachAndDetachEcsVolumes",
                actions=["ec2:AttachVolume", "ec2:DetachVolume"],
                resources=[volumes],
                conditions={"StringEquals": {"aws:ResourceTag/AmazonECSManaged": "true"}},
            ),
            iam.PolicyStatement(sid="AttachToTaskHosts", actions=["ec2:AttachVolume", "ec2:DetachVolume"], resources=[hosts]),
            iam.PolicyStatement(
                sid="DeleteVolumesEcsCreated",
                actions=["ec2:DeleteVolume"],
                resources=[volumes],
                conditions={
                    "ArnLike": {"aws:ResourceTag/AmazonECSCreated": tasks},
                    "StringEquals": {"aws:ResourceTag/AmazonECSManaged": "true"},
                },
            ),
            iam.PolicyStatement(
                sid="DescribeVolumesAndHosts",
                actions=["ec2:DescribeAvailabilityZones", "ec2:DescribeInstances", "ec2:DescribeVolumes"],
                resources=["*"],
            ),
        ):
            self.add_to_principal_policy(statement)
        acknowledge(
            self,
            f"AwsSolutions-IAM5[Resource::{nag_text(self, volumes)}]",
            "EC2 names a task's volume when ECS creates it: this account and region only, created encrypted with the "
            "AmazonECSCreated (a task of this account) and AmazonECSManaged tags, attached and deleted only with them.",
        )
        acknowledge(
            self,
            f"AwsSolutions-IAM5[Resource::{nag_text(self, hosts)}]",
            "The host a task runs on is known only when it starts, and Fargate's hosts are in AWS's accounts: ECS attaches "
            "the volumes it created (tagged AmazonECSManaged) to the task's host, as AmazonECSInfrastructureRolePolicyForVolumes does.",
        )

    def allow_key(self, key: kms.IKey) -> None:
        """Let EBS, through EC2 in this region only, encrypt the tasks' volumes with ``key``: what EBS asks of the
        principal creating an encrypted volume (a grant for the volume, data keys, re-encryption). Idempotent."""
        arn = Stack.of(self).resolve(key.key_arn)
        if str(arn) in self._keys:
            return
        self._keys.add(str(arn))
        through_ec2 = {"kms:ViaService": f"ec2.{Stack.of(self).region}.amazonaws.com"}
        self.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo"],
                resources=[key.key_arn],
                conditions={"StringEquals": through_ec2},
            )
        )
        self.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:CreateGrant"],
                resources=[key.key_arn],
                conditions={"StringEquals": through_ec2, "Bool": {"kms:GrantIsForAWSResource": "true"}},
            )
        )

    def grant_pass_to_ecs(self, grantee: iam.IGrantable) -> iam.Grant:
        """``iam:PassRole`` on this role, to ECS only: what a caller of RunTask (or CreateService) with a volume needs."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["iam:PassRole"],
            resource_arns=[self.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"}},
        )


def ebs_volume(
    scope: Construct,
    *,
    task_definition: ecs.TaskDefinition,
    container: ecs.ContainerDefinition,
    name: str,
    container_path: str,
    size_gib: int,
    encryption_key: kms.IKey,
    volume_type: VolumeType = "gp3",
    file_system_type: FileSystemType = "xfs",
    iops: int | None = None,
    throughput: int | None = None,
    permissions_boundary: iam.IManagedPolicy | None = None,
    role: EbsVolumeRole | None = None,
) -> ecs.ServiceManagedVolume:
    """An EBS volume ECS creates for each task, encrypted with ``encryption_key``, mounted writable in ``container``
    at ``container_path`` and formatted ``file_system_type``; the task definition declares it configured at launch.

    Add it to the service with ``service.add_volume(volume)``; for RunTask, pass
    :func:`run_task_volume_configuration`. The infrastructure role is ``role``, else the :class:`EbsVolumeRole`
    of ``scope`` (created on first use, with ``permissions_boundary``). A task takes one such volume; on Fargate,
    platform version 1.4.0 or later.
    """
    _check_volume_name(scope, task_definition, "name", name)
    _check_container_path(scope, container_path)
    if any(_get(v, "configuredAtLaunch") for v in _volumes(task_definition)):
        raise ConstructError(scope, f"{name}: the task definition already has an EBS volume; allowed: one EBS volume per task")
    if volume_type not in EBS_SIZE_GIB:
        raise ConstructError(scope, f"volume_type: {volume_type!r} is not an EBS volume type; allowed: {', '.join(EBS_SIZE_GIB)}")
    if file_system_type not in ("xfs", "ext4", "ext3"):
        raise ConstructError(
            scope, f"file_system_type: {file_system_type!r} is not a Linux file system ECS formats; allowed: xfs, ext4, ext3"
        )
    refuse(scope, "size_gib", EBS_SIZE_GIB[volume_type].check(size_gib), size_gib)
    if iops is None and volume_type in EBS_IOPS_REQUIRED:
        raise ConstructError(scope, f"iops: {volume_type} volumes need provisioned IOPS; allowed: an iops value with {volume_type}")
    if iops is not None and volume_type not in EBS_IOPS_ALLOWED:
        raise ConstructError(scope, f"iops: {iops} with {volume_type}; allowed: iops with {', '.join(EBS_IOPS_ALLOWED)} only")
    if throughput is not None and volume_type not in EBS_THROUGHPUT_ALLOWED:
        raise ConstructError(scope, f"throughput: {throughput} with {volume_type}; allowed: throughput with gp3 only")
    if role is None:
        found = scope.node.try_find_child("EbsVolumeRole")
        role = found if isinstance(found, EbsVolumeRole) else None
    if role is None:
        role = EbsVolumeRole(scope, "EbsVolumeRole", props=EbsVolumeRoleProps(permissions_boundary=permissions_boundary))
    role.allow_key(encryption_key)
    task_definition.add_volume(name=name, configured_at_launch=True)
    volume = ecs.ServiceManagedVolume(
        scope,
        f"{name}EbsVolume",
        name=name,
        managed_ebs_volume=ecs.ServiceManagedEBSVolumeConfiguration(
            role=role,
            encrypted=True,
            kms_key_id=encryption_key,
            size=Size.gibibytes(size_gib),
            volume_type=ec2.EbsDeviceVolumeType[volume_type.upper()],
            file_system_type=ecs.FileSystemType[file_system_type.upper()],
            iops=iops,
            throughput=throughput,
            tag_specifications=[ecs.EBSTagSpecification(propagate_tags=ecs.EbsPropagatedTagSource.SERVICE)],
        ),
    )
    volume.mount_in(container, container_path=container_path, read_only=False)
    if role.scoped_policy is not None:
        # ECS detaches and deletes the volumes as the tasks stop, with this policy: on stack deletion the
        # service (which depends on the task definition) must be gone before the policy goes.
        task_definition.node.add_dependency(role.scoped_policy)
    return volume


def run_task_volume_configuration(volume: ecs.ServiceManagedVolume) -> dict[str, Any]:
    """The ``volumeConfigurations`` entry of a RunTask request for ``volume`` (from :func:`ebs_volume`), with the
    same role, key, size, type and file system; the volume is deleted when the task stops. Values may be tokens
    (ARNs): resolve them in a template (an output, a universal scheduler target's input)."""
    config = volume.config
    if config is None or config.role is None or config.kms_key_id is None or config.size is None:
        raise ConstructError(volume, "the volume has no managed EBS configuration; allowed: a volume made by ebs_volume")
    managed: dict[str, Any] = {
        "roleArn": config.role.role_arn,
        "encrypted": True,
        "kmsKeyId": config.kms_key_id.key_arn,
        "sizeInGiB": int(config.size.to_gibibytes()),
        "volumeType": (config.volume_type or ec2.EbsDeviceVolumeType.GP3).name.lower(),
        "filesystemType": (config.file_system_type or ecs.FileSystemType.XFS).name.lower(),
        "terminationPolicy": {"deleteOnTermination": True},
        "tagSpecifications": [{"resourceType": "volume", "propagateTags": "TASK_DEFINITION"}],
    }
    if config.iops is not None:
        managed["iops"] = config.iops
    if config.throughput is not None:
        managed["throughput"] = config.throughput
    return {"name": volume.name, "managedEBSVolume": managed}


# --- checks ------------------------------------------------------------------------------------------------


def _selection(selection: ec2.SubnetSelection) -> dict[str, Any]:
    """``selection`` as keyword arguments of ``select_subnets``."""
    fields = ("availability_zones", "one_per_az", "subnet_filters", "subnet_group_name", "subnet_type", "subnets")
    return {field: getattr(selection, field) for field in fields if getattr(selection, field) is not None}


def _volumes(task_definition: ecs.TaskDefinition) -> list[Mapping[str, Any]]:
    """The task definition's volumes so far, as CloudFormation will see them."""
    cfn = task_definition.node.default_child
    assert isinstance(cfn, ecs.CfnTaskDefinition)
    return list(Stack.of(cfn).resolve(cfn.volumes) or [])


def _get(volume: Mapping[str, Any], key: str) -> Any:
    return volume.get(key, volume.get(key[:1].upper() + key[1:]))


def _check_volume_name(scope: IConstruct, task_definition: ecs.TaskDefinition, field: str, name: str) -> None:
    if not _VOLUME_NAME.match(name):
        raise ConstructError(scope, f"{field}: {name!r} is not a volume name; allowed: 1 to 255 letters, digits, '-' and '_'")
    if name in {_get(v, "name") for v in _volumes(task_definition)}:
        raise ConstructError(scope, f"{field}: volume {name!r} is already in the task definition; allowed: a name unique in the task")


def _check_container_path(scope: IConstruct, path: str) -> None:
    if not path.startswith("/") or path.rstrip("/") == "":
        raise ConstructError(scope, f"container_path: {path!r} is not an absolute directory; allowed: an absolute path below / (/data)")
