"""The Copilot importer field family by field family (issue 16): small manifests written into a temporary
workspace, imported, and checked for the spec fields they become and the report line each field gets (mapped,
approximated and how, not mapped and why). Also the schedule conversion table, the errors that stop an import,
and the command's exit codes (nothing is written on error). The realistic workspaces and their synthesis are in
test_import_workspaces.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ecs_platform.cli import main as cli
from ecs_platform.copilot import CopilotImportError, ImportResult, ReportLine, import_workspace, render_report
from ecs_platform.copilot.report import UNKNOWN_FIELD, covers, leaves
from ecs_platform.copilot.values import nearest_fargate_size, schedule
from ecs_platform.spec import Spec, parse_specs

IMAGE = {"location": "public.ecr.aws/nginx/nginx-unprivileged:1.27", "port": 8080}
CERT = "arn:aws:acm:ap-northeast-1:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
SM_ARN = "arn:aws:secretsmanager:ap-northeast-1:111122223333:secret:db-AbCdEf"


def workspace(root: Path, workloads: dict[str, dict[str, Any]], environments: dict[str, dict[str, Any]] | None = None) -> Path:
    """A Copilot workspace named demo: each workload's manifest (name filled in) and each environment's."""
    (root / "copilot").mkdir(parents=True)
    (root / "copilot" / ".workspace").write_text("application: demo\n")
    for name, manifest in workloads.items():
        (root / "copilot" / name).mkdir()
        (root / "copilot" / name / "manifest.yml").write_text(yaml.safe_dump({"name": name, **manifest}))
    for name, manifest in (environments if environments is not None else {"dev": {}}).items():
        (root / "copilot" / "environments" / name).mkdir(parents=True)
        (root / "copilot" / "environments" / name / "manifest.yml").write_text(
            yaml.safe_dump({"name": name, "type": "Environment", **manifest})
        )
    return root


def web(**fields: Any) -> dict[str, Any]:
    return {"type": "Load Balanced Web Service", "image": dict(IMAGE), "http": {"path": "/"}, **fields}


def backend(**fields: Any) -> dict[str, Any]:
    return {"type": "Backend Service", "image": dict(IMAGE), **fields}


def worker(**fields: Any) -> dict[str, Any]:
    return {"type": "Worker Service", "image": {"location": "public.ecr.aws/docker/library/busybox:stable"}, **fields}


def job(**fields: Any) -> dict[str, Any]:
    return {
        "type": "Scheduled Job",
        "image": {"location": "public.ecr.aws/docker/library/busybox:stable"},
        "on": {"schedule": "@daily"},
        **fields,
    }


def imported(
    tmp_path: Path, workloads: dict[str, dict[str, Any]], environments: dict[str, dict[str, Any]] | None = None, **kw: Any
) -> ImportResult:
    return import_workspace(workspace(tmp_path / "ws", workloads, environments), **kw)


def specs(result: ImportResult, tmp_path: Path) -> dict[str, Spec]:
    """The imported spec validated as the loader reads it: one Spec per environment."""
    return {s.environment.name: s for s in parse_specs(result.spec, base_dir=tmp_path / "ws")}


def line(result: ImportResult, workload: str, field: str) -> ReportLine:
    path = f"copilot/{workload}/manifest.yml"
    (found,) = [r for r in result.report if r.manifest == path and r.field == field]
    return found


def entry(result: ImportResult, kind: str, name: str) -> dict[str, Any]:
    (found,) = [e for e in result.spec[kind] if e["name"] == name]
    assert isinstance(found, dict)
    return found


# --- schedules ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("copilot", "expected"),
    [
        ("@hourly", "cron(0 * * * ? *)"),
        ("@daily", "cron(0 0 * * ? *)"),
        ("@weekly", "cron(0 0 ? * 1 *)"),
        ("@monthly", "cron(0 0 1 * ? *)"),
        ("@yearly", "cron(0 0 1 1 ? *)"),
        ("@every 30m", "rate(30 minutes)"),
        ("@every 1m", "rate(1 minute)"),
        ("@every 2h", "rate(2 hours)"),
        ("@every 1h30m", "rate(90 minutes)"),
        ("0 3 * * *", "cron(0 3 * * ? *)"),
        ("0 9 * * 1-5", "cron(0 9 ? * 2-6 *)"),
        ("0 0 * * 0", "cron(0 0 ? * 1 *)"),
        ("0 0 * * 7", "cron(0 0 ? * 1 *)"),
        ("0 0 1 * *", "cron(0 0 1 * ? *)"),
        ("*/15 * * * *", "cron(*/15 * * * ? *)"),
        ("rate(5 minutes)", "rate(5 minutes)"),
        ("cron(0 12 * * ? *)", "cron(0 12 * * ? *)"),
    ],
)
def test_copilot_schedules_become_eventbridge_expressions(copilot: str, expected: str) -> None:
    """USE-3: presets, @every, 5-field Unix cron (day-of-week 0-7 -> 1-7, '?' where EventBridge needs one) and
    EventBridge's own expressions convert to what the job's schedule accepts."""
    assert schedule(copilot)[0] == expected


@pytest.mark.parametrize("copilot", ["0 0 1 * 1", "@every 30s", "0 0 * *", "@every soon"])
def test_schedules_eventbridge_cannot_say_are_refused_with_a_reason(copilot: str) -> None:
    """Both day fields set, sub-minute rates, wrong field counts: no expression, and a reason."""
    expression, why = schedule(copilot)
    assert expression is None and why


def test_a_disabled_schedule_makes_an_on_demand_job(tmp_path: Path) -> None:
    """on.schedule none -> no schedule (run-task starts it); timeout and retries then supervise nothing: not mapped."""
    result = imported(tmp_path, {"batch": job(on={"schedule": "none"}, retries=2)})
    assert "schedule" not in entry(result, "jobs", "batch")
    assert line(result, "batch", "on.schedule").status == "mapped"
    assert line(result, "batch", "retries").status == "not mapped"
    specs(result, tmp_path)


def test_jobs_keep_timeout_and_retries_within_the_specs_range(tmp_path: Path) -> None:
    """timeout 1h -> 3600 s (mapped); 30s is below the spec's minute: 60 (approximated); retries 3 kept."""
    result = imported(tmp_path, {"a": job(timeout="1h", retries=3), "b": job(timeout="30s")})
    assert (entry(result, "jobs", "a")["timeout_seconds"], entry(result, "jobs", "a")["retries"]) == (3600, 3)
    assert entry(result, "jobs", "b")["timeout_seconds"] == 60
    assert line(result, "b", "timeout").status == "approximated"
    specs(result, tmp_path)


