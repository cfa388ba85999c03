"""Several environments in one spec (issue 12): ``environments:`` and their overrides.

specs/environments.yaml holds dev, staging and prod; each environment's spec is the shared
settings with its overrides, validated and checked like a spec of one ``environment:``, and
every problem names the environment and the path it comes from.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from ecs_platform.spec import SpecError, load_spec, load_specs, parse_specs
from tests.conftest import SPECS

EXAMPLE = SPECS / "environments.yaml"
CERT = "arn:aws:acm:ap-northeast-1:111111111111:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
DATA: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))


def example() -> dict[str, Any]:
    return copy.deepcopy(DATA)


def _env(name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda data: next(e for e in data["environments"] if e["name"] == name)


def test_each_environment_is_the_shared_settings_with_its_overrides() -> None:
    """Named entries change field by field: dev runs one task of each service, prod bigger tasks and its own
    certificate; what no override names stays shared."""
    dev, staging, prod = load_specs(EXAMPLE)
    assert [s.environment.name for s in (dev, staging, prod)] == ["dev", "staging", "prod"]
    assert {s.name: s.desired_count for s in dev.services} == {"web": 1, "api": 1}
    assert {s.name: s.desired_count for s in staging.services} == {"web": 2, "api": 2}
    web, api = prod.services
    assert (web.cpu, web.memory, web.scaling.max_count, web.desired_count) == (512, 1024, 20, 2)
    assert (api.cpu, api.memory, api.desired_count) == (1024, 2048, 3)
    assert web.containers == dev.services[0].containers  # not overridden: shared
    assert prod.jobs[0].schedule == "cron(0 2 * * ? *)" and dev.jobs[0].schedule == "cron(0 3 * * ? *)"
    assert [s.load_balancers[0].certificate_arn.split(":")[4] for s in (dev, staging, prod)] == [
        "111111111111",
        "111111111111",
        "222222222222",
    ]
    assert (prod.environment.production, prod.environment.account, len(prod.environment.availability_zones)) == (True, "222222222222", 3)


def test_one_environment_is_chosen_by_name() -> None:
    (staging,) = load_specs(EXAMPLE, environment="staging")
    assert staging.environment.name == "staging"
    assert load_spec(EXAMPLE, environment="prod").environment.production is True


def test_a_spec_of_one_environment_still_loads() -> None:
    (spec,) = load_specs(SPECS / "default.yaml")
    assert spec == load_spec(SPECS / "default.yaml") and spec.environment.name == "dev"


def test_fails_when_the_chosen_environment_is_not_in_the_spec() -> None:
    with pytest.raises(SpecError, match=r"environment 'qa' is not in the spec; allowed: dev, staging, prod"):
        load_specs(EXAMPLE, environment="qa")


def test_fails_when_one_spec_is_asked_of_several_environments() -> None:
    with pytest.raises(SpecError, match=r"the spec has 3 environments \(dev, staging, prod\); allowed: choose one"):
        load_spec(EXAMPLE)


def _override(env: str, **overrides: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda data: _env(env)(data).setdefault("overrides", {}).update(overrides)


#: name -> (mutation, the problem's path, a regex of its message).
BAD: dict[str, tuple[Callable[[dict[str, Any]], Any], str, str]] = {
    "an override of an unknown workload": (
        _override("dev", services={"checkout": {"desired_count": 1}}),
        "environments[0].overrides.services.checkout",
        r"'checkout' is not one of the shared entries; allowed: web, api",
    ),
    "an override with a value out of range": (
        _override("staging", services={"api": {"desired_count": 0}}),
        "environments[1].overrides.services.api.desired_count",
        r"0 is out of range; allowed: 1\.\.5000",
    ),
    "an override of an unknown key": (
        _override("dev", servics={"web": {}}),
        "environments[0].overrides.servics",
        r"unknown key; allowed keys: .*network, cluster",
    ),
    "an override of a key every environment shares": (
        _override("prod", app="other"),
        "environments[2].overrides.app",
        r"app is shared by every environment; allowed: set it at the top level",
    ),
    "one task of a production service, from the shared settings (HA-3)": (
        lambda data: next(s for s in data["services"] if s["name"] == "web").update(desired_count=1),
        "services[0].desired_count",
        r"1 is out of range; allowed: 2\.\.5000 \(HA-3.*\) in a production environment \(in environment prod\)",
    ),
    "one task of a production service, from its override (HA-3)": (
        _override("prod", services={"api": {"desired_count": 1}}),
        "environments[2].overrides.services.api.desired_count",
        r"1 is out of range; allowed: 2\.\.5000 \(HA-3",
    ),
    "a certificate of another account": (
        lambda data: _env("prod")(data)["overrides"].pop("load_balancers"),
        "load_balancers[0].certificate_arn",
        r"the certificate is in account 111111111111; allowed: a certificate of the environment's account 222222222222 "
        r".*\(in environment prod\)",
    ),
    "two environments of one name": (
        lambda data: _env("staging")(data).update(name="dev"),
        "environments[1].name",
        r"'dev' is also environments\[0\]; allowed: unique names",
    ),
    "both environment and environments": (
        lambda data: data.update(environment={"name": "x", "availability_zones": ["ap-northeast-1a", "ap-northeast-1c"]}),
        "environment",
        r"both environment and environments are given; allowed: one of them",
    ),
    "an environment without availability zones": (
        lambda data: _env("dev")(data).pop("availability_zones"),
        "environments[0].availability_zones",
        r"Field required",
    ),
    "a build context without its Dockerfile": (
        lambda data: data["services"][0]["containers"][0].update(image={"build": "../examples"}),
        "services[0].containers[0].image.build",
        r"'\.\./examples' has no Dockerfile; allowed: a build context with its Dockerfile",
    ),
    "a build context that does not exist": (
        lambda data: data["services"][0]["containers"][0].update(image={"build": "./nowhere"}),
        "services[0].containers[0].image.build",
        r"'\./nowhere' is not a directory next to the spec",
    ),
    "an invalid repository name": (
        lambda data: data["services"][1]["containers"][0].update(image={"repository": "Shop/API", "tag": "1"}),
        "services[1].containers[0].image.repository",
        r"'Shop/API' is not valid; allowed: an ECR repository name",
    ),
    "a repository image without a tag": (
        lambda data: data["services"][1]["containers"][0]["image"].pop("tag"),
        "services[1].containers[0].image.tag",
        r"no tag for shop/api; allowed: a tag or digest here, or at synthesis -c image_tag:api=<tag>",
    ),
    "a production environment without approval": (
        lambda data: data["delivery"].update(approvals=["staging"]),
        "delivery.approvals",
        r"prod is production and would deploy without a manual approval; allowed: list it",
    ),
    "an approval of an unknown environment": (
        lambda data: data["delivery"].update(approvals=["prod", "qa"]),
        "delivery.approvals[1]",
        r"'qa' is not an environment; allowed: dev, staging, prod",
    ),
    "a GitHub repository without a branch or environment": (
        lambda data: data["delivery"]["github_oidc"].pop("environments"),
        "delivery.github_oidc",
        r"no branch or environment may deploy; allowed: branches: \[main\]",
    ),
    "an environment outside the pipeline's region": (
        lambda data: _env("staging")(data).update(
            region="eu-west-1",
            availability_zones=["eu-west-1a", "eu-west-1b"],
            overrides={"load_balancers": {"edge": {"certificate_arn": CERT.replace("ap-northeast-1", "eu-west-1")}}},
        ),
        "environments[1].region",
        r"staging is in eu-west-1, the pipeline in ap-northeast-1",
    ),
    "docker-hub in the cache without credentials": (
        lambda data: data["images"].update(pull_through_cache=["ecr-public", "docker-hub"]),
        "images.docker_hub_credentials",
        r"docker-hub needs credentials",
    ),
    "an override of the delivery": (
        _override("prod", delivery={"approvals": []}),
        "environments[2].overrides.delivery",
        r"delivery is shared by every environment",
    ),
    "no environment at all": (
        lambda data: data.update(environments=[]),
        "environments",
        r"the list is empty; allowed: at least one environment",
    ),
}


@pytest.mark.parametrize("name", BAD)
def test_fails_when(name: str) -> None:
    """Given the example with one mutation, then it is refused, and the problem names the environment (its
    position and name) and the path it comes from."""
    mutate, path, message = BAD[name]
    data = example()
    mutate(data)
    with pytest.raises(SpecError) as excinfo:
        parse_specs(data, source="bad.yaml", base_dir=SPECS)
    found = [(p, m) for p, m in excinfo.value.issues if p == path]
    assert found, excinfo.value.issues
    assert any(re.search(message, m) for _, m in found), found


def test_a_shared_problem_of_every_environment_is_reported_once() -> None:
    data = example()
    data["jobs"][0]["cpu"] = 300
    with pytest.raises(SpecError) as excinfo:
        parse_specs(data, source="bad.yaml", base_dir=SPECS)
    cpu = [(p, m) for p, m in excinfo.value.issues if p == "jobs[0].cpu"]
    assert len(cpu) == 1 and "(in environment" not in cpu[0][1]


def test_problems_of_several_environments_come_in_one_run() -> None:
    data = example()
    _override("dev", services={"checkout": {}})(data)
    _override("prod", services={"api": {"desired_count": 1}})(data)
    with pytest.raises(SpecError) as excinfo:
        parse_specs(data, source="bad.yaml", base_dir=SPECS)
    paths = {p for p, _ in excinfo.value.issues}
    assert {"environments[0].overrides.services.checkout", "environments[2].overrides.services.api.desired_count"} <= paths


def test_a_list_an_override_gives_replaces_the_shared_one() -> None:
    """Only named entries merge by name; any other list (a container's command) is replaced whole."""
    data = example()
    _override("dev", jobs={"nightly-report": {"containers": {"report": {"command": ["echo", "dev"]}}}})(data)
    dev = parse_specs(data, base_dir=SPECS)[0]
    assert dev.jobs[0].containers[0].command == ["echo", "dev"]
    assert dev.jobs[0].containers[0].image == "public.ecr.aws/docker/library/busybox:stable"
