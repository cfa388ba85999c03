"""Checks that span several fields of a structurally valid spec.

One small pure function per rule, in the manner of cdk-nag: each takes the spec and
yields ``(path, message)`` pairs. :func:`check_spec` runs them all, so every problem is
reported at once.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence

from ecs_platform import limits
from ecs_platform.governance_catalog import CONFIG_RULES, GUARDDUTY_FARGATE_AGENT_ACCOUNTS
from ecs_platform.integrations import INTEGRATIONS, check_resource, partition_of
from ecs_platform.spec.models import (
    AlbSpec,
    CapacityProviderSpec,
    ContainerSpec,
    JobSpec,
    RepositoryImageSpec,
    ServiceSpec,
    Spec,
    WorkerSpec,
)
from ecs_platform.spec.references import (
    job_calls,
    job_overrides,
    log_routing_references,
    override_paths,
    producer_references,
    store_references,
    topic_references,
    unique_names,
    volume_references,
)
from ecs_platform.spec.references import workloads as _workloads

Issue = tuple[str, str]
Check = Callable[[Spec], Iterator[Issue]]

_ACM_ARN = re.compile(r"arn:(aws|aws-cn|aws-us-gov):acm:([a-z0-9-]+):(\d{12}):certificate/[0-9a-f-]{36}")


def at_least_one_workload(spec: Spec) -> Iterator[Issue]:
    if not spec.services and not spec.jobs and not spec.workers:
        yield "services", "the spec has no services, jobs or workers; allowed: at least one workload"


FARGATE_PROVIDERS = ("FARGATE", "FARGATE_SPOT")


def _strategy(workload: ServiceSpec | JobSpec | WorkerSpec) -> list[str]:
    """The capacity providers a workload names."""
    if isinstance(workload, JobSpec):
        return [workload.capacity] if workload.capacity else []
    return [c.provider for c in workload.capacity]


def compute_of(spec: Spec, workload: ServiceSpec | JobSpec | WorkerSpec) -> str:
    """Where a workload's tasks run: FARGATE, EC2 (asg providers) or MANAGED_INSTANCES, by the providers it names (a
    name no provider has counts as Fargate here; capacity_references reports it)."""
    kinds = {p.name: p.type for p in spec.capacity_providers}
    named = [kinds[name] for name in _strategy(workload) if name in kinds]
    if not named:
        return "FARGATE"
    return "EC2" if named[0] == "asg" else "MANAGED_INSTANCES"


def fargate_sizes(spec: Spec) -> Iterator[Issue]:
    for path, workload in _workloads(spec):
        if compute_of(spec, workload) != "FARGATE":
            continue
        message = limits.check_fargate_size(workload.cpu, workload.memory)
        if message:
            yield f"{path}.memory" if workload.cpu in limits.FARGATE_SIZES else f"{path}.cpu", message


def container_lifecycle(spec: Spec) -> Iterator[Issue]:
    """Each container's ``depends_on`` names containers of its task, waits only for what they can reach, and the
    task's dependencies have no cycle; a stop timeout over 120 s is refused on Fargate."""
    for path, workload in _workloads(spec):
        essential = {c.name: c.essential for c in workload.containers}
        checked = [c.name for c in workload.containers if c.health_check is not None]
        fargate = compute_of(spec, workload) == "FARGATE"
        for j, container in enumerate(workload.containers):
            at = f"{path}.containers[{j}]"
            message = limits.check_container_dependencies({container.name: container.depends_on}, essential, checked)
            if message:
                yield f"{at}.depends_on", message
            if container.stop_timeout_seconds is not None:
                message = limits.check_stop_timeout(container.stop_timeout_seconds, fargate)
                if message:
                    yield f"{at}.stop_timeout_seconds", message
        graph = {c.name: c.depends_on for c in workload.containers if c.depends_on}
        if all(not limits.check_container_dependencies({n: d}, essential, checked) for n, d in graph.items()):
            message = limits.check_container_dependencies(graph, essential, checked)
            if message:
                yield f"{path}.containers", message


def container_reservations_fit_task(spec: Spec) -> Iterator[Issue]:
    for path, workload in _workloads(spec):
        cpu = sum(c.cpu or 0 for c in workload.containers)
        if cpu > workload.cpu:
            yield f"{path}.containers", f"containers reserve {cpu} CPU units; allowed: at most the task's {workload.cpu}"
        for i, container in enumerate(workload.containers):
            if container.memory is not None and container.memory > workload.memory:
                yield (
                    f"{path}.containers[{i}].memory",
                    f"{container.memory} MiB exceeds the task's memory; allowed: at most {workload.memory}",
                )


def unique_workload_names(spec: Spec) -> Iterator[Issue]:
    names = Counter(w.name for _, w in _workloads(spec))
    families = Counter(w.task_family for _, w in _workloads(spec))
    for path, workload in _workloads(spec):
        if names[workload.name] > 1:
            yield (
                f"{path}.name",
                f"{workload.name!r} is used by {names[workload.name]} workloads; allowed: a name unique across services and jobs",
            )
        elif families[workload.task_family] > 1:
            yield (
                f"{path}.family",
                f"task family {workload.task_family!r} is used by {families[workload.task_family]} workloads; "
                "allowed: one family per workload (BP-1)",
            )


def unique_containers(spec: Spec) -> Iterator[Issue]:
    for path, workload in _workloads(spec):
        names = Counter(c.name for c in workload.containers)
        ports = Counter(c.port for c in workload.containers if c.port is not None)
        for i, container in enumerate(workload.containers):
            if names[container.name] > 1:
                yield (
                    f"{path}.containers[{i}].name",
                    f"{container.name!r} appears {names[container.name]} times; allowed: unique container names in a task",
                )
            if container.port is not None and ports[container.port] > 1:
                yield (
                    f"{path}.containers[{i}].port",
                    f"port {container.port} is used by {ports[container.port]} containers; allowed: one container per port in awsvpc mode",
                )


