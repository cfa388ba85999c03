"""Importing AWS Copilot workspaces end to end (issue 16): the Copilot apps under ``tests/copilot/workspaces/`` import,
their specs validate and synthesize cdk-nag-clean, the report names every field of every manifest, the migration guide's
example (``shop``) maps as docs/copilot-migration.md shows, App Runner and static-site workloads are reported as not
imported, and ``ecs-platform import copilot`` refuses broken workspaces with a clear message and writes nothing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from ecs_platform.app_builder import PROJECT_ROOT, build_platform_app
from ecs_platform.copilot import CopilotImportError, ImportResult, ReportLine, import_workspace, render_report
from ecs_platform.spec import Spec, load_specs, parse_specs
from tests.conftest import CLI_CONTEXT, synthesize
from tests.helpers import nag_findings

WORKSPACES = Path(__file__).parent / "workspaces"
SHOP = WORKSPACES / "shop"
GUIDE = PROJECT_ROOT / "docs" / "copilot-migration.md"
GOOD = ("shop", "everything")
BAD = ("no-copilot-folder", "malformed", "unknown-type")
PROD_CERTIFICATE = "arn:aws:acm:ap-northeast-1:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
SESSION_KEY = "arn:aws:secretsmanager:ap-northeast-1:111122223333:secret:shop/session-key-AbCdEf"


# --- fixtures: each workspace imported once, each spec synthesized once -------------------------------------------


@pytest.fixture(scope="module")
def imported() -> dict[str, ImportResult]:
    """Every good workspace imported with all its environments."""
    return {name: import_workspace(WORKSPACES / name) for name in GOOD}


@pytest.fixture(scope="module")
def specs(imported: dict[str, ImportResult]) -> dict[str, dict[str, Spec]]:
    """The imported specs validated, one Spec per environment; build contexts resolve from the workspace."""
    return {
        name: {spec.environment.name: spec for spec in parse_specs(result.spec, source=f"{name}.yaml", base_dir=WORKSPACES / name)}
        for name, result in imported.items()
    }


@dataclass
class Assembly:
    """A synthesized cloud assembly: its directory and each stack's template, by stack name."""

    outdir: Path
    templates: dict[str, dict[str, Any]]

    def resources(self, stack: str, kind: str) -> list[dict[str, Any]]:
        return [r["Properties"] for r in self.templates[stack]["Resources"].values() if r["Type"] == kind]


@pytest.fixture(scope="module")
def shop_assembly(specs: dict[str, dict[str, Spec]], tmp_path_factory: pytest.TempPathFactory) -> Assembly:
    """The shop's two environments synthesized into one cloud assembly, with the cdk-nag packs, as `make synth` does."""
    outdir = tmp_path_factory.mktemp("cdk-copilot-shop")
    app, stages = build_platform_app(list(specs["shop"].values()), outdir=str(outdir), context=CLI_CONTEXT)
    assembly = app.synth()
    stacks = [stack for stage in stages for stack in (stage.network_stack, stage.workload_stack) if stack is not None]
    return Assembly(outdir, {stack.stack_name: assembly.get_stack_artifact(stack.artifact_id).template for stack in stacks})


