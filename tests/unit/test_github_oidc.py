"""GithubDeployRole: GitHub Actions of one repository assume a role through OIDC that may run ``make deploy``
(issue 12, item 4): assume the CDK bootstrap roles, and make the deploy preflight's reads (IAM-8)."""

from __future__ import annotations

import ast
import inspect
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Duration, Validations
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from ecs_platform.app_builder import NAG_PACKS
from ecs_platform.cli import preflight
from ecs_platform.constructs import ConstructError, GithubDeployRole, GithubDeployRoleProps
from ecs_platform.constructs.github_oidc import ACCOUNT_READ_ACTIONS, STACK_READ_ACTIONS, subject_claims
from tests.helpers import nag_findings
from tests.unit.support import ACCOUNT, logical_id, nag_app, new_stack, only, pinned_with_reasons, synth, unacknowledged_findings

EXISTING_PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
AUD = "token.actions.githubusercontent.com:aud"
SUB = "token.actions.githubusercontent.com:sub"
REGIONS = ("ap-northeast-1", "us-east-1")
KINDS = ("deploy", "file-publishing", "image-publishing", "lookup")

#: The cdk-nag findings the construct acknowledges, and why. Changing this set is a security review.
PINNED = {
    # The preflight reads templates and resources of the app's stacks, whose ARNs end in a generated ID.
    "AwsSolutions-IAM5[Resource::arn:aws:cloudformation:ap-northeast-1:123456789012:stack/shop-prod-*/*]",
    "AwsSolutions-IAM5[Resource::arn:aws:cloudformation:us-east-1:123456789012:stack/shop-prod-*/*]",
    "AwsSolutions-IAM5[Resource::arn:aws:cloudformation:ap-northeast-1:123456789012:stack/shop-dev-*/*]",
    # DescribeStacks without a name, ListStacks, ELB DescribeRules and DescribeLogGroups: '*' only (in the deploy regions).
    "AwsSolutions-IAM5[Resource::*]",
}


def _props(**overrides: Any) -> GithubDeployRoleProps:
    values: dict[str, Any] = {
        "repository": "octo-org/shop",
        "regions": REGIONS,
        "stack_name_prefix": "shop-prod-",
        "branches": ["main"],
    }
    return GithubDeployRoleProps(**{**values, **overrides})


def _build(app: App) -> tuple[Any, Any, GithubDeployRole, GithubDeployRole]:
    """``created``: main and release/* branches, the production environment, two regions, a boundary, a new provider;
    ``existing``: the production environment only, an existing provider, one region, qualifier ``custom01``, 2 hours."""
    created_stack = new_stack(app, "Created")
    boundary = iam.ManagedPolicy.from_managed_policy_name(created_stack, "Boundary", "deploy-boundary")
    created = GithubDeployRole(
        created_stack,
        "Deploy",
        props=_props(branches=["main", "release/*", "main"], environments=["production"], permissions_boundary=boundary),
    )
    existing_stack = new_stack(app, "Existing")
    existing = GithubDeployRole(
        existing_stack,
        "Deploy",
        props=_props(
            branches=(),
            environments=["production"],
            provider_arn=EXISTING_PROVIDER,
            regions=["ap-northeast-1"],
            stack_name_prefix="shop-dev-",
            qualifier="custom01",
            max_session_duration=Duration.hours(2),
        ),
    )
    return created_stack, existing_stack, created, existing


@dataclass
class Scenario:
    created: Template
    existing: Template
    ids: dict[str, str]
    report: dict[str, Any]
    acknowledgements: dict[str, str]
    role: GithubDeployRole


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """Given the two roles of :func:`_build` in an app with every cdk-nag pack, when it is synthesized."""
    app = nag_app()
    created_stack, existing_stack, created, existing = _build(app)
    ids = {
        "created.role": logical_id(created.role),
        "created.provider": created_stack.get_logical_id(created.provider) if created.provider else "",
        "existing.role": logical_id(existing.role),
    }
    acknowledgements = {
        rule.split("::", 1)[1]: reason
        for construct in app.node.find_all()
        for entry in construct.node.metadata
        if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule, reason in entry.data.items()
    }
    created_template, existing_template = synth(app, created_stack, existing_stack)
    report = json.loads((Path(app.outdir) / "validation-report.json").read_text())
    return Scenario(created_template, existing_template, ids, report, acknowledgements, created)