def essential_container(spec: Spec) -> Iterator[Issue]:
    for path, workload in _workloads(spec):
        if not any(c.essential for c in workload.containers):
            yield f"{path}.containers", "no container is essential; allowed: at least one essential container"


def _traffic_container(service: ServiceSpec) -> ContainerSpec | None:
    wanted = service.load_balancer.container if service.load_balancer else None
    name = limits.serving_container([(c.name, c.port) for c in service.containers], wanted)
    return next((c for c in service.containers if c.name == name), None)


def service_has_target(spec: Spec) -> Iterator[Issue]:
    for i, service in enumerate(spec.services):
        if service.load_balancer is None:
            continue
        container = _traffic_container(service)
        wanted = service.load_balancer.container
        if wanted is not None and container is None:
            names = ", ".join(c.name for c in service.containers)
            yield f"services[{i}].load_balancer.container", f"{wanted!r} is not a container of this service; allowed: {names}"
        elif container is None:
            yield (
                f"services[{i}].containers",
                "no container has a port for the load balancer; allowed: set 'port' on the container that serves traffic",
            )
        elif container.port is None:
            yield (
                f"services[{i}].load_balancer.container",
                f"container {container.name!r} has no port; allowed: a container with 'port'",
            )
        elif container.protocol != "tcp":
            yield (
                f"services[{i}].load_balancer.container",
                f"container {container.name!r} serves {container.protocol}; allowed: tcp behind an ALB",
            )


def _albs(spec: Spec) -> Iterator[tuple[str, AlbSpec]]:
    """Every ALB the spec describes: the shared ones, and each service's own."""
    for i, shared in enumerate(spec.load_balancers):
        yield f"load_balancers[{i}]", shared
    for i, service in enumerate(spec.services):
        if service.load_balancer is not None and service.load_balancer.shared is None:
            yield f"services[{i}].load_balancer", service.load_balancer


_ALB_FIELDS = ("public", "https", "certificate_arn", "domain", "web_acl_arn", "test_listener_port", "allowed_cidrs")


def load_balancer_exposure(spec: Spec) -> Iterator[Issue]:
    """Exposure is explicit on an ALB of the service's own, and said once on a shared one."""
    for i, service in enumerate(spec.services):
        lb, path = service.load_balancer, f"services[{i}].load_balancer"
        if lb is None:
            continue
        if lb.shared is None:
            for field in ("public", "https"):
                if getattr(lb, field) is None:
                    yield f"{path}.{field}", f"required key is missing ({type(lb).model_fields[field].description})"
            continue
        for field in _ALB_FIELDS:
            if field in lb.model_fields_set:
                yield (
                    f"{path}.{field}",
                    f"the service uses the shared load balancer {lb.shared!r}; allowed: {field} on load_balancers[{lb.shared!r}] only",
                )


def https_has_certificate(spec: Spec) -> Iterator[Issue]:
    env = spec.environment
    for path, lb in _albs(spec):
        if lb.domain is not None and not (
            lb.domain.name == lb.domain.hosted_zone_name or lb.domain.name.endswith("." + lb.domain.hosted_zone_name)
        ):
            yield (
                f"{path}.domain.name",
                f"{lb.domain.name!r} is not in zone {lb.domain.hosted_zone_name!r}; allowed: a name in the hosted zone",
            )
        if lb.domain is not None and lb.certificate_arn is not None:
            yield (
                f"{path}.domain",
                "both a certificate_arn and a domain are given; allowed: one of them (the domain creates its certificate)",
            )
        elif lb.https and lb.certificate_arn is None and lb.domain is None:
            yield (
                f"{path}.certificate_arn",
                "https: true needs a certificate; allowed: an ACM certificate ARN, a domain (a new certificate), "
                "or https: false (HTTP only)",
            )
        elif lb.https is False and lb.domain is not None:
            yield f"{path}.https", "a domain is given but https is false; allowed: https: true with the domain"
        elif lb.https is False and lb.certificate_arn is not None:
            yield (
                f"{path}.https",
                "a certificate_arn is given but https is false; allowed: https: true with the certificate, or no certificate",
            )
        elif lb.certificate_arn is not None:
            match = _ACM_ARN.fullmatch(lb.certificate_arn)
            if not match:
                yield (
                    f"{path}.certificate_arn",
                    f"{lb.certificate_arn!r} is not an ACM certificate ARN; allowed: arn:aws:acm:<region>:<account>:certificate/<uuid>",
                )
            elif match.group(2) != env.region:
                yield (
                    f"{path}.certificate_arn",
                    f"the certificate is in {match.group(2)}; allowed: a certificate in the environment's region {env.region} "
                    "(an ALB uses certificates of its own region)",
                )
            elif env.account is not None and match.group(3) != env.account:
                yield (
                    f"{path}.certificate_arn",
                    f"the certificate is in account {match.group(3)}; allowed: a certificate of the environment's account "
                    f"{env.account} (an ALB uses certificates of its own account; override it per environment)",
                )
        if lb.test_listener_port in (80, 443):
            yield f"{path}.test_listener_port", f"{lb.test_listener_port} is a production listener's port; allowed: another port"


def web_acl_in_region(spec: Spec) -> Iterator[Issue]:
    region = spec.environment.region
    for path, lb in _albs(spec):
        arn = lb.web_acl_arn
        if arn is not None and arn.split(":")[3] != region:
            yield (
                f"{path}.web_acl_arn",
                f"the web ACL is in {arn.split(':')[3]}; allowed: a REGIONAL web ACL in the environment's region {region}",
            )


