"""WorkloadStack: the platform the workloads share, the shared load balancers, the jobs, the
workers, and the first services."""

from __future__ import annotations

from typing import Any

from aws_cdk import Tags
from constructs import Construct

from ecs_platform.constructs import (
    GUARDDUTY_OPT_OUT_TAG,
    AppBucket,
    AppTable,
    AppTopic,
    AsgCapacity,
    AuroraServerless,
    BatchJob,
    ClusterReservationAlarms,
    ClusterReservationAlarmsProps,
    EncryptionKey,
    LoadBalancer,
    ManagedInstancesCapacity,
    Network,
    QueueWorker,
    SharedFileSystem,
    WorkloadPlatform,
)
from ecs_platform.outputs import CLUSTER_NAME, QUEUE_URL, RUN_TASK_PARAMETERS, SERVICE_NAME, output_prefix
from ecs_platform.stacks.services_stack import ServiceHost, adopt, output
from ecs_platform.stacks.services_stack import load_balancer as build_load_balancer
from ecs_platform.stacks.translate import Translation


class WorkloadStack(ServiceHost):
    """The :class:`WorkloadPlatform` (cluster, key, topics), the shared load balancers, every job
    and worker, and the services :meth:`add_service` puts here."""

    def __init__(self, scope: Construct, construct_id: str, *, translation: Translation, network: Network | None, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.translation = translation
        self.network = network or Network(self, "Network", props=translation.network())
        """The network stack's, or an existing VPC imported here when the network stack has nothing to create."""
        # ``Default``: CDK leaves this ID out of logical IDs, so the platform's resources keep
        # the IDs they had as direct children of the stack.
        self.platform = WorkloadPlatform(self, "Default", props=translation.platform(self, self.network))
        output(self, CLUSTER_NAME, self.platform.cluster.cluster_name, "ECS cluster (CLI-8)")
        if self.platform.alarm_topic is not None:
            output(self, "AlarmTopic", self.platform.alarm_topic.topic_arn, "Subscribe to hear of service alarms (OBS-2)")
        if self.platform.job_failure_topic is not None:
            output(self, "JobFailuresTopic", self.platform.job_failure_topic.topic_arn, "Subscribe to hear of failed job runs")
        self.capacity: dict[str, AsgCapacity | ManagedInstancesCapacity] = {}
        """The EC2 capacity providers of the cluster by the spec's name (ARCH-2, ARCH-3): before the workloads on them."""
        for name in translation.capacity_providers:
            scope = Construct(self, f"Capacity-{name}")
            if translation.capacity_kind(name) == "asg":
                self.capacity[name] = AsgCapacity(scope, "Asg", props=translation.asg_capacity(name, self.network, self.platform))
            else:
                self.capacity[name] = ManagedInstancesCapacity(
                    scope, "ManagedInstances", props=translation.managed_instances(scope, name, self.network, self.platform)
                )
        if translation.runtime_monitoring_opt_out:
            # GuardDuty reads its opt-out from the cluster (Fargate tasks) and the instances (EC2 capacity) only.
            for each in (self.platform.cluster, *(c for c in self.capacity.values() if isinstance(c, AsgCapacity))):
                Tags.of(each).add(*GUARDDUTY_OPT_OUT_TAG)
        self.ec2_capacity = any(isinstance(c, AsgCapacity) for c in self.capacity.values())
        """The cluster has instances of an Auto Scaling group, so CPUReservation and MemoryReservation exist."""
        if self.ec2_capacity:
            ClusterReservationAlarms(
                self,
                "ReservationAlarms",
                props=ClusterReservationAlarmsProps(cluster=self.platform.cluster, alarm_topic=self.platform.alarm_topic),
            )
        self.shared_load_balancers: dict[str, LoadBalancer] = {}
        """The spec's shared ALBs by name; services route from them with listener rules."""
        for name in translation.shared_load_balancers:
            scope = Construct(self, f"LoadBalancer-{name}")
            load_balancer = build_load_balancer(scope, translation.shared_load_balancer(scope, name, self.network, self.platform))
            output(self, f"{output_prefix(name)}LoadBalancerUrl", load_balancer.url(), f"shared load balancer {name}")
            self.shared_load_balancers[name] = load_balancer
        # Exported whether or not a services stack imports them today: CloudFormation deploys this
        # stack first and refuses to drop an export another deployed stack still imports, so an
        # export that came and went with its users would block ordinary edits.
        shared = [*self.platform.shared_values, *(v for lb in self.shared_load_balancers.values() for v in lb.shared_values)]
        for value in shared:
            self.export_value(value)
        self.data_key = EncryptionKey(self, "DataKey", props=translation.data_key()) if translation.needs_data_key else None
        """The key of the platform's stores and volumes (storage:, EBS), when it has any."""
        self.stores = {name: self._store(name) for name in translation.store_names}
        """The stores of ``storage:`` by name; workloads reach them by it (access:, volumes:, log_routing:)."""
        translation.stores.update(self.stores)
        translation.stores_key = self.data_key
        self.topics = {name: self._topic(name) for name in translation.topics}
        """The topics the platform owns (``topics:``), by the spec's name."""
        self.jobs = {name: self._job(name) for name in translation.jobs}
        self.workers = {name: self._worker(name) for name in translation.workers}
        for topic, worker in translation.subscriptions:
            built = self.workers[worker]
            self.topics[topic].subscribe_queue(built.queue, built.queue_key, **translation.subscription(topic, worker))

    def _store(self, name: str) -> Any:
        assert self.data_key is not None
        scope = Construct(self, f"Store-{name}")
        kind = self.translation.store_kind(name)
        if kind == "efs":
            return SharedFileSystem(scope, "FileSystem", props=self.translation.file_system(name, self.network, self.data_key))
        if kind == "s3":
            return AppBucket(scope, "Bucket", props=self.translation.bucket(name, self.data_key, self.platform))
        if kind == "dynamodb":
            return AppTable(scope, "Table", props=self.translation.table(name, self.data_key))
        database = AuroraServerless(scope, "Database", props=self.translation.database(name, self.network, self.platform, self.data_key))
        output(self, f"{output_prefix(name)}DatabaseSecret", database.secret.secret_arn, f"store {name}: its credentials")
        return database

    def _topic(self, name: str) -> AppTopic:
        topic = AppTopic(Construct(self, f"Topic-{name}"), "Topic", props=self.translation.topic(name, self.platform))
        output(self, f"{output_prefix(name)}TopicArn", topic.topic_arn, f"topic {name}: publish here")
        return topic

    def _job(self, name: str) -> BatchJob:
        scope = Construct(self, f"Job-{name}")
        job = BatchJob(scope, "BatchJob", props=self.translation.batch_job(scope, name, self.network, self.platform))
        prefix = adopt(scope, name, job, self.translation, self.platform)
        output(scope, f"{prefix}RunTaskCommand", job.run_task_command, f"{name}: run it now (CLI-7)")
        output(scope, f"{prefix}{RUN_TASK_PARAMETERS}", job.run_task_parameters, f"{name}: RunTask request (ecs-platform run-task)")
        output(scope, f"{prefix}TaskDefinition", job.task_definition.task_definition_arn, f"{name}: task definition (CLI-8)")
        return job

    def _worker(self, name: str) -> QueueWorker:
        scope = Construct(self, f"Worker-{name}")
        worker = QueueWorker(scope, "QueueWorker", props=self.translation.queue_worker(scope, name, self.network, self.platform))
        prefix = adopt(scope, name, worker, self.translation, self.platform)
        output(scope, f"{prefix}{QUEUE_URL}", worker.queue.queue_url, f"{name}: the queue it consumes")
        output(scope, f"{prefix}{SERVICE_NAME}", worker.service.service_name, f"{name}: ECS service (CLI-8)")
        return worker
