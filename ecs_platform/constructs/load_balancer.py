"""LoadBalancer: an Application Load Balancer with access logs and a listener for targets (ARCH-4).

Optionally (issue 15): more DNS names in the same hosted zone (``aliases``: certificate names and
alias records), more certificates on the HTTPS listeners (``additional_certificates``, chosen by SNI),
and an allow list of source networks for an internet-facing ALB (``allowed_cidrs``, SEC-2).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_cdk import Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ecs_platform.constructs.acknowledge import HIPAA, NIST, PCI, acknowledge_rule, checkov_skip
from ecs_platform.constructs.errors import ConstructError
from ecs_platform.constructs.log_buckets import LogBuckets
from ecs_platform.constructs.security_groups import LoadBalancerSecurityGroup, LoadBalancerSecurityGroupProps, _NamedGroup

if TYPE_CHECKING:
    from aws_cdk import aws_certificatemanager as acm
    from aws_cdk import aws_route53 as route53


@dataclass(frozen=True, kw_only=True)
class LoadBalancerProps:
    vpc: ec2.IVpc
    """The VPC."""
    internet_facing: bool
    """Internet-facing (public subnets) or internal. No default: exposure is a decision."""
    vpc_subnets: ec2.SubnetSelection | None = None
    """Subnets of the ALB. Default: one public subnet per AZ if internet-facing, else one private subnet
    per AZ (with a :class:`Network`, pass ``network.web_subnets`` for an internal ALB)."""
    certificate: acm.ICertificate | None = None
    """Certificate for an HTTPS listener; HTTP then only redirects. Default: none (HTTP listener), or a new
    certificate for ``domain_name``."""
    domain_name: str | None = None
    """A DNS name for the load balancer in ``domain_zone``: an alias record points it here, and without
    ``certificate`` a certificate for it is created and validated through the zone (HTTPS). Default: none."""
    domain_zone: route53.IHostedZone | None = None
    """The Route 53 hosted zone of ``domain_name``. Default: none (required with ``domain_name``)."""
    internal_clients: ec2.IPeer | None = None
    """Who may reach an internal ALB, and the test listener of any. Default: the VPC's CIDR (pass a literal
    CIDR when the VPC is in another stack)."""
    ssl_policy: elbv2.SslPolicy = elbv2.SslPolicy.RECOMMENDED_TLS
    """TLS policy of the HTTPS listener. Default: ELBSecurityPolicy-TLS13-1-2-2021-06 (TLS 1.3 and 1.2)."""
    deletion_protection: bool = False
    """Refuse deletion of the ALB (production). Default: false."""
    access_logs_bucket: s3.IBucket | None = None
    """Bucket for access logs (SSE-S3 only). Default: a new :class:`LogBuckets` pair."""
    access_logs_prefix: str | None = None
    """Key prefix of this ALB's access logs. Default: none."""
    web_acl_arn: str | None = None
    """ARN of a WAFv2 web ACL (REGIONAL) to associate. Default: none."""
    security_group_name: str | None = None
    """Name tag of the ALB's security group. Default: the construct path."""
    test_listener_port: int | None = None
    """A second listener on this port, reachable from the VPC only, for the test traffic of blue/green,
    linear and canary deployments (``test_listener``). Same protocol and certificate as ``listener``.
    Default: none."""
    aliases: Sequence[str] = ()
    """More DNS names of the load balancer in ``domain_zone`` (``www.shop.example.com``, ``*.shop.example.com``):
    each gets an alias record, and the certificate created for ``domain_name`` names them too (subject
    alternative names, at most 9: ACM's default quota is 10 names a certificate). With ``certificate``,
    that certificate (or one of ``additional_certificates``) must cover them. Needs ``domain_name``.
    Default: none."""
    additional_certificates: Sequence[acm.ICertificate] = ()
    """More certificates on the HTTPS listener(s), chosen by the name a client asks for (SNI): host names the
    main certificate does not cover. Needs HTTPS (``certificate`` or ``domain_name``); at most 25 over all
    listeners (ALB quota). Default: none."""
    allowed_cidrs: Sequence[str] = ()
    """Internet-facing ALB only: the IPv4/IPv6 networks (``203.0.113.0/24``, ``2001:db8::/32``) allowed to reach
    ports 80 and 443, instead of the whole internet (SEC-2). The HTTP-to-HTTPS redirect listener on port 80
    is behind the same list: other networks get no redirect, their connections time out. The test listener
    stays reachable from ``internal_clients`` only. IPv6 networks matter to a dual-stack ALB only. At most 29
    networks per IP family (60 inbound rules per security group, two per network). An internal ALB is reached
    from ``internal_clients``, and refuses this field. Default: none (the whole internet)."""