def test_the_yaml_keyword_on_is_a_key_as_copilot_reads_it(tmp_path: Path) -> None:
    """Copilot reads YAML 1.2: `on:` is the key of the schedule, not the boolean True."""
    root = workspace(tmp_path / "ws", {})
    (root / "copilot" / "nightly").mkdir()
    (root / "copilot" / "nightly" / "manifest.yml").write_text(
        "name: nightly\ntype: Scheduled Job\nimage:\n  location: busybox:stable\non:\n  schedule: '@daily'\n"
    )
    result = import_workspace(root)
    assert entry(result, "jobs", "nightly")["schedule"] == "cron(0 0 * * ? *)"


# --- workload kinds and traffic ---------------------------------------------------------------------------------


def test_a_web_service_gets_a_public_alb_over_http_without_a_certificate(tmp_path: Path) -> None:
    """USE-1: Load Balanced Web Service -> a service with a public ALB of its own; no certificate in the environment:
    https false, and the type's line says so (approximated)."""
    result = imported(tmp_path, {"web": web()})
    assert entry(result, "services", "web")["load_balancer"] == {"public": True, "https": False}
    assert line(result, "web", "type").status == "approximated"
    assert "HTTP only" in line(result, "web", "type").note
    specs(result, tmp_path)


def test_an_environments_certificate_turns_https_on_in_that_environment_only(tmp_path: Path) -> None:
    """http.public.certificates of an environment manifest -> https and certificate_arn in its overrides; the other
    environment stays on HTTP; the environment manifest's line names the load balancers."""
    result = imported(tmp_path, {"web": web()}, {"dev": {}, "prod": {"http": {"public": {"certificates": [CERT]}}}})
    prod = next(e for e in result.spec["environments"] if e["name"] == "prod")
    assert prod["overrides"]["services"]["web"]["load_balancer"] == {"https": True, "certificate_arn": CERT}
    found = specs(result, tmp_path)
    assert found["dev"].services[0].load_balancer.https is False  # type: ignore[union-attr]
    assert found["prod"].services[0].load_balancer.certificate_arn == CERT  # type: ignore[union-attr]
    (cert_line,) = [r for r in result.report if r.field == "http.public.certificates"]
    assert cert_line.status == "mapped"


def test_http_paths_health_checks_and_stickiness_map_to_the_load_balancer(tmp_path: Path) -> None:
    """http.path -> paths (the path and below), healthcheck -> health_check (durations in seconds), stickiness ->
    one day of cookie (approximated), deregistration_delay -> not mapped (the spec has no field), alias -> hosts
    (approximated: no DNS record)."""
    http = {
        "path": "api",
        "healthcheck": {
            "path": "/health",
            "success_codes": "200,301",
            "interval": "15s",
            "timeout": "10s",
            "grace_period": "2m",
            "healthy_threshold": 3,
            "unhealthy_threshold": 2,
            "port": 8081,
        },
        "stickiness": True,
        "deregistration_delay": "30s",
        "alias": "api.example.com",
        "allowed_source_ips": ["203.0.113.0/24"],
    }
    result = imported(tmp_path, {"web": web(http=http)})
    service = entry(result, "services", "web")
    assert service["load_balancer"]["paths"] == ["/api", "/api/*"]
    assert service["load_balancer"]["hosts"] == ["api.example.com"]
    assert service["load_balancer"]["stickiness_seconds"] == 86400
    assert service["load_balancer"]["allowed_cidrs"] == ["203.0.113.0/24"]
    assert service["health_check"] == {
        "path": "/health",
        "healthy_http_codes": "200,301",
        "interval_seconds": 15,
        "timeout_seconds": 10,
        "grace_period_seconds": 120,
        "healthy_threshold": 3,
        "unhealthy_threshold": 2,
    }
    statuses = {
        f: line(result, "web", f).status for f in ("http.stickiness", "http.alias", "http.deregistration_delay", "http.healthcheck.port")
    }
    assert statuses == {
        "http.stickiness": "approximated",
        "http.alias": "approximated",
        "http.deregistration_delay": "not mapped",
        "http.healthcheck.port": "not mapped",
    }
    specs(result, tmp_path)


