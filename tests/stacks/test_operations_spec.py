"""Operating the platform (specs/operations.yaml): the dashboard (OBS-2), alarms that reach someone, the
governance stack (SEC-6, SEC-7, SEC-8) and its GuardDuty agent grants."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from aws_cdk import Stack
from aws_cdk.assertions import Template

from ecs_platform.constructs import DOCUMENT_METRICS
from ecs_platform.governance_catalog import CONFIG_RULES, GUARDDUTY_FARGATE_AGENT_ACCOUNTS
from ecs_platform.spec import parse_spec
from ecs_platform.stacks.delivery import GovernanceStack
from tests.conftest import CLI_CONTEXT, SPECS, Synthesized, synthesize
from tests.helpers import one

RESERVATION = {"CPUReservation", "MemoryReservation"}


@pytest.fixture(scope="module")
def operations(synth: Callable[[str], Synthesized]) -> Synthesized:
    return synth("operations")


@pytest.fixture(scope="module")
def governance(operations: Synthesized) -> dict[str, Any]:
    (stack,) = [c for c in operations.stage.node.root.node.find_all() if isinstance(c, GovernanceStack)]
    return Template.from_stack(stack).to_json()


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def dashboard_metrics(template: dict[str, Any]) -> list[list[Any]]:
    """Every metric line of the template's dashboard: [namespace, name, dimension, value, ...], tokens as text."""
    (body,) = (r["Properties"]["DashboardBody"] for r in _resources(template, "AWS::CloudWatch::Dashboard").values())
    parts = body["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else json.dumps(json.dumps(p))[1:-1] for p in parts)
    return [line for widget in json.loads(text)["widgets"] for line in widget["properties"].get("metrics", [])]


def _dimensions(line: list[Any]) -> list[str]:
    """The dimension names of a metric line ([ns, name, d1, v1, d2, v2, {options}])."""
    values = [x for x in line[2:] if not isinstance(x, dict)]
    return values[0::2]


def test_obs2_the_dashboard_shows_the_documents_metrics_under_their_namespaces_and_dimensions(operations: Synthesized) -> None:
    """OBS-2: CPU/memory utilization per cluster and service (AWS/ECS), running/pending tasks and deployments per
    service and the cluster's service count (Container Insights); the reservation metrics exist for EC2 capacity
    only, and this spec has none, so no line shows them empty."""
    lines = dashboard_metrics(operations.workloads_json)
    by_name: dict[str, set[tuple[str, tuple[str, ...]]]] = {}
    for line in lines:
        by_name.setdefault(line[1], set()).add((line[0], tuple(_dimensions(line))))
    assert set(DOCUMENT_METRICS) - RESERVATION <= set(by_name)
    assert not RESERVATION & set(by_name)
    assert by_name["CPUUtilization"] == {("AWS/ECS", ("ClusterName",)), ("AWS/ECS", ("ClusterName", "ServiceName"))}
    assert by_name["MemoryUtilization"] == {("AWS/ECS", ("ClusterName",)), ("AWS/ECS", ("ClusterName", "ServiceName"))}
    for name in ("RunningTaskCount", "PendingTaskCount", "DeploymentCount"):
        assert by_name[name] == {("ECS/ContainerInsights", ("ClusterName", "ServiceName"))}
    assert by_name["ServiceCount"] == {("ECS/ContainerInsights", ("ClusterName",))}


def test_obs2_with_ec2_capacity_the_dashboard_names_all_eight_metrics(synth: Callable[[str], Synthesized]) -> None:
    """OBS-2: on a cluster with an Auto Scaling group's instances, CPUReservation and MemoryReservation join."""
    names = {line[1] for line in dashboard_metrics(synth("ec2").workloads_json)}
    assert set(DOCUMENT_METRICS) <= names
    reservation = [line for line in dashboard_metrics(synth("ec2").workloads_json) if line[1] in RESERVATION]
    assert {(line[0], tuple(_dimensions(line))) for line in reservation} == {("AWS/ECS", ("ClusterName",))}


def test_obs2_each_workload_has_its_row_alb_traffic_queue_backlog_and_job_runs(operations: Synthesized) -> None:
    """A web service's requests, 5xx and p95 latency; a worker's backlog, dead letters and oldest message; a job's
    failed runs and its state machine's executions."""
    lines = dashboard_metrics(operations.workloads_json)
    names = {(line[0], line[1]) for line in lines}
    assert {
        ("AWS/ApplicationELB", "RequestCount"),
        ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"),
        ("AWS/ApplicationELB", "TargetResponseTime"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage"),
        ("AWS/Events", "TriggeredRules"),
        ("AWS/States", "ExecutionsSucceeded"),
        ("AWS/States", "ExecutionsFailed"),
    } <= names
    latency = next(line for line in lines if line[1] == "TargetResponseTime")
    assert latency[-1]["stat"] == "p95"
    queues = [line for line in lines if line[1] == "ApproximateNumberOfMessagesVisible"]
    assert len(queues) == 2  # the queue and its dead-letter queue


def test_obs2_the_dashboard_is_named_after_the_environment_and_its_url_is_an_output(operations: Synthesized) -> None:
    dashboard = one(operations.resources("AWS::CloudWatch::Dashboard"))
    assert dashboard["Properties"]["DashboardName"] == "shop-staging"
    url = operations.workloads_json["Outputs"]["DashboardUrl"]["Value"]["Fn::Join"][1]
    assert "#dashboards:name=" in "".join(p for p in url if isinstance(p, str))


def test_obs2_a_further_stack_of_services_has_a_dashboard_of_its_own(synth: Callable[[str], Synthesized]) -> None:
    """A stack cannot read a later stack's resources: each stack of services shows its own (the workload
    stack's has the cluster's row)."""
    services = synth("services")
    for stack in services.stage.service_stacks:
        template = Template.from_stack(stack).to_json()
        dashboard = one(_resources(template, "AWS::CloudWatch::Dashboard"))
        assert dashboard["Properties"]["DashboardName"] == stack.stack_name
        assert "ServiceCount" not in {line[1] for line in dashboard_metrics(template)}
        assert "DashboardUrl" in template["Outputs"]


def _all_templates(synthesized: Synthesized) -> Iterator[dict[str, Any]]:
    for construct in synthesized.stage.node.root.node.find_all():
        if isinstance(construct, Stack):
            yield Template.from_stack(construct).to_json()


@pytest.mark.parametrize("name", ["operations", "default", "batch", "web", "ec2", "production", "services"])
def test_obs2_every_alarm_notifies_a_topic(name: str, synth: Callable[[str], Synthesized]) -> None:
    """An alarm without an action is one nobody hears of: every alarm of every stack has one."""
    alarms = {k: v for t in _all_templates(synth(name)) for k, v in _resources(t, "AWS::CloudWatch::Alarm").items()}
    assert alarms
    assert {k for k, v in alarms.items() if not v["Properties"].get("AlarmActions")} == set()


def test_obs2_workers_have_alarms_on_the_documents_metrics_and_their_queue(operations: Synthesized) -> None:
    alarms = {
        k.removeprefix("WorkerordersQueueWorker")[:-8]: v["Properties"]
        for k, v in operations.resources("AWS::CloudWatch::Alarm").items()
        if k.startswith("WorkerordersQueueWorker")
    }
    assert set(alarms) == {"CpuHigh", "MemoryHigh", "RunningTasksLow", "PendingTasksStuck", "OldestMessageOld", "DeadLetters"}
    assert alarms["RunningTasksLow"]["Threshold"] == 1  # min_count
    assert alarms["RunningTasksLow"]["TreatMissingData"] == "breaching"
    assert alarms["OldestMessageOld"]["MetricName"] == "ApproximateAgeOfOldestMessage"
    assert alarms["DeadLetters"]["ComparisonOperator"] == "GreaterThanThreshold"


def test_obs2_the_spec_subscribes_email_and_slack_to_the_alarm_and_job_failure_topics(operations: Synthesized) -> None:
    topics = {v["Properties"]["DisplayName"]: k for k, v in operations.resources("AWS::SNS::Topic").items()}
    alarm_topic, failure_topic = topics["shop service alarms"], topics["shop failed job runs"]
    emails = {
        (v["Properties"]["TopicArn"]["Ref"], v["Properties"]["Endpoint"])
        for v in operations.resources("AWS::SNS::Subscription").values()
        if v["Properties"]["Protocol"] == "email"
    }
    assert emails == {(alarm_topic, "ops@example.com"), (failure_topic, "ops@example.com")}
    slack = one(operations.resources("AWS::Chatbot::SlackChannelConfiguration"))["Properties"]
    assert (slack["SlackWorkspaceId"], slack["SlackChannelId"]) == ("T0123ABCD", "C0123ABCD")
    assert {t["Ref"] for t in slack["SnsTopicArns"]} == {alarm_topic, failure_topic}
    # The channel's guardrail is its role's own read-only policy, not Chatbot's default (AdministratorAccess).
    policy = operations.resources("AWS::IAM::ManagedPolicy")[slack["GuardrailPolicies"][0]["Ref"]]["Properties"]
    assert [s["Action"] for s in policy["PolicyDocument"]["Statement"]] == ["cloudwatch:DescribeAlarms"]


def test_obs2_nobody_subscribed_is_a_warning_of_the_summary(default: Synthesized) -> None:
    from ecs_platform.summary import notes, stacks

    warnings = [n for n in notes(stacks(default.outdir)) if "nobody subscribes" in n]
    assert warnings == [
        f"warning: dev: {len(default.resources('AWS::CloudWatch::Alarm'))} alarms notify topics nobody "
        "subscribes to: add notifications: to the spec (email, https, sqs, lambda, slack)"
    ]


# --- governance (SEC-6, SEC-7, SEC-8) ------------------------------------------------------------


def test_sec6_the_trail_is_multi_region_validated_encrypted_and_writes_to_a_retained_logged_bucket(governance: dict[str, Any]) -> None:
    trail = one(_resources(governance, "AWS::CloudTrail::Trail"))["Properties"]
    assert (trail["IsMultiRegionTrail"], trail["EnableLogFileValidation"], trail["IncludeGlobalServiceEvents"]) == (True, True, True)
    assert trail["TrailName"] == "shop-trail"
    assert "KMSKeyId" in trail
    bucket_id = trail["S3BucketName"]["Ref"]
    bucket = _resources(governance, "AWS::S3::Bucket")[bucket_id]
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")
    assert "LoggingConfiguration" in bucket["Properties"]
    (rule,) = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 365
    assert rule["Transitions"] == [{"StorageClass": "GLACIER_IR", "TransitionInDays": 90}]


def test_sec7_the_recorder_leaves_out_network_interfaces_and_the_rules_are_the_documented_list(governance: dict[str, Any]) -> None:
    recorder = one(_resources(governance, "AWS::Config::ConfigurationRecorder"))["Properties"]
    assert recorder["RecordingGroup"]["ExclusionByResourceTypes"]["ResourceTypes"] == ["AWS::EC2::NetworkInterface"]
    assert one(_resources(governance, "AWS::Config::DeliveryChannel"))["Properties"]["S3KeyPrefix"] == "config"
    rules = {r["Properties"]["Source"]["SourceIdentifier"] for r in _resources(governance, "AWS::Config::ConfigRule").values()}
    assert rules == set(CONFIG_RULES)
    assert {
        "ECS_TASK_DEFINITION_LINUX_USER_NON_ROOT",
        "ECS_CONTAINERS_READONLY_ACCESS",
        "ECS_NO_ENVIRONMENT_SECRETS",
        "ECS_CONTAINERS_NONPRIVILEGED",
        "ECS_TASK_DEFINITION_LOG_CONFIGURATION",
        "ECS_FARGATE_LATEST_PLATFORM_VERSION",
        "ALB_HTTP_TO_HTTPS_REDIRECTION_CHECK",
        "ELB_DELETION_PROTECTION_ENABLED",
    } <= rules


def test_sec8_the_detector_monitors_ecs_runtime_with_fargate_agent_management(governance: dict[str, Any]) -> None:
    detector = one(_resources(governance, "AWS::GuardDuty::Detector"))["Properties"]
    (feature,) = detector["Features"]
    assert (feature["Name"], feature["Status"]) == ("RUNTIME_MONITORING", "ENABLED")
    agents = {c["Name"]: c["Status"] for c in feature["AdditionalConfiguration"]}
    assert agents == {"ECS_FARGATE_AGENT_MANAGEMENT": "ENABLED", "EC2_AGENT_MANAGEMENT": "DISABLED"}  # no EC2 capacity here


def test_sec8_high_severity_findings_reach_the_specs_subscribers(governance: dict[str, Any]) -> None:
    rule = one(_resources(governance, "AWS::Events::Rule"))["Properties"]
    assert rule["EventPattern"]["detail"] == {"severity": [{"numeric": [">=", 7]}]}
    topic = rule["Targets"][0]["Arn"]["Ref"]
    subscriptions = [s["Properties"] for s in _resources(governance, "AWS::SNS::Subscription").values()]
    assert [(s["TopicArn"]["Ref"], s["Endpoint"]) for s in subscriptions] == [(topic, "ops@example.com")]
    slack = one(_resources(governance, "AWS::Chatbot::SlackChannelConfiguration"))["Properties"]
    assert slack["SnsTopicArns"] == [{"Ref": topic}]


def test_sec8_fargate_execution_roles_may_pull_guarddutys_agent_from_its_repository_exactly(operations: Synthesized) -> None:
    """GuardDuty adds its agent as a sidecar that ECS pulls with the task's execution role."""
    repository = f"arn:aws:ecr:ap-northeast-1:{GUARDDUTY_FARGATE_AGENT_ACCOUNTS['ap-northeast-1']}:repository/aws-guardduty-agent-fargate"
    granted = {
        policy_id
        for policy_id, policy in operations.resources("AWS::IAM::ManagedPolicy").items()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Resource") == repository
    }
    roles = operations.resources("AWS::IAM::Role")
    execution_roles = {
        k
        for k, v in roles.items()
        if "ecs-tasks.amazonaws.com" in json.dumps(v["Properties"]["AssumeRolePolicyDocument"]) and "Execution" in k
    }
    assert len(granted) == len(execution_roles) == 3  # the service, the worker and the job


def test_sec6_sec7_sec8_governance_is_one_stack_of_the_shared_stage(operations: Synthesized) -> None:
    stacks = [c for c in operations.stage.node.root.node.find_all() if isinstance(c, GovernanceStack)]
    assert [(s.stack_name, s.account, s.region, s.termination_protection) for s in stacks] == [
        ("shop-governance", "111122223333", "ap-northeast-1", True)
    ]


@pytest.fixture(scope="module")
def existing(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The operations example in an account whose organization runs a trail, a recorder and a detector already, with
    its cluster out of Runtime Monitoring."""
    data = yaml.safe_load((SPECS / "operations.yaml").read_text(encoding="utf-8"))
    data["governance"].update(existing_trail=True, existing_recorder=True, existing_detector=True, runtime_monitoring=False)
    return synthesize(parse_spec(data), tmp_path_factory.mktemp("existing"), context=CLI_CONTEXT)


def test_sec6_sec7_sec8_existing_trail_recorder_and_detector_are_used_not_created(existing: Synthesized) -> None:
    """An account with a trail, a recorder and a detector: creating another would fail the deploy (one recorder and
    one detector per region) or bill the events twice; the rules and the findings' route are still created."""
    (stack,) = [c for c in existing.stage.node.root.node.find_all() if isinstance(c, GovernanceStack)]
    template = Template.from_stack(stack).to_json()
    kinds = {v["Type"] for v in template["Resources"].values()}
    assert not kinds & {
        "AWS::CloudTrail::Trail",
        "AWS::Config::ConfigurationRecorder",
        "AWS::Config::DeliveryChannel",
        "AWS::GuardDuty::Detector",
        "AWS::S3::Bucket",
    }
    assert len(_resources(template, "AWS::Config::ConfigRule")) == len(CONFIG_RULES)
    assert "AWS::Events::Rule" in kinds


def test_sec8_an_environment_out_of_runtime_monitoring_tags_its_cluster_and_grants_no_agent_pull(existing: Synthesized) -> None:
    cluster = one(existing.resources("AWS::ECS::Cluster"))
    assert {"Key": "GuardDutyManaged", "Value": "false"} in cluster["Properties"]["Tags"]
    assert "aws-guardduty-agent-fargate" not in json.dumps(existing.resources("AWS::IAM::ManagedPolicy"))


def test_sec8_an_environment_under_runtime_monitoring_leaves_its_cluster_untagged(operations: Synthesized) -> None:
    cluster = one(operations.resources("AWS::ECS::Cluster"))
    assert "GuardDutyManaged" not in {t["Key"] for t in cluster["Properties"]["Tags"]}
