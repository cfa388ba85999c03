"""ImageRepository and PullThroughCache: where the platform's tasks get their images (issue 12, images).

:class:`ImageRepository` is the ECR repository the platform owns for one workload: encrypted with a
customer-managed key (SEC-3), immutable tags, scan on push, a lifecycle policy, and pull and push
grants that name exactly the actions IAM-1 lists, on this repository only.

:class:`PullThroughCache` lets tasks pull public images (ECR Public, Docker Hub) through this
account's registry: one rule per upstream under a fixed repository prefix, and a repository creation
template per prefix, so the repositories ECR creates on the first pull are encrypted with the
platform's key and have immutable tags. Tasks then pull from this account's ECR, which fetches an
image from the upstream once: the upstream's rate limit no longer counts every task's pull from the
NAT gateway's one address, and Docker Hub counts the credentials' pulls, not anonymous ones.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct, IConstruct

from ecs_platform.constructs.acknowledge import acknowledge, nag_text
from ecs_platform.constructs.errors import ConstructError, refuse
from ecs_platform.constructs.scoped_role import ScopedRole, ScopedRoleProps
from ecs_platform.constructs.source_conditions import service_principal

#: What pulling an image needs on its repository (IAM-1).
PULL_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability")
#: What pushing an image needs on its repository (CI).
PUSH_ACTIONS = (
    "ecr:PutImage",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:BatchCheckLayerAvailability",
)
#: The registry login; it has no resource-level permission (see ``RESOURCE_WILDCARD_ONLY``).
AUTHORIZATION_TOKEN = "ecr:GetAuthorizationToken"  # noqa: S105 (an IAM action, not a password)
#: What the first pull of an image through the cache needs besides the pull itself: ECR imports
#: the upstream image, into a repository it creates when none exists yet.
CACHE_ACTIONS = ("ecr:BatchImportUpstreamImage", "ecr:CreateRepository")

#: ECR's rule for repository names (2 to 256 characters).
REPOSITORY_NAME = re.compile(r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*")
#: An image tag, as Docker and ECR accept it.
IMAGE_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
#: An image digest.
IMAGE_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")

#: Upstream registry -> its URL in a pull-through cache rule. The repository prefix of each is its
#: name: images of ECR Public are cached under ``ecr-public/``, those of Docker Hub under ``docker-hub/``.
UPSTREAMS: Mapping[str, str] = {"ecr-public": "public.ecr.aws", "docker-hub": "registry-1.docker.io"}
#: ECR reads upstream credentials only from secrets named with this prefix.
CREDENTIALS_PREFIX = "ecr-pullthroughcache/"

#: The registry host of each upstream in an image reference (none: Docker Hub).
_REGISTRY_HOSTS: Mapping[str | None, str] = {
    "public.ecr.aws": "ecr-public",
    None: "docker-hub",
    "docker.io": "docker-hub",
    "index.docker.io": "docker-hub",
    "registry-1.docker.io": "docker-hub",
}
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REFERENCE = re.compile(
    rf"(?P<path>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)(?P<tag>:{IMAGE_TAG.pattern})?(?P<digest>@{IMAGE_DIGEST.pattern})?"
)


def check_repository_name(name: str) -> str | None:
    """Why ``name`` is not a valid ECR repository name (None if it is)."""
    if 2 <= len(name) <= 256 and REPOSITORY_NAME.fullmatch(name):
        return None
    return (
        f"{name!r} is not a valid ECR repository name; allowed: 2 to 256 characters, lowercase, "
        f"matching {REPOSITORY_NAME.pattern} (e.g. shop/api)"
    )


def check_tag_or_digest(value: str) -> str | None:
    """Why ``value`` is neither an image tag nor a digest (None if it is one)."""
    if IMAGE_DIGEST.fullmatch(value) or (not value.startswith("sha256:") and IMAGE_TAG.fullmatch(value)):
        return None
    return f"{value!r} is neither an image tag nor a digest; allowed: a tag matching {IMAGE_TAG.pattern} or sha256:<64 hex digits>"


def _at_least_one(value: int, unit: str) -> str | None:
    return None if value >= 1 else f"{value} is out of range; allowed: 1 {unit} or more"


def _via_ecr(scope: IConstruct) -> dict[str, dict[str, str]]:
    return {"StringEquals": {"kms:ViaService": f"ecr.{Stack.of(scope).region}.amazonaws.com"}}


def _grant(
    scope: IConstruct,
    grantee: iam.IGrantable,
    actions: Sequence[str],
    repository_arns: Sequence[str],
    key: kms.IKey,
    key_actions: Sequence[str],
) -> iam.Grant:
    """``actions`` on the repositories, the registry login on ``*``, and ``key_actions`` on the key
    through ECR in this region only."""
    return (
        iam.Grant.add_to_principal(grantee=grantee, actions=list(actions), resource_arns=list(repository_arns))
        .combine(iam.Grant.add_to_principal(grantee=grantee, actions=[AUTHORIZATION_TOKEN], resource_arns=["*"]))
        .combine(
            iam.Grant.add_to_principal(grantee=grantee, actions=list(key_actions), resource_arns=[key.key_arn], conditions=_via_ecr(scope))
        )
    )


@dataclass(frozen=True, kw_only=True)
class ImageRepositoryProps:
    repository_name: str
    """Name of the repository (ECR's rule: 2 to 256 lowercase characters, ``shop/api``)."""
    key: kms.IKey
    """Customer-managed key that encrypts the images (SEC-3)."""
    keep_images: int = 30
    """Images kept: older ones beyond this count expire (lifecycle policy). Default: 30."""
    untagged_days: int = 7
    """Days an untagged image is kept after its push (lifecycle policy). Default: 7."""
    pull_accounts: Sequence[str] = ()
    """Other accounts whose principals may pull (environments in other accounts): a repository policy allows
    them the pull actions, and each account still grants its own roles (:func:`grant_pull_from`). Default: none."""
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN
    """What deleting the stack (or replacing the repository) does to it. The images in it are what
    production runs, and a deleted one cannot be pulled again to scale out, replace a task or roll
    back: kept by default. With DESTROY the repository is emptied first (CloudFormation cannot delete
    a repository that holds images). Default: RETAIN."""


class _Repository(ecr.Repository):
    """The repository of an :class:`ImageRepository`. Its own ``grant_pull``/``grant_push`` add the key:
    ``ContainerImage.from_ecr_repository`` calls ``grant_pull`` on the task's execution role when the
    image is bound to a task definition."""

    def __init__(self, scope: Construct, construct_id: str, *, props: ImageRepositoryProps) -> None:
        super().__init__(
            scope,
            construct_id,
            repository_name=props.repository_name,
            encryption=ecr.RepositoryEncryption.KMS,
            encryption_key=props.key,
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            image_scan_on_push=True,
            removal_policy=props.removal_policy,
            empty_on_delete=True if props.removal_policy == RemovalPolicy.DESTROY else None,
            lifecycle_rules=[
                ecr.LifecycleRule(
                    rule_priority=1,
                    description=f"Untagged images expire {props.untagged_days} days after their push",
                    tag_status=ecr.TagStatus.UNTAGGED,
                    max_image_age=Duration.days(props.untagged_days),
                ),
                ecr.LifecycleRule(
                    rule_priority=2,
                    description=f"Keep the newest {props.keep_images} images",
                    tag_status=ecr.TagStatus.ANY,
                    max_image_count=props.keep_images,
                ),
            ],
        )
        self._key = props.key
        if props.pull_accounts:
            self.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="PullFromTheEnvironmentsAccounts",
                    principals=[iam.AccountPrincipal(account) for account in props.pull_accounts],
                    actions=list(PULL_ACTIONS),
                )
            )

    def grant_pull(self, grantee: iam.IGrantable) -> iam.Grant:
        return _grant(self, grantee, PULL_ACTIONS, [self.repository_arn], self._key, ["kms:Decrypt"])

    def grant_push(self, grantee: iam.IGrantable) -> iam.Grant:
        return _grant(self, grantee, PUSH_ACTIONS, [self.repository_arn], self._key, ["kms:GenerateDataKey", "kms:Decrypt"])

    def grant_pull_push(self, grantee: iam.IGrantable) -> iam.Grant:
        return self.grant_pull(grantee).combine(self.grant_push(grantee))