def shared_load_balancers(spec: Spec) -> Iterator[Issue]:
    """Each shared ALB is named once, exists where a service names it, and serves at least one service."""
    names = Counter(lb.name for lb in spec.load_balancers)
    used = {s.load_balancer.shared for s in spec.services if s.load_balancer is not None}
    for i, lb in enumerate(spec.load_balancers):
        if names[lb.name] > 1:
            yield f"load_balancers[{i}].name", f"{lb.name!r} is used by {names[lb.name]} load balancers; allowed: unique names"
        if lb.name not in used:
            yield f"load_balancers[{i}]", f"no service uses {lb.name!r}; allowed: remove it, or set load_balancer.shared on a service"
    for i, service in enumerate(spec.services):
        shared = service.load_balancer.shared if service.load_balancer else None
        if shared is not None and shared not in names:
            defined = ", ".join(repr(n) for n in names) or "none defined under load_balancers"
            yield f"services[{i}].load_balancer.shared", f"{shared!r} is not a shared load balancer; allowed: {defined}"


def alb_key(service: ServiceSpec) -> str | None:
    """The ALB a service is routed from: ``shared:<name>``, ``own:<service>``, or None."""
    lb = service.load_balancer
    if lb is None:
        return None
    return f"shared:{lb.shared}" if lb.shared else f"own:{service.name}"


#: Priority of the one rule with paths or hosts on a service's own load balancer.
OWN_RULE_PRIORITY = 10


def rule_priorities(spec: Spec) -> dict[str, int]:
    """Listener rule priority of each service with a load balancer: the spec's; else 10 on an ALB of its
    own, last (50000) for a catch-all. Never from a position: another service added would renumber it."""
    priorities: dict[str, int] = {}
    for service in spec.services:
        lb = service.load_balancer
        if lb is None:
            continue
        specific = bool(lb.paths or lb.hosts)
        if lb.priority is not None:
            priorities[service.name] = lb.priority
        elif not specific:
            priorities[service.name] = limits.CATCH_ALL_PRIORITY
        elif lb.shared is None:
            priorities[service.name] = OWN_RULE_PRIORITY
        # a specific rule on a shared ALB without a priority has none: the spec must state it
    return priorities


def shared_rules_have_priorities(spec: Spec) -> Iterator[Issue]:
    """A rule with paths or hosts on a shared ALB states its priority: the order of specific rules is the
    spec author's decision, and a stable one (ecs-platform 0.1 numbered them by position)."""
    positions: Counter[str] = Counter()
    for i, service in enumerate(spec.services):
        lb = service.load_balancer
        if lb is None or lb.shared is None or not (lb.paths or lb.hosts):
            continue
        positions[lb.shared] += 1
        if lb.priority is None:
            yield (
                f"services[{i}].load_balancer.priority",
                f"required for a rule with paths or hosts on the shared load balancer {lb.shared!r}; allowed: 1..49999, "
                f"unique on it (ecs-platform 0.1 gave this rule {10 * positions[lb.shared]} by its position: keep that number "
                "to leave a deployed rule as it is)",
            )


def stack_placement(spec: Spec) -> Iterator[Issue]:
    """Each stack holds at most SERVICES_PER_STACK services; the platform's own stack names are taken."""
    per_stack: dict[str, list[int]] = {}
    for i, service in enumerate(spec.services):
        if service.stack in limits.RESERVED_STACKS:
            yield f"services[{i}].stack", f"{service.stack!r} is the platform's own stack; allowed: another name"
        per_stack.setdefault(service.stack or "workloads", []).append(i)
    for stack, members in per_stack.items():
        for i in members[limits.SERVICES_PER_STACK :]:
            # For the workload stack, the stack ecs-platform 0.1 put this service in by its position: an upgrade keeps it.
            suggestion = (
                f"services-{i // limits.SERVICES_PER_STACK + 1} (where ecs-platform 0.1 put services[{i}])"
                if stack == "workloads"
                else f"{stack}-2"
            )
            yield (
                f"services[{i}].stack",
                f"the {stack!r} stack already holds {limits.SERVICES_PER_STACK} services; allowed: at most "
                f"{limits.SERVICES_PER_STACK} a stack: name another stack here, e.g. stack: {suggestion}",
            )


def listener_rules(spec: Spec) -> Iterator[Issue]:
    """ALB routing: no two services on one ALB claim the same path and host, priorities are unique,
    a rule stays within the ALB's 5 condition values."""
    priorities = rule_priorities(spec)
    claims: dict[tuple[str, str, str], str] = {}
    taken: dict[tuple[str, int], str] = {}
    for i, service in enumerate(spec.services):
        key, lb, path = alb_key(service), service.load_balancer, f"services[{i}].load_balancer"
        if key is None or lb is None:
            continue
        if len(lb.paths) + len(lb.hosts) > limits.MAX_RULE_CONDITION_VALUES:
            yield (
                f"{path}.paths",
                f"{len(lb.paths)} paths and {len(lb.hosts)} hosts; allowed: at most {limits.MAX_RULE_CONDITION_VALUES} "
                "together (ALB condition values per rule)",
            )
        for host in lb.hosts or ["*"]:
            for pattern in lb.paths or ["/*"]:
                other = claims.setdefault((key, host.lower(), pattern), service.name)
                if other != service.name:
                    where = "any host" if host == "*" else f"host {host!r}"
                    yield (
                        f"{path}.paths" if lb.paths else path,
                        f"path {pattern!r} on {where} is already routed to service {other!r} on this load balancer; "
                        "allowed: a path or host no other service of the load balancer uses",
                    )
        if service.name not in priorities:
            continue  # a shared rule without its required priority: shared_rules_have_priorities says so
        other = taken.setdefault((key, priorities[service.name]), service.name)
        if other != service.name:
            yield (
                f"{path}.priority",
                f"priority {priorities[service.name]} is already taken by service {other!r} on this load balancer; "
                "allowed: a priority unique on the load balancer",
            )