def test_a_backend_service_is_called_through_service_connect_by_every_other_workload(tmp_path: Path) -> None:
    """ARCH-7: Backend Service -> an internal service in the <app>.local namespace; its callers are every other
    service and worker (approximated: Copilot let any of them call it, SEC-2 wants the list narrowed)."""
    result = imported(tmp_path, {"api": backend(), "web": web(), "jobs": worker()})
    assert result.spec["service_connect"] == {"namespace": "demo.local"}
    api = entry(result, "services", "api")
    assert "load_balancer" not in api
    assert sorted(api["connect"]["callers"]) == ["jobs", "web"]
    assert line(result, "api", "type").status == "approximated" and "narrow" in line(result, "api", "type").note
    specs(result, tmp_path)


def test_a_backend_service_nobody_could_call_gets_an_internal_alb(tmp_path: Path) -> None:
    """With no other service or worker, Service Connect would admit no one: an internal ALB over HTTP instead."""
    result = imported(tmp_path, {"api": backend(), "nightly": job()})
    assert entry(result, "services", "api")["load_balancer"] == {"public": False, "https": False}
    specs(result, tmp_path)


def test_a_backend_service_with_http_gets_an_internal_alb_and_its_connect_alias(tmp_path: Path) -> None:
    """Backend Service with http -> an internal ALB; network.connect.alias -> connect.name."""
    result = imported(tmp_path, {"api": backend(http={"path": "/"}, network={"connect": {"alias": "orders"}}), "web": web()})
    api = entry(result, "services", "api")
    assert api["load_balancer"]["public"] is False
    assert api["connect"]["name"] == "orders"
    specs(result, tmp_path)


@pytest.mark.parametrize(
    ("count", "expected", "status"),
    [
        (3, {"desired_count": 3}, "mapped"),
        ({"spot": 2}, {"desired_count": 2, "capacity": [{"provider": "FARGATE_SPOT"}]}, "mapped"),
        (
            {"range": "1-10", "cpu_percentage": 70},
            {"desired_count": 1, "scaling": {"min_count": 1, "max_count": 10, "cpu_percent": 70}},
            "mapped",
        ),
        (
            {"range": "2-6", "memory_percentage": 80, "requests": 500},
            {"scaling": {"min_count": 2, "max_count": 6, "memory_percent": 80, "requests_per_task": 500, "cpu_percent": None}},
            "mapped",
        ),
    ],
)
def test_a_services_count_becomes_its_tasks_capacity_and_scaling(tmp_path: Path, count: Any, expected: dict[str, Any], status: str) -> None:
    """ARCH-3/ARCH-5: count -> desired_count; spot -> FARGATE_SPOT; a range and its targets -> scaling (only the
    targets Copilot tracked: cpu_percent null when it named none)."""
    result = imported(tmp_path, {"web": web(count=count)})
    service = entry(result, "services", "web")
    assert {k: service[k] for k in expected} == expected
    first = next(r for r in result.report if r.manifest == "copilot/web/manifest.yml" and r.field.startswith("count"))
    assert first.status == status
    specs(result, tmp_path)


def test_spot_from_becomes_a_capacity_strategy_and_response_time_is_approximated(tmp_path: Path) -> None:
    """range.spot_from 3 -> FARGATE base 2 weight 0, FARGATE_SPOT weight 1 (approximated); response_time is no
    target here (approximated); cooldowns are the platform's (not mapped)."""
    count = {"range": {"min": 1, "max": 8, "spot_from": 3}, "cpu_percentage": 60, "response_time": "2s", "cooldown": {"in": "30s"}}
    result = imported(tmp_path, {"web": web(count=count)})
    assert entry(result, "services", "web")["capacity"] == [
        {"provider": "FARGATE", "base": 2, "weight": 0},
        {"provider": "FARGATE_SPOT", "weight": 1},
    ]
    assert [line(result, "web", f).status for f in ("count.range.spot_from", "count.response_time", "count.cooldown")] == [
        "approximated",
        "approximated",
        "not mapped",
    ]
    specs(result, tmp_path)


def test_production_runs_at_least_two_tasks_of_each_service(tmp_path: Path) -> None:
    """HA-3: an environment named prod is production; count 1 there becomes 2 (approximated, said on the count line)."""
    result = imported(tmp_path, {"web": web(count=1)}, {"dev": {}, "prod": {}})
    prod = next(e for e in result.spec["environments"] if e["name"] == "prod")
    assert prod["production"] is True
    assert prod["overrides"]["services"]["web"]["desired_count"] == 2
    assert "in prod" in line(result, "web", "count").note and line(result, "web", "count").status == "approximated"
    assert specs(result, tmp_path)["prod"].services[0].desired_count == 2


