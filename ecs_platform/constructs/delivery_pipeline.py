"""DeliveryPipeline: a team's commit goes through tests, synthesis and every environment in order (ARCH-6).

A self-mutating CDK Pipelines pipeline (CodePipeline + CodeBuild): the source is a CodeConnections
(GitHub, GitLab, Bitbucket) or CodeCommit repository; the synth step installs, runs the tests and
synthesizes the app, so cdk-nag (which fails synthesis on any finding) is a gate before anything is
deployed; then one wave per environment, in the order given, with a manual approval before every
production environment and smoke checks after each one. CodeDeploy is not used: each ECS service's own
deployment strategy (rolling with the circuit breaker, or blue/green) shifts the traffic and rolls back.

The environments are :class:`aws_cdk.Stage` objects built elsewhere (the app deploys the same stages
with ``cdk deploy``); a stage created at the app's root keeps its construct paths when a wave deploys it.

Security: artifacts in an SSL-only, versioned bucket encrypted with a rotating customer-managed key that
the environments' accounts (CDK's deploy roles there) may read, with server access logs; CodeBuild
logs in a KMS-encrypted log group with a retention; the pipeline, synth and smoke-check roles are
:class:`ScopedRole` s (one customer-managed policy each, the pipeline role performing the actions itself);
every role, CDK Pipelines' own included, gets the permissions boundary and source conditions on its trust
policy; failed executions notify an SNS topic through a CodeStar notification rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import jsii
from aws_cdk import Aspects, CfnOutput, Duration, RemovalPolicy, Stack, Stage, Token, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codecommit as codecommit
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codestarnotifications as notifications
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct

from ecs_platform.constructs.acknowledge import acknowledge, acknowledge_rule, nag_text
from ecs_platform.constructs.encryption_key import EncryptionKey, EncryptionKeyProps
from ecs_platform.constructs.errors import ConstructError, refuse
from ecs_platform.constructs.notification_topic import NotificationTopic, NotificationTopicProps, allow_codestar_notifications_to_publish
from ecs_platform.constructs.scoped_role import ScopedRole, ScopedRoleProps
from ecs_platform.constructs.source_conditions import SourceConditions, service_principal

#: A CodeConnections connection (the service was called CodeStar Connections; both ARN forms are valid).
CONNECTION_ARN = re.compile(
    r"^arn:aws(-[a-z]+)*:(codestar-connections|codeconnections):[a-z]{2}(-[a-z]+)+-\d:\d{12}:connection/[0-9a-f-]{36}$"
)
#: ``owner/name`` (GitHub, Bitbucket), or ``group/subgroup/name`` (GitLab).
REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$")
#: A CodeCommit repository name.
CODECOMMIT_REPOSITORY = re.compile(r"^[\w.-]{1,100}$")
#: A git branch name, as ``git check-ref-format --branch`` accepts it (without the rarer rules).
BRANCH = re.compile(r"^(?![-/.])(?!.*(\.\.|//|@\{))[^\s~^:?*\[\\\x00-\x1f\x7f]+(?<![/.])(?<!\.lock)$")
#: A smoke check's name: it names its environment variables' purpose in the build log.
CHECK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")
#: A URL path (and query) of unreserved, reserved and percent-encoded characters only: it reaches a shell.
URL_PATH = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$")

#: The pipeline event that notifies the topic.
FAILED_EXECUTION = "codepipeline-pipeline-pipeline-execution-failed"
#: How a smoke check retries: an ECS deployment that CloudFormation reports complete may still be
#: draining old tasks behind a cold load balancer, so give it about five minutes.
SMOKE_CHECK_RETRIES = 20
SMOKE_CHECK_RETRY_DELAY_SECONDS = 15
SMOKE_CHECK_TIMEOUT_SECONDS = 10

#: The actions CDK's bucket and key grants use (read and write of pipeline artifacts).
_GRANT_ACTION_WILDCARDS = frozenset(
    {"s3:Abort*", "s3:DeleteObject*", "s3:GetBucket*", "s3:GetObject*", "s3:List*", "kms:GenerateDataKey*", "kms:ReEncrypt*"}
)


@dataclass(frozen=True, kw_only=True)
class ConnectionSource:
    """A GitHub, GitLab or Bitbucket repository reached through a CodeConnections (CodeStar) connection."""

    connection_arn: str
    """ARN of the connection (``arn:aws:codeconnections:…:connection/…`` or ``arn:aws:codestar-connections:…``)."""
    repository: str
    """``owner/name`` (GitLab: ``group/subgroup/name``)."""
    branch: str = "main"
    """The branch whose commits are delivered. Default: ``main``."""


@dataclass(frozen=True, kw_only=True)
class CodeCommitSource:
    """A CodeCommit repository of the pipeline's account and region."""

    repository_name: str
    """Name of the repository."""
    branch: str = "main"
    """The branch whose commits are delivered. Default: ``main``."""