def alb_quotas(spec: Spec) -> Iterator[Issue]:
    """A shared ALB holds at most 100 rules and 100 target groups (two per traffic-shifting service)."""
    for i, shared in enumerate(spec.load_balancers):
        users = [s for s in spec.services if s.load_balancer is not None and s.load_balancer.shared == shared.name]
        groups = sum(1 if s.deployment.strategy == "rolling" else 2 for s in users)
        rules = len(users) * (2 if shared.test_listener_port else 1)
        if rules > limits.MAX_RULES_PER_ALB:
            yield (
                f"load_balancers[{i}]",
                f"{len(users)} services need {rules} listener rules; allowed: at most {limits.MAX_RULES_PER_ALB} per load balancer "
                "(spread the services over more shared load balancers)",
            )
        if groups > limits.MAX_TARGET_GROUPS_PER_ALB:
            yield (
                f"load_balancers[{i}]",
                f"{len(users)} services need {groups} target groups; allowed: at most {limits.MAX_TARGET_GROUPS_PER_ALB} "
                "per load balancer (blue_green, linear and canary take two each)",
            )


_STEP_RANGES = {"linear": (3.0, 100.0), "canary": (0.1, 100.0)}


def deployment_strategy(spec: Spec) -> Iterator[Issue]:
    """ARCH-8 / HA-8: each strategy with the settings it takes, and the traffic routing it needs."""
    for i, service in enumerate(spec.services):
        deployment, path = service.deployment, f"services[{i}].deployment"
        strategy = deployment.strategy
        given = deployment.model_fields_set
        if strategy == "rolling":
            for field in ("bake_minutes", "step_percent", "step_bake_minutes"):
                if field in given:
                    yield f"{path}.{field}", f"{field} applies to blue_green, linear and canary; allowed: omit it with strategy rolling"
            continue
        for field in ("min_healthy_percent", "max_healthy_percent"):
            if field in given:
                yield f"{path}.{field}", f"{field} applies to rolling deployments; allowed: omit it with strategy {strategy}"
        if strategy == "blue_green":
            for field in ("step_percent", "step_bake_minutes"):
                if field in given:
                    yield f"{path}.{field}", f"{field} applies to linear and canary; allowed: omit it with strategy blue_green"
        elif deployment.step_percent is not None:
            low, high = _STEP_RANGES[strategy]
            if not low <= deployment.step_percent <= high:
                yield f"{path}.step_percent", f"{deployment.step_percent} is out of range for {strategy}; allowed: {low}..{high}"
        if service.load_balancer is None and spec.service_connect is None:
            yield (
                f"{path}.strategy",
                f"{strategy} shifts traffic through a load balancer or Service Connect; allowed: rolling, "
                "or a load_balancer, or service_connect",
            )


def service_reachability(spec: Spec) -> Iterator[Issue]:
    """ARCH-7: a service without a load balancer is reached through Service Connect; connect settings need it."""
    names = Counter((s.connect.name or s.name) for s in spec.services)
    for i, service in enumerate(spec.services):
        path = f"services[{i}]"
        if service.scaling.requests_per_task is not None and service.load_balancer is None:
            yield (
                f"{path}.scaling.requests_per_task",
                "request-count scaling reads the load balancer's metrics; allowed: cpu_percent or memory_percent without one",
            )
        if spec.service_connect is None:
            if service.connect.model_fields_set:
                yield f"{path}.connect", "connect settings need Service Connect; allowed: set service_connect at the top level"
            if service.load_balancer is None:
                yield (
                    f"{path}.load_balancer",
                    "a service without a load balancer is reachable only through Service Connect; allowed: a load_balancer, "
                    "service_connect at the top level, or a worker (for a queue consumer)",
                )
            continue
        name = service.connect.name or service.name
        if names[name] > 1:
            yield f"{path}.connect.name", f"{name!r} is the Service Connect name of {names[name]} services; allowed: unique names"


def images_are_complete(spec: Spec) -> Iterator[Issue]:
    """A platform repository image has a tag (from the spec or the CDK context); the cache's Docker Hub has credentials."""
    for path, workload in _workloads(spec):
        for j, container in enumerate(workload.containers):
            image = container.image
            if isinstance(image, RepositoryImageSpec) and image.tag is None:
                yield (
                    f"{path}.containers[{j}].image.tag",
                    f"no tag for {image.repository}; allowed: a tag or digest here, or at synthesis -c image_tag:{workload.name}=<tag> "
                    "(this workload) or -c image_tag=<tag> (every repository image)",
                )
    images = spec.images
    if "docker-hub" in images.pull_through_cache and images.docker_hub_credentials is None:
        yield "images.docker_hub_credentials", "docker-hub needs credentials; allowed: the ARN of a secret named ecr-pullthroughcache/..."
    if images.docker_hub_credentials is not None and "docker-hub" not in images.pull_through_cache:
        yield "images.docker_hub_credentials", "credentials without docker-hub in pull_through_cache; allowed: add docker-hub, or drop them"


def services_per_cluster(spec: Spec) -> Iterator[Issue]:
    """LIM-3: at most 5,000 services in a cluster, queue workers counted (each is an ECS service)."""
    total = len(spec.services) + len(spec.workers)
    if total > limits.MAX_SERVICES_PER_CLUSTER:
        yield (
            "workers",
            f"{len(spec.services):,} services and {len(spec.workers):,} workers are {total:,} ECS services; allowed: at most "
            f"{limits.MAX_SERVICES_PER_CLUSTER:,} per cluster (LIM-3)",
        )


