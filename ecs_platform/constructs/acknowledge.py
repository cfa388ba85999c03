"""One place through which every cdk-nag acknowledgement passes.

An acknowledgement sits on the narrowest construct and carries a reason a reviewer can
judge. Setting the context key ``ecs-platform:acknowledge`` to ``false`` turns them all
off, so a test can prove that every acknowledgement matches a real finding.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Acknowledgment, CfnResource, Stack, Validations
from constructs import IConstruct

from ecs_platform.intrinsics import render

CONTEXT_KEY = "ecs-platform:acknowledge"

#: The compliance packs that share rule names (``<pack>-<Rule>``).
NIST = "NIST.800.53.R5"
HIPAA = "HIPAA.Security"
PCI = "PCI.DSS.321"
COMPLIANCE_PACKS = (NIST, HIPAA, PCI)


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge the cdk-nag finding ``rule_id`` (``AwsSolutions-EC23``, ``NIST.800.53.R5-ALBWAFEnabled``,
    ``AwsSolutions-IAM5[Resource::...]``) on ``scope`` and everything below it."""
    _acknowledge(scope, [rule_id], reason)


def _acknowledge(scope: IConstruct, rule_ids: Iterable[str], reason: str) -> None:
    """One ``Validations.of(scope)`` for several rules: each call is a round trip to the jsii kernel."""
    if str(scope.node.try_get_context(CONTEXT_KEY)).lower() == "false":
        return
    acknowledgments = [Acknowledgment(id=f"{rule_id.split('-', 1)[0]}::{rule_id}", reason=reason) for rule_id in rule_ids]
    Validations.of(scope).acknowledge(*acknowledgments)


def nag_text(scope: IConstruct, value: object) -> str:
    """``value`` (a string with tokens) as cdk-nag prints it in a finding ID (``<Logical.Arn>``)."""
    return render(Stack.of(scope).resolve(value))


def acknowledge_rule(scope: IConstruct, rule: str, reason: str, packs: Iterable[str] = COMPLIANCE_PACKS) -> None:
    """Acknowledge ``rule`` (``S3DefaultEncryptionKMS``) of each compliance pack in ``packs``."""
    _acknowledge(scope, [f"{pack}-{rule}" for pack in packs], reason)


def checkov_skip(scope: IConstruct, check_id: str, reason: str) -> None:
    """Suppress checkov's ``check_id`` (``CKV_AWS_18``) on the CloudFormation resource of ``scope``
    (itself, or its default child), as ``Metadata.checkov.skip`` in the template, with ``reason``."""
    resource = scope if isinstance(scope, CfnResource) else scope.node.default_child
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{scope.node.path} has no CloudFormation resource to carry a checkov skip")
    skips = list((resource.get_metadata("checkov") or {}).get("skip", []))
    resource.add_metadata("checkov", {"skip": [*skips, {"id": check_id, "comment": reason}]})
