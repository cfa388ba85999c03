"""Loading specs: the default spec is the source document's example; defaults; dicts without YAML."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from ecs_platform.spec import Spec, SpecError, load_spec, load_specs, parse_spec

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SPEC = ROOT / "specs" / "default.yaml"


@pytest.fixture(scope="module")
def default() -> Spec:
    return load_spec(DEFAULT_SPEC)


def minimal(**environment: Any) -> dict[str, Any]:
    """The smallest valid spec, written in Python: one job, everything else defaulted."""
    return {
        "app": "demo",
        "environment": {"name": "dev", "availability_zones": ["ap-northeast-1a", "ap-northeast-1c"], **environment},
        "jobs": [{"name": "report", "containers": [{"name": "report", "image": "busybox:stable"}]}],
    }


def web_service(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "web",
        "containers": [{"name": "web", "image": "nginx:latest", "port": 80}],
        "load_balancer": {"public": False, "https": False},
        **overrides,
    }


# --- the default spec is the source document's example ----------------------------------


def test_default_spec_loads_from_a_str_path_too() -> None:
    assert load_spec(str(DEFAULT_SPEC)) == load_spec(DEFAULT_SPEC)


def test_cli4_cluster_is_named_mycluster(default: Spec) -> None:
    """CLI-4: aws ecs create-cluster --tags key=Name,value=MyCluster."""
    assert default.cluster.name == "MyCluster"
    assert default.cluster_name_tag == "MyCluster"


def test_cli5_task_definition_is_the_documents(default: Spec) -> None:
    """CLI-5: family my-task, Fargate 256 CPU / 512 MiB, container my-container from nginx:latest on 80/tcp, essential."""
    (service,) = default.services
    assert service.task_family == "my-task"
    assert (service.cpu, service.memory) == (256, 512)
    (container,) = service.containers
    assert container.name == "my-container"
    assert container.image == "nginx:latest"
    assert (container.port, container.protocol) == (80, "tcp")
    assert container.essential is True


def test_cli6_service_runs_two_tasks_over_two_azs(default: Spec) -> None:
    """CLI-6: desired count 2, in two subnets of different AZs, behind an ALB on the container's port."""
    (service,) = default.services
    assert service.desired_count == 2
    assert default.environment.region == "ap-northeast-1"
    assert default.environment.availability_zones == ["ap-northeast-1a", "ap-northeast-1c"]
    assert service.subnets == "web"
    assert (service.load_balancer.public, service.load_balancer.https) == (True, False)
    assert service.health_check.path == "/"
    assert service.health_check.grace_period_seconds == 60


def test_use3_batch_job_runs_daily_in_tokyo_time(default: Spec) -> None:
    """USE-3 / CLI-7: one batch job, daily at 03:00 Asia/Tokyo, one task per run, in the batch subnets."""
    (job,) = default.jobs
    assert job.name == "nightly-report"
    assert job.schedule == "cron(0 3 * * ? *)"
    assert job.timezone == "Asia/Tokyo"
    assert job.count == 1
    assert job.subnets == "batch"
    assert job.capacity is None  # the construct's default: FARGATE
    assert (job.cpu, job.memory) == (256, 512)


def test_default_spec_environment_and_logs(default: Spec) -> None:
    assert default.app == "my-app"
    assert default.environment.name == "dev"
    assert default.environment.production is False
    assert default.environment.account is None
    assert default.network.cidr == "10.0.0.0/16"
    assert default.logs.retention_days == 365
    assert default.tags == {"Project": "ecs-platform"}


