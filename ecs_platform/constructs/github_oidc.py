"""GithubDeployRole: the role GitHub Actions workflows of one repository assume to run ``make deploy``
(issue 12, item 4), without AWS keys stored in GitHub.

GitHub signs a short-lived OIDC token for each job; IAM trades it for the role's credentials
(``sts:AssumeRoleWithWebIdentity``) when the token's audience is STS and its subject names one of the
repository's branches or environments. The role may then do exactly what ``make deploy`` does:

- assume the four roles of the account's CDK bootstrap stack in the given regions (deploy, file and
  image publishing, lookup): the CDK CLI synthesizes, publishes assets and deploys through them, so
  the role itself needs no CloudFormation, S3 or ECR write right;
- read what ``ecs-platform preflight`` reads before the deploy: the stacks of the account (to find
  the app's by its tags), the templates and resources of the app's stacks (``<prefix>*``), the
  listener rules and the log groups.

Every grant is in one customer-managed policy (:class:`ScopedRole`, IAM-8), no AWS managed policy.

Trust, as GitHub and AWS document it for GitHub's OIDC provider:

- the token's ``aud`` must be ``sts.amazonaws.com`` (what ``aws-actions/configure-aws-credentials``
  asks GitHub for);
- its ``sub`` must be ``repo:<owner>/<name>:ref:refs/heads/<branch>`` for a job that names no
  environment, or ``repo:<owner>/<name>:environment:<environment>`` for a job that does (GitHub then
  puts the environment in the subject, not the branch: a job deploying from ``main`` into the
  ``production`` environment matches ``environments=["production"]``, not ``branches=["main"]``).
  Protect such environments in GitHub (required reviewers, deployment branches): their rules are
  what stands between a push and the account. These are GitHub's default subject claims; a
  repository or organization that customized its subject template needs another trust.
- Values are compared exactly (``StringEquals``, case-sensitive: spell them as GitHub does). A value
  with a wildcard the caller wrote (``release/*``; ``*`` or ``?`` in an environment name, git refuses
  ``?`` in a branch name) is a pattern: only those values are compared with ``StringLike``, in a
  second statement of the trust policy (two operators on ``sub`` in one statement would both have
  to match). No wildcard is ever added, and a value that is nothing but wildcards is refused.

The OIDC provider: an account has at most one per URL, so a second stack that creates one fails;
pass ``provider_arn`` where one exists. Otherwise the construct creates it with the L1
``AWS::IAM::OIDCProvider`` (``iam.OpenIdConnectProvider`` would deploy a Lambda-backed custom
resource with an AWS managed policy). It sets no ``ThumbprintList``: the property is optional, and
IAM verifies GitHub's endpoint with its own library of trusted certificate authorities instead of
thumbprints, so a pinned thumbprint would only be stale configuration after GitHub renews its
certificate.

``sts:TagSession`` is not granted: the CDK CLI passes session tags to the bootstrap roles only when a
stack synthesizer sets ``Tags`` in its ``*AdditionalOptions`` (this project's default synthesizer does
not), and GitHub's token carries no session tags to pass on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_iam as iam
from constructs import Construct

from ecs_platform.constructs.acknowledge import acknowledge, nag_text
from ecs_platform.constructs.errors import ConstructError, refuse, unresolved
from ecs_platform.constructs.scoped_role import ScopedRole, ScopedRoleProps

#: GitHub's OIDC issuer for github.com, the provider's URL, and the prefix of its IAM condition keys.
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
#: The audience ``aws-actions/configure-aws-credentials`` requests, and the provider's only client ID.
STS_AUDIENCE = "sts.amazonaws.com"
#: The CDK bootstrap stack's default qualifier (``cdk bootstrap`` without ``--qualifier``).
DEFAULT_QUALIFIER = "hnb659fds"
#: The roles of the CDK bootstrap stack the CLI assumes: ``cdk-<qualifier>-<kind>-role-<account>-<region>``.
BOOTSTRAP_ROLE_KINDS = ("deploy", "file-publishing", "image-publishing", "lookup")
#: What ``ecs-platform preflight`` reads of the app's stacks, by name (``StackName`` given).
STACK_READ_ACTIONS = ("cloudformation:GetTemplate", "cloudformation:DescribeStackResources")
#: What it reads without naming a resource: every stack (it picks the app's by tag), listener rules, log groups.
ACCOUNT_READ_ACTIONS = (
    "cloudformation:DescribeStacks",
    "cloudformation:ListStacks",
    "elasticloadbalancing:DescribeRules",
    "logs:DescribeLogGroups",
)

_OWNER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}")
_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
_QUALIFIER = re.compile(r"[A-Za-z0-9_-]{1,10}")
_REGION = re.compile(r"[a-z]{2,4}(-[a-z]+)+-\d{1,2}")
_STACK_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")
_PROVIDER_ARN = re.compile(rf"arn:aws[a-z-]*:iam::(\d{{12}}):oidc-provider/{re.escape(GITHUB_OIDC_HOST)}")
#: Characters git refuses in a branch name (``git check-ref-format``); ``*`` is left out: it is the caller's pattern.
_NOT_IN_BRANCH = re.compile(r"[\x00-\x20\x7f~^:?\[\\]|\.\.|@\{|//|^/|/$|\.$|\.lock$|(^|/)\.|^@$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_WILDCARDS = ("*", "?")
#: IAM's bounds of a role's maximum session duration.
_MIN_SESSION, _MAX_SESSION = 3600, 12 * 3600


@dataclass(frozen=True, kw_only=True)
class GithubDeployRoleProps:
    repository: str
    """The GitHub repository whose workflows may assume the role: ``owner/name``."""
    regions: Sequence[str]
    """The regions ``make deploy`` deploys to (at least one): the bootstrap roles of each, and the preflight's reads there."""
    stack_name_prefix: str
    """The start of the app's stack names (``<app>-<env>-`` in this project, e.g. ``shop-prod-``): the preflight reads
    templates and resources of those stacks only."""
    branches: Sequence[str] = ()
    """Branches whose jobs (those that name no environment) may assume the role: ``main``, or a pattern the caller
    writes with ``*`` (``release/*``). At least one of ``branches`` and ``environments``. Default: none."""
    environments: Sequence[str] = ()
    """GitHub environments whose jobs may assume the role (``production``), or a pattern the caller writes with ``*`` or
    ``?``. At least one of ``branches`` and ``environments``. Default: none."""
    provider_arn: str | None = None
    """ARN of the account's existing GitHub OIDC provider (``arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com``).
    Default: a new provider (an account holds one per URL: give the existing one's ARN if there is one)."""
    qualifier: str = DEFAULT_QUALIFIER
    """Qualifier of the CDK bootstrap stack (``cdk bootstrap --qualifier``). Default: ``hnb659fds``, CDK's default."""
    permissions_boundary: iam.IManagedPolicy | None = None
    """Permissions boundary of the role. Default: none."""
    max_session_duration: Duration = Duration.hours(1)
    """Longest session a workflow may ask for (1 to 12 hours). The CDK CLI renews the bootstrap roles' sessions with
    the workflow's credentials, so a deploy that runs longer needs a longer session here and in the workflow's
    ``role-duration-seconds``. Default: 1 hour."""