@pytest.fixture(scope="module")
def everything_assembly(specs: dict[str, dict[str, Spec]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The everything app's one environment synthesized with the cdk-nag packs."""
    (spec,) = specs["everything"].values()
    outdir = tmp_path_factory.mktemp("cdk-copilot-everything")
    synthesize(spec, outdir, context=CLI_CONTEXT)
    return outdir


def _by_name(entries: list[Any], name: str) -> Any:
    (found,) = [entry for entry in entries if entry.name == name]
    return found


def _workload(spec: Spec, name: str) -> Any:
    (found,) = [w for w in (*spec.services, *spec.workers, *spec.jobs) if w.name == name]
    return found


def _lines(result: ImportResult, manifest: str, field: str | None = None) -> list[ReportLine]:
    return [line for line in result.report if line.manifest == manifest and (field is None or line.field == field)]


def _status(result: ImportResult, manifest: str, field: str) -> str:
    (line,) = _lines(result, manifest, field)
    return line.status


# --- 1. each workspace imports, validates and synthesizes nag-clean -----------------------------------------------


@pytest.mark.parametrize("name", GOOD)
def test_each_workspace_imports_into_a_spec_the_loader_accepts(name: str, specs: dict[str, dict[str, Spec]]) -> None:
    """The spec of every good workspace passes parse_specs (every structural and cross-field check), with one
    environment per Copilot environment manifest."""
    environments = sorted(p.parent.name for p in (WORKSPACES / name / "copilot" / "environments").glob("*/manifest.yml"))
    assert sorted(specs[name]) == environments


def test_the_shop_synthesizes_cdk_nag_clean_in_both_environments(shop_assembly: Assembly) -> None:
    """Both shop environments synthesize with the NIST, HIPAA, PCI and AwsSolutions packs and no finding left
    unacknowledged (synthesis raises on one; the report is read back to be sure), as the guide's stacks
    <app>-<env>-network and <app>-<env>-workloads."""
    report = json.loads((shop_assembly.outdir / "validation-report.json").read_text())
    assert nag_findings(report, "violations") == Counter()
    assert list(shop_assembly.templates) == ["shop-test-network", "shop-test-workloads", "shop-prod-network", "shop-prod-workloads"]


def test_the_shop_prod_template_has_the_schedule_the_filter_and_the_certificate(shop_assembly: Assembly) -> None:
    """Read back from prod's workload template: the job's EventBridge schedule in AWS's cron form, the worker's
    subscription with the filter policy, and the frontend's HTTPS listener with the environment manifest's
    certificate."""
    (schedule,) = shop_assembly.resources("shop-prod-workloads", "AWS::Scheduler::Schedule")
    assert schedule["ScheduleExpression"] == "cron(0 3 * * ? *)"
    (subscription,) = shop_assembly.resources("shop-prod-workloads", "AWS::SNS::Subscription")
    assert (subscription["Protocol"], subscription["FilterPolicy"]) == ("sqs", {"event": ["order_placed", "order_paid"]})
    listeners = shop_assembly.resources("shop-prod-workloads", "AWS::ElasticLoadBalancingV2::Listener")
    https = [listener for listener in listeners if listener["Protocol"] == "HTTPS"]
    assert [c["CertificateArn"] for listener in https for c in listener["Certificates"]] == [PROD_CERTIFICATE]
    test_listeners = shop_assembly.resources("shop-test-workloads", "AWS::ElasticLoadBalancingV2::Listener")
    assert {listener["Protocol"] for listener in test_listeners} == {"HTTP"}


def test_everything_synthesizes_cdk_nag_clean(everything_assembly: Path) -> None:
    """The workspace with every field family synthesizes with the cdk-nag packs and no unacknowledged finding."""
    report = json.loads((everything_assembly / "validation-report.json").read_text())
    assert nag_findings(report, "violations") == Counter()


def test_a_workspace_imports_from_its_copilot_folder_too(imported: dict[str, ImportResult]) -> None:
    """DIR may be the folder holding copilot/ or copilot/ itself: both give the same spec and report."""
    again = import_workspace(SHOP / "copilot")
    assert again.spec == imported["shop"].spec
    assert again.report == imported["shop"].report


def test_one_environment_gives_a_spec_of_that_environment_only() -> None:
    """environment="prod" writes `environment:` (not `environments:`), with prod's overrides already applied."""
    result = import_workspace(SHOP, environment="prod")
    assert "environments" not in result.spec
    assert result.spec["environment"]["name"] == "prod"
    (spec,) = parse_specs(result.spec, base_dir=SHOP)
    assert _workload(spec, "frontend").cpu == 512


# --- 2. the report names every field of every manifest ------------------------------------------------------------


def _leaves(node: Any, prefix: str = "") -> Iterator[str]:
    """Every leaf of a manifest as a dotted path: a scalar, a list (one field, as the report has it) or an empty
    mapping."""
    if isinstance(node, Mapping) and node:
        for key, value in node.items():
            yield from _leaves(value, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix


def _covers(reported: str, path: str) -> bool:
    """The report line of ``reported`` speaks for ``path``: the same field, one of its parents reported whole, or the
    whole file (field "")."""
    return reported == "" or path == reported or path.startswith(f"{reported}.")


class _CopilotYaml(yaml.SafeLoader):
    """Manifests read as Copilot reads them (YAML 1.2, Go's yaml.v3): only true and false are booleans, so a
    Scheduled Job's `on:` is the key "on", not True as YAML 1.1 (PyYAML's default) has it."""


_CopilotYaml.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_CopilotYaml.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _manifests(workspace: Path) -> dict[str, Any]:
    return {
        p.relative_to(workspace).as_posix(): yaml.load(p.read_text(), Loader=_CopilotYaml)
        for p in sorted(workspace.glob("copilot/**/manifest.yml"))
    }


@pytest.mark.parametrize("name", GOOD)
def test_the_report_covers_every_field_of_every_manifest(name: str, imported: dict[str, ImportResult]) -> None:
    """Issue 16 item 3: each leaf of each manifest (workload and environment) is covered by a report line of that
    manifest, naming the field itself or a parent section reported as a whole."""
    uncovered = {}
    for manifest, data in _manifests(WORKSPACES / name).items():
        fields = [line.field for line in _lines(imported[name], manifest)]
        missing = [path for path in _leaves(data) if not any(_covers(field, path) for field in fields)]
        if missing:
            uncovered[manifest] = missing
    assert uncovered == {}


@pytest.mark.parametrize("name", GOOD)
def test_every_report_line_names_a_field_the_manifest_has(name: str, imported: dict[str, ImportResult]) -> None:
    """No report line is invented: its manifest exists and its field is a path of that manifest (or a parent of
    one), with a status of the three and a note saying where it went, how or why."""
    manifests = _manifests(WORKSPACES / name)
    for line in imported[name].report:
        if line.manifest not in manifests:  # .workspace, an addon template, a pipeline: a file there is
            assert (WORKSPACES / name / line.manifest).is_file(), line
            continue
        paths = list(_leaves(manifests[line.manifest]))
        assert any(_covers(line.field, path) for path in paths), line
        assert line.status in ("mapped", "approximated", "not mapped"), line
        assert line.note.strip(), line


def test_the_rendered_report_groups_lines_by_manifest(imported: dict[str, ImportResult]) -> None:
    """The text on stdout names each manifest once, as a heading, with its fields below."""
    text = render_report(imported["shop"].report)
    headings = text.splitlines()
    for manifest in _manifests(SHOP):
        assert headings.count(manifest) == 1, manifest
    assert "schedule" in text and "approximated" in text


# --- 3. the migration guide's example, in detail ------------------------------------------------------------------


def test_shop_workload_types_map_to_their_kinds(specs: dict[str, dict[str, Spec]]) -> None:
    """Load Balanced Web Service -> a service behind a public ALB; Backend Service -> an internal service on Service
    Connect; Worker Service -> a worker with its own queue; Scheduled Job -> a job."""
    for spec in specs["shop"].values():
        assert sorted(s.name for s in spec.services) == ["api", "frontend"]
        frontend, api = _by_name(spec.services, "frontend"), _by_name(spec.services, "api")
        assert frontend.load_balancer is not None and frontend.load_balancer.public is True
        assert api.load_balancer is None
        assert spec.service_connect is not None
        assert [w.name for w in spec.workers] == ["fulfilment"]
        assert [j.name for j in spec.jobs] == ["nightly-report"]


def test_shop_frontend_keeps_its_build_port_health_check_and_scaling(specs: dict[str, dict[str, Spec]]) -> None:
    """image.build -> a build from the workspace's frontend/ folder; port 80; http.healthcheck -> health_check;
    count.range 2-10 with cpu_percentage 70 -> scaling 2..10 on CPU 70 %."""
    frontend = _by_name(specs["shop"]["test"].services, "frontend")
    (container,) = frontend.containers
    assert Path(str(container.image.build)).resolve() == (SHOP / "frontend").resolve()
    assert container.port == 80
    check = frontend.health_check
    assert (check.path, check.healthy_threshold, check.unhealthy_threshold) == ("/health", 2, 3)
    assert (check.interval_seconds, check.timeout_seconds, check.grace_period_seconds) == (15, 5, 60)
    prod = _by_name(specs["shop"]["prod"].services, "frontend")
    assert prod.scaling is not None and (prod.scaling.min_count, prod.scaling.max_count, prod.scaling.cpu_percent) == (3, 12, 60)


def test_shop_variables_and_secrets_are_the_containers(specs: dict[str, dict[str, Spec]]) -> None:
    """variables -> environment; an SSM name -> ssm_parameter with Copilot's ${COPILOT_*} names filled in per
    environment; a Secrets Manager ARN -> secrets_manager."""
    for env, spec in specs["shop"].items():
        (container,) = _by_name(spec.services, "frontend").containers
        assert container.environment["API_URL"] == "http://api:8080"
        assert container.secrets["STRIPE_API_KEY"].ssm_parameter == f"/copilot/shop/{env}/secrets/STRIPE_API_KEY"
        assert container.secrets["SESSION_KEY"].secrets_manager == SESSION_KEY
    assert _by_name(specs["shop"]["test"].services, "frontend").containers[0].environment["LOG_LEVEL"] == "debug"
    assert _by_name(specs["shop"]["prod"].services, "frontend").containers[0].environment["LOG_LEVEL"] == "info"


def test_shop_orders_topic_is_published_by_the_api_and_filtered_for_fulfilment(specs: dict[str, dict[str, Spec]]) -> None:
    """publish.topics of the api and subscribe.topics of the worker become one topic the platform owns: the api
    publishes, fulfilment's queue subscribes with the filter policy unchanged."""
    (topic,) = specs["shop"]["prod"].topics or []
    assert topic.name == "orders"
    assert topic.publishers == ["api"]
    (subscriber,) = topic.subscribers or []
    assert subscriber.worker == "fulfilment"
    assert subscriber.filter_policy == {"event": ["order_placed", "order_paid"]}


def test_shop_schedule_is_converted_and_timeout_and_retries_kept(specs: dict[str, dict[str, Spec]]) -> None:
    """on.schedule "0 3 * * *" (Unix cron, UTC) -> cron(0 3 * * ? *); timeout 1h -> 3600 s; retries 3."""
    job = _by_name(specs["shop"]["prod"].jobs, "nightly-report")
    assert job.schedule == "cron(0 3 * * ? *)"
    assert (job.timeout_seconds, job.retries) == (3600, 3)
    assert job.timezone in (None, "UTC")


def test_shop_environment_overrides_land_under_environments_overrides(imported: dict[str, ImportResult]) -> None:
    """Each manifest's environments.<env> section goes to that environment's overrides (named entries as a
    mapping by name): prod's bigger task sizes and counts, test's single tasks; the shared part keeps the defaults."""
    data = imported["shop"].spec
    environments = {entry["name"]: entry.get("overrides", {}) for entry in data["environments"]}
    assert list(environments) == ["test", "prod"], "delivery order: production last"
    prod = environments["prod"]
    assert (prod["services"]["frontend"]["cpu"], prod["services"]["frontend"]["memory"]) == (512, 1024)
    assert (prod["services"]["api"]["cpu"], prod["services"]["api"]["memory"]) == (1024, 2048)
    assert (prod["jobs"]["nightly-report"]["cpu"], prod["jobs"]["nightly-report"]["memory"]) == (1024, 2048)
    shared = {s["name"]: s for s in data["services"]}
    assert shared["frontend"].get("cpu", 256) == 256


def test_shop_environment_overrides_reach_each_environments_spec(specs: dict[str, dict[str, Spec]]) -> None:
    """The overrides apply: api runs 1 task in test, 2 by default, 3 in prod at 1 vCPU; the worker scales 2..20 in
    prod; the job's variable changes in prod."""
    test, prod = specs["shop"]["test"], specs["shop"]["prod"]
    assert _by_name(test.services, "api").desired_count == 1
    api = _by_name(prod.services, "api")
    assert (api.desired_count, api.cpu, api.memory) == (3, 1024, 2048)
    assert api.containers[0].environment["LOG_LEVEL"] == "warn"
    worker = _by_name(prod.workers, "fulfilment")
    assert (worker.min_count, worker.max_count) == (2, 20)
    assert _by_name(prod.jobs, "nightly-report").containers[0].environment["REPORT_BUCKET"] == "shop-reports-prod"


def test_shop_prod_serves_https_with_the_environments_certificate(specs: dict[str, dict[str, Spec]]) -> None:
    """The prod environment manifest's public certificate -> the frontend's ALB on HTTPS with it and the alias as
    its host; test (no certificate) stays on HTTP."""
    prod = _by_name(specs["shop"]["prod"].services, "frontend").load_balancer
    assert prod is not None and prod.https is True
    assert prod.certificate_arn == PROD_CERTIFICATE
    assert "shop.example.com" in (prod.hosts or [])
    test = _by_name(specs["shop"]["test"].services, "frontend").load_balancer
    assert test is not None and test.https is False


def test_shop_exec_grants_ecs_exec(specs: dict[str, dict[str, Spec]]) -> None:
    """exec: true -> the ecs_exec access entry (ECS Exec through Session Manager)."""
    for name in ("frontend", "api"):
        assert "ecs_exec" in {entry.type for entry in _by_name(specs["shop"]["prod"].services, name).access}


def _guide_block(heading: str, fence: str) -> str:
    """The first fenced block (```<fence>) after ``heading`` in docs/copilot-migration.md."""
    text = GUIDE.read_text()
    start = text.index(f"```{fence}\n", text.index(heading)) + len(fence) + 4
    return text[start : text.index("\n```", start)]


def test_the_migration_guide_shows_the_spec_the_importer_writes() -> None:
    """docs/copilot-migration.md pastes the spec `ecs-platform import copilot . --out specs/shop.yaml` writes: it is
    what the importer writes today (build paths relative to specs/), so the guide cannot go stale silently."""
    shown = yaml.safe_load(_guide_block("### The spec the importer writes", "yaml"))
    assert shown == import_workspace(SHOP, spec_dir=SHOP / "specs").spec


def test_the_migration_guides_report_excerpt_is_the_importers() -> None:
    """Every line of the guide's report excerpt is a line the importer prints for the shop (the excerpt leaves
    lines out, never changes one)."""
    printed = set(render_report(import_workspace(SHOP, spec_dir=SHOP / "specs").report).splitlines())
    excerpt = [line for line in _guide_block("### The report", "text").splitlines() if line.strip() not in ("", "...")]
    assert [line for line in excerpt if line not in printed] == ["wrote specs/shop.yaml"]


# --- 4. every field family, and what is not imported --------------------------------------------------------------


def test_request_driven_web_services_and_static_sites_are_reported_as_not_imported(imported: dict[str, ImportResult]) -> None:
    """App Runner (Request-Driven Web Service) and S3 + CloudFront (Static Site) are not ECS: each manifest gets a
    "not mapped" line saying so, and neither workload is in the spec."""
    result = imported["everything"]
    for manifest, why in (("copilot/hooks/manifest.yml", "App Runner"), ("copilot/landing/manifest.yml", "S3")):
        lines = _lines(result, manifest)
        assert lines and all(line.status == "not mapped" for line in lines), manifest
        assert any(why in line.note for line in lines), [line.note for line in lines]
    names = {w["name"] for kind in ("services", "workers", "jobs") for w in result.spec.get(kind, [])}
    assert names == {"web", "inventory", "events", "cleanup"}


def test_everything_maps_each_field_family(specs: dict[str, dict[str, Spec]]) -> None:
    """One look at each family of the issue in the spec: platform, Spot, sidecars and depends_on, FireLens,
    EFS by ID and managed, ephemeral storage, read-only root, tracing, container health check, Service Connect alias."""
    (spec,) = specs["everything"].values()
    web, inventory = _by_name(spec.services, "web"), _by_name(spec.services, "inventory")
    assert inventory.architecture == "arm64"
    assert "FARGATE_SPOT" in {c.provider for c in inventory.capacity}
    assert "FARGATE_SPOT" in {c.provider for c in web.capacity}
    containers = {c.name: c for c in web.containers}
    assert {"migrate", "cache"} <= set(containers)
    assert containers["migrate"].essential is False
    main = web.containers[0]
    assert (main.depends_on or {}) == {"migrate": "SUCCESS"}
    assert main.readonly_root_filesystem is True
    assert web.ephemeral_storage_gib == 50
    assert web.log_routing is not None and web.log_routing.destination == "cloudwatch"
    assert web.tracing == "xray" and inventory.tracing == "xray"
    volumes = {v.path: v for v in web.volumes or []}
    assert set(volumes) == {"/srv/assets", "/srv/uploads"}
    assert volumes["/srv/assets"].read_only is True
    stores = {s.name: s for s in spec.storage or []}
    existing = [s for s in stores.values() if getattr(s, "file_system_id", None) == "fs-0123456789abcdef0"]
    assert len(existing) == 1, "web and cleanup share one storage entry for the same file system"
    assert volumes["/srv/uploads"].efs in stores and getattr(stores[volumes["/srv/uploads"].efs], "file_system_id", None) is None
    assert inventory.containers[0].health_check is not None
    assert inventory.connect.name == "stock"
    assert web.load_balancer is not None and web.load_balancer.stickiness_seconds
    assert web.load_balancer.allowed_cidrs == ["203.0.113.0/24", "198.51.100.0/24"]
    assert web.health_check.healthy_http_codes == "200,301"
    assert web.health_check.grace_period_seconds == 120


def test_everything_worker_subscribes_to_two_publishers(specs: dict[str, dict[str, Spec]]) -> None:
    """Topics published by a service (web) and another (inventory) reach the worker; only orders has a filter."""
    (spec,) = specs["everything"].values()
    topics = {t.name: t for t in spec.topics or []}
    assert topics["orders"].publishers == ["web"]
    assert topics["stock-levels"].publishers == ["inventory"]
    assert [(s.worker, s.filter_policy) for s in topics["orders"].subscribers or []] == [("events", {"event": ["order_placed"]})]
    assert [s.worker for s in topics["stock-levels"].subscribers or []] == ["events"]


def test_everything_job_runs_every_thirty_minutes(specs: dict[str, dict[str, Spec]]) -> None:
    """on.schedule "@every 30m" -> rate(30 minutes); timeout 20m -> 1200 s."""
    (spec,) = specs["everything"].values()
    job = _by_name(spec.jobs, "cleanup")
    assert job.schedule == "rate(30 minutes)"
    assert (job.timeout_seconds, job.retries) == (1200, 2)


@pytest.mark.parametrize(
    ("manifest", "field"),
    [
        ("copilot/web/manifest.yml", "secrets.SEARCH_API_KEY"),  # a CloudFormation export: no value at import time
        ("copilot/web/manifest.yml", "network.vpc.security_groups"),  # the platform owns each workload's group
        ("copilot/web/manifest.yml", "taskdef_overrides"),
        ("copilot/web/manifest.yml", "http.deregistration_delay"),
        ("copilot/environments/staging/manifest.yml", "network.vpc.flow_logs"),
    ],
)
def test_fields_the_platform_models_differently_are_reported_with_a_reason(
    manifest: str, field: str, imported: dict[str, ImportResult]
) -> None:
    """A field that does not map one to one is "approximated" or "not mapped", never "mapped", with a note saying
    how or why (and what to write instead)."""
    (line,) = [line for line in _lines(imported["everything"], manifest) if _covers(line.field, field)]
    assert line.status in ("approximated", "not mapped"), line
    assert len(line.note) > 20, line


@pytest.mark.parametrize(
    ("name", "manifest", "field", "status"),
    [
        ("shop", "copilot/nightly-report/manifest.yml", "on.schedule", "mapped"),
        ("shop", "copilot/frontend/manifest.yml", "environments.prod.http.alias", "approximated"),
        ("shop", "copilot/fulfilment/manifest.yml", "exec", "not mapped"),
        ("shop", "copilot/api/manifest.yml", "exec", "mapped"),
        ("everything", "copilot/web/manifest.yml", "count.range.spot_from", "approximated"),
        ("everything", "copilot/web/manifest.yml", "storage.volumes.uploads.efs", "approximated"),
        ("everything", "copilot/web/manifest.yml", "secrets.DB_PASSWORD", "not mapped"),
        ("everything", "copilot/web/manifest.yml", "logging.retention", "approximated"),
        ("everything", "copilot/inventory/manifest.yml", "platform", "mapped"),
        ("everything", "copilot/inventory/manifest.yml", "count.spot", "mapped"),
        ("everything", "copilot/hooks/manifest.yml", "type", "not mapped"),
    ],
)
def test_the_statuses_the_migration_guide_states(
    name: str, manifest: str, field: str, status: str, imported: dict[str, ImportResult]
) -> None:
    """The status docs/copilot-migration.md gives a field (its mapping and "not imported" tables) is the report's."""
    assert _status(imported[name], manifest, field) == status


# --- 5. bad workspaces are refused cleanly -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "names"),
    [
        ("no-copilot-folder", "copilot/"),
        ("malformed", "copilot/api/manifest.yml"),
        ("unknown-type", "Lambda Function"),
    ],
)
def test_a_bad_workspace_raises_an_import_error_that_says_what_is_wrong(name: str, names: str) -> None:
    """A missing copilot/ folder, malformed YAML and an unknown manifest type raise CopilotImportError whose
    message names the folder, the file (with the YAML error's line) or the type."""
    with pytest.raises(CopilotImportError) as error:
        import_workspace(WORKSPACES / name)
    assert names in str(error.value)
    if name == "malformed":
        assert "line 11" in str(error.value)
    if name == "unknown-type":
        assert "copilot/resize/manifest.yml" in str(error.value)


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ecs_platform.cli", "import", "copilot", *map(str, args)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.integration
def test_the_cli_writes_the_spec_of_one_environment_and_prints_the_report(tmp_path: Path) -> None:
    """`ecs-platform import copilot shop --out spec.yaml --env prod` exits 0, prints the report and writes a spec
    that load_specs reads back from where it was written (the build context resolves from the file)."""
    out = tmp_path / "spec.yaml"
    done = _cli(SHOP, "--out", out, "--env", "prod")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "copilot/frontend/manifest.yml" in done.stdout and "mapped" in done.stdout
    (spec,) = load_specs(out)
    assert spec.environment.name == "prod"
    frontend = _by_name(spec.services, "frontend")
    assert frontend.cpu == 512
    assert frontend.containers[0].secrets["STRIPE_API_KEY"].ssm_parameter == "/copilot/shop/prod/secrets/STRIPE_API_KEY"


@pytest.mark.integration
@pytest.mark.parametrize("name", BAD)
def test_the_cli_refuses_a_bad_workspace_without_a_traceback_or_a_file(name: str, tmp_path: Path) -> None:
    """Exit 1, "error: ..." on stderr, no traceback, nothing written."""
    out = tmp_path / "spec.yaml"
    done = _cli(WORKSPACES / name, "--out", out)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.startswith("error: ") or "\nerror: " in done.stderr, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert not out.exists()
