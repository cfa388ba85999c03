"""From commit to production (issue 12, ARCH-6), as specs/environments.yaml synthesizes it: the pipeline,
the images (built, of the platform's repositories, through the cache), what the environments share, and
the GitHub Actions deploy role."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ecs_platform.app_builder import build_platform_app
from ecs_platform.spec import load_specs
from tests.conftest import SPECS
from tests.template_diff import stack_templates

Templates = dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def outdir(assembled: Callable[[str], Path]) -> Path:
    return assembled("environments")


@pytest.fixture(scope="module")
def templates(outdir: Path) -> Templates:
    return stack_templates(outdir)


def _of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == kind}


def _pipeline(templates: Templates) -> dict[str, Any]:
    (pipeline,) = _of(templates["Pipeline"], "AWS::CodePipeline::Pipeline").values()
    return pipeline


def _definitions(templates: Templates, stack: str) -> dict[str, dict[str, Any]]:
    """The task definitions of a stack by container name."""
    return {d["ContainerDefinitions"][0]["Name"]: d for d in _of(templates[stack], "AWS::ECS::TaskDefinition").values()}


# --- the pipeline (ARCH-6) -------------------------------------------------------------------


def test_arch6_the_pipeline_tests_synthesizes_and_delivers_the_shared_stage_then_each_environment_in_order(
    templates: Templates,
) -> None:
    stages = [s["Name"] for s in _pipeline(templates)["Stages"]]
    assert stages == ["Source", "Build", "UpdatePipeline", "Assets", "shared", "dev", "staging", "prod"]


def test_arch6_a_manual_approval_comes_before_production_only(templates: Templates) -> None:
    actions = {s["Name"]: [a["ActionTypeId"]["Category"] for a in s["Actions"]] for s in _pipeline(templates)["Stages"]}
    assert actions["prod"][0] == "Approval"
    assert all("Approval" not in actions[name] for name in ("shared", "dev", "staging"))


def test_arch6_the_synth_step_installs_runs_the_tests_and_synthesizes_the_spec_with_docker(templates: Templates) -> None:
    projects = _of(templates["Pipeline"], "AWS::CodeBuild::Project")
    (synth,) = [p for k, p in projects.items() if "Synth" in k and "Smoke" not in k]
    phases = json.loads(synth["Source"]["BuildSpec"])["phases"]
    assert phases["install"]["commands"] == ["make setup"]
    assert phases["build"]["commands"] == ["make test", "make synth SPEC=specs/environments.yaml"]
    assert synth["Environment"]["PrivilegedMode"] is True  # the web image is built from source


def test_arch6_after_each_environment_its_public_service_answers_its_health_path(templates: Templates) -> None:
    """A smoke check per environment reads the web service's origin (a name its certificate covers) and asks /health."""
    for environment, host in (("dev", "dev.shop.example.com"), ("staging", "staging.shop.example.com"), ("prod", "shop.example.com")):
        outputs = templates[f"{environment}/Workloads"]["Outputs"]
        assert outputs["WebOrigin"]["Value"] == f"https://{host}"
        assert "ApiOrigin" not in outputs  # internal: not reachable from CodeBuild
        stage = next(s for s in _pipeline(templates)["Stages"] if s["Name"] == environment)
        assert stage["Actions"][-1]["Name"] == "SmokeChecks"
    projects = _of(templates["Pipeline"], "AWS::CodeBuild::Project")
    (prod,) = [p for k, p in projects.items() if "prodSmokeChecks" in k]
    variables = {v["Name"]: v.get("Value") for v in prod["Environment"]["EnvironmentVariables"]}
    assert variables["SMOKE_PATH_0"] == "/health" and variables["SMOKE_NAME_0"] == "web"


