"""Network: a multi-AZ VPC with public subnets for load balancers and dedicated private
subnets for web and for batch tasks (SEC-1, HA-2), with flow logs; or an existing VPC's
subnets of those three classes (issue 15); optionally with VPC endpoints, so that batch
subnets may run without a route to NAT."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Annotations, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from ecs_platform.constructs.acknowledge import acknowledge_rule
from ecs_platform.constructs.encryption_key import EncryptionKey, EncryptionKeyProps
from ecs_platform.constructs.errors import refuse, unresolved
from ecs_platform.constructs.scoped_role import ScopedRole, ScopedRoleProps
from ecs_platform.constructs.security_groups import EndpointSecurityGroup, SecurityGroupProps
from ecs_platform.constructs.source_conditions import service_principal
from ecs_platform.limits import BATCH_WITHOUT_NAT_ENDPOINTS, check_availability_zones, check_nat_gateways

#: Subnet group names; stable, since they become part of construct IDs.
PUBLIC_SUBNETS = "Public"
WEB_SUBNETS = "Web"
BATCH_SUBNETS = "Batch"

#: Interface endpoints by the name a caller gives: (construct ID, service ``com.amazonaws.<region>.<name>``) of each.
INTERFACE_ENDPOINTS: dict[str, tuple[tuple[str, str], ...]] = {
    "ecr": (("EcrApi", "ecr.api"), ("EcrDocker", "ecr.dkr")),
    "ecs": (("Ecs", "ecs"), ("EcsAgent", "ecs-agent"), ("EcsTelemetry", "ecs-telemetry")),
    "kms": (("Kms", "kms"),),
    "logs": (("Logs", "logs"),),
    "monitoring": (("Monitoring", "monitoring"),),
    "secretsmanager": (("SecretsManager", "secretsmanager"),),
    "sns": (("Sns", "sns"),),
    "sqs": (("Sqs", "sqs"),),
    "ssm": (("Ssm", "ssm"),),
    "ssmmessages": (("SsmMessages", "ssmmessages"),),
    "sts": (("Sts", "sts"),),
}
#: Gateway endpoints by name: construct ID and service.
GATEWAY_ENDPOINTS: dict[str, str] = {"dynamodb": "DynamoDb", "s3": "S3"}
ENDPOINTS = tuple(sorted([*INTERFACE_ENDPOINTS, *GATEWAY_ENDPOINTS]))
#: What a Fargate task needs without NAT: the ECR API and registry, S3 (image layers) and CloudWatch Logs (awslogs).
NO_NAT_ENDPOINTS = BATCH_WITHOUT_NAT_ENDPOINTS

_VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")
_SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_ROUTE_TABLE_ID = re.compile(r"^rtb-[0-9a-f]{8,17}$")


@dataclass(frozen=True, kw_only=True)
class ExistingVpcProps:
    """A VPC someone else owns (issue 15), by ID, without a lookup: every list is in the order of
    :attr:`NetworkProps.availability_zones`, one subnet per AZ and class (SEC-1, HA-2)."""

    vpc_id: str
    """The VPC (``vpc-...``)."""
    cidr_block: str
    """The VPC's primary IPv4 CIDR (internal load balancers admit it by default)."""
    web_subnet_ids: Sequence[str]
    """Private subnets for web/API tasks, one per AZ, with a route to NAT (or endpoints)."""
    batch_subnet_ids: Sequence[str]
    """Private subnets for batch tasks, one per AZ; none of them a web or public subnet (SEC-1)."""
    public_subnet_ids: Sequence[str] = ()
    """Public subnets for internet-facing load balancers, one per AZ. Default: none (internal load balancers only)."""
    web_route_table_ids: Sequence[str] = ()
    """Route tables of ``web_subnet_ids``, in their order (one may repeat); needed by gateway endpoints (s3, dynamodb).
    Default: none."""
    batch_route_table_ids: Sequence[str] = ()
    """Route tables of ``batch_subnet_ids``, in their order; needed by gateway endpoints. Default: none."""