@dataclass(frozen=True, kw_only=True)
class SmokeCheck:
    """After its environment deploys, ``<url><path>`` must answer with a success status (after redirects)."""

    name: str
    """What is checked (``api``); letters, digits, space, ``_.-``, at most 64 characters."""
    url: CfnOutput
    """An output of a stack of the target's stage whose value is a base URL (``https://api.example.com``)."""
    path: str = "/"
    """Path (and query) appended to the URL. Default: ``/``."""


@dataclass(frozen=True, kw_only=True)
class DeliveryTarget:
    """One environment: a stage the pipeline deploys in its own wave."""

    stage: Stage
    """The environment's stage; every stack in it names an explicit account and region."""
    production: bool
    """Whether the environment serves users: a manual approval always comes before it."""
    smoke_checks: Sequence[SmokeCheck] = ()
    """What must answer once the stage is deployed; a failure fails the pipeline. Default: none."""


@dataclass(frozen=True, kw_only=True)
class DeliveryPipelineProps:
    source: ConnectionSource | CodeCommitSource
    """Where the commits come from."""
    targets: Sequence[DeliveryTarget]
    """The environments, in delivery order (one wave each)."""
    install_commands: Sequence[str]
    """Install phase of the synth step (``pip install -r requirements-dev.txt``, ``npm ci``)."""
    synth_commands: Sequence[str]
    """Synthesis, after the tests (``npx cdk synth -c spec=specs/environments.yaml``); cdk-nag fails it on a finding."""
    test_commands: Sequence[str] = ("make test",)
    """The tests, run after installing and before synthesis. Default: ``make test``."""
    primary_output_directory: str = "cdk.out"
    """Where synthesis writes the cloud assembly, relative to the repository root. Default: ``cdk.out``."""
    docker_enabled: bool = False
    """The app builds images from source (Docker image assets) or bundles assets in Docker: the synth step
    runs with the Docker daemon (CodeBuild privileged mode). Asset publishing projects that build images get
    it from CDK Pipelines in any case. Default: false."""
    notification_topic: sns.ITopic | None = None
    """Where failed executions are reported. A :class:`NotificationTopic` is opened to CodeStar notifications
    here; for another topic created in this app, a statement limited to this account is added to its policy
    (an imported topic's owner must allow ``codestar-notifications.amazonaws.com`` and its key). Default: a
    new KMS-encrypted :class:`NotificationTopic` with a key of its own."""
    permissions_boundary: iam.IManagedPolicy | None = None
    """Permissions boundary of every role the pipeline creates (CDK Pipelines' own included). Default: none."""
    pipeline_name: str | None = None
    """Name of the CodePipeline pipeline. Default: generated."""
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR
    """How long CodeBuild logs are kept. Default: one year."""
    artifact_retention: Duration = Duration.days(90)
    """How long pipeline artifacts (sources, cloud assemblies) and their access logs are kept; a rollback to an
    earlier execution needs its artifacts. Default: 90 days."""
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN
    """What deleting the stack does to the artifact and access-log buckets, the keys, the log group and the
    topic. Default: RETAIN."""


