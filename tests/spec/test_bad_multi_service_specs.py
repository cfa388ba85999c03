"""Bad input for many services (issue 5): shared load balancers and their rules, deployment
strategies, internal services and Service Connect.

Every case starts from specs/services.yaml (a valid multi-service spec), applies one mutation
and expects :class:`SpecError` whose line for the path names the value and what is allowed,
as in test_bad_specs.py.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from ecs_platform.limits import CATCH_ALL_PRIORITY
from ecs_platform.spec import parse_spec
from ecs_platform.spec.checks import rule_priorities
from tests.spec.test_bad_specs import OTHER_REGION_CERT, Bad

SERVICES_SPEC = Path(__file__).resolve().parents[2] / "specs" / "services.yaml"
DATA = yaml.safe_load(SERVICES_SPEC.read_text(encoding="utf-8"))


def services_spec() -> dict[str, Any]:
    return copy.deepcopy(DATA)


def svc(name: str) -> Any:
    """A getter for the service called ``name``."""
    return lambda data: next(s for s in data["services"] if s["name"] == name)


def edge(data: dict[str, Any]) -> dict[str, Any]:
    shared: dict[str, Any] = data["load_balancers"][0]
    return shared


# Positions in specs/services.yaml.
STOREFRONT, API, SEARCH, ORDERS, INVENTORY = (f"services[{i}]" for i in range(5))


def _update(getter: Any, **values: Any) -> Any:
    return lambda data: getter(data).update(values)


def _deploy(name: str, **values: Any) -> Any:
    return lambda data: svc(name)(data).setdefault("deployment", {}).update(values)


def _lb(name: str, **values: Any) -> Any:
    return lambda data: svc(name)(data)["load_balancer"].update(values)


CASES: dict[str, Bad] = {
    # --- shared load balancers and listener rules (ARCH-4) ---
    "sec3_shared_certificate_in_another_region": Bad(
        _update(edge, certificate_arn=OTHER_REGION_CERT),
        "load_balancers[0].certificate_arn",
        r"the certificate is in us-east-1",
        r"allowed: a certificate in the environment's region ap-northeast-1",
    ),
    "arch4_path_rule_collision": Bad(
        _lb("search", paths=["/api/*"]),
        f"{SEARCH}.load_balancer.paths",
        r"path '/api/\*' on any host is already routed to service 'api'",
        r"allowed: a path or host no other service of the load balancer uses",
    ),
    "arch4_two_catch_all_services_on_one_alb": Bad(
        lambda d: svc("api")(d)["load_balancer"].pop("paths"),
        f"{API}.load_balancer",
        r"path '/\*' on any host is already routed to service 'storefront'",
        r"allowed: a path or host",
    ),
    "arch4_duplicate_priority": Bad(
        lambda d: (_lb("api", priority=7)(d), _lb("search", priority=7)(d)),
        f"{SEARCH}.load_balancer.priority",
        r"priority 7 is already taken by service 'api'",
        r"allowed: a priority unique on the load balancer",
    ),
    "arch4_too_many_condition_values": Bad(
        _lb("api", paths=["/a", "/b", "/c"], hosts=["a.example.com", "b.example.com", "c.example.com"]),
        f"{API}.load_balancer.paths",
        r"3 paths and 3 hosts",
        r"allowed: at most 5 together",
    ),
    "arch4_unknown_shared_load_balancer": Bad(
        _lb("api", shared="internal"),
        f"{API}.load_balancer.shared",
        r"'internal' is not a shared load balancer",
        r"allowed: 'edge'",
    ),
    "arch4_exposure_set_on_a_shared_rule": Bad(
        _lb("api", public=False),
        f"{API}.load_balancer.public",
        r"the service uses the shared load balancer 'edge'",
        r"allowed: public on load_balancers\['edge'\] only",
    ),
    "arch4_own_load_balancer_without_exposure": Bad(
        lambda d: svc("api")(d)["load_balancer"].pop("shared"),
        f"{API}.load_balancer.public",
        r"required key is missing",
        None,
        issues=2,  # public and https
    ),
    "arch4_shared_load_balancer_nobody_uses": Bad(
        lambda d: d["load_balancers"].append({"name": "spare", "public": False, "https": False}),
        "load_balancers[1]",
        r"no service uses 'spare'",
        r"allowed: remove it, or set load_balancer.shared",
    ),
    "lim_too_many_target_groups_on_one_alb": Bad(
        lambda d: d["services"].extend(
            {
                **copy.deepcopy(d["services"][1]),
                "name": f"api{i}",
                "load_balancer": {"shared": "edge", "paths": [f"/v{i}/*"], "priority": 100 + i},
                "stack": f"api-{i // 15}",
            }
            for i in range(48)
        ),
        "load_balancers[0]",
        r"51 services need 102 target groups",
        r"allowed: at most 100 per load balancer",
        issues=2,  # ... and 102 listener rules (production and test)
    ),
    "arch4_shared_rule_without_a_priority": Bad(
        lambda d: svc("search")(d)["load_balancer"].pop("priority"),
        f"{SEARCH}.load_balancer.priority",
        r"required for a rule with paths or hosts on the shared load balancer 'edge'",
        r"allowed: 1\.\.49999, unique on it \(ecs-platform 0\.1 gave this rule 20 by its position",
    ),
    "use2_sixteen_services_in_one_stack": Bad(
        lambda d: d["services"].extend(
            {**copy.deepcopy(d["services"][3]), "name": f"extra{i}", "connect": {"name": f"extra{i}", "callers": ["api"]}}
            for i in range(11)
        ),
        "services[15].stack",
        r"the 'workloads' stack already holds 15 services",
        r"allowed: at most 15 a stack: name another stack here, e\.g\. stack: services-2 \(where ecs-platform 0\.1 put services\[15\]\)",
    ),
    "use2_a_stack_named_like_the_platforms_own": Bad(
        _update(svc("orders"), stack="network"),
        f"{ORDERS}.stack",
        r"'network' is the platform's own stack",
        r"allowed: another name",
    ),
    "arch4_test_listener_on_a_production_port": Bad(
        _update(edge, test_listener_port=443),
        "load_balancers[0].test_listener_port",
        r"443 is a production listener's port",
        r"allowed: another port",
    ),
    "use2_two_services_with_one_name": Bad(
        _update(svc("search"), name="api"),
        f"{SEARCH}.name",
        r"'api' is used by 2 workloads",
        r"allowed: a name unique across services and jobs",
        issues=4,  # both services, and their Service Connect names
    ),
    # --- deployment strategies (HA-8) ---
    "ha8_canary_percent_above_100": Bad(
        _deploy("api", step_percent=150),
        f"{API}.deployment.step_percent",
        r"150(\.0)? is not allowed",
        r"allowed: 0\.1\.\.100\.0 in steps of 0\.1",
    ),
    "ha8_canary_percent_not_in_tenths": Bad(
        _deploy("api", step_percent=2.55),
        f"{API}.deployment.step_percent",
        r"2\.55 is not allowed",
        r"in steps of 0\.1",
    ),
    "ha8_linear_step_below_3_percent": Bad(
        _deploy("search", step_percent=2),
        f"{SEARCH}.deployment.step_percent",
        r"2\.0 is out of range for linear",
        r"allowed: 3\.0\.\.100\.0",
    ),
    "ha8_step_percent_with_blue_green": Bad(
        _deploy("storefront", step_percent=10),
        f"{STOREFRONT}.deployment.step_percent",
        r"step_percent applies to linear and canary",
        r"allowed: omit it with strategy blue_green",
    ),
    "ha8_bake_time_with_rolling": Bad(
        _deploy("orders", bake_minutes=5),
        f"{ORDERS}.deployment.bake_minutes",
        r"bake_minutes applies to blue_green, linear and canary",
        r"allowed: omit it with strategy rolling",
    ),
    "ha8_healthy_percent_with_canary": Bad(
        _deploy("api", min_healthy_percent=50),
        f"{API}.deployment.min_healthy_percent",
        r"min_healthy_percent applies to rolling deployments",
        r"allowed: omit it with strategy canary",
    ),
    "ha8_unknown_strategy": Bad(
        _deploy("api", strategy="red_black"),
        f"{API}.deployment.strategy",
        r"'red_black' is not allowed",
        r"allowed: 'rolling', 'blue_green', 'linear' or 'canary'",
    ),
    "ha8_bake_time_above_a_day": Bad(
        _deploy("storefront", bake_minutes=1441), f"{STOREFRONT}.deployment.bake_minutes", r"1441 is out of range", r"allowed: 0\.\.1440"
    ),
    # --- internal services and Service Connect (ARCH-7) ---
    "arch7_internal_service_without_service_connect": Bad(
        lambda d: d.pop("service_connect"),
        f"{ORDERS}.load_balancer",
        r"a service without a load balancer is reachable only through Service Connect",
        r"allowed: a load_balancer, service_connect at the top level",
        issues=5,  # orders and inventory, the connect settings of both, inventory's blue_green
    ),
    "arch7_duplicate_connect_name": Bad(
        lambda d: svc("inventory")(d)["connect"].update(name="orders"),
        f"{ORDERS}.connect.name",
        r"'orders' is the Service Connect name of 2 services",
        r"allowed: unique names",
        issues=2,
    ),
    # --- Service Connect callers and TLS (ARCH-7, SEC-2, SEC-3) ---
    "sec2_internal_service_that_names_no_caller": Bad(
        lambda d: svc("inventory")(d).pop("connect"),
        f"{INVENTORY}.connect.callers",
        r"an internal service \(no load_balancer\) that names no caller is reachable by no one",
        r"allowed: the services that call it, e\.g\. callers: \[storefront\]",
    ),
    "sec2_caller_that_is_not_a_service": Bad(
        lambda d: svc("orders")(d)["connect"]["callers"].append("billing"),
        f"{ORDERS}.connect.callers[2]",
        r"'billing' is not a service or worker of this spec",
        r"allowed: storefront, api, search, inventory",
    ),
    "sec2_caller_that_is_the_server_itself": Bad(
        lambda d: svc("orders")(d)["connect"]["callers"].append("orders"),
        f"{ORDERS}.connect.callers[2]",
        r"'orders' is this service",
        r"allowed: other services",
    ),
    "sec2_caller_named_twice": Bad(
        lambda d: svc("orders")(d)["connect"]["callers"].append("api"),
        f"{ORDERS}.connect.callers",
        r"'api' is listed 2 times",
        r"allowed: each caller once",
    ),
    "sec3_service_connect_ca_in_another_region": Bad(
        lambda d: d["service_connect"]["tls"].update(
            certificate_authority_arn="arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
        ),
        "service_connect.tls.certificate_authority_arn",
        r"is in us-east-1",
        r"allowed: one in the environment's region ap-northeast-1",
    ),
    "sec3_service_connect_ca_that_is_not_a_private_ca": Bad(
        lambda d: d["service_connect"]["tls"].update(certificate_authority_arn=OTHER_REGION_CERT),
        "service_connect.tls.certificate_authority_arn",
        r"is not valid",
        r"allowed: an AWS Private CA ARN, arn:aws:acm-pca:<region>:<account>:certificate-authority/<uuid>",
    ),
    "arch7_request_scaling_without_load_balancer": Bad(
        _update(svc("orders"), scaling={"requests_per_task": 100}),
        f"{ORDERS}.scaling.requests_per_task",
        r"request-count scaling reads the load balancer's metrics",
        r"allowed: cpu_percent or memory_percent",
    ),
    "arch7_namespace_not_a_dns_name": Bad(
        lambda d: d["service_connect"].update(namespace="Market Internal"),
        "service_connect.namespace",
        r"'Market Internal' is not valid",
        r"allowed: a DNS-style name",
    ),
}


@pytest.mark.parametrize("bad", CASES.values(), ids=CASES.keys())
def test_fails_when(bad: Bad) -> None:
    bad.check(services_spec())


def test_the_services_spec_itself_is_valid() -> None:
    spec = parse_spec(services_spec())
    assert [s.deployment.strategy for s in spec.services] == ["blue_green", "canary", "linear", "rolling", "blue_green"]
    assert [s.load_balancer is None for s in spec.services] == [False, False, False, True, True]


def test_arch4_rule_priorities_as_the_spec_states_catch_all_last() -> None:
    """Specific rules on a shared ALB have the priority the spec states (10, 20 in the example); a catch-all
    is evaluated last; adding a service before them changes no other service's priority."""
    spec = parse_spec(services_spec())
    assert rule_priorities(spec) == {"storefront": CATCH_ALL_PRIORITY, "api": 10, "search": 20}

    data = services_spec()
    _lb("search", priority=5)(data)
    assert rule_priorities(parse_spec(data))["search"] == 5

    data = services_spec()
    first = {**copy.deepcopy(data["services"][1]), "name": "first", "load_balancer": {"shared": "edge", "paths": ["/f/*"], "priority": 5}}
    data["services"].insert(0, first)
    assert rule_priorities(parse_spec(data)) == {"first": 5, "storefront": CATCH_ALL_PRIORITY, "api": 10, "search": 20}


def test_arch4_same_path_on_different_hosts_is_no_collision() -> None:
    data = services_spec()
    _lb("api", hosts=["api.example.com"])(data)
    _lb("search", paths=["/api/*"], hosts=["search.example.com"])(data)
    assert parse_spec(data).services[2].load_balancer is not None
