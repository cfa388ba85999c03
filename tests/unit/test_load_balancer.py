"""LoadBalancer: an ALB with access logs, invalid-header dropping, HTTPS with redirect or HTTP (ARCH-4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk.assertions import Template

from ecs_platform.constructs import LoadBalancer, LoadBalancerProps, LogBuckets, Network, NetworkProps
from tests.unit.support import ACCOUNT, AZS, logical_id, new_app, new_stack, of_type, synth, tags_of

CERTIFICATE_ARN = f"arn:aws:acm:ap-northeast-1:{ACCOUNT}:certificate/0123abcd"
WEB_ACL_ARN = f"arn:aws:wafv2:ap-northeast-1:{ACCOUNT}:regional/webacl/platform/0123abcd"


@dataclass
class Scenario:
    template: Template
    ids: dict[str, str]
    subnets: dict[str, list[dict[str, str]]]
    load_balancers: dict[str, LoadBalancer]


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """Given a Network and three load balancers:

    - ``public``: internet-facing, with a certificate, deletion protection, a web ACL and a log prefix;
    - ``internal``: internal in the Web subnets, logging to a bucket of the caller's;
    - ``internal_default``: internal with every default.

    Each listener gets a fixed-response default action (a listener needs one to synthesize).
    """
    app = new_app()
    stack = new_stack(app)
    network = Network(stack, "Network", props=NetworkProps(availability_zones=AZS))
    shared_logs = LogBuckets(stack, "SharedLogs")
    lbs = {
        "public": LoadBalancer(
            stack,
            "Public",
            props=LoadBalancerProps(
                vpc=network.vpc,
                internet_facing=True,
                certificate=acm.Certificate.from_certificate_arn(stack, "Certificate", CERTIFICATE_ARN),
                deletion_protection=True,
                web_acl_arn=WEB_ACL_ARN,
                access_logs_prefix="public",
                security_group_name="public-alb",
            ),
        ),
        "internal": LoadBalancer(
            stack,
            "Internal",
            props=LoadBalancerProps(
                vpc=network.vpc,
                internet_facing=False,
                vpc_subnets=network.web_subnets,
                access_logs_bucket=shared_logs.access_logs,
            ),
        ),
        "internal_default": LoadBalancer(stack, "InternalDefault", props=LoadBalancerProps(vpc=network.vpc, internet_facing=False)),
    }
    for lb in lbs.values():
        lb.listener.add_action("Default", action=elbv2.ListenerAction.fixed_response(404))
    ids = {name: logical_id(lb.load_balancer) for name, lb in lbs.items()}
    ids["shared_logs"] = logical_id(shared_logs.access_logs)
    ids["public_logs"] = logical_id(lbs["public"].access_logs_bucket)
    subnets = {group: stack.resolve(network.vpc.select_subnets(subnet_group_name=group).subnet_ids) for group in ("Public", "Web", "Batch")}
    # When synthesized
    (template,) = synth(app, stack)
    return Scenario(template, ids, subnets, lbs)


def _lb(scenario: Scenario, name: str) -> dict[str, Any]:
    props: dict[str, Any] = of_type(scenario.template, "AWS::ElasticLoadBalancingV2::LoadBalancer")[scenario.ids[name]]["Properties"]
    return props


def _attributes(scenario: Scenario, name: str) -> dict[str, Any]:
    return {a["Key"]: a["Value"] for a in _lb(scenario, name)["LoadBalancerAttributes"]}


def _listeners(scenario: Scenario, name: str) -> dict[int, dict[str, Any]]:
    return {
        listener["Properties"]["Port"]: listener["Properties"]
        for listener in of_type(scenario.template, "AWS::ElasticLoadBalancingV2::Listener").values()
        if listener["Properties"]["LoadBalancerArn"] == {"Ref": scenario.ids[name]}
    }


# --- scheme and subnets -------------------------------------------------------------------


def test_arch4_sec1_internet_facing_alb_in_the_public_subnets(scenario: Scenario) -> None:
    """ARCH-4 / SEC-1: an internet-facing application load balancer in the Public subnets."""
    lb = _lb(scenario, "public")
    assert (lb["Type"], lb["Scheme"]) == ("application", "internet-facing")
    assert lb["Subnets"] == scenario.subnets["Public"]


def test_internal_alb_in_the_subnets_it_is_given(scenario: Scenario) -> None:
    lb = _lb(scenario, "internal")
    assert (lb["Type"], lb["Scheme"]) == ("application", "internal")
    assert lb["Subnets"] == scenario.subnets["Web"]


def test_internal_alb_by_default_has_one_subnet_per_az(scenario: Scenario) -> None:
    """Given an internal ALB with default subnets on a Network, then one private subnet per AZ (ELB's rule), not Batch ones."""
    lb = _lb(scenario, "internal_default")
    assert lb["Scheme"] == "internal"
    assert len(lb["Subnets"]) == len(AZS)
    assert not set(map(str, lb["Subnets"])) & set(map(str, scenario.subnets["Batch"]))


def test_sec2_alb_uses_its_own_security_group_with_80_and_443_only(scenario: Scenario) -> None:
    """SEC-2: listeners are created with open=False, so the group's only ingress is 80/443."""
    sg_id = _lb(scenario, "public")["SecurityGroups"][0]["Fn::GetAtt"][0]
    sg = of_type(scenario.template, "AWS::EC2::SecurityGroup")[sg_id]
    assert tags_of(sg)["Name"] == "public-alb"
    assert sorted((r["FromPort"], r["CidrIp"]) for r in sg["Properties"]["SecurityGroupIngress"]) == [(80, "0.0.0.0/0"), (443, "0.0.0.0/0")]
    assert not [
        r
        for r in of_type(scenario.template, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [sg_id, "GroupId"]}
    ]


# --- attributes -----------------------------------------------------------------------------


def test_drops_invalid_header_fields(scenario: Scenario) -> None:
    for name in ("public", "internal", "internal_default"):
        assert _attributes(scenario, name)["routing.http.drop_invalid_header_fields.enabled"] == "true"


def test_access_logs_go_to_the_log_bucket(scenario: Scenario) -> None:
    """Access logs on, to the construct's own LogBuckets by default, or to the caller's bucket, with the prefix given."""
    public = _attributes(scenario, "public")
    assert public["access_logs.s3.enabled"] == "true"
    assert public["access_logs.s3.bucket"] == {"Ref": scenario.ids["public_logs"]}
    assert public["access_logs.s3.prefix"] == "public"
    internal = _attributes(scenario, "internal")
    assert internal["access_logs.s3.enabled"] == "true"
    assert internal["access_logs.s3.bucket"] == {"Ref": scenario.ids["shared_logs"]}
    assert scenario.load_balancers["internal"].access_logs_bucket.node.path == "Test/SharedLogs/AccessLogs"


def test_a_given_bucket_means_no_new_log_buckets(scenario: Scenario) -> None:
    """Public and InternalDefault each make a LogBuckets pair; Internal uses SharedLogs: 2 + 2 + 2 buckets."""
    buckets = sorted(of_type(scenario.template, "AWS::S3::Bucket"))
    assert len(buckets) == 6
    assert not [b for b in buckets if b.startswith("Internal") and not b.startswith("InternalDefault")]


def test_alb_delivery_may_write_under_the_prefix_only(scenario: Scenario) -> None:
    """The bucket policy lets ELB log delivery put objects under <prefix>/AWSLogs/<account>/ only."""
    policy = next(
        p
        for p in of_type(scenario.template, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": scenario.ids["public_logs"]}
    )
    puts = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Action"] == "s3:PutObject"]
    assert puts and all(
        s["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [scenario.ids["public_logs"], "Arn"]}, f"/public/AWSLogs/{ACCOUNT}/*"]]}
        for s in puts
    )


def test_deletion_protection_only_when_asked(scenario: Scenario) -> None:
    assert _attributes(scenario, "public")["deletion_protection.enabled"] == "true"
    assert _attributes(scenario, "internal")["deletion_protection.enabled"] == "false"


# --- listeners ------------------------------------------------------------------------------


def test_https_listener_with_tls13_policy_when_a_certificate_is_given(scenario: Scenario) -> None:
    """HTTPS on 443 with the certificate and ELBSecurityPolicy-TLS13-1-2-2021-06."""
    listeners = _listeners(scenario, "public")
    assert sorted(listeners) == [80, 443]
    https = listeners[443]
    assert https["Protocol"] == "HTTPS"
    assert https["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https["Certificates"] == [{"CertificateArn": CERTIFICATE_ARN}]
    assert scenario.load_balancers["public"].https is True


def test_http_listener_only_redirects_to_https(scenario: Scenario) -> None:
    """With a certificate, port 80 serves nothing: its only action is a 301 to HTTPS 443, and no rule is attached."""
    http = _listeners(scenario, "public")[80]
    assert http["Protocol"] == "HTTP"
    assert http["DefaultActions"] == [
        {"RedirectConfig": {"Port": "443", "Protocol": "HTTPS", "StatusCode": "HTTP_301"}, "Type": "redirect"}
    ]
    http_id = next(
        k
        for k, v in of_type(scenario.template, "AWS::ElasticLoadBalancingV2::Listener").items()
        if v["Properties"]["LoadBalancerArn"] == {"Ref": scenario.ids["public"]} and v["Properties"]["Port"] == 80
    )
    rules = of_type(scenario.template, "AWS::ElasticLoadBalancingV2::ListenerRule").values()
    assert [r for r in rules if r["Properties"]["ListenerArn"] == {"Ref": http_id}] == []


def test_targets_go_to_the_https_listener(scenario: Scenario) -> None:
    """``listener`` is the HTTPS one: what a caller adds (here the fixed response) lands on 443."""
    assert _listeners(scenario, "public")[443]["DefaultActions"] == [
        {"FixedResponseConfig": {"StatusCode": "404"}, "Type": "fixed-response"}
    ]


def test_http_listener_without_a_certificate(scenario: Scenario) -> None:
    """Without a certificate there is one HTTP listener on 80, and it is the one targets go to."""
    listeners = _listeners(scenario, "internal")
    assert sorted(listeners) == [80]
    assert listeners[80]["Protocol"] == "HTTP"
    assert "SslPolicy" not in listeners[80]
    assert listeners[80]["DefaultActions"] == [{"FixedResponseConfig": {"StatusCode": "404"}, "Type": "fixed-response"}]
    assert scenario.load_balancers["internal"].https is False


# --- WAF ------------------------------------------------------------------------------------


def test_web_acl_is_associated_when_given(scenario: Scenario) -> None:
    """web_acl_arn -> one AWS::WAFv2::WebACLAssociation with the ALB; none for the others."""
    associations = list(of_type(scenario.template, "AWS::WAFv2::WebACLAssociation").values())
    assert [a["Properties"] for a in associations] == [{"ResourceArn": {"Ref": scenario.ids["public"]}, "WebACLArn": WEB_ACL_ARN}]


def test_cloudformation_names_the_load_balancers(scenario: Scenario) -> None:
    for name in ("public", "internal", "internal_default"):
        assert "Name" not in _lb(scenario, name)