class LoadBalancer(Construct):
    """An ALB that drops invalid header fields and writes access logs (see :class:`LogBuckets`).

    ``listener`` is where services add their rules (paths, hosts): HTTPS when a certificate is
    given (HTTP then redirects to it), otherwise HTTP. A request no rule matches gets a 404.
    ``test_listener`` (optional) carries the test traffic of blue/green, linear and canary
    deployments.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: LoadBalancerProps) -> None:
        super().__init__(scope, construct_id)
        if (props.domain_name is None) != (props.domain_zone is None):
            raise ConstructError(self, "domain_name and domain_zone go together; allowed: both (a name in the zone) or neither")
        _check_aliases(self, props)
        allowed = _allowed_networks(self, props)
        group_props = LoadBalancerSecurityGroupProps(
            vpc=props.vpc,
            internet_facing=props.internet_facing,
            internal_clients=props.internal_clients,
            name=props.security_group_name,
        )
        self.security_group: LoadBalancerSecurityGroup | AllowListSecurityGroup = (
            AllowListSecurityGroup(self, "SecurityGroup", props=group_props, allowed=allowed)
            if allowed
            else LoadBalancerSecurityGroup(self, "SecurityGroup", props=group_props)
        )
        subnets = props.vpc_subnets or ec2.SubnetSelection(
            subnet_type=ec2.SubnetType.PUBLIC if props.internet_facing else ec2.SubnetType.PRIVATE_WITH_EGRESS,
            one_per_az=True,  # an ALB takes one subnet per AZ
        )
        self.load_balancer = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=props.vpc,
            internet_facing=props.internet_facing,
            vpc_subnets=subnets,
            security_group=self.security_group,
            drop_invalid_header_fields=True,
            deletion_protection=props.deletion_protection,
        )
        self.access_logs_bucket = props.access_logs_bucket or LogBuckets(self, "Logs").access_logs
        self.load_balancer.log_access_logs(self.access_logs_bucket, prefix=props.access_logs_prefix)
        self.domain_name = props.domain_name
        """The DNS name that points here (``domain_name``), if any."""
        self.domain_names: tuple[str, ...] = (props.domain_name, *props.aliases) if props.domain_name else ()
        """Every DNS name that points here: ``domain_name`` and ``aliases``."""
        self.certificate = props.certificate
        """The HTTPS listener's certificate: ``certificate``, or the one created for ``domain_name``."""
        self.certificate_names: tuple[str, ...] | None = None
        """The names the HTTPS listeners' certificates cover, when known: those of the certificate created here
        (``domain_names``), without ``additional_certificates``. None when unknown (a certificate given by ARN) or HTTP."""
        if self.certificate is None and props.domain_name is not None and props.domain_zone is not None:
            from aws_cdk import aws_certificatemanager as acm  # loaded only when used: each aws_cdk module costs start-up time

            self.certificate = acm.Certificate(
                self,
                "Certificate",
                domain_name=props.domain_name,
                subject_alternative_names=list(props.aliases) or None,
                validation=acm.CertificateValidation.from_dns(props.domain_zone),
            )
            self.certificate_names = None if props.additional_certificates else self.domain_names
        self.https = self.certificate is not None
        """Whether ``listener`` is HTTPS (with HTTP redirecting to it)."""
        if props.additional_certificates and not self.https:
            raise ConstructError(
                self, "additional_certificates are for an HTTPS listener, and there is none; allowed: with certificate or domain_name"
            )
        listeners = 1 + (props.test_listener_port is not None)
        if listeners * len(props.additional_certificates) > MAX_ADDITIONAL_CERTIFICATES:
            raise ConstructError(
                self,
                f"additional_certificates: {len(props.additional_certificates)} on {listeners} listener(s) is too many; allowed: "
                f"at most {MAX_ADDITIONAL_CERTIFICATES} over all listeners (ALB quota of certificates, default ones excluded)",
            )
        if self.https:
            redirect = self.load_balancer.add_redirect(source_port=80, target_port=443, open=False)
            acknowledge_rule(
                redirect,
                "ELBv2ACMCertificateRequired",
                "This HTTP listener only answers with a redirect to HTTPS; it serves no content to encrypt.",
            )
        self.listener = self._listener("Https" if self.https else "Http", 443 if self.https else 80, props)
        self.test_listener: elbv2.ApplicationListener | None = None
        """Listener for deployments' test traffic, on ``test_listener_port`` (VPC only)."""
        if props.test_listener_port is not None:
            self.test_listener = self._listener("Test", props.test_listener_port, props)
            self.security_group.add_ingress_rule(
                self.security_group.clients, ec2.Port.tcp(props.test_listener_port), "Test traffic of deployments, from inside the VPC"
            )
        if props.web_acl_arn is not None:
            from aws_cdk import aws_wafv2 as wafv2  # loaded only when used: each aws_cdk module costs start-up time

            wafv2.CfnWebACLAssociation(self, "WebAcl", resource_arn=self.load_balancer.load_balancer_arn, web_acl_arn=props.web_acl_arn)
        else:
            acknowledge_rule(
                self.load_balancer,
                "ALBWAFEnabled",
                "No web ACL named for this load balancer (web_acl_arn); WAF is the owner's choice and cost.",
                packs=(NIST, PCI),
            )
        if not props.deletion_protection:
            acknowledge_rule(
                self.load_balancer,
                "ELBDeletionProtectionEnabled",
                "Non-production environment: the load balancer may be deleted with its stack.",
                packs=(NIST, HIPAA),
            )
        if props.domain_name is not None and props.domain_zone is not None:
            from aws_cdk import aws_route53 as route53  # loaded only when used: each aws_cdk module costs start-up time
            from aws_cdk import aws_route53_targets as route53_targets

            target = route53.RecordTarget.from_alias(route53_targets.LoadBalancerTarget(self.load_balancer))
            route53.ARecord(self, "Alias", zone=props.domain_zone, record_name=props.domain_name, target=target)
            for alias in props.aliases:
                # Named after the record: reordering the aliases replaces no record.
                route53.ARecord(self, f"Alias-{alias}", zone=props.domain_zone, record_name=alias, target=target)

    @property
    def shared_values(self) -> list[str]:
        """What services in other stacks use of a shared load balancer: its listeners (their rules), its
        DNS name (their URLs) and its security group (their ingress)."""
        listeners = [self.listener, *([self.test_listener] if self.test_listener else [])]
        return [
            *(listener.listener_arn for listener in listeners),
            self.load_balancer.load_balancer_dns_name,
            self.security_group.security_group_id,
        ]

    def url(self, hosts: Sequence[str] = (), paths: Sequence[str] = ()) -> str:
        """Where requests for ``hosts`` and ``paths`` reach: the first literal host (else the load
        balancer's ``domain_name``, else its DNS name) and the literal start of the first path."""
        host = next((h for h in hosts if not set(h) & set("*?")), self.domain_name or self.load_balancer.load_balancer_dns_name)
        path = re.split(r"[*?]", paths[0])[0] if paths else ""
        return f"{'https' if self.https else 'http'}://{host}{path}"

    def _listener(self, construct_id: str, port: int, props: LoadBalancerProps) -> elbv2.ApplicationListener:
        """A listener whose requests no rule matches get a 404; HTTPS with the certificate, if any."""
        not_found = elbv2.ListenerAction.fixed_response(404, content_type="text/plain", message_body="Not found")
        if self.certificate is not None:
            return self.load_balancer.add_listener(
                construct_id,
                protocol=elbv2.ApplicationProtocol.HTTPS,
                port=port,
                certificates=[self.certificate, *props.additional_certificates],
                ssl_policy=props.ssl_policy,
                open=False,
                default_action=not_found,
            )
        listener = self.load_balancer.add_listener(
            construct_id, protocol=elbv2.ApplicationProtocol.HTTP, port=port, open=False, default_action=not_found
        )
        for rule in ("ALBHttpToHttpsRedirection", "ELBv2ACMCertificateRequired"):
            acknowledge_rule(listener, rule, "No certificate was given (https: false): traffic is plain HTTP; see README, 'HTTP only'.")
        for check_id in ("CKV_AWS_2", "CKV_AWS_103"):
            checkov_skip(
                listener,
                check_id,
                "No certificate was given (https: false): plain HTTP, no TLS to configure; see README, 'HTTP only'.",
            )
        return listener