def test_deployment_rolling_recreate_and_rollback_alarms(tmp_path: Path) -> None:
    """recreate -> rolling 0/100 %; rollback_alarms -> not mapped (the circuit breaker rolls back)."""
    result = imported(tmp_path, {"web": web(deployment={"rolling": "recreate", "rollback_alarms": ["high-cpu"]})})
    assert entry(result, "services", "web")["deployment"] == {"strategy": "rolling", "min_healthy_percent": 0, "max_healthy_percent": 100}
    assert line(result, "web", "deployment.rollback_alarms").status == "not mapped"
    specs(result, tmp_path)


# --- workers and topics -----------------------------------------------------------------------------------------


def test_a_worker_subscribes_to_its_publishers_topic_with_the_filter_it_can_keep(tmp_path: Path) -> None:
    """publish.topics -> a topic with the service as publisher; subscribe.topics -> the worker a subscriber in the SNS
    envelope, with exact-string filters kept and operator filters dropped (approximated: more messages, never fewer)."""
    subscribe = {
        "topics": [{"name": "orders", "service": "api", "filter_policy": {"event": ["placed"], "price": [{"numeric": [">=", 100]}]}}],
        "queue": {"timeout": "2m", "dead_letter": {"tries": 7}, "retention": "96h"},
    }
    result = imported(tmp_path, {"api": web(publish={"topics": [{"name": "orders"}]}), "fulfil": worker(subscribe=subscribe)})
    (topic,) = result.spec["topics"]
    assert topic == {
        "name": "orders",
        "publishers": ["api"],
        "subscribers": [{"worker": "fulfil", "raw_message_delivery": False, "filter_policy": {"event": ["placed"]}}],
    }
    assert entry(result, "workers", "fulfil")["queue"] == {"visibility_timeout_seconds": 120, "max_receive_count": 7}
    assert line(result, "fulfil", "subscribe.topics").status == "approximated"
    assert line(result, "fulfil", "subscribe.queue.retention").status == "not mapped"
    specs(result, tmp_path)


def test_topics_of_the_same_name_are_told_apart_by_their_service(tmp_path: Path) -> None:
    """Copilot names a topic by service and name: two services' "events" become api-events and web-events."""
    result = imported(
        tmp_path, {"api": web(publish={"topics": [{"name": "events"}]}), "web": web(publish={"topics": [{"name": "events"}]})}
    )
    assert sorted(t["name"] for t in result.spec["topics"]) == ["api-events", "web-events"]


def test_a_workers_count_and_queue_delay_become_its_range_and_backlog(tmp_path: Path) -> None:
    """range 0-5 -> min 0 with scale_to_zero; queue_delay 1m / 250ms -> 240 messages a task; cpu targets approximated."""
    count = {"range": "0-5", "queue_delay": {"acceptable_latency": "1m", "msg_processing_time": "250ms"}, "cpu_percentage": 50}
    result = imported(tmp_path, {"q": worker(count=count)})
    found = entry(result, "workers", "q")
    assert (found["min_count"], found["max_count"], found["scale_to_zero"], found["backlog_per_task"]) == (0, 5, True, 240)
    assert line(result, "q", "count.cpu_percentage").status == "approximated"
    specs(result, tmp_path)


def test_exec_is_granted_to_services_only(tmp_path: Path) -> None:
    """exec: true -> the ecs_exec access entry on a service; on a worker it is not mapped, with why."""
    result = imported(tmp_path, {"web": web(exec=True), "q": worker(exec=True)})
    assert entry(result, "services", "web")["access"] == [{"type": "ecs_exec"}]
    assert line(result, "q", "exec").status == "not mapped"
    specs(result, tmp_path)


# --- containers -------------------------------------------------------------------------------------------------


def test_image_build_paths_become_relative_to_the_spec_file(tmp_path: Path) -> None:
    """image.build (a Dockerfile path, relative to the workspace) -> {build: its folder} relative to spec_dir; the map
    form keeps dockerfile, target and args."""
    ws = workspace(
        tmp_path / "ws",
        {
            "a": web(image={"build": "a/Dockerfile", "port": 80}),
            "b": web(image={"build": {"context": "b", "dockerfile": "b/Dockerfile.prod", "target": "run", "args": {"V": 1}}, "port": 80}),
        },
    )
    result = import_workspace(ws, spec_dir=tmp_path / "out")
    assert entry(result, "services", "a")["containers"][0]["image"] == {"build": "../ws/a"}
    assert entry(result, "services", "b")["containers"][0]["image"] == {
        "build": "../ws/b",
        "dockerfile": "Dockerfile.prod",
        "target": "run",
        "build_args": {"V": "1"},
    }


