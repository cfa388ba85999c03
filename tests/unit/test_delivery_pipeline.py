"""DeliveryPipeline: a self-mutating CDK Pipelines pipeline delivers a commit to every environment in order (ARCH-6)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, CfnOutput, CfnWaitConditionHandle, Environment, Stack, Stage, Validations
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from ecs_platform.app_builder import NAG_PACKS, project_context
from ecs_platform.constructs import NO_SOURCE_CONDITION, SOURCE_ARNS, ConstructError, EncryptionKey, EncryptionKeyProps
from ecs_platform.constructs.acknowledge import CONTEXT_KEY
from ecs_platform.constructs.delivery_pipeline import (
    FAILED_EXECUTION,
    CodeCommitSource,
    ConnectionSource,
    DeliveryPipeline,
    DeliveryPipelineProps,
    DeliveryTarget,
    SmokeCheck,
)
from tests.helpers import service_statements
from tests.unit.support import logical_id, only

TOOLS = Environment(account="222222222222", region="ap-northeast-1")
DEV = Environment(account="111111111111", region="ap-northeast-1")
PROD = Environment(account="333333333333", region="ap-northeast-1")
CONNECTION = "arn:aws:codeconnections:ap-northeast-1:222222222222:connection/12345678-1234-1234-1234-123456789012"
BOUNDARY = "arn:aws:iam::222222222222:policy/pipeline-boundary"
SOURCE = ConnectionSource(connection_arn=CONNECTION, repository="acme/shop")

#: What a pipeline acknowledges for cdk-nag, by rule: changing this set is a security review.
PINNED = {
    # Grants CDK writes for CodeBuild (its default log group and report groups of each project) and for the
    # artifact bucket and key (s3:GetObject*, kms:GenerateDataKey*, ... on this bucket and key only).
    "AwsSolutions-IAM5",
    # Self-mutation and asset publishing roles: CDK Pipelines keeps their grants inline.
    *{f"{p}-IAMNoInlinePolicy" for p in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")},
    # Projects whose source is the pipeline artifact have no repository URL to secure.
    *{f"{p}-CodeBuildProjectSourceRepoUrl" for p in ("HIPAA.Security", "PCI.DSS.321")},
    # Server access logs go to an SSE-S3 bucket (the only encryption log delivery accepts); no replicas.
    *{
        f"{p}-{r}"
        for p in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")
        for r in ("S3DefaultEncryptionKMS", "S3BucketReplicationEnabled")
    },
}


@dataclass
class Scenario:
    template: dict[str, Any]
    pipeline: DeliveryPipeline
    outdir: Path
    stacks: dict[str, Stack]


def _app(outdir: Path, acknowledge: bool = True) -> App:
    context = {**project_context(), **({} if acknowledge else {CONTEXT_KEY: "false"})}
    app = App(context=context, outdir=str(outdir / "cdk.out"))
    Validations.of(app).add_plugins(*(pack(app) for pack in NAG_PACKS))
    return app


def _environment(app: App, name: str, env: Environment, *, image: Path | None = None) -> tuple[Stage, Stack, CfnOutput]:
    """A stage at the app's root (as the platform app builds them) with one small stack exposing its URL."""
    stage = Stage(app, name, env=env)
    stack = Stack(stage, "Web")
    CfnWaitConditionHandle(stack, "Placeholder")
    if image is not None:
        ecr_assets.DockerImageAsset(stack, "Image", directory=str(image))
        s3_assets.Asset(stack, "File", path=str(image / "Dockerfile"))
    return stage, stack, CfnOutput(stack, "Url", value=f"https://{name}.example.com")