class ImageRepository(Construct):
    """A private ECR repository for one workload's images (SEC-3, IAM-1).

    - encrypted with the customer-managed ``key``;
    - tags are ``IMMUTABLE``: a tag names one image for good, so the task definition that names it
      runs the image that was tested;
    - every push is scanned for vulnerabilities;
    - no repository policy unless ``pull_accounts`` names other accounts (then they may pull, nothing
      more): only principals granted access (``grant_pull``, ``grant_push``) reach it, nothing public;
    - lifecycle: untagged images expire ``untagged_days`` after their push (rule 1), and beyond the
      newest ``keep_images`` images, older ones expire (rule 2; ECR requires the rule that selects any
      image to come last).
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: ImageRepositoryProps) -> None:
        super().__init__(scope, construct_id)
        refuse(self, "repository_name", check_repository_name(props.repository_name), props.repository_name)
        refuse(self, "keep_images", _at_least_one(props.keep_images, "image"), props.keep_images)
        refuse(self, "untagged_days", _at_least_one(props.untagged_days, "day"), props.untagged_days)
        self.key = props.key
        """The key that encrypts the images."""
        self.repository: ecr.Repository = _Repository(self, "Repository", props=props)
        """The repository (its ``grant_pull``/``grant_push`` are this construct's)."""

    @property
    def repository_arn(self) -> str:
        return self.repository.repository_arn

    @property
    def repository_name(self) -> str:
        return self.repository.repository_name

    @property
    def repository_uri(self) -> str:
        return self.repository.repository_uri

    def grant_pull(self, role: iam.IGrantable) -> iam.Grant:
        """What an execution role needs to pull from this repository (IAM-1): ``ecr:BatchGetImage``,
        ``ecr:GetDownloadUrlForLayer``, ``ecr:BatchCheckLayerAvailability`` on this repository,
        ``ecr:GetAuthorizationToken`` (no resource-level permission) and ``kms:Decrypt`` on the key
        through ECR only. :meth:`image` grants it to the task's execution role by itself."""
        return self.repository.grant_pull(role)

    def grant_push(self, grantee: iam.IGrantable) -> iam.Grant:
        """What CI needs to push to this repository: the layer upload actions and ``ecr:PutImage`` on
        this repository, the registry login, and ``kms:GenerateDataKey``/``kms:Decrypt`` through ECR only."""
        return self.repository.grant_push(grantee)

    def image(self, tag_or_digest: str) -> ecs.ContainerImage:
        """The image with this tag (``1.4.2``) or digest (``sha256:<64 hex>``: the task definition names
        ``<repository>@sha256:…``). Bound to a task definition, it grants :meth:`grant_pull` to the
        task's execution role."""
        refuse(self, "tag_or_digest", check_tag_or_digest(tag_or_digest), tag_or_digest)
        return ecs.ContainerImage.from_ecr_repository(self.repository, tag_or_digest)


@dataclass(frozen=True, kw_only=True)
class PullThroughCacheProps:
    upstreams: Sequence[str]
    """Registries to cache, from ``ecr-public`` (public.ecr.aws) and ``docker-hub`` (Docker Hub). Their
    images are cached under the repository prefix of the same name (``ecr-public/…``, ``docker-hub/…``)."""
    key: kms.IKey
    """Customer-managed key that encrypts the repositories ECR creates for cached images (SEC-3)."""
    docker_hub_credentials: secretsmanager.ISecret | None = None
    """Docker Hub user name and access token, which ECR requires for a Docker Hub rule: a Secrets
    Manager secret whose name starts with ``ecr-pullthroughcache/``, in this account and region.
    Default: none (required with ``docker-hub``)."""
    permissions_boundary: iam.IManagedPolicy | None = None
    """Permissions boundary of the role ECR uses to create the cached repositories. Default: none."""


class PullThroughCache(Construct):
    """ECR pull-through cache rules for public registries, and the templates of the repositories they fill.

    Each upstream gets an ``AWS::ECR::PullThroughCacheRule`` with its fixed prefix and an
    ``AWS::ECR::RepositoryCreationTemplate`` for the same prefix, applied to pull-through cache: the
    repositories ECR creates on a first pull are encrypted with ``key`` and have immutable tags. A tag
    cached once therefore keeps naming the image first pulled; an upstream tag that moves later (``latest``)
    is not followed, so name versions or digests. Scan on push is not a template setting: it is the
    registry's scanning configuration (one per account and region), which this construct leaves alone.
    Encrypting with a customer-managed key needs a role ECR assumes to create the repositories
    (:attr:`template_role`): it may create repositories under the prefixes only, and create grants
    on the key through ECR only.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: PullThroughCacheProps) -> None:
        super().__init__(scope, construct_id)
        refuse(self, "upstreams", _check_upstreams(props.upstreams))
        credentials = props.docker_hub_credentials
        if "docker-hub" in props.upstreams:
            if credentials is None:
                raise ConstructError(
                    self,
                    f"docker_hub_credentials: none given for docker-hub; allowed: a Secrets Manager secret named {CREDENTIALS_PREFIX}…",
                )
            name = _secret_name(credentials)
            refuse(self, "docker_hub_credentials", _check_credentials_name(name), name)
        self.upstreams: tuple[str, ...] = tuple(props.upstreams)
        """The cached upstreams; each one's repository prefix is its name."""
        self.key = props.key
        stack = Stack.of(self)
        self.registry = f"{stack.account}.dkr.ecr.{stack.region}.{stack.url_suffix}"
        """This account's registry in this region (``<account>.dkr.ecr.<region>.amazonaws.com``)."""
        self.template_role = ScopedRole(
            self,
            "TemplateRole",
            props=ScopedRoleProps(
                assumed_by=service_principal("ecr.amazonaws.com", scope=self),
                description="ECR creates the pull-through cache repositories, encrypted with the platform key",
                permissions_boundary=props.permissions_boundary,
            ),
        )
        """The role ECR assumes to create cached repositories with the key."""
        arns = self.repository_arns
        self.template_role.add_to_principal_policy(iam.PolicyStatement(actions=["ecr:CreateRepository"], resources=arns))
        self.template_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:CreateGrant", "kms:RetireGrant", "kms:DescribeKey"], resources=[props.key.key_arn], conditions=_via_ecr(self)
            )
        )
        _acknowledge_prefixes(self.template_role, arns, "ECR names the repositories it creates for cached images <prefix>/<upstream path>")
        self.rules: dict[str, ecr.CfnPullThroughCacheRule] = {}
        """The pull-through cache rule of each upstream."""
        self.templates: dict[str, ecr.CfnRepositoryCreationTemplate] = {}
        """The repository creation template of each upstream's prefix."""
        for upstream in self.upstreams:
            template = ecr.CfnRepositoryCreationTemplate(
                self,
                f"{_pascal(upstream)}Template",
                prefix=upstream,
                applied_for=["PULL_THROUGH_CACHE"],
                description=f"Repositories of images cached from {upstream}: platform key, immutable tags",
                encryption_configuration=ecr.CfnRepositoryCreationTemplate.EncryptionConfigurationProperty(
                    encryption_type="KMS", kms_key=props.key.key_arn
                ),
                image_tag_mutability="IMMUTABLE",
                custom_role_arn=self.template_role.role_arn,
            )
            template.node.add_dependency(self.template_role)  # the role's policy is in place before ECR first uses it
            rule = ecr.CfnPullThroughCacheRule(
                self,
                f"{_pascal(upstream)}Rule",
                ecr_repository_prefix=upstream,
                upstream_registry=upstream,
                upstream_registry_url=UPSTREAMS[upstream],
                credential_arn=credentials.secret_arn if upstream == "docker-hub" and credentials is not None else None,
            )
            rule.node.add_dependency(template)  # no first pull before the template that encrypts its repository
            self.templates[upstream], self.rules[upstream] = template, rule

    @property
    def repository_arns(self) -> list[str]:
        """ARN patterns of the cached repositories: ``arn:…:repository/<prefix>/*`` per upstream."""
        stack = Stack.of(self)
        return [stack.format_arn(service="ecr", resource="repository", resource_name=f"{upstream}/*") for upstream in self.upstreams]

    def rewrite(self, image: str) -> str | None:
        """The image as pulled through the cache, or None if it comes from a registry not cached here.

        ``public.ecr.aws/nginx/nginx:1.27`` -> ``<registry>/ecr-public/nginx/nginx:1.27``;
        ``nginx:latest`` and ``docker.io/library/nginx:latest`` -> ``<registry>/docker-hub/library/nginx:latest``
        (Docker Hub's official images live under ``library/``); ``bitnami/redis:7`` ->
        ``<registry>/docker-hub/bitnami/redis:7``. Tags and digests (``@sha256:…``) are kept."""
        return cached_image(image, self.registry, self.upstreams)

    def grant_pull(self, role: iam.IGrantable) -> iam.Grant:
        """What an execution role needs to pull images through the cache: the pull actions (IAM-1) and,
        for the first pull of an image, ``ecr:BatchImportUpstreamImage`` and ``ecr:CreateRepository``,
        on the repositories under the cache's prefixes; the registry login; ``kms:Decrypt`` on the
        key through ECR only."""
        arns = self.repository_arns
        grant = _grant(self, role, PULL_ACTIONS, arns, self.key, ["kms:Decrypt"]).combine(
            iam.Grant.add_to_principal(grantee=role, actions=list(CACHE_ACTIONS), resource_arns=arns)
        )
        _acknowledge_prefixes(role.grant_principal, arns, "Images cached on first pull are named <prefix>/<upstream path>")
        return grant