def _role(template: Template) -> dict[str, Any]:
    props: dict[str, Any] = only(template, "AWS::IAM::Role")[1]["Properties"]
    return props


def _trust(template: Template) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = _role(template)["AssumeRolePolicyDocument"]["Statement"]
    return statements


def _statements(template: Template) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = only(template, "AWS::IAM::ManagedPolicy")[1]["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _granting(template: Template, action: str) -> list[dict[str, Any]]:
    found = []
    for statement in _statements(template):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if action in actions:
            found.append(statement)
    return found


# --- trust ---------------------------------------------------------------------------------------


def test_trust_takes_sts_audience_tokens_of_the_named_branch_and_environment_exactly(scenario: Scenario) -> None:
    """The first trust statement: web identity from the created provider, aud sts.amazonaws.com, and the sub of branch
    main (named twice, written once) and of environment production, compared with StringEquals."""
    first = _trust(scenario.created)[0]
    assert first == {
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Effect": "Allow",
        "Principal": {"Federated": {"Fn::GetAtt": [scenario.ids["created.provider"], "Arn"]}},
        "Condition": {
            "StringEquals": {
                AUD: "sts.amazonaws.com",
                SUB: ["repo:octo-org/shop:ref:refs/heads/main", "repo:octo-org/shop:environment:production"],
            }
        },
    }


def test_a_branch_pattern_the_caller_wrote_is_compared_with_string_like_in_its_own_statement(scenario: Scenario) -> None:
    """release/* is the only value compared with StringLike, in a second statement with the same audience and principal
    (in one statement, StringEquals and StringLike on sub would both have to match)."""
    trust = _trust(scenario.created)
    assert len(trust) == 2
    assert trust[1] == {
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Effect": "Allow",
        "Principal": {"Federated": {"Fn::GetAtt": [scenario.ids["created.provider"], "Arn"]}},
        "Condition": {"StringEquals": {AUD: "sts.amazonaws.com"}, "StringLike": {SUB: "repo:octo-org/shop:ref:refs/heads/release/*"}},
    }
    assert not any("*" in value for value in trust[0]["Condition"]["StringEquals"][SUB])


def test_the_created_provider_is_githubs_for_sts_without_a_thumbprint(scenario: Scenario) -> None:
    """The L1 AWS::IAM::OIDCProvider (no Lambda custom resource): GitHub's URL, sts.amazonaws.com as client ID, and no
    ThumbprintList (IAM verifies GitHub with its trusted CAs)."""
    provider_id, provider = only(scenario.created, "AWS::IAM::OIDCProvider")
    assert provider_id == scenario.ids["created.provider"]
    assert provider["Properties"] == {"Url": "https://token.actions.githubusercontent.com", "ClientIdList": ["sts.amazonaws.com"]}
    scenario.created.resource_count_is("AWS::Lambda::Function", 0)
    scenario.created.resource_count_is("Custom::AWSCDKOpenIdConnectProvider", 0)


def test_environment_patterns_are_patterns_and_a_branch_and_an_environment_of_one_name_are_two_claims() -> None:
    """* and ? in an environment name make a pattern; branch main and environment main are different subjects."""
    exact, patterns = subject_claims("octo-org/shop", ["main"], ["main", "preview-?", "pr-*"])
    assert exact == ["repo:octo-org/shop:ref:refs/heads/main", "repo:octo-org/shop:environment:main"]
    assert patterns == ["repo:octo-org/shop:environment:preview-?", "repo:octo-org/shop:environment:pr-*"]


def test_an_existing_provider_arn_is_trusted_and_no_provider_is_created(scenario: Scenario) -> None:
    """Given provider_arn and environments only, then no provider resource; the one trust statement names the given ARN
    and the environment's sub as a single exact value."""
    scenario.existing.resource_count_is("AWS::IAM::OIDCProvider", 0)
    assert _trust(scenario.existing) == [
        {
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Effect": "Allow",
            "Principal": {"Federated": EXISTING_PROVIDER},
            "Condition": {"StringEquals": {AUD: "sts.amazonaws.com", SUB: "repo:octo-org/shop:environment:production"}},
        }
    ]


def test_role_and_role_arn_are_exposed(scenario: Scenario) -> None:
    """role is the template's only role; role_arn is its ARN."""
    assert logical_id(scenario.role.role) == scenario.ids["created.role"]
    assert scenario.role.role.stack.resolve(scenario.role.role_arn) == {"Fn::GetAtt": [scenario.ids["created.role"], "Arn"]}


def test_max_session_duration_defaults_to_one_hour_and_takes_the_given_one(scenario: Scenario) -> None:
    assert _role(scenario.created)["MaxSessionDuration"] == 3600
    assert _role(scenario.existing)["MaxSessionDuration"] == 7200


# --- permissions -----------------------------------------------------------------------------------


def test_the_role_may_assume_exactly_the_four_bootstrap_roles_in_each_region(scenario: Scenario) -> None:
    """sts:AssumeRole on cdk-hnb659fds-{deploy,file-publishing,image-publishing,lookup}-role-<account>-<region> for both
    regions, nothing else; no sts:TagSession (the CLI passes no session tags with the default synthesizer)."""
    (statement,) = _granting(scenario.created, "sts:AssumeRole")
    assert statement == {
        "Action": "sts:AssumeRole",
        "Effect": "Allow",
        "Resource": sorted(
            f"arn:aws:iam::{ACCOUNT}:role/cdk-hnb659fds-{kind}-role-{ACCOUNT}-{region}" for region in REGIONS for kind in KINDS
        ),
    }
    assert _granting(scenario.created, "sts:TagSession") == []


def test_the_bootstrap_roles_follow_the_given_qualifier_and_regions(scenario: Scenario) -> None:
    (statement,) = _granting(scenario.existing, "sts:AssumeRole")
    assert sorted(statement["Resource"]) == [
        f"arn:aws:iam::{ACCOUNT}:role/cdk-custom01-{kind}-role-{ACCOUNT}-ap-northeast-1" for kind in KINDS
    ]


def test_preflight_reads_templates_and_resources_of_the_apps_stacks_only(scenario: Scenario) -> None:
    """GetTemplate and DescribeStackResources on the stacks named shop-prod-* of this account, in each region."""
    (statement,) = _granting(scenario.created, "cloudformation:GetTemplate")
    assert statement == {
        "Action": sorted(STACK_READ_ACTIONS),
        "Effect": "Allow",
        "Resource": [f"arn:aws:cloudformation:{region}:{ACCOUNT}:stack/shop-prod-*/*" for region in REGIONS],
    }


def test_preflight_reads_without_resource_permissions_are_on_star_in_the_deploy_regions_only(scenario: Scenario) -> None:
    """DescribeStacks (listing every stack), ListStacks, ELB DescribeRules and DescribeLogGroups: '*', limited by
    aws:RequestedRegion to the deploy regions."""
    (statement,) = _granting(scenario.created, "cloudformation:DescribeStacks")
    assert statement == {
        "Action": sorted(ACCOUNT_READ_ACTIONS),
        "Effect": "Allow",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:RequestedRegion": list(REGIONS)}},
    }


def test_these_are_all_the_grants(scenario: Scenario) -> None:
    """Three statements: the bootstrap roles, the app's stacks, the reads on '*'; nothing writes."""
    actions = [a for s in _statements(scenario.created) for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]
    assert sorted(actions) == sorted(["sts:AssumeRole", *STACK_READ_ACTIONS, *ACCOUNT_READ_ACTIONS])


def _preflight_calls() -> tuple[set[str], set[str]]:
    """(the services ``preflight`` asks ``clients`` for, the IAM actions of every client call in its source)."""
    tree = ast.parse(inspect.getsource(preflight))
    services: set[str] = set()
    actions: set[str] = set()
    prefix = {"cloudformation": "cloudformation", "elbv2": "elasticloadbalancing", "logs": "logs"}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        if isinstance(function, ast.Name) and function.id == "clients" and isinstance(node.args[0], ast.Constant):
            services.add(str(node.args[0].value))
        elif isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name) and function.value.id in prefix:
            operation = function.attr
            if operation == "get_paginator" and isinstance(node.args[0], ast.Constant):
                operation = str(node.args[0].value)
            camel = "".join(part.capitalize() for part in operation.split("_"))
            actions.add(f"{prefix[function.value.id]}:{camel}")
    return services, actions