class GithubDeployRole(Construct):
    """An IAM role that GitHub Actions jobs of one repository's named branches or environments assume through
    GitHub's OIDC provider, allowed to assume the CDK bootstrap roles and to run the deploy preflight's reads."""

    def __init__(self, scope: Construct, construct_id: str, *, props: GithubDeployRoleProps) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        _check(self, props, stack)
        self.provider: iam.CfnOIDCProvider | None = None
        """The OIDC provider this construct created (None when ``provider_arn`` was given)."""
        if props.provider_arn is None:
            self.provider = iam.CfnOIDCProvider(self, "Provider", url=GITHUB_OIDC_URL, client_id_list=[STS_AUDIENCE])
            self.provider_arn: str = self.provider.attr_arn
        else:
            self.provider_arn = props.provider_arn
        """ARN of the OIDC provider the role trusts."""
        exact, patterns = subject_claims(props.repository, props.branches, props.environments)
        trusts = [
            _trust(self.provider_arn, operator, values)
            for operator, values in (("StringEquals", exact), ("StringLike", patterns))
            if values
        ]
        self.role = ScopedRole(
            self,
            "Role",
            props=ScopedRoleProps(
                assumed_by=trusts[0],
                description=f"GitHub Actions of {props.repository} run make deploy (CDK bootstrap roles, preflight reads)",
                permissions_boundary=props.permissions_boundary,
            ),
        )
        """The role the workflows assume (``role-to-assume`` of ``aws-actions/configure-aws-credentials``)."""
        for extra in trusts[1:]:
            assert self.role.assume_role_policy is not None  # a role built with assumed_by has one
            self.role.assume_role_policy.add_statements(
                iam.PolicyStatement(
                    actions=[extra.assume_role_action],
                    principals=[iam.FederatedPrincipal(self.provider_arn)],
                    conditions=extra.policy_fragment.conditions,
                )
            )
        cast(iam.CfnRole, self.role.node.default_child).max_session_duration = props.max_session_duration.to_seconds()
        self.role_arn: str = self.role.role_arn
        """ARN of the role."""
        regions = list(dict.fromkeys(props.regions))
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["sts:AssumeRole"],
                resources=[bootstrap_role_arn(stack, props.qualifier, kind, region) for region in regions for kind in BOOTSTRAP_ROLE_KINDS],
            )
        )
        stacks = [
            stack.format_arn(service="cloudformation", region=region, resource="stack", resource_name=f"{props.stack_name_prefix}*/*")
            for region in regions
        ]
        self.role.add_to_principal_policy(iam.PolicyStatement(actions=list(STACK_READ_ACTIONS), resources=stacks))
        # Only the calls without resource-level permission are on '*'; the region condition keeps them to the deploy's regions.
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(ACCOUNT_READ_ACTIONS),
                resources=["*"],
                conditions={"StringEquals": {"aws:RequestedRegion": regions}},
            )
        )
        for arn in stacks:
            acknowledge(
                cast(iam.ManagedPolicy, self.role.scoped_policy),
                f"AwsSolutions-IAM5[Resource::{nag_text(self, arn)}]",
                f"The deploy preflight reads the templates and resources of the app's stacks: those named {props.stack_name_prefix}*, "
                "whose stack IDs end in a generated suffix (stack/<name>/<id>).",
            )