@pytest.mark.parametrize(("cpu", "memory", "expected"), [(256, 512, (256, 512)), (1024, 512, (1024, 2048)), (300, 600, (512, 1024))])
def test_task_sizes_fargate_does_not_run_become_the_nearest_one(cpu: int, memory: int, expected: tuple[int, int]) -> None:
    """A CPU/memory pair Fargate refuses becomes the nearest valid size that is no smaller."""
    assert nearest_fargate_size(cpu, memory) == expected


def test_an_invalid_task_size_is_approximated(tmp_path: Path) -> None:
    result = imported(tmp_path, {"web": web(cpu=1024, memory=512)})
    assert (entry(result, "services", "web")["cpu"], entry(result, "services", "web")["memory"]) == (1024, 2048)
    assert line(result, "web", "memory").status == "approximated"
    specs(result, tmp_path)


@pytest.mark.parametrize(
    ("platform", "status", "arch"),
    [("linux/arm64", "mapped", "arm64"), ("linux/x86_64", "mapped", None), ("windows/x86_64", "not mapped", None)],
)
def test_platform_becomes_the_architecture_and_windows_is_refused(tmp_path: Path, platform: str, status: str, arch: str | None) -> None:
    result = imported(tmp_path, {"web": web(platform=platform)})
    assert line(result, "web", "platform").status == status
    assert entry(result, "services", "web").get("architecture") == arch


def test_variables_that_look_secret_are_not_mapped_and_say_where_they_belong(tmp_path: Path) -> None:
    """SEC-4: variables -> environment (values as strings); DB_PASSWORD would be refused by the spec: not mapped,
    with the advice to move it under secrets; an export (from_cfn) is not mapped either."""
    variables = {"LOG_LEVEL": "info", "WORKERS": 4, "DEBUG": False, "DB_PASSWORD": "x", "TABLE": {"from_cfn": "demo-table"}}
    result = imported(tmp_path, {"web": web(variables=variables)})
    assert entry(result, "services", "web")["containers"][0]["environment"] == {"LOG_LEVEL": "info", "WORKERS": "4", "DEBUG": "false"}
    assert line(result, "web", "variables.DB_PASSWORD").status == "not mapped"
    assert "secrets" in line(result, "web", "variables.DB_PASSWORD").note
    assert line(result, "web", "variables.TABLE").status == "not mapped"
    specs(result, tmp_path)


def test_secrets_from_ssm_and_secrets_manager(tmp_path: Path) -> None:
    """SSM names and ARNs -> ssm_parameter; a Secrets Manager ARN -> secrets_manager; a Secrets Manager name is not
    mapped (the spec needs the ARN with its suffix), nor an export."""
    secrets = {
        "TOKEN": "GH_TOKEN",
        "DB": SM_ARN,
        "NAMED": {"secretsmanager": "db:password::"},
        "CFN": {"from_cfn": "x"},
        "SSM_ARN": "arn:aws:ssm:ap-northeast-1:111122223333:parameter/demo/x",
    }
    result = imported(tmp_path, {"web": web(secrets=secrets)})
    assert entry(result, "services", "web")["containers"][0]["secrets"] == {
        "TOKEN": {"ssm_parameter": "GH_TOKEN"},
        "DB": {"secrets_manager": SM_ARN},
        "SSM_ARN": {"ssm_parameter": "arn:aws:ssm:ap-northeast-1:111122223333:parameter/demo/x"},
    }
    assert [line(result, "web", f"secrets.{n}").status for n in ("NAMED", "CFN")] == ["not mapped", "not mapped"]
    assert "arn:aws:secretsmanager" in line(result, "web", "secrets.NAMED").note
    specs(result, tmp_path)


def test_copilot_names_in_manifests_are_filled_in_per_environment(tmp_path: Path) -> None:
    """${COPILOT_APPLICATION_NAME} and ${COPILOT_ENVIRONMENT_NAME} are interpolated as Copilot does, each
    environment getting its own parameter name."""
    secrets = {"KEY_ID": "/copilot/${COPILOT_APPLICATION_NAME}/${COPILOT_ENVIRONMENT_NAME}/secrets/KEY_ID"}
    found = specs(imported(tmp_path, {"web": web(secrets=secrets)}, {"dev": {}, "qa": {}}), tmp_path)
    assert {env: s.services[0].containers[0].secrets["KEY_ID"].ssm_parameter for env, s in found.items()} == {
        "dev": "/copilot/demo/dev/secrets/KEY_ID",
        "qa": "/copilot/demo/qa/secrets/KEY_ID",
    }


def test_sidecars_become_more_containers(tmp_path: Path) -> None:
    """sidecars -> containers after the main one (Copilot's essential default kept), ports with protocols, and the
    main container's depends_on in ECS's upper case; a camelCase name is lowercased (approximated)."""
    sidecars = {
        "migrate": {"image": "busybox:stable", "essential": False, "command": "sh -c 'echo ok'"},
        "statsAgent": {"image": "statsd:1", "port": "8125/udp"},
    }
    result = imported(tmp_path, {"web": web(sidecars=sidecars, image={**IMAGE, "depends_on": {"migrate": "success"}})})
    containers = entry(result, "services", "web")["containers"]
    assert [c["name"] for c in containers] == ["web", "migrate", "stats-agent"]
    assert containers[0]["depends_on"] == {"migrate": "SUCCESS"}
    assert containers[1]["essential"] is False and containers[1]["command"] == ["sh", "-c", "echo ok"]
    assert (containers[2]["port"], containers[2]["protocol"]) == (8125, "udp")
    assert line(result, "web", "sidecars.statsAgent.image").status == "approximated"
    specs(result, tmp_path)


