"""The default spec (the source document's example) against the requirements catalog.

Each test names the requirement ID it proves and asserts the exact value the requirement
names, read from the synthesized CloudFormation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from tests.conftest import Synthesized
from tests.helpers import import_to_resource, one, tags_of

TASK_FAMILY = "my-task"


def _service(default: Synthesized) -> dict[str, Any]:
    return one(default.resources("AWS::ECS::Service"))["Properties"]


def _task_definitions(default: Synthesized) -> dict[str, dict[str, Any]]:
    return {v["Properties"]["Family"]: v["Properties"] for v in default.resources("AWS::ECS::TaskDefinition").values()}


# --- CLI: the document's commands as infrastructure ------------------------------------


def test_cli4_cluster_has_name_tag(default: Synthesized) -> None:
    """CLI-4: aws ecs create-cluster --cluster-name MyCluster --tags key=Name,value=MyCluster."""
    cluster = one(default.resources("AWS::ECS::Cluster"))
    assert tags_of(cluster)["Name"] == "MyCluster"


def test_cli5_task_definition_matches_document(default: Synthesized) -> None:
    """CLI-5: family, awsvpc, FARGATE, 256/512, roles, container, port 80/tcp, essential, awslogs, Name tag."""
    default.workloads.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "Family": "my-task",
            "NetworkMode": "awsvpc",
            "RequiresCompatibilities": ["FARGATE"],
            "Cpu": "256",
            "Memory": "512",
            "ExecutionRoleArn": {"Fn::GetAtt": [Match.string_like_regexp("ExecutionRole"), "Arn"]},
            "TaskRoleArn": {"Fn::GetAtt": [Match.string_like_regexp("TaskRole"), "Arn"]},
            "ContainerDefinitions": [
                {
                    "Name": "my-container",
                    "Image": "nginx:latest",
                    "Essential": True,
                    "PortMappings": [{"ContainerPort": 80, "Protocol": "tcp"}],
                    "LogConfiguration": {
                        "LogDriver": "awslogs",
                        "Options": {
                            "awslogs-group": {"Ref": Match.string_like_regexp("Logs")},
                            "awslogs-region": "ap-northeast-1",
                            "awslogs-stream-prefix": "ecs",
                        },
                    },
                }
            ],
            "Tags": Match.array_with([{"Key": "Name", "Value": "my-task"}]),
        },
    )


def test_cli6_service_matches_document(default: Synthesized) -> None:
    """CLI-6: desired count 2, FARGATE, two subnets, a security group, target group + container + port, Name tag."""
    service = _service(default)
    assert service["DesiredCount"] == 2
    assert service["LaunchType"] == "FARGATE"
    assert service["ServiceName"] == "my-service"
    network = service["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert len(network["Subnets"]) == 2
    assert len(network["SecurityGroups"]) == 1
    (lb,) = service["LoadBalancers"]
    assert lb["ContainerName"] == "my-container"
    assert lb["ContainerPort"] == 80
    assert "Ref" in lb["TargetGroupArn"]
    assert {"Key": "Name", "Value": "my-service"} in service["Tags"]


def test_cli7_run_task_output_is_a_ready_command(default: Synthesized) -> None:
    """CLI-7: a ready `aws ecs run-task` with count, FARGATE, private batch subnets and SG, no public IP, tagged;
    it starts the revision this stack deployed (the task definition's ARN), not the family's latest."""
    output = default.workloads_json["Outputs"]["NightlyReportRunTaskCommand"]["Value"]
    parts = output["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else "<token>" for p in parts)
    assert text.startswith("aws ecs run-task --cluster <token> --task-definition <token> --count 1 --launch-type FARGATE")
    revision = parts[parts.index(" --task-definition ") + 1]["Ref"]
    assert default.resources("AWS::ECS::TaskDefinition")[revision]["Properties"]["Family"] == "nightly-report"
    assert 'awsvpcConfiguration={subnets=[<token>],securityGroups=[<token>],assignPublicIp=DISABLED}"' in text
    assert text.endswith("--tags key=Name,value=nightly-report-manual")
    subnet_refs = parts[parts.index(next(p for p in parts if isinstance(p, dict) and "Fn::Join" in p))]["Fn::Join"][1]
    resolved = [import_to_resource(default, ref) for ref in subnet_refs]
    assert {logical_id for logical_id, _ in resolved} == {k for k in default.resources("AWS::EC2::Subnet", "network") if "BatchSubnet" in k}
    sg = next(p for p in parts if isinstance(p, dict) and "Fn::GetAtt" in p)["Fn::GetAtt"][0]
    assert tags_of(default.resources("AWS::EC2::SecurityGroup")[sg])["Name"] == "nightly-report"


def test_cli8_outputs_name_cluster_services_and_task_definitions(default: Synthesized) -> None:
    """CLI-8: the outputs name what list/describe/delete commands need (besides the exports other stacks may use)."""
    assert {k for k in default.workloads_json["Outputs"] if not k.startswith("ExportsOutput")} == {
        "AlarmTopic",
        "ClusterName",
        "DashboardUrl",
        "JobFailuresTopic",
        "MyServiceUrl",
        "MyServiceServiceName",
        "MyServiceTaskDefinition",
        "NightlyReportRunTaskCommand",
        "NightlyReportRunTaskParameters",
        "NightlyReportTaskDefinition",
    }


def test_cli1_security_groups_have_name_tags_and_explicit_egress(default: Synthesized) -> None:
    """CLI-1: every security group carries a Name tag; the batch group's egress is an explicit rule."""
    groups = default.resources("AWS::EC2::SecurityGroup")
    assert len(groups) == 3
    assert sorted(tags_of(g)["Name"] for g in groups.values()) == ["my-service", "my-service-alb", "nightly-report"]
    batch = next(g for g in groups.values() if tags_of(g)["Name"] == "nightly-report")
    assert batch["Properties"]["SecurityGroupEgress"] == [
        {
            "CidrIp": "0.0.0.0/0",
            "Description": "HTTPS to AWS APIs and registries",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]


# --- ARCH / USE ---------------------------------------------------------------------------


def test_arch1_service_references_its_task_definition(default: Synthesized) -> None:
    """ARCH-1: service -> task definition; the definition declares image, CPU/memory and (here) no env."""
    service = _service(default)
    web_td = next(k for k, v in default.resources("AWS::ECS::TaskDefinition").items() if v["Properties"]["Family"] == TASK_FAMILY)
    assert service["TaskDefinition"] == {"Ref": web_td}


def test_arch4_use1_web_service_behind_alb(default: Synthesized) -> None:
    """ARCH-4 / USE-1: an internet-facing ALB whose listener rule forwards every path to the service's
    target group; a request no rule takes gets a 404."""
    default.workloads.resource_count_is("AWS::ElasticLoadBalancingV2::LoadBalancer", 1)
    default.workloads.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {
            "Scheme": "internet-facing",
            "Type": "application",
            "LoadBalancerAttributes": Match.array_with([{"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"}]),
        },
    )
    listener = one(default.resources("AWS::ElasticLoadBalancingV2::Listener"))["Properties"]
    assert listener["Port"] == 80 and listener["Protocol"] == "HTTP"
    (default_action,) = listener["DefaultActions"]
    assert (default_action["Type"], default_action["FixedResponseConfig"]["StatusCode"]) == ("fixed-response", "404")
    rule = one(default.resources("AWS::ElasticLoadBalancingV2::ListenerRule"))["Properties"]
    assert rule["Conditions"] == [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}]
    assert rule["Priority"] == 50000  # the catch-all, after any specific rule
    (action,) = rule["Actions"]
    assert action["Type"] == "forward"
    assert action["TargetGroupArn"] == _service(default)["LoadBalancers"][0]["TargetGroupArn"]
    default.workloads.resource_count_is("AWS::ECS::Service", 1)