#: ALB quota: certificates per load balancer, default certificates excluded (adjustable).
MAX_ADDITIONAL_CERTIFICATES = 25
#: ACM's default quota of names per certificate, the main one included (adjustable).
MAX_CERTIFICATE_NAMES = 10
#: Networks of one IP family in ``allowed_cidrs``: 60 inbound rules per security group and family, two per network
#: (80 and 443), one left for a test listener.
MAX_ALLOWED_CIDRS = 29
_DNS_NAME = re.compile(r"(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


class AllowListSecurityGroup(_NamedGroup):
    """An internet-facing ALB's group that admits 80 and 443 from ``allowed`` networks only (SEC-2), not from the
    whole internet. Same description as :class:`LoadBalancerSecurityGroup`: turning an allow list on or off
    changes the group's rules in place and replaces nothing."""

    DESCRIPTION = LoadBalancerSecurityGroup.DESCRIPTION

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: LoadBalancerSecurityGroupProps,
        allowed: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network],
    ) -> None:
        super().__init__(scope, construct_id, props=props)
        self.clients = props.internal_clients or ec2.Peer.ipv4(props.vpc.vpc_cidr_block)
        """Who may reach the load balancer from inside (a test listener): ``internal_clients``, or the VPC."""
        for network in allowed:
            peer = ec2.Peer.ipv4(str(network)) if network.version == 4 else ec2.Peer.ipv6(str(network))
            for port, label in ((80, "HTTP"), (443, "HTTPS")):
                self.add_ingress_rule(peer, ec2.Port.tcp(port), f"{label} from the allowed network {network}")