def test_a_container_health_check_keeps_copilots_intervals(tmp_path: Path) -> None:
    """image.healthcheck -> health_check with Copilot's defaults written out (10 s, 2 retries), not ECS's."""
    result = imported(tmp_path, {"web": web(image={**IMAGE, "healthcheck": {"command": ["CMD-SHELL", "true"], "start_period": "30s"}})})
    assert entry(result, "services", "web")["containers"][0]["health_check"] == {
        "command": ["CMD-SHELL", "true"],
        "interval_seconds": 10,
        "retries": 2,
        "timeout_seconds": 5,
        "start_period_seconds": 30,
    }


# --- task families ----------------------------------------------------------------------------------------------


def test_storage_volumes_become_file_system_stores_and_volumes(tmp_path: Path) -> None:
    """storage.ephemeral -> ephemeral_storage_gib; readonly_fs -> readonly_root_filesystem; an EFS ID -> a store with
    file_system_id (root_dir not mapped); efs: true -> a new store (approximated: data not moved); an empty volume ->
    a writable scratch path (approximated)."""
    storage = {
        "ephemeral": 50,
        "readonly_fs": True,
        "volumes": {
            "assets": {"path": "/srv/assets", "efs": {"id": "fs-0123456789abcdef0", "root_dir": "/assets"}},
            "uploads": {"path": "/srv/uploads", "read_only": False, "efs": True},
            "scratch": {"path": "/var/scratch"},
        },
    }
    result = imported(tmp_path, {"web": web(storage=storage)})
    service = entry(result, "services", "web")
    assert service["ephemeral_storage_gib"] == 50 and service["containers"][0]["readonly_root_filesystem"] is True
    assert service["volumes"] == [
        {"name": "assets", "path": "/srv/assets", "read_only": True, "efs": "assets"},
        {"name": "uploads", "path": "/srv/uploads", "read_only": False, "efs": "web-uploads"},
    ]
    assert result.spec["storage"] == [
        {"name": "assets", "type": "efs", "file_system_id": "fs-0123456789abcdef0", "subnets": "web"},
        {"name": "web-uploads", "type": "efs", "subnets": "web"},
    ]
    assert "/var/scratch" in service["containers"][0]["writable_paths"]
    statuses = [
        line(result, "web", f).status
        for f in ("storage.volumes.assets.efs.root_dir", "storage.volumes.uploads.efs", "storage.volumes.scratch")
    ]
    assert statuses == ["not mapped", "approximated", "approximated"]
    specs(result, tmp_path)


@pytest.mark.parametrize(
    ("destination", "routing", "status"),
    [
        ({"Name": "cloudwatch"}, {"destination": "cloudwatch"}, "mapped"),
        ({"Name": "firehose", "delivery_stream": "logs"}, {"destination": "firehose", "delivery_stream": "logs"}, "mapped"),
        ({"Name": "s3", "bucket": "old-logs"}, {"destination": "s3", "bucket": "web-logs"}, "approximated"),
        ({"Name": "datadog", "apikey": "x"}, None, "not mapped"),
    ],
)
def test_firelens_destinations_become_log_routing(tmp_path: Path, destination: dict[str, Any], routing: Any, status: str) -> None:
    """logging.destination's Name -> log_routing: cloudwatch, firehose as they are; s3 to a bucket the platform owns
    (approximated); other outputs not mapped (awslogs to CloudWatch). The retention is the platform's (approximated)."""
    result = imported(tmp_path, {"web": web(logging={"destination": destination, "retention": 30})})
    assert entry(result, "services", "web").get("log_routing") == routing
    assert line(result, "web", "logging.destination").status == status
    assert line(result, "web", "logging.retention").status == "approximated"
    specs(result, tmp_path)


def test_network_placement_and_security_groups(tmp_path: Path) -> None:
    """SEC-1: public placement -> the private subnets all the same (approximated); security groups -> not mapped
    (each workload has its own: egress: and connect.callers instead)."""
    result = imported(tmp_path, {"web": web(network={"vpc": {"placement": "public", "security_groups": ["sg-0123456789abcdef0"]}})})
    assert line(result, "web", "network.vpc.placement").status == "approximated"
    assert line(result, "web", "network.vpc.security_groups").status == "not mapped"
    assert "egress" in line(result, "web", "network.vpc.security_groups").note


def test_tracing_and_task_definition_overrides(tmp_path: Path) -> None:
    """observability.tracing awsxray -> tracing xray; taskdef_overrides -> overrides.task_definition with indexes
    as path parts; an append ('[-]') has no equivalent (approximated with the rest kept)."""
    rules = [{"path": "ContainerDefinitions[0].StartTimeout", "value": 120}, {"path": "ContainerDefinitions[0].Ulimits[-]", "value": {}}]
    result = imported(tmp_path, {"web": web(observability={"tracing": "awsxray"}, taskdef_overrides=rules)})
    service = entry(result, "services", "web")
    assert service["tracing"] == "xray"
    assert service["overrides"] == {"task_definition": {"ContainerDefinitions.0.StartTimeout": 120}}
    assert line(result, "web", "taskdef_overrides").status == "approximated"
    specs(result, tmp_path)


