"""Security groups as the source document prescribes (SEC-2), each with a Name tag and
explicit egress (CLI-1).

- load balancer: inbound 80 and 443 only (and a test listener's port from the VPC, when a
  deployment strategy asks for one); outbound only to its targets (added by the listener's wiring);
- web tasks: inbound only from the load balancer, and from the Service Connect callers the
  server names, on the container port; outbound all;
- batch tasks: no inbound at all; outbound tcp/443 only;
- VPC interface endpoints: inbound tcp/443 only from the workload groups admitted to them; no outbound.

A workload may state its own outbound rules (:class:`EgressRule`, issue 15): they replace a web task
group's all-outbound and add to a batch group's tcp/443; tcp/443 to anywhere stays unless turned off.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from aws_cdk import Tags
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from ecs_platform.constructs.acknowledge import acknowledge, checkov_skip
from ecs_platform.constructs.errors import ConstructError, unresolved

#: Characters EC2 accepts in a rule's description, and its length.
_RULE_DESCRIPTION = re.compile(r"^[a-zA-Z0-9. _\-:/()#,@\[\]+=&;{}!$*]{1,255}$")
_PREFIX_LIST_ID = re.compile(r"^pl-[0-9a-f]{8,17}$")


@dataclass(frozen=True, kw_only=True)
class SecurityGroupProps:
    vpc: ec2.IVpc
    """The VPC of the group."""
    name: str | None = None
    """Value of the Name tag (CLI-1). Default: the construct path."""


@dataclass(frozen=True, kw_only=True)
class LoadBalancerSecurityGroupProps(SecurityGroupProps):
    internet_facing: bool
    """80/443 from the internet, or only from ``internal_clients``. No default: exposure is a decision."""
    internal_clients: ec2.IPeer | None = None
    """Who may reach an internal load balancer (and a test listener). Default: the VPC's CIDR."""


@dataclass(frozen=True, kw_only=True)
class EgressRule:
    """One outbound rule a workload states (issue 15): a port or an inclusive port range, over tcp or udp,
    to IPv4/IPv6 CIDRs and/or managed prefix lists (``pl-...``). At least one destination."""

    port: int | tuple[int, int]
    """A port, or an inclusive range ``(from, to)``; 1..65535."""
    description: str
    """Why the workload goes there; the rule's description (EC2's characters, at most 255)."""
    protocol: Literal["tcp", "udp"] = "tcp"
    """``tcp`` or ``udp``. Default: tcp."""
    cidrs: Sequence[str] = ()
    """Destination networks, IPv4 or IPv6, without host bits (``10.20.0.0/16``). Default: none."""
    prefix_list_ids: Sequence[str] = ()
    """Destination managed prefix lists (``pl-0123abcd``). Default: none."""


def check_egress_rule(rule: EgressRule) -> str | None:
    """What is wrong with ``rule`` (``field: problem; allowed: ...``), or None."""
    low, high = rule.port if isinstance(rule.port, tuple) else (rule.port, rule.port)
    if not unresolved(low, high) and not 1 <= low <= high <= 65535:
        return f"port: {rule.port} is out of range; allowed: a port or a (from, to) range within 1..65535"
    if rule.protocol not in ("tcp", "udp"):
        return f"protocol: {rule.protocol!r} is not allowed; allowed: 'tcp', 'udp'"
    if not rule.cidrs and not rule.prefix_list_ids:
        return "cidrs: no destination; allowed: at least one CIDR or prefix list ID"
    for cidr in rule.cidrs:
        if unresolved(cidr):
            continue
        try:
            ipaddress.ip_network(cidr, strict=True)
        except ValueError as error:
            return f"cidrs: {cidr!r} is not a network ({error}); allowed: an IPv4 or IPv6 CIDR such as 10.20.0.0/16"
    for prefix_list in rule.prefix_list_ids:
        if not unresolved(prefix_list) and not _PREFIX_LIST_ID.match(prefix_list):
            return f"prefix_list_ids: {prefix_list!r} is not a prefix list ID; allowed: pl- and 8 or 17 hex digits"
    if not unresolved(rule.description) and not _RULE_DESCRIPTION.match(rule.description):
        allowed = "1 to 255 of a-z A-Z 0-9 space . _ - : / ( ) # , @ [ ] + = & ; { } ! $ *"
        return f"description: {rule.description!r} is not allowed; allowed: {allowed}"
    return None