@jsii.implements(notifications.INotificationRuleTarget)
class _TopicTarget:
    """The topic as a notification rule target, without the unconditioned grants ``sns.Topic`` adds itself
    (the topic and key statements are written with AWS's documented conditions instead)."""

    def __init__(self, topic: sns.ITopic) -> None:
        self._topic = topic

    def bind_as_notification_rule_target(self, _scope: Construct) -> notifications.NotificationRuleTargetConfig:
        return notifications.NotificationRuleTargetConfig(target_type="SNS", target_address=self._topic.topic_arn)


class DeliveryPipeline(Construct):
    """The pipeline (:attr:`pipeline`, built: no wave can be added afterwards), its artifact store, logs,
    roles and the failure notification rule."""

    def __init__(self, scope: Construct, construct_id: str, *, props: DeliveryPipelineProps) -> None:
        super().__init__(scope, construct_id)
        _check(self, props)
        stack = Stack.of(self)
        # S3 server access logging through a bucket policy, not an ACL (BucketOwnerEnforced), whatever the flags.
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        removal = props.removal_policy

        self.artifact_key = EncryptionKey(
            self,
            "ArtifactKey",
            props=EncryptionKeyProps(description=f"Pipeline artifacts of {stack.stack_name}", removal_policy=removal, for_log_groups=False),
        )
        """Encrypts the artifacts (and the CodeBuild projects' outputs); rotated yearly."""
        self.access_logs = s3.Bucket(
            self,
            "ArtifactAccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            removal_policy=removal,
            lifecycle_rules=[_expire(props.artifact_retention)],
        )
        """Server access logs of the artifact bucket (who read or wrote which artifact)."""
        acknowledge_rule(
            self.access_logs,
            "S3DefaultEncryptionKMS",
            "S3 server access logging delivers only to SSE-S3 buckets; a KMS key would drop every log.",
        )
        acknowledge_rule(
            self.access_logs,
            "S3BucketReplicationEnabled",
            "Access logs of pipeline artifacts with a fixed lifecycle; a replica would double the cost without a recovery need.",
        )
        self.artifact_bucket = s3.Bucket(
            self,
            "Artifacts",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.artifact_key,
            bucket_key_enabled=True,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="artifacts/",
            removal_policy=removal,
            lifecycle_rules=[_expire(props.artifact_retention)],
        )
        """The pipeline's artifact store."""
        acknowledge_rule(
            self.artifact_bucket,
            "S3BucketReplicationEnabled",
            "Pipeline artifacts are rebuilt from the repository at any commit; a replica would add cost without a recovery need.",
        )

        self.log_key = EncryptionKey(
            self, "LogKey", props=EncryptionKeyProps(description=f"CodeBuild logs of {stack.stack_name}", removal_policy=removal)
        )
        """Encrypts the CodeBuild log group; rotated yearly."""
        self.log_group = logs.LogGroup(
            self, "BuildLogs", encryption_key=self.log_key, retention=props.log_retention, removal_policy=removal
        )
        """Where every CodeBuild project of the pipeline logs (synth, self-mutation, assets, smoke checks)."""

        self.pipeline_role = ScopedRole(
            self,
            "PipelineRole",
            props=ScopedRoleProps(
                assumed_by=service_principal("codepipeline.amazonaws.com", scope=self),
                description="CodePipeline runs the delivery pipeline and performs its source, build and approval actions",
                permissions_boundary=props.permissions_boundary,
            ),
        )
        """The pipeline's service role; it performs the actions itself (no action role per action)."""
        self.synth_role = self._codebuild_role("SynthRole", "CodeBuild installs, tests and synthesizes the app", props)
        """The synth step's role (reads the source, writes the cloud assembly; no AWS lookups: commit the app's context)."""
        self.smoke_check_role = self._codebuild_role("SmokeCheckRole", "CodeBuild checks that deployed environments answer", props)
        """The smoke checks' role (no AWS access beyond its logs and input artifact)."""

        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name=props.pipeline_name,
            synth=pipelines.CodeBuildStep(
                "Synth",
                input=self._source(props.source),
                install_commands=list(props.install_commands),
                commands=[*props.test_commands, *props.synth_commands],
                primary_output_directory=props.primary_output_directory,
                role=self.synth_role,
            ),
            role=self.pipeline_role,
            use_pipeline_role_for_actions=True,
            artifact_bucket=self.artifact_bucket,
            # The artifact bucket above has its own key, which the environments' deploy roles are granted in its
            # policy; these two only shape the replication buckets CodePipeline would create in other regions
            # (refused by _check), should that ever be allowed.
            cross_account_keys=True,
            enable_key_rotation=True,
            self_mutation=True,
            docker_enabled_for_synth=props.docker_enabled,
            code_build_defaults=pipelines.CodeBuildOptions(
                logging=codebuild.LoggingOptions(cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=self.log_group))
            ),
        )
        """The CDK Pipelines pipeline (built)."""
        for target in props.targets:
            self._add_target(target)
        self.pipeline.build_pipeline()
        self.code_pipeline: codepipeline.Pipeline = self.pipeline.pipeline
        """The underlying CodePipeline pipeline."""

        self.topic = props.notification_topic or NotificationTopic(
            self,
            "FailureTopic",
            props=NotificationTopicProps(
                key=EncryptionKey(
                    self,
                    "FailureTopicKey",
                    props=EncryptionKeyProps(description="Failed pipeline executions topic", removal_policy=removal, for_log_groups=False),
                ),
                display_name="Failed pipeline executions",
                removal_policy=removal,
            ),
        )
        """Where failed executions are reported."""
        _allow_codestar_notifications(self.topic)
        self.notification_rule = notifications.NotificationRule(
            self,
            "FailureNotification",
            source=self.code_pipeline,
            events=[FAILED_EXECUTION],
            targets=[_TopicTarget(self.topic)],
            detail_type=notifications.DetailType.FULL,
        )
        """Tells the topic when an execution fails."""

        if props.permissions_boundary is not None:
            iam.PermissionsBoundary.of(self).apply(props.permissions_boundary)
        # Trust policies of the roles CDK Pipelines creates (self-mutation, asset publishing, the CodeCommit
        # trigger's EventBridge role) get the source conditions the ScopedRoles have from service_principal.
        Aspects.of(self).add(SourceConditions())
        self._acknowledge()

    # --- building -----------------------------------------------------------------------------

    def _codebuild_role(self, construct_id: str, description: str, props: DeliveryPipelineProps) -> ScopedRole:
        return ScopedRole(
            self,
            construct_id,
            props=ScopedRoleProps(
                assumed_by=service_principal("codebuild.amazonaws.com", scope=self),
                description=description,
                permissions_boundary=props.permissions_boundary,
            ),
        )

    def _source(self, source: ConnectionSource | CodeCommitSource) -> pipelines.CodePipelineSource:
        if isinstance(source, ConnectionSource):
            return pipelines.CodePipelineSource.connection(source.repository, source.branch, connection_arn=source.connection_arn)
        repository = codecommit.Repository.from_repository_name(self, "Repository", source.repository_name)
        return pipelines.CodePipelineSource.code_commit(repository, source.branch)

    def _add_target(self, target: DeliveryTarget) -> None:
        name = target.stage.stage_name
        wave = self.pipeline.add_wave(name)
        pre: list[pipelines.Step] = []
        if target.production:
            pre.append(pipelines.ManualApprovalStep("Approve", comment=f"Deploy to {name} (production)?"))
        post: list[pipelines.Step] = []
        if target.smoke_checks:
            post.append(self._smoke_checks(target.smoke_checks))
        wave.add_stage(target.stage, pre=pre, post=post)

    def _smoke_checks(self, checks: Sequence[SmokeCheck]) -> pipelines.CodeBuildStep:
        """One build per environment; each check's URL, path and name reach the shell as variables, never as code."""
        commands: list[str] = []
        env: dict[str, str] = {}
        outputs: dict[str, CfnOutput] = {}
        for i, check in enumerate(checks):
            env[f"SMOKE_NAME_{i}"], env[f"SMOKE_PATH_{i}"] = check.name, check.path
            outputs[f"SMOKE_URL_{i}"] = check.url
            target = f'"${{SMOKE_URL_{i}%/}}${{SMOKE_PATH_{i}}}"'
            commands += [
                f'echo "Smoke check $SMOKE_NAME_{i}: {target[1:-1]}"',
                "curl --fail --silent --show-error --location --output /dev/null "
                f"--max-time {SMOKE_CHECK_TIMEOUT_SECONDS} --retry {SMOKE_CHECK_RETRIES} "
                f"--retry-delay {SMOKE_CHECK_RETRY_DELAY_SECONDS} --retry-all-errors {target}",
            ]
        return pipelines.CodeBuildStep("SmokeChecks", env=env, env_from_cfn_outputs=outputs, commands=commands, role=self.smoke_check_role)

    # --- cdk-nag --------------------------------------------------------------------------------

    def _acknowledge(self) -> None:
        """What CDK Pipelines creates that this construct cannot shape, acknowledged where it is, with its reason."""
        # Paths, not identities: constructs created by CDK's JavaScript side can come back as new proxies.
        ours = {role.node.path for role in (self.pipeline_role, self.synth_role, self.smoke_check_role)}
        for node in self.node.find_all():
            if isinstance(node, iam.Role) and node.node.path not in ours:
                policy = node.node.try_find_child("DefaultPolicy")
                if isinstance(policy, iam.Policy):
                    acknowledge_rule(
                        policy,
                        "IAMNoInlinePolicy",
                        "CDK Pipelines creates this role (self-mutation, asset publishing or the CodeCommit trigger) and "
                        "keeps its grants in the role's inline default policy; it accepts no role of ours for it.",
                    )
            if isinstance(node, codebuild.CfnProject) and _source_type(node) == "CODEPIPELINE":
                acknowledge_rule(
                    node,
                    "CodeBuildProjectSourceRepoUrl",
                    "The project's source is the pipeline's artifact (type CODEPIPELINE): it has no repository URL and no "
                    "credentials; the repository is reached by the pipeline's source action.",
                    packs=("HIPAA.Security", "PCI.DSS.321"),
                )
        for construct, document in self._policies():
            self._acknowledge_wildcards(construct, document)

    def _policies(self) -> Iterable[tuple[IConstruct, iam.PolicyDocument]]:
        for node in self.node.find_all():
            if isinstance(node, (iam.Policy, iam.ManagedPolicy)):
                yield node, node.document

    def _acknowledge_wildcards(self, scope: IConstruct, document: iam.PolicyDocument) -> None:
        """Acknowledge each wildcard of ``document`` that one of CDK Pipelines' known grants produces; any other
        wildcard stays a finding."""
        stack = Stack.of(self)
        statements = stack.resolve(document.to_json()).get("Statement", []) if not document.is_empty else []
        assets = self.pipeline.node.try_find_child("Assets")
        asset_role = assets is not None and scope.node.path.startswith(f"{assets.node.path}/")
        for statement in statements:
            for action in _as_list(statement.get("Action")):
                if action in _GRANT_ACTION_WILDCARDS:
                    acknowledge(
                        scope,
                        f"AwsSolutions-IAM5[Action::{action}]",
                        "CDK's grant on the pipeline's own artifact bucket or key (read and write of artifacts); the "
                        "statement names that bucket or key only.",
                    )
            for resource in _as_list(statement.get("Resource")):
                text = nag_text(self, resource)
                reason = self._wildcard_reason(text, statement, asset_role=asset_role)
                if reason is not None:
                    acknowledge(scope, f"AwsSolutions-IAM5[Resource::{text}]", reason)

    def _wildcard_reason(self, resource: str, statement: dict[str, Any], *, asset_role: bool) -> str | None:
        bucket = nag_text(self, self.artifact_bucket.bucket_arn)
        replication = [nag_text(self, s.replication_bucket.bucket_arn) for s in self.code_pipeline.cross_region_support.values()]
        if "*" not in resource:
            return None
        if resource in {f"{b}/*" for b in [bucket, *replication]}:
            return "Objects of this pipeline's artifact bucket: CodePipeline names the artifacts per execution."
        if re.fullmatch(r"arn:[^:]+:logs:[^:]+:[^:]+:log-group:/aws/codebuild/<[^>]+>:\*", resource):
            return (
                "CodeBuild's grant on its own project's default log group (/aws/codebuild/<project>); the project logs "
                "to the pipeline's log group."
            )
        if re.fullmatch(r"arn:[^:]+:codebuild:[^:]+:[^:]+:report-group/<[^>]+>-\*", resource):
            return "CodeBuild's grant on the test report groups of its own project (<project>-<name>)."
        if asset_role:
            return _asset_wildcard_reason(resource, set(_as_list(statement.get("Action"))))
        conditions = statement.get("Condition", {})
        if resource.endswith(":role/*") and "iam:ResourceTag/aws-cdk:bootstrap-role" in str(conditions):
            return (
                "CDK Pipelines lets the build assume only CDK's bootstrap roles (deploy, publishing, lookup) of the target "
                "accounts, selected by their aws-cdk:bootstrap-role tag: the accounts are the environments'."
            )
        if resource == "*" and set(_as_list(statement.get("Action"))) <= {"cloudformation:DescribeStacks", "s3:ListBucket"}:
            return (
                "CDK Pipelines' self-mutation reads stack and bucket metadata to deploy the pipeline stack "
                "(cloudformation:DescribeStacks, s3:ListBucket; read-only)."
            )
        return None


