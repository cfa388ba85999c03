"""Security groups as the source document prescribes (SEC-2), each with a Name tag and
explicit egress (CLI-1).

- load balancer: inbound 80 and 443 only (and a test listener's port from the VPC, when a
  deployment strategy asks for one); outbound only to its targets (added by the listener's wiring);
- web tasks: inbound only from the load balancer, and from the Service Connect callers the
  server names, on the container port; outbound all;
- batch tasks: no inbound at all; outbound tcp/443 only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from aws_cdk import Tags
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from ecs_platform.constructs.acknowledge import acknowledge, checkov_skip


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


class _NamedGroup(ec2.SecurityGroup):
    """A security group with a description, explicit egress and a Name tag (CLI-1). A subclass states
    its ``DESCRIPTION`` (fixed at creation: a new one replaces the group) and ``ALLOW_ALL_OUTBOUND``."""

    DESCRIPTION: ClassVar[str]
    ALLOW_ALL_OUTBOUND: ClassVar[bool] = False

    def __init__(self, scope: Construct, construct_id: str, *, props: SecurityGroupProps) -> None:
        super().__init__(scope, construct_id, vpc=props.vpc, allow_all_outbound=self.ALLOW_ALL_OUTBOUND, description=self.DESCRIPTION)
        Tags.of(self).add("Name", props.name or self.node.path.replace("/", "-"))


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


class WebTaskSecurityGroup(_NamedGroup):
    """Web tasks: no inbound rule of its own (the load balancer's listener adds the one from
    its security group on the container port); outbound all, as the document prescribes."""

    DESCRIPTION = "Web tasks: inbound from the ALB only, outbound all (SEC-2)"
    ALLOW_ALL_OUTBOUND = True


class BatchSecurityGroup(_NamedGroup):
    """Batch tasks: no inbound rule; outbound tcp/443 only (AWS APIs, image registries)."""

    DESCRIPTION = "Batch tasks: no inbound, outbound 443 only (SEC-2)"

    def __init__(self, scope: Construct, construct_id: str, *, props: SecurityGroupProps) -> None:
        super().__init__(scope, construct_id, props=props)
        self.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS APIs and registries")


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
