"""Batch jobs and queue workers (specs/batch.yaml): USE-3, SEC-1, SEC-2, CLI-7, CLI-9, LIM-3,
the scheduler, the supervising state machine, failure alerts and worker scaling."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Synthesized
from tests.helpers import import_to_resource, one, tags_of


@pytest.fixture(scope="module")
def batch(synth: Callable[[str], Synthesized]) -> Synthesized:
    return synth("batch")


def _td_id(batch: Synthesized, family: str) -> str:
    return next(k for k, v in batch.resources("AWS::ECS::TaskDefinition").items() if v["Properties"]["Family"] == family)


def _schedules(batch: Synthesized) -> dict[str, dict[str, Any]]:
    return {
        v["Properties"]["Description"].removeprefix("Runs "): v["Properties"] for v in batch.resources("AWS::Scheduler::Schedule").values()
    }


def test_use3_cli9_jobs_are_not_services(batch: Synthesized) -> None:
    """USE-3 / CLI-9: a job runs and stops; only the worker is a (restarting) ECS service."""
    services = batch.resources("AWS::ECS::Service")
    assert [tags_of(s)["Name"] for s in services.values()] == ["thumbnailer"]
    job_tds = {_td_id(batch, f) for f in ("nightly-export", "hourly-aggregate", "backfill")}
    assert all(s["Properties"]["TaskDefinition"]["Ref"] not in job_tds for s in services.values())


def test_scheduled_job_runs_directly_on_spot_in_its_time_zone(batch: Synthesized) -> None:
    schedule = _schedules(batch)["nightly-export"]
    assert (schedule["ScheduleExpression"], schedule["ScheduleExpressionTimezone"]) == ("cron(30 1 * * ? *)", "Asia/Tokyo")
    assert schedule["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    ecs_parameters = schedule["Target"]["EcsParameters"]
    assert ecs_parameters["TaskDefinitionArn"] == {"Ref": _td_id(batch, "nightly-export")}
    assert ecs_parameters["CapacityProviderStrategy"] == [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]
    assert schedule["Target"]["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 2}
    dlq = batch.resources("AWS::SQS::Queue")[schedule["Target"]["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]]["Properties"]
    assert dlq["KmsMasterKeyId"] == {"Fn::GetAtt": ["MessagingKey9A79A2B1", "Arn"]}  # the key of queues and topics, not of logs


def test_supervised_job_runs_through_a_state_machine_with_timeout_and_retries(batch: Synthesized) -> None:
    schedule = _schedules(batch)["hourly-aggregate"]
    (machine_id,) = batch.resources("AWS::StepFunctions::StateMachine")
    assert schedule["Target"]["Arn"] == {"Ref": machine_id}
    machine = batch.resources("AWS::StepFunctions::StateMachine")[machine_id]["Properties"]
    assert machine["TracingConfiguration"] == {"Enabled": True}
    assert machine["LoggingConfiguration"]["Level"] == "ALL"
    parts = machine["DefinitionString"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else json.dumps(p) for p in parts)
    assert '"Resource":"arn:aws:states:::ecs:runTask.sync"' in text
    assert '"TimeoutSeconds":1200' in text
    assert '"Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":60,"BackoffRate":2,"MaxAttempts":2}]' in text
    assert '"AssignPublicIp":"DISABLED"' in text


def test_state_machine_role_is_scoped(batch: Synthesized) -> None:
    role_id = next(k for k in batch.resources("AWS::IAM::Role") if "StateMachineRole" in k)
    (policy,) = [p for p in batch.resources("AWS::IAM::ManagedPolicy").values() if p["Properties"]["Roles"] == [{"Ref": role_id}]]
    by_action = {}
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        for action in statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]:
            by_action[action] = statement["Resource"]
    assert by_action["ecs:RunTask"] == {"Ref": _td_id(batch, "hourly-aggregate")}
    assert by_action["ecs:StopTask"] == by_action["ecs:DescribeTasks"]
    assert by_action["events:PutRule"] == {
        "Fn::Join": ["", ["arn:aws:events:ap-northeast-1:", {"Ref": "AWS::AccountId"}, ":rule/StepFunctionsGetEventsForECSTaskRule"]]
    }
    wildcard = {a for a, r in by_action.items() if r == "*"}
    assert wildcard <= {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"} | {
        a for a in by_action if a.startswith("logs:")
    }


def test_failed_runs_notify_an_encrypted_topic_and_an_alarm(batch: Synthesized) -> None:
    rules = [
        r["Properties"] for r in batch.resources("AWS::Events::Rule").values() if r["Properties"]["EventPattern"]["source"] == ["aws.ecs"]
    ]
    assert len(rules) == 3  # one per job
    pattern = rules[0]["EventPattern"]
    assert pattern["detail-type"] == ["ECS Task State Change"]
    assert pattern["detail"]["lastStatus"] == ["STOPPED"]
    assert pattern["detail"]["$or"] == [
        {"containers": {"exitCode": [{"anything-but": 0}]}},
        {"stopCode": [{"anything-but": "EssentialContainerExited"}]},
    ]
    topic_id = next(iter(batch.resources("AWS::SNS::Topic")))
    assert all(r["Targets"][0]["Arn"] == {"Ref": topic_id} for r in rules)
    assert batch.resources("AWS::SNS::Topic")[topic_id]["Properties"]["KmsMasterKeyId"] == {
        "Fn::GetAtt": ["MessagingKey9A79A2B1", "Arn"]
    }  # the key of queues and topics, not of logs
    alarms = [a["Properties"] for a in batch.resources("AWS::CloudWatch::Alarm").values() if a["Properties"]["Namespace"] == "AWS/Events"]
    assert len(alarms) == 3  # one per job (the worker's alarms notify the alarm topic)
    assert all(a["MetricName"] == "TriggeredRules" and a["AlarmActions"] == [{"Ref": topic_id}] for a in alarms)
    assert "JobFailuresTopic" in batch.workloads_json["Outputs"]


def test_sec1_sec2_jobs_and_workers_run_in_batch_subnets_with_443_out_only(batch: Synthesized) -> None:
    groups = batch.resources("AWS::EC2::SecurityGroup")
    assert sorted(tags_of(g)["Name"] for g in groups.values()) == ["backfill", "hourly-aggregate", "nightly-export", "thumbnailer"]
    for group in groups.values():
        assert "SecurityGroupIngress" not in group["Properties"]
        assert [(r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in group["Properties"]["SecurityGroupEgress"]] == [("tcp", 443, 443)]
    assert batch.resources("AWS::EC2::SecurityGroupIngress") == {}
    worker = one(batch.resources("AWS::ECS::Service"))["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert worker["AssignPublicIp"] == "DISABLED"
    assert all("BatchSubnet" in import_to_resource(batch, s)[0] for s in worker["Subnets"])


def test_cli7_lim3_on_demand_job_run_task_parameters(batch: Synthesized) -> None:
    """CLI-7 / LIM-3: the backfill job's RunTask request: 5 tasks (one call holds at most 10)."""
    parts = batch.workloads_json["Outputs"]["BackfillRunTaskParameters"]["Value"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else "<token>" for p in parts)
    assert text.startswith('{"cluster":"<token>","taskDefinition":"<token>","count":5,"launchType":"FARGATE",')
    revision = parts[parts.index(next(p for p in parts if isinstance(p, str) and p.endswith('"taskDefinition":"'))) + 1]["Ref"]
    assert batch.resources("AWS::ECS::TaskDefinition")[revision]["Properties"]["Family"] == "backfill"  # the deployed revision
    assert '"assignPublicIp":"DISABLED"' in text


