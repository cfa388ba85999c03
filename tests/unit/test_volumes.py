"""Volumes (issue 15): a shared EFS file system mounted per workload, and ECS-managed EBS volumes (SEC-2, SEC-3,
IAM-5, IAM-8)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from ecs_platform.constructs import (
    NO_SOURCE_CONDITION,
    BatchSecurityGroup,
    Cluster,
    ClusterProps,
    ConstructError,
    ContainerProps,
    EbsVolumeRole,
    EncryptionKey,
    EncryptionKeyProps,
    FargateTask,
    ScopedRole,
    ScopedRoleProps,
    SecurityGroupProps,
    SharedFileSystem,
    SharedFileSystemProps,
    WorkloadProps,
    ebs_volume,
    mount_efs,
    run_task_volume_configuration,
)
from ecs_platform.constructs.acknowledge import acknowledge, acknowledge_rule
from ecs_platform.constructs.fargate_task import private_service
from tests.helpers import nag_findings
from tests.unit.support import ACCOUNT, REGION, logical_id, nag_app, new_stack, of_type, plain_vpc, synth

PRIVATE = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
NGINX = ecs.ContainerImage.from_registry("nginx:1.27")
IMPORTED_FS = "fs-0123456789abcdef0"
#: The test VPC is a fixture, not under review: its findings are acknowledged here and left out of the pins.
FIXTURE = "Test/Vpc"
VOLUMES = f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/*"
HOSTS = f"arn:aws:ec2:{REGION}:*:instance/*"
TASKS = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/*"
#: Acknowledged (rule, construct path) of the scenario. Changing this set is a security review.
PINS = {
    ("NIST.800.53.R5-EFSInBackupPlan", "Test/Shared/FileSystem/Resource"),
    ("HIPAA.Security-EFSInBackupPlan", "Test/Shared/FileSystem/Resource"),
    *{
        (f"AwsSolutions-IAM5[Resource::{resource}]", f"Test/{workload}/EbsVolumeRole/Policy/Resource")
        for workload in ("Api", "Reader")
        for resource in (VOLUMES, HOSTS, "*")
    },
}


@dataclass
class Scenario:
    template: Template
    ids: dict[str, str]
    api_volume: ecs.ServiceManagedVolume
    reader_volume: ecs.ServiceManagedVolume
    report: dict[str, Any]


@dataclass
class Platform:
    stack: Stack
    vpc: ec2.Vpc
    cluster: ecs.ICluster
    key: EncryptionKey
    file_system: SharedFileSystem


def _platform() -> Platform:
    """A VPC with private subnets in two AZs, a cluster, a key and a shared file system in those subnets."""
    app = nag_app()
    stack = new_stack(app)
    vpc = plain_vpc(stack)
    acknowledge(vpc, "AwsSolutions-VPC7", "Test fixture: the VPC is not under review here.")
    for rule in ("VPCFlowLogsEnabled", "VPCDefaultSecurityGroupClosed"):
        acknowledge_rule(vpc, rule, "Test fixture: the VPC is not under review here.")
    cluster = Cluster(stack, "Cluster", props=ClusterProps(vpc=vpc)).cluster
    key = EncryptionKey(stack, "Key", props=EncryptionKeyProps(description="Logs, the shared file system and the task volumes"))
    file_system = SharedFileSystem(stack, "Shared", props=SharedFileSystemProps(vpc=vpc, subnets=PRIVATE, encryption_key=key, name="shop"))
    return Platform(stack, vpc, cluster, key, file_system)


def _workload(p: Platform, name: str) -> tuple[WorkloadProps, FargateTask]:
    props = WorkloadProps(
        cluster=p.cluster, vpc_subnets=PRIVATE, encryption_key=p.key, containers=[ContainerProps(name="app", image=NGINX)]
    )
    return props, FargateTask(p.stack, name, props=props)


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """Given one shared file system and three Fargate workloads:

    - ``Api``: a service with batch tasks' security group, mounting the file system read-write at /data (defaults:
      root /Api, 1000:1000) and a 50 GiB gp3 EBS volume at /scratch, which the service adds;
    - ``Reader``: a task mounting it read-only at /reports as 2000:3000 in /reports, with a 100 GiB io2 ext4 EBS volume
      of 4,000 IOPS (for RunTask);
    - ``Importer``: a task mounting an existing file system (by ID) read-write;
    - a ``Runner`` role that may pass Api's infrastructure role to ECS.
    """
    p = _platform()
    api_props, api = _workload(p, "Api")
    api_group = BatchSecurityGroup(p.stack, "ApiTasks", props=SecurityGroupProps(vpc=p.vpc, name="api-tasks"))
    api_point = mount_efs(
        api,
        task_definition=api.task_definition,
        container=api.containers[0],
        file_system=p.file_system,
        volume_name="shared",
        container_path="/data",
        task_role=api.task_role,
        security_groups=[api_group],
    )
    api_volume = ebs_volume(
        api,
        task_definition=api.task_definition,
        container=api.containers[0],
        name="scratch",
        container_path="/scratch",
        size_gib=50,
        encryption_key=p.key,
    )
    service = private_service(
        p.stack,
        "Service",
        props=api_props,
        task_definition=api.task_definition,
        security_groups=[api_group],
        service_name="api",
        desired_count=2,
    )
    service.add_volume(api_volume)
    _, reader = _workload(p, "Reader")
    reader_point = mount_efs(
        reader,
        task_definition=reader.task_definition,
        container=reader.containers[0],
        file_system=p.file_system,
        volume_name="reports",
        container_path="/reports",
        task_role=reader.task_role,
        read_only=True,
        root_directory="/reports",
        uid=2000,
        gid=3000,
    )
    reader_volume = ebs_volume(
        reader,
        task_definition=reader.task_definition,
        container=reader.containers[0],
        name="work",
        container_path="/work",
        size_gib=100,
        volume_type="io2",
        iops=4000,
        file_system_type="ext4",
        encryption_key=p.key,
    )
    imported = SharedFileSystem(
        p.stack, "Existing", props=SharedFileSystemProps(vpc=p.vpc, subnets=PRIVATE, encryption_key=p.key, file_system_id=IMPORTED_FS)
    )
    _, importer = _workload(p, "Importer")
    importer_point = mount_efs(
        importer,
        task_definition=importer.task_definition,
        container=importer.containers[0],
        file_system=imported,
        volume_name="legacy",
        container_path="/legacy",
        task_role=importer.task_role,
    )
    runner = ScopedRole(p.stack, "Runner", props=ScopedRoleProps(assumed_by=iam.AccountRootPrincipal()))
    api_role = api.node.find_child("EbsVolumeRole")
    assert isinstance(api_role, EbsVolumeRole)
    api_role.grant_pass_to_ecs(runner)
    ids = {
        "key": logical_id(p.key),
        "fs": logical_id(p.file_system.file_system),  # type: ignore[arg-type]
        "fs.sg": logical_id(p.file_system.security_group),  # type: ignore[arg-type]
        "api.sg": logical_id(api_group),
        "service": logical_id(service),
        "runner": logical_id(runner),
        "api.infra": logical_id(api_role),
        "api.infra.policy": logical_id(api_role.scoped_policy),  # type: ignore[arg-type]
        "reader.infra": logical_id(reader.node.find_child("EbsVolumeRole")),
    }
    for name, task, point in (("api", api, api_point), ("reader", reader, reader_point), ("importer", importer, importer_point)):
        ids[f"{name}.td"] = logical_id(task.task_definition)
        ids[f"{name}.role"] = logical_id(task.task_role)
        ids[f"{name}.ap"] = p.stack.get_logical_id(point)
    (template,) = synth(p.stack.node.root, p.stack)  # type: ignore[arg-type]
    report = json.loads((Path(p.stack.node.root.outdir) / "validation-report.json").read_text())  # type: ignore[attr-defined]
    return Scenario(template, ids, api_volume, reader_volume, report)


def _resource(scenario: Scenario, key: str) -> dict[str, Any]:
    found: dict[str, Any] = scenario.template.to_json()["Resources"][scenario.ids[key]]
    return found


def _volume(scenario: Scenario, workload: str, name: str) -> dict[str, Any]:
    (volume,) = [v for v in _resource(scenario, f"{workload}.td")["Properties"]["Volumes"] if v["Name"] == name]
    return dict(volume)


def _mount_points(scenario: Scenario, workload: str) -> list[dict[str, Any]]:
    (container,) = _resource(scenario, f"{workload}.td")["Properties"]["ContainerDefinitions"]
    return list(container["MountPoints"])


def _statements(scenario: Scenario, role_key: str) -> list[dict[str, Any]]:
    role = scenario.ids[role_key]
    (policy,) = [p for p in of_type(scenario.template, "AWS::IAM::ManagedPolicy").values() if p["Properties"]["Roles"] == [{"Ref": role}]]
    return list(policy["Properties"]["PolicyDocument"]["Statement"])


def _getatt(scenario: Scenario, key: str, attribute: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [scenario.ids[key], attribute]}


# --- EFS -------------------------------------------------------------------------------------------------


def test_efs_volumes_mount_with_transit_encryption_and_iam_authorization_through_the_workloads_access_point(scenario: Scenario) -> None:
    """Each EFS volume has transit encryption and IAM authorization on, through the workload's own access point, and
    is mounted at the given path, read-only where asked."""
    for workload, name, fs in (("api", "shared", {"Ref": scenario.ids["fs"]}), ("reader", "reports", {"Ref": scenario.ids["fs"]})):
        assert _volume(scenario, workload, name)["EFSVolumeConfiguration"] == {
            "FilesystemId": fs,
            "TransitEncryption": "ENABLED",
            "AuthorizationConfig": {"AccessPointId": _getatt(scenario, f"{workload}.ap", "AccessPointId"), "IAM": "ENABLED"},
        }
    assert _volume(scenario, "importer", "legacy")["EFSVolumeConfiguration"]["FilesystemId"] == IMPORTED_FS
    assert {"ContainerPath": "/data", "ReadOnly": False, "SourceVolume": "shared"} in _mount_points(scenario, "api")
    assert {"ContainerPath": "/reports", "ReadOnly": True, "SourceVolume": "reports"} in _mount_points(scenario, "reader")


def test_each_workload_gets_an_access_point_of_its_own_rooted_in_its_directory_as_its_posix_user(scenario: Scenario) -> None:
    """An access point per workload: its root directory (default /<workload>) is created 0750 for its POSIX user
    (default 1000:1000), which every client of the access point acts as."""
    expected = {"api": ("/Api", "1000", "1000"), "reader": ("/reports", "2000", "3000"), "importer": ("/Importer", "1000", "1000")}
    for workload, (path, uid, gid) in expected.items():
        props = _resource(scenario, f"{workload}.ap")["Properties"]
        assert props["PosixUser"] == {"Uid": uid, "Gid": gid}
        assert props["RootDirectory"] == {"Path": path, "CreationInfo": {"OwnerUid": uid, "OwnerGid": gid, "Permissions": "750"}}
    assert len(of_type(scenario.template, "AWS::EFS::AccessPoint")) == 3


def test_iam5_task_roles_may_only_mount_and_write_through_their_access_point_never_as_root(scenario: Scenario) -> None:
    """IAM-5: each task role's one customer-managed policy has exactly ClientMount (+ ClientWrite unless read-only) on
    the file system, with the elasticfilesystem:AccessPointArn condition naming its own access point; no
    ClientRootAccess anywhere."""
    fs_arn = _getatt(scenario, "fs", "Arn")
    imported_arn = f"arn:aws:elasticfilesystem:{REGION}:{ACCOUNT}:file-system/{IMPORTED_FS}"
    for workload, actions, resource in (
        ("api", ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"], fs_arn),
        ("reader", "elasticfilesystem:ClientMount", fs_arn),
        ("importer", ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"], imported_arn),
    ):
        assert _statements(scenario, f"{workload}.role") == [
            {
                "Action": actions,
                "Effect": "Allow",
                "Resource": resource,
                "Condition": {"StringEquals": {"elasticfilesystem:AccessPointArn": _getatt(scenario, f"{workload}.ap", "Arn")}},
            }
        ]
    assert "ClientRootAccess" not in json.dumps(
        [p["Properties"]["PolicyDocument"] for p in of_type(scenario.template, "AWS::IAM::ManagedPolicy").values()]
    )
    scenario.template.resource_count_is("AWS::IAM::Policy", 0)


def test_sec2_mount_targets_admit_nfs_only_from_the_task_security_groups(scenario: Scenario) -> None:
    """SEC-2: the mount targets' group has no inline rule and no CIDR; its only ingress is tcp/2049 from the tasks'
    group, which gets the matching egress (batch tasks otherwise reach 443 only)."""
    group = _resource(scenario, "fs.sg")["Properties"]
    assert "SecurityGroupIngress" not in group
    assert [r["CidrIp"] for r in group["SecurityGroupEgress"]] == ["255.255.255.255/32"]  # CDK's "no outbound" marker
    fs_group = _getatt(scenario, "fs.sg", "GroupId")
    ingress = [
        r["Properties"]
        for r in of_type(scenario.template, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == fs_group
    ]
    assert ingress == [
        {
            "Description": "NFS from the tasks that mount the file system",
            "FromPort": 2049,
            "ToPort": 2049,
            "IpProtocol": "tcp",
            "GroupId": fs_group,
            "SourceSecurityGroupId": _getatt(scenario, "api.sg", "GroupId"),
        }
    ]
    egress = [r["Properties"] for r in of_type(scenario.template, "AWS::EC2::SecurityGroupEgress").values()]
    assert [(e["GroupId"], e["DestinationSecurityGroupId"], e["FromPort"]) for e in egress] == [
        (_getatt(scenario, "api.sg", "GroupId"), fs_group, 2049)
    ]
    mount_targets = of_type(scenario.template, "AWS::EFS::MountTarget").values()
    assert len(mount_targets) == 2 and all(m["Properties"]["SecurityGroups"] == [fs_group] for m in mount_targets)


def test_sec3_the_file_system_is_kms_encrypted_elastic_backed_up_and_moves_cold_files_to_ia(scenario: Scenario) -> None:
    """SEC-3: encrypted with the customer-managed key; elastic throughput, automatic backups, Infrequent Access after
    30 days, retained when the stack goes, named."""
    resource = _resource(scenario, "fs")
    props = resource["Properties"]
    assert props["Encrypted"] is True
    assert props["KmsKeyId"] == _getatt(scenario, "key", "Arn")
    assert props["ThroughputMode"] == "elastic"
    assert props["BackupPolicy"] == {"Status": "ENABLED"}
    assert props["LifecyclePolicies"] == [{"TransitionToIA": "AFTER_30_DAYS"}]
    assert resource["DeletionPolicy"] == "Retain"
    assert {"Key": "Name", "Value": "shop"} in props["FileSystemTags"]


def test_the_file_system_policy_denies_clients_without_tls_and_allows_no_one(scenario: Scenario) -> None:
    """The file system policy's only statement denies every client action without TLS; no Allow statement, so an
    anonymous (non-IAM) client gets nothing and every client needs IAM authorization and its own grant."""
    assert _resource(scenario, "fs")["Properties"]["FileSystemPolicy"]["Statement"] == [
        {
            "Sid": "DenyClientsWithoutTls",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientRootAccess", "elasticfilesystem:ClientWrite"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]


def test_tasks_wait_for_the_mount_targets_and_an_imported_file_system_gets_none(scenario: Scenario) -> None:
    """A task definition mounting the file system depends on its mount targets; importing an existing file system by
    ID creates no file system, mount target or security group of its own."""
    mount_targets = set(of_type(scenario.template, "AWS::EFS::MountTarget"))
    assert mount_targets <= set(_resource(scenario, "api.td")["DependsOn"])
    assert mount_targets <= set(_resource(scenario, "reader.td")["DependsOn"])
    assert not mount_targets & set(_resource(scenario, "importer.td").get("DependsOn", []))
    scenario.template.resource_count_is("AWS::EFS::FileSystem", 1)
    assert len(mount_targets) == 2
    assert _resource(scenario, "importer.ap")["Properties"]["FileSystemId"] == IMPORTED_FS


# --- EBS -------------------------------------------------------------------------------------------------


def test_the_service_creates_each_tasks_ebs_volume_encrypted_with_the_key_by_the_infrastructure_role(scenario: Scenario) -> None:
    """SEC-3: the task definition declares the volume configured at launch and mounts it writable; the service gives
    ECS its configuration: encrypted with the customer-managed key, 50 GiB gp3 xfs, by the infrastructure role."""
    assert _volume(scenario, "api", "scratch") == {"Name": "scratch", "ConfiguredAtLaunch": True}
    assert {"ContainerPath": "/scratch", "ReadOnly": False, "SourceVolume": "scratch"} in _mount_points(scenario, "api")
    (configuration,) = _resource(scenario, "service")["Properties"]["VolumeConfigurations"]
    managed = configuration["ManagedEBSVolume"]
    assert configuration["Name"] == "scratch"
    assert managed["Encrypted"] is True
    assert managed["KmsKeyId"] == {"Ref": scenario.ids["key"]}
    assert (managed["SizeInGiB"], managed["VolumeType"], managed["FilesystemType"]) == (50, "gp3", "xfs")
    assert managed["RoleArn"] == _getatt(scenario, "api.infra", "Arn")
    assert "Iops" not in managed and "Throughput" not in managed


def test_iam8_the_infrastructure_role_is_trusted_by_ecs_as_documented_and_has_no_aws_managed_policy(scenario: Scenario) -> None:
    """IAM-8: each infrastructure role trusts ecs.amazonaws.com only, with the conditions the source-condition registry
    gives it (AWS documents none for it: NO_SOURCE_CONDITION), and holds one customer-managed policy: no AWS managed
    policy (AmazonECSInfrastructureRolePolicyForVolumes), no inline policy."""
    assert "ecs.amazonaws.com" in NO_SOURCE_CONDITION
    policies = Counter(json.dumps(p["Properties"]["Roles"]) for p in of_type(scenario.template, "AWS::IAM::ManagedPolicy").values())
    for key in ("api.infra", "reader.infra"):
        props = _resource(scenario, key)["Properties"]
        assert props["AssumeRolePolicyDocument"]["Statement"] == [
            {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}}
        ]
        assert "ManagedPolicyArns" not in props and "Policies" not in props
        assert policies[json.dumps([{"Ref": scenario.ids[key]}])] == 1
    assert "AmazonECSInfrastructureRolePolicyForVolumes" not in json.dumps(scenario.template.to_json())


def test_the_infrastructure_role_is_the_managed_policy_narrowed_to_encrypted_volumes_of_this_account(scenario: Scenario) -> None:
    """The statements of AmazonECSInfrastructureRolePolicyForVolumes (v5) on this account and region's volumes only,
    created encrypted with ECS's tags for a task of this account; Fargate's hosts (AWS's accounts) for attaching;
    no snapshot statement; the key only through EC2 (kms:ViaService), grants only for AWS resources."""
    request_tags = {"ArnLike": {"aws:RequestTag/AmazonECSCreated": TASKS}, "StringEquals": {"aws:RequestTag/AmazonECSManaged": "true"}}
    through_ec2 = {"kms:ViaService": f"ec2.{REGION}.amazonaws.com"}
    key = _getatt(scenario, "key", "Arn")
    assert _statements(scenario, "api.infra") == [
        {
            "Sid": "CreateEncryptedVolumesForTasks",
            "Action": "ec2:CreateVolume",
            "Effect": "Allow",
            "Resource": VOLUMES,
            "Condition": {**request_tags, "Bool": {"ec2:Encrypted": "true"}},
        },
        {
            "Sid": "TagVolumesOnCreation",
            "Action": "ec2:CreateTags",
            "Effect": "Allow",
            "Resource": VOLUMES,
            "Condition": {
                "ArnLike": request_tags["ArnLike"],
                "StringEquals": {**request_tags["StringEquals"], "ec2:CreateAction": "CreateVolume"},
            },
        },
        {
            "Sid": "AttachAndDetachEcsVolumes",
            "Action": ["ec2:AttachVolume", "ec2:DetachVolume"],
            "Effect": "Allow",
            "Resource": VOLUMES,
            "Condition": {"StringEquals": {"aws:ResourceTag/AmazonECSManaged": "true"}},
        },
        {"Sid": "AttachToTaskHosts", "Action": ["ec2:AttachVolume", "ec2:DetachVolume"], "Effect": "Allow", "Resource": HOSTS},
        {
            "Sid": "DeleteVolumesEcsCreated",
            "Action": "ec2:DeleteVolume",
            "Effect": "Allow",
            "Resource": VOLUMES,
            "Condition": {
                "ArnLike": {"aws:ResourceTag/AmazonECSCreated": TASKS},
                "StringEquals": {"aws:ResourceTag/AmazonECSManaged": "true"},
            },
        },
        {
            "Sid": "DescribeVolumesAndHosts",
            "Action": ["ec2:DescribeAvailabilityZones", "ec2:DescribeInstances", "ec2:DescribeVolumes"],
            "Effect": "Allow",
            "Resource": "*",
        },
        {
            "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"],
            "Effect": "Allow",
            "Resource": key,
            "Condition": {"StringEquals": through_ec2},
        },
        {
            "Action": "kms:CreateGrant",
            "Effect": "Allow",
            "Resource": key,
            "Condition": {"StringEquals": through_ec2, "Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
    ]
    assert _statements(scenario, "reader.infra") == _statements(scenario, "api.infra")


def test_the_task_definition_keeps_the_volume_policy_until_the_service_is_gone(scenario: Scenario) -> None:
    """ECS detaches and deletes the volumes as tasks stop, with the role's policy: the task definition (which the
    service depends on) depends on the policy, so a stack deletion removes the policy last."""
    assert scenario.ids["api.infra.policy"] in _resource(scenario, "api.td")["DependsOn"]
    assert _resource(scenario, "service")["Properties"]["TaskDefinition"] == {"Ref": scenario.ids["api.td"]}


def test_callers_may_pass_the_infrastructure_role_to_ecs_only(scenario: Scenario) -> None:
    """RunTask with a volume needs iam:PassRole on the infrastructure role: granted on that role, to ECS only."""
    assert _statements(scenario, "runner") == [
        {
            "Action": "iam:PassRole",
            "Effect": "Allow",
            "Resource": _getatt(scenario, "api.infra", "Arn"),
            "Condition": {"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"}},
        }
    ]


def test_run_task_volume_configuration_repeats_the_volume_for_a_run_task_request(scenario: Scenario) -> None:
    """One-off and scheduled jobs start tasks with RunTask, whose request carries the volume: the same role, key, size,
    type, IOPS and file system, deleted with the task."""
    stack = Stack.of(scenario.reader_volume)
    assert stack.resolve(run_task_volume_configuration(scenario.reader_volume)) == {
        "name": "work",
        "managedEBSVolume": {
            "roleArn": _getatt(scenario, "reader.infra", "Arn"),
            "encrypted": True,
            "kmsKeyId": _getatt(scenario, "key", "Arn"),
            "sizeInGiB": 100,
            "volumeType": "io2",
            "filesystemType": "ext4",
            "iops": 4000,
            "terminationPolicy": {"deleteOnTermination": True},
            "tagSpecifications": [{"resourceType": "volume", "propagateTags": "TASK_DEFINITION"}],
        },
    }


# --- cdk-nag ---------------------------------------------------------------------------------------------


def test_synthesizes_with_every_nag_pack_and_no_unacknowledged_finding(scenario: Scenario) -> None:
    assert {p["pluginName"] for p in scenario.report["pluginReports"]} >= {"AwsSolutions", "NIST.800.53.R5", "HIPAA.Security"}
    assert nag_findings(scenario.report, "violations") == Counter()


def test_acknowledgements_are_pinned(scenario: Scenario) -> None:
    """The acknowledged findings (outside the VPC fixture) are exactly :data:`PINS`: the backup plan cdk-nag cannot
    see, and the infrastructure roles' volume, host and Describe patterns."""
    suppressed = {
        finding
        for finding in nag_findings(scenario.report, "suppressedViolations")
        if not finding[1].startswith(f"{FIXTURE}/") and not finding[0].startswith("CloudFormation")
    }
    assert suppressed == PINS


