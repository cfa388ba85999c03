"""Build the CDK app of a spec, with the cdk-nag packs registered.

``app.py`` (the only entry point) and the tests both call :func:`build_app`, so what the
tests check is exactly what ``cdk synth`` produces.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks

from ecs_platform.context import FEATURE_FLAGS
from ecs_platform.spec.models import Spec
from ecs_platform.stacks.delivery import add_delivery
from ecs_platform.stacks.stage import PlatformStage
from ecs_platform.stacks.translate import DeliveryTranslation

#: The rule packs every synthesis runs; any unacknowledged finding fails synthesis.
NAG_PACKS = (AwsSolutionsChecks, NIST80053R5Checks, HIPAASecurityChecks, PCIDSS321Checks)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def project_context() -> dict[str, Any]:
    """The context every app of the project starts from: the feature flags (:data:`FEATURE_FLAGS`)."""
    return dict(FEATURE_FLAGS)


def add_platform(app: App, spec: Spec, *, nag: bool = True) -> PlatformStage:
    """Add the spec's stage to ``app`` and register the cdk-nag packs on it."""
    (stage,) = add_platforms(app, [spec], nag=nag)
    return stage


def add_platforms(
    app: App, specs: Sequence[Spec], *, nag: bool = True, environment: str | None = None, spec_file: str | None = None
) -> list[PlatformStage]:
    """Add one stage per environment (named after it, in the spec's order; only ``environment``'s when given), what
    the environments share (image repositories, caches, deploy roles: always from all of them) and, for every
    environment at once, the delivery pipeline (which synthesizes ``spec_file``); register the cdk-nag packs."""
    stages = [PlatformStage(app, spec.environment.name, spec=spec) for spec in specs if environment in (None, spec.environment.name)]
    # One environment alone gets no pipeline: a pipeline delivers them all.
    add_delivery(app, DeliveryTranslation(specs), stages, spec_file, pipeline=environment is None)
    if nag:
        Validations.of(app).add_plugins(*(pack(app) for pack in NAG_PACKS))
    return stages


def build_app(
    spec: Spec,
    *,
    context: Mapping[str, Any] | None = None,
    outdir: str | None = None,
    nag: bool = True,
) -> tuple[App, PlatformStage]:
    """A fresh :class:`App` with the project's feature flags (plus ``context``) and the spec's stage."""
    app, (stage,) = build_platform_app([spec], context=context, outdir=outdir, nag=nag)
    return app, stage


def build_platform_app(
    specs: Sequence[Spec],
    *,
    context: Mapping[str, Any] | None = None,
    outdir: str | None = None,
    nag: bool = True,
    environment: str | None = None,
    spec_file: str | None = None,
) -> tuple[App, list[PlatformStage]]:
    """A fresh :class:`App` with the project's feature flags (plus ``context``), a stage per environment (only
    ``environment``'s when given), what they share and their pipeline (see :func:`add_platforms`)."""
    app = App(context={**project_context(), **(context or {})}, outdir=outdir)
    return app, add_platforms(app, specs, nag=nag, environment=environment, spec_file=spec_file)
