"""Producers and consumers (issue 15): the grants and settings that join one workload to another's queue or to a
topic the platform owns, made once every workload of the environment exists (a producer may be built before the
worker it sends to, or in another stack).

Each producer's containers learn where to send from their environment: ``<WORKER>_QUEUE_URL`` for a worker's
queue, ``<TOPIC>_TOPIC_ARN`` for a topic, ``<SERVICE>_URL`` for a service a job calls (names upper-cased, ``-`` as
``_``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from aws_cdk import aws_ec2 as ec2

from ecs_platform.constructs import AppTopic, Network, QueueWorker, TaskAccessors
from ecs_platform.constructs.acknowledge import acknowledge
from ecs_platform.stacks.translate import Translation


def environment_name(name: str, suffix: str) -> str:
    """``order-events`` and ``TOPIC_ARN`` -> ``ORDER_EVENTS_TOPIC_ARN``."""
    return f"{name.upper().replace('-', '_')}_{suffix}"


def _tell(workloads: Mapping[str, TaskAccessors], told: Mapping[str, Mapping[str, str]]) -> None:
    """Set each workload's told variables on its containers, with one acknowledgement of the values' kind."""
    for name, variables in told.items():
        workload = workloads[name]
        for container in workload.task.containers:
            for variable, value in variables.items():
                container.add_environment(variable, value)
        acknowledge(
            workload.task_definition,
            "AwsSolutions-ECS2",
            "The environment names the queues, topics and services the workload sends to (URLs and ARNs, not secrets).",
        )


def connect(
    translation: Translation,
    workloads: Mapping[str, TaskAccessors],
    workers: Mapping[str, QueueWorker],
    topics: Mapping[str, AppTopic],
    network: Network,
) -> None:
    """Grant each producer its workers' queues and each publisher its topics, and tell their containers where they are;
    let every workload's tasks reach the VPC endpoints."""
    told: dict[str, dict[str, str]] = defaultdict(dict)
    if network.endpoints_security_group is not None:
        for workload in workloads.values():
            network.allow_endpoints_from(workload.security_group)  # type: ignore[attr-defined]  # every workload has its group
    for producer, worker in translation.producers:
        workers[worker].grant_send(workloads[producer].task_role)
        told[producer][environment_name(worker, "QUEUE_URL")] = workers[worker].queue.queue_url
    for worker, service, port in translation.worker_calls:
        # A worker's group lets out HTTPS only: open the one port of each service it calls, to that service's tasks.
        server = workloads[service]
        workers[worker].security_group.add_egress_rule(
            server.security_group,  # type: ignore[attr-defined]  # every service has its group
            ec2.Port.tcp(port),
            f"Service Connect to {service}",
        )
    for job, service in translation.job_calls:
        # RunTask tasks do not join Service Connect: the job reaches the service's internal load balancer, whose
        # listener admits the VPC; the job's group lets out HTTPS only, so open the listener's port to that group.
        called = workloads[service]
        load_balancer = called.load_balancer  # type: ignore[attr-defined]  # a service the spec gives an internal one
        port = 443 if load_balancer.https else 80
        workloads[job].security_group.add_egress_rule(  # type: ignore[attr-defined]
            load_balancer.security_group, ec2.Port.tcp(port), f"{service}'s load balancer"
        )
        told[job][environment_name(service, "URL")] = called.url  # type: ignore[attr-defined]
    for publisher, topic in translation.publishers:
        topics[topic].grant_publish(workloads[publisher].task_role)
        told[publisher][environment_name(topic, "TOPIC_ARN")] = topics[topic].topic_arn
    _tell(workloads, told)
