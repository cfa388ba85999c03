"""IAM-1..8 on specs/access.yaml, which uses every integration of the access vocabulary once.

One test per integration: the exact actions granted on exactly the named resource. A
role's statements are flattened to resource -> actions (CDK merges statements that share
resources and conditions), so each assertion reads "on this ARN, exactly these actions".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from ecs_platform.constructs import RESOURCE_WILDCARD_ONLY
from ecs_platform.constructs.container_secret import EXECUTION_ROLE_ACTIONS
from ecs_platform.integrations import INTEGRATIONS
from tests.conftest import Synthesized
from tests.helpers import actions_on, role_policy

ACCOUNT, REGION = "111122223333", "ap-northeast-1"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"


@pytest.fixture(scope="module")
def access(synth: Callable[[str], Synthesized]) -> Synthesized:
    return synth("access")


_policy = role_policy
_on = actions_on


def _api(access: Synthesized) -> dict[tuple[str, str], set[str]]:
    return _policy(access, "api", "task")


def test_iam5_cloudwatch_metrics_limited_to_its_namespace(access: Synthesized) -> None:
    condition = {"StringEquals": {"cloudwatch:namespace": "Orders/Api"}}
    assert _on(_api(access), "*", condition) == set(INTEGRATIONS["cloudwatch_metrics"].actions_for()) == {"cloudwatch:PutMetricData"}


def test_iam5_rds_iam_auth_as_one_db_user(access: Synthesized) -> None:
    arn = f"arn:aws:rds-db:{REGION}:{ACCOUNT}:dbuser:cluster-ABCDEFGHIJKLMNOP/api"
    assert _on(_api(access), arn) == {"rds-db:connect"}


def test_iam5_rds_data_api_on_the_cluster_and_its_secret(access: Synthesized) -> None:
    api = _api(access)
    assert _on(api, f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:orders-aurora") == {
        "rds-data:BatchExecuteStatement", "rds-data:BeginTransaction", "rds-data:CommitTransaction",
        "rds-data:ExecuteStatement", "rds-data:RollbackTransaction",
    }  # fmt: skip
    assert _on(api, f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:orders/aurora-GhIjKl") == {"secretsmanager:GetSecretValue"}


def test_iam5_dynamodb_read_write_on_table_and_read_on_named_index(access: Synthesized) -> None:
    api = _api(access)
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"
    assert _on(api, table) == {
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:Scan"
    }  # fmt: skip
    assert _on(api, f"{table}/index/by-customer") == {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"}


def test_iam5_s3_read_under_a_prefix_with_its_key(access: Synthesized) -> None:
    api = _api(access)
    assert _on(api, "arn:aws:s3:::orders-uploads/invoices/*") == {"s3:GetObject"}
    assert _on(api, "arn:aws:s3:::orders-uploads", {"StringLike": {"s3:prefix": ["invoices/*"]}}) == {"s3:ListBucket"}
    assert _on(api, KEY, {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}}) == {"kms:Decrypt"}


def test_iam5_s3_write_level(access: Synthesized) -> None:
    worker = _policy(access, "invoice-worker", "task")
    assert _on(worker, "arn:aws:s3:::orders-uploads/invoices/*") == {"s3:PutObject", "s3:DeleteObject"}
    assert _on(worker, "arn:aws:s3:::orders-uploads", {"StringLike": {"s3:prefix": ["invoices/*"]}}) == set()


@pytest.mark.parametrize(
    ("resource", "actions"),
    [
        (f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:price-calculator", {"lambda:InvokeFunction"}),
        (f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:fulfilment", {"states:StartExecution"}),
        (f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/orders", {"events:PutEvents"}),
        (f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/clicks", {"kinesis:PutRecord", "kinesis:PutRecords"}),
        (f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/order-archive", {"firehose:PutRecord", "firehose:PutRecordBatch"}),
        (f"arn:aws:sns:{REGION}:{ACCOUNT}:order-events", {"sns:Publish"}),
        (f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:orders/api-key-MnOpQr", {"secretsmanager:GetSecretValue"}),
    ],
    ids=["lambda", "stepfunctions", "eventbridge", "kinesis", "firehose", "sns", "secrets_manager"],
)
def test_iam5_one_action_set_on_one_named_resource(access: Synthesized, resource: str, actions: set[str]) -> None:
    assert _on(_api(access), resource) == actions


def test_iam5_sqs_polling_on_the_queue_with_its_key(access: Synthesized) -> None:
    worker = _policy(access, "invoice-worker", "task")
    assert _on(worker, f"arn:aws:sqs:{REGION}:{ACCOUNT}:invoice-requests") == {
        "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"
    }  # fmt: skip
    # Decrypt to receive; GenerateDataKey because the worker also sends (sqs_send) to a queue under the same key.
    assert _on(worker, KEY, {"StringEquals": {"kms:ViaService": f"sqs.{REGION}.amazonaws.com"}}) == {"kms:Decrypt", "kms:GenerateDataKey"}


def test_iam5_a_producer_may_send_to_one_queue_only(access: Synthesized) -> None:
    """sqs_send: SendMessage on the named queue, nothing else of SQS on it."""
    worker = _policy(access, "invoice-worker", "task")
    assert _on(worker, f"arn:aws:sqs:{REGION}:{ACCOUNT}:invoice-replies") == {"sqs:SendMessage"}


def test_iam5_ssm_parameters_by_name_and_by_path(access: Synthesized) -> None:
    api = _api(access)
    assert _on(api, f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/orders/dev/endpoint") == {"ssm:GetParameter", "ssm:GetParameters"}
    assert _on(api, f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/orders/dev/config") == {"ssm:GetParametersByPath"}


def test_iam5_xray_and_ecs_exec_are_the_only_unconditioned_wildcards(access: Synthesized) -> None:
    """X-Ray and Session Manager channels have no resource-level permission: the documented list."""
    assert _on(_api(access), "*") == set(INTEGRATIONS["xray"].actions_for()) | set(INTEGRATIONS["ecs_exec"].actions_for())


def test_iam5_ecs_exec_session_is_encrypted_and_logged(access: Synthesized) -> None:
    (cluster,) = access.resources("AWS::ECS::Cluster").values()
    config = cluster["Properties"]["Configuration"]["ExecuteCommandConfiguration"]
    key_id = config["KmsKeyId"]["Fn::GetAtt"][0]
    group_id = config["LogConfiguration"]["CloudWatchLogGroupName"]["Ref"]
    assert config["Logging"] == "OVERRIDE" and config["LogConfiguration"]["CloudWatchEncryptionEnabled"] is True
    assert access.resources("AWS::Logs::LogGroup")[group_id]["Properties"]["LogGroupName"] == "/ecs/orders-dev/exec"
    api = _api(access)
    assert _on(api, json.dumps({"Fn::GetAtt": [group_id, "Arn"]}, sort_keys=True)) == set(INTEGRATIONS["ecs_exec"].actions["logs"])
    assert _on(api, json.dumps({"Fn::GetAtt": [key_id, "Arn"]}, sort_keys=True)) == {"kms:Decrypt"}
    (service,) = access.resources("AWS::ECS::Service").values()
    assert service["Properties"]["EnableExecuteCommand"] is True


# --- execution role (IAM-1..4) -----------------------------------------------------------


def test_iam1_ecr_pull_on_the_repository_only(access: Synthesized) -> None:
    execution = _policy(access, "api", "execution")
    assert _on(execution, f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/orders/api") == {
        "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"
    }  # fmt: skip
    assert _on(execution, "*") == {"ecr:GetAuthorizationToken"}


def test_iam2_logs_on_the_task_log_group_only(access: Synthesized) -> None:
    execution = _policy(access, "api", "execution")
    (group_id,) = [k for k, v in access.resources("AWS::Logs::LogGroup").items() if v["Properties"]["LogGroupName"].endswith("/api")]
    assert _on(execution, json.dumps({"Fn::GetAtt": [group_id, "Arn"]}, sort_keys=True)) == {"logs:CreateLogStream", "logs:PutLogEvents"}


def test_iam3_secret_read_and_its_key_through_secrets_manager(access: Synthesized) -> None:
    execution = _policy(access, "api", "execution")
    assert _on(execution, f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:orders/db-AbCdEf") == set(
        EXECUTION_ROLE_ACTIONS["secrets_manager"]
    )
    assert _on(execution, KEY, {"StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}}) == {"kms:Decrypt"}


def test_iam4_parameter_read(access: Synthesized) -> None:
    """IAM-4 / SEC-5: the execution role reads the referenced SSM parameter, nothing else."""
    execution = _policy(access, "api", "execution")
    assert _on(execution, f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/orders/dev/feature-flags") == {"ssm:GetParameter", "ssm:GetParameters"}


@pytest.mark.parametrize("name", ["default", "production", "access", "batch"])
def test_iam8_no_wildcard_outside_the_documented_list(name: str, synth: Callable[[str], Synthesized]) -> None:
    """Every role of every example: no AWS managed policy, no '*' action, '*' resource only for
    actions without resource-level permissions (RESOURCE_WILDCARD_ONLY)."""
    synthesized = synth(name)
    for role in synthesized.resources("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]
    for policy in synthesized.resources("AWS::IAM::ManagedPolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert not any("*" in action for action in actions), statement
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            if "*" in resources:
                assert set(actions) <= set(RESOURCE_WILDCARD_ONLY), statement


def test_iam6_permissions_boundary_on_every_ecs_role(synth: Callable[[str], Synthesized], tmp_path_factory: pytest.TempPathFactory) -> None:
    from ecs_platform.spec import load_spec
    from tests.conftest import SPECS, synthesize

    spec = load_spec(SPECS / "access.yaml").model_copy(update={"permissions_boundary": f"arn:aws:iam::{ACCOUNT}:policy/boundary"})
    bounded = synthesize(spec, tmp_path_factory.mktemp("boundary"))
    roles = [r for r in bounded.resources("AWS::IAM::Role").values() if _trusts_ecs_tasks(r)]
    assert len(roles) == 4
    assert {r["Properties"]["PermissionsBoundary"] for r in roles} == {f"arn:aws:iam::{ACCOUNT}:policy/boundary"}


def _trusts_ecs_tasks(role: dict[str, Any]) -> bool:
    return role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"].get("Service") == "ecs-tasks.amazonaws.com"
