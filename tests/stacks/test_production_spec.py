"""The production example: ECR images, secrets, HTTPS with WAF, retention and protection."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match

from tests.conftest import Synthesized
from tests.helpers import one

ACCOUNT = "111122223333"


def _execution_policy(production: Synthesized, family: str) -> list[dict[str, Any]]:
    td = next(v["Properties"] for v in production.resources("AWS::ECS::TaskDefinition").values() if v["Properties"]["Family"] == family)
    role = td["ExecutionRoleArn"]["Fn::GetAtt"][0]
    (policy,) = [p for p in production.resources("AWS::IAM::ManagedPolicy").values() if p["Properties"]["Roles"] == [{"Ref": role}]]
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def test_iam1_ecr_pull_scoped_to_the_repository(production: Synthesized) -> None:
    """IAM-1: the three pull actions on the image's repository; only GetAuthorizationToken on '*'."""
    statements = _execution_policy(production, "shop-api")
    assert {
        "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        "Effect": "Allow",
        "Resource": f"arn:aws:ecr:ap-northeast-1:{ACCOUNT}:repository/shop/api",
    } in statements
    assert {"Action": "ecr:GetAuthorizationToken", "Effect": "Allow", "Resource": "*"} in statements
    wildcard = [s for s in statements if s["Resource"] == "*"]
    assert wildcard == [{"Action": "ecr:GetAuthorizationToken", "Effect": "Allow", "Resource": "*"}]


def test_iam3_iam4_sec4_sec5_secrets_scoped_and_injected(production: Synthesized) -> None:
    """IAM-3, IAM-4, SEC-4, SEC-5: the execution role reads exactly the referenced secret and parameter;
    the container gets them as Secrets, never as plain environment values."""
    statements = _execution_policy(production, "shop-api")
    secret_arn = f"arn:aws:secretsmanager:ap-northeast-1:{ACCOUNT}:secret:shop/db-AbCdEf"
    parameter_arn = f"arn:aws:ssm:ap-northeast-1:{ACCOUNT}:parameter/shop/prod/payment-endpoint"
    by_resource = {s["Resource"]: s["Action"] for s in statements if isinstance(s["Resource"], str)}
    assert "secretsmanager:GetSecretValue" in by_resource[secret_arn]
    assert "ssm:GetParameters" in by_resource[parameter_arn]
    production.workloads.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "Family": "shop-api",
            "ContainerDefinitions": [
                Match.object_like(
                    {
                        "Environment": [{"Name": "LOG_LEVEL", "Value": "info"}],
                        "Secrets": [
                            {"Name": "DB_PASSWORD", "ValueFrom": secret_arn},
                            {"Name": "PAYMENT_ENDPOINT", "ValueFrom": parameter_arn},
                        ],
                    }
                )
            ],
        },
    )


def test_https_listener_with_tls13_policy_and_redirect(production: Synthesized) -> None:
    """ARCH-4: HTTPS 443 with the imported certificate and a TLS 1.3 policy; port 80 only redirects."""
    listeners = {v["Properties"]["Port"]: v["Properties"] for v in production.resources("AWS::ElasticLoadBalancingV2::Listener").values()}
    assert set(listeners) == {80, 443}
    https = listeners[443]
    assert https["Protocol"] == "HTTPS"
    assert https["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https["Certificates"] == [
        {"CertificateArn": f"arn:aws:acm:ap-northeast-1:{ACCOUNT}:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"}
    ]
    assert listeners[80]["DefaultActions"] == [
        {"Type": "redirect", "RedirectConfig": {"Port": "443", "Protocol": "HTTPS", "StatusCode": "HTTP_301"}}
    ]


def test_waf_web_acl_associated(production: Synthesized) -> None:
    association = one(production.resources("AWS::WAFv2::WebACLAssociation"))["Properties"]
    assert association["WebACLArn"].startswith(f"arn:aws:wafv2:ap-northeast-1:{ACCOUNT}:regional/webacl/shop/")
    assert association["ResourceArn"] == {"Ref": next(iter(production.resources("AWS::ElasticLoadBalancingV2::LoadBalancer")))}


