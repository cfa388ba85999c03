"""ImageRepository and PullThroughCache: the workload's ECR repository and the cache of public images (SEC-3, IAM-1)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, CfnParameter, RemovalPolicy, Stack
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Template

from ecs_platform.constructs import (
    ConstructError,
    ContainerProps,
    EncryptionKey,
    EncryptionKeyProps,
    FargateTask,
    FargateTaskProps,
    ImageRepository,
    ImageRepositoryProps,
    PullThroughCache,
    PullThroughCacheProps,
    ScopedRole,
    ScopedRoleProps,
)
from ecs_platform.constructs.acknowledge import CONTEXT_KEY
from ecs_platform.constructs.image_repository import cached_image, grant_pull_from, grant_pull_through
from tests.helpers import nag_findings
from tests.unit.support import ACCOUNT, REGION, join_text, logical_id, nag_app, new_stack, of_type

DIGEST = "sha256:" + "0123456789abcdef" * 4
DOCKER_HUB_SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ecr-pullthroughcache/docker-hub-AbCdEf"
VIA_ECR = {"StringEquals": {"kms:ViaService": f"ecr.{REGION}.amazonaws.com"}}
#: IAM-1's pull actions and CI's push actions, as CDK renders them (sorted).
PULL = sorted(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"])
PUSH = sorted(
    ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:BatchCheckLayerAvailability"]
)
LOGIN = {"Action": "ecr:GetAuthorizationToken", "Effect": "Allow", "Resource": "*"}
#: The registry of the test account, as rewrite() renders it (the URL suffix stays a token).
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.<token>"


@dataclass
class Scenario:
    template: Template
    ids: dict[str, str]
    report: dict[str, Any]
    cache: PullThroughCache


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """Given, in one stack with the cdk-nag packs registered:

    - ``images``: repository ``shop/api`` with every default; a task runs its tag ``1.4.2`` and its digest,
      and a CI role may push to it;
    - ``scratch``: repository ``shop/scratch`` keeping 10 images, untagged ones 3 days, DESTROY;
    - ``cache``: a pull-through cache of ECR Public and Docker Hub (credentials imported by ARN); a second
      task runs an image through it, and its execution role may pull through the cache.
    """
    app, stack, ids, cache = _build()
    # When synthesized (the packs' findings are errors: synthesis itself proves nag-clean)
    assembly = app.synth()
    template = Template.from_json(assembly.get_stack_artifact(stack.artifact_id).template)
    report = json.loads((Path(assembly.directory) / "validation-report.json").read_text())
    return Scenario(template, ids, report, cache)


def _build(context: dict[str, str] | None = None) -> tuple[App, Stack, dict[str, str], PullThroughCache]:
    """The scenario's app, with the nag packs, not yet synthesized."""
    app = nag_app(**(context or {}))
    stack = new_stack(app)
    key = EncryptionKey(stack, "Key", props=EncryptionKeyProps(description="Images and the task logs"))
    images = ImageRepository(stack, "Images", props=ImageRepositoryProps(repository_name="shop/api", key=key))
    scratch = ImageRepository(
        stack,
        "Scratch",
        props=ImageRepositoryProps(
            repository_name="shop/scratch", key=key, keep_images=10, untagged_days=3, removal_policy=RemovalPolicy.DESTROY
        ),
    )
    api = FargateTask(
        stack,
        "Api",
        props=FargateTaskProps(
            encryption_key=key,
            containers=[
                ContainerProps(name="app", image=images.image("1.4.2")),
                ContainerProps(name="pinned", image=images.image(DIGEST), essential=False),
            ],
        ),
    )
    ci = ScopedRole(stack, "Ci", props=ScopedRoleProps(assumed_by=iam.AccountRootPrincipal(), description="CI pushes images"))
    images.grant_push(ci)
    cache = PullThroughCache(
        stack,
        "Cache",
        props=PullThroughCacheProps(
            upstreams=["ecr-public", "docker-hub"],
            key=key,
            docker_hub_credentials=secretsmanager.Secret.from_secret_complete_arn(stack, "DockerHub", DOCKER_HUB_SECRET),
        ),
    )
    proxy_image = cache.rewrite("nginx:1.27")
    assert proxy_image is not None
    proxy = FargateTask(
        stack,
        "Proxy",
        props=FargateTaskProps(
            encryption_key=key, containers=[ContainerProps(name="proxy", image=ecs.ContainerImage.from_registry(proxy_image))]
        ),
    )
    cache.grant_pull(proxy.execution_role)
    ids = {
        "key": logical_id(key),
        "images": logical_id(images.repository),
        "scratch": logical_id(scratch.repository),
        "api.td": logical_id(api.task_definition),
        "api.exec": logical_id(api.execution_role),
        "proxy.td": logical_id(proxy.task_definition),
        "proxy.exec": logical_id(proxy.execution_role),
        "ci": logical_id(ci),
        "template_role": logical_id(cache.template_role),
        "docker-hub.template": Stack.of(stack).get_logical_id(cache.templates["docker-hub"]),
    }
    return app, stack, ids, cache


