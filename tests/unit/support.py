"""Helpers of the construct unit tests: a plain CDK app with the project's feature flags.

The constructs must work without the spec layer, so these tests build them directly in a
plain :class:`Stack`. Synthesis is the slow part: a module builds its scenario once and
:func:`synth` turns every stack of the app into a :class:`Template` with a single
``app.synth()``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

from aws_cdk import App, CfnElement, Environment, Stack, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Template
from constructs import IConstruct

from ecs_platform.app_builder import NAG_PACKS, project_context
from ecs_platform.constructs.acknowledge import CONTEXT_KEY
from tests.helpers import nag_findings, tags_of

ACCOUNT = "123456789012"
REGION = "ap-northeast-1"
#: Two AZs of the test region; naming them avoids a context lookup.
AZS = ("ap-northeast-1a", "ap-northeast-1c")

__all__ = [
    "ACCOUNT",
    "AZS",
    "REGION",
    "join_text",
    "logical_id",
    "nag_app",
    "new_app",
    "new_stack",
    "of_type",
    "only",
    "pinned_with_reasons",
    "plain_vpc",
    "synth",
    "tags_of",
    "unacknowledged_findings",
]


def new_app() -> App:
    """An app with cdk.json's feature flags (never a bare ``App()``)."""
    return App(context=project_context())


def nag_app(*, acknowledgements: bool = True, **context: Any) -> App:
    """:func:`new_app` with the cdk-nag packs registered (``app.synth()`` then fails on any unacknowledged finding),
    and ``context``; ``acknowledgements=False`` turns every acknowledgement off (to show each matches a finding)."""
    app = new_app()
    for key, value in context.items():
        app.node.set_context(key, value)
    if not acknowledgements:
        app.node.set_context(CONTEXT_KEY, "false")
    Validations.of(app).add_plugins(*(pack(app) for pack in NAG_PACKS))
    return app


def new_stack(app: App | None = None, construct_id: str = "Test") -> Stack:
    """A stack in the test account and region (a new app unless one is given)."""
    return Stack(app or new_app(), construct_id, env=Environment(account=ACCOUNT, region=REGION))


def synth(app: App, *stacks: Stack) -> list[Template]:
    """Synthesize ``app`` once (validations included) and return the templates of ``stacks``."""
    assembly = app.synth()
    return [Template.from_json(assembly.get_stack_artifact(stack.artifact_id).template) for stack in stacks]


def plain_vpc(stack: Stack, construct_id: str = "Vpc", cidr: str = "10.1.0.0/16") -> ec2.Vpc:
    """A small VPC that is not the platform's :class:`Network`: the constructs take any ``IVpc``."""
    return ec2.Vpc(
        stack,
        construct_id,
        ip_addresses=ec2.IpAddresses.cidr(cidr),
        availability_zones=list(AZS),
        nat_gateways=0,
        restrict_default_security_group=False,
        subnet_configuration=[ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
    )


def of_type(template: Template, kind: str) -> dict[str, dict[str, Any]]:
    """Resources of a CloudFormation type, by logical ID."""
    return {k: dict(v) for k, v in template.find_resources(kind).items()}


def logical_id(construct: IConstruct) -> str:
    """The logical ID of the construct's CloudFormation resource (its default child) in its stack."""
    return Stack.of(construct).get_logical_id(cast(CfnElement, construct.node.default_child))


def only(template: Template, kind: str, prefix: str = "") -> tuple[str, dict[str, Any]]:
    """The only resource of ``kind`` whose logical ID starts with ``prefix``; fails if there are none or several."""
    found = {k: v for k, v in of_type(template, kind).items() if k.startswith(prefix)}
    assert len(found) == 1, f"expected exactly one {kind} starting with {prefix!r}, got {sorted(found)}"
    return next(iter(found.items()))


def join_text(value: Any) -> str:
    """The literal text of an ``Fn::Join`` with ``""``, every token part shown as ``<token>``."""
    separator, parts = value["Fn::Join"]
    assert separator == ""
    return "".join(p if isinstance(p, str) else "<token>" for p in parts)


def pinned_with_reasons(report: Mapping[str, Any], acknowledgements: Mapping[str, str], pinned: set[str]) -> list[str]:
    """What is wrong with a scenario's acknowledgements: rule IDs acknowledged in ``report`` or made (``acknowledgements``,
    rule ID -> reason) other than ``pinned``, and reasons too short for a reviewer to judge. Empty when all is well."""
    problems = []
    reported = {rule for rule, _ in nag_findings(report, "suppressedViolations")}
    if reported != pinned:
        problems.append(f"acknowledged in the report: {sorted(reported ^ pinned)} differ from the pinned set")
    if set(acknowledgements) != pinned:
        problems.append(f"acknowledgements made: {sorted(set(acknowledgements) ^ pinned)} differ from the pinned set")
    problems += [f"{rule}: reason too short to review: {reason!r}" for rule, reason in acknowledgements.items() if len(reason) <= 40]
    return problems


def unacknowledged_findings(build: Callable[[App], object]) -> Counter[tuple[str, str]]:
    """The findings of the scenario ``build`` makes in an app with every acknowledgement off (synthesis fails on them)."""
    app = nag_app(acknowledgements=False)
    build(app)
    try:
        app.synth()
    except RuntimeError as error:
        assert "ValidationFailed" in str(error), error
    return nag_findings(json.loads((Path(app.outdir) / "validation-report.json").read_text()), "violations")
