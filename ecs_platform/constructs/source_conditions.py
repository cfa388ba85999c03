"""Confused-deputy protection: every AWS service principal is limited to this account's resources.

When a policy lets an AWS service act (assume a role, publish to a topic, use a key, write to a
bucket), the service could be acting for someone else's resource. AWS documents the global
condition keys ``aws:SourceAccount`` and ``aws:SourceArn`` for that; :data:`SOURCE_ARNS` says, per
service principal, which of this account's resources may be the source, and :func:`service_principal`
and :class:`SourceConditions` put both conditions on every statement that names the service,
including the statements CDK writes itself (an EventBridge target's topic grant, a log bucket's
delivery grant). :data:`NO_SOURCE_CONDITION` lists the principals that get none, with AWS's reason:
a condition the service does not satisfy would silently stop its delivery.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import jsii
from aws_cdk import ArnFormat, CfnResource, IAspect, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import IConstruct


def _arn(service: str, resource: str, name: str = "*", separator: str = "/") -> Callable[[Stack], str]:
    arn_format = ArnFormat.COLON_RESOURCE_NAME if separator == ":" else ArnFormat.SLASH_RESOURCE_NAME
    return lambda stack: stack.format_arn(service=service, resource=resource, resource_name=name, arn_format=arn_format)


SOURCE_ARNS: Mapping[str, Callable[[Stack], str]] = {
    # ECS tasks assume the task and execution roles (IAM-6).
    "ecs-tasks.amazonaws.com": lambda stack: stack.format_arn(service="ecs", resource="*"),
    # EventBridge Scheduler assumes the schedules' roles.
    "scheduler.amazonaws.com": _arn("scheduler", "schedule"),
    # Step Functions assumes the state machines' roles.
    "states.amazonaws.com": _arn("states", "stateMachine", separator=":"),
    # VPC flow logs assume their delivery role.
    "vpc-flow-logs.amazonaws.com": _arn("ec2", "vpc-flow-log"),
    # EventBridge rules publish to topics (and use their keys).
    "events.amazonaws.com": _arn("events", "rule"),
    # CloudWatch alarms publish to topics (and use their keys).
    "cloudwatch.amazonaws.com": _arn("cloudwatch", "alarm", separator=":"),
    # Vended log delivery writes to log buckets.
    "delivery.logs.amazonaws.com": lambda stack: stack.format_arn(service="logs", resource="*"),
    # CodeBuild assumes its projects' service roles; AWS documents the project as aws:SourceArn.
    "codebuild.amazonaws.com": _arn("codebuild", "project"),
    # AWS Config assumes the recorder's role; AWS documents its source as arn:aws:config:<region>:<account>:*.
    "config.amazonaws.com": lambda stack: stack.format_arn(service="config", resource="*"),
    # SNS topics deliver to the queues subscribed to them (and use the queues' keys); AWS documents the topic as aws:SourceArn.
    "sns.amazonaws.com": lambda stack: stack.format_arn(service="sns", resource="*"),
    # RDS Enhanced Monitoring assumes its role; AWS documents the DB instance (arn:aws:rds:<region>:<account>:db:<name>) as aws:SourceArn.
    "monitoring.rds.amazonaws.com": _arn("rds", "db", separator=":"),
}
"""Service principal -> the ARN pattern of the sources that may use it: this account's, in this region."""

NO_SOURCE_CONDITION: Mapping[str, str] = {
    "ecs.amazonaws.com": "AWS documents the ECS infrastructure role's trust policy without conditions, and not that ECS "
    "passes aws:SourceAccount or aws:SourceArn when it assumes the role: a condition could stop ECS from shifting traffic.",
    "ec2.amazonaws.com": "AWS documents the EC2 instance role's trust policy without conditions, and EC2 does not pass "
    "aws:SourceAccount or aws:SourceArn when an instance gets its credentials: only a principal allowed iam:PassRole on the "
    "role can put it on an instance, in this account.",
    "ecr.amazonaws.com": "AWS documents the trust policy of the role ECR assumes for repository creation templates without "
    "conditions, and not that ECR passes aws:SourceAccount or aws:SourceArn: a condition could stop ECR from creating the "
    "pull-through cache repositories.",
    "chatbot.amazonaws.com": "AWS documents the AWS Chatbot channel role's trust policy without conditions, and not that Chatbot "
    "passes aws:SourceAccount or aws:SourceArn: a condition could stop the channel from reading the alarms.",
    "logs.<region>.amazonaws.com": "CloudWatch Logs is limited by the kms:EncryptionContext:aws:logs:arn condition, which AWS "
    "documents for customer-managed keys of log groups.",
    "logging.s3.amazonaws.com": "S3 server access logging: CDK writes aws:SourceAccount and aws:SourceArn (the source bucket) itself.",
    "codepipeline.amazonaws.com": "AWS documents the CodePipeline service role's trust policy without conditions, and not that "
    "CodePipeline passes aws:SourceAccount or aws:SourceArn when it assumes the role: a condition could stop every pipeline run.",
    "codestar-notifications.amazonaws.com": "AWS documents aws:SourceAccount only (no aws:SourceArn) for notification rules "
    "publishing to a topic, and kms:ViaService for their use of the topic's key: those statements carry exactly these conditions.",
    "cloudtrail.amazonaws.com": "AWS documents that the trust policy of the role CloudTrail assumes to deliver to CloudWatch Logs "
    "does not support aws:SourceArn or aws:SourceAccount; the trail's bucket and key statements carry them (the trail's ARN), "
    "written by Governance itself.",
}
"""Service principals that carry no aws:SourceAccount/aws:SourceArn, and why."""


