"""WorkloadPlatform: what the workloads of one environment share.

Customer-managed keys by purpose: one for log groups, one for queues and topics, one for ECS
Exec sessions (a grant on one never reaches the data of another); the ECS cluster (with ECS
Exec logging and a Service Connect namespace when asked); the topic service alarms notify and
the one failed job runs notify; the security groups of the Service Connect callers and the
role of Service Connect TLS; and the log buckets of the load balancers. Services, jobs and workers take these from it, in
its stack or in another one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from ecs_platform.constructs.cluster import Cluster, ClusterProps
from ecs_platform.constructs.encryption_key import EncryptionKey, EncryptionKeyProps
from ecs_platform.constructs.errors import ConstructError
from ecs_platform.constructs.log_buckets import LogBuckets, LogBucketsProps
from ecs_platform.constructs.notification_topic import NotificationTopic, NotificationTopicProps, Subscribers, subscribe
from ecs_platform.constructs.security_groups import (
    InstanceSecurityGroup,
    SecurityGroupProps,
    ServiceConnectCallerSecurityGroup,
    ServiceConnectClientsSecurityGroup,
)
from ecs_platform.constructs.service_connect_tls import ServiceConnectTls, ServiceConnectTlsProps
from ecs_platform.constructs.task_role import TaskRole

if TYPE_CHECKING:
    from aws_cdk import aws_servicediscovery as cloudmap


@dataclass(frozen=True, kw_only=True)
class WorkloadPlatformProps:
    vpc: ec2.IVpc
    """The VPC of the cluster."""
    label: str = "ecs-platform"
    """How descriptions name the platform (the key's description, the topics' display names). Default: ecs-platform."""
    name_prefix: str | None = None
    """Prefix of the physical names the platform chooses (``/ecs/<prefix>/exec``, ``<prefix>-service-connect``).
    Default: none (CloudFormation names the exec log group; the group's Name tag is its path)."""
    cluster_name_tag: str | None = None
    """Value of the cluster's Name tag (CLI-4). Default: no Name tag."""
    enable_exec: bool = False
    """Configure ECS Exec on the cluster: sessions encrypted with the key and logged to their own group. Default: false."""
    service_connect_namespace: str | None = None
    """Name of a Cloud Map HTTP namespace for Service Connect (ARCH-7), the cluster's default. Default: none."""
    service_connect_callers: Sequence[str] = ()
    """Services that call others through Service Connect: each gets a security group of its own here
    (:meth:`WorkloadPlatform.caller_group`), which its tasks carry and the servers that name it admit.
    Here rather than beside the service, so servers and callers in different stacks reference it
    without a cycle. Default: none."""
    service_connect_tls: ServiceConnectTlsProps | None = None
    """TLS between Service Connect services, certificates from a private CA (see :class:`ServiceConnectTls`).
    Default: none (plaintext inside the VPC)."""
    alarm_topic: bool = True
    """Create the topic service alarms notify (OBS-2). Default: true."""
    job_failure_topic: bool = True
    """Create the topic failed job runs notify. Default: true."""
    load_balancer_logs: bool = True
    """Create the buckets load balancers write access logs to. Default: true."""
    load_balancer_log_retention: Duration = Duration.days(365)
    """How long the load balancers' access logs are kept. Default: 365 days."""
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR
    """Retention of the platform's own log groups (ECS Exec sessions). Default: one year."""
    removal_policy: RemovalPolicy = RemovalPolicy.DESTROY
    """What deleting the stack does to the key and the log groups. Default: DESTROY."""
    permissions_boundary: iam.IManagedPolicy | None = None
    """Permissions boundary of every role the workloads create (``permissions_boundary``). Default: none."""
    subscribers: Subscribers = Subscribers()
    """Who hears of the alarms and the failed job runs (both topics). Default: nobody (the summary warns)."""


class WorkloadPlatform(Construct):
    """The keys, cluster, topics, ECS Exec log group, Service Connect caller groups and TLS role, and
    load balancer log buckets the workloads of one environment share.

    Its resources keep the logical IDs they would have as direct children of the stack when the
    construct's ID is ``Default`` (CDK leaves that ID out of logical IDs).
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: WorkloadPlatformProps) -> None:
        super().__init__(scope, construct_id)
        self.permissions_boundary = props.permissions_boundary
        """The boundary the workloads put on their roles."""
        self._label, self._name_prefix, self._removal_policy = props.label, props.name_prefix, props.removal_policy
        self.key = EncryptionKey(
            self, "Key", props=EncryptionKeyProps(description=f"{props.label} workloads: log groups", removal_policy=props.removal_policy)
        )
        """Encrypts the workloads' log groups (SEC-3); CloudWatch Logs of this account may use it."""
        self.messaging_key = EncryptionKey(
            self,
            "MessagingKey",
            props=EncryptionKeyProps(
                description=f"{props.label} workloads: queues and topics", removal_policy=props.removal_policy, for_log_groups=False
            ),
        )
        """Encrypts the workloads' queues and topics (SEC-3)."""
        self.exec_key: EncryptionKey | None = None
        """Encrypts ECS Exec sessions (with ``enable_exec``)."""
        self.exec_log_group: logs.LogGroup | None = None
        """Where ECS Exec sessions are logged (with ``enable_exec``)."""
        if props.enable_exec:
            self.exec_key = EncryptionKey(
                self,
                "ExecKey",
                props=EncryptionKeyProps(
                    description=f"{props.label} workloads: ECS Exec sessions", removal_policy=props.removal_policy, for_log_groups=False
                ),
            )
            self.exec_log_group = logs.LogGroup(
                self,
                "ExecLogs",
                log_group_name=f"/ecs/{props.name_prefix}/exec" if props.name_prefix else None,
                encryption_key=self.key,
                retention=props.log_retention,
                removal_policy=props.removal_policy,
            )
        self.cluster: ecs.Cluster = Cluster(
            self,
            "Cluster",
            props=ClusterProps(
                vpc=props.vpc,
                name_tag=props.cluster_name_tag,
                exec_log_group=self.exec_log_group,
                exec_key=self.exec_key,
                service_connect_namespace=props.service_connect_namespace,
            ),
        ).cluster
        self.namespace: cloudmap.INamespace | None = self.cluster.default_cloud_map_namespace if props.service_connect_namespace else None
        """The Service Connect namespace (ARCH-7), if any."""
        self._retired_clients: ec2.ISecurityGroup | None = None
        self._caller_groups: dict[str, ec2.ISecurityGroup] = {}
        self.service_connect_tls: ServiceConnectTls | None = None
        """The role and configuration of Service Connect TLS (with ``service_connect_tls``)."""
        if self.namespace is not None:
            # 0.1's flat group of every member: no rules or members now, kept while 0.1 stacks import it.
            self._retired_clients = ServiceConnectClientsSecurityGroup(
                self,
                "ServiceConnectClients",
                props=SecurityGroupProps(vpc=props.vpc, name=f"{props.name_prefix}-service-connect" if props.name_prefix else None),
            )
            callers = Construct(self, "ServiceConnectCallers")
            for caller in dict.fromkeys(props.service_connect_callers):
                self._caller_groups[caller] = ServiceConnectCallerSecurityGroup(
                    callers,
                    caller,
                    props=SecurityGroupProps(vpc=props.vpc, name=f"{props.name_prefix}-{caller}-caller" if props.name_prefix else None),
                )
            if props.service_connect_tls is not None:
                tls = props.service_connect_tls
                self.service_connect_tls = ServiceConnectTls(
                    self,
                    "ServiceConnectTls",
                    props=tls if tls.permissions_boundary else replace(tls, permissions_boundary=props.permissions_boundary),
                )
        self.load_balancer_logs = (
            LogBuckets(self, "LoadBalancerLogs", props=LogBucketsProps(retention=props.load_balancer_log_retention))
            if props.load_balancer_logs
            else None
        )
        """The buckets of the load balancers' access logs."""
        self.job_failure_topic: sns.Topic | None = (
            NotificationTopic(self, "JobFailures", props=self._topic(props, f"{props.label} failed job runs"))
            if props.job_failure_topic
            else None
        )
        """Failed job runs notify this topic."""
        self.alarm_topic: sns.Topic | None = (
            NotificationTopic(self, "Alarms", props=self._topic(props, f"{props.label} service alarms")) if props.alarm_topic else None
        )
        """Service alarms notify this topic (OBS-2)."""
        topics = [t for t in (self.alarm_topic, self.job_failure_topic) if t is not None]
        if topics and props.subscribers.anyone:
            subscribe(self, topics, props.subscribers)

    @property
    def shared_values(self) -> list[str]:
        """What the workloads of other stacks may use of the platform. Their stack exports each of these
        whether or not another stack imports it today: CloudFormation refuses to remove an export
        while a deployed stack imports it, and deploys the exporting stack first."""
        values = [self.cluster.cluster_name, self.cluster.cluster_arn, self.key.key_arn, self.messaging_key.key_arn]
        for topic in (self.alarm_topic, self.job_failure_topic):
            if topic is not None:
                values.append(topic.topic_arn)
        if self.exec_log_group is not None and self.exec_key is not None:
            values += [self.exec_log_group.log_group_arn, self.exec_key.key_arn]
        if self.namespace is not None and self._retired_clients is not None:
            values += [self.namespace.namespace_arn, self._retired_clients.security_group_id]
            values += [group.security_group_id for group in self._caller_groups.values()]
        if self.service_connect_tls is not None:
            values.append(self.service_connect_tls.role.role_arn)
        if self.load_balancer_logs is not None:
            values += [self.load_balancer_logs.access_logs.bucket_name, self.load_balancer_logs.access_logs.bucket_arn]
        return values

    @property
    def volumes_key(self) -> EncryptionKey:
        """Encrypts the root volumes of the EC2 container instances (SEC-3), created with the first EC2 capacity."""
        found = self.node.try_find_child("VolumesKey")
        if isinstance(found, EncryptionKey):
            return found
        return EncryptionKey(
            self,
            "VolumesKey",
            props=EncryptionKeyProps(
                description=f"{self._label} workloads: EC2 instance volumes", removal_policy=self._removal_policy, for_log_groups=False
            ),
        )

    @property
    def instances_security_group(self) -> ec2.ISecurityGroup:
        """The group of the EC2 container instances (no inbound, 443 out), created with the first EC2 capacity."""
        found = self.node.try_find_child("InstancesSecurityGroup")
        if isinstance(found, ec2.SecurityGroup):
            return found
        name = f"{self._name_prefix}-instances" if self._name_prefix else None
        return InstanceSecurityGroup(self, "InstancesSecurityGroup", props=SecurityGroupProps(vpc=self.cluster.vpc, name=name))

    @property
    def caller_groups(self) -> Mapping[str, ec2.ISecurityGroup]:
        """The Service Connect callers' groups, by the names given in ``service_connect_callers``."""
        return dict(self._caller_groups)

    def caller_group(self, caller: str) -> ec2.ISecurityGroup:
        """The group of ``caller`` (one of ``service_connect_callers``): its tasks carry it, servers admit it."""
        if caller not in self._caller_groups:
            known = ", ".join(self._caller_groups) or "none (service_connect_callers is empty)"
            raise ConstructError(self, f"{caller!r} is not a Service Connect caller of this platform; allowed: {known}")
        return self._caller_groups[caller]

    def _topic(self, props: WorkloadPlatformProps, display_name: str) -> NotificationTopicProps:
        # Retained in production with their subscriptions, also when a change replaces them.
        retain = props.removal_policy != RemovalPolicy.DESTROY
        return NotificationTopicProps(
            key=self.messaging_key,
            display_name=display_name,
            removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE if retain else RemovalPolicy.DESTROY,
        )

    def grant_ecs_exec(self, role: TaskRole) -> iam.Grant:
        """ECS Exec into the tasks of ``role``: the Session Manager channels, and (with ``enable_exec``)
        writing the session log and decrypting the session (with the exec key, which encrypts nothing else)."""
        return role.grant_ecs_exec(log_group=self.exec_log_group, key=self.exec_key)