def test_arch8_circuit_breaker_rolls_back(default: Synthesized) -> None:
    """ARCH-8: DeploymentCircuitBreaker {Enable: true, Rollback: true} on every service."""
    for service in default.resources("AWS::ECS::Service").values():
        assert service["Properties"]["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}


def test_use3_job_is_a_scheduled_task_not_a_service(default: Synthesized) -> None:
    """USE-3 / CLI-9: the job runs through EventBridge Scheduler; no ECS service keeps it running."""
    # EventBridge rules only watch for failed runs; none schedules the job.
    assert all("ScheduleExpression" not in r["Properties"] for r in default.resources("AWS::Events::Rule").values())
    schedule = one(default.resources("AWS::Scheduler::Schedule"))["Properties"]
    assert schedule["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "Asia/Tokyo"
    ecs_params = schedule["Target"]["EcsParameters"]
    job_td = next(k for k, v in default.resources("AWS::ECS::TaskDefinition").items() if v["Properties"]["Family"] == "nightly-report")
    assert ecs_params["TaskDefinitionArn"] == {"Ref": job_td}
    assert ecs_params["TaskCount"] == 1
    assert ecs_params["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    services = default.resources("AWS::ECS::Service").values()
    assert all(s["Properties"]["TaskDefinition"] != {"Ref": job_td} for s in services)


# --- BP -------------------------------------------------------------------------------


def test_bp1_one_task_role_per_task_definition(default: Synthesized) -> None:
    """BP-1: distinct TaskRoleArn per task definition; no role shared between workloads."""
    task_roles = [td["TaskRoleArn"]["Fn::GetAtt"][0] for td in _task_definitions(default).values()]
    exec_roles = [td["ExecutionRoleArn"]["Fn::GetAtt"][0] for td in _task_definitions(default).values()]
    assert len(task_roles) == 2
    assert len(set(task_roles + exec_roles)) == 4


def test_bp2_health_check_and_grace_period(default: Synthesized) -> None:
    """BP-2 / HA-6: the target-group health check (path, thresholds) that makes ECS replace an
    unhealthy task, and the service's grace period."""
    default.workloads.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {
            "HealthCheckEnabled": True,
            "HealthCheckPath": "/",
            "HealthCheckIntervalSeconds": 10,
            "HealthCheckTimeoutSeconds": 5,
            "HealthyThresholdCount": 2,
            "UnhealthyThresholdCount": 3,
            "Matcher": {"HttpCode": "200-399"},
            "TargetType": "ip",
            "TargetGroupAttributes": Match.array_with([{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}]),
        },
    )
    assert _service(default)["HealthCheckGracePeriodSeconds"] == 60


def test_bp3_obs1_every_container_logs_to_encrypted_retained_group(default: Synthesized) -> None:
    """BP-3 / OBS-1: awslogs on every container to /ecs/<app>/<env>/<workload>, prefix ecs, KMS-encrypted,
    365-day retention (the document's /ecs/<family> would collide between environments of one account)."""
    groups = default.resources("AWS::Logs::LogGroup")
    workloads = {w.task_family: w.name for w in (*default.spec.services, *default.spec.jobs)}
    for family, td in _task_definitions(default).items():
        for container in td["ContainerDefinitions"]:
            log = container["LogConfiguration"]
            assert log["LogDriver"] == "awslogs"
            assert log["Options"]["awslogs-stream-prefix"] == "ecs"
            group = groups[log["Options"]["awslogs-group"]["Ref"]]["Properties"]
            assert group["LogGroupName"] == f"/ecs/my-app/dev/{workloads[family]}"
            assert group["RetentionInDays"] == 365
            key_id, attribute = group["KmsKeyId"]["Fn::GetAtt"]
            assert attribute == "Arn"
            assert default.resources("AWS::KMS::Key")[key_id]["Properties"]["EnableKeyRotation"] is True


# --- HA ------------------------------------------------------------------------------------


def test_ha1_the_cluster_is_a_regional_control_plane_the_stacks_do_not_place(default: Synthesized) -> None:
    """HA-1: the ECS control plane is AWS's, run across the region's AZs: the cluster resource names no zone, subnet or
    instance (nothing of it is placed by the platform), and it is the one control-plane resource the stacks create."""
    (cluster,) = default.resources("AWS::ECS::Cluster").values()
    placed = {key for key in json.dumps(cluster["Properties"]).split('"') if re.search(r"Zone|Subnet|Instance", key)}
    assert placed == set()
    assert set(cluster["Properties"]) <= {"ClusterName", "ClusterSettings", "Configuration", "ServiceConnectDefaults", "Tags"}


def test_ha2_service_subnets_span_two_azs(default: Synthesized) -> None:
    """HA-2 / HA-7: the service's subnets resolve to at least two distinct AZs, so tasks of a
    failed zone are rescheduled on the healthy one."""
    subnets = _service(default)["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"]
    zones = {resource["Properties"]["AvailabilityZone"] for _, resource in (import_to_resource(default, s) for s in subnets)}
    assert zones == {"ap-northeast-1a", "ap-northeast-1c"}


def test_ha3_desired_count_two_with_az_rebalancing(default: Synthesized) -> None:
    """HA-3: DesiredCount >= 2, spread over AZs, AZ rebalancing on, rolling update keeps 100 % healthy."""
    service = _service(default)
    assert service["DesiredCount"] == 2
    assert service["AvailabilityZoneRebalancing"] == "ENABLED"
    assert service["DeploymentConfiguration"]["MinimumHealthyPercent"] == 100
    assert service["DeploymentConfiguration"]["MaximumPercent"] == 200


# --- SEC ---------------------------------------------------------------------------------


def test_sec1_web_and_batch_run_in_their_own_private_subnets(default: Synthesized) -> None:
    """SEC-1: web tasks in the Web subnets, batch tasks in the Batch subnets, ALB in public ones, no public IPs."""
    service = _service(default)["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert service["AssignPublicIp"] == "DISABLED"
    web = {logical_id for logical_id, _ in (import_to_resource(default, s) for s in service["Subnets"])}
    assert web and all("WebSubnet" in s for s in web)
    schedule = one(default.resources("AWS::Scheduler::Schedule"))["Properties"]
    batch_cfg = schedule["Target"]["EcsParameters"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert batch_cfg["AssignPublicIp"] == "DISABLED"
    batch = {logical_id for logical_id, _ in (import_to_resource(default, s) for s in batch_cfg["Subnets"])}
    assert batch and all("BatchSubnet" in s for s in batch)
    alb = one(default.resources("AWS::ElasticLoadBalancingV2::LoadBalancer"))["Properties"]
    public = {logical_id for logical_id, _ in (import_to_resource(default, s) for s in alb["Subnets"])}
    assert public and all("PublicSubnet" in s for s in public)
    subnets = default.resources("AWS::EC2::Subnet", "network")
    private = {k for k, v in subnets.items() if not v["Properties"]["MapPublicIpOnLaunch"]}
    assert web | batch <= private and not web & batch


def test_sec2_alb_security_group_only_80_and_443_in(default: Synthesized) -> None:
    """SEC-2: the ALB's group admits 80 and 443 only, and sends only to the web tasks on the container port."""
    alb_sg = next(v for v in default.resources("AWS::EC2::SecurityGroup").values() if tags_of(v)["Name"] == "my-service-alb")
    ingress = sorted((r["FromPort"], r["ToPort"], r["IpProtocol"], r["CidrIp"]) for r in alb_sg["Properties"]["SecurityGroupIngress"])
    assert ingress == [(80, 80, "tcp", "0.0.0.0/0"), (443, 443, "tcp", "0.0.0.0/0")]
    assert "SecurityGroupEgress" not in alb_sg["Properties"] or all(
        r.get("CidrIp") == "255.255.255.255/32" for r in alb_sg["Properties"]["SecurityGroupEgress"]
    )
    (egress,) = default.resources("AWS::EC2::SecurityGroupEgress").values()
    assert (egress["Properties"]["FromPort"], egress["Properties"]["ToPort"]) == (80, 80)


def test_sec2_web_tasks_admit_only_the_alb_on_the_container_port(default: Synthesized) -> None:
    """SEC-2: web task group: ingress only from the ALB's group on 80; egress all (as the document says)."""
    web_sg_id = next(k for k, v in default.resources("AWS::EC2::SecurityGroup").items() if tags_of(v)["Name"] == "my-service")
    alb_sg_id = next(k for k, v in default.resources("AWS::EC2::SecurityGroup").items() if tags_of(v)["Name"] == "my-service-alb")
    web_sg = default.resources("AWS::EC2::SecurityGroup")[web_sg_id]["Properties"]
    assert "SecurityGroupIngress" not in web_sg
    assert web_sg["SecurityGroupEgress"] == [
        {"CidrIp": "0.0.0.0/0", "Description": "Allow all outbound traffic by default", "IpProtocol": "-1"}
    ]
    (ingress,) = default.resources("AWS::EC2::SecurityGroupIngress").values()
    assert ingress["Properties"] == {
        "Description": "Load balancer to target",
        "FromPort": 80,
        "ToPort": 80,
        "IpProtocol": "tcp",
        "GroupId": {"Fn::GetAtt": [web_sg_id, "GroupId"]},
        "SourceSecurityGroupId": {"Fn::GetAtt": [alb_sg_id, "GroupId"]},
    }


def test_sec2_batch_group_has_no_ingress_and_only_443_out(default: Synthesized) -> None:
    """SEC-2: batch group: no inbound rule at all, outbound tcp/443 only."""
    batch_id, batch = next(
        (k, v) for k, v in default.resources("AWS::EC2::SecurityGroup").items() if tags_of(v)["Name"] == "nightly-report"
    )
    assert "SecurityGroupIngress" not in batch["Properties"]
    for rule in default.resources("AWS::EC2::SecurityGroupIngress").values():
        assert rule["Properties"]["GroupId"] != {"Fn::GetAtt": [batch_id, "GroupId"]}
    assert [(r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in batch["Properties"]["SecurityGroupEgress"]] == [("tcp", 443, 443)]


# --- IAM -------------------------------------------------------------------------------


def test_iam2_execution_role_logs_scoped_to_own_log_group(default: Synthesized) -> None:
    """IAM-2: the execution role may write to its task's log group and nothing else."""
    policies = default.resources("AWS::IAM::ManagedPolicy")
    for family, td in _task_definitions(default).items():
        role = td["ExecutionRoleArn"]["Fn::GetAtt"][0]
        (policy,) = [p for p in policies.values() if p["Properties"]["Roles"] == [{"Ref": role}]]
        group = td["ContainerDefinitions"][0]["LogConfiguration"]["Options"]["awslogs-group"]["Ref"]
        assert policy["Properties"]["PolicyDocument"]["Statement"] == [
            {
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [group, "Arn"]},
            }
        ], family


def test_iam6_roles_trust_ecs_tasks_of_this_account_only(default: Synthesized) -> None:
    """IAM-6 (CLI-2, CLI-3): the execution and task roles of the document's CLI examples trust
    ecs-tasks.amazonaws.com with sts:AssumeRole, plus aws:SourceAccount / aws:SourceArn conditions."""
    roles = default.resources("AWS::IAM::Role")
    ecs_roles = [
        r
        for r in roles.values()
        if r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"].get("Service") == "ecs-tasks.amazonaws.com"
    ]
    assert len(ecs_roles) == 4
    for role in ecs_roles:
        assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
            {
                "Action": "sts:AssumeRole",
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                    "ArnLike": {"aws:SourceArn": {"Fn::Join": ["", ["arn:aws:ecs:ap-northeast-1:", {"Ref": "AWS::AccountId"}, ":*"]]}},
                },
            }
        ]


def test_iam8_no_aws_managed_policy_and_no_inline_policy(default: Synthesized) -> None:
    """IAM-8: no role has an AWS managed policy or an inline policy; grants live in customer-managed policies."""
    for template in ("workloads", "network"):
        for role in default.resources("AWS::IAM::Role", template).values():
            assert "ManagedPolicyArns" not in role["Properties"]
            assert "Policies" not in role["Properties"]
        assert default.resources("AWS::IAM::Policy", template) == {}
    for policy in default.resources("AWS::IAM::ManagedPolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Resource"] != "*"
            assert "*" not in statement["Action"]


def test_default_nginx_runs_read_only_with_its_writable_paths(default: Synthesized) -> None:
    (container,) = _task_definitions(default)[TASK_FAMILY]["ContainerDefinitions"]
    assert container["ReadonlyRootFilesystem"] is True
    assert [m["ContainerPath"] for m in container["MountPoints"]] == ["/var/cache/nginx", "/var/run", "/tmp"]


def test_iam7_the_service_linked_role_is_not_created_per_stack(default: Synthesized) -> None:
    """IAM-7: ECS uses AWSServiceRoleForECS, which AWS creates; no stack creates or names it."""
    for template in (default.workloads_json, default.network_json):
        assert not [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::ServiceLinkedRole"]
        assert "AWSServiceRoleForECS" not in json.dumps(template)


@pytest.mark.parametrize("name", ["default", "production", "services", "batch", "web", "access"])
def test_ha8_a_rolling_replacement_of_one_task_takes_at_most_a_minute(name: str, synth: Callable[[str], Synthesized]) -> None:
    """HA-8 / BP-2: from the template's own values, a deployment replaces a task in deregistration
    delay + healthy threshold x health-check interval: at most 60 s unless the spec sets its own."""
    example = synth(name)
    defaults = [
        s.name for s in example.spec.services if s.health_check.interval_seconds is None and s.health_check.healthy_threshold is None
    ]
    for stack in example.stage.stacks:
        for logical_id, group in Template.from_stack(stack).find_resources("AWS::ElasticLoadBalancingV2::TargetGroup").items():
            if not any(logical_id.startswith("Service" + re.sub(r"[^A-Za-z0-9]", "", service)) for service in defaults):
                continue
            props = group["Properties"]
            delay = next(int(a["Value"]) for a in props["TargetGroupAttributes"] if a["Key"] == "deregistration_delay.timeout_seconds")
            seconds = delay + props["HealthyThresholdCount"] * props["HealthCheckIntervalSeconds"]
            assert seconds <= 60, f"{name}: {logical_id} replaces a task in {seconds} s"