def test_every_call_of_the_preflight_is_granted(scenario: Scenario) -> None:
    """The client calls in ecs_platform/cli/preflight.py (read from its source, so a new call fails this test) are all
    granted; DescribeStacks lists every stack, so ListStacks goes with it (AWS documents both)."""
    services, actions = _preflight_calls()
    assert services == {"cloudformation", "elbv2", "logs"}
    assert actions == {
        "cloudformation:DescribeStacks",
        "cloudformation:GetTemplate",
        "cloudformation:DescribeStackResources",
        "elasticloadbalancing:DescribeRules",
        "logs:DescribeLogGroups",
    }
    for action in actions:
        assert _granting(scenario.created, action), action


def test_no_aws_managed_policy_and_no_inline_policy(scenario: Scenario) -> None:
    """IAM-8: grants in one customer-managed policy attached to the role; no ManagedPolicyArns, Policies or AWS::IAM::Policy."""
    for template, role in ((scenario.created, "created.role"), (scenario.existing, "existing.role")):
        template.resource_count_is("AWS::IAM::Policy", 0)
        assert "ManagedPolicyArns" not in _role(template) and "Policies" not in _role(template)
        assert only(template, "AWS::IAM::ManagedPolicy")[1]["Properties"]["Roles"] == [{"Ref": scenario.ids[role]}]


