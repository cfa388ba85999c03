"""The dev environment of specs/environments.yaml deployed into the local emulator (moto on 127.0.0.1), as
`make deploy SPEC=specs/environments.yaml ENV=dev` would, with its images given by tag.

The web image is built from source by the CDK CLI at deploy, which needs Docker; here it is given as
``-c image_tag:web=<tag>`` (an image an earlier build published), so the assembly holds no asset to
build and the deploy needs no Docker. What the environments share (repositories, caches, deploy roles)
and the pipeline are not deployed: moto's CloudFormation does not create ECR pull-through cache rules,
repository creation templates or CodePipeline pipelines.
"""

from __future__ import annotations

import pytest

from ecs_platform.app_builder import build_platform_app
from ecs_platform.spec import load_specs
from tests.conftest import SPECS
from tests.integration.emulator import REGION, Emulator
from tests.integration.test_emulator_services import _own_certificate

pytestmark = pytest.mark.integration

DEV_ACCOUNT = "111111111111"


@pytest.fixture(scope="module")
def deployed(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> tuple[Emulator, dict[str, dict[str, str]]]:
    specs = load_specs(SPECS / "environments.yaml", image_tags={"web": "local"})
    (dev,) = [s for s in specs if s.environment.name == "dev"]
    for lb in dev.load_balancers:
        assert lb.certificate_arn is not None
        _own_certificate(lb.certificate_arn)
    outdir = tmp_path_factory.mktemp("environments-dev")
    app, _ = build_platform_app(specs, environment="dev", spec_file="specs/environments.yaml", outdir=str(outdir))
    app.synth()
    account = emulator.in_account(DEV_ACCOUNT)
    account.cdk("bootstrap", f"aws://{DEV_ACCOUNT}/{REGION}")
    return account, account.deploy(outdir, "dev/*")


def test_arch6_the_dev_environment_deploys_without_building_an_image(deployed: tuple[Emulator, dict[str, dict[str, str]]]) -> None:
    """Both stacks of dev are created in its account; the summary's one task per service is what runs."""
    account, outputs = deployed
    stacks = {s["StackName"]: s["StackStatus"] for s in account.client("cloudformation").describe_stacks()["Stacks"]}
    assert stacks.get("shop-dev-network") == "CREATE_COMPLETE" and stacks.get("shop-dev-workloads") == "CREATE_COMPLETE"
    cluster = outputs["shop-dev-workloads"]["ClusterName"]
    services = account.client("ecs").describe_services(cluster=cluster, services=["web", "api"])["services"]
    assert {s["serviceName"]: s["desiredCount"] for s in services} == {"web": 1, "api": 1}


def test_the_images_are_the_tagged_ones(deployed: tuple[Emulator, dict[str, dict[str, str]]]) -> None:
    """web runs the tag the context gave (from the CDK assets repository), api its platform repository's tag."""
    account, outputs = deployed
    ecs = account.client("ecs")
    cluster = outputs["shop-dev-workloads"]["ClusterName"]
    images = {}
    for service in ecs.describe_services(cluster=cluster, services=["web", "api"])["services"]:
        definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        images[service["serviceName"]] = definition["containerDefinitions"][0]["image"]
    assert images["web"] == f"{DEV_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/cdk-hnb659fds-container-assets-{DEV_ACCOUNT}-{REGION}:local"
    assert images["api"] == f"{DEV_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/shop/api:1.0.0"