@dataclass(frozen=True, kw_only=True)
class WorkloadSecurityGroupProps(SecurityGroupProps):
    egress: Sequence[EgressRule] | None = None
    """The workload's own outbound rules (issue 15). They REPLACE a web task group's all-outbound and ADD to a batch
    group's tcp/443. Default: None (web tasks: all outbound; batch tasks: tcp/443 only; SEC-2)."""
    https_anywhere: bool = True
    """Whether tcp/443 to 0.0.0.0/0 stays among the rules (AWS APIs and image registries through NAT; on Fargate the
    task's own network interface pulls images and ships logs, so its group must let that out). False: only ``egress``,
    and the VPC interface endpoints a :class:`Network` admits the group to (``allow_endpoints_from``); an S3 gateway
    endpoint (image layers) then needs an ``EgressRule`` to the region's S3 prefix list. Default: True."""


class _NamedGroup(ec2.SecurityGroup):
    """A security group with a description, explicit egress and a Name tag (CLI-1). A subclass states
    its ``DESCRIPTION`` (fixed at creation: a new one replaces the group) and ``ALLOW_ALL_OUTBOUND``."""

    DESCRIPTION: ClassVar[str]
    ALLOW_ALL_OUTBOUND: ClassVar[bool] = False

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: SecurityGroupProps,
        description: str | None = None,
        allow_all_outbound: bool | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            vpc=props.vpc,
            allow_all_outbound=self.ALLOW_ALL_OUTBOUND if allow_all_outbound is None else allow_all_outbound,
            description=description or self.DESCRIPTION,
        )
        Tags.of(self).add("Name", props.name or self.node.path.replace("/", "-"))


class _WorkloadGroup(_NamedGroup):
    """A workload's group: its default egress (``ALLOW_ALL_OUTBOUND``, or tcp/443 to anywhere), or, with
    :class:`WorkloadSecurityGroupProps`, its stated rules (then ``STATED_DESCRIPTION``)."""

    STATED_DESCRIPTION: ClassVar[str]
    HTTPS_DESCRIPTION: ClassVar[str] = "HTTPS to AWS APIs and registries"

    def __init__(self, scope: Construct, construct_id: str, *, props: SecurityGroupProps) -> None:
        egress = props.egress if isinstance(props, WorkloadSecurityGroupProps) else None
        https_anywhere = props.https_anywhere if isinstance(props, WorkloadSecurityGroupProps) else True
        default = egress is None and https_anywhere
        # The default keeps SEC-2's group as it is: a new description would replace a deployed group.
        super().__init__(
            scope,
            construct_id,
            props=props,
            description=None if default else self.STATED_DESCRIPTION,
            allow_all_outbound=None if default else False,
        )
        if self.ALLOW_ALL_OUTBOUND and not default and egress is None:
            raise ConstructError(
                self, "https_anywhere: False without egress rules; allowed: egress rules to replace all-outbound, or https_anywhere=True"
            )
        if https_anywhere and (not default or not self.ALLOW_ALL_OUTBOUND):
            self.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), self.HTTPS_DESCRIPTION)
        for index, rule in enumerate(egress or ()):
            problem = check_egress_rule(rule)
            if problem:
                raise ConstructError(self, f"egress[{index}].{problem}")
            self._add_stated(rule)

    def _add_stated(self, rule: EgressRule) -> None:
        low, high = rule.port if isinstance(rule.port, tuple) else (rule.port, rule.port)
        if rule.protocol == "udp":
            port = ec2.Port.udp(low) if low == high else ec2.Port.udp_range(low, high)
        else:
            port = ec2.Port.tcp(low) if low == high else ec2.Port.tcp_range(low, high)
        peers = [ec2.Peer.ipv6(c) if ":" in c else ec2.Peer.ipv4(c) for c in rule.cidrs]
        peers += [ec2.Peer.prefix_list(p) for p in rule.prefix_list_ids]
        for peer in peers:
            self.add_egress_rule(peer, port, rule.description)