def bootstrap_role_arn(stack: Stack, qualifier: str, kind: str, region: str) -> str:
    """ARN of the CDK bootstrap stack's ``kind`` role (``deploy``, ``lookup``, ...) of ``stack``'s account in ``region``."""
    return stack.format_arn(
        service="iam", region="", resource="role", resource_name=f"cdk-{qualifier}-{kind}-role-{stack.account}-{region}"
    )


def subject_claims(repository: str, branches: Sequence[str], environments: Sequence[str]) -> tuple[list[str], list[str]]:
    """The ``sub`` values GitHub writes for jobs of ``repository`` on ``branches`` or in ``environments``, in order and
    without repeats: (exact values, patterns), a pattern being a value the caller wrote with a wildcard."""
    claims = {f"repo:{repository}:ref:refs/heads/{branch}": branch for branch in branches}
    claims.update({f"repo:{repository}:environment:{environment}": environment for environment in environments})
    return [c for c, raw in claims.items() if not _is_pattern(raw)], [c for c, raw in claims.items() if _is_pattern(raw)]


def _is_pattern(value: str) -> bool:
    return not unresolved(value) and any(w in value for w in _WILDCARDS)


def _trust(provider_arn: str, operator: str, subjects: list[str]) -> iam.WebIdentityPrincipal:
    """GitHub's provider as a principal, for tokens meant for STS whose subject is one of ``subjects``."""
    conditions: dict[str, dict[str, object]] = {"StringEquals": {f"{GITHUB_OIDC_HOST}:aud": STS_AUDIENCE}}
    conditions.setdefault(operator, {})[f"{GITHUB_OIDC_HOST}:sub"] = subjects[0] if len(subjects) == 1 else subjects
    return iam.WebIdentityPrincipal(provider_arn, conditions)