def _asset_wildcard_reason(resource: str, actions: set[str]) -> str | None:
    """Why a wildcard of CDK Pipelines' asset publishing role (one role per asset type, shared by its projects) is fine."""
    if re.fullmatch(r"arn:[^:]+:logs:[^:]+:[^:]+:log-group:/aws/codebuild/\*", resource):
        return (
            "CDK Pipelines' asset publishing role is shared by every publishing project of its asset type, created per "
            "asset: it writes to those projects' default log groups (/aws/codebuild/<project>) of this account and region."
        )
    if re.fullmatch(r"arn:[^:]+:codebuild:[^:]+:[^:]+:report-group/\*", resource):
        return (
            "CDK Pipelines' asset publishing role is shared by every publishing project of its asset type, created per "
            "asset: it may report to those projects' report groups in this account and region."
        )
    if resource == "*" and actions <= {"codebuild:BatchGetBuilds", "codebuild:StartBuild", "codebuild:StopBuild"}:
        return (
            "CDK Pipelines makes the asset publishing role the publishing actions' role too: it starts and watches their "
            "CodeBuild builds, granted on '*' because the projects are created per asset after the role."
        )
    return None


# --- checks ------------------------------------------------------------------------------------


def _check(scope: DeliveryPipeline, props: DeliveryPipelineProps) -> None:
    stack = Stack.of(scope)
    if Token.is_unresolved(stack.account) or Token.is_unresolved(stack.region):
        raise ConstructError(scope, "the pipeline's stack names no explicit account and region; allowed: a stack with env=Environment(...)")
    source = props.source
    if isinstance(source, ConnectionSource):
        refuse(
            scope,
            "source.connection_arn",
            f"{source.connection_arn!r} is not a connection ARN; allowed: arn:aws:codeconnections:<region>:<account>:connection/<id> "
            "(or codestar-connections)"
            if not CONNECTION_ARN.match(source.connection_arn)
            else None,
            source.connection_arn,
        )
        refuse(
            scope,
            "source.repository",
            f"{source.repository!r} is not a repository; allowed: owner/name (GitLab: group/subgroup/name)"
            if not REPOSITORY.match(source.repository) or source.repository.endswith(".git")
            else None,
            source.repository,
        )
    else:
        name = source.repository_name
        refuse(
            scope,
            "source.repository_name",
            f"{name!r} is not a CodeCommit repository name; allowed: 1-100 letters, digits, '_', '.', '-', not ending in .git"
            if not CODECOMMIT_REPOSITORY.match(name) or name.endswith(".git")
            else None,
            name,
        )
    refuse(
        scope,
        "source.branch",
        f"{source.branch!r} is not a branch name; allowed: a git branch name (no spaces, '..', '~^:?*[\\')"
        if not BRANCH.match(source.branch)
        else None,
        source.branch,
    )
    for field, commands in (("install_commands", props.install_commands), ("synth_commands", props.synth_commands)):
        if not commands or not all(c.strip() for c in commands):
            raise ConstructError(scope, f"{field}: {list(commands)!r}; allowed: one or more non-empty commands")
    if not props.targets:
        raise ConstructError(scope, "targets: none given; allowed: one or more environments (DeliveryTarget)")
    seen: set[str] = set()
    for i, target in enumerate(props.targets):
        _check_target(scope, f"targets[{i}]", target, seen, stack.region)