class LoadBalancerSecurityGroup(_NamedGroup):
    """Inbound 80 (HTTP) and 443 (HTTPS) from the internet (``internet_facing``) or from the
    VPC; no outbound rule until targets are registered."""

    DESCRIPTION = "ALB: inbound 80/443 only (SEC-2)"

    def __init__(self, scope: Construct, construct_id: str, *, props: LoadBalancerSecurityGroupProps) -> None:
        super().__init__(scope, construct_id, props=props)
        internet_facing = props.internet_facing
        self.clients = props.internal_clients or ec2.Peer.ipv4(props.vpc.vpc_cidr_block)
        """Who may reach the load balancer from inside: ``internal_clients``, or the VPC."""
        peer = ec2.Peer.any_ipv4() if internet_facing else self.clients
        for port, label in ((80, "HTTP"), (443, "HTTPS")):
            self.add_ingress_rule(peer, ec2.Port.tcp(port), f"{label} from {'the internet' if internet_facing else 'internal clients'}")
        if internet_facing:
            acknowledge(
                self,
                "AwsSolutions-EC23",
                "Internet-facing load balancer: 80/443 open to the world is its purpose (SEC-2); tasks stay private.",
            )
            checkov_skip(
                self,
                "CKV_AWS_260",
                "Internet-facing load balancer: 80/443 open to the world is its purpose (SEC-2); with HTTPS, 80 only redirects.",
            )


class WebTaskSecurityGroup(_WorkloadGroup):
    """Web tasks: no inbound rule of its own (the load balancer's listener adds the one from
    its security group on the container port); outbound all, as the document prescribes, unless
    :class:`WorkloadSecurityGroupProps` states the egress: then tcp/443 to anywhere (unless
    ``https_anywhere=False``) and exactly the stated rules."""

    DESCRIPTION = "Web tasks: inbound from the ALB only, outbound all (SEC-2)"
    STATED_DESCRIPTION = "Web tasks: inbound from the ALB only, outbound as stated (SEC-2)"
    ALLOW_ALL_OUTBOUND = True


class BatchSecurityGroup(_WorkloadGroup):
    """Batch tasks: no inbound rule; outbound tcp/443 only (AWS APIs, image registries), plus the rules
    :class:`WorkloadSecurityGroupProps` states (and without tcp/443 if ``https_anywhere=False``)."""

    DESCRIPTION = "Batch tasks: no inbound, outbound 443 only (SEC-2)"
    STATED_DESCRIPTION = "Batch tasks: no inbound, outbound as stated (SEC-2)"


class EndpointSecurityGroup(_NamedGroup):
    """VPC interface endpoints (issue 15): inbound tcp/443 only from the groups :meth:`admit` names (the
    workloads', not the whole VPC's); no outbound (an endpoint only answers)."""

    DESCRIPTION = "VPC interface endpoints: inbound 443 from workload groups only (SEC-2)"

    def admit(self, group: ec2.ISecurityGroup) -> None:
        """Let ``group`` reach the endpoints on tcp/443: an ingress rule here and, unless ``group`` allows all
        outbound, an egress rule there. Both rules live in ``group``'s stack when it is another stack than
        this group's (the network stack must not import from the stacks that import from it)."""
        self.add_ingress_rule(group, ec2.Port.tcp(443), "HTTPS from a workload to the VPC endpoints", True)
        if not group.allow_all_outbound:
            group.add_egress_rule(self, ec2.Port.tcp(443), "HTTPS to the VPC endpoints")


class InstanceSecurityGroup(_NamedGroup):
    """EC2 container instances (ARCH-2): no inbound rule (sessions go out through Session Manager); outbound tcp/443
    only (the ECS agent, image registries, SSM). Tasks in ``awsvpc`` mode have network interfaces and groups of their own."""

    DESCRIPTION = "ECS container instances: no inbound, outbound 443 only (SEC-2)"

    def __init__(self, scope: Construct, construct_id: str, *, props: SecurityGroupProps) -> None:
        super().__init__(scope, construct_id, props=props)
        self.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to the ECS agent's endpoints, registries and SSM")


class ServiceConnectCallerSecurityGroup(_NamedGroup):
    """A service's identity as a Service Connect caller (ARCH-7, SEC-2): the caller's tasks carry it,
    and each server that names the caller admits it on its own port. No rule of its own: egress is
    the caller's own group's (web tasks: all)."""

    DESCRIPTION = "Service Connect caller: the servers that name it allow their port from this group (ARCH-7)"


class ServiceConnectClientsSecurityGroup(_NamedGroup):
    """Deprecated since 0.2, without members or rules: every member of a namespace carried it and every
    server admitted it (a flat mesh). Use :class:`ServiceConnectCallerSecurityGroup`. :class:`WorkloadPlatform`
    keeps it, unchanged, for one release: services stacks deployed by 0.1 import it, and CloudFormation
    refuses to remove an export in use."""

    DESCRIPTION = "Service Connect clients: servers allow their port from this group (ARCH-7)"