@dataclass(frozen=True, kw_only=True)
class NetworkProps:
    availability_zones: Sequence[str]
    """AZ names to span; at least two (HA-2). Naming them avoids an AWS lookup at synthesis."""
    cidr: str = "10.0.0.0/16"
    """IPv4 CIDR of the VPC. Ignored with ``existing``. Default: 10.0.0.0/16."""
    nat_gateways: int = 1
    """NAT gateways for private egress (image pulls, AWS APIs): 1 to one per AZ; 0 is refused, since the Web subnets
    always route through NAT. Ignored with ``existing``. Default: 1 (one per AZ is the HA choice)."""
    subnet_cidr_mask: int = 24
    """Size of every subnet. Ignored with ``existing``. Default: /24 (251 task ENIs per subnet)."""
    flow_log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR
    """Retention of the VPC flow log group. Ignored with ``existing``. Default: one year."""
    encryption_key: kms.IKey | None = None
    """Key for the flow log group. Ignored with ``existing``. Default: a new :class:`EncryptionKey`."""
    removal_policy: RemovalPolicy = RemovalPolicy.DESTROY
    """What deleting the stack does to the flow log group and key. Default: DESTROY."""
    existing: ExistingVpcProps | None = None
    """Use this VPC instead of creating one: then the construct creates no VPC, subnet, route, NAT gateway or
    flow log (the VPC's routes and flow logs are its owner's business), only the endpoints asked for.
    Default: None (a new VPC)."""
    endpoints: Sequence[str] = ()
    """VPC endpoints to create, by name: ``ecr`` (ecr.api and ecr.dkr), ``ecs`` (ecs, ecs-agent, ecs-telemetry, for
    EC2 capacity), ``kms``, ``logs``, ``monitoring``, ``secretsmanager``, ``sns``, ``sqs``, ``ssm``, ``ssmmessages``,
    ``sts`` (interface endpoints with private DNS, their network interfaces in the Batch subnets, reachable on tcp/443
    only from the groups :meth:`Network.allow_endpoints_from` admits) and ``s3``, ``dynamodb`` (gateway endpoints on
    the Web and Batch route tables). Every endpoint keeps AWS's default full-access policy. Default: none."""
    batch_nat: bool = True
    """Whether the Batch subnets route to NAT. False: they have no route out of the VPC (isolated) and need the
    endpoints Fargate pulls images and ships logs through (``ecr``, ``logs``, ``s3``); with ``existing``, the
    Batch subnets are taken as isolated and their routes stay the owner's. Default: True."""


