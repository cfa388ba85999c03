"""specs/complete.yaml (issue 15): a real application's spec synthesized, each feature read back from the template:
container lifecycle, FireLens and X-Ray sidecars (IAM-5), EFS and EBS volumes, producers and consumers, VPC endpoints
and egress rules, load balancer extras, the stores the platform owns, and the CloudFormation overrides."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk.assertions import Template

from ecs_platform.outputs import OVERRIDES_METADATA
from ecs_platform.summary import render
from tests.conftest import Synthesized
from tests.helpers import actions_on, one, role_policy

REGION, ACCOUNT = "ap-northeast-1", "111122223333"


@pytest.fixture(scope="module")
def complete(synth: Callable[[str], Synthesized]) -> Synthesized:
    return synth("complete")


def _task_definition(synth: Synthesized, family: str) -> dict[str, Any]:
    return next(v["Properties"] for v in synth.resources("AWS::ECS::TaskDefinition").values() if v["Properties"]["Family"] == family)


def _containers(synth: Synthesized, family: str) -> dict[str, dict[str, Any]]:
    return {c["Name"]: c for c in _task_definition(synth, family)["ContainerDefinitions"]}


def _service(synth: Synthesized, name: str) -> tuple[str, dict[str, Any]]:
    return next((k, v) for k, v in synth.resources("AWS::ECS::Service").items() if v["Properties"].get("ServiceName") == name)


def _ref(logical_id: str, attribute: str | None = None) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, attribute]} if attribute else {"Ref": logical_id}


def _id_of(synth: Synthesized, kind: str, path_part: str) -> str:
    (found,) = [k for k in synth.resources(kind) if path_part in k]
    return found


# --- 1. containers -----------------------------------------------------------------------------------------------


def test_a_container_waits_for_its_migration_to_succeed_and_stops_gracefully(complete: Synthesized) -> None:
    """depends_on, entrypoint and command, working directory, stop timeout, init process, ulimits, dropped
    capabilities and Docker labels reach the container definition as ECS names them."""
    app = _containers(complete, "api")["app"]
    assert app["DependsOn"] == [{"ContainerName": "migrate", "Condition": "SUCCESS"}]
    assert app["EntryPoint"] == ["/docker-entrypoint.sh"] and app["Command"] == ["nginx", "-g", "daemon off;"]
    assert app["WorkingDirectory"] == "/usr/share/nginx" and app["StopTimeout"] == 60
    assert app["LinuxParameters"] == {"InitProcessEnabled": True, "Capabilities": {"Drop": ["NET_RAW"]}}
    assert app["Ulimits"] == [{"Name": "nofile", "SoftLimit": 65535, "HardLimit": 65535}]
    assert app["DockerLabels"] == {"com.example.team": "checkout"}
    assert _containers(complete, "api")["migrate"]["Essential"] is False


def test_each_port_names_its_application_protocol(complete: Synthesized) -> None:
    """Service Connect reports HTTP and gRPC metrics by the port's protocol."""
    assert _containers(complete, "api")["app"]["PortMappings"][0]["AppProtocol"] == "http"
    assert _containers(complete, "pricing")["grpc"]["PortMappings"][0]["AppProtocol"] == "grpc"


# --- 2. sidecars -------------------------------------------------------------------------------------------------


def test_iam5_firelens_routes_the_logs_to_the_bucket_with_put_object_under_the_prefix_only(complete: Synthesized) -> None:
    """The log router is a Fluent Bit container; the application's logs go through it to the uploads bucket, and
    the task role may only write objects under the prefix (and use the bucket's key through S3)."""
    containers = _containers(complete, "api")
    router = containers["log_router"]
    assert router["FirelensConfiguration"]["Type"] == "fluentbit"
    assert router["LogConfiguration"]["LogDriver"] == "awslogs"  # the router's own logs
    app_logs = containers["app"]["LogConfiguration"]
    assert app_logs["LogDriver"] == "awsfirelens" and app_logs["Options"]["Name"] == "s3"
    bucket = _id_of(complete, "AWS::S3::Bucket", "Storeuploads")
    policy = role_policy(complete, "api", "task")
    writes = {k: v for k, v in policy.items() if v == {"s3:PutObject"}}
    (resource,) = [json.loads(k[0]) for k in writes]
    assert resource == {"Fn::Join": ["", [_ref(bucket, "Arn"), "/logs/api/*"]]}


