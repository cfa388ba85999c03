"""ConstructError: the one error a construct raises when it refuses its props.

The message names the construct path, the value received and what is allowed, as the spec's
messages do (``Shop/Api: desired_count: 1 is out of range; allowed: 2..5000``). Values that
are still tokens (a parameter, another resource's attribute) are not known at synthesis and
are not checked, as aws-cdk-lib does.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Token
from constructs import IConstruct


class ConstructError(ValueError):
    """A construct cannot be built from its props. ``path`` is the construct's path."""

    def __init__(self, scope: IConstruct, message: str) -> None:
        self.path = scope.node.path
        super().__init__(f"{self.path}: {message}")


def unresolved(*values: Any) -> bool:
    """Whether any value is a token: its real value is known only at deploy time."""
    return any(Token.is_unresolved(value) for value in values if value is not None)


def refuse(scope: IConstruct, field: str, message: str | None, *values: Any) -> None:
    """Raise a :class:`ConstructError` on ``field`` with ``message`` (a rule's verdict), unless the
    rule passed (``None``) or one of ``values`` is a token."""
    if message and not unresolved(*values):
        raise ConstructError(scope, f"{field}: {message}")
