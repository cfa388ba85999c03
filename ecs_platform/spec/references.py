"""Checks that a name in one part of the spec means something of the right kind in another: the stores of
``storage:`` that ``access:``, ``volumes:`` and ``log_routing:`` name, the workers that topics and producers
name, the publishers of a topic. Each yields ``(path, message)`` as :mod:`ecs_platform.spec.checks` does, and
runs over the whole spec only (an entry left out for a structural error would look unknown).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from ecs_platform.cfn_catalog import PropertyPathError, check_override
from ecs_platform.spec.models import JobSpec, ServiceSpec, Spec, WorkerSpec
from ecs_platform.spec.storage import STORE_OF_ENTRY, STORE_TYPES

Issue = tuple[str, str]


def workloads(spec: Spec) -> Iterator[tuple[str, ServiceSpec | JobSpec | WorkerSpec]]:
    """Every workload of ``spec`` with its path."""
    for i, service in enumerate(spec.services):
        yield f"services[{i}]", service
    for i, job in enumerate(spec.jobs):
        yield f"jobs[{i}]", job
    for i, worker in enumerate(spec.workers):
        yield f"workers[{i}]", worker


def _listed(names: list[str]) -> str:
    return ", ".join(names) if names else "none"


def unique_names(spec: Spec) -> Iterator[Issue]:
    """Stores, topics and each workload's volumes have names of their own."""
    for field, names in (("storage", [s.name for s in spec.storage]), ("topics", [t.name for t in spec.topics])):
        for name, count in Counter(names).items():
            if count > 1:
                yield f"{field}[{names.index(name)}].name", f"{name!r} is used {count} times; allowed: a name of its own for each"
    for path, workload in workloads(spec):
        names = [v.name for v in workload.volumes]
        for name, count in Counter(names).items():
            if count > 1:
                yield f"{path}.volumes[{names.index(name)}].name", f"{name!r} is used {count} times; allowed: a name of its own for each"


def store_references(spec: Spec) -> Iterator[Issue]:
    """An access entry that names a store reaches one of its type; rds_data takes the secret of its store."""
    stores = {s.name: s.type for s in spec.storage}
    for path, workload in workloads(spec):
        for i, entry in enumerate(workload.access):
            field = STORE_TYPES.get(entry.type)
            if field is None:
                continue
            value = getattr(entry, field)
            at = f"{path}.access[{i}]"
            if value in stores and stores[value] != STORE_OF_ENTRY[entry.type]:
                wanted = STORE_OF_ENTRY[entry.type]
                same = [n for n, t in stores.items() if t == wanted]
                yield (
                    f"{at}.{field}",
                    f"store {value!r} is {stores[value]}, not {wanted}; allowed: a {wanted} store ({_listed(same)}) or an ARN",
                )
            if entry.type == "rds_data":
                secret = entry.value("secret")
                owned = stores.get(value) == "aurora"
                if owned and secret is not None:
                    yield f"{at}.secret", f"cluster {value!r} is a store of the spec and has its own secret; allowed: no secret"
                if not owned and secret is None:
                    aurora = [n for n, t in stores.items() if t == "aurora"]
                    yield (
                        f"{at}.secret",
                        f"required for {value!r}; allowed: the secret's full ARN, or an aurora store ({_listed(aurora)})",
                    )


def volume_references(spec: Spec) -> Iterator[Issue]:
    """A volume mounts a file system of storage: into a container of its task; the file system's mount targets are in
    the workload's subnets."""
    file_systems = {s.name: s for s in spec.storage if s.type == "efs"}
    for path, workload in workloads(spec):
        containers = [c.name for c in workload.containers]
        for j, volume in enumerate(workload.volumes):
            at = f"{path}.volumes[{j}]"
            if volume.container is not None and volume.container not in containers:
                yield f"{at}.container", f"{volume.container!r} is not a container of {workload.name}; allowed: {_listed(containers)}"
            if volume.ebs is not None and isinstance(workload, JobSpec):
                yield (
                    f"{at}.ebs",
                    "a job's tasks are started by RunTask or EventBridge Scheduler, whose ECS target cannot pass the volume "
                    "configuration ECS-managed EBS needs; allowed: efs, or ephemeral_storage_gib (up to 200 GiB of scratch)",
                )
            if volume.ebs is not None and next(v.name for v in workload.volumes if v.ebs) != volume.name:
                yield f"{at}.ebs", "a second EBS volume; allowed: one EBS volume per task (ECS attaches one), or efs"
            if volume.efs is None:
                continue
            found = file_systems.get(volume.efs)
            if found is None:
                yield f"{at}.efs", f"{volume.efs!r} is not an efs store of storage:; allowed: {_listed(sorted(file_systems))}"
            elif found.file_system_id is None and found.subnets != workload.subnets:
                yield (
                    f"{at}.efs",
                    f"file system {volume.efs!r} has its mount targets in the {found.subnets} subnets, {workload.name} runs in the "
                    f"{workload.subnets} subnets; allowed: subnets: {workload.subnets} on the store (EFS needs mount targets "
                    "in the subnets of the tasks that mount it)",
                )