class Network(Construct):
    """The VPC of the platform.

    Three subnet groups per AZ: ``Public`` (load balancers and NAT gateways only),
    ``Web`` (private, web/API tasks) and ``Batch`` (private, batch tasks). Tasks never get
    a public IP; they reach the internet through NAT (Batch: unless ``batch_nat=False``, then
    only AWS services through VPC endpoints). All traffic is recorded by a flow log into a
    KMS-encrypted log group. With ``existing``, the same three groups are another VPC's subnets,
    named by ID, and only the endpoints are created here.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: NetworkProps) -> None:
        super().__init__(scope, construct_id)
        zones = list(props.availability_zones)
        refuse(self, "availability_zones", check_availability_zones(zones), *zones)
        endpoints = self._check_endpoints(props)
        self.existing = props.existing is not None
        """Whether the VPC is someone else's (``NetworkProps.existing``): then nothing of it is created here."""
        self.encryption_key: kms.IKey | None = None
        """Key of the flow log group; None with an existing VPC."""
        self.flow_log_group: logs.LogGroup | None = None
        self.flow_log: ec2.FlowLog | None = None
        self.vpc: ec2.IVpc
        if props.existing is None:
            refuse(self, "nat_gateways", check_nat_gateways(props.nat_gateways, len(zones)), props.nat_gateways)
            self.vpc = self._new_vpc(props, zones)
        else:
            self._check_existing(props.existing, zones, endpoints, batch_nat=props.batch_nat)
            self.vpc = self._existing_vpc(props.existing, zones, batch_nat=props.batch_nat)
        self.endpoints_security_group: EndpointSecurityGroup | None = None
        """The group of the interface endpoints, if any (see :meth:`allow_endpoints_from`)."""
        self._add_endpoints(endpoints)

    def _check_endpoints(self, props: NetworkProps) -> list[str]:
        names = list(props.endpoints)
        for name in names:
            if name not in ENDPOINTS:
                refuse(self, "endpoints", f"{name!r} is not an endpoint name; allowed: {', '.join(ENDPOINTS)}", name)
            if names.count(name) > 1:
                refuse(self, "endpoints", f"{name!r} listed twice; allowed: each name once", name)
        missing = [name for name in NO_NAT_ENDPOINTS if name not in names]
        if not props.batch_nat and missing:
            refuse(
                self,
                "batch_nat",
                f"False without the endpoints Fargate pulls images and ships logs through (missing: {', '.join(missing)}); "
                f"allowed: True, or False with endpoints including {', '.join(NO_NAT_ENDPOINTS)}",
                props.batch_nat,
            )
        return names

    def _new_vpc(self, props: NetworkProps, zones: list[str]) -> ec2.Vpc:
        private = ec2.SubnetType.PRIVATE_WITH_EGRESS
        batch = private if props.batch_nat else ec2.SubnetType.PRIVATE_ISOLATED
        vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(props.cidr),
            availability_zones=zones,
            # CDK would close the default security group through a Lambda-backed custom
            # resource whose role carries an AWS managed policy; no task uses that group.
            restrict_default_security_group=False,
            nat_gateways=props.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name=PUBLIC_SUBNETS,
                    subnet_type=ec2.SubnetType.PUBLIC,
                    cidr_mask=props.subnet_cidr_mask,
                    map_public_ip_on_launch=False,
                ),
                ec2.SubnetConfiguration(name=WEB_SUBNETS, subnet_type=private, cidr_mask=props.subnet_cidr_mask),
                ec2.SubnetConfiguration(name=BATCH_SUBNETS, subnet_type=batch, cidr_mask=props.subnet_cidr_mask),
            ],
        )
        acknowledge_rule(
            vpc,
            "VPCDefaultSecurityGroupClosed",
            "No resource uses the default security group; closing it takes a Lambda-backed custom resource "
            "with an AWS managed policy, which this platform does not deploy.",
        )
        for subnet in vpc.public_subnets:
            route = subnet.node.find_child("DefaultRoute")
            acknowledge_rule(
                route,
                "VPCNoUnrestrictedRouteToIGW",
                "Public subnets hold only the internet-facing ALB and NAT gateways; their route to the IGW is their purpose.",
            )
        self.encryption_key = props.encryption_key or EncryptionKey(
            self, "Key", props=EncryptionKeyProps(description="VPC flow logs", removal_policy=props.removal_policy)
        )
        self.flow_log_group = logs.LogGroup(
            self,
            "FlowLogs",
            encryption_key=self.encryption_key,
            retention=props.flow_log_retention,
            removal_policy=props.removal_policy,
        )
        flow_log_role = ScopedRole(
            self,
            "FlowLogRole",
            props=ScopedRoleProps(
                assumed_by=service_principal("vpc-flow-logs.amazonaws.com", scope=self),
                description="VPC flow logs delivery to CloudWatch Logs",
            ),
        )
        self.flow_log = vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group, flow_log_role),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        return vpc

    def _check_existing(self, existing: ExistingVpcProps, zones: list[str], endpoints: list[str], *, batch_nat: bool) -> None:
        """SEC-1 / HA-2 on IDs only (nothing is looked up): well-formed IDs, one subnet per AZ and class, no
        subnet in two classes, route tables matching their subnets."""
        vpc_id = existing.vpc_id
        refuse(self, "existing.vpc_id", None if _VPC_ID.match(vpc_id) else f"{vpc_id!r} is not a VPC ID; allowed: vpc-<hex>", vpc_id)
        try:
            ipaddress.IPv4Network(existing.cidr_block, strict=True)
        except ValueError as error:
            refuse(
                self,
                "existing.cidr_block",
                f"{existing.cidr_block!r} is not an IPv4 network ({error}); allowed: a CIDR such as 10.0.0.0/16",
                existing.cidr_block,
            )
        classes = {
            "existing.public_subnet_ids": list(existing.public_subnet_ids),
            "existing.web_subnet_ids": list(existing.web_subnet_ids),
            "existing.batch_subnet_ids": list(existing.batch_subnet_ids),
        }
        owner: dict[str, str] = {}
        for field, ids in classes.items():
            optional = field == "existing.public_subnet_ids"
            if len(ids) != len(zones) and not (optional and not ids):
                allowed = f"{len(zones)} (one per AZ{', or none' if optional else ''}; SEC-1, HA-2)"
                refuse(self, field, f"{len(ids)} subnet(s) for {len(zones)} AZs ({', '.join(ids)}); allowed: {allowed}", *ids)
            for subnet_id in ids:
                if unresolved(subnet_id):
                    continue
                if not _SUBNET_ID.match(subnet_id):
                    refuse(self, field, f"{subnet_id!r} is not a subnet ID; allowed: subnet-<hex>", subnet_id)
                if subnet_id in owner:
                    where = "twice" if owner[subnet_id] == field else f"also in {owner[subnet_id]}"
                    refuse(self, field, f"{subnet_id} is {where}; allowed: each subnet in one class, once (SEC-1)", subnet_id)
                owner[subnet_id] = field
        tables = {
            "existing.web_route_table_ids": existing.web_route_table_ids,
            "existing.batch_route_table_ids": existing.batch_route_table_ids,
        }
        for field, table_ids in tables.items():
            if table_ids and len(table_ids) != len(zones):
                refuse(
                    self, field, f"{len(table_ids)} route table(s) for {len(zones)} subnets; allowed: one per subnet, or none", *table_ids
                )
            for table_id in table_ids:
                refuse(
                    self,
                    field,
                    None if _ROUTE_TABLE_ID.match(table_id) else f"{table_id!r} is not a route table ID; allowed: rtb-<hex>",
                    table_id,
                )
            gateways = [name for name in endpoints if name in GATEWAY_ENDPOINTS]
            if gateways and not table_ids:
                refuse(
                    self,
                    field,
                    f"none, but gateway endpoints ({', '.join(gateways)}) add routes to them; allowed: one per subnet",
                    *gateways,
                )
        if batch_nat and bool(existing.web_route_table_ids) != bool(existing.batch_route_table_ids):
            # Web and Batch are one CDK group of private subnets then: their route tables come together or not at all.
            field = "existing.batch_route_table_ids" if existing.web_route_table_ids else "existing.web_route_table_ids"
            refuse(self, field, "none while the other class's are given; allowed: route tables of both classes, or of neither", field)

    def _existing_vpc(self, existing: ExistingVpcProps, zones: list[str], *, batch_nat: bool) -> ec2.IVpc:
        private_ids = [*existing.web_subnet_ids, *(existing.batch_subnet_ids if batch_nat else ())]
        private_tables = [*existing.web_route_table_ids, *(existing.batch_route_table_ids if batch_nat else ())]
        vpc = ec2.Vpc.from_vpc_attributes(
            self,
            "Vpc",
            vpc_id=existing.vpc_id,
            vpc_cidr_block=existing.cidr_block,
            availability_zones=zones,
            public_subnet_ids=list(existing.public_subnet_ids) or None,
            public_subnet_names=[PUBLIC_SUBNETS] if existing.public_subnet_ids else None,
            private_subnet_ids=private_ids,
            private_subnet_names=[WEB_SUBNETS, BATCH_SUBNETS] if batch_nat else [WEB_SUBNETS],
            private_subnet_route_table_ids=private_tables or None,
            isolated_subnet_ids=None if batch_nat else list(existing.batch_subnet_ids),
            isolated_subnet_names=None if batch_nat else [BATCH_SUBNETS],
            isolated_subnet_route_table_ids=None if batch_nat else list(existing.batch_route_table_ids) or None,
        )
        # Only gateway endpoints read a subnet's route table, and they are refused without the route table IDs.
        Annotations.of(vpc).acknowledge_warning(
            "@aws-cdk/aws-ec2:noSubnetRouteTableId", "Route tables of an existing VPC are needed only by gateway endpoints"
        )
        return vpc

    def _add_endpoints(self, names: list[str]) -> None:
        if any(name in INTERFACE_ENDPOINTS for name in names):
            self.endpoints_security_group = EndpointSecurityGroup(self, "EndpointsSecurityGroup", props=SecurityGroupProps(vpc=self.vpc))
        for name in sorted(names):
            if name in GATEWAY_ENDPOINTS:
                ec2.GatewayVpcEndpoint(
                    self,
                    f"{GATEWAY_ENDPOINTS[name]}Endpoint",
                    vpc=self.vpc,
                    service=ec2.GatewayVpcEndpointAwsService(name),
                    subnets=[self.web_subnets, self.batch_subnets],
                )
                continue
            assert self.endpoints_security_group is not None
            for endpoint_id, service in INTERFACE_ENDPOINTS[name]:
                ec2.InterfaceVpcEndpoint(
                    self,
                    f"{endpoint_id}Endpoint",
                    vpc=self.vpc,
                    service=ec2.InterfaceVpcEndpointAwsService(service),
                    # One subnet per AZ is all an interface endpoint takes; private DNS answers for the whole VPC.
                    subnets=self.batch_subnets,
                    private_dns_enabled=True,
                    security_groups=[self.endpoints_security_group],
                    open=False,
                )

    def allow_endpoints_from(self, security_group: ec2.ISecurityGroup) -> None:
        """Let a workload's (or the container instances') group reach the interface endpoints on tcp/443. Does
        nothing without interface endpoints. Gateway endpoints (s3, dynamodb) need no such rule: they are routes,
        and a group with tcp/443 to anywhere reaches them (with ``https_anywhere=False``, state an ``EgressRule`` to
        the service's prefix list)."""
        if self.endpoints_security_group is not None:
            self.endpoints_security_group.admit(security_group)

    @property
    def shared_values(self) -> list[str]:
        """What other stacks may use of the network: the VPC and every subnet (see :meth:`WorkloadPlatform.shared_values`)."""
        values: list[str] = []
        if not self.existing:  # an existing VPC's IDs are literals: nothing to export
            subnets = [*self.vpc.public_subnets, *self.vpc.private_subnets, *self.vpc.isolated_subnets]
            values = [self.vpc.vpc_id, *(subnet.subnet_id for subnet in subnets)]
        if self.endpoints_security_group is not None:
            values.append(self.endpoints_security_group.security_group_id)
        return values

    @property
    def public_subnets(self) -> ec2.SubnetSelection:
        """Subnets for internet-facing load balancers."""
        return ec2.SubnetSelection(subnet_group_name=PUBLIC_SUBNETS)

    @property
    def web_subnets(self) -> ec2.SubnetSelection:
        """Private subnets dedicated to web/API tasks (SEC-1)."""
        return ec2.SubnetSelection(subnet_group_name=WEB_SUBNETS)

    @property
    def batch_subnets(self) -> ec2.SubnetSelection:
        """Private subnets dedicated to batch tasks (SEC-1)."""
        return ec2.SubnetSelection(subnet_group_name=BATCH_SUBNETS)