def test_permissions_boundary_is_set_when_given(scenario: Scenario) -> None:
    assert _role(scenario.created)["PermissionsBoundary"] == f"arn:aws:iam::{ACCOUNT}:policy/deploy-boundary"
    assert "PermissionsBoundary" not in _role(scenario.existing)


# --- cdk-nag -----------------------------------------------------------------------------------------


def test_synthesizes_with_every_nag_pack_and_no_unacknowledged_finding(scenario: Scenario) -> None:
    """The four packs are registered (a pack appears in the report only with findings: the compliance packs have
    none here) and no finding is left unacknowledged."""
    assert len(NAG_PACKS) == 4
    ran = {plugin["pluginName"] for plugin in scenario.report["pluginReports"]}
    assert "AwsSolutions" in ran
    assert ran <= {"AwsSolutions", "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321", "CloudFormation Validate"}
    assert nag_findings(scenario.report, "violations") == Counter()


def test_acknowledgements_are_pinned_and_carry_reasons(scenario: Scenario) -> None:
    """The acknowledged rule IDs are exactly :data:`PINNED`, each with a reason a reviewer can judge."""
    assert pinned_with_reasons(scenario.report, scenario.acknowledgements, PINNED) == []


def test_every_acknowledgement_matches_a_real_finding(scenario: Scenario) -> None:
    """Synthesized with acknowledgements off, the findings are exactly the acknowledged ones."""
    assert unacknowledged_findings(_build) == nag_findings(scenario.report, "suppressedViolations")


# --- refused props -------------------------------------------------------------------------------------