def test_production_protects_state(production: Synthesized) -> None:
    """Production: ALB deletion protection, stateful resources retained on delete and replacement (but not
    when their first creation fails: a retried deploy starts clean), stacks termination-protected."""
    production.workloads.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {"LoadBalancerAttributes": Match.array_with([{"Key": "deletion_protection.enabled", "Value": "true"}])},
    )
    for kind in ("AWS::Logs::LogGroup", "AWS::KMS::Key", "AWS::SQS::Queue", "AWS::S3::Bucket", "AWS::SNS::Topic"):
        for logical_id, resource in production.resources(kind).items():
            assert (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy")) == ("RetainExceptOnCreate", "Retain"), logical_id
    assert production.stage.network_stack.termination_protection
    assert production.stage.workload_stack.termination_protection


def test_ha2_three_azs_with_a_nat_gateway_each(production: Synthesized) -> None:
    """HA-2: production spreads over the three named AZs, with one NAT gateway per AZ by default."""
    production.network.resource_count_is("AWS::EC2::NatGateway", 3)
    zones = {s["Properties"]["AvailabilityZone"] for s in production.resources("AWS::EC2::Subnet", "network").values()}
    assert zones == {"ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"}


def test_arch3_spot_job_and_on_demand_job(production: Synthesized) -> None:
    """ARCH-3 / USE-3: the scheduled job runs on FARGATE_SPOT; the unscheduled one only has its run-task command."""
    schedule = one(production.resources("AWS::Scheduler::Schedule"))["Properties"]
    assert schedule["ScheduleExpression"] == "rate(1 day)"
    assert schedule["Target"]["EcsParameters"]["CapacityProviderStrategy"] == [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]
    assert schedule["Target"]["EcsParameters"]["TaskCount"] == 2
    outputs = production.workloads_json["Outputs"]
    spot = "".join(p for p in outputs["SettlementRunTaskCommand"]["Value"]["Fn::Join"][1] if isinstance(p, str))
    assert "--count 2 --capacity-provider-strategy capacityProvider=FARGATE_SPOT,weight=1" in spot
    assert "ReindexRunTaskCommand" in outputs


def test_synthesis_needs_no_aws_lookup_with_a_named_account(production: Synthesized) -> None:
    """The spec names the AZs, so even with a concrete account the CLI has no context to look up
    (without it, `cdk synth` would call AWS for the account's availability zones)."""
    manifest = json.loads((production.outdir / "manifest.json").read_text())
    assert manifest.get("missing", []) == []


def test_arch5_ha5_service_auto_scaling(production: Synthesized) -> None:
    """ARCH-5 / HA-5: 3..12 tasks (never below two), target tracking on CPU and ALB requests per
    task, and scheduled range changes in Tokyo time."""
    target = one(production.resources("AWS::ApplicationAutoScaling::ScalableTarget"))["Properties"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (3, 12)
    assert target["ScalableDimension"] == "ecs:service:DesiredCount"
    assert {
        (a["ScheduledActionName"], a["Schedule"], a["Timezone"], a["ScalableTargetAction"]["MinCapacity"])
        for a in target["ScheduledActions"]
    } == {
        ("business-hours", "cron(0 8 ? * MON-FRI *)", "Asia/Tokyo", 6),
        ("night", "cron(0 22 ? * * *)", "Asia/Tokyo", 3),
    }
    policies = {
        p["Properties"]["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]["PredefinedMetricType"]: p[
            "Properties"
        ]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]
        for p in production.resources("AWS::ApplicationAutoScaling::ScalingPolicy").values()
    }
    assert policies == {"ECSServiceAverageCPUUtilization": 60, "ALBRequestCountPerTarget": 1000}


def test_obs2_service_alarms_notify_the_encrypted_alarm_topic(production: Synthesized) -> None:
    """OBS-2: CPU and memory utilization, running tasks below the minimum, pending tasks stuck."""
    topics = production.resources("AWS::SNS::Topic")
    (alarm_topic,) = [k for k, v in topics.items() if v["Properties"].get("DisplayName") == "shop service alarms"]
    assert topics[alarm_topic]["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": ["MessagingKey9A79A2B1", "Arn"]}
    alarms = {
        (a["Properties"].get("Namespace"), a["Properties"]["MetricName"]): a["Properties"]
        for a in production.resources("AWS::CloudWatch::Alarm").values()
    }
    service_alarms = {k: v for k, v in alarms.items() if v["AlarmActions"] == [{"Ref": alarm_topic}]}
    assert set(service_alarms) == {
        ("AWS/ApplicationELB", "UnHealthyHostCount"),  # these two also roll a deployment back (HA-8)
        ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"),
        ("AWS/ECS", "CPUUtilization"),
        ("AWS/ECS", "MemoryUtilization"),
        ("ECS/ContainerInsights", "RunningTaskCount"),
        ("ECS/ContainerInsights", "PendingTaskCount"),
    }
    running = service_alarms[("ECS/ContainerInsights", "RunningTaskCount")]
    assert (running["ComparisonOperator"], running["Threshold"], running["TreatMissingData"]) == ("LessThanThreshold", 3, "breaching")
    assert production.workloads_json["Outputs"]["AlarmTopic"]["Value"] == {"Ref": alarm_topic}


def test_arch3_capacity_provider_strategy_with_base_and_weights(production: Synthesized) -> None:
    service = one(production.resources("AWS::ECS::Service"))["Properties"]
    assert service["CapacityProviderStrategy"] == [
        {"CapacityProvider": "FARGATE", "Base": 2, "Weight": 1},
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 3},
    ]
    assert "LaunchType" not in service