def governance(spec: Spec) -> Iterator[Issue]:
    """SEC-7: the Config rules left out are rules of the platform's list; SEC-8: GuardDuty's Fargate agent has a known
    repository in the region (the execution roles are granted exactly that one)."""
    if spec.governance is None:
        return
    for i, rule in enumerate(spec.governance.excluded_config_rules):
        if rule not in CONFIG_RULES:
            yield (
                f"governance.excluded_config_rules[{i}]",
                f"{rule!r} is not one of the platform's Config rules; allowed: {', '.join(sorted(CONFIG_RULES))}",
            )
    region = spec.environment.region
    if spec.governance.runtime_monitoring and region not in GUARDDUTY_FARGATE_AGENT_ACCOUNTS:
        yield (
            "governance.runtime_monitoring",
            f"GuardDuty's Fargate agent repository of {region} is not known to ecs-platform; allowed: false here, or a region of "
            f"{', '.join(sorted(GUARDDUTY_FARGATE_AGENT_ACCOUNTS))}",
        )


def capacity_providers(spec: Spec) -> Iterator[Issue]:
    """ARCH-3 / HA-4 / LIM-3: unique names, at most 5,000 instances in the cluster, GPU instances with the GPU AMI."""
    names = Counter(p.name for p in spec.capacity_providers)
    total = 0
    for i, provider in enumerate(spec.capacity_providers):
        path = f"capacity_providers[{i}]"
        if names[provider.name] > 1:
            yield f"{path}.name", f"{provider.name!r} names {names[provider.name]} providers; allowed: unique names"
        if provider.name in ("fargate", "fargate-spot"):
            yield f"{path}.name", f"{provider.name!r} is Fargate's; allowed: another name"
        if provider.type != "asg":
            continue
        total += provider.max_count
        if provider.on_demand_base > provider.max_count:
            yield f"{path}.on_demand_base", f"{provider.on_demand_base} is above max_count {provider.max_count}; allowed: at most it"
        gpu_types = [t for t in provider.instance_types if limits.INSTANCE_TYPES.get(t, limits.InstanceType(0, 0, 0)).gpus]
        if gpu_types and provider.image != "al2023-gpu":
            yield f"{path}.image", f"{provider.image!r} has no GPU driver for {', '.join(gpu_types)}; allowed: al2023-gpu"
        arches = {limits.INSTANCE_TYPES[t].arch for t in provider.instance_types if t in limits.INSTANCE_TYPES}
        if len(arches) > 1:
            yield f"{path}.instance_types", "x86_64 and arm64 types in one provider; allowed: one architecture (the launch template's AMI)"
    if total > limits.MAX_INSTANCES_PER_CLUSTER:
        yield (
            "capacity_providers",
            f"{total:,} instances at most; allowed: at most {limits.MAX_INSTANCES_PER_CLUSTER:,} per cluster (LIM-3)",
        )


def workloads_fit_their_capacity(spec: Spec) -> Iterator[Issue]:
    """ARCH-2 / ARCH-3: a workload's strategy names providers of one kind that exist; GPUs only on EC2; a task on EC2
    fits one instance type of its providers (CPU, memory, GPUs, network interfaces); placement only on EC2."""
    providers = {p.name: p for p in spec.capacity_providers}
    allowed = ", ".join([*FARGATE_PROVIDERS, *providers])
    for path, workload in _workloads(spec):
        strategy = _strategy(workload)
        field = f"{path}.capacity"
        unknown = [n for n in strategy if n not in FARGATE_PROVIDERS and n not in providers]
        for name in unknown:
            yield field, f"{name!r} is not a capacity provider of the cluster; allowed: {allowed}"
        if unknown:
            continue  # where it runs is unknown: the rest would only echo this
        kinds = {"fargate" if n in FARGATE_PROVIDERS else providers[n].type for n in strategy if n not in unknown}
        if len(kinds) > 1:
            yield field, f"{', '.join(strategy)} mixes {' and '.join(sorted(kinds))} providers; allowed: providers of one kind"
            continue
        compute = compute_of(spec, workload)
        if isinstance(workload, JobSpec) and compute == "MANAGED_INSTANCES":
            yield field, "a job on managed_instances; allowed: FARGATE, FARGATE_SPOT or an asg provider"
        gpus = sum(c.gpu for c in workload.containers)
        if gpus and compute != "EC2":
            yield (
                f"{path}.containers",
                f"{gpus} GPU(s) on {compute.lower().replace('_', ' ')}; allowed: GPUs on an asg provider of GPU instances",
            )
        if compute == "FARGATE":
            if workload.placement is not None:
                yield f"{path}.placement", "placement on Fargate; allowed: placement with EC2 (asg) providers only"
            continue
        if workload.ephemeral_storage_gib is not None:
            yield f"{path}.ephemeral_storage_gib", "ephemeral storage is Fargate's; allowed: none on EC2 (the instances' volumes)"
        if isinstance(workload, ServiceSpec) and workload.placement is not None and workload.placement.strategy == "binpack":
            yield f"{path}.placement.strategy", "binpack puts a service's tasks on few instances; allowed: spread (HA-3), binpack for jobs"
        if compute == "EC2":
            yield from _fits(path, workload, gpus, [providers[n] for n in strategy])


def _fits(path: str, workload: ServiceSpec | JobSpec | WorkerSpec, gpus: int, providers: list[CapacityProviderSpec]) -> Iterator[Issue]:
    types = [t for p in providers for t in p.instance_types]
    known = [t for t in types if t in limits.INSTANCE_TYPES]
    if len(known) < len(types):
        return  # a type the catalog does not know: ECS decides at deploy
    reasons = {t: limits.fits(limits.INSTANCE_TYPES[t], workload.cpu, workload.memory, gpus, workload.architecture) for t in known}
    if all(reasons.values()):
        why = "; ".join(f"{t}: {r}" for t, r in reasons.items())
        yield f"{path}.cpu", f"the task fits no instance type of its providers ({why}); allowed: a smaller task or larger types"