def grant_pull_from(role: iam.IGrantable, repository_arn: str) -> iam.Grant:
    """Pull rights on a repository another stack (or stage, or account) owns, known by its ARN (IAM-1):
    the pull actions on it and the registry login. ECR decrypts the layers with its own grant on the
    repository's key, so the role needs no key permission."""
    return iam.Grant.add_to_principal(grantee=role, actions=list(PULL_ACTIONS), resource_arns=[repository_arn]).combine(
        iam.Grant.add_to_principal(grantee=role, actions=[AUTHORIZATION_TOKEN], resource_arns=["*"])
    )


def cached_image(image: str, registry: str, upstreams: Collection[str]) -> str | None:
    """``image`` as pulled through a pull-through cache of ``upstreams`` in ``registry``
    (``<account>.dkr.ecr.<region>.<suffix>``), or None if it comes from a registry not cached there
    (see :meth:`PullThroughCache.rewrite`)."""
    first, slash, rest = image.partition("/")
    host: str | None = None
    if slash and ("." in first or ":" in first or first == "localhost"):
        host, image = first.lower(), rest
    upstream = _REGISTRY_HOSTS.get(host)
    reference = _REFERENCE.fullmatch(image)
    if upstream is None or upstream not in upstreams or reference is None:
        return None
    path = reference["path"]
    if upstream == "docker-hub" and "/" not in path:
        path = f"library/{path}"
    return f"{registry}/{upstream}/{path}{reference['tag'] or ''}{reference['digest'] or ''}"