def log_routing_references(spec: Spec) -> Iterator[Issue]:
    buckets = sorted(s.name for s in spec.storage if s.type == "s3")
    for path, workload in workloads(spec):
        routing = workload.log_routing
        if routing is not None and routing.bucket is not None and routing.bucket not in buckets:
            yield f"{path}.log_routing.bucket", f"{routing.bucket!r} is not an s3 store of storage:; allowed: {_listed(buckets)}"


def topic_references(spec: Spec) -> Iterator[Issue]:
    """A topic's publishers are workloads and its subscribers workers of the spec, each once."""
    names = [name for _, w in workloads(spec) for name in [w.name]]
    workers = [w.name for w in spec.workers]
    for i, topic in enumerate(spec.topics):
        for j, publisher in enumerate(topic.publishers):
            if publisher not in names:
                yield (
                    f"topics[{i}].publishers[{j}]",
                    f"{publisher!r} is not a workload of this spec; allowed: {_listed(names)}",
                )
        subscribed = [s.worker for s in topic.subscribers]
        for j, worker in enumerate(subscribed):
            if worker not in workers:
                yield f"topics[{i}].subscribers[{j}].worker", f"{worker!r} is not a worker of this spec; allowed: {_listed(workers)}"
            elif subscribed.index(worker) != j:
                yield f"topics[{i}].subscribers[{j}].worker", f"{worker!r} is subscribed twice; allowed: one subscription per worker"


def producer_references(spec: Spec) -> Iterator[Issue]:
    """sqs_send names a worker (its queue) or, by ARN, a queue outside the spec: a bare name that is no worker's is
    refused, so a typo of a worker's name cannot become a grant on another queue."""
    workers = [w.name for w in spec.workers]
    for path, workload in workloads(spec):
        for i, entry in enumerate(workload.access):
            queue = entry.value("queue") or ""
            if entry.type != "sqs_send" or queue.startswith("arn:") or queue in workers:
                continue
            yield (
                f"{path}.access[{i}].queue",
                f"{queue!r} is not a worker of this spec; allowed: a worker ({_listed(workers)}) or a queue ARN",
            )


def job_overrides(spec: Spec) -> Iterator[Issue]:
    """A job has a task definition and no ECS service to override."""
    for i, job in enumerate(spec.jobs):
        if job.overrides.service:
            yield (
                f"jobs[{i}].overrides.service",
                "a job has no ECS service (each run is a RunTask call); allowed: task_definition",
            )


#: The resource type each part of ``overrides:`` changes.
OVERRIDDEN_TYPES = {"task_definition": "AWS::ECS::TaskDefinition", "service": "AWS::ECS::Service"}


def override_paths(spec: Spec) -> Iterator[Issue]:
    """Every override names a property its resource type has, with a value the property takes (before CDK starts; the
    construct checks again when it applies them)."""
    for path, workload in workloads(spec):
        for part, resource_type in OVERRIDDEN_TYPES.items():
            for property_path, value in getattr(workload.overrides, part).items():
                try:
                    check_override(resource_type, property_path, value)
                except PropertyPathError as error:
                    yield f"{path}.overrides.{part}", str(error)


def job_calls(spec: Spec) -> Iterator[Issue]:
    """A job calls services that have an internal load balancer: RunTask tasks cannot use Service Connect."""
    shared = {lb.name: lb for lb in spec.load_balancers}
    services = {s.name: s for s in spec.services}
    for i, job in enumerate(spec.jobs):
        for j, name in enumerate(job.calls):
            at = f"jobs[{i}].calls[{j}]"
            service = services.get(name)
            if service is None:
                yield at, f"{name!r} is not a service of this spec; allowed: {_listed(list(services))}"
                continue
            route = service.load_balancer
            public = None if route is None else (shared[route.shared].public if route.shared in shared else route.public)
            if public is not False:
                yield (
                    at,
                    f"{name!r} has no internal load balancer; allowed: a service with load_balancer: {{public: false}} (a job "
                    "calls it there: tasks started by RunTask do not join Service Connect)",
                )
