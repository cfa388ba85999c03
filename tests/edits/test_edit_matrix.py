"""The edit matrix (issue 11): ordinary edits of a spec, each synthesized before and after, deploy
cleanly over what runs, or the preflight refuses them with the step to take.

For each edit: no stack drops an export a deployed stack imports unless deploying the importer
first resolves it (and the preflight orders that deploy); no stateful or traffic-bearing resource
of an untouched workload changes logical ID, priority or physical identity; no fixed name or rule
priority passes to another resource; every replacement of a guarded resource (by the create-only
properties of the CloudFormation resource schemas) is one the edit asks for. See
:mod:`tests.edits.matrix` for the rules.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ecs_platform.app_builder import build_app
from ecs_platform.cli.preflight import AssemblyStack, read_assembly
from ecs_platform.spec import parse_spec
from tests.conftest import SPECS
from tests.edits.matrix import Expected, judge

Spec = dict[str, Any]
CERTIFICATE = "arn:aws:acm:ap-northeast-1:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"


def _example(name: str) -> Spec:
    data: Spec = yaml.safe_load((SPECS / f"{name}.yaml").read_text(encoding="utf-8"))
    return data


def _service(data: Spec, name: str) -> dict[str, Any]:
    return next(s for s in data["services"] if s["name"] == name)


def _split(data: Spec) -> Spec:
    """specs/services.yaml with search, orders and inventory in a second services stack; orders takes ECS Exec."""
    for name in ("search", "orders", "inventory"):
        _service(data, name)["stack"] = "services-2"
    _service(data, "orders")["access"] = [{"type": "ecs_exec"}]
    return data


def _second_alb(data: Spec) -> Spec:
    """The split spec with search alone on a second shared ALB."""
    _split(data)
    data["load_balancers"].append({"name": "edge-2", "public": True, "https": True, "certificate_arn": CERTIFICATE})
    _service(data, "search")["load_balancer"]["shared"] = "edge-2"
    return data


def _sixteen(data: Spec) -> Spec:
    """specs/services.yaml with 11 more internal services: 15 in the workload stack, the 16th in services-2."""
    for i in range(11):
        extra = {**copy.deepcopy(_service(data, "orders")), "name": f"extra{i}", "connect": {"callers": ["api"]}}
        if i == 10:
            extra["stack"] = "services-2"
        data["services"].append(extra)
    return data


def _with_service_connect(data: Spec) -> Spec:
    data["service_connect"] = {"namespace": "my-app.internal"}
    return data


BASES: dict[str, Callable[[], Spec]] = {
    "services": lambda: _example("services"),
    "split": lambda: _split(_example("services")),
    "second-alb": lambda: _second_alb(_example("services")),
    "sixteen": lambda: _sixteen(_example("services")),
    "default": lambda: _example("default"),
    "default+connect": lambda: _with_service_connect(_example("default")),
    "web": lambda: _example("web"),
    "batch": lambda: _example("batch"),
    "access": lambda: _example("access"),
    "production": lambda: _example("production"),
}


def _remove_service(name: str) -> Callable[[Spec], None]:
    def edit(data: Spec) -> None:
        data["services"] = [s for s in data["services"] if s["name"] != name]
        for service in data["services"]:
            callers = service.get("connect", {}).get("callers")
            if callers and name in callers:
                callers.remove(name)

    return edit


def _rename(old: str, new: str, priority: int | None = None) -> Callable[[Spec], None]:
    def edit(data: Spec) -> None:
        service = _service(data, old)
        service["name"] = new
        if priority is not None:
            service["load_balancer"]["priority"] = priority

    return edit


def _add_first(data: Spec) -> None:
    reviews = {**copy.deepcopy(_service(data, "orders")), "name": "reviews", "connect": {"callers": ["api"]}}
    data["services"].insert(0, reviews)


def _to_shared(label: str | None) -> Callable[[Spec], None]:
    def edit(data: Spec) -> None:
        data["load_balancers"] = [{"name": "edge", "public": True, "https": True, "certificate_arn": CERTIFICATE}]
        route: dict[str, Any] = {"shared": "edge"}
        if label:
            route["target_groups"] = label
        data["services"][0]["load_balancer"] = route

    return edit


def _to_own(name: str) -> Callable[[Spec], None]:
    def edit(data: Spec) -> None:
        _service(data, name)["load_balancer"] = {"public": True, "https": True, "certificate_arn": CERTIFICATE, "target_groups": "own"}

    return edit


def _strategy(name: str, strategy: str) -> Callable[[Spec], None]:
    def edit(data: Spec) -> None:
        _service(data, name)["deployment"] = {"strategy": strategy}

    return edit


def _remove_shared_alb(data: Spec) -> None:
    data["load_balancers"] = [lb for lb in data["load_balancers"] if lb["name"] != "edge-2"]
    _to_own("search")(data)


def _without_exec(data: Spec) -> None:
    _service(data, "orders").pop("access")


def _internal_alb(data: Spec) -> None:
    data["services"][0]["load_balancer"]["public"] = False


def _remove_jobs(data: Spec) -> None:
    data["jobs"] = []


def _without_service_connect(data: Spec) -> None:
    data.pop("service_connect")


def _remove_job(name: str) -> Callable[[Spec], None]:
    def edit(data: Spec) -> None:
        data["jobs"] = [j for j in data["jobs"] if j["name"] != name]

    return edit


def _remove_workers(data: Spec) -> None:
    data["workers"] = []


def _add_job_first(data: Spec) -> None:
    data["jobs"].insert(0, {**copy.deepcopy(data["jobs"][0]), "name": "audit"})


def _without_exec_access(data: Spec) -> None:
    service = data["services"][0]
    service["access"] = [a for a in service["access"] if a["type"] != "ecs_exec"]


def _nothing(data: Spec) -> None:
    """The unchanged spec (the deploy of the same assembly)."""


def _again(data: Spec) -> None:
    """The unchanged spec, synthesized a second time: synthesis is deterministic, so the deploy changes nothing."""


SERVICES_2 = "market-staging-services-2"
NEW_ALB = "an ALB's scheme is fixed at creation: an internal one is a new ALB, with its listeners and the rules on them"
NEW_LISTENER = "a listener rule belongs to one listener: the service's rule moves to the other ALB's"


def _moved_rule(stack: str, service: str) -> dict[str, str]:
    return {rf"{stack}/Service{service}WebService(Test)?Rule\w+": NEW_LISTENER}


#: name -> (base, edit, what it may do).
EDITS: dict[str, tuple[str, Callable[[Spec], None], Expected]] = {
    # Synthesis is deterministic (a second one changes nothing): proved on three bases, it is a property of the code.
    **{f"synthesize again ({base})": (base, _again, Expected()) for base in ("services", "default", "sixteen")},
    "add a service first": ("services", _add_first, Expected(touches=("Service-reviews",))),
    "remove the first service": (
        "services",
        _remove_service("storefront"),
        Expected(touches=("Service-storefront", "Default/ServiceConnectCallers/storefront")),
    ),
    "reorder the services": ("services", lambda d: d["services"].reverse(), Expected()),
    "rename a service, new priority": ("services", _rename("search", "find", 25), Expected(touches=("Service-search", "Service-find"))),
    "rename a service, same priority": (
        "services",
        _rename("search", "find"),
        Expected(
            touches=("Service-search", "Service-find"), refused=(r"takes priority 20, which ServicesearchWebService(Test)?Rule\w+ holds",)
        ),
    ),
    "remove the last job": ("default", _remove_jobs, Expected(touches=("Job-nightly-report", "Default/JobFailures"))),
    "turn Service Connect on": ("default", _with_service_connect, Expected(touches=("Default", "Service-my-service"))),
    "turn Service Connect off": ("default+connect", _without_service_connect, Expected(touches=("Default", "Service-my-service"))),
    "make the only ALB internal": (
        "default",
        _internal_alb,
        Expected(
            touches=("Service-my-service", "LoadBalancer-my-service"),
            replaces={
                r"my-app-dev-workloads/ServicemyserviceLoadBalancer\w+": NEW_ALB,
                r"my-app-dev-workloads/ServicemyserviceWebService\w+": NEW_ALB,
            },
        ),
    ),
    "move a service from its own ALB to a shared one, new target groups": (
        "web",
        _to_shared("edge"),
        Expected(
            touches=("Service-storefront", "LoadBalancer-storefront", "LoadBalancer-edge"),
            replaces=_moved_rule("shop-staging-workloads", "storefront"),
        ),
    ),
    "move a service from its own ALB to a shared one, same target groups": (
        "web",
        _to_shared(None),
        Expected(
            touches=("Service-storefront", "LoadBalancer-storefront", "LoadBalancer-edge"),
            replaces=_moved_rule("shop-staging-workloads", "storefront"),
            refused=(r"target group ServicestorefrontWebServiceTargets\w+ of shop-staging-workloads would be forwarded to by another",),
        ),
    ),
    "move a service from a shared ALB to its own": (
        "services",
        _to_own("search"),
        Expected(touches=("Service-search",), replaces=_moved_rule("market-staging-workloads", "search")),
    ),
    "switch rolling to blue/green": ("services", _strategy("orders", "blue_green"), Expected(touches=("Service-orders",))),
    "switch canary to rolling": ("services", _strategy("api", "rolling"), Expected(touches=("Service-api",))),
    "remove a shared ALB": (
        "second-alb",
        _remove_shared_alb,
        Expected(
            touches=("Service-search", "LoadBalancer-edge-2"),
            replaces=_moved_rule(SERVICES_2, "search"),
            first=("staging/Services2",),
        ),
    ),
    "remove ECS Exec from the last service of a services stack": (
        "split",
        _without_exec,
        Expected(touches=("Default/ExecKey", "Default/ExecLogs", "Service-orders"), first=("staging/Services2",)),
    ),
    "remove one job of several": ("batch", _remove_job("nightly-export"), Expected(touches=("Job-nightly-export",))),
    # Jobs notify their failure topic: with no service or worker left, nothing uses the platform's alarm topic.
    "remove the only worker": ("batch", _remove_workers, Expected(touches=("Worker-thumbnailer", "Default/Alarms"))),
    "add a job first (production)": ("production", _add_job_first, Expected(touches=("Job-audit",))),
    "reorder the jobs (production)": ("production", lambda d: d["jobs"].reverse(), Expected()),
    "remove ECS Exec from the only service": (
        "access",
        _without_exec_access,
        Expected(touches=("Default/ExecKey", "Default/ExecLogs", "Service-api")),
    ),
    "go from 16 services to 15": (
        "sixteen",
        _remove_service("extra10"),
        Expected(
            touches=("Service-extra10",),
            refused=(rf"{SERVICES_2} is deployed for this app and environment but is not in the assembly",),
        ),
    ),
}


def _assembly(data: Spec, outdir: Path) -> list[AssemblyStack]:
    # With construct paths in the templates, as the CDK CLI writes them: they say which workload a resource is of.
    app, _ = build_app(parse_spec(data), outdir=str(outdir), nag=False, context={"aws:cdk:enable-path-metadata": True})
    app.synth()
    return read_assembly(outdir)


@pytest.fixture(scope="module")
def edited(
    tmp_path_factory: pytest.TempPathFactory, assembled: Callable[[str], Path]
) -> Callable[[str, Callable[[Spec], None]], list[AssemblyStack]]:
    """``edited(base, edit)``: the assembly of a base spec after an edit (an example as it is: the session's)."""
    cache: dict[tuple[str, str], list[AssemblyStack]] = {}

    def get(base: str, edit: Callable[[Spec], None]) -> list[AssemblyStack]:
        key = (base, f"{edit.__module__}.{edit.__qualname__}:{id(edit)}")
        if key not in cache:
            if edit is _nothing and (SPECS / f"{base}.yaml").exists():
                cache[key] = read_assembly(assembled(base))
            else:
                data = BASES[base]()
                edit(data)
                cache[key] = _assembly(data, tmp_path_factory.mktemp("edit"))
        return cache[key]

    return get


@pytest.mark.parametrize("name", EDITS)
def test_an_ordinary_edit_deploys_over_what_runs_or_is_refused_with_the_step_to_take(
    name: str, edited: Callable[[str, Callable[[Spec], None]], list[AssemblyStack]]
) -> None:
    base, edit, expected = EDITS[name]
    before = edited(base, _nothing)
    after = edited(base, edit)
    assert judge(before, after, expected) == []


# --- the rules can fail: the same edits, judged without what they may do --------------------


@pytest.mark.parametrize(
    ("name", "finding"),
    [
        ("make the only ALB internal", r"replaced \(Scheme changed\): replaced, and the edit did not ask for it"),
        ("switch canary to rolling", r"ServiceapiWebServiceRule\w+ .* a traffic-shifting rule of an untouched service changes"),
        ("remove the first service", r"ServicestorefrontWebService\w+ \[AWS::ECS::Service\] removed at Service-storefront/.*: outside"),
        ("rename a service, same priority", r"^preflight: listener rule ServicefindWebServiceRule\w+ .* takes priority 20"),
        ("remove a shared ALB", r"^stacks deployed first: \['staging/Services2'\], expected \[\]"),
    ],
)
def test_the_rules_find_what_an_edit_does_when_it_is_not_expected(
    name: str, finding: str, edited: Callable[[str, Callable[[Spec], None]], list[AssemblyStack]]
) -> None:
    base, edit, _ = EDITS[name]
    found = judge(edited(base, _nothing), edited(base, edit), Expected())
    assert [f for f in found if re.search(finding, f)], found


def test_an_untouched_rule_that_changes_priority_is_found(
    edited: Callable[[str, Callable[[Spec], None]], list[AssemblyStack]],
) -> None:
    found = judge(edited("services", _nothing), edited("services", _api_priority_11), Expected())
    assert any(re.search(r"ServiceapiWebServiceRule\w+: priority 10 -> 11 of an untouched rule", f) for f in found), found


def _api_priority_11(data: Spec) -> None:
    _service(data, "api")["load_balancer"]["priority"] = 11
