"""A catalog of bad specs: each is rejected with a message naming the path, the value and what is allowed.

Every case starts from the default spec (specs/default.yaml), applies one mutation and
expects :class:`SpecError`. The pattern is matched against the line the error prints for
that path (``  <path>: <message>``), so it proves the exact path, the offending value and
the allowed values are all on that one line. Requirement IDs are in the case IDs.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from ecs_platform.spec import SpecError, load_spec, parse_spec
from ecs_platform.spec.checks import services_per_cluster
from ecs_platform.spec.models import Spec

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SPEC = ROOT / "specs" / "default.yaml"
DEFAULT_DATA = yaml.safe_load(DEFAULT_SPEC.read_text(encoding="utf-8"))

OTHER_REGION_CERT = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
GLOBAL_WEB_ACL = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge/12345678-1234-1234-1234-123456789012"
SECRET_ARN = "arn:aws:secretsmanager:ap-northeast-1:111122223333:secret:db-AbCdEf"
SCHEDULE_ALLOWED = r"allowed: 'rate\(N minute\|minutes\|hour\|hours\|day\|days\)' or 'cron\("


def default_spec() -> dict[str, Any]:
    """A fresh deep copy of the default spec, as plain data."""
    return copy.deepcopy(DEFAULT_DATA)


def service(data: dict[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = data["services"][0]
    return first


def container(data: dict[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = service(data)["containers"][0]
    return first


def job(data: dict[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = data["jobs"][0]
    return first


@dataclass(frozen=True)
class Bad:
    """One mutation of the default spec and what the error must say about it."""

    mutate: Callable[[dict[str, Any]], Any]
    path: str  # the exact field path, as printed
    value: str  # regex: the offending value as the message shows it
    allowed: str | None  # regex: what is allowed (None: the message has nothing to offer, see below)
    issues: int = 1  # how many problems the one mutation causes

    @property
    def pattern(self) -> str:
        """One line of the error: the path, then (in any order) the value and the allowed values."""
        allowed = f"(?=.*{self.allowed})" if self.allowed else ""
        return rf"(?m)^  {re.escape(self.path)}: (?=.*{self.value}){allowed}"

    def check(self, data: dict[str, Any]) -> None:
        """Given ``data`` (a valid spec) with this mutation, when it is parsed, then it is rejected with the
        path, the value and what is allowed on one line, and with nothing else wrong."""
        self.mutate(data)
        with pytest.raises(SpecError, match=self.pattern) as excinfo:
            parse_spec(data, source="bad.yaml")
        assert len(excinfo.value.issues) == self.issues, excinfo.value.issues


def _set(getter: Callable[[dict[str, Any]], dict[str, Any]], **values: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda data: getter(data).update(values)


def _drop(getter: Callable[[dict[str, Any]], dict[str, Any]], key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda data: getter(data).pop(key)


def _containers(n: int) -> list[dict[str, Any]]:
    return [{"name": f"c{i}", "image": "nginx:latest", "port": 8000 + i} for i in range(n)]


def _environment(total_bytes: int) -> dict[str, str]:
    """Plain environment variables adding up to about ``total_bytes`` of JSON."""
    return {f"SETTING_{i:03d}": "x" * 1000 for i in range(total_bytes // 1000)}


def _append(getter: Callable[[dict[str, Any]], list[Any]], item: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda data: getter(data).append(item)


CASES: dict[str, Bad] = {
    # --- wrong types (strict: nothing is coerced) ---
    "cpu_is_a_string": Bad(_set(service, cpu="256"), "services[0].cpu", r"'256' is a str", r"allowed: an integer \(without quotes\)"),
    "app_is_a_list": Bad(lambda d: d.update(app=["my-app"]), "app", r"\['my-app'\] is a list", r"allowed: a string"),
    "desired_count_is_a_bool": Bad(
        _set(service, desired_count=True), "services[0].desired_count", r"True is a bool", r"allowed: an integer"
    ),
    # --- unknown and missing keys ---
    "unknown_top_level_key": Bad(
        lambda d: d.update(clusters={"name": "x"}),
        "clusters",
        r"unknown key",
        r"allowed keys: app, environment, network, cluster, logs, load_balancers, service_connect, services, jobs, workers, "
        r"capacity_providers, images, notifications, governance, storage, topics, delivery, tags, permissions_boundary$",
    ),
    "unknown_nested_key_cpuu": Bad(_set(service, cpuu=256), "services[0].cpuu", r"unknown key", r"allowed keys: .*\bcpu\b.*\bmemory\b"),
    # A missing key has no value; the message says only that it is required (see the report).
    "availability_zones_missing": Bad(
        _drop(lambda d: d["environment"], "availability_zones"),
        "environment.availability_zones",
        r"required key is missing",
        None,
    ),
    "load_balancer_https_missing": Bad(
        _drop(lambda d: service(d)["load_balancer"], "https"), "services[0].load_balancer.https", r"required key is missing", None
    ),
    # --- Fargate sizes ---
    "cpu_is_not_a_fargate_value": Bad(
        _set(service, cpu=300),
        "services[0].cpu",
        r"\b300 is not a Fargate CPU value",
        r"allowed: 256, 512, 1024, 2048, 4096, 8192, 16384$",
    ),
    "cpu_memory_pair_is_not_a_fargate_size": Bad(
        _set(service, memory=4096), "services[0].memory", r"memory 4096 MiB", r"allowed for cpu 256: 512, 1024, 2048$"
    ),
    # --- HA-3, LIM-2, LIM-3 ---
    "desired_count_is_1_in_production_HA-3": Bad(
        lambda d: (d["environment"].update(production=True), service(d).update(desired_count=1)),
        "services[0].desired_count",
        r"\b1 is out of range",
        r"allowed: 2\.\.5000 \(HA-3: a production service runs at least two tasks across AZs\) in a production environment",
    ),
    "scaling_min_count_is_1_in_production_HA-5": Bad(
        lambda d: (d["environment"].update(production=True), service(d).update(scaling={"min_count": 1, "max_count": 4})),
        "services[0].scaling.min_count",
        r"\b1 is out of range",
        r"allowed: 2\.\.5000 \(HA-3",
    ),
    "desired_count_is_0_LIM-3": Bad(
        _set(service, desired_count=0), "services[0].desired_count", r"\b0 is out of range", r"allowed: 1\.\.5000 \(LIM-3"
    ),
    "desired_count_is_5001_LIM-3": Bad(
        _set(service, desired_count=5001), "services[0].desired_count", r"\b5001 is out of range", r"allowed: 1\.\.5000 .*LIM-3"
    ),
    "task_has_11_containers_LIM-2": Bad(
        _set(service, containers=_containers(11)),
        "services[0].containers",
        r"\b11 containers",
        r"allowed: 1 to 10 per task definition \(LIM-2\)",
    ),
    "job_count_is_11_LIM-3": Bad(_set(job, count=11), "jobs[0].count", r"\b11 is out of range", r"allowed: 1\.\.10 .*LIM-3"),
    "task_definition_is_over_64_KiB_LIM-1": Bad(
        lambda d: container(d).update(environment=_environment(70_000)),
        "services[0].containers",
        r"task definition 'my-task' is 7\d,\d{3} bytes",
        r"at most 65,536 bytes \(64 KiB, LIM-1\)",
    ),
    # --- unique names and ports ---
    "workload_names_are_duplicated": Bad(
        _set(job, name="my-service"),
        "jobs[0].name",
        r"'my-service' is used by 2 workloads",
        r"allowed: a name unique across services and jobs",
        issues=2,
    ),
    "task_families_are_duplicated_BP-1": Bad(
        _set(job, family="my-task"),
        "jobs[0].family",
        r"task family 'my-task' is used by 2 workloads",
        r"allowed: one family per workload",
        issues=2,
    ),
    "container_names_are_duplicated": Bad(
        _append(lambda d: service(d)["containers"], {"name": "my-container", "image": "busybox"}),
        "services[0].containers[1].name",
        r"'my-container' appears 2 times",
        r"allowed: unique container names",
        issues=2,
    ),
    "container_ports_are_duplicated": Bad(
        _append(lambda d: service(d)["containers"], {"name": "sidecar", "image": "busybox", "port": 80}),
        "services[0].containers[1].port",
        r"port 80 is used by 2 containers",
        r"allowed: one container per port",
        issues=2,
    ),
    # --- schedules and time zones ---
    "cron_has_5_fields": Bad(
        _set(job, schedule="cron(0 3 * * *)"), "jobs[0].schedule", r"'cron\(0 3 \* \* \*\)' has 5 cron fields", SCHEDULE_ALLOWED
    ),
    "cron_sets_both_day_fields": Bad(
        _set(job, schedule="cron(0 3 * * MON *)"),
        "jobs[0].schedule",
        r"'cron\(0 3 \* \* MON \*\)': exactly one of day-of-month and day-of-week must be '\?'",
        SCHEDULE_ALLOWED,
    ),
    "cron_sets_neither_day_field": Bad(
        _set(job, schedule="cron(0 3 ? * ? *)"),
        "jobs[0].schedule",
        r"'cron\(0 3 \? \* \? \*\)': exactly one of day-of-month and day-of-week",
        SCHEDULE_ALLOWED,
    ),
    "cron_minute_is_60": Bad(
        _set(job, schedule="cron(60 3 * * ? *)"), "jobs[0].schedule", r"cron minutes field '60' is invalid", r"allowed: 0-59$"
    ),
    "cron_hour_is_24": Bad(
        _set(job, schedule="cron(0 24 * * ? *)"), "jobs[0].schedule", r"cron hours field '24' is invalid", r"allowed: 0-23$"
    ),
    "rate_uses_plural_unit_for_1": Bad(_set(job, schedule="rate(1 days)"), "jobs[0].schedule", r"'rate\(1 days\)'", SCHEDULE_ALLOWED),
    "rate_is_0": Bad(
        _set(job, schedule="rate(0 minutes)"), "jobs[0].schedule", r"'rate\(0 minutes\)' has a rate below 1", SCHEDULE_ALLOWED
    ),
    "schedule_is_not_an_expression": Bad(
        _set(job, schedule="daily at 3"), "jobs[0].schedule", r"'daily at 3' is not a schedule expression", SCHEDULE_ALLOWED
    ),
    "time_zone_is_unknown": Bad(
        _set(job, timezone="Asia/Tokio"), "jobs[0].timezone", r"'Asia/Tokio' is not an IANA time zone", r"allowed: .*'Asia/Tokyo'"
    ),
    # --- ports ---
    "port_is_0": Bad(_set(container, port=0), "services[0].containers[0].port", r"\b0 is out of range", r"allowed: 1\.\.65535$"),
    "port_is_70000": Bad(
        _set(container, port=70000), "services[0].containers[0].port", r"\b70000 is out of range", r"allowed: 1\.\.65535$"
    ),
    "protocol_is_http": Bad(
        _set(container, protocol="http"), "services[0].containers[0].protocol", r"'http' is not allowed", r"allowed: 'tcp' or 'udp'"
    ),
    # --- SEC-1: tasks stay in their private subnets ---
    "service_tasks_asked_into_public_subnets_SEC-1": Bad(
        _set(service, subnets="public"), "services[0].subnets", r"'public' is not allowed", r"allowed: 'web' .*SEC-1"
    ),
    "job_tasks_asked_into_public_subnets_SEC-1": Bad(
        _set(job, subnets="public"), "jobs[0].subnets", r"'public' is not allowed", r"allowed: 'batch' .*SEC-1"
    ),
    # --- HTTPS and certificates ---
    "https_without_certificate": Bad(
        lambda d: service(d)["load_balancer"].update(https=True),
        "services[0].load_balancer.certificate_arn",
        r"https: true needs a certificate",
        r"allowed: an ACM certificate ARN, a domain \(a new certificate\), or https: false",
    ),
    "certificate_in_another_region": Bad(
        lambda d: service(d)["load_balancer"].update(https=True, certificate_arn=OTHER_REGION_CERT),
        "services[0].load_balancer.certificate_arn",
        r"the certificate is in us-east-1",
        r"allowed: a certificate in the environment's region ap-northeast-1",
    ),
    "certificate_arn_is_not_an_acm_arn": Bad(
        lambda d: service(d)["load_balancer"].update(https=True, certificate_arn="my-cert"),
        "services[0].load_balancer.certificate_arn",
        r"'my-cert' is not an ACM certificate ARN",
        r"allowed: arn:aws:acm:",
    ),
    "web_acl_is_a_global_one": Bad(
        lambda d: service(d)["load_balancer"].update(web_acl_arn=GLOBAL_WEB_ACL),
        "services[0].load_balancer.web_acl_arn",
        r"'arn:aws:wafv2:us-east-1:123456789012:global/webacl/",
        r"allowed: a REGIONAL WAFv2 web ACL ARN",
    ),
    # --- SEC-4: secrets never as plain environment values ---
    "env_var_looks_like_a_secret_SEC-4": Bad(
        _set(container, environment={"DB_HOST": "db", "DB_PASSWORD": "hunter2"}),
        "services[0].containers[0].environment",
        r"\bDB_PASSWORD look",
        r"allowed: put them under the container's 'secrets:'.*SEC-4",
    ),
    "secret_without_its_six_character_suffix_SEC-4": Bad(
        _set(container, secrets={"DB_PASSWORD": {"secrets_manager": "arn:aws:secretsmanager:ap-northeast-1:111122223333:secret:db"}}),
        "services[0].containers[0].secrets.DB_PASSWORD.secrets_manager",
        r"'arn:aws:secretsmanager:ap-northeast-1:111122223333:secret:db' names the secret without its 6-character suffix",
        r"allowed: the secret's full ARN \(ending in the 6-character suffix",
    ),
    "secret_with_a_version_stage_and_a_version_id_SEC-4": Bad(
        _set(
            container,
            secrets={
                "DB_PASSWORD": {"secrets_manager": "arn:aws:secretsmanager:ap-northeast-1:111122223333:secret:db-AbCdEf:pw:AWSCURRENT:1a2b"}
            },
        ),
        "services[0].containers[0].secrets.DB_PASSWORD.secrets_manager",
        r"'arn:aws:secretsmanager:.*:pw:AWSCURRENT:1a2b' gives both a version stage and a version ID",
        r"allowed: one of them \(or neither: AWSCURRENT\)",
    ),
    "a_tag_key_aws_reserves": Bad(
        lambda d: d["tags"].update({"aws:team": "shop"}),
        "tags.aws:team",
        r"'aws:team' starts with 'aws:', which AWS reserves",
        r"allowed: any other key",
    ),
    # --- environment and network ---
    "availability_zone_is_not_in_the_region": Bad(
        lambda d: d["environment"].update(availability_zones=["ap-northeast-1a", "us-east-1a"]),
        "environment.availability_zones[1]",
        r"'us-east-1a' is not in region ap-northeast-1",
        r"allowed: ap-northeast-1a, ap-northeast-1c",
    ),
    "only_one_availability_zone_HA-2": Bad(
        lambda d: d["environment"].update(availability_zones=["ap-northeast-1a"]),
        "environment.availability_zones",
        r"\b1 availability zone",
        r"allowed: 2 to 6 \(HA-2",
    ),
    "availability_zone_is_listed_twice_HA-2": Bad(
        lambda d: d["environment"].update(availability_zones=["ap-northeast-1a", "ap-northeast-1a"]),
        "environment.availability_zones[1]",
        r"'ap-northeast-1a' is listed twice",
        r"allowed: distinct AZs",
    ),
    "cidr_is_not_a_network": Bad(
        lambda d: d["network"].update(cidr="10.0.0.0/33"),
        "network.cidr",
        r"'10\.0\.0\.0/33' is not an IPv4 network",
        r"allowed: a CIDR such as 10\.0\.0\.0/16",
    ),
    "cidr_is_too_large": Bad(
        lambda d: d["network"].update(cidr="10.0.0.0/8"), "network.cidr", r"'10\.0\.0\.0/8' has prefix /8", r"allowed: /16 to /20"
    ),
    "log_retention_is_30_days": Bad(
        lambda d: d["logs"].update(retention_days=30),
        "logs.retention_days",
        r"\b30 is not an allowed retention",
        r"allowed: 365, 400, 545, 731, 1096",
    ),
    "nat_gateways_exceed_the_azs": Bad(
        lambda d: d["network"].update(nat_gateways=3), "network.nat_gateways", r"\b3 is out of range", r"allowed: 1\.\.2 "
    ),
    "workload_name_has_capitals": Bad(
        _set(service, name="MyService"), "services[0].name", r"'MyService' is not valid", r"allowed: lowercase letters"
    ),
}


@pytest.mark.parametrize("bad", CASES.values(), ids=CASES.keys())
def test_fails_when(bad: Bad) -> None:
    bad.check(default_spec())


def test_fails_when_a_secret_has_an_unknown_key_and_lists_the_allowed_ones() -> None:
    data = default_spec()
    container(data)["secrets"] = {"DB_PASSWORD": {"secrets_manager": "arn:aws:secretsmanager:x", "rotate": True}}

    with pytest.raises(SpecError, match=r"secrets\.DB_PASSWORD\.rotate: unknown key; allowed keys: secrets_manager, ssm_parameter"):
        parse_spec(data)


def test_catalog_is_large_enough() -> None:
    assert len(CASES) >= 25


def test_the_default_spec_itself_is_valid() -> None:
    """The baseline of every case: without a mutation the spec is accepted."""
    assert parse_spec(default_spec()).app == "my-app"


# --- YAML-level failures (through load_spec) --------------------------------------------


def test_fails_when_yaml_has_a_duplicate_key(tmp_path: Path) -> None:
    """PyYAML keeps the last of two equal keys; the loader refuses instead of guessing."""
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(
        DEFAULT_SPEC.read_text(encoding="utf-8").replace("app: my-app", "app: my-app\napp: other-app", 1), encoding="utf-8"
    )

    with pytest.raises(SpecError, match=r"not valid YAML: duplicate key 'app' \(first on line \d+\)") as excinfo:
        load_spec(spec_file)

    assert str(excinfo.value).startswith(f"{spec_file}: 1 problem(s) in the spec:")


def test_fails_when_yaml_aliases_multiply_the_spec(tmp_path: Path) -> None:
    """A few hundred bytes of nested aliases ("billion laughs") are refused before they are expanded."""
    lines = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]" for a, b in zip("abcdefgh", "bcdefghi", strict=True)]
    spec_file = tmp_path / "bomb.yaml"
    spec_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert spec_file.stat().st_size < 400

    with pytest.raises(SpecError, match=r"the spec expands to 490,329,064 values through YAML aliases; allowed: at most 100,000"):
        load_spec(spec_file)


def test_a_spec_with_a_few_aliases_is_fine(tmp_path: Path) -> None:
    """Aliases are YAML: a shared block of settings stays allowed."""
    spec_file = tmp_path / "aliases.yaml"
    spec_file.write_text(
        "app: shop\n"
        "environment: {name: dev, availability_zones: [ap-northeast-1a, ap-northeast-1c]}\n"
        "jobs:\n"
        "  - name: a\n"
        "    tags: &team {Team: data}\n"
        "    containers: [{name: app, image: busybox:stable}]\n"
        "  - name: b\n"
        "    tags: *team\n"
        "    containers: [{name: app, image: busybox:stable}]\n",
        encoding="utf-8",
    )

    assert [job.tags for job in load_spec(spec_file).jobs] == [{"Team": "data"}, {"Team": "data"}]


def test_a_structural_error_does_not_hide_another_entrys_cross_field_error() -> None:
    """One run reports both: the job's subnet (structure) and the service's memory (cross-field)."""
    data = default_spec()
    job(data)["subnets"] = "public"
    service(data)["memory"] = 4096

    with pytest.raises(SpecError) as excinfo:
        parse_spec(data)

    assert [path for path, _ in excinfo.value.issues] == ["jobs[0].subnets", "services[0].memory"]


def test_a_problem_that_names_a_broken_field_is_left_out() -> None:
    """cpu 300 is not a Fargate value: whether memory 4096 pairs with it cannot be said, so only cpu is reported."""
    data = default_spec()
    service(data).update(cpu=300, memory=4096)

    with pytest.raises(SpecError) as excinfo:
        parse_spec(data)

    assert [path for path, _ in excinfo.value.issues] == ["services[0].cpu"]


def test_fails_when_yaml_is_not_a_mapping(tmp_path: Path) -> None:
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text("- app: my-app\n- environment: dev\n", encoding="utf-8")

    with pytest.raises(SpecError, match=r"the spec is a list; allowed: a mapping with app, environment"):
        load_spec(spec_file)


def test_fails_when_yaml_is_malformed(tmp_path: Path) -> None:
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text("app: [my-app\n", encoding="utf-8")

    with pytest.raises(SpecError, match=r"(?s)not valid YAML: while parsing a flow sequence.*line 1, column 6"):
        load_spec(spec_file)


def test_fails_when_the_file_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"cannot read the spec file: No such file or directory"):
        load_spec(tmp_path / "missing.yaml")


# --- every error at once ------------------------------------------------------------


def test_every_structural_error_is_reported_at_once() -> None:
    # Given four independent field errors
    data = default_spec()
    service(data)["cpu"] = "256"
    service(data)["cpuu"] = 256
    container(data)["port"] = 0
    job(data)["timezone"] = "Asia/Tokio"

    # When the spec is parsed
    with pytest.raises(SpecError) as excinfo:
        parse_spec(data, source="bad.yaml")

    # Then all four are reported, each with its path
    error = excinfo.value
    assert sorted(path for path, _ in error.issues) == [
        "jobs[0].timezone",
        "services[0].containers[0].port",
        "services[0].cpu",
        "services[0].cpuu",
    ]
    assert str(error).startswith("bad.yaml: 4 problem(s) in the spec:")


def test_every_cross_field_error_is_reported_at_once() -> None:
    # Given errors that only checks spanning several fields find
    data = default_spec()
    job(data)["name"] = "my-service"  # duplicate workload name (2 issues)
    service(data)["load_balancer"]["https"] = True  # https without a certificate
    service(data)["memory"] = 4096  # not a Fargate pair for cpu 256
    data["network"]["nat_gateways"] = 3  # more NAT gateways than AZs

    with pytest.raises(SpecError) as excinfo:
        parse_spec(data)

    assert sorted(path for path, _ in excinfo.value.issues) == [
        "jobs[0].name",
        "network.nat_gateways",
        "services[0].load_balancer.certificate_arn",
        "services[0].memory",
        "services[0].name",
    ]


def test_fails_without_a_chained_traceback() -> None:
    """The CLI prints the message only: pydantic's ValidationError is not chained onto SpecError."""
    data = default_spec()
    service(data)["cpu"] = "256"

    with pytest.raises(SpecError) as excinfo:
        parse_spec(data)

    assert excinfo.value.__cause__ is None
    assert excinfo.value.__suppress_context__ is True


