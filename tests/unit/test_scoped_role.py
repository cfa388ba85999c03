"""ScopedRole, ExecutionRole and TaskRole, built directly in a plain stack.

Grants land in one customer-managed policy per role (IAM-8, no inline ``DefaultPolicy``,
no AWS managed policy); ECS roles trust only this account's ECS tasks (IAM-6); a grant on
resource ``*`` is refused unless the action has no resource-level permission.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match, Template

from ecs_platform.constructs import RESOURCE_WILDCARD_ONLY, EcsTaskRoleProps, ExecutionRole, ScopedRole, ScopedRoleProps, TaskRole
from tests.unit.support import ACCOUNT, logical_id, new_app, new_stack, of_type, synth

ECS_TASKS_TRUST = [
    {
        "Action": "sts:AssumeRole",
        "Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"},
        "Condition": {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": f"arn:aws:ecs:ap-northeast-1:{ACCOUNT}:*"},
        },
    }
]


@dataclass
class Scenario:
    template: Template
    ids: dict[str, str]
    task_role: TaskRole
    execution_role: ExecutionRole
    plain: ScopedRole
    plain_result: iam.AddToPrincipalPolicyResult


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """Given a task role granted read on a bucket, consume on a queue and the ECR login token,
    an execution role with a permissions boundary and no grant, and a plain ScopedRole with
    one statement, all in one plain stack."""
    app = new_app()
    stack = new_stack(app)
    bucket = s3.Bucket(stack, "Bucket")
    queue = sqs.Queue(stack, "Queue")
    task_role = TaskRole(stack, "TaskRole")
    bucket.grant_read(task_role)
    queue.grant_consume_messages(task_role)
    task_role.add_to_policy(iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]))
    boundary = iam.ManagedPolicy.from_managed_policy_name(stack, "Boundary", "ecs-boundary")
    execution_role = ExecutionRole(stack, "ExecutionRole", props=EcsTaskRoleProps(permissions_boundary=boundary))
    plain = ScopedRole(
        stack, "Plain", props=ScopedRoleProps(assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description="plain role")
    )
    plain_result = plain.add_to_principal_policy(iam.PolicyStatement(actions=["s3:PutObject"], resources=[bucket.arn_for_objects("in/*")]))
    ids = {
        name: logical_id(construct)
        for name, construct in {
            "task_role": task_role,
            "execution_role": execution_role,
            "plain": plain,
            "bucket": bucket,
            "queue": queue,
        }.items()
    }
    # When the app is synthesized
    (template,) = synth(app, stack)
    return Scenario(template, ids, task_role, execution_role, plain, plain_result)


def _policies_of(scenario: Scenario, role: str) -> dict[str, dict[str, Any]]:
    return {
        k: v
        for k, v in of_type(scenario.template, "AWS::IAM::ManagedPolicy").items()
        if {"Ref": scenario.ids[role]} in v["Properties"]["Roles"]
    }


def _role(scenario: Scenario, role: str) -> dict[str, Any]:
    props: dict[str, Any] = of_type(scenario.template, "AWS::IAM::Role")[scenario.ids[role]]["Properties"]
    return props


# --- IAM-8: grants in one customer-managed policy -----------------------------------------


def test_iam8_every_grant_lands_in_one_managed_policy_attached_to_the_role(scenario: Scenario) -> None:
    """IAM-8: grant_read, grant_consume_messages and add_to_policy all end up in one AWS::IAM::ManagedPolicy."""
    (policy,) = _policies_of(scenario, "task_role").values()
    bucket, queue = scenario.ids["bucket"], scenario.ids["queue"]
    assert policy["Properties"]["Roles"] == [{"Ref": scenario.ids["task_role"]}]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": ["s3:GetBucket*", "s3:GetObject*", "s3:List*"],
            "Effect": "Allow",
            "Resource": [
                {"Fn::GetAtt": [bucket, "Arn"]},
                {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/*"]]},
            ],
        },
        {
            "Action": [
                "sqs:ChangeMessageVisibility",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:GetQueueUrl",
                "sqs:ReceiveMessage",
            ],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [queue, "Arn"]},
        },
        {"Action": "ecr:GetAuthorizationToken", "Effect": "Allow", "Resource": "*"},
    ]


def test_iam8_no_inline_policy_and_no_aws_managed_policy(scenario: Scenario) -> None:
    """IAM-8: no AWS::IAM::Policy (CDK's inline DefaultPolicy), no Policies and no ManagedPolicyArns on any role."""
    scenario.template.resource_count_is("AWS::IAM::Policy", 0)
    for role in of_type(scenario.template, "AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]
        assert "Policies" not in role["Properties"]


def test_a_role_without_grants_has_no_policy(scenario: Scenario) -> None:
    """Given the execution role with no grant, then no managed policy exists for it."""
    assert _policies_of(scenario, "execution_role") == {}
    assert scenario.execution_role.scoped_policy is None
    scenario.template.resource_count_is("AWS::IAM::ManagedPolicy", 2)


def test_add_to_principal_policy_reports_the_managed_policy(scenario: Scenario) -> None:
    """add_to_principal_policy says the statement was added and returns the managed policy as the dependable."""
    assert scenario.plain_result.statement_added is True
    assert scenario.plain_result.policy_dependable is scenario.plain.scoped_policy
    assert scenario.plain.scoped_policy is not None
    assert scenario.plain.scoped_policy.node.id == "Policy"
    (policy,) = _policies_of(scenario, "plain").values()
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": "s3:PutObject",
            "Effect": "Allow",
            "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [scenario.ids["bucket"], "Arn"]}, "/in/*"]]},
        }
    ]


def test_ecr_get_authorization_token_on_star_is_accepted() -> None:
    """IAM-1: ecr:GetAuthorizationToken has no resource-level permission, so '*' is allowed for it."""
    assert "ecr:GetAuthorizationToken" in RESOURCE_WILDCARD_ONLY
    role = TaskRole(new_stack(), "TaskRole")
    # When / Then: no error
    assert role.add_to_policy(iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"])) is True


# --- IAM-6: trust ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["task_role", "execution_role"])
def test_iam6_ecs_roles_trust_this_accounts_ecs_tasks_only(scenario: Scenario, role: str) -> None:
    """IAM-6: ecs-tasks.amazonaws.com, sts:AssumeRole, aws:SourceAccount and aws:SourceArn conditions."""
    assert _role(scenario, role)["AssumeRolePolicyDocument"] == {"Statement": ECS_TASKS_TRUST, "Version": "2012-10-17"}


def test_scoped_role_trusts_the_principal_it_is_given(scenario: Scenario) -> None:
    """A plain ScopedRole keeps the principal and description it was given."""
    assert _role(scenario, "plain") == {
        "AssumeRolePolicyDocument": {
            "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}],
            "Version": "2012-10-17",
        },
        "Description": "plain role",
    }


def test_roles_describe_their_purpose(scenario: Scenario) -> None:
    assert _role(scenario, "execution_role")["Description"] == "ECS task execution role: image pull, logs, secrets"
    assert _role(scenario, "task_role")["Description"] == "ECS task role: the application's own AWS permissions"


def test_permissions_boundary_is_set_when_given(scenario: Scenario) -> None:
    """Given a boundary for the execution role only, then only that role carries PermissionsBoundary."""
    assert _role(scenario, "execution_role")["PermissionsBoundary"] == f"arn:aws:iam::{ACCOUNT}:policy/ecs-boundary"
    assert "PermissionsBoundary" not in _role(scenario, "task_role")
    scenario.template.has_resource_properties("AWS::IAM::Role", {"PermissionsBoundary": Match.any_value()})


def test_no_physical_role_names(scenario: Scenario) -> None:
    """CloudFormation names the roles (house style: no hard-coded physical names)."""
    for role in of_type(scenario.template, "AWS::IAM::Role").values():
        assert "RoleName" not in role["Properties"]


# --- '*' only where AWS offers no resource-level permission --------------------------------


def test_fails_when_an_action_with_resource_permissions_is_granted_on_star() -> None:
    """Given s3:GetObject on '*', then ValueError names the role path and the action."""
    role = TaskRole(new_stack(), "TaskRole")
    with pytest.raises(ValueError, match=r"Test/TaskRole: s3:GetObject granted on resource '\*'; allowed: a resource ARN"):
        role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))


def test_fails_when_one_of_several_actions_on_star_is_not_exempt() -> None:
    """Given ecr:GetAuthorizationToken and dynamodb:Scan on '*', then only dynamodb:Scan is named as granted."""
    role = ExecutionRole(new_stack(), "ExecutionRole")
    statement = iam.PolicyStatement(actions=["ecr:GetAuthorizationToken", "dynamodb:Scan"], resources=["*"])
    with pytest.raises(ValueError, match=r"ExecutionRole: dynamodb:Scan granted on resource '\*'") as raised:
        role.add_to_principal_policy(statement)
    assert "ecr:GetAuthorizationToken granted" not in str(raised.value)


def test_fails_when_a_grant_helper_asks_for_star() -> None:
    """Given iam.Grant.add_to_principal with resource '*', then the role refuses it too (grants use the same path).

    The grant runs in CDK's JavaScript and calls the Python override back; jsii turns the
    ValueError raised there into a RuntimeError with the same message.
    """
    role = ScopedRole(new_stack(), "Role", props=ScopedRoleProps(assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com")))
    with pytest.raises(RuntimeError, match=r"ec2:TerminateInstances granted on resource '\*'"):
        iam.Grant.add_to_principal(grantee=role, actions=["ec2:TerminateInstances"], resource_arns=["*"])


def test_fails_when_star_is_one_of_several_resources() -> None:
    """Given s3:DeleteObject on [an object ARN, '*'], then ValueError (the '*' grants every object)."""
    role = TaskRole(new_stack(), "TaskRole")
    with pytest.raises(ValueError, match=r"s3:DeleteObject granted on resource '\*'"):
        role.add_to_policy(iam.PolicyStatement(actions=["s3:DeleteObject"], resources=["arn:aws:s3:::bucket/*", "*"]))


def test_a_refused_statement_is_not_left_in_the_policy() -> None:
    """Given a refused grant whose ValueError the caller catches, then the template holds no such statement."""
    stack = new_stack()
    role = TaskRole(stack, "TaskRole")
    with pytest.raises(ValueError, match="s3:GetObject"):
        role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))
    Template.from_stack(stack).resource_count_is("AWS::IAM::ManagedPolicy", 0)
