"""One place through which every cdk-nag acknowledgement passes.

An acknowledgement sits on the narrowest construct and carries a reason a reviewer can
judge. Setting the context key ``ecs-platform:acknowledge`` to ``false`` turns them all
off, so a test can prove that every acknowledgement matches a real finding.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

CONTEXT_KEY = "ecs-platform:acknowledge"


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge cdk-nag finding ``rule_id`` (e.g. ``AwsSolutions-EC23``) on ``scope``."""
    if str(scope.node.try_get_context(CONTEXT_KEY)).lower() == "false":
        return
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))