def _repository(scenario: Scenario, name: str) -> dict[str, Any]:
    props: dict[str, Any] = of_type(scenario.template, "AWS::ECR::Repository")[scenario.ids[name]]["Properties"]
    return props


def _statements(scenario: Scenario, role: str) -> list[dict[str, Any]]:
    """The statements of the role's one customer-managed policy."""
    (policy,) = [
        p["Properties"]
        for p in of_type(scenario.template, "AWS::IAM::ManagedPolicy").values()
        if p["Properties"].get("Roles") == [{"Ref": scenario.ids[role]}]
    ]
    statements: list[dict[str, Any]] = policy["PolicyDocument"]["Statement"]
    return statements


def _images(scenario: Scenario, task: str) -> dict[str, Any]:
    definition = of_type(scenario.template, "AWS::ECS::TaskDefinition")[scenario.ids[f"{task}.td"]]["Properties"]
    return {c["Name"]: c["Image"] for c in definition["ContainerDefinitions"]}


def _key_arn(scenario: Scenario) -> dict[str, Any]:
    return {"Fn::GetAtt": [scenario.ids["key"], "Arn"]}


def _repository_arn(scenario: Scenario, name: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [scenario.ids[name], "Arn"]}


def _cached(prefix: str) -> str:
    """The repositories ECR creates under a cache prefix (the partition is known from the stack's region)."""
    return f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{prefix}/*"


#: Both prefixes, as CDK renders them (sorted).
CACHED = [_cached("docker-hub"), _cached("ecr-public")]


# --- ImageRepository: the repository -----------------------------------------------------------


def test_sec3_repository_is_encrypted_with_the_given_key(scenario: Scenario) -> None:
    """SEC-3: KMS encryption with the platform's customer-managed key, not ECR's AWS managed key."""
    assert _repository(scenario, "images")["EncryptionConfiguration"] == {"EncryptionType": "KMS", "KmsKey": _key_arn(scenario)}


def test_tags_are_immutable_and_every_push_is_scanned(scenario: Scenario) -> None:
    """A tag names one image for good; each pushed image is scanned for vulnerabilities."""
    for name in ("images", "scratch"):
        repository = _repository(scenario, name)
        assert repository["ImageTagMutability"] == "IMMUTABLE"
        assert repository["ImageScanningConfiguration"] == {"ScanOnPush": True}


def test_repository_has_its_name_and_no_policy_so_nothing_public(scenario: Scenario) -> None:
    """No repository policy: only principals of this account that IAM allows reach it."""
    repository = _repository(scenario, "images")
    assert repository["RepositoryName"] == "shop/api"
    assert "RepositoryPolicyText" not in repository


def test_lifecycle_expires_untagged_images_first_then_keeps_the_newest(scenario: Scenario) -> None:
    """Rule 1: untagged images expire 7 days after their push; rule 2 (the one selecting any image,
    which ECR requires to have the highest priority): beyond the newest 30 images, older ones expire."""
    policy = json.loads(_repository(scenario, "images")["LifecyclePolicy"]["LifecyclePolicyText"])
    assert policy == {
        "rules": [
            {
                "rulePriority": 1,
                "description": "Untagged images expire 7 days after their push",
                "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countNumber": 7, "countUnit": "days"},
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": "Keep the newest 30 images",
                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 30},
                "action": {"type": "expire"},
            },
        ]
    }


def test_lifecycle_counts_are_configurable(scenario: Scenario) -> None:
    """keep_images=10 and untagged_days=3 land in the same two rules, in the same order."""
    rules = json.loads(_repository(scenario, "scratch")["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    assert [(r["rulePriority"], r["selection"]["tagStatus"], r["selection"]["countNumber"]) for r in rules] == [
        (1, "untagged", 3),
        (2, "any", 10),
    ]


def test_repository_is_retained_by_default_and_emptied_when_destroyed(scenario: Scenario) -> None:
    """The images are what production runs: RETAIN unless asked; DESTROY empties the repository first."""
    resources = of_type(scenario.template, "AWS::ECR::Repository")
    kept, scratch = resources[scenario.ids["images"]], resources[scenario.ids["scratch"]]
    assert (kept["DeletionPolicy"], kept["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert "EmptyOnDelete" not in kept["Properties"]
    assert (scratch["DeletionPolicy"], scratch["Properties"]["EmptyOnDelete"]) == ("Delete", True)


# --- ImageRepository: grants -------------------------------------------------------------------


def test_iam1_pull_rights_are_scoped_to_the_repository(scenario: Scenario) -> None:
    """IAM-1: the execution role of the task that runs the images gets exactly the three pull actions on
    this repository, the registry login on '*', and kms:Decrypt on the key through ECR in this region."""
    assert _statements(scenario, "api.exec") == [
        {"Action": PULL, "Effect": "Allow", "Resource": _repository_arn(scenario, "images")},
        LOGIN,
        {"Action": "kms:Decrypt", "Condition": VIA_ECR, "Effect": "Allow", "Resource": _key_arn(scenario)},
        {
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [logical_id_of_log_group(scenario, "api"), "Arn"]},
        },
    ]


def logical_id_of_log_group(scenario: Scenario, task: str) -> str:
    """The log group the task definition's containers write to."""
    definition = of_type(scenario.template, "AWS::ECS::TaskDefinition")[scenario.ids[f"{task}.td"]]["Properties"]
    group: str = definition["ContainerDefinitions"][0]["LogConfiguration"]["Options"]["awslogs-group"]["Ref"]
    return group


def test_push_rights_for_ci_are_scoped_to_the_repository(scenario: Scenario) -> None:
    """CI may upload layers and put images in this repository only, log in, and generate data keys and
    decrypt with the key through ECR only."""
    assert _statements(scenario, "ci") == [
        {"Action": PUSH, "Effect": "Allow", "Resource": _repository_arn(scenario, "images")},
        LOGIN,
        {
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Condition": VIA_ECR,
            "Effect": "Allow",
            "Resource": _key_arn(scenario),
        },
    ]


# --- ImageRepository: images -------------------------------------------------------------------


def test_tag_and_digest_images_name_the_repository_in_the_task_definition(scenario: Scenario) -> None:
    """A tag lands as ``<registry>/<repository>:<tag>``, a digest as ``<registry>/<repository>@sha256:…``."""
    images = _images(scenario, "api")
    assert images["app"]["Fn::Join"][1][-2:] == [{"Ref": scenario.ids["images"]}, ":1.4.2"]
    assert images["pinned"]["Fn::Join"][1][-2:] == [{"Ref": scenario.ids["images"]}, f"@{DIGEST}"]
    assert ".dkr.ecr." in join_text(images["pinned"])


@pytest.mark.parametrize(
    "value",
    ["", "-leading-dash", ".leading-dot", "with space", "a:b", "x" * 129, "sha256:abc", "sha256:" + "A" * 64, "sha512:" + "0" * 128],
)
def test_image_fails_when_neither_a_tag_nor_a_digest(value: str) -> None:
    """image() refuses anything but a Docker tag or a sha256 digest (a short or uppercase digest is not a tag either)."""
    stack = new_stack()
    key = EncryptionKey(stack, "Key", props=EncryptionKeyProps(description="images"))
    repository = ImageRepository(stack, "Images", props=ImageRepositoryProps(repository_name="shop/api", key=key))
    with pytest.raises(ConstructError, match=r"Test/Images: tag_or_digest: .* is neither an image tag nor a digest; allowed: "):
        repository.image(value)


@pytest.mark.parametrize("value", ["latest", "1.4.2", "v1_2-rc.3", "A" * 128, DIGEST])
def test_image_accepts_tags_and_digests(value: str) -> None:
    """Tags up to 128 characters and sha256 digests give an ECR image of this repository, with ':' or '@'."""
    stack = new_stack()
    key = EncryptionKey(stack, "Key", props=EncryptionKeyProps(description="images"))
    repository = ImageRepository(stack, "Images", props=ImageRepositoryProps(repository_name="shop/api", key=key))
    image = repository.image(value)
    assert isinstance(image, ecs.EcrImage)
    assert stack.resolve(image.image_name)["Fn::Join"][1][-1] == (f"@{value}" if value == DIGEST else f":{value}")


# --- ImageRepository: refusals -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["a", "Shop/api", "shop//api", "shop/api/", "-shop", "shop_/api", "shop api", "x" * 257])
def test_repository_fails_when_the_name_breaks_ecr_rules(name: str) -> None:
    """ECR's rule: 2-256 characters, lowercase components separated by '/', '.', '_' or '-' inside a component."""
    stack = new_stack()
    key = EncryptionKey(stack, "Key", props=EncryptionKeyProps(description="images"))
    with pytest.raises(ConstructError, match=r"Test/Images: repository_name: .* is not a valid ECR repository name; allowed: 2 to 256"):
        ImageRepository(stack, "Images", props=ImageRepositoryProps(repository_name=name, key=key))


@pytest.mark.parametrize(("field", "value"), [("keep_images", 0), ("untagged_days", 0), ("untagged_days", -1)])
def test_repository_fails_when_a_lifecycle_count_is_below_one(field: str, value: int) -> None:
    """ECR's lifecycle counts are 1 or more: keeping no image or expiring untagged ones at once is refused."""
    stack = new_stack()
    key = EncryptionKey(stack, "Key", props=EncryptionKeyProps(description="images"))
    counts: dict[str, Any] = {field: value}
    props = ImageRepositoryProps(repository_name="shop/api", key=key, **counts)
    with pytest.raises(ConstructError, match=rf"Test/Images: {field}: {value} is out of range; allowed: 1 "):
        ImageRepository(stack, "Images", props=props)


# --- PullThroughCache --------------------------------------------------------------------------


def test_one_cache_rule_per_upstream_under_its_fixed_prefix(scenario: Scenario) -> None:
    """ECR Public needs no credentials; Docker Hub uses the ecr-pullthroughcache/ secret."""
    rules = sorted((r["Properties"] for r in of_type(scenario.template, "AWS::ECR::PullThroughCacheRule").values()), key=str)
    assert sorted(rules, key=lambda r: r["EcrRepositoryPrefix"]) == [
        {
            "CredentialArn": DOCKER_HUB_SECRET,
            "EcrRepositoryPrefix": "docker-hub",
            "UpstreamRegistry": "docker-hub",
            "UpstreamRegistryUrl": "registry-1.docker.io",
        },
        {"EcrRepositoryPrefix": "ecr-public", "UpstreamRegistry": "ecr-public", "UpstreamRegistryUrl": "public.ecr.aws"},
    ]


def test_sec3_cached_repositories_are_created_encrypted_and_immutable(scenario: Scenario) -> None:
    """SEC-3: a repository creation template per prefix, for pull-through cache: the platform key,
    immutable tags, created by the template role; each rule waits for its template."""
    templates = of_type(scenario.template, "AWS::ECR::RepositoryCreationTemplate")
    assert sorted(t["Properties"]["Prefix"] for t in templates.values()) == ["docker-hub", "ecr-public"]
    for template in templates.values():
        props = template["Properties"]
        assert props["AppliedFor"] == ["PULL_THROUGH_CACHE"]
        assert props["EncryptionConfiguration"] == {"EncryptionType": "KMS", "KmsKey": _key_arn(scenario)}
        assert props["ImageTagMutability"] == "IMMUTABLE"
        assert props["CustomRoleArn"] == {"Fn::GetAtt": [scenario.ids["template_role"], "Arn"]}
    (docker_hub_rule,) = [
        r
        for r in of_type(scenario.template, "AWS::ECR::PullThroughCacheRule").values()
        if r["Properties"]["UpstreamRegistry"] == "docker-hub"
    ]
    assert scenario.ids["docker-hub.template"] in docker_hub_rule["DependsOn"]


def test_template_role_creates_only_cached_repositories_and_uses_the_key_through_ecr(scenario: Scenario) -> None:
    """ECR assumes the template role (no source conditions: AWS documents none for it); it may create
    repositories under the two prefixes and manage grants on the key through ECR only."""
    role = of_type(scenario.template, "AWS::IAM::Role")[scenario.ids["template_role"]]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "ecr.amazonaws.com"}}
    ]
    assert _statements(scenario, "template_role") == [
        {"Action": "ecr:CreateRepository", "Effect": "Allow", "Resource": CACHED},
        {
            "Action": ["kms:CreateGrant", "kms:DescribeKey", "kms:RetireGrant"],
            "Condition": VIA_ECR,
            "Effect": "Allow",
            "Resource": _key_arn(scenario),
        },
    ]


def test_iam1_pull_through_the_cache_is_scoped_to_the_cached_repositories(scenario: Scenario) -> None:
    """IAM-1 through the cache: the pull actions, and on first pull BatchImportUpstreamImage and
    CreateRepository, on the repositories under the cache's prefixes only; the login; kms:Decrypt via ECR."""
    statements = _statements(scenario, "proxy.exec")
    assert [s["Action"] for s in statements[:1]] == [["logs:CreateLogStream", "logs:PutLogEvents"]]
    assert statements[1:] == [
        {"Action": sorted([*PULL, "ecr:BatchImportUpstreamImage", "ecr:CreateRepository"]), "Effect": "Allow", "Resource": CACHED},
        LOGIN,
        {"Action": "kms:Decrypt", "Condition": VIA_ECR, "Effect": "Allow", "Resource": _key_arn(scenario)},
    ]


def test_the_rewritten_image_lands_in_the_task_definition(scenario: Scenario) -> None:
    """The task pulls nginx:1.27 from this account's registry, under the Docker Hub prefix and library/."""
    assert join_text(_images(scenario, "proxy")["proxy"]) == f"{REGISTRY}/docker-hub/library/nginx:1.27"


REWRITES = [
    ("public.ecr.aws/nginx/nginx:1.27", "ecr-public/nginx/nginx:1.27"),
    ("public.ecr.aws/docker/library/redis:7", "ecr-public/docker/library/redis:7"),
    (f"public.ecr.aws/nginx/nginx@{DIGEST}", f"ecr-public/nginx/nginx@{DIGEST}"),
    ("nginx:latest", "docker-hub/library/nginx:latest"),
    ("nginx", "docker-hub/library/nginx"),
    ("docker.io/library/nginx:latest", "docker-hub/library/nginx:latest"),
    ("docker.io/nginx:1.27", "docker-hub/library/nginx:1.27"),
    ("index.docker.io/library/nginx:1.27", "docker-hub/library/nginx:1.27"),
    ("registry-1.docker.io/bitnami/redis:7", "docker-hub/bitnami/redis:7"),
    ("bitnami/redis:7", "docker-hub/bitnami/redis:7"),
    (f"nginx@{DIGEST}", f"docker-hub/library/nginx@{DIGEST}"),
    (f"nginx:1.27@{DIGEST}", f"docker-hub/library/nginx:1.27@{DIGEST}"),
    ("grafana/grafana-oss:11.0.0", "docker-hub/grafana/grafana-oss:11.0.0"),
]
NOT_CACHED = [
    "ghcr.io/org/app:1.0",
    "quay.io/prometheus/node-exporter:v1.8.0",
    "registry.k8s.io/pause:3.9",
    f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/shop/api:1.4.2",
    "localhost:5000/app:dev",
    "localhost/app",
    "NGINX:latest",
    "nginx:bad tag",
    "nginx@sha256:short",
    "",
]


@pytest.mark.parametrize(("image", "cached"), REWRITES)
def test_rewrite_maps_public_images_to_the_cache(scenario: Scenario, image: str, cached: str) -> None:
    """ECR Public keeps its path; Docker Hub's official images get library/; tags and digests are kept."""
    rewritten = scenario.cache.rewrite(image)
    assert rewritten is not None
    assert join_text(Stack.of(scenario.cache).resolve(rewritten)) == f"{REGISTRY}/{cached}"


@pytest.mark.parametrize("image", NOT_CACHED)
def test_rewrite_leaves_images_of_other_registries_alone(scenario: Scenario, image: str) -> None:
    """Other registries, this account's ECR, and references that are not valid images: None (not cached)."""
    assert scenario.cache.rewrite(image) is None


@pytest.mark.parametrize(
    ("image", "cached"), [("public.ecr.aws/nginx/nginx:1.27", True), ("nginx:latest", False), ("bitnami/redis:7", False)]
)
def test_rewrite_only_for_configured_upstreams(image: str, cached: bool) -> None:
    """A cache of ECR Public only does not rewrite Docker Hub images (no rule would serve them)."""
    stack = new_stack()
    key = EncryptionKey(stack, "Key", props=EncryptionKeyProps(description="images"))
    cache = PullThroughCache(stack, "Cache", props=PullThroughCacheProps(upstreams=["ecr-public"], key=key))
    assert (cache.rewrite(image) is not None) is cached


# --- PullThroughCache: refusals ----------------------------------------------------------------


def _cache(upstreams: list[str], secret: str | None = None, *, defined: str | None = None, generated: bool = False) -> None:
    stack = new_stack()
    key = EncryptionKey(stack, "Key", props=EncryptionKeyProps(description="images"))
    credentials: secretsmanager.ISecret | None = None
    if secret is not None:
        credentials = secretsmanager.Secret.from_secret_name_v2(stack, "Credentials", secret)
    if defined is not None or generated:
        credentials = secretsmanager.Secret(stack, "Credentials", secret_name=defined)
    PullThroughCache(stack, "Cache", props=PullThroughCacheProps(upstreams=upstreams, key=key, docker_hub_credentials=credentials))


@pytest.mark.parametrize(
    ("upstreams", "problem"),
    [
        (["quay"], "'quay' is not a registry ECR caches here"),
        (["ecr-public", "ghcr"], "'ghcr' is not a registry ECR caches here"),
        ([], "none given"),
        (["ecr-public", "ecr-public"], "'ecr-public' given more than once"),
    ],
)
def test_cache_fails_when_an_upstream_is_unknown_missing_or_repeated(upstreams: list[str], problem: str) -> None:
    """Only ECR Public and Docker Hub, at least one, each once (their prefixes are fixed)."""
    with pytest.raises(
        ConstructError, match=rf"Test/Cache: upstreams: {problem}; allowed: one or more of ecr-public, docker-hub, each once"
    ):
        _cache(upstreams)


def test_cache_fails_when_docker_hub_has_no_credentials() -> None:
    """ECR caches Docker Hub only with credentials."""
    with pytest.raises(
        ConstructError, match=r"Test/Cache: docker_hub_credentials: none given for docker-hub; allowed: .*ecr-pullthroughcache/"
    ):
        _cache(["docker-hub"])


@pytest.mark.parametrize(
    ("kwargs", "shown"),
    [
        ({"secret": "dockerhub/credentials"}, "'dockerhub/credentials'"),
        ({"defined": "docker-hub-credentials"}, "'docker-hub-credentials'"),
        ({"generated": True}, "a generated name"),
    ],
)
def test_cache_fails_when_the_credentials_secret_is_not_named_for_the_cache(kwargs: dict[str, Any], shown: str) -> None:
    """ECR reads only secrets named ecr-pullthroughcache/…: an imported name, a name given here, or a
    name CloudFormation generates (which never has the prefix) is refused."""
    with pytest.raises(
        ConstructError,
        match=rf"Test/Cache: docker_hub_credentials: {shown} is not a pull-through cache secret; allowed: .*ecr-pullthroughcache/",
    ):
        _cache(["docker-hub"], **kwargs)


def test_cache_accepts_credentials_named_for_the_cache_or_not_known_yet() -> None:
    """An imported name or a defined name with the prefix passes; a name that is a token is not checked."""
    _cache(["docker-hub"], "ecr-pullthroughcache/docker-hub")
    _cache(["docker-hub"], defined="ecr-pullthroughcache/hub")
    stack = new_stack()
    key = EncryptionKey(stack, "Key", props=EncryptionKeyProps(description="images"))
    arn = CfnParameter(stack, "CredentialsArn").value_as_string
    credentials = secretsmanager.Secret.from_secret_complete_arn(stack, "Credentials", arn)
    cache = PullThroughCache(
        stack, "Cache", props=PullThroughCacheProps(upstreams=["docker-hub"], key=key, docker_hub_credentials=credentials)
    )
    assert stack.resolve(cache.rules["docker-hub"].credential_arn) == {"Ref": "CredentialsArn"}


# --- cdk-nag -----------------------------------------------------------------------------------

#: Every acknowledgement of the scenario, by rule and construct. Changing it is a security review.
ACKNOWLEDGED = {
    (f"AwsSolutions-IAM5[Resource::{_cached(prefix)}]", f"Test/{role}/Policy/Resource")
    for prefix in ("ecr-public", "docker-hub")
    for role in ("Cache/TemplateRole", "Proxy/ExecutionRole")
} | {("AwsSolutions-IAM5[Resource::*]", f"Test/{role}/Policy/Resource") for role in ("Api/ExecutionRole", "Ci", "Proxy/ExecutionRole")}


def test_synthesis_is_nag_clean_with_pinned_acknowledgements(scenario: Scenario) -> None:
    """No unacknowledged finding in any pack; the acknowledged ones are exactly the cached-repository
    patterns (the template role and the execution role pulling through the cache) and the registry
    login on '*', each with a reason a reviewer can judge."""
    violations = [v for p in scenario.report["pluginReports"] for v in p.get("violations", [])]
    assert violations == []
    acknowledged = {
        (v["ruleName"], c["constructPath"]): v["reason"]
        for p in scenario.report["pluginReports"]
        for v in p.get("suppressedViolations", [])
        for c in v["violatingConstructs"]
    }
    assert set(acknowledged) == ACKNOWLEDGED
    for (rule, _), reason in acknowledged.items():
        if rule.endswith("/*]"):
            assert "pull-through cache prefix" in reason
        else:
            assert reason.startswith("ecr:GetAuthorizationToken has no resource-level permission")


def test_every_acknowledgement_matches_a_real_finding() -> None:
    """With acknowledgements off, synthesis fails on exactly the pinned findings: none is stale, none
    covers more than it names."""
    app, _, _, _ = _build({CONTEXT_KEY: "false"})
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((Path(app.outdir) / "validation-report.json").read_text())
    assert set(nag_findings(report)) == ACKNOWLEDGED


# --- for stacks that do not own the repository or the cache (another stage, another account) -----


def test_iam1_other_accounts_may_pull_and_nothing_more() -> None:
    """pull_accounts: the environments of other accounts pull from the repository of the images account."""
    stack = new_stack()
    key = EncryptionKey(stack, "Key", props=EncryptionKeyProps(description="images"))
    ImageRepository(stack, "Shared", props=ImageRepositoryProps(repository_name="shop/web", key=key, pull_accounts=["222222222222"]))
    (repository,) = of_type(Template.from_stack(stack), "AWS::ECR::Repository").values()
    (statement,) = repository["Properties"]["RepositoryPolicyText"]["Statement"]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::222222222222:root"}
    assert sorted(statement["Action"]) == PULL and statement["Effect"] == "Allow"


def test_iam1_pulls_from_a_repository_known_by_arn_and_through_the_cache_of_the_account() -> None:
    """grant_pull_from: the pull actions on exactly that repository; grant_pull_through: pull and first-pull import on
    the cache's prefixes of the role's own account and region. Both with the registry login; no key rights."""
    stack = new_stack()
    role = ScopedRole(stack, "Execution", props=ScopedRoleProps(assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com")))
    arn = "arn:aws:ecr:ap-northeast-1:111111111111:repository/shop/web"
    grant_pull_from(role, arn)
    grant_pull_through(role, stack, ["ecr-public"])
    (policy,) = of_type(Template.from_stack(stack), "AWS::IAM::ManagedPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    by_resource = {json.dumps(s["Resource"], sort_keys=True): s for s in statements}
    assert sorted(by_resource[json.dumps(arn)]["Action"]) == PULL
    cached = next(s for r, s in by_resource.items() if "ecr-public/*" in r)
    assert sorted(cached["Action"]) == sorted([*PULL, "ecr:BatchImportUpstreamImage", "ecr:CreateRepository"])
    assert LOGIN in statements and not [s for s in statements if str(s["Action"]).startswith("kms")]


@pytest.mark.parametrize(
    ("image", "cached"),
    [
        ("public.ecr.aws/nginx/nginx:1.27", "r/ecr-public/nginx/nginx:1.27"),
        ("nginx:latest", "r/docker-hub/library/nginx:latest"),
        (f"bitnami/redis@{DIGEST}", f"r/docker-hub/bitnami/redis@{DIGEST}"),
        ("ghcr.io/org/app:1", None),
    ],
)
def test_cached_image_is_the_rewrite_without_a_construct(image: str, cached: str | None) -> None:
    assert cached_image(image, "r", ["ecr-public", "docker-hub"]) == cached