def grant_pull_through(role: iam.IGrantable, scope: IConstruct, upstreams: Collection[str]) -> iam.Grant:
    """What an execution role needs to pull through the cache rules of its own account and region (created
    by a :class:`PullThroughCache` in another stack): the pull actions and, for an image's first pull,
    ``ecr:BatchImportUpstreamImage`` and ``ecr:CreateRepository``, on the repositories under the cache's
    prefixes; the registry login."""
    stack = Stack.of(scope)
    arns = [stack.format_arn(service="ecr", resource="repository", resource_name=f"{upstream}/*") for upstream in upstreams]
    grant = iam.Grant.add_to_principal(grantee=role, actions=[*PULL_ACTIONS, *CACHE_ACTIONS], resource_arns=arns).combine(
        iam.Grant.add_to_principal(grantee=role, actions=[AUTHORIZATION_TOKEN], resource_arns=["*"])
    )
    _acknowledge_prefixes(role.grant_principal, arns, "Images cached on first pull are named <prefix>/<upstream path>")
    return grant


def _check_upstreams(upstreams: Sequence[str]) -> str | None:
    allowed = f"allowed: one or more of {', '.join(UPSTREAMS)}, each once"
    unknown = [u for u in upstreams if u not in UPSTREAMS]
    if unknown:
        return f"{', '.join(map(repr, unknown))} is not a registry ECR caches here; {allowed}"
    if not upstreams:
        return f"none given; {allowed}"
    twice = sorted({u for u in upstreams if list(upstreams).count(u) > 1})
    return f"{', '.join(map(repr, twice))} given more than once; {allowed}" if twice else None