def test_arch6_pipeline_failures_reach_an_encrypted_topic_and_artifacts_are_kms_encrypted(templates: Templates) -> None:
    pipeline = templates["Pipeline"]
    (rule,) = _of(pipeline, "AWS::CodeStarNotifications::NotificationRule").values()
    assert rule["EventTypeIds"] == ["codepipeline-pipeline-pipeline-execution-failed"]
    (topic,) = _of(pipeline, "AWS::SNS::Topic").values()
    assert "KmsMasterKeyId" in topic
    buckets = _of(pipeline, "AWS::S3::Bucket")
    encryptions = [b["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] for b in buckets.values()]
    assert {"SSEAlgorithm": "aws:kms"} in [{"SSEAlgorithm": e["SSEAlgorithm"]} for e in encryptions]


def test_arch6_the_pipeline_lives_in_the_tools_account(outdir: Path) -> None:
    manifest = json.loads((outdir / "manifest.json").read_text())
    assert manifest["artifacts"]["Pipeline"]["environment"] == "aws://333333333333/ap-northeast-1"


# --- images ----------------------------------------------------------------------------------


def test_a_build_image_is_a_docker_asset_the_cli_builds_at_deploy(outdir: Path, templates: Templates) -> None:
    """Synthesis needs no Docker: the asset manifest names the build context, the task definition its published image."""
    web = _definitions(templates, "dev/Workloads")["web"]["ContainerDefinitions"][0]
    assert "container-assets" in json.dumps(web["Image"])
    assets = json.loads(next((outdir / "assembly-dev").glob("*Workloads*.assets.json")).read_text())
    (image,) = assets["dockerImages"].values()
    assert (outdir / "assembly-dev" / image["source"]["directory"] / "Dockerfile").is_file()


def test_iam1_a_platform_repository_image_is_pulled_from_the_images_account(templates: Templates) -> None:
    """api's image lives in the images account (the first environment's, 111111111111); prod (222222222222) pulls it,
    its execution role scoped to that repository, and the repository lets prod's account pull."""
    api = _definitions(templates, "prod/Workloads")["api"]["ContainerDefinitions"][0]
    assert "111111111111.dkr.ecr.ap-northeast-1." in json.dumps(api["Image"]) and json.dumps(api["Image"]).endswith('shop/api:1.0.0"]]}')
    policies = json.dumps(_of(templates["prod/Workloads"], "AWS::IAM::ManagedPolicy"))
    assert "arn:aws:ecr:ap-northeast-1:111111111111:repository/shop/api" in policies
    (repository,) = _of(templates["shared/111111111111-ap-northeast-1"], "AWS::ECR::Repository").values()
    assert repository["RepositoryName"] == "shop/api" and repository["ImageTagMutability"] == "IMMUTABLE"
    assert repository["RepositoryPolicyText"]["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::222222222222:root"}


def test_public_images_come_through_each_accounts_pull_through_cache(templates: Templates) -> None:
    report = _definitions(templates, "prod/Workloads")["report"]["ContainerDefinitions"][0]
    assert "ecr-public/docker/library/busybox:stable" in json.dumps(report["Image"])
    for account in ("111111111111", "222222222222"):
        (rule,) = _of(templates[f"shared/{account}-ap-northeast-1"], "AWS::ECR::PullThroughCacheRule").values()
        assert (rule["EcrRepositoryPrefix"], rule["UpstreamRegistryUrl"]) == ("ecr-public", "public.ecr.aws")
    policies = json.dumps(_of(templates["prod/Workloads"], "AWS::IAM::ManagedPolicy"))
    assert "ecr:BatchImportUpstreamImage" in policies and "repository/ecr-public/*" in policies


def _synthesized(tmp_path: Path, **image_tags: str) -> Templates:
    app, _ = build_platform_app(
        load_specs(SPECS / "environments.yaml", environment="dev", image_tags=image_tags),
        environment="dev",
        outdir=str(tmp_path),
        nag=False,
    )
    app.synth()
    return stack_templates(tmp_path)


def test_a_new_tag_from_the_context_is_a_new_task_definition(tmp_path: Path, templates: Templates) -> None:
    """CI rolls out a tag without a spec edit: -c image_tag=2.0.0 lands in the task definition (a new revision, so
    the service rolls); -c image_tag:web=<tag> runs an image an earlier build published instead of building."""
    tagged = _synthesized(tmp_path, **{"": "2.0.0", "web": "3f2a9c"})
    api = _definitions(tagged, "dev/Workloads")["api"]["ContainerDefinitions"][0]
    assert json.dumps(api["Image"]).endswith('shop/api:2.0.0"]]}')
    assert _definitions(templates, "dev/Workloads")["api"] != _definitions(tagged, "dev/Workloads")["api"]
    web = _definitions(tagged, "dev/Workloads")["web"]["ContainerDefinitions"][0]
    assert "cdk-hnb659fds-container-assets-111111111111-ap-northeast-1:3f2a9c" in json.dumps(web["Image"])
    assets = json.loads(next((tmp_path / "assembly-dev").glob("*Workloads*.assets.json")).read_text())
    assert assets.get("dockerImages", {}) == {}


# --- GitHub Actions --------------------------------------------------------------------------


def test_github_actions_assume_a_deploy_role_of_each_account_trusted_by_the_repositorys_environments(templates: Templates) -> None:
    for account in ("111111111111", "222222222222"):
        roles = _of(templates[f"shared/{account}-ap-northeast-1"], "AWS::IAM::Role")
        (trust,) = [r["AssumeRolePolicyDocument"] for r in roles.values() if "sts:AssumeRoleWithWebIdentity" in json.dumps(r)]
        (statement,) = trust["Statement"]
        condition = statement["Condition"]["StringEquals"]
        assert condition["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
        assert condition["token.actions.githubusercontent.com:sub"] == [
            f"repo:example-org/shop:environment:{name}" for name in ("dev", "staging", "prod")
        ]