def source_conditions(service: str, stack: Stack, source_arn: str | None = None) -> dict[str, dict[str, Any]]:
    """The conditions that limit ``service`` to ``source_arn`` (default: its pattern in :data:`SOURCE_ARNS`) of this account."""
    arn = source_arn or SOURCE_ARNS[service](stack)
    return {"StringEquals": {"aws:SourceAccount": stack.account}, "ArnLike": {"aws:SourceArn": arn}}


def service_principal(service: str, *, scope: IConstruct, source_arn: str | None = None) -> iam.ServicePrincipal:
    """``service`` as a principal limited to this account's sources (see :data:`SOURCE_ARNS`); a service of
    :data:`NO_SOURCE_CONDITION` gets no condition."""
    if _documented_without(service):
        return iam.ServicePrincipal(service)
    return iam.ServicePrincipal(service, conditions=source_conditions(service, Stack.of(scope), source_arn))


def _documented_without(service: str) -> bool:
    return service in NO_SOURCE_CONDITION or re.sub(r"\.[a-z]{2}(-[a-z]+)+-\d\.", ".<region>.", service) in NO_SOURCE_CONDITION


@jsii.implements(IAspect)
class SourceConditions:
    """An aspect: every statement under the scope that allows a service of :data:`SOURCE_ARNS` without
    ``aws:SourceAccount`` or ``aws:SourceArn`` gets them (a property override of the resource's document)."""

    def visit(self, node: IConstruct) -> None:
        found = _document(node)
        if found is None:
            return
        resource, prop, document = found
        stack = Stack.of(resource)
        for i, statement in enumerate(stack.resolve(document).get("Statement", [])):
            merged = _with_source_conditions(statement, stack)
            if merged is not None:
                resource.add_property_override(f"{prop}.Statement.{i}.Condition", merged)


def _document(node: IConstruct) -> tuple[CfnResource, str, Any] | None:
    """The resource, the property and the policy document of a topic, queue or bucket policy, a key or a role."""
    if isinstance(node, (sns.CfnTopicPolicy, sqs.CfnQueuePolicy, s3.CfnBucketPolicy)):
        return node, "PolicyDocument", node.policy_document
    if isinstance(node, kms.CfnKey):
        return node, "KeyPolicy", node.key_policy
    if isinstance(node, iam.CfnRole):
        return node, "AssumeRolePolicyDocument", node.assume_role_policy_document
    return None


def _with_source_conditions(statement: Mapping[str, Any], stack: Stack) -> dict[str, Any] | None:
    """The statement's conditions with the missing source conditions added; None if nothing is missing."""
    if statement.get("Effect") != "Allow":
        return None
    principal = statement.get("Principal")
    services = principal.get("Service", []) if isinstance(principal, Mapping) else []
    services = [services] if isinstance(services, str) else list(services)
    wanted = [s for s in services if isinstance(s, str) and s in SOURCE_ARNS]
    if not wanted or len(wanted) != len(services):
        return None  # several services with different sources: written by hand with their own conditions
    condition: dict[str, dict[str, Any]] = {op: dict(values) for op, values in (statement.get("Condition") or {}).items()}
    if "aws:SourceAccount" in condition.get("StringEquals", {}) and "aws:SourceArn" in condition.get("ArnLike", {}):
        return None
    for op, values in source_conditions(wanted[0], stack).items():
        for key, value in values.items():
            condition.setdefault(op, {}).setdefault(key, stack.resolve(value))
    return condition