def _check(scope: Construct, props: GithubDeployRoleProps, stack: Stack) -> None:
    refuse(scope, "repository", check_repository(props.repository), props.repository)
    if not props.branches and not props.environments:
        raise ConstructError(
            scope,
            f"branches and environments are both empty for {props.repository}: every branch of the repository could assume "
            "the role; allowed: at least one branch (main) or environment (production)",
        )
    for branch in props.branches:
        refuse(scope, "branches", check_branch(branch), branch)
    for environment in props.environments:
        refuse(scope, "environments", check_environment(environment), environment)
    if not props.regions:
        raise ConstructError(scope, "regions is empty; allowed: the regions make deploy deploys to (at least one, e.g. ap-northeast-1)")
    for region in props.regions:
        refuse(scope, "regions", _match(_REGION, region, "is not a region name; allowed: e.g. ap-northeast-1"), region)
    qualifier = "is not a CDK bootstrap qualifier; allowed: 1 to 10 of A-Z a-z 0-9 _ -"
    refuse(scope, "qualifier", _match(_QUALIFIER, props.qualifier, qualifier), props.qualifier)
    prefix = "is not the start of a stack name; allowed: a letter, then letters, digits and - (e.g. shop-prod-)"
    refuse(scope, "stack_name_prefix", _match(_STACK_PREFIX, props.stack_name_prefix, prefix), props.stack_name_prefix)
    if props.provider_arn is not None:
        refuse(scope, "provider_arn", check_provider_arn(props.provider_arn, stack.account), props.provider_arn)
    seconds = props.max_session_duration.to_seconds()
    if not _MIN_SESSION <= seconds <= _MAX_SESSION:
        raise ConstructError(scope, f"max_session_duration: {seconds} seconds is out of range; allowed: 3600..43200 (1 to 12 hours)")


def _match(pattern: re.Pattern[str], value: str, problem: str) -> str | None:
    return None if pattern.fullmatch(value) else f"{value!r} {problem}"


def check_repository(repository: str) -> str | None:
    """None if ``repository`` is ``owner/name`` in GitHub's characters, else what is wrong."""
    owner, _, name = repository.partition("/")
    if _OWNER.fullmatch(owner) and _NAME.fullmatch(name) and name not in (".", ".."):
        return None
    return (
        f"{repository!r} is not a GitHub repository; allowed: owner/name, the owner of letters, digits and - (at most 39, "
        "not starting with -), the name of letters, digits, ., _ and - (at most 100)"
    )


def check_branch(branch: str) -> str | None:
    """None if ``branch`` is a branch name (or a pattern of one, with ``*``), else what is wrong."""
    if branch.startswith("refs/"):
        return f"{branch!r} is a ref; allowed: the branch name without refs/heads/ (main)"
    if not branch or _NOT_IN_BRANCH.search(branch):
        return f"{branch!r} is not a branch name; allowed: a name git accepts (no spaces, ~ ^ : ? [ \\ .. @{{ //), * for a pattern"
    if not branch.strip("*/"):
        return f"{branch!r} matches every branch; allowed: a branch name (main) or a pattern that names part of one (release/*)"
    return None


def check_environment(environment: str) -> str | None:
    """None if ``environment`` can be a GitHub environment name (or a pattern of one), else what is wrong."""
    if not environment or len(environment) > 255 or _CONTROL.search(environment):
        return f"{environment!r} is not an environment name; allowed: 1 to 255 printable characters"
    if not environment.strip("*?"):
        return f"{environment!r} matches every environment; allowed: an environment name (production) or a pattern that names part of one"
    return None


def check_provider_arn(arn: str, account: str) -> str | None:
    """None if ``arn`` is GitHub's OIDC provider in ``account`` (a token account is not compared), else what is wrong."""
    match = _PROVIDER_ARN.fullmatch(arn)
    if match is None:
        return f"{arn!r} is not GitHub's OIDC provider; allowed: arn:aws:iam::<account>:oidc-provider/{GITHUB_OIDC_HOST}"
    if not Token.is_unresolved(account) and match.group(1) != account:
        return f"{arn!r} is in account {match.group(1)}, the role in {account}; allowed: the provider of the role's account"
    return None