def _build(workdir: Path, *, acknowledge: bool = True, docker: bool = False) -> Scenario:
    app = _app(workdir, acknowledge)
    image: Path | None = None
    if docker:
        image = workdir / "image"
        image.mkdir()
        (image / "Dockerfile").write_text("FROM public.ecr.aws/docker/library/busybox:1.36\n")
    dev, dev_stack, dev_url = _environment(app, "dev", DEV, image=image)
    prod, prod_stack, prod_url = _environment(app, "prod", PROD, image=image)
    tools = Stack(app, "Tools", env=TOOLS)
    topic: sns.ITopic | None = None
    if docker:  # a topic of the app's own, not a NotificationTopic
        key = EncryptionKey(tools, "TopicKey", props=EncryptionKeyProps(description="Team topic", for_log_groups=False))
        topic = sns.Topic(tools, "TeamTopic", master_key=key, enforce_ssl=True)
    pipeline = DeliveryPipeline(
        tools,
        "Delivery",
        props=DeliveryPipelineProps(
            source=CodeCommitSource(repository_name="shop") if docker else SOURCE,
            targets=[
                DeliveryTarget(stage=dev, production=False, smoke_checks=[SmokeCheck(name="api", url=dev_url, path="/health")]),
                DeliveryTarget(
                    stage=prod,
                    production=True,
                    smoke_checks=[SmokeCheck(name="api", url=prod_url, path="/health"), SmokeCheck(name="home", url=prod_url)],
                ),
            ],
            install_commands=["pip install -r requirements-dev.txt", "npm ci"],
            test_commands=["make test"],
            synth_commands=["npx cdk synth -c spec=specs/environments.yaml"],
            docker_enabled=docker,
            notification_topic=topic,
            permissions_boundary=iam.ManagedPolicy.from_managed_policy_arn(tools, "Boundary", BOUNDARY),
        ),
    )
    stacks = {"dev": dev_stack, "prod": prod_stack, "tools": tools}
    try:
        app.synth()
    except RuntimeError:
        if acknowledge:
            raise
    template: dict[str, Any] = json.loads((Path(app.outdir) / f"{tools.artifact_id}.template.json").read_text())
    return Scenario(template, pipeline, Path(app.outdir), stacks)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """Given a pipeline in a tools account (222222222222) delivering a CodeConnections repository to ``dev``
    (111111111111, smoke check ``api``) then ``prod`` (333333333333, production, checks ``api`` and ``home``),
    both stages built at the app's root, with a permissions boundary, synthesized with the four cdk-nag packs."""
    return _build(tmp_path_factory.mktemp("delivery"))