def production_runs_two_tasks(spec: Spec) -> Iterator[Issue]:
    """HA-3 / HA-5: a production service runs at least two tasks across AZs; outside production one may do."""
    if not spec.environment.production:
        return
    for i, service in enumerate(spec.services):
        for path, value in (("desired_count", service.desired_count), ("scaling.min_count", service.scaling.min_count)):
            problem = limits.PRODUCTION_MIN_TASKS.check(value) if value is not None else None
            if problem:
                yield f"services[{i}].{path}", f"{problem} in a production environment"


def service_connect_callers(spec: Spec) -> Iterator[Issue]:
    """SEC-2: a Service Connect server admits the services it names and nobody else; an internal one
    that names none would be reachable by no one."""
    if spec.service_connect is None:
        return
    names = [s.name for s in spec.services]
    for i, service in enumerate(spec.services):
        path = f"services[{i}].connect.callers"
        callers = service.connect.callers
        for j, caller in enumerate(callers):
            if caller == service.name:
                yield f"{path}[{j}]", f"{caller!r} is this service; allowed: other services (a task calls itself without the network)"
        for caller, count in Counter(callers).items():
            if count > 1:
                yield path, f"{caller!r} is listed {count} times; allowed: each caller once"
        serving = _traffic_container(service)
        if serving is None or serving.port is None:
            if callers:
                yield path, "no container has a port to serve callers on; allowed: a container with 'port', or no callers"
        elif service.load_balancer is None and not callers:
            yield (
                path,
                "an internal service (no load_balancer) that names no caller is reachable by no one; "
                f"allowed: the services that call it, e.g. callers: [{next((n for n in names if n != service.name), 'web')}]",
            )


def callers_are_services(spec: Spec) -> Iterator[Issue]:
    """A caller is another service or a worker of the spec (over the whole spec: a workload left out for a
    structural error would look unknown). Jobs cannot be: RunTask tasks do not join Service Connect."""
    if spec.service_connect is None:
        return
    names = [s.name for s in spec.services] + [w.name for w in spec.workers]
    jobs = {j.name for j in spec.jobs}
    for i, service in enumerate(spec.services):
        others = ", ".join(n for n in names if n != service.name) or "none (this is the only service)"
        for j, caller in enumerate(service.connect.callers):
            if caller in jobs:
                yield (
                    f"services[{i}].connect.callers[{j}]",
                    f"{caller!r} is a job: tasks started by RunTask do not join Service Connect; allowed: services and workers "
                    f"({others}); a job calls a service through its internal load balancer: calls: [{service.name}] on the job",
                )
            elif caller != service.name and caller not in names:
                yield f"services[{i}].connect.callers[{j}]", f"{caller!r} is not a service or worker of this spec; allowed: {others}"


def network_options(spec: Spec) -> Iterator[Issue]:
    """An existing VPC has a subnet per AZ in each class, no subnet in two classes (SEC-1), and no NAT setting of
    ours; batch subnets without NAT need the endpoints Fargate pulls images and writes logs through."""
    network, zones = spec.network, len(spec.environment.availability_zones)
    existing = network.existing
    if existing is not None:
        if network.nat_gateways is not None:
            yield "network.nat_gateways", "set with an existing VPC, whose NAT gateways are its owner's; allowed: no nat_gateways"
        seen: dict[str, str] = {}
        for field in ("public_subnet_ids", "web_subnet_ids", "batch_subnet_ids"):
            ids = getattr(existing, field)
            if len(ids) != zones:
                yield (
                    f"network.existing.{field}",
                    f"{len(ids)} subnets for {zones} zones; allowed: one per availability zone, in their order",
                )
            for k, subnet in enumerate(ids):
                if subnet in seen:
                    yield (
                        f"network.existing.{field}[{k}]",
                        f"{subnet} is also in {seen[subnet]}; allowed: a subnet in one class only (SEC-1: public, web and batch apart)",
                    )
                seen.setdefault(subnet, field)
    for name, count in Counter(network.endpoints).items():
        if count > 1:
            yield "network.endpoints", f"{name} is listed {count} times; allowed: each endpoint once"
    if not network.batch_nat:
        missing = [e for e in limits.BATCH_WITHOUT_NAT_ENDPOINTS if e not in network.endpoints]
        if missing:
            yield (
                "network.batch_nat",
                f"false, but endpoints lack {', '.join(missing)}: batch tasks could not pull images or write logs; allowed: "
                f"endpoints including {', '.join(limits.BATCH_WITHOUT_NAT_ENDPOINTS)}, or batch_nat: true",
            )


def load_balancer_options(spec: Spec) -> Iterator[Issue]:
    """Allow lists narrow a public ALB (an internal one admits the VPC only); HTTP/2 and gRPC target groups need HTTPS."""
    for path, lb in _albs(spec):
        if lb.allowed_cidrs and not lb.public:
            yield (
                f"{path}.allowed_cidrs",
                "set on an internal load balancer (it admits the VPC only); allowed: on a public one",
            )
    shared = {lb.name: lb for lb in spec.load_balancers}
    for i, service in enumerate(spec.services):
        route = service.load_balancer
        if route is None:
            continue
        https = shared[route.shared].https if route.shared in shared else route.https
        ports = [(c.name, c.port) for c in service.containers]
        target = limits.serving_container(ports, route.container)
        container = next((c for c in service.containers if c.name == target), None)
        if container is not None and container.app_protocol in ("http2", "grpc") and https is False:
            j = service.containers.index(container)
            yield (
                f"services[{i}].containers[{j}].app_protocol",
                f"{container.app_protocol} behind an HTTP listener; allowed: https: true on the load balancer (ALB target groups "
                "of HTTP/2 and gRPC need HTTPS), or http",
            )