# --- refused props ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def platform() -> Platform:
    return _platform()


_COUNTER = iter(range(1_000_000))


def _task(p: Platform) -> FargateTask:
    return _workload(p, f"Refused{next(_COUNTER)}")[1]


def _efs(p: Platform, task: FargateTask, **overrides: Any) -> None:
    args: dict[str, Any] = {
        "task_definition": task.task_definition,
        "container": task.containers[0],
        "file_system": p.file_system,
        "volume_name": "shared",
        "container_path": "/data",
        "task_role": task.task_role,
    }
    mount_efs(task, **{**args, **overrides})


def _ebs(p: Platform, task: FargateTask, **overrides: Any) -> None:
    args: dict[str, Any] = {
        "task_definition": task.task_definition,
        "container": task.containers[0],
        "name": "scratch",
        "container_path": "/scratch",
        "size_gib": 20,
        "encryption_key": p.key,
    }
    ebs_volume(task, **{**args, **overrides})


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({"size_gib": 0}, "size_gib: 0 is out of range; allowed: 1..16384 (gp3)", id="ebs_size_zero"),
        pytest.param({"size_gib": 16_385}, "size_gib: 16385 is out of range; allowed: 1..16384 (gp3)", id="ebs_size_above_16_tib"),
        pytest.param(
            {"size_gib": 2, "volume_type": "io2", "iops": 100}, "size_gib: 2 is out of range; allowed: 4..16384 (io2)", id="io2_too_small"
        ),
        pytest.param(
            {"volume_type": "io2"}, "iops: io2 volumes need provisioned IOPS; allowed: an iops value with io2", id="io2_without_iops"
        ),
        pytest.param(
            {"volume_type": "gp2", "iops": 3000}, "iops: 3000 with gp2; allowed: iops with gp3, io1, io2 only", id="iops_with_gp2"
        ),
        pytest.param(
            {"volume_type": "io1", "iops": 3000, "throughput": 250},
            "throughput: 250 with io1; allowed: throughput with gp3 only",
            id="throughput_with_io1",
        ),
        pytest.param({"volume_type": "gp4"}, "volume_type: 'gp4' is not an EBS volume type; allowed: gp3, gp2", id="unknown_volume_type"),
        pytest.param({"file_system_type": "ntfs"}, "file_system_type: 'ntfs' is not a Linux file system ECS formats", id="ntfs"),
        pytest.param({"container_path": "scratch"}, "container_path: 'scratch' is not an absolute directory", id="relative_path"),
        pytest.param({"container_path": "/"}, "container_path: '/' is not an absolute directory", id="root_path"),
        pytest.param({"name": "my volume"}, "name: 'my volume' is not a volume name", id="bad_volume_name"),
    ],
)
def test_ebs_volume_fails_when_a_prop_breaks_its_rule(platform: Platform, overrides: dict[str, Any], expected: str) -> None:
    """Bad EBS props are refused with the field, the value and what is allowed."""
    task = _task(platform)
    with pytest.raises(ConstructError) as raised:
        _ebs(platform, task, **overrides)
    assert raised.value.path == task.node.path
    assert expected in str(raised.value)


