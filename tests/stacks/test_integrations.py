"""The access integrations (IAM-5) are one record each: the spec's model, the task role's actions,
the ARN of a name and the README's table all come from it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from ecs_platform.integrations import INTEGRATIONS, KINDS, Integration, Param, readme_table
from ecs_platform.spec.access import ENTRY_MODELS, AccessEntry, _model
from ecs_platform.stacks.translate import resource_arn
from tests.unit.support import new_app, new_stack, synth

README = Path(__file__).resolve().parents[2] / "README.md"

#: A hypothetical integration whose grant is "these actions on one resource": adding it to the
#: registry is all it takes for the spec, the translation and the task role to support it.
SES = Integration(
    "ses_send",
    "SesSend",
    "ses:SendEmail from one identity.",
    params=(Param("topic", "Notification topic name or ARN.", kind="topic"),),
    actions={"": ("ses:SendEmail", "ses:SendRawEmail")},
    kms_service="ses",
    always_writes=True,
)


def test_iam5_the_readme_table_is_generated_from_the_records() -> None:
    """The README's access table equals ``python -m ecs_platform.integrations`` (regenerate it after a change)."""
    assert readme_table() in README.read_text(encoding="utf-8")


def test_iam5_every_record_has_its_model_with_its_fields() -> None:
    assert set(ENTRY_MODELS) == set(INTEGRATIONS)
    for name, integration in INTEGRATIONS.items():
        model = ENTRY_MODELS[name]
        assert model.__name__ == integration.title
        assert set(model.model_fields) == {"type", "kms_key", *(p.name for p in integration.params)}
        for param in integration.params:
            assert model.model_fields[param.name].description == param.doc


@pytest.mark.parametrize("integration", [i for i in INTEGRATIONS.values() if i.params])
def test_iam5_a_model_refuses_an_unknown_key(integration: Integration) -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        TypeAdapter(AccessEntry).validate_python({"type": integration.type, "actions": ["*"]})


def test_iam5_the_simple_integrations_are_granted_without_code_of_their_own() -> None:
    """lambda, stepfunctions, eventbridge, kinesis, firehose, sns, sqs, sqs_send and secrets_manager: actions on one resource."""
    simple = sorted(name for name, integration in INTEGRATIONS.items() if integration.simple)
    assert simple == ["eventbridge", "firehose", "kinesis", "lambda", "secrets_manager", "sns", "sqs", "sqs_send", "stepfunctions"]


@pytest.mark.parametrize(
    ("kind", "name", "arn"),
    [
        ("table", "orders", "arn:aws:dynamodb:ap-northeast-1:123456789012:table/orders"),
        ("function", "resize", "arn:aws:lambda:ap-northeast-1:123456789012:function:resize"),
        ("state_machine", "flow", "arn:aws:states:ap-northeast-1:123456789012:stateMachine:flow"),
        ("bus", "default", "arn:aws:events:ap-northeast-1:123456789012:event-bus/default"),
        ("stream", "clicks", "arn:aws:kinesis:ap-northeast-1:123456789012:stream/clicks"),
        ("delivery_stream", "audit", "arn:aws:firehose:ap-northeast-1:123456789012:deliverystream/audit"),
        ("topic", "events", "arn:aws:sns:ap-northeast-1:123456789012:events"),
        ("queue", "jobs", "arn:aws:sqs:ap-northeast-1:123456789012:jobs"),
        ("cluster", "orders-db", "arn:aws:rds:ap-northeast-1:123456789012:cluster:orders-db"),
        ("parameter", "/app/url", "arn:aws:ssm:ap-northeast-1:123456789012:parameter/app/url"),
        ("bucket", "uploads", "arn:aws:s3:::uploads"),
    ],
)
def test_iam5_a_name_becomes_the_arn_of_its_kind(kind: str, name: str, arn: str) -> None:
    stack = new_stack()
    assert stack.resolve(resource_arn(stack, kind, name)) == arn
    assert KINDS[kind].name != "(?!)"


def test_iam5_a_new_simple_integration_is_one_record(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a record added to the registry, when a workload's access names it, then its task role
    gets exactly the record's actions on the named resource (and kms through its service)."""
    from ecs_platform.constructs import TaskRole

    monkeypatch.setitem(INTEGRATIONS, SES.type, SES)  # type: ignore[index]
    model = _model(SES)
    entry = model.model_validate({"type": "ses_send", "topic": "notices"})
    assert entry.resources() == [("topic", "topic", "notices")]

    app = new_app()
    stack = new_stack(app, "Registry")
    role = TaskRole(stack, "Role")
    role.grant_integration("ses_send", [resource_arn(stack, "topic", entry.topic)])
    (template,) = synth(app, stack)
    (policy,) = template.find_resources("AWS::IAM::ManagedPolicy").values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == ["ses:SendEmail", "ses:SendRawEmail"]
    assert statement["Resource"] == "arn:aws:sns:ap-northeast-1:123456789012:notices"