def service_connect_tls(spec: Spec) -> Iterator[Issue]:
    """Service Connect TLS: the private CA (and the key) in the environment's region."""
    tls = spec.service_connect.tls if spec.service_connect else None
    if tls is None:
        return
    region = spec.environment.region
    for field, arn in (("certificate_authority_arn", tls.certificate_authority_arn), ("kms_key", tls.kms_key)):
        if arn is not None and arn.split(":")[3] != region:
            yield (
                f"service_connect.tls.{field}",
                f"{arn!r} is in {arn.split(':')[3]}; allowed: one in the environment's region {region}",
            )


def worker_scaling(spec: Spec) -> Iterator[Issue]:
    region = spec.environment.region
    for i, worker in enumerate(spec.workers):
        path = f"workers[{i}]"
        if message := limits.check_task_range(worker.min_count, worker.max_count):
            yield f"{path}.min_count", message
        if worker.min_count == 0 and not worker.scale_to_zero:
            yield f"{path}.min_count", "0 lets the worker scale to zero; allowed: 1 or more, or scale_to_zero: true"
        queue = worker.queue
        for field, kind, value in (("arn", "queue", queue.arn), ("kms_key", "kms_key", queue.kms_key)):
            if value is not None and (message := check_resource(kind, value, region)):
                yield f"{path}.queue.{field}", message
        if queue.arn is not None and not queue.arn.startswith("arn:"):
            yield f"{path}.queue.arn", f"{queue.arn!r} is a name; allowed: the ARN of an existing queue"
        if queue.arn is None and queue.kms_key is not None:
            yield f"{path}.queue.kms_key", "the worker's own queue uses the platform's key; allowed: kms_key with an existing queue's arn"


def service_scaling(spec: Spec) -> Iterator[Issue]:
    """ARCH-5 / HA-5: a sane range that contains the desired count; scheduled ranges too."""
    for i, service in enumerate(spec.services):
        path = f"services[{i}].scaling"
        low, high = service.scaling_range
        if message := limits.check_task_range(low, high):
            yield f"{path}.min_count", message
        elif not low <= service.desired_count <= high:
            yield f"services[{i}].desired_count", f"{service.desired_count} is outside the scaling range {low}..{high}; allowed: within it"
        for j, action in enumerate(service.scaling.scheduled):
            if message := limits.check_task_range(action.min_count, action.max_count):
                yield f"{path}.scheduled[{j}].min_count", message


def capacity_strategy(spec: Spec) -> Iterator[Issue]:
    for path, workload in _workloads(spec):
        if isinstance(workload, JobSpec):
            continue
        providers = [c.provider for c in workload.capacity]
        if len(set(providers)) != len(providers):
            yield f"{path}.capacity", f"a provider is listed twice ({', '.join(providers)}); allowed: each provider once"
        if workload.capacity and not any(c.weight > 0 for c in workload.capacity):
            yield f"{path}.capacity", "every weight is 0; allowed: at least one provider with a weight above 0"
        if sum(1 for c in workload.capacity if c.base > 0) > 1:
            yield f"{path}.capacity", "more than one provider has a base; allowed: a base on one provider only"


def supervised_jobs(spec: Spec) -> Iterator[Issue]:
    """A timeout or retries run through a state machine that supervises one task per run."""
    for i, job in enumerate(spec.jobs):
        supervised = job.timeout_seconds is not None or bool(job.retries)
        if supervised and job.schedule is None:
            yield f"jobs[{i}].schedule", "timeout_seconds and retries apply to scheduled runs; allowed: a schedule, or neither"
        if supervised and job.count not in (None, 1):
            yield f"jobs[{i}].count", f"{job.count} with timeout_seconds or retries; allowed: 1 (one supervised task per run)"


def availability_zones(spec: Spec) -> Iterator[Issue]:
    env = spec.environment
    zones = env.availability_zones
    repeated = limits.repeated_availability_zones(zones)
    for i, zone in enumerate(zones):
        if not zone.startswith(env.region) or len(zone) != len(env.region) + 1:
            yield (
                f"environment.availability_zones[{i}]",
                f"{zone!r} is not in region {env.region}; allowed: {env.region}a, {env.region}c, ...",
            )
        elif i in repeated:
            yield f"environment.availability_zones[{i}]", f"{zone!r} is listed twice; allowed: distinct AZs (HA-2)"


def nat_gateways(spec: Spec) -> Iterator[Issue]:
    wanted = spec.network.nat_gateways
    zones = len(spec.environment.availability_zones)
    if wanted is not None and (message := limits.check_nat_gateways(wanted, zones)):
        yield "network.nat_gateways", message


def access_resources(spec: Spec) -> Iterator[Issue]:
    """IAM-5: every resource an access entry names is one resource of its kind, in the environment's partition."""
    region = spec.environment.region
    for path, workload in _workloads(spec):
        for i, entry in enumerate(workload.access):
            integration = INTEGRATIONS[entry.type]
            if entry.kms_key is not None and integration.kms_service is None:
                with_keys = ", ".join(name for name, i in INTEGRATIONS.items() if i.kms_service)
                yield f"{path}.access[{i}].kms_key", f"{entry.type} uses no KMS key; allowed: kms_key on {with_keys}"
            if integration.services_only and not isinstance(workload, ServiceSpec):
                kind = "jobs" if isinstance(workload, JobSpec) else "workers"
                yield f"{path}.access[{i}].type", f"{entry.type} is for services; allowed for {kind}: any other integration"
            for field, kind, value in entry.resources():
                message = check_resource(kind, value, region)
                if message:
                    yield f"{path}.access[{i}].{field}", f"{entry.type}: {message}"
        for j, container in enumerate(workload.containers):
            for name, ref in container.secrets.items():
                if ref.kms_key is not None and (message := check_resource("kms_key", ref.kms_key, region)):
                    yield f"{path}.containers[{j}].secrets.{name}.kms_key", message