def test_worker_consumes_its_own_encrypted_queue_with_redrive(batch: Synthesized) -> None:
    queues = batch.resources("AWS::SQS::Queue")
    (queue_id,) = [k for k, v in queues.items() if "RedrivePolicy" in v["Properties"]]
    queue = queues[queue_id]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5
    assert queue["KmsMasterKeyId"] == {"Fn::GetAtt": ["MessagingKey9A79A2B1", "Arn"]}  # the key of queues and topics, not of logs
    assert queue["VisibilityTimeout"] == 300
    task_role = next(k for k in batch.resources("AWS::IAM::Role") if k.startswith("WorkerthumbnailerQueueWorkerTaskTaskRole"))
    (policy,) = [p for p in batch.resources("AWS::IAM::ManagedPolicy").values() if p["Properties"]["Roles"] == [{"Ref": task_role}]]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert {"Action": ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
            "Effect": "Allow", "Resource": {"Fn::GetAtt": [queue_id, "Arn"]}} in statements  # fmt: skip
    keys = {s["Resource"]["Fn::GetAtt"][0]: s for s in statements if s["Action"] == "kms:Decrypt"}
    assert keys["MessagingKey9A79A2B1"]["Condition"] == {"StringEquals": {"kms:ViaService": "sqs.ap-northeast-1.amazonaws.com"}}
    # 0.1 encrypted the queue with the key that now encrypts logs only: the messages queued before the upgrade stay
    # readable, through SQS and for this queue only.
    assert keys["Key961B73FD"]["Condition"] == {
        "StringEquals": {
            "kms:ViaService": "sqs.ap-northeast-1.amazonaws.com",
            "kms:EncryptionContext:aws:sqs:arn": {"Fn::GetAtt": [queue_id, "Arn"]},
        }
    }


def test_worker_scales_on_backlog_per_task_down_to_zero(batch: Synthesized) -> None:
    target = one(batch.resources("AWS::ApplicationAutoScaling::ScalableTarget"))["Properties"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (0, 20)
    policy = one(batch.resources("AWS::ApplicationAutoScaling::ScalingPolicy"))["Properties"]
    config = policy["TargetTrackingScalingPolicyConfiguration"]
    assert config["TargetValue"] == 10
    metrics = {m["Id"]: m for m in config["CustomizedMetricSpecification"]["Metrics"]}
    assert metrics["result"]["Expression"] == "visible / IF(running > 0, running, 1)"
    assert metrics["visible"]["MetricStat"]["Metric"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert metrics["running"]["MetricStat"]["Metric"]["Namespace"] == "ECS/ContainerInsights"
    assert one(batch.resources("AWS::ECS::Service"))["Properties"]["DesiredCount"] == 0
