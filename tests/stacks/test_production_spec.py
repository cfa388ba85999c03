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
    """IAM-3/4, SEC-4/5: the execution role reads exactly the referenced secret and parameter;
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
    """Production: ALB deletion protection, stateful resources retained, stacks termination-protected."""
    production.workloads.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {"LoadBalancerAttributes": Match.array_with([{"Key": "deletion_protection.enabled", "Value": "true"}])},
    )
    for kind in ("AWS::Logs::LogGroup", "AWS::KMS::Key", "AWS::SQS::Queue", "AWS::S3::Bucket"):
        for logical_id, resource in production.resources(kind).items():
            assert resource.get("DeletionPolicy") == "Retain", logical_id
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