def _check_target(scope: Construct, field: str, target: DeliveryTarget, seen: set[str], region: str) -> None:
    name = target.stage.stage_name
    if name in seen:
        raise ConstructError(scope, f"{field}.stage: {name!r} is delivered twice; allowed: each stage once (stage names are wave names)")
    seen.add(name)
    stacks = _stacks(target.stage)
    if not stacks:
        raise ConstructError(scope, f"{field}.stage: {name!r} has no stack; allowed: a stage with at least one stack")
    for stack in stacks:
        if Token.is_unresolved(stack.account) or Token.is_unresolved(stack.region):
            raise ConstructError(
                scope,
                f"{field}.stage: stack {stack.node.path!r} names no explicit account and region; allowed: stacks with an "
                "explicit environment (a pipeline cannot deploy an environment-agnostic stack)",
            )
        if stack.region != region:
            # CodePipeline would replicate artifacts through a support stack of CDK's in that region, whose key the
            # pipeline role could be granted on '*' only and whose bucket has no access logs.
            raise ConstructError(
                scope,
                f"{field}.stage: stack {stack.node.path!r} is in {stack.region}; allowed: the pipeline's region ({region}), "
                "any account (deliver to another region with a pipeline there)",
            )
    names: set[str] = set()
    for j, check in enumerate(target.smoke_checks):
        where = f"{field}.smoke_checks[{j}]"
        if not CHECK_NAME.match(check.name) or check.name in names:
            raise ConstructError(
                scope, f"{where}.name: {check.name!r}; allowed: a unique name of letters, digits, space, '_.-' (at most 64)"
            )
        names.add(check.name)
        if not URL_PATH.match(check.path):
            raise ConstructError(scope, f"{where}.path: {check.path!r}; allowed: a URL path starting with '/' (no spaces or quotes)")
        if Stack.of(check.url).node.path not in {s.node.path for s in stacks}:
            raise ConstructError(
                scope, f"{where}.url: output {check.url.node.path!r} is not in stage {name!r}; allowed: an output of one of its stacks"
            )


def _stacks(stage: Stage) -> list[Stack]:
    """The stacks the stage deploys itself (not those of a stage nested in it)."""
    return [c for c in stage.node.find_all() if isinstance(c, Stack) and _path(Stage.of(c)) == stage.node.path]


# --- helpers -----------------------------------------------------------------------------------


def _expire(retention: Duration) -> s3.LifecycleRule:
    return s3.LifecycleRule(
        expiration=retention,
        noncurrent_version_expiration=Duration.days(30),
        abort_incomplete_multipart_upload_after=Duration.days(7),
    )


def _allow_codestar_notifications(topic: sns.ITopic) -> None:
    if isinstance(topic, NotificationTopic):
        topic.allow_codestar_notifications()
        return
    # Another topic of this app: the same statements (a no-op for an imported topic, whose owner must add them).
    allow_codestar_notifications_to_publish(topic)


def _source_type(project: codebuild.CfnProject) -> str | None:
    source = Stack.of(project).resolve(project.source)
    return source.get("type") if isinstance(source, dict) else None


def _path(construct: IConstruct | None) -> str | None:
    return construct.node.path if construct is not None else None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
