"""LoadBalancer: an ALB with access logs, invalid-header dropping, HTTPS with redirect or HTTP (ARCH-4)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_route53 as route53
from aws_cdk.assertions import Template

from ecs_platform.constructs import (
    ConstructError,
    LoadBalancer,
    LoadBalancerProps,
    LoadBalancerSecurityGroup,
    LogBuckets,
    Network,
    NetworkProps,
)
from tests.helpers import nag_findings
from tests.unit.support import ACCOUNT, AZS, logical_id, nag_app, new_app, new_stack, of_type, synth, tags_of

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


# --- issue 15: allow lists, more host names, more certificates ---------------------------------

ZONE_ID = "Z0123456789ABCDEFGHIJ"
ALLOWED = ("203.0.113.0/24", "2001:db8::/32")
OTHER_CERTIFICATE_ARN = f"arn:aws:acm:ap-northeast-1:{ACCOUNT}:certificate/4567cdef"


@dataclass
class Extras:
    template: Template
    ids: dict[str, str]
    load_balancers: dict[str, LoadBalancer]
    report: dict[str, Any]


def _zone(stack: Stack) -> route53.IHostedZone:
    return route53.HostedZone.from_hosted_zone_attributes(stack, "Zone", hosted_zone_id=ZONE_ID, zone_name="example.com")


def _extras_props(network: Network, zone: route53.IHostedZone, **overrides: Any) -> LoadBalancerProps:
    values: dict[str, Any] = {
        "vpc": network.vpc,
        "internet_facing": True,
        "domain_name": "shop.example.com",
        "domain_zone": zone,
        "aliases": ["www.shop.example.com", "*.api.shop.example.com"],
    }
    return LoadBalancerProps(**{**values, **overrides})


@pytest.fixture(scope="module")
def extras() -> Extras:
    """Given, in an app with every cdk-nag pack, two internet-facing ALBs named shop.example.com in the zone
    example.com, with the aliases www.shop.example.com and *.api.shop.example.com:

    - ``allow_listed``: reachable from 203.0.113.0/24 and 2001:db8::/32 only, a test listener on 8443, and one
      more certificate (by ARN);
    - ``aliased``: open to the internet, its own certificate only.
    """
    app = nag_app()
    stack = new_stack(app)
    network = Network(stack, "Network", props=NetworkProps(availability_zones=AZS))
    zone = _zone(stack)
    other = acm.Certificate.from_certificate_arn(stack, "OtherCertificate", OTHER_CERTIFICATE_ARN)
    lbs = {
        "allow_listed": LoadBalancer(
            stack,
            "AllowListed",
            props=_extras_props(
                network,
                zone,
                allowed_cidrs=ALLOWED,
                test_listener_port=8443,
                additional_certificates=[other],
                # A literal CIDR, as the app passes: cdk-nag cannot judge a rule whose source is the VPC's CIDR attribute.
                internal_clients=ec2.Peer.ipv4("10.0.0.0/16"),
            ),
        ),
        "aliased": LoadBalancer(stack, "Aliased", props=_extras_props(network, zone)),
    }
    ids = {name: logical_id(lb.load_balancer) for name, lb in lbs.items()}
    for name, lb in lbs.items():
        ids[f"{name}.sg"] = logical_id(lb.security_group)
        assert lb.certificate is not None
        ids[f"{name}.certificate"] = logical_id(lb.certificate)
        ids[f"{name}.listener"] = logical_id(lb.listener)
    assert lbs["allow_listed"].test_listener is not None
    ids["allow_listed.test_listener"] = logical_id(lbs["allow_listed"].test_listener)
    # When synthesized (it raises on any unacknowledged cdk-nag finding)
    (template,) = synth(app, stack)
    report = json.loads((Path(app.outdir) / "validation-report.json").read_text())
    return Extras(template, ids, lbs, report)


def _ingress(extras: Extras, name: str) -> list[tuple[int, str]]:
    group = of_type(extras.template, "AWS::EC2::SecurityGroup")[extras.ids[f"{name}.sg"]]["Properties"]
    return sorted((r["FromPort"], r.get("CidrIp") or r["CidrIpv6"]) for r in group["SecurityGroupIngress"])


def test_sec2_an_allow_list_admits_80_and_443_from_the_listed_networks_only(extras: Extras) -> None:
    """SEC-2: with allowed_cidrs, ports 80 and 443 are open to those IPv4 and IPv6 networks, not to 0.0.0.0/0; the
    test listener (8443) stays reachable from the VPC only."""
    assert _ingress(extras, "allow_listed") == [
        (80, "2001:db8::/32"),
        (80, "203.0.113.0/24"),
        (443, "2001:db8::/32"),
        (443, "203.0.113.0/24"),
        (8443, "10.0.0.0/16"),
    ]
    assert _ingress(extras, "aliased") == [(80, "0.0.0.0/0"), (443, "0.0.0.0/0")]


def test_sec2_the_redirect_listener_is_behind_the_same_allow_list(extras: Extras) -> None:
    """Port 80 still only redirects to HTTPS, and only the listed networks reach it (no 80 rule for 0.0.0.0/0)."""
    http = [
        listener["Properties"]
        for listener in of_type(extras.template, "AWS::ElasticLoadBalancingV2::Listener").values()
        if listener["Properties"]["LoadBalancerArn"] == {"Ref": extras.ids["allow_listed"]} and listener["Properties"]["Port"] == 80
    ]
    assert [h["DefaultActions"][0]["Type"] for h in http] == ["redirect"]
    assert sorted(source for port, source in _ingress(extras, "allow_listed") if port == 80) == sorted(ALLOWED)


def test_an_allow_list_keeps_the_group_its_description_and_name(extras: Extras) -> None:
    """Turning an allow list on changes rules only: same construct path (logical ID), description and Name tag
    as the open group, so CloudFormation replaces no security group."""
    group = of_type(extras.template, "AWS::EC2::SecurityGroup")[extras.ids["allow_listed.sg"]]
    assert group["Properties"]["GroupDescription"] == LoadBalancerSecurityGroup.DESCRIPTION
    assert tags_of(group)["Name"] == "Test-AllowListed-SecurityGroup"
    assert extras.load_balancers["allow_listed"].security_group.node.path == "Test/AllowListed/SecurityGroup"


def test_aliases_are_names_of_the_created_certificate(extras: Extras) -> None:
    """The certificate created for domain_name names the aliases too (SANs), each validated in the zone."""
    certificate = of_type(extras.template, "AWS::CertificateManager::Certificate")[extras.ids["aliased.certificate"]]["Properties"]
    assert certificate["DomainName"] == "shop.example.com"
    assert certificate["SubjectAlternativeNames"] == ["www.shop.example.com", "*.api.shop.example.com"]
    assert certificate["ValidationMethod"] == "DNS"
    assert {o["DomainName"] for o in certificate["DomainValidationOptions"]} == {
        "shop.example.com",
        "www.shop.example.com",
        "*.api.shop.example.com",
    }
    assert {o["HostedZoneId"] for o in certificate["DomainValidationOptions"]} == {ZONE_ID}


def test_every_name_gets_an_alias_record_to_the_load_balancer(extras: Extras) -> None:
    """One A alias record per name (domain_name and each alias) in the hosted zone, to the load balancer."""
    records = [
        r["Properties"]
        for r in of_type(extras.template, "AWS::Route53::RecordSet").values()
        if json.dumps(extras.ids["aliased"]) in json.dumps(r["Properties"]["AliasTarget"])
    ]
    assert sorted(r["Name"] for r in records) == ["*.api.shop.example.com.", "shop.example.com.", "www.shop.example.com."]
    assert {(r["Type"], r["HostedZoneId"]) for r in records} == {("A", ZONE_ID)}
    assert extras.load_balancers["aliased"].domain_names == ("shop.example.com", "www.shop.example.com", "*.api.shop.example.com")


def test_additional_certificates_go_to_every_https_listener(extras: Extras) -> None:
    """additional_certificates: the main certificate stays the listeners' default, the other one is added (SNI) to
    the production listener and the test listener alike."""
    listeners = of_type(extras.template, "AWS::ElasticLoadBalancingV2::Listener")
    for key in ("allow_listed.listener", "allow_listed.test_listener"):
        assert listeners[extras.ids[key]]["Properties"]["Certificates"] == [
            {"CertificateArn": {"Ref": extras.ids["allow_listed.certificate"]}}
        ]
    added = sorted(
        (c["Properties"]["ListenerArn"]["Ref"], c["Properties"]["Certificates"][0]["CertificateArn"])
        for c in of_type(extras.template, "AWS::ElasticLoadBalancingV2::ListenerCertificate").values()
    )
    assert added == sorted((extras.ids[key], OTHER_CERTIFICATE_ARN) for key in ("allow_listed.listener", "allow_listed.test_listener"))


def test_certificate_names_are_known_only_for_the_certificate_created_here(extras: Extras) -> None:
    """``certificate_names`` (what WebService checks route hosts against) is the created certificate's names, and
    unknown (None) once another certificate may cover more."""
    assert extras.load_balancers["aliased"].certificate_names == extras.load_balancers["aliased"].domain_names
    assert extras.load_balancers["allow_listed"].certificate_names is None


def test_the_extras_are_nag_clean(extras: Extras) -> None:
    """Synthesized with every cdk-nag pack: no unacknowledged finding, and the world-open acknowledgement
    (AwsSolutions-EC23) only where the group is open to the world."""
    assert nag_findings(extras.report) == Counter()
    suppressed = nag_findings(extras.report, "suppressedViolations")
    assert ("AwsSolutions-EC23", "Test/Aliased/SecurityGroup/Resource") in suppressed
    assert not [path for rule, path in suppressed if rule == "AwsSolutions-EC23" and path.startswith("Test/AllowListed/")]


# --- failing cases of the extras ----------------------------------------------------------------


@pytest.fixture(scope="module")
def failing() -> tuple[Network, route53.IHostedZone]:
    """A network and zone in a stack that is never synthesized."""
    stack = new_stack(new_app(), "Failing")
    return Network(stack, "Network", props=NetworkProps(availability_zones=AZS)), _zone(stack)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"internet_facing": False, "allowed_cidrs": ["10.9.0.0/16"]},
            r"allowed_cidrs: \['10\.9\.0\.0/16'\] on an internal load balancer; allowed: on an internet-facing one",
        ),
        ({"allowed_cidrs": ["203.0.113.5/24"]}, r"allowed_cidrs: '203\.0\.113\.5/24' is not a network \(.*host bits set\); allowed: "),
        ({"allowed_cidrs": ["office"]}, r"allowed_cidrs: 'office' is not a literal CIDR; allowed: a network such as 203\.0\.113\.0/24"),
        ({"allowed_cidrs": ["::/0"]}, r"allowed_cidrs: '::/0' is the whole internet; allowed: narrower networks, or no allowed_cidrs"),
        ({"allowed_cidrs": ["203.0.113.0/24", "203.0.113.0/24"]}, r"'203\.0\.113\.0/24' is listed twice; allowed: each network once"),
        (
            {"allowed_cidrs": [f"10.{i}.0.0/16" for i in range(30)]},
            r"allowed_cidrs: 30 IPv4 networks; allowed: at most 29 per IP family",
        ),
        ({"domain_name": None, "domain_zone": None}, r"aliases: \[.*\] without domain_name; allowed: with domain_name and domain_zone"),
        ({"aliases": ["shop.example.org"]}, r"aliases: 'shop\.example\.org' is not in the hosted zone example\.com; allowed: names ending"),
        ({"aliases": ["Shop_Web.example.com"]}, r"aliases: 'Shop_Web\.example\.com' is not a DNS name; allowed: lower-case names"),
        (
            {"aliases": ["shop.example.com"]},
            r"aliases: 'shop\.example\.com' is listed twice \(or is domain_name\); allowed: each name once",
        ),
        (
            {"aliases": [f"n{i}.example.com" for i in range(10)]},
            r"aliases: 10 names; allowed: at most 9 beside domain_name \(ACM's default quota",
        ),
        (
            {"domain_name": None, "domain_zone": None, "aliases": (), "additional_certificates": ["x"]},
            r"additional_certificates are for an HTTPS listener, and there is none; allowed: with certificate or domain_name",
        ),
        (
            {"test_listener_port": 8443, "additional_certificates": ["x"] * 13},
            r"additional_certificates: 13 on 2 listener\(s\) is too many; allowed: at most 25 over all listeners",
        ),
    ],
)
def test_fails_when_extras_are_wrong(failing: tuple[Network, route53.IHostedZone], overrides: dict[str, Any], message: str) -> None:
    """Bad allow lists, aliases and additional certificates are refused, naming the field, the value and what is allowed."""
    network, zone = failing
    props = _extras_props(network, zone)
    if overrides.get("additional_certificates"):
        certificate = acm.Certificate.from_certificate_arn(
            network, f"Extra{len(overrides)}{len(overrides['additional_certificates'])}", OTHER_CERTIFICATE_ARN
        )
        overrides = {**overrides, "additional_certificates": [certificate] * len(overrides["additional_certificates"])}
    with pytest.raises(ConstructError, match=message):
        LoadBalancer(Stack.of(network), f"Bad{abs(hash(message))}", props=replace(props, **overrides))