def permissions_boundary(spec: Spec) -> Iterator[Issue]:
    arn = spec.permissions_boundary
    pattern = rf"arn:{partition_of(spec.environment.region)}:iam::(\d{{12}}|aws):policy/[\w+=,.@/-]{{1,512}}"
    if arn is not None and not re.fullmatch(pattern, arn):
        yield "permissions_boundary", f"{arn!r} is not a managed policy ARN; allowed: arn:aws:iam::<account>:policy/<name>"


def task_definition_size(spec: Spec) -> Iterator[Issue]:
    """LIM-1, early: the containers alone must fit in 64 KiB. The construct re-checks the rendered size."""
    for path, workload in _workloads(spec):
        payload = [c.model_dump(exclude_none=True) for c in workload.containers]
        message = limits.check_task_definition_size(workload.task_family, limits.task_definition_bytes(payload))
        if message:
            yield f"{path}.containers", message


CHECKS: tuple[Check, ...] = (
    at_least_one_workload,
    availability_zones,
    nat_gateways,
    fargate_sizes,
    container_reservations_fit_task,
    unique_workload_names,
    unique_containers,
    essential_container,
    container_lifecycle,
    service_has_target,
    load_balancer_exposure,
    https_has_certificate,
    web_acl_in_region,
    shared_load_balancers,
    shared_rules_have_priorities,
    listener_rules,
    alb_quotas,
    deployment_strategy,
    service_reachability,
    production_runs_two_tasks,
    images_are_complete,
    capacity_providers,
    workloads_fit_their_capacity,
    services_per_cluster,
    governance,
    service_connect_callers,
    callers_are_services,
    network_options,
    load_balancer_options,
    unique_names,
    store_references,
    volume_references,
    log_routing_references,
    topic_references,
    producer_references,
    job_overrides,
    override_paths,
    job_calls,
    service_connect_tls,
    supervised_jobs,
    capacity_strategy,
    service_scaling,
    stack_placement,
    worker_scaling,
    access_resources,
    permissions_boundary,
    task_definition_size,
)


#: Checks that need every entry of the spec: over a part of it they would report what is missing
#: only because an entry with a structural error was left out.
WHOLE_SPEC_CHECKS: frozenset[Check] = frozenset(
    {
        at_least_one_workload,
        shared_load_balancers,
        callers_are_services,
        store_references,
        volume_references,
        log_routing_references,
        topic_references,
        producer_references,
        job_calls,
    }
)


def check_spec(spec: Spec, *, partial: bool = False) -> list[Issue]:
    """Every cross-field problem of ``spec``; ``partial``: the spec holds only the entries that passed
    the structural checks, so the checks that need all of them are left out."""
    return [issue for check in CHECKS if not (partial and check in WHOLE_SPEC_CHECKS) for issue in check(spec)]


def check_environments(specs: Sequence[Spec]) -> list[Issue]:
    """What holds across the environments of one spec: governance once per account and region; delivery's approvals
    name environments and cover every production one; a pipeline delivers to named accounts in its own region (a CDK
    Pipelines wave in another region would need a support stack with a key granted on '*')."""
    return [*_governance_once(specs), *_delivery(specs)]


def _governance_once(specs: Sequence[Spec]) -> Iterator[Issue]:
    """An account and region has one recorder, one detector and needs one trail: the environments there that ask for
    governance ask for the same (all but runtime_monitoring, a setting of each environment's cluster)."""
    first: dict[tuple[str | None, str], Spec] = {}
    for i, spec in enumerate(specs):
        if spec.governance is None:
            continue
        where = (spec.environment.account, spec.environment.region)
        other = first.setdefault(where, spec)
        assert other.governance is not None
        mine, theirs = (g.model_dump(exclude={"runtime_monitoring"}) for g in (spec.governance, other.governance))
        if mine != theirs:
            differ = ", ".join(k for k in mine if mine[k] != theirs[k])
            account = spec.environment.account or "the deploying account"
            yield (
                f"environments[{i}].overrides.governance",
                f"governance asked twice for {account} in {spec.environment.region}: {spec.environment.name} and "
                f"{other.environment.name} differ in {differ}; allowed: the same governance for every environment of an "
                "account and region (it is built once there), or none in one of them",
            )


def _delivery(specs: Sequence[Spec]) -> list[Issue]:
    if not specs or specs[0].delivery is None:
        return []
    delivery = specs[0].delivery
    names = [s.environment.name for s in specs]
    issues: list[Issue] = []
    approvals = delivery.approvals
    if approvals is not None:
        for i, name in enumerate(approvals):
            if name not in names:
                issues.append((f"delivery.approvals[{i}]", f"{name!r} is not an environment; allowed: {', '.join(names)}"))
        for spec in specs:
            if spec.environment.production and spec.environment.name not in approvals:
                issues.append(
                    (
                        "delivery.approvals",
                        f"{spec.environment.name} is production and would deploy without a manual approval; allowed: list it",
                    )
                )
    if delivery.source is not None:
        region = delivery.region or specs[0].environment.region
        for i, spec in enumerate(specs):
            env = spec.environment
            if env.account is None:
                issues.append(
                    (
                        f"environments[{i}].account",
                        f"{env.name} names no account; allowed: its account ID (a pipeline deploys to named accounts)",
                    )
                )
            if env.region != region:
                issues.append(
                    (
                        f"environments[{i}].region",
                        f"{env.name} is in {env.region}, the pipeline in {region}; allowed: environments in the pipeline's region "
                        "(a pipeline per region delivers to several)",
                    )
                )
    return issues