def _allowed_networks(scope: Construct, props: LoadBalancerProps) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """``allowed_cidrs`` as networks: literal, exact (no host bits), narrower than the whole internet, each once."""
    if not props.allowed_cidrs:
        return []
    if not props.internet_facing:
        raise ConstructError(
            scope,
            f"allowed_cidrs: {list(props.allowed_cidrs)} on an internal load balancer; allowed: on an internet-facing one "
            "(an internal one admits internal_clients)",
        )
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for cidr in props.allowed_cidrs:
        example = "allowed: a network such as 203.0.113.0/24 or 2001:db8::/32"
        if Token.is_unresolved(cidr) or "/" not in cidr:
            raise ConstructError(scope, f"allowed_cidrs: {cidr!r} is not a literal CIDR; {example}")
        try:
            network = ipaddress.ip_network(cidr, strict=True)
        except ValueError as error:
            raise ConstructError(scope, f"allowed_cidrs: {cidr!r} is not a network ({error}); {example}") from error
        if network.prefixlen == 0:
            raise ConstructError(scope, f"allowed_cidrs: {cidr!r} is the whole internet; allowed: narrower networks, or no allowed_cidrs")
        if network in networks:
            raise ConstructError(scope, f"allowed_cidrs: {cidr!r} is listed twice; allowed: each network once")
        networks.append(network)
    for version in (4, 6):
        count = sum(n.version == version for n in networks)
        if count > MAX_ALLOWED_CIDRS:
            raise ConstructError(
                scope,
                f"allowed_cidrs: {count} IPv{version} networks; allowed: at most {MAX_ALLOWED_CIDRS} per IP family "
                "(60 inbound rules per security group, two per network)",
            )
    return networks


def _zone_name(zone: route53.IHostedZone) -> str | None:
    """The zone's DNS name, if known at synthesis (a zone imported by ID alone has none to read)."""
    try:
        name = zone.zone_name
    except Exception:  # jsii raises when the zone was imported without its name
        return None
    return None if Token.is_unresolved(name) else name.rstrip(".").lower()


def _check_aliases(scope: Construct, props: LoadBalancerProps) -> None:
    """``aliases``: DNS names in ``domain_zone`` (Route 53 would append the zone to any other), each once."""
    if not props.aliases:
        return
    if props.domain_name is None or props.domain_zone is None:
        raise ConstructError(scope, f"aliases: {list(props.aliases)} without domain_name; allowed: with domain_name and domain_zone")
    zone = _zone_name(props.domain_zone)
    seen = {props.domain_name.lower()}
    for alias in props.aliases:
        if Token.is_unresolved(alias):
            continue
        if not _DNS_NAME.fullmatch(alias):
            raise ConstructError(
                scope, f"aliases: {alias!r} is not a DNS name; allowed: lower-case names such as www.shop.example.com or *.shop.example.com"
            )
        if zone is not None and alias != zone and not alias.endswith(f".{zone}"):
            raise ConstructError(scope, f"aliases: {alias!r} is not in the hosted zone {zone}; allowed: names ending in .{zone}")
        if alias in seen:
            raise ConstructError(scope, f"aliases: {alias!r} is listed twice (or is domain_name); allowed: each name once")
        seen.add(alias)
    if props.certificate is None and len(seen) > MAX_CERTIFICATE_NAMES:
        raise ConstructError(
            scope,
            f"aliases: {len(seen) - 1} names; allowed: at most {MAX_CERTIFICATE_NAMES - 1} beside domain_name "
            f"(ACM's default quota: {MAX_CERTIFICATE_NAMES} names a certificate)",
        )
