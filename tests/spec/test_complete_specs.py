"""specs/complete.yaml (issue 15): what real applications add to a spec (container lifecycle, sidecars, volumes,
producers and consumers, networks, stores, overrides) is accepted, and each kind of bad input is refused with the
field, the value and what is allowed, before CDK starts."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ecs_platform.spec import SpecError, parse_spec

SPECS = Path(__file__).resolve().parents[2] / "specs"
COMPLETE: dict[str, Any] = yaml.safe_load((SPECS / "complete.yaml").read_text(encoding="utf-8"))


def complete() -> dict[str, Any]:
    return copy.deepcopy(COMPLETE)


def _service(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in data["services"] if s["name"] == name)


def test_the_complete_example_uses_every_new_field_family() -> None:
    """The example is the test bed of every feature of the issue: a reader finds each in use there."""
    spec = parse_spec(complete())
    api = next(s for s in spec.services if s.name == "api")
    app = api.containers[0]
    assert app.depends_on == {"migrate": "SUCCESS"} and app.init_process and app.stop_timeout_seconds == 60
    assert app.entrypoint and app.working_directory and app.ulimits and app.drop_capabilities and app.docker_labels
    assert api.log_routing is not None and api.tracing == "xray" and api.egress and api.overrides.service
    assert {s.type for s in spec.storage} == {"s3", "dynamodb", "aurora", "efs"}
    assert spec.topics[0].subscribers[0].filter_policy == {"event": ["order_placed", "order_paid"]}
    assert spec.network.endpoints and spec.network.batch_nat is False
    assert {e.type for e in api.access} >= {"sqs_send", "rds_data", "s3", "dynamodb"}
    assert any(v.efs for j in spec.jobs for v in j.volumes)


Mutate = Callable[[dict[str, Any]], None]


def _set(path: list[Any], value: Any) -> Mutate:
    def mutate(data: dict[str, Any]) -> None:
        node: Any = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


def _api_container(**values: Any) -> Mutate:
    return lambda d: _service(d, "api")["containers"][0].update(values)


BAD: dict[str, tuple[Mutate, str, str]] = {
    "a dependency cycle": (
        lambda d: _service(d, "api")["containers"][1].update(depends_on={"app": "START"}),
        "services[0].containers",
        r"containers wait for each other in a cycle: app -> migrate -> app; allowed: dependencies without a cycle",
    ),
    "a dependency on an unknown container": (
        _api_container(depends_on={"migrat": "SUCCESS"}),
        "services[0].containers[0].depends_on",
        r"container 'app' depends on 'migrat', not a container of this task; allowed: app, migrate",
    ),
    "waiting for an essential container to complete": (
        lambda d: _service(d, "api")["containers"][1].update(essential=True),
        "services[0].containers[0].depends_on",
        r"'migrate' is essential .*allowed: essential: false on it, or START/HEALTHY",
    ),
    "HEALTHY of a container without a health check": (
        _api_container(depends_on={"migrate": "HEALTHY"}),
        "services[0].containers[0].depends_on",
        r"'migrate' has no health check; allowed: START, or add one",
    ),
    "a stop timeout over 120 s on Fargate": (
        _api_container(stop_timeout_seconds=300),
        "services[0].containers[0].stop_timeout_seconds",
        r"300 s on Fargate; allowed: 2 to 120 s \(Fargate's limit\)",
    ),
    "a soft limit over its hard limit": (
        _api_container(ulimits=[{"name": "nofile", "soft": 2048, "hard": 1024}]),
        "services[0].containers[0].ulimits[0]",
        r"soft limit 2048 exceeds hard limit 1024; allowed: soft <= hard",
    ),
    "a capability that does not exist": (
        _api_container(drop_capabilities=["NET_RAWW"]),
        "services[0].containers[0].drop_capabilities[0]",
        r"'NET_RAWW'.*allowed: .*NET_RAW",
    ),
    "a producer naming an unknown worker": (
        lambda d: _service(d, "api")["access"].append({"type": "sqs_send", "queue": "fulfillment"}),
        "services[0].access[4].queue",
        r"'fulfillment' is not a worker of this spec; allowed: a worker \(fulfilment\) or a queue ARN",
    ),
    "a topic subscriber that is not a worker": (
        _set(["topics", 0, "subscribers", 0, "worker"], "api"),
        "topics[0].subscribers[0].worker",
        r"'api' is not a worker of this spec; allowed: fulfilment",
    ),
    "a topic publisher that is not a workload": (
        _set(["topics", 0, "publishers"], ["checkout"]),
        "topics[0].publishers[0]",
        r"'checkout' is not a workload of this spec; allowed: api, pricing, nightly-report, fulfilment",
    ),
    "an empty filter policy value": (
        _set(["topics", 0, "subscribers", 0, "filter_policy"], {"event": []}),
        "topics[0].subscribers[0]",
        r"attribute 'event' allows no value; allowed: a list of at least one string",
    ),
    "EFS mounted from subnets without its mount targets": (
        _set(["storage", 3, "subnets"], "web"),
        "jobs[0].volumes[0].efs",
        r"mount targets in the web subnets, nightly-report runs in the batch subnets; allowed: subnets: batch on the store",
    ),
    "a volume of an unknown file system": (
        _set(["jobs", 0, "volumes", 0, "efs"], "report"),
        "jobs[0].volumes[0].efs",
        r"'report' is not an efs store of storage:; allowed: reports",
    ),
    "a volume with no source": (
        _set(["jobs", 0, "volumes", 0], {"name": "reports", "path": "/reports"}),
        "jobs[0].volumes[0]",
        r"neither of efs and ebs given; allowed: exactly one",
    ),
    "EBS on a scheduled job": (
        _set(["jobs", 0, "volumes", 0], {"name": "scratch", "path": "/scratch", "ebs": {"size_gib": 20}}),
        "jobs[0].volumes[0].ebs",
        r"cannot pass the volume configuration ECS-managed EBS needs; allowed: efs, or ephemeral_storage_gib",
    ),
    "an access entry naming a store of another type": (
        _set(["services", 0, "access", 0, "bucket"], "orders"),
        "services[0].access[0].bucket",
        r"store 'orders' is dynamodb, not s3; allowed: a s3 store \(uploads\) or an ARN",
    ),
    "rds_data on a cluster outside the spec without its secret": (
        _set(["services", 0, "access", 2, "cluster"], "legacy"),
        "services[0].access[2].secret",
        r"required for 'legacy'; allowed: the secret's full ARN, or an aurora store \(ledger\)",
    ),
    "Aurora capacity not in half units": (
        _set(["storage", 2, "max_capacity"], 8.3),
        "storage[2].aurora",
        r"max_capacity 8\.3 is not a multiple of 0\.5",
    ),
    "log routing to a bucket that is not a store": (
        _set(["services", 0, "log_routing", "bucket"], "logs"),
        "services[0].log_routing.bucket",
        r"'logs' is not an s3 store of storage:; allowed: uploads",
    ),
    "log routing to Firehose without a stream": (
        _set(["services", 0, "log_routing"], {"destination": "firehose"}),
        "services[0].log_routing",
        r"destination firehose needs delivery_stream",
    ),
    "an egress rule without a destination": (
        _set(["services", 0, "egress"], [{"ports": [443]}]),
        "services[0].egress[0]",
        r"no destination; allowed: cidrs, prefix_lists, or both",
    ),
    "an egress CIDR that is not a network": (
        _set(["services", 0, "egress"], [{"ports": [443], "cidrs": ["10.0.0.1/16"]}]),
        "services[0].egress[0].cidrs[0]",
        r"'10\.0\.0\.1/16' is not a CIDR block",
    ),
    "batch subnets without NAT and without the endpoints they need": (
        _set(["network", "endpoints"], ["ecr", "s3"]),
        "network.batch_nat",
        r"false, but endpoints lack logs: batch tasks could not pull images or write logs",
    ),
    "an existing VPC sharing a subnet between classes": (
        _set(
            ["network"],
            {
                "existing": {
                    "vpc_id": "vpc-0123456789abcdef0",
                    "cidr": "10.0.0.0/16",
                    "public_subnet_ids": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
                    "web_subnet_ids": ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"],
                    "batch_subnet_ids": ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0ccccccccccccccc2"],
                }
            },
        ),
        "network.existing.batch_subnet_ids[0]",
        r"subnet-0bbbbbbbbbbbbbbb1 is also in web_subnet_ids; allowed: a subnet in one class only \(SEC-1",
    ),
    "an allow list on an internal load balancer": (
        _set(["services", 0, "load_balancer", "public"], False),
        "services[0].load_balancer.allowed_cidrs",
        r"set on an internal load balancer \(it admits the VPC only\); allowed: on a public one",
    ),
    "gRPC behind an HTTP listener": (
        lambda d: (
            _service(d, "api")["containers"][0].update(app_protocol="grpc")
            or _service(d, "api").update(load_balancer={"public": True, "https": False})
        ),
        "services[0].containers[0].app_protocol",
        r"grpc behind an HTTP listener; allowed: https: true on the load balancer",
    ),
    "a job as a Service Connect caller": (
        _set(["services", 1, "connect", "callers"], ["api", "nightly-report"]),
        "services[1].connect.callers[1]",
        r"'nightly-report' is a job: tasks started by RunTask do not join Service Connect.*calls: \[pricing\] on the job",
    ),
    "a job calling a service without an internal load balancer": (
        _set(["jobs", 0, "calls"], ["pricing"]),
        "jobs[0].calls[0]",
        r"'pricing' has no internal load balancer; allowed: a service with load_balancer: \{public: false\}",
    ),
    "a job calling an unknown service": (
        _set(["jobs", 0, "calls"], ["pricer"]),
        "jobs[0].calls[0]",
        r"'pricer' is not a service of this spec; allowed: api, pricing",
    ),
    "service overrides on a job": (
        _set(["jobs", 0, "overrides", "service"], {"PropagateTags": "SERVICE"}),
        "jobs[0].overrides.service",
        r"a job has no ECS service \(each run is a RunTask call\); allowed: task_definition",
    ),
    "an override of an unknown property": (
        _set(["jobs", 0, "overrides", "task_definition"], {"ContainerDefinitions.0.StartTimout": 120}),
        "jobs[0].overrides.task_definition",
        r"'ContainerDefinitions\.0\.StartTimout' is not a property of AWS::ECS::TaskDefinition; "
        r"did you mean ContainerDefinitions\.\*\.StartTimeout\?",
    ),
    "an override of the wrong type": (
        _set(["services", 0, "overrides", "service"], {"DesiredCount": "2"}),
        "services[0].overrides.service",
        r"DesiredCount: '2' is a string; AWS::ECS::Service DesiredCount takes an integer",
    ),
    "two stores of one name": (
        lambda d: d["storage"].append({"name": "uploads", "type": "dynamodb", "partition_key": {"name": "id"}}),
        "storage[0].name",
        r"'uploads' is used 2 times; allowed: a name of its own for each",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_fails_when(case: str) -> None:
    """Each bad input names its field, its value and what is allowed."""
    mutate, path, pattern = BAD[case]
    data = complete()
    mutate(data)
    with pytest.raises(SpecError) as raised:
        parse_spec(data, source="complete.yaml")
    lines = [line.strip() for line in str(raised.value).splitlines()[1:]]
    matching = [line for line in lines if line.startswith(f"{path}:")]
    assert matching, f"no problem reported at {path}: {lines}"
    assert any(re.search(pattern, line) for line in matching), matching