@pytest.mark.parametrize("spec_file", sorted((ROOT / "specs").glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_spec_loads(spec_file: Path) -> None:
    for spec in load_specs(spec_file):
        assert spec.services or spec.jobs


# --- defaults ------------------------------------------------------------------------------


def test_defaults_of_an_environment() -> None:
    spec = parse_spec(minimal())

    assert spec.environment.region == "ap-northeast-1"
    assert spec.environment.production is False
    assert spec.network.cidr == "10.0.0.0/16"
    assert spec.network.nat_gateways is None
    assert spec.logs.retention_days == 365
    assert spec.cluster_name_tag == "demo-dev"
    assert spec.services == []


def test_defaults_of_a_job() -> None:
    (job,) = parse_spec(minimal()).jobs

    assert job.task_family == "report"
    assert (job.cpu, job.memory) == (256, 512)
    assert job.schedule is None  # on demand only
    # None: the construct's default (UTC, one task, FARGATE); the spec does not repeat it.
    assert (job.timezone, job.count, job.capacity, job.subnets) == (None, None, None, "batch")
    (container,) = job.containers
    assert (container.port, container.protocol, container.essential) == (None, "tcp", True)
    assert (container.environment, container.secrets) == ({}, {})


def test_defaults_of_a_service_ha3() -> None:
    """HA-3: a service defaults to two tasks; BP-2: health check defaults."""
    data = minimal()
    data["services"] = [web_service()]

    (service,) = parse_spec(data).services

    assert service.desired_count == 2
    assert service.subnets == "web"
    assert service.load_balancer.certificate_arn is None
    # The health check's fields default to None: the construct's defaults (HealthCheckProps) apply.
    assert set(service.health_check.model_dump().values()) == {None}


@pytest.mark.parametrize(
    ("production", "zones", "expected"),
    [
        (False, 2, 1),
        (False, 3, 1),
        (True, 2, 2),
        (True, 3, 3),
    ],
)
def test_nat_gateways_default_to_one_outside_production_and_one_per_az_in_it(production: bool, zones: int, expected: int) -> None:
    azs = [f"ap-northeast-1{letter}" for letter in "acd"[:zones]]

    spec = parse_spec(minimal(production=production, availability_zones=azs))

    assert spec.network.nat_gateways is None
    assert spec.nat_gateways == expected


def test_nat_gateways_given_explicitly_win_over_the_default() -> None:
    data = minimal(production=True)
    data["network"] = {"nat_gateways": 1}

    assert parse_spec(data).nat_gateways == 1


def test_cluster_name_tag_defaults_to_app_and_environment() -> None:
    assert parse_spec(minimal(name="prod")).cluster_name_tag == "demo-prod"


# --- parse_spec on plain Python data ---------------------------------------------------------


def test_parse_spec_takes_a_python_dict_without_yaml() -> None:
    spec = parse_spec(minimal())

    assert isinstance(spec, Spec)
    assert spec.app == "demo"
    assert [job.name for job in spec.jobs] == ["report"]


def test_parse_spec_of_the_default_data_equals_load_spec() -> None:
    data = yaml.safe_load(DEFAULT_SPEC.read_text(encoding="utf-8"))

    assert parse_spec(data) == load_spec(DEFAULT_SPEC)


def test_parse_spec_does_not_modify_its_input() -> None:
    data = minimal()
    before = copy.deepcopy(data)

    parse_spec(data)

    assert data == before


def test_parsed_spec_is_frozen() -> None:
    spec = parse_spec(minimal())

    with pytest.raises(ValidationError, match="frozen"):
        spec.app = "other"  # type: ignore[misc]


def test_parse_spec_names_its_source_in_the_error() -> None:
    with pytest.raises(
        SpecError,
        match=r"^team\.yaml: 1 problem\(s\) in the spec:\n  app: required key is missing \(Application name; prefixes stack names\.\)$",
    ):
        parse_spec({k: v for k, v in minimal().items() if k != "app"}, source="team.yaml")


def test_parse_spec_source_defaults_to_a_placeholder() -> None:
    with pytest.raises(SpecError) as excinfo:
        parse_spec({"app": "demo"})

    assert excinfo.value.source == "<spec>"
    assert excinfo.value.issues == [("environment", "required key is missing")]


def test_fails_when_the_spec_has_no_workload() -> None:
    data = minimal()
    del data["jobs"]

    with pytest.raises(SpecError, match=r"services: the spec has no services, jobs or workers; allowed: at least one workload"):
        parse_spec(data)


def test_strings_are_not_coerced_to_integers() -> None:
    """Strict models: YAML `cpu: "256"` is an error, not 256 (the schema and the CLI mean the same thing)."""
    data = minimal()
    data["jobs"][0]["cpu"] = "256"

    with pytest.raises(SpecError, match=r"jobs\[0\]\.cpu: '256' is a str; allowed: an integer \(without quotes\)"):
        parse_spec(data)


def test_the_readmes_bad_spec_sample_is_what_the_loader_prints() -> None:
    """The README shows a structural and a cross-field problem of one service and one of a job,
    reported in one run: the text there is this test's output, line for line."""
    data = yaml.safe_load((ROOT / "specs" / "default.yaml").read_text(encoding="utf-8"))
    data["services"][0].update(desired_count=0, memory=4096)  # out of range (structure); not a pair for cpu 256 (cross-field)
    data["jobs"][0]["subnets"] = "public"

    with pytest.raises(SpecError) as excinfo:
        parse_spec(data, source="bad.yaml")

    printed = f"error: {excinfo.value}"  # what app.py prints (ecs_platform.errors.report_and_exit)
    assert "$ make synth SPEC=bad.yaml\n" + printed + "\n```" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_an_unknown_key_that_looks_like_a_regex_is_reported() -> None:
    """Found by the fuzz test: a key such as ')' broke the matching of cross-field problems to broken fields."""
    data = yaml.safe_load((ROOT / "specs" / "default.yaml").read_text(encoding="utf-8"))
    data["services"][0][")"] = None
    with pytest.raises(SpecError, match=r"services\[0\]\.\): unknown key"):
        parse_spec(data)