def _secret_name(secret: secretsmanager.ISecret) -> str | None:
    """The secret's name when known at synthesis: an imported name or ARN, or the name of a secret
    defined here. None for a secret whose name CloudFormation generates."""
    if not Token.is_unresolved(secret.secret_name):
        return secret.secret_name
    resource = secret.node.default_child
    if isinstance(resource, secretsmanager.CfnSecret):
        name = Stack.of(resource).resolve(resource.name)
        return name if isinstance(name, str) or name is None else secret.secret_name  # None: generated, never with the prefix
    return secret.secret_name


def _check_credentials_name(name: str | None) -> str | None:
    if name is not None and name.startswith(CREDENTIALS_PREFIX):
        return None
    shown = "a generated name" if name is None else repr(name)
    return f"{shown} is not a pull-through cache secret; allowed: a Secrets Manager secret named {CREDENTIALS_PREFIX}…"


def _acknowledge_prefixes(principal: iam.IPrincipal, arns: Sequence[str], what: str) -> None:
    """Acknowledge cdk-nag IAM5 for the ``<prefix>/*`` repository patterns, on the principal's policy."""
    scope = (principal.scoped_policy or principal) if isinstance(principal, ScopedRole) else principal
    if not isinstance(scope, Construct):
        return
    for arn in arns:
        acknowledge(
            scope,
            f"AwsSolutions-IAM5[Resource::{nag_text(scope, arn)}]",
            f"{what}, created on demand: the statement allows only this registry's repositories under the pull-through cache prefix.",
        )


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))