# --- environments -----------------------------------------------------------------------------------------------


def test_environment_manifests_become_environments(tmp_path: Path) -> None:
    """network.vpc.cidr -> network.cidr in the environment's overrides; AZs from the subnets; an imported VPC is not
    mapped (SEC-1 needs separate web and batch subnets); container insights is always on; prod is production."""
    envs: dict[str, dict[str, Any]] = {
        "staging": {
            "network": {
                "vpc": {
                    "cidr": "10.1.0.0/16",
                    "subnets": {
                        "public": [{"cidr": "10.1.0.0/24", "az": "ap-northeast-1a"}, {"cidr": "10.1.1.0/24", "az": "ap-northeast-1c"}]
                    },
                }
            },
            "observability": {"container_insights": True},
        },
        "prod": {
            "network": {
                "vpc": {"id": "vpc-0123456789abcdef0", "subnets": {"public": [{"id": "subnet-a"}], "private": [{"id": "subnet-b"}]}}
            }
        },
    }
    result = imported(tmp_path, {"web": web()}, envs)
    entries = {e["name"]: e for e in result.spec["environments"]}
    assert list(entries) == ["staging", "prod"]  # production last: delivery order
    assert entries["staging"]["overrides"]["network"] == {"cidr": "10.1.0.0/16"}
    assert entries["staging"]["availability_zones"] == ["ap-northeast-1a", "ap-northeast-1c"]
    assert entries["prod"]["production"] is True and "network" not in entries["prod"].get("overrides", {})
    by_field = {(r.manifest.split("/")[2], r.field): r.status for r in result.report if r.manifest.startswith("copilot/environments/")}
    assert by_field[("prod", "network.vpc")] == "not mapped"
    assert by_field[("staging", "observability.container_insights")] == "mapped"
    assert by_field[("staging", "network.vpc.cidr")] == "mapped"
    specs(result, tmp_path)


def test_region_zones_and_account_come_from_the_options(tmp_path: Path) -> None:
    """Copilot keeps region and AZs outside the manifests: the options set them; without them the defaults are
    reported as approximated."""
    result = imported(tmp_path, {"web": web()}, region="eu-west-1", availability_zones=["eu-west-1b", "eu-west-1c"], account="111122223333")
    (env,) = result.spec["environments"]
    assert (env["region"], env["availability_zones"], env["account"]) == ("eu-west-1", ["eu-west-1b", "eu-west-1c"], "111122223333")
    default = imported(tmp_path / "2", {"web": web()})
    (name_line,) = [r for r in default.report if r.manifest == "copilot/environments/dev/manifest.yml" and r.field == "name"]
    assert name_line.status == "approximated" and "ap-northeast-1a, ap-northeast-1c" in name_line.note


def test_per_environment_values_are_overrides_reported_with_the_environment(tmp_path: Path) -> None:
    """environments.<env>.* -> that environment's overrides (named lists by name), each field reported as
    environments.<env>.<field>; an environment without a manifest is not mapped."""
    manifest = web(
        cpu=256,
        memory=512,
        variables={"LEVEL": "info"},
        environments={"prod": {"cpu": 1024, "memory": 2048, "variables": {"LEVEL": "warn"}}, "qa": {"count": 1}},
    )
    result = imported(tmp_path, {"web": manifest}, {"dev": {}, "prod": {}})
    prod = next(e for e in result.spec["environments"] if e["name"] == "prod")
    assert prod["overrides"]["services"]["web"]["cpu"] == 1024
    assert prod["overrides"]["services"]["web"]["containers"] == {"web": {"environment": {"LEVEL": "warn"}}}
    assert line(result, "web", "environments.prod.cpu").note == "environments[prod].overrides.services.web.cpu"
    assert line(result, "web", "environments.qa").status == "not mapped"
    assert specs(result, tmp_path)["prod"].services[0].containers[0].environment["LEVEL"] == "warn"


def test_one_environment_gives_a_spec_with_its_values_applied(tmp_path: Path) -> None:
    """environment="prod": environment: with prod's values in the shared settings; the shared value's line says prod
    deploys its own."""
    manifest = web(cpu=256, memory=512, environments={"prod": {"cpu": 1024, "memory": 2048}})
    result = imported(tmp_path, {"web": manifest}, {"dev": {}, "prod": {}}, environment="prod")
    assert result.spec["environment"]["name"] == "prod" and "environments" not in result.spec
    assert entry(result, "services", "web")["cpu"] == 1024
    assert "prod deploys its own value" in line(result, "web", "cpu").note
    specs(result, tmp_path)


# --- what is not imported, and the report's completeness --------------------------------------------------------