def test_ebs_volume_fails_when_the_task_already_has_one_or_the_name_is_taken(platform: Platform) -> None:
    """A task takes one EBS volume, and a volume name is unique in its task definition (EFS or EBS)."""
    task = _task(platform)
    _ebs(platform, task)
    with pytest.raises(ConstructError, match="the task definition already has an EBS volume; allowed: one EBS volume per task"):
        _ebs(platform, task, name="second", container_path="/second")
    _efs(platform, task)
    with pytest.raises(ConstructError, match="volume_name: volume 'shared' is already in the task definition; allowed: a name unique"):
        _efs(platform, task, container_path="/other")
    # FargateTask gives each container a scratch volume for /tmp, named <container>-scratch-0.
    with pytest.raises(ConstructError, match="name: volume 'app-scratch-0' is already in the task definition"):
        _ebs(platform, _task(platform), name="app-scratch-0")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({"container_path": "data"}, "container_path: 'data' is not an absolute directory", id="relative_path"),
        pytest.param({"root_directory": "/"}, "root_directory: '/' is not a directory of its own", id="root_is_slash"),
        pytest.param({"root_directory": "shared"}, "root_directory: 'shared' is not a directory of its own", id="relative_root"),
        pytest.param({"root_directory": "/a/../b"}, "root_directory: '/a/../b' is not a directory of its own", id="dotdot_root"),
        pytest.param({"uid": -1}, "uid: -1 is out of range; allowed: 0..4294967295", id="negative_uid"),
        pytest.param({"volume_name": ""}, "volume_name: '' is not a volume name", id="empty_volume_name"),
    ],
)
def test_mount_efs_fails_when_a_prop_breaks_its_rule(platform: Platform, overrides: dict[str, Any], expected: str) -> None:
    """Bad EFS mount props are refused with the field, the value and what is allowed."""
    with pytest.raises(ConstructError) as raised:
        _efs(platform, _task(platform), **overrides)
    assert expected in str(raised.value)


def test_shared_file_system_fails_without_subnets_or_with_a_bad_id(platform: Platform) -> None:
    """EFS needs subnets for its mount targets (an empty selection is refused); an imported ID must be fs-<hex>."""
    with pytest.raises(ConstructError, match="Test/NoSubnets: subnets: EFS needs subnets for its mount targets"):
        SharedFileSystem(
            platform.stack,
            "NoSubnets",
            props=SharedFileSystemProps(vpc=platform.vpc, subnets=ec2.SubnetSelection(subnets=[]), encryption_key=platform.key),
        )
    with pytest.raises(ConstructError, match="file_system_id: 'my-files' is not a file system ID; allowed: fs-<hex>"):
        SharedFileSystem(
            platform.stack,
            "BadId",
            props=SharedFileSystemProps(vpc=platform.vpc, subnets=PRIVATE, encryption_key=platform.key, file_system_id="my-files"),
        )