def _refused(**overrides: Any) -> str:
    with pytest.raises(ConstructError) as raised:
        GithubDeployRole(new_stack(), "Deploy", props=_props(**overrides))
    assert raised.value.path == "Test/Deploy"
    return str(raised.value)


def test_fails_when_neither_branches_nor_environments_are_given() -> None:
    """A role every branch of the repository could assume is refused."""
    message = _refused(branches=(), environments=())
    assert "branches and environments are both empty for octo-org/shop" in message
    assert "allowed: at least one branch (main) or environment (production)" in message


@pytest.mark.parametrize(
    "repository",
    ["octo-org", "octo-org/shop/extra", "-org/shop", "octo_org/shop", "octo-org/sh op", "octo-org/*", "*/shop", "octo-org/..", "/shop", ""],
)
def test_fails_when_the_repository_is_not_owner_slash_name(repository: str) -> None:
    message = _refused(repository=repository)
    assert f"repository: {repository!r} is not a GitHub repository; allowed: owner/name" in message


@pytest.mark.parametrize(
    ("branch", "problem"),
    [
        ("refs/heads/main", "is a ref; allowed: the branch name without refs/heads/"),
        ("*", "matches every branch"),
        ("**/*", "matches every branch"),
        ("feature branch", "is not a branch name"),
        ("a..b", "is not a branch name"),
        ("fix:1", "is not a branch name"),
        ("what?", "is not a branch name"),
        ("/main", "is not a branch name"),
        ("main.lock", "is not a branch name"),
        ("", "is not a branch name"),
    ],
)
def test_fails_when_a_branch_is_not_a_branch_name(branch: str, problem: str) -> None:
    assert f"branches: {branch!r} {problem}" in _refused(branches=[branch])


@pytest.mark.parametrize(("environment", "problem"), [("*", "matches every environment"), ("", "is not an environment name")])
def test_fails_when_an_environment_is_empty_or_only_a_wildcard(environment: str, problem: str) -> None:
    assert f"environments: {environment!r} {problem}" in _refused(environments=[environment])


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({"regions": ()}, "regions is empty; allowed: the regions make deploy deploys to", id="no_region"),
        pytest.param({"regions": ["Tokyo"]}, "regions: 'Tokyo' is not a region name", id="region_name"),
        pytest.param(
            {"qualifier": "much-too-long"},
            "qualifier: 'much-too-long' is not a CDK bootstrap qualifier; allowed: 1 to 10",
            id="qualifier_length",
        ),
        pytest.param({"qualifier": "a*"}, "qualifier: 'a*' is not a CDK bootstrap qualifier", id="qualifier_wildcard"),
        pytest.param({"stack_name_prefix": ""}, "stack_name_prefix: '' is not the start of a stack name", id="empty_prefix_is_every_stack"),
        pytest.param({"stack_name_prefix": "shop-*"}, "stack_name_prefix: 'shop-*' is not the start of a stack name", id="prefix_wildcard"),
        pytest.param(
            {"provider_arn": f"arn:aws:iam::{ACCOUNT}:oidc-provider/example.com"},
            f"provider_arn: 'arn:aws:iam::{ACCOUNT}:oidc-provider/example.com' is not GitHub's OIDC provider",
            id="provider_of_another_issuer",
        ),
        pytest.param(
            {"provider_arn": EXISTING_PROVIDER.replace(ACCOUNT, "999999999999")},
            f"is in account 999999999999, the role in {ACCOUNT}",
            id="provider_of_another_account",
        ),
        pytest.param(
            {"max_session_duration": Duration.minutes(30)},
            "max_session_duration: 1800 seconds is out of range; allowed: 3600..43200",
            id="session_under_an_hour",
        ),
        pytest.param(
            {"max_session_duration": Duration.hours(13)}, "max_session_duration: 46800 seconds is out of range", id="session_over_12_hours"
        ),
    ],
)
def test_fails_when_a_prop_is_out_of_its_rule(overrides: dict[str, Any], expected: str) -> None:
    assert expected in _refused(**overrides)