@pytest.fixture(scope="module")
def docker(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """Given the same environments with Docker image and file assets, a CodeCommit source, ``docker_enabled`` and
    a plain SNS topic of the app as the notification topic."""
    return _build(tmp_path_factory.mktemp("docker"), docker=True)


def _resources(s: Scenario, kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in s.template["Resources"].items() if v["Type"] == kind}


def _pipeline(s: Scenario) -> dict[str, Any]:
    (pipeline,) = _resources(s, "AWS::CodePipeline::Pipeline").values()
    props: dict[str, Any] = pipeline["Properties"]
    return props


def _stage(s: Scenario, name: str) -> list[dict[str, Any]]:
    (stage,) = [st for st in _pipeline(s)["Stages"] if st["Name"] == name]
    return sorted(stage["Actions"], key=lambda a: (a["RunOrder"], a["Name"]))


def _project(s: Scenario, action: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = s.template["Resources"][action["Configuration"]["ProjectName"]["Ref"]]["Properties"]
    return props


def _buildspec(project: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(project["Source"]["BuildSpec"])
    return spec


def _findings(s: Scenario) -> set[str]:
    report = json.loads((s.outdir / "validation-report.json").read_text())
    return {
        re.sub(r"\[.*\]$", "", violation["ruleName"])
        for plugin in report["pluginReports"]
        if plugin["pluginName"] != "CloudFormation Validate"
        for violation in plugin.get("violations", [])
    }


BOTH = ["scenario", "docker"]


def _each(request: pytest.FixtureRequest, name: str) -> Scenario:
    s: Scenario = request.getfixturevalue(name)
    return s


# --- ARCH-6: delivery order, approval, smoke checks -------------------------------------------


def test_arch6_waves_deliver_the_environments_in_the_given_order(scenario: Scenario) -> None:
    """ARCH-6: source, synth (tests and cdk-nag), self-mutation, then one wave per environment in the order given."""
    assert [st["Name"] for st in _pipeline(scenario)["Stages"]] == ["Source", "Build", "UpdatePipeline", "dev", "prod"]
    (source,) = _stage(scenario, "Source")
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["ConnectionArn"] == CONNECTION
    assert (source["Configuration"]["FullRepositoryId"], source["Configuration"]["BranchName"]) == ("acme/shop", "main")


def test_arch6_a_manual_approval_comes_before_production_only(scenario: Scenario) -> None:
    """ARCH-6: prod starts with an approval, before its change set is even created; dev has none."""
    prod = _stage(scenario, "prod")
    assert [(a["Name"], a["ActionTypeId"]["Provider"]) for a in prod] == [
        ("Approve", "Manual"),
        ("Web.Prepare", "CloudFormation"),
        ("Web.Deploy", "CloudFormation"),
        ("SmokeChecks", "CodeBuild"),
    ]
    assert [a["RunOrder"] for a in prod] == [1, 2, 3, 4]
    assert all(a["ActionTypeId"]["Provider"] != "Manual" for a in _stage(scenario, "dev"))


def test_arch6_environments_are_deployed_through_their_own_accounts_bootstrap_roles(scenario: Scenario) -> None:
    """The stages live in other accounts: each change set is created and executed by that account's CDK deploy role."""
    for name, account in (("dev", DEV.account), ("prod", PROD.account)):
        deploys = [a for a in _stage(scenario, name) if a["ActionTypeId"]["Provider"] == "CloudFormation"]
        assert deploys
        for action in deploys:
            assert f":iam::{account}:role/cdk-hnb659fds-deploy-role-{account}-" in json.dumps(action["RoleArn"])


def test_arch6_stages_built_at_the_app_root_keep_their_paths(scenario: Scenario) -> None:
    """``cdk deploy`` of the same stage keeps working: the stack stays ``dev/Web`` and the pipeline deploys the
    template of that nested assembly."""
    assert scenario.stacks["dev"].node.path == "dev/Web"
    (prepare,) = [a for a in _stage(scenario, "dev") if a["Name"] == "Web.Prepare"]
    assert prepare["Configuration"]["TemplatePath"] == f"Synth_Output::assembly-dev/{scenario.stacks['dev'].artifact_id}.template.json"
    assert prepare["Configuration"]["StackName"] == scenario.stacks["dev"].stack_name


def test_arch6_smoke_checks_read_the_url_output_and_curl_the_path(scenario: Scenario) -> None:
    """ARCH-6: after prod deploys, one build reads the stack's Url output and fails unless each URL + path answers
    (curl --fail, with a timeout and retries); names and paths reach the shell as variables, not as code."""
    prod = _stage(scenario, "prod")
    deploy, check = prod[2], prod[3]
    variables = json.loads(check["Configuration"]["EnvironmentVariables"])
    assert variables == [
        {"name": "SMOKE_URL_0", "type": "PLAINTEXT", "value": f"#{{{deploy['Namespace']}.Url}}"},
        {"name": "SMOKE_URL_1", "type": "PLAINTEXT", "value": f"#{{{deploy['Namespace']}.Url}}"},
    ]
    project = _project(scenario, check)
    assert {v["Name"]: v["Value"] for v in project["Environment"]["EnvironmentVariables"]} == {
        "SMOKE_NAME_0": "api",
        "SMOKE_PATH_0": "/health",
        "SMOKE_NAME_1": "home",
        "SMOKE_PATH_1": "/",
    }
    commands = _buildspec(project)["phases"]["build"]["commands"]
    curls = [c for c in commands if c.startswith("curl ")]
    assert len(curls) == 2
    for i, curl in enumerate(curls):
        assert curl.endswith(f'"${{SMOKE_URL_{i}%/}}${{SMOKE_PATH_{i}}}"')
        for option in ("--fail", "--max-time 10", "--retry 20", "--retry-all-errors"):
            assert option in curl


def test_arch6_synth_installs_then_tests_then_synthesizes(scenario: Scenario) -> None:
    """ARCH-6: the synth step installs, runs the tests, then synthesizes (where cdk-nag fails on a finding);
    the cloud assembly of cdk.out is its output."""
    (synth,) = _stage(scenario, "Build")
    spec = _buildspec(_project(scenario, synth))
    assert spec["phases"]["install"]["commands"] == ["pip install -r requirements-dev.txt", "npm ci"]
    assert spec["phases"]["build"]["commands"] == ["make test", "npx cdk synth -c spec=specs/environments.yaml"]
    assert spec["artifacts"]["base-directory"] == "cdk.out"


def test_arch6_the_pipeline_updates_itself_before_delivering(scenario: Scenario) -> None:
    """Self-mutation: a change to the pipeline (a new environment) applies before the waves run."""
    (mutate,) = _stage(scenario, "UpdatePipeline")
    commands = _buildspec(_project(scenario, mutate))["phases"]["build"]["commands"]
    assert any("cdk" in c and "deploy" in c and scenario.stacks["tools"].stack_name in c for c in commands)


# --- OBS: failures are reported ----------------------------------------------------------------


def test_obs_failed_executions_notify_the_topic_through_a_notification_rule(scenario: Scenario) -> None:
    """A failed execution (a test, cdk-nag, a deployment or a smoke check failing) is published to the topic."""
    (rule,) = _resources(scenario, "AWS::CodeStarNotifications::NotificationRule").values()
    props = rule["Properties"]
    assert props["EventTypeIds"] == [FAILED_EXECUTION]
    topic = logical_id(scenario.pipeline.topic)
    assert props["Targets"] == [{"TargetAddress": {"Ref": topic}, "TargetType": "SNS"}]
    pipeline_id = next(iter(_resources(scenario, "AWS::CodePipeline::Pipeline")))
    assert {"Ref": pipeline_id} in props["Resource"]["Fn::Join"][1]


def test_obs_the_topic_and_its_key_let_codestar_notifications_publish_from_this_account_only(scenario: Scenario) -> None:
    """The topic policy replaces SNS's default one: codestar-notifications may publish, for this account only
    (aws:SourceAccount); the key lets it encrypt through SNS only (kms:ViaService), as AWS documents."""
    topic = logical_id(scenario.pipeline.topic)
    (policy,) = [p for p in _resources(scenario, "AWS::SNS::TopicPolicy").values() if p["Properties"]["Topics"] == [{"Ref": topic}]]
    (publish,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid") == "AllowCodeStarNotificationsToPublish"]
    assert publish["Principal"] == {"Service": "codestar-notifications.amazonaws.com"}
    assert publish["Action"] == "sns:Publish"
    assert publish["Condition"] == {"StringEquals": {"aws:SourceAccount": TOOLS.account}}
    key = scenario.template["Resources"][logical_id(scenario.pipeline.topic.master_key)]  # type: ignore[arg-type]
    (use,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == "AllowCodeStarNotificationsToNotify"]
    assert use["Condition"] == {"StringEquals": {"kms:ViaService": "sns.ap-northeast-1.amazonaws.com"}}
    assert set(use["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}


def test_obs_a_topic_of_the_app_gets_the_same_statements(docker: Scenario) -> None:
    """A plain SNS topic given as notification_topic gets the publish statement, and its key the SNS-only grant."""
    (policy,) = _resources(docker, "AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (publish,) = [s for s in statements if s.get("Principal") == {"Service": "codestar-notifications.amazonaws.com"}]
    assert publish["Condition"] == {"StringEquals": {"aws:SourceAccount": TOOLS.account}}
    _, key = only(Template.from_json(docker.template), "AWS::KMS::Key", "TopicKey")
    assert any(s.get("Sid") == "AllowCodeStarNotificationsToNotify" for s in key["Properties"]["KeyPolicy"]["Statement"])


# --- SEC-3: encryption and logs ----------------------------------------------------------------


def test_sec3_artifacts_are_kms_encrypted_with_a_rotating_customer_key(scenario: Scenario) -> None:
    """SEC-3: the artifact store names a customer-managed key that rotates; the bucket encrypts with it by default,
    refuses plain HTTP, is versioned and logs every access to a bucket of its own."""
    store = _pipeline(scenario)["ArtifactStore"]
    key = logical_id(scenario.pipeline.artifact_key)
    assert store["EncryptionKey"] == {"Id": {"Fn::GetAtt": [key, "Arn"]}, "Type": "KMS"}
    assert scenario.template["Resources"][key]["Properties"]["EnableKeyRotation"] is True
    bucket = scenario.template["Resources"][store["Location"]["Ref"]]["Properties"]
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"KMSMasterKeyID": {"Fn::GetAtt": [key, "Arn"]}, "SSEAlgorithm": "aws:kms"}
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": logical_id(scenario.pipeline.access_logs)}
    (policy,) = [
        p for p in _resources(scenario, "AWS::S3::BucketPolicy").values() if p["Properties"]["Bucket"] == {"Ref": store["Location"]["Ref"]}
    ]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    )


@pytest.mark.parametrize("name", BOTH)
def test_sec3_every_codebuild_project_is_encrypted_and_logs_to_the_encrypted_log_group(name: str, request: pytest.FixtureRequest) -> None:
    """SEC-3 / OBS: synth, self-mutation, asset publishing and smoke checks encrypt with the artifact key and log
    to one log group that a customer-managed key encrypts and a retention empties."""
    s = _each(request, name)
    group = logical_id(s.pipeline.log_group)
    projects = _resources(s, "AWS::CodeBuild::Project")
    assert len(projects) >= 4
    for logical, project in projects.items():
        assert project["Properties"]["EncryptionKey"] == {"Fn::GetAtt": [logical_id(s.pipeline.artifact_key), "Arn"]}, logical
        assert project["Properties"]["LogsConfig"] == {"CloudWatchLogs": {"GroupName": {"Ref": group}, "Status": "ENABLED"}}, logical
    log_group = s.template["Resources"][group]["Properties"]
    assert log_group["KmsKeyId"] == {"Fn::GetAtt": [logical_id(s.pipeline.log_key), "Arn"]}
    assert log_group["RetentionInDays"] == 365


# --- IAM ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BOTH)
def test_iam_permissions_boundary_on_every_role(name: str, request: pytest.FixtureRequest) -> None:
    """Organizations: the boundary is on every role, CDK Pipelines' own (self-mutation, asset publishing, the
    CodeCommit trigger) included."""
    s = _each(request, name)
    roles = _resources(s, "AWS::IAM::Role")
    assert len(roles) >= (7 if name == "docker" else 4)
    for logical, role in roles.items():
        assert role["Properties"]["PermissionsBoundary"] == BOUNDARY, logical


@pytest.mark.parametrize("name", BOTH)
def test_iam_no_aws_managed_policy(name: str, request: pytest.FixtureRequest) -> None:
    """No role of the pipeline has an AWS managed policy."""
    s = _each(request, name)
    for logical, role in _resources(s, "AWS::IAM::Role").items():
        arns = json.dumps(role["Properties"].get("ManagedPolicyArns", []))
        assert ":iam::aws:policy/" not in arns, logical


def test_iam_the_pipeline_role_performs_the_actions_without_action_roles(scenario: Scenario) -> None:
    """One scoped pipeline role runs the source, build and approval actions itself; only the deployments assume
    a role, the target account's CDK deploy role. Synth and smoke checks have roles of their own."""
    pipeline = _pipeline(scenario)
    assert pipeline["RoleArn"] == {"Fn::GetAtt": [logical_id(scenario.pipeline.pipeline_role), "Arn"]}
    for stage in pipeline["Stages"]:
        for action in stage["Actions"]:
            assert ("RoleArn" in action) == (action["ActionTypeId"]["Provider"] == "CloudFormation"), action["Name"]
    (synth,) = _stage(scenario, "Build")
    assert _project(scenario, synth)["ServiceRole"] == {"Fn::GetAtt": [logical_id(scenario.pipeline.synth_role), "Arn"]}
    check = _stage(scenario, "dev")[-1]
    assert _project(scenario, check)["ServiceRole"] == {"Fn::GetAtt": [logical_id(scenario.pipeline.smoke_check_role), "Arn"]}
    smoke_policy = scenario.pipeline.smoke_check_role.scoped_policy
    assert smoke_policy is not None
    actions = {
        a
        for s in scenario.template["Resources"][logical_id(smoke_policy)]["Properties"]["PolicyDocument"]["Statement"]
        for a in s["Action"]
    }
    assert not {a for a in actions if a.startswith(("s3:Put", "s3:Delete", "sts:", "iam:", "cloudformation:"))}


@pytest.mark.parametrize("name", BOTH)
def test_iam6_every_service_principal_is_limited_to_this_accounts_sources(name: str, request: pytest.FixtureRequest) -> None:
    """Confused deputy, the rule of tests/stacks/test_policies_reach_their_sources.py: codebuild (the roles of
    the synth, smoke-check, self-mutation and asset projects) and events (the CodeCommit trigger) carry
    aws:SourceAccount and aws:SourceArn; codepipeline and codestar-notifications are documented without."""
    s = _each(request, name)
    found = set()
    for logical, service, statement in service_statements(s.template):
        found.add(service)
        condition = statement.get("Condition", {})
        if service in SOURCE_ARNS:
            assert "aws:SourceAccount" in condition.get("StringEquals", {}), f"{logical}: {service}"
            assert "aws:SourceArn" in condition.get("ArnLike", {}), f"{logical}: {service}"
        else:
            assert re.sub(r"\.[a-z]{2}(-[a-z]+)+-\d\.", ".<region>.", service) in NO_SOURCE_CONDITION, f"{logical}: {service}"
    expected = {"codebuild.amazonaws.com", "codepipeline.amazonaws.com", "codestar-notifications.amazonaws.com"}
    assert expected | ({"events.amazonaws.com"} if name == "docker" else set()) <= found


def test_iam6_codebuild_roles_trust_only_this_accounts_projects(scenario: Scenario) -> None:
    """The synth role can be assumed by CodeBuild for a project of this account and region only."""
    role = scenario.template["Resources"][logical_id(scenario.pipeline.synth_role)]["Properties"]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": TOOLS.account},
        "ArnLike": {"aws:SourceArn": "arn:aws:codebuild:ap-northeast-1:222222222222:project/*"},
    }


# --- Docker, CodeCommit ------------------------------------------------------------------------


def test_docker_enabled_gives_the_synth_and_image_publishing_steps_docker(docker: Scenario, scenario: Scenario) -> None:
    """Images built from source: synthesis and the image publishing project run with the Docker daemon
    (privileged mode); without docker_enabled, synthesis does not."""
    (synth,) = _stage(docker, "Build")
    assert _project(docker, synth)["Environment"]["PrivilegedMode"] is True
    (plain,) = _stage(scenario, "Build")
    assert _project(scenario, plain)["Environment"]["PrivilegedMode"] is False
    (assets,) = [st for st in _pipeline(docker)["Stages"] if st["Name"] == "Assets"]
    privileged = {a["Name"]: _project(docker, a)["Environment"]["PrivilegedMode"] for a in assets["Actions"]}
    assert sorted(privileged.values()) == [False, True]  # the file asset's project, the image's project


def test_codecommit_source_starts_the_pipeline_from_a_rule_of_this_account(docker: Scenario) -> None:
    """A CodeCommit source: the push rule's role is trusted by EventBridge rules of this account only."""
    (source,) = _stage(docker, "Source")
    assert source["ActionTypeId"]["Provider"] == "CodeCommit"
    assert source["Configuration"]["RepositoryName"] == "shop"
    assert source["Configuration"]["PollForSourceChanges"] is False
    (events_role,) = [
        r
        for r in _resources(docker, "AWS::IAM::Role").values()
        if "events.amazonaws.com" in json.dumps(r["Properties"]["AssumeRolePolicyDocument"])
    ]
    (statement,) = events_role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"] == "arn:aws:events:ap-northeast-1:222222222222:rule/*"


# --- cdk-nag -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BOTH)
def test_nag_the_pipeline_synthesizes_with_no_unacknowledged_finding(name: str, request: pytest.FixtureRequest) -> None:
    """The four packs ran on the whole app (the fixture's synthesis would have raised); nothing is left unacknowledged."""
    s = _each(request, name)
    assert _findings(s) == set()


@pytest.mark.parametrize("docker_enabled", [False, True])
def test_nag_every_acknowledgement_matches_a_real_finding(docker_enabled: bool, tmp_path: Path) -> None:
    """With acknowledgements off, the findings are exactly the pinned rules (asset roles and privileged builds add
    none): none is acknowledged for nothing, and a new one is a reviewed change of PINNED."""
    assert _findings(_build(tmp_path, acknowledge=False, docker=docker_enabled)) == PINNED


# --- refusals ----------------------------------------------------------------------------------


@dataclass
class Refusal:
    app: App
    tools: Stack
    dev: Stage
    dev_url: CfnOutput
    prod: Stage

    def props(self, **overrides: Any) -> DeliveryPipelineProps:
        values: dict[str, Any] = {
            "source": SOURCE,
            "targets": [DeliveryTarget(stage=self.dev, production=False), DeliveryTarget(stage=self.prod, production=True)],
            "install_commands": ["npm ci"],
            "synth_commands": ["npx cdk synth"],
        }
        return DeliveryPipelineProps(**{**values, **overrides})


@pytest.fixture
def refusal() -> Refusal:
    app = App(context=project_context())
    dev, _, dev_url = _environment(app, "dev", DEV)
    prod, _, _ = _environment(app, "prod", PROD)
    return Refusal(app, Stack(app, "Tools", env=TOOLS), dev, dev_url, prod)


def _refused(r: Refusal, pattern: str, **overrides: Any) -> None:
    with pytest.raises(ConstructError, match=pattern):
        DeliveryPipeline(r.tools, "Delivery", props=r.props(**overrides))


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:codebuild:ap-northeast-1:222222222222:connection/12345678-1234-1234-1234-123456789012",
        "arn:aws:codeconnections:ap-northeast-1:2222:connection/12345678-1234-1234-1234-123456789012",
        "arn:aws:codestar-connections:ap-northeast-1:222222222222:host/12345678-1234-1234-1234-123456789012",
        "my-connection",
    ],
)
def test_fails_when_the_connection_arn_is_not_a_connection(refusal: Refusal, arn: str) -> None:
    _refused(
        refusal,
        r"^Tools/Delivery: source\.connection_arn: .* is not a connection ARN; allowed: ",
        source=replace(SOURCE, connection_arn=arn),
    )


def test_accepts_a_codestar_connections_arn(refusal: Refusal) -> None:
    """The connection's older ARN form (codestar-connections) is as valid as codeconnections."""
    arn = CONNECTION.replace("codeconnections", "codestar-connections")
    DeliveryPipeline(refusal.tools, "Delivery", props=refusal.props(source=replace(SOURCE, connection_arn=arn)))


@pytest.mark.parametrize("repository", ["shop", "acme/", "/shop", "acme/shop.git", "acme shop/x", "https://github.com/acme/shop"])
def test_fails_when_the_repository_is_not_owner_slash_name(refusal: Refusal, repository: str) -> None:
    _refused(refusal, r"source\.repository: .* is not a repository; allowed: owner/name", source=replace(SOURCE, repository=repository))


@pytest.mark.parametrize("branch", ["", "feature branch", "a..b", "-x", "main/", "x.lock", "a~1", "refs:x"])
def test_fails_when_the_branch_is_not_a_branch_name(refusal: Refusal, branch: str) -> None:
    _refused(refusal, r"source\.branch: .* is not a branch name", source=replace(SOURCE, branch=branch))


@pytest.mark.parametrize("name", ["", "shop.git", "a" * 101, "my repo"])
def test_fails_when_the_codecommit_repository_name_is_invalid(refusal: Refusal, name: str) -> None:
    _refused(refusal, r"source\.repository_name: .* is not a CodeCommit repository name", source=CodeCommitSource(repository_name=name))


def test_fails_when_there_is_no_target(refusal: Refusal) -> None:
    _refused(refusal, r"^Tools/Delivery: targets: none given; allowed: one or more environments", targets=[])


def test_fails_when_a_stage_is_delivered_twice(refusal: Refusal) -> None:
    twice = [DeliveryTarget(stage=refusal.dev, production=False), DeliveryTarget(stage=refusal.dev, production=True)]
    _refused(refusal, r"targets\[1\]\.stage: 'dev' is delivered twice; allowed: each stage once", targets=twice)


def test_fails_when_a_stage_stack_is_environment_agnostic(refusal: Refusal) -> None:
    agnostic = Stage(refusal.app, "agnostic")
    CfnWaitConditionHandle(Stack(agnostic, "Web"), "Placeholder")
    _refused(
        refusal,
        r"targets\[0\]\.stage: stack 'agnostic/Web' names no explicit account and region; allowed: .*environment-agnostic",
        targets=[DeliveryTarget(stage=agnostic, production=False)],
    )


def test_fails_when_a_stage_is_in_another_region(refusal: Refusal) -> None:
    """Cross-region delivery would need CDK's replication support stack, whose key only a '*' grant can reach."""
    far, _, _ = _environment(refusal.app, "far", Environment(account="333333333333", region="us-east-1"))
    _refused(
        refusal,
        r"targets\[0\]\.stage: stack 'far/Web' is in us-east-1; allowed: the pipeline's region \(ap-northeast-1\)",
        targets=[DeliveryTarget(stage=far, production=True)],
    )


def test_fails_when_a_stage_has_no_stack(refusal: Refusal) -> None:
    empty = Stage(refusal.app, "empty", env=DEV)
    _refused(refusal, r"targets\[0\]\.stage: 'empty' has no stack", targets=[DeliveryTarget(stage=empty, production=False)])


Check = Callable[[Refusal], SmokeCheck]


@pytest.mark.parametrize(
    ("check", "pattern"),
    [
        (lambda r: SmokeCheck(name="api", url=r.dev_url, path="health"), r"smoke_checks\[0\]\.path: 'health'; allowed: a URL path"),
        (lambda r: SmokeCheck(name="api", url=r.dev_url, path='/"; rm -rf /'), r"smoke_checks\[0\]\.path: .*; allowed: a URL path"),
        (lambda r: SmokeCheck(name="", url=r.dev_url), r"smoke_checks\[0\]\.name: ''; allowed: a unique name"),
        (lambda r: SmokeCheck(name="api$(id)", url=r.dev_url), r"smoke_checks\[0\]\.name: .*; allowed: a unique name"),
    ],
)
def test_fails_when_a_smoke_check_is_malformed(refusal: Refusal, check: Check, pattern: str) -> None:
    _refused(refusal, pattern, targets=[DeliveryTarget(stage=refusal.dev, production=False, smoke_checks=[check(refusal)])])


def test_fails_when_two_smoke_checks_share_a_name(refusal: Refusal) -> None:
    checks = [SmokeCheck(name="api", url=refusal.dev_url), SmokeCheck(name="api", url=refusal.dev_url, path="/health")]
    _refused(
        refusal,
        r"targets\[0\]\.smoke_checks\[1\]\.name: 'api'; allowed: a unique name",
        targets=[DeliveryTarget(stage=refusal.dev, production=False, smoke_checks=checks)],
    )


def test_fails_when_a_smoke_check_reads_an_output_of_another_stage(refusal: Refusal) -> None:
    """The output must be deployed by the wave the check follows (prod's check cannot read dev's URL)."""
    check = SmokeCheck(name="api", url=refusal.dev_url)
    _refused(
        refusal,
        r"targets\[0\]\.smoke_checks\[0\]\.url: output 'dev/Web/Url' is not in stage 'prod'",
        targets=[DeliveryTarget(stage=refusal.prod, production=True, smoke_checks=[check])],
    )


@pytest.mark.parametrize("field", ["install_commands", "synth_commands"])
@pytest.mark.parametrize("commands", [[], ["  "]])
def test_fails_when_install_or_synth_commands_are_empty(refusal: Refusal, field: str, commands: list[str]) -> None:
    _refused(refusal, rf"^Tools/Delivery: {field}: .*; allowed: one or more non-empty commands", **{field: commands})


def test_fails_when_the_pipeline_stack_is_environment_agnostic(refusal: Refusal) -> None:
    agnostic = Stack(refusal.app, "Agnostic")
    with pytest.raises(ConstructError, match=r"^Agnostic/Delivery: the pipeline's stack names no explicit account and region"):
        DeliveryPipeline(agnostic, "Delivery", props=refusal.props())