def test_hardened_container_read_only_non_root_with_scratch_volumes_and_health_check(production: Synthesized) -> None:
    """BP-2 container health check; read-only root filesystem with writable scratch volumes; non-root user; ARM64."""
    td = next(v["Properties"] for v in production.resources("AWS::ECS::TaskDefinition").values() if v["Properties"]["Family"] == "shop-api")
    (container,) = td["ContainerDefinitions"]
    assert container["ReadonlyRootFilesystem"] is True
    assert container["User"] == "10001:10001"
    assert container["MountPoints"] == [
        {"ContainerPath": "/tmp", "ReadOnly": False, "SourceVolume": "app-scratch-0"},
        {"ContainerPath": "/app/cache", "ReadOnly": False, "SourceVolume": "app-scratch-1"},
    ]
    assert td["Volumes"] == [{"Name": "app-scratch-0"}, {"Name": "app-scratch-1"}]
    assert container["HealthCheck"]["Command"] == ["CMD-SHELL", "wget -q -O /dev/null http://localhost:8080/healthz || exit 1"]
    assert (container["HealthCheck"]["StartPeriod"], container["HealthCheck"]["Retries"]) == (20, 3)
    assert td["RuntimePlatform"]["CpuArchitecture"] == "ARM64"
    assert td["EphemeralStorage"] == {"SizeInGiB": 30}


def test_ha8_deployment_rolls_back_on_alb_alarms(production: Synthesized) -> None:
    """HA-8: besides the circuit breaker, alarms on unhealthy targets and target 5xx roll a
    deployment back; they watch the target group, so no circular dependency with the service."""
    service = one(production.resources("AWS::ECS::Service"))["Properties"]
    config = service["DeploymentConfiguration"]
    assert config["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert config["Alarms"]["Enable"] is True and config["Alarms"]["Rollback"] is True
    alarms = production.resources("AWS::CloudWatch::Alarm")
    watched = {alarms[ref["Ref"]]["Properties"]["MetricName"] for ref in config["Alarms"]["AlarmNames"]}
    assert watched == {"UnHealthyHostCount", "HTTPCode_Target_5XX_Count"}
    for ref in config["Alarms"]["AlarmNames"]:
        dimensions = {d["Name"] for d in alarms[ref["Ref"]]["Properties"]["Dimensions"]}
        assert dimensions == {"LoadBalancer", "TargetGroup"}