def test_iam5_the_tracing_collector_sends_to_xray_with_exactly_the_two_actions(complete: Synthesized) -> None:
    containers = _containers(complete, "api")
    collector = containers["aws-otel-collector"]
    assert collector["Command"] == ["--config=/etc/ecs/ecs-xray.yaml"] and collector["Essential"] is False
    assert {e["Name"]: e["Value"] for e in containers["app"]["Environment"]}["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://localhost:4318"
    assert actions_on(role_policy(complete, "api", "task"), "*") == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


# --- 3. volumes --------------------------------------------------------------------------------------------------


def test_efs_is_mounted_through_an_access_point_with_tls_and_iam(complete: Synthesized) -> None:
    (volume,) = [v for v in _task_definition(complete, "nightly-report")["Volumes"] if "EFSVolumeConfiguration" in v]
    efs = volume["EFSVolumeConfiguration"]
    assert efs["TransitEncryption"] == "ENABLED" and efs["AuthorizationConfig"]["IAM"] == "ENABLED"
    file_system = one(complete.resources("AWS::EFS::FileSystem"))["Properties"]
    assert file_system["Encrypted"] is True and "KmsKeyId" in file_system
    mounts = complete.resources("AWS::EFS::MountTarget").values()
    assert all("Batch" in json.dumps(m["Properties"]["SubnetId"]) for m in mounts) and len(mounts) == 2
    access_point = one(complete.resources("AWS::EFS::AccessPoint"))["Properties"]
    assert access_point["RootDirectory"]["Path"] == "/nightly-report"


def test_iam5_the_job_may_mount_and_write_the_file_system_through_its_access_point_only(complete: Synthesized) -> None:
    policy = role_policy(complete, "nightly-report", "task")
    (granted,) = [
        (json.loads(condition), actions) for (resource, condition), actions in policy.items() if "elasticfilesystem" in str(actions)
    ]
    condition, actions = granted
    assert actions == {"elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"}
    assert "elasticfilesystem:AccessPointArn" in json.dumps(condition)


def test_nfs_reaches_the_mount_targets_from_the_jobs_tasks_only(complete: Synthesized) -> None:
    """SEC-2: the file system's group admits tcp/2049 from the job's security group, from no CIDR."""
    rules = [
        r["Properties"] for r in complete.resources("AWS::EC2::SecurityGroupIngress").values() if r["Properties"].get("FromPort") == 2049
    ]
    assert rules and all("SourceSecurityGroupId" in r and "CidrIp" not in r for r in rules)


# --- 4. producers and consumers ----------------------------------------------------------------------------------


def test_iam5_a_producer_sends_to_the_workers_queue_by_its_name(complete: Synthesized) -> None:
    """sqs_send naming a worker: SendMessage on its queue, its URL in the producer's environment."""
    queue = _id_of(complete, "AWS::SQS::Queue", "WorkerfulfilmentQueueWorkerQueue")
    policy = role_policy(complete, "api", "task")
    assert actions_on(policy, json.dumps(_ref(queue, "Arn"), sort_keys=True)) == {"sqs:SendMessage"}
    environment = {e["Name"]: e["Value"] for e in _containers(complete, "api")["app"]["Environment"]}
    assert environment["FULFILMENT_QUEUE_URL"] == _ref(queue)


def test_iam5_a_publisher_publishes_to_the_platform_topic_and_the_worker_is_subscribed_with_its_filter(complete: Synthesized) -> None:
    topic_id, topic = next((k, v) for k, v in complete.resources("AWS::SNS::Topic").items() if "Topicorderevents" in k)
    assert topic["Properties"]["TopicName"] == "complete-prod-order-events" and "KmsMasterKeyId" in topic["Properties"]
    assert actions_on(role_policy(complete, "api", "task"), json.dumps(_ref(topic_id), sort_keys=True)) == {"sns:Publish"}
    subscription = one(complete.resources("AWS::SNS::Subscription"))["Properties"]
    assert subscription["Protocol"] == "sqs" and subscription["RawMessageDelivery"] is True
    assert subscription["FilterPolicy"] == {"event": ["order_placed", "order_paid"]}


def test_the_worker_calls_the_grpc_service_through_service_connect(complete: Synthesized) -> None:
    """A worker named among a service's callers joins the namespace as a client, carries its caller group, and may
    leave on the service's port only towards that service's tasks."""
    _, worker = _service(complete, "fulfilment")
    assert worker["Properties"]["ServiceConnectConfiguration"]["Enabled"] is True
    assert "Services" not in worker["Properties"]["ServiceConnectConfiguration"]
    assert len(worker["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]["SecurityGroups"]) == 2
    egress = [
        r["Properties"] for r in complete.resources("AWS::EC2::SecurityGroupEgress").values() if r["Properties"].get("FromPort") == 50051
    ]
    assert len(egress) == 1 and "DestinationSecurityGroupId" in egress[0]


# --- 6. stores ---------------------------------------------------------------------------------------------------


def test_the_platforms_stores_are_encrypted_and_kept_in_production(complete: Synthesized) -> None:
    bucket = complete.resources("AWS::S3::Bucket")[_id_of(complete, "AWS::S3::Bucket", "Storeuploads")]
    assert (
        bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
        == "aws:kms"
    )
    assert bucket["DeletionPolicy"] == "Retain"
    table = one(complete.resources("AWS::DynamoDB::Table"))
    assert table["Properties"]["SSESpecification"]["SSEEnabled"] is True
    assert table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["Properties"]["DeletionProtectionEnabled"] is True
    cluster = one(complete.resources("AWS::RDS::DBCluster"))
    assert cluster["Properties"]["StorageEncrypted"] is True and cluster["Properties"]["DeletionProtection"] is True
    assert cluster["Properties"]["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 8}
    assert cluster["Properties"]["BackupRetentionPeriod"] == 35 and cluster["DeletionPolicy"] == "Snapshot"
    assert complete.resources("AWS::SecretsManager::RotationSchedule")


def test_iam5_workloads_reach_the_stores_by_name(complete: Synthesized) -> None:
    """s3, dynamodb and rds_data entries naming a store are granted on that store (and its secret)."""
    api = role_policy(complete, "api", "task")
    table = _id_of(complete, "AWS::DynamoDB::Table", "Storeorders")
    assert {"dynamodb:GetItem", "dynamodb:PutItem"} <= actions_on(api, json.dumps(_ref(table, "Arn"), sort_keys=True))
    flat = json.dumps({f"{k[0]}|{k[1]}": sorted(v) for k, v in api.items()})
    assert "rds-data:ExecuteStatement" in flat and "secretsmanager:GetSecretValue" in flat
    worker = role_policy(complete, "fulfilment", "task")
    assert actions_on(worker, json.dumps(_ref(table, "Arn"), sort_keys=True)) == {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"}


# --- 7. overrides ------------------------------------------------------------------------------------------------


def test_overrides_land_on_the_resources_and_are_listed_in_their_metadata(complete: Synthesized) -> None:
    _, service = _service(complete, "api")
    assert service["Properties"]["AvailabilityZoneRebalancing"] == "ENABLED"
    assert service["Metadata"][OVERRIDES_METADATA] == ['AWS::ECS::Service AvailabilityZoneRebalancing = "ENABLED"']
    job = next(v for v in complete.resources("AWS::ECS::TaskDefinition").values() if v["Properties"]["Family"] == "nightly-report")
    assert job["Properties"]["ContainerDefinitions"][0]["StartTimeout"] == 120


# --- 5. networks and load balancers ------------------------------------------------------------------------------


def test_the_public_load_balancer_admits_the_allow_list_only(complete: Synthesized) -> None:
    groups = [
        g["Properties"]
        for g in complete.resources("AWS::EC2::SecurityGroup").values()
        if "ALB" in g["Properties"].get("GroupDescription", "") or "load balancer" in g["Properties"].get("GroupDescription", "").lower()
    ]
    cidrs = {rule.get("CidrIp") for g in groups for rule in g.get("SecurityGroupIngress", [])}
    assert {"203.0.113.0/24", "198.51.100.0/24"} <= cidrs and "0.0.0.0/0" not in cidrs


def test_the_target_group_is_sticky_and_starts_slowly(complete: Synthesized) -> None:
    attributes = {
        a["Key"]: a["Value"]
        for tg in complete.resources("AWS::ElasticLoadBalancingV2::TargetGroup").values()
        for a in tg["Properties"].get("TargetGroupAttributes", [])
    }
    assert attributes["stickiness.enabled"] == "true" and attributes["stickiness.lb_cookie.duration_seconds"] == "3600"
    assert attributes["slow_start.duration_seconds"] == "60"


def test_vpc_endpoints_serve_the_private_subnets_and_batch_has_no_nat_route(complete: Synthesized) -> None:
    endpoints = complete.resources("AWS::EC2::VPCEndpoint", "network")
    services = {json.dumps(e["Properties"]["ServiceName"]) for e in endpoints.values()}
    for name in ("ecr.api", "ecr.dkr", "logs", "s3", "secretsmanager", "sts", "sqs"):
        assert any(name in s for s in services), name
    routes = complete.resources("AWS::EC2::Route", "network")
    assert not [k for k, r in routes.items() if "Batch" in k and "NatGatewayId" in r["Properties"]]


def test_a_workloads_egress_rules_replace_all_outbound(complete: Synthesized) -> None:
    _, api = _service(complete, "api")
    (group_ref, *_) = api["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]["SecurityGroups"]
    group = complete.workloads_json["Resources"][group_ref["Fn::GetAtt"][0]]["Properties"]
    egress = group["SecurityGroupEgress"]
    assert {(e.get("CidrIp"), e.get("FromPort")) for e in egress} >= {("0.0.0.0/0", 443)}
    assert not [e for e in egress if e.get("IpProtocol") == "-1"]


def test_the_synth_summary_lists_every_override(complete: Synthesized) -> None:
    """The escape hatch is never silent: each override is a line of `make synth`'s summary."""
    lines = [line for line in render(complete.outdir).splitlines() if line.startswith("override: ")]
    assert len(lines) == 2
    assert any("AWS::ECS::TaskDefinition ContainerDefinitions.0.StartTimeout = 120" in line for line in lines)
    assert any('AWS::ECS::Service AvailabilityZoneRebalancing = "ENABLED"' in line for line in lines)


def test_every_stack_of_the_example_synthesizes_nag_clean(complete: Synthesized) -> None:
    """The app's validation report has no unacknowledged finding (synthesis would have failed)."""
    report = complete.validation_report()
    assert all(not plugin.get("violations") for plugin in report["pluginReports"])
    assert Template.from_stack(complete.stage.network_stack).to_json()["Resources"]