@pytest.mark.parametrize(
    ("domain", "https", "certificate", "pattern"),
    [
        (
            {"name": "shop.other.com", "hosted_zone_id": "Z0123456789ABCDEFGHIJ", "hosted_zone_name": "example.com"},
            True,
            None,
            r"load_balancer\.domain\.name: 'shop\.other\.com' is not in zone 'example\.com'; allowed: a name in the hosted zone",
        ),
        (
            {"name": "shop.example.com", "hosted_zone_id": "Z0123456789ABCDEFGHIJ", "hosted_zone_name": "example.com"},
            False,
            None,
            r"load_balancer\.https: a domain is given but https is false; allowed: https: true with the domain",
        ),
        (
            {"name": "shop.example.com", "hosted_zone_id": "Z0123456789ABCDEFGHIJ", "hosted_zone_name": "example.com"},
            True,
            "arn:aws:acm:ap-northeast-1:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
            r"load_balancer\.domain: both a certificate_arn and a domain are given; allowed: one of them",
        ),
        (
            {"name": "shop.example.com", "hosted_zone_id": "not-a-zone", "hosted_zone_name": "example.com"},
            True,
            None,
            r"load_balancer\.domain\.hosted_zone_id: 'not-a-zone' is not valid; allowed: a Route 53 hosted zone ID",
        ),
    ],
    ids=["name_outside_the_zone", "domain_without_https", "domain_and_certificate", "bad_zone_id"],
)
def test_fails_when_the_domain_is(domain: dict[str, str], https: bool, certificate: str | None, pattern: str) -> None:
    data = default_spec()
    service(data)["load_balancer"] = {
        "public": True,
        "https": https,
        "domain": domain,
        **({"certificate_arn": certificate} if certificate else {}),
    }
    with pytest.raises(SpecError, match=pattern):
        parse_spec(data)


def test_lim3_workers_count_among_the_5000_services_of_a_cluster() -> None:
    """LIM-3: a queue worker is an ECS service too: 4,999 services and 2 workers pass 5,000."""
    data = yaml.safe_load((ROOT / "specs" / "batch.yaml").read_text(encoding="utf-8"))
    spec = Spec.model_validate(data)
    many = spec.model_copy(update={"services": [object()] * 4999, "workers": [spec.workers[0]] * 2})
    assert list(services_per_cluster(many)) == [
        ("workers", "4,999 services and 2 workers are 5,001 ECS services; allowed: at most 5,000 per cluster (LIM-3)")
    ]
