"""What the environments of one spec share, and the pipeline that delivers them (ARCH-6).

- ``SharedStage`` (``shared``): one stack per account and region that needs one, ``<app>-shared``:
  the platform's image repositories (in the images account), an ECR pull-through cache (in each
  environment's account and region) and the GitHub Actions deploy role (once per account). An
  account holds one of each (a repository name, a cache prefix and the GitHub OIDC provider are
  unique in it), so these cannot live in the environments' stacks when two environments share
  an account. Deployed before the environments (``make deploy`` and the pipeline's first wave).
  Beside it, where environments ask for ``governance:``, ``<app>-governance``: CloudTrail, AWS Config and
  GuardDuty of that account and region (SEC-6, SEC-7, SEC-8), once, however many environments live there.
- ``PipelineStack`` (``<app>-pipeline``): the self-mutating pipeline that tests, synthesizes and
  delivers the shared stage and then each environment, in the spec's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from aws_cdk import CfnOutput, Environment, Stack, Stage, Tags
from constructs import Construct

from ecs_platform.constructs import (
    DeliveryPipeline,
    DeliveryTarget,
    EncryptionKey,
    EncryptionKeyProps,
    GithubDeployRole,
    Governance,
    GovernanceProps,
    ImageRepository,
    NotificationTopic,
    NotificationTopicProps,
    PullThroughCache,
    SmokeCheck,
    Subscribers,
    subscribe,
)
from ecs_platform.stacks.stage import PlatformStage
from ecs_platform.stacks.translate import DeliveryTranslation, Location

#: The stage id of what the environments share (its stacks deploy first).
SHARED = "shared"


class SharedStack(Stack):
    """Repositories, cache and deploy role of one account and region."""

    def __init__(self, scope: Construct, construct_id: str, *, translation: DeliveryTranslation, location: Location, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.key = EncryptionKey(
            self, "ImagesKey", props=EncryptionKeyProps(description=f"{translation.app}: images", for_log_groups=False)
        )
        """Encrypts the repositories and the cached images (SEC-3)."""
        self.repositories = [
            ImageRepository(self, f"Repository-{props.repository_name}", props=props)
            for props in translation.repository_props(location, self.key)
        ]
        cache = translation.pull_through_cache(location, self.key, self)
        self.cache = PullThroughCache(self, "PullThroughCache", props=cache) if cache else None
        github = translation.github_role(location)
        self.github_role = GithubDeployRole(self, "GithubDeployRole", props=github) if github else None
        if self.github_role is not None:
            CfnOutput(self, "GithubDeployRoleArn", value=self.github_role.role_arn, description="role-to-assume of the GitHub workflows")


class GovernanceStack(Stack):
    """:class:`Governance` of one account and region, and the topic its high-severity GuardDuty findings reach."""

    def __init__(self, scope: Construct, construct_id: str, *, props: GovernanceProps, subscribers: Subscribers, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        key = EncryptionKey(self, "FindingsKey", props=EncryptionKeyProps(description=f"{self.stack_name}: findings", for_log_groups=False))
        self.findings_topic = NotificationTopic(
            self, "Findings", props=NotificationTopicProps(key=key, display_name=f"{self.stack_name} security findings")
        )
        """Where GuardDuty findings of high severity go (SEC-8); the spec's notifications are subscribed."""
        self.governance = Governance(self, "Governance", props=replace(props, alarm_topic=self.findings_topic))
        if subscribers.anyone:
            subscribe(self, [self.findings_topic], subscribers)
        CfnOutput(self, "FindingsTopic", value=self.findings_topic.topic_arn, description="high-severity GuardDuty findings (SEC-8)")
        if self.governance.bucket is not None:
            CfnOutput(self, "LogsBucket", value=self.governance.bucket.bucket_name, description="CloudTrail and AWS Config log files")


class SharedStage(Stage):
    """The stacks of :class:`SharedStack`, one per account and region that needs one, and of :class:`GovernanceStack`,
    one per account and region whose environments ask for governance."""

    def __init__(self, scope: Construct, construct_id: str, *, translation: DeliveryTranslation, locations: Sequence[Location]) -> None:
        super().__init__(scope, construct_id)
        self.shared_stacks = [
            SharedStack(
                self,
                f"{account or 'Account'}-{region}",
                translation=translation,
                location=(account, region),
                env=Environment(account=account, region=region),
                stack_name=f"{translation.app}-shared",
                tags={"App": translation.app, "Environment": SHARED},
                description=f"{translation.app}: image repositories, pull-through cache, deploy role",
            )
            for account, region in locations
            if (account, region) in translation.locations
        ]
        self.governance_stacks = [
            GovernanceStack(
                self,
                f"Governance-{account or 'Account'}-{region}",
                props=translation.governance((account, region)),
                subscribers=translation.governance_subscribers((account, region)),
                env=Environment(account=account, region=region),
                stack_name=f"{translation.app}-governance",
                tags={"App": translation.app, "Environment": SHARED},
                description=f"{translation.app}: CloudTrail, AWS Config, GuardDuty (SEC-6, SEC-7, SEC-8)",
                termination_protection=True,
            )
            for account, region in locations
            if (account, region) in translation.governed
        ]
        Tags.of(self).add("App", translation.app)
        Tags.of(self).add("Environment", SHARED)


class PipelineStack(Stack):
    """The delivery pipeline of the spec (see :class:`DeliveryPipeline`)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        translation: DeliveryTranslation,
        shared: SharedStage | None,
        stages: Sequence[PlatformStage],
        spec_file: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        targets = [DeliveryTarget(stage=shared, production=False)] if shared is not None else []
        targets += [
            DeliveryTarget(stage=stage, production=translation.approval(stage.stage_name), smoke_checks=_smoke_checks(stage))
            for stage in stages
        ]
        self.pipeline = DeliveryPipeline(
            self, "Delivery", props=translation.pipeline(targets, spec_file=spec_file, docker=translation.builds_images)
        )


def _smoke_checks(stage: PlatformStage) -> list[SmokeCheck]:
    """What the pipeline checks once ``stage`` is deployed: its public services' health paths."""
    return [check for stack in (stage.workload_stack, *stage.service_stacks) for check in stack.smoke_checks]


def add_delivery(
    scope: Construct, translation: DeliveryTranslation, stages: Sequence[PlatformStage], spec_file: str | None, *, pipeline: bool = True
) -> list[Stage | Stack]:
    """The shared stage (when something is shared: the stacks ``stages`` need) and the pipeline stack (when the spec has
    one and ``pipeline``)."""
    added: list[Stage | Stack] = []
    needed = {(stage.account, stage.region) for stage in stages} | {translation.images}
    locations = [location for location in dict.fromkeys([*translation.locations, *translation.governed]) if location in needed]
    shared = SharedStage(scope, SHARED, translation=translation, locations=locations) if locations else None
    if shared is not None:
        added.append(shared)
    location = translation.pipeline_location
    if location is not None and pipeline:
        if spec_file is None:
            raise ValueError("the delivery pipeline synthesizes the spec file: build the app with spec_file=")
        account, region = location
        added.append(
            PipelineStack(
                scope,
                "Pipeline",
                translation=translation,
                shared=shared,
                stages=stages,
                spec_file=spec_file,
                env=Environment(account=account, region=region),
                stack_name=f"{translation.app}-pipeline",
                tags={"App": translation.app, "Environment": "pipeline"},
                description=f"{translation.app}: delivery from commit to production (ARCH-6)",
            )
        )
    return added