def test_app_runner_and_static_sites_are_not_imported(tmp_path: Path) -> None:
    """Request-Driven Web Service (App Runner) and Static Site (S3 + CloudFront) are not ECS: "not mapped" with why."""
    result = imported(
        tmp_path, {"hooks": {"type": "Request-Driven Web Service", "image": IMAGE}, "site": {"type": "Static Site"}, "web": web()}
    )
    assert "App Runner" in line(result, "hooks", "type").note and "CloudFront" in line(result, "site", "type").note
    assert [s["name"] for s in result.spec["services"]] == ["web"]


def test_unknown_fields_are_reported_as_unknown(tmp_path: Path) -> None:
    result = imported(tmp_path, {"web": web(future_field={"x": 1})})
    assert line(result, "web", "future_field.x") == ReportLine("copilot/web/manifest.yml", "future_field.x", "not mapped", UNKNOWN_FIELD)


def test_every_field_of_a_rich_manifest_is_reported_exactly_once(tmp_path: Path) -> None:
    """Issue 16 item 3: each leaf of the manifest is covered by exactly one report line, and each line has a note."""
    manifest = web(
        cpu=512,
        memory=1024,
        exec=True,
        count={"range": "1-4", "cpu_percentage": 50},
        variables={"A": "1"},
        secrets={"B": "b"},
        http={"path": "/", "healthcheck": "/health", "stickiness": False},
        sidecars={"log": {"image": "busybox", "essential": False}},
        storage={"ephemeral": 30, "readonly_fs": False},
        logging={"destination": {"Name": "cloudwatch"}},
        platform="linux/arm64",
        deployment={"rolling": "default"},
        network={"connect": True},
        publish={"topics": [{"name": "t"}]},
        environments={"dev": {"count": 2, "variables": {"A": "2"}}},
    )
    result = imported(tmp_path, {"web": manifest})
    lines = [r for r in result.report if r.manifest == "copilot/web/manifest.yml"]
    for leaf in leaves(manifest):
        assert sum(covers(r.field, leaf) for r in lines) == 1, leaf
    assert all(r.note for r in lines)
    assert "copilot/web/manifest.yml" in render_report(result.report).splitlines()
    specs(result, tmp_path)


# --- errors -----------------------------------------------------------------------------------------------------


def test_a_folder_without_copilot_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CopilotImportError, match="no copilot/ folder"):
        import_workspace(tmp_path)


def test_malformed_yaml_is_refused_with_the_file_and_line(tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws", {"web": web()})
    (root / "copilot" / "web" / "manifest.yml").write_text("name: web\ntype: Load Balanced Web Service\nhttp: [unclosed\n")
    with pytest.raises(CopilotImportError, match=r"copilot/web/manifest.yml, line \d+: malformed YAML"):
        import_workspace(root)


@pytest.mark.parametrize(("manifest", "message"), [({"image": IMAGE}, "has no type"), ({"type": "Lambda Function"}, "'Lambda Function'")])
def test_a_manifest_without_a_known_type_is_refused(tmp_path: Path, manifest: dict[str, Any], message: str) -> None:
    """No type, or one Copilot does not have: the file, the type and the allowed types."""
    with pytest.raises(CopilotImportError, match=message) as error:
        imported(tmp_path, {"fn": manifest})
    assert "copilot/fn/manifest.yml" in str(error.value) and "Load Balanced Web Service" in str(error.value)


def test_an_environment_without_a_manifest_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CopilotImportError, match="allowed: dev"):
        imported(tmp_path, {"web": web()}, environment="prod")


# --- the command ------------------------------------------------------------------------------------------------


def test_the_command_writes_a_valid_spec_and_prints_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 0; the report on stdout; the spec written and readable by the loader from where it is."""
    ws = workspace(tmp_path / "ws", {"web": web()})
    out = tmp_path / "out" / "spec.yaml"
    assert cli(["import", "copilot", str(ws), "--out", str(out)]) == 0
    assert "copilot/web/manifest.yml" in capsys.readouterr().out
    assert parse_specs(yaml.safe_load(out.read_text()), base_dir=out.parent)[0].services[0].name == "web"


def test_the_command_writes_nothing_when_the_workspace_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "spec.yaml"
    assert cli(["import", "copilot", str(tmp_path), "--out", str(out)]) == 1
    assert capsys.readouterr().err.startswith("error: ")
    assert not out.exists()


def test_the_command_writes_nothing_when_the_spec_does_not_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A workload without an image imports, but the spec is invalid: exit 1, the spec errors on stderr, no file."""
    ws = workspace(tmp_path / "ws", {"web": {"type": "Load Balanced Web Service", "http": {"path": "/"}}})
    out = tmp_path / "spec.yaml"
    assert cli(["import", "copilot", str(ws), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "does not validate" in err and "image" in err
    assert not out.exists()


def test_the_command_refuses_bad_arguments(tmp_path: Path) -> None:
    """No --out, or a source other than copilot: exit 2 (usage)."""
    assert cli(["import", "copilot", str(tmp_path)]) == 2
    assert cli(["import", "compose", str(tmp_path), "--out", str(tmp_path / "x.yaml")]) == 2
